// Events: the state changes the payments module emits. The engine journals each one as a fact
// and replays it with Payments::Apply; the outbox turns them into webhooks and the event stream.
//
// An event carries the whole record after the change (the payment, customer, coupon, ...), like
// Stripe's events carry the object, so Apply is "store this record" and a webhook needs nothing
// else. Binary format (docs/payments.md, "Event format"): little-endian via common/codec.h,
//   u8 version (1), u8 kind, u64 at_ms, then the kind's body.
// DecodeEvent checks everything (lengths against limits before any allocation, enum ranges,
// flags, trailing bytes) and never crashes on hostile bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "payments/types.h"

namespace tpw::payments {

inline constexpr uint8_t kEventFormatVersion = 1;

// Stable numeric values (journaled).
enum class EventKind : uint8_t {
  payment_created = 1,
  payment_requires_action = 2,            // risk asked for a step-up
  payment_amount_capturable_updated = 3,  // hold placed; requires_capture
  payment_succeeded = 4,                  // captured (automatic or manual)
  payment_canceled = 5,                   // canceled, declined by risk or expired
  payment_failed = 6,  // a ledger attempt failed: nothing moved, attempt counter advanced
  refund_created = 7,
  customer_updated = 8,
  coupon_created = 9,
  coupon_updated = 10,  // redemption count changed
  points_program_updated = 11,
  fx_rates_updated = 12,
  fx_quote_created = 13,
  fx_account_updated = 14,
};
inline constexpr uint8_t kEventKindMax = 14;

// "payment.created", "payment.amount_capturable_updated", "refund.created", "fx.rates_updated"...
std::string_view EventKindName(EventKind kind);
// payment.* and refund.created: the event carries the payment after the change.
bool CarriesPayment(EventKind kind);

struct Event {
  EventKind kind = EventKind::payment_created;
  uint64_t at_ms = 0;              // the command's now_ms
  std::optional<Payment> payment;  // payment_* and refund_created: the payment after the change
  RefundId refund;                 // refund_created: which of payment->refunds is new
  std::optional<Customer> customer;
  std::optional<Coupon> coupon;
  std::optional<PointsProgram> program;
  std::vector<FxRate> rates;  // fx_rates_updated: the rows put (each replaces its pair)
  std::optional<FxQuote> quote;
  std::optional<FxAccount> fx_account;
  friend bool operator==(const Event&, const Event&) = default;
};

enum class EventDecodeError : uint8_t {
  truncated = 1,       // the bytes end inside a field
  bad_version = 2,     // not kEventFormatVersion
  bad_kind = 3,        // unknown kind
  bad_value = 4,       // an enum, flag or count out of its range, a string over its limit
  trailing_bytes = 5,  // bytes after the event
  too_large = 6,       // more than kEventBytesMax
};
std::string_view EventDecodeErrorName(EventDecodeError error);

std::vector<uint8_t> EncodeEvent(const Event& event);
Result<Event, EventDecodeError> DecodeEvent(std::span<const uint8_t> bytes);

}  // namespace tpw::payments
