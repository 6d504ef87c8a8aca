// The terminal's journal records and state files (terminal/records.h). Byte 0 picks the decoder;
// whatever decodes must encode back to exactly the input (every layout is canonical).
#include <algorithm>
#include <vector>

#include "fuzz_check.h"
#include "terminal/records.h"

namespace {

template <typename Decoded>
void RoundTrip(const Decoded& decoded, std::span<const uint8_t> input) {
  if (!decoded.ok()) {
    FUZZ_CHECK(!decoded.error().empty());
    return;
  }
  std::vector<uint8_t> encoded;
  if constexpr (std::is_same_v<std::decay_t<decltype(decoded.value())>, tpw::terminal::TerminalConfig>) {
    encoded = tpw::terminal::EncodeConfig(decoded.value());
  } else if constexpr (std::is_same_v<std::decay_t<decltype(decoded.value())>,
                                      tpw::terminal::DenyListState>) {
    encoded = tpw::terminal::EncodeDenyState(decoded.value());
  } else {
    encoded = tpw::terminal::EncodeRecord(decoded.value());
  }
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), input.begin(), input.end()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::span<const uint8_t> input(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      RoundTrip(tpw::terminal::DecodeTokenAccepted(input), input);
      break;
    case 1:
      RoundTrip(tpw::terminal::DecodeTokenVoided(input), input);
      break;
    case 2:
      RoundTrip(tpw::terminal::DecodeBatchBuilt(input), input);
      break;
    case 3:
      RoundTrip(tpw::terminal::DecodeBatchUploaded(input), input);
      break;
    case 4:
      RoundTrip(tpw::terminal::DecodeConfig(input), input);
      break;
    default:
      RoundTrip(tpw::terminal::DecodeDenyState(input), input);
      break;
  }
  return 0;
}
