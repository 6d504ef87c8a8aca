// RuleSet: a compiled rules file (format: docs/risk-rules.md). Immutable once compiled, so one
// set can be shared by any number of threads (std::shared_ptr<const RuleSet>).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "risk/event.h"
#include "risk/expr.h"
#include "risk/program.h"

namespace tpw::risk {

enum class Action : uint8_t { allow = 0, block = 1, review = 2, step_up = 3 };
std::string_view ActionName(Action action);

enum class ListRole : uint8_t { allow = 0, deny = 1, watch = 2 };
std::string_view ListRoleName(ListRole role);

struct Rule {
  std::string name;
  std::string condition;
  bool is_action = false;  // true: `action` decides when it matches; false: adds `weight`
  Action action = Action::allow;
  Cvm cvm = Cvm::none;  // step_up actions: the verification asked for
  int64_t weight = 0;
  uint32_t line = 0;  // of the rule's `name`, for messages
  CodeRange code;
};

// Scores at or above `decline` decline, else at or above `review` go to review, else at or
// above `step_up` ask for `step_up_cvm`, else approve. step_up <= review <= decline.
struct Thresholds {
  int64_t step_up = 0;
  int64_t review = 0;
  int64_t decline = 0;
  Cvm step_up_cvm = Cvm::strong;
};

// A named list as declared in the file; its items are the starting contents (ListSet holds the
// run-time contents).
struct ListSpec {
  std::string name;
  KeyKind kind = KeyKind::account;
  ListRole role = ListRole::watch;
  std::vector<u128> items;  // sorted, unique
};

// The [offline] section: limits a device certificate gets at enrollment and sync when the
// request does not set them, and the largest allowance enrollment accepts. All optional but
// the asset; amounts are in `asset` (ledger number).
struct OfflineLimits {
  uint32_t asset = 0;
  std::optional<Amount> cvm_threshold;
  std::optional<Amount> per_payment_max;
  std::optional<Amount> allowance_max;
  uint32_t payment_count_max = 0;  // 0: not set
};

// An error in a rules file, at a 1-based line and column of the file.
struct RuleError {
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;
};

// A rule whose condition is one range test, or two joined by `and` (a single test's second
// is the default, which always holds): RiskEngine decides it from this table, not from its
// bytecode (program.h, RangeTest).
struct TestedRule {
  std::array<RangeTest, 2> tests;
  uint32_t rule = 0;  // index in RuleSet::rules()
};

class RuleSet;
struct CompileResult {
  std::shared_ptr<const RuleSet> rules;  // null when errors is not empty
  std::vector<RuleError> errors;         // in file order
};

class RuleSet {
 public:
  // Parses, type-checks and compiles a whole rules file. Reports every error it finds (each
  // with its line and column) and then no rule set, or a rule set and no error.
  static CompileResult Compile(std::string_view text);

  const std::string& version() const { return version_; }
  const std::vector<Rule>& rules() const { return rules_; }
  const std::vector<ListSpec>& lists() const { return lists_; }
  const Thresholds& thresholds() const { return thresholds_; }
  const std::optional<OfflineLimits>& offline_limits() const { return offline_; }
  const Program& program() const { return program_; }
  const std::vector<FeatureSpec>& features() const { return program_.features; }
  // The rules in two forms (each rule in one): a table of range tests, and the indexes of the
  // rules whose bytecode runs, in order. Bit i of tested_features(): a test reads feature i.
  const std::vector<TestedRule>& tested_rules() const { return tested_rules_; }
  const std::vector<uint32_t>& interpreted_rules() const { return interpreted_rules_; }
  uint32_t tested_features() const { return tested_features_; }
  // The constants' assets the tests check (RangeTest::asset_check), at most kTestAssetsMax.
  const std::vector<uint32_t>& test_assets() const { return test_assets_; }

 private:
  friend class RuleSetBuilder;
  void SortRulesByForm();
  bool TestsOf(CodeRange code, TestedRule& tested);
  bool TestOf(const Instr& in, RangeTest& test);
  std::string version_;
  std::vector<Rule> rules_;
  std::vector<ListSpec> lists_;
  Thresholds thresholds_;
  std::optional<OfflineLimits> offline_;
  Program program_;
  std::vector<TestedRule> tested_rules_;
  std::vector<uint32_t> interpreted_rules_;
  uint32_t tested_features_ = 0;
  std::vector<uint32_t> test_assets_;
};

// "FILE:LINE:COL: message", the form compilers use, so editors can jump to it.
std::string FormatRuleError(std::string_view file, const RuleError& error);

}  // namespace tpw::risk
