//===- Npy.cpp - NumPy .npy reader and writer -----------------------------===//
#include "attnc/Npy.h"

#include "FileIO.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace attnc {

namespace {

const char kNpyMagic[] = "\x93NUMPY";
// NumPy itself refuses headers over 10000 bytes unless told otherwise.
constexpr size_t kMaxHeaderBytes = size_t(1) << 20;

struct DTypeDescr {
  DType dtype;
  const char *descr; // how we write it
};

Error npyError(const std::string &name, const std::string &problem) {
  return makeError(ErrorCode::Format, name + ": " + problem);
}

// Parser of the header dict NumPy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// It accepts exactly the Python literal grammar NumPy emits: string keys
// 'descr', 'fortran_order' and 'shape' (each once), a string, True/False and
// a tuple of non-negative integers with commas between the entries.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : s_(text) {}

  bool parse(std::string &problem) {
    skipSpace();
    if (!eat('{'))
      return fail(problem, "malformed header (no {...} dictionary)");
    bool first = true;
    for (;;) {
      skipSpace();
      if (eat('}'))
        break;
      if (!first && !sawComma_)
        return fail(problem, "malformed header: expected ',' or '}'");
      std::string key;
      if (!stringLit(key))
        return fail(problem, "malformed header: expected a quoted key");
      skipSpace();
      if (!eat(':'))
        return fail(problem, "malformed header: expected ':' after '" + key +
                                 "'");
      skipSpace();
      if (key == "descr") {
        if (haveDescr)
          return fail(problem, "duplicate key 'descr' in the header");
        if (!stringLit(descr))
          return fail(problem, "header has no 'descr' string (structured "
                               "dtypes are not supported)");
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (fortranOrder >= 0)
          return fail(problem, "duplicate key 'fortran_order' in the header");
        if (s_.compare(i_, 4, "True") == 0)
          fortranOrder = 1, i_ += 4;
        else if (s_.compare(i_, 5, "False") == 0)
          fortranOrder = 0, i_ += 5;
        else
          return fail(problem, "header 'fortran_order' is not True/False");
      } else if (key == "shape") {
        if (haveShape)
          return fail(problem, "duplicate key 'shape' in the header");
        if (!tuple(problem))
          return false;
        haveShape = true;
      } else {
        return fail(problem, "unknown key '" + key + "' in the header");
      }
      first = false;
      skipSpace();
      sawComma_ = eat(',');
    }
    skipSpace();
    if (i_ != s_.size())
      return fail(problem, "malformed header: text after the dictionary");
    if (!haveDescr)
      return fail(problem, "header has no 'descr' string (structured dtypes "
                           "are not supported)");
    if (fortranOrder < 0)
      return fail(problem, "header has no 'fortran_order' True/False");
    if (!haveShape)
      return fail(problem, "header has no 'shape' tuple");
    return true;
  }

  std::string descr;
  int fortranOrder = -1;
  std::vector<int64_t> shape;

private:
  bool fail(std::string &problem, const std::string &why) {
    problem = why;
    return false;
  }
  void skipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' ||
                              s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool stringLit(std::string &out) {
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"'))
      return false;
    char q = s_[i_];
    size_t end = s_.find(q, i_ + 1);
    if (end == std::string::npos)
      return false;
    out = s_.substr(i_ + 1, end - i_ - 1);
    if (out.find('\\') != std::string::npos)
      return false;
    i_ = end + 1;
    return true;
  }
  bool tuple(std::string &problem) {
    if (!eat('('))
      return fail(problem, "header 'shape' is not a tuple");
    bool needComma = false, sawComma = false;
    for (;;) {
      skipSpace();
      if (eat(')'))
        break;
      if (eat(',')) {
        if (!needComma)
          return fail(problem, "bad 'shape' tuple: misplaced ','");
        needComma = false, sawComma = true;
        continue;
      }
      if (needComma)
        return fail(problem, "bad 'shape' tuple: expected ',' between entries");
      size_t j = i_;
      while (j < s_.size() && s_[j] >= '0' && s_[j] <= '9')
        ++j;
      if (j == i_)
        return fail(problem, "bad 'shape' entry (not a non-negative integer)");
      if (j - i_ > 19)
        return fail(problem, "'shape' entry out of range");
      errno = 0;
      unsigned long long v =
          std::strtoull(s_.substr(i_, j - i_).c_str(), nullptr, 10);
      if (errno || v > uint64_t(std::numeric_limits<int64_t>::max()))
        return fail(problem, "'shape' entry out of range");
      shape.push_back(int64_t(v));
      i_ = j;
      if (i_ < s_.size() && s_[i_] == 'L') // Python 2 era files write 3L.
        ++i_;
      needComma = true;
    }
    if (shape.size() == 1 && !sawComma)
      return fail(problem, "bad 'shape' tuple: (n) needs a trailing comma");
    return true;
  }

  const std::string &s_;
  size_t i_ = 0;
  bool sawComma_ = false;
  bool haveDescr = false, haveShape = false;
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

namespace {
/// Parses the prefix and header in the first `avail` bytes of a file of
/// `fileSize` bytes; on success `array` has dtype and shape, `dataOffset` is
/// where the data starts and `dataBytes` how many bytes it has. `needed` is set
/// to the bytes required when `avail` is too short (then no error).
Status parseHeader(const char *p, size_t avail, size_t fileSize,
                   const std::string &name, const NpyReadOptions &opts,
                   NpyArray &array, size_t &dataOffset, size_t &dataBytes,
                   size_t &needed) {
  needed = 0;
  if (fileSize < 8 || avail < 8 || std::memcmp(p, kNpyMagic, 6) != 0)
    return npyError(name, "not a .npy file (bad magic; expected \\x93NUMPY)");
  unsigned major = uint8_t(p[6]), minor = uint8_t(p[7]);
  size_t prefix;
  if (major == 1)
    prefix = 10;
  else if (major == 2 || major == 3)
    prefix = 12;
  else
    return npyError(name, "unsupported .npy format version " +
                              std::to_string(major) + "." +
                              std::to_string(minor) + " (1.0, 2.0, 3.0 known)");
  if (fileSize < prefix)
    return npyError(name, "truncated header (file ends in the header length)");
  if (avail < prefix) {
    needed = prefix;
    return success();
  }
  size_t headerLen = uint8_t(p[8]) | (size_t(uint8_t(p[9])) << 8);
  if (prefix == 12)
    headerLen |= (size_t(uint8_t(p[10])) << 16) | (size_t(uint8_t(p[11])) << 24);
  if (fileSize - prefix < headerLen)
    return npyError(name, "truncated header: header says " +
                              std::to_string(headerLen) + " bytes, file has " +
                              std::to_string(fileSize - prefix));
  if (headerLen > kMaxHeaderBytes)
    return npyError(name, "header of " + std::to_string(headerLen) +
                              " bytes is too large (at most " +
                              std::to_string(kMaxHeaderBytes) + ")");
  if (avail < prefix + headerLen) {
    needed = prefix + headerLen;
    return success();
  }
  std::string header(p + prefix, headerLen);
  HeaderParser parser(header);
  std::string problem;
  if (!parser.parse(problem))
    return npyError(name, problem);
  const std::string &descr = parser.descr;
  if (!parseDescr(descr, opts, array.dtype)) {
    std::string why = "unsupported dtype '" + descr + "'";
    if (!descr.empty() && descr[0] == '>')
      why += " (big-endian; save little-endian data)";
    return npyError(name, why + "; supported: <f2 <f4 <f8 <i4 |i1 |u1 <u2 "
                                "<V2 (bfloat16)");
  }
  if (parser.fortranOrder == 1)
    return npyError(name, "Fortran-order (column-major) arrays are not "
                          "supported; save with np.ascontiguousarray()");
  array.shape = parser.shape;
  size_t elements = 0, want = 0;
  if (!shapeElements(array.shape, dtypeSize(array.dtype), elements, want))
    return npyError(name,
                    "shape " + shapeString(array.shape) + " is too large");
  size_t have = fileSize - prefix - headerLen;
  if (have != want)
    return npyError(
        name, std::string(have < want ? "truncated data" : "size mismatch") +
                  ": shape " + shapeString(array.shape) + " of " + descr +
                  " needs " + std::to_string(want) + " bytes, file has " +
                  std::to_string(have));
  dataOffset = prefix + headerLen;
  dataBytes = want;
  return success();
}
} // namespace

Expected<NpyArray> parseNpy(const void *bytes, size_t size,
                            const std::string &name, NpyReadOptions opts) {
  const char *p = static_cast<const char *>(bytes);
  NpyArray array;
  size_t offset = 0, want = 0, needed = 0;
  if (Status st = parseHeader(p, size, size, name, opts, array, offset, want,
                              needed);
      !st)
    return st.takeError();
  const uint8_t *data = reinterpret_cast<const uint8_t *>(p + offset);
  array.data.assign(data, data + want);
  return array;
}

Expected<NpyArray> readNpy(const std::string &path, NpyReadOptions opts) {
  // Like the DSL reader: O_NONBLOCK (a FIFO never blocks the open), regular
  // files only, and the size is checked against the header before the data
  // is read, so /dev/zero or a huge sparse file is refused, not slurped.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return makeError(errno == ENOENT ? ErrorCode::NotFound : ErrorCode::IO,
                     path + ": cannot open: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return makeError(ErrorCode::IO,
                     path + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return makeError(ErrorCode::InvalidArgument,
                     path + ": not a regular file");
  size_t fileSize = size_t(st.st_size);
  std::vector<uint8_t> bytes;
  auto readTo = [&](size_t n) -> bool {
    size_t at = bytes.size();
    bytes.resize(n);
    while (at < n) {
      ssize_t r = ::read(fd, bytes.data() + at, n - at);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return false;
      at += size_t(r);
    }
    return true;
  };
  NpyArray array;
  size_t offset = 0, want = 0, needed = std::min<size_t>(fileSize, 12);
  for (;;) {
    if (!readTo(needed))
      return makeError(ErrorCode::IO, path + ": read error or file shrank");
    if (Status s = parseHeader(reinterpret_cast<const char *>(bytes.data()),
                               bytes.size(), fileSize, path, opts, array,
                               offset, want, needed);
        !s)
      return s.takeError();
    if (!needed)
      break;
  }
  bytes.clear();
  bytes.shrink_to_fit();
  if (::lseek(fd, off_t(offset), SEEK_SET) < 0)
    return makeError(ErrorCode::IO, path + ": cannot seek");
  if (!readTo(want))
    return makeError(ErrorCode::IO, path + ": read error or file shrank");
  array.data = std::move(bytes);
  return array;
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

namespace {

/// One file of writeNpyFiles(): where it goes and how.
struct PendingFile {
  std::string path, tmp; // tmp empty: written in place (not a regular file)
  std::vector<uint8_t> bytes;
};

} // namespace

Status writeNpyFiles(
    const std::vector<std::pair<std::string, const NpyArray *>> &files,
    NpyWriteOptions opts) {
  std::vector<PendingFile> pending;
  auto removeTemporaries = [&pending] {
    for (const PendingFile &f : pending)
      if (!f.tmp.empty())
        ::unlink(f.tmp.c_str());
  };
  static unsigned counter = 0;
  for (const auto &[path, array] : files) {
    auto bytes = serializeNpy(*array, opts);
    if (!bytes) {
      removeTemporaries();
      return bytes.takeError().addContext(path);
    }
    PendingFile f;
    f.path = path;
    f.bytes = std::move(*bytes);
    struct stat st;
    bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
      removeTemporaries();
      return makeError(ErrorCode::IO, path + ": cannot create: Is a directory");
    }
    if (exists && S_ISREG(st.st_mode) && ::access(path.c_str(), W_OK) != 0) {
      // A read-only file is not replaced behind the user's back (the rename
      // below would succeed in a writable directory).
      int err = errno;
      removeTemporaries();
      return makeError(ErrorCode::IO,
                       path + ": cannot create: " + std::strerror(err));
    }
    if (!exists || S_ISREG(st.st_mode)) {
      // Beside the target, so the rename is atomic and nothing partial is
      // ever seen at `path`; a symbolic link is written through (the file
      // it names is replaced, not the link).
      struct stat lst;
      if (exists && ::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode))
        if (char *real = ::realpath(path.c_str(), nullptr)) {
          f.path = real;
          std::free(real);
        }
      const std::string &target = f.path;
      size_t slash = target.rfind('/');
      std::string dir =
          slash == std::string::npos ? "" : target.substr(0, slash + 1);
      std::string base =
          slash == std::string::npos ? target : target.substr(slash + 1);
      f.tmp = dir + "." + base + ".tmp." + std::to_string(::getpid()) + "." +
              std::to_string(counter++);
      int fd =
          ::open(f.tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd < 0) {
        int err = errno;
        f.tmp.clear();
        removeTemporaries();
        return makeError(ErrorCode::IO,
                         path + ": cannot create: " + std::strerror(err));
      }
      bool ok = detail::writeAll(fd, f.bytes.data(), f.bytes.size());
      int err = errno;
      ok = (::close(fd) == 0) && ok;
      if (!ok) {
        pending.push_back(std::move(f));
        removeTemporaries();
        return makeError(ErrorCode::IO,
                         path + ": write failed: " + std::strerror(err));
      }
      f.bytes.clear();
      f.bytes.shrink_to_fit();
    }
    pending.push_back(std::move(f));
  }
  // Every regular file is complete: move them into place, then write the
  // special ones (/dev/stdout, a FIFO: never replaced by a rename).
  for (size_t i = 0; i < pending.size(); ++i) {
    PendingFile &f = pending[i];
    if (f.tmp.empty() || ::rename(f.tmp.c_str(), f.path.c_str()) == 0) {
      f.tmp.clear();
      continue;
    }
    int err = errno;
    removeTemporaries();
    return makeError(ErrorCode::IO,
                     files[i].first + ": cannot create: " + std::strerror(err));
  }
  for (PendingFile &f : pending) {
    if (f.bytes.empty())
      continue;
    // O_NONBLOCK: a FIFO nobody reads is an error, not a hang.
    int fd = ::open(f.path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
      return makeError(ErrorCode::IO,
                       f.path + ": cannot open for writing: " +
                           std::string(errno == ENXIO
                                           ? "no process is reading the FIFO"
                                           : std::strerror(errno)));
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0)
      (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    bool ok = detail::writeAll(fd, f.bytes.data(), f.bytes.size());
    int err = errno;
    ok = (::close(fd) == 0) && ok;
    if (!ok)
      return makeError(ErrorCode::IO,
                       f.path + ": write failed: " + std::strerror(err));
  }
  return success();
}

Status writeNpy(const std::string &path, const NpyArray &array,
                NpyWriteOptions opts) {
  return writeNpyFiles({{path, &array}}, opts);
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
