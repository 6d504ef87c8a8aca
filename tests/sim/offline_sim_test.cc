// The offline-payments simulator over small populations and several seeds: every double spend
// a clone injects is caught, money is conserved, no device loses more than its bound, every
// honest token clears, and one seed always gives the same report.
#include "sim/offline_sim.h"

#include <gtest/gtest.h>

#include <string>

#include "common/test_seed.h"

namespace tpw::sim {
namespace {

// Small and hostile: 5% of the devices cloned three times, frequent replays, terminals often
// offline and late, short deny-list age. The allowance is per_payment_max × payment_count_max,
// so no certificate can clear past it and over_allowance cannot happen: see
// WithOverAllowanceInPlayEveryDoubleSpendIsStillCaught for the case where it can.
OfflineSimOptions Small(uint64_t seed) {
  OfflineSimOptions o;
  o.seed = seed;
  o.devices = 200;
  o.terminals = 10;
  o.payments = 2'000;
  o.per_payment_max = 5'000;
  o.payment_count_max = 10;
  o.allowance = 50'000;
  o.clone_ppm = 50'000;
  o.clones_per_device = 3;
  o.clone_activity_ppm = 80'000;
  o.replay_ppm = 20'000;
  o.offline_ppm = 200'000;
  o.late_upload_ppm = 300'000;
  o.reupload_ppm = 50'000;
  o.sync_ppm = 30'000;
  o.deny_list_max_age_ms = 4ull * 3'600'000;
  return o;
}

void ExpectPasses(const OfflineSimOptions& o) {
  const OfflineSimReport r = RunOfflineSimulation(o);
  SCOPED_TRACE("reproduce with: tpwallet simulate offline " + FormatSettings(o));
  EXPECT_TRUE(r.ok()) << FormatReport(r);
  EXPECT_GT(r.accepted, 0u);
  EXPECT_EQ(r.double_spends_missed, 0u);
  EXPECT_EQ(r.double_spends_injected, r.double_spends_detected + r.double_spends_refused_otherwise);
  EXPECT_EQ(r.honest_tokens_cleared, r.honest_tokens_accepted);
  EXPECT_EQ(r.replays_accepted, 0u);
  EXPECT_TRUE(r.ledger_balanced);
  EXPECT_TRUE(r.money_conserved);
  EXPECT_LE(r.loss_total, r.bound_total);
  EXPECT_EQ(r.amount_paid_from_guarantee, r.loss_total);
  EXPECT_EQ(r.cleared + r.double_spend + r.over_allowance + r.invalid + r.duplicate, r.accepted);
}

TEST(OfflineSimTest, SeveralSeedsCatchEveryDoubleSpendAndConserveMoney) {
  for (uint64_t seed = 1; seed <= 4; ++seed) ExpectPasses(Small(seed));
}

TEST(OfflineSimTest, ClonesActuallyDoubleSpendAndGetRevoked) {
  const OfflineSimReport r = RunOfflineSimulation(Small(7));
  ASSERT_TRUE(r.ok()) << FormatReport(r);
  EXPECT_GT(r.double_spends_injected, 0u);
  EXPECT_GT(r.double_spends_detected, 0u);
  EXPECT_GT(r.double_spend, 0u);
  EXPECT_GT(r.devices_revoked, 0u);
  EXPECT_GT(r.deny_list_version, 0u);
  EXPECT_GT(r.terminal_declines.count("device_denied"), 0u) << FormatReport(r);
  EXPECT_GT(r.loss_total, 0u);
}

TEST(OfflineSimTest, TheSameSeedGivesTheSameReport) {
  const OfflineSimOptions o =
      Small(test_support::TestSeed("OfflineSimTest.TheSameSeedGivesTheSameReport"));
  const std::string first = FormatReport(RunOfflineSimulation(o));
  EXPECT_EQ(first, FormatReport(RunOfflineSimulation(o)));
}

// With an allowance below per_payment_max × payment_count_max, two copies of a wallet can
// push a certificate past its allowance. A counter whose first token was over_allowance must
// still catch the other copy's token as a double spend (clearing once missed those:
// ClearingTest.ACounterFirstSeenOverAllowanceIsStillADoubleSpendLater; the big run of
// docs/offline-protocol.md, "Simulation", produced ten).
TEST(OfflineSimTest, WithOverAllowanceInPlayEveryDoubleSpendIsStillCaught) {
  uint64_t over_allowance = 0;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    OfflineSimOptions o = Small(seed);
    o.allowance = 20'000;
    o.clone_activity_ppm = 200'000;
    const OfflineSimReport r = RunOfflineSimulation(o);
    SCOPED_TRACE(FormatReport(r));
    over_allowance += r.over_allowance;
    EXPECT_EQ(r.double_spends_missed, 0u);
    EXPECT_EQ(r.honest_tokens_cleared, r.honest_tokens_accepted);
    EXPECT_TRUE(r.money_conserved);
    EXPECT_LE(r.loss_total, r.bound_total);
    EXPECT_EQ(r.amount_paid_from_guarantee, r.loss_total);
    EXPECT_EQ(r.replays_accepted, 0u);
  }
  EXPECT_GT(over_allowance, 0u);
}

TEST(OfflineSimTest, NoClonesMeansNoLossAndEverythingClears) {
  OfflineSimOptions o = Small(3);
  o.clone_ppm = 0;
  const OfflineSimReport r = RunOfflineSimulation(o);
  ASSERT_TRUE(r.ok()) << FormatReport(r);
  EXPECT_EQ(r.double_spends_injected, 0u);
  EXPECT_EQ(r.cleared, r.accepted);
  EXPECT_EQ(r.loss_total, 0u);
  EXPECT_EQ(r.exceptions_opened, 0u);
}

TEST(OfflineSimTest, WithoutGuaranteePaymentsMerchantsGetExactlyWhatCleared) {
  OfflineSimOptions o = Small(5);
  o.resolve_exceptions = false;
  const OfflineSimReport r = RunOfflineSimulation(o);
  ASSERT_TRUE(r.ok()) << FormatReport(r);
  EXPECT_EQ(r.merchants_total, r.amount_cleared);
  EXPECT_EQ(r.exceptions_paid, 0u);
}

}  // namespace
}  // namespace tpw::sim
