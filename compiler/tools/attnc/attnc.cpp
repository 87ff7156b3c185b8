//===- attnc.cpp - the attnc command line ---------------------------------===//
//
//   attnc compile FILE.attn [--emit=ast|mlir|...] [--target=sm_90a] [-o OUT]
//                           [--kernel NAME] [--report]
//   attnc run | bench | tune   (not built yet)
//
// The work happens in attnc/Driver/Pipeline.h; this file only parses flags.
//
//===----------------------------------------------------------------------===//
#include "attnc/Driver/Pipeline.h"

#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

static int notBuilt(const char *name) {
  llvm::errs() << "error: 'attnc " << name << "' is not built yet\n";
  return 1;
}

int main(int argc, char **argv) {
  CLI::App app{"attnc: compiles attention specifications (.attn) into "
               "IO-aware GPU kernels"};
  app.set_version_flag("--version", "attnc 0.1.0 (MLIR 22)");
  app.require_subcommand(1);

  attnc::CompileOptions opts;
  std::string emit = "mlir";
  CLI::App *compile = app.add_subcommand(
      "compile", "Compile a .attn file (to IR for now; kernels later)");
  compile->add_option("file", opts.inputPath, "The .attn file ('-' for stdin)")
      ->required();
  compile
      ->add_option("--emit", emit,
                   "What to produce: ast, mlir (unfused attn IR), fused, "
                   "tiled, cuda, ptx, cubin")
      ->capture_default_str();
  compile
      ->add_option("--target", opts.target,
                   "GPU target: " + attnc::knownTargetsList())
      ->capture_default_str();
  compile->add_option("-o,--output", opts.outputPath,
                      "Output file ('-' for "
                      "stdout)");
  compile->add_option("--kernel", opts.kernel,
                      "Compile only the attention block of this name");
  compile->add_flag("--locations", opts.printLocations,
                    "With --emit=mlir, print the DSL line:col of every op");
  compile->add_flag("--report", opts.report,
                    "Print a summary of each attention chain to stderr");

  CLI::App *run = app.add_subcommand(
      "run", "Run a compiled kernel on random inputs (not built yet)");
  CLI::App *bench = app.add_subcommand(
      "bench", "Time a kernel against a reference (not built yet)");
  CLI::App *tune = app.add_subcommand(
      "tune", "Search tile sizes for a kernel (not built yet)");
  for (CLI::App *sub : {run, bench, tune})
    sub->allow_extras();
  // Usage errors look like every other attnc error.
  auto failure = [](const CLI::App *, const CLI::Error &e) {
    return "error: " + std::string(e.what()) +
           "\nRun with --help for more information.\n";
  };
  for (CLI::App *a : {&app, compile, run, bench, tune})
    a->failure_message(failure);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e); // prints help/version to stdout, errors to stderr
    return code == 0 ? 0 : 1;
  }

  if (run->parsed())
    return notBuilt("run");
  if (bench->parsed())
    return notBuilt("bench");
  if (tune->parsed())
    return notBuilt("tune");

  std::optional<attnc::EmitKind> kind = attnc::parseEmitKind(emit);
  if (!kind) {
    llvm::errs() << "error: unknown --emit kind '" << emit
                 << "'; expected ast, mlir, fused, tiled, cuda, ptx or "
                    "cubin\n";
    return 1;
  }
  opts.emit = *kind;
  return attnc::runCompile(opts, llvm::errs());
}
