// attn/Kernel/Masks.h - the meaning of every built-in mask kind, written
// once: the element predicate (device code and the float64 reference), the
// key range a block of query rows may attend and the full/partial/empty
// classification of a (query block, key block) pair (device code and the IO
// model). Plain integer arithmetic in 64 bits (window sizes may be huge).
//
// Alignment: query row i of n and key j of m are aligned at the bottom-right
// corner, the "diagonal" is j == i + diag with diag = m - n.
//   causal          key j allowed for query i when j <= i + diag
//   window(l, r)    i + diag - l <= j <= i + diag + r
//   lengths(len)    j < len[b]
//   blocks(L, bq, bk)  L[h][i / bq][j / bk] != 0
// The spec's `where(...)` predicate is ANDed with these (generated code).
#pragma once

#include "attn/Kernel/Defs.h"

namespace attnc {
namespace masks {

ATTN_HD long long minLL(long long a, long long b) { return a < b ? a : b; }
ATTN_HD long long maxLL(long long a, long long b) { return a > b ? a : b; }

ATTN_HD bool causalAllows(long long i, long long j, long long diag) {
  return j <= i + diag;
}

ATTN_HD bool windowAllows(long long i, long long j, long long diag,
                          long long left, long long right) {
  return j >= i + diag - left && j <= i + diag + right;
}

ATTN_HD bool lengthAllows(long long j, long long length) { return j < length; }

/// The block-sparse layout cell (query block, key block) of element (i, j).
ATTN_HD void layoutCell(long long i, long long j, long long blockQ,
                        long long blockK, long long &qBlock,
                        long long &kBlock) {
  qBlock = i / blockQ;
  kBlock = j / blockK;
}

/// The block-sparse layout entry of (i, j); `layout` points at head h's
/// [qBlocks][strideQ] table.
ATTN_HD bool layoutAllows(const unsigned char *layout, long long strideQ,
                          long long blockQ, long long blockK, long long i,
                          long long j) {
  long long qb, kb;
  layoutCell(i, j, blockQ, blockK, qb, kb);
  return layout[qb * strideQ + kb] != 0;
}

/// The causal/window part of a mask, which bounds the keys of a row range.
struct Band {
  bool causal = false;
  bool window = false;
  long long left = 0, right = 0; // window sizes (window only)
  long long diag = 0;            // m - n

  /// Query i may attend key j as far as the band is concerned.
  ATTN_HD bool allows(long long i, long long j) const {
    if (causal && !causalAllows(i, j, diag))
      return false;
    if (window && !windowAllows(i, j, diag, left, right))
      return false;
    return true;
  }

  /// Keys [lo, hi) (clamped to [0, seqK)) that any row of [q0, q1) may
  /// attend. Both ends of a row's range grow with the row, so the union is
  /// [lo(q0), hi(q1 - 1)). Empty (lo >= hi) when no row sees a key.
  ATTN_HD void keyRange(long long q0, long long q1, long long seqK,
                        long long &lo, long long &hi) const {
    lo = 0;
    hi = seqK;
    if (causal)
      hi = minLL(hi, (q1 - 1) + diag + 1);
    if (window) {
      lo = maxLL(lo, q0 + diag - left);
      hi = minLL(hi, (q1 - 1) + diag + right + 1);
    }
    if (hi < lo)
      hi = lo;
  }

  /// Whether every row of [q0, q1) may attend every key of [k0, k1) (so a
  /// tile needs no per-element test as far as the band is concerned). The
  /// first row is the most restricted on the right, the last on the left.
  ATTN_HD bool coversTile(long long q0, long long q1, long long k0,
                          long long k1) const {
    if (causal && k1 - 1 > q0 + diag)
      return false;
    if (window && (k1 - 1 > q0 + diag + right || k0 < (q1 - 1) + diag - left))
      return false;
    return true;
  }

  /// Number of keys of [0, seqK) that row i may attend.
  ATTN_HD long long rowKeys(long long i, long long seqK) const {
    long long lo, hi;
    keyRange(i, i + 1, seqK, lo, hi);
    return hi - lo;
  }
};

} // namespace masks
} // namespace attnc
