#include "cli/values.h"

#include <array>
#include <cstdio>

#include "common/int128.h"
#include "common/limits.h"
#include "ledger/types.h"

namespace tpw::cli {
namespace {

// Quotes user text for an error message, cut short so a hostile line cannot flood the screen.
std::string Quote(std::string_view text) {
  constexpr size_t kShownBytesMax = 60;
  std::string out = "\"";
  for (char c : text.substr(0, kShownBytesMax)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  if (text.size() > kShownBytesMax) out += "...";
  return out + "\"";
}

struct FlagName {
  std::string_view name;
  uint16_t bit;
};

constexpr std::array<FlagName, 5> kAccountFlagNames = {{
    {"linked", ledger::account_flags::kLinked},
    {"debits_must_not_exceed_credits", ledger::account_flags::kDebitsMustNotExceedCredits},
    {"credits_must_not_exceed_debits", ledger::account_flags::kCreditsMustNotExceedDebits},
    {"history", ledger::account_flags::kHistory},
    {"closed", ledger::account_flags::kClosed},
}};

constexpr std::array<FlagName, 8> kTransferFlagNames = {{
    {"linked", ledger::transfer_flags::kLinked},
    {"pending", ledger::transfer_flags::kPending},
    {"post_pending_transfer", ledger::transfer_flags::kPostPendingTransfer},
    {"void_pending_transfer", ledger::transfer_flags::kVoidPendingTransfer},
    {"balancing_debit", ledger::transfer_flags::kBalancingDebit},
    {"balancing_credit", ledger::transfer_flags::kBalancingCredit},
    {"closing_debit", ledger::transfer_flags::kClosingDebit},
    {"closing_credit", ledger::transfer_flags::kClosingCredit},
}};

template <size_t N>
InputResult<uint16_t> ParseFlagNames(const std::array<FlagName, N>& table,
                                     const std::vector<std::string>& names, const char* kind) {
  uint16_t flags = 0;
  for (const std::string& name : names) {
    uint16_t bit = 0;
    for (const FlagName& entry : table) {
      if (entry.name == name) bit = entry.bit;
    }
    if (bit == 0) {
      std::string known;
      for (const FlagName& entry : table)
        known += (known.empty() ? "" : ", ") + std::string(entry.name);
      return InputFail("unknown " + std::string(kind) + " flag " + Quote(name) +
                       "; known: " + known);
    }
    if ((flags & bit) != 0) return InputFail("flag " + Quote(name) + " is given twice");
    flags = static_cast<uint16_t>(flags | bit);
  }
  return flags;
}

template <size_t N>
std::vector<std::string> FlagNames(const std::array<FlagName, N>& table, uint16_t flags) {
  std::vector<std::string> names;
  for (const FlagName& entry : table) {
    if ((flags & entry.bit) != 0) names.emplace_back(entry.name);
  }
  return names;
}

// ---- Civil time (proleptic Gregorian, UTC), after Howard Hinnant's days_from_civil ----------

int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

struct CivilDate {
  int64_t year;
  int64_t month;
  int64_t day;
};

CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool IsLeapYear(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int64_t DaysInMonth(int64_t year, int64_t month) {
  constexpr std::array<int64_t, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[static_cast<size_t>(month - 1)];
}

// Reads `count` ASCII digits at `pos`; -1 if any is not a digit.
int64_t Digits(std::string_view text, size_t pos, size_t count) {
  int64_t value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" → ns since the epoch; nullopt for any other shape or range.
std::optional<uint64_t> ParseRfc3339Utc(std::string_view text) {
  constexpr size_t kSecondsEnd = 19;  // "YYYY-MM-DDTHH:MM:SS"
  if (text.size() < kSecondsEnd + 1 || text.back() != 'Z') return std::nullopt;
  if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const int64_t year = Digits(text, 0, 4);
  const int64_t month = Digits(text, 5, 2);
  const int64_t day = Digits(text, 8, 2);
  const int64_t hour = Digits(text, 11, 2);
  const int64_t minute = Digits(text, 14, 2);
  const int64_t second = Digits(text, 17, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59 || day > DaysInMonth(year, month)) {
    return std::nullopt;
  }
  uint64_t fraction_ns = 0;
  const std::string_view fraction = text.substr(kSecondsEnd, text.size() - kSecondsEnd - 1);
  if (!fraction.empty()) {
    if (fraction[0] != '.' || fraction.size() < 2 || fraction.size() > 10) return std::nullopt;
    const int64_t digits = Digits(fraction, 1, fraction.size() - 1);
    if (digits < 0) return std::nullopt;
    fraction_ns = static_cast<uint64_t>(digits);
    for (size_t i = fraction.size() - 1; i < 9; ++i) fraction_ns *= 10;
  }
  const auto days = static_cast<uint64_t>(DaysFromCivil(year, month, day));
  const auto seconds = static_cast<uint64_t>(hour * 3600 + minute * 60 + second);
  uint64_t ns = 0;
  if (__builtin_mul_overflow(days, uint64_t{86400}, &ns) ||
      __builtin_add_overflow(ns, seconds, &ns) ||
      __builtin_mul_overflow(ns, kNanosPerSecond, &ns) ||
      __builtin_add_overflow(ns, fraction_ns, &ns)) {
    return std::nullopt;
  }
  return ns;
}

}  // namespace

InputResult<u128> ParseIdText(std::string_view field, std::string_view text) {
  const Result<u128, IdError> parsed = ParseId(text);
  if (!parsed.ok()) {
    return InputFail(std::string(field) + " " + Quote(text) + " is not an id (" +
                     std::string(IdErrorName(parsed.error())) + ": " +
                     std::string(IdErrorMessage(parsed.error())) +
                     "); write decimal digits or 0x and hex digits");
  }
  return parsed.value();
}

InputResult<uint64_t> ParseUnsignedText(std::string_view field, std::string_view text,
                                        uint64_t max) {
  const Result<u128, IdError> parsed = ParseId(text);
  if (!parsed.ok() || parsed.value() > max) {
    return InputFail(std::string(field) + " " + Quote(text) + " is not a whole number from 0 to " +
                     std::to_string(max) + " (decimal digits, or 0x and hex digits)");
  }
  return static_cast<uint64_t>(parsed.value());
}

InputResult<u128> ParseOptionalIdText(std::string_view field, std::string_view text) {
  if (text.empty()) return u128{0};
  return ParseIdText(field, text);
}

InputResult<uint64_t> ParseOptionalUnsignedText(std::string_view field, std::string_view text,
                                                uint64_t max) {
  if (text.empty()) return uint64_t{0};
  return ParseUnsignedText(field, text, max);
}

InputResult<uint32_t> ParseLedgerText(std::string_view text, const AssetTable& assets) {
  if (const Asset* asset = assets.FindByCode(text)) return asset->ledger;
  const Result<u128, IdError> parsed = ParseId(text);
  if (!parsed.ok() || parsed.value() == 0 || parsed.value() > UINT32_MAX) {
    std::string known;
    for (const Asset& asset : assets.assets()) known += (known.empty() ? "" : ", ") + asset.code;
    return InputFail("ledger " + Quote(text) + " is neither a ledger number (1 to 4294967295) " +
                     "nor an asset code (" + known + ")");
  }
  return static_cast<uint32_t>(parsed.value());
}

uint8_t LedgerScale(const AssetTable& assets, uint32_t ledger) {
  const Asset* asset = assets.FindByLedger(ledger);
  return asset == nullptr ? 0 : asset->scale;
}

InputResult<Amount> ParseAmountText(std::string_view field, std::string_view text, uint32_t ledger,
                                    bool minor_units, const AssetTable& assets) {
  const Asset* asset = assets.FindByLedger(ledger);
  const uint8_t scale = minor_units ? 0 : LedgerScale(assets, ledger);
  const Result<Amount, AmountError> parsed = ParseDecimalAmount(text, scale);
  if (parsed.ok()) return parsed.value();
  // The shared sentence for too_many_fraction_digits speaks of USD; say what this asset takes.
  std::string why;
  if (parsed.error() != AmountError::too_many_fraction_digits) {
    why = std::string(AmountErrorMessage(parsed.error()));
  } else if (minor_units) {
    why = "minor units are whole numbers, e.g. 1234";
  } else if (asset != nullptr) {
    why = asset->code + " amounts have at most " + std::to_string(asset->scale) +
          " decimals, e.g. " + FormatDecimalAmount(Amount::FromMinor(1234), asset->scale);
  } else {
    why = "ledger " + std::to_string(ledger) +
          " has no asset in the table, so its amounts are whole minor units, e.g. 1234";
  }
  return InputFail(std::string(field) + " " + Quote(text) + " is not a valid amount (" +
                   std::string(AmountErrorName(parsed.error())) + "): " + why);
}

InputResult<uint16_t> ParseAccountFlagNames(const std::vector<std::string>& names) {
  return ParseFlagNames(kAccountFlagNames, names, "account");
}

InputResult<uint16_t> ParseTransferFlagNames(const std::vector<std::string>& names) {
  return ParseFlagNames(kTransferFlagNames, names, "transfer");
}

InputResult<std::vector<std::string>> SplitFlagList(std::string_view text) {
  std::vector<std::string> names;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) {
      return InputFail("flag list " + Quote(text) + " has an empty item; write name,name,...");
    }
    names.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return names;
}

std::vector<std::string> AccountFlagNames(uint16_t flags) {
  return FlagNames(kAccountFlagNames, flags);
}

std::vector<std::string> TransferFlagNames(uint16_t flags) {
  return FlagNames(kTransferFlagNames, flags);
}

InputResult<Timestamp> ParseTimeText(std::string_view field, std::string_view text) {
  if (text.find('T') != std::string_view::npos) {
    const std::optional<uint64_t> ns = ParseRfc3339Utc(text);
    if (ns.has_value()) return Timestamp{*ns};
  } else {
    const Result<u128, IdError> parsed = ParseId(text);
    if (parsed.ok() && parsed.value() <= UINT64_MAX) {
      return Timestamp{static_cast<uint64_t>(parsed.value())};
    }
  }
  return InputFail(std::string(field) + " " + Quote(text) +
                   " is not a time: write nanoseconds since 1970 (a timestamp from the output) "
                   "or UTC like 2024-01-31T12:00:00Z");
}

std::string FormatTimeUtc(Timestamp timestamp) {
  const uint64_t seconds_total = timestamp.ns / kNanosPerSecond;
  const uint64_t fraction_ns = timestamp.ns % kNanosPerSecond;
  const auto days = static_cast<int64_t>(seconds_total / 86400);
  const uint64_t second_of_day = seconds_total % 86400;
  const CivilDate date = CivilFromDays(days);
  // Written digit by digit: snprintf cost a few percent of the HTTP API's CPU per transfer.
  std::string text = "0000-00-00T00:00:00.000000000Z";
  const auto put = [&text](size_t last, uint64_t value, int digits) {
    for (int i = 0; i < digits; ++i, value /= 10) {
      text[last - static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
    }
  };
  // u64 nanoseconds end in the year 2554: always four year digits.
  put(3, static_cast<uint64_t>(date.year), 4);
  put(6, static_cast<uint64_t>(date.month), 2);
  put(9, static_cast<uint64_t>(date.day), 2);
  put(12, second_of_day / 3600, 2);
  put(15, second_of_day / 60 % 60, 2);
  put(18, second_of_day % 60, 2);
  put(28, fraction_ns, 9);
  return text;
}

}  // namespace tpw::cli
