// Batch files for `account create --file` and `transfer --file`: JSON lines, one event per line
// (format in docs/cli.md). Reading is bounded (line length, event count) and strict: unknown or
// repeated keys, wrong JSON types, fractional or negative numbers and truncated lines are
// errors naming the file and line, and a file with any bad line is refused whole.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/values.h"
#include "common/asset.h"
#include "common/limits.h"
#include "ledger/types.h"

namespace tpw::cli {

// Longest line a batch file may hold (a full transfer line with every field is ~600 bytes).
inline constexpr size_t kBatchLineBytesMax = 4096;
// Whole file, so a runaway input is refused before it is read into memory.
inline constexpr size_t kBatchFileBytesMax = kBatchEventsMax * kBatchLineBytesMax;

struct BatchLine {
  uint32_t number = 0;  // 1-based line number in the file
  std::string text;
};

// Reads `path` ("-" = standard input) into its non-blank lines: at most kBatchEventsMax, each at
// most kBatchLineBytesMax bytes. An empty file is an error (a batch needs an event).
InputResult<std::vector<BatchLine>> ReadBatchFile(const std::string& path);

// An amount as the user wrote it; it is read once the asset it is in is known (a post may take
// its ledger from the pending transfer).
struct AmountText {
  std::string text;
  bool minor_units = false;  // plain minor units instead of the asset's decimals
};

// A transfer from the command line or a file, before its amount is read.
struct TransferDraft {
  uint32_t line = 0;  // line in the batch file; 0 for the command line
  ledger::Transfer transfer;
  std::optional<AmountText> amount;  // nullopt: not given
};

bool IsPostOrVoid(const ledger::Transfer& transfer);

// Fills draft.transfer.amount, reading the text at the scale of `amount_ledger` (the transfer's
// ledger, or for a post/void without one, the pending transfer's). Without an amount: a post
// posts the full pending amount, a void sends 0, anything else is an error.
InputResult<ledger::Transfer> ResolveTransferAmount(const TransferDraft& draft,
                                                    uint32_t amount_ledger,
                                                    const AssetTable& assets);

// A post or void whose amount is written as a decimal without a ledger is read in the pending
// transfer's asset: from an earlier event of the same batch, or else from the ledger. These are
// the pending ids to look up for that (each once, in batch order).
std::vector<TransferId> PendingLedgersToLookUp(const std::vector<TransferDraft>& drafts);

// Why a draft of a batch could not be resolved: `index` in the batch; `pending_not_found` when
// the pending transfer whose asset the amount needs is unknown.
struct DraftError {
  size_t index = 0;
  bool pending_not_found = false;
  std::string message;
};

// Reads every draft's amount in the right asset. `stored_ledgers` maps each looked-up pending
// id (PendingLedgersToLookUp) that exists to its ledger.
Result<std::vector<ledger::Transfer>, DraftError> ResolveTransferDrafts(
    const std::vector<TransferDraft>& drafts, const std::map<u128, uint32_t>& stored_ledgers,
    const AssetTable& assets);

// The first key repeated inside one JSON object of `text`, if any (boost::json keeps the last
// of repeated keys; {"amount":"1","amount":"1000"} must not quietly mean 1000).
std::optional<std::string> FindRepeatedKey(std::string_view text);

// Parses `text` as one JSON document (values allocated from `storage`) and refuses a key repeated
// in one object, in one pass. On failure `error` is set and `repeated_key` names the key if a
// repeat was the cause (empty for other malformed JSON).
struct StrictJson {
  boost::json::value value;
  boost::json::error_code error;
  std::string repeated_key;
};
StrictJson ParseJsonRejectingRepeatedKeys(std::string_view text, boost::json::storage_ptr storage,
                                          const boost::json::parse_options& options);

// An already parsed JSON object → an account / a transfer draft: the fields of a batch line
// (unknown keys and wrong types are errors). The fields are read by json_fields.h, which the
// API uses on its one-pass JsonTape for the same request bodies.
InputResult<ledger::Account> AccountFromJson(const boost::json::object& object,
                                             const AssetTable& assets);
InputResult<TransferDraft> TransferDraftFromJson(const boost::json::object& object,
                                                 const AssetTable& assets);

// One JSON line → an account (every field; amounts read in the account's ledger).
InputResult<ledger::Account> ParseAccountLine(std::string_view text, const AssetTable& assets);
// One JSON line → a transfer draft (the amount stays text until its ledger is known).
InputResult<TransferDraft> ParseTransferLine(std::string_view text, const AssetTable& assets);

}  // namespace tpw::cli
