#include "cli/write_report.h"

#include <cstdio>

#include "cli/commands.h"
#include "cli/render.h"

namespace tpw::cli {
namespace {

// "1 transfer", "3 transfers".
std::string Count(size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

std::string Where(const EventOutcome& outcome, size_t index) {
  if (outcome.line == 0) return "";
  return "line " + std::to_string(outcome.line) + " (index " + std::to_string(index) + "): ";
}

void PrintText(std::string_view noun, const std::vector<EventOutcome>& outcomes, size_t created,
               size_t exists, size_t failed) {
  const bool batch = outcomes.size() > 1 || (outcomes.size() == 1 && outcomes[0].line != 0);
  if (batch) {
    std::printf("%s: %zu created, %zu already existed, %zu failed\n",
                Count(outcomes.size(), noun).c_str(), created, exists, failed);
  }
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const EventOutcome& o = outcomes[i];
    if (batch && o.result == "created") continue;  // the summary counts them
    const std::string where = Where(o, i);
    std::printf("%s%s%.*s %s: %s%s%s\n", batch ? "  " : "", where.c_str(),
                static_cast<int>(noun.size()), noun.data(), o.id.c_str(),
                o.success ? "" : "failed: ", o.result.c_str(),
                o.result == "created" ? "" : (" - " + o.message).c_str());
  }
}

}  // namespace

int PrintOutcomes(const CommonOptions& options, std::string_view noun,
                  const std::vector<EventOutcome>& outcomes) {
  const OutcomeCounts counts = CountOutcomes(outcomes);
  const size_t created = counts.created;
  const size_t failed = counts.failed;
  if (options.json) {
    PrintJson(OutcomesToJson(noun, outcomes));
  } else {
    PrintText(noun, outcomes, created, counts.exists, failed);
  }
  if (failed != 0) {
    std::fprintf(stderr, "error: %zu of %s failed%s\n", failed,
                 Count(outcomes.size(), noun).c_str(),
                 failed < outcomes.size() ? " (the others were applied)" : "");
  }
  return failed == 0 ? kExitOk : kExitRejected;
}

}  // namespace tpw::cli
