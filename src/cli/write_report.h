// What a write command (account create, transfer) prints: one outcome per event — created,
// exists, or the failure with its result code and the ledger's sentence — and the exit code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/outcomes.h"
#include "cli/session.h"
#include "ledger/ledger.h"

namespace tpw::cli {

// Prints the outcomes (`noun`: "account"/"transfer") and returns kExitOk when every event
// succeeded, kExitRejected otherwise.
int PrintOutcomes(const CommonOptions& options, std::string_view noun,
                  const std::vector<EventOutcome>& outcomes);

}  // namespace tpw::cli
