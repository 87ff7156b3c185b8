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
// (with the max update skipped while it grows by less than 2^8, see update)
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
  ///
  /// Lazy rescaling (as in FlashAttention-4): the running max only moves when
  /// some row of the warp grows by more than kRescaleLog2 (in log2 units).
  /// Otherwise the old max stays: P = 2^(x*mul - oldMax*mul) <= 2^kRescaleLog2,
  /// which fp32 sums and 16-bit P hold without loss of relative precision,
  /// and the rescale of O (kDTiles * 8 FMULs per row pair) is skipped. The
  /// result is exact either way: rowSum and O are relative to the same max.
  template <int kNTiles, int kDTiles>
  __device__ __forceinline__ void update(float (&s)[kMTiles][kNTiles][4],
                                         float (&accO)[kMTiles][kDTiles][4],
                                         float mulLog2) {
    constexpr float kRescaleLog2 = 8.f;
    float newMax[kMTiles][2];
    bool grow = false;
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        // newMax = max(rowMax, rowMax(S)), across the quad's columns.
        float m = rowMax[mt][r];
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt)
          m = fmaxf(m, fmaxf(s[mt][nt][2 * r], s[mt][nt][2 * r + 1]));
        m = quadMax(m);
        newMax[mt][r] = m;
        // -inf - -inf = NaN and finite - -inf = inf both fail the test, so a
        // row that was fully masked so far always takes the exact path.
        grow |= !(m * mulLog2 - rowMax[mt][r] * mulLog2 <= kRescaleLog2);
      }
    if (__any_sync(0xffffffffu, grow)) {
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const float m = newMax[mt][r];
          // A row with every key masked so far has m == -inf. Subtract 0
          // instead: exp2(-inf - 0) = 0, whereas -inf - -inf would be NaN.
          const float maxScaled = m == negInf() ? 0.f : m * mulLog2;
          // corr = 2^((rowMax - newMax) * mul); rowMax == -inf gives 0 (and
          // O, rowSum are still 0 then, so nothing is lost).
          const float corr = fastExp2(rowMax[mt][r] * mulLog2 - maxScaled);
          rowMax[mt][r] = m;
          rowSum[mt][r] *= corr;
#pragma unroll
          for (int dt = 0; dt < kDTiles; ++dt) {
            accO[mt][dt][2 * r] *= corr;
            accO[mt][dt][2 * r + 1] *= corr;
          }
        }
    }
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const float maxScaled =
            rowMax[mt][r] == negInf() ? 0.f : rowMax[mt][r] * mulLog2;
        float sum = 0.f;
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            // P = 2^(S * mul - max * mul): one FFMA + MUFU.EX2; masked
            // scores (-inf) give exactly 0.
            float x = fastExp2(s[mt][nt][2 * r + e] * mulLog2 - maxScaled);
            s[mt][nt][2 * r + e] = x;
            sum += x;
          }
        rowSum[mt][r] += sum;
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

  /// finalize() with an attention sink: `sink` (natural-log units of the
  /// scores) joins the denominator, M = max(row max, sink):
  ///   total = rowSum 2^(rowMax*mul - M) + 2^(sink*log2e - M)
  ///   O *= 2^(rowMax*mul - M) / total,  LSE = (M + log2(total)) ln 2.
  /// A fully masked row gets O = 0 and LSE = sink. Once per row: exact
  /// exp2f / log2f.
  __device__ __forceinline__ void finalizeWithSink(int mt, int r, float mulLog2,
                                                   float outScale, float sink,
                                                   float &oScale,
                                                   float &lse) const {
    const float sum = quadSum(rowSum[mt][r]);
    const float s2 = sink * kLog2e;
    if (sum > 0.f) {
      const float m2 = rowMax[mt][r] * mulLog2;
      const float M = fmaxf(m2, s2);
      const float rows = sum * exp2f(m2 - M);
      const float total = rows + exp2f(s2 - M);
      oScale = outScale * exp2f(m2 - M) / total;
      lse = (M + log2f(total)) * kLn2;
    } else {
      oScale = 0.f;
      lse = sink;
    }
  }
};

} // namespace attnc
