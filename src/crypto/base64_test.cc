#include "crypto/base64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/test_seed.h"
#include "crypto/test_util.h"

namespace tpw::crypto {
namespace {

using test_support::Bytes;
using test_support::ByteVector;

Base64Error DecodeError(std::string_view text, size_t max = 1024) {
  Result<std::vector<uint8_t>, Base64Error> decoded = Base64UrlDecode(text, max);
  EXPECT_FALSE(decoded.ok()) << "'" << text << "' decoded";
  return decoded.ok() ? Base64Error{} : decoded.error();
}

TEST(Base64UrlTest, MatchesRfc4648VectorsWithoutPadding) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64UrlEncode(Bytes(plain)), encoded);
    EXPECT_EQ(Base64UrlEncodedLength(plain.size()), encoded.size());
    Result<std::vector<uint8_t>, Base64Error> decoded = Base64UrlDecode(encoded, 16);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, ByteVector(plain));
  }
}

TEST(Base64UrlTest, UsesTheUrlSafeAlphabet) {
  const std::vector<uint8_t> bytes = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  EXPECT_EQ(*Base64UrlDecode("-_-_", 3), bytes);
  EXPECT_EQ(DecodeError("+/+/"), Base64Error::invalid_character);
}

TEST(Base64UrlTest, RandomBytesRoundTripAtEveryLength) {
  std::mt19937_64 rng(::tpw::test_support::TestSeed("Base64UrlTest.RandomBytesRoundTrip"));
  for (size_t length = 0; length <= 100; ++length) {
    std::vector<uint8_t> bytes(length);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    const std::string text = Base64UrlEncode(bytes);
    Result<std::vector<uint8_t>, Base64Error> decoded = Base64UrlDecode(text, length);
    ASSERT_TRUE(decoded.ok()) << "length " << length;
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64UrlTest, RejectsPadding) {
  EXPECT_EQ(DecodeError("Zg=="), Base64Error::padding_not_allowed);
  EXPECT_EQ(DecodeError("Zg="), Base64Error::padding_not_allowed);
  EXPECT_EQ(DecodeError("Zm9v===="), Base64Error::padding_not_allowed);
  EXPECT_EQ(DecodeError("="), Base64Error::padding_not_allowed);
}

TEST(Base64UrlTest, RejectsWhitespaceAndForeignCharacters) {
  for (const std::string_view text : std::vector<std::string_view>{
           " Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "Zm\r\n9v", "Zm9v\t", std::string_view("Zm\0v", 4),
           "Zm9+", "Zm9/", "Zm.v", "Zm9\xc3\xa9"}) {
    EXPECT_EQ(DecodeError(text), Base64Error::invalid_character) << "'" << text << "'";
  }
}

TEST(Base64UrlTest, RejectsImpossibleLengths) {
  EXPECT_EQ(DecodeError("Z"), Base64Error::invalid_length);
  EXPECT_EQ(DecodeError("Zm9vY"), Base64Error::invalid_length);
}

TEST(Base64UrlTest, RejectsNonZeroTrailingBits) {
  EXPECT_EQ(DecodeError("Zh"), Base64Error::non_canonical);   // 'f' with trailing bits 0001
  EXPECT_EQ(DecodeError("Zm9"), Base64Error::non_canonical);  // "fo" with trailing bits 01
  EXPECT_TRUE(Base64UrlDecode("Zg", 1).ok());
  EXPECT_TRUE(Base64UrlDecode("Zm8", 2).ok());
}

TEST(Base64UrlTest, EveryByteStringHasExactlyOneEncoding) {
  // Two characters carry 12 bits for 8 bits of data, three carry 18 for 16: only 64/16 and 64/4
  // of the possible last characters are canonical.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  int two_ok = 0;
  int three_ok = 0;
  for (const char last : alphabet) {
    two_ok += Base64UrlDecode(std::string("Q") + last, 8).ok() ? 1 : 0;
    three_ok += Base64UrlDecode(std::string("QU") + last, 8).ok() ? 1 : 0;
  }
  EXPECT_EQ(two_ok, 4);
  EXPECT_EQ(three_ok, 16);
}

TEST(Base64UrlTest, EnforcesTheDecodedLengthLimit) {
  EXPECT_TRUE(Base64UrlDecode("Zm9vYmFy", 6).ok());
  EXPECT_EQ(DecodeError("Zm9vYmFy", 5), Base64Error::too_long);
  EXPECT_EQ(DecodeError("Zm9vYmE", 4), Base64Error::too_long);
  EXPECT_TRUE(Base64UrlDecode("", 0).ok());
  // A huge input is refused from its length alone, before its characters are scanned.
  const std::string huge(size_t{8} << 20, '!');
  EXPECT_EQ(DecodeError(huge, 1024), Base64Error::too_long);
}

TEST(Base64ErrorTest, EveryCodeHasANameAndAMessage) {
  for (const Base64Error error :
       {Base64Error::too_long, Base64Error::invalid_character, Base64Error::padding_not_allowed,
        Base64Error::invalid_length, Base64Error::non_canonical}) {
    EXPECT_FALSE(Base64ErrorName(error).empty());
    EXPECT_FALSE(Base64ErrorMessage(error).empty());
  }
  EXPECT_EQ(Base64ErrorName(Base64Error::non_canonical), "non_canonical");
}

}  // namespace
}  // namespace tpw::crypto
