// Registry commands (customers, coupons, the points program, FX rates, quotes and liquidity
// accounts) and the read-only commands.
#include <algorithm>
#include <set>

#include "payments/checks.h"
#include "payments/handlers.h"
#include "payments/limits.h"

namespace tpw::payments {
namespace {

std::string Index(std::string_view name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

Refusal CheckSource(const State& state, const FundingSource& source, const LedgerPort& ledger,
                    const std::string& param) {
  if (Refusal r = CheckAsset(state, source.asset, param + ".asset")) return r;
  if (Refusal r = CheckAccount(ledger, source.account, source.asset, param + ".account")) {
    return r;
  }
  if (source.tags.size() > kSourceTagsMax) {
    return Refuse(PaymentError::limit_exceeded, param + ".tags",
                  "at most " + std::to_string(kSourceTagsMax) + " tags");
  }
  for (size_t i = 0; i < source.tags.size(); ++i) {
    if (Refusal r = CheckToken(source.tags[i], kTagLengthMax, Index(param + ".tags", i))) return r;
  }
  if (static_cast<uint8_t>(source.kind) > static_cast<uint8_t>(SourceKind::transit)) {
    return Refuse(PaymentError::invalid_request, param + ".kind", "balance, points or transit");
  }
  return std::nullopt;
}

Refusal CheckCustomer(const State& state, const Customer& customer, const LedgerPort& ledger) {
  if (customer.id.is_zero() || customer.id.is_max()) {
    return Refuse(PaymentError::invalid_request, "id", "customer ids 0 and 2^128-1 are reserved");
  }
  if (customer.sources.size() > kFundingSourcesMax) {
    return Refuse(PaymentError::limit_exceeded, "sources",
                  "at most " + std::to_string(kFundingSourcesMax) + " funding sources");
  }
  std::set<u128> accounts;
  for (size_t i = 0; i < customer.sources.size(); ++i) {
    const FundingSource& source = customer.sources[i];
    if (Refusal r = CheckSource(state, source, ledger, Index("sources", i))) return r;
    if (!accounts.insert(source.account.value).second) {
      return Refuse(PaymentError::invalid_request, Index("sources", i) + ".account",
                    "the account is listed twice");
    }
  }
  const bool known = state.FindCustomer(customer.id) != nullptr;
  if (!known && state.customers.size() >= kCustomersMax) {
    return Refuse(PaymentError::limit_exceeded, "", "the module holds the most customers it can");
  }
  return std::nullopt;
}

Refusal CheckCouponAmounts(const State& state, const Coupon& coupon) {
  if (coupon.kind == CouponKind::fixed) {
    if (coupon.amount_off.is_zero() || coupon.percent_off_bps != 0) {
      return Refuse(PaymentError::invalid_request, "amount_off",
                    "a fixed coupon needs amount_off > 0 and no percent_off");
    }
    return CheckAsset(state, coupon.asset, "asset");
  }
  if (coupon.kind != CouponKind::percent) {
    return Refuse(PaymentError::invalid_request, "kind", "fixed or percent");
  }
  if (coupon.percent_off_bps == 0 || coupon.percent_off_bps > kBasisPointsWhole ||
      !coupon.amount_off.is_zero()) {
    return Refuse(PaymentError::invalid_request, "percent_off_bps",
                  "a percent coupon needs 1..10000 basis points and no amount_off");
  }
  if (coupon.asset == 0) {
    if (!coupon.min_spend.is_zero()) {
      return Refuse(PaymentError::invalid_request, "min_spend",
                    "a minimum spend needs the coupon's asset");
    }
    return std::nullopt;
  }
  return CheckAsset(state, coupon.asset, "asset");
}

Refusal CheckQuoteRequest(const State& state, const QuoteRequest& request) {
  if (request.ttl_ms == 0 || request.ttl_ms > kQuoteTtlMsMax) {
    return Refuse(PaymentError::invalid_request, "ttl_ms",
                  "1.." + std::to_string(kQuoteTtlMsMax) + " ms (one day)");
  }
  if (request.max_slippage_bps > kBasisPointsWhole) {
    return Refuse(PaymentError::invalid_request, "max_slippage_bps", "0..10000");
  }
  if (state.FindRate(request.from_asset, request.to_asset) == nullptr) {
    return Refuse(PaymentError::fx_rate_missing, "to_asset",
                  "no rate from asset " + std::to_string(request.from_asset) + " to " +
                      std::to_string(request.to_asset));
  }
  return std::nullopt;
}

// Quotes still alive at `now_ms` (expired ones are dropped when a new quote is created).
size_t LiveQuotes(const State& state, uint64_t now_ms) {
  return static_cast<size_t>(
      std::count_if(state.quotes.begin(), state.quotes.end(),
                    [&](const auto& q) { return q.second.expires_at_ms > now_ms; }));
}

Refusal CheckRateRow(const State& state, const FxRateInput& input, const std::string& param,
                     FxRate& row) {
  if (Refusal r = CheckAsset(state, input.from_asset, param + ".from_asset")) return r;
  if (Refusal r = CheckAsset(state, input.to_asset, param + ".to_asset")) return r;
  if (input.from_asset == input.to_asset) {
    return Refuse(PaymentError::invalid_request, param + ".to_asset", "a pair of two assets");
  }
  const std::optional<Rate> rate = ParseRate(input.rate);
  if (!rate) {
    return Refuse(PaymentError::invalid_request, param + ".rate",
                  "a positive decimal: 1..20 digits, optionally '.' and 1..18 digits");
  }
  if (Refusal r = CheckToken(input.source, kRateSourceLengthMax, param + ".source")) return r;
  row.from_asset = input.from_asset;
  row.to_asset = input.to_asset;
  row.rate = *rate;
  row.source = input.source;
  row.as_of_ms = input.as_of_ms;
  return std::nullopt;
}

// Emits `event` and answers with the record it carries.
Reply EmitAndReply(Event event, Emitter& emitter) {
  Reply reply;
  reply.customer = event.customer;
  reply.coupon = event.coupon;
  reply.program = event.program;
  reply.rates = event.rates;
  reply.quote = event.quote;
  reply.fx_account = event.fx_account;
  emitter.Emit(std::move(event));
  return reply;
}

// A merchant's code is free unless it or the platform has it; a platform code (account zero)
// unless any merchant has it — so a payment's merchant never sees two coupons for one code.
// Only platform (admin) keys create platform coupons, so the answer tells a merchant key
// nothing about another merchant's codes.
bool CodeTaken(const State& state, const Coupon& coupon) {
  if (!coupon.merchant_account.is_zero()) {
    return state.FindCouponFor(coupon.merchant_account, coupon.code) != nullptr;
  }
  return !state.CouponsWithCode(coupon.code).empty();
}

// get_coupon: with a merchant, the coupon its payments get for the code (its own, else the
// platform's); without, the platform's coupon, or the one coupon with that code.
Reply GetCoupon(const State& state, AccountId merchant, const std::string& code) {
  const Coupon* found = state.FindCouponFor(merchant, code);
  if (found == nullptr && merchant.is_zero()) {
    const std::vector<const Coupon*> all = state.CouponsWithCode(code);
    if (all.size() > 1) {
      return Refuse(PaymentError::invalid_request, "merchant_account_id",
                    std::to_string(all.size()) + " merchants have a coupon " + code +
                        "; name one with merchant_account_id");
    }
    if (all.size() == 1) found = all.front();
  }
  if (found == nullptr) return Refuse(PaymentError::coupon_not_found, "code", code);
  Reply reply;
  reply.coupon = *found;
  return reply;
}

}  // namespace

Reply UpsertCustomer(const State& state, const Command& c, const LedgerPort& ledger,
                     Emitter& emitter) {
  if (Refusal r = CheckCustomer(state, c.customer_record, ledger)) return std::move(*r);
  Customer customer = c.customer_record;
  const Customer* known = state.FindCustomer(customer.id);
  customer.created_at_ms = known != nullptr ? known->created_at_ms : emitter.now_ms();
  customer.updated_at_ms = emitter.now_ms();
  Event event;
  event.kind = EventKind::customer_updated;
  event.customer = std::move(customer);
  return EmitAndReply(std::move(event), emitter);
}

Reply CreateCoupon(const State& state, const Command& c, const LedgerPort& ledger,
                   Emitter& emitter) {
  Coupon coupon = c.coupon;
  if (Refusal r = CheckToken(coupon.code, kCouponCodeLengthMax, "code")) return std::move(*r);
  if (CodeTaken(state, coupon)) return Refuse(PaymentError::coupon_exists, "code", coupon.code);
  if (state.coupons.size() >= kCouponsMax) {
    return Refuse(PaymentError::limit_exceeded, "", "the module holds the most coupons it can");
  }
  if (Refusal r = CheckCouponAmounts(state, coupon)) return std::move(*r);
  if (!coupon.merchant_account.is_zero() && !ledger.LookupAccount(coupon.merchant_account)) {
    return Refuse(PaymentError::account_not_found, "merchant_account",
                  FormatId(coupon.merchant_account));
  }
  coupon.redemptions = 0;
  coupon.created_at_ms = emitter.now_ms();
  Event event;
  event.kind = EventKind::coupon_created;
  event.coupon = std::move(coupon);
  return EmitAndReply(std::move(event), emitter);
}

Reply SetPointsProgram(const State& state, const Command& c, const LedgerPort& ledger,
                       Emitter& emitter) {
  PointsProgram program = c.program;
  if (Refusal r = CheckAsset(state, program.points_asset, "points_asset")) return std::move(*r);
  if (Refusal r = CheckAsset(state, program.money_asset, "money_asset")) return std::move(*r);
  if (program.points_asset == program.money_asset) {
    return Refuse(PaymentError::invalid_request, "points_asset",
                  "points and money are different assets");
  }
  if (program.points_per_minor_unit == 0 ||
      program.points_per_minor_unit > kPointsPerMinorUnitMax) {
    return Refuse(PaymentError::invalid_request, "points_per_minor_unit",
                  "1.." + std::to_string(kPointsPerMinorUnitMax));
  }
  if (Refusal r =
          CheckAccount(ledger, program.sink_account, program.points_asset, "sink_account")) {
    return std::move(*r);
  }
  if (Refusal r =
          CheckAccount(ledger, program.funding_account, program.money_asset, "funding_account")) {
    return std::move(*r);
  }
  program.configured = true;
  program.updated_at_ms = emitter.now_ms();
  Event event;
  event.kind = EventKind::points_program_updated;
  event.program = std::move(program);
  return EmitAndReply(std::move(event), emitter);
}

Reply PutFxRates(const State& state, const Command& c, Emitter& emitter) {
  if (c.rates.empty() || c.rates.size() > kFxRatesPerPutMax) {
    return Refuse(PaymentError::invalid_request, "rates",
                  "1.." + std::to_string(kFxRatesPerPutMax) + " rates");
  }
  std::vector<FxRate> rows(c.rates.size());
  std::set<std::pair<uint32_t, uint32_t>> pairs;
  size_t new_pairs = 0;
  for (size_t i = 0; i < c.rates.size(); ++i) {
    if (Refusal r = CheckRateRow(state, c.rates[i], Index("rates", i), rows[i])) {
      return std::move(*r);
    }
    rows[i].updated_at_ms = emitter.now_ms();
    const std::pair<uint32_t, uint32_t> pair{rows[i].from_asset, rows[i].to_asset};
    if (!pairs.insert(pair).second) {
      return Refuse(PaymentError::invalid_request, Index("rates", i), "the pair appears twice");
    }
    if (state.rates.count(pair) == 0) ++new_pairs;
  }
  if (state.rates.size() + new_pairs > kFxPairsMax) {
    return Refuse(PaymentError::limit_exceeded, "rates",
                  "at most " + std::to_string(kFxPairsMax) + " pairs");
  }
  Event event;
  event.kind = EventKind::fx_rates_updated;
  event.rates = std::move(rows);
  return EmitAndReply(std::move(event), emitter);
}

Reply CreateFxQuote(const State& state, const Command& c, Emitter& emitter) {
  const QuoteRequest& request = c.quote_request;
  if (Refusal r = CheckQuoteRequest(state, request)) return std::move(*r);
  if (state.quotes.size() >= kQuotesMax && LiveQuotes(state, emitter.now_ms()) >= kQuotesMax) {
    return Refuse(PaymentError::limit_exceeded, "", "too many live quotes; retry later");
  }
  FxQuote quote;
  quote.id = QuoteId(state.next_quote);
  quote.from_asset = request.from_asset;
  quote.to_asset = request.to_asset;
  quote.rate = state.FindRate(request.from_asset, request.to_asset)->rate;
  quote.max_slippage_bps = request.max_slippage_bps;
  quote.created_at_ms = emitter.now_ms();
  quote.expires_at_ms = emitter.now_ms() + request.ttl_ms;
  Event event;
  event.kind = EventKind::fx_quote_created;
  event.quote = std::move(quote);
  return EmitAndReply(std::move(event), emitter);
}

Reply SetFxAccount(const State& state, const Command& c, const LedgerPort& ledger,
                   Emitter& emitter) {
  const FxAccount& fx = c.fx_account;
  if (Refusal r = CheckAsset(state, fx.asset, "asset")) return std::move(*r);
  if (Refusal r = CheckAccount(ledger, fx.account, fx.asset, "account")) return std::move(*r);
  Event event;
  event.kind = EventKind::fx_account_updated;
  event.fx_account = std::move(fx);
  return EmitAndReply(std::move(event), emitter);
}

Reply Read(const State& state, const Command& c) {
  Reply reply;
  switch (c.kind) {
    case CommandKind::get_payment:
      if (const Payment* p = state.FindPayment(c.payment)) {
        reply.payment = *p;
        return reply;
      }
      return Refuse(PaymentError::payment_not_found, "payment", FormatPaymentId(c.payment));
    case CommandKind::list_payments:
      return ListPayments(state, c.list);
    case CommandKind::get_customer:
      if (const Customer* customer = state.FindCustomer(c.customer)) {
        reply.customer = *customer;
        return reply;
      }
      return Refuse(PaymentError::customer_not_found, "customer", FormatId(c.customer));
    case CommandKind::get_coupon:
      return GetCoupon(state, c.merchant_account, c.coupon_code);
    case CommandKind::get_points_program:
      reply.program = state.program;
      return reply;
    case CommandKind::list_fx_rates:
      for (const auto& [pair, row] : state.rates) reply.rates.push_back(row);
      return reply;
    case CommandKind::get_fx_quote: {
      const auto it = state.quotes.find(c.quote.value);
      if (it == state.quotes.end()) {
        return Refuse(PaymentError::quote_not_found, "quote", FormatQuoteId(c.quote));
      }
      reply.quote = it->second;
      return reply;
    }
    default:
      TPW_UNREACHABLE();
  }
}

}  // namespace tpw::payments
