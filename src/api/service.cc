#include "api/service.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "api/body.h"
#include "api/merchant_binding.h"
#include "cli/outcomes.h"
#include "cli/query.h"
#include "cli/render.h"
#include "common/assert.h"
#include "ledger/results.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
namespace tf = ledger::transfer_flags;

ApiError NotFound(std::string code, std::string message) {
  return ApiError{http::status::not_found, error_type::kInvalidRequest, std::move(code),
                  std::move(message), "id"};
}

// A bound merchant key sees only its own accounts: another is answered as a missing one.
bool HidesAccount(const Responder& responder, AccountId account) {
  const access::ApiKey* key = responder.MerchantBinding();
  return key != nullptr && !key->MayActFor(account);
}

bool IsPost(Route route) { return RouteMethod(route) == http::verb::post; }

// Actions without parameters may come without a body (curl -X POST), hence without a type.
bool BodyMayBeAbsent(Route route) {
  return route == Route::offline_device_revoke || route == Route::offline_terminal_deactivate ||
         route == Route::api_key_revoke || route == Route::payment_confirm ||
         route == Route::payment_capture || route == Route::payment_cancel ||
         route == Route::payment_refund || route == Route::events_test ||
         route == Route::webhook_endpoint_roll_secret;
}

// PUTs with a JSON body (the risk rules' PUT takes TOML too and checks its own type).
bool IsJsonPut(Route route) {
  return RouteMethod(route) == http::verb::put && route != Route::risk_rules_put;
}

// The Content-Type a POST (or JSON PUT) must have, or nullopt when it has one the route takes.
// A batch upload also takes its binary message as is.
std::optional<ApiError> WrongContentType(const RequestContext& context) {
  const Route route = context.match.route;
  if (!IsPost(route) && !IsJsonPut(route)) return std::nullopt;
  const std::string_view type = context.request[http::field::content_type];
  if (IsJsonContentType(type)) return std::nullopt;
  if (route == Route::offline_batches_upload && IsOctetStream(type)) return std::nullopt;
  if (BodyMayBeAbsent(route) && context.request.body().empty()) return std::nullopt;
  const std::string wanted = route == Route::offline_batches_upload
                                 ? "application/octet-stream (the signed batch) or "
                                   "application/json ({\"batch\": \"<base64url>\"})"
                                 : "application/json";
  return ApiError{http::status::unsupported_media_type, error_type::kInvalidRequest,
                  "unsupported_media_type", "send the body as Content-Type: " + wanted,
                  "Content-Type"};
}

// A ledger refusal of the single-transfer endpoint: 409 when the id is taken by another
// transfer (or burnt by an earlier failure), 422 when the transfer cannot be applied.
ApiError LedgerRefusal(ledger::CreateTransferResult result) {
  const std::string name(ledger::ResultName(result));
  const bool conflict = name.rfind("exists_with_different_", 0) == 0 ||
                        result == ledger::CreateTransferResult::id_already_failed;
  return ApiError{conflict ? http::status::conflict : http::status::unprocessable_entity,
                  error_type::kLedger, name, std::string(ledger::ResultMessage(result)), ""};
}

ApiError QueryRefusal(ledger::QueryError error) {
  if (error == ledger::QueryError::account_not_found) {
    return NotFound("account_not_found", "no account has this id");
  }
  return ApiError{http::status::bad_request, error_type::kInvalidRequest,
                  std::string(ledger::ResultName(error)),
                  std::string(ledger::ResultMessage(error)), ""};
}

// The amount and accounts of these are decided by the ledger (from the pending transfer, or
// clamped to the balance): the response shows the stored transfer, looked up.
bool LedgerDecidesFields(const ledger::Transfer& t) {
  return (t.flags & (tf::kPostPendingTransfer | tf::kVoidPendingTransfer | tf::kBalancingDebit |
                     tf::kBalancingCredit)) != 0;
}

std::optional<ledger::PendingStatus> StatusIfPending(const ledger::Transfer& t,
                                                     ledger::PendingStatus status) {
  if ((t.flags & tf::kPending) == 0) return std::nullopt;
  return status;
}

void PutCursor(bj::object& out, std::optional<Timestamp> next) {
  if (next.has_value()) {
    out["next_cursor"] = std::to_string(next->ns);
  } else {
    out["next_cursor"] = nullptr;
  }
}

}  // namespace

HttpResponse EngineErrorResponse(engine::EngineError error) {
  using engine::EngineError;
  const std::string name(engine::EngineErrorName(error));
  switch (error) {
    case EngineError::storage_failed:
      return ErrorResponse({http::status::service_unavailable, error_type::kEngine, name,
                            "the journal could not be written: the outcome of this request is "
                            "unknown; retry with the same ids once the server is back",
                            ""});
    case EngineError::shutting_down:
      return ErrorResponse({http::status::service_unavailable, error_type::kEngine, name,
                            "the server is shutting down; retry with the same ids", ""});
    case EngineError::too_many_events:
      return ErrorResponse({http::status::bad_request, error_type::kInvalidRequest, name,
                            std::string(engine::EngineErrorMessage(error)), ""});
    default:
      return ErrorResponse({http::status::internal_server_error, error_type::kInternal, name,
                            std::string(engine::EngineErrorMessage(error)), ""});
  }
}

HttpResponse OverloadedResponse() {
  HttpResponse response = ErrorResponse({http::status::service_unavailable, error_type::kEngine,
                                         "overloaded", "the server is at capacity; retry shortly",
                                         ""});
  response.set(http::field::retry_after, "1");
  return response;
}

// ---- Responder ----------------------------------------------------------------------------
// (Send is in server.cc, beside the Connection it calls.)

Responder::Responder(std::shared_ptr<Connection> connection,
                     boost::asio::io_context::executor_type executor)
    : connection_(std::move(connection)), executor_(std::move(executor)) {}

// ---- Service ------------------------------------------------------------------------------

Service::Service(engine::Engine& engine, AssetTable assets, const Metrics& metrics)
    : engine_(engine),
      assets_(std::move(assets)),
      metrics_(metrics),
      offline_pool_(kOfflineWorkerThreads) {}

Service::~Service() { offline_pool_.join(); }

void Service::Handle(const RequestContext& context, const Responder& responder) {
  const Route route = context.match.route;
  if (std::optional<ApiError> wrong = WrongContentType(context)) {
    return responder.Send(ErrorResponse(*wrong));
  }
  switch (route) {
    case Route::healthz:
      return Health(responder);
    case Route::readyz:
      return Ready(responder);
    case Route::metrics:
      return MetricsText(responder);
    case Route::journal_head:
      return JournalHead(responder);
    case Route::accounts_create:
      return CreateAccounts(context, responder);
    case Route::account_get:
      return GetAccount(context, responder);
    case Route::account_transfers:
      return AccountTransfers(context, responder);
    case Route::account_balances:
      return AccountBalances(context, responder);
    case Route::transfers_create:
      return CreateTransfer(context, responder);
    case Route::transfers_batch:
      return CreateTransfersBatch(context, responder);
    case Route::transfer_get:
      return GetTransfer(context, responder);
    case Route::accounts_lookup:
      return LookupAccounts(context, responder);
    case Route::transfers_lookup:
      return LookupTransfers(context, responder);
    case Route::api_keys_create:
      return CreateApiKey(context, responder);
    case Route::api_keys_list:
      return ListApiKeys(responder);
    case Route::api_key_revoke:
      return RevokeApiKey(context, responder);
    case Route::offline_issuer_keys:
    case Route::offline_devices_enroll:
    case Route::offline_device_get:
    case Route::offline_device_sync:
    case Route::offline_device_revoke:
    case Route::offline_terminals_register:
    case Route::offline_terminal_deactivate:
    case Route::offline_deny_list:
    case Route::offline_batches_upload:
    case Route::offline_exceptions:
    case Route::offline_exception_resolve:
      return OfflineRoute(context, responder);
    case Route::risk_evaluate:
    case Route::risk_rules_get:
    case Route::risk_rules_put:
    case Route::risk_status:
    case Route::risk_lists:
    case Route::risk_list_get:
    case Route::risk_list_add:
    case Route::risk_list_remove:
      return RiskRoute(context, responder);
    case Route::payments_create:
    case Route::payments_list:
    case Route::payment_get:
    case Route::payment_confirm:
    case Route::payment_capture:
    case Route::payment_cancel:
    case Route::payment_refund:
    case Route::payment_refunds:
    case Route::customer_put:
    case Route::customer_get:
    case Route::coupons_create:
    case Route::coupon_get:
    case Route::points_program_put:
    case Route::points_program_get:
    case Route::fx_rates_put:
    case Route::fx_rates_get:
    case Route::fx_quotes_create:
    case Route::fx_quote_get:
    case Route::fx_account_put:
      return PaymentsRoute(context, responder);
    case Route::webhook_endpoints_create:
    case Route::webhook_endpoints_list:
    case Route::webhook_endpoint_get:
    case Route::webhook_endpoint_update:
    case Route::webhook_endpoint_delete:
    case Route::webhook_endpoint_deliveries:
    case Route::webhook_endpoint_resend:
    case Route::webhook_endpoint_roll_secret:
      return WebhookRoute(context, responder);
    case Route::events_test:
      return PublishTestEvents(context, responder);
    case Route::events_list:
      return ListEvents(context, responder);
    case Route::event_get:
      return GetEvent(context, responder);
    case Route::unmatched:
      break;
  }
  TPW_ASSERT(false && "Handle needs a matched route");
}

void Service::Health(const Responder& responder) {
  responder.Send(JsonResponse(http::status::ok, R"({"status":"ok"})"));
}

void Service::Ready(const Responder& responder) {
  if (const std::optional<engine::EngineFailure> failure = engine_.failure()) {
    responder.Send(ErrorResponse({http::status::service_unavailable, error_type::kEngine,
                                  std::string(engine::EngineErrorName(failure->code)),
                                  failure->Message(), ""}));
    return;
  }
  if (shutting_down_.load(std::memory_order_relaxed)) {
    responder.Send(EngineErrorResponse(engine::EngineError::shutting_down));
    return;
  }
  responder.Send(JsonResponse(http::status::ok, R"({"status":"ready"})"));
}

void Service::MetricsText(const Responder& responder) {
  HttpResponse response{http::status::ok, 11};
  response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.body() = metrics_.Render(engine_.Stats()) + WebhookMetrics();
  response.prepare_payload();
  responder.Send(std::move(response));
}

void Service::JournalHead(const Responder& responder) {
  // Stats carry the head as of the last group commit, which is durable (fsync=always).
  const engine::EngineStats stats = engine_.Stats();
  bj::object out;
  out["sequence"] = std::to_string(stats.journal_last_sequence);
  out["durable_sequence"] = std::to_string(stats.durable_sequence);
  out["head_hash"] = stats.journal_head_hash_hex;
  out["records"] = std::to_string(stats.journal_records);
  out["bytes"] = std::to_string(stats.journal_bytes);
  responder.Send(JsonBody(http::status::ok, out));
}

void Service::CreateAccounts(const RequestContext& context, const Responder& responder) {
  if (const access::ApiKey* key = responder.MerchantBinding()) {
    return responder.Send(BoundKeyCannotCreateAccounts(*key));
  }
  ApiResult<std::vector<ledger::Account>> accounts =
      DecodeAccountsBody(context.request.body(), assets_);
  if (!accounts.ok()) return responder.Send(ErrorResponse(accounts.error()));
  engine::Request request;
  request.kind = engine::RequestKind::create_accounts;
  request.accounts = std::move(accounts).value();
  std::vector<ledger::Account> sent = request.accounts;
  Call(std::move(request), responder, [responder, sent = std::move(sent)](engine::Reply& reply) {
    const auto outcomes = cli::AccountOutcomes(sent, {}, reply.account_results);
    responder.Send(JsonResponse(http::status::ok, cli::OutcomesJsonText("account", outcomes)));
  });
}

void Service::GetAccount(const RequestContext& context, const Responder& responder) {
  ApiResult<u128> id = DecodePathId(context.match.id);
  if (!id.ok()) return responder.Send(ErrorResponse(id.error()));
  if (HidesAccount(responder, AccountId(id.value()))) {
    return responder.Send(ErrorResponse(NotFound("account_not_found", "no account has this id")));
  }
  engine::Request request;
  request.kind = engine::RequestKind::lookup_accounts;
  request.ids = {id.value()};
  Call(std::move(request), responder, [this, responder](engine::Reply& reply) {
    if (reply.accounts.empty()) {
      return responder.Send(ErrorResponse(NotFound("account_not_found", "no account has this id")));
    }
    responder.Send(JsonBody(http::status::ok, cli::AccountToJson(reply.accounts[0], assets_)));
  });
}

void Service::RenderTransfers(std::vector<ledger::Transfer> transfers, const Responder& responder,
                              std::function<void(bj::array)> send) {
  auto render = [this, transfers, send = std::move(send)](
                    const std::vector<ledger::PendingStatus>& statuses) {
    bj::array items;
    items.reserve(transfers.size());
    size_t next_status = 0;
    for (const ledger::Transfer& t : transfers) {
      std::optional<ledger::PendingStatus> status;
      if ((t.flags & tf::kPending) != 0) status = statuses.at(next_status++);
      items.push_back(cli::TransferToJson(t, status, assets_));
    }
    send(std::move(items));
  };
  engine::Request request;
  request.kind = engine::RequestKind::get_pending_status;
  for (const ledger::Transfer& t : transfers) {
    if ((t.flags & tf::kPending) != 0) request.ids.push_back(t.id.value);
  }
  if (request.ids.empty()) return render({});
  Call(std::move(request), responder,
       [render](engine::Reply& reply) { render(reply.pending_statuses); });
}

void Service::SendTransfersPage(AccountId account, std::vector<ledger::Transfer> transfers,
                                uint32_t limit, const Responder& responder) {
  const std::optional<Timestamp> next = cli::NextCursor(
      transfers.size(), limit, transfers.empty() ? Timestamp{} : transfers.back().timestamp);
  RenderTransfers(std::move(transfers), responder, [responder, account, next](bj::array items) {
    bj::object out;
    out["account_id"] = FormatId(account);
    out["transfers"] = std::move(items);
    PutCursor(out, next);
    responder.Send(JsonBody(http::status::ok, out));
  });
}

void Service::AccountTransfers(const RequestContext& context, const Responder& responder) {
  ApiResult<cli::AccountQuery> query =
      DecodeAccountQuery(context.match.id, context.match.query, true);
  if (!query.ok()) return responder.Send(ErrorResponse(query.error()));
  const ledger::AccountFilter filter = query.value().filter;
  if (HidesAccount(responder, filter.account_id)) {
    return responder.Send(ErrorResponse(QueryRefusal(ledger::QueryError::account_not_found)));
  }
  if (query.value().past_the_end) return SendTransfersPage(filter.account_id, {}, 1, responder);
  engine::Request request;
  request.kind = engine::RequestKind::get_account_transfers;
  request.filter = filter;
  Call(std::move(request), responder, [this, responder, filter](engine::Reply& reply) {
    if (reply.query_error.has_value()) {
      return responder.Send(ErrorResponse(QueryRefusal(*reply.query_error)));
    }
    SendTransfersPage(filter.account_id, std::move(reply.transfers), filter.limit, responder);
  });
}

void Service::AccountBalances(const RequestContext& context, const Responder& responder) {
  ApiResult<cli::AccountQuery> query =
      DecodeAccountQuery(context.match.id, context.match.query, false);
  if (!query.ok()) return responder.Send(ErrorResponse(query.error()));
  const cli::AccountQuery q = query.value();
  if (HidesAccount(responder, q.filter.account_id)) {
    return responder.Send(ErrorResponse(QueryRefusal(ledger::QueryError::account_not_found)));
  }
  // The account's ledger says how to write its amounts: look it up first.
  engine::Request lookup;
  lookup.kind = engine::RequestKind::lookup_accounts;
  lookup.ids = {q.filter.account_id.value};
  Call(std::move(lookup), responder, [this, responder, q](engine::Reply& found) {
    if (found.accounts.empty()) {
      return responder.Send(ErrorResponse(QueryRefusal(ledger::QueryError::account_not_found)));
    }
    const uint32_t ledger_number = found.accounts[0].ledger;
    auto send = [this, responder, q, ledger_number](const std::vector<ledger::AccountBalance>& b) {
      bj::array items;
      items.reserve(b.size());
      for (const ledger::AccountBalance& balance : b) {
        items.push_back(cli::BalanceToJson(balance, ledger_number, assets_));
      }
      bj::object out;
      out["account_id"] = FormatId(q.filter.account_id);
      out["balances"] = std::move(items);
      PutCursor(out, cli::NextCursor(b.size(), q.filter.limit,
                                     b.empty() ? Timestamp{} : b.back().timestamp));
      responder.Send(JsonBody(http::status::ok, out));
    };
    if (q.past_the_end) return send({});
    engine::Request request;
    request.kind = engine::RequestKind::get_account_balances;
    request.filter = q.filter;
    Call(std::move(request), responder, [responder, send](engine::Reply& reply) {
      if (reply.query_error.has_value()) {
        return responder.Send(ErrorResponse(QueryRefusal(*reply.query_error)));
      }
      send(reply.balances);
    });
  });
}

// A template on `then`: the usual draft names no pending transfer and is finished on this call
// stack, so `then` is never wrapped in a std::function (an allocation per request).
template <typename Then>
void Service::ResolveDrafts(std::vector<cli::TransferDraft> drafts, const Responder& responder,
                            Then then) {
  const std::vector<TransferId> to_look_up = cli::PendingLedgersToLookUp(drafts);
  // Most drafts name no pending transfer: finished here, without copying `then` or `responder`.
  if (to_look_up.empty()) return FinishDrafts(drafts, {}, responder, then);
  engine::Request request;
  request.kind = engine::RequestKind::lookup_transfers;
  for (TransferId id : to_look_up) request.ids.push_back(id.value);
  Call(std::move(request), responder,
       [this, responder, then = std::move(then), drafts = std::move(drafts)](engine::Reply& reply) {
         std::map<u128, uint32_t> stored;
         for (const ledger::Transfer& t : reply.transfers) stored.emplace(t.id.value, t.ledger);
         FinishDrafts(drafts, stored, responder, then);
       });
}

template <typename Then>
void Service::FinishDrafts(const std::vector<cli::TransferDraft>& drafts,
                           const std::map<u128, uint32_t>& stored, const Responder& responder,
                           const Then& then) {
  auto resolved = cli::ResolveTransferDrafts(drafts, stored, assets_);
  if (resolved.ok()) return then(std::move(resolved).value());
  SendDraftError(drafts, resolved.error(), responder);
}

void Service::SendDraftError(const std::vector<cli::TransferDraft>& drafts,
                             const cli::DraftError& e, const Responder& responder) {
  const std::string param =
      drafts.size() == 1 ? "amount" : "transfers[" + std::to_string(e.index) + "]";
  if (e.pending_not_found) {
    return responder.Send(ErrorResponse({http::status::not_found, error_type::kInvalidRequest,
                                         "pending_transfer_not_found", e.message, param}));
  }
  responder.Send(ErrorResponse(InvalidBody(e.message, param)));
}

void Service::CreateTransfer(const RequestContext& context, const Responder& responder) {
  ApiResult<cli::TransferDraft> draft = DecodeTransferBody(context.request.body(), assets_);
  if (!draft.ok()) return responder.Send(ErrorResponse(draft.error()));
  std::vector<cli::TransferDraft> drafts{std::move(draft).value()};
  if (const access::ApiKey* key = responder.MerchantBinding()) {
    if (auto refused = RefuseTransferDrafts(*key, drafts)) return responder.Send(std::move(*refused));
  }
  ResolveDrafts(std::move(drafts), responder,
                [this, responder](std::vector<ledger::Transfer> transfers) {
                  SubmitTransfer(transfers.at(0), responder);
                });
}

void Service::SubmitTransfer(ledger::Transfer transfer, const Responder& responder) {
  engine::Request request;
  request.kind = engine::RequestKind::create_transfers;
  request.transfers = {transfer};
  Call(std::move(request), responder, [this, responder, transfer](engine::Reply& reply) {
    const auto result = reply.transfer_results.empty() ? ledger::CreateTransferResult::created
                                                       : reply.transfer_results[0].result;
    if (result == ledger::CreateTransferResult::exists) {
      return SendStoredTransfer(transfer.id, http::status::ok, responder);
    }
    if (result != ledger::CreateTransferResult::created) {
      return responder.Send(ErrorResponse(LedgerRefusal(result)));
    }
    if (LedgerDecidesFields(transfer)) {
      return SendStoredTransfer(transfer.id, http::status::created, responder);
    }
    // Created as sent, stamped with the batch's first timestamp (it is the only event).
    ledger::Transfer stored = transfer;
    stored.timestamp = reply.first_timestamp;
    responder.Send(JsonResponse(
        http::status::created,
        cli::TransferJsonText(stored, StatusIfPending(stored, ledger::PendingStatus::pending),
                              assets_)));
  });
}

void Service::SendStoredTransfer(TransferId id, http::status status, const Responder& responder) {
  engine::Request request;
  request.kind = engine::RequestKind::lookup_transfers;
  request.ids = {id.value};
  Call(std::move(request), responder, [this, responder, status](engine::Reply& reply) {
    const access::ApiKey* key = responder.MerchantBinding();
    if (reply.transfers.empty() || (key != nullptr && !MaySeeTransfer(*key, reply.transfers[0]))) {
      return responder.Send(
          ErrorResponse(NotFound("transfer_not_found", "no transfer has this id")));
    }
    const ledger::Transfer t = reply.transfers[0];
    if ((t.flags & tf::kPending) == 0) {
      return responder.Send(JsonResponse(status, cli::TransferJsonText(t, std::nullopt, assets_)));
    }
    engine::Request pending;
    pending.kind = engine::RequestKind::get_pending_status;
    pending.ids = {t.id.value};
    Call(std::move(pending), responder, [this, responder, status, t](engine::Reply& statuses) {
      responder.Send(
          JsonResponse(status, cli::TransferJsonText(t, statuses.pending_statuses.at(0), assets_)));
    });
  });
}

void Service::CreateTransfersBatch(const RequestContext& context, const Responder& responder) {
  ApiResult<std::vector<cli::TransferDraft>> drafts =
      DecodeTransfersBatchBody(context.request.body(), assets_);
  if (!drafts.ok()) return responder.Send(ErrorResponse(drafts.error()));
  if (const access::ApiKey* key = responder.MerchantBinding()) {
    if (auto refused = RefuseTransferDrafts(*key, drafts.value())) {
      return responder.Send(std::move(*refused));
    }
  }
  ResolveDrafts(std::move(drafts).value(), responder,
                [this, responder](std::vector<ledger::Transfer> transfers) {
                  engine::Request request;
                  request.kind = engine::RequestKind::create_transfers;
                  request.transfers = transfers;
                  Call(std::move(request), responder,
                       [responder, transfers = std::move(transfers)](engine::Reply& reply) {
                         const auto outcomes =
                             cli::TransferOutcomes(transfers, {}, reply.transfer_results);
                         responder.Send(JsonResponse(
                             http::status::ok, cli::OutcomesJsonText("transfer", outcomes)));
                       });
                });
}

void Service::GetTransfer(const RequestContext& context, const Responder& responder) {
  ApiResult<u128> id = DecodePathId(context.match.id);
  if (!id.ok()) return responder.Send(ErrorResponse(id.error()));
  SendStoredTransfer(TransferId(id.value()), http::status::ok, responder);
}

// ---- Lookups: several records by id (docs/api.md, "Lookups") ---------------------------------

namespace {

// {"<noun>s": [found, in the order asked], "not_found": [ids asked and not found or not visible]}
bj::object LookupAnswer(std::string_view noun, bj::array found,
                        const std::vector<u128>& asked, const std::vector<u128>& found_ids) {
  bj::array not_found;
  for (u128 id : asked) {
    if (std::find(found_ids.begin(), found_ids.end(), id) == found_ids.end()) {
      not_found.emplace_back(FormatId(id));
    }
  }
  bj::object out;
  out[std::string(noun) + "s"] = std::move(found);
  out["not_found"] = std::move(not_found);
  return out;
}

}  // namespace

void Service::LookupAccounts(const RequestContext& context, const Responder& responder) {
  ApiResult<std::vector<u128>> ids = DecodeLookupIds(context.match.query);
  if (!ids.ok()) return responder.Send(ErrorResponse(ids.error()));
  engine::Request request;
  request.kind = engine::RequestKind::lookup_accounts;
  // Another merchant's account is answered as a missing one, without reading it.
  for (u128 id : ids.value()) {
    if (!HidesAccount(responder, AccountId(id))) request.ids.push_back(id);
  }
  Call(std::move(request), responder,
       [this, responder, asked = std::move(ids).value()](engine::Reply& reply) {
         bj::array found;
         std::vector<u128> found_ids;
         for (const ledger::Account& a : reply.accounts) {
           found.push_back(cli::AccountToJson(a, assets_));
           found_ids.push_back(a.id.value);
         }
         responder.Send(JsonBody(http::status::ok,
                                 LookupAnswer("account", std::move(found), asked, found_ids)));
       });
}

void Service::LookupTransfers(const RequestContext& context, const Responder& responder) {
  ApiResult<std::vector<u128>> ids = DecodeLookupIds(context.match.query);
  if (!ids.ok()) return responder.Send(ErrorResponse(ids.error()));
  engine::Request request;
  request.kind = engine::RequestKind::lookup_transfers;
  request.ids = ids.value();
  Call(std::move(request), responder,
       [this, responder, asked = std::move(ids).value()](engine::Reply& reply) {
         const access::ApiKey* key = responder.MerchantBinding();
         std::vector<ledger::Transfer> visible;
         std::vector<u128> found_ids;
         for (const ledger::Transfer& t : reply.transfers) {
           if (key != nullptr && !MaySeeTransfer(*key, t)) continue;  // as if missing
           visible.push_back(t);
           found_ids.push_back(t.id.value);
         }
         RenderTransfers(std::move(visible), responder,
                         [responder, asked, found_ids](bj::array items) {
                           responder.Send(JsonBody(
                               http::status::ok,
                               LookupAnswer("transfer", std::move(items), asked, found_ids)));
                         });
       });
}

}  // namespace tpw::api
