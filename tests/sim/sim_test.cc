// The simulator as a test: a few hundred fixed seeds (in shards, so ctest -j spreads them over
// cores), the seeds that once found bugs, a handful of fresh seeds per run, determinism, and a
// self-test that the oracle does catch a lost request.
//
// Environment (longer runs; `tpwallet simulate` is the other way to run them):
//   TPW_SIM_STEPS=N       steps per seed (default kStepsDefault)
//   TPW_SIM_SEEDS=K       seeds per shard (default kSeedsPerShard)
//   TPW_TEST_SEED=N       the fresh-seed test runs seed N (printed on every run)
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/test_seed.h"
#include "sim/simulator.h"

namespace tpw::sim {
namespace {

constexpr uint64_t kShards = 6;
constexpr uint64_t kSeedsPerShard = 50;  // 300 fixed seeds in all
constexpr uint64_t kStepsDefault = 400;
constexpr uint64_t kFreshSeeds = 4;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  uint64_t value = 0;
  const std::string_view s(text);
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  return error == std::errc{} && end == s.data() + s.size() ? value : fallback;
}

SimOptions Options(uint64_t seed, uint64_t steps) {
  SimOptions options;
  options.seed = seed;
  options.steps = steps;
  options.check_every_steps = 50;
  return options;
}

// Adds up what the seeds exercised, so a change that quietly stops injecting a fault fails.
struct Coverage {
  SimStats sum;
  void Add(const SimStats& s) {
    sum.crashes += s.crashes;
    sum.crashes_in_recovery += s.crashes_in_recovery;
    sum.unknown_applied += s.unknown_applied;
    sum.unknown_not_applied += s.unknown_not_applied;
    sum.recoveries_from_snapshot += s.recoveries_from_snapshot;
    sum.torn_tail_bytes += s.torn_tail_bytes;
    sum.open_failures += s.open_failures;
    sum.expired += s.expired;
    sum.transfers_created += s.transfers_created;
    sum.linked_chains += s.linked_chains;
    sum.linked_chains_failed += s.linked_chains_failed;
    sum.snapshots += s.snapshots;
    sum.storage_failed_replies += s.storage_failed_replies;
    sum.journal_segments = std::max(sum.journal_segments, s.journal_segments);
    sum.clean_restarts += s.clean_restarts;
  }
};

class SimSeeds : public ::testing::TestWithParam<uint64_t> {};

TEST_P(SimSeeds, RecoveryGivesBackExactlyTheAcknowledgedState) {
  const uint64_t per_shard = EnvOr("TPW_SIM_SEEDS", kSeedsPerShard);
  const uint64_t steps = EnvOr("TPW_SIM_STEPS", kStepsDefault);
  const uint64_t first = 1 + GetParam() * per_shard;
  Coverage coverage;
  for (uint64_t seed = first; seed < first + per_shard; ++seed) {
    const SimResult result = RunSimulation(Options(seed, steps));
    ASSERT_TRUE(result.ok) << result.failure;
    coverage.Add(result.stats);
  }
  const SimStats& s = coverage.sum;
  if (per_shard < kSeedsPerShard || steps < kStepsDefault) return;  // too small to promise
  EXPECT_GT(s.crashes, 0u);
  EXPECT_GT(s.crashes_in_recovery, 0u);
  EXPECT_GT(s.unknown_applied, 0u);
  EXPECT_GT(s.unknown_not_applied, 0u);
  EXPECT_GT(s.recoveries_from_snapshot, 0u);
  EXPECT_GT(s.torn_tail_bytes, 0u);
  EXPECT_GT(s.open_failures, 0u);
  EXPECT_GT(s.expired, 0u);
  EXPECT_GT(s.transfers_created, 0u);
  EXPECT_GT(s.linked_chains, 0u);
  EXPECT_GT(s.linked_chains_failed, 0u);
  EXPECT_GT(s.snapshots, 0u);
  EXPECT_GT(s.storage_failed_replies, 0u);
  EXPECT_GT(s.journal_segments, 1u) << "no seed rolled over to a second journal segment";
  EXPECT_GT(s.clean_restarts, 0u);
}

INSTANTIATE_TEST_SUITE_P(Shards, SimSeeds, ::testing::Range<uint64_t>(0, kShards));

// Seeds that reproduce bugs the simulator found (see README.md), with the steps and any fault
// rates they need. A seed reproduces a bug only with the workload generator of its time: when
// the generator changes, check that each entry still fails without its fix, or find a new seed.
struct Regression {
  uint64_t seed;
  uint64_t steps;
  uint32_t read_error_ppm = 0;  // 0: the seed's own rates
  uint32_t restart_ppm = 0;
};
const std::vector<Regression> kRegressions = {
    // Snapshot skipped by a read error in one recovery and used by a later one: its
    // last_timestamp was ahead of replay's (step 200). Found as seed 64 (250 steps, default
    // rates, replay_diverged) before the workload changed; EngineTest.
    // ASnapshotSkippedOnceStillRecoversLaterFacts reproduces it without the generator.
    {34, 600, 100'000, 30'000},
};

TEST(SimTest, SeedsThatFoundBugsStayFixed) {
  for (const Regression& r : kRegressions) {
    SimOptions options = Options(r.seed, r.steps);
    if (r.read_error_ppm != 0 || r.restart_ppm != 0) {
      FaultRates rates = FaultRatesForSeed(r.seed);
      if (r.read_error_ppm != 0) rates.read_error_ppm = r.read_error_ppm;
      if (r.restart_ppm != 0) rates.restart_ppm = r.restart_ppm;
      options.faults = rates;
    }
    const SimResult result = RunSimulation(options);
    EXPECT_TRUE(result.ok) << result.failure;
  }
}

TEST(SimTest, FreshSeedsPass) {
  const uint64_t base = test_support::TestSeed("SimTest.FreshSeedsPass");
  for (uint64_t i = 0; i < kFreshSeeds; ++i) {
    const SimResult result = RunSimulation(Options(base + i, kStepsDefault));
    ASSERT_TRUE(result.ok) << result.failure;
  }
}

TEST(SimTest, TheSameSeedReplaysTheSameRun) {
  for (const uint64_t seed : {3u, 17u, 40u}) {
    const SimResult a = RunSimulation(Options(seed, 400));
    const SimResult b = RunSimulation(Options(seed, 400));
    ASSERT_TRUE(a.ok) << a.failure;
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    EXPECT_EQ(a.stats.storage_operations, b.stats.storage_operations) << "seed " << seed;
    EXPECT_EQ(a.stats.crashes, b.stats.crashes) << "seed " << seed;
    EXPECT_EQ(a.stats.requests, b.stats.requests) << "seed " << seed;
  }
  EXPECT_NE(RunSimulation(Options(3, 100)).trace_hash, RunSimulation(Options(4, 100)).trace_hash);
}

TEST(SimTest, ARequestTheOracleMissedIsCaughtWithTheSeed) {
  SimOptions options = Options(11, 200);
  options.self_test_forget_step = 30;
  const SimResult result = RunSimulation(options);
  ASSERT_FALSE(result.ok);
  EXPECT_GE(result.step, 30u);
  EXPECT_NE(result.failure.find("seed 11, step "), std::string::npos) << result.failure;
  EXPECT_NE(result.failure.find("reproduce with: tpwallet simulate --seed 11 --steps 200"),
            std::string::npos)
      << result.failure;
}

TEST(SimTest, ExplicitFaultRatesAreInTheReproduceCommand) {
  SimOptions options = Options(5, 20);
  options.faults = FaultRates{};
  options.faults->crash_armed_ppm = 1000;
  const std::string command = ReproduceCommand(options);
  EXPECT_NE(command.find("--seed 5 --steps 20"), std::string::npos) << command;
  EXPECT_NE(command.find("--crash-ppm 1000"), std::string::npos) << command;
}

}  // namespace
}  // namespace tpw::sim
