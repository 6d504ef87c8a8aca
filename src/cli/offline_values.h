// Offline-payment values as text and JSON, shared by the CLI's offline commands and the HTTP API
// (src/api), so both speak the same field names and syntax: keys, signatures and durations in,
// certificates, batch outcomes and clearing exceptions out. Pure functions; no engine.
#pragma once

#include <array>
#include <boost/json/object.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/values.h"
#include "common/asset.h"
#include "ledger/types.h"
#include "offline/clearing.h"
#include "offline/messages.h"

namespace tpw::cli {

// Longest --valid-for / --max-age: ten years, in milliseconds.
inline constexpr uint64_t kDurationMsMax = 10ull * 366 * 24 * 3600 * 1000;

// A 32-byte Ed25519 public key: 64 hex digits or 43 base64url characters.
InputResult<offline::Bytes32> ParsePublicKeyText(std::string_view field, std::string_view text);
// A 64-byte signature: 128 hex digits or 86 base64url characters.
InputResult<offline::Signature64> ParseSignatureText(std::string_view field, std::string_view text);
// A duration: digits and a unit, ms, s, m, h or d ("90s", "24h", "7d"); 1 ms .. kDurationMsMax.
InputResult<uint64_t> ParseDurationText(std::string_view field, std::string_view text);
// "1h30m" style is not accepted; this prints the largest exact unit: "24h", "90s", "1500ms".
std::string FormatDurationMs(uint64_t ms);
// A protocol time (ms since 1970) in UTC with milliseconds: "2026-01-31T12:00:00.000Z".
std::string FormatMsUtc(uint64_t ms);
std::string Base64Url(std::span<const uint8_t> bytes);
std::string HexOf(std::span<const uint8_t> bytes);
// The first 8 bytes of a token id in hex: enough to tell tokens apart in a table.
std::string ShortHex(std::span<const uint8_t> bytes);
bool IsZeroHash(const crypto::Hash256& hash);

boost::json::object CertificateToJson(const offline::DeviceCertificate& cert,
                                      const AssetTable& assets);

// A reserve account's available balance: credits posted - debits posted - debits pending
// (zero rather than negative).
Amount AvailableBalanceOf(const ledger::Account& account);

// What enrollment issued (`device enroll --json`, POST /v1/offline/devices).
boost::json::object EnrollmentToJson(const offline::DeviceCertificate& cert,
                                     std::span<const uint8_t> certificate_bytes,
                                     AccountId user_account, Amount reserve_balance,
                                     const AssetTable& assets);
// A device and its current certificate (`device show --json`, GET /v1/offline/devices/{id}).
boost::json::object DeviceToJson(const offline::DeviceRecord& device,
                                 const offline::CertificateRecord& record, Amount reserve_balance,
                                 const AssetTable& assets);
// A sync's statement (`device sync --json`, POST /v1/offline/devices/{id}/sync).
boost::json::object SyncStatementToJson(const offline::SyncStatement& statement,
                                        std::span<const uint8_t> statement_bytes,
                                        std::span<const uint8_t> certificate_bytes,
                                        const AssetTable& assets);
// A signed deny list or delta (`denylist export --json`, GET /v1/offline/deny-list).
boost::json::object DenyListToJson(const offline::DenyList& list, std::span<const uint8_t> bytes);

// open, paid_from_guarantee, rejected.
std::string_view ExceptionStatusName(offline::ExceptionRecord::Status status);
// One exceptions-queue entry (`clearing exceptions --json`, GET /v1/offline/exceptions).
boost::json::object ExceptionToJson(const offline::ExceptionRecord& e, const AssetTable& assets);
// The outcome of token `index` of an uploaded batch; `token` (nullptr if unknown) adds the
// device, counter and amount.
boost::json::object TokenOutcomeToJson(size_t index, const offline::TokenOutcome& outcome,
                                       const offline::PaymentToken* token,
                                       const AssetTable& assets);

// What an uploaded batch came to: tokens by classification and the cleared total.
struct BatchTotals {
  std::array<uint64_t, 6> counts{};  // by Classification value
  Amount cleared = Amount::Zero();
  uint32_t asset = 0;  // of the cleared tokens, unless mixed_assets
  bool mixed_assets = false;
  uint64_t Count(offline::Classification c) const { return counts[static_cast<size_t>(c)]; }
};
// Token `index` of `batch` (nullptr when the batch or the token is unknown).
const offline::PaymentToken* TokenAt(const offline::TerminalBatch* batch, size_t index);
BatchTotals TotalBatch(const offline::TerminalBatch* batch,
                       const std::vector<offline::TokenOutcome>& outcomes);
// batch_id, terminal_id, tokens (TokenOutcomeToJson each) and totals.
boost::json::object BatchOutcomesToJson(const offline::TerminalBatch* batch,
                                        const std::vector<offline::TokenOutcome>& outcomes,
                                        const AssetTable& assets);

// A registered terminal (`terminal register --json`, POST /v1/offline/terminals).
boost::json::object TerminalToJson(u128 terminal_id, u128 merchant_id, AccountId settlement_account,
                                   const offline::Bytes32& key, bool active);

}  // namespace tpw::cli
