// Decimal amount text (common/amount.h). Byte 0 picks the scale (0..kAssetScaleMax), the rest is
// the text. A parsed amount must format back to the same text up to trailing fraction zeros
// (the one freedom the input form has), and the formatted text must parse to the same amount.
#include <string>

#include "common/amount.h"
#include "common/limits.h"
#include "fuzz_check.h"

namespace {

// "12.30" and "12.3" and "12" name one amount: drop trailing fraction zeros and a bare point.
std::string WithoutTrailingFractionZeros(std::string_view text) {
  std::string out(text);
  if (out.find('.') == std::string::npos) return out;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto scale = static_cast<uint8_t>(data[0] % (tpw::kAssetScaleMax + 1));
  const std::string_view text = tpw::fuzz::AsText(tpw::fuzz::AsSpan(data + 1, size - 1));
  const auto parsed = tpw::ParseDecimalAmount(text, scale);
  if (!parsed.ok()) return 0;
  const std::string formatted = tpw::FormatDecimalAmount(parsed.value(), scale);
  FUZZ_CHECK(WithoutTrailingFractionZeros(formatted) == WithoutTrailingFractionZeros(text));
  const auto again = tpw::ParseDecimalAmount(formatted, scale);
  FUZZ_CHECK(again.ok() && again.value() == parsed.value());
  return 0;
}
