// attn/Kernel/Params.h - the argument block of every attnc forward kernel.
//
// Shared, byte for byte, by the host runtime (plain C++) and the generated
// CUDA (NVRTC): only fixed-width scalar types, no includes.
#pragma once

namespace attnc {

/// The launch limits of every forward kernel, checked by the runtime before
/// a launch. The code generator relies on them: an index expression whose
/// range over these limits fits 32 bits is computed in 32 bits.
///   batch, heads  the grid's y and z extents (and Philox's 16-bit fields)
///   seqQ, seqK    2^30 rows: K or V of one head is then 2^30 * headDim
///                 elements already, and q_idx + c, q_idx - k_idx stay in
///                 32 bits for any |c| < 2^30
constexpr int kMaxBatch = 65535;
constexpr int kMaxHeads = 65535;
constexpr int kMaxSeqLen = 1 << 30;
/// Paged K/V (attn.paged_kv): keys per page. Any size up to this works; a
/// multiple of the kernel's key block is read a tile at a time, others a
/// row at a time.
constexpr int kMaxPageSize = 1 << 16;

/// Tables (inputs read in score modifiers and where() masks, `rel[h, i]`):
/// at most this many per spec, each of rank 1 to 4.
constexpr int kMaxTables = 4;

/// A table: element type by the spec (the generated code knows it), sizes
/// and element strides per dimension (unused dimensions: size 1, stride
/// 0). Every index is clamped into [0, size) before the read.
struct TableParams {
  const void *data;
  long long stride[4];
  int size[4];
};

/// Arguments of a forward attention kernel. Strides count elements; the head
/// dimension is contiguous (stride 1). Query row i of n and key row j of m are
/// aligned at the bottom-right corner: the "diagonal" is j == i + (m - n).
struct FwdParams {
  const void *q; // [batch, headsQ, seqQ, headDim]
  const void *k; // [batch, headsKV, seqK, headDim]
  const void *v; // [batch, headsKV, seqK, headDimV]
  void *o;       // [batch, headsQ, seqQ, headDimV], same element type as q
  float *lse;    // [batch, headsQ, seqQ], natural log-sum-exp; may be null

  long long qStrideB, qStrideH, qStrideS;
  long long kStrideB, kStrideH, kStrideS;
  long long vStrideB, vStrideH, vStrideS;
  long long oStrideB, oStrideH, oStrideS;
  long long lseStrideB, lseStrideH; // the sequence stride of lse is 1

  int batch, headsQ, headsKV, seqQ, seqK;

  float scale;     // softmax scale applied to Q K^T (e.g. 1/sqrt(headDim))
  float scaleLog2; // scale * log2(e), so exp(x*scale) == exp2(x*scaleLog2)

  // Sliding window (spec has `window`): key j allowed for query i when
  // i + (m - n) - windowLeft <= j <= i + (m - n) + windowRight.
  int windowLeft, windowRight;

  // Key padding (spec has `lengths`): key j allowed when j < kvLengths[b].
  const int *kvLengths;

  // Block sparsity (spec has `blocks`): key j allowed for query i when
  // blockLayout[h * layoutStrideH + (i / blockQ) * layoutStrideQ + j / blockK]
  // is non-zero. layoutStrideH == 0 shares one layout across heads.
  const unsigned char *blockLayout;
  long long layoutStrideH, layoutStrideQ;
  int layoutQBlocks, layoutKBlocks;
  int sparseBlockQ, sparseBlockK;

  // Paged K/V (spec has `paged(...)`, attn.paged_kv): k and v are caches
  // [pages, pageSize, headsKV, dim]; key j of batch b is row j % pageSize
  // of page blockTable[b * blockTableStrideB + j / pageSize]. The page
  // stride is kStrideB / vStrideB, the row stride kStrideS / vStrideS.
  // Batch b has seqLensK[b] keys (clamped to [0, seqK], seqK = maxPages *
  // pageSize); masks align at it. Page ids are clamped to [0, numPages):
  // the runtime validates the table before a launch unless told not to.
  const int *blockTable;
  const int *seqLensK;
  long long blockTableStrideB;
  int numPages;

  // Packed variable-length sequences (spec has `packed(...)`,
  // attn.packed_seq): q, o and k, v hold the tokens of every sequence one
  // after another ([total, heads, dim]: qStrideB etc. are unused). Sequence b
  // owns query rows [cuSeqlensQ[b], cuSeqlensQ[b + 1]) and key rows
  // [cuSeqlensK[b], cuSeqlensK[b + 1]); its masks align at its own lengths.
  // seqQ / seqK are the longest lengths (the grid's extent), totalQ / totalK
  // the token counts; bounds read from the prefix sums are clamped to them
  // (never an out-of-bounds access), and the runtime validates the prefix
  // sums before a launch unless told not to. lse is [headsQ, totalQ].
  const int *cuSeqlensQ;
  const int *cuSeqlensK;
  int totalQ, totalK;

  // Attention sinks (spec has `softmax(s, sink: ...)`): sinks[h] (f32, one
  // per query head, natural-log units of the scores) joins the softmax
  // denominator of every row of head h and its log-sum-exp; it attends to
  // nothing. A row with no allowed key gets O = 0 and LSE = sinks[h].
  const float *sinks;

  // Tables read by the score modifier and where() masks (spec with
  // `x[...]`), in the order of KernelInfo::tables.
  TableParams tables[kMaxTables];

  // Dropout (spec has `dropout`): element kept with probability 1 - p, kept
  // values scaled by dropoutScale = 1 / (1 - p). Bits from Philox4x32-10.
  float dropoutP;
  float dropoutScale;
  unsigned long long seed, offset;

  // Split-KV (family fwd.split_kv, attn/Kernel/FwdSplitKv.h): thread block
  // split s walks key blocks [s * blocksPerSplit, (s + 1) * blocksPerSplit);
  // with numSplits > 1 it writes its normalized O and its LSE to the f32
  // workspace oAccum / lseAccum and the combine kernel writes o and lse.
  // Other families ignore these (numSplits 1).
  int numSplits, blocksPerSplit;
  float *oAccum;
  float *lseAccum;
};

} // namespace attnc
