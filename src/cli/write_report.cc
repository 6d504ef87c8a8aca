#include "cli/write_report.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "cli/render.h"

namespace tpw::cli {
namespace {

template <typename Event, typename ResultT>
std::vector<EventOutcome> Outcomes(const std::vector<Event>& events,
                                   const std::vector<uint32_t>& lines,
                                   const std::vector<ResultT>& results) {
  TPW_ASSERT(lines.size() == events.size());
  using Code = decltype(ResultT{}.result);
  std::vector<Code> codes(events.size(), Code::created);
  for (const ResultT& r : results) {
    TPW_ASSERT(r.index < events.size());
    codes[r.index] = r.result;
  }
  std::vector<EventOutcome> outcomes;
  outcomes.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    outcomes.push_back(
        EventOutcome{lines[i], FormatId(events[i].id), std::string(ledger::ResultName(codes[i])),
                     static_cast<uint32_t>(codes[i]), std::string(ledger::ResultMessage(codes[i])),
                     ledger::IsSuccess(codes[i])});
  }
  return outcomes;
}

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

void PrintJsonOutcomes(std::string_view noun, const std::vector<EventOutcome>& outcomes,
                       size_t created, size_t exists, size_t failed) {
  boost::json::array results;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const EventOutcome& o = outcomes[i];
    boost::json::object item;
    item["index"] = i;
    if (o.line != 0) {
      item["line"] = o.line;
    } else {
      item["line"] = nullptr;
    }
    item["id"] = o.id;
    item["result"] = o.result;
    item["result_code"] = o.result_code;
    item["message"] = o.message;
    item["ok"] = o.success;
    results.push_back(std::move(item));
  }
  boost::json::object out;
  out["kind"] = std::string(noun) + "s";
  out["events"] = outcomes.size();
  out["created"] = created;
  out["exists"] = exists;
  out["failed"] = failed;
  out["results"] = std::move(results);
  PrintJson(out);
}

}  // namespace

std::vector<EventOutcome> AccountOutcomes(
    const std::vector<ledger::Account>& accounts, const std::vector<uint32_t>& lines,
    const std::vector<ledger::CreateAccountsResult>& results) {
  return Outcomes(accounts, lines, results);
}

std::vector<EventOutcome> TransferOutcomes(
    const std::vector<ledger::Transfer>& transfers, const std::vector<uint32_t>& lines,
    const std::vector<ledger::CreateTransfersResult>& results) {
  return Outcomes(transfers, lines, results);
}

int PrintOutcomes(const CommonOptions& options, std::string_view noun,
                  const std::vector<EventOutcome>& outcomes) {
  size_t created = 0;
  size_t exists = 0;
  size_t failed = 0;
  for (const EventOutcome& o : outcomes) {
    if (!o.success) {
      ++failed;
    } else if (o.result == "created") {
      ++created;
    } else {
      ++exists;
    }
  }
  if (options.json) {
    PrintJsonOutcomes(noun, outcomes, created, exists, failed);
  } else {
    PrintText(noun, outcomes, created, exists, failed);
  }
  if (failed != 0) {
    std::fprintf(stderr, "error: %zu of %s failed%s\n", failed,
                 Count(outcomes.size(), noun).c_str(),
                 failed < outcomes.size() ? " (the others were applied)" : "");
  }
  return failed == 0 ? kExitOk : kExitRejected;
}

}  // namespace tpw::cli
