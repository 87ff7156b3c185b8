//===- Half.cpp - fp16/bf16 <-> float on the host -------------------------===//
#include "attnc/Npy.h"

#include <cstring>

namespace attnc {

static uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

static float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) // inf / NaN
    return bitsFloat(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    if (mant == 0)
      return bitsFloat(sign);
    // Subnormal: value = mant * 2^-24.
    float v = float(mant) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  return bitsFloat(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t floatToHalf(float f) {
  uint32_t u = floatBits(f);
  uint16_t sign = uint16_t((u >> 16) & 0x8000);
  uint32_t absu = u & 0x7fffffffu;
  if (absu >= 0x7f800000u) // inf or NaN (keep NaN quiet and non-zero)
    return uint16_t(sign | 0x7c00 |
                    (absu > 0x7f800000u ? 0x200 | ((absu >> 13) & 0x3ff) : 0));
  if (absu >= 0x477ff000u) // rounds to >= 65520: overflow to inf
    return uint16_t(sign | 0x7c00);
  if (absu < 0x38800000u) { // below the smallest normal half (2^-14)
    if (absu < 0x33000000u) // below half the smallest subnormal: zero
      return sign;
    // Subnormal: value = mant * 2^(exp - 150) with the implicit 1 in mant,
    // and a half subnormal counts units of 2^-24, so the half mantissa is
    // mant * 2^(exp - 126) = mant >> (126 - exp), rounded to nearest even.
    uint32_t exp = absu >> 23;
    uint32_t mant = (absu & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - exp; // 14..24 in this range
    uint32_t q = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (q & 1)))
      ++q;
    return uint16_t(sign | q);
  }
  // Normal: rebias exponent, round mantissa from 23 to 10 bits (RNE).
  uint32_t v = absu - (112u << 23);
  uint32_t q = v >> 13;
  uint32_t rem = v & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (q & 1)))
    ++q; // may carry into the exponent, which is correct
  return uint16_t(sign | q);
}

float bf16ToFloat(uint16_t b) { return bitsFloat(uint32_t(b) << 16); }

uint16_t floatToBf16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) // NaN: keep it a (quiet) NaN
    return uint16_t((u >> 16) | 0x40);
  uint32_t rounding = 0x7fff + ((u >> 16) & 1);
  return uint16_t((u + rounding) >> 16);
}

} // namespace attnc
