#include "ledger/store.h"

#include "common/assert.h"

namespace tpw::ledger {

Transfer InMemoryStore::ReadTransfer(TransferNo number) const {
  TPW_ASSERT(number < transfers_.size());
  return transfers_[number];
}

void InMemoryStore::TruncateTransfers(uint64_t count) {
  TPW_ASSERT(count <= transfers_.size());
  transfers_.resize_down(count);
}

void InMemoryStore::AppendAccountTransfer(AccountNo account, TransferNo number) {
  if (account >= list_tails_.size()) {
    list_tails_.resize(account + 1);
    list_blocks_.resize(account + 1);
  }
  ListTail& tail = list_tails_[account];
  if (tail.count % kBlockEntries == 0) {
    uint32_t block = 0;
    if (!free_blocks_.empty()) {
      block = free_blocks_.back();
      free_blocks_.pop_back();
    } else {
      TPW_ASSERT(blocks_.size() < UINT32_MAX);
      block = static_cast<uint32_t>(blocks_.size());
      blocks_.push_back(Block{});
    }
    list_blocks_[account].push_back(block);
    tail.block = block;
  }
  blocks_[tail.block].entries[tail.count % kBlockEntries] = number;
  ++tail.count;
}

void InMemoryStore::PopAccountTransfer(AccountNo account) {
  TPW_ASSERT(account < list_tails_.size() && list_tails_[account].count > 0);
  ListTail& tail = list_tails_[account];
  --tail.count;
  if (tail.count % kBlockEntries == 0) {
    std::vector<uint32_t>& blocks = list_blocks_[account];
    TPW_ASSERT(!blocks.empty() && blocks.back() == tail.block);
    free_blocks_.push_back(blocks.back());
    blocks.pop_back();
    tail.block = blocks.empty() ? 0 : blocks.back();
  }
}

uint64_t InMemoryStore::AccountTransferCount(AccountNo account) const {
  return account < list_tails_.size() ? list_tails_[account].count : 0;
}

TransferNo InMemoryStore::AccountTransferAt(AccountNo account, uint64_t index) const {
  TPW_ASSERT(index < AccountTransferCount(account));
  return blocks_[list_blocks_[account][index / kBlockEntries]].entries[index % kBlockEntries];
}

void InMemoryStore::PrefetchAccountTransfers(AccountNo account) const {
  if (account >= list_tails_.size()) return;
  const ListTail& tail = list_tails_[account];
  // At a block boundary the next append takes a fresh block: nothing to load ahead.
  if (tail.count % kBlockEntries == 0) return;
  __builtin_prefetch(&blocks_[tail.block].entries[tail.count % kBlockEntries], 1);
}

void InMemoryStore::AppendBalance(AccountNo account, const AccountBalance& balance) {
  if (account >= balances_.size()) balances_.resize(account + 1);
  balances_[account].push_back(balance);
}

void InMemoryStore::PopBalance(AccountNo account) {
  TPW_ASSERT(account < balances_.size() && !balances_[account].empty());
  balances_[account].pop_back();
}

uint64_t InMemoryStore::BalanceCount(AccountNo account) const {
  return account < balances_.size() ? balances_[account].size() : 0;
}

AccountBalance InMemoryStore::BalanceAt(AccountNo account, uint64_t index) const {
  TPW_ASSERT(index < BalanceCount(account));
  return balances_[account][index];
}

void InMemoryStore::SaveLists(StateSink& sink) const {
  SaveChunked(sink, blocks_);
  sink.Vector(free_blocks_);
  sink.Vector(list_tails_);
  for (const std::vector<uint32_t>& blocks : list_blocks_) sink.Vector(blocks);
  sink.U64(balances_.size());
  for (const std::vector<AccountBalance>& history : balances_) sink.Vector(history);
}

bool InMemoryStore::LoadLists(StateSource& source) {
  if (!LoadChunked(source, blocks_) || !source.Vector(free_blocks_) || !source.Vector(list_tails_)) {
    return false;
  }
  list_blocks_.assign(list_tails_.size(), {});
  for (size_t account = 0; account < list_tails_.size(); ++account) {
    std::vector<uint32_t>& blocks = list_blocks_[account];
    const ListTail& tail = list_tails_[account];
    if (!source.Vector(blocks)) return false;
    if (blocks.size() != (tail.count + kBlockEntries - 1) / kBlockEntries) return false;
    for (const uint32_t block : blocks) {
      if (block >= blocks_.size()) return false;
    }
    if (!blocks.empty() && tail.block != blocks.back()) return false;
  }
  uint64_t histories = 0;
  // Each history takes at least its 8-byte length: a bound before allocating.
  if (!source.U64(histories) || histories > source.remaining() / 8) return false;
  balances_.assign(histories, {});
  for (std::vector<AccountBalance>& history : balances_) {
    if (!source.Vector(history)) return false;
  }
  return true;
}

}  // namespace tpw::ledger
