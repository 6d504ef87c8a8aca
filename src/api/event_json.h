// An outbox event as JSON, the same in the webhook body, the events list and the event stream:
//   {"id": "evt_42", "type": "payment.succeeded", "created": 1717000000, "data": {...}}
// `created` is Unix seconds (as Stripe's). `data` depends on the event's payload format: format 1
// (engine::kEventFormatJson) is the payload's JSON object itself; other formats are rendered by
// the function registered for them (format 2: payment events, registered by the payments API);
// a format nobody registered renders as {"format": N, "payload": "<base64url>"}.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "engine/outbox.h"

namespace tpw::api {

// Renders a payload of `format` as the text of one JSON object. Registered once at start-up
// (before the server runs); the function must be thread-safe (it runs on I/O and deliverer
// threads) and must return a JSON object's text.
using EventRenderer = std::function<std::string(std::span<const uint8_t> payload)>;
void RegisterEventRenderer(uint8_t format, EventRenderer render_json_object);

// The event's `data` object as JSON text.
std::string EventDataJson(const engine::OutboxEvent& event);
// The whole event as JSON text (no spaces, no newline).
std::string EventJson(const engine::OutboxEvent& event);

}  // namespace tpw::api
