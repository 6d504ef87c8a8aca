#include "api/body.h"

#include <algorithm>
#include <array>
#include <bit>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <set>

#include "cli/json_fields.h"
#include "common/assert.h"
#include "common/limits.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;

ApiError MalformedJson(std::string message) {
  return ApiError{http::status::bad_request, error_type::kInvalidRequest, "malformed_json",
                  std::move(message), ""};
}

// Why a body failed to parse: a repeated key (invalid_body naming it) or malformed JSON.
ApiError BodyJsonError(const bj::error_code& error, const std::string& repeated_key) {
  if (!repeated_key.empty()) {
    return InvalidBody("key \"" + repeated_key + "\" appears twice in one object", repeated_key);
  }
  return MalformedJson("the body is not valid JSON (" + error.message() + "): UTF-8, at most " +
                       std::to_string(kJsonDepthMax) + " levels deep, nothing after the value");
}

// Parses `body` into `out`: valid UTF-8 JSON, at most kJsonDepthMax
// deep, no key repeated in an object.
std::optional<ApiError> ParseBody(std::string_view body, bj::value& out) {
  bj::parse_options options;
  options.max_depth = kJsonDepthMax;
  // One pass parses and refuses repeated keys (boost::json would keep the last).
  cli::StrictJson parsed = cli::ParseJsonRejectingRepeatedKeys(body, {}, options);
  if (parsed.error) return BodyJsonError(parsed.error, parsed.repeated_key);
  out = std::move(parsed.value);
  return std::nullopt;
}

// {"<key>": [object, ...]} with 1..kBatchEventsMax objects: the array.
ApiResult<JsonRef> BatchArray(JsonRef body, std::string_view key) {
  const std::string k(key);
  const std::optional<JsonRef> items =
      body.is_object() && body.size() == 1 ? body.Find(key) : std::nullopt;
  if (!items || !items->is_array()) {
    return Err{InvalidBody("the body must be {\"" + k + "\": [...]}", k)};
  }
  if (items->size() == 0) return Err{InvalidBody("\"" + k + "\" holds no events", k)};
  if (items->size() > kBatchEventsMax) {
    return Err{ApiError{http::status::bad_request, error_type::kInvalidRequest, "too_many_events",
                        "a batch holds at most " + std::to_string(kBatchEventsMax) +
                            " events; split it",
                        k}};
  }
  return *items;
}

std::string ItemParam(std::string_view key, size_t index) {
  return std::string(key) + "[" + std::to_string(index) + "]";
}

// Decodes each item of a batch array with `decode` (object → InputResult<T>); the first bad
// item is the error.
template <typename T, typename Decode>
ApiResult<std::vector<T>> DecodeItems(JsonRef items, std::string_view key, Decode decode) {
  std::vector<T> out;
  out.reserve(items.size());
  std::optional<ApiError> error;
  items.ForEachItem([&](size_t i, JsonRef item) {
    if (!item.is_object()) {
      error = InvalidBody(ItemParam(key, i) + " must be a JSON object", ItemParam(key, i));
      return false;
    }
    cli::InputResult<T> decoded = decode(item);
    if (!decoded.ok()) {
      error = InvalidBody(ItemParam(key, i) + ": " + decoded.error().message, ItemParam(key, i));
      return false;
    }
    out.push_back(std::move(decoded).value());
    return true;
  });
  if (error) return Err{std::move(*error)};
  return out;
}

// Nodes of a payment body (~30), so the tape's node array is allocated once.
constexpr size_t kTapeNodesReserved = 64;
// What a reused tape keeps of its buffers between bodies.
constexpr size_t kTapeKeptBytesMax = 64 * 1024;

template <typename T, typename Decode>
ApiResult<std::vector<T>> DecodeBatch(std::string_view body, std::string_view key,
                                      Decode decode) {
  JsonTape& tape = DecoderTape();
  if (std::optional<ApiError> error = ParseJsonTape(body, tape)) return Err{std::move(*error)};
  ApiResult<JsonRef> items = BatchArray(JsonRef(tape, 0), key);
  if (!items.ok()) return Err{items.error()};
  return DecodeItems<T>(items.value(), key, decode);
}

ApiResult<bool> ParseBool(const std::string& key, const std::string& value) {
  if (value == "true") return true;
  if (value == "false") return false;
  return Err{InvalidParameter(key + " must be true or false", key)};
}

// Stores one query parameter in `text`.
std::optional<ApiError> SetQueryField(cli::AccountQueryText& text, const std::string& key,
                                      std::string value) {
  if (key == "debits" || key == "credits" || key == "reverse") {
    ApiResult<bool> flag = ParseBool(key, value);
    if (!flag.ok()) return flag.error();
    bool& field = key == "debits" ? text.debits : key == "credits" ? text.credits : text.reverse;
    field = flag.value();
    return std::nullopt;
  }
  std::string& field = key == "from"    ? text.from
                       : key == "to"    ? text.to
                       : key == "code"  ? text.code
                       : key == "limit" ? text.limit
                                        : text.after;
  if (value.empty()) return InvalidParameter(key + " is empty", key);
  field = std::move(value);
  return std::nullopt;
}

struct QueryParam {
  std::string key;
  std::optional<std::string> value;  // nullopt: "key" without "="
};

// Characters of a parameter name as sent quoted in an error's `param`.
constexpr size_t kBadParamBytesMax = 64;

// "a=1&b=2" → its parameters, decoded; nullopt if an escape is bad, with `bad` the parameter
// it is in (as sent, at most kBadParamBytesMax bytes).
std::optional<std::vector<QueryParam>> SplitQuery(std::string_view query, std::string& bad) {
  std::vector<QueryParam> params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    bad = std::string(item.substr(0, std::min(eq, kBadParamBytesMax)));
    std::optional<std::string> key = PercentDecode(item.substr(0, eq), true);
    if (!key) return std::nullopt;
    QueryParam param{std::move(*key), std::nullopt};
    if (eq != std::string_view::npos) {
      param.value = PercentDecode(item.substr(eq + 1), true);
      if (!param.value) return std::nullopt;
    }
    params.push_back(std::move(param));
  }
  return params;
}

// The parameter an error message of ParseAccountQuery is about (its first word).
std::string ParamOf(const std::string& message) {
  const size_t space = message.find(' ');
  const std::string first = message.substr(0, space);
  return first == "account" ? "id" : first;
}

}  // namespace

ApiResult<bj::value> ParseJsonBody(std::string_view body) {
  bj::value value;
  if (std::optional<ApiError> error = ParseBody(body, value)) return Err{*error};
  return value;
}

// Builds a JsonTape from basic_parser's events, refusing a key repeated in one object as
// cli::ParseJsonRejectingRepeatedKeys does (the same error at the same point of the parse).
class JsonTapeBuilder {
 public:
  // No limits of its own, as the value-tree parse: the HTTP layer bounds the body.
  static constexpr std::size_t max_object_size = SIZE_MAX;
  static constexpr std::size_t max_array_size = SIZE_MAX;
  static constexpr std::size_t max_key_size = SIZE_MAX;
  static constexpr std::size_t max_string_size = SIZE_MAX;

  explicit JsonTapeBuilder(JsonTape& tape) : tape_(tape) {}

  bool on_document_begin(bj::error_code&) { return true; }
  bool on_document_end(bj::error_code&) { return true; }
  bool on_object_begin(bj::error_code&) { return Open(JsonTape::Kind::object); }
  bool on_object_end(std::size_t, bj::error_code&) { return Close(); }
  bool on_array_begin(bj::error_code&) { return Open(JsonTape::Kind::array); }
  bool on_array_end(std::size_t, bj::error_code&) { return Close(); }
  bool on_string_part(bj::string_view s, std::size_t, bj::error_code&) { return Append(s); }
  bool on_string(bj::string_view s, std::size_t, bj::error_code&) {
    Append(s);
    return PushText(JsonTape::Kind::string);
  }
  bool on_key_part(bj::string_view s, std::size_t, bj::error_code&) { return Append(s); }
  bool on_key(bj::string_view s, std::size_t, bj::error_code& ec) {
    Append(s);
    if (Repeated()) {
      repeated_ = std::string(PendingText());
      ec = bj::error::syntax;  // any error stops the parse; repeated_ says why
      return false;
    }
    ++tape_.nodes_[open_[depth_ - 1]].count;
    return PushText(JsonTape::Kind::key);
  }
  bool on_number_part(bj::string_view, bj::error_code&) { return true; }
  bool on_int64(int64_t i, bj::string_view, bj::error_code&) {
    JsonTape::Node node{.kind = JsonTape::Kind::int64};
    node.number.int64 = i;
    return Push(node);
  }
  bool on_uint64(uint64_t u, bj::string_view, bj::error_code&) {
    JsonTape::Node node{.kind = JsonTape::Kind::uint64};
    node.number.uint64 = u;
    return Push(node);
  }
  bool on_double(double d, bj::string_view, bj::error_code&) {
    JsonTape::Node node{.kind = JsonTape::Kind::float64};
    node.number.float64 = d;
    return Push(node);
  }
  bool on_bool(bool b, bj::error_code&) {
    return Push(JsonTape::Node{.kind = JsonTape::Kind::boolean, .boolean = b});
  }
  bool on_null(bj::error_code&) { return Push(JsonTape::Node{.kind = JsonTape::Kind::null}); }
  bool on_comment_part(bj::string_view, bj::error_code&) { return true; }
  bool on_comment(bj::string_view, bj::error_code&) { return true; }

  const std::string& repeated() const { return repeated_; }

 private:
  uint32_t NodeCount() const { return static_cast<uint32_t>(tape_.nodes_.size()); }

  bool Push(JsonTape::Node node) {
    if (depth_ > 0 && tape_.nodes_[open_[depth_ - 1]].kind == JsonTape::Kind::array) {
      ++tape_.nodes_[open_[depth_ - 1]].count;
    }
    node.end = NodeCount() + 1;
    tape_.nodes_.push_back(node);
    return true;
  }
  // The parser refuses a container deeper than kJsonDepthMax before announcing it.
  bool Open(JsonTape::Kind kind) {
    TPW_ASSERT(depth_ < open_.size());
    open_[depth_] = NodeCount();
    Push(JsonTape::Node{.kind = kind});
    seen_[depth_].reset();
    ++depth_;
    return true;
  }
  bool Close() {
    --depth_;
    tape_.nodes_[open_[depth_]].end = NodeCount();
    return true;
  }
  bool Append(bj::string_view s) {
    tape_.arena_.append(s.data(), s.size());
    return true;
  }
  std::string_view PendingText() const { return std::string_view(tape_.arena_).substr(pending_); }
  // A string or key whose bytes are the arena's tail since the last one.
  bool PushText(JsonTape::Kind kind) {
    JsonTape::Node node{.kind = kind};
    node.offset = static_cast<uint32_t>(pending_);
    node.bytes = static_cast<uint32_t>(tape_.arena_.size() - pending_);
    pending_ = tape_.arena_.size();
    if (kind == JsonTape::Kind::key) {
      node.end = NodeCount() + 1;  // a key is not an item of anything
      tape_.nodes_.push_back(node);
      return true;
    }
    return Push(node);
  }

  // Whether the pending key is already a key of the innermost object: a scan of its members
  // while it is small (a payment body has a handful), a set once it has more than
  // kLinearKeysMax, so a hostile object with many keys stays O(n log n).
  bool Repeated() {
    const uint32_t object = open_[depth_ - 1];
    const std::string_view key = PendingText();
    std::unique_ptr<std::set<std::string>>& seen = seen_[depth_ - 1];
    if (seen != nullptr) return !seen->emplace(key).second;
    bool found = false;
    ForEachKey(object, [&](std::string_view member) { found = found || member == key; });
    if (found) return true;
    if (tape_.nodes_[object].count + 1 > kLinearKeysMax) {
      seen = std::make_unique<std::set<std::string>>();
      ForEachKey(object, [&](std::string_view member) { seen->emplace(member); });
      seen->emplace(key);
    }
    return false;
  }

  // fn(key) for the keys of the open `object` so far: its members are complete, and the tape's
  // end stands for the object's (not known yet).
  template <typename Fn>
  void ForEachKey(uint32_t object, Fn fn) const {
    for (uint32_t i = object + 1; i < NodeCount(); i = tape_.nodes_[i + 1].end) {
      fn(tape_.text(tape_.nodes_[i]));
    }
  }

  static constexpr size_t kLinearKeysMax = 16;
  JsonTape& tape_;
  std::array<uint32_t, kJsonDepthMax + 1> open_{};  // the open containers, outermost first
  std::array<std::unique_ptr<std::set<std::string>>, kJsonDepthMax + 1> seen_;
  size_t depth_ = 0;
  size_t pending_ = 0;  // where the string or key being read starts in the arena
  std::string repeated_;
};

std::optional<ApiError> ParseJsonTape(std::string_view body, JsonTape& tape) {
  // A reused tape keeps its capacity, unless a large body made it grow: release that.
  if (tape.arena_.capacity() > kTapeKeptBytesMax) tape.arena_ = std::string();
  if (tape.nodes_.capacity() * sizeof(JsonTape::Node) > kTapeKeptBytesMax) tape.nodes_ = {};
  tape.nodes_.clear();
  tape.arena_.clear();
  // Unescaped strings are never longer than their JSON text: one arena allocation.
  tape.arena_.reserve(body.size());
  tape.nodes_.reserve(kTapeNodesReserved);
  bj::parse_options options;
  options.max_depth = kJsonDepthMax;
  bj::basic_parser<JsonTapeBuilder> parser{options, tape};
  bj::error_code error;
  const size_t consumed = parser.write_some(false, body.data(), body.size(), error);
  if (!error && consumed != body.size()) error = bj::error::extra_data;
  if (!error && !parser.done()) error = bj::error::incomplete;
  if (error) return BodyJsonError(error, parser.handler().repeated());
  return std::nullopt;
}

namespace {

bool SameMembers(JsonRef ref, const bj::object& object) {
  if (ref.size() != object.size()) return false;
  auto it = object.begin();
  bool same = true;
  ref.ForEachMember([&](std::string_view key, JsonRef value) {
    same =
        key == std::string_view(it->key().data(), it->key().size()) && SameJson(value, it->value());
    ++it;
    return same;
  });
  return same;
}

bool SameItems(JsonRef ref, const bj::array& array) {
  if (ref.size() != array.size()) return false;
  bool same = true;
  ref.ForEachItem([&](size_t i, JsonRef item) { return same = SameJson(item, array[i]); });
  return same;
}

}  // namespace

bool SameJson(JsonRef ref, const bj::value& value) {
  switch (ref.kind()) {
    case JsonTape::Kind::null:
      return value.is_null();
    case JsonTape::Kind::boolean:
      return value.is_bool() && value.get_bool() == ref.boolean();
    case JsonTape::Kind::int64:
      return value.is_int64() && value.get_int64() == ref.int64();
    case JsonTape::Kind::uint64:
      return value.is_uint64() && value.get_uint64() == ref.uint64();
    case JsonTape::Kind::float64:
      // Bit for bit: boost::json reads "0E66666" as 0 * inf, a NaN, which equals nothing.
      return value.is_double() &&
             std::bit_cast<uint64_t>(value.get_double()) == std::bit_cast<uint64_t>(ref.float64());
    case JsonTape::Kind::string:
      return value.is_string() &&
             std::string_view(value.get_string().data(), value.get_string().size()) == ref.string();
    case JsonTape::Kind::key:
      return false;  // a key is not a value
    case JsonTape::Kind::array:
      return value.is_array() && SameItems(ref, value.get_array());
    case JsonTape::Kind::object:
      return value.is_object() && SameMembers(ref, value.get_object());
  }
  return false;
}

JsonTape& DecoderTape() {
  thread_local JsonTape tape;
  return tape;
}

// Straight over the member nodes, the length compared first (most keys differ in length): the
// transfer decoder looks up each of its 14 keys, most of them absent, so every member is visited.
std::optional<JsonRef> JsonRef::Find(std::string_view key) const {
  const uint32_t end = node().end;
  for (uint32_t i = index_ + 1; i < end; i = tape_->node(i + 1).end) {
    const JsonTape::Node& member = tape_->node(i);
    if (member.bytes == key.size() && tape_->text(member) == key) return JsonRef(*tape_, i + 1);
  }
  return std::nullopt;
}

ApiResult<std::vector<std::pair<std::string, std::string>>> ParseQueryParams(
    std::string_view query, std::span<const std::string_view> known) {
  std::string bad;
  const std::optional<std::vector<QueryParam>> params = SplitQuery(query, bad);
  if (!params) {
    return Err{InvalidParameter("query parameter \"" + bad + "\" has a bad %-escape (% and two hex digits)", bad)};
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const QueryParam& param : *params) {
    const std::string& key = param.key;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Err{InvalidParameter("unknown query parameter \"" + key + "\"", key)};
    }
    // At most known.size() keys are kept: a repeat is caught before the list grows further.
    if (std::any_of(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; })) {
      return Err{InvalidParameter(key + " is given twice", key)};
    }
    if (!param.value) return Err{InvalidParameter(key + " needs a value", key)};
    out.emplace_back(key, *param.value);
  }
  return out;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (plus_is_space && text[i] == '+') {
      out += ' ';
    } else if (text[i] != '%') {
      out += text[i];
    } else {
      if (i + 2 >= text.size()) return std::nullopt;  // "%" or "%4" at the end
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    }
  }
  return out;
}

ApiError InvalidParameter(std::string message, std::string param) {
  return ApiError{http::status::bad_request, error_type::kInvalidRequest, "invalid_parameter",
                  std::move(message), std::move(param)};
}

ApiError InvalidBody(std::string message, std::string param) {
  return ApiError{http::status::bad_request, error_type::kInvalidRequest, "invalid_body",
                  std::move(message), std::move(param)};
}

ApiResult<std::vector<ledger::Account>> DecodeAccountsBody(std::string_view body,
                                                           const AssetTable& assets) {
  return DecodeBatch<ledger::Account>(body, "accounts", [&](JsonRef object) {
    return cli::AccountFromFields(object, assets);
  });
}

ApiResult<std::vector<cli::TransferDraft>> DecodeTransfersBatchBody(std::string_view body,
                                                                    const AssetTable& assets) {
  return DecodeBatch<cli::TransferDraft>(body, "transfers", [&](JsonRef object) {
    return cli::TransferDraftFromFields(object, assets);
  });
}

ApiResult<cli::TransferDraft> DecodeTransferBody(std::string_view body,
                                                 const AssetTable& assets) {
  JsonTape& tape = DecoderTape();
  if (std::optional<ApiError> error = ParseJsonTape(body, tape)) return Err{std::move(*error)};
  const JsonRef object(tape, 0);
  if (!object.is_object()) return Err{InvalidBody("the body must be one transfer object {...}")};
  cli::InputResult<cli::TransferDraft> draft = cli::TransferDraftFromFields(object, assets);
  if (!draft.ok()) return Err{InvalidBody(draft.error().message)};
  return std::move(draft).value();
}

ApiResult<u128> DecodePathId(std::string_view text) {
  cli::InputResult<u128> id = cli::ParseIdText("id", text);
  if (!id.ok()) return Err{InvalidParameter(id.error().message, "id")};
  return id.value();
}

ApiResult<std::vector<u128>> DecodeLookupIds(std::string_view query) {
  constexpr std::array<std::string_view, 1> kKnown = {"ids"};
  auto params = ParseQueryParams(query, kKnown);
  if (!params.ok()) return Err{params.error()};
  if (params.value().empty()) {
    return Err{InvalidParameter("name the records with ?ids=1,2,3 (1.." +
                                    std::to_string(kLookupIdsPerRequestMax) + " ids)",
                                "ids")};
  }
  std::vector<u128> ids;
  std::string_view rest = params.value().front().second;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view text = rest.substr(0, comma);
    cli::InputResult<u128> id = cli::ParseIdText("ids", text);
    if (!id.ok()) return Err{InvalidParameter(id.error().message, "ids")};
    if (std::find(ids.begin(), ids.end(), id.value()) == ids.end()) ids.push_back(id.value());
    if (ids.size() > kLookupIdsPerRequestMax) {
      return Err{InvalidParameter("at most " + std::to_string(kLookupIdsPerRequestMax) +
                                      " ids per lookup; split the ids over several requests",
                                  "ids")};
    }
    if (comma == std::string_view::npos) return ids;
    rest.remove_prefix(comma + 1);
  }
}

ApiResult<cli::AccountQuery> DecodeAccountQuery(std::string_view id, std::string_view query,
                                                bool with_transfer_filters) {
  cli::AccountQueryText text;
  text.account = std::string(id);
  constexpr std::array<std::string_view, 8> kKnown = {"from",  "to",   "limit",   "after",
                                                      "reverse", "code", "debits", "credits"};
  // The transfer filters are the last three.
  const std::span<const std::string_view> known(kKnown.data(),
                                                with_transfer_filters ? 8 : 5);
  ApiResult<std::vector<std::pair<std::string, std::string>>> params =
      ParseQueryParams(query, known);
  if (!params.ok()) return Err{params.error()};
  for (auto& [key, value] : params.value()) {
    if (std::optional<ApiError> error = SetQueryField(text, key, std::move(value))) {
      return Err{*error};
    }
  }
  cli::InputResult<cli::AccountQuery> parsed = cli::ParseAccountQuery(text, "");
  if (!parsed.ok()) {
    return Err{InvalidParameter(parsed.error().message, ParamOf(parsed.error().message))};
  }
  return parsed.value();
}

}  // namespace tpw::api
