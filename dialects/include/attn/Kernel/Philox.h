// attn/Kernel/Philox.h - counter-based random bits for attention dropout.
//
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11): a 128-bit counter and a 64-bit key give four 32-bit words.
// Compiles as CUDA (NVRTC or nvcc) and as plain C++ (g++), so the CPU
// reference and a backward pass can reproduce every dropout decision.
//
// The dropout mapping (the contract; the float64 reference, the device
// kernels and a backward pass all call the functions below):
//   element (b, h, i, j)  - batch b, query head h, query row i, key column j
//   key     = { lo32(seed),  hi32(seed) ^ hi32(offset) }
//   counter = { j >> 2,  i,  (b << 16) | h,  lo32(offset) }
//   word    = philox4x32_10(counter, key)[j & 3]
//   keep    = word >= dropoutThreshold(p) where threshold = floor(p * 2^32)
//             computed in double (p == 0 keeps all, p == 1 drops all).
// One Philox call serves four neighbouring keys of a row. Requires
// b < 2^16 and h < 2^16 (the mapping is injective under that bound).
#pragma once

#include "attn/Kernel/Defs.h"

namespace attnc {

struct PhiloxWords {
  unsigned x, y, z, w;
};

ATTN_HD void philoxMulHiLo(unsigned a, unsigned b,
                                            unsigned &hi, unsigned &lo) {
#if defined(__CUDA_ARCH__)
  lo = a * b;
  hi = __umulhi(a, b);
#else
  unsigned long long prod = (unsigned long long)a * (unsigned long long)b;
  lo = (unsigned)prod;
  hi = (unsigned)(prod >> 32);
#endif
}

/// Philox4x32 with 10 rounds. counter = (c0, c1, c2, c3), key = (k0, k1).
ATTN_HD PhiloxWords philox4x32_10(unsigned c0, unsigned c1,
                                                   unsigned c2, unsigned c3,
                                                   unsigned k0, unsigned k1) {
  const unsigned kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  const unsigned kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int round = 0; round < 10; ++round) {
    unsigned hi0, lo0, hi1, lo1;
    philoxMulHiLo(kMul0, c0, hi0, lo0);
    philoxMulHiLo(kMul1, c2, hi1, lo1);
    unsigned n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += kWeyl0; // the key schedule (bumping after the last round is unused)
    k1 += kWeyl1;
  }
  PhiloxWords out;
  out.x = c0;
  out.y = c1;
  out.z = c2;
  out.w = c3;
  return out;
}

/// The four words for keys j0 .. j0+3 (j0 = j & ~3) of row (b, h, i).
ATTN_HD PhiloxWords dropoutWords(unsigned long long seed,
                                                  unsigned long long offset,
                                                  int b, int h, int i, int j) {
  return philox4x32_10((unsigned)j >> 2, (unsigned)i,
                       ((unsigned)b << 16) | ((unsigned)h & 0xffffu),
                       (unsigned)offset, (unsigned)seed,
                       (unsigned)(seed >> 32) ^ (unsigned)(offset >> 32));
}

ATTN_HD unsigned pickWord(const PhiloxWords &w, int j) {
  switch (j & 3) {
  case 0:
    return w.x;
  case 1:
    return w.y;
  case 2:
    return w.z;
  default:
    return w.w;
  }
}

/// floor(p * 2^32): a word is kept when word >= threshold.
ATTN_HD unsigned long long dropoutThreshold(float p) {
  double t = (double)p * 4294967296.0;
  if (!(t > 0.0))
    return 0ull;
  if (t >= 4294967296.0)
    return 4294967296ull;
  return (unsigned long long)t;
}

ATTN_HD bool dropoutKeepWord(unsigned word,
                                              unsigned long long threshold) {
  return (unsigned long long)word >= threshold;
}

/// The whole mapping for one element (slow path: one Philox call).
ATTN_HD bool dropoutKeep(unsigned long long seed,
                                          unsigned long long offset,
                                          unsigned long long threshold, int b,
                                          int h, int i, int j) {
  return dropoutKeepWord(pickWord(dropoutWords(seed, offset, b, h, i, j), j),
                         threshold);
}

} // namespace attnc
