// PaymentIndex (state.h): which payments a list may return, and the newest-first walk
// ListPayments reads them with.
#include <algorithm>
#include <bit>

#include "payments/handlers.h"
#include "payments/limits.h"
#include "payments/state.h"

namespace tpw::payments {
namespace {

void SetBit(std::vector<uint64_t>& bits, uint64_t index, bool value) {
  const size_t word = static_cast<size_t>(index / 64);
  if (word >= bits.size()) bits.resize(word + 1, 0);
  const uint64_t mask = uint64_t{1} << (index % 64);
  bits[word] = value ? (bits[word] | mask) : (bits[word] & ~mask);
}

const std::vector<uint32_t>* NumbersOf(
    const std::unordered_map<u128, std::vector<uint32_t>, IdHash>& map, u128 id) {
  static const std::vector<uint32_t> kNone;
  const auto it = map.find(id);
  return it == map.end() ? &kNone : &it->second;
}

// Calls visit(n) for payment numbers n < below from the newest, while it returns true.
template <typename Visit>
void WalkNumbers(const std::vector<uint32_t>& numbers, uint64_t below, Visit visit) {
  auto it = std::lower_bound(numbers.begin(), numbers.end(), below);
  while (it != numbers.begin()) {
    if (!visit(uint64_t{*--it})) return;
  }
}

template <typename Visit>
void WalkBits(const std::vector<uint64_t>& bits, uint64_t below, Visit visit) {
  // Bit i stands for payment i + 1: payments below `below` are bits 0 .. below - 2.
  if (below <= 1) return;
  const uint64_t last_bit = below - 2;
  size_t word = static_cast<size_t>(last_bit / 64);
  if (word >= bits.size()) {
    if (bits.empty()) return;
    word = bits.size() - 1;
  }
  uint64_t mask = word == last_bit / 64 ? (~uint64_t{0} >> (63 - last_bit % 64)) : ~uint64_t{0};
  for (;;) {
    uint64_t set = bits[word] & mask;
    while (set != 0) {
      const int top = 63 - std::countl_zero(set);
      if (!visit(uint64_t{word} * 64 + static_cast<uint64_t>(top) + 1)) return;
      set &= ~(uint64_t{1} << top);
    }
    if (word == 0) return;
    --word;
    mask = ~uint64_t{0};
  }
}

template <typename Visit>
void WalkAll(uint64_t below, Visit visit) {
  for (uint64_t number = below; number > 1;) {
    if (!visit(--number)) return;
  }
}

bool Matches(const Payment& p, const ListFilter& filter) {
  if (filter.customer && p.customer != *filter.customer) return false;
  if (filter.merchant_account && p.merchant_account != *filter.merchant_account) return false;
  return !filter.state || p.state == *filter.state;
}

}  // namespace

void PaymentIndex::Add(const Payment& payment) {
  const auto number = static_cast<uint32_t>(payment.id.value);
  by_merchant[payment.merchant_account.value].push_back(number);
  if (!payment.customer.is_zero()) by_customer[payment.customer.value].push_back(number);
  SetBit(in_state[static_cast<size_t>(payment.state)], number - 1, true);
}

void PaymentIndex::MoveState(uint64_t number, PaymentState from, PaymentState to) {
  SetBit(in_state[static_cast<size_t>(from)], number - 1, false);
  SetBit(in_state[static_cast<size_t>(to)], number - 1, true);
}

// Newest first, like Stripe: starting_after names the last payment of the previous page. The
// walk reads the narrowest index the filter names (a customer's payments, a merchant's, those in
// one state), so a page costs the payments that index holds above it, not every payment.
Reply ListPayments(const State& state, const ListFilter& filter) {
  if (filter.limit == 0 || filter.limit > kListLimitMax) {
    return Refuse(PaymentError::invalid_request, "limit", "1.." + std::to_string(kListLimitMax));
  }
  uint64_t below = state.payments.size() + 1;
  if (!filter.starting_after.is_zero()) below = std::min(below, filter.starting_after.value);
  Reply reply;
  const auto visit = [&](uint64_t number) {
    const Payment& p = state.payments[number - 1];
    if (!Matches(p, filter)) return true;
    if (reply.payments.size() == filter.limit) {
      reply.has_more = true;
      return false;
    }
    reply.payments.push_back(p);
    return true;
  };
  const PaymentIndex& index = state.index;
  if (filter.customer && !filter.customer->is_zero()) {
    WalkNumbers(*NumbersOf(index.by_customer, filter.customer->value), below, visit);
  } else if (filter.merchant_account) {
    WalkNumbers(*NumbersOf(index.by_merchant, filter.merchant_account->value), below, visit);
  } else if (filter.state) {
    WalkBits(index.in_state[static_cast<size_t>(*filter.state)], below, visit);
  } else {
    WalkAll(below, visit);
  }
  return reply;
}

}  // namespace tpw::payments
