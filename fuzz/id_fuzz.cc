// Id text (common/ids.h): decimal, or 0x + 1..32 hex digits. Every parsed id formats to decimal
// that parses back to it; decimal input without leading zeros is the canonical form, so it must
// come back byte for byte.
#include <string>

#include "common/ids.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tpw::fuzz::AsText(tpw::fuzz::AsSpan(data, size));
  const auto parsed = tpw::ParseId(text);
  if (!parsed.ok()) return 0;
  const std::string formatted = tpw::FormatId(parsed.value());
  const auto again = tpw::ParseId(formatted);
  FUZZ_CHECK(again.ok() && again.value() == parsed.value());
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const bool leading_zero = text.size() > 1 && text[0] == '0';
  if (!hex && !leading_zero) FUZZ_CHECK(formatted == text);
  return 0;
}
