#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "crypto/hash.h"
#include "crypto/limits.h"
#include "crypto/secret_access.h"
#include "crypto/test_util.h"

namespace tpw::crypto {
namespace {

using test_support::Bytes;
using test_support::Hex;
using test_support::HexArray;

// draft-irtf-cfrg-xchacha-03, appendix A.3.1 (AEAD_XChaCha20_Poly1305 test vector).
constexpr std::string_view kDraftKey =
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
constexpr std::string_view kDraftNonce = "404142434445464748494a4b4c4d4e4f5051525354555657";
constexpr std::string_view kDraftAd = "50515253c0c1c2c3c4c5c6c7";
constexpr std::string_view kDraftPlaintext =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
    "sunscreen would be it.";
constexpr std::string_view kDraftCiphertext =
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
    "21f9664c97637da9768812f615c68b13b52e";
constexpr std::string_view kDraftTag = "c0875924c1c7987947deafd8780acf49";

AeadKey DraftKey() { return AeadKey::FromBytes(HexArray<kAeadKeyBytes>(kDraftKey)); }

TEST(AeadTest, XChaChaDraftVectorSealsAndOpens) {
  const AeadKey key = DraftKey();
  const AeadNonce nonce{HexArray<kAeadNonceBytes>(kDraftNonce)};
  const std::vector<uint8_t> ad = Hex(kDraftAd);
  std::vector<uint8_t> sealed(kDraftPlaintext.size() + kAeadTagBytes);
  AeadSealWithNonce(key, nonce, Bytes(kDraftPlaintext), ad, sealed);
  EXPECT_EQ(ToHex(sealed), std::string(kDraftCiphertext) + std::string(kDraftTag));

  std::vector<uint8_t> opened(kDraftPlaintext.size());
  ASSERT_TRUE(AeadOpenWithNonce(key, nonce, sealed, ad, opened).ok());
  EXPECT_EQ(std::string(opened.begin(), opened.end()), kDraftPlaintext);
}

TEST(AeadTest, SealThenOpenRoundTrips) {
  const AeadKey key = AeadKey::Generate();
  const std::vector<uint8_t> sealed = AeadSeal(key, Bytes("secret"), Bytes("header"));
  EXPECT_EQ(sealed.size(), 6 + kAeadSealOverheadBytes);
  Result<std::vector<uint8_t>, AeadError> opened = AeadOpen(key, sealed, Bytes("header"));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(std::string(opened->begin(), opened->end()), "secret");
}

TEST(AeadTest, EmptyPlaintextAndEmptyAssociatedDataRoundTrip) {
  const AeadKey key = AeadKey::Generate();
  const std::vector<uint8_t> sealed = AeadSeal(key, {}, {});
  EXPECT_EQ(sealed.size(), kAeadSealOverheadBytes);
  Result<std::vector<uint8_t>, AeadError> opened = AeadOpen(key, sealed, {});
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->empty());
}

TEST(AeadTest, EverySealUsesAFreshNonce) {
  const AeadKey key = AeadKey::Generate();
  std::set<std::vector<uint8_t>> seen;
  for (int i = 0; i < 64; ++i) seen.insert(AeadSeal(key, Bytes("same"), Bytes("same")));
  EXPECT_EQ(seen.size(), 64u);
}

TEST(AeadTest, FlippingAnyByteFailsAuthentication) {
  const AeadKey key = AeadKey::Generate();
  const std::vector<uint8_t> sealed = AeadSeal(key, Bytes("pay 100 to merchant 7"), Bytes("ad"));
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (const uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::vector<uint8_t> tampered = sealed;
      tampered[i] ^= mask;
      Result<std::vector<uint8_t>, AeadError> opened = AeadOpen(key, tampered, Bytes("ad"));
      ASSERT_FALSE(opened.ok()) << "byte " << i;
      EXPECT_EQ(opened.error(), AeadError::authentication_failed);
    }
  }
}

TEST(AeadTest, WrongKeyOrAssociatedDataFailsAuthentication) {
  const AeadKey key = AeadKey::Generate();
  const std::vector<uint8_t> sealed = AeadSeal(key, Bytes("m"), Bytes("record 1"));
  Result<std::vector<uint8_t>, AeadError> wrong_ad = AeadOpen(key, sealed, Bytes("record 2"));
  ASSERT_FALSE(wrong_ad.ok());
  EXPECT_EQ(wrong_ad.error(), AeadError::authentication_failed);
  Result<std::vector<uint8_t>, AeadError> no_ad = AeadOpen(key, sealed, {});
  ASSERT_FALSE(no_ad.ok());
  Result<std::vector<uint8_t>, AeadError> wrong_key =
      AeadOpen(AeadKey::Generate(), sealed, Bytes("record 1"));
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_EQ(wrong_key.error(), AeadError::authentication_failed);
}

TEST(AeadTest, TruncationAtEveryLengthIsRejected) {
  const AeadKey key = AeadKey::Generate();
  const std::vector<uint8_t> sealed = AeadSeal(key, Bytes("0123456789"), {});
  for (size_t length = 0; length < sealed.size(); ++length) {
    Result<std::vector<uint8_t>, AeadError> opened =
        AeadOpen(key, std::span<const uint8_t>(sealed).first(length), {});
    ASSERT_FALSE(opened.ok()) << "length " << length;
    EXPECT_EQ(opened.error(), length < kAeadSealOverheadBytes ? AeadError::too_short
                                                              : AeadError::authentication_failed)
        << "length " << length;
  }
  std::vector<uint8_t> extended = sealed;
  extended.push_back(0);
  EXPECT_FALSE(AeadOpen(key, extended, {}).ok());
}

TEST(AeadTest, OversizedInputIsRejectedBeforeDecrypting) {
  const AeadKey key = AeadKey::Generate();
  const std::vector<uint8_t> huge(kAeadPlaintextBytesMax + kAeadSealOverheadBytes + 1);
  Result<std::vector<uint8_t>, AeadError> opened = AeadOpen(key, huge, {});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error(), AeadError::too_large);
}

TEST(AeadTest, FailedOpenLeavesOutputZeroed) {
  const AeadKey key = AeadKey::Generate();
  const AeadNonce nonce = RandomAeadNonce();
  std::vector<uint8_t> sealed(4 + kAeadTagBytes);
  AeadSealWithNonce(key, nonce, Bytes("abcd"), {}, sealed);
  sealed.back() ^= 1;
  std::vector<uint8_t> out(4, 0xee);
  const Status<AeadError> opened = AeadOpenWithNonce(key, nonce, sealed, {}, out);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error(), AeadError::authentication_failed);
  EXPECT_EQ(out, std::vector<uint8_t>(4, 0));
  std::vector<uint8_t> short_out(2, 0xee);
  EXPECT_EQ(AeadOpenWithNonce(key, nonce, std::span<const uint8_t>(sealed).first(3), {}, short_out)
                .error(),
            AeadError::too_short);
  EXPECT_EQ(short_out, std::vector<uint8_t>(2, 0));
}

static_assert(!std::is_copy_constructible_v<AeadKey>);
static_assert(std::is_nothrow_move_constructible_v<AeadKey>);

TEST(AeadKeyTest, MovedFromKeyIsWiped) {
  AeadKey key = DraftKey();
  AeadKey moved = std::move(key);
  const auto source = internal::SecretAccess::Bytes(key);  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(std::all_of(source.begin(), source.end(), [](uint8_t b) { return b == 0; }));
  EXPECT_EQ(ToHex(internal::SecretAccess::Bytes(moved)), kDraftKey);
}

TEST(AeadErrorTest, EveryCodeHasANameAndAMessage) {
  for (const AeadError error :
       {AeadError::too_short, AeadError::too_large, AeadError::authentication_failed}) {
    EXPECT_FALSE(AeadErrorName(error).empty());
    EXPECT_FALSE(AeadErrorMessage(error).empty());
  }
  EXPECT_EQ(AeadErrorName(AeadError::authentication_failed), "authentication_failed");
  EXPECT_EQ(static_cast<int>(AeadError::authentication_failed), 3);
}

}  // namespace
}  // namespace tpw::crypto
