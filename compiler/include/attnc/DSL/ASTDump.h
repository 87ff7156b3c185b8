//===- ASTDump.h - print the DSL syntax tree --------------------*- C++ -*-===//
//
// `attnc compile --emit=ast` output: each block's inputs, its analyzed chain
// and expressions as s-expressions, with line:col of every step.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_ASTDUMP_H
#define ATTNC_DSL_ASTDUMP_H

#include "attnc/DSL/AST.h"

#include <ostream>

namespace attnc::dsl {

/// Prints `e` as an s-expression: `(* 30.0 (tanh (/ s 30.0)))`.
void dumpExpr(const Expr &e, std::ostream &os);
void dumpSpec(const AttentionSpecAST &spec, std::ostream &os);
void dumpModule(const ModuleAST &module, std::ostream &os);

} // namespace attnc::dsl

#endif // ATTNC_DSL_ASTDUMP_H
