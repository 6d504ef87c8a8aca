// Shared by the offline message targets: decode the input with one decoder; a decoded message
// must encode back to exactly the input (every layout in docs/offline-protocol.md is canonical:
// fixed sizes, reserved bytes zero, one encoding per value). A rejection must say why.
#pragma once

#include <algorithm>
#include <vector>

#include "fuzz_check.h"
#include "offline/messages.h"

namespace tpw::fuzz {

template <typename Message>
void CheckOfflineRoundTrip(std::span<const uint8_t> input, offline::DecodeResult<Message> (*decode)(
                                                               std::span<const uint8_t> bytes)) {
  const offline::DecodeResult<Message> decoded = decode(input);
  if (!decoded.ok()) {
    FUZZ_CHECK(!decoded.error().Message().empty());
    return;
  }
  const std::vector<uint8_t> encoded = offline::Encode(decoded.value());
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), input.begin(), input.end()));
}

}  // namespace tpw::fuzz
