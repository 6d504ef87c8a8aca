// The wallet state file (wallet/wallet_state.h): a checksummed, versioned layout whose decoder
// checks every invariant. Whatever decodes must encode back to exactly the input.
#include <algorithm>
#include <vector>

#include "fuzz_check.h"
#include "wallet/wallet_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto decoded = tpw::wallet::DecodeState(tpw::fuzz::AsSpan(data, size));
  if (!decoded.ok()) {
    FUZZ_CHECK(!decoded.error().Message().empty());
    return 0;
  }
  const std::vector<uint8_t> encoded = tpw::wallet::EncodeState(decoded.value());
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), data, data + size));
  return 0;
}
