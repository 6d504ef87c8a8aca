#include "payments/money.h"

#include "common/assert.h"
#include "ledger/types.h"
#include "payments/limits.h"

namespace tpw::payments::money {
namespace {

struct U256 {
  u128 hi = 0;
  u128 lo = 0;
};

U256 Multiply(u128 a, u128 b) {
  const u128 a_lo = Low64(a), a_hi = High64(a), b_lo = Low64(b), b_hi = High64(b);
  const u128 lo_lo = a_lo * b_lo;
  const u128 hi_lo = a_hi * b_lo;
  const u128 lo_hi = a_lo * b_hi;
  const u128 hi_hi = a_hi * b_hi;
  // Middle column: the high half of lo_lo plus the low halves of the cross products.
  const u128 middle = (lo_lo >> 64) + Low64(hi_lo) + Low64(lo_hi);
  U256 result;
  result.lo = (middle << 64) | Low64(lo_lo);
  result.hi = hi_hi + (hi_lo >> 64) + (lo_hi >> 64) + (middle >> 64);
  return result;
}

struct Division {
  U256 quotient;
  u128 remainder = 0;
};

// Schoolbook binary long division of a 256-bit number by a non-zero u128.
Division Divide(U256 n, u128 d) {
  TPW_ASSERT(d != 0);
  Division out;
  if (n.hi == 0) {
    out.quotient.lo = n.lo / d;
    out.remainder = n.lo % d;
    return out;
  }
  u128 rem = 0;
  for (int bit = 255; bit >= 0; --bit) {
    const bool carry = (rem >> 127) != 0;
    const u128 next = bit >= 128 ? (n.hi >> (bit - 128)) & 1 : (n.lo >> bit) & 1;
    rem = (rem << 1) | next;
    // With the carry the true remainder is rem + 2^128 >= d: subtracting wraps to the right value.
    if (carry || rem >= d) {
      rem -= d;
      if (bit >= 128) {
        out.quotient.hi |= u128{1} << (bit - 128);
      } else {
        out.quotient.lo |= u128{1} << bit;
      }
    }
  }
  out.remainder = rem;
  return out;
}

u128 PowerOfTen(uint32_t exponent) {
  TPW_ASSERT(exponent <= 38);
  u128 value = 1;
  for (uint32_t i = 0; i < exponent; ++i) value *= 10;
  return value;
}

std::optional<u128> Finish(Division division, bool any_remainder, Rounding rounding) {
  if (division.quotient.hi != 0) return std::nullopt;
  u128 value = division.quotient.lo;
  if (rounding == Rounding::up && (any_remainder || division.remainder != 0)) {
    if (value == kU128Max) return std::nullopt;
    ++value;
  }
  return value;
}

}  // namespace

std::optional<u128> MulDiv(u128 a, u128 b, u128 c, Rounding rounding) {
  TPW_ASSERT(c != 0);
  return Finish(Divide(Multiply(a, b), c), false, rounding);
}

Amount BasisPointsOf(Amount amount, uint32_t basis_points) {
  TPW_ASSERT(basis_points <= kBasisPointsWhole);
  const auto share = MulDiv(amount.minor(), basis_points, kBasisPointsWhole, Rounding::down);
  TPW_ASSERT(share.has_value());
  return Amount::FromMinor(*share);
}

Amount ProportionalShare(Amount share, Amount part_total, Amount whole) {
  TPW_ASSERT(!whole.is_zero() && part_total <= whole);
  const auto value = MulDiv(share.minor(), part_total.minor(), whole.minor(), Rounding::down);
  TPW_ASSERT(value.has_value() && *value <= share.minor());
  return Amount::FromMinor(*value);
}

std::optional<Amount> Convert(Amount amount, Rate rate, uint8_t from_scale, uint8_t to_scale,
                              Rounding rounding) {
  // to_minor = amount * rate / 10^18 * 10^to_scale / 10^from_scale; exponent of ten left over:
  const int exponent = int{to_scale} - int{from_scale} - int{kRateFractionDigitsMax};
  const U256 product = Multiply(amount.minor(), rate.e18);
  if (exponent >= 0) {
    if (product.hi != 0) return std::nullopt;
    // exponent <= 38 - 0 - 18 = 20: 10^exponent fits.
    const auto scaled =
        MulDiv(product.lo, PowerOfTen(static_cast<uint32_t>(exponent)), 1, Rounding::down);
    return scaled ? std::optional(Amount::FromMinor(*scaled)) : std::nullopt;
  }
  // Divide by 10^-exponent (at most 10^56) in steps of at most 10^38; the result is exact
  // (floor(floor(n/a)/b) == floor(n/(a*b))) and any non-zero remainder means "not exact".
  uint32_t left = static_cast<uint32_t>(-exponent);
  Division division{product, 0};
  bool any_remainder = false;
  while (left > 0) {
    const uint32_t step = left > 38 ? 38 : left;
    division = Divide(division.quotient, PowerOfTen(step));
    any_remainder = any_remainder || division.remainder != 0;
    left -= step;
  }
  const auto value = Finish(Division{division.quotient, 0}, any_remainder, rounding);
  return value ? std::optional(Amount::FromMinor(*value)) : std::nullopt;
}

bool WithinSlippage(Rate quoted, Rate current, uint32_t max_slippage_bps) {
  const u128 difference =
      quoted.e18 > current.e18 ? quoted.e18 - current.e18 : current.e18 - quoted.e18;
  const U256 left = Multiply(difference, kBasisPointsWhole);
  const U256 right = Multiply(current.e18, max_slippage_bps);
  return left.hi < right.hi || (left.hi == right.hi && left.lo <= right.lo);
}

Amount AvailableForDebit(const ledger::Account& account) {
  if ((account.flags & ledger::account_flags::kDebitsMustNotExceedCredits) == 0) {
    return Amount::Max();
  }
  const auto ceiling = account.credits_posted.CheckedAdd(account.overdraft_limit);
  const auto used = account.debits_posted.CheckedAdd(account.debits_pending);
  if (!ceiling) return Amount::Max();
  if (!used || *used >= *ceiling) return Amount::Zero();
  return *ceiling->CheckedSub(*used);
}

}  // namespace tpw::payments::money
