// tpwallet bench http: the HTTP API under load, from a client on the same machine.
//
// By default the bench makes a fresh data directory, starts `tpwallet serve` on it in a child
// process (its own binary, so the server runs exactly as it does in production: durable,
// fsync=always), creates the accounts through the API, then drives POST /v1/transfers (one
// transfer a request) or POST /v1/transfers/batch over N keep-alive connections, each sending
// its next request when the previous answer arrived (bench_http_client.h). Afterwards it reads
// every account back through the API and checks that its credits and debits moved by exactly
// the acknowledged transfers: a benchmark that loses (or invents) money is a failed run.
// With --url it drives a server that is already running instead.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/bench.h"
#include "cli/bench_child.h"
#include "cli/bench_http_client.h"
#include "cli/commands.h"
#include "cli/http_client.h"
#include "common/ids.h"
#include "common/limits.h"

namespace tpw::cli {
namespace {

namespace bh = benchhttp;
namespace bj = boost::json;

constexpr size_t kReadBackPipelineDepth = 512;  // GETs written at once when reading balances

struct HttpBenchOptions {
  std::string mode = "single";
  uint32_t connections = 0;  // 0: 64 for single, 4 for batch
  uint64_t requests = 0;     // 0: run for --seconds
  double seconds = 10;
  uint32_t batch = kBatchEventsMax;
  uint64_t accounts = 10'000;
  uint32_t threads = 1;
  uint32_t server_threads = 0;  // 0: the server's default (one per hardware thread)
  std::string url;
  std::string key;
  uint64_t seed = 0;  // 0: from the clock
};


// "http://HOST[:PORT][/]" → endpoint (the --server URL form, http_client.h).
bool ParseUrl(const std::string& url, bh::Endpoint& out) {
  InputResult<ServerUrl> parsed = ParseServerUrl(url, "--url");
  if (!parsed.ok()) return false;
  out.host = parsed.value().host;
  out.port = parsed.value().port;
  return true;
}

// ---- Set-up and read-back through the API ---------------------------------------------------

// Accounts 1..count on ledger 1 (USD), code 1, no flags (debits may exceed credits, so any
// transfer between two of them applies). Existing identical accounts are fine (--url reruns).
bool CreateAccounts(bh::SyncClient& client, uint64_t count, std::string& error) {
  for (uint64_t first = 1; first <= count; first += kBatchEventsMax) {
    const uint64_t last = std::min(count, first + kBatchEventsMax - 1);
    std::string body = R"({"accounts":[)";
    for (uint64_t id = first; id <= last; ++id) {
      if (id != first) body.push_back(',');
      body += R"({"id":")" + std::to_string(id) + R"(","ledger":1,"code":1})";
    }
    body += "]}";
    const bh::SimpleResponse r = client.Post("/v1/accounts", body);
    bj::error_code ec;
    const bj::value json = bj::parse(r.body, ec);
    const bj::value* failed =
        !ec && json.is_object() ? json.get_object().if_contains("failed") : nullptr;
    if (r.status != 200 || failed == nullptr || !failed->is_int64() || failed->get_int64() != 0) {
      error = "creating accounts " + std::to_string(first) + ".." + std::to_string(last) +
              " failed: HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 300);
      return false;
    }
  }
  return true;
}

struct Balances {
  std::vector<u128> credits;  // credits_posted, minor units; index = account id - 1
  std::vector<u128> debits;
};

bool ReadField(const bj::object& account, const char* name, u128& out) {
  const bj::value* v = account.if_contains(name);
  if (v == nullptr || !v->is_string()) return false;
  const auto parsed = ParseId(std::string_view(v->get_string().data(), v->get_string().size()));
  if (!parsed.ok()) return false;
  out = parsed.value();
  return true;
}

// GET /v1/accounts/{id} for accounts 1..count, pipelined.
bool ReadBalances(bh::SyncClient& client, uint64_t count, Balances& out, std::string& error) {
  out.credits.assign(count, 0);
  out.debits.assign(count, 0);
  for (uint64_t first = 1; first <= count; first += kReadBackPipelineDepth) {
    const uint64_t last = std::min(count, first + kReadBackPipelineDepth - 1);
    std::vector<std::string> targets;
    for (uint64_t id = first; id <= last; ++id) targets.push_back("/v1/accounts/" + std::to_string(id));
    const std::vector<bh::SimpleResponse> answers = client.GetPipelined(targets);
    for (size_t i = 0; i < answers.size(); ++i) {
      const uint64_t index = first - 1 + i;
      bj::error_code ec;
      const bj::value json = bj::parse(answers[i].body, ec);
      if (answers[i].status != 200 || ec || !json.is_object() ||
          !ReadField(json.get_object(), "credits_posted_minor", out.credits[index]) ||
          !ReadField(json.get_object(), "debits_posted_minor", out.debits[index])) {
        error = "reading account " + std::to_string(index + 1) + " failed: HTTP " +
                std::to_string(answers[i].status) + " " + answers[i].body.substr(0, 300);
        return false;
      }
    }
  }
  return true;
}

// Every account's credits and debits moved by exactly what was acknowledged to the client.
bool VerifyBalances(const Balances& before, const Balances& after, const bh::LoadResult& load,
                    std::string& report) {
  u128 total = 0;
  uint64_t wrong = 0;
  std::string first_wrong;
  for (size_t i = 0; i < before.credits.size(); ++i) {
    const u128 credited = after.credits[i] - before.credits[i];
    const u128 debited = after.debits[i] - before.debits[i];
    total += credited;
    if (credited != load.credited[i] || debited != load.debited[i]) {
      if (wrong++ == 0) {
        first_wrong = "account " + std::to_string(i + 1) + ": credits moved " +
                      FormatId(credited) + " (acknowledged " + std::to_string(load.credited[i]) +
                      "), debits moved " + FormatId(debited) + " (acknowledged " +
                      std::to_string(load.debited[i]) + ")";
      }
    }
  }
  if (wrong != 0) {
    report = std::to_string(wrong) + " accounts differ from the acknowledged transfers; first: " +
             first_wrong;
    return false;
  }
  report = std::to_string(before.credits.size()) + " accounts read back: credits and debits " +
           "moved by exactly the " + std::to_string(load.transfers_ok) +
           " acknowledged transfers (" + FormatId(total) + " minor units)";
  return true;
}

// ---- The run --------------------------------------------------------------------------------

std::string Settings(const HttpBenchOptions& o, const bh::LoadOptions& load,
                     const ChildServer* child) {
  char text[1024];
  std::snprintf(text, sizeof text,
                "mode=%s connections=%u client_threads=%u %s accounts=%lu%s seed=%lu",
                o.mode.c_str(), load.connections, load.threads,
                o.requests != 0 ? ("requests=" + std::to_string(o.requests)).c_str()
                                : ("seconds=" + std::to_string(o.seconds).substr(0, 5)).c_str(),
                o.accounts,
                o.mode == "batch" ? (" batch=" + std::to_string(o.batch)).c_str() : "",
                load.seed);
  std::string out = text;
  if (child != nullptr) {
    out += "\n  server:   child `tpwallet serve` (pid " + std::to_string(child->pid()) + ", " +
           std::to_string(child->threads()) + " I/O threads, fsync=always, rate limit " +
           kChildRateLimit + "/s) on a fresh " + child->dir();
  } else {
    out += "\n  server:   " + o.url + " (already running)";
  }
  return out;
}

bool OnlyOverloaded(const bh::LoadResult& load) {
  for (const auto& [kind, count] : load.errors) {
    if (kind != "503 overloaded") return false;
  }
  return true;
}

void PrintResults(const bh::LoadResult& load, uint64_t client_cpu_ns, uint64_t server_cpu_ns,
                  bool server_cpu_known) {
  const double seconds = static_cast<double>(load.elapsed_ns) / 1e9;
  uint64_t errors = 0;
  for (const auto& [kind, count] : load.errors) errors += count;
  std::printf("  requests:   %lu answered OK in %.3f s, %lu errors\n", load.requests_ok, seconds,
              errors);
  std::printf("  throughput: %.0f requests/s, %.0f transfers/s acknowledged (%lu refused)\n",
              static_cast<double>(load.requests_ok) / seconds,
              static_cast<double>(load.transfers_ok) / seconds, load.transfers_refused);
  if (!load.latency_ns.empty()) {
    std::printf("  latency:    p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%zu requests, closed loop)\n",
                Millis(Percentile(load.latency_ns, 0.50)), Millis(Percentile(load.latency_ns, 0.99)),
                Millis(load.latency_ns.back()), load.latency_ns.size());
  }
  for (const auto& [kind, count] : load.errors) {
    const auto sample = load.error_samples.find(kind);
    std::printf("  error:      %lu x %s%s%s\n", count, kind.c_str(),
                sample != load.error_samples.end() && !sample->second.empty() ? ": " : "",
                sample != load.error_samples.end() ? sample->second.c_str() : "");
  }
  const double per_request = load.latency_ns.empty() ? 0 : 1.0 / static_cast<double>(load.latency_ns.size());
  std::printf("  client CPU: %.2f s (%.0f%% of one core; %.1f us per request)\n",
              static_cast<double>(client_cpu_ns) / 1e9,
              100.0 * static_cast<double>(client_cpu_ns) / static_cast<double>(load.elapsed_ns),
              static_cast<double>(client_cpu_ns) / 1e3 * per_request);
  if (server_cpu_known) {
    std::printf("  server CPU: %.2f s (%.0f%% of one core; %.1f us per request)\n",
                static_cast<double>(server_cpu_ns) / 1e9,
                100.0 * static_cast<double>(server_cpu_ns) / static_cast<double>(load.elapsed_ns),
                static_cast<double>(server_cpu_ns) / 1e3 * per_request);
  } else {
    std::printf("  server CPU: unknown (an external server: --url)\n");
  }
}

bool ValidOptions(const HttpBenchOptions& o) {
  if (o.accounts < 2 || o.accounts > bh::kAccountsMax || o.batch == 0 ||
      o.batch > kBatchEventsMax || o.threads == 0 || o.threads > bh::kClientThreadsMax ||
      o.connections > bh::kConnectionsMax || !(o.seconds > 0) || o.seconds > 86'400) {
    std::fprintf(stderr,
                 "error: need 2 <= --accounts <= %lu, 1 <= --batch <= %zu, 1 <= --threads <= %u, "
                 "--connections <= %u, 0 < --seconds <= 86400\n",
                 bh::kAccountsMax, kBatchEventsMax, bh::kClientThreadsMax, bh::kConnectionsMax);
    return false;
  }
  return true;
}

// Set-up, load, read-back and report against a running server (the child, if there is one).
int RunAgainst(const HttpBenchOptions& o, const bh::LoadOptions& load, ChildServer* child) {
  std::string error;
  bh::SyncClient client(load.endpoint);
  Balances before;
  std::fprintf(stderr, "  set-up: creating %lu accounts through the API...\n", o.accounts);
  if (!client.Connect(error) || !CreateAccounts(client, o.accounts, error) ||
      !ReadBalances(client, o.accounts, before, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return kExitFailure;
  }
  const uint64_t client_cpu_start = ProcessCpuNs();
  const uint64_t server_cpu_start = child != nullptr ? OtherProcessCpuNs(child->pid()) : 0;
  bh::LoadResult result;
  if (!bh::RunLoad(load, bh::PrintProgress, result, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return kExitFailure;
  }
  const uint64_t server_cpu_ns =
      child != nullptr ? OtherProcessCpuNs(child->pid()) - server_cpu_start : 0;
  const uint64_t client_cpu_ns = ProcessCpuNs() - client_cpu_start;
  PrintResults(result, client_cpu_ns, server_cpu_ns, child != nullptr);
  Balances after;
  std::string verified;
  const bool read_back = ReadBalances(client, o.accounts, after, error);
  const bool balanced = read_back && VerifyBalances(before, after, result, verified);
  std::printf("  verified:   %s\n", read_back ? verified.c_str() : ("read-back failed: " + error).c_str());
  bool stopped = true;
  if (child != nullptr) {
    uint64_t server_total_ns = 0;
    stopped = child->Stop(server_total_ns);
    std::printf("  server:     %s; %.2f s CPU in all (start, set-up, load, read-back, shutdown)\n",
                stopped ? "stopped cleanly (exit 0)" : "did NOT exit 0 on SIGTERM",
                static_cast<double>(server_total_ns) / 1e9);
  }
  const bool errors_ok = OnlyOverloaded(result);
  if (!errors_ok) std::printf("  FAILED: requests answered with errors (see above)\n");
  if (!balanced) std::printf("  FAILED: the balances do not match the acknowledged transfers\n");
  if (result.requests_ok == 0) std::printf("  FAILED: no request succeeded\n");
  return errors_ok && balanced && stopped && result.requests_ok != 0 ? kExitOk : kExitFailure;
}

int RunHttpBench(const HttpBenchOptions& o) {
  if (!ValidOptions(o)) return kExitUsage;
  bh::LoadOptions load;
  load.connections = o.connections != 0 ? o.connections : (o.mode == "batch" ? 4 : 64);
  load.threads = o.threads;
  load.transfers_per_request = o.mode == "batch" ? o.batch : 1;
  load.requests = o.requests;
  load.seconds = o.seconds;
  load.accounts = o.accounts;
  load.seed = o.seed != 0 ? o.seed : (NowNs() | 1);
  std::unique_ptr<ChildServer> child;
  std::string error;
  if (!o.url.empty()) {
    if (!ParseUrl(o.url, load.endpoint)) {
      std::fprintf(stderr, "error: --url \"%s\" is not http://HOST:PORT\n", o.url.c_str());
      return kExitUsage;
    }
    load.endpoint.key = o.key;
  } else {
    child = std::make_unique<ChildServer>();
    if (!child->Start(o.server_threads, error)) {
      std::fprintf(stderr, "error: starting the server: %s\n", error.c_str());
      return kExitFailure;
    }
    load.endpoint = bh::Endpoint{"127.0.0.1", child->port(), child->admin_key()};
  }
  std::printf("tpwallet bench http\n  settings: %s\n", Settings(o, load, child.get()).c_str());
  std::printf("  machine:  %u hardware threads, load average %.2f before the run\n",
              std::thread::hardware_concurrency(), LoadAverage());
  std::fflush(stdout);
  return RunAgainst(o, load, child.get());
}

}  // namespace

void RegisterBenchHttp(CLI::App& bench, int& exit_code) {
  auto options = std::make_shared<HttpBenchOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "http",
      "Load the HTTP API (POST /v1/transfers or /v1/transfers/batch) over keep-alive\n"
      "connections from a closed-loop client on this machine; print requests/s, transfers/s,\n"
      "latency p50/p99/max, errors by status, server and client CPU; then check every account's\n"
      "balance against the acknowledged transfers (a mismatch fails the run).\n"
      "By default it starts `tpwallet serve` on a fresh temporary directory in a child process.\n"
      "Examples:\n"
      "  tpwallet bench http                               # single transfers, 64 connections, 10 s\n"
      "  tpwallet bench http --mode batch                  # 8189 transfers a request, 4 connections\n"
      "  tpwallet bench http --requests 100000 --connections 32\n"
      "  tpwallet bench http --url http://127.0.0.1:8080 --key tpw_...");
  cmd->add_option("--mode", options->mode,
                  "'single': POST /v1/transfers, one transfer a request; 'batch': POST "
                  "/v1/transfers/batch with --batch transfers a request")
      ->capture_default_str()
      ->check(CLI::IsMember({"single", "batch"}));
  cmd->add_option("--connections", options->connections,
                  "Keep-alive connections, each with one request outstanding (default 64 for "
                  "single, 4 for batch)");
  cmd->add_option("--requests", options->requests,
                  "Stop after this many requests (default: run for --seconds)");
  cmd->add_option("--seconds", options->seconds, "Run this long (unless --requests is given)")
      ->capture_default_str();
  cmd->add_option("--batch", options->batch, "Transfers per request in batch mode (1..8189)")
      ->capture_default_str();
  cmd->add_option("--accounts", options->accounts,
                  "Accounts 1..N created through the API; each transfer moves 1.00..9.99 between "
                  "two of them at random")
      ->capture_default_str();
  cmd->add_option("--threads", options->threads, "Client threads (connections are spread over them)")
      ->capture_default_str();
  cmd->add_option("--server-threads", options->server_threads,
                  "I/O threads of the child server (default: its own, one per hardware thread)");
  cmd->add_option("--url", options->url,
                  "Drive this running server instead of starting one, e.g. http://127.0.0.1:8080 "
                  "(its rate limit applies: 429s are reported as errors)");
  cmd->add_option("--key", options->key, "With --url: the API key to send (tpw_...)");
  cmd->add_option("--seed", options->seed,
                  "Seed of transfer ids, accounts and amounts (default: from the clock, so "
                  "reruns against one server do not collide)");
  cmd->callback([options, &exit_code] { exit_code = RunHttpBench(*options); });
}

}  // namespace tpw::cli
