//===- attnc-opt.cpp - the attn dialect's opt tool ------------------------===//
//
// Parses, verifies and transforms attn IR: `attnc-opt --attn-fuse-attention
// --attn-tile-attention=target=sm_90a in.mlir`.
//
//===----------------------------------------------------------------------===//
#include "attn/IR/AttnDialect.h"
#include "attn/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/thread.h"

#include <optional>

/// Deeper nesting than this is refused before MLIR's recursive-descent
/// parser sees it (it overflowed the stack at about 10000 nested `[` and
/// 100000 nested `tuple<` or regions).
static constexpr int kMaxNesting = 1000;
/// The parser runs on a thread with this much stack, so any nesting up to
/// kMaxNesting (and stdin, which is not pre-checked) has room.
static constexpr unsigned kParserStackBytes = 1024u << 20;

/// The line:col where brackets ( [ { < first nest deeper than kMaxNesting,
/// outside string literals and comments; `->` is not a bracket.
static std::optional<std::pair<unsigned, unsigned>>
tooDeep(llvm::StringRef text) {
  int depth = 0;
  unsigned line = 1, col = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    ++col;
    if (c == '\n') {
      ++line;
      col = 0;
    } else if (c == '"') { // string literal: skip to its end
      for (++i, ++col; i < text.size() && text[i] != '"'; ++i, ++col) {
        if (text[i] == '\\')
          ++i, ++col;
        else if (text[i] == '\n')
          ++line, col = 0;
      }
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i + 1 < text.size() && text[i + 1] != '\n')
        ++i;
    } else if (c == '(' || c == '[' || c == '{' || c == '<') {
      if (++depth > kMaxNesting)
        return std::make_pair(line, col);
    } else if (c == ')' || c == ']' || c == '}' ||
               (c == '>' && !(i > 0 && text[i - 1] == '-'))) {
      depth = depth > 0 ? depth - 1 : 0;
    }
  }
  return std::nullopt;
}

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::attn::AttnDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::math::MathDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect>();
  mlir::attn::registerAttnPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  auto [input, output] = mlir::registerAndParseCLIOptions(
      argc, argv, "attn dialect optimizer\n", registry);
  if (input != "-") {
    auto buffer = llvm::MemoryBuffer::getFile(input, /*IsText=*/true);
    if (buffer) {
      if (auto at = tooDeep((*buffer)->getBuffer())) {
        llvm::errs() << input << ":" << at->first << ":" << at->second
                     << ": error: brackets nest deeper than " << kMaxNesting
                     << " levels; attnc-opt refuses such input\n";
        return 1;
      }
    } // an unreadable file is reported by MlirOptMain itself
  }
  mlir::LogicalResult result = mlir::failure();
  llvm::thread parser(std::optional<unsigned>(kParserStackBytes), [&] {
    result = mlir::MlirOptMain(argc, argv, input, output, registry);
  });
  parser.join();
  return mlir::asMainReturnCode(result);
}
