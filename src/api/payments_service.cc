// The payment endpoints (docs/api.md, "Payments"): decode (payments_body.h), run the command in
// the sequencer (its money movements, risk decision and payment facts are durable in one group
// commit before the reply), answer with the record or the refusal (payments_json.h).
#include "api/payments_json.h"
#include "api/service.h"
#include "common/assert.h"

namespace tpw::api {

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
                 if (!found.ok() || !found.payment.has_value()) {
                   return responder.Send(PaymentErrorResponse(call.command.kind, found, assets_));
                 }
                 // The asset of a payment never changes, so reading the amount now is exact.
                 if (std::optional<ApiError> error =
                         ResolvePaymentAmount(call, found.payment->asset, assets_)) {
                   return responder.Send(ErrorResponse(*error));
                 }
                 RunPayments(route, std::move(call.command), responder);
               });
}

void Service::RunPayments(Route route, payments::Command command, const Responder& responder) {
  const payments::CommandKind kind = command.kind;
  CallPayments(std::move(command), responder,
               [this, route, kind, responder](payments::Reply& reply) {
                 responder.Send(PaymentsResponse(route, kind, reply, assets_));
               });
}

}  // namespace tpw::api
