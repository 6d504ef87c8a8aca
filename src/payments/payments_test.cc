// The payment intent state machine and its money flows, on a real ledger and a real risk engine.
#include <gtest/gtest.h>

#include <functional>

#include "payments/test_util.h"

namespace tpw::payments::test {
namespace {

// ---- the transition table -------------------------------------------------------------------

enum class Action { confirm, capture, cancel, refund };

const char* ActionName(Action a) {
  switch (a) {
    case Action::confirm:
      return "confirm";
    case Action::capture:
      return "capture";
    case Action::cancel:
      return "cancel";
    case Action::refund:
      return "refund";
  }
  return "?";
}

// Brings a fresh payment of 100.00 USD (manual capture) into `state`.
PaymentId PaymentIn(World& w, PaymentState state) {
  Command create = w.Create(10'000);
  if (state == PaymentState::requires_action) {
    create.confirm = true;
    create.confirm_options.risk.device = 777;  // this device needs a PIN
  }
  const Reply created = w.Run(create);
  EXPECT_TRUE(created.ok());
  const PaymentId id = created.payment->id;
  if (state == PaymentState::requires_capture || state == PaymentState::succeeded) {
    EXPECT_TRUE(w.Run(w.Confirm(id)).ok());
  }
  if (state == PaymentState::succeeded) {
    EXPECT_TRUE(w.Run(w.Capture(id)).ok());
  }
  if (state == PaymentState::canceled) {
    EXPECT_TRUE(w.Run(w.Cancel(id)).ok());
  }
  EXPECT_EQ(w.payments.FindPayment(id)->state, state);
  return id;
}

Command ActionCommand(const World& w, Action action, PaymentId id) {
  switch (action) {
    case Action::confirm: {
      Command c = w.Confirm(id);
      c.confirm_options.risk.device = 777;
      c.confirm_options.cvm_performed = risk::Cvm::pin;
      return c;
    }
    case Action::capture:
      return w.Capture(id);
    case Action::cancel:
      return w.Cancel(id);
    case Action::refund:
      return w.RefundOf(id);
  }
  return {};
}

struct Transition {
  PaymentState from;
  Action action;
  PaymentError error;  // ok: allowed
  PaymentState to;
};

constexpr PaymentState kRc = PaymentState::requires_confirmation;
constexpr PaymentState kRa = PaymentState::requires_action;
constexpr PaymentState kRcap = PaymentState::requires_capture;
constexpr PaymentState kOk = PaymentState::succeeded;
constexpr PaymentState kX = PaymentState::canceled;
constexpr PaymentError kAllowed = PaymentError::ok;
constexpr PaymentError kRefused = PaymentError::payment_state_invalid;

const Transition kTable[] = {
    {kRc, Action::confirm, kAllowed, kRcap},   {kRc, Action::capture, kRefused, kRc},
    {kRc, Action::cancel, kAllowed, kX},       {kRc, Action::refund, kRefused, kRc},
    {kRa, Action::confirm, kAllowed, kRcap},   {kRa, Action::capture, kRefused, kRa},
    {kRa, Action::cancel, kAllowed, kX},       {kRa, Action::refund, kRefused, kRa},
    {kRcap, Action::confirm, kRefused, kRcap}, {kRcap, Action::capture, kAllowed, kOk},
    {kRcap, Action::cancel, kAllowed, kX},     {kRcap, Action::refund, kRefused, kRcap},
    {kOk, Action::confirm, kRefused, kOk},     {kOk, Action::capture, kRefused, kOk},
    {kOk, Action::cancel, kRefused, kOk},      {kOk, Action::refund, kAllowed, kOk},
    {kX, Action::confirm, kRefused, kX},       {kX, Action::capture, kRefused, kX},
    {kX, Action::cancel, kRefused, kX},        {kX, Action::refund, kRefused, kX},
};

TEST(PaymentStateMachine, EveryTransitionIsAllowedOrRefusedAsTheTableSays) {
  for (const Transition& t : kTable) {
    SCOPED_TRACE(std::string(PaymentStateName(t.from)) + " + " + ActionName(t.action));
    World w;
    const PaymentId id = PaymentIn(w, t.from);
    const size_t events_before = w.log.size();
    const Reply reply = w.Run(ActionCommand(w, t.action, id));
    EXPECT_EQ(reply.error, t.error) << reply.detail;
    EXPECT_EQ(w.payments.FindPayment(id)->state, t.to);
    if (t.error != kAllowed) {
      EXPECT_EQ(w.log.size(), events_before);
      EXPECT_NE(reply.detail.find(PaymentStateName(t.from)), std::string::npos) << reply.detail;
    }
    EXPECT_EQ(w.Replayed()->StateDigest(), w.payments.StateDigest());
  }
}

TEST(PaymentStateMachine, RequiresActionNeedsTheVerificationRiskAskedFor) {
  World w;
  const PaymentId id = PaymentIn(w, PaymentState::requires_action);
  EXPECT_EQ(w.payments.FindPayment(id)->risk.required_cvm, risk::Cvm::pin);
  Command confirm = w.Confirm(id);
  confirm.confirm_options.risk.device = 777;
  EXPECT_EQ(w.Run(confirm).error, PaymentError::cvm_insufficient);
  confirm.confirm_options.cvm_performed = risk::Cvm::pin;
  const Reply reply = w.Run(confirm);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.payment->state, PaymentState::requires_capture);
  EXPECT_EQ(reply.payment->risk.cvm_performed, risk::Cvm::pin);
}

TEST(PaymentStateMachine, CreateEmitsCreatedAndStartsAtRequiresConfirmation) {
  World w;
  const size_t before = w.log.size();
  const Reply reply = w.Run(w.Create(500));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.payment->state, PaymentState::requires_confirmation);
  EXPECT_EQ(FormatPaymentId(reply.payment->id), "pay_1");
  ASSERT_EQ(w.log.size(), before + 1);
  EXPECT_EQ(w.log.back().kind, EventKind::payment_created);
  EXPECT_EQ(reply.payment->hold_timeout_seconds, kHoldTimeoutSecondsDefault);
}

// ---- capture --------------------------------------------------------------------------------

TEST(Capture, AutomaticCaptureMovesTheMoneyInOneCommand) {
  World w;
  const __int128 wallet = w.Net(kWalletUsd);
  const Payment p = w.CreatePaid(12'345, CaptureMethod::automatic);
  EXPECT_EQ(p.state, PaymentState::succeeded);
  EXPECT_EQ(p.amount_captured, Amt(12'345));
  EXPECT_EQ(w.Net(kWalletUsd), wallet - 12'345);
  EXPECT_EQ(w.Net(kMerchant), 12'345);
  EXPECT_EQ(w.Pending(kWalletUsd), 0);
  EXPECT_EQ(w.ledger.GetPendingStatus(p.money_hold), ledger::PendingStatus::posted);
  EXPECT_EQ(w.log.back().kind, EventKind::payment_succeeded);
}

TEST(Capture, ManualCaptureHoldsThenPosts) {
  World w;
  const Payment held = w.CreatePaid(10'000, CaptureMethod::manual);
  EXPECT_EQ(held.state, PaymentState::requires_capture);
  EXPECT_EQ(held.amount_capturable, Amt(10'000));
  EXPECT_EQ(w.Pending(kWalletUsd), 10'000);
  EXPECT_EQ(w.Net(kMerchant), 0);
  EXPECT_EQ(held.hold_expires_at_ms, w.now_ms + uint64_t{kHoldTimeoutSecondsDefault} * 1000);
  EXPECT_EQ(w.log.back().kind, EventKind::payment_amount_capturable_updated);
  const Reply captured = w.Run(w.Capture(held.id));
  ASSERT_TRUE(captured.ok());
  EXPECT_EQ(w.Pending(kWalletUsd), 0);
  EXPECT_EQ(w.Net(kMerchant), 10'000);
}

TEST(Capture, PartialCaptureReleasesTheRest) {
  World w;
  const __int128 wallet = w.Net(kWalletUsd);
  const Payment held = w.CreatePaid(10'000, CaptureMethod::manual);
  const Reply captured = w.Run(w.Capture(held.id, 6'000));
  ASSERT_TRUE(captured.ok());
  EXPECT_EQ(captured.payment->amount_captured, Amt(6'000));
  EXPECT_EQ(captured.payment->amount_capturable, Amt(0));
  EXPECT_EQ(w.Pending(kWalletUsd), 0);
  EXPECT_EQ(w.Net(kWalletUsd), wallet - 6'000);
  EXPECT_EQ(w.Net(kMerchant), 6'000);
}

TEST(Capture, DoubleCaptureIsRefused) {
  World w;
  const Payment held = w.CreatePaid(10'000, CaptureMethod::manual);
  ASSERT_TRUE(w.Run(w.Capture(held.id, 4'000)).ok());
  const Reply again = w.Run(w.Capture(held.id, 1'000));
  EXPECT_EQ(again.error, PaymentError::payment_state_invalid);
  EXPECT_EQ(w.Net(kMerchant), 4'000);
}

TEST(Capture, MoreThanCapturableIsRefused) {
  World w;
  const Payment held = w.CreatePaid(10'000, CaptureMethod::manual);
  const Reply reply = w.Run(w.Capture(held.id, 10'001));
  EXPECT_EQ(reply.error, PaymentError::amount_exceeds_capturable);
  EXPECT_EQ(reply.param, "amount_to_capture");
  EXPECT_EQ(w.Run(w.Capture(held.id, 0)).error, PaymentError::invalid_request);
}

TEST(Capture, AfterCancelIsRefused) {
  World w;
  const Payment held = w.CreatePaid(10'000, CaptureMethod::manual);
  ASSERT_TRUE(w.Run(w.Cancel(held.id)).ok());
  EXPECT_EQ(w.Run(w.Capture(held.id)).error, PaymentError::payment_state_invalid);
  EXPECT_EQ(w.Net(kMerchant), 0);
}

// A held payment of 100.00 USD whose hold expires after 60 s.
PaymentId HeldForAMinute(World& w) {
  Command create = w.Create(10'000);
  create.hold_timeout_seconds = 60;
  create.confirm = true;
  const Reply held = w.Run(create);
  EXPECT_TRUE(held.ok());
  return held.payment->id;
}

// Lets the ledger expire the hold without telling the module yet.
std::vector<ledger::ExpiredTransfer> ExpireInTheLedgerOnly(World& w) {
  std::vector<ledger::ExpiredTransfer> expired;
  (void)w.ledger.ExpirePendingTransfers(Timestamp{(w.now_ms + 61'000) * 1'000'000}, 10, expired);
  w.now_ms += 62'000;
  return expired;
}

TEST(Capture, AfterExpiryIsRefused) {
  World w;
  const PaymentId id = HeldForAMinute(w);
  const Reply expired = w.ExpireAt(w.now_ms + 61'000);
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired.payments.size(), 1u);
  EXPECT_EQ(w.payments.FindPayment(id)->state, PaymentState::canceled);
  EXPECT_EQ(w.payments.FindPayment(id)->cancel_reason, CancelReason::expired);
  EXPECT_EQ(w.Pending(kWalletUsd), 0);
  EXPECT_EQ(w.Run(w.Capture(id)).error, PaymentError::payment_state_invalid);
}

TEST(Capture, HoldExpiredAtTheLedgerButNotYetReportedIsRefused) {
  World w;
  const PaymentId id = HeldForAMinute(w);
  const std::vector<ledger::ExpiredTransfer> expired = ExpireInTheLedgerOnly(w);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(w.Run(w.Capture(id)).error, PaymentError::hold_expired);
  // The report comes later and cancels it.
  Command report;
  report.kind = CommandKind::expire_holds;
  report.expired_transfers = {expired[0].id, TransferId(12345)};  // a foreign id is ignored
  const Reply reply = w.Run(report);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.payments.size(), 1u);
  EXPECT_EQ(w.payments.FindPayment(id)->cancel_reason, CancelReason::expired);
  // Reporting it again changes nothing.
  const size_t events = w.log.size();
  EXPECT_TRUE(w.Run(report).payments.empty());
  EXPECT_EQ(w.log.size(), events);
}

TEST(Capture, CancelOfAHoldTheLedgerExpiredStillCancels) {
  World w;
  const PaymentId id = HeldForAMinute(w);
  ExpireInTheLedgerOnly(w);
  const Reply reply = w.Run(w.Cancel(id, CancelReason::abandoned));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.payment->cancel_reason, CancelReason::abandoned);
  EXPECT_EQ(w.Pending(kWalletUsd), 0);
}

// ---- cancel ---------------------------------------------------------------------------------

TEST(Cancel, ReleasesTheHold) {
  World w;
  const __int128 wallet = w.Net(kWalletUsd);
  const Payment held = w.CreatePaid(10'000, CaptureMethod::manual);
  const Reply reply = w.Run(w.Cancel(held.id, CancelReason::duplicate));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.payment->cancel_reason, CancelReason::duplicate);
  EXPECT_EQ(reply.payment->amount_capturable, Amt(0));
  EXPECT_EQ(w.ledger.GetPendingStatus(held.money_hold), ledger::PendingStatus::voided);
  EXPECT_EQ(w.Pending(kWalletUsd), 0);
  EXPECT_EQ(w.Net(kWalletUsd), wallet);
  EXPECT_EQ(w.log.back().kind, EventKind::payment_canceled);
}

TEST(Cancel, ReasonMustBeOneACallerMayGive) {
  World w;
  const PaymentId id = w.Run(w.Create(100)).payment->id;
  for (const CancelReason reason :
       {CancelReason::none, CancelReason::expired, CancelReason::declined_by_risk}) {
    const Reply reply = w.Run(w.Cancel(id, reason));
    EXPECT_EQ(reply.error, PaymentError::invalid_request);
    EXPECT_EQ(reply.param, "cancellation_reason");
  }
}

// ---- refunds --------------------------------------------------------------------------------

TEST(Refund, PartialAndRepeatedUpToTheCapturedAmount) {
  World w;
  const __int128 wallet = w.Net(kWalletUsd);
  const Payment p = w.CreatePaid(10'000, CaptureMethod::automatic);
  const Reply first = w.Run(w.RefundOf(p.id, 3'000));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(FormatRefundId(*first.refund), "re_1");
  EXPECT_EQ(w.log.back().kind, EventKind::refund_created);
  ASSERT_TRUE(w.Run(w.RefundOf(p.id, 2'000)).ok());
  const Reply over = w.Run(w.RefundOf(p.id, 5'001));
  EXPECT_EQ(over.error, PaymentError::refund_exceeds_captured);
  EXPECT_NE(over.detail.find("5000"), std::string::npos) << over.detail;
  const Reply rest = w.Run(w.RefundOf(p.id));  // omitted = what is left
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest.payment->refunds.size(), 3u);
  EXPECT_EQ(rest.payment->refunds.back().amount, Amt(5'000));
  EXPECT_EQ(rest.payment->amount_refunded, Amt(10'000));
  EXPECT_EQ(rest.payment->state, PaymentState::succeeded);
  EXPECT_EQ(w.Net(kWalletUsd), wallet);
  EXPECT_EQ(w.Net(kMerchant), 0);
  const Reply none_left = w.Run(w.RefundOf(p.id, 1));
  EXPECT_EQ(none_left.error, PaymentError::refund_exceeds_captured);
  EXPECT_EQ(w.Run(w.RefundOf(p.id)).error, PaymentError::refund_exceeds_captured);
}

TEST(Refund, OfAPartialCaptureIsBoundByWhatWasCaptured) {
  World w;
  const Payment held = w.CreatePaid(10'000, CaptureMethod::manual);
  ASSERT_TRUE(w.Run(w.Capture(held.id, 2'500)).ok());
  EXPECT_EQ(w.Run(w.RefundOf(held.id, 2'501)).error, PaymentError::refund_exceeds_captured);
  EXPECT_TRUE(w.Run(w.RefundOf(held.id, 2'500)).ok());
}

TEST(Refund, ZeroIsRefused) {
  World w;
  const Payment p = w.CreatePaid(100, CaptureMethod::automatic);
  EXPECT_EQ(w.Run(w.RefundOf(p.id, 0)).error, PaymentError::invalid_request);
}

TEST(Refund, AtMostTheRefundLimitPerPayment) {
  World w;
  const Payment p = w.CreatePaid(kRefundsPerPaymentMax + 5, CaptureMethod::automatic);
  for (size_t i = 0; i < kRefundsPerPaymentMax; ++i) ASSERT_TRUE(w.Run(w.RefundOf(p.id, 1)).ok());
  EXPECT_EQ(w.Run(w.RefundOf(p.id, 1)).error, PaymentError::limit_exceeded);
}

// ---- splits and the platform fee ------------------------------------------------------------

Command SplitPayment(const World& w, u128 amount, CaptureMethod method) {
  Command c = w.Create(amount, method);
  c.splits = {{Acct(kSplitA), Amt(0), 3'333}, {Acct(kSplitB), Amt(100), 0}};
  c.platform_fee = {Acct(kFeeAcct), Amt(0), 250};
  c.confirm = true;
  return c;
}

TEST(Splits, SharesRoundDownAndTheMerchantKeepsTheRemainder) {
  World w;
  const Reply reply = w.Run(SplitPayment(w, 1'001, CaptureMethod::automatic));
  ASSERT_TRUE(reply.ok()) << reply.detail;
  // 33.33% of 1001 = 333.6333 -> 333; fixed 100; 2.5% of 1001 = 25.025 -> 25; merchant 543.
  EXPECT_EQ(w.Net(kSplitA), 333);
  EXPECT_EQ(w.Net(kSplitB), 100);
  EXPECT_EQ(w.Net(kFeeAcct), 25);
  EXPECT_EQ(w.Net(kMerchant), 543);
  ASSERT_EQ(reply.payment->payouts.size(), 2u);
  EXPECT_EQ(reply.payment->payouts[0].amount, Amt(333));
  EXPECT_EQ(reply.payment->fee_payout.amount, Amt(25));
}

TEST(Splits, PartialCaptureSharesTheCapturedAmount) {
  World w;
  const Reply held = w.Run(SplitPayment(w, 10'000, CaptureMethod::manual));
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(w.Run(w.Capture(held.payment->id, 1'000)).ok());
  EXPECT_EQ(w.Net(kSplitA), 333);  // 33.33% of 1000
  EXPECT_EQ(w.Net(kSplitB), 100);
  EXPECT_EQ(w.Net(kFeeAcct), 25);
  EXPECT_EQ(w.Net(kMerchant), 1'000 - 333 - 100 - 25);
}

TEST(Splits, CaptureTooSmallForTheFixedSharesIsRefused) {
  World w;
  const Reply held = w.Run(SplitPayment(w, 10'000, CaptureMethod::manual));
  ASSERT_TRUE(held.ok());
  const Reply reply = w.Run(w.Capture(held.payment->id, 100));
  EXPECT_EQ(reply.error, PaymentError::splits_exceed_amount);
  EXPECT_EQ(w.Net(kSplitB), 0);
}

TEST(Splits, SharesAboveTheAmountAreRefusedAtCreate) {
  World w;
  Command fixed = w.Create(1'000);
  fixed.splits = {{Acct(kSplitA), Amt(600), 0}, {Acct(kSplitB), Amt(401), 0}};
  EXPECT_EQ(w.Run(fixed).error, PaymentError::splits_exceed_amount);
  Command bps = w.Create(1'000);
  bps.splits = {{Acct(kSplitA), Amt(0), 6'000}};
  bps.platform_fee = {Acct(kFeeAcct), Amt(0), 4'001};
  EXPECT_EQ(w.Run(bps).error, PaymentError::splits_exceed_amount);
}

TEST(Splits, ReverseSplitsPullsSharesBackProportionallyAndExactlyInFull) {
  World w;
  const Reply paid = w.Run(SplitPayment(w, 1'001, CaptureMethod::automatic));
  ASSERT_TRUE(paid.ok());
  const PaymentId id = paid.payment->id;
  Command first = w.RefundOf(id, 500);
  first.reverse_splits = true;
  first.refund_fee = true;
  const Reply r1 = w.Run(first);
  ASSERT_TRUE(r1.ok()) << r1.detail;
  // floor(333 * 500 / 1001) = 166; floor(100 * 500 / 1001) = 49; floor(25 * 500 / 1001) = 12.
  EXPECT_EQ(w.Net(kSplitA), 333 - 166);
  EXPECT_EQ(w.Net(kSplitB), 100 - 49);
  EXPECT_EQ(w.Net(kFeeAcct), 25 - 12);
  Command rest = w.RefundOf(id);
  rest.reverse_splits = true;
  rest.refund_fee = true;
  ASSERT_TRUE(w.Run(rest).ok());
  EXPECT_EQ(w.Net(kSplitA), 0);
  EXPECT_EQ(w.Net(kSplitB), 0);
  EXPECT_EQ(w.Net(kFeeAcct), 0);
  EXPECT_EQ(w.Net(kMerchant), 0);
  const Payment& p = *w.payments.FindPayment(id);
  EXPECT_EQ(p.payouts[0].reversed, p.payouts[0].amount);
  EXPECT_EQ(p.fee_payout.reversed, Amt(25));
}

TEST(Splits, RefundWithoutReversalComesFromTheMerchantAlone) {
  World w;
  const Reply paid = w.Run(SplitPayment(w, 1'001, CaptureMethod::automatic));
  ASSERT_TRUE(paid.ok());
  ASSERT_TRUE(w.Run(w.RefundOf(paid.payment->id, 500)).ok());
  EXPECT_EQ(w.Net(kSplitA), 333);
  EXPECT_EQ(w.Net(kMerchant), 543 - 500);
}

TEST(Splits, ShareChecksAtCreate) {
  World w;
  auto run = [&](Split split, const char* param) {
    Command c = w.Create(1'000);
    c.splits = {split};
    const Reply reply = w.Run(c);
    EXPECT_FALSE(reply.ok());
    EXPECT_EQ(reply.param, param) << reply.detail;
    return reply.error;
  };
  EXPECT_EQ(run({Acct(kSplitA), Amt(1), 1}, "splits[0]"), PaymentError::invalid_request);
  EXPECT_EQ(run({Acct(kSplitA), Amt(0), 0}, "splits[0]"), PaymentError::invalid_request);
  EXPECT_EQ(run({Acct(kSplitA), Amt(0), 10'001}, "splits[0].basis_points"),
            PaymentError::invalid_request);
  EXPECT_EQ(run({Acct(kMerchant), Amt(1), 0}, "splits[0].account"), PaymentError::invalid_request);
  EXPECT_EQ(run({Acct(999), Amt(1), 0}, "splits[0].account"), PaymentError::account_not_found);
  EXPECT_EQ(run({Acct(kWalletEur), Amt(1), 0}, "splits[0].account"),
            PaymentError::account_asset_mismatch);
  Command too_many = w.Create(1'000);
  too_many.splits.assign(kSplitsMax + 1, Split{Acct(kSplitA), Amt(1), 0});
  EXPECT_EQ(w.Run(too_many).error, PaymentError::limit_exceeded);
  Command fee_without_account = w.Create(1'000);
  fee_without_account.platform_fee = {AccountId(), Amt(5), 0};
  EXPECT_EQ(w.Run(fee_without_account).param, "platform_fee.account");
}

// ---- create checks --------------------------------------------------------------------------

TEST(Create, RefusesBadInputWithTheParamAtFault) {
  World w;
  struct Case {
    const char* name;
    std::function<void(Command&)> edit;
    PaymentError error;
    const char* param;
  };
  const Case cases[] = {
      {"zero amount", [](Command& c) { c.amount = Amt(0); }, PaymentError::invalid_request,
       "amount"},
      {"unknown asset", [](Command& c) { c.asset = 77; }, PaymentError::invalid_request, "asset"},
      {"no merchant", [](Command& c) { c.merchant_account = Acct(9999); },
       PaymentError::account_not_found, "merchant_account"},
      {"merchant in EUR", [](Command& c) { c.merchant_account = Acct(kFxEur); },
       PaymentError::account_asset_mismatch, "merchant_account"},
      {"unknown customer", [](Command& c) { c.customer = CustomerId(4); },
       PaymentError::customer_not_found, "customer"},
      {"long description", [](Command& c) { c.description.assign(kDescriptionLengthMax + 1, 'x'); },
       PaymentError::invalid_request, "description"},
      {"bad scenario", [](Command& c) { c.scenario = "no spaces"; }, PaymentError::invalid_request,
       "scenario"},
      {"unknown coupon", [](Command& c) { c.coupon_code = "NOPE"; }, PaymentError::coupon_not_found,
       "coupon_code"},
      {"hold too long", [](Command& c) { c.hold_timeout_seconds = kHoldTimeoutSecondsMax + 1; },
       PaymentError::invalid_request, "hold_timeout_seconds"},
      {"repeated metadata key",
       [](Command& c) {
         c.metadata = {{"a", "1"}, {"a", "2"}};
       },
       PaymentError::invalid_request, "metadata.a"},
      {"too many metadata keys",
       [](Command& c) {
         for (size_t i = 0; i <= kMetadataKeysMax; ++i)
           c.metadata.push_back({std::to_string(i), ""});
       },
       PaymentError::invalid_request, "metadata"},
      {"long metadata value",
       [](Command& c) {
         c.metadata = {{"k", std::string(kMetadataValueLengthMax + 1, 'v')}};
       },
       PaymentError::invalid_request, "metadata.k"},
  };
  for (const Case& test_case : cases) {
    SCOPED_TRACE(test_case.name);
    Command c = w.Create(1'000);
    test_case.edit(c);
    const Reply reply = w.Run(c);
    EXPECT_EQ(reply.error, test_case.error) << reply.detail;
    EXPECT_EQ(reply.param, test_case.param);
    EXPECT_FALSE(PaymentErrorMessage(reply.error).empty());
  }
  EXPECT_EQ(w.payments.Stats().payments, 0u);
}

TEST(Create, MetadataIsStoredSortedByKey) {
  World w;
  Command c = w.Create(1'000);
  c.metadata = {{"order", "42"}, {"channel", "web"}};
  const Reply reply = w.Run(c);
  ASSERT_TRUE(reply.ok());
  const Metadata expected = {{"channel", "web"}, {"order", "42"}};
  EXPECT_EQ(reply.payment->metadata, expected);
}

TEST(Create, UnknownPaymentIdsAreNotFound) {
  World w;
  EXPECT_EQ(w.Run(w.Confirm(PaymentId(9))).error, PaymentError::payment_not_found);
  EXPECT_EQ(w.Run(w.Capture(PaymentId(9))).error, PaymentError::payment_not_found);
  EXPECT_EQ(w.Run(w.Cancel(PaymentId(0))).error, PaymentError::payment_not_found);
  EXPECT_EQ(w.Run(w.RefundOf(PaymentId(9))).error, PaymentError::payment_not_found);
  Command get;
  get.kind = CommandKind::get_payment;
  get.payment = PaymentId(1);
  EXPECT_EQ(w.Run(get).error, PaymentError::payment_not_found);
}

// ---- risk -----------------------------------------------------------------------------------

TEST(Risk, DeclineCancelsThePaymentAndRecordsWhy) {
  World w;
  Command c = w.Create(1'000, CaptureMethod::automatic);
  c.confirm = true;
  c.confirm_options.risk.device = 666;
  const Reply reply = w.Run(c);
  EXPECT_EQ(reply.error, PaymentError::declined_by_risk);
  ASSERT_TRUE(reply.payment);
  EXPECT_EQ(reply.payment->state, PaymentState::canceled);
  EXPECT_EQ(reply.payment->cancel_reason, CancelReason::declined_by_risk);
  EXPECT_EQ(reply.payment->risk.decision, risk::Decision::decline);
  EXPECT_EQ(reply.payment->risk.decided_by, "blocked_device");
  EXPECT_FALSE(reply.payment->funded);
  EXPECT_EQ(w.Pending(kWalletUsd), 0);
  ASSERT_GE(w.log.size(), 2u);
  EXPECT_EQ(w.log[w.log.size() - 2].kind, EventKind::payment_created);
  EXPECT_EQ(w.log.back().kind, EventKind::payment_canceled);
}

TEST(Risk, TheRiskEventDescribesThePayment) {
  World w;
  Command c = w.Create(1'000, CaptureMethod::automatic);
  c.confirm = true;
  c.confirm_options.risk.country = *risk::ParseCountry("FR");
  c.confirm_options.cvm_performed = risk::Cvm::pin;
  ASSERT_TRUE(w.Run(c).ok());
  const risk::Event& e = w.risk->last_event;
  EXPECT_EQ(e.amount, Amt(1'000));
  EXPECT_EQ(e.asset, kUsd);
  EXPECT_EQ(e.account, kWalletUsd);
  EXPECT_EQ(e.merchant, kMerchant);
  EXPECT_EQ(e.channel, risk::Channel::online);
  EXPECT_EQ(e.cvm_performed, risk::Cvm::pin);
  EXPECT_EQ(e.country, *risk::ParseCountry("FR"));
}

TEST(Risk, StepUpThenConfirmWithStrongVerificationCaptures) {
  World w;
  Command c = w.Create(150'000, CaptureMethod::automatic);  // 1500.00 USD
  c.confirm = true;
  const Reply first = w.Run(c);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.payment->state, PaymentState::requires_action);
  EXPECT_EQ(first.payment->risk.required_cvm, risk::Cvm::strong);
  EXPECT_EQ(w.log.back().kind, EventKind::payment_requires_action);
  Command again = w.Confirm(first.payment->id);
  again.confirm_options.cvm_performed = risk::Cvm::pin;
  EXPECT_EQ(w.Run(again).error, PaymentError::cvm_insufficient);
  again.confirm_options.cvm_performed = risk::Cvm::strong;
  const Reply done = w.Run(again);
  ASSERT_TRUE(done.ok()) << done.detail;
  EXPECT_EQ(done.payment->state, PaymentState::succeeded);
  EXPECT_EQ(w.Net(kMerchant), 150'000);
}

TEST(Risk, ReviewHoldsTheFundsAndWaitsForTheMerchantsCapture) {
  World w;
  Command c = w.Create(500'000, CaptureMethod::automatic);  // 5000.00 USD: reviewed
  c.confirm = true;
  c.confirm_options.cvm_performed = risk::Cvm::strong;
  const Reply reply = w.Run(c);
  ASSERT_TRUE(reply.ok()) << reply.detail;
  EXPECT_EQ(reply.payment->state, PaymentState::requires_capture);
  EXPECT_EQ(reply.payment->risk.decision, risk::Decision::review);
  EXPECT_EQ(w.Pending(kWalletUsd), 500'000);
  ASSERT_TRUE(w.Run(w.Capture(reply.payment->id)).ok());
  EXPECT_EQ(w.Net(kMerchant), 500'000);
}

// ---- ledger refusals ------------------------------------------------------------------------

// Closes `account` with a pending closing transfer; voiding `returned` id reopens it.
TransferId CloseAccount(World& w, u128 account) {
  ledger::Transfer t;
  t.id = TransferId(900'000);
  t.debit_account_id = AccountId(kBankUsd);
  t.credit_account_id = AccountId(account);
  t.amount = Amt(1);
  t.ledger = kUsd;
  t.code = 1;
  t.flags = ledger::transfer_flags::kPending | ledger::transfer_flags::kClosingCredit;
  std::vector<ledger::CreateTransfersResult> results;
  EXPECT_TRUE(w.ledger.CreateTransfers({&t, 1}, w.ledger_port.NextTimestamp(1), results).ok());
  EXPECT_TRUE(results.empty());
  return t.id;
}

void Reopen(World& w, TransferId closing) {
  ledger::Transfer t;
  t.id = TransferId(900'001);
  t.pending_id = closing;
  t.flags = ledger::transfer_flags::kVoidPendingTransfer;
  std::vector<ledger::CreateTransfersResult> results;
  EXPECT_TRUE(w.ledger.CreateTransfers({&t, 1}, w.ledger_port.NextTimestamp(1), results).ok());
  EXPECT_TRUE(results.empty());
}

TEST(LedgerRefusal, AFailedCaptureMovesNothingRecordsTheFailureAndTheRetryUsesFreshIds) {
  World w;
  Command c = w.Create(1'000);
  c.splits = {{Acct(kSplitA), Amt(100), 0}};
  c.confirm = true;
  const PaymentId id = w.Run(c).payment->id;
  const TransferId closing = CloseAccount(w, kSplitA);
  const Reply failed = w.Run(w.Capture(id));
  EXPECT_EQ(failed.error, PaymentError::ledger_refused);
  ASSERT_TRUE(failed.ledger_result);
  EXPECT_EQ(*failed.ledger_result, ledger::CreateTransferResult::credit_account_already_closed);
  EXPECT_EQ(w.log.back().kind, EventKind::payment_failed);
  const Payment& after = *w.payments.FindPayment(id);
  EXPECT_EQ(after.state, PaymentState::requires_capture);
  EXPECT_EQ(after.last_error, PaymentError::ledger_refused);
  EXPECT_EQ(after.ledger_attempts, 2u);  // the hold, then the failed capture
  EXPECT_EQ(w.Net(kMerchant), 0);
  EXPECT_EQ(w.Pending(kWalletUsd), 1'000);
  Reopen(w, closing);
  const Reply retried = w.Run(w.Capture(id));
  ASSERT_TRUE(retried.ok()) << retried.detail;
  EXPECT_EQ(w.Net(kSplitA), 100);
  EXPECT_EQ(w.Net(kMerchant), 900);
  EXPECT_EQ(retried.payment->ledger_attempts, 3u);
  EXPECT_EQ(SplitTransferId(after.money_hold)->attempt, 0u);
}

TEST(LedgerRefusal, ARefundTheMerchantCannotPayIsRecordedAndRetriable) {
  World w;
  const Payment p = w.CreatePaid(1'000, CaptureMethod::automatic);
  // The merchant pays out everything it has.
  ledger::Transfer payout;
  payout.id = TransferId(800'000);
  payout.debit_account_id = AccountId(kMerchant);
  payout.credit_account_id = AccountId(kBankUsd);
  payout.amount = Amt(1'000);
  payout.ledger = kUsd;
  payout.code = 1;
  std::vector<ledger::CreateTransfersResult> results;
  ASSERT_TRUE(w.ledger.CreateTransfers({&payout, 1}, w.ledger_port.NextTimestamp(1), results).ok());
  const Reply failed = w.Run(w.RefundOf(p.id, 400));
  EXPECT_EQ(failed.error, PaymentError::ledger_refused);
  EXPECT_EQ(*failed.ledger_result, ledger::CreateTransferResult::exceeds_credits);
  EXPECT_EQ(w.payments.FindPayment(p.id)->amount_refunded, Amt(0));
  w.Fund(kMerchant, 400, kUsd);
  ASSERT_TRUE(w.Run(w.RefundOf(p.id, 400)).ok());
  EXPECT_EQ(w.payments.FindPayment(p.id)->amount_refunded, Amt(400));
}

// ---- list and reads -------------------------------------------------------------------------

TEST(List, NewestFirstWithCursorAndFilters) {
  World w;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(w.Run(w.Create(100 + static_cast<u128>(i))).ok());
  const PaymentId canceled = PaymentId(2);
  ASSERT_TRUE(w.Run(w.Cancel(canceled)).ok());
  Command list;
  list.kind = CommandKind::list_payments;
  list.list.limit = 2;
  Reply page = w.Run(list);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page.payments.size(), 2u);
  EXPECT_EQ(page.payments[0].id, PaymentId(5));
  EXPECT_EQ(page.payments[1].id, PaymentId(4));
  EXPECT_TRUE(page.has_more);
  list.list.starting_after = PaymentId(4);
  list.list.limit = 10;
  page = w.Run(list);
  ASSERT_EQ(page.payments.size(), 3u);
  EXPECT_FALSE(page.has_more);
  list.list = {};
  list.list.state = PaymentState::canceled;
  page = w.Run(list);
  ASSERT_EQ(page.payments.size(), 1u);
  EXPECT_EQ(page.payments[0].id, canceled);
  list.list = {};
  list.list.customer = CustomerId(kCustomer2);
  EXPECT_TRUE(w.Run(list).payments.empty());
  list.list.limit = 0;
  EXPECT_EQ(w.Run(list).error, PaymentError::invalid_request);
  list.list.limit = kListLimitMax + 1;
  EXPECT_EQ(w.Run(list).param, "limit");
}

// Every page of every filter, walked with the cursor, against the payments filtered by hand:
// the indexes (by customer, merchant, state) answer exactly what a scan of all payments would,
// live, after a replay of the events and after a snapshot load.
std::vector<uint64_t> ListedIds(Payments& module, World& w, ListFilter filter) {
  std::vector<uint64_t> ids;
  for (int pages = 0; pages < 1000; ++pages) {
    Command list;
    list.kind = CommandKind::list_payments;
    list.list = filter;
    std::vector<Event> events;
    const Reply page = module.Execute(list, w.now_ms, w.ledger_port, *w.risk, events);
    EXPECT_TRUE(page.ok() && events.empty());
    for (const Payment& p : page.payments) ids.push_back(p.id.value);
    if (!page.has_more) return ids;
    EXPECT_EQ(page.payments.size(), filter.limit);
    filter.starting_after = page.payments.back().id;
  }
  ADD_FAILURE() << "the pages never ended";
  return ids;
}

std::vector<uint64_t> ExpectedIds(const Payments& module, size_t count, const ListFilter& filter) {
  std::vector<uint64_t> ids;
  for (uint64_t n = count; n > 0; --n) {
    const Payment& p = *module.FindPayment(PaymentId(n));
    if (filter.customer && p.customer != *filter.customer) continue;
    if (filter.merchant_account && p.merchant_account != *filter.merchant_account) continue;
    if (filter.state && p.state != *filter.state) continue;
    ids.push_back(n);
  }
  return ids;
}

TEST(List, IndexedFiltersAnswerWhatAScanOfEveryPaymentWould) {
  World w;
  w.RegisterCustomer(kCustomer2, {{Acct(kWalletUsd2), kUsd, SourceKind::balance, {}, 1}});
  const size_t count = 300;  // > 64: the state bits span several words
  for (size_t i = 0; i < count; ++i) {
    Command create = w.Create(100 + i);
    if (i % 3 == 1) create.merchant_account = Acct(kOtherMerchant);
    if (i % 5 == 2) create.customer = CustomerId(kCustomer2);
    const Reply created = w.Run(create);
    ASSERT_TRUE(created.ok()) << i << ": " << PaymentErrorName(created.error) << " " << created.detail;
    if (i % 4 == 0) {
      ASSERT_TRUE(w.Run(w.Cancel(PaymentId(i + 1))).ok());
    }
  }
  std::vector<ListFilter> filters;
  for (const std::optional<CustomerId> customer :
       {std::optional<CustomerId>(), std::optional(CustomerId(kCustomer)),
        std::optional(CustomerId(kCustomer2)), std::optional(CustomerId()),
        std::optional(CustomerId(99))}) {
    for (const std::optional<AccountId> merchant :
         {std::optional<AccountId>(), std::optional(Acct(kMerchant)),
          std::optional(Acct(kOtherMerchant)), std::optional(Acct(kSplitA))}) {
      for (const std::optional<PaymentState> state :
           {std::optional<PaymentState>(), std::optional(PaymentState::canceled),
            std::optional(PaymentState::requires_confirmation),
            std::optional(PaymentState::succeeded)}) {
        for (const uint32_t limit : {1u, 7u, kListLimitMax}) {
          filters.push_back({PaymentId(), limit, customer, merchant, state});
        }
      }
    }
  }
  const std::unique_ptr<Payments> replayed = w.Replayed();
  const std::unique_ptr<Payments> reloaded = w.Reloaded();
  size_t nonempty = 0;
  for (const ListFilter& filter : filters) {
    const std::vector<uint64_t> expected = ExpectedIds(w.payments, count, filter);
    if (!expected.empty()) ++nonempty;
    EXPECT_EQ(ListedIds(w.payments, w, filter), expected);
    EXPECT_EQ(ListedIds(*replayed, w, filter), expected);
    EXPECT_EQ(ListedIds(*reloaded, w, filter), expected);
    ListFilter from_middle = filter;
    from_middle.starting_after = PaymentId(count / 2);
    std::vector<uint64_t> rest;
    for (const uint64_t id : expected) {
      if (id < count / 2) rest.push_back(id);
    }
    EXPECT_EQ(ListedIds(w.payments, w, from_middle), rest);
  }
  EXPECT_GT(nonempty, filters.size() / 3);  // the filters do select payments
}

TEST(Ids, TextFormsRoundTripAndRejectNonCanonicalText) {
  EXPECT_EQ(ParsePaymentId("pay_42"), PaymentId(42));
  EXPECT_EQ(ParseRefundId("re_1"), RefundId(1));
  EXPECT_EQ(ParseQuoteId("fxq_18446744073709551615"), QuoteId(UINT64_MAX));
  for (const char* bad :
       {"pay_", "pay_0", "pay_01", "pay_x", "pi_1", "pay_18446744073709551616", "pay_1 ", ""}) {
    EXPECT_FALSE(ParsePaymentId(bad)) << bad;
  }
  const TransferId id = MakeTransferId(PaymentId(77), 3, 9);
  const auto parts = SplitTransferId(id);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->payment, PaymentId(77));
  EXPECT_EQ(parts->attempt, 3u);
  EXPECT_EQ(parts->leg, 9u);
  EXPECT_FALSE(SplitTransferId(TransferId(77)));
}

TEST(Names, EveryEnumNameParsesBack) {
  for (uint8_t i = 0; i <= 4; ++i) {
    const auto s = static_cast<PaymentState>(i);
    EXPECT_EQ(ParsePaymentState(PaymentStateName(s)), s);
  }
  for (uint8_t i = 1; i <= 6; ++i) {
    const auto r = static_cast<CancelReason>(i);
    EXPECT_EQ(ParseCancelReason(CancelReasonName(r)), r);
  }
  EXPECT_FALSE(ParseCancelReason("none"));
  EXPECT_EQ(ParseCaptureMethod("manual"), CaptureMethod::manual);
  EXPECT_EQ(ParseSourceKind("transit"), SourceKind::transit);
  EXPECT_EQ(ParseCouponKind("percent"), CouponKind::percent);
  for (uint8_t i = 0; i < kPaymentErrorCount; ++i) {
    const auto e = static_cast<PaymentError>(i);
    EXPECT_NE(PaymentErrorName(e), "unknown");
    if (i != 0) {
      EXPECT_FALSE(PaymentErrorMessage(e).empty());
    }
  }
  EXPECT_EQ(EventKindName(EventKind::payment_amount_capturable_updated),
            "payment.amount_capturable_updated");
  EXPECT_EQ(CommandKindName(CommandKind::expire_holds), "expire_holds");
}

}  // namespace
}  // namespace tpw::payments::test
