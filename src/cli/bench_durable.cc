// tpwallet bench ledger (durable): the whole engine on a real disk — sequencer, journal append,
// one fdatasync per group commit, replies only after durability — with TigerBeetle's defaults.
//
// The client generates each batch on the fly (so the process holds what the engine holds, not
// 10M pre-built transfers) and keeps --in-flight batches outstanding, as a server with several
// clients would. Latency is per batch, from submit to the durable reply.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "cli/bench.h"
#include "cli/commands.h"
#include "engine/engine.h"
#include "storage/posix_storage.h"

namespace tpw::cli {
namespace {

using engine::Engine;
using engine::EngineOptions;

struct BenchDir {
  std::string path;
  bool remove_after = false;
  ~BenchDir() {
    if (!remove_after) return;
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

bool MakeBenchDir(const LedgerBenchOptions& options, BenchDir& dir) {
  if (!options.data_dir.empty()) {
    dir.path = options.data_dir;
    return true;
  }
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                        "/tpwallet-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return false;
  dir.path = pattern;
  dir.remove_after = true;
  return true;
}

EngineOptions BenchEngineOptions(const LedgerBenchOptions& options) {
  EngineOptions engine_options;
  engine_options.fsync =
      options.fsync == "never" ? engine::FsyncMode::never : engine::FsyncMode::always;
  engine_options.expected_accounts = options.accounts;
  engine_options.expected_transfers = options.transfers;
  engine_options.queue_requests_max = static_cast<uint32_t>(options.in_flight * 2);
  return engine_options;
}

bool CreateAccounts(Engine& engine, uint64_t count) {
  std::vector<ledger::Account> batch;
  for (uint64_t id = 1; id <= count; ++id) {
    ledger::Account a;
    a.id = AccountId(id);
    a.ledger = 1;
    a.code = 1;
    batch.push_back(a);
    if (batch.size() == kBatchEventsMax || id == count) {
      const engine::Reply reply = engine.CreateAccounts(std::move(batch));
      if (reply.error || !reply.account_results.empty()) return false;
      batch.clear();
    }
  }
  return true;
}

// Counts outstanding batches; Submit's callbacks run on the engine's journal thread.
struct LoadState {
  std::mutex mutex;
  std::condition_variable changed;
  uint64_t in_flight = 0;
  std::vector<uint64_t> latency_ns;
  uint64_t rejected = 0;
  bool engine_failed = false;
};

struct LoadResult {
  uint64_t elapsed_ns = 0;
  std::vector<uint64_t> latency_ns;
  uint64_t rejected = 0;
  bool failed = false;
};

LoadResult RunLoad(Engine& engine, const LedgerBenchOptions& options) {
  SystemClock clock;
  SeededRandom random(options.seed);
  LoadState state;
  const uint64_t batches = (options.transfers + options.batch - 1) / options.batch;
  state.latency_ns.resize(batches);
  uint64_t next_report = options.transfers / 10;
  const uint64_t start = clock.MonotonicNs();
  uint64_t submitted = 0;
  for (uint64_t b = 0; b < batches; ++b) {
    {
      std::unique_lock lock(state.mutex);
      state.changed.wait(lock, [&] { return state.in_flight < options.in_flight; });
      ++state.in_flight;
    }
    engine::Request request;
    request.kind = engine::RequestKind::create_transfers;
    const uint64_t size = std::min(options.batch, options.transfers - submitted);
    FillBatch(request.transfers, size, options, random);
    submitted += size;
    const uint64_t sent = clock.MonotonicNs();
    request.done = [&state, &clock, b, sent](engine::Reply&& reply) {
      const uint64_t latency = clock.MonotonicNs() - sent;
      std::lock_guard lock(state.mutex);
      state.latency_ns[b] = latency;
      state.rejected += reply.transfer_results.size();
      state.engine_failed = state.engine_failed || reply.error.has_value();
      --state.in_flight;
      state.changed.notify_all();
    };
    engine.Submit(std::move(request));
    if (submitted >= next_report && options.transfers >= 1'000'000) {
      std::fprintf(stderr, "  progress: %lu/%lu transfers submitted\n", submitted,
                   options.transfers);
      next_report += options.transfers / 10;
    }
  }
  {
    std::unique_lock lock(state.mutex);
    state.changed.wait(lock, [&] { return state.in_flight == 0; });
  }
  LoadResult result;
  result.elapsed_ns = clock.MonotonicNs() - start;
  result.latency_ns = std::move(state.latency_ns);
  result.rejected = state.rejected;
  result.failed = state.engine_failed;
  return result;
}

// Opens the engine and reports how long recovery took; the engine is closed again.
bool MeasureRecovery(storage::Storage& storage, const LedgerBenchOptions& options,
                     bool use_snapshot) {
  EngineOptions engine_options = BenchEngineOptions(options);
  engine_options.ignore_snapshots = !use_snapshot;
  auto engine = Engine::Open(storage, engine_options);
  if (!engine.ok()) {
    std::fprintf(stderr, "error: reopening failed: %s\n", engine.error().Message().c_str());
    return false;
  }
  const engine::RecoveryReport& report = engine.value()->recovery();
  std::printf("  recovery (%s): %.3f s — %lu facts replayed%s%s\n",
              use_snapshot ? "snapshot + replay" : "full replay",
              static_cast<double>(report.elapsed_ns) / 1e9, report.replayed_records,
              report.from_snapshot ? ", snapshot " : "",
              report.from_snapshot ? report.snapshot_file.c_str() : "");
  return report.from_snapshot == use_snapshot;
}

}  // namespace

int RunDurableLedgerBench(const LedgerBenchOptions& options) {
  BenchDir dir;
  if (!MakeBenchDir(options, dir)) {
    std::fprintf(stderr, "error: cannot create a temporary directory for the benchmark\n");
    return kExitFailure;
  }
  auto storage = storage::PosixStorage::Open(dir.path, true);
  if (!storage.ok()) {
    std::fprintf(stderr, "error: %s\n", storage.error().Message().c_str());
    return kExitFailure;
  }
  if (auto s = Engine::Initialize(*storage.value()); !s.ok()) {
    std::fprintf(stderr, "error: %s\n  (the benchmark needs a new, empty --data-dir)\n",
                 s.error().Message().c_str());
    return kExitFailure;
  }
  std::printf("tpwallet bench ledger (durable)\n");
  std::printf(
      "  settings: accounts=%lu transfers=%lu batch=%lu hot_accounts=%lu seed=%lu fsync=%s "
      "in_flight=%lu dir=%s\n",
      options.accounts, options.transfers, options.batch, options.hot_accounts, options.seed,
      options.fsync.c_str(), options.in_flight, dir.path.c_str());

  LoadResult load;
  engine::EngineStats stats;
  {
    auto engine = Engine::Open(*storage.value(), BenchEngineOptions(options));
    if (!engine.ok()) {
      std::fprintf(stderr, "error: %s\n", engine.error().Message().c_str());
      return kExitFailure;
    }
    if (!CreateAccounts(*engine.value(), options.accounts)) {
      std::fprintf(stderr, "internal error: creating benchmark accounts failed\n");
      return kExitInternal;
    }
    load = RunLoad(*engine.value(), options);
    stats = engine.value()->Stats();
    if (load.failed) {
      std::fprintf(stderr, "error: the engine failed during the load: %s\n",
                   engine.value()->failure() ? engine.value()->failure()->Message().c_str() : "?");
      return kExitFailure;
    }
  }
  const uint64_t rss_after_load = PeakRssBytes();
  std::sort(load.latency_ns.begin(), load.latency_ns.end());
  const double seconds = static_cast<double>(load.elapsed_ns) / 1e9;
  const uint64_t accepted = options.transfers - load.rejected;
  std::printf("  transfers accepted: %lu (rejected: %lu)\n", accepted, load.rejected);
  std::printf("  throughput:         %.0f durable transfers/s (load %.3f s)\n",
              static_cast<double>(accepted) / seconds, seconds);
  std::printf("  batch latency:      p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%zu batches)\n",
              Millis(Percentile(load.latency_ns, 0.50)), Millis(Percentile(load.latency_ns, 0.99)),
              Millis(load.latency_ns.back()), load.latency_ns.size());
  std::printf("  journal:            %.1f bytes/transfer (%.1f MiB, %lu records, %lu groups)\n",
              static_cast<double>(stats.journal_bytes) / static_cast<double>(accepted),
              static_cast<double>(stats.journal_bytes) / 1048576.0, stats.journal_records,
              stats.groups_committed);
  std::printf("  peak RSS:           %.1f MiB\n", static_cast<double>(rss_after_load) / 1048576.0);
  if (!options.recovery) return load.rejected == 0 ? kExitOk : kExitFailure;

  bool ok = MeasureRecovery(*storage.value(), options, false);
  {
    auto engine = Engine::Open(*storage.value(), BenchEngineOptions(options));
    if (!engine.ok()) return kExitFailure;
    auto snapshot = engine.value()->Snapshot();
    if (!snapshot.ok()) {
      std::fprintf(stderr, "error: %s\n", snapshot.error().Message().c_str());
      return kExitFailure;
    }
    std::printf("  snapshot:           %s, %.1f MiB in %.3f s\n", snapshot.value().file.c_str(),
                static_cast<double>(snapshot.value().bytes) / 1048576.0,
                static_cast<double>(snapshot.value().elapsed_ns) / 1e9);
  }
  ok = MeasureRecovery(*storage.value(), options, true) && ok;
  return ok && load.rejected == 0 ? kExitOk : kExitFailure;
}

}  // namespace tpw::cli
