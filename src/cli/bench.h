// Shared pieces of the `tpwallet bench ledger` runs (in-memory and durable).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/limits.h"
#include "ledger/types.h"

namespace tpw::cli {

struct LedgerBenchOptions {
  bool in_memory = false;
  uint64_t accounts = 10'000;
  uint64_t transfers = 10'000'000;
  uint64_t batch = kBatchEventsMax;
  uint64_t hot_accounts = 0;  // 0: uniform over all accounts
  uint64_t seed = 42;
  // Durable run only.
  std::string data_dir;       // empty: a fresh directory under $TMPDIR, removed afterwards
  std::string fsync = "always";
  // Batches submitted and not yet answered. 2 keeps both the sequencer and the journal thread
  // busy (the engine pipelines two groups); more only adds queueing to every batch's latency.
  uint64_t in_flight = 2;
  bool recovery = true;       // measure recovery (with and without a snapshot) afterwards
};

uint64_t PeakRssBytes();
// The monotonic clock in ns (latencies and run times).
uint64_t NowNs();
// CPU time of the calling thread in ns: on a shared machine, wall time much above it means the
// run was preempted, and the CPU-time rate is the better figure to compare code changes with.
uint64_t ThreadCpuNs();
// CPU time (user + system) of the whole process in ns.
uint64_t ProcessCpuNs();
uint64_t Percentile(const std::vector<uint64_t>& sorted, double fraction);
double Millis(uint64_t ns);
void FillBatch(std::vector<ledger::Transfer>& batch, uint64_t size,
               const LedgerBenchOptions& options, SeededRandom& random);

int RunDurableLedgerBench(const LedgerBenchOptions& options);

}  // namespace tpw::cli
