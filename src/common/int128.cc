#include "common/int128.h"

#include <algorithm>

namespace tpw {

std::string U128ToDecimal(u128 value) {
  // Digits from the right. A u128 division is a libgcc call costing tens of cycles per digit, so
  // values above 2^64 give up 19 digits per division and everything else uses 64-bit arithmetic
  // (the compiler turns /10 into a multiplication). Ids and amounts are usually below 2^64.
  char buffer[kU128DecimalDigitsMax];
  char* const end = buffer + sizeof buffer;
  char* p = end;
  constexpr uint64_t kTen19 = 10'000'000'000'000'000'000ull;
  while (value > UINT64_MAX) {
    uint64_t chunk = static_cast<uint64_t>(value % kTen19);
    value /= kTen19;
    for (int i = 0; i < 19; ++i) {
      *--p = static_cast<char>('0' + chunk % 10);
      chunk /= 10;
    }
  }
  uint64_t rest = static_cast<uint64_t>(value);
  do {
    *--p = static_cast<char>('0' + rest % 10);
    rest /= 10;
  } while (rest != 0);
  return std::string(p, end);
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
