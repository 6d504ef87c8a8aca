// Amount: exact money as unsigned 128-bit minor units (cents for USD, wei for ETH).
//
// There is no operator+ or operator-: every arithmetic step is checked and the caller must
// decide what an overflow means. No floating point touches an Amount anywhere.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "common/int128.h"
#include "common/result.h"

namespace tpw {

class Amount {
 public:
  constexpr Amount() = default;
  static constexpr Amount FromMinor(u128 minor_units) { return Amount(minor_units); }
  static constexpr Amount Zero() { return Amount(0); }
  static constexpr Amount Max() { return Amount(kU128Max); }

  constexpr u128 minor() const { return minor_; }
  constexpr bool is_zero() const { return minor_ == 0; }

  // Checked arithmetic: nullopt on overflow (add) or underflow (sub).
  [[nodiscard]] constexpr std::optional<Amount> CheckedAdd(Amount other) const {
    u128 sum = 0;
    if (__builtin_add_overflow(minor_, other.minor_, &sum)) return std::nullopt;
    return Amount(sum);
  }
  [[nodiscard]] constexpr std::optional<Amount> CheckedSub(Amount other) const {
    u128 difference = 0;
    if (__builtin_sub_overflow(minor_, other.minor_, &difference)) return std::nullopt;
    return Amount(difference);
  }

  friend constexpr auto operator<=>(Amount, Amount) = default;
  friend constexpr bool operator==(Amount, Amount) = default;

 private:
  constexpr explicit Amount(u128 minor_units) : minor_(minor_units) {}
  u128 minor_ = 0;
};

// Errors from parsing a decimal amount string. Stable numeric values.
enum class AmountError : uint8_t {
  empty = 1,                     // ""
  invalid_character = 2,         // signs, blanks, exponents, letters, commas
  leading_zero = 3,              // "007" (only "0" or "0.xx" may start with 0)
  missing_digits = 4,            // ".5", "5.", "."
  too_many_fraction_digits = 5,  // "1.234" for a 2-decimal asset
  too_many_digits = 6,           // more than 39 digits in all
  overflow = 7,                  // fits 39 digits but not 128 bits of minor units
  unknown_asset = 8,             // asset code not in the table
};

std::string_view AmountErrorName(AmountError error);
std::string_view AmountErrorMessage(AmountError error);

// Parses a plain decimal string ("12.34") into minor units at `scale` decimals: exactly
// digits, at most one '.', at most `scale` fraction digits. "12.3" at scale 2 is 1230.
Result<Amount, AmountError> ParseDecimalAmount(std::string_view text, uint8_t scale);

// Formats minor units at `scale` decimals: 1234 at scale 2 is "12.34"; 5 at scale 2 is "0.05".
std::string FormatDecimalAmount(Amount amount, uint8_t scale);

}  // namespace tpw
