// GET /v1/events as Server-Sent Events (docs/api.md, "Events"): each stream pulls durable events
// from the engine's outbox after its cursor and writes them as
//   id: evt_42\nevent: payment.succeeded\ndata: {"id":"evt_42",...}\n\n
// It holds no events of its own (a slow reader costs one part, not a queue): a stream that stays
// more than lag_events_max behind the durable events for longer than behind_ms_max is ended
// with a comment saying how to resume (Last-Event-ID), and so is every stream when the server
// stops. (A burst puts every stream behind for a moment; only a reader that does not catch up
// is dropped.) Comment lines (": heartbeat") keep idle connections open.
//
// Thread-safety: EventHub's calls may come from any thread (OnEventsDurable from the engine's
// journal thread); each stream is pulled on its connection's I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/service.h"
#include "engine/engine.h"

namespace tpw::api {

struct EventStreamOptions {
  uint32_t heartbeat_ms = 15'000;
  // A stream further behind the durable events than lag_events_max for longer than
  // behind_ms_max is ended (the client resumes with Last-Event-ID).
  uint64_t lag_events_max = 10'000;
  uint32_t behind_ms_max = 10'000;
  uint32_t send_buffer_bytes = 64 * 1024;  // StreamSettings
};

class EventStream;

class EventHub {
 public:
  // `engine` must outlive the hub and its streams.
  EventHub(engine::Engine& engine, EventStreamOptions options);

  // A stream of the events after `after` (nullopt: the events published from now on) that pass
  // `types` (filter entries; empty: all).
  std::shared_ptr<StreamSource> Open(std::optional<uint64_t> after, std::vector<std::string> types);
  StreamSettings settings() const;
  // Events up to `durable_id` are durable: every stream that waits pulls again.
  void OnEventsDurable(uint64_t durable_id);

  uint64_t open_streams() const { return open_.load(); }
  uint64_t streams_dropped() const { return dropped_.load(); }
  uint64_t streams_total() const { return total_.load(); }

 private:
  friend class EventStream;
  void Add(const std::shared_ptr<EventStream>& stream);
  void Remove(EventStream* stream);

  engine::Engine& engine_;
  const EventStreamOptions options_;
  std::mutex mutex_;
  std::unordered_map<EventStream*, std::weak_ptr<EventStream>> streams_;
  std::atomic<uint64_t> open_{0};
  std::atomic<uint64_t> dropped_{0};  // ended for falling behind
  std::atomic<uint64_t> total_{0};
};

}  // namespace tpw::api
