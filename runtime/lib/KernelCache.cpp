//===- KernelCache.cpp - Memory and disk cache of compiled kernels --------===//
#include "attnc/KernelCache.h"

#include "FileIO.h"
#include "Hash.h"
#include "attnc/Version.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>

namespace attnc {

constexpr char KernelCache::kMagic[9];
constexpr unsigned KernelCache::kFormatVersion;
constexpr size_t KernelCache::kHeaderSize;
constexpr size_t KernelCache::kMaxEntryBytes;

namespace {

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

void putLE(std::string &out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(char(uint8_t(v >> (8 * i))));
}

uint64_t getLE(const char *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= uint64_t(uint8_t(p[i])) << (8 * i);
  return v;
}

// mkdir -p; returns errno of the failing step or 0.
int makeDirs(const std::string &path) {
  if (path.empty())
    return ENOENT;
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty())
      continue;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
      return errno;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

bool isHexKey(const std::string &key) {
  if (key.size() != 64)
    return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

} // namespace

std::string computeCacheKey(const CacheKeyInputs &in) {
  detail::Sha256 h;
  h.updateField("attnc-kernel-cache-key-v1");
  h.updateField(in.attncVersion);
  h.updateField(in.nvrtcVersion);
  h.updateField(in.arch);
  h.updateField(in.headersDigest);
  h.updateField(std::to_string(in.options.size()));
  for (const std::string &o : in.options)
    h.updateField(o);
  h.updateField(in.source);
  auto d = h.finish();
  return detail::toHex(d.data(), d.size());
}

const char *cacheOriginName(CacheOrigin origin) {
  switch (origin) {
  case CacheOrigin::Memory:
    return "memory";
  case CacheOrigin::Disk:
    return "disk";
  case CacheOrigin::Compiled:
    return "compiled";
  }
  return "?";
}

Expected<std::string> defaultCacheDir() {
  const char *v = std::getenv("ATTNC_CACHE_DIR");
  if (v && *v)
    return std::string(v);
  v = std::getenv("XDG_CACHE_HOME");
  if (v && *v)
    return std::string(v) + "/attnc";
  v = std::getenv("HOME");
  if (v && *v)
    return std::string(v) + "/.cache/attnc";
  return makeError(ErrorCode::NotFound,
                   "no kernel cache directory: none of $ATTNC_CACHE_DIR, "
                   "$XDG_CACHE_HOME, $HOME is set");
}

KernelCache::KernelCache(KernelCacheOptions options)
    : options_(std::move(options)) {
  if (!options_.useDisk)
    return;
  if (!options_.dir.empty()) {
    dir_ = options_.dir;
  } else {
    auto d = defaultCacheDir();
    if (!d) {
      warn(d.error().message() + "; caching in memory only");
      return;
    }
    dir_ = *d;
  }
  while (dir_.size() > 1 && dir_.back() == '/')
    dir_.pop_back();
  if (int err = makeDirs(dir_)) {
    warn("kernel cache directory " + dir_ + " is not usable (" +
         std::strerror(err) + "); caching in memory only");
    return;
  }
  // As ssh does with ~/.ssh: a directory that another user owns or can
  // write could hold a planted kernel, so it is not used. The directory
  // itself is checked, not a symbolic link to it (a link's own mode is
  // always 0777 and means nothing).
  struct stat st;
  if (::stat(dir_.c_str(), &st) == 0 &&
      (st.st_uid != ::geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
    warn("kernel cache directory " + dir_ +
         (st.st_uid != ::geteuid()
              ? " is owned by uid " + std::to_string(st.st_uid) +
                    ", not by this user"
              : std::string(" is writable by other users")) +
         "; caching in memory only");
    return;
  }
  if (::access(dir_.c_str(), W_OK | X_OK) != 0) {
    warn("kernel cache directory " + dir_ + " is not writable (" +
         std::strerror(errno) + "); caching in memory only");
    return;
  }
  diskEnabled_ = true;
  removeStaleTemporaries();
}

void KernelCache::removeStaleTemporaries() {
  // Writers that died leave ".<key>.tmp.*" files; remove this user's that
  // are more than an hour old (a live writer finishes in seconds).
  DIR *d = ::opendir(dir_.c_str());
  if (!d)
    return;
  time_t now = ::time(nullptr);
  while (struct dirent *e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 70 || name[0] != '.' ||
        name.compare(65, 5, ".tmp.") != 0 || !isHexKey(name.substr(1, 64)))
      continue;
    std::string path = dir_ + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_uid == ::geteuid() && now - st.st_mtime > 3600)
      ::unlink(path.c_str());
  }
  ::closedir(d);
}

KernelCache &KernelCache::global() {
  static KernelCache *cache = new KernelCache();
  return *cache;
}

LogHook KernelCache::currentHook() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return options_.log;
}

void KernelCache::setLogHook(LogHook hook) {
  std::lock_guard<std::mutex> lock(mutex_);
  options_.log = std::move(hook);
}

void KernelCache::warn(const std::string &message) const {
  if (LogHook hook = currentHook())
    hook(LogLevel::Warning, message);
  else
    std::fprintf(stderr, "attnc: warning: %s\n", message.c_str());
}

void KernelCache::info(const std::string &message) const {
  if (LogHook hook = currentHook())
    hook(LogLevel::Info, message);
}

void KernelCache::disableDisk(const std::string &why) {
  bool wasEnabled;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wasEnabled = diskEnabled_;
    diskEnabled_ = false;
    ++stats_.diskWriteFailures;
  }
  if (wasEnabled)
    warn(why + "; caching in memory only from now on");
}

bool KernelCache::diskEnabled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return diskEnabled_;
}

CacheStats KernelCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void KernelCache::clearMemory() {
  std::lock_guard<std::mutex> lock(mutex_);
  kernels_.clear();
  modules_.clear();
  binaries_.clear();
}

std::string KernelCache::entryPath(const std::string &key) const {
  if (dir_.empty())
    return "";
  return dir_ + "/" + key + ".attnc";
}

Expected<std::string> KernelCache::keyFor(const std::string &source,
                                          const NvrtcOptions &opts) const {
  auto options = nvrtcOptionList(opts);
  if (!options)
    return options.takeError();
  CacheKeyInputs in;
  in.source = source;
  in.options = std::move(*options);
  // Not an NVRTC option, but it decides whether a binary may exist at all: a
  // strict build must never take an entry a lenient one wrote with warnings.
  if (opts.warningsAsErrors)
    in.options.push_back("attnc:warnings-as-errors");
  in.nvrtcVersion = nvrtcVersionString();
  in.arch = opts.arch;
  in.attncVersion = attncVersion();
  in.headersDigest = embeddedHeadersDigest();
  return computeCacheKey(in);
}

std::shared_ptr<CompiledBinary> KernelCache::readEntry(const std::string &key) {
  if (!diskEnabled() || !isHexKey(key))
    return nullptr;
  std::string path = entryPath(key);
  // O_NOFOLLOW | O_NONBLOCK: a symlink, FIFO or device at an entry path is
  // refused (never followed, never blocked on); the size is checked before a
  // byte is read, and the entry must be a regular file of this user.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP)
      warn("ignoring kernel cache entry " + path + ": it is a symbolic link");
    else if (errno != ENOENT)
      warn("cannot open kernel cache entry " + path + ": " +
           std::strerror(errno));
    return nullptr;
  }
  struct stat st;
  std::string refuse;
  if (::fstat(fd, &st) != 0)
    refuse = std::string("cannot stat it: ") + std::strerror(errno);
  else if (!S_ISREG(st.st_mode))
    refuse = "it is not a regular file";
  else if (st.st_uid != ::geteuid())
    refuse = "it is owned by uid " + std::to_string(st.st_uid) +
             ", not by this user";
  else if (uint64_t(st.st_size) > kMaxEntryBytes)
    refuse = "it is " + std::to_string(uint64_t(st.st_size)) +
             " bytes, more than the " + std::to_string(kMaxEntryBytes) +
             " an entry may have";
  if (!refuse.empty()) {
    ::close(fd);
    warn("ignoring kernel cache entry " + path + ": " + refuse);
    return nullptr;
  }
  std::string bytes;
  bytes.reserve(size_t(st.st_size));
  char buf[1 << 16];
  bool readFailed = false;
  while (bytes.size() <= kMaxEntryBytes) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      readFailed = true;
      break;
    }
    if (n == 0)
      break;
    bytes.append(buf, size_t(n));
  }
  ::close(fd);
  if (readFailed) {
    warn("cannot read kernel cache entry " + path + ": " +
         std::strerror(errno));
    return nullptr;
  }

  // Validate everything before trusting a byte of the payload.
  std::string problem;
  uint64_t payloadSize = 0;
  unsigned kind = 0;
  if (bytes.size() < kHeaderSize) {
    problem = "truncated header (" + std::to_string(bytes.size()) +
              " bytes, need " + std::to_string(kHeaderSize) + ")";
  } else if (std::memcmp(bytes.data(), kMagic, 8) != 0) {
    problem = "bad magic (not an attnc cache entry)";
  } else if (getLE(bytes.data() + 8, 4) != kFormatVersion) {
    problem = "format version " + std::to_string(getLE(bytes.data() + 8, 4)) +
              " (expected " + std::to_string(kFormatVersion) + ")";
  } else {
    kind = unsigned(getLE(bytes.data() + 12, 4));
    payloadSize = getLE(bytes.data() + 16, 8);
    if (kind != unsigned(PayloadKind::Cubin) &&
        kind != unsigned(PayloadKind::Ptx))
      problem = "unknown payload kind " + std::to_string(kind);
    else if (bytes.compare(56, 64, key) != 0)
      problem = "entry belongs to another key";
    else if (bytes.size() - kHeaderSize != payloadSize)
      problem = "payload is " + std::to_string(bytes.size() - kHeaderSize) +
                " bytes, header says " + std::to_string(payloadSize) +
                " (truncated or torn write)";
    else {
      auto sum = detail::sha256(bytes.data() + kHeaderSize, payloadSize);
      if (std::memcmp(sum.data(), bytes.data() + 24, 32) != 0)
        problem = "payload checksum mismatch (corrupt)";
    }
  }
  if (!problem.empty()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.corruptEntries;
    }
    bool removed = ::unlink(path.c_str()) == 0 || errno == ENOENT;
    warn("invalid kernel cache entry " + path + ": " + problem + "; " +
         (removed ? "deleted it, recompiling" : "recompiling"));
    return nullptr;
  }

  auto binary = std::make_shared<CompiledBinary>();
  binary->key = key;
  binary->kind = PayloadKind(kind);
  binary->image.assign(bytes.begin() + kHeaderSize, bytes.end());
  return binary;
}

void KernelCache::writeEntry(const CompiledBinary &binary) {
  if (!diskEnabled() || !isHexKey(binary.key))
    return;
  std::string header;
  header.append(kMagic, 8);
  putLE(header, kFormatVersion, 4);
  putLE(header, unsigned(binary.kind), 4);
  putLE(header, binary.image.size(), 8);
  auto sum = detail::sha256(binary.image.data(), binary.image.size());
  header.append(reinterpret_cast<const char *>(sum.data()), sum.size());
  header.append(binary.key);

  // A unique temporary name in the same directory, so rename() is atomic.
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  std::string path = entryPath(binary.key);
  std::string tmp = dir_ + "/." + binary.key + ".tmp." +
                    std::to_string(::getpid()) + "." +
                    std::to_string(counter++) + "." + std::to_string(rd());

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    disableDisk("cannot write to kernel cache directory " + dir_ + " (" +
                std::strerror(errno) + ")");
    return;
  }
  bool ok = detail::writeAll(fd, header.data(), header.size()) &&
            detail::writeAll(fd, binary.image.data(), binary.image.size()) &&
            ::fsync(fd) == 0;
  int err = errno;
  ok = (::close(fd) == 0) && ok;
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    disableDisk("cannot write kernel cache entry " + path + " (" +
                std::strerror(err) + ")");
    return;
  }
  // Make the rename itself durable.
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

std::string formatCacheStats(const CacheStats &st) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "memory hits %u (%.3f ms), disk hits %u (%.3f ms), compiled "
                "%u (%.1f ms), corrupt entries %u, disk write failures %u",
                st.memoryHits, st.memoryHitMs, st.diskHits, st.diskHitMs,
                st.compiles, st.compileMs, st.corruptEntries,
                st.diskWriteFailures);
  return buf;
}

Expected<CacheLookup> KernelCache::getBinary(const std::string &source,
                                             const NvrtcOptions &opts) {
  auto start = std::chrono::steady_clock::now();
  auto keyOr = keyFor(source, opts);
  if (!keyOr)
    return keyOr.takeError();
  const std::string &key = *keyOr;

  CacheLookup result;
  auto memoryHit = [&]() -> bool {
    // Caller holds mutex_.
    auto it = binaries_.find(key);
    if (it == binaries_.end())
      return false;
    result.binary = it->second;
    result.origin = CacheOrigin::Memory;
    result.ms = msSince(start);
    ++stats_.memoryHits;
    stats_.memoryHitMs += result.ms;
    stats_.lastHitMs = result.ms;
    return true;
  };

  // One lookup per key at a time: the others wait and then hit memory.
  std::shared_ptr<std::mutex> keyMutex;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (memoryHit())
      return result;
    auto &slot = inFlight_[key];
    if (!slot)
      slot = std::make_shared<std::mutex>();
    keyMutex = slot;
  }
  std::lock_guard<std::mutex> keyLock(*keyMutex);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (memoryHit())
      return result;
  }

  if (auto disk = readEntry(key)) {
    disk->arch = opts.arch;
    result.binary = disk;
    result.origin = CacheOrigin::Disk;
    result.ms = msSince(start);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.diskHits;
      stats_.diskHitMs += result.ms;
      stats_.lastHitMs = result.ms;
      binaries_[key] = result.binary;
      inFlight_.erase(key);
    }
    info("kernel " + key.substr(0, 16) + " loaded from disk cache in " +
         std::to_string(result.ms) + " ms");
    return result;
  }

  auto compiled = compileCuda(source, opts);
  if (!compiled) {
    std::lock_guard<std::mutex> lock(mutex_);
    inFlight_.erase(key);
    return compiled.takeError();
  }
  auto binary = std::make_shared<CompiledBinary>();
  binary->key = key;
  binary->arch = opts.arch;
  if (isRealArch(opts.arch)) {
    binary->kind = PayloadKind::Cubin;
    binary->image = std::move(compiled->cubin);
  } else {
    binary->kind = PayloadKind::Ptx;
    binary->image.assign(compiled->ptx.begin(), compiled->ptx.end());
  }
  binary->log = std::move(compiled->log);
  binary->compileMs = compiled->compileMs;
  writeEntry(*binary);
  result.binary = binary;
  result.origin = CacheOrigin::Compiled;
  result.ms = msSince(start);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.compiles;
    stats_.compileMs += result.ms;
    stats_.lastCompileMs = result.ms;
    binaries_[key] = result.binary;
    inFlight_.erase(key);
  }
  info("kernel " + key.substr(0, 16) + " compiled for " + opts.arch + " in " +
       std::to_string(result.ms) + " ms");
  return result;
}

Expected<std::shared_ptr<Kernel>>
KernelCache::getKernel(const std::string &source, const NvrtcOptions &opts,
                       const std::string &kernelName, CacheLookup *lookup) {
  auto start = std::chrono::steady_clock::now();
  auto drv = CudaDriver::get();
  if (!drv)
    return drv.takeError();
  auto device = currentDevice(); // makes a context current if none is
  if (!device)
    return device.takeError();
  CUcontext ctx = nullptr;
  ATTNC_RETURN_IF_ERROR(ATTNC_CU(*drv, ctxGetCurrent, &ctx));

  auto keyOr = keyFor(source, opts);
  if (!keyOr)
    return keyOr.takeError();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = kernels_.find(std::make_tuple(ctx, *keyOr, kernelName));
    if (it != kernels_.end()) {
      if (lookup) {
        auto b = binaries_.find(*keyOr);
        lookup->binary = b != binaries_.end() ? b->second : nullptr;
        lookup->origin = CacheOrigin::Memory;
        lookup->ms = msSince(start);
      }
      return it->second;
    }
  }

  auto found = getBinary(source, opts);
  if (!found)
    return found.takeError();
  if (lookup)
    *lookup = *found;

  // Module loading is serialized so one context gets one module per key.
  static std::mutex loadMutex;
  std::lock_guard<std::mutex> loadLock(loadMutex);
  std::shared_ptr<Module> module;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = modules_.find({ctx, *keyOr});
    if (it != modules_.end())
      module = it->second;
  }
  if (!module) {
    const CompiledBinary &b = *found->binary;
    auto loaded = Module::load(b.image.data(), b.image.size(), b.kind);
    if (!loaded)
      return loaded.takeError().addContext(
          "loading kernel " + b.key.substr(0, 16) + " for " + b.arch);
    module = std::move(*loaded);
  }
  auto kernel = Kernel::load(module, kernelName);
  if (!kernel)
    return kernel.takeError();
  std::lock_guard<std::mutex> lock(mutex_);
  modules_[{ctx, *keyOr}] = module;
  kernels_[std::make_tuple(ctx, *keyOr, kernelName)] = *kernel;
  return *kernel;
}

} // namespace attnc
