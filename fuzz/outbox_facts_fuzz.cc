// Outbox and webhook facts (engine/outbox_facts.h, record types 20..23): byte 0 picks the
// decoder (0 endpoint, 1 test events, 2 deliveries, 3 resend), the rest is the record. A decoded
// fact must encode back to exactly the record: the layout is canonical (version fixed, reserved
// bytes zero, enums and limits in range, lengths exact).
#include <algorithm>
#include <vector>

#include "engine/outbox_facts.h"
#include "fuzz_check.h"

namespace {

using namespace tpw::engine;

template <typename Fact>
void RoundTrip(const std::optional<Fact>& fact, std::vector<uint8_t> (*encode)(const Fact&),
               std::span<const uint8_t> bytes) {
  if (!fact) return;
  const std::vector<uint8_t> encoded = encode(*fact);
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), bytes.begin(), bytes.end()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto bytes = tpw::fuzz::AsSpan(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      const auto fact = DecodeEndpointFact(bytes);
      if (fact) FUZZ_CHECK(ValidEndpoint(fact->endpoint));
      RoundTrip(fact, EncodeEndpointFact, bytes);
      break;
    }
    case 1: {
      const auto fact = DecodeTestEventsFact(bytes);
      if (fact) FUZZ_CHECK(fact->count >= 1 && fact->count <= kTestEventsPerRequestMax && ValidTestEventType(fact->type));
      RoundTrip(fact, EncodeTestEventsFact, bytes);
      break;
    }
    case 2: {
      const auto fact = DecodeDeliveriesFact(bytes);
      if (fact) {
        FUZZ_CHECK(!fact->records.empty() && fact->records.size() <= kDeliveryRecordsPerFactMax);
        for (const DeliveryRecord& r : fact->records) FUZZ_CHECK(ValidDeliveryRecord(r));
      }
      RoundTrip(fact, EncodeDeliveriesFact, bytes);
      break;
    }
    default:
      RoundTrip(DecodeResendFact(bytes), EncodeResendFact, bytes);
      break;
  }
  return 0;
}
