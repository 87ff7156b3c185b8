//===- TargetTest.cpp - the GPU target table ------------------------------===//
#include "attn/Model/Target.h"

#include "gtest/gtest.h"

using namespace mlir::attn::model;

TEST(Target, KnownNamesInOrder) {
  std::vector<std::string> expected = {"sm_80", "sm_86", "sm_89",
                                       "sm_90", "sm_90a", "sm_100a"};
  EXPECT_EQ(knownTargetNames(), expected);
}

TEST(Target, UnknownTargetMessageListsKnownOnes) {
  EXPECT_FALSE(lookupTarget("sm_70").has_value());
  EXPECT_EQ(unknownTargetMessage("sm_70"),
            "unknown target 'sm_70'; known: sm_80, sm_86, sm_89, sm_90, "
            "sm_90a, sm_100a");
}

TEST(Target, LookupTakesStdString) {
  std::string name = "sm_90a";
  auto t = lookupTarget(name);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->name, "sm_90a");
}

TEST(Target, Sm80IsA100) {
  auto t = *lookupTarget("sm_80");
  EXPECT_EQ(t.computeCapability(), 80);
  EXPECT_EQ(t.smCount, 108);
  EXPECT_EQ(t.smemPerSmBytes, 164 * 1024);         // 167936
  EXPECT_EQ(t.smemOptinPerBlockBytes, 163 * 1024); // 166912
  EXPECT_EQ(t.regsPerSm, 65536);
  EXPECT_EQ(t.maxRegsPerThread, 255);
  EXPECT_EQ(t.warpSize, 32);
  EXPECT_EQ(t.mma.m, 16);
  EXPECT_EQ(t.mma.n, 8);
  EXPECT_EQ(t.mma.k, 16);
  EXPECT_DOUBLE_EQ(t.mmaPeakFlops, 312e12);
}

TEST(Target, Sm86AndSm89Have99KiBOptIn) {
  for (const char *name : {"sm_86", "sm_89"}) {
    auto t = *lookupTarget(name);
    EXPECT_EQ(t.smemPerSmBytes, 100 * 1024) << name;
    EXPECT_EQ(t.smemOptinPerBlockBytes, 99 * 1024) << name; // 101376
    EXPECT_EQ(t.maxThreadsPerSm, 1536) << name;
  }
  EXPECT_EQ(lookupTarget("sm_86")->smCount, 84);
}

TEST(Target, Sm90IsH100Sxm) {
  for (const char *name : {"sm_90", "sm_90a"}) {
    auto t = *lookupTarget(name);
    EXPECT_EQ(t.smCount, 132) << name;
    EXPECT_EQ(t.smemPerSmBytes, 228 * 1024) << name;         // 233472
    EXPECT_EQ(t.smemOptinPerBlockBytes, 227 * 1024) << name; // 232448
    EXPECT_DOUBLE_EQ(t.hbmSpecBytesPerSec, 3.35e12) << name;
    EXPECT_DOUBLE_EQ(t.hbmBytesPerSec, 3.0e12) << name;
    // mma.sync assumed at 2/3 of the 989 TFLOP/s wgmma peak.
    EXPECT_NEAR(t.mmaPeakFlops / 989e12, 2.0 / 3.0, 0.01) << name;
  }
}

TEST(Target, FromDeviceOverridesAndNames) {
  TargetInfo t = fromDevice(9, 0, 132, 232448, 233472);
  EXPECT_EQ(t.name, "sm_90a");
  EXPECT_EQ(t.smemOptinPerBlockBytes, 232448);
  EXPECT_DOUBLE_EQ(t.mmaPeakFlops, lookupTarget("sm_90a")->mmaPeakFlops);

  // An A10 (sm_86, 72 SMs): peaks scale with the SM count.
  TargetInfo a10 = fromDevice(8, 6, 72, 101376, 102400, 65536, 1536, 16,
                              6 * 1024 * 1024, 0.6e12);
  EXPECT_EQ(a10.name, "sm_86");
  EXPECT_EQ(a10.smCount, 72);
  EXPECT_NEAR(a10.mmaPeakFlops, 154.8e12 * 72 / 84, 1e9);
  EXPECT_DOUBLE_EQ(a10.hbmBytesPerSec, 0.6e12);

  // A capability we do not know starts from the newest lower one.
  TargetInfo future = fromDevice(12, 0, 170, 101376, 102400);
  EXPECT_EQ(future.name, "sm_120a");
  EXPECT_EQ(future.smemOptinPerBlockBytes, 101376);
  EXPECT_NE(future.notes.find("sm_100a"), std::string::npos);
}
