// attnc/tile.cuh - the tile vocabulary of the attnc forward kernels:
// element types, swizzled shared-memory tiles, cp.async loads, ldmatrix and
// the m16n8k16 tensor-core mma (sm_80 and later).
//
// Header-only, no std headers (NVRTC): only cuda_fp16.h / cuda_bf16.h.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace attnc {

template <class A, class B> struct IsSame {
  static constexpr bool value = false;
};
template <class A> struct IsSame<A, A> {
  static constexpr bool value = true;
};

__device__ __forceinline__ float negInf() { return __int_as_float(0xff800000); }

// ---------------------------------------------------------------------------
// Element types: conversion of two fp32 values into one 32-bit mma operand.
// ---------------------------------------------------------------------------
template <class T> struct ElementOps;

template <> struct ElementOps<__half> {
  static constexpr bool kTensorCore = true;
  __device__ __forceinline__ static unsigned pack(float lo, float hi) {
    __half2 h = __floats2half2_rn(lo, hi); // .x (low 16 bits) = lo
    return *reinterpret_cast<unsigned *>(&h);
  }
  __device__ __forceinline__ static __half fromFloat(float x) {
    return __float2half_rn(x);
  }
};

template <> struct ElementOps<__nv_bfloat16> {
  static constexpr bool kTensorCore = true;
  __device__ __forceinline__ static unsigned pack(float lo, float hi) {
    __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<unsigned *>(&h);
  }
  __device__ __forceinline__ static __nv_bfloat16 fromFloat(float x) {
    return __float2bfloat16_rn(x);
  }
};

template <> struct ElementOps<float> {
  static constexpr bool kTensorCore = false;
  __device__ __forceinline__ static float fromFloat(float x) { return x; }
};

// ---------------------------------------------------------------------------
// Swizzled shared tiles. A tile row holds kChunks 16-byte chunks; chunk c of
// row r lives at physical chunk c ^ swizzle(r). Eight consecutive rows then
// hit eight different 16-byte bank groups, so ldmatrix (8 rows x 16 bytes per
// phase) and the 16-byte cp.async stores are free of bank conflicts without
// padding (the SRAM model counts exactly rows * headDim elements).
//  - kChunks % 8 == 0 (row of 128 bytes or more): XOR the low 3 bits with r.
//  - kChunks % 8 == 4 (64- or 192-byte rows, head dims 32 and 96 in 16 bits):
//    rows r and r+2 share a bank window, so XOR the low 2 bits with r / 2;
//    the swizzle then stays inside each group of four chunks.
// ---------------------------------------------------------------------------
template <int kChunks> struct Swizzle {
  static_assert(kChunks % 4 == 0, "rows must be a multiple of 64 bytes");
  __device__ __forceinline__ static int mask(int row) {
    return kChunks % 8 == 0 ? (row & 7) : ((row >> 1) & 3);
  }
  __device__ __forceinline__ static int chunk(int row, int c) {
    return c ^ mask(row);
  }
};

/// Element offset of (row, chunk, element-in-chunk) in a swizzled tile whose
/// rows hold kCols elements of kElemBytes bytes.
template <int kCols, int kElemBytes> struct SmemTile {
  static constexpr int kPerChunk = 16 / kElemBytes;
  static constexpr int kChunks = kCols / kPerChunk;
  static_assert(kCols % kPerChunk == 0, "row must be whole 16-byte chunks");
  __device__ __forceinline__ static int offset(int row, int c) {
    return row * kCols + Swizzle<kChunks>::chunk(row, c) * kPerChunk;
  }
};

__device__ __forceinline__ unsigned smemAddr(const void *p) {
  return (unsigned)__cvta_generic_to_shared(p);
}

/// Per-lane ldmatrix addressing of a swizzled tile. The lane supplies the
/// address of row (rowOffset + laneRow), 16-byte chunk (2 * step + hi). Row
/// groups start at multiples of 8 rows, so the swizzle of the lane's row is a
/// per-lane constant m, and with S the swizzle span in bytes (128 or 64):
///   byteInRow = (32*step + 16*hi) ^ 16*m = ((32*step) % S ^ y) + (32*step / S) * S
/// where y = 16 * (hi ^ m) < S. So every step costs an immediate offset from
/// at most S/32 per-lane registers (no per-step swizzle arithmetic to hoist).
template <int kCols, int kElemBytes> struct LdsmLane {
  using Tile = SmemTile<kCols, kElemBytes>;
  static constexpr int kRowBytes = kCols * kElemBytes;
  static constexpr int kSpan = Tile::kChunks % 8 == 0 ? 128 : 64;
  unsigned base; // shared address of the lane's row, chunk 0
  int y;

  __device__ __forceinline__ void init(const void *tile, int laneRow, int hi) {
    base = smemAddr(tile) + laneRow * kRowBytes;
    y = (hi ^ Swizzle<Tile::kChunks>::mask(laneRow)) * 16;
  }
  /// rowOffset must be a multiple of 8; step and rowOffset compile-time.
  __device__ __forceinline__ unsigned addr(int rowOffset, int step) const {
    return base + rowOffset * kRowBytes + (((32 * step) % kSpan) ^ y) +
           (32 * step / kSpan) * kSpan;
  }
};

// ---------------------------------------------------------------------------
// cp.async: global -> shared, 16 bytes, zero-filled when !valid.
// ---------------------------------------------------------------------------
__device__ __forceinline__ void cpAsync16(unsigned smem, const void *gmem,
                                          bool valid) {
  // src-size 0 reads nothing and writes 16 zero bytes.
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem),
               "l"(gmem), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cpAsync16(void *smem, const void *gmem,
                                          bool valid) {
  cpAsync16(smemAddr(smem), gmem, valid);
}

__device__ __forceinline__ void cpAsyncCommit() {
  asm volatile("cp.async.commit_group;\n" ::);
}

template <int kPending> __device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

__device__ __forceinline__ void cpAsync16(unsigned smem, const void *gmem) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem),
               "l"(gmem));
}

/// Load rows [0, kRows) x kCols of a global tile (row stride `stride`
/// elements, head dim contiguous) into a swizzled shared tile with all
/// kThreads threads; rows >= validRows and columns >= kValidCols (a head
/// dim padded to the tile width; whole chunks) are zero-filled, never read.
template <int kRows, int kCols, int kThreads, int kValidCols = kCols, class T>
__device__ __forceinline__ void loadTileAsync(T *smem, const T *gmem,
                                              long long stride, int validRows,
                                              int tid) {
  using Tile = SmemTile<kCols, sizeof(T)>;
  constexpr int kChunks = Tile::kChunks;
  constexpr int kValidChunks = kValidCols / Tile::kPerChunk;
  static_assert(kValidCols % Tile::kPerChunk == 0 && kValidCols <= kCols,
                "valid columns are whole 16-byte chunks of the row");
  constexpr bool kPadded = kValidChunks < kChunks;
  constexpr int kTotal = kRows * kChunks;
  constexpr bool kRegular = kThreads % kChunks == 0 &&
                            (kThreads / kChunks) % 8 == 0 &&
                            kTotal % kThreads == 0;
  if constexpr (kRegular) {
    // Thread owns chunk c of rows row0 + it * kRowStep. kRowStep % 8 == 0,
    // so the swizzle of row0 holds for every it: the shared address advances
    // by a constant, the global one by kRowStep rows.
    constexpr int kRowStep = kThreads / kChunks, kIters = kTotal / kThreads;
    constexpr unsigned kDstStep = kRowStep * kCols * sizeof(T);
    const int row0 = tid / kChunks, c = tid % kChunks;
    const unsigned dst = smemAddr(smem + Tile::offset(row0, c));
    const long long step = kRowStep * stride;
    if (kPadded && c >= kValidChunks) { // a padding column: zeros
#pragma unroll
      for (int it = 0; it < kIters; ++it)
        cpAsync16(dst + it * kDstStep, gmem, false);
      return;
    }
    const T *src = gmem + row0 * stride + c * Tile::kPerChunk;
    if (validRows >= kRows) { // the common case: no row predicate
#pragma unroll
      for (int it = 0; it < kIters; ++it, src += step)
        cpAsync16(dst + it * kDstStep, src);
    } else {
#pragma unroll
      for (int it = 0; it < kIters; ++it) {
        const bool valid = row0 + it * kRowStep < validRows;
        cpAsync16(dst + it * kDstStep, valid ? src + it * step : gmem, valid);
      }
    }
  } else {
    constexpr int kIters = (kTotal + kThreads - 1) / kThreads;
#pragma unroll
    for (int it = 0; it < kIters; ++it) {
      int idx = tid + it * kThreads;
      if (kTotal % kThreads != 0 && idx >= kTotal)
        break;
      int row = idx / kChunks, c = idx % kChunks;
      bool valid = row < validRows && (!kPadded || c < kValidChunks);
      const T *src = valid ? gmem + row * stride + c * Tile::kPerChunk : gmem;
      cpAsync16(smem + Tile::offset(row, c), src, valid);
    }
  }
}

/// Programmatic dependent launch (sm_90+; no-ops before): a grid launched
/// as a dependent waits in gridDependencyWait() until the grid before it
/// has completed with its memory visible; a grid lets its dependents start
/// launching (their blocks then wait) with allowDependentLaunch().
__device__ __forceinline__ void gridDependencyWait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void allowDependentLaunch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

/// loadTileAsync for rows that are not evenly strided: rowPtr(r) is the
/// global address of row r < validRows (>= 1); rows past it and columns
/// past kValidCols are zero-filled.
template <int kRows, int kCols, int kThreads, int kValidCols = kCols, class T,
          class RowPtr>
__device__ __forceinline__ void loadRowsAsync(T *smem, int validRows, int tid,
                                              RowPtr &&rowPtr) {
  using Tile = SmemTile<kCols, sizeof(T)>;
  constexpr int kChunks = Tile::kChunks;
  constexpr int kValidChunks = kValidCols / Tile::kPerChunk;
  static_assert(kValidCols % Tile::kPerChunk == 0 && kValidCols <= kCols,
                "valid columns are whole 16-byte chunks of the row");
  constexpr int kTotal = kRows * kChunks;
  constexpr int kIters = (kTotal + kThreads - 1) / kThreads;
#pragma unroll
  for (int it = 0; it < kIters; ++it) {
    const int idx = tid + it * kThreads;
    if (kTotal % kThreads != 0 && idx >= kTotal)
      break;
    const int row = idx / kChunks, c = idx % kChunks;
    const bool valid = row < validRows && c < kValidChunks;
    // An invalid row reads nothing but still names a valid address (row 0:
    // the caller passes validRows >= 1).
    const T *src = rowPtr(valid ? row : 0) + (valid ? c * Tile::kPerChunk : 0);
    cpAsync16(smem + Tile::offset(row, c), src, valid);
  }
}

// ---------------------------------------------------------------------------
// ldmatrix and mma.sync m16n8k16 (fp32 accumulate).
// ---------------------------------------------------------------------------
__device__ __forceinline__ void ldmatrixX4(unsigned (&r)[4], unsigned addr) {
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
      : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
      : "r"(addr));
}

__device__ __forceinline__ void ldmatrixX4Trans(unsigned (&r)[4],
                                                unsigned addr) {
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, "
      "[%4];\n"
      : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
      : "r"(addr));
}

/// d += a * b for one 16x8 fp32 tile; a is 16x16 (row), b is 16x8 (col).
template <class T>
__device__ __forceinline__ void mma16816(float (&d)[4], const unsigned (&a)[4],
                                         unsigned b0, unsigned b1) {
  if constexpr (IsSame<T, __half>::value) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0),
                   "r"(b1));
  } else {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0),
                   "r"(b1));
  }
}

/// 2^x with the hardware approximation (MUFU.EX2); 2^-inf == +0.
__device__ __forceinline__ float fastExp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

/// Reductions across the four lanes of an mma quad (lanes 4g .. 4g+3 hold
/// the same two accumulator rows).
__device__ __forceinline__ float quadMax(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
  return x;
}
__device__ __forceinline__ float quadSum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  x += __shfl_xor_sync(0xffffffffu, x, 2);
  return x;
}

} // namespace attnc
