#include "common/int128.h"

#include <algorithm>

namespace tpw {

std::string U128ToDecimal(u128 value) {
  char buffer[kU128DecimalDigitsMax + 1];
  int length = 0;
  do {
    buffer[length++] = static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  } while (value != 0);
  std::reverse(buffer, buffer + length);
  return std::string(buffer, static_cast<size_t>(length));
}

std::optional<u128> ParseU128Decimal(std::string_view text) {
  if (text.empty() || text.size() > kU128DecimalDigitsMax) return std::nullopt;
  u128 value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    u128 next = 0;
    if (__builtin_mul_overflow(value, u128{10}, &next)) return std::nullopt;
    if (__builtin_add_overflow(next, static_cast<u128>(c - '0'), &value)) return std::nullopt;
  }
  return value;
}

static int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<u128> ParseU128Hex(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  u128 value = 0;
  for (char c : text) {
    const int digit = HexDigitValue(c);
    if (digit < 0) return std::nullopt;
    value = (value << 4) | static_cast<u128>(digit);
  }
  return value;
}

std::string U128ToHex(u128 value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 31; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kDigits[static_cast<int>(value & 0xF)];
    value >>= 4;
  }
  return out;
}

}  // namespace tpw
