// The payment endpoints (docs/api.md, "Payments"): decode (payments_body.h), run the command in
// the sequencer (its money movements, risk decision and payment facts are durable in one group
// commit before the reply), answer with the record or the refusal (payments_json.h).
#include "api/merchant_binding.h"
#include "api/payments_json.h"
#include "api/service.h"
#include "common/assert.h"

namespace tpw::api {
namespace {

namespace pay = payments;

// ---- Merchant keys (docs/api.md, "Merchant keys") ----------------------------------------------
// A bound merchant key acts only for its merchant accounts: naming another merchant is 403
// (the caller said which merchant, so nothing leaks); another merchant's payment or coupon is
// answered 404 exactly as one that does not exist, so a key cannot learn that it does.

// The merchant a bound key's request is about: the one it names (one of its own, else 403), or
// the key's only one when it names none (a key with several must say which: `what`).
std::optional<HttpResponse> BindMerchant(const access::ApiKey& key,
                                         std::optional<AccountId>& merchant, std::string_view what) {
  if (!merchant.has_value()) {
    if (key.merchant_accounts.size() == 1) {
      merchant = key.merchant_accounts.front();
      return std::nullopt;
    }
    return ErrorResponse(InvalidParameter(
        "API key " + access::KeyIdText(key.id) + " is bound to " +
            std::to_string(key.merchant_accounts.size()) + " merchant accounts; " +
            std::string(what) + " with ?merchant_account_id=ID",
        "merchant_account_id"));
  }
  if (!key.MayActFor(*merchant)) return NotYourMerchant(key, *merchant, "merchant_account_id");
  return std::nullopt;
}

// A coupon read names the merchant whose payments would get it, so the answer never depends on
// other merchants' codes.
std::optional<HttpResponse> BindCouponMerchant(const access::ApiKey& key, pay::Command& command) {
  std::optional<AccountId> merchant;
  if (!command.merchant_account.is_zero()) merchant = command.merchant_account;
  if (auto refused = BindMerchant(key, merchant, "name the coupon's merchant")) return refused;
  command.merchant_account = *merchant;
  return std::nullopt;
}

// What a bound key may not ask at all, before anything runs (the list filter may be narrowed).
std::optional<HttpResponse> BindingRefusal(const access::ApiKey& key, Route route,
                                           pay::Command& command) {
  switch (route) {
    case Route::payments_create:
      if (key.MayActFor(command.merchant_account)) return std::nullopt;
      return NotYourMerchant(key, command.merchant_account, "merchant_account_id");
    case Route::coupons_create:
      // A coupon for any merchant (account zero) would bind the other merchants' payments too.
      if (!command.coupon.merchant_account.is_zero() &&
          key.MayActFor(command.coupon.merchant_account)) {
        return std::nullopt;
      }
      return NotYourMerchant(key, command.coupon.merchant_account, "merchant_account_id");
    case Route::payments_list:
      return BindMerchant(key, command.list.merchant_account,
                          "list one merchant's payments at a time");
    case Route::coupon_get:
      return BindCouponMerchant(key, command);
    default:
      return std::nullopt;
  }
}

// Routes that change one existing payment: its merchant is checked before anything moves.
bool ChangesOnePayment(Route route) {
  return route == Route::payment_confirm || route == Route::payment_capture ||
         route == Route::payment_cancel || route == Route::payment_refund;
}

// Whether a reply shows the key another merchant's payment or coupon (a coupon for any
// merchant, account zero, is everyone's).
bool ShowsAnotherMerchant(const access::ApiKey& key, const pay::Reply& reply) {
  if (reply.payment.has_value() && !key.MayActFor(reply.payment->merchant_account)) return true;
  if (reply.coupon.has_value() && !reply.coupon->merchant_account.is_zero() &&
      !key.MayActFor(reply.coupon->merchant_account)) {
    return true;
  }
  return false;
}

// The reply the payments module gives for a payment (or, for get_coupon, a coupon) that does
// not exist, byte for byte (payments/registry_commands.cc, payment_commands.cc).
pay::Reply NotFoundReply(pay::CommandKind kind, pay::PaymentId payment, std::string coupon_code) {
  pay::Reply reply;
  if (kind == pay::CommandKind::get_coupon) {
    reply.error = pay::PaymentError::coupon_not_found;
    reply.param = "code";
    reply.detail = std::move(coupon_code);
  } else {
    reply.error = pay::PaymentError::payment_not_found;
    reply.param = "payment";
    reply.detail = pay::FormatPaymentId(payment);
  }
  return reply;
}

}  // namespace

void Service::CallPayments(payments::Command command, const Responder& responder,
                           std::function<void(payments::Reply&)> on_reply) {
  engine::Request request;
  request.kind = engine::RequestKind::payments;
  request.payments = std::make_shared<payments::Command>(std::move(command));
  Call(std::move(request), responder, [on_reply = std::move(on_reply)](engine::Reply& reply) {
    TPW_ASSERT(reply.payments.has_value());
    on_reply(*reply.payments);
  });
}

void Service::PaymentsRoute(const RequestContext& context, const Responder& responder) {
  const Route route = context.match.route;
  ApiResult<PaymentsCall> call = DecodePaymentsRequest(route, context.match.id, context.match.query,
                                                       context.request.body(), assets_);
  if (!call.ok()) return responder.Send(ErrorResponse(call.error()));
  if (const access::ApiKey* key = responder.MerchantBinding()) {
    if (std::optional<HttpResponse> refused = BindingRefusal(*key, route, call.value().command)) {
      return responder.Send(std::move(*refused));
    }
    // The payment's merchant is read first (it never changes, so the check cannot go stale).
    if (ChangesOnePayment(route)) return ResolveAmountThenRun(route, std::move(call).value(), responder);
  }
  if (call.value().amount_in_payment_asset.has_value()) {
    return ResolveAmountThenRun(route, std::move(call).value(), responder);
  }
  RunPayments(route, std::move(call.value().command), responder);
}

void Service::ResolveAmountThenRun(Route route, PaymentsCall call, const Responder& responder) {
  payments::Command lookup;
  lookup.kind = payments::CommandKind::get_payment;
  lookup.payment = call.command.payment;
  CallPayments(std::move(lookup), responder,
               [this, route, call = std::move(call), responder](payments::Reply& found) mutable {
                 const access::ApiKey* key = responder.MerchantBinding();
                 if (found.ok() && key != nullptr && ShowsAnotherMerchant(*key, found)) {
                   found = NotFoundReply(call.command.kind, call.command.payment, "");
                 }
                 if (!found.ok() || !found.payment.has_value()) {
                   return responder.Send(PaymentErrorResponse(call.command.kind, found, assets_));
                 }
                 // The asset of a payment never changes, so reading the amount now is exact.
                 std::optional<ApiError> error;
                 if (call.amount_in_payment_asset.has_value()) {
                   error = ResolvePaymentAmount(call, found.payment->asset, assets_);
                 }
                 if (error) return responder.Send(ErrorResponse(*error));
                 RunPayments(route, std::move(call.command), responder);
               });
}

void Service::RunPayments(Route route, payments::Command command, const Responder& responder) {
  const payments::CommandKind kind = command.kind;
  // A bound key's reads (a payment, its refunds, a coupon) are checked on the reply.
  const pay::PaymentId payment = command.payment;
  std::string coupon_code;
  if (responder.MerchantBinding() != nullptr) coupon_code = command.coupon_code;
  CallPayments(std::move(command), responder,
               [this, route, kind, responder, payment, coupon_code](payments::Reply& reply) {
                 const access::ApiKey* key = responder.MerchantBinding();
                 if (key != nullptr && ShowsAnotherMerchant(*key, reply)) {
                   return responder.Send(PaymentErrorResponse(
                       kind, NotFoundReply(kind, payment, coupon_code), assets_));
                 }
                 responder.Send(PaymentsResponse(route, kind, reply, assets_));
               });
}

}  // namespace tpw::api
