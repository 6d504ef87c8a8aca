// The rules compiler (risk::RuleSet::Compile): TOML through toml++, then the condition parser,
// type checker and code generator. Byte 0 picks the form: even, the rest is a whole rules file;
// odd, the rest is one condition placed in a fixed file (so mutations reach the expression
// compiler instead of breaking TOML). Beyond "no crash":
// - every error has a line and column inside the text (1-based) and a message;
// - a compiled set has 1..kRulesMax rules whose code lies inside the program, and evaluating it
//   on a few events (with Decide recording them) gives a valid decision whose matched rules are
//   rules of the set.
#include <string>

#include "fuzz_check.h"
#include "risk/risk.h"
#include "risk_inputs.h"

namespace {

using namespace tpw;

std::string WrapCondition(std::string_view condition) {
  return "version = \"f\"\n[thresholds]\nstep_up = 1\nreview = 2\ndecline = 3\n"
         "[lists.l]\nkind = \"device\"\nrole = \"deny\"\n"
         "[[rule]]\nname = \"r\"\ncondition = '''" +
         std::string(condition) + "'''\nweight = 1\n";
}

void CheckErrors(const risk::CompileResult& result, std::string_view text) {
  size_t lines = 1;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  for (const risk::RuleError& e : result.errors) {
    FUZZ_CHECK(e.line >= 1 && e.line <= lines + 1);
    FUZZ_CHECK(e.column >= 1);
    FUZZ_CHECK(!e.message.empty());
  }
}

void CheckRules(const risk::RuleSet& rules, uint8_t seed) {
  FUZZ_CHECK(!rules.version().empty());
  FUZZ_CHECK(rules.rules().size() <= risk::kRulesMax);
  FUZZ_CHECK(rules.features().size() <= risk::kFeaturesMax);
  for (const risk::Rule& r : rules.rules()) {
    FUZZ_CHECK(r.code.begin < r.code.end && r.code.end <= rules.program().code.size());
  }
  risk::RiskEngine engine(std::make_shared<const risk::RuleSet>(rules));
  for (uint8_t i = 0; i < 4; ++i) {
    const risk::Event event = fuzz::FuzzEvent(static_cast<uint8_t>(seed + i * 37), i);
    const risk::RiskDecision d = engine.Decide(event, Timestamp{uint64_t{i} * 1'000'000'000});
    FUZZ_CHECK(static_cast<uint8_t>(d.decision) <= static_cast<uint8_t>(risk::Decision::decline));
    FUZZ_CHECK(d.matched_rules.size() <= rules.rules().size());
    FUZZ_CHECK(d.rules_version == rules.version());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view rest = fuzz::AsText(fuzz::AsSpan(data + 1, size - 1));
  const std::string text = (data[0] & 1) != 0 ? WrapCondition(rest) : std::string(rest);
  const risk::CompileResult result = risk::RuleSet::Compile(text);
  FUZZ_CHECK((result.rules == nullptr) != result.errors.empty());
  CheckErrors(result, text);
  if (result.rules != nullptr) CheckRules(*result.rules, data[0]);
  return 0;
}
