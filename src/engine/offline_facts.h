// Offline facts: what the engine journals for the issuer / clearing side of offline payments
// (docs/journal-format.md, "Offline facts", is the byte-level specification).
//
// One journal record of type FactType::offline per change. Money movements that go with a
// change (reserve funding, settlement of cleared tokens, guarantee payments) are ordinary ledger
// facts in the same group, journaled before the offline fact; replay applies those through the
// ledger and the offline fact through offline::Clearing, so replay never re-executes ledger work.
//
// Record: 16-byte header, then a kind-specific body.
//   offset 0  u8  kind       OfflineFactKind
//   offset 1  u8  version    kOfflineFactVersion
//   offset 2  u16 reserved   zero
//   offset 4  u32 reserved   zero
//   offset 8  u64 time_ms    the sequencer's wall clock; for a batch fact, the upload time the
//                            claim window was judged at (replay uses it), else informational
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/amount.h"
#include "common/ids.h"
#include "common/result.h"
#include "offline/clearing.h"

namespace tpw::engine {

enum class OfflineFactKind : uint8_t {
  issuer_key = 1,          // an issuer public key was registered
  certificate = 2,         // a device was enrolled: its first certificate
  sync = 3,                // a device synced: old counters voided above a mark, new certificate
  terminal = 4,            // a terminal was registered or changed (deactivated)
  revocation = 5,          // an operator revoked a device
  batch = 6,               // an uploaded batch was classified
  exception_resolved = 7,  // an operator resolved an exception
};

inline constexpr uint8_t kOfflineFactVersion = 1;
inline constexpr size_t kOfflineFactHeaderBytes = 16;

struct OfflineFact {
  OfflineFactKind kind = OfflineFactKind::issuer_key;
  uint64_t time_ms = 0;
  // issuer_key
  uint32_t issuer_key_id = 0;
  offline::Bytes32 public_key{};  // issuer_key, terminal
  // certificate, sync
  AccountId user_account;
  std::vector<uint8_t> certificate;  // the encoded certificate (232 bytes)
  // sync
  uint64_t previous_serial = 0;
  uint64_t last_counter_used = 0;
  // terminal
  u128 terminal_id = 0;
  u128 merchant_id = 0;
  AccountId settlement_account;
  bool active = true;
  // revocation
  u128 device_id = 0;
  // batch: per token, the signature checks made before the sequencer (bit 0: certificate,
  // bit 1: token); per tentative settlement, whether the ledger accepted its transfer; the
  // batch exactly as uploaded.
  std::vector<uint8_t> token_checks;
  std::vector<uint8_t> settlements_ok;
  std::vector<uint8_t> batch;
  // exception_resolved
  uint64_t exception_id = 0;
  offline::ExceptionRecord::Status resolution = offline::ExceptionRecord::Status::rejected;
};

inline constexpr uint8_t kCertificateCheckOk = 1;
inline constexpr uint8_t kTokenCheckOk = 2;

std::vector<uint8_t> EncodeOfflineFact(const OfflineFact& fact);
// Strict: sizes, version, reserved bytes, enum ranges. The error is a sentence.
Result<OfflineFact, std::string> DecodeOfflineFact(std::span<const uint8_t> bytes);

}  // namespace tpw::engine
