#include "common/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace tpw {
namespace {

enum class TestError : uint8_t { first = 1, second = 2 };

struct Point {
  int x = 0;
  int y = 0;
};

// A Result or Status only turns into bool on request: `int n = result;` does not compile.
static_assert(!std::is_convertible_v<Result<int, TestError>, bool>);
static_assert(std::is_constructible_v<bool, Result<int, TestError>>);
static_assert(!std::is_convertible_v<Status<TestError>, bool>);
static_assert(std::is_constructible_v<bool, Status<TestError>>);

Result<int, TestError> Half(int n) {
  if (n % 2 != 0) return Err{TestError::second};
  return n / 2;
}

// ---------------------------------------------------------------------------------------------
// Result<T, E>.

TEST(Result, HoldsValueWhenOk) {
  const Result<int, TestError> result = Half(10);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(static_cast<bool>(result));
  EXPECT_EQ(result.value(), 5);
  EXPECT_EQ(*result, 5);
}

TEST(Result, HoldsErrorWhenFailed) {
  const Result<int, TestError> result = Half(3);
  ASSERT_FALSE(result.ok());
  EXPECT_FALSE(static_cast<bool>(result));
  EXPECT_EQ(result.error(), TestError::second);
}

TEST(Result, ZeroValueIsStillOk) {
  // A value that looks "empty" must not be mistaken for an error.
  const Result<int, TestError> result = 0;
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.value(), 0);
}

TEST(Result, KeepsTheExactErrorCode) {
  const Result<int, TestError> first = Err{TestError::first};
  const Result<int, TestError> second = Err{TestError::second};
  EXPECT_EQ(first.error(), TestError::first);
  EXPECT_EQ(second.error(), TestError::second);
}

TEST(Result, ArrowReachesMembers) {
  const Result<Point, TestError> result = Point{3, 4};
  EXPECT_EQ(result->x, 3);
  EXPECT_EQ(result->y, 4);
}

TEST(Result, ValueCanBeModifiedInPlace) {
  Result<std::string, TestError> result = std::string("abc");
  result.value() += "def";
  EXPECT_EQ(result.value(), "abcdef");
}

TEST(Result, MoveOnlyValueCanBeMovedOut) {
  Result<std::unique_ptr<int>, TestError> result = std::make_unique<int>(7);
  ASSERT_TRUE(result.ok());
  std::unique_ptr<int> owned = std::move(result).value();
  ASSERT_NE(owned, nullptr);
  EXPECT_EQ(*owned, 7);
}

TEST(Result, ValueTypeMayBeAnotherEnum) {
  enum class Color : uint8_t { red = 1, green = 2 };
  const Result<Color, TestError> ok = Color::green;
  const Result<Color, TestError> failed = Err{TestError::first};
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value(), Color::green);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), TestError::first);
}

TEST(ResultDeathTest, ValueOnErrorAsserts) {
  const Result<int, TestError> result = Err{TestError::first};
  EXPECT_DEATH((void)result.value(), "Result::value\\(\\) on an error");
}

TEST(ResultDeathTest, DereferenceOnErrorAsserts) {
  const Result<Point, TestError> result = Err{TestError::first};
  EXPECT_DEATH((void)result->x, "Result::value\\(\\) on an error");
}

TEST(ResultDeathTest, ErrorOnValueAsserts) {
  const Result<int, TestError> result = 1;
  EXPECT_DEATH((void)result.error(), "Result::error\\(\\) on a value");
}

// ---------------------------------------------------------------------------------------------
// Status<E>.

Status<TestError> CheckEven(int n) {
  if (n % 2 != 0) return Err{TestError::first};
  return Status<TestError>::Ok();
}

TEST(Status, DefaultIsOk) {
  const Status<TestError> status;
  EXPECT_TRUE(status.ok());
  EXPECT_TRUE(static_cast<bool>(status));
}

TEST(Status, OkIsOk) { EXPECT_TRUE(CheckEven(2).ok()); }

TEST(Status, HoldsErrorWhenFailed) {
  const Status<TestError> status = CheckEven(3);
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(static_cast<bool>(status));
  EXPECT_EQ(status.error(), TestError::first);
}

TEST(Status, KeepsTheExactErrorCode) {
  const Status<TestError> status = Err{TestError::second};
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error(), TestError::second);
}

TEST(StatusDeathTest, ErrorOnSuccessAsserts) {
  const Status<TestError> status = Status<TestError>::Ok();
  EXPECT_DEATH((void)status.error(), "Status::error\\(\\) on success");
}

}  // namespace
}  // namespace tpw
