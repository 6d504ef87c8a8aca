// Webhooks end to end: a real engine on disk, the real server on a loopback port with its
// deliverer, and a real local receiver (webhook_receiver.h) that fails and recovers. Backoff is
// shortened (tens of milliseconds) so retries happen within a test; nothing waits on a fixed
// sleep where it can wait for what the receiver saw.
#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <ctime>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "api/access_control.h"
#include "api/api_test_client.h"
#include "api/server_fixture.h"
#include "api/webhook_body.h"
#include "api/webhook_receiver.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
using testing::ErrorCode;
using testing::JsonOf;
using testing::TestClient;
using namespace std::chrono_literals;

constexpr uint32_t kBaseMs = 40;

class WebhooksApiTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    auto receiver = WebhookReceiver::Start(ReceiverOptions{});
    ASSERT_TRUE(receiver.ok()) << receiver.error();
    receiver_ = std::move(receiver).value();
    StartServer(Options());
  }

  void TearDown() override {
    StopServer();
    receiver_.reset();
  }

  ServerOptions Options() const {
    ServerOptions options;
    options.webhooks.backoff_base_ms = kBaseMs;
    options.webhooks.backoff_max_ms = 8 * kBaseMs;
    options.webhooks.attempt_timeout_ms = 300;
    options.webhooks.record_interval_ms = 10;
    options.webhooks.connections_per_endpoint = 4;
    options.webhooks.give_up_after_ms = give_up_after_ms_;
    return options;
  }

  // Creates an endpoint at the receiver; returns its id text and gives the receiver the secret.
  std::string CreateEndpoint(TestClient& client, std::string_view events = R"(["*"])") {
    const HttpResponse r = client.Post(
        "/v1/webhook_endpoints",
        R"({"url":")" + receiver_->url() + R"(","enabled_events":)" + std::string(events) + "}");
    EXPECT_EQ(r.result_int(), 201u) << r.body();
    const bj::object o = JsonOf(r).as_object();
    secret_ = std::string(o.at("secret").as_string());
    receiver_->SetSecret(secret_);
    return std::string(o.at("id").as_string());
  }

  HttpResponse Publish(TestClient& client, int count, std::string_view type = "test.event",
                       std::string_view data = R"({"order":"42"})") {
    const HttpResponse r = client.Post("/v1/events/test", R"({"count":)" + std::to_string(count) +
                                                              R"(,"type":")" + std::string(type) +
                                                              R"(","data":)" + std::string(data) + "}");
    EXPECT_EQ(r.result_int(), 201u) << r.body();
    return r;
  }

  // Event id → times it arrived at the receiver.
  std::map<uint64_t, uint32_t> Arrivals() const {
    std::map<uint64_t, uint32_t> out;
    for (const ReceivedWebhook& r : receiver_->Received()) ++out[r.event_id];
    return out;
  }

  bool AllDelivered(uint64_t count, std::chrono::milliseconds timeout = 20s) {
    return receiver_->WaitFor([&] { return receiver_->delivered_distinct() >= count; }, timeout);
  }

  bj::array Deliveries(TestClient& client, const std::string& endpoint, std::string_view query = "") {
    const HttpResponse r = client.Get("/v1/webhook_endpoints/" + endpoint + "/deliveries" + std::string(query));
    EXPECT_EQ(r.result_int(), 200u) << r.body();
    return JsonOf(r).at("deliveries").as_array();
  }

  std::unique_ptr<WebhookReceiver> receiver_;
  std::string secret_;  // of the endpoint made last
  uint64_t give_up_after_ms_ = 3ull * 24 * 3600 * 1000;
};

// ---- Endpoints ------------------------------------------------------------------------------

TEST_F(WebhooksApiTest, EndpointsAreCreatedListedShownUpdatedAndDeleted) {
  TestClient client(port());
  const HttpResponse created = client.Post(
      "/v1/webhook_endpoints",
      R"({"url":"http://127.0.0.1:9/hooks?x=1","enabled_events":["payment.*","test.event"],"description":"orders"})");
  ASSERT_EQ(created.result_int(), 201u) << created.body();
  const bj::object e = JsonOf(created).as_object();
  EXPECT_EQ(e.at("id").as_string(), "we_1");
  EXPECT_EQ(e.at("object").as_string(), "webhook_endpoint");
  EXPECT_EQ(e.at("status").as_string(), "enabled");
  EXPECT_TRUE(e.at("secret").as_string().starts_with("whsec_"));
  EXPECT_EQ(e.at("secret").as_string().size(), 6u + 43u);
  EXPECT_EQ(e.at("enabled_events").as_array().size(), 2u);

  const bj::object listed = JsonOf(client.Get("/v1/webhook_endpoints")).as_object();
  ASSERT_EQ(listed.at("webhook_endpoints").as_array().size(), 1u);
  const bj::object shown = JsonOf(client.Get("/v1/webhook_endpoints/we_1")).as_object();
  EXPECT_FALSE(shown.contains("secret"));  // shown once, at creation
  EXPECT_EQ(shown.at("description").as_string(), "orders");
  EXPECT_EQ(shown.at("deliveries").at("pending").as_int64(), 0);

  const HttpResponse updated = client.Post("/v1/webhook_endpoints/we_1",
                                           R"({"enabled":false,"enabled_events":["*"]})");
  ASSERT_EQ(updated.result_int(), 200u) << updated.body();
  EXPECT_EQ(JsonOf(updated).at("status").as_string(), "disabled");
  EXPECT_EQ(JsonOf(updated).at("url").as_string(), "http://127.0.0.1:9/hooks?x=1");

  const HttpResponse deleted = client.Send(http::verb::delete_, "/v1/webhook_endpoints/we_1");
  ASSERT_EQ(deleted.result_int(), 200u) << deleted.body();
  EXPECT_TRUE(JsonOf(deleted).at("deleted").as_bool());
  EXPECT_EQ(client.Get("/v1/webhook_endpoints/we_1").result_int(), 404u);
  EXPECT_EQ(ErrorCode(client.Get("/v1/webhook_endpoints/we_1")), "webhook_endpoint_not_found");
  // Survives a restart.
  client.Post("/v1/webhook_endpoints", R"({"url":"http://127.0.0.1:9/"})");
  RestartServer(Options());
  TestClient after(port());
  const bj::object kept = JsonOf(after.Get("/v1/webhook_endpoints/we_2")).as_object();
  EXPECT_EQ(kept.at("enabled_events").as_array().at(0).as_string(), "*");
}

TEST_F(WebhooksApiTest, BadEndpointRequestsAreRefusedWithTheFieldAtFault) {
  TestClient client(port());
  const std::string too_long = "http://a/" + std::string(2048, 'x');
  struct Case {
    std::string body;
    std::string param;
  };
  const std::vector<Case> cases = {
      {R"({"url":"https://example.com/hooks"})", "url"},
      {R"({"url":"ftp://example.com/"})", "url"},
      {R"({"url":"http:///hooks"})", "url"},
      {R"({"url":"http://host:0/"})", "url"},
      {R"({"url":"http://host:70000/"})", "url"},
      {R"({"url":"http://host:/"})", "url"},
      {R"({"url":"http://user:pw@host/"})", "url"},
      {R"({"url":"http://host/a#frag"})", "url"},
      {R"({"url":"http://ho st/"})", "url"},
      {R"({"url":"http://[::1/"})", "url"},
      {R"({"url":")" + too_long + R"("})", "url"},
      {R"({"url":42})", "url"},
      {R"({"enabled_events":["*"]})", "url"},
      {R"({"url":"http://h/","enabled_events":[]})", "enabled_events"},
      {R"({"url":"http://h/","enabled_events":["Payment.Succeeded"]})", "enabled_events"},
      {R"({"url":"http://h/","enabled_events":["a","a"]})", "enabled_events"},
      {R"({"url":"http://h/","enabled_events":"*"})", "enabled_events"},
      {R"({"url":"http://h/","description":")" + std::string(513, 'd') + R"("})", "description"},
      {R"({"url":"http://h/","enabled":"yes"})", "enabled"},
      {R"({"url":"http://h/","secret":"mine"})", "secret"},
  };
  for (const Case& c : cases) {
    const HttpResponse r = client.Post("/v1/webhook_endpoints", c.body);
    EXPECT_EQ(r.result_int(), 400u) << c.body;
    EXPECT_EQ(JsonOf(r).at("error").at("param").as_string(), c.param) << c.body << " " << r.body();
  }
  std::string many = R"({"url":"http://h/","enabled_events":[)";
  for (int i = 0; i < 65; ++i) many += (i ? ",\"" : "\"") + std::string("t.e") + std::to_string(i) + "\"";
  EXPECT_EQ(client.Post("/v1/webhook_endpoints", many + "]}").result_int(), 400u);
  EXPECT_EQ(ErrorCode(client.Post("/v1/webhook_endpoints", "{not json")), "malformed_json");
  EXPECT_EQ(ErrorCode(client.Post("/v1/webhook_endpoints", "[1]")), "invalid_body");
  EXPECT_EQ(client.Send(http::verb::post, "/v1/webhook_endpoints", R"({"url":"http://h/"})", "text/plain").result_int(), 415u);
  EXPECT_EQ(ErrorCode(client.Get("/v1/webhook_endpoints/we_0")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(client.Get("/v1/webhook_endpoints/abc")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(client.Get("/v1/webhook_endpoints/we_99999999999999999999999")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(client.Get("/v1/webhook_endpoints/we_7")), "webhook_endpoint_not_found");
  EXPECT_EQ(ErrorCode(client.Post("/v1/webhook_endpoints/we_7", R"({"enabled":true})")), "webhook_endpoint_not_found");
  EXPECT_EQ(ErrorCode(client.Send(http::verb::delete_, "/v1/webhook_endpoints/we_7")), "webhook_endpoint_not_found");
  EXPECT_EQ(client.Send(http::verb::put, "/v1/webhook_endpoints/we_7").result_int(), 405u);
  client.Post("/v1/webhook_endpoints", R"({"url":"http://h/"})");
  EXPECT_EQ(ErrorCode(client.Post("/v1/webhook_endpoints/we_1", "{}")), "invalid_body");
  EXPECT_EQ(ErrorCode(client.Post("/v1/webhook_endpoints/we_1", R"({"url":"https://h/"})")), "invalid_body");
  EXPECT_EQ(ErrorCode(client.Get("/v1/webhook_endpoints/we_1/deliveries?limit=0")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(client.Get("/v1/webhook_endpoints/we_1/deliveries?limit=1001")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(client.Get("/v1/webhook_endpoints/we_1/deliveries?after=x")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(client.Get("/v1/webhook_endpoints/we_1/deliveries?event_id=evt_")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(client.Get("/v1/webhook_endpoints/we_1/deliveries?color=red")), "invalid_parameter");
  for (const char* body : {"", "{}", R"({"event_id":42})", R"({"event_id":"evt_0"})",
                           R"({"event_id":"evt_1","x":1})", "null"}) {
    const HttpResponse r = client.Post("/v1/webhook_endpoints/we_1/resend", body);
    EXPECT_EQ(r.result_int(), 400u) << body << " " << r.body();
  }
  // The most there may be.
  for (int i = 1; i < 32; ++i) client.Post("/v1/webhook_endpoints", R"({"url":"http://h/"})");
  EXPECT_EQ(ErrorCode(client.Post("/v1/webhook_endpoints", R"({"url":"http://h/"})")), "too_many_webhook_endpoints");
}

// ---- Delivery -------------------------------------------------------------------------------

TEST_F(WebhooksApiTest, EventsArriveSignedAndTheSignatureFailsWithAnotherSecret) {
  TestClient client(port());
  CreateEndpoint(client);
  Publish(client, 3);
  ASSERT_TRUE(AllDelivered(3));
  const std::vector<ReceivedWebhook> received = receiver_->Received();
  ASSERT_GE(received.size(), 3u);
  for (const ReceivedWebhook& r : received) {
    EXPECT_TRUE(r.signature_ok) << r.signature;
    const bj::object body = bj::parse(r.body).as_object();
    EXPECT_EQ(body.at("id").as_string(), EventIdText(r.event_id));  // = TPW-Event-Id
    EXPECT_EQ(body.at("type").as_string(), "test.event");
    EXPECT_TRUE(body.at("created").is_int64());
    EXPECT_EQ(body.at("data").at("order").as_string(), "42");
    // The header is t=<seconds>,v1=<64 hex digits>.
    ASSERT_TRUE(r.signature.starts_with("t=")) << r.signature;
    EXPECT_EQ(r.signature.size() - r.signature.find(",v1="), 4u + 64u);
    const uint64_t t = std::stoull(r.signature.substr(2));
    EXPECT_EQ(VerifySignatureHeader(r.signature, secret_, r.body, t, 300), SignatureCheck::ok);
    EXPECT_EQ(VerifySignatureHeader(r.signature, "whsec_another", r.body, t, 300), SignatureCheck::mismatch);
    std::string tampered = r.body;
    tampered[tampered.size() - 2] ^= 1;
    EXPECT_EQ(VerifySignatureHeader(r.signature, secret_, tampered, t, 300), SignatureCheck::mismatch);
  }
}

TEST_F(WebhooksApiTest, SignatureHelperChecksSecretBodyAndTimeWindow) {
  const std::string secret = "whsec_abc";
  const std::string body = R"({"id":"evt_1"})";
  const std::string header = SignatureHeader(secret, 1000, body);
  EXPECT_EQ(VerifySignatureHeader(header, secret, body, 1000, 300), SignatureCheck::ok);
  EXPECT_EQ(VerifySignatureHeader(header, secret, body, 1300, 300), SignatureCheck::ok);
  EXPECT_EQ(VerifySignatureHeader(header, secret, body, 1301, 300), SignatureCheck::too_old);
  EXPECT_EQ(VerifySignatureHeader(header, secret, body, 699, 300), SignatureCheck::too_old);
  EXPECT_EQ(VerifySignatureHeader(header, "whsec_abd", body, 1000, 300), SignatureCheck::mismatch);
  EXPECT_EQ(VerifySignatureHeader(header, secret, body + " ", 1000, 300), SignatureCheck::mismatch);
  // Several v1 entries (a secret being rolled): one matching is enough; unknown schemes ignored.
  const std::string other = SignatureHeader("whsec_old", 1000, body);
  EXPECT_EQ(VerifySignatureHeader(header + other.substr(other.find(",v1=")) + ",v0=zz", secret, body, 1000, 300),
            SignatureCheck::ok);
  for (const char* bad : {"", "t=", "v1=00", "t=1000", "t=x,v1=00", "t=1000,t=1000,v1=00"}) {
    EXPECT_EQ(VerifySignatureHeader(bad, secret, body, 1000, 300), SignatureCheck::malformed) << bad;
  }
  EXPECT_EQ(VerifySignatureHeader("t=1000,v1=zz", secret, body, 1000, 300), SignatureCheck::mismatch);
}

// The TPW-Signature headers of the events with ids in [first, last] that reached the receiver.
std::vector<ReceivedWebhook> ReceivedBetween(const WebhookReceiver& receiver, uint64_t first,
                                             uint64_t last) {
  std::vector<ReceivedWebhook> out;
  for (const ReceivedWebhook& r : receiver.Received()) {
    if (r.event_id >= first && r.event_id <= last) out.push_back(r);
  }
  return out;
}

SignatureCheck CheckWith(const ReceivedWebhook& r, const std::string& secret) {
  const uint64_t t = std::stoull(r.signature.substr(2));
  return VerifySignatureHeader(r.signature, secret, r.body, t, 300);
}

TEST_F(WebhooksApiTest, ARolledSecretSignsBesideTheOldOneUntilTheOldOneExpires) {
  TestClient client(port());
  const std::string id = CreateEndpoint(client);
  const std::string first_secret = secret_;
  const std::string path = "/v1/webhook_endpoints/" + id + "/roll_secret";

  // Default overlap (24 h), with no body at all (curl -X POST).
  const uint64_t before_s = static_cast<uint64_t>(std::time(nullptr));
  HttpResponse r = client.Post(path, "");
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  bj::object rolled = JsonOf(r).as_object();
  const std::string second_secret(rolled.at("secret").as_string());
  EXPECT_TRUE(second_secret.starts_with("whsec_"));
  EXPECT_NE(second_secret, first_secret);
  const uint64_t expires = rolled.at("previous_secret_expires").to_number<uint64_t>();
  EXPECT_GE(expires, before_s + 86'400 - 1);
  EXPECT_LE(expires, before_s + 86'400 + 60);
  const bj::object shown = JsonOf(client.Get("/v1/webhook_endpoints/" + id)).as_object();
  EXPECT_FALSE(shown.contains("secret"));  // shown once, by the roll
  EXPECT_EQ(shown.at("previous_secret_expires").to_number<uint64_t>(), expires);

  receiver_->SetSecret(second_secret);
  bj::object published = JsonOf(Publish(client, 3)).as_object();
  ASSERT_TRUE(AllDelivered(3));
  std::vector<ReceivedWebhook> during = ReceivedBetween(
      *receiver_, *ParseEventId(published.at("first_event_id").as_string()),
      *ParseEventId(published.at("last_event_id").as_string()));
  ASSERT_GE(during.size(), 3u);
  for (const ReceivedWebhook& w : during) {
    // Two v1 entries: a receiver with either secret accepts the delivery.
    EXPECT_EQ(w.signature.find(",v1=", w.signature.find(",v1=") + 1) != std::string::npos, true)
        << w.signature;
    EXPECT_EQ(CheckWith(w, second_secret), SignatureCheck::ok);
    EXPECT_EQ(CheckWith(w, first_secret), SignatureCheck::ok);
    EXPECT_EQ(CheckWith(w, "whsec_another"), SignatureCheck::mismatch);
  }

  // A leaked secret: roll with no overlap, and only the new one signs.
  r = client.Post(path, R"({"previous_secret_expires_in":0})");
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  rolled = JsonOf(r).as_object();
  const std::string third_secret(rolled.at("secret").as_string());
  EXPECT_TRUE(rolled.at("previous_secret_expires").is_null());
  receiver_->SetSecret(third_secret);
  published = JsonOf(Publish(client, 2)).as_object();
  ASSERT_TRUE(AllDelivered(5));
  during = ReceivedBetween(*receiver_, *ParseEventId(published.at("first_event_id").as_string()),
                           *ParseEventId(published.at("last_event_id").as_string()));
  ASSERT_GE(during.size(), 2u);
  for (const ReceivedWebhook& w : during) {
    EXPECT_EQ(w.signature.size() - w.signature.find(",v1="), 4u + 64u) << w.signature;
    EXPECT_EQ(CheckWith(w, third_secret), SignatureCheck::ok);
    EXPECT_EQ(CheckWith(w, second_secret), SignatureCheck::mismatch);
    EXPECT_EQ(CheckWith(w, first_secret), SignatureCheck::mismatch);
  }
}

TEST_F(WebhooksApiTest, RollingASecretRefusesBadBodiesAndUnknownEndpoints) {
  TestClient client(port());
  const std::string id = CreateEndpoint(client);
  const std::string path = "/v1/webhook_endpoints/" + id + "/roll_secret";
  for (const char* body :
       {R"({"previous_secret_expires_in":-1})", R"({"previous_secret_expires_in":604801})",
        R"({"previous_secret_expires_in":1.5})", R"({"previous_secret_expires_in":"60"})",
        R"({"previous_secret_expires_in":1e3})", R"({"other":1})", "[]", "{", "null"}) {
    const HttpResponse r = client.Post(path, body);
    EXPECT_EQ(r.result_int(), 400u) << body << " " << r.body();
  }
  EXPECT_EQ(client.Post(path, R"({"previous_secret_expires_in":604800})").result_int(), 200u);
  const HttpResponse missing = client.Post("/v1/webhook_endpoints/we_99/roll_secret", "");
  EXPECT_EQ(missing.result_int(), 404u);
  EXPECT_EQ(ErrorCode(missing), "webhook_endpoint_not_found");
  EXPECT_EQ(client.Post("/v1/webhook_endpoints/x/roll_secret", "").result_int(), 400u);
  EXPECT_EQ(client.Get(path).result_int(), 405u);
}

TEST_F(WebhooksApiTest, EndpointsGetOnlyTheEventTypesTheyAskFor) {
  TestClient client(port());
  const std::string only_a = CreateEndpoint(client, R"(["test.a"])");
  CreateEndpoint(client, R"(["*"])");
  Publish(client, 2, "test.a");
  Publish(client, 3, "test.b");
  ASSERT_TRUE(AllDelivered(5));
  ASSERT_TRUE(receiver_->WaitFor([&] { return receiver_->count() >= 7; }, 10s));
  std::this_thread::sleep_for(200ms);  // nothing more should come
  std::map<std::string, int> by_type;
  for (const ReceivedWebhook& r : receiver_->Received()) {
    ++by_type[std::string(bj::parse(r.body).at("type").as_string())];
  }
  EXPECT_EQ(by_type["test.a"], 4);  // both endpoints
  EXPECT_EQ(by_type["test.b"], 3);  // the "*" endpoint only
  EXPECT_EQ(Deliveries(client, only_a).size(), 2u);
}

TEST_F(WebhooksApiTest, UpdatesRedirectPauseAndResumeDelivery) {
  TestClient client(port());
  const std::string endpoint = CreateEndpoint(client);
  Publish(client, 2);
  ASSERT_TRUE(AllDelivered(2));
  auto other = WebhookReceiver::Start(ReceiverOptions{});
  ASSERT_TRUE(other.ok());
  std::unique_ptr<WebhookReceiver> second = std::move(other).value();
  second->SetSecret(secret_);
  ASSERT_EQ(client.Post("/v1/webhook_endpoints/" + endpoint, R"({"url":")" + second->url() + R"("})").result_int(), 200u);
  Publish(client, 2);  // 3, 4: to the new address
  ASSERT_TRUE(second->WaitFor([&] { return second->delivered_distinct() == 2; }, 10s));
  for (const ReceivedWebhook& r : second->Received()) {
    EXPECT_GE(r.event_id, 3u);
    EXPECT_TRUE(r.signature_ok);
  }
  EXPECT_EQ(receiver_->count(), 2u);
  ASSERT_EQ(client.Post("/v1/webhook_endpoints/" + endpoint, R"({"enabled":false})").result_int(), 200u);
  Publish(client, 1);  // 5: missed while disabled
  ASSERT_EQ(client.Post("/v1/webhook_endpoints/" + endpoint, R"({"enabled":true})").result_int(), 200u);
  Publish(client, 1);  // 6
  ASSERT_TRUE(second->WaitFor([&] { return second->delivered_distinct() == 3; }, 10s));
  std::this_thread::sleep_for(100ms);
  std::set<uint64_t> ids;
  for (const ReceivedWebhook& r : second->Received()) ids.insert(r.event_id);
  EXPECT_EQ(ids, (std::set<uint64_t>{3, 4, 6}));
}

TEST_F(WebhooksApiTest, AFailingReceiverThatRecoversGetsEveryEventWithBackoff) {
  // Each event fails twice before it is taken: events ≡ 0 mod 3 get a 500, ≡ 1 a closed
  // connection, ≡ 2 no answer within the attempt timeout.
  receiver_->SetDecide([](const ReceivedWebhook& r) {
    ReceiverAnswer answer;
    if (r.seen > 2) return answer;
    switch (r.event_id % 3) {
      case 0:
        answer.status = 500;
        break;
      case 1:
        answer.kind = ReceiverAnswer::Kind::close;
        break;
      default:
        answer.kind = ReceiverAnswer::Kind::stall;
        answer.delay_ms = 1000;
        break;
    }
    return answer;
  });
  TestClient client(port());
  const std::string endpoint = CreateEndpoint(client);
  Publish(client, 9);
  ASSERT_TRUE(AllDelivered(9, 30s)) << receiver_->delivered_distinct();
  std::map<uint64_t, std::vector<uint64_t>> times;
  for (const ReceivedWebhook& r : receiver_->Received()) times[r.event_id].push_back(r.arrived_ns);
  ASSERT_EQ(times.size(), 9u);
  for (const auto& [event, at] : times) {
    ASSERT_GE(at.size(), 3u) << event;
    // Retry n waits at least base × 2^(n-1) after the failed attempt ended (which is at or
    // after its arrival here); the schedule is kept in whole milliseconds of the wall clock, so
    // allow 2 ms of rounding.
    for (size_t n = 1; n < at.size(); ++n) {
      const uint64_t gap_ms = (at[n] - at[n - 1]) / 1'000'000;
      EXPECT_GE(gap_ms + 2, kBaseMs << (n - 1)) << "event " << event << " retry " << n;
    }
  }
  // The log shows why each attempt failed.
  std::set<std::string> errors;
  for (const bj::value& d : Deliveries(client, endpoint, "?limit=1000")) {
    if (d.at("outcome").as_string() != "failed") continue;
    EXPECT_FALSE(d.at("next_retry").is_null());
    errors.insert(std::string(d.at("error").as_string()).substr(0, 10));
  }
  EXPECT_TRUE(errors.contains("HTTP 500")) << *errors.begin();
  EXPECT_TRUE(std::any_of(errors.begin(), errors.end(), [](const std::string& e) { return e.starts_with("timed out"); }));
  EXPECT_TRUE(std::any_of(errors.begin(), errors.end(), [](const std::string& e) { return e.starts_with("the connec"); }));
  ASSERT_TRUE(receiver_->WaitFor([&] {
    return JsonOf(client.Get("/v1/webhook_endpoints/" + endpoint)).at("deliveries").at("delivered").as_int64() == 9;
  }, 5s));
  EXPECT_EQ(JsonOf(client.Get("/v1/webhook_endpoints/" + endpoint)).at("deliveries").at("pending").as_int64(), 0);
}

TEST_F(WebhooksApiTest, AnEventThatKeepsFailingIsGivenUpAfterTheMaximumAge) {
  give_up_after_ms_ = 250;
  RestartServer(Options());
  receiver_->SetDecide([](const ReceivedWebhook&) { return ReceiverAnswer{ReceiverAnswer::Kind::status, 503, 0}; });
  TestClient client(port());
  const std::string endpoint = CreateEndpoint(client);
  Publish(client, 1);
  ASSERT_TRUE(receiver_->WaitFor([&] {
    const bj::array log = Deliveries(client, endpoint);
    return !log.empty() && log.at(0).at("outcome").as_string() == "given_up";
  }, 10s));
  const uint64_t attempts = receiver_->count();
  EXPECT_GE(attempts, 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(6 * kBaseMs));
  EXPECT_EQ(receiver_->count(), attempts);  // no attempt after giving up
  const bj::object shown = JsonOf(client.Get("/v1/webhook_endpoints/" + endpoint)).as_object();
  EXPECT_EQ(shown.at("deliveries").at("given_up").as_int64(), 1);
  EXPECT_EQ(shown.at("deliveries").at("pending").as_int64(), 0);
}

TEST_F(WebhooksApiTest, ARestartMidDeliveryLosesNoEventAndResendsOnlyUnrecordedOnes) {
  // Slow answers keep deliveries in flight while the server stops.
  receiver_->SetDecide([](const ReceivedWebhook&) { return ReceiverAnswer{ReceiverAnswer::Kind::status, 200, 5}; });
  TestClient client(port());
  CreateEndpoint(client);
  Publish(client, 400);
  ASSERT_TRUE(receiver_->WaitFor([&] { return receiver_->count() >= 100; }, 20s));
  StopServer();
  const size_t before = receiver_->count();
  // What the journal says is still to deliver: the only events that may arrive again.
  std::set<uint64_t> unfinished;
  {
    auto storage = storage::PosixStorage::Open(dir_.path(), false);
    ASSERT_TRUE(storage.ok());
    auto engine = engine::Engine::Open(*storage.value(), engine::EngineOptions{});
    ASSERT_TRUE(engine.ok());
    engine::WebhookCommand state;
    state.kind = engine::WebhookCommandKind::delivery_state;
    const engine::Reply reply = engine.value()->ExecuteWebhooks(state);
    for (const uint64_t id : reply.webhooks->work.at(0).unfinished) unfinished.insert(id);
  }
  EXPECT_LT(unfinished.size(), 400u);
  StartServer(Options());
  TestClient after(port());
  Publish(after, 100);  // more while resuming
  ASSERT_TRUE(AllDelivered(500, 30s)) << receiver_->delivered_distinct();
  const std::vector<ReceivedWebhook> received = receiver_->Received();
  std::set<uint64_t> seen;
  for (size_t i = 0; i < received.size(); ++i) {
    if (i >= before && received[i].event_id <= 400) {
      EXPECT_TRUE(unfinished.contains(received[i].event_id))
          << "event " << received[i].event_id << " was recorded delivered yet came again";
    }
    seen.insert(received[i].event_id);
  }
  for (uint64_t id = 1; id <= 500; ++id) EXPECT_TRUE(seen.contains(id)) << "event " << id << " lost";
}

TEST_F(WebhooksApiTest, ResendDeliversAnEventAgainAndRefusesWhatItCannot) {
  TestClient client(port());
  const std::string endpoint = CreateEndpoint(client, R"(["test.a"])");
  Publish(client, 1, "test.a");
  Publish(client, 1, "test.b");
  ASSERT_TRUE(AllDelivered(1));
  const HttpResponse r = client.Post("/v1/webhook_endpoints/" + endpoint + "/resend", R"({"event_id":"evt_1"})");
  ASSERT_EQ(r.result_int(), 202u) << r.body();
  EXPECT_EQ(JsonOf(r).at("status").as_string(), "scheduled");
  ASSERT_TRUE(receiver_->WaitFor([&] { return Arrivals()[1] == 2; }, 10s));
  EXPECT_EQ(ErrorCode(client.Post("/v1/webhook_endpoints/" + endpoint + "/resend", R"({"event_id":"evt_99"})")),
            "event_not_found");
  EXPECT_EQ(ErrorCode(client.Post("/v1/webhook_endpoints/" + endpoint + "/resend", R"({"event_id":"evt_2"})")),
            "event_not_matching");
  EXPECT_EQ(ErrorCode(client.Post("/v1/webhook_endpoints/we_9/resend", R"({"event_id":"evt_1"})")),
            "webhook_endpoint_not_found");
  client.Post("/v1/webhook_endpoints/" + endpoint, R"({"enabled":false})");
  EXPECT_EQ(ErrorCode(client.Post("/v1/webhook_endpoints/" + endpoint + "/resend", R"({"event_id":"evt_1"})")),
            "webhook_endpoint_disabled");
}

TEST_F(WebhooksApiTest, TheDeliveryLogPagesNewestFirstAndFiltersByEvent) {
  TestClient client(port());
  const std::string endpoint = CreateEndpoint(client);
  Publish(client, 5);
  ASSERT_TRUE(AllDelivered(5));
  ASSERT_TRUE(receiver_->WaitFor([&] { return Deliveries(client, endpoint).size() == 5; }, 5s));
  const HttpResponse page1 = client.Get("/v1/webhook_endpoints/" + endpoint + "/deliveries?limit=2");
  const bj::object p1 = JsonOf(page1).as_object();
  ASSERT_EQ(p1.at("deliveries").as_array().size(), 2u);
  EXPECT_EQ(p1.at("deliveries").at(0).at("id").as_string(), "5");
  EXPECT_EQ(p1.at("deliveries").at(0).at("outcome").as_string(), "delivered");
  EXPECT_EQ(p1.at("deliveries").at(0).at("http_status").as_int64(), 200);
  EXPECT_TRUE(p1.at("deliveries").at(0).at("error").is_null());
  const std::string cursor(p1.at("next_cursor").as_string());
  const bj::object p2 = JsonOf(client.Get("/v1/webhook_endpoints/" + endpoint + "/deliveries?limit=2&after=" + cursor)).as_object();
  EXPECT_EQ(p2.at("deliveries").at(0).at("id").as_string(), "3");
  const bj::object p3 = JsonOf(client.Get("/v1/webhook_endpoints/" + endpoint + "/deliveries?limit=2&after=2")).as_object();
  EXPECT_EQ(p3.at("deliveries").as_array().size(), 1u);
  EXPECT_TRUE(p3.at("next_cursor").is_null());
  const bj::array only = Deliveries(client, endpoint, "?event_id=evt_4");
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only.at(0).at("event_id").as_string(), "evt_4");
  EXPECT_EQ(ErrorCode(client.Get("/v1/webhook_endpoints/we_9/deliveries")), "webhook_endpoint_not_found");
}

TEST_F(WebhooksApiTest, BadTestEventBodiesAreRefused) {
  TestClient client(port());
  for (const char* body : {R"({"count":0})", R"({"count":10001})", R"({"count":1.5})", R"({"count":"3"})",
                           R"({"type":"payment.succeeded"})", R"({"type":"test."})", R"({"type":5})",
                           R"({"data":[1]})", R"({"data":"x"})", R"({"extra":1})", "[]", "{"}) {
    const HttpResponse r = client.Post("/v1/events/test", body);
    EXPECT_EQ(r.result_int(), 400u) << body << " " << r.body();
  }
  const std::string big = R"({"data":{"x":")" + std::string(17 * 1024, 'x') + R"("}})";
  EXPECT_EQ(client.Post("/v1/events/test", big).result_int(), 400u);
  // No body at all publishes one test.event with {} as data.
  const HttpResponse none = client.Send(http::verb::post, "/v1/events/test", "", "");
  ASSERT_EQ(none.result_int(), 201u) << none.body();
  EXPECT_EQ(JsonOf(none).at("first_event_id").as_string(), "evt_1");
  EXPECT_EQ(JsonOf(client.Get("/v1/events/evt_1")).at("data").as_object().size(), 0u);
}

TEST_F(WebhooksApiTest, OnlyAdminsManageEndpointsAndAuditorsReadEvents) {
  StopServer();
  std::unique_ptr<AccessControl> access;
  StartServer(Options(), [&](engine::Engine& engine, ServerOptions& options) {
    access = std::make_unique<AccessControl>(engine, AccessOptions{});
    options.hooks = access->Hooks();
  });
  const std::string admin = testing::MakeApiKey(*engine_, access::Scope::admin);
  const std::string auditor = testing::MakeApiKey(*engine_, access::Scope::auditor);
  const std::string merchant = testing::MakeApiKey(*engine_, access::Scope::merchant);
  TestClient client(port());
  client.UseKey(merchant);
  EXPECT_EQ(client.Get("/v1/webhook_endpoints").result_int(), 403u);
  EXPECT_EQ(client.Get("/v1/events").result_int(), 403u);
  EXPECT_EQ(client.Post("/v1/events/test", "{}").result_int(), 403u);
  client.UseKey(auditor);
  EXPECT_EQ(client.Get("/v1/events").result_int(), 200u);
  EXPECT_EQ(client.Get("/v1/webhook_endpoints").result_int(), 403u);
  EXPECT_EQ(client.Post("/v1/webhook_endpoints", R"({"url":"http://h/"})").result_int(), 403u);
  client.UseKey(admin);
  EXPECT_EQ(client.Post("/v1/webhook_endpoints", R"({"url":"http://h/"})").result_int(), 201u);
  EXPECT_EQ(client.Post("/v1/events/test", "{}").result_int(), 201u);
  StopServer();  // before `access` goes
}

}  // namespace
}  // namespace tpw::api
