//===- SramModel.h - shared memory, registers and tile ranking --*- C++ -*-===//
//
// The budget model behind tile selection. The FlashAttention paper picks
// Bc = ceil(M / 4d), Br = min(Bc, d) from the SRAM size M alone; a real
// kernel is bound by more: the exact shared memory it allocates, registers
// per thread (the O and S accumulators live there), threads, and how many
// thread blocks then share an SM. This file states those limits for the
// attnc forward kernel and ranks the configurations it supports.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_MODEL_SRAMMODEL_H
#define ATTN_MODEL_SRAMMODEL_H

#include "attn/Model/Target.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::attn::model {

/// One tile configuration of the forward kernel: blockM query rows (Br) per
/// thread block, blockN key rows (Bc) per K/V block, warps per block, and
/// the number of K/V buffers in the copy pipeline.
struct TileConfig {
  int blockM = 128, blockN = 64, warps = 4, stages = 1;

  int threads(int warpSize = 32) const { return warps * warpSize; }
  /// Query rows each warp owns.
  int rowsPerWarp() const { return blockM / warps; }
  bool operator==(const TileConfig &o) const {
    return blockM == o.blockM && blockN == o.blockN && warps == o.warps &&
           stages == o.stages;
  }
  bool operator!=(const TileConfig &o) const { return !(*this == o); }
  /// "128x64 w4 s2".
  std::string str() const;
};

/// What the kernel computes, as far as its resources depend on it.
struct KernelShape {
  int headDim = 128;   // d: Q and K
  int headDimV = 128;  // dv: V and O
  int elementBytes = 2; // 2: f16/bf16 (mma.sync), 4: f32 (SIMT)
  bool forward = true;  // the model covers the forward kernel only

  static KernelShape of(int headDim, int elementBytes = 2) {
    return KernelShape{headDim, headDim, elementBytes, true};
  }
};

/// What the kernel limits are (the teammate's kernel supports exactly these).
inline constexpr int kSupportedBlockM[] = {64, 128};
inline constexpr int kSupportedBlockN[] = {32, 64, 128};
inline constexpr int kSupportedWarps[] = {4, 8};
inline constexpr int kSupportedStages[] = {1, 2};
inline constexpr int kSupportedHeadDims[] = {32, 64, 96, 128, 192, 256};

/// Constants of the register estimate, in one place so they can be
/// calibrated against `ptxas -v`. See estimateRegisters() for the model.
struct RegisterModel {
  /// Pointers, strides, loop counters, mask bounds, softmax scale.
  int addressing = 16;
  /// Operand fragments are double-buffered (ldmatrix of step k+1 in flight
  /// while step k issues mma).
  int operandBuffers = 2;
  /// f32 SIMT kernel: fixed registers beside the per-thread accumulators.
  int simtOverhead = 32;
};
const RegisterModel &registerModel();

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

/// Shared memory of the forward kernel in bytes: the Q tile plus `stages`
/// K and V buffers. The kernel static_asserts equality with this number.
int64_t forwardSmemBytes(const KernelShape &shape, const TileConfig &tile);

/// Registers per thread (estimate). For mma.sync each warp owns
/// R = blockM / warps query rows; per thread:
///   O accumulator  R * dv / 32 f32      (live throughout)
///   row max / sum  R / 4                (2 rows per m16 tile, m and l)
///   S = Q K^T      R * blockN / 32 f32  + Q and K fragments (first GEMM)
///   P (bf16)       R * blockN / 64      + V fragments      (second GEMM)
///   addressing     RegisterModel::addressing
/// S and P are not live at once (P is converted from S as the second GEMM
/// starts), so the two GEMM phases enter as a max, not a sum. One k16 step
/// of fragments: A (Q) R/16 m-tiles x 4 regs; B (K or V) two n8 tiles x 2
/// regs; both times RegisterModel::operandBuffers.
int estimateRegisters(const KernelShape &shape, const TileConfig &tile);

/// Whether the kernel supports the configuration; `why` says what is not.
bool isSupported(const KernelShape &shape, const TileConfig &tile,
                 std::string *why = nullptr);

/// Resources of `tile` on `target`. sramBudgetBytes = 0 uses the target's
/// opt-in limit; a positive budget is an additional limit.
Usage estimate(const TargetInfo &target, const KernelShape &shape,
               const TileConfig &tile, int64_t sramBudgetBytes = 0);

/// Every configuration the kernel supports for a shape, in a fixed order.
std::vector<TileConfig> supportedConfigs(const KernelShape &shape);

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
                                                  int64_t sramBudgetBytes = 0);
std::vector<TileConfig> rankCandidates(const TargetInfo &target,
                                       const KernelShape &shape,
                                       int64_t sramBudgetBytes = 0);

/// The paper's tile sizes for SRAM of `sramBytes` (Algorithm 1, line 1):
/// M = sramBytes / elementBytes elements, Bc = ceil(M / 4d), Br = min(Bc, d).
struct PaperTiles {
  int64_t blockN = 0; // Bc
  int64_t blockM = 0; // Br
};
PaperTiles paperTiles(int64_t sramBytes, int headDim, int elementBytes);

} // namespace mlir::attn::model

#endif // ATTN_MODEL_SRAMMODEL_H
