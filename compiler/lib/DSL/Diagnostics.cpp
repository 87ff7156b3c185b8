//===- Diagnostics.cpp - errors of the attention DSL ----------------------===//
#include "attnc/DSL/Diagnostics.h"

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

std::string DiagnosticEngine::format(const Diagnostic &d) const {
  std::ostringstream os;
  const char *kind = d.severity == Severity::Error     ? "error"
                     : d.severity == Severity::Warning ? "warning"
                                                       : "note";
  os << filename;
  if (d.loc.isValid())
    os << ':' << d.loc.line << ':' << d.loc.col;
  os << ": " << kind << ": " << d.message << '\n';
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
  // Control characters (an ESC starts terminal sequences that retitle or
  // rewrite the terminal) are shown as visible \xNN escapes; the caret line
  // is padded by the same widths so it stays under the column.
  std::string line, caret;
  for (size_t i = from; i < to; ++i) {
    unsigned char c = static_cast<unsigned char>(source[i]);
    std::string shown;
    if (c == '\t')
      shown = "\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      shown = buf;
    } else
      shown = std::string(1, char(c));
    line += shown;
    if (i < d.loc.offset)
      caret += c == '\t' ? std::string("\t") : std::string(shown.size(), ' ');
  }
  os << line << '\n' << caret << "^\n";
  return os.str();
}

void DiagnosticEngine::print(std::ostream &os) const {
  for (const Diagnostic &d : diags)
    os << format(d);
}
