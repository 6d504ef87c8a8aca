// Internal to the crypto module: the one place that reads or writes the bytes of secret types.
// Not for use outside src/crypto (and its tests); the secret types befriend this struct so their
// public interfaces can stay free of byte accessors.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/aead.h"
#include "crypto/keystore.h"
#include "crypto/sign.h"

namespace tpw::crypto::internal {

struct SecretAccess {
  // libsodium's 64-byte secret key (seed || public key).
  static std::span<const uint8_t> Bytes(const SecretKey& key) { return key.key_.bytes(); }
  static std::span<const uint8_t, kAeadKeyBytes> Bytes(const AeadKey& key) { return key.bytes_; }
  static std::span<uint8_t, kAeadKeyBytes> MutableBytes(AeadKey& key) { return key.bytes_; }
  static AeadKey ZeroAeadKey() { return AeadKey(); }
  static std::span<const uint8_t> Bytes(const Passphrase& passphrase) {
    return passphrase.text_.bytes();
  }
};

}  // namespace tpw::crypto::internal
