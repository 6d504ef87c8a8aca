#include "crypto/aead.h"

#include <sodium.h>

#include <algorithm>

#include "common/assert.h"
#include "crypto/hash.h"
#include "crypto/limits.h"
#include "crypto/secret_access.h"
#include "crypto/secure.h"

namespace tpw::crypto {

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kAeadKeyBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kAeadNonceBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kAeadTagBytes);
static_assert(kAeadPlaintextBytesMax <= crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX);

using internal::SecretAccess;

std::string_view AeadErrorName(AeadError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case AeadError::name:             \
    return #name;
    TPW_AEAD_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown_aead_error";
}

std::string_view AeadErrorMessage(AeadError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case AeadError::name:             \
    return message;
    TPW_AEAD_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown aead error";
}

AeadKey AeadKey::Generate() {
  AeadKey key;
  RandomBytes(key.bytes_);
  return key;
}

AeadKey AeadKey::FromBytes(std::span<const uint8_t, kAeadKeyBytes> bytes) {
  AeadKey key;
  std::copy(bytes.begin(), bytes.end(), key.bytes_.begin());
  return key;
}

AeadKey::AeadKey(AeadKey&& other) noexcept : bytes_(other.bytes_) { SecureWipe(other.bytes_); }

AeadKey& AeadKey::operator=(AeadKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    SecureWipe(other.bytes_);
  }
  return *this;
}

AeadKey::~AeadKey() { SecureWipe(bytes_); }

AeadNonce RandomAeadNonce() {
  AeadNonce nonce;
  RandomBytes(nonce.bytes);
  return nonce;
}

void AeadSealWithNonce(const AeadKey& key, const AeadNonce& nonce,
                       std::span<const uint8_t> plaintext, std::span<const uint8_t> associated_data,
                       std::span<uint8_t> out) {
  TPW_ASSERT_MSG(plaintext.size() <= kAeadPlaintextBytesMax, "AEAD plaintext over the limit");
  TPW_ASSERT(out.size() == plaintext.size() + kAeadTagBytes);
  EnsureSodiumInitialized();
  unsigned long long written = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data(), &written, plaintext.data(), plaintext.size(), associated_data.data(),
      associated_data.size(), nullptr, nonce.bytes.data(), SecretAccess::Bytes(key).data());
  TPW_ASSERT(rc == 0 && written == out.size());
}

Status<AeadError> AeadOpenWithNonce(const AeadKey& key, const AeadNonce& nonce,
                                    std::span<const uint8_t> ciphertext_and_tag,
                                    std::span<const uint8_t> associated_data,
                                    std::span<uint8_t> out) {
  if (ciphertext_and_tag.size() < kAeadTagBytes) {
    SecureWipe(out);
    return Err{AeadError::too_short};
  }
  if (ciphertext_and_tag.size() - kAeadTagBytes > kAeadPlaintextBytesMax) {
    SecureWipe(out);
    return Err{AeadError::too_large};
  }
  TPW_ASSERT(out.size() == ciphertext_and_tag.size() - kAeadTagBytes);
  EnsureSodiumInitialized();
  unsigned long long written = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      out.data(), &written, nullptr, ciphertext_and_tag.data(), ciphertext_and_tag.size(),
      associated_data.data(), associated_data.size(), nonce.bytes.data(),
      SecretAccess::Bytes(key).data());
  if (rc != 0) {
    SecureWipe(out);
    return Err{AeadError::authentication_failed};
  }
  TPW_ASSERT(written == out.size());
  return Status<AeadError>::Ok();
}

std::vector<uint8_t> AeadSeal(const AeadKey& key, std::span<const uint8_t> plaintext,
                              std::span<const uint8_t> associated_data) {
  TPW_ASSERT_MSG(plaintext.size() <= kAeadPlaintextBytesMax, "AEAD plaintext over the limit");
  const AeadNonce nonce = RandomAeadNonce();
  std::vector<uint8_t> sealed(plaintext.size() + kAeadSealOverheadBytes);
  std::copy(nonce.bytes.begin(), nonce.bytes.end(), sealed.begin());
  AeadSealWithNonce(key, nonce, plaintext, associated_data,
                    std::span<uint8_t>(sealed).subspan(kAeadNonceBytes));
  return sealed;
}

Result<std::vector<uint8_t>, AeadError> AeadOpen(const AeadKey& key,
                                                 std::span<const uint8_t> sealed,
                                                 std::span<const uint8_t> associated_data) {
  if (sealed.size() < kAeadSealOverheadBytes) return Err{AeadError::too_short};
  if (sealed.size() - kAeadSealOverheadBytes > kAeadPlaintextBytesMax) {
    return Err{AeadError::too_large};
  }
  AeadNonce nonce;
  std::copy(sealed.begin(), sealed.begin() + kAeadNonceBytes, nonce.bytes.begin());
  std::vector<uint8_t> plaintext(sealed.size() - kAeadSealOverheadBytes);
  Status<AeadError> opened =
      AeadOpenWithNonce(key, nonce, sealed.subspan(kAeadNonceBytes), associated_data, plaintext);
  if (!opened.ok()) return Err{opened.error()};
  return plaintext;
}

}  // namespace tpw::crypto
