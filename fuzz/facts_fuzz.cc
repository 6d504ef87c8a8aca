// Engine facts (engine/facts.h), the records the engine journals. Byte 0 picks the record type
// (1..4 are the known ones; 0, and 5 — offline facts, decoded by DecodeOfflineFact — must be
// refused), the rest is the record. A decoded fact must
// encode back to exactly the record: the layout is canonical (version fixed, reserved bytes and
// padding zero, count matching the items).
#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/facts.h"
#include "fuzz_check.h"

namespace {

std::vector<uint8_t> Reencode(const tpw::engine::Fact& fact) {
  using tpw::engine::FactType;
  std::vector<uint8_t> out;
  switch (fact.type) {
    case FactType::accounts_created:
      tpw::engine::EncodeAccountsFact(fact.header, fact.accounts, out);
      break;
    case FactType::transfers_created:
      tpw::engine::EncodeTransfersFact(fact.header, fact.transfers, out);
      break;
    case FactType::transfers_failed:
      tpw::engine::EncodeFailuresFact(fact.header, fact.failed, out);
      break;
    case FactType::transfers_expired:
      tpw::engine::EncodeExpiredFact(fact.header, fact.expired, out);
      break;
    case FactType::offline:  // DecodeFact refuses these (offline_fact_fuzz.cc, access_fuzz.cc)
    case FactType::payment:
    case FactType::api_key:
    case FactType::idempotency:
    case FactType::risk_rules:
    case FactType::risk_list:
    case FactType::risk_decision:
    case FactType::webhook_endpoint:
    case FactType::outbox_test_events:
    case FactType::webhook_deliveries:
    case FactType::webhook_resend:
      break;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto type = static_cast<uint16_t>(data[0] % 6);
  const std::span<const uint8_t> record(data + 1, size - 1);
  const auto decoded = tpw::engine::DecodeFact(type, record);
  if (!decoded.ok()) {
    FUZZ_CHECK(!decoded.error().empty());
    return 0;
  }
  const tpw::engine::Fact& fact = decoded.value();
  FUZZ_CHECK(static_cast<uint16_t>(fact.type) == type);
  FUZZ_CHECK(fact.header.count > 0);
  const std::vector<uint8_t> encoded = Reencode(fact);
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), record.begin(), record.end()));
  if (fact.type == tpw::engine::FactType::transfers_created) {
    // Single bodies are read back item by item: the same bytes as the whole-record decode.
    const auto first = tpw::engine::DecodeTransferItem(
        record.subspan<tpw::engine::kFactHeaderBytes, tpw::engine::kTransferFactBytes>());
    FUZZ_CHECK(std::memcmp(&first, &fact.transfers[0], sizeof first) == 0);
  }
  return 0;
}
