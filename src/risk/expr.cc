#include "risk/expr.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "common/asset.h"
#include "risk/event.h"

namespace tpw::risk {
namespace {

constexpr size_t kParseDepthMax = 200;
// Longest duration literal (device_age > 400d is fine; windows stop at kWindowSecondsMax).
constexpr uint64_t kDurationSecondsMax = 100ull * 365 * 86400;

// ---- Tokens ---------------------------------------------------------------------------------

enum class Tok : uint8_t {
  end,
  number,
  duration,
  string,
  ident,
  lparen,
  rparen,
  lbracket,
  rbracket,
  comma,
  plus,
  minus,
  star,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
};

struct Token {
  Tok kind = Tok::end;
  size_t offset = 0;
  std::string_view text;  // the token as written (for strings: without the quotes)
  u128 number = 0;        // number: the digits before any '.'; duration: seconds
};

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

std::optional<uint64_t> UnitSeconds(char unit) {
  switch (unit) {
    case 's':
      return 1;
    case 'm':
      return 60;
    case 'h':
      return 3600;
    case 'd':
      return 86400;
    default:
      return std::nullopt;
  }
}

// ---- Types ----------------------------------------------------------------------------------

enum class Type : uint8_t {
  boolean,
  integer,
  amount,
  duration,
  asset,
  account,
  device,
  merchant,
  terminal,
  country,
  ip,
  channel,
  cvm,
  string,
};

std::string_view TypeName(Type type) {
  static constexpr std::array<std::string_view, 14> kNames = {
      "boolean",     "integer",     "amount",  "duration", "asset",   "account id", "device id",
      "merchant id", "terminal id", "country", "ip",       "channel", "cvm",        "string"};
  return kNames[static_cast<size_t>(type)];
}

struct FieldInfo {
  std::string_view name;
  Field field;
  Type type;
};
constexpr std::array<FieldInfo, kFieldCount> kFields = {{
    {"amount", Field::amount, Type::amount},
    {"asset", Field::asset, Type::asset},
    {"account", Field::account, Type::account},
    {"device", Field::device, Type::device},
    {"merchant", Field::merchant, Type::merchant},
    {"terminal", Field::terminal, Type::terminal},
    {"merchant_category", Field::merchant_category, Type::integer},
    {"channel", Field::channel, Type::channel},
    {"country", Field::country, Type::country},
    {"ip", Field::ip, Type::ip},
    {"hour", Field::hour, Type::integer},
    {"device_age", Field::device_age, Type::duration},
    {"cvm_performed", Field::cvm_performed, Type::cvm},
}};

constexpr std::array<std::string_view, 6> kKeyKindNames = {"account",  "device", "merchant",
                                                           "terminal", "ip",     "country"};

Type KeyType(KeyKind kind) {
  switch (kind) {
    case KeyKind::account:
      return Type::account;
    case KeyKind::device:
      return Type::device;
    case KeyKind::merchant:
      return Type::merchant;
    case KeyKind::terminal:
      return Type::terminal;
    case KeyKind::ip:
      return Type::ip;
    case KeyKind::country:
      return Type::country;
  }
  TPW_UNREACHABLE();
}

bool IsNumeric(Type t) { return t == Type::integer || t == Type::amount; }
bool IsOrdered(Type t) { return IsNumeric(t) || t == Type::duration || t == Type::cvm; }

// ---- Syntax tree ----------------------------------------------------------------------------

enum class NodeKind : uint8_t {
  number,
  amount,
  duration,
  string,
  boolean,
  field,
  feature,
  not_op,
  and_op,
  or_op,
  compare,
  arith,
  in_set,
  in_list,
};

struct Node {
  NodeKind kind = NodeKind::number;
  size_t offset = 0;
  Op op = Op::eq;      // compare and arith
  u128 number = 0;     // number, amount (minor units), duration (seconds), boolean
  uint32_t asset = 0;  // amount literal
  Field field = Field::amount;
  uint32_t index = 0;     // feature: feature index; in_list: list index
  std::string_view text;  // string literal
  std::vector<int> children;
};

class Compiler {
 public:
  Compiler(std::string_view text, const std::vector<ListDecl>& lists, Program& program)
      : text_(text), lists_(lists), program_(program) {}

  ExprResult Run() {
    ExprResult result;
    if (text_.size() > kConditionLengthMax) {
      Fail(0, "condition is longer than " + std::to_string(kConditionLengthMax) +
                  " characters; split it into several rules");
    }
    Advance();
    const int root = failed_ ? -1 : ParseOr(0);
    if (!failed_ && token_.kind != Tok::end) {
      Fail(token_.offset, "unexpected '" + std::string(token_.text) +
                              "' after the end of the condition (missing 'and'/'or'?)");
    }
    if (!failed_) {
      const Type type = TypeOf(root);
      if (!failed_ && type != Type::boolean) {
        Fail(nodes_[static_cast<size_t>(root)].offset,
             "a condition must be true or false, this is a " + std::string(TypeName(type)) +
                 " (compare it, e.g. 'amount > 1000')");
      }
    }
    result.range.begin = static_cast<uint32_t>(program_.code.size());
    if (!failed_) Emit(root, Type::boolean);
    result.range.end = static_cast<uint32_t>(program_.code.size());
    if (!failed_) FuseTwoFieldTests(result.range);
    if (!failed_ && result.range.end - result.range.begin > kConditionOpsMax) {
      Fail(0, "condition compiles to more than " + std::to_string(kConditionOpsMax) +
                  " instructions; split it into several rules");
    }
    result.ok = !failed_;
    result.error = error_;
    return result;
  }

 private:
  // ---- errors ----
  void Fail(size_t offset, std::string message) {
    if (failed_) return;  // the first error is the one reported
    failed_ = true;
    error_ = ExprError{offset, std::move(message)};
  }

  // ---- lexer ----
  void Advance() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
    token_ = Token{};
    token_.offset = pos_;
    if (pos_ >= text_.size()) return;
    const char c = text_[pos_];
    if (IsDigit(c)) return LexNumber();
    if (IsIdentStart(c)) return LexIdent();
    if (c == '"' || c == '\'') return LexString(c);
    LexSymbol(c);
  }

  void LexNumber() {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    const std::string_view digits = text_.substr(start, pos_ - start);
    token_.text = digits;
    token_.kind = Tok::number;
    if (pos_ < text_.size() && IsIdentStart(text_[pos_])) {
      const size_t unit_start = pos_;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      const std::string_view unit = text_.substr(unit_start, pos_ - unit_start);
      token_.text = text_.substr(start, pos_ - start);
      const std::optional<uint64_t> seconds =
          unit.size() == 1 ? UnitSeconds(unit[0]) : std::nullopt;
      if (!seconds || digits.find('.') != std::string_view::npos) {
        return Fail(unit_start, "'" + std::string(token_.text) +
                                    "' is not a duration: write digits and one of s, m, h, d "
                                    "(e.g. 1h), or put a space before an asset code");
      }
      const std::optional<u128> count = ParseU128Decimal(digits);
      if (!count || *count > kDurationSecondsMax / *seconds) {
        return Fail(start, "duration '" + std::string(token_.text) + "' is longer than 100 years");
      }
      token_.kind = Tok::duration;
      token_.number = *count * *seconds;
    }
  }

  void LexIdent() {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
    token_.kind = Tok::ident;
    token_.text = text_.substr(start, pos_ - start);
  }

  void LexString(char quote) {
    const size_t start = ++pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) ++pos_;
    if (pos_ >= text_.size()) {
      return Fail(start - 1, "string is not closed: add the closing quote");
    }
    token_.kind = Tok::string;
    token_.text = text_.substr(start, pos_ - start);
    ++pos_;
  }

  void LexSymbol(char c) {
    const char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    struct Sym {
      char a, b;
      Tok kind;
    };
    static constexpr std::array<Sym, 13> kSymbols = {{{'=', '=', Tok::eq},
                                                      {'!', '=', Tok::ne},
                                                      {'<', '=', Tok::le},
                                                      {'>', '=', Tok::ge},
                                                      {'<', 0, Tok::lt},
                                                      {'>', 0, Tok::gt},
                                                      {'(', 0, Tok::lparen},
                                                      {')', 0, Tok::rparen},
                                                      {'[', 0, Tok::lbracket},
                                                      {']', 0, Tok::rbracket},
                                                      {',', 0, Tok::comma},
                                                      {'+', 0, Tok::plus},
                                                      {'-', 0, Tok::minus}}};
    for (const Sym& s : kSymbols) {
      if (s.a == c && (s.b == 0 || s.b == next)) {
        const size_t length = s.b == 0 ? 1 : 2;
        token_.kind = s.kind;
        token_.text = text_.substr(pos_, length);
        pos_ += length;
        return;
      }
    }
    if (c == '*') {
      token_.kind = Tok::star;
      token_.text = text_.substr(pos_, 1);
      ++pos_;
      return;
    }
    token_.text = text_.substr(pos_, 1);
    if (c == '=') return Fail(pos_, "'=' is not an operator: compare with '=='");
    Fail(pos_, "unexpected character '" + std::string(1, c) + "'");
  }

  bool IsKeyword(std::string_view word) const {
    return token_.kind == Tok::ident && token_.text == word;
  }
  bool Expect(Tok kind, std::string_view what) {
    if (failed_) return false;
    if (token_.kind != kind) {
      Fail(token_.offset, "expected " + std::string(what) + " here");
      return false;
    }
    Advance();
    return true;
  }

  // ---- parser (recursive descent; `depth` bounds nesting) ----
  template <typename Fill>
  int AddNode(NodeKind kind, size_t offset, Fill fill) {
    Node node;
    node.kind = kind;
    node.offset = offset;
    fill(node);
    nodes_.push_back(std::move(node));
    return static_cast<int>(nodes_.size() - 1);
  }
  // Bounds the parser's recursion (each level of parentheses costs about seven).
  bool TooDeep(size_t depth) {
    if (depth <= kParseDepthMax) return false;
    Fail(token_.offset, "condition nests too deeply: use fewer parentheses or 'not'");
    return true;
  }

  int ParseOr(size_t depth) { return ParseLogical(depth, "or", NodeKind::or_op); }
  int ParseAnd(size_t depth) { return ParseLogical(depth, "and", NodeKind::and_op); }

  int ParseLogical(size_t depth, std::string_view word, NodeKind kind) {
    if (TooDeep(depth)) return -1;
    int left = kind == NodeKind::or_op ? ParseAnd(depth + 1) : ParseNot(depth + 1);
    while (!failed_ && IsKeyword(word)) {
      const size_t offset = token_.offset;
      Advance();
      const int right = kind == NodeKind::or_op ? ParseAnd(depth + 1) : ParseNot(depth + 1);
      left = AddNode(kind, offset, [&](Node& n) { n.children = {left, right}; });
    }
    return left;
  }

  int ParseNot(size_t depth) {
    if (TooDeep(depth)) return -1;
    if (IsKeyword("not")) {
      const size_t offset = token_.offset;
      Advance();
      const int operand = ParseNot(depth + 1);
      return AddNode(NodeKind::not_op, offset, [&](Node& n) { n.children = {operand}; });
    }
    return ParseComparison(depth + 1);
  }

  std::optional<Op> ComparisonOp() const {
    switch (token_.kind) {
      case Tok::eq:
        return Op::eq;
      case Tok::ne:
        return Op::ne;
      case Tok::lt:
        return Op::lt;
      case Tok::le:
        return Op::le;
      case Tok::gt:
        return Op::gt;
      case Tok::ge:
        return Op::ge;
      default:
        return std::nullopt;
    }
  }

  int ParseComparison(size_t depth) {
    const int left = ParseSum(depth + 1);
    if (failed_) return -1;
    if (const std::optional<Op> op = ComparisonOp()) {
      const size_t offset = token_.offset;
      Advance();
      const int right = ParseSum(depth + 1);
      return AddNode(NodeKind::compare, offset, [&](Node& n) {
        n.op = *op;
        n.children = {left, right};
      });
    }
    bool negate = false;
    size_t offset = token_.offset;
    if (IsKeyword("not")) {
      negate = true;
      Advance();
      if (!IsKeyword("in")) {
        Fail(token_.offset, "expected 'in' after 'not' here ('x not in [..]')");
        return -1;
      }
    }
    if (!IsKeyword("in")) return left;
    Advance();
    const int membership = ParseInTarget(offset, left, depth + 1);
    if (!negate) return membership;
    return AddNode(NodeKind::not_op, offset, [&](Node& n) { n.children = {membership}; });
  }

  int ParseInTarget(size_t offset, int left, size_t depth) {
    if (token_.kind == Tok::ident) {
      const std::string_view name = token_.text;
      const size_t name_offset = token_.offset;
      Advance();
      for (size_t i = 0; i < lists_.size(); ++i) {
        if (lists_[i].name == name) {
          return AddNode(NodeKind::in_list, name_offset, [&](Node& n) {
            n.index = static_cast<uint32_t>(i);
            n.children = {left};
          });
        }
      }
      Fail(name_offset, "unknown list '" + std::string(name) + "': declare it as [lists." +
                            std::string(name) + "] in the rules file");
      return -1;
    }
    if (!Expect(Tok::lbracket, "a list name or '[' starting a list of values")) return -1;
    Node set;
    set.kind = NodeKind::in_set;
    set.offset = offset;
    set.children = {left};
    while (!failed_ && token_.kind != Tok::rbracket) {
      if (set.children.size() > kLiteralListValuesMax) {
        Fail(token_.offset, "more than " + std::to_string(kLiteralListValuesMax) +
                                " values in one list: declare a named list instead");
        return -1;
      }
      set.children.push_back(ParseAtom(depth + 1));
      if (token_.kind != Tok::comma) break;
      Advance();
    }
    if (!Expect(Tok::rbracket, "']' closing the list")) return -1;
    nodes_.push_back(std::move(set));
    return static_cast<int>(nodes_.size() - 1);
  }

  int ParseSum(size_t depth) {
    if (TooDeep(depth)) return -1;
    int left = ParseProduct(depth + 1);
    while (!failed_ && (token_.kind == Tok::plus || token_.kind == Tok::minus)) {
      const Op op = token_.kind == Tok::plus ? Op::add : Op::sub;
      const size_t offset = token_.offset;
      Advance();
      const int right = ParseProduct(depth + 1);
      left = AddNode(NodeKind::arith, offset, [&](Node& n) {
        n.op = op;
        n.children = {left, right};
      });
    }
    return left;
  }

  int ParseProduct(size_t depth) {
    if (TooDeep(depth)) return -1;
    int left = ParseAtom(depth + 1);
    while (!failed_ && token_.kind == Tok::star) {
      const size_t offset = token_.offset;
      Advance();
      const int right = ParseAtom(depth + 1);
      left = AddNode(NodeKind::arith, offset, [&](Node& n) {
        n.op = Op::mul;
        n.children = {left, right};
      });
    }
    return left;
  }

  int ParseAtom(size_t depth) {
    if (failed_ || TooDeep(depth)) return -1;
    const Token token = token_;
    switch (token.kind) {
      case Tok::number:
        return ParseNumber(token);
      case Tok::duration:
        Advance();
        return AddNode(NodeKind::duration, token.offset, [&](Node& n) { n.number = token.number; });
      case Tok::string:
        Advance();
        return AddNode(NodeKind::string, token.offset, [&](Node& n) { n.text = token.text; });
      case Tok::lparen: {
        Advance();
        const int inner = ParseOr(depth + 1);
        if (!Expect(Tok::rparen,
                    "')' closing the '(' at column offset " + std::to_string(token.offset + 1))) {
          return -1;
        }
        return inner;
      }
      case Tok::ident:
        return ParseName(token, depth);
      case Tok::end:
        Fail(token.offset, "condition ends too early: a value is missing");
        return -1;
      default:
        Fail(token.offset, "expected a value here, not '" + std::string(token.text) + "'");
        return -1;
    }
  }

  int ParseNumber(const Token& token) {
    Advance();
    const AssetTable& assets = Assets();
    if (token_.kind == Tok::ident && assets.FindByCode(token_.text) != nullptr) {
      const Result<Amount, AmountError> amount = assets.Parse(token_.text, token.text);
      if (!amount.ok()) {
        Fail(token.offset, "amount '" + std::string(token.text) + " " + std::string(token_.text) +
                               "': " + std::string(AmountErrorMessage(amount.error())));
        return -1;
      }
      const uint32_t ledger = assets.FindByCode(token_.text)->ledger;
      Advance();
      return AddNode(NodeKind::amount, token.offset, [&](Node& n) {
        n.number = amount->minor();
        n.asset = ledger;
      });
    }
    if (token.text.find('.') != std::string_view::npos) {
      Fail(token.offset, "'" + std::string(token.text) +
                             "' has a fraction but no asset: write e.g. '" +
                             std::string(token.text) + " EUR', or minor units as an integer");
      return -1;
    }
    const std::optional<u128> value = ParseU128Decimal(token.text);
    if (!value) {
      Fail(token.offset, "number '" + std::string(token.text) + "' is larger than 2^128-1");
      return -1;
    }
    return AddNode(NodeKind::number, token.offset, [&](Node& n) { n.number = *value; });
  }

  int ParseName(const Token& token, size_t depth) {
    Advance();
    if (token.text == "true" || token.text == "false") {
      return AddNode(NodeKind::boolean, token.offset,
                     [&](Node& n) { n.number = token.text == "true" ? 1u : 0u; });
    }
    if (token_.kind == Tok::lparen) return ParseFeature(token, depth);
    for (const FieldInfo& info : kFields) {
      if (info.name == token.text) {
        return AddNode(NodeKind::field, token.offset, [&](Node& n) { n.field = info.field; });
      }
    }
    std::string names;
    for (const FieldInfo& info : kFields)
      names += (names.empty() ? "" : ", ") + std::string(info.name);
    Fail(token.offset, "unknown field '" + std::string(token.text) + "' (fields: " + names + ")");
    return -1;
  }

  // count(key, window), sum(key, window), distinct(value, key, window)
  int ParseFeature(const Token& name, size_t depth) {
    FeatureSpec spec;
    if (name.text == "count") {
      spec.kind = FeatureKind::count;
    } else if (name.text == "sum") {
      spec.kind = FeatureKind::sum;
    } else if (name.text == "distinct") {
      spec.kind = FeatureKind::distinct;
    } else {
      Fail(name.offset, "unknown feature '" + std::string(name.text) +
                            "' (features: count(key, window), sum(key, window), "
                            "distinct(value, key, window))");
      return -1;
    }
    (void)depth;
    Advance();  // '('
    if (spec.kind == FeatureKind::distinct) {
      if (!ParseKeyArgument(spec.value)) return -1;
      if (!Expect(Tok::comma, "',' after the counted value")) return -1;
    }
    if (!ParseKeyArgument(spec.key)) return -1;
    if (spec.kind == FeatureKind::distinct && spec.key == spec.value) {
      Fail(name.offset, "distinct(" + std::string(KeyKindName(spec.value)) + ", " +
                            std::string(KeyKindName(spec.key)) + ", ..) counts a key by itself");
      return -1;
    }
    if (!Expect(Tok::comma, "',' before the window")) return -1;
    if (token_.kind != Tok::duration || token_.number == 0 || token_.number > kWindowSecondsMax) {
      Fail(token_.offset, "expected a window here: a duration from 1s to 30d, e.g. 1h");
      return -1;
    }
    spec.window_seconds = static_cast<uint64_t>(token_.number);
    Advance();
    if (!Expect(Tok::rparen, "')' closing the feature")) return -1;
    return AddNode(NodeKind::feature, name.offset,
                   [&](Node& n) { n.index = FeatureIndex(spec, name.offset); });
  }

  bool ParseKeyArgument(KeyKind& kind) {
    if (failed_) return false;
    if (token_.kind == Tok::ident && ParseKeyKind(token_.text, kind)) {
      Advance();
      return true;
    }
    Fail(token_.offset, "expected a key here: account, device, merchant, terminal, ip or country");
    return false;
  }

  uint32_t FeatureIndex(const FeatureSpec& spec, size_t offset) {
    for (size_t i = 0; i < program_.features.size(); ++i) {
      if (program_.features[i] == spec) return static_cast<uint32_t>(i);
    }
    if (program_.features.size() >= kFeaturesMax) {
      Fail(offset, "more than " + std::to_string(kFeaturesMax) +
                       " different velocity features in one rule set");
      return 0;
    }
    program_.features.push_back(spec);
    return static_cast<uint32_t>(program_.features.size() - 1);
  }

  static const AssetTable& Assets() {
    static const AssetTable table = AssetTable::Default();
    return table;
  }

  // ---- types ----
  const Node& At(int index) const { return nodes_[static_cast<size_t>(index)]; }

  static bool IsLiteral(const Node& node) {
    return node.kind == NodeKind::number || node.kind == NodeKind::string;
  }

  Type TypeOf(int index) {
    if (failed_) return Type::boolean;
    const Node& node = At(index);
    switch (node.kind) {
      case NodeKind::number:
        return Type::integer;
      case NodeKind::amount:
        return Type::amount;
      case NodeKind::duration:
        return Type::duration;
      case NodeKind::string:
        return Type::string;
      case NodeKind::boolean:
        return Type::boolean;
      case NodeKind::field:
        return kFields[static_cast<size_t>(node.field)].type;
      case NodeKind::feature:
        return program_.features[node.index].kind == FeatureKind::sum ? Type::amount
                                                                      : Type::integer;
      case NodeKind::not_op:
      case NodeKind::and_op:
      case NodeKind::or_op:
        for (int child : node.children) RequireBoolean(child);
        return Type::boolean;
      case NodeKind::compare:
        return CheckComparison(node);
      case NodeKind::arith:
        return CheckArithmetic(node);
      case NodeKind::in_set:
      case NodeKind::in_list:
        return CheckMembership(node);
    }
    TPW_UNREACHABLE();
  }

  void RequireBoolean(int index) {
    const Type type = TypeOf(index);
    if (!failed_ && type != Type::boolean) {
      Fail(At(index).offset,
           "'and', 'or' and 'not' take true/false, this is a " + std::string(TypeName(type)));
    }
  }

  // The type both sides of a comparison are compared as, or nullopt.
  std::optional<Type> CommonType(int a, Type ta, int b, Type tb) const {
    if (ta == tb && ta != Type::string) return ta;
    if (IsNumeric(ta) && IsNumeric(tb)) return Type::amount;
    if (IsLiteral(At(b)) && LiteralFits(At(b), ta)) return ta;
    if (IsLiteral(At(a)) && LiteralFits(At(a), tb)) return tb;
    return std::nullopt;
  }

  static bool LiteralFits(const Node& literal, Type type) {
    switch (type) {
      case Type::account:
      case Type::device:
      case Type::merchant:
      case Type::terminal:
        return true;  // an id as a number or a decimal string
      case Type::country:
      case Type::ip:
      case Type::asset:
      case Type::channel:
      case Type::cvm:
        return literal.kind == NodeKind::string;
      default:
        return false;
    }
  }

  Type CheckComparison(const Node& node) {
    const int a = node.children[0];
    const int b = node.children[1];
    const Type ta = TypeOf(a);
    const Type tb = TypeOf(b);
    if (failed_) return Type::boolean;
    const std::optional<Type> common = CommonType(a, ta, b, tb);
    if (!common) {
      Fail(node.offset, "cannot compare a " + std::string(TypeName(ta)) + " with a " +
                            std::string(TypeName(tb)));
      return Type::boolean;
    }
    const bool ordering = node.op != Op::eq && node.op != Op::ne;
    if (ordering && !IsOrdered(*common)) {
      Fail(node.offset, "a " + std::string(TypeName(*common)) +
                            " has no order: compare it with == or != (or use 'in')");
    }
    if (*common == Type::boolean) {
      Fail(node.offset, "compare true/false values with 'and', 'or', 'not' instead");
    }
    return Type::boolean;
  }

  Type CheckArithmetic(const Node& node) {
    const Type ta = TypeOf(node.children[0]);
    const Type tb = TypeOf(node.children[1]);
    if (failed_) return Type::integer;
    if (node.op == Op::mul) {
      if (ta == Type::integer && tb == Type::integer) return Type::integer;
      if ((ta == Type::amount && tb == Type::integer) ||
          (ta == Type::integer && tb == Type::amount)) {
        return Type::amount;
      }
      Fail(node.offset, "'*' multiplies by an integer; cannot multiply a " +
                            std::string(TypeName(ta)) + " by a " + std::string(TypeName(tb)));
      return Type::integer;
    }
    if (ta == Type::duration && tb == Type::duration) return Type::duration;
    if (IsNumeric(ta) && IsNumeric(tb)) {
      return ta == Type::amount || tb == Type::amount ? Type::amount : Type::integer;
    }
    Fail(node.offset, "'+' and '-' take numbers, amounts or durations; not a " +
                          std::string(TypeName(ta)) + " and a " + std::string(TypeName(tb)));
    return Type::integer;
  }

  Type CheckMembership(const Node& node) {
    const Type type = TypeOf(node.children[0]);
    if (failed_) return Type::boolean;
    if (node.kind == NodeKind::in_list) {
      const ListDecl& list = lists_[node.index];
      if (KeyType(list.kind) != type) {
        Fail(At(node.children[0]).offset, "list '" + list.name + "' holds " +
                                              std::string(KeyKindName(list.kind)) +
                                              " values; this is a " + std::string(TypeName(type)));
      }
      return Type::boolean;
    }
    if (type == Type::amount || type == Type::boolean || type == Type::string ||
        type == Type::duration) {
      Fail(At(node.children[0]).offset,
           "'in [..]' works on ids, integers, countries, ips, "
           "assets, channels and cvms; not on a " +
               std::string(TypeName(type)));
      return Type::boolean;
    }
    for (size_t i = 1; i < node.children.size(); ++i) {
      const Node& value = At(node.children[i]);
      if (!(value.kind == NodeKind::number && type == Type::integer) &&
          !(IsLiteral(value) && LiteralFits(value, type))) {
        Fail(value.offset, "a list of " + std::string(TypeName(type)) +
                               " values holds only literal values of that kind");
        return Type::boolean;
      }
    }
    return Type::boolean;
  }

  // ---- code generation (after type checking succeeded) ----
  void EmitOp(Op op, uint32_t arg) { EmitFused(op, 0, 0, arg); }
  void EmitFused(Op op, uint8_t accepted, uint8_t operand, uint32_t arg) {
    program_.code.push_back(Instr{op, accepted, operand, 0, arg});
    stack_depth_ += StackEffect(op);
    if (stack_depth_ > static_cast<int>(kStackSlotsMax)) {
      Fail(0, "condition needs more than " + std::to_string(kStackSlotsMax) +
                  " values at once: nest fewer parentheses on the right of operators");
    }
  }
  // Values an instruction adds to the stack (a jump's effect is the path that falls through).
  static int StackEffect(Op op) {
    switch (op) {
      case Op::field:
      case Op::constant:
      case Op::feature:
      case Op::field_compare:
      case Op::feature_compare:
      case Op::field_in_set:
      case Op::field_in_list:
        return 1;
      case Op::logical_not:
      case Op::in_set:
      case Op::in_list:
        return 0;
      default:
        return -1;
    }
  }
  uint32_t AddConstant(Value value) {
    program_.constants.push_back(value);
    return static_cast<uint32_t>(program_.constants.size() - 1);
  }

  // EmitOp tracks the stack depth the code reaches and fails over kStackSlotsMax.
  void Emit(int index, Type as) {
    if (failed_) return;
    const Node& node = At(index);
    switch (node.kind) {
      case NodeKind::number:
      case NodeKind::string:
      case NodeKind::amount:
      case NodeKind::duration:
      case NodeKind::boolean: {
        Value value{0, 0};
        if (!LiteralValue(node, as, value)) return;
        EmitOp(Op::constant, AddConstant(value));
        return;
      }
      case NodeKind::field:
        EmitOp(Op::field, static_cast<uint32_t>(node.field));
        return;
      case NodeKind::feature:
        EmitOp(Op::feature, node.index);
        return;
      case NodeKind::not_op:
        Emit(node.children[0], Type::boolean);
        EmitOp(Op::logical_not, 0);
        return;
      case NodeKind::and_op:
      case NodeKind::or_op:
        return EmitLogical(node);
      case NodeKind::compare:
        return EmitComparison(node);
      case NodeKind::arith:
        Emit(node.children[0], TypeOf(node.children[0]));
        Emit(node.children[1], TypeOf(node.children[1]));
        EmitOp(node.op, 0);
        return;
      case NodeKind::in_set:
        return EmitInSet(node);
      case NodeKind::in_list:
        if (At(node.children[0]).kind == NodeKind::field) {
          return EmitFused(Op::field_in_list, 0, static_cast<uint8_t>(At(node.children[0]).field),
                           node.index);
        }
        Emit(node.children[0], TypeOf(node.children[0]));
        EmitOp(Op::in_list, node.index);
        return;
    }
  }

  void EmitLogical(const Node& node) {
    Emit(node.children[0], Type::boolean);
    const size_t jump = program_.code.size();
    // A fused form right before the jump performs it (Instr::then_jump); it always falls
    // through to the jump, so this changes no path's result.
    if (jump > 0 && !failed_ && IsFused(program_.code[jump - 1].op)) {
      program_.code[jump - 1].then_jump = 1;
    }
    EmitOp(node.kind == NodeKind::and_op ? Op::jump_if_false : Op::jump_if_true, 0);
    Emit(node.children[1], Type::boolean);
    program_.code[jump].arg = static_cast<uint32_t>(program_.code.size());
  }

  void EmitComparison(const Node& node) {
    const int a = node.children[0];
    const int b = node.children[1];
    const Type common = *CommonType(a, TypeOf(a), b, TypeOf(b));
    const Node& left = At(a);
    const bool fusable =
        (left.kind == NodeKind::field || left.kind == NodeKind::feature) && IsConstant(At(b));
    if (!fusable) {
      Emit(a, common);
      Emit(b, common);
      EmitOp(node.op, 0);
      return;
    }
    Value constant{0, 0};
    if (!LiteralValue(At(b), common, constant)) return;
    const bool field = left.kind == NodeKind::field;
    // Only amounts carry an asset tag: any other left side compares without the assets' check.
    const bool untagged = TypeOf(a) != Type::amount && constant.asset == 0;
    const uint8_t accepted = OutcomesAccepted(node.op) | (untagged ? kAcceptsUntagged : 0);
    EmitFused(field ? Op::field_compare : Op::feature_compare, accepted,
              static_cast<uint8_t>(field ? static_cast<uint32_t>(left.field) : left.index),
              AddConstant(constant));
  }

  // A condition that is exactly `field OP constant and field OP constant` (the commonest rule
  // shape) runs as one instruction that tests both (Op::field_compare_and). The code keeps its
  // three instructions: the second test's operands stay where the new one reads them.
  void FuseTwoFieldTests(CodeRange range) {
    if (range.end - range.begin != 3) return;
    Instr& first = program_.code[range.begin];
    const Instr& jump = program_.code[range.begin + 1];
    const Instr& second = program_.code[range.begin + 2];
    if (first.op == Op::field_compare && jump.op == Op::jump_if_false && jump.arg == range.end &&
        second.op == Op::field_compare) {
      first.op = Op::field_compare_and;
    }
  }

  static bool IsFused(Op op) {
    return op == Op::field_compare || op == Op::feature_compare || op == Op::field_in_set ||
           op == Op::field_in_list;
  }

  static bool IsConstant(const Node& node) {
    return node.kind == NodeKind::number || node.kind == NodeKind::string ||
           node.kind == NodeKind::amount || node.kind == NodeKind::duration ||
           node.kind == NodeKind::boolean;
  }

  void EmitInSet(const Node& node) {
    const Type type = TypeOf(node.children[0]);
    std::vector<u128> set;
    for (size_t i = 1; i < node.children.size(); ++i) {
      Value value{0, 0};
      if (!LiteralValue(At(node.children[i]), type, value)) return;
      set.push_back(value.v);
    }
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    program_.sets.push_back(std::move(set));
    const uint32_t index = static_cast<uint32_t>(program_.sets.size() - 1);
    const Node& value = At(node.children[0]);
    if (value.kind == NodeKind::field) {
      return EmitFused(Op::field_in_set, 0, static_cast<uint8_t>(value.field), index);
    }
    Emit(node.children[0], type);
    EmitOp(Op::in_set, index);
  }

  // The value of a literal read as `as` (ids from numbers or strings, countries, ips, assets,
  // channels and cvms from strings).
  bool LiteralValue(const Node& node, Type as, Value& value) {
    if (node.kind != NodeKind::string && node.kind != NodeKind::number) {
      value = Value{node.number, node.asset};
      return true;
    }
    if (node.kind == NodeKind::number) {
      value = Value{node.number, 0};
      return true;
    }
    return StringValue(node, as, value);
  }

  bool StringValue(const Node& node, Type as, Value& value) {
    const std::string_view text = node.text;
    std::optional<u128> parsed;
    switch (as) {
      case Type::account:
      case Type::device:
      case Type::merchant:
      case Type::terminal:
        parsed = ParseU128Decimal(text);
        break;
      case Type::country:
        if (const auto c = ParseCountry(text)) parsed = *c;
        break;
      case Type::ip:
        parsed = ParseIp(text);
        break;
      case Type::asset:
        if (const Asset* asset = Assets().FindByCode(text)) parsed = asset->ledger;
        break;
      case Type::channel:
        if (const auto c = ParseChannel(text)) parsed = static_cast<u128>(*c);
        break;
      case Type::cvm:
        if (const auto c = ParseCvm(text)) parsed = static_cast<u128>(*c);
        break;
      default:
        break;
    }
    if (!parsed) {
      Fail(node.offset, "'" + std::string(text) + "' is not a valid " + std::string(TypeName(as)) +
                            ExampleOf(as));
      return false;
    }
    value = Value{*parsed, 0};
    return true;
  }

  static std::string ExampleOf(Type type) {
    switch (type) {
      case Type::country:
        return " (two upper-case letters, e.g. \"FR\")";
      case Type::ip:
        return " (e.g. \"203.0.113.7\" or \"2001:db8::1\")";
      case Type::asset:
        return " (an asset code such as \"EUR\")";
      case Type::channel:
        return " (\"online\" or \"offline\")";
      case Type::cvm:
        return " (\"none\", \"pin\" or \"strong\")";
      default:
        return " (decimal digits)";
    }
  }

  std::string_view text_;
  const std::vector<ListDecl>& lists_;
  Program& program_;
  size_t pos_ = 0;
  Token token_;
  std::vector<Node> nodes_;
  int stack_depth_ = 0;
  bool failed_ = false;
  ExprError error_;
};

}  // namespace

ExprResult CompileCondition(std::string_view text, const std::vector<ListDecl>& lists,
                            Program& program) {
  return Compiler(text, lists, program).Run();
}

std::string_view KeyKindName(KeyKind kind) { return kKeyKindNames[static_cast<size_t>(kind)]; }

bool ParseKeyKind(std::string_view text, KeyKind& kind) {
  for (size_t i = 0; i < kKeyKindNames.size(); ++i) {
    if (kKeyKindNames[i] == text) {
      kind = static_cast<KeyKind>(i);
      return true;
    }
  }
  return false;
}

bool ParseKeyValue(KeyKind kind, std::string_view text, u128& value) {
  std::optional<u128> parsed;
  switch (kind) {
    case KeyKind::country:
      if (const auto c = ParseCountry(text)) parsed = *c;
      break;
    case KeyKind::ip:
      parsed = ParseIp(text);
      break;
    default:
      if (!text.empty() && (text.size() == 1 || text[0] != '0')) parsed = ParseU128Decimal(text);
      break;
  }
  if (!parsed) return false;
  value = *parsed;
  return true;
}

std::string KeyValueText(KeyKind kind, u128 value) {
  switch (kind) {
    case KeyKind::country:
      return CountryText(static_cast<uint16_t>(value));
    case KeyKind::ip:
      return IpText(value);
    default:
      return U128ToDecimal(value);
  }
}

std::string FeatureText(const FeatureSpec& spec) {
  static constexpr std::array<std::string_view, 3> kKinds = {"count", "sum", "distinct"};
  std::string text(kKinds[static_cast<size_t>(spec.kind)]);
  text += "(";
  if (spec.kind == FeatureKind::distinct) text += std::string(KeyKindName(spec.value)) + ", ";
  text += std::string(KeyKindName(spec.key)) + ", ";
  const uint64_t w = spec.window_seconds;
  if (w % 86400 == 0) {
    text += std::to_string(w / 86400) + "d";
  } else if (w % 3600 == 0) {
    text += std::to_string(w / 3600) + "h";
  } else if (w % 60 == 0) {
    text += std::to_string(w / 60) + "m";
  } else {
    text += std::to_string(w) + "s";
  }
  return text + ")";
}

}  // namespace tpw::risk
