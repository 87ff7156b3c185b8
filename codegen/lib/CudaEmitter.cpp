//===- CudaEmitter.cpp - attn.tiled_attention -> CUDA C++ -----------------===//
#include "attnc/Codegen/CudaEmitter.h"

#include "attn/Analysis/IndexRanges.h"
#include "attn/IR/AttnOps.h"
#include "attn/Kernel/Params.h"
#include "attn/Model/KernelFamily.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace mlir::attn;

namespace attnc::codegen {
namespace {

/// Emits the ops of a region as C++ statements over named locals.
class RegionEmitter {
public:
  /// `ranges` bounds the region's integers over the launch limits: a value
  /// whose range fits 32 bits is computed as `int`.
  RegionEmitter(llvm::raw_ostream &os, llvm::StringRef indent,
                const IndexRanges &ranges)
      : os(os), indent(indent), ranges(ranges) {}

  void bind(Value v, std::string name) { names[v] = std::move(name); }
  /// A table argument of the region: its FwdParams entry and C element type.
  void bindTable(Value v, std::string name, std::string element) {
    names[v] = std::move(name);
    tableElements[v] = std::move(element);
  }

  /// Emits every op but the terminator; returns the yielded expression.
  FailureOr<std::string> emitBlock(Block &block) {
    for (Operation &op : block.without_terminator())
      if (failed(emitOp(op)))
        return failure();
    auto yield = cast<YieldOp>(block.getTerminator());
    return name(yield.getValues()[0]);
  }

private:
  llvm::raw_ostream &os;
  std::string indent;
  const IndexRanges &ranges;
  llvm::DenseMap<Value, std::string> names;
  llvm::DenseMap<Value, std::string> tableElements;
  unsigned next = 0;

  std::string name(Value v) { return names.lookup(v); }

  /// Whether integer value v is computed in 32 bits.
  bool narrow(Value v) const {
    return ::attn::interval::fitsInt32(ranges.range(v));
  }

  FailureOr<std::string> cType(Operation &op, Value v) const {
    Type t = v.getType();
    if (t.isF32())
      return std::string("float");
    if (t.isF64())
      return std::string("double");
    if (t.isIndex() || t.isInteger(64))
      return std::string(narrow(v) ? "int" : "long long");
    if (t.isInteger(32))
      return std::string("int");
    if (t.isInteger(1))
      return std::string("bool");
    op.emitOpError() << "cannot generate CUDA for values of type " << t;
    return failure();
  }

  static std::string floatLiteral(double d) {
    if (std::isnan(d))
      return "__int_as_float(0x7fffffff)";
    if (std::isinf(d))
      return d > 0 ? "__int_as_float(0x7f800000)" : "__int_as_float(0xff800000)";
    std::string s;
    llvm::raw_string_ostream(s) << llvm::format("%.9g", d);
    if (s.find_first_of(".e") == std::string::npos)
      s += ".0";
    return s + "f";
  }

  LogicalResult define(Operation &op, const std::string &expr) {
    FailureOr<std::string> t = cType(op, op.getResult(0));
    if (failed(t))
      return failure();
    std::string n = "t" + std::to_string(next++);
    // Constants may lose their last use to an inlined literal (divf).
    os << indent << (isa<arith::ConstantOp>(op) ? "[[maybe_unused]] " : "")
       << "const " << *t << " " << n << " = " << expr << ";\n";
    names[op.getResult(0)] = n;
    return success();
  }

  std::string bin(Operation &op, const char *sym) {
    return name(op.getOperand(0)) + " " + sym + " " + name(op.getOperand(1));
  }
  std::string call(Operation &op, const char *fn) {
    std::string s = std::string(fn) + "(";
    for (unsigned i = 0; i < op.getNumOperands(); ++i)
      s += (i ? ", " : "") + name(op.getOperand(i));
    return s + ")";
  }
  /// fn(a, b), but NaN when a or b is (a + b is then NaN).
  std::string nanOr(Operation &op, const char *fn) {
    std::string a = name(op.getOperand(0)), b = name(op.getOperand(1));
    return "(" + a + " != " + a + " || " + b + " != " + b + " ? " + a + " + " +
           b + " : " + fn + "(" + a + ", " + b + "))";
  }

  /// The value of an integer constant operand, if it is one.
  static std::optional<int64_t> constantInt(Value v) {
    auto c = v.getDefiningOp<arith::ConstantOp>();
    if (!c)
      return std::nullopt;
    auto i = dyn_cast<IntegerAttr>(c.getValue());
    if (!i || i.getType().isInteger(1))
      return std::nullopt;
    return i.getValue().getSExtValue();
  }

  /// Signed integer + - * / %: the semantics of attn/Kernel/IntMath.h
  /// (wrapping; x / 0 == 0; INT64_MIN / -1 == INT64_MIN), which the
  /// interpreter uses too. When the result and the operands are proven to
  /// fit 32 bits over the launch limits (attn/Kernel/Interval.h), nothing
  /// can wrap: plain `int` arithmetic. A divisor proven positive (or below
  /// -1) needs none of the special cases: plain `/` and `%` (adjusted to
  /// floor for div()), which a constant divisor turns into multiplies and
  /// shifts.
  std::string intArith(Operation &op, const char *helper, const char *sym) {
    if (op.getResult(0).getType().isInteger(1))
      return ""; // not produced by the front end; rejected below
    namespace iv = ::attn::interval;
    Value lhs = op.getOperand(0), rhs = op.getOperand(1);
    std::string a = name(lhs), b = name(rhs);
    bool is32 = narrow(op.getResult(0)) && narrow(lhs) && narrow(rhs);
    bool isDiv = isa<arith::DivSIOp, arith::RemSIOp, arith::FloorDivSIOp>(op);
    if (!isDiv)
      return is32 ? a + " " + sym + " " + b
                  : std::string("attn::") + helper + "(" + a + ", " + b + ")";
    iv::Range d = ranges.range(rhs);
    if (!iv::plainDivisor(d))
      return std::string("attn::") + helper + "(" + a + ", " + b + ")";
    // 64-bit operands keep their type; a 32-bit one is widened by C++'s
    // usual conversions only when the other side is 64-bit.
    if (isa<arith::DivSIOp>(op))
      return a + " / " + b;
    if (isa<arith::RemSIOp>(op))
      return a + " % " + b;
    // floorDiv: the truncated quotient, one less when the remainder is
    // non-zero and has the other sign than the divisor.
    if (ranges.range(lhs).lo >= 0 && d.lo > 0)
      return a + " / " + b;
    if (d.lo > 0)
      return "(" + a + " / " + b + " - (" + a + " % " + b + " < 0))";
    return "(" + a + " / " + b + " - (" + a + " % " + b + " > 0))";
  }

  std::string unsignedBin(Operation &op, const char *sym) {
    return "(unsigned long long)" + name(op.getOperand(0)) + " " + sym +
           " (unsigned long long)" + name(op.getOperand(1));
  }

  /// The op may use a hardware approximation (fastmath<afn>).
  static bool approx(Operation &op) {
    auto fm = dyn_cast<arith::ArithFastMathInterface>(op);
    return fm && fm.getFastMathFlagsAttr() &&
           arith::bitEnumContainsAny(fm.getFastMathFlagsAttr().getValue(),
                                     arith::FastMathFlags::afn);
  }

  /// a / b; approximated: a times the reciprocal of a constant b, or
  /// __fdividef (2 ulp for |b| < 2^126).
  std::string divf(Operation &op) {
    if (!approx(op))
      return bin(op, "/");
    if (auto c = op.getOperand(1).getDefiningOp<arith::ConstantOp>())
      if (auto f = dyn_cast<FloatAttr>(c.getValue())) {
        double d = f.getValueAsDouble();
        if (d != 0.0 && std::isfinite(d) && std::isfinite(1.0 / d))
          return name(op.getOperand(0)) + " * " + floatLiteral(1.0 / d);
      }
    return call(op, "__fdividef");
  }

  static const char *cmpfSymbol(arith::CmpFPredicate p) {
    using P = arith::CmpFPredicate;
    switch (p) {
    case P::OEQ:
    case P::UEQ:
      return "==";
    case P::ONE:
    case P::UNE:
      return "!=";
    case P::OLT:
    case P::ULT:
      return "<";
    case P::OLE:
    case P::ULE:
      return "<=";
    case P::OGT:
    case P::UGT:
      return ">";
    case P::OGE:
    case P::UGE:
      return ">=";
    default:
      return nullptr;
    }
  }

  LogicalResult emitOp(Operation &op) {
    if (op.getNumResults() != 1)
      return op.emitOpError() << "cannot generate CUDA for an op with "
                              << op.getNumResults() << " results";
    std::string expr;
    bool ok = true;
    llvm::TypeSwitch<Operation *>(&op)
        .Case([&](arith::ConstantOp c) {
          Attribute v = c.getValue();
          if (auto f = dyn_cast<FloatAttr>(v))
            expr = floatLiteral(f.getValueAsDouble());
          else if (auto i = dyn_cast<IntegerAttr>(v))
            expr = i.getType().isInteger(1)
                       ? (i.getValue().getBoolValue() ? "true" : "false")
                       : std::to_string(i.getValue().getSExtValue()) +
                             (narrow(c.getResult()) ? "" : "LL");
          else
            ok = false;
        })
        .Case([&](arith::AddFOp) { expr = bin(op, "+"); })
        .Case([&](arith::SubFOp) { expr = bin(op, "-"); })
        .Case([&](arith::MulFOp) { expr = bin(op, "*"); })
        .Case([&](arith::DivFOp) { expr = divf(op); })
        .Case([&](arith::RemFOp) { expr = call(op, "fmodf"); })
        .Case([&](arith::NegFOp) { expr = "-" + name(op.getOperand(0)); })
        // maximumf/minimumf give NaN when either operand is NaN (as the
        // interpreter's max/min do); fmaxf/fminf return the other operand,
        // which is maxnumf/minnumf.
        .Case([&](arith::MaximumFOp) { expr = nanOr(op, "fmaxf"); })
        .Case([&](arith::MinimumFOp) { expr = nanOr(op, "fminf"); })
        .Case([&](arith::MaxNumFOp) { expr = call(op, "fmaxf"); })
        .Case([&](arith::MinNumFOp) { expr = call(op, "fminf"); })
        .Case([&](arith::AddIOp) { expr = intArith(op, "wrapAdd", "+"); })
        .Case([&](arith::SubIOp) { expr = intArith(op, "wrapSub", "-"); })
        .Case([&](arith::MulIOp) { expr = intArith(op, "wrapMul", "*"); })
        .Case([&](arith::DivSIOp) { expr = intArith(op, "truncDiv", "/"); })
        .Case([&](arith::RemSIOp) { expr = intArith(op, "truncRem", "%"); })
        .Case([&](arith::FloorDivSIOp) { expr = intArith(op, "floorDiv", "/"); })
        .Case([&](arith::DivUIOp) { expr = unsignedBin(op, "/"); })
        .Case([&](arith::RemUIOp) { expr = unsignedBin(op, "%"); })
        .Case([&](arith::MaxSIOp) {
          expr = name(op.getOperand(0)) + " > " + name(op.getOperand(1)) +
                 " ? " + name(op.getOperand(0)) + " : " +
                 name(op.getOperand(1));
        })
        .Case([&](arith::MinSIOp) {
          expr = name(op.getOperand(0)) + " < " + name(op.getOperand(1)) +
                 " ? " + name(op.getOperand(0)) + " : " +
                 name(op.getOperand(1));
        })
        .Case([&](arith::AndIOp) {
          expr = bin(op, op.getResult(0).getType().isInteger(1) ? "&&" : "&");
        })
        .Case([&](arith::OrIOp) {
          expr = bin(op, op.getResult(0).getType().isInteger(1) ? "||" : "|");
        })
        .Case([&](arith::XOrIOp) {
          expr = bin(op, op.getResult(0).getType().isInteger(1) ? "!=" : "^");
        })
        .Case([&](arith::ShLIOp) { expr = bin(op, "<<"); })
        .Case([&](arith::ShRSIOp) { expr = bin(op, ">>"); })
        .Case([&](arith::CmpFOp c) {
          const char *sym = cmpfSymbol(c.getPredicate());
          if (!sym)
            ok = false;
          else
            expr = bin(op, sym);
        })
        .Case([&](arith::CmpIOp c) {
          using P = arith::CmpIPredicate;
          switch (c.getPredicate()) {
          case P::eq: expr = bin(op, "=="); break;
          case P::ne: expr = bin(op, "!="); break;
          case P::slt: expr = bin(op, "<"); break;
          case P::sle: expr = bin(op, "<="); break;
          case P::sgt: expr = bin(op, ">"); break;
          case P::sge: expr = bin(op, ">="); break;
          case P::ult: expr = unsignedBin(op, "<"); break;
          case P::ule: expr = unsignedBin(op, "<="); break;
          case P::ugt: expr = unsignedBin(op, ">"); break;
          case P::uge: expr = unsignedBin(op, ">="); break;
          }
        })
        .Case([&](arith::SelectOp) {
          expr = name(op.getOperand(0)) + " ? " + name(op.getOperand(1)) +
                 " : " + name(op.getOperand(2));
        })
        .Case<arith::IndexCastOp, arith::IndexCastUIOp, arith::SIToFPOp,
              arith::UIToFPOp, arith::FPToSIOp, arith::ExtFOp, arith::TruncFOp,
              arith::ExtSIOp, arith::ExtUIOp, arith::TruncIOp>([&](auto) {
          FailureOr<std::string> t = cType(op, op.getResult(0));
          if (failed(t))
            ok = false;
          else
            expr = "(" + *t + ")" + name(op.getOperand(0));
        })
        // Transcendentals: the hardware approximation when the op carries
        // fastmath<afn> (the attn-approximate-math pass), else libdevice.
        .Case([&](math::TanhOp) {
          expr = call(op, approx(op) ? "attnc::fastTanh" : "tanhf");
        })
        .Case([&](math::ExpOp) {
          expr = call(op, approx(op) ? "__expf" : "expf");
        })
        .Case([&](math::Exp2Op) {
          expr = call(op, approx(op) ? "attnc::fastExp2" : "exp2f");
        })
        .Case([&](math::LogOp) {
          expr = call(op, approx(op) ? "__logf" : "logf");
        })
        .Case([&](math::Log2Op) {
          expr = call(op, approx(op) ? "__log2f" : "log2f");
        })
        .Case([&](math::SqrtOp) { expr = call(op, "sqrtf"); })
        .Case([&](math::RsqrtOp) { expr = call(op, "rsqrtf"); })
        .Case([&](math::AbsFOp) { expr = call(op, "fabsf"); })
        .Case([&](math::AbsIOp) {
          expr = call(op, narrow(op.getResult(0)) ? "abs" : "llabs");
        })
        .Case([&](math::PowFOp) {
          expr = call(op, approx(op) ? "__powf" : "powf");
        })
        .Case([&](math::FloorOp) { expr = call(op, "floorf"); })
        .Case([&](math::CeilOp) { expr = call(op, "ceilf"); })
        .Case([&](math::SinOp) { expr = call(op, "sinf"); })
        .Case([&](math::CosOp) { expr = call(op, "cosf"); })
        .Case([&](math::ErfOp) { expr = call(op, "erff"); })
        .Case([&](math::TanOp) { expr = call(op, "tanf"); })
        .Case([&](math::AtanOp) { expr = call(op, "atanf"); })
        .Case([&](math::FmaOp) { expr = call(op, "fmaf"); })
        .Case([&](math::CopySignOp) { expr = call(op, "copysignf"); })
        .Case([&](LookupOp l) {
          auto it = tableElements.find(l.getTable());
          if (it == tableElements.end()) {
            ok = false;
            return;
          }
          expr = "attnc::tableRead<" + it->second + ">(" + name(l.getTable());
          for (Value i : l.getIndices())
            expr += ", " + name(i);
          expr += ")";
        })
        .Default([&](Operation *) { ok = false; });
    if (!ok || expr.empty())
      return op.emitOpError()
             << "is not supported in a score modifier or mask predicate by "
                "the CUDA emitter";
    return define(op, expr);
  }
};

/// Writes the body of Spec::maskTile: every op of the where() region that
/// has a rule (rangeRuleOf, attn/Kernel/Interval.h) as a call on bounds,
/// everything else unbounded. Deterministic names t0, t1, ... as above.
void emitTileClassifier(llvm::raw_ostream &os, Block &block) {
  llvm::DenseMap<Value, std::string> names;
  llvm::DenseMap<Value, bool> isTruth;
  os << "    namespace iv = attn::interval;\n";
  os << "    [[maybe_unused]] const iv::Range bi = iv::point(b), hi = "
        "iv::point(h), qi = iv::span(q0, q1), ki = iv::span(k0, k1);\n";
  const char *args[] = {"bi", "hi", "qi", "ki"};
  for (unsigned i = 0; i < 4 && i < block.getNumArguments(); ++i)
    names[block.getArgument(i)] = args[i];
  unsigned next = 0;
  auto operandName = [&](Value v) -> std::string {
    auto it = names.find(v);
    if (it != names.end())
      return it->second;
    return v.getType().isInteger(1) ? "iv::unknown()" : "iv::full()";
  };
  std::string result = "iv::unknown()";
  for (Operation &op : block) {
    if (auto y = dyn_cast<YieldOp>(op)) {
      if (!y.getValues().empty())
        result = operandName(y.getValues()[0]);
      continue;
    }
    std::optional<RangeRule> rule = rangeRuleOf(op);
    if (!rule)
      continue; // float values, or results left unbounded
    Value r = op.getResult(0);
    bool truth = r.getType().isInteger(1);
    std::string expr;
    switch (rule->kind) {
    case RangeRule::Constant: {
      auto a = cast<IntegerAttr>(cast<arith::ConstantOp>(op).getValue());
      expr = truth ? std::string("iv::known(") +
                         (a.getValue().getBoolValue() ? "true" : "false") + ")"
                   : "iv::point(" + std::to_string(a.getValue().getSExtValue()) +
                         "LL)";
      break;
    }
    case RangeRule::Copy:
      expr = operandName(op.getOperand(0));
      if (r.getType().isInteger(32)) // keeps the value only if it fits
        expr = "(iv::fitsInt32(" + expr + ") ? " + expr +
               " : iv::span(-2147483647LL - 1, 2147483647LL))";
      break;
    case RangeRule::Call:
      expr = std::string("iv::") + rule->function + "(";
      for (unsigned i = 0; i < op.getNumOperands(); ++i)
        expr += (i ? ", " : "") + operandName(op.getOperand(i));
      expr += ")";
      break;
    }
    std::string n = "t" + std::to_string(next++);
    os << "    const iv::" << (truth ? "Truth" : "Range") << " " << n << " = "
       << expr << ";\n";
    names[r] = n;
  }
  os << "    return iv::classify(" << result << ");\n";
}

std::string cudaElementType(ElementType t) {
  switch (t) {
  case ElementType::f16:
    return "__half";
  case ElementType::bf16:
    return "__nv_bfloat16";
  case ElementType::f32:
    return "float";
  }
  return "float";
}

/// A C identifier from the spec name.
std::string identifier(llvm::StringRef name) {
  std::string s;
  for (char c : name)
    s += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    s = "k_" + s;
  return s;
}

} // namespace

FailureOr<KernelSource> emitCuda(TiledAttentionOp op, llvm::StringRef specName,
                                 llvm::StringRef target) {
  KernelSource out;
  KernelInfo &info = out.info;
  info.specName = specName.str();
  std::string id = identifier(specName);
  info.kernelName = "attnc_fwd_" + id;
  info.target = target.str();
  Type e = op.getElementType();
  info.element = e.isF16()    ? ElementType::f16
                 : e.isBF16() ? ElementType::bf16
                              : ElementType::f32;
  info.headDim = op.getHeadDim();
  info.headDimV = op.getHeadDimV();
  TilingAttr t = op.getTiling();
  const model::KernelFamily *family =
      model::lookupFamily(t.getFamily().str());
  if (!family)
    return op.emitOpError() << "unknown kernel family '" << t.getFamily()
                            << "'";
  info.family = family->name;
  if (family->decode)
    info.kernelName = "attnc_decode_" + id;
  if (family->combineFunction)
    info.combineKernelName = info.kernelName + "_combine";
  info.blockM = t.getBlockM();
  info.blockN = t.getBlockN();
  info.warps = t.getWarps();
  info.stages = t.getStages();
  info.smemBytes = t.getSmemBytes();
  info.scale = op.getScale().convertToDouble();
  info.causal = op.getCausal();
  info.window = op.getWindowLeft().has_value();
  info.windowLeft = op.getWindowLeft().value_or(0);
  info.windowRight = op.getWindowRight().value_or(0);
  info.keyPadding = static_cast<bool>(op.getKvLengths());
  info.blockSparse = static_cast<bool>(op.getBlockLayout());
  info.sparseBlockQ = op.getBlockQ().value_or(0);
  info.sparseBlockK = op.getBlockK().value_or(0);
  info.scoreMod = op.hasScoreMod();
  info.maskFn = op.hasMaskPredicate();
  info.dropout = op.getDropout().convertToDouble();
  info.sinks = static_cast<bool>(op.getSinks());
  // Tables: names and run-time bindings from the function's argument
  // attributes (attn/IR/AttnOps.h), types from the operands.
  std::vector<std::string> tableElements;
  for (Value t : op.getTables()) {
    if (info.tables.size() >= size_t(kMaxTables))
      return op.emitOpError() << "more than " << kMaxTables << " tables";
    auto type = cast<RankedTensorType>(t.getType());
    TableInfo ti;
    Type e = type.getElementType();
    ti.element = e.isF32()          ? "f32"
                 : e.isBF16()       ? "bf16"
                 : e.isF16()        ? "f16"
                 : e.isInteger(32)  ? "i32"
                                    : "i8";
    tableElements.push_back(e.isF32()         ? "float"
                            : e.isBF16()      ? "__nv_bfloat16"
                            : e.isF16()       ? "__half"
                            : e.isInteger(32) ? "int"
                                              : "signed char");
    ti.rank = int(type.getRank());
    for (int d = 0; d < ti.rank; ++d)
      ti.dims[d] = type.isDynamicDim(d) ? -1 : type.getDimSize(d);
    if (auto arg = dyn_cast<BlockArgument>(t))
      if (auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp())) {
        unsigned n = arg.getArgNumber();
        if (auto name = func.getArgAttrOfType<StringAttr>(n, kArgNameAttrName))
          ti.name = name.str();
        if (auto bind =
                func.getArgAttrOfType<DenseI64ArrayAttr>(n, kTableBindAttrName))
          for (int d = 0; d < ti.rank && d < int(bind.size()); ++d)
            ti.bind[d] = int(bind[d]);
      }
    if (ti.name.empty())
      ti.name = "table" + std::to_string(info.tables.size());
    info.tables.push_back(ti);
  }
  auto bindTables = [&](RegionEmitter &re, Block &block, unsigned fixed) {
    for (unsigned i = 0; i < tableElements.size(); ++i)
      if (fixed + i < block.getNumArguments())
        re.bindTable(block.getArgument(fixed + i),
                     "p.tables[" + std::to_string(i) + "]", tableElements[i]);
  };
  if (info.sinks && !family->features.sinks) // the tile pass checks it
    return op.emitOpError() << "attention sinks: family " << family->name
                            << " does not read them";
  BlockSkip skip = op.getBlockSkip();
  info.blockSkip = stringifyBlockSkip(skip);
  if (info.blockSkip.empty())
    info.blockSkip = "none";
  auto shapeOf = [](Value v, int64_t (&dims)[4]) {
    auto t = cast<RankedTensorType>(v.getType());
    for (int i = 0; i < 4; ++i)
      dims[i] = ShapedType::isDynamic(t.getDimSize(i)) ? -1 : t.getDimSize(i);
  };
  shapeOf(op.getQuery(), info.qShape);
  shapeOf(op.getKey(), info.kShape);
  shapeOf(op.getValue(), info.vShape);
  // Paged K/V: both are views of caches through one block table.
  auto pagedK = op.getKey().getDefiningOp<PagedKvOp>();
  auto pagedV = op.getValue().getDefiningOp<PagedKvOp>();
  if (pagedK || pagedV) {
    if (!pagedK || !pagedV || pagedK.getBlockTable() != pagedV.getBlockTable() ||
        pagedK.getSeqLens() != pagedV.getSeqLens() ||
        pagedK.getPageSize() != pagedV.getPageSize())
      return op.emitOpError()
             << "paged K/V: key and value must both be attn.paged_kv views "
                "with one block table, one seq_lens and one page size";
    info.paged = true;
    info.pageSize = pagedK.getPageSize();
    shapeOf(pagedK.getCache(), info.kShape);
    shapeOf(pagedV.getCache(), info.vShape);
  }
  // Packed variable-length sequences: Q, K and V are all attn.packed_seq
  // views (kShape etc. stay the views' [?, heads, ?, dim]).
  auto packedQ = op.getQuery().getDefiningOp<PackedSeqOp>();
  auto packedK = op.getKey().getDefiningOp<PackedSeqOp>();
  auto packedV = op.getValue().getDefiningOp<PackedSeqOp>();
  if (packedQ || packedK || packedV) {
    if (!packedQ || !packedK || !packedV ||
        packedK.getCuSeqlens() != packedV.getCuSeqlens())
      return op.emitOpError()
             << "packed sequences: query, key and value must all be "
                "attn.packed_seq views, key and value with one cu_seqlens";
    if (info.paged)
      return op.emitOpError()
             << "packed sequences cannot read paged K/V (not supported yet)";
    if (!family->features.packed) // the tile pass chose a family that has it
      return op.emitOpError()
             << "packed sequences: family " << family->name
             << " does not read them";
    info.packed = true;
    // The token tensors as the runtime takes them: [1, heads, total, dim]
    // (the batch of 1 is checked on its own).
    auto tokensShape = [](PackedSeqOp view, int64_t (&dims)[4]) {
      auto t = cast<RankedTensorType>(view.getTokens().getType());
      auto size = [&](int i) {
        return ShapedType::isDynamic(t.getDimSize(i)) ? -1 : t.getDimSize(i);
      };
      dims[0] = -1, dims[1] = size(1), dims[2] = size(0), dims[3] = size(2);
    };
    tokensShape(packedQ, info.qShape);
    tokensShape(packedK, info.kShape);
    tokensShape(packedV, info.vShape);
    const int64_t cu = packedQ.getCuSeqlens().getType().getDimSize(0);
    info.packedSequences = ShapedType::isDynamic(cu) ? -1 : cu - 1;
  }

  std::string body;
  llvm::raw_string_ostream os(body);
  std::string spec = "AttnSpec_" + id;
  auto flag = [](bool b) { return b ? "true" : "false"; };
  os << "#include \"" << family->deviceHeader << "\"\n\n";
  os << "struct " << spec << " {\n";
  os << "  using Element = " << cudaElementType(info.element) << ";\n";
  os << "  static constexpr int kHeadDim = " << info.headDim
     << ", kHeadDimV = " << info.headDimV << ";\n";
  os << "  static constexpr int kBlockM = " << info.blockM
     << ", kBlockN = " << info.blockN << ", kWarps = " << info.warps
     << ", kStages = " << info.stages << ";\n";
  os << "  static constexpr bool kCausal = " << flag(info.causal)
     << ", kWindow = " << flag(info.window)
     << ", kKeyPadding = " << flag(info.keyPadding)
     << ", kBlockSparse = " << flag(info.blockSparse) << ";\n";
  os << "  static constexpr bool kScoreMod = " << flag(info.scoreMod)
     << ", kMaskFn = " << flag(info.maskFn)
     << ", kDropout = " << flag(info.dropout > 0.0) << ";\n";
  // Which masks may skip key blocks (the tiled op's block_skip); a mask not
  // listed here is applied element by element only.
  auto skips = [&](BlockSkip bit) {
    return flag(bitEnumContainsAny(skip, bit));
  };
  os << "  static constexpr bool kSkipCausal = " << skips(BlockSkip::causal)
     << ", kSkipWindow = " << skips(BlockSkip::window)
     << ", kSkipLengths = " << skips(BlockSkip::lengths)
     << ", kSkipSparse = " << skips(BlockSkip::sparse)
     << ", kSkipWhere = " << skips(BlockSkip::where) << ";\n";
  // fwd.split_kv: GQA-packed rows and a split key range (flash_fwd.cuh).
  os << "  static constexpr bool kDecode = " << flag(family->decode) << ";\n";
  os << "  static constexpr bool kPaged = " << flag(info.paged)
     << "; static constexpr int kPageSize = " << std::max<int64_t>(info.pageSize, 1)
     << ";\n";
  os << "  static constexpr bool kPacked = " << flag(info.packed) << ";\n";
  os << "  static constexpr bool kSinks = " << flag(info.sinks) << ";\n";

  // Score modifier: s is the scaled score.
  os << "  // s is the scaled score (p.scale * q.k); returns the modified "
        "score.\n";
  os << "  __device__ static __forceinline__ float scoreMod(float s, int b, "
        "int h, int q, int k, const attnc::FwdParams &p) {\n";
  // The indices are below the launch limits (attn/Kernel/Params.h), so
  // they and every value proven to fit are 32-bit ints.
  const IndexBox launchBox = launchIndexBox();
  if (info.scoreMod) {
    Block &block = op.getScoreMod().front();
    IndexRanges ranges(block, launchBox);
    RegionEmitter re(os, "    ", ranges);
    re.bind(block.getArgument(0), "s");
    os << "    [[maybe_unused]] const int bi = b, hi = h, qi = q, ki = k;\n";
    re.bind(block.getArgument(1), "bi");
    re.bind(block.getArgument(2), "hi");
    re.bind(block.getArgument(3), "qi");
    re.bind(block.getArgument(4), "ki");
    bindTables(re, block, 5);
    FailureOr<std::string> r = re.emitBlock(block);
    if (failed(r))
      return failure();
    os << "    return " << *r << ";\n";
  } else {
    os << "    return s;\n";
  }
  os << "  }\n";
  os << "  // true: the score is kept; false: masked to -inf.\n";
  os << "  __device__ static __forceinline__ bool maskFn(int b, int h, int q, "
        "int k, const attnc::FwdParams &p) {\n";
  if (info.maskFn) {
    Block &block = op.getMask().front();
    IndexRanges ranges(block, launchBox);
    RegionEmitter re(os, "    ", ranges);
    os << "    [[maybe_unused]] const int bi = b, hi = h, qi = q, ki = k;\n";
    re.bind(block.getArgument(0), "bi");
    re.bind(block.getArgument(1), "hi");
    re.bind(block.getArgument(2), "qi");
    re.bind(block.getArgument(3), "ki");
    bindTables(re, block, 4);
    FailureOr<std::string> r = re.emitBlock(block);
    if (failed(r))
      return failure();
    os << "    return " << *r << ";\n";
  } else {
    os << "    return true;\n";
  }
  os << "  }\n";
  // The tile classifier: the same predicate in interval arithmetic over
  // rows [q0, q1] x keys [k0, k1] (inclusive) of batch b, head h.
  os << "  // The where() predicate over a tile: attn::interval::kTileNone "
        "(false everywhere),\n"
        "  // kTileAll (true everywhere) or kTileSome (attn/Kernel/Interval.h)."
        "\n";
  os << "  __device__ static __forceinline__ int maskTile(int b, int h, int "
        "q0, int q1, int k0, int k1, const attnc::FwdParams &p) {\n";
  if (info.maskFn)
    emitTileClassifier(os, op.getMask().front());
  else
    os << "    return attn::interval::kTileAll;\n";
  os << "  }\n};\n\n";
  os << "static_assert(" << family->traitsTemplate << "<" << spec
     << ">::kSmemBytes == "
     << info.smemBytes
     << ", \"the SRAM model and the kernel disagree on shared memory\");\n\n";
  os << "extern \"C\" __global__ void __launch_bounds__(" << spec
     << "::kWarps * 32)\n"
     << info.kernelName
     << "(const __grid_constant__ " << family->paramsType << " p) {\n"
     << "  " << family->entryFunction << "<" << spec << ">(p);\n}\n";
  if (family->combineFunction)
    os << "\n// Combines the splits' partial O and LSE (more than one split).\n"
       << "extern \"C\" __global__ void __launch_bounds__("
       << attnc::fwd_split_kv::kCombineThreads << ")\n"
       << info.combineKernelName << "(const __grid_constant__ "
       << family->paramsType << " p) {\n"
       << "  " << family->combineFunction << "<" << spec << ">(p);\n}\n";

  std::string header;
  llvm::raw_string_ostream hs(header);
  hs << "// Generated by attnc. Do not edit.\n"
     << "// spec:   " << info.specName << "\n"
     << "// target: " << info.target << "\n"
     << "// family: " << info.family << "\n"
     << "// dtype " << elementTypeName(info.element) << ", head dim "
     << info.headDim << "/" << info.headDimV << "; tiles " << info.blockM
     << "x" << info.blockN << ", " << info.warps << " warps, " << info.stages
     << " stages, " << info.smemBytes << " B shared memory; skip "
     << info.blockSkip << "\n";
  // Integer arithmetic in the regions calls attn/Kernel/IntMath.h, the tile
  // classifier attn/Kernel/Interval.h.
  out.source = header + "#include \"attn/Kernel/IntMath.h\"\n" +
               "#include \"attn/Kernel/Interval.h\"\n" + body;
  return out;
}

FailureOr<std::vector<KernelSource>> emitModule(ModuleOp module,
                                                llvm::StringRef target) {
  std::vector<KernelSource> kernels;
  bool failedAny = false;
  module.walk([&](TiledAttentionOp op) {
    auto func = op->getParentOfType<func::FuncOp>();
    std::string name = func ? func.getSymName().str() : "attention";
    // Several attention ops in one function get numbered kernels.
    for (const KernelSource &k : kernels)
      if (k.info.specName == name)
        name += "_" + std::to_string(kernels.size());
    FailureOr<KernelSource> k = emitCuda(op, name, target);
    if (failed(k)) {
      failedAny = true;
      return;
    }
    kernels.push_back(std::move(*k));
  });
  if (failedAny)
    return failure();
  return kernels;
}

} // namespace attnc::codegen
