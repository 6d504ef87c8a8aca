// The payments module inside the engine (issue 7): the sequencer owns the payments::Payments
// state machine like the ledger, the clearing and the risk state.
//
// One command runs in one sequencer step, inside the group commit being built:
//   - its money movements go through PaymentsLedgerPort to the live ledger (CreateTransfersNow),
//     so they are journaled as ordinary ledger facts (types 1-3) in this group;
//   - its risk decision (at confirm) goes through PaymentsRiskPort to DecideAndJournal, a
//     journaled risk decision (type 10), so the velocity state replays;
//   - then every event it emitted becomes one `payment` fact (type 11: the event's own encoding,
//     payments::EncodeEvent), after those ledger and risk facts.
// Replay applies the ledger and risk facts through their own paths and each payment fact with
// Payments::Apply: a payment command is never executed again. A refused command emits no event
// and journals nothing of its own.
//
// Hold expiry: the ledger releases pending transfers by timeout (RunExpiry). Those that are
// payment holds (transfer ids carrying payments::kTransferIdMagic) are handed to the module's
// expire_holds in the same step, after the expiry fact, so the payment is canceled (expired)
// with its event journaled; replay re-runs the expiry and applies the recorded events.
#include <algorithm>

#include "engine/engine_impl.h"
#include "payments/events.h"

namespace tpw::engine {

namespace {

// A second, in the payments clock's milliseconds.
constexpr uint64_t kRegistryStatsRefreshMs = 1000;

// Events that change what the registry counts (customers, coupons, FX pairs, quotes).
bool ChangesRegistry(payments::EventKind kind) {
  switch (kind) {
    case payments::EventKind::customer_updated:
    case payments::EventKind::coupon_created:
    case payments::EventKind::fx_rates_updated:
    case payments::EventKind::fx_quote_created:
      return true;
    default:
      return false;
  }
}

payments::Reply RefusePayments(payments::PaymentError error, std::string param, std::string detail) {
  payments::Reply reply;
  reply.error = error;
  reply.param = std::move(param);
  reply.detail = std::move(detail);
  return reply;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The ports, bound to the group of the step that runs the command

class Engine::Impl::PaymentsLedgerPort final : public payments::LedgerPort {
 public:
  PaymentsLedgerPort(Impl& impl, Group& group) : impl_(&impl), group_(&group) {}

  std::optional<ledger::Account> LookupAccount(AccountId id) const override {
    return impl_->ledger_->LookupAccount(id);
  }
  ledger::PendingStatus GetPendingStatus(TransferId id) const override {
    return impl_->ledger_->GetPendingStatus(id);
  }
  // Stamped and journaled like a create_transfers request executed now, in this group.
  std::vector<ledger::CreateTransfersResult> CreateTransfers(
      std::span<const ledger::Transfer> transfers) override {
    TPW_ASSERT(!transfers.empty() && transfers.size() <= kBatchEventsMax);
    return impl_->CreateTransfersNow({transfers.begin(), transfers.end()}, *group_);
  }

 private:
  Impl* impl_;
  Group* group_;
};

class Engine::Impl::PaymentsRiskPort final : public payments::RiskPort {
 public:
  PaymentsRiskPort(Impl& impl, Group& group) : impl_(&impl), group_(&group) {}

  // A journaled decision at the command's time (ns = ms x 10^6), as a risk `decide` would be.
  payments::RiskSummary Decide(const risk::Event& event, uint64_t now_ms) override {
    const RiskOutcome outcome =
        impl_->DecideAndJournal(event, Timestamp{now_ms * 1'000'000}, *group_);
    payments::RiskSummary summary;
    summary.evaluated = true;
    summary.decision = outcome.decision;
    summary.required_cvm = outcome.required_cvm;
    summary.cvm_performed = event.cvm_performed;
    summary.score = outcome.score;
    summary.matched_rules = outcome.matched_rules;
    summary.decided_by = outcome.decided_by;
    summary.rules_version = outcome.version;
    return summary;
  }

 private:
  Impl* impl_;
  Group* group_;
};

// ---------------------------------------------------------------------------------------------
// Sequencer thread

void Engine::Impl::ResetPayments() {
  payments_ = payments::Payments{options_.assets};
  payments_last_ms_ = 0;
  payment_facts_ = 0;
  payment_state_of_.clear();
  payments_by_state_ = {};
  payments_registry_stats_ = {};
  payments_registry_dirty_ = true;
  payments_registry_refreshed_ms_ = 0;
}

uint64_t Engine::Impl::PaymentsTimeMs(Timestamp t) const {
  return std::max(t.ns / 1'000'000, payments_last_ms_);
}

void Engine::Impl::ExecutePayments(Request& request, Reply& reply, Group& group) {
  const payments::Command& command = *request.payments;
  if (command.kind == payments::CommandKind::expire_holds) {
    reply.payments = RefusePayments(
        payments::PaymentError::invalid_request, "kind",
        "expire_holds is run by the engine when the ledger expires a hold; cancel a payment with "
        "cancel_payment");
    return;
  }
  // The step time: the ledger's next timestamp (never behind the last one it journaled).
  const uint64_t now_ms = PaymentsTimeMs(ledger_->NextTimestamp(clock_->Now()));
  reply.payments = RunPaymentsCommand(command, now_ms, group);
}

payments::Reply Engine::Impl::RunPaymentsCommand(const payments::Command& command,
                                                 uint64_t now_ms, Group& group) {
  PaymentsLedgerPort ledger(*this, group);
  PaymentsRiskPort risk(*this, group);
  payment_events_.clear();
  payments::Reply reply = payments_.Execute(command, now_ms, ledger, risk, payment_events_);
  // Whatever the reply says: payments.h lists the refusals that still record an outcome.
  // Each event is encoded once: the fact's bytes are also the outbox payload (format 2).
  std::vector<std::vector<uint8_t>> encoded;
  encoded.reserve(payment_events_.size());
  for (const payments::Event& event : payment_events_) {
    encoded.push_back(payments::EncodeEvent(event));
    group.Add(FactType::payment, encoded.back());
    NotePaymentEvent(event);
  }
  for (size_t i = 0; i < encoded.size(); ++i) {
    PublishPaymentEvent(now_ms, payment_events_[i].kind, std::move(encoded[i]));
  }
  return reply;
}

void Engine::Impl::ExpirePaymentHolds(const std::vector<ledger::ExpiredTransfer>& expired,
                                      Timestamp now, Group& group) {
  payments::Command command;
  command.kind = payments::CommandKind::expire_holds;
  const auto run = [&] {
    // Refusals are impossible for ids the ledger just expired; a hold that belongs to no
    // payment is ignored by the module. The canceled payments are in the facts it journals.
    (void)RunPaymentsCommand(command, PaymentsTimeMs(now), group);
    command.expired_transfers.clear();
  };
  for (const ledger::ExpiredTransfer& e : expired) {
    if (!payments::SplitTransferId(e.id)) continue;  // not a payments transfer
    command.expired_transfers.push_back(e.id);
    if (command.expired_transfers.size() == payments::kExpiredTransfersMax) run();
  }
  if (!command.expired_transfers.empty()) run();
}

// Payment numbers come from a counter in the module's state (1, 2, ...), and a payment's
// first event creates it, so number n is either known or the next one.
void Engine::Impl::NotePaymentEvent(const payments::Event& event) {
  ++payment_facts_;
  payments_last_ms_ = std::max(payments_last_ms_, event.at_ms);
  if (ChangesRegistry(event.kind)) payments_registry_dirty_ = true;
  if (!event.payment) return;
  const uint64_t number = event.payment->id.value;
  const auto state = static_cast<uint8_t>(event.payment->state);
  TPW_ASSERT(number >= 1 && number <= payment_state_of_.size() + 1);
  TPW_ASSERT(state < kPaymentStates);
  if (number == payment_state_of_.size() + 1) {
    payment_state_of_.push_back(state);
  } else {
    --payments_by_state_[payment_state_of_[number - 1]];
    payment_state_of_[number - 1] = state;
  }
  ++payments_by_state_[state];
}

void Engine::Impl::RefreshPaymentsRegistryStats() {
  if (!payments_registry_dirty_) return;
  if (payments_registry_refreshed_ms_ != 0 &&
      payments_last_ms_ < payments_registry_refreshed_ms_ + kRegistryStatsRefreshMs) {
    return;
  }
  payments_registry_stats_ = payments_.Stats();
  payments_registry_dirty_ = false;
  payments_registry_refreshed_ms_ = std::max<uint64_t>(1, payments_last_ms_);
}

// Publishes a payment event to the outbox (format 2: the payments encoding, the fact's own
// bytes, rendered as JSON by the API). Called live right after a command's payment facts are
// added to its group, and on replay of each payment fact, so the outbox is rebuilt from the
// journal exactly as it was built live. The module's limits keep an event far below the
// outbox's payload bound; one that were above it would be published as a JSON marker naming it
// rather than stop the engine.
void Engine::Impl::PublishPaymentEvent(uint64_t time_ms, payments::EventKind kind,
                                       std::vector<uint8_t> encoded) {
  const std::string_view type = payments::EventKindName(kind);
  if (encoded.size() <= kEventPayloadBytesMax) {
    PublishEvent(time_ms, type, kEventFormatPayments, std::move(encoded));
    return;
  }
  const std::string marker = "{\"too_large\":true,\"bytes\":" + std::to_string(encoded.size()) + "}";
  PublishEvent(time_ms, type, kEventFormatJson, {marker.begin(), marker.end()});
}

// ---------------------------------------------------------------------------------------------
// Recovery and snapshots

EngineStatus Engine::Impl::ApplyPaymentFact(const journal::RecordView& record) {
  const auto diverged = [&](const std::string& why) {
    return EngineFail(EngineError::replay_diverged,
                      "journal record " + std::to_string(record.sequence.value) + ": " + why);
  };
  auto decoded = payments::DecodeEvent(record.bytes);
  if (!decoded.ok()) {
    return diverged("a payment fact that does not decode (" +
                    std::string(payments::EventDecodeErrorName(decoded.error())) + ", " +
                    std::to_string(record.bytes.size()) + " bytes)");
  }
  payments::Event& event = decoded.value();
  if (!payments_.Apply(event)) {
    std::string what(payments::EventKindName(event.kind));
    if (event.payment) what += " of " + payments::FormatPaymentId(event.payment->id);
    return diverged("payment event " + what + " does not apply to the payments state");
  }
  NotePaymentEvent(event);
  // A decoded event encodes back byte for byte: the fact's bytes are what live execution
  // published.
  PublishPaymentEvent(event.at_ms, event.kind, {record.bytes.begin(), record.bytes.end()});
  return EngineStatus::Ok();
}

// Snapshot section: u64 payments clock (ms), u64 payment facts, then Payments::Save (one
// length-prefixed blob, docs/payments.md). The per-state counts are rebuilt from the payments.
void Engine::Impl::SavePaymentsState(ledger::StateSink& sink) const {
  sink.U64(payments_last_ms_);
  sink.U64(payment_facts_);
  payments_.Save(sink);
}

bool Engine::Impl::LoadPaymentsState(ledger::StateSource& source) {
  uint64_t last_ms = 0;
  uint64_t facts = 0;
  if (!source.U64(last_ms) || !source.U64(facts) || !payments_.Load(source)) return false;
  payments_last_ms_ = last_ms;
  payment_facts_ = facts;
  payment_state_of_.clear();
  payments_by_state_ = {};
  for (uint64_t n = 1; n <= payments::kPaymentsMax; ++n) {
    const payments::Payment* payment = payments_.FindPayment(payments::PaymentId{n});
    if (payment == nullptr) break;
    const auto state = static_cast<uint8_t>(payment->state);
    if (state >= kPaymentStates) return false;
    payment_state_of_.push_back(state);
    ++payments_by_state_[state];
  }
  payments_registry_dirty_ = true;
  payments_registry_refreshed_ms_ = 0;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Engine (public)

void Engine::SubmitPayments(payments::Command command, std::function<void(Reply&&)> done) {
  Request request;
  request.kind = RequestKind::payments;
  request.payments = std::make_shared<payments::Command>(std::move(command));
  request.done = std::move(done);
  impl_->Submit(std::move(request));
}

Reply Engine::ExecutePayments(payments::Command command) {
  Request request;
  request.kind = RequestKind::payments;
  request.payments = std::make_shared<payments::Command>(std::move(command));
  return Execute(std::move(request));
}

std::optional<uint64_t> Engine::PaymentsStateDigest() {
  Request request;
  request.kind = RequestKind::payments_digest;
  const Reply reply = Execute(std::move(request));
  if (reply.error) return std::nullopt;
  return reply.payments_digest;
}

}  // namespace tpw::engine
