#include "cli/record_json.h"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "cli/render.h"
#include "ledger/results.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;
namespace tf = ledger::transfer_flags;

bj::array NamesArray(const std::vector<std::string>& names) {
  bj::array out;
  for (const std::string& name : names) out.emplace_back(name);
  return out;
}

// Puts the fields every event has when they are set; zero fields are left out (they read as 0).
template <typename Event>
void PutCommonFields(bj::object& out, const Event& e) {
  out["id"] = FormatId(e.id);
  if (e.ledger != 0) out["ledger"] = e.ledger;
  if (e.code != 0) out["code"] = e.code;
  if (e.user_data_128 != 0) out["user_data_128"] = FormatId(e.user_data_128);
  if (e.user_data_64 != 0) out["user_data_64"] = std::to_string(e.user_data_64);
  if (e.user_data_32 != 0) out["user_data_32"] = e.user_data_32;
}

// Reads the fields of one object of a server's answer, keeping the first error. Every field
// read is required.
class RecordFields {
 public:
  explicit RecordFields(const bj::value& value) {
    if (value.is_object()) {
      object_ = &value.get_object();
    } else {
      errors_.Fail("a record is not a JSON object");
    }
  }

  bool failed() const { return errors_.failed(); }
  InputError error() const { return errors_.error(); }

  std::string Text(std::string_view key) {
    const bj::value* value = Find(key);
    if (value == nullptr) return "";
    if (!value->is_string()) {
      errors_.Fail("\"" + std::string(key) + "\" is not a string");
      return "";
    }
    return std::string(value->get_string().data(), value->get_string().size());
  }

  bool IsNull(std::string_view key) {
    const bj::value* value = Find(key);
    return value != nullptr && value->is_null();
  }

  u128 Id(std::string_view key) {
    const std::string text = Text(key);
    return failed() ? 0 : errors_.Take(ParseIdText(key, text));
  }

  // A JSON integer or a decimal string, at most `max`.
  uint64_t Unsigned(std::string_view key, uint64_t max) {
    const bj::value* value = Find(key);
    if (value == nullptr) return 0;
    if (value->is_string()) return errors_.Take(ParseUnsignedText(key, Text(key), max));
    if (value->is_uint64() && value->get_uint64() <= max) return value->get_uint64();
    if (value->is_int64() && value->get_int64() >= 0 &&
        static_cast<uint64_t>(value->get_int64()) <= max) {
      return static_cast<uint64_t>(value->get_int64());
    }
    errors_.Fail("\"" + std::string(key) + "\" is not a whole number up to " + std::to_string(max));
    return 0;
  }

  // `key`_minor: the exact amount in minor units.
  Amount MinorAmount(std::string_view key) {
    const std::string minor_key = std::string(key) + "_minor";
    const std::string text = Text(minor_key);
    if (failed()) return Amount::Zero();
    const Result<Amount, AmountError> amount = ParseDecimalAmount(text, 0);
    if (amount.ok()) return amount.value();
    errors_.Fail("\"" + minor_key + "\" is not an amount in minor units");
    return Amount::Zero();
  }

  std::vector<std::string> Names(std::string_view key) {
    const bj::value* value = Find(key);
    std::vector<std::string> names;
    if (value == nullptr) return names;
    if (value->is_array()) {
      for (const bj::value& item : value->get_array()) {
        if (!item.is_string()) break;
        names.emplace_back(item.get_string().data(), item.get_string().size());
      }
      if (names.size() == value->get_array().size()) return names;
    }
    errors_.Fail("\"" + std::string(key) + "\" is not an array of names");
    return {};
  }

  Timestamp Time() { return Timestamp{Unsigned("timestamp", UINT64_MAX)}; }

  template <typename T>
  T Take(InputResult<T> result) {
    return errors_.Take(std::move(result));
  }
  void Fail(std::string message) { errors_.Fail(std::move(message)); }

 private:
  const bj::value* Find(std::string_view key) {
    if (object_ == nullptr) return nullptr;
    const bj::value* value = object_->if_contains(bj::string_view(key.data(), key.size()));
    if (value == nullptr) errors_.Fail("\"" + std::string(key) + "\" is missing");
    return value;
  }

  const bj::object* object_ = nullptr;
  FirstError errors_;
};

InputResult<ledger::PendingStatus> PendingStatusFromName(std::string_view name) {
  using ledger::PendingStatus;
  for (PendingStatus status : {PendingStatus::pending, PendingStatus::posted, PendingStatus::voided,
                               PendingStatus::expired}) {
    if (PendingStatusName(status) == name) return status;
  }
  return InputFail("unknown pending_status \"" + std::string(name) + "\"");
}

// The result code of `name`, checked against its number; all codes fit in a byte.
template <typename Code>
InputResult<Code> ResultFromName(std::string_view name, uint64_t number) {
  if (number > UINT8_MAX) return InputFail("result_code " + std::to_string(number) + " is unknown");
  const Code code = static_cast<Code>(number);
  if (ledger::ResultName(code) != name) {
    return InputFail("result \"" + std::string(name) + "\" does not match result_code " +
                     std::to_string(number) + " (a server of another version?)");
  }
  return code;
}

// OutcomesToJson read back: the results of the events that were not `created`.
template <typename Code, typename SparseResult>
InputResult<std::vector<SparseResult>> ResultsFromJson(const bj::value& value, size_t events) {
  RecordFields batch(value);
  const uint64_t count = batch.Unsigned("events", UINT32_MAX);
  if (batch.failed()) return Err{batch.error()};
  const bj::value* results = value.get_object().if_contains("results");
  if (count != events || results == nullptr || !results->is_array() ||
      results->get_array().size() != events) {
    return InputFail("the answer does not hold one result for each of the " +
                     std::to_string(events) + " events sent");
  }
  std::vector<SparseResult> sparse;
  for (size_t i = 0; i < events; ++i) {
    RecordFields item(results->get_array()[i]);
    const uint64_t index = item.Unsigned("index", UINT32_MAX);
    const std::string name = item.Text("result");
    const uint64_t number = item.Unsigned("result_code", UINT32_MAX);
    if (item.failed()) return Err{item.error()};
    if (index != i) return InputFail("results are not in the order of the events sent");
    InputResult<Code> code = ResultFromName<Code>(name, number);
    if (!code.ok()) return Err{code.error()};
    if (code.value() != Code::created) {
      sparse.push_back(SparseResult{static_cast<uint32_t>(i), code.value()});
    }
  }
  return sparse;
}

}  // namespace

bj::object AccountToRequestJson(const ledger::Account& account) {
  bj::object out;
  PutCommonFields(out, account);
  if (account.flags != 0) out["flags"] = NamesArray(AccountFlagNames(account.flags));
  if (!account.overdraft_limit.is_zero()) {
    out["overdraft_limit_minor"] = U128ToDecimal(account.overdraft_limit.minor());
  }
  return out;
}

bj::object TransferToRequestJson(const ledger::Transfer& t) {
  bj::object out;
  PutCommonFields(out, t);
  if (t.debit_account_id.value != 0) out["debit_account_id"] = FormatId(t.debit_account_id);
  if (t.credit_account_id.value != 0) out["credit_account_id"] = FormatId(t.credit_account_id);
  if (t.pending_id.value != 0) out["pending_id"] = FormatId(t.pending_id);
  if (t.timeout != 0) out["timeout"] = t.timeout;
  if (t.flags != 0) out["flags"] = NamesArray(TransferFlagNames(t.flags));
  // Without an amount, the API posts the full pending amount and voids with 0 (as the CLI).
  const bool post_all =
      (t.flags & tf::kPostPendingTransfer) != 0 && t.amount == ledger::kPostFullAmount;
  const bool void_zero = (t.flags & tf::kVoidPendingTransfer) != 0 && t.amount.is_zero();
  if (!post_all && !void_zero) out["amount_minor"] = U128ToDecimal(t.amount.minor());
  return out;
}

InputResult<ledger::Account> AccountFromRecordJson(const bj::value& value) {
  RecordFields f(value);
  ledger::Account a;
  a.id = AccountId(f.Id("id"));
  a.ledger = static_cast<uint32_t>(f.Unsigned("ledger", UINT32_MAX));
  a.code = static_cast<uint16_t>(f.Unsigned("code", UINT16_MAX));
  a.flags = f.Take(ParseAccountFlagNames(f.Names("flags")));
  a.debits_pending = f.MinorAmount("debits_pending");
  a.debits_posted = f.MinorAmount("debits_posted");
  a.credits_pending = f.MinorAmount("credits_pending");
  a.credits_posted = f.MinorAmount("credits_posted");
  a.overdraft_limit = f.MinorAmount("overdraft_limit");
  a.user_data_128 = f.Id("user_data_128");
  a.user_data_64 = f.Unsigned("user_data_64", UINT64_MAX);
  a.user_data_32 = static_cast<uint32_t>(f.Unsigned("user_data_32", UINT32_MAX));
  a.timestamp = f.Time();
  if (f.failed()) return Err{f.error()};
  return a;
}

InputResult<TransferRecord> TransferFromRecordJson(const bj::value& value) {
  RecordFields f(value);
  TransferRecord record;
  ledger::Transfer& t = record.transfer;
  t.id = TransferId(f.Id("id"));
  t.debit_account_id = AccountId(f.Id("debit_account_id"));
  t.credit_account_id = AccountId(f.Id("credit_account_id"));
  t.amount = f.MinorAmount("amount");
  t.ledger = static_cast<uint32_t>(f.Unsigned("ledger", UINT32_MAX));
  t.code = static_cast<uint16_t>(f.Unsigned("code", UINT16_MAX));
  t.flags = f.Take(ParseTransferFlagNames(f.Names("flags")));
  t.pending_id = TransferId(f.Id("pending_id"));
  t.timeout = static_cast<uint32_t>(f.Unsigned("timeout", UINT32_MAX));
  if (!f.IsNull("pending_status")) {
    record.status = f.Take(PendingStatusFromName(f.Text("pending_status")));
  }
  t.user_data_128 = f.Id("user_data_128");
  t.user_data_64 = f.Unsigned("user_data_64", UINT64_MAX);
  t.user_data_32 = static_cast<uint32_t>(f.Unsigned("user_data_32", UINT32_MAX));
  t.timestamp = f.Time();
  if (f.failed()) return Err{f.error()};
  return record;
}

InputResult<ledger::AccountBalance> BalanceFromRecordJson(const bj::value& value) {
  RecordFields f(value);
  ledger::AccountBalance b;
  b.timestamp = f.Time();
  b.debits_pending = f.MinorAmount("debits_pending");
  b.debits_posted = f.MinorAmount("debits_posted");
  b.credits_pending = f.MinorAmount("credits_pending");
  b.credits_posted = f.MinorAmount("credits_posted");
  if (f.failed()) return Err{f.error()};
  return b;
}

InputResult<std::vector<ledger::CreateAccountsResult>> AccountResultsFromJson(
    const bj::value& value, size_t events) {
  return ResultsFromJson<ledger::CreateAccountResult, ledger::CreateAccountsResult>(value, events);
}

InputResult<std::vector<ledger::CreateTransfersResult>> TransferResultsFromJson(
    const bj::value& value, size_t events) {
  return ResultsFromJson<ledger::CreateTransferResult, ledger::CreateTransfersResult>(value,
                                                                                      events);
}

std::optional<ApiErrorBody> ParseApiErrorBody(std::string_view body) {
  bj::error_code ec;
  const bj::value value = bj::parse(bj::string_view(body.data(), body.size()), ec);
  if (ec || !value.is_object() || !value.get_object().contains("error")) return std::nullopt;
  RecordFields f(value.get_object().at("error"));
  ApiErrorBody error;
  error.type = f.Text("type");
  error.code = f.Text("code");
  error.message = f.Text("message");
  if (!f.IsNull("param")) error.param = f.Text("param");
  if (f.failed()) return std::nullopt;
  return error;
}

}  // namespace tpw::cli
