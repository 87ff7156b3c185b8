//===- CudaEmitter.h - attn.tiled_attention -> CUDA C++ ---------*- C++ -*-===//
//
// Emits one readable CUDA kernel per tiled attention op: a traits block of
// constants, the spec's element-wise code (score modifiers, mask predicates)
// generated from the op's regions, and a call into the hand-written device
// headers in codegen/device/attnc/.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_CUDAEMITTER_H
#define ATTNC_CODEGEN_CUDAEMITTER_H

#include "attnc/Codegen/KernelInfo.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace mlir::attn {
class TiledAttentionOp;
} // namespace mlir::attn

namespace attnc::codegen {

/// Emits the CUDA source of one tiled attention op. `specName` names the
/// kernel (the DSL's attention name). Errors are reported on the op.
mlir::FailureOr<KernelSource> emitCuda(mlir::attn::TiledAttentionOp op,
                                       llvm::StringRef specName,
                                       llvm::StringRef target);

/// Emits every tiled attention op of `module`, in order.
mlir::FailureOr<std::vector<KernelSource>> emitModule(mlir::ModuleOp module,
                                                      llvm::StringRef target);

} // namespace attnc::codegen

#endif // ATTNC_CODEGEN_CUDAEMITTER_H
