// Property test: the real Ledger against ReferenceModel (ledger_reference_model.h), a naive
// second implementation of docs/ledger.md, over seeded random operation sequences.
//
// After every operation the test compares every sparse result, every account and transfer of
// the seed's id pools (absent ones too), pending statuses, NextExpiry, the counts, the expired
// list, and runs CheckInvariants(); query operations and a periodic sweep compare
// GetAccountTransfers / GetAccountBalances.
//
// Environment:
//   TPW_SEED=N                  run seed N only (with TPW_PROPERTY_ITERATIONS: N, N+1, ...)
//   TPW_PROPERTY_ITERATIONS=K   number of seeds (default kSeedsDefault)
//   TPW_PROPERTY_OPS=M          operations per seed (default kOpsPerSeedDefault)
//   TPW_TRACE=1                 print every operation of the failing seed
//   TPW_MINIMIZE=1              shrink a failing seed to a minimal operation list (forks)
//   TPW_MODEL_ACCEPT=a,b        switch the model to an earlier reading of points the docs
//                               since settled (see ModelOptions): closed_flag,
//                               expiry_keeps_closed, balancing_saturates
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/amount.h"
#include "common/ids.h"
#include "common/int128.h"
#include "common/limits.h"
#include "ledger/ledger.h"
#include "ledger/ledger_reference_model.h"
#include "ledger/results.h"
#include "ledger/store.h"
#include "ledger/types.h"

namespace tpw::ledger {
namespace {

using reference::Amt;
using reference::ExpiryCandidate;
using reference::ModelOptions;
using reference::ReferenceModel;

constexpr uint64_t kSeedsDefault = 500;
constexpr uint64_t kOpsPerSeedDefault = 400;
constexpr uint64_t kFullSweepEveryOps = 8;  // full per-account query comparison
constexpr size_t kSentTransfersMax = 256;   // requests remembered for retries
constexpr size_t kBatchEventsSmallMax = 8;  // usual batch size limit in this test
constexpr size_t kExpireLimitLarge = 1000;
constexpr uint64_t kHighStartNs = UINT64_MAX - 2'000'000'000'000'000'000ull;  // overflows_timeout
constexpr uint64_t kTimeJumpMaxNs = UINT64_MAX - (uint64_t{1} << 50);
constexpr uint64_t kNormalStartNs = 1'700'000'000'000'000'000ull;

// ---------------------------------------------------------------------------------------------
// Deterministic random numbers (splitmix64): the same seed gives the same run on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  uint64_t Between(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }
  bool Chance(uint64_t percent) { return Below(100) < percent; }
  u128 Next128() { return MakeU128(Next(), Next()); }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(Below(items.size()))];
  }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------------------------
// Text forms (gtest cannot print unsigned __int128).
std::string Dec(u128 v) { return U128ToDecimal(v); }
std::string Dec(Amount a) { return U128ToDecimal(a.minor()); }
std::string Hex(uint32_t v) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%x", v);
  return buffer;
}
// Ids near 2^128 read better as "max-k".
std::string IdText(u128 v) {
  if (v != 0 && kU128Max - v < 1000) return "max-" + Dec(kU128Max - v);
  return Dec(v);
}
std::string AmountText(Amount a) {
  if (kU128Max - a.minor() < 1000000) return "max-" + Dec(kU128Max - a.minor());
  return Dec(a);
}

std::string Describe(const Account& a) {
  std::ostringstream out;
  out << "Account{id=" << IdText(a.id.value) << " ledger=" << a.ledger << " code=" << a.code
      << " flags=" << Hex(a.flags);
  if (!a.overdraft_limit.is_zero()) out << " overdraft=" << AmountText(a.overdraft_limit);
  if (!a.debits_pending.is_zero()) out << " dp=" << AmountText(a.debits_pending);
  if (!a.debits_posted.is_zero()) out << " dpo=" << AmountText(a.debits_posted);
  if (!a.credits_pending.is_zero()) out << " cp=" << AmountText(a.credits_pending);
  if (!a.credits_posted.is_zero()) out << " cpo=" << AmountText(a.credits_posted);
  if (a.user_data_128 != 0 || a.user_data_64 != 0 || a.user_data_32 != 0) {
    out << " ud=" << Dec(a.user_data_128) << "/" << a.user_data_64 << "/" << a.user_data_32;
  }
  if (a.timestamp.ns != 0) out << " ts=" << a.timestamp.ns;
  out << "}";
  return out.str();
}

std::string Describe(const Transfer& t) {
  std::ostringstream out;
  out << "Transfer{id=" << IdText(t.id.value) << " dr=" << IdText(t.debit_account_id.value)
      << " cr=" << IdText(t.credit_account_id.value) << " amount=" << AmountText(t.amount)
      << " ledger=" << t.ledger << " code=" << t.code << " flags=" << Hex(t.flags);
  if (!t.pending_id.is_zero()) out << " pending_id=" << IdText(t.pending_id.value);
  if (t.timeout != 0) out << " timeout=" << t.timeout;
  if (t.user_data_128 != 0 || t.user_data_64 != 0 || t.user_data_32 != 0) {
    out << " ud=" << Dec(t.user_data_128) << "/" << t.user_data_64 << "/" << t.user_data_32;
  }
  if (t.timestamp.ns != 0) out << " ts=" << t.timestamp.ns;
  out << "}";
  return out.str();
}

std::string Describe(const AccountBalance& b) {
  return "Balance{ts=" + std::to_string(b.timestamp.ns) + " dp=" + AmountText(b.debits_pending) +
         " dpo=" + AmountText(b.debits_posted) + " cp=" + AmountText(b.credits_pending) +
         " cpo=" + AmountText(b.credits_posted) + "}";
}

std::string Describe(const AccountFilter& f) {
  return "Filter{account=" + IdText(f.account_id.value) +
         " min=" + std::to_string(f.timestamp_min.ns) +
         " max=" + std::to_string(f.timestamp_max.ns) + " code=" + std::to_string(f.code) +
         " limit=" + std::to_string(f.limit) + " flags=" + Hex(f.flags) + "}";
}

std::string Describe(PendingStatus s) {
  switch (s) {
    case PendingStatus::none:
      return "none";
    case PendingStatus::pending:
      return "pending";
    case PendingStatus::posted:
      return "posted";
    case PendingStatus::voided:
      return "voided";
    case PendingStatus::expired:
      return "expired";
  }
  return "PendingStatus(" + std::to_string(static_cast<int>(s)) + ")";
}

template <typename Sparse>
std::string DescribeResults(const std::vector<Sparse>& results) {
  std::string text = "[";
  for (const Sparse& r : results) {
    if (text.size() > 1) text += ", ";
    text += std::to_string(r.index) + ":" + std::string(ResultName(r.result));
  }
  return text + "]";
}

// ---------------------------------------------------------------------------------------------
// Operations. Each one is complete (events and timestamps), so a recorded list replays as is.
enum class OpKind : uint8_t { accounts, transfers, expire, query };

struct Query {
  bool balances = false;
  AccountFilter filter;
};

struct Op {
  OpKind kind = OpKind::query;
  uint64_t time_ns = 0;  // first timestamp of a batch, or `now` of an expiry
  std::vector<Account> accounts;
  std::vector<Transfer> transfers;
  size_t limit = 0;  // expiry
  std::vector<Query> queries;
};

std::string Describe(const Op& op) {
  std::ostringstream out;
  switch (op.kind) {
    case OpKind::accounts:
      out << "CreateAccounts(first=" << op.time_ns << ", " << op.accounts.size() << " events)";
      if (op.accounts.size() <= kBatchEventsSmallMax * 4) {
        for (const Account& a : op.accounts) out << "\n      " << Describe(a);
      }
      break;
    case OpKind::transfers:
      out << "CreateTransfers(first=" << op.time_ns << ", " << op.transfers.size() << " events)";
      if (op.transfers.size() <= kBatchEventsSmallMax * 4) {
        for (const Transfer& t : op.transfers) out << "\n      " << Describe(t);
      }
      break;
    case OpKind::expire:
      out << "ExpirePendingTransfers(now=" << op.time_ns << ", limit=" << op.limit << ")";
      break;
    case OpKind::query:
      out << "Queries:";
      for (const Query& q : op.queries) {
        out << "\n      " << (q.balances ? "GetAccountBalances " : "GetAccountTransfers ")
            << Describe(q.filter);
      }
      break;
  }
  return out.str();
}

// Per-seed shape of the workload.
struct Scenario {
  uint64_t seed = 0;
  std::vector<u128> account_ids;   // pool; lookups also cover 0 and 2^128-1
  std::vector<u128> transfer_ids;  // pool
  std::vector<uint32_t> ledgers;
  uint64_t start_ns = 0;
  size_t batch_max = 1;
  uint64_t chain_percent = 0;
  uint64_t expire_percent = 0;
  // Capacity limits of the ledger and the model; some seeds lower them so that
  // too_many_accounts and too_many_pending_transfers come up.
  uint64_t accounts_max = kAccountsMax;
  uint64_t pending_transfers_max = kPendingTransfersMax;
};

u128 PoolId(Rng& rng, size_t index) {
  switch (rng.Below(4)) {
    case 0:
      return MakeU128(1, index * 7 + 1);  // above 2^64
    case 1:
      return kU128Max - 1 - index;  // next to the reserved maximum
    default:
      return u128{index} + 1;  // small
  }
}

Scenario MakeScenario(uint64_t seed) {
  Rng rng(seed ^ 0x5CE7A210ull);
  Scenario s;
  s.seed = seed;
  const size_t accounts = static_cast<size_t>(rng.Between(3, 10));
  const size_t transfers = static_cast<size_t>(rng.Between(12, 150));
  for (size_t i = 0; i < accounts; ++i) s.account_ids.push_back(PoolId(rng, i));
  for (size_t i = 0; i < transfers; ++i) s.transfer_ids.push_back(PoolId(rng, i));
  const std::vector<uint32_t> ledger_values = {1, 2, 840, 65536};
  const size_t ledger_count = static_cast<size_t>(rng.Between(1, 3));
  for (size_t i = 0; i < ledger_count; ++i) s.ledgers.push_back(ledger_values[i]);
  s.start_ns =
      rng.Chance(15) ? kHighStartNs + rng.Below(1000) : kNormalStartNs + rng.Next() % 1000000007;
  s.batch_max = rng.Chance(30) ? 1 : static_cast<size_t>(rng.Between(2, kBatchEventsSmallMax));
  s.chain_percent = rng.Pick(std::vector<uint64_t>{0, 10, 30, 60});
  s.expire_percent = rng.Between(5, 20);
  // A separate stream, so the rest of each seed's workload is what it was before limits.
  Rng limits(seed ^ 0x11A17500ull);
  if (limits.Chance(20)) s.accounts_max = limits.Between(2, accounts);
  if (limits.Chance(25)) s.pending_transfers_max = limits.Between(1, 4);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Generator: draws the next operation from the model's current state.
class Generator {
 public:
  Generator(const Scenario& scenario, const ReferenceModel& model)
      : s_(scenario), model_(model), rng_(scenario.seed), next_ns_(scenario.start_ns) {}

  Op Next(uint64_t op_index) {
    Op op;
    const uint64_t r = rng_.Below(100);
    const bool early = op_index < 4 || model_.state().accounts.size() < 2;
    if (early || r < 12) {
      op.kind = OpKind::accounts;
    } else if (r < 12 + s_.expire_percent) {
      op.kind = OpKind::expire;
    } else if (r < 24 + s_.expire_percent) {
      op.kind = OpKind::query;
    } else {
      op.kind = OpKind::transfers;
    }
    op.time_ns = PickTime();
    switch (op.kind) {
      case OpKind::accounts:
        MakeAccounts(op);
        break;
      case OpKind::transfers:
        MakeTransfers(op);
        break;
      case OpKind::expire:
        MakeExpire(op);
        break;
      case OpKind::query:
        MakeQueries(op);
        break;
    }
    return op;
  }

 private:
  uint64_t Gap() {
    const uint64_t r = rng_.Below(100);
    if (r < 35) return rng_.Between(1, 10);
    if (r < 60) return rng_.Between(1, 1'000'000);
    if (r < 85) return rng_.Between(1, 2 * kNanosPerSecond);
    return rng_.Between(1, 6 * kNanosPerSecond);
  }

  // Usually the clock plus a random gap; sometimes exactly at (or next to) the expiry of an
  // open pending transfer, so the `at or past its expiry` boundary is hit.
  uint64_t PickTime() {
    const uint64_t random_time = next_ns_ + Gap() - 1;
    std::vector<uint64_t> expiries;
    for (const auto& [id, t] : model_.state().transfers) {
      // Far below 2^64, so the rest of the run still fits after jumping there.
      if (t.status == PendingStatus::pending && t.expires_at > next_ns_ + 2 &&
          t.expires_at < kTimeJumpMaxNs) {
        expiries.push_back(t.expires_at);
      }
    }
    if (expiries.empty() || !rng_.Chance(25)) return random_time;
    // A post or void sits at index 0..batch_max-1 of its batch: aim one of them at the expiry.
    const uint64_t back = rng_.Chance(50) ? 0 : rng_.Below(s_.batch_max);
    const uint64_t target = rng_.Pick(expiries) - back + rng_.Below(3) - 1;
    return std::max(target, next_ns_);
  }

  size_t BatchSize() { return static_cast<size_t>(rng_.Between(1, s_.batch_max)); }

  // Sets the linked bits: chains of 1..5, and sometimes a chain left open at the end.
  template <typename Event>
  void Link(std::vector<Event>& events, uint16_t linked) {
    size_t i = 0;
    while (i < events.size()) {
      size_t length = rng_.Chance(s_.chain_percent) ? static_cast<size_t>(rng_.Between(1, 5)) : 1;
      length = std::min(length, events.size() - i);
      for (size_t j = i; j < i + length; ++j) {
        const bool link = j + 1 < i + length;
        events[j].flags = link ? static_cast<uint16_t>(events[j].flags | linked)
                               : static_cast<uint16_t>(events[j].flags & ~linked);
      }
      i += length;
    }
    if (!events.empty() && rng_.Chance(s_.chain_percent > 0 ? 8 : 2)) {
      events.back().flags = static_cast<uint16_t>(events.back().flags | linked);
    }
  }

  // ---- accounts
  std::vector<u128> ExistingAccounts() const {
    std::vector<u128> ids;
    for (const auto& [id, a] : model_.state().accounts) ids.push_back(id);
    return ids;
  }

  u128 AccountIdForCreate() {
    const uint64_t r = rng_.Below(100);
    if (r < 3) return 0;
    if (r < 6) return kU128Max;
    std::vector<u128> unused;
    for (u128 id : s_.account_ids) {
      if (model_.state().accounts.count(id) == 0) unused.push_back(id);
    }
    if (!unused.empty() && rng_.Chance(65)) return rng_.Pick(unused);
    return rng_.Pick(s_.account_ids);
  }

  Amount OverdraftLimit(bool has_limit_flag) {
    if (!has_limit_flag) return rng_.Chance(4) ? Amt(rng_.Between(1, 100)) : Amount::Zero();
    const uint64_t r = rng_.Below(100);
    if (r < 40) return Amount::Zero();
    if (r < 75) return Amt(rng_.Between(1, 1000));
    if (r < 88) return Amt(rng_.Next());
    if (r < 94) return Amt(kU128Max - rng_.Below(1000));
    return Amt(rng_.Next128());
  }

  Account FreshAccount(u128 id) {
    namespace af = account_flags;
    Account a;
    a.id = AccountId(id);
    a.ledger = rng_.Chance(3) ? 0 : rng_.Pick(s_.ledgers);
    a.code = rng_.Chance(3) ? uint16_t{0} : static_cast<uint16_t>(rng_.Between(1, 3));
    const uint64_t r = rng_.Below(100);
    uint16_t flags = 0;
    if (r < 30)
      flags = af::kDebitsMustNotExceedCredits;
    else if (r < 55)
      flags = af::kCreditsMustNotExceedDebits;
    else if (r < 60)
      flags = af::kDebitsMustNotExceedCredits | af::kCreditsMustNotExceedDebits;
    if (rng_.Chance(40)) flags |= af::kHistory;
    if (rng_.Chance(4)) flags |= af::kClosed;
    if (rng_.Chance(2)) flags = static_cast<uint16_t>(flags | (1u << rng_.Between(5, 15)));
    a.flags = flags;
    a.overdraft_limit = OverdraftLimit(
        (flags & (af::kDebitsMustNotExceedCredits | af::kCreditsMustNotExceedDebits)) != 0);
    a.user_data_128 = rng_.Below(3);
    a.user_data_64 = rng_.Below(3);
    a.user_data_32 = static_cast<uint32_t>(rng_.Below(3));
    if (rng_.Chance(2)) a.timestamp = Timestamp{rng_.Between(1, 100)};
    if (rng_.Chance(2)) a.debits_pending = Amt(1);
    if (rng_.Chance(2)) a.debits_posted = Amt(1);
    if (rng_.Chance(2)) a.credits_pending = Amt(1);
    if (rng_.Chance(2)) a.credits_posted = Amt(1);
    return a;
  }

  // The stored account as a request again, with at most one field changed.
  Account Resend(const Account& stored) {
    Account a = stored;
    a.timestamp = Timestamp{};
    a.debits_pending = a.debits_posted = a.credits_pending = a.credits_posted = Amount::Zero();
    if (rng_.Chance(30)) a.flags = static_cast<uint16_t>(a.flags & ~account_flags::kClosed);
    if (rng_.Chance(50)) return a;
    switch (rng_.Below(7)) {
      case 0:
        a.flags = static_cast<uint16_t>(a.flags ^ (1u << rng_.Between(1, 4)));
        break;
      case 1:
        a.user_data_128 += 1;
        break;
      case 2:
        a.user_data_64 += 1;
        break;
      case 3:
        a.user_data_32 += 1;
        break;
      case 4:
        a.ledger = rng_.Pick(s_.ledgers) + static_cast<uint32_t>(rng_.Below(2));
        break;
      case 5:
        a.code = static_cast<uint16_t>(a.code + 1);
        break;
      default:
        a.overdraft_limit = Amt(a.overdraft_limit.minor() + 1);
        break;
    }
    return a;
  }

  void MakeAccounts(Op& op) {
    const size_t n = BatchSize();
    for (size_t i = 0; i < n; ++i) {
      const u128 id = AccountIdForCreate();
      const std::optional<Account> stored = model_.LookupAccount(id);
      op.accounts.push_back(stored.has_value() && rng_.Chance(60) ? Resend(*stored)
                                                                  : FreshAccount(id));
    }
    Link(op.accounts, account_flags::kLinked);
    next_ns_ = op.time_ns + op.accounts.size();
  }

  // ---- transfers
  Amount RandomAmount() {
    const uint64_t r = rng_.Below(100);
    if (r < 6) return Amount::Zero();
    if (r < 55) return Amt(rng_.Between(1, 100));
    if (r < 72) return Amt(rng_.Between(1, 1'000'000));
    if (r < 80) return Amt(rng_.Next());
    if (r < 85) return Amt(rng_.Next128());
    if (r < 92) return Amt(kU128Max - rng_.Below(1000));
    if (r < 96) return Amt((u128{1} << 127) + rng_.Below(1000));
    return Amount::Max();
  }

  u128 TransferId() {
    const uint64_t r = rng_.Below(100);
    if (r < 2) return 0;
    if (r < 4) return kU128Max;
    std::vector<u128> unused;
    for (u128 id : s_.transfer_ids) {
      if (model_.state().transfers.count(id) == 0 && model_.state().failed_ids.count(id) == 0) {
        unused.push_back(id);
      }
    }
    if (!unused.empty() && rng_.Chance(75)) return rng_.Pick(unused);
    return rng_.Pick(s_.transfer_ids);
  }

  u128 AccountForTransfer() {
    const std::vector<u128> existing = ExistingAccounts();
    const uint64_t r = rng_.Below(100);
    if (r < 2) return 0;
    if (r < 3) return kU128Max;
    if (r < 10 || existing.empty()) return rng_.Pick(s_.account_ids);
    return rng_.Pick(existing);
  }

  Transfer Regular(bool pending) {
    namespace tf = transfer_flags;
    Transfer t;
    t.id = tpw::TransferId(TransferId());
    t.debit_account_id = AccountId(AccountForTransfer());
    t.credit_account_id = AccountId(AccountForTransfer());
    const std::optional<Account> debit = model_.LookupAccount(t.debit_account_id.value);
    if (debit.has_value() && rng_.Chance(75)) {  // mostly a credit account on the same ledger
      std::vector<u128> same_ledger;
      for (const auto& [id, a] : model_.state().accounts) {
        if (a.ledger == debit->ledger && id != debit->id.value) same_ledger.push_back(id);
      }
      if (!same_ledger.empty()) t.credit_account_id = AccountId(rng_.Pick(same_ledger));
    }
    if (t.debit_account_id == t.credit_account_id && rng_.Chance(80)) {
      t.credit_account_id = AccountId(AccountForTransfer());
    }
    t.amount = RandomAmount();
    t.ledger = debit.has_value() && rng_.Chance(92) ? debit->ledger : rng_.Pick(s_.ledgers);
    if (rng_.Chance(2)) t.ledger = 0;
    t.code = rng_.Chance(2) ? uint16_t{0} : static_cast<uint16_t>(rng_.Between(1, 3));
    uint16_t flags = pending ? tf::kPending : 0;
    if (rng_.Chance(12)) flags |= tf::kBalancingDebit;
    if (rng_.Chance(12)) flags |= tf::kBalancingCredit;
    if (pending && rng_.Chance(8)) flags |= tf::kClosingDebit;
    if (pending && rng_.Chance(8)) flags |= tf::kClosingCredit;
    t.flags = flags;
    if (pending) t.timeout = Timeout();
    t.user_data_128 = rng_.Below(3);
    t.user_data_64 = rng_.Below(3);
    t.user_data_32 = static_cast<uint32_t>(rng_.Below(3));
    return t;
  }

  uint32_t Timeout() {
    const uint64_t r = rng_.Below(100);
    if (r < 40) return 0;
    if (r < 90) return static_cast<uint32_t>(rng_.Between(1, 5));
    if (r < 95) return static_cast<uint32_t>(rng_.Next());
    return UINT32_MAX;
  }

  // A pending transfer to post or void: mostly a real one (any status), else anything.
  u128 PendingTarget() {
    std::vector<u128> pendings = batch_pendings_;
    for (const auto& [id, t] : model_.state().transfers) {
      if ((t.stored.flags & transfer_flags::kPending) != 0) pendings.push_back(id);
    }
    const uint64_t r = rng_.Below(100);
    if (r < 3) return 0;
    if (r < 5) return kU128Max;
    if (r < 15 || pendings.empty()) return rng_.Pick(s_.transfer_ids);
    if (!batch_pendings_.empty() && rng_.Chance(30)) return rng_.Pick(batch_pendings_);
    return rng_.Pick(pendings);
  }

  Transfer PhaseTwo(bool post) {
    namespace tf = transfer_flags;
    Transfer t;
    t.id = tpw::TransferId(TransferId());
    t.pending_id = tpw::TransferId(PendingTarget());
    if (rng_.Chance(3)) t.pending_id = t.id;
    t.flags = post ? tf::kPostPendingTransfer : tf::kVoidPendingTransfer;
    const std::optional<Transfer> p = model_.LookupTransfer(t.pending_id.value);
    const Amount p_amount = p.has_value() ? p->amount : Amt(rng_.Between(1, 100));
    const uint64_t r = rng_.Below(100);
    if (post) {
      if (r < 30)
        t.amount = kPostFullAmount;
      else if (r < 55)
        t.amount = p_amount;
      else if (r < 80)
        t.amount = Amt(p_amount.minor() == 0 ? 0 : rng_.Next128() % p_amount.minor());
      else if (r < 90)
        t.amount = Amt(p_amount.minor() + 1);
      else
        t.amount = Amount::Zero();
    } else {
      t.amount = r < 50 ? Amount::Zero() : r < 90 ? p_amount : Amt(p_amount.minor() + 1);
    }
    if (p.has_value() && rng_.Chance(15)) t.debit_account_id = p->debit_account_id;
    if (p.has_value() && rng_.Chance(15)) t.credit_account_id = p->credit_account_id;
    if (p.has_value() && rng_.Chance(15)) t.ledger = p->ledger;
    if (p.has_value() && rng_.Chance(15)) t.code = p->code;
    if (rng_.Chance(4)) t.debit_account_id = AccountId(AccountForTransfer());
    if (rng_.Chance(4)) t.credit_account_id = AccountId(AccountForTransfer());
    if (rng_.Chance(3)) t.ledger = rng_.Pick(s_.ledgers) + 1;
    if (rng_.Chance(3)) t.code = static_cast<uint16_t>(rng_.Between(1, 4));
    if (rng_.Chance(3)) t.timeout = 1;
    t.user_data_64 = rng_.Below(2);
    return t;
  }

  // A request sent before (or the stored transfer), resent as is or with one field changed.
  Transfer Retry() {
    Transfer t = rng_.Pick(sent_);
    const std::optional<Transfer> stored = model_.LookupTransfer(t.id.value);
    if (stored.has_value() && rng_.Chance(30)) {
      t = *stored;
      t.timestamp = Timestamp{};
    }
    if (rng_.Chance(50)) return t;
    switch (rng_.Below(12)) {
      case 0:
        t.amount = Amt(t.amount.minor() + 1);
        break;
      case 1:
        t.amount = Amt(t.amount.minor() - 1);
        break;
      case 2:
        t.amount = rng_.Chance(50) ? Amount::Zero() : Amount::Max();
        break;
      case 3:
        t.user_data_128 += 1;
        break;
      case 4:
        t.user_data_64 += 1;
        break;
      case 5:
        t.user_data_32 += 1;
        break;
      case 6:
        t.ledger = t.ledger == 0 ? rng_.Pick(s_.ledgers) : t.ledger + 1;
        break;
      case 7:
        t.code = static_cast<uint16_t>(t.code + 1);
        break;
      case 8:
        t.flags = static_cast<uint16_t>(t.flags ^ (1u << rng_.Between(1, 7)));
        break;
      case 9:
        t.debit_account_id = AccountId(rng_.Chance(50) ? 0 : AccountForTransfer());
        break;
      case 10:
        t.credit_account_id = AccountId(rng_.Chance(50) ? 0 : AccountForTransfer());
        break;
      default:
        t.timeout = t.timeout == 0 ? 1 : t.timeout + 1;
        break;
    }
    if (rng_.Chance(20)) t.pending_id = tpw::TransferId(PendingTarget());
    return t;
  }

  // A transfer with one thing wrong that the checks must catch.
  Transfer Garbage() {
    namespace tf = transfer_flags;
    Transfer t = Regular(rng_.Chance(50));
    switch (rng_.Below(10)) {
      case 0:
        t.timestamp = Timestamp{rng_.Between(1, 10)};
        break;
      case 1:
        t.flags = static_cast<uint16_t>(t.flags | (1u << rng_.Between(8, 15)));
        break;
      case 2:
        t.flags = static_cast<uint16_t>(t.flags | tf::kPostPendingTransfer);
        break;
      case 3:
        t.flags = static_cast<uint16_t>(t.flags | tf::kVoidPendingTransfer);
        break;
      case 4:
        t.flags = static_cast<uint16_t>((t.flags & ~tf::kPending) | tf::kClosingDebit);
        break;
      case 5:
        t.timeout = static_cast<uint32_t>(rng_.Between(1, 5));
        break;
      case 6:
        t.pending_id = tpw::TransferId(rng_.Pick(s_.transfer_ids));
        break;
      case 7:
        t.flags = static_cast<uint16_t>(rng_.Next());
        break;
      case 8:
        t.credit_account_id = t.debit_account_id;
        break;
      default:
        t.ledger = rng_.Pick(s_.ledgers) + 7;
        break;
    }
    return t;
  }

  Transfer OneTransfer() {
    const uint64_t r = rng_.Below(100);
    if (r < 14 && !sent_.empty()) return Retry();
    if (r < 19) return Garbage();
    if (r < 47) return Regular(false);
    if (r < 70) return Regular(true);
    return PhaseTwo(r < 88);
  }

  void MakeTransfers(Op& op) {
    batch_pendings_.clear();
    if (rng_.Chance(1) && rng_.Chance(30)) {
      op.transfers.assign(kBatchEventsMax + 1, Regular(false));  // too_many_events
    } else {
      const size_t n = BatchSize();
      for (size_t i = 0; i < n; ++i) {
        op.transfers.push_back(OneTransfer());
        const Transfer& t = op.transfers.back();
        if ((t.flags & transfer_flags::kPending) != 0) batch_pendings_.push_back(t.id.value);
        sent_.push_back(t);
        if (sent_.size() > kSentTransfersMax) sent_.erase(sent_.begin());
      }
      Link(op.transfers, transfer_flags::kLinked);
    }
    next_ns_ = op.time_ns + op.transfers.size();
  }

  void MakeExpire(Op& op) {
    const uint64_t r = rng_.Below(100);
    op.limit = r < 40 ? 1 : r < 70 ? static_cast<size_t>(rng_.Between(2, 4)) : kExpireLimitLarge;
    next_ns_ = op.time_ns + op.limit + 1;  // room for now, now+1, ... whatever expires
  }

  // ---- queries
  uint64_t SomeTimestamp() {
    std::vector<uint64_t> stamps;
    for (const auto& [id, t] : model_.state().transfers) stamps.push_back(t.stored.timestamp.ns);
    if (stamps.empty() || rng_.Chance(10)) return next_ns_ - rng_.Below(3);
    return rng_.Pick(stamps) + rng_.Below(3) - 1;
  }

  Query OneQuery() {
    namespace ff = filter_flags;
    Query q;
    q.balances = rng_.Chance(40);
    std::vector<u128> candidates;
    for (const auto& [id, a] : model_.state().accounts) {
      if (!q.balances || (a.flags & account_flags::kHistory) != 0) candidates.push_back(id);
    }
    AccountFilter& f = q.filter;
    f.account_id =
        AccountId(candidates.empty() ? rng_.Pick(s_.account_ids) : rng_.Pick(candidates));
    f.flags = q.balances ? ff::kDebits | ff::kCredits : static_cast<uint32_t>(rng_.Between(1, 3));
    if (rng_.Chance(50)) f.flags |= ff::kReversed;
    if (rng_.Chance(50)) f.timestamp_min = Timestamp{SomeTimestamp()};
    if (rng_.Chance(50)) f.timestamp_max = Timestamp{SomeTimestamp()};
    if (f.timestamp_min.ns != 0 && f.timestamp_max.ns != 0 && f.timestamp_min > f.timestamp_max) {
      std::swap(f.timestamp_min, f.timestamp_max);
    }
    if (!q.balances && rng_.Chance(30)) f.code = static_cast<uint16_t>(rng_.Between(1, 3));
    f.limit = rng_.Chance(40) ? static_cast<uint32_t>(rng_.Between(1, 4)) : kQueryLimitMax;
    if (rng_.Chance(15)) BreakFilter(f, candidates.empty());
    return q;
  }

  // Exactly one error per filter (the docs give no order among query errors).
  void BreakFilter(AccountFilter& f, bool account_may_lack_history) {
    const uint64_t kind = account_may_lack_history ? rng_.Below(2) : rng_.Below(7);
    switch (kind) {
      case 0:
        f.account_id = AccountId(rng_.Chance(50) ? 0 : kU128Max);
        break;
      case 1:
        f.account_id = AccountId(u128{0xABCDEF} << 64);
        break;  // never in a pool
      case 2:
        f.limit = 0;
        break;
      case 3:
        f.limit = kQueryLimitMax + 1;
        break;
      case 4:
        f.flags = rng_.Chance(50) ? filter_flags::kReversed : f.flags | 8u;
        break;
      case 5:
        f.flags |= 1u << 31;
        break;
      default:
        f.timestamp_min = Timestamp{SomeTimestamp() + 2};
        f.timestamp_max = Timestamp{f.timestamp_min.ns - 1};
        break;
    }
  }

  void MakeQueries(Op& op) {
    const size_t n = static_cast<size_t>(rng_.Between(1, 3));
    for (size_t i = 0; i < n; ++i) op.queries.push_back(OneQuery());
  }

  const Scenario& s_;
  const ReferenceModel& model_;
  Rng rng_;
  uint64_t next_ns_;
  std::vector<Transfer> sent_;
  std::vector<u128> batch_pendings_;
};

// ---------------------------------------------------------------------------------------------
// Comparison of the real ledger with the model.
// How often each result code came up, over the whole run: the generator must reach them.
struct Coverage {
  uint64_t accounts[kCreateAccountResultCount] = {};
  uint64_t transfers[kCreateTransferResultCount] = {};
  uint64_t expired = 0;
  uint64_t queries_ok = 0;
  uint64_t queries_failed = 0;
};
Coverage g_coverage;

template <typename Code, size_t N>
void Tally(uint64_t (&counts)[N], const std::vector<Code>& sparse, size_t events) {
  counts[0] += events - sparse.size();
  for (const Code& r : sparse) counts[static_cast<size_t>(r.result)]++;
}

struct Failure {
  std::string category;  // stable across shrinking: what disagreed
  std::string detail;
};

std::string FirstDifference(const Account& e, const Account& a) {
  if (e.id != a.id) return "id";
  if (e.debits_pending != a.debits_pending) return "debits_pending";
  if (e.debits_posted != a.debits_posted) return "debits_posted";
  if (e.credits_pending != a.credits_pending) return "credits_pending";
  if (e.credits_posted != a.credits_posted) return "credits_posted";
  if (e.overdraft_limit != a.overdraft_limit) return "overdraft_limit";
  if (e.user_data_128 != a.user_data_128) return "user_data_128";
  if (e.user_data_64 != a.user_data_64) return "user_data_64";
  if (e.user_data_32 != a.user_data_32) return "user_data_32";
  if (e.ledger != a.ledger) return "ledger";
  if (e.code != a.code) return "code";
  if (e.flags != a.flags) return "flags";
  if (e.timestamp != a.timestamp) return "timestamp";
  return "";
}

std::string FirstDifference(const Transfer& e, const Transfer& a) {
  if (e.id != a.id) return "id";
  if (e.debit_account_id != a.debit_account_id) return "debit_account_id";
  if (e.credit_account_id != a.credit_account_id) return "credit_account_id";
  if (e.amount != a.amount) return "amount";
  if (e.pending_id != a.pending_id) return "pending_id";
  if (e.user_data_128 != a.user_data_128) return "user_data_128";
  if (e.user_data_64 != a.user_data_64) return "user_data_64";
  if (e.user_data_32 != a.user_data_32) return "user_data_32";
  if (e.timeout != a.timeout) return "timeout";
  if (e.ledger != a.ledger) return "ledger";
  if (e.code != a.code) return "code";
  if (e.flags != a.flags) return "flags";
  if (e.timestamp != a.timestamp) return "timestamp";
  return "";
}

std::string FirstDifference(const AccountBalance& e, const AccountBalance& a) {
  if (e.timestamp != a.timestamp) return "timestamp";
  if (e.debits_pending != a.debits_pending) return "debits_pending";
  if (e.debits_posted != a.debits_posted) return "debits_posted";
  if (e.credits_pending != a.credits_pending) return "credits_pending";
  if (e.credits_posted != a.credits_posted) return "credits_posted";
  return "";
}

template <typename Record>
std::optional<Failure> CompareOptional(const std::string& what, const std::optional<Record>& e,
                                       const std::optional<Record>& a) {
  if (e.has_value() != a.has_value()) {
    return Failure{what + ":presence",
                   what + ": expected " + (e ? Describe(*e) : std::string("absent")) + ", actual " +
                       (a ? Describe(*a) : std::string("absent"))};
  }
  if (!e.has_value()) return std::nullopt;
  const std::string field = FirstDifference(*e, *a);
  if (field.empty()) return std::nullopt;
  return Failure{what + ":" + field, what + " differs in " + field + ":\n  expected " +
                                         Describe(*e) + "\n  actual   " + Describe(*a)};
}

template <typename Record>
std::optional<Failure> CompareLists(const std::string& what, const std::vector<Record>& e,
                                    const std::vector<Record>& a) {
  for (size_t i = 0; i < std::max(e.size(), a.size()); ++i) {
    const std::optional<Record> ei = i < e.size() ? std::optional<Record>(e[i]) : std::nullopt;
    const std::optional<Record> ai = i < a.size() ? std::optional<Record>(a[i]) : std::nullopt;
    std::optional<Failure> failure = CompareOptional(what, ei, ai);
    if (failure.has_value()) {
      failure->detail = "entry " + std::to_string(i) + " of " + std::to_string(e.size()) +
                        " expected / " + std::to_string(a.size()) + " actual; " + failure->detail;
      return failure;
    }
  }
  return std::nullopt;
}

template <typename Record>
std::optional<Failure> CompareQuery(const std::string& what, const AccountFilter& filter,
                                    const Result<std::vector<Record>, QueryError>& e,
                                    const Result<std::vector<Record>, QueryError>& a) {
  const std::string context = what + " " + Describe(filter);
  (e.ok() ? g_coverage.queries_ok : g_coverage.queries_failed)++;
  if (e.ok() != a.ok() || (!e.ok() && e.error() != a.error())) {
    const auto text = [](const Result<std::vector<Record>, QueryError>& r) {
      return r.ok() ? std::to_string(r.value().size()) + " records"
                    : std::string(ResultName(r.error()));
    };
    return Failure{what + ":error", context + ": expected " + text(e) + ", actual " + text(a)};
  }
  if (!e.ok()) return std::nullopt;
  std::optional<Failure> failure = CompareLists(what, e.value(), a.value());
  if (failure.has_value()) failure->detail = context + ": " + failure->detail;
  return failure;
}

ModelOptions Options(const Scenario& scenario) {
  const char* text = std::getenv("TPW_MODEL_ACCEPT");
  const std::string_view accept = text != nullptr ? text : "";
  ModelOptions options;
  options.accounts_max = scenario.accounts_max;
  options.pending_transfers_max = scenario.pending_transfers_max;
  options.account_exists_ignores_closed = accept.find("closed_flag") != std::string_view::npos;
  options.expiry_reopens_closed = accept.find("expiry_keeps_closed") == std::string_view::npos;
  options.balancing_cap_saturates = accept.find("balancing_saturates") != std::string_view::npos;
  return options;
}

// Owns one real ledger and one model, applies operations to both and compares.
class Harness {
 public:
  explicit Harness(const Scenario& scenario) : s_(scenario), model_(Options(scenario)) {
    lookup_accounts_ = s_.account_ids;
    lookup_accounts_.push_back(0);
    lookup_accounts_.push_back(kU128Max);
    lookup_transfers_ = s_.transfer_ids;
    lookup_transfers_.push_back(0);
    lookup_transfers_.push_back(kU128Max);
  }

  const ReferenceModel& model() const { return model_; }

  std::optional<Failure> Step(const Op& op, uint64_t op_index) {
    std::optional<Failure> failure;
    switch (op.kind) {
      case OpKind::accounts:
        failure = StepAccounts(op);
        break;
      case OpKind::transfers:
        failure = StepTransfers(op);
        break;
      case OpKind::expire:
        failure = StepExpire(op);
        break;
      case OpKind::query:
        failure = StepQueries(op.queries);
        break;
    }
    if (!failure.has_value()) failure = CompareState();
    if (!failure.has_value() && op_index % kFullSweepEveryOps == 0) failure = FullSweep();
    ledger_.CheckInvariants();
    return failure;
  }

 private:
  template <typename Sparse>
  std::optional<Failure> CompareResults(const std::vector<Sparse>& e,
                                        const std::vector<Sparse>& a) {
    bool same = e.size() == a.size();
    for (size_t i = 0; same && i < e.size(); ++i) {
      same = e[i].index == a[i].index && e[i].result == a[i].result;
    }
    if (same) return std::nullopt;
    std::string category = "results";
    for (size_t i = 0; i < std::max(e.size(), a.size());
         ++i) {  // name the first event that differs
      const bool ei = i < e.size(), ai = i < a.size();
      if (ei && ai && e[i].index == a[i].index && e[i].result == a[i].result) continue;
      const bool expected_first = ei && (!ai || e[i].index <= a[i].index);
      const bool actual_first = ai && (!ei || a[i].index <= e[i].index);
      category += ":" + (expected_first ? std::string(ResultName(e[i].result)) : "created") + "/" +
                  (actual_first ? std::string(ResultName(a[i].result)) : "created");
      break;
    }
    return Failure{category, "results differ:\n  expected " + DescribeResults(e) + "\n  actual   " +
                                 DescribeResults(a)};
  }

  std::optional<Failure> CheckBatchStatus(const Status<BatchError>& status, size_t n,
                                          uint64_t first, bool results_empty) {
    const bool too_many = n > kBatchEventsMax;
    if (status.ok() == too_many) {
      return Failure{
          "batch_error",
          std::string("expected ") + (too_many ? "too_many_events" : "ok") + ", actual " +
              (status.ok() ? std::string("ok") : std::string(ResultName(status.error())))};
    }
    if (too_many && !results_empty) {
      return Failure{"batch_error", "too_many_events must report no per-event results"};
    }
    if (!too_many && n > 0 && ledger_.last_timestamp().ns != first + n - 1) {
      return Failure{"last_timestamp", "last_timestamp() expected " +
                                           std::to_string(first + n - 1) + ", actual " +
                                           std::to_string(ledger_.last_timestamp().ns)};
    }
    return std::nullopt;
  }

  std::optional<Failure> StepAccounts(const Op& op) {
    std::vector<CreateAccountsResult> actual;
    const Status<BatchError> status =
        ledger_.CreateAccounts(op.accounts, Timestamp{op.time_ns}, actual);
    std::optional<Failure> failure =
        CheckBatchStatus(status, op.accounts.size(), op.time_ns, actual.empty());
    if (failure.has_value() || op.accounts.size() > kBatchEventsMax) return failure;
    const std::vector<CreateAccountsResult> expected =
        model_.CreateAccounts(op.accounts, op.time_ns);
    Tally(g_coverage.accounts, expected, op.accounts.size());
    return CompareResults(expected, actual);
  }

  std::optional<Failure> StepTransfers(const Op& op) {
    std::vector<CreateTransfersResult> actual;
    const Status<BatchError> status =
        ledger_.CreateTransfers(op.transfers, Timestamp{op.time_ns}, actual);
    std::optional<Failure> failure =
        CheckBatchStatus(status, op.transfers.size(), op.time_ns, actual.empty());
    if (failure.has_value() || op.transfers.size() > kBatchEventsMax) return failure;
    const std::vector<CreateTransfersResult> expected =
        model_.CreateTransfers(op.transfers, op.time_ns);
    Tally(g_coverage.transfers, expected, op.transfers.size());
    return CompareResults(expected, actual);
  }

  // The docs do not order transfers that expire at the same instant, so the model accepts the
  // ledger's order among equal expiry times and then applies exactly that order.
  std::optional<Failure> StepExpire(const Op& op) {
    std::vector<ExpiredTransfer> actual;
    const bool more = ledger_.ExpirePendingTransfers(Timestamp{op.time_ns}, op.limit, actual);
    const std::vector<ExpiryCandidate> due = model_.ExpiryCandidates(op.time_ns);
    const size_t expected_count = std::min(op.limit, due.size());
    if (actual.size() != expected_count || more != (due.size() > op.limit)) {
      return Failure{"expire:count", "expired " + std::to_string(actual.size()) +
                                         " (more=" + std::to_string(more) + "), expected " +
                                         std::to_string(expected_count) + " of " +
                                         std::to_string(due.size()) + " due"};
    }
    for (size_t j = 0; j < actual.size(); ++j) {
      const u128 id = actual[j].id.value;
      bool due_now = false;
      for (const ExpiryCandidate& c : due)
        due_now |= c.id == id && c.expires_at == due[j].expires_at;
      for (size_t k = 0; k < j; ++k) due_now &= actual[k].id.value != id;
      if (!due_now) {
        return Failure{"expire:order", "expired[" + std::to_string(j) + "] is " + IdText(id) +
                                           ", expected " + IdText(due[j].id) + " (expiry " +
                                           std::to_string(due[j].expires_at) + ")"};
      }
      const Amount amount = model_.Expire(id, op.time_ns + j);
      g_coverage.expired++;
      if (amount != actual[j].amount) {
        return Failure{"expire:amount", "expired " + IdText(id) + " amount " +
                                            AmountText(actual[j].amount) + ", expected " +
                                            AmountText(amount)};
      }
    }
    return std::nullopt;
  }

  std::optional<Failure> StepQueries(const std::vector<Query>& queries) const {
    for (const Query& q : queries) {
      std::optional<Failure> failure =
          q.balances
              ? CompareQuery("balances", q.filter, model_.GetAccountBalances(q.filter),
                             ledger_.GetAccountBalances(q.filter))
              : CompareQuery("account_transfers", q.filter, model_.GetAccountTransfers(q.filter),
                             ledger_.GetAccountTransfers(q.filter));
      if (failure.has_value()) return failure;
    }
    return std::nullopt;
  }

  std::optional<Failure> CompareState() const {
    for (u128 id : lookup_accounts_) {
      std::optional<Failure> failure = CompareOptional("account", model_.LookupAccount(id),
                                                       ledger_.LookupAccount(AccountId(id)));
      if (failure.has_value()) return failure;
    }
    for (u128 id : lookup_transfers_) {
      std::optional<Failure> failure = CompareOptional("transfer", model_.LookupTransfer(id),
                                                       ledger_.LookupTransfer(TransferId(id)));
      if (failure.has_value()) return failure;
      const PendingStatus e = model_.GetPendingStatus(id);
      const PendingStatus a = ledger_.GetPendingStatus(TransferId(id));
      if (e != a) {
        return Failure{"pending_status", "GetPendingStatus(" + IdText(id) + ") expected " +
                                             Describe(e) + ", actual " + Describe(a)};
      }
    }
    return CompareCounters();
  }

  std::optional<Failure> CompareCounters() const {
    const std::optional<uint64_t> e = model_.NextExpiry();
    const std::optional<Timestamp> a = ledger_.NextExpiry();
    if (e.has_value() != a.has_value() || (e.has_value() && *e != a->ns)) {
      return Failure{"next_expiry",
                     "NextExpiry expected " + (e ? std::to_string(*e) : std::string("none")) +
                         ", actual " + (a ? std::to_string(a->ns) : std::string("none"))};
    }
    const ModelCounts counts = Counts();
    if (counts.accounts != ledger_.account_count() ||
        counts.transfers != ledger_.transfer_count() || counts.pending != ledger_.pending_count()) {
      return Failure{"counts", "account/transfer/pending counts expected " +
                                   std::to_string(counts.accounts) + "/" +
                                   std::to_string(counts.transfers) + "/" +
                                   std::to_string(counts.pending) + ", actual " +
                                   std::to_string(ledger_.account_count()) + "/" +
                                   std::to_string(ledger_.transfer_count()) + "/" +
                                   std::to_string(ledger_.pending_count())};
    }
    return std::nullopt;
  }

  struct ModelCounts {
    uint64_t accounts, transfers, pending;
  };
  ModelCounts Counts() const {
    return {model_.state().accounts.size(), model_.state().transfers_stored,
            model_.pending_count()};
  }

  // Every existing account's whole transfer list and balance history, both orders.
  std::optional<Failure> FullSweep() const {
    std::vector<Query> queries;
    for (const auto& [id, a] : model_.state().accounts) {
      for (uint32_t reversed : {0u, filter_flags::kReversed}) {
        Query q;
        q.filter.account_id = AccountId(id);
        q.filter.limit = kQueryLimitMax;
        q.filter.flags = filter_flags::kDebits | filter_flags::kCredits | reversed;
        queries.push_back(q);
        if ((a.flags & account_flags::kHistory) != 0) {
          q.balances = true;
          queries.push_back(q);
        }
      }
    }
    return StepQueries(queries);
  }

  static LedgerOptions LedgerOptionsFor(const Scenario& scenario) {
    LedgerOptions options;
    options.accounts_max = scenario.accounts_max;
    options.pending_transfers_max = scenario.pending_transfers_max;
    return options;
  }

  const Scenario& s_;
  std::vector<u128> lookup_accounts_;
  std::vector<u128> lookup_transfers_;
  InMemoryStore store_;
  Ledger ledger_{store_, LedgerOptionsFor(s_)};
  ReferenceModel model_;
};

// ---------------------------------------------------------------------------------------------
// Running seeds.

// What the SIGABRT handler prints if the ledger's own assertions abort the process.
char g_abort_note[256] = "";

void OnAbort(int signal_number) {
  const ssize_t written = write(STDERR_FILENO, g_abort_note, std::strlen(g_abort_note));
  (void)written;
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

struct SeedRun {
  Scenario scenario;
  std::vector<Op> ops;  // up to and including the failing one
  std::optional<Failure> failure;
  uint64_t failing_op = 0;
};

SeedRun RunSeed(uint64_t seed, uint64_t ops) {
  SeedRun run;
  run.scenario = MakeScenario(seed);
  auto harness = std::make_unique<Harness>(run.scenario);
  Generator generator(run.scenario, harness->model());
  for (uint64_t i = 0; i < ops; ++i) {
    std::snprintf(g_abort_note, sizeof g_abort_note,
                  "\n[ abort    ] ledger aborted in seed %llu at op %llu: reproduce with "
                  "TPW_SEED=%llu --gtest_filter=LedgerProperty.*\n",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(i),
                  static_cast<unsigned long long>(seed));
    run.ops.push_back(generator.Next(i));
    run.failure = harness->Step(run.ops.back(), i);
    if (run.failure.has_value()) {
      run.failing_op = i;
      break;
    }
  }
  return run;
}

std::optional<Failure> Replay(const Scenario& scenario, const std::vector<Op>& ops) {
  auto harness = std::make_unique<Harness>(scenario);
  for (size_t i = 0; i < ops.size(); ++i) {
    std::optional<Failure> failure = harness->Step(ops[i], i);
    if (failure.has_value()) return failure;
  }
  return std::nullopt;
}

// Replays in a child process (the ledger may abort); true if it fails the same way.
bool FailsSameWay(const Scenario& scenario, const std::vector<Op>& ops,
                  const std::string& category) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    std::signal(SIGABRT, SIG_DFL);
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDERR_FILENO);
    const std::optional<Failure> failure = Replay(scenario, ops);
    _exit(failure.has_value() ? (failure->category == category ? 1 : 2) : 0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return category == "abort";
  return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

// Greedy shrinking: drop chunks of operations, then single events inside batches.
std::vector<Op> Minimize(const Scenario& scenario, std::vector<Op> ops,
                         const std::string& category) {
  for (size_t chunk = std::max<size_t>(ops.size() / 2, 1); chunk >= 1; chunk /= 2) {
    for (size_t start = ops.size(); start-- > 0;) {
      if (start + 1 >= ops.size() && ops.size() > 1) continue;  // keep the failing op
      std::vector<Op> candidate = ops;
      const size_t end = std::min(start + chunk, candidate.size() - 1);
      if (end <= start) continue;
      candidate.erase(candidate.begin() + static_cast<std::ptrdiff_t>(start),
                      candidate.begin() + static_cast<std::ptrdiff_t>(end));
      if (FailsSameWay(scenario, candidate, category)) ops = std::move(candidate);
    }
    if (chunk == 1) break;
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    for (size_t j = ops[i].transfers.size(); j-- > 0 && ops[i].transfers.size() > 1;) {
      std::vector<Op> candidate = ops;
      candidate[i].transfers.erase(candidate[i].transfers.begin() + static_cast<std::ptrdiff_t>(j));
      if (FailsSameWay(scenario, candidate, category)) ops = std::move(candidate);
    }
    for (size_t j = ops[i].accounts.size(); j-- > 0 && ops[i].accounts.size() > 1;) {
      std::vector<Op> candidate = ops;
      candidate[i].accounts.erase(candidate[i].accounts.begin() + static_cast<std::ptrdiff_t>(j));
      if (FailsSameWay(scenario, candidate, category)) ops = std::move(candidate);
    }
  }
  return ops;
}

std::optional<uint64_t> EnvU64(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  uint64_t value = 0;
  const char* end = text + std::strlen(text);
  const auto [ptr, error] = std::from_chars(text, end, value);
  if (error != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::string DescribeOps(const std::vector<Op>& ops) {
  std::string text;
  for (size_t i = 0; i < ops.size(); ++i) {
    text += "  [" + std::to_string(i) + "] " + Describe(ops[i]) + "\n";
  }
  return text;
}

void ReportFailure(const SeedRun& run) {
  const Failure& failure = *run.failure;
  const Op& op = run.ops.back();
  std::string message =
      "seed " + std::to_string(run.scenario.seed) + ", op " + std::to_string(run.failing_op) +
      ": " + Describe(op) + "\n" +
      "limits: accounts_max=" + std::to_string(run.scenario.accounts_max) +
      " pending_transfers_max=" + std::to_string(run.scenario.pending_transfers_max) + "\n" +
      failure.detail + "\n(category " + failure.category + ")\n" +
      "reproduce with TPW_SEED=" + std::to_string(run.scenario.seed) +
      " --gtest_filter=LedgerProperty.*  (TPW_TRACE=1 prints every op, "
      "TPW_MINIMIZE=1 shrinks the case)";
  if (EnvU64("TPW_TRACE").value_or(0) != 0) message += "\nall ops:\n" + DescribeOps(run.ops);
  if (EnvU64("TPW_MINIMIZE").value_or(0) != 0) {
    const std::vector<Op> minimal = Minimize(run.scenario, run.ops, failure.category);
    const std::optional<Failure> again = Replay(run.scenario, minimal);
    message += "\nminimal reproduction (" + std::to_string(minimal.size()) + " ops):\n" +
               DescribeOps(minimal) + (again ? again->detail : std::string("(no failure?)"));
  }
  ADD_FAILURE() << message;
}

// Prints how often each code came up; codes never reached are listed so gaps are visible.
void PrintCoverage() {
  std::string never;
  std::string seen;
  for (uint8_t i = 0; i < kCreateAccountResultCount; ++i) {
    const std::string name(ResultName(static_cast<CreateAccountResult>(i)));
    if (g_coverage.accounts[i] == 0)
      never += " account:" + name;
    else
      seen += " " + name + "=" + std::to_string(g_coverage.accounts[i]);
  }
  seen += " |";
  for (uint8_t i = 0; i < kCreateTransferResultCount; ++i) {
    const std::string name(ResultName(static_cast<CreateTransferResult>(i)));
    if (g_coverage.transfers[i] == 0)
      never += " transfer:" + name;
    else
      seen += " " + name + "=" + std::to_string(g_coverage.transfers[i]);
  }
  std::printf("[ coverage ]%s | expired=%llu queries ok=%llu failed=%llu\n[ never    ]%s\n",
              seen.c_str(), static_cast<unsigned long long>(g_coverage.expired),
              static_cast<unsigned long long>(g_coverage.queries_ok),
              static_cast<unsigned long long>(g_coverage.queries_failed), never.c_str());
}

// Seeds first_seed.. run one after another; each runs until its first disagreement. The first
// kReportsMax failing seeds are reported in full, the rest counted by category.
TEST(LedgerProperty, MatchesReferenceModel) {
  std::signal(SIGABRT, OnAbort);
  const std::optional<uint64_t> seed = EnvU64("TPW_SEED");
  const uint64_t seeds = EnvU64("TPW_PROPERTY_ITERATIONS").value_or(seed ? 1 : kSeedsDefault);
  const uint64_t ops = EnvU64("TPW_PROPERTY_OPS").value_or(kOpsPerSeedDefault);
  const uint64_t first_seed = seed.value_or(1);
  constexpr uint64_t kReportsMax = 3;  // detailed reports; later failures are only counted
  uint64_t failures = 0;
  std::map<std::string, uint64_t> failures_by_category;
  for (uint64_t s = first_seed; s < first_seed + seeds; ++s) {
    const SeedRun run = RunSeed(s, ops);
    if (!run.failure.has_value()) continue;
    if (++failures <= kReportsMax) ReportFailure(run);
    failures_by_category[run.failure->category]++;
  }
  if (failures > 0) {
    std::string summary;
    for (const auto& [category, count] : failures_by_category) {
      summary += "\n  " + std::to_string(count) + " x " + category;
    }
    ADD_FAILURE() << failures << " of " << seeds << " seeds disagree with the model (first "
                  << "disagreement of each seed, by category):" << summary;
  }
  std::signal(SIGABRT, SIG_DFL);
  if (EnvU64("TPW_MINIMIZE").value_or(0) == 0) PrintCoverage();
}

}  // namespace
}  // namespace tpw::ledger
