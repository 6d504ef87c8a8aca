// Risk requests to the engine (issue 6): the active rules, run-time lists, dry-run evaluations
// and journaled decisions. The risk state (rules text, velocity windows, list contents) lives in
// the sequencer like the ledger: every change is a fact (docs/journal-format.md, "Risk facts"),
// saved in snapshots and rebuilt exactly by replay. Rules format: docs/risk-rules.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "risk/event.h"
#include "risk/rules.h"

namespace tpw::engine {

enum class RiskCommandKind : uint8_t {
  set_rules,    // compile `rules_text`; on success it becomes the active set (a fact)
  show_rules,   // the active version and text
  list_add,     // add `value` to list `list` (a fact)
  list_remove,  // remove `value` from list `list` (a fact)
  list_show,    // contents of `list`, or of every list when `list` is empty
  evaluate,     // dry run of `event` at the step's time: no fact, no state change
  decide,       // decide `event` (a fact); approvals count in velocity features
  status,       // version, counts, velocity memory
};

struct RiskCommand {
  RiskCommandKind kind = RiskCommandKind::status;
  std::string rules_text;  // set_rules
  std::string list;        // list_*: the list's name
  std::string value;       // list_add / list_remove: the item as text ("1001", "FR", "203.0.113.7")
  risk::Event event;       // evaluate / decide
};

enum class RiskError : uint8_t {
  ok = 0,
  invalid_rules = 1,   // set_rules: the text does not compile (see rule_errors); nothing changed
  unknown_list = 2,    // no list of that name in the active rules
  invalid_value = 3,   // not a value of the list's kind
  list_full = 4,       // the list holds its maximum of items
};
std::string_view RiskErrorName(RiskError error);
std::string_view RiskErrorMessage(RiskError error);

// A decision with owned strings (the engine's rule set may be replaced once the reply leaves
// the sequencer).
struct RiskOutcome {
  risk::Decision decision = risk::Decision::approve;
  risk::Cvm required_cvm = risk::Cvm::none;
  int64_t score = 0;
  std::vector<std::string> matched_rules;
  std::string decided_by;
  std::string version;
  uint64_t time_ns = 0;  // the engine's clock at the step that decided
};

struct RiskListContents {
  std::string name;
  std::string kind;  // account, device, merchant, terminal, ip, country
  std::string role;  // allow, deny, watch
  std::vector<std::string> items;  // sorted, as text
};

struct RiskStatus {
  std::string version = "none";  // "none" until rules are set
  bool rules_set = false;
  uint64_t rules = 0;
  uint64_t features = 0;
  uint64_t lists = 0;
  uint64_t velocity_keys = 0;
  uint64_t velocity_bytes = 0;
  uint64_t decisions = 0;  // journaled decisions (decide and offline clearing)
  // status only: BLAKE2b-256 (hex) of the saved velocity state and list contents, so two engines
  // (or one before and after a restart) can be compared without shipping the state.
  std::string state_digest;
};

struct RiskReply {
  RiskError error = RiskError::ok;
  std::string detail;
  std::vector<risk::RuleError> rule_errors;  // set_rules with invalid_rules
  std::optional<RiskOutcome> outcome;        // evaluate / decide
  RiskStatus status;                         // every command: the state after it
  std::string rules_text;                    // show_rules (empty while no rules were set)
  std::vector<RiskListContents> lists;       // list_show
};

// The rules in force before any are set: no rule, every payment approved, version "none".
inline constexpr std::string_view kNoRiskRules =
    "version = \"none\"\n[thresholds]\nstep_up = 1\nreview = 1\ndecline = 1\n";

}  // namespace tpw::engine
