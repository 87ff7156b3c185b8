//===- StatusTest.cpp -----------------------------------------------------===//
#include "attnc/Status.h"

#include <gtest/gtest.h>

#include <memory>

using namespace attnc;

static Expected<int> half(int x) {
  if (x % 2)
    return makeError(ErrorCode::InvalidArgument, std::to_string(x) + " is odd");
  return x / 2;
}

static Status quarter(int x, int &out) {
  auto h = half(x);
  ATTNC_RETURN_IF_ERROR(h);
  auto q = half(*h);
  if (!q)
    return q.takeError().addContext("quarter");
  out = *q;
  return success();
}

TEST(Status, ValuesAndErrors) {
  auto ok = half(8);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 4);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(bad.error().str(), "InvalidArgument: 3 is odd");
  // Dropping an unchecked error is fine (no abort).
  (void)half(5);
}

TEST(Status, PropagationAndContext) {
  int out = 0;
  EXPECT_TRUE(quarter(8, out));
  EXPECT_EQ(out, 2);
  Status s = quarter(6, out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "quarter: 3 is odd");
  Status t = quarter(7, out);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().message(), "7 is odd");
}

TEST(Status, MoveOnlyAndCopies) {
  Expected<std::unique_ptr<int>> p = std::make_unique<int>(7);
  ASSERT_TRUE(p);
  std::unique_ptr<int> taken = std::move(*p);
  EXPECT_EQ(*taken, 7);
  Expected<std::string> a = std::string("x");
  Expected<std::string> b = a;
  b = makeError(ErrorCode::IO, "disk");
  EXPECT_TRUE(a);
  EXPECT_FALSE(b);
  EXPECT_EQ(b.valueOr("fallback"), "fallback");
  a = b;
  EXPECT_FALSE(a);
  EXPECT_EQ(std::string(errorCodeName(ErrorCode::NoDriver)), "NoDriver");
}
