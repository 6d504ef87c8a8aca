// The events API end to end: the JSON list and its pagination, one event, and the event stream
// (Server-Sent Events) over real sockets: live events, resuming with Last-Event-ID, heartbeats,
// a slow reader dropped without holding up the others, many streams at once, and streams ended
// by a graceful shutdown.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "api/api_test_client.h"
#include "api/server_fixture.h"
#include "api/event_stream_client.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
using testing::ErrorCode;
using testing::JsonOf;
using testing::TestClient;
using namespace std::chrono_literals;

// A streaming client over a real socket (event_stream_client.h) with the waits the tests need.
class SseTestClient {
 public:
  SseTestClient(uint16_t port, const std::string& target, const std::string& last_event_id = "",
                int receive_buffer_bytes = 0) {
    EventStreamRequest request;
    request.port = port;
    request.target = target;
    if (!last_event_id.empty()) request.headers.emplace_back("Last-Event-ID", last_event_id);
    request.receive_buffer_bytes = receive_buffer_bytes;
    auto client = EventStreamClient::Connect(request);
    EXPECT_TRUE(client.ok()) << client.error();
    if (client.ok()) client_ = std::move(client).value();
  }

  // Reads until `done()` holds, the answer ended, or `timeout` passed; returns done().
  bool ReadUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (client_ && !done() && !client_->ended() && std::chrono::steady_clock::now() < deadline) {
      client_->Poll(50ms);
    }
    return client_ && done();
  }
  bool ReadEvents(size_t n, std::chrono::milliseconds timeout = 10s) {
    return ReadUntil([&] { return events().size() >= n; }, timeout);
  }
  bool ReadToEnd(std::chrono::milliseconds timeout = 10s) {
    return ReadUntil([&] { return client_->ended(); }, timeout);
  }

  unsigned status() const { return client_->status(); }
  const std::string& head() const { return client_->head(); }
  const std::string& body() const { return client_->body(); }
  const std::vector<SseEvent>& events() const { return client_->events(); }
  const std::vector<std::string>& comments() const { return client_->comments(); }

 private:
  std::unique_ptr<EventStreamClient> client_;
};

class EventsApiTest : public testing::ServerFixture {
 protected:
  void SetUp() override { StartServer(Options()); }

  ServerOptions Options() const {
    ServerOptions options;
    options.event_streams = streams_;
    return options;
  }

  void Publish(TestClient& client, int count, std::string_view type = "test.event",
               std::string_view data = R"({"n":1})") {
    const HttpResponse r = client.Post("/v1/events/test", R"({"count":)" + std::to_string(count) +
                                                              R"(,"type":")" + std::string(type) +
                                                              R"(","data":)" + std::string(data) + "}");
    ASSERT_EQ(r.result_int(), 201u) << r.body();
  }

  EventStreamOptions streams_;
};

std::vector<std::string> Ids(const bj::value& list) {
  std::vector<std::string> out;
  for (const bj::value& e : list.at("events").as_array()) out.emplace_back(e.at("id").as_string());
  return out;
}

TEST_F(EventsApiTest, TheListPagesWithACursorAndFiltersByType) {
  TestClient client(port());
  EXPECT_EQ(JsonOf(client.Get("/v1/events")).at("events").as_array().size(), 0u);
  Publish(client, 12, "test.a");
  Publish(client, 3, "test.b");
  const bj::value page1 = JsonOf(client.Get("/v1/events?limit=10"));
  ASSERT_EQ(Ids(page1).size(), 10u);
  EXPECT_EQ(Ids(page1).front(), "evt_1");
  EXPECT_EQ(page1.at("next_cursor").as_string(), "evt_10");
  const bj::value page2 = JsonOf(client.Get("/v1/events?limit=10&after=evt_10"));
  EXPECT_EQ(Ids(page2), (std::vector<std::string>{"evt_11", "evt_12", "evt_13", "evt_14", "evt_15"}));
  EXPECT_TRUE(page2.at("next_cursor").is_null());
  const bj::value only_b = JsonOf(client.Get("/v1/events?type=test.b"));
  EXPECT_EQ(Ids(only_b), (std::vector<std::string>{"evt_13", "evt_14", "evt_15"}));
  EXPECT_EQ(Ids(JsonOf(client.Get("/v1/events?type=test.b,test.a&after=11&limit=2"))),
            (std::vector<std::string>{"evt_12", "evt_13"}));
  EXPECT_EQ(Ids(JsonOf(client.Get("/v1/events?type=test.*&after=evt_14"))).size(), 1u);
  const bj::value one = JsonOf(client.Get("/v1/events/evt_3"));
  EXPECT_EQ(one.at("id").as_string(), "evt_3");
  EXPECT_EQ(one.at("type").as_string(), "test.a");
  EXPECT_EQ(one.at("data").at("n").as_int64(), 1);
  EXPECT_EQ(JsonOf(client.Get("/v1/events/3")).at("id").as_string(), "evt_3");
  EXPECT_EQ(ErrorCode(client.Get("/v1/events/evt_99")), "event_not_found");
  for (const char* bad : {"/v1/events/evt_x", "/v1/events/evt_01", "/v1/events?limit=0",
                          "/v1/events?limit=1001", "/v1/events?after=-1", "/v1/events?type=Test",
                          "/v1/events?type=a,,b", "/v1/events?page=2", "/v1/events?limit=1&limit=2"}) {
    const HttpResponse r = client.Get(bad);
    EXPECT_EQ(r.result_int(), 400u) << bad << " " << r.body();
    EXPECT_EQ(ErrorCode(r), "invalid_parameter") << bad;
  }
  EXPECT_EQ(client.Send(http::verb::post, "/v1/events/evt_1", "{}").result_int(), 405u);
  // Restarted, the same events come back with the same ids.
  RestartServer(Options());
  TestClient after(port());
  EXPECT_EQ(JsonOf(after.Get("/v1/events/evt_14")).at("type").as_string(), "test.b");
  Publish(after, 1);
  EXPECT_EQ(Ids(JsonOf(after.Get("/v1/events?after=evt_15"))), (std::vector<std::string>{"evt_16"}));
}

TEST_F(EventsApiTest, AStreamDeliversNewEventsAsTheyBecomeDurable) {
  TestClient client(port());
  Publish(client, 2);  // before the stream: not sent (it starts at new events)
  SseTestClient stream(port(), "/v1/events");
  ASSERT_TRUE(stream.ReadUntil([&] { return stream.status() != 0; }));
  EXPECT_EQ(stream.status(), 200u);
  EXPECT_NE(stream.head().find("text/event-stream"), std::string::npos);
  Publish(client, 3, "test.live", R"({"k":"v"})");
  ASSERT_TRUE(stream.ReadEvents(3));
  for (size_t i = 0; i < 3; ++i) {
    const SseEvent& e = stream.events()[i];
    EXPECT_EQ(e.id, "evt_" + std::to_string(3 + i));
    EXPECT_EQ(e.event, "test.live");
    const bj::value data = bj::parse(e.data);
    EXPECT_EQ(data.at("id").as_string(), e.id);
    EXPECT_EQ(data.at("data").at("k").as_string(), "v");
  }
  Publish(client, 1);
  ASSERT_TRUE(stream.ReadEvents(4));
  EXPECT_EQ(stream.events()[3].id, "evt_6");
}

TEST_F(EventsApiTest, ResumingWithLastEventIdGetsExactlyTheMissedEvents) {
  TestClient client(port());
  Publish(client, 3);
  {
    SseTestClient first(port(), "/v1/events?after=0");
    ASSERT_TRUE(first.ReadEvents(3));
    EXPECT_EQ(first.events().back().id, "evt_3");
  }
  Publish(client, 4);  // missed while away
  SseTestClient resumed(port(), "/v1/events?after=evt_1", "evt_3");
  ASSERT_TRUE(resumed.ReadEvents(4));
  std::vector<std::string> ids;
  for (const SseEvent& e : resumed.events()) ids.push_back(e.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"evt_4", "evt_5", "evt_6", "evt_7"}));
  EXPECT_FALSE(resumed.ReadEvents(5, 300ms));  // and nothing else
  // after= alone resumes too; with a type filter only those pass.
  Publish(client, 2, "test.other");
  SseTestClient filtered(port(), "/v1/events?after=evt_5&type=test.other");
  ASSERT_TRUE(filtered.ReadEvents(2));
  EXPECT_EQ(filtered.events()[0].id, "evt_8");
  EXPECT_EQ(filtered.events()[1].id, "evt_9");
}

TEST_F(EventsApiTest, BadStreamRequestsAreRefusedBeforeStreaming) {
  SseTestClient bad_id(port(), "/v1/events", "nonsense");
  ASSERT_TRUE(bad_id.ReadUntil([&] { return !bad_id.body().empty(); }));
  EXPECT_EQ(bad_id.status(), 400u);
  EXPECT_NE(bad_id.body().find("Last-Event-ID"), std::string::npos);
  SseTestClient bad_type(port(), "/v1/events?type=NOT_A_TYPE");
  ASSERT_TRUE(bad_type.ReadUntil([&] { return !bad_type.body().empty(); }));
  EXPECT_EQ(bad_type.status(), 400u);
}

TEST_F(EventsApiTest, IdleStreamsGetHeartbeats) {
  streams_.heartbeat_ms = 100;
  RestartServer(Options());
  SseTestClient stream(port(), "/v1/events");
  ASSERT_TRUE(stream.ReadUntil([&] { return stream.comments().size() >= 3; }, 5s));
  for (const std::string& c : stream.comments()) EXPECT_EQ(c, "heartbeat");
  EXPECT_TRUE(stream.events().empty());
}

TEST_F(EventsApiTest, ManyStreamsAtOnceAllGetEveryEvent) {
  std::vector<std::unique_ptr<SseTestClient>> streams;
  for (int i = 0; i < 40; ++i) {
    streams.push_back(std::make_unique<SseTestClient>(port(), "/v1/events?after=0"));
  }
  for (auto& s : streams) ASSERT_TRUE(s->ReadUntil([&] { return s->status() != 0; }));
  TestClient client(port());
  for (int i = 0; i < 5; ++i) Publish(client, 20);
  for (auto& s : streams) {
    ASSERT_TRUE(s->ReadEvents(100));
    EXPECT_EQ(s->events().back().id, "evt_100");
  }
  EXPECT_NE(client.Get("/metrics").body().find("tpw_event_streams_open 40"), std::string::npos);
}

TEST_F(EventsApiTest, ASlowReaderIsDroppedWithoutHoldingUpOthers) {
  // Bursts of 500 never put a reader that keeps up more than 600 behind.
  streams_.lag_events_max = 600;
  streams_.behind_ms_max = 300;
  RestartServer(Options());
  SseTestClient slow(port(), "/v1/events?after=0", "", 4096);
  SseTestClient fast(port(), "/v1/events?after=0");
  ASSERT_TRUE(fast.ReadUntil([&] { return fast.status() != 0; }));
  TestClient client(port());
  const std::string data = R"({"pad":")" + std::string(1000, 'p') + R"("})";
  for (int i = 0; i < 4; ++i) Publish(client, 500, "test.event", data);
  // The fast reader gets everything while the slow one reads nothing.
  ASSERT_TRUE(fast.ReadEvents(2000, 20s)) << fast.events().size();
  EXPECT_EQ(fast.events().back().id, "evt_2000");
  std::this_thread::sleep_for(1s);  // longer than behind_ms_max  // The slow one, reading at last, finds its stream ended with a comment on how to resume.
  ASSERT_TRUE(slow.ReadToEnd(20s)) << slow.events().size() << " events, " << slow.comments().size()
                                   << " comments, last " << (slow.events().empty() ? "" : slow.events().back().id);
  EXPECT_LT(slow.events().size(), 2000u);
  ASSERT_FALSE(slow.comments().empty());
  const std::string& last = slow.comments().back();
  EXPECT_TRUE(last.starts_with("dropped: this stream is")) << last;
  EXPECT_NE(last.find("Last-Event-ID: evt_"), std::string::npos) << last;
  EXPECT_NE(client.Get("/metrics").body().find("tpw_event_streams_dropped_total 1"), std::string::npos);
}

TEST_F(EventsApiTest, AGracefulShutdownEndsStreamsWithAGoodbye) {
  TestClient client(port());
  Publish(client, 1);
  SseTestClient stream(port(), "/v1/events?after=0");
  ASSERT_TRUE(stream.ReadEvents(1));
  std::thread stopper([&] { StopServer(); });
  ASSERT_TRUE(stream.ReadToEnd(10s));
  stopper.join();
  ASSERT_FALSE(stream.comments().empty());
  EXPECT_EQ(stream.comments().back(),
            "the server is shutting down; reconnect with Last-Event-ID: evt_1 to resume");
}

}  // namespace
}  // namespace tpw::api
