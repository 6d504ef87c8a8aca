// API-key values as text and JSON, shared by `tpwallet apikey` and the HTTP API's
// /v1/api-keys (src/api): the same checks and the same fields either way. Pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "access/access.h"
#include "cli/values.h"

namespace tpw::cli {

// The largest rate limit of a key. The engine stores any 32-bit figure; past a million
// requests a second the limit no longer limits anything one server can serve, so a larger
// number is a typo.
inline constexpr uint64_t kRatePerSecondMax = 1'000'000;

// admin, merchant, terminal, device or auditor; `field` names the input in the error.
InputResult<access::Scope> ParseScopeText(std::string_view field, std::string_view text);
// A key's label: 1..kKeyNameBytesMax bytes of UTF-8 without control characters.
InputResult<std::string> ParseKeyName(std::string_view field, std::string_view text);
// A merchant key's merchant accounts (docs/api.md, "Merchant keys"): 1..64 ledger account ids
// in the docs/ids.md text form, none zero, none twice; returned ascending (the stored order).
// `field` names the input in errors ("--merchant", "merchant_account_ids").
InputResult<std::vector<AccountId>> ParseMerchantAccounts(std::string_view field,
                                                          std::span<const std::string> texts);
// Splits the values of a repeatable option that also takes comma lists ("1,2" "3" -> 1 2 3);
// empty items stay, so that ParseMerchantAccounts can name them.
std::vector<std::string> SplitCommaLists(std::span<const std::string> values);
// Everything about a key except secrets: the same fields in every command's and endpoint's JSON.
// "merchant_account_ids": a bound key's ids, "all" for an unbound merchant key, null for other
// scopes.
boost::json::object KeyToJson(const access::ApiKey& key);

}  // namespace tpw::cli
