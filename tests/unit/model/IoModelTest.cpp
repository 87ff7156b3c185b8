//===- IoModelTest.cpp - HBM bytes and FLOPs, tiled vs unfused -------------===//
#include "attn/Model/IoModel.h"

#include "gtest/gtest.h"
#include <chrono>
#include <random>

using namespace mlir::attn::model;

namespace {
TargetInfo h100() { return *lookupTarget("sm_90a"); }

AttentionProblem problem(int64_t n, int64_t m, int64_t d) {
  AttentionProblem p;
  p.seqQ = n;
  p.seqK = m;
  p.headDim = p.headDimV = d;
  return p;
}
} // namespace

// n = 100 queries, m = 160 keys, d = dv = 32, bf16, causal, one head, tiles
// 64 x 64. Bottom-right alignment: query i sees keys j <= i + 60.
TEST(IoModel, SmallCausalHandComputed) {
  AttentionProblem p = problem(100, 160, 32);
  p.causal = true;
  IoEstimate e = estimateTiled(h100(), p, {64, 64, 4, 1});

  // Query block 0 (rows 0..63): last row sees keys < 63 + 60 + 1 = 124:
  //   key blocks 0, 1 -> 128 key rows.
  // Query block 1 (rows 64..99): keys < min(160, 99 + 61) = 160:
  //   key blocks 0, 1, 2 -> 64 + 64 + 32 = 160 key rows.
  // K/V: 288 rows * (32 + 32) * 2 B = 36864 B; Q: 100 * 32 * 2 = 6400 B.
  EXPECT_EQ(e.qBytes, 6400);
  EXPECT_EQ(e.kvBytes, 36864);
  EXPECT_EQ(e.bytesRead, 43264);
  // O: 100 * 32 * 2 = 6400 B; LSE: 100 * 4 = 400 B.
  EXPECT_EQ(e.oBytes, 6400);
  EXPECT_EQ(e.lseBytes, 400);
  EXPECT_EQ(e.bytesWritten, 6800);
  // L2-aware: K/V rows 0..159 once: 160 * 64 * 2 = 20480, plus Q 6400.
  EXPECT_EQ(e.bytesReadL2, 26880);
  // Allowed pairs: sum_{i=0}^{99} (i + 61) = 6100 + 4950 = 11050.
  EXPECT_EQ(allowedPairs(p), 11050);
  EXPECT_NEAR(e.unmaskedFraction, 11050.0 / 16000.0, 1e-12);
  // FLOPs: 4 * d * pairs = 4 * 32 * 11050 = 1414400; executed: 5 tiles of
  // 64 * 64 * 2 * 64 = 524288 -> 2621440.
  EXPECT_DOUBLE_EQ(e.flops, 1414400.0);
  EXPECT_DOUBLE_EQ(e.flopsExecuted, 2621440.0);
  EXPECT_EQ(e.blocksTotal, 6);
  EXPECT_DOUBLE_EQ(e.blocksVisited, 5.0);

  // Unfused, per element (bf16) unless noted:
  //   reads:  Q 3200 + K 5120; mask reads S 16000; logsumexp reads S 16000;
  //           softmax reads S 16000; P V reads P 16000 + V 5120
  //           = 77440 elements = 154880 B
  //   writes: S 16000; mask writes S 16000; softmax writes P 16000; O 3200
  //           = 51200 elements = 102400 B, + LSE 400 B = 102800 B
  UnfusedEstimate u = estimateUnfused(h100(), p);
  EXPECT_EQ(u.bytesRead, 154880);
  EXPECT_EQ(u.bytesWritten, 102800);
  EXPECT_EQ(u.scoreMatrixBytes, 32000);
  EXPECT_DOUBLE_EQ(u.flops, 4.0 * 100 * 160 * 32);
}

TEST(IoModel, MoreQueriesThanKeysSkipsFullyMaskedBlocks) {
  // n = 256, m = 64, causal: query i sees keys j <= i - 192. Query blocks
  // 0..2 (rows 0..191) see nothing and load no K/V; block 3 loads key block
  // 0 (64 rows). Pairs: sum_{i=192}^{255} (i - 191) = 64 * 65 / 2 = 2080.
  AttentionProblem p = problem(256, 64, 64);
  p.causal = true;
  IoEstimate e = estimateTiled(h100(), p, {64, 64, 4, 1});
  EXPECT_EQ(e.kvBytes, 64 * 128 * 2);
  EXPECT_DOUBLE_EQ(e.blocksVisited, 1.0);
  EXPECT_EQ(allowedPairs(p), 2080);
  // Every query row still writes O and its LSE.
  EXPECT_EQ(e.bytesWritten, 256 * 64 * 2 + 256 * 4);
}

TEST(IoModel, SlidingWindow) {
  // n = m = 256, window left 64, right 0, tiles 64 x 64. Query block q
  // (rows 64q..64q+63) sees keys [64q - 64, 64q + 64): key blocks q-1, q.
  // Tiles: 1 + 2 + 2 + 2 = 7. Pairs: row i sees min(i, 64) + 1 keys:
  // sum_{i<64} (i + 1) + 192 * 65 = 2080 + 12480 = 14560.
  AttentionProblem p = problem(256, 256, 64);
  p.window = Window{64, 0};
  IoEstimate e = estimateTiled(h100(), p, {64, 64, 4, 1});
  EXPECT_DOUBLE_EQ(e.blocksVisited, 7.0);
  EXPECT_EQ(e.kvBytes, 7 * 64 * 128 * 2);
  EXPECT_EQ(allowedPairs(p), 14560);
  // Causal adds nothing to a window whose right edge is 0.
  p.causal = true;
  EXPECT_EQ(allowedPairs(p), 14560);
}

TEST(IoModel, GroupedQueryAttention) {
  // 8 query heads share 2 K/V heads. HBM model: each query head's CTAs read
  // their K/V; L2-aware: each K/V head once.
  AttentionProblem p = problem(1024, 1024, 128);
  p.headsQ = 8;
  p.headsKV = 2;
  IoEstimate e = estimateTiled(h100(), p, {128, 64, 4, 2});
  // 1024/128 = 8 query blocks, each reading all 1024 K/V rows:
  // 8 heads * 8 * 1024 * 256 * 2 B.
  EXPECT_EQ(e.kvBytes, 8LL * 8 * 1024 * 256 * 2);
  // L2: Q 8 * 1024 * 128 * 2 + K/V 2 * 1024 * 256 * 2.
  EXPECT_EQ(e.bytesReadL2, 8LL * 1024 * 128 * 2 + 2LL * 1024 * 256 * 2);
}

TEST(IoModel, BlockDensityScalesKvAndFlops) {
  AttentionProblem p = problem(1024, 1024, 64);
  IoEstimate dense = estimateTiled(h100(), p, {128, 64, 4, 2});
  p.blockDensity = 0.25;
  IoEstimate sparse = estimateTiled(h100(), p, {128, 64, 4, 2});
  EXPECT_EQ(sparse.kvBytes * 4, dense.kvBytes);
  EXPECT_DOUBLE_EQ(sparse.flops * 4, dense.flops);
  EXPECT_EQ(sparse.qBytes, dense.qBytes);
}

TEST(IoModel, StandardAttentionMatchesPaper) {
  // Algorithm 0 with n = m = N: reads Q, K (2Nd), S (N^2), P and V
  // (N^2 + Nd); writes S, P (2N^2) and O (Nd): 4(Nd + N^2) elements, i.e.
  // exactly 4x the paper's Theta(Nd + N^2).
  for (int64_t n : {512, 1024, 4096, 16384})
    for (int64_t d : {64, 128}) {
      AttentionProblem p = problem(n, n, d);
      p.returnsLse = false;
      UnfusedEstimate u = estimateUnfused(h100(), p);
      EXPECT_EQ(u.bytesTotal(),
                int64_t(4 * paperStandardAccesses(n, d)) * p.elementBytes);
    }
}

TEST(IoModel, TiledAttentionMatchesPaperAsymptotically) {
  // Theorem 2: Theta(N^2 d^2 / M) accesses for SRAM of M elements, d <= M
  // <= N d. With M = the tile's shared memory in elements, the model's count
  // (Q + K/V once per query block + O) divided by N^2 d^2 / M tends to the
  // constant 2 M / (blockM d) as N grows.
  TargetInfo t = h100();
  for (int64_t d : {64, 128}) {
    TileConfig tile = d == 64 ? TileConfig{128, 128, 4, 2}
                              : TileConfig{128, 64, 4, 2};
    KernelShape s = KernelShape::of(int(d));
    double m = double(smemBytes(kFwdMmaSync, s, tile)) / s.elementBytes;
    double limit = 2 * m / (tile.blockM * double(d));
    double previous = 0;
    for (int64_t n : {4096, 8192, 16384, 32768}) {
      ASSERT_LE(d, m);
      ASSERT_LE(m, double(n) * d);
      AttentionProblem p = problem(n, n, d);
      p.returnsLse = false;
      IoEstimate e = estimateTiled(t, p, tile);
      double elements = double(e.bytesTotal()) / p.elementBytes;
      double ratio = elements / paperTiledAccesses(n, d, m);
      EXPECT_GT(ratio, 1.0);
      EXPECT_LT(ratio, 16.0);
      EXPECT_GE(ratio, limit); // approaches the limit from above
      if (previous > 0) {
        EXPECT_LT(ratio, previous);
      }
      previous = ratio;
    }
    EXPECT_NEAR(previous / limit, 1.0, 0.01);
  }
}

TEST(IoModel, TiledMovesFarLessThanUnfused) {
  AttentionProblem p = problem(8192, 8192, 128);
  p.batch = 2;
  p.headsQ = p.headsKV = 16;
  IoEstimate e = estimateTiled(h100(), p, {128, 64, 4, 2});
  UnfusedEstimate u = estimateUnfused(h100(), p);
  // Every CTA re-reading K/V from HBM (8192 / 128 = 64 times per head):
  // 64 * 8192 * 256 * 2 B = 256 MiB per head against the unfused chain's
  // ~4 N^2 * 2 B = 512 MiB: only ~2.5x.
  EXPECT_GT(double(u.bytesTotal()) / e.bytesTotal(), 2.0);
  // With L2 reuse K/V cross HBM once: ~8 MiB per head, ~64x less.
  EXPECT_GT(double(u.bytesTotal()) / (e.bytesReadL2 + e.bytesWritten), 50.0);
  EXPECT_DOUBLE_EQ(unfusedToTiledRatio(u, e),
                   double(u.bytesTotal()) / e.bytesTotal());
  EXPECT_GT(unfusedToTiledRatio(u, e, /*l2Aware=*/true), 50.0);
  // The FLOP count of the benchmark protocol: 4 B H N^2 D.
  EXPECT_DOUBLE_EQ(e.flops, 4.0 * 2 * 16 * 8192 * 8192 * 128);
  EXPECT_DOUBLE_EQ(u.flops, e.flops);
  // Compute-bound on the H100; the unfused chain is memory-bound.
  EXPECT_EQ(e.bound, Bound::Compute);
  EXPECT_EQ(u.bound, Bound::Memory);
  EXPECT_DOUBLE_EQ(e.timeLowerBound, e.flopsExecuted / 660e12);
  EXPECT_DOUBLE_EQ(u.timeLowerBound, u.bytesTotal() / 3.0e12);
}

TEST(IoModel, CausalHalvesFlops) {
  AttentionProblem p = problem(4096, 4096, 64);
  p.causal = true;
  IoEstimate e = estimateTiled(h100(), p, {128, 128, 4, 2});
  // Pairs: N (N + 1) / 2.
  EXPECT_DOUBLE_EQ(e.flops, 4.0 * 64 * (4096.0 * 4097 / 2));
  EXPECT_NEAR(e.unmaskedFraction, 0.5, 1e-3);
  // Executed tiles: diagonal tiles are computed whole: 32 * 33 / 2 = 528.
  EXPECT_DOUBLE_EQ(e.blocksVisited, 528.0);
}

TEST(IoModel, DropoutCostsTheUnfusedChainOnly) {
  AttentionProblem p = problem(1024, 1024, 64);
  IoEstimate a = estimateTiled(h100(), p, {128, 128, 4, 2});
  UnfusedEstimate ua = estimateUnfused(h100(), p);
  p.dropout = 0.1;
  IoEstimate b = estimateTiled(h100(), p, {128, 128, 4, 2});
  UnfusedEstimate ub = estimateUnfused(h100(), p);
  EXPECT_EQ(a.bytesTotal(), b.bytesTotal());
  // Dropout reads P (2 B), writes P (2 B) and a keep mask (1 B) per score.
  EXPECT_EQ(ub.bytesTotal() - ua.bytesTotal(), 1024LL * 1024 * 5);
}

TEST(IoModel, F32UsesSimtPeak) {
  AttentionProblem p = problem(4096, 4096, 64);
  p.elementBytes = 4;
  IoEstimate e = estimateTiled(h100(), p, {64, 64, 4, 1});
  EXPECT_DOUBLE_EQ(e.computeTime, e.flopsExecuted / h100().simtF32PeakFlops);
}

// allowedPairs is closed-form; it must equal the row-by-row count for every
// band shape, n != m, tiny and empty windows.
TEST(IoModel, AllowedPairsClosedFormMatchesRowCount) {
  std::mt19937 rng(20261202);
  for (int iter = 0; iter < 3000; ++iter) {
    AttentionProblem p;
    p.seqQ = 1 + rng() % 300;
    p.seqK = 1 + rng() % 300;
    p.causal = rng() % 2;
    if (rng() % 2)
      p.window = Window{int64_t(rng() % 400), int64_t(rng() % 400)};
    int64_t rows = 0;
    for (int64_t i = 0; i < p.seqQ; ++i) {
      auto [lo, hi] = keyRange(p, i, i + 1);
      rows += hi - lo;
    }
    ASSERT_EQ(allowedPairs(p), rows)
        << "n " << p.seqQ << " m " << p.seqK << " causal " << p.causal
        << " window " << (p.window ? p.window->left : -1) << "/"
        << (p.window ? p.window->right : -1);
  }
}

// Sizes the report may be asked for: 10^12 rows finish at once (the model
// samples query blocks past 2^22 of them), and counts past 2^63 clamp
// instead of wrapping negative.
TEST(IoModel, HugeSizesFinishAndSaturate) {
  TargetInfo t = *lookupTarget("sm_90a");
  AttentionProblem p;
  p.seqQ = p.seqK = 1000000000000;
  p.headDim = p.headDimV = 64;
  p.causal = true;
  auto start = std::chrono::steady_clock::now();
  IoEstimate e = estimateTiled(t, p, {128, 64, 4, 2});
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           start)
                 .count();
  EXPECT_LT(s, 1.0);
  EXPECT_TRUE(e.approximate);
  EXPECT_GT(e.bytesRead, 0);
  EXPECT_GT(e.bytesTotal(), 0);
  EXPECT_NEAR(e.unmaskedFraction, 0.5, 1e-6);
  AttentionProblem q;
  q.batch = q.headsQ = q.headsKV = q.seqQ = q.seqK = 2147483647;
  q.headDim = q.headDimV = 128;
  IoEstimate big = estimateTiled(t, q, {128, 64, 4, 2});
  UnfusedEstimate ub = estimateUnfused(t, q);
  EXPECT_TRUE(big.saturated);
  EXPECT_TRUE(ub.saturated);
  for (int64_t b : {big.bytesRead, big.bytesWritten, big.bytesReadL2,
                    big.bytesTotal(), ub.bytesRead, ub.bytesWritten,
                    ub.bytesTotal()})
    EXPECT_GT(b, 0);
}
