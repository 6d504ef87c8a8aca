#include "api/payments_json.h"

#include "api/json_text.h"
#include "cli/offline_values.h"
#include "cli/values.h"
#include "common/assert.h"
#include "ledger/results.h"

namespace tpw::api {
namespace {

namespace pay = payments;

// ---- Field helpers ----------------------------------------------------------------------------

// `key` as the exact decimal in the asset of `ledger`, `key`_minor as minor units.
void PutAmount(JsonText& out, std::string_view key, const AssetTable& assets, uint32_t ledger,
               Amount amount) {
  out.AmountPair(key, amount.minor(), cli::LedgerScale(assets, ledger));
}

// `asset_key`: the asset's code (null when the table has none); `ledger_key`: its number.
void PutAsset(JsonText& out, std::string_view asset_key, std::string_view ledger_key,
              const AssetTable& assets, uint32_t ledger) {
  const Asset* asset = assets.FindByLedger(ledger);
  if (asset != nullptr) {
    out.String(asset_key, asset->code);
  } else {
    out.Null(asset_key);
  }
  out.Unsigned(ledger_key, ledger);
}

// `key`: ms since 1970 as a string, `key`_time: RFC 3339 UTC; both null when `ms` is 0.
void PutTime(JsonText& out, std::string_view key, uint64_t ms) { out.TimePair(key, ms); }

// Ids are decimal strings (FormatId).
void PutId(JsonText& out, std::string_view key, u128 id) { out.DecimalString(key, id); }
// An id, or null when it is zero ("none").
void PutIdOrNull(JsonText& out, std::string_view key, u128 id) {
  if (id == 0) {
    out.Null(key);
  } else {
    PutId(out, key, id);
  }
}

// ---- Payments -------------------------------------------------------------------------------

void PutSplit(JsonText& out, const pay::Split& split, const AssetTable& assets, uint32_t asset) {
  out.BeginObject();
  PutId(out, "account_id", split.account.value);
  if (split.basis_points != 0) {
    out.Null("amount").Null("amount_minor").Unsigned("basis_points", split.basis_points);
  } else {
    PutAmount(out, "amount", assets, asset, split.amount);
    out.Null("basis_points");
  }
  out.EndObject();
}

void PutPayout(JsonText& out, const pay::Payout& payout, const AssetTable& assets, uint32_t asset) {
  out.BeginObject();
  PutId(out, "account_id", payout.account.value);
  PutAmount(out, "amount", assets, asset, payout.amount);
  PutAmount(out, "reversed", assets, asset, payout.reversed);
  out.EndObject();
}

void PutSplits(JsonText& out, const pay::Payment& p, const AssetTable& assets) {
  out.BeginArray("splits");
  for (const pay::Split& split : p.splits) PutSplit(out, split, assets, p.asset);
  out.EndArray();
  if (p.platform_fee.account.is_zero()) {
    out.Null("platform_fee");
  } else {
    out.BeginObject("platform_fee");  // the same shape as a split, as a member
    PutId(out, "account_id", p.platform_fee.account.value);
    if (p.platform_fee.basis_points != 0) {
      out.Null("amount").Null("amount_minor").Unsigned("basis_points", p.platform_fee.basis_points);
    } else {
      PutAmount(out, "amount", assets, p.asset, p.platform_fee.amount);
      out.Null("basis_points");
    }
    out.EndObject();
  }
}

void PutMetadata(JsonText& out, const pay::Metadata& metadata) {
  out.BeginObject("metadata");
  for (const auto& [key, value] : metadata) out.String(key, value);
  out.EndObject();
}

void PutRisk(JsonText& out, const pay::Payment& p) {
  if (p.state == pay::PaymentState::requires_action) {
    out.BeginObject("next_action")
        .String("type", "verify_customer")
        .String("required_cvm", risk::CvmName(p.risk.required_cvm))
        .EndObject();
  } else {
    out.Null("next_action");
  }
  if (!p.risk.evaluated) {
    out.Null("risk");
    return;
  }
  const pay::RiskSummary& r = p.risk;
  out.BeginObject("risk")
      .String("decision", risk::DecisionName(r.decision))
      .String("required_cvm", risk::CvmName(r.required_cvm))
      .String("cvm_performed", risk::CvmName(r.cvm_performed))
      .Signed("score", r.score);
  out.BeginArray("matched_rules");
  for (const std::string& name : r.matched_rules) out.StringElement(name);
  out.EndArray();
  out.StringOrNull("decided_by", r.decided_by).String("rules_version", r.rules_version);
  out.EndObject();
}

void PutFx(JsonText& out, const pay::FundingDecision& f) {
  if (!f.fx) {
    out.Null("fx");
    return;
  }
  out.BeginObject("fx").String("rate", pay::FormatRate(f.rate));
  if (f.quote.is_zero()) {
    out.Null("quote");
  } else {
    out.String("quote", pay::FormatQuoteId(f.quote));
  }
  out.String("rate_source", f.rate_source);
  PutTime(out, "rate_as_of", f.rate_as_of_ms);
  out.EndObject();
}

void PutFunding(JsonText& out, const pay::Payment& p, const AssetTable& assets) {
  if (!p.funded) {
    out.Null("funding");
    return;
  }
  const pay::FundingDecision& f = p.funding;
  out.BeginObject("funding");
  PutId(out, "source_account_id", f.source_account.value);
  out.String("source_kind", pay::SourceKindName(f.source_kind));
  PutAsset(out, "source_asset", "source_ledger", assets, f.source_asset);
  out.String("reason", f.reason);
  PutAmount(out, "amount_charged", assets, p.asset, f.amount_charged);
  PutAmount(out, "amount_charged_source", assets, f.source_asset, f.amount_charged_source);
  out.StringOrNull("coupon", f.coupon_code);
  PutAmount(out, "coupon_discount", assets, p.asset, f.coupon_discount);
  PutIdOrNull(out, "points_account_id", f.points_account.value);
  PutAmount(out, "points_used", assets, f.points_asset, f.points_used);
  PutAmount(out, "points_value", assets, p.asset, f.points_value);
  PutFx(out, f);
  out.EndObject();
}

void PutHold(JsonText& out, const pay::Payment& p) {
  if (!p.funded) {
    out.Null("hold");
    return;
  }
  out.BeginObject("hold");
  PutId(out, "transfer_id", p.money_hold.value);
  PutIdOrNull(out, "points_transfer_id", p.points_hold.value);
  PutTime(out, "expires_at", p.hold_expires_at_ms);
  out.EndObject();
}

void PutCaptured(JsonText& out, const pay::Payment& p, const AssetTable& assets) {
  const uint32_t source_asset = p.funded ? p.funding.source_asset : p.asset;
  out.BeginObject("captured");
  PutAmount(out, "money", assets, p.asset, p.captured_money);
  PutAmount(out, "money_source", assets, source_asset, p.captured_money_source);
  PutAmount(out, "points_value", assets, p.asset, p.captured_points_value);
  PutAmount(out, "points", assets, p.funding.points_asset, p.captured_points);
  out.EndObject();
  out.BeginArray("payouts");
  for (const pay::Payout& payout : p.payouts) PutPayout(out, payout, assets, p.asset);
  out.EndArray();
  if (p.fee_payout.account.is_zero()) {
    out.Null("fee_payout");
  } else {
    out.BeginObject("fee_payout");
    PutId(out, "account_id", p.fee_payout.account.value);
    PutAmount(out, "amount", assets, p.asset, p.fee_payout.amount);
    PutAmount(out, "reversed", assets, p.asset, p.fee_payout.reversed);
    out.EndObject();
  }
}

void PutLastError(JsonText& out, const pay::Payment& p) {
  if (p.last_error == pay::PaymentError::ok) {
    out.Null("last_payment_error");
    return;
  }
  out.BeginObject("last_payment_error")
      .String("code", pay::PaymentErrorName(p.last_error))
      .String("message", pay::PaymentErrorMessage(p.last_error));
  if (p.last_ledger_result) {
    out.String("ledger_result", ledger::ResultName(*p.last_ledger_result));
  } else {
    out.Null("ledger_result");
  }
  out.EndObject();
}

void WriteRefund(JsonText& out, const pay::Payment& p, const pay::Refund& r,
                 const AssetTable& assets) {
  const uint32_t source_asset = p.funded ? p.funding.source_asset : p.asset;
  out.BeginObject()
      .String("id", pay::FormatRefundId(r.id))
      .String("object", "refund")
      .String("payment", pay::FormatPaymentId(p.id))
      .String("status", "succeeded");
  PutAmount(out, "amount", assets, p.asset, r.amount);
  PutAsset(out, "asset", "ledger", assets, p.asset);
  PutAmount(out, "money", assets, p.asset, r.money);
  PutAmount(out, "money_source", assets, source_asset, r.money_source);
  PutAmount(out, "points_value", assets, p.asset, r.points_value);
  PutAmount(out, "points", assets, p.funding.points_asset, r.points);
  out.Bool("reverse_splits", r.reverse_splits).Bool("refund_fee", r.refund_fee);
  out.BeginArray("split_reversals");
  for (size_t i = 0; i < r.split_reversals.size(); ++i) {
    out.BeginObject();
    PutId(out, "account_id", i < p.payouts.size() ? p.payouts[i].account.value : 0);
    PutAmount(out, "amount", assets, p.asset, r.split_reversals[i]);
    out.EndObject();
  }
  out.EndArray();
  PutAmount(out, "fee_reversal", assets, p.asset, r.fee_reversal);
  // The ledger transfers of the refund (docs/payments.md, "Transfer ids").
  out.BeginArray("transfer_ids");
  for (uint16_t leg = 0; leg < r.transfer_count; ++leg) {
    out.StringElement(FormatId(pay::MakeTransferId(p.id, r.attempt, leg)));
  }
  out.EndArray();
  PutTime(out, "created", r.created_at_ms);
  out.EndObject();
}

void WritePayment(JsonText& out, const pay::Payment& p, const AssetTable& assets) {
  out.BeginObject().String("id", pay::FormatPaymentId(p.id)).String("object", "payment");
  PutAmount(out, "amount", assets, p.asset, p.amount);
  PutAsset(out, "asset", "ledger", assets, p.asset);
  PutId(out, "merchant_account_id", p.merchant_account.value);
  PutId(out, "customer", p.customer.value);
  out.String("status", pay::PaymentStateName(p.state));
  if (p.cancel_reason == pay::CancelReason::none) {
    out.Null("cancellation_reason");
  } else {
    out.String("cancellation_reason", pay::CancelReasonName(p.cancel_reason));
  }
  out.String("capture_method", pay::CaptureMethodName(p.capture_method));
  PutAmount(out, "amount_capturable", assets, p.asset, p.amount_capturable);
  PutAmount(out, "amount_captured", assets, p.asset, p.amount_captured);
  PutAmount(out, "amount_refunded", assets, p.asset, p.amount_refunded);
  out.StringOrNull("description", p.description);
  PutMetadata(out, p.metadata);
  PutSplits(out, p, assets);
  out.StringOrNull("scenario", p.scenario).StringOrNull("coupon", p.coupon_code);
  out.Bool("use_points", p.use_points).Unsigned("hold_timeout_seconds", p.hold_timeout_seconds);
  PutRisk(out, p);
  PutFunding(out, p, assets);
  PutHold(out, p);
  PutCaptured(out, p, assets);
  out.BeginArray("refunds");
  for (const pay::Refund& r : p.refunds) WriteRefund(out, p, r, assets);
  out.EndArray();
  out.Unsigned("ledger_attempts", p.ledger_attempts);
  PutLastError(out, p);
  PutTime(out, "created", p.created_at_ms);
  PutTime(out, "updated", p.updated_at_ms);
  out.EndObject();
}

// ---- Customers, coupons, points, FX ---------------------------------------------------------

void WriteCustomer(JsonText& out, const pay::Customer& c, const AssetTable& assets) {
  out.BeginObject();
  PutId(out, "id", c.id.value);
  out.String("object", "customer");
  out.BeginArray("sources");
  for (const pay::FundingSource& s : c.sources) {
    out.BeginObject();
    PutId(out, "account_id", s.account.value);
    PutAsset(out, "asset", "ledger", assets, s.asset);
    out.String("kind", pay::SourceKindName(s.kind));
    out.BeginArray("tags");
    for (const std::string& tag : s.tags) out.StringElement(tag);
    out.EndArray();
    out.Unsigned("priority", s.priority);
    out.EndObject();
  }
  out.EndArray();
  PutTime(out, "created", c.created_at_ms);
  PutTime(out, "updated", c.updated_at_ms);
  out.EndObject();
}

void WriteCoupon(JsonText& out, const pay::Coupon& c, const AssetTable& assets) {
  out.BeginObject()
      .String("id", c.code)
      .String("object", "coupon")
      .String("code", c.code)
      .String("kind", pay::CouponKindName(c.kind));
  if (c.kind == pay::CouponKind::fixed) {
    PutAmount(out, "amount_off", assets, c.asset, c.amount_off);
    out.Null("percent_off_bps");
  } else {
    out.Null("amount_off").Null("amount_off_minor").Unsigned("percent_off_bps", c.percent_off_bps);
  }
  if (c.asset == 0) {
    out.Null("asset").Null("ledger");
  } else {
    PutAsset(out, "asset", "ledger", assets, c.asset);
  }
  PutAmount(out, "min_spend", assets, c.asset, c.min_spend);
  PutTime(out, "expires_at", c.expires_at_ms);
  out.Bool("single_use", c.single_use);
  PutIdOrNull(out, "merchant_account_id", c.merchant_account.value);
  out.Unsigned("redemptions", c.redemptions);
  PutTime(out, "created", c.created_at_ms);
  out.EndObject();
}

void WriteProgram(JsonText& out, const pay::PointsProgram& p, const AssetTable& assets) {
  out.BeginObject().String("object", "points_program").Bool("configured", p.configured);
  if (!p.configured) {
    out.Null("points_asset").Null("points_ledger").Null("money_asset").Null("money_ledger");
    out.Null("points_per_minor_unit").Null("sink_account_id").Null("funding_account_id");
    PutTime(out, "updated", 0);
    out.EndObject();
    return;
  }
  PutAsset(out, "points_asset", "points_ledger", assets, p.points_asset);
  PutAsset(out, "money_asset", "money_ledger", assets, p.money_asset);
  out.Unsigned("points_per_minor_unit", p.points_per_minor_unit);
  PutId(out, "sink_account_id", p.sink_account.value);
  PutId(out, "funding_account_id", p.funding_account.value);
  PutTime(out, "updated", p.updated_at_ms);
  out.EndObject();
}

void WriteRate(JsonText& out, const pay::FxRate& r, const AssetTable& assets) {
  out.BeginObject().String("object", "fx_rate");
  PutAsset(out, "from_asset", "from_ledger", assets, r.from_asset);
  PutAsset(out, "to_asset", "to_ledger", assets, r.to_asset);
  out.String("rate", pay::FormatRate(r.rate)).String("source", r.source);
  PutTime(out, "as_of", r.as_of_ms);
  PutTime(out, "updated", r.updated_at_ms);
  out.EndObject();
}

void WriteQuote(JsonText& out, const pay::FxQuote& q, const AssetTable& assets) {
  out.BeginObject().String("id", pay::FormatQuoteId(q.id)).String("object", "fx_quote");
  PutAsset(out, "from_asset", "from_ledger", assets, q.from_asset);
  PutAsset(out, "to_asset", "to_ledger", assets, q.to_asset);
  out.String("rate", pay::FormatRate(q.rate)).Unsigned("max_slippage_bps", q.max_slippage_bps);
  PutTime(out, "created", q.created_at_ms);
  PutTime(out, "expires_at", q.expires_at_ms);
  out.EndObject();
}

void WriteFxAccount(JsonText& out, const pay::FxAccount& a, const AssetTable& assets) {
  out.BeginObject().String("object", "fx_account");
  PutAsset(out, "asset", "ledger", assets, a.asset);
  PutId(out, "account_id", a.account.value);
  out.EndObject();
}

template <typename Write, typename Record>
std::string Render(Write write, const Record& record, const AssetTable& assets,
                   size_t reserve = 512) {
  JsonText out(reserve);
  write(out, record, assets);
  return std::move(out).Finish();
}

// {"object": "list", "url", "data": [...], "has_more"} of pre-rendered items.
std::string ListJson(std::string_view url, const std::vector<std::string>& items, bool has_more) {
  JsonText out;
  out.BeginObject().String("object", "list").String("url", url).BeginArray("data");
  for (const std::string& item : items) out.RawElement(item);
  out.EndArray().Bool("has_more", has_more).EndObject();
  return std::move(out).Finish();
}

std::string RatesListJson(const std::vector<pay::FxRate>& rates, const AssetTable& assets) {
  std::vector<std::string> items;
  items.reserve(rates.size());
  for (const pay::FxRate& rate : rates) items.push_back(FxRateJson(rate, assets));
  return ListJson("/v1/fx/rates", items, false);
}

// ---- Errors ---------------------------------------------------------------------------------

// The states an action accepts, for the message of payment_intent_unexpected_state.
std::string_view AllowedStates(pay::CommandKind kind) {
  switch (kind) {
    case pay::CommandKind::create_payment:
    case pay::CommandKind::confirm_payment:
      return "requires_confirmation or requires_action";
    case pay::CommandKind::capture_payment:
      return "requires_capture";
    case pay::CommandKind::cancel_payment:
      return "requires_confirmation, requires_action or requires_capture";
    case pay::CommandKind::refund_payment:
      return "succeeded";
    default:
      return "";
  }
}

std::string_view ActionName(pay::CommandKind kind) {
  switch (kind) {
    case pay::CommandKind::create_payment:
    case pay::CommandKind::confirm_payment:
      return "confirm";
    case pay::CommandKind::capture_payment:
      return "capture";
    case pay::CommandKind::cancel_payment:
      return "cancel";
    case pay::CommandKind::refund_payment:
      return "refund";
    default:
      return "this";
  }
}

std::string ErrorMessage(pay::CommandKind kind, const pay::Reply& reply) {
  if (reply.error == pay::PaymentError::payment_state_invalid && reply.payment &&
      !AllowedStates(kind).empty()) {
    std::string message = "payment " + pay::FormatPaymentId(reply.payment->id) + " is " +
                          std::string(pay::PaymentStateName(reply.payment->state)) + "; " +
                          std::string(ActionName(kind)) + " needs " +
                          std::string(AllowedStates(kind));
    // The module's detail says the same unless something else is at stake (a hold the ledger
    // no longer holds): add only that.
    if (!reply.detail.empty() && reply.detail.find(" needs ") == std::string::npos) {
      message += " (" + reply.detail + ")";
    }
    return message;
  }
  std::string message(pay::PaymentErrorMessage(reply.error));
  if (!reply.detail.empty()) message = reply.detail + ": " + message;
  return message;
}

// The module names command fields ("merchant_account", "splits[1].account"); the API's names
// are the JSON's ("merchant_account_id", "splits[1].account_id"; the payment is the path's id).
std::string ApiParam(std::string_view param) {
  const size_t dot = param.rfind('.');
  const std::string_view head = dot == std::string_view::npos ? "" : param.substr(0, dot + 1);
  const std::string_view last = dot == std::string_view::npos ? param : param.substr(dot + 1);
  std::string_view renamed = last;
  if (last == "account") renamed = "account_id";
  if (head.empty()) {
    if (last == "merchant_account") renamed = "merchant_account_id";
    if (last == "source_account") renamed = "source_account_id";
    if (last == "coupon_code") renamed = "coupon";
    if (last == "ttl_ms") renamed = "ttl_seconds";
    if (last == "payment") renamed = "id";
  }
  return std::string(head) + std::string(renamed);
}

HttpResponse Internal(std::string message) {
  return ErrorResponse({http::status::internal_server_error, error_type::kInternal,
                        "internal_error", std::move(message), ""});
}

// The record of a successful reply, or the 500 of a reply without it (a bug of the engine).
template <typename T>
const T* Need(const std::optional<T>& record) {
  return record.has_value() ? &*record : nullptr;
}

}  // namespace

std::string PaymentJson(const pay::Payment& payment, const AssetTable& assets) {
  return Render(WritePayment, payment, assets, 2048);
}

std::string RefundJson(const pay::Payment& payment, const pay::Refund& refund,
                       const AssetTable& assets) {
  JsonText out(768);
  WriteRefund(out, payment, refund, assets);
  return std::move(out).Finish();
}

std::string CustomerJson(const pay::Customer& customer, const AssetTable& assets) {
  return Render(WriteCustomer, customer, assets);
}
std::string CouponJson(const pay::Coupon& coupon, const AssetTable& assets) {
  return Render(WriteCoupon, coupon, assets);
}
std::string PointsProgramJson(const pay::PointsProgram& program, const AssetTable& assets) {
  return Render(WriteProgram, program, assets);
}
std::string FxRateJson(const pay::FxRate& rate, const AssetTable& assets) {
  return Render(WriteRate, rate, assets);
}
std::string FxQuoteJson(const pay::FxQuote& quote, const AssetTable& assets) {
  return Render(WriteQuote, quote, assets);
}
std::string FxAccountJson(const pay::FxAccount& account, const AssetTable& assets) {
  return Render(WriteFxAccount, account, assets);
}

std::string PaymentEventJson(const pay::Event& event, const AssetTable& assets) {
  using pay::EventKind;
  switch (event.kind) {
    case EventKind::payment_created:
    case EventKind::payment_requires_action:
    case EventKind::payment_amount_capturable_updated:
    case EventKind::payment_succeeded:
    case EventKind::payment_canceled:
    case EventKind::payment_failed:
      return event.payment ? PaymentJson(*event.payment, assets) : "";
    case EventKind::refund_created:
      if (!event.payment) return "";
      for (const pay::Refund& r : event.payment->refunds) {
        if (r.id == event.refund) return RefundJson(*event.payment, r, assets);
      }
      return "";
    case EventKind::customer_updated:
      return event.customer ? CustomerJson(*event.customer, assets) : "";
    case EventKind::coupon_created:
    case EventKind::coupon_updated:
      return event.coupon ? CouponJson(*event.coupon, assets) : "";
    case EventKind::points_program_updated:
      return event.program ? PointsProgramJson(*event.program, assets) : "";
    case EventKind::fx_rates_updated:
      return RatesListJson(event.rates, assets);
    case EventKind::fx_quote_created:
      return event.quote ? FxQuoteJson(*event.quote, assets) : "";
    case EventKind::fx_account_updated:
      return event.fx_account ? FxAccountJson(*event.fx_account, assets) : "";
  }
  return "";
}

std::string PaymentEventJson(std::span<const uint8_t> encoded_event) {
  static const AssetTable kAssets = AssetTable::Default();
  Result<pay::Event, pay::EventDecodeError> event = pay::DecodeEvent(encoded_event);
  if (!event.ok()) return "";
  return PaymentEventJson(event.value(), kAssets);
}

PaymentErrorStatus PaymentErrorStatusOf(pay::PaymentError error) {
  using E = pay::PaymentError;
  const std::string_view name = pay::PaymentErrorName(error);
  switch (error) {
    case E::payment_not_found:
    case E::customer_not_found:
    case E::coupon_not_found:
    case E::quote_not_found:
    case E::account_not_found:
      return {http::status::not_found, error_type::kInvalidRequest, name};
    case E::payment_state_invalid:
      return {http::status::conflict, error_type::kInvalidRequest,
              "payment_intent_unexpected_state"};
    case E::coupon_exists:
    case E::hold_expired:
      return {http::status::conflict, error_type::kInvalidRequest, name};
    case E::no_funding_source:
    case E::insufficient_funds:
    case E::declined_by_risk:
    case E::cvm_insufficient:
      return {http::status::payment_required, error_type::kPayment, name};
    case E::ledger_refused:
      return {http::status::unprocessable_entity, error_type::kLedger, name};
    default:
      return {http::status::bad_request, error_type::kInvalidRequest, name};
  }
}

HttpResponse PaymentErrorResponse(pay::CommandKind kind, const pay::Reply& reply,
                                  const AssetTable& assets) {
  TPW_ASSERT(!reply.ok());
  const PaymentErrorStatus s = PaymentErrorStatusOf(reply.error);
  JsonText out(reply.payment ? 2560 : 512);
  out.BeginObject().BeginObject("error");
  out.String("type", s.type).String("code", s.code).String("message", ErrorMessage(kind, reply));
  out.StringOrNull("param", ApiParam(reply.param));
  if (reply.ledger_result) out.String("ledger_result", ledger::ResultName(*reply.ledger_result));
  if (reply.payment) out.Raw("payment", PaymentJson(*reply.payment, assets));
  out.EndObject().EndObject();
  return JsonResponse(s.status, std::move(out).Finish());
}

HttpResponse PaymentsResponse(Route route, pay::CommandKind kind, const pay::Reply& reply,
                              const AssetTable& assets) {
  if (!reply.ok()) return PaymentErrorResponse(kind, reply, assets);
  const std::string missing = "the engine answered " + std::string(RouteLabel(route)) +
                              " without its record; please report it";
  switch (route) {
    case Route::payments_create:
    case Route::payment_get:
    case Route::payment_confirm:
    case Route::payment_capture:
    case Route::payment_cancel: {
      const pay::Payment* p = Need(reply.payment);
      if (p == nullptr) return Internal(missing);
      const auto status =
          route == Route::payments_create ? http::status::created : http::status::ok;
      return JsonResponse(status, PaymentJson(*p, assets));
    }
    case Route::payments_list: {
      std::vector<std::string> items;
      items.reserve(reply.payments.size());
      for (const pay::Payment& p : reply.payments) items.push_back(PaymentJson(p, assets));
      return JsonResponse(http::status::ok, ListJson("/v1/payments", items, reply.has_more));
    }
    case Route::payment_refund: {
      const pay::Payment* p = Need(reply.payment);
      if (p == nullptr || !reply.refund) return Internal(missing);
      for (const pay::Refund& r : p->refunds) {
        if (r.id == *reply.refund)
          return JsonResponse(http::status::created, RefundJson(*p, r, assets));
      }
      return Internal(missing);
    }
    case Route::payment_refunds: {
      const pay::Payment* p = Need(reply.payment);
      if (p == nullptr) return Internal(missing);
      std::vector<std::string> items;
      for (const pay::Refund& r : p->refunds) items.push_back(RefundJson(*p, r, assets));
      return JsonResponse(
          http::status::ok,
          ListJson("/v1/payments/" + pay::FormatPaymentId(p->id) + "/refunds", items, false));
    }
    case Route::customer_put:
    case Route::customer_get: {
      const pay::Customer* c = Need(reply.customer);
      if (c == nullptr) return Internal(missing);
      return JsonResponse(http::status::ok, CustomerJson(*c, assets));
    }
    case Route::coupons_create:
    case Route::coupon_get: {
      const pay::Coupon* c = Need(reply.coupon);
      if (c == nullptr) return Internal(missing);
      const auto status = route == Route::coupons_create ? http::status::created : http::status::ok;
      return JsonResponse(status, CouponJson(*c, assets));
    }
    case Route::points_program_put:
    case Route::points_program_get: {
      const pay::PointsProgram* p = Need(reply.program);
      if (p == nullptr) return Internal(missing);
      return JsonResponse(http::status::ok, PointsProgramJson(*p, assets));
    }
    case Route::fx_rates_put:
    case Route::fx_rates_get:
      return JsonResponse(http::status::ok, RatesListJson(reply.rates, assets));
    case Route::fx_quotes_create:
    case Route::fx_quote_get: {
      const pay::FxQuote* q = Need(reply.quote);
      if (q == nullptr) return Internal(missing);
      const auto status =
          route == Route::fx_quotes_create ? http::status::created : http::status::ok;
      return JsonResponse(status, FxQuoteJson(*q, assets));
    }
    case Route::fx_account_put: {
      const pay::FxAccount* a = Need(reply.fx_account);
      if (a == nullptr) return Internal(missing);
      return JsonResponse(http::status::ok, FxAccountJson(*a, assets));
    }
    default:
      break;
  }
  return Internal("not a payments route: " + std::string(RouteLabel(route)));
}

}  // namespace tpw::api
