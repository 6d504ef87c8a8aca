#include "crypto/hmac.h"

#include <sodium.h>

#include "common/assert.h"
#include "crypto/hash.h"
#include "crypto/secure.h"

namespace tpw::crypto {

static_assert(crypto_auth_hmacsha256_BYTES == kHmacSha256Bytes);

HmacSha256Tag HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> message) {
  EnsureSodiumInitialized();
  // The init/update/final form takes keys of any length; crypto_auth_hmacsha256() itself
  // insists on exactly 32 bytes.
  crypto_auth_hmacsha256_state state;
  HmacSha256Tag tag;
  int rc = crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  TPW_ASSERT(rc == 0);
  rc = crypto_auth_hmacsha256_update(&state, message.data(), message.size());
  TPW_ASSERT(rc == 0);
  rc = crypto_auth_hmacsha256_final(&state, tag.bytes.data());
  TPW_ASSERT(rc == 0);
  // The state holds the key's inner and outer pads.
  sodium_memzero(&state, sizeof(state));
  return tag;
}

bool HmacSha256Verify(std::span<const uint8_t> key, std::span<const uint8_t> message,
                      std::span<const uint8_t> tag) {
  if (tag.size() != kHmacSha256Bytes) return false;
  HmacSha256Tag expected = HmacSha256(key, message);
  const bool equal = crypto_verify_32(expected.bytes.data(), tag.data()) == 0;
  SecureWipe(expected.bytes);
  return equal;
}

}  // namespace tpw::crypto
