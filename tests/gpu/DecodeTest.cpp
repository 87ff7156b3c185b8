//===- DecodeTest.cpp - the split-KV decode family against float64 --------===//
//
// Family fwd.split_kv (attn/Kernel/FwdSplitKv.h): GQA-packed rows and the
// key range split across thread blocks, then combined. Checked with the
// correctness rule of docs/testing.md:
// - run() dispatches query lengths 1..16 (f16/bf16) to it and 17 to the
//   prefill family; the launch report says which kernel ran and how many
//   splits (long key ranges must split);
// - N in {1, 2, 7, 16} x M in {1, 100, 4097, 65536}, GQA 4:1;
// - every mask kind and a head-dependent where(), soft-capping, ALiBi and
//   dropout (the same Philox mask as the prefill kernel), with fully masked
//   rows (causal n > m, an empty key length) giving O = 0 and LSE = -inf;
// - the family forced on prefill shapes (packed rows spanning queries,
//   group sizes that do not divide a tile, several row blocks);
// - f32 stays on the prefill kernel; repeated runs are bit-identical.
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

#include <cstring>

using namespace attnc;
using namespace attnc::gputest;

namespace {

class Decode : public GpuTest {};

constexpr const char *kSplitKv = "fwd.split_kv";
constexpr const char *kMmaSync = "fwd.mma_sync";

/// A spec with separate query and K/V head counts (GQA).
SpecText gqaSpec(const std::string &name, const std::string &dtype, int d,
                 std::vector<std::string> inputs,
                 std::vector<std::string> scores) {
  SpecText s = makeSpec(name, dtype, d, std::move(inputs), std::move(scores));
  s.headsQ = "hq";
  s.headsKV = "hk";
  return s;
}

Case gqaCase(const std::string &label, int b, int hq, int hk, int n, int m) {
  Case c = makeCase(label, b, hq, n, m);
  c.headsKV = hk;
  c.inputSeed = 977 + 131 * n + m + hq * 7 + hk;
  return c;
}

std::string sizes(int n, int m) {
  return "n=" + std::to_string(n) + " m=" + std::to_string(m);
}

TEST_F(Decode, DispatchesShortQueriesAndSplitsLongKeys) {
  auto attn = compileSpec(
      gqaSpec("decode_causal", "bf16", 128, {}, {"s = mask(s, causal)"}).str());
  ASSERT_TRUE(attn);
  EXPECT_EQ(attn->info().family, kMmaSync);
  for (int n : {1, 2, 7, 16})
    for (int m : {1, 100, 4097}) {
      RunReport r;
      Case c = gqaCase("causal GQA 8:2 " + sizes(n, m), 2, 8, 2, n, m);
      c.report = &r;
      ASSERT_TRUE(runCase(*attn, c));
      EXPECT_EQ(r.family, kSplitKv) << c.label;
      if (m == 4097)
        EXPECT_GT(r.splits, 1) << c.label << ": a long key range must split";
      report(c.label, "splits", r.splits);
    }
  {
    RunReport r;
    Case c = gqaCase("causal GQA 8:2 n=1 m=65536", 1, 8, 2, 1, 65536);
    c.report = &r;
    ASSERT_TRUE(runCase(*attn, c));
    EXPECT_EQ(r.family, kSplitKv);
    EXPECT_GT(r.splits, 8);
    EXPECT_GT(r.workspaceBytes, 0);
    report(c.label, "splits", r.splits);
  }
  {
    RunReport r;
    Case c = gqaCase("causal GQA 8:2 n=17 (prefill)", 2, 8, 2, 17, 4097);
    c.report = &r;
    ASSERT_TRUE(runCase(*attn, c));
    EXPECT_EQ(r.family, kMmaSync) << "17 queries are past the decode limit";
  }
}

TEST_F(Decode, EveryMaskAndModifier) {
  auto attns = compileSpecs({
      gqaSpec("d_window", "f16", 64, {}, {"s = mask(s, window(100, 3))"}).str(),
      gqaSpec("d_lengths", "bf16", 128, {"kv_len: i32[b]"},
              {"s = mask(s, causal, lengths(kv_len))"}).str(),
      gqaSpec("d_where_h", "bf16", 128, {},
              {"s = mask(s, where((k_idx + 3 * h) % 5 != 0))"}).str(),
      gqaSpec("d_softcap", "bf16", 128, {},
              {"s = 30 * tanh(s / 30)", "s = mask(s, causal)"}).str(),
      gqaSpec("d_alibi", "f16", 128, {},
              {"s = s - alibi_slope(h, 8) * abs(q_idx - k_idx)"}).str(),
      gqaSpec("d_blocks", "bf16", 64, {"layout: i8[hq, qb, kb]"},
              {"s = mask(s, blocks(layout, 64, 64))"}).str(),
  });
  for (auto &a : attns)
    ASSERT_TRUE(a);
  for (int n : {1, 7}) {
    const int m = 3000;
    for (int i : {0, 2, 3, 4}) {
      RunReport r;
      Case c = gqaCase(attns[i]->info().specName + " " + sizes(n, m), 2, 8, 2,
                       n, m);
      c.report = &r;
      ASSERT_TRUE(runCase(*attns[i], c));
      EXPECT_EQ(r.family, kSplitKv) << c.label;
      EXPECT_GT(r.splits, 1) << c.label;
    }
    // Key lengths {0, 1, 2999}: batch 0 has no keys (O = 0, LSE = -inf).
    {
      RunReport r;
      Case c = gqaCase("d_lengths {0,1,2999} " + sizes(n, m), 3, 8, 2, n, m);
      c.kvLengths = {0, 1, 2999};
      c.report = &r;
      Outcome out;
      ASSERT_TRUE(runCase(*attns[1], c, &out));
      EXPECT_EQ(r.family, kSplitKv);
      EXPECT_GE(out.maskedRows, 8LL * n) << "batch 0 is fully masked";
    }
    // Block-sparse, one layout per query head (so the packed rows of one
    // tile read different layouts).
    {
      RunReport r;
      Case c = gqaCase("d_blocks per-head " + sizes(n, m), 2, 8, 2, n, m);
      const int qb = (n + 63) / 64, kb = (m + 63) / 64;
      c.blockLayout = randomBlockLayout(8, qb, kb, 0.5, -1, 7 + n);
      c.layoutShape[0] = 8;
      c.layoutShape[1] = qb;
      c.layoutShape[2] = kb;
      c.report = &r;
      ASSERT_TRUE(runCase(*attns[5], c));
      EXPECT_EQ(r.family, kSplitKv);
    }
  }
  // Causal with n > m: the first n - m query rows see no key.
  {
    RunReport r;
    Case c = gqaCase("d_softcap causal n=16 m=5", 2, 8, 2, 16, 5);
    c.report = &r;
    Outcome out;
    ASSERT_TRUE(runCase(*attns[3], c, &out));
    EXPECT_EQ(r.family, kSplitKv);
    EXPECT_EQ(out.maskedRows, 2LL * 8 * 11);
  }
}

TEST_F(Decode, DropoutMatchesPhilox) {
  SpecText s = gqaSpec("d_dropout", "bf16", 128, {"seed: i64", "offset: i64"},
                       {"s = mask(s, causal)"});
  s.dropout = "p = dropout(p, 0.1, seed, offset)";
  auto attn = compileSpec(s.str());
  ASSERT_TRUE(attn);
  for (int n : {1, 16}) {
    RunReport r;
    Case c = gqaCase("dropout(0.1) causal " + sizes(n, 3001), 2, 8, 2, n, 3001);
    c.seed = 0x1234567890abcdefull;
    c.offset = 77;
    c.report = &r;
    Outcome out;
    ASSERT_TRUE(runCase(*attn, c, &out));
    EXPECT_EQ(r.family, kSplitKv);
    EXPECT_GT(r.splits, 1);
    EXPECT_GT(out.errNoDropout, 10 * out.boundO) << "the output looks undropped";
  }
}

TEST_F(Decode, ForcedOnPrefillShapes) {
  CompileOptions opts;
  opts.tiles.family = kSplitKv;
  auto d64 = compileSpec(
      gqaSpec("f_causal64", "f16", 64, {}, {"s = mask(s, causal)"}).str(),
      "<spec>", opts);
  auto d256 = compileSpec(gqaSpec("f_plain256", "bf16", 256, {}, {}).str(),
                          "<spec>", opts);
  // The deepest K/V ring (four buffers) and the smallest key block.
  CompileOptions deep = opts;
  deep.tiles.stages = 4;
  deep.tiles.blockN = 32;
  auto d128s4 = compileSpec(
      gqaSpec("f_window128_s4", "bf16", 128, {}, {"s = mask(s, window(300, 0))"})
          .str(),
      "<spec>", deep);
  ASSERT_TRUE(d64 && d256 && d128s4);
  EXPECT_EQ(d64->info().family, kSplitKv);
  EXPECT_EQ(d128s4->info().stages, 4);
  struct Shape {
    int b, hq, hk, n, m;
  };
  for (const Shape &s : {Shape{2, 6, 1, 37, 1000}, Shape{1, 4, 4, 1000, 1000},
                         Shape{3, 6, 2, 300, 77}, Shape{1, 12, 4, 5, 8192}}) {
    for (auto *a : {&d64, &d256, &d128s4}) {
      RunReport r;
      Case c = gqaCase((*a)->info().specName + " GQA " + std::to_string(s.hq) +
                           ":" + std::to_string(s.hk) + " " + sizes(s.n, s.m),
                       s.b, s.hq, s.hk, s.n, s.m);
      c.report = &r;
      ASSERT_TRUE(runCase(**a, c));
      EXPECT_EQ(r.family, kSplitKv);
    }
  }
}

TEST_F(Decode, F32StaysOnPrefill) {
  auto attn = compileSpec(gqaSpec("f32_decode", "f32", 64, {}, {}).str());
  ASSERT_TRUE(attn);
  RunReport r;
  Case c = gqaCase("f32 n=1", 2, 4, 2, 1, 1000);
  c.report = &r;
  ASSERT_TRUE(runCase(*attn, c));
  EXPECT_EQ(r.family, kMmaSync);
}

TEST_F(Decode, RepeatedRunsAreBitIdentical) {
  auto attn = compileSpec(gqaSpec("d_repeat", "bf16", 128, {}, {}).str());
  ASSERT_TRUE(attn);
  Case c = gqaCase("repeat n=1 m=20000", 2, 8, 2, 1, 20000);
  Outcome a, b;
  ASSERT_TRUE(runCase(*attn, c, &a));
  ASSERT_TRUE(runCase(*attn, c, &b));
  EXPECT_TRUE(a.oBytes == b.oBytes);
  ASSERT_EQ(a.lse.size(), b.lse.size());
  EXPECT_EQ(std::memcmp(a.lse.data(), b.lse.data(), a.lse.size() * 4), 0);
}

} // namespace
