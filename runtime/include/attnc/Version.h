//===- attnc/Version.h - The attnc version ---------------------*- C++ -*-===//
#pragma once

namespace attnc {
/// The attnc version string (the CMake project version, e.g. "0.1.0"). Part
/// of every kernel cache key, so a new release never loads old binaries.
const char *attncVersion();
} // namespace attnc
