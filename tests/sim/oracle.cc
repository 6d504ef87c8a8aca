#include "sim/oracle.h"

#include <algorithm>

#include "common/assert.h"
#include "common/limits.h"
#include "ledger/results.h"

namespace tpw::sim {

using engine::EngineError;
using engine::Request;
using engine::RequestKind;
using ledger::Account;
using ledger::AccountFilter;
using ledger::Transfer;
namespace ff = ledger::filter_flags;

namespace {

// Engine::Impl::RunExpiry: when the earliest expiry is due at `wall`, expire at
// NextTimestamp(wall) everything due by then (up to the batch limit): one journal record.
uint64_t ApplyExpiry(Oracle& o, uint64_t wall, uint32_t expiry_batch_max) {
  const std::optional<uint64_t> due = o.model.NextExpiry();
  if (!due.has_value() || *due > wall) return 0;
  const uint64_t now = std::max(wall, o.last_ts + 1);
  std::vector<ledger::reference::ExpiryCandidate> expiring = o.model.ExpiryCandidates(now);
  TPW_ASSERT(!expiring.empty());
  if (expiring.size() > expiry_batch_max) expiring.resize(expiry_batch_max);
  for (size_t j = 0; j < expiring.size(); ++j) (void)o.model.Expire(expiring[j].id, now + j);
  o.last_ts = now + expiring.size() - 1;
  o.fact_ts = o.last_ts;
  o.records += 1;
  return expiring.size();
}

// Timestamps a batch of `count` events the way the sequencer does.
uint64_t TakeTimestamps(Oracle& o, uint64_t wall, size_t count) {
  const uint64_t first = std::max(wall, o.last_ts + 1);
  o.last_ts = first + count - 1;
  return first;
}

void ApplyAccounts(Oracle& o, const std::vector<Account>& events, uint64_t wall, Expected& e) {
  if (events.size() > kBatchEventsMax) {
    e.error = EngineError::too_many_events;
    return;
  }
  if (events.empty()) return;
  e.first_ts = TakeTimestamps(o, wall, events.size());
  e.account_results = o.model.CreateAccounts(events, e.first_ts);
  e.created = events.size() - e.account_results.size();
  if (e.created > 0) {  // one accounts_created fact
    o.records += 1;
    o.fact_ts = o.last_ts;
  }
}

void ApplyTransfers(Oracle& o, const std::vector<Transfer>& events, uint64_t wall, Expected& e) {
  if (events.size() > kBatchEventsMax) {
    e.error = EngineError::too_many_events;
    return;
  }
  if (events.empty()) return;
  e.first_ts = TakeTimestamps(o, wall, events.size());
  e.transfer_results = o.model.CreateTransfers(events, e.first_ts);
  e.created = events.size() - e.transfer_results.size();
  const bool transient = std::any_of(
      e.transfer_results.begin(), e.transfer_results.end(),
      [](const ledger::CreateTransfersResult& r) { return ledger::IsTransient(r.result); });
  if (e.created > 0) {  // one transfers_created fact
    o.records += 1;
    o.fact_ts = o.last_ts;
  }
  if (transient) o.records += 1;  // one transfers_failed fact
  // Index the created transfers per account. Event i, if created, is stamped first + i.
  size_t next_result = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (next_result < e.transfer_results.size() && e.transfer_results[next_result].index == i) {
      ++next_result;
      continue;
    }
    const std::optional<Transfer> stored = o.model.LookupTransfer(events[i].id.value);
    TPW_ASSERT(stored.has_value() && stored->timestamp.ns == e.first_ts + i);
    o.by_account[stored->debit_account_id.value].push_back(*stored);
    o.by_account[stored->credit_account_id.value].push_back(*stored);
  }
}

bool InRange(const AccountFilter& f, uint64_t ts) {
  if (f.timestamp_min.ns != 0 && ts < f.timestamp_min.ns) return false;
  if (f.timestamp_max.ns != 0 && ts > f.timestamp_max.ns) return false;
  return true;
}

std::vector<Transfer> AccountTransfers(const Oracle& o, const AccountFilter& f) {
  std::vector<Transfer> out;
  auto it = o.by_account.find(f.account_id.value);
  if (it == o.by_account.end()) return out;
  const std::vector<Transfer>& all = it->second;
  const bool reversed = (f.flags & ff::kReversed) != 0;
  for (size_t k = 0; k < all.size() && out.size() < f.limit; ++k) {
    const Transfer& t = reversed ? all[all.size() - 1 - k] : all[k];
    const bool debited = (f.flags & ff::kDebits) != 0 && t.debit_account_id == f.account_id;
    const bool credited = (f.flags & ff::kCredits) != 0 && t.credit_account_id == f.account_id;
    if ((debited || credited) && InRange(f, t.timestamp.ns) && (f.code == 0 || t.code == f.code)) {
      out.push_back(t);
    }
  }
  return out;
}

void AnswerQuery(const Oracle& o, const Request& r, Expected& e) {
  switch (r.kind) {
    case RequestKind::lookup_accounts:
      for (const u128 id : r.ids) {
        if (auto a = o.model.LookupAccount(id)) e.accounts.push_back(*a);
      }
      break;
    case RequestKind::lookup_transfers:
      for (const u128 id : r.ids) {
        if (auto t = o.model.LookupTransfer(id)) e.transfers.push_back(*t);
      }
      break;
    case RequestKind::get_pending_status:
      for (const u128 id : r.ids) e.pending_statuses.push_back(o.model.GetPendingStatus(id));
      break;
    case RequestKind::get_account_transfers:
      e.query_error = CheckFilter(o, r.filter, false);
      if (!e.query_error) e.transfers = AccountTransfers(o, r.filter);
      break;
    case RequestKind::get_account_balances: {
      e.query_error = CheckFilter(o, r.filter, true);
      if (e.query_error) break;
      auto balances = o.model.GetAccountBalances(r.filter);
      TPW_ASSERT(balances.ok());
      e.balances = balances.value();
      break;
    }
    case RequestKind::create_accounts:
    case RequestKind::create_transfers:
    case RequestKind::offline:  // the simulator's workload has no offline, access, risk,
    case RequestKind::access:   // payments or webhook commands yet
    case RequestKind::risk:
    case RequestKind::payments:
    case RequestKind::payments_digest:
    case RequestKind::webhooks:
      TPW_UNREACHABLE();
  }
}

}  // namespace

// The ledger's order (docs/ledger.md lists the errors but not their precedence).
std::optional<ledger::QueryError> CheckFilter(const Oracle& oracle, const AccountFilter& f,
                                              bool balances) {
  using ledger::QueryError;
  if (f.account_id.is_zero() || f.account_id.is_max()) return QueryError::account_id_invalid;
  if (f.limit == 0) return QueryError::limit_must_not_be_zero;
  if (f.limit > kQueryLimitMax) return QueryError::limit_too_large;
  if ((f.flags & ~ff::kAll) != 0 || (f.flags & (ff::kDebits | ff::kCredits)) == 0) {
    return QueryError::flags_invalid;
  }
  if (f.timestamp_min.ns != 0 && f.timestamp_max.ns != 0 && f.timestamp_min > f.timestamp_max) {
    return QueryError::timestamp_range_invalid;
  }
  const std::optional<Account> account = oracle.model.LookupAccount(f.account_id.value);
  if (!account.has_value()) return QueryError::account_not_found;
  if (balances && (account->flags & ledger::account_flags::kHistory) == 0) {
    return QueryError::history_not_enabled;
  }
  return std::nullopt;
}

Expected ApplyRequest(Oracle& oracle, const Request& request, uint64_t wall,
                      uint32_t expiry_batch_max) {
  Expected e;
  e.expired = ApplyExpiry(oracle, wall, expiry_batch_max);
  switch (request.kind) {
    case RequestKind::create_accounts:
      ApplyAccounts(oracle, request.accounts, wall, e);
      break;
    case RequestKind::create_transfers:
      ApplyTransfers(oracle, request.transfers, wall, e);
      break;
    default:
      AnswerQuery(oracle, request, e);
      break;
  }
  return e;
}

}  // namespace tpw::sim
