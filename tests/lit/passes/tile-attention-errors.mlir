// RUN: attnc-opt %s --split-input-file --attn-tile-attention="target=sm_86 sram-budget-bytes=20000" -verify-diagnostics
// RUN: not attnc-opt %s --split-input-file --attn-tile-attention="target=sm_70" 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not attnc-opt %s --split-input-file --attn-tile-attention="block-m=96" 2>&1 | FileCheck %s --check-prefix=TILES
// RUN: not attnc-opt %s --split-input-file --attn-tile-attention="target=sm_86 block-m=128 block-n=128 stages=2" 2>&1 | FileCheck %s --check-prefix=BIG

// TARGET: error: unknown target 'sm_70'; known: sm_80, sm_86, sm_89, sm_90, sm_90a, sm_100a
// TILES: error: 'attn.fused_attention' op tile configuration 96x{{[0-9]+}}, {{[0-9]}} warps, {{[0-9]}} stages is not supported: block_m 96 not in {64, 128}
// (128*256 + 2*128*(256+256)) * 2 = 327680 B > 101376 B opt-in on sm_86
// BIG: error: 'attn.fused_attention' op needs 327680 B of shared memory; budget 101376 B on sm_86

!t = tensor<?x?x?x256xbf16>
func.func @too_big(%q: !t, %k: !t, %v: !t) -> (!t, tensor<?x?x?xf32>) {
  // Smallest tiles for head dim 256: (64*256 + 32*512) * 2 = 65536 B.
  // expected-error @+1 {{needs 65536 B of shared memory (smallest tiles 64x32, 1 stage, head dim 256, 2-byte elements); budget 20000 B on sm_86}}
  %o, %l = attn.fused_attention %q, %k, %v scale 0.0625 : !t, !t, !t -> !t, tensor<?x?x?xf32>
  return %o, %l : !t, tensor<?x?x?xf32>
}

// -----

!t = tensor<?x?x?x84xbf16>
func.func @bad_head_dim(%q: !t, %k: !t, %v: !t) -> (!t, tensor<?x?x?xf32>) {
  // expected-error @+1 {{head dim 84/84 is not supported by the tiled kernel; each must be a multiple of 8 from 8 to 256}}
  %o, %l = attn.fused_attention %q, %k, %v scale 0.1 : !t, !t, !t -> !t, tensor<?x?x?xf32>
  return %o, %l : !t, tensor<?x?x?xf32>
}
