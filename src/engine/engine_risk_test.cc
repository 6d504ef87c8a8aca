// The engine's risk state over a real journal on disk: rules set (bad rules never replace good
// ones), lists changed, dry runs that change nothing, journaled decisions whose velocity state
// comes back identical after a full replay and after a snapshot restart.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "engine/risk_facts.h"
#include "risk/test_rules.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::engine {
namespace {

constexpr uint64_t kMinuteNs = 60ull * 1'000'000'000;

class EngineRiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto storage = storage::PosixStorage::Open(dir_.path(), false);
    ASSERT_TRUE(storage.ok());
    storage_ = std::move(storage.value());
    ASSERT_TRUE(Engine::Initialize(*storage_).ok());
    Reopen();
  }

  void Reopen(bool ignore_snapshots = false) {
    engine_.reset();
    EngineOptions options;
    options.ignore_snapshots = ignore_snapshots;
    options.risk_reserve_keys = reserve_keys_;
    auto engine = Engine::Open(*storage_, options, &clock_);
    ASSERT_TRUE(engine.ok()) << engine.error().Message();
    engine_ = std::move(engine.value());
  }

  RiskReply Run(RiskCommand c) {
    Reply reply = engine_->ExecuteRisk(std::move(c));
    EXPECT_FALSE(reply.error);
    EXPECT_TRUE(reply.risk.has_value());
    return reply.risk.value_or(RiskReply{});
  }
  RiskReply SetRules(std::string text) {
    RiskCommand c;
    c.kind = RiskCommandKind::set_rules;
    c.rules_text = std::move(text);
    return Run(std::move(c));
  }
  RiskReply List(RiskCommandKind kind, std::string list, std::string value = "") {
    RiskCommand c;
    c.kind = kind;
    c.list = std::move(list);
    c.value = std::move(value);
    return Run(std::move(c));
  }
  RiskReply Decide(const risk::Event& event, RiskCommandKind kind = RiskCommandKind::decide) {
    RiskCommand c;
    c.kind = kind;
    c.event = event;
    return Run(std::move(c));
  }
  RiskStatus Status() { return Run(RiskCommand{}).status; }

  static risk::Event Payment(u128 account, u128 device, uint64_t cents) {
    risk::Event e;
    e.account = account;
    e.device = device;
    e.merchant = 500 + account % 7;
    e.terminal = 900;
    e.amount = Amount::FromMinor(cents);
    e.asset = 2;  // EUR
    return e;
  }

  storage::TempDir dir_;
  std::unique_ptr<storage::PosixStorage> storage_;
  ManualClock clock_{Timestamp{1'700'000'000'000'000'000ull}};
  std::unique_ptr<Engine> engine_;
  uint32_t reserve_keys_ = 0;  // EngineOptions::risk_reserve_keys of the next Reopen
};

TEST_F(EngineRiskTest, WithoutRulesEveryDecisionApprovesUnderVersionNone) {
  const RiskReply reply = Decide(Payment(1, 2, 1'000'000'00));
  ASSERT_TRUE(reply.outcome);
  EXPECT_EQ(reply.outcome->decision, risk::Decision::approve);
  EXPECT_EQ(reply.outcome->version, "none");
  EXPECT_TRUE(reply.outcome->matched_rules.empty());
  EXPECT_FALSE(reply.status.rules_set);
  EXPECT_EQ(reply.status.decisions, 1u);
  EXPECT_EQ(engine_->Stats().risk_version, "none");
}

TEST_F(EngineRiskTest, BadRulesNeverReplaceGoodOnesAndReportLineAndColumn) {
  ASSERT_EQ(SetRules(risk::test::kVelocityRules).error, RiskError::ok);
  const uint64_t records = engine_->Stats().journal_records;
  const RiskReply bad = SetRules("version = \"v2\"\n[thresholds]\nstep_up = 1\nreview = 2\ndecline = 3\n"
                                 "[[rule]]\nname = \"x\"\ncondition = \"amount >\"\nweight = 1\n");
  EXPECT_EQ(bad.error, RiskError::invalid_rules);
  ASSERT_FALSE(bad.rule_errors.empty());
  EXPECT_EQ(bad.rule_errors[0].line, 8u);
  EXPECT_GT(bad.rule_errors[0].column, 1u);
  EXPECT_EQ(bad.status.version, "velocity-1");
  EXPECT_EQ(engine_->Stats().journal_records, records) << "a refused set journals nothing";
  Reopen(true);
  EXPECT_EQ(Status().version, "velocity-1");
  RiskCommand show;
  show.kind = RiskCommandKind::show_rules;
  EXPECT_EQ(Run(show).rules_text, risk::test::kVelocityRules);
}

TEST_F(EngineRiskTest, ListChangesDecideAndSurviveRestart) {
  ASSERT_EQ(SetRules(risk::test::kVelocityRules).error, RiskError::ok);
  EXPECT_EQ(List(RiskCommandKind::list_add, "blocked_devices", "77").error, RiskError::ok);
  EXPECT_EQ(List(RiskCommandKind::list_add, "no_such_list", "77").error, RiskError::unknown_list);
  EXPECT_EQ(List(RiskCommandKind::list_add, "blocked_devices", "not-an-id").error,
            RiskError::invalid_value);
  EXPECT_EQ(Decide(Payment(1, 77, 100)).outcome->decision, risk::Decision::decline);
  for (const bool snapshot : {false, true}) {
    if (snapshot) {
      ASSERT_TRUE(engine_->Snapshot().ok());
    }
    Reopen(!snapshot);
    const RiskReply shown = List(RiskCommandKind::list_show, "blocked_devices");
    ASSERT_EQ(shown.lists.size(), 1u);
    EXPECT_EQ(shown.lists[0].items, std::vector<std::string>{"77"});
    EXPECT_EQ(shown.lists[0].role, "deny");
  }
  EXPECT_EQ(List(RiskCommandKind::list_remove, "blocked_devices", "77").error, RiskError::ok);
  EXPECT_EQ(Decide(Payment(1, 77, 100)).outcome->decision, risk::Decision::approve);
  EXPECT_EQ(List(RiskCommandKind::list_show, "missing").error, RiskError::unknown_list);
}

TEST_F(EngineRiskTest, EvaluateIsADryRun) {
  ASSERT_EQ(SetRules(risk::test::kVelocityRules).error, RiskError::ok);
  const RiskStatus before = Status();
  const uint64_t records = engine_->Stats().journal_records;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Decide(Payment(1, 2, 100), RiskCommandKind::evaluate).outcome->decision,
              risk::Decision::approve);
  }
  EXPECT_EQ(Status().state_digest, before.state_digest);
  EXPECT_EQ(engine_->Stats().journal_records, records);
}

// The velocity rules: the third approval of one account in an hour reaches step_up (burst, 30),
// the terminal burst declines; decisions depend on history, so replay must rebuild it exactly.
TEST_F(EngineRiskTest, DecisionsAndVelocityStateAreTheSameAfterReplayAndAfterSnapshot) {
  ASSERT_EQ(SetRules(risk::test::kVelocityRules).error, RiskError::ok);
  std::vector<risk::Decision> decisions;
  for (int i = 0; i < 60; ++i) {
    if (i == 30) {
      ASSERT_TRUE(engine_->Snapshot().ok());
    }
    if (i == 20) {
      ASSERT_EQ(List(RiskCommandKind::list_add, "blocked_devices", "13").error, RiskError::ok);
    }
    decisions.push_back(Decide(Payment(static_cast<u128>(i % 4), static_cast<u128>(10 + i % 5),
                                       static_cast<uint64_t>(1000 + 700 * i)))
                            .outcome->decision);
    clock_.Advance(kMinuteNs);
  }
  std::set<risk::Decision> seen(decisions.begin(), decisions.end());
  EXPECT_GE(seen.size(), 3u) << "the history must reach several decisions to test anything";
  const RiskStatus live = Status();
  EXPECT_EQ(live.decisions, 60u);
  EXPECT_GT(live.velocity_keys, 0u);

  Reopen(/*ignore_snapshots=*/true);
  const RiskStatus replayed = Status();
  EXPECT_EQ(replayed.state_digest, live.state_digest);
  EXPECT_EQ(replayed.decisions, live.decisions);
  Reopen(/*ignore_snapshots=*/false);
  EXPECT_TRUE(engine_->recovery().from_snapshot);
  EXPECT_EQ(Status().state_digest, live.state_digest);

  // And the engine continues as if it had never stopped: the next decision matches an engine
  // that replays everything and decides it too.
  const risk::Event next = Payment(1, 11, 5000);
  const RiskOutcome after_snapshot = *Decide(next).outcome;
  const std::string digest = Status().state_digest;
  Reopen(true);
  EXPECT_EQ(Status().state_digest, digest);
  EXPECT_EQ(after_snapshot.version, "velocity-1");
}

TEST_F(EngineRiskTest, ReservedVelocityMemoryIsTakenUpFrontAndDecidesTheSame) {
  ASSERT_EQ(SetRules(risk::test::kVelocityRules).error, RiskError::ok);
  const uint64_t growing_bytes = Status().velocity_bytes;
  for (int i = 0; i < 20; ++i) Decide(Payment(static_cast<u128>(i % 3), 10, 900));
  const std::string growing_digest = Status().state_digest;

  // The same history on an engine that reserves 4096 keys per feature: from the journal (the
  // replayed rules) and then live, with the memory held before the first key arrives.
  reserve_keys_ = 4096;
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(Status().state_digest, growing_digest) << "reserving changes no state";
  ASSERT_EQ(SetRules(risk::test::kVelocityRules).error, RiskError::ok);  // unchanged: kept
  EXPECT_EQ(Status().state_digest, growing_digest);
  // The reserve is held (and reported): the slots of 4096 keys for each of the two features,
  // and an index sized for them, smaller than the one presized for 2^20 keys a growing table
  // maps (risk::FeatureTable).
  EXPECT_GE(Status().velocity_bytes, 2u * 4096u * 64u) << "the reserved slots are held";
  EXPECT_LT(Status().velocity_bytes, growing_bytes) << "each index is sized for the reserve";
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen(/*ignore_snapshots=*/false);
  EXPECT_TRUE(engine_->recovery().from_snapshot);
  EXPECT_EQ(Status().state_digest, growing_digest);

  // Live decisions on the reserving engine: a growing engine replaying them reaches the same
  // state, and the reserving one the same again.
  for (int i = 0; i < 10; ++i) Decide(Payment(static_cast<u128>(i % 3 + 5), 10, 900));
  const std::string reserved_digest = Status().state_digest;
  EXPECT_NE(reserved_digest, growing_digest) << "the decisions recorded something";
  reserve_keys_ = 0;
  Reopen(true);
  EXPECT_EQ(Status().state_digest, reserved_digest);
}

TEST_F(EngineRiskTest, ReplacingRulesKeepsSharedVelocityStateAndListContents) {
  ASSERT_EQ(SetRules(risk::test::kVelocityRules).error, RiskError::ok);
  ASSERT_EQ(List(RiskCommandKind::list_add, "blocked_devices", "5").error, RiskError::ok);
  for (int i = 0; i < 3; ++i) (void)Decide(Payment(1, 2, 100));
  std::string v2 = risk::test::kVelocityRules;
  v2.replace(v2.find("velocity-1"), 10, "velocity-2");
  ASSERT_EQ(SetRules(v2).error, RiskError::ok);
  const RiskReply third = Decide(Payment(1, 2, 100));
  EXPECT_EQ(third.outcome->version, "velocity-2");
  EXPECT_NE(third.outcome->score, 0) << "the account's burst count carried over";
  EXPECT_EQ(List(RiskCommandKind::list_show, "blocked_devices").lists[0].items,
            std::vector<std::string>{"5"});
  const std::string digest = Status().state_digest;
  Reopen(true);
  EXPECT_EQ(Status().state_digest, digest);
  EXPECT_EQ(engine_->Stats().risk_version, "velocity-2");
}

TEST(RiskFacts, RoundTripAndRefuseEveryTruncationAndBadVersion) {
  RiskDecisionFact decision;
  decision.time_ns = 123;
  decision.decision = risk::Decision::review;
  decision.score = -7;
  decision.event.account = 42;
  decision.event.channel = risk::Channel::offline;
  const std::vector<std::vector<uint8_t>> encoded = {
      EncodeRiskRulesFact("version = \"x\""), EncodeRiskListFact({false, "l", "FR"}),
      EncodeRiskDecisionFact(decision)};
  const auto decodes = [](size_t kind, std::span<const uint8_t> bytes) {
    if (kind == 0) return DecodeRiskRulesFact(bytes).has_value();
    if (kind == 1) return DecodeRiskListFact(bytes).has_value();
    return DecodeRiskDecisionFact(bytes).has_value();
  };
  for (size_t kind = 0; kind < encoded.size(); ++kind) {
    const std::vector<uint8_t>& bytes = encoded[kind];
    EXPECT_TRUE(decodes(kind, bytes));
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(decodes(kind, std::span(bytes).first(n))) << kind << " cut at " << n;
    }
    std::vector<uint8_t> longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(decodes(kind, longer));
    std::vector<uint8_t> newer = bytes;
    newer[0] = 2;
    EXPECT_FALSE(decodes(kind, newer));
  }
  const std::optional<RiskDecisionFact> back = DecodeRiskDecisionFact(encoded[2]);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->score, -7);
  EXPECT_EQ(back->decision, risk::Decision::review);
  EXPECT_EQ(back->event.account, 42u);
  EXPECT_EQ(back->event.channel, risk::Channel::offline);
  std::vector<uint8_t> bad_channel = encoded[2];
  bad_channel[bad_channel.size() - 8] = 9;  // the channel byte
  EXPECT_FALSE(DecodeRiskDecisionFact(bad_channel));
}

}  // namespace
}  // namespace tpw::engine
