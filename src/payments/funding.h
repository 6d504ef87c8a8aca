// Funding choice at confirm (internal header; docs/payments.md, "Funding choice"): the coupon,
// then points, then the source that pays the rest, possibly through FX. A pure decision over
// the state and ledger balances: nothing changes until the hold is placed.
#pragma once

#include <cstdint>
#include <optional>

#include "payments/checks.h"
#include "payments/payments.h"
#include "payments/state.h"

namespace tpw::payments {

struct FundingPlan {
  std::optional<Reply> refusal;  // set: the payment cannot be funded as asked
  FundingDecision decision;
  // The account risk sees as the payer: the money source, or the points account when points
  // pay everything.
  AccountId payer;
};

FundingPlan PlanFunding(const State& state, const Payment& payment, const ConfirmOptions& options,
                        uint64_t now_ms, const LedgerPort& ledger);

}  // namespace tpw::payments
