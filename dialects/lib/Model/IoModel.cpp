//===- IoModel.cpp - HBM traffic and FLOPs of tiled vs unfused ------------===//
#include "attn/Model/IoModel.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>

using namespace mlir::attn::model;

const char *mlir::attn::model::boundName(Bound b) {
  return b == Bound::Memory ? "memory" : "compute";
}

std::pair<int64_t, int64_t>
mlir::attn::model::keyRange(const AttentionProblem &p, int64_t q0,
                            int64_t q1) {
  // Rows [q0, q1): both ends of a row's allowed range grow with the row, so
  // the union over the rows is [lo(q0), hi(q1 - 1)).
  int64_t diag = p.seqK - p.seqQ; // bottom-right alignment
  int64_t lo = 0, hi = p.seqK;
  if (p.causal)
    hi = std::min(hi, (q1 - 1) + diag + 1);
  if (p.window) {
    lo = std::max(lo, q0 + diag - p.window->left);
    hi = std::min(hi, (q1 - 1) + diag + p.window->right + 1);
  }
  return {lo, std::max(lo, hi)};
}

int64_t mlir::attn::model::allowedPairs(const AttentionProblem &p) {
  int64_t pairs = 0;
  for (int64_t i = 0; i < p.seqQ; ++i) {
    auto [lo, hi] = keyRange(p, i, i + 1);
    pairs += hi - lo;
  }
  return pairs;
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Byte counts saturate at kSaturated (2^60), so absurd sizes (2^31-1 in every
// dimension) print a huge count, never a negative one, and sums of a few of
// them cannot overflow either.
static constexpr int64_t kSaturated = int64_t(1) << 60;
static int64_t satMul(std::initializer_list<int64_t> factors) {
  __int128 r = 1;
  for (int64_t f : factors) {
    r *= f;
    if (r > kSaturated || r < -kSaturated)
      return kSaturated;
  }
  return int64_t(r);
}
static int64_t satRound(double x) {
  return x >= double(kSaturated) ? kSaturated : std::llround(x);
}

IoEstimate mlir::attn::model::estimateTiled(const TargetInfo &target,
                                            const AttentionProblem &p,
                                            const TileConfig &tile) {
  IoEstimate e;
  const int64_t eb = p.elementBytes, n = p.seqQ, m = p.seqK;
  const int64_t d = p.headDim, dv = p.headDimV;
  const int64_t bm = tile.blockM, bn = tile.blockN;
  const int64_t headsQ = p.batch * p.headsQ;   // (b, h) pairs of queries
  const int64_t headsKV = p.batch * p.headsKV; // (b, h) pairs of K/V
  const double density = p.blockDensity;

  // Per query head: walk the query blocks, count the K/V blocks each one
  // loads (partial last blocks load only their valid rows) and the union of
  // key rows any block loads (for the L2 lower bound).
  int64_t qBlocks = ceilDiv(n, bm), kBlocks = ceilDiv(m, bn);
  int64_t kvRows = 0, tiles = 0, unionLo = m, unionHi = 0;
  for (int64_t qb = 0; qb < qBlocks; ++qb) {
    int64_t q0 = qb * bm, q1 = std::min(n, q0 + bm);
    auto [lo, hi] = keyRange(p, q0, q1);
    if (lo >= hi)
      continue; // fully masked query block: writes O = 0 and LSE = -inf
    int64_t kb0 = lo / bn, kb1 = ceilDiv(hi, bn);
    tiles += kb1 - kb0;
    kvRows += std::min(m, kb1 * bn) - kb0 * bn;
    unionLo = std::min(unionLo, kb0 * bn);
    unionHi = std::max(unionHi, std::min(m, kb1 * bn));
  }
  e.blocksTotal = qBlocks * kBlocks;
  e.blocksVisited = tiles * density;

  e.qBytes = satMul({headsQ, n, d, eb});
  e.kvBytes = satRound(double(satMul({headsQ, kvRows, d + dv, eb})) * density);
  e.bytesRead = e.qBytes + e.kvBytes;
  e.oBytes = satMul({headsQ, n, dv, eb});
  e.lseBytes = p.returnsLse ? satMul({headsQ, n, 4}) : 0;
  e.bytesWritten = e.oBytes + e.lseBytes;
  int64_t unionRows = std::max<int64_t>(0, unionHi - unionLo);
  e.bytesReadL2 =
      e.qBytes +
      satRound(double(satMul({headsKV, unionRows, d + dv, eb})) * density);

  int64_t pairs = allowedPairs(p);
  e.unmaskedFraction = n > 0 && m > 0 ? double(pairs) / (double(n) * m) : 0;
  e.flops = double(headsQ) * pairs * 2.0 * (d + dv) * density;
  e.flopsExecuted =
      double(headsQ) * tiles * double(bm * bn) * 2.0 * (d + dv) * density;
  int64_t bytes = e.bytesTotal();
  e.arithmeticIntensity = bytes > 0 ? e.flops / bytes : 0;

  // Lower bound: every byte must cross HBM at least once (the L2-aware
  // count) and every visited tile must go through the tensor cores.
  double peak = target.peakFlops(p.elementBytes);
  e.memoryTime = target.hbmBytesPerSec > 0
                     ? double(e.bytesReadL2 + e.bytesWritten) /
                           target.hbmBytesPerSec
                     : 0;
  e.computeTime = peak > 0 ? e.flopsExecuted / peak : 0;
  e.timeLowerBound = std::max(e.memoryTime, e.computeTime);
  e.bound = e.computeTime > e.memoryTime ? Bound::Compute : Bound::Memory;
  return e;
}

UnfusedEstimate mlir::attn::model::estimateUnfused(const TargetInfo &target,
                                                   const AttentionProblem &p) {
  UnfusedEstimate u;
  const int64_t eb = p.elementBytes, n = p.seqQ, m = p.seqK;
  const int64_t d = p.headDim, dv = p.headDimV;
  const int64_t heads = p.batch * p.headsQ;
  const int64_t nm = n * m;
  u.scoreMatrixBytes = heads * nm * eb;

  // Per query head, in elements of the input dtype unless noted.
  int64_t read = n * d + m * d; // S = Q K^T reads Q, K
  int64_t written = nm;         //   and writes S
  bool masked = p.causal || p.window || p.blockDensity < 1.0;
  if (masked) {
    read += nm; // masked_fill reads S
    written += nm; // and writes it back
  }
  int64_t extraBytesRead = 0, extraBytesWritten = 0;
  if (p.returnsLse) {
    read += nm;                  // logsumexp(S) reads S
    extraBytesWritten += n * 4;  // and writes n f32
  }
  read += nm;    // softmax reads S
  written += nm; //   and writes P
  if (p.dropout > 0) {
    read += nm;                  // dropout reads P,
    written += nm;               //   writes the dropped P
    extraBytesWritten += nm * 1; //   and a 1-byte keep mask
  }
  read += nm + m * dv; // O = P V reads P and V
  written += n * dv;   //   and writes O

  u.bytesRead = heads * (read * eb + extraBytesRead);
  u.bytesWritten = heads * (written * eb + extraBytesWritten);
  u.flops = double(heads) * double(nm) * 2.0 * (d + dv);
  u.arithmeticIntensity = u.flops / double(std::max<int64_t>(1, u.bytesTotal()));
  double peak = target.peakFlops(p.elementBytes);
  u.memoryTime = target.hbmBytesPerSec > 0
                     ? double(u.bytesTotal()) / target.hbmBytesPerSec
                     : 0;
  u.computeTime = peak > 0 ? u.flops / peak : 0;
  u.timeLowerBound = std::max(u.memoryTime, u.computeTime);
  u.bound = u.computeTime > u.memoryTime ? Bound::Compute : Bound::Memory;
  return u;
}

double mlir::attn::model::unfusedToTiledRatio(const UnfusedEstimate &unfused,
                                              const IoEstimate &tiled,
                                              bool l2Aware) {
  int64_t t = l2Aware ? tiled.bytesReadL2 + tiled.bytesWritten
                      : tiled.bytesTotal();
  return t > 0 ? double(unfused.bytesTotal()) / double(t) : 0.0;
}

double mlir::attn::model::paperStandardAccesses(double n, double d) {
  return n * d + n * n;
}

double mlir::attn::model::paperTiledAccesses(double n, double d,
                                             double sramElements) {
  return n * n * d * d / sramElements;
}

//===----------------------------------------------------------------------===//
// Report (declared in Report.h; kept here because it formats this model's
// numbers and the AttnModel target lists three sources)
//===----------------------------------------------------------------------===//

#include "attn/Model/Report.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

static void bytesWithMiB(llvm::raw_ostream &os, int64_t bytes) {
  os << bytes << " B (" << llvm::format("%.2f", bytes / (1024.0 * 1024.0))
     << " MiB)";
}

static void ratio(llvm::raw_ostream &os, int64_t num, int64_t den) {
  if (den > 0)
    os << llvm::format("%.2f", double(num) / double(den)) << "x";
  else
    os << "n/a";
}

static void time(llvm::raw_ostream &os, double seconds, Bound b) {
  os << llvm::format("%.2f", seconds * 1e6) << " us (" << boundName(b) << ")";
}

std::string mlir::attn::model::formatReport(llvm::StringRef kernelName,
                                            const TargetInfo &target,
                                            const AttentionProblem &p,
                                            const TileConfig &tile,
                                            int64_t sramBudgetBytes) {
  KernelShape shape = p.kernelShape();
  int64_t budget =
      sramBudgetBytes > 0 ? sramBudgetBytes : target.smemOptinPerBlockBytes;
  Usage u = estimate(target, shape, tile, sramBudgetBytes);
  PaperTiles paper = paperTiles(budget, shape.headDim, shape.elementBytes);
  IoEstimate t = estimateTiled(target, p, tile);
  UnfusedEstimate n = estimateUnfused(target, p);

  std::string s;
  llvm::raw_string_ostream os(s);
  auto row = [&](llvm::StringRef name) -> llvm::raw_ostream & {
    os << llvm::left_justify(name.str() + ":", 15);
    return os;
  };
  row("kernel") << kernelName << "\n";
  row("target") << target.name << " (" << target.part << ", "
                << target.smCount << " SMs)\n";
  row("problem") << "batch " << p.batch << ", heads " << p.headsQ << "/"
                 << p.headsKV << ", seq " << p.seqQ << " x " << p.seqK
                 << ", head dim " << p.headDim << "/" << p.headDimV << ", "
                 << p.elementBytes << " B";
  if (p.causal)
    os << ", causal";
  if (p.window)
    os << ", window " << p.window->left << "/" << p.window->right;
  if (p.blockDensity < 1.0)
    os << ", block density " << llvm::format("%.3f", p.blockDensity);
  if (p.dropout > 0)
    os << ", dropout " << llvm::format("%.3f", p.dropout);
  os << "\n";
  row("tiles") << "block_m " << tile.blockM << ", block_n " << tile.blockN
               << ", warps " << tile.warps << ", stages " << tile.stages
               << " (paper: Br " << paper.blockM << ", Bc " << paper.blockN
               << ")\n";
  row("sram") << u.smemBytes << " B of " << budget << " B budget ("
              << llvm::format("%.1f", 100.0 * u.smemBytes / budget) << "%)"
              << (u.fits ? "" : "; does not fit: " + u.reason) << "\n";
  row("registers") << "~" << u.regsPerThread << " per thread (estimate)\n";
  row("ctas per sm") << u.ctasPerSm << " (smem " << u.ctasBySmem << ", regs "
                     << u.ctasByRegs << ", threads " << u.ctasByThreads
                     << ")\n";
  row("hbm read") << "tiled ";
  bytesWithMiB(os, t.bytesRead);
  os << ", L2-aware ";
  bytesWithMiB(os, t.bytesReadL2);
  os << "; unfused ";
  bytesWithMiB(os, n.bytesRead);
  os << "; unfused/tiled ";
  ratio(os, n.bytesRead, t.bytesRead);
  os << "\n";
  row("hbm written") << "tiled ";
  bytesWithMiB(os, t.bytesWritten);
  os << "; unfused ";
  bytesWithMiB(os, n.bytesWritten);
  os << "; unfused/tiled ";
  ratio(os, n.bytesWritten, t.bytesWritten);
  os << "\n";
  row("hbm total") << "tiled ";
  bytesWithMiB(os, t.bytesTotal());
  os << "; unfused ";
  bytesWithMiB(os, n.bytesTotal());
  os << "; unfused/tiled ";
  ratio(os, n.bytesTotal(), t.bytesTotal());
  os << "\n";
  row("flops") << "useful " << llvm::format("%.3e", t.flops) << ", executed "
               << llvm::format("%.3e", t.flopsExecuted) << " ("
               << llvm::format("%.2f", 100.0 * t.unmaskedFraction)
               << "% unmasked; " << llvm::format("%.1f", t.blocksVisited)
               << " of " << t.blocksTotal << " blocks per head)\n";
  row("intensity") << "tiled " << llvm::format("%.2f", t.arithmeticIntensity)
                   << " FLOP/B, unfused "
                   << llvm::format("%.2f", n.arithmeticIntensity)
                   << " FLOP/B\n";
  row("time bound") << "tiled ";
  time(os, t.timeLowerBound, t.bound);
  os << ", unfused ";
  time(os, n.timeLowerBound, n.bound);
  os << "; at " << llvm::format("%.2f", target.hbmBytesPerSec / 1e12)
     << " TB/s, "
     << llvm::format("%.1f", target.peakFlops(p.elementBytes) / 1e12)
     << " TFLOP/s\n";
  return s;
}
