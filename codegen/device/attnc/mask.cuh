// attnc/mask.cuh - which keys a query block may attend: the key-block loop
// bounds, the per-block classification (skip / full / partial) and the
// element predicate. Built-in masks (causal, window, key padding, block
// sparse) and the spec's maskFn are ANDed.
#pragma once

#include "attnc/params.cuh"

namespace attnc {

/// What a key block needs for one query block.
enum BlockKind : int {
  kBlockSkip = 0,    // every element masked: never loaded
  kBlockFull = 1,    // no element masked: no per-element test
  kBlockPartial = 2, // test every element
};

template <class Spec, int kBlockM, int kBlockN> struct BlockMask {
  const FwdParams &p;
  int b, h;
  int seqQ, seqK;      // seqK is min(seqK, kvLengths[b]) with key padding
  long long diag;      // key j is on the diagonal of query i when j == i + diag
  int m0, m1;          // query rows [m0, m1) of this block (m1 <= seqQ)
  const unsigned char *layout; // block-sparse layout of head h

  __device__ __forceinline__ BlockMask(const FwdParams &params, int batch,
                                       int head, int mStart)
      : p(params), b(batch), h(head), seqQ(params.seqQ), seqK(params.seqK),
        diag((long long)params.seqK - params.seqQ), m0(mStart),
        m1(min(mStart + kBlockM, params.seqQ)), layout(nullptr) {
    if constexpr (Spec::kKeyPadding)
      seqK = max(0, min(seqK, p.kvLengths[b]));
    if constexpr (Spec::kBlockSparse)
      layout = p.blockLayout + (long long)h * p.layoutStrideH;
  }

  /// Key blocks [nBegin, nEnd) that any row of [m0, m1) may attend. The
  /// causal / window diagonals of the first and last row bound the range;
  /// all arithmetic in 64 bits (window sizes may be huge).
  __device__ __forceinline__ void keyBlockRange(int &nBegin, int &nEnd) const {
    long long lo = 0, hi = seqK; // keys [lo, hi)
    if constexpr (Spec::kCausal)
      hi = min(hi, (long long)m1 + diag);
    if constexpr (Spec::kWindow) {
      hi = min(hi, (long long)m1 + diag + p.windowRight);
      lo = max(lo, (long long)m0 + diag - p.windowLeft);
    }
    if (hi <= lo) {
      nBegin = 0;
      nEnd = 0;
      return;
    }
    nBegin = (int)(lo / kBlockN);
    nEnd = (int)((hi + kBlockN - 1) / kBlockN);
  }

  /// Skip / full / partial for key block nBlock (inside keyBlockRange).
  __device__ __forceinline__ int classify(int nBlock) const {
    const long long n0 = (long long)nBlock * kBlockN, nLast = n0 + kBlockN - 1;
    bool partial = nLast >= seqK || Spec::kMaskFn;
    // A score modifier must not see rows past seqQ (it may index tables).
    if constexpr (Spec::kScoreMod)
      partial |= m0 + kBlockM > seqQ;
    if constexpr (Spec::kCausal)
      partial |= nLast > m0 + diag; // the first row is the most restricted
    if constexpr (Spec::kWindow) {
      partial |= nLast > m0 + diag + p.windowRight;
      partial |= n0 < (long long)(m1 - 1) + diag - p.windowLeft;
    }
    if constexpr (Spec::kBlockSparse) {
      // Scan the layout entries that cover rows [m0, m1) x keys of the block.
      const int nEndKey = (int)min(nLast + 1, (long long)seqK);
      if (nEndKey <= n0)
        return kBlockSkip;
      const int qb0 = m0 / p.sparseBlockQ, qb1 = (m1 - 1) / p.sparseBlockQ;
      const int kb0 = (int)(n0 / p.sparseBlockK),
                kb1 = (nEndKey - 1) / p.sparseBlockK;
      bool any = false, all = true;
      for (int qb = qb0; qb <= qb1; ++qb)
        for (int kb = kb0; kb <= kb1; ++kb) {
          bool on = layout[(long long)qb * p.layoutStrideQ + kb] != 0;
          any |= on;
          all &= on;
        }
      if (!any)
        return kBlockSkip;
      partial |= !all;
    }
    return partial ? kBlockPartial : kBlockFull;
  }

  /// The largest key block in [nBegin, start] that is not skipped, with its
  /// kind; nBegin - 1 when there is none.
  __device__ __forceinline__ int previousActive(int start, int nBegin,
                                                int &kind) const {
    for (int n = start; n >= nBegin; --n) {
      kind = classify(n);
      if (kind != kBlockSkip)
        return n;
    }
    kind = kBlockSkip;
    return nBegin - 1;
  }

  /// Query i may attend key j (all masks ANDed). Rows and keys past the
  /// sequence ends are masked, so hooks never see them.
  __device__ __forceinline__ bool allowed(int i, int j) const {
    if (i >= seqQ || j >= seqK)
      return false;
    const long long d = (long long)i + diag;
    if constexpr (Spec::kCausal)
      if (j > d)
        return false;
    if constexpr (Spec::kWindow)
      if (j < d - p.windowLeft || j > d + p.windowRight)
        return false;
    if constexpr (Spec::kBlockSparse)
      if (layout[(long long)(i / p.sparseBlockQ) * p.layoutStrideQ +
                 j / p.sparseBlockK] == 0)
        return false;
    if constexpr (Spec::kMaskFn)
      if (!Spec::maskFn(b, h, i, j, p))
        return false;
    return true;
  }
};

} // namespace attnc
