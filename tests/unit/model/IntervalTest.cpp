//===- IntervalTest.cpp - the interval rules are sound (and tight enough) -===//
//
// attn/Kernel/Interval.h bounds the DSL's integers over a box of indices;
// the kernel skips a tile when a where() predicate's bound says "false
// everywhere", so an unsound rule would drop visible scores. Every rule is
// checked against brute force: random small ranges, every point of the box
// evaluated with attn/Kernel/IntMath.h, the result inside the bound.
//
//===----------------------------------------------------------------------===//
#include "attn/Kernel/Interval.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace iv = attn::interval;
using attn::Int64;

namespace {

iv::Range randomRange(std::mt19937_64 &rng, Int64 lo, Int64 hi) {
  std::uniform_int_distribution<Int64> d(lo, hi);
  Int64 a = d(rng), b = d(rng);
  return a <= b ? iv::span(a, b) : iv::span(b, a);
}

bool inside(Int64 v, iv::Range r) { return r.lo <= v && v <= r.hi; }

/// Every value of f over the box lies in rule(a, b).
void checkRangeRule(const char *name,
                    const std::function<iv::Range(iv::Range, iv::Range)> &rule,
                    const std::function<Int64(Int64, Int64)> &f, Int64 lo,
                    Int64 hi) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 3000; ++trial) {
    iv::Range a = randomRange(rng, lo, hi), b = randomRange(rng, lo, hi);
    if (a.hi - a.lo > 40)
      a.hi = a.lo + 40;
    if (b.hi - b.lo > 40)
      b.hi = b.lo + 40;
    iv::Range r = rule(a, b);
    ASSERT_LE(r.lo, r.hi) << name;
    for (Int64 x = a.lo; x <= a.hi; ++x)
      for (Int64 y = b.lo; y <= b.hi; ++y)
        ASSERT_TRUE(inside(f(x, y), r))
            << name << "(" << x << ", " << y << ") = " << f(x, y)
            << " outside [" << r.lo << ", " << r.hi << "] for a [" << a.lo
            << ", " << a.hi << "], b [" << b.lo << ", " << b.hi << "]";
  }
}

void checkTruthRule(const char *name,
                    const std::function<iv::Truth(iv::Range, iv::Range)> &rule,
                    const std::function<bool(Int64, Int64)> &f) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 3000; ++trial) {
    iv::Range a = randomRange(rng, -30, 30), b = randomRange(rng, -30, 30);
    iv::Truth t = rule(a, b);
    bool anyTrue = false, anyFalse = false;
    for (Int64 x = a.lo; x <= a.hi; ++x)
      for (Int64 y = b.lo; y <= b.hi; ++y)
        (f(x, y) ? anyTrue : anyFalse) = true;
    // Sound: whatever happens is allowed; exact for comparisons.
    ASSERT_TRUE(!anyTrue || t.canTrue) << name;
    ASSERT_TRUE(!anyFalse || t.canFalse) << name;
    EXPECT_EQ(t.canTrue, anyTrue) << name << " is exact on ranges";
    EXPECT_EQ(t.canFalse, anyFalse) << name << " is exact on ranges";
  }
}

TEST(Interval, ArithmeticIsSound) {
  checkRangeRule("add", iv::add, attn::wrapAdd, -100, 100);
  checkRangeRule("sub", iv::sub, attn::wrapSub, -100, 100);
  checkRangeRule("mul", iv::mul, attn::wrapMul, -100, 100);
  checkRangeRule("minOf", iv::minOf, [](Int64 a, Int64 b) { return a < b ? a : b; }, -50, 50);
  checkRangeRule("maxOf", iv::maxOf, [](Int64 a, Int64 b) { return a > b ? a : b; }, -50, 50);
}

TEST(Interval, DivisionIsSoundIncludingZeroAndMinusOne) {
  // Divisor ranges around 0 and -1 (x / 0 == 0, the IntMath rule).
  checkRangeRule("truncDiv", iv::truncDiv, attn::truncDiv, -60, 60);
  checkRangeRule("floorDiv", iv::floorDiv, attn::floorDiv, -60, 60);
  checkRangeRule("truncRem", iv::truncRem, attn::truncRem, -60, 60);
  // Non-negative operands with a divisor that may be 0 stay bounded.
  checkRangeRule("floorDiv>=0", iv::floorDiv, attn::floorDiv, 0, 60);
  EXPECT_EQ(iv::floorDiv(iv::span(0, 100), iv::span(0, 7)).hi, 100);
}

TEST(Interval, OverflowGivesTheFullRange) {
  const Int64 big = iv::kInt64Max - 5;
  EXPECT_TRUE(iv::isFull(iv::add(iv::span(big, big + 3), iv::point(10))));
  EXPECT_TRUE(iv::isFull(iv::mul(iv::point(big), iv::point(2))));
  EXPECT_TRUE(iv::isFull(iv::sub(iv::point(attn::kInt64Min), iv::point(1))));
  EXPECT_TRUE(iv::isFull(iv::truncDiv(iv::point(attn::kInt64Min), iv::span(-1, -1))));
}

TEST(Interval, ComparisonsAreExact) {
  checkTruthRule("lt", iv::lt, [](Int64 a, Int64 b) { return a < b; });
  checkTruthRule("le", iv::le, [](Int64 a, Int64 b) { return a <= b; });
  checkTruthRule("gt", iv::gt, [](Int64 a, Int64 b) { return a > b; });
  checkTruthRule("ge", iv::ge, [](Int64 a, Int64 b) { return a >= b; });
  checkTruthRule("eq", iv::eq, [](Int64 a, Int64 b) { return a == b; });
  checkTruthRule("ne", iv::ne, [](Int64 a, Int64 b) { return a != b; });
}

TEST(Interval, LogicIsThreeValued) {
  const iv::Truth t = iv::known(true), f = iv::known(false), u = iv::unknown();
  EXPECT_EQ(iv::classify(iv::andOf(t, f)), iv::kTileNone);
  EXPECT_EQ(iv::classify(iv::orOf(f, t)), iv::kTileAll);
  EXPECT_EQ(iv::classify(iv::andOf(u, t)), iv::kTileSome);
  EXPECT_EQ(iv::classify(iv::orOf(u, t)), iv::kTileAll);
  EXPECT_EQ(iv::classify(iv::andOf(u, f)), iv::kTileNone);
  EXPECT_EQ(iv::classify(iv::notOf(t)), iv::kTileNone);
  EXPECT_EQ(iv::classify(iv::xorOf(t, t)), iv::kTileNone);
  EXPECT_EQ(iv::classify(iv::xorOf(u, t)), iv::kTileSome);
  EXPECT_EQ(iv::classify(iv::select(t, f, t)), iv::kTileNone);
  EXPECT_EQ(iv::classify(iv::select(u, f, t)), iv::kTileSome);
}

/// The document mask of the variants benchmark, tile by tile: the
/// classification is exact for tiles aligned with the documents, and
/// never says "none" or "all" wrongly for unaligned ones.
TEST(Interval, DocumentMaskTiles) {
  for (Int64 doc : {512, 100}) {
    for (Int64 q0 = 0; q0 < 2048; q0 += 128)
      for (Int64 k0 = 0; k0 < 2048; k0 += 64) {
        iv::Range q = iv::span(q0, q0 + 127), k = iv::span(k0, k0 + 63);
        int c = iv::classify(iv::eq(iv::floorDiv(q, iv::point(doc)),
                                    iv::floorDiv(k, iv::point(doc))));
        bool any = false, all = true;
        for (Int64 i = q.lo; i <= q.hi; ++i)
          for (Int64 j = k.lo; j <= k.hi; ++j) {
            bool v = attn::floorDiv(i, doc) == attn::floorDiv(j, doc);
            any |= v;
            all &= v;
          }
        if (c == iv::kTileNone)
          ASSERT_FALSE(any);
        if (c == iv::kTileAll)
          ASSERT_TRUE(all);
        if (doc == 512) // aligned: exact
          ASSERT_EQ(c, !any ? iv::kTileNone : all ? iv::kTileAll : iv::kTileSome);
      }
  }
}

TEST(Interval, LaunchLimitsFit32Bits) {
  // q_idx - k_idx and q_idx + c (|c| < 2^30) over the launch box.
  iv::Range q = iv::span(0, (1 << 30) - 1);
  EXPECT_TRUE(iv::fitsInt32(iv::sub(q, q)));
  EXPECT_TRUE(iv::fitsInt32(iv::add(q, iv::point(1000000))));
  EXPECT_FALSE(iv::fitsInt32(iv::mul(q, q)));
}

} // namespace
