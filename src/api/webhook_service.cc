// The webhook endpoints (docs/api.md, "Webhooks"): create (the signing secret is made here and
// shown once), list, show, update, delete, the delivery log, manual re-sends, and test events.
// All of it is sequencer state: every change is a journaled fact, answered once durable; the
// deliverer (webhook_deliverer.h) is told about each change after it.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/service.h"
#include "api/webhook_body.h"
#include "api/webhook_deliverer.h"
#include "cli/values.h"
#include "common/assert.h"
#include "crypto/secure.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
using engine::WebhookError;

HttpResponse WebhookRefusal(const engine::WebhookReply& reply) {
  const std::string code(engine::WebhookErrorName(reply.error));
  switch (reply.error) {
    case WebhookError::unknown_endpoint:
      return ErrorResponse({http::status::not_found, error_type::kInvalidRequest, code,
                            "no webhook endpoint has this id; GET /v1/webhook_endpoints lists them", "id"});
    case WebhookError::invalid:
      return ErrorResponse({http::status::bad_request, error_type::kInvalidRequest, "invalid_body",
                            reply.detail, ""});
    case WebhookError::too_many_endpoints:
      return ErrorResponse({http::status::bad_request, error_type::kInvalidRequest, code,
                            reply.detail, ""});
    case WebhookError::unknown_event:
      return ErrorResponse({http::status::not_found, error_type::kInvalidRequest, code,
                            "no event has this id (" + reply.detail + ")", "event_id"});
    case WebhookError::endpoint_disabled:
      return ErrorResponse({http::status::conflict, error_type::kInvalidRequest, code,
                            reply.detail, "id"});
    case WebhookError::event_not_matching:
      return ErrorResponse({http::status::bad_request, error_type::kInvalidRequest, code,
                            reply.detail + "; widen them or re-send another event", "event_id"});
    case WebhookError::ok:
      break;
  }
  return ErrorResponse({http::status::internal_server_error, error_type::kInternal, code,
                        "unexpected webhook refusal: " + reply.detail, ""});
}

std::string TimeOfMs(uint64_t ms) { return cli::FormatTimeUtc(Timestamp{ms * 1'000'000}); }

// When the secret a roll replaced stops signing (Unix seconds), or null when none signs now.
bj::value PreviousSecretExpires(const engine::WebhookEndpoint& e) {
  if (e.previous_secret_expires_ms <= WallMs()) return nullptr;
  return e.previous_secret_expires_ms / 1000;
}

bj::object EndpointJson(const engine::EndpointView& view) {
  const engine::WebhookEndpoint& e = view.endpoint;
  bj::array events;
  for (const std::string& entry : e.filter) events.push_back(bj::string(entry));
  bj::object deliveries{{"pending", view.unfinished},
                        {"retrying", view.retrying},
                        {"delivered", view.counters.delivered},
                        {"failed_attempts", view.counters.failed_attempts},
                        {"given_up", view.counters.given_up}};
  return bj::object{{"id", EndpointIdText(e.id)},
                    {"object", "webhook_endpoint"},
                    {"url", e.url},
                    {"enabled_events", std::move(events)},
                    {"description", e.description},
                    {"enabled", e.enabled},
                    {"status", e.enabled ? "enabled" : "disabled"},
                    {"created", e.created_ms / 1000},
                    {"updated", e.updated_ms / 1000},
                    {"previous_secret_expires", PreviousSecretExpires(e)},
                    {"deliveries", std::move(deliveries)}};
}

// The endpoint with its secret, for the two answers that show it (create, roll), after which
// the reply's copies of the secrets are wiped.
bj::object EndpointJsonWithSecret(engine::WebhookEndpoint& e, const engine::EndpointView& view) {
  bj::object out = EndpointJson(view);
  std::string secret = SecretText(e.secret);
  out["secret"] = secret;  // shown this once; GET never shows it
  crypto::SecureWipe(std::span<char>(secret.data(), secret.size()));
  crypto::SecureWipe(std::span<uint8_t>(e.secret));
  crypto::SecureWipe(std::span<uint8_t>(e.previous_secret));
  return out;
}

bj::object DeliveryJson(const engine::DeliveryLogEntry& entry) {
  const engine::DeliveryRecord& r = entry.record;
  bj::object out{{"id", std::to_string(entry.seq)},
                 {"event_id", EventIdText(r.event_id)},
                 {"outcome", engine::DeliveryOutcomeName(r.outcome)},
                 {"attempt", r.attempt},
                 {"duration_ms", r.duration_ms},
                 {"created", r.time_ms / 1000},
                 {"time", TimeOfMs(r.time_ms)}};
  out["http_status"] = r.http_status != 0 ? bj::value(r.http_status) : bj::value(nullptr);
  out["next_retry"] = r.next_retry_ms != 0 ? bj::value(TimeOfMs(r.next_retry_ms)) : bj::value(nullptr);
  out["error"] = r.error.empty() ? bj::value(nullptr) : bj::value(r.error);
  return out;
}

}  // namespace

void Service::CallWebhooks(engine::WebhookCommand command, const Responder& responder,
                           std::function<void(engine::WebhookReply&)> on_reply) {
  engine::Request request;
  request.kind = engine::RequestKind::webhooks;
  request.webhooks = std::make_shared<engine::WebhookCommand>(std::move(command));
  Call(std::move(request), responder, [on_reply = std::move(on_reply)](engine::Reply& reply) {
    TPW_ASSERT(reply.webhooks.has_value());
    on_reply(*reply.webhooks);
  });
}

void Service::WebhookRoute(const RequestContext& context, const Responder& responder) {
  const Route route = context.match.route;
  if (route == Route::webhook_endpoints_create) return CreateWebhookEndpoint(context, responder);
  engine::WebhookCommand command;
  if (route == Route::webhook_endpoints_list) {
    command.kind = engine::WebhookCommandKind::list_endpoints;
    return CallWebhooks(std::move(command), responder, [responder](engine::WebhookReply& reply) {
      bj::array endpoints;
      for (const engine::EndpointView& view : reply.endpoints) endpoints.push_back(EndpointJson(view));
      responder.Send(JsonBody(http::status::ok, bj::object{{"webhook_endpoints", std::move(endpoints)}}));
    });
  }
  ApiResult<uint64_t> id = DecodeEndpointPathId(context.match.id);
  if (!id.ok()) return responder.Send(ErrorResponse(id.error()));
  switch (route) {
    case Route::webhook_endpoint_update:
      return UpdateWebhookEndpoint(context, id.value(), responder);
    case Route::webhook_endpoint_deliveries:
      return WebhookDeliveries(context, id.value(), responder);
    case Route::webhook_endpoint_resend:
      return ResendEvent(context, id.value(), responder);
    case Route::webhook_endpoint_roll_secret:
      return RollWebhookSecret(context, id.value(), responder);
    case Route::webhook_endpoint_get:
      command.kind = engine::WebhookCommandKind::get_endpoint;
      break;
    default:
      TPW_ASSERT(route == Route::webhook_endpoint_delete);
      command.kind = engine::WebhookCommandKind::delete_endpoint;
      break;
  }
  const bool deleting = command.kind == engine::WebhookCommandKind::delete_endpoint;
  command.endpoint_id = id.value();
  CallWebhooks(std::move(command), responder, [this, responder, deleting](engine::WebhookReply& reply) {
    if (reply.error != WebhookError::ok) return responder.Send(WebhookRefusal(reply));
    TPW_ASSERT(reply.endpoints.size() == 1);
    if (!deleting) return responder.Send(JsonBody(http::status::ok, EndpointJson(reply.endpoints[0])));
    if (deliverer_ != nullptr) deliverer_->EndpointsChanged();
    responder.Send(JsonBody(http::status::ok,
                            bj::object{{"id", EndpointIdText(reply.endpoints[0].endpoint.id)},
                                       {"object", "webhook_endpoint"},
                                       {"deleted", true}}));
  });
}

void Service::CreateWebhookEndpoint(const RequestContext& context, const Responder& responder) {
  ApiResult<engine::WebhookEndpoint> wanted = DecodeEndpointCreateBody(context.request.body());
  if (!wanted.ok()) return responder.Send(ErrorResponse(wanted.error()));
  engine::WebhookCommand command;
  command.kind = engine::WebhookCommandKind::create_endpoint;
  command.endpoint = std::move(wanted.value());
  CallWithNewSecret(std::move(command), responder, http::status::created);
}

// Create and roll: the server makes the secret, and the answer shows it this once.
void Service::CallWithNewSecret(engine::WebhookCommand command, const Responder& responder,
                                http::status status) {
  crypto::RandomBytes(command.endpoint.secret);
  CallWebhooks(std::move(command), responder, [this, responder, status](engine::WebhookReply& reply) {
    if (reply.error != WebhookError::ok) return responder.Send(WebhookRefusal(reply));
    TPW_ASSERT(reply.endpoints.size() == 1);
    engine::WebhookEndpoint& e = reply.endpoints[0].endpoint;
    if (deliverer_ != nullptr) deliverer_->EndpointsChanged();
    responder.Send(JsonBody(status, EndpointJsonWithSecret(e, reply.endpoints[0])));
  });
}

// A new signing secret, shown this once; the one it replaces keeps signing beside it for the
// time asked (docs/webhooks.md, "Rolling the secret").
void Service::RollWebhookSecret(const RequestContext& context, uint64_t id,
                                const Responder& responder) {
  ApiResult<uint64_t> overlap_ms = DecodeRollSecretBody(context.request.body());
  if (!overlap_ms.ok()) return responder.Send(ErrorResponse(overlap_ms.error()));
  engine::WebhookCommand command;
  command.kind = engine::WebhookCommandKind::update_endpoint;
  command.endpoint_id = id;
  command.update = engine::endpoint_fields::kSecret;
  command.previous_secret_for_ms = overlap_ms.value();
  CallWithNewSecret(std::move(command), responder, http::status::ok);
}

void Service::UpdateWebhookEndpoint(const RequestContext& context, uint64_t id,
                                    const Responder& responder) {
  ApiResult<EndpointUpdate> update = DecodeEndpointUpdateBody(context.request.body());
  if (!update.ok()) return responder.Send(ErrorResponse(update.error()));
  engine::WebhookCommand command;
  command.kind = engine::WebhookCommandKind::update_endpoint;
  command.endpoint_id = id;
  command.endpoint = std::move(update.value().values);
  command.update = update.value().fields;
  CallWebhooks(std::move(command), responder, [this, responder](engine::WebhookReply& reply) {
    if (reply.error != WebhookError::ok) return responder.Send(WebhookRefusal(reply));
    if (deliverer_ != nullptr) deliverer_->EndpointsChanged();
    responder.Send(JsonBody(http::status::ok, EndpointJson(reply.endpoints.at(0))));
  });
}

void Service::WebhookDeliveries(const RequestContext& context, uint64_t id,
                                const Responder& responder) {
  ApiResult<DeliveriesQuery> query = DecodeDeliveriesQuery(context.match.query);
  if (!query.ok()) return responder.Send(ErrorResponse(query.error()));
  engine::WebhookCommand command;
  command.kind = engine::WebhookCommandKind::deliveries;
  command.endpoint_id = id;
  command.before_seq = query.value().before_seq;
  command.limit = query.value().limit;
  command.event_id = query.value().event_id;
  CallWebhooks(std::move(command), responder, [responder, id](engine::WebhookReply& reply) {
    if (reply.error != WebhookError::ok) return responder.Send(WebhookRefusal(reply));
    bj::array items;
    for (const engine::DeliveryLogEntry& entry : reply.deliveries) items.push_back(DeliveryJson(entry));
    bj::object out{{"endpoint_id", EndpointIdText(id)}, {"deliveries", std::move(items)}};
    out["next_cursor"] = reply.has_more && !reply.deliveries.empty()
                             ? bj::value(std::to_string(reply.deliveries.back().seq))
                             : bj::value(nullptr);
    responder.Send(JsonBody(http::status::ok, out));
  });
}

void Service::ResendEvent(const RequestContext& context, uint64_t id, const Responder& responder) {
  ApiResult<uint64_t> event = DecodeResendBody(context.request.body());
  if (!event.ok()) return responder.Send(ErrorResponse(event.error()));
  engine::WebhookCommand command;
  command.kind = engine::WebhookCommandKind::resend;
  command.endpoint_id = id;
  command.event_id = event.value();
  CallWebhooks(std::move(command), responder,
               [this, responder, id, event_id = event.value()](engine::WebhookReply& reply) {
                 if (reply.error != WebhookError::ok) return responder.Send(WebhookRefusal(reply));
                 if (deliverer_ != nullptr) deliverer_->Resend(id, event_id);
                 responder.Send(JsonBody(http::status::accepted,
                                         bj::object{{"endpoint_id", EndpointIdText(id)},
                                                    {"event_id", EventIdText(event_id)},
                                                    {"status", "scheduled"}}));
               });
}

void Service::PublishTestEvents(const RequestContext& context, const Responder& responder) {
  ApiResult<TestEvents> wanted = DecodeTestEventsBody(context.request.body());
  if (!wanted.ok()) return responder.Send(ErrorResponse(wanted.error()));
  engine::WebhookCommand command;
  command.kind = engine::WebhookCommandKind::publish_test_events;
  command.count = wanted.value().count;
  command.type = wanted.value().type;
  command.body = std::move(wanted.value().data);
  CallWebhooks(std::move(command), responder, [responder](engine::WebhookReply& reply) {
    if (reply.error != WebhookError::ok) return responder.Send(WebhookRefusal(reply));
    responder.Send(JsonBody(http::status::created,
                            bj::object{{"first_event_id", EventIdText(reply.first_event_id)},
                                       {"last_event_id", EventIdText(reply.last_event_id)},
                                       {"count", reply.last_event_id - reply.first_event_id + 1}}));
  });
}

}  // namespace tpw::api
