//===- dsl_fuzzer.cpp - libFuzzer target for the attention DSL front end --===//
//
// Feeds arbitrary bytes through the lexer, parser, semantic checks, AST
// dump and the interpreter. Any crash, sanitizer report, hang or leak is a
// bug: bad input must only ever produce diagnostics. Build and run with
// tests/fuzz/run.sh (clang, -fsanitize=fuzzer,address,undefined).
//
//===----------------------------------------------------------------------===//
#include "attnc/DSL/ASTDump.h"
#include "attnc/DSL/Interpreter.h"
#include "attnc/DSL/Sema.h"

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace attnc::dsl;
  std::string_view source(reinterpret_cast<const char *>(data), size);
  DiagnosticEngine diags("fuzz.attn", source);
  ModuleAST module;
  parseAndAnalyze(source, "fuzz.attn", diags, module);

  // Formatting diagnostics reads the source around each location.
  std::ostringstream os;
  diags.print(os);
  dumpModule(module, os);

  // Evaluate every analyzed spec at a few positions.
  for (const AttentionSpecAST &spec : module.specs) {
    if (!spec.analyzed)
      continue;
    MaskContext ctx;
    ctx.n = 7;
    ctx.m = 9;
    int32_t lengths[2] = {5, 0};
    ctx.kvLengths = lengths;
    ctx.numKvLengths = 2;
    ctx.layoutAt = [](long h, long qb, long kb) {
      return static_cast<int>((h + qb + kb) & 1);
    };
    volatile double sink = 0;
    for (long q = 0; q < 3; ++q)
      for (long k = 0; k < 3; ++k) {
        sink = sink + evalScoreMod(spec, 0.5 * q - k, 1, 2, q, k);
        sink = sink + evalMask(spec, 1, 2, q, k, ctx);
        sink = sink + evalWhere(spec, 0, 0, q, k);
      }
    (void)sink;
  }
  return 0;
}
