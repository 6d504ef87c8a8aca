// `tpwallet risk check|evaluate` through the real binary: exit codes, the FILE:LINE:COL error
// form, --json, --history (docs/cli.md, "Risk rules").
#include <gtest/gtest.h>

#include <fstream>

#include "tpwallet_fixture.h"

namespace tpw {
namespace {

namespace bj = boost::json;

class RiskCliTest : public test_support::TpwalletFixture {
 protected:
  std::string WriteFile(const std::string& name, const std::string& text) {
    std::ofstream(Path(name)) << text;
    return Path(name);
  }
  static std::string Example() { return std::string(TPW_SOURCE_DIR) + "/examples/risk/rules.toml"; }
  bj::value ParseJson(const test_support::ProcessResult& run) {
    bj::error_code ec;
    bj::value value = bj::parse(run.out, ec);
    EXPECT_FALSE(ec) << "not JSON: " << run.out;
    return value;
  }
};

const char* kBadRules =
    "version = \"x\"\n"
    "[thresholds]\nstep_up = 50\nreview = 40\ndecline = 90\n"
    "[[rule]]\nname = \"a\"\ncondition = \"amount > 5 and amout < 3\"\nweight = 1\ncolour = 2\n";

TEST_F(RiskCliTest, CheckSummarizesAValidFile) {
  const test_support::ProcessResult run = Tpwallet({"risk", "check", Example()});
  Expect(run, 0);
  EXPECT_NE(run.out.find(": ok, version 2026-11-24.1"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("distinct(merchant, device, 1h)"), std::string::npos) << run.out;
  const bj::value json = ParseJson(Tpwallet({"risk", "check", Example(), "--json"}));
  EXPECT_TRUE(json.at("ok").as_bool());
  EXPECT_EQ(json.at("rules").as_array().size(), 11u);
  EXPECT_EQ(json.at("features").as_array().size(), 4u);
}

TEST_F(RiskCliTest, CheckPrintsEveryErrorWithLineAndColumnAndExits2) {
  const std::string file = WriteFile("bad.toml", kBadRules);
  const test_support::ProcessResult run = Tpwallet({"risk", "check", file});
  Expect(run, 2);
  EXPECT_NE(run.err.find(file + ":4:10: thresholds must be in order"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find(file + ":8:29: unknown field 'amout'"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(file + ":10:1: unknown field 'colour'"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("3 errors"), std::string::npos) << run.err;
  const test_support::ProcessResult json_run = Tpwallet({"risk", "check", file, "--json"});
  Expect(json_run, 2);
  const bj::value json = ParseJson(json_run);
  EXPECT_FALSE(json.at("ok").as_bool());
  ASSERT_EQ(json.at("errors").as_array().size(), 3u);
  EXPECT_EQ(json.at("errors").as_array()[1].at("column").as_int64(), 29);
}

TEST_F(RiskCliTest, CheckOfAMissingFileSaysSo) {
  const test_support::ProcessResult run = Tpwallet({"risk", "check", Path("nope.toml")});
  Expect(run, 2);
  EXPECT_NE(run.err.find("cannot read"), std::string::npos) << run.err;
}

TEST_F(RiskCliTest, EvaluatePrintsTheDecisionAndItsReasons) {
  const std::string event =
      R"({"amount": "1500.00", "asset": "EUR", "account": "42", "device": "7",
          "device_age_seconds": 864000, "channel": "online", "time": "2026-11-24T10:00:00Z"})";
  const test_support::ProcessResult run =
      Tpwallet({"risk", "evaluate", "--rules", Example(), "--event", event, "--json"});
  Expect(run, 0);
  const bj::value json = ParseJson(run);
  EXPECT_EQ(json.at("decision").as_string(), "step_up");
  EXPECT_EQ(json.at("required_cvm").as_string(), "strong");
  EXPECT_EQ(json.at("decided_by").as_string(), "strong_auth_for_large_online");
  EXPECT_EQ(json.at("rules_version").as_string(), "2026-11-24.1");
}

TEST_F(RiskCliTest, EvaluateSeesVelocityFromHistory) {
  // Ten approved payments from one device within the hour make card_testing (40) fire.
  std::string history;
  for (int i = 0; i < 10; ++i) {
    history += R"({"amount": "1.00", "asset": "EUR", "device": "5", "merchant": ")" +
               std::to_string(100 + i % 3) +
               R"(", "device_age_seconds": 864000, "time": "2026-11-24T10:0)" + std::to_string(i) +
               ":00Z\"}\n";
  }
  const std::string file = WriteFile("history.jsonl", history);
  const std::string event = R"({"amount": "1.00", "asset": "EUR", "device": "5",
      "device_age_seconds": 864000, "time": "2026-11-24T10:30:00Z"})";
  const bj::value json = ParseJson(Tpwallet(
      {"risk", "evaluate", "--rules", Example(), "--event", event, "--history", file, "--json"}));
  EXPECT_EQ(json.at("score").as_int64(), 40);
  EXPECT_EQ(json.at("decision").as_string(), "step_up");
  const bj::value without =
      ParseJson(Tpwallet({"risk", "evaluate", "--rules", Example(), "--event", event, "--json"}));
  EXPECT_EQ(without.at("score").as_int64(), 0);
}

TEST_F(RiskCliTest, EvaluateRejectsABadEventNamingTheField) {
  for (const auto& [event, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"({"amount": "1.00"})", "needs \"amount\""},
           {R"({"amount": "1.001", "asset": "EUR"})", "amount '1.001'"},
           {R"({"amount": "1", "asset": "EUR", "country": "France"})", "country must be"},
           {R"({"amount": "1", "asset": "EUR", "colour": 1})", "unknown field 'colour'"},
           {R"({"amount": "1", "asset": "EUR", "account": -1})", "'account' must be"},
           {R"([1, 2])", "one JSON object"}}) {
    const test_support::ProcessResult run =
        Tpwallet({"risk", "evaluate", "--rules", Example(), "--event", event});
    Expect(run, 2);
    EXPECT_NE(run.err.find(expected), std::string::npos) << event << " → " << run.err;
  }
}

TEST_F(RiskCliTest, HelpShowsAnExample) {
  for (const char* command : {"check", "evaluate"}) {
    const test_support::ProcessResult run = Tpwallet({"risk", command, "--help"});
    Expect(run, 0);
    EXPECT_NE(run.out.find("tpwallet risk " + std::string(command)), std::string::npos);
  }
  const test_support::ProcessResult bench = Tpwallet({"bench", "risk", "--help"});
  EXPECT_NE(bench.out.find("tpwallet bench risk"), std::string::npos);
}

// risk rules / risk list on a data directory, through the engine: bad rules never replace good
// ones, lists change and survive the process, errors have their exit codes.
TEST_F(RiskCliTest, RulesAndListsOnADataDirectory) {
  Expect(Tpwallet({"init", "--data-dir", data_}), 0);
  EXPECT_EQ(Str(Json({"risk", "rules", "show"}), "version"), "none");
  const bj::value set = Json({"risk", "rules", "set", Example()});
  EXPECT_EQ(Str(set, "version"), "2026-11-24.1");
  const std::string bad = WriteFile("bad.toml", kBadRules);
  const test_support::ProcessResult refused = On({"risk", "rules", "set", bad});
  Expect(refused, 2);
  EXPECT_NE(refused.err.find(bad + ":4:"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("(version 2026-11-24.1) are unchanged"), std::string::npos) << refused.err;
  EXPECT_EQ(Str(Json({"risk", "rules", "show"}), "version"), "2026-11-24.1");

  EXPECT_TRUE(Json({"risk", "list", "add", "blocked_devices", "1001"}).at("added").as_bool());
  const bj::value shown = Json({"risk", "list", "show", "blocked_devices"});
  EXPECT_EQ(shown.at("lists").at(0).at("items").at(0).as_string(), "1001");
  Expect(On({"risk", "list", "add", "no_such_list", "1"}), 3);
  Expect(On({"risk", "list", "add", "blocked_devices", "FR"}), 2);
  EXPECT_TRUE(Json({"risk", "list", "remove", "blocked_devices", "1001"}).at("removed").as_bool());
  EXPECT_TRUE(Json({"risk", "list", "show", "blocked_devices"}).at("lists").at(0).at("items").as_array().empty());
}

}  // namespace
}  // namespace tpw
