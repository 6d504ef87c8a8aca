// The payment endpoints end to end: a real engine on a temp data directory, the real server on a
// loopback port with API keys and idempotency, accounts and money set up through the API itself.
// The state machine over HTTP (every allowed and refused transition), errors and their statuses,
// idempotency of every POST, a double-capture race, hostile input on every endpoint, scopes, and
// a restart that keeps every payment.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "api/access_control.h"
#include "api/api_test_client.h"
#include "api/server_fixture.h"
#include "payments/test_util.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
using access::Scope;
using testing::ErrorCode;
using testing::JsonOf;
using testing::TestClient;

// The payments module's test rules (payments/test_util.h): device 666 is blocked (decline),
// device 777 needs a PIN (step-up); the amount rules start at 1000.00 USD, above these tests.
constexpr const char* kRules = payments::test::kRiskRules;

// Accounts: banks 1 (USD), 2 (EUR), 3 (PTS) fund everyone; the rest may not go below zero.
constexpr const char* kAccounts = R"({"accounts":[
{"id":"1","ledger":"USD","code":1},{"id":"2","ledger":"EUR","code":1},{"id":"3","ledger":"PTS","code":1},
{"id":"100","ledger":"USD","code":10,"flags":["debits_must_not_exceed_credits"]},
{"id":"101","ledger":"EUR","code":10,"flags":["debits_must_not_exceed_credits"]},
{"id":"102","ledger":"USD","code":10,"flags":["debits_must_not_exceed_credits"]},
{"id":"104","ledger":"USD","code":10,"flags":["debits_must_not_exceed_credits"]},
{"id":"200","ledger":"USD","code":20,"flags":["debits_must_not_exceed_credits"]},
{"id":"201","ledger":"USD","code":20,"flags":["debits_must_not_exceed_credits"]},
{"id":"203","ledger":"USD","code":20,"flags":["debits_must_not_exceed_credits"]},
{"id":"300","ledger":"USD","code":30,"flags":["debits_must_not_exceed_credits"]},
{"id":"301","ledger":"EUR","code":30,"flags":["debits_must_not_exceed_credits"]}]})";

constexpr const char* kFunding = R"({"transfers":[
{"id":"1","debit_account_id":"1","credit_account_id":"100","amount":"10000.00","ledger":"USD","code":1},
{"id":"2","debit_account_id":"2","credit_account_id":"101","amount":"5000.00","ledger":"EUR","code":1},
{"id":"3","debit_account_id":"1","credit_account_id":"102","amount":"50.00","ledger":"USD","code":1},
{"id":"4","debit_account_id":"1","credit_account_id":"104","amount":"1.00","ledger":"USD","code":1},
{"id":"5","debit_account_id":"1","credit_account_id":"300","amount":"100000.00","ledger":"USD","code":1},
{"id":"6","debit_account_id":"2","credit_account_id":"301","amount":"100000.00","ledger":"EUR","code":1}]})";

// Customer 7: a USD wallet, a transit purse (preferred for "transit"), a EUR wallet.
// Customer 8: a USD wallet holding 1.00.
constexpr const char* kCustomer7 = R"({"sources":[
{"account_id":"100","asset":"USD","kind":"balance","priority":1},
{"account_id":"102","asset":"USD","kind":"transit","tags":["transit"],"priority":0},
{"account_id":"101","asset":"EUR","kind":"balance","priority":2}]})";
constexpr const char* kCustomer8 = R"({"sources":[{"account_id":"104","asset":"USD"}]})";

// A payment of `amount` USD from customer 7 to merchant 200, with `extra` members.
std::string Pay(std::string_view amount, std::string_view extra = "") {
  std::string body = R"({"amount":")" + std::string(amount) +
                     R"(","asset":"USD","merchant_account_id":"200","customer":"7")";
  if (!extra.empty()) body += "," + std::string(extra);
  return body + "}";
}

std::string Str(const bj::value& v, std::string_view key) {
  return std::string(v.at(key).as_string());
}

class PaymentsApiTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    Start();
    admin_ = testing::MakeApiKey(*engine_, Scope::admin);
    merchant_ = testing::MakeApiKey(*engine_, Scope::merchant);
    auditor_ = testing::MakeApiKey(*engine_, Scope::auditor);
    auto c = Client(admin_);
    ASSERT_EQ(c->Post("/v1/accounts", kAccounts).result_int(), 200u);
    const HttpResponse funded = c->Post("/v1/transfers/batch", kFunding);
    ASSERT_EQ(JsonOf(funded).at("created").to_number<uint64_t>(), 6u) << funded.body();
    ASSERT_EQ(c->Send(http::verb::put, "/v1/customers/7", kCustomer7).result_int(), 200u);
    ASSERT_EQ(c->Send(http::verb::put, "/v1/customers/8", kCustomer8).result_int(), 200u);
  }

  void Start() {
    ServerOptions options;
    options.body_bytes_max = 64 * 1024;
    StartServer(options, [&](engine::Engine& engine, ServerOptions& o) {
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

  void PutRules(TestClient& client) {
    const HttpResponse r =
        client.Send(http::verb::put, "/v1/risk/rules", kRules, "application/toml");
    ASSERT_EQ(r.result_int(), 200u) << r.body();
  }

  // Creates a payment (201) and returns it.
  bj::value Create(TestClient& client, const std::string& body) {
    const HttpResponse r = client.Post("/v1/payments", body);
    EXPECT_EQ(r.result_int(), 201u) << r.body();
    return JsonOf(r);
  }

  // A payment in `state`: requires_confirmation, requires_capture, succeeded, canceled or
  // requires_action (device 777 needs a PIN).
  std::string PaymentIn(TestClient& client, std::string_view state) {
    if (state == "requires_action") {
      const bj::value p = Create(client, Pay("5.00", R"("confirm":true,"risk":{"device":"777"})"));
      EXPECT_EQ(Str(p, "status"), "requires_action") << bj::serialize(p);
      return Str(p, "id");
    }
    const bool manual = state != "succeeded";
    const bj::value p = Create(client, Pay("5.00", manual ? R"("capture_method":"manual")" : ""));
    const std::string id = Str(p, "id");
    if (state == "requires_confirmation") return id;
    if (state == "canceled") {
      EXPECT_EQ(client.Post("/v1/payments/" + id + "/cancel", "").result_int(), 200u);
      return id;
    }
    const HttpResponse confirmed = client.Post("/v1/payments/" + id + "/confirm", "");
    EXPECT_EQ(Str(JsonOf(confirmed), "status"), state) << confirmed.body();
    return id;
  }

  // The account's posted balance (credits - debits) in minor units, and its pending debits.
  std::pair<int64_t, int64_t> Balance(TestClient& client, std::string_view account) {
    const bj::value a = JsonOf(client.Get("/v1/accounts/" + std::string(account)));
    const auto minor = [&](std::string_view key) { return std::stoll(Str(a, key)); };
    return {minor("credits_posted_minor") - minor("debits_posted_minor"),
            minor("debits_pending_minor")};
  }

  std::unique_ptr<AccessControl> access_;
  std::string admin_, merchant_, auditor_;
};

// ---- Flows ----------------------------------------------------------------------------------

TEST_F(PaymentsApiTest, ManualCaptureHoldsThenCapturesPartOfIt) {
  auto c = Client(merchant_);
  const bj::value created =
      Create(*c, Pay("12.34", R"("capture_method":"manual","metadata":{"order":"5"})"));
  EXPECT_EQ(Str(created, "status"), "requires_confirmation");
  EXPECT_EQ(Str(created, "amount_minor"), "1234");
  EXPECT_EQ(created.at("metadata").at("order").as_string(), "5");
  const std::string id = Str(created, "id");
  EXPECT_EQ(id.rfind("pay_", 0), 0u);

  const HttpResponse confirmed = c->Post("/v1/payments/" + id + "/confirm", "");
  ASSERT_EQ(confirmed.result_int(), 200u) << confirmed.body();
  const bj::value held = JsonOf(confirmed);
  EXPECT_EQ(Str(held, "status"), "requires_capture");
  EXPECT_EQ(Str(held, "amount_capturable"), "12.34");
  EXPECT_EQ(Str(held.at("funding"), "source_account_id"), "100");
  EXPECT_EQ(Balance(*c, "100").second, 1234);  // the hold is a pending ledger transfer

  const HttpResponse captured =
      c->Post("/v1/payments/" + id + "/capture", R"({"amount_to_capture":"10.00"})");
  ASSERT_EQ(captured.result_int(), 200u) << captured.body();
  const bj::value done = JsonOf(captured);
  EXPECT_EQ(Str(done, "status"), "succeeded");
  EXPECT_EQ(Str(done, "amount_captured"), "10.00");
  EXPECT_EQ(Balance(*c, "200").first, 1000);
  EXPECT_EQ(Balance(*c, "100"),
            (std::pair<int64_t, int64_t>{1'000'000 - 1000, 0}));  // rest released
  // GET shows exactly what the capture answered (its update time too).
  EXPECT_EQ(JsonOf(c->Get("/v1/payments/" + id)), done);
}

TEST_F(PaymentsApiTest, CreateWithConfirmCapturesAutomaticallyWithSplits) {
  auto c = Client(merchant_);
  const bj::value p = Create(
      *c, Pay("100.00", R"("confirm":true,"splits":[{"account_id":"201","basis_points":1000}],)"
                        R"("platform_fee":{"account_id":"203","amount":"2.50"})"));
  ASSERT_EQ(Str(p, "status"), "succeeded") << bj::serialize(p);
  EXPECT_EQ(Balance(*c, "201").first, 1000);
  EXPECT_EQ(Balance(*c, "203").first, 250);
  EXPECT_EQ(Balance(*c, "200").first, 10000 - 1000 - 250);
  EXPECT_EQ(Str(p.at("payouts").at(0), "amount"), "10.00");
}

TEST_F(PaymentsApiTest, ScenarioTagPicksTheTransitPurse) {
  auto c = Client(merchant_);
  const bj::value p = Create(*c, Pay("2.40", R"("confirm":true,"scenario":"transit")"));
  ASSERT_EQ(Str(p, "status"), "succeeded") << bj::serialize(p);
  EXPECT_EQ(Str(p.at("funding"), "source_account_id"), "102");
  EXPECT_EQ(Str(p.at("funding"), "source_kind"), "transit");
}

TEST_F(PaymentsApiTest, RefundsArePartialRepeatedAndNeverMoreThanCaptured) {
  auto c = Client(merchant_);
  const std::string id = Str(Create(*c, Pay("10.00", R"("confirm":true)")), "id");
  const std::string refunds = "/v1/payments/" + id + "/refunds";
  const HttpResponse first = c->Post(refunds, R"({"amount":"3.00"})");
  ASSERT_EQ(first.result_int(), 201u) << first.body();
  EXPECT_EQ(Str(JsonOf(first), "object"), "refund");
  EXPECT_EQ(Str(JsonOf(first), "payment"), id);
  ASSERT_EQ(c->Post(refunds, R"({"amount_minor":"500"})").result_int(), 201u);
  const HttpResponse over = c->Post(refunds, R"({"amount":"2.01"})");
  EXPECT_EQ(over.result_int(), 400u) << over.body();
  EXPECT_EQ(ErrorCode(over), "refund_exceeds_captured");
  const HttpResponse rest = c->Post(refunds, "");  // all that is left: 2.00
  ASSERT_EQ(rest.result_int(), 201u) << rest.body();
  EXPECT_EQ(Str(JsonOf(rest), "amount"), "2.00");
  const bj::value list = JsonOf(c->Get(refunds));
  EXPECT_EQ(Str(list, "object"), "list");
  EXPECT_EQ(list.at("data").as_array().size(), 3u);
  EXPECT_EQ(Str(JsonOf(c->Get("/v1/payments/" + id)), "amount_refunded"), "10.00");
  EXPECT_EQ(Balance(*c, "200").first, 0);
  EXPECT_EQ(Balance(*c, "100").first, 1'000'000);
}

TEST_F(PaymentsApiTest, ListFiltersAndPagesWithStartingAfter) {
  auto c = Client(merchant_);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Str(Create(*c, Pay("1.00")), "id"));
  ASSERT_EQ(c->Post("/v1/payments/" + ids[1] + "/cancel", "").result_int(), 200u);
  const bj::value page1 = JsonOf(c->Get("/v1/payments?limit=2&customer=7"));
  ASSERT_EQ(page1.at("data").as_array().size(), 2u);
  EXPECT_TRUE(page1.at("has_more").as_bool());
  const std::string last = Str(page1.at("data").at(1), "id");
  const bj::value page2 = JsonOf(c->Get("/v1/payments?limit=2&customer=7&starting_after=" + last));
  EXPECT_NE(Str(page2.at("data").at(0), "id"), last);
  const bj::value canceled = JsonOf(c->Get("/v1/payments?status=canceled"));
  ASSERT_EQ(canceled.at("data").as_array().size(), 1u);
  EXPECT_EQ(Str(canceled.at("data").at(0), "id"), ids[1]);
  EXPECT_EQ(JsonOf(c->Get("/v1/payments?customer=8")).at("data").as_array().size(), 0u);
  EXPECT_EQ(
      JsonOf(c->Get("/v1/payments?merchant_account_id=200&limit=100")).at("data").as_array().size(),
      5u);
  EXPECT_EQ(c->Get("/v1/payments?limit=0").result_int(), 400u);
  EXPECT_EQ(c->Get("/v1/payments?state=canceled").result_int(), 400u);
}

// ---- The state machine over HTTP --------------------------------------------------------------

TEST_F(PaymentsApiTest, EveryTransitionIsAllowedOrRefusedAsDocumented) {
  auto admin = Client(admin_);
  PutRules(*admin);
  auto c = Client(merchant_);
  struct Case {
    std::string_view state;
    std::string_view action;  // confirm, capture, cancel, refunds
    bool allowed;
  };
  const Case cases[] = {
      {"requires_confirmation", "confirm", true},
      {"requires_confirmation", "capture", false},
      {"requires_confirmation", "cancel", true},
      {"requires_confirmation", "refunds", false},
      {"requires_action", "confirm", false},
      {"requires_action", "capture", false},
      {"requires_action", "cancel", true},
      {"requires_action", "refunds", false},
      {"requires_capture", "confirm", false},
      {"requires_capture", "capture", true},
      {"requires_capture", "cancel", true},
      {"requires_capture", "refunds", false},
      {"succeeded", "confirm", false},
      {"succeeded", "capture", false},
      {"succeeded", "cancel", false},
      {"succeeded", "refunds", true},
      {"canceled", "confirm", false},
      {"canceled", "capture", false},
      {"canceled", "cancel", false},
      {"canceled", "refunds", false},
  };
  for (const Case& k : cases) {
    const std::string id = PaymentIn(*c, k.state);
    const HttpResponse r = c->Post("/v1/payments/" + id + "/" + std::string(k.action), "");
    const std::string what =
        std::string(k.action) + " in " + std::string(k.state) + ": " + r.body();
    if (k.allowed) {
      EXPECT_LT(r.result_int(), 300u) << what;
      continue;
    }
    if (k.state == "requires_action" && k.action == "confirm") {
      // Confirm is allowed there, but only with the verification risk asked for.
      EXPECT_EQ(r.result_int(), 402u) << what;
      EXPECT_EQ(ErrorCode(r), "cvm_insufficient") << what;
      continue;
    }
    EXPECT_EQ(r.result_int(), 409u) << what;
    EXPECT_EQ(ErrorCode(r), "payment_intent_unexpected_state") << what;
    const std::string message(JsonOf(r).at("error").at("message").as_string());
    EXPECT_NE(message.find(std::string(k.state)), std::string::npos) << what;
    EXPECT_NE(message.find("needs"), std::string::npos) << what;
    EXPECT_EQ(Str(JsonOf(r).at("error").at("payment"), "status"), k.state) << what;
    // A refusal changes nothing.
    EXPECT_EQ(Str(JsonOf(c->Get("/v1/payments/" + id)), "status"), k.state) << what;
  }
}

TEST_F(PaymentsApiTest, StepUpThenConfirmWithTheVerificationSucceeds) {
  auto admin = Client(admin_);
  PutRules(*admin);
  auto c = Client(merchant_);
  const bj::value p = Create(*c, Pay("5.00", R"("confirm":true,"risk":{"device":"777"})"));
  ASSERT_EQ(Str(p, "status"), "requires_action");
  EXPECT_EQ(Str(p.at("next_action"), "required_cvm"), "pin");
  const HttpResponse r = c->Post("/v1/payments/" + Str(p, "id") + "/confirm",
                                 R"({"cvm_performed":"pin","risk":{"device":"777"}})");
  ASSERT_EQ(r.result_int(), 200u) << r.body();
  EXPECT_EQ(Str(JsonOf(r), "status"), "succeeded");
}

// ---- Errors -----------------------------------------------------------------------------------

TEST_F(PaymentsApiTest, RiskDeclineIs402AndCancelsThePayment) {
  auto admin = Client(admin_);
  PutRules(*admin);
  auto c = Client(merchant_);
  const HttpResponse r =
      c->Post("/v1/payments", Pay("5.00", R"("confirm":true,"risk":{"device":"666"})"));
  ASSERT_EQ(r.result_int(), 402u) << r.body();
  const bj::value error = JsonOf(r).at("error");
  EXPECT_EQ(Str(error, "type"), "payment_error");
  EXPECT_EQ(Str(error, "code"), "declined_by_risk");
  EXPECT_EQ(Str(error.at("payment"), "status"), "canceled");
  EXPECT_EQ(Str(error.at("payment"), "cancellation_reason"), "declined_by_risk");
  const std::string id = Str(error.at("payment"), "id");
  EXPECT_EQ(Str(JsonOf(c->Get("/v1/payments/" + id)), "status"), "canceled");
  EXPECT_EQ(Balance(*c, "100"), (std::pair<int64_t, int64_t>{1'000'000, 0}));
}

TEST_F(PaymentsApiTest, ErrorsHaveTheirStatusCodeAndParam) {
  auto c = Client(merchant_);
  struct Case {
    std::string target;
    std::string body;
    unsigned status;
    std::string code;
  };
  const std::string held = PaymentIn(*c, "requires_capture");
  const Case cases[] = {
      {"/v1/payments/pay_999999/capture", "", 404, "payment_not_found"},
      {"/v1/payments/pay_x/capture", "", 400, "invalid_parameter"},
      {"/v1/payments",
       R"({"amount":"1.00","asset":"USD","merchant_account_id":"200","customer":"99"})", 404,
       "customer_not_found"},
      {"/v1/payments",
       R"({"amount":"1.01","asset":"USD","merchant_account_id":"200","customer":"8","confirm":true})",
       402, "insufficient_funds"},
      {"/v1/payments",
       R"({"amount":"1.00","asset":"USD","merchant_account_id":"999","customer":"7"})", 404,
       "account_not_found"},
      {"/v1/payments/" + held + "/capture", R"({"amount_to_capture":"5.01"})", 400,
       "amount_exceeds_capturable"},
      {"/v1/payments", Pay("1.00", R"("confirm":true,"coupon":"NOPE")"), 404, "coupon_not_found"},
      {"/v1/fx/quotes", R"({"from_asset":"USD","to_asset":"GBP"})", 400, "fx_rate_missing"},
  };
  for (const Case& k : cases) {
    const HttpResponse r = c->Post(k.target, k.body);
    EXPECT_EQ(r.result_int(), k.status) << k.target << " " << k.body << " → " << r.body();
    EXPECT_EQ(ErrorCode(r), k.code) << r.body();
    EXPECT_FALSE(JsonOf(r).at("error").at("message").as_string().empty());
  }
  EXPECT_EQ(ErrorCode(c->Get("/v1/customers/99")), "customer_not_found");
  EXPECT_EQ(ErrorCode(c->Get("/v1/coupons/NOPE")), "coupon_not_found");
  EXPECT_EQ(ErrorCode(c->Get("/v1/fx/quotes/fxq_77")), "quote_not_found");
  EXPECT_EQ(ErrorCode(c->Get("/v1/payments/pay_77/refunds")), "payment_not_found");
}

// ---- Customers, coupons, points, FX ------------------------------------------------------------

TEST_F(PaymentsApiTest, SetupRecordsRoundTrip) {
  auto admin = Client(admin_);
  const bj::value customer = JsonOf(admin->Get("/v1/customers/7"));
  EXPECT_EQ(customer.at("sources").as_array().size(), 3u);
  EXPECT_EQ(Str(customer.at("sources").at(1), "kind"), "transit");

  const HttpResponse coupon =
      admin->Post("/v1/coupons",
                  R"({"code":"WELCOME5","amount_off":"5.00","asset":"USD","min_spend":"10.00"})");
  ASSERT_EQ(coupon.result_int(), 201u) << coupon.body();
  EXPECT_EQ(JsonOf(admin->Get("/v1/coupons/WELCOME5")), JsonOf(coupon));
  const HttpResponse again =
      admin->Post("/v1/coupons", R"({"code":"WELCOME5","percent_off_bps":100})");
  EXPECT_EQ(again.result_int(), 409u);
  EXPECT_EQ(ErrorCode(again), "coupon_exists");

  const HttpResponse rates = admin->Send(
      http::verb::put, "/v1/fx/rates",
      R"({"rates":[{"from_asset":"USD","to_asset":"EUR","rate":"0.92","source":"ecb","as_of":"2024-05-29T16:00:00Z"}]})");
  ASSERT_EQ(rates.result_int(), 200u) << rates.body();
  const bj::value table = JsonOf(admin->Get("/v1/fx/rates"));
  ASSERT_EQ(table.at("data").as_array().size(), 1u);
  EXPECT_EQ(Str(table.at("data").at(0), "rate"), "0.92");
  EXPECT_EQ(Str(table.at("data").at(0), "source"), "ecb");
  const HttpResponse quote =
      admin->Post("/v1/fx/quotes", R"({"from_asset":"USD","to_asset":"EUR","ttl_seconds":60})");
  ASSERT_EQ(quote.result_int(), 201u) << quote.body();
  EXPECT_EQ(JsonOf(admin->Get("/v1/fx/quotes/" + Str(JsonOf(quote), "id"))), JsonOf(quote));
  ASSERT_EQ(
      admin->Send(http::verb::put, "/v1/fx/accounts/USD", R"({"account_id":"300"})").result_int(),
      200u);
  const HttpResponse eur =
      admin->Send(http::verb::put, "/v1/fx/accounts/EUR", R"({"account_id":"301"})");
  ASSERT_EQ(eur.result_int(), 200u) << eur.body();
  EXPECT_EQ(Str(JsonOf(eur), "account_id"), "301");

  EXPECT_FALSE(JsonOf(admin->Get("/v1/points/program")).at("configured").as_bool());
}

TEST_F(PaymentsApiTest, CouponLowersWhatTheCustomerPays) {
  auto admin = Client(admin_);
  ASSERT_EQ(admin->Post("/v1/coupons", R"({"code":"TEN","percent_off_bps":1000})").result_int(),
            201u);
  auto c = Client(merchant_);
  const bj::value p = Create(*c, Pay("20.00", R"("confirm":true,"coupon":"TEN")"));
  ASSERT_EQ(Str(p, "status"), "succeeded") << bj::serialize(p);
  EXPECT_EQ(Str(p.at("funding"), "coupon_discount"), "2.00");
  EXPECT_EQ(Balance(*c, "100").first, 1'000'000 - 1800);
}

TEST_F(PaymentsApiTest, CrossAssetPaymentWithAQuote) {
  auto admin = Client(admin_);
  ASSERT_EQ(admin
                ->Send(http::verb::put, "/v1/customers/7",
                       R"({"sources":[{"account_id":"101","asset":"EUR"}]})")
                .result_int(),
            200u);
  ASSERT_EQ(
      admin
          ->Send(
              http::verb::put, "/v1/fx/rates",
              R"({"rates":[{"from_asset":"USD","to_asset":"EUR","rate":"0.5","source":"desk","as_of":"1"}]})")
          .result_int(),
      200u);
  ASSERT_EQ(
      admin->Send(http::verb::put, "/v1/fx/accounts/USD", R"({"account_id":"300"})").result_int(),
      200u);
  ASSERT_EQ(
      admin->Send(http::verb::put, "/v1/fx/accounts/EUR", R"({"account_id":"301"})").result_int(),
      200u);
  auto c = Client(merchant_);
  const HttpResponse quote = c->Post("/v1/fx/quotes", R"({"from_asset":"USD","to_asset":"EUR"})");
  ASSERT_EQ(quote.result_int(), 201u) << quote.body();
  const bj::value p =
      Create(*c, Pay("10.00", R"("confirm":true,"quote":")" + Str(JsonOf(quote), "id") + "\""));
  ASSERT_EQ(Str(p, "status"), "succeeded") << bj::serialize(p);
  EXPECT_EQ(Str(p.at("funding"), "amount_charged_source"), "5.00");
  EXPECT_EQ(Str(p.at("funding").at("fx"), "rate"), "0.5");
  EXPECT_EQ(Balance(*c, "101").first, 500'000 - 500);
  EXPECT_EQ(Balance(*c, "200").first, 1000);
}

TEST_F(PaymentsApiTest, CouponSplitAndSourceRefusalsOverHttp) {
  auto admin = Client(admin_);
  ASSERT_EQ(admin
                ->Post("/v1/coupons",
                       R"({"code":"MIN50","amount_off":"5.00","asset":"USD","min_spend":"50.00"})")
                .result_int(),
            201u);
  ASSERT_EQ(admin
                ->Post("/v1/coupons",
                       R"({"code":"ONCE","amount_off":"1.00","asset":"USD","single_use":true})")
                .result_int(),
            201u);
  ASSERT_EQ(
      admin
          ->Post("/v1/coupons",
                 R"({"code":"OLD","percent_off_bps":100,"expires_at":"2001-01-01T00:00:00Z"})")
          .result_int(),
      201u);
  auto c = Client(merchant_);
  struct Case {
    std::string body;
    unsigned status;
    std::string code;
    std::string param;
  };
  const Case cases[] = {
      {Pay("10.00", R"("confirm":true,"coupon":"MIN50")"), 400, "coupon_min_spend", ""},
      {Pay("10.00", R"("confirm":true,"coupon":"OLD")"), 400, "coupon_expired", ""},
      {Pay("10.00",
           R"("confirm":true,"splits":[{"account_id":"201","amount":"8.00"}],"platform_fee":{"account_id":"203","amount":"3.00"})"),
       400, "splits_exceed_amount", ""},
      {Pay("10.00", R"("confirm":true,"splits":[{"account_id":"999","basis_points":10}])"), 404,
       "account_not_found", "splits[0].account_id"},
      {Pay("10.00", R"("confirm":true,"source_account_id":"104")"), 400, "",
       ""},  // not one of customer 7's
  };
  for (const Case& k : cases) {
    const HttpResponse r = c->Post("/v1/payments", k.body);
    EXPECT_EQ(r.result_int(), k.status) << k.body << " → " << r.body();
    if (!k.code.empty()) {
      EXPECT_EQ(ErrorCode(r), k.code) << r.body();
    }
    if (!k.param.empty()) {
      EXPECT_EQ(JsonOf(r).at("error").at("param").as_string(), k.param) << r.body();
    }
  }
  ASSERT_EQ(Str(Create(*c, Pay("5.00", R"("confirm":true,"coupon":"ONCE")")), "status"),
            "succeeded");
  const HttpResponse twice =
      c->Post("/v1/payments", Pay("5.00", R"("confirm":true,"coupon":"ONCE")"));
  EXPECT_EQ(ErrorCode(twice), "coupon_redeemed") << twice.body();
  EXPECT_EQ(JsonOf(c->Get("/v1/coupons/ONCE")).at("redemptions").to_number<uint64_t>(), 1u);
  // A source whose account holds another asset than it claims.
  const HttpResponse mismatch = admin->Send(http::verb::put, "/v1/customers/9",
                                            R"({"sources":[{"account_id":"101","asset":"USD"}]})");
  EXPECT_EQ(mismatch.result_int(), 400u) << mismatch.body();
  EXPECT_EQ(ErrorCode(mismatch), "account_asset_mismatch");
  EXPECT_EQ(JsonOf(mismatch).at("error").at("param").as_string(), "sources[0].account_id");
}

TEST_F(PaymentsApiTest, AnUncapturedHoldExpiresAndCancelsThePayment) {
  auto c = Client(merchant_);
  const bj::value held = Create(
      *c, Pay("5.00", R"("capture_method":"manual","hold_timeout_seconds":1,"confirm":true)"));
  ASSERT_EQ(Str(held, "status"), "requires_capture") << bj::serialize(held);
  const std::string id = Str(held, "id");
  bj::value now;
  for (int i = 0; i < 100; ++i) {  // the engine expires holds on its own timer; wait up to 10 s
    now = JsonOf(c->Get("/v1/payments/" + id));
    if (Str(now, "status") == "canceled") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(Str(now, "status"), "canceled") << bj::serialize(now);
  EXPECT_EQ(Str(now, "cancellation_reason"), "expired");
  EXPECT_EQ(Balance(*c, "100"), (std::pair<int64_t, int64_t>{1'000'000, 0}));  // released
  const HttpResponse late = c->Post("/v1/payments/" + id + "/capture", "");
  EXPECT_EQ(late.result_int(), 409u) << late.body();
}

TEST_F(PaymentsApiTest, HostilePathsAndQueriesAreRefused) {
  auto c = Client(admin_);
  const std::pair<http::verb, std::string> targets[] = {
      {http::verb::get, "/v1/payments/%ff"},
      {http::verb::get, "/v1/payments/pay_99999999999999999999999"},
      {http::verb::get, "/v1/payments/pay_1?x=1"},
      {http::verb::get, "/v1/payments?limit=99999999999999999999"},
      {http::verb::get, "/v1/payments?status=%"},
      {http::verb::get, "/v1/payments/pay_-1/refunds"},
      {http::verb::get, "/v1/customers/-1"},
      {http::verb::get, "/v1/customers/0"},
      {http::verb::get, "/v1/coupons/a%2Fb"},
      {http::verb::get, "/v1/coupons/" + std::string(40, 'A')},
      {http::verb::get, "/v1/fx/quotes/abc"},
      {http::verb::get, "/v1/fx/rates?limit=1"},
      {http::verb::put, "/v1/fx/accounts/XYZ"},
      {http::verb::put, "/v1/customers/" + std::string(50, '9')},
  };
  for (const auto& [method, target] : targets) {
    const HttpResponse r =
        c->Send(method, target, method == http::verb::put ? R"({"account_id":"1"})" : "");
    EXPECT_EQ(r.result_int(), 400u) << target << " → " << r.body();
    EXPECT_FALSE(JsonOf(r).at("error").at("param").is_null()) << target;
  }
}

// ---- Idempotency ------------------------------------------------------------------------------

TEST_F(PaymentsApiTest, EveryPostIsIdempotent) {
  auto admin = Client(admin_);
  ASSERT_EQ(
      admin
          ->Send(
              http::verb::put, "/v1/fx/rates",
              R"({"rates":[{"from_asset":"USD","to_asset":"EUR","rate":"0.9","source":"desk","as_of":"1"}]})")
          .result_int(),
      200u);
  auto c = Client(merchant_);
  const std::string held = PaymentIn(*c, "requires_capture");
  const std::string fresh = PaymentIn(*c, "requires_confirmation");
  const std::string paid = PaymentIn(*c, "succeeded");
  const std::string to_cancel = PaymentIn(*c, "requires_confirmation");
  struct Case {
    std::string target;
    std::string body;
    std::string other_body;
  };
  const Case cases[] = {
      {"/v1/payments", Pay("3.00"), Pay("3.01")},
      {"/v1/payments/" + fresh + "/confirm", "{}", R"({"cvm_performed":"pin"})"},
      {"/v1/payments/" + held + "/capture", R"({"amount_to_capture":"1.00"})", "{}"},
      {"/v1/payments/" + to_cancel + "/cancel", "{}", R"({"cancellation_reason":"duplicate"})"},
      {"/v1/payments/" + paid + "/refunds", R"({"amount":"1.00"})", R"({"amount":"2.00"})"},
      {"/v1/coupons", R"({"code":"IDEM","percent_off_bps":5})",
       R"({"code":"IDEM","percent_off_bps":6})"},
      {"/v1/fx/quotes", R"({"from_asset":"USD","to_asset":"EUR"})",
       R"({"from_asset":"USD","to_asset":"EUR","ttl_seconds":9})"},
  };
  int n = 0;
  for (const Case& k : cases) {
    c->SetHeader("Idempotency-Key", "key-" + std::to_string(++n));
    const HttpResponse first = c->Post(k.target, k.body);
    ASSERT_LT(first.result_int(), 300u) << k.target << " " << first.body();
    const HttpResponse replay = c->Post(k.target, k.body);
    EXPECT_EQ(replay.result_int(), first.result_int()) << k.target;
    EXPECT_EQ(replay.body(), first.body()) << k.target;
    EXPECT_EQ(replay["Idempotent-Replayed"], "true") << k.target;
    const HttpResponse other = c->Post(k.target, k.other_body);
    EXPECT_EQ(other.result_int(), 422u) << k.target;
    EXPECT_EQ(ErrorCode(other), "idempotency_key_reused") << k.target;
  }
  c->SetHeader("Idempotency-Key", "");
  // One payment was created under the key, not two; one refund, not two.
  EXPECT_EQ(JsonOf(c->Get("/v1/payments/" + paid + "/refunds")).at("data").as_array().size(), 1u);
  EXPECT_EQ(JsonOf(c->Get("/v1/payments?limit=100")).at("data").as_array().size(), 5u);
}

TEST_F(PaymentsApiTest, ADeclineIsReplayedUnderItsKey) {
  auto admin = Client(admin_);
  PutRules(*admin);
  auto c = Client(merchant_);
  c->SetHeader("Idempotency-Key", "declined-once");
  const std::string body = Pay("5.00", R"("confirm":true,"risk":{"device":"666"})");
  const HttpResponse first = c->Post("/v1/payments", body);
  ASSERT_EQ(first.result_int(), 402u);
  const HttpResponse replay = c->Post("/v1/payments", body);
  EXPECT_EQ(replay.result_int(), 402u);
  EXPECT_EQ(replay.body(), first.body());
  EXPECT_EQ(replay["Idempotent-Replayed"], "true");
}

TEST_F(PaymentsApiTest, ConcurrentRequestsUnderOneKeyRunOnce) {
  constexpr int kThreads = 8;
  std::vector<unsigned> statuses(kThreads);
  std::vector<std::string> bodies(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto c = Client(merchant_);
      c->SetHeader("Idempotency-Key", "same-key");
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      const HttpResponse r = c->Post("/v1/payments", Pay("4.00", R"("confirm":true)"));
      statuses[static_cast<size_t>(i)] = r.result_int();
      bodies[static_cast<size_t>(i)] = r.body();
    });
  }
  for (std::thread& t : threads) t.join();
  std::string created;
  for (int i = 0; i < kThreads; ++i) {
    const unsigned s = statuses[static_cast<size_t>(i)];
    ASSERT_TRUE(s == 201 || s == 409) << s << " " << bodies[static_cast<size_t>(i)];
    if (s != 201) continue;
    if (created.empty()) created = bodies[static_cast<size_t>(i)];
    EXPECT_EQ(bodies[static_cast<size_t>(i)], created);  // a replay of the one that ran
  }
  auto c = Client(merchant_);
  EXPECT_EQ(JsonOf(c->Get("/v1/payments")).at("data").as_array().size(), 1u);
  EXPECT_EQ(Balance(*c, "200").first, 400);
}

// ---- Races ------------------------------------------------------------------------------------

TEST_F(PaymentsApiTest, ConcurrentCapturesSucceedExactlyOnce) {
  auto c = Client(merchant_);
  const std::string id = PaymentIn(*c, "requires_capture");
  constexpr int kThreads = 16;
  std::vector<unsigned> statuses(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto mine = Client(merchant_);
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      statuses[static_cast<size_t>(i)] =
          mine->Post("/v1/payments/" + id + "/capture", "").result_int();
    });
  }
  for (std::thread& t : threads) t.join();
  int succeeded = 0;
  for (const unsigned s : statuses) {
    if (s == 200)
      ++succeeded;
    else
      EXPECT_EQ(s, 409u);
  }
  EXPECT_EQ(succeeded, 1);
  EXPECT_EQ(Balance(*c, "200").first, 500);  // captured once
}

// ---- Hostile input ----------------------------------------------------------------------------

TEST_F(PaymentsApiTest, HostileBodiesAreRefusedOnEveryEndpoint) {
  auto c = std::make_unique<TestClient>(port());
  c->UseKey(admin_);
  const std::string id = PaymentIn(*c, "requires_capture");
  const std::pair<http::verb, std::string> endpoints[] = {
      {http::verb::post, "/v1/payments"},
      {http::verb::post, "/v1/payments/" + id + "/confirm"},
      {http::verb::post, "/v1/payments/" + id + "/capture"},
      {http::verb::post, "/v1/payments/" + id + "/cancel"},
      {http::verb::post, "/v1/payments/" + id + "/refunds"},
      {http::verb::put, "/v1/customers/9"},
      {http::verb::post, "/v1/coupons"},
      {http::verb::put, "/v1/points/program"},
      {http::verb::put, "/v1/fx/rates"},
      {http::verb::post, "/v1/fx/quotes"},
      {http::verb::put, "/v1/fx/accounts/USD"},
  };
  const std::string hostile[] = {
      "{\"amount\":",                                                    // truncated
      "{\"amount\" \"1\"}",                                              // malformed
      "[1,2,3]",                                                         // not an object
      "{\"amount\":1.5}",                                                // a float
      "{\"amount\":\"-1.00\"}",                                          // negative
      "{\"amount_minor\":\"340282366920938463463374607431768211456\"}",  // overflow
      std::string(64, '[') + std::string(64, ']'),                       // deep
      "{\"description\":\"\xc3\x28\"}",                                  // invalid UTF-8
      "{\"zzz\":true}",                                                  // unknown field
  };
  for (const auto& [method, target] : endpoints) {
    for (const std::string& body : hostile) {
      const HttpResponse r = c->Send(method, target, body);
      EXPECT_EQ(r.result_int(), 400u) << target << " " << body << " → " << r.body();
      EXPECT_EQ(JsonOf(r).at("error").at("type").as_string(), "invalid_request_error");
    }
    const HttpResponse text = c->Send(method, target, "{}", "text/plain");
    EXPECT_EQ(text.result_int(), 415u) << target;
    const HttpResponse big =
        c->Send(method, target, "{\"x\":\"" + std::string(70 * 1024, 'a') + "\"}");
    EXPECT_EQ(big.result_int(), 413u) << target;
    c = std::make_unique<TestClient>(port());  // the server closes a connection after a 413
    c->UseKey(admin_);
  }
  // Nothing moved: the payment is still held, nothing else was created.
  EXPECT_EQ(Str(JsonOf(c->Get("/v1/payments/" + id)), "status"), "requires_capture");
  EXPECT_EQ(JsonOf(c->Get("/v1/payments")).at("data").as_array().size(), 1u);
}

// ---- Scopes -----------------------------------------------------------------------------------

TEST_F(PaymentsApiTest, ScopesDecideWhoMayDoWhat) {
  auto merchant = Client(merchant_);
  auto auditor = Client(auditor_);
  const std::string id = PaymentIn(*merchant, "succeeded");
  EXPECT_EQ(auditor->Get("/v1/payments/" + id).result_int(), 200u);
  EXPECT_EQ(auditor->Get("/v1/payments").result_int(), 200u);
  EXPECT_EQ(auditor->Get("/v1/customers/7").result_int(), 200u);
  EXPECT_EQ(auditor->Post("/v1/payments", Pay("1.00")).result_int(), 403u);
  EXPECT_EQ(auditor->Post("/v1/payments/" + id + "/refunds", "").result_int(), 403u);
  EXPECT_EQ(merchant->Send(http::verb::put, "/v1/customers/7", kCustomer7).result_int(), 403u);
  EXPECT_EQ(merchant->Send(http::verb::put, "/v1/fx/rates", "{}").result_int(), 403u);
  EXPECT_EQ(merchant->Send(http::verb::put, "/v1/points/program", "{}").result_int(), 403u);
  EXPECT_EQ(merchant->Send(http::verb::put, "/v1/fx/accounts/USD", "{}").result_int(), 403u);
  const std::string terminal_key = testing::MakeApiKey(*engine_, Scope::terminal);
  EXPECT_EQ(Client(terminal_key)->Get("/v1/payments/" + id).result_int(), 403u);
}

// ---- Durability -------------------------------------------------------------------------------

TEST_F(PaymentsApiTest, RestartKeepsPaymentsAndConfiguration) {
  auto c = Client(merchant_);
  const std::string held = PaymentIn(*c, "requires_capture");
  const std::string paid = PaymentIn(*c, "succeeded");
  ASSERT_EQ(c->Post("/v1/payments/" + paid + "/refunds", R"({"amount":"1.00"})").result_int(),
            201u);
  const std::string before_held = c->Get("/v1/payments/" + held).body();
  const std::string before_paid = c->Get("/v1/payments/" + paid).body();
  const std::string before_list = c->Get("/v1/payments").body();
  const std::string before_customer = c->Get("/v1/customers/7").body();
  Restart();
  auto after = Client(merchant_);
  EXPECT_EQ(after->Get("/v1/payments/" + held).body(), before_held);
  EXPECT_EQ(after->Get("/v1/payments/" + paid).body(), before_paid);
  EXPECT_EQ(after->Get("/v1/payments").body(), before_list);
  EXPECT_EQ(after->Get("/v1/customers/7").body(), before_customer);
  // The hold survived too: it can be captured after the restart, and numbering goes on.
  const HttpResponse captured = after->Post("/v1/payments/" + held + "/capture", "");
  ASSERT_EQ(captured.result_int(), 200u) << captured.body();
  const std::string next = Str(Create(*after, Pay("1.00")), "id");
  EXPECT_NE(next, held);
  EXPECT_NE(next, paid);
}

// Payment events go to the outbox (format 2) and read as the payment API's own JSON in the events
// list (and so in webhooks and the stream); replay rebuilds them identically.
TEST_F(PaymentsApiTest, PaymentEventsReachTheOutboxAsPaymentJsonAndSurviveARestart) {
  auto c = Client(merchant_);
  const std::string paid = PaymentIn(*c, "succeeded");
  auto admin = Client(admin_);
  const HttpResponse listed = admin->Get("/v1/events?type=payment.succeeded");
  ASSERT_EQ(listed.result_int(), 200u) << listed.body();
  const bj::value page = JsonOf(listed);
  const bj::array& events = page.at("events").as_array();
  ASSERT_EQ(events.size(), 1u) << listed.body();
  EXPECT_EQ(Str(events[0], "type"), "payment.succeeded");
  EXPECT_EQ(events[0].at("data"), JsonOf(c->Get("/v1/payments/" + paid)));
  const HttpResponse created = admin->Get("/v1/events?type=payment.created");
  EXPECT_EQ(JsonOf(created).at("events").as_array().size(), 1u) << created.body();
  const std::string before = admin->Get("/v1/events?limit=100").body();
  Restart();
  EXPECT_EQ(Client(admin_)->Get("/v1/events?limit=100").body(), before);
}

}  // namespace
}  // namespace tpw::api
