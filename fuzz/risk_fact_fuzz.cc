// Risk facts (engine/risk_facts.h, record types 8-10): the rules text, list changes and journaled
// decisions. The first byte picks the decoder; the rest is the record payload. Decoding is strict,
// so a payload that decodes must encode back to exactly itself.
#include <algorithm>
#include <vector>

#include "engine/risk_facts.h"
#include "fuzz_check.h"

namespace {

template <typename Fact, typename Encode>
void CheckRoundTrip(const std::optional<Fact>& decoded, Encode encode,
                    std::span<const uint8_t> payload) {
  if (!decoded) return;
  const std::vector<uint8_t> encoded = encode(*decoded);
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), payload.begin(), payload.end()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> payload = tpw::fuzz::AsSpan(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      CheckRoundTrip(tpw::engine::DecodeRiskRulesFact(payload),
                     [](const std::string& text) { return tpw::engine::EncodeRiskRulesFact(text); },
                     payload);
      break;
    case 1:
      CheckRoundTrip(tpw::engine::DecodeRiskListFact(payload), tpw::engine::EncodeRiskListFact,
                     payload);
      break;
    default:
      CheckRoundTrip(tpw::engine::DecodeRiskDecisionFact(payload),
                     tpw::engine::EncodeRiskDecisionFact, payload);
      break;
  }
  return 0;
}
