// Boxed<T>: std::optional's behaviour (empty, set, copy, move, reset, value_or) with the value
// on the heap.
#include "common/boxed.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace tpw {
namespace {

struct Big {
  std::vector<int> numbers;
  std::string name;
};

TEST(BoxedTest, StartsEmptyAndTakesAValueLikeOptional) {
  Boxed<Big> box;
  EXPECT_FALSE(box.has_value());
  EXPECT_FALSE(box);
  box = Big{{1, 2}, "two"};
  ASSERT_TRUE(box);
  EXPECT_EQ(box->name, "two");
  EXPECT_EQ((*box).numbers.size(), 2u);
  box = std::nullopt;
  EXPECT_FALSE(box.has_value());
  box.emplace(Big{{3}, "one"});
  EXPECT_EQ(box.value().numbers.front(), 3);
  box.reset();
  EXPECT_FALSE(box);
}

TEST(BoxedTest, CopiesAreDeepAndMovesLeaveTheSourceEmpty) {
  Boxed<Big> original = Big{{1}, "a"};
  Boxed<Big> copy = original;
  copy->name = "b";
  EXPECT_EQ(original->name, "a");
  Boxed<Big> moved = std::move(original);
  EXPECT_EQ(moved->name, "a");
  EXPECT_FALSE(original.has_value());  // NOLINT(bugprone-use-after-move): unique_ptr's move
  Boxed<Big> empty;
  copy = empty;
  EXPECT_FALSE(copy);
}

TEST(BoxedTest, ValueOrGivesTheFallbackOnlyWhenEmpty) {
  Boxed<std::string> box;
  EXPECT_EQ(box.value_or("fallback"), "fallback");
  box = std::string("set");
  EXPECT_EQ(box.value_or("fallback"), "set");
}

TEST(BoxedTest, StaysPointerSizedWhateverItHolds) {
  static_assert(sizeof(Boxed<Big>) == sizeof(void*));
  static_assert(sizeof(Boxed<std::array<char, 4096>>) == sizeof(void*));
  SUCCEED();
}

}  // namespace
}  // namespace tpw
