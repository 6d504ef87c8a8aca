// tpwallet bench risk: decisions per second and latency per decision of the risk engine on one
// thread, with a generated rules file of --rules rules (5 of them velocity features) and events
// over many keys.
//
// Set-up (not timed): the rules file is generated and compiled; --warmup + --events events are
// generated in memory (keys drawn from --accounts/--devices/--merchants/--terminals pools, times
// spread evenly over --span-seconds for each part). Two engines each decide the --warmup events
// first, untimed, so the timed part runs on populated velocity tables (a running service's
// steady state, not an empty start). Then, timed:
//   1. throughput: the first engine decides the --events events as one run (DecideEach: the
//      memory loads of later events overlap the current decision, as when the sequencer decides
//      a batch of cleared tokens); one clock read around the run (wall time and the thread's
//      CPU time: the machine may be shared);
//   2. latency: the second engine decides the same events, each timed alone with two
//      steady_clock reads (vDSO clock_gettime, ~20 ns each, included in the figures).
// Velocity memory is reported after the run: bytes held and bytes per 1M active keys.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cli/bench.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "risk/risk.h"

namespace tpw::cli {
namespace {

struct RiskBenchOptions {
  uint64_t events = 1'000'000;
  uint64_t warmup = 1'000'000;
  uint64_t accounts = 1'000'000;
  uint64_t devices = 1'000'000;
  uint64_t merchants = 50'000;
  uint64_t terminals = 20'000;
  uint64_t span_seconds = 3'600;
  uint32_t keys_max = 1u << 20;
  uint32_t reserve_keys = 0;
  uint64_t seed = 42;
  bool print_rules = false;
};

constexpr size_t kBenchRules = 50;

// 5 velocity rules, 10 action rules, and weight rules up to kBenchRules, the kind of rules a
// card issuer writes. Action rules rarely match, so most decisions evaluate every rule.
std::string BenchRulesFile() {
  std::string text =
      "version = \"bench-50\"\n"
      "[thresholds]\nstep_up = 60\nreview = 90\ndecline = 120\nstep_up_cvm = \"pin\"\n"
      "[lists.blocked_devices]\nkind = \"device\"\nrole = \"deny\"\nitems = [\"1\", \"2\", \"3\"]\n"
      "[lists.blocked_ips]\nkind = \"ip\"\nrole = \"deny\"\nitems = [\"198.51.100.23\"]\n"
      "[lists.watched_countries]\nkind = \"country\"\nrole = \"watch\"\nitems = [\"KP\", \"IR\", "
      "\"SY\"]\n"
      "[lists.trusted_merchants]\nkind = \"merchant\"\nrole = \"allow\"\nitems = [\"7\", \"8\"]\n";
  size_t rules = 0;
  const auto rule = [&text, &rules](const std::string& name, const std::string& condition,
                                    const std::string& effect) {
    text +=
        "[[rule]]\nname = \"" + name + "\"\ncondition = '''" + condition + "'''\n" + effect + "\n";
    ++rules;
  };
  rule("blocked_device", "device in blocked_devices or ip in blocked_ips", "action = \"block\"");
  rule("trusted_small", "merchant in trusted_merchants and amount < 20.00 EUR",
       "action = \"allow\"");
  rule("huge_online", "channel == 'online' and amount > 20000.00 EUR", "action = \"review\"");
  rule("strong_large", "amount > 15000.00 EUR and cvm_performed < 'strong'",
       "action = \"step_up\"\ncvm = \"strong\"");
  rule("sanctioned_mcc", "merchant_category in [7995, 9754] and country in watched_countries",
       "action = \"block\"");
  rule("offline_huge", "channel == 'offline' and amount > 5000.00 EUR", "action = \"block\"");
  rule("brand_new_device_huge", "device_age < 1h and amount > 10000.00 EUR", "action = \"review\"");
  rule("zero_amount", "amount == 0", "action = \"block\"");
  rule("usd_huge", "amount > 30000.00 USD", "action = \"review\"");
  rule("gbp_huge", "amount > 30000.00 GBP", "action = \"review\"");
  // The five velocity features.
  rule("account_burst", "count(account, 1h) >= 20", "weight = 40");
  rule("account_daily_spend", "sum(account, 24h) + amount > 5000.00 EUR", "weight = 30");
  rule("device_burst", "count(device, 10m) >= 8", "weight = 35");
  rule("device_hops_merchants", "distinct(merchant, device, 1h) >= 6", "weight = 30");
  rule("terminal_burst", "count(terminal, 5m) >= 60", "weight = 25");
  // Weight rules on the event's own fields, until kBenchRules.
  const char* kCountries[] = {"RU", "BR", "NG", "CN", "IN", "VN", "TR", "UA", "ID", "PH"};
  for (size_t i = 0; rules < kBenchRules; ++i) {
    const std::string n = std::to_string(i);
    switch (i % 5) {
      case 0:
        rule("amount_band_" + n,
             "amount > " + std::to_string(500 + 300 * i) +
                 ".00 EUR and amount <= " + std::to_string(900 + 300 * i) + ".00 EUR",
             "weight = 5");
        break;
      case 1:
        rule("country_" + n,
             "country == '" + std::string(kCountries[i % 10]) + "' and channel == 'online'",
             "weight = 10");
        break;
      case 2:
        rule("night_mcc_" + n,
             "merchant_category in [" + std::to_string(5000 + i) +
                 ", 5411, 5812] and (hour >= 23 or hour < 5)",
             "weight = 10");
        break;
      case 3:
        rule("young_device_" + n,
             "device_age < " + std::to_string(1 + i) + "d and amount > " +
                 std::to_string(100 + 10 * i) + ".00 EUR",
             "weight = 8");
        break;
      default:
        rule("no_cvm_" + n,
             "cvm_performed == 'none' and amount * 2 > " + std::to_string(100'000 + 1000 * i),
             "weight = 6");
        break;
    }
  }
  return text;
}

struct TimedEvent {
  risk::Event event;
  Timestamp time;
};

std::vector<TimedEvent> MakeEvents(const RiskBenchOptions& o) {
  SeededRandom random(o.seed);
  const uint64_t total = o.warmup + o.events;
  std::vector<TimedEvent> events(total);
  const uint64_t start_ns = 1'764'000'000ull * kNanosPerSecond;
  const uint64_t step_ns = o.span_seconds * kNanosPerSecond / o.events;
  static constexpr uint16_t kCountries[] = {0x4652, 0x4445, 0x4553, 0x4954, 0x5255, 0x4252};
  static constexpr uint16_t kMccs[] = {5411, 5812, 5999, 7995, 4111, 5541};
  for (uint64_t i = 0; i < total; ++i) {
    risk::Event& e = events[i].event;
    e.account = 100 + random.Uniform(o.accounts);
    e.device = 100 + random.Uniform(o.devices);
    e.merchant = 100 + random.Uniform(o.merchants);
    e.terminal = 100 + random.Uniform(o.terminals);
    e.asset = 2;  // EUR
    e.amount = Amount::FromMinor(100 + random.Uniform(random.Chance(1, 20) ? 2'000'000 : 20'000));
    e.merchant_category = kMccs[random.Uniform(6)];
    e.channel = random.Chance(1, 10) ? risk::Channel::offline : risk::Channel::online;
    e.country = kCountries[random.Uniform(6)];
    e.ip = MakeU128(0, 0xffff00000000ull | random.Uniform(1ull << 32));
    e.device_age_seconds = random.Uniform(400 * 86400);
    e.cvm_performed = static_cast<risk::Cvm>(random.Uniform(3));
    events[i].time = Timestamp{start_ns + i * step_ns};
  }
  return events;
}

// The phases are separate functions (never inlined) so a profile tells them apart.
[[gnu::noinline]] void WarmUp(risk::RiskEngine& engine, std::span<const TimedEvent> events,
                              risk::RiskDecision& decision) {
  for (const TimedEvent& e : events) engine.Decide(e.event, e.time, decision);
}

[[gnu::noinline]] void MeasureThroughput(risk::RiskEngine& engine,
                                         std::span<const TimedEvent> events,
                                         risk::RiskDecision& decision) {
  std::array<uint64_t, 4> outcomes{};
  const uint64_t start = NowNs();
  const uint64_t start_cpu = ThreadCpuNs();
  // Decided as a run (RiskEngine::DecideEach), the way the sequencer decides a batch of
  // cleared offline tokens: the same decisions as one Decide call each.
  engine.DecideEach(
      events.size(),
      [&](size_t i) {
        return std::pair{events[i].event, events[i].time};
      },
      [&](size_t, const risk::RiskDecision& d) { ++outcomes[static_cast<size_t>(d.decision)]; },
      decision);
  const uint64_t cpu = std::max<uint64_t>(ThreadCpuNs() - start_cpu, 1);
  const uint64_t elapsed = std::max<uint64_t>(NowNs() - start, 1);
  const double count = static_cast<double>(events.size());
  std::printf(
      "throughput: %.0f decisions/s wall (%zu in %.3f s); %.0f per CPU-second of the "
      "thread (%.3f s CPU)\n",
      count * 1e9 / static_cast<double>(elapsed), events.size(), static_cast<double>(elapsed) / 1e9,
      count * 1e9 / static_cast<double>(cpu), static_cast<double>(cpu) / 1e9);
  std::printf(
      "decisions: approve %llu, step_up %llu, review %llu, decline %llu\n",
      static_cast<unsigned long long>(outcomes[0]), static_cast<unsigned long long>(outcomes[1]),
      static_cast<unsigned long long>(outcomes[2]), static_cast<unsigned long long>(outcomes[3]));
}

[[gnu::noinline]] void MeasureLatency(risk::RiskEngine& engine, std::span<const TimedEvent> events,
                                      risk::RiskDecision& decision) {
  std::vector<uint64_t> latencies(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const uint64_t t0 = NowNs();
    engine.Decide(events[i].event, events[i].time, decision);
    latencies[i] = NowNs() - t0;
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf(
      "latency per decision (each timed alone, clock reads included): p50 %llu ns, "
      "p99 %llu ns, p99.9 %llu ns, max %llu ns\n",
      static_cast<unsigned long long>(Percentile(latencies, 0.50)),
      static_cast<unsigned long long>(Percentile(latencies, 0.99)),
      static_cast<unsigned long long>(Percentile(latencies, 0.999)),
      static_cast<unsigned long long>(latencies.back()));
}

// A digest of the saved state, so two builds can show they save the same bytes.
uint64_t Fnv1a64(std::span<const uint8_t> bytes) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const uint8_t byte : bytes) hash = (hash ^ byte) * 0x100000001b3ull;
  return hash;
}

void PrintMemory(const risk::RiskEngine& engine) {
  const size_t keys = engine.VelocityKeys();
  const size_t bytes = engine.VelocityBytes();
  std::printf(
      "velocity state: %zu active keys over %zu features, %.1f MiB held "
      "(%.0f MiB per 1M active keys as allocated)\n",
      keys, engine.rules().features().size(), static_cast<double>(bytes) / (1 << 20),
      keys == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(keys) * 1e6 / (1 << 20));
  const auto per_key = [](risk::FeatureKind kind) { return risk::FeatureTable::BytesPerKey(kind); };
  const auto mib_per_million = [](size_t key_bytes) {
    return static_cast<double>(key_bytes) * 1e6 / (1 << 20);
  };
  std::printf(
      "  layout: per key (index included) %zu bytes for count, %zu for sum, %zu for distinct: "
      "%.0f / %.0f / %.0f MiB per 1M keys\n",
      per_key(risk::FeatureKind::count), per_key(risk::FeatureKind::sum),
      per_key(risk::FeatureKind::distinct), mib_per_million(per_key(risk::FeatureKind::count)),
      mib_per_million(per_key(risk::FeatureKind::sum)),
      mib_per_million(per_key(risk::FeatureKind::distinct)));
  const std::vector<uint8_t> saved = engine.SaveState();
  std::printf("  saved state: %zu bytes, FNV-1a %016llx\n", saved.size(),
              static_cast<unsigned long long>(Fnv1a64(saved)));
}

// Memory reserved when the two engines were made (--reserve-keys): setup, outside the timing.
void PrintReserve(const risk::RiskEngine& engine, uint64_t setup_ns) {
  if (engine.ReservedKeys() == 0) return;
  std::printf(
      "reserve: memory for %zu keys over the features faulted in per engine, %.1f MiB; both "
      "engines made in %.3f s (setup, untimed)\n",
      engine.ReservedKeys(), static_cast<double>(engine.VelocityBytes()) / (1 << 20),
      static_cast<double>(setup_ns) / 1e9);
}

int RunRiskBench(const RiskBenchOptions& o) {
  const std::string text = BenchRulesFile();
  if (o.print_rules) {
    std::fputs(text.c_str(), stdout);
    return kExitOk;
  }
  risk::CompileResult compiled = risk::RuleSet::Compile(text);
  if (compiled.rules == nullptr) {
    std::fprintf(stderr, "internal error: the generated rules do not compile: %s\n",
                 compiled.errors.front().message.c_str());
    return kExitInternal;
  }
  const std::vector<TimedEvent> events = MakeEvents(o);
  risk::VelocityOptions velocity{
      .keys_max = o.keys_max, .hash_seed = o.seed, .reserve_keys = o.reserve_keys};
  // The key populations the events draw from, as a service knows how many accounts, devices,
  // merchants and terminals it has: a feature reserves at most its population (20,000 terminals
  // need no reserve of --reserve-keys).
  const auto cap = [&velocity](risk::KeyKind kind, uint64_t population) {
    velocity.reserve_keys_max_by_key[static_cast<size_t>(kind)] =
        static_cast<uint32_t>(std::min<uint64_t>(population, UINT32_MAX));
  };
  cap(risk::KeyKind::account, o.accounts);
  cap(risk::KeyKind::device, o.devices);
  cap(risk::KeyKind::merchant, o.merchants);
  cap(risk::KeyKind::terminal, o.terminals);
  std::printf(
      "risk bench: %zu rules (%zu velocity features), %llu events over %llu s, keys: "
      "%llu accounts, %llu devices, %llu merchants, %llu terminals; keys_max %u per "
      "feature; one thread\n",
      compiled.rules->rules().size(), compiled.rules->features().size(),
      static_cast<unsigned long long>(o.events), static_cast<unsigned long long>(o.span_seconds),
      static_cast<unsigned long long>(o.accounts), static_cast<unsigned long long>(o.devices),
      static_cast<unsigned long long>(o.merchants), static_cast<unsigned long long>(o.terminals),
      o.keys_max);

  const std::span<const TimedEvent> warmup(events.data(), o.warmup);
  const std::span<const TimedEvent> timed_events(events.data() + o.warmup, o.events);
  const uint64_t setup_start = NowNs();
  risk::RiskEngine engine(compiled.rules, velocity);
  risk::RiskEngine timed(compiled.rules, velocity);
  PrintReserve(engine, NowNs() - setup_start);
  risk::RiskDecision decision;
  WarmUp(engine, warmup, decision);
  WarmUp(timed, warmup, decision);
  std::printf("warm-up: %llu events decided untimed; %zu active keys\n",
              static_cast<unsigned long long>(o.warmup), engine.VelocityKeys());

  MeasureThroughput(engine, timed_events, decision);
  MeasureLatency(timed, timed_events, decision);
  PrintMemory(timed);
  std::printf("peak RSS: %.0f MiB (events in memory: %.0f MiB)\n",
              static_cast<double>(PeakRssBytes()) / (1 << 20),
              static_cast<double>(events.size() * sizeof(TimedEvent)) / (1 << 20));
  return kExitOk;
}

}  // namespace

void RegisterBenchRisk(CLI::App& bench, int& exit_code) {
  auto options = std::make_shared<RiskBenchOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "risk",
      "Risk decisions on one thread: 50 generated rules (5 velocity features) over events on "
      "many keys; decisions/s, latency p50/p99/max per decision, velocity memory.\n"
      "Examples:\n"
      "  tpwallet bench risk\n"
      "  tpwallet bench risk --events 5000000 --accounts 2000000\n"
      "  tpwallet bench risk --print-rules > bench-rules.toml");
  cmd->add_option("--events", options->events, "Events to decide")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{50'000'000}));
  cmd->add_option("--warmup", options->warmup,
                  "Events decided untimed first, so the timed events meet populated tables")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{0}, uint64_t{50'000'000}));
  cmd->add_option("--accounts", options->accounts, "Distinct accounts events come from")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  cmd->add_option("--devices", options->devices, "Distinct devices")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  cmd->add_option("--merchants", options->merchants, "Distinct merchants")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  cmd->add_option("--terminals", options->terminals, "Distinct terminals")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  cmd->add_option("--span-seconds", options->span_seconds,
                  "Seconds the timed events (and, after them, the warm-up) are spread over")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{30} * 86400));
  cmd->add_option("--keys-max", options->keys_max, "Active keys per velocity feature")
      ->capture_default_str()
      ->check(CLI::Range(1u, risk::kFeatureKeysMax));
  cmd->add_option("--reserve-keys", options->reserve_keys,
                  "Keys per velocity feature whose memory is allocated and faulted in when the "
                  "engines are made (setup, untimed; at most --keys-max, and at most the pool "
                  "of the feature's key: --accounts, --devices, ...); 0: tables grow as keys "
                  "arrive")
      ->capture_default_str()
      ->check(CLI::Range(0u, risk::kFeatureKeysMax));
  cmd->add_option("--seed", options->seed, "Seed of the events and the hash")
      ->capture_default_str();
  cmd->add_flag("--print-rules", options->print_rules, "Print the generated rules file and stop");
  cmd->callback([options, &exit_code] { exit_code = RunRiskBench(*options); });
}

}  // namespace tpw::cli
