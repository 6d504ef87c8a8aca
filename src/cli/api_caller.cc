#include "cli/api_caller.h"

#include <boost/json/parse.hpp>
#include <random>

#include "cli/backend.h"
#include "cli/commands.h"
#include "cli/record_json.h"
#include "common/assert.h"
#include "ledger/results.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

constexpr size_t kErrorBodyQuoteMax = 200;  // bytes of a non-API error page quoted in a message

std::optional<ledger::QueryError> QueryErrorNamed(std::string_view code) {
  for (unsigned value = 1; value <= UINT8_MAX; ++value) {
    const auto error = static_cast<ledger::QueryError>(value);
    if (ledger::ResultName(error) == code) return error;
  }
  return std::nullopt;
}

CommandError ServerError(std::string code, std::string message) {
  return CommandError{kExitServer, "server", std::move(code), std::move(message)};
}

// An error status with the API's error body, as the local command would report it.
CommandError FromApiError(unsigned status, const ApiErrorBody& e, const std::string& retry_after) {
  const std::string said = " (" + e.code + "): " + e.message;
  if (status == 401) {
    const std::string what = e.code == "missing_api_key"
                                 ? "no API key was sent and the server requires one"
                                 : "the server refused the API key" + said;
    return CommandError{kExitAccess, "auth", e.code,
                        what + ". Set $" + std::string(kApiKeyEnv) +
                            " (or --api-key) to a key made by `tpwallet apikey create`, or to "
                            "the admin key `tpwallet serve` printed on its first start"};
  }
  if (status == 403) {
    return CommandError{kExitAccess, "auth", e.code,
                        "the API key's scope may not do this" + said +
                            ". Use a key of a scope that may (docs/api.md, the scope table; the "
                            "ledger commands: merchant or admin, reads also auditor; webhooks: "
                            "admin), e.g. from `tpwallet apikey create --scope merchant`"};
  }
  if (status == 429) {
    return ServerError(e.code,
                       "the server's rate limit for this API key was reached; retry in " +
                           (retry_after.empty() ? std::string("a moment") : retry_after + " s") +
                           ", or use a key made with a higher --rate");
  }
  if (status == 402) return CommandError{kExitDeclined, "payment", e.code, e.message};
  if (status == 503 && e.code == "storage_failed") {
    return CommandError{kExitStorage, "engine", e.code, e.message};
  }
  if (status >= 500) return ServerError(e.code, "the server failed" + said);
  if (e.type == "idempotency_error") {
    return CommandError{kExitUsage, "idempotency", e.code,
                        e.message +
                            " (Idempotency-Key; leave out --idempotency-key for a fresh "
                            "one)"};
  }
  if (status == 404 && e.code == "route_not_found") {
    return ServerError(e.code, "the server has no such endpoint" + said +
                                   "; is it a tpwallet server of the same version?");
  }
  if (status == 404) return CommandError{kExitNotFound, "not_found", e.code, e.message};
  if (const std::optional<ledger::QueryError> query = QueryErrorNamed(e.code)) {
    return QueryErrorOf(*query);
  }
  if (status >= 400 && status < 500) {
    return CommandError{kExitUsage, "input", e.code, e.message};
  }
  return ServerError(e.code, "unexpected HTTP " + std::to_string(status) + said);
}

}  // namespace

std::string NewIdempotencyKey() {
  std::random_device random;
  std::string key = "tpwallet-cli-";
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) key += kHex[random() % 16];
  return key;
}

CommandError ServerAnswerError(unsigned status, std::string_view body,
                               const std::string& retry_after, const std::string& server) {
  if (const std::optional<ApiErrorBody> error = ParseApiErrorBody(body)) {
    return FromApiError(status, *error, retry_after);
  }
  return ServerError("unexpected_answer",
                     server + " answered HTTP " + std::to_string(status) +
                         " without an API error body: \"" +
                         std::string(body.substr(0, kErrorBodyQuoteMax)) +
                         "\"; is --server the address of `tpwallet serve`?");
}

CommandError ServerAnswerError(const HttpAnswer& answer, const ServerUrl& url) {
  return ServerAnswerError(answer.status, answer.body, answer.retry_after, url.text);
}

CommandError UnreadableServerAnswer(const ServerUrl& url, const std::string& why) {
  return ServerError("unexpected_answer", url.text +
                                              " answered something this tpwallet cannot "
                                              "read (" +
                                              why +
                                              "); is it a tpwallet server of the same version?");
}

CommandError TransportFailureOf(const TransportError& error, bool post,
                                const std::string& idempotency_key) {
  std::string message = error.message;
  if (!error.maybe_received) {
    message += "; is `tpwallet serve` running there? Check --server / $" + std::string(kServerEnv);
  } else if (post) {
    message +=
        "; the request may have been applied: rerun the same command with "
        "--idempotency-key " +
        idempotency_key + " to get its answer (it will not be applied twice)";
  } else {
    message += "; retry";
  }
  return ServerError("connection_failed", std::move(message));
}

// ---- ApiCaller --------------------------------------------------------------------------------

CommandResult<std::unique_ptr<ApiCaller>> ApiCaller::Open(const CommonOptions& options,
                                                          std::string_view commands) {
  if (options.server.url.empty()) {
    return Fail(UsageError("the " + std::string(commands) +
                           " commands talk to a running `tpwallet serve`: give --server URL (or "
                           "set $" + std::string(kServerEnv) + "), e.g. --server http://127.0.0.1:8080"));
  }
  InputResult<ServerUrl> url = ParseServerUrl(options.server.url, "--server");
  if (!url.ok()) return Fail(UsageError(url.error().message));
  return std::unique_ptr<ApiCaller>(new ApiCaller(std::move(url).value(), options.server));
}

ApiCaller::ApiCaller(ServerUrl url, const ServerOptions& options)
    : options_(options),
      client_(std::move(url), options.api_key, std::chrono::milliseconds(options.timeout_ms)),
      idempotency_key_(options.idempotency_key.empty() ? NewIdempotencyKey() : options.idempotency_key) {}

CommandResult<bj::value> JsonAnswer(const Result<HttpAnswer, TransportError>& answer, bool post,
                                    const ServerUrl& url, const std::string& idempotency_key) {
  if (!answer.ok()) return Fail(TransportFailureOf(answer.error(), post, idempotency_key));
  const HttpAnswer& a = answer.value();
  if (a.status < 200 || a.status > 299) return Fail(ServerAnswerError(a, url));
  bj::error_code ec;
  bj::value value = bj::parse(a.body, ec);
  if (ec) return Fail(UnreadableServerAnswer(url, "not JSON: " + ec.message()));
  return value;
}

CommandResult<bj::value> ApiCaller::Get(const std::string& target) {
  return JsonAnswer(client_.Get(target), false, client_.url(), idempotency_key_);
}

CommandResult<bj::value> ApiCaller::Post(const std::string& target, const std::string& body) {
  TPW_ASSERT(!posted_ && "one POST per invocation: its Idempotency-Key is the invocation's");
  posted_ = true;
  return JsonAnswer(client_.Post(target, body, idempotency_key_), true, client_.url(), idempotency_key_);
}

CommandResult<bj::value> ApiCaller::Delete(const std::string& target) {
  return JsonAnswer(client_.Delete(target), false, client_.url(), idempotency_key_);
}

}  // namespace tpw::cli
