// The engine's outbox and webhook endpoints over a real journal on disk: events get ids in order
// and are readable once durable; endpoints, attempt outcomes and re-sends are facts whose state
// comes back identical after a full replay and after a snapshot restart; retention keeps what
// an endpoint has not finished with and the caps drop the oldest, counted.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/outbox_facts.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::engine {
namespace {

constexpr uint64_t kStartMs = 1'700'000'000'000;

class EngineOutboxTest : public ::testing::Test {
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
    EngineOptions options = options_;
    options.ignore_snapshots = ignore_snapshots;
    auto engine = Engine::Open(*storage_, options, &clock_);
    ASSERT_TRUE(engine.ok()) << engine.error().Message();
    engine_ = std::move(engine.value());
  }

  WebhookReply Run(WebhookCommand c) {
    Reply reply = engine_->ExecuteWebhooks(std::move(c));
    EXPECT_FALSE(reply.error);
    EXPECT_TRUE(reply.webhooks.has_value());
    return reply.webhooks.value_or(WebhookReply{});
  }

  WebhookReply Publish(uint32_t count, std::string type = "test.event",
                       std::string body = R"({"n":1})") {
    WebhookCommand c;
    c.kind = WebhookCommandKind::publish_test_events;
    c.count = count;
    c.type = std::move(type);
    c.body = std::move(body);
    return Run(std::move(c));
  }

  WebhookReply CreateEndpoint(std::vector<std::string> filter, std::string url = "http://127.0.0.1:9/hook") {
    WebhookCommand c;
    c.kind = WebhookCommandKind::create_endpoint;
    c.endpoint.url = std::move(url);
    c.endpoint.filter = std::move(filter);
    c.endpoint.secret.fill(7);
    c.endpoint.description = "test receiver";
    return Run(std::move(c));
  }

  WebhookReply Update(uint64_t id, uint8_t fields, const WebhookEndpoint& values) {
    WebhookCommand c;
    c.kind = WebhookCommandKind::update_endpoint;
    c.endpoint_id = id;
    c.update = fields;
    c.endpoint = values;
    return Run(std::move(c));
  }

  WebhookReply Simple(WebhookCommandKind kind, uint64_t endpoint_id = 0, uint64_t event_id = 0) {
    WebhookCommand c;
    c.kind = kind;
    c.endpoint_id = endpoint_id;
    c.event_id = event_id;
    return Run(std::move(c));
  }

  WebhookReply Record(std::vector<DeliveryRecord> records) {
    WebhookCommand c;
    c.kind = WebhookCommandKind::record_outcomes;
    c.records = std::move(records);
    return Run(std::move(c));
  }

  static DeliveryRecord Outcome(uint64_t endpoint, uint64_t event, DeliveryOutcome outcome,
                                uint32_t attempt = 1, uint64_t next_retry_ms = 0) {
    DeliveryRecord r;
    r.endpoint_id = endpoint;
    r.event_id = event;
    r.time_ms = kStartMs;
    r.outcome = outcome;
    r.attempt = attempt;
    r.http_status = outcome == DeliveryOutcome::delivered ? 200 : 500;
    r.next_retry_ms = next_retry_ms;
    r.error = outcome == DeliveryOutcome::delivered ? "" : "HTTP 500";
    return r;
  }

  std::vector<uint64_t> Unfinished(uint64_t endpoint) {
    for (const EndpointWork& w : Simple(WebhookCommandKind::delivery_state).work) {
      if (w.endpoint.id == endpoint) return w.unfinished;
    }
    ADD_FAILURE() << "no endpoint " << endpoint;
    return {};
  }

  // Everything the outbox and the endpoints show, as text lines.
  std::vector<std::string> Dump() {
    std::vector<std::string> lines;
    for (const OutboxEventPtr& e : engine_->ReadEvents(0, 1'000'000)) {
      lines.push_back("event " + std::to_string(e->id) + " " + std::to_string(e->time_ms) + " " +
                      e->type + " " + std::to_string(e->format) + " " +
                      std::string(e->payload.begin(), e->payload.end()));
    }
    const WebhookReply state = Simple(WebhookCommandKind::delivery_state);
    lines.push_back("as of " + std::to_string(state.as_of_event_id));
    for (const EndpointWork& w : state.work) {
      std::string line = "endpoint " + std::to_string(w.endpoint.id) + " " + w.endpoint.url +
                         " enabled " + std::to_string(w.endpoint.enabled) + " unfinished";
      for (const uint64_t id : w.unfinished) line += " " + std::to_string(id);
      for (const auto& [id, r] : w.retries) {
        line += " retry " + std::to_string(id) + "/" + std::to_string(r.attempts) + "/" +
                std::to_string(r.next_retry_ms) + "/" + std::to_string(r.since_ms);
      }
      lines.push_back(line);
      WebhookCommand log;
      log.kind = WebhookCommandKind::deliveries;
      log.endpoint_id = w.endpoint.id;
      log.limit = 1000;
      for (const DeliveryLogEntry& d : Run(log).deliveries) {
        lines.push_back("  log " + std::to_string(d.seq) + " " + std::to_string(d.record.event_id) +
                        " " + std::string(DeliveryOutcomeName(d.record.outcome)) + " " +
                        d.record.error);
      }
    }
    const EngineStats stats = engine_->Stats();
    lines.push_back("counters " + std::to_string(stats.outbox_counters.published) + " " +
                    std::to_string(stats.outbox_counters.pruned) + " " +
                    std::to_string(stats.outbox_counters.dropped_over_cap) + " " +
                    std::to_string(stats.webhook_counters.delivered) + " " +
                    std::to_string(stats.webhook_counters.failed_attempts));
    return lines;
  }

  storage::TempDir dir_;
  std::unique_ptr<storage::PosixStorage> storage_;
  ManualClock clock_{Timestamp{kStartMs * 1'000'000}};
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineOutboxTest, TestEventsGetIdsInOrderAndAreReadableOnceDurable) {
  const WebhookReply first = Publish(3);
  EXPECT_EQ(first.first_event_id, 1u);
  EXPECT_EQ(first.last_event_id, 3u);
  const WebhookReply second = Publish(2, "test.other", R"({"x":"y"})");
  EXPECT_EQ(second.first_event_id, 4u);
  // The reply comes once the group is durable: the events are readable then.
  const std::vector<OutboxEventPtr> all = engine_->ReadEvents(0, 100);
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i]->id, i + 1);
  EXPECT_EQ(all[3]->type, "test.other");
  EXPECT_EQ(std::string(all[3]->payload.begin(), all[3]->payload.end()), R"({"x":"y"})");
  EXPECT_EQ(all[0]->format, kEventFormatJson);
  EXPECT_EQ(all[0]->time_ms, kStartMs);
  const std::vector<OutboxEventPtr> page = engine_->ReadEvents(2, 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0]->id, 3u);
  EXPECT_EQ(engine_->ReadEvent(5)->type, "test.other");
  EXPECT_EQ(engine_->ReadEvent(6), nullptr);
  EXPECT_EQ(engine_->EventsWindow(), std::make_pair(uint64_t{1}, uint64_t{5}));
  EXPECT_TRUE(engine_->ReadEvents(UINT64_MAX, 10).empty());
}

TEST_F(EngineOutboxTest, ListenersHearTheDurableIdUntilUnsubscribed) {
  std::promise<uint64_t> heard;
  std::atomic<int> calls{0};
  const uint64_t token = engine_->SubscribeEvents([&](uint64_t durable) {
    if (calls.fetch_add(1) == 0) heard.set_value(durable);
  });
  Publish(4);
  auto future = heard.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(future.get(), 4u);
  engine_->UnsubscribeEvents(token);
  const int before = calls.load();
  Publish(1);
  EXPECT_EQ(calls.load(), before);
  // A group without events tells nobody.
  engine_->SubscribeEvents([&](uint64_t) { calls.fetch_add(100); });
  CreateEndpoint({"*"});
  EXPECT_EQ(calls.load(), before);
}

TEST_F(EngineOutboxTest, InvalidTestEventsAreRefusedAndJournalNothing) {
  const uint64_t records = engine_->Stats().journal_records;
  for (const auto& [count, type] : std::vector<std::pair<uint32_t, std::string>>{
           {0, "test.event"}, {kTestEventsPerRequestMax + 1, "test.event"},
           {1, "payment.succeeded"}, {1, "test."}, {1, "test..x"}, {1, "Test.x"},
           {1, "test." + std::string(kEventTypeBytesMax, 'a')}}) {
    WebhookCommand c;
    c.kind = WebhookCommandKind::publish_test_events;
    c.count = count;
    c.type = type;
    EXPECT_EQ(Run(c).error, WebhookError::invalid) << count << " " << type;
  }
  WebhookCommand big;
  big.kind = WebhookCommandKind::publish_test_events;
  big.count = 1;
  big.type = "test.event";
  big.body = std::string(kTestEventBodyBytesMax + 1, ' ');
  EXPECT_EQ(Run(big).error, WebhookError::invalid);
  EXPECT_EQ(engine_->Stats().journal_records, records);
  EXPECT_TRUE(engine_->ReadEvents(0, 10).empty());
}

TEST_F(EngineOutboxTest, EndpointsAreCreatedUpdatedAndDeletedWithErrors) {
  const WebhookReply created = CreateEndpoint({"test.a", "payment.*"});
  ASSERT_EQ(created.error, WebhookError::ok);
  ASSERT_EQ(created.endpoints.size(), 1u);
  const WebhookEndpoint& e = created.endpoints[0].endpoint;
  EXPECT_EQ(e.id, 1u);
  EXPECT_TRUE(e.enabled);
  EXPECT_EQ(e.created_ms, kStartMs);
  EXPECT_EQ(CreateEndpoint({"*"}).endpoints.at(0).endpoint.id, 2u);
  EXPECT_EQ(Simple(WebhookCommandKind::list_endpoints).endpoints.size(), 2u);

  WebhookEndpoint values;
  values.url = "http://example.com:8080/new";
  values.enabled = false;
  const WebhookReply updated = Update(1, endpoint_fields::kUrl | endpoint_fields::kEnabled, values);
  ASSERT_EQ(updated.error, WebhookError::ok);
  EXPECT_EQ(updated.endpoints.at(0).endpoint.url, values.url);
  EXPECT_FALSE(updated.endpoints.at(0).endpoint.enabled);
  EXPECT_EQ(updated.endpoints.at(0).endpoint.filter, (std::vector<std::string>{"test.a", "payment.*"}));
  EXPECT_EQ(Simple(WebhookCommandKind::get_endpoint, 1).endpoints.at(0).endpoint.url, values.url);

  const uint64_t records = engine_->Stats().journal_records;
  EXPECT_EQ(Update(9, endpoint_fields::kUrl, values).error, WebhookError::unknown_endpoint);
  values.filter = {"Bad Filter"};
  EXPECT_EQ(Update(1, endpoint_fields::kFilter, values).error, WebhookError::invalid);
  values.filter = {};
  EXPECT_EQ(Update(1, endpoint_fields::kFilter, values).error, WebhookError::invalid);
  values.url = std::string(kWebhookUrlBytesMax + 1, 'x');
  EXPECT_EQ(Update(1, endpoint_fields::kUrl, values).error, WebhookError::invalid);
  EXPECT_EQ(CreateEndpoint({"x..y"}).error, WebhookError::invalid);
  EXPECT_EQ(Simple(WebhookCommandKind::get_endpoint, 9).error, WebhookError::unknown_endpoint);
  EXPECT_EQ(Simple(WebhookCommandKind::delete_endpoint, 9).error, WebhookError::unknown_endpoint);
  EXPECT_EQ(engine_->Stats().journal_records, records);

  EXPECT_EQ(Simple(WebhookCommandKind::delete_endpoint, 1).endpoints.at(0).endpoint.id, 1u);
  EXPECT_EQ(Simple(WebhookCommandKind::get_endpoint, 1).error, WebhookError::unknown_endpoint);
  // Ids are never reused.
  EXPECT_EQ(CreateEndpoint({"*"}).endpoints.at(0).endpoint.id, 3u);
}

// A roll: the new secret signs, the replaced one beside it until the overlap ends; a second roll
// drops the oldest; a zero overlap keeps none; all of it survives replay and a snapshot.
TEST_F(EngineOutboxTest, ASecretRollKeepsThePreviousSecretForTheOverlapAcrossRestarts) {
  ASSERT_EQ(CreateEndpoint({"*"}).error, WebhookError::ok);  // secret all 7s
  const auto roll = [&](uint8_t fill, uint64_t overlap_ms) {
    WebhookCommand c;
    c.kind = WebhookCommandKind::update_endpoint;
    c.endpoint_id = 1;
    c.update = endpoint_fields::kSecret;
    c.endpoint.secret.fill(fill);
    c.previous_secret_for_ms = overlap_ms;
    return Run(std::move(c));
  };
  const auto secrets = [&] {
    const WebhookEndpoint e = Simple(WebhookCommandKind::delivery_state).work.at(0).endpoint;
    return std::to_string(e.secret[0]) + "/" + std::to_string(e.previous_secret[0]) + "/" +
           std::to_string(e.previous_secret_expires_ms);
  };
  const WebhookReply first = roll(8, 3'600'000);
  ASSERT_EQ(first.error, WebhookError::ok);
  EXPECT_EQ(first.endpoints.at(0).endpoint.updated_ms, kStartMs);
  EXPECT_EQ(secrets(), "8/7/" + std::to_string(kStartMs + 3'600'000));
  ASSERT_EQ(roll(9, 60'000).error, WebhookError::ok);  // the oldest (7) is dropped
  EXPECT_EQ(secrets(), "9/8/" + std::to_string(kStartMs + 60'000));
  const uint64_t records = engine_->Stats().journal_records;
  EXPECT_EQ(roll(10, kWebhookSecretOverlapMsMax + 1).error, WebhookError::invalid);
  EXPECT_EQ(engine_->Stats().journal_records, records);
  EXPECT_EQ(secrets(), "9/8/" + std::to_string(kStartMs + 60'000));

  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(secrets(), "9/8/" + std::to_string(kStartMs + 60'000));
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen();
  EXPECT_TRUE(engine_->recovery().from_snapshot);
  EXPECT_EQ(secrets(), "9/8/" + std::to_string(kStartMs + 60'000));

  ASSERT_EQ(roll(11, 0).error, WebhookError::ok);  // a leaked secret: none keeps signing
  EXPECT_EQ(secrets(), "11/0/0");
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(secrets(), "11/0/0");
}

TEST_F(EngineOutboxTest, TooManyEndpointsAreRefused) {
  for (size_t i = 0; i < kWebhookEndpointsMax; ++i) {
    ASSERT_EQ(CreateEndpoint({"*"}).error, WebhookError::ok);
  }
  EXPECT_EQ(CreateEndpoint({"*"}).error, WebhookError::too_many_endpoints);
}

TEST_F(EngineOutboxTest, AnEndpointGetsOnlyMatchingEventsPublishedAfterItsCreation) {
  Publish(1, "test.a");
  CreateEndpoint({"test.a", "test.sub.*"});
  Publish(1, "test.a");
  Publish(1, "test.b");
  Publish(1, "test.sub.x");
  Publish(1, "test.subway");
  EXPECT_EQ(Unfinished(1), (std::vector<uint64_t>{2, 4}));
}

TEST_F(EngineOutboxTest, OutcomesFinishEventsScheduleRetriesAndFillTheLog) {
  CreateEndpoint({"*"});
  Publish(4);
  Record({Outcome(1, 1, DeliveryOutcome::delivered),
          Outcome(1, 2, DeliveryOutcome::failed, 1, kStartMs + 1000),
          Outcome(1, 3, DeliveryOutcome::given_up, 9),
          Outcome(7, 4, DeliveryOutcome::delivered)});  // endpoint 7 was never: ignored
  EXPECT_EQ(Unfinished(1), (std::vector<uint64_t>{2, 4}));
  const WebhookReply state = Simple(WebhookCommandKind::delivery_state);
  ASSERT_EQ(state.work.at(0).retries.size(), 1u);
  EXPECT_EQ(state.work[0].retries[0].first, 2u);
  EXPECT_EQ(state.work[0].retries[0].second.attempts, 1u);
  EXPECT_EQ(state.work[0].retries[0].second.next_retry_ms, kStartMs + 1000);
  EXPECT_EQ(state.as_of_event_id, 4u);

  const EndpointView view = Simple(WebhookCommandKind::get_endpoint, 1).endpoints.at(0);
  EXPECT_EQ(view.unfinished, 2u);
  EXPECT_EQ(view.retrying, 1u);
  EXPECT_EQ(view.counters.delivered, 1u);
  EXPECT_EQ(view.counters.failed_attempts, 2u);
  EXPECT_EQ(view.counters.given_up, 1u);

  // The log, newest first, paged with before_seq, and filtered by event.
  WebhookCommand log;
  log.kind = WebhookCommandKind::deliveries;
  log.endpoint_id = 1;
  log.limit = 2;
  const WebhookReply page1 = Run(log);
  ASSERT_EQ(page1.deliveries.size(), 2u);
  EXPECT_EQ(page1.deliveries[0].seq, 3u);
  EXPECT_EQ(page1.deliveries[0].record.outcome, DeliveryOutcome::given_up);
  EXPECT_TRUE(page1.has_more);
  log.before_seq = page1.deliveries[1].seq;
  const WebhookReply page2 = Run(log);
  ASSERT_EQ(page2.deliveries.size(), 1u);
  EXPECT_EQ(page2.deliveries[0].record.event_id, 1u);
  EXPECT_FALSE(page2.has_more);
  log.before_seq = 0;
  log.event_id = 2;
  const WebhookReply only = Run(log);
  ASSERT_EQ(only.deliveries.size(), 1u);
  EXPECT_EQ(only.deliveries[0].record.error, "HTTP 500");

  Record({Outcome(1, 2, DeliveryOutcome::delivered, 2), Outcome(1, 4, DeliveryOutcome::delivered)});
  EXPECT_TRUE(Unfinished(1).empty());
  // A late failure of a finished event schedules nothing.
  Record({Outcome(1, 4, DeliveryOutcome::failed, 1, kStartMs + 5)});
  EXPECT_TRUE(Simple(WebhookCommandKind::delivery_state).work.at(0).retries.empty());
}

TEST_F(EngineOutboxTest, MalformedOutcomesAreRefused) {
  CreateEndpoint({"*"});
  Publish(1);
  const uint64_t records = engine_->Stats().journal_records;
  DeliveryRecord bad = Outcome(1, 1, DeliveryOutcome::delivered);
  bad.next_retry_ms = 5;  // only a failure is retried
  EXPECT_EQ(Record({bad}).error, WebhookError::invalid);
  bad = Outcome(1, 1, DeliveryOutcome::failed, 0, 5);  // attempts count from 1
  EXPECT_EQ(Record({bad}).error, WebhookError::invalid);
  bad = Outcome(1, 1, DeliveryOutcome::failed, 1, 5);
  bad.error = std::string(kDeliveryErrorBytesMax + 1, 'e');
  EXPECT_EQ(Record({bad}).error, WebhookError::invalid);
  EXPECT_EQ(Record({}).error, WebhookError::invalid);
  EXPECT_EQ(engine_->Stats().journal_records, records);
}

TEST_F(EngineOutboxTest, DisablingForgetsWorkAndReenablingStartsFromNewEvents) {
  CreateEndpoint({"*"});
  Publish(2);
  Record({Outcome(1, 1, DeliveryOutcome::failed, 1, kStartMs + 10)});
  WebhookEndpoint values;
  values.enabled = false;
  Update(1, endpoint_fields::kEnabled, values);
  EXPECT_TRUE(Unfinished(1).empty());
  Publish(1);  // 3: missed while disabled
  values.enabled = true;
  Update(1, endpoint_fields::kEnabled, values);
  Publish(1);  // 4
  EXPECT_EQ(Unfinished(1), (std::vector<uint64_t>{4}));
}

TEST_F(EngineOutboxTest, ANewFilterDropsUnfinishedEventsItExcludes) {
  CreateEndpoint({"test.*"});
  Publish(1, "test.a");
  Publish(1, "test.b");
  Record({Outcome(1, 2, DeliveryOutcome::failed, 1, kStartMs + 10)});
  WebhookEndpoint values;
  values.filter = {"test.a", "test.c"};
  Update(1, endpoint_fields::kFilter, values);
  EXPECT_EQ(Unfinished(1), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(Simple(WebhookCommandKind::delivery_state).work.at(0).retries.empty());
  Publish(1, "test.c");
  Publish(1, "test.b");
  EXPECT_EQ(Unfinished(1), (std::vector<uint64_t>{1, 3}));
}

TEST_F(EngineOutboxTest, ResendMakesAnEventDueAgainAndRefusesWhatItCannot) {
  CreateEndpoint({"test.a"});
  Publish(1, "test.a");
  Publish(1, "test.b");
  Record({Outcome(1, 1, DeliveryOutcome::delivered)});
  EXPECT_EQ(Simple(WebhookCommandKind::resend, 9, 1).error, WebhookError::unknown_endpoint);
  EXPECT_EQ(Simple(WebhookCommandKind::resend, 1, 99).error, WebhookError::unknown_event);
  EXPECT_EQ(Simple(WebhookCommandKind::resend, 1, 2).error, WebhookError::event_not_matching);
  clock_.Advance(5'000'000);  // 5 ms
  ASSERT_EQ(Simple(WebhookCommandKind::resend, 1, 1).error, WebhookError::ok);
  EXPECT_EQ(Unfinished(1), (std::vector<uint64_t>{1}));
  const auto retry = Simple(WebhookCommandKind::delivery_state).work.at(0).retries.at(0);
  EXPECT_EQ(retry.first, 1u);
  EXPECT_EQ(retry.second.attempts, 0u);
  EXPECT_EQ(retry.second.next_retry_ms, kStartMs + 5);
  EXPECT_EQ(retry.second.since_ms, kStartMs + 5);
  WebhookEndpoint values;
  values.enabled = false;
  Update(1, endpoint_fields::kEnabled, values);
  EXPECT_EQ(Simple(WebhookCommandKind::resend, 1, 1).error, WebhookError::endpoint_disabled);
}

TEST_F(EngineOutboxTest, StateIsTheSameAfterReplayAndAfterSnapshot) {
  CreateEndpoint({"*"});
  Publish(3);
  CreateEndpoint({"test.b"}, "http://[::1]:8080/b");
  Publish(2, "test.b", R"({"b":true})");
  Record({Outcome(1, 1, DeliveryOutcome::delivered), Outcome(1, 2, DeliveryOutcome::failed, 1, kStartMs + 99),
          Outcome(2, 4, DeliveryOutcome::given_up, 3)});
  Simple(WebhookCommandKind::resend, 1, 1);
  WebhookEndpoint values;
  values.description = "renamed";
  Update(2, endpoint_fields::kDescription, values);
  CreateEndpoint({"*"});
  Simple(WebhookCommandKind::delete_endpoint, 3);
  const std::vector<std::string> before = Dump();

  Reopen();
  EXPECT_EQ(Dump(), before);
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen();
  EXPECT_TRUE(engine_->recovery().from_snapshot);
  EXPECT_EQ(Dump(), before);

  // More after the snapshot: snapshot + replay and a full replay agree.
  Publish(2, "test.b");
  Record({Outcome(2, 5, DeliveryOutcome::delivered)});
  const std::vector<std::string> after = Dump();
  Reopen();
  EXPECT_TRUE(engine_->recovery().from_snapshot);
  EXPECT_EQ(Dump(), after);
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(Dump(), after);
  // Ids go on from where they were.
  EXPECT_EQ(Publish(1).first_event_id, 8u);
}

TEST_F(EngineOutboxTest, RetentionKeepsUnfinishedEventsAndPrunesOldFinishedOnes) {
  options_.outbox.retention_ms = 1000;
  Reopen();
  Publish(2);                // 1, 2: nobody wants them
  CreateEndpoint({"*"});
  Publish(2);                // 3, 4: endpoint 1 has them to deliver
  clock_.Advance(2'000'000'000);  // 2 s later: all four are past retention
  Publish(1);                // 5: publishing prunes; 3 and 4 are held by endpoint 1
  EXPECT_EQ(engine_->EventsWindow().first, 3u);
  Record({Outcome(1, 3, DeliveryOutcome::delivered)});
  EXPECT_EQ(engine_->EventsWindow().first, 4u);
  Record({Outcome(1, 4, DeliveryOutcome::given_up, 5)});
  EXPECT_EQ(engine_->EventsWindow().first, 5u);  // 5 is unfinished and young
  EXPECT_EQ(engine_->Stats().outbox_counters.pruned, 4u);
  EXPECT_EQ(engine_->Stats().outbox_counters.dropped_over_cap, 0u);
  // Replay prunes at the same facts with the same times.
  const std::vector<std::string> before = Dump();
  Reopen(true);
  EXPECT_EQ(Dump(), before);
}

TEST_F(EngineOutboxTest, TheCapDropsTheOldestAndCountsUndeliveredOnes) {
  options_.outbox.events_max = 5;
  Reopen();
  CreateEndpoint({"test.a"});
  Publish(4, "test.a");
  Publish(4, "test.b");
  EXPECT_EQ(engine_->EventsWindow(), std::make_pair(uint64_t{4}, uint64_t{8}));
  const EngineStats stats = engine_->Stats();
  EXPECT_EQ(stats.outbox_events, 5u);
  EXPECT_EQ(stats.outbox_counters.dropped_over_cap, 3u);
  EXPECT_EQ(stats.outbox_counters.dropped_undelivered, 3u);
  EXPECT_EQ(Unfinished(1), (std::vector<uint64_t>{4}));

  options_.outbox.events_max = 1'000'000;
  options_.outbox.bytes_max = 3 * (10 + 7);  // three events of "test.event" + {"n":1}
  Reopen(true);
  EXPECT_EQ(engine_->EventsWindow().first, 6u);
}

// ---- Fact decoders ------------------------------------------------------------------------

std::vector<std::vector<uint8_t>> SampleFacts() {
  WebhookEndpoint e;
  e.id = 3;
  e.url = "http://127.0.0.1:8080/hook";
  e.secret.fill(0x5a);
  e.filter = {"payment.*", "test.event"};
  e.description = "orders service";
  e.created_ms = 10;
  e.updated_ms = 11;
  e.created_after_event = 7;
  DeliveryRecord r;
  r.endpoint_id = 3;
  r.event_id = 9;
  r.time_ms = 12;
  r.outcome = DeliveryOutcome::failed;
  r.http_status = 503;
  r.attempt = 2;
  r.duration_ms = 4;
  r.next_retry_ms = 2012;
  r.error = "HTTP 503";
  DeliveryRecord ok = r;
  ok.outcome = DeliveryOutcome::delivered;
  ok.next_retry_ms = 0;
  ok.error.clear();
  WebhookEndpoint rolled = e;
  rolled.previous_secret.fill(0x3c);
  rolled.previous_secret_expires_ms = 86'400'011;
  return {EncodeEndpointFact({EndpointChange::updated, 11, e}),
          EncodeTestEventsFact({13, 20, 5, "test.event", R"({"n":1})"}),
          EncodeDeliveriesFact({14, {r, ok}}), EncodeResendFact({15, 3, 9}),
          EncodeEndpointFact({EndpointChange::updated, 12, rolled})};
}

bool Decodes(size_t which, std::span<const uint8_t> bytes) {
  switch (which) {
    case 0:
    case 4:
      return DecodeEndpointFact(bytes).has_value();
    case 1:
      return DecodeTestEventsFact(bytes).has_value();
    case 2:
      return DecodeDeliveriesFact(bytes).has_value();
    default:
      return DecodeResendFact(bytes).has_value();
  }
}

TEST(OutboxFactsTest, EveryFactRoundTrips) {
  const auto facts = SampleFacts();
  const auto endpoint = DecodeEndpointFact(facts[0]);
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(EncodeEndpointFact(*endpoint), facts[0]);
  EXPECT_EQ(endpoint->endpoint.filter, (std::vector<std::string>{"payment.*", "test.event"}));
  const auto test = DecodeTestEventsFact(facts[1]);
  ASSERT_TRUE(test);
  EXPECT_EQ(EncodeTestEventsFact(*test), facts[1]);
  const auto deliveries = DecodeDeliveriesFact(facts[2]);
  ASSERT_TRUE(deliveries);
  EXPECT_EQ(EncodeDeliveriesFact(*deliveries), facts[2]);
  EXPECT_EQ(deliveries->records.at(0).error, "HTTP 503");
  const auto resend = DecodeResendFact(facts[3]);
  ASSERT_TRUE(resend);
  EXPECT_EQ(EncodeResendFact(*resend), facts[3]);
  const auto rolled = DecodeEndpointFact(facts[4]);
  ASSERT_TRUE(rolled);
  EXPECT_EQ(EncodeEndpointFact(*rolled), facts[4]);
  EXPECT_EQ(rolled->endpoint.previous_secret[31], 0x3c);
  EXPECT_EQ(rolled->endpoint.previous_secret_expires_ms, 86'400'011u);
  EXPECT_EQ(facts[4].size(), facts[0].size() + 32 + 8);  // the same endpoint, plus the old secret
}

TEST(OutboxFactsTest, TruncatedExtendedAndFlippedFactsAreRefused) {
  const auto facts = SampleFacts();
  for (size_t which = 0; which < facts.size(); ++which) {
    const std::vector<uint8_t>& bytes = facts[which];
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(Decodes(which, std::span(bytes).first(n))) << which << " cut at " << n;
    }
    std::vector<uint8_t> longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(Decodes(which, longer)) << which;
    // Version and each reserved header byte.
    for (const size_t at : {size_t{0}, size_t{1}, size_t{2}, size_t{3}}) {
      std::vector<uint8_t> flipped = bytes;
      flipped[at] ^= 0x40;
      EXPECT_FALSE(Decodes(which, flipped)) << which << " byte " << at;
    }
  }
}

TEST(OutboxFactsTest, OutOfRangeFieldsAreRefused) {
  auto facts = SampleFacts();
  std::vector<uint8_t> change = facts[0];
  change[4] = 4;  // change kind 1..3
  EXPECT_FALSE(DecodeEndpointFact(change));
  std::vector<uint8_t> enabled = facts[0];
  enabled[16 + 32] = 2;  // enabled 0/1
  EXPECT_FALSE(DecodeEndpointFact(enabled));
  for (const uint8_t flags : {uint8_t{2}, uint8_t{0x80}}) {  // only bit 0 (a previous secret) has a meaning
    std::vector<uint8_t> unknown = facts[0];
    unknown[16 + 33] = flags;
    EXPECT_FALSE(DecodeEndpointFact(unknown)) << int{flags};
  }
  std::vector<uint8_t> no_previous = facts[4];  // the flag without the secret after it
  no_previous[16 + 33] = 0;
  EXPECT_FALSE(DecodeEndpointFact(no_previous));
  std::vector<uint8_t> zero_expiry = facts[4];  // a previous secret that never signs
  std::fill(zero_expiry.end() - 8, zero_expiry.end(), 0);
  EXPECT_FALSE(DecodeEndpointFact(zero_expiry));
  EXPECT_FALSE(DecodeTestEventsFact(EncodeTestEventsFact({1, 1, 0, "test.event", "{}"})));
  EXPECT_FALSE(DecodeTestEventsFact(EncodeTestEventsFact({1, 0, 1, "test.event", "{}"})));
  EXPECT_FALSE(DecodeTestEventsFact(EncodeTestEventsFact({1, 1, 1, "payment.x", "{}"})));
  EXPECT_FALSE(DecodeTestEventsFact(
      EncodeTestEventsFact({1, 1, kTestEventsPerRequestMax + 1, "test.event", "{}"})));
  EXPECT_FALSE(DecodeResendFact(EncodeResendFact({1, 0, 1})));
  EXPECT_FALSE(DecodeResendFact(EncodeResendFact({1, 1, 0})));
  // A count far beyond the bytes is refused before anything is reserved.
  std::vector<uint8_t> count = facts[2];
  count[4] = 0xff;
  count[5] = 0x1f;
  EXPECT_FALSE(DecodeDeliveriesFact(count));
  std::vector<uint8_t> outcome = facts[2];
  outcome[16 + 42] = 4;  // first record's outcome 1..3
  EXPECT_FALSE(DecodeDeliveriesFact(outcome));
}

TEST(OutboxFactsTest, GarbageIsRefused) {
  SeededRandom random(7);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> bytes(random.Uniform(200));
    random.Fill(bytes);
    if (!bytes.empty()) bytes[0] = kOutboxFactVersion;
    for (size_t which = 0; which < 4; ++which) (void)Decodes(which, bytes);  // no crash
  }
}

}  // namespace
}  // namespace tpw::engine
