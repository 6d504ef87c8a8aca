// tpwallet risk rules set|show, risk list add|remove|show: the risk rules and lists a data
// directory's engine holds (src/engine/engine_risk.cc; the same state `tpwallet serve` exposes
// under /v1/risk). docs/cli.md, "Risk rules", is the contract.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/render.h"
#include "cli/risk_values.h"
#include "cli/session.h"
#include "common/assert.h"
#include "engine/engine.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

struct RulesSetOptions {
  CommonOptions common;
  std::string file;
};

struct ListOptions {
  CommonOptions common;
  std::string list;
  std::string value;
};

CommandResult<std::unique_ptr<Session>> OpenRiskSession(const CommonOptions& o) {
  CommandResult<std::unique_ptr<Session>> session = OpenSession(o);
  if (session.ok() || session.error().code != "locked") return session;
  CommandError error = session.error();
  error.message +=
      "; if `tpwallet serve` is running on this directory, change the rules through its API "
      "(PUT /v1/risk/rules, /v1/risk/lists/...) or its --risk-rules file and SIGHUP";
  return Fail(std::move(error));
}

CommandResult<engine::RiskReply> RunRisk(const CommonOptions& o, engine::RiskCommand command) {
  CommandResult<std::unique_ptr<Session>> session = OpenRiskSession(o);
  if (!session.ok()) return Fail(session.error());
  engine::Reply reply = session.value()->engine->ExecuteRisk(std::move(command));
  if (std::optional<CommandError> failure = ReplyFailure(*session.value(), reply)) return Fail(*failure);
  TPW_ASSERT(reply.risk.has_value());
  return std::move(*reply.risk);
}

CommandError RiskErrorOf(const engine::RiskReply& reply) {
  const int exit_code = reply.error == engine::RiskError::unknown_list ? kExitNotFound : kExitUsage;
  return CommandError{exit_code, "risk", std::string(engine::RiskErrorName(reply.error)), reply.detail};
}

bj::object StatusJson(const engine::RiskStatus& s) {
  return bj::object{{"version", s.version},     {"rules_set", s.rules_set},
                    {"rules", s.rules},         {"features", s.features},
                    {"lists", s.lists},         {"velocity_keys", s.velocity_keys},
                    {"velocity_bytes", s.velocity_bytes}, {"decisions", s.decisions}};
}

void PrintStatus(const engine::RiskStatus& s) {
  std::printf("version:        %s%s\n", s.version.c_str(), s.rules_set ? "" : " (no rules set: every payment is approved)");
  std::printf("rules:          %llu (%llu velocity features, %llu lists)\n",
              static_cast<unsigned long long>(s.rules), static_cast<unsigned long long>(s.features),
              static_cast<unsigned long long>(s.lists));
  std::printf("velocity state: %llu keys, %llu bytes\n", static_cast<unsigned long long>(s.velocity_keys),
              static_cast<unsigned long long>(s.velocity_bytes));
  std::printf("decisions:      %llu journaled\n", static_cast<unsigned long long>(s.decisions));
}

int RunRulesSet(const RulesSetOptions& o) {
  std::string text;
  std::string error;
  if (!ReadRulesFile(o.file, text, error)) return Report(o.common, UsageError(error));
  engine::RiskCommand command;
  command.kind = engine::RiskCommandKind::set_rules;
  command.rules_text = std::move(text);
  CommandResult<engine::RiskReply> reply = RunRisk(o.common, std::move(command));
  if (!reply.ok()) return Report(o.common, reply.error());
  const engine::RiskReply& r = reply.value();
  if (r.error == engine::RiskError::invalid_rules) {
    if (o.common.json) {
      bj::array errors;
      for (const risk::RuleError& e : r.rule_errors) {
        errors.push_back(bj::object{{"line", e.line}, {"column", e.column}, {"message", e.message}});
      }
      PrintJson(bj::object{{"ok", false}, {"file", o.file}, {"active_version", r.status.version},
                           {"errors", std::move(errors)}});
    } else {
      for (const risk::RuleError& e : r.rule_errors) {
        std::fprintf(stderr, "%s\n", risk::FormatRuleError(o.file, e).c_str());
      }
      std::fprintf(stderr, "%zu error(s): the active rules (version %s) are unchanged; fix %s "
                   "(`tpwallet risk check %s`) and run this again\n",
                   r.rule_errors.size(), r.status.version.c_str(), o.file.c_str(), o.file.c_str());
    }
    return kExitUsage;
  }
  if (o.common.json) {
    bj::object out = StatusJson(r.status);
    out["ok"] = true;
    out["file"] = o.file;
    PrintJson(out);
  } else {
    std::printf("risk rules from %s are active\n", o.file.c_str());
    PrintStatus(r.status);
  }
  return kExitOk;
}

int RunRulesShow(const CommonOptions& o) {
  engine::RiskCommand command;
  command.kind = engine::RiskCommandKind::show_rules;
  CommandResult<engine::RiskReply> reply = RunRisk(o, std::move(command));
  if (!reply.ok()) return Report(o, reply.error());
  const engine::RiskReply& r = reply.value();
  if (o.json) {
    bj::object out = StatusJson(r.status);
    out["text"] = r.status.rules_set ? bj::value(r.rules_text) : bj::value(nullptr);
    PrintJson(out);
    return kExitOk;
  }
  PrintStatus(r.status);
  if (r.status.rules_set) std::printf("----\n%s", r.rules_text.c_str());
  return kExitOk;
}

int RunListChange(const ListOptions& o, engine::RiskCommandKind kind) {
  engine::RiskCommand command;
  command.kind = kind;
  command.list = o.list;
  command.value = o.value;
  CommandResult<engine::RiskReply> reply = RunRisk(o.common, std::move(command));
  if (!reply.ok()) return Report(o.common, reply.error());
  if (reply.value().error != engine::RiskError::ok) return Report(o.common, RiskErrorOf(reply.value()));
  const bool add = kind == engine::RiskCommandKind::list_add;
  if (o.common.json) {
    PrintJson(bj::object{{"list", o.list}, {"value", o.value}, {add ? "added" : "removed", true},
                         {"version", reply.value().status.version}});
  } else {
    std::printf("%s %s %s\n", add ? "added" : "removed", o.value.c_str(), o.list.c_str());
  }
  return kExitOk;
}

int RunListShow(const ListOptions& o) {
  engine::RiskCommand command;
  command.kind = engine::RiskCommandKind::list_show;
  command.list = o.list;
  CommandResult<engine::RiskReply> reply = RunRisk(o.common, std::move(command));
  if (!reply.ok()) return Report(o.common, reply.error());
  const engine::RiskReply& r = reply.value();
  if (r.error != engine::RiskError::ok) return Report(o.common, RiskErrorOf(r));
  if (o.common.json) {
    bj::array lists;
    for (const engine::RiskListContents& l : r.lists) {
      bj::array items;
      for (const std::string& item : l.items) items.push_back(bj::string(item));
      lists.push_back(bj::object{{"name", l.name}, {"kind", l.kind}, {"role", l.role}, {"items", std::move(items)}});
    }
    PrintJson(bj::object{{"version", r.status.version}, {"lists", std::move(lists)}});
    return kExitOk;
  }
  if (r.lists.empty()) std::printf("the active rules (version %s) declare no list\n", r.status.version.c_str());
  for (const engine::RiskListContents& l : r.lists) {
    std::printf("%s (%s %s): %zu item%s\n", l.name.c_str(), l.role.c_str(), l.kind.c_str(),
                l.items.size(), l.items.size() == 1 ? "" : "s");
    for (const std::string& item : l.items) std::printf("  %s\n", item.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterRiskDataCommands(CLI::App& risk_cmd, int& exit_code) {
  CLI::App* rules = risk_cmd.add_subcommand(
      "rules", "The risk rules a data directory's engine decides with (journaled, kept across restarts).\n"
               "Example: tpwallet risk rules set examples/risk/rules.toml --data-dir ./data");
  rules->require_subcommand(1);
  auto set = std::make_shared<RulesSetOptions>();
  CLI::App* s = rules->add_subcommand(
      "set",
      "Make FILE the active rules: validated first; errors are printed as FILE:LINE:COL and the "
      "active rules stay (exit 2).\n"
      "Examples:\n"
      "  tpwallet risk rules set examples/risk/rules.toml --data-dir ./data\n"
      "  tpwallet risk rules set rules.toml --json");
  s->add_option("FILE", set->file, "The rules file (TOML, docs/risk-rules.md)")->required();
  AddCommonOptions(*s, set->common);
  s->callback([set, &exit_code] { exit_code = RunRulesSet(*set); });

  auto show = std::make_shared<CommonOptions>();
  CLI::App* sh = rules->add_subcommand(
      "show", "Print the active version, counts, velocity memory and the rules text.\n"
              "Example: tpwallet risk rules show --data-dir ./data --json");
  AddCommonOptions(*sh, *show);
  sh->callback([show, &exit_code] { exit_code = RunRulesShow(*show); });

  CLI::App* list = risk_cmd.add_subcommand(
      "list", "Change or show the run-time contents of the lists the active rules declare.\n"
              "Example: tpwallet risk list add blocked_devices 1001 --data-dir ./data");
  list->require_subcommand(1);
  for (const bool add : {true, false}) {
    auto o = std::make_shared<ListOptions>();
    CLI::App* c = list->add_subcommand(
        add ? "add" : "remove",
        std::string(add ? "Add VALUE to LIST (journaled)." : "Remove VALUE from LIST (journaled; an absent value is fine).") +
            "\nValues: decimal ids, two-letter countries (FR), IP addresses.\n"
            "Example: tpwallet risk list " + (add ? "add" : "remove") +
            " blocked_devices 1001 --data-dir ./data");
    c->add_option("LIST", o->list, "The list's name ([lists.NAME] in the rules)")->required();
    c->add_option("VALUE", o->value, "The item")->required();
    AddCommonOptions(*c, o->common);
    const engine::RiskCommandKind kind = add ? engine::RiskCommandKind::list_add : engine::RiskCommandKind::list_remove;
    c->callback([o, kind, &exit_code] { exit_code = RunListChange(*o, kind); });
  }
  auto shown = std::make_shared<ListOptions>();
  CLI::App* ls = list->add_subcommand(
      "show", "Show every list (or LIST) with its items.\n"
              "Examples:\n  tpwallet risk list show --data-dir ./data\n"
              "  tpwallet risk list show blocked_devices --json");
  ls->add_option("LIST", shown->list, "Only this list");
  AddCommonOptions(*ls, shown->common);
  ls->callback([shown, &exit_code] { exit_code = RunListShow(*shown); });
}

}  // namespace tpw::cli
