//===- Interpreter.h - evaluate DSL expressions on the CPU ------*- C++ -*-===//
//
// Evaluates an analyzed spec's score modifiers and masks in double precision,
// for the float64 reference the runtime checks kernels against (and for
// constant folding in Sema). Integers are int64 with the semantics of
// attn/Kernel/IntMath.h (wrapping, x / 0 = 0), floats double.
//
//   reference(b, h, i, j) =
//       evalMask(spec, b, h, i, j, ctx) ? evalScoreMod(spec, dot(Q_i, K_j),
//                                                      b, h, i, j)
//                                       : -inf
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_INTERPRETER_H
#define ATTNC_DSL_INTERPRETER_H

#include "attnc/DSL/AST.h"
#include "attnc/HostTable.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace attnc::dsl {

/// A scalar value: Int, Float or Bool (ScalarType).
struct EvalValue {
  ScalarType type = ScalarType::Float;
  double f = 0.0;
  int64_t i = 0;
  bool b = false;

  static EvalValue ofFloat(double v) {
    return {ScalarType::Float, v, 0, false};
  }
  static EvalValue ofInt(int64_t v) { return {ScalarType::Int, 0.0, v, false}; }
  static EvalValue ofBool(bool v) { return {ScalarType::Bool, 0.0, 0, v}; }
  double asDouble() const {
    return type == ScalarType::Int    ? static_cast<double>(i)
           : type == ScalarType::Bool ? (b ? 1.0 : 0.0)
                                      : f;
  }
};

/// The host copy of one table (attnc/HostTable.h).
using TableValues = attnc::HostTable;
/// A spec's tables, in AttentionSpecAST::tables order.
using Tables = std::vector<TableValues>;

/// The values identifiers take during one evaluation.
struct EvalEnv {
  double score = 0.0;
  int64_t b = 0, h = 0, q = 0, k = 0;
  /// The tables and the spec's table inputs (AttentionSpecAST::tables);
  /// without them a table element is NaN.
  const Tables *tables = nullptr;
  const std::vector<int> *tableInputs = nullptr;
};

/// Evaluates a resolved (Sema-checked) expression. Builtin calls evaluate
/// by their row of Builtins.h; integer arithmetic is attn/Kernel/IntMath.h
/// (wrapping; division or remainder by zero gives 0), as in the kernels.
EvalValue evalExpr(const Expr &e, const EvalEnv &env);

/// Applies every value-changing step between QK and softmax, in order, to
/// the raw dot product `s = Q[b,h,q] . K[b,h/g,k]`: the scale written on the
/// QK line, `scale` steps and score modifiers. With includeScale = false
/// only the score modifiers run (for callers that apply the scale
/// themselves, e.g. when it precedes every modifier).
double evalScoreMod(const AttentionSpecAST &spec, double s, long b, long h,
                    long q, long k, bool includeScale = true,
                    const Tables *tables = nullptr);

/// True when every `where(...)` predicate of the spec allows (b, h, q, k).
bool evalWhere(const AttentionSpecAST &spec, long b, long h, long q, long k,
               const Tables *tables = nullptr);

/// What the non-`where` masks need at run time.
struct MaskContext {
  long n = 0; ///< query sequence length
  long m = 0; ///< key sequence length
  /// Key lengths per batch (for `lengths(...)`), or null.
  const int32_t *kvLengths = nullptr;
  size_t numKvLengths = 0;
  /// layout[h, qb, kb] of `blocks(...)` (h already reduced to the layout's
  /// head count by the caller); unset means "all blocks allowed".
  std::function<int(long h, long qb, long kb)> layoutAt;
  /// The tables where() predicates read, or null.
  const Tables *tables = nullptr;
};

/// The conjunction of all masks of the spec (causal and window aligned at
/// the bottom-right corner, as attn.mask documents).
bool evalMask(const AttentionSpecAST &spec, long b, long h, long q, long k,
              const MaskContext &ctx);

} // namespace attnc::dsl

#endif // ATTNC_DSL_INTERPRETER_H
