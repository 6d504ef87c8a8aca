// The engine calls the commands make, each turning an engine-level failure into a CommandError.
#pragma once

#include <optional>
#include <vector>

#include "cli/session.h"
#include "ledger/types.h"

namespace tpw::cli {

// The accounts/transfers found, in the order of `ids` (missing ones are left out).
CommandResult<std::vector<ledger::Account>> LookupAccounts(Session& session,
                                                           const std::vector<AccountId>& ids);
CommandResult<std::vector<ledger::Transfer>> LookupTransfers(Session& session,
                                                             const std::vector<TransferId>& ids);

// For each transfer: what became of it if it is a pending transfer, nullopt otherwise.
CommandResult<std::vector<std::optional<ledger::PendingStatus>>> PendingStatusesOf(
    Session& session, const std::vector<ledger::Transfer>& transfers);

}  // namespace tpw::cli
