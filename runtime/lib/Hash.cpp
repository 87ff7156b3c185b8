//===- Hash.cpp -----------------------------------------------------------===//
#include "Hash.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/SHA256.h"

namespace attnc {
namespace detail {

struct Sha256::Impl {
  llvm::SHA256 hasher;
};

Sha256::Sha256() : impl_(new Impl) {}
Sha256::~Sha256() = default;

void Sha256::update(const void *data, size_t size) {
  impl_->hasher.update(
      llvm::ArrayRef<uint8_t>(static_cast<const uint8_t *>(data), size));
}

void Sha256::updateField(const std::string &s) {
  uint64_t n = s.size();
  uint8_t len[8];
  for (int i = 0; i < 8; ++i)
    len[i] = uint8_t(n >> (8 * i));
  update(len, sizeof(len));
  update(s);
}

std::array<uint8_t, 32> Sha256::finish() {
  std::array<uint8_t, 32> out{};
  auto digest = impl_->hasher.final();
  for (size_t i = 0; i < out.size() && i < digest.size(); ++i)
    out[i] = digest[i];
  return out;
}

std::array<uint8_t, 32> sha256(const void *data, size_t size) {
  Sha256 h;
  h.update(data, size);
  return h.finish();
}

std::string toHex(const uint8_t *data, size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out(2 * size, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  return out;
}

} // namespace detail
} // namespace attnc
