//===- Hash.h - SHA-256 for cache keys and checksums (private) -*- C++ -*-===//
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace attnc {
namespace detail {

/// Incremental SHA-256 (llvm::SHA256 underneath, kept out of public headers).
class Sha256 {
public:
  Sha256();
  ~Sha256();
  void update(const void *data, size_t size);
  void update(const std::string &s) { update(s.data(), s.size()); }
  /// A length-prefixed field, so ("ab","c") and ("a","bc") hash differently.
  void updateField(const std::string &s);
  std::array<uint8_t, 32> finish();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::array<uint8_t, 32> sha256(const void *data, size_t size);
std::string toHex(const uint8_t *data, size_t size);

} // namespace detail
} // namespace attnc
