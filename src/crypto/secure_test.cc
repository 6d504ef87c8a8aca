#include "crypto/secure.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <type_traits>

namespace tpw::crypto {
namespace {

bool AllZero(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

TEST(RandomBytesTest, FillsBuffersWithFreshBytes) {
  std::array<uint8_t, 32> a{};
  std::array<uint8_t, 32> b{};
  RandomBytes(a);
  RandomBytes(b);
  EXPECT_FALSE(AllZero(a));  // probability 2^-256
  EXPECT_NE(a, b);
  RandomBytes({});  // an empty span is fine
}

TEST(SecureWipeTest, ZeroesByteAndCharBuffers) {
  std::array<uint8_t, 16> bytes{};
  bytes.fill(0xab);
  SecureWipe(bytes);
  EXPECT_TRUE(AllZero(bytes));
  std::string text = "correct horse";
  SecureWipe(std::span<char>(text));
  EXPECT_EQ(text, std::string(13, '\0'));
}

static_assert(!std::is_copy_constructible_v<SecureBuffer>);
static_assert(std::is_nothrow_move_constructible_v<SecureBuffer>);

TEST(SecureBufferTest, StartsZeroedAndMovesOwnership) {
  SecureBuffer buffer(48);
  ASSERT_EQ(buffer.size(), 48u);
  EXPECT_TRUE(AllZero(buffer.bytes()));
  buffer.mutable_bytes()[0] = 7;
  SecureBuffer moved = std::move(buffer);
  EXPECT_TRUE(buffer.empty());  // NOLINT(bugprone-use-after-move): the documented state
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(moved.bytes()[0], 7);
  SecureBuffer assigned(8);
  assigned = std::move(moved);
  EXPECT_EQ(assigned.size(), 48u);
  EXPECT_EQ(assigned.bytes()[0], 7);
}

TEST(SecureBufferDeathTest, WriteAfterMakeReadOnlyFaults) {
  SecureBuffer buffer(32);
  buffer.MakeReadOnly();
  EXPECT_EQ(buffer.bytes().size(), 32u);
  EXPECT_DEATH(buffer.mutable_bytes(), "read-only");
  EXPECT_DEATH(*const_cast<volatile uint8_t*>(buffer.bytes().data()) = 1, "");
}

TEST(SecureBufferDeathTest, OverrunHitsTheGuardPage) {
  SecureBuffer buffer(64);
  volatile uint8_t* end = buffer.mutable_bytes().data() + buffer.size();
  EXPECT_DEATH(end[0] = 1, "");
}

TEST(SecureBufferDeathTest, EmptyBufferHasNoBytes) {
  SecureBuffer empty;
  EXPECT_DEATH((void)empty.bytes(), "empty");
}

}  // namespace
}  // namespace tpw::crypto
