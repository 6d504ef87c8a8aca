// The outbox: the engine's event log for webhooks and the event stream (docs/webhooks.md), and
// the webhook endpoints with what each still has to deliver. Sequencer state like the ledger's:
// changed only on the sequencer thread, rebuilt by replay, saved in snapshots.
//
// Events are not journaled as such. A fact that produces events (a payment fact, or the outbox's
// own test-events fact) publishes them when it is executed and again when it is replayed, so ids
// (1, 2, 3, … in publication order) and contents come out the same after a restart. Readers on
// other threads (the event stream, the events list, the webhook deliverer) see an event only
// once the group that produced it is durable (MarkDurable), so nothing a crash could undo is
// ever shown or delivered.
//
// Retention (docs/webhooks.md, "Retention"): an event is kept at least `retention_ms` and until
// every enabled endpoint has finished with it (delivered or given up), within a hard cap of
// events and bytes; over the cap the oldest events go first, finished or not, and are counted.
//
// Thread-safety: Outbox's reads (Read, ReadOne, durable_id, window) and MarkDurable may be
// called from any thread; everything else, and all of WebhookState, only from the sequencer
// (or recovery).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/state_io.h"

namespace tpw::engine {

// ---- Limits ---------------------------------------------------------------------------------

// Event type: 1..64 bytes of lower-case dot-separated words ("payment.succeeded").
inline constexpr size_t kEventTypeBytesMax = 64;
// One event's payload (a payment event's encoding, or a test event's JSON object).
inline constexpr size_t kEventPayloadBytesMax = 64 * 1024;
// Webhook endpoints at once (Stripe allows 16 per account).
inline constexpr size_t kWebhookEndpointsMax = 32;
inline constexpr size_t kWebhookUrlBytesMax = 2048;
inline constexpr size_t kWebhookDescriptionBytesMax = 512;
// Entries of an endpoint's event filter.
inline constexpr size_t kWebhookFilterEntriesMax = 64;
// Random bytes of an endpoint's signing secret (its text is "whsec_" + base64url of them).
inline constexpr size_t kWebhookSecretBytes = 32;
// Longest a rolled endpoint secret keeps signing beside the new one (7 days).
inline constexpr uint64_t kWebhookSecretOverlapMsMax = uint64_t{7} * 24 * 3600 * 1000;
// Recent attempts kept per endpoint for GET /v1/webhook_endpoints/{id}/deliveries.
inline constexpr size_t kDeliveryLogPerEndpointMax = 10'000;
// An attempt's error text ("connection refused", "timed out after 10000 ms", …).
inline constexpr size_t kDeliveryErrorBytesMax = 200;
// Attempt outcomes in one record_outcomes command (one fact).
inline constexpr size_t kDeliveryRecordsPerFactMax = 8192;
// POST /v1/events/test: events per request and the JSON body's size.
inline constexpr uint32_t kTestEventsPerRequestMax = 10'000;
inline constexpr size_t kTestEventBodyBytesMax = 16 * 1024;

// Payload formats. The engine carries the bytes; the API renders them (api/event_json.h).
inline constexpr uint8_t kEventFormatJson = 1;      // the UTF-8 text of a JSON object
inline constexpr uint8_t kEventFormatPayments = 2;  // payments::EncodeEvent bytes

// "payment.succeeded": 1..64 bytes, words of [a-z0-9_] joined by single dots.
bool ValidEventType(std::string_view type);
// One filter entry: "*" (every event), an event type, or a prefix wildcard "payment.*".
bool ValidEventFilterEntry(std::string_view entry);
// A test event's type (POST /v1/events/test): "test." and more, so it never looks like a real one.
bool ValidTestEventType(std::string_view type);
// Whether an event of `type` passes `filter` (any entry matches).
bool EventTypeMatches(std::span<const std::string> filter, std::string_view type);

// ---- Events ---------------------------------------------------------------------------------

struct OutboxEvent {
  uint64_t id = 0;       // 1, 2, 3, … in publication order; never reused
  uint64_t time_ms = 0;  // when the producing fact was executed (Unix ms)
  std::string type;
  uint8_t format = kEventFormatJson;
  std::vector<uint8_t> payload;
};
using OutboxEventPtr = std::shared_ptr<const OutboxEvent>;

struct OutboxLimits {
  uint64_t retention_ms = 3ull * 24 * 3600 * 1000;  // kept at least this long
  uint64_t events_max = 1'000'000;                  // hard cap: events retained
  uint64_t bytes_max = uint64_t{512} << 20;         // hard cap: type + payload bytes retained
};

struct OutboxCounters {
  uint64_t published = 0;
  uint64_t pruned = 0;               // past retention and finished by every endpoint
  uint64_t dropped_over_cap = 0;     // dropped to stay within the cap
  uint64_t dropped_undelivered = 0;  // of those, (endpoint, event) pairs not yet finished
};

class Outbox {
 public:
  // ---- sequencer
  // Appends an event and returns its id.
  uint64_t Append(uint64_t time_ms, std::string_view type, uint8_t format,
                  std::vector<uint8_t> payload);
  // The oldest retained event (sequencer only: it is the one writer).
  const OutboxEvent* Front() const;
  OutboxEventPtr Find(uint64_t id) const;  // sequencer; null if not retained
  // Removes the oldest event; `over_cap` says why (for the counters).
  void PopFront(bool over_cap);
  bool OverCap(const OutboxLimits& limits) const;
  // Back to empty, ids from 1 (recovery starts over).
  void Reset();
  void CountUndeliveredDrop(uint64_t pairs) { counters_.dropped_undelivered += pairs; }
  uint64_t next_id() const { return next_id_; }
  uint64_t last_id() const { return next_id_ - 1; }
  uint64_t size() const;
  uint64_t bytes() const { return bytes_; }
  const OutboxCounters& counters() const { return counters_; }

  // ---- any thread
  // Events with id > `after` that are durable, oldest first, at most `limit`. When `after` is
  // below the oldest retained event, the page starts at the oldest retained one.
  std::vector<OutboxEventPtr> Read(uint64_t after, size_t limit) const;
  OutboxEventPtr ReadOne(uint64_t id) const;  // null unless retained and durable
  // Events up to `id` are durable (the journal thread, after each group commit; monotonic).
  void MarkDurable(uint64_t id);
  uint64_t durable_id() const;
  // The oldest retained id (next id when empty) and the durable id, read together.
  std::pair<uint64_t, uint64_t> Window() const;

  // ---- snapshots (sequencer, pipeline drained)
  void Save(ledger::StateSink& sink) const;
  bool Load(ledger::StateSource& source);

 private:
  static uint64_t BytesOf(const OutboxEvent& e) { return e.type.size() + e.payload.size(); }

  // Guards the deque's shape and durable_id_ against concurrent readers; the sequencer writes
  // under it and reads without it (it is the only writer).
  mutable std::mutex mutex_;
  std::deque<OutboxEventPtr> events_;  // ids first_id_, first_id_ + 1, …, next_id_ - 1
  uint64_t first_id_ = 1;
  uint64_t next_id_ = 1;
  uint64_t durable_id_ = 0;
  uint64_t bytes_ = 0;
  OutboxCounters counters_;
};

// ---- Webhook endpoints and what they still have to deliver -------------------------------

struct WebhookEndpoint {
  uint64_t id = 0;  // 1, 2, 3, … ("we_1" in the API)
  std::string url;  // http://host[:port][/path] (checked by the API, api/webhook_body.h)
  std::array<uint8_t, kWebhookSecretBytes> secret{};
  // After a secret roll: the secret it replaced, which also signs every attempt until
  // previous_secret_expires_ms (Unix ms; 0: there is none), so receivers can switch over.
  std::array<uint8_t, kWebhookSecretBytes> previous_secret{};
  uint64_t previous_secret_expires_ms = 0;
  std::vector<std::string> filter;  // ValidEventFilterEntry each, 1..kWebhookFilterEntriesMax
  std::string description;
  bool enabled = true;
  uint64_t created_ms = 0;
  uint64_t updated_ms = 0;
  // The last event id when it was created: it is sent only events published after.
  uint64_t created_after_event = 0;
};

// Sizes and entries within the limits above (the engine's own check; the API checks the URL).
bool ValidEndpoint(const WebhookEndpoint& endpoint);

enum class DeliveryOutcome : uint8_t {
  delivered = 1,  // the receiver answered 2xx
  failed = 2,     // any other answer, a timeout or a connection error; retried at next_retry_ms
  given_up = 3,   // failed, and the event is older than the deliverer's maximum age
};
std::string_view DeliveryOutcomeName(DeliveryOutcome outcome);

// One attempt's outcome, as the deliverer reports it (journaled, docs/journal-format.md).
struct DeliveryRecord {
  uint64_t endpoint_id = 0;
  uint64_t event_id = 0;
  uint64_t time_ms = 0;  // when the attempt ended
  DeliveryOutcome outcome = DeliveryOutcome::delivered;
  uint16_t http_status = 0;  // 0: no response
  uint32_t attempt = 1;      // 1 for the first attempt of this event at this endpoint
  uint32_t duration_ms = 0;
  uint64_t next_retry_ms = 0;  // failed: when the deliverer will try again
  std::string error;           // "" or why there was no 2xx answer (≤ kDeliveryErrorBytesMax)
};
bool ValidDeliveryRecord(const DeliveryRecord& record);

struct DeliveryLogEntry {
  uint64_t seq = 0;  // 1, 2, 3, … per endpoint: the cursor of the deliveries list
  DeliveryRecord record;
};

// An event that failed at least once (or was re-sent by hand) and is due again.
struct PendingRetry {
  uint32_t attempts = 0;       // attempts made so far
  uint64_t next_retry_ms = 0;  // due time (Unix ms)
  uint64_t since_ms = 0;       // the give-up age counts from here (event time, or the re-send)
};

// A sorted set of event ids, stored as a bitmap from the lowest id: unfinished deliveries are
// ids close together, so a million of them take 125 KiB, not 40 MiB of tree nodes.
class EventIdSet {
 public:
  bool Insert(uint64_t id);  // false if it was there
  bool Erase(uint64_t id);   // false if it was not
  bool Contains(uint64_t id) const;
  std::optional<uint64_t> Min() const;
  uint64_t size() const { return count_; }
  void Clear();
  // Ascending; stops when `f` returns false.
  template <typename F>
  void ForEach(F f) const {
    for (size_t w = 0; w < words_.size(); ++w) {
      uint64_t bits = words_[w];
      while (bits != 0) {
        const int bit = __builtin_ctzll(bits);
        bits &= bits - 1;
        if (!f(base_ + w * 64 + static_cast<uint64_t>(bit))) return;
      }
    }
  }
  void Save(ledger::StateSink& sink) const;
  bool Load(ledger::StateSource& source);
  friend bool operator==(const EventIdSet&, const EventIdSet&) = default;

 private:
  void Trim();
  uint64_t base_ = 0;  // id of bit 0 of words_[0]; a multiple of 64
  std::deque<uint64_t> words_;  // first and last words are non-zero (or none)
  uint64_t count_ = 0;
};

struct EndpointCounters {
  uint64_t delivered = 0;
  uint64_t failed_attempts = 0;
  uint64_t given_up = 0;
};

struct EndpointDeliveries {
  EventIdSet unfinished;                     // matching events not yet delivered or given up
  std::map<uint64_t, PendingRetry> retries;  // subset of `unfinished`
  std::deque<DeliveryLogEntry> log;          // newest at the back, ≤ kDeliveryLogPerEndpointMax
  uint64_t next_log_seq = 1;
  EndpointCounters counters;
};

struct WebhookEndpointState {
  WebhookEndpoint endpoint;
  EndpointDeliveries deliveries;
};

class WebhookState {
 public:
  const WebhookEndpointState* Find(uint64_t id) const;
  const std::map<uint64_t, WebhookEndpointState>& endpoints() const { return endpoints_; }
  uint64_t next_endpoint_id() const { return next_endpoint_id_; }

  // Adds a new endpoint (its id must be next_endpoint_id()); false if it does not fit.
  bool Create(const WebhookEndpoint& endpoint);
  // Replaces an endpoint's settings. Disabling forgets what it still had to deliver (a disabled
  // endpoint misses the events of that time, as in Stripe); a new filter drops unfinished events
  // it no longer matches (their types are looked up in `outbox`) and applies to events
  // published from now on.
  bool Update(const WebhookEndpoint& endpoint, const Outbox& outbox);
  bool Remove(uint64_t id);

  // An event was published: every enabled endpoint whose filter matches has it to deliver.
  void OnPublished(const OutboxEvent& event);
  // An event left the outbox over the cap: returns how many endpoints had not finished with it.
  uint64_t OnDropped(uint64_t event_id);
  // Applies one attempt's outcome (an unknown endpoint: ignored, as it was deleted since).
  void Record(const DeliveryRecord& record);
  // Makes `event_id` due again at `time_ms` for the endpoint (manual re-send).
  void Resend(uint64_t endpoint_id, uint64_t event_id, uint64_t time_ms);
  // The lowest event id an enabled endpoint has not finished with: retention keeps it.
  std::optional<uint64_t> OldestUnfinished() const;
  EndpointCounters Totals() const;
  uint64_t UnfinishedTotal() const;

  void Save(ledger::StateSink& sink) const;
  bool Load(ledger::StateSource& source);

 private:
  std::map<uint64_t, WebhookEndpointState> endpoints_;
  uint64_t next_endpoint_id_ = 1;
};

}  // namespace tpw::engine
