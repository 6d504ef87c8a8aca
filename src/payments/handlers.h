// Command handlers (internal header). Each reads the state, decides, moves money through the
// LedgerPort and changes state only by emitting events through the Emitter. A handler that
// refuses emits nothing (payments.h lists the two recorded exceptions).
#pragma once

#include "payments/payments.h"
#include "payments/state.h"

namespace tpw::payments {

// Payment intents (payment_commands.cc).
Reply CreatePayment(const State& state, const Command& c, LedgerPort& ledger, RiskPort& risk,
                    Emitter& emitter);
Reply ConfirmPayment(const State& state, const Command& c, LedgerPort& ledger, RiskPort& risk,
                     Emitter& emitter);
Reply CapturePayment(const State& state, const Command& c, LedgerPort& ledger, Emitter& emitter);
Reply CancelPayment(const State& state, const Command& c, LedgerPort& ledger, Emitter& emitter);
Reply RefundPayment(const State& state, const Command& c, LedgerPort& ledger, Emitter& emitter);
Reply ExpireHolds(const State& state, const Command& c, LedgerPort& ledger, Emitter& emitter);

// Registries (registry_commands.cc).
Reply UpsertCustomer(const State& state, const Command& c, const LedgerPort& ledger,
                     Emitter& emitter);
Reply CreateCoupon(const State& state, const Command& c, const LedgerPort& ledger,
                   Emitter& emitter);
Reply SetPointsProgram(const State& state, const Command& c, const LedgerPort& ledger,
                       Emitter& emitter);
Reply PutFxRates(const State& state, const Command& c, Emitter& emitter);
Reply CreateFxQuote(const State& state, const Command& c, Emitter& emitter);
Reply SetFxAccount(const State& state, const Command& c, const LedgerPort& ledger,
                   Emitter& emitter);

// Reads: get_payment, list_payments, get_customer, get_coupon, get_points_program,
// list_fx_rates, get_fx_quote (registry_commands.cc).
Reply Read(const State& state, const Command& c);

}  // namespace tpw::payments
