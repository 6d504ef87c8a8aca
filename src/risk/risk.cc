#include "risk/risk.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

namespace tpw::risk {

// Each feature's slot for one event, found once (FeatureTable::Locate, with the key hash computed
// once) and then used by the decision's read and its record.
struct RiskEngine::LocatedSlots {
  explicit LocatedSlots(const KeyHashes& key_hashes) : hashes(key_hashes) {}
  uint32_t Locate(const std::vector<FeatureTable>& tables, size_t index, const Event& event) {
    if ((known & (1u << index)) == 0) {
      slots[index] = tables[index].Locate(event, hashes.of[index]);
      known |= 1u << index;
    }
    return slots[index];
  }
  const KeyHashes& hashes;
  std::array<uint32_t, kFeaturesMax> slots;  // slots[i] is valid when bit i of known is set
  uint32_t known = 0;
};

namespace {

using LocatedSlots = RiskEngine::LocatedSlots;
constexpr uint64_t kSecondsPerHour = 3600;

// What a condition reads while one event is evaluated: the event's fields and, computed the
// first time a rule asks and then cached, its velocity features.
class EvalContext {
 public:
  // `hinted`: the caller already asked for the event's index lines and slots (DecideEach).
  EvalContext(const Event& event, Timestamp now, const std::vector<FeatureTable>& tables,
              const ListSet& lists, LocatedSlots& located, bool hinted)
      : event_(event), now_(now), tables_(tables), lists_(lists), located_(located) {
    // Start every feature's cache misses at once (index, then the key's slot) so they overlap
    // instead of stalling one after the other when the rules read them.
    if (!hinted) {
      for (size_t i = 0; i < tables_.size(); ++i) tables_[i].PrefetchIndex(located_.hashes.of[i]);
    }
    LayOutFields();
    if (!hinted) {
      for (size_t i = 0; i < tables_.size(); ++i) tables_[i].PrefetchSlot(located_.hashes.of[i]);
    }
  }

  // One array read: the fields were laid out once, in the constructor.
  Value Field(Field field) const { return fields_[static_cast<size_t>(field)]; }

  Value Feature(uint32_t index) {
    if ((known_ & (1u << index)) == 0) {
      const uint32_t slot = located_.Locate(tables_, index, event_);
      values_[index] = tables_[index].ReadAt(slot, now_);
      known_ |= 1u << index;
    }
    const bool sum = tables_[index].spec().kind == FeatureKind::sum;
    return Value{values_[index], sum ? event_.asset : 0};
  }

  bool InList(uint32_t list, u128 value) const { return lists_.Contains(list, value); }

  // The operands of the rule set's range tests (RangeTest::operand), saturated to 64 bits: the
  // fields, laid out with the others, and the features whose bits `features` sets, read now.
  const uint64_t* TestOperands(uint32_t features) {
    for (uint32_t left = features; left != 0; left &= left - 1) {
      const auto index = static_cast<uint32_t>(std::countr_zero(left));
      operands_[kFieldCount + index] = Saturated64(Feature(index).v);
    }
    return operands_.data();
  }

 private:
  void LayOutFields() {
    const auto set = [this](risk::Field field, u128 v, uint32_t asset) {
      fields_[static_cast<size_t>(field)] = Value{v, asset};
      operands_[static_cast<size_t>(field)] = Saturated64(v);
    };
    set(Field::amount, event_.amount.minor(), event_.asset);
    set(Field::asset, event_.asset, 0);
    set(Field::account, event_.account, 0);
    set(Field::device, event_.device, 0);
    set(Field::merchant, event_.merchant, 0);
    set(Field::terminal, event_.terminal, 0);
    set(Field::merchant_category, event_.merchant_category, 0);
    set(Field::channel, static_cast<u128>(event_.channel), 0);
    set(Field::country, event_.country, 0);
    set(Field::ip, event_.ip, 0);
    set(Field::hour, now_.ns / kNanosPerSecond / kSecondsPerHour % 24, 0);
    set(Field::device_age, event_.device_age_seconds, 0);
    set(Field::cvm_performed, static_cast<u128>(event_.cvm_performed), 0);
  }

  const Event& event_;
  Timestamp now_;
  const std::vector<FeatureTable>& tables_;
  const ListSet& lists_;
  LocatedSlots& located_;
  std::array<Value, kFieldCount> fields_;
  std::array<uint64_t, kTestOperands> operands_;  // fields, then features (TestOperands)
  std::array<u128, kFeaturesMax> values_;  // values_[i] is valid when bit i of known_ is set
  uint32_t known_ = 0;
  static_assert(kFeaturesMax <= 32);
};

// One byte per rule: whether its condition holds. Every rule's byte is set once per decision
// (tested or interpreted), so the array is never cleared; it is read 8 rules at a time.
class RuleResults {
 public:
  void Set(uint32_t rule, bool holds) { bytes_[rule] = holds ? 1 : 0; }
  // Calls visit(rule) for each of the first `rules` rules that holds, in rule order.
  template <typename Visit>
  void ForEach(size_t rules, Visit visit) {
    static_assert(std::endian::native == std::endian::little, "byte i is bits 8i..8i+7");
    std::fill(bytes_.begin() + static_cast<ptrdiff_t>(rules),
              bytes_.begin() + static_cast<ptrdiff_t>((rules + 7) / 8 * 8), uint8_t{0});
    for (size_t at = 0; at < rules; at += 8) {
      uint64_t eight = 0;  // a set byte is 1: one bit in eight
      std::memcpy(&eight, &bytes_[at], 8);
      for (; eight != 0; eight &= eight - 1) {
        visit(at + static_cast<size_t>(std::countr_zero(eight)) / 8);
      }
    }
  }

 private:
  std::array<uint8_t, (kRulesMax + 7) / 8 * 8> bytes_;  // uninitialized on purpose
};

Decision ActionDecision(Action action) {
  switch (action) {
    case Action::allow:
      return Decision::approve;
    case Action::block:
      return Decision::decline;
    case Action::review:
      return Decision::review;
    case Action::step_up:
      return Decision::step_up;
  }
  TPW_UNREACHABLE();
}

void ApplyThresholds(const Thresholds& t, RiskDecision& out) {
  if (out.score >= t.decline) {
    out.decision = Decision::decline;
  } else if (out.score >= t.review) {
    out.decision = Decision::review;
  } else if (out.score >= t.step_up) {
    out.decision = Decision::step_up;
    out.required_cvm = t.step_up_cvm;
  } else {
    out.decision = Decision::approve;
  }
}

}  // namespace

std::string_view StateErrorMessage(StateError error) {
  switch (error) {
    case StateError::not_risk_state:
      return "not a risk state (wrong magic number)";
    case StateError::unsupported_version:
      return "risk state written by a newer tpwallet: upgrade to load it";
    case StateError::malformed:
      return "risk state is damaged (truncated, trailing bytes or impossible values)";
    case StateError::too_many_keys:
      return "a velocity feature in the state holds more keys than keys_max: raise keys_max";
  }
  return "unknown risk state error";
}

RiskEngine::RiskEngine(std::shared_ptr<const RuleSet> rules, VelocityOptions options)
    : rules_(std::move(rules)), options_(options) {
  TPW_ASSERT(rules_ != nullptr);
  lists_ = ListSet::FromRules(*rules_);
  Bind({});
}

void RiskEngine::UseRules(std::shared_ptr<const RuleSet> rules) {
  TPW_ASSERT(rules != nullptr);
  rules_ = std::move(rules);
  lists_ = lists_.Rebase(*rules_);
  Bind(std::move(tables_));
}

// Makes tables_ match rules_->features(), taking each feature's table from `old` when there.
void RiskEngine::Bind(std::vector<FeatureTable> old) {
  std::vector<FeatureTable> tables;
  tables.reserve(rules_->features().size());
  for (const FeatureSpec& spec : rules_->features()) {
    bool found = false;
    for (FeatureTable& table : old) {
      if (table.spec() == spec) {
        tables.push_back(std::move(table));
        found = true;
        break;
      }
    }
    if (!found) tables.emplace_back(spec, options_);
  }
  tables_ = std::move(tables);
}

void RiskEngine::Evaluate(const Event& event, Timestamp now, RiskDecision& out) const {
  KeyHashes hashes;
  HashKeys(event, hashes);
  LocatedSlots located(hashes);
  Evaluate(event, now, out, located, false);
}

void RiskEngine::Evaluate(const Event& event, Timestamp now, RiskDecision& out,
                          LocatedSlots& located, bool hinted) const {
  const RuleSet& rules = *rules_;
  EvalContext context(event, now, tables_, lists_, located, hinted);
  out.matched_rules.clear();
  out.score = 0;
  out.required_cvm = Cvm::none;
  out.decided_by = {};
  out.rules_version = rules.version();
  const std::vector<Rule>& all = rules.rules();
  // Every condition is evaluated (conditions change nothing, so an action rule after the one
  // that decides may be evaluated and ignored), then the rules that hold are taken in order.
  RuleResults holds;
  const std::vector<uint32_t>& interpreted = rules.interpreted_rules();
  RunConditions(
      rules.program(), interpreted.size(),
      [&](size_t i) {
        const CodeRange code = all[interpreted[i]].code;
        return std::pair{code.begin, code.end};
      },
      context, [&](size_t i, bool h) { holds.Set(interpreted[i], h); });
  const uint64_t* operands = context.TestOperands(rules.tested_features());
  std::array<uint8_t, kTestAssetsMax + 1> comparable;
  comparable[0] = 1;
  const std::vector<uint32_t>& assets = rules.test_assets();
  for (size_t i = 0; i < assets.size(); ++i) {
    comparable[i + 1] = AssetsComparable(Value{0, event.asset}, Value{0, assets[i]}) ? 1 : 0;
  }
  for (const TestedRule& tested : rules.tested_rules()) {
    // Both tests, without a branch between them.
    const unsigned first = Holds(tested.tests[0], operands, comparable.data()) ? 1u : 0u;
    const unsigned second = Holds(tested.tests[1], operands, comparable.data()) ? 1u : 0u;
    holds.Set(tested.rule, (first & second) != 0);
  }
  const Rule* decided = nullptr;  // the first action that holds wins
  holds.ForEach(all.size(), [&](size_t i) {
    const Rule& rule = all[i];
    if (!rule.is_action) {
      out.score += rule.weight;
      out.matched_rules.push_back(rule.name);
    } else if (decided == nullptr) {
      decided = &rule;
    }
  });
  if (decided == nullptr) return ApplyThresholds(rules.thresholds(), out);
  out.matched_rules.push_back(decided->name);
  out.decided_by = decided->name;
  out.decision = ActionDecision(decided->action);
  if (out.decision == Decision::step_up) out.required_cvm = decided->cvm;
}

RiskDecision RiskEngine::Evaluate(const Event& event, Timestamp now) const {
  RiskDecision out;
  Evaluate(event, now, out);
  return out;
}

void RiskEngine::Decide(const Event& event, Timestamp now, RiskDecision& out) {
  KeyHashes hashes;
  HashKeys(event, hashes);
  Decide(event, now, out, hashes, false);
}

void RiskEngine::Decide(const Event& event, Timestamp now, RiskDecision& out,
                        const KeyHashes& hashes, bool hinted) {
  LocatedSlots located(hashes);
  Evaluate(event, now, out, located, hinted);
  if (out.decision == Decision::approve) Record(event, now, located);
}

RiskDecision RiskEngine::Decide(const Event& event, Timestamp now) {
  RiskDecision out;
  Decide(event, now, out);
  return out;
}

void RiskEngine::Record(const Event& event, Timestamp now) {
  KeyHashes hashes;
  HashKeys(event, hashes);
  LocatedSlots located(hashes);
  Record(event, now, located);
}

// Each table's record changes only that table, so the slots located before stay valid.
void RiskEngine::Record(const Event& event, Timestamp now, LocatedSlots& located) {
  for (size_t i = 0; i < tables_.size(); ++i) {
    tables_[i].PrefetchForRecord(event, located.Locate(tables_, i, event));
  }
  for (size_t i = 0; i < tables_.size(); ++i) {
    tables_[i].RecordAt(located.Locate(tables_, i, event), located.hashes.of[i], event, now);
  }
}

void RiskEngine::HashKeys(const Event& event, KeyHashes& hashes) const {
  TPW_ASSERT(tables_.size() <= hashes.of.size());
  for (size_t i = 0; i < tables_.size(); ++i) hashes.of[i] = tables_[i].HashOf(event);
}

void RiskEngine::PrefetchIndexes(const KeyHashes& hashes) const {
  for (size_t i = 0; i < tables_.size(); ++i) tables_[i].PrefetchIndex(hashes.of[i]);
}

void RiskEngine::PrefetchSlots(const KeyHashes& hashes) const {
  for (size_t i = 0; i < tables_.size(); ++i) tables_[i].PrefetchSlot(hashes.of[i]);
}

size_t RiskEngine::VelocityKeys() const {
  size_t keys = 0;
  for (const FeatureTable& table : tables_) keys += table.keys();
  return keys;
}

size_t RiskEngine::ReservedKeys() const {
  size_t keys = 0;
  for (const FeatureTable& table : tables_) keys += table.reserved_keys();
  return keys;
}

size_t RiskEngine::VelocityBytes() const {
  size_t bytes = 0;
  for (const FeatureTable& table : tables_) bytes += table.BytesUsed();
  return bytes;
}

// Layout: u32 magic, u32 version, u64 hash seed, u32 feature count; per feature: u8 kind, u8 key,
// u8 value (0 unless distinct), u64 window seconds, then FeatureTable::Save; then ListSet::Save.
std::vector<uint8_t> RiskEngine::SaveState() const {
  BinaryWriter writer;
  writer.U32(kStateMagic);
  writer.U32(kStateVersion);
  writer.U64(options_.hash_seed);
  writer.U32(static_cast<uint32_t>(tables_.size()));
  for (const FeatureTable& table : tables_) {
    const FeatureSpec& spec = table.spec();
    writer.U8(static_cast<uint8_t>(spec.kind));
    writer.U8(static_cast<uint8_t>(spec.key));
    writer.U8(static_cast<uint8_t>(spec.value));
    writer.U64(spec.window_seconds);
    table.Save(writer);
  }
  lists_.Save(writer);
  return writer.Take();
}

namespace {

bool ReadSpec(BinaryReader& reader, FeatureSpec& spec) {
  const uint8_t kind = reader.U8();
  const uint8_t key = reader.U8();
  const uint8_t value = reader.U8();
  spec.window_seconds = reader.U64();
  constexpr uint8_t kKeyMax = static_cast<uint8_t>(KeyKind::country);
  if (!reader.ok() || kind > static_cast<uint8_t>(FeatureKind::distinct) || key > kKeyMax ||
      value > kKeyMax || spec.window_seconds == 0 || spec.window_seconds > kWindowSecondsMax) {
    return false;
  }
  spec.kind = static_cast<FeatureKind>(kind);
  spec.key = static_cast<KeyKind>(key);
  spec.value = static_cast<KeyKind>(value);
  const bool distinct = spec.kind == FeatureKind::distinct;
  return distinct ? spec.value != spec.key : value == 0;
}

// Whether the feature sections and lists after the header run exactly to the end of the bytes,
// read without building anything: a truncated or padded state is refused before tables (MiBs
// of huge pages each) are allocated for it.
bool SectionsComplete(BinaryReader reader) {
  const uint32_t count = reader.U32();
  if (!reader.ok() || count > kFeaturesMax) return false;
  for (uint32_t i = 0; i < count; ++i) {
    FeatureSpec spec;
    if (!ReadSpec(reader, spec) || !FeatureTable::SkipKeys(reader, spec.kind)) return false;
  }
  ListSet lists;
  return lists.Load(reader) && reader.AtEndOk();
}

}  // namespace

Status<StateError> RiskEngine::LoadState(std::span<const uint8_t> bytes) {
  BinaryReader reader(bytes);
  if (reader.U32() != kStateMagic) return Err{StateError::not_risk_state};
  const uint32_t version = reader.U32();
  if (!reader.ok()) return Err{StateError::malformed};
  if (version != kStateVersion) return Err{StateError::unsupported_version};
  VelocityOptions options = options_;
  options.hash_seed = reader.U64();
  if (!reader.ok() || !SectionsComplete(reader)) return Err{StateError::malformed};
  const uint32_t count = reader.U32();
  if (!reader.ok() || count > kFeaturesMax) return Err{StateError::malformed};
  std::vector<FeatureTable> tables;
  for (uint32_t i = 0; i < count; ++i) {
    FeatureSpec spec;
    if (!ReadSpec(reader, spec)) return Err{StateError::malformed};
    for (const FeatureTable& other : tables) {
      if (other.spec() == spec) return Err{StateError::malformed};
    }
    tables.emplace_back(spec, options);
    BinaryReader peek = reader;
    if (peek.U32() > options.keys_max && peek.ok()) return Err{StateError::too_many_keys};
    if (!tables.back().LoadKeys(reader)) return Err{StateError::malformed};
  }
  ListSet lists;
  if (!lists.Load(reader) || !reader.AtEndOk()) return Err{StateError::malformed};
  options_ = options;
  lists_ = lists.Rebase(*rules_);
  Bind(std::move(tables));
  return Status<StateError>::Ok();
}

ActiveRules::ActiveRules(std::shared_ptr<const RuleSet> initial) : current_(std::move(initial)) {
  TPW_ASSERT(current_ != nullptr);
}

std::shared_ptr<const RuleSet> ActiveRules::Current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

std::string ActiveRules::Version() const { return Current()->version(); }

std::vector<RuleError> ActiveRules::Replace(std::string_view text) {
  CompileResult compiled = RuleSet::Compile(text);  // outside the lock: readers never wait on it
  if (!compiled.errors.empty()) return std::move(compiled.errors);
  std::lock_guard<std::mutex> lock(mutex_);
  current_ = std::move(compiled.rules);
  return {};
}

}  // namespace tpw::risk
