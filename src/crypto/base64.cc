#include "crypto/base64.h"

#include <sodium.h>

#include "common/assert.h"
#include "crypto/hash.h"

namespace tpw::crypto {

namespace {

constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

bool IsUrlSafeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Bytes that `chars` characters of unpadded base64 carry (chars % 4 != 1).
size_t DecodedLength(size_t chars) {
  const size_t tail = chars % 4;
  return chars / 4 * 3 + (tail == 0 ? 0 : tail - 1);
}

}  // namespace

std::string_view Base64ErrorName(Base64Error error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case Base64Error::name:           \
    return #name;
    TPW_BASE64_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown_base64_error";
}

std::string_view Base64ErrorMessage(Base64Error error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case Base64Error::name:           \
    return message;
    TPW_BASE64_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown base64 error";
}

size_t Base64UrlEncodedLength(size_t bytes) {
  // sodium_base64_ENCODED_LEN counts the terminating NUL.
  return sodium_base64_encoded_len(bytes, kVariant) - 1;
}

std::string Base64UrlEncode(std::span<const uint8_t> bytes) {
  EnsureSodiumInitialized();
  const size_t length = Base64UrlEncodedLength(bytes.size());
  std::string text(length + 1, '\0');  // room for libsodium's NUL
  sodium_bin2base64(text.data(), text.size(), bytes.data(), bytes.size(), kVariant);
  text.resize(length);
  return text;
}

Result<std::vector<uint8_t>, Base64Error> Base64UrlDecode(std::string_view text,
                                                          size_t decoded_bytes_max) {
  // An upper bound from the length alone (exact when the length is valid), so an oversized
  // input is refused before it is scanned.
  if (DecodedLength(text.size()) > decoded_bytes_max) return Err{Base64Error::too_long};
  for (const char c : text) {
    if (c == '=') return Err{Base64Error::padding_not_allowed};
    if (!IsUrlSafeChar(c)) return Err{Base64Error::invalid_character};
  }
  if (text.size() % 4 == 1) return Err{Base64Error::invalid_length};

  std::vector<uint8_t> bytes(DecodedLength(text.size()));
  if (text.empty()) return bytes;
  EnsureSodiumInitialized();
  size_t decoded = 0;
  // With the alphabet and length checked, libsodium fails only on nonzero trailing bits.
  const int rc = sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr,
                                   &decoded, nullptr, kVariant);
  if (rc != 0) return Err{Base64Error::non_canonical};
  TPW_ASSERT(decoded == bytes.size());
  return bytes;
}

}  // namespace tpw::crypto
