//===- Diagnostics.cpp - errors of the attention DSL ----------------------===//
#include "attnc/DSL/Diagnostics.h"

#include <algorithm>
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

/// Control characters (C0 except tab, DEL, and the C1 range's UTF-8 form
/// U+0080..U+009F) shown as \xHH, so source text, file names and messages
/// cannot drive the terminal (an OSC sequence in a comment once retitled it).
static std::string escapeControls(std::string_view text) {
  std::string out;
  static const char *kHex = "0123456789abcdef";
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool c1 = c == 0xc2 && i + 1 < text.size() &&
              static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
              static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if ((c < 0x20 && c != '\t') || c == 0x7f || c1) {
      if (c1)
        c = static_cast<unsigned char>(text[++i]);
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
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
  std::string raw(source.substr(from, to - from));
  // The caret sits under the escaped text: pad by what precedes the column
  // once escaped, tabs kept as tabs.
  std::string before = escapeControls(
      source.substr(from, std::min<size_t>(d.loc.offset, to) - from));
  std::string caret;
  for (char c : before)
    caret += c == '\t' ? '\t' : ' ';
  os << escapeControls(raw) << '\n' << caret << "^\n";
  return os.str();
}

void DiagnosticEngine::print(std::ostream &os) const {
  for (const Diagnostic &d : diags)
    os << format(d);
}
