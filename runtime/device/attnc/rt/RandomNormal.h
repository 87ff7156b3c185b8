// attnc/rt/RandomNormal.h - standard normal inputs from a counter, on the
// device or the host.
//
// `attnc run --shape` and `attnc bench` fill their inputs on the device with
// the kernels of runtime/lib/RandomFill.cpp, which include this header
// (embedded, like the kernel contract); the host includes the same text to
// reproduce any element (tests, and the fake driver's pretend launch).
//
// The mapping (every element is a pure function of seed, stream, index, so
// the values do not depend on the launch geometry):
//   group   g = index >> 2  (four elements per Philox call)
//   counter = { lo32(g), hi32(g), stream, 0x4e524d4c ("NRML") }
//   key     = { lo32(seed), hi32(seed) }
//   words   = philox4x32_10(counter, key)
//   u_i     = ((word_i >> 8) + 0.5) * 2^-24, in (0, 1)
//   element 4g + 0, 4g + 1 = Box-Muller of (u_0, u_1):
//           r cos(2 pi u_1), r sin(2 pi u_1) with r = sqrt(-2 ln u_0)
//   element 4g + 2, 4g + 3 = the same of (u_2, u_3)
// in float, then rounded to nearest even to the element type.
// Compiles as CUDA (NVRTC) and as plain C++.
#pragma once

#include "attn/Kernel/Philox.h"

#if !defined(__CUDACC__) && !defined(__CUDACC_RTC__)
#include <cmath>
#endif

namespace attnc {
namespace rt {

/// Element types of the fill kernels (attnc_fill_normal_<suffix>).
enum FillElement : unsigned { kFillF32 = 0, kFillF16 = 1, kFillBF16 = 2 };

/// The argument block of attnc_fill_normal_{f32,f16,bf16}.
struct FillNormalParams {
  void *out;                // `count` elements of the kernel's type
  unsigned long long count; // elements
  unsigned long long seed;
  unsigned stream; // one per tensor, so q, k and v differ under one seed
  unsigned pad;
};

struct Normal4 {
  float v[4];
};

ATTN_HD float uniformOfWord(unsigned w) {
  return ((float)(w >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

ATTN_HD void boxMuller(float u0, float u1, float &a, float &b) {
#if defined(__CUDA_ARCH__)
  float r = sqrtf(-2.0f * logf(u0));
  float s, c;
  sincospif(2.0f * u1, &s, &c);
#else
  float r = std::sqrt(-2.0f * std::log(u0));
  float s = (float)std::sin(6.283185307179586 * (double)u1);
  float c = (float)std::cos(6.283185307179586 * (double)u1);
#endif
  a = r * c;
  b = r * s;
}

/// Elements 4g .. 4g+3 of (seed, stream).
ATTN_HD Normal4 normal4(unsigned long long seed, unsigned stream,
                        unsigned long long group) {
  PhiloxWords w =
      philox4x32_10((unsigned)group, (unsigned)(group >> 32), stream,
                    0x4e524d4cu, (unsigned)seed, (unsigned)(seed >> 32));
  Normal4 n;
  boxMuller(uniformOfWord(w.x), uniformOfWord(w.y), n.v[0], n.v[1]);
  boxMuller(uniformOfWord(w.z), uniformOfWord(w.w), n.v[2], n.v[3]);
  return n;
}

/// Element `index` of (seed, stream), before rounding to the element type.
ATTN_HD float normalAt(unsigned long long seed, unsigned stream,
                       unsigned long long index) {
  return normal4(seed, stream, index >> 2).v[index & 3];
}

} // namespace rt
} // namespace attnc
