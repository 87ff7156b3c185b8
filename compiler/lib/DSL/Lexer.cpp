//===- Lexer.cpp - tokens of the attention DSL ----------------------------===//
#include "attnc/DSL/Lexer.h"

#include <algorithm>
#include <cstdio>

using namespace attnc::dsl;

const char *attnc::dsl::toString(Tok t) {
  switch (t) {
  case Tok::Eof:
    return "end of file";
  case Tok::Error:
    return "invalid token";
  case Tok::Ident:
    return "identifier";
  case Tok::Int:
    return "integer";
  case Tok::Float:
    return "number";
  case Tok::KwAttention:
    return "'attention'";
  case Tok::KwReturn:
    return "'return'";
  case Tok::LBrace:
    return "'{'";
  case Tok::RBrace:
    return "'}'";
  case Tok::LParen:
    return "'('";
  case Tok::RParen:
    return "')'";
  case Tok::LBracket:
    return "'['";
  case Tok::RBracket:
    return "']'";
  case Tok::Comma:
    return "','";
  case Tok::Colon:
    return "':'";
  case Tok::Semi:
    return "';'";
  case Tok::Assign:
    return "'='";
  case Tok::Question:
    return "'?'";
  case Tok::Caret:
    return "'^'";
  case Tok::Plus:
    return "'+'";
  case Tok::Minus:
    return "'-'";
  case Tok::Star:
    return "'*'";
  case Tok::Slash:
    return "'/'";
  case Tok::Percent:
    return "'%'";
  case Tok::Lt:
    return "'<'";
  case Tok::Le:
    return "'<='";
  case Tok::Gt:
    return "'>'";
  case Tok::Ge:
    return "'>='";
  case Tok::EqEq:
    return "'=='";
  case Tok::NotEq:
    return "'!='";
  case Tok::AndAnd:
    return "'&&'";
  case Tok::OrOr:
    return "'||'";
  case Tok::Bang:
    return "'!'";
  }
  return "token";
}

void Lexer::advance(size_t n) {
  for (size_t i = 0; i < n && pos < src.size(); ++i, ++pos) {
    if (src[pos] == '\n') {
      ++line;
      col = 1;
      sawNewline = true;
    } else {
      ++col;
    }
  }
}

Token Lexer::make(Tok kind, SourceLoc start, bool lineStart) {
  Token t;
  t.kind = kind;
  t.loc = start;
  t.text = src.substr(start.offset, pos - start.offset);
  t.atLineStart = lineStart;
  return t;
}

static bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool isDigit(char c) { return c >= '0' && c <= '9'; }

Token Lexer::next() {
  // Whitespace and comments.
  for (;;) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
        c == '\v') {
      if (atEnd())
        break;
      advance();
    } else if (c == '#' || (c == '/' && peek(1) == '/')) {
      while (!atEnd() && peek() != '\n')
        advance();
    } else {
      break;
    }
  }
  bool lineStart = sawNewline;
  sawNewline = false;
  SourceLoc start = here();
  if (atEnd())
    return make(Tok::Eof, start, lineStart);

  char c = peek();
  if (isIdentStart(c)) {
    while (isIdentStart(peek()) || isDigit(peek()))
      advance();
    if (pos - start.offset > kMaxIdentLength) {
      diags.error(start, "identifier is too long (" +
                             std::to_string(pos - start.offset) +
                             " characters; the limit is " +
                             std::to_string(kMaxIdentLength) + ")");
      return make(Tok::Error, start, lineStart);
    }
    Token t = make(Tok::Ident, start, lineStart);
    if (t.text == "attention")
      t.kind = Tok::KwAttention;
    else if (t.text == "return")
      t.kind = Tok::KwReturn;
    return t;
  }
  if (isDigit(c) || (c == '.' && isDigit(peek(1)))) {
    bool isFloat = false;
    while (isDigit(peek()))
      advance();
    if (peek() == '.' && isDigit(peek(1))) {
      isFloat = true;
      advance();
      while (isDigit(peek()))
        advance();
    } else if (peek() == '.' && !isIdentStart(peek(1))) {
      isFloat = true; // `1.`
      advance();
    }
    if (peek() == 'e' || peek() == 'E') {
      size_t n = 1;
      if (peek(n) == '+' || peek(n) == '-')
        ++n;
      if (isDigit(peek(n))) {
        isFloat = true;
        advance(n);
        while (isDigit(peek()))
          advance();
      }
    }
    if (isIdentStart(peek())) {
      while (isIdentStart(peek()) || isDigit(peek()))
        advance();
      diags.error(start, "invalid number '" +
                             std::string(src.substr(
                                 start.offset,
                                 std::min<size_t>(pos - start.offset, 64))) +
                             (pos - start.offset > 64 ? "...'" : "'"));
      return make(Tok::Error, start, lineStart);
    }
    return make(isFloat ? Tok::Float : Tok::Int, start, lineStart);
  }

  auto one = [&](Tok k) {
    advance();
    return make(k, start, lineStart);
  };
  auto two = [&](Tok k) {
    advance(2);
    return make(k, start, lineStart);
  };
  switch (c) {
  case '{':
    return one(Tok::LBrace);
  case '}':
    return one(Tok::RBrace);
  case '(':
    return one(Tok::LParen);
  case ')':
    return one(Tok::RParen);
  case '[':
    return one(Tok::LBracket);
  case ']':
    return one(Tok::RBracket);
  case ',':
    return one(Tok::Comma);
  case ':':
    return one(Tok::Colon);
  case ';':
    return one(Tok::Semi);
  case '?':
    return one(Tok::Question);
  case '^':
    return one(Tok::Caret);
  case '+':
    return one(Tok::Plus);
  case '-':
    return one(Tok::Minus);
  case '*':
    return one(Tok::Star);
  case '/':
    return one(Tok::Slash);
  case '%':
    return one(Tok::Percent);
  case '<':
    return peek(1) == '=' ? two(Tok::Le) : one(Tok::Lt);
  case '>':
    return peek(1) == '=' ? two(Tok::Ge) : one(Tok::Gt);
  case '=':
    return peek(1) == '=' ? two(Tok::EqEq) : one(Tok::Assign);
  case '!':
    return peek(1) == '=' ? two(Tok::NotEq) : one(Tok::Bang);
  case '&':
    if (peek(1) == '&')
      return two(Tok::AndAnd);
    break;
  case '|':
    if (peek(1) == '|')
      return two(Tok::OrOr);
    break;
  default:
    break;
  }
  // Anything else: report it and skip the whole (UTF-8) character.
  unsigned char u = static_cast<unsigned char>(c);
  size_t len = 1;
  if (u >= 0xF0)
    len = 4;
  else if (u >= 0xE0)
    len = 3;
  else if (u >= 0xC0)
    len = 2;
  std::string shown;
  if (u >= 0x80) {
    shown = "'" + std::string(src.substr(pos, len)) + "'";
  } else if (u < 0x20 || u == 0x7F) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%02X", u);
    shown = buf;
  } else {
    shown = std::string("'") + c + "'";
  }
  if (c == '&' || c == '|')
    diags.error(start, std::string("unexpected character ") + shown +
                           "; did you mean '" + c + c + "'?");
  else
    diags.error(start, "unexpected character " + shown);
  advance(len);
  return make(Tok::Error, start, lineStart);
}

bool attnc::dsl::validateUtf8(std::string_view s, DiagnosticEngine &diags) {
  uint32_t line = 1, col = 1;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if (c < 0x80) {
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (size_t j = 1; ok && j < len; ++j) {
      unsigned char d = static_cast<unsigned char>(s[i + j]);
      if ((d & 0xC0) != 0x80)
        ok = false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (ok && len > 1 &&
        (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
      ok = false;
    if (!ok) {
      char buf[64];
      std::snprintf(buf, sizeof buf,
                    "invalid UTF-8 (byte 0x%02X); .attn files must be UTF-8",
                    c);
      diags.error({line, col, static_cast<uint32_t>(i)}, buf);
      return false;
    }
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      col += static_cast<uint32_t>(len);
    }
    i += len;
  }
  return true;
}
