// attn/Kernel/Philox.h - counter-based random bits for attention dropout.
//
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11): a 128-bit counter and a 64-bit key give four 32-bit words.
// Compiles as CUDA (NVRTC or nvcc) and as plain C++ (g++), so the CPU
// reference and a backward pass can reproduce every dropout decision.
//
// The dropout mapping (the contract; the float64 reference, the device
// kernels and a backward pass all call the functions below). One Philox
// call gives 128 bits: 16 bits for each of 8 elements, the 8 elements one
// thread of an m16n8k16 mma holds in a 16x16 tile of S (rows g and g + 8,
// columns 2t, 2t + 1, 2t + 8, 2t + 9 of the tile), so the tensor-core kernel
// calls Philox once per 8 scores:
//   element (b, h, i, j)  - batch b, query head h, query row i, key column j
//   tile    = (i >> 4, j >> 4); lane = (i & 7) * 4 + ((j & 7) >> 1)
//   key     = { lo32(seed),  hi32(seed) ^ hi32(offset) }
//   counter = { (j >> 4) | lane << 26,  i >> 4,  (b << 16) | h,  lo32(offset) }
//   word    = philox4x32_10(counter, key)[((i >> 3) & 1) * 2 + ((j >> 3) & 1)]
//   bits    = (word >> (16 * (j & 1))) & 0xffff
//   keep    = bits >= dropoutThreshold(p), threshold = floor(p * 2^16)
//             computed in double (p == 0 keeps all, p == 1 drops all).
// Requires b, h < 2^16 and i, j < 2^30 (the launch limits of
// attn/Kernel/Params.h): the mapping is then injective. The kept values are
// scaled by 1 / (1 - p); the rate is p to within 2^-16.
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

/// The four words of the 16x16 tile (i >> 4, j >> 4) for the lane of
/// (i, j): rows i & ~8 and i | 8, columns j & ~9 and (j & ~9) + 8, pairs
/// of adjacent columns in the two halves of each word.
ATTN_HD PhiloxWords dropoutWords(unsigned long long seed,
                                 unsigned long long offset, int b, int h,
                                 int i, int j) {
  const unsigned lane = (((unsigned)i & 7u) << 2) | (((unsigned)j & 7u) >> 1);
  return philox4x32_10(((unsigned)j >> 4) | (lane << 26), (unsigned)i >> 4,
                       ((unsigned)b << 16) | ((unsigned)h & 0xffffu),
                       (unsigned)offset, (unsigned)seed,
                       (unsigned)(seed >> 32) ^ (unsigned)(offset >> 32));
}

/// The word of (i, j) among its tile lane's four.
ATTN_HD unsigned pickWord(const PhiloxWords &w, int i, int j) {
  switch ((((unsigned)i >> 3) & 1u) * 2 + (((unsigned)j >> 3) & 1u)) {
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

/// floor(p * 2^16): 16 random bits keep an element when bits >= threshold.
ATTN_HD unsigned dropoutThreshold(float p) {
  double t = (double)p * 65536.0;
  if (!(t > 0.0))
    return 0u;
  if (t >= 65536.0)
    return 65536u;
  return (unsigned)t;
}

/// The 16 bits of column parity `odd` in a word, kept or not.
ATTN_HD bool dropoutKeepBits(unsigned word, int odd, unsigned threshold) {
  return ((word >> (odd ? 16 : 0)) & 0xffffu) >= threshold;
}

/// The whole mapping for one element (slow path: one Philox call).
ATTN_HD bool dropoutKeep(unsigned long long seed, unsigned long long offset,
                         unsigned threshold, int b, int h, int i, int j) {
  return dropoutKeepBits(pickWord(dropoutWords(seed, offset, b, h, i, j), i, j),
                         j & 1, threshold);
}

} // namespace attnc
