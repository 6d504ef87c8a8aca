// Facts: what the engine journals. One record per accepted batch (or expiry run), typed by
// FactType. docs/journal-format.md ("Engine facts") is the byte-level specification.
//
// Every fact record is a 32-byte header followed by `count` fixed-size items:
//   offset 0  u64 batch_first   first timestamp the batch consumed (expiry: the run's `now`)
//   offset 8  u64 batch_last    last timestamp the batch consumed (failed events included)
//   offset 16 u32 count         items that follow
//   offset 20 u32 version       kFactVersion
//   offset 24 u64 reserved      zero
// Items: accounts 144 bytes, transfers 128 bytes (the Transfer layout, little-endian fields in
// declaration order), failures 24 bytes (id, result code, zero padding), expiries 16 bytes (id).
// Decoding checks sizes, counts, the version and reserved bytes; it never trusts a count.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/codec.h"
#include "common/result.h"
#include "ledger/ledger.h"

namespace tpw::engine {

enum class FactType : uint16_t {
  accounts_created = 1,
  transfers_created = 2,
  transfers_failed = 3,   // transient failures: ids that can never succeed later
  transfers_expired = 4,  // pending transfers released by the sequencer's expiry timer
  offline = 5,            // an offline-payment change: engine/offline_facts.h, not DecodeFact
  api_key = 6,            // an API key created or revoked: access::EncodeApiKey, not DecodeFact
  idempotency = 7,        // a stored response: access::EncodeIdempotencyRecord, not DecodeFact
  risk_rules = 8,         // risk rules set (the full text): engine/risk_facts.h, not DecodeFact
  risk_list = 9,          // a risk list item added or removed: engine/risk_facts.h
  risk_decision = 10,     // a journaled risk decision (event, time, decision): risk_facts.h
  payment = 11,           // a payments event: payments::EncodeEvent bytes, not DecodeFact
  // 11..19 are left for the payments facts.
  webhook_endpoint = 20,    // a webhook endpoint created, updated or deleted: outbox_facts.h
  outbox_test_events = 21,  // test events published (POST /v1/events/test): outbox_facts.h
  webhook_deliveries = 22,  // webhook attempt outcomes the deliverer reported: outbox_facts.h
  webhook_resend = 23,      // an event re-sent by hand to an endpoint: outbox_facts.h
};

inline constexpr uint32_t kFactVersion = 1;
inline constexpr size_t kFactHeaderBytes = 32;
inline constexpr size_t kAccountFactBytes = 144;
inline constexpr size_t kTransferFactBytes = 128;
inline constexpr size_t kFailedFactBytes = 24;
inline constexpr size_t kExpiredFactBytes = 16;

struct FactHeader {
  uint64_t batch_first = 0;
  uint64_t batch_last = 0;
  uint32_t count = 0;
};

// Appends one encoded record to `out` (cleared first).
void EncodeAccountsFact(const FactHeader& header, std::span<const ledger::Account> accounts,
                        std::vector<uint8_t>& out);
void EncodeTransfersFact(const FactHeader& header, std::span<const ledger::Transfer> transfers,
                         std::vector<uint8_t>& out);
void EncodeFailuresFact(const FactHeader& header, std::span<const ledger::FailedTransfer> failed,
                        std::vector<uint8_t>& out);
void EncodeExpiredFact(const FactHeader& header, std::span<const tpw::TransferId> ids,
                       std::vector<uint8_t>& out);

// A decoded fact; only the vector of its type is filled.
struct Fact {
  FactType type = FactType::accounts_created;
  FactHeader header;
  std::vector<ledger::Account> accounts;
  std::vector<ledger::Transfer> transfers;
  std::vector<ledger::FailedTransfer> failed;
  std::vector<tpw::TransferId> expired;
};

// Decodes a journal record. The error is a sentence saying what is wrong.
Result<Fact, std::string> DecodeFact(uint16_t type, std::span<const uint8_t> bytes);

// Version u8 and three reserved zero bytes (u8, u16): how the risk and outbox facts begin.
void PutVersionedHeader(BinaryWriter& w, uint8_t version);
// Reads that header; false unless it is `version` with zero reserved bytes.
bool VersionedHeaderOk(BinaryReader& r, uint8_t version);

// One transfer body at `bytes` (kTransferFactBytes long): for reading single transfers back.
ledger::Transfer DecodeTransferItem(std::span<const uint8_t, kTransferFactBytes> bytes);

}  // namespace tpw::engine
