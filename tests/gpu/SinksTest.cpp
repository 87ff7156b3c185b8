//===- SinksTest.cpp - attention sinks (softmax(s, sink: x)) --------------===//
//
// A sink is one f32 logit per query head that joins every softmax
// denominator of the head (and its LSE) but attends to no value, as in
// gpt-oss. Against the float64 reference with the rule of docs/testing.md:
// - lengths 1, 17, 1000, 4096, n != m both ways, GQA, bf16/f16/f32,
//   head dims 64 and 128;
// - rows with no visible key (causal n > m, a window) give O = 0 exactly and
//   LSE = the head's sink exactly;
// - the split-KV decode family (its combine adds the sink once, not once
//   per split) and packed sequences;
// - sinks far above the scores (O near 0), far below (the plain softmax),
//   -inf (no sink), and with dropout;
// - a missing or misaligned sinks pointer is rejected by name before any
//   launch.
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

#include <cmath>
#include <limits>

using namespace attnc;
using namespace attnc::gputest;

namespace {

SpecText sinkSpec(const std::string &name, const std::string &dtype, int d,
                  std::vector<std::string> scores,
                  const std::string &dropout = "") {
  SpecText s;
  s.name = name;
  s.dtype = dtype;
  s.headDim = d;
  s.headsQ = "hq";
  s.headsKV = "hk";
  s.inputs = {"sinks: f32[hq]"};
  s.scores = std::move(scores);
  s.softmaxArgs = "sink: sinks";
  s.dropout = dropout;
  return s;
}

Case gqaCase(const std::string &label, int b, int hq, int hk, int n, int m) {
  Case c = makeCase(label, b, hq, n, m);
  c.headsKV = hk;
  return c;
}

class Sinks : public GpuParamTest<std::tuple<std::string, int>> {};

TEST_P(Sinks, MatchReference) {
  const std::string dtype = std::get<0>(GetParam());
  const int d = std::get<1>(GetParam());
  const std::string tag = dtype + "_d" + std::to_string(d);
  auto attns = compileSpecs(
      {sinkSpec("sinks_plain_" + tag, dtype, d, {}).str(),
       sinkSpec("sinks_causal_" + tag, dtype, d, {"s = mask(s, causal)"})
           .str(),
       sinkSpec("sinks_window_" + tag, dtype, d,
                {"s = mask(s, window(100, 0))"})
           .str()});
  ASSERT_TRUE(attns[0] && attns[1] && attns[2]);
  for (auto &a : attns)
    EXPECT_TRUE(a->info().sinks);
  Attention &plain = *attns[0], &causal = *attns[1], &window = *attns[2];

  EXPECT_TRUE(runCase(plain, gqaCase("plain_1000x17_" + tag, 2, 6, 2, 1000, 17)));
  EXPECT_TRUE(runCase(plain, gqaCase("plain_17x1000_" + tag, 2, 4, 4, 17, 1000)));
  EXPECT_TRUE(runCase(plain, gqaCase("plain_4k_" + tag, 1, 4, 2, 4096, 4096)));
  // Decode: split-KV, whose combine adds exp(sink) once over the splits.
  for (int n : {1, 4}) {
    Case dec = gqaCase("decode_n" + std::to_string(n) + "_" + tag, 3, 8, 2, n,
                       4096);
    RunReport report;
    dec.report = &report;
    EXPECT_TRUE(runCase(plain, dec));
    if (dtype != "f32") { // f32 has no split-KV kernel
      EXPECT_EQ(report.family, "fwd.split_kv") << dec.label;
      EXPECT_GT(report.splits, 1) << dec.label;
    }
  }
  // Causal with n > m: the first n - m rows of every head see no key.
  Outcome out;
  EXPECT_TRUE(runCase(causal, gqaCase("causal_n>m_" + tag, 2, 6, 2, 1000, 17),
                      &out));
  EXPECT_EQ(out.maskedRows, 2LL * 6 * (1000 - 17));
  EXPECT_TRUE(runCase(causal, gqaCase("causal_4k_" + tag, 1, 2, 1, 4096, 4096)));
  EXPECT_TRUE(runCase(window, gqaCase("window_" + tag, 2, 4, 2, 1500, 1200)));
}

INSTANTIATE_TEST_SUITE_P(
    Types, Sinks,
    ::testing::Values(std::tuple<std::string, int>{"bf16", 64},
                      std::tuple<std::string, int>{"f16", 128},
                      std::tuple<std::string, int>{"f32", 64}),
    [](const ::testing::TestParamInfo<std::tuple<std::string, int>> &i) {
      return std::get<0>(i.param) + "_d" + std::to_string(std::get<1>(i.param));
    });

class SinkValues : public GpuTest {};

TEST_F(SinkValues, ExtremeAndInfiniteSinks) {
  auto attns = compileSpecs(
      {sinkSpec("sinks_values", "bf16", 64, {}).str(),
       sinkSpec("sinks_values_causal", "bf16", 64, {"s = mask(s, causal)"})
           .str()});
  ASSERT_TRUE(attns[0] && attns[1]);
  const float inf = std::numeric_limits<float>::infinity();
  struct Values {
    const char *label;
    std::vector<float> sinks;
  };
  const Values values[] = {
      // Far above every score: the sink takes almost all probability.
      {"high", {30.f, 40.f, 25.f, 60.f}},
      // Far below: the plain softmax.
      {"low", {-1e4f, -300.f, -50.f, -1e30f}},
      // -inf: no sink at all (mixed with ordinary ones).
      {"minus_inf", {-inf, 0.5f, -inf, -2.f}},
  };
  for (const Values &v : values)
    for (int n : {1, 777}) {
      for (int which = 0; which < 2; ++which) {
        Case c = gqaCase(std::string(which ? "causal_" : "plain_") + v.label +
                             "_n" + std::to_string(n),
                         2, 4, 2, n, which ? 300 : 2000);
        c.sinks = v.sinks;
        EXPECT_TRUE(runCase(*attns[which], c));
      }
    }
  // The sink of a head with no visible key is its LSE, -inf included.
  Case masked = gqaCase("masked_rows_minus_inf", 1, 4, 2, 500, 100);
  masked.sinks = {-inf, 3.f, -inf, -7.5f};
  Outcome out;
  EXPECT_TRUE(runCase(*attns[1], masked, &out));
  EXPECT_EQ(out.maskedRows, 4LL * (500 - 100));
}

TEST_F(SinkValues, WithDropout) {
  auto attn = compileSpec(
      sinkSpec("sinks_dropout", "bf16", 64, {"s = mask(s, causal)"},
               "p = dropout(p, 0.1)")
          .str());
  ASSERT_TRUE(attn);
  Case c = gqaCase("dropout_sinks", 2, 4, 2, 600, 600);
  c.seed = 1234;
  Outcome out;
  EXPECT_TRUE(runCase(*attn, c, &out));
  EXPECT_GT(out.errNoDropout, 0.0) << "dropout had no effect";
}

TEST_F(SinkValues, PackedSequences) {
  const std::string text = "attention sinks_packed {\n"
                           "  qt: bf16[tq, 6, 64]\n"
                           "  kt: bf16[tk, 2, 64]\n"
                           "  vt: bf16[tk, 2, 64]\n"
                           "  cu_q: i32[b1]\n"
                           "  cu_k: i32[b1]\n"
                           "  sinks: f32[6]\n"
                           "  q = packed(qt, cu_q)\n"
                           "  k = packed(kt, cu_k)\n"
                           "  v = packed(vt, cu_k)\n"
                           "  s = matmul(q, k^T) * rsqrt(64)\n"
                           "  s = mask(s, causal)\n"
                           "  p = softmax(s, sink: sinks)\n"
                           "  o = matmul(p, v)\n"
                           "  return o, logsumexp\n"
                           "}\n";
  auto attn = compileSpec(text);
  ASSERT_TRUE(attn);
  EXPECT_TRUE(attn->info().sinks && attn->info().packed);
  Case c = makeCase("packed_sinks", 4, 6, 1, 1);
  c.headsKV = 2;
  c.inputSeed = 99;
  makePacked(c, {1, 300, 0, 1000}, {1, 300, 0, 1000});
  EXPECT_TRUE(runCase(*attn, c));
}

TEST_F(SinkValues, MissingOrMisalignedPointerIsRejected) {
  auto attn = compileSpec(sinkSpec("sinks_api", "bf16", 64, {}).str());
  ASSERT_TRUE(attn);
  std::vector<DeviceBuffer> bufs;
  RunArgs args;
  ASSERT_TRUE(smallRunArgs(1, 4, 2, 64, 64, {64}, bufs, args));
  Status st = attn->run(args);
  ASSERT_FALSE(st) << "run() accepted a spec with sinks and no sinks pointer";
  EXPECT_EQ(st.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(st.error().message().find("sinks"), std::string::npos)
      << st.error().str();
  args.sinks = reinterpret_cast<const float *>(
      static_cast<const char *>(bufs[5].data()) + 2);
  st = attn->run(args);
  ASSERT_FALSE(st) << "run() accepted a misaligned sinks pointer";
  EXPECT_NE(st.error().message().find("sinks"), std::string::npos)
      << st.error().str();
  args.sinks = static_cast<const float *>(bufs[5].data());
  EXPECT_TRUE(attn->run(args)) << "a valid run after the rejected ones";
  EXPECT_TRUE(synchronize());
}

} // namespace
