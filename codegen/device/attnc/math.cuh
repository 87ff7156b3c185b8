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
#pragma once

#include "attnc/tile.cuh"

namespace attnc {

__device__ __forceinline__ float fastTanh(float x) {
  float y;
  asm("tanh.approx.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

} // namespace attnc
