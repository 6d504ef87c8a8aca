#include "ledger/hash_index.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace tpw::ledger {
namespace {

// Same mix as HashIndex::HomeSlot, used only to build keys whose probe runs wrap around the
// end of a small table. If the hash changes, WrapKeys finds no keys and the test says so.
uint64_t MixedHash(u128 key) {
  uint64_t h = Low64(key) ^ (High64(key) * 0x9e3779b97f4a7c15ULL);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// `count` keys whose home slot, in a table of `capacity` slots, is `home`.
std::vector<u128> KeysWithHome(uint64_t capacity, uint64_t home, size_t count) {
  std::vector<u128> keys;
  for (uint64_t k = 1; keys.size() < count && k < 10'000'000; ++k) {
    if ((MixedHash(k) & (capacity - 1)) == home) keys.push_back(k);
  }
  return keys;
}

void ExpectValue(const HashIndex& index, u128 key, uint64_t value) {
  const uint64_t* found = index.Find(key);
  ASSERT_NE(found, nullptr) << "key " << U128ToDecimal(key) << " missing";
  EXPECT_EQ(*found, value) << "key " << U128ToDecimal(key);
}

TEST(HashIndexTest, EmptyIndexFindsNothing) {
  const HashIndex index(16);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.Find(1), nullptr);
  EXPECT_EQ(index.Find(kU128Max), nullptr);
}

TEST(HashIndexTest, InsertedKeysAreFoundWithTheirValues) {
  HashIndex index(1024);
  for (uint64_t k = 1; k <= 1000; ++k) index.Insert(MakeU128(0, k * 7919), k);
  EXPECT_EQ(index.size(), 1000u);
  for (uint64_t k = 1; k <= 1000; ++k) ExpectValue(index, MakeU128(0, k * 7919), k);
  EXPECT_EQ(index.Find(MakeU128(0, 7918)), nullptr);
  EXPECT_EQ(index.Find(MakeU128(1, 7919)), nullptr);
}

TEST(HashIndexTest, FindReturnsAMutableValue) {
  HashIndex index(16);
  index.Insert(42, 1);
  uint64_t* value = index.Find(42);
  ASSERT_NE(value, nullptr);
  *value = 99;
  ExpectValue(index, 42, 99);
}

TEST(HashIndexTest, MaxKeyAndKeysWithZeroLowHalfAreStorable) {
  HashIndex index(16);
  index.Insert(kU128Max, 1);
  index.Insert(MakeU128(5, 0), 2);  // low 64 bits zero: still not the empty marker
  index.Insert(MakeU128(0, 5), 3);
  ExpectValue(index, kU128Max, 1);
  ExpectValue(index, MakeU128(5, 0), 2);
  ExpectValue(index, MakeU128(0, 5), 3);
  EXPECT_EQ(index.size(), 3u);
}

TEST(HashIndexTest, KeysDifferingOnlyInHighBitsAreDistinct) {
  HashIndex index(16);
  constexpr uint64_t kCount = 2000;
  for (uint64_t high = 0; high < kCount; ++high) index.Insert(MakeU128(high, 77), high + 1);
  EXPECT_EQ(index.size(), kCount);
  for (uint64_t high = 0; high < kCount; ++high) ExpectValue(index, MakeU128(high, 77), high + 1);
  EXPECT_EQ(index.Find(MakeU128(kCount, 77)), nullptr);
  // Erase every other one; the rest stay.
  for (uint64_t high = 0; high < kCount; high += 2) index.Erase(MakeU128(high, 77));
  for (uint64_t high = 0; high < kCount; ++high) {
    if (high % 2 == 0) {
      EXPECT_EQ(index.Find(MakeU128(high, 77)), nullptr);
    } else {
      ExpectValue(index, MakeU128(high, 77), high + 1);
    }
  }
}

TEST(HashIndexTest, SequentialKeysGrowTheTableAndStayFindable) {
  HashIndex index(1);
  const uint64_t initial_capacity = index.capacity();
  constexpr uint64_t kCount = 100'000;
  for (uint64_t k = 1; k <= kCount; ++k) {
    index.Insert(k, k * 3);
    // Grows at 3/4 load, and the capacity stays a power of two.
    ASSERT_LE(index.size() * 4, index.capacity() * 3) << "after " << k;
  }
  EXPECT_GT(index.capacity(), initial_capacity);
  EXPECT_EQ(index.capacity() & (index.capacity() - 1), 0u);
  EXPECT_EQ(index.memory_bytes(), index.capacity() * 24);
  EXPECT_EQ(index.size(), kCount);
  for (uint64_t k = 1; k <= kCount; ++k) ExpectValue(index, k, k * 3);
  EXPECT_EQ(index.Find(kCount + 1), nullptr);
}

TEST(HashIndexTest, ExpectedEntriesPresizesWithoutGrowth) {
  HashIndex index(1000);
  const uint64_t capacity = index.capacity();
  for (uint64_t k = 1; k <= 1000; ++k) index.Insert(k, k);
  EXPECT_EQ(index.capacity(), capacity);
}

TEST(HashIndexTest, EraseRemovesOnlyThatKey) {
  HashIndex index(64);
  for (uint64_t k = 1; k <= 40; ++k) index.Insert(k, k + 100);
  index.Erase(17);
  EXPECT_EQ(index.size(), 39u);
  EXPECT_EQ(index.Find(17), nullptr);
  for (uint64_t k = 1; k <= 40; ++k) {
    if (k != 17) ExpectValue(index, k, k + 100);
  }
  index.Insert(17, 5);  // a removed key can come back
  ExpectValue(index, 17, 5);
}

// Fills the last slots of a 16-slot table so one probe run wraps from slot 15 to slots 0..2,
// then erases from the front of the run: backward shift must move the wrapped keys back
// across the end of the table.
TEST(HashIndexTest, EraseShiftsBackAcrossTheWraparound) {
  constexpr uint64_t kCapacity = 16;
  HashIndex index(1);
  ASSERT_EQ(index.capacity(), kCapacity);

  const std::vector<u128> at_15 = KeysWithHome(kCapacity, 15, 3);
  const std::vector<u128> at_0 = KeysWithHome(kCapacity, 0, 1);
  const std::vector<u128> at_14 = KeysWithHome(kCapacity, 14, 1);
  ASSERT_EQ(at_15.size(), 3u) << "hash mix changed; update MixedHash";
  ASSERT_EQ(at_0.size(), 1u);
  ASSERT_EQ(at_14.size(), 1u);
  // Probe layout: 14:a14 15:a15[0] 0:a15[1] 1:a15[2] 2:a0.
  index.Insert(at_14[0], 140);
  index.Insert(at_15[0], 150);
  index.Insert(at_15[1], 151);
  index.Insert(at_15[2], 152);
  index.Insert(at_0[0], 100);

  index.Erase(at_14[0]);  // hole at 14: nobody has home 14 now, 15..2 must still be found
  EXPECT_EQ(index.Find(at_14[0]), nullptr);
  ExpectValue(index, at_15[0], 150);
  ExpectValue(index, at_15[1], 151);
  ExpectValue(index, at_15[2], 152);
  ExpectValue(index, at_0[0], 100);

  index.Erase(at_15[0]);  // hole at 15: keys in 0 and 1 (home 15) shift back across the end
  EXPECT_EQ(index.Find(at_15[0]), nullptr);
  ExpectValue(index, at_15[1], 151);
  ExpectValue(index, at_15[2], 152);
  ExpectValue(index, at_0[0], 100);

  index.Erase(at_15[1]);
  ExpectValue(index, at_15[2], 152);
  ExpectValue(index, at_0[0], 100);
  index.Erase(at_15[2]);
  ExpectValue(index, at_0[0], 100);
  index.Erase(at_0[0]);
  EXPECT_EQ(index.size(), 0u);
  for (u128 key : at_15) EXPECT_EQ(index.Find(key), nullptr);
}

// Three keys with home 15 sit in slots 15, 0 and 1. Erasing the one in slot 15 must shift both
// wrapped keys back one slot, leaving no hole inside the run.
TEST(HashIndexTest, EraseShiftsEveryWrappedKeyOfTheRun) {
  constexpr uint64_t kCapacity = 16;
  HashIndex index(1);
  ASSERT_EQ(index.capacity(), kCapacity);
  const std::vector<u128> at_15 = KeysWithHome(kCapacity, 15, 4);
  ASSERT_EQ(at_15.size(), 4u);
  index.Insert(at_15[0], 0);
  index.Insert(at_15[1], 1);
  index.Insert(at_15[2], 2);
  index.Insert(at_15[3], 3);  // slots 15, 0, 1, 2
  index.Erase(at_15[0]);
  ExpectValue(index, at_15[1], 1);
  ExpectValue(index, at_15[2], 2);
  ExpectValue(index, at_15[3], 3);
  index.Erase(at_15[2]);  // from the middle of the wrapped part
  ExpectValue(index, at_15[1], 1);
  ExpectValue(index, at_15[3], 3);
  EXPECT_EQ(index.Find(at_15[2]), nullptr);
  EXPECT_EQ(index.size(), 2u);
}

// A key whose home is slot 0 may be pushed to slot 1 by a key wrapped from slot 15; erasing
// the wrapped key must let it shift back to its home, and erasing a key ahead of a run must not
// move a key that already sits at its home.
TEST(HashIndexTest, EraseKeepsKeysThatAreAtTheirHome) {
  constexpr uint64_t kCapacity = 16;
  HashIndex index(1);
  ASSERT_EQ(index.capacity(), kCapacity);
  const std::vector<u128> at_15 = KeysWithHome(kCapacity, 15, 2);
  const std::vector<u128> at_1 = KeysWithHome(kCapacity, 1, 1);
  ASSERT_EQ(at_15.size(), 2u);
  ASSERT_EQ(at_1.size(), 1u);
  // Layout: 15:a15[0] 0:a15[1] 1:a1 (a1 at home).
  index.Insert(at_15[0], 1);
  index.Insert(at_15[1], 2);
  index.Insert(at_1[0], 3);
  index.Erase(at_15[0]);  // a15[1] moves to 15; a1 must stay findable
  ExpectValue(index, at_15[1], 2);
  ExpectValue(index, at_1[0], 3);
  index.Erase(at_15[1]);
  ExpectValue(index, at_1[0], 3);
  EXPECT_EQ(index.size(), 1u);
}

// Random insert/erase against std::map in a table kept at high load without growing, so probe
// runs are long and wrap around; every key is checked after every step.
TEST(HashIndexTest, RandomInsertEraseMatchesAReferenceMap) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 random(seed);
    HashIndex index(1);
    const uint64_t capacity = index.capacity();
    const uint64_t load_max = capacity / 4 * 3 - 1;  // stays below the growth point
    std::map<u128, uint64_t> reference;
    for (int step = 0; step < 2000; ++step) {
      const bool insert = reference.size() < load_max && (reference.empty() || random() % 2 == 0);
      if (insert) {
        u128 key = 0;
        do {
          key = MakeU128(random() % 3, random() % 64 + 1);
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
        const u128 absent = MakeU128(3, probe);  // high half 3 is never inserted
        ASSERT_EQ(index.Find(absent), nullptr);
      }
    }
  }
}

}  // namespace
}  // namespace tpw::ledger
