//===- attnc/Npy.h - NumPy .npy files and fp16/bf16 helpers ----*- C++ -*-===//
//
// Reads and writes NumPy .npy files (format versions 1.0, 2.0 and 3.0),
// little-endian, C order. Supported dtypes: <f2 <f4 <f8 <i4 |i1 |u1 <u2 and
// bfloat16 as <V2 (what np.save writes for ml_dtypes.bfloat16) or, when the
// caller asks, <u2. Fortran-order and big-endian files are rejected with a
// message. Every error names the file and the problem.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attnc/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace attnc {

enum class DType { F16, BF16, F32, F64, I32, I8, U8, U16 };

/// Bytes per element.
size_t dtypeSize(DType dtype);
/// "f16", "bf16", "f32", "f64", "i32", "i8", "u8", "u16".
const char *dtypeName(DType dtype);

/// An n-dimensional array in C order; `data` holds the raw little-endian
/// elements.
struct NpyArray {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  size_t numElements() const;
  size_t elementSize() const { return dtypeSize(dtype); }

  /// Typed views (the caller picks the type matching dtype; f16/bf16 are
  /// uint16_t).
  template <typename T> T *as() { return reinterpret_cast<T *>(data.data()); }
  template <typename T> const T *as() const {
    return reinterpret_cast<const T *>(data.data());
  }

  /// An array of `shape` with zeroed data.
  static NpyArray zeros(DType dtype, std::vector<int64_t> shape);
};

struct NpyReadOptions {
  /// Read `<u2` as bfloat16 (DType::BF16) instead of DType::U16.
  bool u2IsBF16 = false;
};

struct NpyWriteOptions {
  /// Write BF16 as `<u2` (readable by plain NumPy) instead of `<V2`.
  bool bf16AsU2 = false;
};

/// Reads `path`.
Expected<NpyArray> readNpy(const std::string &path, NpyReadOptions opts = {});

/// Parses an in-memory .npy image; `name` appears in error messages.
Expected<NpyArray> parseNpy(const void *bytes, size_t size,
                            const std::string &name, NpyReadOptions opts = {});

/// Serializes to an in-memory .npy image (version 1.0, or 2.0 if the header
/// needs it). Fails if data.size() does not match the shape.
Expected<std::vector<uint8_t>> serializeNpy(const NpyArray &array,
                                            NpyWriteOptions opts = {});

/// Writes `array` to `path`, as writeNpyFiles() does.
Status writeNpy(const std::string &path, const NpyArray &array,
                NpyWriteOptions opts = {});

/// Writes several arrays. Each goes to a temporary file beside its path (a
/// symbolic link's target for a link); only when every one was written are
/// they renamed into place. A failure leaves no partial file and no
/// temporary behind, and no path changed unless a rename itself failed.
/// Paths that exist and are not regular files (/dev/stdout, a FIFO) are
/// written in place after the renames; a FIFO nobody reads is an error, not
/// a wait; a directory is an error.
Status writeNpyFiles(
    const std::vector<std::pair<std::string, const NpyArray *>> &files,
    NpyWriteOptions opts = {});

/// Converts any dtype to float (f64 and i32 may lose precision).
std::vector<float> toFloatVector(const NpyArray &array);
/// Makes an array of `dtype` from floats (rounding to nearest even for
/// f16/bf16; truncating toward zero for integers).
NpyArray fromFloats(const float *values, std::vector<int64_t> shape,
                    DType dtype);

//===- Half precision on the host -----------------------------------------===//

/// IEEE binary16 bits -> float (exact).
float halfToFloat(uint16_t bits);
/// float -> binary16 bits, round to nearest even; overflow gives inf, NaN
/// stays NaN.
uint16_t floatToHalf(float value);
/// bfloat16 bits -> float (exact).
float bf16ToFloat(uint16_t bits);
/// float -> bfloat16 bits, round to nearest even; NaN stays NaN.
uint16_t floatToBf16(float value);

} // namespace attnc
