#include "cli/render.h"

#include <array>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdio>

#include "cli/format.h"
#include "cli/values.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

std::string Decimal(const AssetTable& assets, uint32_t ledger, Amount amount) {
  return FormatDecimalAmount(amount, LedgerScale(assets, ledger));
}

void PutAsset(bj::object& out, const AssetTable& assets, uint32_t ledger) {
  out["ledger"] = ledger;
  const Asset* asset = assets.FindByLedger(ledger);
  if (asset != nullptr) {
    out["asset"] = asset->code;
  } else {
    out["asset"] = nullptr;
  }
}

void PutTime(bj::object& out, Timestamp timestamp) {
  out["timestamp"] = std::to_string(timestamp.ns);
  out["time"] = FormatTimeUtc(timestamp);
}

bj::array NamesToJson(const std::vector<std::string>& names) {
  bj::array out;
  for (const std::string& name : names) out.emplace_back(name);
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  if (names.empty()) return "-";
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ",") + name;
  return out;
}

std::string IdOrDash(u128 id) { return id == 0 ? "-" : FormatId(id); }

std::string UserData(u128 data_128, uint64_t data_64, uint32_t data_32) {
  if (data_128 == 0 && data_64 == 0 && data_32 == 0) return "-";
  return FormatId(data_128) + "/" + std::to_string(data_64) + "/" + std::to_string(data_32);
}

std::string StatusText(const std::vector<std::optional<ledger::PendingStatus>>& statuses,
                       size_t i) {
  if (i >= statuses.size() || !statuses[i].has_value()) return "-";
  return std::string(PendingStatusName(statuses[i].value()));
}

std::string AssetLabel(const AssetTable& assets, uint32_t ledger) {
  const Asset* asset = assets.FindByLedger(ledger);
  return asset != nullptr ? asset->code : "ledger " + std::to_string(ledger);
}

}  // namespace

void PutAmount(bj::object& out, std::string_view key, const AssetTable& assets, uint32_t ledger,
               Amount amount) {
  out[key] = Decimal(assets, ledger, amount);
  out[std::string(key) + "_minor"] = U128ToDecimal(amount.minor());
}

std::string_view PendingStatusName(ledger::PendingStatus status) {
  switch (status) {
    case ledger::PendingStatus::none:
      return "none";
    case ledger::PendingStatus::pending:
      return "pending";
    case ledger::PendingStatus::posted:
      return "posted";
    case ledger::PendingStatus::voided:
      return "voided";
    case ledger::PendingStatus::expired:
      return "expired";
  }
  return "unknown";
}

bj::object AccountToJson(const ledger::Account& account, const AssetTable& assets) {
  bj::object out;
  out["id"] = FormatId(account.id);
  PutAsset(out, assets, account.ledger);
  out["code"] = account.code;
  out["flags"] = NamesToJson(AccountFlagNames(account.flags));
  PutAmount(out, "debits_pending", assets, account.ledger, account.debits_pending);
  PutAmount(out, "debits_posted", assets, account.ledger, account.debits_posted);
  PutAmount(out, "credits_pending", assets, account.ledger, account.credits_pending);
  PutAmount(out, "credits_posted", assets, account.ledger, account.credits_posted);
  PutAmount(out, "overdraft_limit", assets, account.ledger, account.overdraft_limit);
  out["user_data_128"] = FormatId(account.user_data_128);
  out["user_data_64"] = std::to_string(account.user_data_64);
  out["user_data_32"] = account.user_data_32;
  PutTime(out, account.timestamp);
  return out;
}

bj::object TransferToJson(const ledger::Transfer& transfer,
                          std::optional<ledger::PendingStatus> status, const AssetTable& assets) {
  bj::object out;
  out["id"] = FormatId(transfer.id);
  out["debit_account_id"] = FormatId(transfer.debit_account_id);
  out["credit_account_id"] = FormatId(transfer.credit_account_id);
  PutAmount(out, "amount", assets, transfer.ledger, transfer.amount);
  PutAsset(out, assets, transfer.ledger);
  out["code"] = transfer.code;
  out["flags"] = NamesToJson(TransferFlagNames(transfer.flags));
  out["pending_id"] = FormatId(transfer.pending_id);
  out["timeout"] = transfer.timeout;
  if (status.has_value()) {
    out["pending_status"] = PendingStatusName(*status);
  } else {
    out["pending_status"] = nullptr;
  }
  out["user_data_128"] = FormatId(transfer.user_data_128);
  out["user_data_64"] = std::to_string(transfer.user_data_64);
  out["user_data_32"] = transfer.user_data_32;
  PutTime(out, transfer.timestamp);
  return out;
}

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  // Which bytes need an escape: control characters, '"' and '\\' (a table: one load per byte).
  static constexpr auto kEscaped = [] {
    std::array<bool, 256> escaped{};
    for (int b = 0; b < 0x20; ++b) escaped[static_cast<size_t>(b)] = true;
    escaped['"'] = true;
    escaped['\\'] = true;
    return escaped;
  }();
  out.reserve(out.size() + text.size() + 2);
  size_t run = 0;  // start of the characters not yet copied: runs that need no escape go at once
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (!kEscaped[byte]) continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    out += '\\';
    switch (c) {
      case '"':
      case '\\':
        out += c;
        break;
      case '\b':
        out += 'b';
        break;
      case '\t':
        out += 't';
        break;
      case '\n':
        out += 'n';
        break;
      case '\f':
        out += 'f';
        break;
      case '\r':
        out += 'r';
        break;
      default:
        out += "u00";
        out += kHex[byte >> 4];
        out += kHex[byte & 0xf];
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

namespace {

// A JSON object written field by field, in order. Every key is a literal of this file (letters
// and '_'), and Plain values are digits, amounts and times: none holds a character JSON escapes,
// so they are copied as they are; only names (assets, flags, statuses) go through
// AppendJsonString. The HTTP API answers every transfer with this (CliRender tests compare it
// byte for byte with the serialized TransferToJson).
using namespace std::string_view_literals;

class ObjectText {
 public:
  ObjectText() {
    out_.reserve(640);
    out_ += '{';
  }
  void String(std::string_view key, std::string_view value) {
    Key(key);
    AppendJsonString(out_, value);
  }
  void Plain(std::string_view key, std::string_view value) {
    Key(key);
    out_ += '"';
    out_ += value;
    out_ += '"';
  }
  void Number(std::string_view key, uint64_t value) {
    Key(key);
    AppendDigits(value);
  }
  // A number as a JSON string ("12"): Plain(key, std::to_string(value)) without the temporary.
  void QuotedNumber(std::string_view key, uint64_t value) {
    Key(key);
    out_ += '"';
    AppendDigits(value);
    out_ += '"';
  }
  void Null(std::string_view key) {
    Key(key);
    out_.append("null"sv);
  }
  void StringArray(std::string_view key, const std::vector<std::string>& values) {
    Key(key);
    out_ += '[';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i != 0) out_ += ',';
      AppendJsonString(out_, values[i]);
    }
    out_ += ']';
  }
  std::string Finish() && {
    out_ += '}';
    return std::move(out_);
  }

 private:
  void AppendDigits(uint64_t value) {
    char digits[20];
    const std::to_chars_result end = std::to_chars(digits, digits + sizeof digits, value);
    out_.append(digits, end.ptr);
  }
  // String-view literals: their lengths are known at compile time (no strlen per append).
  void Key(std::string_view key) {
    out_.append(out_.size() > 1 ? ",\""sv : "\""sv);
    out_.append(key);
    out_.append("\":"sv);
  }
  std::string out_;
};

}  // namespace

std::string TransferJsonText(const ledger::Transfer& transfer,
                             std::optional<ledger::PendingStatus> status, const AssetTable& assets) {
  // Field for field what TransferToJson builds, in its order.
  ObjectText out;
  out.Plain("id", FormatId(transfer.id));
  out.Plain("debit_account_id", FormatId(transfer.debit_account_id));
  out.Plain("credit_account_id", FormatId(transfer.credit_account_id));
  out.Plain("amount", Decimal(assets, transfer.ledger, transfer.amount));
  out.Plain("amount_minor", U128ToDecimal(transfer.amount.minor()));
  out.Number("ledger", transfer.ledger);
  if (const Asset* asset = assets.FindByLedger(transfer.ledger); asset != nullptr) {
    out.String("asset", asset->code);
  } else {
    out.Null("asset");
  }
  out.Number("code", transfer.code);
  out.StringArray("flags", TransferFlagNames(transfer.flags));
  out.Plain("pending_id", FormatId(transfer.pending_id));
  out.Number("timeout", transfer.timeout);
  if (status.has_value()) {
    out.String("pending_status", PendingStatusName(*status));
  } else {
    out.Null("pending_status");
  }
  out.Plain("user_data_128", FormatId(transfer.user_data_128));
  out.QuotedNumber("user_data_64", transfer.user_data_64);
  out.Number("user_data_32", transfer.user_data_32);
  out.QuotedNumber("timestamp", transfer.timestamp.ns);
  out.Plain("time", FormatTimeUtc(transfer.timestamp));
  return std::move(out).Finish();
}

bj::object BalanceToJson(const ledger::AccountBalance& balance, uint32_t ledger,
                         const AssetTable& assets) {
  bj::object out;
  PutTime(out, balance.timestamp);
  PutAmount(out, "debits_pending", assets, ledger, balance.debits_pending);
  PutAmount(out, "debits_posted", assets, ledger, balance.debits_posted);
  PutAmount(out, "credits_pending", assets, ledger, balance.credits_pending);
  PutAmount(out, "credits_posted", assets, ledger, balance.credits_posted);
  return out;
}

std::string AccountsTable(const std::vector<ledger::Account>& accounts, const AssetTable& assets) {
  std::vector<std::vector<std::string>> rows;
  for (const ledger::Account& a : accounts) {
    rows.push_back(
        {FormatId(a.id), AssetLabel(assets, a.ledger), std::to_string(a.code),
         JoinNames(AccountFlagNames(a.flags)), FormatMoney(assets, a.ledger, a.debits_pending),
         FormatMoney(assets, a.ledger, a.debits_posted),
         FormatMoney(assets, a.ledger, a.credits_pending),
         FormatMoney(assets, a.ledger, a.credits_posted),
         FormatMoney(assets, a.ledger, a.overdraft_limit),
         UserData(a.user_data_128, a.user_data_64, a.user_data_32), FormatTimeUtc(a.timestamp)});
  }
  return RenderTable(
      {"id", "asset", "code", "flags", "debits pending", "debits posted", "credits pending",
       "credits posted", "overdraft limit", "user data 128/64/32", "created"},
      rows);
}

std::string TransfersTable(const std::vector<ledger::Transfer>& transfers,
                           const std::vector<std::optional<ledger::PendingStatus>>& statuses,
                           const AssetTable& assets) {
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < transfers.size(); ++i) {
    const ledger::Transfer& t = transfers[i];
    rows.push_back({FormatTimeUtc(t.timestamp), FormatId(t.id), FormatId(t.debit_account_id),
                    FormatId(t.credit_account_id), FormatMoney(assets, t.ledger, t.amount),
                    std::to_string(t.code), JoinNames(TransferFlagNames(t.flags)),
                    IdOrDash(t.pending_id.value),
                    t.timeout == 0 ? "-" : std::to_string(t.timeout) + "s", StatusText(statuses, i),
                    UserData(t.user_data_128, t.user_data_64, t.user_data_32)});
  }
  return RenderTable({"time", "id", "debit", "credit", "amount", "code", "flags", "pending id",
                      "timeout", "status", "user data 128/64/32"},
                     rows);
}

std::string BalancesTable(const std::vector<ledger::AccountBalance>& balances, uint32_t ledger,
                          const AssetTable& assets) {
  std::vector<std::vector<std::string>> rows;
  for (const ledger::AccountBalance& b : balances) {
    rows.push_back({FormatTimeUtc(b.timestamp), FormatMoney(assets, ledger, b.debits_pending),
                    FormatMoney(assets, ledger, b.debits_posted),
                    FormatMoney(assets, ledger, b.credits_pending),
                    FormatMoney(assets, ledger, b.credits_posted)});
  }
  return RenderTable(
      {"time", "debits pending", "debits posted", "credits pending", "credits posted"}, rows);
}

void PrintJson(const bj::value& value) {
  const std::string text = bj::serialize(value);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace tpw::cli
