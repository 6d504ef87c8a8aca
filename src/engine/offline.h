// Offline-payment requests to the engine: issuer, device and terminal registry, batch clearing,
// the deny list and the exceptions queue. Every change is a journaled fact; see
// docs/offline-protocol.md for the protocol and docs/engine.md for the facts.
#pragma once

#include <array>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/amount.h"
#include "common/ids.h"
#include "ledger/results.h"
#include "offline/clearing.h"
#include "offline/messages.h"

namespace tpw::engine {

// Ledger codes of the accounts and transfers the offline flows create (documented in
// docs/offline-protocol.md; operators filter on them).
inline constexpr uint16_t kReserveAccountCode = 900;
inline constexpr uint16_t kReserveFundingCode = 901;   // user -> reserve (enroll, sync top-up)
inline constexpr uint16_t kReserveReturnCode = 902;    // reserve -> user (sync)
inline constexpr uint16_t kOfflineSettlementCode = 903;  // reserve -> merchant (cleared token)
inline constexpr uint16_t kGuaranteePaymentCode = 904;   // guarantee -> merchant (exception)

#define TPW_OFFLINE_ERRORS(X)                                                                  \
  X(ok, 0, "")                                                                                 \
  X(issuer_key_unavailable, 1, "the engine was opened without the issuer's secret key")        \
  X(unknown_device, 2, "no device with this id is enrolled")                                   \
  X(device_exists, 3, "a device with this id is already enrolled")                             \
  X(device_revoked, 4, "the device is revoked")                                                \
  X(invalid_limits, 5, "limits are inconsistent (zero, or allowance below per-payment max)")  \
  X(funding_failed, 6, "the ledger refused the reserve funding transfer (see ledger_result)")  \
  X(reserve_account_failed, 7, "the ledger refused the reserve account (see ledger_result)")   \
  X(unknown_terminal, 8, "no terminal with this id is registered")                             \
  X(terminal_exists, 9, "a terminal with this id is already registered")                       \
  X(batch_rejected, 10, "the batch was refused as a whole (see batch_rejection)")              \
  X(malformed, 11, "the message does not decode (see detail)")                                 \
  X(bad_sync_request, 12, "the sync request is not signed by the device or does not fit")      \
  X(unknown_exception, 13, "no open exception with this id")                                   \
  X(guarantee_payment_failed, 14, "the ledger refused the guarantee payment")                 \
  X(issuer_key_exists, 15, "an issuer key with this id is already registered")                \
  X(engine_failed, 16, "the engine could not run the command (see detail)")                   \
  X(unknown_account, 17, "a ledger account the command names does not exist (see detail)")

enum class OfflineError : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_OFFLINE_ERRORS(TPW_X)
#undef TPW_X
};
std::string_view OfflineErrorName(OfflineError error);
std::string_view OfflineErrorMessage(OfflineError error);

enum class OfflineCommandKind : uint8_t {
  add_issuer_key,
  enroll_device,
  register_terminal,
  deactivate_terminal,
  revoke_device,
  sync_device,
  submit_batch,
  resolve_exception,
  list_exceptions,
  deny_list,
  device_info,
  issuer_keys,  // the registered issuer public keys (for terminals to pin, auditors to check)
};

struct OfflineCommand {
  OfflineCommandKind kind = OfflineCommandKind::device_info;
  // add_issuer_key
  uint32_t issuer_key_id = 0;
  offline::Bytes32 public_key{};  // issuer, device or terminal key, by kind
  // enroll_device / sync_device
  u128 device_id = 0;
  AccountId user_account;
  AccountId reserve_account;
  uint32_t asset = 0;
  Amount allowance;
  Amount per_payment_max;
  Amount cvm_threshold = Amount::Max();
  // sync_device: the new certificate asks for no PIN at any amount (its cvm_threshold Max),
  // unless a threshold is given, or the risk rules' [offline] section sets one (they fill it).
  bool remove_cvm_threshold = false;
  uint32_t payment_count_max = 0;
  uint64_t valid_for_ms = 0;
  // sync_device: the device's declaration, signed with its key over SyncRequestBytes().
  uint64_t last_counter_used = 0;
  offline::Signature64 device_signature{};
  // register_terminal / deactivate_terminal
  u128 terminal_id = 0;
  u128 merchant_id = 0;
  AccountId settlement_account;
  // submit_batch: the upload as received
  std::vector<uint8_t> batch_bytes;
  // resolve_exception
  uint64_t exception_id = 0;
  offline::ExceptionRecord::Status resolution = offline::ExceptionRecord::Status::rejected;
  AccountId guarantee_account;
  // list_exceptions: which, a page at a time
  offline::ExceptionFilter exceptions_filter;
  // deny_list: 0 = the full list, else a delta from this version
  uint64_t since_version = 0;
};

struct OfflineReply {
  OfflineError error = OfflineError::ok;
  std::string detail;
  std::optional<ledger::CreateTransferResult> ledger_result;
  std::optional<offline::BatchRejection> batch_rejection;
  std::vector<uint8_t> certificate;     // enroll / sync: the encoded device certificate
  std::vector<uint8_t> sync_statement;  // sync: the encoded, signed statement
  std::vector<offline::TokenOutcome> outcomes;  // submit_batch, per token in batch order
  // submit_batch: the batch (same id, same bytes) was cleared before; `outcomes` are the ones
  // recorded then and nothing changed now.
  bool batch_repeated = false;
  std::vector<std::pair<uint32_t, offline::Bytes32>> issuer_keys;  // issuer_keys, by key id
  std::vector<offline::ExceptionRecord> exceptions;
  uint64_t exceptions_next_after = 0;  // list_exceptions: the next page's cursor, 0 at the end
  std::vector<uint8_t> deny_list;  // deny_list: encoded and signed
  std::optional<offline::DeviceRecord> device;
  std::optional<offline::CertificateRecord> current_certificate;
};

// The bytes a device signs to request a sync (domain "tpwallet/v1/sync-request"): device id,
// current certificate serial, last counter used, all little-endian.
using offline::kSyncRequestDomain;
using offline::SyncRequestBytes;

}  // namespace tpw::engine
