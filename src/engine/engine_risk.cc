// The engine's risk state (issue 6): the active rules, their velocity windows and list contents.
// Sequencer state like the ledger's: changed only on the sequencer thread, journaled as facts
// (risk_facts.h), saved in snapshots and rebuilt exactly by replay. Replay recompiles the
// journaled rules text and re-decides journaled events at their recorded time, so the velocity
// state after replay is the one the live engine had.
#include <algorithm>

#include "engine/engine_impl.h"
#include "engine/risk_facts.h"
#include "risk/limits.h"

namespace tpw::engine {

std::string_view RiskErrorName(RiskError error) {
  switch (error) {
    case RiskError::ok:
      return "ok";
    case RiskError::invalid_rules:
      return "invalid_rules";
    case RiskError::unknown_list:
      return "unknown_list";
    case RiskError::invalid_value:
      return "invalid_value";
    case RiskError::list_full:
      return "list_full";
  }
  return "unknown";
}

std::string_view RiskErrorMessage(RiskError error) {
  switch (error) {
    case RiskError::ok:
      return "";
    case RiskError::invalid_rules:
      return "the rules do not compile; the active rules are unchanged (fix the errors listed)";
    case RiskError::unknown_list:
      return "the active rules declare no list of that name (see the rules' [lists.NAME] tables)";
    case RiskError::invalid_value:
      return "the value is not one of the list's kind (decimal ids, two-letter countries, IP text)";
    case RiskError::list_full:
      return "the list holds its maximum of items; remove some first";
  }
  return "unknown risk error";
}

namespace {

std::shared_ptr<const risk::RuleSet> CompileOrDie(std::string_view text) {
  risk::CompileResult compiled = risk::RuleSet::Compile(text);
  TPW_ASSERT(compiled.rules != nullptr);
  return compiled.rules;
}

RiskError FromListError(risk::ListError error) {
  switch (error) {
    case risk::ListError::unknown_list:
      return RiskError::unknown_list;
    case risk::ListError::invalid_value:
      return RiskError::invalid_value;
    case risk::ListError::list_full:
      return RiskError::list_full;
  }
  return RiskError::invalid_value;
}

std::string ItemText(risk::KeyKind kind, u128 value) {
  switch (kind) {
    case risk::KeyKind::country:
      return risk::CountryText(static_cast<uint16_t>(value));
    case risk::KeyKind::ip:
      return risk::IpText(value);
    default:
      return U128ToDecimal(value);
  }
}

std::string_view ListRoleOf(const risk::RuleSet& rules, const std::string& name) {
  for (const risk::ListSpec& spec : rules.lists()) {
    if (spec.name == name) return risk::ListRoleName(spec.role);
  }
  return "";
}

RiskOutcome ToRiskOutcome(const risk::RiskDecision& d, uint64_t time_ns) {
  RiskOutcome out;
  out.decision = d.decision;
  out.required_cvm = d.required_cvm;
  out.score = d.score;
  out.matched_rules.assign(d.matched_rules.begin(), d.matched_rules.end());
  out.decided_by = std::string(d.decided_by);
  out.version = std::string(d.rules_version);
  out.time_ns = time_ns;
  return out;
}

}  // namespace

risk::VelocityOptions Engine::Impl::RiskVelocityOptions() const {
  risk::VelocityOptions velocity;
  velocity.reserve_keys = options_.risk_reserve_keys;
  return velocity;
}

void Engine::Impl::ResetRisk() {
  risk_ = std::make_unique<risk::RiskEngine>(CompileOrDie(kNoRiskRules), RiskVelocityOptions());
  risk_rules_text_.clear();
  risk_decisions_ = 0;
}

RiskStatus Engine::Impl::CurrentRiskStatus() const {
  RiskStatus s;
  const risk::RuleSet& rules = risk_->rules();
  s.version = rules.version();
  s.rules_set = !risk_rules_text_.empty();
  s.rules = rules.rules().size();
  s.features = rules.features().size();
  s.lists = rules.lists().size();
  s.velocity_keys = risk_->VelocityKeys();
  s.velocity_bytes = risk_->VelocityBytes();
  s.decisions = risk_decisions_;
  return s;
}

RiskReply Engine::Impl::SetRiskRules(const std::string& text, Group& group) {
  RiskReply out;
  if (text.size() > risk::kRulesFileBytesMax) {
    out.error = RiskError::invalid_rules;
    out.rule_errors.push_back({1, 1, "the rules file is larger than " +
                                         std::to_string(risk::kRulesFileBytesMax) + " bytes"});
    return out;
  }
  risk::CompileResult compiled = risk::RuleSet::Compile(text);
  if (!compiled.errors.empty()) {
    out.error = RiskError::invalid_rules;
    out.rule_errors = std::move(compiled.errors);
    return out;
  }
  group.Add(FactType::risk_rules, EncodeRiskRulesFact(text));
  risk_->UseRules(std::move(compiled.rules));
  risk_rules_text_ = text;
  return out;
}

RiskReply Engine::Impl::ChangeRiskList(const RiskCommand& c, Group& group) {
  RiskReply out;
  const bool add = c.kind == RiskCommandKind::list_add;
  if (c.list.size() > kRiskListTextBytesMax || c.value.size() > kRiskListTextBytesMax) {
    out.error = c.list.size() > kRiskListTextBytesMax ? RiskError::unknown_list : RiskError::invalid_value;
    return out;
  }
  const Status<risk::ListError> changed =
      add ? risk_->lists().Add(c.list, c.value) : risk_->lists().Remove(c.list, c.value);
  if (!changed.ok()) {
    out.error = FromListError(changed.error());
    return out;
  }
  group.Add(FactType::risk_list, EncodeRiskListFact(RiskListFact{add, c.list, c.value}));
  return out;
}

std::vector<RiskListContents> Engine::Impl::RiskLists(const std::string& only) const {
  std::vector<RiskListContents> out;
  const risk::ListSet& lists = risk_->lists();
  for (size_t i = 0; i < lists.size(); ++i) {
    if (!only.empty() && lists.name(i) != only) continue;
    RiskListContents contents;
    contents.name = lists.name(i);
    contents.kind = std::string(risk::KeyKindName(lists.kind(i)));
    contents.role = std::string(ListRoleOf(risk_->rules(), lists.name(i)));
    for (const u128 item : lists.SortedItems(i)) contents.items.push_back(ItemText(lists.kind(i), item));
    out.push_back(std::move(contents));
  }
  return out;
}

RiskOutcome Engine::Impl::DecideAndJournal(const risk::Event& event, Timestamp now, Group& group) {
  risk_->Decide(event, now, risk_scratch_);
  ++risk_decisions_;
  group.Add(FactType::risk_decision,
            EncodeRiskDecisionFact({now.ns, risk_scratch_.decision, risk_scratch_.score, event}));
  return ToRiskOutcome(risk_scratch_, now.ns);
}

void Engine::Impl::ExecuteRisk(Request& request, Reply& reply, Group& group) {
  const RiskCommand& c = *request.risk;
  RiskReply out;
  switch (c.kind) {
    case RiskCommandKind::set_rules:
      out = SetRiskRules(c.rules_text, group);
      break;
    case RiskCommandKind::show_rules:
      out.rules_text = risk_rules_text_;
      break;
    case RiskCommandKind::list_add:
    case RiskCommandKind::list_remove:
      out = ChangeRiskList(c, group);
      break;
    case RiskCommandKind::list_show:
      out.lists = RiskLists(c.list);
      if (!c.list.empty() && out.lists.empty()) out.error = RiskError::unknown_list;
      break;
    case RiskCommandKind::evaluate: {
      const Timestamp now = clock_->Now();
      risk_->Evaluate(c.event, now, risk_scratch_);
      out.outcome = ToRiskOutcome(risk_scratch_, now.ns);
      break;
    }
    case RiskCommandKind::decide:
      out.outcome = DecideAndJournal(c.event, clock_->Now(), group);
      break;
    case RiskCommandKind::status:
      break;
  }
  if (out.error != RiskError::ok && out.detail.empty()) out.detail = std::string(RiskErrorMessage(out.error));
  out.status = CurrentRiskStatus();
  if (c.kind == RiskCommandKind::status) out.status.state_digest = crypto::HashToHex(crypto::Blake2b256(risk_->SaveState()));
  reply.risk = std::move(out);
}

// Offline clearing (issue 6 item 7): every token that cleared is decided with channel offline
// at its terminal time. The money was already given out offline, so a decision other than
// approve does not un-clear the token: it opens a risk_flag exception naming the rules that
// fired. Runs live and on replay of the batch fact alike (the decisions are a function of the
// risk state and the batch), so it journals nothing of its own. Decided as one run
// (RiskEngine::DecideEach: later tokens' velocity lookups overlap earlier decisions). No
// allocation per token: the decision reuses risk_scratch_ and the rule names go into the
// exception's fixed array.
void Engine::Impl::DecideClearedTokens(const std::vector<offline::CheckedToken>& tokens,
                                       const std::vector<offline::TokenOutcome>& outcomes) {
  if (risk_rules_text_.empty()) return;  // no rules: everything approves; keep clearing fast
  std::vector<size_t> cleared;
  for (size_t i = 0; i < outcomes.size() && i < tokens.size(); ++i) {
    if (outcomes[i].classification == offline::Classification::cleared) cleared.push_back(i);
  }
  const auto event_at = [&](size_t n) {
    const offline::PaymentToken& t = tokens[cleared[n]].token;
    const offline::DeviceRecord* device = clearing_.Device(t.certificate.device_id);
    risk::Event event;
    event.channel = risk::Channel::offline;
    event.account = device != nullptr ? device->user_account.value : 0;
    event.device = t.certificate.device_id;
    event.terminal = t.terminal_id;
    event.merchant = t.merchant_id;
    event.amount = t.amount;
    event.asset = t.asset;
    event.cvm_performed = t.cvm == offline::Cvm::pin ? risk::Cvm::pin : risk::Cvm::none;
    return std::pair{event, Timestamp{t.terminal_time * 1'000'000}};
  };
  const auto flag = [&](size_t n, const risk::RiskDecision& decision) {
    ++risk_decisions_;
    if (decision.decision == risk::Decision::approve) return;
    char names[sizeof(offline::ExceptionRecord::risk_rules)] = {};
    size_t used = 0;
    for (const std::string_view name : decision.matched_rules) {
      const size_t need = name.size() + (used == 0 ? 0 : 1);
      if (used + need > sizeof names) break;
      if (used != 0) names[used++] = ',';
      std::copy(name.begin(), name.end(), names + used);
      used += name.size();
    }
    clearing_.OpenRiskFlag(tokens[cleared[n]], static_cast<uint8_t>(decision.decision),
                           std::string_view(names, used));
  };
  risk_->DecideEach(cleared.size(), event_at, flag, risk_scratch_);
}

std::optional<OfflineReply> Engine::Impl::ApplyRiskOfflineLimits(OfflineCommand& c,
                                                                uint32_t asset) const {
  const std::optional<risk::OfflineLimits>& limits = risk_->rules().offline_limits();
  if (!limits || limits->asset != asset) return std::nullopt;
  if (limits->allowance_max && c.allowance > *limits->allowance_max) {
    OfflineReply refused;
    refused.error = OfflineError::invalid_limits;
    refused.detail = "the allowance is above the risk rules' [offline] allowance_max (" +
                     U128ToDecimal(limits->allowance_max->minor()) + " minor units, rules version " +
                     risk_->rules().version() + ")";
    return refused;
  }
  if (c.per_payment_max.is_zero() && limits->per_payment_max) c.per_payment_max = *limits->per_payment_max;
  if (c.payment_count_max == 0) c.payment_count_max = limits->payment_count_max;
  if (c.cvm_threshold == Amount::Max() && limits->cvm_threshold) c.cvm_threshold = *limits->cvm_threshold;
  return std::nullopt;
}

EngineStatus Engine::Impl::ApplyRiskFact(const journal::RecordView& record) {
  const auto diverged = [&](const std::string& why) {
    return EngineFail(EngineError::replay_diverged,
                      "journal record " + std::to_string(record.sequence.value) + ": " + why);
  };
  switch (static_cast<FactType>(record.type)) {
    case FactType::risk_rules: {
      std::optional<std::string> text = DecodeRiskRulesFact(record.bytes);
      if (!text) return diverged("a risk rules fact that does not decode");
      risk::CompileResult compiled = risk::RuleSet::Compile(*text);
      if (!compiled.errors.empty()) return diverged("journaled risk rules that do not compile");
      risk_->UseRules(std::move(compiled.rules));
      risk_rules_text_ = std::move(*text);
      return EngineStatus::Ok();
    }
    case FactType::risk_list: {
      std::optional<RiskListFact> fact = DecodeRiskListFact(record.bytes);
      if (!fact) return diverged("a risk list fact that does not decode");
      const Status<risk::ListError> changed = fact->add ? risk_->lists().Add(fact->list, fact->value)
                                                        : risk_->lists().Remove(fact->list, fact->value);
      if (!changed.ok()) return diverged("a risk list change that does not apply to list " + fact->list);
      return EngineStatus::Ok();
    }
    case FactType::risk_decision: {
      std::optional<RiskDecisionFact> fact = DecodeRiskDecisionFact(record.bytes);
      if (!fact) return diverged("a risk decision fact that does not decode");
      risk_->Decide(fact->event, Timestamp{fact->time_ns}, risk_scratch_);
      ++risk_decisions_;
      if (risk_scratch_.decision != fact->decision || risk_scratch_.score != fact->score) {
        return diverged("a risk decision that decides differently on replay");
      }
      return EngineStatus::Ok();
    }
    default:
      return diverged("not a risk fact");
  }
}

// Snapshot section: u64 rules text length + text ("" while no rules were set), u64 decisions,
// u64 state length + risk::RiskEngine::SaveState bytes.
void Engine::Impl::SaveRiskState(ledger::StateSink& sink) const {
  sink.U64(risk_rules_text_.size());
  sink.Write({reinterpret_cast<const uint8_t*>(risk_rules_text_.data()), risk_rules_text_.size()});
  sink.U64(risk_decisions_);
  const std::vector<uint8_t> state = risk_->SaveState();
  sink.U64(state.size());
  sink.Write(state);
}

bool Engine::Impl::LoadRiskState(ledger::StateSource& source) {
  uint64_t text_bytes = 0;
  if (!source.U64(text_bytes) || text_bytes > risk::kRulesFileBytesMax || text_bytes > source.remaining()) {
    return false;
  }
  std::string text(text_bytes, '\0');
  if (!source.Read({reinterpret_cast<uint8_t*>(text.data()), text.size()})) return false;
  uint64_t decisions = 0;
  uint64_t state_bytes = 0;
  if (!source.U64(decisions) || !source.U64(state_bytes) || state_bytes > source.remaining()) return false;
  std::vector<uint8_t> state(state_bytes);
  if (!source.Read(state)) return false;
  risk::CompileResult compiled = risk::RuleSet::Compile(text.empty() ? kNoRiskRules : std::string_view(text));
  if (!compiled.errors.empty()) return false;
  auto engine = std::make_unique<risk::RiskEngine>(std::move(compiled.rules), RiskVelocityOptions());
  if (!engine->LoadState(state).ok()) return false;
  risk_ = std::move(engine);
  risk_rules_text_ = std::move(text);
  risk_decisions_ = decisions;
  return true;
}

// ---- Engine (public)

Reply Engine::ExecuteRisk(RiskCommand command) {
  Request request;
  request.kind = RequestKind::risk;
  request.risk = std::make_shared<RiskCommand>(std::move(command));
  return Execute(std::move(request));
}

}  // namespace tpw::engine
