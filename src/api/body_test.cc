// The request decoders on their own: routes, bodies, path ids and query strings.
#include <gtest/gtest.h>

#include "api/body.h"
#include "api/router.h"

namespace tpw::api {
namespace {

const AssetTable kAssets = AssetTable::Default();

TEST(RouterTest, MatchesEveryRouteAndItsId) {
  EXPECT_EQ(MatchRoute(http::verb::post, "/v1/accounts").route, Route::accounts_create);
  const RouteMatch m = MatchRoute(http::verb::get, "/v1/accounts/0x1f/transfers?limit=2");
  EXPECT_EQ(m.route, Route::account_transfers);
  EXPECT_EQ(m.id, "0x1f");
  EXPECT_EQ(m.query, "limit=2");
  EXPECT_EQ(MatchRoute(http::verb::post, "/v1/transfers/batch").route, Route::transfers_batch);
  EXPECT_EQ(MatchRoute(http::verb::get, "/v1/transfers/7").route, Route::transfer_get);
  EXPECT_EQ(MatchRoute(http::verb::get, "/v1/journal/head").route, Route::journal_head);
}

TEST(RouterTest, WrongMethodNamesTheAllowedOne) {
  const RouteMatch m = MatchRoute(http::verb::put, "/v1/accounts/1");
  EXPECT_EQ(m.route, Route::unmatched);
  EXPECT_TRUE(m.method_not_allowed);
  EXPECT_EQ(m.allow, http::verb::get);
}

TEST(RouterTest, NearMissesAreUnmatched) {
  for (const char* target : {"/", "", "/v1", "/v1/", "/v1/accounts/", "/v1//accounts",
                             "/v1/accounts/1/transfers/2", "/v1/journal", "/healthz/",
                             "/v1/accounts/1/x", "/a/b/c/d/e/f"}) {
    const RouteMatch m = MatchRoute(http::verb::get, target);
    EXPECT_EQ(m.route, Route::unmatched) << target;
    EXPECT_FALSE(m.method_not_allowed) << target;
  }
}

TEST(BodyTest, TransferBodyReadsAmountsAsExactDecimals) {
  auto draft = DecodeTransferBody(
      R"({"id":"1","debit_account_id":"1","credit_account_id":"2","amount":"0.10","ledger":"USD","code":1})",
      kAssets);
  ASSERT_TRUE(draft.ok());
  ASSERT_TRUE(draft.value().amount.has_value());
  EXPECT_EQ(draft.value().amount->text, "0.10");
}

TEST(BodyTest, BatchKeyMustBeTheOnlyKey) {
  EXPECT_FALSE(DecodeAccountsBody(R"({"transfers":[{}]})", kAssets).ok());
  EXPECT_FALSE(DecodeAccountsBody(R"({"accounts":{}})", kAssets).ok());
  EXPECT_FALSE(DecodeAccountsBody(R"({"accounts":[1]})", kAssets).ok());
  EXPECT_TRUE(DecodeAccountsBody(R"({"accounts":[{"id":"1","ledger":1,"code":1}]})", kAssets).ok());
}

TEST(BodyTest, RepeatedKeyIsNamed) {
  auto r = DecodeAccountsBody(R"({"accounts":[{"id":"1","code":1,"code":2}]})", kAssets);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "code");
}

TEST(QueryTest, CursorMovesTheLowerBoundPastTheLastRow) {
  auto q = DecodeAccountQuery("1", "after=100&limit=5", true);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.value().filter.timestamp_min.ns, 101u);
  EXPECT_EQ(q.value().filter.limit, 5u);
  auto reversed = DecodeAccountQuery("1", "after=100&reverse=true", true);
  ASSERT_TRUE(reversed.ok());
  EXPECT_EQ(reversed.value().filter.timestamp_max.ns, 99u);
}

TEST(QueryTest, LimitAloneIsRead) {
  auto q = DecodeAccountQuery("1", "limit=2&after=1717000000000000005", true);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q.value().filter.limit, 2u);
}

TEST(QueryTest, PercentEncodedTimesAreDecoded) {
  auto q = DecodeAccountQuery("1", "from=2024-01-31T12%3A00%3A00Z", false);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_NE(q.value().filter.timestamp_min.ns, 0u);
}

TEST(QueryTest, BadParametersNameThemselves) {
  EXPECT_EQ(DecodeAccountQuery("1", "limit=9999", true).error().param, "limit");
  EXPECT_EQ(DecodeAccountQuery("1", "from=yesterday", true).error().param, "from");
  EXPECT_EQ(DecodeAccountQuery("0xZZ", "", true).error().param, "id");
  EXPECT_EQ(DecodeAccountQuery("1", "debits", true).error().param, "debits");
  EXPECT_EQ(DecodeAccountQuery("1", "from=2&to=1", true).error().code, "invalid_parameter");
}

}  // namespace
}  // namespace tpw::api
