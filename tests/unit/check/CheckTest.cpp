//===- CheckTest.cpp - the correctness rule itself ------------------------===//
//
// checkForward must pass an output that is the rounded float64 reference,
// fail one that is off by more than the bound, and insist on O == 0 and
// LSE == -inf for rows with no allowed key.
//
//===----------------------------------------------------------------------===//
#include "attnc/Check.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

using namespace attnc;

namespace {

struct Problem {
  ref::FwdProblem pr;
  std::vector<double> q, k, v;
};

Problem makeProblem(bool causal, int n, int m) {
  Problem p;
  p.pr.batch = 2, p.pr.headsQ = 4, p.pr.headsKV = 2;
  p.pr.seqQ = n, p.pr.seqK = m;
  p.pr.headDim = p.pr.headDimV = 32;
  p.pr.scale = 1.0 / std::sqrt(32.0);
  p.pr.causal = causal;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  auto fill = [&](std::vector<double> &x, size_t count) {
    x.resize(count);
    for (double &e : x)
      e = roundTo(ElementType::bf16, normal(rng));
  };
  fill(p.q, size_t(2 * 4 * n * 32));
  fill(p.k, size_t(2 * 2 * m * 32));
  fill(p.v, size_t(2 * 2 * m * 32));
  return p;
}

TEST(Check, RoundedReferencePasses) {
  Problem p = makeProblem(false, 33, 47);
  std::vector<double> o, lse;
  referenceForward(p.pr, p.q, p.k, p.v, o, lse);
  for (double &x : o)
    x = roundTo(ElementType::bf16, x);
  std::vector<float> lsef(lse.begin(), lse.end());
  CheckResult r = checkForward(p.pr, ElementType::bf16, p.q, p.k, p.v, o, &lsef);
  EXPECT_TRUE(r.ok) << r.summary();
  EXPECT_GT(r.boundO, 1e-5) << "bf16 naive chain must have a nonzero error";
  EXPECT_LE(r.errO, r.boundO);
}

TEST(Check, PerturbedOutputFails) {
  Problem p = makeProblem(false, 33, 47);
  std::vector<double> o, lse;
  referenceForward(p.pr, p.q, p.k, p.v, o, lse);
  std::vector<float> lsef(lse.begin(), lse.end());
  CheckResult good = checkForward(p.pr, ElementType::bf16, p.q, p.k, p.v, o, &lsef);
  o[17] += 3 * good.boundO;
  CheckResult bad = checkForward(p.pr, ElementType::bf16, p.q, p.k, p.v, o, &lsef);
  EXPECT_FALSE(bad.ok) << bad.summary();
  EXPECT_NEAR(bad.errO, 3 * good.boundO, 1e-12);
  o[17] = std::numeric_limits<double>::quiet_NaN(); // an unwritten element
  CheckResult nan = checkForward(p.pr, ElementType::bf16, p.q, p.k, p.v, o, &lsef);
  EXPECT_FALSE(nan.ok);
  EXPECT_EQ(nan.nonFinite, 1);
}

TEST(Check, FullyMaskedRowsMustBeZeroAndMinusInf) {
  // Causal with n > m: the first n - m query rows see no key.
  Problem p = makeProblem(true, 40, 25);
  std::vector<double> o, lse;
  referenceForward(p.pr, p.q, p.k, p.v, o, lse);
  std::vector<float> lsef(lse.begin(), lse.end());
  CheckResult r = checkForward(p.pr, ElementType::bf16, p.q, p.k, p.v, o, &lsef);
  EXPECT_TRUE(r.ok) << r.summary();
  EXPECT_EQ(r.maskedRows, 2 * 4 * 15);
  lsef[0] = 0.f; // a masked row must report -inf
  CheckResult bad = checkForward(p.pr, ElementType::bf16, p.q, p.k, p.v, o, &lsef);
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.badMaskedRows, 1);
}

TEST(Check, RoundToMatchesElementTypes) {
  EXPECT_EQ(roundTo(ElementType::f32, 1.0 + 1e-12), 1.0);
  EXPECT_EQ(roundTo(ElementType::bf16, 1.0 + 1.0 / 512), 1.0); // 8-bit mantissa
  EXPECT_EQ(roundTo(ElementType::f16, 1.0 + 1.0 / 4096), 1.0); // 11-bit mantissa
  EXPECT_EQ(roundTo(ElementType::f16, 1.0 + 1.0 / 512), 1.0 + 1.0 / 512);
}

} // namespace
