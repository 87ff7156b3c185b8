//===- Parser.h - recursive-descent parser of the attention DSL -*- C++ -*-===//
//
//   file      := attention*
//   attention := 'attention' IDENT '{' stmt* '}'
//   stmt      := IDENT ':' type | IDENT '=' expr | 'return' IDENT (',' IDENT)*
//                (each optionally followed by ';')
//   type      := ('f16'|'bf16'|'f32'|'i8'|'i32') '[' dim (',' dim)* ']' | 'i64'
//   dim       := IDENT | INT
//   expr      := or ('?' expr ':' expr)?
//   or := and ('||' and)*      and := eq ('&&' eq)*
//   eq := rel (('=='|'!=') rel)*   rel := add (('<'|'<='|'>'|'>=') add)*
//   add := mul (('+'|'-') mul)*    mul := unary (('*'|'/'|'%') unary)*
//   unary := ('-'|'+'|'!') unary | postfix
//   postfix := primary ('^' 'T')?
//   primary := NUMBER | IDENT | IDENT '(' (expr (',' expr)*)? ')' | '(' expr
//   ')'
//
// Errors recover at the next statement (the next token that starts a line),
// so one run reports every bad statement of a file.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_PARSER_H
#define ATTNC_DSL_PARSER_H

#include "attnc/DSL/AST.h"
#include "attnc/DSL/Lexer.h"

namespace attnc::dsl {

class Parser {
public:
  /// Deepest expression tree accepted (nesting of parentheses, calls,
  /// operators); deeper input is an error, never a stack overflow.
  static constexpr unsigned kMaxExprDepth = 256;
  /// Most `attention` blocks in one file: every block of a file becomes one
  /// NVRTC translation unit (a second or so of compile time per block).
  static constexpr size_t kMaxSpecs = 64;

  Parser(std::string_view source, DiagnosticEngine &diags)
      : lexer(source, diags), diags(diags) {
    consume();
  }

  /// Parses a whole file. Returns the module even when errors were reported
  /// (check diags.hasErrors()).
  ModuleAST parseModule(std::string_view filename);

private:
  void consume();
  void syntaxError(SourceLoc loc, std::string message);
  bool expect(Tok kind, const char *what);
  bool tooManyErrors() const {
    return diags.errorCount() > DiagnosticEngine::kMaxErrors;
  }
  void skipToStatement();

  bool parseAttention(AttentionSpecAST &spec);
  bool parseStatement(StmtAST &stmt);
  bool parseType(TypeAST &type);

  ExprPtr parseExpr(unsigned depth);
  ExprPtr parseBinary(unsigned level, unsigned depth);
  ExprPtr parseUnary(unsigned depth);
  ExprPtr parsePostfix(unsigned depth);
  ExprPtr parsePrimary(unsigned depth);
  ExprPtr checkDepth(ExprPtr e);

  Lexer lexer;
  DiagnosticEngine &diags;
  Token tok;
  unsigned lexErrors = 0;            ///< invalid characters seen so far
  unsigned lexErrorsAtStatement = 0; ///< ... when the statement began
};

/// Parses `source`; diagnostics go to `diags`. Validates UTF-8 first and
/// reports an empty file.
ModuleAST parseSource(std::string_view source, std::string_view filename,
                      DiagnosticEngine &diags);

} // namespace attnc::dsl

#endif // ATTNC_DSL_PARSER_H
