// Shared helpers for the ledger unit tests: a fixture owning an InMemoryStore and a Ledger,
// builders for accounts and transfers, one-event helpers that return the event's result code
// (`created` is the absence of a sparse result), and gtest printers for the 128-bit types
// (gtest cannot print unsigned __int128 by itself).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <vector>

#include "common/amount.h"
#include "common/ids.h"
#include "common/int128.h"
#include "common/limits.h"
#include "ledger/ledger.h"
#include "ledger/results.h"
#include "ledger/store.h"
#include "ledger/types.h"

// gtest printers, found by argument-dependent lookup, so failures show readable values.
namespace tpw {
inline void PrintTo(const Amount& amount, std::ostream* os) {
  *os << U128ToDecimal(amount.minor());
}
template <typename Tag>
void PrintTo(const Id128<Tag>& id, std::ostream* os) {
  *os << "id:" << U128ToDecimal(id.value);
}
inline void PrintTo(const Timestamp& timestamp, std::ostream* os) { *os << "t:" << timestamp.ns; }
}  // namespace tpw

namespace tpw::ledger {
inline void PrintTo(CreateAccountResult result, std::ostream* os) { *os << ResultName(result); }
inline void PrintTo(CreateTransferResult result, std::ostream* os) { *os << ResultName(result); }
inline void PrintTo(BatchError error, std::ostream* os) { *os << ResultName(error); }
inline void PrintTo(QueryError error, std::ostream* os) { *os << ResultName(error); }
inline void PrintTo(PendingStatus status, std::ostream* os) {
  *os << "PendingStatus(" << static_cast<int>(status) << ")";
}
inline void PrintTo(const CreateAccountsResult& r, std::ostream* os) {
  *os << "{" << r.index << ", " << ResultName(r.result) << "}";
}
inline void PrintTo(const CreateTransfersResult& r, std::ostream* os) {
  *os << "{" << r.index << ", " << ResultName(r.result) << "}";
}
}  // namespace tpw::ledger

namespace tpw::ledger::testing {

inline constexpr uint32_t kLedgerUsd = 1;
inline constexpr uint32_t kLedgerEur = 2;
inline constexpr uint16_t kAccountCode = 10;
inline constexpr uint16_t kTransferCode = 20;
inline constexpr uint64_t kSecond = kNanosPerSecond;

inline Amount Amt(u128 minor_units) { return Amount::FromMinor(minor_units); }
inline Timestamp Ts(uint64_t ns) { return Timestamp{ns}; }

inline Account MakeAccount(u128 id, uint16_t flags = 0, uint32_t ledger = kLedgerUsd) {
  Account account;
  account.id = AccountId(id);
  account.ledger = ledger;
  account.code = kAccountCode;
  account.flags = flags;
  return account;
}

inline Account MakeLimitedAccount(u128 id, uint16_t flags, u128 overdraft_limit) {
  Account account = MakeAccount(id, flags);
  account.overdraft_limit = Amt(overdraft_limit);
  return account;
}

inline Transfer MakeTransfer(u128 id, u128 debit, u128 credit, u128 amount, uint16_t flags = 0,
                             uint32_t ledger = kLedgerUsd) {
  Transfer transfer;
  transfer.id = TransferId(id);
  transfer.debit_account_id = AccountId(debit);
  transfer.credit_account_id = AccountId(credit);
  transfer.amount = Amt(amount);
  transfer.ledger = ledger;
  transfer.code = kTransferCode;
  transfer.flags = flags;
  return transfer;
}

inline Transfer MakePending(u128 id, u128 debit, u128 credit, u128 amount,
                            uint32_t timeout_seconds = 0, uint16_t extra_flags = 0) {
  Transfer transfer =
      MakeTransfer(id, debit, credit, amount, transfer_flags::kPending | extra_flags);
  transfer.timeout = timeout_seconds;
  return transfer;
}

// A post of `pending_id` with accounts, ledger and code left zero ("as the pending transfer").
inline Transfer MakePost(u128 id, u128 pending_id, Amount amount = kPostFullAmount) {
  Transfer transfer;
  transfer.id = TransferId(id);
  transfer.pending_id = TransferId(pending_id);
  transfer.amount = amount;
  transfer.flags = transfer_flags::kPostPendingTransfer;
  return transfer;
}

inline Transfer MakeVoid(u128 id, u128 pending_id, Amount amount = Amount::Zero()) {
  Transfer transfer;
  transfer.id = TransferId(id);
  transfer.pending_id = TransferId(pending_id);
  transfer.amount = amount;
  transfer.flags = transfer_flags::kVoidPendingTransfer;
  return transfer;
}

inline Transfer Linked(Transfer transfer) {
  transfer.flags = static_cast<uint16_t>(transfer.flags | transfer_flags::kLinked);
  return transfer;
}
inline Account Linked(Account account) {
  account.flags = static_cast<uint16_t>(account.flags | account_flags::kLinked);
  return account;
}

// The result of event `index` in a sparse result list: `created` when it is absent.
template <typename SparseResult>
auto ResultAt(const std::vector<SparseResult>& results, uint32_t index) {
  using Code = decltype(SparseResult::result);
  for (const SparseResult& r : results) {
    if (r.index == index) return r.result;
  }
  return Code::created;
}

// Expands sparse results to one code per event, checking that indexes ascend and are in range.
template <typename SparseResult>
auto Dense(const std::vector<SparseResult>& results, size_t event_count) {
  using Code = decltype(SparseResult::result);
  std::vector<Code> dense(event_count, Code::created);
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_LT(results[i].index, event_count);
    if (i > 0) {
      EXPECT_GT(results[i].index, results[i - 1].index);
    }
    EXPECT_NE(results[i].result, Code::created) << "created must not be reported";
    if (results[i].index < event_count) dense[results[i].index] = results[i].result;
  }
  return dense;
}

// Owns a store and a ledger; every helper stamps its batch at last_timestamp() + 1 unless a
// first timestamp is given.
class LedgerTest : public ::testing::Test {
 protected:
  LedgerTest() = default;
  // For fixtures that lower a limit (LedgerOptions::accounts_max, pending_transfers_max).
  explicit LedgerTest(LedgerOptions options) : ledger_(store_, options) {}

  Timestamp NextFirst() const { return Ts(ledger_.last_timestamp().ns + 1); }

  std::vector<CreateAccountsResult> CreateAccounts(std::span<const Account> events,
                                                   std::optional<Timestamp> first = {}) {
    std::vector<CreateAccountsResult> results;
    const Status<BatchError> status =
        ledger_.CreateAccounts(events, first.value_or(NextFirst()), results);
    EXPECT_TRUE(status.ok());
    return results;
  }
  std::vector<CreateTransfersResult> CreateTransfers(std::span<const Transfer> events,
                                                     std::optional<Timestamp> first = {}) {
    std::vector<CreateTransfersResult> results;
    const Status<BatchError> status =
        ledger_.CreateTransfers(events, first.value_or(NextFirst()), results);
    EXPECT_TRUE(status.ok());
    return results;
  }

  // Runs a batch of exactly one event and returns its result.
  CreateAccountResult CreateAccount(const Account& account, std::optional<Timestamp> first = {}) {
    const std::vector<CreateAccountsResult> results =
        CreateAccounts(std::span<const Account>(&account, 1), first);
    EXPECT_LE(results.size(), 1u);
    if (!results.empty()) {
      EXPECT_EQ(results[0].index, 0u);
    }
    return ResultAt(results, 0);
  }
  CreateTransferResult CreateTransfer(const Transfer& transfer,
                                      std::optional<Timestamp> first = {}) {
    const std::vector<CreateTransfersResult> results =
        CreateTransfers(std::span<const Transfer>(&transfer, 1), first);
    EXPECT_LE(results.size(), 1u);
    if (!results.empty()) {
      EXPECT_EQ(results[0].index, 0u);
    }
    return ResultAt(results, 0);
  }

  // Creates plain accounts (no flags) on the USD ledger, asserting success.
  void CreatePlainAccounts(std::initializer_list<u128> ids) {
    for (u128 id : ids) ASSERT_EQ(CreateAccount(MakeAccount(id)), CreateAccountResult::created);
  }

  Account GetAccount(u128 id) const {
    const std::optional<Account> account = ledger_.LookupAccount(AccountId(id));
    EXPECT_TRUE(account.has_value()) << "account " << U128ToDecimal(id) << " not found";
    return account.value_or(Account{});
  }
  Transfer GetTransfer(u128 id) const {
    const std::optional<Transfer> transfer = ledger_.LookupTransfer(TransferId(id));
    EXPECT_TRUE(transfer.has_value()) << "transfer " << U128ToDecimal(id) << " not found";
    return transfer.value_or(Transfer{});
  }
  bool TransferExists(u128 id) const { return ledger_.LookupTransfer(TransferId(id)).has_value(); }

  // Asserts all four balances of an account.
  void ExpectBalances(u128 id, u128 debits_pending, u128 debits_posted, u128 credits_pending,
                      u128 credits_posted) const {
    const Account account = GetAccount(id);
    EXPECT_EQ(account.debits_pending, Amt(debits_pending)) << "debits_pending of " << Low64(id);
    EXPECT_EQ(account.debits_posted, Amt(debits_posted)) << "debits_posted of " << Low64(id);
    EXPECT_EQ(account.credits_pending, Amt(credits_pending)) << "credits_pending of " << Low64(id);
    EXPECT_EQ(account.credits_posted, Amt(credits_posted)) << "credits_posted of " << Low64(id);
  }

  bool IsClosed(u128 id) const { return (GetAccount(id).flags & account_flags::kClosed) != 0; }

  // Moves `amount` into `id`'s credits_posted from a flag-free source account (created once).
  void Fund(u128 id, u128 amount) {
    if (!ledger_.LookupAccount(AccountId(kFundingAccount)).has_value()) {
      ASSERT_EQ(CreateAccount(MakeAccount(kFundingAccount)), CreateAccountResult::created);
    }
    ASSERT_EQ(CreateTransfer(MakeTransfer(next_funding_id_++, kFundingAccount, id, amount)),
              CreateTransferResult::created);
  }
  // Moves `amount` into `id`'s debits_posted, to a flag-free sink account (created once).
  void Drain(u128 id, u128 amount) {
    if (!ledger_.LookupAccount(AccountId(kFundingAccount)).has_value()) {
      ASSERT_EQ(CreateAccount(MakeAccount(kFundingAccount)), CreateAccountResult::created);
    }
    ASSERT_EQ(CreateTransfer(MakeTransfer(next_funding_id_++, id, kFundingAccount, amount)),
              CreateTransferResult::created);
  }

  static constexpr u128 kFundingAccount = 999'999;
  u128 next_funding_id_ = 900'000'000;

  InMemoryStore store_;
  Ledger ledger_{store_};
};

// Low 64 bits of each transfer id, in result order (test ids are small).
inline std::vector<uint64_t> IdsOf(const std::vector<Transfer>& transfers) {
  std::vector<uint64_t> ids;
  ids.reserve(transfers.size());
  for (const Transfer& t : transfers) {
    EXPECT_EQ(High64(t.id.value), 0u);
    ids.push_back(Low64(t.id.value));
  }
  return ids;
}

inline AccountFilter MakeFilter(u128 account_id, uint32_t flags, uint32_t limit = kQueryLimitMax) {
  AccountFilter filter;
  filter.account_id = AccountId(account_id);
  filter.flags = flags;
  filter.limit = limit;
  return filter;
}

}  // namespace tpw::ledger::testing
