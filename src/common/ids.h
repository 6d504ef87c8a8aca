// Strong 128-bit ids and the sequencer timestamp.
//
// Text form of an id (docs/ids.md): canonical output is decimal without leading zeros
// ("42"); input accepts that or "0x" followed by 1..32 hex digits ("0x2a"). Ids 0 and 2^128-1
// are reserved (the ledger rejects them) but parse fine, so the ledger can say why.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/int128.h"
#include "common/result.h"

namespace tpw {

template <typename Tag>
struct Id128 {
  u128 value = 0;

  constexpr Id128() = default;
  constexpr explicit Id128(u128 v) : value(v) {}
  constexpr bool is_zero() const { return value == 0; }
  constexpr bool is_max() const { return value == kU128Max; }
  friend constexpr auto operator<=>(Id128, Id128) = default;
  friend constexpr bool operator==(Id128, Id128) = default;
};

using AccountId = Id128<struct AccountIdTag>;
using TransferId = Id128<struct TransferIdTag>;

// Nanoseconds since the Unix epoch, assigned by the sequencer; unique and strictly increasing.
struct Timestamp {
  uint64_t ns = 0;
  friend constexpr auto operator<=>(Timestamp, Timestamp) = default;
  friend constexpr bool operator==(Timestamp, Timestamp) = default;
};
inline constexpr uint64_t kNanosPerSecond = 1'000'000'000;

enum class IdError : uint8_t {
  empty = 1,
  invalid_character = 2,
  too_long = 3,  // over 39 decimal digits or 32 hex digits
  overflow = 4,  // 39 decimal digits above 2^128-1
};
std::string_view IdErrorName(IdError error);
std::string_view IdErrorMessage(IdError error);

Result<u128, IdError> ParseId(std::string_view text);
std::string FormatId(u128 id);

template <typename Tag>
Result<Id128<Tag>, IdError> ParseIdAs(std::string_view text) {
  Result<u128, IdError> parsed = ParseId(text);
  if (!parsed.ok()) return Err{parsed.error()};
  return Id128<Tag>(parsed.value());
}
template <typename Tag>
std::string FormatId(Id128<Tag> id) {
  return FormatId(id.value);
}

}  // namespace tpw
