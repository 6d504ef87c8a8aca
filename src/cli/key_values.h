// API-key values as text and JSON, shared by `tpwallet apikey` and the HTTP API's
// /v1/api-keys (src/api): the same checks and the same fields either way. Pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "access/access.h"
#include "cli/values.h"

namespace tpw::cli {

// The largest rate limit of a key. The engine stores any 32-bit figure; past a million
// requests a second the limit no longer limits anything one server can serve, so a larger
// number is a typo.
inline constexpr uint64_t kRatePerSecondMax = 1'000'000;

// admin, merchant, terminal, device or auditor; `field` names the input in the error.
InputResult<access::Scope> ParseScopeText(std::string_view field, std::string_view text);
// A key's label: 1..kKeyNameBytesMax bytes of UTF-8 without control characters.
InputResult<std::string> ParseKeyName(std::string_view field, std::string_view text);
// Everything about a key except secrets: the same fields in every command's and endpoint's JSON.
boost::json::object KeyToJson(const access::ApiKey& key);

}  // namespace tpw::cli
