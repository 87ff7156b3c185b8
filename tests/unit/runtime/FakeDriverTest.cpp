//===- FakeDriverTest.cpp - The driver path against a pretend libcuda ----===//
//
// Runs with ATTNC_LIBCUDA pointing at libattnc-fake-cuda.so (FakeCuda.cpp):
// contexts, device queries, module loading through the kernel cache, the
// shared-memory opt-in and argument passing, all without a GPU.
//
//===----------------------------------------------------------------------===//
#include "attnc/CudaDriver.h"
#include "attnc/Kernel.h"
#include "attnc/KernelCache.h"
#include "attnc/RandomFill.h"
#include "attnc/rt/RandomNormal.h"

#include "attn/Kernel/Params.h"
#include "attn/Model/Target.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <vector>

using namespace attnc;

namespace {

template <typename Fn> Fn hook(const char *name) {
  const char *lib = std::getenv("ATTNC_LIBCUDA");
  void *h = lib ? dlopen(lib, RTLD_NOW | RTLD_NOLOAD) : nullptr;
  return h ? reinterpret_cast<Fn>(dlsym(h, name)) : nullptr;
}

int counter(const char *name) {
  auto fn = hook<int (*)()>(name);
  return fn ? fn() : -1;
}

const char *kKernel = "#include \"attn/Kernel/Params.h\"\n"
                      "extern \"C\" __global__ void k(attnc::FwdParams p) {\n"
                      "  if (threadIdx.x == 0) *p.lse = p.scale;\n"
                      "}\n";

class FakeDriver : public ::testing::Test {
protected:
  void SetUp() override {
    auto drv = CudaDriver::get();
    ASSERT_TRUE(drv) << drv.error().str();
    ASSERT_NE(hook<int (*)()>("fakeLaunches"), nullptr)
        << "ATTNC_LIBCUDA is not the fake driver";
    hook<void (*)(size_t)>("fakeSetParamBytes")(sizeof(FwdParams));
  }
  test::TempDir tmp;
};

} // namespace

TEST_F(FakeDriver, DeviceQuery) {
  auto drv = CudaDriver::get();
  EXPECT_EQ((*drv)->version(), 13000);
  auto n = deviceCount();
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  auto info = queryDevice(0);
  ASSERT_TRUE(info) << info.error().str();
  EXPECT_EQ(info->name, "Fake H100");
  EXPECT_EQ(info->arch, "sm_90a");
  EXPECT_EQ(info->smCount, 132);
  EXPECT_EQ(info->maxSmemPerBlockOptin, 232448);
  auto bad = queryDevice(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::NoDevice);
  EXPECT_NE(bad.error().message().find("1 device(s)"), std::string::npos);
}

/// Makes the fake driver report another device while in scope.
struct FakeDevice {
  explicit FakeDevice(const char *which) {
    setenv("ATTNC_FAKE_DEVICE", which, 1);
  }
  ~FakeDevice() { unsetenv("ATTNC_FAKE_DEVICE"); }
};

TEST_F(FakeDriver, DeviceQueryReadsClocksAndL2) {
  FakeDevice h200("h200");
  auto info = queryDevice(0);
  ASSERT_TRUE(info) << info.error().str();
  EXPECT_EQ(info->name, "NVIDIA H200");
  EXPECT_EQ(info->l2Bytes, 60 * 1024 * 1024);
  EXPECT_EQ(info->smClockKHz, 1980000);
  EXPECT_EQ(info->memClockKHz, 3201000);
  EXPECT_EQ(info->memBusWidthBits, 6016);
  EXPECT_EQ(info->regsPerSm, 65536);
  EXPECT_EQ(info->maxThreadsPerSm, 2048);
  EXPECT_EQ(info->maxBlocksPerSm, 32);
}

TEST_F(FakeDriver, LiveTargetNamesTheH200) {
  FakeDevice h200("h200");
  std::string remark;
  auto t = liveTarget(&remark);
  ASSERT_TRUE(t) << t.error().str();
  EXPECT_EQ(t->name, "sm_90a");
  EXPECT_EQ(t->part, "H200 SXM 141GB");
  EXPECT_DOUBLE_EQ(t->hbmBytesPerSec, 4.3e12);
  EXPECT_EQ(t->hbmBasis, "measured copy");
  EXPECT_EQ(t->l2Bytes, 60 * 1024 * 1024);
  EXPECT_EQ(remark, "live device NVIDIA H200: NVIDIA H200 is the H200 SXM "
                    "141GB (sm_90a): table figures, HBM 4.30 TB/s measured "
                    "copy; SM count, shared memory and L2 size read from the "
                    "driver");
  // The remark may be null.
  EXPECT_TRUE(liveTarget(nullptr));
}

TEST_F(FakeDriver, LiveTargetDerivesAnUnknownPart) {
  // The fake fails the SM clock query: read as unknown, not an error.
  FakeDevice unknown("unknown");
  auto info = queryDevice(0);
  ASSERT_TRUE(info) << info.error().str();
  EXPECT_EQ(info->smClockKHz, 0);
  std::string remark;
  auto t = liveTarget(&remark);
  ASSERT_TRUE(t) << t.error().str();
  EXPECT_EQ(t->name, "sm_90a");
  EXPECT_EQ(t->part, "NVIDIA H100 PCIe");
  EXPECT_EQ(t->smCount, 114);
  EXPECT_EQ(t->l2Bytes, 50 * 1024 * 1024);
  // 2 x 1593 MHz x 5120 bits / 8, 90% of it.
  EXPECT_DOUBLE_EQ(t->hbmBytesPerSec, 0.9 * 2 * 1593e6 * 640);
  // 114 SMs x the H100 SXM5's 1980 MHz (no clock from the driver) x 2731.
  EXPECT_DOUBLE_EQ(t->mmaPeakFlops, 114 * 1980e6 * (4096.0 * 2 / 3));
  EXPECT_NE(remark.find("live device NVIDIA H100 PCIe: NVIDIA H100 PCIe is "
                        "not in the table (sm_90a parts: H100 SXM5 80GB, "
                        "H200 SXM 141GB)"),
            std::string::npos)
      << remark;
  EXPECT_NE(remark.find("HBM 2.04 TB/s derived as 2 x 1593 MHz memory clock "
                        "x 5120-bit bus / 8"),
            std::string::npos)
      << remark;
  EXPECT_NE(remark.find("1980 MHz SM clock (the H100 SXM5 80GB's)"),
            std::string::npos)
      << remark;
}

TEST_F(FakeDriver, ContextsAndMemory) {
  auto ctx = ensureContext(0);
  ASSERT_TRUE(ctx) << ctx.error().str();
  auto again = ensureContext(0);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *ctx);
  auto cur = currentDevice();
  ASSERT_TRUE(cur) << cur.error().str();
  EXPECT_EQ(cur->ordinal, 0);

  auto buf = DeviceBuffer::allocate(64);
  ASSERT_TRUE(buf) << buf.error().str();
  char in[64], out[64];
  for (int i = 0; i < 64; ++i)
    in[i] = char(i);
  ASSERT_TRUE(buf->copyFromHost(in, 64));
  ASSERT_TRUE(buf->copyToHost(out, 32, 32));
  EXPECT_EQ(std::memcmp(out, in + 32, 32), 0);
  Status range = buf->copyToHost(out, 64, 8);
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().code(), ErrorCode::InvalidArgument);
  ASSERT_TRUE(buf->fill(7));
  ASSERT_TRUE(buf->copyToHost(out, 1));
  EXPECT_EQ(out[0], 7);

  // Driver failures name the call, file:line, the error name and string.
  auto huge = DeviceBuffer::allocate(size_t(1) << 41);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code(), ErrorCode::OutOfResources);
  const std::string &m = huge.error().message();
  EXPECT_EQ(m.rfind("cuMemAlloc failed at ", 0), 0u) << m;
  EXPECT_NE(m.find("CudaDriver.cpp:"), std::string::npos) << m;
  EXPECT_NE(m.find("CUDA_ERROR_OUT_OF_MEMORY (out of memory)"),
            std::string::npos)
      << m;

  auto timer = EventTimer::create();
  ASSERT_TRUE(timer) << timer.error().str();
  ASSERT_TRUE(timer->start());
  ASSERT_TRUE(timer->stop());
  auto ms = timer->elapsedMs();
  ASSERT_TRUE(ms);
  EXPECT_EQ(*ms, 1.5f);
}

TEST_F(FakeDriver, BadImageIsReported) {
  const char junk[] = "junk";
  auto m = Module::load(junk, sizeof(junk), PayloadKind::Cubin);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message().find("cuModuleLoadData failed"),
            std::string::npos);
  EXPECT_NE(m.error().message().find("CUDA_ERROR_INVALID_IMAGE"),
            std::string::npos);
}

TEST_F(FakeDriver, CacheLoadsAndLaunches) {
  KernelCache cache(KernelCacheOptions{tmp.path(), true, nullptr});
  NvrtcOptions opts;
  opts.arch = "sm_90a";
  int loadedBefore = counter("fakeModulesLoaded");
  CacheLookup lookup;
  auto kernel = cache.getKernel(kKernel, opts, "k", &lookup);
  ASSERT_TRUE(kernel) << kernel.error().str();
  EXPECT_EQ(lookup.origin, CacheOrigin::Compiled);
  EXPECT_EQ(counter("fakeModulesLoaded"), loadedBefore + 1);
  EXPECT_EQ((*kernel)->staticSmemBytes(), 1024);

  // Same context and key: the same kernel, no second module.
  auto again = cache.getKernel(kKernel, opts, "k", &lookup);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get(), kernel->get());
  EXPECT_EQ(lookup.origin, CacheOrigin::Memory);
  EXPECT_EQ(counter("fakeModulesLoaded"), loadedBefore + 1);

  auto missing = cache.getKernel(kKernel, opts, "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
  EXPECT_NE(missing.error().message().find("'nope'"), std::string::npos);

  FwdParams p;
  std::memset(&p, 0, sizeof(p));
  p.scale = 0.125f;
  p.seqQ = 77;
  int setsBefore = counter("fakeSetAttributeCalls");
  int launchesBefore = counter("fakeLaunches");

  // Small: no opt-in needed.
  ASSERT_TRUE((*kernel)->launch(p, Dim3(3), Dim3(128), 16 * 1024, nullptr));
  EXPECT_EQ(counter("fakeSetAttributeCalls"), setsBefore);
  auto params = hook<const unsigned char *(*)()>("fakeLastParams")();
  FwdParams seen;
  ASSERT_LE(sizeof(seen), hook<size_t (*)()>("fakeLastParamsCapacity")())
      << "the fake driver keeps fewer bytes than a params block";
  std::memcpy(&seen, params, sizeof(seen));
  EXPECT_EQ(seen.scale, 0.125f);
  EXPECT_EQ(seen.seqQ, 77);
  EXPECT_EQ(counter("fakeLastGridX"), 3);

  // Large: raises the function's limit once, then reuses it.
  Status big = (*kernel)->launch(p, Dim3(1), Dim3(128), 200 * 1024, nullptr);
  ASSERT_TRUE(big) << big.error().str();
  EXPECT_EQ(counter("fakeSetAttributeCalls"), setsBefore + 1);
  ASSERT_TRUE((*kernel)->launch(p, Dim3(1), Dim3(128), 100 * 1024, nullptr));
  EXPECT_EQ(counter("fakeSetAttributeCalls"), setsBefore + 1);
  EXPECT_EQ(counter("fakeLaunches"), launchesBefore + 3);

  // Beyond the opt-in maximum (232448 B, minus 1024 B static): an error
  // naming both numbers, and no launch.
  Status tooBig = (*kernel)->launch(p, Dim3(1), Dim3(128), 232448, nullptr);
  ASSERT_FALSE(tooBig);
  EXPECT_EQ(tooBig.error().code(), ErrorCode::OutOfResources);
  const std::string &m = tooBig.error().message();
  EXPECT_NE(m.find("needs 232448 B of dynamic shared memory (+ 1024 B "
                   "static)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("Fake H100 (sm_90a) allows at most 232448 B per block"),
            std::string::npos)
      << m;
  EXPECT_EQ(counter("fakeLaunches"), launchesBefore + 3);

  // A wrong argument size is caught when the driver reports parameter sizes.
  char small[8] = {0};
  Status wrong =
      (*kernel)->launch(small, sizeof(small), Dim3(1), Dim3(32), 0, nullptr);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find(
                "takes a " + std::to_string(sizeof(FwdParams)) +
                "-byte argument but the launch passed 8 bytes"),
            std::string::npos)
      << wrong.error().message();
}

TEST_F(FakeDriver, PtxModulesLoadToo) {
  KernelCache cache(KernelCacheOptions{tmp.path(), true, nullptr});
  NvrtcOptions opts;
  opts.arch = "compute_90a";
  auto kernel = cache.getKernel(kKernel, opts, "k");
  ASSERT_TRUE(kernel) << kernel.error().str();
  // A second cache object (a new process) loads from disk.
  KernelCache second(KernelCacheOptions{tmp.path(), true, nullptr});
  CacheLookup lookup;
  auto k2 = second.getKernel(kKernel, opts, "k", &lookup);
  ASSERT_TRUE(k2) << k2.error().str();
  EXPECT_EQ(lookup.origin, CacheOrigin::Disk);
}

TEST_F(FakeDriver, FillNormalCompilesThroughTheCacheAndLaunches) {
  // fillNormal() compiles its kernel for the device's arch through the
  // cache it is given, once, and launches it with the sizes and seed asked
  // for; the fake carries the kernel out with the host's copy of the
  // mapping, so every element is checked. 1001 elements: not a multiple of
  // the four a thread writes, so the tail is exercised.
  std::vector<std::string> log;
  KernelCache cache(KernelCacheOptions{
      tmp.path(), true,
      [&log](LogLevel, const std::string &m) { log.push_back(m); }});
  const uint64_t n = 1001;
  auto buf = DeviceBuffer::allocate(n * 2 + 2);
  ASSERT_TRUE(buf) << buf.error().str();
  ASSERT_TRUE(buf->fill(0xff));
  int launchesBefore = counter("fakeLaunches");
  Status st = fillNormal(buf->data(), n, DType::BF16, 42, 5, nullptr, &cache);
  ASSERT_TRUE(st) << st.error().str();
  EXPECT_EQ(counter("fakeLaunches"), launchesBefore + 1);
  EXPECT_EQ(cache.stats().compiles, 1u);
  EXPECT_EQ(counter("fakeLastGridX"), 1); // ceil(ceil(1001 / 4) / 256)
  rt::FillNormalParams seen;
  std::memcpy(&seen, hook<const unsigned char *(*)()>("fakeLastParams")(),
              sizeof seen);
  EXPECT_EQ(seen.out, buf->data());
  EXPECT_EQ(seen.count, n);
  EXPECT_EQ(seen.seed, 42u);
  EXPECT_EQ(seen.stream, 5u);

  std::vector<uint16_t> host(n + 1);
  ASSERT_TRUE(buf->copyToHost(host.data(), (n + 1) * 2));
  for (uint64_t i = 0; i < n; ++i)
    ASSERT_EQ(bf16ToFloat(host[i]), fillNormalValue(DType::BF16, 42, 5, i))
        << i;
  EXPECT_EQ(host[n], 0xffff) << "wrote past the count";

  // The second fill (another dtype's kernel of the same module) is a memory
  // hit; the entry on disk is the one the key names.
  auto f32 = DeviceBuffer::allocate(16);
  ASSERT_TRUE(f32);
  ASSERT_TRUE(fillNormal(f32->data(), 4, DType::F32, 42, 5, nullptr, &cache));
  EXPECT_EQ(cache.stats().compiles, 1u);
  NvrtcOptions opts;
  opts.arch = "sm_90a";
  auto key = cache.keyFor(fillNormalSource(), opts);
  ASSERT_TRUE(key);
  struct stat sb;
  EXPECT_EQ(::stat(cache.entryPath(*key).c_str(), &sb), 0);

  // Only f32, f16 and bf16; no launch for anything else or for 0 elements.
  int launches = counter("fakeLaunches");
  Status bad = fillNormal(buf->data(), n, DType::I32, 1, 0, nullptr, &cache);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::Unsupported);
  ASSERT_TRUE(fillNormal(buf->data(), 0, DType::F16, 1, 0, nullptr, &cache));
  Status null = fillNormal(nullptr, 4, DType::F16, 1, 0, nullptr, &cache);
  ASSERT_FALSE(null);
  EXPECT_EQ(null.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(counter("fakeLaunches"), launches);
}

TEST_F(FakeDriver, MemoryIsFinite) {
  // The pretend device has 80 GiB: more is CUDA_ERROR_OUT_OF_MEMORY without
  // touching host memory, and freeing gives it back.
  auto tooMuch = DeviceBuffer::allocate((size_t(80) << 30) + 1);
  ASSERT_FALSE(tooMuch);
  EXPECT_NE(tooMuch.error().message().find("CUDA_ERROR_OUT_OF_MEMORY"),
            std::string::npos);
  {
    auto some = DeviceBuffer::allocate(size_t(1) << 20);
    ASSERT_TRUE(some);
  }
  auto again = DeviceBuffer::allocate(size_t(1) << 20);
  EXPECT_TRUE(again);
}
