#include "payments/events.h"

#include <array>

#include "common/codec.h"
#include "payments/limits.h"
#include "payments/records.h"

namespace tpw::payments {
namespace {

constexpr std::array<std::string_view, kEventKindMax + 1> kKindNames = {
    "unknown",
    "payment.created",
    "payment.requires_action",
    "payment.amount_capturable_updated",
    "payment.succeeded",
    "payment.canceled",
    "payment.payment_failed",
    "refund.created",
    "customer.updated",
    "coupon.created",
    "coupon.updated",
    "points_program.updated",
    "fx.rates_updated",
    "fx.quote_created",
    "fx.account_updated",
};

// Which record each kind carries.
enum class Body : uint8_t { payment, refund, customer, coupon, program, rates, quote, account };

Body BodyOf(EventKind kind) {
  if (kind == EventKind::refund_created) return Body::refund;
  if (CarriesPayment(kind)) return Body::payment;
  switch (kind) {
    case EventKind::customer_updated:
      return Body::customer;
    case EventKind::coupon_created:
    case EventKind::coupon_updated:
      return Body::coupon;
    case EventKind::points_program_updated:
      return Body::program;
    case EventKind::fx_rates_updated:
      return Body::rates;
    case EventKind::fx_quote_created:
      return Body::quote;
    case EventKind::fx_account_updated:
      return Body::account;
    default:
      TPW_UNREACHABLE();
  }
}

// Encoding an event whose record is missing is a programmer error: Execute always fills it.
template <typename T>
const T& Required(const std::optional<T>& record) {
  TPW_ASSERT_MSG(record.has_value(), "event without the record its kind carries");
  return *record;
}

bool DecodeBody(BinaryReader& r, Body body, Event& event) {
  switch (body) {
    case Body::payment:
      return records::Get(r, event.payment.emplace());
    case Body::refund:
      event.refund = RefundId(r.U64());
      return !event.refund.is_zero() && records::Get(r, event.payment.emplace());
    case Body::customer:
      return records::Get(r, event.customer.emplace());
    case Body::coupon:
      return records::Get(r, event.coupon.emplace());
    case Body::program:
      return records::Get(r, event.program.emplace());
    case Body::rates: {
      const uint32_t count = r.U32();
      // A rate row takes at least 44 bytes: a hostile count fails before any allocation.
      if (!r.ok() || count == 0 || count > kFxRatesPerPutMax || count > r.remaining() / 44) {
        return false;
      }
      event.rates.resize(count);
      for (FxRate& rate : event.rates) {
        if (!records::Get(r, rate)) return false;
      }
      return true;
    }
    case Body::quote:
      return records::Get(r, event.quote.emplace());
    case Body::account:
      return records::Get(r, event.fx_account.emplace());
  }
  return false;
}

}  // namespace

bool CarriesPayment(EventKind kind) {
  const auto value = static_cast<uint8_t>(kind);
  return value >= static_cast<uint8_t>(EventKind::payment_created) &&
         value <= static_cast<uint8_t>(EventKind::refund_created);
}

std::string_view EventKindName(EventKind kind) {
  const auto index = static_cast<size_t>(kind);
  return index < kKindNames.size() ? kKindNames[index] : kKindNames[0];
}

std::string_view EventDecodeErrorName(EventDecodeError error) {
  switch (error) {
    case EventDecodeError::truncated:
      return "truncated";
    case EventDecodeError::bad_version:
      return "bad_version";
    case EventDecodeError::bad_kind:
      return "bad_kind";
    case EventDecodeError::bad_value:
      return "bad_value";
    case EventDecodeError::trailing_bytes:
      return "trailing_bytes";
    case EventDecodeError::too_large:
      return "too_large";
  }
  return "unknown";
}

std::vector<uint8_t> EncodeEvent(const Event& event) {
  records::Writer w;
  w.U8(kEventFormatVersion);
  w.U8(static_cast<uint8_t>(event.kind));
  w.U64(event.at_ms);
  switch (BodyOf(event.kind)) {
    case Body::payment:
      records::Put(w, Required(event.payment));
      break;
    case Body::refund:
      w.U64(event.refund.value);
      records::Put(w, Required(event.payment));
      break;
    case Body::customer:
      records::Put(w, Required(event.customer));
      break;
    case Body::coupon:
      records::Put(w, Required(event.coupon));
      break;
    case Body::program:
      records::Put(w, Required(event.program));
      break;
    case Body::rates:
      TPW_ASSERT(!event.rates.empty() && event.rates.size() <= kFxRatesPerPutMax);
      w.U32(static_cast<uint32_t>(event.rates.size()));
      for (const FxRate& rate : event.rates) records::Put(w, rate);
      break;
    case Body::quote:
      records::Put(w, Required(event.quote));
      break;
    case Body::account:
      records::Put(w, Required(event.fx_account));
      break;
  }
  TPW_ASSERT(w.size() <= kEventBytesMax);
  return w.Take();
}

Result<Event, EventDecodeError> DecodeEvent(std::span<const uint8_t> bytes) {
  if (bytes.size() > kEventBytesMax) return Err{EventDecodeError::too_large};
  BinaryReader r(bytes);
  const uint8_t version = r.U8();
  const uint8_t kind = r.U8();
  Event event;
  event.at_ms = r.U64();
  if (!r.ok()) return Err{EventDecodeError::truncated};
  if (version != kEventFormatVersion) return Err{EventDecodeError::bad_version};
  if (kind == 0 || kind > kEventKindMax) return Err{EventDecodeError::bad_kind};
  event.kind = static_cast<EventKind>(kind);
  const bool body_ok = DecodeBody(r, BodyOf(event.kind), event);
  if (!r.ok()) return Err{EventDecodeError::truncated};
  if (!body_ok) return Err{EventDecodeError::bad_value};
  if (!r.AtEndOk()) return Err{EventDecodeError::trailing_bytes};
  return event;
}

}  // namespace tpw::payments
