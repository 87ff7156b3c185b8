//===- VarlenTest.cpp - packed variable-length sequences against float64 --===//
//
// Specs with `q = packed(q_tokens, cu_seqlens_q)` and k, v packed through
// cu_seqlens_k (attn.packed_seq): the harness packs random Q/K/V into token
// tensors [total + 3, heads, d] whose 3 spare rows are NaN (a read past the
// last sequence shows), O has spare rows that must keep their poison, and
// the float64 reference runs each sequence at its own lengths. With the
// correctness rule of docs/testing.md:
// - lengths 0 and 1, mixed long and short, queries != keys per sequence,
//   every sequence of one length (a dense batch, packed);
// - causal and window align each sequence's last query with its last key;
//   GQA; a modifier (soft-capping), a where() on positions inside the
//   sequence, dropout; bf16, f16 and f32;
// - short sequences run on the prefill family (never split-KV decode);
// - invalid prefix sums (first entry, a decrease, past the tokens, a max
//   length below the longest, missing pointers, a batched tensor) are
//   rejected by name before any launch; with trustIndices bad prefix sums
//   are clamped (no fault, nothing written outside O).
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

using namespace attnc;
using namespace attnc::gputest;

namespace {

class Varlen : public GpuTest {};

std::string varlenSpec(const std::string &name, const std::string &dtype,
                       int d, int hq, int hk,
                       const std::vector<std::string> &inputs,
                       const std::vector<std::string> &scores,
                       const std::string &dropout = "") {
  const std::string ds = std::to_string(d);
  std::string s = "attention " + name + " {\n  qt: " + dtype + "[tq, " +
                  std::to_string(hq) + ", " + ds + "]\n  kt: " + dtype +
                  "[tk, " + std::to_string(hk) + ", " + ds + "]\n  vt: " +
                  dtype + "[tk, " + std::to_string(hk) + ", " + ds +
                  "]\n  cu_q: i32[b1]\n  cu_k: i32[b1]\n";
  for (const std::string &in : inputs)
    s += "  " + in + "\n";
  s += "  q = packed(qt, cu_q)\n  k = packed(kt, cu_k)\n  v = packed(vt, cu_k)\n";
  s += "  s = matmul(q, k^T) * rsqrt(" + ds + ")\n";
  for (const std::string &line : scores)
    s += "  " + line + "\n";
  s += "  p = softmax(s)\n";
  if (!dropout.empty())
    s += "  " + dropout + "\n";
  s += "  o = matmul(p, v)\n  return o, logsumexp\n}\n";
  return s;
}

Case varlenCase(const std::string &label, int hq, int hk,
                const std::vector<int32_t> &lensQ,
                const std::vector<int32_t> &lensK, uint64_t seed) {
  Case c = makeCase(label, int(lensQ.size()), hq, 1, 1);
  c.headsKV = hk;
  c.inputSeed = seed;
  makePacked(c, lensQ, lensK);
  return c;
}

TEST_F(Varlen, MixedLengthsMasksAndModifiers) {
  auto attns = compileSpecs({
      varlenSpec("varlen_causal", "bf16", 128, 8, 2, {}, {"s = mask(s, causal)"}),
      varlenSpec("varlen_plain", "f16", 64, 4, 4, {}, {}),
      varlenSpec("varlen_window", "bf16", 64, 4, 1, {},
                 {"s = mask(s, window(50, 10))"}),
      varlenSpec("varlen_softcap", "bf16", 128, 8, 2, {},
                 {"s = 30 * tanh(s / 30)", "s = mask(s, causal)"}),
      varlenSpec("varlen_where", "f16", 128, 4, 2, {},
                 {"s = mask(s, where((q_idx - k_idx + 2 * h + b) % 3 != 0))"}),
      varlenSpec("varlen_dropout", "bf16", 64, 4, 2, {"seed: i64", "offset: i64"},
                 {"s = mask(s, causal)"}, "p = dropout(p, 0.1, seed, offset)"),
      varlenSpec("varlen_f32", "f32", 64, 2, 1, {}, {"s = mask(s, causal)"}),
  });
  for (auto &a : attns) {
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->info().packed);
  }
  // Lengths 0 and 1, queries != keys, long and short, one of 1000+.
  const std::vector<int32_t> lensQ = {0, 1, 300, 17, 1029, 128, 5};
  const std::vector<int32_t> lensK = {9, 1, 300, 250, 1029, 0, 2};
  for (size_t i = 0; i < attns.size(); ++i) {
    const KernelInfo &info = attns[i]->info();
    const int hq = int(info.qShape[1]), hk = int(info.kShape[1]);
    RunReport r;
    Case c = varlenCase(info.specName, hq, hk, lensQ, lensK, 300 + 7 * i);
    if (info.dropout > 0) {
      c.seed = 0x5eedull;
      c.offset = 11;
    }
    c.report = &r;
    Outcome out;
    ASSERT_TRUE(runCase(*attns[i], c, &out));
    EXPECT_EQ(r.family, "fwd.mma_sync") << c.label;
    // One CTA row per longest-sequence query block, one z per sequence.
    EXPECT_EQ(r.grid[2], lensQ.size()) << c.label;
    if (info.dropout > 0)
      EXPECT_GT(out.errNoDropout, 10 * out.boundO) << "looks undropped";
    if (info.causal && !info.scoreMod && info.dropout == 0) {
      // Causal aligns at each sequence's own lengths: query i of a
      // sequence with n queries and m keys sees keys j <= i + m - n, so
      // max(0, n - m) of its queries see none; absent rows (past a
      // sequence's queries, up to the longest) count as masked too.
      long long masked = 0;
      const int longest = *std::max_element(lensQ.begin(), lensQ.end());
      for (size_t s = 0; s < lensQ.size(); ++s)
        masked += hq * (std::max(0, lensQ[s] - lensK[s]) + longest - lensQ[s]);
      EXPECT_EQ(out.maskedRows, masked) << c.label;
    }
  }
  // A dense batch, packed (equal lengths), and short sequences only (the
  // decode sizes still run on the prefill family: grid z = sequences).
  for (const auto &[lq, lk] :
       {std::pair{std::vector<int32_t>{512, 512, 512, 512},
                  std::vector<int32_t>{512, 512, 512, 512}},
        {std::vector<int32_t>{1, 16, 3, 2}, std::vector<int32_t>{4097, 64, 1, 0}}}) {
    RunReport r;
    Case c = varlenCase("varlen_causal " + std::to_string(lq[1]), 8, 2, lq, lk, 77);
    c.report = &r;
    ASSERT_TRUE(runCase(*attns[0], c));
    EXPECT_EQ(r.family, "fwd.mma_sync") << c.label;
  }
}

TEST_F(Varlen, InvalidPrefixSumsAreRejected) {
  auto attn = compileSpec(varlenSpec("varlen_check", "bf16", 128, 8, 2, {}, {}));
  ASSERT_TRUE(attn);
  const std::vector<int32_t> lensQ = {100, 40, 7}, lensK = {60, 0, 90};
  struct Bad {
    const char *what, *expect;
    std::function<void(Case &)> edit;
  };
  const std::vector<Bad> bads = {
      {"first entry not 0", "cuSeqlensQ[0] = 4",
       [](Case &c) { c.runCuSeqlensQ[0] = 4; }},
      {"decreasing", "cuSeqlensK[2] = 10",
       [](Case &c) { c.runCuSeqlensK[2] = 10; }},
      {"past the tokens", "cuSeqlensQ[3] = 1000",
       [](Case &c) { c.runCuSeqlensQ[3] = 1000; }},
      {"max length too small", "maxSeqlenK = 50",
       [](Case &c) { c.maxSeqlenK = 50; }},
      {"trust without max lengths", "trustIndices needs",
       [](Case &c) { c.trustIndices = true; }},
  };
  for (const Bad &bad : bads) {
    Case c = varlenCase(std::string("invalid: ") + bad.what, 8, 2, lensQ,
                        lensK, 5);
    c.runCuSeqlensQ = c.cuSeqlensQ; // q has 147 + 3 spare rows
    c.runCuSeqlensK = c.cuSeqlensK;
    bad.edit(c);
    c.check = false;
    std::string msg;
    c.runError = &msg;
    EXPECT_FALSE(runCase(*attn, c)) << bad.what << ": the run must fail";
    EXPECT_NE(msg.find("InvalidArgument"), std::string::npos) << msg;
    EXPECT_NE(msg.find(bad.expect), std::string::npos)
        << bad.what << ": the error must name the entry; got " << msg;
    std::printf("[    attnc ] %s -> %s\n", bad.what, msg.c_str());
  }
  // trustIndices: no host check; negative bounds, bounds past the tokens
  // and decreases are clamped by the kernel, which must neither fault nor
  // write outside O (runCase synchronizes and checks O's spare rows keep
  // their poison; the query rows here stay inside the sequences' tokens).
  {
    Case c = varlenCase("trusted bad prefix sums", 8, 2, lensQ, lensK, 5);
    c.runCuSeqlensQ = c.cuSeqlensQ;
    c.runCuSeqlensK = c.cuSeqlensK;
    c.runCuSeqlensQ[2] = 50; // below cuSeqlensQ[1] = 100
    c.runCuSeqlensK[1] = -7;
    c.runCuSeqlensK[2] = 1 << 29;
    c.maxSeqlenQ = 1000, c.maxSeqlenK = 1000;
    c.trustIndices = true;
    c.check = false;
    ASSERT_TRUE(runCase(*attn, c));
  }
  // Missing pointers, a bad sequence count and a batched tensor are named.
  {
    RunArgs args;
    Expected<DeviceBuffer> buf = DeviceBuffer::allocate(1 << 20);
    ASSERT_TRUE(buf);
    args.q = TensorArg::packed(buf->data(), 64, 8, 128);
    args.k = TensorArg::packed(buf->data(), 64, 2, 128);
    args.v = TensorArg::packed(buf->data(), 64, 2, 128);
    args.o = TensorArg::packed(buf->data(), 64, 8, 128);
    args.sequences = 2;
    Status st = attn->run(args);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message().find("cuSeqlensQ"), std::string::npos)
        << st.error().str();
    args.cuSeqlensQ = static_cast<const int32_t *>(buf->data());
    st = attn->run(args);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message().find("cuSeqlensK"), std::string::npos)
        << st.error().str();
    args.cuSeqlensK = args.cuSeqlensQ;
    args.sequences = 0;
    st = attn->run(args);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message().find("sequences"), std::string::npos)
        << st.error().str();
    args.sequences = 2;
    int64_t batched[4] = {2, 8, 32, 128};
    args.q = TensorArg::contiguous(buf->data(), batched);
    st = attn->run(args);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message().find("one batch"), std::string::npos)
        << st.error().str();
  }
}

} // namespace
