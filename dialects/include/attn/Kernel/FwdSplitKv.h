// attn/Kernel/FwdSplitKv.h - the facts of the `fwd.split_kv` kernel family
// (flash-decoding: the forward kernel of attnc/flash_fwd.cuh run with the
// query heads of a GQA group packed into the rows of one tile and the key
// range split across thread blocks, then attnc/split_kv.cuh combining the
// partial results), written once: its tile space, the split heuristic's
// constants, the workspace layout. The host descriptor
// (attn/Model/KernelFamily.h), the SRAM model, the runtime and the device
// template's static_asserts all read these.
//
// Packed rows: row R of the (batch, K/V head hk) problem is query i = R / G
// of query head hk * G + R % G, G = headsQ / headsKV; R < seqQ * G.
// Workspace (splits > 1): oAccum[split][batch][headsQ][seqQ][dv] f32 (dv:
// the tile width of the V head dim, fwd_mma_sync::tileHeadDim)
// (each split's O, already normalized) then lseAccum[split][batch][headsQ]
// [seqQ] f32 (its natural-log LSE, -inf when the split saw no key).
#pragma once

#include "attn/Kernel/Defs.h"
#include "attn/Kernel/FwdMmaSync.h"

namespace attnc {
namespace fwd_split_kv {

/// Head dims: the forward kernel's (the same template).
using fwd_mma_sync::kHeadDims;
inline constexpr int kBlockM[] = {16, 32, 64}; // packed rows per thread block
inline constexpr int kBlockN[] = {32, 64, 128}; // keys per K/V block
inline constexpr int kWarps[] = {1, 2, 4};     // one 16-row mma tile each
inline constexpr int kStages[] = {2, 3, 4}; // K/V buffers: stages - 1 in flight

/// Longest query length (per head) the compiler hands to this family when
/// it dispatches by shape: decode and speculative decoding.
inline constexpr int kMaxAutoSeqQ = 16;
/// At most this many splits, and at least this many key blocks per split.
inline constexpr int kMaxSplits = 128;
inline constexpr int kMinBlocksPerSplit = 2;
/// Threads of a combine block (one block per output row).
inline constexpr int kCombineThreads = 128;

ATTN_HD constexpr bool supportsHeadDims(int headDim, int headDimV) {
  return fwd_mma_sync::supportsHeadDims(headDim, headDimV);
}

/// Each warp owns exactly one 16-row tile: warps x 16 == blockM.
ATTN_HD constexpr bool supportsTile(int blockM, int blockN, int warps,
                                    int stages) {
  return fwd_mma_sync::contains(kBlockM, blockM) &&
         fwd_mma_sync::contains(kBlockN, blockN) &&
         fwd_mma_sync::contains(kWarps, warps) &&
         fwd_mma_sync::contains(kStages, stages) && warps * 16 == blockM;
}

/// Shared memory: the forward layout (Q tile, stages x (K, V)).
ATTN_HD constexpr long long smemBytes(int blockM, int blockN, int headDim,
                                      int headDimV, int stages,
                                      int elementBytes) {
  return fwd_mma_sync::smemBytes(blockM, blockN, headDim, headDimV, stages,
                                 elementBytes);
}

/// Key blocks each split walks (the last split may walk fewer).
ATTN_HD constexpr int blocksPerSplit(int keyBlocks, int splits) {
  return splits <= 1 ? keyBlocks : (keyBlocks + splits - 1) / splits;
}

/// Floats of one partial O row in the workspace: the V head dim's tile
/// width (the kernel writes its padding columns as zeros).
ATTN_HD constexpr int workspaceRowFloats(int headDimV) {
  return fwd_mma_sync::tileHeadDim(headDimV);
}

/// Where lseAccum starts, in floats from oAccum (rows = batch * headsQ *
/// seqQ).
ATTN_HD constexpr long long lseAccumOffset(int splits, long long rows,
                                           int headDimV) {
  return (long long)splits * rows * workspaceRowFloats(headDimV);
}

/// Floats of the workspace.
ATTN_HD constexpr long long workspaceFloats(int splits, int batch, int headsQ,
                                            int seqQ, int headDimV) {
  return splits <= 1 ? 0
                     : lseAccumOffset(splits, (long long)batch * headsQ * seqQ,
                                      headDimV) +
                           (long long)splits * batch * headsQ * seqQ;
}

} // namespace fwd_split_kv
} // namespace attnc
