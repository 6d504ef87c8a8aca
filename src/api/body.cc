#include "api/body.h"

#include <algorithm>
#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "common/limits.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;

ApiError MalformedJson(std::string message) {
  return ApiError{http::status::bad_request, error_type::kInvalidRequest, "malformed_json",
                  std::move(message), ""};
}

// Parses `body` into `out` (allocating from `resource`): valid UTF-8 JSON, at most kJsonDepthMax
// deep, no key repeated in an object.
std::optional<ApiError> ParseBody(std::string_view body, bj::storage_ptr storage,
                                  bj::value& out) {
  bj::parse_options options;
  options.max_depth = kJsonDepthMax;
  // One pass parses and refuses repeated keys (boost::json would keep the last).
  cli::StrictJson parsed = cli::ParseJsonRejectingRepeatedKeys(body, std::move(storage), options);
  if (!parsed.repeated_key.empty()) {
    return InvalidBody("key \"" + parsed.repeated_key + "\" appears twice in one object",
                       parsed.repeated_key);
  }
  if (parsed.error) {
    return MalformedJson("the body is not valid JSON (" + parsed.error.message() +
                         "): UTF-8, at most " + std::to_string(kJsonDepthMax) +
                         " levels deep, nothing after the value");
  }
  out = std::move(parsed.value);
  return std::nullopt;
}

// {"<key>": [object, ...]} with 1..kBatchEventsMax objects.
ApiResult<const bj::array*> BatchArray(const bj::value& value, std::string_view key) {
  const std::string k(key);
  if (!value.is_object() || value.get_object().size() != 1 ||
      !value.get_object().contains(k) || !value.get_object().at(k).is_array()) {
    return Err{InvalidBody("the body must be {\"" + k + "\": [...]}", k)};
  }
  const bj::array& items = value.get_object().at(k).get_array();
  if (items.empty()) return Err{InvalidBody("\"" + k + "\" holds no events", k)};
  if (items.size() > kBatchEventsMax) {
    return Err{ApiError{http::status::bad_request, error_type::kInvalidRequest, "too_many_events",
                        "a batch holds at most " + std::to_string(kBatchEventsMax) +
                            " events; split it",
                        k}};
  }
  return &items;
}

std::string ItemParam(std::string_view key, size_t index) {
  return std::string(key) + "[" + std::to_string(index) + "]";
}

// Decodes each item of a batch array with `decode` (object → InputResult<T>).
template <typename T, typename Decode>
ApiResult<std::vector<T>> DecodeItems(const bj::array& items, std::string_view key,
                                      Decode decode) {
  std::vector<T> out;
  out.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string param = ItemParam(key, i);
    if (!items[i].is_object()) return Err{InvalidBody(param + " must be a JSON object", param)};
    cli::InputResult<T> item = decode(items[i].get_object());
    if (!item.ok()) return Err{InvalidBody(param + ": " + item.error().message, param)};
    out.push_back(std::move(item).value());
  }
  return out;
}

// A small first buffer for the parser, so a single transfer parses without a heap allocation.
constexpr size_t kParseBufferBytes = 4096;

template <typename T, typename Decode>
ApiResult<std::vector<T>> DecodeBatch(std::string_view body, std::string_view key,
                                      Decode decode) {
  unsigned char buffer[kParseBufferBytes];
  bj::monotonic_resource resource(buffer, sizeof buffer);
  bj::value value;
  if (std::optional<ApiError> error = ParseBody(body, bj::storage_ptr(&resource), value)) return Err{*error};
  ApiResult<const bj::array*> items = BatchArray(value, key);
  if (!items.ok()) return Err{items.error()};
  return DecodeItems<T>(*items.value(), key, decode);
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
  if (std::optional<ApiError> error = ParseBody(body, {}, value)) return Err{*error};
  return value;
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
  return DecodeBatch<ledger::Account>(body, "accounts", [&](const bj::object& object) {
    return cli::AccountFromJson(object, assets);
  });
}

ApiResult<std::vector<cli::TransferDraft>> DecodeTransfersBatchBody(std::string_view body,
                                                                    const AssetTable& assets) {
  return DecodeBatch<cli::TransferDraft>(body, "transfers", [&](const bj::object& object) {
    return cli::TransferDraftFromJson(object, assets);
  });
}

ApiResult<cli::TransferDraft> DecodeTransferBody(std::string_view body,
                                                 const AssetTable& assets) {
  unsigned char buffer[kParseBufferBytes];
  bj::monotonic_resource resource(buffer, sizeof buffer);
  bj::value value;
  if (std::optional<ApiError> error = ParseBody(body, bj::storage_ptr(&resource), value)) return Err{*error};
  if (!value.is_object()) return Err{InvalidBody("the body must be one transfer object {...}")};
  cli::InputResult<cli::TransferDraft> draft =
      cli::TransferDraftFromJson(value.get_object(), assets);
  if (!draft.ok()) return Err{InvalidBody(draft.error().message)};
  return std::move(draft).value();
}

ApiResult<u128> DecodePathId(std::string_view text) {
  cli::InputResult<u128> id = cli::ParseIdText("id", text);
  if (!id.ok()) return Err{InvalidParameter(id.error().message, "id")};
  return id.value();
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
