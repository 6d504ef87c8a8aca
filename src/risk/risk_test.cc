// RiskEngine and ActiveRules: what Decide records, determinism across save/load, the state
// decoder under hostile input, rule reloads and reloads racing with readers.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/clock.h"
#include "common/test_seed.h"
#include "risk/test_rules.h"
#include "risk/test_util.h"

namespace tpw::risk {
namespace {

using test::At;
using test::SampleEvent;

uint64_t CurrentTestSeed() {
  return test_support::TestSeed(::testing::UnitTest::GetInstance()->current_test_info()->name());
}

std::shared_ptr<const RuleSet> VelocityRules() { return test::MustCompile(test::kVelocityRules); }

// A reproducible stream of events over a few hundred keys, a few seconds apart.
std::vector<std::pair<Event, Timestamp>> EventStream(uint64_t seed, size_t count) {
  SeededRandom random(seed);
  std::vector<std::pair<Event, Timestamp>> events;
  uint64_t t = 1'000'000;
  for (size_t i = 0; i < count; ++i) {
    Event e = SampleEvent();
    e.account = 1 + random.Uniform(200);
    e.device = 1000 + random.Uniform(150);
    e.merchant = 500 + random.Uniform(40);
    e.terminal = 900 + random.Uniform(10);
    e.amount = Amount::FromMinor(100 + random.Uniform(20'000));
    t += random.Uniform(30);
    events.emplace_back(e, Timestamp{t * kNanosPerSecond + random.Uniform(1'000'000'000)});
  }
  return events;
}

std::vector<Decision> DecideAll(RiskEngine& engine,
                                const std::vector<std::pair<Event, Timestamp>>& events) {
  std::vector<Decision> decisions;
  for (const auto& [event, now] : events) decisions.push_back(engine.Decide(event, now).decision);
  return decisions;
}

TEST(RiskEngine, DecideRecordsOnlyApprovals) {
  std::unique_ptr<RiskEngine> engine = test::EngineFor(test::kVelocityRules);
  ASSERT_NE(engine, nullptr);
  Event e = SampleEvent();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(engine->Decide(e, At(100)).decision, Decision::approve);
  RiskDecision d = engine->Decide(e, At(100));
  EXPECT_EQ(d.decision, Decision::step_up);  // count(account, 1h) = 3 → 30
  EXPECT_EQ(d.score, 30);
  // The step-up was not recorded: the count is still 3, not 4.
  d = engine->Decide(e, At(100));
  EXPECT_EQ(d.score, 30);
  ASSERT_TRUE(engine->lists().Add("blocked_devices", "1001").ok());
  EXPECT_EQ(engine->Decide(e, At(100)).decision, Decision::decline);
  // Record counts whatever the decision (e.g. a payment approved after review).
  engine->Record(e, At(100));
  ASSERT_TRUE(engine->lists().Remove("blocked_devices", "1001").ok());
  d = engine->Evaluate(e, At(100));
  EXPECT_EQ(d.score, 30);
  // Sum: 4 × 100.00 recorded + 100.00 now = 500.00, not above 500.00; one more cent is.
  e.amount = Amount::FromMinor(10'001);
  EXPECT_EQ(engine->Evaluate(e, At(100)).score, 70);
}

TEST(RiskEngine, EvaluateChangesNothing) {
  std::unique_ptr<RiskEngine> engine = test::EngineFor(test::kVelocityRules);
  ASSERT_NE(engine, nullptr);
  const auto events = EventStream(1, 200);
  DecideAll(*engine, events);
  const std::vector<uint8_t> before = engine->SaveState();
  for (const auto& [event, now] : events) (void)engine->Evaluate(event, now);
  EXPECT_EQ(engine->SaveState(), before);
}

TEST(RiskEngine, SameEventsGiveSameStateAndDecisions) {
  const uint64_t seed = CurrentTestSeed();
  std::shared_ptr<const RuleSet> rules = VelocityRules();
  ASSERT_NE(rules, nullptr);
  const auto events = EventStream(seed, 5'000);
  RiskEngine a(rules);
  RiskEngine b(rules);
  const std::vector<Decision> da = DecideAll(a, events);
  EXPECT_EQ(da, DecideAll(b, events));
  EXPECT_EQ(a.SaveState(), b.SaveState());
  // Not every decision is the same: the stream does exercise the velocity rules.
  EXPECT_NE(std::count(da.begin(), da.end(), Decision::approve), static_cast<long>(da.size()));
}

TEST(RiskEngine, DecideEachDecidesExactlyAsOneDecideAfterAnother) {
  const uint64_t seed = CurrentTestSeed();
  std::shared_ptr<const RuleSet> rules = VelocityRules();
  ASSERT_NE(rules, nullptr);
  const auto events = EventStream(seed, 5'000);
  VelocityOptions small;
  small.keys_max = 64;  // evictions too
  RiskEngine one_by_one(rules, small);
  RiskEngine run(rules, small);
  const std::vector<Decision> expected = DecideAll(one_by_one, events);
  std::vector<Decision> got;
  std::vector<size_t> order;
  RiskDecision scratch;
  run.DecideEach(
      events.size(), [&](size_t i) { return events[i]; },
      [&](size_t i, const RiskDecision& d) {
        order.push_back(i);
        got.push_back(d.decision);
      },
      scratch);
  EXPECT_EQ(got, expected);
  ASSERT_EQ(order.size(), events.size());
  for (size_t i = 0; i < order.size(); ++i) ASSERT_EQ(order[i], i);
  EXPECT_EQ(run.SaveState(), one_by_one.SaveState());
}

// Runs shorter than the hint distance (2 * kPrefetchAhead events) and just past it: the key
// hashes computed ahead and carried to each decision give the same decisions and state.
TEST(RiskEngine, DecideEachOfShortRunsDecidesAsDecide) {
  std::shared_ptr<const RuleSet> rules = VelocityRules();
  ASSERT_NE(rules, nullptr);
  const auto events = EventStream(CurrentTestSeed(), 12);
  for (ptrdiff_t count : {0, 1, 3, 4, 5, 8, 9, 12}) {
    const std::vector<std::pair<Event, Timestamp>> some(events.begin(), events.begin() + count);
    RiskEngine one_by_one(rules);
    RiskEngine run(rules);
    const std::vector<Decision> expected = DecideAll(one_by_one, some);
    std::vector<Decision> got;
    RiskDecision scratch;
    run.DecideEach(
        some.size(), [&](size_t i) { return some[i]; },
        [&](size_t, const RiskDecision& d) { got.push_back(d.decision); }, scratch);
    EXPECT_EQ(got, expected) << count;
    EXPECT_EQ(run.SaveState(), one_by_one.SaveState()) << count;
  }
}

TEST(RiskEngine, ReservedMemoryChangesNoDecisionAndNoSavedByte) {
  std::shared_ptr<const RuleSet> rules = VelocityRules();
  ASSERT_NE(rules, nullptr);
  // keys_max 64: evictions too (the reserve is the cap and the table still stays under it).
  const VelocityOptions small{.keys_max = 64};
  const VelocityOptions reserved{.keys_max = 64, .reserve_keys = 1000};  // capped at keys_max
  const auto events = EventStream(CurrentTestSeed(), 5'000);
  RiskEngine growing(rules, small);
  RiskEngine presized(rules, reserved);
  EXPECT_EQ(growing.ReservedKeys(), 0u);
  EXPECT_EQ(presized.ReservedKeys(), rules->features().size() * small.keys_max);
  EXPECT_EQ(DecideAll(presized, events), DecideAll(growing, events));
  EXPECT_EQ(presized.SaveState(), growing.SaveState());
  // A state loads into a reserved engine and continues the same.
  RiskEngine restarted(rules, reserved);
  ASSERT_TRUE(restarted.LoadState(growing.SaveState()).ok());
  EXPECT_EQ(restarted.ReservedKeys(), presized.ReservedKeys());
  EXPECT_EQ(restarted.SaveState(), growing.SaveState());
}

TEST(RiskEngine, SaveLoadThenContinueMatchesAnEngineThatNeverStopped) {
  const uint64_t seed = CurrentTestSeed();
  std::shared_ptr<const RuleSet> rules = VelocityRules();
  ASSERT_NE(rules, nullptr);
  const auto events = EventStream(seed, 6'000);
  const std::vector<std::pair<Event, Timestamp>> first(events.begin(), events.begin() + 3'000);
  const std::vector<std::pair<Event, Timestamp>> second(events.begin() + 3'000, events.end());
  VelocityOptions small;
  small.keys_max = 64;  // also exercises eviction order across the restart
  small.hash_seed = seed;
  RiskEngine running(rules, small);
  DecideAll(running, first);
  ASSERT_TRUE(running.lists().Add("blocked_devices", "1003").ok());
  const std::vector<uint8_t> saved = running.SaveState();

  VelocityOptions other = small;
  other.hash_seed = 99;  // the saved seed wins
  RiskEngine restarted(rules, other);
  ASSERT_TRUE(restarted.LoadState(saved).ok());
  EXPECT_EQ(restarted.SaveState(), saved);
  EXPECT_EQ(DecideAll(restarted, second), DecideAll(running, second));
  EXPECT_EQ(restarted.SaveState(), running.SaveState());
}

TEST(RiskEngine, LoadStateRejectsEveryTruncation) {
  std::shared_ptr<const RuleSet> rules = VelocityRules();
  ASSERT_NE(rules, nullptr);
  RiskEngine engine(rules);
  DecideAll(engine, EventStream(3, 20));
  ASSERT_TRUE(engine.lists().Add("blocked_devices", "5").ok());
  const std::vector<uint8_t> saved = engine.SaveState();
  RiskEngine target(rules);
  const std::vector<uint8_t> empty_state = target.SaveState();
  for (size_t size = 0; size < saved.size(); ++size) {
    const Status<StateError> status = target.LoadState(std::span(saved.data(), size));
    ASSERT_FALSE(status.ok()) << size;
    ASSERT_EQ(target.SaveState(), empty_state) << "a failed load changed the state";
  }
  std::vector<uint8_t> longer = saved;
  longer.push_back(0);
  EXPECT_EQ(target.LoadState(longer).error(), StateError::malformed);
  EXPECT_TRUE(target.LoadState(saved).ok());
}

TEST(RiskEngine, LoadStateNamesEachKindOfDamage) {
  std::shared_ptr<const RuleSet> rules = VelocityRules();
  ASSERT_NE(rules, nullptr);
  RiskEngine engine(rules);
  DecideAll(engine, EventStream(4, 30));
  const std::vector<uint8_t> saved = engine.SaveState();
  RiskEngine target(rules);
  std::vector<uint8_t> bytes = saved;
  bytes[0] ^= 1;
  EXPECT_EQ(target.LoadState(bytes).error(), StateError::not_risk_state);
  bytes = saved;
  bytes[4] = kStateVersion + 1;
  EXPECT_EQ(target.LoadState(bytes).error(), StateError::unsupported_version);
  bytes = saved;
  bytes[20] = 0xff;  // the first feature's kind (after magic, version, seed, count)
  EXPECT_EQ(target.LoadState(bytes).error(), StateError::malformed);
  VelocityOptions tiny;
  tiny.keys_max = 2;
  RiskEngine small(rules, tiny);
  EXPECT_EQ(small.LoadState(saved).error(), StateError::too_many_keys);
  // Flipping any one byte never crashes. What loads is bound to the rules (a feature or list
  // the rules do not have is dropped), and saving what loaded is then stable.
  size_t loaded = 0;
  for (size_t i = 0; i < saved.size(); i += 17) {
    bytes = saved;
    bytes[i] ^= 0x5a;
    if (!target.LoadState(bytes).ok()) continue;
    ++loaded;
    const std::vector<uint8_t> resaved = target.SaveState();
    ASSERT_TRUE(target.LoadState(resaved).ok()) << i;
    EXPECT_EQ(target.SaveState(), resaved) << i;
  }
  EXPECT_GT(loaded, 0u);  // counts and sums take any value: many flips still load
}

TEST(RiskEngine, LoadStateRejectsDuplicatesAndUnsortedLists) {
  std::shared_ptr<const RuleSet> rules = VelocityRules();
  ASSERT_NE(rules, nullptr);
  RiskEngine engine(rules);
  ASSERT_TRUE(engine.lists().Add("blocked_devices", "5").ok());
  ASSERT_TRUE(engine.lists().Add("blocked_devices", "6").ok());
  std::vector<uint8_t> saved = engine.SaveState();
  // The list's two items are the last 32 bytes: swap them (unsorted), then repeat one.
  std::vector<uint8_t> swapped = saved;
  std::swap_ranges(swapped.end() - 32, swapped.end() - 16, swapped.end() - 16);
  RiskEngine target(rules);
  EXPECT_EQ(target.LoadState(swapped).error(), StateError::malformed);
  std::vector<uint8_t> repeated = saved;
  std::copy(saved.end() - 32, saved.end() - 16, repeated.end() - 16);
  EXPECT_EQ(target.LoadState(repeated).error(), StateError::malformed);
}

TEST(RiskEngine, NewRulesKeepTheStateOfFeaturesTheyShare) {
  std::unique_ptr<RiskEngine> engine = test::EngineFor(test::kVelocityRules);
  ASSERT_NE(engine, nullptr);
  Event e = SampleEvent();
  for (int i = 0; i < 3; ++i) engine->Decide(e, At(100));
  ASSERT_TRUE(engine->lists().Add("blocked_devices", "77").ok());
  std::string next = test::kVelocityRules;
  next.replace(next.find("velocity-1"), 10, "velocity-2");
  next.replace(next.find("count(terminal, 10m)"), 20, "count(terminal, 5m)");
  std::shared_ptr<const RuleSet> rules2 = test::MustCompile(next);
  ASSERT_NE(rules2, nullptr);
  engine->UseRules(rules2);
  EXPECT_EQ(engine->Evaluate(e, At(100)).score, 30);  // count(account, 1h) kept its 3
  EXPECT_EQ(engine->Evaluate(e, At(100)).rules_version, "velocity-2");
  e.device = 77;
  EXPECT_EQ(engine->Evaluate(e, At(100)).decision, Decision::decline);  // list contents kept
}

TEST(ActiveRules, BadRulesNeverReplaceGoodOnes) {
  ActiveRules active(VelocityRules());
  EXPECT_EQ(active.Version(), "velocity-1");
  const std::vector<RuleError> errors = active.Replace("version = \"broken\"\n[[rule]]\n");
  EXPECT_FALSE(errors.empty());
  EXPECT_EQ(active.Version(), "velocity-1");
  std::string next = test::kVelocityRules;
  next.replace(next.find("velocity-1"), 10, "velocity-2");
  EXPECT_TRUE(active.Replace(next).empty());
  EXPECT_EQ(active.Version(), "velocity-2");
}

TEST(ActiveRules, ReadersKeepEvaluatingWhileRulesAreReplaced) {
  // Two versions decide the same event differently; every reader must see one whole version,
  // never a mix, and never crash while its set is replaced under it.
  std::string allow = test::kVelocityRules;
  allow.replace(allow.find("velocity-1"), 10, "allow-all");
  allow += "[[rule]]\nname = \"all\"\ncondition = \"true\"\naction = \"allow\"\n";
  std::string block = test::kVelocityRules;
  block.replace(block.find("velocity-1"), 10, "block-all");
  block += "[[rule]]\nname = \"all\"\ncondition = \"true\"\naction = \"block\"\n";
  ActiveRules active(test::MustCompile(allow));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> evaluations{0};
  std::atomic<uint64_t> mismatches{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      const Event e = SampleEvent();
      while (!stop.load()) {
        std::shared_ptr<const RuleSet> rules = active.Current();
        RiskEngine engine(rules, VelocityOptions{.keys_max = 16, .hash_seed = 0});
        const RiskDecision d = engine.Evaluate(e, At(1));
        const bool allowed = d.rules_version == "allow-all";
        if ((d.decision == Decision::approve) != allowed) ++mismatches;
        ++evaluations;
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    EXPECT_TRUE(active.Replace(i % 2 == 0 ? block : allow).empty());
    EXPECT_FALSE(active.Replace("version = 5").empty());  // bad: ignored
  }
  while (evaluations.load() < 1000) std::this_thread::yield();
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(mismatches.load(), 0u);
  EXPECT_EQ(active.Version(), "allow-all");
}

}  // namespace
}  // namespace tpw::risk
