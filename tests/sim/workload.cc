#include "sim/workload.h"

#include <algorithm>

#include "common/limits.h"

namespace tpw::sim {

using engine::Request;
using engine::RequestKind;
using ledger::Account;
using ledger::Transfer;
using ledger::reference::ReferenceModel;
namespace af = ledger::account_flags;
namespace tf = ledger::transfer_flags;
namespace ff = ledger::filter_flags;

namespace {
constexpr size_t kSentRemembered = 128;
constexpr uint64_t kAccountsMin = 4;
constexpr uint64_t kAccountsMax = 24;
constexpr size_t kOpenAccountsWanted = 6;
constexpr uint64_t kGrownAccountsHigh = 0xACC;  // high word of ids added to the pool later
Amount Amt(u128 v) { return Amount::FromMinor(v); }
}  // namespace

Scenario MakeScenario(Dice& dice) {
  Scenario s;
  const uint64_t accounts = dice.Between(kAccountsMin, kAccountsMax);
  for (uint64_t i = 0; i < accounts; ++i) {
    switch (dice.Below(4)) {
      case 0:
        s.account_ids.push_back(MakeU128(1 + dice.Below(3), i * 7 + 1));  // above 2^64
        break;
      case 1:
        s.account_ids.push_back(kU128Max - 1 - i);  // next to the reserved maximum
        break;
      default:
        s.account_ids.push_back(u128{i} + 1);
        break;
    }
  }
  std::sort(s.account_ids.begin(), s.account_ids.end());
  s.account_ids.erase(std::unique(s.account_ids.begin(), s.account_ids.end()), s.account_ids.end());
  s.ledgers = dice.Percent(60) ? std::vector<uint32_t>{1} : std::vector<uint32_t>{1, 840};
  switch (dice.Below(3)) {
    case 0:
      s.transfer_id_base = 1;
      break;
    case 1:
      s.transfer_id_base = MakeU128(dice.Between(1, 1000), 0);
      break;
    default:
      s.transfer_id_base = kU128Max - 1;
      s.transfer_ids_descend = true;
      break;
  }
  s.batch_max = dice.Percent(20) ? 1 : dice.Between(2, 12);
  s.chain_percent = dice.Pick(std::vector<uint64_t>{0, 10, 25, 50});
  s.invalid_percent = dice.Between(1, 10);
  return s;
}

u128 Workload::FreshTransferId() {
  const u128 n = next_transfer_++;
  return s_.transfer_ids_descend ? s_.transfer_id_base - n : s_.transfer_id_base + n;
}

void Workload::Remember(const Transfer& t) {
  if (all_ids_set_.insert(t.id.value).second) all_ids_.push_back(t.id.value);
  sent_.push_back(t);
  if (sent_.size() > kSentRemembered) sent_.erase(sent_.begin());
}

std::vector<u128> Workload::ExistingAccounts(const ReferenceModel& model) const {
  std::vector<u128> ids;
  for (const auto& [id, a] : model.state().accounts) ids.push_back(id);
  return ids;
}

// ---- accounts

Account Workload::FreshAccount(u128 id) {
  Account a;
  a.id = AccountId(id);
  a.ledger = dice_.Pick(s_.ledgers);
  a.code = static_cast<uint16_t>(dice_.Between(1, 3));
  const uint64_t r = dice_.Below(100);
  uint16_t flags = 0;
  if (r < 25) {
    flags = af::kDebitsMustNotExceedCredits;
  } else if (r < 40) {
    flags = af::kCreditsMustNotExceedDebits;
  }
  if (dice_.Percent(35)) flags |= af::kHistory;
  a.flags = flags;
  if (flags & (af::kDebitsMustNotExceedCredits | af::kCreditsMustNotExceedDebits)) {
    const uint64_t limit = dice_.Below(100);
    a.overdraft_limit = limit < 60   ? Amount::Zero()
                        : limit < 95 ? Amt(dice_.Between(1, 5000))
                                     : Amt(kU128Max - dice_.Below(100));
  }
  a.user_data_128 = dice_.Below(3);
  a.user_data_64 = dice_.Below(3);
  a.user_data_32 = static_cast<uint32_t>(dice_.Below(3));
  if (dice_.Percent(s_.invalid_percent)) {  // one thing wrong
    switch (dice_.Below(8)) {
      case 0:
        a.ledger = 0;
        break;
      case 1:
        a.code = 0;
        break;
      case 2:
        a.flags = static_cast<uint16_t>(a.flags | (1u << dice_.Between(5, 15)));
        break;
      case 3:
        a.flags = af::kDebitsMustNotExceedCredits | af::kCreditsMustNotExceedDebits;
        break;
      case 4:
        a.credits_posted = Amt(1);
        break;
      case 5:
        a.timestamp = Timestamp{dice_.Between(1, 100)};
        break;
      case 6:
        a.id = AccountId(dice_.Percent(50) ? 0 : kU128Max);
        break;
      default:
        a.flags = 0;
        a.overdraft_limit = Amt(10);
        break;
    }
  }
  return a;
}

// The stored account sent again: identical (exists) or with one field changed.
Account Workload::Resend(const Account& stored) {
  Account a = stored;
  a.timestamp = Timestamp{};
  a.debits_pending = a.debits_posted = a.credits_pending = a.credits_posted = Amount::Zero();
  a.flags = static_cast<uint16_t>(a.flags & ~af::kClosed);
  if (dice_.Percent(60)) return a;
  switch (dice_.Below(4)) {
    case 0:
      a.user_data_64 += 1;
      break;
    case 1:
      a.code = static_cast<uint16_t>(a.code + 1);
      break;
    case 2:
      a.flags = static_cast<uint16_t>(a.flags ^ af::kHistory);
      break;
    default:
      a.ledger += 1;
      break;
  }
  return a;
}

std::vector<Account> Workload::Accounts(const ReferenceModel& model) {
  std::vector<Account> events;
  if (dice_.Percent(2)) return events;  // an empty batch
  const size_t n = static_cast<size_t>(dice_.Between(1, std::min<uint64_t>(s_.batch_max, 6)));
  // Posted closing transfers close accounts for good: grow the pool while few are open.
  size_t open = 0;
  for (const auto& [id, a] : model.state().accounts) open += (a.flags & af::kClosed) == 0 ? 1 : 0;
  for (size_t i = 0; i < n; ++i) {
    if (open + i < kOpenAccountsWanted && dice_.Percent(50)) {
      s_.account_ids.push_back(MakeU128(kGrownAccountsHigh, next_account_++));
    }
    const u128 id =
        i == 0 && open < kOpenAccountsWanted ? s_.account_ids.back() : dice_.Pick(s_.account_ids);
    const std::optional<Account> stored = model.LookupAccount(id);
    events.push_back(stored.has_value() && dice_.Percent(70) ? Resend(*stored) : FreshAccount(id));
  }
  Link(events, af::kLinked);
  return events;
}

// ---- transfers

Amount Workload::RandomAmount() {
  const uint64_t r = dice_.Below(100);
  if (r < 3) return Amount::Zero();
  if (r < 80) return Amt(dice_.Between(1, 1000));
  if (r < 98) return Amt(dice_.Between(1, 100'000));
  if (r < 99) return Amt((u128{1} << 126) + dice_.Below(1000));  // overflows soon
  return Amt(kU128Max - dice_.Below(1000));
}

uint32_t Workload::Timeout() {
  const uint64_t r = dice_.Below(100);
  if (r < 30) return 0;
  if (r < 90) return static_cast<uint32_t>(dice_.Between(1, 5));
  if (r < 98) return static_cast<uint32_t>(dice_.Between(6, 120));
  return UINT32_MAX;
}

u128 Workload::AccountForTransfer(const std::vector<u128>& existing) {
  if (existing.empty() || dice_.Percent(4)) return dice_.Pick(s_.account_ids);
  return dice_.Pick(existing);
}

Transfer Workload::Regular(const ReferenceModel& model, const std::vector<u128>& existing,
                           bool pending) {
  Transfer t;
  t.id = TransferId(FreshTransferId());
  t.debit_account_id = AccountId(AccountForTransfer(existing));
  t.credit_account_id = AccountId(AccountForTransfer(existing));
  const std::optional<Account> debit = model.LookupAccount(t.debit_account_id.value);
  if (debit.has_value() && dice_.Percent(90)) {  // mostly another account on the same ledger
    std::vector<u128> same;
    for (const u128 id : existing) {
      const Account& a = model.state().accounts.at(id);
      if (a.ledger == debit->ledger && id != debit->id.value) same.push_back(id);
    }
    if (!same.empty()) t.credit_account_id = AccountId(dice_.Pick(same));
  }
  t.amount = RandomAmount();
  t.ledger = debit.has_value() ? debit->ledger : dice_.Pick(s_.ledgers);
  t.code = static_cast<uint16_t>(dice_.Between(1, 3));
  t.flags = pending ? tf::kPending : 0;
  if (pending) {
    t.timeout = Timeout();
    if (dice_.Percent(1)) t.flags |= tf::kClosingDebit;
    if (dice_.Percent(1)) t.flags |= tf::kClosingCredit;
    // A closing transfer that never expires would close its account for good and starve the
    // workload; mostly let it expire (or be voided) soon, which reopens the account.
    if ((t.flags & (tf::kClosingDebit | tf::kClosingCredit)) != 0 && dice_.Percent(95)) {
      t.timeout = static_cast<uint32_t>(dice_.Between(1, 5));
    }
  }
  t.user_data_128 = dice_.Below(3);
  t.user_data_64 = dice_.Below(3);
  t.user_data_32 = static_cast<uint32_t>(dice_.Below(3));
  return t;
}

Transfer Workload::Balancing(const ReferenceModel& model, const std::vector<u128>& existing) {
  Transfer t = Regular(model, existing, dice_.Percent(25));
  const uint64_t r = dice_.Below(3);
  if (r != 1) t.flags |= tf::kBalancingDebit;
  if (r != 0) t.flags |= tf::kBalancingCredit;
  if (dice_.Percent(50)) t.amount = dice_.Percent(50) ? Amount::Max() : Amt(1'000'000);
  return t;
}

// A pending transfer to post or void: mostly one still open, sometimes any, rarely none.
u128 Workload::PendingTarget(const ReferenceModel& model) {
  if (!batch_pendings_.empty() && dice_.Percent(20)) return dice_.Pick(batch_pendings_);
  if (pendings_.empty() || dice_.Percent(5)) {
    return all_ids_.empty() ? FreshTransferId() : dice_.Pick(all_ids_);
  }
  for (int attempt = 0; attempt < 4; ++attempt) {
    const u128 id = dice_.Pick(pendings_);
    if (model.GetPendingStatus(id) == ledger::PendingStatus::pending) return id;
  }
  return dice_.Pick(pendings_);
}

Transfer Workload::PhaseTwo(const ReferenceModel& model, bool post) {
  Transfer t;
  t.id = TransferId(FreshTransferId());
  t.pending_id = TransferId(PendingTarget(model));
  t.flags = post ? tf::kPostPendingTransfer : tf::kVoidPendingTransfer;
  const std::optional<Transfer> p = model.LookupTransfer(t.pending_id.value);
  const u128 p_amount = p.has_value() ? p->amount.minor() : dice_.Between(1, 100);
  const uint64_t r = dice_.Below(100);
  if (post) {
    t.amount = r < 35   ? ledger::kPostFullAmount
               : r < 60 ? Amt(p_amount)
               : r < 88 ? Amt(p_amount == 0 ? 0 : dice_.Next128() % p_amount)
               : r < 96 ? Amt(p_amount + 1)
                        : Amount::Zero();
  } else {
    t.amount = r < 70 ? Amount::Zero() : r < 95 ? Amt(p_amount) : Amt(p_amount + 1);
  }
  if (p.has_value() && dice_.Percent(20)) {  // spelled out instead of "as the pending transfer"
    t.debit_account_id = p->debit_account_id;
    t.credit_account_id = p->credit_account_id;
    t.ledger = p->ledger;
    t.code = p->code;
  }
  if (p.has_value() && dice_.Percent(3)) t.code = static_cast<uint16_t>(p->code + 1);
  t.user_data_64 = dice_.Below(2);
  return t;
}

// A request sent before, sent again: identical (exists / id_already_failed / same failure) or
// with one field changed (exists_with_different_...).
Transfer Workload::Retry(const ReferenceModel& model) {
  Transfer t = dice_.Pick(sent_);
  const std::optional<Transfer> stored = model.LookupTransfer(t.id.value);
  if (stored.has_value() && dice_.Percent(30)) {
    t = *stored;
    t.timestamp = Timestamp{};
  }
  t.flags = static_cast<uint16_t>(t.flags & ~tf::kLinked);
  if (dice_.Percent(60)) return t;
  switch (dice_.Below(5)) {
    case 0:
      t.amount = Amt(t.amount.minor() + 1);
      break;
    case 1:
      t.user_data_32 += 1;
      break;
    case 2:
      t.code = static_cast<uint16_t>(t.code + 1);
      break;
    case 3:
      t.flags = static_cast<uint16_t>(t.flags ^ tf::kPending);
      break;
    default:
      t.timeout += 1;
      break;
  }
  return t;
}

// A transfer with one thing wrong: rejected by validation, or failing transiently.
Transfer Workload::Invalid(const ReferenceModel& model, const std::vector<u128>& existing) {
  Transfer t = Regular(model, existing, dice_.Percent(40));
  switch (dice_.Below(10)) {
    case 0:
      t.id = TransferId(dice_.Percent(50) ? 0 : kU128Max);
      break;
    case 1:
      t.credit_account_id = t.debit_account_id;
      break;
    case 2:
      t.flags = static_cast<uint16_t>(t.flags | tf::kPostPendingTransfer);
      break;
    case 3:
      t.timeout = 3;
      t.flags = static_cast<uint16_t>(t.flags & ~tf::kPending);
      break;
    case 4:
      t.ledger += 7;
      break;
    case 5:
      t.timestamp = Timestamp{dice_.Between(1, 10)};
      break;
    case 6:
      t.code = 0;
      break;
    case 7:  // an account that does not exist (transient: remembered as failed)
      t.credit_account_id = AccountId(MakeU128(0xDEAD, dice_.Below(4)));
      break;
    default:  // more than any account can hold back (exceeds_credits on a limited account)
      t.amount = Amt(kU128Max / 2 + dice_.Below(1000));
      break;
  }
  return t;
}

Transfer Workload::OneTransfer(const ReferenceModel& model, const std::vector<u128>& existing) {
  const uint64_t r = dice_.Below(100);
  if (r < s_.invalid_percent) return Invalid(model, existing);
  if (r < 10 && !sent_.empty()) return Retry(model);
  if (r < 42) return Regular(model, existing, false);
  if (r < 66) return Regular(model, existing, true);
  if (r < 74) return Balancing(model, existing);
  return PhaseTwo(model, r < 90);
}

std::vector<Transfer> Workload::Transfers(const ReferenceModel& model) {
  std::vector<u128> existing = ExistingAccounts(model);
  std::vector<u128> open;
  for (const u128 id : existing) {
    if ((model.state().accounts.at(id).flags & af::kClosed) == 0) open.push_back(id);
  }
  if (open.size() >= 2 && dice_.Percent(90)) existing = std::move(open);  // mostly open ones
  std::vector<Transfer> events;
  batch_pendings_.clear();
  if (dice_.Percent(1)) {
    if (dice_.Percent(20)) {  // one over the limit: too_many_events, nothing applied
      events.assign(kBatchEventsMax + 1, Regular(model, existing, false));
    }
    return events;  // or an empty batch
  }
  const size_t n = static_cast<size_t>(dice_.Between(1, s_.batch_max));
  for (size_t i = 0; i < n; ++i) {
    events.push_back(OneTransfer(model, existing));
    if ((events.back().flags & tf::kPending) != 0)
      batch_pendings_.push_back(events.back().id.value);
  }
  Link(events, tf::kLinked);
  for (const Transfer& t : events) Remember(t);
  return events;
}

// Sets the linked bits: chains of 2..4 events; rarely a chain left open at the batch's end.
template <typename Event>
void Workload::Link(std::vector<Event>& events, uint16_t linked_flag) {
  for (Event& e : events) e.flags = static_cast<uint16_t>(e.flags & ~linked_flag);
  size_t i = 0;
  while (i < events.size()) {
    size_t length = dice_.Percent(s_.chain_percent) ? static_cast<size_t>(dice_.Between(2, 4)) : 1;
    length = std::min(length, events.size() - i);
    for (size_t j = i; j + 1 < i + length; ++j) {
      events[j].flags = static_cast<uint16_t>(events[j].flags | linked_flag);
    }
    i += length;
  }
  if (!events.empty() && dice_.Percent(s_.chain_percent > 0 ? 3 : 1)) {
    events.back().flags = static_cast<uint16_t>(events.back().flags | linked_flag);
  }
}

void Workload::Observe(const ReferenceModel& model, const std::vector<Transfer>& sent) {
  for (const Transfer& t : sent) {
    if ((t.flags & tf::kPending) == 0) continue;
    const std::optional<Transfer> stored = model.LookupTransfer(t.id.value);
    if (stored.has_value() && (stored->flags & tf::kPending) != 0 &&
        std::find(pendings_.begin(), pendings_.end(), t.id.value) == pendings_.end()) {
      pendings_.push_back(t.id.value);
    }
  }
  // Forget resolved pending transfers now and then, so picks stay mostly live.
  if (pendings_.size() > 64) {
    std::erase_if(pendings_, [&](u128 id) {
      return model.GetPendingStatus(id) != ledger::PendingStatus::pending;
    });
  }
}

// ---- queries

Request Workload::Query(const ReferenceModel& model, uint64_t now_ns) {
  Request r;
  const std::vector<u128> existing = ExistingAccounts(model);
  const uint64_t kind = dice_.Below(5);
  if (kind <= 2 || existing.empty()) {
    r.kind = kind == 0 || existing.empty() ? RequestKind::lookup_accounts
             : kind == 1                   ? RequestKind::lookup_transfers
                                           : RequestKind::get_pending_status;
    const size_t n = static_cast<size_t>(dice_.Between(1, 8));
    for (size_t i = 0; i < n; ++i) {
      if (r.kind == RequestKind::lookup_accounts) {
        r.ids.push_back(dice_.Percent(90) ? dice_.Pick(s_.account_ids) : dice_.Next128());
      } else {
        r.ids.push_back(!all_ids_.empty() && dice_.Percent(90) ? dice_.Pick(all_ids_)
                                                               : dice_.Next128());
      }
    }
    return r;
  }
  r.kind = kind == 3 ? RequestKind::get_account_transfers : RequestKind::get_account_balances;
  ledger::AccountFilter& f = r.filter;
  f.account_id = AccountId(dice_.Percent(95) ? dice_.Pick(existing) : dice_.Pick(s_.account_ids));
  f.limit = static_cast<uint32_t>(dice_.Percent(70) ? dice_.Between(1, 20) : kQueryLimitMax);
  f.flags = static_cast<uint32_t>(dice_.Between(1, 7));
  if (dice_.Percent(20)) f.code = static_cast<uint16_t>(dice_.Between(1, 3));
  if (dice_.Percent(25)) f.timestamp_min = Timestamp{now_ns - dice_.Below(10 * kNanosPerSecond)};
  if (dice_.Percent(15)) f.timestamp_max = Timestamp{now_ns - dice_.Below(5 * kNanosPerSecond)};
  if (dice_.Percent(4)) {  // one thing wrong
    switch (dice_.Below(4)) {
      case 0:
        f.limit = dice_.Percent(50) ? 0 : kQueryLimitMax + 1;
        break;
      case 1:
        f.flags = dice_.Percent(50) ? ff::kReversed : 1u << 5;
        break;
      case 2:
        f.account_id = AccountId(0);
        break;
      default:
        f.timestamp_min = Timestamp{now_ns};
        f.timestamp_max = Timestamp{now_ns - 1};
        break;
    }
  }
  return r;
}

}  // namespace tpw::sim
