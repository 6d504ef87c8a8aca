#include "ledger/ledger.h"

#include <algorithm>

#include "common/limits.h"

namespace tpw::ledger {

namespace {

using R = CreateTransferResult;
using AR = CreateAccountResult;

// transfer_index_ values: a TransferNo, or this bit plus the result of a transient failure.
constexpr uint64_t kFailedMarker = uint64_t{1} << 63;

constexpr uint16_t kPostOrVoid =
    transfer_flags::kPostPendingTransfer | transfer_flags::kVoidPendingTransfer;
constexpr uint16_t kBalancing = transfer_flags::kBalancingDebit | transfer_flags::kBalancingCredit;
constexpr uint16_t kClosing = transfer_flags::kClosingDebit | transfer_flags::kClosingCredit;
constexpr uint16_t kBalanceLimitFlags =
    account_flags::kDebitsMustNotExceedCredits | account_flags::kCreditsMustNotExceedDebits;

bool Has(uint16_t flags, uint16_t flag) { return (flags & flag) != 0; }

// Sums that saturate instead of failing: used only for limit headroom, where "more than
// 2^128-1" and "2^128-1" mean the same thing (no limit can be reached).
u128 SaturatingAdd(u128 a, u128 b) {
  u128 sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? kU128Max : sum;
}

bool AddOverflows(Amount a, Amount b) { return !a.CheckedAdd(b).has_value(); }

Amount MustAdd(Amount a, Amount b) {
  const std::optional<Amount> sum = a.CheckedAdd(b);
  TPW_ASSERT_MSG(sum.has_value(), "balance overflow after overflow checks passed");
  return *sum;
}

Amount MustSub(Amount a, Amount b) {
  const std::optional<Amount> difference = a.CheckedSub(b);
  TPW_ASSERT_MSG(difference.has_value(), "balance underflow: released more than was pending");
  return *difference;
}

}  // namespace

// Cache-line aligned: a transfer reads and writes most of a record (balances, limits, ledger,
// flags, totals slot), and PrefetchTransfer loads exactly its lines.
struct alignas(64) Ledger::AccountState {
  Account account;
  uint32_t totals_slot = 0;
  uint16_t creation_flags = 0;  // flags as created (closing transfers change account.flags)
  uint64_t touched_epoch = 0;
};
static_assert(sizeof(Account) == 144);  // + 16 bytes of state: three cache lines

struct Ledger::PendingState {
  TransferId id;
  Amount amount;
  uint64_t expires_at_ns = 0;  // 0: never expires
  AccountNo debit = 0;
  AccountNo credit = 0;
  uint32_t ledger = 0;
  uint16_t code = 0;
  uint16_t flags = 0;
  PendingStatus status = PendingStatus::pending;
};

struct Ledger::ExpiryEntry {
  uint64_t expires_at_ns;
  uint64_t pending_slot;
  // std::push_heap builds a max-heap; "greater" ordering makes the earliest expiry the top,
  // ties broken by creation order so expiry is deterministic.
  bool operator<(const ExpiryEntry& other) const {
    if (expires_at_ns != other.expires_at_ns) return expires_at_ns > other.expires_at_ns;
    return pending_slot > other.pending_slot;
  }
};

// Per-ledger sums over all accounts. They are checksums, not money: they use wrapping
// arithmetic (mod 2^128), because the sum over many accounts may exceed 2^128 even though no
// single balance does; a one-sided update still shows up as debits != credits.
struct Ledger::TotalsState {
  uint32_t ledger = 0;
  u128 debits_pending = 0;
  u128 debits_posted = 0;
  u128 credits_pending = 0;
  u128 credits_posted = 0;
};

// One step to undo if the current linked chain fails. Only recorded inside a chain.
struct Ledger::UndoEntry {
  enum class Kind : uint8_t {
    account_created,    // key: account id
    account_balances,   // account: restore balances[] and flags
    transfer_indexed,   // key: transfer id
    transfer_stored,    // store_.TruncateTransfers(count - 1)
    account_listed,     // store_.PopAccountTransfer(account)
    balance_recorded,   // store_.PopBalance(account)
    pending_created,    // key: pending id; pending_ back is removed
    pending_status,     // slot: restore status
  };
  explicit UndoEntry(Kind k) : kind(k) {}
  Kind kind;
  AccountNo account = 0;
  uint16_t flags = 0;
  PendingStatus status = PendingStatus::none;
  uint64_t slot = 0;
  u128 key = 0;
  Amount balances[4] = {};
};

// What a validated transfer will do to the two accounts.
struct Ledger::TransferPlan {
  Amount add_pending;     // to debits_pending / credits_pending
  Amount add_posted;      // to debits_posted / credits_posted
  Amount remove_pending;  // from debits_pending / credits_pending (post/void)
};

Ledger::Ledger(LedgerStore& store, LedgerOptions options)
    : store_(store),
      account_index_(options.expected_accounts),
      transfer_index_(options.expected_transfers),
      pending_index_(1024),
      accounts_max_(options.accounts_max),
      pending_transfers_max_(options.pending_transfers_max) {
  TPW_ASSERT(accounts_max_ <= kAccountsMax);
  TPW_ASSERT(pending_transfers_max_ <= kPendingTransfersMax);
  accounts_.reserve(options.expected_accounts);
  batch_accounts_.reserve(kBatchEventsMax);
  static_assert(kAccountsMax < kNoAccount);
}

Ledger::~Ledger() = default;

uint64_t Ledger::account_count() const { return accounts_.size(); }

Timestamp Ledger::NextTimestamp(Timestamp wall_clock) const {
  return Timestamp{std::max(wall_clock.ns, last_timestamp_.ns + 1)};
}

// ---------------------------------------------------------------------------------------------
// Batches and linked chains

// Runs `execute(i, timestamp)` for each event i with TigerBeetle's linked-chain semantics and
// collects sparse results. `remember` records a transient failure after any rollback;
// `prefetch(i, stage)` is a cache hint for event i, given ahead of time.
template <typename Event, typename Code, typename ResultT, typename Execute, typename Remember,
          typename Prefetch>
void Ledger::ApplyBatch(std::span<const Event> events, Timestamp first, uint16_t linked_flag,
                        std::vector<ResultT>& results, Execute execute, Remember remember,
                        Prefetch prefetch) {
  // Index lookups miss the cache on large ledgers; starting them this many events ahead
  // overlaps the misses (measured: see docs/benchmarks.md).
  constexpr size_t kPrefetchDistance = 8;  // stage two; stage one runs twice as far ahead
  results.clear();
  TPW_ASSERT(first > last_timestamp_);
  TPW_ASSERT(events.empty() || first.ns + (events.size() - 1) >= first.ns);  // must not wrap
  ++batch_epoch_;
  touched_.clear();

  constexpr size_t kNoChain = SIZE_MAX;
  size_t chain_start = kNoChain;
  size_t undo_mark = 0;
  size_t results_mark = 0;
  bool chain_failed = false;
  const size_t count = events.size();
  for (size_t i = 0; i < count; ++i) {
    if (i + 2 * kPrefetchDistance < count) prefetch(i + 2 * kPrefetchDistance, 1);
    if (i + kPrefetchDistance < count) prefetch(i + kPrefetchDistance, 2);
    const Timestamp timestamp{first.ns + i};
    const bool linked = Has(events[i].flags, linked_flag);
    if (chain_start == kNoChain && linked) {
      chain_start = i;
      undo_mark = undo_.size();
      results_mark = results.size();
      chain_failed = false;
      undo_enabled_ = true;
    }
    Code code;
    if (chain_start != kNoChain && linked && i + 1 == count) {
      code = Code::linked_event_chain_open;
    } else if (chain_start != kNoChain && chain_failed) {
      code = Code::linked_event_failed;
    } else {
      code = execute(i, timestamp);
    }
    const bool success = code == Code::created || code == Code::exists;
    if (chain_start != kNoChain && !success && !chain_failed) {
      chain_failed = true;
      Rollback(undo_mark);
      results.resize(results_mark);
      for (size_t j = chain_start; j < i; ++j) {
        results.push_back(ResultT{static_cast<uint32_t>(j), Code::linked_event_failed});
      }
    }
    if (code != Code::created) results.push_back(ResultT{static_cast<uint32_t>(i), code});
    if (!success && code != Code::linked_event_failed) remember(events[i], code);
    if (chain_start != kNoChain && !linked) {
      chain_start = kNoChain;
      undo_.clear();
      undo_enabled_ = false;
    }
  }
  undo_.clear();
  undo_enabled_ = false;
  if (count > 0) last_timestamp_ = Timestamp{first.ns + count - 1};
  CheckBatchInvariants();
}

Status<BatchError> Ledger::CreateAccounts(std::span<const Account> events, Timestamp first,
                                          std::vector<CreateAccountsResult>& results) {
  if (events.size() > kBatchEventsMax) {
    results.clear();
    return Err{BatchError::too_many_events};
  }
  ApplyBatch<Account, AR>(
      events, first, account_flags::kLinked, results,
      [&](size_t i, Timestamp t) { return CreateAccount(events[i], t); },
      [](const Account&, AR) {},
      [&](size_t i, int) { account_index_.Prefetch(events[i].id.value); });
  return Status<BatchError>::Ok();
}

Status<BatchError> Ledger::CreateTransfers(std::span<const Transfer> events, Timestamp first,
                                           std::vector<CreateTransfersResult>& results) {
  if (events.size() > kBatchEventsMax) {
    results.clear();
    return Err{BatchError::too_many_events};
  }
  ResolveAccounts(events);
  ApplyBatch<Transfer, R>(
      events, first, transfer_flags::kLinked, results,
      [&](size_t i, Timestamp t) { return CreateTransfer(events[i], batch_accounts_[i], t); },
      [this](const Transfer& event, R code) { RememberFailure(event, code); },
      [&](size_t i, int stage) { PrefetchTransfer(events[i], batch_accounts_[i], stage); });
  return Status<BatchError>::Ok();
}

// Looks up both accounts of every transfer of the batch before any runs. The account index
// cannot change during CreateTransfers (only CreateAccounts adds or removes accounts), so the
// answers hold for the whole batch; a tight loop of independent lookups overlaps their cache
// misses, and the per-event path then needs no account lookup at all.
void Ledger::ResolveAccounts(std::span<const Transfer> events) {
  constexpr size_t kAhead = 8;
  batch_accounts_.resize(events.size());
  auto lookup = [this](AccountId id) {
    if (id.is_zero() || id.is_max()) return kNoAccount;  // rejected before it is needed
    const uint64_t* number = account_index_.Find(id.value);
    return number == nullptr ? kNoAccount : static_cast<AccountNo>(*number);
  };
  for (size_t i = 0; i < events.size(); ++i) {
    if (i + kAhead < events.size()) {
      for (const AccountId id :
           {events[i + kAhead].debit_account_id, events[i + kAhead].credit_account_id}) {
        if (!id.is_zero()) account_index_.Prefetch(id.value);
      }
    }
    batch_accounts_[i] = BatchAccounts{lookup(events[i].debit_account_id),
                                       lookup(events[i].credit_account_id)};
  }
}

// Stage 1 starts loading the transfer index bucket; stage 2 the account records and their
// transfer-list tails. Hints only: no state changes.
void Ledger::PrefetchTransfer(const Transfer& event, BatchAccounts accounts, int stage) const {
  if (stage == 1) {
    transfer_index_.Prefetch(event.id.value);
    return;
  }
  for (const AccountNo number : {accounts.debit, accounts.credit}) {
    if (number == kNoAccount) continue;
    const char* record = reinterpret_cast<const char*>(&accounts_[number]);
    for (size_t offset = 0; offset < sizeof(AccountState); offset += 64) {
      __builtin_prefetch(record + offset, 1);
    }
    store_.PrefetchAccountTransfers(number);
  }
}

void Ledger::RememberFailure(const Transfer& event, CreateTransferResult result) {
  if (!IsTransient(result)) return;
  // Transient failures happen only after the id passed validation and was found unused.
  TPW_ASSERT(!event.id.is_zero() && !event.id.is_max());
  TPW_ASSERT(transfer_index_.Find(event.id.value) == nullptr);
  transfer_index_.Insert(event.id.value, kFailedMarker | static_cast<uint64_t>(result));
}

void Ledger::Rollback(size_t undo_mark) {
  while (undo_.size() > undo_mark) {
    const UndoEntry entry = undo_.back();
    undo_.pop_back();
    switch (entry.kind) {
      case UndoEntry::Kind::account_created:
        account_index_.Erase(entry.key);
        TPW_ASSERT(accounts_.back().account.id.value == entry.key);
        accounts_.pop_back();
        break;
      case UndoEntry::Kind::account_balances:
        RestoreBalances(entry);
        break;
      case UndoEntry::Kind::transfer_indexed:
        transfer_index_.Erase(entry.key);
        break;
      case UndoEntry::Kind::transfer_stored:
        store_.TruncateTransfers(store_.transfer_count() - 1);
        break;
      case UndoEntry::Kind::account_listed:
        store_.PopAccountTransfer(entry.account);
        break;
      case UndoEntry::Kind::balance_recorded:
        store_.PopBalance(entry.account);
        break;
      case UndoEntry::Kind::pending_created:
        pending_index_.Erase(entry.key);
        TPW_ASSERT(pending_.back().id.value == entry.key);
        pending_.pop_back();
        --pending_open_;
        break;
      case UndoEntry::Kind::pending_status:
        if (entry.status == PendingStatus::pending) ++pending_open_;
        pending_[entry.slot].status = entry.status;
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Accounts

CreateAccountResult Ledger::ValidateAccount(const Account& event) const {
  const uint16_t limit_flags =
      account_flags::kDebitsMustNotExceedCredits | account_flags::kCreditsMustNotExceedDebits;
  if (event.timestamp.ns != 0) return AR::timestamp_must_be_zero;
  if ((event.flags & ~account_flags::kAll) != 0) return AR::reserved_flag;
  if (event.id.is_zero()) return AR::id_must_not_be_zero;
  if (event.id.is_max()) return AR::id_must_not_be_int_max;
  if ((event.flags & limit_flags) == limit_flags) return AR::flags_are_mutually_exclusive;
  if (!event.debits_pending.is_zero()) return AR::debits_pending_must_be_zero;
  if (!event.debits_posted.is_zero()) return AR::debits_posted_must_be_zero;
  if (!event.credits_pending.is_zero()) return AR::credits_pending_must_be_zero;
  if (!event.credits_posted.is_zero()) return AR::credits_posted_must_be_zero;
  if (event.ledger == 0) return AR::ledger_must_not_be_zero;
  if (event.code == 0) return AR::code_must_not_be_zero;
  if (!event.overdraft_limit.is_zero() && (event.flags & limit_flags) == 0) {
    return AR::overdraft_limit_requires_balance_flag;
  }
  return AR::created;
}

// Flags are compared with the flags the account was created with (ignoring `linked`): a
// closing transfer may have set `closed` since, which must not turn a retry into an error.
static CreateAccountResult CompareAccount(const Account& event, const Account& existing,
                                          uint16_t creation_flags) {
  const auto ignore = static_cast<uint16_t>(~account_flags::kLinked);
  if ((event.flags & ignore) != (creation_flags & ignore)) {
    return AR::exists_with_different_flags;
  }
  if (event.user_data_128 != existing.user_data_128) {
    return AR::exists_with_different_user_data_128;
  }
  if (event.user_data_64 != existing.user_data_64) return AR::exists_with_different_user_data_64;
  if (event.user_data_32 != existing.user_data_32) return AR::exists_with_different_user_data_32;
  if (event.ledger != existing.ledger) return AR::exists_with_different_ledger;
  if (event.code != existing.code) return AR::exists_with_different_code;
  if (event.overdraft_limit != existing.overdraft_limit) {
    return AR::exists_with_different_overdraft_limit;
  }
  return AR::exists;
}

CreateAccountResult Ledger::CreateAccount(const Account& event, Timestamp timestamp) {
  const AR invalid = ValidateAccount(event);
  if (invalid != AR::created) return invalid;
  if (const uint64_t* existing = account_index_.Find(event.id.value)) {
    const AccountState& state = accounts_[*existing];
    return CompareAccount(event, state.account, state.creation_flags);
  }
  if (accounts_.size() >= accounts_max_) return AR::too_many_accounts;

  AccountState state;
  state.account = event;
  state.account.timestamp = timestamp;
  state.totals_slot = TotalsSlotFor(event.ledger);
  state.creation_flags = event.flags;
  const auto number = static_cast<AccountNo>(accounts_.size());
  accounts_.push_back(state);
  account_index_.Insert(event.id.value, number);
  if (undo_enabled_) {
    UndoEntry undo{UndoEntry::Kind::account_created};
    undo.key = event.id.value;
    undo_.push_back(undo);
  }
  return AR::created;
}

uint32_t Ledger::TotalsSlotFor(uint32_t ledger) {
  for (size_t i = 0; i < totals_.size(); ++i) {
    if (totals_[i].ledger == ledger) return static_cast<uint32_t>(i);
  }
  totals_.push_back(TotalsState{ledger});
  return static_cast<uint32_t>(totals_.size() - 1);
}

// ---------------------------------------------------------------------------------------------
// Transfers

CreateTransferResult Ledger::CreateTransfer(const Transfer& event, BatchAccounts accounts,
                                            Timestamp timestamp) {
  const R invalid = ValidateTransferFields(event);
  if (invalid != R::created) return invalid;
  if (const uint64_t* existing = transfer_index_.Find(event.id.value)) {
    if ((*existing & kFailedMarker) != 0) return R::id_already_failed;
    return CheckExisting(event, *existing);
  }
  if (Has(event.flags, kPostOrVoid)) return PostOrVoid(event, timestamp);
  return CreateRegular(event, accounts, timestamp);
}

CreateTransferResult Ledger::ValidateTransferFields(const Transfer& event) const {
  if (event.timestamp.ns != 0) return R::timestamp_must_be_zero;
  if ((event.flags & ~transfer_flags::kAll) != 0) return R::reserved_flag;
  if (event.id.is_zero()) return R::id_must_not_be_zero;
  if (event.id.is_max()) return R::id_must_not_be_int_max;
  const int phases = int{Has(event.flags, transfer_flags::kPending)} +
                     int{Has(event.flags, transfer_flags::kPostPendingTransfer)} +
                     int{Has(event.flags, transfer_flags::kVoidPendingTransfer)};
  if (phases > 1) return R::flags_are_mutually_exclusive;
  if (Has(event.flags, kPostOrVoid) && Has(event.flags, kBalancing | kClosing)) {
    return R::flags_are_mutually_exclusive;
  }
  return R::created;
}

CreateTransferResult Ledger::CheckExisting(const Transfer& event, uint64_t index_value) const {
  const Transfer stored = store_.ReadTransfer(index_value);
  const uint16_t ignore = static_cast<uint16_t>(~transfer_flags::kLinked);
  if ((event.flags & ignore) != (stored.flags & ignore)) return R::exists_with_different_flags;
  const bool post_or_void = Has(event.flags, kPostOrVoid);
  const bool defaults_allowed = post_or_void;  // zero fields mean "as the pending transfer"
  if (!(defaults_allowed && event.debit_account_id.is_zero()) &&
      event.debit_account_id != stored.debit_account_id) {
    return R::exists_with_different_debit_account_id;
  }
  if (!(defaults_allowed && event.credit_account_id.is_zero()) &&
      event.credit_account_id != stored.credit_account_id) {
    return R::exists_with_different_credit_account_id;
  }
  bool amount_matches = event.amount == stored.amount;
  if (Has(event.flags, transfer_flags::kPostPendingTransfer) && event.amount == kPostFullAmount) {
    amount_matches = true;
  } else if (Has(event.flags, transfer_flags::kVoidPendingTransfer) && event.amount.is_zero()) {
    amount_matches = true;
  } else if (Has(event.flags, kBalancing) && event.amount >= stored.amount) {
    amount_matches = true;
  }
  if (!amount_matches) return R::exists_with_different_amount;
  if (event.pending_id != stored.pending_id) return R::exists_with_different_pending_id;
  if (event.timeout != stored.timeout) return R::exists_with_different_timeout;
  if (event.user_data_128 != stored.user_data_128) return R::exists_with_different_user_data_128;
  if (event.user_data_64 != stored.user_data_64) return R::exists_with_different_user_data_64;
  if (event.user_data_32 != stored.user_data_32) return R::exists_with_different_user_data_32;
  if (!(defaults_allowed && event.ledger == 0) && event.ledger != stored.ledger) {
    return R::exists_with_different_ledger;
  }
  if (!(defaults_allowed && event.code == 0) && event.code != stored.code) {
    return R::exists_with_different_code;
  }
  return R::exists;
}

CreateTransferResult Ledger::CreateRegular(const Transfer& event, BatchAccounts accounts,
                                           Timestamp timestamp) {
  if (event.debit_account_id.is_zero()) return R::debit_account_id_must_not_be_zero;
  if (event.debit_account_id.is_max()) return R::debit_account_id_must_not_be_int_max;
  if (event.credit_account_id.is_zero()) return R::credit_account_id_must_not_be_zero;
  if (event.credit_account_id.is_max()) return R::credit_account_id_must_not_be_int_max;
  if (event.debit_account_id == event.credit_account_id) return R::accounts_must_be_different;
  if (!event.pending_id.is_zero()) return R::pending_id_must_be_zero;
  const bool pending = Has(event.flags, transfer_flags::kPending);
  if (!pending && event.timeout != 0) return R::timeout_reserved_for_pending_transfer;
  if (!pending && Has(event.flags, kClosing)) return R::closing_transfer_must_be_pending;
  if (event.ledger == 0) return R::ledger_must_not_be_zero;
  if (event.code == 0) return R::code_must_not_be_zero;

  const AccountNo debit = accounts.debit;  // looked up by ResolveAccounts
  const AccountNo credit = accounts.credit;
  if (debit == kNoAccount) return R::debit_account_not_found;
  if (credit == kNoAccount) return R::credit_account_not_found;
  const Account& d = accounts_[debit].account;
  const Account& c = accounts_[credit].account;
  TPW_ASSERT(d.id == event.debit_account_id && c.id == event.credit_account_id);
  if (d.ledger != c.ledger) return R::accounts_must_have_the_same_ledger;
  if (event.ledger != d.ledger) return R::transfer_must_have_the_same_ledger_as_accounts;
  if (Has(d.flags, account_flags::kClosed)) return R::debit_account_already_closed;
  if (Has(c.flags, account_flags::kClosed)) return R::credit_account_already_closed;

  const Amount amount = BalancedAmount(event, d, c);
  const R overflow = CheckOverflows(event, d, c, amount, timestamp);
  if (overflow != R::created) return overflow;
  const R limit = CheckBalanceLimits(d, c, amount);
  if (limit != R::created) return limit;
  if (pending && pending_open_ >= pending_transfers_max_) return R::too_many_pending_transfers;

  Transfer stored = event;
  stored.amount = amount;
  stored.timestamp = timestamp;
  const TransferPlan plan = pending ? TransferPlan{amount, Amount::Zero(), Amount::Zero()}
                                    : TransferPlan{Amount::Zero(), amount, Amount::Zero()};
  ApplyBalances(debit, credit, plan);
  if (Has(event.flags, transfer_flags::kClosingDebit)) SetAccountClosed(debit, true);
  if (Has(event.flags, transfer_flags::kClosingCredit)) SetAccountClosed(credit, true);
  if (pending) OpenPending(stored, debit, credit);
  RecordTransfer(stored, debit, credit);
  return R::created;
}

// Room left under a limit: other_posted + overdraft - used, floored at 0, computed exactly
// even when other_posted + overdraft exceeds 2^128-1 (then it saturates at 2^128-1, which no
// amount can exceed anyway).
static u128 Headroom(Amount other_posted, Amount overdraft, Amount pending, Amount posted) {
  // overflows_debits / overflows_credits keep pending + posted within 128 bits.
  const std::optional<Amount> used_amount = pending.CheckedAdd(posted);
  TPW_ASSERT(used_amount.has_value());
  const u128 used = used_amount->minor();
  if (used <= other_posted.minor()) {
    return SaturatingAdd(other_posted.minor() - used, overdraft.minor());
  }
  const u128 deficit = used - other_posted.minor();
  return overdraft.minor() > deficit ? overdraft.minor() - deficit : 0;
}

// Balancing transfers take at most what the limited account can still absorb.
Amount Ledger::BalancedAmount(const Transfer& event, const Account& d, const Account& c) const {
  Amount amount = event.amount;
  if (Has(event.flags, transfer_flags::kBalancingDebit) &&
      Has(d.flags, account_flags::kDebitsMustNotExceedCredits)) {
    const u128 room = Headroom(d.credits_posted, d.overdraft_limit, d.debits_pending,
                               d.debits_posted);
    amount = std::min(amount, Amount::FromMinor(room));
  }
  if (Has(event.flags, transfer_flags::kBalancingCredit) &&
      Has(c.flags, account_flags::kCreditsMustNotExceedDebits)) {
    const u128 room = Headroom(c.debits_posted, c.overdraft_limit, c.credits_pending,
                               c.credits_posted);
    amount = std::min(amount, Amount::FromMinor(room));
  }
  return amount;
}

CreateTransferResult Ledger::CheckOverflows(const Transfer& event, const Account& d,
                                            const Account& c, Amount amount,
                                            Timestamp timestamp) const {
  if (Has(event.flags, transfer_flags::kPending)) {
    if (AddOverflows(d.debits_pending, amount)) return R::overflows_debits_pending;
    if (AddOverflows(c.credits_pending, amount)) return R::overflows_credits_pending;
  } else {
    if (AddOverflows(d.debits_posted, amount)) return R::overflows_debits_posted;
    if (AddOverflows(c.credits_posted, amount)) return R::overflows_credits_posted;
  }
  const std::optional<Amount> debits = d.debits_pending.CheckedAdd(d.debits_posted);
  if (!debits || AddOverflows(*debits, amount)) return R::overflows_debits;
  const std::optional<Amount> credits = c.credits_pending.CheckedAdd(c.credits_posted);
  if (!credits || AddOverflows(*credits, amount)) return R::overflows_credits;
  if (Has(event.flags, transfer_flags::kPending) && event.timeout != 0) {
    uint64_t timeout_ns = 0;
    uint64_t expires_at_ns = 0;
    if (__builtin_mul_overflow(uint64_t{event.timeout}, kNanosPerSecond, &timeout_ns) ||
        __builtin_add_overflow(timestamp.ns, timeout_ns, &expires_at_ns)) {
      return R::overflows_timeout;
    }
  }
  return R::created;
}

CreateTransferResult Ledger::CheckBalanceLimits(const Account& d, const Account& c,
                                                Amount amount) const {
  // Overflow checks ran first, so these sums fit.
  if (Has(d.flags, account_flags::kDebitsMustNotExceedCredits)) {
    const u128 debits = d.debits_pending.minor() + d.debits_posted.minor() + amount.minor();
    if (debits > SaturatingAdd(d.credits_posted.minor(), d.overdraft_limit.minor())) {
      return R::exceeds_credits;
    }
  }
  if (Has(c.flags, account_flags::kCreditsMustNotExceedDebits)) {
    const u128 credits = c.credits_pending.minor() + c.credits_posted.minor() + amount.minor();
    if (credits > SaturatingAdd(c.debits_posted.minor(), c.overdraft_limit.minor())) {
      return R::exceeds_debits;
    }
  }
  return R::created;
}

CreateTransferResult Ledger::PostOrVoid(const Transfer& event, Timestamp timestamp) {
  if (event.pending_id.is_zero()) return R::pending_id_must_not_be_zero;
  if (event.pending_id.is_max()) return R::pending_id_must_not_be_int_max;
  if (event.pending_id == event.id) return R::pending_id_must_be_different;
  if (event.timeout != 0) return R::timeout_reserved_for_pending_transfer;
  const uint64_t* slot = pending_index_.Find(event.pending_id.value);
  if (slot == nullptr) {
    const uint64_t* other = transfer_index_.Find(event.pending_id.value);
    const bool exists = other != nullptr && (*other & kFailedMarker) == 0;
    return exists ? R::pending_transfer_not_pending : R::pending_transfer_not_found;
  }
  const PendingState& p = pending_[*slot];
  const Account& d = accounts_[p.debit].account;
  const Account& c = accounts_[p.credit].account;
  if (!event.debit_account_id.is_zero() && event.debit_account_id != d.id) {
    return R::pending_transfer_has_different_debit_account_id;
  }
  if (!event.credit_account_id.is_zero() && event.credit_account_id != c.id) {
    return R::pending_transfer_has_different_credit_account_id;
  }
  if (event.ledger != 0 && event.ledger != p.ledger) {
    return R::pending_transfer_has_different_ledger;
  }
  if (event.code != 0 && event.code != p.code) return R::pending_transfer_has_different_code;

  const bool post = Has(event.flags, transfer_flags::kPostPendingTransfer);
  Amount amount = p.amount;
  if (post && event.amount != kPostFullAmount) {
    if (event.amount > p.amount) return R::exceeds_pending_transfer_amount;
    amount = event.amount;
  }
  if (!post && !event.amount.is_zero() && event.amount != p.amount) {
    return R::pending_transfer_has_different_amount;
  }
  if (p.status == PendingStatus::posted) return R::pending_transfer_already_posted;
  if (p.status == PendingStatus::voided) return R::pending_transfer_already_voided;
  if (p.status == PendingStatus::expired) return R::pending_transfer_expired;
  if (p.expires_at_ns != 0 && timestamp.ns >= p.expires_at_ns) return R::pending_transfer_expired;
  if (post && AddOverflows(d.debits_posted, amount)) return R::overflows_debits_posted;
  if (post && AddOverflows(c.credits_posted, amount)) return R::overflows_credits_posted;

  Transfer stored = event;
  stored.debit_account_id = d.id;
  stored.credit_account_id = c.id;
  stored.amount = amount;
  stored.ledger = p.ledger;
  stored.code = p.code;
  stored.timestamp = timestamp;
  const AccountNo debit = p.debit;
  const AccountNo credit = p.credit;
  ResolvePending(*slot, post ? PendingStatus::posted : PendingStatus::voided,
                 post ? amount : Amount::Zero());
  RecordTransfer(stored, debit, credit);
  return R::created;
}

// Releases a pending transfer's reservation (post, void or expiry) and posts `posted`.
void Ledger::ResolvePending(uint64_t slot, PendingStatus status, Amount posted) {
  PendingState& p = pending_[slot];
  TPW_ASSERT(p.status == PendingStatus::pending);
  if (undo_enabled_) {
    UndoEntry undo{UndoEntry::Kind::pending_status};
    undo.slot = slot;
    undo.status = p.status;
    undo_.push_back(undo);
  }
  p.status = status;
  --pending_open_;
  ApplyBalances(p.debit, p.credit, TransferPlan{Amount::Zero(), posted, p.amount});
  if (status != PendingStatus::posted) {
    // A voided or expired closing transfer reopens what it closed.
    if (Has(p.flags, transfer_flags::kClosingDebit)) SetAccountClosed(p.debit, false);
    if (Has(p.flags, transfer_flags::kClosingCredit)) SetAccountClosed(p.credit, false);
  }
}

void Ledger::OpenPending(const Transfer& stored, AccountNo debit, AccountNo credit) {
  PendingState p;
  p.id = stored.id;
  p.amount = stored.amount;
  p.expires_at_ns =
      stored.timeout == 0 ? 0 : stored.timestamp.ns + uint64_t{stored.timeout} * kNanosPerSecond;
  p.debit = debit;
  p.credit = credit;
  p.ledger = stored.ledger;
  p.code = stored.code;
  p.flags = stored.flags;
  const uint64_t slot = pending_.size();
  pending_.push_back(p);
  pending_index_.Insert(stored.id.value, slot);
  ++pending_open_;
  if (p.expires_at_ns != 0) {
    expiry_heap_.push_back(ExpiryEntry{p.expires_at_ns, slot});
    std::push_heap(expiry_heap_.begin(), expiry_heap_.end());
  }
  if (undo_enabled_) {
    UndoEntry undo{UndoEntry::Kind::pending_created};
    undo.key = stored.id.value;
    undo_.push_back(undo);
  }
}

// ---------------------------------------------------------------------------------------------
// Effects

void Ledger::ApplyBalances(AccountNo debit, AccountNo credit, const TransferPlan& plan) {
  SaveBalances(debit);
  SaveBalances(credit);
  Account& d = accounts_[debit].account;
  Account& c = accounts_[credit].account;
  TotalsState& debit_totals = totals_[accounts_[debit].totals_slot];
  TotalsState& credit_totals = totals_[accounts_[credit].totals_slot];

  d.debits_pending = MustSub(MustAdd(d.debits_pending, plan.add_pending), plan.remove_pending);
  d.debits_posted = MustAdd(d.debits_posted, plan.add_posted);
  debit_totals.debits_pending += plan.add_pending.minor() - plan.remove_pending.minor();
  debit_totals.debits_posted += plan.add_posted.minor();

  c.credits_pending = MustSub(MustAdd(c.credits_pending, plan.add_pending), plan.remove_pending);
  c.credits_posted = MustAdd(c.credits_posted, plan.add_posted);
  credit_totals.credits_pending += plan.add_pending.minor() - plan.remove_pending.minor();
  credit_totals.credits_posted += plan.add_posted.minor();

  TouchAccount(debit);
  TouchAccount(credit);
}

void Ledger::SaveBalances(AccountNo account) {
  if (!undo_enabled_) return;
  const Account& a = accounts_[account].account;
  UndoEntry undo{UndoEntry::Kind::account_balances};
  undo.account = account;
  undo.flags = a.flags;
  undo.balances[0] = a.debits_pending;
  undo.balances[1] = a.debits_posted;
  undo.balances[2] = a.credits_pending;
  undo.balances[3] = a.credits_posted;
  undo_.push_back(undo);
}

void Ledger::RestoreBalances(const UndoEntry& entry) {
  AccountState& state = accounts_[entry.account];
  Account& a = state.account;
  TotalsState& totals = totals_[state.totals_slot];
  // Wrapping differences keep the checksums exact (see TotalsState).
  totals.debits_pending += entry.balances[0].minor() - a.debits_pending.minor();
  totals.debits_posted += entry.balances[1].minor() - a.debits_posted.minor();
  totals.credits_pending += entry.balances[2].minor() - a.credits_pending.minor();
  totals.credits_posted += entry.balances[3].minor() - a.credits_posted.minor();
  a.debits_pending = entry.balances[0];
  a.debits_posted = entry.balances[1];
  a.credits_pending = entry.balances[2];
  a.credits_posted = entry.balances[3];
  a.flags = entry.flags;
}

void Ledger::SetAccountClosed(AccountNo account, bool closed) {
  SaveBalances(account);
  uint16_t& flags = accounts_[account].account.flags;
  flags = closed ? static_cast<uint16_t>(flags | account_flags::kClosed)
                 : static_cast<uint16_t>(flags & ~account_flags::kClosed);
}

void Ledger::RecordTransfer(const Transfer& stored, AccountNo debit, AccountNo credit) {
  const TransferNo number = store_.transfer_count();
  store_.AppendTransfer(stored);
  transfer_index_.Insert(stored.id.value, number);
  store_.AppendAccountTransfer(debit, number);
  store_.AppendAccountTransfer(credit, number);
  if (undo_enabled_) {
    UndoEntry undo{UndoEntry::Kind::transfer_stored};
    undo_.push_back(undo);
    undo.kind = UndoEntry::Kind::transfer_indexed;
    undo.key = stored.id.value;
    undo_.push_back(undo);
    undo.kind = UndoEntry::Kind::account_listed;
    undo.account = debit;
    undo_.push_back(undo);
    undo.account = credit;
    undo_.push_back(undo);
  }
  RecordHistory(debit, stored.timestamp);
  RecordHistory(credit, stored.timestamp);
}

void Ledger::RecordHistory(AccountNo account, Timestamp timestamp) {
  const AccountState& state = accounts_[account];
  if (!Has(state.account.flags, account_flags::kHistory)) return;
  store_.AppendBalance(account, BalanceOf(state, timestamp));
  if (undo_enabled_) {
    UndoEntry undo{UndoEntry::Kind::balance_recorded};
    undo.account = account;
    undo_.push_back(undo);
  }
}

AccountBalance Ledger::BalanceOf(const AccountState& state, Timestamp timestamp) const {
  const Account& a = state.account;
  return AccountBalance{timestamp, a.debits_pending, a.debits_posted, a.credits_pending,
                        a.credits_posted};
}

// Remembers an account for the end-of-batch limit check. Accounts without a balance-limit flag
// have nothing to check (and those flags never change after creation), so they are skipped:
// in the common case of unlimited accounts this keeps the batch check O(limited accounts).
void Ledger::TouchAccount(AccountNo account) {
  AccountState& state = accounts_[account];
  if (!Has(state.account.flags, kBalanceLimitFlags)) return;
  if (state.touched_epoch == batch_epoch_) return;
  state.touched_epoch = batch_epoch_;
  touched_.push_back(account);
}

// ---------------------------------------------------------------------------------------------
// Expiry

bool Ledger::ExpiryEntryLive(const ExpiryEntry& entry) const {
  if (entry.pending_slot >= pending_.size()) return false;  // rolled back
  const PendingState& p = pending_[entry.pending_slot];
  return p.status == PendingStatus::pending && p.expires_at_ns == entry.expires_at_ns;
}

void Ledger::PopExpiry() const {
  std::pop_heap(expiry_heap_.begin(), expiry_heap_.end());
  expiry_heap_.pop_back();
}

bool Ledger::ExpirePendingTransfers(Timestamp now, size_t limit,
                                    std::vector<ExpiredTransfer>& expired) {
  TPW_ASSERT(now > last_timestamp_);
  expired.clear();
  ++batch_epoch_;
  touched_.clear();
  uint64_t stamp = now.ns;
  bool more = false;
  while (!expiry_heap_.empty() && expiry_heap_.front().expires_at_ns <= now.ns) {
    const ExpiryEntry top = expiry_heap_.front();
    if (!ExpiryEntryLive(top)) {
      PopExpiry();
      continue;
    }
    if (expired.size() >= limit) {
      more = true;
      break;
    }
    PopExpiry();
    const PendingState& p = pending_[top.pending_slot];
    expired.push_back(ExpiredTransfer{p.id, p.amount});
    ResolvePending(top.pending_slot, PendingStatus::expired, Amount::Zero());
    RecordHistory(p.debit, Timestamp{stamp});
    RecordHistory(p.credit, Timestamp{stamp});
    ++stamp;
  }
  last_timestamp_ = Timestamp{expired.empty() ? now.ns : stamp - 1};
  CheckBatchInvariants();
  return more;
}

std::optional<Timestamp> Ledger::NextExpiry() const {
  while (!expiry_heap_.empty() && !ExpiryEntryLive(expiry_heap_.front())) {
    PopExpiry();
  }
  if (expiry_heap_.empty()) return std::nullopt;
  return Timestamp{expiry_heap_.front().expires_at_ns};
}

// ---------------------------------------------------------------------------------------------
// Queries

std::optional<Account> Ledger::LookupAccount(AccountId id) const {
  if (id.is_zero()) return std::nullopt;
  const uint64_t* number = account_index_.Find(id.value);
  if (number == nullptr) return std::nullopt;
  return accounts_[*number].account;
}

std::optional<Transfer> Ledger::LookupTransfer(TransferId id) const {
  if (id.is_zero()) return std::nullopt;
  const uint64_t* number = transfer_index_.Find(id.value);
  if (number == nullptr || (*number & kFailedMarker) != 0) return std::nullopt;
  return store_.ReadTransfer(*number);
}

PendingStatus Ledger::GetPendingStatus(TransferId id) const {
  if (id.is_zero()) return PendingStatus::none;
  const uint64_t* slot = pending_index_.Find(id.value);
  return slot == nullptr ? PendingStatus::none : pending_[*slot].status;
}

Result<AccountNo, QueryError> Ledger::ValidateFilter(const AccountFilter& filter) const {
  if (filter.account_id.is_zero() || filter.account_id.is_max()) {
    return Err{QueryError::account_id_invalid};
  }
  if (filter.limit == 0) return Err{QueryError::limit_must_not_be_zero};
  if (filter.limit > kQueryLimitMax) return Err{QueryError::limit_too_large};
  const uint32_t sides = filter_flags::kDebits | filter_flags::kCredits;
  if ((filter.flags & ~filter_flags::kAll) != 0 || (filter.flags & sides) == 0) {
    return Err{QueryError::flags_invalid};
  }
  if (filter.timestamp_min.ns != 0 && filter.timestamp_max.ns != 0 &&
      filter.timestamp_min > filter.timestamp_max) {
    return Err{QueryError::timestamp_range_invalid};
  }
  const uint64_t* number = account_index_.Find(filter.account_id.value);
  if (number == nullptr) return Err{QueryError::account_not_found};
  return static_cast<AccountNo>(*number);
}

// First index in [0, count) whose timestamp is >= `ns` (entries ascend by timestamp).
template <typename TimestampAt>
static uint64_t LowerBound(uint64_t count, uint64_t ns, TimestampAt timestamp_at) {
  uint64_t low = 0;
  uint64_t high = count;
  while (low < high) {
    const uint64_t middle = low + (high - low) / 2;
    if (timestamp_at(middle) < ns) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

// Visits entries with timestamps in the filter's range, in the filter's order, until `visit`
// returns false. Returns nothing: `visit` collects.
template <typename TimestampAt, typename Visit>
static void ScanRange(const AccountFilter& filter, uint64_t count, TimestampAt timestamp_at,
                      Visit visit) {
  const uint64_t begin = filter.timestamp_min.ns == 0
                             ? 0
                             : LowerBound(count, filter.timestamp_min.ns, timestamp_at);
  const uint64_t end = filter.timestamp_max.ns == 0 || filter.timestamp_max.ns == UINT64_MAX
                           ? count
                           : LowerBound(count, filter.timestamp_max.ns + 1, timestamp_at);
  if ((filter.flags & filter_flags::kReversed) != 0) {
    for (uint64_t i = end; i > begin; --i) {
      if (!visit(i - 1)) return;
    }
  } else {
    for (uint64_t i = begin; i < end; ++i) {
      if (!visit(i)) return;
    }
  }
}

Result<std::vector<Transfer>, QueryError> Ledger::GetAccountTransfers(
    const AccountFilter& filter) const {
  const Result<AccountNo, QueryError> account = ValidateFilter(filter);
  if (!account.ok()) return Err{account.error()};
  const AccountNo number = account.value();
  const AccountId id = filter.account_id;
  auto timestamp_at = [&](uint64_t i) {
    return store_.ReadTransfer(store_.AccountTransferAt(number, i)).timestamp.ns;
  };
  std::vector<Transfer> out;
  ScanRange(filter, store_.AccountTransferCount(number), timestamp_at, [&](uint64_t i) {
    const Transfer t = store_.ReadTransfer(store_.AccountTransferAt(number, i));
    const bool debit_side = t.debit_account_id == id;
    const bool wanted = debit_side ? (filter.flags & filter_flags::kDebits) != 0
                                   : (filter.flags & filter_flags::kCredits) != 0;
    if (wanted && (filter.code == 0 || filter.code == t.code)) out.push_back(t);
    return out.size() < filter.limit;
  });
  return out;
}

Result<std::vector<AccountBalance>, QueryError> Ledger::GetAccountBalances(
    const AccountFilter& filter) const {
  const Result<AccountNo, QueryError> account = ValidateFilter(filter);
  if (!account.ok()) return Err{account.error()};
  const AccountNo number = account.value();
  if (!Has(accounts_[number].account.flags, account_flags::kHistory)) {
    return Err{QueryError::history_not_enabled};
  }
  auto timestamp_at = [&](uint64_t i) { return store_.BalanceAt(number, i).timestamp.ns; };
  std::vector<AccountBalance> out;
  ScanRange(filter, store_.BalanceCount(number), timestamp_at, [&](uint64_t i) {
    out.push_back(store_.BalanceAt(number, i));
    return out.size() < filter.limit;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Invariants

static bool WithinLimit(Amount pending, Amount posted, Amount other_posted, Amount limit) {
  return SaturatingAdd(pending.minor(), posted.minor()) <=
         SaturatingAdd(other_posted.minor(), limit.minor());
}

static void CheckAccountLimits(const Account& a) {
  if (Has(a.flags, account_flags::kDebitsMustNotExceedCredits)) {
    TPW_ASSERT_MSG(WithinLimit(a.debits_pending, a.debits_posted, a.credits_posted,
                               a.overdraft_limit),
                   "account debits exceed credits plus overdraft limit");
  }
  if (Has(a.flags, account_flags::kCreditsMustNotExceedDebits)) {
    TPW_ASSERT_MSG(WithinLimit(a.credits_pending, a.credits_posted, a.debits_posted,
                               a.overdraft_limit),
                   "account credits exceed debits plus limit");
  }
}

void Ledger::CheckBatchInvariants() {
  for (const TotalsState& totals : totals_) {
    TPW_ASSERT_MSG(totals.debits_pending == totals.credits_pending,
                   "per-ledger pending debits != pending credits");
    TPW_ASSERT_MSG(totals.debits_posted == totals.credits_posted,
                   "per-ledger posted debits != posted credits");
  }
  for (AccountNo account : touched_) CheckAccountLimits(accounts_[account].account);
  touched_.clear();
}

void Ledger::CheckInvariants() const {
  std::vector<TotalsState> sums(totals_.size());
  for (const AccountState& state : accounts_) {
    const Account& a = state.account;
    TotalsState& sum = sums[state.totals_slot];
    sum.debits_pending += a.debits_pending.minor();
    sum.debits_posted += a.debits_posted.minor();
    sum.credits_pending += a.credits_pending.minor();
    sum.credits_posted += a.credits_posted.minor();
    CheckAccountLimits(a);
  }
  for (size_t i = 0; i < sums.size(); ++i) {
    TPW_ASSERT(sums[i].debits_pending == totals_[i].debits_pending);
    TPW_ASSERT(sums[i].debits_posted == totals_[i].debits_posted);
    TPW_ASSERT(sums[i].credits_pending == totals_[i].credits_pending);
    TPW_ASSERT(sums[i].credits_posted == totals_[i].credits_posted);
    TPW_ASSERT(sums[i].debits_pending == sums[i].credits_pending);
    TPW_ASSERT(sums[i].debits_posted == sums[i].credits_posted);
  }
  uint64_t open = 0;
  for (const PendingState& p : pending_) open += p.status == PendingStatus::pending ? 1 : 0;
  TPW_ASSERT(open == pending_open_);
}

std::vector<LedgerTotals> Ledger::Totals() const {
  std::vector<LedgerTotals> out;
  for (const TotalsState& t : totals_) {
    out.push_back(LedgerTotals{t.ledger, Amount::FromMinor(t.debits_pending),
                               Amount::FromMinor(t.debits_posted),
                               Amount::FromMinor(t.credits_pending),
                               Amount::FromMinor(t.credits_posted)});
  }
  return out;
}


// ---------------------------------------------------------------------------------------------
// Recovery: replay of journaled facts, snapshot save/load

namespace {

// Bumped by hand whenever SaveState's sequence of sections changes meaning.
constexpr uint64_t kStateFormat = 1;

Account AsEvent(const Account& created) {
  Account event = created;
  event.timestamp = Timestamp{};
  return event;
}

Transfer AsEvent(const Transfer& created) {
  Transfer event = created;
  event.timestamp = Timestamp{};
  return event;
}

}  // namespace

bool Ledger::ReplayAccounts(std::span<const Account> created, Timestamp batch_last) {
  if (created.empty() || batch_last <= last_timestamp_) return false;
  ++batch_epoch_;
  touched_.clear();
  Timestamp previous = last_timestamp_;
  for (const Account& account : created) {
    if (account.timestamp <= previous || account.timestamp > batch_last) return false;
    if (CreateAccount(AsEvent(account), account.timestamp) != CreateAccountResult::created) {
      return false;
    }
    previous = account.timestamp;
  }
  last_timestamp_ = batch_last;
  CheckBatchInvariants();
  return true;
}

bool Ledger::ReplayTransfers(std::span<const Transfer> created, Timestamp batch_last) {
  if (created.empty() || batch_last <= last_timestamp_) return false;
  ++batch_epoch_;
  touched_.clear();
  Timestamp previous = last_timestamp_;
  ResolveAccounts(created);  // as CreateTransfers does: accounts looked up once per batch
  constexpr size_t kAhead = 8;  // as in ApplyBatch: overlap the index and account misses
  for (size_t i = 0; i < created.size(); ++i) {
    if (i + 2 * kAhead < created.size()) {
      PrefetchTransfer(created[i + 2 * kAhead], batch_accounts_[i + 2 * kAhead], 1);
    }
    if (i + kAhead < created.size()) {
      PrefetchTransfer(created[i + kAhead], batch_accounts_[i + kAhead], 2);
    }
    const Transfer& transfer = created[i];
    if (transfer.timestamp <= previous || transfer.timestamp > batch_last) return false;
    if (CreateTransfer(AsEvent(transfer), batch_accounts_[i], transfer.timestamp) !=
        CreateTransferResult::created) {
      return false;
    }
    previous = transfer.timestamp;
  }
  last_timestamp_ = batch_last;
  CheckBatchInvariants();
  return true;
}

bool Ledger::ReplayFailures(std::span<const FailedTransfer> failed) {
  for (const FailedTransfer& f : failed) {
    if (!IsTransient(f.result) || f.id.is_zero() || f.id.is_max()) return false;
    if (transfer_index_.Find(f.id.value) != nullptr) return false;
    Transfer event;
    event.id = f.id;
    RememberFailure(event, f.result);
  }
  return true;
}

uint64_t Ledger::StateLayoutFingerprint() {
  // Any change of a saved struct's size changes the fingerprint; field reorders of equal size
  // must bump kStateFormat by hand.
  uint64_t h = kStateFormat;
  for (const uint64_t size : {sizeof(AccountState), sizeof(PendingState), sizeof(ExpiryEntry),
                              sizeof(TotalsState), sizeof(Account), sizeof(Transfer)}) {
    h = h * 1000003 + size;
  }
  return h;
}

void Ledger::SaveState(StateSink& sink, Timestamp last_timestamp) const {
  TPW_ASSERT(last_timestamp <= last_timestamp_);
  sink.U64(StateLayoutFingerprint());
  sink.U64(last_timestamp.ns);
  sink.U64(pending_open_);
  sink.Vector(accounts_);
  account_index_.Save(sink);
  transfer_index_.Save(sink);
  sink.Vector(pending_);
  pending_index_.Save(sink);
  sink.Vector(expiry_heap_);
  sink.Vector(totals_);
}

bool Ledger::LoadState(StateSource& source) {
  uint64_t fingerprint = 0;
  uint64_t last = 0;
  uint64_t open = 0;
  if (!source.U64(fingerprint) || fingerprint != StateLayoutFingerprint()) return false;
  if (!source.U64(last) || !source.U64(open)) return false;
  if (!source.Vector(accounts_) || !account_index_.Load(source) ||
      !transfer_index_.Load(source) || !source.Vector(pending_) ||
      !pending_index_.Load(source) || !source.Vector(expiry_heap_) || !source.Vector(totals_)) {
    return false;
  }
  if (account_index_.size() != accounts_.size() || pending_index_.size() != pending_.size()) {
    return false;
  }
  for (AccountState& state : accounts_) {
    if (state.totals_slot >= totals_.size()) return false;
    state.touched_epoch = 0;
  }
  for (const PendingState& p : pending_) {
    if (p.debit >= accounts_.size() || p.credit >= accounts_.size()) return false;
  }
  if (!std::is_heap(expiry_heap_.begin(), expiry_heap_.end())) return false;
  last_timestamp_ = Timestamp{last};
  pending_open_ = open;
  batch_epoch_ = 0;
  touched_.clear();
  undo_.clear();
  // No CheckInvariants() here: the caller verifies the snapshot's checksum only after loading
  // (one pass), and a damaged snapshot must be rejected, not abort the process. The engine
  // checks every invariant once recovery is complete.
  return true;
}

}  // namespace tpw::ledger
