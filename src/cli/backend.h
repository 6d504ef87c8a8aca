// Where the ledger commands run: on the data directory's engine, or on a running `tpwallet
// serve` (--server URL). Each command builds its request once (accounts, transfers, a query
// filter) and hands it to a LedgerBackend; both backends answer with the same ledger records, so
// the command prints them the same way (text and --json) and exits with the same code.
//
// The remote backend speaks the HTTP API (docs/api.md) through HttpClient: every POST carries an
// Idempotency-Key and is retried once, under the same key, when the connection fails. Its errors
// are CommandErrors like the local ones: an unknown account is `not_found` (exit 3), a refused
// key or scope exit 12, an unreachable or failing server exit 9 (docs/cli.md, "Exit codes").
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "cli/session.h"
#include "ledger/ledger.h"
#include "ledger/types.h"

namespace tpw::cli {

// Transfers with what became of each pending one (nullopt for the others); parallel vectors.
struct TransferRows {
  std::vector<ledger::Transfer> transfers;
  std::vector<std::optional<ledger::PendingStatus>> statuses;
};

class LedgerBackend {
 public:
  virtual ~LedgerBackend() = default;

  virtual const AssetTable& assets() const = 0;

  // The ledger's sparse results: only the events that were not `created`.
  virtual CommandResult<std::vector<ledger::CreateAccountsResult>> CreateAccounts(
      const std::vector<ledger::Account>& accounts) = 0;
  virtual CommandResult<std::vector<ledger::CreateTransfersResult>> CreateTransfers(
      const std::vector<ledger::Transfer>& transfers) = 0;

  // The records found, in the order of `ids` (missing ones are left out).
  virtual CommandResult<std::vector<ledger::Account>> LookupAccounts(
      const std::vector<AccountId>& ids) = 0;
  virtual CommandResult<TransferRows> LookupTransfers(const std::vector<TransferId>& ids) = 0;

  // One page of an account's transfers / balance history (an unknown account is not_found).
  virtual CommandResult<TransferRows> AccountTransfers(const ledger::AccountFilter& filter) = 0;
  virtual CommandResult<std::vector<ledger::AccountBalance>> AccountBalances(
      const ledger::AccountFilter& filter) = 0;
};

// The ledger's refusal of a query as a CommandError (an unknown account: not_found, exit 3).
CommandError QueryErrorOf(ledger::QueryError error);

// The backend `options` ask for: the server of --server / TPWALLET_SERVER, else the data
// directory (opened and recovered).
CommandResult<std::unique_ptr<LedgerBackend>> OpenLedgerBackend(const CommonOptions& options);

// remote_backend.cc: the backend on a running server.
CommandResult<std::unique_ptr<LedgerBackend>> OpenRemoteBackend(const ServerOptions& options);

}  // namespace tpw::cli
