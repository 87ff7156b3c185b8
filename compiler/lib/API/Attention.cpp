//===- Attention.cpp - the attnc C++ API ----------------------------------===//
//
// compile(): spec text -> front end -> passes -> CUDA -> NVRTC (cached) ->
// loaded kernel. run(): validate the caller's tensors against the spec, fill
// attnc::FwdParams and launch.
//
//===----------------------------------------------------------------------===//
#include "attnc/attnc.h"

#include "attn/Model/Report.h"
#include "attn/Model/Target.h"
#include "attnc/Check.h"
#include "attnc/CudaDriver.h"
#include "attnc/DSL/Interpreter.h"
#include "attnc/Driver/Driver.h"
#include "attnc/Driver/Pipeline.h"
#include "attnc/KernelCache.h"
#include "attnc/Launch.h"
#include "attnc/Version.h"

#include "attn/Kernel/Params.h"

#include "llvm/Support/raw_ostream.h"

#include <cctype>
#include <climits>
#include <cmath>
#include <mutex>
#include <sstream>

using namespace attnc;

TensorArg TensorArg::contiguous(const void *data, const int64_t (&shape)[4]) {
  TensorArg t;
  t.data = data;
  for (int i = 0; i < 4; ++i)
    t.shape[i] = shape[i];
  t.strides[3] = 1;
  t.strides[2] = shape[3];
  t.strides[1] = shape[2] * shape[3];
  t.strides[0] = shape[1] * shape[2] * shape[3];
  return t;
}

TensorArg TensorArg::ofShape(const void *data,
                             const std::vector<int64_t> &shape) {
  TensorArg t;
  t.data = data;
  const int r = int(std::min<size_t>(shape.size(), 4));
  int64_t stride = 1;
  for (int i = r - 1; i >= 0; --i) {
    t.shape[i] = shape[size_t(i)];
    t.strides[i] = stride;
    stride *= shape[size_t(i)];
  }
  return t;
}

TensorArg TensorArg::bshd(const void *data, const int64_t (&s)[4]) {
  // memory [b, s, h, d]; logical [b, h, s, d]
  TensorArg t;
  t.data = data;
  for (int i = 0; i < 4; ++i)
    t.shape[i] = s[i];
  t.strides[3] = 1;
  t.strides[1] = s[3];
  t.strides[2] = s[1] * s[3];
  t.strides[0] = s[2] * s[1] * s[3];
  return t;
}

TensorArg TensorArg::packed(const void *data, int64_t total, int64_t heads,
                            int64_t dim) {
  const int64_t s[4] = {1, heads, total, dim};
  return bshd(data, s);
}

const char *attnc::version() { return attncVersion(); }

namespace {

Error invalid(const std::string &msg) {
  return makeError(ErrorCode::InvalidArgument, msg);
}

const char *const kDimNames[4] = {"batch", "heads", "seq", "head dim"};
const char *const kCacheDimNames[4] = {"pages", "page size", "heads",
                                       "head dim"};

/// Checks one tensor argument: pointer, alignment, strides, and the spec's
/// static dimensions.
Status checkTensor(const char *name, const TensorArg &t, const int64_t (&spec)[4],
                   int elemBytes, const char *const (&kDimNames)[4] = kDimNames) {
  if (!t.data)
    return invalid(std::string(name) + ": null device pointer");
  if (reinterpret_cast<uintptr_t>(t.data) % 16 != 0)
    return invalid(std::string(name) +
                   ": pointer is not 16-byte aligned (the kernel copies "
                   "16-byte vectors)");
  for (int i = 0; i < 4; ++i) {
    if (t.shape[i] <= 0)
      return invalid(std::string(name) + ": " + kDimNames[i] + " is " +
                     std::to_string(t.shape[i]) + "; every size must be >= 1");
    if (t.shape[i] > INT_MAX)
      return invalid(std::string(name) + ": " + kDimNames[i] + " " +
                     std::to_string(t.shape[i]) + " exceeds 2^31-1");
    if (spec[i] >= 0 && t.shape[i] != spec[i])
      return invalid(std::string(name) + ": " + kDimNames[i] + " is " +
                     std::to_string(t.shape[i]) + " but the spec fixes it to " +
                     std::to_string(spec[i]));
  }
  if (t.strides[3] != 1)
    return invalid(std::string(name) + ": the head dim must be contiguous "
                                       "(stride 1), got stride " +
                   std::to_string(t.strides[3]));
  for (int i = 0; i < 3; ++i) {
    if (t.strides[i] < 0)
      return invalid(std::string(name) + ": negative stride " +
                     std::to_string(t.strides[i]) + " in dim " +
                     std::to_string(i));
    if ((t.strides[i] * elemBytes) % 16 != 0 && t.shape[i] > 1)
      return invalid(std::string(name) + ": stride of dim " +
                     std::to_string(i) + " (" + std::to_string(t.strides[i]) +
                     " elements) is not a multiple of 16 bytes");
  }
  return success();
}

/// Whether a CUBIN for `arch` ("sm_80", "sm_90a", "sm_100a") loads on
/// `dev`: the same major compute capability and a minor no higher than the
/// device's (an sm_80 CUBIN runs on 8.6), and an arch-specific ('a') target
/// only on exactly its own compute capability.
bool cubinLoadsOn(const std::string &arch, const DeviceInfo &dev) {
  if (arch.rfind("sm_", 0) != 0)
    return true; // not a CUBIN (PTX is JIT-compiled by the driver)
  std::string digits;
  size_t i = 3;
  while (i < arch.size() && std::isdigit(static_cast<unsigned char>(arch[i])))
    digits += arch[i++];
  if (digits.size() < 2)
    return true;
  int major = std::stoi(digits.substr(0, digits.size() - 1));
  int minor = digits.back() - '0';
  bool specific = i < arch.size();
  if (major != dev.ccMajor || minor > dev.ccMinor)
    return false;
  return !specific || minor == dev.ccMinor;
}

/// A generated kernel loaded on the device: the main function and, for a
/// family with one, its combine function from the same module.
struct LoadedKernel {
  KernelSource kernel;
  std::shared_ptr<Kernel> main, combine;
  std::string provenance; // "compiled in 812 ms"
};

/// NVRTC (through the kernel cache) and load of one generated kernel.
Expected<LoadedKernel> loadKernel(KernelSource kernel,
                                  const CompileOptions &options,
                                  const mlir::attn::model::TargetInfo &target) {
  const std::string &arch = target.name;
  // A CUBIN for another architecture would only fail in cuModuleLoadData
  // (CUDA_ERROR_NO_BINARY_FOR_GPU) after NVRTC's work; say why up front.
  // Without a device the load below reports that instead.
  if (Expected<DeviceInfo> dev = currentDevice();
      dev && !cubinLoadsOn(arch, *dev))
    return makeError(
        ErrorCode::Unsupported,
        "target " + arch +
            (options.target.empty()
                 ? " (the architecture of part '" + target.part + "')"
                 : std::string()) +
            ": a CUBIN for it does not load on " + dev->name +
            " (compute capability " + std::to_string(dev->ccMajor) + "." +
            std::to_string(dev->ccMinor) + ", " + dev->arch +
            "); compile for " + dev->arch +
            " (attnc compile --emit=cubin builds for other GPUs)");

  NvrtcOptions nvrtc;
  nvrtc.arch = arch;
  nvrtc.warningsAsErrors = options.warningsAsErrors;
  nvrtc.programName = kernel.info.specName + ".cu";
  // Without the disk the global cache is not touched: constructing it
  // creates the cache directory.
  std::unique_ptr<KernelCache> memoryOnly;
  if (options.noDiskCache)
    memoryOnly = std::make_unique<KernelCache>(KernelCacheOptions{"", false, {}});
  KernelCache *cache = memoryOnly ? memoryOnly.get() : &KernelCache::global();
  if (options.log)
    cache->setLogHook([log = options.log](LogLevel, const std::string &m) {
      log(m);
    });
  CacheLookup lookup;
  Expected<std::shared_ptr<Kernel>> loaded =
      cache->getKernel(kernel.source, nvrtc, kernel.info.kernelName, &lookup);
  if (!loaded)
    return loaded.takeError();
  LoadedKernel out;
  if (!kernel.info.combineKernelName.empty()) {
    Expected<std::shared_ptr<Kernel>> combine = Kernel::load(
        (*loaded)->sharedModule(), kernel.info.combineKernelName);
    if (!combine)
      return combine.takeError();
    out.combine = std::move(*combine);
  }
  std::ostringstream prov;
  prov << cacheOriginName(lookup.origin) << " in " << lookup.ms << " ms";
  if (options.log)
    options.log("kernel " + kernel.info.kernelName + " (" + kernel.info.family +
                ") for " + arch + ": " + prov.str());
  out.main = std::move(*loaded);
  out.provenance = prov.str();
  out.kernel = std::move(kernel);
  return out;
}

class AttentionImpl final : public Attention {
public:
  AttentionImpl(LoadedKernel loaded, std::shared_ptr<dsl::ModuleAST> ast,
                const dsl::AttentionSpecAST *spec,
                mlir::attn::model::TargetInfo target, std::string specText,
                std::string filename, CompileOptions options)
      : loaded_(std::move(loaded)), kernel_(loaded_.kernel), ast_(std::move(ast)),
        spec_(spec), target_(std::move(target)), specText_(std::move(specText)),
        filename_(std::move(filename)), options_(std::move(options)) {}

  const KernelInfo &info() const override { return kernel_.info; }
  const std::string &cudaSource() const override { return kernel_.source; }
  std::string provenance() const override { return loaded_.provenance; }

  /// Whether a launch of query length n goes to the split-KV decode kernel:
  /// no family was named, the main kernel is the prefill one, the element
  /// type and head dims are the decode family's, and n is short.
  bool wantsDecode(int64_t n) const {
    namespace model = mlir::attn::model;
    const KernelInfo &k = kernel_.info;
    if (!options_.tiles.family.empty() ||
        k.family != model::kFwdMmaSync.name ||
        n > attnc::fwd_split_kv::kMaxAutoSeqQ ||
        (k.packed && !model::kFwdSplitKv.features.packed) ||
        (k.paged && !model::kFwdSplitKv.features.paged))
      return false;
    model::KernelShape shape{k.headDim, k.headDimV, elementBytes(k.element),
                             true};
    return model::supportsShape(model::kFwdSplitKv, shape);
  }

  /// The decode kernel for `packedRows` rows per K/V head (query heads per
  /// K/V head x query length), compiled on first use with tiles chosen for
  /// the row class (16, 32 or 64 and more rows: one kernel each). Thread-
  /// safe; a failure is remembered and returned again.
  Expected<const LoadedKernel *> decodeKernel(int64_t packedRows) const {
    const int cls = packedRows <= 16 ? 0 : packedRows <= 32 ? 1 : 2;
    std::lock_guard<std::mutex> lock(decodeMutex_);
    DecodeSlot &slot = decode_[cls];
    if (!slot.tried) {
      slot.tried = true;
      CompileOptions opts = options_;
      opts.tiles = TileRequest{};
      opts.tiles.sramBudgetBytes = options_.tiles.sramBudgetBytes;
      opts.tiles.family = mlir::attn::model::kFwdSplitKv.name;
      opts.tiles.packedRows = 16 << cls;
      opts.kernel = kernel_.info.specName;
      SpecCompilation compiled;
      std::string diag;
      llvm::raw_string_ostream errs(diag);
      if (!compileSpec(specText_, filename_, opts, target_, compiled, errs) ||
          compiled.kernels.size() != 1) {
        slot.error = "the split-KV decode kernel of " +
                     kernel_.info.specName + " did not compile: " + diag;
      } else {
        Expected<LoadedKernel> k =
            loadKernel(std::move(compiled.kernels.front()), opts, target_);
        if (k)
          slot.kernel = std::make_unique<LoadedKernel>(std::move(*k));
        else
          slot.error = k.error().str();
      }
    }
    if (!slot.kernel)
      return makeError(ErrorCode::Unknown, slot.error);
    return static_cast<const LoadedKernel *>(slot.kernel.get());
  }

  double evalScore(double qk, int b, int h, int i, int j,
                   const std::vector<HostTable> *tables) const override {
    return dsl::evalScoreMod(*spec_, qk, b, h, i, j, /*includeScale=*/true,
                             tables);
  }
  bool evalWhere(int b, int h, int i, int j,
                 const std::vector<HostTable> *tables) const override {
    return dsl::evalWhere(*spec_, b, h, i, j, tables);
  }

  std::string targetDescription() const override {
    return target_.name + " (" + target_.part + ", " +
           std::to_string(target_.smCount) + " SMs)";
  }

  double timeLowerBound(int64_t batch, int64_t headsQ, int64_t headsKV,
                        int64_t seqQ, int64_t seqK) const override {
    const KernelInfo &k = kernel_.info;
    return mlir::attn::model::estimateTiled(
               target_, problem(batch, headsQ, headsKV, seqQ, seqK),
               mlir::attn::model::TileConfig{k.blockM, k.blockN, k.warps,
                                             k.stages})
        .timeLowerBound;
  }

  std::string ioReport(int64_t batch, int64_t headsQ, int64_t headsKV,
                       int64_t seqQ, int64_t seqK) const override {
    const KernelInfo &k = kernel_.info;
    return mlir::attn::model::formatReport(
        k.specName, target_, problem(batch, headsQ, headsKV, seqQ, seqK),
        mlir::attn::model::TileConfig{k.blockM, k.blockN, k.warps, k.stages});
  }

  mlir::attn::model::AttentionProblem problem(int64_t batch, int64_t headsQ,
                                              int64_t headsKV, int64_t seqQ,
                                              int64_t seqK) const {
    const KernelInfo &k = kernel_.info;
    mlir::attn::model::AttentionProblem p;
    p.batch = batch;
    p.headsQ = headsQ;
    p.headsKV = headsKV;
    p.seqQ = seqQ;
    p.seqK = seqK;
    p.headDim = k.headDim;
    p.headDimV = k.headDimV;
    p.elementBytes = elementBytes(k.element);
    p.causal = k.causal;
    if (k.window)
      p.window = mlir::attn::model::Window{k.windowLeft, k.windowRight};
    p.dropout = k.dropout;
    return p;
  }

  /// The block table and key counts of a paged run, read back and checked:
  /// the kernel reads page ids [0, ceil(seqLensK[b] / pageSize)) of row b.
  Status checkPagedIndices(const RunArgs &a, int64_t batch, int64_t pages,
                           int64_t pageSize) const {
    std::vector<int32_t> table(static_cast<size_t>(batch * a.maxPages));
    std::vector<int32_t> lens(static_cast<size_t>(batch));
    CUstream stream = static_cast<CUstream>(a.stream);
    ATTNC_RETURN_IF_ERROR(readDevice(*loaded_.main, lens.data(), a.seqLensK,
                                     lens.size() * 4, stream));
    ATTNC_RETURN_IF_ERROR(readDevice(*loaded_.main, table.data(), a.blockTable,
                                     table.size() * 4, stream));
    const PagedIndexProblem bad = findPagedIndexProblem(
        table.data(), lens.data(), batch, a.maxPages, pageSize, pages);
    if (bad.kind == PagedIndexProblem::Length)
      return invalid("seqLensK[" + std::to_string(bad.batch) + "] = " +
                     std::to_string(bad.value) +
                     " is outside [0, maxPages x page size = " +
                     std::to_string(a.maxPages * pageSize) + "]");
    if (bad.kind == PagedIndexProblem::PageId)
      return invalid("blockTable[" + std::to_string(bad.batch) + ", " +
                     std::to_string(bad.column) + "] = " +
                     std::to_string(bad.value) +
                     " is not a page of the cache (0 .. " +
                     std::to_string(pages - 1) + ")");
    return success();
  }

  /// The prefix sums of a packed run, read back and checked; the longest
  /// query and key sequences (at least the caller's maxSeqlenQ/K if set).
  Status checkPrefixSums(const RunArgs &a, int64_t totalQ, int64_t totalK,
                         int64_t &maxQ, int64_t &maxK) const {
    const size_t entries = size_t(a.sequences + 1);
    std::vector<int32_t> cuQ(entries), cuK(entries);
    CUstream stream = static_cast<CUstream>(a.stream);
    ATTNC_RETURN_IF_ERROR(readDevice(*loaded_.main, cuQ.data(), a.cuSeqlensQ,
                                     entries * 4, stream));
    if (a.cuSeqlensK == a.cuSeqlensQ) // one array for both: one read
      cuK = cuQ;
    else
      ATTNC_RETURN_IF_ERROR(readDevice(*loaded_.main, cuK.data(),
                                       a.cuSeqlensK, entries * 4, stream));
    const char *names[2] = {"cuSeqlensQ", "cuSeqlensK"};
    const int64_t totals[2] = {totalQ, totalK};
    const std::vector<int32_t> *cus[2] = {&cuQ, &cuK};
    int64_t *maxes[2] = {&maxQ, &maxK};
    const int64_t given[2] = {a.maxSeqlenQ, a.maxSeqlenK};
    for (int i = 0; i < 2; ++i) {
      const int32_t *cu = cus[i]->data();
      const PrefixSumProblem bad =
          findPrefixSumProblem(cu, a.sequences, totals[i]);
      const std::string at = std::string(names[i]) + "[" +
                             std::to_string(bad.index) + "] = " +
                             std::to_string(bad.value);
      if (bad.kind == PrefixSumProblem::First)
        return invalid(at + ": prefix sums start at 0");
      if (bad.kind == PrefixSumProblem::Decreasing)
        return invalid(at + " is below the entry before it (" +
                       std::to_string(cu[bad.index - 1]) +
                       "): prefix sums never decrease");
      if (bad.kind == PrefixSumProblem::PastEnd)
        return invalid(at + " is past the " + std::to_string(totals[i]) +
                       " tokens of " + (i == 0 ? "q" : "k/v"));
      const int64_t longest = longestSequence(cu, a.sequences);
      if (given[i] && given[i] < longest)
        return invalid(std::string(i == 0 ? "maxSeqlenQ" : "maxSeqlenK") +
                       " = " + std::to_string(given[i]) +
                       " is below the longest sequence (" +
                       std::to_string(longest) + ")");
      *maxes[i] = given[i] ? given[i] : longest;
    }
    return success();
  }

  /// Packed sequences: checks the token tensors and prefix sums and gives
  /// the grid's batch (sequences) and longest query / key sequences.
  Status checkPacked(const RunArgs &a, int64_t &b, int64_t &n,
                     int64_t &m) const {
    if (!a.cuSeqlensQ || !a.cuSeqlensK)
      return invalid(std::string(a.cuSeqlensQ ? "cuSeqlensK" : "cuSeqlensQ") +
                     ": the spec reads packed sequences; pass a device array "
                     "of sequences + 1 int32 prefix sums");
    if (a.sequences < 1 || a.sequences > kMaxBatch)
      return invalid("sequences: " + std::to_string(a.sequences) +
                     " must be in [1, " + std::to_string(kMaxBatch) + "]");
    if (kernel_.info.packedSequences >= 0 &&
        a.sequences != kernel_.info.packedSequences)
      return invalid("sequences: " + std::to_string(a.sequences) +
                     " but the spec fixes it to " +
                     std::to_string(kernel_.info.packedSequences) +
                     " (its prefix sums have that many entries + 1)");
    if (a.maxSeqlenQ < 0 || a.maxSeqlenK < 0 || a.maxSeqlenQ > kMaxSeqLen ||
        a.maxSeqlenK > kMaxSeqLen)
      return invalid("maxSeqlenQ / maxSeqlenK (" +
                     std::to_string(a.maxSeqlenQ) + " / " +
                     std::to_string(a.maxSeqlenK) +
                     ") must be in [0, 2^30]");
    b = a.sequences;
    if (a.trustIndices) {
      if (a.maxSeqlenQ < 1 || a.maxSeqlenK < 1)
        return invalid("maxSeqlenQ / maxSeqlenK: trustIndices needs the "
                       "longest query and key sequences (>= 1)");
      n = a.maxSeqlenQ, m = a.maxSeqlenK;
    } else {
      ATTNC_RETURN_IF_ERROR(
          checkPrefixSums(a, a.q.shape[2], a.k.shape[2], n, m));
    }
    n = std::max<int64_t>(n, 1), m = std::max<int64_t>(m, 1);
    return success();
  }

  Status run(const RunArgs &a) const override {
    const KernelInfo &k = kernel_.info;
    int eb = elementBytes(k.element);
    if (k.packed) {
      const TensorArg *t[4] = {&a.q, &a.k, &a.v, &a.o};
      const char *names[4] = {"q", "k", "v", "o"};
      for (int i = 0; i < 4; ++i)
        if (t[i]->shape[0] != 1)
          return invalid(std::string(names[i]) +
                         ": packed tokens [total, heads, dim] are one batch "
                         "(TensorArg::packed: logical [1, heads, total, "
                         "dim]), got batch " +
                         std::to_string(t[i]->shape[0]));
    }
    ATTNC_RETURN_IF_ERROR(checkTensor("q", a.q, k.qShape, eb));
    const auto &kvDims = k.paged ? kCacheDimNames : kDimNames;
    ATTNC_RETURN_IF_ERROR(checkTensor("k", a.k, k.kShape, eb, kvDims));
    ATTNC_RETURN_IF_ERROR(checkTensor("v", a.v, k.vShape, eb, kvDims));
    int64_t oShape[4] = {a.q.shape[0], a.q.shape[1], a.q.shape[2],
                         k.headDimV};
    ATTNC_RETURN_IF_ERROR(checkTensor("o", a.o, oShape, eb));
    int64_t b = a.q.shape[0], hq = a.q.shape[1], n = a.q.shape[2];
    int64_t hk = a.k.shape[1], m = a.k.shape[2];
    if (k.paged) {
      // Caches [pages, pageSize, heads, dim]: the logical K/V is
      // [batch, heads, maxPages * pageSize, dim].
      if (a.v.shape[0] != a.k.shape[0] || a.v.shape[1] != a.k.shape[1] ||
          a.v.shape[2] != a.k.shape[2])
        return invalid("v: cache [pages, page size, heads] " +
                       std::to_string(a.v.shape[0]) + "x" +
                       std::to_string(a.v.shape[1]) + "x" +
                       std::to_string(a.v.shape[2]) + " differs from k's " +
                       std::to_string(a.k.shape[0]) + "x" +
                       std::to_string(a.k.shape[1]) + "x" +
                       std::to_string(a.k.shape[2]));
      if (!a.blockTable)
        return invalid("blockTable: the spec reads paged K/V; pass a device "
                       "array [batch, maxPages] of int32 page ids");
      if (!a.seqLensK)
        return invalid("seqLensK: the spec reads paged K/V; pass a device "
                       "array of batch int32 key counts");
      if (a.maxPages < 1 || a.maxPages > INT_MAX)
        return invalid("maxPages: " + std::to_string(a.maxPages) +
                       " (the block table's columns) must be in [1, 2^31-1]");
      hk = a.k.shape[2];
      m = a.maxPages * a.k.shape[1];
      if (m > kMaxSeqLen)
        return invalid("maxPages x page size = " + std::to_string(m) +
                       " keys exceeds the kernels' limit 2^30");
      if (!a.trustIndices)
        ATTNC_RETURN_IF_ERROR(checkPagedIndices(a, b, a.k.shape[0],
                                                a.k.shape[1]));
    } else if (k.packed) {
      // Checked below, after the shapes they are read with.
    } else if (a.k.shape[0] != b || a.v.shape[0] != b)
      return invalid("k/v: batch " + std::to_string(a.k.shape[0]) + "/" +
                     std::to_string(a.v.shape[0]) + " differs from q's " +
                     std::to_string(b));
    if (!k.paged && (a.v.shape[1] != hk || a.v.shape[2] != m))
      return invalid("v: heads x seq " + std::to_string(a.v.shape[1]) + "x" +
                     std::to_string(a.v.shape[2]) + " differs from k's " +
                     std::to_string(hk) + "x" + std::to_string(m));
    if (a.q.shape[3] != k.headDim || a.k.shape[3] != k.headDim ||
        a.v.shape[3] != k.headDimV)
      return invalid("head dims q/k/v " + std::to_string(a.q.shape[3]) + "/" +
                     std::to_string(a.k.shape[3]) + "/" +
                     std::to_string(a.v.shape[3]) + " differ from the spec's " +
                     std::to_string(k.headDim));
    int64_t totalQ = 0, totalK = 0;
    if (k.packed) {
      totalQ = n, totalK = m;
      ATTNC_RETURN_IF_ERROR(checkPacked(a, b, n, m));
    }
    if (hq % hk != 0)
      return invalid("q has " + std::to_string(hq) +
                     " heads, not a multiple of the " + std::to_string(hk) +
                     " heads of k/v (grouped-query attention)");
    if (b > kMaxBatch || hq > kMaxHeads)
      return invalid("batch " + std::to_string(b) + " or heads " +
                     std::to_string(hq) + " exceeds the grid limit " +
                     std::to_string(kMaxHeads));
    if (n > kMaxSeqLen || m > kMaxSeqLen)
      return invalid("sequence length " + std::to_string(std::max(n, m)) +
                     " exceeds the kernels' limit 2^30 (" +
                     std::to_string(kMaxSeqLen) + ")");
    if (a.lse && reinterpret_cast<uintptr_t>(a.lse) % 4 != 0)
      return invalid("lse: pointer is not 4-byte aligned");

    FwdParams p{};
    p.q = a.q.data;
    p.k = a.k.data;
    p.v = a.v.data;
    p.o = const_cast<void *>(a.o.data);
    p.lse = a.lse;
    p.qStrideB = a.q.strides[0], p.qStrideH = a.q.strides[1],
    p.qStrideS = a.q.strides[2];
    p.kStrideB = a.k.strides[0], p.kStrideH = a.k.strides[1],
    p.kStrideS = a.k.strides[2];
    p.vStrideB = a.v.strides[0], p.vStrideH = a.v.strides[1],
    p.vStrideS = a.v.strides[2];
    if (k.paged) { // [pages, pageSize, heads, dim]: page, row, head strides
      p.kStrideS = a.k.strides[1], p.kStrideH = a.k.strides[2];
      p.vStrideS = a.v.strides[1], p.vStrideH = a.v.strides[2];
      p.blockTable = a.blockTable;
      p.blockTableStrideB = a.maxPages;
      p.seqLensK = a.seqLensK;
      p.numPages = int(a.k.shape[0]);
    }
    p.oStrideB = a.o.strides[0], p.oStrideH = a.o.strides[1],
    p.oStrideS = a.o.strides[2];
    p.lseStrideB = hq * n;
    p.lseStrideH = n;
    if (k.packed) { // tokens [total, heads, dim]; lse [headsQ, totalQ]
      p.cuSeqlensQ = a.cuSeqlensQ;
      p.cuSeqlensK = a.cuSeqlensK;
      p.totalQ = int(totalQ), p.totalK = int(totalK);
      p.lseStrideB = 0;
      p.lseStrideH = totalQ;
    }
    p.batch = int(b), p.headsQ = int(hq), p.headsKV = int(hk);
    p.seqQ = int(n), p.seqK = int(m);
    // The kernel hands scoreMod the scaled score s = scale * q.k.
    p.scale = float(k.scale);
    p.scaleLog2 = float(k.scale * 1.4426950408889634);
    p.windowLeft = int(std::min<int64_t>(k.windowLeft, INT_MAX));
    p.windowRight = int(std::min<int64_t>(k.windowRight, INT_MAX));
    if (k.keyPadding) {
      if (!a.kvLengths)
        return invalid("kvLengths: the spec masks by key lengths; pass a "
                       "device array of batch int32 lengths");
      p.kvLengths = a.kvLengths;
    }
    if (k.blockSparse) {
      if (!a.blockLayout)
        return invalid("blockLayout: the spec is block-sparse; pass a "
                       "device array [1 or heads, qBlocks, kBlocks] of uint8");
      int64_t qb = (n + k.sparseBlockQ - 1) / k.sparseBlockQ;
      int64_t kb = (m + k.sparseBlockK - 1) / k.sparseBlockK;
      if ((a.layoutShape[0] != 1 && a.layoutShape[0] != hq) ||
          a.layoutShape[1] < qb || a.layoutShape[2] < kb)
        return invalid("blockLayout: shape [" +
                       std::to_string(a.layoutShape[0]) + ", " +
                       std::to_string(a.layoutShape[1]) + ", " +
                       std::to_string(a.layoutShape[2]) +
                       "] does not cover [1 or " + std::to_string(hq) + ", " +
                       std::to_string(qb) + ", " + std::to_string(kb) +
                       "] blocks of " + std::to_string(k.sparseBlockQ) + "x" +
                       std::to_string(k.sparseBlockK));
      p.blockLayout = a.blockLayout;
      p.layoutStrideH = a.layoutShape[0] == 1 ? 0
                                              : a.layoutShape[1] *
                                                    a.layoutShape[2];
      p.layoutStrideQ = a.layoutShape[2];
      p.layoutQBlocks = int(a.layoutShape[1]);
      p.layoutKBlocks = int(a.layoutShape[2]);
      p.sparseBlockQ = int(k.sparseBlockQ);
      p.sparseBlockK = int(k.sparseBlockK);
    }
    if (k.sinks) {
      if (!a.sinks)
        return invalid("sinks: the spec's softmax has attention sinks; pass "
                       "a device array of " + std::to_string(hq) +
                       " float32 logits (one per query head)");
      if (reinterpret_cast<uintptr_t>(a.sinks) % alignof(float) != 0)
        return invalid("sinks: the pointer is not 4-byte aligned");
      p.sinks = a.sinks;
    }
    // Tables: count, pointers, sizes (numbers and bound symbols).
    if (a.tables.size() != k.tables.size()) {
      std::string names;
      for (const TableInfo &t : k.tables)
        names += (names.empty() ? "" : ", ") + t.name;
      return invalid("tables: the spec reads " +
                     std::to_string(k.tables.size()) + " table(s)" +
                     (names.empty() ? "" : " (" + names + ")") + "; got " +
                     std::to_string(a.tables.size()));
    }
    for (size_t i = 0; i < k.tables.size(); ++i) {
      const TableInfo &t = k.tables[i];
      const TensorArg &x = a.tables[i];
      const std::string what = "tables[" + std::to_string(i) + "] ('" +
                               t.name + "')";
      if (!x.data)
        return invalid(what + ": null pointer");
      if (reinterpret_cast<uintptr_t>(x.data) % uintptr_t(t.elementBytes()))
        return invalid(what + ": the pointer is not " +
                       std::to_string(t.elementBytes()) + "-byte aligned");
      const int64_t bindValue[] = {b, hq, n, hk, m};
      TableParams &tp = p.tables[i];
      tp.data = x.data;
      for (int d = 0; d < 4; ++d)
        tp.stride[d] = 0, tp.size[d] = 1;
      for (int d = 0; d < t.rank; ++d) {
        const std::string dim = what + " dimension " + std::to_string(d);
        if (x.shape[d] < 1 || x.shape[d] > INT_MAX)
          return invalid(dim + " is " + std::to_string(x.shape[d]) +
                         "; sizes are 1 to 2^31-1");
        if (x.strides[d] < 0)
          return invalid(dim + ": stride " + std::to_string(x.strides[d]) +
                         " is negative");
        if (t.dims[d] >= 0 && x.shape[d] != t.dims[d])
          return invalid(dim + " is " + std::to_string(x.shape[d]) +
                         ", the spec says " + std::to_string(t.dims[d]));
        if (t.bind[d] >= 0 && t.bind[d] <= 4 &&
            x.shape[d] != bindValue[t.bind[d]])
          return invalid(dim + " is " + std::to_string(x.shape[d]) +
                         " but it is " + TableInfo::bindName(t.bind[d]) + " (" +
                         std::to_string(bindValue[t.bind[d]]) + ")");
        tp.stride[d] = x.strides[d];
        tp.size[d] = int(x.shape[d]);
      }
    }
    p.dropoutP = float(k.dropout);
    p.dropoutScale = k.dropout > 0 ? float(1.0 / (1.0 - k.dropout)) : 1.0f;
    p.seed = a.seed;
    p.offset = a.offset;

    const LoadedKernel *use = &loaded_;
    if (wantsDecode(n)) {
      Expected<const LoadedKernel *> d = decodeKernel(n * (hq / hk));
      if (!d)
        return d.takeError();
      use = *d;
    }
    LaunchReport launched;
    ATTNC_RETURN_IF_ERROR(launchForward(*use->main, use->combine.get(),
                                        use->kernel.info, p,
                                        static_cast<CUstream>(a.stream),
                                        &launched));
    if (a.report) {
      const KernelInfo &u = use->kernel.info;
      RunReport &r = *a.report;
      r.kernelName = u.kernelName;
      r.family = u.family;
      r.blockM = u.blockM, r.blockN = u.blockN, r.warps = u.warps,
      r.stages = u.stages;
      for (int i = 0; i < 3; ++i)
        r.grid[i] = launched.grid[i];
      r.splits = launched.splits;
      r.workspaceBytes = launched.workspaceBytes;
    }
    return success();
  }

private:
  LoadedKernel loaded_;
  const KernelSource &kernel_; // loaded_.kernel
  std::shared_ptr<dsl::ModuleAST> ast_;
  const dsl::AttentionSpecAST *spec_;
  mlir::attn::model::TargetInfo target_;
  // What compiling the decode kernel on first use needs.
  std::string specText_, filename_;
  CompileOptions options_;
  struct DecodeSlot {
    bool tried = false;
    std::unique_ptr<LoadedKernel> kernel;
    std::string error;
  };
  mutable std::mutex decodeMutex_;
  mutable DecodeSlot decode_[3]; // by packed-row class: 16, 32, 64+
};

} // namespace

Expected<std::shared_ptr<Attention>>
attnc::compile(const std::string &specText, const CompileOptions &options,
               const std::string &filename) {
  std::string remark;
  Expected<mlir::attn::model::TargetInfo> target =
      resolveTarget(options, &remark);
  if (!target)
    return target.takeError();
  if (options.log)
    options.log("target " + target->name + " (" + target->part + "): " +
                remark);

  SpecCompilation compiled;
  std::string diag;
  llvm::raw_string_ostream errs(diag);
  if (!compileSpec(specText, filename, options, *target, compiled, errs))
    return makeError(ErrorCode::InvalidArgument, diag);
  if (compiled.kernels.size() != 1) {
    std::string names;
    for (const KernelSource &k : compiled.kernels)
      names += (names.empty() ? "'" : ", '") + k.info.specName + "'";
    return makeError(ErrorCode::InvalidArgument,
                     filename + ": the spec has " +
                         std::to_string(compiled.kernels.size()) +
                         " attention blocks (" + names +
                         "); name one with CompileOptions::kernel");
  }
  KernelSource &kernel = compiled.kernels.front();
  const dsl::AttentionSpecAST *spec =
      compiled.ast->lookup(kernel.info.specName);
  if (!spec)
    return makeError(ErrorCode::Unknown,
                     "internal: no AST for " + kernel.info.specName);
  Expected<LoadedKernel> loaded =
      loadKernel(std::move(kernel), options, *target);
  if (!loaded)
    return loaded.takeError();
  return std::shared_ptr<Attention>(std::make_shared<AttentionImpl>(
      std::move(*loaded), compiled.ast, spec, *target, specText, filename,
      options));
}

Expected<std::shared_ptr<Attention>>
attnc::compileFile(const std::string &path, const CompileOptions &options) {
  // The reader `attnc compile` uses: regular files only (a FIFO would block
  // and /dev/zero never end), size-limited, a directory named as one.
  std::string text, diag;
  llvm::raw_string_ostream errs(diag);
  if (!readSourceFile(path, text, errs)) {
    errs.flush();
    std::string reason = diag;
    std::string prefix = path + ": error: ";
    if (reason.rfind(prefix, 0) == 0)
      reason = reason.substr(prefix.size());
    while (!reason.empty() && reason.back() == '\n')
      reason.pop_back();
    const std::string open = "cannot open file: ";
    if (reason.rfind(open, 0) == 0)
      return makeError(
          ErrorCode::NotFound,
          path + ": cannot open the spec file: " + reason.substr(open.size()));
    return makeError(ErrorCode::InvalidArgument, path + ": " + reason);
  }
  return compile(text, options, path == "-" ? "<stdin>" : path);
}
