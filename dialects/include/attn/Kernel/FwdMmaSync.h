// attn/Kernel/FwdMmaSync.h - the facts of the `fwd.mma_sync` kernel family
// (FlashAttention-2 structure: mma.sync m16n8k16, ldmatrix, cp.async; the
// device template is codegen/device/attnc/flash_fwd.cuh), written once:
// its tile space, head dims and shared-memory layout. The host descriptor
// (attn/Model/KernelFamily.h), the SRAM model and the device template's
// static_asserts all read these; nothing else restates them.
#pragma once

#include "attn/Kernel/Defs.h"

namespace attnc {
namespace fwd_mma_sync {

/// Head dims of Q/K (and V: this family needs them equal).
inline constexpr int kHeadDims[] = {32, 64, 96, 128, 192, 256};
inline constexpr int kBlockM[] = {64, 128};     // query rows per thread block (Br)
inline constexpr int kBlockN[] = {32, 64, 128}; // key rows per K/V block (Bc)
inline constexpr int kWarps[] = {4, 8};
inline constexpr int kStages[] = {1, 2}; // K/V buffers in shared memory

template <int N> ATTN_HD constexpr bool contains(const int (&list)[N], int x) {
  for (int i = 0; i < N; ++i)
    if (list[i] == x)
      return true;
  return false;
}

ATTN_HD constexpr bool supportsHeadDims(int headDim, int headDimV) {
  return contains(kHeadDims, headDim) && headDimV == headDim;
}

/// Each warp owns whole 16-row mma tiles of the query block.
ATTN_HD constexpr bool warpsOwnWholeTiles(int blockM, int warps) {
  return warps > 0 && blockM % (16 * warps) == 0;
}

ATTN_HD constexpr bool supportsTile(int blockM, int blockN, int warps,
                                    int stages) {
  return contains(kBlockM, blockM) && contains(kBlockN, blockN) &&
         contains(kWarps, warps) && contains(kStages, stages) &&
         warpsOwnWholeTiles(blockM, warps);
}

/// Shared memory in elements: the Q tile, then `stages` x (K block, V block),
/// swizzled, no padding.
ATTN_HD constexpr long long smemElements(int blockM, int blockN, int headDim,
                                         int headDimV, int stages) {
  return (long long)blockM * headDim +
         (long long)stages * blockN * (headDim + headDimV);
}

ATTN_HD constexpr long long smemBytes(int blockM, int blockN, int headDim,
                                      int headDimV, int stages,
                                      int elementBytes) {
  return smemElements(blockM, blockN, headDim, headDimV, stages) *
         elementBytes;
}

} // namespace fwd_mma_sync
} // namespace attnc
