// The outcome of each event of a write (create accounts, create transfers): created, exists, or
// the failure with its result code and the ledger's sentence. Shared by the CLI (--json) and the
// HTTP API, so both print the same result objects (docs/cli.md "JSON output", docs/api.md).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger.h"

namespace tpw::cli {

struct EventOutcome {
  uint32_t line = 0;  // line in the batch file; 0 for the command line and the API
  std::string id;
  std::string result;  // the result code's name: "created", "exists", "exceeds_credits", ...
  uint32_t result_code = 0;
  std::string message;
  bool success = true;  // created or exists
};

// Expands the ledger's sparse results (only non-`created` events) to one outcome per event.
// `lines` is parallel to the events, or empty (no lines: the API).
std::vector<EventOutcome> AccountOutcomes(const std::vector<ledger::Account>& accounts,
                                          const std::vector<uint32_t>& lines,
                                          const std::vector<ledger::CreateAccountsResult>& results);
std::vector<EventOutcome> TransferOutcomes(
    const std::vector<ledger::Transfer>& transfers, const std::vector<uint32_t>& lines,
    const std::vector<ledger::CreateTransfersResult>& results);

struct OutcomeCounts {
  size_t created = 0;
  size_t exists = 0;
  size_t failed = 0;
};
OutcomeCounts CountOutcomes(const std::vector<EventOutcome>& outcomes);

// {"kind": noun + "s", "events", "created", "exists", "failed", "results": [{"index", "line",
// "id", "result", "result_code", "message", "ok"}...]}. `line` is null when it is 0.
boost::json::object OutcomesToJson(std::string_view noun, const std::vector<EventOutcome>& outcomes);
// The same, serialized (byte for byte what boost::json::serialize of OutcomesToJson gives), written
// directly: the API answers batches of up to 8189 events with it, where building the tree cost
// about a tenth of the server's CPU per transfer.
std::string OutcomesJsonText(std::string_view noun, const std::vector<EventOutcome>& outcomes);

}  // namespace tpw::cli
