//===- Driver.cpp - the one compiler driver -------------------------------===//
#include "attnc/Driver/Driver.h"
#include "attnc/Driver/Pipeline.h"

#include "attn/IR/AttnOps.h"
#include "attn/Transforms/Passes.h"
#include "attn/Transforms/Transforms.h"
#include "attnc/Codegen/CudaEmitter.h"
#include "attnc/CudaDriver.h"
#include "attnc/DSL/Diagnostics.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <sstream>

using namespace attnc;
namespace model = mlir::attn::model;

Expected<model::TargetInfo> attnc::resolveTarget(const CompileOptions &options,
                                                 std::string *remark,
                                                 const char *fallbackArch) {
  auto say = [&](const std::string &s) {
    if (remark)
      *remark = s;
  };
  // The live device, when there is one (never an error by itself: compiling
  // for a named target needs no GPU).
  std::optional<model::TargetInfo> live;
  std::string liveRemark;
  std::optional<Error> liveError;
  if (Expected<model::TargetInfo> t = liveTarget(&liveRemark))
    live = *t;
  else
    liveError = t.takeError();
  if (options.target.empty()) {
    const model::PartInfo *asked =
        options.part.empty() ? nullptr : model::findPart(options.part);
    if (live && (options.part.empty() || (asked && asked->name == live->part))) {
      say(liveRemark);
      return *live;
    }
    // A part alone names its own arch.
    if (asked && (!live || asked->arch != live->name)) {
      std::optional<model::TargetInfo> t = model::lookupPart(options.part);
      if (t) {
        say("figures of " + t->part);
        return *t;
      }
    }
    if (!live && !fallbackArch)
      return std::move(liveError->addContext(
          "no target given and no GPU to take it from"));
    std::string arch = live ? live->name : std::string(fallbackArch);
    CompileOptions named = options;
    named.target = arch;
    return resolveTarget(named, remark, fallbackArch);
  }
  if (!model::lookupTarget(options.target))
    return makeError(ErrorCode::Unsupported,
                     model::unknownTargetMessage(options.target));
  if (options.part.empty()) {
    // The live part when it has this arch: an H200 is modelled as an H200.
    if (live && live->name == options.target) {
      say(liveRemark);
      return *live;
    }
    model::TargetInfo t = *model::lookupTarget(options.target);
    say("figures of " + t.part + " (the default part of " + t.name + ")");
    return t;
  }
  std::optional<model::TargetInfo> t =
      model::lookupTarget(options.target, options.part);
  if (!t)
    return makeError(ErrorCode::Unsupported,
                     model::unknownPartMessage(options.target, options.part));
  say("figures of " + t->part);
  return *t;
}

mlir::LogicalResult attnc::runAttnPasses(mlir::ModuleOp module,
                                         const CompileOptions &options,
                                         const model::TargetInfo &target,
                                         PassStage stage,
                                         llvm::StringRef filename,
                                         llvm::StringRef source,
                                         llvm::raw_ostream &errs) {
  mlir::MLIRContext *context = module.getContext();
  dsl::DiagnosticEngine diags(std::string_view(filename.data(), filename.size()),
                              std::string_view(source.data(), source.size()));
  // Pass diagnostics become DSL diagnostics at the op's source line. The
  // fusion pass explains each chain it leaves as a remark; for a compiler
  // that must produce one kernel, that is an error.
  mlir::ScopedDiagnosticHandler handler(context, [&](mlir::Diagnostic &d) {
    dsl::SourceLoc loc = sourceLocOf(d.getLocation(), source);
    std::string msg = d.str();
    // "'attn.fused_attention' op needs ..." reads better without the op name.
    for (llvm::StringRef prefix :
         {"'attn.fused_attention' op ", "'attn.tiled_attention' op "})
      if (llvm::StringRef(msg).starts_with(prefix))
        msg = msg.substr(prefix.size());
    bool notFused = llvm::StringRef(msg).starts_with("not fused: ");
    if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
      diags.error(loc, msg);
    else if (notFused)
      diags.error(loc, "this attention chain cannot be fused into one "
                       "kernel: " +
                           msg.substr(11));
    else if (d.getSeverity() == mlir::DiagnosticSeverity::Warning)
      diags.warning(loc, msg);
    return mlir::success();
  });

  mlir::PassManager pm(context);
  mlir::attn::AttnFuseAttentionPassOptions fuse;
  fuse.remarks = true;
  pm.addPass(mlir::attn::createAttnFuseAttentionPass(fuse));
  if (stage == PassStage::Tiled) {
    pm.addPass(mlir::attn::createTileAttentionPass(
        mlir::attn::TileOptions{target, options.tiles}));
    // Simplify the regions (folded constants, shared subexpressions) before
    // the emitter sees them, then allow approximations unless asked not to.
    pm.addPass(mlir::createCanonicalizerPass());
    pm.addPass(mlir::createCSEPass());
    if (!options.preciseMath)
      pm.addPass(mlir::attn::createAttnApproximateMathPass());
  }
  bool ok = mlir::succeeded(pm.run(module)) && !diags.hasErrors();
  std::ostringstream os;
  diags.print(os);
  errs << os.str();
  return mlir::success(ok);
}

mlir::FailureOr<std::vector<KernelSource>>
attnc::emitKernels(mlir::ModuleOp module, const model::TargetInfo &target,
                   llvm::StringRef filename, llvm::raw_ostream &errs) {
  std::string text;
  llvm::raw_string_ostream diag(text);
  mlir::FailureOr<std::vector<KernelSource>> kernels;
  {
    mlir::ScopedDiagnosticHandler handler(
        module.getContext(), [&](mlir::Diagnostic &d) {
          diag << filename << ": error: " << d.str() << "\n";
          return mlir::success();
        });
    kernels = codegen::emitModule(module, target.name);
  }
  errs << text;
  if (mlir::failed(kernels))
    return mlir::failure();
  if (kernels->empty()) {
    errs << filename << ": error: no attention to compile\n";
    return mlir::failure();
  }
  return kernels;
}

bool attnc::compileSpec(llvm::StringRef source, llvm::StringRef filename,
                        const CompileOptions &options,
                        const model::TargetInfo &target, SpecCompilation &out,
                        llvm::raw_ostream &errs) {
  mlir::DialectRegistry registry;
  registerAttncDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  std::unique_ptr<dsl::ModuleAST> ast = parseAttnSource(source, filename, errs);
  if (!ast)
    return false;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      lowerToAttnIR(context, *ast, source, options.kernel, errs);
  if (!module)
    return false;
  if (mlir::failed(runAttnPasses(*module, options, target, PassStage::Tiled,
                                 filename, source, errs)))
    return false;
  mlir::FailureOr<std::vector<KernelSource>> kernels =
      emitKernels(*module, target, filename, errs);
  if (mlir::failed(kernels))
    return false;
  out.ast = std::shared_ptr<dsl::ModuleAST>(std::move(ast));
  out.target = target;
  out.kernels = std::move(*kernels);
  return true;
}

std::string attnc::joinSources(const std::vector<KernelSource> &kernels) {
  std::string cuda;
  for (const KernelSource &k : kernels)
    cuda += (cuda.empty() ? "" : "\n") + k.source;
  return cuda;
}
