// What a write command (account create, transfer) prints: one outcome per event — created,
// exists, or the failure with its result code and the ledger's sentence — and the exit code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/session.h"
#include "ledger/ledger.h"

namespace tpw::cli {

struct EventOutcome {
  uint32_t line = 0;  // line in the batch file; 0 for the command line
  std::string id;
  std::string result;  // the result code's name: "created", "exists", "exceeds_credits", ...
  uint32_t result_code = 0;
  std::string message;
  bool success = true;  // created or exists
};

// Expands the ledger's sparse results (only non-`created` events) to one outcome per event.
// `lines` is parallel to the events.
std::vector<EventOutcome> AccountOutcomes(const std::vector<ledger::Account>& accounts,
                                          const std::vector<uint32_t>& lines,
                                          const std::vector<ledger::CreateAccountsResult>& results);
std::vector<EventOutcome> TransferOutcomes(
    const std::vector<ledger::Transfer>& transfers, const std::vector<uint32_t>& lines,
    const std::vector<ledger::CreateTransfersResult>& results);

// Prints the outcomes (`noun`: "account"/"transfer") and returns kExitOk when every event
// succeeded, kExitRejected otherwise.
int PrintOutcomes(const CommonOptions& options, std::string_view noun,
                  const std::vector<EventOutcome>& outcomes);

}  // namespace tpw::cli
