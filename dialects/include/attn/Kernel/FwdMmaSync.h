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

/// Tile widths of the head dims (Q/K and V each; they may differ). A head
/// dim that is a multiple of kHeadDimAlign up to the widest is computed in
/// the next tile width: its loads zero-fill the columns past it (the
/// user's rows are never read past their end) and its stores skip them.
inline constexpr int kHeadDims[] = {32, 64, 96, 128, 192, 256};
/// One 16-byte cp.async chunk of 16-bit elements: a head dim must be whole
/// chunks (f32 rows then are whole 4-element chunks too).
inline constexpr int kHeadDimAlign = 8;
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

/// The tile width a head dim is computed in (itself for a tile width), or
/// 0 when the family cannot take it.
ATTN_HD constexpr int tileHeadDim(int headDim) {
  if (headDim < kHeadDimAlign || headDim % kHeadDimAlign != 0)
    return 0;
  for (int w : kHeadDims)
    if (headDim <= w)
      return w;
  return 0;
}

ATTN_HD constexpr bool supportsHeadDims(int headDim, int headDimV) {
  return tileHeadDim(headDim) != 0 && tileHeadDim(headDimV) != 0;
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
/// swizzled, no padding, in the tile widths of the head dims. The epilogue
/// stages the O tile (blockM x dv) from the start of it, so with a V head
/// dim much wider than Q's the buffer is at least that.
ATTN_HD constexpr long long smemElements(int blockM, int blockN, int headDim,
                                         int headDimV, int stages) {
  const long long d = tileHeadDim(headDim), dv = tileHeadDim(headDimV);
  const long long buffers = blockM * d + stages * blockN * (d + dv);
  const long long oTile = blockM * dv;
  return buffers > oTile ? buffers : oTile;
}

ATTN_HD constexpr long long smemBytes(int blockM, int blockN, int headDim,
                                      int headDimV, int stages,
                                      int elementBytes) {
  return smemElements(blockM, blockN, headDim, headDimV, stages) *
         elementBytes;
}

} // namespace fwd_mma_sync
} // namespace attnc
