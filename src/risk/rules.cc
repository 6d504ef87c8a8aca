// Reading a rules file with toml++ (the only file that includes it: exceptions off, the parser's
// errors come back as values).
//
// toml++ 3.3.0 (Debian 12) states internal preconditions with assert() — or, under NDEBUG, as
// compiler assumptions (undefined behaviour when false) — and some malformed input breaks them
// ("[[[1]]]", "a = [[}", fixed upstream in marzer/tomlplusplus#301 and later). With its
// assertions off and NDEBUG undefined here, the parser goes on to its own error handling and
// reports a syntax error instead of aborting the process (the risk_rules fuzz target checks this
// under ASan and UBSan; fuzz/corpus/risk_rules holds the inputs).
#define TOML_EXCEPTIONS 0
#define TOML_ENABLE_FORMATTERS 0
#ifdef NDEBUG
#undef NDEBUG
#endif
#define TOML_ASSERT(expr) static_cast<void>(0)
#include "risk/rules.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include "common/asset.h"

namespace tpw::risk {

std::string_view ActionName(Action action) {
  static constexpr std::array<std::string_view, 4> kNames = {"allow", "block", "review", "step_up"};
  return kNames[static_cast<size_t>(action)];
}

std::string_view ListRoleName(ListRole role) {
  static constexpr std::array<std::string_view, 3> kNames = {"allow", "deny", "watch"};
  return kNames[static_cast<size_t>(role)];
}

std::string FormatRuleError(std::string_view file, const RuleError& error) {
  return std::string(file) + ":" + std::to_string(error.line) + ":" + std::to_string(error.column) +
         ": " + error.message;
}

namespace {

// Where byte `offset` of a string value lies in the file, given where the value's first
// delimiter is. Follows the raw text through the quotes, the newline trimmed after an opening
// """ or ''', and escape sequences, so a column points at the character the operator wrote.
class StringPosition {
 public:
  explicit StringPosition(std::string_view source) : source_(source) {}

  RuleError At(const toml::source_position& begin, size_t offset, std::string message) const {
    size_t raw = RawIndex(begin);
    uint32_t line = begin.line;
    uint32_t column = begin.column;
    if (raw >= source_.size()) return RuleError{line, column, std::move(message)};
    const char quote = source_[raw];
    const bool multi_line = source_.substr(raw, 3) == std::string(3, quote);
    const size_t delimiter = multi_line ? 3 : 1;
    raw += delimiter;
    column += static_cast<uint32_t>(delimiter);
    if (multi_line) SkipTrimmedNewline(raw, line, column);
    size_t decoded = 0;
    while (decoded < offset && raw < source_.size()) {
      const size_t step = quote == '"' && source_[raw] == '\\' ? EscapeLength(raw) : 1;
      decoded += quote == '"' && source_[raw] == '\\' ? DecodedLength(raw) : 1;
      for (size_t i = 0; i < step && raw < source_.size(); ++i, ++raw) {
        if (source_[raw] == '\n') {
          ++line;
          column = 1;
        } else {
          ++column;
        }
      }
    }
    return RuleError{line, column, std::move(message)};
  }

 private:
  size_t RawIndex(const toml::source_position& position) const {
    size_t index = 0;
    for (uint32_t line = 1; line < position.line && index < source_.size(); ++index) {
      if (source_[index] == '\n') ++line;
    }
    return index + (position.column > 0 ? position.column - 1 : 0);
  }
  void SkipTrimmedNewline(size_t& raw, uint32_t& line, uint32_t& column) const {
    if (source_.substr(raw, 2) == "\r\n")
      raw += 2;
    else if (source_.substr(raw, 1) == "\n")
      raw += 1;
    else
      return;
    ++line;
    column = 1;
  }
  size_t EscapeLength(size_t raw) const {
    const char kind = raw + 1 < source_.size() ? source_[raw + 1] : '\0';
    if (kind == 'u') return 6;
    if (kind == 'U') return 10;
    return 2;
  }
  size_t DecodedLength(size_t raw) const {
    const char kind = raw + 1 < source_.size() ? source_[raw + 1] : '\0';
    return kind == 'u' || kind == 'U' ? 2 : 1;  // most non-ASCII code points: 2 UTF-8 bytes
  }
  std::string_view source_;
};

constexpr std::array<std::string_view, 5> kTopKeys = {"version", "thresholds", "lists", "rule",
                                                      "offline"};
constexpr std::array<std::string_view, 5> kOfflineKeys = {
    "asset", "cvm_threshold", "per_payment_max", "payment_count_max", "allowance_max"};
constexpr std::array<std::string_view, 4> kThresholdKeys = {"step_up", "review", "decline",
                                                            "step_up_cvm"};
constexpr std::array<std::string_view, 3> kListKeys = {"kind", "role", "items"};
constexpr std::array<std::string_view, 6> kRuleKeys = {"name",   "description", "condition",
                                                       "action", "weight",      "cvm"};

template <size_t N>
std::string KeyList(const std::array<std::string_view, N>& keys) {
  std::string text;
  for (std::string_view key : keys) text += (text.empty() ? "" : ", ") + std::string(key);
  return text;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kNameLengthMax) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// Input toml++ 3.3.0 (Debian 12) must not see, found here first (the fuzz target found both):
// - a table header with no key after its brackets ("[", "[[|]]", "[[[1]]]"): toml++ aborts on an
//   assertion, undefined behaviour when built with NDEBUG (fixed upstream in
//   marzer/tomlplusplus#301). A lexer that knows where strings and comments are checks every
//   line that starts with '[' outside a multi-line string;
// - non-ASCII text: its check for Unicode whitespace reaches __builtin_unreachable() for some
//   code points (U+00A1, U+FEFD, ...). Rules files are therefore ASCII, comments and strings
//   included.
// Returns the first such problem, if any.
class TomlPreflight {
 public:
  explicit TomlPreflight(std::string_view text) : text_(text) {}

  std::optional<RuleError> FirstProblem() {
    if (std::optional<RuleError> error = FirstNonAscii()) return error;
    bool line_start = true;
    while (i_ < text_.size()) {
      if (line_start) {
        if (std::optional<RuleError> error = CheckLineStart()) return error;
      }
      const char c = text_[i_];
      line_start = c == '\n';
      if (c == '\n') {
        ++line_;
        column_ = 1;
        ++i_;
      } else if (c == '#') {
        SkipUntilNewline();
      } else if (c == '"' || c == '\'') {
        SkipString(c);
      } else {
        Step();
      }
    }
    return std::nullopt;
  }

 private:
  std::optional<RuleError> FirstNonAscii() const {
    uint32_t line = 1;
    uint32_t column = 1;
    for (char c : text_) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        return RuleError{line, column,
                         "non-ASCII character: rules files are ASCII (names, descriptions and "
                         "comments too); replace it"};
      }
      column = c == '\n' ? 1 : column + 1;
      line += c == '\n' ? 1 : 0;
    }
    return std::nullopt;
  }

  std::optional<RuleError> CheckLineStart() {
    size_t j = i_;
    while (j < text_.size() && (text_[j] == ' ' || text_[j] == '\t')) ++j;
    if (j >= text_.size() || text_[j] != '[') return std::nullopt;
    const uint32_t column = column_ + static_cast<uint32_t>(j - i_);
    ++j;
    if (j < text_.size() && text_[j] == '[') ++j;
    while (j < text_.size() && (text_[j] == ' ' || text_[j] == '\t')) ++j;
    const char next = j < text_.size() ? text_[j] : '\n';
    const bool key_start = (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
                           (next >= '0' && next <= '9') || next == '_' || next == '-' ||
                           next == '"' || next == '\'';
    if (key_start) return std::nullopt;
    return RuleError{line_, column,
                     "TOML syntax: a table header needs a name after its '[': write [thresholds], "
                     "[lists.NAME] or [[rule]]"};
  }
  void Step() {
    ++i_;
    ++column_;
  }
  void SkipUntilNewline() {
    while (i_ < text_.size() && text_[i_] != '\n') Step();
  }
  // Skips a string starting at i_ (basic or literal, one line or multi-line), counting lines.
  void SkipString(char quote) {
    const bool multi_line = text_.substr(i_, 3) == std::string(3, quote);
    for (int k = 0; k < (multi_line ? 3 : 1); ++k) Step();
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == '\\' && quote == '"') {
        Step();
        if (i_ < text_.size() && text_[i_] != '\n') Step();
        continue;
      }
      if (c == '\n') {
        if (!multi_line) return;  // an unterminated string: toml++ reports it
        ++line_;
        column_ = 1;
        ++i_;
        continue;
      }
      if (c == quote && (!multi_line || text_.substr(i_, 3) == std::string(3, quote))) {
        for (int k = 0; k < (multi_line ? 3 : 1); ++k) Step();
        return;
      }
      Step();
    }
  }

  std::string_view text_;
  size_t i_ = 0;
  uint32_t line_ = 1;
  uint32_t column_ = 1;
};

}  // namespace

class RuleSetBuilder {
 public:
  explicit RuleSetBuilder(std::string_view text) : text_(text), strings_(text) {}

  CompileResult Build() {
    CompileResult result;
    if (text_.size() > kRulesFileBytesMax) {
      result.errors.push_back(RuleError{1, 1,
                                        "rules file is larger than " +
                                            std::to_string(kRulesFileBytesMax) +
                                            " bytes; split lists out of it"});
      return result;
    }
    if (std::optional<RuleError> header = TomlPreflight(text_).FirstProblem()) {
      result.errors.push_back(std::move(*header));
      return result;
    }
    toml::parse_result parsed = toml::parse(text_);
    if (!parsed) {
      const toml::parse_error& error = parsed.error();
      result.errors.push_back(RuleError{error.source().begin.line, error.source().begin.column,
                                        "TOML syntax: " + std::string(error.description())});
      return result;
    }
    ReadDocument(parsed.table());
    if (errors_.empty()) {
      set_.SortRulesByForm();
      result.rules = std::make_shared<const RuleSet>(std::move(set_));
    } else {
      std::stable_sort(errors_.begin(), errors_.end(), [](const RuleError& a, const RuleError& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
      });
      result.errors = std::move(errors_);
    }
    return result;
  }

 private:
  void Error(const toml::source_region& where, std::string message) {
    errors_.push_back(RuleError{where.begin.line, where.begin.column, std::move(message)});
  }

  template <size_t N>
  void CheckKeys(const toml::table& table, const std::array<std::string_view, N>& allowed,
                 std::string_view where) {
    for (auto&& [key, node] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        Error(key.source(), "unknown field '" + std::string(key.str()) + "' in " +
                                std::string(where) + " (allowed: " + KeyList(allowed) + ")");
      }
    }
  }

  void ReadDocument(const toml::table& root) {
    CheckKeys(root, kTopKeys, "the top level");
    ReadVersion(root);
    ReadThresholds(root);
    ReadLists(root);
    ReadRules(root);
    ReadOffline(root);
  }

  // [offline]: the limits certificates get at enrollment and sync when the request leaves them
  // out (docs/risk-rules.md, "Offline limits"). Amounts are decimal text in `asset`'s units.
  void ReadOffline(const toml::table& root) {
    const toml::node* node = root.get("offline");
    if (node == nullptr) return;
    const toml::table* table = node->as_table();
    if (table == nullptr) return Error(node->source(), "'offline' must be a table");
    CheckKeys(*table, kOfflineKeys, "[offline]");
    const toml::node* asset = Required(*table, "asset", table->source(), "[offline]");
    if (asset == nullptr) return;
    const std::optional<std::string> code = StringOf(*asset, "asset");
    if (!code) return;
    const AssetTable assets = AssetTable::Default();
    const Asset* found = assets.FindByCode(*code);
    if (found == nullptr)
      return Error(asset->source(), "unknown asset '" + *code + "' (e.g. EUR, USD)");
    OfflineLimits limits;
    limits.asset = found->ledger;
    limits.cvm_threshold = ReadOfflineAmount(*table, "cvm_threshold", *code, assets);
    limits.per_payment_max = ReadOfflineAmount(*table, "per_payment_max", *code, assets);
    limits.allowance_max = ReadOfflineAmount(*table, "allowance_max", *code, assets);
    if (const toml::node* count = table->get("payment_count_max")) {
      const auto* integer = count->as_integer();
      if (integer == nullptr || integer->get() < 1 || integer->get() > 1'000'000) {
        Error(count->source(), "payment_count_max must be an integer from 1 to 1000000");
      } else {
        limits.payment_count_max = static_cast<uint32_t>(integer->get());
      }
    }
    if (limits.per_payment_max && limits.allowance_max &&
        *limits.allowance_max < *limits.per_payment_max) {
      Error(table->source(), "[offline] allowance_max must be at least per_payment_max");
    }
    set_.offline_ = limits;
  }

  std::optional<Amount> ReadOfflineAmount(const toml::table& table, std::string_view key,
                                          const std::string& code, const AssetTable& assets) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    const std::optional<std::string> text = StringOf(*node, std::string(key));
    if (!text) return std::nullopt;
    const Result<Amount, AmountError> parsed = assets.Parse(code, *text);
    if (!parsed.ok() || parsed.value().is_zero()) {
      Error(node->source(), std::string(key) + " must be a positive amount of " + code +
                                " as decimal text, e.g. \"50.00\"");
      return std::nullopt;
    }
    return parsed.value();
  }

  const toml::node* Required(const toml::table& table, std::string_view key,
                             const toml::source_region& where, std::string_view what) {
    const toml::node* node = table.get(key);
    if (node == nullptr) Error(where, std::string(what) + " needs '" + std::string(key) + "'");
    return node;
  }

  std::optional<std::string> StringOf(const toml::node& node, std::string_view what) {
    if (const auto* s = node.as_string()) return s->get();
    Error(node.source(), std::string(what) + " must be a string in quotes");
    return std::nullopt;
  }

  void ReadVersion(const toml::table& root) {
    const toml::node* node = Required(root, "version", root.source(), "the rules file");
    if (node == nullptr) return;
    const std::optional<std::string> version = StringOf(*node, "version");
    if (!version) return;
    if (version->empty() || version->size() > kNameLengthMax) {
      return Error(node->source(), "version must be 1 to " + std::to_string(kNameLengthMax) +
                                       " characters, e.g. \"2026-11-24.1\"");
    }
    set_.version_ = *version;
  }

  void ReadThresholds(const toml::table& root) {
    const toml::node* node = Required(root, "thresholds", root.source(), "the rules file");
    if (node == nullptr) return;
    const toml::table* table = node->as_table();
    if (table == nullptr) return Error(node->source(), "'thresholds' must be a table");
    CheckKeys(*table, kThresholdKeys, "[thresholds]");
    Thresholds& t = set_.thresholds_;
    const bool ok = ReadThreshold(*table, "step_up", t.step_up) &&
                    ReadThreshold(*table, "review", t.review) &&
                    ReadThreshold(*table, "decline", t.decline);
    if (const toml::node* cvm = table->get("step_up_cvm")) ReadCvm(*cvm, t.step_up_cvm);
    if (ok && !(t.step_up <= t.review && t.review <= t.decline)) {
      Error(table->get("review")->source(),
            "thresholds must be in order step_up <= review <= decline (here " +
                std::to_string(t.step_up) + ", " + std::to_string(t.review) + ", " +
                std::to_string(t.decline) + ")");
    }
  }

  bool ReadThreshold(const toml::table& table, std::string_view key, int64_t& value) {
    const toml::node* node = Required(table, key, table.source(), "[thresholds]");
    if (node == nullptr) return false;
    return ReadBoundedInteger(*node, std::string(key), value);
  }

  bool ReadBoundedInteger(const toml::node& node, const std::string& what, int64_t& value) {
    const auto* integer = node.as_integer();
    if (integer == nullptr) {
      Error(node.source(), what + " must be an integer");
      return false;
    }
    value = integer->get();
    if (value < -kWeightAbsMax || value > kWeightAbsMax) {
      Error(node.source(), what + " must be between -" + std::to_string(kWeightAbsMax) + " and " +
                               std::to_string(kWeightAbsMax));
      return false;
    }
    return true;
  }

  void ReadCvm(const toml::node& node, Cvm& cvm) {
    const std::optional<std::string> text = StringOf(node, "cvm");
    if (!text) return;
    const std::optional<Cvm> parsed = ParseCvm(*text);
    if (!parsed || *parsed == Cvm::none) {
      return Error(node.source(), "cvm must be \"pin\" or \"strong\", not \"" + *text + "\"");
    }
    cvm = *parsed;
  }

  void ReadLists(const toml::table& root) {
    const toml::node* node = root.get("lists");
    if (node == nullptr) return;
    const toml::table* lists = node->as_table();
    if (lists == nullptr) return Error(node->source(), "'lists' must be a table of [lists.NAME]");
    for (auto&& [key, value] : *lists) {
      if (set_.lists_.size() >= kListsMax) {
        return Error(key.source(), "more than " + std::to_string(kListsMax) + " lists");
      }
      ReadList(key, value);
    }
  }

  void ReadList(const toml::key& key, const toml::node& node) {
    const std::string name(key.str());
    if (!ValidName(name)) {
      return Error(key.source(), "list name '" + name + "' must be 1 to " +
                                     std::to_string(kNameLengthMax) +
                                     " letters, digits, '_' or '-'");
    }
    const toml::table* table = node.as_table();
    if (table == nullptr) return Error(node.source(), "list '" + name + "' must be a table");
    CheckKeys(*table, kListKeys, "[lists." + name + "]");
    ListSpec spec;
    spec.name = name;
    const std::string what = "list '" + name + "'";
    if (const toml::node* kind = Required(*table, "kind", table->source(), what)) {
      const std::optional<std::string> text = StringOf(*kind, "kind");
      if (text && !ParseKeyKind(*text, spec.kind)) {
        Error(kind->source(),
              "kind must be one of account, device, merchant, terminal, ip, "
              "country; not \"" +
                  *text + "\"");
      }
    }
    if (const toml::node* role = Required(*table, "role", table->source(), what)) {
      const std::optional<std::string> text = StringOf(*role, "role");
      if (text && *text == "allow")
        spec.role = ListRole::allow;
      else if (text && *text == "deny")
        spec.role = ListRole::deny;
      else if (text && *text == "watch")
        spec.role = ListRole::watch;
      else if (text)
        Error(role->source(), "role must be allow, deny or watch; not \"" + *text + "\"");
    }
    if (const toml::node* items = table->get("items")) ReadItems(*items, spec);
    set_.lists_.push_back(std::move(spec));
  }

  void ReadItems(const toml::node& node, ListSpec& spec) {
    const toml::array* items = node.as_array();
    if (items == nullptr) return Error(node.source(), "items must be an array [..]");
    if (items->size() > kFileListItemsMax) {
      return Error(node.source(), "more than " + std::to_string(kFileListItemsMax) +
                                      " items: load large lists at run time");
    }
    for (const toml::node& item : *items) {
      std::string text;
      if (const auto* s = item.as_string())
        text = s->get();
      else if (const auto* i = item.as_integer(); i != nullptr && i->get() >= 0)
        text = std::to_string(i->get());
      u128 value = 0;
      if (text.empty() || !ParseKeyValue(spec.kind, text, value)) {
        Error(item.source(), "item is not a valid " + std::string(KeyKindName(spec.kind)) +
                                 " (ids: decimal digits; countries: \"FR\"; ips: \"203.0.113.7\")");
        continue;
      }
      spec.items.push_back(value);
    }
    std::sort(spec.items.begin(), spec.items.end());
    spec.items.erase(std::unique(spec.items.begin(), spec.items.end()), spec.items.end());
  }

  void ReadRules(const toml::table& root) {
    const toml::node* node = root.get("rule");
    if (node == nullptr) return;
    const toml::array* rules = node->as_array();
    if (rules == nullptr) return Error(node->source(), "rules are written as [[rule]] tables");
    for (const ListSpec& list : set_.lists_) decls_.push_back(ListDecl{list.name, list.kind});
    for (const toml::node& rule : *rules) {
      if (set_.rules_.size() >= kRulesMax) {
        return Error(rule.source(), "more than " + std::to_string(kRulesMax) + " rules");
      }
      const toml::table* table = rule.as_table();
      if (table == nullptr) {
        Error(rule.source(), "each rule is a [[rule]] table");
        continue;
      }
      ReadRule(*table);
    }
  }

  void ReadRule(const toml::table& table) {
    CheckKeys(table, kRuleKeys, "[[rule]]");
    Rule rule;
    rule.line = table.source().begin.line;
    ReadRuleName(table, rule);
    const std::string what = "rule '" + rule.name + "'";
    ReadRuleEffect(table, rule, what);
    if (const toml::node* condition = Required(table, "condition", table.source(), what)) {
      if (const std::optional<std::string> text = StringOf(*condition, "condition")) {
        rule.condition = *text;
        CompileRuleCondition(*condition, rule);
      }
    }
    set_.rules_.push_back(std::move(rule));
  }

  void ReadRuleName(const toml::table& table, Rule& rule) {
    const toml::node* name = Required(table, "name", table.source(), "a [[rule]]");
    if (name == nullptr) return;
    const std::optional<std::string> text = StringOf(*name, "name");
    if (!text) return;
    rule.name = *text;
    rule.line = name->source().begin.line;
    if (!ValidName(rule.name)) {
      Error(name->source(), "rule name '" + rule.name + "' must be 1 to " +
                                std::to_string(kNameLengthMax) + " letters, digits, '_' or '-'");
    } else if (!names_.insert(rule.name).second) {
      Error(name->source(), "duplicate rule name '" + rule.name + "': names must be unique");
    }
  }

  void ReadRuleEffect(const toml::table& table, Rule& rule, const std::string& what) {
    const toml::node* action = table.get("action");
    const toml::node* weight = table.get("weight");
    if ((action == nullptr) == (weight == nullptr)) {
      return Error(table.source(), what +
                                       " needs exactly one of 'action' (allow, block, "
                                       "review, step_up) or 'weight' (an integer)");
    }
    const toml::node* cvm = table.get("cvm");
    if (weight != nullptr) {
      (void)ReadBoundedInteger(*weight, "weight", rule.weight);
      if (cvm != nullptr) Error(cvm->source(), "'cvm' goes with action = \"step_up\" only");
      return;
    }
    rule.is_action = true;
    const std::optional<std::string> text = StringOf(*action, "action");
    if (!text) return;
    for (Action a : {Action::allow, Action::block, Action::review, Action::step_up}) {
      if (ActionName(a) == *text) rule.action = a;
    }
    if (ActionName(rule.action) != *text) {
      return Error(action->source(),
                   "action must be allow, block, review or step_up; not \"" + *text + "\"");
    }
    if (rule.action == Action::step_up) {
      rule.cvm = Cvm::strong;
      if (cvm != nullptr) ReadCvm(*cvm, rule.cvm);
    } else if (cvm != nullptr) {
      Error(cvm->source(), "'cvm' goes with action = \"step_up\" only");
    }
  }

  void CompileRuleCondition(const toml::node& node, Rule& rule) {
    const ExprResult compiled = CompileCondition(rule.condition, decls_, set_.program_);
    if (!compiled.ok) {
      errors_.push_back(
          strings_.At(node.source().begin, compiled.error.offset, compiled.error.message));
      return;
    }
    rule.code = compiled.range;
  }

  std::string_view text_;
  StringPosition strings_;
  RuleSet set_;
  std::vector<ListDecl> decls_;
  std::set<std::string> names_;
  std::vector<RuleError> errors_;
};

CompileResult RuleSet::Compile(std::string_view text) { return RuleSetBuilder(text).Build(); }

void RuleSet::SortRulesByForm() {
  static_assert(kFeaturesMax <= 32 && kTestOperands <= UINT8_MAX);
  for (uint32_t i = 0; i < rules_.size(); ++i) {
    TestedRule tested;
    tested.rule = i;
    if (!TestsOf(rules_[i].code, tested)) {
      interpreted_rules_.push_back(i);
      continue;
    }
    tested_rules_.push_back(tested);
    for (const RangeTest& test : tested.tests) {
      if (test.operand >= kFieldCount) tested_features_ |= 1u << (test.operand - kFieldCount);
    }
  }
}

// The tests of a condition that is `a OP constant` or `field OP constant and field OP
// constant` (Op::field_compare_and), a and the fields being event fields or features.
bool RuleSet::TestsOf(CodeRange code, TestedRule& tested) {
  const Instr& first = program_.code[code.begin];
  if (code.end - code.begin == 1) {
    return (first.op == Op::field_compare || first.op == Op::feature_compare) &&
           TestOf(first, tested.tests[0]);
  }
  return code.end - code.begin == 3 && first.op == Op::field_compare_and &&
         TestOf(first, tested.tests[0]) && TestOf(program_.code[code.begin + 2], tested.tests[1]);
}

bool RuleSet::TestOf(const Instr& in, RangeTest& test) {
  const Value& constant = program_.constants[in.arg];
  if (!RangeTestOf(in, constant, test)) return false;
  // Amounts and sums carry the payment's asset; every other operand is untagged, and so is a
  // comparison the compiler marked kAcceptsUntagged: no assets' check.
  const bool tagged = in.op == Op::feature_compare
                          ? program_.features[in.operand].kind == FeatureKind::sum
                          : static_cast<Field>(in.operand) == Field::amount;
  if (!tagged || (in.accepted & kAcceptsUntagged) != 0) return true;
  const auto known = std::find(test_assets_.begin(), test_assets_.end(), constant.asset);
  if (known == test_assets_.end() && test_assets_.size() == kTestAssetsMax) return false;
  if (known == test_assets_.end()) test_assets_.push_back(constant.asset);
  const auto index = std::find(test_assets_.begin(), test_assets_.end(), constant.asset);
  test.asset_check = static_cast<uint8_t>(index - test_assets_.begin() + 1);
  return true;
}

}  // namespace tpw::risk
