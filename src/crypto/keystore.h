// Keystore: an Ed25519 secret key sealed under a passphrase, the file a wallet device (standing
// in for a secure element), a terminal or the issuer keeps its signing key in.
//
//   passphrase --Argon2id(salt, opslimit, memlimit)--> 32-byte key
//   seed (32 bytes) --XChaCha20-Poly1305(key, nonce, associated data = the whole header)--> file
//
// The byte layout is in docs/keystore-format.md. Everything but the seed is readable without the
// passphrase (DecodeKeystore): version, KDF cost, salt, public key (the key's id), label. The
// header is authenticated as associated data, so changing any byte of the file (cost, salt,
// public key, label, nonce, ciphertext or tag) makes UnlockKeystore fail.
//
// A keystore file is untrusted input: decoding is bounds-checked, rejects unknown versions and
// algorithms, and caps the Argon2id cost (passes, memory and their product; limits.h) before
// any hashing starts, so a hostile file cannot make the reader allocate gigabytes or spin for
// minutes. A wrong passphrase and a tampered file give the same error on purpose.
//
// Secrets: the passphrase lives in a Passphrase (guarded memory, wiped on destruction); the
// derived key and the decrypted seed are wiped before the functions return, on every path.
//
// Thread-safety: all functions are safe from any thread. Each Argon2id run uses one thread and
// `memlimit` bytes of memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "crypto/aead.h"
#include "crypto/limits.h"
#include "crypto/secure.h"
#include "crypto/sign.h"

namespace tpw::crypto {

// Stable numeric values (they reach logs and CLI exit codes). Append only.
#define TPW_KEYSTORE_ERRORS(X)                                                                  \
  X(too_large, 1, "the input is larger than any keystore (kKeystoreBytesMax)")                  \
  X(truncated, 2, "the input ends before the keystore does")                                    \
  X(trailing_bytes, 3, "bytes follow the end of the keystore")                                  \
  X(bad_magic, 4, "the input is not a tpwallet keystore (wrong magic bytes)")                   \
  X(unsupported_version, 5, "the keystore format version is not one this build reads")          \
  X(unsupported_algorithm, 6, "the KDF, cipher or key algorithm id is unknown")                 \
  X(kdf_params_out_of_range, 7,                                                                 \
    "opslimit or memlimit is below Argon2id's minimum or above the keystore cap")               \
  X(invalid_label, 8, "the label is longer than 64 bytes or has bytes outside printable ASCII") \
  X(invalid_passphrase, 9, "the passphrase is empty or longer than 1024 bytes")                 \
  X(wrong_passphrase_or_tampered, 10, "wrong passphrase, or the keystore was modified")         \
  X(public_key_mismatch, 11,                                                                    \
    "the sealed seed does not produce the header's public key (a file built inconsistently)")   \
  X(out_of_memory, 12, "Argon2id could not allocate the memory the keystore's memlimit names")

enum class KeystoreError : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_KEYSTORE_ERRORS(TPW_X)
#undef TPW_X
};
std::string_view KeystoreErrorName(KeystoreError error);
std::string_view KeystoreErrorMessage(KeystoreError error);

// Argon2id cost. Memory is in KiB (Argon2's own unit) so every value has one encoding.
// Valid: opslimit 1..kKeystoreOpslimitMax (16), memlimit_kib 8..kKeystoreMemlimitKibMax (1 GiB),
// and opslimit x memlimit_kib <= kKeystoreKdfWorkKibMax (SENSITIVE's 4 x 1 GiB).
struct KdfParams {
  uint32_t opslimit = 0;      // passes over memory
  uint32_t memlimit_kib = 0;  // memory in KiB
  friend bool operator==(const KdfParams&, const KdfParams&) = default;
};
// libsodium's presets (crypto_pwhash_*_INTERACTIVE/MODERATE/SENSITIVE; keystore.cc checks them).
// INTERACTIVE is the default for devices and terminals; the issuer may choose SENSITIVE.
inline constexpr KdfParams kKdfInteractive{2, 64u << 10};  // 64 MiB
inline constexpr KdfParams kKdfModerate{3, 256u << 10};    // 256 MiB
inline constexpr KdfParams kKdfSensitive{4, 1u << 20};     // 1 GiB
// Argon2id's minimum cost: microseconds per guess. For tests and the simulator only, never for a
// keystore that protects real money.
inline constexpr KdfParams kKdfFastInsecureForTests{1, 8};
// True when the cost is within Argon2id's minimum and the keystore caps (see KdfParams).
bool IsValidKdfParams(const KdfParams& params);

inline constexpr size_t kKeystoreSaltBytes = 16;
inline constexpr uint16_t kKeystoreVersion = 1;
// Bytes of a keystore with an empty label, and the most any keystore has.
inline constexpr size_t kKeystoreBytesMin = 142;
inline constexpr size_t kKeystoreBytesMax = kKeystoreBytesMin + kKeystoreLabelBytesMax;

namespace internal {
struct SecretAccess;
}  // namespace internal

// A passphrase in guarded memory (SecureBuffer), wiped and freed on destruction. Move-only,
// unprintable. 1..kPassphraseBytesMax bytes of any value.
class Passphrase {
 public:
  // Copies `buffer` into guarded memory, then wipes `buffer` (also on error): the usual path
  // for a passphrase read from a terminal or a file into a mutable buffer.
  static Result<Passphrase, KeystoreError> TakeFrom(std::span<char> buffer);
  // Copies `text`; the caller's copy stays the caller's to wipe. For tests and literals.
  static Result<Passphrase, KeystoreError> Copy(std::string_view text);

  Passphrase(Passphrase&&) noexcept = default;
  Passphrase& operator=(Passphrase&&) noexcept = default;
  Passphrase(const Passphrase&) = delete;
  Passphrase& operator=(const Passphrase&) = delete;
  ~Passphrase() = default;

  size_t size() const { return text_.size(); }

 private:
  friend struct internal::SecretAccess;
  explicit Passphrase(SecureBuffer text) : text_(std::move(text)) {}
  SecureBuffer text_;
};

// What a keystore says about itself without the passphrase.
struct KeystoreInfo {
  uint16_t version = 0;
  KdfParams kdf;
  std::array<uint8_t, kKeystoreSaltBytes> salt{};
  PublicKey public_key;  // the key's id
  std::string label;
  AeadNonce nonce;
  std::array<uint8_t, kSigningSeedBytes + kAeadTagBytes> sealed_seed{};  // ciphertext || tag
};

// Seals `key` under `passphrase` with a fresh random salt and nonce. Errors:
// kdf_params_out_of_range, invalid_label, out_of_memory. Asserts `key` is not empty. Takes
// about as long as UnlockKeystore (one Argon2id run).
Result<std::vector<uint8_t>, KeystoreError> EncodeKeystore(const SecretKey& key,
                                                           const Passphrase& passphrase,
                                                           std::string_view label,
                                                           const KdfParams& kdf = kKdfInteractive);

// Parses and checks a keystore without decrypting it (no KDF run). Errors: too_large, truncated,
// trailing_bytes, bad_magic, unsupported_version, unsupported_algorithm,
// kdf_params_out_of_range, invalid_label.
Result<KeystoreInfo, KeystoreError> DecodeKeystore(std::span<const uint8_t> bytes);

// Decodes, derives the key with the file's Argon2id cost and opens the seed. Errors: those of
// DecodeKeystore, wrong_passphrase_or_tampered, public_key_mismatch, out_of_memory.
Result<SecretKey, KeystoreError> UnlockKeystore(std::span<const uint8_t> bytes,
                                                const Passphrase& passphrase);

}  // namespace tpw::crypto
