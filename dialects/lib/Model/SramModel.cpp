//===- SramModel.cpp - shared memory, registers and tile ranking ----------===//
//
// Ranking: each feasible configuration gets a score, the product of five
// factors in (0, 1], each a ratio of useful work to work plus a cost:
//
//   occupancy  sqrt(min(1, resident warps / 8)): mma.sync kernels hide
//              ldmatrix, exp and barrier latency with 2 warps per SM
//              sub-partition; more CTAs per SM also overlap one CTA's
//              softmax with another's MMAs.
//   smem       I / (I + ridge), I = MMA FLOP per byte read from shared
//              memory per K/V block: 2*bm*bn*(d+dv) / (eb*(bm*d + warps*bn*
//              (d+dv))) (each warp reads its Q rows and the whole K and V
//              block); ridge = mma FLOP/clk/SM / 128 B/clk/SM. Favours 4
//              warps and large blockN.
//   L2         I / (I + ridge), I = 2*bm/eb FLOP per byte of K/V loaded
//              (the per-CTA arithmetic intensity bm*bn*(d+dv)*2 / (bn*
//              (d+dv)*eb)); ridge = mma peak / L2 bandwidth. Favours
//              blockM = 128: K and V are re-read once per query block.
//   iteration  mma / (mma + overhead / ctasPerSm) in cycles per K/V block:
//              barriers and the row max/sum (a fixed cost) plus rescaling
//              O (bm*dv FMULs) are paid per block; larger blockN amortises
//              them, other resident CTAs hide them.
//   pipeline   1 with two stages; with one, 1 - 0.10/ctasPerSm (the kernel
//              still overlaps the K load with the PV product, FA2-style).
//   registers  1 up to 224; then down by 10% at 255, because the estimate
//              is +-10% and a kernel at the limit spills.
//
// Relation to the paper: Algorithm 1 takes Bc = ceil(M / 4d) so that K and
// V blocks fill the SRAM, and Br = min(Bc, d) so the Q and O blocks fit
// beside them; paperTiles() gives these for the report. Clamped to the
// kernel (blockN <= 128) the paper's choice is blockN = 128 and blockM =
// min(d, 128) rounded down to {64, 128}. Br <= d is what the proof needs, not
// an optimum: K and V are re-read once per query block, so blockM = 128
// halves that traffic even at d = 64, and the register file (O and S live
// there), occupancy and shared-memory bandwidth decide the rest. The score
// below weighs exactly those.
//
// With these, the top picks on A100/H100 are FlashAttention-2's: d=64
// 128x128 w4; d=128 128x64 w4; d=256 128x64 w8; on 99 KiB parts d=128 gives
// 128x32 (2 CTAs/SM beat one larger tile). See the unit tests for the table.
//
//===----------------------------------------------------------------------===//
#include "attn/Model/SramModel.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace mlir::attn::model;

/// Ranking constants, in one place.
namespace {
constexpr double kWarpsToHideLatency = 8;
constexpr double kIterationFixedCycles = 200;
constexpr double kSingleStagePenalty = 0.10;
constexpr int kRegsComfortable = 224;
constexpr double kRegsAtLimitPenalty = 0.10;
constexpr int kSmemAllocGranularity = 128;
constexpr int kRegAllocGranularityPerWarp = 256;
} // namespace

static int64_t roundUp(int64_t x, int64_t g) { return (x + g - 1) / g * g; }

Usage mlir::attn::model::estimate(const TargetInfo &target,
                                  const KernelShape &shape,
                                  const TileConfig &tile,
                                  int64_t sramBudgetBytes,
                                  const KernelFamily &family) {
  Usage u;
  u.smemBytes = smemBytes(family, shape, tile);
  u.regsPerThread = estimateRegisters(family, shape, tile);
  u.threads = tile.warps * target.warpSize;

  int64_t perCta =
      roundUp(u.smemBytes, kSmemAllocGranularity) + target.smemReservedPerBlockBytes;
  u.ctasBySmem = perCta > 0 ? int(target.smemPerSmBytes / perCta) : 0;
  int64_t regsPerWarp = roundUp(int64_t(std::min(u.regsPerThread,
                                                 target.maxRegsPerThread)) *
                                    target.warpSize,
                                kRegAllocGranularityPerWarp);
  u.ctasByRegs = int(target.regsPerSm / regsPerWarp) / tile.warps;
  u.ctasByThreads = target.maxThreadsPerSm / u.threads;
  u.ctasPerSm = std::min({u.ctasBySmem, u.ctasByRegs, u.ctasByThreads,
                          target.maxBlocksPerSm});

  std::string why;
  if (!supportsShape(family, shape, &why) ||
      !supportsTile(family, tile, &why)) {
    u.reason = tile.str() + ": " + why;
    return u;
  }
  if (target.computeCapability() < family.minComputeCapability) {
    u.reason = std::string(family.name) + " needs compute capability " +
               std::to_string(family.minComputeCapability / 10) + "." +
               std::to_string(family.minComputeCapability % 10) + "; " +
               target.name + " is " + std::to_string(target.ccMajor) + "." +
               std::to_string(target.ccMinor);
    return u;
  }
  if (u.smemBytes > target.smemOptinPerBlockBytes) {
    u.reason = tile.str() + " needs " + std::to_string(u.smemBytes) +
               " B of shared memory; opt-in limit " +
               std::to_string(target.smemOptinPerBlockBytes) + " B (" +
               target.name + ")";
    return u;
  }
  if (sramBudgetBytes > 0 && u.smemBytes > sramBudgetBytes) {
    u.reason = tile.str() + " needs " + std::to_string(u.smemBytes) +
               " B of shared memory; budget " + std::to_string(sramBudgetBytes) +
               " B";
    return u;
  }
  if (u.regsPerThread > target.maxRegsPerThread) {
    u.reason = tile.str() + " needs ~" + std::to_string(u.regsPerThread) +
               " registers per thread (estimate); limit " +
               std::to_string(target.maxRegsPerThread);
    return u;
  }
  if (u.threads > target.maxThreadsPerBlock) {
    u.reason = tile.str() + " needs " + std::to_string(u.threads) +
               " threads; limit " + std::to_string(target.maxThreadsPerBlock);
    return u;
  }
  if (u.ctasPerSm < 1) {
    u.reason = tile.str() + " cannot be resident: " +
               std::to_string(u.smemBytes) + " B + " +
               std::to_string(target.smemReservedPerBlockBytes) +
               " B reserved of " + std::to_string(target.smemPerSmBytes) +
               " B per SM";
    return u;
  }
  u.fits = true;
  return u;
}

// A split-KV (decode) kernel is bound by reading K and V: what counts is
// the K/V bytes in flight per SM (stages - 1 prefetched blocks per resident
// thread block) against what hides HBM latency at full bandwidth, enough
// warps to issue the loads and compute, few padded rows (R packed rows in
// ceil(R / blockM) row blocks of blockM), and few row blocks (each reads
// the K/V again). Measured on the H200 (docs/performance.md): more stages
// than two do not pay, 64-key blocks with one warp lose at two stages'
// occupancy, and 64-row tiles win from 64 packed rows on.
static constexpr double kDecodeBytesInFlightPerSm = 64 * 1024;
static constexpr double kDecodeWarpsPerSm = 8;

static RankedTile scoreDecode(const KernelShape &s, const TileConfig &t,
                              const Usage &u) {
  RankedTile r;
  r.tile = t;
  r.usage = u;
  double inFlight = double(u.ctasPerSm) * (t.stages - 1) * t.blockN *
                    (s.headDim + s.headDimV) * s.elementBytes;
  double bandwidth = std::min(1.0, inFlight / kDecodeBytesInFlightPerSm);
  r.occupancyFactor = std::sqrt(
      std::min(1.0, u.ctasPerSm * t.warps / kDecodeWarpsPerSm));
  const double packed = s.packedRows > 0 ? s.packedRows : 16;
  const double rowBlocks = std::ceil(packed / t.blockM);
  double rows = std::sqrt(packed / (rowBlocks * t.blockM) / rowBlocks);
  // Deeper rings measured no faster (and their slot bookkeeping costs
  // registers): a small preference for two buffers where all else is equal.
  r.pipelineFactor = 1.0 / (1.0 + 0.02 * (t.stages - 2));
  r.score = bandwidth * r.occupancyFactor * rows * r.pipelineFactor;
  std::string reason;
  llvm::raw_string_ostream os(reason);
  os << t.str() << ": " << u.ctasPerSm << " CTA/SM; K/V in flight "
     << llvm::format("%.0f", inFlight / 1024) << " KiB/SM -> "
     << llvm::format("%.3f", bandwidth) << "; " << u.ctasPerSm * t.warps
     << " warps -> " << llvm::format("%.3f", r.occupancyFactor)
     << "; rows -> " << llvm::format("%.3f", rows) << "; score "
     << llvm::format("%.4f", r.score);
  r.reason = reason;
  return r;
}

static RankedTile score(const TargetInfo &target, const KernelShape &s,
                        const TileConfig &t, const Usage &u) {
  RankedTile r;
  r.tile = t;
  r.usage = u;
  double eb = s.elementBytes, d = s.headDim, dv = s.headDimV;
  double bm = t.blockM, bn = t.blockN;
  double flopsPerBlock = 2 * bm * bn * (d + dv);

  // FLOP per clock per SM of the kernel's math path, and FP32 lanes.
  double mmaPerClk = target.mmaFlopsPerClockPerSm;
  double fp32Lanes =
      target.mmaPeakFlops > 0
          ? mmaPerClk * target.simtF32PeakFlops / target.mmaPeakFlops / 2
          : 64;
  double perClk = s.elementBytes == 4 ? 2 * fp32Lanes : mmaPerClk;
  double peak = target.peakFlops(s.elementBytes);

  int warpsPerSm = u.ctasPerSm * t.warps;
  r.occupancyFactor =
      std::sqrt(std::min(1.0, warpsPerSm / kWarpsToHideLatency));

  double smemIntensity =
      flopsPerBlock / (eb * (bm * d + t.warps * bn * (d + dv)));
  double smemRidge = perClk / target.smemBytesPerClockPerSm;
  r.smemFactor = smemIntensity / (smemIntensity + smemRidge);

  r.hbmIntensity = flopsPerBlock / (bn * (d + dv) * eb); // = 2 bm / eb
  double l2Ridge =
      target.l2BytesPerSec > 0 ? peak / target.l2BytesPerSec : 64.0;
  double l2Factor = r.hbmIntensity / (r.hbmIntensity + l2Ridge);

  double mmaCycles = flopsPerBlock / perClk;
  double overhead = kIterationFixedCycles + bm * dv / fp32Lanes;
  r.iterationFactor = mmaCycles / (mmaCycles + overhead / u.ctasPerSm);

  r.pipelineFactor =
      t.stages >= 2 ? 1.0 : 1.0 - kSingleStagePenalty / u.ctasPerSm;

  r.registerFactor = 1.0;
  if (u.regsPerThread > kRegsComfortable)
    r.registerFactor =
        1.0 - kRegsAtLimitPenalty * (u.regsPerThread - kRegsComfortable) /
                  double(target.maxRegsPerThread - kRegsComfortable);

  r.score = r.occupancyFactor * r.smemFactor * l2Factor * r.iterationFactor *
            r.pipelineFactor * r.registerFactor;

  std::string reason;
  llvm::raw_string_ostream os(reason);
  os << t.str() << ": " << u.ctasPerSm << " CTA/SM (smem " << u.ctasBySmem
     << ", regs " << u.ctasByRegs << ", threads " << u.ctasByThreads << ") = "
     << warpsPerSm << " warps -> " << llvm::format("%.3f", r.occupancyFactor)
     << "; smem " << llvm::format("%.1f", smemIntensity) << " FLOP/B vs ridge "
     << llvm::format("%.1f", smemRidge) << " -> "
     << llvm::format("%.3f", r.smemFactor) << "; K/V "
     << llvm::format("%.1f", r.hbmIntensity) << " FLOP/B vs L2 ridge "
     << llvm::format("%.1f", l2Ridge) << " -> "
     << llvm::format("%.3f", l2Factor) << "; "
     << llvm::format("%.0f", mmaCycles) << " mma cycles/block vs "
     << llvm::format("%.0f", overhead) << " overhead -> "
     << llvm::format("%.3f", r.iterationFactor) << "; " << t.stages
     << (t.stages == 1 ? " stage -> " : " stages -> ")
     << llvm::format("%.3f", r.pipelineFactor) << "; ~" << u.regsPerThread
     << " regs -> " << llvm::format("%.3f", r.registerFactor) << "; score "
     << llvm::format("%.4f", r.score);
  r.reason = reason;
  return r;
}

std::vector<RankedTile> mlir::attn::model::rankCandidatesWithReasons(
    const TargetInfo &target, const KernelShape &shape,
    int64_t sramBudgetBytes, const KernelFamily &family) {
  std::vector<RankedTile> ranked;
  for (const TileConfig &t : tileSpace(family, shape)) {
    Usage u = estimate(target, shape, t, sramBudgetBytes, family);
    if (u.fits)
      ranked.push_back(family.decode ? scoreDecode(shape, t, u)
                                     : score(target, shape, t, u));
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const RankedTile &a, const RankedTile &b) {
                     if (a.score != b.score)
                       return a.score > b.score;
                     if (a.tile.blockM != b.tile.blockM)
                       return a.tile.blockM > b.tile.blockM;
                     if (a.tile.blockN != b.tile.blockN)
                       return a.tile.blockN > b.tile.blockN;
                     if (a.tile.warps != b.tile.warps)
                       return a.tile.warps < b.tile.warps;
                     return a.tile.stages > b.tile.stages;
                   });
  return ranked;
}

std::vector<TileConfig>
mlir::attn::model::rankCandidates(const TargetInfo &target,
                                  const KernelShape &shape,
                                  int64_t sramBudgetBytes,
                                  const KernelFamily &family) {
  std::vector<TileConfig> out;
  for (const RankedTile &r :
       rankCandidatesWithReasons(target, shape, sramBudgetBytes, family))
    out.push_back(r.tile);
  return out;
}

PaperTiles mlir::attn::model::paperTiles(int64_t sramBytes, int headDim,
                                         int elementBytes) {
  PaperTiles p;
  if (sramBytes <= 0 || headDim <= 0 || elementBytes <= 0)
    return p;
  int64_t m = sramBytes / elementBytes; // M, in elements
  p.blockN = (m + 4 * int64_t(headDim) - 1) / (4 * int64_t(headDim));
  p.blockM = std::min<int64_t>(p.blockN, headDim);
  return p;
}
