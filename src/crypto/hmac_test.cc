#include "crypto/hmac.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/hash.h"
#include "crypto/test_util.h"

namespace tpw::crypto {
namespace {

using test_support::Bytes;
using test_support::Hex;

struct Rfc4231Case {
  int number;
  std::vector<uint8_t> key;
  std::vector<uint8_t> data;
  std::string hmac_sha256;  // hex; test case 5 is truncated to 128 bits by the RFC
};

std::vector<Rfc4231Case> Rfc4231Cases() {
  const std::vector<uint8_t> key_aa_131(131, 0xaa);
  return {
      {1, std::vector<uint8_t>(20, 0x0b), test_support::ByteVector("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {2, test_support::ByteVector("Jefe"),
       test_support::ByteVector("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {3, std::vector<uint8_t>(20, 0xaa), std::vector<uint8_t>(50, 0xdd),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {4, Hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::vector<uint8_t>(50, 0xcd),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {5, std::vector<uint8_t>(20, 0x0c), test_support::ByteVector("Test With Truncation"),
       "a3b6167473100ee06e0c796c2955552b"},
      {6, key_aa_131,
       test_support::ByteVector("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {7, key_aa_131,
       test_support::ByteVector(
           "This is a test using a larger than block-size key and a larger than block-size "
           "data. The key needs to be hashed before being used by the HMAC algorithm."),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
}

TEST(HmacSha256Test, MatchesRfc4231TestCases) {
  for (const Rfc4231Case& c : Rfc4231Cases()) {
    const HmacSha256Tag tag = HmacSha256(c.key, c.data);
    // Case 5 publishes only the first 128 bits.
    EXPECT_EQ(ToHex(std::span<const uint8_t>(tag.bytes).first(c.hmac_sha256.size() / 2)),
              c.hmac_sha256)
        << "RFC 4231 test case " << c.number;
    EXPECT_TRUE(HmacSha256Verify(c.key, c.data, tag.bytes)) << "test case " << c.number;
  }
}

TEST(HmacSha256Test, VerifyRejectsEveryBitFlipOfTheTag) {
  const std::vector<uint8_t> key(32, 0x42);
  const HmacSha256Tag tag = HmacSha256(key, Bytes("1700000000.{\"event\":\"paid\"}"));
  for (size_t bit = 0; bit < kHmacSha256Bytes * 8; ++bit) {
    HmacSha256Tag flipped = tag;
    flipped.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(HmacSha256Verify(key, Bytes("1700000000.{\"event\":\"paid\"}"), flipped.bytes))
        << "bit " << bit;
  }
}

TEST(HmacSha256Test, VerifyRejectsWrongKeyMessageOrLength) {
  const std::vector<uint8_t> key(32, 0x42);
  const HmacSha256Tag tag = HmacSha256(key, Bytes("body"));
  EXPECT_TRUE(HmacSha256Verify(key, Bytes("body"), tag.bytes));
  EXPECT_FALSE(HmacSha256Verify(std::vector<uint8_t>(32, 0x43), Bytes("body"), tag.bytes));
  EXPECT_FALSE(HmacSha256Verify(key, Bytes("body "), tag.bytes));
  // Truncated or extended tags never verify, even when the prefix is right.
  EXPECT_FALSE(HmacSha256Verify(key, Bytes("body"), std::span<const uint8_t>(tag.bytes).first(16)));
  EXPECT_FALSE(HmacSha256Verify(key, Bytes("body"), {}));
  std::vector<uint8_t> extended(tag.bytes.begin(), tag.bytes.end());
  extended.push_back(0);
  EXPECT_FALSE(HmacSha256Verify(key, Bytes("body"), extended));
}

}  // namespace
}  // namespace tpw::crypto
