// The terminal's journal records and its two small state files: byte layouts (documented in
// src/terminal/README.md and docs/offline-protocol.md, "Terminal") and strict codecs.
//
// Journal records (journal::RecordInput::type = RecordType) describe facts in the order they
// happened; replaying them rebuilds everything the terminal knows. Each layout starts with a
// version byte and reserved zeros, has an exact length (or a length fixed by a count that is
// checked before any allocation) and is little-endian. The state files (`terminal.conf`,
// `deny-list.state`) are replaced whole with Storage::WriteFileAtomically and end with a
// BLAKE2b-256 of everything before it, so a damaged file is refused, never half-read.
//
// Decoders return a one-line reason on failure ("token_voided: 47 bytes, expected 48") and
// never trust a length or count before checking it against the input's size.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "common/int128.h"
#include "common/result.h"
#include "crypto/hash.h"
#include "crypto/sign.h"
#include "offline/messages.h"

namespace tpw::terminal {

using TokenId = crypto::Hash256;  // BLAKE2b-256 of the token's 424 bytes
using BatchId = offline::Nonce;   // 16 random bytes, the upload's idempotency key
using TokenBytes = std::array<uint8_t, offline::kTokenBytes>;

inline constexpr uint8_t kRecordVersion = 1;

// Stable values: they are on disk. Append only.
enum class RecordType : uint16_t {
  token_accepted = 1,  // a token passed every check; written and synced before `accepted`
  token_voided = 2,    // the merchant reversed an accepted token before it was batched
  batch_built = 3,     // a signed batch was built from these tokens, in this order
  batch_uploaded = 4,  // clearing acknowledged the batch
};

// token_accepted, 440 bytes: version u8 | reserved 7 | accepted_ms u64 | token 424.
inline constexpr size_t kTokenAcceptedBytes = 16 + offline::kTokenBytes;
struct TokenAccepted {
  uint64_t accepted_ms = 0;
  TokenBytes token{};
};

// token_voided, 48 bytes: version u8 | reserved 7 | voided_ms u64 | token_id 32.
inline constexpr size_t kTokenVoidedBytes = 48;
struct TokenVoided {
  uint64_t voided_ms = 0;
  TokenId token_id{};
};

// batch_built, 32 + 32 x token_count bytes: version u8 | reserved 3 | token_count u32
// (1..kBatchTokensMax) | created_ms u64 | batch_id 16 | token ids 32 each, in batch order.
// The batch bytes are not stored: they are rebuilt from the journaled tokens and re-signed
// (Ed25519 is deterministic), which gives the same bytes.
inline constexpr size_t kBatchBuiltHeaderBytes = 32;
struct BatchBuilt {
  uint64_t created_ms = 0;
  BatchId batch_id{};
  std::vector<TokenId> token_ids;
};

// batch_uploaded, 32 bytes: version u8 | reserved 7 | uploaded_ms u64 | batch_id 16.
inline constexpr size_t kBatchUploadedBytes = 32;
struct BatchUploaded {
  uint64_t uploaded_ms = 0;
  BatchId batch_id{};
};

template <typename T>
using RecordResult = Result<T, std::string>;

std::vector<uint8_t> EncodeRecord(const TokenAccepted& r);
std::vector<uint8_t> EncodeRecord(const TokenVoided& r);
std::vector<uint8_t> EncodeRecord(const BatchBuilt& r);
std::vector<uint8_t> EncodeRecord(const BatchUploaded& r);

RecordResult<TokenAccepted> DecodeTokenAccepted(std::span<const uint8_t> bytes);
RecordResult<TokenVoided> DecodeTokenVoided(std::span<const uint8_t> bytes);
RecordResult<BatchBuilt> DecodeBatchBuilt(std::span<const uint8_t> bytes);
RecordResult<BatchUploaded> DecodeBatchUploaded(std::span<const uint8_t> bytes);

// ---- terminal.conf: who the terminal is and which issuer keys it trusts.
//
// magic "tpwterm1" 8 | format u16 = 1 | reserved u16 | key_count u32 (1..kPinnedIssuerKeysMax)
// | terminal_id u128 | merchant_id u128 | terminal public key 32
// | key_count x (key_id u32, public key 32) ascending by key_id | BLAKE2b-256 of all before 32.
inline constexpr size_t kPinnedIssuerKeysMax = 16;
inline constexpr size_t kConfigHeaderBytes = 80;
inline constexpr size_t kConfigBytesMax = kConfigHeaderBytes + kPinnedIssuerKeysMax * 36 + 32;

struct TerminalConfig {
  u128 terminal_id = 0;
  u128 merchant_id = 0;
  crypto::PublicKey terminal_public_key;
  std::map<uint32_t, crypto::PublicKey> issuer_keys;
};
std::vector<uint8_t> EncodeConfig(const TerminalConfig& c);
RecordResult<TerminalConfig> DecodeConfig(std::span<const uint8_t> bytes);

// ---- deny-list.state: the deny list in force, merged from a full list and the deltas since.
// The issuer's signatures were checked when each list was installed; this file is the
// terminal's own record of the result (like its journal, it trusts its own disk).
//
// magic "tpwdeny1" 8 | format u16 = 1 | reserved u16 | issuer_key_id u32 | list_version u64
// | issued u64 | max_age u64 | entry_count u32 (0..kDenyListEntriesMax) | reserved u32
// | entry_count x device id u128, strictly ascending | BLAKE2b-256 of all before 32.
inline constexpr size_t kDenyStateHeaderBytes = 48;
inline constexpr uint64_t kDenyStateBytesMax =
    kDenyStateHeaderBytes + uint64_t{offline::kDenyListEntriesMax} * 16 + 32;

struct DenyListState {
  uint32_t issuer_key_id = 0;
  uint64_t list_version = 0;
  uint64_t issued_ms = 0;
  uint64_t max_age_ms = 0;
  std::vector<u128> device_ids;  // strictly ascending
};
std::vector<uint8_t> EncodeDenyState(const DenyListState& s);
RecordResult<DenyListState> DecodeDenyState(std::span<const uint8_t> bytes);

}  // namespace tpw::terminal
