// Webhook and outbox requests to the engine (docs/webhooks.md): endpoints (create, update,
// delete, list, get), the delivery log, manual re-sends, test events, and the deliverer's side
// (its state at start, and the outcomes it reports). Every change is a journaled fact
// (outbox_facts.h), answered once durable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/outbox.h"

namespace tpw::engine {

enum class WebhookCommandKind : uint8_t {
  create_endpoint,      // `endpoint` (url, secret, filter, description, enabled); the engine
                        // assigns the id and stamps the times
  update_endpoint,      // `endpoint_id` and the fields named by `update`
  delete_endpoint,      // `endpoint_id`
  list_endpoints,
  get_endpoint,         // `endpoint_id`
  deliveries,           // `endpoint_id`: the delivery log, newest first (page below)
  resend,               // `endpoint_id`, `event_id`: due again now
  publish_test_events,  // `count` events of `type` with the JSON object `body`
  record_outcomes,      // the deliverer's attempt outcomes (`records`)
  delivery_state,       // the deliverer's start: every endpoint with its secret and work
};

// Which fields update_endpoint changes (bits).
namespace endpoint_fields {
inline constexpr uint8_t kUrl = 1;
inline constexpr uint8_t kFilter = 2;
inline constexpr uint8_t kEnabled = 4;
inline constexpr uint8_t kDescription = 8;
// A secret roll: `endpoint.secret` becomes the secret; the one it replaces keeps signing beside
// it for `previous_secret_for_ms` (0: it stops at once, as for a leaked secret).
inline constexpr uint8_t kSecret = 16;
}  // namespace endpoint_fields

struct WebhookCommand {
  WebhookCommandKind kind = WebhookCommandKind::list_endpoints;
  WebhookEndpoint endpoint;  // create; update: the new values of the fields in `update`
  uint8_t update = 0;
  uint64_t previous_secret_for_ms = 0;  // update with kSecret: ≤ kWebhookSecretOverlapMsMax
  uint64_t endpoint_id = 0;
  uint64_t event_id = 0;  // resend; deliveries: only this event's attempts when not 0
  // deliveries: entries with seq below `before_seq` (0 = from the newest), at most `limit`.
  uint64_t before_seq = 0;
  uint32_t limit = 0;
  // publish_test_events
  uint32_t count = 0;
  std::string type;
  std::string body;
  std::vector<DeliveryRecord> records;  // record_outcomes
};

enum class WebhookError : uint8_t {
  ok = 0,
  unknown_endpoint = 1,     // no endpoint has this id
  invalid = 2,              // a field is outside its limits (detail says which)
  too_many_endpoints = 3,   // kWebhookEndpointsMax exist
  unknown_event = 4,        // resend: the event is not (or no longer) retained
  endpoint_disabled = 5,    // resend to a disabled endpoint
  event_not_matching = 6,   // resend of an event the endpoint's filter excludes
};
std::string_view WebhookErrorName(WebhookError error);

// An endpoint as the API shows it: settings and a summary of its deliveries.
struct EndpointView {
  WebhookEndpoint endpoint;
  uint64_t unfinished = 0;  // events it still has to receive
  uint64_t retrying = 0;    // of those, events that failed and wait for a retry
  EndpointCounters counters;
};

// An endpoint as the deliverer needs it: settings with the secret, the events it still has to
// receive (ascending) and the retry schedule of those that failed before.
struct EndpointWork {
  WebhookEndpoint endpoint;
  std::vector<uint64_t> unfinished;
  std::vector<std::pair<uint64_t, PendingRetry>> retries;
};

struct WebhookReply {
  WebhookError error = WebhookError::ok;
  std::string detail;
  std::vector<EndpointView> endpoints;      // create/update/get/delete: the one; list: all
  std::vector<DeliveryLogEntry> deliveries;  // newest first
  bool has_more = false;                     // deliveries: older entries exist
  uint64_t first_event_id = 0;               // publish_test_events: the ids published
  uint64_t last_event_id = 0;
  std::vector<EndpointWork> work;            // delivery_state
  uint64_t as_of_event_id = 0;               // delivery_state: the last event published then
};

}  // namespace tpw::engine
