//===- Builtins.h - the DSL's builtin functions, one table ------*- C++ -*-===//
//
// Every function an expression may call (`tanh(x)`, `div(a, b)`, ...) is one
// row of one table: its name, arity, typing rule, the argument that is a
// divisor, and its float64/int64 evaluation. Sema types calls from the
// table, the interpreter evaluates them with it, and Lowering switches over
// `Builtin` to emit each one's arith/math ops (a missing case does not
// compile there). Adding a builtin is: an enumerator, a row in Builtins.cpp,
// a lowering case, and a line in docs/dsl.md (a unit test compares the
// table with the docs).
//
// Integer semantics (division by zero, INT64_MIN / -1, wrapping) are those
// of attn/Kernel/IntMath.h, which the generated kernels use too.
//
// Standard C++ only: the fuzzer and the runtime build this without MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_BUILTINS_H
#define ATTNC_DSL_BUILTINS_H

#include "attnc/DSL/Interpreter.h"

#include <array>
#include <string>
#include <string_view>

namespace attnc::dsl {

/// The builtins, in table order.
enum class Builtin : unsigned {
  Exp,
  Exp2,
  Log,
  Log2,
  Tanh,
  Sqrt,
  Rsqrt,
  Sigmoid,
  Abs,
  Float,
  Min,
  Max,
  Pow,
  Div,
  AlibiSlope,
  Sin,
  Cos,
  Tan,
  Atan,
  Erf,
  Select,
  Where,
  Clamp,
};
inline constexpr unsigned kNumBuiltins = 23;
/// The most arguments a builtin takes.
inline constexpr unsigned kMaxBuiltinArity = 3;

/// How a builtin types its arguments and its result.
enum class BuiltinTyping {
  /// Numbers in (integers promoted), a float out: exp(x), pow(x, y).
  Float,
  /// Numbers in; an integer when every argument is one, else a float.
  Numeric,
  /// Integers in, an integer out: div(a, b).
  Int,
  /// (condition, a, b): a and b are both numbers or both conditions; the
  /// result is their common type (a float when one of them is).
  Choice,
};

struct BuiltinInfo {
  Builtin id;
  const char *name;
  unsigned arity;
  BuiltinTyping typing;
  /// The argument that divides (Sema rejects a constant zero there), or -1.
  int divisor;
  /// The call with its arguments and what it computes, as docs/dsl.md and
  /// error messages write it: "div(a, b): floor(a / b)".
  const char *meaning;
  /// Evaluates the call in float64/int64 (the interpreter). `args` hold
  /// `arity` values of the types Sema gave the arguments; `result` is the
  /// call's type.
  EvalValue (*eval)(ScalarType result, const EvalValue *args);
};

/// Every builtin, in the order of `Builtin`.
const std::array<BuiltinInfo, kNumBuiltins> &allBuiltins();

/// The row of `id`.
const BuiltinInfo &builtinInfo(Builtin id);

/// The builtin called `name`, or null.
const BuiltinInfo *lookupBuiltin(std::string_view name);

/// The builtin `name` is a typo of (at most two edits, and at most one per
/// four characters, away), or null.
const BuiltinInfo *suggestBuiltin(std::string_view name);

/// The names, comma-separated, for "expected one of ..." messages.
std::string builtinNames();

} // namespace attnc::dsl

#endif // ATTNC_DSL_BUILTINS_H
