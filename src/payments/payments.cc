#include "payments/payments.h"

namespace tpw::payments {

// Step-1 stub: the state machine lands with the implementation.
std::string_view CommandKindName(CommandKind) { return "unknown"; }
Payments::Payments() = default;
Reply Payments::Execute(const Command&, uint64_t, LedgerPort&, RiskPort&, std::vector<Event>&) {
  Reply reply;
  reply.error = PaymentError::invalid_request;
  reply.detail = "not implemented yet";
  return reply;
}
bool Payments::Apply(const Event&) { return false; }
void Payments::Save(ledger::StateSink&) const {}
bool Payments::Load(ledger::StateSource&) { return false; }
uint64_t Payments::StateLayoutFingerprint() { return 0; }
uint64_t Payments::StateDigest() const { return 0; }
const Payment* Payments::FindPayment(PaymentId) const { return nullptr; }
const Customer* Payments::FindCustomer(CustomerId) const { return nullptr; }
const Coupon* Payments::FindCoupon(std::string_view) const { return nullptr; }
const Payment* Payments::FindPaymentByHold(TransferId) const { return nullptr; }
PaymentsStats Payments::Stats() const { return {}; }

}  // namespace tpw::payments
