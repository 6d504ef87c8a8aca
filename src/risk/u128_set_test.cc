// U128Set (the named lists' contents): the same answers as std::set under random inserts and
// erases, zero as a value, wide values, and erasure inside collision runs.
#include "risk/u128_set.h"

#include <gtest/gtest.h>

#include <set>

#include "common/clock.h"

namespace tpw::risk {
namespace {

TEST(RiskU128Set, AnswersLikeStdSetUnderRandomInsertsAndErases) {
  SeededRandom random(7);
  U128Set set;
  std::set<u128> expected;
  // A small value range, so values repeat, runs collide and erases hit present values.
  for (int step = 0; step < 200'000; ++step) {
    const u128 value = MakeU128(random.Uniform(3), random.Uniform(600));
    if (random.Chance(2, 3)) {
      EXPECT_EQ(set.Insert(value), expected.insert(value).second);
    } else {
      EXPECT_EQ(set.Erase(value), expected.erase(value) == 1);
    }
    ASSERT_EQ(set.size(), expected.size());
  }
  for (uint64_t high = 0; high < 3; ++high) {
    for (uint64_t low = 0; low < 600; ++low) {
      const u128 value = MakeU128(high, low);
      EXPECT_EQ(set.Contains(value), expected.count(value) == 1);
    }
  }
  EXPECT_EQ(set.Sorted(), std::vector<u128>(expected.begin(), expected.end()));
}

TEST(RiskU128Set, ZeroIsAValueLikeAnyOther) {
  U128Set set;
  EXPECT_FALSE(set.Contains(0));
  EXPECT_FALSE(set.Erase(0));
  EXPECT_TRUE(set.Insert(0));
  EXPECT_FALSE(set.Insert(0));
  EXPECT_TRUE(set.Contains(0));
  EXPECT_FALSE(set.Contains(1));
  EXPECT_EQ(set.size(), 1u);
  EXPECT_EQ(set.Sorted(), std::vector<u128>{0});
  EXPECT_TRUE(set.Erase(0));
  EXPECT_FALSE(set.Contains(0));
  EXPECT_EQ(set.size(), 0u);
}

TEST(RiskU128Set, ErasingEveryValueLeavesAnEmptySetThatStillWorks) {
  U128Set set;
  for (uint64_t i = 1; i <= 5000; ++i) ASSERT_TRUE(set.Insert(MakeU128(i, i * 7)));
  for (uint64_t i = 1; i <= 5000; ++i) ASSERT_TRUE(set.Erase(MakeU128(i, i * 7)));
  EXPECT_EQ(set.size(), 0u);
  EXPECT_TRUE(set.Sorted().empty());
  for (uint64_t i = 1; i <= 5000; ++i) ASSERT_FALSE(set.Contains(MakeU128(i, i * 7)));
  EXPECT_TRUE(set.Insert(kU128Max));
  EXPECT_TRUE(set.Contains(kU128Max));
}

}  // namespace
}  // namespace tpw::risk
