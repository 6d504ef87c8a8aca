// 128-bit unsigned integers: the type of money and ids. Decimal text conversion lives here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tpw {

using u128 = unsigned __int128;
inline constexpr u128 kU128Max = ~u128{0};
inline constexpr int kU128DecimalDigitsMax = 39;  // 340282366920938463463374607431768211455

inline constexpr u128 MakeU128(uint64_t hi, uint64_t lo) { return (u128{hi} << 64) | lo; }
inline constexpr uint64_t High64(u128 v) { return static_cast<uint64_t>(v >> 64); }
inline constexpr uint64_t Low64(u128 v) { return static_cast<uint64_t>(v); }

// Decimal digits, no sign, no leading '+'.
std::string U128ToDecimal(u128 value);

// Parses 1..39 ASCII decimal digits exactly; nullopt on anything else or on overflow.
// Leading zeros are accepted here; callers that need a canonical form check for them.
std::optional<u128> ParseU128Decimal(std::string_view text);

// Parses 1..32 hex digits (either case, no prefix); nullopt on anything else.
std::optional<u128> ParseU128Hex(std::string_view text);

// 32 lowercase hex digits, zero padded.
std::string U128ToHex(u128 value);

}  // namespace tpw
