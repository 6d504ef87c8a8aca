// Risk events as JSON (docs/risk-rules.md, "Fields of the payment"): the one decoder that
// `tpwallet risk evaluate` and POST /v1/risk/evaluate share, so both take the same fields.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "common/ids.h"
#include "risk/event.h"

namespace tpw::cli {

// Decodes a payment event: amount and asset required, every other field optional, unknown
// fields refused. `time` is set only when the object has "time". False with `error` (a sentence
// naming the field) on anything wrong.
bool RiskEventFromJson(const boost::json::object& o, risk::Event& event,
                       std::optional<Timestamp>& time, std::string& error);

// Reads a file whole (at most `bytes_max` bytes). False with `error` (what went wrong and what
// to do) when it cannot be read or is too large.
bool ReadTextFile(const std::string& path, size_t bytes_max, std::string& text, std::string& error);
// ReadTextFile of a rules file (at most risk::kRulesFileBytesMax bytes).
bool ReadRulesFile(const std::string& path, std::string& text, std::string& error);

}  // namespace tpw::cli
