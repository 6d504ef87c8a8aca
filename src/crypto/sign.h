// Ed25519 signatures (RFC 8032, libsodium) with mandatory domain separation.
//
// Domain separation: Sign and Verify never sign the caller's message alone. The signed bytes are
//
//     domain || 0x00 || message
//
// where `domain` names the message type and version ("tpwallet/v1/device-certificate",
// "tpwallet/v1/payment-token"). A domain is 1..kSigningDomainBytesMax printable ASCII bytes and
// never contains 0x00, so the first 0x00 ends it and the concatenation is unambiguous: a signature
// made for one message type can never verify as another, whatever bytes the messages hold.
// Other implementations (a phone app, a terminal) must build the same bytes to interoperate.
// Domains are constants in code, so an invalid one is a programmer error and asserts.
//
// Verification is strict (libsodium's crypto_sign_verify_detached): it rejects public keys that
// are not canonical encodings or are of small order (e.g. all zeros, the identity point), R
// values of small order, and S values >= L (so a signature cannot be malleated into a second
// valid one). Clearing relies on that: the same token always has the same signature bytes.
//
// Thread-safety: all functions are safe from any thread; a SecretKey is immutable after creation
// (its memory is read-only) and may be shared by reference between threads for signing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "crypto/secure.h"

namespace tpw::crypto {

inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSignatureBytes = 64;
inline constexpr size_t kSigningSeedBytes = 32;
// libsodium's secret key: the 32-byte seed followed by the 32-byte public key.
inline constexpr size_t kSecretKeyBytes = 64;

struct PublicKey {
  std::array<uint8_t, kPublicKeyBytes> bytes{};
  friend bool operator==(const PublicKey&, const PublicKey&) = default;
};

struct Signature {
  std::array<uint8_t, kSignatureBytes> bytes{};
  friend bool operator==(const Signature&, const Signature&) = default;
};

namespace internal {
struct SecretAccess;
}  // namespace internal

// An Ed25519 secret key in guarded, locked, read-only memory (SecureBuffer), wiped and freed on
// destruction. Move-only; a moved-from key is empty and may only be destroyed or assigned to.
// There is deliberately no way to print it, compare it or read its bytes: it leaves the process
// only sealed in a keystore (keystore.h).
class SecretKey {
 public:
  SecretKey(SecretKey&&) noexcept = default;
  SecretKey& operator=(SecretKey&&) noexcept = default;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey() = default;

  const PublicKey& public_key() const { return public_key_; }
  bool empty() const { return key_.empty(); }

 private:
  friend struct internal::SecretAccess;
  friend SecretKey SigningKeyFromSeed(std::span<const uint8_t, kSigningSeedBytes> seed);
  SecretKey(SecureBuffer key, const PublicKey& public_key)
      : key_(std::move(key)), public_key_(public_key) {}

  SecureBuffer key_;  // kSecretKeyBytes: seed || public key (libsodium layout)
  PublicKey public_key_;
};

// A fresh key pair from the CSPRNG.
SecretKey GenerateSigningKey();

// The key pair RFC 8032 derives from `seed` (the "secret key" of its test vectors). Deterministic:
// for tests, the seeded simulator and keystores (which store the seed). The caller owns `seed`
// and should SecureWipe it when it is a real secret.
SecretKey SigningKeyFromSeed(std::span<const uint8_t, kSigningSeedBytes> seed);

// True when `domain` is 1..kSigningDomainBytesMax printable ASCII bytes (0x21..0x7e, so no NUL
// and no blanks).
bool IsValidSigningDomain(std::string_view domain);

// Signs domain || 0x00 || message. Asserts that `key` is not empty and `domain` is valid.
Signature Sign(const SecretKey& key, std::string_view domain, std::span<const uint8_t> message);

// True when `signature` is `public_key`'s strict Ed25519 signature of domain || 0x00 || message.
// Any malformed key or signature is simply false. Asserts that `domain` is valid.
bool Verify(const PublicKey& public_key, std::string_view domain, std::span<const uint8_t> message,
            const Signature& signature);

}  // namespace tpw::crypto
