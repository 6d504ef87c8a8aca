// The fields of an account or a transfer read out of one parsed JSON object, for any JSON
// representation: the CLI's batch lines (a boost::json tree, batch_input.cc) and the API's
// request bodies (the one-pass api::JsonTape) share this code, so both accept and refuse the
// same things with the same messages (src/api/testdata/transfers_body_outcomes.txt holds the
// API to that).
//
// `Object` is a cheap, copyable handle to a JSON object with
//   Find(key) -> std::optional<Value>                    the member `key` (keys are unique)
//   ForEachMember(fn(std::string_view key, Value) -> bool)  in document order, while fn is true
// and `Value` a handle to any JSON value with
//   is_string() string() is_int64() int64() is_uint64() uint64() is_array() size()
//   ForEachItem(fn(size_t index, Value) -> bool)         an array's items, while fn is true
#pragma once

#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/batch_input.h"
#include "cli/values.h"
#include "common/asset.h"
#include "common/limits.h"
#include "ledger/types.h"

namespace tpw::cli {

inline constexpr std::array<std::string_view, 10> kAccountKeys = {
    "id",           "ledger",       "code",         "flags", "overdraft_limit",
    "overdraft_limit_minor", "user_data_128", "user_data_64", "user_data_32", "timestamp"};
inline constexpr std::array<std::string_view, 14> kTransferKeys = {
    "id",           "debit_account_id", "credit_account_id",
    "amount",       "amount_minor",     "pending_id",
    "timeout",      "ledger",           "code",
    "flags",        "user_data_128",    "user_data_64",
    "user_data_32", "timestamp"};

// "unknown key "k"; known keys: a, b, …"
std::string UnknownKeyMessage(std::string_view key, std::span<const std::string_view> known_keys);

// The first key of `object` not in `known_keys` is an error.
template <typename Object>
InputResult<bool> CheckKeys(Object object, std::span<const std::string_view> known_keys) {
  std::optional<std::string> unknown;
  object.ForEachMember([&](std::string_view key, auto) {
    if (std::find(known_keys.begin(), known_keys.end(), key) != known_keys.end()) return true;
    unknown = std::string(key);
    return false;
  });
  if (unknown) return InputFail(UnknownKeyMessage(*unknown, known_keys));
  return true;
}

// Reads typed fields out of one object, keeping the first error. A missing field reads as zero
// (the ledger then says which required field is missing), except where noted.
template <typename Object>
class JsonFields {
 public:
  using Value = typename decltype(std::declval<Object>().Find({}))::value_type;

  JsonFields(Object object, const AssetTable& assets) : object_(object), assets_(assets) {}

  bool failed() const { return errors_.failed(); }
  InputError error() const { return errors_.error(); }

  // Ids and 128-bit values travel as strings: JSON numbers lose digits past 2^53 in most tools.
  u128 Id(std::string_view key) {
    const std::optional<std::string_view> text = Text(key);
    if (!text) return 0;
    return Take(ParseIdText(key, *text));
  }

  // A JSON integer, or a string in the id text form.
  uint64_t Unsigned(std::string_view key, uint64_t max) {
    const std::optional<Value> value = object_.Find(key);
    if (!value) return 0;
    if (value->is_string()) return Take(ParseUnsignedText(key, value->string(), max));
    if (value->is_uint64() && value->uint64() <= max) return value->uint64();
    if (value->is_int64() && value->int64() >= 0 && static_cast<uint64_t>(value->int64()) <= max) {
      return static_cast<uint64_t>(value->int64());
    }
    Fail("\"" + std::string(key) + "\" must be a whole number from 0 to " + std::to_string(max) +
         " (no sign, fraction or exponent)");
    return 0;
  }

  // A ledger number, or an asset code as a string ("USD").
  uint32_t Ledger() {
    const std::optional<Value> value = object_.Find("ledger");
    if (!value) return 0;
    if (value->is_string()) return Take(ParseLedgerText(value->string(), assets_));
    return static_cast<uint32_t>(Unsigned("ledger", UINT32_MAX));
  }

  std::vector<std::string> Names(std::string_view key) {
    const std::optional<Value> value = object_.Find(key);
    if (!value) return {};
    std::vector<std::string> names;
    if (value->is_array()) {
      value->ForEachItem([&](size_t, Value item) {
        if (item.is_string()) names.emplace_back(item.string());
        return item.is_string();
      });
      if (names.size() == value->size()) return names;
    }
    Fail("\"" + std::string(key) + "\" must be an array of flag names, e.g. [\"linked\"]");
    return {};
  }

  // `key` (decimal in the asset) or `key`_minor (minor units); not both.
  std::optional<AmountText> Amount(std::string_view key) {
    const std::string minor_key = std::string(key) + "_minor";
    const std::optional<std::string_view> decimal = Text(key);
    const std::optional<std::string_view> minor = Text(minor_key);
    if (decimal && minor) {
      Fail("give \"" + std::string(key) + "\" or \"" + minor_key + "\", not both");
    }
    if (decimal) return AmountText{std::string(*decimal), false};
    if (minor) return AmountText{std::string(*minor), true};
    return std::nullopt;
  }

  // Present only so that records printed by --json can be fed back; must be zero.
  void ZeroTimestamp() {
    const std::optional<Value> value = object_.Find("timestamp");
    if (!value) return;
    const bool zero = (value->is_string() && value->string() == "0") ||
                      (value->is_int64() && value->int64() == 0) ||
                      (value->is_uint64() && value->uint64() == 0);
    if (!zero) Fail("\"timestamp\" is assigned by the ledger; leave it out");
  }

  template <typename T>
  T Take(InputResult<T> result) {
    return errors_.Take(std::move(result));
  }

 private:
  // A view into the parsed document (which outlives these fields): ids are read without a copy.
  std::optional<std::string_view> Text(std::string_view key) {
    const std::optional<Value> value = object_.Find(key);
    if (!value) return std::nullopt;
    if (value->is_string()) return std::string_view(value->string());
    Fail("\"" + std::string(key) + "\" must be a string, e.g. \"12\"");
    return std::nullopt;
  }
  void Fail(std::string message) { errors_.Fail(std::move(message)); }

  Object object_;
  const AssetTable& assets_;
  FirstError errors_;
};

// One object → an account: every field; amounts read in the account's ledger.
template <typename Object>
InputResult<ledger::Account> AccountFromFields(Object object, const AssetTable& assets) {
  InputResult<bool> keys = CheckKeys(object, kAccountKeys);
  if (!keys.ok()) return Err{keys.error()};
  JsonFields<Object> fields(object, assets);
  ledger::Account account;
  account.id = AccountId(fields.Id("id"));
  account.ledger = fields.Ledger();
  account.code = static_cast<uint16_t>(fields.Unsigned("code", UINT16_MAX));
  account.flags = fields.Take(ParseAccountFlagNames(fields.Names("flags")));
  if (const std::optional<AmountText> limit = fields.Amount("overdraft_limit")) {
    account.overdraft_limit = fields.Take(ParseAmountText(
        "overdraft_limit", limit->text, account.ledger, limit->minor_units, assets));
  }
  account.user_data_128 = fields.Id("user_data_128");
  account.user_data_64 = fields.Unsigned("user_data_64", UINT64_MAX);
  account.user_data_32 = static_cast<uint32_t>(fields.Unsigned("user_data_32", UINT32_MAX));
  fields.ZeroTimestamp();
  if (fields.failed()) return Err{fields.error()};
  return account;
}

// One object → a transfer draft: the amount stays text until its ledger is known.
template <typename Object>
InputResult<TransferDraft> TransferDraftFromFields(Object object, const AssetTable& assets) {
  InputResult<bool> keys = CheckKeys(object, kTransferKeys);
  if (!keys.ok()) return Err{keys.error()};
  JsonFields<Object> fields(object, assets);
  TransferDraft draft;
  ledger::Transfer& t = draft.transfer;
  t.id = TransferId(fields.Id("id"));
  t.debit_account_id = AccountId(fields.Id("debit_account_id"));
  t.credit_account_id = AccountId(fields.Id("credit_account_id"));
  t.pending_id = TransferId(fields.Id("pending_id"));
  t.timeout = static_cast<uint32_t>(fields.Unsigned("timeout", kTimeoutSecondsMax));
  t.ledger = fields.Ledger();
  t.code = static_cast<uint16_t>(fields.Unsigned("code", UINT16_MAX));
  t.flags = fields.Take(ParseTransferFlagNames(fields.Names("flags")));
  t.user_data_128 = fields.Id("user_data_128");
  t.user_data_64 = fields.Unsigned("user_data_64", UINT64_MAX);
  t.user_data_32 = static_cast<uint32_t>(fields.Unsigned("user_data_32", UINT32_MAX));
  draft.amount = fields.Amount("amount");
  fields.ZeroTimestamp();
  if (fields.failed()) return Err{fields.error()};
  if (!draft.amount.has_value() && !IsPostOrVoid(t)) {
    return InputFail("\"amount\" (or \"amount_minor\") is required except to post or void");
  }
  return draft;
}

}  // namespace tpw::cli
