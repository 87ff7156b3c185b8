//===- SramModelTest.cpp - shared memory, registers, ranking --------------===//
//
// Expected figures are computed by hand next to each check from the kernel's
// formula: smem = (blockM*d + stages*blockN*(d + dv)) * elementBytes.
// Opt-in limits: sm_80 166912 B (163 KiB), sm_86 101376 B (99 KiB),
// sm_90a 232448 B (227 KiB).
//
//===----------------------------------------------------------------------===//
#include "attn/Model/SramModel.h"

#include "gtest/gtest.h"

#include <random>

using namespace mlir::attn::model;

namespace {
TargetInfo target(const char *name) { return *lookupTarget(name); }

struct SmemCase {
  int headDim;
  TileConfig tile;
  int64_t bytes;      // hand-computed
  bool fitsSm80, fitsSm86, fitsSm90a;
};

// bf16, dv = d.
const SmemCase kSmemCases[] = {
    // d=32 128x128 s2: (128*32 + 2*128*64)*2 = (4096 + 16384)*2 = 40960
    {32, {128, 128, 4, 2}, 40960, true, true, true},
    // d=64 128x128 s2: (128*64 + 2*128*128)*2 = (8192 + 32768)*2 = 81920
    {64, {128, 128, 4, 2}, 81920, true, true, true},
    // d=64 128x128 s1: (8192 + 128*128)*2 = (8192 + 16384)*2 = 49152
    {64, {128, 128, 4, 1}, 49152, true, true, true},
    // d=96 128x64 s2: (128*96 + 2*64*192)*2 = (12288 + 24576)*2 = 73728
    {96, {128, 64, 4, 2}, 73728, true, true, true},
    // d=128 128x64 s2: (128*128 + 2*64*256)*2 = (16384 + 32768)*2 = 98304
    //   <= 101376 on sm_86 (3072 B to spare)
    {128, {128, 64, 4, 2}, 98304, true, true, true},
    // d=128 128x64 s1: (16384 + 64*256)*2 = 65536
    {128, {128, 64, 4, 1}, 65536, true, true, true},
    // d=128 128x32 s1: (16384 + 32*256)*2 = (16384 + 8192)*2 = 49152
    {128, {128, 32, 4, 1}, 49152, true, true, true},
    // d=128 128x128 s2: (16384 + 2*128*256)*2 = (16384 + 65536)*2 = 163840
    //   <= 166912 on sm_80 (3072 B to spare), > 101376 on sm_86
    {128, {128, 128, 8, 2}, 163840, true, false, true},
    // d=192 128x64 w8 s2: (128*192 + 2*64*384)*2 = (24576 + 49152)*2 = 147456
    {192, {128, 64, 8, 2}, 147456, true, false, true},
    // d=192 128x128 w8 s2: (24576 + 2*128*384)*2 = (24576 + 98304)*2 = 245760
    //   > 232448 even on sm_90a
    {192, {128, 128, 8, 2}, 245760, false, false, false},
    // d=256 64x64 w4 s1: (64*256 + 64*512)*2 = (16384 + 32768)*2 = 98304
    {256, {64, 64, 4, 1}, 98304, true, true, true},
    // d=256 64x64 w4 s2: (16384 + 2*64*512)*2 = (16384 + 65536)*2 = 163840
    {256, {64, 64, 4, 2}, 163840, true, false, true},
    // d=256 128x64 w8 s1: (128*256 + 64*512)*2 = (32768 + 32768)*2 = 131072
    {256, {128, 64, 8, 1}, 131072, true, false, true},
    // d=256 128x64 w8 s2: (32768 + 2*64*512)*2 = (32768 + 65536)*2 = 196608
    //   > 166912 on sm_80, <= 232448 on sm_90a
    {256, {128, 64, 8, 2}, 196608, false, false, true},
    // d=256 128x128 w8 s2: (32768 + 2*128*512)*2 = (32768 + 131072)*2
    //   = 327680: more than three times sm_86's 101376
    {256, {128, 128, 8, 2}, 327680, false, false, false},
};
} // namespace

TEST(SramModel, SharedMemoryMatchesHandComputation) {
  for (const SmemCase &c : kSmemCases) {
    KernelShape s = KernelShape::of(c.headDim);
    EXPECT_EQ(smemBytes(kFwdMmaSync, s, c.tile), c.bytes)
        << "d=" << c.headDim << " " << c.tile.str();
    for (const char *name : {"sm_80", "sm_86", "sm_90a"})
      EXPECT_EQ(estimate(target(name), s, c.tile).smemBytes, c.bytes);
  }
}

TEST(SramModel, SharedMemoryFitsPerTarget) {
  for (const SmemCase &c : kSmemCases) {
    KernelShape s = KernelShape::of(c.headDim);
    auto smemFits = [&](const char *name) {
      return estimate(target(name), s, c.tile).smemBytes <=
             target(name).smemOptinPerBlockBytes;
    };
    EXPECT_EQ(smemFits("sm_80"), c.fitsSm80) << c.headDim << " " << c.tile.str();
    EXPECT_EQ(smemFits("sm_86"), c.fitsSm86) << c.headDim << " " << c.tile.str();
    EXPECT_EQ(smemFits("sm_90a"), c.fitsSm90a)
        << c.headDim << " " << c.tile.str();
  }
}

TEST(SramModel, HeadDim256With128x128TwoStagesDoesNotFitOnSm86) {
  // (128*256 + 2*128*(256+256)) * 2 = 327680 B > 101376 B opt-in.
  Usage u = estimate(target("sm_86"), KernelShape::of(256), {128, 128, 8, 2});
  EXPECT_EQ(u.smemBytes, 327680);
  EXPECT_FALSE(u.fits);
  EXPECT_EQ(u.reason, "128x128 w8 s2 needs 327680 B of shared memory; opt-in "
                      "limit 101376 B (sm_86)");
}

TEST(SramModel, DifferentValueHeadDim) {
  // d=128, dv=64, 128x64 s2: (128*128 + 2*64*(128+64))*2
  //   = (16384 + 24576)*2 = 81920
  KernelShape s{128, 64, 2, true};
  EXPECT_EQ(smemBytes(kFwdMmaSync, s, {128, 64, 4, 2}), 81920);
}

TEST(SramModel, F32UsesTheSameFormula) {
  // f32, d=64, 64x64 s1: (64*64 + 64*128)*4 = (4096 + 8192)*4 = 49152
  KernelShape s = KernelShape::of(64, 4);
  Usage u = estimate(target("sm_80"), s, {64, 64, 4, 1});
  EXPECT_EQ(u.smemBytes, 49152);
  // SIMT estimate: O 64*64/128 = 32, S 64*64/128 = 32, overhead 32 -> 96.
  EXPECT_EQ(u.regsPerThread, 96);
  EXPECT_TRUE(u.fits);
}

TEST(SramModel, BudgetEdge) {
  KernelShape s = KernelShape::of(128);
  TileConfig t{128, 64, 4, 2}; // 98304 B, see the table
  EXPECT_TRUE(estimate(target("sm_90a"), s, t, 98304).fits);
  Usage u = estimate(target("sm_90a"), s, t, 98303);
  EXPECT_FALSE(u.fits);
  EXPECT_EQ(u.reason,
            "128x64 w4 s2 needs 98304 B of shared memory; budget 98303 B");
}

TEST(SramModel, RegisterEstimate) {
  // d=128 128x64 w4: R = 32 rows per warp.
  //   O 32*128/32 = 128, row stats 32/4 = 8,
  //   S GEMM: S 32*64/32 = 64 + Q frags (32/16)*4*2 = 16 + K frags 2*2*2 = 8
  //   = 88; P GEMM: P 32*64/64 = 32 + V frags 8 = 40; max 88;
  //   addressing 16: 128 + 8 + 88 + 16 = 240.
  EXPECT_EQ(estimateRegisters(kFwdMmaSync, KernelShape::of(128), {128, 64, 4, 1}), 240);
  // d=64 128x128 w4: 64 + 8 + (128 + 16 + 8) + 16 = 240.
  EXPECT_EQ(estimateRegisters(kFwdMmaSync, KernelShape::of(64), {128, 128, 4, 2}), 240);
  // d=256 128x64 w8: R = 16: 128 + 4 + (32 + 8 + 8) + 16 = 196.
  EXPECT_EQ(estimateRegisters(kFwdMmaSync, KernelShape::of(256), {128, 64, 8, 1}), 196);
}

TEST(SramModel, RegisterLimit) {
  // d=128 128x128 w4: 128 + 8 + (128 + 16 + 8) + 16 = 304 > 255.
  Usage u = estimate(target("sm_90a"), KernelShape::of(128), {128, 128, 4, 1});
  EXPECT_EQ(u.regsPerThread, 304);
  EXPECT_FALSE(u.fits);
  EXPECT_EQ(u.reason, "128x128 w4 s1 needs ~304 registers per thread "
                      "(estimate); limit 255");
}

TEST(SramModel, Occupancy) {
  // sm_80, d=128 128x64 w4 s1: smem 65536 + 1024 reserved -> 167936 / 66560
  // = 2; regs 240 -> 7680 per warp -> 8 warps -> 2 CTAs; threads 16.
  Usage a = estimate(target("sm_80"), KernelShape::of(128), {128, 64, 4, 1});
  EXPECT_EQ(a.ctasBySmem, 2);
  EXPECT_EQ(a.ctasByRegs, 2);
  EXPECT_EQ(a.ctasByThreads, 16);
  EXPECT_EQ(a.ctasPerSm, 2);
  EXPECT_EQ(a.threads, 128);
  // sm_86: 102400 / 66560 = 1.
  Usage b = estimate(target("sm_86"), KernelShape::of(128), {128, 64, 4, 1});
  EXPECT_EQ(b.ctasPerSm, 1);
  // sm_86 threads: 1536 / 256 = 6 for 8 warps.
  Usage c = estimate(target("sm_86"), KernelShape::of(32), {128, 32, 8, 1});
  EXPECT_EQ(c.ctasByThreads, 6);
}

TEST(SramModel, UnsupportedConfigs) {
  KernelShape s = KernelShape::of(128);
  std::string why;
  EXPECT_FALSE(supportsTile(kFwdMmaSync, {64, 64, 8, 1}, &why)); // 64 % (16*8) != 0
  EXPECT_EQ(why, "block_m 64 is not a multiple of 16 x 8 warps");
  EXPECT_FALSE(supportsTile(kFwdMmaSync, {128, 16, 4, 1}, &why));
  EXPECT_FALSE(supportsTile(kFwdMmaSync, {128, 64, 4, 3}, &why));
  // Head dims: multiples of 8 up to the widest tile (256); 80 pads to a
  // 96-wide tile, Q/K and V may differ.
  EXPECT_TRUE(supportsShape(kFwdMmaSync, KernelShape::of(80), &why)) << why;
  EXPECT_FALSE(supportsShape(kFwdMmaSync, KernelShape::of(84), &why));
  EXPECT_NE(why.find("32, 64, 96, 128, 192, 256"), std::string::npos) << why;
  EXPECT_FALSE(supportsShape(kFwdMmaSync, KernelShape::of(264), &why));
  EXPECT_TRUE(supportsShape(kFwdMmaSync, KernelShape{128, 64, 2, true}, &why))
      << why;
  EXPECT_FALSE(tileSpace(kFwdMmaSync, KernelShape{128, 64, 2, true}).empty());
  KernelShape bwd = s;
  bwd.forward = false;
  EXPECT_FALSE(estimate(target("sm_80"), bwd, {128, 64, 4, 1}).fits);
  // 2 block_m x 3 block_n x 2 stages for 4 warps, 1 x 3 x 2 for 8 warps.
  EXPECT_EQ(tileSpace(kFwdMmaSync, s).size(), 18u);
}

TEST(SramModel, RankingTopPickFitsAndMatchesFlashAttention2) {
  struct Expect {
    const char *target;
    int headDim, blockM, blockN, warps;
  };
  const Expect cases[] = {
      // FA2 on A100 and H100: d=64 128x128 w4, d=128 128x64 w4,
      // d=256 128x64 w8.
      {"sm_80", 64, 128, 128, 4},  {"sm_80", 128, 128, 64, 4},
      {"sm_80", 256, 128, 64, 8},  {"sm_90a", 64, 128, 128, 4},
      {"sm_90a", 128, 128, 64, 4}, {"sm_90a", 256, 128, 64, 8},
      // 99 KiB parts: d=128 128x32 (two CTAs per SM beat one 128x64).
      {"sm_86", 128, 128, 32, 4},
  };
  for (const Expect &e : cases) {
    auto ranked = rankCandidatesWithReasons(target(e.target),
                                            KernelShape::of(e.headDim));
    ASSERT_FALSE(ranked.empty()) << e.target << " d=" << e.headDim;
    const TileConfig &t = ranked.front().tile;
    EXPECT_TRUE(ranked.front().usage.fits);
    EXPECT_EQ(t.blockM, e.blockM) << e.target << " d=" << e.headDim << ": "
                                  << ranked.front().reason;
    EXPECT_EQ(t.blockN, e.blockN) << e.target << " d=" << e.headDim << ": "
                                  << ranked.front().reason;
    EXPECT_EQ(t.warps, e.warps) << e.target << " d=" << e.headDim;
    EXPECT_GE(ranked.front().usage.ctasPerSm, 1);
  }
}

TEST(SramModel, MoreStagesWhenSmemAllows) {
  // sm_90a d=128: 128x64 with two stages (98304 B) still gives 2 CTAs/SM.
  auto top = rankCandidates(target("sm_90a"), KernelShape::of(128)).front();
  EXPECT_EQ(top.stages, 2);
  // sm_80 d=128: two stages (98304 B) would drop to 1 CTA/SM; one stage.
  top = rankCandidates(target("sm_80"), KernelShape::of(128)).front();
  EXPECT_EQ(top.stages, 1);
}

TEST(SramModel, RankingIsSaneEverywhere) {
  for (const char *name : {"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a",
                           "sm_100a"})
    for (int d : attnc::fwd_mma_sync::kHeadDims)
      for (int eb : {2, 4}) {
        KernelShape s = KernelShape::of(d, eb);
        auto ranked = rankCandidatesWithReasons(target(name), s);
        // Empty only when even the smallest tile (64x32 s1) is too big:
        // f32 d=256 on 99 KiB parts: (64*256 + 32*512)*4 = 131072 B.
        int64_t smallest = smemBytes(kFwdMmaSync, s, {64, 32, 4, 1});
        ASSERT_EQ(ranked.empty(),
                  smallest > target(name).smemOptinPerBlockBytes)
            << name << " d=" << d << " eb=" << eb;
        for (size_t i = 0; i < ranked.size(); ++i) {
          EXPECT_TRUE(ranked[i].usage.fits);
          EXPECT_GT(ranked[i].score, 0);
          EXPECT_FALSE(ranked[i].reason.empty());
          if (i > 0) {
            EXPECT_GE(ranked[i - 1].score, ranked[i].score);
          }
        }
      }
}

TEST(SramModel, Sm86HeadDim256StillHasACandidate) {
  auto ranked = rankCandidates(target("sm_86"), KernelShape::of(256));
  ASSERT_FALSE(ranked.empty());
  EXPECT_LE(smemBytes(kFwdMmaSync, KernelShape::of(256), ranked.front()), 101376);
}

TEST(SramModel, BudgetTooSmallGivesNothing) {
  // The smallest tile, 64x32 s1 at d=32: (64*32 + 32*64)*2 = 8192 B.
  EXPECT_TRUE(rankCandidates(target("sm_90a"), KernelShape::of(32), 8191)
                  .empty());
  auto one = rankCandidates(target("sm_90a"), KernelShape::of(32), 8192);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one.front(), (TileConfig{64, 32, 4, 1}));
  EXPECT_TRUE(
      rankCandidates(target("sm_80"), KernelShape::of(256), 1024).empty());
}

TEST(SramModel, RankingRespectsBudget) {
  for (const TileConfig &t :
       rankCandidates(target("sm_90a"), KernelShape::of(128), 49152))
    EXPECT_LE(smemBytes(kFwdMmaSync, KernelShape::of(128), t), 49152);
}

TEST(SramModel, PaperTiles) {
  // sm_80 opt-in 166912 B in bf16: M = 83456 elements.
  // d=64: Bc = ceil(83456 / 256) = 326, Br = min(326, 64) = 64.
  PaperTiles p = paperTiles(166912, 64, 2);
  EXPECT_EQ(p.blockN, 326);
  EXPECT_EQ(p.blockM, 64);
  // d=128: Bc = ceil(83456 / 512) = 163 (exact), Br = 128.
  p = paperTiles(166912, 128, 2);
  EXPECT_EQ(p.blockN, 163);
  EXPECT_EQ(p.blockM, 128);
  // Tiny SRAM: M = 1000, d = 256: Bc = ceil(1000 / 1024) = 1, Br = 1.
  p = paperTiles(2000, 256, 2);
  EXPECT_EQ(p.blockN, 1);
  EXPECT_EQ(p.blockM, 1);
}

TEST(SramModel, PropertyRandomConfigs) {
  std::mt19937 rng(20261124);
  const auto &targets = knownTargets();
  int fitting = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    const TargetInfo &t = targets[rng() % targets.size()];
    int d = attnc::fwd_mma_sync::kHeadDims[rng() % 6];
    int dv = d; // fwd.mma_sync needs equal head dims
    int eb = rng() % 3 == 0 ? 4 : 2;
    KernelShape s{d, dv, eb, true};
    auto configs = tileSpace(kFwdMmaSync, s);
    ASSERT_EQ(configs.size(), 18u);
    TileConfig tile = configs[rng() % configs.size()];
    int64_t budget = rng() % 4 == 0 ? 0 : 4096 + rng() % (256 * 1024);
    Usage u = estimate(t, s, tile, budget);
    int64_t formula =
        (int64_t(tile.blockM) * d + int64_t(tile.stages) * tile.blockN * (d + dv)) *
        eb;
    ASSERT_EQ(u.smemBytes, formula);
    if (u.fits) {
      ++fitting;
      EXPECT_LE(u.smemBytes, t.smemOptinPerBlockBytes);
      if (budget > 0) {
        EXPECT_LE(u.smemBytes, budget);
      }
      EXPECT_LE(u.regsPerThread, t.maxRegsPerThread);
      EXPECT_GE(u.ctasPerSm, 1);
      EXPECT_TRUE(u.reason.empty());
    } else {
      EXPECT_FALSE(u.reason.empty());
    }
  }
  EXPECT_GT(fitting, 500); // the property was exercised
}
