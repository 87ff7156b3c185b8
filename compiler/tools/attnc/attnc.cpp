//===- attnc.cpp - the attnc command line ---------------------------------===//
//
//   attnc compile FILE.attn [--emit=ast|mlir|...] [--target=sm_90a] [-o OUT]
//                           [--kernel NAME] [--report]
//   attnc run SPEC.attn (--q Q.npy --k K.npy --v V.npy | --shape b,hq,hk,n,m)
//                       [-o O.npy] [--lse LSE.npy] [--check]
//   attnc bench SPEC.attn --shape b,hq,hk,n,m [--shape ...] [--json]
//   attnc tune   (not built yet)
//
// The work happens in attnc/Driver/Pipeline.h and RunCommands.cpp; this file
// only parses flags.
//
//===----------------------------------------------------------------------===//
#include "RunCommands.h"
#include "attnc/Driver/Pipeline.h"

#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <new>

#include <CLI/CLI.hpp>

static int notBuilt(const char *name) {
  llvm::errs() << "error: 'attnc " << name << "' is not built yet\n";
  return 1;
}

// Largest tile edge the flags accept (the SRAM model refuses what does not
// fit; this only keeps absurd numbers from being narrowed).
constexpr int kMaxTile = 4096;
// Most timed (or warm-up) runs of `attnc bench` per shape: a million runs of
// the smallest kernel take seconds; more is a typo.
constexpr int kMaxIters = 1000000;

/// An integer in decimal (CLI11's Range says "Value abc not in range" for
/// text that is no number at all).
static const CLI::Validator kInteger(
    [](std::string &text) -> std::string {
      size_t i = text.size() > 1 && text[0] == '-' ? 1 : 0;
      if (text.empty() || i == text.size() ||
          text.find_first_not_of("0123456789", i) != std::string::npos)
        return "'" + text + "' is not an integer";
      return "";
    },
    "INT");

/// An unsigned 64-bit integer, decimal or 0x hexadecimal: CLI11 wrapped
/// "-1" to 2^64-1 and took "99999999999999999999999" and "" silently.
static const CLI::Validator kUnsigned64(
    [](std::string &text) -> std::string {
      bool hex = text.size() > 2 && text[0] == '0' &&
                 (text[1] == 'x' || text[1] == 'X');
      const char *digits = hex ? "0123456789abcdefABCDEF" : "0123456789";
      size_t from = hex ? 2 : 0;
      if (text.size() == from ||
          text.find_first_not_of(digits, from) != std::string::npos)
        return "'" + text + "' is not an unsigned integer";
      errno = 0;
      (void)std::strtoull(text.c_str(), nullptr, hex ? 16 : 10);
      if (errno == ERANGE)
        return text + " is more than 2^64-1";
      return "";
    },
    "UINT64");

/// The flags of attnc::CompileOptions, one definition for every subcommand.
static void addCompileOptions(CLI::App *cmd, attnc::CompileOptions &o,
                              const std::string &targetHelp) {
  cmd->add_option("--target", o.target,
                  targetHelp + "; known: " + attnc::knownTargetsList());
  cmd->add_option("--part", o.part,
                  "GPU part whose figures the models use (H200, H100, A100, "
                  "...; default: the GPU's own when it has the target's "
                  "architecture, else the architecture's default part)");
  cmd->add_option("--kernel", o.kernel,
                  "Only the attention block of this name");
  cmd->add_option("--sram-budget", o.tiles.sramBudgetBytes,
                  "Shared memory budget per block in bytes (0 = the "
                  "target's opt-in maximum)")
      ->check(kInteger)
      ->check(CLI::Range(int64_t(0), int64_t(1) << 30));
  cmd->add_option("--block-m", o.tiles.blockM,
                  "Query rows per tile, Br (0 = the SRAM model's choice)")
      ->check(kInteger)
      ->check(CLI::Range(int64_t(0), int64_t(kMaxTile)));
  cmd->add_option("--block-n", o.tiles.blockN,
                  "Key rows per tile, Bc (0 = the SRAM model's choice)")
      ->check(kInteger)
      ->check(CLI::Range(int64_t(0), int64_t(kMaxTile)));
  cmd->add_option("--warps", o.tiles.warps,
                  "Warps per thread block (0 = the SRAM model's choice)")
      ->check(kInteger)
      ->check(CLI::Range(int64_t(0), int64_t(32)));
  cmd->add_option("--stages", o.tiles.stages,
                  "K/V copy pipeline depth (0 = the SRAM model's choice)")
      ->check(kInteger)
      ->check(CLI::Range(int64_t(0), int64_t(16)));
  cmd->add_option("--family", o.tiles.family,
                  "Kernel family: fwd.mma_sync (prefill) or fwd.split_kv "
                  "(decode: GQA-packed rows, split keys); default: "
                  "fwd.mma_sync, and `run`/`bench` and the C++ API switch to "
                  "fwd.split_kv for query lengths of at most 16")
      ->check(CLI::IsMember({"fwd.mma_sync", "fwd.split_kv"}));
  cmd->add_flag("--precise-math", o.preciseMath,
                "Keep exact tanh/exp/log/pow/division in score modifiers "
                "and masks (default: hardware approximations that keep "
                "FlashAttention's error rule)");
}

int main(int argc, char **argv) {
  CLI::App app{"attnc: compiles attention specifications (.attn) into "
               "IO-aware GPU kernels"};
  app.set_version_flag("--version", "attnc 0.1.0 (MLIR 22)");
  app.require_subcommand(1);

  attnc::CompileCommand opts;
  std::string emit = "mlir";
  bool compileVerbose = false;
  CLI::App *compile = app.add_subcommand(
      "compile", "Compile a .attn file to IR, CUDA, PTX or CUBIN");
  compile->add_option("file", opts.inputPath, "The .attn file ('-' for stdin)")
      ->required();
  compile
      ->add_option("--emit", emit,
                   "What to produce: ast, mlir (unfused attn IR), fused, "
                   "tiled, cuda, ptx, cubin")
      ->capture_default_str();
  addCompileOptions(compile, opts.options,
                    "GPU architecture (default: the GPU's own, else " +
                        std::string(attnc::kDefaultTarget) + ")");
  compile->add_flag("-v,--verbose", compileVerbose,
                    "Say which target and part figures are used, and where "
                    "a PTX or CUBIN came from (kernel cache or NVRTC)");
  compile->add_flag("--no-disk-cache", opts.options.noDiskCache,
                    "With --emit=ptx or cubin, do not use the disk cache");
  compile->add_option("-o,--output", opts.outputPath,
                      "Output file ('-' for "
                      "stdout)");
  compile->add_flag("--locations", opts.printLocations,
                    "With --emit=mlir, print the DSL line:col of every op");
  compile->add_flag("--report", opts.report,
                    "Print each attention chain, the tiles chosen and the IO "
                    "cost model's prediction to stderr");
  std::string reportShape;
  compile->add_option("--report-shape", reportShape,
                      "Sizes b,hq,hk,n,m the --report uses where the spec "
                      "has symbols (default 1,16,16,4096,4096)");

  attnc::tool::RunOptions runOpts;
  CLI::App *run = app.add_subcommand(
      "run", "Run a spec's kernel on the GPU on .npy (or random) inputs");
  run->add_option("spec", runOpts.spec, "The .attn file ('-' for stdin)")
      ->required();
  run->add_option("--q", runOpts.q, "Query .npy [b, hq, n, d]");
  run->add_option("--k", runOpts.k, "Key .npy [b, hk, m, d]");
  run->add_option("--v", runOpts.v, "Value .npy [b, hk, m, dv]");
  run->add_option("-o,--output", runOpts.out, "Output .npy [b, hq, n, dv]");
  run->add_option("--lse", runOpts.lse, "Log-sum-exp output .npy [b, hq, n] (f32)");
  run->add_option("--lengths", runOpts.lengths,
                  "Key lengths .npy (int32 [b]) for lengths(...) masks");
  run->add_option("--layout", runOpts.layout,
                  "Block layout .npy (int8/uint8 [1 or hq, qb, kb]) for blocks(...)");
  run->add_option("--block-table", runOpts.blockTable,
                  "Paged K/V: block table .npy (int32 [b, max_pages]); --k/--v "
                  "are then the caches [pages, page_size, hk, d]");
  run->add_option("--seq-lens", runOpts.seqLens,
                  "Paged K/V: keys of each sequence .npy (int32 [b])");
  run->add_option("--cu-seqlens-q", runOpts.cuSeqlensQ,
                  "Packed sequences: query prefix sums .npy (int32 [b + 1]); "
                  "--q/-o are then [total_q, hq, d], --lse [hq, total_q]");
  run->add_option("--cu-seqlens-k", runOpts.cuSeqlensK,
                  "Packed sequences: key prefix sums .npy (int32 [b + 1]); "
                  "--k/--v are then [total_k, hk, d]");
  run->add_option("--sinks", runOpts.sinks,
                  "Attention sinks .npy [hq] (f32), for softmax(s, sink: ...)");
  run->add_option("--table", runOpts.tables,
                  "NAME=FILE.npy: a table the spec reads as NAME[...] in a "
                  "modifier or where() mask (repeat per table; random with "
                  "--shape)");
  run->add_option("--seed", runOpts.seed, "Dropout seed")->check(kUnsigned64);
  run->add_option("--offset", runOpts.offset, "Dropout offset")
      ->check(kUnsigned64);
  run->add_flag("--bf16-as-u2", runOpts.bf16AsU2,
                "Read and write bf16 as uint16 (<u2) instead of <V2");
  run->add_option("--shape", runOpts.shape,
                  "Random normal inputs of sizes b,hq,hk,n,m instead of files");
  run->add_option("--data-seed", runOpts.dataSeed, "Seed of the random inputs")
      ->check(kUnsigned64);
  run->add_flag("--check", runOpts.check,
                "Compare with a float64 reference (exit 1 if the error rule fails)");
  addCompileOptions(run, runOpts.compile,
                    "Compile for this architecture instead of the GPU's own");
  run->add_flag("--no-disk-cache", runOpts.compile.noDiskCache,
                "Do not use the disk cache");
  run->add_flag("-v,--verbose", runOpts.verbose,
                "Print the tiles, cache hits and compile times");

  attnc::tool::BenchOptions benchOpts;
  CLI::App *bench = app.add_subcommand(
      "bench", "Time a spec's kernel (CUDA events, median) against the IO model");
  bench->add_option("spec", benchOpts.spec, "The .attn file ('-' for stdin)")
      ->required();
  bench->add_option("--shape", benchOpts.shapes, "Sizes b,hq,hk,n,m (repeatable)")
      ->required();
  bench->add_option("--varlen", benchOpts.varlen,
                    "Packed specs: sequence lengths L1,L2,... (queries and "
                    "keys); --shape then gives only the heads");
  bench->add_option("--iters", benchOpts.iters, "Timed runs (median reported)")
      ->capture_default_str()
      ->check(kInteger)
      ->check(CLI::Range(1, kMaxIters));
  bench->add_option("--warmup", benchOpts.warmup, "Untimed runs first")
      ->capture_default_str()
      ->check(kInteger)
      ->check(CLI::Range(0, kMaxIters));
  bench->add_flag("--json", benchOpts.json, "One JSON object per shape");
  addCompileOptions(bench, benchOpts.compile,
                    "Compile for this architecture instead of the GPU's own");
  bench->add_flag("--no-disk-cache", benchOpts.compile.noDiskCache,
                  "Do not use the disk cache");
  bench->add_flag("-v,--verbose", benchOpts.verbose, "Print cache hits and compile times");
  CLI::App *tune = app.add_subcommand(
      "tune", "Search tile sizes for a kernel (not built yet)");
  tune->allow_extras();
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

  // Host allocations for inputs are sized by the user; running out of memory
  // is an error message, not an abort.
  try {
    if (run->parsed())
      return attnc::tool::runRun(runOpts);
    if (bench->parsed())
      return attnc::tool::runBench(benchOpts);
  } catch (const std::bad_alloc &) {
    std::cerr << "error: out of host memory for the inputs of this shape\n";
    return 1;
  }
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
  if (compileVerbose)
    opts.options.log = [](const std::string &m) {
      llvm::errs() << "attnc: " << m << "\n";
    };
  if (!reportShape.empty()) {
    if (!opts.report) {
      llvm::errs() << "error: --report-shape sets the sizes of --report; "
                      "give --report too\n";
      return 1;
    }
    attnc::tool::Shape shape;
    std::string error;
    if (!attnc::tool::parseShape(reportShape, shape, error, "--report-shape")) {
      llvm::errs() << "error: " << error << "\n";
      return 1;
    }
    int64_t dims[5] = {shape.batch, shape.headsQ, shape.headsKV, shape.seqQ,
                       shape.seqK};
    std::copy(dims, dims + 5, opts.reportShape);
  }
  return attnc::runCompile(opts, llvm::errs());
}
