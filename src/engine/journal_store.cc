#include "engine/journal_store.h"

#include <algorithm>

#include "common/assert.h"
#include "engine/facts.h"

namespace tpw::engine {

using ledger::Transfer;
using ledger::TransferNo;

Transfer JournalStore::ReadTransfer(TransferNo number) const {
  if (number >= tail_first_) {
    TPW_ASSERT(number - tail_first_ < tail_.size());
    return tail_[number - tail_first_];
  }
  if (!in_flight_.empty() && number >= in_flight_.front().first) {
    for (const InFlight& batch : in_flight_) {
      if (number - batch.first < batch.transfers.size()) {
        return batch.transfers[number - batch.first];
      }
    }
    TPW_ASSERT_MSG(false, "transfer number between in-flight batches");
  }
  // The extent whose range holds `number`: the last one starting at or before it.
  const auto it = std::upper_bound(extents_.begin(), extents_.end(), number,
                                   [](TransferNo n, const Extent& e) { return n < e.first; });
  TPW_ASSERT(it != extents_.begin());
  const Extent& extent = *(it - 1);
  TPW_ASSERT(number - extent.first < extent.count);
  uint8_t bytes[kTransferFactBytes];
  const uint64_t offset = kFactHeaderBytes + (number - extent.first) * kTransferFactBytes;
  const journal::JournalStatus read = reader_->ReadPayload(extent.location, offset, bytes);
  // A written, synced record that cannot be read back means the disk lost data under us: no
  // answer would be trustworthy, so stop rather than guess.
  TPW_ASSERT_MSG(read.ok(), "cannot read a journaled transfer back");
  return DecodeTransferItem(bytes);
}

void JournalStore::TruncateTransfers(uint64_t count) {
  TPW_ASSERT(count >= tail_first_ && count <= transfer_count());
  tail_.resize(count - tail_first_);
}

const std::vector<Transfer>* JournalStore::TakeTail() {
  if (tail_.empty()) return nullptr;
  const uint64_t count = tail_.size();
  in_flight_.push_back(InFlight{tail_first_, std::move(tail_)});
  tail_ = {};
  if (!spare_.empty()) {
    tail_ = std::move(spare_.back());
    spare_.pop_back();
  }
  tail_first_ += count;
  return &in_flight_.back().transfers;
}

void JournalStore::MarkWritten(journal::RecordLocation location) {
  TPW_ASSERT(!in_flight_.empty());
  InFlight& batch = in_flight_.front();
  extents_.push_back(Extent{batch.first, batch.transfers.size(), location});
  batch.transfers.clear();  // keeps its capacity
  if (spare_.size() < 4) spare_.push_back(std::move(batch.transfers));
  in_flight_.pop_front();
}

void JournalStore::TailIsInJournal(journal::RecordLocation location) {
  TPW_ASSERT(in_flight_.empty());
  if (tail_.empty()) return;
  extents_.push_back(Extent{tail_first_, tail_.size(), location});
  tail_first_ += tail_.size();
  tail_.clear();
}

void JournalStore::SaveState(ledger::StateSink& sink) const {
  TPW_ASSERT(tail_.empty() && in_flight_.empty());
  sink.U64(tail_first_);
  sink.Vector(extents_);
  lists_.SaveLists(sink);
}

bool JournalStore::LoadState(ledger::StateSource& source) {
  if (!source.U64(tail_first_) || !source.Vector(extents_)) return false;
  TransferNo next = 0;
  for (const Extent& extent : extents_) {
    if (extent.first != next || extent.count == 0) return false;
    next += extent.count;
  }
  if (next != tail_first_) return false;
  return lists_.LoadLists(source);
}

}  // namespace tpw::engine
