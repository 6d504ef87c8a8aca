// Who may call what, and idempotent POSTs: the request pipeline's access step
// (docs/api.md, "Authentication" and "Idempotent requests"), as PipelineHooks.
//
//   authenticate (Authorization: Bearer tpw_…; 401) → scope of the route (403) → per-key rate
//   limit (429, Retry-After) → Idempotency-Key (POST only): in flight on this server (409),
//   stored for the same request (replayed, Idempotent-Replayed: true), stored for another
//   request (422 idempotency_error), else dispatch with a send hook that stores the response
//   and sends it once the record is durable.
//
// API keys are read from the engine's published table (no queue trip); rate-limit buckets and
// the in-flight set live in this process only.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "access/access.h"
#include "api/router.h"
#include "api/service.h"
#include "engine/engine.h"

namespace tpw::api {

struct AccessOptions {
  // Off only for local experiments (`tpwallet serve --no-auth`): every request is admin then.
  bool require_api_key = true;
  // Requests per second per key when the key sets none; bursts up to one second's worth.
  uint32_t default_rate_per_second = 10'000;
};

// Whether a key of `scope` may call `route` (docs/api.md, the scope table).
bool ScopeAllows(access::Scope scope, Route route);
// Routes anyone may call (health probes).
bool IsPublic(Route route);

class AccessControl {
 public:
  // `engine` must outlive this object and every server using its hooks.
  AccessControl(engine::Engine& engine, AccessOptions options);

  PipelineHooks Hooks();

 private:
  struct Bucket {
    double tokens = 0;
    uint64_t refilled_ns = 0;
  };
  struct Caller {
    uint64_t key_id = 0;  // 0 with --no-auth
    access::Scope scope = access::Scope::admin;
    uint32_t rate_per_second = 0;
    // A bound merchant key (shares the published key table it points into); null otherwise.
    std::shared_ptr<const access::ApiKey> merchant_key;
  };

  void BeforeDispatch(const RequestContext& context, const Responder& responder,
                      const std::function<void(const Responder&)>& dispatch);
  // The steps after authentication: rate limit, then Idempotency-Key or dispatch.
  void Admit(const RequestContext& context, const Responder& responder,
             const std::function<void(const Responder&)>& dispatch, const Caller& caller);
  // The caller, or the 401/403 response to send.
  Result<Caller, HttpResponse> Authenticate(const RequestContext& context) const;
  // 0 when the request may go now, else the seconds to wait.
  uint32_t TakeToken(const Caller& caller);
  void Idempotent(const RequestContext& context, const Responder& responder,
                  const std::function<void(const Responder&)>& dispatch, const Caller& caller,
                  std::string key);
  void StoreThenSend(access::IdempotencyRecord record, HttpResponse&& response,
                     const Responder& plain);
  bool MarkInFlight(const std::string& table_key);
  void ClearInFlight(const std::string& table_key);
  // Submits an access command; `on_reply` runs on the connection's I/O thread (an engine
  // failure or a full queue answers 503 itself and clears `in_flight_key`).
  void Submit(engine::AccessCommand command, const Responder& responder, std::string in_flight_key,
              std::function<void(engine::AccessReply&)> on_reply);

  engine::Engine& engine_;
  const AccessOptions options_;
  std::mutex buckets_mutex_;
  std::unordered_map<uint64_t, Bucket> buckets_;
  std::mutex in_flight_mutex_;
  std::unordered_set<std::string> in_flight_;
};

}  // namespace tpw::api
