// Webhook and event endpoint inputs (docs/api.md, "Webhooks" and "Events"), the text forms of
// their ids and secrets, and the signature scheme (docs/webhooks.md, "Signature"). Pure
// functions like body.h (no I/O, no engine), fuzzed by fuzz/api_body_fuzz.cc.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/body.h"
#include "engine/outbox.h"
#include "engine/webhook_command.h"

namespace tpw::api {

// ---- Ids and secrets ----------------------------------------------------------------------

// "evt_42" ↔ 42, "we_3" ↔ 3. Parsing takes the prefixed form or the bare decimal (≥ 1, no sign,
// no leading zero); nullopt otherwise.
std::string EventIdText(uint64_t id);
std::optional<uint64_t> ParseEventId(std::string_view text);
// A position before an event: an event id, or "0" / "evt_0" for before the first.
std::optional<uint64_t> ParseEventCursor(std::string_view text);
std::string EndpointIdText(uint64_t id);
std::optional<uint64_t> ParseEndpointId(std::string_view text);

// "whsec_" + base64url of the 32 random bytes: the text shown once at creation. The HMAC key
// is this text's bytes, as the receiver has it (docs/webhooks.md).
std::string SecretText(std::span<const uint8_t, engine::kWebhookSecretBytes> secret);

// ---- Signature -----------------------------------------------------------------------------

// TPW-Signature: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret text, "<t>.<body>")>".
std::string SignatureHeader(std::string_view secret_text, uint64_t unix_seconds,
                            std::string_view body);

enum class SignatureCheck : uint8_t { ok, malformed, mismatch, too_old };
// What a receiver does: parses the header (v1 entries may repeat; one must match), checks the
// HMAC in constant time, and that |now - t| ≤ tolerance.
SignatureCheck VerifySignatureHeader(std::string_view header, std::string_view secret_text,
                                     std::string_view body, uint64_t now_unix_seconds,
                                     uint64_t tolerance_seconds);

// ---- Webhook URLs ---------------------------------------------------------------------------

struct WebhookUrl {
  std::string host;    // a name, an IPv4 address, or an IPv6 address without brackets
  uint16_t port = 80;
  std::string target;  // path and query, "/" at least
  std::string host_header;  // "host" or "host:port" as the Host header carries it
};

// "http://host[:port][/path][?query]": printable ASCII, at most 2048 bytes, no user info, no
// fragment. https is refused with what to do (the deliverer speaks no TLS yet).
ApiResult<WebhookUrl> ParseWebhookUrl(std::string_view text);

// ---- Bodies and queries ---------------------------------------------------------------------

// POST /v1/webhook_endpoints: {"url", "enabled_events" (default ["*"]), "description",
// "enabled" (default true)}. The secret is not the caller's: the server makes it.
ApiResult<engine::WebhookEndpoint> DecodeEndpointCreateBody(std::string_view body);

struct EndpointUpdate {
  engine::WebhookEndpoint values;
  uint8_t fields = 0;  // engine::endpoint_fields bits
};
// POST /v1/webhook_endpoints/{id}: any of url, enabled_events, description, enabled (at least
// one).
ApiResult<EndpointUpdate> DecodeEndpointUpdateBody(std::string_view body);

// POST /v1/webhook_endpoints/{id}/roll_secret: {"previous_secret_expires_in": seconds} (0..7
// days, an integer; default, and with no body, kPreviousSecretSecondsDefault): how long the
// replaced secret keeps signing beside the new one, in ms. 0 stops it at once (a leaked secret).
inline constexpr uint64_t kPreviousSecretSecondsDefault = 24 * 3600;
ApiResult<uint64_t> DecodeRollSecretBody(std::string_view body);

// TPW-Signature with the endpoint's secrets: the secret's v1 entry, then the previous secret's
// while it signs (now_ms < previous_secret_expires_ms).
std::string EndpointSignatureHeader(std::string_view secret_text,
                                    std::string_view previous_secret_text,
                                    uint64_t previous_secret_expires_ms, uint64_t now_ms,
                                    std::string_view body);

// POST /v1/webhook_endpoints/{id}/resend: {"event_id": "evt_42"}.
ApiResult<uint64_t> DecodeResendBody(std::string_view body);

struct TestEvents {
  uint32_t count = 1;
  std::string type = "test.event";
  std::string data = "{}";  // the JSON object, serialized
};
// POST /v1/events/test: {"count" (1..10000, default 1), "type" ("test.…", default
// "test.event"), "data" (a JSON object, default {})}.
ApiResult<TestEvents> DecodeTestEventsBody(std::string_view body);

struct EventsQuery {
  std::optional<uint64_t> after;  // events with ids above it (absent: the list starts at the
                                  // oldest retained, the stream at the next new event)
  uint32_t limit = 100;   // 1..1000
  std::vector<std::string> types;  // filter entries (engine::ValidEventFilterEntry); empty: all
};
// GET /v1/events: after (an event id), limit, type (comma-separated filter entries). The
// event stream also takes Last-Event-ID (the caller puts it in `after` when no after= is
// given).
ApiResult<EventsQuery> DecodeEventsQuery(std::string_view query);

struct DeliveriesQuery {
  uint64_t before_seq = 0;  // entries older than this cursor; 0 = newest first
  uint32_t limit = 100;     // 1..1000
  uint64_t event_id = 0;    // only this event's attempts; 0 = all
};
// GET /v1/webhook_endpoints/{id}/deliveries: limit, after (the previous page's next_cursor),
// event_id.
ApiResult<DeliveriesQuery> DecodeDeliveriesQuery(std::string_view query);

// A `{id}` path segment of /v1/webhook_endpoints (400 invalid_parameter unless "we_N" or N).
ApiResult<uint64_t> DecodeEndpointPathId(std::string_view text);
// A `{id}` path segment of /v1/events (400 invalid_parameter unless "evt_N" or N).
ApiResult<uint64_t> DecodeEventPathId(std::string_view text);

}  // namespace tpw::api
