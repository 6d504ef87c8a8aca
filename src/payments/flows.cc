#include "payments/flows.h"

#include <algorithm>

#include "payments/money.h"

namespace tpw::payments {
namespace {

namespace tf = ledger::transfer_flags;

std::optional<uint8_t> ScaleOf(const AssetTable& assets, uint32_t asset) {
  const Asset* found = assets.FindByLedger(asset);
  return found != nullptr ? std::optional(found->scale) : std::nullopt;
}

// X -> Y for a funded FX payment at its recorded rate; the same amount when not FX.
std::optional<Amount> ToSource(const Payment& payment, const AssetTable& assets, Amount amount,
                               money::Rounding rounding) {
  const FundingDecision& f = payment.funding;
  if (!f.fx) return amount;
  const auto from = ScaleOf(assets, payment.asset);
  const auto to = ScaleOf(assets, f.source_asset);
  if (!from || !to) return std::nullopt;
  return money::Convert(amount, f.rate, *from, *to, rounding);
}

Amount ShareOf(const Split& share, Amount base) {
  return share.basis_points != 0 ? money::BasisPointsOf(base, share.basis_points) : share.amount;
}

// Points units standing for `value` (X) of the payment's points: exact, since points_used is
// points_value times the program's points per minor unit.
Amount PointsFor(const FundingDecision& f, Amount value) {
  if (value.is_zero()) return Amount::Zero();
  const auto points = money::MulDiv(f.points_used.minor(), value.minor(), f.points_value.minor(),
                                    money::Rounding::down);
  TPW_ASSERT(points.has_value());
  return Amount::FromMinor(*points);
}

// How much of `payout` is pulled back once `refunded_total` of `captured` is refunded, minus
// what earlier refunds pulled: cumulative rounding down, so a full refund pulls back exactly
// the whole payout and the sum over refunds never drifts.
Amount ReversalNow(const Payout& payout, Amount refunded_total, Amount captured) {
  const Amount target = money::ProportionalShare(payout.amount, refunded_total, captured);
  return target > payout.reversed ? *target.CheckedSub(payout.reversed) : Amount::Zero();
}

Amount Minus(Amount a, Amount b) {
  const auto difference = a.CheckedSub(b);
  TPW_ASSERT(difference.has_value());
  return *difference;
}

Amount Plus(Amount a, Amount b) {
  const auto sum = a.CheckedAdd(b);
  TPW_ASSERT(sum.has_value());
  return *sum;
}

// Money back to the source in Y for a refund whose money part brings the total refunded money
// to `money_total`: cumulative, rounded down, and exactly what was captured when all of it is.
std::optional<Amount> MoneySourceNow(const Payment& payment, const AssetTable& assets,
                                     Amount money_total) {
  if (money_total == payment.captured_money) {
    return Minus(payment.captured_money_source, payment.refunded_money_source);
  }
  const auto total = ToSource(payment, assets, money_total, money::Rounding::down);
  if (!total) return std::nullopt;
  const Amount capped = std::min(*total, payment.captured_money_source);
  return capped > payment.refunded_money_source ? Minus(capped, payment.refunded_money_source)
                                                : Amount::Zero();
}

}  // namespace

Chain::Chain(PaymentId payment, uint32_t attempt, uint32_t user_data_32)
    : payment_(payment), attempt_(attempt), user_data_32_(user_data_32) {}

ledger::Transfer& Chain::Add() {
  TPW_ASSERT(transfers_.size() < UINT16_MAX);
  ledger::Transfer& t = transfers_.emplace_back();
  t.id = MakeTransferId(payment_, attempt_, static_cast<uint16_t>(transfers_.size() - 1));
  t.user_data_64 = payment_.value;
  t.user_data_32 = user_data_32_;
  return t;
}

ledger::Transfer& Chain::AddMove(AccountId debit, AccountId credit, Amount amount, uint32_t asset,
                                 uint16_t code) {
  TPW_ASSERT(!amount.is_zero());
  ledger::Transfer& t = Add();
  t.debit_account_id = debit;
  t.credit_account_id = credit;
  t.amount = amount;
  t.ledger = asset;
  t.code = code;
  return t;
}

TransferId Chain::Hold(AccountId debit, AccountId credit, Amount amount, uint32_t asset,
                       uint16_t code, uint32_t timeout_seconds) {
  ledger::Transfer& t = AddMove(debit, credit, amount, asset, code);
  t.timeout = timeout_seconds;
  t.flags = tf::kPending;
  return t.id;
}

void Chain::Post(TransferId hold, Amount amount) {
  TPW_ASSERT(!hold.is_zero() && !amount.is_zero());
  ledger::Transfer& t = Add();
  t.pending_id = hold;
  t.amount = amount;
  t.flags = tf::kPostPendingTransfer;
}

void Chain::Void(TransferId hold) {
  TPW_ASSERT(!hold.is_zero());
  ledger::Transfer& t = Add();
  t.pending_id = hold;
  t.flags = tf::kVoidPendingTransfer;
}

void Chain::Move(AccountId debit, AccountId credit, Amount amount, uint32_t asset, uint16_t code) {
  if (!amount.is_zero()) AddMove(debit, credit, amount, asset, code);
}

std::vector<ledger::Transfer> Chain::Finish() const {
  std::vector<ledger::Transfer> out = transfers_;
  for (size_t i = 0; i + 1 < out.size(); ++i) out[i].flags |= tf::kLinked;
  return out;
}

std::optional<ledger::CreateTransferResult> Submit(LedgerPort& ledger, const Chain& chain) {
  if (chain.empty()) return std::nullopt;
  const std::vector<ledger::Transfer> transfers = chain.Finish();
  const std::vector<ledger::CreateTransfersResult> results = ledger.CreateTransfers(transfers);
  std::optional<ledger::CreateTransferResult> failure;
  for (const ledger::CreateTransfersResult& r : results) {
    if (ledger::IsSuccess(r.result)) continue;
    if (r.result != ledger::CreateTransferResult::linked_event_failed) return r.result;
    failure = r.result;
  }
  return failure;
}

Holds AddHoldLegs(Chain& chain, const Payment& payment, const FundingDecision& f) {
  Holds holds;
  if (!f.points_used.is_zero()) {
    holds.points = chain.Hold(f.points_account, f.points_sink_account, f.points_used,
                              f.points_asset, kPointsHoldCode, payment.hold_timeout_seconds);
  }
  if (!f.amount_charged.is_zero()) {
    const AccountId credit = f.fx ? f.fx_source_account : payment.merchant_account;
    holds.money = chain.Hold(f.source_account, credit, f.amount_charged_source, f.source_asset,
                             kHoldCode, payment.hold_timeout_seconds);
  }
  return holds;
}

Refusal PlanCapture(const Payment& payment, Amount amount, const AssetTable& assets,
                    CapturePlan& plan) {
  const FundingDecision& f = payment.funding;
  plan.amount = amount;
  plan.points_value = std::min(f.points_value, amount);
  plan.points = PointsFor(f, plan.points_value);
  plan.money = Minus(amount, plan.points_value);
  const auto money_source = ToSource(payment, assets, plan.money, money::Rounding::up);
  if (!money_source) return Refuse(PaymentError::amount_too_large, "amount_to_capture");
  // Rounding up is monotonic: a part never needs more than the whole hold.
  TPW_ASSERT(*money_source <= f.amount_charged_source);
  plan.money_source = *money_source;
  Amount shares;
  for (const Split& split : payment.splits) {
    const Payout payout{split.account, ShareOf(split, amount), Amount::Zero()};
    plan.payouts.push_back(payout);
    shares = shares.CheckedAdd(payout.amount).value_or(Amount::Max());
  }
  if (!payment.platform_fee.account.is_zero()) {
    plan.fee = Payout{payment.platform_fee.account, ShareOf(payment.platform_fee, amount), {}};
    shares = shares.CheckedAdd(plan.fee.amount).value_or(Amount::Max());
  }
  if (shares > amount) {
    return Refuse(PaymentError::splits_exceed_amount, "amount_to_capture",
                  "the shares total " + U128ToDecimal(shares.minor()) + ", more than the " +
                      U128ToDecimal(amount.minor()) + " captured");
  }
  return std::nullopt;
}

void AddCaptureLegs(Chain& chain, const Payment& payment, const CapturePlan& plan) {
  const FundingDecision& f = payment.funding;
  const AccountId merchant = payment.merchant_account;
  if (!payment.points_hold.is_zero()) {
    if (plan.points.is_zero()) {
      chain.Void(payment.points_hold);
    } else {
      chain.Post(payment.points_hold, plan.points);
    }
  }
  chain.Move(f.points_funding_account, merchant, plan.points_value, payment.asset,
             kPointsValueCode);
  if (!payment.money_hold.is_zero()) {
    if (plan.money_source.is_zero()) {
      chain.Void(payment.money_hold);
    } else {
      chain.Post(payment.money_hold, plan.money_source);
    }
  }
  if (f.fx) chain.Move(f.fx_payout_account, merchant, plan.money, payment.asset, kFxPayoutCode);
  for (const Payout& payout : plan.payouts) {
    chain.Move(merchant, payout.account, payout.amount, payment.asset, kSplitPayoutCode);
  }
  if (!plan.fee.account.is_zero()) {
    chain.Move(merchant, plan.fee.account, plan.fee.amount, payment.asset, kPlatformFeeCode);
  }
}

void RecordCapture(Payment& payment, const CapturePlan& plan) {
  payment.state = PaymentState::succeeded;
  payment.amount_capturable = Amount::Zero();
  payment.amount_captured = plan.amount;
  payment.captured_money = plan.money;
  payment.captured_money_source = plan.money_source;
  payment.captured_points_value = plan.points_value;
  payment.captured_points = plan.points;
  payment.payouts = plan.payouts;
  payment.fee_payout = plan.fee;
}

Refusal PlanRefund(const Payment& payment, Amount amount, bool reverse_splits, bool refund_fee,
                   const AssetTable& assets, Refund& refund) {
  refund.amount = amount;
  refund.reverse_splits = reverse_splits;
  refund.refund_fee = refund_fee;
  const Amount money_left = Minus(payment.captured_money, payment.refunded_money);
  refund.money = std::min(amount, money_left);
  refund.points_value = Minus(amount, refund.money);
  refund.points = PointsFor(payment.funding, refund.points_value);
  const auto money_source =
      MoneySourceNow(payment, assets, Plus(payment.refunded_money, refund.money));
  if (!money_source) return Refuse(PaymentError::amount_too_large, "amount");
  refund.money_source = *money_source;
  const Amount refunded_total = Plus(payment.amount_refunded, amount);
  if (reverse_splits) {
    for (const Payout& payout : payment.payouts) {
      refund.split_reversals.push_back(
          ReversalNow(payout, refunded_total, payment.amount_captured));
    }
  }
  if (refund_fee && !payment.fee_payout.account.is_zero()) {
    refund.fee_reversal = ReversalNow(payment.fee_payout, refunded_total, payment.amount_captured);
  }
  return std::nullopt;
}

void AddRefundLegs(Chain& chain, const Payment& payment, const Refund& refund) {
  const FundingDecision& f = payment.funding;
  const AccountId merchant = payment.merchant_account;
  for (size_t i = 0; i < refund.split_reversals.size(); ++i) {
    chain.Move(payment.payouts[i].account, merchant, refund.split_reversals[i], payment.asset,
               kSplitReversalCode);
  }
  chain.Move(payment.fee_payout.account, merchant, refund.fee_reversal, payment.asset,
             kFeeReversalCode);
  if (f.fx) {
    chain.Move(merchant, f.fx_payout_account, refund.money, payment.asset, kRefundCode);
    chain.Move(f.fx_source_account, f.source_account, refund.money_source, f.source_asset,
               kFxRefundCode);
  } else {
    chain.Move(merchant, f.source_account, refund.money, payment.asset, kRefundCode);
  }
  chain.Move(f.points_sink_account, f.points_account, refund.points, f.points_asset,
             kPointsRefundCode);
  chain.Move(merchant, f.points_funding_account, refund.points_value, payment.asset,
             kPointsValueRefundCode);
}

void RecordRefund(Payment& payment, const Refund& refund) {
  payment.amount_refunded = Plus(payment.amount_refunded, refund.amount);
  payment.refunded_money = Plus(payment.refunded_money, refund.money);
  payment.refunded_money_source = Plus(payment.refunded_money_source, refund.money_source);
  payment.refunded_points_value = Plus(payment.refunded_points_value, refund.points_value);
  for (size_t i = 0; i < refund.split_reversals.size(); ++i) {
    payment.payouts[i].reversed = Plus(payment.payouts[i].reversed, refund.split_reversals[i]);
  }
  payment.fee_payout.reversed = Plus(payment.fee_payout.reversed, refund.fee_reversal);
  payment.refunds.push_back(refund);
}

}  // namespace tpw::payments
