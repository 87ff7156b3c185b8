//===- Diagnostics.h - errors of the attention DSL --------------*- C++ -*-===//
//
// Every problem the front end finds becomes a Diagnostic with a source
// location. The engine collects them (so several errors of one file are all
// reported) and prints them the way compilers do:
//
//   causal.attn:3:9: error: unknown identifier 'kk'
//     s = matmul(q, kk^T)
//                   ^
//
// This header, like the lexer, parser, semantic checks and interpreter, uses
// only the C++ standard library so it builds standalone (for the fuzzer).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_DIAGNOSTICS_H
#define ATTNC_DSL_DIAGNOSTICS_H

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace attnc::dsl {

/// A position in the source: 1-based line and column (in bytes), and the
/// 0-based byte offset.
struct SourceLoc {
  uint32_t line = 0;
  uint32_t col = 0;
  uint32_t offset = 0;
  bool isValid() const { return line != 0; }
};

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  SourceLoc loc;
  std::string message;
};

/// Collects diagnostics for one source buffer and prints them with the
/// offending line and a caret.
class DiagnosticEngine {
public:
  /// After this many errors, further ones are counted but not stored.
  static constexpr unsigned kMaxErrors = 50;

  DiagnosticEngine(std::string_view filename, std::string_view source)
      : filename(filename), source(source) {}

  void error(SourceLoc loc, std::string message);
  void warning(SourceLoc loc, std::string message);
  void note(SourceLoc loc, std::string message);

  unsigned errorCount() const { return numErrors; }
  bool hasErrors() const { return numErrors != 0; }
  const std::vector<Diagnostic> &diagnostics() const { return diags; }
  std::string_view getFilename() const { return filename; }
  std::string_view getSource() const { return source; }
  void setSource(std::string_view s) { source = s; }

  /// Prints `file:line:col: error: message`, the source line and a caret
  /// line for each diagnostic (in the order they were reported).
  void print(std::ostream &os) const;
  /// Formats one diagnostic the same way.
  std::string format(const Diagnostic &d) const;

private:
  void add(Severity sev, SourceLoc loc, std::string message);

  std::string filename;
  std::string_view source;
  std::vector<Diagnostic> diags;
  unsigned numErrors = 0;
};

} // namespace attnc::dsl

#endif // ATTNC_DSL_DIAGNOSTICS_H
