//===- AST.h - syntax tree of the attention DSL -----------------*- C++ -*-===//
//
// A `.attn` file holds attention blocks. The parser builds, per block, the
// statements as written (inputs, assignments, return). Semantic analysis
// (Sema.h) then resolves names, types every expression and fills in the
// attention chain: the ordered steps
//
//   QK (matmul(q, k^T) [* scale]) -> {Scale | ScoreMod | Mask}* -> Softmax
//      -> Dropout? -> PV (matmul(p, v))
//
// which lowering (Lowering.h) turns into attn dialect ops and the
// interpreter (Interpreter.h) evaluates on the CPU.
//
// Standard C++ only: no LLVM or MLIR types here.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_AST_H
#define ATTNC_DSL_AST_H

#include "attnc/DSL/Diagnostics.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attnc::dsl {

//===----------------------------------------------------------------------===//
// Types of inputs
//===----------------------------------------------------------------------===//

enum class ElemType { F16, BF16, F32, I8, I32, I64 };
const char *toString(ElemType t);
inline bool isFloat(ElemType t) {
  return t == ElemType::F16 || t == ElemType::BF16 || t == ElemType::F32;
}

/// One dimension of an input: a symbol (`b`, `n`, dynamic at run time) or a
/// positive literal (static).
struct DimAST {
  std::string symbol; ///< empty for a literal
  int64_t value = 0;  ///< the literal, when `symbol` is empty
  SourceLoc loc;
  bool isSymbol() const { return !symbol.empty(); }
  bool sameAs(const DimAST &o) const {
    return isSymbol() ? symbol == o.symbol : !o.isSymbol() && value == o.value;
  }
  std::string str() const {
    return isSymbol() ? symbol : std::to_string(value);
  }
};

/// `bf16[b, h, n, 64]`, `i32[b]`, `i8[h, qb, kb]` or a scalar `i64`.
struct TypeAST {
  ElemType elem = ElemType::F32;
  bool scalar = true;
  std::vector<DimAST> dims;
  SourceLoc loc;
  std::string str() const;
};

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

enum class ExprKind {
  Number,    ///< 1, 2.5, 1e-3
  Ident,     ///< s, q_idx, inf, a user constant, an input
  Unary,     ///< -x, !c, +x
  Binary,    ///< a + b, a < b, a && b
  Ternary,   ///< c ? a : b
  Call,      ///< tanh(x), matmul(q, k^T), mask(s, causal)
  Transpose, ///< k^T
  Index,     ///< rel[h, q_idx - k_idx]: an element of a table input
};

enum class OpKind {
  Add,
  Sub,
  Mul,
  Div,
  Mod,
  Lt,
  Le,
  Gt,
  Ge,
  Eq,
  Ne,
  And,
  Or,
  Neg,
  Not,
  Plus,
};
const char *toString(OpKind op);

/// The type of a scalar expression: integers are indices and integer
/// literals (lowered to `index`), floats are f32 in IR and double in the
/// interpreter, conditions are i1.
enum class ScalarType { Unknown, Int, Float, Bool };
const char *toString(ScalarType t);

/// What an identifier names, as resolved by Sema.
enum class IdentRef {
  Unresolved,
  Scores,   ///< the score tensor a modifier rewrites
  IndexB,   ///< batch index
  IndexH,   ///< head index (of the query)
  IndexQ,   ///< query position q_idx
  IndexK,   ///< key position k_idx (alias kv_idx)
  Constant, ///< inf, pi, or a named constant `H = 16`
  Input,    ///< a declared input (only valid as a chain operand)
};

struct BuiltinInfo; // Builtins.h
struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::Number;
  SourceLoc loc;
  // Number
  double number = 0.0;
  bool isIntLiteral = false;
  // Ident (the name) and Call (the callee)
  std::string name;
  // Unary and Binary
  OpKind op = OpKind::Add;
  /// Operands: Unary 1, Binary 2, Ternary 3 (cond, then, else), Call its
  /// arguments, Transpose 1.
  std::vector<ExprPtr> args;
  /// Call: the names of named arguments (`softmax(s, sink: sinks)`), one
  /// per argument, empty for a positional one; empty when none is named.
  std::vector<std::string> argNames;
  std::vector<SourceLoc> argNameLocs;
  /// 1 for a leaf; 1 + the deepest operand otherwise. The parser rejects
  /// trees deeper than Parser::kMaxExprDepth, so recursion over an Expr is
  /// bounded.
  unsigned depth = 1;

  // Filled in by Sema.
  IdentRef ref = IdentRef::Unresolved;
  double constValue = 0.0; ///< for IdentRef::Constant
  ScalarType type = ScalarType::Unknown;
  /// Call of a builtin function (tanh, div, ...): its row in Builtins.h.
  const BuiltinInfo *builtin = nullptr;
  /// Index: the table's position in AttentionSpecAST::tables.
  int table = -1;
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

struct StmtAST {
  enum Kind { Input, Assign, Return } kind = Assign;
  SourceLoc loc;
  /// Input: the input's name; Assign: the name assigned.
  std::string name;
  SourceLoc nameLoc;
  TypeAST type;  ///< Input
  ExprPtr value; ///< Assign
  /// Return: the names returned, with their locations.
  std::vector<std::pair<std::string, SourceLoc>> results;
};

//===----------------------------------------------------------------------===//
// The analyzed attention chain (filled in by Sema)
//===----------------------------------------------------------------------===//

enum class InputRole {
  Unused,
  Query,
  Key,
  Value,
  Lengths,
  Layout,
  Seed,
  Offset,
  BlockTable, ///< paged K/V: i32[b, max_pages]
  SeqLens,    ///< paged K/V: i32[b], the keys of each sequence
  CuSeqlensQ, ///< packed sequences: i32[b + 1] prefix sums of query rows
  CuSeqlensK, ///< packed sequences: i32[b + 1] prefix sums of key rows
  Sinks,      ///< softmax(s, sink: x): f32[hq], one logit per query head
  Table       ///< read in a modifier or where() mask: x[i, ...]
};
const char *toString(InputRole r);

struct InputDecl {
  std::string name;
  SourceLoc loc;
  TypeAST type;
  InputRole role = InputRole::Unused;
  bool implicit = false; ///< seed/offset added for dropout, not written
  bool invalid = false;  ///< its declaration had an error (already reported)
};

enum class MaskKind { Causal, Window, Lengths, Blocks, Where };
const char *toString(MaskKind k);

struct ChainStep {
  enum Kind { QK, Scale, ScoreMod, Mask, Softmax, Dropout, PV } kind = QK;
  SourceLoc loc;
  std::string result; ///< the name the step's value is bound to
  // QK: lhs = query, rhs = key (input indices). PV: rhs = value.
  int lhsInput = -1, rhsInput = -1;
  /// QK: optional scale folded into the statement; Scale: the factor.
  bool hasScale = false;
  double scale = 1.0;
  /// ScoreMod: the new score; Mask/Where: the predicate. Points into the
  /// owning statement.
  const Expr *expr = nullptr;
  // Mask
  MaskKind mask = MaskKind::Causal;
  int64_t windowLeft = 0, windowRight = 0;
  int64_t blockQ = 0, blockK = 0;
  int auxInput = -1; ///< lengths or layout input
  // Dropout
  double dropout = 0.0;
  int seedInput = -1, offsetInput = -1;
};
const char *toString(ChainStep::Kind k);

/// One `attention NAME { ... }` block.
struct AttentionSpecAST {
  std::string name;
  SourceLoc loc;
  std::vector<StmtAST> stmts;
  /// The block had syntax errors; Sema skips it (its statements are
  /// incomplete, so semantic errors would only be noise).
  bool hasSyntaxErrors = false;

  // Filled in by Sema (valid when `analyzed`).
  bool analyzed = false;
  std::vector<InputDecl> inputs; ///< function arguments, in order
  std::vector<ChainStep> steps;
  int query = -1, key = -1, value = -1;
  /// Paged K/V (`k = paged(k_cache, block_table, seq_lens)`): key and value
  /// are then caches [pages, page_size, heads, dim] read through the block
  /// table; -1 when K/V are plain [batch, heads, seq, dim] tensors.
  int blockTable = -1, seqLens = -1;
  /// Packed variable-length sequences (`q = packed(q_tokens, cu_seqlens_q)`,
  /// k and v through cu_seqlens_k): query, key and value are then token
  /// tensors [total, heads, dim] cut by the int32 prefix sums (one input may
  /// serve both); -1 when they are [batch, heads, seq, dim] tensors.
  int cuSeqlensQ = -1, cuSeqlensK = -1;
  /// Attention sinks (`p = softmax(s, sink: sinks)`): an f32[hq] input, one
  /// logit per query head that joins every row's softmax denominator and
  /// attends to nothing; -1 without.
  int sinks = -1;
  /// Tables (`rel: f32[h, 257]` read as rel[h, ...] in a modifier or a
  /// where() mask): input indices, in declaration order (the kernel's
  /// FwdParams::tables and RunArgs::tables follow it).
  std::vector<int> tables;
  bool returnsLogSumExp = false;
  std::string outputName;
  /// Named constants (`H = 16`): value and whether it is an integer.
  std::map<std::string, std::pair<double, bool>> constants;

  const InputDecl &queryInput() const { return inputs[query]; }
  const InputDecl &keyInput() const { return inputs[key]; }
  const InputDecl &valueInput() const { return inputs[value]; }
  /// The query's head dim: the last dimension (packed tokens are 3-D).
  int64_t headDim() const { return inputs[query].type.dims.back().value; }
  /// The value's (and output's) head dim, which may differ from headDim().
  int64_t headDimV() const { return inputs[value].type.dims.back().value; }
  bool paged() const { return blockTable >= 0; }
  bool packed() const { return cuSeqlensQ >= 0; }
  /// Paged K/V: keys per page (the caches' dimension 1, a number).
  int64_t pageSize() const { return inputs[key].type.dims[1].value; }
};

struct ModuleAST {
  std::string filename;
  std::vector<AttentionSpecAST> specs;
  const AttentionSpecAST *lookup(const std::string &name) const {
    for (const AttentionSpecAST &s : specs)
      if (s.name == name)
        return &s;
    return nullptr;
  }
};

} // namespace attnc::dsl

#endif // ATTNC_DSL_AST_H
