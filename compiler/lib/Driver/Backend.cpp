//===- Backend.cpp - passes and code generation after the front end -------===//
#include "attnc/Driver/Backend.h"
#include "attnc/Driver/Pipeline.h"

#include "attn/IR/AttnOps.h"
#include "attn/Transforms/Passes.h"
#include "attnc/Codegen/CudaEmitter.h"
#include "attnc/DSL/Diagnostics.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <sstream>

using namespace attnc;

mlir::LogicalResult attnc::runAttnPasses(mlir::ModuleOp module,
                                         const BackendOptions &options,
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
  if (options.tile) {
    mlir::attn::AttnTileAttentionPassOptions tile;
    tile.target = options.target;
    tile.sramBudgetBytes = options.sramBudgetBytes;
    tile.blockM = options.blockM;
    tile.blockN = options.blockN;
    tile.warps = options.warps;
    tile.stages = options.stages;
    pm.addPass(mlir::attn::createAttnTileAttentionPass(tile));
  }
  bool ok = mlir::succeeded(pm.run(module)) && !diags.hasErrors();
  std::ostringstream os;
  diags.print(os);
  errs << os.str();
  return mlir::success(ok);
}

bool attnc::compileSpecToCuda(llvm::StringRef source, llvm::StringRef filename,
                              llvm::StringRef kernel,
                              const BackendOptions &options,
                              SpecCompilation &out, llvm::raw_ostream &errs) {
  mlir::DialectRegistry registry;
  registerAttncDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  std::unique_ptr<dsl::ModuleAST> ast = parseAttnSource(source, filename, errs);
  if (!ast)
    return false;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      lowerToAttnIR(context, *ast, source, kernel, errs);
  if (!module)
    return false;
  if (mlir::failed(runAttnPasses(*module, options, filename, source, errs)))
    return false;
  mlir::FailureOr<std::vector<KernelSource>> kernels;
  {
    std::string text;
    llvm::raw_string_ostream diag(text);
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      diag << filename << ": error: " << d.str() << "\n";
      return mlir::success();
    });
    kernels = codegen::emitModule(*module, options.target);
    errs << text;
  }
  if (mlir::failed(kernels))
    return false;
  if (kernels->empty()) {
    errs << filename << ": error: no attention to compile\n";
    return false;
  }
  out.ast = std::shared_ptr<dsl::ModuleAST>(std::move(ast));
  out.kernels = std::move(*kernels);
  return true;
}
