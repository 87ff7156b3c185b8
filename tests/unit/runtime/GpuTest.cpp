//===- GpuTest.cpp - Launches on a real device (skipped without one) ------===//
#include "attnc/CudaDriver.h"
#include "attnc/Kernel.h"
#include "attnc/KernelCache.h"

#include "attn/Kernel/Params.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using namespace attnc;

namespace {

class Gpu : public ::testing::Test {
protected:
  void SetUp() override {
    auto count = deviceCount();
    if (!count)
      GTEST_SKIP() << "no CUDA device: " << count.error().message();
    if (*count == 0)
      GTEST_SKIP() << "no CUDA device: the driver reports 0 devices";
    auto ctx = ensureContext(0);
    ASSERT_TRUE(ctx) << ctx.error().str();
    auto info = queryDevice(0);
    ASSERT_TRUE(info) << info.error().str();
    device = *info;
    options.arch = device.arch;
    cache.reset(new KernelCache(KernelCacheOptions{tmp.path(), true, nullptr}));
  }

  test::TempDir tmp;
  DeviceInfo device;
  NvrtcOptions options;
  std::unique_ptr<KernelCache> cache;
};

// o[i] = scale * i + q[i] for i < seqQ; uses dynamic shared memory as a
// staging buffer so large-smem launches are exercised too.
const char *kKernel = R"(#include "attn/Kernel/Params.h"
extern "C" __global__ void affine(attnc::FwdParams p) {
  extern __shared__ float stage[];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  stage[threadIdx.x] = i < p.seqQ ? static_cast<const float *>(p.q)[i] : 0.f;
  __syncthreads();
  if (i < p.seqQ)
    static_cast<float *>(p.o)[i] = p.scale * i + stage[threadIdx.x];
}
)";

} // namespace

TEST_F(Gpu, DeviceQuery) {
  EXPECT_GT(device.smCount, 0);
  EXPECT_FALSE(device.name.empty());
  EXPECT_GE(device.maxSmemPerBlockOptin, device.maxSmemPerBlock);
  EXPECT_EQ(device.arch,
            archForComputeCapability(device.ccMajor, device.ccMinor));
  auto drv = CudaDriver::get();
  ASSERT_TRUE(drv);
  EXPECT_GT((*drv)->version(), 0);
}

TEST_F(Gpu, LaunchParamsKernel) {
  const int n = 1000;
  std::vector<float> q(n), o(n, -1.0f);
  for (int i = 0; i < n; ++i)
    q[i] = 0.5f * i;
  auto dq = DeviceBuffer::allocate(n * sizeof(float));
  auto dout = DeviceBuffer::allocate(n * sizeof(float));
  ASSERT_TRUE(dq && dout);
  ASSERT_TRUE(dq->copyFromHost(q.data(), n * sizeof(float)));
  ASSERT_TRUE(dout->fill(0));

  auto kernel = cache->getKernel(kKernel, options, "affine");
  ASSERT_TRUE(kernel) << kernel.error().str();
  FwdParams p;
  std::memset(&p, 0, sizeof(p));
  p.q = dq->data();
  p.o = dout->data();
  p.seqQ = n;
  p.scale = 2.0f;
  for (size_t smem : {size_t(256 * 4), size_t(64 * 1024)}) {
    if (smem > size_t(device.maxSmemPerBlockOptin))
      continue;
    Status s =
        (*kernel)->launch(p, Dim3((n + 255) / 256), Dim3(256), smem, nullptr);
    ASSERT_TRUE(s) << s.error().str();
    auto drv = CudaDriver::get();
    ASSERT_TRUE(ATTNC_CU(*drv, ctxSynchronize));
    ASSERT_TRUE(dout->copyToHost(o.data(), n * sizeof(float)));
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(o[i], 2.0f * i + q[i]) << "i=" << i << " smem=" << smem;
  }

  // Timing with events around a launch.
  auto timer = EventTimer::create();
  ASSERT_TRUE(timer) << timer.error().str();
  ASSERT_TRUE(timer->start());
  ASSERT_TRUE(
      (*kernel)->launch(p, Dim3((n + 255) / 256), Dim3(256), 1024, nullptr));
  ASSERT_TRUE(timer->stop());
  auto ms = timer->elapsedMs();
  ASSERT_TRUE(ms) << ms.error().str();
  EXPECT_GE(*ms, 0.0f);

  // The second request is served from memory, same kernel object.
  CacheLookup lookup;
  auto again = cache->getKernel(kKernel, options, "affine", &lookup);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get(), kernel->get());
  EXPECT_EQ(lookup.origin, CacheOrigin::Memory);
}

TEST_F(Gpu, TooMuchSharedMemoryNamesBothNumbers) {
  auto kernel = cache->getKernel(kKernel, options, "affine");
  ASSERT_TRUE(kernel) << kernel.error().str();
  FwdParams p;
  std::memset(&p, 0, sizeof(p));
  size_t tooMuch = size_t(device.maxSmemPerBlockOptin) + 1024;
  Status s = (*kernel)->launch(p, Dim3(1), Dim3(32), tooMuch, nullptr);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::OutOfResources);
  EXPECT_NE(s.error().message().find(std::to_string(tooMuch)),
            std::string::npos)
      << s.error().message();
  EXPECT_NE(
      s.error().message().find(std::to_string(device.maxSmemPerBlockOptin)),
      std::string::npos)
      << s.error().message();
}

TEST_F(Gpu, ArgumentSizeMismatch) {
  auto drv = CudaDriver::get();
  if (!(*drv)->api().funcGetParamInfo)
    GTEST_SKIP() << "driver has no cuFuncGetParamInfo";
  auto kernel = cache->getKernel(kKernel, options, "affine");
  ASSERT_TRUE(kernel) << kernel.error().str();
  char block[8] = {0};
  Status s =
      (*kernel)->launch(block, sizeof(block), Dim3(1), Dim3(32), 0, nullptr);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find(std::to_string(sizeof(FwdParams)) +
                                     "-byte argument"),
            std::string::npos)
      << s.error().message();
}

TEST_F(Gpu, MissingKernelAndDriverErrors) {
  auto missing = cache->getKernel(kKernel, options, "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
  EXPECT_NE(missing.error().message().find("'nope'"), std::string::npos);

  // A failing driver call names the call, file:line and the CUresult.
  auto huge = DeviceBuffer::allocate(size_t(1) << 60);
  ASSERT_FALSE(huge);
  const std::string &m = huge.error().message();
  EXPECT_NE(m.find("cuMemAlloc failed at "), std::string::npos) << m;
  EXPECT_NE(m.find("CudaDriver.cpp:"), std::string::npos) << m;
  EXPECT_NE(m.find("CUDA_ERROR_OUT_OF_MEMORY"), std::string::npos) << m;
}

TEST_F(Gpu, PtxModuleLoads) {
  NvrtcOptions ptx = options;
  // compute_XX of the device: the driver JITs the PTX.
  ptx.arch = "compute_" + device.arch.substr(3);
  auto kernel = cache->getKernel(kKernel, ptx, "affine");
  ASSERT_TRUE(kernel) << kernel.error().str();
}
