// tpwallet risk check | evaluate: validate a rules file and dry-run a payment against it
// (src/risk; format in docs/risk-rules.md, commands in docs/cli.md, "Risk rules").
//
// Both commands work on files alone: no data directory, no server. `evaluate` starts from
// empty velocity state, or from the state `--history` builds by deciding earlier payments.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/render.h"
#include "cli/risk_values.h"
#include "cli/values.h"
#include "common/asset.h"
#include "risk/risk.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;
using risk::RuleSet;

// A history file holds at most this many events (one JSON object per line).
constexpr size_t kHistoryEventsMax = 10'000'000;
constexpr size_t kEventJsonBytesMax = 64 * 1024;

struct CheckOptions {
  std::string file;
  bool json = false;
};

struct EvaluateOptions {
  std::string rules;
  std::string event;    // JSON text, or @path
  std::string history;  // JSON lines, decided in order before the dry run
  bool json = false;
};

// ---- Files ----------------------------------------------------------------------------------

void PrintErrors(const std::string& file, const std::vector<risk::RuleError>& errors, bool json) {
  if (!json) {
    for (const risk::RuleError& e : errors) {
      std::fprintf(stderr, "%s\n", risk::FormatRuleError(file, e).c_str());
    }
    std::fprintf(stderr,
                 "%zu error%s: the rules were not accepted; fix them and run "
                 "`tpwallet risk check %s` again\n",
                 errors.size(), errors.size() == 1 ? "" : "s", file.c_str());
    return;
  }
  bj::array list;
  for (const risk::RuleError& e : errors) {
    list.push_back(bj::object{{"line", e.line}, {"column", e.column}, {"message", e.message}});
  }
  PrintJson(bj::object{{"ok", false}, {"file", file}, {"errors", std::move(list)}});
}

// The compiled rules, or null after printing why not.
std::shared_ptr<const RuleSet> LoadRules(const std::string& path, bool json) {
  std::string text;
  std::string error;
  if (!ReadRulesFile(path, text, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return nullptr;
  }
  risk::CompileResult compiled = RuleSet::Compile(text);
  if (!compiled.errors.empty()) PrintErrors(path, compiled.errors, json);
  return compiled.rules;
}

// ---- check ----------------------------------------------------------------------------------

bj::object SummaryJson(const RuleSet& rules) {
  bj::array rule_list;
  for (const risk::Rule& r : rules.rules()) {
    bj::object o{{"name", r.name}, {"line", r.line}, {"condition", r.condition}};
    if (r.is_action) {
      o["action"] = risk::ActionName(r.action);
      if (r.action == risk::Action::step_up) o["cvm"] = risk::CvmName(r.cvm);
    } else {
      o["weight"] = r.weight;
    }
    rule_list.push_back(std::move(o));
  }
  bj::array lists;
  for (const risk::ListSpec& l : rules.lists()) {
    lists.push_back(bj::object{{"name", l.name},
                               {"kind", risk::KeyKindName(l.kind)},
                               {"role", risk::ListRoleName(l.role)},
                               {"items", l.items.size()}});
  }
  bj::array features;
  for (const risk::FeatureSpec& f : rules.features())
    features.push_back(bj::string(risk::FeatureText(f)));
  const risk::Thresholds& t = rules.thresholds();
  return bj::object{{"ok", true},
                    {"version", rules.version()},
                    {"thresholds", bj::object{{"step_up", t.step_up},
                                              {"review", t.review},
                                              {"decline", t.decline},
                                              {"step_up_cvm", risk::CvmName(t.step_up_cvm)}}},
                    {"rules", std::move(rule_list)},
                    {"lists", std::move(lists)},
                    {"features", std::move(features)}};
}

void PrintSummary(const std::string& file, const RuleSet& rules) {
  size_t actions = 0;
  for (const risk::Rule& r : rules.rules()) actions += r.is_action ? 1 : 0;
  const risk::Thresholds& t = rules.thresholds();
  std::printf("%s: ok, version %s\n", file.c_str(), rules.version().c_str());
  std::printf("rules: %zu (%zu action, %zu weight)\n", rules.rules().size(), actions,
              rules.rules().size() - actions);
  for (const risk::Rule& r : rules.rules()) {
    if (r.is_action) {
      std::printf("  %-32s action %s%s%s\n", r.name.c_str(),
                  std::string(ActionName(r.action)).c_str(),
                  r.action == risk::Action::step_up ? " cvm " : "",
                  r.action == risk::Action::step_up ? std::string(CvmName(r.cvm)).c_str() : "");
    } else {
      std::printf("  %-32s weight %lld\n", r.name.c_str(), static_cast<long long>(r.weight));
    }
  }
  std::printf("thresholds: step_up >= %lld (cvm %s), review >= %lld, decline >= %lld\n",
              static_cast<long long>(t.step_up), std::string(CvmName(t.step_up_cvm)).c_str(),
              static_cast<long long>(t.review), static_cast<long long>(t.decline));
  std::printf("lists: %zu\n", rules.lists().size());
  for (const risk::ListSpec& l : rules.lists()) {
    std::printf("  %-32s %s %s, %zu item%s\n", l.name.c_str(),
                std::string(ListRoleName(l.role)).c_str(), std::string(KeyKindName(l.kind)).c_str(),
                l.items.size(), l.items.size() == 1 ? "" : "s");
  }
  std::printf("velocity features: %zu\n", rules.features().size());
  for (const risk::FeatureSpec& f : rules.features()) {
    std::printf("  %s\n", risk::FeatureText(f).c_str());
  }
}

int RunCheck(const CheckOptions& o) {
  std::shared_ptr<const RuleSet> rules = LoadRules(o.file, o.json);
  if (rules == nullptr) return kExitUsage;
  if (o.json) {
    bj::object summary = SummaryJson(*rules);
    summary["file"] = o.file;
    PrintJson(summary);
  } else {
    PrintSummary(o.file, *rules);
  }
  return kExitOk;
}

// ---- evaluate -------------------------------------------------------------------------------

struct TimedEvent {
  risk::Event event;
  Timestamp time;
};

// Reads one string-or-integer member as text ("" when absent).
bool ParseEvent(std::string_view json, TimedEvent& out, std::string& error) {
  boost::system::error_code ec;
  const bj::value value = bj::parse(json, ec);
  if (ec || !value.is_object()) {
    error =
        "an event is one JSON object, e.g. {\"amount\": \"12.50\", \"asset\": \"EUR\", "
        "\"account\": \"42\"}";
    return false;
  }
  std::optional<Timestamp> time;
  out = TimedEvent{};
  if (!RiskEventFromJson(value.get_object(), out.event, time, error)) return false;
  out.time = time.value_or(
      Timestamp{static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count())});
  return true;
}

bool ReplayHistory(const std::string& path, risk::RiskEngine& engine) {
  std::ifstream file(path);
  if (!file) {
    std::fprintf(stderr, "error: cannot read %s: check the path and its permissions\n",
                 path.c_str());
    return false;
  }
  std::string line;
  size_t number = 0;
  while (std::getline(file, line)) {
    ++number;
    if (line.empty()) continue;
    TimedEvent event;
    std::string error;
    if (number > kHistoryEventsMax || line.size() > kEventJsonBytesMax ||
        !ParseEvent(line, event, error)) {
      std::fprintf(stderr, "%s:%zu: %s\n", path.c_str(), number,
                   error.empty() ? "line too long or too many lines" : error.c_str());
      return false;
    }
    (void)engine.Decide(event.event, event.time);
  }
  return true;
}

void PrintDecision(const risk::RiskDecision& d, Timestamp time, bool json) {
  if (json) {
    bj::array matched;
    for (std::string_view name : d.matched_rules) matched.push_back(bj::string(name));
    PrintJson(bj::object{{"decision", risk::DecisionName(d.decision)},
                         {"required_cvm", risk::CvmName(d.required_cvm)},
                         {"score", d.score},
                         {"decided_by", d.decided_by},
                         {"matched_rules", std::move(matched)},
                         {"rules_version", d.rules_version},
                         {"time", FormatTimeUtc(time)}});
    return;
  }
  std::printf("decision:      %s\n", std::string(DecisionName(d.decision)).c_str());
  std::printf("required cvm:  %s\n", std::string(CvmName(d.required_cvm)).c_str());
  std::printf("score:         %lld\n", static_cast<long long>(d.score));
  std::printf("decided by:    %s\n", d.decided_by.empty() ? "thresholds (no action rule matched)"
                                                          : std::string(d.decided_by).c_str());
  std::printf("matched rules:");
  for (std::string_view name : d.matched_rules)
    std::printf(" %.*s", static_cast<int>(name.size()), name.data());
  std::printf("%s\nrules version: %s\ntime:          %s\n",
              d.matched_rules.empty() ? " (none)" : "", std::string(d.rules_version).c_str(),
              FormatTimeUtc(time).c_str());
}

int RunEvaluate(const EvaluateOptions& o) {
  std::shared_ptr<const RuleSet> rules = LoadRules(o.rules, o.json);
  if (rules == nullptr) return kExitUsage;
  std::string event_text = o.event;
  if (std::string read_error; !event_text.empty() && event_text[0] == '@' &&
                              !ReadTextFile(event_text.substr(1), kEventJsonBytesMax, event_text,
                                            read_error)) {
    std::fprintf(stderr, "error: %s\n", read_error.c_str());
    return kExitUsage;
  }
  TimedEvent event;
  std::string error;
  if (!ParseEvent(event_text, event, error)) {
    std::fprintf(stderr, "error: --event: %s\n", error.c_str());
    return kExitUsage;
  }
  risk::RiskEngine engine(rules);
  if (!o.history.empty() && !ReplayHistory(o.history, engine)) return kExitUsage;
  PrintDecision(engine.Evaluate(event.event, event.time), event.time, o.json);
  return kExitOk;
}

}  // namespace

void RegisterRiskCommands(CLI::App& app, int& exit_code) {
  CLI::App* risk_cmd =
      app.add_subcommand("risk",
                         "Risk rules: validate a rules file, dry-run a payment against it, set the "
                         "rules and lists of a data directory.\n"
                         "Example: tpwallet risk check examples/risk/rules.toml");
  risk_cmd->require_subcommand(1);

  auto check = std::make_shared<CheckOptions>();
  CLI::App* c = risk_cmd->add_subcommand(
      "check",
      "Validate a rules file: print every error as FILE:LINE:COL: message (exit 2), or a summary "
      "of its rules, lists and velocity features (exit 0).\n"
      "Examples:\n"
      "  tpwallet risk check examples/risk/rules.toml\n"
      "  tpwallet risk check rules.toml --json");
  c->add_option("FILE", check->file, "The rules file (TOML, docs/risk-rules.md)")->required();
  c->add_flag("--json", check->json, "Print the summary or the errors as one JSON object");
  c->callback([check, &exit_code] { exit_code = RunCheck(*check); });

  auto evaluate = std::make_shared<EvaluateOptions>();
  CLI::App* e = risk_cmd->add_subcommand(
      "evaluate",
      "Dry-run one payment against a rules file and print the decision with its reasons. "
      "Velocity features start empty, or from the payments in --history (decided in order; "
      "approvals are recorded).\n"
      "Example:\n"
      "  tpwallet risk evaluate --rules examples/risk/rules.toml --event "
      "'{\"amount\": \"1500.00\", \"asset\": \"EUR\", \"account\": \"42\", \"device\": \"7\", "
      "\"channel\": \"online\", \"time\": \"2026-11-24T10:00:00Z\"}'");
  e->add_option("--rules", evaluate->rules, "The rules file (TOML)")->required();
  e->add_option("--event", evaluate->event,
                "The payment as a JSON object, or @FILE holding one. Fields: amount (decimal "
                "text), asset, account, device, merchant, terminal, merchant_category, channel, "
                "country, ip, device_age_seconds, cvm_performed, time (RFC 3339; default now)")
      ->required();
  e->add_option("--history", evaluate->history,
                "A file of earlier payments, one JSON object per line, decided in order first");
  e->add_flag("--json", evaluate->json, "Print the decision as one JSON object");
  e->callback([evaluate, &exit_code] { exit_code = RunEvaluate(*evaluate); });
  RegisterRiskDataCommands(*risk_cmd, exit_code);
}

}  // namespace tpw::cli
