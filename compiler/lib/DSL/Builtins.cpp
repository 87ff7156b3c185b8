//===- Builtins.cpp - the DSL's builtin functions, one table --------------===//
#include "attnc/DSL/Builtins.h"

#include "attn/Kernel/IntMath.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

using namespace attnc::dsl;

namespace {

using Args = const EvalValue *;

EvalValue num(double v) { return EvalValue::ofFloat(v); }
double x0(Args a) { return a[0].asDouble(); }
double x1(Args a) { return a[1].asDouble(); }

EvalValue evalExp(ScalarType, Args a) { return num(std::exp(x0(a))); }
EvalValue evalExp2(ScalarType, Args a) { return num(std::exp2(x0(a))); }
EvalValue evalLog(ScalarType, Args a) { return num(std::log(x0(a))); }
EvalValue evalLog2(ScalarType, Args a) { return num(std::log2(x0(a))); }
EvalValue evalTanh(ScalarType, Args a) { return num(std::tanh(x0(a))); }
EvalValue evalSqrt(ScalarType, Args a) { return num(std::sqrt(x0(a))); }
EvalValue evalRsqrt(ScalarType, Args a) { return num(1.0 / std::sqrt(x0(a))); }
EvalValue evalSigmoid(ScalarType, Args a) {
  return num(1.0 / (1.0 + std::exp(-x0(a))));
}
EvalValue evalFloat(ScalarType, Args a) { return num(x0(a)); }
EvalValue evalPow(ScalarType, Args a) { return num(std::pow(x0(a), x1(a))); }
EvalValue evalAlibiSlope(ScalarType, Args a) {
  // 2^(-8 (h + 1) / H), the slopes of the ALiBi paper for H heads.
  return num(std::exp2(-8.0 * (x0(a) + 1.0) / x1(a)));
}

EvalValue evalSin(ScalarType, Args a) { return num(std::sin(x0(a))); }
EvalValue evalCos(ScalarType, Args a) { return num(std::cos(x0(a))); }
EvalValue evalTan(ScalarType, Args a) { return num(std::tan(x0(a))); }
EvalValue evalAtan(ScalarType, Args a) { return num(std::atan(x0(a))); }
EvalValue evalErf(ScalarType, Args a) { return num(std::erf(x0(a))); }

EvalValue evalAbs(ScalarType r, Args a) {
  if (r == ScalarType::Int)
    return EvalValue::ofInt(a[0].i < 0 ? attn::wrapNeg(a[0].i) : a[0].i);
  return num(std::fabs(x0(a)));
}
template <bool IsMin> EvalValue evalMinMax(ScalarType r, Args a) {
  if (r == ScalarType::Int)
    return EvalValue::ofInt(IsMin ? std::min(a[0].i, a[1].i)
                                  : std::max(a[0].i, a[1].i));
  double x = x0(a), y = x1(a);
  if (std::isnan(x) || std::isnan(y)) // like arith.minimumf/maximumf
    return num(std::numeric_limits<double>::quiet_NaN());
  return num(IsMin ? std::min(x, y) : std::max(x, y));
}
/// clamp(x, lo, hi) = min(max(x, lo), hi), as lowered.
EvalValue evalClamp(ScalarType r, Args a) {
  EvalValue lo[2] = {a[0], a[1]};
  EvalValue m = evalMinMax<false>(r, lo);
  EvalValue hi[2] = {m, a[2]};
  return evalMinMax<true>(r, hi);
}
EvalValue evalDiv(ScalarType, Args a) {
  return EvalValue::ofInt(attn::floorDiv(a[0].i, a[1].i));
}
EvalValue evalChoice(ScalarType r, Args a) {
  const EvalValue &v = a[0].b ? a[1] : a[2];
  return r == ScalarType::Float ? num(v.asDouble()) : v;
}

using T = BuiltinTyping;
constexpr std::array<BuiltinInfo, kNumBuiltins> kBuiltins = {{
    {Builtin::Exp, "exp", 1, T::Float, -1, "exp(x): e^x", evalExp},
    {Builtin::Exp2, "exp2", 1, T::Float, -1, "exp2(x): 2^x", evalExp2},
    {Builtin::Log, "log", 1, T::Float, -1, "log(x): natural logarithm",
     evalLog},
    {Builtin::Log2, "log2", 1, T::Float, -1, "log2(x): base-2 logarithm",
     evalLog2},
    {Builtin::Tanh, "tanh", 1, T::Float, -1, "tanh(x): hyperbolic tangent",
     evalTanh},
    {Builtin::Sqrt, "sqrt", 1, T::Float, -1, "sqrt(x): square root", evalSqrt},
    {Builtin::Rsqrt, "rsqrt", 1, T::Float, -1, "rsqrt(x): 1 / sqrt(x)",
     evalRsqrt},
    {Builtin::Sigmoid, "sigmoid", 1, T::Float, -1,
     "sigmoid(x): 1 / (1 + exp(-x))", evalSigmoid},
    {Builtin::Abs, "abs", 1, T::Numeric, -1, "abs(a): |a|", evalAbs},
    {Builtin::Float, "float", 1, T::Float, -1, "float(a): a as a float",
     evalFloat},
    {Builtin::Min, "min", 2, T::Numeric, -1, "min(a, b): the smaller",
     evalMinMax<true>},
    {Builtin::Max, "max", 2, T::Numeric, -1, "max(a, b): the larger",
     evalMinMax<false>},
    {Builtin::Pow, "pow", 2, T::Float, -1, "pow(x, y): x^y", evalPow},
    {Builtin::Div, "div", 2, T::Int, 1, "div(a, b): floor(a / b)", evalDiv},
    {Builtin::AlibiSlope, "alibi_slope", 2, T::Float, 1,
     "alibi_slope(h, H): 2^(-8 (h + 1) / H)", evalAlibiSlope},
    {Builtin::Sin, "sin", 1, T::Float, -1, "sin(x): sine (radians)", evalSin},
    {Builtin::Cos, "cos", 1, T::Float, -1, "cos(x): cosine (radians)", evalCos},
    {Builtin::Tan, "tan", 1, T::Float, -1, "tan(x): tangent (radians)", evalTan},
    {Builtin::Atan, "atan", 1, T::Float, -1, "atan(x): arc tangent, in (-pi/2, pi/2)",
     evalAtan},
    {Builtin::Erf, "erf", 1, T::Float, -1, "erf(x): the error function", evalErf},
    {Builtin::Select, "select", 3, T::Choice, -1, "select(c, a, b): c ? a : b",
     evalChoice},
    {Builtin::Where, "where", 3, T::Choice, -1, "where(c, a, b): c ? a : b",
     evalChoice},
    {Builtin::Clamp, "clamp", 3, T::Numeric, -1,
     "clamp(x, lo, hi): min(max(x, lo), hi)", evalClamp},
}};

constexpr bool rowsInEnumOrder() {
  for (unsigned i = 0; i < kNumBuiltins; ++i)
    if (static_cast<unsigned>(kBuiltins[i].id) != i ||
        kBuiltins[i].arity > kMaxBuiltinArity)
      return false;
  return true;
}
static_assert(rowsInEnumOrder(), "row i of kBuiltins must be Builtin(i), "
                                 "taking at most kMaxBuiltinArity arguments");
static_assert(kBuiltins.back().id == Builtin::Clamp,
              "the last enumerator needs its row (and kNumBuiltins updated)");

/// Levenshtein distance, for "did you mean" (names are short).
unsigned editDistance(std::string_view a, std::string_view b) {
  std::vector<unsigned> row(b.size() + 1);
  for (unsigned j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (unsigned i = 1; i <= a.size(); ++i) {
    unsigned diag = row[0];
    row[0] = i;
    for (unsigned j = 1; j <= b.size(); ++j) {
      unsigned up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diag + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      diag = up;
    }
  }
  return row[b.size()];
}

} // namespace

const std::array<BuiltinInfo, kNumBuiltins> &attnc::dsl::allBuiltins() {
  return kBuiltins;
}

const BuiltinInfo &attnc::dsl::builtinInfo(Builtin id) {
  return kBuiltins[static_cast<unsigned>(id)];
}

const BuiltinInfo *attnc::dsl::lookupBuiltin(std::string_view name) {
  for (const BuiltinInfo &b : kBuiltins)
    if (name == b.name)
      return &b;
  return nullptr;
}

const BuiltinInfo *attnc::dsl::suggestBuiltin(std::string_view name) {
  if (name.size() > 64)
    return nullptr;
  const BuiltinInfo *best = nullptr;
  unsigned bestDistance = 3; // at most two edits
  for (const BuiltinInfo &b : kBuiltins) {
    unsigned d = editDistance(name, b.name);
    if (d < bestDistance)
      best = &b, bestDistance = d;
  }
  // A typo changes a small part of a name: 'tanhh' is 'tanh', but 'sin' is
  // not 'min'.
  return best && bestDistance * 4 <= name.size() ? best : nullptr;
}

std::string attnc::dsl::builtinNames() {
  std::string s;
  for (const BuiltinInfo &b : kBuiltins)
    s += (s.empty() ? "" : ", ") + std::string(b.name);
  return s;
}
