// Money flows (internal header; docs/payments.md, "Money flows"): the amounts of a capture or a
// refund, computed exactly, and the linked ledger chains that move them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ledger/types.h"
#include "payments/checks.h"
#include "payments/payments.h"

namespace tpw::payments {

// The transfers of one ledger attempt of one payment. Ids follow MakeTransferId(payment,
// attempt, leg); Finish links every transfer to the next, so the chain moves all or nothing.
class Chain {
 public:
  Chain(PaymentId payment, uint32_t attempt, uint32_t user_data_32 = 0);

  TransferId Hold(AccountId debit, AccountId credit, Amount amount, uint32_t asset, uint16_t code,
                  uint32_t timeout_seconds);
  void Post(TransferId hold, Amount amount);
  void Void(TransferId hold);
  // A plain transfer; a zero amount adds nothing.
  void Move(AccountId debit, AccountId credit, Amount amount, uint32_t asset, uint16_t code);

  bool empty() const { return transfers_.empty(); }
  size_t size() const { return transfers_.size(); }
  std::vector<ledger::Transfer> Finish() const;

 private:
  ledger::Transfer& Add();
  ledger::Transfer& AddMove(AccountId debit, AccountId credit, Amount amount, uint32_t asset,
                            uint16_t code);
  PaymentId payment_;
  uint32_t attempt_;
  uint32_t user_data_32_;
  std::vector<ledger::Transfer> transfers_;
};

// Submits a chain; nullopt when every transfer was created (or existed), else the result of
// the transfer that failed first for its own reason (not linked_event_failed).
std::optional<ledger::CreateTransferResult> Submit(LedgerPort& ledger, const Chain& chain);

// Places the holds of `decision` (points hold first, then the money hold).
struct Holds {
  TransferId money;
  TransferId points;
};
Holds AddHoldLegs(Chain& chain, const Payment& payment, const FundingDecision& decision);

// A capture of `amount` (X) of a funded payment: points value first, the rest from the money
// hold (converted back into Y, rounded up), then the shares of `amount`.
struct CapturePlan {
  Amount amount;
  Amount money;
  Amount money_source;
  Amount points_value;
  Amount points;
  std::vector<Payout> payouts;
  Payout fee;
};
Refusal PlanCapture(const Payment& payment, Amount amount, const AssetTable& assets,
                    CapturePlan& plan);
void AddCaptureLegs(Chain& chain, const Payment& payment, const CapturePlan& plan);
void RecordCapture(Payment& payment, const CapturePlan& plan);

// A refund of `amount` (X): money first, then points; shares pulled back proportionally when
// asked. Fills every field of `refund` but id, attempt, transfer_count and created_at_ms.
Refusal PlanRefund(const Payment& payment, Amount amount, bool reverse_splits, bool refund_fee,
                   const AssetTable& assets, Refund& refund);
void AddRefundLegs(Chain& chain, const Payment& payment, const Refund& refund);
void RecordRefund(Payment& payment, const Refund& refund);

}  // namespace tpw::payments
