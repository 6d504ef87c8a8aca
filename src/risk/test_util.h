// Helpers shared by the risk tests: rules files around one condition, events, times.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "risk/risk.h"

namespace tpw::risk::test {

inline constexpr uint64_t kHourNs = 3600 * kNanosPerSecond;
inline Timestamp At(uint64_t seconds) { return Timestamp{seconds * kNanosPerSecond}; }
inline constexpr uint32_t kUsd = 1;
inline constexpr uint32_t kEur = 2;

// A rules file with two lists and one `block` rule holding `condition`.
inline std::string OneRuleFile(const std::string& condition) {
  return "version = \"test-1\"\n"
         "[thresholds]\nstep_up = 10\nreview = 20\ndecline = 30\n"
         "[lists.blocked_devices]\nkind = \"device\"\nrole = \"deny\"\nitems = [\"7\"]\n"
         "[lists.watched_countries]\nkind = \"country\"\nrole = \"watch\"\nitems = [\"RU\"]\n"
         "[[rule]]\nname = \"the_rule\"\ncondition = '''" +
         condition + "'''\naction = \"block\"\n";
}

inline std::shared_ptr<const RuleSet> MustCompile(const std::string& text) {
  CompileResult result = RuleSet::Compile(text);
  for (const RuleError& e : result.errors) {
    ADD_FAILURE() << "line " << e.line << " column " << e.column << ": " << e.message;
  }
  return result.rules;
}

// An engine over the rules `text` compiles to, or null (the errors reported as failures).
inline std::unique_ptr<RiskEngine> EngineFor(const std::string& text) {
  std::shared_ptr<const RuleSet> rules = MustCompile(text);
  return rules == nullptr ? nullptr : std::make_unique<RiskEngine>(rules);
}

// The first error compiling `text` ("" when it compiles).
inline RuleError FirstError(const std::string& text) {
  CompileResult result = RuleSet::Compile(text);
  return result.errors.empty() ? RuleError{0, 0, ""} : result.errors.front();
}

inline Event SampleEvent() {
  Event e;
  e.amount = Amount::FromMinor(10'000);
  e.asset = kEur;
  e.account = 42;
  e.device = 1001;
  e.merchant = 501;
  e.terminal = 901;
  e.merchant_category = 5411;
  e.channel = Channel::online;
  e.country = *ParseCountry("FR");
  e.ip = *ParseIp("203.0.113.7");
  e.device_age_seconds = 3 * 86400;
  e.cvm_performed = Cvm::none;
  return e;
}

}  // namespace tpw::risk::test
