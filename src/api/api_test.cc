// The API end to end in one process: a real engine on a temp data directory, the real server on
// a random loopback port, and a real HTTP client over TCP. No timing assertions: timeouts are
// observed by waiting for what the server does.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "api/api_test_client.h"
#include "api/server.h"
#include "api/server_fixture.h"
#include "engine/engine.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
using testing::ErrorCode;
using testing::JsonOf;
using testing::TestClient;

class ApiTest : public testing::ServerFixture {
 protected:
  void SetUp() override { StartServer(ServerOptions{}); }

  // Accounts 1 and 2 in USD (1 may go negative), 3 with history, 4 in EUR.
  void CreateAccounts(TestClient& client) {
    const HttpResponse r = client.Post(
        "/v1/accounts",
        R"({"accounts":[{"id":"1","ledger":"USD","code":1},{"id":"2","ledger":"USD","code":1},)"
        R"({"id":"3","ledger":"USD","code":1,"flags":["history","debits_must_not_exceed_credits"]},)"
        R"({"id":"4","ledger":"EUR","code":1}]})");
    ASSERT_EQ(r.result_int(), 200u) << r.body();
    ASSERT_EQ(JsonOf(r).at("created").to_number<uint64_t>(), 4u) << r.body();
  }

  static std::string Transfer(int id, int debit, int credit, std::string_view amount,
                              std::string_view extra = "") {
    return R"({"id":")" + std::to_string(id) + R"(","debit_account_id":")" +
           std::to_string(debit) + R"(","credit_account_id":")" + std::to_string(credit) +
           R"(","amount":")" + std::string(amount) + R"(","ledger":"USD","code":1)" +
           std::string(extra) + "}";
  }

};

// ---- Operations -----------------------------------------------------------------------------

TEST_F(ApiTest, HealthReadyAndJournalHeadAnswer) {
  TestClient client(port());
  EXPECT_EQ(client.Get("/healthz").result_int(), 200u);
  EXPECT_EQ(client.Get("/readyz").result_int(), 200u);
  CreateAccounts(client);
  const HttpResponse head = client.Get("/v1/journal/head");
  ASSERT_EQ(head.result_int(), 200u);
  const bj::value h_json = JsonOf(head);
  const bj::object& h = h_json.as_object();
  EXPECT_NE(h.at("sequence").as_string(), "0");
  EXPECT_EQ(h.at("head_hash").as_string().size(), 64u);
}

TEST_F(ApiTest, MetricsCountRequestsByRouteAndStatus) {
  TestClient client(port());
  client.Get("/healthz");
  client.Get("/nope");
  const HttpResponse r = client.Get("/metrics");
  ASSERT_EQ(r.result_int(), 200u);
  EXPECT_NE(r[http::field::content_type].find("text/plain"), std::string::npos);
  EXPECT_NE(r.body().find("tpw_http_requests_total{route=\"/healthz\",status=\"200\"} 1"),
            std::string::npos)
      << r.body();
  EXPECT_NE(r.body().find("tpw_http_requests_total{route=\"unmatched\",status=\"404\"} 1"),
            std::string::npos);
  EXPECT_NE(r.body().find("tpw_http_request_duration_seconds_bucket{route=\"/healthz\""),
            std::string::npos);
  EXPECT_NE(r.body().find("tpw_engine_groups_committed_total"), std::string::npos);
}

// ---- Accounts -------------------------------------------------------------------------------

TEST_F(ApiTest, AccountsAreCreatedWithPerItemResultsAndRead) {
  TestClient client(port());
  CreateAccounts(client);
  const HttpResponse again = client.Post(
      "/v1/accounts", R"({"accounts":[{"id":"1","ledger":"USD","code":1},{"id":"9","code":1}]})");
  ASSERT_EQ(again.result_int(), 200u);
  const bj::value o_json = JsonOf(again);
  const bj::object& o = o_json.as_object();
  EXPECT_EQ(o.at("exists").to_number<uint64_t>(), 1u);
  EXPECT_EQ(o.at("failed").to_number<uint64_t>(), 1u);
  EXPECT_EQ(o.at("results").as_array()[1].at("result").as_string(), "ledger_must_not_be_zero");

  const HttpResponse got = client.Get("/v1/accounts/3");
  ASSERT_EQ(got.result_int(), 200u);
  EXPECT_EQ(JsonOf(got).at("asset").as_string(), "USD");
  EXPECT_EQ(JsonOf(got).at("flags").as_array().size(), 2u);
  EXPECT_EQ(ErrorCode(client.Get("/v1/accounts/77")), "account_not_found");
  EXPECT_EQ(client.Get("/v1/accounts/77").result_int(), 404u);
  EXPECT_EQ(ErrorCode(client.Get("/v1/accounts/x1")), "invalid_parameter");
}

// ---- Transfers ------------------------------------------------------------------------------

TEST_F(ApiTest, SingleTransferIsCreatedThenExistsThenConflicts) {
  TestClient client(port());
  CreateAccounts(client);
  const HttpResponse created = client.Post("/v1/transfers", Transfer(10, 1, 2, "12.34"));
  ASSERT_EQ(created.result_int(), 201u) << created.body();
  const bj::value t_json = JsonOf(created);
  const bj::object& t = t_json.as_object();
  EXPECT_EQ(t.at("amount").as_string(), "12.34");
  EXPECT_EQ(t.at("amount_minor").as_string(), "1234");
  EXPECT_NE(t.at("timestamp").as_string(), "0");

  const HttpResponse exists = client.Post("/v1/transfers", Transfer(10, 1, 2, "12.34"));
  EXPECT_EQ(exists.result_int(), 200u);
  EXPECT_EQ(JsonOf(exists).at("timestamp"), t.at("timestamp"));

  const HttpResponse different = client.Post("/v1/transfers", Transfer(10, 1, 2, "12.35"));
  EXPECT_EQ(different.result_int(), 409u);
  EXPECT_EQ(ErrorCode(different), "exists_with_different_amount");
  EXPECT_EQ(JsonOf(different).at("error").at("type").as_string(), "ledger_error");

  const HttpResponse got = client.Get("/v1/transfers/10");
  ASSERT_EQ(got.result_int(), 200u);
  EXPECT_EQ(JsonOf(got).at("timestamp"), t.at("timestamp"));
  EXPECT_EQ(ErrorCode(client.Get("/v1/transfers/11")), "transfer_not_found");
}

TEST_F(ApiTest, LedgerRefusalPassesItsResultCodeThrough) {
  TestClient client(port());
  CreateAccounts(client);
  const HttpResponse r = client.Post("/v1/transfers", Transfer(20, 3, 2, "1.00"));
  EXPECT_EQ(r.result_int(), 422u);
  EXPECT_EQ(ErrorCode(r), "exceeds_credits");
  const HttpResponse missing = client.Post("/v1/transfers", Transfer(21, 1, 99, "1.00"));
  EXPECT_EQ(ErrorCode(missing), "credit_account_not_found");
}

TEST_F(ApiTest, PendingTransferIsPostedByAmountInItsAsset) {
  TestClient client(port());
  CreateAccounts(client);
  const HttpResponse pending =
      client.Post("/v1/transfers", Transfer(30, 1, 2, "10.00", R"(,"flags":["pending"])"));
  ASSERT_EQ(pending.result_int(), 201u) << pending.body();
  EXPECT_EQ(JsonOf(pending).at("pending_status").as_string(), "pending");
  // No ledger on the post: its decimal amount is read in the pending transfer's asset.
  const HttpResponse post = client.Post(
      "/v1/transfers", R"({"id":"31","pending_id":"30","amount":"4.00","flags":["post_pending_transfer"]})");
  ASSERT_EQ(post.result_int(), 201u) << post.body();
  EXPECT_EQ(JsonOf(post).at("amount_minor").as_string(), "400");
  EXPECT_EQ(JsonOf(post).at("debit_account_id").as_string(), "1");
  EXPECT_EQ(JsonOf(client.Get("/v1/transfers/30")).at("pending_status").as_string(), "posted");
  const HttpResponse unknown = client.Post(
      "/v1/transfers", R"({"id":"32","pending_id":"99","amount":"1","flags":["void_pending_transfer"]})");
  EXPECT_EQ(unknown.result_int(), 404u);
  EXPECT_EQ(ErrorCode(unknown), "pending_transfer_not_found");
}

TEST_F(ApiTest, BatchAppliesLinkedChainsAsAUnit) {
  TestClient client(port());
  CreateAccounts(client);
  const std::string body = "{\"transfers\":[" + Transfer(40, 1, 2, "1.00", R"(,"flags":["linked"])") +
                           "," + Transfer(41, 3, 2, "1.00") + "," + Transfer(42, 1, 2, "2.00") +
                           "]}";
  const HttpResponse r = client.Post("/v1/transfers/batch", body);
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  const bj::value o_json = JsonOf(r);
  const bj::object& o = o_json.as_object();
  EXPECT_EQ(o.at("created").to_number<uint64_t>(), 1u);
  EXPECT_EQ(o.at("failed").to_number<uint64_t>(), 2u);
  EXPECT_EQ(o.at("results").as_array()[0].at("result").as_string(), "linked_event_failed");
  EXPECT_EQ(o.at("results").as_array()[1].at("result").as_string(), "exceeds_credits");
  EXPECT_EQ(client.Get("/v1/transfers/40").result_int(), 404u);
  EXPECT_EQ(client.Get("/v1/transfers/42").result_int(), 200u);
}

TEST_F(ApiTest, LookupsAnswerSeveralRecordsInOneRequest) {
  TestClient client(port());
  CreateAccounts(client);
  ASSERT_EQ(client.Post("/v1/transfers", Transfer(1, 1, 2, "1.00")).result_int(), 201u);
  ASSERT_EQ(
      client.Post("/v1/transfers", Transfer(2, 1, 2, "2.00", R"(,"flags":["pending"])")).result_int(),
      201u);

  // Found records in the order asked; a repeat once; the rest named in not_found.
  HttpResponse r = client.Get("/v1/accounts?ids=4,99,1,4,0x2");
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  bj::value answer = JsonOf(r);
  const bj::array& accounts = answer.at("accounts").as_array();
  ASSERT_EQ(accounts.size(), 3u) << r.body();
  EXPECT_EQ(accounts[0].at("id").as_string(), "4");
  EXPECT_EQ(accounts[1].at("id").as_string(), "1");
  EXPECT_EQ(accounts[2].at("id").as_string(), "2");
  EXPECT_EQ(accounts[2], JsonOf(client.Get("/v1/accounts/2"))) << "the same record as one GET";
  EXPECT_EQ(bj::serialize(answer.at("not_found")), R"(["99"])");

  r = client.Get("/v1/transfers?ids=2,1,3");
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  answer = JsonOf(r);
  const bj::array& transfers = answer.at("transfers").as_array();
  ASSERT_EQ(transfers.size(), 2u) << r.body();
  EXPECT_EQ(transfers[0], JsonOf(client.Get("/v1/transfers/2"))) << "pending, with its status";
  EXPECT_EQ(transfers[1], JsonOf(client.Get("/v1/transfers/1")));
  EXPECT_EQ(bj::serialize(answer.at("not_found")), R"(["3"])");

  // What a lookup refuses: no ids, a bad id, an empty item, an unknown parameter, too many.
  std::string too_many = "/v1/accounts?ids=1";
  for (int i = 2; i <= 257; ++i) too_many += "," + std::to_string(i);
  for (const std::string& target : std::vector<std::string>{"/v1/accounts", "/v1/accounts?ids=", "/v1/accounts?ids=1,x", "/v1/accounts?ids=1,,2",
        "/v1/transfers?ids=1&limit=2", "/v1/transfers?ids=-1", too_many}) {
    r = client.Get(target);
    EXPECT_EQ(r.result_int(), 400u) << target << ": " << r.body();
    EXPECT_EQ(JsonOf(r).at("error").at("type").as_string(), "invalid_request_error") << target;
  }
  EXPECT_NE(r.body().find("at most 256 ids"), std::string::npos) << r.body();
}

TEST_F(ApiTest, AccountTransfersPageWithACursorAndFilters) {
  TestClient client(port());
  CreateAccounts(client);
  for (int i = 0; i < 5; ++i) {
    const int debit = i % 2 == 0 ? 1 : 2;
    ASSERT_EQ(client.Post("/v1/transfers", Transfer(100 + i, debit, 3 - debit, "1.00")).result_int(),
              201u);
  }
  std::vector<std::string> seen;
  std::string target = "/v1/accounts/1/transfers?limit=2";
  for (int page = 0; page < 4; ++page) {
    const HttpResponse r = client.Get(target);
    ASSERT_EQ(r.result_int(), 200u) << target << " → " << r.body();
    const bj::value o_json = JsonOf(r);
  const bj::object& o = o_json.as_object();
    for (const bj::value& t : o.at("transfers").as_array()) {
      seen.emplace_back(t.at("id").as_string());
    }
    if (o.at("next_cursor").is_null()) break;
    target = "/v1/accounts/1/transfers?limit=2&after=" + std::string(o.at("next_cursor").as_string());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"100", "101", "102", "103", "104"}));
  const HttpResponse debits = client.Get("/v1/accounts/1/transfers?debits=true&reverse=true");
  const bj::value d_json = JsonOf(debits);
  const bj::array& d = d_json.at("transfers").as_array();
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].at("id").as_string(), "104");
  EXPECT_EQ(ErrorCode(client.Get("/v1/accounts/1/transfers?limit=0")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(client.Get("/v1/accounts/1/transfers?colour=red")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(client.Get("/v1/accounts/1/transfers?limit=1&limit=2")),
            "invalid_parameter");
  EXPECT_EQ(ErrorCode(client.Get("/v1/accounts/1/transfers?debits=yes")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(client.Get("/v1/accounts/88/transfers")), "account_not_found");
}

TEST_F(ApiTest, BalanceHistoryNeedsTheHistoryFlag) {
  TestClient client(port());
  CreateAccounts(client);
  ASSERT_EQ(client.Post("/v1/transfers", Transfer(200, 2, 3, "5.00")).result_int(), 201u);
  ASSERT_EQ(client.Post("/v1/transfers", Transfer(201, 3, 2, "1.50")).result_int(), 201u);
  const HttpResponse r = client.Get("/v1/accounts/3/balances");
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  const bj::value b_json = JsonOf(r);
  const bj::array& b = b_json.at("balances").as_array();
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].at("credits_posted").as_string(), "5.00");
  EXPECT_EQ(b[1].at("debits_posted").as_string(), "1.50");
  EXPECT_EQ(ErrorCode(client.Get("/v1/accounts/1/balances")), "history_not_enabled");
  EXPECT_EQ(ErrorCode(client.Get("/v1/accounts/66/balances")), "account_not_found");
  EXPECT_EQ(ErrorCode(client.Get("/v1/accounts/3/balances?code=1")), "invalid_parameter");
}

// ---- Every error status ---------------------------------------------------------------------

TEST_F(ApiTest, UnknownRouteIs404AndWrongMethodIs405WithAllow) {
  TestClient client(port());
  EXPECT_EQ(ErrorCode(client.Get("/v2/accounts")), "route_not_found");
  EXPECT_EQ(client.Get("/v1/accounts/1/").result_int(), 404u);
  const HttpResponse r = client.Send(http::verb::delete_, "/v1/transfers/1");
  EXPECT_EQ(r.result_int(), 405u);
  EXPECT_EQ(r[http::field::allow], "GET");
  EXPECT_EQ(client.Get("/v1/transfers/batch").result_int(), 405u);
  EXPECT_EQ(client.Get("/v1/transfers/batch")[http::field::allow], "POST");
}

TEST_F(ApiTest, WrongContentTypeIs415) {
  TestClient client(port());
  const HttpResponse r =
      client.Send(http::verb::post, "/v1/transfers", Transfer(1, 1, 2, "1"), "text/plain");
  EXPECT_EQ(r.result_int(), 415u);
  EXPECT_EQ(ErrorCode(r), "unsupported_media_type");
  EXPECT_EQ(client.Send(http::verb::post, "/v1/accounts", "{}", "").result_int(), 415u);
  EXPECT_NE(client.Send(http::verb::post, "/v1/accounts", "{}", "application/json; charset=utf-8")
                .result_int(),
            415u);
}

TEST_F(ApiTest, MalformedBodiesAre400WithTheirReason) {
  TestClient client(port());
  CreateAccounts(client);
  struct Case {
    std::string body;
    std::string code;
  };
  const std::vector<Case> cases = {
      {R"({"id":"1",)", "malformed_json"},
      {"", "malformed_json"},
      {"{\"id\":\"5\",\"debit_account_id\":\"\xff\xfe\"}", "malformed_json"},  // invalid UTF-8
      {std::string(100, '[') + std::string(100, ']'), "malformed_json"},     // too deep
      {R"({"id":"5","colour":"red"})", "invalid_body"},                        // unknown field
      {R"({"id":"5","debit_account_id":"1","credit_account_id":"2","amount":1.5,"ledger":"USD","code":1})",
       "invalid_body"},  // amount as a JSON number
      {R"({"id":"5","debit_account_id":"1","credit_account_id":"2","amount":"1e3","ledger":"USD","code":1})",
       "invalid_body"},  // exponent in an amount
      {R"({"id":"5","debit_account_id":"1","credit_account_id":"2","amount_minor":"1.5","ledger":"USD","code":1})",
       "invalid_body"},
      {R"({"id":"5","debit_account_id":"1","credit_account_id":"2","amount":"1","ledger":"USD","code":1e2})",
       "invalid_body"},  // exponent in an integer
      {R"({"id":"5","debit_account_id":"1","credit_account_id":"2","amount":"1","ledger":"USD","code":1.0})",
       "invalid_body"},
      {R"({"id":5,"debit_account_id":"1","credit_account_id":"2","amount":"1","ledger":"USD","code":1})",
       "invalid_body"},  // id as a number
      {R"({"id":"5","id":"6"})", "invalid_body"},  // repeated key
      {R"(["not an object"])", "invalid_body"},
  };
  for (const Case& c : cases) {
    const HttpResponse r = client.Post("/v1/transfers", c.body);
    EXPECT_EQ(r.result_int(), 400u) << c.body << " → " << r.body();
    EXPECT_EQ(ErrorCode(r), c.code) << c.body << " → " << r.body();
  }
  EXPECT_EQ(ErrorCode(client.Post("/v1/accounts", R"({"accounts":[]})")), "invalid_body");
  EXPECT_EQ(ErrorCode(client.Post("/v1/accounts", R"({"accounts":[{"id":"1"}],"x":1})")),
            "invalid_body");
  const HttpResponse item = client.Post(
      "/v1/transfers/batch", "{\"transfers\":[" + Transfer(1, 1, 2, "1") + R"(,{"id":"2","amount":7}]})");
  EXPECT_EQ(JsonOf(item).at("error").at("param").as_string(), "transfers[1]");
}

TEST_F(ApiTest, MoreThan8189EventsIsRefusedWhole) {
  TestClient client(port());
  std::string body = "{\"transfers\":[";
  for (int i = 0; i < 8190; ++i) body += (i == 0 ? "" : ",") + Transfer(i + 1, 1, 2, "1");
  body += "]}";
  const HttpResponse r = client.Post("/v1/transfers/batch", body);
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_EQ(ErrorCode(r), "too_many_events");
}

TEST_F(ApiTest, BodyOverTheLimitIs413AndHugeHeadersAre431) {
  ServerOptions options;
  options.body_bytes_max = 1024;
  options.header_bytes_max = 2048;
  RestartServer(options);
  {
    TestClient client(port());
    const HttpResponse r = client.Post("/v1/transfers", std::string(2000, ' ') + "{}");
    EXPECT_EQ(r.result_int(), 413u);
    EXPECT_EQ(ErrorCode(r), "body_too_large");
    EXPECT_TRUE(client.ReadsEof());
  }
  {
    TestClient client(port());
    client.Write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') +
                 "\r\n\r\n");
    const HttpResponse r = client.Read();
    EXPECT_EQ(r.result_int(), 431u);
    EXPECT_EQ(ErrorCode(r), "headers_too_large");
  }
}

// ---- Connections ----------------------------------------------------------------------------

TEST_F(ApiTest, KeepAliveServesManyRequestsOnOneConnection) {
  TestClient client(port());
  CreateAccounts(client);
  for (int i = 0; i < 50; ++i) {
    const HttpResponse r = client.Post("/v1/transfers", Transfer(1000 + i, 1, 2, "0.01"));
    ASSERT_EQ(r.result_int(), 201u);
    EXPECT_TRUE(r.keep_alive());
  }
}

TEST_F(ApiTest, PipelinedRequestsAreAnsweredInOrder) {
  TestClient client(port());
  CreateAccounts(client);
  std::string bytes;
  for (int i = 0; i < 5; ++i) {
    const std::string body = Transfer(500 + i, 1, 2, "1");
    bytes += "POST /v1/transfers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    bytes += "GET /v1/transfers/" + std::to_string(500 + i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  client.Write(bytes);
  for (int i = 0; i < 5; ++i) {
    const HttpResponse created = client.Read();
    EXPECT_EQ(created.result_int(), 201u);
    EXPECT_EQ(JsonOf(created).at("id").as_string(), std::to_string(500 + i));
    const HttpResponse got = client.Read();
    EXPECT_EQ(got.result_int(), 200u);
    EXPECT_EQ(JsonOf(got).at("id").as_string(), std::to_string(500 + i));
  }
}

// Requests answered without the engine (here 404s) are answered while the connection still
// holds the next ones in its read buffer: thousands of them must not nest a call per request.
TEST_F(ApiTest, ThousandsOfPipelinedRequestsAreAllAnswered) {
  constexpr int kRequests = 4000;
  TestClient client(port());
  std::string bytes;
  for (int i = 0; i < kRequests; ++i) bytes += "GET /nope HTTP/1.1\r\n\r\n";
  client.Write(bytes);
  for (int i = 0; i < kRequests; ++i) {
    const HttpResponse r = client.Read();
    ASSERT_EQ(r.result_int(), 404u) << "response " << i;
  }
  EXPECT_EQ(client.Get("/healthz").result_int(), 200u);
}

TEST_F(ApiTest, ConnectionCloseIsHonoured) {
  TestClient client(port());
  client.Write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const HttpResponse r = client.Read();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(client.ReadsEof());
}

TEST_F(ApiTest, SlowClientGets408AfterTheReadTimeout) {
  ServerOptions options;
  options.read_timeout_ms = 200;
  RestartServer(options);
  TestClient slow(port());
  slow.Write("POST /v1/transfers HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n");  // and stalls
  TestClient other(port());
  EXPECT_EQ(other.Get("/healthz").result_int(), 200u);  // others are served meanwhile
  const HttpResponse r = slow.Read();
  EXPECT_EQ(r.result_int(), 408u);
  EXPECT_EQ(ErrorCode(r), "request_timeout");
  EXPECT_TRUE(slow.ReadsEof());
}

TEST_F(ApiTest, IdleConnectionIsClosedAfterTheIdleTimeout) {
  ServerOptions options;
  options.idle_timeout_ms = 100;
  RestartServer(options);
  TestClient client(port());
  EXPECT_EQ(client.Get("/healthz").result_int(), 200u);
  EXPECT_TRUE(client.ReadsEof());
}

// The connection's one deadline timer is re-armed lazily (server.cc): each phase's deadline
// must still count from that phase's start, after any number of earlier requests.
TEST_F(ApiTest, DeadlinesCountFromEachRequestNotFromTheFirst) {
  ServerOptions options;
  options.idle_timeout_ms = 1'000;
  options.read_timeout_ms = 1'000;
  RestartServer(options);
  TestClient client(port());
  // Longer in all than the idle timeout, each gap well within it: the connection stays open.
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(client.Get("/healthz").result_int(), 200u) << "request " << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  // After those requests, a stalled one still gets its 408, then the connection closes.
  client.Write("POST /v1/transfers HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n");
  const HttpResponse r = client.Read();
  EXPECT_EQ(r.result_int(), 408u);
  EXPECT_EQ(ErrorCode(r), "request_timeout");
  EXPECT_TRUE(client.ReadsEof());
  // And an idle one is closed after its requests.
  TestClient idle(port());
  EXPECT_EQ(idle.Get("/healthz").result_int(), 200u);
  EXPECT_EQ(idle.Get("/healthz").result_int(), 200u);
  EXPECT_TRUE(idle.ReadsEof());
}

TEST_F(ApiTest, TruncatedRequestIsAnswered400AndClosed) {
  TestClient client(port());
  client.Write("POST /v1/transfers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: 100\r\n\r\n{\"id\":");
  client.ShutdownWrite();
  const HttpResponse r = client.Read();
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_EQ(ErrorCode(r), "malformed_request");
}

TEST_F(ApiTest, GarbageRequestLinesAndHeadersAre400AndClosed) {
  for (const std::string& bytes : {std::string("HELLO\r\n\r\n"),
                                   std::string("GET /healthz HTTP/1.1\r\nHost x\r\n\r\n")}) {
    TestClient client(port());
    client.Write(bytes);
    const HttpResponse r = client.Read();
    EXPECT_EQ(r.result_int(), 400u) << bytes;
    EXPECT_EQ(ErrorCode(r), "malformed_request");
    EXPECT_TRUE(client.ReadsEof());
  }
}

TEST_F(ApiTest, InvalidUtf8InThePathIsNoRoute) {
  TestClient client(port());
  client.Write("GET /v1/transfers/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n");
  const HttpResponse r = client.Read();
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_EQ(ErrorCode(r), "invalid_parameter");
  client.Write("GET /v1/\xff HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ErrorCode(client.Read()), "route_not_found");
}

TEST_F(ApiTest, ConcurrentClientsAllGetTheirTransfersDurable) {
  {
    TestClient client(port());
    CreateAccounts(client);
  }
  constexpr int kClients = 8;
  constexpr int kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      TestClient client(port());
      for (int i = 0; i < kEach; ++i) {
        const HttpResponse r =
            client.Post("/v1/transfers", Transfer(10000 + c * kEach + i, 1, 2, "0.01"));
        if (r.result_int() == 201u) created.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(created.load(), kClients * kEach);
  RestartServer(ServerOptions{});  // what was acknowledged survives a restart
  TestClient client(port());
  const bj::value account_json = JsonOf(client.Get("/v1/accounts/2"));
  const bj::object& account = account_json.as_object();
  EXPECT_EQ(account.at("credits_posted_minor").as_string(), std::to_string(kClients * kEach));
}

TEST_F(ApiTest, StopAnswersInFlightRequestsAndRefusesNewConnections) {
  TestClient client(port());
  CreateAccounts(client);
  const uint16_t old_port = port();
  server_->Stop();
  server_->Wait();  // returns: the idle keep-alive connection was closed
  EXPECT_TRUE(client.ReadsEof());
  EXPECT_THROW(TestClient late(old_port), boost::system::system_error);
}

// ---- The contract: every documented path exists ---------------------------------------------

// Every documented path and method is served, and answers a placeholder request ({id} and the
// like = "1", POST "{}", no body otherwise) with one of the statuses documented for it.
TEST_F(ApiTest, EveryPathInOpenApiExists) {
  std::ifstream in(TPW_OPENAPI_YAML);
  ASSERT_TRUE(in) << TPW_OPENAPI_YAML;
  const std::regex path_line(R"(^  (/[^:]*):\s*$)");
  const std::regex method_line(R"(^    (get|post|put|delete|patch):\s*$)");
  const std::regex status_line(R"(^        '(\d{3})':)");
  struct Operation {
    std::string method;
    std::string path;
    std::set<unsigned> statuses;
  };
  std::vector<Operation> operations;
  std::string line;
  std::string path;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, path_line)) {
      path = m[1];
    } else if (!path.empty() && std::regex_match(line, m, method_line)) {
      operations.push_back({m[1], path, {}});
    } else if (line.rfind("components:", 0) == 0) {
      path.clear();
    } else if (!operations.empty() && !path.empty() && std::regex_search(line, m, status_line)) {
      operations.back().statuses.insert(static_cast<unsigned>(std::stoul(m[1])));
    }
  }
  TestClient client(port());
  for (const Operation& op : operations) {
    const std::string target =
        std::regex_replace(op.path, std::regex(R"(\{(id|name|value|code|asset)\})"), "1");
    const http::verb method = op.method == "get"      ? http::verb::get
                              : op.method == "put"    ? http::verb::put
                              : op.method == "delete" ? http::verb::delete_
                                                      : http::verb::post;
    const HttpResponse r = client.Send(method, target, method == http::verb::post ? "{}" : "");
    EXPECT_NE(ErrorCode(r), "route_not_found") << op.method << " " << op.path;
    EXPECT_NE(r.result_int(), 405u) << op.method << " " << op.path;
    EXPECT_TRUE(op.statuses.contains(r.result_int()))
        << op.method << " " << op.path << " answered " << r.result_int()
        << ", which openapi.yaml does not document: " << r.body();
  }
  EXPECT_GE(operations.size(), 64u);
}

}  // namespace
}  // namespace tpw::api
