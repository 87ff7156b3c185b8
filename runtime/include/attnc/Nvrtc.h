//===- attnc/Nvrtc.h - CUDA source to PTX/CUBIN with NVRTC -----*- C++ -*-===//
//
// compileCuda() turns a CUDA source string into PTX and, for a real
// architecture (sm_XX / sm_XXa), a CUBIN. No GPU is needed. The attnc device
// headers (codegen/device/**/*.cuh) are embedded in the library at build time
// and handed to NVRTC, so `#include "attn/Kernel/Params.h"` works from any binary
// without a source tree; the CUDA toolkit's include directory is found from
// $CUDA_HOME, $CUDA_PATH or /usr/local/cuda.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attnc/Status.h"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace attnc {

/// What compileCuda() is asked to do.
struct NvrtcOptions {
  /// "sm_80", "sm_90a", "sm_100a" (PTX + CUBIN) or "compute_90a" (PTX only).
  std::string arch = "sm_80";
  /// Adds -lineinfo (source lines in profilers).
  bool lineInfo = false;
  /// Fail with ErrorCode::Compile when the NVRTC log has a warning (CI).
  bool warningsAsErrors = false;
  /// More NVRTC options, appended after attnc's own.
  std::vector<std::string> extraOptions;
  /// The file name NVRTC shows in diagnostics.
  std::string programName = "attnc_kernel.cu";
  /// C++ names of __global__ functions/templates to look up mangled names for
  /// (nvrtcAddNameExpression); not needed for extern "C" kernels.
  std::vector<std::string> nameExpressions;
};

/// What compileCuda() produced.
struct NvrtcOutput {
  std::string ptx;                  // without the trailing NUL
  std::vector<char> cubin;          // empty for compute_XX targets
  std::string log;                  // NVRTC's log (warnings), may be empty
  bool hasWarnings = false;         // the log contains a warning
  std::vector<std::string> options; // the exact options passed to NVRTC
  std::map<std::string, std::string> loweredNames; // nameExpressions -> mangled
  double compileMs = 0; // wall time of nvrtcCompileProgram & co.
};

/// One embedded device header.
struct EmbeddedHeader {
  const char *name;     // include name, e.g. "attn/Kernel/Params.h"
  const char *contents; // NUL-terminated
  size_t size;          // bytes, without the NUL
};

/// The embedded device headers (generated at build time).
std::vector<EmbeddedHeader> embeddedHeaders();

/// A hex SHA-256 over every embedded header's name and contents; part of
/// every cache key, so editing a device header invalidates cached kernels.
const std::string &embeddedHeadersDigest();

/// The toolkit's include directory: $CUDA_HOME/include, else
/// $CUDA_PATH/include, else /usr/local/cuda/include; the error names every
/// place that was tried.
Expected<std::string> cudaToolkitIncludeDir();

/// NVRTC's version as {major, minor}, e.g. {13, 0}.
std::pair<int, int> nvrtcVersion();
/// "13.0".
std::string nvrtcVersionString();

/// True for a real architecture that has a CUBIN ("sm_90a"), false for a
/// virtual one ("compute_90a").
bool isRealArch(const std::string &arch);

/// The full option list for `opts`, as compileCuda() passes it to NVRTC:
/// --std=c++17, --gpu-architecture=<arch>, -default-device,
/// --include-path=<toolkit include>, [-lineinfo], then opts.extraOptions.
Expected<std::vector<std::string>> nvrtcOptionList(const NvrtcOptions &opts);

/// Compiles `source`. On a compile error (ErrorCode::Compile) the message has
/// the options, the NVRTC log and the source with line numbers.
Expected<NvrtcOutput> compileCuda(const std::string &source,
                                  const NvrtcOptions &opts);

/// `source` with each line prefixed by its number ("   12 | ..."), as in
/// compile errors.
std::string numberSourceLines(const std::string &source);

} // namespace attnc
