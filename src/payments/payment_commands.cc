// Payment intent commands: create, confirm (risk, funding, hold, automatic capture), capture,
// cancel, refund, and the expiry of holds. docs/payments.md has the state table.
#include <algorithm>

#include "payments/checks.h"
#include "payments/flows.h"
#include "payments/funding.h"
#include "payments/handlers.h"
#include "payments/limits.h"

namespace tpw::payments {
namespace {

Reply WithPayment(Reply reply, const Payment& payment) {
  reply.payment = payment;
  return reply;
}
// For a handler's last use of its working copy: the reply takes it without a copy.
Reply WithPayment(Reply reply, Payment&& payment) {
  reply.payment = std::move(payment);
  return reply;
}
// A success: the reply is built in place (a Reply is large to move) and takes the payment.
Reply Succeeded(Payment&& payment) {
  Reply reply;
  reply.payment = std::move(payment);
  return reply;
}

Reply StateRefusal(const Payment& payment, std::string_view action, std::string_view allowed) {
  return WithPayment(Refuse(PaymentError::payment_state_invalid, "payment",
                            "the payment is " + std::string(PaymentStateName(payment.state)) +
                                "; " + std::string(action) + " needs " + std::string(allowed)),
                     payment);
}

std::optional<Payment> CopyPayment(const State& state, PaymentId id) {
  const Payment* found = state.FindPayment(id);
  return found != nullptr ? std::optional(*found) : std::nullopt;
}

Reply NotFound(PaymentId id) {
  return Refuse(PaymentError::payment_not_found, "payment", FormatPaymentId(id));
}

// A ledger attempt failed: nothing moved (the chain is linked), but the ledger remembers the
// failed ids, so the attempt counter must advance. Recorded as payment.payment_failed.
Reply RecordFailure(Payment payment, ledger::CreateTransferResult result, Emitter& emitter) {
  ++payment.ledger_attempts;
  payment.last_error = PaymentError::ledger_refused;
  payment.last_ledger_result = result;
  emitter.EmitPayment(EventKind::payment_failed, payment);
  Reply reply =
      Refuse(PaymentError::ledger_refused, "", std::string(ledger::ResultMessage(result)));
  reply.ledger_result = result;
  return WithPayment(std::move(reply), std::move(payment));
}

// Changes a coupon's redemption count by one: up when a hold is placed with it, down when a
// funded payment ends without capture (a single-use coupon becomes usable again).
void CountRedemption(const State& state, const Payment& payment, bool redeem, Emitter& emitter) {
  const FundingDecision& funding = payment.funding;
  if (funding.coupon_code.empty()) return;
  // The coupon the funding chose: the lookup gives the same one as then (coupons are never
  // deleted, and a merchant code cannot be made beside a platform one with the same code).
  const Coupon* coupon = state.FindCouponFor(payment.merchant_account, funding.coupon_code);
  TPW_ASSERT(coupon != nullptr && (redeem || coupon->redemptions > 0));
  Event event;
  event.kind = EventKind::coupon_updated;
  event.coupon = *coupon;
  event.coupon->redemptions = redeem ? coupon->redemptions + 1 : coupon->redemptions - 1;
  emitter.Emit(std::move(event));
}

// ---- create ---------------------------------------------------------------------------------

Refusal CheckShares(const Command& c, const LedgerPort& ledger) {
  if (c.splits.size() > kSplitsMax) {
    return Refuse(PaymentError::limit_exceeded, "splits",
                  "at most " + std::to_string(kSplitsMax) + " splits");
  }
  for (size_t i = 0; i < c.splits.size(); ++i) {
    Refusal refusal = CheckShare(ledger, c.splits[i], c.asset, c.merchant_account,
                                 "splits[" + std::to_string(i) + "]");
    if (refusal) return refusal;
  }
  const Split& fee = c.platform_fee;
  if (fee.account.is_zero() && (!fee.amount.is_zero() || fee.basis_points != 0)) {
    return Refuse(PaymentError::invalid_request, "platform_fee.account",
                  "a platform fee needs the account it is paid to");
  }
  if (!fee.account.is_zero()) {
    Refusal refusal = CheckShare(ledger, fee, c.asset, c.merchant_account, "platform_fee");
    if (refusal) return refusal;
  }
  return CheckSharesFit(c.splits, fee, c.amount);
}

Refusal CheckCreate(const State& state, const Command& c, const LedgerPort& ledger) {
  if (state.payments.size() >= kPaymentsMax) {
    return Refuse(PaymentError::limit_exceeded, "", "the module holds the most payments it can");
  }
  if (c.amount.is_zero()) return Refuse(PaymentError::invalid_request, "amount", "must be > 0");
  if (Refusal r = CheckAsset(state, c.asset, "asset")) return r;
  if (Refusal r = CheckAccount(ledger, c.merchant_account, c.asset, "merchant_account")) return r;
  if (state.FindCustomer(c.customer) == nullptr) {
    return Refuse(PaymentError::customer_not_found, "customer", FormatId(c.customer));
  }
  if (c.description.size() > kDescriptionLengthMax) {
    return Refuse(PaymentError::invalid_request, "description",
                  "at most " + std::to_string(kDescriptionLengthMax) + " characters");
  }
  if (!c.scenario.empty()) {
    if (Refusal r = CheckToken(c.scenario, kTagLengthMax, "scenario")) return r;
  }
  if (!c.coupon_code.empty() && state.FindCouponFor(c.merchant_account, c.coupon_code) == nullptr) {
    return Refuse(PaymentError::coupon_not_found, "coupon_code", c.coupon_code);
  }
  if (c.hold_timeout_seconds > kHoldTimeoutSecondsMax) {
    return Refuse(PaymentError::invalid_request, "hold_timeout_seconds",
                  "at most " + std::to_string(kHoldTimeoutSecondsMax) + " (30 days)");
  }
  return CheckShares(c, ledger);
}

// ---- confirm --------------------------------------------------------------------------------

risk::Event RiskEventFor(const Payment& payment, AccountId payer, const ConfirmOptions& o) {
  risk::Event event;
  event.amount = payment.amount;
  event.asset = payment.asset;
  event.account = payer.value;
  event.merchant = payment.merchant_account.value;
  event.device = o.risk.device;
  event.terminal = o.risk.terminal;
  event.merchant_category = o.risk.merchant_category;
  event.channel = risk::Channel::online;
  event.country = o.risk.country;
  event.ip = o.risk.ip;
  event.device_age_seconds = o.risk.device_age_seconds;
  event.cvm_performed = o.cvm_performed;
  return event;
}

// Risk's summary within the record's limits (names are kept, truncated, up to the limit).
RiskSummary BoundedRisk(RiskSummary summary, risk::Cvm performed) {
  summary.evaluated = true;
  summary.cvm_performed = performed;
  if (summary.matched_rules.size() > kRiskRulesKeptMax) {
    summary.matched_rules.resize(kRiskRulesKeptMax);
  }
  for (std::string& name : summary.matched_rules)
    name.resize(std::min(name.size(), kRiskNameLengthMax));
  summary.decided_by.resize(std::min(summary.decided_by.size(), kRiskNameLengthMax));
  summary.rules_version.resize(std::min(summary.rules_version.size(), kRiskNameLengthMax));
  return summary;
}

// Places the holds, and with `capture` posts them in the same linked chain. `payment` is the
// handler's working copy (moved into the reply: taken by reference, not moved from call to call).
Reply PlaceHold(const State& state, Payment& payment, const std::optional<CapturePlan>& capture,
                LedgerPort& ledger, Emitter& emitter) {
  Chain chain(payment.id, payment.ledger_attempts);
  const Holds holds = AddHoldLegs(chain, payment, payment.funding);
  const Holds before{payment.money_hold, payment.points_hold};
  payment.money_hold = holds.money;
  payment.points_hold = holds.points;
  if (capture) AddCaptureLegs(chain, payment, *capture);
  if (const auto failure = Submit(ledger, chain)) {
    // As before the attempt, and unfunded: no hold (the decision stays for diagnosis).
    payment.money_hold = before.money;
    payment.points_hold = before.points;
    payment.funded = false;
    return RecordFailure(std::move(payment), *failure, emitter);
  }
  ++payment.ledger_attempts;
  payment.hold_expires_at_ms = emitter.now_ms() + uint64_t{payment.hold_timeout_seconds} * 1000;
  payment.amount_capturable = *payment.amount.CheckedSub(payment.funding.coupon_discount);
  if (capture) {
    RecordCapture(payment, *capture);
  } else {
    payment.state = PaymentState::requires_capture;
  }
  emitter.EmitPayment(
      capture ? EventKind::payment_succeeded : EventKind::payment_amount_capturable_updated,
      payment);
  CountRedemption(state, payment, true, emitter);
  return Succeeded(std::move(payment));
}

Refusal CheckConfirmable(const Payment& payment, const ConfirmOptions& options) {
  if (payment.state != PaymentState::requires_confirmation &&
      payment.state != PaymentState::requires_action) {
    return StateRefusal(payment, "confirm", "requires_confirmation or requires_action");
  }
  if (payment.state == PaymentState::requires_action &&
      options.cvm_performed < payment.risk.required_cvm) {
    return WithPayment(
        Refuse(PaymentError::cvm_insufficient, "cvm_performed",
               "risk asked for " + std::string(risk::CvmName(payment.risk.required_cvm))),
        payment);
  }
  return std::nullopt;
}

// Acts on risk's decision: decline cancels, step_up asks for verification, approve and review
// place the hold (review never captures automatically: the merchant's capture is the approval,
// docs/payments.md "Risk").
Reply ActOnRisk(const State& state, Payment& payment, std::optional<CapturePlan> capture,
                LedgerPort& ledger, Emitter& emitter) {
  const RiskSummary& risk = payment.risk;
  if (risk.decision == risk::Decision::decline) {
    payment.funded = false;
    payment.funding = FundingDecision{};
    payment.state = PaymentState::canceled;
    payment.cancel_reason = CancelReason::declined_by_risk;
    emitter.EmitPayment(EventKind::payment_canceled, payment);
    return WithPayment(Refuse(PaymentError::declined_by_risk, "", risk.decided_by),
                       std::move(payment));
  }
  if (risk.decision == risk::Decision::step_up && risk.required_cvm > risk.cvm_performed) {
    payment.funded = false;
    payment.funding = FundingDecision{};
    payment.state = PaymentState::requires_action;
    emitter.EmitPayment(EventKind::payment_requires_action, payment);
    return Succeeded(std::move(payment));
  }
  if (risk.decision == risk::Decision::review) capture.reset();
  return PlaceHold(state, payment, capture, ledger, emitter);
}

Reply Confirm(const State& state, Payment payment, const ConfirmOptions& options,
              LedgerPort& ledger, RiskPort& risk, Emitter& emitter) {
  if (Refusal r = CheckConfirmable(payment, options)) return std::move(*r);
  FundingPlan plan = PlanFunding(state, payment, options, emitter.now_ms(), ledger);
  if (plan.refusal) return WithPayment(std::move(*plan.refusal), std::move(payment));
  if (options.coupon_code) payment.coupon_code = *options.coupon_code;
  if (options.use_points) payment.use_points = *options.use_points;
  payment.funding = plan.decision;
  payment.funded = true;
  // Shares are checked before risk is asked, so a refusal here leaves no trace anywhere.
  std::optional<CapturePlan> capture;
  if (payment.capture_method == CaptureMethod::automatic) {
    const Amount capturable = *payment.amount.CheckedSub(payment.funding.coupon_discount);
    if (Refusal r = PlanCapture(payment, capturable, state.assets, capture.emplace())) {
      // The payment as it was: the state's copy (nothing was emitted since it was read).
      return WithPayment(std::move(*r), *state.FindPayment(payment.id));
    }
  }
  payment.risk =
      BoundedRisk(risk.Decide(RiskEventFor(payment, plan.payer, options), emitter.now_ms()),
                  options.cvm_performed);
  return ActOnRisk(state, payment, std::move(capture), ledger, emitter);
}

// ---- capture, cancel ------------------------------------------------------------------------

// Refuses when a hold of the payment is no longer pending at the ledger.
Refusal CheckHoldsPending(const Payment& payment, const LedgerPort& ledger) {
  for (const TransferId hold : {payment.money_hold, payment.points_hold}) {
    if (hold.is_zero()) continue;
    const ledger::PendingStatus status = ledger.GetPendingStatus(hold);
    if (status == ledger::PendingStatus::expired) {
      return WithPayment(Refuse(PaymentError::hold_expired, "payment"), payment);
    }
    if (status != ledger::PendingStatus::pending) {
      return WithPayment(Refuse(PaymentError::payment_state_invalid, "payment",
                                "hold " + FormatId(hold) + " is no longer pending at the ledger"),
                         payment);
    }
  }
  return std::nullopt;
}

Reply Capture(const State& state, Payment payment, std::optional<Amount> requested,
              LedgerPort& ledger, Emitter& emitter) {
  if (payment.state != PaymentState::requires_capture) {
    return StateRefusal(payment, "capture", "requires_capture");
  }
  const Amount amount = requested.value_or(payment.amount_capturable);
  if (amount.is_zero()) {
    return WithPayment(Refuse(PaymentError::invalid_request, "amount_to_capture",
                              "must be > 0; cancel the payment to release the hold"),
                       payment);
  }
  if (amount > payment.amount_capturable) {
    return WithPayment(
        Refuse(PaymentError::amount_exceeds_capturable, "amount_to_capture",
               "amount_capturable is " + U128ToDecimal(payment.amount_capturable.minor())),
        payment);
  }
  if (Refusal r = CheckHoldsPending(payment, ledger)) return std::move(*r);
  CapturePlan plan;
  if (Refusal r = PlanCapture(payment, amount, state.assets, plan)) {
    return WithPayment(std::move(*r), payment);
  }
  Chain chain(payment.id, payment.ledger_attempts);
  AddCaptureLegs(chain, payment, plan);
  if (const auto failure = Submit(ledger, chain)) {
    return RecordFailure(std::move(payment), *failure, emitter);
  }
  ++payment.ledger_attempts;
  RecordCapture(payment, plan);
  emitter.EmitPayment(EventKind::payment_succeeded, payment);
  return Succeeded(std::move(payment));
}

// Voids the payment's holds that are still pending (an expired one has nothing to release).
void AddReleaseLegs(Chain& chain, const Payment& payment, const LedgerPort& ledger) {
  for (const TransferId hold : {payment.points_hold, payment.money_hold}) {
    if (!hold.is_zero() && ledger.GetPendingStatus(hold) == ledger::PendingStatus::pending) {
      chain.Void(hold);
    }
  }
}

// Ends a payment without capture: releases its holds, then records the cancel.
Reply Release(const State& state, Payment payment, CancelReason reason, LedgerPort& ledger,
              Emitter& emitter) {
  Chain chain(payment.id, payment.ledger_attempts);
  if (payment.state == PaymentState::requires_capture) AddReleaseLegs(chain, payment, ledger);
  if (const auto failure = Submit(ledger, chain)) {
    return RecordFailure(std::move(payment), *failure, emitter);
  }
  if (!chain.empty()) ++payment.ledger_attempts;
  payment.state = PaymentState::canceled;
  payment.cancel_reason = reason;
  payment.amount_capturable = Amount::Zero();
  emitter.EmitPayment(EventKind::payment_canceled, payment);
  if (payment.funded) CountRedemption(state, payment, false, emitter);
  return Succeeded(std::move(payment));
}

bool IsRequestableCancelReason(CancelReason reason) {
  return reason == CancelReason::requested_by_customer || reason == CancelReason::duplicate ||
         reason == CancelReason::fraudulent || reason == CancelReason::abandoned;
}

// ---- refund ---------------------------------------------------------------------------------

Refusal CheckRefundAmount(const Payment& payment, const std::optional<Amount>& requested,
                          Amount& amount) {
  const Amount left = *payment.amount_captured.CheckedSub(payment.amount_refunded);
  amount = requested.value_or(left);
  if (left.is_zero()) {
    return Refuse(PaymentError::refund_exceeds_captured, "amount",
                  "everything captured was refunded already");
  }
  if (amount.is_zero()) return Refuse(PaymentError::invalid_request, "amount", "must be > 0");
  if (amount > left) {
    return Refuse(PaymentError::refund_exceeds_captured, "amount",
                  "at most " + U128ToDecimal(left.minor()) + " is left to refund");
  }
  if (payment.refunds.size() >= kRefundsPerPaymentMax) {
    return Refuse(PaymentError::limit_exceeded, "payment",
                  "a payment has at most " + std::to_string(kRefundsPerPaymentMax) + " refunds");
  }
  return std::nullopt;
}

}  // namespace

Reply CreatePayment(const State& state, const Command& c, LedgerPort& ledger, RiskPort& risk,
                    Emitter& emitter) {
  Payment payment;
  if (Refusal r = CheckCreate(state, c, ledger)) return std::move(*r);
  if (Refusal r = CheckMetadata(c.metadata, payment.metadata)) return std::move(*r);
  payment.id = PaymentId(state.payments.size() + 1);
  payment.amount = c.amount;
  payment.asset = c.asset;
  payment.merchant_account = c.merchant_account;
  payment.customer = c.customer;
  payment.capture_method = c.capture_method;
  payment.description = c.description;
  payment.splits = c.splits;
  payment.platform_fee = c.platform_fee;
  payment.scenario = c.scenario;
  payment.coupon_code = c.coupon_code;
  payment.use_points = c.use_points;
  payment.hold_timeout_seconds =
      c.hold_timeout_seconds != 0 ? c.hold_timeout_seconds : kHoldTimeoutSecondsDefault;
  payment.created_at_ms = emitter.now_ms();
  emitter.EmitPayment(EventKind::payment_created, payment);
  // `payment` is now what the state holds (EmitPayment stamped both): no copy from the state.
  if (!c.confirm) return Succeeded(std::move(payment));
  return Confirm(state, std::move(payment), c.confirm_options, ledger, risk, emitter);
}

Reply ConfirmPayment(const State& state, const Command& c, LedgerPort& ledger, RiskPort& risk,
                     Emitter& emitter) {
  // The handler works on its own copy (taken by value below, before anything is emitted).
  const Payment* payment = state.FindPayment(c.payment);
  if (payment == nullptr) return NotFound(c.payment);
  if (c.confirm_options.coupon_code && !c.confirm_options.coupon_code->empty() &&
      !IsToken(*c.confirm_options.coupon_code, kCouponCodeLengthMax)) {
    return Refuse(PaymentError::invalid_request, "coupon_code", "not a coupon code");
  }
  return Confirm(state, *payment, c.confirm_options, ledger, risk, emitter);
}

Reply CapturePayment(const State& state, const Command& c, LedgerPort& ledger, Emitter& emitter) {
  // The handler works on its own copy (taken by value below, before anything is emitted).
  const Payment* payment = state.FindPayment(c.payment);
  if (payment == nullptr) return NotFound(c.payment);
  return Capture(state, *payment, c.amount_to_capture, ledger, emitter);
}

Reply CancelPayment(const State& state, const Command& c, LedgerPort& ledger, Emitter& emitter) {
  // The handler works on its own copy (taken by value below, before anything is emitted).
  const Payment* payment = state.FindPayment(c.payment);
  if (payment == nullptr) return NotFound(c.payment);
  if (!IsRequestableCancelReason(c.cancel_reason)) {
    return Refuse(PaymentError::invalid_request, "cancellation_reason",
                  "one of requested_by_customer, duplicate, fraudulent, abandoned");
  }
  if (payment->state == PaymentState::succeeded || payment->state == PaymentState::canceled) {
    return StateRefusal(*payment, "cancel",
                        "requires_confirmation, requires_action or requires_capture");
  }
  return Release(state, *payment, c.cancel_reason, ledger, emitter);
}

Reply RefundPayment(const State& state, const Command& c, LedgerPort& ledger, Emitter& emitter) {
  std::optional<Payment> payment = CopyPayment(state, c.payment);
  if (!payment) return NotFound(c.payment);
  if (payment->state != PaymentState::succeeded) {
    return StateRefusal(*payment, "refund", "succeeded");
  }
  Amount amount;
  if (Refusal r = CheckRefundAmount(*payment, c.refund_amount, amount)) {
    return WithPayment(std::move(*r), *payment);
  }
  Refund refund;
  if (Refusal r =
          PlanRefund(*payment, amount, c.reverse_splits, c.refund_fee, state.assets, refund)) {
    return WithPayment(std::move(*r), *payment);
  }
  refund.id = RefundId(state.next_refund);
  refund.attempt = payment->ledger_attempts;
  refund.created_at_ms = emitter.now_ms();
  Chain chain(payment->id, refund.attempt, static_cast<uint32_t>(refund.id.value));
  AddRefundLegs(chain, *payment, refund);
  refund.transfer_count = static_cast<uint16_t>(chain.size());
  if (const auto failure = Submit(ledger, chain)) return RecordFailure(*payment, *failure, emitter);
  ++payment->ledger_attempts;
  RecordRefund(*payment, refund);
  Event event;
  event.kind = EventKind::refund_created;
  event.refund = refund.id;
  payment->updated_at_ms = emitter.now_ms();
  event.payment = *payment;
  emitter.Emit(std::move(event));
  Reply reply = WithPayment(Reply{}, *payment);
  reply.refund = refund.id;
  return reply;
}

Reply ExpireHolds(const State& state, const Command& c, LedgerPort& ledger, Emitter& emitter) {
  if (c.expired_transfers.size() > kExpiredTransfersMax) {
    return Refuse(PaymentError::limit_exceeded, "expired_transfers",
                  "at most " + std::to_string(kExpiredTransfersMax) + " ids");
  }
  Reply reply;
  for (const TransferId id : c.expired_transfers) {
    const auto it = state.payment_by_hold.find(id.value);
    if (it == state.payment_by_hold.end()) continue;  // not a payments hold
    const Payment payment = *state.FindPayment(PaymentId(it->second));
    if (payment.state != PaymentState::requires_capture) continue;  // handled already
    Reply released = Release(state, payment, CancelReason::expired, ledger, emitter);
    if (released.ok()) reply.payments.push_back(*released.payment);
  }
  return reply;
}

}  // namespace tpw::payments
