#include "common/int128.h"

#include <algorithm>
#include <array>

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
  // The first 19 digits cannot overflow 64 bits: plain 64-bit arithmetic (ids and amounts
  // rarely have more); only the digits after them need the checked 128-bit steps.
  constexpr size_t kU64SafeDigits = 19;
  const size_t head = std::min(text.size(), kU64SafeDigits);
  uint64_t low = 0;
  for (size_t i = 0; i < head; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    low = low * 10 + static_cast<uint64_t>(c - '0');
  }
  u128 value = low;
  for (size_t i = head; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    u128 next = 0;
    if (__builtin_mul_overflow(value, u128{10}, &next)) return std::nullopt;
    if (__builtin_add_overflow(next, static_cast<u128>(c - '0'), &value)) return std::nullopt;
  }
  return value;
}

// A hex digit's value, -1 for any other byte: one load per digit instead of three ranges.
static constexpr std::array<int8_t, 256> kHexDigitValues = [] {
  std::array<int8_t, 256> values{};
  values.fill(-1);
  for (int c = '0'; c <= '9'; ++c) values[static_cast<size_t>(c)] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c)
    values[static_cast<size_t>(c)] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c)
    values[static_cast<size_t>(c)] = static_cast<int8_t>(c - 'A' + 10);
  return values;
}();

static int HexDigitValue(char c) { return kHexDigitValues[static_cast<unsigned char>(c)]; }

// Up to 16 hex digits into 64 bits; false on a non-hex character.
static bool ParseU64Hex(std::string_view text, uint64_t& value) {
  value = 0;
  for (char c : text) {
    const int digit = HexDigitValue(c);
    if (digit < 0) return false;
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  return true;
}

std::optional<u128> ParseU128Hex(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  // Two 64-bit halves: a 128-bit shift per digit costs several instructions more.
  const size_t high_digits = text.size() > 16 ? text.size() - 16 : 0;
  uint64_t high = 0;
  uint64_t low = 0;
  if (!ParseU64Hex(text.substr(0, high_digits), high)) return std::nullopt;
  if (!ParseU64Hex(text.substr(high_digits), low)) return std::nullopt;
  return (u128{high} << 64) | low;
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
