#include "api/webhook_body.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>

#include "crypto/base64.h"
#include "crypto/hash.h"
#include "crypto/hmac.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;

constexpr std::string_view kEventPrefix = "evt_";
constexpr std::string_view kEndpointPrefix = "we_";
constexpr std::string_view kSecretPrefix = "whsec_";
// Items per page of the events list and the deliveries list.
constexpr uint32_t kPageMax = 1000;

// Decimal ≥ 1 without sign or leading zero, optionally after `prefix`.
std::optional<uint64_t> ParsePrefixedId(std::string_view text, std::string_view prefix) {
  if (text.starts_with(prefix)) text.remove_prefix(prefix.size());
  if (text.empty() || text.size() > 20 || text[0] == '0') return std::nullopt;
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string Hmac(std::string_view secret_text, std::string_view message) {
  const crypto::HmacSha256Tag tag = crypto::HmacSha256(Bytes(secret_text), Bytes(message));
  return crypto::ToHex(tag.bytes);
}

ApiResult<const bj::object*> ObjectBody(const bj::value& value, std::string_view example) {
  if (!value.is_object()) {
    return Err{InvalidBody("the body is one JSON object, e.g. " + std::string(example))};
  }
  return &value.get_object();
}

// Every key of `o` is one of `known` (else 400 naming it).
std::optional<ApiError> UnknownKey(const bj::object& o, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : o) {
    if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end()) {
      return InvalidBody("unknown field \"" + std::string(key) + "\"", std::string(key));
    }
  }
  return std::nullopt;
}

ApiResult<std::string> StringField(const bj::value& v, std::string_view key, size_t max_bytes) {
  const std::string k(key);
  if (!v.is_string()) return Err{InvalidBody("\"" + k + "\" must be a string", k)};
  if (v.get_string().size() > max_bytes) {
    return Err{InvalidBody("\"" + k + "\" is at most " + std::to_string(max_bytes) + " bytes", k)};
  }
  return std::string(v.get_string());
}

ApiResult<std::vector<std::string>> FilterField(const bj::value& v) {
  const std::string k = "enabled_events";
  if (!v.is_array() || v.get_array().empty() || v.get_array().size() > engine::kWebhookFilterEntriesMax) {
    return Err{InvalidBody("\"enabled_events\" is an array of 1 to " +
                               std::to_string(engine::kWebhookFilterEntriesMax) +
                               " event types, \"*\" or \"prefix.*\", e.g. [\"payment.*\"]",
                           k)};
  }
  std::vector<std::string> out;
  for (const bj::value& entry : v.get_array()) {
    if (!entry.is_string() || !engine::ValidEventFilterEntry(entry.get_string())) {
      return Err{InvalidBody("\"enabled_events\" entries are \"*\", an event type of lower-case "
                             "dot-separated words (e.g. \"payment.succeeded\") or \"prefix.*\"",
                             k)};
    }
    if (std::find(out.begin(), out.end(), entry.get_string()) != out.end()) {
      return Err{InvalidBody("\"enabled_events\" lists " + std::string(entry.get_string()) + " twice", k)};
    }
    out.emplace_back(entry.get_string());
  }
  return out;
}

ApiResult<bool> BoolField(const bj::value& v, std::string_view key) {
  if (!v.is_bool()) return Err{InvalidBody("\"" + std::string(key) + "\" must be true or false", std::string(key))};
  return v.get_bool();
}

// Sets one endpoint field from the body; `fields` gets its bit.
std::optional<ApiError> SetEndpointField(std::string_view key, const bj::value& v,
                                         engine::WebhookEndpoint& e, uint8_t& fields) {
  namespace ef = engine::endpoint_fields;
  if (key == "url") {
    ApiResult<std::string> url = StringField(v, key, engine::kWebhookUrlBytesMax);
    if (!url.ok()) return url.error();
    if (ApiResult<WebhookUrl> parsed = ParseWebhookUrl(url.value()); !parsed.ok()) return parsed.error();
    e.url = std::move(url.value());
    fields |= ef::kUrl;
  } else if (key == "enabled_events") {
    ApiResult<std::vector<std::string>> filter = FilterField(v);
    if (!filter.ok()) return filter.error();
    e.filter = std::move(filter.value());
    fields |= ef::kFilter;
  } else if (key == "description") {
    ApiResult<std::string> text = StringField(v, key, engine::kWebhookDescriptionBytesMax);
    if (!text.ok()) return text.error();
    e.description = std::move(text.value());
    fields |= ef::kDescription;
  } else {
    ApiResult<bool> enabled = BoolField(v, key);
    if (!enabled.ok()) return enabled.error();
    e.enabled = enabled.value();
    fields |= ef::kEnabled;
  }
  return std::nullopt;
}

ApiResult<uint32_t> LimitParam(const std::string& value) {
  const std::optional<uint64_t> n = ParsePrefixedId(value, "");
  if (!n || *n > kPageMax) {
    return Err{InvalidParameter("limit is 1.." + std::to_string(kPageMax), "limit")};
  }
  return static_cast<uint32_t>(*n);
}

bool HostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

// "[v6]" or a name / IPv4 of HostChar, then an optional ":port".
std::optional<ApiError> ParseAuthority(std::string_view authority, WebhookUrl& out) {
  const auto bad = [](std::string why) { return InvalidBody("\"url\" " + why, "url"); };
  if (authority.find('@') != std::string_view::npos) return bad("must not carry a user name or password");
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("has an IPv6 address without its closing ']'");
    host = authority.substr(1, close - 1);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return bad("has something after the IPv6 address");
    if (!rest.empty()) port = rest.substr(1);
    const bool v6 = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
    if (!v6) return bad("has a bracketed host that is not an IPv6 address");
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty() || host.size() > 253 || !std::all_of(host.begin(), host.end(), HostChar)) {
      return bad("needs a host name or IP address (letters, digits, '-', '.')");
    }
  }
  if (authority.find(':') != std::string_view::npos && !authority.starts_with('[') && port.empty()) {
    return bad("has a ':' without a port");
  }
  if (!port.empty()) {
    const std::optional<uint64_t> n = ParsePrefixedId(port, "");
    if (!n || *n > 65535) return bad("has a port that is not 1..65535");
    out.port = static_cast<uint16_t>(*n);
  }
  out.host = std::string(host);
  const bool v6 = host.find(':') != std::string_view::npos;
  out.host_header = (v6 ? "[" + out.host + "]" : out.host) +
                    (out.port == 80 ? "" : ":" + std::to_string(out.port));
  return std::nullopt;
}

}  // namespace

// ---- Ids and secrets ----------------------------------------------------------------------

std::string EventIdText(uint64_t id) { return std::string(kEventPrefix) + std::to_string(id); }
std::optional<uint64_t> ParseEventId(std::string_view text) { return ParsePrefixedId(text, kEventPrefix); }
std::optional<uint64_t> ParseEventCursor(std::string_view text) {
  if (text == "0" || text == "evt_0") return 0;
  return ParseEventId(text);
}
std::string EndpointIdText(uint64_t id) { return std::string(kEndpointPrefix) + std::to_string(id); }
std::optional<uint64_t> ParseEndpointId(std::string_view text) {
  return ParsePrefixedId(text, kEndpointPrefix);
}

std::string SecretText(std::span<const uint8_t, engine::kWebhookSecretBytes> secret) {
  return std::string(kSecretPrefix) + crypto::Base64UrlEncode(secret);
}

// ---- Signature -----------------------------------------------------------------------------

std::string SignatureHeader(std::string_view secret_text, uint64_t unix_seconds,
                            std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  std::string message;
  message.reserve(t.size() + 1 + body.size());
  message.append(t).append(".").append(body);
  return "t=" + t + ",v1=" + Hmac(secret_text, message);
}

SignatureCheck VerifySignatureHeader(std::string_view header, std::string_view secret_text,
                                     std::string_view body, uint64_t now_unix_seconds,
                                     uint64_t tolerance_seconds) {
  std::optional<uint64_t> t;
  std::vector<std::string_view> v1;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    const std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    if (item.starts_with("t=")) {
      const std::string_view digits = item.substr(2);
      uint64_t value = 0;
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (t || error != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
        return SignatureCheck::malformed;
      }
      t = value;
    } else if (item.starts_with("v1=")) {
      v1.push_back(item.substr(3));
    }  // other schemes: ignored, as receivers must
  }
  if (!t || v1.empty()) return SignatureCheck::malformed;
  const std::string message = std::to_string(*t) + "." + std::string(body);
  const crypto::HmacSha256Tag expected = crypto::HmacSha256(Bytes(secret_text), Bytes(message));
  bool matched = false;
  for (const std::string_view hex : v1) {
    const std::optional<crypto::Hash256> tag = crypto::HashFromHex(hex);
    if (tag && crypto::ConstantTimeEqual(*tag, expected.bytes)) matched = true;
  }
  if (!matched) return SignatureCheck::mismatch;
  const uint64_t age = now_unix_seconds > *t ? now_unix_seconds - *t : *t - now_unix_seconds;
  return age <= tolerance_seconds ? SignatureCheck::ok : SignatureCheck::too_old;
}

// ---- Webhook URLs ---------------------------------------------------------------------------

ApiResult<WebhookUrl> ParseWebhookUrl(std::string_view text) {
  const auto bad = [](std::string why) { return Err{InvalidBody("\"url\" " + why, "url")}; };
  if (text.empty() || text.size() > engine::kWebhookUrlBytesMax) {
    return bad("is 1 to " + std::to_string(engine::kWebhookUrlBytesMax) + " bytes");
  }
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return bad("must be printable ASCII without spaces (percent-encode the rest)");
  }
  if (text.starts_with("https://")) {
    return bad("is https: the deliverer speaks plain HTTP only for now; point it at a TLS "
               "terminating proxy's plain side or use http:// on a trusted network");
  }
  if (!text.starts_with("http://")) return bad("must start with http://, e.g. http://127.0.0.1:8000/hooks");
  if (text.find('#') != std::string_view::npos) return bad("must not have a #fragment");
  std::string_view rest = text.substr(7);
  const size_t path_at = rest.find_first_of("/?");
  WebhookUrl out;
  if (std::optional<ApiError> error = ParseAuthority(rest.substr(0, path_at), out)) return Err{*error};
  out.target = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
  if (out.target[0] == '?') out.target.insert(0, "/");
  return out;
}

// ---- Bodies and queries ---------------------------------------------------------------------

ApiResult<engine::WebhookEndpoint> DecodeEndpointCreateBody(std::string_view body) {
  ApiResult<bj::value> value = ParseJsonBody(body);
  if (!value.ok()) return Err{value.error()};
  ApiResult<const bj::object*> o = ObjectBody(value.value(), R"({"url": "http://127.0.0.1:8000/hooks", "enabled_events": ["*"]})");
  if (!o.ok()) return Err{o.error()};
  if (auto error = UnknownKey(*o.value(), {"url", "enabled_events", "description", "enabled"})) return Err{*error};
  if (!o.value()->contains("url")) return Err{InvalidBody("\"url\" is required, e.g. \"http://127.0.0.1:8000/hooks\"", "url")};
  engine::WebhookEndpoint e;
  e.filter = {"*"};
  uint8_t fields = 0;
  for (const auto& [key, v] : *o.value()) {
    if (auto error = SetEndpointField(key, v, e, fields)) return Err{*error};
  }
  return e;
}

ApiResult<EndpointUpdate> DecodeEndpointUpdateBody(std::string_view body) {
  ApiResult<bj::value> value = ParseJsonBody(body);
  if (!value.ok()) return Err{value.error()};
  ApiResult<const bj::object*> o = ObjectBody(value.value(), R"({"enabled": false})");
  if (!o.ok()) return Err{o.error()};
  if (auto error = UnknownKey(*o.value(), {"url", "enabled_events", "description", "enabled"})) return Err{*error};
  EndpointUpdate out;
  for (const auto& [key, v] : *o.value()) {
    if (auto error = SetEndpointField(key, v, out.values, out.fields)) return Err{*error};
  }
  if (out.fields == 0) {
    return Err{InvalidBody("nothing to update: send url, enabled_events, description or enabled")};
  }
  return out;
}

ApiResult<uint64_t> DecodeResendBody(std::string_view body) {
  ApiResult<bj::value> value = ParseJsonBody(body);
  if (!value.ok()) return Err{value.error()};
  const bj::object* o = value.value().if_object();
  const bj::value* id = o != nullptr ? o->if_contains("event_id") : nullptr;
  if (id == nullptr || o->size() != 1 || !id->is_string()) {
    return Err{InvalidBody("the body is {\"event_id\": \"evt_42\"}", "event_id")};
  }
  const std::optional<uint64_t> event = ParseEventId(id->get_string());
  if (!event) return Err{InvalidBody("\"event_id\" is an event id such as \"evt_42\"", "event_id")};
  return *event;
}

ApiResult<uint64_t> DecodeRollSecretBody(std::string_view body) {
  constexpr uint64_t kSecondsMax = engine::kWebhookSecretOverlapMsMax / 1000;
  if (body.empty()) return kPreviousSecretSecondsDefault * 1000;
  ApiResult<bj::value> value = ParseJsonBody(body);
  if (!value.ok()) return Err{value.error()};
  ApiResult<const bj::object*> o = ObjectBody(value.value(), R"({"previous_secret_expires_in": 3600})");
  if (!o.ok()) return Err{o.error()};
  if (auto error = UnknownKey(*o.value(), {"previous_secret_expires_in"})) return Err{*error};
  const bj::value* seconds = o.value()->if_contains("previous_secret_expires_in");
  if (seconds == nullptr) return kPreviousSecretSecondsDefault * 1000;
  const bool in_range =
      (seconds->is_int64() && seconds->get_int64() >= 0 &&
       static_cast<uint64_t>(seconds->get_int64()) <= kSecondsMax) ||
      (seconds->is_uint64() && seconds->get_uint64() <= kSecondsMax);
  if (!in_range) {
    return Err{InvalidBody("\"previous_secret_expires_in\" is whole seconds from 0 (stop the old "
                           "secret now) to " + std::to_string(kSecondsMax) + " (7 days)",
                           "previous_secret_expires_in")};
  }
  return (seconds->is_int64() ? static_cast<uint64_t>(seconds->get_int64()) : seconds->get_uint64()) *
         1000;
}

std::string EndpointSignatureHeader(std::string_view secret_text,
                                    std::string_view previous_secret_text,
                                    uint64_t previous_secret_expires_ms, uint64_t now_ms,
                                    std::string_view body) {
  std::string header = SignatureHeader(secret_text, now_ms / 1000, body);
  if (now_ms >= previous_secret_expires_ms) return header;
  const std::string previous = SignatureHeader(previous_secret_text, now_ms / 1000, body);
  return header.append(previous, previous.find(",v1="));
}

ApiResult<TestEvents> DecodeTestEventsBody(std::string_view body) {
  TestEvents out;
  if (body.empty()) return out;
  ApiResult<bj::value> value = ParseJsonBody(body);
  if (!value.ok()) return Err{value.error()};
  ApiResult<const bj::object*> o = ObjectBody(value.value(), R"({"count": 10, "data": {"order": "42"}})");
  if (!o.ok()) return Err{o.error()};
  if (auto error = UnknownKey(*o.value(), {"count", "type", "data"})) return Err{*error};
  if (const bj::value* count = o.value()->if_contains("count")) {
    const bool in_range = (count->is_int64() && count->get_int64() >= 1 &&
                           count->get_int64() <= engine::kTestEventsPerRequestMax) ||
                          (count->is_uint64() && count->get_uint64() >= 1 &&
                           count->get_uint64() <= engine::kTestEventsPerRequestMax);
    if (!in_range) {
      return Err{InvalidBody("\"count\" is an integer 1.." + std::to_string(engine::kTestEventsPerRequestMax), "count")};
    }
    out.count = static_cast<uint32_t>(count->is_int64() ? count->get_int64() : static_cast<int64_t>(count->get_uint64()));
  }
  if (const bj::value* type = o.value()->if_contains("type")) {
    if (!type->is_string() || !engine::ValidTestEventType(type->get_string())) {
      return Err{InvalidBody("\"type\" is \"test.\" and lower-case dot-separated words, e.g. \"test.order_paid\"", "type")};
    }
    out.type = std::string(type->get_string());
  }
  if (const bj::value* data = o.value()->if_contains("data")) {
    if (!data->is_object()) return Err{InvalidBody("\"data\" must be a JSON object", "data")};
    out.data = bj::serialize(*data);
    if (out.data.size() > engine::kTestEventBodyBytesMax) {
      return Err{InvalidBody("\"data\" is at most " + std::to_string(engine::kTestEventBodyBytesMax) + " bytes as JSON", "data")};
    }
  }
  return out;
}

ApiResult<EventsQuery> DecodeEventsQuery(std::string_view query) {
  static constexpr std::array<std::string_view, 3> kKnown = {"after", "limit", "type"};
  ApiResult<std::vector<std::pair<std::string, std::string>>> params = ParseQueryParams(query, kKnown);
  if (!params.ok()) return Err{params.error()};
  EventsQuery out;
  for (const auto& [key, value] : params.value()) {
    if (key == "after") {
      const std::optional<uint64_t> id = ParseEventCursor(value);
      if (!id) return Err{InvalidParameter("after is an event id such as evt_42 (or evt_0)", key)};
      out.after = *id;
    } else if (key == "limit") {
      ApiResult<uint32_t> limit = LimitParam(value);
      if (!limit.ok()) return Err{limit.error()};
      out.limit = limit.value();
    } else {
      std::string_view rest = value;
      while (true) {
        const size_t comma = rest.find(',');
        const std::string_view entry = rest.substr(0, comma);
        if (!engine::ValidEventFilterEntry(entry) || out.types.size() == engine::kWebhookFilterEntriesMax) {
          return Err{InvalidParameter("type is a comma-separated list of event types, \"*\" or "
                                      "\"prefix.*\", e.g. payment.*,test.event",
                                      key)};
        }
        out.types.emplace_back(entry);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
      }
    }
  }
  return out;
}

ApiResult<DeliveriesQuery> DecodeDeliveriesQuery(std::string_view query) {
  static constexpr std::array<std::string_view, 3> kKnown = {"after", "limit", "event_id"};
  ApiResult<std::vector<std::pair<std::string, std::string>>> params = ParseQueryParams(query, kKnown);
  if (!params.ok()) return Err{params.error()};
  DeliveriesQuery out;
  for (const auto& [key, value] : params.value()) {
    if (key == "limit") {
      ApiResult<uint32_t> limit = LimitParam(value);
      if (!limit.ok()) return Err{limit.error()};
      out.limit = limit.value();
    } else {
      const std::optional<uint64_t> id = key == "after" ? ParsePrefixedId(value, "") : ParseEventId(value);
      if (!id) {
        return Err{InvalidParameter(key == "after" ? "after is the next_cursor of the previous page"
                                                   : "event_id is an event id such as evt_42",
                                    key)};
      }
      (key == "after" ? out.before_seq : out.event_id) = *id;
    }
  }
  return out;
}

ApiResult<uint64_t> DecodeEndpointPathId(std::string_view text) {
  const std::optional<uint64_t> id = ParseEndpointId(text);
  if (!id) return Err{InvalidParameter("a webhook endpoint id looks like we_3", "id")};
  return *id;
}

ApiResult<uint64_t> DecodeEventPathId(std::string_view text) {
  const std::optional<uint64_t> id = ParseEventId(text);
  if (!id) return Err{InvalidParameter("an event id looks like evt_42", "id")};
  return *id;
}

}  // namespace tpw::api
