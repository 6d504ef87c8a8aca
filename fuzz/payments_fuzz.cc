// Payments (src/payments): byte 0 even — DecodeEvent on the rest; odd — Payments::Load on the
// rest as a snapshot section. Both layouts are strict: a decoded event encodes back to exactly
// the input, a loaded state saves back to exactly the bytes it read. A decoded event is also
// applied to an empty state (Apply may refuse it, never crash).
#include <algorithm>
#include <vector>

#include "fuzz_check.h"
#include "payments/payments.h"
#include "state_io.h"

namespace {

void FuzzEvent(std::span<const uint8_t> payload) {
  const auto decoded = tpw::payments::DecodeEvent(payload);
  if (!decoded.ok()) return;
  const std::vector<uint8_t> encoded = tpw::payments::EncodeEvent(decoded.value());
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), payload.begin(), payload.end()));
  tpw::payments::Payments payments;
  (void)payments.Apply(decoded.value());
}

void FuzzState(std::span<const uint8_t> payload) {
  tpw::fuzz::SpanSource source(payload);
  tpw::payments::Payments payments;
  if (!payments.Load(source)) return;
  tpw::fuzz::VectorSink sink;
  payments.Save(sink);
  const std::span<const uint8_t> read = payload.first(source.offset());
  FUZZ_CHECK(std::equal(sink.bytes().begin(), sink.bytes().end(), read.begin(), read.end()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> payload = tpw::fuzz::AsSpan(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    FuzzEvent(payload);
  } else {
    FuzzState(payload);
  }
  return 0;
}
