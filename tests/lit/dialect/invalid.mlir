// RUN: attnc-opt %s -split-input-file -verify-diagnostics

// One case per verifier message of dialects/lib/IR/AttnOps.cpp, in the
// order the file emits them.

//===----------------------------------------------------------------------===//
// attn.matmul
//===----------------------------------------------------------------------===//

func.func @matmul_element_types(%a: tensor<1x1x8x16xbf16>, %b: tensor<1x1x8x16xf16>) {
  // expected-error @+1 {{'attn.matmul' op operand element types differ: 'bf16' and 'f16'}}
  %0 = attn.matmul %a, %b transpose_rhs : tensor<1x1x8x16xbf16>, tensor<1x1x8x16xf16> -> tensor<1x1x8x8xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x1x8x16xbf16>, %b: tensor<3x1x8x16xbf16>) {
  // expected-error @+1 {{'attn.matmul' op batch sizes differ: 2 and 3}}
  %0 = attn.matmul %a, %b transpose_rhs : tensor<2x1x8x16xbf16>, tensor<3x1x8x16xbf16> -> tensor<2x1x8x8xf32>
  return
}

// -----

func.func @matmul_gqa(%a: tensor<1x8x8x16xbf16>, %b: tensor<1x3x8x16xbf16>) {
  // expected-error @+1 {{'attn.matmul' op lhs has 8 heads, not a multiple of the 3 heads of rhs (grouped-query attention needs heads(lhs) % heads(rhs) == 0)}}
  %0 = attn.matmul %a, %b transpose_rhs : tensor<1x8x8x16xbf16>, tensor<1x3x8x16xbf16> -> tensor<1x8x8x8xf32>
  return
}

// -----

func.func @matmul_contraction_qk(%a: tensor<1x1x8x64xbf16>, %b: tensor<1x1x8x32xbf16>) {
  // expected-error @+1 {{'attn.matmul' op contraction dimensions differ: lhs has 64, rhs has 32 (head dims of Q and K must match)}}
  %0 = attn.matmul %a, %b transpose_rhs : tensor<1x1x8x64xbf16>, tensor<1x1x8x32xbf16> -> tensor<1x1x8x8xf32>
  return
}

// -----

func.func @matmul_contraction_pv(%p: tensor<1x1x8x16xf32>, %v: tensor<1x1x32x64xbf16>) {
  // expected-error @+1 {{'attn.matmul' op contraction dimensions differ: lhs has 16, rhs has 32}}
  %0 = attn.matmul %p, %v : tensor<1x1x8x16xf32>, tensor<1x1x32x64xbf16> -> tensor<1x1x8x64xbf16>
  return
}

// -----

func.func @matmul_result_shape(%a: tensor<1x1x8x16xbf16>, %b: tensor<1x1x32x16xbf16>) {
  // expected-error @+1 {{'attn.matmul' op result dimension 3 (head) is 16, expected 32}}
  %0 = attn.matmul %a, %b transpose_rhs : tensor<1x1x8x16xbf16>, tensor<1x1x32x16xbf16> -> tensor<1x1x8x16xf32>
  return
}

// -----

func.func @matmul_result_heads(%a: tensor<1x8x8x16xbf16>, %b: tensor<1x2x32x16xbf16>) {
  // expected-error @+1 {{'attn.matmul' op result dimension 1 (heads) is 2, expected 8}}
  %0 = attn.matmul %a, %b transpose_rhs : tensor<1x8x8x16xbf16>, tensor<1x2x32x16xbf16> -> tensor<1x2x8x32xf32>
  return
}

// -----

func.func @matmul_result_type(%a: tensor<1x1x8x16xbf16>, %b: tensor<1x1x32x16xbf16>) {
  // expected-error @+1 {{'attn.matmul' op result element type must be f32 or 'bf16', got 'f16'}}
  %0 = attn.matmul %a, %b transpose_rhs : tensor<1x1x8x16xbf16>, tensor<1x1x32x16xbf16> -> tensor<1x1x8x32xf16>
  return
}

// -----

// The rank is checked by the op's type constraints before the verifier (the
// constraint's message does not say "rank 4").
func.func @matmul_rank(%a: tensor<8x16xbf16>, %b: tensor<1x1x32x16xbf16>) {
  // expected-error @+1 {{'attn.matmul' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<8x16xbf16>'}}
  %0 = attn.matmul %a, %b transpose_rhs : tensor<8x16xbf16>, tensor<1x1x32x16xbf16> -> tensor<1x1x8x32xf32>
  return
}

//===----------------------------------------------------------------------===//
// attn.scale, attn.score_mod, attn.softmax, attn.dropout
//===----------------------------------------------------------------------===//

// -----

func.func @scale_negative(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.scale' op scale factor must be finite and positive, got -1}}
  %0 = attn.scale %s by -1.0 : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @scale_zero(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.scale' op scale factor must be finite and positive, got 0}}
  %0 = attn.scale %s by 0.0 : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @scale_inf(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.scale' op scale factor must be finite and positive, got INF}}
  %0 = attn.scale %s by 0x7FF0000000000000 : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @score_mod_arguments(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.score_mod' op score modifier region must take (f32, index, index, index, index) for the score and b, h, q, k}}
  %0 = attn.score_mod %s : tensor<?x?x?x?xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %q: index):
    attn.yield %x : f32
  }
  return
}

// -----

func.func @score_mod_argument_types(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.score_mod' op score modifier region must take (f32, index, index, index, index) for the score and b, h, q, k}}
  %0 = attn.score_mod %s : tensor<?x?x?x?xf32> {
  ^bb0(%x: f16, %b: index, %h: index, %q: index, %k: index):
    %c = arith.constant 0.0 : f32
    attn.yield %c : f32
  }
  return
}

// -----

func.func @score_mod_yield(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.score_mod' op score modifier region must yield one f32}}
  %0 = attn.score_mod %s : tensor<?x?x?x?xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %k: index):
    attn.yield %b : index
  }
  return
}

// -----

func.func @score_mod_implicit_yield(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.score_mod' op score modifier region must yield one f32}}
  %0 = attn.score_mod %s : tensor<?x?x?x?xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %k: index):
  }
  return
}

// -----

func.func @softmax_type(%s: tensor<?x?x?x?xbf16>) {
  // expected-error @+1 {{'attn.softmax' op softmax works on f32 scores, got 'bf16'}}
  %0 = attn.softmax %s : tensor<?x?x?x?xbf16>
  return
}

// -----

func.func @softmax_sinks_heads(%s: tensor<?x8x?x?xf32>, %x: tensor<4xf32>) {
  // expected-error @+1 {{'attn.softmax' op sinks has 4 entries for 8 query heads}}
  %0 = attn.softmax %s sinks %x : tensor<4xf32> : tensor<?x8x?x?xf32>
  return
}

// -----

func.func @softmax_sinks_type(%s: tensor<?x8x?x?xf32>, %x: tensor<8xf16>) {
  // expected-error @+1 {{operand #1 must be}}
  %0 = attn.softmax %s sinks %x : tensor<8xf16> : tensor<?x8x?x?xf32>
  return
}

// -----

func.func @dropout_one(%p: tensor<?x?x?x?xf32>, %seed: i64, %offset: i64) {
  // expected-error @+1 {{'attn.dropout' op dropout probability must be in [0, 1), got 1}}
  %0 = attn.dropout %p, %seed, %offset probability 1.0 : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @dropout_negative(%p: tensor<?x?x?x?xf32>, %seed: i64, %offset: i64) {
  // expected-error @+1 {{'attn.dropout' op dropout probability must be in [0, 1), got -5.000000e-01}}
  %0 = attn.dropout %p, %seed, %offset probability -0.5 : tensor<?x?x?x?xf32>
  return
}

//===----------------------------------------------------------------------===//
// attn.mask
//===----------------------------------------------------------------------===//

// -----

func.func @mask_lengths_operand(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.mask' op 'lengths' mask needs an operand (per-batch key lengths)}}
  %0 = attn.mask lengths %s : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_blocks_operand(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.mask' op 'blocks' mask needs an operand (block layout)}}
  %0 = attn.mask blocks %s {block_q = 64 : i64, block_k = 64 : i64} : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_causal_operand(%s: tensor<?x?x?x?xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{'attn.mask' op 'causal' mask takes no operand}}
  %0 = attn.mask causal %s, %len : tensor<?xi32> : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_window_missing(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.mask' op a window mask needs window_left and window_right}}
  %0 = attn.mask window %s {window_left = 16 : i64} : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_window_negative(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.mask' op window sizes must be >= 0, got left -1 and right 0}}
  %0 = attn.mask window %s {window_left = -1 : i64, window_right = 0 : i64} : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_window_on_causal(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.mask' op window sizes given for a 'causal' mask}}
  %0 = attn.mask causal %s {window_left = 16 : i64, window_right = 0 : i64} : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_blocks_missing(%s: tensor<?x?x?x?xf32>, %layout: tensor<1x?x?xi8>) {
  // expected-error @+1 {{'attn.mask' op a block-sparse mask needs block_q and block_k}}
  %0 = attn.mask blocks %s, %layout : tensor<1x?x?xi8> {block_q = 64 : i64} : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_blocks_zero(%s: tensor<?x?x?x?xf32>, %layout: tensor<1x?x?xi8>) {
  // expected-error @+1 {{'attn.mask' op block sizes must be positive, got 64 x 0}}
  %0 = attn.mask blocks %s, %layout : tensor<1x?x?xi8> {block_q = 64 : i64, block_k = 0 : i64} : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_blocks_on_lengths(%s: tensor<?x?x?x?xf32>, %len: tensor<?xi32>) {
  // expected-error @+1 {{'attn.mask' op block sizes given for a 'lengths' mask}}
  %0 = attn.mask lengths %s, %len : tensor<?xi32> {block_q = 64 : i64, block_k = 64 : i64} : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_lengths_type(%s: tensor<?x?x?x?xf32>, %len: tensor<?xi64>) {
  // expected-error @+1 {{'attn.mask' op key lengths must be a tensor<?xi32>, got 'tensor<?xi64>'}}
  %0 = attn.mask lengths %s, %len : tensor<?xi64> : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_lengths_batch(%s: tensor<4x?x?x?xf32>, %len: tensor<3xi32>) {
  // expected-error @+1 {{'attn.mask' op key lengths has 3 entries for a batch of 4}}
  %0 = attn.mask lengths %s, %len : tensor<3xi32> : tensor<4x?x?x?xf32>
  return
}

// -----

func.func @mask_layout_rank(%s: tensor<?x?x?x?xf32>, %layout: tensor<4x4xi8>) {
  // expected-error @+1 {{'attn.mask' op block layout must be a rank-3 tensor of i8 [heads or 1, query blocks, key blocks], got 'tensor<4x4xi8>'}}
  %0 = attn.mask blocks %s, %layout : tensor<4x4xi8> {block_q = 64 : i64, block_k = 64 : i64} : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_layout_type(%s: tensor<?x?x?x?xf32>, %layout: tensor<1x4x4xf32>) {
  // expected-error @+1 {{'attn.mask' op block layout must be a rank-3 tensor of i8 [heads or 1, query blocks, key blocks], got 'tensor<1x4x4xf32>'}}
  %0 = attn.mask blocks %s, %layout : tensor<1x4x4xf32> {block_q = 64 : i64, block_k = 64 : i64} : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_where_without_region(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.mask' op a 'where' mask needs a predicate region}}
  %0 = attn.mask where %s : tensor<?x?x?x?xf32>
  return
}

// -----

func.func @mask_region_on_causal(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.mask' op only a 'where' mask has a predicate region}}
  %0 = attn.mask causal %s : tensor<?x?x?x?xf32> {
  ^bb0(%b: index, %h: index, %q: index, %k: index):
    %c = arith.constant true
    attn.yield %c : i1
  }
  return
}

// -----

func.func @mask_where_arguments(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.mask' op mask predicate region must take (index, index, index, index) for b, h, q, k}}
  %0 = attn.mask where %s : tensor<?x?x?x?xf32> {
  ^bb0(%q: index, %k: index):
    %c = arith.cmpi ule, %k, %q : index
    attn.yield %c : i1
  }
  return
}

// -----

func.func @mask_where_yield(%s: tensor<?x?x?x?xf32>) {
  // expected-error @+1 {{'attn.mask' op mask predicate region must yield one i1}}
  %0 = attn.mask where %s : tensor<?x?x?x?xf32> {
  ^bb0(%b: index, %h: index, %q: index, %k: index):
    attn.yield %q : index
  }
  return
}

//===----------------------------------------------------------------------===//
// attn.fused_attention (the checks attn.tiled_attention shares)
//===----------------------------------------------------------------------===//

// -----

func.func @attention_element_types(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xf16>, %v: tensor<?x?x?x64xbf16>) {
  // expected-error @+1 {{'attn.fused_attention' op query, key and value must have one element type, got 'bf16', 'f16', 'bf16'}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>
  return
}

// -----

func.func @attention_dynamic_head_dim(%q: tensor<?x?x?x?xbf16>, %k: tensor<?x?x?x?xbf16>, %v: tensor<?x?x?x?xbf16>) {
  // expected-error @+1 {{'attn.fused_attention' op head dimensions must be static}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16> -> tensor<?x?x?x?xbf16>, tensor<?x?x?xf32>
  return
}

// -----

func.func @attention_key_head_dim(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x32xbf16>, %v: tensor<?x?x?x64xbf16>) {
  // expected-error @+1 {{'attn.fused_attention' op head dim of key (32) differs from query (64)}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : tensor<?x?x?x64xbf16>, tensor<?x?x?x32xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>
  return
}

// -----

func.func @attention_key_batch(%q: tensor<2x4x128x64xbf16>, %k: tensor<3x4x128x64xbf16>, %v: tensor<3x4x128x64xbf16>) {
  // expected-error @+1 {{'attn.fused_attention' op key dimension 0 (batch) is 3, expected 2}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : tensor<2x4x128x64xbf16>, tensor<3x4x128x64xbf16>, tensor<3x4x128x64xbf16> -> tensor<2x4x128x64xbf16>, tensor<2x4x128xf32>
  return
}

// -----

func.func @attention_value_length(%q: tensor<2x4x128x64xbf16>, %k: tensor<2x4x128x64xbf16>, %v: tensor<2x4x100x64xbf16>) {
  // expected-error @+1 {{'attn.fused_attention' op value dimension 2 (sequence) is 100, expected 128}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : tensor<2x4x128x64xbf16>, tensor<2x4x128x64xbf16>, tensor<2x4x100x64xbf16> -> tensor<2x4x128x64xbf16>, tensor<2x4x128xf32>
  return
}

// -----

func.func @attention_value_heads(%q: tensor<2x4x128x64xbf16>, %k: tensor<2x2x128x64xbf16>, %v: tensor<2x4x128x64xbf16>) {
  // expected-error @+1 {{'attn.fused_attention' op value dimension 1 (heads) is 4, expected 2}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : tensor<2x4x128x64xbf16>, tensor<2x2x128x64xbf16>, tensor<2x4x128x64xbf16> -> tensor<2x4x128x64xbf16>, tensor<2x4x128xf32>
  return
}

// -----

func.func @attention_gqa(%q: tensor<2x8x128x64xbf16>, %k: tensor<2x3x128x64xbf16>, %v: tensor<2x3x128x64xbf16>) {
  // expected-error @+1 {{'attn.fused_attention' op query has 8 heads, not a multiple of the 3 key/value heads}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : tensor<2x8x128x64xbf16>, tensor<2x3x128x64xbf16>, tensor<2x3x128x64xbf16> -> tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>
  return
}

// -----

func.func @attention_output_type(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x64xbf16>) {
  // expected-error @+1 {{'attn.fused_attention' op output element type must be 'bf16', got 'f32'}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xf32>, tensor<?x?x?xf32>
  return
}

// -----

func.func @attention_output_head_dim(%q: tensor<?x?x?x64xbf16>, %k: tensor<?x?x?x64xbf16>, %v: tensor<?x?x?x32xbf16>) {
  // expected-error @+1 {{'attn.fused_attention' op output dimension 3 (head) is 64, expected 32}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x32xbf16> -> tensor<?x?x?x64xbf16>, tensor<?x?x?xf32>
  return
}

// -----

func.func @attention_lse_shape(%q: tensor<2x4x128x64xbf16>, %k: tensor<2x4x256x64xbf16>, %v: tensor<2x4x256x64xbf16>) {
  // expected-error @+1 {{'attn.fused_attention' op logsumexp dimension 2 (sequence) is 256, expected 128}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : tensor<2x4x128x64xbf16>, tensor<2x4x256x64xbf16>, tensor<2x4x256x64xbf16> -> tensor<2x4x128x64xbf16>, tensor<2x4x256xf32>
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_scale(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.fused_attention' op scale must be finite and positive, got 0}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.0 : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_window_half(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.fused_attention' op a window needs both window_left and window_right}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 {window_left = 16 : i64} : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_window_negative(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.fused_attention' op window sizes must be >= 0, got left 16 and right -2}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 {window_left = 16 : i64, window_right = -2 : i64} : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_layout_block_sizes(%q: !qkv, %k: !qkv, %v: !qkv, %layout: tensor<1x?x?xi8>) {
  // expected-error @+1 {{'attn.fused_attention' op a block-sparse mask needs block_q and block_k}}
  %o, %lse = attn.fused_attention %q, %k, %v layout %layout : tensor<1x?x?xi8> scale 0.125 {block_k = 64 : i64} : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_layout_block_negative(%q: !qkv, %k: !qkv, %v: !qkv, %layout: tensor<1x?x?xi8>) {
  // expected-error @+1 {{'attn.fused_attention' op block sizes must be positive, got -64 x 64}}
  %o, %lse = attn.fused_attention %q, %k, %v layout %layout : tensor<1x?x?xi8> scale 0.125 {block_q = -64 : i64, block_k = 64 : i64} : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_block_sizes_without_layout(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.fused_attention' op block sizes given without a block layout}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 {block_q = 64 : i64, block_k = 64 : i64} : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<2x?x?x64xbf16>
!lse = tensor<2x?x?xf32>
func.func @attention_lengths_batch(%q: !qkv, %k: !qkv, %v: !qkv, %len: tensor<3xi32>) {
  // expected-error @+1 {{'attn.fused_attention' op key lengths has 3 entries for a batch of 2}}
  %o, %lse = attn.fused_attention %q, %k, %v lengths %len : tensor<3xi32> scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_dropout_range(%q: !qkv, %k: !qkv, %v: !qkv, %seed: i64, %offset: i64) {
  // expected-error @+1 {{'attn.fused_attention' op dropout probability must be in [0, 1), got 1.5}}
  %o, %lse = attn.fused_attention %q, %k, %v seed %seed offset %offset scale 0.125 {dropout = 1.5 : f64} : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_seed_without_offset(%q: !qkv, %k: !qkv, %v: !qkv, %seed: i64) {
  // expected-error @+1 {{'attn.fused_attention' op seed and offset come together}}
  %o, %lse = attn.fused_attention %q, %k, %v seed %seed scale 0.125 {dropout = 0.1 : f64} : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_offset_without_seed(%q: !qkv, %k: !qkv, %v: !qkv, %offset: i64) {
  // expected-error @+1 {{'attn.fused_attention' op seed and offset come together}}
  %o, %lse = attn.fused_attention %q, %k, %v offset %offset scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_dropout_without_seed(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.fused_attention' op dropout needs a seed and an offset}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 {dropout = 0.1 : f64} : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x16x?x64xbf16>
!lse = tensor<?x16x?xf32>
func.func @attention_sinks_heads(%q: !qkv, %k: !qkv, %v: !qkv, %x: tensor<8xf32>) {
  // expected-error @+1 {{'attn.fused_attention' op sinks has 8 entries for 16 query heads}}
  %o, %lse = attn.fused_attention %q, %k, %v sinks %x : tensor<8xf32> scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_score_mod_arguments(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.fused_attention' op score modifier region must take (f32, index, index, index, index) for the score and b, h, q, k}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse score_mod {
  ^bb0(%x: bf16, %b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 0.0 : f32
    attn.yield %c : f32
  }
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_score_mod_yield(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.fused_attention' op score modifier region must yield one f32}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse score_mod {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    attn.yield %x, %x : f32, f32
  }
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_mask_arguments(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.fused_attention' op mask predicate region must take (index, index, index, index) for b, h, q, k}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse mask {
  ^bb0(%b: index, %h: index, %i: i32, %j: i32):
    %c = arith.cmpi sge, %i, %j : i32
    attn.yield %c : i1
  }
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @attention_mask_yield(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.fused_attention' op mask predicate region must yield one i1}}
  %o, %lse = attn.fused_attention %q, %k, %v scale 0.125 : !qkv, !qkv, !qkv -> !qkv, !lse mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 1.0 : f32
    attn.yield %c : f32
  }
  return
}

//===----------------------------------------------------------------------===//
// attn.tiled_attention
//===----------------------------------------------------------------------===//

// -----

// The shared checks run on the tiled op too.
!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @tiled_shared_check(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.tiled_attention' op scale must be finite and positive, got -1.250000e-01}}
  %o, %lse = attn.tiled_attention %q, %k, %v scale -0.125 tiling <family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 4, stages = 1, smem_bytes = 32768> skip none : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @tiled_nonpositive(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.tiled_attention' op tile sizes, warps and stages must be positive}}
  %o, %lse = attn.tiled_attention %q, %k, %v scale 0.125 tiling <family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 4, stages = 0, smem_bytes = 16384> skip none : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @tiled_multiple_of_16(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.tiled_attention' op block_m and block_n must be multiples of 16, got 100 x 64}}
  %o, %lse = attn.tiled_attention %q, %k, %v scale 0.125 tiling <family = "fwd.mma_sync", block_m = 100, block_n = 64, warps = 4, stages = 1, smem_bytes = 29184> skip none : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @tiled_skip_causal_without_causal(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.tiled_attention' op causal block skipping needs a causal mask}}
  %o, %lse = attn.tiled_attention %q, %k, %v scale 0.125 tiling <family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 4, stages = 1, smem_bytes = 32768> skip causal : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @tiled_skip_window_without_window(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.tiled_attention' op window block skipping needs a window}}
  %o, %lse = attn.tiled_attention %q, %k, %v causal scale 0.125 tiling <family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 4, stages = 1, smem_bytes = 32768> skip window : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @tiled_skip_sparse_without_layout(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.tiled_attention' op sparse block skipping needs a block layout}}
  %o, %lse = attn.tiled_attention %q, %k, %v scale 0.125 tiling <family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 4, stages = 1, smem_bytes = 32768> skip sparse : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @tiled_skip_lengths_without_lengths(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.tiled_attention' op lengths block skipping needs key lengths}}
  %o, %lse = attn.tiled_attention %q, %k, %v causal scale 0.125 tiling <family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 4, stages = 1, smem_bytes = 32768> skip causal|lengths : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
!lse = tensor<?x?x?xf32>
func.func @tiled_unknown_family(%q: !qkv, %k: !qkv, %v: !qkv) {
  // expected-error @+1 {{'attn.tiled_attention' op unknown kernel family 'fwd.wgmma'; known: fwd.mma_sync}}
  %o, %lse = attn.tiled_attention %q, %k, %v scale 0.125 tiling <family = "fwd.wgmma", block_m = 128, block_n = 64, warps = 4, stages = 1, smem_bytes = 32768> skip none : !qkv, !qkv, !qkv -> !qkv, !lse
  return
}

// -----

func.func @paged_dynamic_page(%c: tensor<?x?x8x128xbf16>, %t: tensor<?x?xi32>, %l: tensor<?xi32>) {
  // expected-error @+1 {{'attn.paged_kv' op page size (cache dimension 1) must be a number in [1, 65536], got ?}}
  %k = attn.paged_kv %c, %t, %l : tensor<?x?x8x128xbf16>, tensor<?x?xi32>, tensor<?xi32> -> tensor<?x8x?x128xbf16>
  return
}

// -----

func.func @paged_heads(%c: tensor<?x16x8x128xbf16>, %t: tensor<?x?xi32>, %l: tensor<?xi32>) {
  // expected-error @+1 {{'attn.paged_kv' op result dimension 1 (heads) is 4, expected 8}}
  %k = attn.paged_kv %c, %t, %l : tensor<?x16x8x128xbf16>, tensor<?x?xi32>, tensor<?xi32> -> tensor<?x4x?x128xbf16>
  return
}

// -----

func.func @paged_batch(%c: tensor<?x16x8x128xbf16>, %t: tensor<3x?xi32>, %l: tensor<2xi32>) {
  // expected-error @+1 {{'attn.paged_kv' op seq_lens has 2 entries for a block table of 3 rows}}
  %k = attn.paged_kv %c, %t, %l : tensor<?x16x8x128xbf16>, tensor<3x?xi32>, tensor<2xi32> -> tensor<3x8x?x128xbf16>
  return
}

// -----

func.func @paged_element(%c: tensor<?x16x8x128xbf16>, %t: tensor<?x?xi32>, %l: tensor<?xi32>) {
  // expected-error @+1 {{'attn.paged_kv' op result element type 'f16' differs from the cache's 'bf16'}}
  %k = attn.paged_kv %c, %t, %l : tensor<?x16x8x128xbf16>, tensor<?x?xi32>, tensor<?xi32> -> tensor<?x8x?x128xf16>
  return
}

// -----

func.func @packed_element(%t: tensor<?x32x128xbf16>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{'attn.packed_seq' op result element type 'f16' differs from the tokens' 'bf16'}}
  %q = attn.packed_seq %t, %cu : tensor<?x32x128xbf16>, tensor<?xi32> -> tensor<?x32x?x128xf16>
  return
}

// -----

// One entry is no sequence at all: cu_seqlens has batch + 1 entries.
func.func @packed_one_entry(%t: tensor<?x32x128xbf16>, %cu: tensor<1xi32>) {
  // expected-error @+1 {{'attn.packed_seq' op cu_seqlens needs batch + 1 >= 2 entries, got 1}}
  %q = attn.packed_seq %t, %cu : tensor<?x32x128xbf16>, tensor<1xi32> -> tensor<?x32x?x128xbf16>
  return
}

// -----

func.func @packed_batch(%t: tensor<?x32x128xbf16>, %cu: tensor<5xi32>) {
  // expected-error @+1 {{'attn.packed_seq' op result dimension 0 (batch) is 5, expected 4}}
  %q = attn.packed_seq %t, %cu : tensor<?x32x128xbf16>, tensor<5xi32> -> tensor<5x32x?x128xbf16>
  return
}

// -----

func.func @packed_heads(%t: tensor<?x32x128xbf16>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{'attn.packed_seq' op result dimension 1 (heads) is 8, expected 32}}
  %q = attn.packed_seq %t, %cu : tensor<?x32x128xbf16>, tensor<?xi32> -> tensor<?x8x?x128xbf16>
  return
}

// -----

func.func @packed_head_dim(%t: tensor<?x32x128xbf16>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{'attn.packed_seq' op result dimension 3 (head) is 64, expected 128}}
  %q = attn.packed_seq %t, %cu : tensor<?x32x128xbf16>, tensor<?xi32> -> tensor<?x32x?x64xbf16>
  return
}

// -----

// The tokens are [total, heads, dim], not an already batched tensor.
func.func @packed_tokens_rank(%t: tensor<?x?x32x128xbf16>, %cu: tensor<?xi32>) {
  // expected-error @+1 {{'attn.packed_seq' op operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<?x?x32x128xbf16>'}}
  %q = attn.packed_seq %t, %cu : tensor<?x?x32x128xbf16>, tensor<?xi32> -> tensor<?x32x?x128xbf16>
  return
}

// -----

func.func @packed_prefix_type(%t: tensor<?x32x128xbf16>, %cu: tensor<?xi64>) {
  // expected-error @+1 {{'attn.packed_seq' op operand #1 must be ranked tensor of 32-bit signless integer values, but got 'tensor<?xi64>'}}
  %q = attn.packed_seq %t, %cu : tensor<?x32x128xbf16>, tensor<?xi64> -> tensor<?x32x?x128xbf16>
  return
}

// -----

func.func @lookup_rank(%s: tensor<?x?x?x?xf32>, %rel: tensor<?x257xf32>) {
  %t = attn.score_mod %s : tensor<?x?x?x?xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %k: index):
    // expected-error @+1 {{'attn.lookup' op table of rank 2 read with 1 indices}}
    %r = attn.lookup %rel[%h] : tensor<?x257xf32> -> f32
    attn.yield %r : f32
  }
  return
}

// -----

func.func @lookup_result(%s: tensor<?x?x?x?xf32>, %doc: tensor<?xi32>) {
  %t = attn.score_mod %s : tensor<?x?x?x?xf32> {
  ^bb0(%x: f32, %b: index, %h: index, %q: index, %k: index):
    // expected-error @+1 {{'attn.lookup' op an integer table yields index, not 'f32'}}
    %r = attn.lookup %doc[%q] : tensor<?xi32> -> f32
    attn.yield %r : f32
  }
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
func.func @fused_table_arguments(%q: !qkv, %k: !qkv, %v: !qkv, %slope: tensor<?xf32>) {
  // expected-error @+1 {{'attn.fused_attention' op score modifier region takes 5 arguments and one per table (1), got 5}}
  %o, %lse = attn.fused_attention %q, %k, %v tables(%slope : tensor<?xf32>) scale 0.125 : !qkv, !qkv, !qkv -> !qkv, tensor<?x?x?xf32> score_mod {
  ^bb0(%x: f32, %b: index, %h: index, %i: index, %j: index):
    attn.yield %x : f32
  }
  return
}

// -----

!qkv = tensor<?x?x?x64xbf16>
func.func @fused_table_argument_type(%q: !qkv, %k: !qkv, %v: !qkv, %slope: tensor<?xf32>) {
  // expected-error @+1 {{'attn.fused_attention' op mask predicate region argument 4 must be table 0's type 'tensor<?xf32>', got 'tensor<?xi32>'}}
  %o, %lse = attn.fused_attention %q, %k, %v tables(%slope : tensor<?xf32>) scale 0.125 : !qkv, !qkv, !qkv -> !qkv, tensor<?x?x?xf32> mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %t: tensor<?xi32>):
    %c = arith.constant true
    attn.yield %c : i1
  }
  return
}
