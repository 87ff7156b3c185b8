//===- RandomFillTest.cpp - The device random input generator, on the CPU -===//
//
// fillNormalSource() compiles through NVRTC for sm_80 and sm_90a (without
// a GPU), and the mapping it shares with the host (attnc/rt/RandomNormal.h)
// gives standard normal values, deterministic in (seed, stream, index).
// tests/gpu/RandomFillTest.cpp checks the device's values against these.
//
//===----------------------------------------------------------------------===//
#include "attnc/RandomFill.h"
#include "attnc/Nvrtc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

using namespace attnc;

namespace {

void compilesFor(const std::string &arch) {
  NvrtcOptions opts;
  opts.arch = arch;
  opts.warningsAsErrors = true; // CI's rule for every kernel attnc ships
  Expected<NvrtcOutput> out = compileCuda(fillNormalSource(), opts);
  ASSERT_TRUE(out) << out.error().str();
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    Expected<std::string> name = fillNormalKernelName(t);
    ASSERT_TRUE(name);
    EXPECT_NE(out->ptx.find(".entry " + *name), std::string::npos) << *name;
  }
  EXPECT_NE(out->ptx.find(".target " + arch), std::string::npos);
  // The conversions are the round-to-nearest-even PTX instructions.
  EXPECT_NE(out->ptx.find("cvt.rn.f16.f32"), std::string::npos);
  EXPECT_NE(out->ptx.find("cvt.rn.bf16.f32"), std::string::npos);
  ASSERT_GT(out->cubin.size(), 4u);
  EXPECT_EQ(std::memcmp(out->cubin.data(),
                        "\x7f"
                        "ELF",
                        4),
            0);
}

} // namespace

TEST(RandomFill, CompilesForSm80) { compilesFor("sm_80"); }
TEST(RandomFill, CompilesForSm90a) { compilesFor("sm_90a"); }

TEST(RandomFill, KernelNames) {
  EXPECT_EQ(*fillNormalKernelName(DType::F32), "attnc_fill_normal_f32");
  EXPECT_EQ(*fillNormalKernelName(DType::F16), "attnc_fill_normal_f16");
  EXPECT_EQ(*fillNormalKernelName(DType::BF16), "attnc_fill_normal_bf16");
  Expected<std::string> bad = fillNormalKernelName(DType::I32);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(bad.error().message().find("dtype i32"), std::string::npos);
}

TEST(RandomFill, StandardNormalMoments) {
  // 2^20 values: mean within 5 sigma of 0 (sigma = 2^-10), variance within
  // 5 sigma of 1 (sigma = sqrt(2 / 2^20)), fourth moment near 3, and no
  // value outside what Box-Muller of 24-bit uniforms can give (|x| < 5.8).
  const uint64_t n = uint64_t(1) << 20;
  double sum = 0, sum2 = 0, sum4 = 0, maxAbs = 0;
  for (uint64_t i = 0; i < n; ++i) {
    double x = fillNormalValue(DType::F32, 1234, 0, i);
    ASSERT_TRUE(std::isfinite(x)) << i;
    sum += x, sum2 += x * x, sum4 += x * x * x * x;
    maxAbs = std::max(maxAbs, std::fabs(x));
  }
  double mean = sum / n, var = sum2 / n - mean * mean;
  EXPECT_LT(std::fabs(mean), 5.0 / 1024);
  EXPECT_LT(std::fabs(var - 1.0), 5.0 * std::sqrt(2.0 / n));
  EXPECT_NEAR(sum4 / n, 3.0, 0.05);
  EXPECT_LT(maxAbs, 5.8);
  EXPECT_GT(maxAbs, 4.0); // the tails are there
}

TEST(RandomFill, DeterministicAndIndependent) {
  // The same (seed, stream, index) gives the same value; another seed or
  // stream gives uncorrelated ones, and neighbouring indices differ.
  const int n = 1 << 16;
  double dotSeed = 0, dotStream = 0, dotShift = 0;
  std::set<float> distinct;
  for (int i = 0; i < n; ++i) {
    float a = fillNormalValue(DType::F32, 7, 3, i);
    EXPECT_EQ(a, fillNormalValue(DType::F32, 7, 3, i));
    dotSeed += a * fillNormalValue(DType::F32, 8, 3, i);
    dotStream += a * fillNormalValue(DType::F32, 7, 4, i);
    dotShift += a * fillNormalValue(DType::F32, 7, 3, i + 1);
    distinct.insert(a);
  }
  // Correlations of independent standard normals: sigma = 1/sqrt(n).
  EXPECT_LT(std::fabs(dotSeed / n), 5.0 / 256);
  EXPECT_LT(std::fabs(dotStream / n), 5.0 / 256);
  EXPECT_LT(std::fabs(dotShift / n), 5.0 / 256);
  EXPECT_GT(distinct.size(), size_t(n) * 99 / 100);
  // The seed's high half matters too (it is Philox's second key word).
  EXPECT_NE(fillNormalValue(DType::F32, 1, 0, 0),
            fillNormalValue(DType::F32, 1 | (uint64_t(1) << 32), 0, 0));
  // So do the high bits of the index (the counter's second word).
  EXPECT_NE(fillNormalValue(DType::F32, 1, 0, 5),
            fillNormalValue(DType::F32, 1, 0, 5 + (uint64_t(1) << 34)));
}

TEST(RandomFill, RoundsToTheElementType) {
  for (uint64_t i = 0; i < 4096; ++i) {
    float x = fillNormalValue(DType::F32, 99, 1, i);
    EXPECT_EQ(fillNormalValue(DType::F16, 99, 1, i),
              halfToFloat(floatToHalf(x)));
    EXPECT_EQ(fillNormalValue(DType::BF16, 99, 1, i),
              bf16ToFloat(floatToBf16(x)));
  }
}
