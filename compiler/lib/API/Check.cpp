//===- Check.cpp - compare a kernel's output with float64 ------------------===//
#include "attnc/Check.h"
#include "attnc/Npy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <thread>

using namespace attnc;

double attnc::roundTo(ElementType type, double value) {
  switch (type) {
  case ElementType::f16:
    return halfToFloat(floatToHalf(float(value)));
  case ElementType::bf16:
    return bf16ToFloat(floatToBf16(float(value)));
  case ElementType::f32:
    return float(value);
  }
  return value;
}

PagedIndexProblem attnc::findPagedIndexProblem(const int32_t *table,
                                               const int32_t *seqLens,
                                               int64_t batch, int64_t maxPages,
                                               int64_t pageSize,
                                               int64_t pages) {
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t len = seqLens[b];
    if (len < 0 || len > maxPages * pageSize)
      return {PagedIndexProblem::Length, b, 0, len};
    for (int64_t j = 0; j < (len + pageSize - 1) / pageSize; ++j) {
      const int64_t id = table[b * maxPages + j];
      if (id < 0 || id >= pages)
        return {PagedIndexProblem::PageId, b, j, id};
    }
  }
  return {};
}

PrefixSumProblem attnc::findPrefixSumProblem(const int32_t *cu,
                                             int64_t sequences, int64_t total) {
  if (cu[0] != 0)
    return {PrefixSumProblem::First, 0, cu[0]};
  for (int64_t b = 1; b <= sequences; ++b) {
    if (cu[b] < cu[b - 1])
      return {PrefixSumProblem::Decreasing, b, cu[b]};
    if (cu[b] > total)
      return {PrefixSumProblem::PastEnd, b, cu[b]};
  }
  return {};
}

int64_t attnc::longestSequence(const int32_t *cu, int64_t sequences) {
  int64_t longest = 0;
  for (int64_t b = 0; b < sequences; ++b)
    longest = std::max<int64_t>(longest, int64_t(cu[b + 1]) - cu[b]);
  return longest;
}

std::vector<int> attnc::sequenceLengths(const std::vector<int32_t> &cu) {
  std::vector<int> lens;
  for (size_t b = 0; b + 1 < cu.size(); ++b)
    lens.push_back(cu[b + 1] - cu[b]);
  return lens;
}

std::vector<double> attnc::unpackSequences(const std::vector<double> &tokens,
                                           int64_t heads, int64_t dim,
                                           const std::vector<int32_t> &cu,
                                           int64_t maxLen) {
  const int64_t batch = int64_t(cu.size()) - 1;
  std::vector<double> out(size_t(batch * heads * maxLen * dim), 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < cu[size_t(b + 1)] - cu[size_t(b)]; ++i)
      for (int64_t h = 0; h < heads; ++h)
        std::copy_n(tokens.data() + ((cu[size_t(b)] + i) * heads + h) * dim,
                    dim, out.data() + ((b * heads + h) * maxLen + i) * dim);
  return out;
}

std::vector<double> attnc::packSequences(const std::vector<double> &dense,
                                         int64_t heads, int64_t dim,
                                         const std::vector<int32_t> &cu,
                                         int64_t maxLen, int64_t total) {
  const int64_t batch = int64_t(cu.size()) - 1;
  std::vector<double> out(size_t(total * heads * dim), 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < cu[size_t(b + 1)] - cu[size_t(b)]; ++i)
      for (int64_t h = 0; h < heads; ++h)
        std::copy_n(dense.data() + ((b * heads + h) * maxLen + i) * dim, dim,
                    out.data() + ((cu[size_t(b)] + i) * heads + h) * dim);
  return out;
}

std::vector<double> attnc::gatherPaged(const std::vector<double> &cache,
                                       int64_t pageSize, int64_t heads,
                                       int64_t dim,
                                       const std::vector<int32_t> &table,
                                       int64_t maxPages,
                                       const std::vector<int32_t> &seqLens) {
  const int64_t batch = int64_t(seqLens.size()), keys = maxPages * pageSize;
  std::vector<double> out(size_t(batch * heads * keys * dim), 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t j = 0; j < std::min<int64_t>(seqLens[size_t(b)], keys); ++j) {
      const int64_t page = table[size_t(b * maxPages + j / pageSize)];
      for (int64_t h = 0; h < heads; ++h) {
        const double *src =
            cache.data() + ((page * pageSize + j % pageSize) * heads + h) * dim;
        std::copy(src, src + dim,
                  out.data() + ((b * heads + h) * keys + j) * dim);
      }
    }
  return out;
}

ref::FwdProblem attnc::referenceProblem(
    const Attention &attn, int batch, int headsQ, int headsKV, int seqQ,
    int seqK, const std::vector<int> &kvLengths,
    const std::vector<unsigned char> &layout, const int64_t layoutShape[3],
    uint64_t seed, uint64_t offset, const std::vector<HostTable> *tables) {
  const KernelInfo &k = attn.info();
  ref::FwdProblem p;
  p.batch = batch, p.headsQ = headsQ, p.headsKV = headsKV;
  p.seqQ = seqQ, p.seqK = seqK;
  p.headDim = k.headDim, p.headDimV = k.headDimV;
  // The interpreter applies the spec's scales itself, in order.
  p.scale = k.scoreMod ? 1.0 : k.scale;
  if (k.scoreMod)
    p.scoreMod = [&attn, tables](double s, int b, int h, int i, int j) {
      return attn.evalScore(s, b, h, i, j, tables);
    };
  if (k.maskFn)
    p.maskFn = [&attn, tables](int b, int h, int i, int j) {
      return attn.evalWhere(b, h, i, j, tables);
    };
  p.causal = k.causal;
  p.window = k.window;
  p.windowLeft = k.windowLeft, p.windowRight = k.windowRight;
  if (k.keyPadding)
    p.kvLengths = kvLengths;
  if (k.blockSparse) {
    p.blockSparse = true;
    p.blockLayout = layout;
    p.layoutStrideH = layoutShape[0] == 1 ? 0 : layoutShape[1] * layoutShape[2];
    p.layoutStrideQ = layoutShape[2];
    p.sparseBlockQ = int(k.sparseBlockQ);
    p.sparseBlockK = int(k.sparseBlockK);
  }
  if (k.dropout > 0) {
    p.dropout = true;
    p.dropoutP = float(k.dropout);
    p.dropoutScale = double(float(1.0 / (1.0 - k.dropout)));
    p.seed = seed, p.offset = offset;
  }
  return p;
}

/// The plain chain in low precision for rows [begin, end): scores and
/// softmax in f32, P rounded to the element type, O accumulated in f32 and
/// rounded.
static void naiveLowpRows(const ref::FwdProblem &pr, ElementType e,
                          const double *q, const double *k, const double *v,
                          double *o, double *lse, long long begin,
                          long long end) {
  const float negInf = -std::numeric_limits<float>::infinity();
  const int groups = pr.headsQ / pr.headsKV;
  std::vector<float> s(pr.seqK);
  std::vector<float> acc(pr.headDimV);
  for (long long row = begin; row < end; ++row) {
    const int i = int(row % pr.seqQ);
    const int h = int((row / pr.seqQ) % pr.headsQ);
    const int b = int(row / ((long long)pr.seqQ * pr.headsQ));
    const int hk = h / groups;
    const double *qi = q + row * pr.headDim;
    const double *kb =
        k + ((long long)b * pr.headsKV + hk) * pr.seqK * pr.headDim;
    const double *vb =
        v + ((long long)b * pr.headsKV + hk) * pr.seqK * pr.headDimV;
    float mx = negInf;
    for (int j = 0; j < pr.seqK; ++j) {
      float dot = 0;
      for (int d = 0; d < pr.headDim; ++d)
        dot += float(qi[d]) * float(kb[(long long)j * pr.headDim + d]);
      float x = float(pr.scale) * dot;
      if (pr.scoreMod)
        x = float(pr.scoreMod(x, b, h, i, j));
      if (!ref::allowed(pr, b, h, i, j))
        x = negInf;
      s[j] = x;
      mx = std::max(mx, x);
    }
    std::fill(acc.begin(), acc.end(), 0.f);
    const bool exists = pr.seqLensQ.empty() || i < pr.seqLensQ[b];
    const float sink =
        pr.sinks.empty() || !exists ? negInf : float(pr.sinks[h]);
    if (mx == negInf) {
      for (int d = 0; d < pr.headDimV; ++d)
        o[row * pr.headDimV + d] = 0;
      if (lse)
        lse[row] = sink;
      continue;
    }
    mx = std::max(mx, sink);
    float sum = sink == negInf ? 0.f : std::exp(sink - mx);
    for (int j = 0; j < pr.seqK; ++j)
      sum += (s[j] = std::exp(s[j] - mx));
    if (lse)
      lse[row] = mx + std::log(sum);
    for (int j = 0; j < pr.seqK; ++j) {
      float p = float(roundTo(e, s[j] / sum));
      if (pr.dropout)
        p = ref::dropoutKeep(pr, b, h, i, j) ? float(roundTo(e, p * pr.dropoutScale))
                                             : 0.f;
      if (p == 0)
        continue;
      for (int d = 0; d < pr.headDimV; ++d)
        acc[d] += p * float(vb[(long long)j * pr.headDimV + d]);
    }
    for (int d = 0; d < pr.headDimV; ++d)
      o[row * pr.headDimV + d] = roundTo(e, acc[d]);
  }
}

static void parallelRows(long long rows, int threads,
                         const std::function<void(long long, long long)> &fn) {
  if (threads <= 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  threads = int(std::min<long long>(threads, std::max<long long>(rows, 1)));
  std::vector<std::thread> pool;
  long long chunk = (rows + threads - 1) / threads;
  for (int t = 0; t < threads; ++t) {
    long long b = t * chunk, e = std::min(rows, b + chunk);
    if (b < e)
      pool.emplace_back(fn, b, e);
  }
  for (std::thread &th : pool)
    th.join();
}

/// Sizes `o` and `lse` for every row of the problem and fills them with
/// `rows(begin, end)` on `threads` threads.
static void forEveryRow(const ref::FwdProblem &pr, std::vector<double> &o,
                        std::vector<double> &lse, int threads,
                        const std::function<void(long long, long long)> &rows) {
  long long n = (long long)pr.batch * pr.headsQ * pr.seqQ;
  o.assign(size_t(n) * pr.headDimV, 0.0);
  lse.assign(size_t(n), 0.0);
  parallelRows(n, threads, rows);
}

void attnc::referenceForward(const ref::FwdProblem &pr,
                             const std::vector<double> &q,
                             const std::vector<double> &k,
                             const std::vector<double> &v,
                             std::vector<double> &o, std::vector<double> &lse,
                             int threads) {
  forEveryRow(pr, o, lse, threads, [&](long long b, long long e) {
    ref::forwardRows(pr, q.data(), k.data(), v.data(), o.data(), lse.data(), b,
                     e);
  });
}

void attnc::naiveLowPrecision(const ref::FwdProblem &pr, ElementType element,
                              const std::vector<double> &q,
                              const std::vector<double> &k,
                              const std::vector<double> &v,
                              std::vector<double> &o, std::vector<double> &lse,
                              int threads) {
  forEveryRow(pr, o, lse, threads, [&](long long b, long long e) {
    naiveLowpRows(pr, element, q.data(), k.data(), v.data(), o.data(),
                  lse.data(), b, e);
  });
}

CheckResult attnc::checkForward(const ref::FwdProblem &pr, ElementType element,
                                const std::vector<double> &q,
                                const std::vector<double> &k,
                                const std::vector<double> &v,
                                const std::vector<double> &o,
                                const std::vector<float> *lse, int threads) {
  long long rows = (long long)pr.batch * pr.headsQ * pr.seqQ;
  std::vector<double> ref, refLse, naive, naiveLse;
  referenceForward(pr, q, k, v, ref, refLse, threads);
  naiveLowPrecision(pr, element, q, k, v, naive, naiveLse, threads);
  CheckResult r;
  double naiveErrO = 0, naiveErrLse = 0;
  const double negInf = -std::numeric_limits<double>::infinity();
  for (long long row = 0; row < rows; ++row) {
    // A row with no allowed key: LSE = -inf, or exactly the head's sink
    // with O exactly 0 (a sink far above the scores can round a visible
    // row's LSE to the sink, but not its O to 0).
    const double sink =
        pr.sinks.empty() ? negInf : pr.sinks[(row / pr.seqQ) % pr.headsQ];
    bool masked = refLse[row] == negInf;
    if (!masked && refLse[row] == sink) {
      masked = true;
      for (int d = 0; d < pr.headDimV; ++d)
        masked = masked && ref[row * pr.headDimV + d] == 0.0;
    }
    if (masked) {
      ++r.maskedRows;
      bool good = !lse || (*lse)[row] == float(sink);
      for (int d = 0; d < pr.headDimV; ++d)
        good = good && o[row * pr.headDimV + d] == 0.0;
      if (!good)
        ++r.badMaskedRows;
      continue;
    }
    for (int d = 0; d < pr.headDimV; ++d) {
      long long i = row * pr.headDimV + d;
      if (!std::isfinite(o[i])) {
        ++r.nonFinite;
        continue;
      }
      r.errO = std::max(r.errO, std::fabs(o[i] - ref[i]));
      naiveErrO = std::max(naiveErrO, std::fabs(naive[i] - ref[i]));
    }
    if (lse) {
      double x = (*lse)[row];
      if (!std::isfinite(x)) {
        ++r.nonFinite;
        continue;
      }
      r.errLse = std::max(r.errLse, std::fabs(x - refLse[row]));
      naiveErrLse = std::max(naiveErrLse, std::fabs(naiveLse[row] - refLse[row]));
    }
  }
  r.boundO = 2 * naiveErrO + 1e-5;
  r.boundLse = 2 * naiveErrLse + 1e-5;
  r.ok = r.nonFinite == 0 && r.badMaskedRows == 0 && r.errO <= r.boundO &&
         (!lse || r.errLse <= r.boundLse);
  return r;
}

std::string CheckResult::summary() const {
  char buf[400];
  std::snprintf(buf, sizeof(buf),
                "O max err %.3e (bound %.3e); LSE max err %.3e (bound %.3e); "
                "%lld fully masked rows (%lld wrong); %lld non-finite: %s",
                errO, boundO, errLse, boundLse, maskedRows, badMaskedRows,
                nonFinite, ok ? "PASS" : "FAIL");
  return buf;
}
