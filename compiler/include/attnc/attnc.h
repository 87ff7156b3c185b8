//===- attnc.h - the attnc C++ API for host programs ------------*- C++ -*-===//
//
// JIT-compile an attention spec at run time and call the kernel on device
// pointers:
//
//   attnc::CompileOptions opts;                 // target: the live GPU
//   auto attn = attnc::compile(R"(
//     attention causal {
//       q: bf16[b, h, n, 128]  k: bf16[b, h, m, 128]  v: bf16[b, h, m, 128]
//       s = matmul(q, k^T) * rsqrt(128)
//       s = mask(s, causal)
//       p = softmax(s)
//       o = matmul(p, v)
//       return o, logsumexp
//     })", opts);
//   if (!attn) { std::cerr << attn.error().str(); return 1; }
//   attnc::RunArgs args;
//   args.q = attnc::TensorArg::contiguous(dQ, {B, H, N, 128});  ... k, v, o
//   args.lse = dLse;
//   attnc::Status st = (*attn)->run(args);      // async on args.stream
//
// Everything returns errors as values (attnc::Expected / attnc::Status),
// never aborts. Kernels are cached in memory and on disk ($ATTNC_CACHE_DIR).
// Thread-safe: compile and run may be called from several threads.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_ATTNC_H
#define ATTNC_ATTNC_H

#include "attnc/Codegen/KernelInfo.h"
#include "attnc/HostTable.h"
#include "attnc/Options.h"
#include "attnc/Status.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace attnc {

/// A rank-4 tensor on the device: [batch, heads, seq, dim] in elements; the
/// last stride must be 1. Strides let callers pass [b, s, h, d] memory.
struct TensorArg {
  const void *data = nullptr;
  int64_t shape[4] = {0, 0, 0, 0};
  int64_t strides[4] = {0, 0, 0, 0};

  static TensorArg contiguous(const void *data, const int64_t (&shape)[4]);
  /// The common [batch, seq, heads, dim] memory layout, viewed as
  /// [batch, heads, seq, dim].
  static TensorArg bshd(const void *data, const int64_t (&bhsdShape)[4]);
  /// Packed tokens [total, heads, dim] (FlashAttention's varlen layout,
  /// contiguous), viewed as the one batch [1, heads, total, dim].
  static TensorArg packed(const void *data, int64_t total, int64_t heads,
                          int64_t dim);
  /// A contiguous (row-major) tensor of rank 1 to 4, e.g. a table
  /// [heads, 257]: the first shape.size() entries are used.
  static TensorArg ofShape(const void *data, const std::vector<int64_t> &shape);
};

struct RunArgs {
  TensorArg q, k, v;
  TensorArg o;           // written; same element type as q
  float *lse = nullptr;  // [batch, headsQ, seqQ] contiguous, or null
                         // (packed: [headsQ, totalQ])
  const int32_t *kvLengths = nullptr;      // [batch], spec with lengths(...)
  const uint8_t *blockLayout = nullptr;    // spec with blocks(...)
  int64_t layoutShape[3] = {0, 0, 0};      // [1 or headsQ, qBlocks, kBlocks]
  uint64_t seed = 0, offset = 0;           // spec with dropout
  // Attention sinks (spec with softmax(s, sink: ...)): [headsQ] float32 on
  // the device, one logit per query head, in the units of the scaled scores.
  const float *sinks = nullptr;
  // Tables (spec reading x[...] in a modifier or where() mask): one device
  // tensor per KernelInfo::tables entry, in that order, of the table's
  // element type; the first `rank` entries of shape and strides (element
  // strides, >= 0) are used (TensorArg::ofShape for a contiguous one).
  // run() checks the count, the pointers, the rank's sizes against the
  // spec's numbers and the dimensions bound to the batch, heads and lengths;
  // the kernel clamps every index into the sizes.
  std::vector<TensorArg> tables;
  // Paged K/V (spec with paged(...)): k and v are the caches, shape and
  // strides [pages, pageSize, headsKV, dim]; blockTable is [batch, maxPages]
  // int32 (row-major, on the device), seqLensK [batch] int32 keys per
  // sequence. run() copies both to the host and checks them (every page id
  // a sequence uses in [0, pages), 0 <= seqLensK[b] <= maxPages * pageSize)
  // before the launch, which waits for the stream; trustIndices skips that
  // (the kernel still clamps bad ids: no out-of-bounds read, wrong results).
  const int32_t *blockTable = nullptr;
  int64_t maxPages = 0;
  const int32_t *seqLensK = nullptr;
  // Packed variable-length sequences (spec with packed(...)): q, k, v, o are
  // token tensors [total, heads, dim] passed as TensorArg::packed (logical
  // [1, heads, total, dim]); cuSeqlensQ / cuSeqlensK are [sequences + 1]
  // int32 prefix sums on the device (sequence b has query rows
  // [cuSeqlensQ[b], cuSeqlensQ[b + 1]) and key rows likewise); lse is
  // [headsQ, totalQ]. run() copies the prefix sums to the host and checks
  // them (first entry 0, never decreasing, last at most the token count)
  // and takes the longest sequences from them; maxSeqlenQ / maxSeqlenK,
  // when set, must be at least those. With trustIndices both must be set
  // (the kernel clamps every bound: no out-of-bounds access, but wrong
  // results if the prefix sums are wrong). Padding launches no work.
  const int32_t *cuSeqlensQ = nullptr, *cuSeqlensK = nullptr;
  int64_t sequences = 0;
  int64_t maxSeqlenQ = 0, maxSeqlenK = 0;
  bool trustIndices = false; // paged and packed index inputs
  void *stream = nullptr;                  // CUstream; null = default stream
  struct RunReport *report = nullptr;      // when set: what the launch did
};

/// Which kernel a run() launched, and how.
struct RunReport {
  std::string kernelName; // the extern "C" symbol
  std::string family;     // "fwd.mma_sync", "fwd.split_kv"
  int blockM = 0, blockN = 0, warps = 0, stages = 0;
  unsigned grid[3] = {1, 1, 1};
  int splits = 1;             // fwd.split_kv: key splits (1: no combine)
  int64_t workspaceBytes = 0; // fwd.split_kv: f32 partial results
};

/// A compiled attention kernel.
class Attention {
public:
  virtual ~Attention() = default;
  virtual const KernelInfo &info() const = 0;
  /// The generated CUDA source and the PTX NVRTC produced for it.
  virtual const std::string &cudaSource() const = 0;
  /// Where the binary came from ("compiled", "memory", "disk") and the time.
  virtual std::string provenance() const = 0;
  /// Checks `args` against the spec and launches asynchronously. Short
  /// query lengths (at most 16 per head, f16/bf16) run the split-KV decode
  /// kernel (family fwd.split_kv), compiled on the first such call and
  /// cached like the main one, unless CompileOptions::tiles.family names a
  /// family.
  virtual Status run(const RunArgs &args) const = 0;
  /// The target the kernel was compiled and modelled for, e.g.
  /// "sm_90a (H200 SXM 141GB, 132 SMs)".
  virtual std::string targetDescription() const = 0;
  /// The IO cost model's lower bound on the kernel's time, in seconds.
  virtual double timeLowerBound(int64_t batch, int64_t headsQ,
                                int64_t headsKV, int64_t seqQ,
                                int64_t seqK) const = 0;
  /// The IO cost model's table for these sizes (bytes, FLOPs, bound).
  virtual std::string ioReport(int64_t batch, int64_t headsQ,
                               int64_t headsKV, int64_t seqQ,
                               int64_t seqK) const = 0;
  /// Evaluates the spec's score modifier (raw q.k in, including the scale)
  /// and `where` predicates on the CPU, for float64 references.
  /// `tables`: host copies of KernelInfo::tables, in order (needed when
  /// the spec reads tables; without them a table element is NaN).
  virtual double evalScore(double qk, int b, int h, int i, int j,
                           const std::vector<HostTable> *tables = nullptr)
      const = 0;
  virtual bool evalWhere(int b, int h, int i, int j,
                         const std::vector<HostTable> *tables = nullptr)
      const = 0;
};

/// Compiles the spec text (front end, passes, codegen, NVRTC, cache) and
/// loads the kernel on the current device. A spec with several attention
/// blocks needs options.kernel to name one.
Expected<std::shared_ptr<Attention>> compile(const std::string &specText,
                                             const CompileOptions &options,
                                             const std::string &filename =
                                                 "<spec>");
/// compile() on the contents of a .attn file ("-": standard input). Only a
/// regular file of at most 16 MiB is read; a FIFO, device or directory is
/// an error, not a wait.
Expected<std::shared_ptr<Attention>>
compileFile(const std::string &path, const CompileOptions &options);

/// "0.1.0".
const char *version();

} // namespace attnc

#endif // ATTNC_ATTNC_H
