#include "api/risk_body.h"

#include <boost/json/object.hpp>
#include <optional>

#include "api/http.h"
#include "cli/risk_values.h"
#include "risk/limits.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;

bool IsToml(std::string_view type) {
  const size_t semicolon = type.find(';');
  std::string_view media = type.substr(0, semicolon);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media.size() != 16) return false;
  for (size_t i = 0; i < media.size(); ++i) {
    const char c = media[i] >= 'A' && media[i] <= 'Z' ? static_cast<char>(media[i] + 32) : media[i];
    if (c != "application/toml"[i]) return false;
  }
  return true;
}

ApiError UnknownList(std::string_view name) {
  return ApiError{http::status::not_found, error_type::kInvalidRequest, "unknown_list",
                  "no risk list is named '" + std::string(name.substr(0, kRiskListNameBytesMax)) +
                      "'; GET /v1/risk/lists shows the lists the active rules declare",
                  "name"};
}

}  // namespace

ApiResult<risk::Event> DecodeRiskEventBody(std::string_view body) {
  ApiResult<bj::value> value = ParseJsonBody(body);
  if (!value.ok()) return Err{value.error()};
  if (!value.value().is_object()) {
    return Err{InvalidBody("the body is one event object, e.g. {\"amount\": \"12.50\", \"asset\": "
                           "\"EUR\", \"account\": \"42\"}")};
  }
  const bj::object& o = value.value().get_object();
  if (o.contains("time")) {
    return Err{InvalidBody("\"time\" is not taken: the server judges a dry run at its own clock", "time")};
  }
  risk::Event event;
  std::optional<Timestamp> time;
  std::string error;
  if (!cli::RiskEventFromJson(o, event, time, error)) return Err{InvalidBody(error)};
  return event;
}

ApiResult<std::string> DecodeRiskRulesBody(std::string_view content_type, std::string_view body) {
  if (body.empty()) return Err{InvalidBody("the body is empty; send a whole rules file", "rules")};
  std::string text;
  if (IsToml(content_type)) {
    text = std::string(body);
  } else if (IsJsonContentType(content_type)) {
    ApiResult<bj::value> value = ParseJsonBody(body);
    if (!value.ok()) return Err{value.error()};
    const bj::object* o = value.value().if_object();
    const bj::value* rules = o != nullptr ? o->if_contains("rules") : nullptr;
    if (rules == nullptr || !rules->is_string() || o->size() != 1) {
      return Err{InvalidBody("a JSON body is {\"rules\": \"<the TOML text>\"} and nothing else", "rules")};
    }
    text = std::string(rules->get_string());
  } else {
    return Err{ApiError{http::status::unsupported_media_type, error_type::kInvalidRequest,
                        "unsupported_media_type",
                        "send the rules as Content-Type: application/toml (the file itself) or "
                        "application/json ({\"rules\": \"...\"})",
                        "Content-Type"}};
  }
  if (text.empty()) return Err{InvalidBody("the rules text is empty; send a whole rules file", "rules")};
  if (text.size() > risk::kRulesFileBytesMax) {
    return Err{ApiError{http::status::payload_too_large, error_type::kInvalidRequest, "body_too_large",
                        "a rules file is at most " + std::to_string(risk::kRulesFileBytesMax) + " bytes",
                        "rules"}};
  }
  return text;
}

ApiResult<std::string> DecodeRiskListItemBody(std::string_view body) {
  ApiResult<bj::value> value = ParseJsonBody(body);
  if (!value.ok()) return Err{value.error()};
  const bj::object* o = value.value().if_object();
  const bj::value* item = o != nullptr ? o->if_contains("value") : nullptr;
  if (item == nullptr || o->size() != 1) {
    return Err{InvalidBody("the body is {\"value\": \"<item>\"}, e.g. {\"value\": \"1001\"}", "value")};
  }
  std::string text;
  if (item->is_string()) {
    text = std::string(item->get_string());
  } else if (item->is_uint64() || (item->is_int64() && item->get_int64() >= 0)) {
    text = item->is_uint64() ? std::to_string(item->get_uint64()) : std::to_string(item->get_int64());
  } else {
    return Err{InvalidBody("\"value\" is a string (an id, a country, an IP) or a non-negative integer", "value")};
  }
  if (text.empty() || text.size() > kRiskListValueBytesMax) {
    return Err{InvalidBody("\"value\" is 1 to " + std::to_string(kRiskListValueBytesMax) + " characters", "value")};
  }
  return text;
}

ApiResult<std::string> DecodeRiskListName(std::string_view text) {
  if (text.empty() || text.size() > kRiskListNameBytesMax) return Err{UnknownList(text)};
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return Err{UnknownList(text)};
  }
  return std::string(text);
}

ApiResult<std::pair<std::string, std::string>> DecodeRiskListItemPath(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return Err{UnknownList(text)};
  ApiResult<std::string> name = DecodeRiskListName(text.substr(0, slash));
  if (!name.ok()) return Err{name.error()};
  std::optional<std::string> value = PercentDecode(text.substr(slash + 1), false);
  if (!value || value->empty() || value->size() > kRiskListValueBytesMax) {
    return Err{InvalidParameter("the item is 1 to " + std::to_string(kRiskListValueBytesMax) +
                                    " characters, %-escaped where needed",
                                "value")};
  }
  return std::pair{std::move(name.value()), std::move(*value)};
}

}  // namespace tpw::api
