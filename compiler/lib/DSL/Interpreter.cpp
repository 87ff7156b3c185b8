//===- Interpreter.cpp - evaluate DSL expressions on the CPU --------------===//
#include "attnc/DSL/Interpreter.h"
#include "attn/Kernel/Masks.h"
#include "attn/Kernel/Tables.h"

#include <cmath>
#include <limits>

#include "attn/Kernel/IntMath.h"
#include "attnc/DSL/Builtins.h"

using namespace attnc::dsl;

static int64_t toInt(double v) {
  if (!(v == v) || v >= 9.2e18 || v <= -9.2e18)
    return 0;
  return static_cast<int64_t>(v);
}

static EvalValue numeric(bool asInt, int64_t i, double f) {
  return asInt ? EvalValue::ofInt(i) : EvalValue::ofFloat(f);
}

/// A builtin call, by its row of the builtin table.
static EvalValue evalCall(const Expr &e, const EvalEnv &env) {
  if (!e.builtin || e.args.size() != e.builtin->arity)
    return EvalValue::ofFloat(std::numeric_limits<double>::quiet_NaN());
  EvalValue args[kMaxBuiltinArity];
  for (size_t i = 0; i < e.args.size(); ++i)
    args[i] = evalExpr(*e.args[i], env);
  return e.builtin->eval(e.type, args);
}

EvalValue attnc::dsl::evalExpr(const Expr &e, const EvalEnv &env) {
  switch (e.kind) {
  case ExprKind::Number:
    return e.isIntLiteral ? EvalValue::ofInt(toInt(e.number))
                          : EvalValue::ofFloat(e.number);
  case ExprKind::Ident:
    switch (e.ref) {
    case IdentRef::Scores:
      return EvalValue::ofFloat(env.score);
    case IdentRef::IndexB:
      return EvalValue::ofInt(env.b);
    case IdentRef::IndexH:
      return EvalValue::ofInt(env.h);
    case IdentRef::IndexQ:
      return EvalValue::ofInt(env.q);
    case IdentRef::IndexK:
      return EvalValue::ofInt(env.k);
    case IdentRef::Constant:
      return e.type == ScalarType::Int ? EvalValue::ofInt(toInt(e.constValue))
                                       : EvalValue::ofFloat(e.constValue);
    default:
      return EvalValue::ofFloat(std::numeric_limits<double>::quiet_NaN());
    }
  case ExprKind::Unary: {
    EvalValue a = evalExpr(*e.args[0], env);
    switch (e.op) {
    case OpKind::Neg:
      return a.type == ScalarType::Int ? EvalValue::ofInt(attn::wrapNeg(a.i))
                                       : EvalValue::ofFloat(-a.asDouble());
    case OpKind::Not:
      return EvalValue::ofBool(!a.b);
    default:
      return a;
    }
  }
  case ExprKind::Binary: {
    EvalValue a = evalExpr(*e.args[0], env);
    EvalValue b = evalExpr(*e.args[1], env);
    bool ints = a.type == ScalarType::Int && b.type == ScalarType::Int;
    bool bools = a.type == ScalarType::Bool && b.type == ScalarType::Bool;
    double x = a.asDouble(), y = b.asDouble();
    switch (e.op) {
    case OpKind::Add:
      return numeric(ints, attn::wrapAdd(a.i, b.i), x + y);
    case OpKind::Sub:
      return numeric(ints, attn::wrapSub(a.i, b.i), x - y);
    case OpKind::Mul:
      return numeric(ints, attn::wrapMul(a.i, b.i), x * y);
    case OpKind::Div:
      return EvalValue::ofFloat(x / y);
    case OpKind::Mod:
      return EvalValue::ofInt(attn::truncRem(a.i, b.i));
    case OpKind::Lt:
      return EvalValue::ofBool(ints ? a.i < b.i : x < y);
    case OpKind::Le:
      return EvalValue::ofBool(ints ? a.i <= b.i : x <= y);
    case OpKind::Gt:
      return EvalValue::ofBool(ints ? a.i > b.i : x > y);
    case OpKind::Ge:
      return EvalValue::ofBool(ints ? a.i >= b.i : x >= y);
    case OpKind::Eq:
      return EvalValue::ofBool(bools ? a.b == b.b : ints ? a.i == b.i : x == y);
    case OpKind::Ne:
      return EvalValue::ofBool(bools ? a.b != b.b : ints ? a.i != b.i : x != y);
    case OpKind::And:
      return EvalValue::ofBool(a.b && b.b);
    case OpKind::Or:
      return EvalValue::ofBool(a.b || b.b);
    default:
      return a;
    }
  }
  case ExprKind::Ternary:
    return evalExpr(*e.args[0], env).b ? evalExpr(*e.args[1], env)
                                       : evalExpr(*e.args[2], env);
  case ExprKind::Call:
    return evalCall(e, env);
  case ExprKind::Index: {
    const TableValues *t = nullptr;
    if (env.tables && env.tableInputs)
      for (size_t i = 0; i < env.tableInputs->size(); ++i)
        if ((*env.tableInputs)[i] == e.table && i < env.tables->size())
          t = &(*env.tables)[i];
    if (!t || t->dims.size() != e.args.size() || t->data.empty())
      break;
    int64_t offset = 0;
    for (size_t d = 0; d < e.args.size(); ++d) {
      const int64_t n = t->dims[d];
      int64_t i = evalExpr(*e.args[d], env).i;
      i = attnc::tables::clampIndex<int64_t>(i, n); // as in the kernels
      offset = offset * n + i;
    }
    if (offset < 0 || size_t(offset) >= t->data.size())
      break;
    const double v = t->data[size_t(offset)];
    return e.type == ScalarType::Int ? EvalValue::ofInt(toInt(v))
                                     : EvalValue::ofFloat(v);
  }
  case ExprKind::Transpose:
    break;
  }
  return EvalValue::ofFloat(std::numeric_limits<double>::quiet_NaN());
}

double attnc::dsl::evalScoreMod(const AttentionSpecAST &spec, double s, long b,
                                long h, long q, long k, bool includeScale,
                                const Tables *tables) {
  EvalEnv env;
  env.b = b, env.h = h, env.q = q, env.k = k;
  env.tables = tables, env.tableInputs = &spec.tables;
  for (const ChainStep &step : spec.steps) {
    switch (step.kind) {
    case ChainStep::QK:
    case ChainStep::Scale:
      if (includeScale && step.hasScale)
        s *= step.scale;
      break;
    case ChainStep::ScoreMod:
      env.score = s;
      s = evalExpr(*step.expr, env).asDouble();
      break;
    default:
      break;
    }
  }
  return s;
}

bool attnc::dsl::evalWhere(const AttentionSpecAST &spec, long b, long h, long q,
                           long k, const Tables *tables) {
  EvalEnv env;
  env.b = b, env.h = h, env.q = q, env.k = k;
  env.tables = tables, env.tableInputs = &spec.tables;
  for (const ChainStep &step : spec.steps)
    if (step.kind == ChainStep::Mask && step.mask == MaskKind::Where &&
        !evalExpr(*step.expr, env).b)
      return false;
  return true;
}

bool attnc::dsl::evalMask(const AttentionSpecAST &spec, long b, long h, long q,
                          long k, const MaskContext &ctx) {
  long shift = ctx.m - ctx.n; // bottom-right alignment
  for (const ChainStep &step : spec.steps) {
    if (step.kind != ChainStep::Mask)
      continue;
    switch (step.mask) {
    // The built-in masks mean what the kernel contract says
    // (attn/Kernel/Masks.h, compiled by the device code too).
    case MaskKind::Causal:
      if (!attnc::masks::causalAllows(q, k, shift))
        return false;
      break;
    case MaskKind::Window:
      if (!attnc::masks::windowAllows(q, k, shift, step.windowLeft,
                                      step.windowRight))
        return false;
      break;
    case MaskKind::Lengths:
      if (ctx.kvLengths && b >= 0 &&
          static_cast<size_t>(b) < ctx.numKvLengths &&
          !attnc::masks::lengthAllows(k, ctx.kvLengths[b]))
        return false;
      break;
    case MaskKind::Blocks:
      if (ctx.layoutAt && step.blockQ > 0 && step.blockK > 0) {
        long long qb, kb;
        attnc::masks::layoutCell(q, k, step.blockQ, step.blockK, qb, kb);
        if (ctx.layoutAt(h, qb, kb) == 0)
          return false;
      }
      break;
    case MaskKind::Where: {
      EvalEnv env;
      env.b = b, env.h = h, env.q = q, env.k = k;
      env.tables = ctx.tables, env.tableInputs = &spec.tables;
      if (!evalExpr(*step.expr, env).b)
        return false;
      break;
    }
    }
  }
  return true;
}
