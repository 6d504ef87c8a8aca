#include "cli/outcomes.h"

#include <boost/json/array.hpp>

#include "cli/render.h"
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

std::string OutcomesJsonText(std::string_view noun, const std::vector<EventOutcome>& outcomes) {
  const OutcomeCounts counts = CountOutcomes(outcomes);
  std::string out;
  out.reserve(128 + outcomes.size() * 120);
  out += "{\"kind\":";
  AppendJsonString(out, std::string(noun) + "s");
  out += ",\"events\":" + std::to_string(outcomes.size());
  out += ",\"created\":" + std::to_string(counts.created);
  out += ",\"exists\":" + std::to_string(counts.exists);
  out += ",\"failed\":" + std::to_string(counts.failed);
  out += ",\"results\":[";
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const EventOutcome& o = outcomes[i];
    if (i != 0) out += ',';
    out += "{\"index\":";
    out += std::to_string(i);
    out += ",\"line\":";
    out += o.line != 0 ? std::to_string(o.line) : "null";
    out += ",\"id\":";
    AppendJsonString(out, o.id);
    out += ",\"result\":";
    AppendJsonString(out, o.result);
    out += ",\"result_code\":";
    out += std::to_string(o.result_code);
    out += ",\"message\":";
    AppendJsonString(out, o.message);
    out += o.success ? ",\"ok\":true}" : ",\"ok\":false}";
  }
  out += "]}";
  return out;
}

}  // namespace tpw::cli
