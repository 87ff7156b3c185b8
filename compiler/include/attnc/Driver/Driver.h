//===- Driver.h - the one compiler driver ------------------------*- C++ -*-===//
//
// Every way into the compiler (`attnc compile`, `attnc run/bench`, the C++
// API) goes through these functions, with one options struct
// (attnc::CompileOptions):
//
//   resolveTarget   options -> arch + part figures (the live device's where
//                   there is one)
//   runAttnPasses   unfused attn IR -> fused (-> tiled) attn IR
//   emitKernels     tiled attn IR -> one CUDA kernel per attention block
//   compileSpec     DSL text -> checked AST + every kernel (or the one named
//                   by options.kernel)
//
// Diagnostics of the passes are printed like DSL errors (file:line:col,
// source line, caret), at the DSL line each op came from.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DRIVER_DRIVER_H
#define ATTNC_DRIVER_DRIVER_H

#include "attn/Model/Target.h"
#include "attnc/Codegen/KernelInfo.h"
#include "attnc/DSL/AST.h"
#include "attnc/Options.h"
#include "attnc/Status.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>
#include <vector>

namespace attnc {

/// How far the passes go.
enum class PassStage { Fused, Tiled };

/// The target `options` ask for: `options.target` with `options.part`'s
/// figures; an empty target is the live device's (an error without one
/// unless `fallbackArch` is given); an empty part is the live device's when
/// its arch matches, else the arch's default part. `remark` (may be null)
/// says where the figures came from.
Expected<mlir::attn::model::TargetInfo>
resolveTarget(const CompileOptions &options, std::string *remark,
              const char *fallbackArch = nullptr);

/// Fuses (and tiles, for PassStage::Tiled) every attention chain of
/// `module`. A chain that cannot be fused is an error naming why. Errors go
/// to `errs` in DSL form, using `source` for the source lines.
mlir::LogicalResult runAttnPasses(mlir::ModuleOp module,
                                  const CompileOptions &options,
                                  const mlir::attn::model::TargetInfo &target,
                                  PassStage stage, llvm::StringRef filename,
                                  llvm::StringRef source,
                                  llvm::raw_ostream &errs);

/// One kernel per tiled op of `module`, in order; errors to `errs`.
mlir::FailureOr<std::vector<KernelSource>>
emitKernels(mlir::ModuleOp module, const mlir::attn::model::TargetInfo &target,
            llvm::StringRef filename, llvm::raw_ostream &errs);

/// The result of compiling a spec: its AST (for the CPU reference's
/// interpreter), the target and one kernel per attention block, in file
/// order (only `options.kernel` when it is set).
struct SpecCompilation {
  std::shared_ptr<dsl::ModuleAST> ast;
  mlir::attn::model::TargetInfo target;
  std::vector<KernelSource> kernels;
};

/// Parses, checks, lowers, fuses, tiles and emits CUDA for `source`.
/// Returns false after printing errors.
bool compileSpec(llvm::StringRef source, llvm::StringRef filename,
                 const CompileOptions &options,
                 const mlir::attn::model::TargetInfo &target,
                 SpecCompilation &out, llvm::raw_ostream &errs);

/// The CUDA translation unit of several kernels (one module).
std::string joinSources(const std::vector<KernelSource> &kernels);

} // namespace attnc

#endif // ATTNC_DRIVER_DRIVER_H
