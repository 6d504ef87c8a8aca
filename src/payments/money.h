// Exact money arithmetic of the payments module (internal header): products of two u128 go
// through a 256-bit intermediate, so shares, proportional reversals and FX conversions never
// overflow silently and never use floating point. Rounding is explicit at every call.
#pragma once

#include <cstdint>
#include <optional>

#include "common/amount.h"
#include "common/int128.h"
#include "ledger/types.h"
#include "payments/types.h"

namespace tpw::payments::money {

enum class Rounding : uint8_t { down, up };

// floor or ceil of a * b / c (c > 0); nullopt when the result does not fit 128 bits.
std::optional<u128> MulDiv(u128 a, u128 b, u128 c, Rounding rounding);

// floor(amount * basis_points / 10000), basis_points <= 10000: always fits.
Amount BasisPointsOf(Amount amount, uint32_t basis_points);

// floor(part_total * share / whole): the share of `share` that `part_total` of `whole` stands
// for (whole > 0, part_total <= whole): always fits, never more than `share`.
Amount ProportionalShare(Amount share, Amount part_total, Amount whole);

// Converts minor units of an asset with `from_scale` decimals into minor units of an asset with
// `to_scale` decimals at `rate` (to-units per from-unit, x 10^18), rounded as asked; nullopt
// when the result does not fit 128 bits.
std::optional<Amount> Convert(Amount amount, Rate rate, uint8_t from_scale, uint8_t to_scale,
                              Rounding rounding);

// |quoted - current| <= current * max_slippage_bps / 10000, exactly.
bool WithinSlippage(Rate quoted, Rate current, uint32_t max_slippage_bps);

// Available balance of a ledger account for a debit: credits_posted + overdraft_limit -
// debits_posted - debits_pending when the account has debits_must_not_exceed_credits (0 when
// that is negative); Amount::Max() for an account without that limit.
Amount AvailableForDebit(const ledger::Account& account);

}  // namespace tpw::payments::money
