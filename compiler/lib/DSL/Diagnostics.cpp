//===- Diagnostics.cpp - errors of the attention DSL ----------------------===//
#include "attnc/DSL/Diagnostics.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <sstream>

using namespace attnc::dsl;

void DiagnosticEngine::add(Severity sev, SourceLoc loc, std::string message) {
  if (sev == Severity::Error) {
    ++numErrors;
    if (numErrors == kMaxErrors + 1) {
      diags.push_back(
          {Severity::Error, loc,
           "too many errors; stopping after " + std::to_string(kMaxErrors)});
      return;
    }
    if (numErrors > kMaxErrors + 1)
      return;
  } else if (numErrors > kMaxErrors) {
    return;
  }
  diags.push_back({sev, loc, std::move(message)});
}

void DiagnosticEngine::error(SourceLoc loc, std::string message) {
  add(Severity::Error, loc, std::move(message));
}
void DiagnosticEngine::warning(SourceLoc loc, std::string message) {
  add(Severity::Warning, loc, std::move(message));
}
void DiagnosticEngine::note(SourceLoc loc, std::string message) {
  add(Severity::Note, loc, std::move(message));
}

/// The length of the well-formed UTF-8 sequence at text[i] and its code
/// point; 0 when the bytes there are not UTF-8.
static size_t utf8At(std::string_view text, size_t i, uint32_t &cp) {
  unsigned char c = static_cast<unsigned char>(text[i]);
  size_t len = c < 0x80             ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 0;
  if (len == 0 || i + len > text.size())
    return 0;
  static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  cp = len == 1 ? c : c & (0x7F >> len);
  for (size_t j = 1; j < len; ++j) {
    unsigned char d = static_cast<unsigned char>(text[i + j]);
    if ((d & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

/// Invisible characters that reorder or hide text on a terminal ("Trojan
/// Source"): bidirectional controls, zero-width characters, the byte order
/// mark, line and paragraph separators.
static bool isInvisible(uint32_t cp) {
  return cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) ||
         cp == 0xFEFF;
}

/// Text as shown on a terminal: control characters (C0 except tab, DEL, C1
/// U+0080..U+009F) and bytes that are not UTF-8 as \xHH, invisible
/// characters (isInvisible) as \u{XXXX}, so source text, file names and
/// messages can neither drive the terminal (an OSC sequence in a comment
/// once retitled it) nor hide or reorder what is shown.
static std::string escapeControls(std::string_view text) {
  std::string out;
  static const char *kHex = "0123456789abcdef";
  auto hexByte = [&out](unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    uint32_t cp = 0;
    size_t len = utf8At(text, i, cp);
    if (len == 0) {
      hexByte(c);
      ++i;
    } else if ((cp < 0x20 && cp != '\t') || cp == 0x7f ||
               (cp >= 0x80 && cp <= 0x9f)) {
      hexByte(static_cast<unsigned char>(cp));
      i += len;
    } else if (isInvisible(cp)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u{%04x}", unsigned(cp));
      out += buf;
      i += len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string DiagnosticEngine::format(const Diagnostic &d) const {
  std::ostringstream os;
  const char *kind = d.severity == Severity::Error     ? "error"
                     : d.severity == Severity::Warning ? "warning"
                                                       : "note";
  os << escapeControls(filename);
  if (d.loc.isValid())
    os << ':' << d.loc.line << ':' << d.loc.col;
  os << ": " << kind << ": " << escapeControls(d.message) << '\n';
  if (!d.loc.isValid() || d.loc.offset > source.size())
    return os.str();
  // The source line holding the location, and a caret under the column.
  size_t begin = d.loc.offset;
  while (begin > 0 && source[begin - 1] != '\n')
    --begin;
  size_t end = source.find('\n', begin);
  if (end == std::string_view::npos)
    end = source.size();
  // Long lines (minified or binary input) are cut around the column.
  constexpr size_t kMaxShown = 200;
  size_t col = d.loc.offset - begin;
  size_t from = begin, to = end;
  if (to - from > kMaxShown) {
    from = col > kMaxShown / 2 ? d.loc.offset - kMaxShown / 2 : begin;
    to = std::min(end, from + kMaxShown);
  }
  // In a CRLF file a line ends in "\r\n": that \r is the line end, not text.
  if (to == end && to > from && end < source.size() && source[to - 1] == '\r')
    --to;
  std::string raw(source.substr(from, to - from));
  // The caret sits under the escaped text: pad by what precedes the column
  // once escaped, one space per character (not per UTF-8 byte), tabs kept
  // as tabs.
  std::string before = escapeControls(
      source.substr(from, std::min<size_t>(d.loc.offset, to) - from));
  std::string caret;
  for (char c : before)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
      caret += c == '\t' ? '\t' : ' ';
  os << escapeControls(raw) << '\n' << caret << "^\n";
  return os.str();
}

void DiagnosticEngine::print(std::ostream &os) const {
  for (const Diagnostic &d : diags)
    os << format(d);
}
