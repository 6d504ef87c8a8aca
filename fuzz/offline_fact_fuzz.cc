// Offline facts (engine/offline_facts.h): the issuer / clearing records of the journal. A decoded
// fact must encode back to exactly the input: the layout is canonical (version fixed, reserved
// bytes zero, flags in range, sizes exact).
#include <algorithm>
#include <vector>

#include "engine/offline_facts.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto decoded = tpw::engine::DecodeOfflineFact(tpw::fuzz::AsSpan(data, size));
  if (!decoded.ok()) {
    FUZZ_CHECK(!decoded.error().empty());
    return 0;
  }
  const std::vector<uint8_t> encoded = tpw::engine::EncodeOfflineFact(decoded.value());
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), data, data + size));
  return 0;
}
