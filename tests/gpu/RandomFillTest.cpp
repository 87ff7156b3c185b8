//===- RandomFillTest.cpp - The random inputs made on the device ----------===//
//
// attnc::fillNormal() (attnc/RandomFill.h) writes the inputs of `attnc run
// --shape` and `attnc bench` on the device. These tests check what the GPU
// writes: standard normal moments, the host's copy of the mapping
// (fillNormalValue) to the last bits the rounding allows, determinism in the
// seed and independence of the launch geometry, and that `attnc run --shape
// ... --check` (inputs made on the device, copied back for the float64
// reference) still passes for every kind of spec.
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

#include "attnc/KernelCache.h"
#include "attnc/RandomFill.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sys/wait.h>

using namespace attnc;
using namespace attnc::gputest;

#ifndef ATTNC_TOOL_PATH
#define ATTNC_TOOL_PATH "attnc"
#endif

namespace {

using RandomFill = GpuTest;

template <typename T>
std::vector<T> fillAndFetch(uint64_t count, DType dtype, uint64_t seed,
                            uint32_t stream) {
  std::vector<T> host(count);
  Expected<DeviceBuffer> buf = DeviceBuffer::allocate(count * sizeof(T));
  EXPECT_TRUE(buf) << buf.error().str();
  if (!buf)
    return {};
  Status st = fillNormal(buf->data(), count, dtype, seed, stream);
  EXPECT_TRUE(st) << st.error().str();
  Status copied = buf->copyToHost(host.data(), count * sizeof(T));
  EXPECT_TRUE(copied) << copied.error().str();
  return host;
}

/// ulps of the element type at x (f16: 10 mantissa bits, bf16: 7).
double ulpOf(DType dtype, double x) {
  int bits = dtype == DType::F16 ? 10 : dtype == DType::BF16 ? 7 : 23;
  int e = 0;
  std::frexp(x == 0 ? 1.0 : x, &e);
  return std::ldexp(1.0, e - 1 - bits);
}

} // namespace

TEST_F(RandomFill, F32MomentsAndTheHostMapping) {
  // 2^22 + 3 elements (a partial group of four at the end).
  const uint64_t n = (uint64_t(1) << 22) + 3;
  std::vector<float> v = fillAndFetch<float>(n, DType::F32, 2024, 0);
  ASSERT_EQ(v.size(), n);
  double sum = 0, sum2 = 0, maxDiff = 0;
  for (uint64_t i = 0; i < n; ++i) {
    ASSERT_TRUE(std::isfinite(v[i])) << i;
    sum += v[i], sum2 += double(v[i]) * v[i];
    // The device's logf/sqrtf/sincospif are within a few ulps of the
    // host's: |x| < 6, so 1e-5 is some 20 float ulps.
    if (i < 65536 || i + 65536 > n)
      maxDiff =
          std::max(maxDiff, std::fabs(double(v[i]) -
                                      fillNormalValue(DType::F32, 2024, 0, i)));
  }
  double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
  report("f32", "mean", mean);
  report("f32", "std", sd);
  report("f32", "max |device - host|", maxDiff);
  EXPECT_LT(std::fabs(mean), 5.0 / std::sqrt(double(n)));
  EXPECT_LT(std::fabs(sd - 1.0), 5.0 / std::sqrt(2.0 * n));
  EXPECT_LT(maxDiff, 1e-5);
}

TEST_F(RandomFill, HalfTypesRoundToNearest) {
  const uint64_t n = uint64_t(1) << 20;
  for (DType dtype : {DType::F16, DType::BF16}) {
    std::vector<uint16_t> v = fillAndFetch<uint16_t>(n, dtype, 77, 2);
    ASSERT_EQ(v.size(), n);
    double sum = 0, sum2 = 0;
    uint64_t inexact = 0;
    for (uint64_t i = 0; i < n; ++i) {
      double x = dtype == DType::F16 ? halfToFloat(v[i]) : bf16ToFloat(v[i]);
      ASSERT_TRUE(std::isfinite(x)) << i;
      sum += x, sum2 += x * x;
      double host = fillNormalValue(dtype, 77, 2, i);
      // The same float gives the same bits; the device's float is within
      // 1e-5 of the host's (F32MomentsAndTheHostMapping), so after rounding
      // the two differ by at most one ulp plus that (values near 0, where
      // Box-Muller's cos is near a zero crossing, differ by more than an
      // ulp of their own tiny magnitude: seen on the H200 at 2e-16).
      if (x != host) {
        ++inexact;
        EXPECT_LE(std::fabs(x - host), ulpOf(dtype, host) + 1e-5) << i;
      }
    }
    double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
    report(dtypeName(dtype), "mean", mean);
    report(dtypeName(dtype), "std", sd);
    report(dtypeName(dtype), "elements not bit-equal to the host's",
           double(inexact));
    EXPECT_LT(std::fabs(mean), 5.0 / std::sqrt(double(n)));
    // Rounding to the type adds variance of about ulp^2/12: a 1e-3 band.
    EXPECT_LT(std::fabs(sd - 1.0), 5.0 / std::sqrt(2.0 * n) + 1e-3);
    EXPECT_LT(inexact, n / 1000);
  }
}

TEST_F(RandomFill, DeterministicAndIndependentOfTheGrid) {
  const uint64_t n = 1000003;
  std::vector<uint16_t> a = fillAndFetch<uint16_t>(n, DType::BF16, 5, 1);
  std::vector<uint16_t> b = fillAndFetch<uint16_t>(n, DType::BF16, 5, 1);
  std::vector<uint16_t> otherSeed =
      fillAndFetch<uint16_t>(n, DType::BF16, 6, 1);
  std::vector<uint16_t> otherStream =
      fillAndFetch<uint16_t>(n, DType::BF16, 5, 2);
  ASSERT_EQ(a.size(), n);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, otherSeed);
  EXPECT_NE(a, otherStream);

  // The same kernel launched with one block of 32 threads (fillNormal
  // picks many blocks of 256) writes the same bytes.
  NvrtcOptions opts;
  opts.arch = device.arch;
  opts.programName = "attnc_fill_normal.cu";
  Expected<std::shared_ptr<Kernel>> kernel = KernelCache::global().getKernel(
      fillNormalSource(), opts, *fillNormalKernelName(DType::BF16));
  ASSERT_TRUE(kernel) << kernel.error().str();
  Expected<DeviceBuffer> buf = DeviceBuffer::allocate(n * 2);
  ASSERT_TRUE(buf);
  struct {
    void *out;
    unsigned long long count, seed;
    unsigned stream, pad;
  } p{buf->data(), n, 5, 1, 0};
  Status st = (*kernel)->launch(&p, sizeof p, Dim3(1), Dim3(32), 0, nullptr);
  ASSERT_TRUE(st) << st.error().str();
  std::vector<uint16_t> c(n);
  ASSERT_TRUE(buf->copyToHost(c.data(), n * 2));
  EXPECT_EQ(a, c);
}

TEST_F(RandomFill, RunShapeCheckPasses) {
  // `attnc run --shape ... --check` over the examples (inputs on the
  // device, host copies for the float64 reference): PASS, exit 0.
  const char *tool = std::getenv("ATTNC_TOOL");
  std::string attnc = tool && *tool ? tool : ATTNC_TOOL_PATH;
  struct Run {
    const char *spec, *shape;
  } runs[] = {
      {"plain.attn", "2,4,4,256,200"},
      {"causal.attn", "1,2,2,300,300"},
      {"gqa.attn", "1,32,8,128,256"},
      {"softcap.attn", "1,4,2,128,128"},
      {"key_padding.attn", "3,2,2,128,192"},
      {"block_sparse.attn", "1,2,2,256,256"},
      {"dropout.attn", "1,2,2,128,128"},
      {"alibi.attn", "1,16,16,128,128"},
  };
  for (const Run &r : runs) {
    std::string cmd = "'" + attnc + "' run '" + examplesDir() + "/" + r.spec +
                      "' --shape " + r.shape + " --data-seed 9 --check 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr) << cmd;
    std::string out;
    char buf[512];
    while (size_t got = std::fread(buf, 1, sizeof buf, p))
      out.append(buf, got);
    int status = pclose(p);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd << "\n"
                                                               << out;
    EXPECT_NE(out.find(": PASS"), std::string::npos) << cmd << "\n" << out;
    std::printf("%s", out.c_str());
  }
}
