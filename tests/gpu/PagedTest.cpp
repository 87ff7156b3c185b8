//===- PagedTest.cpp - paged K/V caches against float64 -------------------===//
//
// Specs with `k = paged(k_cache, block_table, kv_len)` (attn.paged_kv):
// the caches [pages, page_size, hk, d] are filled from a random logical K/V
// through a shuffled block table; cache rows no sequence owns are NaN, so a
// read through a wrong page id or past a sequence's keys shows in O. With
// the correctness rule of docs/testing.md:
// - page sizes 1 and 48 (looked up a row at a time), 8 and 16 (whole pages
//   per key block), 64 and 256 (whole key blocks per page), decode
//   (N in {1, 7, 16}) and prefill (N = 300) shapes;
// - sequence lengths 0, 1, a partly filled last page and a full table;
//   causal and window masks align at each sequence's own length;
// - a modifier (soft-capping), a head-dependent where(), lengths(), dropout;
// - invalid index inputs (page id out of range, negative or too long
//   sequence lengths, missing pointers) are rejected by name before any
//   launch; with trustIndices a bad id is clamped (no fault).
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"


using namespace attnc;
using namespace attnc::gputest;

namespace {

class Paged : public GpuTest {};

std::string pagedSpec(const std::string &name, const std::string &dtype, int d,
                      int pageSize, const std::vector<std::string> &inputs,
                      const std::vector<std::string> &scores,
                      const std::string &dropout = "") {
  const std::string ds = std::to_string(d), ps = std::to_string(pageSize);
  std::string s = "attention " + name + " {\n  q: " + dtype + "[b, hq, n, " +
                  ds + "]\n  kc: " + dtype + "[pages, " + ps + ", hk, " + ds +
                  "]\n  vc: " + dtype + "[pages, " + ps + ", hk, " + ds +
                  "]\n  table: i32[b, max_pages]\n  kv_len: i32[b]\n";
  for (const std::string &in : inputs)
    s += "  " + in + "\n";
  s += "  k = paged(kc, table, kv_len)\n  v = paged(vc, table, kv_len)\n";
  s += "  s = matmul(q, k^T) * rsqrt(" + ds + ")\n";
  for (const std::string &line : scores)
    s += "  " + line + "\n";
  s += "  p = softmax(s)\n";
  if (!dropout.empty())
    s += "  " + dropout + "\n";
  s += "  o = matmul(p, v)\n  return o, logsumexp\n}\n";
  return s;
}

Case pagedCase(const std::string &label, int hq, int hk, int n, int pageSize,
               const std::vector<int32_t> &lens, uint64_t seed) {
  Case c = makeCase(label, int(lens.size()), hq, n, 1);
  c.headsKV = hk;
  c.inputSeed = seed;
  makePaged(c, pageSize, lens, seed);
  return c;
}

TEST_F(Paged, EveryPageSizeDecodeAndPrefill) {
  for (int pageSize : {1, 8, 16, 48, 64, 256}) {
    auto attn = compileSpec(pagedSpec("paged_causal_p" + std::to_string(pageSize),
                                      "bf16", 128, pageSize, {},
                                      {"s = mask(s, causal)"}));
    ASSERT_TRUE(attn);
    EXPECT_TRUE(attn->info().paged);
    EXPECT_EQ(attn->info().pageSize, pageSize);
    // 0 keys, 1 key, a partly filled last page, a long full sequence.
    const std::vector<int32_t> lens = {0, 1, 3 * pageSize + 5, 4097};
    for (int n : {1, 7, 16, 300}) {
      RunReport r;
      Case c = pagedCase("paged causal p" + std::to_string(pageSize) +
                             " n=" + std::to_string(n),
                         8, 2, n, pageSize, lens, 31 * pageSize + n);
      c.report = &r;
      Outcome out;
      ASSERT_TRUE(runCase(*attn, c, &out));
      EXPECT_EQ(r.family, n <= 16 ? "fwd.split_kv" : "fwd.mma_sync") << c.label;
      // Causal aligns at each sequence's own length L: query i sees keys
      // j <= i + L - n, so the first max(0, n - L) queries see none
      // (sequence 0 has no keys at all, sequence 1 one).
      long long masked = 0;
      for (int32_t len : lens)
        masked += 8LL * std::max(0, n - len);
      EXPECT_EQ(out.maskedRows, masked) << c.label;
      report(c.label, "splits", r.splits);
    }
  }
}

TEST_F(Paged, MasksAndModifiers) {
  auto attns = compileSpecs({
      pagedSpec("paged_window", "f16", 64, 16, {}, {"s = mask(s, window(40, 0))"}),
      pagedSpec("paged_softcap", "bf16", 128, 32, {},
                {"s = 30 * tanh(s / 30)", "s = mask(s, causal)"}),
      pagedSpec("paged_where", "bf16", 128, 64, {},
                {"s = mask(s, where((k_idx + 3 * h) % 5 != 0))"}),
      pagedSpec("paged_lengths", "bf16", 64, 16, {"pad: i32[b]"},
                {"s = mask(s, lengths(pad))"}),
      pagedSpec("paged_dropout", "bf16", 128, 16, {"seed: i64", "offset: i64"},
                {"s = mask(s, causal)"}, "p = dropout(p, 0.1, seed, offset)"),
  });
  for (auto &a : attns)
    ASSERT_TRUE(a);
  const std::vector<int32_t> lens = {700, 33, 2048, 1};
  for (int n : {1, 5, 200}) {
    for (size_t i = 0; i < attns.size(); ++i) {
      Case c = pagedCase(attns[i]->info().specName + " n=" + std::to_string(n),
                         8, 2, n, int(attns[i]->info().pageSize), lens,
                         1000 + 17 * i + n);
      if (attns[i]->info().keyPadding)
        c.kvLengths = {650, 40, 0, 1}; // also clipped by the sequence's own
      if (attns[i]->info().dropout > 0) {
        c.seed = 0x5eedull;
        c.offset = 9;
      }
      Outcome out;
      ASSERT_TRUE(runCase(*attns[i], c, &out));
      if (attns[i]->info().dropout > 0)
        EXPECT_GT(out.errNoDropout, 10 * out.boundO) << "looks undropped";
    }
  }
}

TEST_F(Paged, InvalidIndicesAreRejected) {
  auto attn = compileSpec(pagedSpec("paged_check", "bf16", 128, 16, {}, {}));
  ASSERT_TRUE(attn);
  const std::vector<int32_t> lens = {100, 40};
  struct Bad {
    const char *what, *expect;
    std::function<void(Case &)> edit;
  };
  const std::vector<Bad> bads = {
      {"page id past the cache", "blockTable[1, 2]",
       [](Case &c) { c.blockTable[1 * 7 + 2] = int32_t(c.pages); }},
      {"negative page id", "blockTable[0, 6]",
       [](Case &c) { c.blockTable[6] = -5; }},
      {"negative length", "seqLensK[1] = -1",
       [](Case &c) { c.seqLensK[1] = -1; }},
      {"length past the table", "seqLensK[0] = 113",
       [](Case &c) { c.seqLensK[0] = 113; }},
  };
  for (const Bad &bad : bads) {
    Case c = pagedCase(std::string("invalid: ") + bad.what, 8, 2, 1, 16, lens, 5);
    ASSERT_EQ(c.blockTable.size(), 14u); // 7 pages per sequence
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
  // trustIndices: no host check; a bad id is clamped by the kernel, which
  // must neither fault nor write outside O (runCase synchronizes).
  {
    Case c = pagedCase("trusted bad id", 8, 2, 1, 16, lens, 5);
    c.blockTable[2] = 1 << 30;
    c.trustIndices = true;
    c.check = false;
    Outcome out;
    ASSERT_TRUE(runCase(*attn, c, &out));
  }
  // Missing pointers are named.
  {
    RunArgs args;
    int64_t qs[4] = {1, 8, 1, 128}, cs[4] = {4, 16, 2, 128};
    Expected<DeviceBuffer> buf = DeviceBuffer::allocate(1 << 20);
    ASSERT_TRUE(buf);
    args.q = TensorArg::contiguous(buf->data(), qs);
    args.k = TensorArg::contiguous(buf->data(), cs);
    args.v = TensorArg::contiguous(buf->data(), cs);
    args.o = TensorArg::contiguous(buf->data(), qs);
    args.maxPages = 4;
    Status st = attn->run(args);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message().find("blockTable"), std::string::npos)
        << st.error().str();
    args.blockTable = static_cast<const int32_t *>(buf->data());
    st = attn->run(args);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message().find("seqLensK"), std::string::npos)
        << st.error().str();
  }
}

} // namespace
