// The JSON of --server: request bodies read back by the API's decoders, and the API's records,
// outcomes and errors read back into ledger records; truncated, malformed and hostile answers
// are errors, never records.
#include "cli/record_json.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstring>

#include "cli/batch_input.h"
#include "cli/outcomes.h"
#include "cli/render.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;
namespace af = ledger::account_flags;
namespace tf = ledger::transfer_flags;

const AssetTable kAssets = AssetTable::Default();

ledger::Account FullAccount() {
  ledger::Account a;
  a.id = AccountId(MakeU128(7, 9));
  a.ledger = 1;
  a.code = 65535;
  a.flags = af::kDebitsMustNotExceedCredits | af::kHistory;
  a.debits_pending = Amount::FromMinor(1);
  a.debits_posted = Amount::FromMinor(MakeU128(1, 0));  // past 2^64
  a.credits_pending = Amount::FromMinor(3);
  a.credits_posted = Amount::FromMinor(4);
  a.overdraft_limit = Amount::FromMinor(1250);
  a.user_data_128 = MakeU128(UINT64_MAX, UINT64_MAX);
  a.user_data_64 = UINT64_MAX;
  a.user_data_32 = UINT32_MAX;
  a.timestamp = Timestamp{UINT64_MAX - 1};
  return a;
}

ledger::Transfer FullTransfer() {
  ledger::Transfer t;
  t.id = TransferId(MakeU128(1, 2));
  t.debit_account_id = AccountId(3);
  t.credit_account_id = AccountId(4);
  t.amount = Amount::FromMinor(MakeU128(5, 6));
  t.user_data_128 = 8;
  t.user_data_64 = 9;
  t.user_data_32 = 10;
  t.timeout = 3600;
  t.ledger = 777;  // no asset: whole minor units
  t.code = 12;
  t.flags = tf::kPending | tf::kLinked;
  t.timestamp = Timestamp{1700000000000000001};
  return t;
}

bool SameAccount(const ledger::Account& a, const ledger::Account& b) {
  return bj::serialize(AccountToJson(a, kAssets)) == bj::serialize(AccountToJson(b, kAssets));
}

TEST(RecordJson, RenderedAccountsReadBackExactly) {
  const ledger::Account a = FullAccount();
  const auto back = AccountFromRecordJson(AccountToJson(a, kAssets));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(bj::serialize(AccountToJson(back.value(), kAssets)),
            bj::serialize(AccountToJson(a, kAssets)));
  EXPECT_EQ(back.value().debits_posted, a.debits_posted);
  EXPECT_EQ(back.value().timestamp, a.timestamp);
}

TEST(RecordJson, RenderedTransfersReadBackWithTheirPendingStatus) {
  const ledger::Transfer t = FullTransfer();
  for (std::optional<ledger::PendingStatus> status :
       {std::optional<ledger::PendingStatus>{}, std::optional{ledger::PendingStatus::expired}}) {
    const auto back = TransferFromRecordJson(TransferToJson(t, status, kAssets));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(std::memcmp(&back.value().transfer, &t, sizeof(t)), 0);
    EXPECT_EQ(back.value().status, status);
  }
}

TEST(RecordJson, RenderedBalancesReadBack) {
  ledger::AccountBalance b;
  b.timestamp = Timestamp{42};
  b.credits_posted = Amount::FromMinor(1234);
  b.debits_pending = Amount::FromMinor(5);
  const auto back = BalanceFromRecordJson(BalanceToJson(b, 1, kAssets));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value().timestamp, b.timestamp);
  EXPECT_EQ(back.value().credits_posted, b.credits_posted);
  EXPECT_EQ(back.value().debits_pending, b.debits_pending);
}

TEST(RecordJson, RequestBodiesAreWhatTheApisDecodersRead) {
  ledger::Account a = FullAccount();
  a.debits_pending = a.debits_posted = a.credits_pending = a.credits_posted = Amount::Zero();
  a.timestamp = Timestamp{};
  const auto account = AccountFromJson(AccountToRequestJson(a), kAssets);
  ASSERT_TRUE(account.ok()) << account.error().message;
  EXPECT_TRUE(SameAccount(account.value(), a));

  ledger::Transfer t = FullTransfer();
  t.timestamp = Timestamp{};
  const auto draft = TransferDraftFromJson(TransferToRequestJson(t), kAssets);
  ASSERT_TRUE(draft.ok()) << draft.error().message;
  const auto resolved = ResolveTransferDrafts({draft.value()}, {}, kAssets);
  ASSERT_TRUE(resolved.ok()) << resolved.error().message;
  EXPECT_EQ(std::memcmp(&resolved.value()[0], &t, sizeof(t)), 0);
}

TEST(RecordJson, APostOfTheFullAmountAndAVoidCarryNoAmount) {
  ledger::Transfer post;
  post.id = TransferId(2);
  post.pending_id = TransferId(1);
  post.flags = tf::kPostPendingTransfer;
  post.amount = ledger::kPostFullAmount;
  EXPECT_FALSE(TransferToRequestJson(post).contains("amount_minor"));
  const auto draft = TransferDraftFromJson(TransferToRequestJson(post), kAssets);
  ASSERT_TRUE(draft.ok());
  EXPECT_EQ(ResolveTransferDrafts({draft.value()}, {}, kAssets).value()[0].amount,
            ledger::kPostFullAmount);
  ledger::Transfer void_transfer = post;
  void_transfer.flags = tf::kVoidPendingTransfer;
  void_transfer.amount = Amount::Zero();
  EXPECT_FALSE(TransferToRequestJson(void_transfer).contains("amount_minor"));
}

TEST(RecordJson, OutcomesReadBackIntoSparseResults) {
  std::vector<ledger::Transfer> transfers(3, FullTransfer());
  const std::vector<ledger::CreateTransfersResult> sparse = {
      {1, ledger::CreateTransferResult::exists},
      {2, ledger::CreateTransferResult::exceeds_credits}};
  const bj::object json = OutcomesToJson("transfer", TransferOutcomes(transfers, {}, sparse));
  const auto back = TransferResultsFromJson(json, 3);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back.value().size(), 2u);
  EXPECT_EQ(back.value()[0].index, 1u);
  EXPECT_EQ(back.value()[0].result, ledger::CreateTransferResult::exists);
  EXPECT_EQ(back.value()[1].result, ledger::CreateTransferResult::exceeds_credits);
  // The answer of another batch size is refused.
  EXPECT_FALSE(TransferResultsFromJson(json, 2).ok());
}

TEST(RecordJson, HostileOutcomesAreRefused) {
  std::vector<ledger::Account> accounts(2, FullAccount());
  const bj::object good = OutcomesToJson("account", AccountOutcomes(accounts, {}, {}));
  auto mutate = [&good](auto change) {
    bj::value copy = good;
    change(copy.as_object());
    return AccountResultsFromJson(copy, 2);
  };
  EXPECT_TRUE(mutate([](bj::object&) {}).ok());
  EXPECT_FALSE(mutate([](bj::object& o) { o.erase("results"); }).ok());
  EXPECT_FALSE(mutate([](bj::object& o) { o["results"] = "x"; }).ok());
  EXPECT_FALSE(mutate([](bj::object& o) { o["events"] = -1; }).ok());
  EXPECT_FALSE(mutate([](bj::object& o) {
                 o["results"].as_array()[1].as_object()["result"] = "exists";  // code says 0
               }).ok());
  EXPECT_FALSE(mutate([](bj::object& o) {
                 o["results"].as_array()[1].as_object()["result_code"] = 9999;
               }).ok());
  EXPECT_FALSE(mutate([](bj::object& o) {
                 o["results"].as_array()[0].as_object()["index"] = 1;  // out of order
               }).ok());
  EXPECT_FALSE(AccountResultsFromJson(bj::value(nullptr), 2).ok());
}

TEST(RecordJson, TruncatedOrAlteredRecordsAreRefusedNamingTheField) {
  const bj::object good = TransferToJson(FullTransfer(), ledger::PendingStatus::pending, kAssets);
  for (const auto& entry : good) {
    // The decimal amount, the asset code and the UTC time are for people; the minor units, the
    // ledger number and the timestamp are read.
    const std::string_view key(entry.key().data(), entry.key().size());
    if (key == "amount" || key == "asset" || key == "time") continue;
    bj::value copy = good;
    copy.as_object().erase(entry.key());
    const auto back = TransferFromRecordJson(copy);
    ASSERT_FALSE(back.ok()) << "without " << key;
    EXPECT_NE(back.error().message.find(std::string(key)), std::string::npos)
        << back.error().message;
  }
  const std::vector<std::pair<std::string, bj::value>> bad = {
      {"id", bj::value(7)},                // ids are strings
      {"amount_minor", bj::value("1.5")},  // minor units are whole
      {"amount_minor", bj::value("-1")},
      {"amount_minor", bj::value("1e3")},
      {"amount_minor", bj::value("340282366920938463463374607431768211456")},  // 2^128
      {"ledger", bj::value(-1)},
      {"ledger", bj::value(1.5)},
      {"code", bj::value(65536)},
      {"flags", bj::value("pending")},
      {"flags", bj::array{"no_such_flag"}},
      {"pending_status", bj::value("maybe")},
      {"timestamp", bj::value("18446744073709551616")},  // 2^64
  };
  for (const auto& [key, value] : bad) {
    bj::value copy = good;
    copy.as_object()[key] = value;
    EXPECT_FALSE(TransferFromRecordJson(copy).ok()) << key << " = " << bj::serialize(value);
  }
  EXPECT_FALSE(AccountFromRecordJson(bj::array{}).ok());
  EXPECT_FALSE(BalanceFromRecordJson(bj::value("x")).ok());
}

TEST(RecordJson, ApiErrorBodiesAreReadOnlyWhenWhole) {
  const auto error = ParseApiErrorBody(
      R"({"error":{"type":"authentication_error","code":"invalid_api_key","message":"m","param":null}})");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "invalid_api_key");
  EXPECT_EQ(error->param, "");
  for (const char* body :
       {"", "<html>502</html>", R"({"error":{"type":"x","code":"y"}})",    // no message
        R"({"error":{"type":"x","code":"y","message":"m","param":null})",  // truncated
        R"({"error":"boom"})", R"([{"error":{}}])",
        R"({"error":{"type":1,"code":"y","message":"m","param":null}})"}) {
    EXPECT_FALSE(ParseApiErrorBody(body).has_value()) << body;
  }
}

}  // namespace
}  // namespace tpw::cli
