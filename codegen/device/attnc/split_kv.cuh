// attnc/split_kv.cuh - the `fwd.split_kv` family (flash-decoding): the
// forward kernel of flash_fwd.cuh with Spec::kDecode (GQA-packed rows, one
// split of the key range per thread block; attn/Kernel/FwdSplitKv.h has the
// layout), and the combine kernel every generated split-KV module exports
// beside it: attnc::splitKvCombine<Spec>(params).
//
// Combine: one thread block per output row (b, h, i): L = log sum_s
// exp(L_s), O = sum_s exp(L_s - L) O_s, written in the element type with L
// to lse. The kCombineThreads / 32 warps take every fourth split each (lanes
// over the columns, loads of several splits in flight), then add up through
// shared memory. A row no split saw (every L_s = -inf) gets O = 0 and
// LSE = -inf, as the forward kernel writes for a fully masked row. With
// Spec::kSinks the head's sink joins the sum (L = log(sum_s exp(L_s) +
// exp(sink)); a row no split saw then has LSE = sink). Launch:
// batch * headsQ * seqQ blocks of kCombineThreads threads, no dynamic
// shared memory.
#pragma once

#include "attn/Kernel/FwdSplitKv.h"
#include "attnc/flash_fwd.cuh"

namespace attnc {

template <class Spec>
__device__ __forceinline__ void splitKvCombine(const FwdParams &p) {
  using T = typename Spec::Element;
  using Ops = ElementOps<T>;
  // The workspace rows are the V head dim's tile width (zeros past the
  // head dim, which is all the output gets).
  constexpr int kDv = fwd_split_kv::workspaceRowFloats(Spec::kHeadDimV);
  constexpr int kDimV = Spec::kHeadDimV;
  constexpr int kCols = kDv / 32; // columns per lane: c = k * 32 + lane
  static_assert(kDv % 32 == 0, "tile widths are multiples of 32");
  constexpr int kThreads = fwd_split_kv::kCombineThreads;
  constexpr int kWarps = kThreads / 32;
  static_assert(fwd_split_kv::kMaxSplits <= kThreads,
                "one split LSE per thread");
  constexpr int kBatch = kCols <= 4 ? 16 : 8; // splits a warp loads at once
  __shared__ float weight[kThreads];
  __shared__ float reduce[kWarps];
  __shared__ float partial[kWarps][kDv];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  // Launched as a programmatic dependent of the split kernel (sm_90+, the
  // runtime's Launch.cpp): wait until that grid has finished and its
  // workspace writes are visible.
  gridDependencyWait();
  const long long rows = (long long)p.batch * p.headsQ * p.seqQ;
  const long long row = blockIdx.x;
  const int i = (int)(row % p.seqQ);
  const long long bh = row / p.seqQ;
  const int h = (int)(bh % p.headsQ), b = (int)(bh / p.headsQ);
  const int splits = p.numSplits;

  // Thread s holds split s's LSE: the maximum and the weights
  // exp(L_s - max) come from one read of the LSEs (block reductions).
  const float ls = tid < splits ? p.lseAccum[tid * rows + row] : negInf();
  auto blockReduce = [&](float x, bool isMax) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
      const float y = __shfl_xor_sync(0xffffffffu, x, off);
      x = isMax ? fmaxf(x, y) : x + y;
    }
    if (lane == 0)
      reduce[warp] = x;
    __syncthreads();
    x = reduce[0];
#pragma unroll
    for (int w = 1; w < kWarps; ++w)
      x = isMax ? fmaxf(x, reduce[w]) : x + reduce[w];
    __syncthreads(); // reduce[] is reused
    return x;
  };
  // An attention sink joins here (the splits' LSEs exclude it), as one
  // more term of the sum with a zero output.
  const float sink = Spec::kSinks ? __ldg(p.sinks + h) : negInf();
  const float mx = fmaxf(blockReduce(ls, true), sink);
  // A row no split saw: every weight is 0 (exp(-inf - 0)).
  const float sub = mx == negInf() ? 0.f : mx;
  const float w = expf(ls - sub);
  weight[tid] = w;
  // blockReduce also orders the weight[] writes.
  const float sum = blockReduce(w, false) + (Spec::kSinks ? expf(sink - sub) : 0.f);

  // Warp `warp` adds splits warp, warp + kWarps, ...: kBatch of them per
  // round, their loads issued before any is used.
  float acc[kCols];
#pragma unroll
  for (int k = 0; k < kCols; ++k)
    acc[k] = 0.f;
  for (int s0 = warp; s0 < splits; s0 += kWarps * kBatch) {
    float v[kBatch][kCols];
#pragma unroll
    for (int u = 0; u < kBatch; ++u) {
      const int s = s0 + u * kWarps;
      const float *o = p.oAccum + (s * rows + row) * kDv + lane;
#pragma unroll
      for (int k = 0; k < kCols; ++k)
        v[u][k] = s < splits ? o[k * 32] : 0.f;
    }
#pragma unroll
    for (int u = 0; u < kBatch; ++u) {
      const int s = s0 + u * kWarps;
      const float ws = s < splits ? weight[s] : 0.f;
#pragma unroll
      for (int k = 0; k < kCols; ++k)
        acc[k] = fmaf(ws, v[u][k], acc[k]);
    }
  }
#pragma unroll
  for (int k = 0; k < kCols; ++k)
    partial[warp][k * 32 + lane] = acc[k];
  __syncthreads();
  const float inv = sum > 0.f ? 1.f / sum : 0.f;
  T *out = static_cast<T *>(p.o) + b * p.oStrideB + h * p.oStrideH +
           (long long)i * p.oStrideS;
  for (int c = tid; c < kDimV; c += kThreads) {
    float x = 0.f;
#pragma unroll
    for (int u = 0; u < kWarps; ++u)
      x += partial[u][c];
    out[c] = Ops::fromFloat(x * inv);
  }
  if (p.lse && tid == 0)
    p.lse[b * p.lseStrideB + h * p.lseStrideH + i] =
        sum > 0.f ? mx + logf(sum) : negInf();
}

} // namespace attnc
