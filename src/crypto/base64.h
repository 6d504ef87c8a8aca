// base64url without padding (RFC 4648 section 5, alphabet A-Z a-z 0-9 - _), the text form of
// binary messages in QR codes, URLs and the CLI.
//
// Decoding is strict so that every byte string has exactly one text form (a token's text can be
// compared or hashed as-is): no '=' padding, no whitespace or line breaks, no characters of the
// standard alphabet ('+', '/'), a length that is not 1 mod 4, and the unused low bits of the last
// character must be zero.
//
// Thread-safety: all functions are safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tpw::crypto {

// Stable numeric values. Append only.
#define TPW_BASE64_ERRORS(X)                                                                     \
  X(too_long, 1, "the text decodes to more bytes than the caller allows")                        \
  X(invalid_character, 2, "a character is outside A-Z a-z 0-9 - _ (including whitespace)")       \
  X(padding_not_allowed, 3, "the text contains '=' padding")                                     \
  X(invalid_length, 4, "the length is 1 more than a multiple of 4, which no byte count encodes") \
  X(non_canonical, 5, "the unused low bits of the last character are not zero")

enum class Base64Error : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_BASE64_ERRORS(TPW_X)
#undef TPW_X
};
std::string_view Base64ErrorName(Base64Error error);
std::string_view Base64ErrorMessage(Base64Error error);

// Characters Base64UrlEncode produces for `bytes` bytes: ceil(bytes * 4 / 3).
size_t Base64UrlEncodedLength(size_t bytes);

std::string Base64UrlEncode(std::span<const uint8_t> bytes);

// Decodes `text`, which must decode to at most `decoded_bytes_max` bytes (checked from the
// length before any other work). The empty string decodes to no bytes.
Result<std::vector<uint8_t>, Base64Error> Base64UrlDecode(std::string_view text,
                                                          size_t decoded_bytes_max);

}  // namespace tpw::crypto
