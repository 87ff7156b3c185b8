//===- TargetTest.cpp - the GPU target table ------------------------------===//
#include "attn/Model/Target.h"

#include "gtest/gtest.h"

using namespace mlir::attn::model;

TEST(Target, KnownNamesInOrder) {
  std::vector<std::string> expected = {"sm_80", "sm_86",  "sm_89",
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

TEST(Target, H200Figures) {
  auto t = lookupTarget("sm_90a", "H200");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->name, "sm_90a");
  EXPECT_EQ(t->part, "H200 SXM 141GB");
  EXPECT_EQ(t->computeCapability(), 90);
  EXPECT_EQ(t->smCount, 132);
  EXPECT_EQ(t->smemOptinPerBlockBytes, 232448);
  EXPECT_EQ(t->smemPerSmBytes, 228 * 1024);
  EXPECT_EQ(t->l2Bytes, 60 * 1024 * 1024);
  EXPECT_EQ(t->smClockMHz, 1980);
  EXPECT_DOUBLE_EQ(t->hbmSpecBytesPerSec, 4.8e12);
  EXPECT_DOUBLE_EQ(t->hbmBytesPerSec, 4.3e12);
  EXPECT_EQ(t->hbmBasis, "measured copy");
  EXPECT_NEAR(t->mmaPeakFlops / 989e12, 2.0 / 3.0, 0.01);
  EXPECT_DOUBLE_EQ(t->mmaFlopsPerClockPerSm, 4096.0 * 2 / 3);
}

TEST(Target, DefaultPartOfEachArch) {
  EXPECT_EQ(lookupTarget("sm_80")->part, "A100 SXM4 80GB");
  EXPECT_EQ(lookupTarget("sm_86")->part, "RTX A6000");
  EXPECT_EQ(lookupTarget("sm_89")->part, "RTX 4090");
  EXPECT_EQ(lookupTarget("sm_90")->part, "H100 SXM5 80GB");
  EXPECT_EQ(lookupTarget("sm_90a")->part, "H100 SXM5 80GB");
  EXPECT_EQ(lookupTarget("sm_100a")->part, "B200");
  EXPECT_EQ(knownPartNames(), (std::vector<std::string>{
                                  "A100 SXM4 80GB", "RTX A6000", "RTX 4090",
                                  "H100 SXM5 80GB", "H200 SXM 141GB", "B200"}));
}

TEST(Target, PartLookupByName) {
  for (const char *name :
       {"H200", "h200", "H200 SXM", "h200-sxm-141gb", "H200 SXM 141GB"}) {
    const PartInfo *p = findPart(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->name, "H200 SXM 141GB") << name;
  }
  EXPECT_EQ(findPart("a6000")->name, "RTX A6000");
  EXPECT_EQ(findPart("rtx 4090")->name, "RTX 4090");
  // Prefixes match whole words only.
  EXPECT_EQ(findPart("H20"), nullptr);
  EXPECT_EQ(findPart(""), nullptr);
  EXPECT_EQ(findPart("V100"), nullptr);

  // The part on each arch of its compute capability, and on its own arch.
  EXPECT_EQ(lookupTarget("sm_90", "h200")->name, "sm_90");
  EXPECT_EQ(lookupTarget("sm_90", "h200")->hbmBytesPerSec, 4.3e12);
  auto own = lookupPart("H200");
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->name, "sm_90a");
  EXPECT_EQ(own->part, "H200 SXM 141GB");
  EXPECT_FALSE(lookupPart("V100").has_value());
}

TEST(Target, PartLookupErrorsNameTheKnownOnes) {
  EXPECT_FALSE(lookupTarget("sm_90a", "V100").has_value());
  EXPECT_EQ(unknownPartMessage("sm_90a", "V100"),
            "unknown part 'V100'; known: A100 SXM4 80GB, RTX A6000, "
            "RTX 4090, H100 SXM5 80GB, H200 SXM 141GB, B200");
  EXPECT_FALSE(lookupTarget("sm_80", "H200").has_value());
  EXPECT_EQ(unknownPartMessage("sm_80", "H200"),
            "part 'H200 SXM 141GB' is compute capability 9.0, not sm_80 "
            "(8.0); parts of sm_80: A100 SXM4 80GB");
  EXPECT_EQ(unknownPartMessage("sm_70", "H200"),
            "unknown target 'sm_70'; known: sm_80, sm_86, sm_89, sm_90, "
            "sm_90a, sm_100a");
  EXPECT_EQ(knownPartList("sm_90"), "H100 SXM5 80GB, H200 SXM 141GB");
}

/// What the driver of the lent H200 reports (2026-12-02).
static DeviceProperties h200Device() {
  DeviceProperties d;
  d.name = "NVIDIA H200";
  d.ccMajor = 9, d.ccMinor = 0;
  d.smCount = 132;
  d.smemOptinPerBlockBytes = 232448;
  d.smemPerSmBytes = 233472;
  d.regsPerSm = 65536;
  d.maxThreadsPerSm = 2048;
  d.maxBlocksPerSm = 32;
  d.l2Bytes = 60 * 1024 * 1024;
  d.smClockKHz = 1980000;
  d.memClockKHz = 3201000;
  d.memBusWidthBits = 6016;
  return d;
}

TEST(Target, FromDeviceRecognisesTheH200) {
  std::string remark;
  TargetInfo t = fromDevice(h200Device(), &remark);
  EXPECT_EQ(t.name, "sm_90a");
  EXPECT_EQ(t.part, "H200 SXM 141GB");
  // Table figures, not derived ones (2 x 3201 MHz x 752 B would be 4.81).
  EXPECT_DOUBLE_EQ(t.hbmBytesPerSec, 4.3e12);
  EXPECT_DOUBLE_EQ(t.hbmSpecBytesPerSec, 4.8e12);
  EXPECT_DOUBLE_EQ(t.mmaPeakFlops, 660e12);
  EXPECT_EQ(t.l2Bytes, 60 * 1024 * 1024);
  EXPECT_EQ(remark, "NVIDIA H200 is the H200 SXM 141GB (sm_90a): table "
                    "figures, HBM 4.30 TB/s measured copy; SM count, shared "
                    "memory and L2 size read from the driver");
  EXPECT_EQ(t.notes, remark);
  // The remark may be null.
  EXPECT_EQ(fromDevice(h200Device(), nullptr).part, "H200 SXM 141GB");
}

TEST(Target, FromDeviceRecognisesTheH100AndReadsWhatItCan) {
  DeviceProperties d = h200Device();
  d.name = "NVIDIA H100 80GB HBM3";
  d.l2Bytes = 50 * 1024 * 1024;
  d.smemOptinPerBlockBytes = 200000; // pretend: the driver wins
  TargetInfo t = fromDevice(d, nullptr);
  EXPECT_EQ(t.part, "H100 SXM5 80GB");
  EXPECT_DOUBLE_EQ(t.hbmBytesPerSec, 3.0e12);
  EXPECT_EQ(t.smemOptinPerBlockBytes, 200000);
  EXPECT_EQ(t.l2Bytes, 50 * 1024 * 1024);

  // A device name that matches on another capability is not that part.
  d.ccMajor = 10;
  EXPECT_NE(fromDevice(d, nullptr).part, "H100 SXM5 80GB");

  // A variant with fewer SMs keeps the table's bandwidth, scales peaks.
  d = h200Device();
  d.name = "NVIDIA H200";
  d.smCount = 66;
  std::string remark;
  t = fromDevice(d, &remark);
  EXPECT_DOUBLE_EQ(t.mmaPeakFlops, 330e12);
  EXPECT_DOUBLE_EQ(t.hbmBytesPerSec, 4.3e12);
  EXPECT_NE(remark.find("peaks scaled by the SM count (66 of the table's 132)"),
            std::string::npos)
      << remark;
}

TEST(Target, FromDeviceDerivesAnUnknownPart) {
  // An H100 PCIe: sm_90, not in the table.
  DeviceProperties d;
  d.name = "NVIDIA H100 PCIe";
  d.ccMajor = 9, d.ccMinor = 0;
  d.smCount = 114;
  d.smemOptinPerBlockBytes = 232448;
  d.smemPerSmBytes = 233472;
  d.l2Bytes = 50 * 1024 * 1024;
  d.smClockKHz = 1755000;
  d.memClockKHz = 1593000;
  d.memBusWidthBits = 5120;
  std::string remark;
  TargetInfo t = fromDevice(d, &remark);
  EXPECT_EQ(t.name, "sm_90a");
  EXPECT_EQ(t.part, "NVIDIA H100 PCIe");
  EXPECT_EQ(t.smCount, 114);
  EXPECT_EQ(t.l2Bytes, 50 * 1024 * 1024);
  // 2 x 1.593 GHz x 5120 bits / 8 = 2.039 TB/s; 90% achievable.
  EXPECT_DOUBLE_EQ(t.hbmSpecBytesPerSec, 2.0 * 1593e6 * 640);
  EXPECT_DOUBLE_EQ(t.hbmBytesPerSec, 0.9 * 2.0 * 1593e6 * 640);
  EXPECT_EQ(t.hbmBasis, "assumed 90% of 2 x memory clock x bus width");
  // 114 SMs x 1755 MHz x 2731 (mma.sync) and x 256 (f32).
  EXPECT_DOUBLE_EQ(t.mmaPeakFlops, 114 * 1755e6 * (4096.0 * 2 / 3));
  EXPECT_DOUBLE_EQ(t.simtF32PeakFlops, 114 * 1755e6 * 256);
  EXPECT_EQ(t.smClockMHz, 1755);
  EXPECT_EQ(remark,
            "NVIDIA H100 PCIe is not in the table (sm_90a parts: H100 SXM5 "
            "80GB, H200 SXM 141GB); SM count, shared memory and L2 size read "
            "from the driver; HBM 2.04 TB/s derived as 2 x 1593 MHz memory "
            "clock x 5120-bit bus / 8, 90% of it (1.84 TB/s) assumed "
            "achievable; peaks derived as 114 SMs x 1755 MHz SM clock x 2731 "
            "mma.sync / 256 f32 FLOP per SM and clock (sm_90a): 546.3 / 51.2 "
            "TFLOP/s; L2 bandwidth scaled from the H100 SXM5 80GB");

  // Without clocks or bus width: the default part's figures, said so.
  d.smClockKHz = d.memClockKHz = d.memBusWidthBits = 0;
  t = fromDevice(d, &remark);
  EXPECT_DOUBLE_EQ(t.hbmBytesPerSec, 3.0e12);
  EXPECT_DOUBLE_EQ(t.mmaPeakFlops, 114 * 1980e6 * (4096.0 * 2 / 3));
  EXPECT_NE(remark.find("the driver gave no memory clock or bus width: HBM "
                        "3.00 TB/s of the H100 SXM5 80GB assumed"),
            std::string::npos)
      << remark;
  EXPECT_NE(remark.find("1980 MHz SM clock (the H100 SXM5 80GB's)"),
            std::string::npos)
      << remark;
}

TEST(Target, FromDeviceOnAnUnknownArch) {
  // A capability we do not know starts from the newest lower arch.
  DeviceProperties d;
  d.name = "NVIDIA RTX PRO 6000";
  d.ccMajor = 12, d.ccMinor = 0;
  d.smCount = 188;
  d.smemOptinPerBlockBytes = 101376;
  d.smemPerSmBytes = 102400;
  d.smClockKHz = 2617000;
  d.memClockKHz = 14001000;
  d.memBusWidthBits = 512;
  std::string remark;
  TargetInfo t = fromDevice(d, &remark);
  EXPECT_EQ(t.name, "sm_120a");
  EXPECT_EQ(t.computeCapability(), 120);
  EXPECT_EQ(t.part, "NVIDIA RTX PRO 6000");
  EXPECT_EQ(t.smemOptinPerBlockBytes, 101376);
  EXPECT_DOUBLE_EQ(t.hbmSpecBytesPerSec, 2.0 * 14001e6 * 64);
  EXPECT_EQ(remark.rfind("compute capability 12.0 is not in the table: the "
                         "limits of sm_100a (the newest known arch below it) "
                         "are assumed; NVIDIA RTX PRO 6000 is not in the "
                         "table (sm_100a parts: B200)",
                         0),
            0u)
      << remark;

  // Below every known arch: the oldest one's limits.
  d.ccMajor = 7, d.ccMinor = 5;
  t = fromDevice(d, &remark);
  EXPECT_EQ(t.name, "sm_75");
  EXPECT_NE(remark.find("the limits of sm_80 (the oldest known arch)"),
            std::string::npos)
      << remark;
}
