//===- Sema.cpp - semantic checks of the attention DSL --------------------===//
#include "attnc/DSL/Sema.h"

#include "attnc/DSL/Builtins.h"
#include "attnc/DSL/Interpreter.h"
#include "attnc/DSL/Parser.h"
#include "attn/Kernel/Params.h"
#include "attn/Model/KernelFamily.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>

using namespace attnc::dsl;

//===----------------------------------------------------------------------===//
// Names of enums
//===----------------------------------------------------------------------===//

const char *attnc::dsl::toString(ElemType t) {
  switch (t) {
  case ElemType::F16:
    return "f16";
  case ElemType::BF16:
    return "bf16";
  case ElemType::F32:
    return "f32";
  case ElemType::I8:
    return "i8";
  case ElemType::I32:
    return "i32";
  case ElemType::I64:
    return "i64";
  }
  return "?";
}

std::string TypeAST::str() const {
  std::string s = toString(elem);
  if (scalar)
    return s;
  s += '[';
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + dims[i].str();
  return s + ']';
}

const char *attnc::dsl::toString(OpKind op) {
  switch (op) {
  case OpKind::Add:
    return "+";
  case OpKind::Sub:
    return "-";
  case OpKind::Mul:
    return "*";
  case OpKind::Div:
    return "/";
  case OpKind::Mod:
    return "%";
  case OpKind::Lt:
    return "<";
  case OpKind::Le:
    return "<=";
  case OpKind::Gt:
    return ">";
  case OpKind::Ge:
    return ">=";
  case OpKind::Eq:
    return "==";
  case OpKind::Ne:
    return "!=";
  case OpKind::And:
    return "&&";
  case OpKind::Or:
    return "||";
  case OpKind::Neg:
    return "-";
  case OpKind::Not:
    return "!";
  case OpKind::Plus:
    return "+";
  }
  return "?";
}

const char *attnc::dsl::toString(ScalarType t) {
  switch (t) {
  case ScalarType::Unknown:
    return "unknown";
  case ScalarType::Int:
    return "an integer";
  case ScalarType::Float:
    return "a float";
  case ScalarType::Bool:
    return "a condition";
  }
  return "?";
}

const char *attnc::dsl::toString(InputRole r) {
  switch (r) {
  case InputRole::Unused:
    return "unused";
  case InputRole::Query:
    return "query";
  case InputRole::Key:
    return "key";
  case InputRole::Value:
    return "value";
  case InputRole::Lengths:
    return "kv_lengths";
  case InputRole::Layout:
    return "block_layout";
  case InputRole::Seed:
    return "seed";
  case InputRole::Offset:
    return "offset";
  case InputRole::BlockTable:
    return "block_table";
  case InputRole::SeqLens:
    return "seq_lens";
  case InputRole::CuSeqlensQ:
    return "cu_seqlens_q";
  case InputRole::CuSeqlensK:
    return "cu_seqlens_k";
  case InputRole::Sinks:
    return "sinks";
  case InputRole::Table:
    return "table";
  }
  return "?";
}

const char *attnc::dsl::toString(MaskKind k) {
  switch (k) {
  case MaskKind::Causal:
    return "causal";
  case MaskKind::Window:
    return "window";
  case MaskKind::Lengths:
    return "lengths";
  case MaskKind::Blocks:
    return "blocks";
  case MaskKind::Where:
    return "where";
  }
  return "?";
}

const char *attnc::dsl::toString(ChainStep::Kind k) {
  switch (k) {
  case ChainStep::QK:
    return "qk";
  case ChainStep::Scale:
    return "scale";
  case ChainStep::ScoreMod:
    return "score_mod";
  case ChainStep::Mask:
    return "mask";
  case ChainStep::Softmax:
    return "softmax";
  case ChainStep::Dropout:
    return "dropout";
  case ChainStep::PV:
    return "pv";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// Builtins
//===----------------------------------------------------------------------===//

static bool isChainFunction(const std::string &n) {
  return n == "matmul" || n == "softmax" || n == "mask" || n == "dropout" ||
         n == "scale" || n == "paged" || n == "packed";
}
static bool isMaskName(const std::string &n) {
  return n == "causal" || n == "window" || n == "lengths" || n == "blocks";
}
static bool isIndexName(const std::string &n) {
  return n == "b" || n == "h" || n == "q_idx" || n == "k_idx" || n == "kv_idx";
}
static bool isReserved(const std::string &n) {
  return isIndexName(n) || n == "inf" || n == "pi" || n == "logsumexp" ||
         n == "causal";
}

static std::string lineOf(SourceLoc loc) {
  return "line " + std::to_string(loc.line);
}

static bool isNumeric(ScalarType t) {
  return t == ScalarType::Int || t == ScalarType::Float;
}

/// `v` with the fewest digits that read back as `v` (0.99999999, not 1).
static std::string showDouble(double v) {
  std::string s;
  for (int digits = 6; digits <= 17; ++digits) {
    std::ostringstream os;
    os.precision(digits);
    os << v;
    s = os.str();
    if (std::strtod(s.c_str(), nullptr) == v)
      break;
  }
  return s;
}

/// `f` with the fewest digits that read back as `f` as a float.
static std::string showFloat(float f) {
  std::string s;
  for (int digits = 6; digits <= 9; ++digits) {
    std::ostringstream os;
    os.precision(digits);
    os << f;
    s = os.str();
    if (std::strtof(s.c_str(), nullptr) == f)
      break;
  }
  return s;
}

/// The kernels compute scores, the scale and the dropout rate in f32, the
/// interpreter in double. Why `v` (finite) means something else as an f32,
/// or "" when it does not: it overflows to inf or a nonzero value becomes 0.
static std::string f32Problem(double v) {
  float f = static_cast<float>(v);
  if (std::isfinite(v) && !std::isfinite(f))
    return "overflows f32, the kernel's type (the largest f32 is " +
           showFloat(std::numeric_limits<float>::max()) + ")";
  if (v != 0.0 && f == 0.0f)
    return "rounds to 0 in f32, the kernel's type (the smallest positive f32 "
           "is " +
           showFloat(std::numeric_limits<float>::denorm_min()) + ")";
  return "";
}

/// Integer constants are kept as doubles (AttentionSpecAST::constants), so
/// they are exact up to 2^53, the integer literal limit.
constexpr int64_t kMaxExactInt = int64_t(1) << 53;

/// The kernels keep block sizes in an `int`.
constexpr int64_t kMaxKernelInt = std::numeric_limits<int32_t>::max();

//===----------------------------------------------------------------------===//
// Per-block analysis
//===----------------------------------------------------------------------===//

namespace {

enum class Stage { Start, Scores, Probs, Output, Returned };

/// What an expression may refer to.
struct ExprContext {
  bool allowScores = false;
  bool allowIndices = false;
  const char *where = "an expression";
  bool usesScores = false;
  bool usesIndices = false;
};

class SpecAnalyzer {
public:
  SpecAnalyzer(AttentionSpecAST &spec, DiagnosticEngine &diags)
      : spec(spec), diags(diags) {}

  void run();

private:
  void error(SourceLoc loc, std::string msg) {
    diags.error(loc, std::move(msg));
    failed = true;
  }

  void declareInput(StmtAST &stmt);
  void assign(StmtAST &stmt);
  void doReturn(StmtAST &stmt);

  // Chain statements.
  void matmul(StmtAST &stmt, Expr &call, Expr *factor, bool divide,
              bool defaultScale = false);
  void scaleStep(StmtAST &stmt, Expr &base, Expr *factor, bool divide,
                 SourceLoc loc, bool explicitScale);
  void maskStmt(StmtAST &stmt, Expr &call);
  void softmax(StmtAST &stmt, Expr &call);
  void sinkArgument(const Expr &e);
  /// Reports named arguments anywhere but `sink:` of a statement's
  /// softmax(...); false when there was one.
  bool checkNamedArguments(const Expr &e, bool top);
  void dropout(StmtAST &stmt, Expr &call);
  void pagedView(StmtAST &stmt, Expr &call);
  void packedView(StmtAST &stmt, Expr &call);
  /// The declared inputs a view's arguments name (`what` says which each
  /// is, for the error); false after an error.
  template <size_t N>
  bool viewArguments(const Expr &call, const char *const (&what)[N],
                     int (&in)[N]) {
    for (size_t a = 0; a < N; ++a) {
      const Expr &e = *call.args[a];
      in[a] = e.kind == ExprKind::Ident ? lookupInput(e.name) : -1;
      if (in[a] < 0) {
        error(e.loc, std::string(what[a]) + " must be a declared input");
        return false;
      }
      if (spec.inputs[in[a]].invalid) {
        failed = true;
        return false;
      }
    }
    return true;
  }
  void generic(StmtAST &stmt);

  bool isCurrentScores(const Expr &e) const {
    return e.kind == ExprKind::Ident && stage == Stage::Scores &&
           e.name == current;
  }
  bool checkChainOperand(const Expr &e, const char *what, Stage need);
  void bind(StmtAST &stmt, Stage newStage);

  int lookupInput(const std::string &name) const {
    for (size_t i = 0; i < spec.inputs.size(); ++i)
      if (spec.inputs[i].name == name)
        return static_cast<int>(i);
    return -1;
  }
  int inputOperand(const Expr &e, const char *what);
  void setRole(int input, InputRole role) {
    if (input < 0)
      return;
    InputDecl &in = spec.inputs[input];
    // A table (read as x[...]) has no other use: whichever came first.
    if (role != InputRole::Table && indexed.count(in.name) &&
        (in.role == InputRole::Unused || in.role == InputRole::Table)) {
      error(in.loc, "'" + in.name + "' is read as a table (" + in.name +
                        "[...]) and also used as the " + toString(role) +
                        " input; an input has one use");
      return;
    }
    if (in.role == InputRole::Unused)
      in.role = role;
  }
  void checkQueryKey(int q, int k);
  /// For batch mismatches of packed views: what their batch is.
  std::string packedBatchHint(int q) const {
    return packedInputs.count(q)
               ? " (a packed view's batch is its prefix sums' size - 1: "
                 "declare the query's and the key's prefix sums with one "
                 "size, e.g. both i32[b1])"
               : "";
  }
  void checkValue(int v);
  /// The [batch, heads, seq, dim] shape of a chain operand: its declared
  /// type, or for a paged cache or packed tokens the logical shape of its
  /// view.
  const TypeAST &shapeOf(int input) const {
    auto it = logical.find(input);
    return it != logical.end() ? it->second : spec.inputs[input].type;
  }

  ScalarType resolve(Expr &e, ExprContext &ctx);
  ScalarType resolveCall(Expr &e, ExprContext &ctx);
  ScalarType resolveIndex(Expr &e, ExprContext &ctx);
  /// Names read as tables (x[...]) anywhere in the spec's statements.
  void collectIndexed(const Expr &e) {
    if (e.kind == ExprKind::Index)
      indexed.insert(e.name);
    for (const ExprPtr &a : e.args)
      collectIndexed(*a);
  }
  bool checkDivisor(const Expr &d, const std::string &op, const char *meaning);
  bool isConstant(const Expr &e) const;
  bool evalConstant(Expr &e, const char *what, EvalValue &out);
  bool constInt(Expr &e, const char *what, int64_t min, int64_t &out,
                int64_t max = std::numeric_limits<int64_t>::max(),
                const char *maxWhy = nullptr);
  bool positiveFactor(Expr &e, bool divide, double &out);
  bool checkDeviceConstants(const Expr &e);
  void checkFoldedScale();

  AttentionSpecAST &spec;
  DiagnosticEngine &diags;
  bool failed = false;
  Stage stage = Stage::Start;
  std::string current; ///< name of the chain's current value
  std::set<std::string> stale;
  SourceLoc softmaxLoc, outputLoc, dropoutLoc, returnLoc;
  bool hasDropout = false;
  /// Views (`k = paged(cache, table, seq_lens)`, `q = packed(tokens,
  /// cu_seqlens)`): view name -> viewed input, and each viewed input's
  /// logical shape.
  std::map<std::string, int> pagedViews;
  std::map<int, TypeAST> logical;
  std::set<std::string> badViews; ///< views whose paged/packed(...) failed
  std::set<std::string> indexed;  ///< inputs read as tables, x[...]
  SourceLoc pagedLoc, packedLoc;
  /// Packed views: token tensor input -> its cu_seqlens input.
  std::map<int, int> packedInputs;
  std::set<int> badPrefixSums; ///< already reported as too short
};

} // namespace

void SpecAnalyzer::run() {
  for (const StmtAST &stmt : spec.stmts)
    if (stmt.kind == StmtAST::Assign && stmt.value)
      collectIndexed(*stmt.value);
  for (StmtAST &stmt : spec.stmts) {
    if (stage == Stage::Returned) {
      error(stmt.loc,
            "statement after 'return' (at " + lineOf(returnLoc) + ")");
      continue;
    }
    switch (stmt.kind) {
    case StmtAST::Input:
      declareInput(stmt);
      break;
    case StmtAST::Assign:
      assign(stmt);
      break;
    case StmtAST::Return:
      doReturn(stmt);
      break;
    }
  }
  if (!failed && stage != Stage::Returned) {
    const char *missing =
        stage == Stage::Start    ? "the scores: s = matmul(q, k^T)"
        : stage == Stage::Scores ? "softmax: p = softmax(s)"
        : stage == Stage::Probs  ? "the output: o = matmul(p, v)"
                                 : "a return statement: return o";
    error(spec.loc,
          "attention '" + spec.name + "' is incomplete: missing " + missing);
  }
  if (!failed && spec.blockTable >= 0 && !logical.count(spec.key))
    error(pagedLoc, "paged(...) declares a view that the scores do not use: "
                    "write matmul(q, k^T) and matmul(p, v) with the views");
  if (!failed && !packedInputs.empty() &&
      (!packedInputs.count(spec.query) || !packedInputs.count(spec.key) ||
       !packedInputs.count(spec.value)))
    error(packedLoc, "packed(...) declares views the attention does not use "
                     "as its query, key and value: pack all three (q = "
                     "packed(q_tokens, cu_seqlens_q), k and v through "
                     "cu_seqlens_k) and write matmul(q, k^T) and "
                     "matmul(p, v) with them");
  // Tables, in declaration order (the kernel's and RunArgs' order).
  for (size_t i = 0; i < spec.inputs.size(); ++i)
    if (spec.inputs[i].role == InputRole::Table)
      spec.tables.push_back(int(i));
  if (!failed && spec.tables.size() > size_t(attnc::kMaxTables))
    error(spec.inputs[spec.tables[attnc::kMaxTables]].loc,
          "at most " + std::to_string(attnc::kMaxTables) +
              " tables can be read in one attention; '" +
              spec.inputs[spec.tables[attnc::kMaxTables]].name +
              "' is one more");
  // A vector of logits is only ever a sink: one left unused is a forgotten
  // `sink:`, which would silently compute attention without it.
  if (!failed)
    for (const InputDecl &in : spec.inputs)
      if (in.role == InputRole::Unused && isFloat(in.type.elem) &&
          !in.type.scalar && in.type.dims.size() == 1)
        error(in.loc, "input '" + in.name + "' (" + in.type.str() +
                          ") is not used; attention sinks are passed to the "
                          "softmax: p = softmax(s, sink: " + in.name + ")");
  if (!failed)
    checkFoldedScale();
  spec.analyzed = !failed;
}

void SpecAnalyzer::declareInput(StmtAST &stmt) {
  const std::string &n = stmt.name;
  const TypeAST &t = stmt.type;
  if (isReserved(n)) {
    error(stmt.nameLoc, "'" + n +
                            "' is a reserved name (an index or a "
                            "builtin constant); pick another input name");
    return;
  }
  if (int prev = lookupInput(n); prev >= 0) {
    error(stmt.nameLoc, "input '" + n + "' is declared twice (first at " +
                            lineOf(spec.inputs[prev].loc) + ")");
    return;
  }
  if (spec.constants.count(n) || n == current || stale.count(n)) {
    error(stmt.nameLoc, "'" + n + "' is already defined");
    return;
  }
  bool ok = true;
  for (const DimAST &d : t.dims)
    if (!d.isSymbol() && d.value <= 0) {
      error(d.loc, "dimension must be positive, got " + d.str());
      ok = false;
    }
  if (indexed.count(n)) {
    // A table, read as n[...] in a modifier or mask (checked there).
    if (t.scalar || t.dims.empty() || t.dims.size() > 4 ||
        t.elem == ElemType::I64) {
      error(t.loc, "'" + n + "' is read as a table (" + n +
                       "[...]); a table is an f32, bf16, f16, i32 or i8 "
                       "tensor of 1 to 4 dimensions, e.g. '" + n +
                       ": f32[h, 257]'");
      ok = false;
    }
  } else if (isFloat(t.elem) && !t.scalar && t.dims.size() == 1) {
    // A per-head vector (attention sinks), checked where it is used.
    if (t.elem != ElemType::F32) {
      error(t.loc, "a vector input holds per-head logits (softmax(s, sink: " +
                       n + ")) and is f32: write '" + n + ": f32[" +
                       t.dims[0].str() + "]'");
      ok = false;
    }
  } else if (isFloat(t.elem)) {
    if (t.scalar || t.dims.size() < 3 || t.dims.size() > 4) {
      error(t.loc, std::string(t.elem == ElemType::F32 ? "an " : "a ") +
                       toString(t.elem) +
                       " input is a tensor [batch, heads, sequence, "
                       "head_dim] (or packed tokens [total, heads, "
                       "head_dim], an f32[heads] vector of sinks, or a "
                       "table read as x[...]); '" +
                       n + "' has " +
                       std::to_string(t.scalar ? 0 : t.dims.size()) +
                       " dimension(s)");
      ok = false;
    } else {
      const DimAST &d = t.dims.back();
      // The head dims some forward kernel family supports.
      const bool supported =
          !d.isSymbol() && d.value <= std::numeric_limits<int>::max() &&
          mlir::attn::model::forwardHeadDimSupported(int(d.value));
      const std::string dims = mlir::attn::model::forwardHeadDimsText();
      if (d.isSymbol()) {
        error(d.loc, "head dim of '" + n + "' must be a number (" + dims +
                         "), not '" + d.symbol + "'");
        ok = false;
      } else if (!supported && d.value > 0) {
        // Rows of 16-byte chunks: a head dim off the alignment needs the
        // caller's padding (the next multiple is named).
        constexpr int64_t kAlign = attnc::fwd_mma_sync::kHeadDimAlign;
        const int64_t up = (d.value + kAlign - 1) / kAlign * kAlign;
        const bool padHint = d.value % kAlign != 0 &&
                             mlir::attn::model::forwardHeadDimSupported(int(up));
        error(d.loc, "head dim " + d.str() + " of '" + n +
                         "' is not supported; it must be " + dims +
                         (padHint ? " (pad the rows to " + std::to_string(up) +
                                        " with zeros)"
                                  : ""));
        ok = false;
      }
    }
  } else if (t.elem == ElemType::I32) {
    if (t.scalar || t.dims.size() < 1 || t.dims.size() > 2) {
      error(t.loc, "an i32 input holds per-batch lengths ('" + n +
                       ": i32[b]') or a block table ('" + n +
                       ": i32[b, max_pages]')");
      ok = false;
    }
  } else if (t.elem == ElemType::I8) {
    if (t.scalar || t.dims.size() != 3) {
      error(t.loc, "an i8 input is a block layout [heads, query_blocks, "
                   "key_blocks]: write '" +
                       n + ": i8[h, qb, kb]'");
      ok = false;
    }
  } else if (t.elem == ElemType::I64) {
    if (!t.scalar) {
      error(t.loc, "an i64 input is a scalar (a dropout seed or offset): "
                   "write '" +
                       n + ": i64'");
      ok = false;
    }
  }
  InputDecl in;
  in.name = n;
  in.loc = stmt.nameLoc;
  in.type = t;
  // Keep a badly typed input declared (so later uses do not report unknown
  // names), but make it unusable as a chain operand without more errors.
  in.invalid = !ok;
  spec.inputs.push_back(std::move(in));
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

ScalarType SpecAnalyzer::resolve(Expr &e, ExprContext &ctx) {
  switch (e.kind) {
  case ExprKind::Number:
    return e.type = e.isIntLiteral ? ScalarType::Int : ScalarType::Float;
  case ExprKind::Ident: {
    const std::string &n = e.name;
    if (stage == Stage::Scores && n == current) {
      if (!ctx.allowScores) {
        error(e.loc, "the scores '" + n + "' cannot be used in " + ctx.where);
        return ScalarType::Unknown;
      }
      ctx.usesScores = true;
      e.ref = IdentRef::Scores;
      return e.type = ScalarType::Float;
    }
    if (isIndexName(n)) {
      if (!ctx.allowIndices) {
        error(e.loc, "the index '" + n +
                         "' exists only in score modifiers "
                         "and where(...) masks, not in " +
                         ctx.where);
        return ScalarType::Unknown;
      }
      ctx.usesIndices = true;
      e.ref = n == "b"       ? IdentRef::IndexB
              : n == "h"     ? IdentRef::IndexH
              : n == "q_idx" ? IdentRef::IndexQ
                             : IdentRef::IndexK;
      return e.type = ScalarType::Int;
    }
    if (n == "inf" || n == "pi") {
      e.ref = IdentRef::Constant;
      e.constValue = n == "inf" ? std::numeric_limits<double>::infinity()
                                : 3.14159265358979323846;
      return e.type = ScalarType::Float;
    }
    if (auto it = spec.constants.find(n); it != spec.constants.end()) {
      e.ref = IdentRef::Constant;
      e.constValue = it->second.first;
      return e.type = it->second.second ? ScalarType::Int : ScalarType::Float;
    }
    if (lookupInput(n) >= 0) {
      error(e.loc,
            "'" + n +
                "' is an input tensor; it can only be an operand "
                "of matmul, mask(..., lengths/blocks) or dropout, not part "
                "of " +
                ctx.where + " (to read its elements there, index it: " + n +
                "[h, q_idx])");
      return ScalarType::Unknown;
    }
    if (n == current && stage >= Stage::Probs) {
      error(e.loc, "'" + n + "' holds " +
                       (stage == Stage::Probs ? "probabilities (after softmax "
                                                "at " +
                                                    lineOf(softmaxLoc) + ")"
                                              : std::string("the output")) +
                       "; score modifiers and masks apply to the scores "
                       "before softmax");
      return ScalarType::Unknown;
    }
    if (stale.count(n)) {
      error(e.loc, "'" + n +
                       "' is an earlier value of the attention chain; "
                       "use the current one, '" +
                       current + "'");
      return ScalarType::Unknown;
    }
    if (isMaskName(n)) {
      error(e.loc, "'" + n + "' is a mask; use it as mask(s, " + n + ")");
      return ScalarType::Unknown;
    }
    error(e.loc, "unknown identifier '" + n + "'");
    return ScalarType::Unknown;
  }
  case ExprKind::Unary: {
    ScalarType a = resolve(*e.args[0], ctx);
    if (a == ScalarType::Unknown)
      return ScalarType::Unknown;
    if (e.op == OpKind::Not) {
      if (a != ScalarType::Bool) {
        error(e.loc, "'!' needs a condition, got " + std::string(toString(a)));
        return ScalarType::Unknown;
      }
      return e.type = ScalarType::Bool;
    }
    if (!isNumeric(a)) {
      error(e.loc, std::string("'") + toString(e.op) +
                       "' needs a number, got a condition");
      return ScalarType::Unknown;
    }
    return e.type = a;
  }
  case ExprKind::Binary: {
    ScalarType a = resolve(*e.args[0], ctx);
    ScalarType b = resolve(*e.args[1], ctx);
    if (a == ScalarType::Unknown || b == ScalarType::Unknown)
      return ScalarType::Unknown;
    std::string op = std::string("'") + toString(e.op) + "'";
    switch (e.op) {
    case OpKind::And:
    case OpKind::Or:
      if (a != ScalarType::Bool || b != ScalarType::Bool) {
        error(e.loc, op + " needs two conditions, got " + toString(a) +
                         " and " + toString(b));
        return ScalarType::Unknown;
      }
      return e.type = ScalarType::Bool;
    case OpKind::Eq:
    case OpKind::Ne:
      if ((a == ScalarType::Bool) != (b == ScalarType::Bool)) {
        error(e.loc, op + " compares " + toString(a) + " with " + toString(b));
        return ScalarType::Unknown;
      }
      return e.type = ScalarType::Bool;
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge:
      if (!isNumeric(a) || !isNumeric(b)) {
        error(e.loc, op + " needs two numbers, got " + toString(a) + " and " +
                         toString(b));
        return ScalarType::Unknown;
      }
      return e.type = ScalarType::Bool;
    case OpKind::Mod:
      if (a != ScalarType::Int || b != ScalarType::Int) {
        error(e.loc, "'%' needs two integers, got " + std::string(toString(a)) +
                         " and " + toString(b));
        return ScalarType::Unknown;
      }
      if (!checkDivisor(*e.args[1], "'%'", nullptr))
        return ScalarType::Unknown;
      return e.type = ScalarType::Int;
    default:
      if (!isNumeric(a) || !isNumeric(b)) {
        error(e.loc, op + " needs two numbers, got " + toString(a) + " and " +
                         toString(b));
        return ScalarType::Unknown;
      }
      // A constant 0 divisor makes every score infinite or NaN (defined in
      // float, but never what was meant): refused like div and '%'.
      if (e.op == OpKind::Div && !checkDivisor(*e.args[1], "'/'", nullptr))
        return ScalarType::Unknown;
      if (e.op == OpKind::Div)
        return e.type = ScalarType::Float;
      return e.type = (a == ScalarType::Int && b == ScalarType::Int)
                          ? ScalarType::Int
                          : ScalarType::Float;
    }
  }
  case ExprKind::Ternary: {
    ScalarType c = resolve(*e.args[0], ctx);
    ScalarType a = resolve(*e.args[1], ctx);
    ScalarType b = resolve(*e.args[2], ctx);
    if (c == ScalarType::Unknown || a == ScalarType::Unknown ||
        b == ScalarType::Unknown)
      return ScalarType::Unknown;
    if (c != ScalarType::Bool) {
      error(e.args[0]->loc, "the condition of '?:' must be a condition, got " +
                                std::string(toString(c)));
      return ScalarType::Unknown;
    }
    if ((a == ScalarType::Bool) != (b == ScalarType::Bool)) {
      error(e.loc, "the branches of '?:' differ: " + std::string(toString(a)) +
                       " and " + toString(b));
      return ScalarType::Unknown;
    }
    return e.type = a == b ? a : ScalarType::Float;
  }
  case ExprKind::Call:
    return resolveCall(e, ctx);
  case ExprKind::Index:
    return resolveIndex(e, ctx);
  case ExprKind::Transpose:
    error(e.loc, "'^T' is only allowed on the key of matmul(q, k^T)");
    return ScalarType::Unknown;
  }
  return ScalarType::Unknown;
}

/// x[i, ...]: an element of a table input, f32 for float tables and an
/// integer for i32/i8 ones; every index an integer expression (clamped
/// into the table at run time).
ScalarType SpecAnalyzer::resolveIndex(Expr &e, ExprContext &ctx) {
  const std::string &n = e.name;
  if (!ctx.allowIndices) {
    error(e.loc, "a table element '" + n +
                     "[...]' exists only in score modifiers and where(...) "
                     "masks, not in " +
                     ctx.where);
    return ScalarType::Unknown;
  }
  const int i = lookupInput(n);
  if (i < 0) {
    error(e.loc, "'" + n + "' is not a table: tables are declared inputs, "
                 "e.g. 'rel: f32[h, 257]' read as rel[h, ...]");
    return ScalarType::Unknown;
  }
  InputDecl &in = spec.inputs[i];
  if (in.invalid) {
    failed = true;
    return ScalarType::Unknown;
  }
  if (in.role != InputRole::Unused && in.role != InputRole::Table) {
    error(e.loc, "'" + n + "' is the " + toString(in.role) +
                     " input; it cannot also be read as a table");
    return ScalarType::Unknown;
  }
  const TypeAST &t = in.type;
  if (t.dims.size() != e.args.size()) {
    error(e.loc, "'" + n + "' has " + std::to_string(t.dims.size()) +
                     " dimension(s) (" + t.str() + ") but " +
                     std::to_string(e.args.size()) + " index(es)");
    return ScalarType::Unknown;
  }
  bool ok = true;
  for (size_t k = 0; k < e.args.size(); ++k) {
    ScalarType a = resolve(*e.args[k], ctx);
    if (a == ScalarType::Unknown) {
      ok = false;
    } else if (a != ScalarType::Int) {
      error(e.args[k]->loc, "index " + std::to_string(k + 1) + " of '" + n +
                                "' is " +
                                (a == ScalarType::Bool ? "a condition"
                                                       : "a float") +
                                "; indices are integers (b, h, q_idx, k_idx, "
                                "integer constants and arithmetic)");
      ok = false;
    }
  }
  if (!ok)
    return ScalarType::Unknown;
  in.role = InputRole::Table;
  e.table = i;
  ctx.usesIndices = true;
  return e.type = isFloat(t.elem) ? ScalarType::Float : ScalarType::Int;
}

ScalarType SpecAnalyzer::resolveCall(Expr &e, ExprContext &ctx) {
  const std::string &n = e.name;
  if (isChainFunction(n)) {
    error(e.loc, "'" + n +
                     "' is a step of the attention chain; write it as "
                     "a statement of its own (e.g. p = softmax(s))");
    return ScalarType::Unknown;
  }
  if (isMaskName(n)) {
    error(e.loc, "'" + n + "' is a mask; use it inside mask(s, ...)");
    return ScalarType::Unknown;
  }
  const BuiltinInfo *b = lookupBuiltin(n);
  if (!b) {
    if (const BuiltinInfo *typo = suggestBuiltin(n))
      error(e.loc,
            "unknown function '" + n + "'; did you mean '" + typo->name + "'?");
    else
      error(e.loc, "unknown function '" + n + "'; the functions are " +
                       builtinNames());
    return ScalarType::Unknown;
  }
  if (e.args.size() != b->arity) {
    error(e.loc, "'" + n + "' takes " + std::to_string(b->arity) + " argument" +
                     (b->arity == 1 ? "" : "s") + ", got " +
                     std::to_string(e.args.size()) + " (" + b->meaning + ")");
    return ScalarType::Unknown;
  }
  std::vector<ScalarType> t;
  for (ExprPtr &a : e.args)
    t.push_back(resolve(*a, ctx));
  for (ScalarType x : t)
    if (x == ScalarType::Unknown)
      return ScalarType::Unknown;
  ScalarType result = ScalarType::Float;
  switch (b->typing) {
  case BuiltinTyping::Choice:
    if (t[0] != ScalarType::Bool) {
      error(e.args[0]->loc, "the first argument of '" + n +
                                "' must be a condition, got " + toString(t[0]));
      return ScalarType::Unknown;
    }
    if ((t[1] == ScalarType::Bool) != (t[2] == ScalarType::Bool)) {
      error(e.loc, "the branches of '" + n + "' differ: " +
                       std::string(toString(t[1])) + " and " + toString(t[2]));
      return ScalarType::Unknown;
    }
    result = t[1] == t[2] ? t[1] : ScalarType::Float;
    break;
  case BuiltinTyping::Float:
  case BuiltinTyping::Numeric:
  case BuiltinTyping::Int:
    for (size_t i = 0; i < t.size(); ++i) {
      if (!isNumeric(t[i])) {
        error(e.args[i]->loc, "'" + n + "' needs a number, got a condition");
        return ScalarType::Unknown;
      }
      if (b->typing == BuiltinTyping::Int && t[i] != ScalarType::Int) {
        error(e.args[i]->loc, "'" + n + "' needs integers (" + b->meaning +
                                  "), got " + toString(t[i]) +
                                  "; use '/' to divide floats");
        return ScalarType::Unknown;
      }
    }
    bool ints = true;
    for (ScalarType x : t)
      ints &= x == ScalarType::Int;
    result = b->typing == BuiltinTyping::Float ? ScalarType::Float
             : ints                            ? ScalarType::Int
                                               : ScalarType::Float;
    break;
  }
  if (b->divisor >= 0 &&
      !checkDivisor(*e.args[b->divisor], "'" + n + "'", b->meaning))
    return ScalarType::Unknown;
  e.builtin = b;
  return e.type = result;
}

/// Where the text of `e` begins (a binary expression's loc is its operator).
static SourceLoc startLoc(const Expr &e) {
  const Expr *x = &e;
  while ((x->kind == ExprKind::Binary || x->kind == ExprKind::Ternary) &&
         !x->args.empty())
    x = x->args[0].get();
  return x->loc;
}

/// A divisor that is a constant (after folding) must not be 0: the kernel
/// would divide by zero where the interpreter defines the result.
bool SpecAnalyzer::checkDivisor(const Expr &d, const std::string &op,
                                const char *meaning) {
  if (!isConstant(d))
    return true;
  EvalValue v = evalExpr(d, EvalEnv{});
  if (v.type == ScalarType::Int ? v.i != 0 : v.asDouble() != 0.0)
    return true;
  std::string msg = op + " divides by zero: its divisor " +
                    (d.kind == ExprKind::Number ? "is 0" : "evaluates to 0");
  if (meaning)
    msg += std::string(" (") + meaning + ")";
  error(startLoc(d), msg);
  return false;
}

/// A syntactic check: no scores, indices, inputs or chain calls.
bool SpecAnalyzer::isConstant(const Expr &e) const {
  if (e.kind == ExprKind::Ident)
    return e.name == "inf" || e.name == "pi" || spec.constants.count(e.name);
  if (e.kind == ExprKind::Transpose || e.kind == ExprKind::Index)
    return false;
  if (e.kind == ExprKind::Call && !lookupBuiltin(e.name))
    return false;
  for (const ExprPtr &a : e.args)
    if (!isConstant(*a))
      return false;
  return true;
}

bool SpecAnalyzer::evalConstant(Expr &e, const char *what, EvalValue &out) {
  ExprContext ctx;
  ctx.where = what;
  if (resolve(e, ctx) == ScalarType::Unknown)
    return false;
  out = evalExpr(e, EvalEnv{});
  return true;
}

bool SpecAnalyzer::constInt(Expr &e, const char *what, int64_t min,
                            int64_t &out, int64_t max, const char *maxWhy) {
  EvalValue v;
  if (!evalConstant(e, what, v))
    return false;
  if (v.type != ScalarType::Int) {
    error(e.loc,
          std::string(what) + " must be an integer, got " + toString(v.type));
    return false;
  }
  if (v.i < min) {
    error(e.loc, std::string(what) + " must be at least " +
                     std::to_string(min) + ", got " + std::to_string(v.i));
    return false;
  }
  if (v.i > max) {
    error(e.loc, std::string(what) + " must be at most " + std::to_string(max) +
                     (maxWhy ? maxWhy : "") + ", got " + std::to_string(v.i));
    return false;
  }
  out = v.i;
  return true;
}

/// Evaluates the constant factor of `x * c` / `x / c`.
bool SpecAnalyzer::positiveFactor(Expr &e, bool divide, double &out) {
  EvalValue v;
  if (!evalConstant(e, "a scale factor", v))
    return false;
  if (v.type == ScalarType::Bool) {
    error(e.loc, "a scale factor must be a number, got a condition");
    return false;
  }
  double f = v.asDouble();
  if (divide)
    f = 1.0 / f;
  if (!std::isfinite(f) || f <= 0.0) {
    std::ostringstream os;
    os << "scale factor must be finite and positive, got ";
    // NaN's sign is whatever the arithmetic left (sqrt(-1) gives -nan).
    if (std::isnan(f))
      os << "NaN (not a number)";
    else
      os << f;
    error(e.loc, os.str());
    return false;
  }
  if (std::string why = f32Problem(f); !why.empty()) {
    error(e.loc, "scale factor " + showDouble(f) + " " + why);
    return false;
  }
  out = f;
  return true;
}

/// Float constants of a score modifier or mask predicate become f32
/// constants in the kernel: each must mean there what it means in double.
bool SpecAnalyzer::checkDeviceConstants(const Expr &e) {
  bool ok = true;
  for (const ExprPtr &a : e.args)
    ok &= checkDeviceConstants(*a);
  if (e.type != ScalarType::Float)
    return ok;
  double v;
  std::string what;
  if (e.kind == ExprKind::Number) {
    v = e.number;
    what = "the constant " + showDouble(v);
  } else if (e.kind == ExprKind::Ident && e.ref == IdentRef::Constant) {
    v = e.constValue;
    what = "the constant '" + e.name + "' = " + showDouble(v);
  } else {
    return ok;
  }
  if (std::string why = f32Problem(v); !why.empty()) {
    error(e.loc, what + " " + why);
    return false;
  }
  return ok;
}

/// Scales before the first score modifier fold into the kernel's one f32
/// scale (FuseAttention multiplies them); their product must be an f32 too.
void SpecAnalyzer::checkFoldedScale() {
  double folded = 1.0;
  for (const ChainStep &step : spec.steps) {
    if (step.kind == ChainStep::ScoreMod)
      return;
    if ((step.kind != ChainStep::QK && step.kind != ChainStep::Scale) ||
        !step.hasScale)
      continue;
    folded *= step.scale;
    std::string why = !std::isfinite(folded) ? "is not finite"
                      : folded == 0.0        ? "is 0"
                                             : f32Problem(folded);
    if (!why.empty()) {
      error(step.loc, "the scales up to here multiply to " +
                          showDouble(folded) + ", which " + why +
                          "; the kernel applies them as one f32 scale");
      return;
    }
  }
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

void SpecAnalyzer::bind(StmtAST &stmt, Stage newStage) {
  if (!current.empty() && current != stmt.name)
    stale.insert(current);
  stale.erase(stmt.name);
  current = stmt.name;
  stage = newStage;
}

/// The chain's current value as an operand (`s` in mask(s, ...)).
bool SpecAnalyzer::checkChainOperand(const Expr &e, const char *what,
                                     Stage need) {
  if (stage == Stage::Start) {
    error(e.loc, std::string(what) + " before the scores: start with "
                                     "s = matmul(q, k^T)");
    return false;
  }
  if (need == Stage::Scores && stage >= Stage::Probs) {
    error(e.loc, std::string(what) + " after softmax (at " +
                     lineOf(softmaxLoc) +
                     "): masks and score modifiers "
                     "apply to the scores before softmax");
    return false;
  }
  if (need == Stage::Probs && stage == Stage::Scores) {
    error(e.loc, std::string(what) + " applies to probabilities: write it "
                                     "after p = softmax(s)");
    return false;
  }
  if (stage == Stage::Output) {
    error(e.loc, std::string(what) + " after the output matmul (at " +
                     lineOf(outputLoc) + ")");
    return false;
  }
  if (e.kind != ExprKind::Ident || e.name != current) {
    error(e.loc, std::string(what) +
                     " must apply to the current value of "
                     "the chain, '" +
                     current + "'");
    return false;
  }
  return true;
}

void SpecAnalyzer::assign(StmtAST &stmt) {
  const std::string &n = stmt.name;
  if (isReserved(n)) {
    error(stmt.nameLoc, "'" + n +
                            "' is a reserved name (an index or a "
                            "builtin constant)");
    return;
  }
  if (lookupInput(n) >= 0) {
    error(stmt.nameLoc, "cannot assign to the input '" + n + "'");
    return;
  }
  if (spec.constants.count(n)) {
    error(stmt.nameLoc, "constant '" + n + "' is already defined");
    return;
  }
  if (pagedViews.count(n)) {
    error(stmt.nameLoc, "'" + n + "' is already defined as a view");
    return;
  }
  Expr &v = *stmt.value;
  // A bad name inside softmax(...) is reported and the call still
  // analyzed (its 'sink:' alone counts), so the rest of the spec does not
  // fail for a missing softmax.
  if (!checkNamedArguments(v, /*top=*/true) &&
      !(v.kind == ExprKind::Call && v.name == "softmax"))
    return;
  auto isCall = [](const Expr &e, const char *name) {
    return e.kind == ExprKind::Call && e.name == name;
  };
  // `X * c`, `c * X`, `X / c` with X = matmul(...) or the current scores.
  Expr *base = nullptr, *factor = nullptr;
  bool divide = false;
  if (v.kind == ExprKind::Binary &&
      (v.op == OpKind::Mul || v.op == OpKind::Div)) {
    Expr &l = *v.args[0], &r = *v.args[1];
    auto isBase = [&](Expr &e) {
      return isCall(e, "matmul") || isCurrentScores(e);
    };
    if (isBase(l) && isConstant(r))
      base = &l, factor = &r, divide = v.op == OpKind::Div;
    else if (v.op == OpKind::Mul && isBase(r) && isConstant(l))
      base = &r, factor = &l;
    else if (isCall(l, "matmul") ||
             (v.op == OpKind::Mul && isCall(r, "matmul"))) {
      error(v.loc, "the scores of matmul(q, k^T) can only be multiplied by a "
                   "constant on this line; write score modifiers as their "
                   "own statement");
      bind(stmt, Stage::Scores);
      return;
    }
  }
  if (base && isCall(*base, "matmul"))
    return matmul(stmt, *base, factor, divide);
  if (base)
    return scaleStep(stmt, *base, factor, divide, v.loc, false);
  if (isCall(v, "paged"))
    return pagedView(stmt, v);
  if (isCall(v, "packed"))
    return packedView(stmt, v);
  if (isCall(v, "matmul"))
    return matmul(stmt, v, nullptr, false);
  if (isCall(v, "scale")) {
    if (v.args.empty() || v.args.size() > 2) {
      error(v.loc, "'scale' takes the scores and an optional factor: "
                   "scale(s, 0.125) or scale(s) for 1/sqrt(head_dim); got " +
                       std::to_string(v.args.size()) + " arguments");
      return;
    }
    Expr *f = v.args.size() == 2 ? v.args[1].get() : nullptr;
    if (isCall(*v.args[0], "matmul"))
      return matmul(stmt, *v.args[0], f, false, /*defaultScale=*/!f);
    return scaleStep(stmt, *v.args[0], f, false, v.loc, true);
  }
  if (isCall(v, "mask"))
    return maskStmt(stmt, v);
  if (isCall(v, "softmax"))
    return softmax(stmt, v);
  if (isCall(v, "dropout"))
    return dropout(stmt, v);
  generic(stmt);
}

int SpecAnalyzer::inputOperand(const Expr &e, const char *what) {
  if (e.kind != ExprKind::Ident) {
    error(e.loc, std::string(what) + " must be a declared input");
    return -1;
  }
  int i = lookupInput(e.name);
  if (auto view = pagedViews.find(e.name); view != pagedViews.end())
    return view->second;
  if (badViews.count(e.name)) {
    failed = true;
    return -1;
  }
  if (i < 0) {
    if (isIndexName(e.name) || stale.count(e.name) || e.name == current)
      error(e.loc, std::string(what) + " must be a declared input, not '" +
                       e.name + "'");
    else
      error(e.loc, "unknown identifier '" + e.name + "'");
    return -1;
  }
  const TypeAST &t = spec.inputs[i].type;
  if (spec.inputs[i].invalid) {
    failed = true;
    return -1;
  }
  if (indexed.count(e.name)) {
    error(e.loc, "'" + e.name + "' is read as a table (" + e.name +
                     "[...]); it cannot also be " + what);
    return -1;
  }
  if (isFloat(t.elem) && t.dims.size() == 3) {
    error(e.loc, "'" + e.name + "' is packed tokens " + t.str() +
                     "; read it through a view: declare x = packed(" +
                     e.name + ", cu_seqlens) and use x");
    return -1;
  }
  if (!isFloat(t.elem) || t.dims.size() != 4) {
    error(e.loc, "'" + e.name + "' is not an attention tensor (" + t.str() +
                     "); " + what + " must be f16, bf16 or f32 with 4 dims");
    return -1;
  }
  return i;
}

void SpecAnalyzer::checkQueryKey(int q, int k) {
  const InputDecl &Q = spec.inputs[q], &K = spec.inputs[k];
  const TypeAST &Qt = shapeOf(q), &Kt = shapeOf(k);
  if (Qt.elem != Kt.elem)
    error(Kt.loc, "key '" + K.name + "' is " + toString(Kt.elem) +
                          " but query '" + Q.name + "' is " +
                          toString(Qt.elem) +
                          "; query, key and value need one dtype");
  if (!Qt.dims[0].sameAs(Kt.dims[0]))
    error(Kt.dims[0].loc, "batch dimension of key '" + K.name + "' is '" +
                                  Kt.dims[0].str() + "' but query '" +
                                  Q.name + "' has '" + Qt.dims[0].str() +
                                  "'" + packedBatchHint(q));
  const DimAST &hq = Qt.dims[1], &hk = Kt.dims[1];
  if (!hq.isSymbol() && !hk.isSymbol() && hq.value % hk.value != 0)
    error(hk.loc, "query '" + Q.name + "' has " + hq.str() +
                      " heads, not a multiple of the " + hk.str() +
                      " heads of key '" + K.name +
                      "' (grouped-query attention needs hq % hk == 0)");
  if (Qt.dims[3].value != Kt.dims[3].value)
    error(Kt.dims[3].loc, "head dim of key '" + K.name + "' (" +
                                  Kt.dims[3].str() +
                                  ") differs from query '" + Q.name + "' (" +
                                  Qt.dims[3].str() + ")");
}

void SpecAnalyzer::checkValue(int v) {
  const InputDecl &V = spec.inputs[v];
  if (spec.query < 0 || spec.key < 0)
    return;
  const InputDecl &Q = spec.queryInput(), &K = spec.keyInput();
  const TypeAST &Vt = shapeOf(v), &Qt = shapeOf(spec.query),
                &Kt = shapeOf(spec.key);
  if (Vt.elem != Qt.elem)
    error(Vt.loc, "value '" + V.name + "' is " + toString(Vt.elem) +
                          " but query '" + Q.name + "' is " +
                          toString(Qt.elem) +
                          "; query, key and value need one dtype");
  if (!Vt.dims[0].sameAs(Qt.dims[0]))
    error(Vt.dims[0].loc, "batch dimension of value '" + V.name + "' is '" +
                                  Vt.dims[0].str() + "' but query '" +
                                  Q.name + "' has '" + Qt.dims[0].str() +
                                  "'" + packedBatchHint(spec.query));
  if (!Vt.dims[1].sameAs(Kt.dims[1]))
    error(Vt.dims[1].loc, "value '" + V.name + "' has '" +
                                  Vt.dims[1].str() + "' heads but key '" +
                                  K.name + "' has '" + Kt.dims[1].str() +
                                  "'");
  if (!Vt.dims[2].sameAs(Kt.dims[2]))
    error(Vt.dims[2].loc, "sequence length of value '" + V.name + "' is '" +
                                  Vt.dims[2].str() + "' but key '" +
                                  K.name + "' has '" + Kt.dims[2].str() +
                                  "'");
}

/// `k = paged(k_cache, block_table, seq_lens)`: a view of a K/V cache
/// [pages, page_size, heads, dim] as the [batch, heads, seq, dim] operand of
/// a matmul (attn.paged_kv). Every view of a spec shares one table and one
/// seq_lens.
void SpecAnalyzer::pagedView(StmtAST &stmt, Expr &call) {
  const std::string &n = stmt.name;
  // Until it succeeds, uses of the view are not reported again.
  badViews.insert(n);
  if (stage != Stage::Start) {
    error(call.loc, "paged(...) declares a key/value view: write it before "
                    "the scores (s = matmul(q, k^T))");
    return;
  }
  if (call.args.size() != 3) {
    error(call.loc, "'paged' takes 3 arguments: paged(cache, block_table, "
                    "seq_lens), got " +
                        std::to_string(call.args.size()));
    failed = true;
    return;
  }
  int in[3];
  const char *what[3] = {"the cache of paged(...)",
                         "the block table of paged(...)",
                         "the sequence lengths of paged(...)"};
  if (!viewArguments(call, what, in))
    return;
  const InputDecl &cache = spec.inputs[in[0]], &table = spec.inputs[in[1]],
                  &lens = spec.inputs[in[2]];
  const TypeAST &ct = cache.type;
  if (!isFloat(ct.elem) || ct.dims.size() != 4) {
    error(call.args[0]->loc, "the cache '" + cache.name +
                                 "' must be an f16, bf16 or f32 tensor "
                                 "[pages, page_size, heads, head_dim], not " +
                                 ct.str());
    return;
  }
  const DimAST &page = ct.dims[1];
  if (page.isSymbol() || page.value < 1 || page.value > attnc::kMaxPageSize) {
    error(page.loc, "the page size of '" + cache.name +
                        "' (dimension 1) must be a number from 1 to " +
                        std::to_string(attnc::kMaxPageSize) + ", not '" +
                        page.str() + "'");
    return;
  }
  if (table.type.elem != ElemType::I32 || table.type.dims.size() != 2) {
    error(call.args[1]->loc, "the block table '" + table.name +
                                 "' must be i32[b, max_pages], not " +
                                 table.type.str());
    return;
  }
  if (lens.type.elem != ElemType::I32 || lens.type.dims.size() != 1) {
    error(call.args[2]->loc, "the sequence lengths '" + lens.name +
                                 "' must be i32[b], not " + lens.type.str());
    return;
  }
  if (!lens.type.dims[0].sameAs(table.type.dims[0])) {
    error(lens.type.dims[0].loc,
          "sequence lengths '" + lens.name + "' has '" +
              lens.type.dims[0].str() + "' entries but block table '" +
              table.name + "' has '" + table.type.dims[0].str() + "' rows");
    return;
  }
  if (!packedInputs.empty()) {
    error(call.loc, "packed sequences with a paged K/V cache are not "
                    "supported yet (packed(...) at " +
                        lineOf(packedLoc) + ")");
    return;
  }
  if (spec.blockTable >= 0 &&
      (spec.blockTable != in[1] || spec.seqLens != in[2])) {
    error(call.loc, "every paged(...) view of a spec uses one block table and "
                    "one seq_lens (the first is at " +
                        lineOf(pagedLoc) + ")");
    return;
  }
  if (logical.count(in[0])) {
    error(call.args[0]->loc,
          "the cache '" + cache.name + "' already has a paged view");
    return;
  }
  spec.blockTable = in[1];
  spec.seqLens = in[2];
  pagedLoc = call.loc;
  setRole(in[1], InputRole::BlockTable);
  setRole(in[2], InputRole::SeqLens);
  // The view's shape: [batch of the table, heads, keys (per sequence), dim].
  TypeAST view = ct;
  DimAST seq;
  seq.symbol = lens.name;
  seq.loc = call.loc;
  view.dims = {table.type.dims[0], ct.dims[2], seq, ct.dims[3]};
  logical[in[0]] = view;
  pagedViews[n] = in[0];
  badViews.erase(n);
}

/// `q = packed(q_tokens, cu_seqlens)`: variable-length sequences stored one
/// after another, tokens [total, heads, dim] and int32 prefix sums
/// [batch + 1], as the [batch, heads, seq, dim] operand of a matmul
/// (attn.packed_seq). The query, key and value are all packed or none.
void SpecAnalyzer::packedView(StmtAST &stmt, Expr &call) {
  const std::string &n = stmt.name;
  badViews.insert(n);
  if (stage != Stage::Start) {
    error(call.loc, "packed(...) declares a query/key/value view: write it "
                    "before the scores (s = matmul(q, k^T))");
    return;
  }
  if (call.args.size() != 2) {
    error(call.loc, "'packed' takes 2 arguments: packed(tokens, cu_seqlens), "
                    "got " +
                        std::to_string(call.args.size()));
    failed = true;
    return;
  }
  int in[2];
  const char *what[2] = {"the tokens of packed(...)",
                         "the prefix sums of packed(...)"};
  if (!viewArguments(call, what, in))
    return;
  const InputDecl &tokens = spec.inputs[in[0]], &cu = spec.inputs[in[1]];
  const TypeAST &tt = tokens.type;
  if (!isFloat(tt.elem) || tt.dims.size() != 3) {
    error(call.args[0]->loc, "the tokens '" + tokens.name +
                                 "' must be an f16, bf16 or f32 tensor "
                                 "[total, heads, head_dim], not " +
                                 tt.str());
    return;
  }
  if (cu.type.elem != ElemType::I32 || cu.type.dims.size() != 1) {
    error(call.args[1]->loc, "the prefix sums '" + cu.name +
                                 "' must be i32[b1] (batch + 1 entries: "
                                 "cu_seqlens[0] = 0, cu_seqlens[b + 1] - "
                                 "cu_seqlens[b] = the length of sequence b), "
                                 "not " +
                                 cu.type.str());
    return;
  }
  const DimAST &cd = cu.type.dims[0];
  if (!cd.isSymbol() && cd.value < 2) {
    if (badPrefixSums.insert(in[1]).second) // once, not per view
      error(cd.loc, "the prefix sums '" + cu.name +
                        "' need batch + 1 >= 2 entries, not " + cd.str());
    failed = true;
    return;
  }
  if (spec.blockTable >= 0) {
    error(call.loc, "packed sequences with a paged K/V cache are not "
                    "supported yet (paged(...) at " +
                        lineOf(pagedLoc) + ")");
    return;
  }
  if (logical.count(in[0])) {
    error(call.args[0]->loc,
          "the tokens '" + tokens.name + "' already have a view");
    return;
  }
  packedLoc = call.loc;
  // The view's shape: [batch = entries - 1, heads, rows (per sequence), dim].
  TypeAST view = tt;
  DimAST batch = cd, seq;
  if (batch.isSymbol())
    batch.symbol += "-1";
  else
    batch.value -= 1;
  seq.symbol = cu.name;
  seq.loc = call.loc;
  view.dims = {batch, tt.dims[1], seq, tt.dims[2]};
  logical[in[0]] = view;
  packedInputs[in[0]] = in[1];
  pagedViews[n] = in[0];
  badViews.erase(n);
}

void SpecAnalyzer::matmul(StmtAST &stmt, Expr &call, Expr *factor, bool divide,
                          bool defaultScale) {
  if (call.args.size() != 2) {
    error(call.loc, "'matmul' takes 2 arguments (matmul(q, k^T) or "
                    "matmul(p, v)), got " +
                        std::to_string(call.args.size()));
    bind(stmt, stage == Stage::Start ? Stage::Scores : Stage::Output);
    return;
  }
  Expr &lhs = *call.args[0], &rhs = *call.args[1];
  if (stage == Stage::Start) {
    ChainStep step;
    step.kind = ChainStep::QK;
    step.loc = call.loc;
    step.result = stmt.name;
    bool ok = true;
    int q = inputOperand(lhs, "the query of matmul(q, k^T)");
    int k = -1;
    if (rhs.kind != ExprKind::Transpose) {
      error(rhs.loc,
            "the first matmul computes the scores from the "
            "transposed key: write matmul(" +
                (lhs.kind == ExprKind::Ident ? lhs.name : std::string("q")) +
                ", " +
                (rhs.kind == ExprKind::Ident ? rhs.name : std::string("k")) +
                "^T)");
      ok = false;
    } else {
      k = inputOperand(*rhs.args[0], "the key of matmul(q, k^T)");
    }
    if (factor && !positiveFactor(*factor, divide, step.scale))
      ok = false;
    step.hasScale = factor != nullptr;
    if (q >= 0 && k >= 0 && ok) {
      // A packed/unpacked mismatch first: the shapes of the two cannot be
      // compared (one batch is derived from prefix sums).
      if (logical.count(q) && !packedInputs.count(q))
        error(lhs.loc, "the query cannot be a paged view");
      else if (packedInputs.count(q) != packedInputs.count(k))
        error(packedInputs.count(q) ? rhs.args[0]->loc : lhs.loc,
              packedInputs.count(q)
                  ? "the query is packed but the key is not: declare k = "
                    "packed(k_tokens, cu_seqlens_k) (packed queries need "
                    "packed keys and values)"
                  : "the key is packed but the query is not: declare q = "
                    "packed(q_tokens, cu_seqlens_q) (packed keys need "
                    "packed queries)");
      else
        checkQueryKey(q, k);
      if (defaultScale) {
        // scale(matmul(q, k^T)): 1 / sqrt(head_dim)
        step.hasScale = true;
        step.scale =
            1.0 / std::sqrt(static_cast<double>(shapeOf(q).dims[3].value));
      }
      spec.query = q, spec.key = k;
      if (packedInputs.count(q) && packedInputs.count(k)) {
        spec.cuSeqlensQ = packedInputs[q];
        spec.cuSeqlensK = packedInputs[k];
        setRole(spec.cuSeqlensQ, InputRole::CuSeqlensQ);
        setRole(spec.cuSeqlensK, InputRole::CuSeqlensK);
      }
      setRole(q, InputRole::Query);
      setRole(k, InputRole::Key);
      step.lhsInput = q, step.rhsInput = k;
      spec.steps.push_back(step);
    } else {
      failed = true;
    }
    bind(stmt, Stage::Scores);
    return;
  }
  if (stage == Stage::Scores) {
    error(call.loc, "matmul(p, v) needs probabilities: apply p = softmax(" +
                        current + ") first");
    bind(stmt, Stage::Output);
    outputLoc = call.loc;
    spec.outputName = stmt.name;
    return;
  }
  if (stage == Stage::Output) {
    error(call.loc, "the attention already has its output '" + spec.outputName +
                        "' (at " + lineOf(outputLoc) + ")");
    return;
  }
  // Stage::Probs: o = matmul(p, v).
  bool ok = checkChainOperand(lhs, "the output matmul", Stage::Probs);
  if (factor) {
    error(factor->loc, "the output matmul(p, v) cannot be scaled");
    ok = false;
  }
  int v = -1;
  if (rhs.kind == ExprKind::Transpose) {
    error(rhs.loc, "the value is not transposed: write matmul(p, v)");
    ok = false;
  } else {
    v = inputOperand(rhs, "the value of matmul(p, v)");
  }
  if (ok && v >= 0 && spec.key >= 0 &&
      packedInputs.count(spec.key) != packedInputs.count(v)) {
    error(rhs.loc, packedInputs.count(v)
                       ? "the value is packed but the key is not: pack both "
                         "or neither"
                       : "the key is packed but the value '" + rhs.name +
                             "' is not: declare the value as tokens "
                             "[total, heads, head_dim], read it through "
                             "v = packed(v_tokens, " +
                             spec.inputs[packedInputs.at(spec.key)].name +
                             ") and write matmul(p, v)");
    ok = false;
  } else if (ok && v >= 0 && spec.key >= 0 &&
      logical.count(spec.key) != logical.count(v)) {
    error(rhs.loc, logical.count(v)
                       ? "the value is a paged view but the key is not: page "
                         "both or neither"
                       : "the key is a paged view but the value '" + rhs.name +
                             "' is not: declare v = paged(" + rhs.name + ", " +
                             spec.inputs[spec.blockTable].name + ", " +
                             spec.inputs[spec.seqLens].name +
                             ") and write matmul(p, v)");
    ok = false;
  }
  if (ok && v >= 0) {
    checkValue(v);
    spec.value = v;
    setRole(v, InputRole::Value);
    ChainStep step;
    step.kind = ChainStep::PV;
    step.loc = call.loc;
    step.result = stmt.name;
    step.lhsInput = -1;
    step.rhsInput = v;
    spec.steps.push_back(step);
  } else {
    failed = true;
  }
  outputLoc = call.loc;
  spec.outputName = stmt.name;
  bind(stmt, Stage::Output);
}

void SpecAnalyzer::scaleStep(StmtAST &stmt, Expr &base, Expr *factor,
                             bool divide, SourceLoc loc, bool explicitScale) {
  if (!checkChainOperand(base, "scale", Stage::Scores)) {
    failed = true;
    return;
  }
  ChainStep step;
  step.kind = ChainStep::Scale;
  step.loc = loc;
  step.result = stmt.name;
  step.hasScale = true;
  if (factor) {
    // `s * c` with c <= 0 is a score modifier, not a scale: only scale(s, c)
    // insists on a positive factor.
    if (!explicitScale) {
      EvalValue v;
      ExprContext ctx;
      ctx.where = "a scale factor";
      if (resolve(*factor, ctx) == ScalarType::Unknown)
        return;
      v = evalExpr(*factor, EvalEnv{});
      double f = v.asDouble();
      if (divide)
        f = 1.0 / f;
      if (v.type == ScalarType::Bool || !std::isfinite(f) || f <= 0.0)
        return generic(stmt);
    }
    if (!positiveFactor(*factor, divide, step.scale))
      return;
  } else {
    if (spec.query < 0)
      return;
    step.scale = 1.0 / std::sqrt(
                           static_cast<double>(shapeOf(spec.query).dims[3].value));
  }
  spec.steps.push_back(step);
  bind(stmt, Stage::Scores);
}

void SpecAnalyzer::maskStmt(StmtAST &stmt, Expr &call) {
  if (call.args.size() < 2) {
    error(call.loc, "'mask' takes the scores and at least one mask, e.g. "
                    "mask(s, causal)");
    return;
  }
  if (!checkChainOperand(*call.args[0], "mask", Stage::Scores)) {
    failed = true;
    return;
  }
  for (size_t i = 1; i < call.args.size(); ++i) {
    Expr &m = *call.args[i];
    ChainStep step;
    step.kind = ChainStep::Mask;
    step.loc = m.loc;
    step.result = stmt.name;
    const std::string &n = m.name;
    auto arity = [&](size_t lo, size_t hi, const char *usage) {
      if (m.args.size() >= lo && m.args.size() <= hi)
        return true;
      error(m.loc,
            "'" + n + "' takes " +
                (lo == hi ? std::to_string(lo)
                          : std::to_string(lo) + " or " + std::to_string(hi)) +
                " argument" + (hi == 1 ? "" : "s") + ": " + usage + "; got " +
                std::to_string(m.args.size()));
      return false;
    };
    if (m.kind == ExprKind::Ident && n == "causal") {
      step.mask = MaskKind::Causal;
    } else if (m.kind == ExprKind::Call && n == "window") {
      step.mask = MaskKind::Window;
      if (!arity(2, 2, "window(left, right)") ||
          !constInt(*m.args[0], "the left window size", 0, step.windowLeft) ||
          !constInt(*m.args[1], "the right window size", 0, step.windowRight))
        continue;
    } else if (m.kind == ExprKind::Call && n == "lengths") {
      step.mask = MaskKind::Lengths;
      if (!arity(1, 1, "lengths(kv_len)"))
        continue;
      Expr &a = *m.args[0];
      int in = a.kind == ExprKind::Ident ? lookupInput(a.name) : -1;
      if (in >= 0 && spec.inputs[in].invalid)
        continue;
      if (in < 0 || spec.inputs[in].type.elem != ElemType::I32 ||
          spec.inputs[in].type.dims.size() != 1) {
        error(a.loc, "lengths(...) needs a declared input of type i32[b] "
                     "holding the key length of each batch");
        continue;
      }
      const DimAST &d = spec.inputs[in].type.dims[0];
      if (spec.packed()) {
        error(m.loc, "lengths(...) with packed sequences: every sequence "
                     "already has exactly its own keys (cu_seqlens_k); drop "
                     "the mask");
        continue;
      }
      if (spec.query >= 0 && !d.sameAs(shapeOf(spec.query).dims[0]))
        error(d.loc, "key lengths '" + a.name + "' has '" + d.str() +
                         "' entries but the batch of query '" +
                         spec.queryInput().name + "' is '" +
                         shapeOf(spec.query).dims[0].str() + "'");
      step.auxInput = in;
      setRole(in, InputRole::Lengths);
    } else if (m.kind == ExprKind::Call && n == "blocks") {
      step.mask = MaskKind::Blocks;
      if (!arity(2, 3, "blocks(layout, block_q, block_k)"))
        continue;
      Expr &a = *m.args[0];
      int in = a.kind == ExprKind::Ident ? lookupInput(a.name) : -1;
      if (in >= 0 && spec.inputs[in].invalid)
        continue;
      if (in < 0 || spec.inputs[in].type.elem != ElemType::I8 ||
          spec.inputs[in].type.dims.size() != 3) {
        error(a.loc, "blocks(...) needs a declared input of type "
                     "i8[heads, query_blocks, key_blocks] (the block layout)");
        continue;
      }
      const char *intWhy = " (the kernel keeps it in an int)";
      if (!constInt(*m.args[1], "the query block size", 1, step.blockQ,
                    kMaxKernelInt, intWhy))
        continue;
      if (m.args.size() == 3) {
        if (!constInt(*m.args[2], "the key block size", 1, step.blockK,
                      kMaxKernelInt, intWhy))
          continue;
      } else {
        step.blockK = step.blockQ;
      }
      const DimAST &lh = spec.inputs[in].type.dims[0];
      if (spec.query >= 0) {
        const DimAST &qh = shapeOf(spec.query).dims[1];
        if (!lh.isSymbol() && lh.value != 1 && !qh.isSymbol() &&
            lh.value != qh.value)
          error(lh.loc, "block layout '" + a.name + "' has " + lh.str() +
                            " heads; expected 1 or the " + qh.str() +
                            " heads of query '" + spec.queryInput().name +
                            "'");
      }
      step.auxInput = in;
      setRole(in, InputRole::Layout);
    } else if (m.kind == ExprKind::Call && n == "where") {
      step.mask = MaskKind::Where;
      if (!arity(1, 1, "where(condition)"))
        continue;
      ExprContext ctx;
      ctx.allowIndices = true;
      ctx.where = "a mask predicate";
      ScalarType t = resolve(*m.args[0], ctx);
      if (t == ScalarType::Unknown)
        continue;
      if (t != ScalarType::Bool) {
        error(m.args[0]->loc, "where(...) needs a condition such as "
                              "'k_idx <= q_idx', got " +
                                  std::string(toString(t)));
        continue;
      }
      if (!checkDeviceConstants(*m.args[0]))
        continue;
      step.expr = m.args[0].get();
    } else {
      error(m.loc, "unknown mask" +
                       (m.kind == ExprKind::Ident || m.kind == ExprKind::Call
                            ? " '" + n + "'"
                            : std::string()) +
                       "; expected causal, window(left, right), "
                       "lengths(kv_len), blocks(layout, block_q, block_k) or "
                       "where(condition)");
      continue;
    }
    spec.steps.push_back(step);
  }
  bind(stmt, Stage::Scores);
}

bool SpecAnalyzer::checkNamedArguments(const Expr &e, bool top) {
  bool ok = true;
  for (size_t i = 0; i < e.argNames.size(); ++i) {
    if (e.argNames[i].empty())
      continue;
    if (!(top && e.name == "softmax"))
      error(e.argNameLocs[i],
            "'" + e.name + "' takes no named arguments (only softmax does: "
                           "p = softmax(s, sink: sinks)); got '" +
                e.argNames[i] + ":'");
    else if (e.argNames[i] != "sink")
      error(e.argNameLocs[i], "softmax has no argument '" + e.argNames[i] +
                                  ":'; it takes the scores and 'sink:' (p = "
                                  "softmax(s, sink: sinks))");
    else
      continue;
    ok = false;
  }
  for (const ExprPtr &a : e.args)
    ok = checkNamedArguments(*a, false) && ok;
  return ok;
}

/// `sink: x` of softmax: x is an f32[hq] input, one logit per query head.
void SpecAnalyzer::sinkArgument(const Expr &e) {
  if (e.kind != ExprKind::Ident || lookupInput(e.name) < 0) {
    error(e.loc, "the sink must be a declared input f32[heads] (one logit per "
                 "query head), e.g. sinks: f32[h] and softmax(s, sink: "
                 "sinks)");
    return;
  }
  const int i = lookupInput(e.name);
  const InputDecl &in = spec.inputs[i];
  if (in.invalid) {
    failed = true;
    return;
  }
  if (in.type.elem != ElemType::F32 || in.type.scalar ||
      in.type.dims.size() != 1) {
    error(e.loc, "sink '" + e.name + "' is " + in.type.str() +
                     "; sinks are f32[heads], one logit per query head");
    return;
  }
  if (in.role != InputRole::Unused) {
    error(e.loc, "'" + e.name + "' is already the " + toString(in.role) +
                     " input");
    return;
  }
  if (spec.query >= 0) {
    const DimAST &hq = shapeOf(spec.query).dims[1], &hs = in.type.dims[0];
    if (!hs.sameAs(hq)) {
      error(hs.loc, "sink '" + e.name + "' has '" + hs.str() +
                        "' entries but query '" + spec.queryInput().name +
                        "' has '" + hq.str() +
                        "' heads; sinks hold one logit per query head");
      return;
    }
  }
  setRole(i, InputRole::Sinks);
  spec.sinks = i;
}

void SpecAnalyzer::softmax(StmtAST &stmt, Expr &call) {
  size_t positional = 0;
  Expr *scores = nullptr;
  const Expr *sink = nullptr;
  SourceLoc sinkLoc;
  for (size_t i = 0; i < call.args.size(); ++i) {
    if (i < call.argNames.size() && !call.argNames[i].empty()) {
      if (call.argNames[i] != "sink") // reported by checkNamedArguments
        continue;
      if (sink)
        error(call.argNameLocs[i],
              "softmax takes one 'sink:' (first at " + lineOf(sinkLoc) + ")");
      sink = call.args[i].get();
      sinkLoc = call.argNameLocs[i];
    } else if (positional++ == 0) {
      scores = call.args[i].get();
    }
  }
  if (positional != 1) {
    error(call.loc, "'softmax' takes 1 argument (the scores), got " +
                        std::to_string(positional) +
                        (sink ? " besides 'sink:'"
                         : positional > 1
                             ? " (attention sinks are passed by name: "
                               "softmax(s, sink: sinks))"
                             : ""));
  } else if (stage == Stage::Probs) {
    error(call.loc,
          "softmax is applied twice (first at " + lineOf(softmaxLoc) + ")");
    return;
  } else if (checkChainOperand(*scores, "softmax", Stage::Scores)) {
    ChainStep step;
    step.kind = ChainStep::Softmax;
    step.loc = call.loc;
    step.result = stmt.name;
    if (sink) {
      sinkArgument(*sink);
      step.auxInput = spec.sinks;
    }
    spec.steps.push_back(step);
  } else {
    failed = true;
  }
  softmaxLoc = call.loc;
  bind(stmt, Stage::Probs);
}

void SpecAnalyzer::dropout(StmtAST &stmt, Expr &call) {
  if (call.args.size() != 2 && call.args.size() != 4) {
    error(call.loc, "'dropout' takes 2 or 4 arguments: dropout(p, rate) or "
                    "dropout(p, rate, seed, offset); got " +
                        std::to_string(call.args.size()));
    return;
  }
  if (!checkChainOperand(*call.args[0], "dropout", Stage::Probs)) {
    failed = true;
    return;
  }
  if (hasDropout) {
    error(call.loc,
          "dropout is applied twice (first at " + lineOf(dropoutLoc) + ")");
    return;
  }
  hasDropout = true;
  dropoutLoc = call.loc;
  ChainStep step;
  step.kind = ChainStep::Dropout;
  step.loc = call.loc;
  step.result = stmt.name;
  EvalValue v;
  if (!evalConstant(*call.args[1], "a dropout rate", v))
    return;
  double p = v.asDouble();
  if (v.type == ScalarType::Bool || !(p >= 0.0 && p < 1.0)) {
    std::ostringstream os;
    os << "dropout probability must be in [0, 1), got ";
    if (v.type == ScalarType::Bool)
      os << "a condition";
    else
      os << p;
    error(call.args[1]->loc, os.str());
    return;
  }
  // The kernel compares random bits against the rate as an f32.
  if (static_cast<float>(p) >= 1.0f) {
    error(call.args[1]->loc,
          "dropout probability " + showDouble(p) +
              " rounds to 1 in f32, the kernel's type, which would drop "
              "everything; use at most " +
              showFloat(std::nextafter(1.0f, 0.0f)));
    return;
  }
  if (p > 0.0 && static_cast<float>(p) == 0.0f) {
    error(call.args[1]->loc, "dropout probability " + showDouble(p) + " " +
                                 f32Problem(p) + "; write 0 for no dropout");
    return;
  }
  step.dropout = p;
  auto scalarInput = [&](Expr *e, const char *name, int &out) {
    if (!e) {
      // Implicit: an input called `seed`/`offset`, or a new argument.
      int i = lookupInput(name);
      if (i < 0) {
        InputDecl in;
        in.name = name;
        in.loc = call.loc;
        in.type.elem = ElemType::I64;
        in.type.scalar = true;
        in.implicit = true;
        spec.inputs.push_back(in);
        i = static_cast<int>(spec.inputs.size()) - 1;
      }
      if (spec.inputs[i].type.elem != ElemType::I64 ||
          !spec.inputs[i].type.scalar) {
        error(call.loc, std::string("input '") + name +
                            "' must be an i64 scalar for dropout");
        return false;
      }
      out = i;
      return true;
    }
    int i = e->kind == ExprKind::Ident ? lookupInput(e->name) : -1;
    if (i < 0 || spec.inputs[i].type.elem != ElemType::I64 ||
        !spec.inputs[i].type.scalar) {
      error(e->loc, std::string("the dropout ") + name +
                        " must be a declared i64 input");
      return false;
    }
    out = i;
    return true;
  };
  bool four = call.args.size() == 4;
  if (!scalarInput(four ? call.args[2].get() : nullptr, "seed",
                   step.seedInput) ||
      !scalarInput(four ? call.args[3].get() : nullptr, "offset",
                   step.offsetInput))
    return;
  setRole(step.seedInput, InputRole::Seed);
  setRole(step.offsetInput, InputRole::Offset);
  spec.steps.push_back(step);
  bind(stmt, Stage::Probs);
}

void SpecAnalyzer::generic(StmtAST &stmt) {
  Expr &v = *stmt.value;
  ExprContext ctx;
  ctx.allowScores = stage == Stage::Scores;
  ctx.allowIndices = true;
  ctx.where = stage == Stage::Scores ? "a score modifier" : "a constant";
  ScalarType t = resolve(v, ctx);
  if (t == ScalarType::Unknown) {
    // Keep the chain going so later statements are checked sensibly.
    if (stage == Stage::Scores)
      bind(stmt, Stage::Scores);
    else if (!stale.count(stmt.name) && stmt.name != current)
      spec.constants[stmt.name] = {0.0, false};
    return;
  }
  // Assigning to the current scores is a score modifier even when the new
  // value ignores them (`s = 0.0` gives uniform attention).
  bool rewritesScores = stage == Stage::Scores && stmt.name == current;
  if (ctx.usesScores || ctx.usesIndices || rewritesScores) {
    if (stage != Stage::Scores) {
      error(v.loc, "the indices b, h, q_idx, k_idx exist only in score "
                   "modifiers (between matmul(q, k^T) and softmax) and in "
                   "where(...) masks");
      return;
    }
    if (t == ScalarType::Bool) {
      error(v.loc, "a score modifier must give a number, got a condition; "
                   "use mask(" +
                       current + ", where(...)) to mask scores");
      return;
    }
    if (!checkDeviceConstants(v)) {
      bind(stmt, Stage::Scores);
      return;
    }
    ChainStep step;
    step.kind = ChainStep::ScoreMod;
    step.loc = v.loc;
    step.result = stmt.name;
    step.expr = &v;
    spec.steps.push_back(step);
    bind(stmt, Stage::Scores);
    return;
  }
  // A named constant: `H = 16`, `cap = 30.0`.
  if (stmt.name == current || stale.count(stmt.name)) {
    error(stmt.nameLoc, "'" + stmt.name +
                            "' names a value of the attention "
                            "chain and cannot become a constant");
    return;
  }
  if (t == ScalarType::Bool) {
    error(v.loc, "a constant must be a number, got a condition");
    return;
  }
  EvalValue val = evalExpr(v, EvalEnv{});
  if (t == ScalarType::Int && (val.i > kMaxExactInt || val.i < -kMaxExactInt)) {
    error(startLoc(v), "integer constant '" + stmt.name + "' is " +
                           std::to_string(val.i) +
                           ", beyond 2^53 (the limit of integer literals); it "
                           "would not be exact");
    spec.constants[stmt.name] = {0.0, true};
    return;
  }
  spec.constants[stmt.name] = {val.asDouble(), t == ScalarType::Int};
}

void SpecAnalyzer::doReturn(StmtAST &stmt) {
  if (stage != Stage::Output) {
    error(stmt.loc, "return before the output: compute o = matmul(p, v) "
                    "first");
    stage = Stage::Returned;
    returnLoc = stmt.loc;
    return;
  }
  stage = Stage::Returned;
  returnLoc = stmt.loc;
  const auto &r = stmt.results;
  if (r[0].first != spec.outputName) {
    error(r[0].second, "'" + r[0].first +
                           "' is not the output of the "
                           "attention; return '" +
                           spec.outputName + "'");
  }
  if (r.size() >= 2) {
    if (r[1].first != "logsumexp" && r[1].first != "lse")
      error(r[1].second, "the second result can only be 'logsumexp', got '" +
                             r[1].first + "'");
    else
      spec.returnsLogSumExp = true;
  }
  if (r.size() > 2)
    error(r[2].second, "return takes the output and optionally 'logsumexp'; "
                       "got " +
                           std::to_string(r.size()) + " results");
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

bool attnc::dsl::analyzeModule(ModuleAST &module, DiagnosticEngine &diags) {
  unsigned before = diags.errorCount();
  std::map<std::string, SourceLoc> seen;
  for (AttentionSpecAST &spec : module.specs) {
    if (auto it = seen.find(spec.name); it != seen.end()) {
      diags.error(spec.loc, "attention '" + spec.name +
                                "' is defined twice (first at " +
                                lineOf(it->second) + ")");
      continue;
    }
    seen[spec.name] = spec.loc;
    if (spec.hasSyntaxErrors)
      continue;
    SpecAnalyzer(spec, diags).run();
    if (diags.errorCount() > DiagnosticEngine::kMaxErrors)
      break;
  }
  return diags.errorCount() == before;
}

bool attnc::dsl::parseAndAnalyze(std::string_view source,
                                 std::string_view filename,
                                 DiagnosticEngine &diags, ModuleAST &out) {
  out = parseSource(source, filename, diags);
  // Analyze even after parse errors: blocks that parsed get their semantic
  // errors reported too.
  bool ok = !diags.hasErrors();
  return analyzeModule(out, diags) && ok;
}
