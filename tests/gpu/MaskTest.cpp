//===- MaskTest.cpp - every mask kind and score modifier on the GPU -------===//
//
// causal (n > m leaves rows without keys), window(left, right), lengths(...)
// (with an empty batch entry), blocks(...) (per-head and broadcast layouts,
// an all-zero block row, a layout larger than needed), where(...) over b, h,
// q_idx and k_idx, and score modifiers (soft-capping, position bias, a
// modifier that sends whole rows to -inf, a constant shift visible only in
// the LSE). Each case checks fully masked rows: O == 0 and LSE == -inf.
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

using namespace attnc;
using namespace attnc::gputest;

namespace {

class Masks : public GpuTest {};

const auto spec = makeSpec;

TEST_F(Masks, Window) {
  auto attns = compileSpecs(
      {spec("window_64_16", "bf16", 128, {}, {"s = mask(s, window(64, 16))"}).str(),
       spec("window_0_0", "f16", 64, {}, {"s = mask(s, window(0, 0))"}).str()});
  ASSERT_TRUE(attns[0] && attns[1]);
  EXPECT_TRUE(attns[0]->info().window);
  EXPECT_EQ(attns[0]->info().windowLeft, 64);
  EXPECT_EQ(attns[0]->info().windowRight, 16);
  EXPECT_TRUE(runCase(*attns[0], makeCase("window(64,16) n=m", 3, 5, 1000, 1000)));
  EXPECT_TRUE(runCase(*attns[0], makeCase("window(64,16) n<m", 3, 5, 17, 1000)));
  // n > m: rows i < n - m - right see no key.
  Outcome out;
  EXPECT_TRUE(runCase(*attns[0], makeCase("window(64,16) n>m", 3, 5, 1000, 128),
                      &out));
  EXPECT_EQ(out.maskedRows, 3LL * 5 * (1000 - 128 - 16));
  EXPECT_TRUE(runCase(*attns[1], makeCase("window(0,0) diagonal", 3, 5, 300, 300)));
  EXPECT_TRUE(runCase(*attns[1], makeCase("window(0,0) n<m", 2, 3, 128, 4096)));
}

TEST_F(Masks, KeyLengths) {
  auto attns = compileSpecs(
      {spec("lengths", "bf16", 64, {"kv_len: i32[b]"},
            {"s = mask(s, lengths(kv_len))"}).str(),
       spec("causal_lengths", "f16", 128, {"kv_len: i32[b]"},
            {"s = mask(s, causal, lengths(kv_len))"}).str()});
  ASSERT_TRUE(attns[0] && attns[1]);
  EXPECT_TRUE(attns[0]->info().keyPadding);
  // Entry 0 has no key: all its rows are fully masked.
  Case a = makeCase("lengths {0,1,777,1000}", 4, 5, 128, 1000);
  a.kvLengths = {0, 1, 777, 1000};
  Outcome out;
  EXPECT_TRUE(runCase(*attns[0], a, &out));
  EXPECT_EQ(out.maskedRows, 5LL * 128);
  Case b = makeCase("causal+lengths {0,500,1000}", 3, 5, 1000, 1000);
  b.kvLengths = {0, 500, 1000};
  EXPECT_TRUE(runCase(*attns[1], b, &out));
  EXPECT_EQ(out.maskedRows, 5LL * 1000);
  Case c = makeCase("causal+lengths n>m {17,1000}", 2, 3, 4096, 1000);
  c.kvLengths = {17, 1000};
  EXPECT_TRUE(runCase(*attns[1], c));
}

TEST_F(Masks, BlockSparse) {
  auto attns = compileSpecs(
      {spec("blocks_64", "f16", 64, {"layout: i8[h, qb, kb]"},
            {"s = mask(s, blocks(layout, 64, 64))"}).str(),
       spec("blocks_128_64", "bf16", 128, {"layout: i8[h, qb, kb]"},
            {"s = mask(s, blocks(layout, 128, 64))"}).str()});
  ASSERT_TRUE(attns[0] && attns[1]);
  EXPECT_TRUE(attns[0]->info().blockSparse);
  EXPECT_EQ(attns[1]->info().sparseBlockQ, 128);
  EXPECT_EQ(attns[1]->info().sparseBlockK, 64);

  auto layoutCase = [](const std::string &label, const Attention &attn,
                       int b, int h, int n, int m, int layoutHeads,
                       int extraQ, int extraK, int zeroRow) {
    Case c = makeCase(label, b, h, n, m);
    const KernelInfo &info = attn.info();
    const int qb = (int)((n + info.sparseBlockQ - 1) / info.sparseBlockQ);
    const int kb = (int)((m + info.sparseBlockK - 1) / info.sparseBlockK);
    c.layoutShape[0] = layoutHeads;
    c.layoutShape[1] = qb + extraQ;
    c.layoutShape[2] = kb + extraK;
    c.blockLayout = randomBlockLayout(layoutHeads, qb + extraQ, kb + extraK,
                                      0.5, zeroRow, c.inputSeed);
    return c;
  };
  Outcome out;
  // Per-head layout; block row 2 of head 0 is empty (64 fully masked rows
  // in each batch entry).
  EXPECT_TRUE(runCase(*attns[0],
                      layoutCase("blocks 64x64 per-head", *attns[0], 3, 5,
                                 1000, 1000, 5, 0, 0, 2),
                      &out));
  EXPECT_GE(out.maskedRows, 3LL * 64);
  // One layout for all heads, larger than needed.
  EXPECT_TRUE(runCase(*attns[0], layoutCase("blocks 64x64 broadcast+oversize",
                                            *attns[0], 3, 5, 1000, 1000, 1, 2,
                                            3, 1),
                      &out));
  EXPECT_GE(out.maskedRows, 3LL * 5 * 64);
  EXPECT_TRUE(runCase(*attns[1], layoutCase("blocks 128x64 n<m", *attns[1], 3,
                                            5, 300, 1000, 5, 0, 0, 0)));
  EXPECT_TRUE(runCase(*attns[1], layoutCase("blocks 128x64 n>m", *attns[1], 2,
                                            3, 1000, 300, 3, 0, 0, -1)));
}

// Several masks in one mask(...): the tiled op's block_skip lists each of
// them, the kernel skips by each (Spec::kSkip*), and the result is still the
// conjunction, element by element.
TEST_F(Masks, CombinedMasksSkipByEach) {
  auto attns = compileSpecs(
      {spec("causal_blocks_lengths", "f16", 64,
            {"layout: i8[h, qb, kb]", "kv_len: i32[b]"},
            {"s = mask(s, causal, blocks(layout, 128, 64), lengths(kv_len))"})
           .str(),
       spec("causal_window", "bf16", 128, {},
            {"s = mask(s, causal, window(200, 0))"})
           .str()});
  ASSERT_TRUE(attns[0] && attns[1]);
  EXPECT_EQ(attns[0]->info().blockSkip, "causal|lengths|sparse");
  EXPECT_EQ(attns[1]->info().blockSkip, "causal|window");
  for (auto [n, m] : {std::pair<int, int>{1000, 1000}, {300, 1000}, {1000, 300}}) {
    Case c = makeCase("causal+blocks+lengths n=" + std::to_string(n) +
                          " m=" + std::to_string(m),
                      3, 4, n, m);
    const int qb = (n + 127) / 128, kb = (m + 63) / 64;
    c.layoutShape[0] = 4;
    c.layoutShape[1] = qb;
    c.layoutShape[2] = kb;
    c.blockLayout = randomBlockLayout(4, qb, kb, 0.6, 1, c.inputSeed);
    c.kvLengths = {m, m / 2 + 3, 0};
    Outcome out;
    EXPECT_TRUE(runCase(*attns[0], c, &out));
    EXPECT_GE(out.maskedRows, 4LL * n); // the batch entry with no key
  }
  EXPECT_TRUE(runCase(*attns[1], makeCase("causal+window n=m", 2, 3, 1500, 1500)));
  EXPECT_TRUE(runCase(*attns[1], makeCase("causal+window n<m", 2, 3, 100, 1500)));
}

TEST_F(Masks, Where) {
  // Rows with q_idx % 7 == 3 are fully masked; the rest depend on b and h.
  std::shared_ptr<Attention> attn = compileSpec(
      spec("where_bh", "bf16", 64, {},
           {"s = mask(s, where((q_idx + 2 * k_idx + h) % 3 != b % 3 && "
            "q_idx % 7 != 3))"})
          .str());
  ASSERT_TRUE(attn);
  EXPECT_TRUE(attn->info().maskFn);
  Outcome out;
  EXPECT_TRUE(runCase(*attn, makeCase("where n=m", 3, 5, 1000, 1000), &out));
  EXPECT_EQ(out.maskedRows, 3LL * 5 * ((1000 + 3) / 7));
  EXPECT_TRUE(runCase(*attn, makeCase("where n<m", 1, 2, 17, 4096)));
}

TEST_F(Masks, ScoreModifiers) {
  auto attns = compileSpecs(
      {spec("softcap20", "f16", 64, {"cap = 20.0"},
            {"s = cap * tanh(s / cap)", "s = mask(s, causal)"}).str(),
       spec("bias", "bf16", 128, {},
            {"s = s + 0.25 * float(h) - 0.01 * abs(q_idx - k_idx) + "
             "0.1 * float(b)"}).str(),
       spec("row_minus_inf", "f16", 64, {},
            {"s = q_idx % 5 == 0 ? -inf : s", "s = mask(s, causal)"}).str(),
       spec("shift", "bf16", 64, {}, {"s = s + 1.5"}).str()});
  for (auto &a : attns)
    ASSERT_TRUE(a);
  for (auto &a : attns)
    EXPECT_TRUE(a->info().scoreMod) << a->info().specName;
  EXPECT_TRUE(runCase(*attns[0], makeCase("softcap(20)+causal", 3, 5, 1000, 1000)));
  EXPECT_TRUE(runCase(*attns[1], makeCase("bias(b,h,|i-j|)", 3, 5, 1000, 1000)));
  Outcome out;
  EXPECT_TRUE(runCase(*attns[2], makeCase("modifier -inf rows", 3, 5, 1000, 1000),
                      &out));
  EXPECT_EQ(out.maskedRows, 3LL * 5 * 200);
  EXPECT_TRUE(runCase(*attns[3], makeCase("shift +1.5 (LSE)", 3, 5, 128, 1000)));
}

} // namespace
