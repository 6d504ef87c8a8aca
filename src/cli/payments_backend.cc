#include "cli/payments_backend.h"

#include "api/payments_body.h"
#include "api/payments_json.h"
#include "api/router.h"
#include "cli/api_caller.h"
#include "cli/backend.h"
#include "cli/commands.h"
#include "cli/http_client.h"
#include "cli/record_json.h"
#include "common/assert.h"

namespace tpw::cli {
namespace {

api::http::verb VerbOf(ApiMethod method) {
  switch (method) {
    case ApiMethod::post:
      return api::http::verb::post;
    case ApiMethod::put:
      return api::http::verb::put;
    case ApiMethod::get:
      break;
  }
  return api::http::verb::get;
}

ApiAnswer AnswerOf(const api::HttpResponse& response) {
  return ApiAnswer{response.result_int(), response.body(), ""};
}

// ---- Locally, on the data directory's engine ------------------------------------------------

CommandResult<payments::Reply> Execute(Session& session, payments::Command command) {
  engine::Reply reply = session.engine->ExecutePayments(std::move(command));
  if (std::optional<CommandError> failure = ReplyFailure(session, reply)) return Fail(*failure);
  TPW_ASSERT(reply.payments.has_value());
  return std::move(*reply.payments);
}

CommandResult<ApiAnswer> RunLocally(const CommonOptions& options, ApiMethod method,
                                    const std::string& target, const std::string& body) {
  const api::RouteMatch match = api::MatchRoute(VerbOf(method), target);
  TPW_ASSERT(api::IsPaymentsRoute(match.route) && "the commands build payments requests only");
  CommandResult<std::unique_ptr<Session>> opened = OpenSession(options);
  if (!opened.ok()) {
    CommandError error = opened.error();
    if (error.code == "locked") {
      error.message +=
          "; if `tpwallet serve` is running on this directory, give --server "
          "http://HOST:PORT (or set $" +
          std::string(kServerEnv) + ")";
    }
    return Fail(std::move(error));
  }
  Session& session = *opened.value();
  api::ApiResult<api::PaymentsCall> call =
      api::DecodePaymentsRequest(match.route, match.id, match.query, body, session.assets);
  if (!call.ok()) return AnswerOf(api::ErrorResponse(call.error()));
  api::PaymentsCall& c = call.value();
  if (c.amount_in_payment_asset.has_value()) {
    // A decimal amount is read in the payment's asset, as the server does.
    payments::Command lookup;
    lookup.kind = payments::CommandKind::get_payment;
    lookup.payment = c.command.payment;
    CommandResult<payments::Reply> found = Execute(session, std::move(lookup));
    if (!found.ok()) return Fail(found.error());
    if (!found.value().ok() || !found.value().payment) {
      return AnswerOf(api::PaymentErrorResponse(c.command.kind, found.value(), session.assets));
    }
    if (std::optional<api::ApiError> error =
            api::ResolvePaymentAmount(c, found.value().payment->asset, session.assets)) {
      return AnswerOf(api::ErrorResponse(*error));
    }
  }
  const payments::CommandKind kind = c.command.kind;
  CommandResult<payments::Reply> reply = Execute(session, std::move(c.command));
  if (!reply.ok()) return Fail(reply.error());
  return AnswerOf(api::PaymentsResponse(match.route, kind, reply.value(), session.assets));
}

// ---- Remotely, on a running server ------------------------------------------------------------

CommandResult<ApiAnswer> RunRemotely(const CommonOptions& options, ApiMethod method,
                                     const std::string& target, const std::string& body) {
  const ServerOptions& s = options.server;
  InputResult<ServerUrl> url = ParseServerUrl(s.url, "--server");
  if (!url.ok()) return Fail(UsageError(url.error().message));
  HttpClient client(url.value(), s.api_key, std::chrono::milliseconds(s.timeout_ms));
  const std::string key = s.idempotency_key.empty() ? NewIdempotencyKey() : s.idempotency_key;
  Result<HttpAnswer, TransportError> answer = method == ApiMethod::post
                                                  ? client.Post(target, body, key)
                                              : method == ApiMethod::put ? client.Put(target, body)
                                                                         : client.Get(target);
  if (!answer.ok()) {
    std::string message = answer.error().message;
    if (!answer.error().maybe_received) {
      message +=
          "; is `tpwallet serve` running there? Check --server / $" + std::string(kServerEnv);
    } else if (method == ApiMethod::post) {
      message +=
          "; the request may have been applied: rerun the same command with "
          "--idempotency-key " +
          key + " to get its answer (it will not run twice)";
    } else {
      message += "; retry";
    }
    return Fail(CommandError{kExitServer, "server", "connection_failed", std::move(message)});
  }
  return ApiAnswer{answer.value().status, std::move(answer.value().body),
                   std::move(answer.value().retry_after)};
}

}  // namespace

CommandResult<ApiAnswer> CallPaymentsApi(const CommonOptions& options, ApiMethod method,
                                         const std::string& target, const std::string& body) {
  if (!options.server.url.empty()) return RunRemotely(options, method, target, body);
  return RunLocally(options, method, target, body);
}

CommandError AnswerFailure(const CommonOptions& options, const ApiAnswer& answer) {
  const std::string where = options.server.url.empty() ? options.data_dir : options.server.url;
  CommandError error = ServerAnswerError(answer.status, answer.body, answer.retry_after, where);
  const bool refused = answer.status == 409 || answer.status == 422;
  if (refused && error.kind != "idempotency") {
    error.exit_code = kExitRejected;
    error.kind = "payment";
  }
  return error;
}

}  // namespace tpw::cli
