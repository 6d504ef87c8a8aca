// Where the payments commands run (`tpwallet payments|customers|coupons|fx|points ...`): on a
// running `tpwallet serve` (--server URL, as the ledger commands), or on the data directory's
// engine. Either way the request is the payments API's own (method, target, JSON body) and the
// answer its own (status, JSON): locally it goes through the server's decoder and renderer
// (api/payments_body.h, api/payments_json.h), so a command prints the same thing and exits with
// the same code on both paths.
#pragma once

#include <string>

#include "cli/session.h"

namespace tpw::cli {

enum class ApiMethod : uint8_t { get, post, put };

struct ApiAnswer {
  unsigned status = 0;
  std::string body;
  std::string retry_after;
};

// Runs one payments API request. A remote POST carries the invocation's Idempotency-Key
// (--idempotency-key, else a fresh one) and is retried once under it on a connection failure.
// An error here is a failure to get an answer (no server, a locked or damaged data directory);
// an answer with an error status is returned as is (AnswerFailure reads it).
CommandResult<ApiAnswer> CallPaymentsApi(const CommonOptions& options, ApiMethod method,
                                         const std::string& target, const std::string& body);

// The CommandError of an error answer (status >= 400): the exit codes of docs/cli.md, with a
// payment refused for risk or funds (402) exit 10 and a refused state change or ledger
// refusal (409, 422) exit 1.
CommandError AnswerFailure(const CommonOptions& options, const ApiAnswer& answer);

}  // namespace tpw::cli
