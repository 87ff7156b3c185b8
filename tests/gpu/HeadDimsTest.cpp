//===- HeadDimsTest.cpp - any head dim, V head dim != Q/K head dim --------===//
//
// Head dims that are not tile widths (8, 40, 80, 160, 224: computed in the
// next width, loads zero-filled past the row, stores skipping the padding)
// and V head dims that differ from Q/K's (DeepSeek's 192/128, a V wider
// than Q/K, which stages more O than the Q tile holds). Rows are padded
// with NaN in the strided cases, so a read past a row's head dim shows,
// and the padding of O must keep its poison. Short query lengths take the
// split-KV decode family (its combine works in the tile width).
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

#include <tuple>

using namespace attnc;
using namespace attnc::gputest;

namespace {

SpecText dimSpec(const std::string &dtype, int d, int dv, bool causal) {
  SpecText s;
  s.name = std::string(causal ? "causal_" : "plain_") + dtype + "_d" +
           std::to_string(d) + "_dv" + std::to_string(dv);
  s.dtype = dtype;
  s.headDim = d;
  s.headDimV = dv;
  s.headsQ = "hq";
  s.headsKV = "hk";
  if (causal)
    s.scores.push_back("s = mask(s, causal)");
  return s;
}

Case dimCase(const std::string &label, int b, int hq, int hk, int n, int m) {
  Case c = makeCase(label, b, hq, n, m);
  c.headsKV = hk;
  return c;
}

// dtype, Q/K head dim, V head dim.
using DimsParam = std::tuple<std::string, int, int>;
class HeadDims : public GpuParamTest<DimsParam> {};

TEST_P(HeadDims, MatchReferenceAtEveryLength) {
  const std::string dtype = std::get<0>(GetParam());
  const int d = std::get<1>(GetParam()), dv = std::get<2>(GetParam());
  auto attns = compileSpecs(
      {dimSpec(dtype, d, dv, false).str(), dimSpec(dtype, d, dv, true).str()});
  ASSERT_TRUE(attns[0] && attns[1]);
  for (auto &a : attns) {
    EXPECT_EQ(a->info().headDim, d);
    EXPECT_EQ(a->info().headDimV, dv);
  }
  const std::string tag =
      dtype + "_d" + std::to_string(d) + "_dv" + std::to_string(dv);
  // n != m both ways, GQA 6:2, lengths 1, 17, 1000, 4096.
  EXPECT_TRUE(runCase(*attns[0], dimCase("plain_" + tag, 2, 6, 2, 1000, 17)));
  EXPECT_TRUE(runCase(*attns[0], dimCase("plain_n1_" + tag, 3, 6, 2, 1, 4096)));
  EXPECT_TRUE(runCase(*attns[0], dimCase("plain_n17_" + tag, 2, 4, 4, 17, 1000)));
  Outcome out;
  EXPECT_TRUE(runCase(*attns[1],
                      dimCase("causal_n>m_" + tag, 2, 6, 2, 1000, 17), &out));
  EXPECT_EQ(out.maskedRows, 2LL * 6 * (1000 - 17));
  EXPECT_TRUE(
      runCase(*attns[1], dimCase("causal_4k_" + tag, 1, 2, 1, 4096, 4096)));
  // Rows padded with NaN past the head dim (Q/K/V) and O's padding poisoned.
  Case padded = dimCase("padded_rows_" + tag, 2, 6, 2, 300, 1000);
  padded.q = padded.k = padded.v = padded.o = Layout::padded(8);
  EXPECT_TRUE(runCase(*attns[1], padded));
  Case bshd = dimCase("bshd_" + tag, 2, 4, 2, 129, 333);
  bshd.q = bshd.k = bshd.v = bshd.o = Layout::bshdLayout(8);
  EXPECT_TRUE(runCase(*attns[0], bshd));
}

INSTANTIATE_TEST_SUITE_P(
    Any, HeadDims,
    ::testing::Values(
        // Head dims between the tile widths, V equal.
        DimsParam{"bf16", 8, 8}, DimsParam{"f16", 40, 40},
        DimsParam{"bf16", 80, 80}, DimsParam{"bf16", 160, 160},
        DimsParam{"f16", 224, 224}, DimsParam{"f32", 40, 40},
        DimsParam{"f32", 80, 80},
        // V head dim != Q/K head dim.
        DimsParam{"bf16", 192, 128}, DimsParam{"f16", 128, 64},
        DimsParam{"bf16", 32, 256}, DimsParam{"bf16", 40, 120},
        DimsParam{"f16", 256, 32}, DimsParam{"f32", 64, 128}),
    [](const ::testing::TestParamInfo<DimsParam> &i) {
      return std::get<0>(i.param) + "_d" + std::to_string(std::get<1>(i.param)) +
             "_dv" + std::to_string(std::get<2>(i.param));
    });

} // namespace
