//===- Npy.cpp - NumPy .npy reader and writer -----------------------------===//
#include "attnc/Npy.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace attnc {

namespace {

const char kNpyMagic[] = "\x93NUMPY";

struct DTypeDescr {
  DType dtype;
  const char *descr; // how we write it
};

Error npyError(const std::string &name, const std::string &problem) {
  return makeError(ErrorCode::Format, name + ": " + problem);
}

// Minimal parser for the header dict NumPy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : s_(text) {}

  // The raw value text after `'key':`, or false if the key is absent.
  bool findValue(const std::string &key, size_t &pos) const {
    for (const char *quote : {"'", "\""}) {
      std::string k = quote + key + quote;
      size_t at = s_.find(k);
      if (at == std::string::npos)
        continue;
      at += k.size();
      while (at < s_.size() && (s_[at] == ' ' || s_[at] == ':'))
        ++at;
      pos = at;
      return true;
    }
    return false;
  }

  bool stringValue(const std::string &key, std::string &out) const {
    size_t pos;
    if (!findValue(key, pos) || pos >= s_.size())
      return false;
    char q = s_[pos];
    if (q != '\'' && q != '"')
      return false;
    size_t end = s_.find(q, pos + 1);
    if (end == std::string::npos)
      return false;
    out = s_.substr(pos + 1, end - pos - 1);
    return true;
  }

  // 1 true, 0 false, -1 missing/malformed.
  int boolValue(const std::string &key) const {
    size_t pos;
    if (!findValue(key, pos))
      return -1;
    if (s_.compare(pos, 4, "True") == 0)
      return 1;
    if (s_.compare(pos, 5, "False") == 0)
      return 0;
    return -1;
  }

  bool shapeValue(const std::string &key, std::vector<int64_t> &out,
                  std::string &problem) const {
    size_t pos;
    if (!findValue(key, pos) || pos >= s_.size() || s_[pos] != '(') {
      problem = "header has no 'shape' tuple";
      return false;
    }
    size_t end = s_.find(')', pos);
    if (end == std::string::npos) {
      problem = "unterminated 'shape' tuple";
      return false;
    }
    std::string body = s_.substr(pos + 1, end - pos - 1);
    size_t i = 0;
    while (i < body.size()) {
      while (i < body.size() && (body[i] == ' ' || body[i] == ','))
        ++i;
      if (i >= body.size())
        break;
      size_t j = i;
      while (j < body.size() && body[j] >= '0' && body[j] <= '9')
        ++j;
      // Python 2 era files may write 3L.
      if (j == i) {
        problem = "bad 'shape' entry in (" + body + ")";
        return false;
      }
      errno = 0;
      unsigned long long v =
          std::strtoull(body.substr(i, j - i).c_str(), nullptr, 10);
      if (errno || v > uint64_t(std::numeric_limits<int64_t>::max())) {
        problem = "'shape' entry out of range in (" + body + ")";
        return false;
      }
      out.push_back(int64_t(v));
      i = j;
      if (i < body.size() && body[i] == 'L')
        ++i;
    }
    return true;
  }

private:
  const std::string &s_;
};

bool parseDescr(const std::string &descr, const NpyReadOptions &opts,
                DType &out) {
  struct {
    const char *text;
    DType dtype;
  } table[] = {
      {"<f2", DType::F16},  {"<f4", DType::F32}, {"<f8", DType::F64},
      {"<i4", DType::I32},  {"|i1", DType::I8},  {"<i1", DType::I8},
      {"|u1", DType::U8},   {"<u1", DType::U8},  {"<V2", DType::BF16},
      {"|V2", DType::BF16},
  };
  for (auto &t : table)
    if (descr == t.text) {
      out = t.dtype;
      return true;
    }
  if (descr == "<u2") {
    out = opts.u2IsBF16 ? DType::BF16 : DType::U16;
    return true;
  }
  return false;
}

const char *descrFor(DType dtype, const NpyWriteOptions &opts) {
  switch (dtype) {
  case DType::F16:
    return "<f2";
  case DType::BF16:
    return opts.bf16AsU2 ? "<u2" : "<V2";
  case DType::F32:
    return "<f4";
  case DType::F64:
    return "<f8";
  case DType::I32:
    return "<i4";
  case DType::I8:
    return "|i1";
  case DType::U8:
    return "|u1";
  case DType::U16:
    return "<u2";
  }
  return "?";
}

// Element count of a shape, or false on overflow.
bool shapeElements(const std::vector<int64_t> &shape, size_t elemSize,
                   size_t &elements, size_t &bytes) {
  unsigned __int128 n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return false;
    n *= uint64_t(d);
    if (n > std::numeric_limits<size_t>::max())
      return false;
  }
  unsigned __int128 b = n * elemSize;
  if (b > std::numeric_limits<size_t>::max())
    return false;
  elements = size_t(n);
  bytes = size_t(b);
  return true;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += std::to_string(shape[i]) +
         (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
  return s + ")";
}

} // namespace

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F16:
  case DType::BF16:
  case DType::U16:
    return 2;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F64:
    return 8;
  case DType::I8:
  case DType::U8:
    return 1;
  }
  return 1;
}

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::I32:
    return "i32";
  case DType::I8:
    return "i8";
  case DType::U8:
    return "u8";
  case DType::U16:
    return "u16";
  }
  return "?";
}

size_t NpyArray::numElements() const {
  size_t n = 1;
  for (int64_t d : shape)
    n *= size_t(d);
  return n;
}

NpyArray NpyArray::zeros(DType dtype, std::vector<int64_t> shape) {
  NpyArray a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  a.data.assign(a.numElements() * dtypeSize(dtype), 0);
  return a;
}

Expected<NpyArray> parseNpy(const void *bytes, size_t size,
                            const std::string &name, NpyReadOptions opts) {
  const char *p = static_cast<const char *>(bytes);
  if (size < 8 || std::memcmp(p, kNpyMagic, 6) != 0)
    return npyError(name, "not a .npy file (bad magic; expected \\x93NUMPY)");
  unsigned major = uint8_t(p[6]), minor = uint8_t(p[7]);
  size_t prefix;
  size_t headerLen;
  if (major == 1) {
    prefix = 10;
    if (size < prefix)
      return npyError(name,
                      "truncated header (file ends in the header length)");
    headerLen = uint8_t(p[8]) | (size_t(uint8_t(p[9])) << 8);
  } else if (major == 2 || major == 3) {
    prefix = 12;
    if (size < prefix)
      return npyError(name,
                      "truncated header (file ends in the header length)");
    headerLen = uint8_t(p[8]) | (size_t(uint8_t(p[9])) << 8) |
                (size_t(uint8_t(p[10])) << 16) | (size_t(uint8_t(p[11])) << 24);
  } else {
    return npyError(name, "unsupported .npy format version " +
                              std::to_string(major) + "." +
                              std::to_string(minor) + " (1.0, 2.0, 3.0 known)");
  }
  if (size - prefix < headerLen)
    return npyError(name, "truncated header: header says " +
                              std::to_string(headerLen) + " bytes, file has " +
                              std::to_string(size - prefix));
  std::string header(p + prefix, headerLen);
  if (header.find('{') == std::string::npos ||
      header.find('}') == std::string::npos)
    return npyError(name, "malformed header (no {...} dictionary): " + header);

  HeaderParser parser(header);
  std::string descr;
  if (!parser.stringValue("descr", descr))
    return npyError(name, "header has no 'descr' string (structured dtypes "
                          "are not supported)");
  NpyArray array;
  if (!parseDescr(descr, opts, array.dtype)) {
    std::string why = "unsupported dtype '" + descr + "'";
    if (!descr.empty() && descr[0] == '>')
      why += " (big-endian; save little-endian data)";
    return npyError(name, why + "; supported: <f2 <f4 <f8 <i4 |i1 |u1 <u2 "
                                "<V2 (bfloat16)");
  }
  int fortran = parser.boolValue("fortran_order");
  if (fortran < 0)
    return npyError(name, "header has no 'fortran_order' True/False");
  if (fortran == 1)
    return npyError(name, "Fortran-order (column-major) arrays are not "
                          "supported; save with np.ascontiguousarray()");
  std::string problem;
  if (!parser.shapeValue("shape", array.shape, problem))
    return npyError(name, problem);

  size_t elements = 0, want = 0;
  if (!shapeElements(array.shape, dtypeSize(array.dtype), elements, want))
    return npyError(name,
                    "shape " + shapeString(array.shape) + " is too large");
  size_t have = size - prefix - headerLen;
  if (have != want)
    return npyError(
        name, std::string(have < want ? "truncated data" : "size mismatch") +
                  ": shape " + shapeString(array.shape) + " of " + descr +
                  " needs " + std::to_string(want) + " bytes, file has " +
                  std::to_string(have));
  const uint8_t *data =
      reinterpret_cast<const uint8_t *>(p + prefix + headerLen);
  array.data.assign(data, data + want);
  return array;
}

Expected<NpyArray> readNpy(const std::string &path, NpyReadOptions opts) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return makeError(errno == ENOENT ? ErrorCode::NotFound : ErrorCode::IO,
                     path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    bytes.insert(bytes.end(), buf, buf + n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed)
    return makeError(ErrorCode::IO, path + ": read error");
  return parseNpy(bytes.data(), bytes.size(), path, opts);
}

Expected<std::vector<uint8_t>> serializeNpy(const NpyArray &array,
                                            NpyWriteOptions opts) {
  size_t elements = 0, want = 0;
  if (!shapeElements(array.shape, dtypeSize(array.dtype), elements, want) ||
      want != array.data.size())
    return makeError(ErrorCode::InvalidArgument,
                     "array data is " + std::to_string(array.data.size()) +
                         " bytes but shape " + shapeString(array.shape) +
                         " of " + dtypeName(array.dtype) + " needs " +
                         std::to_string(want));
  std::string dict =
      std::string("{'descr': '") + descrFor(array.dtype, opts) +
      "', 'fortran_order': False, 'shape': " + shapeString(array.shape) + ", }";
  // Pad with spaces so the data starts at a multiple of 64, end with \n.
  bool v2 = dict.size() + 1 + 10 > 65535;
  size_t prefix = v2 ? 12 : 10;
  size_t total = prefix + dict.size() + 1;
  size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict.push_back('\n');

  std::vector<uint8_t> out(kNpyMagic, kNpyMagic + 6);
  out.push_back(v2 ? 2 : 1);
  out.push_back(0);
  size_t len = dict.size();
  out.push_back(uint8_t(len));
  out.push_back(uint8_t(len >> 8));
  if (v2) {
    out.push_back(uint8_t(len >> 16));
    out.push_back(uint8_t(len >> 24));
  }
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), array.data.begin(), array.data.end());
  return out;
}

Status writeNpy(const std::string &path, const NpyArray &array,
                NpyWriteOptions opts) {
  auto bytes = serializeNpy(array, opts);
  if (!bytes)
    return bytes.takeError().addContext(path);
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return makeError(ErrorCode::IO,
                     path + ": cannot create: " + std::strerror(errno));
  bool ok = std::fwrite(bytes->data(), 1, bytes->size(), f) == bytes->size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok)
    return makeError(ErrorCode::IO,
                     path + ": write failed: " + std::strerror(errno));
  return success();
}

std::vector<float> toFloatVector(const NpyArray &a) {
  size_t n = a.numElements();
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *p = a.data.data() + i * a.elementSize();
    switch (a.dtype) {
    case DType::F16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      out[i] = halfToFloat(v);
      break;
    }
    case DType::BF16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      out[i] = bf16ToFloat(v);
      break;
    }
    case DType::U16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      out[i] = float(v);
      break;
    }
    case DType::F32:
      std::memcpy(&out[i], p, 4);
      break;
    case DType::F64: {
      double v;
      std::memcpy(&v, p, 8);
      out[i] = float(v);
      break;
    }
    case DType::I32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      out[i] = float(v);
      break;
    }
    case DType::I8:
      out[i] = float(int8_t(*p));
      break;
    case DType::U8:
      out[i] = float(*p);
      break;
    }
  }
  return out;
}

NpyArray fromFloats(const float *values, std::vector<int64_t> shape,
                    DType dtype) {
  NpyArray a = NpyArray::zeros(dtype, std::move(shape));
  size_t n = a.numElements();
  for (size_t i = 0; i < n; ++i) {
    uint8_t *p = a.data.data() + i * a.elementSize();
    float f = values[i];
    switch (dtype) {
    case DType::F16: {
      uint16_t v = floatToHalf(f);
      std::memcpy(p, &v, 2);
      break;
    }
    case DType::BF16: {
      uint16_t v = floatToBf16(f);
      std::memcpy(p, &v, 2);
      break;
    }
    case DType::U16: {
      uint16_t v = uint16_t(f);
      std::memcpy(p, &v, 2);
      break;
    }
    case DType::F32:
      std::memcpy(p, &f, 4);
      break;
    case DType::F64: {
      double v = f;
      std::memcpy(p, &v, 8);
      break;
    }
    case DType::I32: {
      int32_t v = int32_t(f);
      std::memcpy(p, &v, 4);
      break;
    }
    case DType::I8:
      *p = uint8_t(int8_t(f));
      break;
    case DType::U8:
      *p = uint8_t(f);
      break;
    }
  }
  return a;
}

} // namespace attnc
