// Authenticated encryption: XChaCha20-Poly1305-IETF (libsodium crypto_aead_xchacha20poly1305_ietf).
//
// 24-byte nonces are drawn at random for every message; at that size random nonces never repeat
// in practice, so callers keep no nonce state. Associated data is authenticated, not encrypted:
// bind a ciphertext to its context (a header, a record id) by passing that context as
// associated data. Opening fails on any change to the key, nonce, ciphertext, tag or associated
// data, and never returns unauthenticated plaintext.
//
// Thread-safety: all functions are safe from any thread; an AeadKey is immutable after creation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tpw::crypto {

inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr size_t kAeadNonceBytes = 24;
inline constexpr size_t kAeadTagBytes = 16;
// AeadSeal's output: nonce || ciphertext || tag.
inline constexpr size_t kAeadSealOverheadBytes = kAeadNonceBytes + kAeadTagBytes;

struct AeadNonce {
  std::array<uint8_t, kAeadNonceBytes> bytes{};
  friend bool operator==(const AeadNonce&, const AeadNonce&) = default;
};

// Stable numeric values. Append only.
#define TPW_AEAD_ERRORS(X)                                                \
  X(too_short, 1, "the sealed message is shorter than its nonce and tag") \
  X(too_large, 2, "the message is larger than kAeadPlaintextBytesMax")    \
  X(authentication_failed, 3,                                             \
    "the key, nonce, ciphertext, tag or associated data differ from the sealed message")

enum class AeadError : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_AEAD_ERRORS(TPW_X)
#undef TPW_X
};
std::string_view AeadErrorName(AeadError error);
std::string_view AeadErrorMessage(AeadError error);

namespace internal {
struct SecretAccess;
}  // namespace internal

// A 32-byte AEAD key, held inline and wiped (sodium_memzero) on destruction and when moved from.
// Move-only; no way to print, compare or read it outside this module.
class AeadKey {
 public:
  // A fresh key from the CSPRNG.
  static AeadKey Generate();
  // Copies `bytes`; the caller owns its buffer and should SecureWipe it.
  static AeadKey FromBytes(std::span<const uint8_t, kAeadKeyBytes> bytes);

  AeadKey(AeadKey&& other) noexcept;
  AeadKey& operator=(AeadKey&& other) noexcept;
  AeadKey(const AeadKey&) = delete;
  AeadKey& operator=(const AeadKey&) = delete;
  ~AeadKey();

 private:
  friend struct internal::SecretAccess;
  AeadKey() = default;  // all zeros; only for code that fills it in place (a KDF)
  std::array<uint8_t, kAeadKeyBytes> bytes_{};
};

AeadNonce RandomAeadNonce();

// Encrypts `plaintext` under a fresh random nonce and returns nonce || ciphertext || tag
// (plaintext.size() + kAeadSealOverheadBytes bytes). Asserts plaintext.size() is within
// kAeadPlaintextBytesMax.
std::vector<uint8_t> AeadSeal(const AeadKey& key, std::span<const uint8_t> plaintext,
                              std::span<const uint8_t> associated_data);

// Opens AeadSeal's output. Errors: too_short, too_large, authentication_failed. The plaintext is
// an ordinary vector: for secrets use AeadOpenWithNonce into a SecureBuffer instead.
Result<std::vector<uint8_t>, AeadError> AeadOpen(const AeadKey& key,
                                                 std::span<const uint8_t> sealed,
                                                 std::span<const uint8_t> associated_data);

// The same construction with the nonce kept by the caller (formats that store the nonce in an
// authenticated header, like the keystore), writing into caller-owned memory so that secret
// plaintext can go straight into a SecureBuffer.
//
// Writes ciphertext || tag to `out`, which must be exactly plaintext.size() + kAeadTagBytes
// (asserted). The nonce must never be reused with the same key: draw it with RandomAeadNonce.
void AeadSealWithNonce(const AeadKey& key, const AeadNonce& nonce,
                       std::span<const uint8_t> plaintext, std::span<const uint8_t> associated_data,
                       std::span<uint8_t> out);
// Opens ciphertext || tag into `out`, which must be exactly ciphertext_and_tag.size() -
// kAeadTagBytes (asserted when the input is long enough). On error `out` is zero-filled.
Status<AeadError> AeadOpenWithNonce(const AeadKey& key, const AeadNonce& nonce,
                                    std::span<const uint8_t> ciphertext_and_tag,
                                    std::span<const uint8_t> associated_data,
                                    std::span<uint8_t> out);

}  // namespace tpw::crypto
