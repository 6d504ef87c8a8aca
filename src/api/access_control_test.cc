// Authentication, scopes, rate limits and Idempotency-Key end to end in one process: a real
// engine on a temp data directory, the real server with the access hooks on a random loopback
// port, real HTTP clients. Keys are made through the engine as `tpwallet apikey create` does.
#include "api/access_control.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/object.hpp>
#include <thread>

#include "api/api_test_client.h"
#include "api/server_fixture.h"

namespace tpw::api {
namespace {

using access::Scope;
using testing::ErrorCode;
using testing::JsonOf;
using testing::TestClient;

class AccessControlTest : public testing::ServerFixture {
 protected:
  void SetUp() override { Start(); }

  void Start(AccessOptions access_options = {}) {
    StartServer(ServerOptions{}, [&](engine::Engine& engine, ServerOptions& options) {
      access_ = std::make_unique<AccessControl>(engine, access_options);
      options.hooks = access_->Hooks();
    });
  }
  void Stop() { StopServer(); }

  std::string MakeKey(Scope scope, uint32_t rate = 0) {
    return testing::MakeApiKey(*engine_, scope, rate);
  }

  void RevokeKey(const std::string& text) {
    engine::AccessCommand revoke;
    revoke.kind = engine::AccessCommandKind::revoke_api_key;
    revoke.key_id = access::ParseKeyText(text)->id;
    ASSERT_EQ(engine_->ExecuteAccess(revoke).access->error, engine::AccessError::ok);
  }

  void CreateAccounts(TestClient& client) {
    const HttpResponse r = client.Post(
        "/v1/accounts",
        R"({"accounts":[{"id":"1","ledger":"USD","code":1},{"id":"2","ledger":"USD","code":1}]})");
    ASSERT_EQ(r.result_int(), 200u) << r.body();
  }

  static std::string Transfer(int id, std::string_view amount) {
    return R"({"id":")" + std::to_string(id) +
           R"(","debit_account_id":"1","credit_account_id":"2","amount":")" + std::string(amount) +
           R"(","ledger":"USD","code":1})";
  }

  uint64_t Credits(TestClient& client) {
    const auto account = JsonOf(client.Get("/v1/accounts/2"));
    return std::stoull(std::string(account.at("credits_posted_minor").as_string()));
  }

  // The server's hooks point here; TearDown stops the server before the fixture is destroyed.
  std::unique_ptr<AccessControl> access_;
};

// ---- Authentication --------------------------------------------------------------------------

TEST_F(AccessControlTest, MissingMalformedUnknownAndRevokedKeysAre401) {
  const std::string key = MakeKey(Scope::admin);
  TestClient client(port());
  HttpResponse r = client.Get("/v1/journal/head");
  EXPECT_EQ(r.result_int(), 401u);
  EXPECT_EQ(ErrorCode(r), "missing_api_key");
  EXPECT_EQ(r[http::field::www_authenticate], "Bearer realm=\"tpwallet\"");
  EXPECT_EQ(JsonOf(r).at("error").at("type").as_string(), "authentication_error");

  for (const std::string& bad : {std::string("Basic abc"), std::string("Bearer "),
                                 std::string("Bearer tpw_123"), "Bearer " + key + "x",
                                 "Token " + key}) {
    client.SetHeader("Authorization", bad);
    r = client.Get("/v1/journal/head");
    EXPECT_EQ(r.result_int(), 401u) << bad;
    EXPECT_EQ(ErrorCode(r), "invalid_api_key") << bad;
  }
  // A well-formed key this server never made, and one with the right id but another secret.
  client.UseKey(access::FormatKeyText(access::GenerateKeyText()));
  EXPECT_EQ(ErrorCode(client.Get("/v1/journal/head")), "invalid_api_key");
  std::string forged = key;
  forged[30] = forged[30] == 'A' ? 'B' : 'A';
  client.UseKey(forged);
  EXPECT_EQ(ErrorCode(client.Get("/v1/journal/head")), "invalid_api_key");

  client.SetHeader("Authorization", "bEaReR " + key);  // the scheme is case-insensitive
  EXPECT_EQ(client.Get("/v1/journal/head").result_int(), 200u);
  // Once the key was verified (and remembered by the server's I/O thread), a text differing from
  // it in one character is still refused, and a new key table (another key made) keeps it valid.
  client.UseKey(forged);
  EXPECT_EQ(ErrorCode(client.Get("/v1/journal/head")), "invalid_api_key");
  (void)MakeKey(Scope::auditor);
  client.UseKey(key);
  EXPECT_EQ(client.Get("/v1/journal/head").result_int(), 200u);
  RevokeKey(key);
  r = client.Get("/v1/journal/head");
  EXPECT_EQ(r.result_int(), 401u);
  EXPECT_EQ(ErrorCode(r), "api_key_revoked");
}

TEST_F(AccessControlTest, HealthProbesNeedNoKey) {
  TestClient client(port());
  EXPECT_EQ(client.Get("/healthz").result_int(), 200u);
  EXPECT_EQ(client.Get("/readyz").result_int(), 200u);
  EXPECT_EQ(client.Get("/metrics").result_int(), 401u);
}

TEST_F(AccessControlTest, EachScopeMayCallItsRoutesOnly) {
  TestClient admin(port());
  admin.UseKey(MakeKey(Scope::admin));
  CreateAccounts(admin);
  ASSERT_EQ(admin.Post("/v1/transfers", Transfer(10, "1.00")).result_int(), 201u);

  TestClient merchant(port());
  merchant.UseKey(MakeKey(Scope::merchant));
  EXPECT_EQ(merchant.Post("/v1/transfers", Transfer(11, "1.00")).result_int(), 201u);
  EXPECT_EQ(merchant.Get("/v1/transfers/10").result_int(), 200u);
  const HttpResponse head = merchant.Get("/v1/journal/head");
  EXPECT_EQ(head.result_int(), 403u);
  EXPECT_EQ(ErrorCode(head), "insufficient_scope");
  EXPECT_EQ(JsonOf(head).at("error").at("type").as_string(), "permission_error");
  EXPECT_EQ(merchant.Get("/metrics").result_int(), 403u);

  TestClient auditor(port());
  auditor.UseKey(MakeKey(Scope::auditor));
  EXPECT_EQ(auditor.Get("/v1/journal/head").result_int(), 200u);
  EXPECT_EQ(auditor.Get("/metrics").result_int(), 200u);
  EXPECT_EQ(auditor.Get("/v1/accounts/2").result_int(), 200u);
  EXPECT_EQ(auditor.Post("/v1/transfers", Transfer(12, "1.00")).result_int(), 403u);

  for (const Scope scope : {Scope::terminal, Scope::device}) {
    TestClient client(port());
    client.UseKey(MakeKey(scope));
    EXPECT_EQ(client.Get("/v1/accounts/2").result_int(), 403u) << access::ScopeName(scope);
    EXPECT_EQ(client.Post("/v1/transfers", Transfer(13, "1.00")).result_int(), 403u);
  }
  EXPECT_EQ(Credits(admin), 200u);
}

TEST_F(AccessControlTest, ScopeTableCoversEveryRoute) {
  for (size_t i = 1; i < kRouteCount; ++i) {
    const auto route = static_cast<Route>(i);
    EXPECT_TRUE(ScopeAllows(Scope::admin, route)) << RouteLabel(route);
  }
  EXPECT_FALSE(ScopeAllows(Scope::admin, Route::unmatched));
}

TEST_F(AccessControlTest, KeysSurviveARestart) {
  const std::string key = MakeKey(Scope::merchant);
  Stop();
  Start();
  TestClient client(port());
  client.UseKey(key);
  CreateAccounts(client);
}

TEST_F(AccessControlTest, NoAuthMakesEveryCallerAnAdmin) {
  Stop();
  AccessOptions open;
  open.require_api_key = false;
  Start(open);
  TestClient client(port());
  EXPECT_EQ(client.Get("/v1/journal/head").result_int(), 200u);
}

// ---- Rate limits -----------------------------------------------------------------------------

TEST_F(AccessControlTest, AKeyOverItsRateGets429WithRetryAfter) {
  TestClient client(port());
  client.UseKey(MakeKey(Scope::auditor, /*rate=*/3));
  // A burst of up to one second's worth passes; the requests after it within that second do
  // not. (However slow the machine, 50 requests cannot all take longer than the refill.)
  int limited = 0;
  HttpResponse last;
  for (int i = 0; i < 50 && limited == 0; ++i) {
    last = client.Get("/v1/journal/head");
    if (last.result_int() == 429u) ++limited;
  }
  ASSERT_EQ(limited, 1) << "50 requests at a 3/s limit were all served";
  EXPECT_EQ(ErrorCode(last), "rate_limited");
  EXPECT_EQ(JsonOf(last).at("error").at("type").as_string(), "rate_limit_error");
  EXPECT_EQ(last[http::field::retry_after], "1");
  // Another key has its own bucket.
  TestClient other(port());
  other.UseKey(MakeKey(Scope::auditor, 3));
  EXPECT_EQ(other.Get("/v1/journal/head").result_int(), 200u);
}

// ---- Idempotency-Key -------------------------------------------------------------------------

TEST_F(AccessControlTest, TheSameRequestWithAKeyIsReplayedNotExecutedTwice) {
  TestClient client(port());
  client.UseKey(MakeKey(Scope::merchant));
  CreateAccounts(client);
  client.SetHeader("Idempotency-Key", "order-7");
  const HttpResponse first = client.Post("/v1/transfers", Transfer(70, "5.00"));
  ASSERT_EQ(first.result_int(), 201u) << first.body();
  EXPECT_EQ(first.count("Idempotent-Replayed"), 0u);
  const HttpResponse again = client.Post("/v1/transfers", Transfer(70, "5.00"));
  EXPECT_EQ(again.result_int(), 201u);  // not the 200 "exists" a plain retry would get
  EXPECT_EQ(again.body(), first.body());
  EXPECT_EQ(again["Idempotent-Replayed"], "true");

  const HttpResponse other = client.Post("/v1/transfers", Transfer(71, "6.00"));
  EXPECT_EQ(other.result_int(), 422u);
  EXPECT_EQ(ErrorCode(other), "idempotency_key_reused");
  EXPECT_EQ(JsonOf(other).at("error").at("type").as_string(), "idempotency_error");
  client.SetHeader("Idempotency-Key", "");
  EXPECT_EQ(client.Get("/v1/transfers/71").result_int(), 404u);
  EXPECT_EQ(Credits(client), 500u);
}

TEST_F(AccessControlTest, KeysBelongToOneApiKeyAndSurviveARestart) {
  const std::string first_key = MakeKey(Scope::merchant);
  TestClient first(port());
  first.UseKey(first_key);
  CreateAccounts(first);
  first.SetHeader("Idempotency-Key", "k-1");
  const HttpResponse original = first.Post("/v1/transfers", Transfer(80, "1.00"));
  ASSERT_EQ(original.result_int(), 201u);
  // Another API key's "k-1" is its own: executed (transfer 81 is new).
  TestClient second(port());
  second.UseKey(MakeKey(Scope::merchant));
  second.SetHeader("Idempotency-Key", "k-1");
  EXPECT_EQ(second.Post("/v1/transfers", Transfer(81, "1.00")).result_int(), 201u);

  Stop();
  Start();
  TestClient after(port());
  after.UseKey(first_key);
  after.SetHeader("Idempotency-Key", "k-1");
  const HttpResponse replayed = after.Post("/v1/transfers", Transfer(80, "1.00"));
  EXPECT_EQ(replayed.result_int(), 201u);
  EXPECT_EQ(replayed.body(), original.body());
  EXPECT_EQ(replayed["Idempotent-Replayed"], "true");
}

TEST_F(AccessControlTest, ARefusalIsStoredButMalformedRequestsAreNot) {
  TestClient client(port());
  client.UseKey(MakeKey(Scope::merchant));
  CreateAccounts(client);
  client.SetHeader("Idempotency-Key", "bad-1");
  // Malformed: not stored, so the corrected request under the same key executes.
  EXPECT_EQ(client.Post("/v1/transfers", "{").result_int(), 400u);
  EXPECT_EQ(client.Post("/v1/transfers", Transfer(90, "1.00")).result_int(), 201u);
  // A ledger refusal executed: stored, and replayed as it was even once the cause is gone.
  client.SetHeader("Idempotency-Key", "refused-1");
  const std::string from_missing_account =
      R"({"id":"91","debit_account_id":"9","credit_account_id":"2","amount":"1.00","ledger":"USD","code":1})";
  const HttpResponse refused = client.Post("/v1/transfers", from_missing_account);
  EXPECT_EQ(refused.result_int(), 422u) << refused.body();
  client.SetHeader("Idempotency-Key", "");
  ASSERT_EQ(client.Post("/v1/accounts", R"({"accounts":[{"id":"9","ledger":"USD","code":1}]})")
                .result_int(),
            200u);
  client.SetHeader("Idempotency-Key", "refused-1");
  const HttpResponse again = client.Post("/v1/transfers", from_missing_account);
  EXPECT_EQ(again.result_int(), 422u);
  EXPECT_EQ(again.body(), refused.body());
  EXPECT_EQ(again["Idempotent-Replayed"], "true");
}

TEST_F(AccessControlTest, InvalidIdempotencyKeysAre400) {
  TestClient client(port());
  client.UseKey(MakeKey(Scope::merchant));
  for (const std::string& bad : {std::string(256, 'k'), std::string("has space"), std::string("tab\there")}) {
    client.SetHeader("Idempotency-Key", bad);
    const HttpResponse r = client.Post("/v1/transfers", Transfer(95, "1.00"));
    EXPECT_EQ(r.result_int(), 400u) << bad;
    EXPECT_EQ(ErrorCode(r), "invalid_idempotency_key") << bad;
  }
}

TEST_F(AccessControlTest, ConcurrentRequestsWithOneKeyExecuteOnce) {
  const std::string key = MakeKey(Scope::merchant);
  {
    TestClient setup(port());
    setup.UseKey(key);
    CreateAccounts(setup);
  }
  constexpr int kClients = 16;
  std::atomic<int> created{0};
  std::atomic<int> replayed{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      TestClient client(port());
      client.UseKey(key);
      client.SetHeader("Idempotency-Key", "race-1");
      const HttpResponse r = client.Post("/v1/transfers", Transfer(99, "1.00"));
      if (r.result_int() == 201u && r.count("Idempotent-Replayed") == 0) {
        ++created;
      } else if (r.result_int() == 201u) {
        ++replayed;
      } else if (r.result_int() == 409u && ErrorCode(r) == "idempotency_key_in_use") {
        ++in_flight;
      } else {
        ++other;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(created + replayed + in_flight, kClients);
  EXPECT_EQ(other.load(), 0);
  TestClient check(port());
  check.UseKey(key);
  EXPECT_EQ(Credits(check), 100u);
}

}  // namespace
}  // namespace tpw::api
