// The seeded deterministic simulator (DESIGN.md, STYLE.md rule 11; TigerBeetle's VOPR in
// spirit): the whole engine — sequencer, journal thread, journal, snapshots, recovery — runs on
// a simulated disk and a manual clock, driven by a random workload, with crashes, torn writes,
// lost unsynced data and I/O errors injected, all derived from one seed.
//
// The oracle is the acknowledged state: every reply the engine gives is checked against
// ledger::reference::ReferenceModel (an independent implementation of docs/ledger.md) fed with
// the same requests at the same timestamps. After every crash and restart the recovered engine
// must hold exactly that state — every account, transfer, pending status, per-account transfer
// list and balance history, the journal's record count — except for the one request whose
// outcome was unknown (its reply was storage_failed), which must be wholly applied or wholly
// absent; the simulator then adopts whichever it was.
//
// Determinism: exactly one request is in flight at a time (the blocking Engine calls),
// EngineOptions::expire_when_idle is off, and snapshots are only taken on demand, so the
// sequence of storage operations is a function of the seed; SimResult::trace_hash folds every
// reply and the storage operation count after every step, so two runs can be compared.
//
// A failure stops the run and says: seed, step, what differed, and the command that replays it.
// An engine assertion (TPW_ASSERT aborts) prints the same seed/step line before the process
// dies. See tests/sim/README.md.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace tpw::sim {

// Fault rates, in parts per million.
struct FaultRates {
  // Per Append/Write: a random prefix is written, then io_error or no_space.
  uint32_t write_error_ppm = 0;
  // Per DataSync/SyncDirectory: the sync fails and makes nothing durable.
  uint32_t sync_error_ppm = 0;
  // Per Read, only while the engine recovers (Open): a read fault during normal operation stops
  // the process on purpose (engine/journal_store.cc), so it is not injected there.
  uint32_t read_error_ppm = 0;
  // Per step: arm a crash (a power cut with or without a torn tail, or a process kill) at one
  // of the next few storage writes, wherever the engine happens to be.
  uint32_t crash_armed_ppm = 0;
  // Per step: a power cut between two requests.
  uint32_t crash_idle_ppm = 0;
  // Per step: a clean shutdown and restart.
  uint32_t restart_ppm = 0;
  // Per recovery attempt: a crash armed inside Open (a crash during recovery).
  uint32_t crash_in_recovery_ppm = 0;
};

// The rates a seed gets when SimOptions::faults is not set: every tenth seed (seed % 10 == 0)
// runs without faults, the others with a seed-chosen mix.
FaultRates FaultRatesForSeed(uint64_t seed);

struct SimOptions {
  uint64_t seed = 1;
  uint64_t steps = 1000;
  std::optional<FaultRates> faults;  // nullopt: FaultRatesForSeed(seed)
  // Full comparison of the engine with the oracle every this many steps (0 = only after
  // restarts and at the end).
  uint64_t check_every_steps = 100;
  // Verbose trace (one line per step, plus crashes and recoveries) goes here when non-null.
  std::FILE* trace = nullptr;
  // Self-test of the oracle: at this step, send a transfer to the engine without telling the
  // oracle; the run must then fail. 0 = off.
  uint64_t self_test_forget_step = 0;
};

struct SimStats {
  uint64_t steps = 0;
  uint64_t requests = 0;
  uint64_t events = 0;
  uint64_t accounts = 0;           // in the final state
  uint64_t transfers = 0;          // in the final state
  uint64_t transfers_created = 0;  // acknowledged `created` transfer results
  uint64_t expired = 0;            // pending transfers the engine expired
  uint64_t linked_chains = 0;
  uint64_t linked_chains_failed = 0;  // acknowledged requests in which a linked chain failed
  uint64_t snapshots = 0;             // successful Engine::Snapshot() calls
  uint64_t snapshots_failed = 0;
  uint64_t crashes = 0;  // power cuts and process kills (armed, idle, in recovery)
  uint64_t crashes_in_recovery = 0;
  uint64_t clean_restarts = 0;
  uint64_t storage_failed_replies = 0;
  uint64_t unknown_applied = 0;      // outcome-unknown requests found applied after recovery
  uint64_t unknown_not_applied = 0;  // ... and found absent
  uint64_t recoveries = 0;
  uint64_t recoveries_from_snapshot = 0;
  uint64_t torn_tail_bytes = 0;  // dropped by recoveries, summed
  uint64_t open_failures = 0;    // Open attempts that failed under faults or a crash
  uint64_t full_checks = 0;
  uint64_t storage_operations = 0;
  uint64_t journal_records = 0;
  uint64_t journal_segments = 0;  // at the last recovery
};

struct SimResult {
  bool ok = true;
  uint64_t seed = 0;
  uint64_t step = 0;        // the failing step, or the steps run
  std::string failure;      // what differed, with context; empty when ok
  std::string reproduce;    // "tpwallet simulate --seed N --steps M ..."
  uint64_t trace_hash = 0;  // FNV-1a over every reply and storage operation count
  FaultRates faults;        // the rates used
  SimStats stats;
};

// Runs one seed. Never throws; engine assertions abort the process (after printing the seed).
SimResult RunSimulation(const SimOptions& options);

// "tpwallet simulate --seed N --steps M" plus any fault-rate overrides.
std::string ReproduceCommand(const SimOptions& options);
// One line: steps, requests, crashes, recoveries, unknown outcomes, ..., trace hash.
std::string Summary(const SimResult& result);

}  // namespace tpw::sim
