// Rules files: structure, decisions (action order, weights, thresholds, CVM) and every kind of
// error with its exact line and column.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "risk/test_util.h"

namespace tpw::risk {
namespace {

using test::At;
using test::SampleEvent;

const char* kHeader =
    "version = \"2026-11-24.1\"\n"  // line 1
    "[thresholds]\n"                // 2
    "step_up = 30\n"                // 3
    "review = 60\n"                 // 4
    "decline = 90\n"                // 5
    "step_up_cvm = \"pin\"\n";      // 6

std::string WithRules(const std::string& rules) { return std::string(kHeader) + rules; }

std::string ErrorText(const std::string& text) {
  const RuleError e = test::FirstError(text);
  if (e.message.empty()) return "compiles";
  return std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message;
}

// An example rules file (examples/risk/NAME), compiled; a test failure if it is missing.
std::shared_ptr<const RuleSet> CompileExample(const std::string& name) {
  std::ifstream file(std::string(TPW_SOURCE_DIR) + "/examples/risk/" + name);
  EXPECT_TRUE(file.good()) << "examples/risk/" << name << " is missing";
  std::stringstream text;
  text << file.rdbuf();
  return test::MustCompile(text.str());
}

TEST(RiskRules, ExampleFileCompiles) {
  std::shared_ptr<const RuleSet> rules = CompileExample("rules.toml");
  ASSERT_NE(rules, nullptr);
  EXPECT_FALSE(rules->rules().empty());
  EXPECT_FALSE(rules->lists().empty());
  EXPECT_FALSE(rules->features().empty());
}

TEST(RiskRules, OfflineExampleFileCompiles) {
  std::shared_ptr<const RuleSet> rules = CompileExample("offline-rules.toml");
  ASSERT_NE(rules, nullptr);
  EXPECT_TRUE(rules->offline_limits().has_value());
  EXPECT_EQ(rules->features().size(), 3u);
}

TEST(RiskRules, FirstMatchingActionRuleInFileOrderWins) {
  const std::string text = WithRules(
      "[[rule]]\nname = \"review_big\"\ncondition = \"amount > 5000\"\naction = \"review\"\n"
      "[[rule]]\nname = \"block_big\"\ncondition = \"amount > 5000\"\naction = \"block\"\n"
      "[[rule]]\nname = \"allow_small\"\ncondition = \"amount <= 5000\"\naction = \"allow\"\n");
  std::unique_ptr<RiskEngine> engine = test::EngineFor(text);
  ASSERT_NE(engine, nullptr);
  Event e = SampleEvent();
  RiskDecision d = engine->Evaluate(e, At(0));
  EXPECT_EQ(d.decision, Decision::review);
  EXPECT_EQ(d.decided_by, "review_big");
  ASSERT_EQ(d.matched_rules.size(), 1u);
  EXPECT_EQ(d.rules_version, "2026-11-24.1");
  e.amount = Amount::FromMinor(10);
  d = engine->Evaluate(e, At(0));
  EXPECT_EQ(d.decision, Decision::approve);
  EXPECT_EQ(d.decided_by, "allow_small");
}

TEST(RiskRules, WeightsAddUpAndThresholdsDecide) {
  const std::string text = WithRules(
      "[[rule]]\nname = \"a\"\ncondition = \"amount >= 100\"\nweight = 20\n"
      "[[rule]]\nname = \"b\"\ncondition = \"amount >= 200\"\nweight = 20\n"
      "[[rule]]\nname = \"c\"\ncondition = \"amount >= 300\"\nweight = 20\n"
      "[[rule]]\nname = \"d\"\ncondition = \"amount >= 400\"\nweight = 30\n"
      "[[rule]]\nname = \"trusted\"\ncondition = \"merchant == 1\"\nweight = -50\n");
  std::unique_ptr<RiskEngine> engine = test::EngineFor(text);
  ASSERT_NE(engine, nullptr);
  Event e = SampleEvent();
  struct Case {
    uint64_t amount;
    int64_t score;
    Decision decision;
  };
  for (const Case& c : {Case{99, 0, Decision::approve}, Case{100, 20, Decision::approve},
                        Case{200, 40, Decision::step_up}, Case{300, 60, Decision::review},
                        Case{400, 90, Decision::decline}}) {
    e.amount = Amount::FromMinor(c.amount);
    const RiskDecision d = engine->Evaluate(e, At(0));
    EXPECT_EQ(d.score, c.score) << c.amount;
    EXPECT_EQ(d.decision, c.decision) << c.amount;
    EXPECT_EQ(d.required_cvm, c.decision == Decision::step_up ? Cvm::pin : Cvm::none);
    EXPECT_EQ(d.decided_by, "");
  }
  e.amount = Amount::FromMinor(400);
  e.merchant = 1;
  const RiskDecision d = engine->Evaluate(e, At(0));
  EXPECT_EQ(d.score, 40);
  EXPECT_EQ(d.decision, Decision::step_up);
  ASSERT_EQ(d.matched_rules.size(), 5u);
  EXPECT_EQ(d.matched_rules[0], "a");
  EXPECT_EQ(d.matched_rules[4], "trusted");
}

TEST(RiskRules, ActionRuleOverridesScoreButScoreIsStillReported) {
  const std::string text = WithRules(
      "[[rule]]\nname = \"heavy\"\ncondition = \"true\"\nweight = 95\n"
      "[[rule]]\nname = \"needs_pin\"\ncondition = \"cvm_performed < \\\"pin\\\"\"\n"
      "action = \"step_up\"\ncvm = \"pin\"\n"
      "[[rule]]\nname = \"strong\"\ncondition = \"true\"\naction = \"step_up\"\n");
  std::unique_ptr<RiskEngine> engine = test::EngineFor(text);
  ASSERT_NE(engine, nullptr);
  Event e = SampleEvent();
  RiskDecision d = engine->Evaluate(e, At(0));
  EXPECT_EQ(d.decision, Decision::step_up);
  EXPECT_EQ(d.required_cvm, Cvm::pin);
  EXPECT_EQ(d.score, 95);
  ASSERT_EQ(d.matched_rules.size(), 2u);
  EXPECT_EQ(d.matched_rules[0], "heavy");
  EXPECT_EQ(d.matched_rules[1], "needs_pin");
  e.cvm_performed = Cvm::pin;
  d = engine->Evaluate(e, At(0));
  EXPECT_EQ(d.decided_by, "strong");
  EXPECT_EQ(d.required_cvm, Cvm::strong);  // step_up without cvm asks for strong
}

TEST(RiskRules, TomlSyntaxErrorHasLineAndColumn) {
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\nweight = 1\n")).substr(0, 5), "8:10:");
  EXPECT_EQ(ErrorText("version = 1.2.3\n").substr(0, 12), "1:14: TOML s");
}

TEST(RiskRules, UnknownFieldsAreRejectedWhereTheyAre) {
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = \"true\"\nweight = 1\n"
                                "wieght = 2\n")),
            "11:1: unknown field 'wieght' in [[rule]] (allowed: name, description, condition, "
            "action, weight, cvm)");
  EXPECT_EQ(ErrorText(std::string(kHeader) + "color = \"red\"\n").substr(0, 26),
            "7:1: unknown field 'color'");
  EXPECT_EQ(ErrorText("version = \"1\"\n[thresholds]\nstep_up = 1\nreview = 2\ndecline = 3\n"
                      "stepup = 4\n"),
            "6:1: unknown field 'stepup' in [thresholds] (allowed: step_up, review, decline, "
            "step_up_cvm)");
}

TEST(RiskRules, OfflineSectionLimitsAndTheirErrors) {
  const std::string ok = std::string(kHeader) +
                         "[offline]\nasset = \"EUR\"\ncvm_threshold = \"25.00\"\n"
                         "payment_count_max = 9\nallowance_max = \"100.00\"\n";
  const std::shared_ptr<const RuleSet> rules = test::MustCompile(ok);
  ASSERT_TRUE(rules->offline_limits().has_value());
  EXPECT_EQ(rules->offline_limits()->asset, 2u);
  EXPECT_EQ(rules->offline_limits()->cvm_threshold, Amount::FromMinor(2'500));
  EXPECT_FALSE(rules->offline_limits()->per_payment_max.has_value());
  EXPECT_EQ(rules->offline_limits()->payment_count_max, 9u);
  EXPECT_FALSE(test::MustCompile(kHeader)->offline_limits().has_value());
  const std::string offline = std::string(kHeader) + "[offline]\n";
  EXPECT_EQ(ErrorText(offline + "asset = \"XYZ\"\n").substr(0, 26), "8:9: unknown asset 'XYZ' (");
  EXPECT_EQ(ErrorText(offline + "asset = \"EUR\"\ncvm_threshold = \"1.234\"\n").substr(0, 36),
            "9:17: cvm_threshold must be a positi");
  EXPECT_EQ(ErrorText(offline + "asset = \"EUR\"\npayment_count_max = 0\n").substr(0, 40),
            "9:21: payment_count_max must be an integ");
  EXPECT_EQ(ErrorText(offline + "asset = \"EUR\"\nallowance = \"1\"\n").substr(0, 30),
            "9:1: unknown field 'allowance'");
  EXPECT_NE(ErrorText(offline + "asset = \"EUR\"\nper_payment_max = \"9.00\"\nallowance_max = \"8.00\"\n")
                .find("allowance_max must be at least per_payment_max"),
            std::string::npos);
  EXPECT_EQ(ErrorText(offline + "cvm_threshold = \"1.00\"\n").substr(0, 28), "7:1: [offline] needs 'asset'");
}

TEST(RiskRules, ExpressionErrorsCarryTheColumnInsideTheCondition) {
  // Basic string: column of the quote (13) + 1 + offset in the condition (15).
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = \"amount > 5 and amout < 3\"\n"
                                "weight = 1\n"))
                .substr(0, 6),
            "9:29: ");
  // Literal string.
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = 'amount > zz'\nweight = 1\n"))
                .substr(0, 6),
            "9:23: ");
  // Escapes in a basic string count as the characters written: \" is two columns.
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = \"country == \\\"FR\\\" "
                                "and zz\"\nweight = 1\n"))
                .substr(0, 6),
            "9:36: ");
  // Multi-line string: the error is on the line it is written on.
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = \"\"\"\n  amount > 5\n"
                                "  and zz > 1\"\"\"\nweight = 1\n"))
                .substr(0, 6),
            "11:7: ");
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = '''amount > 5\n"
                                "and unknown_fn(1) > 1'''\nweight = 1\n"))
                .substr(0, 6),
            "10:5: ");
}

TEST(RiskRules, StructuralErrors) {
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = \"true\"\nweight = 1\n"
                                "[[rule]]\nname = \"x\"\ncondition = \"true\"\nweight = 2\n")),
            "12:8: duplicate rule name 'x': names must be unique");
  EXPECT_EQ(ErrorText("version = \"1\"\n[thresholds]\nstep_up = 50\nreview = 40\ndecline = 90\n"),
            "4:10: thresholds must be in order step_up <= review <= decline (here 50, 40, 90)");
  EXPECT_EQ(ErrorText("[thresholds]\nstep_up = 1\nreview = 2\ndecline = 3\n"),
            "1:1: the rules file needs 'version'");
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = \"true\"\nweight = 1\n"
                                "action = \"block\"\n")),
            "7:1: rule 'x' needs exactly one of 'action' (allow, block, review, step_up) or "
            "'weight' (an integer)");
  EXPECT_EQ(
      ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = \"true\"\naction = \"deny\"\n")),
      "10:10: action must be allow, block, review or step_up; not \"deny\"");
  EXPECT_EQ(
      ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = \"true\"\nweight = 2000000\n")),
      "10:10: weight must be between -1000000 and 1000000");
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = \"true\"\nweight = 1\n"
                                "cvm = \"pin\"\n")),
            "11:7: 'cvm' goes with action = \"step_up\" only");
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x y\"\ncondition = \"true\"\nweight = 1\n")),
            "8:8: rule name 'x y' must be 1 to 64 letters, digits, '_' or '-'");
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = 5\nweight = 1\n")),
            "9:13: condition must be a string in quotes");
  EXPECT_EQ(ErrorText(WithRules("[lists.bad]\nkind = \"shoe\"\nrole = \"deny\"\n")),
            "8:8: kind must be one of account, device, merchant, terminal, ip, country; not "
            "\"shoe\"");
  EXPECT_EQ(ErrorText(WithRules("[lists.c]\nkind = \"country\"\nrole = \"deny\"\n"
                                "items = [\"FR\", \"France\"]\n")),
            "10:16: item is not a valid country (ids: decimal digits; countries: \"FR\"; ips: "
            "\"203.0.113.7\")");
  EXPECT_EQ(ErrorText(WithRules("[lists.c]\nkind = \"country\"\nrole = \"block\"\n")),
            "9:8: role must be allow, deny or watch; not \"block\"");
  EXPECT_EQ(ErrorText(WithRules("[lists.c]\nkind = \"country\"\n")), "7:1: list 'c' needs 'role'");
}

TEST(RiskRules, EveryErrorIsReportedInFileOrder) {
  const CompileResult result = RuleSet::Compile(
      WithRules("[[rule]]\nname = \"a\"\ncondition = \"amout > 1\"\nweight = 1\n"
                "[[rule]]\nname = \"b\"\ncondition = \"true\"\naction = \"nope\"\n"
                "[[rule]]\nname = \"a\"\ncondition = \"country == 1\"\nweight = 1\n"));
  EXPECT_EQ(result.rules, nullptr);
  ASSERT_EQ(result.errors.size(), 4u);
  EXPECT_EQ(result.errors[0].line, 9u);
  EXPECT_EQ(result.errors[1].line, 14u);
  EXPECT_EQ(result.errors[2].line, 16u);
  EXPECT_EQ(result.errors[3].line, 17u);
  EXPECT_EQ(FormatRuleError("r.toml", result.errors[0]).substr(0, 13), "r.toml:9:14: ");
}

TEST(RiskRules, TableHeadersWithoutANameAreErrorsNotAborts) {
  // toml++ 3.3.0 asserts on these (fuzz/corpus/risk_rules/table-header-without-key).
  for (const char* text : {"[", "[[", "[ ", "[|hresholds]\n", "[[|]]", "[[[1]]]",
                           "[[=", "a = 1\n  [\n", "x = 1 # \"\"\"\n[|]\n", "x = '\"\"\"'\n[|]\n"}) {
    const RuleError e = test::FirstError(text);
    EXPECT_NE(e.message.find("a table header needs a name"), std::string::npos) << text;
  }
  EXPECT_EQ(ErrorText("a = 1\n  [[|]]\n"),
            "2:3: TOML syntax: a table header needs a name after its '[': write [thresholds], "
            "[lists.NAME] or [[rule]]");
  // A '[' line inside a multi-line string is part of the string, not a header.
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = \"\"\"\n[\ntrue\"\"\"\n"
                                "weight = 1\n")),
            "10:1: expected a value here, not '['");
  EXPECT_EQ(ErrorText(WithRules("[[rule]]\nname = \"x\"\ncondition = '''amount in\n[ 1 ]\n"
                                "and true'''\nweight = 1\n")),
            "9:16: 'in [..]' works on ids, integers, countries, ips, assets, channels and cvms; "
            "not on a amount");
}

TEST(RiskRules, MalformedArraysAreSyntaxErrorsNotAborts) {
  // toml++ 3.3.0 asserts on these (fuzz/corpus/risk_rules/value-terminator-in-nested-array).
  for (const char* text : {"a = [[}", "a = [}", "a = [[1], }", "a = {b = [[}]}"}) {
    EXPECT_NE(ErrorText(text).find("TOML syntax"), std::string::npos) << text;
  }
}

TEST(RiskRules, NonAsciiTextIsAnErrorBeforeTomlSeesIt) {
  // toml++ 3.3.0 reaches __builtin_unreachable() on some code points
  // (fuzz/corpus/risk_rules/non-ascii-whitespace-check).
  EXPECT_EQ(ErrorText("\xef\xbb\xbd"),
            "1:1: non-ASCII character: rules files are ASCII (names, "
            "descriptions and comments too); replace it");
  EXPECT_EQ(ErrorText("version = \"1\"\n# caf\xc3\xa9\n").substr(0, 27),
            "2:6: non-ASCII character: r");
  EXPECT_EQ(ErrorText(" \xc2\xa1").substr(0, 4), "1:2:");
}

TEST(RiskRules, HostileFilesAreErrorsNotCrashes) {
  EXPECT_NE(ErrorText(""), "compiles");
  EXPECT_NE(ErrorText(std::string(5'000'000, 'a')), "compiles");
  EXPECT_NE(ErrorText(std::string("version = \"\0\"", 13)), "compiles");
  EXPECT_NE(ErrorText("[[rule]]\n[[rule]]\n"), "compiles");
  EXPECT_NE(ErrorText("rule = 5\nversion = \"1\"\n"), "compiles");
  EXPECT_NE(ErrorText(WithRules("lists = 3\n")), "compiles");
  std::string many = kHeader;
  for (int i = 0; i < 1001; ++i) {
    many += "[[rule]]\nname = \"r" + std::to_string(i) + "\"\ncondition = \"true\"\nweight = 1\n";
  }
  EXPECT_NE(ErrorText(many).find("more than 1000 rules"), std::string::npos);
  std::string features = kHeader;
  for (int i = 1; i <= 17; ++i) {
    features += "[[rule]]\nname = \"f" + std::to_string(i) + "\"\ncondition = \"count(account, " +
                std::to_string(i) + "m) > 1\"\nweight = 1\n";
  }
  EXPECT_NE(ErrorText(features).find("more than 16 different velocity features"),
            std::string::npos);
}

}  // namespace
}  // namespace tpw::risk
