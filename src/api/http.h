// The HTTP message types of the API and the one error format every response uses.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace tpw::api {

namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// The `type` of an error (docs/api.md, "Errors"): which layer refused.
namespace error_type {
inline constexpr std::string_view kInvalidRequest = "invalid_request_error";  // 4xx: fix it
inline constexpr std::string_view kLedger = "ledger_error";    // the ledger refused the event
inline constexpr std::string_view kEngine = "engine_error";    // 503: retry with the same ids
inline constexpr std::string_view kInternal = "api_error";     // 500: a bug
inline constexpr std::string_view kAuthentication = "authentication_error";  // 401: which key
inline constexpr std::string_view kPermission = "permission_error";  // 403: the key's scope
inline constexpr std::string_view kRateLimit = "rate_limit_error";   // 429: slow down
inline constexpr std::string_view kIdempotency = "idempotency_error";  // 409 / 422: the key
inline constexpr std::string_view kOffline = "offline_error";  // the offline protocol refused
inline constexpr std::string_view kPayment = "payment_error";  // 402: the payment was refused
}  // namespace error_type

// {"error": {"type", "code", "message", "param"}}. `code` is a stable name: an API code
// (malformed_json, body_too_large, ...) or a ledger result code passed through by its name.
struct ApiError {
  http::status status = http::status::bad_request;
  std::string_view type = error_type::kInvalidRequest;
  std::string code;
  std::string message;
  std::string param;  // the field, parameter or header at fault; "" = none
};

// A JSON response with the body already serialized. Content-Length is set; keep-alive is
// decided by the connection.
HttpResponse JsonResponse(http::status status, std::string body);
HttpResponse ErrorResponse(const ApiError& error);
// Whether `text` starts with `lower_prefix` (given in lower case), ignoring ASCII case: HTTP's
// case-insensitive tokens (media types, auth schemes) without a locale call per character.
bool StartsWithNoCase(std::string_view text, std::string_view lower_prefix);
// Content-Type checks: the media type, in any case, with parameters (charset) or without.
bool IsJsonContentType(std::string_view value);
bool IsOctetStream(std::string_view value);

// A JSON response of `value`, serialized.
HttpResponse JsonBody(http::status status, const boost::json::value& value);

}  // namespace tpw::api
