// attnc/math.cuh - the hardware approximations that generated score
// modifiers and masks call when their ops carry fastmath<afn> (the
// attn-approximate-math pass; `--precise-math` keeps libdevice's forms).
//
//   fastTanh(x)   tanh.approx.f32 (sm_75+): max relative error about 2^-11,
//                 tanh(+-inf) = +-1, NaN stays NaN
//   fastExp2(x)   ex2.approx.ftz.f32 (attnc/tile.cuh, which the softmax
//                 uses too): max relative error about 2^-22, subnormal
//                 results flush to 0
//
// __expf, __logf, __log2f, __powf and __fdividef are CUDA's own intrinsics.
//
//   tableRead<T>(table, i...)   a table element (below), indices clamped
#pragma once

#include "attn/Kernel/Params.h"
#include "attn/Kernel/Tables.h"
#include "attnc/tile.cuh"

namespace attnc {

__device__ __forceinline__ float fastTanh(float x) {
  float y;
  asm("tanh.approx.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

/// Tables (attn.lookup: `rel[h, q_idx - k_idx]` in a modifier or mask).
/// Every index is clamped into [0, size) of its dimension first, so any
/// index expression reads inside the table; float elements are read as
/// f32, integer ones as int.
template <class I> __device__ __forceinline__ long long tableIndex(I i, int n) {
  return (long long)tables::clampIndex<I>(i, I(n)); // attn/Kernel/Tables.h
}
__device__ __forceinline__ float tableValue(float x) { return x; }
__device__ __forceinline__ float tableValue(__half x) { return __half2float(x); }
__device__ __forceinline__ float tableValue(__nv_bfloat16 x) {
  return __bfloat162float(x);
}
__device__ __forceinline__ int tableValue(int x) { return x; }
__device__ __forceinline__ int tableValue(signed char x) { return x; }

template <class T, class... I>
__device__ __forceinline__ auto tableRead(const TableParams &t, I... index) {
  static_assert(sizeof...(I) >= 1 && sizeof...(I) <= 4, "rank 1 to 4");
  long long offset = 0;
  int d = 0;
  ((offset += tableIndex(index, t.size[d]) * t.stride[d], ++d), ...);
  return tableValue(__ldg(static_cast<const T *>(t.data) + offset));
}

} // namespace attnc
