// tpwallet bench payments: online payment flows over HTTP (issue 7's figures: >= 10,000
// payments/s, p99 <= 20 ms per request).
//
// By default the bench starts the server in this process on a fresh temporary data directory
// (durable, fsync=always, API keys on), sets up through the API a bank, N customers with funded
// wallets, M merchants and a rule set with velocity features, then runs full payment flows on
// K keep-alive connections (bench_http_client.h), each connection one flow at a time:
//   --steps 3: POST /v1/payments (manual capture), POST .../confirm (risk decides), POST
//              .../capture — three requests a payment (the default);
//   --steps 2: POST /v1/payments with confirm, then .../capture;
//   --steps 1: POST /v1/payments with confirm and automatic capture.
// It prints payments/s, requests/s and p50/p99/max latency per request kind, then reads every
// customer wallet and merchant account back and checks that they moved by exactly the captured
// payments the client was told about (a benchmark that loses or invents money fails).
// With --server it drives a running server instead (its risk rules are left as they are).
#include <stdlib.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "access/access.h"
#include "api/access_control.h"
#include "api/server.h"
#include "cli/api_keys.h"
#include "cli/bench.h"
#include "cli/bench_http_client.h"
#include "cli/commands.h"
#include "cli/http_client.h"
#include "cli/session.h"
#include "common/assert.h"

namespace tpw::cli {
namespace {

namespace bh = benchhttp;
namespace bj = boost::json;

// Account ids: the bank, customer c's wallet, merchant m's account (c, m from 0).
constexpr uint64_t kBankAccount = 1;
constexpr uint64_t kWalletBase = 1'000'000;
constexpr uint64_t kMerchantBase = 2'000'000;
constexpr uint64_t kCustomersMax = 100'000;
constexpr uint64_t kMerchantsMax = 100'000;
// Each wallet starts with 10,000,000.00 USD: no run drains it.
constexpr uint64_t kWalletFundingMinor = 1'000'000'000;
// Payments are 1.00 .. 99.99 USD.
constexpr uint64_t kAmountMinorMin = 100;
constexpr uint64_t kAmountMinorSpan = 9'900;
// Devices a payment comes from, at random (the risk rules keep velocity per device).
constexpr uint64_t kDevices = 1'000'000;
constexpr size_t kPaymentsReadBackDepth = 256;
// The in-process server's per-key rate limit: high enough to measure the server, not the limiter.
constexpr uint32_t kBenchRatePerSecond = 10'000'000;

// A realistic rule set: an action rule on lists, a step-up for large online payments, and
// weight rules over velocity features (count, sum, distinct) and lists. Thresholds are set so
// the bench's ordinary traffic is approved; every decision still computes every feature.
constexpr const char* kPaymentsBenchRules = R"(version = "bench-payments-1"
[thresholds]
step_up = 60
review = 80
decline = 100
step_up_cvm = "pin"

[lists.blocked_devices]
kind = "device"
role = "deny"
items = ["13"]

[lists.blocked_ips]
kind = "ip"
role = "deny"
items = ["198.51.100.23"]

[lists.high_risk_countries]
kind = "country"
role = "watch"
items = ["KP", "IR"]

[[rule]]
name = "block_denied"
condition = "device in blocked_devices or ip in blocked_ips"
action = "block"

[[rule]]
name = "strong_auth_for_large_online"
condition = "channel == 'online' and amount > 5000.00 USD and cvm_performed < 'strong'"
action = "step_up"
cvm = "strong"

[[rule]]
name = "card_testing"
condition = "count(device, 1h) >= 20"
weight = 40

[[rule]]
name = "account_burst"
condition = "count(account, 10m) >= 2000"
weight = 30

[[rule]]
name = "daily_spend_high"
condition = "sum(account, 24h) + amount > 1000000.00 USD"
weight = 30

[[rule]]
name = "device_hops_merchants"
condition = "distinct(merchant, device, 1h) >= 10"
weight = 25

[[rule]]
name = "high_risk_country"
condition = "country in high_risk_countries"
weight = 50

[[rule]]
name = "verified_already"
condition = "cvm_performed >= 'pin'"
weight = -20
)";

struct PaymentsBenchOptions {
  uint64_t customers = 1000;
  uint64_t merchants = 100;
  uint32_t connections = 64;
  uint32_t threads = 1;
  uint32_t server_threads = 0;
  double seconds = 10;
  uint32_t steps = 3;
  bool risk_rules = true;
  std::string server;
  std::string api_key;
  uint64_t seed = 0;
};

// ---- The in-process server --------------------------------------------------------------------

class InProcessServer {
 public:
  ~InProcessServer() {
    if (server_) {
      server_->Stop();
      server_->Wait();
    }
    server_.reset();
    access_.reset();
    session_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  bool Start(uint32_t threads, std::string& error) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                          "/tpwallet-bench-payments-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      return (error = "cannot create a temporary directory", false);
    dir_ = pattern;
    CommandResult<std::unique_ptr<storage::PosixStorage>> storage = OpenStorage(dir_, false);
    if (!storage.ok()) return (error = storage.error().message, false);
    if (!engine::Engine::Initialize(*storage.value()).ok())
      return (error = "cannot initialize " + dir_, false);
    engine::EngineOptions engine_options;
    // Sized for the set-up; the indexes grow as payments add transfers (as in production).
    engine_options.expected_accounts = 1 << 17;
    engine_options.expected_transfers = 1 << 20;
    CommandResult<std::unique_ptr<Session>> session =
        OpenSessionOn(std::move(storage).value(), engine_options);
    if (!session.ok()) return (error = session.error().message, false);
    session_ = std::move(session).value();
    if (!MakeKey(error)) return false;
    api::AccessOptions access_options;
    access_options.default_rate_per_second = kBenchRatePerSecond;
    access_ = std::make_unique<api::AccessControl>(*session_->engine, access_options);
    api::ServerOptions options;
    options.port = 0;
    options.threads = threads;
    options.hooks = access_->Hooks();
    auto started = api::Server::Start(*session_->engine, session_->assets, options);
    if (!started.ok()) return (error = started.error(), false);
    server_ = std::move(started).value();
    server_->Run();
    return true;
  }

  uint16_t port() const { return server_->port(); }
  uint32_t threads() const { return server_->threads(); }
  const std::string& key() const { return key_; }
  const std::string& dir() const { return dir_; }
  engine::EngineStats Stats() const { return session_->engine->Stats(); }

 private:
  bool MakeKey(std::string& error) {
    CommandResult<std::string> key = CreateApiKeyIn(*session_->engine, access::Scope::admin,
                                                    "bench payments", kBenchRatePerSecond);
    if (!key.ok()) return (error = key.error().message, false);
    key_ = std::move(key).value();
    return true;
  }

  std::string dir_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<api::AccessControl> access_;
  std::unique_ptr<api::Server> server_;
  std::string key_;
};

// ---- Set-up through the API -------------------------------------------------------------------

bool Expect(const bh::SimpleResponse& r, unsigned status, const std::string& what,
            std::string& error) {
  if (r.status == status) return true;
  error = what + " failed: HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 300);
  return false;
}

std::string AccountJson(uint64_t id, bool limited) {
  return R"({"id":")" + std::to_string(id) + R"(","ledger":"USD","code":)" +
         (limited ? R"(10,"flags":["debits_must_not_exceed_credits"]})" : "1}");
}

// POSTs `items` in batches of kBatchEventsMax to `target` as {"<key>": [...]}.
bool PostInBatches(bh::SyncClient& client, const std::string& target, const std::string& key,
                   const std::vector<std::string>& items, std::string& error) {
  for (size_t first = 0; first < items.size(); first += kBatchEventsMax) {
    std::string body = "{\"" + key + "\":[";
    for (size_t i = first; i < std::min(items.size(), first + kBatchEventsMax); ++i) {
      if (i != first) body += ',';
      body += items[i];
    }
    body += "]}";
    const bh::SimpleResponse r = client.Post(target, body);
    if (!Expect(r, 200, "POST " + target, error)) return false;
    if (r.body.find("\"failed\":0") == std::string::npos) {
      error = "POST " + target + " refused some events: " + r.body.substr(0, 400);
      return false;
    }
  }
  return true;
}

bool SetUp(bh::SyncClient& client, const PaymentsBenchOptions& o, uint64_t seed, bool set_rules,
           std::string& error) {
  std::vector<std::string> accounts = {AccountJson(kBankAccount, false)};
  for (uint64_t c = 0; c < o.customers; ++c) accounts.push_back(AccountJson(kWalletBase + c, true));
  for (uint64_t m = 0; m < o.merchants; ++m)
    accounts.push_back(AccountJson(kMerchantBase + m, true));
  if (!PostInBatches(client, "/v1/accounts", "accounts", accounts, error)) return false;
  // Funding transfer ids carry the seed, so a rerun against one server funds again.
  std::vector<std::string> funding;
  for (uint64_t c = 0; c < o.customers; ++c) {
    funding.push_back(R"({"id":")" + FormatId((u128{seed} << 64) | (c + 1)) +
                      R"(","debit_account_id":"1","credit_account_id":")" +
                      std::to_string(kWalletBase + c) + R"(","amount_minor":")" +
                      std::to_string(kWalletFundingMinor) + R"(","ledger":"USD","code":1})");
  }
  if (!PostInBatches(client, "/v1/transfers/batch", "transfers", funding, error)) return false;
  for (uint64_t c = 0; c < o.customers; ++c) {
    const std::string body = R"({"sources":[{"account_id":")" + std::to_string(kWalletBase + c) +
                             R"(","asset":"USD"}]})";
    const bh::SimpleResponse r = client.Send("PUT", "/v1/customers/" + std::to_string(c + 1), body);
    if (!Expect(r, 200, "PUT /v1/customers/" + std::to_string(c + 1), error)) return false;
  }
  if (!set_rules) return true;
  return Expect(client.Send("PUT", "/v1/risk/rules", kPaymentsBenchRules, "application/toml"), 200,
                "PUT /v1/risk/rules", error);
}

// ---- The flows ----------------------------------------------------------------------------------

// What the flows of one client thread were told.
struct FlowTally {
  FlowTally(uint64_t customers, uint64_t merchants) : paid(customers, 0), received(merchants, 0) {}
  uint64_t succeeded = 0;
  uint64_t requires_action = 0;    // risk asked for a verification (the flow ends there)
  uint64_t declined = 0;           // 402 (risk decline or funds)
  std::vector<uint64_t> paid;      // minor units captured, by customer
  std::vector<uint64_t> received;  // by merchant
};

// The string member `key` of an answer, found as text: the first occurrence is the payment's
// own ("status" and "id" come before its nested records). Empty when absent or over 64 bytes.
std::string_view StringMember(std::string_view body, std::string_view key) {
  const std::string quoted = "\"" + std::string(key) + "\":\"";
  const size_t at = body.find(quoted);
  if (at == std::string_view::npos) return {};
  const size_t start = at + quoted.size();
  const size_t end = body.find('"', start);
  return end == std::string_view::npos || end - start > 64 ? std::string_view{}
                                                           : body.substr(start, end - start);
}

std::string_view StatusOf(std::string_view body) { return StringMember(body, "status"); }

std::string Unexpected(unsigned status, std::string_view body, std::string_view step) {
  const std::string code = bh::ErrorCodeOf(body);
  if (!code.empty()) return std::to_string(status) + " " + code + " (" + std::string(step) + ")";
  return std::to_string(status) + " " + std::string(step) + " answered status " +
         std::string(StatusOf(body));
}

// One connection's flows: create → confirm → capture (or fewer steps), one payment at a time.
class FlowSource final : public bh::RequestSource {
 public:
  FlowSource(const PaymentsBenchOptions& o, const bh::Endpoint& endpoint, uint64_t seed,
             FlowTally& tally)
      : o_(o), tally_(tally), random_(seed) {
    header_ = "Host: " + endpoint.host + ":" + std::to_string(endpoint.port) + "\r\n";
    if (!endpoint.key.empty()) header_ += "Authorization: Bearer " + endpoint.key + "\r\n";
    text_.reserve(1024);
  }

  std::string_view Next(size_t& kind) override {
    kind = step_;
    if (step_ == 0) return Create();
    if (step_ == 1 && o_.steps == 3)
      return Post("/v1/payments/" + payment_ + "/confirm", RiskJson());
    return Post("/v1/payments/" + payment_ + "/capture", "");
  }

  std::string Answer(unsigned status, std::string_view body) override {
    const size_t last_step = o_.steps - 1;
    if (status == 402) {  // declined: the flow ends, and the payment is canceled
      ++tally_.declined;
      step_ = 0;
      return "";
    }
    const unsigned wanted = step_ == 0 ? 201 : 200;
    const std::string_view state = StatusOf(body);
    if (status != wanted)
      return Unexpected(status, body, step_ == 0 ? "create" : "confirm/capture");
    if (state == "requires_action") {
      ++tally_.requires_action;
      step_ = 0;
      return "";
    }
    if (step_ == last_step) {
      if (state != "succeeded") return Unexpected(status, body, "the last step");
      Acknowledge();
      step_ = 0;
      return "";
    }
    const std::string_view expected =
        step_ == 0 && o_.steps == 3 ? "requires_confirmation" : "requires_capture";
    if (state != expected) return Unexpected(status, body, "a step");
    if (step_ == 0) payment_ = std::string(StringMember(body, "id"));
    ++step_;
    return "";
  }

 private:
  std::string RiskJson() const {
    return R"({"risk":{"device":")" + std::to_string(device_) +
           R"(","country":"FR","ip":"203.0.113.)" + std::to_string(device_ % 250 + 1) +
           R"(","device_age_seconds":864000}})";
  }

  std::string_view Create() {
    customer_ = random_.NextU64() % o_.customers;
    merchant_ = random_.NextU64() % o_.merchants;
    amount_ = kAmountMinorMin + random_.NextU64() % kAmountMinorSpan;
    device_ = 1000 + random_.NextU64() % kDevices;
    std::string body = R"({"amount_minor":")" + std::to_string(amount_) +
                       R"(","asset":"USD","merchant_account_id":")" +
                       std::to_string(kMerchantBase + merchant_) + R"(","customer":")" +
                       std::to_string(customer_ + 1) + "\"";
    if (o_.steps != 1) body += R"(,"capture_method":"manual")";
    if (o_.steps != 3) {
      const std::string risk = RiskJson();
      body += R"(,"confirm":true,)" + risk.substr(1, risk.size() - 2);
    }
    body += "}";
    return Post("/v1/payments", body);
  }

  std::string_view Post(const std::string& target, const std::string& body) {
    text_ = "POST " + target + " HTTP/1.1\r\n" + header_;
    if (!body.empty()) text_ += "Content-Type: application/json\r\n";
    text_ += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return text_;
  }

  void Acknowledge() {
    ++tally_.succeeded;
    tally_.paid[customer_] += amount_;
    tally_.received[merchant_] += amount_;
  }

  const PaymentsBenchOptions& o_;
  FlowTally& tally_;
  SeededRandom random_;
  std::string header_;
  std::string text_;
  size_t step_ = 0;
  std::string payment_;
  uint64_t customer_ = 0;
  uint64_t merchant_ = 0;
  uint64_t amount_ = 0;
  uint64_t device_ = 0;
};

// ---- Read-back ---------------------------------------------------------------------------------

// The posted `field` (credits or debits, minor units) of accounts first..first+count-1.
bool ReadPosted(bh::SyncClient& client, uint64_t first, uint64_t count, const char* field,
                std::vector<u128>& out, std::string& error) {
  out.assign(count, 0);
  for (uint64_t begin = 0; begin < count; begin += kPaymentsReadBackDepth) {
    const uint64_t end = std::min(count, begin + kPaymentsReadBackDepth);
    std::vector<std::string> targets;
    for (uint64_t i = begin; i < end; ++i)
      targets.push_back("/v1/accounts/" + std::to_string(first + i));
    const std::vector<bh::SimpleResponse> answers = client.GetPipelined(targets);
    for (size_t i = 0; i < answers.size(); ++i) {
      bj::error_code ec;
      const bj::value json = bj::parse(answers[i].body, ec);
      const bj::value* v = !ec && json.is_object() ? json.get_object().if_contains(field) : nullptr;
      const std::optional<u128> amount =
          v != nullptr && v->is_string()
              ? ParseU128Decimal(std::string_view(v->get_string().data(), v->get_string().size()))
              : std::nullopt;
      if (answers[i].status != 200 || !amount) {
        error = "reading account " + std::to_string(first + begin + i) + " failed: HTTP " +
                std::to_string(answers[i].status) + " " + answers[i].body.substr(0, 200);
        return false;
      }
      out[begin + i] = *amount;
    }
  }
  return true;
}

struct Books {
  std::vector<u128> paid;      // customer wallets' debits_posted
  std::vector<u128> received;  // merchant accounts' credits_posted
};

bool ReadBooks(bh::SyncClient& client, const PaymentsBenchOptions& o, Books& books,
               std::string& error) {
  return ReadPosted(client, kWalletBase, o.customers, "debits_posted_minor", books.paid, error) &&
         ReadPosted(client, kMerchantBase, o.merchants, "credits_posted_minor", books.received,
                    error);
}

// Every wallet and merchant account moved by exactly the payments the client saw succeed.
bool Verify(const Books& before, const Books& after, const FlowTally& told, std::string& report) {
  uint64_t wrong = 0;
  u128 total = 0;
  for (size_t c = 0; c < before.paid.size(); ++c) {
    if (after.paid[c] - before.paid[c] != told.paid[c]) ++wrong;
  }
  for (size_t m = 0; m < before.received.size(); ++m) {
    total += after.received[m] - before.received[m];
    if (after.received[m] - before.received[m] != told.received[m]) ++wrong;
  }
  if (wrong != 0) {
    report = std::to_string(wrong) + " accounts moved by other amounts than the succeeded payments";
    return false;
  }
  report = std::to_string(before.paid.size()) + " wallets and " +
           std::to_string(before.received.size()) + " merchant accounts moved by exactly the " +
           std::to_string(told.succeeded) + " succeeded payments (" + FormatId(total) +
           " minor units)";
  return true;
}

// ---- The run ---------------------------------------------------------------------------------

std::vector<std::string> KindsOf(uint32_t steps) {
  if (steps == 3) return {"create", "confirm", "capture"};
  if (steps == 2) return {"create+confirm", "capture"};
  return {"create+confirm+capture"};
}

void PrintResults(const bh::ClosedLoopResult& r, const FlowTally& t,
                  const std::vector<std::string>& kinds, uint64_t cpu_ns, bool in_process) {
  const double seconds = static_cast<double>(r.elapsed_ns) / 1e9;
  uint64_t requests = 0;
  for (const auto& kind : r.latency_ns) requests += kind.size();
  uint64_t errors = 0;
  for (const auto& [kind, count] : r.errors) errors += count;
  std::printf(
      "  payments:   %lu succeeded in %.3f s: %.0f payments/s (%lu asked for a verification, %lu "
      "declined)\n",
      t.succeeded, seconds, static_cast<double>(t.succeeded) / seconds, t.requires_action,
      t.declined);
  std::printf("  requests:   %lu answered (%.0f requests/s), %lu errors\n", requests,
              static_cast<double>(requests) / seconds, errors);
  for (size_t k = 0; k < kinds.size(); ++k) {
    const std::vector<uint64_t>& l = r.latency_ns[k];
    if (l.empty()) continue;
    std::printf("  latency:    %-23s p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%zu requests)\n",
                kinds[k].c_str(), Millis(Percentile(l, 0.50)), Millis(Percentile(l, 0.99)),
                Millis(l.back()), l.size());
  }
  for (const auto& [kind, count] : r.errors) {
    const auto sample = r.error_samples.find(kind);
    std::printf("  error:      %lu x %s%s%s\n", count, kind.c_str(),
                sample != r.error_samples.end() && !sample->second.empty() ? ": " : "",
                sample != r.error_samples.end() ? sample->second.substr(0, 200).c_str() : "");
  }
  std::printf(
      "  CPU:        %.2f s %s (%.0f%% of one core; %.1f us per payment)\n",
      static_cast<double>(cpu_ns) / 1e9, in_process ? "client and server (one process)" : "client",
      100.0 * static_cast<double>(cpu_ns) / static_cast<double>(r.elapsed_ns),
      t.succeeded == 0 ? 0.0
                       : static_cast<double>(cpu_ns) / 1e3 / static_cast<double>(t.succeeded));
}

bool ValidOptions(const PaymentsBenchOptions& o) {
  if (o.customers == 0 || o.customers > kCustomersMax || o.merchants == 0 ||
      o.merchants > kMerchantsMax || o.connections == 0 || o.connections > bh::kConnectionsMax ||
      o.threads == 0 || o.threads > bh::kClientThreadsMax || o.steps < 1 || o.steps > 3 ||
      !(o.seconds > 0) || o.seconds > 86'400) {
    std::fprintf(stderr,
                 "error: need 1 <= --customers <= %lu, 1 <= --merchants <= %lu, 1 <= --connections "
                 "<= %u, 1 <= --threads <= %u, --steps 1, 2 or 3, 0 < --seconds <= 86400\n",
                 kCustomersMax, kMerchantsMax, bh::kConnectionsMax, bh::kClientThreadsMax);
    return false;
  }
  return true;
}

// The upper bound (2^i ns) of the bucket holding the `fraction` quantile of what was recorded
// between two snapshots.
uint64_t QuantileBoundNs(const engine::HistogramSnapshot& before,
                         const engine::HistogramSnapshot& after, double fraction) {
  const uint64_t count = after.count - before.count;
  uint64_t seen = 0;
  for (size_t i = 0; i < engine::kHistogramBuckets; ++i) {
    seen += after.buckets[i] - before.buckets[i];
    if (count != 0 && static_cast<double>(seen) >= fraction * static_cast<double>(count)) {
      return uint64_t{1} << i;
    }
  }
  return 0;
}

// Group commits and their fdatasync: on a shared machine the disk often decides the latency.
void PrintEngine(const engine::EngineStats& before, const engine::EngineStats& after) {
  const uint64_t groups = after.groups_committed - before.groups_committed;
  const uint64_t records = after.journal_records - before.journal_records;
  const uint64_t syncs = after.journal_sync_ns.count - before.journal_sync_ns.count;
  const uint64_t sync_ns = after.journal_sync_ns.sum - before.journal_sync_ns.sum;
  std::printf(
      "  engine:     %lu group commits, %.1f facts per group, %.1f MiB journaled; fdatasync "
      "mean %.2f ms, p99 <= %.2f ms\n",
      groups, groups == 0 ? 0.0 : static_cast<double>(records) / static_cast<double>(groups),
      static_cast<double>(after.journal_bytes - before.journal_bytes) / (1 << 20),
      syncs == 0 ? 0.0 : Millis(sync_ns / syncs),
      Millis(QuantileBoundNs(before.journal_sync_ns, after.journal_sync_ns, 0.99)));
}

int RunLoad(const PaymentsBenchOptions& o, const bh::Endpoint& endpoint, uint64_t seed,
            InProcessServer* server) {
  std::string error;
  bh::SyncClient client(endpoint);
  std::fprintf(stderr, "  set-up: %lu customers, %lu merchants, rules through the API...\n",
               o.customers, o.merchants);
  if (!client.Connect(error) || !SetUp(client, o, seed, server != nullptr && o.risk_rules, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return kExitFailure;
  }
  Books before;
  if (!ReadBooks(client, o, before, error))
    return (std::fprintf(stderr, "error: %s\n", error.c_str()), kExitFailure);
  bh::ClosedLoopOptions loop;
  loop.endpoint = endpoint;
  loop.connections = o.connections;
  loop.threads = o.threads;
  loop.kinds = KindsOf(o.steps);
  loop.seconds = o.seconds;
  std::vector<std::unique_ptr<FlowTally>> tallies;
  for (uint32_t t = 0; t < o.threads; ++t)
    tallies.push_back(std::make_unique<FlowTally>(o.customers, o.merchants));
  const auto make_source = [&](uint32_t index, uint32_t thread) {
    return std::make_unique<FlowSource>(o, endpoint, seed ^ (0x9e3779b97f4a7c15ULL * (index + 1)),
                                        *tallies[thread]);
  };
  const engine::EngineStats engine_before =
      server != nullptr ? server->Stats() : engine::EngineStats{};
  const uint64_t cpu_start = ProcessCpuNs();
  bh::ClosedLoopResult result;
  if (!bh::RunClosedLoop(loop, make_source, bh::PrintProgress, result, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return kExitFailure;
  }
  const uint64_t cpu_ns = ProcessCpuNs() - cpu_start;
  FlowTally told(o.customers, o.merchants);
  for (const auto& t : tallies) {
    told.succeeded += t->succeeded;
    told.requires_action += t->requires_action;
    told.declined += t->declined;
    for (size_t c = 0; c < o.customers; ++c) told.paid[c] += t->paid[c];
    for (size_t m = 0; m < o.merchants; ++m) told.received[m] += t->received[m];
  }
  PrintResults(result, told, loop.kinds, cpu_ns, server != nullptr);
  if (server != nullptr) PrintEngine(engine_before, server->Stats());
  Books after;
  std::string verified;
  const bool read_back = ReadBooks(client, o, after, error);
  const bool balanced = read_back && Verify(before, after, told, verified);
  std::printf("  verified:   %s\n",
              read_back ? verified.c_str() : ("read-back failed: " + error).c_str());
  const bool clean = result.errors.empty();
  if (!clean) std::printf("  FAILED: requests answered with errors (see above)\n");
  if (!balanced) std::printf("  FAILED: the books do not match the succeeded payments\n");
  if (told.succeeded == 0) std::printf("  FAILED: no payment succeeded\n");
  return clean && balanced && told.succeeded != 0 ? kExitOk : kExitFailure;
}

int RunPaymentsBench(const PaymentsBenchOptions& o) {
  if (!ValidOptions(o)) return kExitUsage;
  const uint64_t seed = o.seed != 0 ? o.seed : (NowNs() | 1);
  bh::Endpoint endpoint;
  std::unique_ptr<InProcessServer> server;
  std::string error;
  std::string where;
  if (!o.server.empty()) {
    InputResult<ServerUrl> url = ParseServerUrl(o.server, "--server");
    if (!url.ok())
      return (std::fprintf(stderr, "error: %s\n", url.error().message.c_str()), kExitUsage);
    endpoint = bh::Endpoint{url.value().host, url.value().port, o.api_key};
    where = o.server + " (already running; its risk rules as they are)";
  } else {
    server = std::make_unique<InProcessServer>();
    if (!server->Start(o.server_threads, error)) {
      std::fprintf(stderr, "error: starting the server: %s\n", error.c_str());
      return kExitFailure;
    }
    endpoint = bh::Endpoint{"127.0.0.1", server->port(), server->key()};
    where = "in this process (" + std::to_string(server->threads()) +
            " I/O threads, fsync=always, API keys on, " +
            (o.risk_rules ? "bench rules: 8 rules, 4 velocity features" : "no risk rules") +
            ") on a fresh " + server->dir();
  }
  std::printf("tpwallet bench payments\n");
  std::printf(
      "  settings: steps=%u (%s) connections=%u client_threads=%u seconds=%g customers=%lu "
      "merchants=%lu seed=%lu\n",
      o.steps,
      o.steps == 3   ? "create, confirm, capture"
      : o.steps == 2 ? "create+confirm, capture"
                     : "create+confirm+capture",
      o.connections, o.threads, o.seconds, o.customers, o.merchants, seed);
  std::printf("  server:   %s\n", where.c_str());
  double load[1] = {0};
  std::printf("  machine:  %u hardware threads, load average %.2f before the run\n",
              std::thread::hardware_concurrency(), getloadavg(load, 1) == 1 ? load[0] : -1.0);
  std::fflush(stdout);
  return RunLoad(o, endpoint, seed, server.get());
}

}  // namespace

void RegisterBenchPayments(CLI::App& bench, int& exit_code) {
  auto o = std::make_shared<PaymentsBenchOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "payments",
      "Online payment flows over HTTP: create -> confirm (risk rules with velocity features\n"
      "decide) -> capture on keep-alive connections, one flow at a time per connection; prints\n"
      "payments/s, requests/s and p50/p99/max latency per request kind, then checks every\n"
      "wallet and merchant account against the payments that succeeded.\n"
      "By default it serves a fresh temporary data directory in this process (durable, API keys\n"
      "on); --server drives a running `tpwallet serve` instead.\n"
      "Examples:\n"
      "  tpwallet bench payments                         # 3 requests a payment, 64 connections, "
      "10 s\n"
      "  tpwallet bench payments --steps 1 --seconds 30  # create+confirm+capture in one request\n"
      "  tpwallet bench payments --server http://127.0.0.1:8080 --api-key tpw_...");
  cmd->add_option("--steps", o->steps,
                  "Requests a payment: 3 (create, confirm, capture), 2 (create with confirm, "
                  "capture), 1 (create with confirm, automatic capture)")
      ->capture_default_str();
  cmd->add_option("--connections", o->connections,
                  "Keep-alive connections, one flow each at a time")
      ->capture_default_str();
  cmd->add_option("--seconds", o->seconds, "Run this long")->capture_default_str();
  cmd->add_option("--customers", o->customers, "Customers, each with a funded USD wallet")
      ->capture_default_str();
  cmd->add_option("--merchants", o->merchants, "Merchant accounts payments go to")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Client threads (connections are spread over them)")
      ->capture_default_str();
  cmd->add_option("--server-threads", o->server_threads,
                  "I/O threads of the in-process server (default: one per hardware thread)");
  cmd->add_flag("!--no-risk-rules", o->risk_rules,
                "Leave the in-process server without risk rules (every payment approved)");
  cmd->add_option("--server", o->server,
                  "Drive this running server instead, e.g. http://127.0.0.1:8080 (its risk rules "
                  "and rate limit apply)");
  cmd->add_option("--api-key", o->api_key, "With --server: an admin API key (tpw_...)");
  cmd->add_option("--seed", o->seed,
                  "Seed of the random customers, merchants, amounts and devices "
                  "(default: from the clock)");
  cmd->callback([o, &exit_code] { exit_code = RunPaymentsBench(*o); });
}

}  // namespace tpw::cli
