// ReferenceModel: a deliberately naive second implementation of docs/ledger.md, for
// ledger_property_test.cc. It shares nothing with ledger.cc but the public record types:
// plain std::map state keyed by id, one if-chain per documented check list in the documented
// order, and linked chains done by copying the whole state before the chain and restoring the
// copy when the chain fails (the real ledger uses an undo log). Slow on purpose; obviously
// correct is the point. Test-only header.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "common/amount.h"
#include "common/ids.h"
#include "common/int128.h"
#include "common/limits.h"
#include "ledger/ledger.h"
#include "ledger/results.h"
#include "ledger/types.h"

namespace tpw::ledger::reference {

// An exact sum of a few u128 values: carries * 2^128 + low. Never overflows in this model.
struct Wide {
  uint32_t carries = 0;
  u128 low = 0;
};
inline Wide W(Amount a) { return Wide{0, a.minor()}; }
inline Wide Plus(Wide a, Amount b) {
  Wide sum = a;
  if (__builtin_add_overflow(a.low, b.minor(), &sum.low)) sum.carries++;
  return sum;
}
inline bool Less(Wide a, Wide b) {
  return a.carries != b.carries ? a.carries < b.carries : a.low < b.low;
}
inline bool FitsU128(Wide a) { return a.carries == 0; }
inline Amount Amt(u128 v) { return Amount::FromMinor(v); }

inline bool Has(uint16_t flags, uint16_t bit) { return (flags & bit) != 0; }

struct ModelTransfer {
  Transfer stored;
  PendingStatus status = PendingStatus::none;  // none unless the transfer is pending
  uint64_t expires_at = 0;                     // 0: never expires
};

// Everything the ledger can show. Copied whole before a linked chain.
struct ModelState {
  std::map<u128, Account> accounts;
  std::map<u128, uint16_t> creation_flags;  // flags as sent at creation (docs: compared on exists)
  std::map<u128, std::vector<AccountBalance>> history;  // accounts flagged `history`
  std::map<u128, ModelTransfer> transfers;
  std::set<u128> failed_ids;  // ids that failed with a transient result
  uint64_t transfers_stored = 0;
};

// A pending transfer that ExpirePendingTransfers(now) may release.
struct ExpiryCandidate {
  uint64_t expires_at = 0;
  uint64_t timestamp = 0;
  u128 id = 0;
};

// Readings of points where docs/ledger.md is silent or where the implementation departs from
// its letter. The defaults are the docs read literally; the property test can switch one on
// (TPW_MODEL_ACCEPT) to look past a known, reported disagreement for further ones.
struct ModelOptions {
  // Docs: flags are compared with the flags the account was created with, `linked` ignored.
  // Set: compare with the current flags, ignoring `closed` when the account is closed now
  // (an earlier reading, kept to reproduce old reports).
  bool account_exists_ignores_closed = false;
  // Docs: voiding or expiring a closing transfer reopens the account(s). Cleared: only a void
  // reopens (an earlier reading).
  bool expiry_reopens_closed = true;
  // Docs: balancing clamps to `credits_posted + overdraft_limit - debits_pending -
  // debits_posted` (mirror for credits), exact. Set: that first sum saturates at 2^128-1, so
  // with a huge overdraft limit the clamp also keeps the total below 2^128 (no overflow error).
  bool balancing_cap_saturates = false;
  // The ledger's LedgerOptions::accounts_max / pending_transfers_max (lowered by some seeds).
  uint64_t accounts_max = kAccountsMax;
  uint64_t pending_transfers_max = kPendingTransfersMax;
};

class ReferenceModel {
 public:
  explicit ReferenceModel(ModelOptions options = {}) : options_(options) {}
  const ModelState& state() const { return state_; }

  std::vector<CreateAccountsResult> CreateAccounts(std::span<const Account> events,
                                                   uint64_t first) {
    std::vector<CreateAccountResult> codes = RunBatch<Account, CreateAccountResult>(
        events, first, account_flags::kLinked,
        [this](const Account& a, uint64_t ts) { return ApplyAccount(a, ts); },
        [](const Account&, CreateAccountResult) {});
    std::vector<CreateAccountsResult> sparse;
    for (size_t i = 0; i < codes.size(); ++i) {
      if (codes[i] != CreateAccountResult::created) {
        sparse.push_back({static_cast<uint32_t>(i), codes[i]});
      }
    }
    return sparse;
  }

  std::vector<CreateTransfersResult> CreateTransfers(std::span<const Transfer> events,
                                                     uint64_t first) {
    std::vector<CreateTransferResult> codes = RunBatch<Transfer, CreateTransferResult>(
        events, first, transfer_flags::kLinked,
        [this](const Transfer& t, uint64_t ts) { return ApplyTransfer(t, ts); },
        [this](const Transfer& t, CreateTransferResult code) {
          if (IsTransientCode(code)) state_.failed_ids.insert(t.id.value);
        });
    std::vector<CreateTransfersResult> sparse;
    for (size_t i = 0; i < codes.size(); ++i) {
      if (codes[i] != CreateTransferResult::created) {
        sparse.push_back({static_cast<uint32_t>(i), codes[i]});
      }
    }
    return sparse;
  }

  // Pending transfers with an expiry at or before `now`, earliest first (ties by creation).
  std::vector<ExpiryCandidate> ExpiryCandidates(uint64_t now) const {
    std::vector<ExpiryCandidate> candidates;
    for (const auto& [id, t] : state_.transfers) {
      if (t.status == PendingStatus::pending && t.expires_at != 0 && t.expires_at <= now) {
        candidates.push_back({t.expires_at, t.stored.timestamp.ns, id});
      }
    }
    std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
      return a.expires_at != b.expires_at ? a.expires_at < b.expires_at : a.timestamp < b.timestamp;
    });
    return candidates;
  }

  // Releases one pending transfer as expired, its history stamped `stamp`.
  Amount Expire(u128 id, uint64_t stamp) {
    ModelTransfer& t = state_.transfers.at(id);
    t.status = PendingStatus::expired;
    Account& debit = state_.accounts.at(t.stored.debit_account_id.value);
    Account& credit = state_.accounts.at(t.stored.credit_account_id.value);
    debit.debits_pending = Sub(debit.debits_pending, t.stored.amount);
    credit.credits_pending = Sub(credit.credits_pending, t.stored.amount);
    if (options_.expiry_reopens_closed && Has(t.stored.flags, transfer_flags::kClosingDebit)) {
      SetClosed(debit, false);
    }
    if (options_.expiry_reopens_closed && Has(t.stored.flags, transfer_flags::kClosingCredit)) {
      SetClosed(credit, false);
    }
    RecordHistory(debit, stamp);
    RecordHistory(credit, stamp);
    return t.stored.amount;
  }

  std::optional<uint64_t> NextExpiry() const {
    std::optional<uint64_t> next;
    for (const auto& [id, t] : state_.transfers) {
      if (t.status != PendingStatus::pending || t.expires_at == 0) continue;
      if (!next.has_value() || t.expires_at < *next) next = t.expires_at;
    }
    return next;
  }

  std::optional<Account> LookupAccount(u128 id) const {
    auto it = state_.accounts.find(id);
    if (it == state_.accounts.end()) return std::nullopt;
    return it->second;
  }
  std::optional<Transfer> LookupTransfer(u128 id) const {
    auto it = state_.transfers.find(id);
    if (it == state_.transfers.end()) return std::nullopt;
    return it->second.stored;
  }
  PendingStatus GetPendingStatus(u128 id) const {
    auto it = state_.transfers.find(id);
    return it == state_.transfers.end() ? PendingStatus::none : it->second.status;
  }
  uint64_t pending_count() const {
    uint64_t count = 0;
    for (const auto& [id, t] : state_.transfers) count += t.status == PendingStatus::pending;
    return count;
  }

  Result<std::vector<Transfer>, QueryError> GetAccountTransfers(const AccountFilter& f) const {
    std::optional<QueryError> error = ValidateFilter(f, /*balances=*/false);
    if (error.has_value()) return Err<QueryError>{*error};
    std::vector<Transfer> all;
    for (const auto& [id, t] : state_.transfers) all.push_back(t.stored);
    std::sort(all.begin(), all.end(),
              [](const Transfer& a, const Transfer& b) { return a.timestamp < b.timestamp; });
    std::vector<Transfer> matching;
    for (const Transfer& t : all) {
      const bool debited =
          Has32(f.flags, filter_flags::kDebits) && t.debit_account_id == f.account_id;
      const bool credited =
          Has32(f.flags, filter_flags::kCredits) && t.credit_account_id == f.account_id;
      if (!debited && !credited) continue;
      if (!InRange(f, t.timestamp.ns)) continue;
      if (f.code != 0 && t.code != f.code) continue;
      matching.push_back(t);
    }
    return Page(std::move(matching), f);
  }

  Result<std::vector<AccountBalance>, QueryError> GetAccountBalances(const AccountFilter& f) const {
    std::optional<QueryError> error = ValidateFilter(f, /*balances=*/true);
    if (error.has_value()) return Err<QueryError>{*error};
    std::vector<AccountBalance> matching;
    auto it = state_.history.find(f.account_id.value);
    if (it != state_.history.end()) {
      for (const AccountBalance& b : it->second) {
        if (InRange(f, b.timestamp.ns)) matching.push_back(b);
      }
    }
    return Page(std::move(matching), f);
  }

 private:
  static bool Has32(uint32_t flags, uint32_t bit) { return (flags & bit) != 0; }
  static Amount Sub(Amount a, Amount b) { return Amt(a.minor() - b.minor()); }
  static Amount Add(Amount a, Amount b) { return Amt(a.minor() + b.minor()); }

  static bool IsTransientCode(CreateTransferResult r) {
    using R = CreateTransferResult;
    switch (r) {
      case R::debit_account_not_found:
      case R::credit_account_not_found:
      case R::pending_transfer_not_found:
      case R::pending_transfer_expired:
      case R::debit_account_already_closed:
      case R::credit_account_already_closed:
      case R::overflows_debits_pending:
      case R::overflows_credits_pending:
      case R::overflows_debits_posted:
      case R::overflows_credits_posted:
      case R::overflows_debits:
      case R::overflows_credits:
      case R::overflows_timeout:
      case R::exceeds_credits:
      case R::exceeds_debits:
      case R::too_many_pending_transfers:
        return true;
      default:
        return false;
    }
  }

  // Linked chains: copy the whole state before a chain; restore the copy if the chain fails.
  // A chain left open at the end of the batch: its last event is not applied and gets
  // linked_event_chain_open; if an earlier event failed with X it keeps X (and its id is
  // remembered when X is transient), every other event gets linked_event_failed
  // (TigerBeetle's reading of the two rules in docs/ledger.md "Batches and linked chains").
  template <typename Event, typename Code, typename Apply, typename Remember>
  std::vector<Code> RunBatch(std::span<const Event> events, uint64_t first, uint16_t linked,
                             Apply apply, Remember remember) {
    const size_t n = events.size();
    std::vector<Code> codes(n, Code::created);
    size_t start = 0;
    while (start < n) {
      size_t end = start;  // the chain is [start, end]
      while (end + 1 < n && Has(events[end].flags, linked)) ++end;
      const bool open = Has(events[end].flags, linked);
      const bool chain = end > start || open;
      std::optional<ModelState> before;  // a lone event changes nothing when it fails
      if (chain) before = state_;
      std::optional<size_t> failed;
      for (size_t i = start; i <= end; ++i) {
        if (open && i == end) break;
        codes[i] = apply(events[i], first + i);
        if (codes[i] != Code::created && codes[i] != Code::exists) {
          failed = i;
          break;
        }
      }
      if (chain && (failed.has_value() || open)) {
        state_ = std::move(*before);
        for (size_t i = start; i <= end; ++i) {
          if (failed.has_value() && i == *failed) continue;
          codes[i] = Code::linked_event_failed;
        }
        if (open) codes[end] = Code::linked_event_chain_open;
      }
      if (failed.has_value()) remember(events[*failed], codes[*failed]);
      start = end + 1;
    }
    return codes;
  }

  CreateAccountResult ApplyAccount(const Account& a, uint64_t ts) {
    using R = CreateAccountResult;
    namespace af = account_flags;
    if (a.timestamp.ns != 0) return R::timestamp_must_be_zero;
    if ((a.flags & ~af::kAll) != 0) return R::reserved_flag;
    if (a.id.value == 0) return R::id_must_not_be_zero;
    if (a.id.value == kU128Max) return R::id_must_not_be_int_max;
    if (Has(a.flags, af::kDebitsMustNotExceedCredits) &&
        Has(a.flags, af::kCreditsMustNotExceedDebits)) {
      return R::flags_are_mutually_exclusive;
    }
    if (!a.debits_pending.is_zero()) return R::debits_pending_must_be_zero;
    if (!a.debits_posted.is_zero()) return R::debits_posted_must_be_zero;
    if (!a.credits_pending.is_zero()) return R::credits_pending_must_be_zero;
    if (!a.credits_posted.is_zero()) return R::credits_posted_must_be_zero;
    if (a.ledger == 0) return R::ledger_must_not_be_zero;
    if (a.code == 0) return R::code_must_not_be_zero;
    if (!a.overdraft_limit.is_zero() && !Has(a.flags, af::kDebitsMustNotExceedCredits) &&
        !Has(a.flags, af::kCreditsMustNotExceedDebits)) {
      return R::overdraft_limit_requires_balance_flag;
    }
    auto it = state_.accounts.find(a.id.value);
    if (it != state_.accounts.end()) {
      const Account& e = it->second;
      const uint16_t ignored = options_.account_exists_ignores_closed && Has(e.flags, af::kClosed)
                                   ? static_cast<uint16_t>(af::kLinked | af::kClosed)
                                   : af::kLinked;
      const uint16_t compared_flags = options_.account_exists_ignores_closed
                                          ? e.flags
                                          : state_.creation_flags.at(a.id.value);
      if ((compared_flags & ~ignored) != (a.flags & ~ignored)) {
        return R::exists_with_different_flags;
      }
      if (e.user_data_128 != a.user_data_128) return R::exists_with_different_user_data_128;
      if (e.user_data_64 != a.user_data_64) return R::exists_with_different_user_data_64;
      if (e.user_data_32 != a.user_data_32) return R::exists_with_different_user_data_32;
      if (e.ledger != a.ledger) return R::exists_with_different_ledger;
      if (e.code != a.code) return R::exists_with_different_code;
      if (e.overdraft_limit != a.overdraft_limit) return R::exists_with_different_overdraft_limit;
      return R::exists;
    }
    if (state_.accounts.size() >= options_.accounts_max) return R::too_many_accounts;
    Account stored = a;
    stored.timestamp = Timestamp{ts};
    state_.accounts[a.id.value] = stored;
    state_.creation_flags[a.id.value] = a.flags;
    if (Has(a.flags, af::kHistory)) state_.history[a.id.value];
    return R::created;
  }

  CreateTransferResult ApplyTransfer(const Transfer& t, uint64_t ts) {
    using R = CreateTransferResult;
    namespace tf = transfer_flags;
    if (t.timestamp.ns != 0) return R::timestamp_must_be_zero;
    if ((t.flags & ~tf::kAll) != 0) return R::reserved_flag;
    if (t.id.value == 0) return R::id_must_not_be_zero;
    if (t.id.value == kU128Max) return R::id_must_not_be_int_max;
    const bool post = Has(t.flags, tf::kPostPendingTransfer);
    const bool void_ = Has(t.flags, tf::kVoidPendingTransfer);
    const int phases = int{Has(t.flags, tf::kPending)} + int{post} + int{void_};
    const uint16_t not_with_phase_two =
        tf::kBalancingDebit | tf::kBalancingCredit | tf::kClosingDebit | tf::kClosingCredit;
    if (phases > 1) return R::flags_are_mutually_exclusive;
    if ((post || void_) && (t.flags & not_with_phase_two) != 0) {
      return R::flags_are_mutually_exclusive;
    }
    auto existing = state_.transfers.find(t.id.value);
    if (existing != state_.transfers.end()) return CompareExisting(existing->second.stored, t);
    if (state_.failed_ids.count(t.id.value) != 0) return R::id_already_failed;
    if (post || void_) return PostOrVoid(t, ts);
    return Regular(t, ts);
  }

  static bool AmountMatches(const Transfer& e, const Transfer& t) {
    namespace tf = transfer_flags;
    if (Has(t.flags, tf::kPostPendingTransfer) && t.amount == kPostFullAmount) return true;
    if (Has(t.flags, tf::kBalancingDebit) || Has(t.flags, tf::kBalancingCredit)) {
      return t.amount >= e.amount;
    }
    if (Has(t.flags, tf::kVoidPendingTransfer) && t.amount.is_zero()) return true;
    return t.amount == e.amount;
  }

  static CreateTransferResult CompareExisting(const Transfer& e, const Transfer& t) {
    using R = CreateTransferResult;
    namespace tf = transfer_flags;
    if ((e.flags & ~tf::kLinked) != (t.flags & ~tf::kLinked)) {
      return R::exists_with_different_flags;
    }
    const bool phase_two =
        Has(t.flags, tf::kPostPendingTransfer) || Has(t.flags, tf::kVoidPendingTransfer);
    const AccountId debit =
        phase_two && t.debit_account_id.is_zero() ? e.debit_account_id : t.debit_account_id;
    const AccountId credit =
        phase_two && t.credit_account_id.is_zero() ? e.credit_account_id : t.credit_account_id;
    const uint32_t ledger = phase_two && t.ledger == 0 ? e.ledger : t.ledger;
    const uint16_t code = phase_two && t.code == 0 ? e.code : t.code;
    if (debit != e.debit_account_id) return R::exists_with_different_debit_account_id;
    if (credit != e.credit_account_id) return R::exists_with_different_credit_account_id;
    if (!AmountMatches(e, t)) return R::exists_with_different_amount;
    if (t.pending_id != e.pending_id) return R::exists_with_different_pending_id;
    if (t.timeout != e.timeout) return R::exists_with_different_timeout;
    if (t.user_data_128 != e.user_data_128) return R::exists_with_different_user_data_128;
    if (t.user_data_64 != e.user_data_64) return R::exists_with_different_user_data_64;
    if (t.user_data_32 != e.user_data_32) return R::exists_with_different_user_data_32;
    if (ledger != e.ledger) return R::exists_with_different_ledger;
    if (code != e.code) return R::exists_with_different_code;
    return R::exists;
  }

  CreateTransferResult PostOrVoid(const Transfer& t, uint64_t ts) {
    using R = CreateTransferResult;
    namespace tf = transfer_flags;
    const bool post = Has(t.flags, tf::kPostPendingTransfer);
    if (t.pending_id.is_zero()) return R::pending_id_must_not_be_zero;
    if (t.pending_id.is_max()) return R::pending_id_must_not_be_int_max;
    if (t.pending_id.value == t.id.value) return R::pending_id_must_be_different;
    if (t.timeout != 0) return R::timeout_reserved_for_pending_transfer;
    auto found = state_.transfers.find(t.pending_id.value);
    if (found == state_.transfers.end()) return R::pending_transfer_not_found;
    ModelTransfer& p = found->second;
    if (!Has(p.stored.flags, tf::kPending)) return R::pending_transfer_not_pending;
    if (!t.debit_account_id.is_zero() && t.debit_account_id != p.stored.debit_account_id) {
      return R::pending_transfer_has_different_debit_account_id;
    }
    if (!t.credit_account_id.is_zero() && t.credit_account_id != p.stored.credit_account_id) {
      return R::pending_transfer_has_different_credit_account_id;
    }
    if (t.ledger != 0 && t.ledger != p.stored.ledger)
      return R::pending_transfer_has_different_ledger;
    if (t.code != 0 && t.code != p.stored.code) return R::pending_transfer_has_different_code;
    Amount posted = Amount::Zero();
    if (post) {
      posted = t.amount == kPostFullAmount ? p.stored.amount : t.amount;
      if (posted > p.stored.amount) return R::exceeds_pending_transfer_amount;
    } else if (!t.amount.is_zero() && t.amount != p.stored.amount) {
      return R::pending_transfer_has_different_amount;
    }
    if (p.status == PendingStatus::posted) return R::pending_transfer_already_posted;
    if (p.status == PendingStatus::voided) return R::pending_transfer_already_voided;
    if (p.status == PendingStatus::expired) return R::pending_transfer_expired;
    if (p.expires_at != 0 && ts >= p.expires_at) return R::pending_transfer_expired;
    Account& debit = state_.accounts.at(p.stored.debit_account_id.value);
    Account& credit = state_.accounts.at(p.stored.credit_account_id.value);
    if (post && !FitsU128(Plus(W(debit.debits_posted), posted))) return R::overflows_debits_posted;
    if (post && !FitsU128(Plus(W(credit.credits_posted), posted))) {
      return R::overflows_credits_posted;
    }
    debit.debits_pending = Sub(debit.debits_pending, p.stored.amount);
    credit.credits_pending = Sub(credit.credits_pending, p.stored.amount);
    debit.debits_posted = Add(debit.debits_posted, posted);
    credit.credits_posted = Add(credit.credits_posted, posted);
    if (!post && Has(p.stored.flags, tf::kClosingDebit)) SetClosed(debit, false);
    if (!post && Has(p.stored.flags, tf::kClosingCredit)) SetClosed(credit, false);
    p.status = post ? PendingStatus::posted : PendingStatus::voided;
    Transfer stored = t;
    stored.debit_account_id = p.stored.debit_account_id;
    stored.credit_account_id = p.stored.credit_account_id;
    stored.ledger = p.stored.ledger;
    stored.code = p.stored.code;
    stored.amount = post ? posted : p.stored.amount;
    Store(stored, ts, PendingStatus::none, 0);
    RecordHistory(debit, ts);
    RecordHistory(credit, ts);
    return R::created;
  }

  static CreateTransferResult CheckRegularFields(const Transfer& t) {
    using R = CreateTransferResult;
    namespace tf = transfer_flags;
    if (t.debit_account_id.is_zero()) return R::debit_account_id_must_not_be_zero;
    if (t.debit_account_id.is_max()) return R::debit_account_id_must_not_be_int_max;
    if (t.credit_account_id.is_zero()) return R::credit_account_id_must_not_be_zero;
    if (t.credit_account_id.is_max()) return R::credit_account_id_must_not_be_int_max;
    if (t.debit_account_id == t.credit_account_id) return R::accounts_must_be_different;
    if (!t.pending_id.is_zero()) return R::pending_id_must_be_zero;
    const bool pending = Has(t.flags, tf::kPending);
    if (t.timeout != 0 && !pending) return R::timeout_reserved_for_pending_transfer;
    if ((Has(t.flags, tf::kClosingDebit) || Has(t.flags, tf::kClosingCredit)) && !pending) {
      return R::closing_transfer_must_be_pending;
    }
    if (t.ledger == 0) return R::ledger_must_not_be_zero;
    if (t.code == 0) return R::code_must_not_be_zero;
    return R::created;
  }

  // min(amount, cap - used), with cap - used floored at 0; all exact.
  Amount Clamp(Amount amount, Wide cap, Wide used) const {
    if (options_.balancing_cap_saturates && !FitsU128(cap)) cap = Wide{0, kU128Max};
    if (Less(cap, used)) return Amount::Zero();
    if (!Less(cap, Plus(used, amount))) return amount;  // room >= amount
    return Amt(cap.low - used.low);  // room < amount <= 2^128-1, so the low words suffice
  }

  CreateTransferResult Regular(const Transfer& t, uint64_t ts) {
    using R = CreateTransferResult;
    namespace tf = transfer_flags;
    namespace af = account_flags;
    const R fields = CheckRegularFields(t);
    if (fields != R::created) return fields;
    auto dit = state_.accounts.find(t.debit_account_id.value);
    if (dit == state_.accounts.end()) return R::debit_account_not_found;
    auto cit = state_.accounts.find(t.credit_account_id.value);
    if (cit == state_.accounts.end()) return R::credit_account_not_found;
    Account& d = dit->second;
    Account& c = cit->second;
    if (d.ledger != c.ledger) return R::accounts_must_have_the_same_ledger;
    if (t.ledger != d.ledger) return R::transfer_must_have_the_same_ledger_as_accounts;
    if (Has(d.flags, af::kClosed)) return R::debit_account_already_closed;
    if (Has(c.flags, af::kClosed)) return R::credit_account_already_closed;
    const bool pending = Has(t.flags, tf::kPending);
    Amount amount = t.amount;
    const Wide d_used = Plus(W(d.debits_pending), d.debits_posted);
    const Wide c_used = Plus(W(c.credits_pending), c.credits_posted);
    const Wide d_cap = Plus(W(d.credits_posted), d.overdraft_limit);
    const Wide c_cap = Plus(W(c.debits_posted), c.overdraft_limit);
    if (Has(t.flags, tf::kBalancingDebit) && Has(d.flags, af::kDebitsMustNotExceedCredits)) {
      amount = Clamp(amount, d_cap, d_used);
    }
    if (Has(t.flags, tf::kBalancingCredit) && Has(c.flags, af::kCreditsMustNotExceedDebits)) {
      amount = Clamp(amount, c_cap, c_used);
    }
    if (pending && !FitsU128(Plus(W(d.debits_pending), amount))) return R::overflows_debits_pending;
    if (pending && !FitsU128(Plus(W(c.credits_pending), amount))) {
      return R::overflows_credits_pending;
    }
    if (!pending && !FitsU128(Plus(W(d.debits_posted), amount))) return R::overflows_debits_posted;
    if (!pending && !FitsU128(Plus(W(c.credits_posted), amount))) {
      return R::overflows_credits_posted;
    }
    if (!FitsU128(Plus(d_used, amount))) return R::overflows_debits;
    if (!FitsU128(Plus(c_used, amount))) return R::overflows_credits;
    const u128 expires_at = u128{ts} + u128{t.timeout} * kNanosPerSecond;
    if (pending && t.timeout != 0 && expires_at > UINT64_MAX) return R::overflows_timeout;
    if (Has(d.flags, af::kDebitsMustNotExceedCredits) && Less(d_cap, Plus(d_used, amount))) {
      return R::exceeds_credits;
    }
    if (Has(c.flags, af::kCreditsMustNotExceedDebits) && Less(c_cap, Plus(c_used, amount))) {
      return R::exceeds_debits;
    }
    if (pending && pending_count() >= options_.pending_transfers_max) {
      return R::too_many_pending_transfers;
    }
    if (pending) {
      d.debits_pending = Add(d.debits_pending, amount);
      c.credits_pending = Add(c.credits_pending, amount);
      if (Has(t.flags, tf::kClosingDebit)) SetClosed(d, true);
      if (Has(t.flags, tf::kClosingCredit)) SetClosed(c, true);
    } else {
      d.debits_posted = Add(d.debits_posted, amount);
      c.credits_posted = Add(c.credits_posted, amount);
    }
    Transfer stored = t;
    stored.amount = amount;
    Store(stored, ts, pending ? PendingStatus::pending : PendingStatus::none,
          pending && t.timeout != 0 ? static_cast<uint64_t>(expires_at) : 0);
    RecordHistory(d, ts);
    RecordHistory(c, ts);
    return R::created;
  }

  void Store(Transfer stored, uint64_t ts, PendingStatus status, uint64_t expires_at) {
    stored.timestamp = Timestamp{ts};
    state_.transfers[stored.id.value] = ModelTransfer{stored, status, expires_at};
    state_.transfers_stored++;
  }

  static void SetClosed(Account& a, bool closed) {
    a.flags = closed ? static_cast<uint16_t>(a.flags | account_flags::kClosed)
                     : static_cast<uint16_t>(a.flags & ~account_flags::kClosed);
  }

  void RecordHistory(const Account& a, uint64_t ts) {
    if (!Has(a.flags, account_flags::kHistory)) return;
    state_.history[a.id.value].push_back(AccountBalance{
        Timestamp{ts}, a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted});
  }

  std::optional<QueryError> ValidateFilter(const AccountFilter& f, bool balances) const {
    if (f.account_id.is_zero() || f.account_id.is_max()) return QueryError::account_id_invalid;
    auto it = state_.accounts.find(f.account_id.value);
    if (it == state_.accounts.end()) return QueryError::account_not_found;
    if (f.limit == 0) return QueryError::limit_must_not_be_zero;
    if (f.limit > kQueryLimitMax) return QueryError::limit_too_large;
    if ((f.flags & ~filter_flags::kAll) != 0) return QueryError::flags_invalid;
    if ((f.flags & (filter_flags::kDebits | filter_flags::kCredits)) == 0) {
      return QueryError::flags_invalid;
    }
    if (f.timestamp_min.ns != 0 && f.timestamp_max.ns != 0 &&
        f.timestamp_min.ns > f.timestamp_max.ns) {
      return QueryError::timestamp_range_invalid;
    }
    if (balances && !Has(it->second.flags, account_flags::kHistory)) {
      return QueryError::history_not_enabled;
    }
    return std::nullopt;
  }

  static bool InRange(const AccountFilter& f, uint64_t ts) {
    if (f.timestamp_min.ns != 0 && ts < f.timestamp_min.ns) return false;
    if (f.timestamp_max.ns != 0 && ts > f.timestamp_max.ns) return false;
    return true;
  }

  template <typename T>
  static std::vector<T> Page(std::vector<T> all, const AccountFilter& f) {
    if (Has32(f.flags, filter_flags::kReversed)) std::reverse(all.begin(), all.end());
    if (all.size() > f.limit) all.resize(f.limit);
    return all;
  }

  ModelOptions options_;
  ModelState state_;
};

}  // namespace tpw::ledger::reference
