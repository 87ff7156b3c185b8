//===- IntMath.h - DSL integer arithmetic, host and device ------*- C++ -*-===//
//
// The one definition of the DSL's integer arithmetic. The CPU interpreter
// (the float64 reference) calls these functions, and the CUDA emitter writes
// calls to them into the generated kernel, so the reference and the kernel
// agree on every input, including those C++ leaves undefined:
//
//   floorDiv(a, b)  floor(a / b)             div(a, b) in the DSL
//   truncDiv(a, b)  a / b rounded to zero    (arith.divsi)
//   truncRem(a, b)  a - b * truncDiv(a, b)   a % b in the DSL: the sign of a
//   floorMod(a, b)  a - b * floorDiv(a, b)   the sign of b
//   wrapAdd/wrapSub/wrapMul/wrapNeg          two's complement, modulo 2^64
//
// Defined everywhere:
//   - a divisor of 0 gives 0, for quotients and remainders;
//   - INT64_MIN / -1 wraps to INT64_MIN (2^63 modulo 2^64), and its
//     remainder is 0, as for every other divisor of -1;
//   - + - * and negation wrap instead of overflowing.
// Sema rejects a divisor that is a constant zero, so 0 is only seen when a
// divisor computed from the indices is 0 at run time.
//
// Plain C++ that NVRTC compiles as is (no standard headers): the runtime
// embeds this folder, so kernels include it as "attn/Kernel/IntMath.h".
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_KERNEL_INTMATH_H
#define ATTN_KERNEL_INTMATH_H

#include "attn/Kernel/Defs.h"

namespace attn {

/// The DSL's integers: 64-bit, two's complement.
using Int64 = long long;
static_assert(sizeof(Int64) == 8, "the DSL's integers are 64-bit");

constexpr Int64 kInt64Min = -9223372036854775807LL - 1;

ATTN_HD constexpr Int64 wrapAdd(Int64 a, Int64 b) {
  return static_cast<Int64>(static_cast<unsigned long long>(a) +
                            static_cast<unsigned long long>(b));
}
ATTN_HD constexpr Int64 wrapSub(Int64 a, Int64 b) {
  return static_cast<Int64>(static_cast<unsigned long long>(a) -
                            static_cast<unsigned long long>(b));
}
ATTN_HD constexpr Int64 wrapMul(Int64 a, Int64 b) {
  return static_cast<Int64>(static_cast<unsigned long long>(a) *
                            static_cast<unsigned long long>(b));
}
ATTN_HD constexpr Int64 wrapNeg(Int64 a) { return wrapSub(0, a); }

/// a / b rounded toward zero; 0 when b == 0; INT64_MIN / -1 = INT64_MIN.
ATTN_HD constexpr Int64 truncDiv(Int64 a, Int64 b) {
  return b == 0 ? 0 : b == -1 ? wrapNeg(a) : a / b;
}

/// The remainder of truncDiv (the sign of a); 0 when b == 0 or b == -1.
ATTN_HD constexpr Int64 truncRem(Int64 a, Int64 b) {
  return b == 0 || b == -1 ? 0 : a % b;
}

/// floor(a / b); 0 when b == 0; INT64_MIN / -1 = INT64_MIN.
ATTN_HD constexpr Int64 floorDiv(Int64 a, Int64 b) {
  // One less than the truncated quotient when the division is inexact and
  // the signs differ (then the exact quotient is negative).
  return truncDiv(a, b) - (truncRem(a, b) != 0 && ((a < 0) != (b < 0)));
}

/// The remainder of floorDiv (the sign of b); 0 when b == 0 or b == -1.
ATTN_HD constexpr Int64 floorMod(Int64 a, Int64 b) {
  return truncRem(a, b) != 0 && ((a < 0) != (b < 0)) ? truncRem(a, b) + b
                                                     : truncRem(a, b);
}

} // namespace attn

#endif // ATTN_KERNEL_INTMATH_H
