#include "api/router.h"

#include "common/assert.h"

namespace tpw::api {
namespace {

struct RouteInfo {
  Route route;
  std::string_view label;
  http::verb method;
};

constexpr std::array<RouteInfo, kRouteCount> kRoutes = {{
    {Route::unmatched, "unmatched", http::verb::unknown},
    {Route::accounts_create, "/v1/accounts", http::verb::post},
    {Route::account_get, "/v1/accounts/{id}", http::verb::get},
    {Route::account_transfers, "/v1/accounts/{id}/transfers", http::verb::get},
    {Route::account_balances, "/v1/accounts/{id}/balances", http::verb::get},
    {Route::transfers_create, "/v1/transfers", http::verb::post},
    {Route::transfers_batch, "/v1/transfers/batch", http::verb::post},
    {Route::transfer_get, "/v1/transfers/{id}", http::verb::get},
    {Route::journal_head, "/v1/journal/head", http::verb::get},
    {Route::healthz, "/healthz", http::verb::get},
    {Route::readyz, "/readyz", http::verb::get},
    {Route::metrics, "/metrics", http::verb::get},
}};

// Removes the first path segment of `path` ("/a/b" → "a", leaving "/b"); false at the end.
bool NextSegment(std::string_view& path, std::string_view& segment) {
  if (path.empty() || path[0] != '/') return false;
  path.remove_prefix(1);
  const size_t slash = path.find('/');
  segment = path.substr(0, slash);
  path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  return true;
}

// The route of a path, ignoring the method; unmatched if none.
Route RouteOfPath(std::string_view path, std::string_view& id) {
  std::string_view s[4];
  size_t n = 0;
  while (n < 4 && NextSegment(path, s[n])) ++n;
  if (!path.empty() || n == 0) return Route::unmatched;  // more than 4 segments
  for (size_t i = 0; i < n; ++i) {
    if (s[i].empty()) return Route::unmatched;  // "//" or a trailing slash
  }
  if (n == 1) {
    if (s[0] == "healthz") return Route::healthz;
    if (s[0] == "readyz") return Route::readyz;
    if (s[0] == "metrics") return Route::metrics;
    return Route::unmatched;
  }
  if (s[0] != "v1") return Route::unmatched;
  if (s[1] == "journal") return n == 3 && s[2] == "head" ? Route::journal_head : Route::unmatched;
  if (s[1] == "accounts") {
    if (n == 2) return Route::accounts_create;
    id = s[2];
    if (n == 3) return Route::account_get;
    if (s[3] == "transfers") return Route::account_transfers;
    if (s[3] == "balances") return Route::account_balances;
    return Route::unmatched;
  }
  if (s[1] == "transfers" && n <= 3) {
    if (n == 2) return Route::transfers_create;
    if (s[2] == "batch") return Route::transfers_batch;
    id = s[2];
    return Route::transfer_get;
  }
  return Route::unmatched;
}

}  // namespace

std::string_view RouteLabel(Route route) {
  const auto index = static_cast<size_t>(route);
  TPW_ASSERT(index < kRoutes.size() && kRoutes[index].route == route);
  return kRoutes[index].label;
}

http::verb RouteMethod(Route route) { return kRoutes[static_cast<size_t>(route)].method; }

RouteMatch MatchRoute(http::verb method, std::string_view target) {
  RouteMatch match;
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  if (question != std::string_view::npos) match.query = target.substr(question + 1);
  const Route route = RouteOfPath(path, match.id);
  if (route == Route::unmatched) return match;
  if (RouteMethod(route) != method) {
    match.method_not_allowed = true;
    match.allow = RouteMethod(route);
    match.id = {};
    return match;
  }
  match.route = route;
  return match;
}

}  // namespace tpw::api
