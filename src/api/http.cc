#include "api/http.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace tpw::api {
namespace {

bool IsMediaType(std::string_view value, std::string_view type) {
  if (!StartsWithNoCase(value, type)) return false;
  const std::string_view rest = value.substr(type.size());
  return rest.empty() || rest[0] == ';' || rest[0] == ' ';
}

}  // namespace

bool StartsWithNoCase(std::string_view text, std::string_view lower_prefix) {
  if (text.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    const char c = text[i];
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != lower_prefix[i]) return false;
  }
  return true;
}

bool IsJsonContentType(std::string_view value) { return IsMediaType(value, "application/json"); }
bool IsOctetStream(std::string_view value) {
  return IsMediaType(value, "application/octet-stream");
}

HttpResponse JsonResponse(http::status status, std::string body) {
  HttpResponse response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

HttpResponse JsonBody(http::status status, const boost::json::value& value) {
  return JsonResponse(status, boost::json::serialize(value));
}

HttpResponse ErrorResponse(const ApiError& error) {
  boost::json::object detail;
  detail["type"] = error.type;
  detail["code"] = error.code;
  detail["message"] = error.message;
  if (error.param.empty()) {
    detail["param"] = nullptr;
  } else {
    detail["param"] = error.param;
  }
  boost::json::object out;
  out["error"] = std::move(detail);
  return JsonBody(error.status, out);
}

}  // namespace tpw::api
