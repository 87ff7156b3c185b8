//===- GpuHarness.h - Run a compiled spec and check it in float64 -*- C++ -*-===//
//
// The end-to-end GPU tests drive attnc only through its public API:
// attnc::compile(spec text) -> Attention::run(RunArgs). This harness makes
// the inputs, runs the kernel and applies the correctness rule of
// docs/testing.md to every output:
//
//   max|out - ref| <= 2 * max|naive_lowp - ref| + 1e-5
//
// ref is attnc::ref::forward (float64, Reference.h) with the spec's score
// modifier and where() predicates evaluated by Attention::evalScore/evalWhere;
// naive_lowp is plain matmul-softmax-matmul on the CPU in the element
// precision: S in f32 from the (rounded) inputs, softmax in f32, P rounded
// to the element type before P*V, O rounded to the element type.
//
// Fully masked rows (every key masked) must give O == 0 exactly and
// LSE == -inf. The LSE gets the same rule (naive_lowp's LSE is the f32 one)
// with an absolute floor: 1e-3 for f16/bf16 specs, 1e-4 for f32 specs.
//
// Inputs are random normal (never zeros) and rounded to the element type;
// outputs (and every padding element of a strided buffer) are poisoned with
// NaN bytes before a run, so an unwritten element fails and a padding
// element read or written is seen.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TESTS_GPU_GPUHARNESS_H
#define ATTNC_TESTS_GPU_GPUHARNESS_H

#include "attnc/CudaDriver.h"
#include "attnc/attnc.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace attnc {
namespace gputest {

//===- Where the example specs are ----------------------------------------===//

/// $ATTNC_EXAMPLES_DIR, else the source tree's examples/ (a compile
/// definition), else ./examples.
std::string examplesDir();
/// The *.attn file names in examplesDir(), sorted.
std::vector<std::string> exampleFiles();
/// The whole file ("" when it cannot be read).
std::string readText(const std::string &path);
/// Whether the spec text returns the log-sum-exp (`return o, logsumexp`).
bool returnsLse(const std::string &specText);

//===- The fixture ----------------------------------------------------------===//

/// Skips the test, visibly, when there is no driver or device; otherwise
/// makes the device's primary context current on this thread.
template <class Base> class WithGpu : public Base {
protected:
  void SetUp() override {
    Expected<DeviceInfo> dev = currentDevice();
    if (!dev)
      GTEST_SKIP() << "no CUDA device: " << dev.error().str();
    device = *dev;
  }
  DeviceInfo device;
};
using GpuTest = WithGpu<::testing::Test>;
template <class P> using GpuParamTest = WithGpu<::testing::TestWithParam<P>>;

//===- Specs ----------------------------------------------------------------===//

/// Writes a spec in the DSL:
///   attention NAME {
///     q: DTYPE[b, HQ, N, D]  k: DTYPE[b, HK, M, D]  v: DTYPE[b, HK, M, D]
///     <inputs>
///     s = matmul(q, k^T) * rsqrt(D)
///     <scores>                      (score modifiers and masks, in order)
///     p = softmax(s[, SOFTMAXARGS])
///     <dropout>
///     o = matmul(p, v)
///     return o[, logsumexp]
///   }
struct SpecText {
  std::string name = "t";
  std::string dtype = "bf16";
  int headDim = 64;
  int headDimV = 0; // V and O; 0: headDim
  std::string headsQ = "h", headsKV = "h", seqQ = "n", seqK = "m";
  std::vector<std::string> inputs;
  std::vector<std::string> scores;
  std::string dropout;
  /// The softmax's arguments after the scores, e.g. "sink: sinks" (then
  /// `inputs` declares sinks: f32[HQ]).
  std::string softmaxArgs;
  bool lse = true;
  std::string str() const;
};

/// A SpecText named `name` of `dtype` and head dim `d`, with extra inputs
/// and the score lines (modifiers and masks) in order.
SpecText makeSpec(const std::string &name, const std::string &dtype, int d,
                  std::vector<std::string> inputs,
                  std::vector<std::string> scores);

/// Compiles for the current device (memory + disk cache). Reports a test
/// failure with the error and returns null when it fails.
std::shared_ptr<Attention> compileSpec(const std::string &text,
                                       const std::string &filename = "<spec>",
                                       const CompileOptions &options = {});
/// Compiles several specs at once (one thread each; compile() is
/// thread-safe). Entries are null where compilation failed.
std::vector<std::shared_ptr<Attention>>
compileSpecs(const std::vector<std::string> &texts);

//===- Cases ----------------------------------------------------------------===//

/// How one tensor lies in memory. Logical view [batch, heads, seq, dim];
/// `pad` extra elements after each dim-vector (a padded row stride).
struct Layout {
  bool bshd = false; // memory [batch, seq, heads, dim]
  int pad = 0;
  static Layout contiguous() { return {}; }
  static Layout bshdLayout(int pad = 0) { return {true, pad}; }
  static Layout padded(int pad) { return {false, pad}; }
  std::string str() const;
};

struct Case {
  std::string label;
  int batch = 1, headsQ = 1, headsKV = 1, seqQ = 1, seqK = 1;
  /// For specs with lengths(...): one entry per batch.
  std::vector<int> kvLengths;
  /// For specs with blocks(...): [layoutShape[0]][layoutShape[1]][layoutShape[2]].
  std::vector<uint8_t> blockLayout;
  int64_t layoutShape[3] = {0, 0, 0};
  /// For specs with dropout.
  uint64_t seed = 0, offset = 0;
  /// For specs with paged(...) K/V: the logical K/V [batch, headsKV, seqK,
  /// d] (seqK = maxPages * pageSize, maxPages = blockTable.size() / batch)
  /// is scattered into caches [pages, pageSize, headsKV, d] through
  /// blockTable [batch][maxPages]; sequence b has seqLensK[b] keys. Cache
  /// rows no sequence owns stay NaN (a read of one shows), and so may the
  /// table entries past a sequence's last page (never read).
  int64_t pageSize = 0, pages = 0;
  std::vector<int32_t> blockTable, seqLensK;
  /// For specs with packed(...) views: prefix sums [batch + 1] of the
  /// query and key rows (makePacked). The dense random Q/K/V [batch, heads,
  /// seqQ or seqK, d] (seqQ, seqK the longest sequences) are packed into
  /// token tensors [total + spare, heads, d] whose spare rows are NaN (a
  /// read past the last sequence shows); O has spare rows that must keep
  /// their poison. maxSeqlenQ/K are passed to run() when non-zero.
  std::vector<int32_t> cuSeqlensQ, cuSeqlensK;
  int64_t maxSeqlenQ = 0, maxSeqlenK = 0;
  /// When set, run() gets these prefix sums instead (tests of invalid ones;
  /// the tensors stay laid out, and O is read back, by cuSeqlensQ/K).
  std::vector<int32_t> runCuSeqlensQ, runCuSeqlensK;
  /// For specs with attention sinks: one f32 logit per query head; empty:
  /// random ones (normal, scale 2, from inputSeed).
  std::vector<float> sinks;
  /// For specs that read tables (KernelInfo::tables): their host values and
  /// sizes, in order; empty: random ones (float tables normal and rounded
  /// to the element type, i32 in [0, 3], i8 in [-3, 3]) of the sizes the
  /// case binds (batch, heads, lengths), the spec's numbers, and 5 for a
  /// free symbol.
  std::vector<HostTable> tables;
  /// Pass RunArgs::trustIndices (skip the host-side index checks).
  bool trustIndices = false;
  /// When set, a failing run() is stored here (its Error::str()) and
  /// runCase returns false without reporting a test failure.
  std::string *runError = nullptr;
  Layout q, k, v, o;
  /// Seeds the random inputs: equal seeds give equal inputs.
  uint64_t inputSeed = 1;
  /// Multiplies the random Q (smaller scores, flatter softmax).
  double qScale = 1.0;
  /// Replaces the random V when set: value of V[b][hk][j][d].
  std::function<double(int b, int hk, int j, int d)> vValue;
  /// Pass an LSE buffer and check it (for specs that return it).
  bool lse = true;
  /// Compare with the references (false: only run and fetch the outputs).
  bool check = true;
  /// Pass RunArgs::stream = this (a CUstream) when set.
  void *stream = nullptr;
  /// Receives what the launch did (RunArgs::report) when set.
  RunReport *report = nullptr;
};

/// b batches, h query heads (as many K/V heads), n queries, m keys; the
/// input seed derived from the sizes.
Case makeCase(const std::string &label, int b, int h, int n, int m);

/// Makes `c` a paged case over `lens` (one sequence each, c.batch set to
/// lens.size()) in pages of `pageSize`: the pages of all sequences
/// shuffled into one cache with `spare` pages nobody owns, c.seqK =
/// maxPages * pageSize, table entries past a sequence's last page -1.
void makePaged(Case &c, int64_t pageSize, const std::vector<int32_t> &lens,
               uint64_t seed, int spare = 3);

/// Makes `c` a packed case: sequence i has lensQ[i] queries and lensK[i]
/// keys (c.batch = the count, c.seqQ / c.seqK the longest, at least 1).
void makePacked(Case &c, const std::vector<int32_t> &lensQ,
                const std::vector<int32_t> &lensK);

/// For argument tests: bf16 q, k, v, o [b, hq or hk, n, d] (filled with
/// a normal bf16 pattern) and an f32 lse on the device, `args` over them,
/// then one buffer per `extraBytes` entry (bufs[5], ...). Reports a test
/// failure and returns false when an allocation fails.
bool smallRunArgs(int b, int hq, int hk, int n, int d,
                  const std::vector<size_t> &extraBytes,
                  std::vector<DeviceBuffer> &bufs, RunArgs &args);

/// What a run produced and how far it is from the reference.
struct Outcome {
  double errO = 0, boundO = 0, errLse = 0, boundLse = 0;
  /// max|out - ref without dropout| (dropout specs only).
  double errNoDropout = 0;
  long long maskedRows = 0;
  std::vector<double> o;        // dense [batch][headsQ][seqQ][headDimV]
  std::vector<float> lse;       // [batch][headsQ][seqQ] (when c.lse)
  std::vector<uint8_t> oBytes;  // the raw output buffer, padding included
  std::vector<double> ref;      // float64 reference O (when checked)
};

/// Runs `attn` on the case's inputs and, when c.check, checks O and LSE with
/// the rule above (EXPECTs) and prints the errors (stdout and
/// RecordProperty). Returns false after reporting a failure when the case
/// could not be run at all (allocation, launch, a CUDA error).
bool runCase(const Attention &attn, const Case &c, Outcome *out = nullptr);

/// A random block layout [heads][qBlocks][kBlocks] of 0/1 with about
/// `density` ones; block row `zeroRow` (of head 0) is all zeros when >= 0.
std::vector<uint8_t> randomBlockLayout(int heads, int qBlocks, int kBlocks,
                                       double density, int zeroRow,
                                       uint64_t seed);

/// Synchronizes the current context; the status of any asynchronous error.
Status synchronize();

/// Runs fn(begin, end) over [0, n) split across the hardware threads.
void parallelFor(long long n,
                 const std::function<void(long long, long long)> &fn);

/// One line of results: printed to stdout and recorded as test properties.
void report(const std::string &label, const std::string &key, double value);

} // namespace gputest
} // namespace attnc

#endif // ATTNC_TESTS_GPU_GPUHARNESS_H
