// The records of the payments module: payments (Stripe's PaymentIntent), refunds, customers and
// their funding sources, coupons, the points program, FX rates and quotes. Plain values: the
// state machine (payments.h) owns them, events (events.h) carry copies of them.
//
// Money is exact everywhere: Amount is u128 minor units of one asset; an asset is a ledger number
// (common/asset.h: USD 1, EUR 2, ... PTS 9). FX rates are exact rationals kept as rate x 10^18.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/amount.h"
#include "common/ids.h"
#include "common/int128.h"
#include "ledger/results.h"
#include "payments/errors.h"
#include "risk/event.h"

namespace tpw::payments {

// ---- Ids ------------------------------------------------------------------------------------
// Payments, refunds and FX quotes are numbered by the module, from 1, by counters in its state,
// so replaying the same events gives the same numbers. Text forms (Stripe-like prefixes):
// "pay_12", "re_7", "fxq_3". Customers are 128-bit ids chosen by the caller (docs/ids.md text).
template <typename Tag>
struct Number64 {
  uint64_t value = 0;
  constexpr Number64() = default;
  constexpr explicit Number64(uint64_t v) : value(v) {}
  constexpr bool is_zero() const { return value == 0; }
  friend constexpr auto operator<=>(Number64, Number64) = default;
  friend constexpr bool operator==(Number64, Number64) = default;
};
using PaymentId = Number64<struct PaymentIdTag>;
using RefundId = Number64<struct RefundIdTag>;
using QuoteId = Number64<struct QuoteIdTag>;
using CustomerId = Id128<struct CustomerIdTag>;

std::string FormatPaymentId(PaymentId id);  // "pay_12"
std::string FormatRefundId(RefundId id);    // "re_7"
std::string FormatQuoteId(QuoteId id);      // "fxq_3"
// The prefix and 1..20 decimal digits without leading zeros, non-zero; nullopt otherwise.
std::optional<PaymentId> ParsePaymentId(std::string_view text);
std::optional<RefundId> ParseRefundId(std::string_view text);
std::optional<QuoteId> ParseQuoteId(std::string_view text);

// Ledger transfer ids the module creates (docs/payments.md, "Transfer ids"):
//   bits 127..112  kTransferIdMagic (0x5059, "PY")
//   bits 111..48   payment number (64 bits)
//   bits  47..16   the payment's ledger attempt number (32 bits; see Payment::ledger_attempts)
//   bits  15..0    leg: index of the transfer within that attempt's chain
// Every chain the module submits for a payment uses a fresh attempt number, and the attempt
// counter advances whether the chain succeeds or fails (a failed attempt is recorded by a
// payment.payment_failed event), so a retry never reuses an id the ledger remembers as failed,
// and replay derives the same ids. Callers must keep their own transfer ids out of this range.
inline constexpr uint16_t kTransferIdMagic = 0x5059;
inline constexpr TransferId MakeTransferId(PaymentId payment, uint32_t attempt, uint16_t leg) {
  return TransferId((u128{kTransferIdMagic} << 112) | (u128{payment.value} << 48) |
                    (u128{attempt} << 16) | u128{leg});
}
struct TransferIdParts {
  PaymentId payment;
  uint32_t attempt = 0;
  uint16_t leg = 0;
};
// nullopt when the id does not carry the magic (not a payments transfer).
std::optional<TransferIdParts> SplitTransferId(TransferId id);

// ---- Ledger codes ---------------------------------------------------------------------------
// Codes of the transfers the payment flows create (docs/payments.md, "Money flows"); posts and
// voids of a hold carry code 0 and so inherit the hold's code. user_data_64 of every transfer is
// the payment number, user_data_32 the refund number for refund legs (else 0).
inline constexpr uint16_t kHoldCode = 910;               // pending: customer source -> merchant/FX
inline constexpr uint16_t kPointsHoldCode = 911;         // pending: customer points -> points sink
inline constexpr uint16_t kPointsValueCode = 912;        // points funding -> merchant (capture)
inline constexpr uint16_t kFxPayoutCode = 913;           // FX liquidity (payment asset) -> merchant
inline constexpr uint16_t kSplitPayoutCode = 914;        // merchant -> split recipient
inline constexpr uint16_t kPlatformFeeCode = 915;        // merchant -> platform fee account
inline constexpr uint16_t kRefundCode = 916;             // merchant -> customer source / FX (X)
inline constexpr uint16_t kFxRefundCode = 917;           // FX liquidity (source asset) -> customer
inline constexpr uint16_t kSplitReversalCode = 918;      // split recipient -> merchant
inline constexpr uint16_t kFeeReversalCode = 919;        // platform fee account -> merchant
inline constexpr uint16_t kPointsRefundCode = 920;       // points sink -> customer points
inline constexpr uint16_t kPointsValueRefundCode = 921;  // merchant -> points funding

// ---- Enumerations (stable numeric values: they are in events and snapshots) -----------------
enum class PaymentState : uint8_t {
  requires_confirmation = 0,
  requires_action = 1,   // risk asked for a step-up verification (see Payment::risk)
  requires_capture = 2,  // funds held (manual capture, or a payment under risk review)
  succeeded = 3,
  canceled = 4,
};
enum class CaptureMethod : uint8_t { automatic = 0, manual = 1 };
enum class CancelReason : uint8_t {
  none = 0,
  requested_by_customer = 1,
  duplicate = 2,
  fraudulent = 3,
  abandoned = 4,
  expired = 5,           // the hold expired at the ledger before capture
  declined_by_risk = 6,  // risk decided `decline` at confirm
};
// balance: an ordinary wallet balance; transit: a purse spent only in a scenario it is tagged
// for; points: the customer's loyalty points (used only through use_points, never charged).
enum class SourceKind : uint8_t { balance = 0, points = 1, transit = 2 };
enum class CouponKind : uint8_t { fixed = 0, percent = 1 };

std::string_view PaymentStateName(PaymentState state);
std::string_view CaptureMethodName(CaptureMethod method);
std::string_view CancelReasonName(CancelReason reason);
std::string_view SourceKindName(SourceKind kind);
std::string_view CouponKindName(CouponKind kind);
std::optional<PaymentState> ParsePaymentState(std::string_view text);
std::optional<CaptureMethod> ParseCaptureMethod(std::string_view text);
std::optional<CancelReason> ParseCancelReason(std::string_view text);  // not "none"
std::optional<SourceKind> ParseSourceKind(std::string_view text);
std::optional<CouponKind> ParseCouponKind(std::string_view text);

// ---- Payments -------------------------------------------------------------------------------
// Key/value strings, sorted by key, keys unique (limits.h: 50 keys, 40 / 500 characters).
using Metadata = std::vector<std::pair<std::string, std::string>>;

// One share of a captured payment: exactly one of `amount` (minor units of the payment asset)
// and `basis_points` (1..10000 of the captured amount, rounded down) is non-zero. As a platform
// fee, account zero means "no fee". The merchant keeps the remainder (docs/payments.md).
struct Split {
  AccountId account;
  Amount amount;
  uint32_t basis_points = 0;
  friend bool operator==(const Split&, const Split&) = default;
};

// What a share paid at capture, and how much of it refunds pulled back.
struct Payout {
  AccountId account;
  Amount amount;
  Amount reversed;
  friend bool operator==(const Payout&, const Payout&) = default;
};

// Risk's verdict at the last confirm, kept on the payment.
struct RiskSummary {
  bool evaluated = false;
  risk::Decision decision = risk::Decision::approve;
  risk::Cvm required_cvm = risk::Cvm::none;  // step_up: what the next confirm must perform
  risk::Cvm cvm_performed = risk::Cvm::none;
  int64_t score = 0;
  std::vector<std::string> matched_rules;  // at most kRiskRulesKeptMax, each kRiskNameLengthMax
  std::string decided_by;                  // the action rule, "" when thresholds decided
  std::string rules_version;
  friend bool operator==(const RiskSummary&, const RiskSummary&) = default;
};

// An exact FX rate: units of the `to` asset per one unit of the `from` asset (whole units, not
// minor units), times 10^18. "1.0843" is 1084300000000000000.
struct Rate {
  u128 e18 = 0;
  friend constexpr auto operator<=>(Rate, Rate) = default;
  friend constexpr bool operator==(Rate, Rate) = default;
};

// How a payment is funded: decided at confirm, recorded on the payment (docs/payments.md,
// "Funding choice"). Payment asset X, source asset Y (== X unless `fx`).
//   amount - coupon_discount = points_value + amount_charged                  (all in X)
//   amount_charged_source = amount_charged converted X -> Y at `rate`, rounded up
struct FundingDecision {
  AccountId source_account;
  SourceKind source_kind = SourceKind::balance;
  uint32_t source_asset = 0;
  std::string reason;     // why this source: "override", "scenario transit", "priority 0", ...
  Amount amount_charged;  // X: what the source pays, after coupon and points
  Amount amount_charged_source;  // Y: what the hold reserves on the source
  std::string coupon_code;       // "" = no coupon
  Amount coupon_discount;        // X, merchant-funded: the merchant receives amount - discount
  AccountId points_account;      // zero = no points used
  Amount points_used;            // points asset units moved to the points sink
  Amount points_value;           // X, paid to the merchant from the points funding account
  uint32_t points_asset = 0;
  AccountId points_sink_account;     // the program's accounts at confirm (capture and refunds
  AccountId points_funding_account;  // use these even if the program changes later)
  bool fx = false;
  AccountId fx_source_account;  // FX liquidity in Y: the hold's credit account
  AccountId fx_payout_account;  // FX liquidity in X: pays the merchant at capture
  Rate rate;                    // X -> Y, when fx
  QuoteId quote;                // zero = the rates table's rate
  std::string rate_source;
  uint64_t rate_as_of_ms = 0;
  friend bool operator==(const FundingDecision&, const FundingDecision&) = default;
};

struct Refund {
  RefundId id;
  Amount amount;                        // X, of the captured amount
  Amount money;                         // X part returned to the money source
  Amount money_source;                  // Y actually credited to the source (FX: rounded down)
  Amount points_value;                  // X part returned as points
  Amount points;                        // points units credited back
  std::vector<Amount> split_reversals;  // by payout index (empty unless reverse_splits)
  Amount fee_reversal;
  bool reverse_splits = false;
  bool refund_fee = false;
  uint32_t attempt = 0;  // ledger attempt of its chain (transfer ids: MakeTransferId)
  uint16_t transfer_count = 0;
  uint64_t created_at_ms = 0;
  friend bool operator==(const Refund&, const Refund&) = default;
};

// Stripe's PaymentIntent, for the wallet. Amounts are in the payment asset X unless named
// *_source (asset Y of the funding source) or points.
struct Payment {
  PaymentId id;
  Amount amount;
  uint32_t asset = 0;
  AccountId merchant_account;
  CustomerId customer;
  CaptureMethod capture_method = CaptureMethod::automatic;
  std::string description;
  Metadata metadata;
  std::vector<Split> splits;
  Split platform_fee;       // account zero = none
  std::string scenario;     // "" or a tag ("transit", "web", ...): funding preference
  std::string coupon_code;  // requested at create or confirm ("" = none)
  bool use_points = false;
  uint32_t hold_timeout_seconds = 0;

  PaymentState state = PaymentState::requires_confirmation;
  CancelReason cancel_reason = CancelReason::none;
  RiskSummary risk;
  bool funded = false;  // a hold was placed: `funding` is meaningful
  FundingDecision funding;

  TransferId money_hold;            // pending customer source -> merchant (or -> FX liquidity Y)
  TransferId points_hold;           // pending customer points -> sink; zero when no points
  uint64_t hold_expires_at_ms = 0;  // informational: the ledger's own expiry decides

  Amount amount_capturable;  // amount - coupon discount while requires_capture, else 0
  Amount amount_captured;
  Amount amount_refunded;
  // Capture breakdown (X unless noted): captured = captured_money + captured_points_value.
  Amount captured_money;
  Amount captured_money_source;  // Y posted from the hold
  Amount captured_points_value;
  Amount captured_points;       // points posted from the points hold
  std::vector<Payout> payouts;  // by split index
  Payout fee_payout;            // account zero = no fee
  Amount refunded_money;
  Amount refunded_money_source;
  Amount refunded_points_value;
  std::vector<Refund> refunds;

  uint32_t ledger_attempts = 0;                // chains submitted so far (the next attempt number)
  PaymentError last_error = PaymentError::ok;  // of the last failed attempt (payment_failed)
  std::optional<ledger::CreateTransferResult> last_ledger_result;  // what the ledger said then
  uint64_t created_at_ms = 0;
  uint64_t updated_at_ms = 0;
  friend bool operator==(const Payment&, const Payment&) = default;
};

// ---- Customers, coupons, points, FX ---------------------------------------------------------
struct FundingSource {
  AccountId account;
  uint32_t asset = 0;  // must equal the account's ledger
  SourceKind kind = SourceKind::balance;
  std::vector<std::string> tags;  // scenario tags this source is preferred (transit: allowed) for
  uint32_t priority = 0;          // lower is preferred
  friend bool operator==(const FundingSource&, const FundingSource&) = default;
};

struct Customer {
  CustomerId id;
  std::vector<FundingSource> sources;  // accounts unique
  uint64_t created_at_ms = 0;
  uint64_t updated_at_ms = 0;
  friend bool operator==(const Customer&, const Customer&) = default;
};

// Coupons are merchant-funded: the discount lowers what the customer pays and what the merchant
// receives. Immutable once created except for the redemption count.
struct Coupon {
  std::string code;
  CouponKind kind = CouponKind::fixed;
  Amount amount_off;             // fixed: minor units of `asset`
  uint32_t percent_off_bps = 0;  // percent: 1..10000, discount = floor(amount * bps / 10000)
  uint32_t asset = 0;            // fixed: required; percent: 0 = any asset (then min_spend is 0)
  Amount min_spend;              // the payment amount must be at least this
  uint64_t expires_at_ms = 0;    // 0 = never; usable while now < expires_at_ms
  bool single_use = false;
  AccountId merchant_account;  // zero = any merchant
  uint32_t redemptions = 0;    // holds placed with it and not released (cancel releases)
  uint64_t created_at_ms = 0;
  friend bool operator==(const Coupon&, const Coupon&) = default;
};

// One points program: `points_per_minor_unit` points of `points_asset` are worth one minor unit
// of `money_asset`. Redeemed points go to `sink_account`; their value is paid to the merchant
// from `funding_account` (the program operator).
struct PointsProgram {
  bool configured = false;
  uint32_t points_asset = 0;
  uint32_t money_asset = 0;
  uint64_t points_per_minor_unit = 0;
  AccountId sink_account;
  AccountId funding_account;
  uint64_t updated_at_ms = 0;
  friend bool operator==(const PointsProgram&, const PointsProgram&) = default;
};

// One row of the rates table: `rate` units of `to_asset` per unit of `from_asset`. Each
// direction is its own row (a desk quotes buy and sell apart).
struct FxRate {
  uint32_t from_asset = 0;
  uint32_t to_asset = 0;
  Rate rate;
  std::string source;          // who published it ("ecb", "desk"...)
  uint64_t as_of_ms = 0;       // when the source published it
  uint64_t updated_at_ms = 0;  // when it entered the table
  friend bool operator==(const FxRate&, const FxRate&) = default;
};

// A rate promised until `expires_at_ms`, usable at confirm while within `max_slippage_bps` of
// the table's current rate for the pair.
struct FxQuote {
  QuoteId id;
  uint32_t from_asset = 0;
  uint32_t to_asset = 0;
  Rate rate;
  uint32_t max_slippage_bps = 0;
  uint64_t created_at_ms = 0;
  uint64_t expires_at_ms = 0;
  friend bool operator==(const FxQuote&, const FxQuote&) = default;
};

struct FxAccount {
  uint32_t asset = 0;
  AccountId account;
  friend bool operator==(const FxAccount&, const FxAccount&) = default;
};

// Decimal rate text ("1.0843": 1..20 integer digits, optional '.', 1..18 fraction digits,
// non-zero) -> Rate; nullopt when malformed. FormatRate gives the shortest exact decimal.
std::optional<Rate> ParseRate(std::string_view text);
std::string FormatRate(Rate rate);

}  // namespace tpw::payments
