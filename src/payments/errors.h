// Error codes of payments commands. Stable numeric values (they are in events, the API and the
// CLI): never renumber, only append. Each code sits beside its message (what went wrong and what
// to do) in one X-macro list so names and messages cannot drift apart.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#define TPW_PAYMENT_ERRORS(X)                                                                      \
  X(ok, 0, "")                                                                                     \
  X(invalid_request, 1, "a parameter is missing or malformed (see param and detail); fix it and resend") \
  X(payment_not_found, 2, "no payment has this id; check the id (pay_N)")                         \
  X(customer_not_found, 3, "no customer has this id; create it first (upsert_customer)")          \
  X(coupon_not_found, 4, "no coupon has this code; check the code or create the coupon")          \
  X(quote_not_found, 5, "no FX quote has this id (quotes are forgotten once expired); request a new quote") \
  X(account_not_found, 6, "a ledger account the request names does not exist (see param); create it first") \
  X(account_asset_mismatch, 7, "an account holds another asset than the request needs (see param and detail)") \
  X(payment_state_invalid, 8, "the payment's state does not allow this (see detail for the state and what it allows)") \
  X(amount_exceeds_capturable, 9, "the capture amount is more than amount_capturable; capture at most that") \
  X(refund_exceeds_captured, 10, "the refund is more than amount_captured - amount_refunded; refund at most that") \
  X(splits_exceed_amount, 11, "the splits and the platform fee add up to more than the amount they share; lower them or capture more") \
  X(no_funding_source, 12, "the customer has no funding source usable for this asset and scenario; add one, or put an FX rate for its asset") \
  X(insufficient_funds, 13, "no usable funding source has enough available balance; top one up or pay less") \
  X(declined_by_risk, 14, "risk declined the payment; it is canceled (reason declined_by_risk)")   \
  X(cvm_insufficient, 15, "risk asked for a stronger verification than cvm_performed; verify the customer and confirm again") \
  X(coupon_expired, 16, "the coupon has expired; confirm without it")                              \
  X(coupon_redeemed, 17, "the single-use coupon was already redeemed; confirm without it")         \
  X(coupon_min_spend, 18, "the payment amount is below the coupon's minimum spend")                \
  X(coupon_not_applicable, 19, "the coupon is for another asset or would discount the whole amount; confirm without it") \
  X(coupon_exists, 20, "a coupon with this code exists (coupons are immutable); use another code") \
  X(quote_expired, 21, "the FX quote has expired; request a new quote")                            \
  X(quote_slippage_exceeded, 22, "the quote's rate is further from the current rate than its max_slippage_bps; request a new quote") \
  X(quote_mismatch, 23, "the quote converts another pair of assets than this payment needs")       \
  X(fx_rate_missing, 24, "no FX rate converts the payment asset to the source's asset; put one (PUT /v1/fx/rates)") \
  X(fx_account_missing, 25, "no FX liquidity account is set for an asset of this cross-asset payment; set one") \
  X(points_program_missing, 26, "use_points needs a points program for the payment asset; set one or confirm without points") \
  X(hold_expired, 27, "the hold expired at the ledger and the funds were released; the payment is canceled as expired; create a new payment") \
  X(ledger_refused, 28, "the ledger refused the money movement (see ledger_result); nothing moved and the payment records the failure; fix the cause and retry") \
  X(limit_exceeded, 29, "a limit was reached (see detail); the limits are in src/payments/limits.h") \
  X(amount_too_large, 30, "the amount is too large for exact arithmetic (see detail); use a smaller amount")

namespace tpw::payments {

enum class PaymentError : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_PAYMENT_ERRORS(TPW_X)
#undef TPW_X
};
inline constexpr uint8_t kPaymentErrorCount = 31;

std::string_view PaymentErrorName(PaymentError error);
// One sentence: what went wrong and what to do.
std::string_view PaymentErrorMessage(PaymentError error);
std::optional<PaymentError> PaymentErrorFromValue(uint8_t value);

}  // namespace tpw::payments
