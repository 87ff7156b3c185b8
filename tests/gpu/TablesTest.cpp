//===- TablesTest.cpp - modifiers and masks that read tensor inputs -------===//
//
// Tables (inputs read as x[...] in a score modifier or a where() mask)
// against the float64 reference with the rule of docs/testing.md: learnable
// ALiBi slopes f32[hq], a relative-position table f32[hq, 257] read at a
// clamped offset, per-token document ids i32[b, n] / i32[b, m] in a where()
// mask, a full additive bias bf16[b, hq, n, m], f16 and i8 tables, and
// index expressions that leave the table (clamped into it, as documented).
// Lengths 1, 17, 1000, 4096, n != m, GQA, bf16 and f32, the split-KV decode
// family; run() refuses missing, null, misaligned and mis-sized tables by
// name before any launch.
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

using namespace attnc;
using namespace attnc::gputest;

namespace {

SpecText tableSpec(const std::string &name, const std::string &dtype,
                   std::vector<std::string> inputs,
                   std::vector<std::string> scores) {
  SpecText s;
  s.name = name;
  s.dtype = dtype;
  s.headDim = 64;
  s.headsQ = "hq";
  s.headsKV = "hk";
  s.inputs = std::move(inputs);
  s.scores = std::move(scores);
  return s;
}

Case gqaCase(const std::string &label, int b, int hq, int hk, int n, int m) {
  Case c = makeCase(label, b, hq, n, m);
  c.headsKV = hk;
  return c;
}

struct TableSpec {
  const char *name;
  std::vector<std::string> inputs, scores;
};

const TableSpec kSpecs[] = {
    {"slopes",
     {"slope: f32[hq]"},
     // A penalty, as ALiBi's slopes are positive (random signed slopes
     // would make scores of +-4096 whose f32 rounding alone fails the rule).
     {"s = s - abs(slope[h]) * abs(q_idx - k_idx)", "s = mask(s, causal)"}},
    {"relative",
     {"rel: f32[hq, 257]"},
     {"s = s + rel[h, clamp(q_idx - k_idx + 128, 0, 256)]"}},
    {"documents",
     {"docq: i32[b, n]", "dock: i32[b, m]"},
     {"s = mask(s, where(docq[b, q_idx] == dock[b, k_idx]))"}},
    {"bias", {"bias: bf16[b, hq, n, m]"}, {"s = s + bias[b, h, q_idx, k_idx]"}},
    {"small_types",
     {"w: f16[hq, 4]", "c: i8[hk]"},
     {"s = s * w[h, k_idx % 4] + float(c[div(h, 3)])"}},
    // Indices far outside the table: clamped into it.
    {"clamped",
     {"rel: f32[hq, 9]"},
     {"s = s + rel[h - 100, q_idx - k_idx + 4] * rel[h + 100, -5]"}},
};

class Tables : public GpuParamTest<std::string> {};

TEST_P(Tables, MatchReference) {
  const std::string dtype = GetParam();
  std::vector<std::string> texts;
  for (const TableSpec &t : kSpecs)
    texts.push_back(
        tableSpec(std::string("tables_") + t.name + "_" + dtype, dtype,
                  t.inputs, t.scores)
            .str());
  auto attns = compileSpecs(texts);
  for (size_t i = 0; i < attns.size(); ++i) {
    ASSERT_TRUE(attns[i]) << kSpecs[i].name;
    EXPECT_FALSE(attns[i]->info().tables.empty());
  }
  for (size_t i = 0; i < attns.size(); ++i) {
    const std::string tag = std::string(kSpecs[i].name) + "_" + dtype;
    const Attention &a = *attns[i];
    EXPECT_TRUE(runCase(a, gqaCase("1000x17_" + tag, 2, 6, 2, 1000, 17)));
    EXPECT_TRUE(runCase(a, gqaCase("17x1000_" + tag, 2, 6, 2, 17, 1000)));
    EXPECT_TRUE(runCase(a, gqaCase("n1_" + tag, 2, 6, 2, 1, 4096)));
    EXPECT_TRUE(runCase(a, gqaCase("4k_" + tag, 1, 3, 1, 4096, 4096)));
  }
  // Decode on the split-KV family reads the same tables.
  if (dtype != "f32") {
    RunReport report;
    Case dec = gqaCase("decode_relative_" + dtype, 3, 8, 2, 4, 8192);
    dec.report = &report;
    EXPECT_TRUE(runCase(*attns[1], dec));
    EXPECT_EQ(report.family, "fwd.split_kv");
  }
}

INSTANTIATE_TEST_SUITE_P(Types, Tables, ::testing::Values("bf16", "f32"),
                         [](const ::testing::TestParamInfo<std::string> &i) {
                           return i.param;
                         });

class TableArguments : public GpuTest {};

TEST_F(TableArguments, BadTablesAreRejectedByName) {
  auto attn = compileSpec(
      tableSpec("tables_api", "bf16", {"slope: f32[hq]", "rel: f32[hq, 257]"},
                {"s = s - slope[h] + rel[h, clamp(q_idx - k_idx, 0, 256)]"})
          .str());
  ASSERT_TRUE(attn);
  ASSERT_EQ(attn->info().tables.size(), 2u);
  EXPECT_EQ(attn->info().tables[0].name, "slope");
  EXPECT_EQ(attn->info().tables[1].dims[1], 257);
  constexpr int HQ = 4;
  std::vector<DeviceBuffer> bufs;
  RunArgs args;
  ASSERT_TRUE(smallRunArgs(1, HQ, 2, 64, 64,
                           {size_t(HQ) * 4 + 4, size_t(HQ) * 257 * 4}, bufs,
                           args));
  const TensorArg slope = TensorArg::ofShape(bufs[5].data(), {HQ});
  const TensorArg rel = TensorArg::ofShape(bufs[6].data(), {HQ, 257});
  auto expectRejected = [&](std::vector<TensorArg> tables,
                            const std::string &want) {
    RunArgs a = args;
    a.tables = std::move(tables);
    Status st = attn->run(a);
    ASSERT_FALSE(st) << "run() accepted bad tables (want '" << want << "')";
    EXPECT_EQ(st.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(st.error().message().find(want), std::string::npos)
        << st.error().str();
    std::printf("[    attnc ] rejected: %s\n", st.error().str().c_str());
  };
  expectRejected({}, "the spec reads 2 table(s) (slope, rel); got 0");
  expectRejected({slope}, "got 1");
  TensorArg null = slope;
  null.data = nullptr;
  expectRejected({null, rel}, "tables[0] ('slope'): null pointer");
  TensorArg odd = slope;
  odd.data = static_cast<const char *>(slope.data) + 2;
  expectRejected({odd, rel}, "not 4-byte aligned");
  expectRejected({TensorArg::ofShape(bufs[5].data(), {HQ - 1}), rel},
                 "dimension 0 is 3 but it is the query heads (4)");
  expectRejected({slope, TensorArg::ofShape(bufs[6].data(), {HQ, 256})},
                 "dimension 1 is 256, the spec says 257");
  expectRejected({TensorArg::ofShape(bufs[5].data(), {0}), rel},
                 "dimension 0 is 0");
  TensorArg negative = rel;
  negative.strides[1] = -1;
  expectRejected({slope, negative}, "stride -1 is negative");
  args.tables = {slope, rel};
  EXPECT_TRUE(attn->run(args)) << "a valid run after the rejected ones";
  EXPECT_TRUE(synchronize());
}

} // namespace
