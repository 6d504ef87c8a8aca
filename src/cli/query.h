// Queries over one account's transfers or balance history, as typed: the CLI's `account
// transfers|history` options and the API's query parameters of GET /v1/accounts/{id}/transfers
// and /balances take the same values (docs/cli.md, docs/api.md) and share this parser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cli/values.h"
#include "ledger/types.h"

namespace tpw::cli {

// Rows a query returns when no limit is given.
inline constexpr uint32_t kQueryLimitDefault = 100;

struct AccountQueryText {
  std::string account;
  std::string from;   // earliest time (ParseTimeText), inclusive; "" = no bound
  std::string to;     // latest time, inclusive
  std::string code;   // only this transfer code
  std::string limit;  // rows per page, 1..kQueryLimitMax
  std::string after;  // the cursor of the previous page: its last row's timestamp
  bool debits = false;   // neither debits nor credits means both
  bool credits = false;
  bool reverse = false;  // newest first
};

struct AccountQuery {
  ledger::AccountFilter filter;
  bool past_the_end = false;  // the cursor leaves nothing to read: answer an empty page
};

// `prefix` goes before each field name in errors: "--" for the CLI's options, "" for the API's
// query parameters.
InputResult<AccountQuery> ParseAccountQuery(const AccountQueryText& text, std::string_view prefix);

// The cursor of a full page (more may follow): its last row's timestamp; nullopt otherwise.
std::optional<Timestamp> NextCursor(size_t rows, uint32_t limit, Timestamp last);

}  // namespace tpw::cli
