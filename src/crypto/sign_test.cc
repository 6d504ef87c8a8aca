#include "crypto/sign.h"

#include <gtest/gtest.h>

#include <array>
#include <span>
#include <type_traits>
#include <vector>

#include "crypto/hash.h"
#include "crypto/limits.h"
#include "crypto/secret_access.h"
#include "crypto/sign_internal.h"
#include "crypto/test_util.h"

namespace tpw::crypto {
namespace {

using test_support::Bytes;
using test_support::Hex;
using test_support::HexArray;

constexpr std::string_view kDomainA = "tpwallet/v1/device-certificate";
constexpr std::string_view kDomainB = "tpwallet/v1/payment-token";

// RFC 8032 section 7.1, TEST 1 and TEST 2 ("SECRET KEY" is the 32-byte seed).
constexpr std::string_view kRfcSeed1 =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kRfcPublic1 =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view kRfcSignature1 =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
constexpr std::string_view kRfcSeed2 =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
constexpr std::string_view kRfcPublic2 =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
constexpr std::string_view kRfcSignature2 =
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
constexpr std::string_view kGroupOrderL =
    "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

SecretKey KeyFromHexSeed(std::string_view hex) {
  return SigningKeyFromSeed(HexArray<kSigningSeedBytes>(hex));
}

PublicKey PublicKeyFromHex(std::string_view hex) {
  return PublicKey{HexArray<kPublicKeyBytes>(hex)};
}

Signature SignatureFromHex(std::string_view hex) {
  return Signature{HexArray<kSignatureBytes>(hex)};
}

// Little-endian 256-bit a + b (no overflow for the values used here: S, L < 2^253).
std::array<uint8_t, 32> Add256(std::span<const uint8_t, 32> a, std::span<const uint8_t, 32> b) {
  std::array<uint8_t, 32> sum{};
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    const unsigned s = unsigned{a[i]} + unsigned{b[i]} + carry;
    sum[i] = static_cast<uint8_t>(s);
    carry = s >> 8;
  }
  EXPECT_EQ(carry, 0u);
  return sum;
}

TEST(Ed25519Test, Rfc8032Test1SeedGivesPublicKeyAndSignature) {
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  EXPECT_EQ(ToHex(key.public_key().bytes), kRfcPublic1);
  const Signature signature = internal::Ed25519SignRaw(key, {});
  EXPECT_EQ(ToHex(signature.bytes), kRfcSignature1);
  EXPECT_TRUE(internal::Ed25519VerifyRaw(PublicKeyFromHex(kRfcPublic1), {},
                                         SignatureFromHex(kRfcSignature1)));
}

TEST(Ed25519Test, Rfc8032Test2SeedGivesPublicKeyAndSignature) {
  const SecretKey key = KeyFromHexSeed(kRfcSeed2);
  EXPECT_EQ(ToHex(key.public_key().bytes), kRfcPublic2);
  const std::vector<uint8_t> message = {0x72};
  const Signature signature = internal::Ed25519SignRaw(key, message);
  EXPECT_EQ(ToHex(signature.bytes), kRfcSignature2);
  EXPECT_TRUE(internal::Ed25519VerifyRaw(PublicKeyFromHex(kRfcPublic2), message,
                                         SignatureFromHex(kRfcSignature2)));
}

TEST(Ed25519Test, SignedBytesAreDomainThenNulThenMessage) {
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  const Signature signature = Sign(key, "tpwallet/v1/test", Bytes("abc"));
  const std::vector<uint8_t> expected_bytes =
      test_support::ByteVector(std::string_view("tpwallet/v1/test\0abc", 20));
  EXPECT_EQ(internal::DomainSeparatedBytes("tpwallet/v1/test", Bytes("abc")), expected_bytes);
  EXPECT_TRUE(internal::Ed25519VerifyRaw(key.public_key(), expected_bytes, signature));
  // Interoperability vector, computed independently (Python `cryptography`, OpenSSL's Ed25519)
  // over the same bytes: another implementation of Sign must reproduce it.
  EXPECT_EQ(ToHex(signature.bytes),
            "be19d57c8cc87eb583d689a45c3b8456009e3eba5a4c58e345c74c5ce4beda6f"
            "233fb7a18f2a1a64b91495b57fadaa4e978d662e01e613fd98d6d3c1cff1b007");
}

TEST(Ed25519Test, SignatureRoundTripsAndIsDeterministic) {
  const SecretKey key = GenerateSigningKey();
  const Signature signature = Sign(key, kDomainA, Bytes("certificate body"));
  EXPECT_TRUE(Verify(key.public_key(), kDomainA, Bytes("certificate body"), signature));
  EXPECT_EQ(Sign(key, kDomainA, Bytes("certificate body")), signature);
  EXPECT_TRUE(Verify(key.public_key(), kDomainA, {}, Sign(key, kDomainA, {})));
}

TEST(Ed25519Test, GeneratedKeysAreDistinct) {
  const SecretKey a = GenerateSigningKey();
  const SecretKey b = GenerateSigningKey();
  EXPECT_NE(a.public_key(), b.public_key());
  const Signature signature = Sign(a, kDomainA, Bytes("m"));
  EXPECT_FALSE(Verify(b.public_key(), kDomainA, Bytes("m"), signature));
}

TEST(Ed25519Test, SignatureUnderOneDomainFailsUnderAnother) {
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  const Signature signature = Sign(key, kDomainA, Bytes("same bytes"));
  EXPECT_TRUE(Verify(key.public_key(), kDomainA, Bytes("same bytes"), signature));
  EXPECT_FALSE(Verify(key.public_key(), kDomainB, Bytes("same bytes"), signature));
  // Nor does a raw signature of the message alone verify under any domain.
  const Signature raw = internal::Ed25519SignRaw(key, Bytes("same bytes"));
  EXPECT_FALSE(Verify(key.public_key(), kDomainA, Bytes("same bytes"), raw));
}

TEST(Ed25519Test, DomainBoundaryCannotBeShifted) {
  // "tpw/ab" || 0 || "x" and "tpw/a" || 0 || "b\0x" differ because a domain has no NUL: moving
  // bytes between the domain and the message always changes the signed bytes.
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  const Signature signature = Sign(key, "tpw/ab", Bytes("x"));
  EXPECT_FALSE(Verify(key.public_key(), "tpw/a", Bytes(std::string_view("b\0x", 3)), signature));
  EXPECT_FALSE(Verify(key.public_key(), "tpw/abx", {}, signature));
}

TEST(Ed25519Test, ChangedMessageOrWrongKeyFails) {
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  const Signature signature = Sign(key, kDomainA, Bytes("amount=100"));
  EXPECT_FALSE(Verify(key.public_key(), kDomainA, Bytes("amount=101"), signature));
  EXPECT_FALSE(Verify(key.public_key(), kDomainA, Bytes("amount=10"), signature));
  EXPECT_FALSE(Verify(PublicKeyFromHex(kRfcPublic2), kDomainA, Bytes("amount=100"), signature));
}

TEST(Ed25519Test, EveryBitFlipOfSignatureOrPublicKeyFails) {
  const SecretKey key = KeyFromHexSeed(kRfcSeed2);
  const Signature signature = Sign(key, kDomainA, Bytes("payload"));
  for (size_t bit = 0; bit < kSignatureBytes * 8; ++bit) {
    Signature flipped = signature;
    flipped.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(Verify(key.public_key(), kDomainA, Bytes("payload"), flipped)) << "bit " << bit;
  }
  for (size_t bit = 0; bit < kPublicKeyBytes * 8; ++bit) {
    PublicKey flipped = key.public_key();
    flipped.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(Verify(flipped, kDomainA, Bytes("payload"), signature)) << "bit " << bit;
  }
}

TEST(Ed25519Test, MalleatedSignatureWithSPlusLIsRejected) {
  // S + L is congruent to S, so a lax verifier would accept it as a second valid signature.
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  const Signature signature = Sign(key, kDomainA, Bytes("token"));
  const std::array<uint8_t, 32> order = HexArray<32>(kGroupOrderL);
  Signature malleated = signature;
  const std::array<uint8_t, 32> s_plus_l =
      Add256(std::span<const uint8_t, 32>(signature.bytes.data() + 32, 32), order);
  std::copy(s_plus_l.begin(), s_plus_l.end(), malleated.bytes.begin() + 32);
  EXPECT_TRUE(Verify(key.public_key(), kDomainA, Bytes("token"), signature));
  EXPECT_FALSE(Verify(key.public_key(), kDomainA, Bytes("token"), malleated));
}

TEST(Ed25519Test, SignatureWithSAtLeastLIsRejected) {
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  Signature signature = Sign(key, kDomainA, Bytes("token"));
  const std::vector<uint8_t> order = Hex(kGroupOrderL);
  std::copy(order.begin(), order.end(), signature.bytes.begin() + 32);  // S = L
  EXPECT_FALSE(Verify(key.public_key(), kDomainA, Bytes("token"), signature));
  std::fill(signature.bytes.begin() + 32, signature.bytes.end(), 0xff);  // S = 2^256 - 1
  EXPECT_FALSE(Verify(key.public_key(), kDomainA, Bytes("token"), signature));
}

TEST(Ed25519Test, AllZeroPublicKeyIsRejected) {
  // 32 zero bytes decode to a point of order 4.
  const PublicKey zero{};
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  EXPECT_FALSE(Verify(zero, kDomainA, Bytes("m"), Sign(key, kDomainA, Bytes("m"))));
  EXPECT_FALSE(Verify(zero, kDomainA, Bytes("m"), Signature{}));
}

TEST(Ed25519Test, IdentityPublicKeyWithTrivialSignatureIsRejected) {
  // With A = identity, R = identity and S = 0, the equation [S]B = R + [k]A holds for every
  // message: a lax verifier would accept this "signature" of anything.
  PublicKey identity{};
  identity.bytes[0] = 0x01;
  Signature trivial{};
  trivial.bytes[0] = 0x01;  // R = identity, S = 0
  EXPECT_FALSE(Verify(identity, kDomainA, Bytes("anything"), trivial));
  EXPECT_FALSE(Verify(identity, kDomainA, {}, trivial));
}

TEST(Ed25519Test, NonCanonicalPublicKeyEncodingIsRejected) {
  // y = p + 1 (a non-canonical encoding of the identity's y = 1) and y = p (of y = 0).
  PublicKey p_plus_one{};
  std::fill(p_plus_one.bytes.begin(), p_plus_one.bytes.end(), 0xff);
  p_plus_one.bytes[0] = 0xee;
  p_plus_one.bytes[31] = 0x7f;
  PublicKey p = p_plus_one;
  p.bytes[0] = 0xed;
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  const Signature signature = Sign(key, kDomainA, Bytes("m"));
  EXPECT_FALSE(Verify(p_plus_one, kDomainA, Bytes("m"), signature));
  EXPECT_FALSE(Verify(p, kDomainA, Bytes("m"), signature));
}

TEST(Ed25519Test, SmallOrderRIsRejected) {
  // A valid S with R replaced by the identity point.
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  Signature signature = Sign(key, kDomainA, Bytes("m"));
  std::fill(signature.bytes.begin(), signature.bytes.begin() + 32, 0);
  signature.bytes[0] = 0x01;
  EXPECT_FALSE(Verify(key.public_key(), kDomainA, Bytes("m"), signature));
}

TEST(Ed25519Test, SigningDomainRules) {
  EXPECT_TRUE(IsValidSigningDomain("tpwallet/v1/device-certificate"));
  EXPECT_TRUE(IsValidSigningDomain(std::string(kSigningDomainBytesMax, 'd')));
  EXPECT_FALSE(IsValidSigningDomain(""));
  EXPECT_FALSE(IsValidSigningDomain(std::string(kSigningDomainBytesMax + 1, 'd')));
  EXPECT_FALSE(IsValidSigningDomain(std::string_view("a\0b", 3)));
  EXPECT_FALSE(IsValidSigningDomain("has space"));
  EXPECT_FALSE(IsValidSigningDomain("tab\t"));
  EXPECT_FALSE(IsValidSigningDomain("\x80"));
}

TEST(Ed25519DeathTest, InvalidDomainIsAProgrammerError) {
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  EXPECT_DEATH((void)Sign(key, "", Bytes("m")), "invalid signing domain");
  EXPECT_DEATH((void)Verify(key.public_key(), std::string_view("a\0", 2), Bytes("m"), Signature{}),
               "invalid signing domain");
}

// A SecretKey cannot be copied, printed through a byte view, or turned into a span by accident.
static_assert(!std::is_copy_constructible_v<SecretKey>);
static_assert(!std::is_copy_assignable_v<SecretKey>);
static_assert(std::is_nothrow_move_constructible_v<SecretKey>);
static_assert(std::is_nothrow_move_assignable_v<SecretKey>);
static_assert(!std::is_convertible_v<const SecretKey&, std::span<const uint8_t>>);
static_assert(!std::is_default_constructible_v<SecretKey>);

TEST(SecretKeyTest, MoveLeavesSourceEmptyAndKeyUsable) {
  SecretKey original = KeyFromHexSeed(kRfcSeed1);
  const PublicKey public_key = original.public_key();
  SecretKey moved = std::move(original);
  EXPECT_TRUE(original.empty());  // NOLINT(bugprone-use-after-move): the documented state
  EXPECT_FALSE(moved.empty());
  EXPECT_EQ(moved.public_key(), public_key);
  EXPECT_TRUE(Verify(public_key, kDomainA, Bytes("m"), Sign(moved, kDomainA, Bytes("m"))));
  SecretKey other = GenerateSigningKey();
  other = std::move(moved);
  EXPECT_EQ(other.public_key(), public_key);
}

TEST(SecretKeyDeathTest, SigningWithAMovedFromKeyAsserts) {
  SecretKey key = KeyFromHexSeed(kRfcSeed1);
  SecretKey taken = std::move(key);
  EXPECT_DEATH((void)Sign(key, kDomainA, Bytes("m")), "empty");  // NOLINT(bugprone-use-after-move)
}

TEST(SecretKeyDeathTest, KeyMemoryIsReadOnly) {
  const SecretKey key = KeyFromHexSeed(kRfcSeed1);
  const std::span<const uint8_t> bytes = internal::SecretAccess::Bytes(key);
  EXPECT_EQ(bytes.size(), kSecretKeyBytes);
  // A stray write through a dangling or miscast pointer faults instead of corrupting the key.
  EXPECT_DEATH(*const_cast<volatile uint8_t*>(bytes.data()) = 0, "");
}

}  // namespace
}  // namespace tpw::crypto
