// The payment endpoints' decoders and renderers on their own (no server): routes, every body,
// path id and query, strict and hostile input, and the JSON of each record.
#include "api/payments_body.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <random>

#include "api/payments_json.h"
#include "api/router.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
namespace pay = payments;

const AssetTable kAssets = AssetTable::Default();
constexpr uint32_t kUsd = 1;

ApiResult<PaymentsCall> Decode(Route route, std::string_view body, std::string_view id = "",
                               std::string_view query = "") {
  return DecodePaymentsRequest(route, id, query, body, kAssets);
}

// The param of a refused decode ("" if it was accepted).
std::string ParamOf(const ApiResult<PaymentsCall>& r) { return r.ok() ? "<ok>" : r.error().param; }

constexpr std::string_view kCreate =
    R"({"amount":"12.34","asset":"USD","merchant_account_id":"100","customer":"7"})";

// kCreate with `extra` members added at the end ("" adds nothing).
std::string CreateWith(std::string_view extra) {
  std::string body(kCreate);
  body.pop_back();
  body += ",";
  body += extra;
  body += "}";
  return body;
}

// ---- Routes ---------------------------------------------------------------------------------

TEST(PaymentsRouteTest, MatchesEveryPaymentsRouteAndItsId) {
  struct Case {
    http::verb method;
    std::string_view target;
    Route route;
    std::string_view id;
  };
  const Case cases[] = {
      {http::verb::post, "/v1/payments", Route::payments_create, ""},
      {http::verb::get, "/v1/payments?limit=2", Route::payments_list, ""},
      {http::verb::get, "/v1/payments/pay_12", Route::payment_get, "pay_12"},
      {http::verb::post, "/v1/payments/pay_12/confirm", Route::payment_confirm, "pay_12"},
      {http::verb::post, "/v1/payments/pay_12/capture", Route::payment_capture, "pay_12"},
      {http::verb::post, "/v1/payments/pay_12/cancel", Route::payment_cancel, "pay_12"},
      {http::verb::post, "/v1/payments/pay_12/refunds", Route::payment_refund, "pay_12"},
      {http::verb::get, "/v1/payments/pay_12/refunds", Route::payment_refunds, "pay_12"},
      {http::verb::put, "/v1/customers/7", Route::customer_put, "7"},
      {http::verb::get, "/v1/customers/7", Route::customer_get, "7"},
      {http::verb::post, "/v1/coupons", Route::coupons_create, ""},
      {http::verb::get, "/v1/coupons/WELCOME5", Route::coupon_get, "WELCOME5"},
      {http::verb::put, "/v1/points/program", Route::points_program_put, ""},
      {http::verb::get, "/v1/points/program", Route::points_program_get, ""},
      {http::verb::put, "/v1/fx/rates", Route::fx_rates_put, ""},
      {http::verb::get, "/v1/fx/rates", Route::fx_rates_get, ""},
      {http::verb::post, "/v1/fx/quotes", Route::fx_quotes_create, ""},
      {http::verb::get, "/v1/fx/quotes/fxq_3", Route::fx_quote_get, "fxq_3"},
      {http::verb::put, "/v1/fx/accounts/EUR", Route::fx_account_put, "EUR"},
  };
  for (const Case& c : cases) {
    const RouteMatch m = MatchRoute(c.method, c.target);
    EXPECT_EQ(m.route, c.route) << c.target;
    EXPECT_EQ(m.id, c.id) << c.target;
    EXPECT_TRUE(IsPaymentsRoute(c.route)) << c.target;
    EXPECT_EQ(RouteMethod(c.route), c.method) << c.target;
  }
  EXPECT_FALSE(IsPaymentsRoute(Route::risk_list_remove));
  EXPECT_FALSE(IsPaymentsRoute(Route::transfers_create));
}

TEST(PaymentsRouteTest, WrongMethodOrNearMissIsRefused) {
  const RouteMatch del = MatchRoute(http::verb::delete_, "/v1/payments/pay_1");
  EXPECT_TRUE(del.method_not_allowed);
  EXPECT_EQ(del.allow, http::verb::get);
  EXPECT_TRUE(MatchRoute(http::verb::get, "/v1/payments/pay_1/capture").method_not_allowed);
  EXPECT_TRUE(MatchRoute(http::verb::post, "/v1/customers/7").method_not_allowed);
  for (const char* target :
       {"/v1/payments/", "/v1/payments/pay_1/void", "/v1/payments/pay_1/refunds/re_1", "/v1/fx",
        "/v1/fx/", "/v1/fx/rates/x", "/v1/fx/accounts", "/v1/points", "/v1/points/x",
        "/v1/customers", "/v1/coupons/a/b"}) {
    const RouteMatch m = MatchRoute(http::verb::get, target);
    EXPECT_EQ(m.route, Route::unmatched) << target;
    EXPECT_FALSE(m.method_not_allowed) << target;
  }
}

// ---- Create -------------------------------------------------------------------------------

TEST(PaymentsBodyTest, CreateReadsTheRequiredFields) {
  const auto r = Decode(Route::payments_create, kCreate);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const pay::Command& c = r.value().command;
  EXPECT_EQ(c.kind, pay::CommandKind::create_payment);
  EXPECT_EQ(c.amount, Amount::FromMinor(1234));
  EXPECT_EQ(c.asset, kUsd);
  EXPECT_EQ(c.merchant_account, AccountId(100));
  EXPECT_EQ(c.customer, pay::CustomerId(7));
  EXPECT_EQ(c.capture_method, pay::CaptureMethod::automatic);
  EXPECT_FALSE(c.confirm);
}

TEST(PaymentsBodyTest, CreateReadsEveryOption) {
  const auto r = Decode(
      Route::payments_create,
      R"({"amount_minor":"1000","asset":1,"merchant_account_id":"0x64","customer":"7",)"
      R"("capture_method":"manual","description":"order 5","metadata":{"z":"1","a":"2"},)"
      R"("splits":[{"account_id":"200","amount":"1.50"},{"account_id":"201","basis_points":250}],)"
      R"("platform_fee":{"account_id":"300","basis_points":100},"scenario":"transit",)"
      R"("coupon":"WELCOME5","use_points":true,"hold_timeout_seconds":3600,"confirm":true,)"
      R"("source_account_id":"10","quote":"fxq_3","cvm_performed":"pin",)"
      R"("risk":{"device":"5","terminal":"6","merchant_category":5411,"country":"FR",)"
      R"("ip":"203.0.113.7","device_age_seconds":86400}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const pay::Command& c = r.value().command;
  EXPECT_EQ(c.amount, Amount::FromMinor(1000));
  EXPECT_EQ(c.merchant_account, AccountId(100));
  EXPECT_EQ(c.capture_method, pay::CaptureMethod::manual);
  EXPECT_EQ(c.description, "order 5");
  ASSERT_EQ(c.metadata.size(), 2u);
  EXPECT_EQ(c.metadata[0].first, "a");  // stored sorted
  ASSERT_EQ(c.splits.size(), 2u);
  EXPECT_EQ(c.splits[0].amount, Amount::FromMinor(150));
  EXPECT_EQ(c.splits[1].basis_points, 250u);
  EXPECT_EQ(c.platform_fee.account, AccountId(300));
  EXPECT_EQ(c.platform_fee.basis_points, 100u);
  EXPECT_EQ(c.scenario, "transit");
  EXPECT_EQ(c.coupon_code, "WELCOME5");
  EXPECT_TRUE(c.use_points);
  EXPECT_EQ(c.hold_timeout_seconds, 3600u);
  EXPECT_TRUE(c.confirm);
  EXPECT_EQ(c.confirm_options.source_account, AccountId(10));
  EXPECT_EQ(c.confirm_options.quote, pay::QuoteId(3));
  EXPECT_EQ(c.confirm_options.cvm_performed, risk::Cvm::pin);
  EXPECT_EQ(c.confirm_options.risk.device, 5u);
  EXPECT_EQ(c.confirm_options.risk.merchant_category, 5411);
  EXPECT_EQ(c.confirm_options.risk.country, *risk::ParseCountry("FR"));
  EXPECT_EQ(c.confirm_options.risk.device_age_seconds, 86400u);
}

TEST(PaymentsBodyTest, CreateNamesTheFieldAtFault) {
  struct Case {
    std::string body;
    std::string param;
  };
  const Case cases[] = {
      {R"({"asset":"USD","merchant_account_id":"100","customer":"7"})", "amount"},
      {R"({"amount":"1","merchant_account_id":"100","customer":"7"})", "asset"},
      {R"({"amount":"1","asset":"USD","customer":"7"})", "merchant_account_id"},
      {R"({"amount":"1","asset":"USD","merchant_account_id":"100"})", "customer"},
      {CreateWith(R"("colour":"red")"), "colour"},
      {CreateWith(R"("amount_minor":"1234")"), "amount"},
      {R"({"amount":12.34,"asset":"USD","merchant_account_id":"100","customer":"7"})", "amount"},
      {R"({"amount":"12.345","asset":"USD","merchant_account_id":"100","customer":"7"})", "amount"},
      {R"({"amount":"-1","asset":"USD","merchant_account_id":"100","customer":"7"})", "amount"},
      {R"({"amount":"1e3","asset":"USD","merchant_account_id":"100","customer":"7"})", "amount"},
      {R"({"amount":"0","asset":"USD","merchant_account_id":"100","customer":"7"})", "amount"},
      {R"({"amount_minor":"340282366920938463463374607431768211456","asset":"USD","merchant_account_id":"100","customer":"7"})",
       "amount_minor"},
      {R"({"amount":"1","asset":"XYZ","merchant_account_id":"100","customer":"7"})", "asset"},
      {R"({"amount":"1","asset":"USD","merchant_account_id":"-5","customer":"7"})",
       "merchant_account_id"},
      {R"({"amount":"1","asset":"USD","merchant_account_id":100,"customer":"7"})",
       "merchant_account_id"},
      {R"({"amount":"1","asset":"USD","merchant_account_id":"0","customer":"7"})",
       "merchant_account_id"},
      {CreateWith(R"("capture_method":"later")"), "capture_method"},
      {CreateWith(R"("description":")" + std::string(1001, 'x') + "\""), "description"},
      {CreateWith(R"("metadata":{"k":1})"), "metadata.k"},
      {CreateWith(R"("metadata":[])"), "metadata"},
      {CreateWith(R"("splits":{})"), "splits"},
      {CreateWith(R"("splits":[1])"), "splits[0]"},
      {CreateWith(R"("splits":[{"account_id":"200"}])"), "splits[0].amount"},
      {CreateWith(R"("splits":[{"account_id":"200","amount":"1","basis_points":5}])"),
       "splits[0].amount"},
      {CreateWith(R"("splits":[{"account_id":"200","basis_points":10001}])"),
       "splits[0].basis_points"},
      {CreateWith(R"("splits":[{"account_id":"200","basis_points":2.5}])"),
       "splits[0].basis_points"},
      {CreateWith(R"("splits":[{"account_id":"200","basis_points":-1}])"),
       "splits[0].basis_points"},
      {CreateWith(R"("splits":[{"basis_points":1}])"), "splits[0].account_id"},
      {CreateWith(R"("splits":[{"account_id":"200","amount":"1","x":1}])"), "splits[0].x"},
      {CreateWith(R"("platform_fee":{"account_id":"300"})"), "platform_fee.amount"},
      {CreateWith(R"("scenario":"trans it")"), "scenario"},
      {CreateWith(R"("coupon":"")"), "coupon"},
      {CreateWith(R"("use_points":"yes")"), "use_points"},
      {CreateWith(R"("hold_timeout_seconds":0)"), "hold_timeout_seconds"},
      {CreateWith(R"("hold_timeout_seconds":2592001)"), "hold_timeout_seconds"},
      {CreateWith(R"("hold_timeout_seconds":18446744073709551616)"), "hold_timeout_seconds"},
      {CreateWith(R"("confirm":1)"), "confirm"},
      {CreateWith(R"("cvm_performed":"pin")"), "cvm_performed"},
      {CreateWith(R"("risk":{})"), "risk"},
      {CreateWith(R"("confirm":true,"cvm_performed":"retina")"), "cvm_performed"},
      {CreateWith(R"("confirm":true,"quote":"3")"), "quote"},
      {CreateWith(R"("confirm":true,"risk":{"country":"fr"})"), "risk.country"},
      {CreateWith(R"("confirm":true,"risk":{"ip":"999.1.1.1"})"), "risk.ip"},
      {CreateWith(R"("confirm":true,"risk":{"merchant_category":10000})"),
       "risk.merchant_category"},
      {CreateWith(R"("confirm":true,"risk":{"os":"x"})"), "risk.os"},
  };
  for (const Case& c : cases) {
    const auto r = Decode(Route::payments_create, c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().param, c.param) << c.body << " → " << r.error().message;
    EXPECT_EQ(r.error().status, http::status::bad_request) << c.body;
    EXPECT_EQ(r.error().code, "invalid_body") << c.body;
    EXPECT_NE(r.error().message.find(c.param.substr(0, c.param.find('.'))), std::string::npos)
        << "the message names the field: " << r.error().message;
  }
}

TEST(PaymentsBodyTest, MetadataLimitsAreStripes) {
  std::string many = R"("metadata":{)";
  for (int i = 0; i < 51; ++i)
    many += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":\"v\"";
  many += "}";
  EXPECT_EQ(ParamOf(Decode(Route::payments_create, CreateWith(many))), "metadata");
  EXPECT_EQ(ParamOf(Decode(Route::payments_create,
                           CreateWith(R"("metadata":{")" + std::string(41, 'k') + R"(":"v"})"))),
            "metadata");
  EXPECT_FALSE(Decode(Route::payments_create,
                      CreateWith(R"("metadata":{"k":")" + std::string(501, 'v') + "\"}"))
                   .ok());
  EXPECT_TRUE(Decode(Route::payments_create,
                     CreateWith(R"("metadata":{"k":")" + std::string(500, 'v') + "\"}"))
                  .ok());
}

TEST(PaymentsBodyTest, TooManySplitsIsRefused) {
  std::string splits = R"("splits":[)";
  for (int i = 0; i < 17; ++i)
    splits += (i ? "," : "") + std::string(R"({"account_id":"2","basis_points":1})");
  splits += "]";
  EXPECT_EQ(ParamOf(Decode(Route::payments_create, CreateWith(splits))), "splits");
}

TEST(PaymentsBodyTest, HostileBodiesAreMalformedJson) {
  const std::string deep = std::string(40, '[') + std::string(40, ']');
  const std::string hostile[] = {
      "",
      "{",
      std::string(kCreate).substr(0, 30),  // truncated
      "{\"amount\":\"1\",}",
      "not json",
      "{\"amount\":\"\xff\xfe\"}",  // invalid UTF-8
      deep,
      "{\"a\":" + std::string(20, '{') + std::string(20, '}') + "}",
      std::string(kCreate) + "x",
  };
  for (const std::string& body : hostile) {
    const auto r = Decode(Route::payments_create, body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, "malformed_json") << body;
  }
  EXPECT_EQ(Decode(Route::payments_create, "[]").error().code, "invalid_body");
  EXPECT_EQ(Decode(Route::payments_create, "null").error().code, "invalid_body");
  const auto repeated = Decode(
      Route::payments_create,
      R"({"amount":"1","amount":"1000","asset":"USD","merchant_account_id":"1","customer":"7"})");
  ASSERT_FALSE(repeated.ok());
  EXPECT_EQ(repeated.error().param, "amount");
}

// ---- Actions -------------------------------------------------------------------------------

TEST(PaymentsBodyTest, ActionsTakeAnEmptyBodyAndThePathId) {
  for (const Route route : {Route::payment_confirm, Route::payment_capture, Route::payment_cancel,
                            Route::payment_refund}) {
    for (const std::string_view body : {"", "{}"}) {
      const auto r = Decode(route, body, "pay_12");
      ASSERT_TRUE(r.ok()) << RouteLabel(route) << " " << r.error().message;
      EXPECT_EQ(r.value().command.payment, pay::PaymentId(12));
      EXPECT_FALSE(r.value().amount_in_payment_asset.has_value());
    }
  }
  const auto capture = Decode(Route::payment_capture, "", "pay_12");
  EXPECT_FALSE(capture.value().command.amount_to_capture.has_value());
  EXPECT_EQ(Decode(Route::payment_cancel, "", "pay_1").value().command.cancel_reason,
            pay::CancelReason::requested_by_customer);
}

TEST(PaymentsBodyTest, PaymentIdsAreCheckedStrictly) {
  for (const char* id : {"12", "pay_", "pay_0", "pay_012", "pay_-1", "PAY_1", "pay_1x",
                         "pay_184467440737095516160", "re_1"}) {
    for (const Route route : {Route::payment_get, Route::payment_capture, Route::payment_refunds}) {
      const auto r = Decode(route, "", id);
      ASSERT_FALSE(r.ok()) << id;
      EXPECT_EQ(r.error().param, "id");
      EXPECT_EQ(r.error().code, "invalid_parameter");
    }
  }
  EXPECT_EQ(Decode(Route::payment_get, "", "pay_18446744073709551615").value().command.payment,
            pay::PaymentId(UINT64_MAX));
}

TEST(PaymentsBodyTest, ConfirmReadsItsOptions) {
  const auto r = Decode(Route::payment_confirm,
                        R"({"source_account_id":"11","coupon":"","use_points":false,)"
                        R"("cvm_performed":"strong","risk":{"device":"9"}})",
                        "pay_3");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const pay::ConfirmOptions& o = r.value().command.confirm_options;
  EXPECT_EQ(o.source_account, AccountId(11));
  EXPECT_EQ(o.coupon_code, std::optional<std::string>(""));  // removes the coupon
  EXPECT_EQ(o.use_points, std::optional<bool>(false));
  EXPECT_EQ(o.cvm_performed, risk::Cvm::strong);
  EXPECT_EQ(o.risk.device, 9u);
  const auto none = Decode(Route::payment_confirm, "{}", "pay_3");
  EXPECT_FALSE(none.value().command.confirm_options.coupon_code.has_value());
  EXPECT_FALSE(none.value().command.confirm_options.use_points.has_value());
  EXPECT_EQ(ParamOf(Decode(Route::payment_confirm, R"({"coupon":"a b"})", "pay_3")), "coupon");
  EXPECT_EQ(ParamOf(Decode(Route::payment_confirm, R"({"amount":"1"})", "pay_3")), "amount");
}

TEST(PaymentsBodyTest, CaptureAmountInMinorUnitsIsReadAtOnce) {
  const auto r = Decode(Route::payment_capture, R"({"amount_to_capture_minor":"500"})", "pay_1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r.value().amount_in_payment_asset.has_value());
  EXPECT_EQ(r.value().command.amount_to_capture, std::optional(Amount::FromMinor(500)));
}

TEST(PaymentsBodyTest, DecimalAmountsWaitForThePaymentsAsset) {
  auto capture = Decode(Route::payment_capture, R"({"amount_to_capture":"5.01"})", "pay_1");
  ASSERT_TRUE(capture.ok());
  ASSERT_TRUE(capture.value().amount_in_payment_asset.has_value());
  ASSERT_FALSE(ResolvePaymentAmount(capture.value(), kUsd, kAssets).has_value());
  EXPECT_EQ(capture.value().command.amount_to_capture, std::optional(Amount::FromMinor(501)));

  auto jpy = Decode(Route::payment_capture, R"({"amount_to_capture":"5.01"})", "pay_1");
  const std::optional<ApiError> error = ResolvePaymentAmount(jpy.value(), 4 /* JPY */, kAssets);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->param, "amount_to_capture");

  auto refund = Decode(Route::payment_refund,
                       R"({"amount":"2.50","reverse_splits":true,"refund_fee":true})", "pay_1");
  ASSERT_TRUE(refund.ok());
  EXPECT_TRUE(refund.value().command.reverse_splits);
  EXPECT_TRUE(refund.value().command.refund_fee);
  ASSERT_FALSE(ResolvePaymentAmount(refund.value(), kUsd, kAssets).has_value());
  EXPECT_EQ(refund.value().command.refund_amount, std::optional(Amount::FromMinor(250)));
}

TEST(PaymentsBodyTest, ActionAmountsAreStrict) {
  const std::pair<Route, std::string> cases[] = {
      {Route::payment_capture, R"({"amount_to_capture":5})"},
      {Route::payment_capture, R"({"amount_to_capture_minor":"-5"})"},
      {Route::payment_capture, R"({"amount_to_capture_minor":"0"})"},
      {Route::payment_capture, R"({"amount_to_capture_minor":"5.0"})"},
      {Route::payment_capture, R"({"amount_to_capture":"1","amount_to_capture_minor":"1"})"},
      {Route::payment_capture, R"({"amount":"1"})"},
      {Route::payment_refund, R"({"amount_minor":"99999999999999999999999999999999999999999"})"},
      {Route::payment_refund, R"({"amount_minor":1})"},
      {Route::payment_refund, R"({"reverse_splits":"true"})"},
      {Route::payment_refund, R"({"reason":"x"})"},
      {Route::payment_cancel, R"({"cancellation_reason":"expired"})"},
      {Route::payment_cancel, R"({"cancellation_reason":"declined_by_risk"})"},
      {Route::payment_cancel, R"({"cancellation_reason":"none"})"},
      {Route::payment_cancel, R"({"cancellation_reason":7})"},
  };
  for (const auto& [route, body] : cases) {
    const auto r = Decode(route, body, "pay_1");
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().status, http::status::bad_request) << body;
    EXPECT_FALSE(r.error().param.empty()) << body;
  }
  EXPECT_EQ(Decode(Route::payment_cancel, R"({"cancellation_reason":"fraudulent"})", "pay_1")
                .value()
                .command.cancel_reason,
            pay::CancelReason::fraudulent);
}

// ---- List ---------------------------------------------------------------------------------

TEST(PaymentsBodyTest, ListReadsFiltersAndCursor) {
  const auto r = Decode(Route::payments_list, "", "",
                        "customer=7&merchant_account_id=100&status=requires_capture&"
                        "starting_after=pay_20&limit=50");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const pay::ListFilter& f = r.value().command.list;
  EXPECT_EQ(f.customer, std::optional(pay::CustomerId(7)));
  EXPECT_EQ(f.merchant_account, std::optional(AccountId(100)));
  EXPECT_EQ(f.state, std::optional(pay::PaymentState::requires_capture));
  EXPECT_EQ(f.starting_after, pay::PaymentId(20));
  EXPECT_EQ(f.limit, 50u);
  EXPECT_EQ(Decode(Route::payments_list, "", "", "").value().command.list.limit,
            pay::kListLimitDefault);
  for (const char* query :
       {"limit=0", "limit=101", "limit=1.5", "limit=-1", "status=paid", "starting_after=20",
        "customer=x", "colour=red", "limit=1&limit=2", "limit", "customer=%zz"}) {
    EXPECT_FALSE(Decode(Route::payments_list, "", "", query).ok()) << query;
  }
  EXPECT_FALSE(Decode(Route::payment_get, "", "pay_1", "x=1").ok());
}

// ---- Customers, coupons, points, FX --------------------------------------------------------

TEST(PaymentsBodyTest, CustomerReadsSourcesAndPreferences) {
  const auto r =
      Decode(Route::customer_put,
             R"({"sources":[{"account_id":"10","asset":"USD","kind":"balance","priority":1},)"
             R"({"account_id":"11","asset":"USD","kind":"transit","tags":["transit"]}]})",
             "7");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const pay::Customer& c = r.value().command.customer_record;
  EXPECT_EQ(c.id, pay::CustomerId(7));
  ASSERT_EQ(c.sources.size(), 2u);
  EXPECT_EQ(c.sources[0].priority, 1u);
  EXPECT_EQ(c.sources[1].kind, pay::SourceKind::transit);
  EXPECT_EQ(c.sources[1].tags, std::vector<std::string>{"transit"});
  EXPECT_EQ(ParamOf(Decode(Route::customer_put, R"({"sources":[{"account_id":"10"}]})", "7")),
            "sources[0].asset");
  EXPECT_EQ(
      ParamOf(Decode(Route::customer_put,
                     R"({"sources":[{"account_id":"10","asset":"USD","kind":"card"}]})", "7")),
      "sources[0].kind");
  EXPECT_EQ(
      ParamOf(Decode(Route::customer_put,
                     R"({"sources":[{"account_id":"10","asset":"USD","tags":["a b"]}]})", "7")),
      "sources[0].tags[0]");
  EXPECT_EQ(ParamOf(Decode(Route::customer_put, R"({"sources":[]})", "0")), "id");
  EXPECT_EQ(ParamOf(Decode(Route::customer_get, "", "abc")), "id");
  EXPECT_EQ(ParamOf(Decode(Route::customer_put, "{}", "7")), "sources");
}

TEST(PaymentsBodyTest, CouponIsFixedOrPercent) {
  const auto fixed = Decode(
      Route::coupons_create,
      R"({"code":"WELCOME5","amount_off":"5.00","asset":"USD","min_spend":"20",)"
      R"("expires_at":"2030-01-01T00:00:00Z","single_use":true,"merchant_account_id":"100"})");
  ASSERT_TRUE(fixed.ok()) << fixed.error().message;
  const pay::Coupon& c = fixed.value().command.coupon;
  EXPECT_EQ(c.code, "WELCOME5");
  EXPECT_EQ(c.kind, pay::CouponKind::fixed);
  EXPECT_EQ(c.amount_off, Amount::FromMinor(500));
  EXPECT_EQ(c.min_spend, Amount::FromMinor(2000));
  EXPECT_EQ(c.expires_at_ms, 1893456000000u);
  EXPECT_TRUE(c.single_use);
  const auto percent = Decode(Route::coupons_create, R"({"code":"TEN","percent_off_bps":1000})");
  ASSERT_TRUE(percent.ok());
  EXPECT_EQ(percent.value().command.coupon.kind, pay::CouponKind::percent);
  EXPECT_EQ(percent.value().command.coupon.asset, 0u);
  EXPECT_EQ(ParamOf(Decode(Route::coupons_create, R"({"code":"X","amount_off":"5"})")), "asset");
  EXPECT_EQ(ParamOf(Decode(Route::coupons_create, R"({"code":"X"})")), "amount_off");
  EXPECT_EQ(
      ParamOf(Decode(Route::coupons_create,
                     R"({"code":"X","amount_off_minor":"5","percent_off_bps":5,"asset":"USD"})")),
      "amount_off");
  EXPECT_EQ(ParamOf(Decode(Route::coupons_create, R"({"code":"X","percent_off_bps":0})")),
            "percent_off_bps");
  EXPECT_EQ(
      ParamOf(Decode(Route::coupons_create, R"({"code":"X","percent_off_bps":5,"min_spend":"1"})")),
      "asset");
  EXPECT_EQ(ParamOf(Decode(Route::coupons_create,
                           R"({"code":"X","percent_off_bps":5,"expires_at":"tomorrow"})")),
            "expires_at");
  EXPECT_EQ(ParamOf(Decode(Route::coupons_create,
                           R"({"code":")" + std::string(33, 'A') + R"(","percent_off_bps":5})")),
            "code");
  EXPECT_EQ(ParamOf(Decode(Route::coupon_get, "", "a%20b")), "code");
  EXPECT_EQ(Decode(Route::coupon_get, "", "WELCOME5").value().command.coupon_code, "WELCOME5");
}

TEST(PaymentsBodyTest, PointsProgramNeedsEveryField) {
  const auto r = Decode(Route::points_program_put,
                        R"({"points_asset":"PTS","money_asset":"USD","points_per_minor_unit":10,)"
                        R"("sink_account_id":"900","funding_account_id":"901"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().command.program.points_per_minor_unit, 10u);
  EXPECT_EQ(r.value().command.program.sink_account, AccountId(900));
  EXPECT_EQ(ParamOf(Decode(Route::points_program_put,
                           R"({"points_asset":"PTS","money_asset":"USD","points_per_minor_unit":0,)"
                           R"("sink_account_id":"900","funding_account_id":"901"})")),
            "points_per_minor_unit");
  EXPECT_EQ(ParamOf(Decode(Route::points_program_put, R"({"points_asset":"PTS"})")), "money_asset");
}

TEST(PaymentsBodyTest, FxRatesQuotesAndAccounts) {
  const auto rates = Decode(Route::fx_rates_put,
                            R"({"rates":[{"from_asset":"EUR","to_asset":"USD","rate":"1.0843",)"
                            R"("source":"ecb","as_of":"2024-05-29T16:00:00Z"}]})");
  ASSERT_TRUE(rates.ok()) << rates.error().message;
  ASSERT_EQ(rates.value().command.rates.size(), 1u);
  EXPECT_EQ(rates.value().command.rates[0].rate, "1.0843");
  EXPECT_EQ(rates.value().command.rates[0].as_of_ms, 1716998400000u);
  for (const char* rate : {"1e3", "-1", "0", "0.0", "1.", ".5", "1.0000000000000000001", "1,5"}) {
    const std::string body = R"({"rates":[{"from_asset":"EUR","to_asset":"USD","rate":")" +
                             std::string(rate) + R"(","source":"ecb","as_of":"1"}]})";
    EXPECT_EQ(ParamOf(Decode(Route::fx_rates_put, body)), "rates[0].rate") << rate;
  }
  EXPECT_EQ(
      ParamOf(Decode(
          Route::fx_rates_put,
          R"({"rates":[{"from_asset":"EUR","to_asset":"EUR","rate":"1","source":"x","as_of":"1"}]})")),
      "rates[0].to_asset");
  EXPECT_EQ(ParamOf(Decode(Route::fx_rates_put, R"({"rates":[]})")), "rates");
  EXPECT_EQ(
      ParamOf(Decode(
          Route::fx_rates_put,
          R"({"rates":[{"from_asset":"EUR","to_asset":"USD","rate":1.08,"source":"x","as_of":"1"}]})")),
      "rates[0].rate");

  const auto quote = Decode(Route::fx_quotes_create, R"({"from_asset":"USD","to_asset":"EUR"})");
  ASSERT_TRUE(quote.ok());
  EXPECT_EQ(quote.value().command.quote_request.ttl_ms, 300'000u);
  EXPECT_EQ(ParamOf(Decode(Route::fx_quotes_create,
                           R"({"from_asset":"USD","to_asset":"EUR","ttl_seconds":0})")),
            "ttl_seconds");
  EXPECT_EQ(ParamOf(Decode(Route::fx_quotes_create,
                           R"({"from_asset":"USD","to_asset":"EUR","max_slippage_bps":10001})")),
            "max_slippage_bps");
  EXPECT_EQ(Decode(Route::fx_quote_get, "", "fxq_3").value().command.quote, pay::QuoteId(3));
  EXPECT_EQ(ParamOf(Decode(Route::fx_quote_get, "", "3")), "id");

  const auto account = Decode(Route::fx_account_put, R"({"account_id":"800"})", "EUR");
  ASSERT_TRUE(account.ok());
  EXPECT_EQ(account.value().command.fx_account.asset, 2u);
  EXPECT_EQ(account.value().command.fx_account.account, AccountId(800));
  EXPECT_EQ(ParamOf(Decode(Route::fx_account_put, R"({"account_id":"800"})", "XYZ")), "asset");
  EXPECT_EQ(ParamOf(Decode(Route::fx_account_put, R"({})", "EUR")), "account_id");
}

// Random bytes into every decoder: a value or a 4xx with a code, message, never a crash.
TEST(PaymentsBodyTest, GarbageNeverCrashesAnyDecoder) {
  std::mt19937_64 random(7);
  const std::string seeds[] = {
      std::string(kCreate), R"({"sources":[{"account_id":"1","asset":"USD"}]})",
      R"({"rates":[{"from_asset":"EUR","to_asset":"USD","rate":"1.1","source":"a","as_of":"1"}]})"};
  for (int i = 0; i < 3000; ++i) {
    std::string body = seeds[static_cast<size_t>(i) % 3];
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int f = 0; f < flips; ++f) body[random() % body.size()] = static_cast<char>(random());
    if (random() % 4 == 0) body.resize(random() % body.size());
    for (const Route route : kPaymentsRoutes) {
      const auto result = Decode(route, body, body.substr(0, 8), body.substr(0, 12));
      if (!result.ok()) {
        EXPECT_EQ(static_cast<unsigned>(result.error().status) / 100, 4u);
        EXPECT_FALSE(result.error().code.empty());
        EXPECT_FALSE(result.error().message.empty());
      }
    }
  }
}

// ---- Rendering ------------------------------------------------------------------------------

pay::Payment SamplePayment() {
  pay::Payment p;
  p.id = pay::PaymentId(12);
  p.amount = Amount::FromMinor(1234);
  p.asset = kUsd;
  p.merchant_account = AccountId(100);
  p.customer = pay::CustomerId(7);
  p.capture_method = pay::CaptureMethod::manual;
  p.metadata = {{"order", "5"}};
  p.splits = {pay::Split{AccountId(200), Amount::FromMinor(150), 0},
              pay::Split{AccountId(201), Amount::Zero(), 250}};
  p.state = pay::PaymentState::succeeded;
  p.funded = true;
  p.funding.source_account = AccountId(10);
  p.funding.source_asset = kUsd;
  p.funding.amount_charged = Amount::FromMinor(1234);
  p.funding.amount_charged_source = Amount::FromMinor(1234);
  p.money_hold = pay::MakeTransferId(p.id, 0, 0);
  p.amount_captured = Amount::FromMinor(1234);
  p.amount_refunded = Amount::FromMinor(100);
  pay::Refund r;
  r.id = pay::RefundId(7);
  r.amount = Amount::FromMinor(100);
  r.attempt = 2;
  r.transfer_count = 1;
  r.created_at_ms = 1717000000000;
  p.refunds.push_back(r);
  p.created_at_ms = 1717000000000;
  p.updated_at_ms = 1717000000001;
  return p;
}

TEST(PaymentsJsonTest, PaymentHasStripeShapeAndExactAmounts) {
  const std::string text = PaymentJson(SamplePayment(), kAssets);
  const bj::value v = bj::parse(text);
  const bj::object& o = v.as_object();
  EXPECT_EQ(o.at("id").as_string(), "pay_12");
  EXPECT_EQ(o.at("object").as_string(), "payment");
  EXPECT_EQ(o.at("amount").as_string(), "12.34");
  EXPECT_EQ(o.at("amount_minor").as_string(), "1234");
  EXPECT_EQ(o.at("asset").as_string(), "USD");
  EXPECT_EQ(o.at("status").as_string(), "succeeded");
  EXPECT_EQ(o.at("customer").as_string(), "7");
  EXPECT_EQ(o.at("amount_refunded").as_string(), "1.00");
  EXPECT_TRUE(o.at("cancellation_reason").is_null());
  EXPECT_EQ(o.at("metadata").at("order").as_string(), "5");
  EXPECT_EQ(o.at("splits").at(1).at("basis_points").as_int64(), 250);
  EXPECT_TRUE(o.at("splits").at(1).at("amount").is_null());
  EXPECT_EQ(o.at("funding").at("source_account_id").as_string(), "10");
  EXPECT_EQ(o.at("refunds").at(0).at("id").as_string(), "re_7");
  EXPECT_EQ(o.at("refunds").at(0).at("transfer_ids").as_array().size(), 1u);
  EXPECT_EQ(o.at("created_time").as_string(), "2024-05-29T16:26:40.000Z");
  EXPECT_EQ(text.find("e+"), std::string::npos);  // no JSON floats anywhere
}

TEST(PaymentsJsonTest, StateRefusalNamesTheStateAndWhatIsAllowed) {
  pay::Reply reply;
  reply.error = pay::PaymentError::payment_state_invalid;
  reply.payment = SamplePayment();
  const HttpResponse r = PaymentErrorResponse(pay::CommandKind::capture_payment, reply, kAssets);
  EXPECT_EQ(r.result(), http::status::conflict);
  const bj::value v = bj::parse(r.body());
  const bj::object& e = v.at("error").as_object();
  EXPECT_EQ(e.at("code").as_string(), "payment_intent_unexpected_state");
  const std::string message(e.at("message").as_string());
  EXPECT_NE(message.find("succeeded"), std::string::npos) << message;
  EXPECT_NE(message.find("requires_capture"), std::string::npos) << message;
  EXPECT_EQ(e.at("payment").at("id").as_string(), "pay_12");
}

TEST(PaymentsJsonTest, EveryPaymentErrorHasAStatusAndCode) {
  for (uint8_t value = 1; value < pay::kPaymentErrorCount; ++value) {
    const pay::PaymentError error = *pay::PaymentErrorFromValue(value);
    const PaymentErrorStatus s = PaymentErrorStatusOf(error);
    const unsigned status = static_cast<unsigned>(s.status);
    EXPECT_TRUE(status >= 400 && status < 500) << pay::PaymentErrorName(error);
    EXPECT_FALSE(s.code.empty());
    pay::Reply reply;
    reply.error = error;
    reply.param = "amount";
    const HttpResponse r = PaymentErrorResponse(pay::CommandKind::create_payment, reply, kAssets);
    const bj::value v = bj::parse(r.body());
    EXPECT_EQ(v.at("error").at("param").as_string(), "amount");
    EXPECT_FALSE(v.at("error").at("message").as_string().empty());
  }
  EXPECT_EQ(PaymentErrorStatusOf(pay::PaymentError::insufficient_funds).status,
            http::status::payment_required);
  EXPECT_EQ(PaymentErrorStatusOf(pay::PaymentError::declined_by_risk).type, "payment_error");
  EXPECT_EQ(PaymentErrorStatusOf(pay::PaymentError::payment_not_found).status,
            http::status::not_found);
}

TEST(PaymentsJsonTest, ResponsesPerRoute) {
  pay::Reply reply;
  reply.payment = SamplePayment();
  reply.refund = pay::RefundId(7);
  EXPECT_EQ(
      PaymentsResponse(Route::payments_create, pay::CommandKind::create_payment, reply, kAssets)
          .result(),
      http::status::created);
  const HttpResponse refund =
      PaymentsResponse(Route::payment_refund, pay::CommandKind::refund_payment, reply, kAssets);
  EXPECT_EQ(refund.result(), http::status::created);
  EXPECT_EQ(bj::parse(refund.body()).at("id").as_string(), "re_7");
  const HttpResponse refunds =
      PaymentsResponse(Route::payment_refunds, pay::CommandKind::get_payment, reply, kAssets);
  EXPECT_EQ(bj::parse(refunds.body()).at("data").as_array().size(), 1u);
  reply.payments = {SamplePayment(), SamplePayment()};
  reply.has_more = true;
  const bj::value list = bj::parse(
      PaymentsResponse(Route::payments_list, pay::CommandKind::list_payments, reply, kAssets)
          .body());
  EXPECT_EQ(list.at("object").as_string(), "list");
  EXPECT_EQ(list.at("data").as_array().size(), 2u);
  EXPECT_TRUE(list.at("has_more").as_bool());
  // A reply without its record is a 500, not a crash.
  EXPECT_EQ(
      PaymentsResponse(Route::customer_get, pay::CommandKind::get_customer, pay::Reply{}, kAssets)
          .result(),
      http::status::internal_server_error);
}

TEST(PaymentsJsonTest, OtherRecordsRender) {
  pay::Customer customer;
  customer.id = pay::CustomerId(7);
  customer.sources = {
      pay::FundingSource{AccountId(10), kUsd, pay::SourceKind::transit, {"transit"}, 1}};
  EXPECT_EQ(bj::parse(CustomerJson(customer, kAssets)).at("sources").at(0).at("kind").as_string(),
            "transit");
  pay::Coupon coupon;
  coupon.code = "TEN";
  coupon.kind = pay::CouponKind::percent;
  coupon.percent_off_bps = 1000;
  const bj::value c = bj::parse(CouponJson(coupon, kAssets));
  EXPECT_TRUE(c.at("amount_off").is_null());
  EXPECT_TRUE(c.at("asset").is_null());
  pay::FxRate rate;
  rate.from_asset = 2;
  rate.to_asset = kUsd;
  rate.rate = *pay::ParseRate("1.0843");
  EXPECT_EQ(bj::parse(FxRateJson(rate, kAssets)).at("rate").as_string(), "1.0843");
  pay::PointsProgram none;
  EXPECT_FALSE(bj::parse(PointsProgramJson(none, kAssets)).at("configured").as_bool());
}

TEST(PaymentsJsonTest, EventJsonOfGarbageIsEmpty) {
  const uint8_t garbage[] = {0xff, 0x00, 0x13};
  EXPECT_EQ(PaymentEventJson(std::span<const uint8_t>(garbage, sizeof garbage)), "");
  EXPECT_EQ(PaymentEventJson(std::span<const uint8_t>()), "");
  pay::Event event;
  event.kind = pay::EventKind::refund_created;
  event.payment = SamplePayment();
  event.refund = pay::RefundId(7);
  EXPECT_EQ(bj::parse(PaymentEventJson(event, kAssets)).at("object").as_string(), "refund");
  event.kind = pay::EventKind::payment_succeeded;
  EXPECT_EQ(bj::parse(PaymentEventJson(event, kAssets)).at("id").as_string(), "pay_12");
}

}  // namespace
}  // namespace tpw::api
