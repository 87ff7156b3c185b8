// The kernel family descriptor: lookup, limits, formulas and the launch.
#include "attn/Kernel/Masks.h"
#include "attn/Model/KernelFamily.h"
#include "attn/Model/SramModel.h"

#include "gtest/gtest.h"

using namespace mlir::attn::model;

TEST(KernelFamily, Lookup) {
  ASSERT_EQ(lookupFamily("fwd.mma_sync"), &kFwdMmaSync);
  EXPECT_EQ(lookupFamily("fwd.wgmma"), nullptr);
  EXPECT_EQ(knownFamilyList(), "fwd.mma_sync, fwd.split_kv");
  ASSERT_EQ(lookupFamily("fwd.split_kv"), &kFwdSplitKv);
  EXPECT_STREQ(kFwdSplitKv.combineFunction, "attnc::splitKvCombine");
  EXPECT_EQ(kFwdMmaSync.combineFunction, nullptr);
  EXPECT_EQ(kFwdMmaSync.minComputeCapability, 80);
  EXPECT_STREQ(kFwdMmaSync.deviceHeader, "attnc/flash_fwd.cuh");
}

TEST(KernelFamily, HeadDimsComeFromTheFamilies) {
  EXPECT_EQ(forwardHeadDimsText(), "a multiple of 8 from 8 to 256");
  for (int d : {8, 40, 64, 80, 160, 192, 224, 256})
    EXPECT_TRUE(forwardHeadDimSupported(d)) << d;
  for (int d : {0, 4, 59, 111, 264, 512})
    EXPECT_FALSE(forwardHeadDimSupported(d)) << d;
  // Each head dim is computed in the next tile width (loads zero-filled).
  namespace fm = attnc::fwd_mma_sync;
  EXPECT_EQ(fm::tileHeadDim(8), 32);
  EXPECT_EQ(fm::tileHeadDim(40), 64);
  EXPECT_EQ(fm::tileHeadDim(64), 64);
  EXPECT_EQ(fm::tileHeadDim(80), 96);
  EXPECT_EQ(fm::tileHeadDim(160), 192);
  EXPECT_EQ(fm::tileHeadDim(224), 256);
  EXPECT_EQ(fm::tileHeadDim(59), 0);
  // Q/K and V head dims differ (DeepSeek's 192/128), and the O tile the
  // epilogue stages fits the buffer even when V is much wider than Q.
  EXPECT_TRUE(supportsShape(kFwdMmaSync, KernelShape{192, 128, 2, true}));
  EXPECT_TRUE(supportsShape(kFwdSplitKv, KernelShape{40, 256, 2, true}));
  EXPECT_EQ(fm::smemElements(128, 32, 32, 256, 1), 128 * 256);
  EXPECT_EQ(fm::smemElements(128, 64, 192, 128, 2),
            128 * 192 + 2 * 64 * (192 + 128));
  std::string why;
  EXPECT_FALSE(supportsShape(kFwdMmaSync, KernelShape{59, 64, 2, true}, &why));
  EXPECT_EQ(why, "head dims 59/64 are not supported by fwd.mma_sync (each a "
                 "multiple of 8 up to the widest tile: 32, 64, 96, 128, 192, "
                 "256)");
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

// ---- fwd.split_kv (attn/Kernel/FwdSplitKv.h) ------------------------------

TEST(SplitKv, TileSpaceIsOneMmaTilePerWarp) {
  std::vector<TileConfig> space = tileSpace(kFwdSplitKv, KernelShape::of(128));
  ASSERT_FALSE(space.empty());
  for (const TileConfig &t : space)
    EXPECT_EQ(t.warps * 16, t.blockM) << t.str();
  std::string why;
  EXPECT_FALSE(supportsTile(kFwdSplitKv, TileConfig{64, 64, 1, 2}, &why));
  EXPECT_NE(why.find("one 16-row tile per warp"), std::string::npos) << why;
  EXPECT_TRUE(supportsTile(kFwdSplitKv, TileConfig{16, 32, 1, 4}));
  // f32 stays on the SIMT path of fwd.mma_sync.
  EXPECT_FALSE(supportsShape(kFwdSplitKv, KernelShape::of(128, 4), &why));
  // The same shared-memory layout as the forward kernel.
  EXPECT_EQ(smemBytes(kFwdSplitKv, KernelShape::of(128), TileConfig{16, 32, 1, 2}),
            (16 * 128 + 2 * 32 * 256) * 2);
}

TEST(SplitKv, SplitsEvenOutTheLastWave) {
  // Unknown device, or one key block: no split.
  EXPECT_EQ(chooseSplits(8, 1000, 0, 0), 1);
  EXPECT_EQ(chooseSplits(8, 1, 132, 6), 1);
  // Few thread blocks, long keys: split until the GPU is nearly full, every
  // split the same number of blocks, at least two each.
  for (int64_t ctas : {1, 8, 16, 64, 512, 4096})
    for (int keyBlocks : {2, 3, 65, 129, 2048})
      for (int ctasPerSm : {1, 3, 6}) {
        const int s = chooseSplits(ctas, keyBlocks, 132, ctasPerSm);
        ASSERT_GE(s, 1);
        ASSERT_LE(s, attnc::fwd_split_kv::kMaxSplits);
        const int per = attnc::fwd_split_kv::blocksPerSplit(keyBlocks, s);
        EXPECT_EQ((keyBlocks + per - 1) / per, s)
            << ctas << " " << keyBlocks << ": a split without blocks";
        if (s > 1)
          EXPECT_GE(per, attnc::fwd_split_kv::kMinBlocksPerSplit);
      }
  // B=1, 8 K/V heads, 64k keys in 32-key blocks: at least 60% of the slots.
  const int s = chooseSplits(8, 2048, 132, 6);
  EXPECT_GE(8.0 * s / (132 * 6), 0.6) << s;
  // A grid of 1.3 waves is split to even out its last wave.
  EXPECT_GT(chooseSplits(512, 128, 132, 3), 1);
}

TEST(SplitKv, LaunchGeometryPacksGroupsAndSplits) {
  LaunchShape s;
  s.batch = 2, s.headsQ = 32, s.headsKV = 8, s.seqQ = 5, s.seqK = 70000;
  s.smCount = 132, s.ctasPerSm = 6;
  const TileConfig t{16, 32, 1, 2};
  LaunchGeometry g = launchGeometry(kFwdSplitKv, KernelShape::of(128), t, s);
  // 5 queries x 4 heads = 20 packed rows: two 16-row blocks per K/V head.
  const int splits = g.splits;
  ASSERT_GT(splits, 1);
  EXPECT_EQ(g.grid[0], unsigned(2 * splits));
  EXPECT_EQ(g.grid[1], 8u);
  EXPECT_EQ(g.grid[2], 2u);
  EXPECT_EQ(g.threads, 32u);
  EXPECT_EQ(g.blocksPerSplit,
            attnc::fwd_split_kv::blocksPerSplit((70000 + 31) / 32, splits));
  EXPECT_EQ(g.workspaceBytes, 4LL * splits * 2 * 32 * 5 * (128 + 1));
  EXPECT_EQ(g.combineGrid, unsigned(2 * 32 * 5));
  EXPECT_EQ(g.combineThreads, unsigned(attnc::fwd_split_kv::kCombineThreads));
  // A V head dim between tile widths (80: rows of 96 floats, padding
  // included); LSEs after all partial O rows (runtime/lib/Launch.cpp).
  g = launchGeometry(kFwdSplitKv, KernelShape::of(80), t, s);
  const long long rows = 2LL * 32 * 5;
  EXPECT_EQ(attnc::fwd_split_kv::workspaceRowFloats(80), 96);
  EXPECT_EQ(attnc::fwd_split_kv::lseAccumOffset(g.splits, rows, 80),
            g.splits * rows * 96);
  EXPECT_EQ(g.workspaceBytes, 4LL * g.splits * rows * (96 + 1));
  // Without a device: one split, no workspace, no combine.
  s.smCount = 0;
  g = launchGeometry(kFwdSplitKv, KernelShape::of(128), t, s);
  EXPECT_EQ(g.splits, 1);
  EXPECT_EQ(g.workspaceBytes, 0);
  EXPECT_EQ(g.combineGrid, 0u);
}

TEST(SplitKv, TilesFollowThePackedRows) {
  const TargetInfo h200 = *lookupTarget("sm_90a", "H200");
  KernelShape shape = KernelShape::of(128);
  // One-token decode (16 rows or fewer): one warp per thread block.
  shape.packedRows = 4;
  std::vector<TileConfig> r = rankCandidates(h200, shape, 0, kFwdSplitKv);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.front().blockM, 16) << r.front().str();
  // 64 packed rows (16 queries x 4 heads): one 64-row tile reads K/V once.
  shape.packedRows = 64;
  r = rankCandidates(h200, shape, 0, kFwdSplitKv);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.front().blockM, 64) << r.front().str();
}
