//===- Lowering.h - DSL to the unfused attn dialect -------------*- C++ -*-===//
//
// Each analyzed `attention NAME { ... }` becomes `func.func @NAME` whose
// arguments are the block's inputs in declaration order (then the implicit
// dropout `seed` and `offset`, when dropout uses them without declaring
// them) and whose body is the unfused chain:
//
//   attn.matmul transpose_rhs -> attn.scale / attn.score_mod / attn.mask ...
//     -> attn.softmax -> attn.dropout? -> attn.matmul -> func.return %o
//
// `return o, logsumexp` sets the unit attribute `attn.returns_lse` on the
// function; the function still returns only `o` (the unfused chain has no
// log-sum-exp value) and the fusion pass adds the second result. Every op
// carries the FileLineColLoc of the DSL text it came from.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_LOWERING_H
#define ATTNC_DSL_LOWERING_H

#include "attnc/DSL/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include "attn/IR/AttnOps.h"

namespace attnc::dsl {

/// Name of the unit attribute marking a function whose spec returns the
/// log-sum-exp too.
inline constexpr const char *kReturnsLseAttrName = "attn.returns_lse";
/// Name of the argument attribute holding the DSL name of an input (the
/// dialect's, which code generation reads).
inline constexpr const char *kArgNameAttrName = mlir::attn::kArgNameAttrName;

/// Appends one func.func per analyzed spec of `module` to `into` (only the
/// spec named `kernel` when it is not empty). The caller verifies.
mlir::LogicalResult lowerToAttn(const ModuleAST &module, mlir::ModuleOp into,
                                llvm::StringRef kernel = "");

} // namespace attnc::dsl

#endif // ATTNC_DSL_LOWERING_H
