//===- KernelCacheTest.cpp - Keys, disk entries, corruption, concurrency --===//
#include "attnc/KernelCache.h"
#include "attnc/Version.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

using namespace attnc;

namespace {

const char *kKernel = "#include \"attn/Kernel/Params.h\"\n"
                      "extern \"C\" __global__ void k(attnc::FwdParams p) {\n"
                      "  if (threadIdx.x == 0) *p.lse = p.scale;\n"
                      "}\n";

// Collects log messages.
struct Log {
  std::mutex mutex;
  std::vector<std::string> warnings, infos;
  LogHook hook() {
    return [this](LogLevel level, const std::string &m) {
      std::lock_guard<std::mutex> lock(mutex);
      (level == LogLevel::Warning ? warnings : infos).push_back(m);
    };
  }
  std::string all() {
    std::string s;
    for (auto &w : warnings)
      s += w + "\n";
    return s;
  }
};

KernelCacheOptions optionsFor(const std::string &dir, Log &log) {
  KernelCacheOptions o;
  o.dir = dir;
  o.log = log.hook();
  return o;
}

CacheKeyInputs baseInputs() {
  CacheKeyInputs in;
  in.source = "__global__ void k() {}";
  in.options = {"--std=c++17", "--gpu-architecture=sm_90a"};
  in.nvrtcVersion = "13.0";
  in.arch = "sm_90a";
  in.attncVersion = "0.1.0";
  in.headersDigest = "abc";
  return in;
}

// A fake binary with a valid key: exercises the disk format without NVRTC.
CompiledBinary fakeBinary(const std::string &seed, size_t size = 4096) {
  CacheKeyInputs in = baseInputs();
  in.source = seed;
  CompiledBinary b;
  b.key = computeCacheKey(in);
  b.arch = "sm_90a";
  b.kind = PayloadKind::Cubin;
  for (size_t i = 0; i < size; ++i)
    b.image.push_back(char((i * 131 + seed.size()) & 0xff));
  return b;
}

size_t countTempFiles(const std::string &dir) {
  size_t n = 0;
  for (auto &f : test::listDir(dir))
    n += f.find(".tmp.") != std::string::npos;
  return n;
}

} // namespace

//===- Keys ---------------------------------------------------------------===//

TEST(KernelCacheKey, ChangesWithEveryInput) {
  CacheKeyInputs base = baseInputs();
  std::string k0 = computeCacheKey(base);
  EXPECT_EQ(k0.size(), 64u);
  EXPECT_EQ(k0, computeCacheKey(base)); // deterministic

  std::set<std::string> keys = {k0};
  auto vary = [&](auto mutate) {
    CacheKeyInputs in = baseInputs();
    mutate(in);
    std::string k = computeCacheKey(in);
    EXPECT_TRUE(keys.insert(k).second) << "key did not change";
  };
  vary([](CacheKeyInputs &in) { in.source += " "; });
  vary([](CacheKeyInputs &in) { in.options.push_back("-lineinfo"); });
  vary([](CacheKeyInputs &in) { in.options[1] = "--gpu-architecture=sm_80"; });
  vary([](CacheKeyInputs &in) { in.nvrtcVersion = "13.1"; });
  vary([](CacheKeyInputs &in) { in.arch = "sm_100a"; });
  vary([](CacheKeyInputs &in) { in.attncVersion = "0.1.1"; });
  vary([](CacheKeyInputs &in) { in.headersDigest = "abd"; });
  // Field boundaries matter: ("ab","c") != ("a","bc").
  vary([](CacheKeyInputs &in) {
    in.options = {"--std=c++17--gpu-architecture=sm_90a"};
  });
  vary([](CacheKeyInputs &in) {
    in.options = {"--std=c++1", "7--gpu-architecture=sm_90a"};
  });
}

TEST(KernelCacheKey, KeyForUsesOptionsArchAndSource) {
  KernelCache cache(KernelCacheOptions{"", false, nullptr});
  NvrtcOptions a;
  a.arch = "sm_80";
  auto k1 = cache.keyFor(kKernel, a);
  ASSERT_TRUE(k1) << k1.error().str();
  std::set<std::string> keys = {*k1};
  NvrtcOptions b = a;
  b.arch = "sm_90a";
  NvrtcOptions c = a;
  c.lineInfo = true;
  NvrtcOptions d = a;
  d.extraOptions = {"-DX=1"};
  NvrtcOptions e = a;
  e.warningsAsErrors = true;
  for (const NvrtcOptions *o : {&b, &c, &d, &e}) {
    auto k = cache.keyFor(kKernel, *o);
    ASSERT_TRUE(k);
    EXPECT_TRUE(keys.insert(*k).second);
  }
  auto k5 = cache.keyFor(std::string(kKernel) + "\n", a);
  ASSERT_TRUE(k5);
  EXPECT_TRUE(keys.insert(*k5).second);
  // Same inputs, same key, across cache objects.
  KernelCache other(KernelCacheOptions{"", false, nullptr});
  EXPECT_EQ(*other.keyFor(kKernel, a), *k1);
}

TEST(KernelCacheDir, FromEnvironment) {
  {
    test::ScopedEnv a("ATTNC_CACHE_DIR", "/x/attnc-cache");
    test::ScopedEnv x("XDG_CACHE_HOME", "/y");
    EXPECT_EQ(*defaultCacheDir(), "/x/attnc-cache");
  }
  {
    test::ScopedEnv a("ATTNC_CACHE_DIR", nullptr);
    test::ScopedEnv x("XDG_CACHE_HOME", "/y");
    EXPECT_EQ(*defaultCacheDir(), "/y/attnc");
  }
  {
    test::ScopedEnv a("ATTNC_CACHE_DIR", nullptr);
    test::ScopedEnv x("XDG_CACHE_HOME", nullptr);
    test::ScopedEnv h("HOME", "/home/u");
    EXPECT_EQ(*defaultCacheDir(), "/home/u/.cache/attnc");
  }
  {
    test::ScopedEnv a("ATTNC_CACHE_DIR", nullptr);
    test::ScopedEnv x("XDG_CACHE_HOME", nullptr);
    test::ScopedEnv h("HOME", nullptr);
    auto d = defaultCacheDir();
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().message().find("$ATTNC_CACHE_DIR"), std::string::npos);
  }
  {
    test::TempDir tmp;
    test::ScopedEnv a("ATTNC_CACHE_DIR",
                      (tmp.path() + "/nested/cache").c_str());
    Log log;
    KernelCache cache(KernelCacheOptions{"", true, log.hook()});
    EXPECT_TRUE(cache.diskEnabled()) << log.all();
    EXPECT_EQ(cache.dir(), tmp.path() + "/nested/cache");
  }
}

//===- Disk entries -------------------------------------------------------===//

TEST(KernelCacheDisk, WriteThenRead) {
  test::TempDir tmp;
  Log log;
  KernelCache cache(optionsFor(tmp.path(), log));
  ASSERT_TRUE(cache.diskEnabled());
  CompiledBinary b = fakeBinary("roundtrip");
  cache.writeEntry(b);
  std::string file = test::readFile(cache.entryPath(b.key));
  ASSERT_EQ(file.size(), KernelCache::kHeaderSize + b.image.size());
  EXPECT_EQ(file.compare(0, 8, "ATTNCKC1"), 0);
  auto back = cache.readEntry(b.key);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->image, b.image);
  EXPECT_EQ(back->kind, PayloadKind::Cubin);
  EXPECT_TRUE(log.warnings.empty()) << log.all();
  EXPECT_EQ(countTempFiles(tmp.path()), 0u);
  EXPECT_FALSE(cache.readEntry(fakeBinary("absent").key)); // a plain miss
  EXPECT_TRUE(log.warnings.empty()) << log.all();
}

namespace {
// Writes a valid entry, damages it with `damage`, then checks that reading
// rejects it with a warning containing `problem` and deletes the file.
void expectRejected(const std::function<void(std::string &)> &damage,
                    const std::string &problem) {
  test::TempDir tmp;
  Log log;
  KernelCache cache(optionsFor(tmp.path(), log));
  CompiledBinary b = fakeBinary("damaged");
  cache.writeEntry(b);
  std::string path = cache.entryPath(b.key);
  std::string bytes = test::readFile(path);
  damage(bytes);
  test::writeFile(path, bytes);

  EXPECT_FALSE(cache.readEntry(b.key));
  ASSERT_EQ(log.warnings.size(), 1u) << log.all();
  EXPECT_NE(log.warnings[0].find("invalid kernel cache entry " + path),
            std::string::npos)
      << log.warnings[0];
  EXPECT_NE(log.warnings[0].find(problem), std::string::npos)
      << log.warnings[0];
  EXPECT_NE(log.warnings[0].find("deleted"), std::string::npos);
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "corrupt entry not deleted";
  EXPECT_EQ(cache.stats().corruptEntries, 1u);
}
} // namespace

TEST(KernelCacheDisk, RejectsTruncatedPayload) {
  expectRejected([](std::string &b) { b.resize(b.size() - 100); },
                 "truncated or torn write");
}
TEST(KernelCacheDisk, RejectsTruncatedHeader) {
  expectRejected([](std::string &b) { b.resize(20); }, "truncated header");
}
TEST(KernelCacheDisk, RejectsEmptyFile) {
  expectRejected([](std::string &b) { b.clear(); }, "truncated header");
}
TEST(KernelCacheDisk, RejectsWrongMagic) {
  expectRejected([](std::string &b) { b[0] = 'X'; }, "bad magic");
}
TEST(KernelCacheDisk, RejectsWrongFormatVersion) {
  expectRejected([](std::string &b) { b[8] = 9; }, "format version 9");
}
TEST(KernelCacheDisk, RejectsCorruptPayload) {
  expectRejected([](std::string &b) { b[b.size() / 2] ^= 0x5a; },
                 "checksum mismatch");
}
TEST(KernelCacheDisk, RejectsCorruptChecksum) {
  expectRejected([](std::string &b) { b[30] ^= 1; }, "checksum mismatch");
}
TEST(KernelCacheDisk, RejectsExtraBytes) {
  expectRejected([](std::string &b) { b += "trailing"; }, "header says");
}
TEST(KernelCacheDisk, RejectsForeignKey) {
  expectRejected([](std::string &b) { b[60] = b[60] == 'a' ? 'b' : 'a'; },
                 "another key");
}
TEST(KernelCacheDisk, RejectsUnknownPayloadKind) {
  expectRejected([](std::string &b) { b[12] = 7; }, "unknown payload kind 7");
}

TEST(KernelCacheDisk, CorruptEntryIsRecompiledAndRewritten) {
  test::TempDir tmp;
  NvrtcOptions opts;
  opts.arch = "sm_80";
  std::string path;
  {
    Log log;
    KernelCache first(optionsFor(tmp.path(), log));
    auto b = first.getBinary(kKernel, opts);
    ASSERT_TRUE(b) << b.error().str();
    EXPECT_EQ(b->origin, CacheOrigin::Compiled);
    EXPECT_EQ(b->binary->kind, PayloadKind::Cubin);
    path = first.entryPath(b->binary->key);
    EXPECT_EQ(first.stats().compiles, 1u);
    // Second request: memory.
    auto again = first.getBinary(kKernel, opts);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->origin, CacheOrigin::Memory);
    EXPECT_EQ(first.stats().memoryHits, 1u);
  }
  {
    // A new cache object (a new process) finds it on disk.
    Log log;
    KernelCache second(optionsFor(tmp.path(), log));
    auto b = second.getBinary(kKernel, opts);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->origin, CacheOrigin::Disk);
    EXPECT_EQ(second.stats().diskHits, 1u);
    EXPECT_GE(second.stats().lastHitMs, 0.0);
  }
  // Tear the file: half of it is gone.
  std::string bytes = test::readFile(path);
  test::writeFile(path, bytes.substr(0, bytes.size() / 2));
  {
    Log log;
    KernelCache third(optionsFor(tmp.path(), log));
    auto b = third.getBinary(kKernel, opts);
    ASSERT_TRUE(b) << b.error().str();
    EXPECT_EQ(b->origin, CacheOrigin::Compiled);
    ASSERT_EQ(log.warnings.size(), 1u) << log.all();
    EXPECT_NE(log.warnings[0].find("truncated or torn write"),
              std::string::npos);
    EXPECT_EQ(third.stats().corruptEntries, 1u);
    EXPECT_GT(third.stats().compileMs, 0.0);
  }
  // ...and the rewritten entry is whole again.
  EXPECT_EQ(test::readFile(path), bytes);
  {
    Log log;
    KernelCache fourth(optionsFor(tmp.path(), log));
    auto b = fourth.getBinary(kKernel, opts);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->origin, CacheOrigin::Disk);
    EXPECT_TRUE(log.warnings.empty()) << log.all();
  }
}

TEST(KernelCacheDisk, PtxForVirtualArch) {
  test::TempDir tmp;
  Log log;
  KernelCache cache(optionsFor(tmp.path(), log));
  NvrtcOptions opts;
  opts.arch = "compute_80";
  auto b = cache.getBinary(kKernel, opts);
  ASSERT_TRUE(b) << b.error().str();
  EXPECT_EQ(b->binary->kind, PayloadKind::Ptx);
  std::string ptx(b->binary->image.begin(), b->binary->image.end());
  EXPECT_NE(ptx.find(".entry k"), std::string::npos);
  KernelCache again(optionsFor(tmp.path(), log));
  auto d = again.getBinary(kKernel, opts);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->origin, CacheOrigin::Disk);
  EXPECT_EQ(d->binary->kind, PayloadKind::Ptx);
}

TEST(KernelCacheDisk, CompileErrorsAreNotCached) {
  test::TempDir tmp;
  Log log;
  KernelCache cache(optionsFor(tmp.path(), log));
  NvrtcOptions opts;
  auto b = cache.getBinary("this is not CUDA", opts);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), ErrorCode::Compile);
  EXPECT_TRUE(test::listDir(tmp.path()).empty());
}

//===- Unwritable directories ---------------------------------------------===//

TEST(KernelCacheDisk, UnusableDirFallsBackToMemory) {
  test::TempDir tmp;
  // A regular file where a directory should be: fails even for root.
  test::writeFile(tmp.path() + "/file", "x");
  Log log;
  KernelCache cache(optionsFor(tmp.path() + "/file/cache", log));
  EXPECT_FALSE(cache.diskEnabled());
  ASSERT_EQ(log.warnings.size(), 1u);
  EXPECT_NE(log.warnings[0].find("is not usable"), std::string::npos)
      << log.warnings[0];
  EXPECT_NE(log.warnings[0].find("memory only"), std::string::npos);

  NvrtcOptions opts;
  auto b = cache.getBinary(kKernel, opts);
  ASSERT_TRUE(b) << b.error().str();
  EXPECT_EQ(b->origin, CacheOrigin::Compiled);
  auto again = cache.getBinary(kKernel, opts);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->origin, CacheOrigin::Memory);
  EXPECT_EQ(log.warnings.size(), 1u) << log.all();
}

TEST(KernelCacheDisk, DirVanishingDisablesDiskOnce) {
  test::TempDir tmp;
  std::string dir = tmp.path() + "/cache";
  Log log;
  KernelCache cache(optionsFor(dir, log));
  ASSERT_TRUE(cache.diskEnabled());
  test::TempDir::removeTree(dir);
  test::writeFile(dir, "now a file"); // cannot be recreated as a directory
  cache.writeEntry(fakeBinary("one"));
  cache.writeEntry(fakeBinary("two"));
  EXPECT_FALSE(cache.diskEnabled());
  ASSERT_EQ(log.warnings.size(), 1u) << log.all();
  EXPECT_NE(log.warnings[0].find("cannot write"), std::string::npos);
  EXPECT_GE(cache.stats().diskWriteFailures, 1u);
}

TEST(KernelCacheDisk, MemoryOnlyByOption) {
  Log log;
  KernelCacheOptions o;
  o.useDisk = false;
  o.log = log.hook();
  KernelCache cache(o);
  EXPECT_FALSE(cache.diskEnabled());
  EXPECT_EQ(cache.entryPath(fakeBinary("x").key), "");
  EXPECT_TRUE(log.warnings.empty());
}

//===- Concurrency --------------------------------------------------------===//

TEST(KernelCacheConcurrency, ThreadsWritingAndReadingOneEntry) {
  test::TempDir tmp;
  CompiledBinary b = fakeBinary("contended", 1 << 16);
  std::atomic<bool> stop{false};
  std::atomic<int> goodReads{0};
  Log log;
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w)
    threads.emplace_back([&] {
      KernelCache cache(optionsFor(tmp.path(), log));
      for (int i = 0; i < 50; ++i)
        cache.writeEntry(b);
    });
  std::thread reader([&] {
    KernelCache cache(optionsFor(tmp.path(), log));
    while (!stop) {
      if (auto r = cache.readEntry(b.key)) {
        EXPECT_EQ(r->image, b.image);
        ++goodReads;
      }
    }
  });
  for (auto &t : threads)
    t.join();
  stop = true;
  reader.join();
  EXPECT_TRUE(log.warnings.empty()) << log.all();
  EXPECT_GT(goodReads.load(), 0);
  EXPECT_EQ(countTempFiles(tmp.path()), 0u);
  KernelCache check(optionsFor(tmp.path(), log));
  auto r = check.readEntry(b.key);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->image, b.image);
}

TEST(KernelCacheConcurrency, ThreadsCompilingTheSameKernel) {
  test::TempDir tmp;
  Log log;
  NvrtcOptions opts;
  opts.arch = "sm_80";
  std::vector<std::thread> threads;
  std::vector<std::vector<char>> images(4);
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      KernelCache cache(optionsFor(tmp.path(), log));
      auto b = cache.getBinary(kKernel, opts);
      if (!b) {
        ++failures;
        return;
      }
      images[t] = b->binary->image;
    });
  for (auto &t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 1; t < 4; ++t)
    EXPECT_EQ(images[t], images[0]);
  EXPECT_TRUE(log.warnings.empty()) << log.all();
  EXPECT_EQ(countTempFiles(tmp.path()), 0u);
  KernelCache check(optionsFor(tmp.path(), log));
  auto b = check.getBinary(kKernel, opts);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->origin, CacheOrigin::Disk);
}

TEST(KernelCacheConcurrency, ProcessesWritingOneEntry) {
  test::TempDir tmp;
  CompiledBinary b = fakeBinary("processes", 1 << 18);
  std::vector<pid_t> children;
  for (int p = 0; p < 4; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Child: its own cache object; write and read back many times.
      int bad = 0;
      KernelCache cache(KernelCacheOptions{
          tmp.path(), true, [&](LogLevel, const std::string &) { ++bad; }});
      for (int i = 0; i < 40; ++i) {
        cache.writeEntry(b);
        auto r = cache.readEntry(b.key);
        if (!r || r->image != b.image)
          ++bad;
      }
      _exit(bad == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "a child saw a torn or missing entry";
  }
  EXPECT_EQ(countTempFiles(tmp.path()), 0u);
}

TEST(KernelCacheConcurrency, OneCacheCompilesEachKeyOnce) {
  test::TempDir tmp;
  Log log;
  KernelCache cache(optionsFor(tmp.path(), log));
  NvrtcOptions opts;
  opts.arch = "sm_80";
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      if (!cache.getBinary(kKernel, opts))
        ++failures;
    });
  for (auto &t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  CacheStats st = cache.stats();
  EXPECT_EQ(st.compiles, 1u);
  EXPECT_EQ(st.memoryHits, 3u);
  std::string text = formatCacheStats(st);
  EXPECT_NE(text.find("memory hits 3"), std::string::npos) << text;
  EXPECT_NE(text.find("compiled 1"), std::string::npos) << text;
}

TEST(KernelCacheDisk, SetLogHookAndInfoTimings) {
  test::TempDir tmp;
  KernelCache cache(KernelCacheOptions{tmp.path(), true, nullptr});
  Log log;
  cache.setLogHook(log.hook());
  CompiledBinary b = fakeBinary("hooked");
  cache.writeEntry(b);
  test::writeFile(cache.entryPath(b.key), "garbage");
  EXPECT_FALSE(cache.readEntry(b.key));
  ASSERT_EQ(log.warnings.size(), 1u);
  EXPECT_NE(log.warnings[0].find("truncated header"), std::string::npos);

  NvrtcOptions opts;
  ASSERT_TRUE(cache.getBinary(kKernel, opts));
  ASSERT_EQ(log.infos.size(), 1u);
  EXPECT_NE(log.infos[0].find("compiled for sm_80 in "), std::string::npos)
      << log.infos[0];
}

// Hostile entries: a symlink (to /dev/zero), a FIFO, an oversized sparse
// file and a directory owned by another user are refused without reading,
// blocking or following them.
TEST(KernelCacheDisk, RefusesSpecialEntries) {
  test::TempDir tmp;
  Log log;
  KernelCache cache(optionsFor(tmp.path(), log));
  ASSERT_TRUE(cache.diskEnabled());
  std::string a = fakeBinary("symlink").key, f = fakeBinary("fifo").key,
              s = fakeBinary("sparse").key;
  ASSERT_EQ(::symlink("/dev/zero", cache.entryPath(a).c_str()), 0);
  ASSERT_EQ(::mkfifo(cache.entryPath(f).c_str(), 0600), 0);
  {
    int fd = ::open(cache.entryPath(s).c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, off_t(3) << 30), 0);
    ::close(fd);
  }
  EXPECT_FALSE(cache.readEntry(a));
  EXPECT_FALSE(cache.readEntry(f));
  EXPECT_FALSE(cache.readEntry(s));
  ASSERT_EQ(log.warnings.size(), 3u) << log.all();
  EXPECT_NE(log.warnings[0].find("symbolic link"), std::string::npos);
  EXPECT_NE(log.warnings[1].find("not a regular file"), std::string::npos);
  EXPECT_NE(log.warnings[2].find("more than the"), std::string::npos);
}

TEST(KernelCacheDir, RefusesDirectoryOfAnotherUser) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to chown the directory to another uid";
  test::TempDir tmp;
  ASSERT_EQ(::chown(tmp.path().c_str(), 12345, 12345), 0);
  Log log;
  KernelCache cache(optionsFor(tmp.path(), log));
  EXPECT_FALSE(cache.diskEnabled());
  ASSERT_EQ(log.warnings.size(), 1u) << log.all();
  EXPECT_NE(log.warnings[0].find("owned by uid 12345"), std::string::npos)
      << log.warnings[0];
  ASSERT_EQ(::chown(tmp.path().c_str(), 0, 0), 0);
}

TEST(KernelCacheDir, FollowsALinkToAPrivateDirectory) {
  // ~/.cache is often a symbolic link to a larger disk: the directory it
  // names is checked (0700, this user's), not the link, whose own mode is
  // always 0777 (it was refused as "writable by other users").
  test::TempDir tmp;
  std::string real = tmp.path() + "/real", link = tmp.path() + "/link";
  ASSERT_EQ(::mkdir(real.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  Log log;
  KernelCache cache(optionsFor(link, log));
  EXPECT_TRUE(cache.diskEnabled()) << log.all();
  EXPECT_TRUE(log.warnings.empty()) << log.all();
  // ... and a link to a directory others can write is still refused.
  std::string open = tmp.path() + "/open", openLink = tmp.path() + "/olink";
  ASSERT_EQ(::mkdir(open.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(open.c_str(), 0777), 0);
  ASSERT_EQ(::symlink(open.c_str(), openLink.c_str()), 0);
  Log openLog;
  KernelCache refused(optionsFor(openLink, openLog));
  EXPECT_FALSE(refused.diskEnabled());
  ASSERT_EQ(openLog.warnings.size(), 1u) << openLog.all();
  EXPECT_NE(openLog.warnings[0].find("writable by other users"),
            std::string::npos);
}
