#include "common/amount.h"

#include "common/assert.h"
#include "common/limits.h"

namespace tpw {

std::string_view AmountErrorName(AmountError error) {
  switch (error) {
    case AmountError::empty: return "empty";
    case AmountError::invalid_character: return "invalid_character";
    case AmountError::leading_zero: return "leading_zero";
    case AmountError::missing_digits: return "missing_digits";
    case AmountError::too_many_fraction_digits: return "too_many_fraction_digits";
    case AmountError::too_many_digits: return "too_many_digits";
    case AmountError::overflow: return "overflow";
    case AmountError::unknown_asset: return "unknown_asset";
  }
  return "unknown";
}

std::string_view AmountErrorMessage(AmountError error) {
  switch (error) {
    case AmountError::empty:
      return "the amount is empty; write it as digits, e.g. 12.34";
    case AmountError::invalid_character:
      return "the amount may contain only digits and one '.'; no signs, blanks, exponents or "
             "separators";
    case AmountError::leading_zero:
      return "the amount has a leading zero; write 7 or 0.07, not 007";
    case AmountError::missing_digits:
      return "the amount needs digits on both sides of '.', e.g. 0.50, not .5 or 5.";
    case AmountError::too_many_fraction_digits:
      return "the amount has more decimals than the asset allows (USD has 2: 1.23, not 1.234)";
    case AmountError::too_many_digits:
      return "the amount has more than 39 digits";
    case AmountError::overflow:
      return "the amount does not fit in 128 bits of minor units";
    case AmountError::unknown_asset:
      return "the asset code is not known; see `tpwallet assets` for the table";
  }
  return "unknown amount error";
}

Result<Amount, AmountError> ParseDecimalAmount(std::string_view text, uint8_t scale) {
  TPW_ASSERT(scale <= kAssetScaleMax);
  if (text.empty()) return Err{AmountError::empty};
  size_t point = std::string_view::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && point == std::string_view::npos) {
      point = i;
    } else if (c < '0' || c > '9') {
      return Err{AmountError::invalid_character};
    }
  }
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view{} : text.substr(point + 1);
  if (whole.empty() || (point != std::string_view::npos && fraction.empty())) {
    return Err{AmountError::missing_digits};
  }
  if (whole.size() > 1 && whole[0] == '0') return Err{AmountError::leading_zero};
  if (whole.size() + fraction.size() > kU128DecimalDigitsMax) {
    return Err{AmountError::too_many_digits};
  }
  if (fraction.size() > scale) return Err{AmountError::too_many_fraction_digits};

  // Digits of whole, then fraction, then zero padding up to `scale` decimals.
  u128 value = 0;
  const size_t padding = scale - fraction.size();
  auto push_digit = [&value](int digit) {
    u128 next = 0;
    if (__builtin_mul_overflow(value, u128{10}, &next)) return false;
    return !__builtin_add_overflow(next, static_cast<u128>(digit), &value);
  };
  for (char c : whole) {
    if (!push_digit(c - '0')) return Err{AmountError::overflow};
  }
  for (char c : fraction) {
    if (!push_digit(c - '0')) return Err{AmountError::overflow};
  }
  for (size_t i = 0; i < padding; ++i) {
    if (!push_digit(0)) return Err{AmountError::overflow};
  }
  return Amount::FromMinor(value);
}

std::string FormatDecimalAmount(Amount amount, uint8_t scale) {
  TPW_ASSERT(scale <= kAssetScaleMax);
  std::string digits = U128ToDecimal(amount.minor());
  if (scale == 0) return digits;
  if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
  digits.insert(digits.size() - scale, 1, '.');
  return digits;
}

}  // namespace tpw
