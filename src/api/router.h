// Which endpoint a request is for: method + path → Route, with the {id} path segment.
// No allocation: the path is matched as string_views of the request target.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "api/http.h"

namespace tpw::api {

// Every endpoint (docs/api.md, docs/openapi.yaml). Values index metrics; append only.
enum class Route : uint8_t {
  unmatched = 0,  // 404 (no such path) or 405 (path exists, other method)
  accounts_create,
  account_get,
  account_transfers,
  account_balances,
  transfers_create,
  transfers_batch,
  transfer_get,
  journal_head,
  healthz,
  readyz,
  metrics,
};
inline constexpr size_t kRouteCount = 12;

// The route's path template, as metrics and the access log label it ("/v1/accounts/{id}").
std::string_view RouteLabel(Route route);
// The one method a route answers.
http::verb RouteMethod(Route route);

struct RouteMatch {
  Route route = Route::unmatched;
  bool method_not_allowed = false;  // the path exists, for `allow` only
  http::verb allow = http::verb::unknown;
  std::string_view id;     // the {id} segment, as sent (not yet parsed)
  std::string_view query;  // after '?', without it; "" if none
};

RouteMatch MatchRoute(http::verb method, std::string_view target);

}  // namespace tpw::api
