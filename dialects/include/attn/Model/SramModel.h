//===- SramModel.h - shared memory, registers and tile ranking --*- C++ -*-===//
//
// The budget model behind tile selection. The FlashAttention paper picks
// Bc = ceil(M / 4d), Br = min(Bc, d) from the SRAM size M alone; a real
// kernel is bound by more: the exact shared memory it allocates, registers
// per thread (the O and S accumulators live there), threads, and how many
// thread blocks then share an SM. This file weighs those limits for a
// kernel family (attn/Model/KernelFamily.h owns the family's tile space and
// its shared-memory and register formulas) and ranks its configurations.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_MODEL_SRAMMODEL_H
#define ATTN_MODEL_SRAMMODEL_H

#include "attn/Model/KernelFamily.h"
#include "attn/Model/Target.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::attn::model {

/// Resources one configuration needs on one target.
struct Usage {
  int64_t smemBytes = 0;
  int regsPerThread = 0;
  int threads = 0;
  /// Thread blocks resident per SM, the smallest of the limits below.
  int ctasPerSm = 0;
  int ctasBySmem = 0, ctasByRegs = 0, ctasByThreads = 0;
  /// smem <= opt-in per block (and <= the budget when one is given),
  /// regs <= the per-thread maximum, and the kernel supports the config.
  bool fits = false;
  /// Why it does not fit, naming the numbers; empty when it fits.
  std::string reason;
};

/// Resources of `tile` on `target`. sramBudgetBytes = 0 uses the target's
/// opt-in limit; a positive budget is an additional limit.
Usage estimate(const TargetInfo &target, const KernelShape &shape,
               const TileConfig &tile, int64_t sramBudgetBytes = 0,
               const KernelFamily &family = kFwdMmaSync);

/// A feasible configuration with its score and the reasons for it.
struct RankedTile {
  TileConfig tile;
  Usage usage;
  double score = 0;           // higher is better; the product of the factors
  double occupancyFactor = 0; // resident warps for latency hiding
  double smemFactor = 0;      // MMA FLOP per shared-memory byte vs ridge
  double iterationFactor = 0; // per-K/V-block fixed costs amortised
  double pipelineFactor = 0;  // copy/compute overlap (stages, other CTAs)
  double registerFactor = 0;  // distance from the register limit (spills)
  double hbmIntensity = 0;    // FLOP per byte of K/V loaded = 2*blockM/eb
  std::string reason;         // the factors, in words
};

/// Feasible configurations, best first (score, then larger tiles, then
/// fewer warps, then more stages). sramBudgetBytes = 0: the target's opt-in.
std::vector<RankedTile> rankCandidatesWithReasons(const TargetInfo &target,
                                                  const KernelShape &shape,
                                                  int64_t sramBudgetBytes = 0,
                                                  const KernelFamily &family =
                                                      kFwdMmaSync);
std::vector<TileConfig> rankCandidates(const TargetInfo &target,
                                       const KernelShape &shape,
                                       int64_t sramBudgetBytes = 0,
                                       const KernelFamily &family =
                                           kFwdMmaSync);

/// The paper's tile sizes for SRAM of `sramBytes` (Algorithm 1, line 1):
/// M = sramBytes / elementBytes elements, Bc = ceil(M / 4d), Br = min(Bc, d).
struct PaperTiles {
  int64_t blockN = 0; // Bc
  int64_t blockM = 0; // Br
};
PaperTiles paperTiles(int64_t sramBytes, int headDim, int elementBytes);

} // namespace mlir::attn::model

#endif // ATTN_MODEL_SRAMMODEL_H
