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

}  // namespace tpw::ledger
