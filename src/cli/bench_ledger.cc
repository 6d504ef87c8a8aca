// tpwallet bench ledger --in-memory: the ledger state machine alone, TigerBeetle's defaults.
//
// Generation of each batch is outside the timed region; only CreateTransfers is timed, so the
// figure is the state machine's own throughput on one core.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "cli/bench.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "common/limits.h"
#include "ledger/ledger.h"

namespace tpw::cli {
namespace {

using ledger::Account;
using ledger::Transfer;

bool CreateBenchAccounts(ledger::Ledger& ledger, uint64_t count, uint64_t& next_timestamp) {
  std::vector<Account> batch;
  std::vector<ledger::CreateAccountsResult> results;
  for (uint64_t id = 1; id <= count; ++id) {
    Account a;
    a.id = AccountId(id);
    a.ledger = 1;
    a.code = 1;
    batch.push_back(a);
    if (batch.size() == kBatchEventsMax || id == count) {
      const Status<ledger::BatchError> status =
          ledger.CreateAccounts(batch, Timestamp{next_timestamp}, results);
      next_timestamp += batch.size();
      if (!status.ok() || !results.empty()) return false;
      batch.clear();
    }
  }
  return true;
}

int RunLedgerBench(const LedgerBenchOptions& options) {
  if (options.accounts < 2 || options.batch == 0 || options.batch > kBatchEventsMax ||
      options.hot_accounts == 1 || options.hot_accounts > options.accounts) {
    std::fprintf(stderr,
                 "error: need --accounts >= 2, 1 <= --batch <= %zu, and --hot-accounts 0 (off) or "
                 "2..accounts\n",
                 kBatchEventsMax);
    return kExitUsage;
  }
  if (!options.in_memory) return RunDurableLedgerBench(options);
  std::printf("tpwallet bench ledger --in-memory\n");
  std::printf("  settings: accounts=%lu transfers=%lu batch=%lu hot_accounts=%lu seed=%lu\n",
              options.accounts, options.transfers, options.batch, options.hot_accounts,
              options.seed);

  ledger::InMemoryStore store;
  store.Reserve(options.transfers, options.accounts);
  ledger::Ledger ledger(store, ledger::LedgerOptions{options.accounts, options.transfers});
  uint64_t next_timestamp = 1;
  if (!CreateBenchAccounts(ledger, options.accounts, next_timestamp)) {
    std::fprintf(stderr, "internal error: creating benchmark accounts failed\n");
    return kExitInternal;
  }

  SeededRandom random(options.seed);
  SystemClock clock;
  std::vector<Transfer> batch;
  std::vector<ledger::CreateTransfersResult> results;
  std::vector<uint64_t> batch_ns;
  uint64_t applied = 0;
  uint64_t failed = 0;
  uint64_t busy_ns = 0;
  uint64_t cpu_ns = 0;
  uint64_t next_report = options.transfers / 10;
  while (applied < options.transfers) {
    const uint64_t size = std::min(options.batch, options.transfers - applied);
    FillBatch(batch, size, options, random);
    const uint64_t start = clock.MonotonicNs();
    const uint64_t cpu_start = ThreadCpuNs();
    const Status<ledger::BatchError> status =
        ledger.CreateTransfers(batch, Timestamp{next_timestamp}, results);
    cpu_ns += ThreadCpuNs() - cpu_start;
    const uint64_t elapsed = clock.MonotonicNs() - start;
    TPW_ASSERT(status.ok());
    next_timestamp += size;
    batch_ns.push_back(elapsed);
    busy_ns += elapsed;
    failed += results.size();
    applied += size;
    if (applied >= next_report && options.transfers >= 1'000'000) {
      std::fprintf(stderr, "  progress: %lu/%lu transfers\n", applied, options.transfers);
      next_report += options.transfers / 10;
    }
  }
  ledger.CheckInvariants();

  std::sort(batch_ns.begin(), batch_ns.end());
  const double seconds = static_cast<double>(busy_ns) / 1e9;
  std::printf("  transfers applied: %lu (rejected: %lu)\n", applied, failed);
  std::printf("  throughput:        %.0f transfers/s (state machine time %.3f s)\n",
              static_cast<double>(applied) / seconds, seconds);
  std::printf(
      "  on-CPU:            %.0f transfers/s (CPU time %.3f s; wall above CPU = preempted)\n",
      static_cast<double>(applied) / (static_cast<double>(cpu_ns) / 1e9),
      static_cast<double>(cpu_ns) / 1e9);
  std::printf("  batch latency:     p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%zu batches)\n",
              Millis(Percentile(batch_ns, 0.50)), Millis(Percentile(batch_ns, 0.99)),
              Millis(batch_ns.back()), batch_ns.size());
  std::printf("  peak RSS:          %.1f MiB\n", static_cast<double>(PeakRssBytes()) / 1048576.0);
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

uint64_t ThreadCpuNs() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(now.tv_nsec);
}

uint64_t ProcessCpuNs() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1'000'000'000u +
         static_cast<uint64_t>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000u;
}

uint64_t PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

uint64_t Percentile(const std::vector<uint64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

double Millis(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

void FillBatch(std::vector<Transfer>& batch, uint64_t size, const LedgerBenchOptions& options,
               SeededRandom& random) {
  batch.resize(size);
  const uint64_t pool = options.hot_accounts != 0 ? options.hot_accounts : options.accounts;
  for (Transfer& t : batch) {
    t = Transfer{};
    t.id = TransferId(MakeU128(random.NextU64(), random.NextU64() | 1));
    const uint64_t debit = random.Uniform(pool);
    uint64_t credit = random.Uniform(pool - 1);
    if (credit >= debit) ++credit;  // distinct accounts, still uniform
    t.debit_account_id = AccountId(debit + 1);
    t.credit_account_id = AccountId(credit + 1);
    t.amount = Amount::FromMinor(1 + random.Uniform(1000));
    t.ledger = 1;
    t.code = 1;
  }
}

void RegisterBenchLedger(CLI::App& bench, int& exit_code) {
  auto options = std::make_shared<LedgerBenchOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "ledger",
      "Apply transfers to the ledger and print transfers/s and batch latency p50/p99/max.\n"
      "Defaults follow TigerBeetle's benchmark: 10,000 accounts, 10,000,000 transfers, batches "
      "of 8189, uniform.\n"
      "Examples:\n"
      "  tpwallet bench ledger                      # durable: journal + fdatasync per batch\n"
      "  tpwallet bench ledger --hot-accounts 10\n"
      "  tpwallet bench ledger --in-memory\n"
      "  tpwallet bench ledger --in-memory --hot-accounts 10\n"
      "  tpwallet bench ledger --in-memory --transfers 1000000 --batch 1000");
  cmd->add_flag("--in-memory", options->in_memory,
                "State machine alone: no journal, no disk");
  cmd->add_option("--data-dir", options->data_dir,
                  "Durable run: a new, empty data directory to use (kept afterwards); default: a "
                  "temporary directory under $TMPDIR, removed afterwards");
  cmd->add_option("--fsync", options->fsync,
                  "Durable run: 'always' (fdatasync per group commit) or 'never' (unsafe)")
      ->capture_default_str()
      ->check(CLI::IsMember({"always", "never"}));
  cmd->add_option("--in-flight", options->in_flight,
                  "Durable run: batches submitted and not yet answered (client pipelining)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--recovery", options->recovery,
                  "Durable run: afterwards, measure recovery by replay and from a snapshot")
      ->capture_default_str();
  cmd->add_option("--accounts", options->accounts, "Accounts to create")->capture_default_str();
  cmd->add_option("--transfers", options->transfers, "Transfers to apply")->capture_default_str();
  cmd->add_option("--batch", options->batch, "Transfers per batch (1..8189)")
      ->capture_default_str();
  cmd->add_option("--hot-accounts", options->hot_accounts,
                  "Draw every transfer's accounts from only this many accounts (contention); 0 "
                  "= uniform over all")
      ->capture_default_str();
  cmd->add_option("--seed", options->seed, "Random seed for ids, accounts and amounts")
      ->capture_default_str();
  cmd->callback([options, &exit_code] { exit_code = RunLedgerBench(*options); });
}

}  // namespace tpw::cli
