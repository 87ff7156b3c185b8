//===- ASTDump.cpp - print the DSL syntax tree ----------------------------===//
#include "attnc/DSL/ASTDump.h"

#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <sstream>

using namespace attnc::dsl;

static std::string number(double v, bool isInt) {
  if (isInt)
    return std::to_string(static_cast<long long>(v));
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  // The shortest decimal that reads back as the same double.
  std::string s;
  for (int prec = 6; prec <= 17; ++prec) {
    std::ostringstream os;
    os << std::setprecision(prec) << v;
    s = os.str();
    if (std::strtod(s.c_str(), nullptr) == v)
      break;
  }
  if (s.find_first_of(".en") == std::string::npos)
    s += ".0";
  return s;
}

static std::string where(SourceLoc loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

void attnc::dsl::dumpExpr(const Expr &e, std::ostream &os) {
  switch (e.kind) {
  case ExprKind::Number:
    os << number(e.number, e.isIntLiteral);
    return;
  case ExprKind::Ident:
    os << e.name;
    return;
  case ExprKind::Transpose:
    dumpExpr(*e.args[0], os);
    os << "^T";
    return;
  case ExprKind::Unary:
  case ExprKind::Binary:
    os << '(' << toString(e.op);
    break;
  case ExprKind::Ternary:
    os << "(?:";
    break;
  case ExprKind::Call:
    os << '(' << e.name;
    break;
  case ExprKind::Index:
    os << "([] " << e.name;
    break;
  }
  for (const ExprPtr &a : e.args) {
    os << ' ';
    dumpExpr(*a, os);
  }
  os << ')';
}

void attnc::dsl::dumpSpec(const AttentionSpecAST &spec, std::ostream &os) {
  os << "attention " << spec.name << " @" << where(spec.loc) << "\n";
  if (!spec.analyzed) {
    // Not analyzed (errors): the statements as parsed.
    for (const StmtAST &s : spec.stmts) {
      os << "  stmt @" << where(s.loc) << " ";
      if (s.kind == StmtAST::Input)
        os << "input " << s.name << ": " << s.type.str();
      else if (s.kind == StmtAST::Assign) {
        os << s.name << " = ";
        dumpExpr(*s.value, os);
      } else {
        os << "return";
        for (auto &r : s.results)
          os << ' ' << r.first;
      }
      os << "\n";
    }
    return;
  }
  for (const InputDecl &in : spec.inputs)
    os << "  input " << in.name << ": " << in.type.str()
       << " role=" << toString(in.role) << (in.implicit ? " implicit" : "")
       << "\n";
  if (spec.paged())
    os << "  paged k/v: table " << spec.inputs[spec.blockTable].name
       << ", seq_lens " << spec.inputs[spec.seqLens].name << ", page size "
       << spec.pageSize() << "\n";
  if (spec.packed())
    os << "  packed sequences: cu_seqlens_q "
       << spec.inputs[spec.cuSeqlensQ].name << ", cu_seqlens_k "
       << spec.inputs[spec.cuSeqlensK].name << "\n";
  for (const auto &[name, value] : spec.constants)
    os << "  const " << name << " = " << number(value.first, value.second)
       << "\n";
  std::string prev;
  for (const ChainStep &st : spec.steps) {
    os << "  " << toString(st.kind) << " @" << where(st.loc) << " " << st.result
       << " =";
    switch (st.kind) {
    case ChainStep::QK:
      os << " matmul(" << spec.inputs[st.lhsInput].name << ", "
         << spec.inputs[st.rhsInput].name << "^T)";
      if (st.hasScale)
        os << " scale=" << number(st.scale, false);
      break;
    case ChainStep::Scale:
      os << " factor=" << number(st.scale, false);
      break;
    case ChainStep::ScoreMod:
      os << ' ';
      dumpExpr(*st.expr, os);
      break;
    case ChainStep::Mask:
      os << ' ' << toString(st.mask);
      if (st.mask == MaskKind::Window)
        os << " left=" << st.windowLeft << " right=" << st.windowRight;
      if (st.mask == MaskKind::Lengths)
        os << ' ' << spec.inputs[st.auxInput].name;
      if (st.mask == MaskKind::Blocks)
        os << ' ' << spec.inputs[st.auxInput].name << " block_q=" << st.blockQ
           << " block_k=" << st.blockK;
      if (st.mask == MaskKind::Where) {
        os << ' ';
        dumpExpr(*st.expr, os);
      }
      break;
    case ChainStep::Softmax:
      break;
    case ChainStep::Dropout:
      os << " p=" << number(st.dropout, false)
         << " seed=" << spec.inputs[st.seedInput].name
         << " offset=" << spec.inputs[st.offsetInput].name;
      break;
    case ChainStep::PV:
      os << " matmul(" << prev << ", " << spec.inputs[st.rhsInput].name << ")";
      break;
    }
    if (st.kind == ChainStep::Softmax)
      os << " softmax(" << prev << ")";
    prev = st.result;
    os << "\n";
  }
  os << "  return " << spec.outputName
     << (spec.returnsLogSumExp ? ", logsumexp" : "") << "\n";
}

void attnc::dsl::dumpModule(const ModuleAST &module, std::ostream &os) {
  os << "module " << module.filename << "\n";
  for (const AttentionSpecAST &s : module.specs)
    dumpSpec(s, os);
}
