//===- DropoutTest.cpp - attention dropout on the GPU ---------------------===//
//
// - The kernel's output equals the float64 reference that applies the same
//   Philox4x32-10 keep mask (Reference.h), and differs from the undropped one.
// - The keep mask itself, read out of the kernel: with V one-hot over a chunk
//   of keys (V[j][j - chunk * d] = 1), O[i][x] = P[i][j] * keep / (1 - p), so
//   O != 0 exactly where key j is kept. It must equal the CPU's Philox mask
//   bit for bit, and its keep rate must be within 3 sigma of 1 - p, both
//   without an attention mask and under a causal one (only visible keys
//   counted).
// - Same seed and offset: bitwise identical O; another seed or offset (low
//   or high 32 bits): a different O.
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

#include "attnc/Reference.h"

#include <cmath>
#include <cstring>

using namespace attnc;
using namespace attnc::gputest;

namespace {

class Dropout : public GpuTest {
protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped())
      return;
    SpecText a; // seed/offset appended by the compiler
    a.name = "dropout_implicit";
    a.dtype = "f16";
    a.headDim = 128;
    a.dropout = "p = dropout(p, 0.2)";
    SpecText b; // explicit i64 inputs, causal
    b.name = "dropout_causal";
    b.dtype = "bf16";
    b.headDim = 64;
    b.inputs = {"seed: i64", "offset: i64"};
    b.scores = {"s = mask(s, causal)"};
    b.dropout = "p = dropout(p, 0.1, seed, offset)";
    auto attns = compileSpecs({a.str(), b.str()});
    plain = attns[0];
    causal = attns[1];
    ASSERT_TRUE(plain && causal);
    EXPECT_DOUBLE_EQ(plain->info().dropout, 0.2);
    EXPECT_NEAR(causal->info().dropout, 0.1, 1e-12);
  }
  std::shared_ptr<Attention> plain, causal;
};

Case makeCase(const std::string &label, int b, int h, int n, int m,
              uint64_t seed, uint64_t offset) {
  Case c = gputest::makeCase(label, b, h, n, m);
  c.seed = seed;
  c.offset = offset;
  c.inputSeed = 4242 + n + m;
  return c;
}

TEST_F(Dropout, MatchesPhiloxReference) {
  struct Run {
    std::shared_ptr<Attention> attn;
    Case c;
  };
  const uint64_t seed = 0x1234567890abcdefull;
  std::vector<Run> runs = {
      {plain, makeCase("dropout(0.2) n=m", 3, 5, 1000, 1000, seed, 3)},
      {plain, makeCase("dropout(0.2) n<m", 2, 3, 17, 4096, seed, 1ull << 40)},
      {causal, makeCase("dropout(0.1)+causal n<m", 3, 5, 300, 1000, 99, 0)},
      {causal, makeCase("dropout(0.1)+causal n>m", 3, 5, 1000, 300, 0, 12345)},
  };
  for (Run &r : runs) {
    Outcome out;
    ASSERT_TRUE(runCase(*r.attn, r.c, &out));
    // The dropped output is far from the undropped reference.
    EXPECT_GT(out.errNoDropout, 10 * out.boundO)
        << r.c.label << ": the output looks undropped";
  }
}

/// Reads the kernel's keep mask for every (b, h, i, j) visible key and
/// compares it with the CPU's Philox mask.
void checkKeepMask(const Attention &attn, const std::string &label, int b,
                   int h, int n, int m, uint64_t seed, uint64_t offset) {
  const KernelInfo &info = attn.info();
  const int dv = info.headDimV;
  ref::FwdProblem pr;
  pr.batch = b;
  pr.headsQ = pr.headsKV = h;
  pr.seqQ = n;
  pr.seqK = m;
  pr.causal = info.causal;
  pr.dropout = true;
  pr.dropoutP = (float)info.dropout;
  pr.seed = seed;
  pr.offset = offset;

  long long visible = 0, keptGpu = 0, keptCpu = 0, mismatches = 0;
  std::string firstMismatch;
  for (int chunk = 0; chunk * dv < m; ++chunk) {
    Case c = makeCase(label + " one-hot chunk " + std::to_string(chunk), b, h,
                      n, m, seed, offset);
    c.qScale = 0.25; // flat softmax: no P underflows in f16
    c.vValue = [chunk, dv](int, int, int j, int x) {
      return j - chunk * dv == x ? 1.0 : 0.0;
    };
    Outcome out;
    ASSERT_TRUE(runCase(attn, c, &out));
    for (int bb = 0; bb < b; ++bb)
      for (int hh = 0; hh < h; ++hh)
        for (int i = 0; i < n; ++i)
          for (int j = chunk * dv; j < std::min(m, (chunk + 1) * dv); ++j) {
            if (!ref::allowed(pr, bb, hh, i, j))
              continue;
            ++visible;
            const size_t row = ((size_t)bb * h + hh) * n + i;
            const bool gpu = out.o[row * dv + (j - chunk * dv)] != 0.0;
            const bool cpu = ref::dropoutKeep(pr, bb, hh, i, j);
            keptGpu += gpu;
            keptCpu += cpu;
            if (gpu != cpu && mismatches++ == 0)
              firstMismatch = "b=" + std::to_string(bb) + " h=" +
                              std::to_string(hh) + " i=" + std::to_string(i) +
                              " j=" + std::to_string(j) +
                              (gpu ? " kept by the GPU only"
                                   : " kept by the CPU only");
          }
  }
  ASSERT_GT(visible, 0);
  EXPECT_EQ(mismatches, 0) << label << ": " << mismatches << " of " << visible
                           << " keep bits differ from the CPU Philox; first: "
                           << firstMismatch;
  const double p = info.dropout, want = 1.0 - p;
  const double sigma = std::sqrt(p * (1 - p) / (double)visible);
  const double rate = (double)keptGpu / (double)visible;
  EXPECT_LE(std::fabs(rate - want), 3 * sigma)
      << label << ": keep rate " << rate << ", expected " << want
      << " +- 3 sigma (" << 3 * sigma << ")";
  std::printf("[    attnc ] %s: keep rate %.6f (CPU Philox %.6f) over %lld "
              "visible scores, expected %.6f +- %.6f (3 sigma), %lld bits "
              "differ\n",
              label.c_str(), rate, (double)keptCpu / (double)visible, visible,
              want, 3 * sigma, mismatches);
  report(label, "keep_rate", rate);
  report(label, "keep_rate_3sigma", 3 * sigma);
  report(label, "keep_bit_mismatches", (double)mismatches);
}

TEST_F(Dropout, KeepMaskAndRateWithoutMask) {
  checkKeepMask(*plain, "dropout(0.2)", 3, 5, 1000, 300, 0xdeadbeefcafeull,
                0x100000007ull);
}

TEST_F(Dropout, KeepMaskAndRateUnderCausalMask) {
  checkKeepMask(*causal, "dropout(0.1)+causal", 3, 5, 300, 300, 77, 5);
}

TEST_F(Dropout, ReproducibleAndSeeded) {
  const uint64_t seed = 0xfeedfacef00dull, offset = 41;
  auto fetch = [&](uint64_t s, uint64_t o, Outcome &out) {
    Case c = makeCase("reproducible", 3, 5, 1000, 1000, s, o);
    c.check = false;
    return runCase(*plain, c, &out);
  };
  Outcome first, again, otherSeed, otherOffset, otherOffsetHigh;
  ASSERT_TRUE(fetch(seed, offset, first));
  ASSERT_TRUE(fetch(seed, offset, again));
  ASSERT_TRUE(fetch(seed + 1, offset, otherSeed));
  ASSERT_TRUE(fetch(seed, offset + 1, otherOffset));
  ASSERT_TRUE(fetch(seed, offset + (1ull << 32), otherOffsetHigh));
  ASSERT_EQ(first.oBytes.size(), again.oBytes.size());
  EXPECT_EQ(std::memcmp(first.oBytes.data(), again.oBytes.data(),
                        first.oBytes.size()),
            0)
      << "same seed and offset must give bitwise identical O";
  EXPECT_EQ(std::memcmp(first.lse.data(), again.lse.data(),
                        first.lse.size() * sizeof(float)),
            0)
      << "same seed and offset must give bitwise identical LSE";
  auto differing = [&](const Outcome &x) {
    size_t n = 0;
    for (size_t i = 0; i < x.o.size(); ++i)
      n += x.o[i] != first.o[i];
    return n;
  };
  const size_t total = first.o.size();
  const size_t dSeed = differing(otherSeed), dOffset = differing(otherOffset),
               dHigh = differing(otherOffsetHigh);
  std::printf("[    attnc ] dropout reproducibility: identical reruns; "
              "elements of O that change: seed+1 %zu, offset+1 %zu, "
              "offset+2^32 %zu of %zu\n",
              dSeed, dOffset, dHigh, total);
  EXPECT_GT(dSeed, total / 2) << "another seed must change O";
  EXPECT_GT(dOffset, total / 2) << "another offset must change O";
  EXPECT_GT(dHigh, total / 2) << "the offset's high bits must change O";
  // LSE is computed before dropout: the same for every seed.
  EXPECT_EQ(std::memcmp(first.lse.data(), otherSeed.lse.data(),
                        first.lse.size() * sizeof(float)),
            0)
      << "the LSE must not depend on the dropout seed";
}

} // namespace
