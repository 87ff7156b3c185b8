//===- KernelInfo.h - what the runtime needs to launch a kernel -*- C++ -*-===//
//
// Plain C++ (no MLIR): the runtime and host programs include it.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_KERNELINFO_H
#define ATTNC_CODEGEN_KERNELINFO_H

#include <cstdint>
#include <string>
#include <vector>

namespace attnc {

enum class ElementType { f16, bf16, f32 };

inline const char *elementTypeName(ElementType t) {
  switch (t) {
  case ElementType::f16:
    return "f16";
  case ElementType::bf16:
    return "bf16";
  case ElementType::f32:
    return "f32";
  }
  return "?";
}

inline int elementBytes(ElementType t) { return t == ElementType::f32 ? 4 : 2; }

/// A table: an input the score modifier or a where() mask reads as x[...].
struct TableInfo {
  /// What a symbolic dimension must equal at run time.
  enum Bind : int {
    Free = -1,   // any size (indices are clamped into it)
    Batch = 0,   // the query's batch
    HeadsQ = 1,  // query heads
    SeqQ = 2,    // query length
    HeadsKV = 3, // key/value heads
    SeqK = 4,    // key length
  };
  std::string name;
  /// "f32", "bf16", "f16", "i32" or "i8".
  std::string element;
  int rank = 0;
  /// The spec's sizes, -1 for a symbol; bind[d] says what a symbol is.
  int64_t dims[4] = {1, 1, 1, 1};
  int bind[4] = {Free, Free, Free, Free};
  int elementBytes() const {
    return element == "f32" || element == "i32" ? 4 : element == "i8" ? 1 : 2;
  }
  bool isInteger() const { return element == "i32" || element == "i8"; }
  /// A float table's element type (f32 for integer tables).
  ElementType floatElement() const {
    return element == "bf16"  ? ElementType::bf16
           : element == "f16" ? ElementType::f16
                              : ElementType::f32;
  }
  /// What a Bind means, for messages: "the batch", "the query heads", ...
  static const char *bindName(int bind) {
    static const char *const names[] = {"the batch", "the query heads",
                                        "the query length",
                                        "the key/value heads",
                                        "the key length"};
    return bind >= 0 && bind <= SeqK ? names[bind] : "free";
  }
  /// The table's sizes for a problem of `sizes` (batch, query heads, query
  /// length, key/value heads, key length; Bind order): a bound symbol takes
  /// its size, a number stays, a free symbol becomes `freeSize`.
  std::vector<int64_t> shapeFor(const int64_t (&sizes)[5],
                                int64_t freeSize) const {
    std::vector<int64_t> shape;
    for (int d = 0; d < rank; ++d)
      shape.push_back(bind[d] >= 0 && bind[d] <= SeqK ? sizes[bind[d]]
                      : dims[d] >= 0                  ? dims[d]
                                                      : freeSize);
    return shape;
  }
};

/// Everything about a generated kernel that is not in its source: the launch
/// geometry and the spec's constants, which the runtime passes in
/// attnc::FwdParams (constants are computed on the host, not baked in).
struct KernelInfo {
  std::string specName;   // the attention block's name in the DSL
  std::string kernelName; // the extern "C" symbol
  /// The second kernel of the module that finishes a launch (fwd.split_kv's
  /// combine), or empty.
  std::string combineKernelName;
  std::string target;     // e.g. sm_90a
  std::string family;     // the kernel family, e.g. fwd.mma_sync
  ElementType element = ElementType::bf16;
  int headDim = 0, headDimV = 0;
  // Tiles (Br x Bc), warps per block, K/V pipeline depth, shared memory.
  int blockM = 0, blockN = 0, warps = 0, stages = 0;
  int64_t smemBytes = 0;
  double scale = 1.0;
  bool causal = false;
  bool window = false;
  int64_t windowLeft = 0, windowRight = 0;
  bool keyPadding = false;  // needs per-batch key lengths
  bool blockSparse = false; // needs a block layout
  int64_t sparseBlockQ = 0, sparseBlockK = 0;
  /// K/V are paged caches (attn.paged_kv): kShape/vShape are the caches'
  /// [pages, pageSize, heads, dim]; launches need a block table and the
  /// per-sequence key counts.
  bool paged = false;
  int64_t pageSize = 0;
  /// Q, K and V are packed variable-length sequences (attn.packed_seq):
  /// launches pass the token tensors [total, heads, dim] and the int32
  /// prefix sums cu_seqlens of the queries and of the keys; qShape etc. are
  /// those of the tensors as TensorArg::packed views [1, heads, total, dim]
  /// (-1 where the spec names a symbol, and for the batch), packedSequences the sequence count
  /// the spec fixes (its prefix sums' entries - 1), or -1.
  bool packed = false;
  int64_t packedSequences = -1;
  bool scoreMod = false, maskFn = false;
  double dropout = 0.0; // needs seed and offset when > 0
  /// Attention sinks: launches pass f32[headsQ] logits (FwdParams::sinks)
  /// that join every row's softmax denominator and its log-sum-exp.
  bool sinks = false;
  /// Tables in FwdParams::tables / RunArgs::tables order (the spec's
  /// declaration order).
  std::vector<TableInfo> tables;
  /// The masks the K/V loop skips blocks by ("causal|sparse", or "none").
  std::string blockSkip = "none";
  /// The spec's shapes of Q, K and V: [batch, heads, seq, dim] (paged K/V:
  /// the caches' [pages, pageSize, heads, dim]), -1 where the spec names a
  /// symbol (any size at run time).
  int64_t qShape[4] = {-1, -1, -1, -1};
  int64_t kShape[4] = {-1, -1, -1, -1};
  int64_t vShape[4] = {-1, -1, -1, -1};
};

struct KernelSource {
  KernelInfo info;
  std::string source;
};

} // namespace attnc

#endif // ATTNC_CODEGEN_KERNELINFO_H
