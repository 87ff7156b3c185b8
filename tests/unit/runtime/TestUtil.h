//===- TestUtil.h - Helpers for the runtime unit tests ----------*- C++ -*-===//
#pragma once

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace attnc {
namespace test {

/// A fresh directory under $TMPDIR, removed (recursively) at scope exit.
class TempDir {
public:
  TempDir() {
    const char *base = getenv("TMPDIR");
    std::string tmpl =
        std::string(base && *base ? base : "/tmp") + "/attnc-rt-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    path_ = mkdtemp(buf.data()) ? buf.data() : "";
  }
  ~TempDir() { removeTree(path_); }
  const std::string &path() const { return path_; }

  static void removeTree(const std::string &p) {
    if (p.empty())
      return;
    struct stat st;
    if (lstat(p.c_str(), &st) != 0)
      return;
    if (S_ISDIR(st.st_mode)) {
      if (DIR *d = opendir(p.c_str())) {
        while (dirent *e = readdir(d)) {
          std::string n = e->d_name;
          if (n != "." && n != "..")
            removeTree(p + "/" + n);
        }
        closedir(d);
      }
      rmdir(p.c_str());
    } else {
      unlink(p.c_str());
    }
  }

private:
  std::string path_;
};

inline std::vector<std::string> listDir(const std::string &dir) {
  std::vector<std::string> out;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..")
        out.push_back(n);
    }
    closedir(d);
  }
  return out;
}

inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

/// Sets an environment variable for the scope, restoring it afterwards.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name_(name) {
    const char *old = getenv(name);
    hadOld_ = old != nullptr;
    if (old)
      old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (hadOld_)
      setenv(name_.c_str(), old_.c_str(), 1);
    else
      unsetenv(name_.c_str());
  }

private:
  std::string name_, old_;
  bool hadOld_ = false;
};

} // namespace test
} // namespace attnc
