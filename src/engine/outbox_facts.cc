#include "engine/outbox_facts.h"

#include <algorithm>

#include "engine/facts.h"

namespace tpw::engine {
namespace {

void PutHeader(BinaryWriter& w) { PutVersionedHeader(w, kOutboxFactVersion); }

bool HeaderOk(BinaryReader& r) { return VersionedHeaderOk(r, kOutboxFactVersion); }

// An endpoint's flags byte (reserved, always 0, before secrets could be rolled).
constexpr uint8_t kEndpointHasPreviousSecret = 1;

}  // namespace

// Endpoint: id u64, created_ms u64, updated_ms u64, created_after_event u64, enabled u8 (0/1),
// flags u8 (bit 0: a previous secret follows; other bits 0), filter count u16 (1..64), reserved
// u32 (0), secret (32), url (string), description (string), filter entries (strings), then with
// flag bit 0: previous secret (32), previous_secret_expires_ms u64 (≥ 1).
void EncodeEndpoint(const WebhookEndpoint& e, BinaryWriter& w) {
  w.U64(e.id);
  w.U64(e.created_ms);
  w.U64(e.updated_ms);
  w.U64(e.created_after_event);
  w.U8(e.enabled ? 1 : 0);
  const bool has_previous = e.previous_secret_expires_ms != 0;
  w.U8(has_previous ? kEndpointHasPreviousSecret : 0);
  w.U16(static_cast<uint16_t>(e.filter.size()));
  w.U32(0);
  w.Bytes(e.secret);
  w.String(e.url);
  w.String(e.description);
  for (const std::string& entry : e.filter) w.String(entry);
  if (has_previous) {
    w.Bytes(e.previous_secret);
    w.U64(e.previous_secret_expires_ms);
  }
}

std::optional<WebhookEndpoint> DecodeEndpoint(BinaryReader& r) {
  WebhookEndpoint e;
  e.id = r.U64();
  e.created_ms = r.U64();
  e.updated_ms = r.U64();
  e.created_after_event = r.U64();
  const uint8_t enabled = r.U8();
  const uint8_t flags = r.U8();
  const uint16_t filters = r.U16();
  const uint32_t reserved32 = r.U32();
  const std::span<const uint8_t> secret = r.Bytes(kWebhookSecretBytes);
  if (!r.ok() || enabled > 1 || (flags & ~kEndpointHasPreviousSecret) != 0 || reserved32 != 0 ||
      filters > kWebhookFilterEntriesMax) {
    return std::nullopt;
  }
  std::copy(secret.begin(), secret.end(), e.secret.begin());
  e.enabled = enabled == 1;
  e.url = r.String(kWebhookUrlBytesMax);
  e.description = r.String(kWebhookDescriptionBytesMax);
  for (uint16_t i = 0; i < filters && r.ok(); ++i) {
    e.filter.push_back(r.String(kEventTypeBytesMax));
  }
  if ((flags & kEndpointHasPreviousSecret) != 0) {
    const std::span<const uint8_t> previous = r.Bytes(kWebhookSecretBytes);
    e.previous_secret_expires_ms = r.U64();
    if (!r.ok() || e.previous_secret_expires_ms == 0) return std::nullopt;
    std::copy(previous.begin(), previous.end(), e.previous_secret.begin());
  }
  if (!r.ok() || !ValidEndpoint(e)) return std::nullopt;
  return e;
}

// Record: endpoint u64, event u64, time_ms u64, next_retry_ms u64, attempt u32, duration_ms
// u32, http_status u16, outcome u8 (1..3), reserved u8 (0), error (string, ≤ 200 bytes).
void EncodeDeliveryRecord(const DeliveryRecord& d, BinaryWriter& w) {
  w.U64(d.endpoint_id);
  w.U64(d.event_id);
  w.U64(d.time_ms);
  w.U64(d.next_retry_ms);
  w.U32(d.attempt);
  w.U32(d.duration_ms);
  w.U16(d.http_status);
  w.U8(static_cast<uint8_t>(d.outcome));
  w.U8(0);
  w.String(d.error);
}

std::optional<DeliveryRecord> DecodeDeliveryRecord(BinaryReader& r) {
  DeliveryRecord d;
  d.endpoint_id = r.U64();
  d.event_id = r.U64();
  d.time_ms = r.U64();
  d.next_retry_ms = r.U64();
  d.attempt = r.U32();
  d.duration_ms = r.U32();
  d.http_status = r.U16();
  const uint8_t outcome = r.U8();
  const uint8_t reserved = r.U8();
  d.error = r.String(kDeliveryErrorBytesMax);
  if (!r.ok() || reserved != 0 || outcome < 1 || outcome > 3) return std::nullopt;
  d.outcome = static_cast<DeliveryOutcome>(outcome);
  if (!ValidDeliveryRecord(d)) return std::nullopt;
  return d;
}

// webhook_endpoint: header, change u8 (1..3), reserved u8 and u16 (0), time_ms u64, endpoint.
std::vector<uint8_t> EncodeEndpointFact(const EndpointFact& fact) {
  BinaryWriter w;
  PutHeader(w);
  w.U8(static_cast<uint8_t>(fact.change));
  w.U8(0);
  w.U16(0);
  w.U64(fact.time_ms);
  EncodeEndpoint(fact.endpoint, w);
  return w.Take();
}

std::optional<EndpointFact> DecodeEndpointFact(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  if (!HeaderOk(r)) return std::nullopt;
  EndpointFact fact;
  const uint8_t change = r.U8();
  const uint8_t reserved8 = r.U8();
  const uint16_t reserved16 = r.U16();
  fact.time_ms = r.U64();
  if (!r.ok() || change < 1 || change > 3 || reserved8 != 0 || reserved16 != 0) {
    return std::nullopt;
  }
  fact.change = static_cast<EndpointChange>(change);
  std::optional<WebhookEndpoint> endpoint = DecodeEndpoint(r);
  if (!endpoint || !r.AtEndOk()) return std::nullopt;
  fact.endpoint = std::move(*endpoint);
  return fact;
}

// outbox_test_events: header, count u32 (1..10000), time_ms u64, first_event_id u64 (≥ 1),
// type (string "test.…"), body (string, ≤ 16 KiB).
std::vector<uint8_t> EncodeTestEventsFact(const TestEventsFact& fact) {
  BinaryWriter w;
  PutHeader(w);
  w.U32(fact.count);
  w.U64(fact.time_ms);
  w.U64(fact.first_event_id);
  w.String(fact.type);
  w.String(fact.body);
  return w.Take();
}

std::optional<TestEventsFact> DecodeTestEventsFact(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  if (!HeaderOk(r)) return std::nullopt;
  TestEventsFact fact;
  fact.count = r.U32();
  fact.time_ms = r.U64();
  fact.first_event_id = r.U64();
  fact.type = r.String(kEventTypeBytesMax);
  fact.body = r.String(kTestEventBodyBytesMax);
  if (!r.AtEndOk() || fact.count == 0 || fact.count > kTestEventsPerRequestMax ||
      fact.first_event_id == 0 || !ValidTestEventType(fact.type)) {
    return std::nullopt;
  }
  return fact;
}

// webhook_deliveries: header, count u32 (1..8192), time_ms u64, records.
std::vector<uint8_t> EncodeDeliveriesFact(const DeliveriesFact& fact) {
  BinaryWriter w;
  PutHeader(w);
  w.U32(static_cast<uint32_t>(fact.records.size()));
  w.U64(fact.time_ms);
  for (const DeliveryRecord& record : fact.records) EncodeDeliveryRecord(record, w);
  return w.Take();
}

std::optional<DeliveriesFact> DecodeDeliveriesFact(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  if (!HeaderOk(r)) return std::nullopt;
  DeliveriesFact fact;
  const uint32_t count = r.U32();
  fact.time_ms = r.U64();
  // A record is at least 44 bytes: a count the bytes cannot hold is refused before reserving.
  if (!r.ok() || count == 0 || count > kDeliveryRecordsPerFactMax || count > r.remaining() / 44) {
    return std::nullopt;
  }
  fact.records.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    std::optional<DeliveryRecord> record = DecodeDeliveryRecord(r);
    if (!record) return std::nullopt;
    fact.records.push_back(std::move(*record));
  }
  if (!r.AtEndOk()) return std::nullopt;
  return fact;
}

// webhook_resend: header, reserved u32 (0), time_ms u64, endpoint u64 (≥ 1), event u64 (≥ 1).
std::vector<uint8_t> EncodeResendFact(const ResendFact& fact) {
  BinaryWriter w;
  PutHeader(w);
  w.U32(0);
  w.U64(fact.time_ms);
  w.U64(fact.endpoint_id);
  w.U64(fact.event_id);
  return w.Take();
}

std::optional<ResendFact> DecodeResendFact(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  if (!HeaderOk(r)) return std::nullopt;
  ResendFact fact;
  const uint32_t reserved = r.U32();
  fact.time_ms = r.U64();
  fact.endpoint_id = r.U64();
  fact.event_id = r.U64();
  if (!r.AtEndOk() || reserved != 0 || fact.endpoint_id == 0 || fact.event_id == 0) {
    return std::nullopt;
  }
  return fact;
}

}  // namespace tpw::engine
