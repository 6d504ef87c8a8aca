// A local webhook receiver: an HTTP/1.1 server on loopback that records every webhook POST it
// gets (event id, signature check, arrival time) and answers as it is told (a status, a delay,
// or closing the connection without an answer). Used by `tpwallet bench webhooks` and by the
// webhook tests as the "real receiver that fails and recovers"; docs/webhooks.md shows what a
// production receiver does with the same checks.
//
// Thread-safety: every public call may come from any thread; the receiver runs its own I/O
// threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace tpw::api {

struct ReceivedWebhook {
  uint64_t event_id = 0;     // from TPW-Event-Id (0 if missing or malformed)
  uint32_t seen = 0;         // how many times this event id arrived, this one included
  bool signature_ok = false; // TPW-Signature verified with the receiver's secret (if it has one)
  std::string signature;     // the TPW-Signature header
  std::string body;          // kept when ReceiverOptions::keep_bodies
  uint64_t arrived_ns = 0;   // steady clock
  unsigned answered = 0;     // the status sent; 0: closed or stalled without an answer
};

struct ReceiverAnswer {
  enum class Kind : uint8_t { status, close, stall } kind = Kind::status;
  unsigned status = 200;
  uint32_t delay_ms = 0;  // before answering (status) or before closing (stall)
};

struct ReceiverOptions {
  uint16_t port = 0;  // 0: any free port
  uint32_t threads = 1;
  bool keep_bodies = true;
  // Called for every request (any receiver thread) to decide the answer; default: 200.
  std::function<ReceiverAnswer(const ReceivedWebhook&)> decide;
};

class WebhookReceiver {
 public:
  static Result<std::unique_ptr<WebhookReceiver>, std::string> Start(ReceiverOptions options);
  ~WebhookReceiver();  // Stop()
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  uint16_t port() const;
  std::string url(std::string_view path = "/hooks") const;  // http://127.0.0.1:<port><path>
  // The whsec_… text to verify signatures with (until set, signature_ok is false).
  void SetSecret(std::string secret_text);
  void SetDecide(std::function<ReceiverAnswer(const ReceivedWebhook&)> decide);

  std::vector<ReceivedWebhook> Received() const;  // in arrival order
  uint64_t count() const;
  // Distinct event ids answered 2xx.
  uint64_t delivered_distinct() const;
  // Polls `done` (every 5 ms) until it is true or `timeout` passes; returns its last value.
  bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) const;
  void Stop();

  class Impl;

 private:
  explicit WebhookReceiver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpw::api
