// The kernel family descriptor: lookup, limits, formulas and the launch.
#include "attn/Kernel/Masks.h"
#include "attn/Model/KernelFamily.h"
#include "attn/Model/SramModel.h"

#include "gtest/gtest.h"

using namespace mlir::attn::model;

TEST(KernelFamily, Lookup) {
  ASSERT_EQ(lookupFamily("fwd.mma_sync"), &kFwdMmaSync);
  EXPECT_EQ(lookupFamily("fwd.wgmma"), nullptr);
  EXPECT_EQ(knownFamilyList(), "fwd.mma_sync");
  EXPECT_EQ(kFwdMmaSync.minComputeCapability, 80);
  EXPECT_STREQ(kFwdMmaSync.deviceHeader, "attnc/flash_fwd.cuh");
}

TEST(KernelFamily, HeadDimsComeFromTheFamilies) {
  EXPECT_EQ(forwardHeadDims(), (std::vector<int>{32, 64, 96, 128, 192, 256}));
  EXPECT_EQ(forwardHeadDimsText(), "32, 64, 96, 128, 192, 256");
  EXPECT_EQ(forwardHeadDimsText(" or "), "32, 64, 96, 128, 192 or 256");
}

TEST(KernelFamily, ShapesAndTiles) {
  std::string why;
  EXPECT_TRUE(supportsShape(kFwdMmaSync, KernelShape::of(128)));
  EXPECT_TRUE(supportsShape(kFwdMmaSync, KernelShape::of(64, 4)));
  EXPECT_FALSE(supportsShape(kFwdMmaSync, KernelShape::of(128, 1), &why));
  EXPECT_EQ(why, "element size 1 B is not supported by fwd.mma_sync");
  KernelShape bwd = KernelShape::of(128);
  bwd.forward = false;
  EXPECT_FALSE(supportsShape(kFwdMmaSync, bwd, &why));
  EXPECT_EQ(why, "fwd.mma_sync is a forward kernel");
  EXPECT_FALSE(supportsTile(kFwdMmaSync, {96, 64, 4, 1}, &why));
  EXPECT_EQ(why, "block_m 96 not in {64, 128}");
  EXPECT_FALSE(supportsTile(kFwdMmaSync, {128, 64, 4, 3}, &why));
  EXPECT_EQ(why, "stages 3 not in {1, 2}");
  // Every configuration of the tile space passes the device's own check.
  for (const TileConfig &t : tileSpace(kFwdMmaSync, KernelShape::of(64)))
    EXPECT_TRUE(attnc::fwd_mma_sync::supportsTile(t.blockM, t.blockN, t.warps,
                                                  t.stages))
        << t.str();
}

TEST(KernelFamily, SmemIsTheContractFormula) {
  // Q tile + stages x (K + V), in elements times the element size.
  EXPECT_EQ(smemBytes(kFwdMmaSync, KernelShape::of(128), {128, 64, 4, 2}),
            (128 * 128 + 2 * 64 * 256) * 2);
  static_assert(attnc::fwd_mma_sync::smemBytes(128, 64, 128, 128, 2, 2) ==
                98304);
}

TEST(KernelFamily, LaunchGeometry) {
  LaunchShape s;
  s.batch = 3;
  s.headsQ = 16;
  s.headsKV = 4;
  s.seqQ = 1000;
  s.seqK = 77;
  LaunchGeometry g =
      launchGeometry(kFwdMmaSync, KernelShape::of(64), {128, 64, 4, 2}, s);
  EXPECT_EQ(g.grid[0], 8u); // ceil(1000 / 128)
  EXPECT_EQ(g.grid[1], 16u);
  EXPECT_EQ(g.grid[2], 3u);
  EXPECT_EQ(g.threads, 128u);
  EXPECT_EQ(g.smemBytes, (128 * 64 + 2 * 64 * 128) * 2);
}

TEST(KernelFamily, TooOldArchDoesNotFit) {
  TargetInfo old = *lookupTarget("sm_80");
  old.ccMajor = 7;
  old.ccMinor = 5;
  Usage u = estimate(old, KernelShape::of(64), {128, 64, 4, 2});
  EXPECT_FALSE(u.fits);
  EXPECT_NE(u.reason.find("needs compute capability 8.0"), std::string::npos)
      << u.reason;
}

TEST(Masks, BandMatchesThePredicate) {
  // The key range and the full-tile test agree with the element predicate
  // for every row block of a small problem, causal and windowed, n != m.
  for (int causal = 0; causal < 2; ++causal)
    for (int window = 0; window < 2; ++window) {
      attnc::masks::Band band;
      band.causal = causal;
      band.window = window;
      band.left = 5;
      band.right = 3;
      for (long long n : {7, 20}) {
        long long m = 13;
        band.diag = m - n;
        for (long long q0 = 0; q0 < n; q0 += 4) {
          long long q1 = std::min(n, q0 + 4), lo, hi;
          band.keyRange(q0, q1, m, lo, hi);
          for (long long j = 0; j < m; ++j) {
            bool any = false, all = true;
            for (long long i = q0; i < q1; ++i) {
              any |= band.allows(i, j);
              all &= band.allows(i, j);
            }
            EXPECT_EQ(any, j >= lo && j < hi) << q0 << " " << j;
            if (band.coversTile(q0, q1, j, j + 1))
              EXPECT_TRUE(all) << q0 << " " << j;
          }
        }
      }
    }
}
