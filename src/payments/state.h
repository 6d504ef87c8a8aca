// The state of the payments module and the plumbing its command handlers share (internal
// header). Handlers get the state read-only and an Emitter: the only way they change anything
// is by emitting an event, which the Emitter applies at once (ApplyEvent) and hands to the
// engine. So live execution and replay run the same code.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/asset.h"
#include "payments/payments.h"

namespace tpw::payments {

struct HoldHash {
  size_t operator()(u128 id) const {
    // Hold ids differ in the payment-number bits (48..111): fold both halves.
    return static_cast<size_t>(Low64(id) ^ (High64(id) * 0x9E3779B97F4A7C15ull));
  }
};

// Hashes a merchant account or customer id (sequential numbers in practice): both halves mixed.
struct IdHash {
  size_t operator()(u128 id) const {
    return static_cast<size_t>((Low64(id) ^ (High64(id) * 0x9E3779B97F4A7C15ull)) *
                               0xBF58476D1CE4E5B9ull);
  }
};

// Which payments a list may return, kept so a filtered list reads only those (the list runs in
// the sequencer: a scan of every payment for one small merchant would stall every write).
// Derived: rebuilt by Load, kept by Apply. A payment's merchant and customer never change.
struct PaymentIndex {
  // Payment numbers (< 2^28, kPaymentsMax) of each merchant account and each customer,
  // ascending; the zero id (no customer) is not indexed.
  std::unordered_map<u128, std::vector<uint32_t>, IdHash> by_merchant;
  std::unordered_map<u128, std::vector<uint32_t>, IdHash> by_customer;
  // One bit per payment per state: bit (n - 1) of in_state[s] is set when payment n is in s.
  std::array<std::vector<uint64_t>, kPaymentStateCount> in_state;

  void Add(const Payment& payment);
  void MoveState(uint64_t number, PaymentState from, PaymentState to);
};

struct State {
  AssetTable assets;
  std::vector<Payment> payments;  // payment number n at index n - 1
  std::array<uint64_t, kPaymentStateCount> payments_by_state{};  // derived: counts per state
  std::map<u128, Customer> customers;
  // Coupons by (code, merchant account): a code is unique per merchant (account zero: a
  // platform coupon, good at any merchant), and a merchant's code never equals a platform
  // coupon's (CreateCoupon), so for a payment's merchant at most one coupon answers to a code.
  // Merchants' codes are separate: one merchant cannot learn another's by creating it.
  std::map<std::pair<std::string, u128>, Coupon> coupons;
  PointsProgram program;
  std::map<std::pair<uint32_t, uint32_t>, FxRate> rates;  // (from, to)
  std::map<uint64_t, FxQuote> quotes;
  std::map<uint32_t, AccountId> fx_accounts;  // asset -> FX liquidity account
  uint64_t next_refund = 1;
  uint64_t next_quote = 1;
  // Derived (rebuilt by Load, kept by Apply): hold transfer id -> payment number.
  std::unordered_map<u128, uint64_t, HoldHash> payment_by_hold;
  PaymentIndex index;  // derived: for ListPayments

  const Payment* FindPayment(PaymentId id) const {
    if (id.is_zero() || id.value > payments.size()) return nullptr;
    return &payments[id.value - 1];
  }
  const Customer* FindCustomer(CustomerId id) const {
    const auto it = customers.find(id.value);
    return it == customers.end() ? nullptr : &it->second;
  }
  // The coupon of exactly this merchant account (zero: the platform's) and code.
  const Coupon* FindCoupon(AccountId merchant, std::string_view code) const {
    const auto it = coupons.find({std::string(code), merchant.value});
    return it == coupons.end() ? nullptr : &it->second;
  }
  // The coupon a payment at `merchant` gets for `code`: the merchant's own, else the platform's.
  const Coupon* FindCouponFor(AccountId merchant, std::string_view code) const {
    const Coupon* own = merchant.is_zero() ? nullptr : FindCoupon(merchant, code);
    return own != nullptr ? own : FindCoupon(AccountId(), code);
  }
  // Every coupon with this code, whatever its merchant (at most one per merchant).
  std::vector<const Coupon*> CouponsWithCode(std::string_view code) const {
    std::vector<const Coupon*> out;
    for (auto it = coupons.lower_bound({std::string(code), u128{0}});
         it != coupons.end() && it->first.first == code; ++it) {
      out.push_back(&it->second);
    }
    return out;
  }
  const FxRate* FindRate(uint32_t from, uint32_t to) const {
    const auto it = rates.find({from, to});
    return it == rates.end() ? nullptr : &it->second;
  }
  AccountId FxAccountOf(uint32_t asset) const {
    const auto it = fx_accounts.find(asset);
    return it == fx_accounts.end() ? AccountId() : it->second;
  }
};

// Applies one event to the state; false when it contradicts the state (payments.cc).
[[nodiscard]] bool ApplyEvent(State& state, const Event& event);

// Emits events for a handler: applies each to the state, then appends it to the engine's list.
class Emitter {
 public:
  Emitter(State& state, std::vector<Event>& out, uint64_t now_ms)
      : state_(state), out_(out), now_ms_(now_ms) {}
  // Takes the event by reference: an Event holds a whole Payment, and moving one is ~700 bytes.
  void Emit(Event&& event) {
    event.at_ms = now_ms_;
    const bool applied = ApplyEvent(state_, event);
    TPW_ASSERT_MSG(applied, "a handler emitted an event its own state refuses");
    out_.push_back(std::move(event));
  }
  // Stamps the caller's payment too, so the reply shows what the event (and a later read) does.
  void EmitPayment(EventKind kind, Payment& payment) {
    Event event;
    event.kind = kind;
    payment.updated_at_ms = now_ms_;
    event.payment = payment;
    Emit(std::move(event));
  }
  uint64_t now_ms() const { return now_ms_; }

 private:
  State& state_;
  std::vector<Event>& out_;
  uint64_t now_ms_;
};

// list_payments: a page of payments, newest first (payment_index.cc).
Reply ListPayments(const State& state, const ListFilter& filter);

// A refusal: the reply of a command that changes nothing.
Reply Refuse(PaymentError error, std::string param = {}, std::string detail = {});

}  // namespace tpw::payments
