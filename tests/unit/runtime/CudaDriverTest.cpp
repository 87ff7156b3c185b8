//===- CudaDriverTest.cpp - The driver loader without a GPU ---------------===//
#include "attnc/CudaDriver.h"
#include "attnc/Kernel.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace attnc;

TEST(CudaDriver, MissingLibraryIsACleanError) {
  auto drv = CudaDriver::load("libattnc-no-such-driver.so.1");
  ASSERT_FALSE(drv);
  EXPECT_EQ(drv.error().code(), ErrorCode::NoDriver);
  const std::string &m = drv.error().message();
  EXPECT_EQ(m.rfind("no CUDA driver: libattnc-no-such-driver.so.1 could not "
                    "be loaded: ",
                    0),
            0u)
      << m;
  // dlerror() text is included.
  EXPECT_NE(m.find("libattnc-no-such-driver.so.1: cannot open shared object"),
            std::string::npos)
      << m;
}

TEST(CudaDriver, NotADriverNamesMissingSymbols) {
  // libz is surely present (LLVM links it) and has no cu* symbols.
  auto drv = CudaDriver::load("libz.so.1");
  ASSERT_FALSE(drv);
  EXPECT_EQ(drv.error().code(), ErrorCode::NoDriver);
  EXPECT_NE(drv.error().message().find("missing cuGetErrorName"),
            std::string::npos)
      << drv.error().message();
  EXPECT_NE(drv.error().message().find("cuLaunchKernel"), std::string::npos);
  EXPECT_NE(drv.error().message().find("cuMemAlloc_v2"), std::string::npos);
}

TEST(CudaDriver, DefaultLoadFailsCleanlyWithoutDriver) {
  auto drv = CudaDriver::get();
  if (drv)
    GTEST_SKIP() << "a CUDA driver is installed here (" << (*drv)->library()
                 << ", version " << (*drv)->version() << ")";
  const char *env = std::getenv("ATTNC_LIBCUDA");
  std::string lib = env && *env ? env : "libcuda.so.1";
  EXPECT_EQ(drv.error().message().rfind(
                "no CUDA driver: " + lib + " could not be loaded: ", 0),
            0u)
      << drv.error().message();
  // Same answer on every call (loaded once).
  auto again = CudaDriver::get();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message(), drv.error().message());

  // Everything that needs the driver reports the same error, no crash.
  auto count = deviceCount();
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().code(), ErrorCode::NoDriver);
  auto dev = queryDevice(0);
  ASSERT_FALSE(dev);
  EXPECT_EQ(dev.error().code(), ErrorCode::NoDriver);
  auto ctx = ensureContext(0);
  ASSERT_FALSE(ctx);
  auto buf = DeviceBuffer::allocate(1024);
  ASSERT_FALSE(buf);
  EXPECT_EQ(buf.error().code(), ErrorCode::NoDriver);
  auto timer = EventTimer::create();
  ASSERT_FALSE(timer);
  EXPECT_EQ(timer.error().code(), ErrorCode::NoDriver);
  const char image[] = "not a module";
  auto mod = Module::load(image, sizeof(image), PayloadKind::Ptx);
  ASSERT_FALSE(mod);
  EXPECT_EQ(mod.error().code(), ErrorCode::NoDriver);
}

TEST(CudaDriver, ArchForComputeCapability) {
  EXPECT_EQ(archForComputeCapability(8, 0), "sm_80");
  EXPECT_EQ(archForComputeCapability(8, 6), "sm_86");
  EXPECT_EQ(archForComputeCapability(8, 9), "sm_89");
  EXPECT_EQ(archForComputeCapability(9, 0), "sm_90a");
  EXPECT_EQ(archForComputeCapability(10, 0), "sm_100a");
  EXPECT_EQ(archForComputeCapability(12, 0), "sm_120a");
  EXPECT_EQ(archForComputeCapability(7, 5), "sm_75");
}
