// How records look on the terminal and in --json output (docs/cli.md is the contract).
//
// JSON field names are stable. Ids, 128/64-bit numbers and timestamps are strings (JSON numbers
// lose digits past 2^53 in most tools); every amount appears twice: `x` as the exact decimal in
// its asset ("12.34") and `x_minor` as minor units ("1234"). Tables show the same records with
// amounts and their asset code, and times in UTC with all nine fraction digits, so a time
// copied from a table is an exact --from/--to value.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/asset.h"
#include "ledger/types.h"

namespace tpw::cli {

std::string_view PendingStatusName(ledger::PendingStatus status);

// Amount fields: `key` the exact decimal in the ledger's asset, `key`_minor the minor units.
void PutAmount(boost::json::object& out, std::string_view key, const AssetTable& assets,
               uint32_t ledger, Amount amount);

boost::json::object AccountToJson(const ledger::Account& account, const AssetTable& assets);
// `status` is set for pending transfers (what became of them) and omitted (null) otherwise.
boost::json::object TransferToJson(const ledger::Transfer& transfer,
                                   std::optional<ledger::PendingStatus> status,
                                   const AssetTable& assets);
// TransferToJson serialized (the same bytes as boost::json::serialize of it), written directly:
// the HTTP API answers every created transfer with it, and building the tree cost a fifth of the
// server's CPU per request.
std::string TransferJsonText(const ledger::Transfer& transfer,
                             std::optional<ledger::PendingStatus> status, const AssetTable& assets);
// Appends `text` as a JSON string, escaped as boost::json::serialize escapes it.
void AppendJsonString(std::string& out, std::string_view text);

boost::json::object BalanceToJson(const ledger::AccountBalance& balance, uint32_t ledger,
                                  const AssetTable& assets);

std::string AccountsTable(const std::vector<ledger::Account>& accounts, const AssetTable& assets);
// `statuses` is parallel to `transfers` (nullopt for non-pending transfers).
std::string TransfersTable(const std::vector<ledger::Transfer>& transfers,
                           const std::vector<std::optional<ledger::PendingStatus>>& statuses,
                           const AssetTable& assets);
std::string BalancesTable(const std::vector<ledger::AccountBalance>& balances, uint32_t ledger,
                          const AssetTable& assets);

// One line of compact JSON on standard output.
void PrintJson(const boost::json::value& value);

}  // namespace tpw::cli
