#include "payments/funding.h"

#include <algorithm>
#include <vector>

#include "payments/money.h"

namespace tpw::payments {
namespace {

std::string AmountText(Amount amount) { return U128ToDecimal(amount.minor()); }

// The coupon's discount on `payment`, or why it does not apply.
Refusal ApplyCoupon(const State& state, const Payment& payment, std::string_view code,
                    uint64_t now_ms, FundingDecision& decision) {
  const Coupon* coupon = state.FindCouponFor(payment.merchant_account, code);
  if (coupon == nullptr) {
    return Refuse(PaymentError::coupon_not_found, "coupon_code", "no coupon " + std::string(code));
  }
  if (coupon->expires_at_ms != 0 && now_ms >= coupon->expires_at_ms) {
    return Refuse(PaymentError::coupon_expired, "coupon_code",
                  "expired at " + std::to_string(coupon->expires_at_ms) + " ms");
  }
  if (coupon->single_use && coupon->redemptions > 0) {
    return Refuse(PaymentError::coupon_redeemed, "coupon_code");
  }
  if (coupon->asset != 0 && coupon->asset != payment.asset) {
    return Refuse(PaymentError::coupon_not_applicable, "coupon_code",
                  "the coupon is for asset " + std::to_string(coupon->asset));
  }
  if (payment.amount < coupon->min_spend) {
    return Refuse(PaymentError::coupon_min_spend, "coupon_code",
                  "minimum spend " + AmountText(coupon->min_spend));
  }
  decision.coupon_code = coupon->code;
  decision.coupon_discount = coupon->kind == CouponKind::fixed
                                 ? std::min(coupon->amount_off, payment.amount)
                                 : money::BasisPointsOf(payment.amount, coupon->percent_off_bps);
  return std::nullopt;
}

// Points first, up to `net` (the amount after the coupon): as many whole minor units of value
// as the customer's points account can pay.
Refusal ApplyPoints(const State& state, const Payment& payment, const Customer& customer,
                    Amount net, const LedgerPort& ledger, FundingDecision& decision) {
  const PointsProgram& program = state.program;
  if (!program.configured || program.money_asset != payment.asset) {
    return Refuse(PaymentError::points_program_missing, "use_points");
  }
  const auto source =
      std::find_if(customer.sources.begin(), customer.sources.end(), [&](const FundingSource& s) {
        return s.kind == SourceKind::points && s.asset == program.points_asset;
      });
  if (source == customer.sources.end()) return std::nullopt;  // no points account: no points
  const std::optional<ledger::Account> account = ledger.LookupAccount(source->account);
  if (!account || (account->flags & ledger::account_flags::kClosed) != 0) return std::nullopt;
  const u128 per_unit = program.points_per_minor_unit;
  const u128 value_available = money::AvailableForDebit(*account).minor() / per_unit;
  const Amount value = std::min(net, Amount::FromMinor(value_available));
  if (value.is_zero()) return std::nullopt;
  decision.points_account = source->account;
  decision.points_value = value;
  decision.points_used = Amount::FromMinor(value.minor() * per_unit);  // <= available: fits
  decision.points_asset = program.points_asset;
  decision.points_sink_account = program.sink_account;
  decision.points_funding_account = program.funding_account;
  return std::nullopt;
}

struct Candidate {
  const FundingSource* source = nullptr;
  size_t index = 0;
  bool tagged = false;       // carries the payment's scenario tag
  std::optional<Rate> rate;  // X -> Y; nullopt for a same-asset source
  // Order: scenario tag, then priority (lower first), then same asset before FX, then the
  // order the customer listed them.
  auto Key() const { return std::make_tuple(!tagged, source->priority, rate.has_value(), index); }
};

bool HasTag(const FundingSource& source, std::string_view tag) {
  return !tag.empty() &&
         std::find(source.tags.begin(), source.tags.end(), tag) != source.tags.end();
}

// The quote named at confirm, checked for existence, expiry and pair.
Refusal FindQuote(const State& state, const Payment& payment, QuoteId id, uint64_t now_ms,
                  const FxQuote*& quote) {
  quote = nullptr;
  if (id.is_zero()) return std::nullopt;
  const auto it = state.quotes.find(id.value);
  if (it == state.quotes.end()) {
    return Refuse(PaymentError::quote_not_found, "quote", FormatQuoteId(id));
  }
  if (now_ms >= it->second.expires_at_ms) {
    return Refuse(PaymentError::quote_expired, "quote",
                  "expired at " + std::to_string(it->second.expires_at_ms) + " ms");
  }
  if (it->second.from_asset != payment.asset) {
    return Refuse(PaymentError::quote_mismatch, "quote",
                  "the quote converts from asset " + std::to_string(it->second.from_asset) +
                      ", the payment is in asset " + std::to_string(payment.asset));
  }
  quote = &it->second;
  return std::nullopt;
}

struct Candidates {
  std::vector<Candidate> usable;
  bool override_seen = false;    // the override account is one of the customer's sources
  bool fx_rate_missing = false;  // some source was left out for want of a rate
  bool quote_excluded = false;   // some source was left out because the quote is for another asset
};

Candidates ListCandidates(const State& state, const Payment& payment, const Customer& customer,
                          const ConfirmOptions& options, const FxQuote* quote) {
  Candidates out;
  for (size_t i = 0; i < customer.sources.size(); ++i) {
    const FundingSource& source = customer.sources[i];
    if (source.kind == SourceKind::points) continue;
    if (options.source_account && source.account != *options.source_account) continue;
    out.override_seen = out.override_seen || options.source_account.has_value();
    const bool tagged = HasTag(source, payment.scenario);
    // A transit purse pays only in a scenario it is tagged for (a ride, not a web shop).
    if (source.kind == SourceKind::transit && !tagged) continue;
    if (quote != nullptr && source.asset != quote->to_asset) {
      out.quote_excluded = true;
      continue;
    }
    Candidate candidate{&source, i, tagged, std::nullopt};
    if (source.asset != payment.asset) {
      const FxRate* rate = state.FindRate(payment.asset, source.asset);
      if (quote == nullptr && rate == nullptr) {
        out.fx_rate_missing = true;
        continue;
      }
      candidate.rate = quote != nullptr ? quote->rate : rate->rate;
    }
    out.usable.push_back(candidate);
  }
  std::sort(out.usable.begin(), out.usable.end(),
            [](const Candidate& a, const Candidate& b) { return a.Key() < b.Key(); });
  return out;
}

// What the candidate must hold for `charge` (X): rounded up into its asset Y.
std::optional<Amount> NeededFrom(const State& state, const Payment& payment, const Candidate& c,
                                 Amount charge) {
  if (!c.rate) return charge;
  const Asset* from = state.assets.FindByLedger(payment.asset);
  const Asset* to = state.assets.FindByLedger(c.source->asset);
  if (from == nullptr || to == nullptr) return std::nullopt;
  return money::Convert(charge, *c.rate, from->scale, to->scale, money::Rounding::up);
}

std::string ReasonFor(const Payment& payment, const ConfirmOptions& options, const Candidate& c) {
  std::string reason = options.source_account ? "override"
                       : c.tagged             ? "scenario " + payment.scenario
                                              : "priority " + std::to_string(c.source->priority);
  return c.rate ? reason + ", fx" : reason;
}

// FX legs need liquidity accounts in both assets; a quote must still be near the table rate.
Refusal CheckFx(const State& state, const Payment& payment, const FxQuote* quote,
                FundingDecision& decision) {
  decision.fx_source_account = state.FxAccountOf(decision.source_asset);
  decision.fx_payout_account = state.FxAccountOf(payment.asset);
  if (decision.fx_source_account.is_zero() || decision.fx_payout_account.is_zero()) {
    return Refuse(PaymentError::fx_account_missing, "asset",
                  "FX liquidity accounts are needed for assets " + std::to_string(payment.asset) +
                      " and " + std::to_string(decision.source_asset));
  }
  const FxRate* current = state.FindRate(payment.asset, decision.source_asset);
  if (quote == nullptr) {
    decision.rate_source = current->source;
    decision.rate_as_of_ms = current->as_of_ms;
    return std::nullopt;
  }
  if (current == nullptr) return Refuse(PaymentError::fx_rate_missing, "quote");
  if (!money::WithinSlippage(quote->rate, current->rate, quote->max_slippage_bps)) {
    return Refuse(PaymentError::quote_slippage_exceeded, "quote",
                  "quoted " + FormatRate(quote->rate) + ", current " + FormatRate(current->rate) +
                      ", max slippage " + std::to_string(quote->max_slippage_bps) + " bps");
  }
  decision.quote = quote->id;
  decision.rate_source = "quote " + FormatQuoteId(quote->id);
  decision.rate_as_of_ms = quote->created_at_ms;
  return std::nullopt;
}

Refusal NoCandidate(const Candidates& candidates, const ConfirmOptions& options) {
  if (options.source_account && !candidates.override_seen) {
    return Refuse(
        PaymentError::invalid_request, "source_account",
        "account " + FormatId(*options.source_account) + " is not a money source of this customer");
  }
  if (candidates.quote_excluded) {
    return Refuse(PaymentError::quote_mismatch, "quote",
                  "no money source of the customer holds the quote's target asset");
  }
  if (candidates.fx_rate_missing) return Refuse(PaymentError::fx_rate_missing);
  return Refuse(PaymentError::no_funding_source);
}

// Picks the first candidate (in preference order) whose available balance covers the charge.
Refusal ChooseSource(const State& state, const Payment& payment, const Customer& customer,
                     const ConfirmOptions& options, uint64_t now_ms, const LedgerPort& ledger,
                     FundingDecision& decision) {
  const FxQuote* quote = nullptr;
  if (Refusal refusal = FindQuote(state, payment, options.quote, now_ms, quote)) return refusal;
  const Candidates candidates = ListCandidates(state, payment, customer, options, quote);
  if (candidates.usable.empty()) return NoCandidate(candidates, options);
  std::string shortfall;
  for (const Candidate& c : candidates.usable) {
    const std::optional<Amount> needed = NeededFrom(state, payment, c, decision.amount_charged);
    if (!needed) return Refuse(PaymentError::amount_too_large, "amount", "FX conversion overflows");
    const std::optional<ledger::Account> account = ledger.LookupAccount(c.source->account);
    if (!account || (account->flags & ledger::account_flags::kClosed) != 0) continue;
    const Amount available = money::AvailableForDebit(*account);
    if (available < *needed) {
      if (shortfall.empty()) {
        shortfall = "account " + FormatId(c.source->account) + " has " + AmountText(available) +
                    " available, needs " + AmountText(*needed);
      }
      continue;
    }
    decision.source_account = c.source->account;
    decision.source_kind = c.source->kind;
    decision.source_asset = c.source->asset;
    decision.amount_charged_source = *needed;
    decision.reason = ReasonFor(payment, options, c);
    decision.fx = c.rate.has_value();
    if (!decision.fx) return std::nullopt;
    decision.rate = *c.rate;
    return CheckFx(state, payment, quote, decision);
  }
  return Refuse(PaymentError::insufficient_funds, "", shortfall);
}

}  // namespace

FundingPlan PlanFunding(const State& state, const Payment& payment, const ConfirmOptions& options,
                        uint64_t now_ms, const LedgerPort& ledger) {
  FundingPlan plan;
  const Customer* customer = state.FindCustomer(payment.customer);
  if (customer == nullptr) {
    plan.refusal = Refuse(PaymentError::customer_not_found, "customer");
    return plan;
  }
  FundingDecision& decision = plan.decision;
  const std::string coupon = options.coupon_code.value_or(payment.coupon_code);
  if (!coupon.empty()) {
    plan.refusal = ApplyCoupon(state, payment, coupon, now_ms, decision);
    if (plan.refusal) return plan;
  }
  const Amount net = *payment.amount.CheckedSub(decision.coupon_discount);
  if (net.is_zero()) {
    plan.refusal = Refuse(PaymentError::coupon_not_applicable, "coupon_code",
                          "the coupon covers the whole amount: nothing would be charged");
    return plan;
  }
  if (options.use_points.value_or(payment.use_points)) {
    plan.refusal = ApplyPoints(state, payment, *customer, net, ledger, decision);
    if (plan.refusal) return plan;
  }
  decision.amount_charged = *net.CheckedSub(decision.points_value);
  plan.payer = decision.points_account;
  if (decision.amount_charged.is_zero()) {
    decision.reason = "points";
    return plan;
  }
  plan.refusal = ChooseSource(state, payment, *customer, options, now_ms, ledger, decision);
  plan.payer = decision.source_account;
  return plan;
}

}  // namespace tpw::payments
