// Request metrics in Prometheus text format (docs/api.md, "Metrics").
//
// Thread-safety: each I/O thread writes only its own shard (relaxed atomics, one writer, no
// lock and no shared cache line on the request path); Render() reads all shards from any
// thread and sums them, so a scrape sees each counter at some recent value.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/router.h"
#include "engine/engine.h"

namespace tpw::api {

// Appends one Prometheus sample with its HELP and TYPE lines ("gauge" or "counter").
void AppendMetric(std::string& out, const char* name, const char* help, const char* type,
                  uint64_t value);

class Metrics {
 public:
  explicit Metrics(uint32_t shards);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One answered request; called on the I/O thread that owns `shard`.
  void RecordRequest(uint32_t shard, Route route, unsigned status, uint64_t latency_ns);
  // Connections accepted / closed (any thread).
  void ConnectionOpened();
  void ConnectionClosed();

  // The whole exposition: HTTP counters and histograms, then engine gauges from `stats`.
  std::string Render(const engine::EngineStats& stats) const;

  // Statuses counted one by one; anything else is counted as "other".
  static constexpr std::array<unsigned, 15> kStatuses = {200, 201, 400, 404, 405, 408, 409, 413,
                                                         415, 422, 431, 500, 503, 0};
  // Upper bounds of the latency histogram in microseconds (then +Inf).
  static constexpr std::array<uint64_t, 12> kLatencyBoundsUs = {
      250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};

 private:
  struct Shard;
  void RenderRequests(std::string& out) const;
  void RenderLatency(std::string& out) const;

  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> connections_open_{0};
  std::atomic<uint64_t> connections_total_{0};
};

}  // namespace tpw::api
