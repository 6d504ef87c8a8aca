// Risk endpoint inputs (docs/api.md, "Risk"): pure decoders like body.h, fuzzed by
// fuzz/api_body_fuzz.cc. Event fields are the CLI's (cli/risk_values.h).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "api/body.h"
#include "risk/event.h"

namespace tpw::api {

// Characters of a list name (risk::kNameLengthMax) and of a list item as text.
inline constexpr size_t kRiskListNameBytesMax = 64;
inline constexpr size_t kRiskListValueBytesMax = 64;

// POST /v1/risk/evaluate: one event object. "time" is refused: a dry run is judged at the
// server's clock, as a real decision would be.
ApiResult<risk::Event> DecodeRiskEventBody(std::string_view body);
// PUT /v1/risk/rules: the TOML text itself (Content-Type: application/toml) or
// {"rules": "<TOML text>"} (application/json). 415 for any other type; 400 when empty.
ApiResult<std::string> DecodeRiskRulesBody(std::string_view content_type, std::string_view body);
// POST /v1/risk/lists/{name}: {"value": "<item>"} (a string, or a non-negative integer id).
ApiResult<std::string> DecodeRiskListItemBody(std::string_view body);
// The {name} path segment: 1..64 of A-Z a-z 0-9 _ - (404 unknown_list otherwise, as for a name
// the rules do not declare).
ApiResult<std::string> DecodeRiskListName(std::string_view text);
// DELETE /v1/risk/lists/{name}/{value}: the two segments ("name/value"); the value is %-decoded.
ApiResult<std::pair<std::string, std::string>> DecodeRiskListItemPath(std::string_view text);

}  // namespace tpw::api
