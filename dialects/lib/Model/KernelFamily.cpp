//===- KernelFamily.cpp - formulas of each kernel family ------------------===//
//
// One case per family in each function below; the data (tile space, head
// dims, features) is in the family's record, and the device-side facts
// (shared-memory layout, tile constraints) come from its attn/Kernel header.
//
//===----------------------------------------------------------------------===//
#include "attn/Model/KernelFamily.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir::attn::model;

namespace {
bool isFwdMmaSync(const KernelFamily &f) { return &f == &kFwdMmaSync; }
bool isFwdSplitKv(const KernelFamily &f) { return &f == &kFwdSplitKv; }
bool fail(std::string *why, const std::string &msg) {
  if (why)
    *why = msg;
  return false;
}
} // namespace

const KernelFamily *mlir::attn::model::lookupFamily(const std::string &name) {
  for (const KernelFamily *f : kKernelFamilies)
    if (name == f->name)
      return f;
  return nullptr;
}

std::string mlir::attn::model::knownFamilyList() {
  std::string s;
  for (const KernelFamily *f : kKernelFamilies)
    s += (s.empty() ? "" : ", ") + std::string(f->name);
  return s;
}

bool mlir::attn::model::supportsShape(const KernelFamily &f,
                                      const KernelShape &s, std::string *why) {
  if (s.forward != (f.direction == Direction::Forward))
    return fail(why, std::string(f.name) + " is a " +
                         (f.direction == Direction::Forward ? "forward"
                                                            : "backward") +
                         " kernel");
  unsigned bit = s.elementBytes == 4 ? kF32 : s.elementBytes == 2 ? kF16 | kBF16
                                                                   : 0;
  if (!(f.elements & bit))
    return fail(why, "element size " + std::to_string(s.elementBytes) +
                         " B is not supported by " + f.name);
  if (!f.tileHeadDim(s.headDim) || !f.tileHeadDim(s.headDimV))
    return fail(why, "head dims " + std::to_string(s.headDim) + "/" +
                         std::to_string(s.headDimV) + " are not supported by " +
                         f.name + " (each a multiple of 8 up to the widest "
                         "tile: " + f.headDims.str() + ")");
  return true;
}

bool mlir::attn::model::supportsTile(const KernelFamily &f,
                                     const TileConfig &t, std::string *why) {
  if (!f.blockM.contains(t.blockM))
    return fail(why, "block_m " + std::to_string(t.blockM) + " not in {" +
                         f.blockM.str() + "}");
  if (!f.blockN.contains(t.blockN))
    return fail(why, "block_n " + std::to_string(t.blockN) + " not in {" +
                         f.blockN.str() + "}");
  if (!f.warps.contains(t.warps))
    return fail(why, "warps " + std::to_string(t.warps) + " not in {" +
                         f.warps.str() + "}");
  if (!f.stages.contains(t.stages))
    return fail(why, "stages " + std::to_string(t.stages) + " not in {" +
                         f.stages.str() + "}");
  if (isFwdMmaSync(f)) {
    if (!attnc::fwd_mma_sync::warpsOwnWholeTiles(t.blockM, t.warps))
      return fail(why, "block_m " + std::to_string(t.blockM) +
                           " is not a multiple of 16 x " +
                           std::to_string(t.warps) + " warps");
    // The list check above and this one together are supportsTile().
    if (!attnc::fwd_mma_sync::supportsTile(t.blockM, t.blockN, t.warps,
                                           t.stages))
      return fail(why, "tile " + t.str() + " is not supported by " + f.name);
  }
  if (isFwdSplitKv(f) &&
      !attnc::fwd_split_kv::supportsTile(t.blockM, t.blockN, t.warps,
                                         t.stages))
    return fail(why, "block_m " + std::to_string(t.blockM) + " is not 16 x " +
                         std::to_string(t.warps) + " warps (" + f.name +
                         ": one 16-row tile per warp)");
  return true;
}

std::vector<TileConfig>
mlir::attn::model::tileSpace(const KernelFamily &f, const KernelShape &shape) {
  std::vector<TileConfig> out;
  if (!supportsShape(f, shape))
    return out;
  for (int bm : f.blockM)
    for (int bn : f.blockN)
      for (int w : f.warps)
        for (int s : f.stages) {
          TileConfig t{bm, bn, w, s};
          if (supportsTile(f, t))
            out.push_back(t);
        }
  return out;
}

int64_t mlir::attn::model::smemBytes(const KernelFamily &f,
                                     const KernelShape &s,
                                     const TileConfig &t) {
  if (isFwdMmaSync(f))
    return attnc::fwd_mma_sync::smemBytes(t.blockM, t.blockN, s.headDim,
                                          s.headDimV, t.stages,
                                          s.elementBytes);
  if (isFwdSplitKv(f))
    return attnc::fwd_split_kv::smemBytes(t.blockM, t.blockN, s.headDim,
                                          s.headDimV, t.stages,
                                          s.elementBytes);
  return 0;
}

// Registers of fwd.mma_sync. For mma.sync each warp owns R = blockM / warps
// query rows; per thread:
//   O accumulator  R * dv / 32 f32      (live throughout)
//   row max / sum  R / 4                (2 rows per m16 tile, m and l)
//   S = Q K^T      R * blockN / 32 f32  + Q and K fragments (first GEMM)
//   P (bf16)       R * blockN / 64      + V fragments      (second GEMM)
//   addressing     pointers, strides, loop counters, mask bounds, scale
// S and P are not live at once (P is converted from S as the second GEMM
// starts), so the two GEMM phases enter as a max, not a sum. One k16 step
// of fragments: A (Q) R/16 m-tiles x 4 regs; B (K or V) two n8 tiles x 2
// regs; both double-buffered (ldmatrix of step k+1 in flight while step k
// issues mma). The f32 SIMT kernel spreads its O and S accumulators over
// the block's threads. Calibrated against ptxas -v (tests/unit/codegen).
namespace {
constexpr int kAddressingRegs = 16;
constexpr int kOperandBuffers = 2;
constexpr int kSimtOverheadRegs = 32;
} // namespace

int mlir::attn::model::estimateRegisters(const KernelFamily &f,
                                         const KernelShape &s,
                                         const TileConfig &t) {
  // fwd.split_kv runs the same kernel body (R = 16 rows per warp).
  if (!isFwdMmaSync(f) && !isFwdSplitKv(f))
    return 0;
  int rows = t.blockM / t.warps; // R
  const int dv = f.tileHeadDim(s.headDimV); // computed in the tile width
  if (s.elementBytes == 4) {
    int threads = t.warps * 32;
    return t.blockM * dv / threads + t.blockM * t.blockN / threads +
           kSimtOverheadRegs;
  }
  int oAcc = rows * dv / 32;
  int rowStats = rows / 4;
  int sAcc = rows * t.blockN / 32;
  int pFrag = rows * t.blockN / 64;
  int aFrag = (rows / 16) * 4 * kOperandBuffers; // Q, one k16 step
  int bFrag = 2 * 2 * kOperandBuffers;           // two n8 tiles of K or V
  int firstGemm = sAcc + aFrag + bFrag;          // S = Q K^T
  int secondGemm = pFrag + bFrag;                // O += P V
  return oAcc + rowStats + std::max(firstGemm, secondGemm) + kAddressingRegs;
}

LaunchGeometry mlir::attn::model::launchGeometry(const KernelFamily &f,
                                                 const KernelShape &shape,
                                                 const TileConfig &t,
                                                 const LaunchShape &s) {
  LaunchGeometry g;
  if (isFwdMmaSync(f)) {
    // One thread block per (query block, query head, batch); causal
    // kernels walk blockIdx.x backwards so the heaviest blocks start first.
    g.grid[0] = unsigned((s.seqQ + t.blockM - 1) / t.blockM);
    g.grid[1] = unsigned(s.headsQ);
    g.grid[2] = unsigned(s.batch);
    g.threads = unsigned(t.warps * 32);
    g.smemBytes = smemBytes(f, shape, t);
    g.blocksPerSplit = int((s.seqK + t.blockN - 1) / t.blockN);
  }
  if (isFwdSplitKv(f)) {
    namespace skv = attnc::fwd_split_kv;
    const int64_t group = s.headsKV > 0 ? s.headsQ / s.headsKV : 1;
    const int64_t mBlocks = (s.seqQ * group + t.blockM - 1) / t.blockM;
    const int64_t ctas = mBlocks * s.headsKV * s.batch;
    const int keyBlocks = int((s.seqK + t.blockN - 1) / t.blockN);
    g.splits = chooseSplits(ctas, keyBlocks, s.smCount, s.ctasPerSm);
    g.blocksPerSplit = skv::blocksPerSplit(keyBlocks, g.splits);
    g.grid[0] = unsigned(mBlocks * g.splits);
    g.grid[1] = unsigned(s.headsKV);
    g.grid[2] = unsigned(s.batch);
    g.threads = unsigned(t.warps * 32);
    g.smemBytes = smemBytes(f, shape, t);
    if (g.splits > 1) {
      g.workspaceBytes =
          4 * skv::workspaceFloats(g.splits, int(s.batch), int(s.headsQ),
                                   int(s.seqQ), shape.headDimV);
      // One combine block per output row (attnc/split_kv.cuh).
      g.combineGrid = unsigned(s.batch * s.headsQ * s.seqQ);
      g.combineThreads = unsigned(skv::kCombineThreads);
    }
  }
  return g;
}

// Splits of fwd.split_kv (after FlashAttention-2's heuristic): among the
// split counts that give every split the same number of key blocks (at
// least kMinBlocksPerSplit), the fewest whose last wave of thread blocks is
// nearly (98%) as full as the best count's (85% left B=1, 8 K/V heads, 64k
// keys at 86 splits, 87% of the slots, and 3-6% slower than 98 splits on
// the H200: docs/performance.md). The kernel streams K/V, so a
// last wave that leaves most SMs idle costs its whole length: a grid that
// already fills the GPU still splits when that evens out its last wave.
// One split when the device is unknown.
int mlir::attn::model::chooseSplits(int64_t ctas, int keyBlocks, int smCount,
                                    int ctasPerSm) {
  namespace skv = attnc::fwd_split_kv;
  const int64_t slots = int64_t(smCount) * ctasPerSm;
  if (slots <= 0 || ctas <= 0)
    return 1;
  const int most = int(std::min<int64_t>(
      {int64_t(skv::kMaxSplits), keyBlocks / skv::kMinBlocksPerSplit,
       std::max<int64_t>(1, 4 * slots / ctas)}));
  if (most <= 1)
    return 1;
  auto efficiency = [&](int splits) {
    const double waves = double(ctas * splits) / double(slots);
    return waves / std::ceil(waves);
  };
  auto even = [&](int n) {
    const int per = skv::blocksPerSplit(keyBlocks, n);
    return (keyBlocks + per - 1) / per == n;
  };
  double best = 0;
  for (int n = 1; n <= most; ++n)
    if (even(n))
      best = std::max(best, efficiency(n));
  for (int n = 1; n <= most; ++n)
    if (even(n) && efficiency(n) >= 0.98 * best)
      return n;
  return 1;
}
