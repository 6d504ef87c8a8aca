// tpwallet simulate: runs the seeded deterministic simulator (tests/sim) for one seed or a range
// of seeds and prints one summary line per seed. A failure prints the seed, the step, what
// differed and the command that replays it, and makes the exit code non-zero.
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "sim/simulator.h"

namespace tpw::cli {
namespace {

struct SimulateArgs {
  uint64_t seed = 1;
  uint64_t steps = 10000;
  uint64_t seeds = 1;
  uint64_t check_every = sim::SimOptions{}.check_every_steps;
  uint64_t self_test_forget_step = 0;
  bool verbose = false;
  // Fault-rate overrides (parts per million); unset ones keep the seed's own rates.
  std::optional<uint32_t> write_error_ppm;
  std::optional<uint32_t> sync_error_ppm;
  std::optional<uint32_t> read_error_ppm;
  std::optional<uint32_t> crash_ppm;
  std::optional<uint32_t> idle_crash_ppm;
  std::optional<uint32_t> restart_ppm;
  std::optional<uint32_t> recovery_crash_ppm;

  bool overrides_faults() const {
    return write_error_ppm || sync_error_ppm || read_error_ppm || crash_ppm || idle_crash_ppm ||
           restart_ppm || recovery_crash_ppm;
  }
};

sim::SimOptions OptionsFor(const SimulateArgs& args, uint64_t seed) {
  sim::SimOptions options;
  options.seed = seed;
  options.steps = args.steps;
  options.check_every_steps = args.check_every;
  options.self_test_forget_step = args.self_test_forget_step;
  options.trace = args.verbose ? stdout : nullptr;
  if (args.overrides_faults()) {
    sim::FaultRates f = sim::FaultRatesForSeed(seed);
    f.write_error_ppm = args.write_error_ppm.value_or(f.write_error_ppm);
    f.sync_error_ppm = args.sync_error_ppm.value_or(f.sync_error_ppm);
    f.read_error_ppm = args.read_error_ppm.value_or(f.read_error_ppm);
    f.crash_armed_ppm = args.crash_ppm.value_or(f.crash_armed_ppm);
    f.crash_idle_ppm = args.idle_crash_ppm.value_or(f.crash_idle_ppm);
    f.restart_ppm = args.restart_ppm.value_or(f.restart_ppm);
    f.crash_in_recovery_ppm = args.recovery_crash_ppm.value_or(f.crash_in_recovery_ppm);
    options.faults = f;
  }
  return options;
}

int RunSimulate(const SimulateArgs& args) {
  if (args.steps == 0 || args.seeds == 0) {
    std::fprintf(stderr, "tpwallet simulate: --steps and --seeds must be at least 1\n");
    return kExitUsage;
  }
  const auto start = std::chrono::steady_clock::now();
  uint64_t steps_total = 0;
  for (uint64_t i = 0; i < args.seeds; ++i) {
    const sim::SimResult result = sim::RunSimulation(OptionsFor(args, args.seed + i));
    steps_total += result.stats.steps;
    std::printf("%s\n", sim::Summary(result).c_str());
    std::fflush(stdout);
    if (!result.ok) {
      std::fprintf(stderr, "%s\n", result.failure.c_str());
      return kExitFailure;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("all %llu seed(s) passed: %llu steps in %.1f s\n",
              static_cast<unsigned long long>(args.seeds),
              static_cast<unsigned long long>(steps_total), seconds);
  return kExitOk;
}

}  // namespace

void RegisterSimulate(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SimulateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Run the seeded deterministic simulator: a random workload against the engine on a "
      "simulated disk, with crashes, torn writes, lost unsynced data and I/O errors; after every "
      "crash, recovery must give back exactly the acknowledged state. Everything follows from "
      "the seed, so a failure replays with the command it prints.\n"
      "Examples:\n"
      "  tpwallet simulate --seed 1 --steps 10000\n"
      "  tpwallet simulate --seed 1000 --seeds 500 --steps 2000\n"
      "  tpwallet simulate --seed 42 --steps 300 --verbose");
  cmd->add_option("--seed", args->seed, "First seed")->capture_default_str();
  cmd->add_option("--steps", args->steps, "Steps (requests, snapshots, crashes) per seed")
      ->capture_default_str();
  cmd->add_option("--seeds", args->seeds, "Run this many seeds: seed, seed+1, ...")
      ->capture_default_str();
  cmd->add_flag("--verbose", args->verbose, "Print every step, crash and recovery");
  cmd->add_option("--check-every", args->check_every,
                  "Compare the whole state with the oracle every this many steps (0 = only "
                  "after restarts and at the end)")
      ->capture_default_str();
  const char* faults = "Fault rates (parts per million; default: chosen by the seed)";
  cmd->add_option("--write-error-ppm", args->write_error_ppm, "Per write: short write + error")
      ->group(faults);
  cmd->add_option("--sync-error-ppm", args->sync_error_ppm, "Per fdatasync/directory fsync")
      ->group(faults);
  cmd->add_option("--read-error-ppm", args->read_error_ppm, "Per read, during recovery")
      ->group(faults);
  cmd->add_option("--crash-ppm", args->crash_ppm, "Per step: crash at one of the next writes")
      ->group(faults);
  cmd->add_option("--idle-crash-ppm", args->idle_crash_ppm, "Per step: power cut between requests")
      ->group(faults);
  cmd->add_option("--restart-ppm", args->restart_ppm, "Per step: clean restart")->group(faults);
  cmd->add_option("--recovery-crash-ppm", args->recovery_crash_ppm,
                  "Per recovery attempt: crash during recovery")
      ->group(faults);
  // The oracle's self-test (sends a request the oracle does not see): hidden.
  cmd->add_option("--self-test-forget-step", args->self_test_forget_step)->group("");
  RegisterSimulateOffline(*cmd, exit_code);
  cmd->callback([args, cmd, &exit_code] {
    if (cmd->got_subcommand("offline")) return;  // `simulate offline` ran its own callback
    exit_code = RunSimulate(*args);
  });
}

}  // namespace tpw::cli
