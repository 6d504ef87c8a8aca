// The condition language: every operator, field, literal kind and feature, and its errors.
#include <gtest/gtest.h>

#include "risk/test_util.h"

namespace tpw::risk {
namespace {

using test::At;
using test::SampleEvent;

// True when `condition` holds for `event` at `now` (its rule blocks the payment).
bool Holds(const std::string& condition, const Event& event, Timestamp now = At(1'000'000)) {
  std::shared_ptr<const RuleSet> rules = test::MustCompile(test::OneRuleFile(condition));
  if (rules == nullptr) return false;
  RiskEngine engine(rules);
  return engine.Evaluate(event, now).decision == Decision::decline;
}

// The error compiling `condition`, as "column: message" relative to the condition's start
// (OneRuleFile puts the condition on line 16 after `condition = '''`, 15 characters in).
std::string ConditionError(const std::string& condition) {
  const RuleError error = test::FirstError(test::OneRuleFile(condition));
  if (error.message.empty()) return "compiles";
  EXPECT_EQ(error.line, 16u) << error.message;
  return std::to_string(error.column - 16) + ": " + error.message;
}

// Checks each (condition, holds) pair against `event`.
void ExpectConditions(const Event& event,
                      std::initializer_list<std::pair<const char*, bool>> cases) {
  for (const auto& [condition, holds] : cases) {
    EXPECT_EQ(Holds(condition, event), holds) << condition;
  }
}

TEST(RiskExpr, AmountComparisonsAtTheirBoundaries) {
  ExpectConditions(SampleEvent(),  // 10000 minor units
                   {{"amount == 10000", true},
                    {"amount == 9999", false},
                    {"amount != 9999", true},
                    {"amount != 10000", false},
                    {"amount < 10001", true},
                    {"amount < 10000", false},
                    {"amount <= 10000", true},
                    {"amount <= 9999", false},
                    {"amount > 9999", true},
                    {"amount > 10000", false},
                    {"amount >= 10000", true},
                    {"amount >= 10001", false}});
}

// `field OP constant and field OP constant` as a whole condition runs as one instruction
// (Op::field_compare_and): every combination of the two tests, and the same tests nested, where
// it does not apply, agree.
TEST(RiskExpr, TwoFieldTestsJoinedByAndHoldOnlyWhenBothHold) {
  ExpectConditions(SampleEvent(),  // 100.00 EUR, online
                   {{"amount > 99.00 EUR and amount <= 100.00 EUR", true},
                    {"amount > 100.00 EUR and amount <= 200.00 EUR", false},
                    {"amount > 10.00 EUR and amount <= 99.00 EUR", false},
                    {"amount > 200.00 EUR and amount <= 10.00 EUR", false},
                    {"amount > 99.00 USD and amount <= 100.00 EUR", false},
                    {"amount > 99.00 EUR and amount <= 100.00 USD", false},
                    {"channel == 'online' and amount >= 100.00 EUR", true},
                    {"(amount > 99.00 EUR and amount <= 100.00 EUR) or amount == 0", true},
                    {"amount == 0 or (amount > 99.00 EUR and amount <= 100.00 EUR)", true},
                    {"not (amount > 99.00 EUR and amount <= 100.00 EUR)", false}});
}

TEST(RiskExpr, AmountLiteralsCompareOnlyWithinTheirAsset) {
  Event e = SampleEvent();  // 100.00 EUR
  EXPECT_TRUE(Holds("amount == 100.00 EUR", e));
  EXPECT_TRUE(Holds("amount >= 100 EUR", e));
  EXPECT_FALSE(Holds("amount > 100.00 EUR", e));
  EXPECT_TRUE(Holds("amount < 100.01 EUR", e));
  e.asset = test::kUsd;
  // 100.00 USD against EUR literals: every comparison is false, so `not` is true.
  EXPECT_FALSE(Holds("amount == 100.00 EUR", e));
  EXPECT_FALSE(Holds("amount != 100.00 EUR", e));
  EXPECT_FALSE(Holds("amount < 1000 EUR", e));
  EXPECT_TRUE(Holds("not (amount >= 1 EUR)", e));
  EXPECT_TRUE(Holds("amount == 100.00 USD", e));
  // A plain integer is minor units in whatever asset the payment has.
  EXPECT_TRUE(Holds("amount == 10000", e));
  // Scales come from the asset table: JPY has none, BTC has 8.
  EXPECT_EQ(ConditionError("amount > 1.5 JPY").substr(0, 2), "9:");
  e.asset = 7;  // BTC
  e.amount = Amount::FromMinor(150'000'000);
  EXPECT_TRUE(Holds("amount == 1.5 BTC", e));
}

// Comparisons of untagged values (every field but amount, counts) skip the assets' check
// (kAcceptsUntagged); amounts keep it, even against a plain integer.
TEST(RiskExpr, OnlyAmountComparisonsDependOnThePaymentsAsset) {
  Event e = SampleEvent();
  e.asset = kAssetMismatch;  // no real asset has this number: amounts compare with nothing
  ExpectConditions(e, {{"amount == 10000", false},
                       {"amount != 10000", false},
                       {"channel == 'online'", true},
                       {"channel == 'online' and amount >= 0", false},
                       {"channel == 'online' and country != 'US'", true},
                       {"device_age >= 0s and cvm_performed >= 'none'", true},
                       {"count(account, 1h) == 0 and hour >= 0", true},
                       {"sum(account, 1h) == 0", false}});
  e.asset = test::kUsd;
  ExpectConditions(e, {{"amount == 10000", true},
                       {"sum(account, 1h) == 0", true},
                       {"sum(account, 1h) == 0.00 USD", true},
                       {"sum(account, 1h) == 0.00 EUR", false},
                       {"channel == 'online' and amount == 100.00 USD", true}});
}

TEST(RiskExpr, ArithmeticIsExactAndSaturates) {
  const Event e = SampleEvent();  // 10000
  EXPECT_TRUE(Holds("amount + 5 == 10005", e));
  EXPECT_TRUE(Holds("amount - 1 == 9999", e));
  EXPECT_TRUE(Holds("amount * 3 == 30000", e));
  EXPECT_TRUE(Holds("2 * amount == 20000", e));
  EXPECT_TRUE(Holds("amount - 20000 == 0", e));  // saturates at zero, never wraps
  EXPECT_TRUE(
      Holds("amount * 340282366920938463463374607431768211455 == "
            "340282366920938463463374607431768211455",
            e));                                     // saturates at 2^128-1
  EXPECT_TRUE(Holds("amount + 1 * 2 == 10002", e));  // * binds tighter than +
  EXPECT_TRUE(Holds("(amount + 1) * 2 == 20002", e));
  EXPECT_TRUE(Holds("amount + 50.00 EUR == 150.00 EUR", e));
  EXPECT_FALSE(Holds("amount + 50.00 USD >= 0", e));  // EUR + USD is no amount at all
  EXPECT_TRUE(Holds("1d - 1h == 23h", e));
}

TEST(RiskExpr, LogicalOperatorsAndPrecedence) {
  ExpectConditions(SampleEvent(),
                   {{"true", true},
                    {"false", false},
                    {"true and true", true},
                    {"true and false", false},
                    {"false or true", true},
                    {"false or false", false},
                    {"not false", true},
                    {"not not true", true},
                    {"true or true and false", true},  // and binds tighter than or
                    {"(true or true) and false", false},
                    {"not true or false", false},  // not binds tightest
                    {"amount > 1 and (country == \"FR\" or country == \"DE\")", true}});
}

// Fused tests (comparisons, `in`) right before an and/or jump perform the jump themselves;
// every combination of outcomes, nesting and jumps landing on such a jump keeps its result.
TEST(RiskExpr, AndOrAfterFusedTestsGiveEveryCombination) {
  ExpectConditions(SampleEvent(),  // amount 10000 (100.00 EUR), country FR, MCC 5411
                   {{"amount > 1 and country == \"FR\"", true},
                    {"amount > 1 and country == \"DE\"", false},
                    {"amount < 1 and country == \"FR\"", false},
                    {"amount < 1 or country == \"FR\"", true},
                    {"amount > 1 or country == \"DE\"", true},
                    {"amount < 1 or country == \"DE\"", false},
                    {"(amount < 1 or merchant_category in [5411]) and country == \"FR\"", true},
                    {"(amount < 1 or merchant_category in [1]) and country == \"FR\"", false},
                    {"(amount > 1 and merchant_category in [1]) or country == \"FR\"", true},
                    {"(amount > 1 and merchant_category in [1]) or country == \"DE\"", false},
                    {"amount > 1 and merchant_category in [5411] and country in [\"FR\"]", true},
                    {"amount < 1 or merchant_category in [1] or country == \"DE\"", false},
                    {"not (amount > 1 and country == \"DE\") and amount == 10000", true},
                    {"country in watched_countries or amount >= 10000", true},
                    {"country in watched_countries and amount >= 10000", false}});
}

TEST(RiskExpr, EveryEventField) {
  Event e = SampleEvent();
  EXPECT_TRUE(Holds("asset == \"EUR\"", e));
  EXPECT_TRUE(Holds("account == 42 and account == \"42\"", e));
  EXPECT_TRUE(Holds("device == 1001", e));
  EXPECT_TRUE(Holds("merchant == 501", e));
  EXPECT_TRUE(Holds("terminal == 901", e));
  EXPECT_TRUE(Holds("merchant_category == 5411 and merchant_category > 5000", e));
  EXPECT_TRUE(Holds("channel == \"online\"", e));
  EXPECT_FALSE(Holds("channel == \"offline\"", e));
  EXPECT_TRUE(Holds("country == \"FR\" and country != \"DE\"", e));
  EXPECT_TRUE(Holds("ip == \"203.0.113.7\"", e));
  EXPECT_TRUE(Holds("device_age > 2d and device_age < 72h + 1s", e));
  EXPECT_TRUE(Holds("device_age == 3d", e));
  EXPECT_TRUE(Holds("cvm_performed == \"none\" and cvm_performed < \"pin\"", e));
  e.cvm_performed = Cvm::strong;
  EXPECT_TRUE(Holds("cvm_performed > \"pin\"", e));
  e.ip = *ParseIp("2001:db8::1");
  EXPECT_TRUE(Holds("ip == \"2001:db8::1\"", e));
  e.channel = Channel::offline;
  EXPECT_TRUE(Holds("channel == \"offline\"", e));
  // hour is the UTC hour of `now`.
  EXPECT_TRUE(Holds("hour == 0", e, At(0)));
  EXPECT_TRUE(Holds("hour == 23", e, At(23 * 3600 + 3599)));
  EXPECT_TRUE(Holds("hour == 0", e, At(24 * 3600)));
  EXPECT_TRUE(Holds("hour >= 1 and hour < 2", e, At(86400 * 100 + 3600)));
}

TEST(RiskExpr, InLiteralLists) {
  ExpectConditions(SampleEvent(), {{"country in [\"DE\", \"FR\"]", true},
                                   {"country in [\"DE\", \"IT\"]", false},
                                   {"country not in [\"DE\", \"IT\"]", true},
                                   {"country not in [\"FR\"]", false},
                                   {"merchant_category in [5411, 5812, 7995]", true},
                                   {"account in [1, 42]", true},
                                   {"account in []", false},
                                   {"cvm_performed in [\"none\", \"pin\"]", true},
                                   {"asset in [\"EUR\", \"USD\"]", true}});
}

TEST(RiskExpr, InNamedListsFollowRunTimeChanges) {
  Event e = SampleEvent();
  std::unique_ptr<RiskEngine> engine = test::EngineFor(
      test::OneRuleFile("device in blocked_devices or country in watched_countries"));
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->Evaluate(e, At(0)).decision, Decision::approve);
  e.device = 7;  // declared in the file
  EXPECT_EQ(engine->Evaluate(e, At(0)).decision, Decision::decline);
  e.device = 1001;
  ASSERT_TRUE(engine->lists().Add("blocked_devices", "1001").ok());
  EXPECT_EQ(engine->Evaluate(e, At(0)).decision, Decision::decline);
  ASSERT_TRUE(engine->lists().Remove("blocked_devices", "1001").ok());
  EXPECT_EQ(engine->Evaluate(e, At(0)).decision, Decision::approve);
  ASSERT_TRUE(engine->lists().Add("watched_countries", "FR").ok());
  EXPECT_EQ(engine->Evaluate(e, At(0)).decision, Decision::decline);
}

TEST(RiskExpr, ListUpdatesRejectBadInput) {
  std::unique_ptr<RiskEngine> engine = test::EngineFor(test::OneRuleFile("true"));
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->lists().Add("no_such_list", "1").error(), ListError::unknown_list);
  EXPECT_EQ(engine->lists().Add("blocked_devices", "12x").error(), ListError::invalid_value);
  EXPECT_EQ(engine->lists().Add("blocked_devices", "").error(), ListError::invalid_value);
  EXPECT_EQ(engine->lists().Add("blocked_devices", "0012").error(), ListError::invalid_value);
  EXPECT_EQ(engine->lists().Add("watched_countries", "France").error(), ListError::invalid_value);
  EXPECT_EQ(engine->lists().Remove("blocked_devices", "-1").error(), ListError::invalid_value);
  EXPECT_EQ(engine->lists().Remove("nope", "1").error(), ListError::unknown_list);
}

TEST(RiskExpr, ErrorsPointAtTheOffendingCharacter) {
  EXPECT_EQ(ConditionError("amout > 5"),
            "0: unknown field 'amout' (fields: amount, asset, account, device, merchant, "
            "terminal, merchant_category, channel, country, ip, hour, device_age, "
            "cvm_performed)");
  EXPECT_EQ(ConditionError("amount > 5 and velocity(account, 1h) > 3"),
            "15: unknown feature 'velocity' (features: count(key, window), sum(key, window), "
            "distinct(value, key, window))");
  EXPECT_EQ(ConditionError("account == country"), "8: cannot compare a account id with a country");
  EXPECT_EQ(ConditionError("country == \"France\""),
            "11: 'France' is not a valid country (two upper-case letters, e.g. \"FR\")");
  EXPECT_EQ(ConditionError("(amount > 5"),
            "11: expected ')' closing the '(' at column offset 1 here");
  EXPECT_EQ(ConditionError("device in blocked"),
            "10: unknown list 'blocked': declare it as [lists.blocked] in the rules file");
  EXPECT_EQ(ConditionError("account in blocked_devices"),
            "0: list 'blocked_devices' holds device values; this is a account id");
  EXPECT_EQ(ConditionError("amount = 5"), "7: '=' is not an operator: compare with '=='");
  EXPECT_EQ(ConditionError("amount > 5.5"),
            "9: '5.5' has a fraction but no asset: write e.g. '5.5 EUR', or minor units as an "
            "integer");
  EXPECT_EQ(ConditionError("amount + 5"),
            "7: a condition must be true or false, this is a amount (compare it, e.g. 'amount > "
            "1000')");
  EXPECT_EQ(ConditionError("count(account, 1w) > 2").substr(0, 3), "16:");
  EXPECT_EQ(ConditionError("count(account, 31d) > 2"),
            "15: expected a window here: a duration from 1s to 30d, e.g. 1h");
  EXPECT_EQ(ConditionError("device_age > 36501d"),
            "13: duration '36501d' is longer than 100 years");
  EXPECT_EQ(ConditionError("device_age > 400d"), "compiles");
  EXPECT_EQ(ConditionError("amount > 5 amount"),
            "11: unexpected 'amount' after the end of the condition (missing 'and'/'or'?)");
  EXPECT_EQ(ConditionError("amount >"), "8: condition ends too early: a value is missing");
  EXPECT_EQ(ConditionError("country < \"FR\""),
            "8: a country has no order: compare it with == or != (or use 'in')");
  EXPECT_EQ(ConditionError("amount * amount > 5"),
            "7: '*' multiplies by an integer; cannot multiply a amount by a amount");
  EXPECT_EQ(ConditionError("not amount"),
            "4: 'and', 'or' and 'not' take true/false, this is a amount");
  EXPECT_EQ(ConditionError("distinct(device, device, 1h) > 1"),
            "0: distinct(device, device, ..) counts a key by itself");
  EXPECT_EQ(ConditionError("count(shoe, 1h) > 1"),
            "6: expected a key here: account, device, merchant, terminal, ip or country");
  EXPECT_EQ(ConditionError("amount in [1, 2]").substr(0, 2), "0:");
  EXPECT_EQ(ConditionError("country == \"FR"), "11: string is not closed: add the closing quote");
  EXPECT_EQ(ConditionError("amount > 1 # 2"), "11: unexpected character '#'");
}

TEST(RiskExpr, NestingIsBounded) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "(";
  deep += "true";
  for (int i = 0; i < 100; ++i) deep += ")";
  EXPECT_NE(ConditionError(deep).find("nests too deeply"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 300; ++i) nots += "not ";
  EXPECT_NE(ConditionError(nots + "true").find("nests too deeply"), std::string::npos);
  // Right-nested sums need one stack slot per level: more than kStackSlotsMax fail.
  std::string right = "amount";
  for (int i = 0; i < 20; ++i) right = "1 + (" + right + ")";
  EXPECT_EQ(ConditionError(right + " > 0"), "compiles");
  std::string long_chain = "amount";
  for (int i = 0; i < 500; ++i) long_chain += " + 1";
  EXPECT_EQ(ConditionError(long_chain + " > 0"), "compiles");  // left-nested: two slots
  EXPECT_TRUE(Holds(long_chain + " == 10500", SampleEvent()));
}

}  // namespace
}  // namespace tpw::risk
