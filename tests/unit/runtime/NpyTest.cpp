//===- NpyTest.cpp - .npy round trips and errors --------------------------===//
#include <sys/stat.h>
#include "attnc/Npy.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace attnc;

namespace {

// A .npy image with a hand-written header (as NumPy would write it).
std::string npyImage(const std::string &dict, const std::string &data,
                     int major = 1) {
  std::string header = dict;
  size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(major);
  out += char(0);
  size_t n = header.size();
  out += char(n & 0xff);
  out += char((n >> 8) & 0xff);
  if (major != 1) {
    out += char((n >> 16) & 0xff);
    out += char((n >> 24) & 0xff);
  }
  return out + header + data;
}

Expected<NpyArray> parse(const std::string &image, NpyReadOptions o = {}) {
  return parseNpy(image.data(), image.size(), "t.npy", o);
}

std::string floats(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(&s[0], v.begin(), s.size());
  return s;
}

void expectError(const std::string &image, const std::string &needle) {
  auto a = parse(image);
  ASSERT_FALSE(a) << "expected an error containing: " << needle;
  EXPECT_EQ(a.error().message().rfind("t.npy: ", 0), 0u) << a.error().message();
  EXPECT_NE(a.error().message().find(needle), std::string::npos)
      << a.error().message();
}

} // namespace

TEST(Npy, ReadsNumpyWrittenHeader) {
  auto a = parse(
      npyImage("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
               floats({1, 2, 3, 4, 5, 6})));
  ASSERT_TRUE(a) << a.error().str();
  EXPECT_EQ(a->dtype, DType::F32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->as<float>()[5], 6.0f);
}

TEST(Npy, VersionsTwoAndThree) {
  for (int major : {2, 3}) {
    auto a = parse(
        npyImage("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                 floats({7, 8}), major));
    ASSERT_TRUE(a) << a.error().str();
    EXPECT_EQ(a->shape, std::vector<int64_t>{2});
    EXPECT_EQ(a->as<float>()[1], 8.0f);
  }
}

TEST(Npy, ScalarAndEmptyShapes) {
  auto s = parse(npyImage(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", floats({3})));
  ASSERT_TRUE(s) << s.error().str();
  EXPECT_TRUE(s->shape.empty());
  EXPECT_EQ(s->numElements(), 1u);
  auto e = parse(npyImage(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", ""));
  ASSERT_TRUE(e) << e.error().str();
  EXPECT_EQ(e->numElements(), 0u);
}

TEST(Npy, RoundTripEveryDType) {
  test::TempDir tmp;
  const float values[] = {0.0f, 1.0f, -2.0f, 3.0f, 100.0f, -7.0f};
  for (DType t : {DType::F16, DType::BF16, DType::F32, DType::F64, DType::I32,
                  DType::I8, DType::U8, DType::U16}) {
    float v[6];
    for (int i = 0; i < 6; ++i)
      v[i] = (t == DType::U8 || t == DType::U16) ? std::fabs(values[i])
                                                 : values[i];
    NpyArray a = fromFloats(v, {2, 3}, t);
    std::string path = tmp.path() + "/" + dtypeName(t) + ".npy";
    ASSERT_TRUE(writeNpy(path, a));
    auto b = readNpy(path);
    ASSERT_TRUE(b) << b.error().str();
    EXPECT_EQ(b->dtype, t) << dtypeName(t);
    EXPECT_EQ(b->shape, a.shape);
    EXPECT_EQ(b->data, a.data);
    auto f = toFloatVector(*b);
    for (int i = 0; i < 6; ++i)
      EXPECT_EQ(f[i], v[i]) << dtypeName(t) << " element " << i;
    // Data starts 64-byte aligned, as NumPy writes it.
    std::string bytes = test::readFile(path);
    EXPECT_EQ((bytes.size() - a.data.size()) % 64, 0u);
  }
}

TEST(Npy, Bf16Encodings) {
  uint16_t one = floatToBf16(1.0f);
  std::string data(reinterpret_cast<const char *>(&one), 2);
  for (const char *descr : {"<V2", "|V2"}) {
    auto a = parse(npyImage(std::string("{'descr': '") + descr +
                                "', 'fortran_order': False, 'shape': (1,), }",
                            data));
    ASSERT_TRUE(a) << a.error().str();
    EXPECT_EQ(a->dtype, DType::BF16);
    EXPECT_EQ(toFloatVector(*a)[0], 1.0f);
  }
  std::string u2 = npyImage(
      "{'descr': '<u2', 'fortran_order': False, 'shape': (1,), }", data);
  auto plain = parse(u2);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->dtype, DType::U16);
  NpyReadOptions o;
  o.u2IsBF16 = true;
  auto asBf16 = parse(u2, o);
  ASSERT_TRUE(asBf16);
  EXPECT_EQ(asBf16->dtype, DType::BF16);
  // Writing bf16 as <u2 on request.
  NpyArray b = fromFloats(std::vector<float>{2.0f}.data(), {1}, DType::BF16);
  NpyWriteOptions w;
  w.bf16AsU2 = true;
  auto bytes = serializeNpy(b, w);
  ASSERT_TRUE(bytes);
  std::string s(bytes->begin(), bytes->end());
  EXPECT_NE(s.find("'descr': '<u2'"), std::string::npos);
  auto dflt = serializeNpy(b);
  ASSERT_TRUE(dflt);
  EXPECT_NE(std::string(dflt->begin(), dflt->end()).find("'<V2'"),
            std::string::npos);
}

TEST(Npy, Errors) {
  std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  expectError("", "bad magic");
  expectError("PK\x03\x04 this is a zip", "bad magic");
  expectError(std::string("\x93NUMPY\x01", 7), "bad magic"); // too short
  expectError(std::string("\x93NUMPY\x01\x00", 8) + "\x01", "truncated header");
  expectError(npyImage(ok, floats({1, 2})).substr(0, 40), "truncated header");
  {
    std::string v9 = npyImage(ok, floats({1, 2}));
    v9[6] = 9;
    expectError(v9, "unsupported .npy format version 9.0");
  }
  expectError(npyImage("not a dict", ""), "malformed header");
  expectError(npyImage("{'fortran_order': False, 'shape': (2,), }", ""),
              "no 'descr'");
  expectError(npyImage("{'descr': [('a', '<f4')], 'fortran_order': False, "
                       "'shape': (2,), }",
                       ""),
              "no 'descr'");
  expectError(
      npyImage("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", ""),
      "unsupported dtype '<c8'");
  expectError(
      npyImage("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
               floats({1, 2})),
      "big-endian");
  expectError(
      npyImage("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
               floats({1, 2, 3, 4})),
      "Fortran-order");
  expectError(npyImage("{'descr': '<f4', 'shape': (2,), }", floats({1, 2})),
              "fortran_order");
  expectError(
      npyImage("{'descr': '<f4', 'fortran_order': False, }", floats({1})),
      "no 'shape'");
  expectError(
      npyImage("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }",
               floats({1, 2})),
      "bad 'shape' entry");
  expectError(npyImage(ok, floats({1})), "truncated data");
  expectError(npyImage(ok, floats({1})), "needs 8 bytes, file has 4");
  expectError(npyImage(ok, floats({1, 2, 3})), "size mismatch");
  // A real parser of the dict: no commas, duplicate keys, keys inside values.
  expectError(npyImage("{'descr': '<f4', 'fortran_order': False, 'shape': "
                       "(1 2), }",
                       floats({1, 2})),
              "expected ',' between entries");
  expectError(npyImage("{'descr': '<f4', 'fortran_order': False, 'shape': "
                       "(2,), 'shape': (1,), }",
                       floats({1, 2})),
              "duplicate key 'shape'");
  expectError(npyImage("{'descr': '<f4', 'fortran_order': False, 'x': "
                       "\"'shape': (2,)\", }",
                       floats({1, 2})),
              "unknown key 'x'");
  expectError(npyImage("{'descr': '<f4' 'fortran_order': False, 'shape': "
                       "(2,), }",
                       floats({1, 2})),
              "expected ',' or '}'");
}

TEST(Npy, RefusesSpecialFiles) {
  auto zero = readNpy("/dev/zero");
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message().find("/dev/zero: not a regular file"),
            std::string::npos)
      << zero.error().message();
  test::TempDir tmp;
  std::string fifo = tmp.path() + "/fifo.npy";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto f = readNpy(fifo); // must not block
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message().find("not a regular file"), std::string::npos);
}

TEST(Npy, FileErrors) {
  test::TempDir tmp;
  auto missing = readNpy(tmp.path() + "/missing.npy");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
  EXPECT_NE(missing.error().message().find(tmp.path() + "/missing.npy"),
            std::string::npos);
  std::string bad = tmp.path() + "/bad.npy";
  test::writeFile(bad, "hello");
  auto r = readNpy(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().rfind(bad + ": ", 0), 0u);
  EXPECT_NE(r.error().message().find("bad magic"), std::string::npos);

  NpyArray wrong = NpyArray::zeros(DType::F32, {4});
  wrong.data.pop_back();
  Status w = writeNpy(tmp.path() + "/w.npy", wrong);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message().find("needs 16"), std::string::npos);
  Status nodir = writeNpy(tmp.path() + "/no/such/dir.npy",
                          NpyArray::zeros(DType::F32, {1}));
  ASSERT_FALSE(nodir);
  EXPECT_EQ(nodir.error().code(), ErrorCode::IO);
}

namespace {
/// The names in `dir`, sorted, without . and ..
std::vector<std::string> listDir(const std::string &dir) {
  std::vector<std::string> names;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        names.push_back(e->d_name);
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}
} // namespace

TEST(Npy, WriteFilesIsAllOrNothing) {
  // Two outputs, the second unwritable: neither path changes, no
  // temporary is left; both writable: both written, nothing else.
  test::TempDir tmp;
  std::string a = tmp.path() + "/a.npy", b = tmp.path() + "/b.npy";
  test::writeFile(a, "old a");
  NpyArray x = NpyArray::zeros(DType::F32, {2, 3});
  NpyArray y = NpyArray::zeros(DType::I32, {4});
  Status fail = writeNpyFiles({{a, &x}, {tmp.path() + "/no/b.npy", &y}});
  ASSERT_FALSE(fail);
  EXPECT_EQ(fail.error().code(), ErrorCode::IO);
  EXPECT_NE(fail.error().message().find("/no/b.npy: cannot create: No such "
                                        "file or directory"),
            std::string::npos)
      << fail.error().message();
  EXPECT_EQ(test::readFile(a), "old a");
  EXPECT_EQ(listDir(tmp.path()), std::vector<std::string>{"a.npy"});

  ASSERT_TRUE(writeNpyFiles({{a, &x}, {b, &y}}));
  EXPECT_EQ(listDir(tmp.path()), (std::vector<std::string>{"a.npy", "b.npy"}));
  auto ra = readNpy(a), rb = readNpy(b);
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(ra->shape, x.shape);
  EXPECT_EQ(rb->dtype, DType::I32);

  // A directory is named as one.
  Status dir = writeNpy(tmp.path(), x);
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message().find("Is a directory"), std::string::npos);
}

TEST(Npy, WriteThroughLinksAndSpecialFiles) {
  test::TempDir tmp;
  std::string target = tmp.path() + "/target.npy",
              link = tmp.path() + "/link.npy";
  test::writeFile(target, "old");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  NpyArray x = NpyArray::zeros(DType::F16, {8});
  ASSERT_TRUE(writeNpy(link, x));
  struct stat st;
  ASSERT_EQ(::lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link was replaced by a file";
  auto r = readNpy(target);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->shape, x.shape);

  // A FIFO without a reader is an error at once, not a wait.
  std::string fifo = tmp.path() + "/fifo.npy";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Status f = writeNpy(fifo, x);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message().find("no process is reading the FIFO"),
            std::string::npos)
      << f.error().message();
  // /dev/null is written in place (never renamed over).
  EXPECT_TRUE(writeNpy("/dev/null", x));
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  // A full device: the write error, named.
  Status full = writeNpy("/dev/full", x);
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message().find("/dev/full: write failed"),
            std::string::npos)
      << full.error().message();
}

TEST(Npy, ReadOnlyFileIsNotReplaced) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root may write any file; permissions.test covers this "
                    "as an unprivileged user";
  test::TempDir tmp;
  std::string p = tmp.path() + "/ro.npy";
  test::writeFile(p, "keep");
  ASSERT_EQ(::chmod(p.c_str(), 0444), 0);
  Status st = writeNpy(p, NpyArray::zeros(DType::F32, {1}));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("Permission denied"), std::string::npos);
  EXPECT_EQ(test::readFile(p), "keep");
}

TEST(Half, Fp16Conversions) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // rounds to inf
  EXPECT_EQ(floatToHalf(65519.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(std::nanf("")))));
  EXPECT_EQ(floatToHalf(0.0f), 0x0000);
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -24)), 0x0001); // smallest subnormal
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -25)), 0x0000); // tie to even: 0
  EXPECT_EQ(floatToHalf(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(floatToHalf(std::ldexp(1.0f, -14)), 0x0400); // smallest normal
  // 1 + 2^-11 is a tie between 1 and 1+2^-10: even wins (1.0).
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  // Every half value round-trips exactly.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
      continue; // NaN payloads
    ASSERT_EQ(floatToHalf(halfToFloat(uint16_t(h))), h) << std::hex << h;
  }
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(halfToFloat(0x3555), 0.333251953125f);
}

TEST(Half, Bf16Conversions) {
  EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(floatToBf16(-2.5f), 0xc020);
  // 1 + 2^-8 is a tie: rounds to even (1.0); 1 + 3*2^-8 rounds up.
  EXPECT_EQ(floatToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(floatToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(std::nanf("")))));
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::infinity()), 0x7f80);
  for (uint32_t b = 0; b < 0x10000; ++b) {
    if ((b & 0x7f80) == 0x7f80 && (b & 0x7f))
      continue;
    ASSERT_EQ(floatToBf16(bf16ToFloat(uint16_t(b))), b) << std::hex << b;
  }
}
