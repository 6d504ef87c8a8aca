// Outbox and webhook facts (record types 20..23): what the engine journals when endpoints
// change, when test events are published, when the deliverer reports attempt outcomes and when
// an event is re-sent by hand. Byte layouts: docs/journal-format.md, "Outbox and webhook facts".
// Decoding is strict (version, reserved bytes, enum ranges, limits, exact length) and never
// trusts a length; every decoded fact encodes back to exactly its bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/codec.h"
#include "engine/outbox.h"

namespace tpw::engine {

inline constexpr uint8_t kOutboxFactVersion = 1;

enum class EndpointChange : uint8_t { created = 1, updated = 2, deleted = 3 };

// webhook_endpoint (20): the endpoint as it is after the change (deleted: as it was).
struct EndpointFact {
  EndpointChange change = EndpointChange::created;
  uint64_t time_ms = 0;
  WebhookEndpoint endpoint;
};

// outbox_test_events (21): `count` events of `type` with the JSON object `body`, ids
// first_event_id … first_event_id + count - 1.
struct TestEventsFact {
  uint64_t time_ms = 0;
  uint64_t first_event_id = 0;
  uint32_t count = 0;
  std::string type;
  std::string body;
};

// webhook_deliveries (22): attempt outcomes, in the order the deliverer reported them.
struct DeliveriesFact {
  uint64_t time_ms = 0;  // when the engine recorded them
  std::vector<DeliveryRecord> records;
};

// webhook_resend (23): an event made due again for an endpoint.
struct ResendFact {
  uint64_t time_ms = 0;
  uint64_t endpoint_id = 0;
  uint64_t event_id = 0;
};

std::vector<uint8_t> EncodeEndpointFact(const EndpointFact& fact);
std::optional<EndpointFact> DecodeEndpointFact(std::span<const uint8_t> bytes);
std::vector<uint8_t> EncodeTestEventsFact(const TestEventsFact& fact);
std::optional<TestEventsFact> DecodeTestEventsFact(std::span<const uint8_t> bytes);
std::vector<uint8_t> EncodeDeliveriesFact(const DeliveriesFact& fact);
std::optional<DeliveriesFact> DecodeDeliveriesFact(std::span<const uint8_t> bytes);
std::vector<uint8_t> EncodeResendFact(const ResendFact& fact);
std::optional<ResendFact> DecodeResendFact(std::span<const uint8_t> bytes);

// The pieces, shared with the snapshot section (outbox.cc).
void EncodeEndpoint(const WebhookEndpoint& endpoint, BinaryWriter& w);
std::optional<WebhookEndpoint> DecodeEndpoint(BinaryReader& r);
void EncodeDeliveryRecord(const DeliveryRecord& record, BinaryWriter& w);
std::optional<DeliveryRecord> DecodeDeliveryRecord(BinaryReader& r);

}  // namespace tpw::engine
