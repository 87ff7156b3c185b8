//===- Pipeline.h - attnc compile pipeline ----------------------*- C++ -*-===//
//
// The stages of `attnc compile`, callable from tools and tests:
//
//   readSourceFile   FILE.attn -> text (size-limited, read once)
//   parseAttnSource  text -> checked AST (dsl::ModuleAST)      --emit=ast
//   lowerToAttnIR    AST -> verified unfused attn IR            --emit=mlir
//   runCompile       the `attnc compile` command: these stages, then the
//                    driver (Driver.h) for fused / tiled / cuda, and the
//                    kernel cache (NVRTC) for ptx / cubin
//
// Every error is printed as `file:line:col: error: message` with the source
// line and a caret, to the stream the caller passes.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DRIVER_PIPELINE_H
#define ATTNC_DRIVER_PIPELINE_H

#include "attnc/DSL/AST.h"
#include "attnc/Options.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>

namespace attnc {

/// Largest .attn file accepted (checked before the file is read).
inline constexpr uint64_t kMaxSourceBytes = 16ull << 20; // 16 MiB

/// What `attnc compile --emit=` produces.
enum class EmitKind { AST, MLIR, Fused, Tiled, CUDA, PTX, CUBIN };
std::optional<EmitKind> parseEmitKind(llvm::StringRef name);
llvm::StringRef toString(EmitKind kind);

/// "sm_80, sm_86, ..." for error messages and --help.
std::string knownTargetsList();

/// The `attnc compile` command: what to read, what to write, and the one
/// compile options struct every tool and the API share.
struct CompileCommand {
  std::string inputPath;
  std::string outputPath = "-";
  EmitKind emit = EmitKind::MLIR;
  bool report = false;
  /// Print `loc(...)` of every op (the DSL line:col) with --emit=mlir.
  bool printLocations = false;
  /// Sizes the --report's IO model uses where the spec has symbols:
  /// batch, query heads, key/value heads, query length, key length.
  int64_t reportShape[5] = {1, 16, 16, 4096, 4096};
  CompileOptions options;
};

/// The DSL position (line, col, byte offset into `source`) of an MLIR
/// location made by the lowering; line 0 when it has none.
dsl::SourceLoc sourceLocOf(mlir::Location loc, llvm::StringRef source);

/// Registers the dialects attnc produces (attn, func, arith, math).
void registerAttncDialects(mlir::DialectRegistry &registry);

/// Reads `path` into `out`. Rejects a missing file, a directory and a file
/// larger than kMaxSourceBytes (without reading it). Prints errors to errs.
bool readSourceFile(llvm::StringRef path, std::string &out,
                    llvm::raw_ostream &errs);

/// Parses and checks `source`. Returns null after printing diagnostics.
std::unique_ptr<dsl::ModuleAST> parseAttnSource(llvm::StringRef source,
                                                llvm::StringRef filename,
                                                llvm::raw_ostream &errs);

/// Lowers a checked AST to verified unfused attn IR (only `kernel` when not
/// empty). `source` is used to show source lines in verifier errors.
mlir::OwningOpRef<mlir::ModuleOp> lowerToAttnIR(mlir::MLIRContext &context,
                                                const dsl::ModuleAST &module,
                                                llvm::StringRef source,
                                                llvm::StringRef kernel,
                                                llvm::raw_ostream &errs);

/// Source text -> verified unfused attn IR in one call.
mlir::OwningOpRef<mlir::ModuleOp>
compileSourceToAttnIR(mlir::MLIRContext &context, llvm::StringRef source,
                      llvm::StringRef filename, llvm::raw_ostream &errs,
                      llvm::StringRef kernel = "");

/// The whole `attnc compile` command; returns the process exit code.
int runCompile(const CompileCommand &command, llvm::raw_ostream &errs);

/// One line per spec summarizing its chain (`--report`).
void printReport(const dsl::ModuleAST &module, llvm::raw_ostream &os);

} // namespace attnc

#endif // ATTNC_DRIVER_PIPELINE_H
