// Funding choice, coupons, points and FX, on a real ledger.
#include <gtest/gtest.h>

#include "payments/test_util.h"

namespace tpw::payments::test {
namespace {

Reply Pay(World& w, Command c) {
  c.confirm = true;
  return w.Run(c);
}

// ---- funding choice -------------------------------------------------------------------------

TEST(FundingChoice, PriorityDecidesAmongSameAssetSources) {
  World w;
  w.RegisterCustomer(kCustomer, {{Acct(kWalletUsd), kUsd, SourceKind::balance, {}, 5},
                                 {Acct(kWalletUsd2), kUsd, SourceKind::balance, {}, 1}});
  w.Fund(kWalletUsd2, 10'000, kUsd);
  const Reply reply = Pay(w, w.Create(1'000));
  ASSERT_TRUE(reply.ok()) << reply.detail;
  EXPECT_EQ(reply.payment->funding.source_account, Acct(kWalletUsd2));
  EXPECT_EQ(reply.payment->funding.reason, "priority 1");
}

TEST(FundingChoice, ATransitScenarioPicksTheTransitPurse) {
  World w;
  Command c = w.Create(250);
  c.scenario = "transit";
  const Reply reply = Pay(w, c);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.payment->funding.source_account, Acct(kTransitUsd));
  EXPECT_EQ(reply.payment->funding.source_kind, SourceKind::transit);
  EXPECT_EQ(reply.payment->funding.reason, "scenario transit");
}

TEST(FundingChoice, ATransitPurseIsNotSpentOutsideItsScenario) {
  World w;
  // The purse has priority 0 (better than the wallet's 1) but no scenario: the wallet pays.
  const Reply reply = Pay(w, w.Create(250));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.payment->funding.source_account, Acct(kWalletUsd));
  Command web = w.Create(250);
  web.scenario = "web";
  EXPECT_EQ(Pay(w, web).payment->funding.source_account, Acct(kWalletUsd));
}

TEST(FundingChoice, APreferredSourceWithoutEnoughBalanceIsSkipped) {
  World w;
  Command c = w.Create(6'000);  // the transit purse holds 50.00
  c.scenario = "transit";
  const Reply reply = Pay(w, c);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.payment->funding.source_account, Acct(kWalletUsd));
}

TEST(FundingChoice, HeldFundsAreNotAvailableTwice) {
  World w;
  w.RegisterCustomer(kCustomer, {{Acct(kTransitUsd), kUsd, SourceKind::transit, {"transit"}, 0}});
  Command c = w.Create(3'000);
  c.scenario = "transit";
  ASSERT_TRUE(Pay(w, c).ok());  // holds 30.00 of 50.00
  const Reply second = Pay(w, c);
  EXPECT_EQ(second.error, PaymentError::insufficient_funds);
  EXPECT_NE(second.detail.find("2000 available, needs 3000"), std::string::npos) << second.detail;
  EXPECT_EQ(second.payment->state, PaymentState::requires_confirmation);
}

TEST(FundingChoice, SameAssetIsPreferredOverFxAtEqualPriority) {
  World w;
  w.SetupFx();
  w.RegisterCustomer(kCustomer, {{Acct(kWalletEur), kEur, SourceKind::balance, {}, 1},
                                 {Acct(kWalletUsd), kUsd, SourceKind::balance, {}, 1}});
  const Reply reply = Pay(w, w.Create(1'000));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.payment->funding.source_account, Acct(kWalletUsd));
  EXPECT_FALSE(reply.payment->funding.fx);
}

TEST(FundingChoice, AnExplicitSourceOverridesTheChoice) {
  World w;
  w.SetupFx();
  Command c = w.Create(1'000);
  c.confirm_options.source_account = Acct(kWalletEur);
  const Reply reply = Pay(w, c);
  ASSERT_TRUE(reply.ok()) << reply.detail;
  EXPECT_EQ(reply.payment->funding.source_account, Acct(kWalletEur));
  EXPECT_EQ(reply.payment->funding.reason, "override, fx");
}

TEST(FundingChoice, AnOverrideMustBeOneOfTheCustomersMoneySources) {
  World w;
  Command c = w.Create(1'000);
  c.confirm_options.source_account = Acct(kMerchant);
  Reply reply = Pay(w, c);
  EXPECT_EQ(reply.error, PaymentError::invalid_request);
  EXPECT_EQ(reply.param, "source_account");
  c.confirm_options.source_account = Acct(kPointsAcct);  // points are not a money source
  EXPECT_EQ(Pay(w, c).param, "source_account");
}

TEST(FundingChoice, NothingUsableOrNotEnoughAnywhere) {
  World w;
  w.RegisterCustomer(kCustomer2, {{Acct(kWalletEur), kEur, SourceKind::balance, {}, 0}});
  Command c = w.Create(1'000);
  c.customer = CustomerId(kCustomer2);
  EXPECT_EQ(Pay(w, c).error, PaymentError::fx_rate_missing);
  w.RegisterCustomer(kCustomer2, {});
  EXPECT_EQ(Pay(w, c).error, PaymentError::no_funding_source);
  EXPECT_EQ(Pay(w, w.Create(100'000'000)).error, PaymentError::insufficient_funds);
}

// ---- customers ------------------------------------------------------------------------------

TEST(Customers, SourcesAreCheckedAgainstTheLedger) {
  World w;
  Command c;
  c.kind = CommandKind::upsert_customer;
  c.customer_record.id = CustomerId(kCustomer2);
  c.customer_record.sources = {{Acct(9999), kUsd, SourceKind::balance, {}, 0}};
  EXPECT_EQ(w.Run(c).error, PaymentError::account_not_found);
  c.customer_record.sources = {{Acct(kWalletEur), kUsd, SourceKind::balance, {}, 0}};
  EXPECT_EQ(w.Run(c).error, PaymentError::account_asset_mismatch);
  c.customer_record.sources = {{Acct(kWalletUsd), kUsd, SourceKind::balance, {}, 0},
                               {Acct(kWalletUsd), kUsd, SourceKind::balance, {}, 1}};
  EXPECT_EQ(w.Run(c).param, "sources[1].account");
  c.customer_record.sources = {{Acct(kWalletUsd), kUsd, SourceKind::balance, {"bad tag"}, 0}};
  EXPECT_EQ(w.Run(c).param, "sources[0].tags[0]");
  c.customer_record.sources.assign(kFundingSourcesMax + 1, FundingSource{});
  EXPECT_EQ(w.Run(c).error, PaymentError::limit_exceeded);
  c.customer_record.sources.clear();
  c.customer_record.id = CustomerId(0);
  EXPECT_EQ(w.Run(c).param, "id");
}

TEST(Customers, UpsertKeepsTheCreationTimeAndReadsBack) {
  World w;
  const uint64_t created = w.payments.FindCustomer(CustomerId(kCustomer))->created_at_ms;
  w.now_ms += 5'000;
  w.RegisterCustomer(kCustomer, {{Acct(kWalletUsd), kUsd, SourceKind::balance, {}, 0}});
  Command get;
  get.kind = CommandKind::get_customer;
  get.customer = CustomerId(kCustomer);
  const Reply reply = w.Run(get);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.customer->created_at_ms, created);
  EXPECT_EQ(reply.customer->updated_at_ms, w.now_ms);
  EXPECT_EQ(reply.customer->sources.size(), 1u);
  get.customer = CustomerId(5);
  EXPECT_EQ(w.Run(get).error, PaymentError::customer_not_found);
}

// ---- coupons --------------------------------------------------------------------------------

Coupon FixedCoupon(const std::string& code, u128 off) {
  Coupon c;
  c.code = code;
  c.kind = CouponKind::fixed;
  c.amount_off = Amt(off);
  c.asset = kUsd;
  return c;
}

Coupon PercentCoupon(const std::string& code, uint32_t bps) {
  Coupon c;
  c.code = code;
  c.kind = CouponKind::percent;
  c.percent_off_bps = bps;
  return c;
}

Reply AddCoupon(World& w, const Coupon& coupon) {
  Command c;
  c.kind = CommandKind::create_coupon;
  c.coupon = coupon;
  return w.Run(c);
}

Command WithCoupon(const World& w, u128 amount, const std::string& code) {
  Command c = w.Create(amount, CaptureMethod::automatic);
  c.coupon_code = code;
  c.confirm = true;
  return c;
}

TEST(Coupons, AFixedCouponIsMerchantFunded) {
  World w;
  ASSERT_TRUE(AddCoupon(w, FixedCoupon("FIVE", 500)).ok());
  const __int128 wallet = w.Net(kWalletUsd);
  const Reply reply = w.Run(WithCoupon(w, 2'000, "FIVE"));
  ASSERT_TRUE(reply.ok()) << reply.detail;
  EXPECT_EQ(reply.payment->funding.coupon_discount, Amt(500));
  EXPECT_EQ(reply.payment->funding.amount_charged, Amt(1'500));
  EXPECT_EQ(reply.payment->amount_captured, Amt(1'500));
  EXPECT_EQ(w.Net(kWalletUsd), wallet - 1'500);
  EXPECT_EQ(w.Net(kMerchant), 1'500);
  EXPECT_EQ(w.payments.FindCoupon(AccountId(), "FIVE")->redemptions, 1u);
}

TEST(Coupons, APercentCouponRoundsTheDiscountDown) {
  World w;
  ASSERT_TRUE(AddCoupon(w, PercentCoupon("TENPC", 1'000)).ok());
  const Reply reply = w.Run(WithCoupon(w, 1'999, "TENPC"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.payment->funding.coupon_discount, Amt(199));  // 199.9 -> 199
  EXPECT_EQ(w.Net(kMerchant), 1'800);
}

TEST(Coupons, AFixedCouponAboveTheAmountWouldChargeNothingAndIsRefused) {
  World w;
  ASSERT_TRUE(AddCoupon(w, FixedCoupon("BIG", 5'000)).ok());
  const Reply reply = w.Run(WithCoupon(w, 1'000, "BIG"));
  EXPECT_EQ(reply.error, PaymentError::coupon_not_applicable);
  EXPECT_EQ(w.payments.FindCoupon(AccountId(), "BIG")->redemptions, 0u);
}

TEST(Coupons, MinimumSpendExpiryMerchantAndAssetRules) {
  World w;
  Coupon min = FixedCoupon("MIN", 100);
  min.min_spend = Amt(5'000);
  Coupon expiring = FixedCoupon("OLD", 100);
  expiring.expires_at_ms = w.now_ms + 1'000;
  Coupon shop = FixedCoupon("SHOP", 100);
  shop.merchant_account = Acct(kOtherMerchant);
  Coupon euro = FixedCoupon("EURO", 100);
  euro.asset = kEur;
  for (const Coupon& c : {min, expiring, shop, euro}) ASSERT_TRUE(AddCoupon(w, c).ok());
  EXPECT_EQ(w.Run(WithCoupon(w, 4'999, "MIN")).error, PaymentError::coupon_min_spend);
  EXPECT_TRUE(w.Run(WithCoupon(w, 5'000, "MIN")).ok());
  EXPECT_TRUE(w.Run(WithCoupon(w, 1'000, "OLD")).ok());
  w.now_ms += 1'000;
  EXPECT_EQ(w.Run(WithCoupon(w, 1'000, "OLD")).error, PaymentError::coupon_expired);
  // Another merchant's coupon is not found: its codes are its own (MerchantsHaveTheirOwnCodes).
  EXPECT_EQ(w.Run(WithCoupon(w, 1'000, "SHOP")).error, PaymentError::coupon_not_found);
  EXPECT_EQ(w.Run(WithCoupon(w, 1'000, "EURO")).error, PaymentError::coupon_not_applicable);
}

// A single-use coupon "ONCE" and a held payment of 10.00 USD that uses it (not yet run).
Command HeldWithSingleUseCoupon(World& w) {
  Coupon once = FixedCoupon("ONCE", 100);
  once.single_use = true;
  EXPECT_TRUE(AddCoupon(w, once).ok());
  Command held = WithCoupon(w, 1'000, "ONCE");
  held.capture_method = CaptureMethod::manual;
  return held;
}

TEST(Coupons, SingleUseIsRedeemedOnceAndACancelGivesItBack) {
  World w;
  const Command held = HeldWithSingleUseCoupon(w);
  const Reply first = w.Run(held);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(w.log.back().kind, EventKind::coupon_updated);
  EXPECT_EQ(w.Run(WithCoupon(w, 1'000, "ONCE")).error, PaymentError::coupon_redeemed);
  ASSERT_TRUE(w.Run(w.Cancel(first.payment->id)).ok());
  EXPECT_EQ(w.payments.FindCoupon(AccountId(), "ONCE")->redemptions, 0u);
  EXPECT_TRUE(w.Run(WithCoupon(w, 1'000, "ONCE")).ok());
  EXPECT_EQ(w.Run(WithCoupon(w, 1'000, "ONCE")).error, PaymentError::coupon_redeemed);
}

TEST(Coupons, AnExpiredHoldGivesTheCouponBack) {
  World w;
  Command held = HeldWithSingleUseCoupon(w);
  held.hold_timeout_seconds = 10;
  ASSERT_TRUE(w.Run(held).ok());
  ASSERT_EQ(w.ExpireAt(w.now_ms + 11'000).payments.size(), 1u);
  EXPECT_EQ(w.payments.FindCoupon(AccountId(), "ONCE")->redemptions, 0u);
}

TEST(Coupons, ConfirmMayAddOrRemoveTheCoupon) {
  World w;
  ASSERT_TRUE(AddCoupon(w, FixedCoupon("FIVE", 500)).ok());
  Command create = w.Create(2'000);
  create.coupon_code = "FIVE";
  const PaymentId id = w.Run(create).payment->id;
  Command confirm = w.Confirm(id);
  confirm.confirm_options.coupon_code = "";
  const Reply reply = w.Run(confirm);
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply.payment->funding.coupon_code.empty());
  EXPECT_EQ(reply.payment->amount_capturable, Amt(2'000));
}

Reply GetCoupon(World& w, const std::string& code, AccountId merchant = AccountId()) {
  Command get;
  get.kind = CommandKind::get_coupon;
  get.coupon_code = code;
  get.merchant_account = merchant;
  return w.Run(get);
}

// Two merchants may each have "SALE"; a payment gets its merchant's; a platform coupon's code
// is kept apart from every merchant's (so a payment never has two coupons for one code), and
// a merchant creating a code tells it nothing about other merchants' codes.
TEST(Coupons, MerchantsHaveTheirOwnCodes) {
  World w;
  Coupon ours = FixedCoupon("SALE", 100);
  ours.merchant_account = Acct(kMerchant);
  Coupon theirs = FixedCoupon("SALE", 300);
  theirs.merchant_account = Acct(kOtherMerchant);
  ASSERT_TRUE(AddCoupon(w, theirs).ok());
  ASSERT_TRUE(AddCoupon(w, ours).ok());  // another merchant's SALE does not stand in the way
  EXPECT_EQ(AddCoupon(w, ours).error, PaymentError::coupon_exists);
  EXPECT_EQ(AddCoupon(w, FixedCoupon("SALE", 1)).error, PaymentError::coupon_exists);  // platform
  ASSERT_TRUE(AddCoupon(w, FixedCoupon("WIDE", 50)).ok());
  Coupon shadow = FixedCoupon("WIDE", 60);
  shadow.merchant_account = Acct(kMerchant);
  EXPECT_EQ(AddCoupon(w, shadow).error, PaymentError::coupon_exists);

  Reply paid = w.Run(WithCoupon(w, 1'000, "SALE"));
  ASSERT_TRUE(paid.ok()) << paid.detail;
  EXPECT_EQ(paid.payment->funding.coupon_discount, Amt(100));
  Command at_other = WithCoupon(w, 1'000, "SALE");
  at_other.merchant_account = Acct(kOtherMerchant);
  paid = w.Run(at_other);
  ASSERT_TRUE(paid.ok()) << paid.detail;
  EXPECT_EQ(paid.payment->funding.coupon_discount, Amt(300));
  at_other.coupon_code = "WIDE";  // the platform's: good at every merchant
  EXPECT_EQ(w.Run(at_other).payment->funding.coupon_discount, Amt(50));
  EXPECT_EQ(w.payments.FindCoupon(Acct(kMerchant), "SALE")->redemptions, 1u);
  EXPECT_EQ(w.payments.FindCoupon(Acct(kOtherMerchant), "SALE")->redemptions, 1u);
  EXPECT_EQ(w.payments.FindCoupon(AccountId(), "WIDE")->redemptions, 1u);

  EXPECT_EQ(GetCoupon(w, "SALE", Acct(kOtherMerchant)).coupon->amount_off, Amt(300));
  EXPECT_EQ(GetCoupon(w, "WIDE", Acct(kOtherMerchant)).coupon->amount_off, Amt(50));
  EXPECT_EQ(GetCoupon(w, "WIDE").coupon->amount_off, Amt(50));
  const Reply ambiguous = GetCoupon(w, "SALE");  // two merchants have it: say which
  EXPECT_EQ(ambiguous.error, PaymentError::invalid_request);
  EXPECT_EQ(ambiguous.param, "merchant_account_id");
  EXPECT_EQ(GetCoupon(w, "SALE", Acct(kSplitA)).error, PaymentError::coupon_not_found);
  EXPECT_EQ(GetCoupon(w, "NONE").error, PaymentError::coupon_not_found);

  EXPECT_EQ(w.Replayed()->StateDigest(), w.payments.StateDigest());
  EXPECT_EQ(w.Reloaded()->StateDigest(), w.payments.StateDigest());
  EXPECT_EQ(w.Reloaded()->FindCoupon(Acct(kOtherMerchant), "SALE")->redemptions, 1u);
}

TEST(Coupons, CreationChecks) {
  World w;
  ASSERT_TRUE(AddCoupon(w, FixedCoupon("A", 1)).ok());
  EXPECT_EQ(AddCoupon(w, FixedCoupon("A", 1)).error, PaymentError::coupon_exists);
  EXPECT_EQ(AddCoupon(w, FixedCoupon("has space", 1)).param, "code");
  EXPECT_EQ(AddCoupon(w, FixedCoupon("", 1)).param, "code");
  EXPECT_EQ(AddCoupon(w, FixedCoupon("ZERO", 0)).param, "amount_off");
  Coupon no_asset = FixedCoupon("NOASSET", 1);
  no_asset.asset = 0;
  EXPECT_EQ(AddCoupon(w, no_asset).param, "asset");
  EXPECT_EQ(AddCoupon(w, PercentCoupon("P0", 0)).param, "percent_off_bps");
  EXPECT_EQ(AddCoupon(w, PercentCoupon("P2", 10'001)).param, "percent_off_bps");
  Coupon min_without_asset = PercentCoupon("PMIN", 10);
  min_without_asset.min_spend = Amt(5);
  EXPECT_EQ(AddCoupon(w, min_without_asset).param, "min_spend");
  Coupon unknown_merchant = FixedCoupon("UM", 1);
  unknown_merchant.merchant_account = Acct(9999);
  EXPECT_EQ(AddCoupon(w, unknown_merchant).error, PaymentError::account_not_found);
  Command get;
  get.kind = CommandKind::get_coupon;
  get.coupon_code = "A";
  EXPECT_TRUE(w.Run(get).coupon.has_value());
  get.coupon_code = "B";
  EXPECT_EQ(w.Run(get).error, PaymentError::coupon_not_found);
}

// ---- points ---------------------------------------------------------------------------------

Command WithPoints(const World& w, u128 amount, CaptureMethod method) {
  Command c = w.Create(amount, method);
  c.use_points = true;
  c.confirm = true;
  return c;
}

TEST(Points, PointsPayFirstAndTheRestComesFromTheSource) {
  World w;
  w.SetupPoints(10);                 // 10 points = 1 cent
  w.Fund(kPointsAcct, 3'005, kPts);  // worth 300 cents (5 points left over)
  const __int128 wallet = w.Net(kWalletUsd);
  const Reply reply = w.Run(WithPoints(w, 1'000, CaptureMethod::automatic));
  ASSERT_TRUE(reply.ok()) << reply.detail;
  const FundingDecision& f = reply.payment->funding;
  EXPECT_EQ(f.points_value, Amt(300));
  EXPECT_EQ(f.points_used, Amt(3'000));
  EXPECT_EQ(f.amount_charged, Amt(700));
  EXPECT_EQ(w.Net(kPointsAcct), 5);
  EXPECT_EQ(w.Net(kPointsSink), 3'000);
  EXPECT_EQ(w.Net(kWalletUsd), wallet - 700);
  EXPECT_EQ(w.Net(kMerchant), 1'000);
  EXPECT_EQ(w.Net(kPointsFunding), 10'000'000 - 300);
}

TEST(Points, APaymentPointsCoverEntirelyNeedsNoMoneySource) {
  World w;
  w.SetupPoints(1);
  w.Fund(kPointsAcct, 5'000, kPts);
  const Reply reply = w.Run(WithPoints(w, 1'000, CaptureMethod::manual));
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply.payment->money_hold.is_zero());
  EXPECT_FALSE(reply.payment->points_hold.is_zero());
  EXPECT_EQ(reply.payment->funding.reason, "points");
  EXPECT_EQ(w.risk->last_event.account, kPointsAcct);
  ASSERT_TRUE(w.Run(w.Capture(reply.payment->id, 400)).ok());
  EXPECT_EQ(w.Net(kPointsAcct), 5'000 - 400);
  EXPECT_EQ(w.Pending(kPointsAcct), 0);
  EXPECT_EQ(w.Net(kMerchant), 400);
}

TEST(Points, PartialCaptureUsesPointsFirstAndReleasesTheRest) {
  World w;
  w.SetupPoints(1);
  w.Fund(kPointsAcct, 300, kPts);
  const __int128 wallet = w.Net(kWalletUsd);
  const Reply held = w.Run(WithPoints(w, 1'000, CaptureMethod::manual));
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(w.Run(w.Capture(held.payment->id, 200)).ok());
  // 200 captured: all from points (100 points released); the money hold is voided.
  EXPECT_EQ(w.Net(kPointsAcct), 100);
  EXPECT_EQ(w.Pending(kPointsAcct), 0);
  EXPECT_EQ(w.Net(kWalletUsd), wallet);
  EXPECT_EQ(w.Pending(kWalletUsd), 0);
  EXPECT_EQ(w.ledger.GetPendingStatus(held.payment->money_hold), ledger::PendingStatus::voided);
}

TEST(Points, RefundsReturnMoneyFirstThenPoints) {
  World w;
  w.SetupPoints(2);
  w.Fund(kPointsAcct, 600, kPts);  // worth 300
  const __int128 wallet = w.Net(kWalletUsd);
  const Reply paid = w.Run(WithPoints(w, 1'000, CaptureMethod::automatic));
  ASSERT_TRUE(paid.ok());
  const Reply money = w.Run(w.RefundOf(paid.payment->id, 800));
  ASSERT_TRUE(money.ok());
  EXPECT_EQ(money.payment->refunds[0].money, Amt(700));
  EXPECT_EQ(money.payment->refunds[0].points_value, Amt(100));
  EXPECT_EQ(money.payment->refunds[0].points, Amt(200));
  EXPECT_EQ(w.Net(kWalletUsd), wallet);
  EXPECT_EQ(w.Net(kPointsAcct), 200);
  ASSERT_TRUE(w.Run(w.RefundOf(paid.payment->id)).ok());
  EXPECT_EQ(w.Net(kPointsAcct), 600);
  EXPECT_EQ(w.Net(kPointsSink), 0);
  EXPECT_EQ(w.Net(kPointsFunding), 10'000'000);
  EXPECT_EQ(w.Net(kMerchant), 0);
}

TEST(Points, WithoutAProgramForThePaymentAssetUsePointsIsRefused) {
  World w;
  EXPECT_EQ(w.Run(WithPoints(w, 1'000, CaptureMethod::manual)).error,
            PaymentError::points_program_missing);
}

TEST(Points, ProgramChecks) {
  World w;
  Command c;
  c.kind = CommandKind::set_points_program;
  c.program = {false, kPts, kUsd, 0, Acct(kPointsSink), Acct(kPointsFunding), 0};
  EXPECT_EQ(w.Run(c).param, "points_per_minor_unit");
  c.program.points_per_minor_unit = 1;
  c.program.money_asset = kPts;
  EXPECT_EQ(w.Run(c).param, "points_asset");
  c.program.money_asset = kUsd;
  c.program.sink_account = Acct(kMerchant);
  EXPECT_EQ(w.Run(c).error, PaymentError::account_asset_mismatch);
  c.program.sink_account = Acct(kPointsSink);
  ASSERT_TRUE(w.Run(c).ok());
  Command get;
  get.kind = CommandKind::get_points_program;
  EXPECT_TRUE(w.Run(get).program->configured);
}

// ---- FX -------------------------------------------------------------------------------------

Command FromEur(const World& w, u128 amount, CaptureMethod method) {
  Command c = w.Create(amount, method);
  c.confirm_options.source_account = Acct(kWalletEur);
  c.confirm = true;
  return c;
}

TEST(Fx, ACrossAssetPaymentGoesThroughTheLiquidityAccounts) {
  World w;
  w.SetupFx("0.9");
  const __int128 eur = w.Net(kWalletEur), fx_eur = w.Net(kFxEur), fx_usd = w.Net(kFxUsd);
  const Reply held = w.Run(FromEur(w, 10'000, CaptureMethod::manual));
  ASSERT_TRUE(held.ok()) << held.detail;
  const FundingDecision& f = held.payment->funding;
  EXPECT_TRUE(f.fx);
  EXPECT_EQ(f.amount_charged_source, Amt(9'000));
  EXPECT_EQ(f.rate, *ParseRate("0.9"));
  EXPECT_EQ(f.rate_source, "ecb");
  EXPECT_EQ(w.Pending(kWalletEur), 9'000);
  ASSERT_TRUE(w.Run(w.Capture(held.payment->id)).ok());
  EXPECT_EQ(w.Net(kWalletEur), eur - 9'000);
  EXPECT_EQ(w.Net(kFxEur), fx_eur + 9'000);
  EXPECT_EQ(w.Net(kFxUsd), fx_usd - 10'000);
  EXPECT_EQ(w.Net(kMerchant), 10'000);
}

TEST(Fx, TheCustomerPaysRoundedUpAndRefundsRoundDownExceptInFull) {
  World w;
  w.SetupFx("0.333");
  const __int128 eur = w.Net(kWalletEur);
  const Reply paid = w.Run(FromEur(w, 1'001, CaptureMethod::automatic));
  ASSERT_TRUE(paid.ok());
  EXPECT_EQ(paid.payment->captured_money_source, Amt(334));  // 333.333 -> 334
  const Reply part = w.Run(w.RefundOf(paid.payment->id, 500));
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part.payment->refunds[0].money_source, Amt(166));  // 166.5 -> 166
  ASSERT_TRUE(w.Run(w.RefundOf(paid.payment->id)).ok());
  EXPECT_EQ(w.Net(kWalletEur), eur);  // the full refund gives back exactly what was paid
  EXPECT_EQ(w.Net(kMerchant), 0);
}

TEST(Fx, ConversionBetweenScales) {
  World w;
  w.SetupFx("0.9", "150.5");
  w.Fund(kWalletJpy, 1'000'000, kJpy);
  w.RegisterCustomer(kCustomer2, {{Acct(kWalletJpy), kJpy, SourceKind::balance, {}, 0}});
  Command c = w.Create(1'999);  // 19.99 USD at 150.5 JPY/USD = 3008.495 JPY -> 3009
  c.customer = CustomerId(kCustomer2);
  c.confirm = true;
  const Reply reply = w.Run(c);
  ASSERT_TRUE(reply.ok()) << reply.detail;
  EXPECT_EQ(reply.payment->funding.amount_charged_source, Amt(3'009));
}

TEST(Fx, MissingLiquidityAccountsAreRefused) {
  World w;
  Command rates;
  rates.kind = CommandKind::put_fx_rates;
  rates.rates = {{kUsd, kEur, "0.9", "ecb", 0}};
  ASSERT_TRUE(w.Run(rates).ok());
  EXPECT_EQ(w.Run(FromEur(w, 1'000, CaptureMethod::manual)).error,
            PaymentError::fx_account_missing);
}

TEST(Fx, RatesAreCheckedAndEachPutReplacesItsPair) {
  World w;
  Command c;
  c.kind = CommandKind::put_fx_rates;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"0", "rates[0].rate"},
      {"-1", "rates[0].rate"},
      {"1.", "rates[0].rate"},
      {".5", "rates[0].rate"},
      {"01.5", "rates[0].rate"},
      {"1e3", "rates[0].rate"},
      {"1.0000000000000000001", "rates[0].rate"},
      {"123456789012345678901", "rates[0].rate"}};
  for (const auto& [text, param] : bad) {
    c.rates = {{kUsd, kEur, text, "ecb", 0}};
    EXPECT_EQ(w.Run(c).param, param) << text;
  }
  c.rates = {{kUsd, kUsd, "1", "ecb", 0}};
  EXPECT_EQ(w.Run(c).param, "rates[0].to_asset");
  c.rates = {{kUsd, 77, "1", "ecb", 0}};
  EXPECT_EQ(w.Run(c).param, "rates[0].to_asset");
  c.rates = {{kUsd, kEur, "1", "", 0}};
  EXPECT_EQ(w.Run(c).param, "rates[0].source");
  c.rates = {{kUsd, kEur, "1", "a", 0}, {kUsd, kEur, "2", "b", 0}};
  EXPECT_EQ(w.Run(c).param, "rates[1]");
  c.rates.clear();
  EXPECT_EQ(w.Run(c).param, "rates");
  c.rates = {{kUsd, kEur, "0.91", "ecb", 5}};
  ASSERT_TRUE(w.Run(c).ok());
  c.rates = {{kUsd, kEur, "0.92", "desk", 6}};
  ASSERT_TRUE(w.Run(c).ok());
  Command list;
  list.kind = CommandKind::list_fx_rates;
  const Reply rows = w.Run(list);
  ASSERT_EQ(rows.rates.size(), 1u);
  EXPECT_EQ(FormatRate(rows.rates[0].rate), "0.92");
  EXPECT_EQ(rows.rates[0].source, "desk");
}

Reply Quote(World& w, uint64_t ttl_ms, uint32_t slippage_bps, uint32_t to = kEur) {
  Command c;
  c.kind = CommandKind::create_fx_quote;
  c.quote_request = {kUsd, to, ttl_ms, slippage_bps};
  return w.Run(c);
}

TEST(Fx, AQuoteFixesTheRateUntilItExpires) {
  World w;
  w.SetupFx("0.9");
  const Reply quote = Quote(w, 60'000, 100);
  ASSERT_TRUE(quote.ok());
  EXPECT_EQ(FormatQuoteId(quote.quote->id), "fxq_1");
  Command rates;
  rates.kind = CommandKind::put_fx_rates;
  rates.rates = {{kUsd, kEur, "0.905", "ecb", 0}};  // moved 0.55%: within 1%
  ASSERT_TRUE(w.Run(rates).ok());
  Command pay = FromEur(w, 10'000, CaptureMethod::manual);
  pay.confirm_options.quote = quote.quote->id;
  const Reply reply = w.Run(pay);
  ASSERT_TRUE(reply.ok()) << reply.detail;
  EXPECT_EQ(reply.payment->funding.amount_charged_source, Amt(9'000));  // the quoted 0.9
  EXPECT_EQ(reply.payment->funding.quote, quote.quote->id);
  w.now_ms += 60'000;
  EXPECT_EQ(w.Run(pay).error, PaymentError::quote_expired);
}

TEST(Fx, AQuoteTooFarFromTheCurrentRateIsRefused) {
  World w;
  w.SetupFx("0.9");
  const QuoteId id = Quote(w, 60'000, 50).quote->id;
  Command rates;
  rates.kind = CommandKind::put_fx_rates;
  rates.rates = {{kUsd, kEur, "0.9046", "ecb", 0}};  // 0.511% > 0.5%
  ASSERT_TRUE(w.Run(rates).ok());
  Command pay = FromEur(w, 10'000, CaptureMethod::manual);
  pay.confirm_options.quote = id;
  EXPECT_EQ(w.Run(pay).error, PaymentError::quote_slippage_exceeded);
  rates.rates = {{kUsd, kEur, "0.9045", "ecb", 0}};  // 0.4975%: allowed
  ASSERT_TRUE(w.Run(rates).ok());
  EXPECT_TRUE(w.Run(pay).ok());
}

TEST(Fx, QuoteChecks) {
  World w;
  w.SetupFx();
  EXPECT_EQ(Quote(w, 0, 10).param, "ttl_ms");
  EXPECT_EQ(Quote(w, kQuoteTtlMsMax + 1, 10).param, "ttl_ms");
  EXPECT_EQ(Quote(w, 1'000, 10'001).param, "max_slippage_bps");
  EXPECT_EQ(Quote(w, 1'000, 10, kPts).error, PaymentError::fx_rate_missing);
  const QuoteId jpy = Quote(w, 60'000, 10, kJpy).quote->id;
  Command pay = FromEur(w, 1'000, CaptureMethod::manual);
  pay.confirm_options.quote = jpy;  // a USD->JPY quote cannot pay from the EUR wallet
  EXPECT_EQ(w.Run(pay).error, PaymentError::quote_mismatch);
  pay.confirm_options.quote = QuoteId(99);
  EXPECT_EQ(w.Run(pay).error, PaymentError::quote_not_found);
  Command get;
  get.kind = CommandKind::get_fx_quote;
  get.quote = jpy;
  EXPECT_EQ(w.Run(get).quote->to_asset, kJpy);
  get.quote = QuoteId(99);
  EXPECT_EQ(w.Run(get).error, PaymentError::quote_not_found);
}

TEST(Fx, ExpiredQuotesAreForgottenWhenTheNextIsCreated) {
  World w;
  w.SetupFx();
  ASSERT_TRUE(Quote(w, 1'000, 10).ok());
  w.now_ms += 1'000;
  ASSERT_TRUE(Quote(w, 1'000, 10).ok());
  EXPECT_EQ(w.payments.Stats().fx_quotes, 1u);
}

TEST(Fx, LiquidityAccountChecks) {
  World w;
  Command c;
  c.kind = CommandKind::set_fx_account;
  c.fx_account = {kEur, Acct(kFxUsd)};
  EXPECT_EQ(w.Run(c).error, PaymentError::account_asset_mismatch);
  c.fx_account = {77, Acct(kFxUsd)};
  EXPECT_EQ(w.Run(c).param, "asset");
  c.fx_account = {kUsd, Acct(9999)};
  EXPECT_EQ(w.Run(c).error, PaymentError::account_not_found);
}

}  // namespace
}  // namespace tpw::payments::test
