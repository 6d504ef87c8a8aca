#include "api/access_control.h"

#include <algorithm>
#include <span>
#include <optional>
#include <memory>
#include <array>
#include <chrono>
#include <cmath>

#include "crypto/hash.h"

namespace tpw::api {

namespace {

// The API keys this I/O thread verified lately, with the key table they were verified against.
// A keep-alive client sends the same key with every request, and checking its secret again
// (base64url decode, BLAKE2b) costs more than the rest of the request's authentication. An
// entry only says "this exact key text matched a secret hash of this table", so it is used only
// while the engine publishes that same table (any key created, changed or revoked publishes a
// new one, which empties the cache), and it is compared in constant time like the secret.
struct VerifiedKeys {
  static constexpr size_t kEntries = 8;
  std::shared_ptr<const access::ApiKeyTable> table;
  std::array<std::array<uint8_t, access::kKeyTextBytes>, kEntries> texts{};
  std::array<uint64_t, kEntries> ids{};  // 0: empty
  size_t next = 0;                        // the entry replaced next

  void Use(const std::shared_ptr<const access::ApiKeyTable>& current) {
    if (table == current) return;
    table = current;
    ids.fill(0);
  }
  std::optional<uint64_t> Find(std::string_view text) const {
    if (text.size() != access::kKeyTextBytes) return std::nullopt;
    const auto bytes = std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    for (size_t i = 0; i < kEntries; ++i) {
      if (ids[i] != 0 && crypto::ConstantTimeEqual(texts[i], bytes)) return ids[i];
    }
    return std::nullopt;
  }
  void Remember(std::string_view text, uint64_t id) {
    if (text.size() != access::kKeyTextBytes) return;
    std::copy(text.begin(), text.end(), texts[next].begin());
    ids[next] = id;
    next = (next + 1) % kEntries;
  }
};
thread_local VerifiedKeys verified_keys;


using access::Scope;

uint64_t MonotonicNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

HttpResponse Unauthenticated(std::string code, std::string message) {
  HttpResponse response = ErrorResponse({http::status::unauthorized, error_type::kAuthentication,
                                         std::move(code), std::move(message), "Authorization"});
  response.set(http::field::www_authenticate, "Bearer realm=\"tpwallet\"");
  return response;
}

// "Bearer <token>", the scheme in any case (RFC 7235); the token as sent.
std::optional<std::string_view> BearerToken(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size() || !StartsWithNoCase(header, kScheme)) return std::nullopt;
  return header.substr(kScheme.size());
}

// Printable ASCII, 1..255 bytes (Stripe's rule; keeps keys safe in logs and headers).
bool ValidIdempotencyKey(std::string_view key) {
  return !key.empty() && key.size() <= access::kIdempotencyKeyBytesMax &&
         std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

// The same request: method, target (path and query) and body, byte for byte.
crypto::Hash256 Fingerprint(const HttpRequest& request) {
  std::string text(request.method_string());
  text.push_back('\0');
  text.append(request.target());
  text.push_back('\0');
  text.append(request.body());
  return crypto::Blake2b256(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// Responses of requests that executed: kept and replayed (402: a payment declined or refused
// for funds was attempted, and the attempt is recorded on the payment). Others (malformed
// input, 5xx) are not, so a corrected or later retry under the same key runs (Stripe does the
// same).
bool Storable(unsigned status) {
  return (status >= 200 && status < 300) || status == 402 || status == 409 || status == 422;
}

std::string InFlightKey(uint64_t scope, std::string_view key) {
  return std::to_string(scope) + ":" + std::string(key);
}

}  // namespace

bool IsPublic(Route route) { return route == Route::healthz || route == Route::readyz; }

bool ScopeAllows(Scope scope, Route route) {
  if (route == Route::unmatched) return false;
  if (IsPublic(route) || scope == Scope::admin) return true;
  switch (route) {
    case Route::accounts_create:
    case Route::transfers_create:
    case Route::transfers_batch:
      return scope == Scope::merchant;
    case Route::accounts_lookup:
    case Route::transfers_lookup:
    case Route::account_get:
    case Route::account_transfers:
    case Route::account_balances:
    case Route::transfer_get:
      return scope == Scope::merchant || scope == Scope::auditor;
    // A merchant dry-runs its payments; an auditor reads what decides them.
    case Route::risk_evaluate:
    case Route::risk_rules_get:
    case Route::risk_status:
    case Route::risk_lists:
    case Route::risk_list_get:
      return scope == Scope::merchant || scope == Scope::auditor;
    // Payments: a merchant runs its payments (create, confirm, capture, cancel, refund), makes
    // its coupons and FX quotes, and reads what they depend on; an auditor reads everything.
    case Route::payments_create:
    case Route::payment_confirm:
    case Route::payment_capture:
    case Route::payment_cancel:
    case Route::payment_refund:
    case Route::coupons_create:
    case Route::fx_quotes_create:
      return scope == Scope::merchant;
    case Route::payments_list:
    case Route::payment_get:
    case Route::payment_refunds:
    case Route::customer_get:
    case Route::coupon_get:
    case Route::points_program_get:
    case Route::fx_rates_get:
    case Route::fx_quote_get:
      return scope == Scope::merchant || scope == Scope::auditor;
    case Route::journal_head:
    case Route::metrics:
    case Route::offline_device_get:
    case Route::offline_exceptions:
    // Events carry every merchant's payments: read by admin and auditor keys (a per-merchant
    // view is a follow-up).
    case Route::events_list:
    case Route::event_get:
      return scope == Scope::auditor;
    // What a device or terminal needs to verify offline, and anyone may read.
    case Route::offline_issuer_keys:
    case Route::offline_deny_list:
      return true;
    // The device's own signature over the declaration is what ties a sync to the device.
    case Route::offline_device_sync:
      return scope == Scope::device;
    case Route::offline_batches_upload:
      return scope == Scope::terminal;
    // Issuer operations and key management: admin only.
    case Route::offline_devices_enroll:
    case Route::offline_device_revoke:
    case Route::offline_terminals_register:
    case Route::offline_terminal_deactivate:
    case Route::offline_exception_resolve:
    // Risk rules and lists change what every payment is decided by: admin only.
    case Route::risk_rules_put:
    case Route::risk_list_add:
    case Route::risk_list_remove:
    // Customers' funding sources, the points program and the FX desk (rates, liquidity
    // accounts) decide where every payment's money comes from: admin only.
    case Route::customer_put:
    case Route::points_program_put:
    case Route::fx_rates_put:
    case Route::fx_account_put:
    case Route::api_keys_create:
    case Route::api_keys_list:
    case Route::api_key_revoke:
    // Webhook endpoints send data out and hold signing secrets; test events reach them.
    case Route::webhook_endpoints_create:
    case Route::webhook_endpoints_list:
    case Route::webhook_endpoint_get:
    case Route::webhook_endpoint_update:
    case Route::webhook_endpoint_delete:
    case Route::webhook_endpoint_deliveries:
    case Route::webhook_endpoint_resend:
    case Route::webhook_endpoint_roll_secret:
    case Route::events_test:
    case Route::unmatched:
    case Route::healthz:
    case Route::readyz:
      return false;
  }
  return false;
}

AccessControl::AccessControl(engine::Engine& engine, AccessOptions options)
    : engine_(engine), options_(options) {}

PipelineHooks AccessControl::Hooks() {
  PipelineHooks hooks;
  hooks.before_dispatch = [this](const RequestContext& context, const Responder& responder,
                                 std::function<void(const Responder&)> dispatch) {
    BeforeDispatch(context, responder, dispatch);
  };
  return hooks;
}

void AccessControl::BeforeDispatch(const RequestContext& context, const Responder& responder,
                                   const std::function<void(const Responder&)>& dispatch) {
  if (IsPublic(context.match.route)) return dispatch(responder);
  Result<Caller, HttpResponse> caller = Authenticate(context);
  if (!caller.ok()) return responder.Send(caller.error());
  // A bound merchant key's binding travels with the request (and its stored response): the
  // payments endpoints enforce it.
  if (caller.value().merchant_key != nullptr) {
    return Admit(context, responder.WithMerchantBinding(caller.value().merchant_key), dispatch,
                 caller.value());
  }
  Admit(context, responder, dispatch, caller.value());
}

void AccessControl::Admit(const RequestContext& context, const Responder& responder,
                          const std::function<void(const Responder&)>& dispatch,
                          const Caller& caller) {
  if (const uint32_t wait_s = TakeToken(caller); wait_s != 0) {
    HttpResponse response = ErrorResponse(
        {http::status::too_many_requests, error_type::kRateLimit, "rate_limited",
         "this API key sent more than " + std::to_string(caller.rate_per_second) +
             " requests per second; retry after " + std::to_string(wait_s) + " s",
         ""});
    response.set(http::field::retry_after, std::to_string(wait_s));
    return responder.Send(std::move(response));
  }
  const auto key_header = context.request.find("Idempotency-Key");
  if (key_header == context.request.end() || context.request.method() != http::verb::post) {
    return dispatch(responder);
  }
  const std::string_view key(key_header->value().data(), key_header->value().size());
  if (!ValidIdempotencyKey(key)) {
    return responder.Send(ErrorResponse(
        {http::status::bad_request, error_type::kInvalidRequest, "invalid_idempotency_key",
         "an Idempotency-Key is 1 to 255 printable ASCII characters (a UUID is a good choice)",
         "Idempotency-Key"}));
  }
  Idempotent(context, responder, dispatch, caller, std::string(key));
}

Result<AccessControl::Caller, HttpResponse> AccessControl::Authenticate(
    const RequestContext& context) const {
  if (!options_.require_api_key) return Caller{0, Scope::admin, 0, nullptr};
  const auto header = context.request.find(http::field::authorization);
  if (header == context.request.end()) {
    return Err{Unauthenticated("missing_api_key",
                               "send an API key as 'Authorization: Bearer tpw_…': the first "
                               "`tpwallet serve` on a data directory prints an admin key; make "
                               "more with POST /v1/api-keys (admin), or `tpwallet apikey "
                               "create` while the server is stopped")};
  }
  const std::optional<std::string_view> token =
      BearerToken(std::string_view(header->value().data(), header->value().size()));
  const std::shared_ptr<const access::ApiKeyTable> keys = engine_.ApiKeys();
  verified_keys.Use(keys);
  const access::ApiKey* key = nullptr;
  if (const std::optional<uint64_t> id = token ? verified_keys.Find(*token) : std::nullopt) {
    key = keys->Find(*id);  // the table it was verified against: the key is in it
    if (key == nullptr) {
      return Err{Unauthenticated("invalid_api_key", "this API key is not known to this server")};
    }
  } else {
    const std::optional<access::KeyText> text = token ? access::ParseKeyText(*token) : std::nullopt;
    if (!text) {
      return Err{Unauthenticated("invalid_api_key",
                                 "the Authorization header is not 'Bearer' and an API key "
                                 "(tpw_ + 16 hex digits + _ + 43 base64url characters)")};
    }
    key = keys->Find(text->id);
    if (key == nullptr || !access::SecretMatches(*key, *text)) {
      return Err{Unauthenticated("invalid_api_key", "this API key is not known to this server")};
    }
    verified_keys.Remember(*token, key->id);
  }
  if (key->revoked) {
    return Err{Unauthenticated("api_key_revoked", "this API key was revoked; use another one")};
  }
  if (!ScopeAllows(key->scope, context.match.route)) {
    return Err{ErrorResponse({http::status::forbidden, error_type::kPermission,
                              "insufficient_scope",
                              "a key with scope '" + std::string(access::ScopeName(key->scope)) +
                                  "' may not call " + std::string(RouteLabel(context.match.route)) +
                                  " (docs/api.md lists what each scope may call)",
                              ""})};
  }
  // Aliasing the published table: no copy of the key, and it lives as long as the request.
  std::shared_ptr<const access::ApiKey> merchant_key =
      key->bound() ? std::shared_ptr<const access::ApiKey>(keys, key) : nullptr;
  return Caller{key->id, key->scope, key->rate_per_second, std::move(merchant_key)};
}

uint32_t AccessControl::TakeToken(const Caller& caller) {
  if (caller.key_id == 0) return 0;  // --no-auth: no key to account to
  const double rate =
      caller.rate_per_second != 0 ? caller.rate_per_second : options_.default_rate_per_second;
  const uint64_t now = MonotonicNs();
  std::lock_guard lock(buckets_mutex_);
  auto [it, added] = buckets_.try_emplace(caller.key_id, Bucket{rate, now});
  Bucket& bucket = it->second;
  if (!added) {
    const double elapsed_s = static_cast<double>(now - bucket.refilled_ns) / 1e9;
    bucket.tokens = std::min(rate, bucket.tokens + elapsed_s * rate);
    bucket.refilled_ns = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return 0;
  }
  return static_cast<uint32_t>(std::max(1.0, std::ceil((1.0 - bucket.tokens) / rate)));
}

void AccessControl::Idempotent(const RequestContext& context, const Responder& responder,
                               const std::function<void(const Responder&)>& dispatch,
                               const Caller& caller, std::string key) {
  std::string in_flight_key = InFlightKey(caller.key_id, key);
  if (!MarkInFlight(in_flight_key)) {
    return responder.Send(ErrorResponse(
        {http::status::conflict, error_type::kIdempotency, "idempotency_key_in_use",
         "another request with this Idempotency-Key is still being processed; retry when it "
         "has been answered",
         "Idempotency-Key"}));
  }
  access::IdempotencyRecord record;
  record.scope = caller.key_id;
  record.key = std::move(key);
  record.fingerprint = Fingerprint(context.request);
  engine::AccessCommand lookup;
  lookup.kind = engine::AccessCommandKind::lookup_response;
  lookup.record = record;
  Submit(std::move(lookup), responder, in_flight_key,
         [this, responder, dispatch, record, in_flight_key](engine::AccessReply& reply) {
           switch (reply.lookup) {
             case access::IdempotencyLookup::replay: {
               ClearInFlight(in_flight_key);
               HttpResponse stored = JsonResponse(static_cast<http::status>(reply.stored->status),
                                                  std::move(reply.stored->body));
               stored.set("Idempotent-Replayed", "true");
               return responder.Send(std::move(stored));
             }
             case access::IdempotencyLookup::mismatch:
               ClearInFlight(in_flight_key);
               return responder.Send(ErrorResponse(
                   {http::status::unprocessable_entity, error_type::kIdempotency,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request (method, path or "
                    "body); use a new key for a new request",
                    "Idempotency-Key"}));
             case access::IdempotencyLookup::absent:
               break;
           }
           dispatch(responder.WithSendHook(
               [this, record](HttpResponse&& response, const Responder& plain) {
                 StoreThenSend(record, std::move(response), plain);
               }));
         });
}

void AccessControl::StoreThenSend(access::IdempotencyRecord record, HttpResponse&& response,
                                  const Responder& plain) {
  const std::string in_flight_key = InFlightKey(record.scope, record.key);
  if (!Storable(response.result_int()) || response.body().size() > access::kStoredBodyBytesMax) {
    ClearInFlight(in_flight_key);
    return plain.Send(std::move(response));
  }
  record.status = static_cast<uint16_t>(response.result_int());
  record.body = response.body();
  engine::AccessCommand store;
  store.kind = engine::AccessCommandKind::store_response;
  store.record = std::move(record);
  auto held = std::make_shared<HttpResponse>(std::move(response));
  // The response goes out once its record is durable. If the record cannot be written (the
  // engine failed), the response's own effects are durable anyway, so it still goes out;
  // a retry then executes again, which ledger ids make harmless.
  engine::Request request;
  request.kind = engine::RequestKind::access;
  request.access = std::make_shared<engine::AccessCommand>(std::move(store));
  request.done = [this, plain, held, in_flight_key](engine::Reply&&) {
    plain.Post([this, plain, held, in_flight_key] {
      ClearInFlight(in_flight_key);
      plain.Send(std::move(*held));
    });
  };
  if (!engine_.TrySubmit(request)) {
    ClearInFlight(in_flight_key);
    plain.Send(std::move(*held));
  }
}

void AccessControl::Submit(engine::AccessCommand command, const Responder& responder,
                           std::string in_flight_key,
                           std::function<void(engine::AccessReply&)> on_reply) {
  engine::Request request;
  request.kind = engine::RequestKind::access;
  request.access = std::make_shared<engine::AccessCommand>(std::move(command));
  request.done = [this, responder, in_flight_key, on_reply](engine::Reply&& reply) {
    responder.Post([this, responder, in_flight_key, on_reply, reply = std::move(reply)]() mutable {
      if (reply.error || !reply.access) {
        ClearInFlight(in_flight_key);
        return responder.Send(EngineErrorResponse(reply.error.value_or(engine::EngineError::invalid_request)));
      }
      on_reply(*reply.access);
    });
  };
  if (!engine_.TrySubmit(request)) {
    ClearInFlight(in_flight_key);
    responder.Send(OverloadedResponse());
  }
}

bool AccessControl::MarkInFlight(const std::string& table_key) {
  std::lock_guard lock(in_flight_mutex_);
  return in_flight_.insert(table_key).second;
}

void AccessControl::ClearInFlight(const std::string& table_key) {
  std::lock_guard lock(in_flight_mutex_);
  in_flight_.erase(table_key);
}

}  // namespace tpw::api
