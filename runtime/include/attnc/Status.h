//===- attnc/Status.h - Errors as values ----------------------*- C++ -*-===//
//
// attnc::Error and attnc::Expected<T>: the result types of every runtime
// API. Unlike llvm::Expected they never abort when left unchecked; an error
// is a plain value (a code and a message) that can be copied, printed or
// dropped. Library code never throws and never exits.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cassert>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

namespace attnc {

/// What kind of failure an Error is; the message says the rest.
enum class ErrorCode {
  Unknown = 1,
  InvalidArgument, // a caller passed something unusable
  NotFound,        // a file, symbol, kernel or device that does not exist
  IO,              // reading or writing a file failed
  Format,          // a file exists but its contents are malformed
  Unsupported,     // valid input that attnc does not handle (dtype, arch...)
  NoDriver,        // libcuda.so.1 could not be loaded
  NoDevice,        // a driver but no (such) CUDA device
  CudaDriver,      // a CUDA driver call returned an error
  Nvrtc,           // NVRTC itself failed (not the user's source)
  Compile,         // NVRTC rejected the source (log attached)
  OutOfResources,  // e.g. more shared memory than the device allows
};

/// The name of a code, e.g. "CudaDriver".
const char *errorCodeName(ErrorCode code);

/// A failure: a code and a human-readable message. Always an error (there is
/// no "success" Error); functions that may fail return Expected<T> or Status.
class Error {
public:
  Error(ErrorCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string &message() const { return message_; }

  /// "<code name>: <message>".
  std::string str() const;

  /// Prepends context: "<prefix>: <message>". Returns *this for chaining.
  Error &addContext(const std::string &prefix) {
    message_ = prefix + ": " + message_;
    return *this;
  }

private:
  ErrorCode code_;
  std::string message_;
};

/// Makes an Error; a shorthand for `Error(code, message)`.
inline Error makeError(ErrorCode code, std::string message) {
  return Error(code, std::move(message));
}

/// Either a T or an Error. Test with `if (!x)`, read with `*x` / `x->`,
/// take the error with `x.error()` / `x.takeError()`.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : hasValue_(true) {
    new (&storage_.value) T(std::move(value));
  }
  Expected(Error error) : hasValue_(false) {
    new (&storage_.error) Error(std::move(error));
  }
  // Allow `return someDerived;` / `return {args};` for convertible values.
  template <typename U, typename = std::enable_if_t<
                            std::is_convertible<U &&, T>::value &&
                            !std::is_same<std::decay_t<U>, Error>::value &&
                            !std::is_same<std::decay_t<U>, Expected>::value>>
  Expected(U &&value) : hasValue_(true) {
    new (&storage_.value) T(std::forward<U>(value));
  }
  Expected(const Expected &other) : hasValue_(other.hasValue_) {
    if (hasValue_)
      new (&storage_.value) T(other.storage_.value);
    else
      new (&storage_.error) Error(other.storage_.error);
  }
  Expected(Expected &&other) noexcept(
      std::is_nothrow_move_constructible<T>::value)
      : hasValue_(other.hasValue_) {
    if (hasValue_)
      new (&storage_.value) T(std::move(other.storage_.value));
    else
      new (&storage_.error) Error(std::move(other.storage_.error));
  }
  Expected &operator=(Expected other) {
    destroy();
    hasValue_ = other.hasValue_;
    if (hasValue_)
      new (&storage_.value) T(std::move(other.storage_.value));
    else
      new (&storage_.error) Error(std::move(other.storage_.error));
    return *this;
  }
  ~Expected() { destroy(); }

  bool hasValue() const { return hasValue_; }
  explicit operator bool() const { return hasValue_; }

  T &operator*() & {
    assert(hasValue_);
    return storage_.value;
  }
  const T &operator*() const & {
    assert(hasValue_);
    return storage_.value;
  }
  T &&operator*() && {
    assert(hasValue_);
    return std::move(storage_.value);
  }
  T *operator->() {
    assert(hasValue_);
    return &storage_.value;
  }
  const T *operator->() const {
    assert(hasValue_);
    return &storage_.value;
  }

  const Error &error() const {
    assert(!hasValue_);
    return storage_.error;
  }
  Error takeError() {
    assert(!hasValue_);
    return std::move(storage_.error);
  }

  /// The value, or `fallback` when this holds an error.
  T valueOr(T fallback) const & {
    return hasValue_ ? storage_.value : fallback;
  }

private:
  void destroy() {
    if (hasValue_)
      storage_.value.~T();
    else
      storage_.error.~Error();
  }
  union Storage {
    Storage() {}
    ~Storage() {}
    T value;
    Error error;
  } storage_;
  bool hasValue_;
};

/// Success (nothing) or an Error.
template <> class [[nodiscard]] Expected<void> {
public:
  Expected() = default;
  Expected(Error error) : error_(std::move(error)), failed_(true) {}

  bool hasValue() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const Error &error() const {
    assert(failed_);
    return error_;
  }
  Error takeError() {
    assert(failed_);
    return std::move(error_);
  }

private:
  Error error_{ErrorCode::Unknown, ""};
  bool failed_ = false;
};

/// The result of an operation that returns nothing.
using Status = Expected<void>;

/// A successful Status.
inline Status success() { return Status(); }

} // namespace attnc

/// Returns the error of an Expected/Status expression from the enclosing
/// function (which must return an Expected or Status).
#define ATTNC_RETURN_IF_ERROR(expr)                                            \
  do {                                                                         \
    auto attncStatusTmp_ = (expr);                                             \
    if (!attncStatusTmp_)                                                      \
      return attncStatusTmp_.takeError();                                      \
  } while (0)
