#include "ledger/store.h"

#include "common/assert.h"

namespace tpw::ledger {

Transfer InMemoryStore::ReadTransfer(TransferNo number) const {
  TPW_ASSERT(number < transfers_.size());
  return transfers_[number];
}

void InMemoryStore::TruncateTransfers(uint64_t count) {
  TPW_ASSERT(count <= transfers_.size());
  transfers_.resize(count);
}

void InMemoryStore::AppendAccountTransfer(AccountNo account, TransferNo number) {
  if (account >= account_transfers_.size()) account_transfers_.resize(account + 1);
  account_transfers_[account].push_back(number);
}

void InMemoryStore::PopAccountTransfer(AccountNo account) {
  TPW_ASSERT(account < account_transfers_.size() && !account_transfers_[account].empty());
  account_transfers_[account].pop_back();
}

uint64_t InMemoryStore::AccountTransferCount(AccountNo account) const {
  return account < account_transfers_.size() ? account_transfers_[account].size() : 0;
}

TransferNo InMemoryStore::AccountTransferAt(AccountNo account, uint64_t index) const {
  TPW_ASSERT(index < AccountTransferCount(account));
  return account_transfers_[account][index];
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
