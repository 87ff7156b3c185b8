//===- LayoutTest.cpp - non-contiguous tensors on the GPU -----------------===//
//
// Q, K, V and O given as [batch, seq, heads, dim] memory (TensorArg::bshd's
// layout), with padded rows (a row stride larger than the head dim), and
// mixed. Padding elements hold NaN: reading one would poison the output,
// writing one is caught by the harness.
//
//===----------------------------------------------------------------------===//
#include "GpuHarness.h"

using namespace attnc;
using namespace attnc::gputest;

namespace {

class Strides : public GpuTest {
protected:
  void SetUp() override {
    GpuTest::SetUp();
    if (IsSkipped())
      return;
    SpecText p;
    p.name = "strided_plain";
    p.dtype = "f16";
    p.headDim = 64;
    SpecText c;
    c.name = "strided_gqa_causal";
    c.dtype = "bf16";
    c.headDim = 128;
    c.headsQ = "hq";
    c.headsKV = "hk";
    c.scores = {"s = mask(s, causal)"};
    SpecText f;
    f.name = "strided_f32";
    f.dtype = "f32";
    f.headDim = 96;
    auto attns = compileSpecs({p.str(), c.str(), f.str()});
    plain = attns[0];
    causal = attns[1];
    single = attns[2];
    ASSERT_TRUE(plain && causal && single);
  }

  Case makeCase(const std::string &label, int hq, int hk, Layout q, Layout k,
                Layout v, Layout o) {
    Case c;
    c.label = label;
    c.batch = 3;
    c.headsQ = hq;
    c.headsKV = hk;
    c.seqQ = 1000;
    c.seqK = 777;
    c.q = q;
    c.k = k;
    c.v = v;
    c.o = o;
    c.inputSeed = 17;
    return c;
  }

  std::shared_ptr<Attention> plain, causal, single;
};

TEST_F(Strides, Bshd) {
  const Layout s = Layout::bshdLayout();
  EXPECT_TRUE(runCase(*plain, makeCase("bshd f16", 5, 5, s, s, s, s)));
  EXPECT_TRUE(runCase(*causal, makeCase("bshd gqa causal", 6, 2, s, s, s, s)));
  EXPECT_TRUE(runCase(*single, makeCase("bshd f32", 5, 5, s, s, s, s)));
}

TEST_F(Strides, PaddedRows) {
  // 8 extra elements (16 B for f16/bf16) per row of Q, K, V; 24 for O.
  const Layout p8 = Layout::padded(8), p24 = Layout::padded(24);
  EXPECT_TRUE(runCase(*plain, makeCase("padded f16", 5, 5, p8, p8, p8, p24)));
  EXPECT_TRUE(
      runCase(*causal, makeCase("padded gqa causal", 6, 2, p8, p8, p8, p24)));
  const Layout p4 = Layout::padded(4); // 16 B for f32
  EXPECT_TRUE(runCase(*single, makeCase("padded f32", 5, 5, p4, p4, p4, p4)));
}

TEST_F(Strides, Mixed) {
  const Layout bshd = Layout::bshdLayout(), bshdPad = Layout::bshdLayout(8),
               pad = Layout::padded(16), dense = Layout::contiguous();
  EXPECT_TRUE(
      runCase(*plain, makeCase("mixed f16", 5, 5, bshd, pad, dense, bshdPad)));
  EXPECT_TRUE(runCase(*causal, makeCase("mixed gqa causal", 8, 1, bshdPad,
                                        dense, bshd, pad)));
}

} // namespace
