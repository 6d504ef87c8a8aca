#include "payments/events.h"

namespace tpw::payments {

// Step-1 stub: the encoder and decoder land with the implementation.
std::string_view EventKindName(EventKind) { return "unknown"; }
std::string_view EventDecodeErrorName(EventDecodeError) { return "unknown"; }
std::vector<uint8_t> EncodeEvent(const Event&) { return {}; }
Result<Event, EventDecodeError> DecodeEvent(std::span<const uint8_t>) {
  return Err{EventDecodeError::truncated};
}

}  // namespace tpw::payments
