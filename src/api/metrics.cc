#include "api/metrics.h"

#include <cinttypes>
#include <cstdio>

#include "common/assert.h"

namespace tpw::api {
namespace {

using Counter = std::atomic<uint64_t>;
constexpr size_t kStatusSlots = Metrics::kStatuses.size();
constexpr size_t kBuckets = Metrics::kLatencyBoundsUs.size() + 1;  // + Inf

// Single-writer increment: no locked instruction on the request path.
void Bump(Counter& counter, uint64_t by = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

size_t StatusSlot(unsigned status) {
  for (size_t i = 0; i + 1 < kStatusSlots; ++i) {
    if (Metrics::kStatuses[i] == status) return i;
  }
  return kStatusSlots - 1;  // other
}

size_t BucketOf(uint64_t latency_ns) {
  const uint64_t us = latency_ns / 1000;
  for (size_t i = 0; i < Metrics::kLatencyBoundsUs.size(); ++i) {
    if (us <= Metrics::kLatencyBoundsUs[i]) return i;
  }
  return kBuckets - 1;
}

void Append(std::string& out, const char* format, auto... args) {
  char line[256];
  const int n = std::snprintf(line, sizeof line, format, args...);
  TPW_ASSERT(n > 0 && static_cast<size_t>(n) < sizeof line);
  out.append(line, static_cast<size_t>(n));
}


std::string Label(Route route) { return std::string(RouteLabel(route)); }

// An engine histogram (engine/histogram.h) in Prometheus form, with the bounds of buckets
// first..last (powers of two of the recorded unit, times `scale`: 1e-9 renders ns as seconds);
// lower buckets fold into the first bound, higher ones into +Inf. Fixed bounds, so every
// scrape has the same series.
void Histogram(std::string& out, const char* name, const char* help,
               const engine::HistogramSnapshot& h, size_t first, size_t last, double scale) {
  TPW_ASSERT(first <= last && last + 1 < engine::kHistogramBuckets);
  Append(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= last; ++b) {
    cumulative += h.buckets[b];
    if (b < first) continue;
    Append(out, "%s_bucket{le=\"%.9g\"} %" PRIu64 "\n", name,
           static_cast<double>(uint64_t{1} << b) * scale, cumulative);
  }
  // The buckets' total, not h.count: a scrape racing a Record may see one but not the other,
  // and +Inf must never be below a finite bucket.
  for (size_t b = last + 1; b < engine::kHistogramBuckets; ++b) cumulative += h.buckets[b];
  Append(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cumulative);
  Append(out, "%s_sum %.9g\n%s_count %" PRIu64 "\n", name, static_cast<double>(h.sum) * scale,
         name, cumulative);
}

}  // namespace

void AppendMetric(std::string& out, const char* name, const char* help, const char* type,
                  uint64_t value) {
  Append(out, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, name, value);
}

struct alignas(64) Metrics::Shard {
  std::array<std::array<Counter, kStatusSlots>, kRouteCount> requests{};
  std::array<std::array<Counter, kBuckets>, kRouteCount> latency{};
  std::array<Counter, kRouteCount> latency_sum_ns{};
};

Metrics::Metrics(uint32_t shards) {
  TPW_ASSERT(shards > 0);
  for (uint32_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

Metrics::~Metrics() = default;

void Metrics::RecordRequest(uint32_t shard, Route route, unsigned status, uint64_t latency_ns) {
  TPW_ASSERT(shard < shards_.size());
  Shard& s = *shards_[shard];
  const auto r = static_cast<size_t>(route);
  Bump(s.requests[r][StatusSlot(status)]);
  Bump(s.latency[r][BucketOf(latency_ns)]);
  Bump(s.latency_sum_ns[r], latency_ns);
}

void Metrics::ConnectionOpened() {
  connections_open_.fetch_add(1, std::memory_order_relaxed);
  connections_total_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::ConnectionClosed() { connections_open_.fetch_sub(1, std::memory_order_relaxed); }

void Metrics::RenderRequests(std::string& out) const {
  out += "# HELP tpw_http_requests_total Requests answered, by route and status.\n";
  out += "# TYPE tpw_http_requests_total counter\n";
  for (size_t r = 0; r < kRouteCount; ++r) {
    for (size_t st = 0; st < kStatusSlots; ++st) {
      uint64_t sum = 0;
      for (const auto& shard : shards_) sum += shard->requests[r][st].load(std::memory_order_relaxed);
      if (sum == 0) continue;
      const std::string status = kStatuses[st] == 0 ? "other" : std::to_string(kStatuses[st]);
      Append(out, "tpw_http_requests_total{route=\"%s\",status=\"%s\"} %" PRIu64 "\n",
             Label(static_cast<Route>(r)).c_str(), status.c_str(), sum);
    }
  }
}

void Metrics::RenderLatency(std::string& out) const {
  out += "# HELP tpw_http_request_duration_seconds From the request's last byte read to its "
         "response queued for writing.\n";
  out += "# TYPE tpw_http_request_duration_seconds histogram\n";
  for (size_t r = 0; r < kRouteCount; ++r) {
    std::array<uint64_t, kBuckets> buckets{};
    uint64_t sum_ns = 0;
    for (const auto& shard : shards_) {
      for (size_t b = 0; b < kBuckets; ++b) {
        buckets[b] += shard->latency[r][b].load(std::memory_order_relaxed);
      }
      sum_ns += shard->latency_sum_ns[r].load(std::memory_order_relaxed);
    }
    uint64_t cumulative = 0;
    for (uint64_t b : buckets) cumulative += b;
    if (cumulative == 0) continue;
    const std::string label = Label(static_cast<Route>(r));
    cumulative = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      cumulative += buckets[b];
      if (b + 1 < kBuckets) {
        Append(out, "tpw_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %" PRIu64 "\n",
               label.c_str(), static_cast<double>(kLatencyBoundsUs[b]) / 1e6, cumulative);
      } else {
        Append(out, "tpw_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
               label.c_str(), cumulative);
      }
    }
    Append(out, "tpw_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n", label.c_str(),
           static_cast<double>(sum_ns) / 1e9);
    Append(out, "tpw_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n",
           label.c_str(), cumulative);
  }
}

std::string Metrics::Render(const engine::EngineStats& stats) const {
  std::string out;
  RenderRequests(out);
  RenderLatency(out);
  AppendMetric(out, "tpw_http_connections_open", "Connections open now.", "gauge",
        connections_open_.load(std::memory_order_relaxed));
  AppendMetric(out, "tpw_http_connections_total", "Connections accepted.", "counter",
        connections_total_.load(std::memory_order_relaxed));
  AppendMetric(out, "tpw_engine_accounts", "Accounts in the ledger.", "gauge", stats.accounts);
  AppendMetric(out, "tpw_engine_transfers", "Transfers in the ledger.", "gauge", stats.transfers);
  AppendMetric(out, "tpw_engine_pending_transfers", "Pending transfers open.", "gauge", stats.pending);
  AppendMetric(out, "tpw_engine_queue_depth", "Requests waiting for the sequencer.", "gauge",
        stats.queue_depth);
  AppendMetric(out, "tpw_engine_groups_committed_total",
        "Group commits (one fdatasync each); journal records / groups = mean batch size.",
        "counter", stats.groups_committed);
  AppendMetric(out, "tpw_engine_submitter_steps_total",
        "Requests executed on the submitting thread while the sequencer was idle.", "counter",
        stats.submitter_steps);
  AppendMetric(out, "tpw_engine_journal_records_total", "Facts in the journal.", "counter",
        stats.journal_records);
  AppendMetric(out, "tpw_engine_journal_bytes", "Bytes in the journal.", "gauge", stats.journal_bytes);
  AppendMetric(out, "tpw_engine_journal_last_sequence", "Sequence of the newest journal record.",
        "gauge", stats.journal_last_sequence);
  AppendMetric(out, "tpw_engine_durable_sequence", "Journal sequence known to be on disk.", "gauge",
        stats.durable_sequence);
  AppendMetric(out, "tpw_risk_rules", "Rules in the active risk rule set (0 until rules are set).",
        "gauge", stats.risk_rules);
  AppendMetric(out, "tpw_risk_velocity_keys", "Keys held by the risk engine's velocity features.",
        "gauge", stats.risk_velocity_keys);
  AppendMetric(out, "tpw_risk_velocity_bytes", "Memory of the risk engine's velocity state.", "gauge",
        stats.risk_velocity_bytes);
  AppendMetric(out, "tpw_risk_decisions_total", "Journaled risk decisions (decide and offline clearing).",
        "counter", stats.risk_decisions);
  AppendMetric(out, "tpw_outbox_events", "Events the outbox retains (docs/webhooks.md).", "gauge",
        stats.outbox_events);
  AppendMetric(out, "tpw_outbox_bytes", "Type and payload bytes of the events retained.", "gauge",
        stats.outbox_bytes);
  AppendMetric(out, "tpw_outbox_last_event_id", "Id of the newest event published.", "gauge",
        stats.outbox_last_id);
  AppendMetric(out, "tpw_outbox_durable_event_id", "Id of the newest event readers may see.", "gauge",
        stats.outbox_durable_id);
  AppendMetric(out, "tpw_outbox_events_published_total", "Events published.", "counter",
        stats.outbox_counters.published);
  AppendMetric(out, "tpw_outbox_events_pruned_total",
        "Events dropped past retention, once every endpoint had finished with them.", "counter",
        stats.outbox_counters.pruned);
  AppendMetric(out, "tpw_outbox_events_dropped_over_cap_total",
        "Events dropped to keep the outbox within its event and byte caps.", "counter",
        stats.outbox_counters.dropped_over_cap);
  AppendMetric(out, "tpw_outbox_deliveries_dropped_over_cap_total",
        "Endpoint deliveries lost because their event was dropped over the cap.", "counter",
        stats.outbox_counters.dropped_undelivered);
  AppendMetric(out, "tpw_webhook_endpoints", "Webhook endpoints.", "gauge", stats.webhook_endpoints);
  AppendMetric(out, "tpw_webhook_deliveries_pending",
        "Deliveries endpoints still have to receive (journaled state).", "gauge",
        stats.webhook_unfinished);
  AppendMetric(out, "tpw_webhook_deliveries_recorded_total",
        "Journaled webhook deliveries (2xx answers).", "counter",
        stats.webhook_counters.delivered);
  AppendMetric(out, "tpw_webhook_attempts_failed_recorded_total", "Journaled failed webhook attempts.",
        "counter", stats.webhook_counters.failed_attempts);
  AppendMetric(out, "tpw_webhook_given_up_recorded_total", "Journaled given-up webhook deliveries.",
        "counter", stats.webhook_counters.given_up);
  // Batch sizes up to 8192 (a group holds at most 8189 events); sync latency 1 us .. 1.07 s.
  Histogram(out, "tpw_engine_sequencer_batch_requests",
            "Requests the sequencer took off its queue at once.", stats.sequencer_batch_requests,
            0, 13, 1.0);
  Histogram(out, "tpw_engine_group_commit_records", "Journal records (facts) per group commit.",
            stats.group_records, 0, 13, 1.0);
  Histogram(out, "tpw_engine_journal_sync_seconds",
            "Journal fdatasync latency, one per group commit.", stats.journal_sync_ns, 10, 30,
            1e-9);
  return out;
}

}  // namespace tpw::api
