// Payment facts (engine journal record type 11): a payments::Event as payments::EncodeEvent wrote
// it. Recovery decodes each one and applies it with Payments::Apply, so this target does the same
// with hostile bytes: decoding never crashes; what decodes encodes to bytes that decode to the
// same event and encode again identically; and Apply, on a state that already holds payment
// pay_1, either refuses the event or leaves a state that a snapshot saves and loads back with the
// same digest.
//
// docs/payments.md promises more: a decoded event encodes back to exactly its input. The decoder
// does not hold it yet (a payment's last_ledger_result byte is accepted non-zero while its
// presence flag is 0; found by this target, reported to the payments module's owner); once it
// does, the check below becomes `encoded == bytes`.
#include <algorithm>
#include <vector>

#include "fuzz_check.h"
#include "payments/events.h"
#include "payments/payments.h"
#include "state_io.h"

namespace {

using namespace tpw;

// A payment the decoded event may refer to (events about pay_1 reach the update paths).
payments::Event FirstPaymentCreated() {
  payments::Event event;
  event.kind = payments::EventKind::payment_created;
  event.at_ms = 1'700'000'000'000;
  payments::Payment& p = event.payment.emplace();
  p.id = payments::PaymentId{1};
  p.amount = Amount::FromMinor(1'000);
  p.asset = 1;
  p.merchant_account = AccountId{200};
  p.customer = payments::CustomerId{7000};
  p.created_at_ms = p.updated_at_ms = event.at_ms;
  return event;
}

void CheckSnapshotRoundTrip(const payments::Payments& state) {
  fuzz::VectorSink sink;
  state.Save(sink);
  fuzz::SpanSource source(sink.bytes());
  payments::Payments loaded;
  FUZZ_CHECK(loaded.Load(source));
  FUZZ_CHECK(source.remaining() == 0);
  FUZZ_CHECK(loaded.StateDigest() == state.StateDigest());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes = fuzz::AsSpan(data, size);
  auto decoded = payments::DecodeEvent(bytes);
  if (!decoded.ok()) return 0;
  const std::vector<uint8_t> encoded = payments::EncodeEvent(decoded.value());
  FUZZ_CHECK(encoded.size() == bytes.size());
  auto again = payments::DecodeEvent(encoded);
  FUZZ_CHECK(again.ok() && again.value() == decoded.value());
  FUZZ_CHECK(payments::EncodeEvent(again.value()) == encoded);

  payments::Payments state;
  FUZZ_CHECK(state.Apply(FirstPaymentCreated()));
  if (state.Apply(decoded.value())) CheckSnapshotRoundTrip(state);
  return 0;
}
