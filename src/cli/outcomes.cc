#include "cli/outcomes.h"

#include <boost/json/array.hpp>

#include "common/assert.h"
#include "ledger/results.h"

namespace tpw::cli {
namespace {

template <typename Event, typename ResultT>
std::vector<EventOutcome> Outcomes(const std::vector<Event>& events,
                                   const std::vector<uint32_t>& lines,
                                   const std::vector<ResultT>& results) {
  TPW_ASSERT(lines.empty() || lines.size() == events.size());
  using Code = decltype(ResultT{}.result);
  std::vector<Code> codes(events.size(), Code::created);
  for (const ResultT& r : results) {
    TPW_ASSERT(r.index < events.size());
    codes[r.index] = r.result;
  }
  std::vector<EventOutcome> outcomes;
  outcomes.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    outcomes.push_back(EventOutcome{lines.empty() ? 0 : lines[i], FormatId(events[i].id),
                                    std::string(ledger::ResultName(codes[i])),
                                    static_cast<uint32_t>(codes[i]),
                                    std::string(ledger::ResultMessage(codes[i])),
                                    ledger::IsSuccess(codes[i])});
  }
  return outcomes;
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

OutcomeCounts CountOutcomes(const std::vector<EventOutcome>& outcomes) {
  OutcomeCounts counts;
  for (const EventOutcome& o : outcomes) {
    if (!o.success) {
      ++counts.failed;
    } else if (o.result == "created") {
      ++counts.created;
    } else {
      ++counts.exists;
    }
  }
  return counts;
}

boost::json::object OutcomesToJson(std::string_view noun,
                                   const std::vector<EventOutcome>& outcomes) {
  boost::json::array results;
  results.reserve(outcomes.size());
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
  const OutcomeCounts counts = CountOutcomes(outcomes);
  boost::json::object out;
  out["kind"] = std::string(noun) + "s";
  out["events"] = outcomes.size();
  out["created"] = counts.created;
  out["exists"] = counts.exists;
  out["failed"] = counts.failed;
  out["results"] = std::move(results);
  return out;
}

}  // namespace tpw::cli
