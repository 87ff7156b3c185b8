//===- CheckTest.cpp - the correctness rule itself ------------------------===//
//
// checkForward must pass an output that is the rounded float64 reference,
// fail one that is off by more than the bound, and insist on O == 0 and
// LSE == -inf for rows with no allowed key.
//
//===----------------------------------------------------------------------===//
#include "attnc/Check.h"

#include <gtest/gtest.h>

#include <cmath>
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

/// Batch b of a dense [batch, heads, rows, d] tensor, its first `keep` rows.
std::vector<double> sliceBatch(const std::vector<double> &x, int b, int heads,
                               int rows, int keep, int d) {
  std::vector<double> out;
  for (int h = 0; h < heads; ++h)
    for (int j = 0; j < keep; ++j)
      for (int e = 0; e < d; ++e)
        out.push_back(x[size_t(((b * heads + h) * rows + j) * d + e)]);
  return out;
}

// Paged K/V: gatherPaged inverts a scatter through a shuffled table, and
// the reference with per-sequence lengths equals, sequence by sequence, the
// contiguous reference of just that sequence's keys (causal aligned at its
// own length).
TEST(Check, PagedReferenceIsEachSequenceOnItsOwn) {
  const int P = 16, maxPages = 3, m = P * maxPages, n = 5, hk = 2, d = 32;
  Problem p = makeProblem(true, n, m);
  const std::vector<int32_t> lens = {30, 3};
  const std::vector<int32_t> table = {4, 0, 2, 1, -7, 99}; // -7, 99: unused
  const int pages = 5;
  std::vector<double> kc(size_t(pages * P * hk * d), 1e9);
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < lens[b]; ++j)
      for (int h = 0; h < hk; ++h)
        for (int e = 0; e < d; ++e)
          kc[size_t(((table[b * maxPages + j / P] * P + j % P) * hk + h) * d + e)] =
              p.k[size_t(((b * hk + h) * m + j) * d + e)];
  std::vector<double> kl = gatherPaged(kc, P, hk, d, table, maxPages, lens);
  ASSERT_EQ(kl.size(), p.k.size());
  for (int b = 0; b < 2; ++b)
    for (int h = 0; h < hk; ++h)
      for (int j = 0; j < m; ++j)
        for (int e = 0; e < d; ++e) {
          const size_t i = size_t(((b * hk + h) * m + j) * d + e);
          ASSERT_EQ(kl[i], j < lens[b] ? p.k[i] : 0.0) << b << " " << j;
        }
  ref::FwdProblem paged = p.pr;
  paged.seqLensK.assign(lens.begin(), lens.end());
  std::vector<double> o, lse;
  referenceForward(paged, p.q, kl, p.v, o, lse);
  for (int b = 0; b < 2; ++b) {
    ref::FwdProblem one = p.pr;
    one.batch = 1;
    one.seqK = lens[b];
    auto slice = [&](const std::vector<double> &x, int heads, int rows,
                     int keep) { return sliceBatch(x, b, heads, rows, keep, d); };
    std::vector<double> o1, lse1;
    referenceForward(one, slice(p.q, 4, n, n), slice(p.k, hk, m, lens[b]),
                     slice(p.v, hk, m, lens[b]), o1, lse1);
    for (size_t r = 0; r < lse1.size(); ++r) {
      const size_t row = size_t(b) * lse1.size() + r;
      if (std::isinf(lse1[r])) {
        EXPECT_TRUE(std::isinf(lse[row])) << "row " << row;
      } else {
        EXPECT_NEAR(lse[row], lse1[r], 1e-12) << "row " << row;
      }
      for (int e = 0; e < d; ++e)
        EXPECT_NEAR(o[row * d + e], o1[r * d + e], 1e-12) << "row " << row;
    }
    if (b == 1) { // 3 keys for 5 queries: the first two see none
      EXPECT_TRUE(std::isinf(lse1[0]) && std::isinf(lse1[1]) &&
                  !std::isinf(lse1[2]));
    }
  }
}

// Packed sequences: the prefix-sum checks name the first bad entry;
// unpack/pack invert each other on the sequences' rows; the reference with
// per-sequence query and key lengths equals, sequence by sequence, the
// reference of just that sequence (causal aligned at its own lengths), and
// rows past a sequence's queries are empty (O = 0, LSE = -inf).
TEST(Check, PackedSequencesAreEachOnTheirOwn) {
  const std::vector<int32_t> good = {0, 3, 3, 10};
  EXPECT_FALSE(findPrefixSumProblem(good.data(), 3, 10));
  EXPECT_EQ(longestSequence(good.data(), 3), 7);
  const std::vector<int32_t> first = {2, 3, 5}, down = {0, 4, 3},
                             past = {0, 4, 11};
  PrefixSumProblem bad = findPrefixSumProblem(first.data(), 2, 10);
  EXPECT_EQ(bad.kind, PrefixSumProblem::First);
  bad = findPrefixSumProblem(down.data(), 2, 10);
  EXPECT_EQ(bad.kind, PrefixSumProblem::Decreasing);
  EXPECT_EQ(bad.index, 2);
  EXPECT_EQ(bad.value, 3);
  bad = findPrefixSumProblem(past.data(), 2, 10);
  EXPECT_EQ(bad.kind, PrefixSumProblem::PastEnd);
  EXPECT_EQ(bad.index, 2);

  const int n = 6, m = 9, d = 32, hq = 4, hk = 2;
  Problem p = makeProblem(true, n, m); // dense [2, h, n or m, d]
  const std::vector<int32_t> cuQ = {0, 6, 8}, cuK = {0, 4, 13};
  // Round trip: the rows of each sequence survive, the rest are zero.
  std::vector<double> qt = packSequences(p.q, hq, d, cuQ, n, 8 + 2);
  ASSERT_EQ(qt.size(), size_t(10 * hq * d));
  std::vector<double> qd = unpackSequences(qt, hq, d, cuQ, n);
  ASSERT_EQ(qd.size(), p.q.size());
  for (int b = 0; b < 2; ++b)
    for (int h = 0; h < hq; ++h)
      for (int i = 0; i < n; ++i)
        for (int e = 0; e < d; ++e) {
          const size_t x = size_t(((b * hq + h) * n + i) * d + e);
          ASSERT_EQ(qd[x], i < cuQ[b + 1] - cuQ[b] ? p.q[x] : 0.0);
        }
  EXPECT_EQ(sequenceLengths(cuK), (std::vector<int>{4, 9}));
  ref::FwdProblem packed = p.pr;
  packed.seqLensQ = sequenceLengths(cuQ);
  packed.seqLensK = sequenceLengths(cuK);
  std::vector<double> o, lse;
  referenceForward(packed, p.q, p.k, p.v, o, lse);
  for (int b = 0; b < 2; ++b) {
    const int nb = cuQ[b + 1] - cuQ[b], mb = cuK[b + 1] - cuK[b];
    ref::FwdProblem one = p.pr;
    one.batch = 1, one.seqQ = nb, one.seqK = mb;
    auto slice = [&](const std::vector<double> &x, int heads, int rows,
                     int keep) { return sliceBatch(x, b, heads, rows, keep, d); };
    std::vector<double> o1, lse1;
    referenceForward(one, slice(p.q, hq, n, nb), slice(p.k, hk, m, mb),
                     slice(p.v, hk, m, mb), o1, lse1);
    for (int h = 0; h < hq; ++h)
      for (int i = 0; i < n; ++i) {
        const size_t row = size_t((b * hq + h) * n + i);
        if (i >= nb) { // no such query
          EXPECT_TRUE(std::isinf(lse[row]) && lse[row] < 0) << "row " << row;
          for (int e = 0; e < d; ++e)
            EXPECT_EQ(o[row * d + e], 0.0);
          continue;
        }
        const size_t r1 = size_t(h * nb + i);
        if (std::isinf(lse1[r1]))
          EXPECT_TRUE(std::isinf(lse[row])) << "row " << row;
        else
          EXPECT_NEAR(lse[row], lse1[r1], 1e-12) << "row " << row;
        for (int e = 0; e < d; ++e)
          EXPECT_NEAR(o[row * d + e], o1[r1 * d + e], 1e-12) << "row " << row;
      }
  }
  // Sequence 0: 6 queries, 4 keys, causal at its own lengths: queries 0, 1
  // see no key.
  EXPECT_TRUE(std::isinf(lse[0]) && std::isinf(lse[1]) && !std::isinf(lse[2]));
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
