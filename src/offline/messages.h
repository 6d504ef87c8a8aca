// Offline-payment messages: fixed binary layouts (docs/offline-protocol.md is the byte-level
// specification) and their base64url text form.
//
// Encoders produce exactly the documented bytes; decoders check length, type, version, reserved
// fields and ranges, and never read or allocate past what the limits allow. Signatures are
// carried here but not checked: offline/verify.h does that, over the `SignedBytes` spans.
#pragma once

#include <array>
#include <optional>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/amount.h"
#include "common/int128.h"
#include "common/assert.h"
#include "common/result.h"

namespace tpw::offline {

inline constexpr uint8_t kProtocolVersion = 1;

enum class MessageType : uint8_t {
  device_certificate = 1,
  payment_request = 2,
  payment_token = 3,
  terminal_batch = 4,
  deny_list = 5,
  deny_list_delta = 6,
  sync_statement = 7,
};

// Domain strings: every signature is over domain || 0x00 || signed bytes.
inline constexpr std::string_view kCertificateDomain = "tpwallet/v1/device-certificate";
inline constexpr std::string_view kTokenDomain = "tpwallet/v1/payment-token";
inline constexpr std::string_view kBatchDomain = "tpwallet/v1/terminal-batch";
inline constexpr std::string_view kDenyListDomain = "tpwallet/v1/deny-list";
inline constexpr std::string_view kDenyListDeltaDomain = "tpwallet/v1/deny-list-delta";
inline constexpr std::string_view kSyncStatementDomain = "tpwallet/v1/sync-statement";

inline constexpr size_t kCertificateBytes = 232;
inline constexpr size_t kCertificateSignedBytes = 168;
inline constexpr size_t kRequestBytes = 88;
inline constexpr size_t kTokenBytes = 424;
inline constexpr size_t kTokenSignedBytes = 360;
inline constexpr size_t kBatchHeaderBytes = 48;
inline constexpr uint32_t kBatchTokensMax = 8189;
inline constexpr size_t kDenyListHeaderBytes = 48;
inline constexpr uint32_t kDenyListEntriesMax = 1u << 20;
inline constexpr size_t kSyncStatementBytes = 392;
inline constexpr size_t kSyncStatementSignedBytes = 328;
inline constexpr size_t kSignatureBytes = 64;
inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kNonceBytes = 16;
// The claim window: clearing pays a certificate's tokens only if their batch is uploaded before
// the certificate's valid_until + this grace. After it, what the certificate could still claim
// is released from the device's reserve at the next sync. A protocol constant (not an option)
// so that a journal replays the same verdicts on every build that reads it.
inline constexpr uint64_t kClaimGraceMs = 14ull * 24 * 3600 * 1000;
// The instant (ms since the epoch) after which no token of a certificate valid until
// `valid_until` is paid. Saturates instead of wrapping.
constexpr uint64_t ClaimDeadlineMs(uint64_t valid_until) {
  return valid_until > UINT64_MAX - kClaimGraceMs ? UINT64_MAX : valid_until + kClaimGraceMs;
}

using Bytes32 = std::array<uint8_t, 32>;
using Signature64 = std::array<uint8_t, kSignatureBytes>;
using Nonce = std::array<uint8_t, kNonceBytes>;

#define TPW_DECODE_ERRORS(X)                                                          \
  X(truncated, 1, "the message is shorter than its layout")                           \
  X(too_long, 2, "the message is longer than its layout")                             \
  X(wrong_type, 3, "the message is of another type")                                  \
  X(unsupported_version, 4, "the message uses a protocol version this build lacks")  \
  X(reserved_not_zero, 5, "a reserved field is not zero")                             \
  X(field_out_of_range, 6, "a field is outside its documented range")                \
  X(not_canonical_text, 7, "the text form is not canonical base64url without padding") \
  X(entries_not_sorted, 8, "list entries are not strictly ascending")

enum class DecodeErrorCode : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_DECODE_ERRORS(TPW_X)
#undef TPW_X
};
std::string_view DecodeErrorName(DecodeErrorCode code);

struct DecodeError {
  DecodeErrorCode code = DecodeErrorCode::truncated;
  std::string detail;  // which field, which value: "payment_count_max is 0"
  std::string Message() const;
};
template <typename T>
using DecodeResult = Result<T, DecodeError>;

struct DeviceCertificate {
  uint32_t issuer_key_id = 0;
  uint64_t serial = 0;
  u128 device_id = 0;
  Bytes32 device_public_key{};
  u128 reserve_account_id = 0;
  uint32_t asset = 0;
  uint32_t payment_count_max = 0;
  Amount per_payment_max;
  Amount allowance;
  uint64_t counter_first = 0;
  Amount cvm_threshold;
  uint64_t valid_from = 0;
  uint64_t valid_until = 0;
  uint64_t previous_serial = 0;
  Signature64 signature{};

  uint64_t counter_last() const { return counter_first + payment_count_max - 1; }
};

struct PaymentRequest {
  uint32_t asset = 0;
  u128 merchant_id = 0;
  u128 terminal_id = 0;
  Amount amount;
  Nonce nonce{};
  uint64_t terminal_time = 0;
  uint64_t request_number = 0;
};

enum class Cvm : uint8_t { none = 0, pin = 1 };

struct PaymentToken {
  Cvm cvm = Cvm::none;
  uint32_t asset = 0;
  DeviceCertificate certificate;
  uint64_t counter = 0;
  Amount amount;
  u128 merchant_id = 0;
  u128 terminal_id = 0;
  Nonce nonce{};
  uint64_t terminal_time = 0;
  uint64_t device_time = 0;
  Bytes32 previous_token_hash{};
  Signature64 signature{};
};

struct TerminalBatch {
  u128 terminal_id = 0;
  Nonce batch_id{};
  uint64_t created = 0;
  std::vector<PaymentToken> tokens;
  Signature64 signature{};
};

struct DenyList {
  bool delta = false;
  uint32_t issuer_key_id = 0;
  uint64_t list_version = 0;
  uint64_t base_version = 0;  // delta only
  uint64_t issued = 0;
  uint64_t max_age = 0;
  std::vector<u128> device_ids;  // strictly ascending
  Signature64 signature{};
};

struct SyncStatement {
  uint32_t issuer_key_id = 0;
  u128 device_id = 0;
  uint64_t previous_serial = 0;
  uint64_t last_counter_used = 0;
  Amount cleared_amount;
  Amount held_amount;
  Amount reserve_balance;
  uint64_t issued = 0;
  DeviceCertificate certificate;
  Signature64 signature{};
};

std::vector<uint8_t> Encode(const DeviceCertificate& m);
std::vector<uint8_t> Encode(const PaymentRequest& m);
std::vector<uint8_t> Encode(const PaymentToken& m);
std::vector<uint8_t> Encode(const TerminalBatch& m);
std::vector<uint8_t> Encode(const DenyList& m);
std::vector<uint8_t> Encode(const SyncStatement& m);

DecodeResult<DeviceCertificate> DecodeCertificate(std::span<const uint8_t> bytes);
DecodeResult<PaymentRequest> DecodeRequest(std::span<const uint8_t> bytes);
DecodeResult<PaymentToken> DecodeToken(std::span<const uint8_t> bytes);
DecodeResult<TerminalBatch> DecodeBatch(std::span<const uint8_t> bytes);
DecodeResult<DenyList> DecodeDenyList(std::span<const uint8_t> bytes);
DecodeResult<SyncStatement> DecodeSyncStatement(std::span<const uint8_t> bytes);

// The bytes each signature covers (a prefix of the encoding).
std::span<const uint8_t> SignedPart(std::span<const uint8_t> encoded, MessageType type);

// The sync request a device signs (domain kSyncRequestDomain) to ask the issuer for a sync:
//   device_id u128 LE (16) || serial u64 LE (8) || last_counter_used u64 LE (8) = 32 bytes.
inline constexpr std::string_view kSyncRequestDomain = "tpwallet/v1/sync-request";
inline constexpr size_t kSyncRequestBytes = 32;
std::vector<uint8_t> SyncRequestBytes(u128 device_id, uint64_t serial, uint64_t last_counter_used);

}  // namespace tpw::offline
