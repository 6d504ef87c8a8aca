#include "journal/crc32c.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/clock.h"

namespace tpw::journal {
namespace {

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Test vectors from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check value.
TEST(Crc32cTest, MatchesPublishedVectors) {
  EXPECT_EQ(Crc32c(Bytes("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::vector<uint8_t>(32, 0x00)), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::vector<uint8_t>(32, 0xFF)), 0x62A8AB43u);
  std::vector<uint8_t> ascending(32);
  for (size_t i = 0; i < ascending.size(); ++i) ascending[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  std::vector<uint8_t> descending(32);
  for (size_t i = 0; i < descending.size(); ++i) descending[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
  EXPECT_EQ(Crc32c({}), 0u);
}

TEST(Crc32cTest, PortableAndHardwareAgreeOnEveryLengthAndAlignment) {
  SeededRandom random(42);
  std::vector<uint8_t> data(4096 + 16);
  random.Fill(data);
  for (size_t offset = 0; offset < 9; ++offset) {
    for (size_t length : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 63u, 64u, 65u, 1000u, 4096u}) {
      const std::span<const uint8_t> slice(data.data() + offset, length);
      const uint32_t portable = Crc32cExtendPortable(0, slice);
      EXPECT_EQ(Crc32c(slice), portable) << offset << " " << length;
      if (Crc32cHardwareAvailable()) {
        EXPECT_EQ(Crc32cExtendHardware(0, slice), portable) << offset << " " << length;
      }
    }
  }
}

TEST(Crc32cTest, ExtendEqualsCrcOfConcatenation) {
  const std::string text = "hello, journal of record";
  for (size_t split = 0; split <= text.size(); ++split) {
    const std::string_view view = text;
    EXPECT_EQ(Crc32cExtend(Crc32c(Bytes(view.substr(0, split))), Bytes(view.substr(split))),
              Crc32c(Bytes(text)));
  }
}

TEST(Crc32cTest, SingleBitFlipsChangeTheChecksum) {
  std::vector<uint8_t> data(256, 0x5a);
  const uint32_t original = Crc32c(data);
  for (size_t i = 0; i < data.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      data[i] ^= static_cast<uint8_t>(1 << bit);
      EXPECT_NE(Crc32c(data), original);
      data[i] ^= static_cast<uint8_t>(1 << bit);
    }
  }
}

}  // namespace
}  // namespace tpw::journal
