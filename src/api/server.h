// The HTTP/1.1 server: Boost.Beast on Asio, one io_context per I/O thread, each connection
// owned by one thread (no strands, no locks on the request path).
//
// Per connection: keep-alive; requests are read, executed and answered one at a time, so
// pipelined requests are answered in order; an idle timeout between requests, a read timeout
// for a whole request once its first byte arrived (408), a write timeout; header and body
// limits (431, 413). Handlers never block an I/O thread: engine work is submitted with a
// callback (service.h).
//
// Shutdown (Stop): stop accepting, close idle connections, end event streams (with a comment
// saying how to resume), let every request already read finish and be answered (with
// Connection: close), then the I/O threads return; Wait() then stops the webhook deliverer,
// which journals the outcomes of the attempts it made. The caller then shuts the engine down;
// nothing acknowledged is lost because nothing is acknowledged before the engine made it
// durable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/event_stream.h"
#include "api/service.h"
#include "api/webhook_deliverer.h"
#include "common/asset.h"
#include "common/result.h"
#include "engine/engine.h"

namespace tpw::api {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0 = any free port (see Server::port())
  uint32_t threads = 0;  // I/O threads; 0 = one per hardware thread
  uint32_t header_bytes_max = 16 * 1024;     // request line + headers; over it: 431
  uint64_t body_bytes_max = 8 * 1024 * 1024;  // over it: 413 (8189 full transfers fit)
  uint32_t read_timeout_ms = 10'000;    // first byte of a request → its last byte (408)
  uint32_t idle_timeout_ms = 60'000;    // keep-alive connection with no request: closed
  uint32_t write_timeout_ms = 10'000;   // a response the client does not read: closed
  uint32_t shutdown_grace_ms = 15'000;  // Stop() closes what is still open after this
  std::string access_log;  // "" = off, "-" = standard output, else a file (appended)
  PipelineHooks hooks;
  // The webhook deliverer this server runs (docs/webhooks.md) and the event streams it serves.
  WebhookOptions webhooks;
  EventStreamOptions event_streams;
};

class Server {
 public:
  // Binds and listens; serves once Run() is called. `engine` must outlive the Server.
  static Result<std::unique_ptr<Server>, std::string> Start(engine::Engine& engine,
                                                            const AssetTable& assets,
                                                            ServerOptions options);
  ~Server();  // Stop(), then joins the I/O threads
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;  // the bound port (useful with port 0)
  uint32_t threads() const;

  // Runs the I/O threads; returns at once. Wait() blocks until they end (after Stop()).
  void Run();
  void Wait();
  // Graceful shutdown; any thread, idempotent, returns at once (Wait() for the end).
  void Stop();
  // Stops on SIGTERM or SIGINT (installs the handler; call before Run()).
  void StopOnSignals();
  // Calls `handler` on an I/O thread each time the process receives `signal` (SIGHUP: reload
  // the risk rules). The handler must not block: hand long work to another thread.
  void OnSignal(int signal, std::function<void()> handler);

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpw::api
