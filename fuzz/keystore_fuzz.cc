// Keystore files (crypto/keystore.h, docs/keystore-format.md). DecodeKeystore on any bytes must
// give a keystore within the documented bounds or an error. When the file's Argon2id cost is
// tiny (the seed corpus uses kKdfFastInsecureForTests), the target also unlocks it with the seed
// corpus passphrase — a hostile cost would make one run take seconds, so dearer files are only
// decoded. An unlocked key must match the header's public key, and sealing it again under the
// same label and cost must decode to the same header fields and unlock again.
#include <string>

#include "crypto/keystore.h"
#include "fuzz_check.h"

namespace {

// The passphrase fuzz_seed_corpus seals its keystores with (seed_corpus.cc).
constexpr std::string_view kSeedPassphrase = "fuzz seed passphrase";
// Argon2id work (passes x KiB) the target is willing to spend per input: microseconds.
constexpr uint64_t kUnlockWorkKibMax = 64;

const tpw::crypto::Passphrase& SeedPassphrase() {
  static const tpw::crypto::Passphrase passphrase = [] {
    auto made = tpw::crypto::Passphrase::Copy(kSeedPassphrase);
    FUZZ_CHECK(made.ok());
    return std::move(made).value();
  }();
  return passphrase;
}

void CheckUnlocked(const tpw::crypto::KeystoreInfo& info, const tpw::crypto::SecretKey& key) {
  using namespace tpw::crypto;
  FUZZ_CHECK(key.public_key() == info.public_key);
  const auto resealed = EncodeKeystore(key, SeedPassphrase(), info.label, info.kdf);
  FUZZ_CHECK(resealed.ok());
  const auto reread = DecodeKeystore(resealed.value());
  FUZZ_CHECK(reread.ok());
  FUZZ_CHECK(reread.value().label == info.label && reread.value().kdf == info.kdf &&
             reread.value().public_key == info.public_key &&
             reread.value().version == info.version);
  const auto reopened = UnlockKeystore(resealed.value(), SeedPassphrase());
  FUZZ_CHECK(reopened.ok() && reopened.value().public_key() == info.public_key);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tpw::crypto;
  const std::span<const uint8_t> bytes(data, size);
  const auto decoded = DecodeKeystore(bytes);
  if (!decoded.ok()) {
    FUZZ_CHECK(!KeystoreErrorName(decoded.error()).empty());
    return 0;
  }
  const KeystoreInfo& info = decoded.value();
  FUZZ_CHECK(size >= kKeystoreBytesMin && size <= kKeystoreBytesMax);
  FUZZ_CHECK(info.label.size() <= kKeystoreLabelBytesMax);
  FUZZ_CHECK(IsValidKdfParams(info.kdf));
  if (uint64_t{info.kdf.opslimit} * info.kdf.memlimit_kib > kUnlockWorkKibMax) return 0;
  const auto unlocked = UnlockKeystore(bytes, SeedPassphrase());
  if (unlocked.ok()) {
    CheckUnlocked(info, unlocked.value());
  } else {
    FUZZ_CHECK(unlocked.error() == KeystoreError::wrong_passphrase_or_tampered ||
               unlocked.error() == KeystoreError::public_key_mismatch);
  }
  return 0;
}
