// LedgerStore: where transfer bodies, per-account transfer lists and balance history live.
//
// The state machine keeps accounts, pending transfers and the id index in memory; everything
// that grows with every transfer goes through this interface, so the durable engine can serve
// it from the journal instead of RAM. Called only from the sequencer thread: no locking.
//
// Rollback contract: within one CreateTransfers call, a failed linked chain undoes its
// appends by calling TruncateTransfers / PopAccountTransfer / PopBalance in reverse order.
#pragma once

#include <cstdint>
#include <vector>

#include "ledger/chunked.h"
#include "ledger/state_io.h"
#include "ledger/types.h"

namespace tpw::ledger {

using TransferNo = uint64_t;  // dense, 0-based, in creation (= timestamp) order
using AccountNo = uint32_t;   // dense, 0-based, in creation order

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  // Transfer bodies. A new transfer's number is transfer_count() before the append.
  virtual void AppendTransfer(const Transfer& transfer) = 0;
  virtual Transfer ReadTransfer(TransferNo number) const = 0;
  virtual uint64_t transfer_count() const = 0;
  virtual void TruncateTransfers(uint64_t count) = 0;

  // Per-account list of transfer numbers (both sides), ascending.
  virtual void AppendAccountTransfer(AccountNo account, TransferNo number) = 0;
  virtual void PopAccountTransfer(AccountNo account) = 0;
  virtual uint64_t AccountTransferCount(AccountNo account) const = 0;
  virtual TransferNo AccountTransferAt(AccountNo account, uint64_t index) const = 0;
  // A hint that AppendAccountTransfer(account, …) comes soon (start loading its tail).
  virtual void PrefetchAccountTransfers(AccountNo) const {}

  // Balance history of accounts flagged `history`, ascending by timestamp.
  virtual void AppendBalance(AccountNo account, const AccountBalance& balance) = 0;
  virtual void PopBalance(AccountNo account) = 0;
  virtual uint64_t BalanceCount(AccountNo account) const = 0;
  virtual AccountBalance BalanceAt(AccountNo account, uint64_t index) const = 0;
};

// Everything in RAM: for tests, the in-memory benchmark and the demo.
class InMemoryStore final : public LedgerStore {
 public:
  // Streaming stores: a new transfer body is written once and seldom read soon after, so it
  // bypasses the cache instead of evicting the accounts and indexes the next transfers need.
  void AppendTransfer(const Transfer& transfer) override {
    transfers_.push_back_streaming(transfer);
  }

  Transfer ReadTransfer(TransferNo number) const override;
  uint64_t transfer_count() const override { return transfers_.size(); }
  void TruncateTransfers(uint64_t count) override;

  void AppendAccountTransfer(AccountNo account, TransferNo number) override;
  void PopAccountTransfer(AccountNo account) override;
  uint64_t AccountTransferCount(AccountNo account) const override;
  TransferNo AccountTransferAt(AccountNo account, uint64_t index) const override;
  void PrefetchAccountTransfers(AccountNo account) const override;

  void AppendBalance(AccountNo account, const AccountBalance& balance) override;
  void PopBalance(AccountNo account) override;
  uint64_t BalanceCount(AccountNo account) const override;
  AccountBalance BalanceAt(AccountNo account, uint64_t index) const override;

  // Snapshot support for the per-account lists and balance history (not the transfer bodies:
  // a journal-backed store keeps those in the journal). Load replaces the lists.
  void SaveLists(StateSink& sink) const;
  bool LoadLists(StateSource& source);

  // Pre-size for a known workload (TigerBeetle-style allocation at start-up) so that memory
  // growth — page faults and huge-page compaction of new chunks — never lands on a batch.
  // Each transfer adds two list entries, so `transfers` need about 2 * transfers / kBlockEntries
  // blocks, plus one partly filled block per account.
  void Reserve(uint64_t transfers, uint64_t accounts) {
    transfers_.Reserve(transfers);
    ReserveLists(transfers, accounts);
  }
  // The per-account lists alone (a store whose transfer bodies live elsewhere).
  void ReserveLists(uint64_t transfers, uint64_t accounts) {
    blocks_.Reserve(transfers / (kBlockEntries / 2) + accounts);
  }

 private:
  // Per-account lists are runs of 64-entry blocks from one pool: appending never copies, and
  // index access stays O(1) through the account's block list.
  static constexpr uint64_t kBlockEntries = 64;
  struct Block {
    TransferNo entries[kBlockEntries];
  };
  // What an append needs, 16 bytes an account, apart from the block lists (which an append
  // touches only every kBlockEntries-th time): the append path and its prefetch then read one
  // small dense array instead of chasing each account's vector.
  struct ListTail {
    uint64_t count = 0;
    uint32_t block = 0;  // the last block of the list; meaningless while count == 0
  };

  ChunkedVector<Transfer> transfers_;
  ChunkedVector<Block> blocks_;
  std::vector<uint32_t> free_blocks_;               // blocks released by rollback
  std::vector<ListTail> list_tails_;                // by AccountNo
  std::vector<std::vector<uint32_t>> list_blocks_;  // by AccountNo: the list's blocks
  std::vector<std::vector<AccountBalance>> balances_;
};

}  // namespace tpw::ledger
