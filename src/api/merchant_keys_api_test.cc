// Merchant keys bound to merchant accounts (docs/api.md, "Merchant keys"), end to end: the real
// server on a loopback port, keys made through POST /v1/api-keys. Two merchants with a bound key
// each: naming the other merchant is 403, the other merchant's payments, refunds and coupons are
// 404 byte for byte as if they did not exist, lists show a key's own merchant only. Unbound
// merchant keys and admin keys still see everything; bindings survive a restart; hostile
// bindings are 400; Idempotency-Keys never replay across API keys.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "api/access_control.h"
#include "api/api_test_client.h"
#include "api/server_fixture.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
using testing::ErrorCode;
using testing::JsonOf;
using testing::TestClient;

// Bank 1 funds customer 7's wallet (100); merchants 200 and 201.
constexpr const char* kAccounts = R"({"accounts":[
{"id":"1","ledger":"USD","code":1},
{"id":"100","ledger":"USD","code":10,"flags":["debits_must_not_exceed_credits"]},
{"id":"200","ledger":"USD","code":20,"flags":["debits_must_not_exceed_credits"]},
{"id":"201","ledger":"USD","code":20,"flags":["debits_must_not_exceed_credits"]}]})";
constexpr const char* kFunding = R"({"transfers":[
{"id":"1","debit_account_id":"1","credit_account_id":"100","amount":"1000.00","ledger":"USD","code":1}]})";
constexpr const char* kCustomer7 = R"({"sources":[{"account_id":"100","asset":"USD"}]})";
constexpr const char* kMissingPayment = "pay_999999";

std::string PayTo(std::string_view merchant, std::string_view extra = "") {
  return R"({"amount":"5.00","asset":"USD","customer":"7","merchant_account_id":")" +
         std::string(merchant) + "\"" + (extra.empty() ? "" : "," + std::string(extra)) + "}";
}

std::string Str(const bj::value& v, std::string_view key) {
  return std::string(v.at(key).as_string());
}

// `body` with every `from` replaced by `to`: a foreign payment's 404 is the missing one's.
std::string Replace(std::string body, const std::string& from, const std::string& to) {
  for (size_t at = body.find(from); at != std::string::npos; at = body.find(from, at + to.size())) {
    body.replace(at, from.size(), to);
  }
  return body;
}

class MerchantKeysApiTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    Start();
    admin_ = testing::MakeApiKey(*engine_, access::Scope::admin);
    auto admin = Client(admin_);
    ASSERT_EQ(admin->Post("/v1/accounts", kAccounts).result_int(), 200u);
    ASSERT_EQ(admin->Post("/v1/transfers/batch", kFunding).result_int(), 200u);
    ASSERT_EQ(admin->Send(http::verb::put, "/v1/customers/7", kCustomer7).result_int(), 200u);
    shop_a_ = MakeKey(R"(["200"])");
    shop_b_ = MakeKey(R"(["201"])");
  }

  void Start() {
    StartServer(ServerOptions{}, [&](engine::Engine& engine, ServerOptions& o) {
      access_ = std::make_unique<AccessControl>(engine, AccessOptions{});
      o.hooks = access_->Hooks();
    });
  }
  void Restart() {
    StopServer();
    access_.reset();
    Start();
  }

  std::unique_ptr<TestClient> Client(const std::string& key) {
    auto client = std::make_unique<TestClient>(port());
    client->UseKey(key);
    return client;
  }

  HttpResponse CreateKey(const std::string& merchants_json) {
    std::string body = R"({"scope":"merchant","name":"shop")";
    if (!merchants_json.empty()) body += R"(,"merchant_account_ids":)" + merchants_json;
    return Client(admin_)->Post("/v1/api-keys", body + "}");
  }
  // A merchant key bound to `merchants_json` (a JSON array), or unbound for "".
  std::string MakeKey(const std::string& merchants_json) {
    const HttpResponse r = CreateKey(merchants_json);
    EXPECT_EQ(r.result_int(), 201u) << r.body();
    return Str(JsonOf(r), "key");
  }

  std::string Pay(TestClient& client, std::string_view merchant, std::string_view extra = "") {
    const HttpResponse r = client.Post("/v1/payments", PayTo(merchant, extra));
    EXPECT_EQ(r.result_int(), 201u) << r.body();
    return Str(JsonOf(r), "id");
  }

  size_t KeyCount() {
    return JsonOf(Client(admin_)->Get("/v1/api-keys")).at("api_keys").as_array().size();
  }

  std::unique_ptr<AccessControl> access_;
  std::string admin_, shop_a_, shop_b_;
};

TEST_F(MerchantKeysApiTest, CreatingAPaymentForAnotherMerchantIs403NamingTheMerchant) {
  auto a = Client(shop_a_);
  const HttpResponse r = a->Post("/v1/payments", PayTo("201"));
  ASSERT_EQ(r.result_int(), 403u) << r.body();
  const bj::value error = JsonOf(r).at("error");
  EXPECT_EQ(Str(error, "type"), "permission_error");
  EXPECT_EQ(Str(error, "code"), "merchant_not_allowed");
  EXPECT_EQ(Str(error, "param"), "merchant_account_id");
  EXPECT_NE(Str(error, "message").find("merchant account 201 is not one of them"),
            std::string::npos);
  EXPECT_NE(Str(error, "message").find("apikey list"), std::string::npos);
  Pay(*a, "200");
}

TEST_F(MerchantKeysApiTest, AnotherMerchantsPaymentIs404ExactlyAsAMissingOne) {
  auto a = Client(shop_a_);
  auto b = Client(shop_b_);
  const std::string theirs = Pay(*b, "201", R"("capture_method":"manual")");
  struct Call {
    http::verb method;
    std::string suffix;
    std::string body;
  };
  const std::vector<Call> calls = {
      {http::verb::get, "", ""},
      {http::verb::get, "/refunds", ""},
      {http::verb::post, "/confirm", ""},
      {http::verb::post, "/capture", R"({"amount_to_capture":"1.00"})"},
      {http::verb::post, "/cancel", ""},
      {http::verb::post, "/refunds", R"({"amount":"1.00"})"},
  };
  for (const Call& call : calls) {
    const HttpResponse foreign = a->Send(call.method, "/v1/payments/" + theirs + call.suffix, call.body);
    const HttpResponse missing =
        a->Send(call.method, std::string("/v1/payments/") + kMissingPayment + call.suffix, call.body);
    EXPECT_EQ(foreign.result_int(), 404u) << call.suffix << foreign.body();
    EXPECT_EQ(ErrorCode(foreign), "payment_not_found") << call.suffix;
    EXPECT_EQ(foreign.body(), Replace(missing.body(), kMissingPayment, theirs)) << call.suffix;
  }
  // Nothing happened to it: its own key confirms it.
  const HttpResponse confirmed = b->Post("/v1/payments/" + theirs + "/confirm", "");
  ASSERT_EQ(confirmed.result_int(), 200u) << confirmed.body();
  EXPECT_EQ(Str(JsonOf(confirmed), "status"), "requires_capture");
}

TEST_F(MerchantKeysApiTest, ListsShowTheKeysOwnMerchantOnly) {
  auto a = Client(shop_a_);
  auto b = Client(shop_b_);
  const std::string ours = Pay(*a, "200");
  Pay(*b, "201");
  const bj::array listed = JsonOf(a->Get("/v1/payments")).at("data").as_array();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(Str(listed[0], "id"), ours);
  const HttpResponse other = a->Get("/v1/payments?merchant_account_id=201");
  EXPECT_EQ(other.result_int(), 403u) << other.body();
  EXPECT_EQ(ErrorCode(other), "merchant_not_allowed");
  EXPECT_EQ(JsonOf(a->Get("/v1/payments?merchant_account_id=200")).at("data").as_array().size(), 1u);
}

TEST_F(MerchantKeysApiTest, AKeyForTwoMerchantsListsOneAtATime) {
  auto both = Client(MakeKey(R"(["201","200"])"));
  Pay(*both, "200");
  Pay(*both, "201");
  const HttpResponse unnamed = both->Get("/v1/payments");
  EXPECT_EQ(unnamed.result_int(), 400u) << unnamed.body();
  EXPECT_EQ(Str(JsonOf(unnamed).at("error"), "param"), "merchant_account_id");
  EXPECT_NE(Str(JsonOf(unnamed).at("error"), "message").find("one merchant's payments at a time"),
            std::string::npos);
  for (const char* merchant : {"200", "201"}) {
    const bj::array page =
        JsonOf(both->Get(std::string("/v1/payments?merchant_account_id=") + merchant))
            .at("data")
            .as_array();
    ASSERT_EQ(page.size(), 1u) << merchant;
    EXPECT_EQ(Str(page[0], "merchant_account_id"), merchant);
  }
}

TEST_F(MerchantKeysApiTest, UnboundMerchantKeysAndAdminKeysSeeEveryMerchant) {
  const HttpResponse made = CreateKey("");
  ASSERT_EQ(made.result_int(), 201u);
  EXPECT_EQ(Str(JsonOf(made), "merchant_account_ids"), "all");
  auto unbound = Client(Str(JsonOf(made), "key"));
  auto admin = Client(admin_);
  const std::string of_a = Pay(*Client(shop_a_), "200");
  const std::string of_b = Pay(*unbound, "201");
  for (TestClient* client : {unbound.get(), admin.get()}) {
    EXPECT_EQ(client->Get("/v1/payments/" + of_a).result_int(), 200u);
    EXPECT_EQ(client->Get("/v1/payments/" + of_b).result_int(), 200u);
    EXPECT_EQ(JsonOf(client->Get("/v1/payments")).at("data").as_array().size(), 2u);
  }
}

TEST_F(MerchantKeysApiTest, AnotherMerchantsCouponIsInvisibleAndABoundKeyMakesOnlyItsOwn) {
  auto a = Client(shop_a_);
  auto b = Client(shop_b_);
  const auto Coupon = [&](const std::string& code, const std::string& merchant) {
    std::string body = R"({"code":")" + code + R"(","amount_off":"1.00","asset":"USD")";
    if (!merchant.empty()) body += R"(,"merchant_account_id":")" + merchant + "\"";
    return body + "}";
  };
  const HttpResponse ours = a->Post("/v1/coupons", Coupon("ASHOP", "200"));
  ASSERT_EQ(ours.result_int(), 201u) << ours.body();
  EXPECT_EQ(a->Post("/v1/coupons", Coupon("ATHEIRS", "201")).result_int(), 403u);
  const HttpResponse any = a->Post("/v1/coupons", Coupon("AANY", ""));
  EXPECT_EQ(any.result_int(), 403u) << any.body();
  EXPECT_EQ(ErrorCode(any), "merchant_not_allowed");

  EXPECT_EQ(a->Get("/v1/coupons/ASHOP").result_int(), 200u);
  const HttpResponse foreign = b->Get("/v1/coupons/ASHOP");
  const HttpResponse missing = b->Get("/v1/coupons/NOSUCH");
  EXPECT_EQ(foreign.result_int(), 404u) << foreign.body();
  EXPECT_EQ(foreign.body(), Replace(missing.body(), "NOSUCH", "ASHOP"));
  // The platform's coupons for every merchant are everyone's to read.
  ASSERT_EQ(Client(admin_)->Post("/v1/coupons", Coupon("EVERYONE", "")).result_int(), 201u);
  EXPECT_EQ(b->Get("/v1/coupons/EVERYONE").result_int(), 200u);

  // Codes are per merchant: B makes its own ASHOP (learning nothing of A's), and each key reads
  // its own; naming the other merchant is 403.
  const HttpResponse b_ashop = b->Post("/v1/coupons", Coupon("ASHOP", "201"));
  ASSERT_EQ(b_ashop.result_int(), 201u) << b_ashop.body();
  EXPECT_EQ(JsonOf(a->Get("/v1/coupons/ASHOP")).at("merchant_account_id").as_string(), "200");
  EXPECT_EQ(JsonOf(b->Get("/v1/coupons/ASHOP")).at("merchant_account_id").as_string(), "201");
  EXPECT_EQ(b->Get("/v1/coupons/ASHOP?merchant_account_id=201").result_int(), 200u);
  EXPECT_EQ(b->Get("/v1/coupons/ASHOP?merchant_account_id=200").result_int(), 403u);
  // A platform code stays apart from every merchant's (a payment never has two for one code).
  EXPECT_EQ(ErrorCode(b->Post("/v1/coupons", Coupon("EVERYONE", "201"))), "coupon_exists");
  // The platform names the merchant when two have the code; a bad id is 400.
  auto admin = Client(admin_);
  EXPECT_EQ(admin->Get("/v1/coupons/ASHOP").result_int(), 400u);
  EXPECT_EQ(JsonOf(admin->Get("/v1/coupons/ASHOP?merchant_account_id=201")).at("merchant_account_id").as_string(),
            "201");
  EXPECT_EQ(admin->Get("/v1/coupons/ASHOP?merchant_account_id=x").result_int(), 400u);
  EXPECT_EQ(admin->Get("/v1/coupons/ASHOP?other=1").result_int(), 400u);
}

TEST_F(MerchantKeysApiTest, BindingsSurviveARestartAndShowInTheKeyList) {
  auto b = Client(shop_b_);
  const std::string theirs = Pay(*b, "201");
  Restart();
  EXPECT_EQ(Client(shop_a_)->Get("/v1/payments/" + theirs).result_int(), 404u);
  EXPECT_EQ(Client(shop_b_)->Get("/v1/payments/" + theirs).result_int(), 200u);
  EXPECT_EQ(Client(shop_a_)->Post("/v1/payments", PayTo("201")).result_int(), 403u);
  std::vector<std::string> bindings;
  const bj::value keys = JsonOf(Client(admin_)->Get("/v1/api-keys"));
  for (const bj::value& key : keys.at("api_keys").as_array()) {
    bindings.push_back(bj::serialize(key.at("merchant_account_ids")));
  }
  std::sort(bindings.begin(), bindings.end());
  EXPECT_EQ(bindings, (std::vector<std::string>{"[\"200\"]", "[\"201\"]", "null"}));
}

TEST_F(MerchantKeysApiTest, HostileBindingsAre400AndStoreNothing) {
  std::string too_many = "[";
  for (int i = 1; i <= 65; ++i) too_many += (i == 1 ? "\"" : ",\"") + std::to_string(i) + "\"";
  too_many += "]";
  struct Case {
    std::string merchants;
    std::string code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"(["999"])", "unknown_merchant_account", "merchant account 999 is not a ledger account"},
      {R"(["200","999"])", "unknown_merchant_account", "999"},
      {too_many, "invalid_body", "at most 64"},
      {"[]", "invalid_body", "is empty"},
      {R"(["abc"])", "invalid_body", "merchant_account_ids[0]"},
      {R"(["200",""])", "invalid_body", "merchant_account_ids[1]"},
      {R"(["-1"])", "invalid_body", "merchant_account_ids[0]"},
      {R"(["0"])", "invalid_body", "never 0"},
      {R"(["200","0x00c8"])", "invalid_body", "twice"},
      {R"([200])", "invalid_body", "array of strings"},
      {R"("200")", "invalid_body", "array of strings"},
      {R"(null)", "invalid_body", "array of strings"},
      {R"([["200"]])", "invalid_body", "array of strings"},
  };
  const size_t before = KeyCount();
  for (const Case& c : cases) {
    const HttpResponse r = CreateKey(c.merchants);
    EXPECT_EQ(r.result_int(), 400u) << c.merchants << " " << r.body();
    const bj::value error = JsonOf(r).at("error");
    EXPECT_EQ(Str(error, "type"), "invalid_request_error") << c.merchants;
    EXPECT_EQ(Str(error, "param"), "merchant_account_ids") << c.merchants << " " << r.body();
    EXPECT_NE(Str(error, "message").find(c.message), std::string::npos) << r.body();
    EXPECT_EQ(Str(error, "code"), c.code) << c.merchants;
  }
  const HttpResponse admin_bound = Client(admin_)->Post(
      "/v1/api-keys", R"({"scope":"admin","name":"x","merchant_account_ids":["200"]})");
  EXPECT_EQ(admin_bound.result_int(), 400u);
  EXPECT_NE(admin_bound.body().find("only merchant keys"), std::string::npos) << admin_bound.body();
  EXPECT_EQ(KeyCount(), before);
}

TEST_F(MerchantKeysApiTest, AnIdempotencyKeyNeverReplaysAnotherApiKeysResponse) {
  auto a = Client(shop_a_);
  auto b = Client(shop_b_);
  a->SetHeader("Idempotency-Key", "order-1");
  b->SetHeader("Idempotency-Key", "order-1");
  const HttpResponse first = a->Post("/v1/payments", PayTo("200"));
  ASSERT_EQ(first.result_int(), 201u) << first.body();
  const HttpResponse replayed = a->Post("/v1/payments", PayTo("200"));
  EXPECT_EQ(replayed.body(), first.body());
  EXPECT_EQ(replayed["Idempotent-Replayed"], "true");
  // The same key and body under the other merchant's API key runs as its own request: refused.
  const HttpResponse other = b->Post("/v1/payments", PayTo("200"));
  EXPECT_EQ(other.result_int(), 403u) << other.body();
  EXPECT_EQ(other.find("Idempotent-Replayed"), other.end());
}

// ---- The ledger routes (/v1/accounts, /v1/transfers) ------------------------------------------

namespace ledger_routes {

// Shop A's merchant account 200 holds 50.00 (a customer's payment, moved by the platform).
constexpr const char* kFundShopA = R"({"transfers":[
{"id":"2","debit_account_id":"100","credit_account_id":"200","amount":"50.00","ledger":"USD","code":1}]})";

std::string Payout(std::string_view id, std::string_view debit, std::string_view extra = "") {
  return R"({"id":")" + std::string(id) + R"(","debit_account_id":")" + std::string(debit) +
         R"(","credit_account_id":"1","amount":"1.00","ledger":"USD","code":1)" +
         (extra.empty() ? "" : "," + std::string(extra)) + "}";
}

std::string Param(const HttpResponse& r) { return Str(JsonOf(r).at("error"), "param"); }

}  // namespace ledger_routes

TEST_F(MerchantKeysApiTest, ABoundKeyCannotCreateLedgerAccounts) {
  const HttpResponse r =
      Client(shop_a_)->Post("/v1/accounts", R"({"accounts":[{"id":"300","ledger":"USD","code":20}]})");
  ASSERT_EQ(r.result_int(), 403u) << r.body();
  EXPECT_EQ(ErrorCode(r), "merchant_not_allowed");
  EXPECT_EQ(Client(admin_)->Get("/v1/accounts/300").result_int(), 404u) << "nothing was created";
  // An unbound merchant key still may (single-merchant deployments).
  EXPECT_EQ(Client(MakeKey(""))
                ->Post("/v1/accounts", R"({"accounts":[{"id":"301","ledger":"USD","code":20}]})")
                .result_int(),
            200u);
}

TEST_F(MerchantKeysApiTest, AnotherAccountIs404ExactlyAsAMissingOneOnEveryAccountRead) {
  auto a = Client(shop_a_);
  for (const char* suffix : {"", "/transfers", "/balances"}) {
    // The accounts have no `history` flag: their balance history is 400 history_not_enabled.
    const unsigned readable = std::string_view(suffix) == "/balances" ? 400u : 200u;
    const std::string own = std::string("/v1/accounts/200") + suffix;
    EXPECT_EQ(a->Get(own).result_int(), readable) << own;
    const HttpResponse missing = a->Get(std::string("/v1/accounts/999") + suffix);
    ASSERT_EQ(missing.result_int(), 404u) << suffix;
    for (const char* other : {"201", "100", "1"}) {
      const HttpResponse r = a->Get("/v1/accounts/" + std::string(other) + suffix);
      EXPECT_EQ(r.result_int(), 404u) << other << suffix;
      EXPECT_EQ(r.body(), missing.body()) << other << suffix;
      // The admin key sees it: the account exists.
      EXPECT_EQ(Client(admin_)->Get("/v1/accounts/" + std::string(other) + suffix).result_int(),
                readable);
    }
  }
}

TEST_F(MerchantKeysApiTest, ABoundKeyMovesOnlyItsOwnMoneyAndSeesOnlyItsTransfers) {
  using namespace ledger_routes;
  ASSERT_EQ(Client(admin_)->Post("/v1/transfers/batch", kFundShopA).result_int(), 200u);
  auto a = Client(shop_a_);
  auto b = Client(shop_b_);

  // A payout from its own account: created, and visible to it.
  HttpResponse r = a->Post("/v1/transfers", Payout("10", "200"));
  ASSERT_EQ(r.result_int(), 201u) << r.body();
  EXPECT_EQ(a->Get("/v1/transfers/10").result_int(), 200u);

  // Debiting a customer's wallet or the other merchant: 403 naming the account, nothing moves.
  r = a->Post("/v1/transfers", Payout("11", "100"));
  ASSERT_EQ(r.result_int(), 403u) << r.body();
  EXPECT_EQ(ErrorCode(r), "merchant_not_allowed");
  EXPECT_EQ(Param(r), "debit_account_id");
  EXPECT_NE(Str(JsonOf(r).at("error"), "message").find("merchant account 100"), std::string::npos);
  EXPECT_EQ(a->Post("/v1/transfers", Payout("12", "201")).result_int(), 403u);
  EXPECT_EQ(Client(admin_)->Get("/v1/transfers/11").result_int(), 404u);
  EXPECT_EQ(Client(admin_)->Get("/v1/transfers/12").result_int(), 404u);

  // A batch with one foreign debit is refused whole, naming that transfer.
  r = a->Post("/v1/transfers/batch",
              "{\"transfers\":[" + Payout("13", "200") + "," + Payout("14", "100") + "]}");
  ASSERT_EQ(r.result_int(), 403u) << r.body();
  EXPECT_EQ(Param(r), "transfers[1].debit_account_id");
  EXPECT_EQ(Client(admin_)->Get("/v1/transfers/13").result_int(), 404u);

  // Another merchant's transfer, and the platform's, are 404 exactly as a missing one.
  const HttpResponse missing = b->Get("/v1/transfers/999");
  ASSERT_EQ(missing.result_int(), 404u);
  for (const char* id : {"10", "1"}) {
    r = b->Get(std::string("/v1/transfers/") + id);
    EXPECT_EQ(r.result_int(), 404u) << id;
    EXPECT_EQ(r.body(), missing.body()) << id;
  }
  // A transfer that credits the key's account is its own too (the platform paid it in).
  EXPECT_EQ(a->Get("/v1/transfers/2").result_int(), 200u);
  // Lookups of several: what the key may not see is in not_found, as a missing id is.
  r = b->Get("/v1/transfers?ids=10,1,999");
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  EXPECT_TRUE(JsonOf(r).at("transfers").as_array().empty());
  EXPECT_EQ(JsonOf(r).at("not_found").as_array().size(), 3u);
  r = a->Get("/v1/transfers?ids=10,1,2");
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  EXPECT_EQ(JsonOf(r).at("transfers").as_array().size(), 2u) << r.body();
  EXPECT_EQ(JsonOf(r).at("not_found").as_array().at(0).as_string(), "1");
  r = a->Get("/v1/accounts?ids=201,200,100");
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  EXPECT_EQ(JsonOf(r).at("accounts").as_array().size(), 1u);
  EXPECT_EQ(JsonOf(r).at("not_found").as_array().size(), 2u);

  // The balance moved by the payout only.
  const bj::value account = JsonOf(Client(admin_)->Get("/v1/accounts/200"));
  EXPECT_EQ(Str(account, "debits_posted"), "1.00");
}

TEST_F(MerchantKeysApiTest, PostingOrVoidingAPendingTransferNamesTheKeysOwnDebitAccount) {
  using namespace ledger_routes;
  ASSERT_EQ(Client(admin_)->Post("/v1/transfers/batch", kFundShopA).result_int(), 200u);
  auto a = Client(shop_a_);
  auto b = Client(shop_b_);
  ASSERT_EQ(a->Post("/v1/transfers", Payout("20", "200", R"("flags":["pending"])")).result_int(),
            201u);

  // Without the debit account a bound key's post is refused before the ledger sees it.
  HttpResponse r = b->Post("/v1/transfers",
                           R"({"id":"21","pending_id":"20","flags":["void_pending_transfer"]})");
  ASSERT_EQ(r.result_int(), 403u) << r.body();
  EXPECT_EQ(Param(r), "debit_account_id");
  // Naming its own account does not let it act on another merchant's hold: the ledger refuses.
  r = b->Post("/v1/transfers",
              R"({"id":"22","pending_id":"20","debit_account_id":"201","flags":["void_pending_transfer"]})");
  EXPECT_EQ(r.result_int(), 422u) << r.body();
  EXPECT_EQ(ErrorCode(r), "pending_transfer_has_different_debit_account_id");

  // The owner posts it, naming its account.
  r = a->Post("/v1/transfers",
              R"({"id":"23","pending_id":"20","debit_account_id":"200","flags":["post_pending_transfer"]})");
  ASSERT_EQ(r.result_int(), 201u) << r.body();
  EXPECT_EQ(Str(JsonOf(Client(admin_)->Get("/v1/accounts/200")), "debits_posted"), "1.00");
}

}  // namespace
}  // namespace tpw::api
