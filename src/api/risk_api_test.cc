// The risk endpoints over a real server on a loopback port and a real engine on disk: dry runs,
// rules replaced over the API (bad rules never replace good ones; 422 with line and column),
// lists, scopes, hostile bodies, and a hot-reload race.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/access_control.h"
#include "api/api_test_client.h"
#include "api/server_fixture.h"
#include "risk/test_rules.h"

namespace tpw::api {
namespace {

using access::Scope;
using testing::ErrorCode;
using testing::JsonOf;
using testing::TestClient;

constexpr std::string_view kToml = "application/toml";
constexpr std::string_view kEvent = R"({"amount":"12.50","asset":"EUR","account":"1","device":"2"})";

std::string Rules(std::string_view version) {
  std::string text = risk::test::kVelocityRules;
  text.replace(text.find("velocity-1"), 10, version);
  return text;
}

class RiskApiTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    StartServer(ServerOptions{}, [&](engine::Engine& engine, ServerOptions& options) {
      access_ = std::make_unique<AccessControl>(engine, AccessOptions{});
      options.hooks = access_->Hooks();
    });
    admin_key_ = testing::MakeApiKey(*engine_, Scope::admin);
  }


  std::unique_ptr<AccessControl> access_;
  std::string admin_key_;
};

TEST_F(RiskApiTest, WithoutRulesEvaluateApprovesUnderVersionNone) {
  TestClient client(port());
      client.UseKey(admin_key_);
  const HttpResponse r = client.Post("/v1/risk/evaluate", kEvent);
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  const auto body = JsonOf(r);
  EXPECT_EQ(body.at("decision").as_string(), "approve");
  EXPECT_EQ(body.at("rules_version").as_string(), "none");
  EXPECT_TRUE(body.at("matched_rules").as_array().empty());
  const auto rules = JsonOf(client.Get("/v1/risk/rules"));
  EXPECT_EQ(rules.at("version").as_string(), "none");
  EXPECT_TRUE(rules.at("text").is_null());
}

TEST_F(RiskApiTest, PutRulesThenEvaluateShowsReasons) {
  TestClient client(port());
      client.UseKey(admin_key_);
  const HttpResponse put = client.Send(http::verb::put, "/v1/risk/rules", Rules("v1"), kToml);
  ASSERT_EQ(put.result_int(), 200u) << put.body();
  EXPECT_EQ(JsonOf(put).at("version").as_string(), "v1");
  EXPECT_EQ(JsonOf(client.Get("/v1/risk/rules")).at("text").as_string(), Rules("v1"));
  const HttpResponse big = client.Post(
      "/v1/risk/evaluate", R"({"amount":"600.00","asset":"EUR","account":"1","channel":"online"})");
  ASSERT_EQ(big.result_int(), 200u) << big.body();
  const auto decision = JsonOf(big);
  EXPECT_EQ(decision.at("score").as_int64(), 40);
  EXPECT_EQ(decision.at("matched_rules").as_array().at(0).as_string(), "spend");
  EXPECT_EQ(decision.at("rules_version").as_string(), "v1");
  // The JSON form replaces it too.
  boost::json::object wrapped{{"rules", Rules("v2")}};
  const HttpResponse json_put =
      client.Send(http::verb::put, "/v1/risk/rules", boost::json::serialize(wrapped));
  ASSERT_EQ(json_put.result_int(), 200u) << json_put.body();
  EXPECT_EQ(JsonOf(client.Get("/v1/risk/status")).at("version").as_string(), "v2");
  const std::string metrics = client.Get("/metrics").body();
  EXPECT_NE(metrics.find("\ntpw_risk_rules 5\n"), std::string::npos) << metrics;
}

TEST_F(RiskApiTest, BadRulesAre422WithEveryLineAndColumnAndTheOldSetStays) {
  TestClient client(port());
      client.UseKey(admin_key_);
  ASSERT_EQ(client.Send(http::verb::put, "/v1/risk/rules", Rules("good"), kToml).result_int(), 200u);
  const std::string bad =
      "version = \"bad\"\n[thresholds]\nstep_up = 1\nreview = 2\ndecline = 3\n"
      "[[rule]]\nname = \"a\"\ncondition = \"amount >\"\nweight = 1\n"
      "[[rule]]\nname = \"b\"\ncondition = \"count(nothing, 1h) > 1\"\nweight = 1\n";
  const HttpResponse r = client.Send(http::verb::put, "/v1/risk/rules", bad, kToml);
  ASSERT_EQ(r.result_int(), 422u) << r.body();
  EXPECT_EQ(ErrorCode(r), "invalid_rules");
  const boost::json::value body = JsonOf(r);
  const auto& errors = body.at("error").at("errors").as_array();
  ASSERT_EQ(errors.size(), 2u) << r.body();
  EXPECT_EQ(errors[0].at("line").as_int64(), 8);
  EXPECT_EQ(errors[1].at("line").as_int64(), 12);
  EXPECT_GT(errors[1].at("column").as_int64(), 1);
  // Truncated, malformed and hostile TOML: 422 (or 400 when there is nothing), never a change.
  for (const std::string& text :
       {Rules("x").substr(0, 40), std::string("[[[[[["), std::string("version = \"\xff\""),
        std::string(100000, '['), std::string("a = 1\0b", 7)}) {
    const HttpResponse h = client.Send(http::verb::put, "/v1/risk/rules", text, kToml);
    EXPECT_EQ(h.result_int(), 422u) << h.body();
  }
  EXPECT_EQ(client.Send(http::verb::put, "/v1/risk/rules", "", kToml).result_int(), 400u);
  EXPECT_EQ(client.Send(http::verb::put, "/v1/risk/rules", Rules("y"), "text/plain").result_int(), 415u);
  for (const std::string_view json : {R"({"rules":1})", R"({"rules":"a","x":1})", R"([])", R"({"rules":)"}) {
    EXPECT_EQ(client.Send(http::verb::put, "/v1/risk/rules", json).result_int(), 400u) << json;
  }
  const std::string oversized(risk::kRulesFileBytesMax + 1, '#');
  EXPECT_EQ(client.Send(http::verb::put, "/v1/risk/rules", oversized, kToml).result_int(), 413u);
  EXPECT_EQ(JsonOf(client.Get("/v1/risk/rules")).at("version").as_string(), "good");
  RestartServer(ServerOptions{});
  TestClient again(port());
  EXPECT_EQ(JsonOf(again.Get("/v1/risk/rules")).at("version").as_string(), "good");
}

TEST_F(RiskApiTest, ListsAddShowRemoveAndRefuseBadItems) {
  TestClient client(port());
      client.UseKey(admin_key_);
  ASSERT_EQ(client.Send(http::verb::put, "/v1/risk/rules", Rules("v1"), kToml).result_int(), 200u);
  ASSERT_EQ(client.Post("/v1/risk/lists/blocked_devices", R"({"value":"2"})").result_int(), 200u);
  ASSERT_EQ(client.Post("/v1/risk/lists/blocked_devices", R"({"value":7})").result_int(), 200u);
  const auto list = JsonOf(client.Get("/v1/risk/lists/blocked_devices"));
  EXPECT_EQ(list.at("items").as_array().size(), 2u);
  EXPECT_EQ(list.at("role").as_string(), "deny");
  EXPECT_EQ(JsonOf(client.Post("/v1/risk/evaluate", kEvent)).at("decision").as_string(), "decline");
  EXPECT_EQ(JsonOf(client.Get("/v1/risk/lists")).at("lists").as_array().size(), 1u);
  ASSERT_EQ(client.Send(http::verb::delete_, "/v1/risk/lists/blocked_devices/2").result_int(), 200u);
  EXPECT_EQ(JsonOf(client.Post("/v1/risk/evaluate", kEvent)).at("decision").as_string(), "approve");

  EXPECT_EQ(ErrorCode(client.Post("/v1/risk/lists/nope", R"({"value":"1"})")), "unknown_list");
  EXPECT_EQ(client.Get("/v1/risk/lists/nope").result_int(), 404u);
  EXPECT_EQ(client.Get("/v1/risk/lists/bad%20name").result_int(), 404u);
  EXPECT_EQ(ErrorCode(client.Post("/v1/risk/lists/blocked_devices", R"({"value":"FR"})")), "invalid_value");
  for (const std::string_view body :
       {R"({"value":-1})", R"({"value":null})", R"({"value":"1","x":2})", R"({})", R"({"value":")",
        R"([1])", R"({"value":""})"}) {
    EXPECT_EQ(client.Post("/v1/risk/lists/blocked_devices", body).result_int(), 400u) << body;
  }
  EXPECT_EQ(client.Send(http::verb::delete_, "/v1/risk/lists/blocked_devices/%zz").result_int(), 400u);
  EXPECT_EQ(client.Send(http::verb::delete_, "/v1/risk/lists/blocked_devices/%4").result_int(), 400u);
}

TEST_F(RiskApiTest, HostileEventsAre400) {
  TestClient client(port());
      client.UseKey(admin_key_);
  for (const std::string_view body :
       {R"({"amount":"12.50"})", R"({"amount":"12.505","asset":"EUR"})", R"({"amount":"1","asset":"XXX"})",
        R"({"amount":"1","asset":"EUR","wat":1})", R"({"amount":"1","asset":"EUR","time":"2026-01-01T00:00:00Z"})",
        R"({"amount":"1","asset":"EUR","channel":"moon"})", R"({"amount":"1","asset":"EUR","country":"fr"})",
        R"({"amount":"1","asset":"EUR","ip":"300.1.1.1"})", R"({"amount":"1","asset":"EUR","account":-4})",
        R"({"amount":"99999999999999999999999999999999999999999","asset":"EUR"})",
        R"([{"amount":"1","asset":"EUR"}])", R"({"amount":"1","asset":"EUR")", "", "\xff\xfe"}) {
    const HttpResponse r = client.Post("/v1/risk/evaluate", body);
    EXPECT_EQ(r.result_int(), 400u) << body << " -> " << r.body();
  }
  EXPECT_EQ(client.Send(http::verb::post, "/v1/risk/evaluate", kEvent, "text/plain").result_int(), 415u);
}

TEST_F(RiskApiTest, ScopesAdminChangesMerchantAndAuditorRead) {
  TestClient merchant(port());
  merchant.UseKey(testing::MakeApiKey(*engine_, Scope::merchant));
  EXPECT_EQ(merchant.Post("/v1/risk/evaluate", kEvent).result_int(), 200u);
  EXPECT_EQ(merchant.Get("/v1/risk/rules").result_int(), 200u);
  EXPECT_EQ(merchant.Send(http::verb::put, "/v1/risk/rules", Rules("m"), kToml).result_int(), 403u);
  TestClient auditor(port());
  auditor.UseKey(testing::MakeApiKey(*engine_, Scope::auditor));
  EXPECT_EQ(auditor.Get("/v1/risk/lists").result_int(), 200u);
  EXPECT_EQ(auditor.Get("/v1/risk/status").result_int(), 200u);
  EXPECT_EQ(auditor.Post("/v1/risk/lists/blocked_devices", R"({"value":"1"})").result_int(), 403u);
  TestClient terminal(port());
  terminal.UseKey(testing::MakeApiKey(*engine_, Scope::terminal));
  EXPECT_EQ(terminal.Post("/v1/risk/evaluate", kEvent).result_int(), 403u);
  EXPECT_EQ(terminal.Send(http::verb::delete_, "/v1/risk/lists/a/1").result_int(), 403u);
}

// Readers evaluate without pause while the rules are replaced back and forth: every answer is
// a 200 carrying one of the two versions.
TEST_F(RiskApiTest, HotReloadRaceEveryAnswerCarriesOneOfTheTwoVersions) {
  TestClient writer(port());
      writer.UseKey(admin_key_);
  ASSERT_EQ(writer.Send(http::verb::put, "/v1/risk/rules", Rules("race-a"), kToml).result_int(), 200u);
  std::atomic<bool> stop{false};
  std::atomic<int> answers{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      TestClient client(port());
      client.UseKey(admin_key_);
      while (!stop.load()) {
        const HttpResponse r = client.Post("/v1/risk/evaluate", kEvent);
        const std::string version =
            r.result_int() == 200 ? std::string(JsonOf(r).at("rules_version").as_string()) : "";
        if (version != "race-a" && version != "race-b") ++wrong;
        ++answers;
      }
    });
  }
  for (int i = 0; i < 40; ++i) {
    const std::string version = i % 2 == 0 ? "race-b" : "race-a";
    EXPECT_EQ(writer.Send(http::verb::put, "/v1/risk/rules", Rules(version), kToml).result_int(), 200u);
    EXPECT_EQ(writer.Send(http::verb::put, "/v1/risk/rules", "version = 1", kToml).result_int(), 422u);
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_GT(answers.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace tpw::api
