//===- Interval.h - interval arithmetic over the DSL's integers -*- C++ -*-===//
//
// The one definition of how attnc bounds the integer values of a score
// modifier or a where() predicate over a box of indices: b, h, q_idx and
// k_idx each in an inclusive range [lo, hi]. Every rule is sound for the
// semantics of attn/Kernel/IntMath.h (wrapping + - *, x / 0 == 0): the true
// value of an expression at every point of the box lies in its Range, and a
// condition that can be true (false) somewhere in the box has canTrue
// (canFalse) set. A rule that cannot bound a result returns full().
//
// Three users read the same rules:
//   - the CUDA emitter, to compute a value in 32 bits when its range over
//     the launch limits (attn/Model/KernelFamily.h) fits;
//   - generated device code (Spec::maskTile), to classify a (query block,
//     key block) tile of a where() mask as empty, full or partial;
//   - the host's IO model / --report, for the fraction of visible blocks.
//
// Plain C++ that NVRTC compiles as is: the runtime embeds this folder.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_KERNEL_INTERVAL_H
#define ATTN_KERNEL_INTERVAL_H

#include "attn/Kernel/IntMath.h"

namespace attn {
namespace interval {

constexpr Int64 kInt64Max = 9223372036854775807LL;

/// Every value in [lo, hi] (lo <= hi).
struct Range {
  Int64 lo, hi;
};

/// Whether a condition can be true / false somewhere in the box.
struct Truth {
  bool canTrue, canFalse;
};

ATTN_HD constexpr Range point(Int64 v) { return Range{v, v}; }
ATTN_HD constexpr Range span(Int64 lo, Int64 hi) { return Range{lo, hi}; }
ATTN_HD constexpr Range full() { return Range{kInt64Min, kInt64Max}; }
ATTN_HD constexpr bool isFull(Range a) {
  return a.lo == kInt64Min && a.hi == kInt64Max;
}
ATTN_HD constexpr bool fitsInt32(Range a) {
  return a.lo >= -2147483647LL - 1 && a.hi <= 2147483647LL;
}

ATTN_HD constexpr Truth known(bool v) { return Truth{v, !v}; }
ATTN_HD constexpr Truth unknown() { return Truth{true, true}; }

ATTN_HD constexpr Int64 min2(Int64 a, Int64 b) { return a < b ? a : b; }
ATTN_HD constexpr Int64 max2(Int64 a, Int64 b) { return a > b ? a : b; }
ATTN_HD constexpr Int64 min4(Int64 a, Int64 b, Int64 c, Int64 d) {
  return min2(min2(a, b), min2(c, d));
}
ATTN_HD constexpr Int64 max4(Int64 a, Int64 b, Int64 c, Int64 d) {
  return max2(max2(a, b), max2(c, d));
}

// Overflow tests for the bounds (the values themselves wrap; a bound that
// would overflow makes the range full()).
ATTN_HD constexpr bool addOverflows(Int64 a, Int64 b) {
  return (b > 0 && a > kInt64Max - b) || (b < 0 && a < kInt64Min - b);
}
ATTN_HD constexpr bool subOverflows(Int64 a, Int64 b) {
  return (b < 0 && a > kInt64Max + b) || (b > 0 && a < kInt64Min + b);
}
ATTN_HD constexpr Int64 absBound(Int64 a) { return a < 0 ? -(a + 1) : a; }
ATTN_HD constexpr Int64 absOf(Int64 a) { return a < 0 ? -a : a; }
/// a * b overflows; conservative (may say yes for a few that do not).
ATTN_HD constexpr bool mulOverflows(Int64 a, Int64 b) {
  return a != 0 && b != 0 &&
         (a == kInt64Min || b == kInt64Min ||
          absOf(a) > kInt64Max / absOf(b));
}

ATTN_HD constexpr Range add(Range a, Range b) {
  return addOverflows(a.lo, b.lo) || addOverflows(a.hi, b.hi)
             ? full()
             : Range{a.lo + b.lo, a.hi + b.hi};
}
ATTN_HD constexpr Range sub(Range a, Range b) {
  return subOverflows(a.lo, b.hi) || subOverflows(a.hi, b.lo)
             ? full()
             : Range{a.lo - b.hi, a.hi - b.lo};
}
ATTN_HD constexpr Range neg(Range a) { return sub(point(0), a); }
ATTN_HD constexpr Range mul(Range a, Range b) {
  return mulOverflows(a.lo, b.lo) || mulOverflows(a.lo, b.hi) ||
                 mulOverflows(a.hi, b.lo) || mulOverflows(a.hi, b.hi)
             ? full()
             : Range{min4(a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi),
                     max4(a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)};
}
ATTN_HD constexpr Range minOf(Range a, Range b) {
  return Range{min2(a.lo, b.lo), min2(a.hi, b.hi)};
}
ATTN_HD constexpr Range maxOf(Range a, Range b) {
  return Range{max2(a.lo, b.lo), max2(a.hi, b.hi)};
}
ATTN_HD constexpr Range hull(Range a, Range b) {
  return Range{min2(a.lo, b.lo), max2(a.hi, b.hi)};
}

/// A divisor range that excludes 0 and -1: then truncDiv / floorDiv are
/// monotone in each argument on the box, so the corners bound them.
ATTN_HD constexpr bool plainDivisor(Range b) { return b.lo > 0 || b.hi < -1; }

/// Both ranges non-negative, the divisor possibly 0 (x / 0 == 0): the
/// quotient and the remainder lie in [0, a.hi].
ATTN_HD constexpr bool nonNegativeDivision(Range a, Range b) {
  return a.lo >= 0 && b.lo >= 0;
}

ATTN_HD constexpr Range truncDiv(Range a, Range b) {
  return !plainDivisor(b) && nonNegativeDivision(a, b) ? Range{0, a.hi}
         : !plainDivisor(b)
             ? full()
             : Range{min4(a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi),
                     max4(a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi)};
}
ATTN_HD constexpr Range floorDiv(Range a, Range b) {
  return !plainDivisor(b) && nonNegativeDivision(a, b) ? Range{0, a.hi}
         : !plainDivisor(b)
             ? full()
             : Range{min4(attn::floorDiv(a.lo, b.lo), attn::floorDiv(a.lo, b.hi),
                          attn::floorDiv(a.hi, b.lo), attn::floorDiv(a.hi, b.hi)),
                     max4(attn::floorDiv(a.lo, b.lo), attn::floorDiv(a.lo, b.hi),
                          attn::floorDiv(a.hi, b.lo), attn::floorDiv(a.hi, b.hi))};
}

/// truncRem (the sign of a, |result| < |b|). Exact when b is one positive
/// constant and the whole range of a lies in one multiple of it.
ATTN_HD constexpr Range truncRem(Range a, Range b) {
  if (!plainDivisor(b))
    return nonNegativeDivision(a, b) ? Range{0, a.hi} : full();
  if (b.lo == b.hi && b.lo > 0 && a.lo >= 0 && a.lo / b.lo == a.hi / b.lo)
    return Range{a.lo % b.lo, a.hi % b.lo};
  if (b.lo == b.hi && b.lo > 0 && a.hi <= 0 && a.lo / b.lo == a.hi / b.lo)
    return Range{a.lo % b.lo, a.hi % b.lo};
  // |b| - 1 bounds the magnitude (b != INT64_MIN here would not matter:
  // absBound rounds toward the safe side).
  const Int64 m = max2(absBound(b.lo), absBound(b.hi));
  return Range{a.lo >= 0 ? 0 : max2(a.lo, -m), a.hi <= 0 ? 0 : min2(a.hi, m)};
}

ATTN_HD constexpr Range select(Truth c, Range a, Range b) {
  return c.canTrue && c.canFalse ? hull(a, b) : c.canTrue ? a : b;
}
ATTN_HD constexpr Truth select(Truth c, Truth a, Truth b) {
  return c.canTrue && c.canFalse
             ? Truth{a.canTrue || b.canTrue, a.canFalse || b.canFalse}
         : c.canTrue ? a
                     : b;
}

// Comparisons (signed).
ATTN_HD constexpr Truth lt(Range a, Range b) {
  return Truth{a.lo < b.hi, a.hi >= b.lo};
}
ATTN_HD constexpr Truth le(Range a, Range b) {
  return Truth{a.lo <= b.hi, a.hi > b.lo};
}
ATTN_HD constexpr Truth gt(Range a, Range b) { return lt(b, a); }
ATTN_HD constexpr Truth ge(Range a, Range b) { return le(b, a); }
ATTN_HD constexpr Truth eq(Range a, Range b) {
  return Truth{a.lo <= b.hi && b.lo <= a.hi,
               !(a.lo == a.hi && b.lo == b.hi && a.lo == b.lo)};
}
ATTN_HD constexpr Truth ne(Range a, Range b) {
  return Truth{eq(a, b).canFalse, eq(a, b).canTrue};
}

// Logic.
ATTN_HD constexpr Truth andOf(Truth a, Truth b) {
  return Truth{a.canTrue && b.canTrue, a.canFalse || b.canFalse};
}
ATTN_HD constexpr Truth orOf(Truth a, Truth b) {
  return Truth{a.canTrue || b.canTrue, a.canFalse && b.canFalse};
}
ATTN_HD constexpr Truth xorOf(Truth a, Truth b) {
  return Truth{(a.canTrue && b.canFalse) || (a.canFalse && b.canTrue),
               (a.canTrue && b.canTrue) || (a.canFalse && b.canFalse)};
}
ATTN_HD constexpr Truth notOf(Truth a) { return Truth{a.canFalse, a.canTrue}; }

/// What a where() predicate says of a whole tile.
enum TileClass : int {
  kTileNone = 0, // false everywhere: the tile is never loaded
  kTileAll = 1,  // true everywhere: no per-element test
  kTileSome = 2, // anything else: test every element
};
ATTN_HD constexpr int classify(Truth t) {
  return !t.canTrue ? kTileNone : !t.canFalse ? kTileAll : kTileSome;
}

} // namespace interval
} // namespace attn

#endif // ATTN_KERNEL_INTERVAL_H
