// The webhook deliverer (docs/webhooks.md): runs in the server process, outside the sequencer,
// and POSTs every durable event to every enabled endpoint whose filter matches it, at least
// once, signed (TPW-Signature). A 2xx answer delivers; anything else, a timeout or a connection
// error is a failed attempt, retried with exponential backoff and jitter until the event is
// older than give_up_after_ms, then given up. Outcomes are reported to the engine in batches
// (one webhook_deliveries fact each), so the retry schedule and the delivery log survive a
// restart; after one, delivery resumes from what was recorded: an attempt whose outcome was not
// recorded is made again (receivers dedupe by event id).
//
// Threads: one thread runs the deliverer's io_context; every endpoint's state lives there (no
// locks). The public calls may come from any thread: they post to it. Per endpoint, up to
// `connections_per_endpoint` attempts run at once, each on its own keep-alive connection.
//
// Endpoint health: a failed attempt that started after the endpoint's last failure pauses new
// events for the endpoint (1 s, 2 s, 4 s … like the retries), so a receiver that is down is
// probed by the retries that fall due instead of flooded; any 2xx ends the pause.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/engine.h"

namespace tpw::api {

// The deliverer's clock: Unix milliseconds now (retry times, and whether a rolled secret's
// predecessor still signs).
uint64_t WallMs();

struct WebhookOptions {
  bool enabled = true;  // false: this server delivers nothing (endpoints are still managed)
  // Retry n (n ≥ 1) waits min(backoff_base_ms × 2^(n-1), backoff_max_ms), plus up to a quarter
  // more at random (jitter), after the failed attempt.
  uint32_t backoff_base_ms = 1000;
  uint32_t backoff_max_ms = 3'600'000;
  // An event that still fails this long after it was published (or re-sent) is given up.
  uint64_t give_up_after_ms = 3ull * 24 * 3600 * 1000;
  // One attempt: connect, send, and the whole answer.
  uint32_t attempt_timeout_ms = 10'000;
  // Attempts at once per endpoint (each on its own keep-alive connection).
  uint32_t connections_per_endpoint = 16;
  // Outcomes are journaled at least this often (and at once when 4096 are waiting).
  uint32_t record_interval_ms = 50;
  // A receiver's answer body is read (and ignored) up to this size; beyond, the connection is
  // closed after the status was taken.
  uint32_t response_bytes_max = 64 * 1024;
  // On Stop, attempts in flight get this long to finish (their outcomes are then recorded).
  uint32_t stop_grace_ms = 2000;
};

struct DelivererStats {
  uint64_t delivered = 0;
  uint64_t failed_attempts = 0;
  uint64_t given_up = 0;
  uint64_t in_flight = 0;
  uint64_t queued = 0;           // events waiting (new or for a retry), all endpoints
  uint64_t unrecorded = 0;       // outcomes not yet journaled
  uint64_t record_failures = 0;  // batches the engine could not journal (an engine failure)
};

class WebhookDeliverer {
 public:
  // `engine` must outlive the deliverer.
  WebhookDeliverer(engine::Engine& engine, WebhookOptions options);
  ~WebhookDeliverer();  // Stop()
  WebhookDeliverer(const WebhookDeliverer&) = delete;
  WebhookDeliverer& operator=(const WebhookDeliverer&) = delete;

  // Loads the endpoints' work from the engine and starts delivering.
  void Start();
  // Any thread; returns at once. No new attempts start from now on.
  void BeginStop();
  // Blocks: attempts in flight get stop_grace_ms, then every outcome is journaled (waiting for
  // the engine), and the thread ends. Idempotent. The engine must still be running.
  void Stop();

  // Any thread: an endpoint was created, changed or deleted (reloads the work from the engine,
  // after journaling the outcomes so far).
  void EndpointsChanged();
  // Any thread: the engine recorded a manual re-send; attempt it now.
  void Resend(uint64_t endpoint_id, uint64_t event_id);
  // Any thread (the engine's journal thread): events up to `durable_id` can be delivered.
  void OnEventsDurable(uint64_t durable_id);

  DelivererStats Stats() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpw::api
