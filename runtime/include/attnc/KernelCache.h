//===- attnc/KernelCache.h - Compiled-kernel cache -------------*- C++ -*-===//
//
// Two levels:
//  * memory: compiled binaries by key, and loaded kernels by (CUcontext, key,
//    kernel name), for the life of the KernelCache;
//  * disk: one file per key under the cache directory ($ATTNC_CACHE_DIR, else
//    $XDG_CACHE_HOME/attnc, else ~/.cache/attnc).
//
// The key is a SHA-256 over everything that decides the binary: the source,
// the exact NVRTC option list, the NVRTC version, the arch, the attnc version
// and a digest of the embedded device headers. Nothing is listed by hand.
//
// An entry file is a fixed header (magic "ATTNCKC1", format version, payload
// kind and size, SHA-256 of the payload, the key) followed by the payload (a
// CUBIN, or PTX for compute_XX targets). Entries are written to a temporary
// file in the same directory, fsync'ed and renamed, so concurrent writers
// (threads or processes) never expose a partial file. A torn, truncated,
// corrupt or foreign entry is reported through the log hook, deleted and
// recompiled; it is never loaded. An unwritable directory is reported once
// and the cache continues in memory only.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "attnc/Kernel.h"
#include "attnc/Nvrtc.h"
#include "attnc/Status.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace attnc {

enum class LogLevel { Info, Warning };
/// Receives cache diagnostics ("corrupt entry ... deleted", timings at Info).
using LogHook = std::function<void(LogLevel, const std::string &)>;

struct KernelCacheOptions {
  /// Cache directory; empty means defaultCacheDir().
  std::string dir;
  /// false: memory only.
  bool useDisk = true;
  /// Where diagnostics go; null prints warnings to stderr as
  /// "attnc: warning: ..." and drops Info.
  LogHook log;
};

/// Everything a cache key is made of. computeCacheKey() hashes all fields.
struct CacheKeyInputs {
  std::string source;
  std::vector<std::string> options; // the exact NVRTC option list
  std::string nvrtcVersion;
  std::string arch;
  std::string attncVersion;
  std::string headersDigest; // embeddedHeadersDigest()
};

/// 64 hex digits (SHA-256).
std::string computeCacheKey(const CacheKeyInputs &inputs);

/// Where a binary came from.
enum class CacheOrigin { Memory, Disk, Compiled };
const char *cacheOriginName(CacheOrigin origin);

/// A compiled kernel image.
struct CompiledBinary {
  std::string key;
  std::string arch;
  PayloadKind kind = PayloadKind::Cubin;
  std::vector<char> image; // CUBIN bytes, or PTX text (no NUL)
  std::string log;         // NVRTC log (warnings) when compiled by this process
  double compileMs = 0;    // NVRTC time when compiled by this process
};

/// One cache lookup: the binary, where it came from this time and how long
/// the lookup took (compile, disk read + check, or memory).
struct CacheLookup {
  std::shared_ptr<const CompiledBinary> binary;
  CacheOrigin origin = CacheOrigin::Compiled;
  double ms = 0;
};

/// Counters and total times, for `-v`.
struct CacheStats {
  unsigned memoryHits = 0, diskHits = 0, compiles = 0;
  unsigned corruptEntries = 0, diskWriteFailures = 0;
  double compileMs = 0, diskHitMs = 0, memoryHitMs = 0;
  double lastCompileMs = 0, lastHitMs = 0;
};

/// "memory hits 3, disk hits 1 (0.4 ms), compiled 2 (180.2 ms), ..." for -v.
std::string formatCacheStats(const CacheStats &stats);

/// The default cache directory from the environment ($ATTNC_CACHE_DIR, else
/// $XDG_CACHE_HOME/attnc, else $HOME/.cache/attnc); an error without any.
Expected<std::string> defaultCacheDir();

class KernelCache {
public:
  explicit KernelCache(KernelCacheOptions options = {});
  KernelCache(const KernelCache &) = delete;
  KernelCache &operator=(const KernelCache &) = delete;

  /// A process-wide cache with default options.
  static KernelCache &global();

  /// The key of (source, opts) with this NVRTC and attnc.
  Expected<std::string> keyFor(const std::string &source,
                               const NvrtcOptions &opts) const;

  /// The binary for (source, opts): from memory, else from disk, else
  /// compiled with NVRTC (then stored in both). Concurrent requests for one
  /// key in this cache compile once. The lookup says where it came from.
  Expected<CacheLookup> getBinary(const std::string &source,
                                  const NvrtcOptions &opts);

  /// getBinary(), then the module loaded in the current context (one per
  /// context and key) and the kernel `kernelName` (an extern "C" name) in it.
  /// `lookup`, when given, receives the binary lookup (origin Memory when the
  /// kernel itself was already loaded).
  Expected<std::shared_ptr<Kernel>> getKernel(const std::string &source,
                                              const NvrtcOptions &opts,
                                              const std::string &kernelName,
                                              CacheLookup *lookup = nullptr);

  /// Replaces the log hook (e.g. to route the global cache's messages to a
  /// tool's -v output). Thread-safe.
  void setLogHook(LogHook hook);

  /// The on-disk entry of `key` ("" when the disk cache is off).
  std::string entryPath(const std::string &key) const;
  bool diskEnabled() const;
  const std::string &dir() const { return dir_; }
  CacheStats stats() const;
  /// Forgets the in-memory binaries and kernels (the disk is untouched).
  void clearMemory();

  /// Reads and validates the disk entry of `key`: a binary, or null when there
  /// is none or it was invalid (then reported and deleted).
  std::shared_ptr<CompiledBinary> readEntry(const std::string &key);
  /// Writes `binary` atomically; failures are reported and switch the disk
  /// cache off, never returned as errors.
  void writeEntry(const CompiledBinary &binary);

  /// The entry file format, exposed for tests and tools.
  static constexpr char kMagic[9] = "ATTNCKC1";
  static constexpr unsigned kFormatVersion = 1;
  static constexpr size_t kHeaderSize = 8 + 4 + 4 + 8 + 32 + 64;
  /// Entries larger than this are refused unread (a kernel image is a few
  /// MB at most).
  static constexpr size_t kMaxEntryBytes = size_t(256) << 20;

private:
  void warn(const std::string &message) const;
  void info(const std::string &message) const;
  void disableDisk(const std::string &why);
  void removeStaleTemporaries();

  LogHook currentHook() const;

  KernelCacheOptions options_;
  std::string dir_;
  mutable std::mutex mutex_;
  bool diskEnabled_ = false;
  CacheStats stats_;
  std::map<std::string, std::shared_ptr<const CompiledBinary>> binaries_;
  std::map<std::string, std::shared_ptr<std::mutex>> inFlight_; // per key
  std::map<std::pair<CUcontext, std::string>, std::shared_ptr<Module>> modules_;
  std::map<std::tuple<CUcontext, std::string, std::string>,
           std::shared_ptr<Kernel>>
      kernels_;
};

} // namespace attnc
