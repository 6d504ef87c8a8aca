// Request bodies and query strings of the offline-payment and API-key endpoints → engine
// commands (docs/api.md, "Offline payments", "API keys"). Pure functions, strict like body.h:
// unknown or repeated keys, wrong JSON types, fractions or exponents where an integer is due,
// malformed base64url and messages of the wrong size are 400s naming the field. The value
// checks are the CLI's (cli/offline_input.h, cli/key_values.h), with JSON field names.
// fuzz/api_body_fuzz.cc feeds them garbage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/access.h"
#include "api/body.h"
#include "cli/offline_input.h"
#include "common/asset.h"
#include "engine/offline.h"

namespace tpw::api {

// The largest terminal batch message: header, kBatchTokensMax tokens, signature.
inline constexpr size_t kBatchMessageBytesMax =
    offline::kBatchHeaderBytes + size_t{offline::kBatchTokensMax} * offline::kTokenBytes +
    offline::kSignatureBytes;
// Exceptions one page holds at most, and by default.
inline constexpr uint32_t kExceptionsPageMax = 1000;
inline constexpr uint32_t kExceptionsPageDefault = 100;
// Records one exceptions page looks at, at most (the sequencer does the scan): a page with a
// rare filter may come back short, even empty, with a next_cursor to go on from.
inline constexpr uint64_t kExceptionsScanMax = 65536;

// POST /v1/offline/devices: an enroll_device command.
ApiResult<engine::OfflineCommand> DecodeEnrollBody(std::string_view body, const AssetTable& assets);

// POST /v1/offline/devices/{id}/sync: the device's signed declaration (the wallet's sync
// request, base64url of device id || serial || last counter used || signature, 96 bytes) and
// new limits, which are read once the device's asset is known (cli::ApplySyncLimits).
struct SyncBody {
  engine::OfflineCommand command;  // sync_device: device id, last counter, signature
  uint64_t serial = 0;             // the certificate the device declared for
  cli::SyncLimitsText limits;
};
ApiResult<SyncBody> DecodeSyncBody(std::string_view body, u128 path_device_id);

// POST /v1/offline/terminals: a register_terminal command.
ApiResult<engine::OfflineCommand> DecodeTerminalBody(std::string_view body);

// POST /v1/offline/exceptions/{id}/resolve: {"resolution": "rejected"} or
// {"resolution": "paid_from_guarantee", "guarantee_account_id": "300"}.
ApiResult<engine::OfflineCommand> DecodeResolveBody(std::string_view body, uint64_t exception_id);

// POST /v1/offline/batches: the signed batch message, sent as is (`binary`: Content-Type
// application/octet-stream) or as {"batch": "<base64url>"}. Only the size and the text form are
// checked here; the engine decodes and verifies the message (400 malformed from there).
ApiResult<std::vector<uint8_t>> DecodeBatchUpload(std::string_view body, bool binary);

// The body of an action without parameters (revoke, deactivate): empty or {}.
ApiResult<bool> DecodeEmptyBody(std::string_view body);

// GET /v1/offline/deny-list?since=VERSION: 0 (absent) = the full list, else a delta.
ApiResult<uint64_t> DecodeDenyListQuery(std::string_view query);

// GET /v1/offline/exceptions: filters and a page.
struct ExceptionsQuery {
  std::optional<offline::ExceptionRecord::Status> status;  // nullopt with status=all
  std::optional<offline::Classification> classification;
  std::optional<u128> device_id;
  std::optional<u128> terminal_id;
  uint32_t limit = kExceptionsPageDefault;
  uint64_t after = 0;  // exception id cursor: ids above it
};
ApiResult<ExceptionsQuery> DecodeExceptionsQuery(std::string_view query);

// A decimal exception id in the path (1..2^64-1).
ApiResult<uint64_t> DecodeExceptionId(std::string_view text);

// POST /v1/api-keys: {"scope", "name", "rate_per_second"?, "merchant_account_ids"?}.
struct NewApiKey {
  access::Scope scope = access::Scope::auditor;
  std::string name;
  uint32_t rate_per_second = 0;  // 0 = the server's default
  std::vector<AccountId> merchant_accounts;  // ascending; empty = unbound (merchant scope only)
};
ApiResult<NewApiKey> DecodeApiKeyBody(std::string_view body);
// An API key id in the path: its 16 lowercase hex digits.
ApiResult<uint64_t> DecodeKeyId(std::string_view text);

}  // namespace tpw::api
