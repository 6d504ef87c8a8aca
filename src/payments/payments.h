// The payments state machine (issue 7): payment intents with holds, capture, cancel, refunds,
// splits, funding choice, coupons, points and FX. Model, states, money flows and rounding rules:
// docs/payments.md.
//
// Pure and deterministic: no clock (time is `now_ms`, given by the caller), no threads, no I/O.
// The ledger and the risk engine are reached through two ports the engine implements.
//
// One path for every change: Execute decides, moves money through the LedgerPort, then emits
// events and applies each with Apply; replay calls Apply with the journaled events. So live and
// replayed state are the same by construction.
//
// Thread-safety: none; one thread (the sequencer) owns an instance.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/amount.h"
#include "common/asset.h"
#include "common/ids.h"
#include "ledger/ledger.h"
#include "ledger/results.h"
#include "ledger/state_io.h"
#include "ledger/types.h"
#include "payments/errors.h"
#include "payments/events.h"
#include "payments/limits.h"
#include "payments/types.h"
#include "risk/event.h"

namespace tpw::payments {

// ---- Ports ----------------------------------------------------------------------------------

// The ledger as the module sees it; the engine implements it over its Ledger (journaling the
// transfers it creates).
class LedgerPort {
 public:
  virtual ~LedgerPort() = default;
  virtual std::optional<ledger::Account> LookupAccount(AccountId id) const = 0;
  // What became of a hold (pending transfer): pending, posted, voided, expired (none: unknown).
  virtual ledger::PendingStatus GetPendingStatus(TransferId id) const = 0;
  // Applies `transfers` as one batch in order, in the caller's group commit, and returns the
  // sparse failures like Ledger::CreateTransfers (an empty vector: all created). The module sets
  // the linked flag on every transfer of a chain but the last, so a chain moves all or nothing.
  // Timestamps are the port's business (the module sends 0).
  virtual std::vector<ledger::CreateTransfersResult> CreateTransfers(
      std::span<const ledger::Transfer> transfers) = 0;
};

// Risk decisions; the engine implements it over its RiskEngine (journaling the decision).
class RiskPort {
 public:
  virtual ~RiskPort() = default;
  virtual RiskSummary Decide(const risk::Event& event, uint64_t now_ms) = 0;
};

// ---- Commands -------------------------------------------------------------------------------

enum class CommandKind : uint8_t {
  create_payment,  // optionally confirm in the same command (`confirm`)
  confirm_payment,
  capture_payment,
  cancel_payment,
  refund_payment,
  get_payment,
  list_payments,
  upsert_customer,
  get_customer,
  create_coupon,
  get_coupon,
  set_points_program,
  get_points_program,
  put_fx_rates,
  list_fx_rates,
  create_fx_quote,
  get_fx_quote,
  set_fx_account,
  expire_holds,  // the ledger expired these pending transfers: cancel their payments (expired)
};
std::string_view CommandKindName(CommandKind kind);

// What the caller knows about the customer's context, passed to risk at confirm.
struct RiskContext {
  u128 device = 0;
  u128 terminal = 0;
  uint16_t merchant_category = 0;
  uint16_t country = 0;  // risk::ParseCountry
  u128 ip = 0;           // risk::ParseIp
  uint64_t device_age_seconds = 0;
};

// Confirm's options: all optional; they override what create said.
struct ConfirmOptions {
  std::optional<AccountId> source_account;  // pay from this customer source (no choice)
  QuoteId quote;                            // zero = the rates table's current rate
  std::optional<std::string> coupon_code;   // "" removes a coupon given at create
  std::optional<bool> use_points;
  risk::Cvm cvm_performed = risk::Cvm::none;  // the verification done for this confirm
  RiskContext risk;
};

struct ListFilter {
  PaymentId starting_after;  // cursor: payments with a larger number (zero = from the start)
  uint32_t limit = kListLimitDefault;  // 1..kListLimitMax
  std::optional<CustomerId> customer;
  std::optional<AccountId> merchant_account;
  std::optional<PaymentState> state;
};

struct QuoteRequest {
  uint32_t from_asset = 0;
  uint32_t to_asset = 0;
  uint64_t ttl_ms = 0;            // 1..kQuoteTtlMsMax
  uint32_t max_slippage_bps = 0;  // 0..10000
};

struct FxRateInput {
  uint32_t from_asset = 0;
  uint32_t to_asset = 0;
  std::string rate;  // decimal text, ParseRate
  std::string source;
  uint64_t as_of_ms = 0;
};

// One flat command; each kind reads the fields its comment names.
struct Command {
  CommandKind kind = CommandKind::get_payment;
  // confirm / capture / cancel / refund / get_payment
  PaymentId payment;

  // create_payment (customer also for get_customer)
  Amount amount;
  uint32_t asset = 0;
  AccountId merchant_account;
  CustomerId customer;
  CaptureMethod capture_method = CaptureMethod::automatic;
  std::string description;
  Metadata metadata;  // any order; stored sorted; duplicate keys are refused
  std::vector<Split> splits;
  Split platform_fee;
  std::string scenario;
  std::string coupon_code;  // also create_coupon's / get_coupon's code
  bool use_points = false;
  uint32_t hold_timeout_seconds = 0;  // 0 = kHoldTimeoutSecondsDefault
  bool confirm = false;               // create_payment: confirm at once with `confirm_options`

  // confirm_payment (and create_payment with confirm)
  ConfirmOptions confirm_options;

  // capture_payment: nullopt = everything capturable
  std::optional<Amount> amount_to_capture;
  // cancel_payment: requested_by_customer, duplicate, fraudulent or abandoned
  CancelReason cancel_reason = CancelReason::requested_by_customer;
  // refund_payment: nullopt = all that is left
  std::optional<Amount> refund_amount;
  bool reverse_splits = false;
  bool refund_fee = false;

  // list_payments
  ListFilter list;

  // upsert_customer: replaces the customer's sources (id = customer_record.id)
  Customer customer_record;
  // create_coupon (code, kind, amount_off / percent_off_bps, asset, min_spend, expires_at_ms,
  // single_use, merchant_account; redemptions and created_at_ms are ignored)
  Coupon coupon;
  // set_points_program (configured and updated_at_ms are ignored)
  PointsProgram program;
  // put_fx_rates
  std::vector<FxRateInput> rates;
  // create_fx_quote
  QuoteRequest quote_request;
  // get_fx_quote
  QuoteId quote;
  // set_fx_account
  FxAccount fx_account;
  // expire_holds: the ids from Ledger::ExpirePendingTransfers (foreign ids are ignored)
  std::vector<TransferId> expired_transfers;
};

struct Reply {
  PaymentError error = PaymentError::ok;
  std::string detail;  // specifics: which value, which limit, the state, ...
  std::string param;   // the command field at fault ("amount", "splits[2].basis_points", ...)
  std::optional<ledger::CreateTransferResult> ledger_result;  // ledger_refused

  std::optional<Payment> payment;  // every payment command (also on declined/ledger_refused)
  std::optional<RefundId> refund;  // refund_payment: the new refund (in payment->refunds)
  std::vector<Payment> payments;   // list_payments, and expire_holds: the payments canceled
  bool has_more = false;           // list_payments: another page follows
  std::optional<Customer> customer;
  std::optional<Coupon> coupon;
  std::optional<PointsProgram> program;
  std::vector<FxRate> rates;
  std::optional<FxQuote> quote;
  std::optional<FxAccount> fx_account;

  bool ok() const { return error == PaymentError::ok; }
};

// ---- The state machine ----------------------------------------------------------------------

struct PaymentsStats {
  uint64_t payments = 0;
  uint64_t open_holds = 0;  // payments in requires_capture
  std::array<uint64_t, kPaymentStateCount> by_state{};  // indexed by PaymentState
  uint64_t customers = 0;
  uint64_t coupons = 0;
  uint64_t fx_pairs = 0;
  uint64_t fx_quotes = 0;
};

struct State;  // internal (state.h)

class Payments {
 public:
  // `assets` gives the scales FX conversion needs (and which asset numbers exist).
  explicit Payments(AssetTable assets = AssetTable::Default());
  ~Payments();
  Payments(Payments&&) noexcept;
  Payments& operator=(Payments&&) noexcept;

  // Runs one command at `now_ms` (milliseconds since the epoch, from the sequencer). Appends the
  // events it emits to `events` (already applied); the engine journals them.
  //
  // A refused command emits nothing and changes nothing, with two exceptions that record the
  // outcome of an attempt to pay (the reply still carries the error):
  //  - risk `decline` at confirm: payment.canceled (declined_by_risk), error declined_by_risk;
  //  - the ledger refusing a chain: payment.payment_failed (attempt counter advanced, last
  //    error recorded; nothing moved because the chain is linked), error ledger_refused.
  // With create_payment + confirm, payment.created is emitted even if the confirm is refused,
  // like Stripe: the payment exists in requires_confirmation. So: journal `events` whenever it
  // is non-empty, whatever the reply says.
  Reply Execute(const Command& command, uint64_t now_ms, LedgerPort& ledger, RiskPort& risk,
                std::vector<Event>& events);

  // The only place state changes (live and replay). Returns false when the event contradicts
  // the state (unknown payment, a number out of sequence, ...): state is then unusable and the
  // engine stops, as for Ledger::ReplayTransfers.
  [[nodiscard]] bool Apply(const Event& event);

  // Snapshot of the whole state (one length-prefixed blob, format docs/payments.md). Load fills
  // a freshly constructed instance; false (and the instance unusable) on short or bad data.
  void Save(ledger::StateSink& sink) const;
  [[nodiscard]] bool Load(ledger::StateSource& source);
  static uint64_t StateLayoutFingerprint();
  // A digest of the saved bytes: equal states give equal digests (tests, replay checks).
  uint64_t StateDigest() const;

  const Payment* FindPayment(PaymentId id) const;
  const Customer* FindCustomer(CustomerId id) const;
  // The coupon of exactly this merchant account (zero: a platform coupon) and code.
  const Coupon* FindCoupon(AccountId merchant, std::string_view code) const;
  // The payment holding `hold` (money or points hold), if any.
  const Payment* FindPaymentByHold(TransferId hold) const;
  PaymentsStats Stats() const;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace tpw::payments
