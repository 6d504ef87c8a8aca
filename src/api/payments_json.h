// Payment records as JSON (docs/api.md, "Payments"), and the answer of every payments route.
// One renderer per record, reused by every endpoint, the CLI (local and --server) and the
// webhooks/event stream (PaymentEventJson), so a payment looks the same wherever it appears.
//
// Conventions (Stripe's where they exist): every record has "id" and "object" ("payment",
// "refund", "customer", "coupon", "points_program", "fx_rate", "fx_quote", "fx_account"); ids
// are strings (pay_12, re_7, fxq_3; accounts and customers in docs/ids.md form); amounts appear
// twice, `x` as the exact decimal in the asset and `x_minor` in minor units; times are
// milliseconds since 1970 as a string (`created`) and RFC 3339 UTC (`created_time`); lists are
// {"object": "list", "url", "data": [...], "has_more"}.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "api/http.h"
#include "api/router.h"
#include "common/asset.h"
#include "payments/payments.h"

namespace tpw::api {

std::string PaymentJson(const payments::Payment& payment, const AssetTable& assets);
std::string RefundJson(const payments::Payment& payment, const payments::Refund& refund,
                       const AssetTable& assets);
std::string CustomerJson(const payments::Customer& customer, const AssetTable& assets);
std::string CouponJson(const payments::Coupon& coupon, const AssetTable& assets);
std::string PointsProgramJson(const payments::PointsProgram& program, const AssetTable& assets);
std::string FxRateJson(const payments::FxRate& rate, const AssetTable& assets);
std::string FxQuoteJson(const payments::FxQuote& quote, const AssetTable& assets);
std::string FxAccountJson(const payments::FxAccount& account, const AssetTable& assets);

// The data object of a payments event (payments::EncodeEvent bytes): the payment for payment.*
// events, the new refund for refund.created, the customer, coupon, points program, quote or FX
// account, and for fx.rates_updated a list of the rates put. "" when the bytes do not decode
// (the caller logs and skips them). Assets: AssetTable::Default(), as the server's.
std::string PaymentEventJson(std::span<const uint8_t> encoded_event);
std::string PaymentEventJson(const payments::Event& event, const AssetTable& assets);

// How a refused payments command is answered: status, type and code (docs/api.md, "Payment
// errors"). 402 (`payment_error`) for a payment the money side refused (risk decline, no funds,
// a stronger verification needed); 404 for unknown records; 409 for a payment in the wrong
// state (`payment_intent_unexpected_state`) or a taken coupon code; 422 for a ledger refusal;
// 400 otherwise.
struct PaymentErrorStatus {
  http::status status = http::status::bad_request;
  std::string_view type;
  std::string_view code;
};
PaymentErrorStatus PaymentErrorStatusOf(payments::PaymentError error);

// The error response of a refused command of `kind`: the error format of http.h, plus (like
// Stripe's `payment_intent`) "payment" with the payment as it is now when the reply carries
// one, and "ledger_result" for a ledger refusal. A state refusal's message names the payment's
// state and the states the action needs.
HttpResponse PaymentErrorResponse(payments::CommandKind kind, const payments::Reply& reply,
                                  const AssetTable& assets);

// The answer of `route` for the engine's reply to its command of `kind` (refusals included):
// 201 with the created record for creations (payment, refund, coupon, quote), 200 with the
// record otherwise.
HttpResponse PaymentsResponse(Route route, payments::CommandKind kind, const payments::Reply& reply,
                              const AssetTable& assets);

}  // namespace tpw::api
