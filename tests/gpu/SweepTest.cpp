//===- SweepTest.cpp - head dims, element types, lengths, batch, GQA ------===//
//
// The shape sweep: every supported head dim in f16, bf16 and f32; sequence
// length pairs from {1, 17, 128, 1000, 4096} with n != m both ways; batch and
// head counts that are not powers of two; grouped-query attention.
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

#include <tuple>

using namespace attnc;
using namespace attnc::gputest;

namespace {

SpecText plainSpec(const std::string &dtype, int d, bool causal) {
  SpecText s;
  s.name = std::string(causal ? "causal_" : "plain_") + dtype + "_d" +
           std::to_string(d);
  s.dtype = dtype;
  s.headDim = d;
  if (causal)
    s.scores.push_back("s = mask(s, causal)");
  return s;
}

Case makeCase(const std::string &label, int b, int hq, int hk, int n, int m) {
  Case c;
  c.label = label;
  c.batch = b;
  c.headsQ = hq;
  c.headsKV = hk;
  c.seqQ = n;
  c.seqK = m;
  c.inputSeed = (uint64_t)b * 1000003 + hq * 10007 + hk * 101 + n * 7 + m;
  return c;
}

//===- Head dims x element types ------------------------------------------===//

using DimParam = std::tuple<std::string, int>; // dtype, head dim
class HeadDimTest : public GpuParamTest<DimParam> {};

TEST_P(HeadDimTest, PlainAndCausal) {
  const std::string dtype = std::get<0>(GetParam());
  const int d = std::get<1>(GetParam());
  auto attns = compileSpecs(
      {plainSpec(dtype, d, false).str(), plainSpec(dtype, d, true).str()});
  ASSERT_TRUE(attns[0] && attns[1]);
  for (auto &a : attns) {
    EXPECT_EQ(a->info().headDim, d);
    EXPECT_EQ(elementTypeName(a->info().element), dtype);
  }
  EXPECT_FALSE(attns[0]->info().causal);
  EXPECT_TRUE(attns[1]->info().causal);
  const std::string tag = dtype + "_d" + std::to_string(d);
  EXPECT_TRUE(runCase(*attns[0], makeCase("plain_" + tag, 3, 5, 5, 128, 1000)));
  // n > m, causal: the first n - m rows see no key.
  Outcome out;
  EXPECT_TRUE(runCase(*attns[1], makeCase("causal_n>m_" + tag, 3, 5, 5, 1000, 128),
                      &out));
  EXPECT_EQ(out.maskedRows, 3LL * 5 * (1000 - 128));
  EXPECT_TRUE(runCase(*attns[1], makeCase("causal_n<m_" + tag, 2, 3, 3, 17, 1000)));
}

INSTANTIATE_TEST_SUITE_P(
    Sweep, HeadDimTest,
    ::testing::Combine(::testing::Values("f16", "bf16", "f32"),
                       ::testing::Values(32, 64, 96, 128, 192, 256)),
    [](const ::testing::TestParamInfo<DimParam> &i) {
      return std::get<0>(i.param) + "_d" + std::to_string(std::get<1>(i.param));
    });

//===- Sequence lengths ----------------------------------------------------===//

using LenParam = std::tuple<int, int>; // n, m
class SeqLenTest : public GpuParamTest<LenParam> {};

TEST_P(SeqLenTest, PlainAndCausal) {
  const int n = std::get<0>(GetParam()), m = std::get<1>(GetParam());
  auto attns = compileSpecs(
      {plainSpec("bf16", 64, false).str(), plainSpec("f16", 128, true).str()});
  ASSERT_TRUE(attns[0] && attns[1]);
  // Long sequences with fewer heads to bound the CPU reference.
  const bool big = (long long)n * m > 1000000;
  const int b = big ? 1 : 3, h = big ? 2 : 5;
  const std::string tag = std::to_string(n) + "x" + std::to_string(m);
  EXPECT_TRUE(runCase(*attns[0], makeCase("plain_" + tag, b, h, h, n, m)));
  Outcome out;
  EXPECT_TRUE(
      runCase(*attns[1], makeCase("causal_" + tag, b, h, h, n, m), &out));
  EXPECT_EQ(out.maskedRows, (long long)b * h * std::max(0, n - m));
}

INSTANTIATE_TEST_SUITE_P(
    Sweep, SeqLenTest,
    ::testing::Values(LenParam{1, 1}, LenParam{1, 17}, LenParam{17, 1},
                      LenParam{1, 4096}, LenParam{4096, 1}, LenParam{17, 128},
                      LenParam{128, 17}, LenParam{128, 128},
                      LenParam{128, 1000}, LenParam{1000, 128},
                      LenParam{1000, 1000}, LenParam{17, 4096},
                      LenParam{4096, 17}, LenParam{1000, 4096},
                      LenParam{4096, 1000}, LenParam{4096, 4096}),
    [](const ::testing::TestParamInfo<LenParam> &i) {
      return "n" + std::to_string(std::get<0>(i.param)) + "_m" +
             std::to_string(std::get<1>(i.param));
    });

//===- Batch and heads -----------------------------------------------------===//

class BatchHeads : public GpuTest {};

TEST_F(BatchHeads, NotPowersOfTwo) {
  std::shared_ptr<Attention> attn =
      compileSpec(plainSpec("bf16", 64, false).str());
  ASSERT_TRUE(attn);
  EXPECT_TRUE(runCase(*attn, makeCase("b1_h1", 1, 1, 1, 333, 333)));
  EXPECT_TRUE(runCase(*attn, makeCase("b17_h13", 17, 13, 13, 65, 200)));
  EXPECT_TRUE(runCase(*attn, makeCase("b7_h3", 7, 3, 3, 129, 63)));
}

//===- Grouped-query attention ---------------------------------------------===//

using GqaParam = std::tuple<int, int>; // hq, hk
class GqaTest : public GpuParamTest<GqaParam> {};

TEST_P(GqaTest, SharedKeyValueHeads) {
  const int hq = std::get<0>(GetParam()), hk = std::get<1>(GetParam());
  SpecText causal = plainSpec("bf16", 128, true);
  causal.name = "gqa_causal";
  causal.headsQ = "hq";
  causal.headsKV = "hk";
  SpecText plain = plainSpec("f16", 64, false);
  plain.name = "gqa_plain";
  plain.headsQ = "hq";
  plain.headsKV = "hk";
  auto attns = compileSpecs({causal.str(), plain.str()});
  ASSERT_TRUE(attns[0] && attns[1]);
  const std::string tag =
      "hq" + std::to_string(hq) + "_hk" + std::to_string(hk);
  EXPECT_TRUE(runCase(*attns[0], makeCase("gqa_causal_" + tag, 3, hq, hk, 300, 1000)));
  EXPECT_TRUE(runCase(*attns[0], makeCase("gqa_causal_n>m_" + tag, 3, hq, hk, 1000, 300)));
  EXPECT_TRUE(runCase(*attns[1], makeCase("gqa_plain_" + tag, 3, hq, hk, 1000, 1000)));
}

INSTANTIATE_TEST_SUITE_P(Sweep, GqaTest,
                         ::testing::Values(GqaParam{6, 2}, GqaParam{8, 1},
                                           GqaParam{5, 5}),
                         [](const ::testing::TestParamInfo<GqaParam> &i) {
                           return "hq" + std::to_string(std::get<0>(i.param)) +
                                  "_hk" + std::to_string(std::get<1>(i.param));
                         });

} // namespace
