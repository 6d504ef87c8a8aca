// Talking to a running `tpwallet serve` for the commands that only work there (webhooks,
// events) and for the ledger commands' remote backend: the API's answers read as JSON, its
// error bodies and transport failures turned into CommandErrors with the exit codes of
// docs/cli.md (a missing or refused key 12, a scope 12, unreachable or 5xx 9, 404 3, other 4xx
// 2).
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "cli/http_client.h"
#include "cli/session.h"

namespace tpw::cli {

// 128 random bits, unique per invocation ("tpwallet-cli-…").
std::string NewIdempotencyKey();
// A server's error answer (status and body) as the CommandError the local command would report:
// 401/403 exit 12, 402 (a payment declined) exit 10, 404 not_found exit 3, other 4xx exit 2,
// 429/5xx exit 9 (storage_failed exit 6). `server` names it in the message of a non-API answer.
CommandError ServerAnswerError(unsigned status, std::string_view body,
                               const std::string& retry_after, const std::string& server);
CommandError ServerAnswerError(const HttpAnswer& answer, const ServerUrl& url);
// A 2xx answer this program cannot read (not JSON, a field missing).
CommandError UnreadableServerAnswer(const ServerUrl& url, const std::string& why);
// No answer: what may have happened and what to do (`post`: rerun with `idempotency_key`).
CommandError TransportFailureOf(const TransportError& error, bool post,
                                const std::string& idempotency_key);
// The JSON of a 2xx answer, or the error the answer (or its absence) means.
CommandResult<boost::json::value> JsonAnswer(const Result<HttpAnswer, TransportError>& answer,
                                             bool post, const ServerUrl& url,
                                             const std::string& idempotency_key);

// JSON calls on one keep-alive connection. One POST per invocation: its Idempotency-Key is the
// invocation's (--idempotency-key, else a fresh one), retried once under it on a failed
// connection, so the server runs it at most once.
class ApiCaller {
 public:
  // Refuses (usage error, exit 2) when no server was given: `commands` names the commands in
  // the message ("webhooks").
  static CommandResult<std::unique_ptr<ApiCaller>> Open(const CommonOptions& options,
                                                        std::string_view commands);

  CommandResult<boost::json::value> Get(const std::string& target);
  CommandResult<boost::json::value> Post(const std::string& target, const std::string& body);
  CommandResult<boost::json::value> Delete(const std::string& target);

  const ServerUrl& url() const { return client_.url(); }
  const ServerOptions& options() const { return options_; }

 private:
  ApiCaller(ServerUrl url, const ServerOptions& options);

  ServerOptions options_;
  HttpClient client_;
  const std::string idempotency_key_;
  bool posted_ = false;
};

}  // namespace tpw::cli
