#include "engine/outbox.h"

#include <algorithm>

#include "common/assert.h"
#include "engine/outbox_facts.h"

namespace tpw::engine {

// ---- Event types and filters ----------------------------------------------------------------

namespace {

bool WordChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

// Words of WordChar joined by single dots: no leading, trailing or doubled dot.
bool DottedWords(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  char previous = '.';
  for (const char c : text) {
    if (c == '.' ? previous == '.' : !WordChar(c)) return false;
    previous = c;
  }
  return true;
}

}  // namespace

bool ValidEventType(std::string_view type) {
  return type.size() <= kEventTypeBytesMax && DottedWords(type);
}

bool ValidEventFilterEntry(std::string_view entry) {
  if (entry == "*") return true;
  if (entry.size() > kEventTypeBytesMax) return false;
  if (entry.ends_with(".*")) return DottedWords(entry.substr(0, entry.size() - 2));
  return DottedWords(entry);
}

bool ValidTestEventType(std::string_view type) {
  return type.starts_with("test.") && ValidEventType(type);
}

bool EventTypeMatches(std::span<const std::string> filter, std::string_view type) {
  for (const std::string& entry : filter) {
    if (entry == "*" || entry == type) return true;
    // "payment.*" matches "payment.succeeded" and "payment.refund.created", not "payment".
    if (entry.ends_with(".*") && type.size() > entry.size() - 1 &&
        type.starts_with(std::string_view(entry).substr(0, entry.size() - 1))) {
      return true;
    }
  }
  return false;
}

// ---- Outbox ---------------------------------------------------------------------------------

uint64_t Outbox::Append(uint64_t time_ms, std::string_view type, uint8_t format,
                        std::vector<uint8_t> payload) {
  auto event = std::make_shared<OutboxEvent>();
  event->id = next_id_;
  event->time_ms = time_ms;
  event->type = std::string(type);
  event->format = format;
  event->payload = std::move(payload);
  const uint64_t bytes = BytesOf(*event);
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
    ++next_id_;
    bytes_ += bytes;
  }
  ++counters_.published;
  return next_id_ - 1;
}

const OutboxEvent* Outbox::Front() const { return events_.empty() ? nullptr : events_.front().get(); }

OutboxEventPtr Outbox::Find(uint64_t id) const {
  if (id < first_id_ || id >= next_id_) return nullptr;
  return events_[id - first_id_];
}

void Outbox::PopFront(bool over_cap) {
  TPW_ASSERT(!events_.empty());
  OutboxEventPtr dropped;  // released outside the lock
  {
    std::lock_guard lock(mutex_);
    dropped = std::move(events_.front());
    events_.pop_front();
    ++first_id_;
    bytes_ -= BytesOf(*dropped);
  }
  ++(over_cap ? counters_.dropped_over_cap : counters_.pruned);
}

bool Outbox::OverCap(const OutboxLimits& limits) const {
  return !events_.empty() && (events_.size() > limits.events_max || bytes_ > limits.bytes_max);
}

void Outbox::Reset() {
  std::lock_guard lock(mutex_);
  events_.clear();
  first_id_ = 1;
  next_id_ = 1;
  durable_id_ = 0;
  bytes_ = 0;
  counters_ = OutboxCounters{};
}

uint64_t Outbox::size() const { return next_id_ - first_id_; }

std::vector<OutboxEventPtr> Outbox::Read(uint64_t after, size_t limit) const {
  std::vector<OutboxEventPtr> out;
  std::lock_guard lock(mutex_);
  uint64_t id = std::max(after + 1, first_id_);
  if (after == UINT64_MAX) return out;
  while (id <= durable_id_ && id < next_id_ && out.size() < limit) {
    out.push_back(events_[id - first_id_]);
    ++id;
  }
  return out;
}

OutboxEventPtr Outbox::ReadOne(uint64_t id) const {
  std::lock_guard lock(mutex_);
  if (id < first_id_ || id >= next_id_ || id > durable_id_) return nullptr;
  return events_[id - first_id_];
}

void Outbox::MarkDurable(uint64_t id) {
  std::lock_guard lock(mutex_);
  durable_id_ = std::max(durable_id_, std::min(id, next_id_ - 1));
}

uint64_t Outbox::durable_id() const {
  std::lock_guard lock(mutex_);
  return durable_id_;
}

std::pair<uint64_t, uint64_t> Outbox::Window() const {
  std::lock_guard lock(mutex_);
  return {first_id_, durable_id_};
}

// Snapshot section: first_id, next_id, counters (4), event count, then per event: time_ms,
// format, type length, type, payload length, payload (each number a u64).
void Outbox::Save(ledger::StateSink& sink) const {
  sink.U64(first_id_);
  sink.U64(next_id_);
  sink.U64(counters_.published);
  sink.U64(counters_.pruned);
  sink.U64(counters_.dropped_over_cap);
  sink.U64(counters_.dropped_undelivered);
  sink.U64(events_.size());
  for (const OutboxEventPtr& e : events_) {
    sink.U64(e->time_ms);
    sink.U64(e->format);
    sink.U64(e->type.size());
    sink.Write({reinterpret_cast<const uint8_t*>(e->type.data()), e->type.size()});
    sink.U64(e->payload.size());
    sink.Write(e->payload);
  }
}

bool Outbox::Load(ledger::StateSource& source) {
  uint64_t first = 0, next = 0, count = 0;
  OutboxCounters counters;
  if (!source.U64(first) || !source.U64(next) || !source.U64(counters.published) ||
      !source.U64(counters.pruned) || !source.U64(counters.dropped_over_cap) ||
      !source.U64(counters.dropped_undelivered) || !source.U64(count)) {
    return false;
  }
  if (first == 0 || next < first || next - first != count || count > source.remaining() / 32) {
    return false;
  }
  std::deque<OutboxEventPtr> events;
  uint64_t bytes = 0;
  for (uint64_t i = 0; i < count; ++i) {
    auto e = std::make_shared<OutboxEvent>();
    e->id = first + i;
    uint64_t format = 0, type_bytes = 0, payload_bytes = 0;
    if (!source.U64(e->time_ms) || !source.U64(format) || !source.U64(type_bytes)) return false;
    if (format == 0 || format > 255 || type_bytes > kEventTypeBytesMax) return false;
    e->format = static_cast<uint8_t>(format);
    e->type.resize(type_bytes);
    if (!source.Read({reinterpret_cast<uint8_t*>(e->type.data()), e->type.size()})) return false;
    if (!ValidEventType(e->type) || !source.U64(payload_bytes)) return false;
    if (payload_bytes > kEventPayloadBytesMax || payload_bytes > source.remaining()) return false;
    e->payload.resize(payload_bytes);
    if (!source.Read(e->payload)) return false;
    bytes += BytesOf(*e);
    events.push_back(std::move(e));
  }
  std::lock_guard lock(mutex_);
  events_ = std::move(events);
  first_id_ = first;
  next_id_ = next;
  durable_id_ = next - 1;  // a snapshot covers durable facts only
  bytes_ = bytes;
  counters_ = counters;
  return true;
}

// ---- Endpoints and delivery records ------------------------------------------------------------

bool ValidEndpoint(const WebhookEndpoint& e) {
  if (e.id == 0 || e.url.empty() || e.url.size() > kWebhookUrlBytesMax) return false;
  if (e.description.size() > kWebhookDescriptionBytesMax) return false;
  if (e.filter.empty() || e.filter.size() > kWebhookFilterEntriesMax) return false;
  return std::all_of(e.filter.begin(), e.filter.end(),
                     [](const std::string& f) { return ValidEventFilterEntry(f); });
}

std::string_view DeliveryOutcomeName(DeliveryOutcome outcome) {
  switch (outcome) {
    case DeliveryOutcome::delivered:
      return "delivered";
    case DeliveryOutcome::failed:
      return "failed";
    case DeliveryOutcome::given_up:
      return "given_up";
  }
  return "unknown";
}

bool ValidDeliveryRecord(const DeliveryRecord& r) {
  const auto outcome = static_cast<uint8_t>(r.outcome);
  return r.endpoint_id != 0 && r.event_id != 0 && outcome >= 1 && outcome <= 3 &&
         r.attempt != 0 && r.error.size() <= kDeliveryErrorBytesMax &&
         (r.outcome == DeliveryOutcome::failed || r.next_retry_ms == 0);
}

// ---- EventIdSet -------------------------------------------------------------------------------

bool EventIdSet::Contains(uint64_t id) const {
  if (words_.empty() || id < base_) return false;
  const uint64_t word = (id - base_) / 64;
  return word < words_.size() && (words_[word] >> ((id - base_) % 64) & 1) != 0;
}

bool EventIdSet::Insert(uint64_t id) {
  if (Contains(id)) return false;
  const uint64_t aligned = id - id % 64;
  if (words_.empty()) {
    base_ = aligned;
    words_.push_back(0);
  }
  while (aligned < base_) {
    words_.push_front(0);
    base_ -= 64;
  }
  while ((id - base_) / 64 >= words_.size()) words_.push_back(0);
  words_[(id - base_) / 64] |= uint64_t{1} << ((id - base_) % 64);
  ++count_;
  return true;
}

bool EventIdSet::Erase(uint64_t id) {
  if (!Contains(id)) return false;
  words_[(id - base_) / 64] &= ~(uint64_t{1} << ((id - base_) % 64));
  --count_;
  Trim();
  return true;
}

void EventIdSet::Trim() {
  while (!words_.empty() && words_.front() == 0) {
    words_.pop_front();
    base_ += 64;
  }
  while (!words_.empty() && words_.back() == 0) words_.pop_back();
  if (words_.empty()) base_ = 0;
}

std::optional<uint64_t> EventIdSet::Min() const {
  if (words_.empty()) return std::nullopt;
  return base_ + static_cast<uint64_t>(__builtin_ctzll(words_.front()));
}

void EventIdSet::Clear() {
  words_.clear();
  base_ = 0;
  count_ = 0;
}

void EventIdSet::Save(ledger::StateSink& sink) const {
  const std::vector<uint64_t> words(words_.begin(), words_.end());
  sink.U64(base_);
  sink.Vector(words);
}

bool EventIdSet::Load(ledger::StateSource& source) {
  uint64_t base = 0;
  std::vector<uint64_t> words;
  if (!source.U64(base) || !source.Vector(words) || base % 64 != 0) return false;
  if (!words.empty() && (words.front() == 0 || words.back() == 0)) return false;
  if (words.empty() && base != 0) return false;
  if (!words.empty() && base > UINT64_MAX - 64 * words.size()) return false;
  uint64_t count = 0;
  for (const uint64_t w : words) count += static_cast<uint64_t>(__builtin_popcountll(w));
  base_ = base;
  words_.assign(words.begin(), words.end());
  count_ = count;
  return true;
}

// ---- WebhookState ---------------------------------------------------------------------------

const WebhookEndpointState* WebhookState::Find(uint64_t id) const {
  auto it = endpoints_.find(id);
  return it == endpoints_.end() ? nullptr : &it->second;
}

bool WebhookState::Create(const WebhookEndpoint& endpoint) {
  if (endpoint.id != next_endpoint_id_ || endpoints_.size() >= kWebhookEndpointsMax) return false;
  endpoints_[endpoint.id].endpoint = endpoint;
  ++next_endpoint_id_;
  return true;
}

bool WebhookState::Update(const WebhookEndpoint& endpoint, const Outbox& outbox) {
  auto it = endpoints_.find(endpoint.id);
  if (it == endpoints_.end()) return false;
  EndpointDeliveries& d = it->second.deliveries;
  if (!endpoint.enabled) {
    d.unfinished.Clear();
    d.retries.clear();
  } else if (endpoint.filter != it->second.endpoint.filter) {
    std::vector<uint64_t> excluded;
    d.unfinished.ForEach([&](uint64_t id) {
      const OutboxEventPtr event = outbox.Find(id);
      if (event == nullptr || !EventTypeMatches(endpoint.filter, event->type)) excluded.push_back(id);
      return true;
    });
    for (const uint64_t id : excluded) {
      d.unfinished.Erase(id);
      d.retries.erase(id);
    }
  }
  it->second.endpoint = endpoint;
  return true;
}

bool WebhookState::Remove(uint64_t id) { return endpoints_.erase(id) == 1; }

void WebhookState::OnPublished(const OutboxEvent& event) {
  for (auto& [id, state] : endpoints_) {
    if (!state.endpoint.enabled || !EventTypeMatches(state.endpoint.filter, event.type)) continue;
    state.deliveries.unfinished.Insert(event.id);
  }
}

uint64_t WebhookState::OnDropped(uint64_t event_id) {
  uint64_t pairs = 0;
  for (auto& [id, state] : endpoints_) {
    if (state.deliveries.unfinished.Erase(event_id)) ++pairs;
    state.deliveries.retries.erase(event_id);
  }
  return pairs;
}

void WebhookState::Record(const DeliveryRecord& record) {
  auto it = endpoints_.find(record.endpoint_id);
  if (it == endpoints_.end()) return;
  EndpointDeliveries& d = it->second.deliveries;
  d.log.push_back(DeliveryLogEntry{d.next_log_seq++, record});
  if (d.log.size() > kDeliveryLogPerEndpointMax) d.log.pop_front();
  switch (record.outcome) {
    case DeliveryOutcome::delivered:
      ++d.counters.delivered;
      break;
    case DeliveryOutcome::given_up:
      ++d.counters.failed_attempts;
      ++d.counters.given_up;
      break;
    case DeliveryOutcome::failed:
      ++d.counters.failed_attempts;
      // A failure of an event already finished (delivered by another attempt) schedules nothing.
      if (d.unfinished.Contains(record.event_id)) {
        PendingRetry& retry = d.retries[record.event_id];
        retry.attempts = record.attempt;
        retry.next_retry_ms = record.next_retry_ms;
      }
      return;
  }
  d.unfinished.Erase(record.event_id);
  d.retries.erase(record.event_id);
}

void WebhookState::Resend(uint64_t endpoint_id, uint64_t event_id, uint64_t time_ms) {
  auto it = endpoints_.find(endpoint_id);
  if (it == endpoints_.end()) return;
  EndpointDeliveries& d = it->second.deliveries;
  d.unfinished.Insert(event_id);
  d.retries[event_id] = PendingRetry{0, time_ms, time_ms};
}

std::optional<uint64_t> WebhookState::OldestUnfinished() const {
  std::optional<uint64_t> oldest;
  for (const auto& [id, state] : endpoints_) {
    const std::optional<uint64_t> min = state.deliveries.unfinished.Min();
    if (min && (!oldest || *min < *oldest)) oldest = min;
  }
  return oldest;
}

EndpointCounters WebhookState::Totals() const {
  EndpointCounters total;
  for (const auto& [id, state] : endpoints_) {
    total.delivered += state.deliveries.counters.delivered;
    total.failed_attempts += state.deliveries.counters.failed_attempts;
    total.given_up += state.deliveries.counters.given_up;
  }
  return total;
}

uint64_t WebhookState::UnfinishedTotal() const {
  uint64_t total = 0;
  for (const auto& [id, state] : endpoints_) total += state.deliveries.unfinished.size();
  return total;
}

namespace {

void SaveBytes(ledger::StateSink& sink, const std::vector<uint8_t>& bytes) {
  sink.U64(bytes.size());
  sink.Write(bytes);
}

bool LoadBytes(ledger::StateSource& source, uint64_t max, std::vector<uint8_t>& out) {
  uint64_t size = 0;
  if (!source.U64(size) || size > max || size > source.remaining()) return false;
  out.resize(size);
  return source.Read(out);
}

constexpr uint64_t kEndpointBytesMax =
    96 + kWebhookUrlBytesMax + kWebhookDescriptionBytesMax +
    kWebhookFilterEntriesMax * (4 + kEventTypeBytesMax);
constexpr uint64_t kRecordBytesMax = 48 + kDeliveryErrorBytesMax;

void SaveDeliveries(const EndpointDeliveries& d, ledger::StateSink& sink) {
  d.unfinished.Save(sink);
  sink.U64(d.retries.size());
  for (const auto& [id, retry] : d.retries) {
    sink.U64(id);
    sink.U64(retry.attempts);
    sink.U64(retry.next_retry_ms);
    sink.U64(retry.since_ms);
  }
  sink.U64(d.next_log_seq);
  sink.U64(d.log.size());
  for (const DeliveryLogEntry& entry : d.log) {
    sink.U64(entry.seq);
    BinaryWriter w;
    EncodeDeliveryRecord(entry.record, w);
    SaveBytes(sink, w.buffer());
  }
  sink.U64(d.counters.delivered);
  sink.U64(d.counters.failed_attempts);
  sink.U64(d.counters.given_up);
}

bool LoadRetries(ledger::StateSource& source, const EventIdSet& unfinished,
                 std::map<uint64_t, PendingRetry>& retries) {
  uint64_t count = 0;
  if (!source.U64(count) || count > unfinished.size()) return false;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t id = 0, attempts = 0;
    PendingRetry retry;
    if (!source.U64(id) || !source.U64(attempts) || !source.U64(retry.next_retry_ms) ||
        !source.U64(retry.since_ms) || attempts > UINT32_MAX || !unfinished.Contains(id)) {
      return false;
    }
    retry.attempts = static_cast<uint32_t>(attempts);
    if (!retries.emplace(id, retry).second) return false;
  }
  return true;
}

bool LoadLog(ledger::StateSource& source, EndpointDeliveries& d) {
  uint64_t count = 0;
  if (!source.U64(d.next_log_seq) || !source.U64(count) || count > kDeliveryLogPerEndpointMax) {
    return false;
  }
  uint64_t previous = 0;
  for (uint64_t i = 0; i < count; ++i) {
    DeliveryLogEntry entry;
    std::vector<uint8_t> bytes;
    if (!source.U64(entry.seq) || entry.seq <= previous || entry.seq >= d.next_log_seq ||
        !LoadBytes(source, kRecordBytesMax, bytes)) {
      return false;
    }
    BinaryReader r(bytes);
    std::optional<DeliveryRecord> record = DecodeDeliveryRecord(r);
    if (!record || !r.AtEndOk()) return false;
    entry.record = std::move(*record);
    previous = entry.seq;
    d.log.push_back(std::move(entry));
  }
  return true;
}

bool LoadDeliveries(ledger::StateSource& source, EndpointDeliveries& d) {
  return d.unfinished.Load(source) && LoadRetries(source, d.unfinished, d.retries) &&
         LoadLog(source, d) && source.U64(d.counters.delivered) &&
         source.U64(d.counters.failed_attempts) && source.U64(d.counters.given_up);
}

}  // namespace

// Snapshot section: next endpoint id, endpoint count, then per endpoint its encoding (u64
// length + EncodeEndpoint bytes), unfinished ids, retries, log and counters.
void WebhookState::Save(ledger::StateSink& sink) const {
  sink.U64(next_endpoint_id_);
  sink.U64(endpoints_.size());
  for (const auto& [id, state] : endpoints_) {
    BinaryWriter w;
    EncodeEndpoint(state.endpoint, w);
    SaveBytes(sink, w.buffer());
    SaveDeliveries(state.deliveries, sink);
  }
}

bool WebhookState::Load(ledger::StateSource& source) {
  uint64_t next = 0, count = 0;
  if (!source.U64(next) || !source.U64(count) || count > kWebhookEndpointsMax || next == 0) {
    return false;
  }
  std::map<uint64_t, WebhookEndpointState> endpoints;
  for (uint64_t i = 0; i < count; ++i) {
    std::vector<uint8_t> bytes;
    if (!LoadBytes(source, kEndpointBytesMax, bytes)) return false;
    BinaryReader r(bytes);
    std::optional<WebhookEndpoint> endpoint = DecodeEndpoint(r);
    if (!endpoint || !r.AtEndOk() || endpoint->id >= next) return false;
    WebhookEndpointState& state = endpoints[endpoint->id];
    if (state.endpoint.id != 0) return false;  // an id twice
    state.endpoint = std::move(*endpoint);
    if (!LoadDeliveries(source, state.deliveries)) return false;
  }
  endpoints_ = std::move(endpoints);
  next_endpoint_id_ = next;
  return true;
}

}  // namespace tpw::engine
