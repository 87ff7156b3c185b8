// libFuzzer target for the kernel cache's entry reader: a disk entry with
// any contents is either a valid binary or reported and removed -- never a
// crash, a hang or an unbounded allocation.
#include "attnc/KernelCache.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace {
const std::string &cacheDir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/attnc-cache-fuzz-XXXXXX";
    const char *d = mkdtemp(tmpl);
    if (!d)
      std::abort();
    return std::string(d);
  }();
  return dir;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  attnc::KernelCacheOptions opts;
  opts.dir = cacheDir();
  opts.log = [](attnc::LogLevel, const std::string &) {};
  attnc::KernelCache cache(opts);
  if (!cache.diskEnabled())
    std::abort();
  const std::string key(64, 'a');
  std::string path = cache.entryPath(key);
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    std::abort();
  if (size)
    std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto binary = cache.readEntry(key);
  if (binary && binary->key != key)
    std::abort();
  ::unlink(path.c_str());
  return 0;
}
