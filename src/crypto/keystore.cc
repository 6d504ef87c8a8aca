#include "crypto/keystore.h"

#include <sodium.h>

#include <algorithm>

#include "common/assert.h"
#include "common/codec.h"
#include "crypto/hash.h"
#include "crypto/keystore_internal.h"
#include "crypto/secret_access.h"

namespace tpw::crypto {

using internal::SecretAccess;

namespace {

// docs/keystore-format.md is the reference for everything below.
constexpr std::array<uint8_t, 8> kMagic = {'T', 'P', 'W', 'K', 'E', 'Y', 'S', 0x00};
constexpr uint8_t kKdfArgon2id13 = 1;
constexpr uint8_t kAeadXChaCha20Poly1305 = 1;
constexpr uint8_t kKeyEd25519Seed = 1;
constexpr size_t kSealedSeedBytes = kSigningSeedBytes + kAeadTagBytes;
// magic, version, three algorithm ids, label length, opslimit, memlimit, salt, key, nonce.
constexpr size_t kFixedHeaderBytes =
    8 + 2 + 1 + 1 + 1 + 1 + 4 + 4 + kKeystoreSaltBytes + kPublicKeyBytes + kAeadNonceBytes;
static_assert(kFixedHeaderBytes == 94);
static_assert(kKeystoreBytesMin == kFixedHeaderBytes + kSealedSeedBytes);
static_assert(kKeystoreLabelBytesMax <= UINT8_MAX, "the label length is one byte");

static_assert(kKeystoreSaltBytes == crypto_pwhash_argon2id_SALTBYTES);
static_assert(kKdfInteractive.opslimit == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
static_assert(kKdfInteractive.memlimit_kib * 1024ull ==
              crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
static_assert(kKdfModerate.opslimit == crypto_pwhash_argon2id_OPSLIMIT_MODERATE);
static_assert(kKdfModerate.memlimit_kib * 1024ull == crypto_pwhash_argon2id_MEMLIMIT_MODERATE);
static_assert(kKdfSensitive.opslimit == crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE);
static_assert(kKdfSensitive.memlimit_kib * 1024ull == crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE);
static_assert(kKdfFastInsecureForTests.opslimit == crypto_pwhash_argon2id_OPSLIMIT_MIN);
static_assert(kKdfFastInsecureForTests.memlimit_kib * 1024ull ==
              crypto_pwhash_argon2id_MEMLIMIT_MIN);
static_assert(kKeystoreMemlimitKibMax * 1024ull <= crypto_pwhash_argon2id_MEMLIMIT_MAX);
static_assert(uint64_t{kKdfSensitive.opslimit} * kKdfSensitive.memlimit_kib ==
              kKeystoreKdfWorkKibMax);

bool IsValidLabel(std::span<const uint8_t> label) {
  if (label.size() > kKeystoreLabelBytesMax) return false;
  return std::all_of(label.begin(), label.end(), [](uint8_t c) { return c >= 0x20 && c <= 0x7e; });
}

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

template <size_t N>
void CopyInto(std::array<uint8_t, N>& out, std::span<const uint8_t> in) {
  TPW_ASSERT(in.size() == N);
  std::copy(in.begin(), in.end(), out.begin());
}

// Decodes field by field, checking each value as soon as it is read, so the error names the
// first thing wrong. `header_bytes` receives the length of the authenticated header.
Result<KeystoreInfo, KeystoreError> Decode(std::span<const uint8_t> bytes, size_t& header_bytes) {
  if (bytes.size() > kKeystoreBytesMax) return Err{KeystoreError::too_large};
  // Compare the magic bytes that are present: a short prefix of a keystore is truncated, a short
  // piece of anything else is not a keystore.
  const size_t magic_present = std::min(bytes.size(), kMagic.size());
  if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(magic_present),
                  kMagic.begin())) {
    return Err{KeystoreError::bad_magic};
  }
  BinaryReader reader(bytes);
  reader.Bytes(kMagic.size());
  KeystoreInfo info;
  info.version = reader.U16();
  if (!reader.ok()) return Err{KeystoreError::truncated};
  if (info.version != kKeystoreVersion) return Err{KeystoreError::unsupported_version};

  const uint8_t kdf_algorithm = reader.U8();
  const uint8_t aead_algorithm = reader.U8();
  const uint8_t key_algorithm = reader.U8();
  if (!reader.ok()) return Err{KeystoreError::truncated};
  if (kdf_algorithm != kKdfArgon2id13 || aead_algorithm != kAeadXChaCha20Poly1305 ||
      key_algorithm != kKeyEd25519Seed) {
    return Err{KeystoreError::unsupported_algorithm};
  }
  const uint8_t label_bytes = reader.U8();
  if (!reader.ok()) return Err{KeystoreError::truncated};
  if (label_bytes > kKeystoreLabelBytesMax) return Err{KeystoreError::invalid_label};

  // Checked before anything could run Argon2id with them.
  info.kdf.opslimit = reader.U32();
  info.kdf.memlimit_kib = reader.U32();
  if (!reader.ok()) return Err{KeystoreError::truncated};
  if (!IsValidKdfParams(info.kdf)) return Err{KeystoreError::kdf_params_out_of_range};

  const std::span<const uint8_t> salt = reader.Bytes(kKeystoreSaltBytes);
  const std::span<const uint8_t> public_key = reader.Bytes(kPublicKeyBytes);
  const std::span<const uint8_t> nonce = reader.Bytes(kAeadNonceBytes);
  const std::span<const uint8_t> label = reader.Bytes(label_bytes);
  if (!reader.ok()) return Err{KeystoreError::truncated};
  if (!IsValidLabel(label)) return Err{KeystoreError::invalid_label};
  header_bytes = reader.offset();

  const std::span<const uint8_t> sealed_seed = reader.Bytes(kSealedSeedBytes);
  if (!reader.ok()) return Err{KeystoreError::truncated};
  if (!reader.AtEndOk()) return Err{KeystoreError::trailing_bytes};

  CopyInto(info.salt, salt);
  CopyInto(info.public_key.bytes, public_key);
  CopyInto(info.nonce.bytes, nonce);
  info.label.assign(label.begin(), label.end());
  CopyInto(info.sealed_seed, sealed_seed);
  return info;
}

}  // namespace

std::string_view KeystoreErrorName(KeystoreError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case KeystoreError::name:         \
    return #name;
    TPW_KEYSTORE_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown_keystore_error";
}

std::string_view KeystoreErrorMessage(KeystoreError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case KeystoreError::name:         \
    return message;
    TPW_KEYSTORE_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown keystore error";
}

bool IsValidKdfParams(const KdfParams& params) {
  return params.opslimit >= kKdfFastInsecureForTests.opslimit &&
         params.opslimit <= kKeystoreOpslimitMax &&
         params.memlimit_kib >= kKdfFastInsecureForTests.memlimit_kib &&
         params.memlimit_kib <= kKeystoreMemlimitKibMax &&
         uint64_t{params.opslimit} * params.memlimit_kib <= kKeystoreKdfWorkKibMax;
}

Result<Passphrase, KeystoreError> Passphrase::Copy(std::string_view text) {
  if (text.empty() || text.size() > kPassphraseBytesMax) {
    return Err{KeystoreError::invalid_passphrase};
  }
  SecureBuffer buffer(text.size());
  std::copy(text.begin(), text.end(), buffer.mutable_bytes().begin());
  buffer.MakeReadOnly();
  return Passphrase(std::move(buffer));
}

Result<Passphrase, KeystoreError> Passphrase::TakeFrom(std::span<char> buffer) {
  Result<Passphrase, KeystoreError> passphrase =
      Copy(std::string_view(buffer.data(), buffer.size()));
  SecureWipe(buffer);
  return passphrase;
}

namespace internal {

std::vector<uint8_t> EncodeKeystoreHeader(const KeystoreInfo& info) {
  TPW_ASSERT(info.label.size() <= UINT8_MAX);
  BinaryWriter writer;
  writer.Bytes(kMagic);
  writer.U16(info.version);
  writer.U8(kKdfArgon2id13);
  writer.U8(kAeadXChaCha20Poly1305);
  writer.U8(kKeyEd25519Seed);
  writer.U8(static_cast<uint8_t>(info.label.size()));
  writer.U32(info.kdf.opslimit);
  writer.U32(info.kdf.memlimit_kib);
  writer.Bytes(info.salt);
  writer.Bytes(info.public_key.bytes);
  writer.Bytes(info.nonce.bytes);
  writer.Bytes(AsBytes(info.label));
  TPW_ASSERT(writer.size() == kFixedHeaderBytes + info.label.size());
  return writer.Take();
}

Result<AeadKey, KeystoreError> DeriveKeystoreKey(const Passphrase& passphrase,
                                                 std::span<const uint8_t, kKeystoreSaltBytes> salt,
                                                 const KdfParams& kdf) {
  TPW_ASSERT(IsValidKdfParams(kdf));
  EnsureSodiumInitialized();
  AeadKey key = SecretAccess::ZeroAeadKey();
  const std::span<const uint8_t> text = SecretAccess::Bytes(passphrase);
  const std::span<uint8_t, kAeadKeyBytes> out = SecretAccess::MutableBytes(key);
  // With the cost already checked, the only way Argon2id fails is allocating memlimit bytes.
  const int rc = crypto_pwhash(out.data(), out.size(), reinterpret_cast<const char*>(text.data()),
                               text.size(), salt.data(), kdf.opslimit,
                               size_t{kdf.memlimit_kib} * 1024, crypto_pwhash_ALG_ARGON2ID13);
  if (rc != 0) return Err{KeystoreError::out_of_memory};
  return key;
}

}  // namespace internal

Result<std::vector<uint8_t>, KeystoreError> EncodeKeystore(const SecretKey& key,
                                                           const Passphrase& passphrase,
                                                           std::string_view label,
                                                           const KdfParams& kdf) {
  TPW_ASSERT_MSG(!key.empty(), "EncodeKeystore with an empty (moved-from) SecretKey");
  if (!IsValidKdfParams(kdf)) return Err{KeystoreError::kdf_params_out_of_range};
  if (!IsValidLabel(AsBytes(label))) return Err{KeystoreError::invalid_label};

  KeystoreInfo info;
  info.version = kKeystoreVersion;
  info.kdf = kdf;
  RandomBytes(info.salt);
  info.public_key = key.public_key();
  info.label = std::string(label);
  info.nonce = RandomAeadNonce();
  std::vector<uint8_t> out = internal::EncodeKeystoreHeader(info);

  Result<AeadKey, KeystoreError> derived = internal::DeriveKeystoreKey(passphrase, info.salt, kdf);
  if (!derived.ok()) return Err{derived.error()};
  SecureBuffer seed(kSigningSeedBytes);
  const int rc =
      crypto_sign_ed25519_sk_to_seed(seed.mutable_bytes().data(), SecretAccess::Bytes(key).data());
  TPW_ASSERT(rc == 0);

  const size_t header_bytes = out.size();
  out.resize(header_bytes + kSealedSeedBytes);
  const std::span<uint8_t> all(out);
  AeadSealWithNonce(derived.value(), info.nonce, seed.bytes(), all.first(header_bytes),
                    all.subspan(header_bytes));
  TPW_ASSERT(out.size() == kKeystoreBytesMin + label.size());
  return out;
}  // `seed` and the derived key are wiped here

Result<KeystoreInfo, KeystoreError> DecodeKeystore(std::span<const uint8_t> bytes) {
  size_t header_bytes = 0;
  return Decode(bytes, header_bytes);
}

Result<SecretKey, KeystoreError> UnlockKeystore(std::span<const uint8_t> bytes,
                                                const Passphrase& passphrase) {
  size_t header_bytes = 0;
  Result<KeystoreInfo, KeystoreError> decoded = Decode(bytes, header_bytes);
  if (!decoded.ok()) return Err{decoded.error()};
  const KeystoreInfo& info = decoded.value();

  Result<AeadKey, KeystoreError> derived =
      internal::DeriveKeystoreKey(passphrase, info.salt, info.kdf);
  if (!derived.ok()) return Err{derived.error()};
  SecureBuffer seed(kSigningSeedBytes);
  const Status<AeadError> opened =
      AeadOpenWithNonce(derived.value(), info.nonce, info.sealed_seed, bytes.first(header_bytes),
                        seed.mutable_bytes());
  // A wrong passphrase gives a wrong key, which fails exactly like a modified file: by design
  // the two cannot be told apart.
  if (!opened.ok()) return Err{KeystoreError::wrong_passphrase_or_tampered};

  SecretKey key = SigningKeyFromSeed(seed.bytes().first<kSigningSeedBytes>());
  if (key.public_key() != info.public_key) return Err{KeystoreError::public_key_mismatch};
  return key;
}  // `seed` and the derived key are wiped here

}  // namespace tpw::crypto
