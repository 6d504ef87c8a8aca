// The events endpoints (docs/api.md, "Events"): the JSON list, one event, and the same list as
// Server-Sent Events (Accept: text/event-stream). They read the engine's outbox directly (no
// trip through the sequencer) and see only durable events.
#include <cctype>

#include "api/event_json.h"
#include "api/event_stream.h"
#include "api/metrics.h"
#include "api/service.h"
#include "api/webhook_body.h"
#include "api/webhook_deliverer.h"
#include "common/assert.h"

namespace tpw::api {
namespace {

// Events a list request looks through (with a type filter, a page may be short of `limit`
// and still have a next_cursor).
constexpr uint64_t kListScanMax = 100'000;
constexpr size_t kListReadPage = 1000;

bool WantsEventStream(const HttpRequest& request) {
  const std::string_view accept = request[http::field::accept];
  std::string lower(accept);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("text/event-stream") != std::string::npos;
}

ApiError EventNotFound() {
  return ApiError{http::status::not_found, error_type::kInvalidRequest, "event_not_found",
                  "no event has this id, or it is no longer retained (docs/webhooks.md, "
                  "\"Retention\")",
                  "id"};
}

}  // namespace

void Service::ListEvents(const RequestContext& context, const Responder& responder) {
  if (WantsEventStream(context.request)) return StreamEvents(context, responder);
  ApiResult<EventsQuery> query = DecodeEventsQuery(context.match.query);
  if (!query.ok()) return responder.Send(ErrorResponse(query.error()));
  const EventsQuery& q = query.value();
  std::string items;
  uint32_t count = 0;
  uint64_t last_seen = q.after.value_or(0);
  uint64_t scanned = 0;
  while (count < q.limit && scanned < kListScanMax) {
    const std::vector<engine::OutboxEventPtr> page = engine_.ReadEvents(last_seen, kListReadPage);
    if (page.empty()) break;
    for (const engine::OutboxEventPtr& e : page) {
      last_seen = e->id;
      ++scanned;
      if (q.types.empty() || engine::EventTypeMatches(q.types, e->type)) {
        if (count != 0) items += ',';
        items += EventJson(*e);
        ++count;
      }
      if (count == q.limit || scanned == kListScanMax) break;
    }
  }
  const bool more = engine_.EventsWindow().second > last_seen;
  std::string body = "{\"events\":[" + items + "],\"next_cursor\":";
  body += more ? "\"" + EventIdText(last_seen) + "\"}" : std::string("null}");
  responder.Send(JsonResponse(http::status::ok, std::move(body)));
}

void Service::GetEvent(const RequestContext& context, const Responder& responder) {
  ApiResult<uint64_t> id = DecodeEventPathId(context.match.id);
  if (!id.ok()) return responder.Send(ErrorResponse(id.error()));
  const engine::OutboxEventPtr event = engine_.ReadEvent(id.value());
  if (event == nullptr) return responder.Send(ErrorResponse(EventNotFound()));
  responder.Send(JsonResponse(http::status::ok, EventJson(*event)));
}

void Service::StreamEvents(const RequestContext& context, const Responder& responder) {
  TPW_ASSERT(event_hub_ != nullptr);
  ApiResult<EventsQuery> query = DecodeEventsQuery(context.match.query);
  if (!query.ok()) return responder.Send(ErrorResponse(query.error()));
  std::optional<uint64_t> after = query.value().after;
  // A reconnecting EventSource sends the last id it saw; it wins over the URL's after=.
  const std::string_view last_event_id = context.request["Last-Event-ID"];
  if (!last_event_id.empty()) {
    after = ParseEventCursor(last_event_id);
    if (!after) {
      return responder.Send(ErrorResponse(InvalidParameter(
          "Last-Event-ID is an event id such as evt_42 (the id: of the last event received)",
          "Last-Event-ID")));
    }
  }
  if (shutting_down_.load(std::memory_order_relaxed)) {
    return responder.Send(EngineErrorResponse(engine::EngineError::shutting_down));
  }
  HttpResponse header{http::status::ok, 11};
  header.set(http::field::content_type, "text/event-stream");
  header.set(http::field::cache_control, "no-store");
  header.set("X-Accel-Buffering", "no");  // proxies: pass events on at once
  responder.Stream(std::move(header), event_hub_->Open(after, std::move(query.value().types)),
                   event_hub_->settings());
}

std::string Service::WebhookMetrics() const {
  std::string out;
  if (event_hub_ != nullptr) {
    AppendMetric(out, "tpw_event_streams_open", "Server-Sent Event streams open now.", "gauge",
                  event_hub_->open_streams());
    AppendMetric(out, "tpw_event_streams_total", "Server-Sent Event streams opened.", "counter",
                  event_hub_->streams_total());
    AppendMetric(out, "tpw_event_streams_dropped_total",
                  "Event streams ended for falling too far behind.", "counter",
                  event_hub_->streams_dropped());
  }
  if (deliverer_ != nullptr) {
    const DelivererStats s = deliverer_->Stats();
    AppendMetric(out, "tpw_webhook_delivered_total", "Webhook attempts answered 2xx (this process).",
                  "counter", s.delivered);
    AppendMetric(out, "tpw_webhook_attempts_failed_total", "Failed webhook attempts (this process).",
                  "counter", s.failed_attempts);
    AppendMetric(out, "tpw_webhook_given_up_total", "Webhook deliveries given up (this process).",
                  "counter", s.given_up);
    AppendMetric(out, "tpw_webhook_attempts_in_flight", "Webhook attempts in flight.", "gauge",
                  s.in_flight);
    AppendMetric(out, "tpw_webhook_queued", "Events waiting for a first attempt or a retry.",
                  "gauge", s.queued);
    AppendMetric(out, "tpw_webhook_outcomes_unrecorded",
                  "Attempt outcomes not yet journaled.", "gauge", s.unrecorded);
    AppendMetric(out, "tpw_webhook_record_failures_total",
                  "Outcome batches the engine could not journal.", "counter", s.record_failures);
  }
  return out;
}

}  // namespace tpw::api
