#include "api/event_stream.h"

#include <chrono>

#include "api/event_json.h"
#include "api/webhook_body.h"

namespace tpw::api {
namespace {

// A part holds at most this many events or (roughly) bytes.
constexpr size_t kPartEventsMax = 256;
constexpr size_t kPartBytesMax = 64 * 1024;
// Pages of events a pull looks through for one that passes the stream's filter.
constexpr size_t kFilterPagesMax = 64;
// What the client waits before reconnecting (the SSE `retry:` field), in ms.
constexpr std::string_view kRetryField = "retry: 2000\n\n";

uint64_t SteadyMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// One SSE event: a data: line per line of the JSON (the client joins them with \n).
void AppendEvent(const engine::OutboxEvent& event, std::string& out) {
  out += "id: ";
  out += EventIdText(event.id);
  out += "\nevent: ";
  out += event.type;
  const std::string json = EventJson(event);
  size_t start = 0;
  while (true) {
    const size_t newline = json.find('\n', start);
    out += "\ndata: ";
    out.append(json, start, newline == std::string::npos ? std::string::npos : newline - start);
    if (newline == std::string::npos) break;
    start = newline + 1;
  }
  out += "\n\n";
}

}  // namespace

class EventStream final : public StreamSource, public std::enable_shared_from_this<EventStream> {
 public:
  EventStream(EventHub& hub, uint64_t after, std::vector<std::string> types)
      : hub_(hub), last_id_(after), last_sent_(after), types_(std::move(types)) {}

  Next Pull(std::string& out) override {
    wake_pending_.store(false);
    out.clear();
    if (!started_) {
      started_ = true;
      out += kRetryField;
    }
    const uint64_t durable = hub_.engine_.EventsWindow().second;
    if (TooFarBehind(durable)) {
      hub_.dropped_.fetch_add(1);
      out += ": dropped: this stream is " + std::to_string(durable - last_id_) +
             " events behind and has been more than " + std::to_string(hub_.options_.lag_events_max) +
             " behind for over " + std::to_string(hub_.options_.behind_ms_max) +
             " ms; reconnect with Last-Event-ID: " + EventIdText(last_id_) + " to resume\n\n";
      return Next::last;
    }
    const size_t started_at = out.size();
    for (size_t page = 0; page < kFilterPagesMax && out.size() == started_at; ++page) {
      const std::vector<engine::OutboxEventPtr> events = hub_.engine_.ReadEvents(last_id_, kPartEventsMax);
      if (events.empty()) break;
      if (events.front()->id > last_id_ + 1) {
        out += ": events " + EventIdText(last_id_ + 1) + " to " + EventIdText(events.front()->id - 1) +
               " are no longer retained\n\n";
      }
      for (const engine::OutboxEventPtr& e : events) {
        last_id_ = e->id;
        if (types_.empty() || engine::EventTypeMatches(types_, e->type)) AppendEvent(*e, out);
        if (out.size() >= kPartBytesMax) break;
      }
      if (events.size() < kPartEventsMax) break;
      if (page + 1 == kFilterPagesMax && out.size() == started_at) Wake();  // more to look at
    }
    return out.empty() ? Next::wait : Next::part;
  }

  std::string Heartbeat() override { return ": heartbeat\n\n"; }

  std::string Goodbye() override {
    return ": the server is shutting down; reconnect with Last-Event-ID: " + EventIdText(last_id_) +
           " to resume\n\n";
  }

  void Attach(std::function<void()> wake) override {
    wake_ = std::move(wake);
    hub_.Add(shared_from_this());
  }

  void Detach() override { hub_.Remove(this); }

  // Any thread: notes when the stream fell too far behind `durable`, and asks the connection
  // to pull (once until the next pull).
  void Wake(uint64_t durable) {
    const uint64_t sent = last_sent_.load(std::memory_order_relaxed);
    if (durable > sent && durable - sent > hub_.options_.lag_events_max) {
      uint64_t expected = 0;
      behind_since_ms_.compare_exchange_strong(expected, SteadyMs());
    }
    Wake();
  }
  void Wake() {
    if (!wake_pending_.exchange(true) && wake_) wake_();
  }

 private:
  // Behind by more than the limit, continuously for longer than behind_ms_max (as noted by the
  // hub while a part was being written, or by pulls).
  bool TooFarBehind(uint64_t durable) {
    last_sent_.store(last_id_, std::memory_order_relaxed);
    if (durable <= last_id_ || durable - last_id_ <= hub_.options_.lag_events_max) {
      behind_since_ms_.store(0);
      return false;
    }
    uint64_t since = 0;
    behind_since_ms_.compare_exchange_strong(since, SteadyMs());
    since = behind_since_ms_.load();
    return since != 0 && SteadyMs() - since >= hub_.options_.behind_ms_max;
  }

  EventHub& hub_;
  uint64_t last_id_;  // the last event id sent or skipped (I/O thread)
  std::atomic<uint64_t> last_sent_{0};  // last_id_ as of the last pull, for the hub
  std::atomic<uint64_t> behind_since_ms_{0};  // steady ms since which it is too far behind; 0: not
  const std::vector<std::string> types_;
  bool started_ = false;
  std::function<void()> wake_;  // set before the stream is added to the hub
  std::atomic<bool> wake_pending_{false};
};

EventHub::EventHub(engine::Engine& engine, EventStreamOptions options)
    : engine_(engine), options_(options) {}

std::shared_ptr<StreamSource> EventHub::Open(std::optional<uint64_t> after,
                                             std::vector<std::string> types) {
  const uint64_t start = after.value_or(engine_.EventsWindow().second);
  return std::make_shared<EventStream>(*this, start, std::move(types));
}

StreamSettings EventHub::settings() const {
  return StreamSettings{options_.heartbeat_ms, options_.send_buffer_bytes};
}

void EventHub::OnEventsDurable(uint64_t durable_id) {
  std::vector<std::shared_ptr<EventStream>> streams;
  {
    std::lock_guard lock(mutex_);
    streams.reserve(streams_.size());
    for (const auto& [pointer, weak] : streams_) {
      if (auto stream = weak.lock()) streams.push_back(std::move(stream));
    }
  }
  for (const auto& stream : streams) stream->Wake(durable_id);
}

void EventHub::Add(const std::shared_ptr<EventStream>& stream) {
  std::lock_guard lock(mutex_);
  streams_.emplace(stream.get(), stream);
  open_.fetch_add(1);
  total_.fetch_add(1);
}

void EventHub::Remove(EventStream* stream) {
  std::lock_guard lock(mutex_);
  if (streams_.erase(stream) == 1) open_.fetch_sub(1);
}

}  // namespace tpw::api
