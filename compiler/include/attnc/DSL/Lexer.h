//===- Lexer.h - tokens of the attention DSL --------------------*- C++ -*-===//
//
// A hand-written lexer producing one token at a time (a 16 MiB file is never
// turned into a token vector). Newlines are whitespace; `#` and `//` start a
// comment that runs to the end of the line. Non-ASCII text is allowed only in
// comments; invalid UTF-8 anywhere is an error (see validateUtf8).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_LEXER_H
#define ATTNC_DSL_LEXER_H

#include "attnc/DSL/Diagnostics.h"

#include <string>
#include <string_view>

namespace attnc::dsl {

enum class Tok {
  Eof,
  Error,
  Ident,
  Int,
  Float,
  KwAttention,
  KwReturn,
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Semi,
  Assign,
  Question,
  Caret,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Lt,
  Le,
  Gt,
  Ge,
  EqEq,
  NotEq,
  AndAnd,
  OrOr,
  Bang,
};
const char *toString(Tok t);

struct Token {
  Tok kind = Tok::Eof;
  SourceLoc loc;
  std::string_view text;
  /// First token on its line: statement recovery restarts here.
  bool atLineStart = false;
};

class Lexer {
public:
  /// Longest identifier accepted (keeps every message short).
  static constexpr size_t kMaxIdentLength = 256;

  /// A UTF-8 byte order mark at the start is skipped (as clang and Python
  /// do); columns count from the character after it.
  Lexer(std::string_view source, DiagnosticEngine &diags)
      : src(source), diags(diags) {
    if (src.substr(0, 3) == "\xEF\xBB\xBF")
      pos = 3;
  }

  /// Returns the next token; Tok::Error tokens have been reported.
  Token next();

private:
  char peek(size_t ahead = 0) const {
    return pos + ahead < src.size() ? src[pos + ahead] : '\0';
  }
  bool atEnd() const { return pos >= src.size(); }
  void advance(size_t n = 1);
  SourceLoc here() const { return {line, col, static_cast<uint32_t>(pos)}; }
  Token make(Tok kind, SourceLoc start, bool lineStart);

  std::string_view src;
  DiagnosticEngine &diags;
  size_t pos = 0;
  uint32_t line = 1, col = 1;
  bool sawNewline = true;
};

/// Checks that `source` is valid UTF-8 (no overlong forms, surrogates or
/// code points above U+10FFFF). Reports the first bad byte and returns false.
bool validateUtf8(std::string_view source, DiagnosticEngine &diags);

} // namespace attnc::dsl

#endif // ATTNC_DSL_LEXER_H
