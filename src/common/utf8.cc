#include "common/utf8.h"

#include <cstdint>

namespace tpw {
namespace {

// Length of the UTF-8 sequence `lead` starts (0: not a lead byte), and the smallest second
// byte it allows (refusing overlong forms and surrogates, as RFC 3629 does).
size_t Utf8SequenceBytes(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

bool Utf8SecondByteFits(uint8_t lead, uint8_t second) {
  if (lead == 0xe0) return second >= 0xa0 && second <= 0xbf;
  if (lead == 0xed) return second >= 0x80 && second <= 0x9f;  // no surrogates
  if (lead == 0xf0) return second >= 0x90 && second <= 0xbf;
  if (lead == 0xf4) return second >= 0x80 && second <= 0x8f;  // at most U+10FFFF
  return second >= 0x80 && second <= 0xbf;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<uint8_t>(text[i]);
    const size_t length = Utf8SequenceBytes(lead);
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<uint8_t>(text[i + k]);
      const bool fits = k == 1 ? Utf8SecondByteFits(lead, next) : (next >= 0x80 && next <= 0xbf);
      if (!fits) return false;
    }
    i += length;
  }
  return true;
}

}  // namespace tpw
