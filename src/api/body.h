// Request bodies, path ids and query strings → what the engine takes. Pure functions (no I/O,
// no engine), strict like the CLI's batch files whose field names and value syntax they share
// (cli/batch_input.h, cli/query.h): unknown or repeated keys, wrong JSON types, numbers with a
// fraction or exponent where an integer is due, and amounts that are not decimal strings are
// 400s naming the field. fuzz/api_body_fuzz.cc feeds them garbage.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "cli/batch_input.h"
#include "cli/query.h"
#include "common/asset.h"
#include "common/int128.h"
#include "common/result.h"
#include "ledger/types.h"

namespace tpw::api {

// Nesting a request body may have: {"transfers":[{"flags":[...]}]} needs 4.
inline constexpr size_t kJsonDepthMax = 16;

template <typename T>
using ApiResult = Result<T, ApiError>;

// POST /v1/accounts: {"accounts": [account, ...]}, 1..8189 accounts.
ApiResult<std::vector<ledger::Account>> DecodeAccountsBody(std::string_view body,
                                                           const AssetTable& assets);
// POST /v1/transfers: one transfer object.
ApiResult<cli::TransferDraft> DecodeTransferBody(std::string_view body, const AssetTable& assets);
// POST /v1/transfers/batch: {"transfers": [transfer, ...]}, 1..8189 transfers.
ApiResult<std::vector<cli::TransferDraft>> DecodeTransfersBatchBody(std::string_view body,
                                                                    const AssetTable& assets);

// A {id} path segment: an id in the text form of docs/ids.md.
ApiResult<u128> DecodePathId(std::string_view text);

// GET /v1/accounts/{id}/transfers (with_transfer_filters: code, debits, credits) and
// /balances: from, to, limit, after, reverse.
ApiResult<cli::AccountQuery> DecodeAccountQuery(std::string_view id, std::string_view query,
                                                bool with_transfer_filters);

// A body as JSON: valid UTF-8, at most kJsonDepthMax deep, nothing after the value, no key
// repeated in an object (400 malformed_json / invalid_body otherwise).
ApiResult<boost::json::value> ParseJsonBody(std::string_view body);
// A query string's parameters, %-decoded, in order: each must be in `known`, given once and
// with a value (400 invalid_parameter otherwise).
ApiResult<std::vector<std::pair<std::string, std::string>>> ParseQueryParams(
    std::string_view query, std::span<const std::string_view> known);

// %XX-decoding of a query component ('+' is a space when plus_is_space) or a path segment;
// nullopt for a bad escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// A 400 with code invalid_parameter (a query parameter or path segment).
ApiError InvalidParameter(std::string message, std::string param);
// A 400 with code invalid_body (the message and param say what is wrong).
ApiError InvalidBody(std::string message, std::string param = {});

}  // namespace tpw::api
