#include "api/http.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace tpw::api {

HttpResponse JsonResponse(http::status status, std::string body) {
  HttpResponse response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
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
  return JsonResponse(error.status, boost::json::serialize(out));
}

}  // namespace tpw::api
