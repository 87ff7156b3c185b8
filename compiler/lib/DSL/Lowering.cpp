//===- Lowering.cpp - DSL to the unfused attn dialect ---------------------===//
#include "attnc/DSL/Lowering.h"

#include "attnc/DSL/Builtins.h"

#include "attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cmath>

using namespace mlir;
using namespace attnc::dsl;

namespace {

/// Emits the arith/math ops of one expression inside a score-modifier or
/// mask-predicate region. Ints are `index`, floats `f32`, conditions `i1`.
class ExprEmitter {
public:
  ExprEmitter(OpBuilder &b, StringAttr file, Value score, ValueRange indices,
              ValueRange inputs)
      : b(b), file(file), score(score), indices(indices), inputs(inputs) {}

  Location loc(SourceLoc l) { return FileLineColLoc::get(file, l.line, l.col); }

  /// The value of `e` in its own type (Expr::type).
  Value emit(const Expr &e);
  /// The value of `e` converted to `want` (Int -> Float promotes).
  Value emitAs(const Expr &e, ScalarType want) {
    // An integer constant used as a float is emitted as an f32 constant.
    if (want == ScalarType::Float && e.type == ScalarType::Int) {
      if (e.kind == ExprKind::Number)
        return f32(e.number, loc(e.loc));
      if (e.kind == ExprKind::Ident && e.ref == IdentRef::Constant)
        return f32(e.constValue, loc(e.loc));
    }
    return convert(emit(e), e.type, want, loc(e.loc));
  }

private:
  Value f32(double v, Location l) {
    return arith::ConstantOp::create(b, l,
                                     b.getF32FloatAttr(static_cast<float>(v)));
  }
  Value idx(int64_t v, Location l) {
    return arith::ConstantIndexOp::create(b, l, v);
  }
  Value convert(Value v, ScalarType from, ScalarType to, Location l) {
    if (from == to || to != ScalarType::Float || from != ScalarType::Int)
      return v;
    // index -> i64 -> f32
    Value i = arith::IndexCastOp::create(b, l, b.getI64Type(), v);
    return arith::SIToFPOp::create(b, l, b.getF32Type(), i);
  }
  /// The common type of two operands: Int only when both are.
  static ScalarType join(ScalarType a, ScalarType c) {
    return a == c ? a : ScalarType::Float;
  }
  Value emitBinary(const Expr &e);
  Value emitCall(const Expr &e);
  Value emitSelect(const Expr &e, const Expr &c, const Expr &x, const Expr &y);

  OpBuilder &b;
  StringAttr file;
  Value score;
  ValueRange indices; // b, h, q, k
  ValueRange inputs;  // the function's arguments (tables among them)
};

} // namespace

Value ExprEmitter::emit(const Expr &e) {
  Location l = loc(e.loc);
  switch (e.kind) {
  case ExprKind::Number:
    return e.isIntLiteral ? idx(static_cast<int64_t>(e.number), l)
                          : f32(e.number, l);
  case ExprKind::Ident:
    switch (e.ref) {
    case IdentRef::Scores:
      return score;
    case IdentRef::IndexB:
      return indices[0];
    case IdentRef::IndexH:
      return indices[1];
    case IdentRef::IndexQ:
      return indices[2];
    case IdentRef::IndexK:
      return indices[3];
    default:
      return e.type == ScalarType::Int
                 ? idx(static_cast<int64_t>(e.constValue), l)
                 : f32(e.constValue, l);
    }
  case ExprKind::Unary: {
    Value a = emit(*e.args[0]);
    if (e.op == OpKind::Not) {
      Value t = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
      return arith::XOrIOp::create(b, l, a, t);
    }
    if (e.op == OpKind::Plus)
      return a;
    if (e.type == ScalarType::Int)
      return arith::SubIOp::create(b, l, idx(0, l), a);
    return arith::NegFOp::create(b, l, a);
  }
  case ExprKind::Binary:
    return emitBinary(e);
  case ExprKind::Ternary:
    return emitSelect(e, *e.args[0], *e.args[1], *e.args[2]);
  case ExprKind::Call:
    return emitCall(e);
  case ExprKind::Index: {
    // An element of a table: f32 for float tables, index for integer ones.
    SmallVector<Value> index;
    for (const ExprPtr &a : e.args)
      index.push_back(emitAs(*a, ScalarType::Int));
    Type t = e.type == ScalarType::Int ? Type(b.getIndexType())
                                       : Type(b.getF32Type());
    return attn::LookupOp::create(b, l, t, inputs[e.table], index);
  }
  case ExprKind::Transpose:
    break;
  }
  return f32(std::nan(""), l); // Sema rejects this
}

Value ExprEmitter::emitSelect(const Expr &e, const Expr &c, const Expr &x,
                              const Expr &y) {
  Value cond = emit(c);
  Value a = emitAs(x, e.type), v = emitAs(y, e.type);
  return arith::SelectOp::create(b, loc(e.loc), cond, a, v);
}

Value ExprEmitter::emitBinary(const Expr &e) {
  Location l = loc(e.loc);
  const Expr &x = *e.args[0], &y = *e.args[1];
  ScalarType common = join(x.type, y.type);
  if (e.op == OpKind::And || e.op == OpKind::Or) {
    Value a = emit(x), c = emit(y);
    if (e.op == OpKind::And)
      return arith::AndIOp::create(b, l, a, c);
    return arith::OrIOp::create(b, l, a, c);
  }
  if (e.op == OpKind::Div)
    common = ScalarType::Float;
  Value a = emitAs(x, common), c = emitAs(y, common);
  bool ints = common == ScalarType::Int || common == ScalarType::Bool;
  switch (e.op) {
  case OpKind::Add:
    return ints ? Value(arith::AddIOp::create(b, l, a, c))
                : Value(arith::AddFOp::create(b, l, a, c));
  case OpKind::Sub:
    return ints ? Value(arith::SubIOp::create(b, l, a, c))
                : Value(arith::SubFOp::create(b, l, a, c));
  case OpKind::Mul:
    return ints ? Value(arith::MulIOp::create(b, l, a, c))
                : Value(arith::MulFOp::create(b, l, a, c));
  case OpKind::Div:
    return arith::DivFOp::create(b, l, a, c);
  case OpKind::Mod:
    return arith::RemSIOp::create(b, l, a, c);
  default:
    break;
  }
  // Comparisons.
  arith::CmpIPredicate ip;
  arith::CmpFPredicate fp;
  switch (e.op) {
  case OpKind::Lt:
    ip = arith::CmpIPredicate::slt, fp = arith::CmpFPredicate::OLT;
    break;
  case OpKind::Le:
    ip = arith::CmpIPredicate::sle, fp = arith::CmpFPredicate::OLE;
    break;
  case OpKind::Gt:
    ip = arith::CmpIPredicate::sgt, fp = arith::CmpFPredicate::OGT;
    break;
  case OpKind::Ge:
    ip = arith::CmpIPredicate::sge, fp = arith::CmpFPredicate::OGE;
    break;
  case OpKind::Eq:
    ip = arith::CmpIPredicate::eq, fp = arith::CmpFPredicate::OEQ;
    break;
  default:
    ip = arith::CmpIPredicate::ne, fp = arith::CmpFPredicate::UNE;
    break;
  }
  if (ints)
    return arith::CmpIOp::create(b, l, ip, a, c);
  return arith::CmpFOp::create(b, l, fp, a, c);
}

// Every builtin of Builtins.h lowers here: a builtin without a case is a
// compile error (-Wswitch, made an error for this switch).
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch"
Value ExprEmitter::emitCall(const Expr &e) {
  Location l = loc(e.loc);
  if (!e.builtin)
    return f32(std::nan(""), l); // Sema rejects unknown functions
  auto asFloat = [&](unsigned i) {
    return emitAs(*e.args[i], ScalarType::Float);
  };
  switch (e.builtin->id) {
  case Builtin::Select:
  case Builtin::Where:
    return emitSelect(e, *e.args[0], *e.args[1], *e.args[2]);
  case Builtin::Min:
  case Builtin::Max: {
    bool isMin = e.builtin->id == Builtin::Min;
    Value a = emitAs(*e.args[0], e.type), c = emitAs(*e.args[1], e.type);
    if (e.type == ScalarType::Int)
      return isMin ? Value(arith::MinSIOp::create(b, l, a, c))
                   : Value(arith::MaxSIOp::create(b, l, a, c));
    return isMin ? Value(arith::MinimumFOp::create(b, l, a, c))
                 : Value(arith::MaximumFOp::create(b, l, a, c));
  }
  case Builtin::Clamp: {
    Value x = emitAs(*e.args[0], e.type), lo = emitAs(*e.args[1], e.type),
          hi = emitAs(*e.args[2], e.type);
    if (e.type == ScalarType::Int)
      return arith::MinSIOp::create(
          b, l, arith::MaxSIOp::create(b, l, x, lo), hi);
    return arith::MinimumFOp::create(
        b, l, arith::MaximumFOp::create(b, l, x, lo), hi);
  }
  case Builtin::Abs: {
    Value a = emit(*e.args[0]);
    if (e.type != ScalarType::Int)
      return math::AbsFOp::create(b, l, a);
    // |x| = x < 0 ? 0 - x : x
    Value zero = idx(0, l);
    Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, a, zero);
    Value minus = arith::SubIOp::create(b, l, zero, a);
    return arith::SelectOp::create(b, l, neg, minus, a);
  }
  // Operands are emitted one statement each, so their ops come in source
  // order whatever order a compiler evaluates call arguments in.
  case Builtin::Div: {
    Value x = emit(*e.args[0]);
    Value y = emit(*e.args[1]);
    return arith::FloorDivSIOp::create(b, l, x, y);
  }
  case Builtin::Pow: {
    Value x = asFloat(0);
    Value y = asFloat(1);
    return math::PowFOp::create(b, l, x, y);
  }
  case Builtin::AlibiSlope: {
    // 2^(-8 (h + 1) / H)
    Value h = asFloat(0);
    Value heads = asFloat(1);
    Value h1 = arith::AddFOp::create(b, l, h, f32(1.0, l));
    Value num = arith::MulFOp::create(b, l, f32(-8.0, l), h1);
    Value ex = arith::DivFOp::create(b, l, num, heads);
    return math::Exp2Op::create(b, l, ex);
  }
  case Builtin::Float:
    return asFloat(0);
  case Builtin::Exp:
    return math::ExpOp::create(b, l, asFloat(0));
  case Builtin::Exp2:
    return math::Exp2Op::create(b, l, asFloat(0));
  case Builtin::Log:
    return math::LogOp::create(b, l, asFloat(0));
  case Builtin::Log2:
    return math::Log2Op::create(b, l, asFloat(0));
  case Builtin::Tanh:
    return math::TanhOp::create(b, l, asFloat(0));
  case Builtin::Sqrt:
    return math::SqrtOp::create(b, l, asFloat(0));
  case Builtin::Rsqrt:
    return math::RsqrtOp::create(b, l, asFloat(0));
  case Builtin::Sin:
    return math::SinOp::create(b, l, asFloat(0));
  case Builtin::Cos:
    return math::CosOp::create(b, l, asFloat(0));
  case Builtin::Tan:
    return math::TanOp::create(b, l, asFloat(0));
  case Builtin::Atan:
    return math::AtanOp::create(b, l, asFloat(0));
  case Builtin::Erf:
    return math::ErfOp::create(b, l, asFloat(0));
  case Builtin::Sigmoid: {
    // 1 / (1 + exp(-x))
    Value nx = arith::NegFOp::create(b, l, asFloat(0));
    Value ex = math::ExpOp::create(b, l, nx);
    Value one = f32(1.0, l);
    Value den = arith::AddFOp::create(b, l, one, ex);
    return arith::DivFOp::create(b, l, one, den);
  }
  }
  return f32(std::nan(""), l); // not reached: every builtin has a case
}
#pragma GCC diagnostic pop

//===----------------------------------------------------------------------===//
// Specs
//===----------------------------------------------------------------------===//

static Type elementType(OpBuilder &b, ElemType t) {
  switch (t) {
  case ElemType::F16:
    return b.getF16Type();
  case ElemType::BF16:
    return b.getBF16Type();
  case ElemType::F32:
    return b.getF32Type();
  case ElemType::I8:
    return b.getI8Type();
  case ElemType::I32:
    return b.getI32Type();
  case ElemType::I64:
    return b.getI64Type();
  }
  return b.getF32Type();
}

static int64_t dimSize(const DimAST &d) {
  return d.isSymbol() ? ShapedType::kDynamic : d.value;
}

static Type inputType(OpBuilder &b, const TypeAST &t) {
  Type e = elementType(b, t.elem);
  if (t.scalar)
    return e;
  SmallVector<int64_t> shape;
  for (const DimAST &d : t.dims)
    shape.push_back(dimSize(d));
  return RankedTensorType::get(shape, e);
}

static void lowerSpec(const AttentionSpecAST &spec, StringAttr file,
                      ModuleOp into) {
  OpBuilder b(into.getContext());
  auto loc = [&](SourceLoc l) -> Location {
    return FileLineColLoc::get(file, l.line, l.col);
  };
  const TypeAST &q = spec.queryInput().type, &k = spec.keyInput().type,
                &v = spec.valueInput().type;
  SmallVector<Type> argTypes;
  for (const InputDecl &in : spec.inputs)
    argTypes.push_back(inputType(b, in.type));
  // The logical [batch, heads, seq, dim] sizes of the query and of the
  // value's head dim. Packed sequences: tokens [total, heads, dim], batch and
  // rows dynamic; paged K/V: the keys are a view of the cache, their count
  // dynamic.
  const bool packed = spec.packed();
  const int64_t dyn = ShapedType::kDynamic;
  const int64_t qBatch = packed ? dyn : dimSize(q.dims[0]);
  const int64_t qHeads = dimSize(q.dims[1]);
  const int64_t qRows = packed ? dyn : dimSize(q.dims[2]);
  const int64_t headDimV = dimSize(v.dims[packed ? 2 : 3]);
  auto outType = RankedTensorType::get({qBatch, qHeads, qRows, headDimV},
                                       elementType(b, v.elem));
  const int64_t keys =
      spec.paged() || packed ? dyn : dimSize(k.dims[2]);
  auto scoreType = RankedTensorType::get({qBatch, qHeads, qRows, keys},
                                         b.getF32Type());

  b.setInsertionPointToEnd(into.getBody());
  auto func = func::FuncOp::create(b, loc(spec.loc), spec.name,
                                   b.getFunctionType(argTypes, {outType}));
  if (spec.returnsLogSumExp)
    func->setAttr(kReturnsLseAttrName, b.getUnitAttr());
  Block *entry = func.addEntryBlock();
  // Tables: what each symbolic dimension equals at run time (the logical
  // view's batch, heads and lengths; packed and paged views have no batch
  // or length dimension to bind, so those stay free).
  auto tableBind = [&](const TypeAST &t) {
    SmallVector<int64_t> bind;
    const TypeAST &qt = spec.inputs[spec.query].type,
                  &kt = spec.inputs[spec.key].type;
    const bool flatQ = packed, flatK = packed || spec.paged();
    for (const DimAST &d : t.dims) {
      int64_t code = -1;
      if (d.isSymbol()) {
        if (!flatQ && d.sameAs(qt.dims[0]))
          code = 0;
        else if (d.sameAs(qt.dims[1]))
          code = 1;
        else if (!flatQ && d.sameAs(qt.dims[2]))
          code = 2;
        else if (d.sameAs(kt.dims[spec.paged() ? 2 : 1]))
          code = 3;
        else if (!flatK && d.sameAs(kt.dims[2]))
          code = 4;
      }
      bind.push_back(code);
    }
    return bind;
  };
  for (auto [i, in] : llvm::enumerate(spec.inputs)) {
    func.setArgAttr(i, kArgNameAttrName, b.getStringAttr(in.name));
    if (in.role == InputRole::Table)
      func.setArgAttr(i, attn::kTableBindAttrName,
                      b.getDenseI64ArrayAttr(tableBind(in.type)));
    entry->getArgument(i).setLoc(
        NameLoc::get(b.getStringAttr(in.name), loc(in.loc)));
  }
  b.setInsertionPointToStart(entry);
  // Chain operands: the arguments, except that paged caches are read through
  // their attn.paged_kv views.
  SmallVector<Value> operand(entry->getArguments().begin(),
                             entry->getArguments().end());
  if (spec.paged()) {
    const TypeAST &table = spec.inputs[spec.blockTable].type;
    for (int cache : {spec.key, spec.value}) {
      const TypeAST &c = spec.inputs[cache].type;
      auto viewType = RankedTensorType::get(
          {dimSize(table.dims[0]), dimSize(c.dims[2]), ShapedType::kDynamic,
           dimSize(c.dims[3])},
          elementType(b, c.elem));
      operand[cache] = attn::PagedKvOp::create(
          b, loc(spec.inputs[cache].loc), viewType, entry->getArgument(cache),
          entry->getArgument(spec.blockTable), entry->getArgument(spec.seqLens));
    }
  }
  if (packed) {
    for (int tokens : {spec.query, spec.key, spec.value}) {
      if (operand[tokens] != entry->getArgument(tokens))
        continue; // one tensor as both key and value
      const TypeAST &t = spec.inputs[tokens].type;
      const int cu = tokens == spec.query ? spec.cuSeqlensQ : spec.cuSeqlensK;
      auto viewType = RankedTensorType::get(
          {dyn, dimSize(t.dims[1]), dyn, dimSize(t.dims[2])},
          elementType(b, t.elem));
      operand[tokens] = attn::PackedSeqOp::create(
          b, loc(spec.inputs[tokens].loc), viewType,
          entry->getArgument(tokens), entry->getArgument(cu));
    }
  }
  auto arg = [&](int i) { return operand[i]; };

  Value cur;
  Type indexType = b.getIndexType();
  for (const ChainStep &st : spec.steps) {
    Location l = loc(st.loc);
    switch (st.kind) {
    case ChainStep::QK:
      // S = Q K^T (f32 accumulation)
      cur = attn::MatmulOp::create(b, l, scoreType, arg(st.lhsInput),
                                   arg(st.rhsInput), /*transpose_rhs=*/true);
      if (st.hasScale)
        cur = attn::ScaleOp::create(b, l, scoreType, cur,
                                    b.getF64FloatAttr(st.scale));
      break;
    case ChainStep::Scale:
      cur = attn::ScaleOp::create(b, l, scoreType, cur,
                                  b.getF64FloatAttr(st.scale));
      break;
    case ChainStep::ScoreMod: {
      auto op = attn::ScoreModOp::create(b, l, scoreType, cur);
      Block *body = new Block();
      op.getBody().push_back(body);
      body->addArgument(b.getF32Type(), l);
      for (int i = 0; i < 4; ++i)
        body->addArgument(indexType, l);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(body);
      ExprEmitter em(b, file, body->getArgument(0),
                     body->getArguments().drop_front(), entry->getArguments());
      Value r = em.emitAs(*st.expr, ScalarType::Float);
      attn::YieldOp::create(b, l, ValueRange{r});
      cur = op.getResult();
      break;
    }
    case ChainStep::Mask: {
      attn::MaskKind kind;
      switch (st.mask) {
      case MaskKind::Causal:
        kind = attn::MaskKind::causal;
        break;
      case MaskKind::Window:
        kind = attn::MaskKind::window;
        break;
      case MaskKind::Lengths:
        kind = attn::MaskKind::lengths;
        break;
      case MaskKind::Blocks:
        kind = attn::MaskKind::blocks;
        break;
      default:
        kind = attn::MaskKind::where;
        break;
      }
      Value aux = st.auxInput >= 0 ? arg(st.auxInput) : Value();
      auto op = attn::MaskOp::create(b, l, kind, cur, aux);
      if (st.mask == MaskKind::Window) {
        op.setWindowLeftAttr(b.getI64IntegerAttr(st.windowLeft));
        op.setWindowRightAttr(b.getI64IntegerAttr(st.windowRight));
      }
      if (st.mask == MaskKind::Blocks) {
        op.setBlockQAttr(b.getI64IntegerAttr(st.blockQ));
        op.setBlockKAttr(b.getI64IntegerAttr(st.blockK));
      }
      if (st.mask == MaskKind::Where) {
        Block *body = new Block();
        op.getPredicate().push_back(body);
        for (int i = 0; i < 4; ++i)
          body->addArgument(indexType, l);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(body);
        ExprEmitter em(b, file, Value(), body->getArguments(),
                       entry->getArguments());
        Value r = em.emit(*st.expr);
        attn::YieldOp::create(b, l, ValueRange{r});
      }
      cur = op.getResult();
      break;
    }
    case ChainStep::Softmax:
      cur = attn::SoftmaxOp::create(
          b, l, scoreType, cur,
          st.auxInput >= 0 ? arg(st.auxInput) : Value());
      break;
    case ChainStep::Dropout:
      cur = attn::DropoutOp::create(b, l, scoreType, cur, arg(st.seedInput),
                                    arg(st.offsetInput),
                                    b.getF64FloatAttr(st.dropout));
      break;
    case ChainStep::PV:
      // O = P V
      cur = attn::MatmulOp::create(b, l, outType, cur, arg(st.rhsInput),
                                   /*transpose_rhs=*/false);
      break;
    }
  }
  func::ReturnOp::create(b, loc(spec.loc), ValueRange{cur});
}

LogicalResult attnc::dsl::lowerToAttn(const ModuleAST &module, ModuleOp into,
                                      llvm::StringRef kernel) {
  MLIRContext *ctx = into.getContext();
  ctx->loadDialect<attn::AttnDialect, func::FuncDialect, arith::ArithDialect,
                   math::MathDialect>();
  StringAttr file = StringAttr::get(ctx, module.filename);
  bool found = kernel.empty();
  for (const AttentionSpecAST &spec : module.specs) {
    if (!kernel.empty() && spec.name != kernel)
      continue;
    found = true;
    if (!spec.analyzed || spec.query < 0 || spec.key < 0 || spec.value < 0)
      return failure();
    lowerSpec(spec, file, into);
  }
  return success(found);
}
