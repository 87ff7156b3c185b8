//===- FileIO.h - POSIX file helpers of the runtime (private) ---*- C++ -*-===//
#pragma once

#include <cerrno>
#include <cstddef>
#include <unistd.h>

namespace attnc {
namespace detail {

/// Writes all n bytes to fd, retrying short writes and EINTR; false on
/// any other error (errno says which).
inline bool writeAll(int fd, const void *data, size_t n) {
  const char *p = static_cast<const char *>(data);
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    p += w;
    n -= size_t(w);
  }
  return true;
}

} // namespace detail
} // namespace attnc
