//===- Status.cpp ---------------------------------------------------------===//
#include "attnc/Status.h"

namespace attnc {

const char *errorCodeName(ErrorCode code) {
  switch (code) {
  case ErrorCode::Unknown:
    return "Unknown";
  case ErrorCode::InvalidArgument:
    return "InvalidArgument";
  case ErrorCode::NotFound:
    return "NotFound";
  case ErrorCode::IO:
    return "IO";
  case ErrorCode::Format:
    return "Format";
  case ErrorCode::Unsupported:
    return "Unsupported";
  case ErrorCode::NoDriver:
    return "NoDriver";
  case ErrorCode::NoDevice:
    return "NoDevice";
  case ErrorCode::CudaDriver:
    return "CudaDriver";
  case ErrorCode::Nvrtc:
    return "Nvrtc";
  case ErrorCode::Compile:
    return "Compile";
  case ErrorCode::OutOfResources:
    return "OutOfResources";
  }
  return "Unknown";
}

std::string Error::str() const {
  return std::string(errorCodeName(code_)) + ": " + message_;
}

} // namespace attnc
