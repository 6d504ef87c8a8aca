#include "crypto/keystore.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/test_seed.h"
#include "crypto/hash.h"
#include "crypto/keystore_internal.h"
#include "crypto/sign.h"
#include "crypto/test_util.h"

namespace tpw::crypto {
namespace {

using test_support::Bytes;
using test_support::HexArray;

constexpr KdfParams kFast = kKdfFastInsecureForTests;
constexpr std::string_view kLabel = "device 42";
constexpr std::string_view kDomain = "tpwallet/v1/test";
// Offsets from docs/keystore-format.md.
constexpr size_t kVersionOffset = 8;
constexpr size_t kLabelLengthOffset = 13;
constexpr size_t kOpslimitOffset = 14;
constexpr size_t kMemlimitOffset = 18;
constexpr size_t kSaltOffset = 22;
constexpr size_t kPublicKeyOffset = 38;
constexpr size_t kNonceOffset = 70;
constexpr size_t kLabelOffset = 94;

Passphrase MakePassphrase(std::string_view text) {
  Result<Passphrase, KeystoreError> passphrase = Passphrase::Copy(text);
  TPW_ASSERT(passphrase.ok());
  return std::move(passphrase).value();
}

SecretKey TestKey() {
  return SigningKeyFromSeed(HexArray<kSigningSeedBytes>(
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
}

std::vector<uint8_t> FastKeystore(const SecretKey& key, std::string_view passphrase = "hunter2",
                                  std::string_view label = kLabel) {
  Result<std::vector<uint8_t>, KeystoreError> encoded =
      EncodeKeystore(key, MakePassphrase(passphrase), label, kFast);
  TPW_ASSERT(encoded.ok());
  return std::move(encoded).value();
}

KeystoreError UnlockError(std::span<const uint8_t> bytes, std::string_view passphrase = "hunter2") {
  Result<SecretKey, KeystoreError> unlocked = UnlockKeystore(bytes, MakePassphrase(passphrase));
  EXPECT_FALSE(unlocked.ok());
  return unlocked.ok() ? KeystoreError{} : unlocked.error();
}

KeystoreError DecodeError(std::span<const uint8_t> bytes) {
  Result<KeystoreInfo, KeystoreError> decoded = DecodeKeystore(bytes);
  EXPECT_FALSE(decoded.ok());
  return decoded.ok() ? KeystoreError{} : decoded.error();
}

// A keystore whose header says `kdf` (valid or not) and whose sealed seed is garbage: for
// errors that must be found before any key is derived.
std::vector<uint8_t> KeystoreWithKdf(const KdfParams& kdf) {
  KeystoreInfo info;
  info.version = kKeystoreVersion;
  info.kdf = kdf;
  info.label = std::string(kLabel);
  std::vector<uint8_t> bytes = internal::EncodeKeystoreHeader(info);
  bytes.resize(bytes.size() + kSigningSeedBytes + kAeadTagBytes, 0x5a);
  return bytes;
}

TEST(KeystoreTest, UnlockReturnsTheSealedKey) {
  const SecretKey key = TestKey();
  const std::vector<uint8_t> bytes = FastKeystore(key);
  EXPECT_EQ(bytes.size(), kKeystoreBytesMin + kLabel.size());
  Result<SecretKey, KeystoreError> unlocked = UnlockKeystore(bytes, MakePassphrase("hunter2"));
  ASSERT_TRUE(unlocked.ok()) << KeystoreErrorName(unlocked.error());
  EXPECT_EQ(unlocked->public_key(), key.public_key());
  // Ed25519 is deterministic: the same seed signs the same bytes identically.
  EXPECT_EQ(Sign(*unlocked, kDomain, Bytes("m")), Sign(key, kDomain, Bytes("m")));
}

TEST(KeystoreTest, DefaultInteractiveKdfRoundTrips) {
  // The one test that pays for the real device setting (64 MiB, 2 passes).
  const SecretKey key = GenerateSigningKey();
  Result<std::vector<uint8_t>, KeystoreError> encoded =
      EncodeKeystore(key, MakePassphrase("a longer passphrase"), "terminal 7");
  ASSERT_TRUE(encoded.ok());
  Result<KeystoreInfo, KeystoreError> info = DecodeKeystore(*encoded);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->kdf, kKdfInteractive);
  Result<SecretKey, KeystoreError> unlocked =
      UnlockKeystore(*encoded, MakePassphrase("a longer passphrase"));
  ASSERT_TRUE(unlocked.ok());
  EXPECT_EQ(unlocked->public_key(), key.public_key());
}

TEST(KeystoreTest, DecodeReadsThePublicHeaderWithoutThePassphrase) {
  const SecretKey key = TestKey();
  const std::vector<uint8_t> bytes = FastKeystore(key);
  Result<KeystoreInfo, KeystoreError> info = DecodeKeystore(bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->version, kKeystoreVersion);
  EXPECT_EQ(info->kdf, kFast);
  EXPECT_EQ(info->public_key, key.public_key());
  EXPECT_EQ(info->label, kLabel);
}

TEST(KeystoreTest, LayoutMatchesTheFormatDocument) {
  const SecretKey key = TestKey();
  const std::vector<uint8_t> bytes = FastKeystore(key);
  const KeystoreInfo info = *DecodeKeystore(bytes);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), std::string("TPWKEYS\0", 8));
  EXPECT_EQ(bytes[kVersionOffset], 1);
  EXPECT_EQ(bytes[kVersionOffset + 1], 0);
  EXPECT_EQ(bytes[10], 1);  // Argon2id v1.3
  EXPECT_EQ(bytes[11], 1);  // XChaCha20-Poly1305-IETF
  EXPECT_EQ(bytes[12], 1);  // Ed25519 seed
  EXPECT_EQ(bytes[kLabelLengthOffset], kLabel.size());
  EXPECT_EQ(bytes[kOpslimitOffset], kFast.opslimit);
  EXPECT_EQ(bytes[kMemlimitOffset], kFast.memlimit_kib);
  EXPECT_TRUE(std::equal(info.salt.begin(), info.salt.end(), bytes.begin() + kSaltOffset));
  EXPECT_TRUE(std::equal(key.public_key().bytes.begin(), key.public_key().bytes.end(),
                         bytes.begin() + kPublicKeyOffset));
  EXPECT_TRUE(
      std::equal(info.nonce.bytes.begin(), info.nonce.bytes.end(), bytes.begin() + kNonceOffset));
  EXPECT_EQ(std::string(bytes.begin() + kLabelOffset,
                        bytes.begin() + static_cast<std::ptrdiff_t>(kLabelOffset + kLabel.size())),
            kLabel);
  EXPECT_TRUE(std::equal(info.sealed_seed.begin(), info.sealed_seed.end(),
                         bytes.end() - static_cast<std::ptrdiff_t>(info.sealed_seed.size())));
}

TEST(KeystoreTest, EveryEncodingUsesAFreshSaltAndNonce) {
  const SecretKey key = TestKey();
  const std::vector<uint8_t> a = FastKeystore(key);
  const std::vector<uint8_t> b = FastKeystore(key);
  EXPECT_NE(DecodeKeystore(a)->salt, DecodeKeystore(b)->salt);
  EXPECT_NE(DecodeKeystore(a)->nonce, DecodeKeystore(b)->nonce);
  EXPECT_TRUE(UnlockKeystore(a, MakePassphrase("hunter2")).ok());
  EXPECT_TRUE(UnlockKeystore(b, MakePassphrase("hunter2")).ok());
}

TEST(KeystoreTest, EmptyAndLongestLabelsRoundTrip) {
  const SecretKey key = TestKey();
  for (const std::string& label : {std::string(), std::string(kKeystoreLabelBytesMax, '~')}) {
    const std::vector<uint8_t> bytes = FastKeystore(key, "pw", label);
    EXPECT_EQ(bytes.size(), kKeystoreBytesMin + label.size());
    EXPECT_EQ(DecodeKeystore(bytes)->label, label);
    EXPECT_TRUE(UnlockKeystore(bytes, MakePassphrase("pw")).ok());
  }
}

TEST(KeystoreTest, WrongPassphraseIsRejected) {
  const std::vector<uint8_t> bytes = FastKeystore(TestKey());
  EXPECT_EQ(UnlockError(bytes, "hunter3"), KeystoreError::wrong_passphrase_or_tampered);
  EXPECT_EQ(UnlockError(bytes, "hunter2 "), KeystoreError::wrong_passphrase_or_tampered);
  EXPECT_EQ(UnlockError(bytes, "Hunter2"), KeystoreError::wrong_passphrase_or_tampered);
  EXPECT_TRUE(UnlockKeystore(bytes, MakePassphrase("hunter2")).ok());
}

TEST(KeystoreTest, FlippingAnyByteIsRejectedWithoutCrashing) {
  const std::vector<uint8_t> bytes = FastKeystore(TestKey());
  const size_t label_end = kLabelOffset + kLabel.size();
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (const uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::vector<uint8_t> tampered = bytes;
      tampered[i] ^= mask;
      const KeystoreError error = UnlockError(tampered);
      SCOPED_TRACE("byte " + std::to_string(i) + " mask " + std::to_string(mask) + ": " +
                   std::string(KeystoreErrorName(error)));
      if (i < kVersionOffset) {
        EXPECT_EQ(error, KeystoreError::bad_magic);
      } else if (i < 10) {
        EXPECT_EQ(error, KeystoreError::unsupported_version);
      } else if (i < kLabelLengthOffset) {
        EXPECT_EQ(error, KeystoreError::unsupported_algorithm);
      } else if (i == kLabelLengthOffset) {
        EXPECT_TRUE(error == KeystoreError::invalid_label ||
                    error == KeystoreError::trailing_bytes || error == KeystoreError::truncated);
      } else if (i < kMemlimitOffset) {
        EXPECT_EQ(error, KeystoreError::kdf_params_out_of_range);  // opslimit 1 -> 0 or > 16
      } else if (i < kSaltOffset) {
        // memlimit: either over the cap, or a valid cost that derives a different key.
        EXPECT_TRUE(error == KeystoreError::kdf_params_out_of_range ||
                    error == KeystoreError::wrong_passphrase_or_tampered);
      } else if (i >= kLabelOffset && i < label_end && (tampered[i] < 0x20 || tampered[i] > 0x7e)) {
        EXPECT_EQ(error, KeystoreError::invalid_label);
      } else {
        // Salt, public key, nonce, label, ciphertext, tag: all authenticated.
        EXPECT_EQ(error, KeystoreError::wrong_passphrase_or_tampered);
      }
    }
  }
}

TEST(KeystoreTest, TruncationAtEveryLengthIsReportedAsTruncated) {
  const std::vector<uint8_t> bytes = FastKeystore(TestKey());
  for (size_t length = 0; length < bytes.size(); ++length) {
    const std::span<const uint8_t> prefix = std::span<const uint8_t>(bytes).first(length);
    EXPECT_EQ(DecodeError(prefix), KeystoreError::truncated) << "length " << length;
    EXPECT_EQ(UnlockError(prefix), KeystoreError::truncated) << "length " << length;
  }
}

TEST(KeystoreTest, TrailingAndOversizedInputsAreRejected) {
  std::vector<uint8_t> bytes = FastKeystore(TestKey());
  while (bytes.size() < kKeystoreBytesMax) {
    bytes.push_back(0);
    EXPECT_EQ(DecodeError(bytes), KeystoreError::trailing_bytes) << "size " << bytes.size();
  }
  bytes.push_back(0);
  EXPECT_EQ(DecodeError(bytes), KeystoreError::too_large);
  EXPECT_EQ(UnlockError(bytes), KeystoreError::too_large);
  const std::vector<uint8_t> huge(size_t{1} << 20, 0);
  EXPECT_EQ(DecodeError(huge), KeystoreError::too_large);
}

TEST(KeystoreTest, HostileKdfParametersAreRejectedBeforeHashing) {
  // Each of these would be an error, an hour of work or terabytes of memory if it reached
  // Argon2id; the decoder refuses them from the header alone.
  const std::vector<KdfParams> hostile = {
      {0, 8},
      {1, 0},
      {1, 7},
      {kKeystoreOpslimitMax + 1, 8},
      {1, kKeystoreMemlimitKibMax + 1},
      {kKdfSensitive.opslimit + 1, kKdfSensitive.memlimit_kib},  // over the work cap
      {kKeystoreOpslimitMax, kKeystoreMemlimitKibMax},
      {UINT32_MAX, 8},
      {1, UINT32_MAX},
      {UINT32_MAX, UINT32_MAX},
  };
  for (const KdfParams& kdf : hostile) {
    const std::vector<uint8_t> bytes = KeystoreWithKdf(kdf);
    EXPECT_EQ(DecodeError(bytes), KeystoreError::kdf_params_out_of_range)
        << kdf.opslimit << " " << kdf.memlimit_kib;
    EXPECT_EQ(UnlockError(bytes), KeystoreError::kdf_params_out_of_range);
  }
}

TEST(KeystoreTest, KdfCapsAdmitLibsodiumPresets) {
  EXPECT_TRUE(IsValidKdfParams(kKdfFastInsecureForTests));
  EXPECT_TRUE(IsValidKdfParams(kKdfInteractive));
  EXPECT_TRUE(IsValidKdfParams(kKdfModerate));
  EXPECT_TRUE(IsValidKdfParams(kKdfSensitive));
  // More passes over less memory, up to the same work as SENSITIVE.
  EXPECT_TRUE(IsValidKdfParams({kKeystoreOpslimitMax, kKeystoreMemlimitKibMax / 4}));
  EXPECT_FALSE(IsValidKdfParams({kKeystoreOpslimitMax, kKeystoreMemlimitKibMax / 4 + 1}));
  EXPECT_FALSE(IsValidKdfParams({kKdfSensitive.opslimit + 1, kKdfSensitive.memlimit_kib}));
  EXPECT_FALSE(IsValidKdfParams({}));
}

TEST(KeystoreTest, EncodeRejectsInvalidKdfParametersAndLabels) {
  const SecretKey key = TestKey();
  const Passphrase passphrase = MakePassphrase("pw");
  EXPECT_EQ(EncodeKeystore(key, passphrase, "ok", {0, 8}).error(),
            KeystoreError::kdf_params_out_of_range);
  EXPECT_EQ(EncodeKeystore(key, passphrase, "ok", {1, kKeystoreMemlimitKibMax + 1}).error(),
            KeystoreError::kdf_params_out_of_range);
  EXPECT_EQ(
      EncodeKeystore(key, passphrase, std::string(kKeystoreLabelBytesMax + 1, 'x'), kFast).error(),
      KeystoreError::invalid_label);
  EXPECT_EQ(EncodeKeystore(key, passphrase, "line\nbreak", kFast).error(),
            KeystoreError::invalid_label);
  EXPECT_EQ(EncodeKeystore(key, passphrase, "caf\xc3\xa9", kFast).error(),
            KeystoreError::invalid_label);
}

TEST(KeystoreTest, UnknownVersionsAndAlgorithmsAreRejected) {
  const std::vector<uint8_t> bytes = FastKeystore(TestKey());
  for (const uint16_t version : {uint16_t{0}, uint16_t{2}, uint16_t{0x0100}, uint16_t{0xffff}}) {
    std::vector<uint8_t> changed = bytes;
    changed[kVersionOffset] = static_cast<uint8_t>(version);
    changed[kVersionOffset + 1] = static_cast<uint8_t>(version >> 8);
    EXPECT_EQ(DecodeError(changed), KeystoreError::unsupported_version) << version;
  }
  for (const size_t offset : {size_t{10}, size_t{11}, size_t{12}}) {
    for (const uint8_t id : {uint8_t{0}, uint8_t{2}, uint8_t{255}}) {
      std::vector<uint8_t> changed = bytes;
      changed[offset] = id;
      EXPECT_EQ(DecodeError(changed), KeystoreError::unsupported_algorithm) << offset;
    }
  }
}

TEST(KeystoreTest, ForeignInputIsNotAKeystore) {
  EXPECT_EQ(DecodeError(Bytes("hello")), KeystoreError::bad_magic);
  EXPECT_EQ(DecodeError(Bytes("-----BEGIN PRIVATE KEY-----")), KeystoreError::bad_magic);
  EXPECT_EQ(DecodeError({}), KeystoreError::truncated);
  EXPECT_EQ(DecodeError(Bytes("TPW")), KeystoreError::truncated);
}

TEST(KeystoreTest, LabelOutsidePrintableAsciiInAFileIsRejected) {
  std::vector<uint8_t> bytes = FastKeystore(TestKey());
  bytes[kLabelOffset] = 0x1b;  // ESC: would let a file write terminal escapes into logs
  EXPECT_EQ(DecodeError(bytes), KeystoreError::invalid_label);
  bytes = FastKeystore(TestKey());
  bytes[kLabelLengthOffset] = kKeystoreLabelBytesMax + 1;
  EXPECT_EQ(DecodeError(bytes), KeystoreError::invalid_label);
}

TEST(KeystoreTest, PrintableChangeToTheLabelIsTampering) {
  std::vector<uint8_t> bytes = FastKeystore(TestKey());
  bytes[kLabelOffset] = 'D';  // "Device 42": still a valid label, but authenticated
  ASSERT_TRUE(DecodeKeystore(bytes).ok());
  EXPECT_EQ(UnlockError(bytes), KeystoreError::wrong_passphrase_or_tampered);
}

TEST(KeystoreTest, InconsistentPublicKeyIsDetected) {
  // Only someone who knows the passphrase can build this: the header names key B, the sealed
  // seed is key A's. Unlock must not hand out a key whose id is a lie.
  const SecretKey key_a = TestKey();
  const SecretKey key_b = GenerateSigningKey();
  const Passphrase passphrase = MakePassphrase("hunter2");
  KeystoreInfo info;
  info.version = kKeystoreVersion;
  info.kdf = kFast;
  RandomBytes(info.salt);
  info.public_key = key_b.public_key();
  info.label = "forged";
  info.nonce = RandomAeadNonce();
  std::vector<uint8_t> bytes = internal::EncodeKeystoreHeader(info);
  const size_t header_bytes = bytes.size();
  Result<AeadKey, KeystoreError> derived =
      internal::DeriveKeystoreKey(passphrase, info.salt, info.kdf);
  ASSERT_TRUE(derived.ok());
  const std::array<uint8_t, kSigningSeedBytes> seed_a = HexArray<kSigningSeedBytes>(
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  bytes.resize(header_bytes + kSigningSeedBytes + kAeadTagBytes);
  const std::span<uint8_t> all(bytes);
  AeadSealWithNonce(*derived, info.nonce, seed_a, all.first(header_bytes),
                    all.subspan(header_bytes));
  EXPECT_EQ(UnlockError(bytes), KeystoreError::public_key_mismatch);
}

TEST(KeystoreTest, RandomGarbageNeverUnlocks) {
  std::mt19937_64 rng(::tpw::test_support::TestSeed("KeystoreTest.RandomGarbageNeverUnlocks"));
  const std::vector<uint8_t> valid = FastKeystore(TestKey());
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> bytes;
    if (i % 2 == 0) {
      bytes.resize(rng() % (kKeystoreBytesMax + 16));
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    } else {
      // Keep a valid prefix so the garbage reaches the later checks.
      bytes.assign(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(rng() % 30));
      const size_t extra = rng() % (kKeystoreBytesMax - bytes.size());
      for (size_t k = 0; k < extra; ++k) bytes.push_back(static_cast<uint8_t>(rng()));
    }
    Result<KeystoreInfo, KeystoreError> decoded = DecodeKeystore(bytes);
    if (decoded.ok() && decoded->kdf.memlimit_kib > 1024) continue;  // keep the run fast
    EXPECT_FALSE(UnlockKeystore(bytes, MakePassphrase("hunter2")).ok());
  }
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(TPW_ASAN_RUNTIME)
// Runs in a death-test child: caps the address space 256 MiB above what the process already
// uses, then unlocks `bytes`. Exits 0 when the unlock fails with out_of_memory.
[[noreturn]] void UnlockUnderAddressSpaceCap(const std::vector<uint8_t>& bytes) {
  long pages = 0;
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr || std::fscanf(statm, "%ld", &pages) != 1) std::_Exit(2);
  std::fclose(statm);
  const rlim_t limit =
      static_cast<rlim_t>(pages) * static_cast<rlim_t>(getpagesize()) + (rlim_t{256} << 20);
  const rlimit address_space{limit, limit};
  if (setrlimit(RLIMIT_AS, &address_space) != 0) std::_Exit(3);
  Result<SecretKey, KeystoreError> unlocked = UnlockKeystore(bytes, MakePassphrase("hunter2"));
  std::_Exit(!unlocked.ok() && unlocked.error() == KeystoreError::out_of_memory ? 0 : 1);
}

#endif  // !defined(__SANITIZE_ADDRESS__) && !defined(TPW_ASAN_RUNTIME)

TEST(KeystoreDeathTest, ArgonAllocationFailureIsOutOfMemory) {
#if defined(__SANITIZE_ADDRESS__) || defined(TPW_ASAN_RUNTIME)
  GTEST_SKIP() << "ASan reserves terabytes of address space, so RLIMIT_AS cannot be lowered";
#else
  // A header asking for the full 1 GiB cap, unlocked where 1 GiB cannot be mapped: Argon2id's
  // allocation fails and must surface as out_of_memory, not a crash.
  const std::vector<uint8_t> bytes = KeystoreWithKdf({1, kKeystoreMemlimitKibMax});
  EXPECT_EXIT(UnlockUnderAddressSpaceCap(bytes), ::testing::ExitedWithCode(0), "");
#endif
}

TEST(PassphraseTest, EmptyOrOverlongPassphrasesAreRejected) {
  EXPECT_EQ(Passphrase::Copy("").error(), KeystoreError::invalid_passphrase);
  EXPECT_EQ(Passphrase::Copy(std::string(kPassphraseBytesMax + 1, 'p')).error(),
            KeystoreError::invalid_passphrase);
  Result<Passphrase, KeystoreError> longest =
      Passphrase::Copy(std::string(kPassphraseBytesMax, 'p'));
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->size(), kPassphraseBytesMax);
}

TEST(PassphraseTest, TakeFromWipesTheSourceBuffer) {
  std::string typed = "hunter2";
  Result<Passphrase, KeystoreError> passphrase = Passphrase::TakeFrom(std::span<char>(typed));
  ASSERT_TRUE(passphrase.ok());
  EXPECT_EQ(typed, std::string(7, '\0'));
  const std::vector<uint8_t> bytes = FastKeystore(TestKey(), "hunter2");
  EXPECT_TRUE(UnlockKeystore(bytes, *passphrase).ok());

  std::string too_long(kPassphraseBytesMax + 1, 'p');
  EXPECT_EQ(Passphrase::TakeFrom(std::span<char>(too_long)).error(),
            KeystoreError::invalid_passphrase);
  EXPECT_EQ(too_long, std::string(kPassphraseBytesMax + 1, '\0'));  // wiped on error too
}

TEST(KeystoreErrorTest, EveryCodeHasAUniqueNameAndAMessage) {
  std::set<std::string_view> names;
  for (int value = 1; value <= 12; ++value) {
    const auto error = static_cast<KeystoreError>(value);
    EXPECT_NE(KeystoreErrorName(error), "unknown_keystore_error") << value;
    EXPECT_FALSE(KeystoreErrorMessage(error).empty());
    names.insert(KeystoreErrorName(error));
  }
  EXPECT_EQ(names.size(), 12u);
  EXPECT_EQ(KeystoreErrorName(KeystoreError::wrong_passphrase_or_tampered),
            "wrong_passphrase_or_tampered");
}

}  // namespace
}  // namespace tpw::crypto
