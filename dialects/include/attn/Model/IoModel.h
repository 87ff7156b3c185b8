//===- IoModel.h - HBM traffic and FLOPs of tiled vs unfused ----*- C++ -*-===//
//
// The paper's IO analysis made concrete: bytes the tiled (FlashAttention)
// kernel moves between HBM and the SM for a given problem and tile
// configuration, the bytes of the unfused chain (matmul, softmax, matmul)
// for the same problem, the FLOPs, and the lower bound on time they imply.
//
// Conventions. Query row i of n and key row j of m are aligned at the
// bottom-right corner: causal allows j <= i + (m - n); a window (left,
// right) allows i + (m - n) - left <= j <= i + (m - n) + right. Byte counts
// are exact integers for the block geometry; block sparsity (a density) and
// dropout enter as expectations.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_MODEL_IOMODEL_H
#define ATTN_MODEL_IOMODEL_H

#include "attn/Model/SramModel.h"
#include "attn/Model/Target.h"

#include <climits>
#include <cstdint>
#include <optional>

namespace mlir::attn::model {

struct Window {
  int64_t left = 0, right = 0;
};

struct AttentionProblem {
  int64_t batch = 1, headsQ = 1, headsKV = 1;
  int64_t seqQ = 0, seqK = 0; // n, m
  int64_t headDim = 0, headDimV = 0;
  int elementBytes = 2;
  bool causal = false;
  std::optional<Window> window;
  /// Fraction of (query block, key block) pairs the block-sparse layout
  /// keeps, applied to the blocks left after causal/window skipping.
  double blockDensity = 1.0;
  double dropout = 0.0;
  bool returnsLse = true;
  /// The kernel packs the query heads of a GQA group into the rows of one
  /// tile (fwd.split_kv): row blocks are of packed rows i * G + h % G of
  /// one K/V head, and each loads K/V once for the whole group.
  bool packedGqa = false;

  KernelShape kernelShape() const {
    return KernelShape{int(headDim), int(headDimV), elementBytes, true};
  }
};

/// a + b, clamped to the int64 range.
inline int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return a > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

/// Which resource the time bound comes from.
enum class Bound { Memory, Compute };
const char *boundName(Bound b);

struct IoEstimate {
  /// HBM bytes, every CTA reading its own Q, K and V blocks (no L2 reuse).
  int64_t bytesRead = 0;
  int64_t bytesWritten = 0;
  /// Lower bound with a perfect L2: Q once, K/V once per K/V head (only the
  /// rows some query block visits), O and LSE once.
  int64_t bytesReadL2 = 0;
  /// Parts of bytesRead.
  int64_t qBytes = 0, kvBytes = 0;
  /// Parts of bytesWritten.
  int64_t oBytes = 0, lseBytes = 0;

  /// Useful FLOPs: 2*(d+dv) per allowed (i, j) pair, i.e. 4*B*H*N*M*D times
  /// the unmasked fraction (times the block density).
  double flops = 0;
  /// FLOPs the tensor cores execute: whole blockM x blockN tiles visited.
  double flopsExecuted = 0;
  /// Allowed (i, j) pairs / (n * m), per head.
  double unmaskedFraction = 0;
  /// Query blocks x key blocks per (batch, head), and how many are visited.
  int64_t blocksTotal = 0;
  double blocksVisited = 0;

  /// flops / (bytesRead + bytesWritten).
  double arithmeticIntensity = 0;
  /// max(bytes / bandwidth, flopsExecuted / peak), seconds.
  double timeLowerBound = 0;
  double memoryTime = 0, computeTime = 0;
  Bound bound = Bound::Memory;

  /// Some rows were sampled, not all counted (huge sequence lengths).
  bool approximate = false;
  /// A byte count did not fit 64 bits and was clamped to INT64_MAX.
  bool saturated = false;

  int64_t bytesTotal() const { return saturatingAdd(bytesRead, bytesWritten); }
};

struct UnfusedEstimate {
  int64_t bytesRead = 0;
  int64_t bytesWritten = 0;
  /// Bytes of one N x M score or probability matrix (all heads and batches).
  int64_t scoreMatrixBytes = 0;
  double flops = 0; // 4*B*H*N*M*D (the naive chain computes every score)
  double arithmeticIntensity = 0;
  double timeLowerBound = 0;
  double memoryTime = 0, computeTime = 0;
  Bound bound = Bound::Memory;

  /// A byte count did not fit 64 bits and was clamped to INT64_MAX.
  bool saturated = false;

  int64_t bytesTotal() const { return saturatingAdd(bytesRead, bytesWritten); }
};

/// Tiled (FlashAttention forward) kernel with `tile` on `target`.
IoEstimate estimateTiled(const TargetInfo &target, const AttentionProblem &p,
                         const TileConfig &tile);

/// The unfused chain, Algorithm 0 of the paper, as PyTorch's naive path runs
/// it: S = Q K^T written (n x m, in the input dtype: bf16 for bf16, f32 for
/// f32), read by softmax, P written, read by P V; O written. The scale is
/// taken as folded into the first matmul (GEMM alpha). A mask (masked_fill)
/// when causal, a window or a block layout is present adds one read and one
/// write of S. Dropout reads P, writes P and a 1-byte keep mask. The log-sum-exp, when asked for, reads S once
/// more and writes n floats. GQA: K and V are expanded per query head
/// (repeat_interleave), so each query head reads its own copy.
UnfusedEstimate estimateUnfused(const TargetInfo &target,
                                const AttentionProblem &p);

/// Unfused bytes over tiled bytes (read + written): with the every-CTA HBM
/// count of the tiled kernel, or with its L2-aware lower bound.
double unfusedToTiledRatio(const UnfusedEstimate &unfused,
                           const IoEstimate &tiled, bool l2Aware = false);

/// Number of allowed (i, j) pairs of one head, exactly.
int64_t allowedPairs(const AttentionProblem &p);

/// Key range [lo, hi) that query rows [q0, q1) may attend to (causal and
/// window only; empty when lo >= hi).
std::pair<int64_t, int64_t> keyRange(const AttentionProblem &p, int64_t q0,
                                     int64_t q1);

/// The paper's asymptotic counts, in elements (Theorem 2): standard
/// attention Theta(N d + N^2), FlashAttention Theta(N^2 d^2 / M) for SRAM
/// of M elements (d <= M <= N d).
double paperStandardAccesses(double n, double d);
double paperTiledAccesses(double n, double d, double sramElements);

} // namespace mlir::attn::model

#endif // ATTN_MODEL_IOMODEL_H
