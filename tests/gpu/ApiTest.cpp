//===- ApiTest.cpp - argument validation, caching, kernel info ------------===//
//
// Attention::run() must reject bad arguments with an error Status naming
// the argument, without launching (O keeps its NaN poison) and without
// breaking the context (a valid run afterwards succeeds). compile() of the
// same text twice is a memory hit and gives the same kernel.
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

#include <cstring>

using namespace attnc;
using namespace attnc::gputest;

namespace {

constexpr int B = 3, H = 4, N = 256, M = 200, D = 64;

class Validation : public GpuTest {
protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped())
      return;
    SpecText plainSpec;
    plainSpec.name = "validate_plain";
    plainSpec.headDim = D;
    SpecText lengthsSpec = plainSpec;
    lengthsSpec.name = "validate_lengths";
    lengthsSpec.inputs = {"kv_len: i32[b]"};
    lengthsSpec.scores = {"s = mask(s, lengths(kv_len))"};
    SpecText blocksSpec = plainSpec;
    blocksSpec.name = "validate_blocks";
    blocksSpec.inputs = {"layout: i8[h, qb, kb]"};
    blocksSpec.scores = {"s = mask(s, blocks(layout, 64, 64))"};
    auto attns =
        compileSpecs({plainSpec.str(), lengthsSpec.str(), blocksSpec.str()});
    plain = attns[0];
    lengths = attns[1];
    blocks = attns[2];
    ASSERT_TRUE(plain && lengths && blocks);

    // Room for up to 8 heads and head dim 128, so shape errors never make
    // the kernel read out of bounds should a check be missing.
    const size_t bytes = (size_t)B * 8 * 1024 * 128 * 2;
    for (DeviceBuffer *buf : {&q, &k, &v, &o, &lse, &aux}) {
      Expected<DeviceBuffer> b = DeviceBuffer::allocate(bytes);
      ASSERT_TRUE(b) << b.error().str();
      *buf = std::move(*b);
      ASSERT_TRUE(buf->fill(0x3C)) << "filling"; // 0x3C3C: a normal bf16
    }
    args.q = TensorArg::contiguous(q.data(), {B, H, N, D});
    args.k = TensorArg::contiguous(k.data(), {B, H, M, D});
    args.v = TensorArg::contiguous(v.data(), {B, H, M, D});
    args.o = TensorArg::contiguous(o.data(), {B, H, N, D});
    args.lse = static_cast<float *>(lse.data());
  }

  /// run() must fail with InvalidArgument, a message containing every
  /// string of `want`, and no launch.
  void expectRejected(const Attention &attn, const RunArgs &bad,
                      std::vector<std::string> want) {
    ASSERT_TRUE(o.fill(0xFF));
    Status st = attn.run(bad);
    ASSERT_FALSE(st) << "run() accepted bad arguments (want an error "
                        "mentioning '"
                     << want.front() << "')";
    EXPECT_EQ(st.error().code(), ErrorCode::InvalidArgument)
        << st.error().str();
    for (const std::string &w : want)
      EXPECT_NE(st.error().message().find(w), std::string::npos)
          << "message '" << st.error().message() << "' does not mention '"
          << w << "'";
    std::printf("[    attnc ] rejected: %s\n", st.error().str().c_str());
    ASSERT_TRUE(synchronize());
    std::vector<uint8_t> host(o.size());
    ASSERT_TRUE(o.copyToHost(host.data(), host.size()));
    size_t written = 0;
    for (uint8_t x : host)
      written += x != 0xFF;
    EXPECT_EQ(written, 0u) << "a rejected run launched the kernel";
  }

  std::shared_ptr<Attention> plain, lengths, blocks;
  DeviceBuffer q, k, v, o, lse, aux;
  RunArgs args;
};

TEST_F(Validation, NullPointers) {
  RunArgs a = args;
  a.q.data = nullptr;
  expectRejected(*plain, a, {"q:", "null"});
  a = args;
  a.v.data = nullptr;
  expectRejected(*plain, a, {"v:", "null"});
  a = args;
  a.o.data = nullptr;
  expectRejected(*plain, a, {"o:", "null"});
}

TEST_F(Validation, MisalignedPointers) {
  RunArgs a = args;
  a.k.data = static_cast<const char *>(k.data()) + 2;
  expectRejected(*plain, a, {"k:", "aligned"});
  a = args;
  a.o.data = static_cast<const char *>(o.data()) + 8;
  expectRejected(*plain, a, {"o:", "aligned"});
  a = args;
  a.lse = reinterpret_cast<float *>(static_cast<char *>(lse.data()) + 2);
  expectRejected(*plain, a, {"lse", "aligned"});
}

TEST_F(Validation, WrongHeadDim) {
  RunArgs a = args;
  a.q = TensorArg::contiguous(q.data(), {B, H, N, 128});
  expectRejected(*plain, a, {"q:", "head dim", "128"});
  a = args;
  a.k = TensorArg::contiguous(k.data(), {B, H, M, 32});
  a.v = TensorArg::contiguous(v.data(), {B, H, M, 32});
  expectRejected(*plain, a, {"k:", "head dim", "32"});
}

TEST_F(Validation, HeadsNotMultiple) {
  RunArgs a = args;
  a.q = TensorArg::contiguous(q.data(), {B, 5, N, D});
  a.o = TensorArg::contiguous(o.data(), {B, 5, N, D});
  a.k = TensorArg::contiguous(k.data(), {B, 2, M, D});
  a.v = TensorArg::contiguous(v.data(), {B, 2, M, D});
  expectRejected(*plain, a, {"heads", "multiple", "5", "2"});
}

TEST_F(Validation, ShapeMismatches) {
  RunArgs a = args;
  a.k = TensorArg::contiguous(k.data(), {2, H, M, D});
  a.v = TensorArg::contiguous(v.data(), {2, H, M, D});
  expectRejected(*plain, a, {"batch"});
  a = args;
  a.v = TensorArg::contiguous(v.data(), {B, H, M + 1, D});
  expectRejected(*plain, a, {"v:"});
  a = args;
  a.q.strides[3] = 2;
  expectRejected(*plain, a, {"q:", "contiguous"});
}

TEST_F(Validation, MissingKeyLengths) {
  RunArgs a = args;
  a.kvLengths = nullptr;
  expectRejected(*lengths, a, {"kvLengths"});
}

TEST_F(Validation, MissingOrSmallBlockLayout) {
  RunArgs a = args;
  a.blockLayout = nullptr;
  expectRejected(*blocks, a, {"blockLayout"});
  a.blockLayout = static_cast<const uint8_t *>(aux.data());
  a.layoutShape[0] = H;
  a.layoutShape[1] = 1; // N = 256 needs 4 block rows of 64
  a.layoutShape[2] = 4;
  expectRejected(*blocks, a, {"blockLayout", "cover"});
  a.layoutShape[0] = 2; // neither 1 nor the head count
  a.layoutShape[1] = 4;
  expectRejected(*blocks, a, {"blockLayout"});
}

TEST_F(Validation, ValidRunAfterRejections) {
  RunArgs a = args;
  a.q.data = nullptr;
  expectRejected(*plain, a, {"q:"});
  ASSERT_TRUE(o.fill(0xFF));
  Status st = plain->run(args);
  ASSERT_TRUE(st) << st.error().str();
  ASSERT_TRUE(synchronize());
  std::vector<uint16_t> host((size_t)B * H * N * D);
  ASSERT_TRUE(o.copyToHost(host.data(), host.size() * 2));
  size_t nan = 0;
  for (uint16_t x : host)
    nan += (x & 0x7F80) == 0x7F80 && (x & 0x7F);
  EXPECT_EQ(nan, 0u) << "the valid run left NaN in O";
}

//===- Compilation --------------------------------------------------------===//

class Compile : public GpuTest {};

TEST_F(Compile, SecondCompileIsAMemoryHit) {
  SpecText s;
  s.name = "provenance_probe";
  s.dtype = "f16";
  s.headDim = 96;
  s.scores = {"s = mask(s, window(33, 7))"};
  std::shared_ptr<Attention> first = compileSpec(s.str());
  ASSERT_TRUE(first);
  std::shared_ptr<Attention> second = compileSpec(s.str());
  ASSERT_TRUE(second);
  std::printf("[    attnc ] provenance: first %s, second %s\n",
              first->provenance().c_str(), second->provenance().c_str());
  EXPECT_EQ(second->provenance().rfind("memory", 0), 0u)
      << second->provenance();
  EXPECT_EQ(first->cudaSource(), second->cudaSource());

  // Without the disk cache the kernel is compiled again, to the same thing.
  CompileOptions fresh;
  fresh.noDiskCache = true;
  Expected<std::shared_ptr<Attention>> third = compile(s.str(), fresh);
  ASSERT_TRUE(third) << third.error().str();
  EXPECT_EQ((*third)->provenance().rfind("compiled", 0), 0u)
      << (*third)->provenance();

  Case c;
  c.label = "provenance";
  c.batch = 3;
  c.headsQ = c.headsKV = 5;
  c.seqQ = 300;
  c.seqK = 400;
  Outcome a, b;
  ASSERT_TRUE(runCase(*first, c, &a));
  c.check = false;
  ASSERT_TRUE(runCase(**third, c, &b));
  EXPECT_EQ(a.oBytes, b.oBytes) << "the recompiled kernel differs";
}

TEST_F(Compile, KernelInfoFitsTheDevice) {
  SpecText s;
  s.name = "info_probe";
  s.headDim = 128;
  s.scores = {"s = mask(s, causal)"};
  std::shared_ptr<Attention> attn = compileSpec(s.str());
  ASSERT_TRUE(attn);
  const KernelInfo &info = attn->info();
  EXPECT_EQ(info.specName, "info_probe");
  EXPECT_EQ(info.target, device.arch);
  EXPECT_GT(info.blockM, 0);
  EXPECT_GT(info.blockN, 0);
  EXPECT_GT(info.warps, 0);
  EXPECT_GT(info.stages, 0);
  EXPECT_GT(info.smemBytes, 0);
  EXPECT_LE(info.smemBytes, device.maxSmemPerBlockOptin);
  EXPECT_TRUE(info.causal);
  EXPECT_FALSE(attn->cudaSource().empty());
  EXPECT_FALSE(attn->ioReport(2, 16, 16, 4096, 4096).empty());
  std::printf("[    attnc ] %s on %s (%s): %dx%d tiles, %d warps, %d stages, "
              "%lld B of %d B shared memory\n",
              info.kernelName.c_str(), device.name.c_str(), info.target.c_str(),
              info.blockM, info.blockN, info.warps, info.stages,
              (long long)info.smemBytes, device.maxSmemPerBlockOptin);
}

TEST_F(Compile, BadSpecIsAnErrorNamingTheLine) {
  Expected<std::shared_ptr<Attention>> r =
      compile("attention bad {\n  q: bf16[b, h, n, 64]\n  s = matmul(q, kk^T)\n}\n",
              CompileOptions{}, "bad.attn");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("bad.attn:3"), std::string::npos)
      << r.error().str();
}

} // namespace
