//===- Pipeline.cpp - attnc compile pipeline ------------------------------===//
#include "attnc/Driver/Pipeline.h"

#include "attn/Analysis/IndexRanges.h"
#include "attnc/Driver/Driver.h"

#include "attnc/DSL/ASTDump.h"
#include "attnc/DSL/Lowering.h"
#include "attnc/DSL/Parser.h"
#include "attnc/DSL/Sema.h"

#include "attn/IR/AttnDialect.h"
#include "attn/IR/AttnOps.h"
#include "attn/Model/Report.h"
#include "attn/Model/Target.h"
#include "attnc/Codegen/CudaEmitter.h"
#include "attnc/KernelCache.h"
#include "attnc/Nvrtc.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/ToolOutputFile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

using namespace attnc;

std::optional<EmitKind> attnc::parseEmitKind(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<EmitKind>>(name)
      .Case("ast", EmitKind::AST)
      .Case("mlir", EmitKind::MLIR)
      .Case("fused", EmitKind::Fused)
      .Case("tiled", EmitKind::Tiled)
      .Case("cuda", EmitKind::CUDA)
      .Case("ptx", EmitKind::PTX)
      .Case("cubin", EmitKind::CUBIN)
      .Default(std::nullopt);
}

llvm::StringRef attnc::toString(EmitKind kind) {
  switch (kind) {
  case EmitKind::AST:
    return "ast";
  case EmitKind::MLIR:
    return "mlir";
  case EmitKind::Fused:
    return "fused";
  case EmitKind::Tiled:
    return "tiled";
  case EmitKind::CUDA:
    return "cuda";
  case EmitKind::PTX:
    return "ptx";
  case EmitKind::CUBIN:
    return "cubin";
  }
  return "?";
}

std::string attnc::knownTargetsList() {
  return mlir::attn::model::knownTargetList();
}

void attnc::registerAttncDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::attn::AttnDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::math::MathDialect>();
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

static std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024.0));
  return buf;
}

bool attnc::readSourceFile(llvm::StringRef path, std::string &out,
                           llvm::raw_ostream &errs) {
  std::FILE *f = nullptr;
  if (path == "-") {
    f = stdin;
  } else {
    // O_NONBLOCK: opening a FIFO without a writer must not wait; only
    // regular files are read (a FIFO, device or socket is refused before a
    // byte is read, as /dev/zero would fill the size limit first).
    std::string name = path.str();
    int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      errs << path << ": error: cannot open file: " << std::strerror(errno)
           << "\n";
      return false;
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      errs << path << ": error: cannot open file: " << std::strerror(errno)
           << "\n";
      ::close(fd);
      return false;
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      if (S_ISDIR(st.st_mode)) {
        errs << path << ": error: is a directory, not a .attn file\n";
        return false;
      }
      const char *kind = S_ISFIFO(st.st_mode)   ? "a FIFO"
                         : S_ISCHR(st.st_mode)  ? "a character device"
                         : S_ISBLK(st.st_mode)  ? "a block device"
                         : S_ISSOCK(st.st_mode) ? "a socket"
                                                : "a special file";
      errs << path << ": error: is " << kind
           << ", not a regular file; pass '-' to read standard input\n";
      return false;
    }
    if (uint64_t(st.st_size) > kMaxSourceBytes) {
      // In bytes when MiB would round to the limit itself.
      std::string size = mib(uint64_t(st.st_size));
      if (size == mib(kMaxSourceBytes))
        size = std::to_string(uint64_t(st.st_size)) + " bytes";
      errs << path << ": error: file is too large (" << size
           << "); the limit for .attn files is " << mib(kMaxSourceBytes)
           << "\n";
      ::close(fd);
      return false;
    }
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0)
      (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    f = ::fdopen(fd, "rb");
    if (!f) {
      errs << path << ": error: cannot open file: " << std::strerror(errno)
           << "\n";
      ::close(fd);
      return false;
    }
  }
  // Read in chunks: the file may grow after stat() (or be a pipe); stop at
  // the limit instead of trusting the size.
  out.clear();
  char buf[1 << 16];
  size_t n;
  bool tooLarge = false;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (out.size() + n > kMaxSourceBytes) {
      tooLarge = true;
      break;
    }
    out.append(buf, n);
  }
  bool readError = std::ferror(f);
  if (f != stdin)
    std::fclose(f);
  if (tooLarge) {
    errs << path << ": error: file is too large (more than "
         << mib(kMaxSourceBytes) << "); the limit for .attn files is "
         << mib(kMaxSourceBytes) << "\n";
    out.clear();
    return false;
  }
  if (readError) {
    errs << path << ": error: cannot read file\n";
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Front end
//===----------------------------------------------------------------------===//

std::unique_ptr<dsl::ModuleAST>
attnc::parseAttnSource(llvm::StringRef source, llvm::StringRef filename,
                       llvm::raw_ostream &errs) {
  std::string_view src(source.data(), source.size());
  std::string_view name(filename.data(), filename.size());
  dsl::DiagnosticEngine diags(name, src);
  auto module = std::make_unique<dsl::ModuleAST>();
  bool ok = dsl::parseAndAnalyze(src, name, diags, *module);
  std::ostringstream os;
  diags.print(os);
  errs << os.str();
  if (!ok || diags.hasErrors())
    return nullptr;
  return module;
}

dsl::SourceLoc attnc::sourceLocOf(mlir::Location loc, llvm::StringRef source) {
  dsl::SourceLoc out;
  auto fl = loc->findInstanceOf<mlir::FileLineColLoc>();
  if (!fl)
    return out;
  out.line = fl.getLine();
  out.col = fl.getColumn();
  // Byte offset of the 1-based (line, col).
  size_t off = 0;
  for (unsigned l = 1; l < out.line; ++l) {
    size_t nl = source.find('\n', off);
    if (nl == llvm::StringRef::npos) {
      off = source.size();
      break;
    }
    off = nl + 1;
  }
  off += out.col ? out.col - 1 : 0;
  out.offset = static_cast<uint32_t>(std::min(off, source.size()));
  return out;
}

mlir::OwningOpRef<mlir::ModuleOp>
attnc::lowerToAttnIR(mlir::MLIRContext &context, const dsl::ModuleAST &module,
                     llvm::StringRef source, llvm::StringRef kernel,
                     llvm::raw_ostream &errs) {
  if (!kernel.empty() && !module.lookup(kernel.str())) {
    errs << module.filename << ": error: no attention named '" << kernel
         << "' in this file";
    const char *sep = "; it has ";
    for (const dsl::AttentionSpecAST &s : module.specs) {
      errs << sep << "'" << s.name << "'";
      sep = ", ";
    }
    errs << "\n";
    return nullptr;
  }
  // Verifier errors (a front-end bug if they happen) are printed like DSL
  // errors, at the DSL line the op came from.
  std::string_view src(source.data(), source.size());
  dsl::DiagnosticEngine diags(module.filename, src);
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    dsl::SourceLoc loc = sourceLocOf(d.getLocation(), source);
    if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
      diags.error(loc, d.str());
    else if (d.getSeverity() == mlir::DiagnosticSeverity::Warning)
      diags.warning(loc, d.str());
    else
      diags.note(loc, d.str());
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> op = mlir::ModuleOp::create(
      mlir::FileLineColLoc::get(&context, module.filename, 1, 1));
  bool ok = mlir::succeeded(dsl::lowerToAttn(module, *op, kernel)) &&
            mlir::succeeded(mlir::verify(*op));
  std::ostringstream os;
  diags.print(os);
  errs << os.str();
  if (!ok) {
    if (!diags.hasErrors())
      errs << module.filename << ": error: lowering to the attn dialect "
           << "failed\n";
    return nullptr;
  }
  return op;
}

mlir::OwningOpRef<mlir::ModuleOp>
attnc::compileSourceToAttnIR(mlir::MLIRContext &context, llvm::StringRef source,
                             llvm::StringRef filename, llvm::raw_ostream &errs,
                             llvm::StringRef kernel) {
  std::unique_ptr<dsl::ModuleAST> ast = parseAttnSource(source, filename, errs);
  if (!ast)
    return nullptr;
  return lowerToAttnIR(context, *ast, source, kernel, errs);
}

//===----------------------------------------------------------------------===//
// attnc compile
//===----------------------------------------------------------------------===//

/// How the kernel's tile classifier (Spec::maskTile: the where() predicate
/// in the interval arithmetic of attn/Kernel/Interval.h) classifies the
/// tiles of batch 0, head 0; a grid over 2^18 tiles is sampled evenly.
struct WhereTiles {
  int64_t total = 0, all = 0, some = 0;
  std::string how = " (interval classification of batch 0, head 0)";
};
static WhereTiles classifyWhereTiles(mlir::Block &mask, int64_t n, int64_t m,
                                     int64_t blockM, int64_t blockN) {
  namespace iv = ::attn::interval;
  WhereTiles w;
  const int64_t qBlocks = (n + blockM - 1) / blockM;
  const int64_t kBlocks = (m + blockN - 1) / blockN;
  const int64_t kSide = 512; // at most kSide x kSide tiles evaluated
  const int64_t qStep = std::max<int64_t>(1, qBlocks / kSide);
  const int64_t kStep = std::max<int64_t>(1, kBlocks / kSide);
  if (qStep > 1 || kStep > 1)
    w.how = " (interval classification of batch 0, head 0, sampled)";
  for (int64_t qb = 0; qb < qBlocks; qb += qStep)
    for (int64_t kb = 0; kb < kBlocks; kb += kStep) {
      mlir::attn::IndexBox box{
          iv::point(0), iv::point(0),
          iv::span(qb * blockM, std::min(n, (qb + 1) * blockM) - 1),
          iv::span(kb * blockN, std::min(m, (kb + 1) * blockN) - 1)};
      int c = iv::classify(mlir::attn::IndexRanges(mask, box).result());
      ++w.total;
      w.all += c == iv::kTileAll;
      w.some += c == iv::kTileSome;
    }
  return w;
}

/// The IO cost model's report for every tiled op, at the sizes of
/// `reportShape` (the spec's static dims win).
static void printIoReports(mlir::ModuleOp module,
                           const mlir::attn::model::TargetInfo &target,
                           const CompileCommand &command,
                           llvm::raw_ostream &os) {
  module.walk([&](mlir::attn::TiledAttentionOp op) {
    auto dim = [](mlir::Value v, unsigned i, int64_t fallback) {
      int64_t d = llvm::cast<mlir::RankedTensorType>(v.getType()).getDimSize(i);
      return mlir::ShapedType::isDynamic(d) ? fallback : d;
    };
    mlir::attn::model::AttentionProblem p;
    p.batch = dim(op.getQuery(), 0, command.reportShape[0]);
    p.headsQ = dim(op.getQuery(), 1, command.reportShape[1]);
    p.headsKV = dim(op.getKey(), 1, command.reportShape[2]);
    if (p.headsKV > p.headsQ || p.headsQ % p.headsKV != 0)
      p.headsKV = p.headsQ;
    p.seqQ = dim(op.getQuery(), 2, command.reportShape[3]);
    p.seqK = dim(op.getKey(), 2, command.reportShape[4]);
    p.headDim = op.getHeadDim();
    p.headDimV = op.getHeadDimV();
    p.elementBytes = op.getElementType().isF32() ? 4 : 2;
    p.causal = op.getCausal();
    if (op.getWindowLeft())
      p.window = mlir::attn::model::Window{int64_t(*op.getWindowLeft()),
                                           int64_t(*op.getWindowRight())};
    p.dropout = op.getDropout().convertToDouble();
    mlir::attn::TilingAttr t = op.getTiling();
    const mlir::attn::model::KernelFamily *family =
        mlir::attn::model::lookupFamily(t.getFamily().str());
    p.packedGqa = family && family->decode;
    auto func = op->getParentOfType<mlir::func::FuncOp>();
    if (op.hasMaskPredicate()) {
      WhereTiles w = classifyWhereTiles(op.getMask().front(), p.seqQ, p.seqK,
                                        t.getBlockM(), t.getBlockN());
      double visible = w.total ? double(w.all + w.some) / double(w.total) : 1;
      os << "where():       " << (w.all + w.some) << " of " << w.total
         << " tiles visible (" << llvm::format("%.1f", 100 * visible)
         << "%), " << w.all << " with no per-element test" << w.how
         << "\n";
      p.blockDensity *= visible;
    }
    // Tables: their sizes at this problem (a bound symbol takes the
    // problem's size, a free one is unknown). The IO model does not count
    // them yet, so the report says so rather than leave them out silently.
    if (!op.getTables().empty()) {
      const int64_t bound[] = {p.batch, p.headsQ, p.seqQ, p.headsKV, p.seqK};
      os << "tables:       ";
      uint64_t total = 0;
      bool known = true;
      for (mlir::Value t : op.getTables()) {
        auto type = llvm::cast<mlir::RankedTensorType>(t.getType());
        mlir::DenseI64ArrayAttr bind;
        std::string name = "?";
        if (auto arg = llvm::dyn_cast<mlir::BlockArgument>(t); arg && func) {
          bind = func.getArgAttrOfType<mlir::DenseI64ArrayAttr>(
              arg.getArgNumber(), mlir::attn::kTableBindAttrName);
          if (auto n = func.getArgAttrOfType<mlir::StringAttr>(
                  arg.getArgNumber(), mlir::attn::kArgNameAttrName))
            name = n.str();
        }
        uint64_t elements = 1;
        os << " " << name << "[";
        for (int64_t d = 0; d < type.getRank(); ++d) {
          int64_t size = type.getDimSize(d);
          if (mlir::ShapedType::isDynamic(size) && bind &&
              d < int64_t(bind.size()) && bind[d] >= 0 && bind[d] <= 4)
            size = bound[bind[d]];
          os << (d ? ", " : "");
          if (mlir::ShapedType::isDynamic(size)) {
            os << "?";
            known = false;
          } else {
            os << size;
            elements *= uint64_t(size);
          }
        }
        os << "]";
        total += elements *
                 uint64_t(type.getElementType().getIntOrFloatBitWidth() / 8);
      }
      os << "; " << (known ? "" : "at least ") << total
         << " B in all, not counted in the HBM figures below\n";
    }
    os << mlir::attn::model::formatReport(
        func ? func.getSymName() : "attention", target, p,
        mlir::attn::model::TileConfig{int(t.getBlockM()), int(t.getBlockN()),
                                      int(t.getWarps()), int(t.getStages())},
        command.options.tiles.sramBudgetBytes,
        family ? *family : mlir::attn::model::kFwdMmaSync);
  });
}

/// Fuse, tile, emit and (for ptx/cubin) compile `module` as `command` asks,
/// writing the result to `out`.
static mlir::LogicalResult
emitFromIR(mlir::ModuleOp module, const CompileCommand &command,
           const mlir::attn::model::TargetInfo &target,
           llvm::StringRef filename, llvm::StringRef source,
           llvm::raw_ostream &out, llvm::raw_ostream &errs) {
  mlir::OpPrintingFlags flags;
  if (command.printLocations)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  if (command.emit == EmitKind::MLIR) {
    module.print(out, flags);
    return mlir::success();
  }
  PassStage stage =
      command.emit == EmitKind::Fused ? PassStage::Fused : PassStage::Tiled;
  if (mlir::failed(runAttnPasses(module, command.options, target, stage,
                                 filename, source, errs)))
    return mlir::failure();
  if (command.report && stage == PassStage::Tiled)
    printIoReports(module, target, command, errs);
  if (command.emit == EmitKind::Fused || command.emit == EmitKind::Tiled) {
    module.print(out, flags);
    return mlir::success();
  }
  mlir::FailureOr<std::vector<KernelSource>> kernels =
      emitKernels(module, target, filename, errs);
  if (mlir::failed(kernels))
    return mlir::failure();
  // Several attention blocks become one translation unit (one module).
  std::string cuda = joinSources(*kernels);
  if (command.emit == EmitKind::CUDA) {
    out << cuda;
    return mlir::success();
  }
  // Through the kernel cache the runtime uses (attnc/KernelCache.h): a CUBIN
  // is the very entry `attnc run` and the API load for this source and
  // target; PTX is cached under the virtual architecture (compute_90a for
  // sm_90a), whose PTX NVRTC writes identically.
  NvrtcOptions nvrtc;
  nvrtc.arch = command.emit == EmitKind::PTX
                   ? "compute_" + target.name.substr(target.name.find('_') + 1)
                   : target.name;
  nvrtc.warningsAsErrors = command.options.warningsAsErrors;
  nvrtc.programName =
      (kernels->size() == 1 ? kernels->front().info.specName : "attnc") + ".cu";
  // (The global cache is not even constructed without the disk: its
  // constructor creates the directory.)
  std::unique_ptr<KernelCache> memoryOnly;
  if (command.options.noDiskCache)
    memoryOnly =
        std::make_unique<KernelCache>(KernelCacheOptions{"", false, {}});
  KernelCache *cache = memoryOnly ? memoryOnly.get() : &KernelCache::global();
  if (command.options.log)
    cache->setLogHook(
        [log = command.options.log](LogLevel level, const std::string &m) {
          log(level == LogLevel::Warning ? "warning: " + m : m);
        });
  Expected<CacheLookup> compiled = cache->getBinary(cuda, nvrtc);
  if (!compiled) {
    errs << filename << ": error: " << compiled.error().str() << "\n";
    return mlir::failure();
  }
  const CompiledBinary &binary = *compiled->binary;
  if (command.options.log) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f", compiled->ms);
    command.options.log(
        std::string(toString(command.emit)) + " for " + nvrtc.arch + ": " +
        cacheOriginName(compiled->origin) + " in " + ms + " ms (kernel cache " +
        (cache->diskEnabled() ? cache->dir() : std::string("in memory")) + ")");
  }
  // NVRTC's warnings, when this process compiled it (a cached binary was
  // compiled by a build that printed them).
  if (!binary.log.empty() && compiled->origin == CacheOrigin::Compiled &&
      binary.log.find("warning") != std::string::npos)
    errs << binary.log << "\n";
  out.write(binary.image.data(), binary.image.size());
  return mlir::success();
}

void attnc::printReport(const dsl::ModuleAST &module, llvm::raw_ostream &os) {
  for (const dsl::AttentionSpecAST &spec : module.specs) {
    if (!spec.analyzed)
      continue;
    os << "attention " << spec.name << ": "
       << dsl::toString(spec.queryInput().type.elem) << ", head dim "
       << spec.headDim();
    if (spec.headDimV() != spec.headDim())
      os << " (value " << spec.headDimV() << ")";
    os << ", q " << spec.queryInput().type.str() << ", k "
       << spec.keyInput().type.str() << ", v " << spec.valueInput().type.str()
       << "\n  chain:";
    for (const dsl::ChainStep &st : spec.steps) {
      os << ' ' << dsl::toString(st.kind);
      if (st.kind == dsl::ChainStep::Mask)
        os << '(' << dsl::toString(st.mask) << ')';
      if ((st.kind == dsl::ChainStep::QK || st.kind == dsl::ChainStep::Scale) &&
          st.hasScale)
        os << "(scale " << st.scale << ')';
      if (st.kind == dsl::ChainStep::Dropout)
        os << '(' << st.dropout << ')';
      if (st.kind == dsl::ChainStep::Softmax && st.auxInput >= 0)
        os << "(sink: " << spec.inputs[st.auxInput].name << ')';
    }
    os << "\n  returns " << spec.outputName
       << (spec.returnsLogSumExp ? ", logsumexp" : "") << "\n";
  }
}

int attnc::runCompile(const CompileCommand &command, llvm::raw_ostream &errs) {
  const CompileOptions &options = command.options;
  // Without --target: the GPU's own architecture and part, else the default.
  std::string remark;
  Expected<mlir::attn::model::TargetInfo> target =
      resolveTarget(options, &remark, kDefaultTarget);
  if (!target) {
    errs << "error: " << target.error().message() << "\n";
    return 1;
  }
  if (options.log)
    options.log("target " + target->name + " (" + target->part + "): " +
                remark);
  std::string source;
  if (!readSourceFile(command.inputPath, source, errs))
    return 1;
  llvm::StringRef filename = command.inputPath == "-"
                                 ? llvm::StringRef("<stdin>")
                                 : llvm::StringRef(command.inputPath);
  std::unique_ptr<dsl::ModuleAST> ast = parseAttnSource(source, filename, errs);
  if (!ast)
    return 1;
  if (!options.kernel.empty() && !ast->lookup(options.kernel)) {
    errs << filename << ": error: no attention named '" << options.kernel
         << "' in this file\n";
    return 1;
  }

  std::string error;
  auto output = mlir::openOutputFile(command.outputPath, &error);
  if (!output) {
    errs << "error: " << error << "\n";
    return 1;
  }
  if (command.emit == EmitKind::AST) {
    std::ostringstream os;
    if (options.kernel.empty())
      dsl::dumpModule(*ast, os);
    else
      dsl::dumpSpec(*ast->lookup(options.kernel), os);
    output->os() << os.str();
  } else {
    mlir::DialectRegistry registry;
    registerAttncDialects(registry);
    mlir::MLIRContext context(registry);
    mlir::OwningOpRef<mlir::ModuleOp> module =
        lowerToAttnIR(context, *ast, source, options.kernel, errs);
    if (!module)
      return 1;
    if (mlir::failed(emitFromIR(*module, command, *target, filename, source,
                                output->os(), errs)))
      return 1;
    if (command.emit != EmitKind::CUBIN && command.emit != EmitKind::PTX &&
        command.emit != EmitKind::CUDA)
      output->os() << "\n";
  }
  if (command.report)
    printReport(*ast, errs);
  output->keep();
  return 0;
}
