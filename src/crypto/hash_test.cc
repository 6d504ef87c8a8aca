#include "crypto/hash.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tpw::crypto {
namespace {

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Reference digests: BLAKE2b with a 32-byte output (RFC 7693 parameters, no key).
TEST(Blake2b256Test, EmptyInputMatchesReferenceDigest) {
  EXPECT_EQ(HashToHex(Blake2b256({})),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST(Blake2b256Test, AbcMatchesReferenceDigest) {
  EXPECT_EQ(HashToHex(Blake2b256(Bytes("abc"))),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(Blake2b256Test, IncrementalEqualsOneShotForEverySplit) {
  const std::string text = "the quick brown fox jumps over the lazy dog, twice over";
  const Hash256 expected = Blake2b256(Bytes(text));
  for (size_t split = 0; split <= text.size(); ++split) {
    Blake2b256Hasher hasher;
    hasher.Update(Bytes(std::string_view(text).substr(0, split)));
    hasher.Update(Bytes(std::string_view(text).substr(split)));
    EXPECT_EQ(hasher.Finish(), expected) << "split " << split;
  }
}

TEST(Blake2b256Test, DifferentInputsGiveDifferentDigests) {
  EXPECT_NE(Blake2b256(Bytes("a")), Blake2b256(Bytes("b")));
}

TEST(Blake2b256Test, InitializationIsSafeFromManyThreads) {
  std::vector<std::thread> threads;
  std::vector<Hash256> results(8);
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&results, i] { results[i] = Blake2b256(Bytes("abc")); });
  }
  for (std::thread& t : threads) t.join();
  for (const Hash256& h : results) EXPECT_EQ(h, Blake2b256(Bytes("abc")));
}

TEST(ConstantTimeEqualTest, EqualSpansAreEqual) {
  EXPECT_TRUE(ConstantTimeEqual(Bytes("secret"), Bytes("secret")));
  EXPECT_TRUE(ConstantTimeEqual({}, {}));
}

TEST(ConstantTimeEqualTest, DifferentContentsOrLengthsAreNotEqual) {
  EXPECT_FALSE(ConstantTimeEqual(Bytes("secret"), Bytes("secreT")));
  EXPECT_FALSE(ConstantTimeEqual(Bytes("secret"), Bytes("secre")));
  EXPECT_FALSE(ConstantTimeEqual(Bytes(""), Bytes("x")));
}

TEST(HashHexTest, RoundTripsAndAcceptsUpperCase) {
  const Hash256 hash = Blake2b256(Bytes("abc"));
  const std::string hex = HashToHex(hash);
  ASSERT_EQ(hex.size(), 64u);
  EXPECT_EQ(HashFromHex(hex), hash);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(HashFromHex(upper), hash);
}

TEST(HashHexTest, RejectsWrongLengthOrNonHexDigits) {
  const std::string hex = HashToHex(Blake2b256(Bytes("abc")));
  EXPECT_FALSE(HashFromHex(hex.substr(1)).has_value());
  EXPECT_FALSE(HashFromHex(hex + "0").has_value());
  std::string bad = hex;
  bad[10] = 'g';
  EXPECT_FALSE(HashFromHex(bad).has_value());
  EXPECT_FALSE(HashFromHex("").has_value());
}

}  // namespace
}  // namespace tpw::crypto
