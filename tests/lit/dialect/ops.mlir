// RUN: attnc-opt %s --split-input-file | attnc-opt --split-input-file | FileCheck %s
// RUN: attnc-opt %s --split-input-file --mlir-print-op-generic | attnc-opt --split-input-file | FileCheck %s

// Round trip of every attn op in every form: custom syntax, then generic.

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[Q:.+]]: tensor<2x8x128x64xbf16>, %[[K:.+]]: tensor<2x2x256x64xbf16>, %[[V:.+]]: tensor<2x2x256x32xbf16>)
// CHECK: %[[S:.+]] = attn.matmul %[[Q]], %[[K]] transpose_rhs : tensor<2x8x128x64xbf16>, tensor<2x2x256x64xbf16> -> tensor<2x8x128x256xf32>
// CHECK: %[[SB:.+]] = attn.matmul %[[Q]], %[[K]] transpose_rhs : tensor<2x8x128x64xbf16>, tensor<2x2x256x64xbf16> -> tensor<2x8x128x256xbf16>
// CHECK: %[[O:.+]] = attn.matmul %[[SB]], %[[V]] : tensor<2x8x128x256xbf16>, tensor<2x2x256x32xbf16> -> tensor<2x8x128x32xbf16>
// CHECK: return %[[S]], %[[O]]
func.func @matmul(%q: tensor<2x8x128x64xbf16>, %k: tensor<2x2x256x64xbf16>, %v: tensor<2x2x256x32xbf16>)
    -> (tensor<2x8x128x256xf32>, tensor<2x8x128x32xbf16>) {
  %s = attn.matmul %q, %k transpose_rhs : tensor<2x8x128x64xbf16>, tensor<2x2x256x64xbf16> -> tensor<2x8x128x256xf32>
  %sb = attn.matmul %q, %k transpose_rhs : tensor<2x8x128x64xbf16>, tensor<2x2x256x64xbf16> -> tensor<2x8x128x256xbf16>
  %o = attn.matmul %sb, %v : tensor<2x8x128x256xbf16>, tensor<2x2x256x32xbf16> -> tensor<2x8x128x32xbf16>
  return %s, %o : tensor<2x8x128x256xf32>, tensor<2x8x128x32xbf16>
}

// -----

// f32 probabilities times bf16 values (the DSL's P V), dynamic shapes.
// CHECK-LABEL: func.func @matmul_mixed
// CHECK: %[[O:.+]] = attn.matmul %{{.+}}, %{{.+}} : tensor<?x?x?x?xf32>, tensor<?x?x?x128xbf16> -> tensor<?x?x?x128xbf16>
// CHECK: return %[[O]]
func.func @matmul_mixed(%p: tensor<?x?x?x?xf32>, %v: tensor<?x?x?x128xbf16>) -> tensor<?x?x?x128xbf16> {
  %o = attn.matmul %p, %v : tensor<?x?x?x?xf32>, tensor<?x?x?x128xbf16> -> tensor<?x?x?x128xbf16>
  return %o : tensor<?x?x?x128xbf16>
}

// -----

// CHECK-LABEL: func.func @scale_softmax
// CHECK-SAME: (%[[S:.+]]: tensor<?x?x?x?xf32>)
// CHECK: %[[T:.+]] = attn.scale %[[S]] by 1.250000e-01 : tensor<?x?x?x?xf32>
// CHECK: %[[P:.+]] = attn.softmax %[[T]] : tensor<?x?x?x?xf32>
// CHECK: return %[[P]]
func.func @scale_softmax(%s: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %t = attn.scale %s by 0.125 : tensor<?x?x?x?xf32>
  %p = attn.softmax %t : tensor<?x?x?x?xf32>
  return %p : tensor<?x?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @score_mod
// CHECK-SAME: (%[[S:.+]]: tensor<?x?x?x?xf32>)
// CHECK: %[[R:.+]] = attn.score_mod %[[S]] : tensor<?x?x?x?xf32> {
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-NEXT: %[[C:.+]] = arith.constant 3.000000e+01 : f32
// CHECK-NEXT: %[[D:.+]] = arith.divf %[[X]], %[[C]] : f32
// CHECK-NEXT: %[[E:.+]] = math.tanh %[[D]] : f32
// CHECK-NEXT: %[[M:.+]] = arith.mulf %[[C]], %[[E]] : f32
// CHECK-NEXT: attn.yield %[[M]] : f32
// CHECK-NEXT: }
// CHECK: return %[[R]]
func.func @score_mod(%s: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %t = attn.score_mod %s : tensor<?x?x?x?xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %k: index):
    %c = arith.constant 30.0 : f32
    %d = arith.divf %x, %c : f32
    %e = math.tanh %d : f32
    %r = arith.mulf %c, %e : f32
    attn.yield %r : f32
  }
  return %t : tensor<?x?x?x?xf32>
}

// -----

// ALiBi-style bias from the indices.
// CHECK-LABEL: func.func @score_mod_indices
// CHECK: attn.score_mod %{{.+}} : tensor<1x4x16x16xf32> {
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-NEXT: %[[DIFF:.+]] = arith.subi %[[I]], %[[J]] : index
// CHECK: attn.yield %{{.+}} : f32
func.func @score_mod_indices(%s: tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32> {
  %t = attn.score_mod %s : tensor<1x4x16x16xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %r = arith.subf %x, %df : f32
    attn.yield %r : f32
  }
  return %t : tensor<1x4x16x16xf32>
}

// -----

// CHECK-LABEL: func.func @mask_causal
// CHECK-SAME: (%[[S:.+]]: tensor<?x?x?x?xf32>)
// CHECK: %[[R:.+]] = attn.mask causal %[[S]] : tensor<?x?x?x?xf32>
// CHECK-NOT: {
// CHECK: return %[[R]]
func.func @mask_causal(%s: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %t = attn.mask causal %s : tensor<?x?x?x?xf32>
  return %t : tensor<?x?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @mask_window
// CHECK-SAME: (%[[S:.+]]: tensor<?x?x?x?xf32>)
// CHECK: %[[R:.+]] = attn.mask window %[[S]] {window_left = 128 : i64, window_right = 0 : i64} : tensor<?x?x?x?xf32>
// CHECK: return %[[R]]
func.func @mask_window(%s: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %t = attn.mask window %s {window_left = 128 : i64, window_right = 0 : i64} : tensor<?x?x?x?xf32>
  return %t : tensor<?x?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @mask_lengths
// CHECK-SAME: (%[[S:.+]]: tensor<4x?x?x?xf32>, %[[L:.+]]: tensor<4xi32>)
// CHECK: %[[R:.+]] = attn.mask lengths %[[S]], %[[L]] : tensor<4xi32> : tensor<4x?x?x?xf32>
// CHECK: return %[[R]]
func.func @mask_lengths(%s: tensor<4x?x?x?xf32>, %len: tensor<4xi32>) -> tensor<4x?x?x?xf32> {
  %t = attn.mask lengths %s, %len : tensor<4xi32> : tensor<4x?x?x?xf32>
  return %t : tensor<4x?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @mask_blocks
// CHECK-SAME: (%[[S:.+]]: tensor<?x?x?x?xf32>, %[[LAY:.+]]: tensor<1x?x?xi8>, %[[LAY1:.+]]: tensor<8x4x4xi1>)
// CHECK: %[[R:.+]] = attn.mask blocks %[[S]], %[[LAY]] : tensor<1x?x?xi8> {block_k = 64 : i64, block_q = 128 : i64} : tensor<?x?x?x?xf32>
// CHECK: %[[R1:.+]] = attn.mask blocks %[[R]], %[[LAY1]] : tensor<8x4x4xi1> {block_k = 32 : i64, block_q = 32 : i64} : tensor<?x?x?x?xf32>
// CHECK: return %[[R1]]
func.func @mask_blocks(%s: tensor<?x?x?x?xf32>, %layout: tensor<1x?x?xi8>, %layout1: tensor<8x4x4xi1>) -> tensor<?x?x?x?xf32> {
  %t = attn.mask blocks %s, %layout : tensor<1x?x?xi8> {block_q = 128 : i64, block_k = 64 : i64} : tensor<?x?x?x?xf32>
  %u = attn.mask blocks %t, %layout1 : tensor<8x4x4xi1> {block_q = 32 : i64, block_k = 32 : i64} : tensor<?x?x?x?xf32>
  return %u : tensor<?x?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @mask_where
// CHECK-SAME: (%[[S:.+]]: tensor<?x?x?x?xf32>)
// CHECK: %[[R:.+]] = attn.mask where %[[S]] : tensor<?x?x?x?xf32> {
// CHECK-NEXT: ^bb0(%[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-NEXT: %[[C:.+]] = arith.cmpi ule, %[[J]], %[[I]] : index
// CHECK-NEXT: attn.yield %[[C]] : i1
// CHECK-NEXT: }
// CHECK: return %[[R]]
func.func @mask_where(%s: tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32> {
  %t = attn.mask where %s : tensor<?x?x?x?xf32> {
  ^bb0(%b: index, %h: index, %q: index, %k: index):
    %c = arith.cmpi ule, %k, %q : index
    attn.yield %c : i1
  }
  return %t : tensor<?x?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @dropout
// CHECK-SAME: (%[[P:.+]]: tensor<?x?x?x?xf32>, %[[SEED:.+]]: i64, %[[OFF:.+]]: i64)
// CHECK: %[[D:.+]] = attn.dropout %[[P]], %[[SEED]], %[[OFF]] probability 1.000000e-01 : tensor<?x?x?x?xf32>
// CHECK: %[[Z:.+]] = attn.dropout %[[D]], %[[SEED]], %[[OFF]] probability 0.000000e+00 : tensor<?x?x?x?xf32>
// CHECK: return %[[Z]]
func.func @dropout(%p: tensor<?x?x?x?xf32>, %seed: i64, %offset: i64) -> tensor<?x?x?x?xf32> {
  %d = attn.dropout %p, %seed, %offset probability 0.1 : tensor<?x?x?x?xf32>
  %z = attn.dropout %d, %seed, %offset probability 0.0 : tensor<?x?x?x?xf32>
  return %z : tensor<?x?x?x?xf32>
}

// -----

!qkv = tensor<?x?x?x128xbf16>
!lse = tensor<?x?x?xf32>

// CHECK-LABEL: func.func @fused_minimal
// CHECK-SAME: (%[[Q:.+]]: tensor<?x?x?x128xbf16>, %[[K:.+]]: tensor<?x?x?x128xbf16>, %[[V:.+]]: tensor<?x?x?x128xbf16>)
// CHECK: %[[O:.+]], %[[LSE:.+]] = attn.fused_attention %[[Q]], %[[K]], %[[V]] scale 0.088387999999999994 : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16> -> tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
// CHECK: return %[[O]], %[[LSE]]
func.func @fused_minimal(%q: !qkv, %k: !qkv, %v: !qkv) -> (!qkv, !lse) {
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.088388 : !qkv, !qkv, !qkv -> !qkv, !lse
  return %o, %lse : !qkv, !lse
}

// -----

!qkv = tensor<?x?x?x64xf16>
!lse = tensor<?x?x?xf32>

// CHECK-LABEL: func.func @fused_causal
// CHECK: %[[O:.+]], %{{.+}} = attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} causal scale 1.250000e-01 : tensor<?x?x?x64xf16>
// CHECK: return %[[O]]
func.func @fused_causal(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %o, %lse = attn.fused_attention %q, %k, %v causal scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse
  return %o : !qkv
}

// -----

// GQA (8 query heads, 2 K/V heads), head dims 64 / 32, static shapes, f32.
// CHECK-LABEL: func.func @fused_gqa
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} scale 1.250000e-01 : tensor<2x8x100x64xf32>, tensor<2x2x160x64xf32>, tensor<2x2x160x32xf32> -> tensor<2x8x100x32xf32>, tensor<2x8x100xf32>
func.func @fused_gqa(%q: tensor<2x8x100x64xf32>, %k: tensor<2x2x160x64xf32>, %v: tensor<2x2x160x32xf32>) -> tensor<2x8x100x32xf32> {
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : tensor<2x8x100x64xf32>, tensor<2x2x160x64xf32>, tensor<2x2x160x32xf32> -> tensor<2x8x100x32xf32>, tensor<2x8x100xf32>
  return %o : tensor<2x8x100x32xf32>
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>

// CHECK-LABEL: func.func @fused_window
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} causal scale 1.250000e-01 {window_left = 256 : i64, window_right = 0 : i64} :
func.func @fused_window(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %o, %lse = attn.fused_attention %q, %k, %v causal scale 0.125 {window_left = 256 : i64, window_right = 0 : i64} : !qkv, !qkv, !qkv -> !qkv, !lse
  return %o : !qkv
}

// -----

!qkv = tensor<4x?x?x64xbf16>
!lse = tensor<4x?x?xf32>

// CHECK-LABEL: func.func @fused_lengths
// CHECK-SAME: %[[L:[^:]+]]: tensor<4xi32>
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} lengths %[[L]] : tensor<4xi32> scale 1.250000e-01 :
func.func @fused_lengths(%q: !qkv, %k: !qkv, %v: !qkv, %len: tensor<4xi32>) -> !qkv {
  %o, %lse = attn.fused_attention %q, %k, %v lengths %len : tensor<4xi32> scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse
  return %o : !qkv
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>

// CHECK-LABEL: func.func @fused_layout
// CHECK-SAME: %[[LAY:[^:]+]]: tensor<1x?x?xi8>
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} layout %[[LAY]] : tensor<1x?x?xi8> scale 1.250000e-01 {block_k = 64 : i64, block_q = 64 : i64} :
func.func @fused_layout(%q: !qkv, %k: !qkv, %v: !qkv, %layout: tensor<1x?x?xi8>) -> !qkv {
  %o, %lse = attn.fused_attention %q, %k, %v layout %layout : tensor<1x?x?xi8> scale 0.125 {block_q = 64 : i64, block_k = 64 : i64} : !qkv, !qkv, !qkv -> !qkv, !lse
  return %o : !qkv
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>

// CHECK-LABEL: func.func @fused_dropout
// CHECK-SAME: %[[SEED:[^:]+]]: i64, %[[OFF:[^:]+]]: i64
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} seed %[[SEED]] offset %[[OFF]] scale 1.250000e-01 {dropout = 1.000000e-01 : f64} :
// Seed and offset without dropout (p = 0 is the default and is not printed).
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} seed %[[SEED]] offset %[[OFF]] scale 1.250000e-01 :
func.func @fused_dropout(%q: !qkv, %k: !qkv, %v: !qkv, %seed: i64, %offset: i64) -> (!qkv, !qkv) {
  %o, %lse = attn.fused_attention %q, %k, %v seed %seed offset %offset scale 0.125 {dropout = 0.1 : f64} : !qkv, !qkv, !qkv -> !qkv, !lse
  %o2, %lse2 = attn.fused_attention %q, %k, %v seed %seed offset %offset scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse
  return %o, %o2 : !qkv, !qkv
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>

// CHECK-LABEL: func.func @fused_score_mod
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} scale 1.250000e-01 : {{.+}} score_mod {
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index):
// CHECK-NEXT: %[[T:.+]] = math.tanh %[[X]] : f32
// CHECK-NEXT: attn.yield %[[T]] : f32
// CHECK-NEXT: }
// CHECK-NOT: mask {
func.func @fused_score_mod(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse score_mod {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    %t = math.tanh %x : f32
    attn.yield %t : f32
  }
  return %o : !qkv
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>

// CHECK-LABEL: func.func @fused_mask_region
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} scale 1.250000e-01 : {{.+}} mask {
// CHECK-NEXT: ^bb0(%{{.+}}: index, %{{.+}}: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK-NEXT: %[[C:.+]] = arith.cmpi ne, %[[I]], %[[J]] : index
// CHECK-NEXT: attn.yield %[[C]] : i1
// CHECK-NEXT: }
func.func @fused_mask_region(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.cmpi ne, %i, %j : index
    attn.yield %c : i1
  }
  return %o : !qkv
}

// -----

!q = tensor<?x8x?x128xf16>
!kv = tensor<?x2x?x128xf16>
!lse = tensor<?x8x?xf32>

// Every optional operand, attribute and region at once.
// CHECK-LABEL: func.func @fused_everything
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<?x8x?x128xf16>, %[[K:[^:]+]]: tensor<?x2x?x128xf16>, %[[V:[^:]+]]: tensor<?x2x?x128xf16>, %[[L:[^:]+]]: tensor<?xi32>, %[[LAY:[^:]+]]: tensor<8x?x?xi8>, %[[SEED:[^:]+]]: i64, %[[OFF:[^:]+]]: i64)
// CHECK: %[[O:.+]], %[[LSE:.+]] = attn.fused_attention %[[Q]], %[[K]], %[[V]] lengths %[[L]] : tensor<?xi32> layout %[[LAY]] : tensor<8x?x?xi8> seed %[[SEED]] offset %[[OFF]] causal scale 0.088387999999999994
// CHECK-SAME: {block_k = 128 : i64, block_q = 64 : i64, dropout = 2.500000e-01 : f64, window_left = 16 : i64, window_right = 4 : i64}
// CHECK-SAME: : tensor<?x8x?x128xf16>, tensor<?x2x?x128xf16>, tensor<?x2x?x128xf16> -> tensor<?x8x?x128xf16>, tensor<?x8x?xf32> score_mod {
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index):
// CHECK-NEXT: attn.yield %[[X]] : f32
// CHECK-NEXT: } mask {
// CHECK-NEXT: ^bb0(%{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index):
// CHECK-NEXT: %[[T:.+]] = arith.constant true
// CHECK-NEXT: attn.yield %[[T]] : i1
// CHECK-NEXT: }
// CHECK: return %[[O]], %[[LSE]]
func.func @fused_everything(%q: !q, %k: !kv, %v: !kv, %len: tensor<?xi32>, %layout: tensor<8x?x?xi8>,
                            %seed: i64, %offset: i64) -> (!q, !lse) {
  %o, %lse = attn.fused_attention %q, %k, %v lengths %len : tensor<?xi32> layout %layout : tensor<8x?x?xi8>
      seed %seed offset %offset causal scale 0.088388
      {window_left = 16 : i64, window_right = 4 : i64, block_q = 64 : i64, block_k = 128 : i64, dropout = 0.25 : f64}
      : !q, !kv, !kv -> !q, !lse
      score_mod {
      ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
        attn.yield %x : f32
      } mask {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %t = arith.constant true
        attn.yield %t : i1
      }
  return %o, %lse : !q, !lse
}

// -----

!qkv = tensor<?x?x?x128xbf16>
!lse = tensor<?x?x?xf32>

// CHECK-LABEL: func.func @tiled_skip_none
// CHECK: %[[O:.+]], %[[LSE:.+]] = attn.tiled_attention %{{.+}}, %{{.+}}, %{{.+}} scale 0.088387999999999994 tiling <family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 4, stages = 2, smem_bytes = 98304> skip none : tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16> -> tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
// CHECK: return %[[O]], %[[LSE]]
func.func @tiled_skip_none(%q: !qkv, %k: !qkv, %v: !qkv) -> (!qkv, !lse) {
  %o, %lse = attn.tiled_attention %q, %k, %v scale 0.088388
      tiling <family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 4, stages = 2, smem_bytes = 98304> skip none
      : !qkv, !qkv, !qkv -> !qkv, !lse
  return %o, %lse : !qkv, !lse
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>

// CHECK-LABEL: func.func @tiled_skip_causal
// CHECK: attn.tiled_attention %{{.+}}, %{{.+}}, %{{.+}} causal scale 1.250000e-01 tiling <family = "fwd.mma_sync", block_m = 128, block_n = 128, warps = 4, stages = 2, smem_bytes = 81920> skip causal :
func.func @tiled_skip_causal(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %o, %lse = attn.tiled_attention %q, %k, %v causal scale 0.125
      tiling <family = "fwd.mma_sync", block_m = 128, block_n = 128, warps = 4, stages = 2, smem_bytes = 81920> skip causal
      : !qkv, !qkv, !qkv -> !qkv, !lse
  return %o : !qkv
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>

// CHECK-LABEL: func.func @tiled_skip_window
// CHECK: attn.tiled_attention %{{.+}}, %{{.+}}, %{{.+}} scale 1.250000e-01 tiling <family = "fwd.mma_sync", block_m = 64, block_n = 32, warps = 4, stages = 1, smem_bytes = 16384> skip window {window_left = 64 : i64, window_right = 64 : i64} :
func.func @tiled_skip_window(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %o, %lse = attn.tiled_attention %q, %k, %v scale 0.125
      tiling <family = "fwd.mma_sync", block_m = 64, block_n = 32, warps = 4, stages = 1, smem_bytes = 16384> skip window
      {window_left = 64 : i64, window_right = 64 : i64}
      : !qkv, !qkv, !qkv -> !qkv, !lse
  return %o : !qkv
}

// -----

!q = tensor<?x8x?x128xf16>
!kv = tensor<?x2x?x128xf16>
!lse = tensor<?x8x?xf32>

// Sparse skipping with every optional operand and both regions.
// CHECK-LABEL: func.func @tiled_skip_sparse
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<?x8x?x128xf16>, %[[K:[^:]+]]: tensor<?x2x?x128xf16>, %[[V:[^:]+]]: tensor<?x2x?x128xf16>, %[[L:[^:]+]]: tensor<?xi32>, %[[LAY:[^:]+]]: tensor<1x?x?xi8>, %[[SEED:[^:]+]]: i64, %[[OFF:[^:]+]]: i64)
// CHECK: %[[O:.+]], %[[LSE:.+]] = attn.tiled_attention %[[Q]], %[[K]], %[[V]] lengths %[[L]] : tensor<?xi32> layout %[[LAY]] : tensor<1x?x?xi8> seed %[[SEED]] offset %[[OFF]] causal scale 0.088387999999999994 tiling <family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 8, stages = 1, smem_bytes = 65536> skip causal|lengths|sparse
// CHECK-SAME: {block_k = 64 : i64, block_q = 128 : i64, dropout = 1.000000e-01 : f64}
// CHECK-SAME: score_mod {
// CHECK: attn.yield %{{.+}} : f32
// CHECK: } mask {
// CHECK: attn.yield %{{.+}} : i1
// CHECK: return %[[O]], %[[LSE]]
func.func @tiled_skip_sparse(%q: !q, %k: !kv, %v: !kv, %len: tensor<?xi32>, %layout: tensor<1x?x?xi8>,
                             %seed: i64, %offset: i64) -> (!q, !lse) {
  %o, %lse = attn.tiled_attention %q, %k, %v lengths %len : tensor<?xi32> layout %layout : tensor<1x?x?xi8>
      seed %seed offset %offset causal scale 0.088388
      tiling <family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 8, stages = 1, smem_bytes = 65536> skip sparse|causal|lengths
      {block_q = 128 : i64, block_k = 64 : i64, dropout = 0.1 : f64}
      : !q, !kv, !kv -> !q, !lse
      score_mod {
      ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
        %c = arith.constant 2.0 : f32
        %y = arith.mulf %x, %c : f32
        attn.yield %y : f32
      } mask {
      ^bb0(%b: index, %h: index, %i: index, %j: index):
        %c = arith.cmpi sge, %i, %j : index
        attn.yield %c : i1
      }
  return %o, %lse : !q, !lse
}

// -----

// CHECK-LABEL: func.func @paged_kv
// CHECK: attn.paged_kv %{{.+}}, %{{.+}}, %{{.+}} : tensor<?x16x8x128xbf16>, tensor<?x?xi32>, tensor<?xi32> -> tensor<?x8x?x128xbf16>
func.func @paged_kv(%c: tensor<?x16x8x128xbf16>, %t: tensor<?x?xi32>, %l: tensor<?xi32>) -> tensor<?x8x?x128xbf16> {
  %k = attn.paged_kv %c, %t, %l : tensor<?x16x8x128xbf16>, tensor<?x?xi32>, tensor<?xi32> -> tensor<?x8x?x128xbf16>
  return %k : tensor<?x8x?x128xbf16>
}

// -----

// Packed sequences: the batch and rows of the view are dynamic (they come
// from the prefix sums); a prefix-sum tensor of static size gives the batch.
// CHECK-LABEL: func.func @packed_seq
// CHECK: attn.packed_seq %{{.+}}, %{{.+}} : tensor<?x32x128xbf16>, tensor<?xi32> -> tensor<?x32x?x128xbf16>
// CHECK: attn.packed_seq %{{.+}}, %{{.+}} : tensor<1000x8x64xf16>, tensor<5xi32> -> tensor<4x8x?x64xf16>
// CHECK: attn.packed_seq %{{.+}}, %{{.+}} : tensor<1000x8x64xf16>, tensor<5xi32> -> tensor<?x8x?x64xf16>
func.func @packed_seq(%t: tensor<?x32x128xbf16>, %cu: tensor<?xi32>, %s: tensor<1000x8x64xf16>, %cs: tensor<5xi32>)
    -> (tensor<?x32x?x128xbf16>, tensor<4x8x?x64xf16>, tensor<?x8x?x64xf16>) {
  %q = attn.packed_seq %t, %cu : tensor<?x32x128xbf16>, tensor<?xi32> -> tensor<?x32x?x128xbf16>
  %k = attn.packed_seq %s, %cs : tensor<1000x8x64xf16>, tensor<5xi32> -> tensor<4x8x?x64xf16>
  %v = attn.packed_seq %s, %cs : tensor<1000x8x64xf16>, tensor<5xi32> -> tensor<?x8x?x64xf16>
  return %q, %k, %v : tensor<?x32x?x128xbf16>, tensor<4x8x?x64xf16>, tensor<?x8x?x64xf16>
}

// -----

// Attention sinks: one f32 logit per query head on the softmax and on the
// fused and tiled ops.
// CHECK-LABEL: func.func @softmax_sinks
// CHECK: attn.softmax %{{.+}} sinks %{{.+}} : tensor<8xf32> : tensor<?x8x?x?xf32>
func.func @softmax_sinks(%s: tensor<?x8x?x?xf32>, %x: tensor<8xf32>) -> tensor<?x8x?x?xf32> {
  %p = attn.softmax %s sinks %x : tensor<8xf32> : tensor<?x8x?x?xf32>
  return %p : tensor<?x8x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @fused_sinks
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} sinks %{{.+}} : tensor<?xf32> causal scale 1.250000e-01 : tensor<?x?x?x192xbf16>, tensor<?x?x?x192xbf16>, tensor<?x?x?x128xbf16> -> tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
func.func @fused_sinks(%q: tensor<?x?x?x192xbf16>, %k: tensor<?x?x?x192xbf16>, %v: tensor<?x?x?x128xbf16>, %x: tensor<?xf32>) -> tensor<?x?x?x128xbf16> {
  %o, %lse = attn.fused_attention %q, %k, %v sinks %x : tensor<?xf32> causal scale 0.125 : tensor<?x?x?x192xbf16>, tensor<?x?x?x192xbf16>, tensor<?x?x?x128xbf16> -> tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>
  return %o : tensor<?x?x?x128xbf16>
}

// -----

// Tables: attn.lookup reads a value from above in attn.score_mod, a trailing
// region argument in the fused op.
// CHECK-LABEL: func.func @lookup
// CHECK: attn.lookup %{{.+}}[%{{.+}}, %{{.+}}] : tensor<?x257xf32> -> f32
// CHECK: attn.lookup %{{.+}}[%{{.+}}] : tensor<?xi32> -> index
func.func @lookup(%s: tensor<?x?x?x?xf32>, %rel: tensor<?x257xf32>, %doc: tensor<?xi32>) -> tensor<?x?x?x?xf32> {
  %t = attn.score_mod %s : tensor<?x?x?x?xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %k: index):
    %r = attn.lookup %rel[%h, %k] : tensor<?x257xf32> -> f32
    %d = attn.lookup %doc[%q] : tensor<?xi32> -> index
    %f = arith.index_cast %d : index to i64
    %g = arith.sitofp %f : i64 to f32
    %y = arith.addf %x, %r : f32
    %z = arith.addf %y, %g : f32
    attn.yield %z : f32
  }
  return %t : tensor<?x?x?x?xf32>
}

// -----

// CHECK-LABEL: func.func @fused_tables
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} tables(%{{.+}} : tensor<?xf32>) scale
// CHECK: ^bb0(%{{.+}}: f32, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %[[T:.+]]: tensor<?xf32>):
// CHECK: attn.lookup %[[T]][%{{.+}}] : tensor<?xf32> -> f32
!qkv = tensor<?x?x?x64xbf16>
func.func @fused_tables(%q: !qkv, %k: !qkv, %v: !qkv, %slope: tensor<?xf32>) -> !qkv {
  %o, %lse = attn.fused_attention %q, %k, %v tables(%slope : tensor<?xf32>) scale 0.125 : !qkv, !qkv, !qkv -> !qkv, tensor<?x?x?xf32> score_mod {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index, %t: tensor<?xf32>):
    %s = attn.lookup %t[%h] : tensor<?xf32> -> f32
    %y = arith.subf %x, %s : f32
    attn.yield %y : f32
  }
  return %o : !qkv
}
