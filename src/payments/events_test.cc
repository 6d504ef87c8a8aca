// Events: every kind round-trips; DecodeEvent survives truncated, flipped, oversized and random
// bytes; Apply refuses events that contradict the state.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "common/codec.h"
#include "common/test_seed.h"
#include "payments/test_util.h"

namespace tpw::payments::test {
namespace {

// A world whose log holds every event kind.
World& EveryKindWorld() {
  static World* world = [] {
    auto* w = new World();
    w->SetupFx();
    w->SetupPoints(1);
    w->Fund(kPointsAcct, 50, kPts);
    Command coupon;
    coupon.kind = CommandKind::create_coupon;
    coupon.coupon.code = "TEN";
    coupon.coupon.kind = CouponKind::percent;
    coupon.coupon.percent_off_bps = 1'000;
    EXPECT_TRUE(w->Run(coupon).ok());
    Command quote;
    quote.kind = CommandKind::create_fx_quote;
    quote.quote_request = {kUsd, kEur, 60'000, 10};
    EXPECT_TRUE(w->Run(quote).ok());
    // A rich payment: metadata, splits, fee, coupon, points, risk details; then refunds.
    Command rich = w->Create(10'000, CaptureMethod::automatic);
    rich.metadata = {{"order", "A-1"}, {"note", std::string(300, 'n')}};
    rich.splits = {{Acct(kSplitA), Amt(0), 1'000}, {Acct(kSplitB), Amt(50), 0}};
    rich.platform_fee = {Acct(kFeeAcct), Amt(0), 100};
    rich.coupon_code = "TEN";
    rich.use_points = true;
    rich.confirm = true;
    const Reply paid = w->Run(rich);
    EXPECT_TRUE(paid.ok()) << paid.detail;
    Command refund = w->RefundOf(paid.payment->id, 4'000);
    refund.reverse_splits = true;
    refund.refund_fee = true;
    EXPECT_TRUE(w->Run(refund).ok());
    Command step_up = w->Create(150'000, CaptureMethod::manual);  // requires_action
    step_up.confirm = true;
    EXPECT_TRUE(w->Run(step_up).ok());
    const Payment held = w->CreatePaid(1'000, CaptureMethod::manual);
    EXPECT_TRUE(w->Run(w->Cancel(held.id)).ok());
    Command declined = w->Create(500, CaptureMethod::automatic);
    declined.confirm = true;
    declined.confirm_options.risk.device = 666;
    EXPECT_EQ(w->Run(declined).error, PaymentError::declined_by_risk);
    // A ledger failure: the USD FX desk holds less than the capture must pay the merchant.
    Command poor_fx = w->Create(100'000'000, CaptureMethod::manual);
    poor_fx.confirm_options.source_account = Acct(kWalletEur);
    w->Fund(kWalletEur, 200'000'000, kEur);
    poor_fx.confirm = true;
    const Reply fx_held = w->Run(poor_fx);
    EXPECT_TRUE(fx_held.ok()) << fx_held.detail;
    EXPECT_EQ(w->Run(w->Capture(fx_held.payment->id)).error, PaymentError::ledger_refused);
    return w;
  }();
  return *world;
}

TEST(Events, EveryKindRoundTripsAndTheLogReplaysToTheSameState) {
  World& w = EveryKindWorld();
  std::set<EventKind> kinds;
  for (const Event& e : w.log) {
    kinds.insert(e.kind);
    const std::vector<uint8_t> bytes = EncodeEvent(e);
    const auto decoded = DecodeEvent(bytes);
    ASSERT_TRUE(decoded.ok()) << EventKindName(e.kind) << ": "
                              << EventDecodeErrorName(decoded.error());
    EXPECT_EQ(decoded.value(), e);
    EXPECT_EQ(EncodeEvent(decoded.value()), bytes);
  }
  EXPECT_EQ(kinds.size(), size_t{kEventKindMax}) << "the scenario must emit every kind";
  EXPECT_EQ(w.Replayed()->StateDigest(), w.payments.StateDigest());
}

TEST(Events, EveryTruncationIsRefused) {
  for (const Event& e : EveryKindWorld().log) {
    const std::vector<uint8_t> bytes = EncodeEvent(e);
    for (size_t n = 0; n < bytes.size(); ++n) {
      const auto decoded = DecodeEvent(std::span(bytes.data(), n));
      ASSERT_FALSE(decoded.ok()) << EventKindName(e.kind) << " cut at " << n;
    }
  }
}

// Texts go back into JSON (payment objects, webhook bodies): a record whose text is not valid
// UTF-8 is damaged and refused, never rendered as invalid JSON.
TEST(Events, TextsThatAreNotValidUtf8AreRefused) {
  size_t checked = 0;
  for (const Event& e : EveryKindWorld().log) {
    const std::vector<uint8_t> bytes = EncodeEvent(e);
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    const size_t at = text.find("A-1");  // the rich payment's metadata value
    if (at == std::string_view::npos) continue;
    for (const int bad : {0xff, 0xc0, 0x80, 0xed}) {  // never valid, overlong, lone, surrogate lead
      std::vector<uint8_t> damaged = bytes;
      damaged[at] = static_cast<uint8_t>(bad);
      const auto decoded = DecodeEvent(damaged);
      // bad_value, or truncated when the refusal stops the record's later reads short
      EXPECT_FALSE(decoded.ok()) << EventKindName(e.kind) << " byte " << bad;
    }
    ++checked;
  }
  EXPECT_GT(checked, 0u);
}

TEST(Events, FlippedBytesDecodeToAnErrorOrToAnEventThatEncodesBackExactly) {
  const uint64_t seed = test_support::TestSeed("Events.FlippedBytes");
  std::mt19937_64 rng(seed);
  for (const Event& e : EveryKindWorld().log) {
    const std::vector<uint8_t> bytes = EncodeEvent(e);
    for (size_t i = 0; i < bytes.size(); ++i) {
      std::vector<uint8_t> flipped = bytes;
      flipped[i] = static_cast<uint8_t>(flipped[i] ^ (1u + rng() % 255));
      const auto decoded = DecodeEvent(flipped);
      if (decoded.ok()) {
        ASSERT_EQ(EncodeEvent(decoded.value()), flipped)
            << EventKindName(e.kind) << " byte " << i << " " << test_support::SeedTrace(seed);
      }
    }
  }
}

TEST(Events, RandomBytesNeverCrashTheDecoder) {
  const uint64_t seed = test_support::TestSeed("Events.RandomBytes");
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 20'000; ++i) {
    std::vector<uint8_t> bytes(rng() % 600);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    if (!bytes.empty()) bytes[0] = kEventFormatVersion;  // get past the version byte
    if (bytes.size() > 1) bytes[1] = static_cast<uint8_t>(1 + rng() % kEventKindMax);
    const auto decoded = DecodeEvent(bytes);
    if (decoded.ok()) {
      EXPECT_EQ(EncodeEvent(decoded.value()), bytes);
    }
  }
}

std::vector<uint8_t> Header(EventKind kind) {
  BinaryWriter w;
  w.U8(kEventFormatVersion);
  w.U8(static_cast<uint8_t>(kind));
  w.U64(kT0Ms);
  return w.Take();
}

TEST(Events, HostileHeadersCountsAndSizes) {
  EXPECT_EQ(DecodeEvent({}).error(), EventDecodeError::truncated);
  std::vector<uint8_t> bytes = Header(EventKind::fx_rates_updated);
  bytes[0] = 2;
  EXPECT_EQ(DecodeEvent(bytes).error(), EventDecodeError::bad_version);
  bytes = Header(static_cast<EventKind>(0));
  EXPECT_EQ(DecodeEvent(bytes).error(), EventDecodeError::bad_kind);
  bytes = Header(static_cast<EventKind>(kEventKindMax + 1));
  EXPECT_EQ(DecodeEvent(bytes).error(), EventDecodeError::bad_kind);
  // A rates event claiming 2^32-1 rows, and one claiming none.
  BinaryWriter huge;
  huge.Bytes(Header(EventKind::fx_rates_updated));
  huge.U32(UINT32_MAX);
  EXPECT_EQ(DecodeEvent(huge.buffer()).error(), EventDecodeError::bad_value);
  BinaryWriter empty;
  empty.Bytes(Header(EventKind::fx_rates_updated));
  empty.U32(0);
  EXPECT_EQ(DecodeEvent(empty.buffer()).error(), EventDecodeError::bad_value);
  // A good event with one byte more.
  std::vector<uint8_t> good = EncodeEvent(EveryKindWorld().log.front());
  good.push_back(0);
  EXPECT_EQ(DecodeEvent(good).error(), EventDecodeError::trailing_bytes);
  const std::vector<uint8_t> oversized(kEventBytesMax + 1, 0);
  EXPECT_EQ(DecodeEvent(oversized).error(), EventDecodeError::too_large);
}

TEST(Events, APaymentWithAHostileMetadataCountIsRefusedWithoutAllocating) {
  Event e;
  e.kind = EventKind::payment_created;
  e.payment = Payment{};
  e.payment->id = PaymentId(1);
  e.payment->amount = Amt(5);
  std::vector<uint8_t> bytes = EncodeEvent(e);
  // Layout: header (10), id (8), amount (16), asset (4), merchant (16), customer (16),
  // capture method (1), description (4 + 0), then the metadata count.
  const size_t count_at = 10 + 8 + 16 + 4 + 16 + 16 + 1 + 4;
  for (const uint32_t count : {uint32_t{kMetadataKeysMax + 1}, UINT32_MAX, uint32_t{49}}) {
    std::vector<uint8_t> hostile = bytes;
    for (int i = 0; i < 4; ++i)
      hostile[count_at + static_cast<size_t>(i)] = static_cast<uint8_t>(count >> (8 * i));
    EXPECT_FALSE(DecodeEvent(hostile).ok()) << count;
  }
}

TEST(Apply, RefusesEventsThatContradictTheState) {
  Payments payments;
  Event succeeded;
  succeeded.kind = EventKind::payment_succeeded;
  succeeded.payment = Payment{};
  succeeded.payment->id = PaymentId(1);
  succeeded.payment->amount = Amt(1);
  EXPECT_FALSE(payments.Apply(succeeded));  // unknown payment
  Event created = succeeded;
  created.kind = EventKind::payment_created;
  created.payment->id = PaymentId(2);
  EXPECT_FALSE(payments.Apply(created));  // out of sequence
  created.payment->id = PaymentId(1);
  EXPECT_TRUE(payments.Apply(created));
  EXPECT_FALSE(payments.Apply(created));  // twice
  Event refund = succeeded;
  refund.kind = EventKind::refund_created;
  refund.refund = RefundId(1);
  EXPECT_FALSE(payments.Apply(refund));  // the payment lists no such refund
  refund.payment->refunds.push_back(Refund{});
  refund.payment->refunds.back().id = RefundId(7);
  refund.refund = RefundId(7);
  EXPECT_FALSE(payments.Apply(refund));  // listed, but refund 1 is the next one
  Event from_the_future = succeeded;
  from_the_future.payment->refunds = refund.payment->refunds;
  EXPECT_FALSE(payments.Apply(from_the_future));  // lists a refund not created yet
  refund.payment->refunds.back().id = RefundId(1);
  refund.payment->state = PaymentState::succeeded;
  refund.refund = RefundId(1);
  EXPECT_TRUE(payments.Apply(refund));
  EXPECT_EQ(payments.Stats().by_state[static_cast<size_t>(PaymentState::succeeded)], 1u);
  EXPECT_EQ(payments.Stats().by_state[static_cast<size_t>(PaymentState::requires_confirmation)], 0u);
  Event coupon;
  coupon.kind = EventKind::coupon_updated;
  coupon.coupon = Coupon{};
  coupon.coupon->code = "X";
  EXPECT_FALSE(payments.Apply(coupon));  // not created
  coupon.kind = EventKind::coupon_created;
  EXPECT_TRUE(payments.Apply(coupon));
  EXPECT_FALSE(payments.Apply(coupon));
  Event quote;
  quote.kind = EventKind::fx_quote_created;
  quote.quote = FxQuote{};
  quote.quote->id = QuoteId(5);
  EXPECT_FALSE(payments.Apply(quote));  // expected fxq_1
  Event missing;
  missing.kind = EventKind::customer_updated;
  EXPECT_FALSE(payments.Apply(missing));  // no record
}

}  // namespace
}  // namespace tpw::payments::test
