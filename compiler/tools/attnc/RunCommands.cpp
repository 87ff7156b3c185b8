//===- RunCommands.cpp - `attnc run` and `attnc bench` --------------------===//
//
// Both go through the public C++ API (attnc/attnc.h), like a host program.
//
//===----------------------------------------------------------------------===//
#include "RunCommands.h"

#include "attn/Kernel/Params.h"
#include "attn/Model/IoModel.h"
#include "attn/Model/Target.h"
#include "attnc/Check.h"
#include "attnc/CudaDriver.h"
#include "attnc/KernelCache.h"
#include "attnc/Npy.h"
#include "attnc/RandomFill.h"
#include "attnc/attnc.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <new>
#include <numeric>
#include <random>
#include <sstream>
#include <tuple>

using namespace attnc;
using namespace attnc::tool;

namespace {

int fail(const std::string &msg) {
  std::cerr << "error: " << msg << "\n";
  return 1;
}
int fail(const Error &e) { return fail(e.str()); }

DType dtypeOf(ElementType e) {
  return e == ElementType::f16 ? DType::F16
         : e == ElementType::bf16 ? DType::BF16
                                  : DType::F32;
}

/// Host tensor in the element type, plus its values as doubles.
struct HostTensor {
  std::vector<int64_t> shape;
  NpyArray raw;              // element-typed bytes, dense
  std::vector<double> value; // the same values, dense
};

/// Elements and bytes of a tensor of `shape`; false past 2^62 bytes (no
/// allocation that large can succeed, and the product must not wrap).
bool tensorBytes(const std::vector<int64_t> &shape, size_t elemBytes,
                 size_t &elements, size_t &bytes) {
  unsigned __int128 total = 1;
  for (int64_t d : shape)
    if (d < 0 || (total *= uint64_t(d)) > (unsigned __int128)(1) << 62)
      return false;
  if (total * elemBytes > (unsigned __int128)(1) << 62)
    return false;
  elements = size_t(total);
  bytes = size_t(total * elemBytes);
  return true;
}

std::string fmtShape(const std::vector<int64_t> &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::string gib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", double(bytes) / double(1 << 30));
  return buf;
}

/// A device tensor of `shape` filled with standard normal values of the
/// element type (attnc/RandomFill.h): generated on the device, so no host
/// memory of the tensor's size is used. `what` names it in errors.
Expected<DeviceBuffer> randomOnDevice(const std::string &what,
                                      const std::vector<int64_t> &shape,
                                      ElementType e, uint64_t seed,
                                      uint32_t stream, bool verbose,
                                      KernelCache *cache) {
  size_t elements = 0, bytes = 0;
  if (!tensorBytes(shape, size_t(elementBytes(e)), elements, bytes))
    return makeError(ErrorCode::InvalidArgument,
                     what + " " + fmtShape(shape) +
                         " has more than 2^62 bytes");
  Expected<DeviceBuffer> buf = DeviceBuffer::allocate(bytes);
  if (!buf)
    return buf.takeError().addContext(what + " " + fmtShape(shape) + " needs " +
                                      std::to_string(bytes) + " B (" +
                                      gib(bytes) + ") of device memory");
  if (Status st = fillNormal(buf->data(), elements, dtypeOf(e), seed, stream,
                             nullptr, cache);
      !st)
    return st.takeError().addContext(what);
  if (verbose)
    std::cerr << "attnc: " << what << " " << fmtShape(shape) << " "
              << elementTypeName(e) << ": random normal on the device (seed "
              << seed << ", stream " << stream << ")\n";
  return buf;
}

/// The host copy of a device tensor (for --check).
Expected<HostTensor> download(const DeviceBuffer &buf,
                              const std::vector<int64_t> &shape,
                              ElementType e) {
  HostTensor t;
  t.shape = shape;
  t.raw.dtype = dtypeOf(e);
  t.raw.shape = shape;
  t.raw.data.resize(buf.size());
  if (Status st = buf.copyToHost(t.raw.data.data(), buf.size()); !st)
    return st.takeError();
  std::vector<float> f = toFloatVector(t.raw);
  t.value.assign(f.begin(), f.end());
  return t;
}

/// Whether two output paths name one file (the same path, the same inode,
/// or the same name in the same real directory); character devices such as
/// /dev/null may take both.
bool sameOutput(const std::string &a, const std::string &b) {
  struct stat sa, sb;
  bool ea = ::stat(a.c_str(), &sa) == 0, eb = ::stat(b.c_str(), &sb) == 0;
  if (ea && eb)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
           !S_ISCHR(sa.st_mode);
  auto canonical = [](const std::string &p) {
    size_t slash = p.rfind('/');
    std::string dir = slash == std::string::npos ? "." : p.substr(0, slash + 1);
    std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
    char *real = ::realpath(dir.c_str(), nullptr);
    if (!real)
      return p;
    std::string r = std::string(real) + "/" + base;
    std::free(real);
    return r;
  };
  return a == b || canonical(a) == canonical(b);
}

/// A tensor .npy of the spec's element type: rank 4 [batch, heads, seq,
/// dim], or rank 3 [total, heads, dim] for packed sequences.
Expected<HostTensor> loadTensor(const std::string &what,
                                const std::string &path, ElementType e,
                                bool bf16AsU2, bool packed = false) {
  NpyReadOptions ro;
  ro.u2IsBF16 = bf16AsU2;
  Expected<NpyArray> a = readNpy(path, ro);
  if (!a)
    return a.takeError().addContext("--" + what);
  if (a->shape.size() != (packed ? 3u : 4u))
    return makeError(ErrorCode::InvalidArgument,
                     "--" + what + " " + path + ": expected a rank-" +
                         (packed ? "3 array [total, heads, dim] (the spec's "
                                   "sequences are packed)"
                                 : "4 array [batch, heads, seq, dim]") +
                         ", got rank " + std::to_string(a->shape.size()));
  if (a->dtype != dtypeOf(e))
    return makeError(
        ErrorCode::InvalidArgument,
        "--" + what + " " + path + ": the spec's element type is " +
            elementTypeName(e) + " but the array is " + dtypeName(a->dtype) +
            (e == ElementType::bf16 ? " (bf16 is read as <V2, or <u2 with "
                                      "--bf16-as-u2)"
                                    : ""));
  HostTensor t;
  t.shape = a->shape;
  std::vector<float> f = toFloatVector(*a);
  t.value.assign(f.begin(), f.end());
  t.raw = std::move(*a);
  return t;
}

Expected<DeviceBuffer> upload(const void *data, size_t bytes) {
  Expected<DeviceBuffer> buf = DeviceBuffer::allocate(std::max<size_t>(bytes, 16));
  if (!buf)
    return buf;
  if (bytes) {
    Status st = buf->copyFromHost(data, bytes);
    if (!st)
      return st.takeError();
  }
  return buf;
}


/// An int32 .npy for an index flag (--lengths, --block-table, --seq-lens):
/// rank 1 [batch], or rank 2 [batch, columns >= 1]; the error names the
/// flag, the file and what it holds (in `err`, ready for fail()).
bool readIndexNpy(const char *flag, const std::string &path, int64_t batch,
                  int rank, std::vector<int32_t> &out, std::string &err,
                  int64_t *columns = nullptr) {
  Expected<NpyArray> a = readNpy(path);
  if (!a) {
    err = a.takeError().addContext(flag).str();
    return false;
  }
  if (a->dtype != DType::I32 || int(a->shape.size()) != rank ||
      a->shape[0] != batch || (rank == 2 && a->shape[1] < 1)) {
    err = std::string(flag) + " " + path + ": expected int32 [" +
          std::to_string(batch) + (rank == 2 ? ", max_pages >= 1" : "") +
          "], got " + dtypeName(a->dtype) + " " + fmtShape(a->shape);
    return false;
  }
  out.resize(a->data.size() / 4);
  std::memcpy(out.data(), a->data.data(), out.size() * 4);
  if (columns)
    *columns = rank == 2 ? a->shape[1] : 1;
  return true;
}

/// The attention sinks of a spec that has them: --sinks S.npy (f32 [hq]),
/// or random logits (normal, scale 2) with --shape; `err` is ready for
/// fail(). Empty without sinks (and --sinks is then refused).
bool readSinks(const RunOptions &o, const KernelInfo &info, bool random,
               int64_t hq, std::vector<float> &out, std::string &err) {
  out.clear();
  if (!info.sinks) {
    if (!o.sinks.empty()) {
      err = "--sinks: the spec's softmax has no sinks (softmax(s, sink: "
            "...)); they would not be used";
      return false;
    }
    return true;
  }
  if (o.sinks.empty()) {
    if (!random) {
      err = "the spec's softmax has attention sinks: pass --sinks S.npy "
            "(float32 [" + std::to_string(hq) + "], one per query head)";
      return false;
    }
    std::mt19937_64 rng(o.dataSeed + 29);
    std::normal_distribution<float> normal(0.f, 2.f);
    for (int64_t h = 0; h < hq; ++h)
      out.push_back(normal(rng));
    return true;
  }
  Expected<NpyArray> a = readNpy(o.sinks);
  if (!a) {
    err = a.takeError().addContext("--sinks").str();
    return false;
  }
  if (a->dtype != DType::F32 || a->shape.size() != 1 || a->shape[0] != hq) {
    err = "--sinks " + o.sinks + ": expected float32 [" + std::to_string(hq) +
          "] (one logit per query head), got " + dtypeName(a->dtype) + " " +
          fmtShape(a->shape);
    return false;
  }
  out.resize(size_t(hq));
  std::memcpy(out.data(), a->data.data(), out.size() * 4);
  return true;
}

/// Random elements of an integer table (i32 in [0, 3], i8 in [-3, 3]),
/// little-endian bytes, for --shape and bench.
std::vector<uint8_t> randomIntTable(const TableInfo &t, size_t n,
                                    uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(t.element == "i32" ? 0 : -3, 3);
  std::vector<uint8_t> bytes(n * size_t(t.elementBytes()));
  for (size_t e = 0; e < n; ++e) {
    const int x = pick(rng);
    if (t.element == "i32")
      std::memcpy(bytes.data() + 4 * e, &x, 4);
    else
      bytes[e] = uint8_t(int8_t(x));
  }
  return bytes;
}

/// The free symbols' size of the random tables --shape and bench make.
constexpr int64_t kRandomFreeSize = 5;

/// The tables of a spec that reads them (KernelInfo::tables): --table
/// NAME=FILE.npy for each, or random ones with --shape (float tables normal,
/// rounded to their element type; i32 in [0, 3], i8 in [-3, 3]) of the sizes
/// the spec binds (sizes = batch, query heads, query length, key/value heads,
/// key length), its numbers, and 5 for a free symbol. `host` gets the
/// values for --check, `raw` the bytes to upload; `err` is ready for fail().
bool readTables(const RunOptions &o, const KernelInfo &info, bool random,
                const int64_t (&sizes)[5], std::vector<HostTable> &host,
                std::vector<NpyArray> &raw, std::string &err) {
  host.clear();
  raw.clear();
  std::map<std::string, std::string> files;
  for (const std::string &t : o.tables) {
    const size_t eq = t.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == t.size()) {
      err = "--table " + t + ": expected NAME=FILE.npy";
      return false;
    }
    const std::string name = t.substr(0, eq);
    bool known = false;
    for (const TableInfo &ti : info.tables)
      known |= ti.name == name;
    if (!known) {
      std::string names;
      for (const TableInfo &ti : info.tables)
        names += (names.empty() ? "" : ", ") + ti.name;
      err = "--table " + t + ": the spec reads no table '" + name + "'" +
            (names.empty() ? " (it reads none)" : " (its tables: " + names + ")");
      return false;
    }
    if (!files.emplace(name, t.substr(eq + 1)).second) {
      err = "--table " + t + ": table '" + name + "' is given twice";
      return false;
    }
  }
  for (size_t i = 0; i < info.tables.size(); ++i) {
    const TableInfo &t = info.tables[i];
    const DType want = t.element == "f32"    ? DType::F32
                       : t.element == "bf16" ? DType::BF16
                       : t.element == "f16"  ? DType::F16
                       : t.element == "i32"  ? DType::I32
                                             : DType::I8;
    NpyArray a;
    auto it = files.find(t.name);
    if (it == files.end()) {
      if (!random) {
        err = "the spec reads table '" + t.name + "': pass --table " + t.name +
              "=FILE.npy (" + t.element + ", " + std::to_string(t.rank) +
              " dimension(s))";
        return false;
      }
      a.dtype = want;
      a.shape = t.shapeFor(sizes, kRandomFreeSize);
      size_t n = 1;
      for (int64_t x : a.shape)
        n *= size_t(x);
      if (t.isInteger()) {
        a.data = randomIntTable(t, n, o.dataSeed + 31 + i);
      } else {
        std::mt19937_64 rng(o.dataSeed + 31 + i);
        std::normal_distribution<float> normal(0.f, 1.f);
        std::vector<float> f(n);
        for (float &x : f)
          x = normal(rng);
        a = fromFloats(f.data(), a.shape, want);
      }
    } else {
      Expected<NpyArray> r = readNpy(it->second);
      if (!r) {
        err = r.takeError().addContext("--table " + t.name).str();
        return false;
      }
      a = std::move(*r);
      if (a.dtype != want || int(a.shape.size()) != t.rank) {
        err = "--table " + t.name + "=" + it->second + ": expected " +
              t.element + " with " + std::to_string(t.rank) +
              " dimension(s), got " + dtypeName(a.dtype) + " " +
              fmtShape(a.shape);
        return false;
      }
      for (int d = 0; d < t.rank; ++d) {
        const std::string where = "--table " + t.name + "=" + it->second +
                                  ": dimension " + std::to_string(d) + " is " +
                                  std::to_string(a.shape[d]);
        if (a.shape[d] < 1 || a.shape[d] > std::numeric_limits<int32_t>::max()) {
          err = where + "; sizes are 1 to 2^31-1";
          return false;
        }
        if (t.dims[d] >= 0 && a.shape[d] != t.dims[d]) {
          err = where + ", the spec says " + std::to_string(t.dims[d]);
          return false;
        }
        if (t.bind[d] >= 0 && a.shape[d] != sizes[t.bind[d]]) {
          err = where + " but it is " + TableInfo::bindName(t.bind[d]) + " (" +
                std::to_string(sizes[t.bind[d]]) + ")";
          return false;
        }
      }
    }
    HostTable h;
    h.dims = a.shape;
    if (want == DType::I32) {
      for (size_t e = 0; e < a.numElements(); ++e)
        h.data.push_back(double(a.as<int32_t>()[e]));
    } else if (want == DType::I8) {
      for (size_t e = 0; e < a.numElements(); ++e)
        h.data.push_back(double(int8_t(a.data[e])));
    } else {
      for (float x : toFloatVector(a))
        h.data.push_back(double(x));
    }
    host.push_back(std::move(h));
    raw.push_back(std::move(a));
  }
  return true;
}

/// The tables on the device, and RunArgs::tables over them.
Status tablesOnDevice(const std::vector<NpyArray> &raw,
                      std::vector<DeviceBuffer> &buffers, RunArgs &args) {
  for (const NpyArray &a : raw) {
    Expected<DeviceBuffer> buf = upload(a.data.data(), a.data.size());
    if (!buf)
      return buf.takeError();
    args.tables.push_back(TensorArg::ofShape(buf->data(), a.shape));
    buffers.push_back(std::move(*buf));
  }
  return success();
}

/// The inputs beyond q, k, v and the index arrays that both run paths
/// pass the same way: the sinks and the tables, read (or made), kept for
/// --check and uploaded.
struct ExtraInputs {
  std::vector<float> sinks;
  std::vector<HostTable> tables;
  std::vector<NpyArray> tableRaw;
  DeviceBuffer deviceSinks;
  std::vector<DeviceBuffer> deviceTables;

  /// `sizes`: batch, query heads, query length, key/value heads, key
  /// length (what table dimensions bind to). `err` is ready for fail().
  bool load(const RunOptions &o, const KernelInfo &info, bool random,
            const int64_t (&sizes)[5], std::string &err) {
    if (!readSinks(o, info, random, sizes[1], sinks, err) ||
        !readTables(o, info, random, sizes, tables, tableRaw, err))
      return false;
    Expected<DeviceBuffer> d = upload(sinks.data(), sinks.size() * 4);
    if (!d) {
      err = d.error().str();
      return false;
    }
    deviceSinks = std::move(*d);
    RunArgs holder;
    if (Status st = tablesOnDevice(tableRaw, deviceTables, holder); !st) {
      err = st.error().str();
      return false;
    }
    tableArgs = std::move(holder.tables);
    return true;
  }
  /// Sets the sinks and tables of `args`.
  void apply(const KernelInfo &info, RunArgs &args) const {
    if (info.sinks)
      args.sinks = static_cast<const float *>(deviceSinks.data());
    args.tables = tableArgs;
  }

private:
  std::vector<TensorArg> tableArgs;
};

/// q, k, v on the device: random normal values of the host tensors' shapes
/// made on the device (host copies kept for --check), or the loaded files
/// uploaded. `where` prefixes the random tensors' names in messages.
Status inputsOnDevice(const RunOptions &o, bool random,
                      const std::string &where, ElementType e,
                      KernelCache *cache, HostTensor &q, HostTensor &k,
                      HostTensor &v, Expected<DeviceBuffer> &dq,
                      Expected<DeviceBuffer> &dk, Expected<DeviceBuffer> &dv) {
  HostTensor *host[3] = {&q, &k, &v};
  Expected<DeviceBuffer> *dev[3] = {&dq, &dk, &dv};
  for (unsigned t = 0; t < 3; ++t) {
    HostTensor &h = *host[t];
    *dev[t] = random ? randomOnDevice(where + "qkv"[t], h.shape, e,
                                      o.dataSeed, t, o.verbose, cache)
                     : upload(h.raw.data.data(), h.raw.data.size());
    if (!*dev[t])
      return dev[t]->takeError();
    if (random && o.check) {
      Expected<HostTensor> copy = download(**dev[t], h.shape, e);
      if (!copy)
        return copy.takeError();
      h = std::move(*copy);
    }
  }
  return success();
}

/// Device buffers for O and LSE, poisoned (NaN) so unwritten elements show.
Status poisonedOutputs(size_t oBytes, size_t lseBytes,
                       Expected<DeviceBuffer> &out, Expected<DeviceBuffer> &lse) {
  for (auto [bytes, buf] : {std::pair{oBytes, &out}, {lseBytes, &lse}}) {
    *buf = DeviceBuffer::allocate(bytes);
    if (!*buf)
      return buf->takeError();
    if (Status st = (*buf)->fill(0xff); !st)
      return st;
  }
  return success();
}

/// `attnc run -v`: the compiled kernel and what the launch did.
void reportLaunch(const Attention &attn, const RunReport &launched) {
  const KernelInfo &info = attn.info();
  std::cerr << "attnc: " << info.kernelName << " tiles " << info.blockM << "x"
            << info.blockN << ", " << info.warps << " warps, " << info.stages
            << " stages, " << info.smemBytes << " B shared memory; "
            << attn.provenance() << "\n";
  std::cerr << "attnc: launched " << launched.kernelName << " ("
            << launched.family << ") tiles " << launched.blockM << "x"
            << launched.blockN << " w" << launched.warps << " s"
            << launched.stages << ", grid " << launched.grid[0] << "x"
            << launched.grid[1] << "x" << launched.grid[2] << ", "
            << launched.splits << " split" << (launched.splits == 1 ? "" : "s");
  if (launched.workspaceBytes)
    std::cerr << ", workspace " << launched.workspaceBytes << " B";
  std::cerr << "\n";
}

/// Prefix sums of `lengths` (packed sequences).
std::vector<int32_t> prefixSums(const std::vector<int64_t> &lengths) {
  std::vector<int32_t> cu(1, 0);
  for (int64_t l : lengths)
    cu.push_back(int32_t(cu.back() + l));
  return cu;
}

/// Random packed lengths for --shape: sequence 0 has `longest`, the others
/// a random length in [0, longest] (so empty and short sequences occur).
std::vector<int64_t> randomLengths(int64_t batch, int64_t longest,
                                   uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> lens;
  for (int64_t i = 0; i < batch; ++i)
    lens.push_back(i == 0 ? longest : int64_t(rng() % uint64_t(longest + 1)));
  return lens;
}

/// Page ids 0 .. pages-1 in a shuffled order (random paged inputs).
std::vector<int32_t> shuffledPages(int64_t pages, uint64_t seed) {
  std::vector<int32_t> ids(static_cast<size_t>(pages));
  std::iota(ids.begin(), ids.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(ids.begin(), ids.end(), rng);
  return ids;
}

} // namespace

bool attnc::tool::parseShape(const std::string &text, Shape &s,
                             std::string &error, const char *flag) {
  std::vector<int64_t> v;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    char *end = nullptr;
    long long x = std::strtoll(part.c_str(), &end, 10);
    if (part.empty() || *end || x <= 0 || x > (1ll << 31) - 1) {
      error = std::string("bad ") + flag + " '" + text + "': '" + part +
              "' is not a positive integer";
      return false;
    }
    v.push_back(x);
  }
  if (v.size() == 3)
    s = {v[0], v[1], v[1], v[2], v[2]};
  else if (v.size() == 5)
    s = {v[0], v[1], v[2], v[3], v[4]};
  else {
    error = std::string("bad ") + flag + " '" + text +
            "': expected b,hq,hk,n,m (or b,h,n), got " +
            std::to_string(v.size()) + " numbers";
    return false;
  }
  return true;
}

/// A memory-only cache for the random input kernels under --no-disk-cache
/// (null: the global cache, as the attention kernel uses).
static std::unique_ptr<KernelCache> memoryCacheIf(const CompileOptions &co) {
  if (!co.noDiskCache)
    return nullptr;
  return std::make_unique<KernelCache>(KernelCacheOptions{"", false, {}});
}

/// JIT-compiles the spec as run and bench do; -v routes the cache's
/// messages to stderr.
static Expected<std::shared_ptr<Attention>>
compileForTool(const std::string &spec, CompileOptions co, bool verbose) {
  if (verbose)
    co.log = [](const std::string &m) { std::cerr << "attnc: " << m << "\n"; };
  return compileFile(spec, co);
}

/// `attnc run` on a spec with packed(...) views: q, k, v are token tensors
/// [total, heads, dim] cut by the prefix sums of --cu-seqlens-q/-k, or
/// --shape b,hq,hk,n,m makes random ones (sequence 0 has n queries and m
/// keys, the others random lengths in [0, n] and [0, m]). The output is
/// [total_q, hq, dv], the log-sum-exp [hq, total_q].
static int runPacked(const RunOptions &o, const Attention &attn,
                     const Shape &s, bool random, KernelCache *fillCache) {
  const KernelInfo &info = attn.info();
  const ElementType e = info.element;
  if (!o.lengths.empty() || !o.blockTable.empty() || !o.seqLens.empty())
    return fail("--lengths/--block-table/--seq-lens: the spec's sequences are "
                "packed (no lengths(...) mask, no paged(...) view); they would "
                "not be used");
  if (info.blockSparse)
    return fail("attnc run does not take a block layout for packed sequences "
                "yet; run blocks(...) with packed sequences through the C++ "
                "API (RunArgs::blockLayout)");
  if (random && (!o.cuSeqlensQ.empty() || !o.cuSeqlensK.empty()))
    return fail("--shape makes random packed sequences; --cu-seqlens-q/-k go "
                "with --q/--k/--v");
  if (!random && (o.cuSeqlensQ.empty() || o.cuSeqlensK.empty()))
    return fail("the spec reads packed sequences: pass --cu-seqlens-q CQ.npy "
                "and --cu-seqlens-k CK.npy (int32 [b + 1] prefix sums) with "
                "--q/--k/--v as [total, heads, dim]");
  HostTensor q, k, v;
  std::vector<int32_t> cuQ, cuK;
  const std::string where = random ? "--shape " + o.shape.front() + ": " : "";
  if (random) {
    cuQ = prefixSums(randomLengths(s.batch, s.seqQ, o.dataSeed + 19));
    cuK = prefixSums(randomLengths(s.batch, s.seqK, o.dataSeed + 23));
    if (s.batch > kMaxBatch)
      return fail(where + std::to_string(s.batch) +
                  " sequences exceed the grid limit " +
                  std::to_string(kMaxBatch));
  } else {
    for (auto [what, path, t] :
         {std::tuple{"q", &o.q, &q}, {"k", &o.k, &k}, {"v", &o.v, &v}}) {
      Expected<HostTensor> r = loadTensor(what, *path, e, o.bf16AsU2, true);
      if (!r)
        return fail(r.error());
      *t = std::move(*r);
    }
    for (auto [flag, path, cu] :
         {std::tuple{"--cu-seqlens-q", &o.cuSeqlensQ, &cuQ},
          {"--cu-seqlens-k", &o.cuSeqlensK, &cuK}}) {
      Expected<NpyArray> a = readNpy(*path);
      if (!a)
        return fail(a.takeError().addContext(flag));
      if (a->dtype != DType::I32 || a->shape.size() != 1 || a->shape[0] < 2 ||
          a->shape[0] - 1 > kMaxBatch)
        return fail(std::string(flag) + " " + *path +
                    ": expected int32 prefix sums [b + 1] with 1 <= b <= " +
                    std::to_string(kMaxBatch) + ", got " +
                    dtypeName(a->dtype) + " " + fmtShape(a->shape));
      cu->resize(size_t(a->shape[0]));
      std::memcpy(cu->data(), a->data.data(), cu->size() * 4);
    }
    if (cuQ.size() != cuK.size())
      return fail("--cu-seqlens-q has " + std::to_string(cuQ.size() - 1) +
                  " sequences but --cu-seqlens-k " +
                  std::to_string(cuK.size() - 1));
  }
  const int64_t b = int64_t(cuQ.size()) - 1;
  const int64_t totalQ = random ? cuQ.back() : q.shape[0];
  const int64_t totalK = random ? cuK.back() : k.shape[0];
  const int64_t hq = random ? s.headsQ : q.shape[1];
  const int64_t hk = random ? s.headsKV : k.shape[1];
  if (random) {
    // At least one token each, so the tensors exist (empty batches still run).
    q.shape = {std::max<int64_t>(totalQ, 1), hq, info.headDim};
    k.shape = {std::max<int64_t>(totalK, 1), hk, info.headDim};
    v.shape = {std::max<int64_t>(totalK, 1), hk, info.headDimV};
  }
  // The tensors against the spec and each other.
  const char *dimName[3] = {"total", "heads", "head dim"};
  struct Want {
    const char *tensor;
    const HostTensor *t;
    int64_t dims[3];
    const char *from[3];
  } wants[] = {
      {"q", &q, {q.shape[0], hq, info.headDim}, {"q", "q", "the spec"}},
      {"k", &k, {k.shape[0], hk, info.headDim}, {"k", "k", "the spec"}},
      {"v", &v, {k.shape[0], hk, info.headDimV}, {"k", "k", "the spec"}},
  };
  // Where the spec fixes a size (tokens bf16[1000, 32, 128]), the spec's
  // wins; info.qShape is [1, heads, total, dim].
  const int64_t *fixed[3] = {info.qShape, info.kShape, info.vShape};
  for (int t = 0; t < 3; ++t)
    for (int dim : {0, 1})
      if (fixed[t][dim == 0 ? 2 : 1] >= 0) {
        wants[t].dims[dim] = fixed[t][dim == 0 ? 2 : 1];
        wants[t].from[dim] = "the spec";
      }
  if (info.packedSequences >= 0 && b != info.packedSequences)
    return fail((random ? where : std::string("--cu-seqlens-q: ")) +
                std::to_string(b) + " sequences but the spec fixes " +
                std::to_string(info.packedSequences));
  for (const Want &w : wants)
    for (int d = 0; d < 3; ++d)
      if (w.t->shape[d] != w.dims[d])
        return fail((random ? where : std::string("--")) + w.tensor +
                    ": dimension " + std::to_string(d) + " (" + dimName[d] +
                    ") is " + std::to_string(w.t->shape[d]) + " but " +
                    (std::string(w.from[d]) == w.tensor
                         ? std::string("")
                         : std::string(w.from[d]) + "'s is ") +
                    std::to_string(w.dims[d]) + "; " + w.tensor + " " +
                    fmtShape(w.t->shape));
  if (hk <= 0 || hq % hk != 0)
    return fail((random ? where : std::string("--k: ")) + std::to_string(hk) +
                " key/value heads do not divide the " + std::to_string(hq) +
                " query heads");
  for (const HostTensor *t : {&q, &k, &v})
    for (int64_t d : t->shape)
      if (d > std::numeric_limits<int32_t>::max())
        return fail((random ? where : std::string("--")) +
                    (t == &q ? "q" : t == &k ? "k" : "v") + ": shape " +
                    fmtShape(t->shape) + " has a dimension over 2^31-1");
  for (auto [flag, cu, total] :
       {std::tuple{"--cu-seqlens-q", &cuQ, totalQ},
        {"--cu-seqlens-k", &cuK, totalK}}) {
    const PrefixSumProblem bad =
        findPrefixSumProblem(cu->data(), b, total);
    const std::string at = std::string(flag) + ": entry " +
                           std::to_string(bad.index) + " is " +
                           std::to_string(bad.value);
    if (bad.kind == PrefixSumProblem::First)
      return fail(at + "; prefix sums start at 0");
    if (bad.kind == PrefixSumProblem::Decreasing)
      return fail(at + ", below the entry before it (" +
                  std::to_string((*cu)[size_t(bad.index - 1)]) +
                  "); prefix sums never decrease");
    if (bad.kind == PrefixSumProblem::PastEnd)
      return fail(at + ", past the " + std::to_string(total) + " tokens of " +
                  (cu == &cuQ ? "q" : "k/v"));
  }
  const int64_t maxQ = std::max<int64_t>(longestSequence(cuQ.data(), b), 1);
  const int64_t maxK = std::max<int64_t>(longestSequence(cuK.data(), b), 1);

  // Device buffers; the output is poisoned (NaN) so unwritten elements show.
  Expected<DeviceBuffer> dq = DeviceBuffer(), dk = DeviceBuffer(),
                         dv = DeviceBuffer();
  if (Status st = inputsOnDevice(o, random, where, e, fillCache, q, k, v, dq,
                                 dk, dv);
      !st)
    return fail(st.error());
  const size_t eb = size_t(elementBytes(e));
  size_t oElements = 0, oBytes = 0, lseElements = 0, lseBytes = 0;
  if (!tensorBytes({q.shape[0], hq, info.headDimV}, eb, oElements, oBytes) ||
      !tensorBytes({hq, q.shape[0]}, 4, lseElements, lseBytes))
    return fail("the output has more than 2^62 bytes");
  Expected<DeviceBuffer> dout = DeviceBuffer(), dlse = DeviceBuffer();
  if (Status st = poisonedOutputs(oBytes, lseBytes, dout, dlse); !st)
    return fail(st.error());
  Expected<DeviceBuffer> dcuQ = upload(cuQ.data(), cuQ.size() * 4);
  Expected<DeviceBuffer> dcuK = upload(cuK.data(), cuK.size() * 4);
  if (!dcuQ || !dcuK)
    return fail(!dcuQ ? dcuQ.error() : dcuK.error());
  // Packed views bind only the heads (their batch and lengths are flat).
  ExtraInputs extra;
  std::string extraErr;
  if (!extra.load(o, info, random, {b, hq, maxQ, hk, maxK}, extraErr))
    return fail(extraErr);

  RunArgs args;
  extra.apply(info, args);
  args.q = TensorArg::packed(dq->data(), q.shape[0], hq, info.headDim);
  args.k = TensorArg::packed(dk->data(), k.shape[0], hk, info.headDim);
  args.v = TensorArg::packed(dv->data(), v.shape[0], hk, info.headDimV);
  args.o = TensorArg::packed(dout->data(), q.shape[0], hq, info.headDimV);
  args.lse = static_cast<float *>(dlse->data());
  args.cuSeqlensQ = static_cast<const int32_t *>(dcuQ->data());
  args.cuSeqlensK = static_cast<const int32_t *>(dcuK->data());
  args.sequences = b;
  args.maxSeqlenQ = maxQ, args.maxSeqlenK = maxK;
  args.trustIndices = true; // checked above, on these very host copies
  args.seed = o.seed;
  args.offset = o.offset;
  RunReport launched;
  args.report = &launched;
  if (Status st = attn.run(args); !st)
    return fail(st.error());
  NpyArray out;
  out.dtype = dtypeOf(e);
  out.shape = {q.shape[0], hq, info.headDimV};
  out.data.resize(oBytes);
  std::vector<float> lse(lseElements);
  // Copying back also waits for the kernel, so a failed launch shows here.
  if (Status st = dout->copyToHost(out.data.data(), oBytes); !st)
    return fail(st.error());
  if (Status st = dlse->copyToHost(lse.data(), lseBytes); !st)
    return fail(st.error());
  if (o.verbose)
    reportLaunch(attn, launched);
  NpyWriteOptions wo;
  wo.bf16AsU2 = o.bf16AsU2;
  NpyArray lseArray;
  std::vector<std::pair<std::string, const NpyArray *>> files;
  if (!o.out.empty())
    files.push_back({o.out, &out});
  if (!o.lse.empty()) {
    lseArray = fromFloats(lse.data(), {hq, q.shape[0]}, DType::F32);
    files.push_back({o.lse, &lseArray});
  }
  if (!files.empty())
    if (Status st = writeNpyFiles(files, wo); !st)
      return fail(st.error());
  const std::string summary = info.specName + " " + std::to_string(b) +
                              " packed sequences, q " + fmtShape(q.shape) +
                              " k " + fmtShape(k.shape) + " (longest " +
                              std::to_string(maxQ) + " / " +
                              std::to_string(maxK) + ")";
  if (!o.check) {
    if (o.out.empty())
      std::cout << "ran " << info.kernelName << " on " << summary
                << "; no -o given, output not written\n";
    return 0;
  }
  // The float64 reference on the padded [b, h, longest, d] form, each
  // sequence at its own lengths; the kernel's rows are unpacked likewise
  // (rows past a sequence do not exist: O = 0, LSE = -inf on both sides).
  std::vector<float> of = toFloatVector(out);
  std::vector<double> od(of.begin(), of.end());
  const int64_t layoutShape[3] = {0, 0, 0};
  ref::FwdProblem problem =
      referenceProblem(attn, int(b), int(hq), int(hk), int(maxQ), int(maxK),
                       {}, {}, layoutShape, o.seed, o.offset, &extra.tables);
  problem.seqLensQ = sequenceLengths(cuQ);
  problem.seqLensK = sequenceLengths(cuK);
  problem.sinks.assign(extra.sinks.begin(), extra.sinks.end());
  std::vector<float> lseDense(size_t(b * hq * maxQ),
                              -std::numeric_limits<float>::infinity());
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t h = 0; h < hq; ++h)
      for (int64_t i = 0; i < cuQ[size_t(bi + 1)] - cuQ[size_t(bi)]; ++i)
        lseDense[size_t((bi * hq + h) * maxQ + i)] =
            lse[size_t(h * q.shape[0] + cuQ[size_t(bi)] + i)];
  CheckResult r = checkForward(
      problem, e, unpackSequences(q.value, hq, info.headDim, cuQ, maxQ),
      unpackSequences(k.value, hk, info.headDim, cuK, maxK),
      unpackSequences(v.value, hk, info.headDimV, cuK, maxK),
      unpackSequences(od, hq, info.headDimV, cuQ, maxQ), &lseDense);
  std::cout << summary << ": " << r.summary() << "\n";
  return r.ok ? 0 : 1;
}

int attnc::tool::runRun(const RunOptions &o) {
  // Flags that contradict each other are refused before anything is
  // compiled.
  bool random = !o.shape.empty();
  if (random && (!o.q.empty() || !o.k.empty() || !o.v.empty()))
    return fail("give either --shape (random inputs) or --q/--k/--v");
  if (o.shape.size() > 1)
    return fail("--shape given " + std::to_string(o.shape.size()) +
                " times; attnc run runs one shape (attnc bench takes "
                "several)");
  if (!o.out.empty() && !o.lse.empty() && sameOutput(o.out, o.lse))
    return fail("-o and --lse name the same file '" + o.out + "'");
  Shape s;
  if (random) {
    std::string err;
    if (!parseShape(o.shape.front(), s, err))
      return fail(err);
  }

  Expected<std::shared_ptr<Attention>> compiled =
      compileForTool(o.spec, o.compile, o.verbose);
  if (!compiled)
    return fail(compiled.error());
  const Attention &attn = **compiled;
  const KernelInfo &info = attn.info();
  ElementType e = info.element;
  std::unique_ptr<KernelCache> fillCache = memoryCacheIf(o.compile);
  if (!random && (o.q.empty() || o.k.empty() || o.v.empty()))
    return fail("--q, --k and --v (.npy files) are required unless --shape "
                "asks for random inputs");
  if (info.packed)
    return runPacked(o, attn, s, random, fillCache.get());
  if (!o.cuSeqlensQ.empty() || !o.cuSeqlensK.empty())
    return fail("--cu-seqlens-q/-k: the spec's sequences are not packed (no "
                "packed(...) view); they would not be used");
  if (!random && (o.q.empty() || o.k.empty() || o.v.empty()))
    return fail("--q, --k and --v (.npy files) are required unless --shape "
                "asks for random inputs");
  if (!o.lengths.empty() && !info.keyPadding)
    return fail("--lengths: the spec has no lengths(...) mask; it would not "
                "be used");
  if (!o.layout.empty() && !info.blockSparse)
    return fail("--layout: the spec is not block-sparse (no blocks(...) "
                "mask); it would not be used");
  if ((!o.blockTable.empty() || !o.seqLens.empty()) && !info.paged)
    return fail("--block-table/--seq-lens: the spec's K/V are not paged (no "
                "paged(...) view); they would not be used");
  if (info.paged && !random && (o.blockTable.empty() || o.seqLens.empty()))
    return fail("the spec reads paged K/V: pass --block-table T.npy (int32 "
                "[b, max_pages]) and --seq-lens L.npy (int32 [b]) with the "
                "caches as --k/--v");
  if (info.paged && random && (!o.blockTable.empty() || !o.seqLens.empty()))
    return fail("--shape makes a random block table and sequence lengths; "
                "--block-table/--seq-lens go with --q/--k/--v");
  // Paged K/V: the caches are [pages, pageSize, hk, d], the logical K/V
  // [b, hk, maxPages * pageSize, d]; the table and lengths are checked
  // against the caches here, before any upload (the launch then trusts
  // them: Attention::run need not read them back).
  const int64_t pageSize = info.pageSize;
  int64_t maxPages = 0;
  std::vector<int32_t> table, seqLens;

  // Inputs: .npy files, or random normal values of --shape made on the
  // device (host copies only for --check).
  HostTensor q, k, v;
  Expected<DeviceBuffer> dq = DeviceBuffer(), dk = DeviceBuffer(),
                         dv = DeviceBuffer();
  if (random && info.paged) {
    // Every sequence owns ceil(m / pageSize) pages, in a shuffled order;
    // sequence 0 holds m keys, the others a random count in [0, m] (so
    // partly filled last pages and empty sequences occur).
    maxPages = (s.seqK + pageSize - 1) / pageSize;
    const int64_t pages = s.batch * maxPages;
    if (pages > std::numeric_limits<int32_t>::max())
      return fail("--shape " + o.shape.front() + ": " + std::to_string(pages) +
                  " pages exceed int32 page ids");
    table = shuffledPages(pages, o.dataSeed + 13);
    std::mt19937_64 rng(o.dataSeed + 17);
    for (int64_t i = 0; i < s.batch; ++i)
      seqLens.push_back(i == 0 ? int32_t(s.seqK)
                               : int32_t(rng() % uint64_t(s.seqK + 1)));
    q.shape = {s.batch, s.headsQ, s.seqQ, info.headDim};
    k.shape = {pages, pageSize, s.headsKV, info.headDim};
    v.shape = {pages, pageSize, s.headsKV, info.headDimV};
  } else if (random) {
    q.shape = {s.batch, s.headsQ, s.seqQ, info.headDim};
    k.shape = {s.batch, s.headsKV, s.seqK, info.headDim};
    v.shape = {s.batch, s.headsKV, s.seqK, info.headDimV};
  } else {
    for (auto [what, path, t] :
         {std::tuple{"q", &o.q, &q}, {"k", &o.k, &k}, {"v", &o.v, &v}}) {
      Expected<HostTensor> r = loadTensor(what, *path, e, o.bf16AsU2);
      if (!r)
        return fail(r.error());
      *t = std::move(*r);
    }
  }
  int64_t b = q.shape[0], hq = q.shape[1], n = q.shape[2];
  int64_t hk = k.shape[1], m = k.shape[2];
  if (info.paged && !random) {
    std::string err;
    if (!readIndexNpy("--block-table", o.blockTable, b, 2, table, err,
                      &maxPages) ||
        !readIndexNpy("--seq-lens", o.seqLens, b, 1, seqLens, err))
      return fail(err);
  }
  if (info.paged) {
    // The caches [pages, pageSize, hk, d] against the spec and each other.
    const char *cacheDim[4] = {"pages", "page size", "heads", "head dim"};
    hk = k.shape[2];
    m = maxPages * pageSize;
    for (const HostTensor *t : {&k, &v}) {
      const char *name = t == &k ? "k" : "v";
      const int64_t *fixed = t == &k ? info.kShape : info.vShape;
      const int64_t want[4] = {k.shape[0], k.shape[1], k.shape[2],
                               t == &k ? info.headDim : info.headDimV};
      for (int d = 0; d < 4; ++d) {
        const int64_t w = fixed[d] >= 0 ? fixed[d] : want[d];
        if (t->shape[d] != w)
          return fail(std::string("--") + name + ": cache dimension " +
                      std::to_string(d) + " (" + cacheDim[d] + ") is " +
                      std::to_string(t->shape[d]) + " but " +
                      (fixed[d] >= 0 ? "the spec's" : "k's") + " is " +
                      std::to_string(w) + "; " + name + " " +
                      fmtShape(t->shape));
      }
    }
    if (m > std::numeric_limits<int32_t>::max())
      return fail("--block-table: max_pages x page size = " +
                  std::to_string(m) + " keys is more than 2^31-1");
    const PagedIndexProblem bad = findPagedIndexProblem(
        table.data(), seqLens.data(), b, maxPages, pageSize, k.shape[0]);
    if (bad.kind == PagedIndexProblem::Length)
      return fail("--seq-lens: entry " + std::to_string(bad.batch) + " is " +
                  std::to_string(bad.value) + ", outside [0, " +
                  std::to_string(m) + "] (max_pages x page size)");
    if (bad.kind == PagedIndexProblem::PageId)
      return fail("--block-table: entry [" + std::to_string(bad.batch) + ", " +
                  std::to_string(bad.column) + "] is " +
                  std::to_string(bad.value) +
                  ", not a page of the caches (0 .. " +
                  std::to_string(k.shape[0] - 1) + ")");
  }
  // The files must agree with each other and with the spec: the launch and
  // --check index them by these sizes.
  {
    const char *dimName[4] = {"batch", "heads", "seq", "head dim"};
    struct Want {
      const char *tensor;
      const HostTensor *t;
      int64_t dims[4];
      const char *from[4];
    } wants[] = {
        {"q", &q, {b, hq, n, info.headDim},
         {"q", "q", "q", "the spec"}},
        {"k", &k, {b, hk, m, info.headDim},
         {"q", "k", "k", "the spec"}},
        {"v", &v, {b, hk, m, info.headDimV},
         {"q", "k", "k", "the spec"}},
    };
    // Where the spec fixes a size (q: f16[1, 16, n, 64]), the spec's wins.
    const int64_t *fixed[3] = {info.qShape, info.kShape, info.vShape};
    for (int t = 0; t < (info.paged ? 1 : 3); ++t)
      for (int d = 0; d < 3; ++d)
        if (fixed[t][d] >= 0) {
          wants[t].dims[d] = fixed[t][d];
          wants[t].from[d] = "the spec";
        }
    for (const Want &w : wants)
      for (int d = 0; d < 4 && (!info.paged || w.t == &q); ++d)
        if (w.t->shape[d] != w.dims[d])
          return fail((random ? "--shape " + o.shape.front() + ": "
                              : std::string("--")) +
                      w.tensor + ": dimension " + std::to_string(d) + " (" +
                      dimName[d] + ") is " + std::to_string(w.t->shape[d]) +
                      " but " +
                      (std::string(w.from[d]) == w.tensor
                           ? std::string("")
                           : std::string(w.from[d]) + "'s is ") +
                      std::to_string(w.dims[d]) + "; " + w.tensor + " " +
                      fmtShape(w.t->shape));
    if (hk <= 0 || hq % hk != 0)
      return fail("--" + std::string(random ? "shape" : "k") + ": " +
                  std::to_string(hk) + " key/value heads do not divide " +
                  (random ? "the " : "q's ") + std::to_string(hq) +
                  " query heads");
    for (const HostTensor *t : {&q, &k, &v})
      for (int64_t d : t->shape)
        if (d == 0 || d > std::numeric_limits<int32_t>::max())
          return fail("--" + std::string(t == &q ? "q" : t == &k ? "k" : "v") +
                      ": shape " + fmtShape(t->shape) +
                      " has a dimension of 0 or more than 2^31-1");
  }

  std::vector<int> lengths;
  std::vector<unsigned char> layout;
  int64_t layoutShape[3] = {0, 0, 0};
  if (info.keyPadding) {
    if (o.lengths.empty()) {
      if (!random)
        return fail("the spec masks by key lengths: pass --lengths L.npy "
                    "(int32 [batch])");
      std::mt19937_64 rng(o.dataSeed + 7);
      for (int64_t i = 0; i < b; ++i)
        lengths.push_back(int(rng() % (m + 1)));
    } else {
      std::vector<int32_t> a;
      std::string err;
      if (!readIndexNpy("--lengths", o.lengths, b, 1, a, err))
        return fail(err);
      lengths.assign(a.begin(), a.end());
      for (int64_t i = 0; i < b; ++i)
        if (lengths[i] < 0 || lengths[i] > m)
          return fail("--lengths " + o.lengths + ": entry " +
                      std::to_string(i) + " is " + std::to_string(lengths[i]) +
                      ", outside [0, " + std::to_string(m) + "] (k's seq)");
    }
  }
  if (info.blockSparse) {
    int64_t qb = (n + info.sparseBlockQ - 1) / info.sparseBlockQ;
    int64_t kb = (m + info.sparseBlockK - 1) / info.sparseBlockK;
    if (o.layout.empty()) {
      if (!random)
        return fail("the spec is block-sparse: pass --layout L.npy (int8/uint8 "
                    "[1 or heads, " + std::to_string(qb) + ", " +
                    std::to_string(kb) + "])");
      size_t elements = 0, bytes = 0;
      if (!tensorBytes({qb, kb}, 1, elements, bytes) ||
          bytes > (size_t(1) << 32))
        return fail("--shape " + o.shape.front() +
                    ": a random block layout of " + std::to_string(qb) + " x " +
                    std::to_string(kb) + " blocks is too large; pass --layout");
      std::mt19937_64 rng(o.dataSeed + 11);
      layoutShape[0] = 1, layoutShape[1] = qb, layoutShape[2] = kb;
      for (int64_t i = 0; i < qb * kb; ++i)
        layout.push_back(rng() % 2);
    } else {
      Expected<NpyArray> a = readNpy(o.layout);
      if (!a)
        return fail(a.takeError().addContext("--layout"));
      if ((a->dtype != DType::I8 && a->dtype != DType::U8) ||
          a->shape.size() != 3)
        return fail("--layout " + o.layout +
                    ": expected an int8/uint8 array "
                    "[1 or heads, query blocks, key blocks], got " +
                    dtypeName(a->dtype) + " " + fmtShape(a->shape));
      for (int i = 0; i < 3; ++i)
        layoutShape[i] = a->shape[i];
      layout.assign(a->data.begin(), a->data.end());
    }
  }

  // Device buffers; the output is poisoned (NaN) so unwritten elements show.
  if (Status st = inputsOnDevice(
          o, random, random ? "--shape " + o.shape.front() + ": " : "", e,
          fillCache.get(), q, k, v, dq, dk, dv);
      !st)
    return fail(st.error());
  size_t eb = size_t(elementBytes(e));
  size_t oElements = 0, oBytes = 0, lseElements = 0, lseBytes = 0;
  if (!tensorBytes({b, hq, n, info.headDimV}, eb, oElements, oBytes) ||
      !tensorBytes({b, hq, n}, 4, lseElements, lseBytes))
    return fail("the output [" + std::to_string(b) + ", " + std::to_string(hq) +
                ", " + std::to_string(n) + ", " +
                std::to_string(info.headDimV) + "] has more than 2^62 bytes");
  Expected<DeviceBuffer> dout = DeviceBuffer(), dlse = DeviceBuffer();
  if (Status st = poisonedOutputs(oBytes, lseBytes, dout, dlse); !st)
    return fail(st.error());
  ExtraInputs extra;
  std::string extraErr;
  if (!extra.load(o, info, random, {b, hq, n, hk, m}, extraErr))
    return fail(extraErr);
  Expected<DeviceBuffer> dlen = upload(lengths.data(), lengths.size() * 4);
  Expected<DeviceBuffer> dlay = upload(layout.data(), layout.size());
  Expected<DeviceBuffer> dtab = upload(table.data(), table.size() * 4);
  Expected<DeviceBuffer> dseq = upload(seqLens.data(), seqLens.size() * 4);
  if (!dlen || !dlay || !dtab || !dseq)
    return fail(!dlen ? dlen.error()
                : !dlay ? dlay.error()
                : !dtab ? dtab.error()
                        : dseq.error());

  RunArgs args;
  extra.apply(info, args);
  int64_t qs[4] = {b, hq, n, info.headDim}, ks[4] = {b, hk, m, info.headDim},
          vs[4] = {b, hk, m, info.headDimV}, os[4] = {b, hq, n, info.headDimV};
  args.q = TensorArg::contiguous(dq->data(), qs);
  args.k = TensorArg::contiguous(dk->data(), ks);
  args.v = TensorArg::contiguous(dv->data(), vs);
  if (info.paged) {
    int64_t kc[4] = {k.shape[0], k.shape[1], k.shape[2], k.shape[3]};
    int64_t vc[4] = {v.shape[0], v.shape[1], v.shape[2], v.shape[3]};
    args.k = TensorArg::contiguous(dk->data(), kc);
    args.v = TensorArg::contiguous(dv->data(), vc);
    args.blockTable = static_cast<const int32_t *>(dtab->data());
    args.maxPages = maxPages;
    args.seqLensK = static_cast<const int32_t *>(dseq->data());
    args.trustIndices = true; // checked above, on these very host copies
  }
  args.o = TensorArg::contiguous(dout->data(), os);
  args.lse = static_cast<float *>(dlse->data());
  if (info.keyPadding)
    args.kvLengths = static_cast<const int32_t *>(dlen->data());
  if (info.blockSparse) {
    args.blockLayout = static_cast<const uint8_t *>(dlay->data());
    for (int i = 0; i < 3; ++i)
      args.layoutShape[i] = layoutShape[i];
  }
  args.seed = o.seed;
  args.offset = o.offset;
  RunReport launched;
  args.report = &launched;
  if (Status st = attn.run(args); !st)
    return fail(st.error());
  // The outputs come back to the host only when something needs them.
  bool needOut = !o.out.empty() || o.check;
  bool needLse = !o.lse.empty() || o.check;
  NpyArray out;
  std::vector<float> lse;
  if (needOut) {
    out.dtype = dtypeOf(e);
    out.shape = {b, hq, n, info.headDimV};
    out.data.resize(oBytes);
    if (Status st = dout->copyToHost(out.data.data(), oBytes); !st)
      return fail(st.error());
  }
  if (needLse) {
    lse.resize(lseElements);
    if (Status st = dlse->copyToHost(lse.data(), lseBytes); !st)
      return fail(st.error());
  }
  if (!needOut && !needLse) {
    // Still wait for the kernel, so a failed launch is reported here.
    Expected<CudaDriver *> drv = CudaDriver::get();
    if (!drv)
      return fail(drv.error());
    if (Status st = (*drv)->check((*drv)->api().ctxSynchronize(),
                                  "cuCtxSynchronize", __FILE__, __LINE__);
        !st)
      return fail(st.error());
  }

  if (o.verbose)
    reportLaunch(attn, launched);
  NpyWriteOptions wo;
  wo.bf16AsU2 = o.bf16AsU2;
  NpyArray lseArray;
  std::vector<std::pair<std::string, const NpyArray *>> files;
  if (!o.out.empty())
    files.push_back({o.out, &out});
  if (!o.lse.empty()) {
    lseArray = fromFloats(lse.data(), {b, hq, n}, DType::F32);
    files.push_back({o.lse, &lseArray});
  }
  // Both or neither: a failure leaves no partial or stray file.
  if (!files.empty())
    if (Status st = writeNpyFiles(files, wo); !st)
      return fail(st.error());
  if (!o.check) {
    if (o.out.empty())
      std::cout << "ran " << info.kernelName << " on q " << fmtShape(q.shape)
                << "; no -o given, output not written\n";
    return 0;
  }
  std::vector<float> of = toFloatVector(out);
  std::vector<double> od(of.begin(), of.end());
  ref::FwdProblem problem =
      referenceProblem(attn, int(b), int(hq), int(hk), int(n), int(m), lengths,
                       layout, layoutShape, o.seed, o.offset, &extra.tables);
  problem.sinks.assign(extra.sinks.begin(), extra.sinks.end());
  if (info.paged) {
    problem.seqLensK.assign(seqLens.begin(), seqLens.end());
    std::vector<double> kl = gatherPaged(k.value, pageSize, hk, info.headDim,
                                         table, maxPages, seqLens);
    std::vector<double> vl = gatherPaged(v.value, pageSize, hk, info.headDimV,
                                         table, maxPages, seqLens);
    CheckResult r = checkForward(problem, e, q.value, kl, vl, od, &lse);
    std::cout << info.specName << " q " << fmtShape(q.shape) << " k cache "
              << fmtShape(k.shape) << " (paged, " << maxPages << " pages of "
              << pageSize << " per sequence): " << r.summary() << "\n";
    return r.ok ? 0 : 1;
  }
  CheckResult r = checkForward(problem, e, q.value, k.value, v.value, od, &lse);
  std::cout << info.specName << " q " << fmtShape(q.shape) << " k "
            << fmtShape(k.shape) << ": " << r.summary() << "\n";
  return r.ok ? 0 : 1;
}

int attnc::tool::runBench(const BenchOptions &o) {
  if (o.shapes.empty())
    return fail("give at least one --shape b,hq,hk,n,m");
  if (o.iters < 1 || o.warmup < 0)
    return fail("--iters must be >= 1 and --warmup >= 0");
  // Every shape is checked before anything is compiled or timed.
  std::vector<Shape> shapes;
  for (const std::string &text : o.shapes) {
    Shape s;
    std::string err;
    if (!parseShape(text, s, err))
      return fail(err);
    shapes.push_back(s);
  }
  // --varlen: the lengths of packed sequences (queries and keys alike).
  std::vector<int64_t> varlen;
  if (!o.varlen.empty()) {
    std::stringstream ss(o.varlen);
    std::string part;
    int64_t total = 0;
    while (std::getline(ss, part, ',')) {
      char *end = nullptr;
      long long x = std::strtoll(part.c_str(), &end, 10);
      if (part.empty() || *end || x < 0 || x > kMaxSeqLen)
        return fail("bad --varlen '" + o.varlen + "': '" + part +
                    "' is not a length in [0, 2^30]");
      varlen.push_back(x);
      total += x;
    }
    if (varlen.empty() || int64_t(varlen.size()) > kMaxBatch ||
        total > std::numeric_limits<int32_t>::max())
      return fail("bad --varlen '" + o.varlen + "': 1 to " +
                  std::to_string(kMaxBatch) +
                  " sequences of at most 2^31-1 tokens in all");
  }
  Expected<std::shared_ptr<Attention>> compiled =
      compileForTool(o.spec, o.compile, o.verbose);
  if (!compiled)
    return fail(compiled.error());
  const Attention &attn = **compiled;
  const KernelInfo &info = attn.info();
  if (!varlen.empty() && !info.packed)
    return fail("--varlen: the spec's sequences are not packed (no "
                "packed(...) view)");
  std::unique_ptr<KernelCache> fillCache = memoryCacheIf(o.compile);
  if (info.keyPadding || info.blockSparse)
    return fail("attnc bench times specs without key-length or block-layout "
                "inputs for now");
  Expected<DeviceInfo> dev = currentDevice();
  if (!dev)
    return fail(dev.error());
  size_t eb = size_t(elementBytes(info.element));
  if (!o.json)
    std::printf("%-22s %5s %4s %4s %6s %6s %9s %9s %9s %11s\n", "spec", "b",
                "hq", "hk", "n", "m", "ms", "TFLOP/s", "GB/s", "model ms");
  for (size_t shapeIndex = 0; shapeIndex < shapes.size(); ++shapeIndex) {
    const std::string &text = o.shapes[shapeIndex];
    const Shape &s = shapes[shapeIndex];
    // Two input sets, rotated, so no run reads the last one's inputs from L2.
    const int kSets = 2;
    std::vector<DeviceBuffer> bufs;
    std::vector<int64_t> qShape = {s.batch, s.headsQ, s.seqQ, info.headDim};
    std::vector<int64_t> kShape = {s.batch, s.headsKV, s.seqK, info.headDim};
    std::vector<int64_t> vShape = {s.batch, s.headsKV, s.seqK, info.headDimV};
    std::vector<int64_t> oShape = {s.batch, s.headsQ, s.seqQ, info.headDimV};
    // Packed sequences: --varlen's lengths, or b sequences of n queries and
    // m keys; the tensors are the tokens [total, heads, dim].
    std::vector<int64_t> lensQ, lensK;
    std::vector<int32_t> cuQ{0}, cuK{0};
    int64_t sequences = 0, maxQ = 1, maxK = 1, totalQ = 1, totalK = 1;
    if (info.packed) {
      if (!varlen.empty()) {
        lensQ = lensK = varlen;
      } else {
        if (s.batch > kMaxBatch ||
            s.batch * std::max(s.seqQ, s.seqK) >
                std::numeric_limits<int32_t>::max())
          return fail("--shape " + text + ": more than " +
                      std::to_string(kMaxBatch) +
                      " sequences or 2^31-1 packed tokens");
        lensQ.assign(size_t(s.batch), s.seqQ);
        lensK.assign(size_t(s.batch), s.seqK);
      }
      cuQ = prefixSums(lensQ), cuK = prefixSums(lensK);
      sequences = int64_t(lensQ.size());
      maxQ = std::max<int64_t>(*std::max_element(lensQ.begin(), lensQ.end()), 1);
      maxK = std::max<int64_t>(*std::max_element(lensK.begin(), lensK.end()), 1);
      totalQ = std::max<int64_t>(cuQ.back(), 1);
      totalK = std::max<int64_t>(cuK.back(), 1);
      qShape = {totalQ, s.headsQ, info.headDim};
      kShape = {totalK, s.headsKV, info.headDim};
      vShape = {totalK, s.headsKV, info.headDimV};
      oShape = {totalQ, s.headsQ, info.headDimV};
    }
    // Paged K/V: caches of ceil(m / pageSize) pages per sequence, the table
    // a shuffled permutation, every sequence m keys long.
    const int64_t pageSize = info.pageSize;
    const int64_t maxPages = info.paged ? (s.seqK + pageSize - 1) / pageSize : 0;
    std::vector<int32_t> table, seqLens;
    if (info.paged) {
      if (s.batch * maxPages > std::numeric_limits<int32_t>::max())
        return fail("--shape " + text + ": too many pages for int32 ids");
      kShape = {s.batch * maxPages, pageSize, s.headsKV, info.headDim};
      vShape = {s.batch * maxPages, pageSize, s.headsKV, info.headDimV};
      table = shuffledPages(s.batch * maxPages, 13);
      seqLens.assign(size_t(s.batch), int32_t(s.seqK));
    }
    size_t elements = 0, qBytes = 0, kBytes = 0, vBytes = 0, oBytes = 0,
           lseBytes = 0;
    if (!tensorBytes(qShape, eb, elements, qBytes) ||
        !tensorBytes(kShape, eb, elements, kBytes) ||
        !tensorBytes(vShape, eb, elements, vBytes) ||
        !tensorBytes(oShape, eb, elements, oBytes) ||
        !tensorBytes(info.packed ? std::vector<int64_t>{s.headsQ, totalQ}
                                 : std::vector<int64_t>{s.batch, s.headsQ,
                                                        s.seqQ},
                     4, elements, lseBytes))
      return fail("--shape " + text +
                  ": the tensors of this shape have more "
                  "than 2^62 bytes");
    // Inputs: standard normal values (as torch.randn gives the PyTorch side)
    // in the element type, made on the device (attnc/RandomFill.h), a
    // different stream per tensor and set.
    std::vector<RunArgs> sets;
    // Attention sinks: one random logit per query head (normal, scale 2),
    // shared by both sets (hq floats, never an L2 concern).
    const float *sinksOnDevice = nullptr;
    if (info.sinks) {
      std::vector<float> sinks;
      std::string err;
      if (!readSinks(RunOptions(), info, /*random=*/true, s.headsQ, sinks, err))
        return fail(err);
      Expected<DeviceBuffer> buf = upload(sinks.data(), sinks.size() * 4);
      if (!buf)
        return fail(buf.error());
      sinksOnDevice = static_cast<const float *>(buf->data());
      bufs.push_back(std::move(*buf));
    }
    // Tables: random ones of the shape's sizes, shared by both sets; float
    // tables made on the device (a [b, h, n, m] bias is large), integer ones
    // (i32 in [0, 3], i8 in [-3, 3]) on the host.
    std::vector<TensorArg> tableArgs;
    const int64_t tableSizes[5] = {s.batch, s.headsQ,
                                   info.packed ? maxQ : s.seqQ, s.headsKV,
                                   info.packed ? maxK : s.seqK};
    for (size_t t = 0; t < info.tables.size(); ++t) {
      const TableInfo &ti = info.tables[t];
      const std::vector<int64_t> shape =
          ti.shapeFor(tableSizes, kRandomFreeSize);
      Expected<DeviceBuffer> buf = DeviceBuffer();
      if (ti.isInteger()) {
        size_t n = 1;
        for (int64_t x : shape)
          n *= size_t(x);
        const std::vector<uint8_t> bytes = randomIntTable(ti, n, 31 + t);
        buf = upload(bytes.data(), bytes.size());
      } else {
        buf = randomOnDevice("--shape " + text + ": table " + ti.name, shape,
                             ti.floatElement(), 1, uint32_t(100 + t),
                             o.verbose, fillCache.get());
      }
      if (!buf)
        return fail(buf.error());
      tableArgs.push_back(TensorArg::ofShape(buf->data(), shape));
      bufs.push_back(std::move(*buf));
    }
    for (int i = 0; i < kSets; ++i) {
      const std::vector<int64_t> *inputShapes[3] = {&qShape, &kShape, &vShape};
      for (int t = 0; t < 3; ++t) {
        Expected<DeviceBuffer> buf =
            randomOnDevice("--shape " + text + ": " + std::string(1, "qkv"[t]),
                           *inputShapes[t], info.element, 1,
                           uint32_t(3 * i + t), o.verbose, fillCache.get());
        if (!buf)
          return fail(buf.error());
        bufs.push_back(std::move(*buf));
      }
      for (size_t bytes : {oBytes, lseBytes}) {
        Expected<DeviceBuffer> buf = DeviceBuffer::allocate(bytes);
        if (!buf)
          return fail(buf.error());
        bufs.push_back(std::move(*buf));
      }
      DeviceBuffer *b0 = &bufs[bufs.size() - 5];
      RunArgs a;
      int64_t qs[4] = {s.batch, s.headsQ, s.seqQ, info.headDim};
      int64_t ks[4] = {kShape[0], kShape[1], kShape[2], kShape[3]};
      int64_t vs[4] = {vShape[0], vShape[1], vShape[2], vShape[3]};
      int64_t os[4] = {s.batch, s.headsQ, s.seqQ, info.headDimV};
      a.q = TensorArg::contiguous(b0[0].data(), qs);
      a.k = TensorArg::contiguous(b0[1].data(), ks);
      a.v = TensorArg::contiguous(b0[2].data(), vs);
      a.o = TensorArg::contiguous(b0[3].data(), os);
      a.lse = static_cast<float *>(b0[4].data());
      a.sinks = sinksOnDevice;
      a.tables = tableArgs;
      if (info.packed) {
        a.q = TensorArg::packed(b0[0].data(), totalQ, s.headsQ, info.headDim);
        a.k = TensorArg::packed(b0[1].data(), totalK, s.headsKV, info.headDim);
        a.v = TensorArg::packed(b0[2].data(), totalK, s.headsKV, info.headDimV);
        a.o = TensorArg::packed(b0[3].data(), totalQ, s.headsQ, info.headDimV);
        Expected<DeviceBuffer> cq = upload(cuQ.data(), cuQ.size() * 4);
        Expected<DeviceBuffer> ck = upload(cuK.data(), cuK.size() * 4);
        if (!cq || !ck)
          return fail(!cq ? cq.error() : ck.error());
        a.cuSeqlensQ = static_cast<const int32_t *>(cq->data());
        a.cuSeqlensK = static_cast<const int32_t *>(ck->data());
        a.sequences = sequences;
        a.maxSeqlenQ = maxQ, a.maxSeqlenK = maxK;
        bufs.push_back(std::move(*cq));
        bufs.push_back(std::move(*ck));
      }
      if (info.paged) {
        Expected<DeviceBuffer> t = upload(table.data(), table.size() * 4);
        Expected<DeviceBuffer> l = upload(seqLens.data(), seqLens.size() * 4);
        if (!t || !l)
          return fail(!t ? t.error() : l.error());
        a.blockTable = static_cast<const int32_t *>(t->data());
        a.seqLensK = static_cast<const int32_t *>(l->data());
        a.maxPages = maxPages;
        bufs.push_back(std::move(*t));
        bufs.push_back(std::move(*l));
      }
      sets.push_back(a);
    }
    RunReport launched;
    sets[0].report = &launched;
    for (int i = 0; i < std::max(o.warmup, 1); ++i)
      if (Status st = attn.run(sets[i % kSets]); !st)
        return fail(st.error());
    sets[0].report = nullptr;
    // The warm-up runs validated the index inputs; the timed runs measure
    // the kernels, not the host-side check.
    for (RunArgs &a : sets)
      a.trustIndices = true;
    std::vector<float> times;
    for (int i = 0; i < o.iters; ++i) {
      Expected<EventTimer> t = EventTimer::create();
      if (!t)
        return fail(t.error());
      if (Status st = t->start(); !st)
        return fail(st.error());
      if (Status st = attn.run(sets[i % kSets]); !st)
        return fail(st.error());
      if (Status st = t->stop(); !st)
        return fail(st.error());
      Expected<float> ms = t->elapsedMs();
      if (!ms)
        return fail(ms.error());
      times.push_back(*ms);
    }
    std::sort(times.begin(), times.end());
    double ms = times[times.size() / 2];
    // FLOPs as the FlashAttention papers count them: 4 b h n m d, halved
    // when causal; 2 b h n m (d + dv) when V's head dim differs (Q K^T
    // and P V).
    const double dims = double(info.headDim) + double(info.headDimV);
    double flops = 2.0 * s.batch * s.headsQ * s.seqQ * s.seqK * dims;
    if (info.packed) { // each sequence at its own lengths
      flops = 0;
      for (size_t i = 0; i < lensQ.size(); ++i)
        flops += 2.0 * s.headsQ * lensQ[i] * lensK[i] * dims;
    }
    if (info.causal)
      flops /= 2;
    double tflops = flops / (ms * 1e-3) / 1e12;
    // Bytes the kernel must move at least: Q, K, V read once, O and LSE
    // written once; the IO model's report has the tiled figure.
    double bytes = double(qBytes + kBytes + vBytes + oBytes + lseBytes);
    double gbps = bytes / (ms * 1e-3) / 1e9;
    // Packed: the model's bound of the sequences one by one.
    double predicted = 0;
    if (info.packed)
      for (size_t i = 0; i < lensQ.size(); ++i)
        predicted += lensQ[i] && lensK[i]
                         ? attn.timeLowerBound(1, s.headsQ, s.headsKV,
                                               lensQ[i], lensK[i]) * 1e3
                         : 0.0;
    else
      predicted =
          attn.timeLowerBound(s.batch, s.headsQ, s.headsKV, s.seqQ, s.seqK) *
          1e3;
    // The table shows packed runs as sequences x longest lengths.
    const long long shownB = info.packed ? sequences : s.batch;
    const long long shownN = info.packed ? maxQ : s.seqQ;
    const long long shownM = info.packed ? maxK : s.seqK;
    if (o.json)
      std::printf("{\"spec\": \"%s\", \"batch\": %lld, \"heads_q\": %lld, "
                  "\"heads_kv\": %lld, \"seq_q\": %lld, \"seq_k\": %lld, "
                  "\"head_dim\": %d, \"causal\": %s, \"tiles\": \"%dx%d w%d s%d\", "
                  "\"median_ms\": %.5f, "
                  "\"tflops\": %.2f, \"gbps\": %.1f, \"predicted_ms\": %.5f, "
                  "\"iters\": %d, \"device_bytes\": %.0f, \"device\": \"%s\", "
                  "\"family\": \"%s\", \"launched_tiles\": \"%dx%d w%d s%d\", "
                  "\"splits\": %d, \"packed\": %s, \"tokens_q\": %lld}\n",
                  info.specName.c_str(), shownB,
                  (long long)s.headsQ, (long long)s.headsKV, shownN,
                  shownM, info.headDim,
                  info.causal ? "true" : "false", info.blockM, info.blockN,
                  info.warps, info.stages, ms, tflops, gbps, predicted,
                  o.iters, bytes, dev->name.c_str(), launched.family.c_str(),
                  launched.blockM, launched.blockN, launched.warps,
                  launched.stages, launched.splits,
                  info.packed ? "true" : "false",
                  info.packed ? (long long)cuQ.back()
                              : (long long)(s.batch * s.seqQ));
    else
      std::printf("%-22s %5lld %4lld %4lld %6lld %6lld %9.4f %9.1f %9.1f %11.4f\n",
                  info.specName.c_str(), shownB, (long long)s.headsQ,
                  (long long)s.headsKV, shownN, shownM, ms, tflops, gbps,
                  predicted);
    std::fflush(stdout);
  }
  return 0;
}
