// HMAC-SHA256 (RFC 2104 / FIPS 198-1, libsodium crypto_auth_hmacsha256), e.g. for webhook
// signatures over `timestamp.body`.
//
// Keys may have any length (longer than 64 bytes are hashed first, as HMAC specifies); use at
// least 32 random bytes. Tags are always the full 32 bytes: HmacSha256Verify accepts no
// truncated tags. HmacSha256Tag has no operator== on purpose: compare tags only with
// HmacSha256Verify (or ConstantTimeEqual), never with memcmp or ==, which leak where the first
// difference is.
//
// Thread-safety: all functions are safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tpw::crypto {

inline constexpr size_t kHmacSha256Bytes = 32;

struct HmacSha256Tag {
  std::array<uint8_t, kHmacSha256Bytes> bytes{};
};

HmacSha256Tag HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> message);

// True when `tag` is exactly the 32-byte HMAC-SHA256 of `message` under `key`. The comparison
// takes the same time wherever the tags differ; a tag of another length is false at once (the
// length is not secret).
bool HmacSha256Verify(std::span<const uint8_t> key, std::span<const uint8_t> message,
                      std::span<const uint8_t> tag);

}  // namespace tpw::crypto
