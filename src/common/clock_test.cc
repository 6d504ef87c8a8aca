#include "common/clock.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <set>
#include <vector>

namespace tpw {
namespace {

// ---------------------------------------------------------------------------------------------
// ManualClock.

TEST(ManualClock, StartsAtTheGivenTime) {
  ManualClock clock(Timestamp{1'700'000'000 * kNanosPerSecond});
  EXPECT_EQ(clock.Now().ns, 1'700'000'000 * kNanosPerSecond);
  EXPECT_EQ(clock.MonotonicNs(), 1'700'000'000 * kNanosPerSecond);
}

TEST(ManualClock, StandsStillUntilTold) {
  ManualClock clock(Timestamp{5});
  const Timestamp first = clock.Now();
  const Timestamp second = clock.Now();
  EXPECT_TRUE(first == second);
  EXPECT_EQ(clock.MonotonicNs(), clock.MonotonicNs());
}

TEST(ManualClock, AdvanceMovesBothClocksByExactlyThatMuch) {
  ManualClock clock(Timestamp{1000});
  clock.Advance(250);
  EXPECT_EQ(clock.Now().ns, 1250u);
  EXPECT_EQ(clock.MonotonicNs(), 1250u);
  clock.Advance(0);
  EXPECT_EQ(clock.Now().ns, 1250u);
  clock.Advance(kNanosPerSecond);
  EXPECT_EQ(clock.Now().ns, 1250u + kNanosPerSecond);
}

TEST(ManualClock, SetCanMoveWallTimeBackwards) {
  // The sequencer, not the clock, makes timestamps increase; tests need a clock that jumps.
  ManualClock clock(Timestamp{1000});
  clock.Set(Timestamp{10});
  EXPECT_EQ(clock.Now().ns, 10u);
  clock.Set(Timestamp{UINT64_MAX});
  EXPECT_EQ(clock.Now().ns, UINT64_MAX);
}

TEST(ManualClock, WorksThroughTheClockInterface) {
  ManualClock manual(Timestamp{42});
  Clock& clock = manual;
  manual.Advance(8);
  EXPECT_EQ(clock.Now().ns, 50u);
  EXPECT_EQ(clock.MonotonicNs(), 50u);
}

// ---------------------------------------------------------------------------------------------
// SystemClock.

TEST(SystemClock, NowIsAfter2020AndBefore2200) {
  SystemClock clock;
  const uint64_t now_ns = clock.Now().ns;
  EXPECT_GT(now_ns, uint64_t{1'577'836'800} * kNanosPerSecond);  // 2020-01-01
  EXPECT_LT(now_ns, uint64_t{7'258'118'400} * kNanosPerSecond);  // 2200-01-01
}

TEST(SystemClock, MonotonicNeverGoesBackwards) {
  SystemClock clock;
  uint64_t previous = clock.MonotonicNs();
  for (int i = 0; i < 10000; ++i) {
    const uint64_t now = clock.MonotonicNs();
    ASSERT_GE(now, previous);
    previous = now;
  }
}

// ---------------------------------------------------------------------------------------------
// SeededRandom: xoshiro256** seeded through splitmix64.

std::vector<uint64_t> Draw(Random& random, size_t count) {
  std::vector<uint64_t> out(count);
  for (uint64_t& v : out) v = random.NextU64();
  return out;
}

TEST(SeededRandom, MatchesTheReferenceAlgorithm) {
  // First outputs computed by an independent implementation of splitmix64 + xoshiro256**
  // (Blackman & Vigna's reference), so the sequence is pinned on every machine.
  struct Case {
    uint64_t seed;
    std::array<uint64_t, 4> first;
  };
  const Case cases[] = {
      {0,
       {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL,
        0x6aa594f1262d2d2cULL}},
      {42,
       {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL, 0xae17533239e499a1ULL,
        0xecb8ad4703b360a1ULL}},
      {UINT64_MAX,
       {0x8f5520d52a7ead08ULL, 0xc476a018caa1802dULL, 0x81de31c0d260469eULL,
        0xbf658d7e065f3c2fULL}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.seed);
    SeededRandom random(c.seed);
    for (uint64_t expected : c.first) EXPECT_EQ(random.NextU64(), expected);
  }
}

TEST(SeededRandom, SameSeedGivesSameSequence) {
  SeededRandom a(123456789);
  SeededRandom b(123456789);
  EXPECT_EQ(Draw(a, 1000), Draw(b, 1000));
}

TEST(SeededRandom, DifferentSeedsGiveDifferentSequences) {
  SeededRandom a(1);
  SeededRandom b(2);
  const std::vector<uint64_t> from_a = Draw(a, 16);
  const std::vector<uint64_t> from_b = Draw(b, 16);
  for (size_t i = 0; i < from_a.size(); ++i) EXPECT_NE(from_a[i], from_b[i]) << i;
}

TEST(SeededRandom, NeighbouringSeedsStartDifferently) {
  std::set<uint64_t> first_values;
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    SeededRandom random(seed);
    first_values.insert(random.NextU64());
  }
  EXPECT_EQ(first_values.size(), 1000u);
}

TEST(SeededRandom, FillIsNextU64InLittleEndianOrder) {
  SeededRandom reference(7);
  const std::vector<uint64_t> words = Draw(reference, 2);
  SeededRandom random(7);
  uint8_t bytes[16] = {};
  random.Fill(bytes);
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(bytes[i], static_cast<uint8_t>(words[i / 8] >> (8 * (i % 8)))) << i;
  }
}

TEST(SeededRandom, FillOfAPartialWordUsesItsLowBytesAndConsumesIt) {
  SeededRandom reference(9);
  const std::vector<uint64_t> words = Draw(reference, 3);
  SeededRandom random(9);
  uint8_t bytes[13] = {};
  random.Fill(bytes);
  for (size_t i = 0; i < 13; ++i) {
    EXPECT_EQ(bytes[i], static_cast<uint8_t>(words[i / 8] >> (8 * (i % 8)))) << i;
  }
  EXPECT_EQ(random.NextU64(), words[2]);
}

TEST(SeededRandom, FillOfNothingConsumesNothing) {
  SeededRandom reference(11);
  SeededRandom random(11);
  random.Fill(std::span<uint8_t>());
  EXPECT_EQ(random.NextU64(), reference.NextU64());
}

// ---------------------------------------------------------------------------------------------
// Random::Uniform and Chance.

// Returns scripted values, to check exactly which draws Uniform keeps.
class ScriptedRandom final : public Random {
 public:
  explicit ScriptedRandom(std::deque<uint64_t> values) : values_(std::move(values)) {}
  uint64_t NextU64() override {
    EXPECT_FALSE(values_.empty()) << "drew more values than scripted";
    if (values_.empty()) return 0;
    const uint64_t v = values_.front();
    values_.pop_front();
    ++draws_;
    return v;
  }
  void Fill(std::span<uint8_t> out) override {
    for (uint8_t& b : out) b = static_cast<uint8_t>(NextU64());
  }
  int draws() const { return draws_; }

 private:
  std::deque<uint64_t> values_;
  int draws_ = 0;
};

TEST(RandomUniform, BoundOneIsAlwaysZero) {
  SeededRandom random(1);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(random.Uniform(1), 0u);
}

TEST(RandomUniform, StaysBelowEveryBound) {
  SeededRandom random(2);
  const uint64_t bounds[] = {
      2,         3, 7, 10, 1000, (1ULL << 32) + 1, 1ULL << 63, (1ULL << 63) + 1, UINT64_MAX - 1,
      UINT64_MAX};
  for (uint64_t bound : bounds) {
    for (int i = 0; i < 2000; ++i) ASSERT_LT(random.Uniform(bound), bound) << bound;
  }
}

TEST(RandomUniform, HitsEveryValueOfASmallRangeEvenly) {
  SeededRandom random(3);
  int counts[10] = {};
  for (int i = 0; i < 100000; ++i) ++counts[random.Uniform(10)];
  for (int v = 0; v < 10; ++v) {
    EXPECT_GT(counts[v], 9000) << v;
    EXPECT_LT(counts[v], 11000) << v;
  }
}

TEST(RandomUniform, RejectsDrawsBelowTheBiasThreshold) {
  // 2^64 mod 3 == 1, so a draw of 0 would make 0 slightly more likely; it is redrawn.
  ScriptedRandom random({0, 7});
  EXPECT_EQ(random.Uniform(3), 1u);
  EXPECT_EQ(random.draws(), 2);
}

TEST(RandomUniform, RejectsBiasedDrawsForBoundJustAboveHalfTheRange) {
  // bound 2^63 + 1: 2^64 mod bound == 2^63 - 1, so draws below that are redrawn.
  const uint64_t bound = (1ULL << 63) + 1;
  ScriptedRandom random({(1ULL << 63) - 2, (1ULL << 63) + 5});
  EXPECT_EQ(random.Uniform(bound), 4u);
  EXPECT_EQ(random.draws(), 2);
}

TEST(RandomUniform, AcceptsTheFirstDrawAtTheBiasThreshold) {
  ScriptedRandom random({(1ULL << 63) - 1});
  EXPECT_EQ(random.Uniform((1ULL << 63) + 1), (1ULL << 63) - 1);
  EXPECT_EQ(random.draws(), 1);
}

TEST(RandomUniform, PowerOfTwoBoundNeverRedraws) {
  ScriptedRandom random({0, UINT64_MAX});
  EXPECT_EQ(random.Uniform(8), 0u);
  EXPECT_EQ(random.Uniform(1ULL << 63), (1ULL << 63) - 1);
  EXPECT_EQ(random.draws(), 2);
}

TEST(RandomUniformDeathTest, ZeroBoundAsserts) {
  SeededRandom random(4);
  EXPECT_DEATH((void)random.Uniform(0), "assertion failed");
}

TEST(RandomChance, ZeroNumeratorIsNever) {
  SeededRandom random(5);
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(random.Chance(0, 10));
}

TEST(RandomChance, NumeratorEqualToDenominatorIsAlways) {
  SeededRandom random(6);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(random.Chance(10, 10));
}

TEST(RandomChance, OneInTwoIsAboutHalf) {
  SeededRandom random(7);
  int heads = 0;
  for (int i = 0; i < 100000; ++i) heads += random.Chance(1, 2) ? 1 : 0;
  EXPECT_GT(heads, 48000);
  EXPECT_LT(heads, 52000);
}

// ---------------------------------------------------------------------------------------------
// SystemRandom.

TEST(SystemRandom, TwoFillsDiffer) {
  SystemRandom random;
  uint8_t a[32] = {};
  uint8_t b[32] = {};
  random.Fill(a);
  random.Fill(b);
  EXPECT_NE(std::memcmp(a, b, sizeof(a)), 0);
  const uint8_t zeros[32] = {};
  EXPECT_NE(std::memcmp(a, zeros, sizeof(a)), 0);
}

TEST(SystemRandom, FillsLargeBuffersCompletely) {
  SystemRandom random;
  std::vector<uint8_t> buffer(1 << 20, 0);
  random.Fill(buffer);
  // A 4 KiB run of zeros at the end would mean a short read was not continued.
  size_t trailing_zeros = 0;
  for (auto it = buffer.rbegin(); it != buffer.rend() && *it == 0; ++it) ++trailing_zeros;
  EXPECT_LT(trailing_zeros, 4096u);
}

TEST(SystemRandom, NextU64Varies) {
  SystemRandom random;
  std::set<uint64_t> values;
  for (int i = 0; i < 100; ++i) values.insert(random.NextU64());
  EXPECT_EQ(values.size(), 100u);
}

}  // namespace
}  // namespace tpw
