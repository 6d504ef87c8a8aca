// The JSON the CLI exchanges with a running server (`--server`), in the API's own formats
// (docs/api.md): request bodies built from ledger records, and the records, outcomes and errors
// of its answers read back into ledger records, so that a command prints a server's answer
// exactly as it prints the local engine's (render.h, outcomes.h).
//
// Answers are read strictly: a missing field, a wrong type or a value out of range is an error
// that names the field (a server of another version, or a proxy's page, must not print as data).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/values.h"
#include "ledger/ledger.h"
#include "ledger/types.h"

namespace tpw::cli {

// One element of a POST /v1/accounts or /v1/transfers/batch body (the fields AccountFromJson /
// TransferDraftFromJson read). Amounts travel in minor units; a post of the full pending amount
// and a void carry no amount.
boost::json::object AccountToRequestJson(const ledger::Account& account);
boost::json::object TransferToRequestJson(const ledger::Transfer& transfer);

// A transfer as the API shows it: the record and, for pending ones, what became of it.
struct TransferRecord {
  ledger::Transfer transfer;
  std::optional<ledger::PendingStatus> status;
};

// render.h's AccountToJson / TransferToJson / BalanceToJson, read back.
InputResult<ledger::Account> AccountFromRecordJson(const boost::json::value& value);
InputResult<TransferRecord> TransferFromRecordJson(const boost::json::value& value);
InputResult<ledger::AccountBalance> BalanceFromRecordJson(const boost::json::value& value);

// outcomes.h's OutcomesToJson of a batch of `events` events, read back into the ledger's sparse
// results (only the events that were not `created`).
InputResult<std::vector<ledger::CreateAccountsResult>> AccountResultsFromJson(
    const boost::json::value& value, size_t events);
InputResult<std::vector<ledger::CreateTransfersResult>> TransferResultsFromJson(
    const boost::json::value& value, size_t events);

// The API's error body {"error": {"type", "code", "message", "param"}}; nullopt when `body` is
// not one (a proxy's page, an empty body).
struct ApiErrorBody {
  std::string type;
  std::string code;
  std::string message;
  std::string param;  // "" when null
};
std::optional<ApiErrorBody> ParseApiErrorBody(std::string_view body);

}  // namespace tpw::cli
