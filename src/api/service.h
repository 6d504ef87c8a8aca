// The endpoints: each turns a request into engine requests and the engine's reply into a
// response (docs/api.md). Handlers never block: they submit to the engine with a callback, and
// the callback moves the reply to the connection's I/O thread (Responder::Post) where the JSON is
// written.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "api/http.h"
#include "api/metrics.h"
#include "api/offline_body.h"
#include "api/payments_body.h"
#include "api/router.h"
#include "cli/batch_input.h"
#include "common/asset.h"
#include "engine/engine.h"

namespace tpw::api {

class Connection;  // server.cc
class EventHub;    // event_stream.h
class WebhookDeliverer;  // webhook_deliverer.h

// A response sent in parts for as long as the client listens (GET /v1/events as Server-Sent
// Events). The connection pulls a part whenever it is not writing one, so a slow reader holds
// at most one part in the server; the source wakes the connection when it has more.
class StreamSource {
 public:
  virtual ~StreamSource() = default;
  enum class Next : uint8_t {
    part,  // `out` is the next part
    wait,  // nothing now: the source calls the waker (Attach) when there is
    last,  // `out` is the final part (may be empty); then the response ends, the connection closes
  };
  // On the connection's I/O thread.
  virtual Next Pull(std::string& out) = 0;
  // On the I/O thread, after heartbeat_ms without a part: what keeps the connection alive.
  virtual std::string Heartbeat() = 0;
  // On the I/O thread, when the server stops: the final part.
  virtual std::string Goodbye() = 0;
  // Once, on the I/O thread, as the stream starts: `wake` makes the connection pull again (any
  // thread, cheap; the source should not call it again before its next Pull).
  virtual void Attach(std::function<void()> wake) = 0;
  // Once, on the I/O thread, when the stream ended (client gone, dropped, server stopping).
  virtual void Detach() = 0;
};

struct StreamSettings {
  uint32_t heartbeat_ms = 15'000;
  // The socket's send buffer (SO_SNDBUF): how much a reader that does not read can hold up in
  // the kernel before the stream notices it falls behind.
  uint32_t send_buffer_bytes = 64 * 1024;
};

// Where a handler sends its one response. Copyable. Send() and Post() may be called on any
// thread (an engine thread): they run on the connection's I/O thread. Holding a Responder keeps
// the connection alive; the connection keeps the I/O thread's loop running (outstanding work)
// from dispatch until the request is answered, so a graceful shutdown waits for every reply the
// engine owes. The executor is the plain io_context one: copying a Responder (several times a
// request) touches no shared work counter.
class Responder {
 public:
  // Sees the response instead of the client; sends it on (or another) with `plain`.
  using SendHook = std::function<void(HttpResponse&& response, const Responder& plain)>;

  Responder(std::shared_ptr<Connection> connection,
            boost::asio::io_context::executor_type executor);
  // Answers the request (exactly once per request): through the send hook, if one was added.
  void Send(HttpResponse response) const;
  // A copy whose Send goes to `hook` first (the idempotency step stores the response before
  // the client hears it).
  Responder WithSendHook(SendHook hook) const;
  // Answers with `header`'s status and headers and then, chunked, the parts `source` gives,
  // until the source ends, the client goes away, a part is not taken within the write timeout,
  // or the server stops. Instead of Send (exactly one of the two per request).
  void Stream(HttpResponse header, std::shared_ptr<StreamSource> source,
              StreamSettings settings) const;
  // Runs `work` on the connection's I/O thread.
  template <typename Work>
  void Post(Work&& work) const {
    boost::asio::post(executor_, std::forward<Work>(work));
  }
  // The bound merchant key that sent this request (docs/api.md, "Merchant keys"), or null when
  // the caller is not limited to some merchant accounts. The access step attaches it; the
  // payments endpoints enforce it.
  const access::ApiKey* MerchantBinding() const { return merchant_key_.get(); }
  Responder WithMerchantBinding(std::shared_ptr<const access::ApiKey> key) const {
    Responder bound = *this;
    bound.merchant_key_ = std::move(key);
    return bound;
  }

 private:
  std::shared_ptr<Connection> connection_;
  boost::asio::io_context::executor_type executor_;
  std::shared_ptr<const SendHook> send_hook_;
  std::shared_ptr<const access::ApiKey> merchant_key_;  // null: not limited
};

// One request as the pipeline sees it; valid until its response is sent.
struct RequestContext {
  const HttpRequest& request;
  RouteMatch match;
};

// Steps the request pipeline runs around dispatch (README.md, "Pipeline"). Both optional.
struct PipelineHooks {
  // After routing and before the handler: authentication (401/403), rate limits (429), the
  // idempotency-key lookup (replay a stored response, 409 while one is in flight). Calls
  // `dispatch(responder)` to go on (with the responder, or one with a send hook added), or
  // answers with `responder.Send(...)` instead; either may happen later, on any thread.
  std::function<void(const RequestContext&, const Responder&,
                     std::function<void(const Responder&)> dispatch)>
      before_dispatch;
  // On the I/O thread, once the response is final and before it is written (also for errors the
  // server itself produced, then with match.route == unmatched): the idempotency step stores
  // it here; headers may be added.
  std::function<void(const RequestContext&, HttpResponse&)> before_send;
};

// Threads that run offline commands (an upload's signature checks run on the submitting thread).
inline constexpr uint32_t kOfflineWorkerThreads = 2;
// Offline commands queued or running at once; more are refused with 503 overloaded.
inline constexpr uint32_t kOfflineInFlightMax = 64;

class Service {
 public:
  // `engine`, `metrics` must outlive the Service.
  Service(engine::Engine& engine, AssetTable assets, const Metrics& metrics);
  // Waits for the offline worker threads (every reply they owe has been sent by then: a
  // Responder keeps its I/O thread running).
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Answers one routed request (route != unmatched; method already checked).
  void Handle(const RequestContext& context, const Responder& responder);

  // From now on /readyz answers 503 (graceful shutdown began).
  void SetShuttingDown() { shutting_down_.store(true, std::memory_order_relaxed); }

  // The event streams (GET /v1/events as Server-Sent Events) and the webhook deliverer the
  // endpoints tell about changes (null: this server delivers nothing). Set before serving.
  void SetEvents(EventHub* hub, WebhookDeliverer* deliverer) {
    event_hub_ = hub;
    deliverer_ = deliverer;
  }

 private:
  template <typename OnReply>
  void Call(engine::Request request, const Responder& responder, OnReply on_reply);

  void Health(const Responder& responder);
  void Ready(const Responder& responder);
  void MetricsText(const Responder& responder);
  void JournalHead(const Responder& responder);
  void CreateAccounts(const RequestContext& context, const Responder& responder);
  void GetAccount(const RequestContext& context, const Responder& responder);
  void AccountTransfers(const RequestContext& context, const Responder& responder);
  void AccountBalances(const RequestContext& context, const Responder& responder);
  void CreateTransfer(const RequestContext& context, const Responder& responder);
  void CreateTransfersBatch(const RequestContext& context, const Responder& responder);
  void GetTransfer(const RequestContext& context, const Responder& responder);
  void LookupAccounts(const RequestContext& context, const Responder& responder);
  void LookupTransfers(const RequestContext& context, const Responder& responder);

  // ---- Offline payments (offline_service.cc)
  // Runs an offline command on the offline worker pool (the engine verifies an uploaded batch's
  // signatures on the submitting thread, which must not be an I/O thread) and calls `on_reply`
  // on the I/O thread with a reply whose error is ok; a refusal is answered here.
  void CallOffline(engine::OfflineCommand command, const Responder& responder,
                   std::function<void(engine::OfflineReply&)> on_reply);
  void OfflineRoute(const RequestContext& context, const Responder& responder);
  void IssuerKeys(const Responder& responder);
  void EnrollDevice(const RequestContext& context, const Responder& responder);
  void GetDevice(const RequestContext& context, const Responder& responder);
  void SyncDevice(const RequestContext& context, const Responder& responder);
  void RegisterTerminal(const RequestContext& context, const Responder& responder);
  // An action on one {id} without parameters (device revoke, terminal deactivate): the id goes
  // in `id_field`; the answer is {"<id_key>": id, "<flag>": flag_value}.
  void IdAction(const RequestContext& context, const Responder& responder,
                engine::OfflineCommandKind kind, u128 engine::OfflineCommand::*id_field,
                std::string_view id_key, std::string_view flag, bool flag_value);
  void DenyList(const RequestContext& context, const Responder& responder);
  void UploadBatch(const RequestContext& context, const Responder& responder);
  void Exceptions(const RequestContext& context, const Responder& responder);
  void ResolveException(const RequestContext& context, const Responder& responder);
  // Looks up `account` and calls `then` with its available balance (zero if it is gone).
  void ReserveBalance(AccountId account, const Responder& responder,
                      std::function<void(Amount)> then);

  // ---- Risk rules and lists (risk_service.cc)
  void CallRisk(engine::RiskCommand command, const Responder& responder,
                std::function<void(engine::RiskReply&)> on_reply);
  void RiskRoute(const RequestContext& context, const Responder& responder);
  void PutRiskRules(const RequestContext& context, const Responder& responder);
  void ChangeRiskList(const RequestContext& context, const Responder& responder);

  // ---- Online payments (payments_service.cc)
  // Runs a payments command in the sequencer; `on_reply` gets the module's reply (refusals
  // included) on the I/O thread.
  void CallPayments(payments::Command command, const Responder& responder,
                    std::function<void(payments::Reply&)> on_reply);
  void PaymentsRoute(const RequestContext& context, const Responder& responder);
  // Looks the payment up for the asset a decimal capture/refund amount is written in, then runs.
  void ResolveAmountThenRun(Route route, PaymentsCall call, const Responder& responder);
  void RunPayments(Route route, payments::Command command, const Responder& responder);

  // ---- Webhook endpoints and test events (webhook_service.cc)
  void CallWebhooks(engine::WebhookCommand command, const Responder& responder,
                    std::function<void(engine::WebhookReply&)> on_reply);
  void WebhookRoute(const RequestContext& context, const Responder& responder);
  void CreateWebhookEndpoint(const RequestContext& context, const Responder& responder);
  void UpdateWebhookEndpoint(const RequestContext& context, uint64_t id, const Responder& responder);
  void RollWebhookSecret(const RequestContext& context, uint64_t id, const Responder& responder);
  void CallWithNewSecret(engine::WebhookCommand command, const Responder& responder,
                         http::status status);
  void WebhookDeliveries(const RequestContext& context, uint64_t id, const Responder& responder);
  void ResendEvent(const RequestContext& context, uint64_t id, const Responder& responder);
  void PublishTestEvents(const RequestContext& context, const Responder& responder);

  // ---- Events: list, one, stream (event_service.cc); read from the engine's outbox directly
  void ListEvents(const RequestContext& context, const Responder& responder);
  void GetEvent(const RequestContext& context, const Responder& responder);
  void StreamEvents(const RequestContext& context, const Responder& responder);
  std::string WebhookMetrics() const;

  // ---- API keys (key_service.cc)
  void CallAccess(engine::AccessCommand command, const Responder& responder,
                  std::function<void(engine::AccessReply&)> on_reply);
  void CreateApiKey(const RequestContext& context, const Responder& responder);
  void StoreApiKey(const NewApiKey& wanted, int attempt, const Responder& responder);
  void ListApiKeys(const Responder& responder);
  void RevokeApiKey(const RequestContext& context, const Responder& responder);

  // Resolves the drafts' amounts (looking up pending transfers' ledgers if needed), then calls
  // `then(std::vector<ledger::Transfer>)` on the I/O thread, or answers the error. Defined in
  // service.cc, its only user.
  template <typename Then>
  void ResolveDrafts(std::vector<cli::TransferDraft> drafts, const Responder& responder,
                     Then then);
  // ResolveDrafts' second half, once the pending transfers' ledgers are known (`stored`).
  template <typename Then>
  void FinishDrafts(const std::vector<cli::TransferDraft>& drafts,
                    const std::map<u128, uint32_t>& stored, const Responder& responder,
                    const Then& then);
  void SendDraftError(const std::vector<cli::TransferDraft>& drafts, const cli::DraftError& error,
                      const Responder& responder);
  void SubmitTransfer(ledger::Transfer transfer, const Responder& responder);
  void SendStoredTransfer(TransferId id, http::status status, const Responder& responder);
  // Sends `transfers` as a page, with what became of the pending ones.
  void SendTransfersPage(AccountId account, std::vector<ledger::Transfer> transfers,
                         uint32_t limit, const Responder& responder);
  // `transfers` as JSON items, each pending one with what became of it (one engine read for
  // all of them, none when no transfer is pending); then `send(items)`.
  void RenderTransfers(std::vector<ledger::Transfer> transfers, const Responder& responder,
                       std::function<void(boost::json::array)> send);

  engine::Engine& engine_;
  const AssetTable assets_;
  const Metrics& metrics_;
  std::atomic<bool> shutting_down_{false};
  // Offline commands waiting for or running on the pool; over kOfflineInFlightMax: 503.
  std::atomic<uint32_t> offline_in_flight_{0};
  boost::asio::thread_pool offline_pool_;
  EventHub* event_hub_ = nullptr;
  WebhookDeliverer* deliverer_ = nullptr;
};

// The response for an engine-level failure (503 storage_failed / shutting_down, ...).
HttpResponse EngineErrorResponse(engine::EngineError error);
// 503 overloaded with Retry-After: 1 (the engine's queue or the offline pool is full).
HttpResponse OverloadedResponse();

// In the header: the endpoint files (service.cc, offline_service.cc, key_service.cc) all use it.
template <typename OnReply>
void Service::Call(engine::Request request, const Responder& responder, OnReply on_reply) {
  request.done = [responder, on_reply = std::move(on_reply)](engine::Reply&& reply) mutable {
    // On an engine thread: only move the reply over; the JSON is written on the I/O thread.
    responder.Post([responder, on_reply = std::move(on_reply),
                    reply = std::move(reply)]() mutable {
      if (reply.error.has_value()) {
        responder.Send(EngineErrorResponse(*reply.error));
        return;
      }
      on_reply(reply);
    });
  };
  if (!engine_.TrySubmit(request)) {
    // The engine's queue is full: refuse rather than block an I/O thread.
    responder.Send(OverloadedResponse());
  }
}

}  // namespace tpw::api
