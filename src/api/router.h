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
  // Offline payments (docs/api.md, "Offline payments")
  offline_issuer_keys,          // GET  /v1/offline/issuer-keys
  offline_devices_enroll,       // POST /v1/offline/devices
  offline_device_get,           // GET  /v1/offline/devices/{id}
  offline_device_sync,          // POST /v1/offline/devices/{id}/sync
  offline_device_revoke,        // POST /v1/offline/devices/{id}/revoke
  offline_terminals_register,   // POST /v1/offline/terminals
  offline_terminal_deactivate,  // POST /v1/offline/terminals/{id}/deactivate
  offline_deny_list,            // GET  /v1/offline/deny-list
  offline_batches_upload,       // POST /v1/offline/batches
  offline_exceptions,           // GET  /v1/offline/exceptions
  offline_exception_resolve,    // POST /v1/offline/exceptions/{id}/resolve
  // API keys (docs/api.md, "API keys")
  api_keys_create,  // POST /v1/api-keys
  api_keys_list,    // GET  /v1/api-keys
  api_key_revoke,   // POST /v1/api-keys/{id}/revoke
  // Risk rules (docs/api.md, "Risk")
  risk_evaluate,     // POST   /v1/risk/evaluate
  risk_rules_get,    // GET    /v1/risk/rules
  risk_rules_put,    // PUT    /v1/risk/rules
  risk_status,       // GET    /v1/risk/status
  risk_lists,        // GET    /v1/risk/lists
  risk_list_get,     // GET    /v1/risk/lists/{name}
  risk_list_add,     // POST   /v1/risk/lists/{name}
  risk_list_remove,  // DELETE /v1/risk/lists/{name}/{value} (id = "name/value")
  // Online payments (docs/api.md, "Payments")
  payments_create,     // POST /v1/payments
  payments_list,       // GET  /v1/payments
  payment_get,         // GET  /v1/payments/{id}
  payment_confirm,     // POST /v1/payments/{id}/confirm
  payment_capture,     // POST /v1/payments/{id}/capture
  payment_cancel,      // POST /v1/payments/{id}/cancel
  payment_refund,      // POST /v1/payments/{id}/refunds
  payment_refunds,     // GET  /v1/payments/{id}/refunds
  customer_put,        // PUT  /v1/customers/{id}
  customer_get,        // GET  /v1/customers/{id}
  coupons_create,      // POST /v1/coupons
  coupon_get,          // GET  /v1/coupons/{code}
  points_program_put,  // PUT  /v1/points/program
  points_program_get,  // GET  /v1/points/program
  fx_rates_put,        // PUT  /v1/fx/rates
  fx_rates_get,        // GET  /v1/fx/rates
  fx_quotes_create,    // POST /v1/fx/quotes
  fx_quote_get,        // GET  /v1/fx/quotes/{id}
  fx_account_put,      // PUT  /v1/fx/accounts/{asset}
  // Webhooks and events (docs/api.md, "Webhooks", "Events")
  webhook_endpoints_create,     // POST   /v1/webhook_endpoints
  webhook_endpoints_list,       // GET    /v1/webhook_endpoints
  webhook_endpoint_get,         // GET    /v1/webhook_endpoints/{id}
  webhook_endpoint_update,      // POST   /v1/webhook_endpoints/{id}
  webhook_endpoint_delete,      // DELETE /v1/webhook_endpoints/{id}
  webhook_endpoint_deliveries,  // GET    /v1/webhook_endpoints/{id}/deliveries
  webhook_endpoint_resend,      // POST   /v1/webhook_endpoints/{id}/resend
  webhook_endpoint_roll_secret, // POST   /v1/webhook_endpoints/{id}/roll_secret
  events_list,                  // GET    /v1/events (JSON, or Server-Sent Events)
  event_get,                    // GET    /v1/events/{id}
  events_test,                  // POST   /v1/events/test
  // Lookups of several ledger records by id (docs/api.md, "Lookups")
  accounts_lookup,   // GET /v1/accounts?ids=1,2,3
  transfers_lookup,  // GET /v1/transfers?ids=1,2,3
};
inline constexpr size_t kRouteCount = 66;

// The route's path template, as metrics and the access log label it ("/v1/accounts/{id}").
std::string_view RouteLabel(Route route);
// The one method a route answers (a path with two methods, /v1/api-keys, has a route for each).
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
