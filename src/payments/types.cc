#include "payments/types.h"

#include <array>
#include <charconv>

#include "payments/limits.h"

namespace tpw::payments {
namespace {

std::string FormatNumber(std::string_view prefix, uint64_t value) {
  return std::string(prefix) + std::to_string(value);
}

// The prefix, then 1..20 decimal digits, no leading zero, not zero, fitting 64 bits.
std::optional<uint64_t> ParseNumber(std::string_view prefix, std::string_view text) {
  if (!text.starts_with(prefix)) return std::nullopt;
  const std::string_view digits = text.substr(prefix.size());
  if (digits.empty() || digits.size() > 20 || digits[0] == '0') return std::nullopt;
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

// Names by numeric value; Parse is the reverse lookup.
template <typename Enum, size_t N>
std::string_view NameOf(const std::array<std::string_view, N>& names, Enum value) {
  const auto index = static_cast<size_t>(value);
  return index < N ? names[index] : std::string_view("unknown");
}
template <typename Enum, size_t N>
std::optional<Enum> ParseName(const std::array<std::string_view, N>& names, std::string_view text) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 5> kStateNames = {
    "requires_confirmation", "requires_action", "requires_capture", "succeeded", "canceled"};
constexpr std::array<std::string_view, 2> kCaptureMethodNames = {"automatic", "manual"};
constexpr std::array<std::string_view, 7> kCancelReasonNames = {
    "none",    "requested_by_customer", "duplicate", "fraudulent", "abandoned",
    "expired", "declined_by_risk"};
constexpr std::array<std::string_view, 3> kSourceKindNames = {"balance", "points", "transit"};
constexpr std::array<std::string_view, 2> kCouponKindNames = {"fixed", "percent"};

constexpr u128 kRateScale = static_cast<u128>(1'000'000'000'000'000'000ull);  // 10^18

}  // namespace

std::string FormatPaymentId(PaymentId id) { return FormatNumber("pay_", id.value); }
std::string FormatRefundId(RefundId id) { return FormatNumber("re_", id.value); }
std::string FormatQuoteId(QuoteId id) { return FormatNumber("fxq_", id.value); }

std::optional<PaymentId> ParsePaymentId(std::string_view text) {
  const auto n = ParseNumber("pay_", text);
  return n ? std::optional(PaymentId(*n)) : std::nullopt;
}
std::optional<RefundId> ParseRefundId(std::string_view text) {
  const auto n = ParseNumber("re_", text);
  return n ? std::optional(RefundId(*n)) : std::nullopt;
}
std::optional<QuoteId> ParseQuoteId(std::string_view text) {
  const auto n = ParseNumber("fxq_", text);
  return n ? std::optional(QuoteId(*n)) : std::nullopt;
}

std::optional<TransferIdParts> SplitTransferId(TransferId id) {
  if (static_cast<uint16_t>(id.value >> 112) != kTransferIdMagic) return std::nullopt;
  TransferIdParts parts;
  parts.payment = PaymentId(static_cast<uint64_t>(id.value >> 48));
  parts.attempt = static_cast<uint32_t>(id.value >> 16);
  parts.leg = static_cast<uint16_t>(id.value);
  return parts;
}

std::string_view PaymentStateName(PaymentState state) { return NameOf(kStateNames, state); }
std::string_view CaptureMethodName(CaptureMethod method) {
  return NameOf(kCaptureMethodNames, method);
}
std::string_view CancelReasonName(CancelReason reason) {
  return NameOf(kCancelReasonNames, reason);
}
std::string_view SourceKindName(SourceKind kind) { return NameOf(kSourceKindNames, kind); }
std::string_view CouponKindName(CouponKind kind) { return NameOf(kCouponKindNames, kind); }

std::optional<PaymentState> ParsePaymentState(std::string_view text) {
  return ParseName<PaymentState>(kStateNames, text);
}
std::optional<CaptureMethod> ParseCaptureMethod(std::string_view text) {
  return ParseName<CaptureMethod>(kCaptureMethodNames, text);
}
std::optional<CancelReason> ParseCancelReason(std::string_view text) {
  if (text == "none") return std::nullopt;
  return ParseName<CancelReason>(kCancelReasonNames, text);
}
std::optional<SourceKind> ParseSourceKind(std::string_view text) {
  return ParseName<SourceKind>(kSourceKindNames, text);
}
std::optional<CouponKind> ParseCouponKind(std::string_view text) {
  return ParseName<CouponKind>(kCouponKindNames, text);
}

std::optional<Rate> ParseRate(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > kRateIntegerDigitsMax) return std::nullopt;
  if (whole.size() > 1 && whole[0] == '0') return std::nullopt;
  if (dot != std::string_view::npos &&
      (fraction.empty() || fraction.size() > kRateFractionDigitsMax)) {
    return std::nullopt;
  }
  u128 value = 0;
  for (const char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<u128>(c - '0');
  }
  for (size_t i = 0; i < kRateFractionDigitsMax; ++i) {
    const char c = i < fraction.size() ? fraction[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<u128>(c - '0');
  }
  // 20 + 18 digits stay below 10^38 < 2^128: no overflow above.
  if (value == 0) return std::nullopt;
  return Rate{value};
}

std::string FormatRate(Rate rate) {
  std::string whole = U128ToDecimal(rate.e18 / kRateScale);
  std::string fraction = U128ToDecimal(rate.e18 % kRateScale);
  fraction.insert(0, kRateFractionDigitsMax - fraction.size(), '0');
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  return fraction.empty() ? whole : whole + "." + fraction;
}

}  // namespace tpw::payments
