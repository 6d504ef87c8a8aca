// JournalStore: the LedgerStore of the durable engine. Transfer bodies live in the journal, not
// in RAM: per journaled batch the store keeps one extent (first transfer number, count, record
// location), and reads a body back with one positioned read. Per-account transfer lists and the
// balance history of `history` accounts stay in memory (8 bytes per list entry; history only
// for accounts that asked for it).
//
// Life of a transfer body:
//   tail_        created by the batch being executed (rollback truncates it here)
//   in_flight_   handed to the journal thread, not yet written (still served from RAM)
//   extents_     written: served from the journal file through a RecordReader
// Only the sequencer thread calls this class.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "journal/record_reader.h"
#include "journal/types.h"
#include "ledger/state_io.h"
#include "ledger/store.h"

namespace tpw::engine {

class JournalStore final : public ledger::LedgerStore {
 public:
  explicit JournalStore(journal::RecordReader& reader) : reader_(&reader) {}

  // LedgerStore
  void AppendTransfer(const ledger::Transfer& transfer) override { tail_.push_back(transfer); }
  ledger::Transfer ReadTransfer(ledger::TransferNo number) const override;
  uint64_t transfer_count() const override { return tail_first_ + tail_.size(); }
  void TruncateTransfers(uint64_t count) override;
  void AppendAccountTransfer(ledger::AccountNo a, ledger::TransferNo n) override {
    lists_.AppendAccountTransfer(a, n);
  }
  void PopAccountTransfer(ledger::AccountNo a) override { lists_.PopAccountTransfer(a); }
  uint64_t AccountTransferCount(ledger::AccountNo a) const override {
    return lists_.AccountTransferCount(a);
  }
  ledger::TransferNo AccountTransferAt(ledger::AccountNo a, uint64_t i) const override {
    return lists_.AccountTransferAt(a, i);
  }
  void PrefetchAccountTransfers(ledger::AccountNo a) const override {
    lists_.PrefetchAccountTransfers(a);
  }
  void AppendBalance(ledger::AccountNo a, const ledger::AccountBalance& b) override {
    lists_.AppendBalance(a, b);
  }
  void PopBalance(ledger::AccountNo a) override { lists_.PopBalance(a); }
  uint64_t BalanceCount(ledger::AccountNo a) const override { return lists_.BalanceCount(a); }
  ledger::AccountBalance BalanceAt(ledger::AccountNo a, uint64_t i) const override {
    return lists_.BalanceAt(a, i);
  }

  // Engine side. Moves the transfers created since the last call out of the tail (nullptr if
  // none); they stay readable from RAM until MarkWritten reports where they landed. The
  // pointer is valid until then. Batch vectors are recycled, so steady state allocates nothing.
  const std::vector<ledger::Transfer>* TakeTail();
  // The oldest in-flight batch was written at `location` (whose record holds a fact header
  // followed by the batch's bodies).
  void MarkWritten(journal::RecordLocation location);
  // Recovery: the transfers just replayed into the tail are already in the journal at
  // `location`.
  void TailIsInJournal(journal::RecordLocation location);

  // Pre-sizes the list block pool for a known workload (benchmarks): two list entries per
  // transfer. (Bodies are not reserved: they live in the journal.)
  void Reserve(uint64_t transfers, uint64_t accounts) { lists_.ReserveLists(transfers, accounts); }

  void SaveState(ledger::StateSink& sink) const;
  bool LoadState(ledger::StateSource& source);
  uint64_t extent_count() const { return extents_.size(); }

 private:
  struct Extent {
    ledger::TransferNo first = 0;
    uint64_t count = 0;
    journal::RecordLocation location;
  };
  struct InFlight {
    ledger::TransferNo first = 0;
    std::vector<ledger::Transfer> transfers;
  };

  journal::RecordReader* reader_;
  ledger::InMemoryStore lists_;  // only its per-account lists and balance history are used
  std::vector<ledger::Transfer> tail_;
  ledger::TransferNo tail_first_ = 0;
  std::deque<InFlight> in_flight_;
  std::vector<Extent> extents_;  // ascending by `first`, contiguous
  std::vector<std::vector<ledger::Transfer>> spare_;  // emptied batch vectors, for reuse
};

}  // namespace tpw::engine
