//===- Parser.cpp - recursive-descent parser of the attention DSL ---------===//
#include "attnc/DSL/Parser.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

using namespace attnc::dsl;

void Parser::syntaxError(SourceLoc loc, std::string message) {
  // After an invalid character in this statement, errors of the parser are
  // mostly its consequences: the lexer's error says it all.
  if (lexErrors != lexErrorsAtStatement)
    return;
  diags.error(loc, std::move(message));
}

void Parser::consume() {
  // Invalid characters were reported by the lexer; skip them here so the
  // parser sees only real tokens.
  tok = lexer.next();
  while (tok.kind == Tok::Error && !tooManyErrors()) {
    ++lexErrors;
    tok = lexer.next();
  }
  if (tok.kind == Tok::Error)
    tok.kind = Tok::Eof;
}

/// At most 64 characters of a token, for messages.
static std::string shortText(std::string_view text) {
  if (text.size() <= 64)
    return std::string(text);
  return std::string(text.substr(0, 64)) + "...";
}

static std::string describe(const Token &t) {
  if (t.kind == Tok::Ident || t.kind == Tok::Int || t.kind == Tok::Float) {
    // Numbers can be long ("0000...1"); keep messages short.
    std::string_view text = t.text.substr(0, 64);
    return std::string(toString(t.kind)) + " '" + std::string(text) +
           (t.text.size() > 64 ? "...'" : "'");
  }
  return toString(t.kind);
}

bool Parser::expect(Tok kind, const char *what) {
  if (tok.kind == kind) {
    consume();
    return true;
  }
  syntaxError(tok.loc,
              std::string("expected ") + what + ", found " + describe(tok));
  return false;
}

void Parser::skipToStatement() {
  while (tok.kind != Tok::Eof && tok.kind != Tok::RBrace) {
    if (tok.kind == Tok::Semi) {
      consume();
      return;
    }
    consume();
    if (tok.atLineStart)
      return;
  }
}

ModuleAST attnc::dsl::parseSource(std::string_view source,
                                  std::string_view filename,
                                  DiagnosticEngine &diags) {
  if (!validateUtf8(source, diags))
    return ModuleAST{std::string(filename), {}};
  Parser p(source, diags);
  return p.parseModule(filename);
}

ModuleAST Parser::parseModule(std::string_view filename) {
  ModuleAST m;
  m.filename = std::string(filename);
  while (tok.kind != Tok::Eof && !tooManyErrors()) {
    lexErrorsAtStatement = lexErrors;
    if (tok.kind != Tok::KwAttention) {
      syntaxError(tok.loc,
                  "expected 'attention NAME { ... }', found " + describe(tok));
      // Skip to the next `attention` keyword.
      do
        consume();
      while (tok.kind != Tok::Eof && tok.kind != Tok::KwAttention);
      continue;
    }
    if (m.specs.size() == kMaxSpecs) {
      syntaxError(tok.loc, "too many attention blocks in one file (the limit "
                           "is " +
                               std::to_string(kMaxSpecs) + "); split the file");
      break;
    }
    AttentionSpecAST spec;
    unsigned errorsBefore = diags.errorCount();
    bool parsed = parseAttention(spec);
    spec.hasSyntaxErrors = diags.errorCount() != errorsBefore;
    if (parsed)
      m.specs.push_back(std::move(spec));
  }
  if (m.specs.empty() && !diags.hasErrors())
    syntaxError(SourceLoc{1, 1, 0},
                "no attention block in this file (an empty file?); "
                "expected 'attention NAME { ... }'");
  return m;
}

bool Parser::parseAttention(AttentionSpecAST &spec) {
  spec.loc = tok.loc;
  consume(); // 'attention'
  if (tok.kind != Tok::Ident) {
    syntaxError(tok.loc, "expected the attention's name after 'attention', "
                         "found " +
                             describe(tok));
    while (tok.kind != Tok::Eof && tok.kind != Tok::KwAttention)
      consume();
    return false;
  }
  spec.name = std::string(tok.text);
  consume();
  if (!expect(Tok::LBrace, "'{' to open the attention block")) {
    while (tok.kind != Tok::Eof && tok.kind != Tok::KwAttention)
      consume();
    return false;
  }
  for (;;) {
    if (tooManyErrors())
      return false;
    if (tok.kind == Tok::RBrace) {
      consume();
      return true;
    }
    if (tok.kind == Tok::Eof || tok.kind == Tok::KwAttention) {
      syntaxError(spec.loc,
                  "attention block '" + spec.name +
                      "' is not closed: expected '}' before " +
                      (tok.kind == Tok::Eof ? std::string("the end of the file")
                                            : "the next 'attention'"));
      return true;
    }
    uint32_t before = tok.loc.offset;
    Tok beforeKind = tok.kind;
    lexErrorsAtStatement = lexErrors;
    StmtAST stmt;
    if (parseStatement(stmt)) {
      if (tok.kind == Tok::Semi) {
        consume();
      } else if (tok.kind != Tok::RBrace && tok.kind != Tok::Eof &&
                 !tok.atLineStart) {
        syntaxError(tok.loc, "expected the end of the statement (a new line "
                             "or ';'), found " +
                                 describe(tok));
        skipToStatement();
      }
      spec.stmts.push_back(std::move(stmt));
      continue;
    }
    if (tok.loc.offset == before && tok.kind == beforeKind &&
        tok.kind != Tok::Eof && tok.kind != Tok::RBrace)
      consume();
    if (!tok.atLineStart)
      skipToStatement();
  }
}

bool Parser::parseStatement(StmtAST &stmt) {
  stmt.loc = tok.loc;
  if (tok.kind == Tok::KwReturn) {
    stmt.kind = StmtAST::Return;
    consume();
    for (;;) {
      if (tok.kind != Tok::Ident) {
        syntaxError(tok.loc,
                    "expected a name to return, found " + describe(tok));
        return false;
      }
      stmt.results.push_back({std::string(tok.text), tok.loc});
      consume();
      if (tok.kind != Tok::Comma)
        return true;
      consume();
    }
  }
  if (tok.kind != Tok::Ident) {
    syntaxError(tok.loc, "expected a statement (an input 'x: bf16[...]', an "
                         "assignment 'x = ...' or 'return'), found " +
                             describe(tok));
    return false;
  }
  stmt.name = std::string(tok.text);
  stmt.nameLoc = tok.loc;
  consume();
  if (tok.kind == Tok::Colon) {
    stmt.kind = StmtAST::Input;
    consume();
    return parseType(stmt.type);
  }
  if (tok.kind == Tok::Assign) {
    stmt.kind = StmtAST::Assign;
    consume();
    stmt.value = parseExpr(1);
    return stmt.value != nullptr;
  }
  syntaxError(tok.loc, "expected ':' (to declare an input) or '=' (to assign) "
                       "after '" +
                           stmt.name + "', found " + describe(tok));
  return false;
}

static bool parseInteger(std::string_view text, int64_t &out) {
  constexpr int64_t kMax = int64_t(1) << 53;
  int64_t v = 0;
  for (char c : text) {
    v = v * 10 + (c - '0');
    if (v > kMax)
      return false;
  }
  out = v;
  return true;
}

bool Parser::parseType(TypeAST &type) {
  type.loc = tok.loc;
  if (tok.kind != Tok::Ident) {
    syntaxError(tok.loc, "expected a type (f16, bf16, f32, i8, i32 or i64), "
                         "found " +
                             describe(tok));
    return false;
  }
  std::string_view t = tok.text;
  if (t == "f16")
    type.elem = ElemType::F16;
  else if (t == "bf16")
    type.elem = ElemType::BF16;
  else if (t == "f32")
    type.elem = ElemType::F32;
  else if (t == "i8")
    type.elem = ElemType::I8;
  else if (t == "i32")
    type.elem = ElemType::I32;
  else if (t == "i64")
    type.elem = ElemType::I64;
  else {
    syntaxError(tok.loc, "unknown type '" + std::string(t) +
                             "'; expected f16, bf16, f32, i8, i32 or i64");
    return false;
  }
  consume();
  if (tok.kind != Tok::LBracket) {
    type.scalar = true;
    return true;
  }
  type.scalar = false;
  consume();
  for (;;) {
    DimAST d;
    d.loc = tok.loc;
    if (tok.kind == Tok::Ident) {
      d.symbol = std::string(tok.text);
    } else if (tok.kind == Tok::Int) {
      if (!parseInteger(tok.text, d.value)) {
        syntaxError(tok.loc,
                    "dimension '" + shortText(tok.text) + "' is too large");
        return false;
      }
    } else {
      syntaxError(tok.loc, "expected a dimension (a name such as 'n' or a "
                           "number), found " +
                               describe(tok));
      return false;
    }
    consume();
    type.dims.push_back(std::move(d));
    if (tok.kind == Tok::Comma) {
      consume();
      continue;
    }
    return expect(Tok::RBracket, "',' or ']' in the shape");
  }
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

static ExprPtr makeNode(ExprKind kind, SourceLoc loc) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->loc = loc;
  return e;
}

ExprPtr Parser::checkDepth(ExprPtr e) {
  if (!e)
    return e;
  unsigned d = 0;
  for (const ExprPtr &a : e->args)
    d = std::max(d, a->depth);
  e->depth = d + 1;
  if (e->depth > kMaxExprDepth) {
    syntaxError(e->loc, "expression is nested too deeply (more than " +
                            std::to_string(kMaxExprDepth) + " levels)");
    return nullptr;
  }
  return e;
}

ExprPtr Parser::parseExpr(unsigned depth) {
  if (depth > kMaxExprDepth) {
    syntaxError(tok.loc, "expression is nested too deeply (more than " +
                             std::to_string(kMaxExprDepth) + " levels)");
    return nullptr;
  }
  ExprPtr cond = parseBinary(0, depth);
  if (!cond || tok.kind != Tok::Question)
    return cond;
  SourceLoc loc = tok.loc;
  consume();
  ExprPtr a = parseExpr(depth + 1);
  if (!a)
    return nullptr;
  if (!expect(Tok::Colon, "':' of the conditional 'c ? a : b'"))
    return nullptr;
  ExprPtr b = parseExpr(depth + 1);
  if (!b)
    return nullptr;
  ExprPtr e = makeNode(ExprKind::Ternary, loc);
  e->args.push_back(std::move(cond));
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  return checkDepth(std::move(e));
}

/// Binary operator of `t` at precedence `level` (0 = loosest), if any.
static bool binaryOp(Tok t, unsigned level, OpKind &op) {
  switch (level) {
  case 0:
    if (t == Tok::OrOr)
      return op = OpKind::Or, true;
    return false;
  case 1:
    if (t == Tok::AndAnd)
      return op = OpKind::And, true;
    return false;
  case 2:
    if (t == Tok::EqEq)
      return op = OpKind::Eq, true;
    if (t == Tok::NotEq)
      return op = OpKind::Ne, true;
    return false;
  case 3:
    if (t == Tok::Lt)
      return op = OpKind::Lt, true;
    if (t == Tok::Le)
      return op = OpKind::Le, true;
    if (t == Tok::Gt)
      return op = OpKind::Gt, true;
    if (t == Tok::Ge)
      return op = OpKind::Ge, true;
    return false;
  case 4:
    if (t == Tok::Plus)
      return op = OpKind::Add, true;
    if (t == Tok::Minus)
      return op = OpKind::Sub, true;
    return false;
  case 5:
    if (t == Tok::Star)
      return op = OpKind::Mul, true;
    if (t == Tok::Slash)
      return op = OpKind::Div, true;
    if (t == Tok::Percent)
      return op = OpKind::Mod, true;
    return false;
  }
  return false;
}

ExprPtr Parser::parseBinary(unsigned level, unsigned depth) {
  if (level > 5)
    return parseUnary(depth);
  ExprPtr lhs = parseBinary(level + 1, depth);
  OpKind op;
  while (lhs && binaryOp(tok.kind, level, op)) {
    SourceLoc loc = tok.loc;
    consume();
    ExprPtr rhs = parseBinary(level + 1, depth);
    if (!rhs)
      return nullptr;
    ExprPtr e = makeNode(ExprKind::Binary, loc);
    e->op = op;
    e->args.push_back(std::move(lhs));
    e->args.push_back(std::move(rhs));
    lhs = checkDepth(std::move(e));
  }
  return lhs;
}

ExprPtr Parser::parseUnary(unsigned depth) {
  if (depth > kMaxExprDepth) {
    syntaxError(tok.loc, "expression is nested too deeply (more than " +
                             std::to_string(kMaxExprDepth) + " levels)");
    return nullptr;
  }
  OpKind op;
  if (tok.kind == Tok::Minus)
    op = OpKind::Neg;
  else if (tok.kind == Tok::Plus)
    op = OpKind::Plus;
  else if (tok.kind == Tok::Bang)
    op = OpKind::Not;
  else
    return parsePostfix(depth);
  SourceLoc loc = tok.loc;
  consume();
  ExprPtr operand = parseUnary(depth + 1);
  if (!operand)
    return nullptr;
  ExprPtr e = makeNode(ExprKind::Unary, loc);
  e->op = op;
  e->args.push_back(std::move(operand));
  return checkDepth(std::move(e));
}

ExprPtr Parser::parsePostfix(unsigned depth) {
  ExprPtr e = parsePrimary(depth);
  if (!e || tok.kind != Tok::Caret)
    return e;
  SourceLoc loc = tok.loc;
  consume();
  if (tok.kind != Tok::Ident || tok.text != "T") {
    syntaxError(tok.loc, "expected 'T' after '^' (write k^T for the "
                         "transpose of k), found " +
                             describe(tok));
    return nullptr;
  }
  consume();
  ExprPtr t = makeNode(ExprKind::Transpose, loc);
  t->args.push_back(std::move(e));
  return checkDepth(std::move(t));
}

ExprPtr Parser::parsePrimary(unsigned depth) {
  SourceLoc loc = tok.loc;
  switch (tok.kind) {
  case Tok::Int: {
    ExprPtr e = makeNode(ExprKind::Number, loc);
    int64_t v;
    if (!parseInteger(tok.text, v)) {
      syntaxError(loc, "integer literal '" + shortText(tok.text) +
                           "' is too large (the limit is 2^53)");
      return nullptr;
    }
    e->number = static_cast<double>(v);
    e->isIntLiteral = true;
    consume();
    return e;
  }
  case Tok::Float: {
    ExprPtr e = makeNode(ExprKind::Number, loc);
    std::string text(tok.text);
    e->number = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(e->number)) {
      syntaxError(loc, "number '" + shortText(text) + "' is out of range");
      return nullptr;
    }
    consume();
    return e;
  }
  case Tok::Ident: {
    std::string name(tok.text);
    consume();
    if (tok.kind == Tok::LBracket) { // a table element: rel[h, i]
      consume();
      ExprPtr e = makeNode(ExprKind::Index, loc);
      e->name = std::move(name);
      for (;;) {
        ExprPtr index = parseExpr(depth + 1);
        if (!index)
          return nullptr;
        e->args.push_back(std::move(index));
        if (tok.kind == Tok::Comma) {
          consume();
          continue;
        }
        if (!expect(Tok::RBracket, "',' or ']' in the index"))
          return nullptr;
        return checkDepth(std::move(e));
      }
    }
    if (tok.kind != Tok::LParen) {
      ExprPtr e = makeNode(ExprKind::Ident, loc);
      e->name = std::move(name);
      return e;
    }
    consume();
    ExprPtr call = makeNode(ExprKind::Call, loc);
    call->name = std::move(name);
    if (tok.kind == Tok::RParen) {
      consume();
      return call;
    }
    for (;;) {
      ExprPtr arg = parseExpr(depth + 1);
      if (!arg)
        return nullptr;
      // `name: value`, a named argument (Sema says which calls take one).
      if (arg->kind == ExprKind::Ident && tok.kind == Tok::Colon) {
        consume();
        ExprPtr value = parseExpr(depth + 1);
        if (!value)
          return nullptr;
        call->argNames.resize(call->args.size());
        call->argNameLocs.resize(call->args.size());
        call->argNames.push_back(arg->name);
        call->argNameLocs.push_back(arg->loc);
        arg = std::move(value);
      } else if (!call->argNames.empty()) {
        call->argNames.emplace_back();
        call->argNameLocs.push_back(arg->loc);
      }
      call->args.push_back(std::move(arg));
      if (tok.kind == Tok::Comma) {
        consume();
        continue;
      }
      if (!expect(Tok::RParen, "',' or ')' in the call"))
        return nullptr;
      return checkDepth(std::move(call));
    }
  }
  case Tok::LParen: {
    consume();
    ExprPtr e = parseExpr(depth + 1);
    if (!e)
      return nullptr;
    if (!expect(Tok::RParen, "')'"))
      return nullptr;
    return e;
  }
  default:
    syntaxError(loc, "expected an expression, found " + describe(tok));
    return nullptr;
  }
}
