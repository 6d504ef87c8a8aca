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

// GET /v1/accounts?ids=… and /v1/transfers?ids=…: 1..kLookupIdsPerRequestMax ids, comma-separated,
// each as in a path; each id once, in the order given (a repeat is dropped).
ApiResult<std::vector<u128>> DecodeLookupIds(std::string_view query);

// GET /v1/accounts/{id}/transfers (with_transfer_filters: code, debits, credits) and
// /balances: from, to, limit, after, reverse.
ApiResult<cli::AccountQuery> DecodeAccountQuery(std::string_view id, std::string_view query,
                                                bool with_transfer_filters);

// A body as JSON: valid UTF-8, at most kJsonDepthMax deep, nothing after the value, no key
// repeated in an object (400 malformed_json / invalid_body otherwise).
ApiResult<boost::json::value> ParseJsonBody(std::string_view body);
// ---- One-pass JSON for the request decoders -------------------------------------------------

// A body parsed in one pass (a boost::json::basic_parser handler) into a flat array of nodes in
// document order, strings unescaped into one arena: no value tree, so a small body costs two
// allocations instead of one per value. Accepts and refuses exactly what ParseJsonBody does,
// with the same errors (the payment decoders, payments_body.cc, and the account and transfer
// decoders read their bodies with it).
class JsonTape {
 public:
  enum class Kind : uint8_t { null, boolean, int64, uint64, float64, string, key, array, object };
  struct Node {
    Kind kind = Kind::null;
    bool boolean = false;
    uint32_t end = 0;     // the index past this value (past its items or members for a container)
    uint32_t count = 0;   // array: its items; object: its members
    uint32_t offset = 0;  // string, key: its bytes in the arena
    uint32_t bytes = 0;
    union {
      int64_t int64;
      uint64_t uint64;
      double float64;
    } number{0};
  };

  const Node& node(uint32_t index) const { return nodes_[index]; }
  std::string_view text(const Node& node) const {
    return std::string_view(arena_).substr(node.offset, node.bytes);
  }
  uint32_t size() const { return static_cast<uint32_t>(nodes_.size()); }

 private:
  friend class JsonTapeBuilder;
  friend std::optional<ApiError> ParseJsonTape(std::string_view body, JsonTape& tape);
  std::vector<Node> nodes_;  // nodes_[0] is the document's value
  std::string arena_;
};

// One value of a JsonTape (the tape must outlive it).
class JsonRef {
 public:
  using Kind = JsonTape::Kind;
  JsonRef(const JsonTape& tape, uint32_t index) : tape_(&tape), index_(index) {}

  Kind kind() const { return node().kind; }
  bool is(Kind kind) const { return node().kind == kind; }
  // The checks cli/json_fields.h reads fields with.
  bool is_string() const { return is(Kind::string); }
  bool is_int64() const { return is(Kind::int64); }
  bool is_uint64() const { return is(Kind::uint64); }
  bool is_array() const { return is(Kind::array); }
  bool is_object() const { return is(Kind::object); }
  std::string_view string() const { return tape_->text(node()); }  // string or key
  bool boolean() const { return node().boolean; }
  int64_t int64() const { return node().number.int64; }
  double float64() const { return node().number.float64; }
  uint64_t uint64() const { return node().number.uint64; }
  size_t size() const { return node().count; }  // items or members

  // An object's member `key` (keys are unique: the parse refused repeats).
  std::optional<JsonRef> Find(std::string_view key) const;
  // fn(key, value) for each member of an object, in order, while it returns true.
  template <typename Fn>
  void ForEachMember(Fn fn) const {
    for (uint32_t i = index_ + 1; i < node().end; i = tape_->node(i + 1).end) {
      if (!fn(JsonRef(*tape_, i).string(), JsonRef(*tape_, i + 1))) return;
    }
  }
  // fn(index, item) for each item of an array, in order, while it returns true.
  template <typename Fn>
  void ForEachItem(Fn fn) const {
    size_t n = 0;
    for (uint32_t i = index_ + 1; i < node().end; i = tape_->node(i).end) {
      if (!fn(n++, JsonRef(*tape_, i))) return;
    }
  }

 private:
  const JsonTape::Node& node() const { return tape_->node(index_); }
  const JsonTape* tape_;
  uint32_t index_;
};

// Parses `body` into `tape` with ParseJsonBody's checks and errors.
std::optional<ApiError> ParseJsonTape(std::string_view body, JsonTape& tape);
// The tape the request decoders parse into, one per thread, reused: a small body then parses
// without allocating (ParseJsonTape releases what a large body made it grow to). A decoder
// must be done with it before it decodes another body.
JsonTape& DecoderTape();
// Whether `ref` holds the same JSON as `value` (same kinds, numbers, strings, members in the same
// order): the tests and fuzz/payments_body_fuzz.cc hold the tape to the value tree with it.
bool SameJson(JsonRef ref, const boost::json::value& value);

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
