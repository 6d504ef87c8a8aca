// Replay and snapshots give the live state back exactly; seeded random scenarios never create or
// lose a minor unit: every ledger balance matches what the payment records say moved.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "common/test_seed.h"
#include "payments/test_util.h"

namespace tpw::payments::test {
namespace {

using test_support::SeedTrace;
using test_support::TestSeed;

// ---- a seeded scenario ----------------------------------------------------------------------

class Scenario {
 public:
  explicit Scenario(uint64_t seed) : rng_(seed) {
    w_.SetupFx("0.937");
    w_.SetupPoints(3);
    w_.Fund(kPointsAcct, 20'000, kPts);
    w_.Fund(kWalletEur, 10'000'000, kEur);
    w_.Fund(kWalletUsd, 10'000'000, kUsd);
    for (const auto& [code, bps] : {std::pair{"P5", 500u}, std::pair{"P33", 3'333u}}) {
      Command c;
      c.kind = CommandKind::create_coupon;
      c.coupon.code = code;
      c.coupon.kind = CouponKind::percent;
      c.coupon.percent_off_bps = bps;
      EXPECT_TRUE(w_.Run(c).ok());
    }
    for (const u128 id : {kWalletUsd, kWalletEur, kPointsAcct, kMerchant, kSplitA, kSplitB,
                          kFeeAcct, kFxUsd, kFxEur, kPointsSink, kPointsFunding}) {
      initial_[id] = w_.Net(id);
    }
  }

  void Step() {
    switch (rng_() % 6) {
      case 0:
      case 1:
        CreateAndConfirm();
        break;
      case 2:
        CaptureSome();
        break;
      case 3:
        CancelSome();
        break;
      case 4:
        RefundSome();
        break;
      case 5:
        w_.ExpireAt(w_.now_ms + rng_() % 20'000);
        break;
    }
    w_.now_ms += 1 + rng_() % 1'000;
  }

  World& world() { return w_; }
  __int128 Initial(u128 id) const { return initial_.at(id); }

 private:
  u128 Below(u128 limit) { return limit == 0 ? 0 : u128{rng_()} % limit; }
  Split RandomShare(u128 account) {
    if (rng_() % 2 == 0) return {Acct(account), Amt(0), static_cast<uint32_t>(1 + rng_() % 3'000)};
    return {Acct(account), Amt(1 + Below(300)), 0};
  }

  void CreateAndConfirm() {
    Command c = w_.Create(1 + Below(60'000),
                          rng_() % 2 == 0 ? CaptureMethod::automatic : CaptureMethod::manual);
    if (rng_() % 2 == 0) c.splits.push_back(RandomShare(kSplitA));
    if (rng_() % 3 == 0) c.splits.push_back(RandomShare(kSplitB));
    if (rng_() % 2 == 0) c.platform_fee = RandomShare(kFeeAcct);
    if (rng_() % 4 == 0) c.coupon_code = rng_() % 2 == 0 ? "P5" : "P33";
    c.use_points = rng_() % 4 == 0;
    if (rng_() % 3 == 0) c.confirm_options.source_account = Acct(kWalletEur);
    c.hold_timeout_seconds = static_cast<uint32_t>(1 + rng_() % 30);
    c.confirm_options.cvm_performed = risk::Cvm::strong;
    c.confirm = true;
    w_.Run(c);
  }

  const Payment* Pick(PaymentState state) {
    std::vector<const Payment*> found;
    for (uint64_t n = 1; const Payment* p = w_.payments.FindPayment(PaymentId(n)); ++n) {
      if (p->state == state) found.push_back(p);
    }
    return found.empty() ? nullptr : found[rng_() % found.size()];
  }

  void CaptureSome() {
    const Payment* p = Pick(PaymentState::requires_capture);
    if (p == nullptr) return;
    const u128 amount =
        rng_() % 3 == 0 ? p->amount_capturable.minor() : 1 + Below(p->amount_capturable.minor());
    w_.Run(w_.Capture(p->id, amount));
  }

  void CancelSome() {
    const Payment* p = Pick(rng_() % 2 == 0 ? PaymentState::requires_capture
                                            : PaymentState::requires_confirmation);
    if (p != nullptr) w_.Run(w_.Cancel(p->id));
  }

  void RefundSome() {
    const Payment* p = Pick(PaymentState::succeeded);
    if (p == nullptr) return;
    const u128 left = p->amount_captured.minor() - p->amount_refunded.minor();
    Command c = w_.RefundOf(p->id, rng_() % 3 == 0 ? left : 1 + Below(left));
    c.reverse_splits = rng_() % 2 == 0;
    c.refund_fee = rng_() % 2 == 0;
    w_.Run(c);
  }

  std::mt19937_64 rng_;
  World w_;
  std::map<u128, __int128> initial_;
};

__int128 I(Amount a) { return static_cast<__int128>(a.minor()); }

Amount ExpectedShare(const Split& split, Amount captured) {
  if (split.basis_points == 0) return split.amount;
  return Amount::FromMinor(captured.minor() * split.basis_points / kBasisPointsWhole);
}

// What the payment records say each account gained; compared with the ledger afterwards.
void CheckLedgerMatchesRecords(const Scenario& s, const World& w, uint64_t seed) {
  std::map<u128, __int128> gained;
  for (uint64_t n = 1; const Payment* p = w.payments.FindPayment(PaymentId(n)); ++n) {
    const FundingDecision& f = p->funding;
    ASSERT_LE(p->amount_refunded, p->amount_captured) << SeedTrace(seed);
    Amount refunds;
    for (const Refund& r : p->refunds) refunds = *refunds.CheckedAdd(r.amount);
    ASSERT_EQ(refunds, p->amount_refunded) << SeedTrace(seed);
    if (p->amount_captured.is_zero()) continue;
    // Shares, computed here independently (captured < 2^64 in this scenario).
    __int128 shares = 0;
    for (size_t i = 0; i < p->splits.size(); ++i) {
      ASSERT_EQ(p->payouts[i].amount, ExpectedShare(p->splits[i], p->amount_captured))
          << SeedTrace(seed);
      gained[p->payouts[i].account.value] += I(p->payouts[i].amount) - I(p->payouts[i].reversed);
      shares += I(p->payouts[i].amount) - I(p->payouts[i].reversed);
    }
    if (!p->fee_payout.account.is_zero()) {
      ASSERT_EQ(p->fee_payout.amount, ExpectedShare(p->platform_fee, p->amount_captured));
      gained[kFeeAcct] += I(p->fee_payout.amount) - I(p->fee_payout.reversed);
      shares += I(p->fee_payout.amount) - I(p->fee_payout.reversed);
    }
    // The merchant keeps what was captured, minus refunds and the shares still paid out.
    gained[kMerchant] += I(p->amount_captured) - I(p->amount_refunded) - shares;
    ASSERT_EQ(p->captured_money.minor() + p->captured_points_value.minor(),
              p->amount_captured.minor());
    if (f.fx) {  // USD -> EUR, both 2 decimals: customer pays rounded up, refunds round down
      const u128 exact = p->captured_money.minor() * f.rate.e18;  // < 2^124 here
      const u128 e18 = u128{1'000'000'000'000'000'000ull};
      ASSERT_EQ(p->captured_money_source.minor(), exact / e18 + (exact % e18 != 0 ? 1 : 0))
          << SeedTrace(seed);
      const u128 back = p->refunded_money == p->captured_money
                            ? p->captured_money_source.minor()
                            : p->refunded_money.minor() * f.rate.e18 / e18;
      ASSERT_EQ(p->refunded_money_source.minor(), back) << SeedTrace(seed);
    }
    const __int128 money_source = I(p->captured_money_source) - I(p->refunded_money_source);
    gained[f.source_account.value] -= money_source;
    if (f.fx) {
      gained[kFxEur] += money_source;
      gained[kFxUsd] -= I(p->captured_money) - I(p->refunded_money);
    }
    const __int128 points_value = I(p->captured_points_value) - I(p->refunded_points_value);
    gained[kPointsFunding] -= points_value;
    gained[kPointsSink] += points_value * 3;
    gained[kPointsAcct] -= points_value * 3;
  }
  for (const u128 id : {kWalletUsd, kWalletEur, kPointsAcct, kMerchant, kSplitA, kSplitB, kFeeAcct,
                        kFxUsd, kFxEur, kPointsSink, kPointsFunding}) {
    EXPECT_EQ(w.Net(id) - s.Initial(id), gained[id])
        << "account " << U128ToDecimal(id) << " " << SeedTrace(seed);
  }
}

TEST(Property, RandomScenariosNeverCreateOrLoseAMinorUnit) {
  const uint64_t seed = TestSeed("Property.RandomScenariosNeverCreateOrLoseAMinorUnit");
  std::map<std::string, int> seen;  // what the runs exercised: the property is not vacuous
  for (int run = 0; run < 6; ++run) {
    Scenario s(seed + static_cast<uint64_t>(run));
    for (int step = 0; step < 150; ++step) s.Step();
    World& w = s.world();
    // Every hold still open is exactly what the ledger holds pending.
    __int128 pending_usd = 0;
    for (uint64_t n = 1; const Payment* p = w.payments.FindPayment(PaymentId(n)); ++n) {
      if (p->state == PaymentState::requires_capture &&
          p->funding.source_account == Acct(kWalletUsd) &&
          w.ledger.GetPendingStatus(p->money_hold) == ledger::PendingStatus::pending) {
        pending_usd += I(p->funding.amount_charged_source);
      }
    }
    EXPECT_EQ(w.Pending(kWalletUsd), pending_usd) << SeedTrace(seed);
    for (uint64_t n = 1; const Payment* p = w.payments.FindPayment(PaymentId(n)); ++n) {
      seen["captured"] += p->amount_captured.is_zero() ? 0 : 1;
      seen["fx"] += p->funding.fx && !p->amount_captured.is_zero() ? 1 : 0;
      seen["points"] += p->captured_points.is_zero() ? 0 : 1;
      seen["partial"] += !p->amount_captured.is_zero() &&
                                 p->amount_captured.minor() + p->funding.coupon_discount.minor() <
                                     p->amount.minor()
                             ? 1
                             : 0;
      seen["reversed"] += !p->payouts.empty() && !p->payouts[0].reversed.is_zero() ? 1 : 0;
      seen["expired"] += p->cancel_reason == CancelReason::expired ? 1 : 0;
      seen["failed"] += p->last_error == PaymentError::ledger_refused ? 1 : 0;
    }
    CheckLedgerMatchesRecords(s, w, seed + static_cast<uint64_t>(run));
    for (const ledger::LedgerTotals& t : w.ledger.Totals()) {
      EXPECT_EQ(t.debits_posted, t.credits_posted) << "ledger " << t.ledger;
    }
    EXPECT_EQ(w.Replayed()->StateDigest(), w.payments.StateDigest()) << SeedTrace(seed);
    EXPECT_EQ(w.Reloaded()->StateDigest(), w.payments.StateDigest()) << SeedTrace(seed);
  }
  for (const char* what : {"captured", "fx", "points", "partial", "reversed", "expired"}) {
    EXPECT_GT(seen[what], 0) << what << " never happened; " << SeedTrace(seed);
  }
  for (const auto& [what, count] : seen) std::printf("[ seen     ] %s: %d\n", what.c_str(), count);
}

// ---- snapshots ------------------------------------------------------------------------------

std::vector<uint8_t> Snapshot(const Payments& payments) {
  VectorSink sink;
  payments.Save(sink);
  return sink.data;
}

World& ScenarioWorld() {
  static Scenario* scenario = [] {
    auto* s = new Scenario(42);
    for (int i = 0; i < 60; ++i) s->Step();
    return s;
  }();
  return scenario->world();
}

TEST(Snapshot, SaveLoadAndReplayGiveTheSameState) {
  World& w = ScenarioWorld();
  ASSERT_GT(w.payments.Stats().payments, 5u);
  const std::unique_ptr<Payments> loaded = w.Reloaded();
  EXPECT_EQ(loaded->StateDigest(), w.payments.StateDigest());
  EXPECT_EQ(Snapshot(*loaded), Snapshot(w.payments));
  EXPECT_EQ(w.Replayed()->StateDigest(), w.payments.StateDigest());
  for (uint64_t n = 1; const Payment* p = w.payments.FindPayment(PaymentId(n)); ++n) {
    EXPECT_EQ(*loaded->FindPayment(p->id), *p);
    if (!p->money_hold.is_zero()) {
      EXPECT_EQ(loaded->FindPaymentByHold(p->money_hold), loaded->FindPayment(p->id));
    }
  }
}

TEST(Snapshot, ALoadedStateContinuesLikeTheLiveOne) {
  World& w = ScenarioWorld();
  std::unique_ptr<Payments> loaded = w.Reloaded();
  // Events the live module emits next apply to the loaded one (numbers continue).
  const size_t from = w.log.size();
  const Payment p = w.CreatePaid(777, CaptureMethod::automatic);
  ASSERT_TRUE(w.Run(w.RefundOf(p.id, 7)).ok());
  for (size_t i = from; i < w.log.size(); ++i) ASSERT_TRUE(loaded->Apply(w.log[i]));
  EXPECT_EQ(loaded->StateDigest(), w.payments.StateDigest());
}

TEST(Snapshot, TruncatedOrDamagedSnapshotsAreRefused) {
  const std::vector<uint8_t> bytes = Snapshot(ScenarioWorld().payments);
  const uint64_t seed = TestSeed("Snapshot.TruncatedOrDamagedSnapshotsAreRefused");
  std::mt19937_64 rng(seed);
  for (size_t n = 0; n < bytes.size(); n += 1 + n / 50) {
    VectorSource source(std::span(bytes.data(), n));
    Payments fresh;
    EXPECT_FALSE(fresh.Load(source)) << "cut at " << n;
  }
  for (int i = 0; i < 3'000; ++i) {
    std::vector<uint8_t> damaged = bytes;
    const size_t at = 8 + rng() % (damaged.size() - 8);  // past the length prefix
    damaged[at] = static_cast<uint8_t>(damaged[at] ^ (1u + rng() % 255));
    VectorSource source(damaged);
    Payments fresh;
    if (fresh.Load(source)) {  // a value that still parses: it must save back to those bytes
      EXPECT_EQ(Snapshot(fresh), damaged) << "byte " << at << " " << SeedTrace(seed);
    }
  }
  // One byte more inside the blob (its u64 length prefix says so): trailing bytes are refused.
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  const uint64_t size = bytes.size() - 8 + 1;
  for (int i = 0; i < 8; ++i)
    longer[static_cast<size_t>(i)] = static_cast<uint8_t>(size >> (8 * i));
  VectorSource source(longer);
  Payments fresh;
  EXPECT_FALSE(fresh.Load(source));
}

TEST(Snapshot, TheLayoutFingerprintIsStable) {
  EXPECT_NE(Payments::StateLayoutFingerprint(), 0u);
  EXPECT_EQ(Payments::StateLayoutFingerprint(), Payments::StateLayoutFingerprint());
  Payments empty;
  EXPECT_EQ(Payments().StateDigest(), empty.StateDigest());
}

}  // namespace
}  // namespace tpw::payments::test
