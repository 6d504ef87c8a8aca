// Strict text → value parsing for everything a user types on the command line or writes in a
// batch file: ids, ledger numbers or asset codes, small integers, amounts, flag names, times.
//
// Every parser accepts exactly one documented form (docs/cli.md) and returns an InputError whose
// message names the field and says what was wrong; nothing is trimmed, rounded or guessed.
// CLI11 only collects the raw strings, so its own number conversion (which would take "1e3",
// "-1" or "0x10" in surprising ways) never touches a value that matters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/amount.h"
#include "common/asset.h"
#include "common/ids.h"
#include "common/result.h"

namespace tpw::cli {

// A bad input value: one sentence naming the field, the text and the problem.
struct InputError {
  std::string message;
};
inline Err<InputError> InputFail(std::string message) {
  return Err<InputError>{InputError{std::move(message)}};
}
template <typename T>
using InputResult = Result<T, InputError>;

// Keeps the first error of several parses, so a function can read many fields in a row and
// check once: `t.code = errors.Take(ParseUnsignedText(...))`.
class FirstError {
 public:
  template <typename T>
  T Take(InputResult<T> result, T fallback = T{}) {
    if (result.ok()) return std::move(result).value();
    Fail(result.error().message);
    return fallback;
  }
  void Fail(std::string message) {
    if (message_.empty()) message_ = std::move(message);
  }
  bool failed() const { return !message_.empty(); }
  InputError error() const { return InputError{message_}; }

 private:
  std::string message_;
};

// An id in the text form of docs/ids.md (decimal, or 0x + hex). `field` names it in errors.
InputResult<u128> ParseIdText(std::string_view field, std::string_view text);
template <typename Tag>
InputResult<Id128<Tag>> ParseIdTextAs(std::string_view field, std::string_view text) {
  InputResult<u128> parsed = ParseIdText(field, text);
  if (!parsed.ok()) return Err{parsed.error()};
  return Id128<Tag>(parsed.value());
}

// An unsigned integer in the id text form (decimal or 0x hex), at most `max`.
InputResult<uint64_t> ParseUnsignedText(std::string_view field, std::string_view text,
                                        uint64_t max);

// For optional command-line values: empty text (the option was not given) reads as 0.
InputResult<u128> ParseOptionalIdText(std::string_view field, std::string_view text);
InputResult<uint64_t> ParseOptionalUnsignedText(std::string_view field, std::string_view text,
                                                uint64_t max);

// A ledger: its number ("1") or the code of an asset in the table ("USD"). Never 0.
InputResult<uint32_t> ParseLedgerText(std::string_view text, const AssetTable& assets);

// Decimal places amounts of `ledger` are written with: the asset's scale, or 0 (whole minor
// units) for a ledger without an asset in the table.
uint8_t LedgerScale(const AssetTable& assets, uint32_t ledger);

// An amount of `ledger`: exact decimal text at the asset's scale ("12.34" for USD), or, when
// `minor_units`, plain minor units ("1234"). No signs, exponents, blanks or separators.
InputResult<Amount> ParseAmountText(std::string_view field, std::string_view text, uint32_t ledger,
                                    bool minor_units, const AssetTable& assets);

// Flag names (docs/ledger.md) → bits. Unknown or repeated names are errors.
InputResult<uint16_t> ParseAccountFlagNames(const std::vector<std::string>& names);
InputResult<uint16_t> ParseTransferFlagNames(const std::vector<std::string>& names);
// Splits "a,b,c" (as typed after --flags); empty items are errors.
InputResult<std::vector<std::string>> SplitFlagList(std::string_view text);
std::vector<std::string> AccountFlagNames(uint16_t flags);
std::vector<std::string> TransferFlagNames(uint16_t flags);

// A point in time: nanoseconds since the Unix epoch ("1700000000000000000"), or UTC RFC 3339
// with a "Z" and 0..9 fraction digits ("2023-11-14T22:13:20Z", "2023-11-14T22:13:20.5Z").
InputResult<Timestamp> ParseTimeText(std::string_view field, std::string_view text);
// "2023-11-14T22:13:20.000000001Z": always nine fraction digits, UTC.
std::string FormatTimeUtc(Timestamp timestamp);

}  // namespace tpw::cli
