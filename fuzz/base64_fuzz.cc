// base64url text (crypto/base64.h), the text form of offline messages. Byte 0 sets the decoded
// size limit (0..1020 bytes), the rest is the text. Decoding is strict so every byte string has
// exactly one text form: decoded bytes must encode back to the same text. The other way round,
// the rest read as bytes must encode to text that decodes to them.
#include <algorithm>
#include <string>
#include <vector>

#include "crypto/base64.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t decoded_bytes_max = size_t{data[0]} * 4;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  const std::string_view text = tpw::fuzz::AsText(rest);

  const auto decoded = tpw::crypto::Base64UrlDecode(text, decoded_bytes_max);
  if (decoded.ok()) {
    FUZZ_CHECK(decoded.value().size() <= decoded_bytes_max);
    FUZZ_CHECK(tpw::crypto::Base64UrlEncode(decoded.value()) == text);
  } else {
    FUZZ_CHECK(!tpw::crypto::Base64ErrorName(decoded.error()).empty());
  }

  const std::string encoded = tpw::crypto::Base64UrlEncode(rest);
  FUZZ_CHECK(encoded.size() == tpw::crypto::Base64UrlEncodedLength(rest.size()));
  const auto back = tpw::crypto::Base64UrlDecode(encoded, rest.size());
  FUZZ_CHECK(back.ok() &&
             std::equal(back.value().begin(), back.value().end(), rest.begin(), rest.end()));
  return 0;
}
