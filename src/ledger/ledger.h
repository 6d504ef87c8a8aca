// Ledger: the double-entry state machine. Pure and deterministic: no I/O, no clock, no
// randomness; the same calls with the same timestamps give the same results and state.
//
// Thread-safety: none. Exactly one thread (the sequencer) calls it.
//
// Timestamps: the caller passes the batch's first timestamp, which must be greater than
// last_timestamp(); event i of the batch is stamped first + i (events that fail consume their
// timestamp too). NextTimestamp() gives a valid first timestamp from a wall clock reading.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/limits.h"
#include "common/result.h"
#include "ledger/bucket_index.h"
#include "ledger/hash_index.h"
#include "ledger/results.h"
#include "ledger/state_io.h"
#include "ledger/store.h"
#include "ledger/types.h"

namespace tpw::ledger {

// Results are sparse, like TigerBeetle's: only events whose result is not `created` appear.
struct CreateAccountsResult {
  uint32_t index;
  CreateAccountResult result;
};
struct CreateTransfersResult {
  uint32_t index;
  CreateTransferResult result;
};

// A transfer id whose attempt failed transiently (see IsTransient): remembered so a retry gets
// id_already_failed. The engine journals these so the rule survives a restart.
struct FailedTransfer {
  TransferId id;
  CreateTransferResult result = CreateTransferResult::created;
};

struct ExpiredTransfer {
  TransferId id;
  Amount amount;
};

// Per-ledger (per-asset) sums over all accounts; debits == credits for each after every batch.
// The sums are checksums taken modulo 2^128 (many accounts together may exceed 2^128).
struct LedgerTotals {
  uint32_t ledger = 0;
  Amount debits_pending;
  Amount debits_posted;
  Amount credits_pending;
  Amount credits_posted;
};

struct LedgerOptions {
  // Pre-size the id indexes (avoids rehash pauses when the workload size is known).
  uint64_t expected_accounts = 1024;
  uint64_t expected_transfers = 1024;
  // Capacity limits: too_many_accounts / too_many_pending_transfers once this many accounts
  // exist / pending transfers are open. They may only be lowered (tests lower them to reach
  // those codes); a value above kAccountsMax / kPendingTransfersMax is a programmer error
  // (asserted by the constructor).
  uint64_t accounts_max = kAccountsMax;
  uint64_t pending_transfers_max = kPendingTransfersMax;
};

class Ledger {
 public:
  explicit Ledger(LedgerStore& store, LedgerOptions options = {});
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Applies the events in order; appends a result for each event not `created` to `results`
  // (cleared first). Returns too_many_events, applying nothing, for more than kBatchEventsMax.
  Status<BatchError> CreateAccounts(std::span<const Account> events, Timestamp first,
                                    std::vector<CreateAccountsResult>& results);
  Status<BatchError> CreateTransfers(std::span<const Transfer> events, Timestamp first,
                                     std::vector<CreateTransfersResult>& results);

  // Expires, in expiry order, up to `limit` pending transfers whose expiry time is <= now,
  // releasing their pending amounts. `now` must be > last_timestamp(); expired transfers are
  // stamped now, now+1, ... (for balance history). Returns true if more remain expired-but-
  // unprocessed (call again).
  bool ExpirePendingTransfers(Timestamp now, size_t limit, std::vector<ExpiredTransfer>& expired);
  // Earliest expiry time of a still-pending transfer, if any (the sequencer's timer).
  std::optional<Timestamp> NextExpiry() const;

  std::optional<Account> LookupAccount(AccountId id) const;
  std::optional<Transfer> LookupTransfer(TransferId id) const;
  PendingStatus GetPendingStatus(TransferId id) const;
  Result<std::vector<Transfer>, QueryError> GetAccountTransfers(const AccountFilter& f) const;
  Result<std::vector<AccountBalance>, QueryError> GetAccountBalances(const AccountFilter& f) const;

  Timestamp last_timestamp() const { return last_timestamp_; }
  Timestamp NextTimestamp(Timestamp wall_clock) const;
  uint64_t account_count() const;
  uint64_t transfer_count() const { return store_.transfer_count(); }
  uint64_t pending_count() const { return pending_open_; }
  std::vector<LedgerTotals> Totals() const;

  // ---- Recovery ----
  // Re-apply facts the engine journaled, in journal order. Facts were validated when first
  // executed, so anything but `created` means the journal and this build disagree: the call
  // returns false at the first such event (state is then unusable; the engine stops).
  // `batch_last` is the last timestamp the original batch consumed (failed events included).
  bool ReplayAccounts(std::span<const Account> created, Timestamp batch_last);
  bool ReplayTransfers(std::span<const Transfer> created, Timestamp batch_last);
  bool ReplayFailures(std::span<const FailedTransfer> failed);

  // Streams the whole in-memory state (accounts, indexes, pending transfers, expiry queue,
  // totals) into `sink`; the store saves its own part. LoadState fills a freshly constructed
  // Ledger and returns false if the data is short or inconsistent.
  // `last_timestamp` is saved as the state's last_timestamp(): at most last_timestamp(), at least
  // every stored timestamp. The engine passes the last timestamp its journal restores on replay
  // (events that were rejected consumed timestamps but are not journaled), so that state loaded
  // from a snapshot equals state rebuilt by replaying the journal up to the same point.
  void SaveState(StateSink& sink, Timestamp last_timestamp) const;
  bool LoadState(StateSource& source);
  // Changes whenever the saved layout changes (struct sizes, format): snapshots from another
  // layout are rejected, not misread.
  static uint64_t StateLayoutFingerprint();

  // Recomputes every per-ledger sum from all accounts and checks every balance limit;
  // aborts (TPW_ASSERT) on any violation. O(accounts): for tests and after recovery.
  void CheckInvariants() const;

 private:
  struct AccountState;
  struct PendingState;
  struct UndoEntry;
  struct ExpiryEntry;
  struct TotalsState;
  struct TransferPlan;
  // Both accounts of one transfer of the current batch, kNoAccount when not found.
  struct BatchAccounts {
    AccountNo debit;
    AccountNo credit;
  };
  static constexpr AccountNo kNoAccount = UINT32_MAX;

  template <typename Event, typename Code, typename ResultT, typename Execute, typename Remember,
            typename Prefetch>
  void ApplyBatch(std::span<const Event> events, Timestamp first, uint16_t linked_flag,
                  std::vector<ResultT>& results, Execute execute, Remember remember,
                  Prefetch prefetch);
  void Rollback(size_t undo_mark);
  void RememberFailure(const Transfer& event, CreateTransferResult result);
  void ResolveAccounts(std::span<const Transfer> events);
  void PrefetchTransfer(const Transfer& event, BatchAccounts accounts, int stage) const;

  CreateAccountResult CreateAccount(const Account& event, Timestamp timestamp);
  CreateAccountResult ValidateAccount(const Account& event) const;
  uint32_t TotalsSlotFor(uint32_t ledger);

  CreateTransferResult CreateTransfer(const Transfer& event, BatchAccounts accounts,
                                      Timestamp timestamp);
  CreateTransferResult ValidateTransferFields(const Transfer& event) const;
  CreateTransferResult CheckExisting(const Transfer& event, uint64_t index_value) const;
  CreateTransferResult CreateRegular(const Transfer& event, BatchAccounts accounts,
                                     Timestamp timestamp);
  CreateTransferResult PostOrVoid(const Transfer& event, Timestamp timestamp);
  Amount BalancedAmount(const Transfer& event, const Account& d, const Account& c) const;
  CreateTransferResult CheckOverflows(const Transfer& event, const Account& d, const Account& c,
                                      Amount amount, Timestamp timestamp) const;
  CreateTransferResult CheckBalanceLimits(const Account& d, const Account& c,
                                          Amount amount) const;

  void OpenPending(const Transfer& stored, AccountNo debit, AccountNo credit);
  void ResolvePending(uint64_t slot, PendingStatus status, Amount posted);
  void ApplyBalances(AccountNo debit, AccountNo credit, const TransferPlan& plan);
  void SaveBalances(AccountNo account);
  void RestoreBalances(const UndoEntry& entry);
  void SetAccountClosed(AccountNo account, bool closed);
  void RecordTransfer(const Transfer& stored, AccountNo debit, AccountNo credit);
  void RecordHistory(AccountNo account, Timestamp timestamp);
  AccountBalance BalanceOf(const AccountState& state, Timestamp timestamp) const;
  void TouchAccount(AccountNo account);
  void CheckBatchInvariants();

  bool ExpiryEntryLive(const ExpiryEntry& entry) const;
  void PopExpiry() const;
  Result<AccountNo, QueryError> ValidateFilter(const AccountFilter& filter) const;

  LedgerStore& store_;
  std::vector<AccountState> accounts_;
  HashIndex account_index_;   // account id -> AccountNo
  BucketIndex transfer_index_;  // transfer id -> TransferNo, or kFailedMarker | result
  std::vector<PendingState> pending_;
  HashIndex pending_index_;   // pending transfer id -> index into pending_
  // Min-heap on expiry time. Entries of resolved transfers are dropped lazily (mutable: dropping
  // them changes no visible state).
  mutable std::vector<ExpiryEntry> expiry_heap_;
  std::vector<TotalsState> totals_;
  std::vector<UndoEntry> undo_;
  bool undo_enabled_ = false;
  std::vector<BatchAccounts> batch_accounts_;  // by event index, see ResolveAccounts
  std::vector<AccountNo> touched_;  // accounts with a limit flag changed in the current batch
  uint64_t batch_epoch_ = 0;
  uint64_t pending_open_ = 0;
  uint64_t accounts_max_;           // LedgerOptions::accounts_max
  uint64_t pending_transfers_max_;  // LedgerOptions::pending_transfers_max
  Timestamp last_timestamp_;
};

}  // namespace tpw::ledger
