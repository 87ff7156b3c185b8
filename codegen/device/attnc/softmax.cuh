// attnc/softmax.cuh - online softmax over the key blocks of one query block,
// for scores held in mma accumulator fragments.
//
// Domain: a score x stands for exp(x * mulLog2 * ln 2), i.e. the softmax
// weight is 2^(x * mulLog2 - max * mulLog2). Without a score modifier x is the
// raw q.k and mulLog2 = scale * log2(e) (one FFMA per element, the scale
// folded in); with one, x is the modified score and mulLog2 = log2(e).
//
// Per row we keep   rowMax = max_j x_j   and   rowSum = sum_j 2^(x_j*mul - rowMax*mul)
// and, per key block:
//   newMax = max(rowMax, rowMax(S))
//   corr   = 2^((rowMax - newMax) * mul)       // rescale old sum and O
//   P      = 2^(S * mul - newMax * mul)
//   rowSum = rowSum * corr + rowSum(P)
// Finally O /= rowSum and LSE = (rowMax * mul + log2(rowSum)) * ln 2.
#pragma once

#include "attnc/tile.cuh"

namespace attnc {

static constexpr float kLog2e = 1.4426950408889634f;
static constexpr float kLn2 = 0.6931471805599453f;

/// The state of the rows of one warp: kMTiles 16-row mma tiles, each thread
/// holding rows g and g + 8 (g = lane / 4) of every tile.
template <int kMTiles> struct OnlineSoftmax {
  float rowMax[kMTiles][2];
  float rowSum[kMTiles][2]; // partial: this thread's columns only

  __device__ __forceinline__ void init() {
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        rowMax[mt][r] = negInf();
        rowSum[mt][r] = 0.f;
      }
  }

  /// Fold one block of scores S (kNTiles 16x8 fragments per m-tile) into the
  /// state: S becomes the unnormalized probabilities P, O is rescaled.
  template <int kNTiles, int kDTiles>
  __device__ __forceinline__ void update(float (&s)[kMTiles][kNTiles][4],
                                         float (&accO)[kMTiles][kDTiles][4],
                                         float mulLog2) {
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        // newMax = max(rowMax, rowMax(S)), across the quad's columns.
        float newMax = rowMax[mt][r];
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt)
          newMax = fmaxf(newMax, fmaxf(s[mt][nt][2 * r], s[mt][nt][2 * r + 1]));
        newMax = quadMax(newMax);
        // A row with every key masked so far has newMax == -inf. Subtract 0
        // instead: exp2(-inf - 0) = 0, whereas -inf - -inf would be NaN.
        const float maxScaled = newMax == negInf() ? 0.f : newMax * mulLog2;
        // corr = 2^((rowMax - newMax) * mul); rowMax == -inf gives 0 (and O,
        // rowSum are still 0 then, so nothing is lost).
        const float corr = fastExp2(rowMax[mt][r] * mulLog2 - maxScaled);
        rowMax[mt][r] = newMax;
        float sum = 0.f;
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            // P = 2^(S * mul - newMax * mul): one FFMA + MUFU.EX2; masked
            // scores (-inf) give exactly 0.
            float x = fastExp2(s[mt][nt][2 * r + e] * mulLog2 - maxScaled);
            s[mt][nt][2 * r + e] = x;
            sum += x;
          }
        rowSum[mt][r] = rowSum[mt][r] * corr + sum;
#pragma unroll
        for (int dt = 0; dt < kDTiles; ++dt) {
          accO[mt][dt][2 * r] *= corr;
          accO[mt][dt][2 * r + 1] *= corr;
        }
      }
  }

  /// After the last block: the factor that normalizes O (0 for a fully
  /// masked row, so O = 0 and never NaN) and the natural-log LSE (-inf then).
  __device__ __forceinline__ void finalize(int mt, int r, float mulLog2,
                                           float outScale, float &oScale,
                                           float &lse) const {
    const float sum = quadSum(rowSum[mt][r]);
    if (sum > 0.f) {
      oScale = outScale / sum;
      lse = (rowMax[mt][r] * mulLog2 + __log2f(sum)) * kLn2;
    } else {
      oScale = 0.f;
      lse = negInf();
    }
  }
};

} // namespace attnc
