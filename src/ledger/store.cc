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
  if (account >= account_transfers_.size()) account_transfers_.resize(account + 1);
  AccountList& list = account_transfers_[account];
  if (list.count % kBlockEntries == 0) {
    uint32_t block = 0;
    if (!free_blocks_.empty()) {
      block = free_blocks_.back();
      free_blocks_.pop_back();
    } else {
      TPW_ASSERT(blocks_.size() < UINT32_MAX);
      block = static_cast<uint32_t>(blocks_.size());
      blocks_.push_back(Block{});
    }
    list.blocks.push_back(block);
  }
  blocks_[list.blocks.back()].entries[list.count % kBlockEntries] = number;
  ++list.count;
}

void InMemoryStore::PopAccountTransfer(AccountNo account) {
  TPW_ASSERT(account < account_transfers_.size() && account_transfers_[account].count > 0);
  AccountList& list = account_transfers_[account];
  --list.count;
  if (list.count % kBlockEntries == 0) {
    free_blocks_.push_back(list.blocks.back());
    list.blocks.pop_back();
  }
}

uint64_t InMemoryStore::AccountTransferCount(AccountNo account) const {
  return account < account_transfers_.size() ? account_transfers_[account].count : 0;
}

TransferNo InMemoryStore::AccountTransferAt(AccountNo account, uint64_t index) const {
  TPW_ASSERT(index < AccountTransferCount(account));
  const AccountList& list = account_transfers_[account];
  return blocks_[list.blocks[index / kBlockEntries]].entries[index % kBlockEntries];
}

void InMemoryStore::PrefetchAccountTransfers(AccountNo account) const {
  if (account >= account_transfers_.size()) return;
  const AccountList& list = account_transfers_[account];
  if (list.blocks.empty()) return;
  __builtin_prefetch(&blocks_[list.blocks.back()].entries[list.count % kBlockEntries]);
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
  blocks_.Save(sink);
  sink.Vector(free_blocks_);
  sink.U64(account_transfers_.size());
  for (const AccountList& list : account_transfers_) {
    sink.U64(list.count);
    sink.Vector(list.blocks);
  }
  sink.U64(balances_.size());
  for (const std::vector<AccountBalance>& history : balances_) sink.Vector(history);
}

bool InMemoryStore::LoadLists(StateSource& source) {
  if (!blocks_.Load(source) || !source.Vector(free_blocks_)) return false;
  uint64_t accounts = 0;
  // Each list takes at least 16 bytes of the source: a bound before allocating.
  if (!source.U64(accounts) || accounts > source.remaining() / 16) return false;
  account_transfers_.assign(accounts, AccountList{});
  for (AccountList& list : account_transfers_) {
    if (!source.U64(list.count) || !source.Vector(list.blocks)) return false;
    if (list.blocks.size() != (list.count + kBlockEntries - 1) / kBlockEntries) return false;
    for (const uint32_t block : list.blocks) {
      if (block >= blocks_.size()) return false;
    }
  }
  uint64_t histories = 0;
  if (!source.U64(histories) || histories > source.remaining() / 8) return false;
  balances_.assign(histories, {});
  for (std::vector<AccountBalance>& history : balances_) {
    if (!source.Vector(history)) return false;
  }
  return true;
}

}  // namespace tpw::ledger
