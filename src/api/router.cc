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
    {Route::offline_issuer_keys, "/v1/offline/issuer-keys", http::verb::get},
    {Route::offline_devices_enroll, "/v1/offline/devices", http::verb::post},
    {Route::offline_device_get, "/v1/offline/devices/{id}", http::verb::get},
    {Route::offline_device_sync, "/v1/offline/devices/{id}/sync", http::verb::post},
    {Route::offline_device_revoke, "/v1/offline/devices/{id}/revoke", http::verb::post},
    {Route::offline_terminals_register, "/v1/offline/terminals", http::verb::post},
    {Route::offline_terminal_deactivate, "/v1/offline/terminals/{id}/deactivate", http::verb::post},
    {Route::offline_deny_list, "/v1/offline/deny-list", http::verb::get},
    {Route::offline_batches_upload, "/v1/offline/batches", http::verb::post},
    {Route::offline_exceptions, "/v1/offline/exceptions", http::verb::get},
    {Route::offline_exception_resolve, "/v1/offline/exceptions/{id}/resolve", http::verb::post},
    {Route::api_keys_create, "/v1/api-keys", http::verb::post},
    {Route::api_keys_list, "/v1/api-keys", http::verb::get},
    {Route::api_key_revoke, "/v1/api-keys/{id}/revoke", http::verb::post},
    {Route::risk_evaluate, "/v1/risk/evaluate", http::verb::post},
    {Route::risk_rules_get, "/v1/risk/rules", http::verb::get},
    {Route::risk_rules_put, "/v1/risk/rules", http::verb::put},
    {Route::risk_status, "/v1/risk/status", http::verb::get},
    {Route::risk_lists, "/v1/risk/lists", http::verb::get},
    {Route::risk_list_get, "/v1/risk/lists/{name}", http::verb::get},
    {Route::risk_list_add, "/v1/risk/lists/{name}", http::verb::post},
    {Route::risk_list_remove, "/v1/risk/lists/{name}/{value}", http::verb::delete_},
    {Route::payments_create, "/v1/payments", http::verb::post},
    {Route::payments_list, "/v1/payments", http::verb::get},
    {Route::payment_get, "/v1/payments/{id}", http::verb::get},
    {Route::payment_confirm, "/v1/payments/{id}/confirm", http::verb::post},
    {Route::payment_capture, "/v1/payments/{id}/capture", http::verb::post},
    {Route::payment_cancel, "/v1/payments/{id}/cancel", http::verb::post},
    {Route::payment_refund, "/v1/payments/{id}/refunds", http::verb::post},
    {Route::payment_refunds, "/v1/payments/{id}/refunds", http::verb::get},
    {Route::customer_put, "/v1/customers/{id}", http::verb::put},
    {Route::customer_get, "/v1/customers/{id}", http::verb::get},
    {Route::coupons_create, "/v1/coupons", http::verb::post},
    {Route::coupon_get, "/v1/coupons/{code}", http::verb::get},
    {Route::points_program_put, "/v1/points/program", http::verb::put},
    {Route::points_program_get, "/v1/points/program", http::verb::get},
    {Route::fx_rates_put, "/v1/fx/rates", http::verb::put},
    {Route::fx_rates_get, "/v1/fx/rates", http::verb::get},
    {Route::fx_quotes_create, "/v1/fx/quotes", http::verb::post},
    {Route::fx_quote_get, "/v1/fx/quotes/{id}", http::verb::get},
    {Route::fx_account_put, "/v1/fx/accounts/{asset}", http::verb::put},
    {Route::webhook_endpoints_create, "/v1/webhook_endpoints", http::verb::post},
    {Route::webhook_endpoints_list, "/v1/webhook_endpoints", http::verb::get},
    {Route::webhook_endpoint_get, "/v1/webhook_endpoints/{id}", http::verb::get},
    {Route::webhook_endpoint_update, "/v1/webhook_endpoints/{id}", http::verb::post},
    {Route::webhook_endpoint_delete, "/v1/webhook_endpoints/{id}", http::verb::delete_},
    {Route::webhook_endpoint_deliveries, "/v1/webhook_endpoints/{id}/deliveries", http::verb::get},
    {Route::webhook_endpoint_resend, "/v1/webhook_endpoints/{id}/resend", http::verb::post},
    {Route::webhook_endpoint_roll_secret, "/v1/webhook_endpoints/{id}/roll_secret", http::verb::post},
    {Route::events_list, "/v1/events", http::verb::get},
    {Route::event_get, "/v1/events/{id}", http::verb::get},
    {Route::events_test, "/v1/events/test", http::verb::post},
    {Route::accounts_lookup, "/v1/accounts", http::verb::get},
    {Route::transfers_lookup, "/v1/transfers", http::verb::get},
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

// Segments the longest path has (/v1/offline/devices/{id}/sync).
constexpr size_t kSegmentsMax = 5;

// /v1/offline/<collection>[/{id}[/<action>]]: `s` holds n segments, s[0..1] = v1, offline.
Route OfflineRoute(const std::string_view* s, size_t n, std::string_view& id) {
  if (n == 3) {
    if (s[2] == "issuer-keys") return Route::offline_issuer_keys;
    if (s[2] == "devices") return Route::offline_devices_enroll;
    if (s[2] == "terminals") return Route::offline_terminals_register;
    if (s[2] == "deny-list") return Route::offline_deny_list;
    if (s[2] == "batches") return Route::offline_batches_upload;
    if (s[2] == "exceptions") return Route::offline_exceptions;
    return Route::unmatched;
  }
  if (n < 4) return Route::unmatched;
  id = s[3];
  const std::string_view action = n == 5 ? s[4] : std::string_view{};
  if (s[2] == "devices") {
    if (n == 4) return Route::offline_device_get;
    if (action == "sync") return Route::offline_device_sync;
    if (action == "revoke") return Route::offline_device_revoke;
  }
  if (s[2] == "terminals" && action == "deactivate") return Route::offline_terminal_deactivate;
  if (s[2] == "exceptions" && action == "resolve") return Route::offline_exception_resolve;
  return Route::unmatched;
}

// /v1/api-keys (GET lists, POST creates) and /v1/api-keys/{id}/revoke.
Route ApiKeyRoute(http::verb method, const std::string_view* s, size_t n, std::string_view& id) {
  if (n == 2) return method == http::verb::get ? Route::api_keys_list : Route::api_keys_create;
  if (n == 4 && s[3] == "revoke") {
    id = s[2];
    return Route::api_key_revoke;
  }
  return Route::unmatched;
}

// /v1/risk/...: evaluate, rules (GET shows, PUT replaces), status, lists, lists/{name} (GET
// shows, POST adds an item) and lists/{name}/{value} (DELETE removes it; the id spans both).
Route RiskRoute(http::verb method, const std::string_view* s, size_t n, std::string_view& id) {
  if (n == 3) {
    if (s[2] == "evaluate") return Route::risk_evaluate;
    if (s[2] == "rules") return method == http::verb::put ? Route::risk_rules_put : Route::risk_rules_get;
    if (s[2] == "status") return Route::risk_status;
    if (s[2] == "lists") return Route::risk_lists;
    return Route::unmatched;
  }
  if (s[2] != "lists") return Route::unmatched;
  if (n == 4) {
    id = s[3];
    return method == http::verb::post ? Route::risk_list_add : Route::risk_list_get;
  }
  id = std::string_view(s[3].data(), static_cast<size_t>(s[4].data() + s[4].size() - s[3].data()));
  return Route::risk_list_remove;
}

// The one of two routes that answers `method` on a path that has both (the other one otherwise,
// so that a third method is told which it may use).
Route ByMethod(http::verb method, Route on_get, http::verb other, Route on_other) {
  return method == other ? on_other : on_get;
}

// /v1/payments[/{id}[/confirm|capture|cancel|refunds]].
Route PaymentRoute(http::verb method, const std::string_view* s, size_t n, std::string_view& id) {
  if (n == 2) return ByMethod(method, Route::payments_list, http::verb::post, Route::payments_create);
  id = s[2];
  if (n == 3) return Route::payment_get;
  if (s[3] == "confirm") return Route::payment_confirm;
  if (s[3] == "capture") return Route::payment_capture;
  if (s[3] == "cancel") return Route::payment_cancel;
  if (s[3] == "refunds") {
    return ByMethod(method, Route::payment_refunds, http::verb::post, Route::payment_refund);
  }
  return Route::unmatched;
}

// /v1/customers/{id}, /v1/coupons[/{code}], /v1/points/program: payments configuration.
Route PaymentsSetupRoute(http::verb method, const std::string_view* s, size_t n,
                         std::string_view& id) {
  if (s[1] == "customers" && n == 3) {
    id = s[2];
    return ByMethod(method, Route::customer_get, http::verb::put, Route::customer_put);
  }
  if (s[1] == "coupons" && n == 2) return Route::coupons_create;
  if (s[1] == "coupons" && n == 3) {
    id = s[2];
    return Route::coupon_get;
  }
  if (s[1] == "points" && n == 3 && s[2] == "program") {
    return ByMethod(method, Route::points_program_get, http::verb::put, Route::points_program_put);
  }
  return Route::unmatched;
}

// /v1/fx/rates, /v1/fx/quotes[/{id}], /v1/fx/accounts/{asset}.
Route FxRoute(http::verb method, const std::string_view* s, size_t n, std::string_view& id) {
  if (n == 3 && s[2] == "rates") {
    return ByMethod(method, Route::fx_rates_get, http::verb::put, Route::fx_rates_put);
  }
  if (n == 3 && s[2] == "quotes") return Route::fx_quotes_create;
  if (n != 4) return Route::unmatched;
  id = s[3];
  if (s[2] == "quotes") return Route::fx_quote_get;
  if (s[2] == "accounts") return Route::fx_account_put;
  return Route::unmatched;
}

// /v1/webhook_endpoints (GET lists, POST creates), /{id} (GET shows, POST updates, DELETE
// deletes), /{id}/deliveries, /{id}/resend and /{id}/roll_secret.
Route WebhookRoute(http::verb method, const std::string_view* s, size_t n, std::string_view& id) {
  if (n == 2) {
    return method == http::verb::post ? Route::webhook_endpoints_create : Route::webhook_endpoints_list;
  }
  id = s[2];
  if (n == 3) {
    if (method == http::verb::post) return Route::webhook_endpoint_update;
    if (method == http::verb::delete_) return Route::webhook_endpoint_delete;
    return Route::webhook_endpoint_get;
  }
  if (n == 4 && s[3] == "deliveries") return Route::webhook_endpoint_deliveries;
  if (n == 4 && s[3] == "resend") return Route::webhook_endpoint_resend;
  if (n == 4 && s[3] == "roll_secret") return Route::webhook_endpoint_roll_secret;
  return Route::unmatched;
}

// /v1/events (GET), /v1/events/test (POST) and /v1/events/{id} (GET).
Route EventRoute(http::verb method, const std::string_view* s, size_t n, std::string_view& id) {
  if (n == 2) return Route::events_list;
  if (n != 3) return Route::unmatched;
  if (s[2] == "test" && method == http::verb::post) return Route::events_test;
  id = s[2];
  return Route::event_get;
}

// The route of a path (the method only tells apart the routes of one path); unmatched if none.
Route RouteOfPath(http::verb method, std::string_view path, std::string_view& id) {
  std::string_view s[kSegmentsMax];
  size_t n = 0;
  while (n < kSegmentsMax && NextSegment(path, s[n])) ++n;
  if (!path.empty() || n == 0) return Route::unmatched;  // more than kSegmentsMax segments
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
  if (s[1] == "offline") return OfflineRoute(s, n, id);
  if (s[1] == "api-keys") return ApiKeyRoute(method, s, n, id);
  if (s[1] == "risk" && n >= 3) return RiskRoute(method, s, n, id);
  if (s[1] == "webhook_endpoints") return WebhookRoute(method, s, n, id);
  if (s[1] == "events") return EventRoute(method, s, n, id);
  if (n > 4) return Route::unmatched;
  if (s[1] == "payments") return PaymentRoute(method, s, n, id);
  if (s[1] == "customers" || s[1] == "coupons" || s[1] == "points") {
    return PaymentsSetupRoute(method, s, n, id);
  }
  if (s[1] == "fx" && n >= 3) return FxRoute(method, s, n, id);
  if (s[1] == "journal") return n == 3 && s[2] == "head" ? Route::journal_head : Route::unmatched;
  if (s[1] == "accounts") {
    if (n == 2) return ByMethod(method, Route::accounts_lookup, http::verb::post, Route::accounts_create);
    id = s[2];
    if (n == 3) return Route::account_get;
    if (s[3] == "transfers") return Route::account_transfers;
    if (s[3] == "balances") return Route::account_balances;
    return Route::unmatched;
  }
  if (s[1] == "transfers" && n <= 3) {
    if (n == 2) return ByMethod(method, Route::transfers_lookup, http::verb::post, Route::transfers_create);
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
  const Route route = RouteOfPath(method, path, match.id);
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
