#include "common/ids.h"

namespace tpw {

std::string_view IdErrorName(IdError error) {
  switch (error) {
    case IdError::empty: return "empty";
    case IdError::invalid_character: return "invalid_character";
    case IdError::too_long: return "too_long";
    case IdError::overflow: return "overflow";
  }
  return "unknown";
}

std::string_view IdErrorMessage(IdError error) {
  switch (error) {
    case IdError::empty: return "the id is empty; write it as decimal digits or 0x-prefixed hex";
    case IdError::invalid_character:
      return "the id may contain only decimal digits, or hex digits after 0x";
    case IdError::too_long: return "the id has more than 39 decimal or 32 hex digits";
    case IdError::overflow: return "the id is larger than 2^128-1";
  }
  return "unknown id error";
}

Result<u128, IdError> ParseId(std::string_view text) {
  if (text.empty()) return Err{IdError::empty};
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    const std::string_view hex = text.substr(2);
    if (hex.size() > 32) return Err{IdError::too_long};
    const std::optional<u128> value = ParseU128Hex(hex);
    if (!value) return Err{IdError::invalid_character};
    return *value;
  }
  for (char c : text) {
    if (c < '0' || c > '9') return Err{IdError::invalid_character};
  }
  if (text.size() > kU128DecimalDigitsMax) return Err{IdError::too_long};
  const std::optional<u128> value = ParseU128Decimal(text);
  if (!value) return Err{IdError::overflow};
  return *value;
}

std::string FormatId(u128 id) { return U128ToDecimal(id); }

}  // namespace tpw
