// attnc/mask.cuh - which keys a query block may attend: the key-block loop
// bounds, the per-block classification (skip / full / partial) and the
// element predicate. Built-in masks (causal, window, key padding, block
// sparse) and the spec's maskFn are ANDed. What each mask means is
// attn/Kernel/Masks.h (shared with the IO model and the float64
// reference); which masks may skip blocks is the tiled op's block_skip,
// emitted as Spec::kSkip*. A mask that may not skip still classifies the
// blocks it touches as partial, so skipping is an optimisation, never a
// change of meaning.
#pragma once

#include "attn/Kernel/Interval.h"
#include "attn/Kernel/Masks.h"
#include "attn/Kernel/Params.h"

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
  // Spec::kDecode (GQA-packed rows): the block's rows span query heads
  // [h, hLast]; tiles are classified over all of them. Otherwise hLast == h.
  int hLast;
  int seqQ, seqK;      // seqK is min(seqK, kvLengths[b]) with key padding
  long long diag;      // key j is on the diagonal of query i when j == i + diag
  int m0, m1;          // query rows [m0, m1) of this block (m1 <= seqQ)
  bool tailRows;       // the block has rows past the end (seqQ, or packed)
  const unsigned char *layout; // block-sparse layout of head h

  masks::Band band;    // the causal / window part
  int seqKAll;         // seqK before key padding (the batch's keys)

  /// Heads [head, headLast] (packed rows; one head: headLast == head) and
  /// queries [mStart, mEnd) of a batch with batchQ queries and batchK keys
  /// (FwdBlock: paged and packed batches have their own), before key
  /// padding. The masks align at them.
  __device__ __forceinline__ BlockMask(const FwdParams &params, int batch,
                                       int head, int headLast, int mStart,
                                       int mEnd, bool rowsPastEnd, int batchQ,
                                       int batchK)
      : p(params), b(batch), h(head), hLast(headLast), seqQ(batchQ),
        seqK(batchK), diag((long long)batchK - batchQ), m0(mStart), m1(mEnd),
        tailRows(rowsPastEnd), layout(nullptr), seqKAll(batchK) {
    if constexpr (Spec::kKeyPadding)
      seqK = max(0, min(seqK, p.kvLengths[b]));
    if constexpr (Spec::kBlockSparse)
      layout = p.blockLayout + (long long)h * p.layoutStrideH;
    band.causal = Spec::kCausal;
    band.window = Spec::kWindow;
    band.left = p.windowLeft;
    band.right = p.windowRight;
    band.diag = diag;
  }

  /// Key blocks [nBegin, nEnd) the loop visits: the range any row of
  /// [m0, m1) may attend, as far as the masks allowed to skip bound it.
  __device__ __forceinline__ void keyBlockRange(int &nBegin, int &nEnd) const {
    masks::Band skipBand = band;
    skipBand.causal = Spec::kCausal && Spec::kSkipCausal;
    skipBand.window = Spec::kWindow && Spec::kSkipWindow;
    const long long keys =
        (Spec::kKeyPadding && Spec::kSkipLengths) ? seqK : seqKAll;
    long long lo, hi;
    skipBand.keyRange(m0, m1, keys, lo, hi);
    if (hi <= lo) {
      nBegin = 0;
      nEnd = 0;
      return;
    }
    nBegin = (int)(lo / kBlockN);
    nEnd = (int)((hi + kBlockN - 1) / kBlockN);
    if constexpr (Spec::kMaskFn && Spec::kSkipWhere)
      tightenByWhere(nBegin, nEnd);
  }

  /// Whether where() is false on every row of the block and every valid key
  /// of blocks [first, last] (an empty key range counts as false).
  __device__ __forceinline__ bool noneVisible(int first, int last) const {
    const long long k0 = (long long)first * kBlockN;
    const long long k1 = min((long long)(last + 1) * kBlockN, (long long)seqK) - 1;
    return k1 < k0 ||
           whereTile((int)k0, (int)k1) == attn::interval::kTileNone;
  }

  /// maskTile over rows [m0, m1) and keys [k0, k1] of every head of the
  /// block: none / all only when every head says so.
  __device__ __forceinline__ int whereTile(int k0, int k1) const {
    int c = Spec::maskTile(b, h, m0, m1 - 1, k0, k1, p);
    if constexpr (Spec::kDecode)
      for (int hh = h + 1; hh <= hLast && c != attn::interval::kTileSome; ++hh)
        if (Spec::maskTile(b, hh, m0, m1 - 1, k0, k1, p) != c)
          c = attn::interval::kTileSome;
    return c;
  }

  /// Drops the leading and trailing key blocks on which where() is false
  /// everywhere, by bisection: an interval bound over a span covers every
  /// sub-span (the rules are inclusion-monotone), so "no key visible in
  /// blocks [nBegin, x)" is monotone in x. 2 log2(blocks) classifier calls
  /// instead of one per block for masks like document masks.
  __device__ __forceinline__ void tightenByWhere(int &nBegin, int &nEnd) const {
    int lo = nBegin, hi = nEnd; // blocks [nBegin, lo) are invisible
    while (lo < hi) {
      const int mid = lo + (hi - lo + 1) / 2;
      if (noneVisible(nBegin, mid - 1))
        lo = mid;
      else
        hi = mid - 1;
    }
    const int first = lo;
    lo = first, hi = nEnd; // blocks [hi, nEnd) are invisible
    while (lo < hi) {
      const int mid = lo + (hi - lo) / 2;
      if (noneVisible(mid, nEnd - 1))
        hi = mid;
      else
        lo = mid + 1;
    }
    nBegin = first;
    nEnd = hi;
  }

  /// Skip / full / partial for key block nBlock (inside keyBlockRange).
  __device__ __forceinline__ int classify(int nBlock) const {
    const long long n0 = (long long)nBlock * kBlockN, n1 = n0 + kBlockN;
    bool partial = n1 > seqK;
    // where(): the generated interval classifier over the tile's valid rows
    // and keys (attn/Kernel/Interval.h): empty tiles are skipped (when
    // block_skip has `where`), full ones need no per-element test.
    if constexpr (Spec::kMaskFn) {
      const long long kLast = min(n1, (long long)seqK) - 1;
      const int c = kLast < n0 ? attn::interval::kTileSome
                               : whereTile((int)n0, (int)kLast);
      if (c == attn::interval::kTileNone && Spec::kSkipWhere)
        return kBlockSkip;
      partial |= c != attn::interval::kTileAll;
    }
    // A score modifier must not see rows past seqQ (it may index tables).
    if constexpr (Spec::kScoreMod)
      partial |= tailRows;
    if constexpr (Spec::kCausal || Spec::kWindow)
      partial |= !band.coversTile(m0, m1, n0, n1);
    if constexpr (Spec::kBlockSparse) {
      // Scan the layout entries that cover rows [m0, m1) x keys of the block.
      const int nEndKey = (int)min(n1, (long long)seqK);
      if (nEndKey <= n0)
        return Spec::kSkipSparse ? kBlockSkip : kBlockPartial;
      const int qb0 = m0 / p.sparseBlockQ, qb1 = (m1 - 1) / p.sparseBlockQ;
      const int kb0 = (int)(n0 / p.sparseBlockK),
                kb1 = (nEndKey - 1) / p.sparseBlockK;
      bool any = false, all = true;
      // kDecode: the layouts of every head of the block (one when shared).
      const int hEnd = Spec::kDecode && p.layoutStrideH != 0 ? hLast : h;
      for (int hh = h; hh <= hEnd; ++hh) {
        const unsigned char *lay =
            layout + (long long)(hh - h) * p.layoutStrideH;
        for (int qb = qb0; qb <= qb1; ++qb)
          for (int kb = kb0; kb <= kb1; ++kb) {
            bool on = lay[(long long)qb * p.layoutStrideQ + kb] != 0;
            any |= on;
            all &= on;
          }
      }
      if (!any && Spec::kSkipSparse)
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

  /// Query i of head hq may attend key j (all masks ANDed). Rows and keys
  /// past the sequence ends are masked, so hooks never see them.
  __device__ __forceinline__ bool allowedAt(int hq, int i, int j) const {
    if (i >= seqQ || j >= seqK)
      return false;
    if constexpr (Spec::kCausal || Spec::kWindow)
      if (!band.allows(i, j))
        return false;
    if constexpr (Spec::kBlockSparse)
      if (!masks::layoutAllows(
              Spec::kDecode ? layout + (long long)(hq - h) * p.layoutStrideH
                            : layout,
              p.layoutStrideQ, p.sparseBlockQ, p.sparseBlockK, i, j))
        return false;
    if constexpr (Spec::kMaskFn)
      if (!Spec::maskFn(b, hq, i, j, p))
        return false;
    return true;
  }
  /// allowedAt for the block's head.
  __device__ __forceinline__ bool allowed(int i, int j) const {
    return allowedAt(h, i, j);
  }
};

} // namespace attnc
