// The crash test's workload, shared by the child that runs it (crash_child.cc) and the test
// that kills the child and checks what survived (crash_test.cc). Header-only, test-only.
//
// Each submitting thread t sends requests 0, 1, 2, ... ; request i of thread t is a pure function
// of (seed, t, i), so the test can rebuild any request the child acknowledged, and a new child
// can resume a thread at any index (retrying the request that was in flight when the previous
// child was killed, with the same ids, as a real client would). Requests mix single transfers,
// batches, linked chains (some with a member that must fail), pending transfers with and
// without timeouts, posts and voids of earlier pending ones, and balancing transfers.
#pragma once

#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "ledger/types.h"

namespace tpw::crash_test {

inline constexpr uint32_t kLedger = 1;
inline constexpr u128 kAccountsCount = 12;
inline constexpr u128 kBankAccount = 1;      // no balance limits: funds everyone
inline constexpr u128 kMissingAccount = 99;  // never created: chains through it fail
inline constexpr uint32_t kThreadsMax = 16;
inline constexpr uint32_t kItemEventsMax = 40;  // events per request (ids keep 8 bits for it)

// Accounts 2..6 may not overdraw; 7..9 keep balance history; 10..12 are plain.
inline std::vector<ledger::Account> Accounts() {
  std::vector<ledger::Account> accounts;
  for (u128 id = 1; id <= kAccountsCount; ++id) {
    ledger::Account a;
    a.id = AccountId{id};
    a.ledger = kLedger;
    a.code = 1;
    if (id >= 2 && id <= 6) a.flags = ledger::account_flags::kDebitsMustNotExceedCredits;
    if (id >= 7 && id <= 9) a.flags = ledger::account_flags::kHistory;
    accounts.push_back(a);
  }
  return accounts;
}

enum class ItemKind : uint8_t { single, batch, chain, pending, resolve };

inline u128 TransferIdOf(uint32_t thread, uint64_t index, uint32_t position) {
  return (u128{thread + 1u} << 96) | (u128{index} << 8) | position;
}

inline uint64_t ItemSeed(uint64_t seed, uint32_t thread, uint64_t index) {
  SeededRandom mix(seed ^ (uint64_t{thread} << 56) ^ (index * 0x9e3779b97f4a7c15ULL));
  return mix.NextU64();
}

inline ItemKind KindOf(uint64_t seed, uint32_t thread, uint64_t index) {
  SeededRandom random(ItemSeed(seed, thread, index));
  const uint64_t roll = random.Uniform(100);
  if (roll < 35) return ItemKind::single;
  if (roll < 55) return ItemKind::batch;
  if (roll < 70) return ItemKind::chain;
  if (roll < 85) return ItemKind::pending;
  return ItemKind::resolve;
}

inline ledger::Transfer Plain(SeededRandom& random, u128 id, uint64_t index) {
  ledger::Transfer t;
  t.id = TransferId{id};
  const u128 debit = random.Chance(2, 5) ? kBankAccount : 1 + random.Uniform(kAccountsCount);
  u128 credit = 1 + random.Uniform(kAccountsCount);
  if (credit == debit) credit = debit % kAccountsCount + 1;
  t.debit_account_id = AccountId{debit};
  t.credit_account_id = AccountId{credit};
  t.amount = Amount::FromMinor(1 + random.Uniform(500));
  t.ledger = kLedger;
  t.code = static_cast<uint16_t>(1 + random.Uniform(5));
  t.user_data_64 = index + 1;  // non-zero: posts and voids must not inherit it
  t.user_data_32 = static_cast<uint32_t>(random.Uniform(1000));
  if (random.Chance(1, 10)) t.flags |= ledger::transfer_flags::kBalancingDebit;
  return t;
}

inline ledger::Transfer PendingOf(SeededRandom& random, u128 id, uint64_t index) {
  ledger::Transfer t = Plain(random, id, index);
  t.flags = ledger::transfer_flags::kPending;
  t.timeout = random.Chance(1, 2) ? 0 : static_cast<uint32_t>(1 + random.Uniform(3));
  return t;
}

// The events of request `index` of `thread`.
inline std::vector<ledger::Transfer> Item(uint64_t seed, uint32_t thread, uint64_t index) {
  SeededRandom random(ItemSeed(seed, thread, index));
  (void)random.Uniform(100);  // the kind roll (KindOf)
  std::vector<ledger::Transfer> events;
  auto id = [&](size_t position) {
    return TransferIdOf(thread, index, static_cast<uint32_t>(position));
  };
  switch (KindOf(seed, thread, index)) {
    case ItemKind::single:
      events.push_back(Plain(random, id(0), index));
      break;
    case ItemKind::batch: {
      const uint64_t count = 2 + random.Uniform(kItemEventsMax - 1);
      for (uint64_t i = 0; i < count; ++i) events.push_back(Plain(random, id(i), index));
      break;
    }
    case ItemKind::chain: {
      const uint64_t count = 2 + random.Uniform(4);
      for (uint64_t i = 0; i < count; ++i) {
        ledger::Transfer t = Plain(random, id(i), index);
        if (i + 1 < count) t.flags |= ledger::transfer_flags::kLinked;
        events.push_back(t);
      }
      if (random.Chance(3, 10)) {  // one member fails transiently: the chain fails as a unit
        events[random.Uniform(count)].credit_account_id = AccountId{kMissingAccount};
      }
      break;
    }
    case ItemKind::pending: {
      const uint64_t count = 1 + random.Uniform(3);
      for (uint64_t i = 0; i < count; ++i) events.push_back(PendingOf(random, id(i), index));
      break;
    }
    case ItemKind::resolve: {
      // Post or void the first pending transfer of the newest earlier `pending` request.
      for (uint64_t back = 1; back <= 8 && back <= index; ++back) {
        if (KindOf(seed, thread, index - back) != ItemKind::pending) continue;
        const ledger::Transfer pending = Item(seed, thread, index - back)[0];
        ledger::Transfer t;
        t.id = TransferId{id(0)};
        t.debit_account_id = pending.debit_account_id;
        t.credit_account_id = pending.credit_account_id;
        t.pending_id = pending.id;
        t.ledger = pending.ledger;
        t.code = pending.code;
        t.user_data_64 = index + 1;
        if (random.Chance(1, 2)) {
          t.flags = ledger::transfer_flags::kPostPendingTransfer;
          // Amounts are at most 500 (Plain), so the u64 bound is exact.
          t.amount =
              Amount::FromMinor(1 + random.Uniform(static_cast<uint64_t>(pending.amount.minor())));
        } else {
          t.flags = ledger::transfer_flags::kVoidPendingTransfer;
          t.amount = pending.amount;
        }
        events.push_back(t);
        return events;
      }
      events.push_back(Plain(random, id(0), index));
      break;
    }
  }
  return events;
}

}  // namespace tpw::crash_test
