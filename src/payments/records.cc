#include "payments/records.h"

#include "common/utf8.h"
#include "payments/limits.h"

namespace tpw::payments::records {
namespace {

// ---- writing --------------------------------------------------------------------------------

void PutAmount(Writer& w, Amount amount) { w.U128(amount.minor()); }
template <typename Tag>
void PutId(Writer& w, Id128<Tag> id) {
  w.U128(id.value);
}
void PutBool(Writer& w, bool value) { w.U8(value ? 1 : 0); }
void PutCount(Writer& w, size_t count) { w.U32(static_cast<uint32_t>(count)); }

void PutSplit(Writer& w, const Split& split) {
  PutId(w, split.account);
  PutAmount(w, split.amount);
  w.U32(split.basis_points);
}

void PutPayout(Writer& w, const Payout& payout) {
  PutId(w, payout.account);
  PutAmount(w, payout.amount);
  PutAmount(w, payout.reversed);
}

void PutRisk(Writer& w, const RiskSummary& risk) {
  PutBool(w, risk.evaluated);
  w.U8(static_cast<uint8_t>(risk.decision));
  w.U8(static_cast<uint8_t>(risk.required_cvm));
  w.U8(static_cast<uint8_t>(risk.cvm_performed));
  w.U64(static_cast<uint64_t>(risk.score));
  PutCount(w, risk.matched_rules.size());
  for (const std::string& rule : risk.matched_rules) w.String(rule);
  w.String(risk.decided_by);
  w.String(risk.rules_version);
}

void PutFunding(Writer& w, const FundingDecision& f) {
  PutId(w, f.source_account);
  w.U8(static_cast<uint8_t>(f.source_kind));
  w.U32(f.source_asset);
  w.String(f.reason);
  PutAmount(w, f.amount_charged);
  PutAmount(w, f.amount_charged_source);
  w.String(f.coupon_code);
  PutAmount(w, f.coupon_discount);
  PutId(w, f.points_account);
  PutAmount(w, f.points_used);
  PutAmount(w, f.points_value);
  w.U32(f.points_asset);
  PutId(w, f.points_sink_account);
  PutId(w, f.points_funding_account);
  PutBool(w, f.fx);
  PutId(w, f.fx_source_account);
  PutId(w, f.fx_payout_account);
  w.U128(f.rate.e18);
  w.U64(f.quote.value);
  w.String(f.rate_source);
  w.U64(f.rate_as_of_ms);
}

void PutRefund(Writer& w, const Refund& refund) {
  w.U64(refund.id.value);
  PutAmount(w, refund.amount);
  PutAmount(w, refund.money);
  PutAmount(w, refund.money_source);
  PutAmount(w, refund.points_value);
  PutAmount(w, refund.points);
  PutCount(w, refund.split_reversals.size());
  for (const Amount amount : refund.split_reversals) PutAmount(w, amount);
  PutAmount(w, refund.fee_reversal);
  PutBool(w, refund.reverse_splits);
  PutBool(w, refund.refund_fee);
  w.U32(refund.attempt);
  w.U16(refund.transfer_count);
  w.U64(refund.created_at_ms);
}

void PutFundingSource(Writer& w, const FundingSource& source) {
  PutId(w, source.account);
  w.U32(source.asset);
  w.U8(static_cast<uint8_t>(source.kind));
  PutCount(w, source.tags.size());
  for (const std::string& tag : source.tags) w.String(tag);
  w.U32(source.priority);
}

// ---- reading --------------------------------------------------------------------------------

// A BinaryReader plus a flag for values that read fine but are out of range.
class In {
 public:
  explicit In(BinaryReader& reader) : r_(reader) {}
  bool ok() const { return r_.ok() && valid_; }
  void Invalid() { valid_ = false; }

  uint8_t U8() { return r_.U8(); }
  uint16_t U16() { return r_.U16(); }
  uint32_t U32() { return r_.U32(); }
  uint64_t U64() { return r_.U64(); }
  u128 U128() { return r_.U128(); }
  Amount Amt() { return Amount::FromMinor(r_.U128()); }
  template <typename IdType>
  IdType Id() {
    return IdType(r_.U128());
  }
  bool Bool() {
    const uint8_t value = r_.U8();
    if (value > 1) valid_ = false;
    return value == 1;
  }
  template <typename Enum>
  Enum EnumUpTo(uint8_t max) {
    const uint8_t value = r_.U8();
    if (value > max) valid_ = false;
    return static_cast<Enum>(value > max ? 0 : value);
  }
  // Every text in a record came from a JSON body (valid UTF-8) and goes back into JSON: other
  // bytes mean a damaged record.
  std::string Str(size_t max) {
    std::string text = r_.String(static_cast<uint32_t>(max));
    if (!IsValidUtf8(text)) valid_ = false;
    return text;
  }
  // A count, at most `max`, and never more than the bytes left could hold (`min_item_bytes`
  // each): a hostile count fails here instead of allocating.
  size_t Count(size_t max, size_t min_item_bytes) {
    const uint32_t count = r_.U32();
    if (!r_.ok()) return 0;
    if (count > max || count > r_.remaining() / min_item_bytes) {
      valid_ = false;
      return 0;
    }
    return count;
  }

 private:
  BinaryReader& r_;
  bool valid_ = true;
};

constexpr size_t kAmountBytes = 16;
constexpr size_t kStringMinBytes = 4;

Split GetSplit(In& in) {
  Split split;
  split.account = in.Id<AccountId>();
  split.amount = in.Amt();
  split.basis_points = in.U32();
  if (split.basis_points > kBasisPointsWhole) in.Invalid();
  return split;
}

Payout GetPayout(In& in) {
  Payout payout;
  payout.account = in.Id<AccountId>();
  payout.amount = in.Amt();
  payout.reversed = in.Amt();
  if (payout.reversed > payout.amount) in.Invalid();
  return payout;
}

RiskSummary GetRisk(In& in) {
  RiskSummary risk;
  risk.evaluated = in.Bool();
  risk.decision = in.EnumUpTo<risk::Decision>(3);
  risk.required_cvm = in.EnumUpTo<risk::Cvm>(2);
  risk.cvm_performed = in.EnumUpTo<risk::Cvm>(2);
  risk.score = static_cast<int64_t>(in.U64());
  const size_t rules = in.Count(kRiskRulesKeptMax, kStringMinBytes);
  for (size_t i = 0; i < rules && in.ok(); ++i) {
    risk.matched_rules.push_back(in.Str(kRiskNameLengthMax));
  }
  risk.decided_by = in.Str(kRiskNameLengthMax);
  risk.rules_version = in.Str(kRiskNameLengthMax);
  return risk;
}

FundingDecision GetFunding(In& in) {
  FundingDecision f;
  f.source_account = in.Id<AccountId>();
  f.source_kind = in.EnumUpTo<SourceKind>(2);
  f.source_asset = in.U32();
  f.reason = in.Str(kDescriptionLengthMax);
  f.amount_charged = in.Amt();
  f.amount_charged_source = in.Amt();
  f.coupon_code = in.Str(kCouponCodeLengthMax);
  f.coupon_discount = in.Amt();
  f.points_account = in.Id<AccountId>();
  f.points_used = in.Amt();
  f.points_value = in.Amt();
  f.points_asset = in.U32();
  f.points_sink_account = in.Id<AccountId>();
  f.points_funding_account = in.Id<AccountId>();
  f.fx = in.Bool();
  f.fx_source_account = in.Id<AccountId>();
  f.fx_payout_account = in.Id<AccountId>();
  f.rate.e18 = in.U128();
  f.quote = QuoteId(in.U64());
  f.rate_source = in.Str(kRateSourceLengthMax);
  f.rate_as_of_ms = in.U64();
  return f;
}

Refund GetRefund(In& in, size_t payouts) {
  Refund refund;
  refund.id = RefundId(in.U64());
  refund.amount = in.Amt();
  refund.money = in.Amt();
  refund.money_source = in.Amt();
  refund.points_value = in.Amt();
  refund.points = in.Amt();
  const size_t reversals = in.Count(payouts, kAmountBytes);
  for (size_t i = 0; i < reversals && in.ok(); ++i) refund.split_reversals.push_back(in.Amt());
  refund.fee_reversal = in.Amt();
  refund.reverse_splits = in.Bool();
  refund.refund_fee = in.Bool();
  refund.attempt = in.U32();
  refund.transfer_count = in.U16();
  refund.created_at_ms = in.U64();
  if (refund.id.is_zero()) in.Invalid();
  return refund;
}

FundingSource GetFundingSource(In& in) {
  FundingSource source;
  source.account = in.Id<AccountId>();
  source.asset = in.U32();
  source.kind = in.EnumUpTo<SourceKind>(2);
  const size_t tags = in.Count(kSourceTagsMax, kStringMinBytes);
  for (size_t i = 0; i < tags && in.ok(); ++i) source.tags.push_back(in.Str(kTagLengthMax));
  source.priority = in.U32();
  return source;
}

void GetMetadata(In& in, Metadata& metadata) {
  const size_t count = in.Count(kMetadataKeysMax, 2 * kStringMinBytes);
  for (size_t i = 0; i < count && in.ok(); ++i) {
    std::string key = in.Str(kMetadataKeyLengthMax);
    std::string value = in.Str(kMetadataValueLengthMax);
    // Sorted, unique keys: the form Execute stores, so equal payments encode equally.
    if (!metadata.empty() && metadata.back().first >= key) in.Invalid();
    metadata.emplace_back(std::move(key), std::move(value));
  }
}

}  // namespace

void Put(Writer& w, const Payment& p) {
  w.U64(p.id.value);
  PutAmount(w, p.amount);
  w.U32(p.asset);
  PutId(w, p.merchant_account);
  PutId(w, p.customer);
  w.U8(static_cast<uint8_t>(p.capture_method));
  w.String(p.description);
  PutCount(w, p.metadata.size());
  for (const auto& [key, value] : p.metadata) {
    w.String(key);
    w.String(value);
  }
  PutCount(w, p.splits.size());
  for (const Split& split : p.splits) PutSplit(w, split);
  PutSplit(w, p.platform_fee);
  w.String(p.scenario);
  w.String(p.coupon_code);
  PutBool(w, p.use_points);
  w.U32(p.hold_timeout_seconds);
  w.U8(static_cast<uint8_t>(p.state));
  w.U8(static_cast<uint8_t>(p.cancel_reason));
  PutRisk(w, p.risk);
  PutBool(w, p.funded);
  PutFunding(w, p.funding);
  PutId(w, p.money_hold);
  PutId(w, p.points_hold);
  w.U64(p.hold_expires_at_ms);
  PutAmount(w, p.amount_capturable);
  PutAmount(w, p.amount_captured);
  PutAmount(w, p.amount_refunded);
  PutAmount(w, p.captured_money);
  PutAmount(w, p.captured_money_source);
  PutAmount(w, p.captured_points_value);
  PutAmount(w, p.captured_points);
  PutCount(w, p.payouts.size());
  for (const Payout& payout : p.payouts) PutPayout(w, payout);
  PutPayout(w, p.fee_payout);
  PutAmount(w, p.refunded_money);
  PutAmount(w, p.refunded_money_source);
  PutAmount(w, p.refunded_points_value);
  PutCount(w, p.refunds.size());
  for (const Refund& refund : p.refunds) PutRefund(w, refund);
  w.U32(p.ledger_attempts);
  w.U8(static_cast<uint8_t>(p.last_error));
  PutBool(w, p.last_ledger_result.has_value());
  w.U8(p.last_ledger_result ? static_cast<uint8_t>(*p.last_ledger_result) : 0);
  w.U64(p.created_at_ms);
  w.U64(p.updated_at_ms);
}

bool Get(BinaryReader& reader, Payment& p) {
  In in(reader);
  p = Payment{};
  p.id = PaymentId(in.U64());
  p.amount = in.Amt();
  p.asset = in.U32();
  p.merchant_account = in.Id<AccountId>();
  p.customer = in.Id<CustomerId>();
  p.capture_method = in.EnumUpTo<CaptureMethod>(1);
  p.description = in.Str(kDescriptionLengthMax);
  GetMetadata(in, p.metadata);
  const size_t splits = in.Count(kSplitsMax, 36);
  for (size_t i = 0; i < splits && in.ok(); ++i) p.splits.push_back(GetSplit(in));
  p.platform_fee = GetSplit(in);
  p.scenario = in.Str(kTagLengthMax);
  p.coupon_code = in.Str(kCouponCodeLengthMax);
  p.use_points = in.Bool();
  p.hold_timeout_seconds = in.U32();
  p.state = in.EnumUpTo<PaymentState>(4);
  p.cancel_reason = in.EnumUpTo<CancelReason>(6);
  p.risk = GetRisk(in);
  p.funded = in.Bool();
  p.funding = GetFunding(in);
  p.money_hold = in.Id<TransferId>();
  p.points_hold = in.Id<TransferId>();
  p.hold_expires_at_ms = in.U64();
  p.amount_capturable = in.Amt();
  p.amount_captured = in.Amt();
  p.amount_refunded = in.Amt();
  p.captured_money = in.Amt();
  p.captured_money_source = in.Amt();
  p.captured_points_value = in.Amt();
  p.captured_points = in.Amt();
  const size_t payouts = in.Count(kSplitsMax, 48);
  for (size_t i = 0; i < payouts && in.ok(); ++i) p.payouts.push_back(GetPayout(in));
  p.fee_payout = GetPayout(in);
  p.refunded_money = in.Amt();
  p.refunded_money_source = in.Amt();
  p.refunded_points_value = in.Amt();
  const size_t refunds = in.Count(kRefundsPerPaymentMax, 8);
  for (size_t i = 0; i < refunds && in.ok(); ++i) p.refunds.push_back(GetRefund(in, payouts));
  p.ledger_attempts = in.U32();
  const uint8_t last_error = in.U8();
  if (last_error >= kPaymentErrorCount) in.Invalid();
  p.last_error = static_cast<PaymentError>(last_error < kPaymentErrorCount ? last_error : 0);
  const bool has_ledger_result = in.Bool();
  const uint8_t ledger_result = in.U8();
  // Strict: without a result the byte is 0, so a decoded payment encodes back byte for byte.
  if (ledger_result >= ledger::kCreateTransferResultCount) in.Invalid();
  if (!has_ledger_result && ledger_result != 0) in.Invalid();
  if (has_ledger_result && in.ok()) {
    p.last_ledger_result = static_cast<ledger::CreateTransferResult>(ledger_result);
  }
  p.created_at_ms = in.U64();
  p.updated_at_ms = in.U64();
  if (p.id.is_zero() || p.amount.is_zero() || p.amount_refunded > p.amount_captured) {
    in.Invalid();
  }
  return in.ok();
}

void Put(Writer& w, const Customer& customer) {
  PutId(w, customer.id);
  PutCount(w, customer.sources.size());
  for (const FundingSource& source : customer.sources) PutFundingSource(w, source);
  w.U64(customer.created_at_ms);
  w.U64(customer.updated_at_ms);
}

bool Get(BinaryReader& reader, Customer& customer) {
  In in(reader);
  customer = Customer{};
  customer.id = in.Id<CustomerId>();
  const size_t sources = in.Count(kFundingSourcesMax, 29);
  for (size_t i = 0; i < sources && in.ok(); ++i) {
    customer.sources.push_back(GetFundingSource(in));
  }
  customer.created_at_ms = in.U64();
  customer.updated_at_ms = in.U64();
  if (customer.id.is_zero()) in.Invalid();
  return in.ok();
}

void Put(Writer& w, const Coupon& coupon) {
  w.String(coupon.code);
  w.U8(static_cast<uint8_t>(coupon.kind));
  PutAmount(w, coupon.amount_off);
  w.U32(coupon.percent_off_bps);
  w.U32(coupon.asset);
  PutAmount(w, coupon.min_spend);
  w.U64(coupon.expires_at_ms);
  PutBool(w, coupon.single_use);
  PutId(w, coupon.merchant_account);
  w.U32(coupon.redemptions);
  w.U64(coupon.created_at_ms);
}

bool Get(BinaryReader& reader, Coupon& coupon) {
  In in(reader);
  coupon = Coupon{};
  coupon.code = in.Str(kCouponCodeLengthMax);
  coupon.kind = in.EnumUpTo<CouponKind>(1);
  coupon.amount_off = in.Amt();
  coupon.percent_off_bps = in.U32();
  coupon.asset = in.U32();
  coupon.min_spend = in.Amt();
  coupon.expires_at_ms = in.U64();
  coupon.single_use = in.Bool();
  coupon.merchant_account = in.Id<AccountId>();
  coupon.redemptions = in.U32();
  coupon.created_at_ms = in.U64();
  if (coupon.code.empty() || coupon.percent_off_bps > kBasisPointsWhole) in.Invalid();
  return in.ok();
}

void Put(Writer& w, const PointsProgram& program) {
  PutBool(w, program.configured);
  w.U32(program.points_asset);
  w.U32(program.money_asset);
  w.U64(program.points_per_minor_unit);
  PutId(w, program.sink_account);
  PutId(w, program.funding_account);
  w.U64(program.updated_at_ms);
}

bool Get(BinaryReader& reader, PointsProgram& program) {
  In in(reader);
  program = PointsProgram{};
  program.configured = in.Bool();
  program.points_asset = in.U32();
  program.money_asset = in.U32();
  program.points_per_minor_unit = in.U64();
  program.sink_account = in.Id<AccountId>();
  program.funding_account = in.Id<AccountId>();
  program.updated_at_ms = in.U64();
  if (program.points_per_minor_unit > kPointsPerMinorUnitMax) in.Invalid();
  return in.ok();
}

void Put(Writer& w, const FxRate& rate) {
  w.U32(rate.from_asset);
  w.U32(rate.to_asset);
  w.U128(rate.rate.e18);
  w.String(rate.source);
  w.U64(rate.as_of_ms);
  w.U64(rate.updated_at_ms);
}

bool Get(BinaryReader& reader, FxRate& rate) {
  In in(reader);
  rate = FxRate{};
  rate.from_asset = in.U32();
  rate.to_asset = in.U32();
  rate.rate.e18 = in.U128();
  rate.source = in.Str(kRateSourceLengthMax);
  rate.as_of_ms = in.U64();
  rate.updated_at_ms = in.U64();
  if (rate.rate.e18 == 0 || rate.from_asset == rate.to_asset) in.Invalid();
  return in.ok();
}

void Put(Writer& w, const FxQuote& quote) {
  w.U64(quote.id.value);
  w.U32(quote.from_asset);
  w.U32(quote.to_asset);
  w.U128(quote.rate.e18);
  w.U32(quote.max_slippage_bps);
  w.U64(quote.created_at_ms);
  w.U64(quote.expires_at_ms);
}

bool Get(BinaryReader& reader, FxQuote& quote) {
  In in(reader);
  quote = FxQuote{};
  quote.id = QuoteId(in.U64());
  quote.from_asset = in.U32();
  quote.to_asset = in.U32();
  quote.rate.e18 = in.U128();
  quote.max_slippage_bps = in.U32();
  quote.created_at_ms = in.U64();
  quote.expires_at_ms = in.U64();
  if (quote.id.is_zero() || quote.rate.e18 == 0 || quote.max_slippage_bps > kBasisPointsWhole) {
    in.Invalid();
  }
  return in.ok();
}

void Put(Writer& w, const FxAccount& account) {
  w.U32(account.asset);
  PutId(w, account.account);
}

bool Get(BinaryReader& reader, FxAccount& account) {
  In in(reader);
  account.asset = in.U32();
  account.account = in.Id<AccountId>();
  if (account.asset == 0 || account.account.is_zero()) in.Invalid();
  return in.ok();
}

}  // namespace tpw::payments::records
