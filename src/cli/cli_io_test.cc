// The CLI's text layer: strict values and JSON-lines batch files, valid and hostile.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "cli/batch_input.h"
#include "cli/outcomes.h"
#include "cli/render.h"
#include "cli/values.h"
#include "storage/test_temp_dir.h"

namespace tpw::cli {
namespace {

namespace af = ledger::account_flags;
namespace tf = ledger::transfer_flags;

const AssetTable kAssets = AssetTable::Default();
constexpr uint32_t kUsd = 1;
constexpr uint32_t kJpy = 4;
constexpr uint32_t kUnknownLedger = 777;

TEST(CliValues, AmountsAreExactDecimalsOfTheLedgersAsset) {
  EXPECT_EQ(ParseAmountText("a", "12.34", kUsd, false, kAssets).value().minor(), 1234u);
  EXPECT_EQ(ParseAmountText("a", "12.3", kUsd, false, kAssets).value().minor(), 1230u);
  EXPECT_EQ(ParseAmountText("a", "12", kUsd, false, kAssets).value().minor(), 1200u);
  EXPECT_EQ(ParseAmountText("a", "0", kUsd, false, kAssets).value().minor(), 0u);
  EXPECT_EQ(ParseAmountText("a", "500", kJpy, false, kAssets).value().minor(), 500u);
}

TEST(CliValues, MinorUnitsAreWholeNumbers) {
  EXPECT_EQ(ParseAmountText("a", "1234", kUsd, true, kAssets).value().minor(), 1234u);
  EXPECT_FALSE(ParseAmountText("a", "12.34", kUsd, true, kAssets).ok());
}

TEST(CliValues, LedgerWithoutAssetTakesWholeMinorUnits) {
  EXPECT_EQ(ParseAmountText("a", "1234", kUnknownLedger, false, kAssets).value().minor(), 1234u);
  const auto bad = ParseAmountText("a", "12.34", kUnknownLedger, false, kAssets);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("no asset"), std::string::npos);
}

TEST(CliValues, HostileAmountsAreRefusedWithTheReason) {
  for (const char* text :
       {"12.345", "1e3", "1E3", "1.5e2", "-5", "+5", " 5", "5 ", "1,000", "0x10", ".5", "5.", "",
        "007", "NaN", "inf", "12.34.5", "340282366920938463463374607431768211456"}) {
    const auto parsed = ParseAmountText("--amount", text, kUsd, false, kAssets);
    EXPECT_FALSE(parsed.ok()) << text;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message.find("--amount"), std::string::npos);
    }
  }
  EXPECT_NE(ParseAmountText("a", "1.234", kUsd, false, kAssets)
                .error()
                .message.find("too_many_fraction_digits"),
            std::string::npos);
}

TEST(CliValues, IdsFollowTheTextForm) {
  EXPECT_EQ(ParseIdText("id", "42").value(), u128{42});
  EXPECT_EQ(ParseIdText("id", "0x2A").value(), u128{42});
  for (const char* text : {"", "-1", "2a", "1.0", "1e3", " 1", "0x", "0xg",
                           "340282366920938463463374607431768211456"}) {
    EXPECT_FALSE(ParseIdText("id", text).ok()) << text;
  }
}

TEST(CliValues, UnsignedValuesHaveRanges) {
  EXPECT_EQ(ParseUnsignedText("--code", "65535", UINT16_MAX).value(), 65535u);
  EXPECT_FALSE(ParseUnsignedText("--code", "65536", UINT16_MAX).ok());
  EXPECT_FALSE(ParseUnsignedText("--code", "-1", UINT16_MAX).ok());
  EXPECT_FALSE(ParseUnsignedText("--code", "1.0", UINT16_MAX).ok());
}

TEST(CliValues, LedgerIsANumberOrAnAssetCode) {
  EXPECT_EQ(ParseLedgerText("USD", kAssets).value(), kUsd);
  EXPECT_EQ(ParseLedgerText("4", kAssets).value(), kJpy);
  EXPECT_EQ(ParseLedgerText("777", kAssets).value(), kUnknownLedger);
  for (const char* text : {"usd", "0", "", "XYZ", "4294967296", "-1"}) {
    EXPECT_FALSE(ParseLedgerText(text, kAssets).ok()) << text;
  }
}

TEST(CliValues, FlagNames) {
  const auto names = SplitFlagList("debits_must_not_exceed_credits,history");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(ParseAccountFlagNames(names.value()).value(),
            af::kDebitsMustNotExceedCredits | af::kHistory);
  EXPECT_FALSE(SplitFlagList("history,,closed").ok());
  EXPECT_FALSE(SplitFlagList("").ok());
  EXPECT_FALSE(ParseAccountFlagNames({"histroy"}).ok());
  EXPECT_FALSE(ParseAccountFlagNames({"history", "history"}).ok());
  EXPECT_FALSE(ParseAccountFlagNames({"pending"}).ok());
  EXPECT_EQ(ParseTransferFlagNames({"linked", "pending"}).value(), tf::kLinked | tf::kPending);
  EXPECT_EQ(AccountFlagNames(af::kHistory | af::kClosed),
            (std::vector<std::string>{"history", "closed"}));
}

TEST(CliValues, TimesRoundTripExactly) {
  const Timestamp t{1'700'000'000'123'456'789};
  EXPECT_EQ(FormatTimeUtc(t), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(ParseTimeText("--from", FormatTimeUtc(t)).value(), t);
  EXPECT_EQ(ParseTimeText("--from", "2023-11-14T22:13:20Z").value().ns, 1'700'000'000'000'000'000u);
  EXPECT_EQ(ParseTimeText("--from", "2024-02-29T00:00:00.5Z").value().ns,
            1'709'164'800'500'000'000u);
  EXPECT_EQ(ParseTimeText("--from", "1700000000000000000").value().ns, 1'700'000'000'000'000'000u);
  EXPECT_EQ(FormatTimeUtc(Timestamp{0}), "1970-01-01T00:00:00.000000000Z");
}

TEST(CliValues, HostileTimesAreRefused) {
  for (const char* text :
       {"", "yesterday", "2023-02-29T00:00:00Z", "2023-11-14T24:00:00Z", "2023-11-14T22:13:60Z",
        "2023-11-14 22:13:20Z", "2023-11-14T22:13:20", "2023-11-14T22:13:20+01:00",
        "2023-11-14T22:13:20.1234567890Z", "2023-11-14T22:13:20.Z", "1969-12-31T23:59:59Z",
        "2600-01-01T00:00:00Z", "-1", "18446744073709551616"}) {
    EXPECT_FALSE(ParseTimeText("--from", text).ok()) << text;
  }
}

// ---- Batch lines ----------------------------------------------------------------------------

TEST(CliBatch, AccountLineWithEveryField) {
  const auto a = ParseAccountLine(
      R"({"id":"0x10","ledger":"USD","code":10,"flags":["debits_must_not_exceed_credits"],)"
      R"("overdraft_limit":"5.00","user_data_128":"7","user_data_64":"8","user_data_32":9})",
      kAssets);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a.value().id, AccountId(16));
  EXPECT_EQ(a.value().ledger, kUsd);
  EXPECT_EQ(a.value().code, 10);
  EXPECT_EQ(a.value().flags, af::kDebitsMustNotExceedCredits);
  EXPECT_EQ(a.value().overdraft_limit.minor(), 500u);
  EXPECT_EQ(a.value().user_data_128, u128{7});
  EXPECT_EQ(a.value().user_data_64, 8u);
  EXPECT_EQ(a.value().user_data_32, 9u);
}

TEST(CliBatch, AmountGivenBothWaysIsRefused) {
  const auto parsed = ParseAccountLine(
      R"({"id":"5","ledger":1,"code":3,"flags":["credits_must_not_exceed_debits"],)"
      R"("overdraft_limit":"2.50","overdraft_limit_minor":"250"})",
      kAssets);
  EXPECT_FALSE(parsed.ok());
  const auto minor_only = ParseAccountLine(
      R"({"id":"5","ledger":1,"code":3,"overdraft_limit_minor":"250","timestamp":"0"})", kAssets);
  ASSERT_TRUE(minor_only.ok()) << minor_only.error().message;
  EXPECT_EQ(minor_only.value().overdraft_limit.minor(), 250u);
}

TEST(CliRender, AccountJsonHasExactDecimalAndMinorUnits) {
  ledger::Account account;
  account.id = AccountId(5);
  account.ledger = kUsd;
  account.code = 3;
  account.flags = af::kCreditsMustNotExceedDebits;
  account.overdraft_limit = Amount::FromMinor(250);
  account.user_data_64 = UINT64_MAX;
  const std::string line = boost::json::serialize(AccountToJson(account, kAssets));
  EXPECT_NE(line.find(R"("overdraft_limit":"2.50","overdraft_limit_minor":"250")"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(R"("asset":"USD")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("user_data_64":"18446744073709551615")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("flags":["credits_must_not_exceed_debits"])"), std::string::npos) << line;
}

TEST(CliBatch, TransferLineKeepsTheAmountAsTextUntilItsLedgerIsKnown) {
  const auto d = ParseTransferLine(
      R"({"id":"3","pending_id":"2","flags":["post_pending_transfer"],"amount":"1.50"})", kAssets);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d.value().transfer.pending_id, TransferId(2));
  ASSERT_TRUE(d.value().amount.has_value());
  EXPECT_EQ(ResolveTransferAmount(d.value(), kUsd, kAssets).value().amount.minor(), 150u);
  EXPECT_EQ(ResolveTransferAmount(d.value(), kJpy, kAssets).ok(), false);
}

TEST(CliBatch, PostWithoutAmountPostsEverythingAndVoidSendsZero) {
  const auto post = ParseTransferLine(
      R"({"id":"3","pending_id":"2","flags":["post_pending_transfer"]})", kAssets);
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(ResolveTransferAmount(post.value(), 0, kAssets).value().amount,
            ledger::kPostFullAmount);
  const auto void_line = ParseTransferLine(
      R"({"id":"4","pending_id":"2","flags":["void_pending_transfer"]})", kAssets);
  ASSERT_TRUE(void_line.ok());
  EXPECT_EQ(ResolveTransferAmount(void_line.value(), 0, kAssets).value().amount, Amount::Zero());
}

TEST(CliBatch, HostileTransferLinesAreRefused) {
  const char* lines[] = {
      R"({"id":"1","debit_account_id":"1","credit_account_id":"2","ledger":1,"code":1})",  // no
                                                                                           // amount
      R"({"id":"1","amount":"1.00","amount":"1000.00"})",          // repeated key
      R"({"id":"1","amount":"1.00","ammount":"1"})",               // unknown key
      R"({"id":1,"amount":"1.00"})",                               // id as a number
      R"({"id":"1","amount":1.5})",                                // amount as a number
      R"({"id":"1","amount":"1.00","code":1.0})",                  // fractional integer
      R"({"id":"1","amount":"1.00","code":1e3})",                  // exponent
      R"({"id":"1","amount":"1.00","code":-1})",                   // negative
      R"({"id":"1","amount":"1.00","code":65536})",                // out of range
      R"({"id":"1","amount":"1.00","flags":"linked"})",            // flags not an array
      R"({"id":"1","amount":"1.00","flags":["linkd"]})",           // unknown flag
      R"({"id":"1","amount":"1.00","timestamp":"5"})",             // timestamp set
      R"({"id":"1","amount":"1.00","debit_account_id":{"x":1}})",  // nested object
      R"({"id":"1","amo)",                                         // truncated
      R"([1,2])",                                                  // not an object
      "garbage",
      R"({"id":"1","amount":"1.00"} {"id":"2"})",  // two objects
  };
  for (const char* line : lines) {
    EXPECT_FALSE(ParseTransferLine(line, kAssets).ok()) << line;
  }
}

TEST(CliBatch, RepeatedKeyErrorNamesTheKey) {
  const auto d = ParseTransferLine(R"({"id":"1","amount":"1.00","amount":"1000.00"})", kAssets);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("\"amount\" appears twice"), std::string::npos);
}

// The finder scans small objects linearly and switches to a set past 16 keys; nested objects
// have their own keys (the same key in an inner and an outer object is not a repeat).
TEST(CliBatch, RepeatedKeyIsFoundInSmallLargeAndNestedObjects) {
  EXPECT_EQ(FindRepeatedKey(R"({"a":1,"b":{"a":2,"b":3},"c":4})"), std::nullopt);
  EXPECT_EQ(FindRepeatedKey(R"({"a":1,"b":{"x":2,"x":3}})"), "x");
  EXPECT_EQ(FindRepeatedKey(R"({"a":{"x":1},"b":2,"a":3})"), "a");
  EXPECT_EQ(FindRepeatedKey(R"([{"a":1},{"a":2},{"b":1,"b":2}])"), "b");
  std::string many = "{";
  for (int i = 0; i < 40; ++i) many += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  EXPECT_EQ(FindRepeatedKey(many + "\"last\":0}"), std::nullopt);
  EXPECT_EQ(FindRepeatedKey(many + "\"k3\":0}"), "k3");    // found by the set
  EXPECT_EQ(FindRepeatedKey(many + "\"k39\":0}"), "k39");  // added to the set after it was made
}

// The one-pass parser builds exactly what boost::json::parse builds, and fails where it fails
// (syntax, trailing data, a cut-short document, the depth limit), naming a repeated key.
TEST(CliBatch, StrictParseMatchesBoostJsonAndRefusesRepeatedKeys) {
  const std::vector<std::string> valid = {
      R"({"a":1,"b":[true,false,null,-5,18446744073709551615,1.5e3,"s\u00e9"],"c":{"a":{}}})",
      R"([])", R"("text")", R"(0)", R"({"k":"v"} )", R"({"long":")" + std::string(5000, 'x') + "\"}"};
  for (const std::string& text : valid) {
    const StrictJson parsed = ParseJsonRejectingRepeatedKeys(text, {}, boost::json::parse_options{});
    ASSERT_FALSE(parsed.error) << text << ": " << parsed.error.message();
    EXPECT_EQ(parsed.value, boost::json::parse(text)) << text;
  }
  for (const std::string text : {R"({"a":1)", R"({"a":1} x)", R"({"a":})", R"()", R"([1,2)",
                                 R"({"a":1}{"b":2})"}) {
    const StrictJson parsed = ParseJsonRejectingRepeatedKeys(text, {}, boost::json::parse_options{});
    EXPECT_TRUE(parsed.error) << text;
    EXPECT_EQ(parsed.repeated_key, "") << text;
  }
  const StrictJson repeated =
      ParseJsonRejectingRepeatedKeys(R"({"a":{"x":1,"x":2}})", {}, boost::json::parse_options{});
  EXPECT_TRUE(repeated.error);
  EXPECT_EQ(repeated.repeated_key, "x");
  boost::json::parse_options shallow;
  shallow.max_depth = 2;
  EXPECT_TRUE(ParseJsonRejectingRepeatedKeys("[[[1]]]", {}, shallow).error);
  EXPECT_FALSE(ParseJsonRejectingRepeatedKeys("[[1]]", {}, shallow).error);
}

class CliBatchFile : public ::testing::Test {
 protected:
  std::string Write(const std::string& contents) {
    const std::string path = dir_.path() + "/batch.jsonl";
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  storage::TempDir dir_;
};

TEST_F(CliBatchFile, SkipsBlankLinesAndKeepsLineNumbers) {
  const auto lines = ReadBatchFile(Write("{\"id\":\"1\"}\n\n  \r\n{\"id\":\"2\"}"));
  ASSERT_TRUE(lines.ok()) << lines.error().message;
  ASSERT_EQ(lines.value().size(), 2u);
  EXPECT_EQ(lines.value()[0].number, 1u);
  EXPECT_EQ(lines.value()[1].number, 4u);
}

TEST_F(CliBatchFile, RefusesMoreEventsThanOneBatchHolds) {
  std::string contents;
  for (size_t i = 0; i <= kBatchEventsMax; ++i) contents += "{}\n";
  const auto lines = ReadBatchFile(Write(contents));
  ASSERT_FALSE(lines.ok());
  EXPECT_NE(lines.error().message.find("more than 8189"), std::string::npos);
}

TEST_F(CliBatchFile, RefusesOverlongLinesEmptyFilesAndMissingFiles) {
  EXPECT_FALSE(ReadBatchFile(Write(std::string(kBatchLineBytesMax + 1, ' ') + "\n")).ok());
  EXPECT_FALSE(ReadBatchFile(Write("")).ok());
  EXPECT_FALSE(ReadBatchFile(Write("\n\n")).ok());
  EXPECT_FALSE(ReadBatchFile(dir_.path() + "/missing.jsonl").ok());
}

// The HTTP API writes created transfers with TransferJsonText: byte for byte what serializing
// TransferToJson gives, for every field's extremes, every flag, every pending status, a ledger
// with no asset, and random values.
TEST(CliRender, TransferJsonTextIsTheSerializedTransferToJson) {
  uint64_t state = 0x243f6a8885a308d3ull;
  const auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::vector<std::optional<ledger::PendingStatus>> statuses = {
      std::nullopt, ledger::PendingStatus::pending, ledger::PendingStatus::posted,
      ledger::PendingStatus::voided, ledger::PendingStatus::expired};
  for (int i = 0; i < 500; ++i) {
    ledger::Transfer t;
    const bool extreme = i % 5 == 0;
    t.id = TransferId(extreme ? ~u128{0} : static_cast<u128>(next()) << (i % 64));
    t.debit_account_id = AccountId(extreme ? 1 : next());
    t.credit_account_id = AccountId(static_cast<u128>(next()) * next());
    t.amount = Amount::FromMinor(extreme ? ~u128{0} : static_cast<u128>(next() % 1'000'000));
    t.ledger = i % 7 == 0 ? kUnknownLedger : (i % 2 == 0 ? kUsd : kJpy);
    t.code = static_cast<uint16_t>(next());
    t.flags = static_cast<uint16_t>(next() & 0xff);
    t.pending_id = TransferId(i % 3 == 0 ? 0 : next());
    t.timeout = static_cast<uint32_t>(next());
    t.user_data_128 = extreme ? ~u128{0} : next();
    t.user_data_64 = extreme ? UINT64_MAX : next();
    t.user_data_32 = static_cast<uint32_t>(next());
    t.timestamp = Timestamp{extreme ? UINT64_MAX : next()};
    const auto status = statuses[static_cast<size_t>(i) % statuses.size()];
    ASSERT_EQ(TransferJsonText(t, status, kAssets),
              boost::json::serialize(TransferToJson(t, status, kAssets)))
        << "case " << i;
  }
}

TEST(CliRender, AppendJsonStringEscapesAsBoostJsonDoes) {
  std::string every_ascii;
  for (int c = 0; c < 0x80; ++c) every_ascii.push_back(static_cast<char>(c));
  for (const std::string& text : {every_ascii, std::string("quote \" back\\slash"),
                                  std::string("caf\xc3\xa9 \xe2\x82\xac"), std::string()}) {
    std::string out;
    AppendJsonString(out, text);
    EXPECT_EQ(out, boost::json::serialize(boost::json::string(text)));
  }
}

TEST(CliRender, OutcomesJsonTextIsTheSerializedOutcomesToJson) {
  std::vector<EventOutcome> outcomes;
  for (uint32_t i = 0; i < 40; ++i) {
    EventOutcome o;
    o.line = i % 3 == 0 ? 0 : i * 7;
    o.id = std::to_string(1000 + i * 13);
    o.success = i % 4 != 1;
    o.result = o.success ? (i % 5 == 0 ? "exists" : "created") : "exceeds_credits";
    o.result_code = o.success ? 0 : 54;
    o.message = i % 6 == 0 ? "a \"quoted\"\nmessage\t\x01" : "ok";
    outcomes.push_back(o);
  }
  for (const size_t n : {size_t{0}, size_t{1}, outcomes.size()}) {
    const std::vector<EventOutcome> part(outcomes.begin(),
                                         outcomes.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(OutcomesJsonText("transfer", part),
              boost::json::serialize(OutcomesToJson("transfer", part)));
  }
}

}  // namespace
}  // namespace tpw::cli
