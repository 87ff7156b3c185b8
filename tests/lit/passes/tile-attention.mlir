// RUN: attnc-opt %s --split-input-file --attn-tile-attention=target=sm_90a | FileCheck %s --check-prefix=H100
// RUN: attnc-opt %s --split-input-file --attn-tile-attention=target=sm_86 | FileCheck %s --check-prefix=SM86
// RUN: attnc-opt %s --split-input-file --attn-tile-attention="target=sm_90a block-m=64 block-n=32 warps=4 stages=1" | FileCheck %s --check-prefix=EXPLICIT

// head dim 128, bf16: Q 128x128 + 2 stages of K,V 64x128 = (16384 + 2*64*256) * 2 B = 98304 B
// H100-LABEL: func.func @causal128
// H100: %[[O:.+]], %[[L:.+]] = attn.tiled_attention %{{.+}}, %{{.+}}, %{{.+}} causal scale 1.250000e-01
// H100-SAME: tiling <family = "fwd.mma_sync", block_m = 128, block_n = 64, warps = 4, stages = 2, smem_bytes = 98304> skip causal
// H100: return %[[O]], %[[L]]
// On a 99 KiB part the same spec gets one K/V stage of 32 rows: (16384 + 32*256) * 2 = 49152 B.
// SM86-LABEL: func.func @causal128
// SM86: tiling <family = "fwd.mma_sync", block_m = 128, block_n = 32, warps = 4, stages = 1, smem_bytes = 49152> skip causal
// (64*128 + 32*256) * 2 = 32768 B
// EXPLICIT-LABEL: func.func @causal128
// EXPLICIT: tiling <family = "fwd.mma_sync", block_m = 64, block_n = 32, warps = 4, stages = 1, smem_bytes = 32768> skip causal
!t = tensor<?x?x?x128xbf16>
func.func @causal128(%q: !t, %k: !t, %v: !t) -> (!t, tensor<?x?x?xf32>) {
  %o, %l = attn.fused_attention %q, %k, %v causal scale 0.125 : !t, !t, !t -> !t, tensor<?x?x?xf32>
  return %o, %l : !t, tensor<?x?x?xf32>
}

// -----

// The window bounds the K/V loop; regions move to the tiled op unchanged.
// H100-LABEL: func.func @window_softcap
// H100: attn.tiled_attention {{.+}} skip window {window_left = 256 : i64, window_right = 0 : i64}
// H100-SAME: score_mod {
// H100: math.tanh
// H100: attn.yield
!t = tensor<2x8x?x64xf16>
func.func @window_softcap(%q: !t, %k: !t, %v: !t) -> (!t, tensor<2x8x?xf32>) {
  %o, %l = attn.fused_attention %q, %k, %v scale 0.125 {window_left = 256 : i64, window_right = 0 : i64} : !t, !t, !t -> !t, tensor<2x8x?xf32> score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %t = math.tanh %s : f32
    attn.yield %t : f32
  }
  return %o, %l : !t, tensor<2x8x?xf32>
}

// -----

// Block-sparse: fully zero layout blocks are skipped. f32 uses 4-byte elements.
// H100-LABEL: func.func @sparse_f32
// H100: attn.tiled_attention {{.+}} layout {{.+}} skip sparse
!t = tensor<?x?x?x64xf32>
func.func @sparse_f32(%q: !t, %k: !t, %v: !t, %layout: tensor<1x?x?xi8>) -> (!t, tensor<?x?x?xf32>) {
  %o, %l = attn.fused_attention %q, %k, %v layout %layout : tensor<1x?x?xi8> scale 0.125 {block_k = 128 : i64, block_q = 128 : i64} : !t, !t, !t -> !t, tensor<?x?x?xf32>
  return %o, %l : !t, tensor<?x?x?xf32>
}

// -----

// No mask: nothing to skip.
// H100-LABEL: func.func @plain
// H100: skip none
!t = tensor<?x?x?x32xbf16>
func.func @plain(%q: !t, %k: !t, %v: !t) -> (!t, tensor<?x?x?xf32>) {
  %o, %l = attn.fused_attention %q, %k, %v scale 0.125 : !t, !t, !t -> !t, tensor<?x?x?xf32>
  return %o, %l : !t, tensor<?x?x?xf32>
}
