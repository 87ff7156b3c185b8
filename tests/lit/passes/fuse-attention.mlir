// RUN: attnc-opt %s --split-input-file --attn-fuse-attention | FileCheck %s
// RUN: attnc-opt %s --split-input-file --attn-fuse-attention=remarks=true 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK

!qkv = tensor<?x?x?x64xbf16>
!s = tensor<?x?x?x?xf32>

// The paper's chain: scale, causal mask, softmax.
// CHECK-LABEL: func.func @causal
// CHECK-SAME: (%[[Q:.+]]: tensor<?x?x?x64xbf16>, %[[K:.+]]: tensor<?x?x?x64xbf16>, %[[V:.+]]: tensor<?x?x?x64xbf16>)
// CHECK-NEXT: %[[O:.+]], %{{.+}} = attn.fused_attention %[[Q]], %[[K]], %[[V]] causal scale 1.250000e-01
// CHECK-NOT: attn.matmul
// CHECK-NOT: attn.softmax
// CHECK: return %[[O]]
// REMARK: remark: fused attention chain
func.func @causal(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %s = attn.matmul %q, %k transpose_rhs : !qkv, !qkv -> !s
  %t = attn.scale %s by 0.125 : !s
  %u = attn.mask causal %t : !s
  %p = attn.softmax %u : !s
  %o = attn.matmul %p, %v : !s, !qkv -> !qkv
  return %o : !qkv
}

// -----

// Scale after the mask commutes (a positive scale keeps -inf); two scales multiply.
// CHECK-LABEL: func.func @scale_after_mask
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} causal scale 2.500000e-01
!qkv = tensor<?x?x?x64xbf16>
!s = tensor<?x?x?x?xf32>
func.func @scale_after_mask(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %s = attn.matmul %q, %k transpose_rhs : !qkv, !qkv -> !s
  %a = attn.scale %s by 0.5 : !s
  %u = attn.mask causal %a : !s
  %t = attn.scale %u by 0.5 : !s
  %p = attn.softmax %t : !s
  %o = attn.matmul %p, %v : !s, !qkv -> !qkv
  return %o : !qkv
}

// -----

// Every mask kind, a score modifier, dropout, GQA, and the log-sum-exp result.
// CHECK-LABEL: func.func @everything
// CHECK-SAME: -> (tensor<?x8x?x128xf16>, tensor<?x8x?xf32>)
// CHECK: %[[O:.+]], %[[LSE:.+]] = attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} lengths %{{.+}} : tensor<?xi32> layout %{{.+}} : tensor<1x?x?xi8> seed %{{.+}} offset %{{.+}} causal scale 0.08799
// CHECK-SAME: block_k = 128 : i64, block_q = 64 : i64, dropout = 1.000000e-01 : f64, window_left = 16 : i64, window_right = 0 : i64
// CHECK-SAME: -> tensor<?x8x?x128xf16>, tensor<?x8x?xf32> score_mod {
// CHECK-NEXT: ^bb0(%[[S:.+]]: f32, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index):
// CHECK: %[[T:.+]] = math.tanh
// CHECK: attn.yield
// CHECK: } mask {
// CHECK-NEXT: ^bb0(%[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index):
// CHECK: %[[C1:.+]] = arith.cmpi ne, %[[I]], %[[J]] : index
// CHECK: %[[C2:.+]] = arith.cmpi sge, %[[J]], %{{.+}} : index
// CHECK: %[[AND:.+]] = arith.andi %[[C1]], %[[C2]] : i1
// CHECK: attn.yield %[[AND]] : i1
// CHECK: return %[[O]], %[[LSE]]
!q = tensor<?x8x?x128xf16>
!kv = tensor<?x2x?x128xf16>
!s = tensor<?x8x?x?xf32>
func.func @everything(%q: !q, %k: !kv, %v: !kv, %len: tensor<?xi32>, %layout: tensor<1x?x?xi8>, %seed: i64, %off: i64) -> !q attributes {attn.returns_lse} {
  %s = attn.matmul %q, %k transpose_rhs : !q, !kv -> !s
  %t = attn.scale %s by 0.088 : !s
  %m = attn.score_mod %t : !s {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 30.0 : f32
    %d = arith.divf %x, %c : f32
    %e = math.tanh %d : f32
    %r = arith.mulf %c, %e : f32
    attn.yield %r : f32
  }
  %u1 = attn.mask causal %m : !s
  %u2 = attn.mask window %u1 {window_left = 16 : i64, window_right = 0 : i64} : !s
  %u3 = attn.mask lengths %u2, %len : tensor<?xi32> : !s
  %u4 = attn.mask blocks %u3, %layout : tensor<1x?x?xi8> {block_q = 64 : i64, block_k = 128 : i64} : !s
  %u5 = attn.mask where %u4 : !s {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.cmpi ne, %i, %j : index
    attn.yield %c : i1
  }
  %u6 = attn.mask where %u5 : !s {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %z = arith.constant 4 : index
    %c = arith.cmpi sge, %j, %z : index
    attn.yield %c : i1
  }
  %p = attn.softmax %u6 : !s
  %d = attn.dropout %p, %seed, %off probability 0.1 : !s
  %o = attn.matmul %d, %v : !s, !kv -> !q
  return %o : !q
}

// -----

// A scale after a score modifier stays after it: it is folded into the region.
// CHECK-LABEL: func.func @scale_after_mod
// CHECK: attn.fused_attention {{.+}} scale 1.000000e+00
// CHECK: score_mod {
// CHECK: %[[E:.+]] = math.tanh
// CHECK: %[[C:.+]] = arith.constant 2.000000e+00 : f32
// CHECK: %[[R:.+]] = arith.mulf %[[C]], %[[E]] : f32
// CHECK: attn.yield %[[R]] : f32
!qkv = tensor<?x?x?x32xf32>
!s = tensor<?x?x?x?xf32>
func.func @scale_after_mod(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %s = attn.matmul %q, %k transpose_rhs : !qkv, !qkv -> !s
  %m = attn.score_mod %s : !s {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    %e = math.tanh %x : f32
    attn.yield %e : f32
  }
  %t = attn.scale %m by 2.0 : !s
  %p = attn.softmax %t : !s
  %o = attn.matmul %p, %v : !s, !qkv -> !qkv
  return %o : !qkv
}

// -----

// NOT fused: a score modifier after a mask would change the masked scores.
// CHECK-LABEL: func.func @mod_after_mask
// CHECK-NOT: attn.fused_attention
// CHECK: attn.softmax
// REMARK: remark: not fused: a score modifier follows a mask
!qkv = tensor<?x?x?x64xbf16>
!s = tensor<?x?x?x?xf32>
func.func @mod_after_mask(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %s = attn.matmul %q, %k transpose_rhs : !qkv, !qkv -> !s
  %u = attn.mask causal %s : !s
  %m = attn.score_mod %u : !s {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    %e = math.tanh %x : f32
    attn.yield %e : f32
  }
  %p = attn.softmax %m : !s
  %o = attn.matmul %p, %v : !s, !qkv -> !qkv
  return %o : !qkv
}

// -----

// NOT fused: the probabilities are also returned.
// CHECK-LABEL: func.func @probs_escape
// CHECK-NOT: attn.fused_attention
// REMARK: remark: not fused: the softmax result has other users
!qkv = tensor<?x?x?x64xbf16>
!s = tensor<?x?x?x?xf32>
func.func @probs_escape(%q: !qkv, %k: !qkv, %v: !qkv) -> (!qkv, !s) {
  %s = attn.matmul %q, %k transpose_rhs : !qkv, !qkv -> !s
  %p = attn.softmax %s : !s
  %o = attn.matmul %p, %v : !s, !qkv -> !qkv
  return %o, %p : !qkv, !s
}

// -----

// NOT fused: the scores are used twice.
// CHECK-LABEL: func.func @scores_escape
// CHECK-NOT: attn.fused_attention
// REMARK: remark: not fused: the intermediate score tensor has other users
!qkv = tensor<?x?x?x64xbf16>
!s = tensor<?x?x?x?xf32>
func.func @scores_escape(%q: !qkv, %k: !qkv, %v: !qkv) -> (!qkv, !s) {
  %s = attn.matmul %q, %k transpose_rhs : !qkv, !qkv -> !s
  %t = attn.scale %s by 0.125 : !s
  %p = attn.softmax %t : !s
  %o = attn.matmul %p, %v : !s, !qkv -> !qkv
  return %o, %s : !qkv, !s
}

// -----

// NOT fused: no softmax between the matmuls.
// CHECK-LABEL: func.func @no_softmax
// CHECK-NOT: attn.fused_attention
// REMARK: remark: not fused: the left operand of the P x V matmul is not a softmax
!qkv = tensor<?x?x?x64xbf16>
!s = tensor<?x?x?x?xf32>
func.func @no_softmax(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %s = attn.matmul %q, %k transpose_rhs : !qkv, !qkv -> !s
  %o = attn.matmul %s, %v : !s, !qkv -> !qkv
  return %o : !qkv
}

// -----

// NOT fused: the first matmul is not Q x K^T.
// CHECK-LABEL: func.func @no_transpose
// CHECK-NOT: attn.fused_attention
// REMARK: remark: not fused: the first matmul must be Q x K^T
!qkv = tensor<?x?x64x64xbf16>
!s = tensor<?x?x64x64xf32>
func.func @no_transpose(%q: !qkv, %k: !qkv, %v: !qkv) -> !qkv {
  %s = attn.matmul %q, %k : !qkv, !qkv -> !s
  %p = attn.softmax %s : !s
  %o = attn.matmul %p, %v : !s, !qkv -> !qkv
  return %o : !qkv
}

// -----

// Attention sinks on the softmax become the fused op's sinks operand.
// CHECK-LABEL: func.func @sinks
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<16xf32>
// CHECK-NEXT: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} sinks %[[X]] : tensor<16xf32> causal scale 1.250000e-01
// CHECK-NOT: attn.softmax
!qkv = tensor<?x16x?x64xbf16>
!s = tensor<?x16x?x?xf32>
func.func @sinks(%q: !qkv, %k: !qkv, %v: !qkv, %x: tensor<16xf32>) -> !qkv {
  %s = attn.matmul %q, %k transpose_rhs : !qkv, !qkv -> !s
  %t = attn.scale %s by 0.125 : !s
  %u = attn.mask causal %t : !s
  %p = attn.softmax %u sinks %x : tensor<16xf32> : !s
  %o = attn.matmul %p, %v : !s, !qkv -> !qkv
  return %o : !qkv
}

// -----

// Tables read by the modifiers and the where() predicate become the fused
// op's tables, each once, in argument order, and its regions' trailing
// arguments.
// CHECK-LABEL: func.func @tables
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<?xf32>, %[[D:[a-z0-9]+]]: tensor<?xi32>
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} tables(%[[A]], %[[D]] : tensor<?xf32>, tensor<?xi32>)
// CHECK: ^bb0(%{{.+}}: f32, %{{.+}}: index, %[[H:.+]]: index, %{{.+}}: index, %{{.+}}: index, %[[TA:.+]]: tensor<?xf32>, %[[TD:.+]]: tensor<?xi32>):
// CHECK: attn.lookup %[[TA]][%[[H]]]
// CHECK: attn.lookup %[[TA]][%[[H]]]
// CHECK: ^bb0(%{{.+}}: index, %{{.+}}: index, %[[Q:.+]]: index, %[[K:.+]]: index, %{{.+}}: tensor<?xf32>, %[[TD2:.+]]: tensor<?xi32>):
// CHECK: attn.lookup %[[TD2]][%[[Q]]]
// CHECK: attn.lookup %[[TD2]][%[[K]]]
!qkv = tensor<?x?x?x64xbf16>
!s = tensor<?x?x?x?xf32>
func.func @tables(%q: !qkv, %k: !qkv, %v: !qkv, %a: tensor<?xf32>, %doc: tensor<?xi32>) -> !qkv {
  %s = attn.matmul %q, %k transpose_rhs : !qkv, !qkv -> !s
  %t = attn.score_mod %s : !s {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    %r = attn.lookup %a[%h] : tensor<?xf32> -> f32
    %y = arith.subf %x, %r : f32
    attn.yield %y : f32
  }
  %u = attn.score_mod %t : !s {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    %r = attn.lookup %a[%h] : tensor<?xf32> -> f32
    %y = arith.addf %x, %r : f32
    attn.yield %y : f32
  }
  %m = attn.mask where %u : !s {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %x = attn.lookup %doc[%i] : tensor<?xi32> -> index
    %y = attn.lookup %doc[%j] : tensor<?xi32> -> index
    %c = arith.cmpi eq, %x, %y : index
    attn.yield %c : i1
  }
  %p = attn.softmax %m : !s
  %o = attn.matmul %p, %v : !s, !qkv -> !qkv
  return %o : !qkv
}

// -----

// Every argument the front end marked as a table is a table of the fused
// op, read or not (a fold may have removed the read), in argument order:
// the kernel's table list is the spec's.
// CHECK-LABEL: func.func @unread_table
// CHECK: attn.fused_attention %{{.+}}, %{{.+}}, %{{.+}} tables(%arg3, %arg4 : tensor<?xf32>, tensor<?x9xf32>)
!qkv = tensor<?x?x?x64xbf16>
!s = tensor<?x?x?x?xf32>
func.func @unread_table(%q: !qkv, %k: !qkv, %v: !qkv, %a: tensor<?xf32> {attn.table_bind = array<i64: 1>}, %r: tensor<?x9xf32> {attn.table_bind = array<i64: 1, -1>}) -> !qkv {
  %s = attn.matmul %q, %k transpose_rhs : !qkv, !qkv -> !s
  %t = attn.score_mod %s : !s {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    %y = attn.lookup %r[%h, %j] : tensor<?x9xf32> -> f32
    %z = arith.addf %x, %y : f32
    attn.yield %z : f32
  }
  %p = attn.softmax %t : !s
  %o = attn.matmul %p, %v : !s, !qkv -> !qkv
  return %o : !qkv
}
