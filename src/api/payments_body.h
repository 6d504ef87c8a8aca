// Payment endpoint inputs (docs/api.md, "Payments") → payments::Command. Pure functions like
// body.h (no engine, no I/O), fuzzed by fuzz/api_body_fuzz.cc, shared by the server and the
// CLI's local path (`tpwallet payments ... --data-dir`), so both take exactly the same JSON.
//
// Strict: unknown or repeated keys, wrong JSON types, numbers with a fraction or exponent,
// negative or overflowing amounts and integers, out-of-range values and over-limit strings and
// lists are 400s whose `param` names the field ("splits[1].amount"). Amounts are the transfer
// endpoints' two forms: `x` a decimal string in the asset ("12.34"), or `x_minor` a string of
// minor units ("1234"); never a JSON number. Ids are strings (docs/ids.md); payments, refunds
// and quotes have prefixed ids (pay_12, re_7, fxq_3).
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "api/body.h"
#include "api/router.h"
#include "cli/batch_input.h"
#include "common/asset.h"
#include "payments/payments.h"

namespace tpw::api {

// A decoded request of a payments route.
struct PaymentsCall {
  payments::Command command;
  // capture_payment / refund_payment with a decimal amount: it is read in the payment's asset,
  // which the request does not name. The caller looks the payment up (get_payment) and calls
  // ResolvePaymentAmount before executing `command`.
  std::optional<cli::AmountText> amount_in_payment_asset;
};

// The payments routes (DecodePaymentsRequest takes them), in router.h's order.
inline constexpr std::array<Route, 19> kPaymentsRoutes = {
    Route::payments_create,    Route::payments_list,      Route::payment_get,
    Route::payment_confirm,    Route::payment_capture,    Route::payment_cancel,
    Route::payment_refund,     Route::payment_refunds,    Route::customer_put,
    Route::customer_get,       Route::coupons_create,     Route::coupon_get,
    Route::points_program_put, Route::points_program_get, Route::fx_rates_put,
    Route::fx_rates_get,       Route::fx_quotes_create,   Route::fx_quote_get,
    Route::fx_account_put};
bool IsPaymentsRoute(Route route);

// Decodes a request of a payments route: `id` the {id}/{code}/{asset} path segment, `query` the
// query string, `body` the body (may be empty for the actions, which then take the defaults).
ApiResult<PaymentsCall> DecodePaymentsRequest(Route route, std::string_view id,
                                              std::string_view query, std::string_view body,
                                              const AssetTable& assets);

// Reads call.amount_in_payment_asset at the scale of `asset` (the payment's) into the command.
std::optional<ApiError> ResolvePaymentAmount(PaymentsCall& call, uint32_t asset,
                                             const AssetTable& assets);

}  // namespace tpw::api
