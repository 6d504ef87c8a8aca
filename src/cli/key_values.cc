#include "cli/key_values.h"

#include <boost/json/array.hpp>

#include "cli/offline_values.h"
#include "common/utf8.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;


// Control characters would break the table's lines or drive the operator's terminal.
bool HasControlCharacter(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

}  // namespace

InputResult<access::Scope> ParseScopeText(std::string_view field, std::string_view text) {
  std::optional<access::Scope> scope = access::ParseScope(text);
  if (!scope) {
    return InputFail(std::string(field) + " \"" + std::string(text) +
                     "\" is not a scope; use one of admin, merchant, terminal, device, auditor");
  }
  return *scope;
}

InputResult<std::string> ParseKeyName(std::string_view field, std::string_view text) {
  if (text.empty())
    return InputFail(std::string(field) + " is empty; give the key a label, e.g. \"shop 12\"");
  if (text.size() > access::kKeyNameBytesMax) {
    return InputFail(std::string(field) + " is " + std::to_string(text.size()) +
                     " bytes; at most " + std::to_string(access::kKeyNameBytesMax) +
                     " are allowed");
  }
  if (!IsValidUtf8(text)) return InputFail(std::string(field) + " is not valid UTF-8");
  if (HasControlCharacter(text)) {
    return InputFail(std::string(field) +
                     " contains a control character (a tab, line break, escape...)");
  }
  return std::string(text);
}

InputResult<std::vector<AccountId>> ParseMerchantAccounts(std::string_view field,
                                                          std::span<const std::string> texts) {
  const std::string name(field);
  if (texts.empty()) {
    return InputFail(name + " is empty: name at least one merchant account, or leave " + name +
                     " out for a key that acts for every merchant");
  }
  if (texts.size() > access::kMerchantAccountsPerKeyMax) {
    return InputFail(name + " names " + std::to_string(texts.size()) +
                     " merchant accounts; a key is bound to at most " +
                     std::to_string(access::kMerchantAccountsPerKeyMax) +
                     " (make several keys, or use an admin key)");
  }
  std::vector<AccountId> accounts;
  accounts.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string item = name + "[" + std::to_string(i) + "]";
    InputResult<u128> id = ParseIdText(item, texts[i]);
    if (!id.ok()) return Err{id.error()};
    if (id.value() == 0) return InputFail(item + " is 0: account ids are never 0");
    accounts.emplace_back(id.value());
  }
  const size_t given = accounts.size();
  access::SortMerchantAccounts(accounts);
  if (accounts.size() != given) {
    return InputFail(name + " names a merchant account twice; name each once");
  }
  return accounts;
}

std::vector<std::string> SplitCommaLists(std::span<const std::string> values) {
  std::vector<std::string> items;
  for (const std::string& value : values) {
    size_t start = 0;
    while (true) {
      const size_t comma = value.find(',', start);
      items.push_back(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return items;
}

bj::object KeyToJson(const access::ApiKey& key) {
  bj::object out;
  out["id"] = access::KeyIdText(key.id);
  out["scope"] = access::ScopeName(key.scope);
  out["name"] = key.name;
  out["rate_per_second"] = key.rate_per_second;
  out["created"] = std::to_string(key.created_ms);
  out["created_time"] = FormatMsUtc(key.created_ms);
  out["revoked"] = key.revoked;
  if (key.revoked) {
    out["revoked_at"] = std::to_string(key.revoked_ms);
    out["revoked_at_time"] = FormatMsUtc(key.revoked_ms);
  } else {
    out["revoked_at"] = nullptr;
    out["revoked_at_time"] = nullptr;
  }
  if (key.bound()) {
    bj::array ids;
    for (const AccountId merchant : key.merchant_accounts) ids.emplace_back(FormatId(merchant));
    out["merchant_account_ids"] = std::move(ids);
  } else if (key.scope == access::Scope::merchant) {
    out["merchant_account_ids"] = "all";  // unbound: for single-merchant deployments
  } else {
    out["merchant_account_ids"] = nullptr;
  }
  return out;
}

}  // namespace tpw::cli
