//===- Reference.h - float64 CPU reference of the attnc forward pass -------===//
//
// Header-only, plain C++17 (no CUDA, no LLVM). Defines the semantics that
// every generated kernel must reproduce:
//
//   S[i][j] = scale * sum_d Q[b,h,i,d] * K[b,h/(Hq/Hkv),j,d]         (GQA)
//   S       = scoreMod(S, b, h, i, j)                     if a modifier is set
//   S       = -inf where any mask says no (ANDed):
//             causal      j <= i + (m - n)                 (bottom-right aligned)
//             window      i + (m-n) - left <= j <= i + (m-n) + right
//             key padding j < kvLengths[b]
//             block-sparse blockLayout[h*strideH + (i/blockQ)*strideQ + j/blockK]
//             maskFn(b, h, i, j)
//   P       = softmax_j(S);  LSE = log sum_j exp(S)  (natural log)
//   P       = P * keep(b,h,i,j) * dropoutScale         if dropout (LSE undropped)
//   O       = P V
// A row with every key masked has O = 0 and LSE = -inf (never NaN).
//
// The masks' meaning (attn/Kernel/Masks.h) and the dropout bits
// (Philox4x32-10, attn/Kernel/Philox.h) are the kernel contract headers the
// device code compiles too, so the reference cannot drift from the kernel.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "attn/Kernel/Masks.h"
#include "attn/Kernel/Philox.h"

namespace attnc {
namespace ref {

/// One forward problem. Tensors are dense, row-major:
///   q [batch][headsQ][seqQ][headDim], k [batch][headsKV][seqK][headDim],
///   v [batch][headsKV][seqK][headDimV], o [batch][headsQ][seqQ][headDimV],
///   lse [batch][headsQ][seqQ].
struct FwdProblem {
  int batch = 1, headsQ = 1, headsKV = 1, seqQ = 1, seqK = 1;
  int headDim = 64, headDimV = 64;
  double scale = 0.125;

  bool causal = false;
  bool window = false;
  long long windowLeft = 0, windowRight = 0;
  std::vector<int> kvLengths; // empty: no key padding
  /// Paged K/V: batch b has seqLensK[b] keys (the rest do not exist, and
  /// the masks align at it); empty: every batch has seqK.
  std::vector<int> seqLensK;
  /// Packed sequences: batch b has seqLensQ[b] queries (rows past it do not
  /// exist: no key allowed, so O = 0 and LSE = -inf) and the masks align at
  /// it; empty: every batch has seqQ.
  std::vector<int> seqLensQ;

  bool blockSparse = false;
  std::vector<unsigned char> blockLayout;
  long long layoutStrideH = 0, layoutStrideQ = 0;
  int sparseBlockQ = 1, sparseBlockK = 1;

  bool dropout = false;
  float dropoutP = 0.f;
  double dropoutScale = 1.0;
  uint64_t seed = 0, offset = 0;

  /// Attention sinks: sinks[h] (one per query head, in the units of the
  /// scaled and modified scores) joins every softmax denominator of head h
  /// and its LSE; a row with no allowed key gets O = 0, LSE = sinks[h].
  /// Empty: none.
  std::vector<double> sinks;

  /// s is the scaled score; returns the modified score. Empty: identity.
  std::function<double(double s, int b, int h, int i, int j)> scoreMod;
  /// true = keep. Empty: keep all.
  std::function<bool(int b, int h, int i, int j)> maskFn;
};

/// Query i may attend key j (all masks ANDed).
inline bool allowed(const FwdProblem &pr, int b, int h, int i, int j) {
  masks::Band band;
  band.causal = pr.causal;
  band.window = pr.window;
  band.left = pr.windowLeft;
  band.right = pr.windowRight;
  const long long keys = pr.seqLensK.empty() ? pr.seqK : pr.seqLensK[b];
  if (j >= keys)
    return false;
  // Packed sequences: a query past its sequence does not exist (no key).
  if (!pr.seqLensQ.empty() && i >= pr.seqLensQ[b])
    return false;
  band.diag = keys - (pr.seqLensQ.empty() ? pr.seqQ : pr.seqLensQ[b]);
  if (!band.allows(i, j))
    return false;
  if (!pr.kvLengths.empty() && !masks::lengthAllows(j, pr.kvLengths[b]))
    return false;
  if (pr.blockSparse &&
      !masks::layoutAllows(pr.blockLayout.data() + h * pr.layoutStrideH,
                           pr.layoutStrideQ, pr.sparseBlockQ, pr.sparseBlockK,
                           i, j))
    return false;
  if (pr.maskFn && !pr.maskFn(b, h, i, j))
    return false;
  return true;
}

inline bool dropoutKeep(const FwdProblem &pr, int b, int h, int i, int j) {
  return attnc::dropoutKeep(pr.seed, pr.offset,
                            attnc::dropoutThreshold(pr.dropoutP), b, h, i, j);
}

/// Computes rows [rowBegin, rowEnd) of the flattened (b, h, i) index space
/// (row = (b * headsQ + h) * seqQ + i), so callers can split the work.
inline void forwardRows(const FwdProblem &pr, const double *q, const double *k,
                        const double *v, double *o, double *lse,
                        long long rowBegin, long long rowEnd) {
  const double negInf = -std::numeric_limits<double>::infinity();
  const int groups = pr.headsQ / pr.headsKV;
  std::vector<double> s(pr.seqK);
  for (long long row = rowBegin; row < rowEnd; ++row) {
    const int i = (int)(row % pr.seqQ);
    const int h = (int)((row / pr.seqQ) % pr.headsQ);
    const int b = (int)(row / ((long long)pr.seqQ * pr.headsQ));
    const int hk = h / groups;
    const double *qi = q + row * pr.headDim;
    const double *kb = k + ((long long)b * pr.headsKV + hk) * pr.seqK * pr.headDim;
    const double *vb =
        v + ((long long)b * pr.headsKV + hk) * pr.seqK * pr.headDimV;
    double *oi = o + row * pr.headDimV;

    double rowMax = negInf;
    for (int j = 0; j < pr.seqK; ++j) {
      double acc = 0;
      const double *kj = kb + (long long)j * pr.headDim;
      for (int d = 0; d < pr.headDim; ++d)
        acc += qi[d] * kj[d];
      double x = pr.scale * acc;
      if (pr.scoreMod)
        x = pr.scoreMod(x, b, h, i, j);
      if (!allowed(pr, b, h, i, j))
        x = negInf;
      s[j] = x;
      rowMax = std::max(rowMax, x);
    }
    std::fill(oi, oi + pr.headDimV, 0.0);
    // A packed row past its sequence does not exist: no sink either.
    const bool exists = pr.seqLensQ.empty() || i < pr.seqLensQ[b];
    const double sink = pr.sinks.empty() || !exists ? negInf : pr.sinks[h];
    if (rowMax == negInf) { // every key masked: O = 0, LSE = -inf (or sink)
      if (lse)
        lse[row] = sink;
      continue;
    }
    // The sink's exp(sink) joins the denominator (and takes no value).
    const double top = std::max(rowMax, sink);
    double sum = sink == negInf ? 0.0 : std::exp(sink - top);
    for (int j = 0; j < pr.seqK; ++j) {
      s[j] = std::exp(s[j] - top);
      sum += s[j];
    }
    if (lse)
      lse[row] = top + std::log(sum);
    for (int j = 0; j < pr.seqK; ++j) {
      double pj = s[j] / sum;
      if (pr.dropout)
        pj = dropoutKeep(pr, b, h, i, j) ? pj * pr.dropoutScale : 0.0;
      if (pj == 0)
        continue;
      const double *vj = vb + (long long)j * pr.headDimV;
      for (int d = 0; d < pr.headDimV; ++d)
        oi[d] += pj * vj[d];
    }
  }
}

/// The whole forward pass; o and lse (may be null) sized as documented.
inline void forward(const FwdProblem &pr, const double *q, const double *k,
                    const double *v, double *o, double *lse) {
  forwardRows(pr, q, k, v, o, lse, 0,
              (long long)pr.batch * pr.headsQ * pr.seqQ);
}

} // namespace ref
} // namespace attnc
