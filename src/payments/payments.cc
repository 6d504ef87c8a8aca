#include "payments/payments.h"

#include "common/codec.h"
#include "payments/handlers.h"
#include "payments/records.h"
#include "payments/state.h"

namespace tpw::payments {
namespace {

inline constexpr uint32_t kStateMagic = 0x4d594150;  // "PAYM" little-endian
inline constexpr uint32_t kStateVersion = 1;

uint64_t Fnv1a(std::span<const uint8_t> bytes, uint64_t hash = 0xcbf29ce484222325ull) {
  for (const uint8_t byte : bytes) {
    hash ^= byte;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

void IndexHolds(State& state, const Payment& payment) {
  for (const TransferId hold : {payment.money_hold, payment.points_hold}) {
    if (!hold.is_zero()) state.payment_by_hold[hold.value] = payment.id.value;
  }
}

// Refund ids are numbered in the order refunds are created: a refund_created event carries the
// next number, and no payment may list a refund from the future (Load checks the same).
bool RefundsFit(const State& state, const Event& event, const Payment& payment) {
  uint64_t next_refund = state.next_refund;
  if (event.kind == EventKind::refund_created) {
    const bool listed = std::any_of(payment.refunds.begin(), payment.refunds.end(),
                                    [&](const Refund& r) { return r.id == event.refund; });
    if (!listed || event.refund.value != next_refund) return false;
    ++next_refund;
  }
  return std::all_of(payment.refunds.begin(), payment.refunds.end(),
                     [&](const Refund& r) { return r.id.value < next_refund; });
}

bool ApplyPayment(State& state, const Event& event) {
  if (!event.payment) return false;
  const Payment& payment = *event.payment;
  if (!RefundsFit(state, event, payment)) return false;
  if (event.kind == EventKind::payment_created) {
    if (payment.id.value != state.payments.size() + 1 || state.payments.size() >= kPaymentsMax) {
      return false;
    }
    state.payments.push_back(payment);
    state.index.Add(payment);
  } else {
    if (state.FindPayment(payment.id) == nullptr) return false;
    Payment& stored = state.payments[payment.id.value - 1];
    if (payment.merchant_account != stored.merchant_account ||
        payment.customer != stored.customer) {
      return false;  // set at create, never changed (the index relies on it)
    }
    --state.payments_by_state[static_cast<size_t>(stored.state)];
    state.index.MoveState(payment.id.value, stored.state, payment.state);
    stored = payment;
  }
  ++state.payments_by_state[static_cast<size_t>(payment.state)];
  if (event.kind == EventKind::refund_created) ++state.next_refund;
  IndexHolds(state, payment);
  return true;
}

bool ApplyCoupon(State& state, const Event& event) {
  if (!event.coupon) return false;
  const std::pair<std::string, u128> key{event.coupon->code, event.coupon->merchant_account.value};
  const auto it = state.coupons.find(key);
  const bool create = event.kind == EventKind::coupon_created;
  if (create == (it != state.coupons.end())) return false;
  state.coupons[key] = *event.coupon;
  return true;
}

bool ApplyQuote(State& state, const Event& event) {
  if (!event.quote || event.quote->id.value != state.next_quote) return false;
  std::erase_if(state.quotes, [&](const auto& q) { return q.second.expires_at_ms <= event.at_ms; });
  state.quotes[event.quote->id.value] = *event.quote;
  ++state.next_quote;
  return true;
}

bool ApplyRates(State& state, const Event& event) {
  if (event.rates.empty()) return false;
  for (const FxRate& row : event.rates) state.rates[{row.from_asset, row.to_asset}] = row;
  return state.rates.size() <= kFxPairsMax;
}

// ---- snapshot -------------------------------------------------------------------------------

std::vector<uint8_t> EncodeState(const State& state) {
  records::Writer w(1024 + state.payments.size() * 700);
  w.U32(kStateMagic);
  w.U32(kStateVersion);
  w.U64(state.next_refund);
  w.U64(state.next_quote);
  w.U64(state.payments.size());
  for (const Payment& payment : state.payments) records::Put(w, payment);
  w.U64(state.customers.size());
  for (const auto& [id, customer] : state.customers) records::Put(w, customer);
  w.U64(state.coupons.size());
  for (const auto& [code, coupon] : state.coupons) records::Put(w, coupon);
  records::Put(w, state.program);
  w.U64(state.rates.size());
  for (const auto& [pair, row] : state.rates) records::Put(w, row);
  w.U64(state.quotes.size());
  for (const auto& [id, quote] : state.quotes) records::Put(w, quote);
  w.U64(state.fx_accounts.size());
  for (const auto& [asset, account] : state.fx_accounts) records::Put(w, FxAccount{asset, account});
  return w.Take();
}

// A count read from a snapshot: within `max`, and at most one item per byte left.
bool ReadCount(BinaryReader& r, uint64_t max, uint64_t& count) {
  count = r.U64();
  return r.ok() && count <= max && count <= r.remaining();
}

bool DecodePayments(BinaryReader& r, State& state) {
  uint64_t count = 0;
  if (!ReadCount(r, kPaymentsMax, count)) return false;
  state.payments.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    Payment& payment = state.payments.emplace_back();
    if (!records::Get(r, payment) || payment.id.value != i + 1) return false;
    ++state.payments_by_state[static_cast<size_t>(payment.state)];
    IndexHolds(state, payment);
    state.index.Add(payment);
    for (const Refund& refund : payment.refunds) {
      if (refund.id.value >= state.next_refund) return false;
    }
  }
  return true;
}

// Keyed records: strictly increasing keys (the order Save writes), each decoded by Get.
template <typename Record, typename Map, typename KeyOf>
bool DecodeMap(BinaryReader& r, uint64_t max, Map& map, KeyOf key_of) {
  uint64_t count = 0;
  if (!ReadCount(r, max, count)) return false;
  for (uint64_t i = 0; i < count; ++i) {
    Record record;
    if (!records::Get(r, record)) return false;
    auto key = key_of(record);
    if (!map.empty() && !(map.rbegin()->first < key)) return false;
    map.emplace(std::move(key), std::move(record));
  }
  return true;
}

bool DecodeState(std::span<const uint8_t> bytes, State& state) {
  BinaryReader r(bytes);
  if (r.U32() != kStateMagic || r.U32() != kStateVersion) return false;
  state.next_refund = r.U64();
  state.next_quote = r.U64();
  if (!r.ok() || state.next_refund == 0 || state.next_quote == 0) return false;
  if (!DecodePayments(r, state)) return false;
  if (!DecodeMap<Customer>(r, kCustomersMax, state.customers,
                           [](const Customer& c) { return c.id.value; })) {
    return false;
  }
  // (code, merchant) order: snapshots written when codes were unique platform-wide (sorted by
  // code alone) read the same.
  const auto coupon_key = [](const Coupon& c) { return std::pair{c.code, c.merchant_account.value}; };
  if (!DecodeMap<Coupon>(r, kCouponsMax, state.coupons, coupon_key)) {
    return false;
  }
  if (!records::Get(r, state.program)) return false;
  if (!DecodeMap<FxRate>(r, kFxPairsMax, state.rates, [](const FxRate& f) {
        return std::pair<uint32_t, uint32_t>{f.from_asset, f.to_asset};
      })) {
    return false;
  }
  if (!DecodeMap<FxQuote>(r, kQuotesMax, state.quotes,
                          [](const FxQuote& q) { return q.id.value; })) {
    return false;
  }
  if (!state.quotes.empty() && state.quotes.rbegin()->first >= state.next_quote) return false;
  std::map<uint32_t, FxAccount> accounts;
  if (!DecodeMap<FxAccount>(r, kFxPairsMax, accounts, [](const FxAccount& a) { return a.asset; })) {
    return false;
  }
  for (const auto& [asset, fx] : accounts) state.fx_accounts[asset] = fx.account;
  return r.AtEndOk();
}

}  // namespace

bool ApplyEvent(State& state, const Event& event) {
  if (CarriesPayment(event.kind)) return ApplyPayment(state, event);
  switch (event.kind) {
    case EventKind::customer_updated:
      if (!event.customer || event.customer->id.is_zero()) return false;
      state.customers[event.customer->id.value] = *event.customer;
      return state.customers.size() <= kCustomersMax;
    case EventKind::coupon_created:
    case EventKind::coupon_updated:
      return ApplyCoupon(state, event);
    case EventKind::points_program_updated:
      if (!event.program) return false;
      state.program = *event.program;
      return true;
    case EventKind::fx_rates_updated:
      return ApplyRates(state, event);
    case EventKind::fx_quote_created:
      return ApplyQuote(state, event);
    case EventKind::fx_account_updated:
      if (!event.fx_account || event.fx_account->asset == 0) return false;
      state.fx_accounts[event.fx_account->asset] = event.fx_account->account;
      return true;
    default:
      return false;
  }
}

std::string_view CommandKindName(CommandKind kind) {
  static constexpr std::string_view kNames[] = {
      "create_payment",     "confirm_payment", "capture_payment", "cancel_payment",
      "refund_payment",     "get_payment",     "list_payments",   "upsert_customer",
      "get_customer",       "create_coupon",   "get_coupon",      "set_points_program",
      "get_points_program", "put_fx_rates",    "list_fx_rates",   "create_fx_quote",
      "get_fx_quote",       "set_fx_account",  "expire_holds"};
  const auto index = static_cast<size_t>(kind);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

Payments::Payments(AssetTable assets) : state_(std::make_unique<State>()) {
  state_->assets = std::move(assets);
}
Payments::~Payments() = default;
Payments::Payments(Payments&&) noexcept = default;
Payments& Payments::operator=(Payments&&) noexcept = default;

Reply Payments::Execute(const Command& c, uint64_t now_ms, LedgerPort& ledger, RiskPort& risk,
                        std::vector<Event>& events) {
  Emitter emitter(*state_, events, now_ms);
  const State& state = *state_;
  switch (c.kind) {
    case CommandKind::create_payment:
      return CreatePayment(state, c, ledger, risk, emitter);
    case CommandKind::confirm_payment:
      return ConfirmPayment(state, c, ledger, risk, emitter);
    case CommandKind::capture_payment:
      return CapturePayment(state, c, ledger, emitter);
    case CommandKind::cancel_payment:
      return CancelPayment(state, c, ledger, emitter);
    case CommandKind::refund_payment:
      return RefundPayment(state, c, ledger, emitter);
    case CommandKind::expire_holds:
      return ExpireHolds(state, c, ledger, emitter);
    case CommandKind::upsert_customer:
      return UpsertCustomer(state, c, ledger, emitter);
    case CommandKind::create_coupon:
      return CreateCoupon(state, c, ledger, emitter);
    case CommandKind::set_points_program:
      return SetPointsProgram(state, c, ledger, emitter);
    case CommandKind::put_fx_rates:
      return PutFxRates(state, c, emitter);
    case CommandKind::create_fx_quote:
      return CreateFxQuote(state, c, emitter);
    case CommandKind::set_fx_account:
      return SetFxAccount(state, c, ledger, emitter);
    case CommandKind::get_payment:
    case CommandKind::list_payments:
    case CommandKind::get_customer:
    case CommandKind::get_coupon:
    case CommandKind::get_points_program:
    case CommandKind::list_fx_rates:
    case CommandKind::get_fx_quote:
      return Read(state, c);
  }
  return Refuse(PaymentError::invalid_request, "kind", "unknown command kind");
}

bool Payments::Apply(const Event& event) { return ApplyEvent(*state_, event); }

void Payments::Save(ledger::StateSink& sink) const {
  const std::vector<uint8_t> bytes = EncodeState(*state_);
  sink.U64(bytes.size());
  sink.Write(bytes);
}

bool Payments::Load(ledger::StateSource& source) {
  uint64_t size = 0;
  if (!source.U64(size) || size > source.remaining()) return false;
  std::vector<uint8_t> bytes(size);
  if (!source.Read(bytes)) return false;
  auto loaded = std::make_unique<State>();
  loaded->assets = state_->assets;
  if (!DecodeState(bytes, *loaded)) return false;
  state_ = std::move(loaded);
  return true;
}

uint64_t Payments::StateLayoutFingerprint() {
  constexpr std::string_view kLayout = "tpw.payments.state";
  const uint64_t hash = Fnv1a({reinterpret_cast<const uint8_t*>(kLayout.data()), kLayout.size()});
  const uint8_t versions[] = {static_cast<uint8_t>(kStateVersion), kEventFormatVersion};
  return Fnv1a(versions, hash);
}

uint64_t Payments::StateDigest() const { return Fnv1a(EncodeState(*state_)); }

const Payment* Payments::FindPayment(PaymentId id) const { return state_->FindPayment(id); }
const Customer* Payments::FindCustomer(CustomerId id) const { return state_->FindCustomer(id); }
const Coupon* Payments::FindCoupon(AccountId merchant, std::string_view code) const {
  return state_->FindCoupon(merchant, code);
}
const Payment* Payments::FindPaymentByHold(TransferId hold) const {
  const auto it = state_->payment_by_hold.find(hold.value);
  return it == state_->payment_by_hold.end() ? nullptr : state_->FindPayment(PaymentId(it->second));
}

PaymentsStats Payments::Stats() const {
  PaymentsStats stats;
  stats.payments = state_->payments.size();
  stats.by_state = state_->payments_by_state;
  stats.open_holds = stats.by_state[static_cast<size_t>(PaymentState::requires_capture)];
  stats.customers = state_->customers.size();
  stats.coupons = state_->coupons.size();
  stats.fx_pairs = state_->rates.size();
  stats.fx_quotes = state_->quotes.size();
  return stats;
}

}  // namespace tpw::payments
