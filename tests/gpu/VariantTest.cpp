//===- VariantTest.cpp - the variants' fast paths against float64 ---------===//
//
// where() tile classification (Spec::maskTile, attn/Kernel/Interval.h):
// a where() mask that means the same as a built-in mask gives bit-identical
// outputs (the two classify tiles by different code), and adversarial
// predicates (always false, always true, one key per row, tiles the
// predicate does not align with, predicates the intervals cannot bound)
// pass the correctness rule. Score modifiers with the hardware
// approximations (default) and with --precise-math both pass the rule.
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

#include <cmath>
#include <cstring>

using namespace attnc;
using namespace attnc::gputest;

namespace {

class Variants : public GpuTest {};

SpecText spec(const std::string &name, const std::string &dtype, int d,
              std::vector<std::string> scores) {
  return makeSpec(name, dtype, d, {}, std::move(scores));
}

/// Runs both kernels on the same inputs; O and LSE must be equal bit for bit.
void expectIdentical(const Attention &a, const Attention &b, const Case &c) {
  Outcome oa, ob;
  ASSERT_TRUE(runCase(a, c, &oa));
  ASSERT_TRUE(runCase(b, c, &ob));
  ASSERT_EQ(oa.oBytes.size(), ob.oBytes.size());
  EXPECT_TRUE(oa.oBytes == ob.oBytes)
      << c.label << ": " << a.info().specName << " and " << b.info().specName
      << " differ in O";
  ASSERT_EQ(oa.lse.size(), ob.lse.size());
  long long lseDiff = 0;
  for (size_t i = 0; i < oa.lse.size(); ++i)
    lseDiff += std::memcmp(&oa.lse[i], &ob.lse[i], sizeof(float)) != 0;
  EXPECT_EQ(lseDiff, 0) << c.label << ": LSE differs";
  EXPECT_EQ(oa.maskedRows, ob.maskedRows);
}

TEST_F(Variants, WhereClassifiesLikeBuiltinMasks) {
  auto attns = compileSpecs(
      {spec("where_causal", "bf16", 128, {"s = mask(s, where(k_idx <= q_idx))"}).str(),
       spec("builtin_causal", "bf16", 128, {"s = mask(s, causal)"}).str(),
       spec("where_window", "f16", 64,
            {"s = mask(s, where(k_idx <= q_idx && q_idx - k_idx <= 200))"}).str(),
       spec("builtin_window", "f16", 64, {"s = mask(s, window(200, 0))"}).str()});
  for (auto &a : attns)
    ASSERT_TRUE(a);
  EXPECT_EQ(attns[0]->info().blockSkip, "where");
  EXPECT_EQ(attns[2]->info().blockSkip, "where");
  for (int n : {1, 17, 1000, 2048})
    expectIdentical(*attns[0], *attns[1],
                    makeCase("where causal == causal n=" + std::to_string(n), 2, 3, n, n));
  for (int n : {300, 1500})
    expectIdentical(*attns[2], *attns[3],
                    makeCase("where window == window n=" + std::to_string(n), 2, 3, n, n));
}

TEST_F(Variants, AdversarialWherePredicates) {
  auto attns = compileSpecs(
      {spec("never", "bf16", 64, {"s = mask(s, where(q_idx < 0))"}).str(),
       spec("always", "bf16", 64, {"s = mask(s, where(q_idx >= 0 || k_idx >= 0))"}).str(),
       spec("diagonal", "f16", 64, {"s = mask(s, where(k_idx == q_idx))"}).str(),
       spec("document100", "bf16", 128,
            {"s = mask(s, where(div(q_idx, 100) == div(k_idx, 100)))"}).str(),
       spec("document512", "bf16", 128,
            {"s = mask(s, where(div(q_idx, 512) == div(k_idx, 512)))"}).str(),
       spec("prefix_lm", "bf16", 128,
            {"s = mask(s, where(k_idx <= q_idx || k_idx < 300))"}).str(),
       spec("stripes", "f16", 64, {"s = mask(s, where(q_idx % 3 == k_idx % 3))"}).str(),
       spec("by_head", "bf16", 64,
            {"s = mask(s, where(h % 2 == 0 || k_idx > q_idx + 5))"}).str()});
  for (auto &a : attns)
    ASSERT_TRUE(a);
  Outcome out;
  EXPECT_TRUE(runCase(*attns[0], makeCase("never n=m", 2, 3, 700, 700), &out));
  EXPECT_EQ(out.maskedRows, 2LL * 3 * 700);
  EXPECT_TRUE(runCase(*attns[1], makeCase("always n<m", 2, 3, 300, 1000), &out));
  EXPECT_EQ(out.maskedRows, 0);
  EXPECT_TRUE(runCase(*attns[2], makeCase("one key per row", 2, 3, 1000, 1000), &out));
  EXPECT_EQ(out.maskedRows, 0);
  EXPECT_TRUE(runCase(*attns[2], makeCase("one key per row n>m", 1, 2, 1000, 300), &out));
  EXPECT_EQ(out.maskedRows, 1LL * 2 * (1000 - 300));
  for (int n : {1000, 4096}) {
    EXPECT_TRUE(runCase(*attns[3], makeCase("document(100) unaligned n=" + std::to_string(n),
                                            1, 4, n, n)));
    EXPECT_TRUE(runCase(*attns[4], makeCase("document(512) n=" + std::to_string(n), 1, 4, n, n)));
    EXPECT_TRUE(runCase(*attns[5], makeCase("prefix-LM n=" + std::to_string(n), 1, 4, n, n)));
  }
  EXPECT_TRUE(runCase(*attns[4], makeCase("document(512) n<m", 1, 2, 700, 3000)));
  EXPECT_TRUE(runCase(*attns[6], makeCase("stripes (unbounded)", 2, 3, 1000, 1000)));
  EXPECT_TRUE(runCase(*attns[7], makeCase("by head", 2, 4, 1000, 1000), &out));
  // Odd heads: rows whose keys all lie at or below q_idx + 5 are masked.
  EXPECT_GT(out.maskedRows, 0);
}

TEST_F(Variants, ApproximateAndPreciseMathBothPass) {
  CompileOptions precise;
  precise.preciseMath = true;
  struct Mod {
    const char *name;
    std::vector<std::string> scores;
  } mods[] = {
      {"softcap", {"s = 30.0 * tanh(s / 30.0)", "s = mask(s, causal)"}},
      {"alibi", {"s = s - alibi_slope(h, 16) * abs(q_idx - k_idx)"}},
      {"sigmoid_log", {"s = log(1.0 + sigmoid(s)) * 4.0 - exp(s / 8.0)"}},
  };
  for (const Mod &m : mods) {
    std::string text = spec(m.name, "bf16", 128, m.scores).str();
    std::shared_ptr<Attention> fast = compileSpec(text);
    std::shared_ptr<Attention> exact = compileSpec(text, "<spec>", precise);
    ASSERT_TRUE(fast && exact);
    EXPECT_EQ(fast->cudaSource().find("tanhf("), std::string::npos);
    EXPECT_NE(fast->cudaSource(), exact->cudaSource());
    for (auto [n, mm] : {std::pair<int, int>{1000, 1000}, {300, 1500}}) {
      Case c = makeCase(std::string(m.name) + " n=" + std::to_string(n) +
                            " m=" + std::to_string(mm),
                        2, 16, n, mm);
      Outcome of, oe;
      EXPECT_TRUE(runCase(*fast, c, &of));
      c.label += " (precise)";
      EXPECT_TRUE(runCase(*exact, c, &oe));
      report(c.label, "err_fast_over_precise", of.errO / std::max(oe.errO, 1e-30));
    }
  }
}

// sin, cos, tan, atan and erf in a modifier (FlexAttention's test
// modifier sin(cos(score)) + tan(b), and more), against float64.
TEST_F(Variants, TrigonometricModifiers) {
  auto attns = compileSpecs(
      {spec("trig", "bf16", 64,
            {"s = sin(cos(s)) + tan(float(b)) + atan(s) + erf(s / 4.0)"}).str(),
       spec("trig_causal", "f16", 128,
            {"s = s + 0.5 * sin(0.01 * float(q_idx - k_idx))", "s = mask(s, causal)"})
           .str()});
  for (auto &a : attns)
    ASSERT_TRUE(a);
  EXPECT_TRUE(runCase(*attns[0], makeCase("sin(cos(s)) + tan(b) + ...", 3, 4, 700, 1000)));
  EXPECT_TRUE(runCase(*attns[1], makeCase("sin position bias + causal", 2, 4, 1000, 1000)));
}

} // namespace
