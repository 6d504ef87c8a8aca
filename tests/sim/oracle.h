// Oracle: what the engine must answer and hold, computed without the engine.
//
// It wraps ledger::reference::ReferenceModel (the naive second implementation of
// docs/ledger.md) and adds what the engine layers on top of the ledger: the sequencer's
// timestamps (NextTimestamp over a manual clock), expiry run just before each request, the
// journal's record count (one fact per kind per request), and per-account transfer lists kept
// in timestamp order so full comparisons stay linear.
//
// ApplyRequest() mirrors Engine::Impl::Execute for one request executed alone at wall-clock
// time `wall` and returns the reply the engine must give.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "ledger/ledger_reference_model.h"

namespace tpw::sim {

struct Oracle {
  ledger::reference::ReferenceModel model;
  uint64_t last_ts = 0;  // the engine ledger's last_timestamp(), exactly
  // batch_last of the newest fact that replay restores last_timestamp from (accounts,
  // transfers, expiry): after recovery last_timestamp is exactly this (transient-failure facts
  // and rejected batches consume timestamps live but do not move it on replay).
  uint64_t fact_ts = 0;
  uint64_t records = 0;  // journal records (facts) the acknowledged requests produced
  // Stored transfers per account id, ascending timestamp (both sides of each transfer).
  std::map<u128, std::vector<ledger::Transfer>> by_account;
};

// The reply the engine must give, plus what happened (for statistics and the trace).
struct Expected {
  std::optional<engine::EngineError> error;
  std::vector<ledger::CreateAccountsResult> account_results;
  std::vector<ledger::CreateTransfersResult> transfer_results;
  std::vector<ledger::Account> accounts;
  std::vector<ledger::Transfer> transfers;
  std::vector<ledger::AccountBalance> balances;
  std::vector<ledger::PendingStatus> pending_statuses;
  std::optional<ledger::QueryError> query_error;
  uint64_t expired = 0;   // pending transfers expired just before the request
  uint64_t created = 0;   // events created
  uint64_t first_ts = 0;  // the batch's first timestamp (0 when none was consumed)
};

// Applies `request` as the engine executes it at `wall` (expiry first, limit
// `expiry_batch_max`), updating the oracle, and returns the expected reply.
Expected ApplyRequest(Oracle& oracle, const engine::Request& request, uint64_t wall,
                      uint32_t expiry_batch_max);

// A filter check identical to the ledger's (ValidateFilter in docs/ledger.md order).
std::optional<ledger::QueryError> CheckFilter(const Oracle& oracle,
                                              const ledger::AccountFilter& filter, bool balances);

}  // namespace tpw::sim
