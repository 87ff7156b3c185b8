//===- Check.h - compare a kernel's output with float64 -----------*- C++ -*-===//
//
// The correctness rule of docs/testing.md (FlashAttention's own tests):
//
//   max|out - ref| <= 2 * max|naive_lowp - ref| + 1e-5
//
// where `ref` is the float64 reference (Reference.h) and `naive_lowp` is the
// plain matmul -> softmax -> matmul chain in the input precision (f32
// accumulation, P rounded to the element type before P x V, O rounded).
// Rows with no allowed key must give O == 0 and LSE == -inf exactly.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CHECK_H
#define ATTNC_CHECK_H

#include "attnc/Codegen/KernelInfo.h"
#include "attnc/Reference.h"
#include "attnc/attnc.h"

#include <string>
#include <vector>

namespace attnc {

/// Rounds a value to the element type (f16/bf16 round to nearest even).
double roundTo(ElementType type, double value);

/// The first bad entry of a paged run's index inputs (host copies): a key
/// count outside [0, maxPages * pageSize], or a page id outside [0, pages)
/// among the ceil(seqLens[b] / pageSize) entries row b's keys use (the only
/// ones a kernel reads). Attention::run and `attnc run` word it their way.
struct PagedIndexProblem {
  enum Kind { None, Length, PageId } kind = None;
  int64_t batch = 0, column = 0, value = 0;
  explicit operator bool() const { return kind != None; }
};
PagedIndexProblem findPagedIndexProblem(const int32_t *table,
                                        const int32_t *seqLens, int64_t batch,
                                        int64_t maxPages, int64_t pageSize,
                                        int64_t pages);

/// The first bad entry of packed prefix sums (a host copy of sequences + 1
/// entries; `total` rows in the token tensor): entry 0 not 0, an entry
/// below the one before it, or one past `total`. Attention::run and
/// `attnc run` word it their way.
struct PrefixSumProblem {
  enum Kind { None, First, Decreasing, PastEnd } kind = None;
  int64_t index = 0, value = 0;
  explicit operator bool() const { return kind != None; }
};
PrefixSumProblem findPrefixSumProblem(const int32_t *cu, int64_t sequences,
                                      int64_t total);
/// The longest sequence of valid prefix sums (0 when every one is empty).
int64_t longestSequence(const int32_t *cu, int64_t sequences);

/// Packed tokens [total, heads, dim] (host, row-major) as the padded dense
/// [sequences, heads, maxLen, dim] the reference takes (rows past a
/// sequence's length zero), and dense [sequences, heads, maxLen, dim] back
/// to [total, heads, dim] (rows past the last sequence zero). `cu` valid.
std::vector<double> unpackSequences(const std::vector<double> &tokens,
                                    int64_t heads, int64_t dim,
                                    const std::vector<int32_t> &cu,
                                    int64_t maxLen);
std::vector<double> packSequences(const std::vector<double> &dense,
                                  int64_t heads, int64_t dim,
                                  const std::vector<int32_t> &cu,
                                  int64_t maxLen, int64_t total);
/// The lengths cu[b + 1] - cu[b] of valid prefix sums.
std::vector<int> sequenceLengths(const std::vector<int32_t> &cu);

/// The logical [batch, heads, maxPages * pageSize, dim] K or V of a paged
/// cache [pages, pageSize, heads, dim] (host copies, row-major): key j of
/// batch b is row j % pageSize of page table[b * maxPages + j / pageSize];
/// keys at or past seqLens[b] are zero (the reference masks them). The
/// table and lengths must be valid (Attention::run checks them).
std::vector<double> gatherPaged(const std::vector<double> &cache,
                                int64_t pageSize, int64_t heads, int64_t dim,
                                const std::vector<int32_t> &table,
                                int64_t maxPages,
                                const std::vector<int32_t> &seqLens);

/// The float64 reference problem of a compiled kernel at these sizes: masks,
/// scale, score modifier and `where` predicates (through the Attention's
/// interpreter hooks), dropout. Host copies of key lengths / layout, and
/// of the tables the spec reads (KernelInfo::tables order; kept by pointer:
/// they must outlive the problem).
ref::FwdProblem referenceProblem(const Attention &attn, int batch, int headsQ,
                                 int headsKV, int seqQ, int seqK,
                                 const std::vector<int> &kvLengths,
                                 const std::vector<unsigned char> &layout,
                                 const int64_t layoutShape[3], uint64_t seed,
                                 uint64_t offset,
                                 const std::vector<HostTable> *tables = nullptr);

/// The float64 reference (Reference.h) of every row, on `threads` host
/// threads (0: all cores). `o` is dense [b, hq, n, dv], `lse` [b, hq, n].
void referenceForward(const ref::FwdProblem &problem,
                      const std::vector<double> &q,
                      const std::vector<double> &k,
                      const std::vector<double> &v, std::vector<double> &o,
                      std::vector<double> &lse, int threads = 0);

/// The plain chain in the input precision (naive_lowp above), same layout.
void naiveLowPrecision(const ref::FwdProblem &problem, ElementType element,
                       const std::vector<double> &q,
                       const std::vector<double> &k,
                       const std::vector<double> &v, std::vector<double> &o,
                       std::vector<double> &lse, int threads = 0);

struct CheckResult {
  double errO = 0, boundO = 0;     // max |out - ref|, the rule's bound
  double errLse = 0, boundLse = 0; // same for the log-sum-exp (if checked)
  long long maskedRows = 0;        // rows with no allowed key
  long long badMaskedRows = 0;     // of those, rows not giving 0 / -inf
  long long nonFinite = 0;         // NaN/inf outputs elsewhere
  bool ok = false;
  /// One line: "O max err 1.2e-03 <= bound 2.4e-03; LSE ...: PASS".
  std::string summary() const;
};

/// Checks `o` (dense [b, hq, n, dv], already converted to double) and, when
/// given, `lse` (dense [b, hq, n]) against the float64 reference and the
/// low-precision naive chain on the same inputs (dense, already rounded to
/// the element type). Uses `threads` host threads (0: all cores).
CheckResult checkForward(const ref::FwdProblem &problem, ElementType element,
                         const std::vector<double> &q,
                         const std::vector<double> &k,
                         const std::vector<double> &v,
                         const std::vector<double> &o,
                         const std::vector<float> *lse, int threads = 0);

} // namespace attnc

#endif // ATTNC_CHECK_H
