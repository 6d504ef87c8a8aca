#include "ledger/bucket_index.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace tpw::ledger {
namespace {

uint16_t TagOf(u128 key) {
  const auto tag = static_cast<uint16_t>(BucketIndex::Hash(key) >> 48);
  return tag == 0 ? uint16_t{1} : tag;
}

// `count` keys whose home bucket, in a table of `buckets` buckets, is `home`.
std::vector<u128> KeysWithHome(uint64_t buckets, uint64_t home, size_t count) {
  std::vector<u128> keys;
  for (uint64_t k = 1; keys.size() < count && k < 10'000'000; ++k) {
    if ((BucketIndex::Hash(k) & (buckets - 1)) == home) keys.push_back(k);
  }
  return keys;
}

void ExpectValue(const BucketIndex& index, u128 key, uint64_t value) {
  const uint64_t* found = index.Find(key);
  ASSERT_NE(found, nullptr) << "key " << U128ToDecimal(key) << " missing";
  EXPECT_EQ(*found, value) << "key " << U128ToDecimal(key);
}

TEST(BucketIndexTest, EmptyIndexFindsNothing) {
  const BucketIndex index;
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.Find(1), nullptr);
  EXPECT_EQ(index.Find(kU128Max), nullptr);
}

TEST(BucketIndexTest, InsertedKeysAreFoundWithTheirValues) {
  BucketIndex index;
  for (uint64_t k = 1; k <= 1000; ++k) index.Insert(MakeU128(k * 7, k), k * 10);
  EXPECT_EQ(index.size(), 1000u);
  for (uint64_t k = 1; k <= 1000; ++k) ExpectValue(index, MakeU128(k * 7, k), k * 10);
  EXPECT_EQ(index.Find(MakeU128(0, 1001)), nullptr);
}

TEST(BucketIndexTest, FindReturnsAMutableValue) {
  BucketIndex index;
  index.Insert(5, 50);
  uint64_t* value = index.Find(5);
  ASSERT_NE(value, nullptr);
  *value = 51;
  ExpectValue(index, 5, 51);
}

TEST(BucketIndexTest, MaxKeyAndKeysWithZeroLowHalfAreStorable) {
  BucketIndex index;
  index.Insert(kU128Max, 1);
  index.Insert(MakeU128(1, 0), 2);
  index.Insert(MakeU128(2, 0), 3);
  ExpectValue(index, kU128Max, 1);
  ExpectValue(index, MakeU128(1, 0), 2);
  ExpectValue(index, MakeU128(2, 0), 3);
  EXPECT_EQ(index.size(), 3u);
}

TEST(BucketIndexTest, SequentialKeysGrowTheTableAndStayFindable) {
  BucketIndex index(1);
  const uint64_t initial_capacity = index.capacity();
  constexpr uint64_t kCount = 100'000;
  for (uint64_t k = 1; k <= kCount; ++k) {
    index.Insert(k, k + 1);
    // Grows at 3/4 load, and the bucket count stays a power of two.
    ASSERT_LE(index.size() * 4, index.capacity() * 3) << "after " << k;
  }
  EXPECT_GT(index.capacity(), initial_capacity);
  EXPECT_EQ(index.bucket_count() & (index.bucket_count() - 1), 0u);
  EXPECT_EQ(index.capacity(), index.bucket_count() * 8);
  for (uint64_t k = 1; k <= kCount; ++k) ExpectValue(index, k, k + 1);
}

TEST(BucketIndexTest, ValuesDoNotMoveWhenTheTableGrows) {
  BucketIndex index(1);
  index.Insert(42, 7);
  const uint64_t* before = index.Find(42);
  const uint64_t capacity = index.capacity();
  for (uint64_t k = 100; index.capacity() == capacity; ++k) index.Insert(k, k);
  EXPECT_EQ(index.Find(42), before);
  EXPECT_EQ(*before, 7u);
}

TEST(BucketIndexTest, ExpectedEntriesPresizesWithoutGrowth) {
  BucketIndex index(10'000);
  const uint64_t capacity = index.capacity();
  for (uint64_t k = 1; k <= 10'000; ++k) index.Insert(k, k);
  EXPECT_EQ(index.capacity(), capacity);
}

// Two keys with the same home bucket and the same tag: only the stored key tells them apart.
TEST(BucketIndexTest, KeysWithTheSameTagAreToldApartByTheKey) {
  BucketIndex index(1);
  const uint64_t buckets = index.bucket_count();
  std::map<std::pair<uint64_t, uint16_t>, u128> seen;
  u128 first = 0;
  u128 second = 0;
  for (uint64_t k = 1; k < 10'000'000 && second == 0; ++k) {
    const auto where = std::make_pair(BucketIndex::Hash(k) & (buckets - 1), TagOf(k));
    auto [it, inserted] = seen.emplace(where, k);
    if (!inserted) {
      first = it->second;
      second = k;
    }
  }
  ASSERT_NE(second, 0u);
  index.Insert(first, 1);
  EXPECT_EQ(index.Find(second), nullptr);
  index.Insert(second, 2);
  ExpectValue(index, first, 1);
  ExpectValue(index, second, 2);
  index.Erase(first);
  EXPECT_EQ(index.Find(first), nullptr);
  ExpectValue(index, second, 2);
}

// Fills the last bucket of an 8-bucket table so its keys overflow, across the end of the
// table, into bucket 0 and then bucket 1. Erasing from the full buckets must shift the
// overflowed keys back, or lookups would stop at the new free slot and miss them.
TEST(BucketIndexTest, EraseShiftsOverflowedKeysBackAcrossTheWraparound) {
  BucketIndex index(40);
  constexpr uint64_t kBuckets = 8;
  ASSERT_EQ(index.bucket_count(), kBuckets);
  const std::vector<u128> at_7 = KeysWithHome(kBuckets, 7, 20);  // 8 in 7, 8 in 0, 4 in 1
  const std::vector<u128> at_0 = KeysWithHome(kBuckets, 0, 1);   // lands in bucket 1
  ASSERT_EQ(at_7.size(), 20u);
  ASSERT_EQ(at_0.size(), 1u);
  for (size_t i = 0; i < at_7.size(); ++i) index.Insert(at_7[i], 700 + i);
  index.Insert(at_0[0], 100);
  const uint64_t capacity = index.capacity();

  index.Erase(at_7[0]);  // from bucket 7: a key from bucket 0 or 1 moves back into it
  EXPECT_EQ(index.Find(at_7[0]), nullptr);
  for (size_t i = 1; i < at_7.size(); ++i) ExpectValue(index, at_7[i], 700 + i);
  ExpectValue(index, at_0[0], 100);

  index.Erase(at_7[9]);  // from bucket 0, the middle of the run
  for (size_t i = 1; i < at_7.size(); ++i) {
    if (i != 9) ExpectValue(index, at_7[i], 700 + i);
  }
  ExpectValue(index, at_0[0], 100);

  for (size_t i = 1; i < at_7.size(); ++i) {
    if (i != 9) index.Erase(at_7[i]);
  }
  ExpectValue(index, at_0[0], 100);
  index.Erase(at_0[0]);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.capacity(), capacity);
  for (u128 key : at_7) EXPECT_EQ(index.Find(key), nullptr);
}

// Random insert/erase against std::map in a small table kept just under its growth point, so
// buckets overflow and runs wrap; keys cluster in few buckets. Every key is checked after every
// step, and erasing keys in any order exercises the moves inside the entry array.
TEST(BucketIndexTest, RandomInsertEraseMatchesAReferenceMap) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 random(seed);
    BucketIndex index(40);
    const uint64_t capacity = index.capacity();
    const uint64_t load_max = capacity / 4 * 3 - 1;  // stays below the growth point
    // A pool of keys whose homes are only buckets 6 and 7: long runs that wrap.
    std::vector<u128> pool = KeysWithHome(index.bucket_count(), 7, 40);
    const std::vector<u128> at_6 = KeysWithHome(index.bucket_count(), 6, 20);
    pool.insert(pool.end(), at_6.begin(), at_6.end());
    std::map<u128, uint64_t> reference;
    for (int step = 0; step < 3000; ++step) {
      const bool insert = reference.size() < load_max && (reference.empty() || random() % 2 == 0);
      if (insert) {
        u128 key = 0;
        do {
          key = random() % 4 == 0 ? MakeU128(random() % 3, random() % 64 + 1)
                                  : pool[random() % pool.size()];
        } while (reference.count(key) != 0);
        const uint64_t value = random();
        index.Insert(key, value);
        reference[key] = value;
      } else {
        auto it = reference.begin();
        std::advance(it, static_cast<long>(random() % reference.size()));
        const u128 erased = it->first;
        index.Erase(erased);
        reference.erase(it);
        ASSERT_EQ(index.Find(erased), nullptr) << "seed " << seed << " step " << step;
      }
      ASSERT_EQ(index.size(), reference.size()) << "seed " << seed << " step " << step;
      ASSERT_EQ(index.capacity(), capacity) << "seed " << seed;
      for (const auto& [key, value] : reference) {
        const uint64_t* found = index.Find(key);
        ASSERT_NE(found, nullptr) << "seed " << seed << " step " << step;
        ASSERT_EQ(*found, value) << "seed " << seed << " step " << step;
      }
      for (uint64_t probe = 1; probe <= 8; ++probe) {
        ASSERT_EQ(index.Find(MakeU128(3, probe)), nullptr);  // high half 3 is never inserted
      }
    }
  }
}

TEST(BucketIndexTest, InsertOfAPresentKeyAborts) {
  BucketIndex index;
  index.Insert(9, 1);
  EXPECT_DEATH(index.Insert(9, 2), "present key");
}

TEST(BucketIndexTest, EraseOfAMissingKeyAborts) {
  BucketIndex index;
  index.Insert(9, 1);
  EXPECT_DEATH(index.Erase(10), "missing key");
}

}  // namespace
}  // namespace tpw::ledger
