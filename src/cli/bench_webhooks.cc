// tpwallet bench webhooks: webhook delivery from a real server to a local receiver.
//
// The bench starts a receiver in this process (api/webhook_receiver.h: it verifies every
// signature and notes when each event first arrived) and `tpwallet serve` on a fresh data
// directory in a child process, creates one endpoint pointing at the receiver, then publishes
// test events (POST /v1/events/test, --batch events a request, each with its own
// Idempotency-Key) and waits until every acknowledged event has arrived. It prints events/s
// and the publish → first-receipt latency. With --restart it kills the server (SIGKILL, no
// shutdown) once a quarter of the events have arrived, starts it again on the same directory,
// publishes the rest, and checks that no acknowledged event was lost (duplicates are allowed:
// delivery is at least once).
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/webhook_body.h"
#include "api/webhook_receiver.h"
#include "cli/api_caller.h"
#include "cli/bench.h"
#include "cli/bench_child.h"
#include "cli/commands.h"
#include "cli/http_client.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

constexpr auto kDeliveryWaitMax = std::chrono::seconds(120);
constexpr auto kRequestTimeout = std::chrono::milliseconds(30'000);
constexpr uint32_t kBatchMax = 10'000;

struct WebhookBenchOptions {
  uint64_t events = 50'000;
  uint32_t batch = 500;
  uint64_t rate = 0;  // events/s published; 0: as fast as the server takes them
  uint32_t connections = 16;
  uint32_t server_threads = 0;
  uint32_t receiver_threads = 1;
  bool restart = false;
};

// Events of one acknowledged publish request and when it was sent.
struct Published {
  uint64_t first_id = 0;
  uint64_t last_id = 0;
  uint64_t sent_ns = 0;
};

class Bench {
 public:
  explicit Bench(const WebhookBenchOptions& o) : o_(o) {}

  int Run() {
    std::string error;
    if (!StartReceiver(error) || !StartServer(error) || !CreateEndpoint(error)) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return kExitFailure;
    }
    PrintSettings();
    server_cpu_start_ = OtherProcessCpuNs(server_.pid());
    start_ns_ = NowNs();
    const uint64_t first_half = o_.restart ? o_.events / 2 : o_.events;
    if (!Publish(first_half, error)) return Failed(error);
    if (o_.restart && !KillAndRestart(error)) return Failed(error);
    if (!Publish(o_.events - published_, error)) return Failed(error);
    publish_done_ns_ = NowNs();
    const bool all = receiver_->WaitFor([&] { return Missing() == 0; }, kDeliveryWaitMax);
    const uint64_t server_cpu_ns = OtherProcessCpuNs(server_.pid()) - server_cpu_start_;
    return Report(all, server_cpu_ns);
  }

 private:
  bool StartReceiver(std::string& error) {
    api::ReceiverOptions options;
    options.threads = o_.receiver_threads;
    options.keep_bodies = false;
    auto receiver = api::WebhookReceiver::Start(std::move(options));
    if (!receiver.ok()) return (error = receiver.error(), false);
    receiver_ = std::move(receiver).value();
    return true;
  }

  bool StartServer(std::string& error) {
    if (!server_.Start(o_.server_threads, error,
                       {"--no-auth", "--webhook-connections", std::to_string(o_.connections)})) {
      return false;
    }
    Connect();
    return true;
  }

  void Connect() {
    client_ = std::make_unique<HttpClient>(ServerUrl{"127.0.0.1", server_.port(), ""}, "", kRequestTimeout);
  }

  bool CreateEndpoint(std::string& error) {
    const bj::object body{{"url", receiver_->url()}, {"enabled_events", bj::array{"*"}},
                          {"description", "tpwallet bench webhooks"}};
    auto answer = client_->Post("/v1/webhook_endpoints", bj::serialize(body), NewIdempotencyKey());
    if (!answer.ok() || answer.value().status != 201) {
      error = "creating the endpoint failed: " +
              (answer.ok() ? answer.value().body : answer.error().message);
      return false;
    }
    receiver_->SetSecret(std::string(bj::parse(answer.value().body).at("secret").as_string()));
    return true;
  }

  // Publishes `count` events in batches, each POST under its own Idempotency-Key (retried with
  // it after a failure, so a request the server may have run is not run twice).
  bool Publish(uint64_t count, std::string& error) {
    uint64_t done = 0;
    while (done < count) {
      const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(o_.batch, count - done));
      Pace(published_ + n);
      const std::string body = "{\"count\":" + std::to_string(n) + ",\"type\":\"test.bench\"}";
      const std::string key = NewIdempotencyKey();
      const uint64_t sent = NowNs();
      auto answer = client_->Post("/v1/events/test", body, key);
      if (!answer.ok() || answer.value().status != 201) {
        error = "publishing failed: " + (answer.ok() ? answer.value().body : answer.error().message);
        return false;
      }
      const bj::value r = bj::parse(answer.value().body);
      const auto first = api::ParseEventId(r.at("first_event_id").as_string());
      const auto last = api::ParseEventId(r.at("last_event_id").as_string());
      if (!first || !last) return (error = "unexpected answer: " + answer.value().body, false);
      batches_.push_back({*first, *last, sent});
      done += n;
      published_ += n;
    }
    return true;
  }

  // With --rate, waits until `total` events are due.
  void Pace(uint64_t total) {
    if (o_.rate == 0) return;
    const uint64_t due_ns = start_ns_ + total * 1'000'000'000 / o_.rate;
    const uint64_t now = NowNs();
    if (due_ns > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due_ns - now));
  }

  bool KillAndRestart(std::string& error) {
    receiver_->WaitFor([&] { return receiver_->delivered_distinct() >= published_ / 2; },
                       kDeliveryWaitMax);
    received_at_kill_ = receiver_->delivered_distinct();
    server_.Kill();
    const uint64_t down = NowNs();
    if (!server_.Restart(error)) return false;
    restart_ms_ = Millis(NowNs() - down);
    server_cpu_start_ = OtherProcessCpuNs(server_.pid());
    Connect();
    return true;
  }

  // Acknowledged events the receiver has not answered 200 yet.
  uint64_t Missing() const {
    uint64_t acknowledged = 0;
    for (const Published& p : batches_) acknowledged += p.last_id - p.first_id + 1;
    const uint64_t delivered = receiver_->delivered_distinct();
    return delivered >= acknowledged ? 0 : acknowledged - delivered;
  }

  int Failed(const std::string& error) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return kExitFailure;
  }

  void PrintSettings() const {
    std::printf("tpwallet bench webhooks\n");
    std::printf("  settings: events=%lu batch=%u rate=%s connections_per_endpoint=%u receiver_threads=%u restart=%s\n",
                o_.events, o_.batch, o_.rate == 0 ? "unpaced" : std::to_string(o_.rate).c_str(),
                o_.connections, o_.receiver_threads, o_.restart ? "yes (SIGKILL)" : "no");
    std::printf("  server:   child `tpwallet serve --no-auth` (pid %d, %u I/O threads, fsync=always) on %s\n",
                server_.pid(), server_.threads(), server_.dir().c_str());
    std::printf("  receiver: %s in this process (verifies every TPW-Signature)\n", receiver_->url().c_str());
    std::printf("  machine:  %u hardware threads, load average %.2f before the run\n",
                std::thread::hardware_concurrency(), LoadAverage());
    std::fflush(stdout);
  }

  int Report(bool all_arrived, uint64_t server_cpu_ns) {
    const std::vector<api::ReceivedWebhook> received = receiver_->Received();
    std::unordered_map<uint64_t, uint64_t> first_arrival;
    uint64_t bad_signatures = 0;
    uint64_t last_first_arrival = 0;
    for (const api::ReceivedWebhook& r : received) {
      if (!r.signature_ok) ++bad_signatures;
      if (r.answered < 200 || r.answered > 299) continue;
      if (first_arrival.emplace(r.event_id, r.arrived_ns).second) {
        last_first_arrival = std::max(last_first_arrival, r.arrived_ns);
      }
    }
    std::vector<uint64_t> latency;
    uint64_t acknowledged = 0;
    uint64_t lost = 0;
    for (const Published& p : batches_) {
      for (uint64_t id = p.first_id; id <= p.last_id; ++id) {
        ++acknowledged;
        auto it = first_arrival.find(id);
        if (it == first_arrival.end()) {
          ++lost;
          continue;
        }
        latency.push_back(it->second > p.sent_ns ? it->second - p.sent_ns : 0);
      }
    }
    std::sort(latency.begin(), latency.end());
    const uint64_t duplicates = received.size() - first_arrival.size();
    const double seconds = static_cast<double>(last_first_arrival - start_ns_) / 1e9;
    std::printf("  delivered:  %zu of %lu acknowledged events (distinct), %lu lost, %lu duplicates, %lu bad signatures\n",
                first_arrival.size(), acknowledged, lost, duplicates, bad_signatures);
    std::printf("  throughput: %.0f events/s (first publish to the last event's first receipt: %.3f s; publishing took %.3f s)\n",
                static_cast<double>(first_arrival.size()) / seconds, seconds,
                static_cast<double>(publish_done_ns_ - start_ns_) / 1e9);
    if (!latency.empty()) {
      std::printf("  latency:    p50 %.3f ms  p99 %.3f ms  max %.3f ms  (publish request sent → first receipt)\n",
                  Millis(Percentile(latency, 0.50)), Millis(Percentile(latency, 0.99)), Millis(latency.back()));
    }
    if (o_.restart) {
      std::printf("  restart:    SIGKILL after %lu events had arrived; the server served again after %.0f ms\n",
                  received_at_kill_, restart_ms_);
    }
    std::printf("  server CPU: %.2f s%s\n", static_cast<double>(server_cpu_ns) / 1e9,
                o_.restart ? " (since the restart)" : "");
    uint64_t stop_cpu = 0;
    const bool stopped = server_.Stop(stop_cpu);
    const bool ok = all_arrived && lost == 0 && bad_signatures == 0 && stopped;
    if (!all_arrived || lost != 0) std::printf("  FAILED: %lu acknowledged events never arrived\n", lost);
    if (bad_signatures != 0) std::printf("  FAILED: %lu requests did not verify\n", bad_signatures);
    if (!stopped) std::printf("  FAILED: the server did not exit 0 on SIGTERM\n");
    return ok ? kExitOk : kExitFailure;
  }

  const WebhookBenchOptions o_;
  ChildServer server_;
  std::unique_ptr<api::WebhookReceiver> receiver_;
  std::unique_ptr<HttpClient> client_;
  std::vector<Published> batches_;
  uint64_t published_ = 0;
  uint64_t start_ns_ = 0;
  uint64_t publish_done_ns_ = 0;
  uint64_t received_at_kill_ = 0;
  uint64_t server_cpu_start_ = 0;
  double restart_ms_ = 0;
};

}  // namespace

void RegisterBenchWebhooks(CLI::App& bench, int& exit_code) {
  auto o = std::make_shared<WebhookBenchOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "webhooks",
      "Deliver test events from `tpwallet serve` (a child process on a fresh directory) to a\n"
      "receiver in this process; print events/s, publish→receipt latency p50/p99/max, lost and\n"
      "duplicate events and signature failures (any lost event or bad signature fails the run).\n"
      "With --restart the server is killed (SIGKILL) once a quarter of the events arrived and\n"
      "started again on the same directory.\n"
      "Examples:\n"
      "  tpwallet bench webhooks --events 100000\n"
      "  tpwallet bench webhooks --events 100000 --restart\n"
      "  tpwallet bench webhooks --events 20000 --rate 2000   # latency at a steady rate");
  cmd->add_option("--events", o->events, "Events to publish")->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  cmd->add_option("--batch", o->batch, "Events per POST /v1/events/test")->capture_default_str()->check(CLI::Range(1u, kBatchMax));
  cmd->add_option("--rate", o->rate, "Events per second to publish (0: as fast as the server takes them)")->capture_default_str();
  cmd->add_option("--connections", o->connections, "The server's concurrent attempts per endpoint (serve --webhook-connections)")
      ->capture_default_str()->check(CLI::Range(1u, 1024u));
  cmd->add_option("--server-threads", o->server_threads, "The server's I/O threads (0: its default)")->capture_default_str();
  cmd->add_option("--receiver-threads", o->receiver_threads, "The receiver's threads")->capture_default_str()->check(CLI::Range(1u, 64u));
  cmd->add_flag("--restart", o->restart, "Kill the server mid-run and start it again; check nothing is lost");
  cmd->callback([o, &exit_code] { exit_code = Bench(*o).Run(); });
}

}  // namespace tpw::cli
