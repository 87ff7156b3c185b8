//===- Sema.h - semantic checks of the attention DSL ------------*- C++ -*-===//
//
// Resolves names, types expressions (Int, Float, Bool), folds constants,
// checks shapes and dtypes, and builds each block's attention chain
// (AttentionSpecAST::steps). Every problem is reported with its location;
// analysis continues after an error so one run reports all of them.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_SEMA_H
#define ATTNC_DSL_SEMA_H

#include "attnc/DSL/AST.h"

namespace attnc::dsl {

/// Analyzes every block of `module`. Returns true when no error was found;
/// blocks without errors have `analyzed` set.
bool analyzeModule(ModuleAST &module, DiagnosticEngine &diags);

/// Parses and analyzes `source` in one call (what the fuzzer and tools use).
/// Returns true on success.
bool parseAndAnalyze(std::string_view source, std::string_view filename,
                     DiagnosticEngine &diags, ModuleAST &out);

} // namespace attnc::dsl

#endif // ATTNC_DSL_SEMA_H
