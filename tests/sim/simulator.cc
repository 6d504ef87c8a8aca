#include "sim/simulator.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstring>
#include <memory>

#include "common/assert.h"
#include "common/limits.h"
#include "engine/engine.h"
#include "journal/journal.h"
#include "ledger/results.h"
#include "sim/describe.h"
#include "sim/faulty_storage.h"
#include "sim/oracle.h"
#include "sim/workload.h"
#include "storage/simulated_storage.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace tpw::sim {

using engine::Engine;
using engine::EngineError;
using engine::EngineOptions;
using engine::Reply;
using engine::Request;
using engine::RequestKind;

namespace {

constexpr uint64_t kStartNs = 1'700'000'000'000'000'000;
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;
// Open attempts with faults injected; later attempts run without faults and must succeed.
constexpr uint32_t kFaultyOpenAttempts = 2;
constexpr uint32_t kOpenAttemptsMax = 12;
// An armed crash fires at one of the next this many storage writes.
constexpr uint64_t kCrashWithinMutations = 24;

// Independent random streams from one seed (splitmix64 of seed and stream number).
uint64_t StreamSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + stream * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// ---- the line printed if the engine trips an assertion (TPW_ASSERT aborts the process)

char g_abort_context[512];

void PrintAbortContext() {
  const size_t n = strnlen(g_abort_context, sizeof g_abort_context);
  if (n > 0) (void)!write(STDERR_FILENO, g_abort_context, n);
}

extern "C" void OnAbortSignal(int signal_number) {
  PrintAbortContext();
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

// Installs the abort hook for the life of one simulation.
class AbortContextScope {
 public:
  AbortContextScope() {
    struct sigaction action {};
    action.sa_handler = OnAbortSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGABRT, &action, &previous_);
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_set_death_callback(PrintAbortContext);
#endif
  }
  ~AbortContextScope() {
    sigaction(SIGABRT, &previous_, nullptr);
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_set_death_callback(nullptr);
#endif
    g_abort_context[0] = '\0';
  }
  AbortContextScope(const AbortContextScope&) = delete;
  AbortContextScope& operator=(const AbortContextScope&) = delete;

 private:
  struct sigaction previous_ {};
};

// The request whose reply was storage_failed: the oracle as it would be had it been applied.
struct Unknown {
  Oracle applied;
  std::string description;
};

class Simulator {
 public:
  explicit Simulator(const SimOptions& options);
  SimResult Run();

 private:
  // ---- steps
  bool Setup();
  bool Step();
  bool DoAccounts();
  bool DoTransfers();
  bool DoQuery();
  bool DoSnapshot();
  bool ForgetOneRequest();
  void AdvanceClock();
  void ArmCrash(uint64_t within);
  bool NeedsRestart() const;

  // ---- one request against engine and oracle
  bool Exchange(const Request& request, Expected* expected_out = nullptr);
  bool CompareReply(const Request& request, const Expected& e, const Reply& reply);
  bool CompareList(const std::string& what, size_t want, size_t got);

  // ---- crashes and recovery
  bool Restart(const std::string& why);
  bool OpenWithRetries();
  bool AdoptRecoveredState();
  bool CheckJournal();
  bool FullCheck(const char* why);
  bool CheckAccountLists();

  // ---- faults
  storage::SimulatedFaults RunningFaults() const;
  storage::SimulatedFaults RecoveryFaults() const;

  // ---- output
  bool Fail(const std::string& what, const Request* request = nullptr);
  void Trace(const char* format, ...) __attribute__((format(printf, 2, 3)));
  void HashU64(uint64_t v);
  void HashU128(u128 v) {
    HashU64(Low64(v));
    HashU64(High64(v));
  }
  void HashReply(const Reply& reply);
  void UpdateAbortContext();

  SimOptions options_;
  FaultRates rates_;
  Dice dice_;                    // workload and fault schedule
  SeededRandom storage_random_;  // SimulatedStorage's write/sync/read faults
  SeededRandom crash_random_;    // torn tails
  ManualClock clock_;
  storage::SimulatedStorage disk_;
  FaultyStorage storage_;
  EngineOptions engine_options_;
  Workload workload_;
  std::unique_ptr<Engine> engine_;
  Oracle oracle_;
  std::optional<Unknown> unknown_;
  bool restart_needed_ = false;
  SimResult result_;
  uint64_t step_ = 0;
  uint64_t hash_ = kFnvOffset;
};

Scenario ScenarioFor(uint64_t seed) {
  Dice dice(StreamSeed(seed, 4));
  return MakeScenario(dice);
}

Simulator::Simulator(const SimOptions& options)
    : options_(options),
      rates_(options.faults.value_or(FaultRatesForSeed(options.seed))),
      dice_(StreamSeed(options.seed, 1)),
      storage_random_(StreamSeed(options.seed, 2)),
      crash_random_(StreamSeed(options.seed, 3)),
      clock_(Timestamp{kStartNs + StreamSeed(options.seed, 5) % (1000 * kNanosPerSecond)}),
      disk_(storage_random_),
      storage_(disk_, crash_random_),
      workload_(dice_, ScenarioFor(options.seed)) {
  result_.seed = options.seed;
  result_.faults = rates_;
  result_.reproduce = ReproduceCommand(options);
  engine_options_.expire_when_idle = false;    // expiry only right before a request (determinism)
  engine_options_.snapshot_every_records = 0;  // snapshots only when the simulator asks
  engine_options_.expected_accounts = 64;
  engine_options_.expected_transfers = 1024;
  // Small segments on most seeds, so segment roll-over is crashed into too.
  if (dice_.Percent(70)) engine_options_.segment_bytes_max = dice_.Between(4096, 64 * 1024);
  engine_options_.snapshots_kept = static_cast<uint32_t>(dice_.Between(1, 3));
}

// ---------------------------------------------------------------------------------------------
// Output

void Simulator::Trace(const char* format, ...) {
  if (options_.trace == nullptr) return;
  std::fprintf(options_.trace, "[seed %llu step %llu] ",
               static_cast<unsigned long long>(options_.seed),
               static_cast<unsigned long long>(step_));
  va_list args;
  va_start(args, format);
  std::vfprintf(options_.trace, format, args);
  va_end(args);
  std::fputc('\n', options_.trace);
}

bool Simulator::Fail(const std::string& what, const Request* request) {
  if (!result_.ok) return false;  // keep the first failure
  result_.ok = false;
  result_.step = step_;
  std::string message = "simulation failed: seed " + std::to_string(options_.seed) + ", step " +
                        std::to_string(step_) + ": " + what;
  if (request != nullptr) message += "\n  request: " + Describe(*request);
  if (unknown_) message += "\n  outcome-unknown request pending: " + unknown_->description;
  const std::string crash = storage_.last_crash();
  if (!crash.empty()) message += "\n  last crash: " + crash;
  message += "\n  reproduce with: " + result_.reproduce;
  result_.failure = message;
  Trace("FAILED: %s", what.c_str());
  return false;
}

void Simulator::HashU64(uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    hash_ ^= (v >> (8 * i)) & 0xff;
    hash_ *= kFnvPrime;
  }
}

void Simulator::HashReply(const Reply& r) {
  HashU64(r.error ? static_cast<uint64_t>(*r.error) + 1 : 0);
  for (const auto& x : r.account_results) HashU64(uint64_t{x.index} << 8 | uint64_t(x.result));
  for (const auto& x : r.transfer_results) HashU64(uint64_t{x.index} << 8 | uint64_t(x.result));
  for (const ledger::Account& a : r.accounts) {
    HashU128(a.id.value);
    HashU128(a.debits_pending.minor() ^ a.credits_posted.minor());
    HashU128(a.debits_posted.minor() ^ a.credits_pending.minor());
    HashU64(a.timestamp.ns ^ a.flags);
  }
  for (const ledger::Transfer& t : r.transfers) {
    HashU128(t.id.value);
    HashU128(t.amount.minor());
    HashU64(t.timestamp.ns ^ t.flags);
  }
  for (const ledger::AccountBalance& b : r.balances) HashU64(b.timestamp.ns);
  for (const ledger::PendingStatus s : r.pending_statuses) HashU64(uint64_t(s));
  HashU64(r.query_error ? uint64_t(*r.query_error) + 1 : 0);
  HashU64(r.durable_sequence);
}

void Simulator::UpdateAbortContext() {
  std::snprintf(g_abort_context, sizeof g_abort_context,
                "simulation aborted: seed %llu, step %llu (an assertion in the engine or the "
                "oracle)\n  reproduce with: %s\n",
                static_cast<unsigned long long>(options_.seed),
                static_cast<unsigned long long>(step_), result_.reproduce.c_str());
}

// ---------------------------------------------------------------------------------------------
// Faults

storage::SimulatedFaults Simulator::RunningFaults() const {
  storage::SimulatedFaults f;
  f.write_io_error_ppm = rates_.write_error_ppm / 2;
  f.write_no_space_ppm = rates_.write_error_ppm - rates_.write_error_ppm / 2;
  f.sync_io_error_ppm = rates_.sync_error_ppm;
  return f;
}

storage::SimulatedFaults Simulator::RecoveryFaults() const {
  storage::SimulatedFaults f = RunningFaults();
  f.read_io_error_ppm = rates_.read_error_ppm;
  return f;
}

void Simulator::ArmCrash(uint64_t within) {
  ArmedCrash crash;
  crash.at_mutation = storage_.mutations() + dice_.Between(1, within);
  const uint64_t kind = dice_.Below(4);
  crash.kind = kind < 2   ? CrashKind::power_cut_torn
               : kind < 3 ? CrashKind::power_cut_clean
                          : CrashKind::process_kill;
  crash.apply_first = dice_.Percent(50);
  crash.garble_torn_sector = dice_.Percent(50);
  storage_.Arm(crash);
}

// ---------------------------------------------------------------------------------------------
// Run

bool Simulator::Setup() {
  UpdateAbortContext();
  Trace(
      "fault rates (ppm): write %u, sync %u, read in recovery %u, armed crash %u, idle crash %u, "
      "restart %u, crash in recovery %u; segment bytes %llu, snapshots kept %u",
      rates_.write_error_ppm, rates_.sync_error_ppm, rates_.read_error_ppm, rates_.crash_armed_ppm,
      rates_.crash_idle_ppm, rates_.restart_ppm, rates_.crash_in_recovery_ppm,
      static_cast<unsigned long long>(engine_options_.segment_bytes_max),
      engine_options_.snapshots_kept);
  if (auto s = Engine::Initialize(storage_); !s.ok()) {
    return Fail("Engine::Initialize failed: " + s.error().Message());
  }
  if (!OpenWithRetries()) return false;
  storage_.SetFaults(RunningFaults());
  return FullCheck("initial");
}

SimResult Simulator::Run() {
  const AbortContextScope abort_scope;
  const auto start = std::chrono::steady_clock::now();
  bool ok = Setup();
  while (ok && step_ < options_.steps) ok = Step();
  if (ok) {  // a last clean restart: everything acknowledged must come back
    ok = Restart("final restart");
  }
  if (ok) result_.step = step_;
  engine_.reset();
  result_.stats.steps = step_;
  result_.stats.crashes = storage_.crashes();
  result_.stats.storage_operations = storage_.operations();
  result_.stats.accounts = oracle_.model.state().accounts.size();
  result_.stats.transfers = oracle_.model.state().transfers.size();
  result_.stats.journal_records = oracle_.records;
  result_.trace_hash = hash_;
  const auto elapsed = std::chrono::steady_clock::now() - start;
  Trace("done: %s in %lld ms", result_.ok ? "ok" : "FAILED",
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
  return result_;
}

void Simulator::AdvanceClock() {
  const uint64_t r = dice_.Below(1000);
  if (r < 450) {
    clock_.Advance(dice_.Below(1000));  // nanoseconds: timestamps collide with the clock
  } else if (r < 750) {
    clock_.Advance(dice_.Below(50'000'000));
  } else if (r < 940) {
    clock_.Advance(dice_.Below(3 * kNanosPerSecond));  // pending timeouts are 1-5 s
  } else if (r < 990) {
    clock_.Advance(dice_.Below(10 * kNanosPerSecond));
  } else {  // the wall clock steps back (NTP): the sequencer keeps timestamps increasing
    clock_.Set(Timestamp{clock_.Now().ns - dice_.Below(2 * kNanosPerSecond)});
  }
}

bool Simulator::NeedsRestart() const {
  return restart_needed_ || storage_.crashed() || engine_->failure().has_value();
}

bool Simulator::Step() {
  ++step_;
  UpdateAbortContext();
  AdvanceClock();
  if (!storage_.armed() && dice_.Ppm(rates_.crash_armed_ppm)) ArmCrash(kCrashWithinMutations);
  bool ok = true;
  if (step_ == options_.self_test_forget_step) {
    ok = ForgetOneRequest();
  } else {
    const uint64_t r = dice_.Below(100);
    const bool few_accounts = oracle_.model.state().accounts.size() < 2;
    if (few_accounts || r < 8) {
      ok = DoAccounts();
    } else if (r < 70) {
      ok = DoTransfers();
    } else if (r < 95) {
      ok = DoQuery();
    } else if (r < 98) {
      ok = DoSnapshot();
    }  // else: only the clock moved
  }
  if (!ok) return false;
  HashU64(step_);
  HashU64(storage_.operations());
  if (!NeedsRestart() && dice_.Ppm(rates_.crash_idle_ppm)) {
    const CrashKind kind =
        dice_.Percent(70) ? CrashKind::power_cut_torn : CrashKind::power_cut_clean;
    storage_.CrashNow(kind, dice_.Percent(50));
    Trace("power cut between requests (%s)", std::string(CrashKindName(kind)).c_str());
  }
  if (NeedsRestart()) return Restart("after a failure or crash");
  if (dice_.Ppm(rates_.restart_ppm)) {
    ++result_.stats.clean_restarts;
    return Restart("clean restart");
  }
  if (options_.check_every_steps != 0 && step_ % options_.check_every_steps == 0) {
    return FullCheck("periodic");
  }
  return true;
}

bool Simulator::DoAccounts() {
  Request r;
  r.kind = RequestKind::create_accounts;
  r.accounts = workload_.Accounts(oracle_.model);
  return Exchange(r);
}

bool Simulator::DoTransfers() {
  Request r;
  r.kind = RequestKind::create_transfers;
  r.transfers = workload_.Transfers(oracle_.model);
  for (size_t i = 0; i + 1 < r.transfers.size(); ++i) {
    const bool starts =
        (r.transfers[i].flags & ledger::transfer_flags::kLinked) != 0 &&
        (i == 0 || (r.transfers[i - 1].flags & ledger::transfer_flags::kLinked) == 0);
    result_.stats.linked_chains += starts ? 1 : 0;
  }
  if (!Exchange(r)) return false;
  workload_.Observe(oracle_.model, r.transfers);
  return true;
}

bool Simulator::DoQuery() { return Exchange(workload_.Query(oracle_.model, clock_.Now().ns)); }

bool Simulator::DoSnapshot() {
  const engine::EngineResult<engine::SnapshotInfo> snapshot = engine_->Snapshot();
  HashU64(snapshot.ok() ? snapshot.value().sequence : 0);
  if (snapshot.ok()) {
    ++result_.stats.snapshots;
    Trace("snapshot %s at sequence %llu", snapshot.value().file.c_str(),
          static_cast<unsigned long long>(snapshot.value().sequence));
    if (snapshot.value().sequence != oracle_.records) {
      return Fail("snapshot covers sequence " + std::to_string(snapshot.value().sequence) +
                  " but " + std::to_string(oracle_.records) + " records are acknowledged");
    }
    return true;
  }
  ++result_.stats.snapshots_failed;
  const EngineError code = snapshot.error().code;
  Trace("snapshot failed: %s", snapshot.error().Message().c_str());
  if (code == EngineError::snapshot_failed || code == EngineError::storage_failed) return true;
  return Fail("Engine::Snapshot failed with an unexpected error: " + snapshot.error().Message());
}

// Self-test: a transfer between two accounts the oracle never hears of. The next reply's
// durable_sequence (or the next full check) must give it away.
bool Simulator::ForgetOneRequest() {
  const u128 a = MakeU128(0x5E1F, 1);
  const u128 b = MakeU128(0x5E1F, 2);
  ledger::Account account;
  account.ledger = 1;
  account.code = 1;
  account.id = AccountId(a);
  ledger::Account other = account;
  other.id = AccountId(b);
  HashReply(engine_->CreateAccounts({account, other}));
  ledger::Transfer t;
  t.id = TransferId(workload_.FreshTransferId());
  t.debit_account_id = AccountId(a);
  t.credit_account_id = AccountId(b);
  t.amount = Amount::FromMinor(1);
  t.ledger = 1;
  t.code = 1;
  HashReply(engine_->CreateTransfers({t}));
  Trace("self-test: sent two accounts and a transfer the oracle does not know");
  return true;
}

// ---------------------------------------------------------------------------------------------
// One request

bool Simulator::Exchange(const Request& request, Expected* expected_out) {
  TPW_ASSERT(!unknown_.has_value());
  const uint64_t wall = clock_.Now().ns;
  Reply reply = engine_->Execute(request);
  ++result_.stats.requests;
  result_.stats.events += request.accounts.size() + request.transfers.size();
  HashReply(reply);
  if (reply.error == EngineError::storage_failed) {
    // Outcome unknown: keep the oracle as it would be with the request applied; recovery
    // decides which of the two it was.
    ++result_.stats.storage_failed_replies;
    Unknown unknown{oracle_, Describe(request)};
    (void)ApplyRequest(unknown.applied, request, wall, engine_options_.expiry_batch_max);
    unknown_ = std::move(unknown);
    restart_needed_ = true;
    Trace("%s -> storage_failed (outcome unknown)", std::string(KindName(request.kind)).c_str());
    return true;
  }
  const Expected e = ApplyRequest(oracle_, request, wall, engine_options_.expiry_batch_max);
  result_.stats.expired += e.expired;
  if (request.kind == RequestKind::create_transfers) result_.stats.transfers_created += e.created;
  for (const ledger::CreateTransfersResult& r : e.transfer_results) {
    if (r.result == ledger::CreateTransferResult::linked_event_failed) {
      ++result_.stats.linked_chains_failed;
      break;
    }
  }
  if (options_.trace != nullptr) {
    std::string rejected;
    for (const auto& x : e.account_results) {
      rejected += " " + std::string(ledger::ResultName(x.result));
    }
    for (const auto& x : e.transfer_results) {
      rejected += " " + std::string(ledger::ResultName(x.result));
    }
    Trace("%s: %zu events, %llu created, %llu expired before; storage ops %llu%s%s",
          std::string(KindName(request.kind)).c_str(),
          request.accounts.size() + request.transfers.size(),
          static_cast<unsigned long long>(e.created), static_cast<unsigned long long>(e.expired),
          static_cast<unsigned long long>(storage_.operations()),
          rejected.empty() ? "" : "; rejected:", rejected.c_str());
  }
  if (!CompareReply(request, e, reply)) return false;
  if (expected_out != nullptr) *expected_out = e;
  return true;
}

bool Simulator::CompareList(const std::string& what, size_t want, size_t got) {
  if (want == got) return true;
  return Fail(what + ": expected " + std::to_string(want) + " items, engine returned " +
              std::to_string(got));
}

bool Simulator::CompareReply(const Request& request, const Expected& e, const Reply& reply) {
  const Request* r = &request;
  if (e.error != reply.error) {
    return Fail(std::string("reply error: expected ") +
                    (e.error ? std::string(engine::EngineErrorName(*e.error)) : "none") +
                    ", engine " +
                    (reply.error ? std::string(engine::EngineErrorName(*reply.error)) : "none"),
                r);
  }
  if (reply.error) return true;
  const auto results_text = [](const auto& results) {
    std::string s;
    for (const auto& x : results) {
      s += "[" + std::to_string(x.index) + "]=" + std::string(ledger::ResultName(x.result)) + " ";
    }
    return s.empty() ? std::string("all created") : s;
  };
  const auto same_results = [](const auto& a, const auto& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](auto x, auto y) {
             return x.index == y.index && x.result == y.result;
           });
  };
  if (!same_results(e.account_results, reply.account_results)) {
    return Fail("account results: expected " + results_text(e.account_results) + ", engine " +
                    results_text(reply.account_results),
                r);
  }
  if (!same_results(e.transfer_results, reply.transfer_results)) {
    return Fail("transfer results: expected " + results_text(e.transfer_results) + ", engine " +
                    results_text(reply.transfer_results),
                r);
  }
  if (!CompareList("accounts", e.accounts.size(), reply.accounts.size())) return false;
  for (size_t i = 0; i < e.accounts.size(); ++i) {
    const std::string diff = DiffAccount(e.accounts[i], reply.accounts[i]);
    if (!diff.empty()) return Fail("account " + Dec(e.accounts[i].id.value) + ": " + diff, r);
  }
  if (!CompareList("transfers", e.transfers.size(), reply.transfers.size())) return false;
  for (size_t i = 0; i < e.transfers.size(); ++i) {
    const std::string diff = DiffTransfer(e.transfers[i], reply.transfers[i]);
    if (!diff.empty()) return Fail("transfer " + Dec(e.transfers[i].id.value) + ": " + diff, r);
  }
  if (!CompareList("balances", e.balances.size(), reply.balances.size())) return false;
  for (size_t i = 0; i < e.balances.size(); ++i) {
    const std::string diff = DiffBalance(e.balances[i], reply.balances[i]);
    if (!diff.empty()) return Fail("balance " + std::to_string(i) + ": " + diff, r);
  }
  if (!CompareList("pending statuses", e.pending_statuses.size(), reply.pending_statuses.size())) {
    return false;
  }
  for (size_t i = 0; i < e.pending_statuses.size(); ++i) {
    if (e.pending_statuses[i] != reply.pending_statuses[i]) {
      return Fail("pending status of " + Dec(request.ids[i]) + ": expected " +
                      std::string(PendingStatusName(e.pending_statuses[i])) + ", engine " +
                      std::string(PendingStatusName(reply.pending_statuses[i])),
                  r);
    }
  }
  if (e.query_error != reply.query_error) {
    return Fail(
        std::string("query error: expected ") +
            (e.query_error ? std::string(ledger::ResultName(*e.query_error)) : "none") +
            ", engine " +
            (reply.query_error ? std::string(ledger::ResultName(*reply.query_error)) : "none"),
        r);
  }
  if (reply.durable_sequence != oracle_.records) {
    return Fail("reply durable up to journal sequence " + std::to_string(reply.durable_sequence) +
                    ", but the acknowledged requests produced " + std::to_string(oracle_.records) +
                    " records",
                r);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Crashes and recovery

bool Simulator::Restart(const std::string& why) {
  Trace("restart (%s)%s", why.c_str(),
        storage_.crashed() ? (" after " + storage_.last_crash()).c_str() : "");
  engine_.reset();  // joins the engine's threads; a dead process's handles stay dead
  if (storage_.crashed()) storage_.Reboot();
  storage_.Disarm();
  restart_needed_ = false;
  if (!OpenWithRetries()) return false;
  storage_.SetFaults(RunningFaults());
  return AdoptRecoveredState() && CheckJournal() && FullCheck("after recovery");
}

bool Simulator::OpenWithRetries() {
  for (uint32_t attempt = 0; attempt < kOpenAttemptsMax; ++attempt) {
    const bool faulty = attempt < kFaultyOpenAttempts;
    storage_.SetFaults(faulty ? RecoveryFaults() : storage::SimulatedFaults{});
    if (faulty && dice_.Ppm(rates_.crash_in_recovery_ppm)) ArmCrash(12);
    auto opened = Engine::Open(storage_, engine_options_, &clock_);
    storage_.Disarm();
    if (opened.ok()) {
      engine_ = std::move(opened).value();
      ++result_.stats.recoveries;
      const engine::RecoveryReport& report = engine_->recovery();
      result_.stats.recoveries_from_snapshot += report.from_snapshot ? 1 : 0;
      result_.stats.torn_tail_bytes += report.torn_tail_bytes;
      HashU64(report.torn_tail_bytes);
      HashU64(report.replayed_records);
      Trace("recovered: %s, %llu records replayed, %llu torn bytes dropped%s",
            report.from_snapshot ? report.snapshot_file.c_str() : "no snapshot",
            static_cast<unsigned long long>(report.replayed_records),
            static_cast<unsigned long long>(report.torn_tail_bytes),
            report.skipped_snapshots.empty() ? "" : ", snapshots skipped:");
      for (const std::string& skipped : report.skipped_snapshots) Trace("  %s", skipped.c_str());
      return true;
    }
    ++result_.stats.open_failures;
    const engine::EngineFailure failure = opened.error();
    Trace("open attempt %u failed: %s", attempt, failure.Message().c_str());
    if (storage_.crashed()) {  // a crash during recovery: boot again
      ++result_.stats.crashes_in_recovery;
      storage_.Reboot();
      continue;
    }
    if (!faulty) return Fail("recovery failed with no fault injected: " + failure.Message());
    // An injected I/O error must surface as one, never as damage ("restore from a backup").
    if (failure.code != EngineError::io_error) {
      return Fail("an injected storage fault made recovery report " +
                  std::string(engine::EngineErrorName(failure.code)) + ": " + failure.Message());
    }
  }
  return Fail("recovery did not succeed in " + std::to_string(kOpenAttemptsMax) + " attempts");
}

// The journal must hold exactly the acknowledged facts, plus the outcome-unknown request's
// facts if they made it: whichever it is, that is the state from now on.
bool Simulator::AdoptRecoveredState() {
  const engine::EngineStats stats = engine_->Stats();
  const uint64_t records = stats.journal_last_sequence;
  if (unknown_.has_value()) {
    const uint64_t with = unknown_->applied.records;
    if (records == with && with != oracle_.records) {
      oracle_ = std::move(unknown_->applied);
      ++result_.stats.unknown_applied;
      Trace("outcome-unknown request: applied");
    } else if (records == oracle_.records) {
      result_.stats.unknown_not_applied += with != oracle_.records ? 1 : 0;
      Trace("outcome-unknown request: not applied");
    } else {
      return Fail("recovered journal ends at sequence " + std::to_string(records) +
                  "; acknowledged: " + std::to_string(oracle_.records) + ", or " +
                  std::to_string(with) + " with the outcome-unknown request");
    }
    unknown_.reset();
  } else if (records != oracle_.records) {
    return Fail("recovered journal ends at sequence " + std::to_string(records) + " but " +
                std::to_string(oracle_.records) + " records were acknowledged");
  }
  // last_timestamp falls back to what replaying the journal gives (rejected events consumed
  // timestamps but are not journaled), whether recovery started from a snapshot or not: a
  // snapshot holds exactly the state replay rebuilds.
  const uint64_t ts = stats.last_timestamp.ns;
  if (ts != oracle_.fact_ts) {
    return Fail("recovered last timestamp " + std::to_string(ts) + ", but replaying the " +
                "acknowledged facts gives " + std::to_string(oracle_.fact_ts) +
                (engine_->recovery().from_snapshot ? " (recovered from a snapshot)" : ""));
  }
  oracle_.last_ts = ts;
  return true;
}

bool Simulator::CheckJournal() {
  storage_.SetFaults(storage::SimulatedFaults{});
  auto verified = journal::VerifyJournal(storage_);
  storage_.SetFaults(RunningFaults());
  if (!verified.ok()) return Fail("VerifyJournal after recovery: " + verified.error().Message());
  if (verified.value().stats.last_sequence.value != oracle_.records) {
    return Fail("VerifyJournal: journal ends at " +
                std::to_string(verified.value().stats.last_sequence.value) + ", expected " +
                std::to_string(oracle_.records));
  }
  result_.stats.journal_segments = verified.value().stats.segments;
  if (verified.value().stats.torn_tail_bytes != 0) {
    return Fail("VerifyJournal: a torn tail right after recovery (" +
                std::to_string(verified.value().stats.torn_tail_bytes) + " bytes)");
  }
  return true;
}

// Everything the engine can be asked, compared with the oracle: every account of the pool,
// every transfer id ever sent, pending statuses, per-account transfer lists and balance
// histories, and the counts. Faults and armed crashes are held off meanwhile.
bool Simulator::FullCheck(const char* why) {
  ++result_.stats.full_checks;
  const std::optional<ArmedCrash> armed = storage_.armed();
  storage_.Disarm();
  storage_.SetFaults(storage::SimulatedFaults{});
  Trace("full check (%s)", why);
  bool ok = true;
  Request accounts;
  accounts.kind = RequestKind::lookup_accounts;
  accounts.ids = workload_.scenario().account_ids;
  accounts.ids.push_back(0);
  ok = Exchange(accounts);  // first, so any due expiry runs (and is checked) now
  const std::vector<u128>& ids = workload_.transfer_ids();
  for (size_t from = 0; ok && from < ids.size(); from += kLookupIdsMax) {
    const size_t to = std::min(ids.size(), from + kLookupIdsMax);
    for (const RequestKind kind :
         {RequestKind::lookup_transfers, RequestKind::get_pending_status}) {
      Request r;
      r.kind = kind;
      r.ids.assign(ids.begin() + static_cast<ptrdiff_t>(from),
                   ids.begin() + static_cast<ptrdiff_t>(to));
      ok = ok && Exchange(r);
    }
  }
  ok = ok && CheckAccountLists();
  if (ok) {
    const engine::EngineStats stats = engine_->Stats();
    const auto& state = oracle_.model.state();
    if (stats.accounts != state.accounts.size() || stats.transfers != state.transfers_stored ||
        stats.pending != oracle_.model.pending_count()) {
      ok = Fail("engine stats: " + std::to_string(stats.accounts) + " accounts, " +
                std::to_string(stats.transfers) + " transfers, " + std::to_string(stats.pending) +
                " pending; expected " + std::to_string(state.accounts.size()) + ", " +
                std::to_string(state.transfers_stored) + ", " +
                std::to_string(oracle_.model.pending_count()));
    }
  }
  storage_.SetFaults(RunningFaults());
  if (armed) ArmCrash(kCrashWithinMutations);  // re-armed past the check's own writes
  return ok;
}

// Every existing account's transfers (both sides, paged) and, with `history`, its balances.
bool Simulator::CheckAccountLists() {
  for (const auto& [id, account] : oracle_.model.state().accounts) {
    for (const RequestKind kind :
         {RequestKind::get_account_transfers, RequestKind::get_account_balances}) {
      if (kind == RequestKind::get_account_balances &&
          (account.flags & ledger::account_flags::kHistory) == 0) {
        continue;
      }
      Request r;
      r.kind = kind;
      r.filter.account_id = AccountId(id);
      r.filter.limit = kQueryLimitMax;
      r.filter.flags = ledger::filter_flags::kDebits | ledger::filter_flags::kCredits;
      while (true) {
        Expected e;
        if (!Exchange(r, &e)) return false;
        const size_t n =
            kind == RequestKind::get_account_transfers ? e.transfers.size() : e.balances.size();
        if (n < kQueryLimitMax) break;
        const uint64_t last = kind == RequestKind::get_account_transfers
                                  ? e.transfers.back().timestamp.ns
                                  : e.balances.back().timestamp.ns;
        r.filter.timestamp_min = Timestamp{last + 1};
      }
    }
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public

FaultRates FaultRatesForSeed(uint64_t seed) {
  Dice dice(StreamSeed(seed, 6));
  FaultRates f;
  // Every tenth seed is a clean run: workload, snapshots and the final restart only. (The draw
  // below once chose the clean seeds; it stays so the other seeds keep their rates.)
  (void)dice.Percent(10);
  if (seed % 10 == 0) return f;
  f.write_error_ppm = static_cast<uint32_t>(dice.Pick(std::vector<uint64_t>{0, 500, 2000, 10000}));
  f.sync_error_ppm = static_cast<uint32_t>(dice.Pick(std::vector<uint64_t>{0, 500, 2000, 10000}));
  f.read_error_ppm = static_cast<uint32_t>(dice.Pick(std::vector<uint64_t>{0, 2000, 20000}));
  f.crash_armed_ppm = static_cast<uint32_t>(dice.Pick(std::vector<uint64_t>{5000, 15000, 40000}));
  f.crash_idle_ppm = static_cast<uint32_t>(dice.Pick(std::vector<uint64_t>{0, 3000, 10000}));
  f.restart_ppm = static_cast<uint32_t>(dice.Pick(std::vector<uint64_t>{0, 3000, 10000}));
  f.crash_in_recovery_ppm =
      static_cast<uint32_t>(dice.Pick(std::vector<uint64_t>{0, 100000, 300000}));
  return f;
}

std::string ReproduceCommand(const SimOptions& options) {
  std::string command = "tpwallet simulate --seed " + std::to_string(options.seed) + " --steps " +
                        std::to_string(options.steps);
  if (options.faults.has_value()) {
    const FaultRates& f = *options.faults;
    command +=
        " --write-error-ppm " + std::to_string(f.write_error_ppm) + " --sync-error-ppm " +
        std::to_string(f.sync_error_ppm) + " --read-error-ppm " + std::to_string(f.read_error_ppm) +
        " --crash-ppm " + std::to_string(f.crash_armed_ppm) + " --idle-crash-ppm " +
        std::to_string(f.crash_idle_ppm) + " --restart-ppm " + std::to_string(f.restart_ppm) +
        " --recovery-crash-ppm " + std::to_string(f.crash_in_recovery_ppm);
  }
  if (options.check_every_steps != SimOptions{}.check_every_steps) {
    command += " --check-every " + std::to_string(options.check_every_steps);
  }
  if (options.self_test_forget_step != 0) {
    command += " --self-test-forget-step " + std::to_string(options.self_test_forget_step);
  }
  return command;
}

std::string Summary(const SimResult& r) {
  const SimStats& s = r.stats;
  char hash[24];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(r.trace_hash));
  return "seed " + std::to_string(r.seed) + ": " + (r.ok ? "ok" : "FAILED") + ", " +
         std::to_string(s.steps) + " steps, " + std::to_string(s.requests) + " requests, " +
         std::to_string(s.transfers) + " transfers, " + std::to_string(s.expired) + " expired, " +
         std::to_string(s.crashes) + " crashes (" + std::to_string(s.crashes_in_recovery) +
         " in recovery), " + std::to_string(s.clean_restarts) + " clean restarts, " +
         std::to_string(s.storage_failed_replies) + " outcome-unknown (" +
         std::to_string(s.unknown_applied) + " applied, " + std::to_string(s.unknown_not_applied) +
         " not), " + std::to_string(s.recoveries) + " recoveries (" +
         std::to_string(s.recoveries_from_snapshot) + " from a snapshot), " +
         std::to_string(s.snapshots) + " snapshots, " + std::to_string(s.torn_tail_bytes) +
         " torn bytes, " + std::to_string(s.open_failures) + " failed opens, trace " + hash;
}

SimResult RunSimulation(const SimOptions& options) {
  Simulator simulator(options);
  return simulator.Run();
}

}  // namespace tpw::sim
