// attnc/flash_fwd.cuh - the forward attention kernel body that every
// generated attnc kernel calls: attnc::flashFwd<Spec>(params).
//
// Spec (written by the code generator) provides
//   using Element;                          // __half, __nv_bfloat16 or float
//   kHeadDim, kHeadDimV, kBlockM, kBlockN, kWarps, kStages;
//   kCausal, kWindow, kKeyPadding, kBlockSparse, kScoreMod, kMaskFn, kDropout;
//   kSkipCausal, kSkipWindow, kSkipLengths, kSkipSparse, kSkipWhere;  // block_skip
//   kDecode;  // family fwd.split_kv: GQA-packed rows, split key range
//   kPaged, kPageSize;  // K/V caches read through a block table (Params.h)
//   kPacked;            // variable-length sequences packed (Params.h)
//   kSinks;             // a per-head sink logit in the softmax (Params.h)
//   static float scoreMod(float s, int b, int h, int q, int k, const FwdParams &);
//   static bool  maskFn(int b, int h, int q, int k, const FwdParams &);
//   static int   maskTile(int b, int h, int q0, int q1, int k0, int k1,
//                         const FwdParams &);  // maskFn over a tile, Interval.h
//
// Launch (attn/Model/KernelFamily.h, launchGeometry): grid (ceil(seqQ /
// kBlockM), headsQ, batch), kWarps * 32 threads, FwdTraits<Spec>::kSmemBytes
// of dynamic shared memory (the layout is attn/Kernel/FwdMmaSync.h: the Q
// tile plus kStages buffers of one K and one V tile, swizzled, no padding).
// Global tiles need 16-byte aligned rows (strides in elements a multiple of
// 16 / sizeof(Element)). More than 48 KB needs
// cudaFuncAttributeMaxDynamicSharedMemorySize first. Block-sparse layouts
// must cover ceil(seqQ / blockQ) x ceil(seqK / blockK) entries per head; GQA
// needs headsQ % headsKV == 0.
//
// kDecode (family fwd.split_kv, attn/Kernel/FwdSplitKv.h): the rows of a
// thread block are packed rows R = i * G + (h % G) of one K/V head (the G
// query heads of a group share every K/V tile, read once), and the grid is
// (numSplits * ceil(seqQ * G / kBlockM), headsKV, batch): block x walks the
// key blocks of split x / ceil(seqQ * G / kBlockM). With numSplits > 1 the
// results go to the f32 workspace and attnc/split_kv.cuh combines them.
//
// __half / __nv_bfloat16: mma.sync m16n8k16 tensor-core kernel (sm_80+).
// float: a SIMT fp32 kernel with the same contract (slow path).
//
// The tile space and head dims are the family's (attn/Kernel/FwdMmaSync.h);
// the traits below static_assert them from there. Fastest measured on H100,
// bf16 (blockM x blockN, warps, stages; tests/gpu/device_headers/
// PERF_NOTES.md):
//   d32  64x128 w4 s2    d64  128x128 w4 s2    d96  128x64 w4 s2
//   d128 128x64 w4 s2    d192 128x64 w8 s1     d256 128x64 w8 s1
// For float use kBlockM 64 and the smallest kBlockN that fits.
#pragma once

#include "attn/Kernel/FwdMmaSync.h"
#include "attn/Kernel/FwdSplitKv.h"
#include "attnc/mask.cuh"
#include "attnc/math.cuh"
#include "attn/Kernel/Params.h"
#include "attn/Kernel/Philox.h"
#include "attnc/softmax.cuh"
#include "attnc/tile.cuh"

namespace attnc {

// ---------------------------------------------------------------------------
// Traits: every size of the kernel, at compile time.
// ---------------------------------------------------------------------------
template <class Spec> struct FwdTraits {
  using Element = typename Spec::Element;
  // The head dims (Spec: the user's) and the tile widths they are computed
  // in: columns past the head dim are zero-filled in shared memory (never
  // read from global) and never stored.
  static constexpr int kDimQK = Spec::kHeadDim, kDimV = Spec::kHeadDimV;
  static constexpr int kHeadDim = fwd_mma_sync::tileHeadDim(kDimQK);
  static constexpr int kHeadDimV = fwd_mma_sync::tileHeadDim(kDimV);
  static constexpr int kBlockM = Spec::kBlockM; // query rows per block (Br)
  static constexpr int kBlockN = Spec::kBlockN; // keys per block (Bc)
  static constexpr int kWarps = Spec::kWarps;
  static constexpr int kStages = Spec::kStages; // K/V buffers in shared memory
  static constexpr int kThreads = kWarps * 32;
  static constexpr bool kDecode = Spec::kDecode;

  static constexpr int kRowsPerWarp = kBlockM / kWarps;
  static constexpr int kMTiles = kRowsPerWarp / 16; // 16-row mma tiles per warp
  static constexpr int kNTiles = kBlockN / 8;       // 8-key tiles of S
  static constexpr int kDTiles = kHeadDimV / 8;     // 8-column tiles of O
  static constexpr int kQKSteps = kHeadDim / 16;    // k-steps of S = Q K^T
  static constexpr int kPVSteps = kBlockN / 16;     // k-steps of O += P V

  // Shared memory, in elements: Q, then kStages x (K, V); the total is the
  // family's formula (attn/Kernel/FwdMmaSync.h), which the SRAM model uses.
  static constexpr int kSmemQ = kBlockM * kHeadDim;
  static constexpr int kSmemK = kBlockN * kHeadDim;
  static constexpr int kSmemV = kBlockN * kHeadDimV;
  static constexpr int kSmemStage = kSmemK + kSmemV;
  static constexpr int kSmemBytes = (int)fwd_mma_sync::smemBytes(
      kBlockM, kBlockN, kHeadDim, kHeadDimV, kStages, (int)sizeof(Element));
  static_assert(kSmemQ + kStages * kSmemStage <=
                        fwd_mma_sync::smemElements(kBlockM, kBlockN, kDimQK,
                                                   kDimV, kStages) &&
                    kBlockM * kHeadDimV <=
                        fwd_mma_sync::smemElements(kBlockM, kBlockN, kDimQK,
                                                   kDimV, kStages),
                "the buffers and the epilogue's O tile must fit the "
                "family's layout");
  // The epilogue stages O from the start of shared memory; when it reaches
  // past Q and K into the V buffer another warp may still read, the block
  // synchronizes first (one buffer only: two or more end with a barrier).
  static constexpr bool kSyncBeforeEpilogue =
      kStages == 1 && kBlockM * kHeadDimV > kSmemQ + kSmemK;

  // Accumulator registers per thread (S and O); Q fragments stay in
  // registers (loaded once) only when all of it fits comfortably.
  static constexpr int kAccRegs = kMTiles * (kNTiles + kDTiles) * 4;
  static constexpr int kQRegs = kMTiles * kQKSteps * 4;
  static constexpr bool kQInRegs = kAccRegs + kQRegs <= 160;

  static_assert(IsSame<Element, __half>::value ||
                    IsSame<Element, __nv_bfloat16>::value ||
                    IsSame<Element, float>::value,
                "Element must be __half, __nv_bfloat16 or float");
  static_assert(fwd_mma_sync::supportsHeadDims(kDimQK, kDimV),
                "head dims outside the fwd.mma_sync family");
  static_assert(kDecode ? fwd_split_kv::supportsTile(kBlockM, kBlockN, kWarps,
                                                     kStages)
                        : fwd_mma_sync::supportsTile(kBlockM, kBlockN, kWarps,
                                                     kStages),
                "tile configuration outside the kernel's family");
  static_assert(!kDecode || ElementOps<Element>::kTensorCore,
                "fwd.split_kv is a tensor-core kernel (f16 / bf16)");
  static_assert(kNTiles % 2 == 0 && kDTiles % 2 == 0,
                "ldmatrix.x4 loads two 8-wide tiles at once");
};

namespace detail {

/// Per-block context shared by both kernels.
template <class Spec> struct FwdBlock {
  using Tr = FwdTraits<Spec>;
  using T = typename Tr::Element;
  const T *q, *k, *v; // this (batch, head) slice; q at row m0
  T *o;
  float *lse;
  // h: the query head (kDecode: the group's first); m0: the first row
  // (kDecode: packed row). kDecode only: group size, split, packed rows.
  int b, h, mBlock, m0;
  int group = 1, split = 0, rows = 0;
  // This batch's query and key counts (paged: seqLensK[b]; packed: from the
  // prefix sums; otherwise seqQ, seqK) and, packed, its first rows.
  int seqQ, seqK;
  long long rowQ = 0, rowK = 0;

  __device__ __forceinline__ FwdBlock(const FwdParams &p) {
    b = blockIdx.z;
    seqQ = p.seqQ;
    seqK = p.seqK;
    if constexpr (Spec::kPaged)
      seqK = max(0, min(seqK, __ldg(p.seqLensK + b)));
    if constexpr (Spec::kPacked) {
      // Bounds clamped into the tensors and the grid: a bad prefix sum gives
      // wrong rows, never an access outside q, k, v, o or lse.
      const int q0 = min(max(__ldg(p.cuSeqlensQ + b), 0), p.totalQ);
      const int q1 = min(max(__ldg(p.cuSeqlensQ + b + 1), q0), p.totalQ);
      const int k0 = min(max(__ldg(p.cuSeqlensK + b), 0), p.totalK);
      const int k1 = min(max(__ldg(p.cuSeqlensK + b + 1), k0), p.totalK);
      rowQ = q0, rowK = k0;
      seqQ = min(q1 - q0, p.seqQ);
      seqK = min(k1 - k0, p.seqK);
    }
    if constexpr (Tr::kDecode) {
      group = p.headsQ / p.headsKV;
      rows = seqQ * group; // <= 2^30: checked by the runtime
      const int mBlocks = (rows + Tr::kBlockM - 1) / Tr::kBlockM;
      split = (int)blockIdx.x / mBlocks;
      mBlock = (int)blockIdx.x - split * mBlocks;
      m0 = mBlock * Tr::kBlockM;
      const int hk = blockIdx.y;
      h = hk * group;
      q = static_cast<const T *>(p.q) + b * p.qStrideB;
      k = static_cast<const T *>(p.k) + kvBatch(b, p.kStrideB, p.kStrideS) + hk * p.kStrideH;
      v = static_cast<const T *>(p.v) + kvBatch(b, p.vStrideB, p.vStrideS) + hk * p.vStrideH;
      o = static_cast<T *>(p.o) + b * p.oStrideB;
      lse = p.lse ? p.lse + b * p.lseStrideB : nullptr;
      return;
    }
    // Causal: the last query blocks have the most keys; launch them first.
    mBlock = Spec::kCausal ? (int)(gridDim.x - 1 - blockIdx.x) : (int)blockIdx.x;
    h = blockIdx.y;
    m0 = mBlock * Tr::kBlockM;
    const int hk = h / (p.headsQ / p.headsKV); // GQA / MQA
    const long long qb = Spec::kPacked ? rowQ * p.qStrideS : b * p.qStrideB;
    const long long ob = Spec::kPacked ? rowQ * p.oStrideS : b * p.oStrideB;
    q = static_cast<const T *>(p.q) + qb + h * p.qStrideH + m0 * p.qStrideS;
    k = static_cast<const T *>(p.k) + kvBatch(b, p.kStrideB, p.kStrideS) +
        hk * p.kStrideH;
    v = static_cast<const T *>(p.v) + kvBatch(b, p.vStrideB, p.vStrideS) +
        hk * p.vStrideH;
    o = static_cast<T *>(p.o) + ob + h * p.oStrideH + m0 * p.oStrideS;
    lse = p.lse ? p.lse + (Spec::kPacked ? rowQ : b * p.lseStrideB) +
                      h * p.lseStrideH + m0
                : nullptr;
  }

  /// Whether the block has no rows (packed: past its sequence's end); the
  /// whole block returns before its first barrier.
  __device__ __forceinline__ bool empty() const { return m0 >= seqQ; }

  /// The batch offset of K/V: none for paged caches (the block table
  /// names the pages; their stride is kStrideB / vStrideB), the first key
  /// row of the sequence for packed ones.
  __device__ __forceinline__ long long kvBatch(int b, long long stride,
                                               long long rowStride = 0) const {
    if constexpr (Spec::kPaged)
      return 0;
    else if constexpr (Spec::kPacked)
      return rowK * rowStride;
    else
      return b * stride;
  }

  /// Query index and query head of local row r (kDecode: packed).
  __device__ __forceinline__ int rowQuery(int r) const {
    if constexpr (Tr::kDecode)
      return (m0 + r) / group;
    else
      return m0 + r;
  }
  __device__ __forceinline__ int rowHead(int r) const {
    if constexpr (Tr::kDecode)
      return h + (m0 + r) % group;
    else
      return h;
  }

  /// Issues the cp.async loads of the Q tile (rows past the end zero-filled).
  __device__ __forceinline__ void loadQ(const FwdParams &p, T *sQ,
                                        int tid) const {
    if constexpr (Tr::kDecode) {
      loadRowsAsync<Tr::kBlockM, Tr::kHeadDim, Tr::kThreads, Tr::kDimQK>(
          sQ, rows - m0, tid, [&](int r) {
            const int R = m0 + r, i = R / group, hq = h + (R - i * group);
            return q + hq * p.qStrideH + (long long)i * p.qStrideS;
          });
    } else {
      loadTileAsync<Tr::kBlockM, Tr::kHeadDim, Tr::kThreads, Tr::kDimQK>(
          sQ, q, p.qStrideS, seqQ - m0, tid);
    }
  }
};

/// Issues the cp.async loads of key block n of K or V (kCols columns, the
/// first kValidCols of them read, the others zero-filled):
/// base is the tensor at this block's batch (paged: the cache) and K/V
/// head, rowStride its key stride, keys the batch's key count (rows past it
/// are zero-filled; the block has at least one key). kPaged: the rows come
/// from pages (pageStride apart) named by the block table. A page holding
/// whole key blocks is one table read and a strided tile, whole pages per
/// block one read and sub-tile per page, other sizes a lookup per row.
template <class Spec, int kCols, int kValidCols>
__device__ __forceinline__ void
loadKeyBlockAsync(const FwdParams &p, int b,
                  typename FwdTraits<Spec>::Element *dst,
                  const typename FwdTraits<Spec>::Element *base,
                  long long pageStride, long long rowStride, int n, int keys,
                  int tid) {
  using Tr = FwdTraits<Spec>;
  if constexpr (!Spec::kPaged) {
    loadTileAsync<Tr::kBlockN, kCols, Tr::kThreads, kValidCols>(
        dst, base + (long long)n * Tr::kBlockN * rowStride, rowStride,
        keys - n * Tr::kBlockN, tid);
  } else {
    constexpr int kPage = Spec::kPageSize;
    static_assert(kPage >= 1 && kPage <= kMaxPageSize, "page size");
    const int *table = p.blockTable + b * p.blockTableStrideB;
    const unsigned last = (unsigned)p.numPages - 1;
    // Out-of-range ids are clamped (never an out-of-bounds read); the runtime
    // rejects them before the launch unless the caller vouched for the table.
    auto page = [&](int j) {
      return (long long)min((unsigned)__ldg(table + j / kPage), last);
    };
    const int j0 = n * Tr::kBlockN;
    if constexpr (kPage % Tr::kBlockN == 0) {
      loadTileAsync<Tr::kBlockN, kCols, Tr::kThreads, kValidCols>(
          dst, base + page(j0) * pageStride + (long long)(j0 % kPage) * rowStride,
          rowStride, keys - j0, tid);
    } else if constexpr (Tr::kBlockN % kPage == 0 && kPage % 8 == 0) {
      // Whole pages per block, each a strided sub-tile at a multiple of 8
      // rows (the swizzle's period): one table read per page. Pages past the
      // keys are zero-filled from a valid address (page j0's, not read).
      using Tile = SmemTile<kCols, sizeof(typename Tr::Element)>;
      const auto *first = base + page(j0) * pageStride;
#pragma unroll
      for (int i = 0; i < Tr::kBlockN / kPage; ++i) {
        const int j = j0 + i * kPage;
        loadTileAsync<kPage, kCols, Tr::kThreads, kValidCols>(
            dst + Tile::offset(i * kPage, 0),
            j < keys ? base + page(j) * pageStride : first, rowStride, keys - j,
            tid);
      }
    } else {
      loadRowsAsync<Tr::kBlockN, kCols, Tr::kThreads, kValidCols>(
          dst, min(keys - j0, Tr::kBlockN), tid, [&](int r) {
            const int j = j0 + r;
            return base + page(j) * pageStride + (long long)(j % kPage) * rowStride;
          });
    }
  }
}

/// The K/V pipeline over the active key blocks, last block first (the
/// masked diagonal / tail blocks come first, then the full ones).
///
///   kStages == 2: the next block's K and V stream into the other buffer
///                 while block n is computed (one cp.async group per block).
///   kStages == 1: one buffer; V(n) streams during S = Q K(n)^T and K(n-1)
///                 during the softmax and P V(n) (FlashAttention-2 order).
///
/// body(sK, sV, nBlock, kind, scoresDone) computes one block. With
/// kSplitKV (single buffer only) the body must call scoresDone() after its
/// last read of sK and before its first read of sV; otherwise scoresDone is
/// a no-op and both tiles are ready when the body starts.
/// Returns false when no key block is active (the rows are fully masked).
template <class Spec, bool kSplitKV, class Mask, class Body>
__device__ __forceinline__ bool
forEachKeyBlock(const FwdParams &p, const FwdBlock<Spec> &blk, const Mask &mask,
                typename FwdTraits<Spec>::Element *smem, Body &&body) {
  using Tr = FwdTraits<Spec>;
  using T = typename Tr::Element;
  const int tid = threadIdx.x;
  int nBegin, nEnd;
  mask.keyBlockRange(nBegin, nEnd);
  if constexpr (Tr::kDecode) {
    // This split's share of the key blocks.
    const int lo = blk.split * p.blocksPerSplit;
    nBegin = max(nBegin, lo);
    nEnd = min(nEnd, lo + p.blocksPerSplit);
  }
  int kind;
  int nb = mask.previousActive(nEnd - 1, nBegin, kind);
  if (nb < nBegin)
    return false;

  T *sQ = smem;
  T *sKV = smem + Tr::kSmemQ;
  const long long kRow = p.kStrideS, vRow = p.vStrideS;
  auto loadK = [&](T *dst, int n) {
    loadKeyBlockAsync<Spec, Tr::kHeadDim, Tr::kDimQK>(p, blk.b, dst, blk.k, p.kStrideB,
                                          kRow, n, mask.seqK, tid);
  };
  auto loadV = [&](T *dst, int n) {
    loadKeyBlockAsync<Spec, Tr::kHeadDimV, Tr::kDimV>(p, blk.b, dst, blk.v, p.vStrideB,
                                           vRow, n, mask.seqK, tid);
  };

  if constexpr (Tr::kStages > 2) {
    // A ring of kStages K/V buffers, kStages - 1 blocks in flight while one
    // is computed (fwd.split_kv streams K/V: more bytes in flight per SM).
    // One cp.async group per block, possibly empty, so group t is block t.
    int ringBlock[Tr::kStages], ringKind[Tr::kStages];
    int search = nb; // the next block to look for, downwards
    bool more = true;
    auto fetch = [&](int slot) {
      int k = kBlockSkip;
      const int n = more ? mask.previousActive(search, nBegin, k) : nBegin - 1;
      more = n >= nBegin;
      ringBlock[slot] = more ? n : -1;
      ringKind[slot] = k;
      if (more) {
        search = n - 1;
        T *dst = sKV + slot * Tr::kSmemStage;
        loadK(dst, n);
        loadV(dst + Tr::kSmemK, n);
      }
    };
    blk.loadQ(p, sQ, tid); // with the first block, in group 0
#pragma unroll
    for (int slot = 0; slot < Tr::kStages - 1; ++slot) {
      fetch(slot);
      cpAsyncCommit();
    }
    for (int slot = 0; ringBlock[slot] >= 0;
         slot = slot + 1 == Tr::kStages ? 0 : slot + 1) {
      // The buffer computed last round is free again: refill it.
      fetch(slot == 0 ? Tr::kStages - 1 : slot - 1);
      cpAsyncCommit();
      cpAsyncWait<Tr::kStages - 1>(); // this slot's group has landed
      __syncthreads();
      T *sK = sKV + slot * Tr::kSmemStage;
      body(sK, sK + Tr::kSmemK, ringBlock[slot], ringKind[slot], [] {});
      __syncthreads(); // every warp is done with it before the refill
    }
    return true;
  }

  // Prologue: Q and the first K (and V) tile in one group.
  blk.loadQ(p, sQ, tid);
  loadK(sKV, nb);
  if constexpr (Tr::kStages == 2)
    loadV(sKV + Tr::kSmemK, nb);
  cpAsyncCommit();

  int stage = 0;
  while (true) {
    int kindNext;
    const int nbNext = mask.previousActive(nb - 1, nBegin, kindNext);
    const bool hasNext = nbNext >= nBegin;
    T *sK = sKV + stage * Tr::kSmemStage;
    T *sV = sK + Tr::kSmemK;
    if constexpr (Tr::kStages == 2) {
      if (hasNext) {
        T *nK = sKV + (stage ^ 1) * Tr::kSmemStage;
        loadK(nK, nbNext);
        loadV(nK + Tr::kSmemK, nbNext);
      }
      cpAsyncCommit();  // possibly empty: keeps the group count uniform
      cpAsyncWait<1>(); // this block's K and V have landed
      __syncthreads();
      body(sK, sV, nb, kind, [] {});
      __syncthreads(); // all warps are done with this buffer before refill
    } else {
      cpAsyncWait<0>(); // K(nb) landed
      __syncthreads();  // ... and every warp is done with V(nb + 1)
      loadV(sV, nb);
      cpAsyncCommit();
      if constexpr (kSplitKV) {
        body(sK, sV, nb, kind, [&] {
          cpAsyncWait<0>(); // V(nb) landed
          __syncthreads();  // ... and every warp is done with K(nb)
          if (hasNext) {
            loadK(sK, nbNext);
            cpAsyncCommit();
          }
        });
      } else {
        cpAsyncWait<0>();
        __syncthreads();
        body(sK, sV, nb, kind, [] {});
        __syncthreads();
        if (hasNext) {
          loadK(sK, nbNext);
          cpAsyncCommit();
        }
      }
    }
    if (!hasNext)
      break;
    nb = nbNext;
    kind = kindNext;
    if constexpr (Tr::kStages == 2)
      stage ^= 1;
  }
  return true;
}

/// The masks of this thread block. kDecode: the queries and heads its
/// packed rows cover (classification is over all of them; the element test
/// takes each row's own head).
template <class Spec>
__device__ __forceinline__ BlockMask<Spec, FwdTraits<Spec>::kBlockM,
                                     FwdTraits<Spec>::kBlockN>
blockMaskOf(const FwdParams &p, const FwdBlock<Spec> &blk) {
  using Tr = FwdTraits<Spec>;
  if constexpr (Tr::kDecode) {
    const int last = min(blk.m0 + Tr::kBlockM, blk.rows) - 1; // packed
    const int q0 = blk.m0 / blk.group, q1 = last / blk.group;
    const bool oneQuery = q0 == q1;
    const int h0 = blk.h + (oneQuery ? blk.m0 - q0 * blk.group : 0);
    const int h1 =
        blk.h + (oneQuery ? last - q0 * blk.group : blk.group - 1);
    return BlockMask<Spec, Tr::kBlockM, Tr::kBlockN>(
        p, blk.b, h0, h1, q0, q1 + 1, blk.m0 + Tr::kBlockM > blk.rows,
        blk.seqQ, blk.seqK);
  } else {
    return BlockMask<Spec, Tr::kBlockM, Tr::kBlockN>(
        p, blk.b, blk.h, blk.h, blk.m0, min(blk.m0 + Tr::kBlockM, blk.seqQ),
        blk.m0 + Tr::kBlockM > blk.seqQ, blk.seqQ, blk.seqK);
  }
}

} // namespace detail

// ---------------------------------------------------------------------------
// Tensor-core kernel (__half, __nv_bfloat16): mma.sync m16n8k16.
// Warp w owns query rows [w * kRowsPerWarp, (w + 1) * kRowsPerWarp) of the
// block; S and O live in accumulator registers; P goes from the S
// accumulators straight into A operands of the P V mma (no shared memory).
// ---------------------------------------------------------------------------
template <class Spec>
__device__ __forceinline__ void flashFwdTensorCore(const FwdParams &p) {
  using Tr = FwdTraits<Spec>;
  using T = typename Tr::Element;
  using Ops = ElementOps<T>;
  using VTile = SmemTile<Tr::kHeadDimV, sizeof(T)>;
  constexpr int kMTiles = Tr::kMTiles, kNTiles = Tr::kNTiles,
                kDTiles = Tr::kDTiles;

  extern __shared__ __align__(128) unsigned char attncSmem[];
  T *sQ = reinterpret_cast<T *>(attncSmem);

  const detail::FwdBlock<Spec> blk(p);
  if constexpr (Spec::kPacked)
    if (blk.empty())
      return;
  const BlockMask<Spec, Tr::kBlockM, Tr::kBlockN> mask =
      detail::blockMaskOf(p, blk);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t = lane & 3; // mma fragment row / column pair
  const int warpRow = warp * Tr::kRowsPerWarp;
  // Query index and head of this thread's rows g, g + 8 of m-tile mt.
  // kDecode: packed rows, computed once; otherwise the block's head and
  // consecutive rows (folded into the index arithmetic).
  constexpr int kPackedTiles = Tr::kDecode ? kMTiles : 1;
  int packedI[kPackedTiles][2], packedH[kPackedTiles][2];
  if constexpr (Tr::kDecode) {
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int row = warpRow + mt * 16 + g + r * 8;
        packedI[mt][r] = blk.rowQuery(row);
        packedH[mt][r] = blk.rowHead(row);
      }
  }
  auto rowI = [&](int mt, int r) {
    if constexpr (Tr::kDecode)
      return packedI[mt][r];
    else
      return blk.m0 + warpRow + mt * 16 + g + r * 8;
  };
  auto rowH = [&](int mt, int r) {
    if constexpr (Tr::kDecode)
      return packedH[mt][r];
    else
      return blk.h;
  };

  // Exponent multiplier (see softmax.cuh): raw scores with the scale folded
  // in, or modified scores in natural units.
  const float mulLog2 = Spec::kScoreMod ? kLog2e : p.scaleLog2;
  const unsigned dropThreshold =
      Spec::kDropout ? dropoutThreshold(p.dropoutP) : 0u;

  float accO[kMTiles][kDTiles][4];
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
    for (int dt = 0; dt < kDTiles; ++dt)
#pragma unroll
      for (int e = 0; e < 4; ++e)
        accO[mt][dt][e] = 0.f;
  OnlineSoftmax<kMTiles> softmax;
  softmax.init();

  constexpr int kQFragTiles = Tr::kQInRegs ? kMTiles : 1;
  constexpr int kQFragSteps = Tr::kQInRegs ? Tr::kQKSteps : 1;
  unsigned qFrag[kQFragTiles][kQFragSteps][4];
  bool qLoaded = false;
  // ldmatrix.x4 of A (16x16 of Q at rows mt, cols ks): lanes 0-15 address
  // rows 0-15 of the left 8 columns, lanes 16-31 the right 8 columns.
  LdsmLane<Tr::kHeadDim, sizeof(T)> qLane;
  qLane.init(sQ, warpRow + (lane & 15), lane >> 4);
  auto loadQFrag = [&](unsigned (&a)[4], int mt, int ks) {
    ldmatrixX4(a, qLane.addr(mt * 16, ks));
  };
  // B fragments of S = Q K^T: K rows are the columns of B (non-transposed
  // ldmatrix). Matrices: (keys 0-7, d 0-7), (keys 0-7, d 8-15),
  // (keys 8-15, d 0-7), (keys 8-15, d 8-15).
  LdsmLane<Tr::kHeadDim, sizeof(T)> kLane;
  kLane.init(sQ + Tr::kSmemQ, (lane & 7) + ((lane >> 4) << 3),
             (lane >> 3) & 1);
  // B fragments of O += P V: V is [keys, d] row-major, the transpose of the
  // col-major B: ldmatrix.trans. Matrices: (keys 0-7, d 0-7),
  // (keys 8-15, d 0-7), (keys 0-7, d 8-15), (keys 8-15, d 8-15).
  LdsmLane<Tr::kHeadDimV, sizeof(T)> vLane;
  vLane.init(sQ + Tr::kSmemQ + Tr::kSmemK, lane & 15, lane >> 4);

  auto body = [&](const T *sK, const T *sV, int nb, int kind,
                  auto &&scoresDone) {
    // Byte offset of this block's K/V buffer from buffer 0 (0 with one).
    const unsigned stageOff =
        Tr::kStages == 1
            ? 0u
            : (unsigned)(reinterpret_cast<const char *>(sK) -
                         reinterpret_cast<const char *>(sQ + Tr::kSmemQ));
    if constexpr (Tr::kQInRegs) {
      if (!qLoaded) {
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
          for (int ks = 0; ks < Tr::kQKSteps; ++ks)
            loadQFrag(qFrag[mt][ks], mt, ks);
        qLoaded = true;
      }
    }
    // S = Q K^T --------------------------------------------------------
    float s[kMTiles][kNTiles][4];
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e)
          s[mt][nt][e] = 0.f;
#pragma unroll
    for (int ks = 0; ks < Tr::kQKSteps; ++ks) {
      unsigned a[kMTiles][4];
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
        if constexpr (Tr::kQInRegs) {
#pragma unroll
          for (int e = 0; e < 4; ++e)
            a[mt][e] = qFrag[mt][ks][e];
        } else {
          loadQFrag(a[mt], mt, ks);
        }
      }
#pragma unroll
      for (int np = 0; np < kNTiles / 2; ++np) {
        unsigned bk[4]; // key tiles 2np and 2np+1
        ldmatrixX4(bk, kLane.addr(np * 16, ks) + stageOff);
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt) {
          mma16816<T>(s[mt][2 * np], a[mt], bk[0], bk[1]);
          mma16816<T>(s[mt][2 * np + 1], a[mt], bk[2], bk[3]);
        }
      }
    }
    scoresDone();

    // Score modifier and masks ----------------------------------------
    // Partial blocks test every element against all masks (mask.cuh) and
    // apply the modifier only to kept elements (it never sees a row or key
    // past the sequence ends); full blocks -- most of them -- apply the
    // modifier alone, branch-free, with the scale loaded once.
    const int n0 = nb * Tr::kBlockN;
    // s[mt][nt][e] = f(s[mt][nt][e], query head h, row i, key j) for every
    // element.
    auto forEachScore = [&](auto &&f) {
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int i = rowI(mt, e >> 1), h = rowH(mt, e >> 1);
            const int j = n0 + nt * 8 + 2 * t + (e & 1);
            s[mt][nt][e] = f(s[mt][nt][e], h, i, j);
          }
    };
    if (kind == kBlockPartial) {
      forEachScore([&](float x, int h, int i, int j) {
        const bool keep = mask.allowedAt(h, i, j);
        if constexpr (Spec::kScoreMod)
          return keep ? Spec::scoreMod(x * p.scale, blk.b, h, i, j, p)
                      : negInf();
        else
          return keep ? x : negInf();
      });
    } else if constexpr (Spec::kScoreMod) {
      const float scale = p.scale;
      forEachScore([&](float x, int h, int i, int j) {
        return Spec::scoreMod(x * scale, blk.b, h, i, j, p);
      });
    }

    // Online softmax: S -> P, O rescaled ------------------------------
    softmax.update(s, accO, mulLog2);

    // Dropout: zero the dropped P (the row sum above is of the undropped
    // softmax, so LSE is too); dropoutScale is applied once at the end.
    // One Philox call per 16x16 tile of S gives this thread's 8 elements
    // 16 bits each (attn/Kernel/Philox.h): fragments (2np, 2np + 1) of
    // m-tile mt, rows g and g + 8, columns 2t, 2t + 1 of each.
    if constexpr (Spec::kDropout && Tr::kDecode) {
      // Packed rows g and g + 8 belong to different (head, query) pairs:
      // one Philox call per row, the words of that row (pickWord).
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const int i = rowI(mt, r), h = rowH(mt, r);
#pragma unroll
          for (int np = 0; np < kNTiles / 2; ++np) {
            const int j = n0 + np * 16 + 2 * t;
            const PhiloxWords w = dropoutWords(p.seed, p.offset, blk.b, h, i, j);
#pragma unroll
            for (int half = 0; half < 2; ++half) {
              const unsigned word = pickWord(w, i, j + 8 * half);
#pragma unroll
              for (int odd = 0; odd < 2; ++odd)
                if (!dropoutKeepBits(word, odd, dropThreshold))
                  s[mt][2 * np + half][2 * r + odd] = 0.f;
            }
          }
        }
    } else if constexpr (Spec::kDropout) {
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
        const int i = blk.m0 + warpRow + mt * 16 + g;
#pragma unroll
        for (int np = 0; np < kNTiles / 2; ++np) {
          const int j = n0 + np * 16 + 2 * t;
          const PhiloxWords w =
              dropoutWords(p.seed, p.offset, blk.b, blk.h, i, j);
          const unsigned word[2][2] = {{w.x, w.y}, {w.z, w.w}}; // [row][col]
#pragma unroll
          for (int half = 0; half < 2; ++half)
#pragma unroll
            for (int e = 0; e < 4; ++e)
              if (!dropoutKeepBits(word[e >> 1][half], e & 1, dropThreshold))
                s[mt][2 * np + half][e] = 0.f;
        }
      }
    }

    // O += P V ----------------------------------------------------------
#pragma unroll
    for (int ps = 0; ps < Tr::kPVSteps; ++ps) {
      // The S accumulators of key tiles 2ps, 2ps+1 are exactly the A
      // fragment of a 16x16 P tile: (g, 2t..), (g+8, 2t..), (g, 2t+8..), ...
      unsigned a[kMTiles][4];
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
        a[mt][0] = Ops::pack(s[mt][2 * ps][0], s[mt][2 * ps][1]);
        a[mt][1] = Ops::pack(s[mt][2 * ps][2], s[mt][2 * ps][3]);
        a[mt][2] = Ops::pack(s[mt][2 * ps + 1][0], s[mt][2 * ps + 1][1]);
        a[mt][3] = Ops::pack(s[mt][2 * ps + 1][2], s[mt][2 * ps + 1][3]);
      }
#pragma unroll
      for (int dp = 0; dp < kDTiles / 2; ++dp) {
        unsigned bv[4]; // d tiles 2dp and 2dp+1
        ldmatrixX4Trans(bv, vLane.addr(ps * 16, dp) + stageOff);
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt) {
          mma16816<T>(accO[mt][2 * dp], a[mt], bv[0], bv[1]);
          mma16816<T>(accO[mt][2 * dp + 1], a[mt], bv[2], bv[3]);
        }
      }
    }
  };

  detail::forEachKeyBlock<Spec, true>(p, blk, mask, sQ, body);
  if constexpr (Tr::kSyncBeforeEpilogue)
    __syncthreads();

  // Epilogue: O / rowSum into this warp's own rows of the Q tile (no other
  // warp reads them), then 16-byte coalesced stores; LSE from lane t == 0.
  const float outScale = Spec::kDropout ? p.dropoutScale : 1.f;
  // The normalizer and LSE of row r of m-tile mt (query head h); the sink
  // joins them here, or in the combine kernel for split partial results.
  auto finalizeRow = [&](int mt, int r, int h, bool sink, float &oScale,
                         float &lse) {
    if constexpr (Spec::kSinks)
      if (sink) {
        softmax.finalizeWithSink(mt, r, mulLog2, outScale, __ldg(p.sinks + h),
                                 oScale, lse);
        return;
      }
    softmax.finalize(mt, r, mulLog2, outScale, oScale, lse);
  };
  if constexpr (Tr::kDecode) {
    if (p.numSplits > 1) {
      // This split's normalized O and LSE, f32, to the workspace
      // (attn/Kernel/FwdSplitKv.h); attnc/split_kv.cuh combines them. Its
      // blocks may start launching now (they wait for this grid's end).
      allowDependentLaunch();
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          float oScale, lse;
          const int i = rowI(mt, r), h = rowH(mt, r);
          finalizeRow(mt, r, h, /*sink=*/false, oScale, lse);
          if (i >= blk.seqQ)
            continue;
          const long long row =
              (((long long)blk.split * p.batch + blk.b) * p.headsQ + h) *
                  p.seqQ + i;
          static_assert(fwd_split_kv::workspaceRowFloats(Tr::kDimV) ==
                            Tr::kHeadDimV, "a workspace row is the O tile's");
          float *dst = p.oAccum + row * Tr::kHeadDimV + 2 * t;
#pragma unroll
          for (int dt = 0; dt < kDTiles; ++dt)
            *reinterpret_cast<float2 *>(dst + dt * 8) =
                make_float2(accO[mt][dt][2 * r] * oScale,
                            accO[mt][dt][2 * r + 1] * oScale);
          if (t == 0)
            p.lseAccum[row] = lse;
        }
      return;
    }
  }
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float oScale, lse;
      finalizeRow(mt, r, rowH(mt, r), /*sink=*/true, oScale, lse);
      const int row = warpRow + mt * 16 + g + r * 8;
#pragma unroll
      for (int dt = 0; dt < kDTiles; ++dt) {
        unsigned packed = Ops::pack(accO[mt][dt][2 * r] * oScale,
                                    accO[mt][dt][2 * r + 1] * oScale);
        *reinterpret_cast<unsigned *>(sQ + VTile::offset(row, dt) + 2 * t) =
            packed;
      }
      if constexpr (Tr::kDecode) {
        const int i = rowI(mt, r);
        if (blk.lse && t == 0 && i < blk.seqQ)
          blk.lse[rowH(mt, r) * p.lseStrideH + i] = lse;
      } else if (blk.lse && t == 0 && blk.m0 + row < blk.seqQ) {
        blk.lse[row] = lse;
      }
    }
  __syncwarp();
  constexpr int kChunks = VTile::kChunks;
  constexpr int kTotal = Tr::kRowsPerWarp * kChunks;
  constexpr int kValidChunks = Tr::kDimV / VTile::kPerChunk; // the rest: padding
  static_assert(kTotal % 32 == 0, "whole rows per warp");
#pragma unroll
  for (int it = 0; it < kTotal / 32; ++it) {
    const int idx = it * 32 + lane, row = warpRow + idx / kChunks,
              c = idx % kChunks;
    if (kValidChunks < kChunks && c >= kValidChunks)
      continue;
    if constexpr (Tr::kDecode) {
      const int i = blk.rowQuery(row);
      if (i < blk.seqQ)
        *reinterpret_cast<uint4 *>(
            blk.o + blk.rowHead(row) * p.oStrideH + (long long)i * p.oStrideS +
            c * VTile::kPerChunk) =
            *reinterpret_cast<const uint4 *>(sQ + VTile::offset(row, c));
    } else if (blk.m0 + row < blk.seqQ) {
      *reinterpret_cast<uint4 *>(blk.o + row * p.oStrideS +
                                 c * VTile::kPerChunk) =
          *reinterpret_cast<const uint4 *>(sQ + VTile::offset(row, c));
    }
  }
}

// ---------------------------------------------------------------------------
// SIMT fp32 kernel (Element = float). Same tiles and pipeline; warp w owns
// rows [w * kRowsPerWarp, ...) one at a time; lane l owns keys l + 32 c of S
// and columns l + 32 c of O. Exact fp32 math (expf, no tensor cores).
// ---------------------------------------------------------------------------
template <class Spec>
__device__ __forceinline__ void flashFwdSimt(const FwdParams &p) {
  using Tr = FwdTraits<Spec>;
  using QTile = SmemTile<Tr::kHeadDim, 4>;
  using KTile = SmemTile<Tr::kHeadDim, 4>;
  using VTile = SmemTile<Tr::kHeadDimV, 4>;
  constexpr int kRows = Tr::kRowsPerWarp;
  constexpr int kKeyGroups = Tr::kBlockN / 32;
  constexpr int kDGroups = Tr::kHeadDimV / 32;

  extern __shared__ __align__(128) unsigned char attncSmem[];
  float *sQ = reinterpret_cast<float *>(attncSmem);

  const detail::FwdBlock<Spec> blk(p);
  if constexpr (Spec::kPacked)
    if (blk.empty())
      return;
  const BlockMask<Spec, Tr::kBlockM, Tr::kBlockN> mask =
      detail::blockMaskOf(p, blk);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warpRow = warp * kRows;
  const unsigned dropThreshold =
      Spec::kDropout ? dropoutThreshold(p.dropoutP) : 0u;

  float acc[kRows][kDGroups];
  float rowMax[kRows], rowSum[kRows]; // natural-log domain, whole row
#pragma unroll
  for (int r = 0; r < kRows; ++r) {
    rowMax[r] = negInf();
    rowSum[r] = 0.f;
#pragma unroll
    for (int dg = 0; dg < kDGroups; ++dg)
      acc[r][dg] = 0.f;
  }

  auto body = [&](const float *sK, const float *sV, int nb, int kind,
                  auto &&scoresDone) {
    const int n0 = nb * Tr::kBlockN;
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const int row = warpRow + r, i = blk.m0 + row;
      float s[kKeyGroups];
#pragma unroll
      for (int c = 0; c < kKeyGroups; ++c) {
        const int key = c * 32 + lane;
        float dot = 0.f;
#pragma unroll 4
        for (int ch = 0; ch < QTile::kChunks; ++ch) {
          const float4 qv =
              *reinterpret_cast<const float4 *>(sQ + QTile::offset(row, ch));
          const float4 kv =
              *reinterpret_cast<const float4 *>(sK + KTile::offset(key, ch));
          dot = fmaf(qv.x, kv.x, dot);
          dot = fmaf(qv.y, kv.y, dot);
          dot = fmaf(qv.z, kv.z, dot);
          dot = fmaf(qv.w, kv.w, dot);
        }
        const int j = n0 + key;
        float x = dot * p.scale;
        const bool keep = kind != kBlockPartial || mask.allowed(i, j);
        if constexpr (Spec::kScoreMod)
          x = keep ? Spec::scoreMod(x, blk.b, blk.h, i, j, p) : negInf();
        else
          x = keep ? x : negInf();
        s[c] = x;
      }
      // Online softmax for this row (see softmax.cuh; natural units here).
      float newMax = rowMax[r];
#pragma unroll
      for (int c = 0; c < kKeyGroups; ++c)
        newMax = fmaxf(newMax, s[c]);
#pragma unroll
      for (int off = 16; off > 0; off >>= 1)
        newMax = fmaxf(newMax, __shfl_xor_sync(0xffffffffu, newMax, off));
      // -inf - -inf would be NaN: subtract 0 while the row is fully masked.
      const float sub = newMax == negInf() ? 0.f : newMax;
      const float corr = expf(rowMax[r] - sub);
      rowMax[r] = newMax;
      float sum = 0.f;
#pragma unroll
      for (int c = 0; c < kKeyGroups; ++c) {
        s[c] = expf(s[c] - sub);
        sum += s[c];
        if constexpr (Spec::kDropout)
          if (!dropoutKeep(p.seed, p.offset, dropThreshold, blk.b, blk.h, i,
                           n0 + c * 32 + lane))
            s[c] = 0.f;
      }
#pragma unroll
      for (int off = 16; off > 0; off >>= 1)
        sum += __shfl_xor_sync(0xffffffffu, sum, off);
      rowSum[r] = rowSum[r] * corr + sum;
#pragma unroll
      for (int dg = 0; dg < kDGroups; ++dg)
        acc[r][dg] *= corr;
      // O[row] += P[row] V: P broadcast from its owning lane.
#pragma unroll
      for (int c = 0; c < kKeyGroups; ++c) {
#pragma unroll 4
        for (int kk = 0; kk < 32; ++kk) {
          const float pk = __shfl_sync(0xffffffffu, s[c], kk);
          const int key = c * 32 + kk;
#pragma unroll
          for (int dg = 0; dg < kDGroups; ++dg) {
            const int col = dg * 32 + lane;
            acc[r][dg] = fmaf(pk, sV[VTile::offset(key, col >> 2) + (col & 3)],
                              acc[r][dg]);
          }
        }
      }
    }
    scoresDone(); // a no-op: the pipeline runs unsplit for this kernel
  };

  detail::forEachKeyBlock<Spec, false>(p, blk, mask, sQ, body);

  const float outScale = Spec::kDropout ? p.dropoutScale : 1.f;
#pragma unroll
  for (int r = 0; r < kRows; ++r) {
    const int row = warpRow + r;
    if (blk.m0 + row >= blk.seqQ)
      continue;
    const bool any = rowSum[r] > 0.f;
    float oScale = any ? outScale / rowSum[r] : 0.f;
    float lse = any ? rowMax[r] + logf(rowSum[r]) : negInf();
    if constexpr (Spec::kSinks) {
      // The sink joins the denominator (softmax.cuh, finalizeWithSink).
      const float sink = __ldg(p.sinks + blk.h);
      if (any) {
        const float M = fmaxf(rowMax[r], sink);
        const float total = rowSum[r] * expf(rowMax[r] - M) + expf(sink - M);
        oScale = outScale * expf(rowMax[r] - M) / total;
        lse = M + logf(total);
      } else {
        lse = sink;
      }
    }
#pragma unroll
    for (int dg = 0; dg < kDGroups; ++dg)
      if (Tr::kDimV % 32 == 0 || dg * 32 + lane < Tr::kDimV)
        blk.o[row * p.oStrideS + dg * 32 + lane] = acc[r][dg] * oScale;
    if (blk.lse && lane == 0)
      blk.lse[row] = lse;
  }
}

/// The entry point of every generated forward kernel.
template <class Spec> __device__ __forceinline__ void flashFwd(const FwdParams &p) {
  if constexpr (ElementOps<typename Spec::Element>::kTensorCore)
    flashFwdTensorCore<Spec>(p);
  else
    flashFwdSimt<Spec>(p);
}

} // namespace attnc
