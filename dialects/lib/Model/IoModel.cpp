//===- IoModel.cpp - HBM traffic and FLOPs of tiled vs unfused ------------===//
#include "attn/Model/IoModel.h"
#include "attn/Kernel/Masks.h"

#include <algorithm>
#include <climits>
#include <vector>
#include <cmath>

using namespace mlir::attn::model;

const char *mlir::attn::model::boundName(Bound b) {
  return b == Bound::Memory ? "memory" : "compute";
}

std::pair<int64_t, int64_t>
mlir::attn::model::keyRange(const AttentionProblem &p, int64_t q0,
                            int64_t q1) {
  // The masks' meaning is the kernel contract's (attn/Kernel/Masks.h).
  attnc::masks::Band band;
  band.causal = p.causal;
  band.window = p.window.has_value();
  if (p.window) {
    band.left = p.window->left;
    band.right = p.window->right;
  }
  band.diag = p.seqK - p.seqQ; // bottom-right alignment
  long long lo, hi;
  band.keyRange(q0, q1, p.seqK, lo, hi);
  return {lo, hi};
}

namespace {
/// Counts are computed in long double: exact for integers below 2^64 (a
/// 64-bit mantissa), and a product of dims that overflows 64 bits stays a
/// finite number to clamp instead of wrapping.
using Wide = long double;

/// `x` clamped to int64; sets `saturated` when it had to clamp.
int64_t saturate(Wide x, bool &saturated) {
  const Wide hi = Wide(INT64_MAX), lo = Wide(INT64_MIN);
  if (!(x <= hi) || x < lo) {
    saturated = true;
    return x < lo ? INT64_MIN : INT64_MAX;
  }
  return int64_t(x);
}

/// round(x * density) of a wide count, clamped to int64.
int64_t scaled(Wide x, double density, bool &saturated) {
  if (density == 1.0)
    return saturate(x, saturated);
  double v = double(x) * density;
  if (!(v < 9.2e18)) {
    saturated = true;
    return INT64_MAX;
  }
  return std::llround(v);
}

/// Keys row i may attend (causal/window band; 0 when none).
int64_t rowKeys(const AttentionProblem &p, int64_t i) {
  auto [lo, hi] = keyRange(p, i, i + 1);
  return hi - lo;
}

/// Sum of rowKeys over every row, exactly, in O(1): rowKeys is piecewise
/// linear in i (slopes -1, 0 or 1) with breakpoints where a band edge meets
/// 0 or m, and where the band closes; between breakpoints the sum of a
/// linear sequence is (first + last) * count / 2.
Wide allowedPairsWide(const AttentionProblem &p) {
  const int64_t n = p.seqQ, m = p.seqK;
  if (n <= 0 || m <= 0)
    return 0;
  const Wide diag = Wide(m) - n;
  Wide left = p.window ? p.window->left : 0,
       right = p.window ? p.window->right : 0;
  // Candidate breakpoints (each +-1) where lo(i) or hi(i) reaches 0 or m.
  std::vector<Wide> cuts = {0, Wide(n)};
  auto add = [&](Wide x) {
    for (Wide d : {Wide(-1), Wide(0), Wide(1)})
      if (x + d > 0 && x + d < n)
        cuts.push_back(x + d);
  };
  Wide loEdge = diag - left;   // lo(i) = i + loEdge (window)
  Wide hiCausal = diag + 1;    // hi(i) = i + hiCausal (causal)
  Wide hiWindow = diag + right + 1;
  for (Wide e : {loEdge, hiCausal, hiWindow}) {
    add(-e);
    add(Wide(m) - e);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  Wide total = 0;
  for (size_t c = 0; c + 1 < cuts.size(); ++c) {
    int64_t s = int64_t(cuts[c]), e = int64_t(cuts[c + 1]); // rows [s, e)
    int64_t fs = rowKeys(p, s), fl = rowKeys(p, e - 1);
    if (e - s <= 2) {
      total += fs + (e - s == 2 ? fl : 0);
      continue;
    }
    int64_t slope = rowKeys(p, s + 1) - fs;
    if (Wide(fl) - fs == Wide(slope) * Wide(e - 1 - s)) {
      total += (Wide(fs) + fl) * (e - s) / 2; // linear on [s, e)
      continue;
    }
    // The band closes inside the segment (rowKeys reaches 0 and stays):
    // split at the last row with keys, found by bisection on the monotone
    // part.
    int64_t a = s, b = e - 1; // rowKeys(a) > 0 or == 0 ...
    bool decreasing = slope < 0;
    while (a < b) {
      int64_t mid = a + (b - a) / 2;
      bool positive = rowKeys(p, mid) > 0;
      if (decreasing ? positive : !positive)
        a = mid + 1;
      else
        b = mid;
    }
    int64_t split = a; // first row of the second linear piece
    for (auto [x, y] : {std::pair<int64_t, int64_t>{s, split}, {split, e}}) {
      if (y <= x)
        continue;
      total += (Wide(rowKeys(p, x)) + rowKeys(p, y - 1)) * (y - x) / 2;
    }
  }
  return total;
}

/// Above this many query blocks per head, estimateTiled samples blocks
/// instead of walking every one (a report must never take long).
constexpr int64_t kExactQueryBlocks = int64_t(1) << 22;
constexpr int64_t kSampledQueryBlocks = int64_t(1) << 16;
} // namespace

int64_t mlir::attn::model::allowedPairs(const AttentionProblem &p) {
  bool saturated = false;
  return saturate(allowedPairsWide(p), saturated);
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

IoEstimate mlir::attn::model::estimateTiled(const TargetInfo &target,
                                            const AttentionProblem &p,
                                            const TileConfig &tile) {
  IoEstimate e;
  const int64_t eb = p.elementBytes, n = p.seqQ, m = p.seqK;
  const int64_t d = p.headDim, dv = p.headDimV;
  const int64_t bm = tile.blockM, bn = tile.blockN;
  const Wide headsQ = Wide(p.batch) * p.headsQ;   // (b, h) pairs of queries
  const Wide headsKV = Wide(p.batch) * p.headsKV; // (b, h) pairs of K/V
  const double density = p.blockDensity;
  bool &sat = e.saturated;
  if (n <= 0 || m <= 0 || bm <= 0 || bn <= 0)
    return e;

  // Per query head (packed: per K/V head): walk the row blocks, count the
  // K/V blocks each one loads (partial last blocks load only their valid
  // rows) and the union of key rows any block loads (for the L2 lower
  // bound). Beyond kExactQueryBlocks the blocks are sampled evenly and the
  // sums scaled.
  const int64_t group =
      p.packedGqa && p.headsKV > 0 ? std::max<int64_t>(1, p.headsQ / p.headsKV)
                                   : 1;
  const int64_t rows = n * group; // packed rows per K/V head (or n)
  const Wide loaders = p.packedGqa ? headsKV : headsQ;
  int64_t qBlocks = ceilDiv(rows, bm), kBlocks = ceilDiv(m, bn);
  int64_t step = 1;
  if (qBlocks > kExactQueryBlocks) {
    step = ceilDiv(qBlocks, kSampledQueryBlocks);
    e.approximate = true;
  }
  Wide kvRows = 0, tiles = 0;
  int64_t unionLo = m, unionHi = 0, sampled = 0;
  auto visit = [&](int64_t qb, bool count) {
    // The queries the block's rows cover.
    int64_t r0 = qb * bm, r1 = std::min(rows, r0 + bm);
    int64_t q0 = r0 / group, q1 = (r1 - 1) / group + 1;
    auto [lo, hi] = keyRange(p, q0, q1);
    if (lo >= hi)
      return; // fully masked query block: writes O = 0 and LSE = -inf
    int64_t kb0 = lo / bn, kb1 = ceilDiv(hi, bn);
    if (count) {
      tiles += kb1 - kb0;
      kvRows += std::min(m, kb1 * bn) - kb0 * bn;
    }
    unionLo = std::min(unionLo, kb0 * bn);
    unionHi = std::max(unionHi, std::min(m, kb1 * bn));
  };
  for (int64_t qb = 0; qb < qBlocks; qb += step) {
    visit(qb, true);
    ++sampled;
  }
  if (step > 1) {
    visit(qBlocks - 1, false); // the union's ends are the extreme blocks
    tiles = tiles * qBlocks / sampled;
    kvRows = kvRows * qBlocks / sampled;
  }
  e.blocksTotal = saturate(Wide(qBlocks) * kBlocks, sat);
  e.blocksVisited = double(tiles) * density;

  e.qBytes = saturate(headsQ * n * d * eb, sat);
  e.kvBytes = scaled(loaders * kvRows * (d + dv) * eb, density, sat);
  e.bytesRead = saturate(Wide(e.qBytes) + e.kvBytes, sat);
  e.oBytes = saturate(headsQ * n * dv * eb, sat);
  e.lseBytes = p.returnsLse ? saturate(headsQ * n * 4, sat) : 0;
  e.bytesWritten = saturate(Wide(e.oBytes) + e.lseBytes, sat);
  int64_t unionRows = std::max<int64_t>(0, unionHi - unionLo);
  e.bytesReadL2 = saturate(
      Wide(e.qBytes) +
          scaled(headsKV * unionRows * (d + dv) * eb, density, sat),
      sat);

  Wide pairs = allowedPairsWide(p);
  e.unmaskedFraction = double(pairs) / (double(n) * double(m));
  e.flops = double(headsQ) * double(pairs) * 2.0 * (d + dv) * density;
  e.flopsExecuted = double(loaders) * double(tiles) * double(bm * bn) * 2.0 *
                    (d + dv) * density;
  double bytes = double(e.bytesRead) + double(e.bytesWritten);
  e.arithmeticIntensity = bytes > 0 ? e.flops / bytes : 0;

  // Lower bound: every byte must cross HBM at least once (the L2-aware
  // count) and every visited tile must go through the tensor cores.
  double peak = target.peakFlops(p.elementBytes);
  e.memoryTime = target.hbmBytesPerSec > 0
                     ? (double(e.bytesReadL2) + double(e.bytesWritten)) /
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
  const Wide heads = Wide(p.batch) * p.headsQ;
  const Wide nm = Wide(n) * m;
  bool &sat = u.saturated;
  u.scoreMatrixBytes = saturate(heads * nm * eb, sat);

  // Per query head, in elements of the input dtype unless noted.
  Wide read = Wide(n) * d + Wide(m) * d; // S = Q K^T reads Q, K
  Wide written = nm;           //   and writes S
  bool masked = p.causal || p.window || p.blockDensity < 1.0;
  if (masked) {
    read += nm; // masked_fill reads S
    written += nm; // and writes it back
  }
  Wide extraBytesRead = 0, extraBytesWritten = 0;
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

  u.bytesRead = saturate(heads * (read * eb + extraBytesRead), sat);
  u.bytesWritten = saturate(heads * (written * eb + extraBytesWritten), sat);
  u.flops = double(heads) * double(nm) * 2.0 * (d + dv);
  u.arithmeticIntensity =
      u.flops / std::max(1.0, double(u.bytesRead) + double(u.bytesWritten));
  double peak = target.peakFlops(p.elementBytes);
  u.memoryTime = target.hbmBytesPerSec > 0
                     ? (double(u.bytesRead) + double(u.bytesWritten)) /
                           target.hbmBytesPerSec
                     : 0;
  u.computeTime = peak > 0 ? u.flops / peak : 0;
  u.timeLowerBound = std::max(u.memoryTime, u.computeTime);
  u.bound = u.computeTime > u.memoryTime ? Bound::Compute : Bound::Memory;
  return u;
}

double mlir::attn::model::unfusedToTiledRatio(const UnfusedEstimate &unfused,
                                              const IoEstimate &tiled,
                                              bool l2Aware) {
  int64_t t = l2Aware ? saturatingAdd(tiled.bytesReadL2, tiled.bytesWritten)
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
  if (num == INT64_MAX || den == INT64_MAX)
    os << "n/a (clamped)";
  else if (den > 0)
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
                                            int64_t sramBudgetBytes,
                                            const KernelFamily &family) {
  KernelShape shape = p.kernelShape();
  int64_t budget =
      sramBudgetBytes > 0 ? sramBudgetBytes : target.smemOptinPerBlockBytes;
  Usage u = estimate(target, shape, tile, sramBudgetBytes, family);
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
                << target.smCount << " SMs); HBM "
                << llvm::format("%.2f", target.hbmBytesPerSec / 1e12)
                << " TB/s";
  if (!target.hbmBasis.empty())
    os << " " << target.hbmBasis;
  os << "\n";
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
  row("family") << family.name << "\n";
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
  if (t.approximate)
    row("note") << "the tiled counts sample "
                << "every query block's pattern evenly (too many query "
                   "blocks to walk each one); the L2 bound and FLOPs are "
                   "exact\n";
  if (t.saturated || n.saturated)
    row("note") << "some byte counts exceed 2^63 - 1 and are shown "
                   "clamped to 9223372036854775807 B\n";
  return s;
}
