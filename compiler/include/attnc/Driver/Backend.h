//===- Backend.h - passes and code generation after the front end -*- C++ -*-===//
//
//   runAttnPasses      unfused attn IR -> fused (-> tiled) attn IR
//   compileSpecToCuda  DSL text -> one CUDA kernel per attention block
//
// Diagnostics of the passes are printed like DSL errors (file:line:col,
// source line, caret), at the DSL line each op came from.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DRIVER_BACKEND_H
#define ATTNC_DRIVER_BACKEND_H

#include "attnc/Codegen/KernelInfo.h"
#include "attnc/DSL/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>
#include <vector>

namespace attnc {

struct BackendOptions {
  std::string target = "sm_90a";
  int64_t sramBudgetBytes = 0; // 0: the target's opt-in maximum
  int64_t blockM = 0, blockN = 0, warps = 0, stages = 0; // 0: chosen
  bool tile = true; // false: stop after fusion
};

/// Fuses (and tiles) every attention chain of `module`. A chain that cannot
/// be fused is an error naming why. Errors go to `errs` in DSL form, using
/// `source` for the source lines.
mlir::LogicalResult runAttnPasses(mlir::ModuleOp module,
                                  const BackendOptions &options,
                                  llvm::StringRef filename,
                                  llvm::StringRef source,
                                  llvm::raw_ostream &errs);

/// The result of compiling a spec: its AST (for the CPU reference's
/// interpreter) and one kernel per attention block, in file order.
struct SpecCompilation {
  std::shared_ptr<dsl::ModuleAST> ast;
  std::vector<KernelSource> kernels;
};

/// Parses, checks, lowers, fuses, tiles and emits CUDA for `source` (only
/// the block `kernel` when not empty). Returns false after printing errors.
bool compileSpecToCuda(llvm::StringRef source, llvm::StringRef filename,
                       llvm::StringRef kernel, const BackendOptions &options,
                       SpecCompilation &out, llvm::raw_ostream &errs);

} // namespace attnc

#endif // ATTNC_DRIVER_BACKEND_H
