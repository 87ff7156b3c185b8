//===- KernelFamily.h - the kernels the compiler can generate ---*- C++ -*-===//
//
// A kernel family is one kind of kernel (today `fwd.mma_sync`, the
// FlashAttention-2 style forward kernel), described once: the archs and
// element types it runs on, its head dims and tile space, its shared-memory
// and register formulas, the features it supports, its parameter block,
// launch grid and device header. Sema's limits, the SRAM model, the tile
// pass, the CUDA emitter, the runtime's launch and the error messages all
// read it. The tiled op records the family it was tiled for.
//
// Plain C++ (the DSL front end, which links no LLVM, reads the limits).
// Adding a family: a record here + its formulas in KernelFamily.cpp + its
// device header + tests (docs/architecture.md has the recipe).
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_MODEL_KERNELFAMILY_H
#define ATTN_MODEL_KERNELFAMILY_H

#include "attn/Kernel/FwdMmaSync.h"
#include "attn/Kernel/FwdSplitKv.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::attn::model {

/// A constant list of ints (the tile space, head dims).
struct IntList {
  const int *data = nullptr;
  int size = 0;
  template <int N>
  constexpr IntList(const int (&a)[N]) : data(a), size(N) {}
  constexpr const int *begin() const { return data; }
  constexpr const int *end() const { return data + size; }
  constexpr bool contains(int x) const {
    for (int i = 0; i < size; ++i)
      if (data[i] == x)
        return true;
    return false;
  }
  /// "32, 64, 96" (for messages).
  std::string str() const {
    std::string s;
    for (int i = 0; i < size; ++i)
      s += (i ? ", " : "") + std::to_string(data[i]);
    return s;
  }
};

/// One tile configuration: blockM query rows (Br) per thread block, blockN
/// key rows (Bc) per K/V block, warps per block, and the number of K/V
/// buffers in the copy pipeline.
struct TileConfig {
  int blockM = 128, blockN = 64, warps = 4, stages = 1;

  int threads(int warpSize = 32) const { return warps * warpSize; }
  /// Query rows each warp owns.
  int rowsPerWarp() const { return blockM / warps; }
  bool operator==(const TileConfig &o) const {
    return blockM == o.blockM && blockN == o.blockN && warps == o.warps &&
           stages == o.stages;
  }
  bool operator!=(const TileConfig &o) const { return !(*this == o); }
  /// "128x64 w4 s2".
  std::string str() const {
    return std::to_string(blockM) + "x" + std::to_string(blockN) + " w" +
           std::to_string(warps) + " s" + std::to_string(stages);
  }
};

/// What a kernel computes, as far as its resources depend on it.
struct KernelShape {
  int headDim = 128;    // d: Q and K
  int headDimV = 128;   // dv: V and O
  int elementBytes = 2; // 2: f16/bf16 (tensor cores), 4: f32 (SIMT)
  bool forward = true;
  /// fwd.split_kv: the packed query rows per K/V head (query heads per K/V
  /// head x query length) the tiles are chosen for; 0: 16.
  int packedRows = 0;

  static KernelShape of(int headDim, int elementBytes = 2) {
    return KernelShape{headDim, headDim, elementBytes, true};
  }
};

enum class Direction { Forward, Backward };

/// Element types, as bits.
enum ElementBits : unsigned { kF16 = 1, kBF16 = 2, kF32 = 4 };

/// What a family's kernels can do (the tile pass refuses a spec that needs
/// more).
struct FeatureSet {
  bool causal = false, window = false, keyLengths = false,
       blockSparse = false, where = false;
  bool scoreMod = false, dropout = false;
  bool gqa = false;     // fewer K/V heads than query heads
  bool strides = false; // any 16-byte aligned strides (bshd, padding)
  bool paged = false;   // K/V through attn.paged_kv views
  bool packed = false;  // Q/K/V through attn.packed_seq views
  bool sinks = false;   // softmax with a per-head sink logit
};

struct KernelFamily {
  /// "fwd.mma_sync": direction, then the instruction family.
  const char *name;
  Direction direction;
  /// Lowest compute capability (major * 10 + minor) the kernels run on.
  int minComputeCapability;
  unsigned elements; // ElementBits
  /// The tile widths of head dims, and the width a head dim is computed in
  /// (0: not supported); Q/K and V each take any supported one.
  IntList headDims;
  int (*tileHeadDim)(int headDim);
  /// The tile space (every combination that supportsTile() accepts).
  IntList blockM, blockN, warps, stages;
  FeatureSet features;
  /// The parameter block (attn/Kernel/Params.h), the device header and the
  /// entry point the generated kernel calls, and the traits template whose
  /// kSmemBytes the generated kernel static_asserts against the model.
  const char *paramsType;
  const char *deviceHeader;
  const char *entryFunction;
  const char *traitsTemplate;
  /// A second kernel in the same module that finishes the launch (the
  /// split-KV combine), or null.
  const char *combineFunction;
  /// What the generated Spec's kDecode says (GQA-packed rows, split keys).
  bool decode;
};

// ---- The families ----------------------------------------------------------

inline constexpr KernelFamily kFwdMmaSync = {
    "fwd.mma_sync",
    Direction::Forward,
    80,
    kF16 | kBF16 | kF32,
    attnc::fwd_mma_sync::kHeadDims,
    attnc::fwd_mma_sync::tileHeadDim,
    attnc::fwd_mma_sync::kBlockM,
    attnc::fwd_mma_sync::kBlockN,
    attnc::fwd_mma_sync::kWarps,
    attnc::fwd_mma_sync::kStages,
    FeatureSet{true, true, true, true, true, true, true, true, true,
               /*paged=*/true, /*packed=*/true, /*sinks=*/true},
    "attnc::FwdParams",
    "attnc/flash_fwd.cuh",
    "attnc::flashFwd",
    "attnc::FwdTraits",
    /*combineFunction=*/nullptr,
    /*decode=*/false,
};

/// Flash-decoding: the forward kernel with the query heads of a GQA group
/// packed into the rows of a tile (K/V read once per group) and the keys
/// split across thread blocks, plus a combine kernel. For short query
/// lengths (attn/Kernel/FwdSplitKv.h, kMaxAutoSeqQ); the C++ API and
/// `attnc run` pick it by the launch's shape.
inline constexpr KernelFamily kFwdSplitKv = {
    "fwd.split_kv",
    Direction::Forward,
    80,
    kF16 | kBF16,
    attnc::fwd_split_kv::kHeadDims,
    attnc::fwd_mma_sync::tileHeadDim,
    attnc::fwd_split_kv::kBlockM,
    attnc::fwd_split_kv::kBlockN,
    attnc::fwd_split_kv::kWarps,
    attnc::fwd_split_kv::kStages,
    // Packed sequences would need the GQA-packed rows per sequence.
    FeatureSet{true, true, true, true, true, true, true, true, true,
               /*paged=*/true, /*packed=*/false, /*sinks=*/true},
    "attnc::FwdParams",
    "attnc/split_kv.cuh",
    "attnc::flashFwd",
    "attnc::FwdTraits",
    "attnc::splitKvCombine",
    /*decode=*/true,
};

/// Every family, in the order the tile pass tries them when none is asked
/// for (a family listed later is only used when named).
inline constexpr const KernelFamily *kKernelFamilies[] = {&kFwdMmaSync,
                                                          &kFwdSplitKv};

/// The family of that name, or null.
const KernelFamily *lookupFamily(const std::string &name);

/// "fwd.mma_sync".
std::string knownFamilyList();

/// Whether some forward family takes the head dim (inline: the DSL front
/// end reads it without linking the model).
inline bool forwardHeadDimSupported(int headDim) {
  for (const KernelFamily *f : kKernelFamilies)
    if (f->direction == Direction::Forward && f->tileHeadDim(headDim) != 0)
      return true;
  return false;
}
/// The forward head dims, in words: "a multiple of 8 from 8 to 256" (every
/// forward family pads to the tile widths of fwd.mma_sync).
inline std::string forwardHeadDimsText() {
  namespace fm = attnc::fwd_mma_sync;
  return "a multiple of " + std::to_string(fm::kHeadDimAlign) + " from " +
         std::to_string(fm::kHeadDimAlign) + " to " +
         std::to_string(fm::kHeadDims[sizeof(fm::kHeadDims) /
                                      sizeof(fm::kHeadDims[0]) - 1]);
}

// ---- Formulas (KernelFamily.cpp; one case per family) ----------------------

/// Whether the family supports the element size and head dims; `why` names
/// what it does not.
bool supportsShape(const KernelFamily &f, const KernelShape &shape,
                   std::string *why = nullptr);
/// Whether the family supports the tile configuration (in its tile space and
/// structurally valid); `why` names what is not.
bool supportsTile(const KernelFamily &f, const TileConfig &tile,
                  std::string *why = nullptr);
/// Every supported configuration for a shape, in a fixed order.
std::vector<TileConfig> tileSpace(const KernelFamily &f,
                                  const KernelShape &shape);
/// Shared memory of one thread block in bytes (the kernel's traits
/// static_assert the same number from the same attn/Kernel formula).
int64_t smemBytes(const KernelFamily &f, const KernelShape &shape,
                  const TileConfig &tile);
/// Registers per thread (estimate; see the definition for the model).
int estimateRegisters(const KernelFamily &f, const KernelShape &shape,
                      const TileConfig &tile);

/// The launch of one kernel: grid, threads per block, dynamic shared memory.
struct LaunchGeometry {
  unsigned grid[3] = {1, 1, 1};
  unsigned threads = 0;
  int64_t smemBytes = 0;
  /// fwd.split_kv: key splits and key blocks per split (FwdParams), and,
  /// with splits > 1, the f32 workspace and the combine kernel's launch.
  int splits = 1, blocksPerSplit = 0;
  int64_t workspaceBytes = 0;
  unsigned combineGrid = 0, combineThreads = 0;
};
/// The sizes the launch depends on, and (for the split heuristic of
/// fwd.split_kv) the device: SMs and thread blocks of this kernel that fit
/// on one SM at once (0: unknown, no split).
struct LaunchShape {
  int64_t batch = 1, headsQ = 1, headsKV = 1, seqQ = 1, seqK = 1;
  int smCount = 0, ctasPerSm = 0;
};
LaunchGeometry launchGeometry(const KernelFamily &f, const KernelShape &shape,
                              const TileConfig &tile, const LaunchShape &s);
/// The split count of fwd.split_kv for `ctas` thread blocks of
/// `keyBlocks` key blocks each on smCount x ctasPerSm slots.
int chooseSplits(int64_t ctas, int keyBlocks, int smCount, int ctasPerSm);

} // namespace mlir::attn::model

#endif // ATTN_MODEL_KERNELFAMILY_H
