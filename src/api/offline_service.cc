// The offline-payment endpoints (docs/api.md, "Offline payments"): the issuer and clearing
// side of the protocol over HTTP. Bodies are decoded by offline_body.h; the JSON is the CLI's
// (cli/offline_values.h), so `tpwallet device enroll --json` and POST /v1/offline/devices
// answer alike.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/service.h"
#include "cli/offline_values.h"
#include "cli/render.h"
#include "common/assert.h"
#include "crypto/base64.h"
#include "ledger/results.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
using engine::OfflineError;

http::status StatusOf(const engine::OfflineReply& reply) {
  switch (reply.error) {
    case OfflineError::issuer_key_unavailable:
    case OfflineError::engine_failed:
      return http::status::service_unavailable;
    case OfflineError::unknown_device:
    case OfflineError::unknown_terminal:
    case OfflineError::unknown_exception:
      return http::status::not_found;
    case OfflineError::device_exists:
    case OfflineError::terminal_exists:
    case OfflineError::issuer_key_exists:
    case OfflineError::device_revoked:
      return http::status::conflict;
    case OfflineError::malformed:
      return http::status::bad_request;
    case OfflineError::batch_rejected:
      return reply.batch_rejection == offline::BatchRejection::batch_id_reused
                 ? http::status::conflict
                 : http::status::unprocessable_entity;
    case OfflineError::ok:
    case OfflineError::invalid_limits:
    case OfflineError::funding_failed:
    case OfflineError::reserve_account_failed:
    case OfflineError::bad_sync_request:
    case OfflineError::guarantee_payment_failed:
    case OfflineError::unknown_account:
      return http::status::unprocessable_entity;
  }
  return http::status::internal_server_error;
}

// What the caller can do about a refusal.
std::string_view Advice(const engine::OfflineReply& reply) {
  switch (reply.error) {
    case OfflineError::issuer_key_unavailable:
      return "this server runs without the issuer's signing key; restart it with `tpwallet "
             "serve --issuer-key-id N --issuer-passphrase-file FILE` (or with "
             "TPWALLET_ISSUER_PASSPHRASE set) after `tpwallet issuer init`";
    case OfflineError::engine_failed:
      return "the outcome is unknown; read the state back (GET) before retrying";
    case OfflineError::malformed:
      return "nothing was done; send the message exactly as it was signed";
    case OfflineError::batch_rejected:
      return "nothing in the batch was classified; upload a batch signed by the registered key "
             "of an active terminal, with a fresh batch id";
    case OfflineError::bad_sync_request:
      return "send the wallet's sync request for its current certificate, unchanged";
    case OfflineError::funding_failed:
      return "the user account must hold the allowance in the same ledger";
    case OfflineError::device_revoked:
      return "revocation is permanent; enroll the device under a new id";
    default:
      return "";
  }
}

HttpResponse OfflineRefusal(const engine::OfflineReply& reply) {
  std::string message(engine::OfflineErrorMessage(reply.error));
  if (reply.ledger_result.has_value()) {
    message += " (ledger: " + std::string(ledger::ResultName(*reply.ledger_result)) + ")";
  } else if (!reply.detail.empty()) {
    message += " (" + reply.detail + ")";
  }
  if (const std::string_view advice = Advice(reply); !advice.empty()) {
    message += "; " + std::string(advice);
  }
  const std::string code = reply.batch_rejection.has_value()
                               ? std::string(offline::BatchRejectionName(*reply.batch_rejection))
                               : std::string(engine::OfflineErrorName(reply.error));
  return ErrorResponse({StatusOf(reply), error_type::kOffline, code, message, ""});
}

// Whether the client asked for the binary message (Accept: application/octet-stream).
bool WantsBinary(const HttpRequest& request) {
  return request[http::field::accept].find("application/octet-stream") != std::string_view::npos;
}

}  // namespace

void Service::CallOffline(engine::OfflineCommand command, const Responder& responder,
                          std::function<void(engine::OfflineReply&)> on_reply) {
  if (offline_in_flight_.fetch_add(1, std::memory_order_relaxed) >= kOfflineInFlightMax) {
    offline_in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return responder.Send(OverloadedResponse());
  }
  auto done = [this, responder, on_reply = std::move(on_reply)](engine::OfflineReply&& reply) {
    offline_in_flight_.fetch_sub(1, std::memory_order_relaxed);
    // On an engine thread: only move the reply over to the I/O thread.
    responder.Post([responder, on_reply, reply = std::move(reply)]() mutable {
      if (reply.error != OfflineError::ok) return responder.Send(OfflineRefusal(reply));
      on_reply(reply);
    });
  };
  boost::asio::post(offline_pool_,
                    [this, command = std::move(command), done = std::move(done)]() mutable {
                      engine_.SubmitOffline(std::move(command), std::move(done));
                    });
}

void Service::OfflineRoute(const RequestContext& context, const Responder& responder) {
  switch (context.match.route) {
    case Route::offline_issuer_keys:
      return IssuerKeys(responder);
    case Route::offline_devices_enroll:
      return EnrollDevice(context, responder);
    case Route::offline_device_get:
      return GetDevice(context, responder);
    case Route::offline_device_sync:
      return SyncDevice(context, responder);
    case Route::offline_device_revoke:
      return IdAction(context, responder, engine::OfflineCommandKind::revoke_device,
                      &engine::OfflineCommand::device_id, "device_id", "revoked", true);
    case Route::offline_terminals_register:
      return RegisterTerminal(context, responder);
    case Route::offline_terminal_deactivate:
      return IdAction(context, responder, engine::OfflineCommandKind::deactivate_terminal,
                      &engine::OfflineCommand::terminal_id, "terminal_id", "active", false);
    case Route::offline_deny_list:
      return DenyList(context, responder);
    case Route::offline_batches_upload:
      return UploadBatch(context, responder);
    case Route::offline_exceptions:
      return Exceptions(context, responder);
    case Route::offline_exception_resolve:
      return ResolveException(context, responder);
    default:
      TPW_ASSERT(false && "OfflineRoute needs an offline route");
  }
}

void Service::ReserveBalance(AccountId account, const Responder& responder,
                             std::function<void(Amount)> then) {
  engine::Request lookup;
  lookup.kind = engine::RequestKind::lookup_accounts;
  lookup.ids = {account.value};
  Call(std::move(lookup), responder, [then = std::move(then)](engine::Reply& reply) {
    then(reply.accounts.empty() ? Amount::Zero() : cli::AvailableBalanceOf(reply.accounts[0]));
  });
}

void Service::IssuerKeys(const Responder& responder) {
  engine::OfflineCommand command;
  command.kind = engine::OfflineCommandKind::issuer_keys;
  CallOffline(std::move(command), responder, [responder](engine::OfflineReply& reply) {
    bj::array keys;
    for (const auto& [key_id, public_key] : reply.issuer_keys) {
      bj::object key;
      key["key_id"] = key_id;
      key["public_key"] = cli::HexOf(public_key);
      key["public_key_base64url"] = cli::Base64Url(public_key);
      keys.push_back(std::move(key));
    }
    bj::object out;
    out["issuer_keys"] = std::move(keys);
    responder.Send(JsonBody(http::status::ok, out));
  });
}

void Service::EnrollDevice(const RequestContext& context, const Responder& responder) {
  ApiResult<engine::OfflineCommand> command = DecodeEnrollBody(context.request.body(), assets_);
  if (!command.ok()) return responder.Send(ErrorResponse(command.error()));
  const AccountId user = command.value().user_account;
  CallOffline(command.value(), responder, [this, responder, user](engine::OfflineReply& reply) {
    auto cert = offline::DecodeCertificate(reply.certificate);
    TPW_ASSERT(cert.ok());  // the engine just encoded it
    const offline::DeviceCertificate c = cert.value();
    ReserveBalance(AccountId(c.reserve_account_id), responder,
                   [this, responder, c, user, bytes = reply.certificate](Amount balance) {
                     bj::object out = cli::EnrollmentToJson(c, bytes, user, balance, assets_);
                     cli::PutAmount(out, "funded", assets_, c.asset, c.allowance);
                     responder.Send(JsonBody(http::status::created, out));
                   });
  });
}

void Service::GetDevice(const RequestContext& context, const Responder& responder) {
  ApiResult<u128> id = DecodePathId(context.match.id);
  if (!id.ok()) return responder.Send(ErrorResponse(id.error()));
  engine::OfflineCommand command;
  command.kind = engine::OfflineCommandKind::device_info;
  command.device_id = id.value();
  CallOffline(std::move(command), responder, [this, responder](engine::OfflineReply& reply) {
    const offline::DeviceRecord device = *reply.device;
    const offline::CertificateRecord record = *reply.current_certificate;
    ReserveBalance(
        device.reserve_account, responder, [this, responder, device, record](Amount balance) {
          responder.Send(
              JsonBody(http::status::ok, cli::DeviceToJson(device, record, balance, assets_)));
        });
  });
}

void Service::SyncDevice(const RequestContext& context, const Responder& responder) {
  ApiResult<u128> id = DecodePathId(context.match.id);
  if (!id.ok()) return responder.Send(ErrorResponse(id.error()));
  ApiResult<SyncBody> body = DecodeSyncBody(context.request.body(), id.value());
  if (!body.ok()) return responder.Send(ErrorResponse(body.error()));
  // The new limits are amounts of the device's asset: read it first.
  engine::OfflineCommand info;
  info.kind = engine::OfflineCommandKind::device_info;
  info.device_id = id.value();
  CallOffline(
      std::move(info), responder,
      [this, responder, body = body.value()](engine::OfflineReply& device) {
        engine::OfflineCommand c = body.command;
        c.asset = device.current_certificate->certificate.asset;
        cli::InputResult<engine::OfflineCommand> command =
            cli::ApplySyncLimits(body.limits, c, assets_, cli::InputNaming::json_field);
        if (!command.ok()) {
          return responder.Send(ErrorResponse(InvalidBody(command.error().message)));
        }
        CallOffline(command.value(), responder, [this, responder](engine::OfflineReply& reply) {
          auto statement = offline::DecodeSyncStatement(reply.sync_statement);
          TPW_ASSERT(statement.ok());  // the engine just encoded it
          responder.Send(JsonBody(http::status::ok,
                                  cli::SyncStatementToJson(statement.value(), reply.sync_statement,
                                                           reply.certificate, assets_)));
        });
      });
}

void Service::IdAction(const RequestContext& context, const Responder& responder,
                       engine::OfflineCommandKind kind, u128 engine::OfflineCommand::*id_field,
                       std::string_view id_key, std::string_view flag, bool flag_value) {
  ApiResult<u128> id = DecodePathId(context.match.id);
  if (!id.ok()) return responder.Send(ErrorResponse(id.error()));
  if (auto empty = DecodeEmptyBody(context.request.body()); !empty.ok()) {
    return responder.Send(ErrorResponse(empty.error()));
  }
  engine::OfflineCommand command;
  command.kind = kind;
  command.*id_field = id.value();
  CallOffline(std::move(command), responder,
              [responder, id = id.value(), id_key = std::string(id_key), flag = std::string(flag),
               flag_value](engine::OfflineReply&) {
                bj::object out;
                out[id_key] = FormatId(id);
                out[flag] = flag_value;
                responder.Send(JsonBody(http::status::ok, out));
              });
}

void Service::RegisterTerminal(const RequestContext& context, const Responder& responder) {
  ApiResult<engine::OfflineCommand> command = DecodeTerminalBody(context.request.body());
  if (!command.ok()) return responder.Send(ErrorResponse(command.error()));
  const engine::OfflineCommand c = command.value();
  CallOffline(c, responder, [responder, c](engine::OfflineReply&) {
    responder.Send(JsonBody(http::status::created,
                            cli::TerminalToJson(c.terminal_id, c.merchant_id, c.settlement_account,
                                                c.public_key, true)));
  });
}

void Service::DenyList(const RequestContext& context, const Responder& responder) {
  ApiResult<uint64_t> since = DecodeDenyListQuery(context.match.query);
  if (!since.ok()) return responder.Send(ErrorResponse(since.error()));
  engine::OfflineCommand command;
  command.kind = engine::OfflineCommandKind::deny_list;
  command.since_version = since.value();
  const bool binary = WantsBinary(context.request);
  CallOffline(std::move(command), responder, [responder, binary](engine::OfflineReply& reply) {
    if (binary) {
      HttpResponse response{http::status::ok, 11};
      response.set(http::field::content_type, "application/octet-stream");
      response.body().assign(reply.deny_list.begin(), reply.deny_list.end());
      response.prepare_payload();
      return responder.Send(std::move(response));
    }
    auto list = offline::DecodeDenyList(reply.deny_list);
    TPW_ASSERT(list.ok());  // the engine just encoded it
    responder.Send(JsonBody(http::status::ok, cli::DenyListToJson(list.value(), reply.deny_list)));
  });
}

void Service::UploadBatch(const RequestContext& context, const Responder& responder) {
  const bool binary = !IsJsonContentType(context.request[http::field::content_type]);
  ApiResult<std::vector<uint8_t>> bytes = DecodeBatchUpload(context.request.body(), binary);
  if (!bytes.ok()) return responder.Send(ErrorResponse(bytes.error()));
  engine::OfflineCommand command;
  command.kind = engine::OfflineCommandKind::submit_batch;
  command.batch_bytes = std::move(bytes).value();
  auto batch_bytes = std::make_shared<const std::vector<uint8_t>>(command.batch_bytes);
  CallOffline(std::move(command), responder,
              [this, responder, batch_bytes](engine::OfflineReply& reply) {
                auto batch = offline::DecodeBatch(*batch_bytes);  // the engine decoded it too
                bj::object out = cli::BatchOutcomesToJson(batch.ok() ? &batch.value() : nullptr,
                                                          reply.outcomes, assets_);
                out["repeated"] = reply.batch_repeated;
                responder.Send(JsonBody(http::status::ok, out));
              });
}

void Service::Exceptions(const RequestContext& context, const Responder& responder) {
  ApiResult<ExceptionsQuery> query = DecodeExceptionsQuery(context.match.query);
  if (!query.ok()) return responder.Send(ErrorResponse(query.error()));
  const ExceptionsQuery& q = query.value();
  engine::OfflineCommand command;
  command.kind = engine::OfflineCommandKind::list_exceptions;
  command.exceptions_filter = offline::ExceptionFilter{
      q.status, q.classification, q.device_id, q.terminal_id, q.after, q.limit, kExceptionsScanMax};
  CallOffline(std::move(command), responder, [this, responder](engine::OfflineReply& reply) {
    bj::array items;
    items.reserve(reply.exceptions.size());
    for (const offline::ExceptionRecord& e : reply.exceptions) {
      items.push_back(cli::ExceptionToJson(e, assets_));
    }
    bj::object out;
    out["exceptions"] = std::move(items);
    out["next_cursor"] = reply.exceptions_next_after == 0
                             ? bj::value(nullptr)
                             : bj::value(std::to_string(reply.exceptions_next_after));
    responder.Send(JsonBody(http::status::ok, out));
  });
}

void Service::ResolveException(const RequestContext& context, const Responder& responder) {
  ApiResult<uint64_t> id = DecodeExceptionId(context.match.id);
  if (!id.ok()) return responder.Send(ErrorResponse(id.error()));
  ApiResult<engine::OfflineCommand> command = DecodeResolveBody(context.request.body(), id.value());
  if (!command.ok()) return responder.Send(ErrorResponse(command.error()));
  CallOffline(command.value(), responder, [this, responder](engine::OfflineReply& reply) {
    TPW_ASSERT(reply.exceptions.size() == 1);
    bj::object out;
    out["exception"] = cli::ExceptionToJson(reply.exceptions[0], assets_);
    responder.Send(JsonBody(http::status::ok, out));
  });
}

}  // namespace tpw::api
