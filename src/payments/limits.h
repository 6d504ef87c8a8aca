// Named limits of the payments module (STYLE.md rule 6). Over a limit is an error at the input
// (a command, a decoded event) and an assertion inside.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tpw::payments {

// Payments one instance holds (numbers 1..this; the counter never reuses a number).
inline constexpr uint64_t kPaymentsMax = uint64_t{1} << 28;
// Customers, coupons, FX quotes alive at once, FX rate pairs.
inline constexpr size_t kCustomersMax = size_t{1} << 24;
inline constexpr size_t kCouponsMax = size_t{1} << 20;
inline constexpr size_t kQuotesMax = size_t{1} << 20;
inline constexpr size_t kFxPairsMax = 4096;
// Rates in one put_fx_rates command.
inline constexpr size_t kFxRatesPerPutMax = 256;

// Metadata: Stripe's figures (50 keys, 40-character keys, 500-character values).
inline constexpr size_t kMetadataKeysMax = 50;
inline constexpr size_t kMetadataKeyLengthMax = 40;
inline constexpr size_t kMetadataValueLengthMax = 500;
inline constexpr size_t kDescriptionLengthMax = 1000;
// Scenario tags, funding-source tags, coupon codes, rate sources: [A-Za-z0-9_.-], 1..this.
inline constexpr size_t kTagLengthMax = 32;
inline constexpr size_t kCouponCodeLengthMax = 32;
inline constexpr size_t kRateSourceLengthMax = 64;
// Split recipients of one payment (the platform fee is extra).
inline constexpr size_t kSplitsMax = 16;
// Refunds of one payment.
inline constexpr size_t kRefundsPerPaymentMax = 100;
// Funding sources of one customer and tags of one source.
inline constexpr size_t kFundingSourcesMax = 16;
inline constexpr size_t kSourceTagsMax = 8;
// Rule names kept in a payment's risk summary, and the length of each.
inline constexpr size_t kRiskRulesKeptMax = 32;
inline constexpr size_t kRiskNameLengthMax = 64;
// Transfer ids in one expire_holds command.
inline constexpr size_t kExpiredTransfersMax = 8189;
// Payments in one list_payments page.
inline constexpr uint32_t kListLimitMax = 100;
inline constexpr uint32_t kListLimitDefault = 10;

// Basis points: 10000 = 100%.
inline constexpr uint32_t kBasisPointsWhole = 10'000;
// Hold (authorization) lifetime: default 7 days like card authorizations, at most 30 days.
inline constexpr uint32_t kHoldTimeoutSecondsDefault = 7 * 24 * 3600;
inline constexpr uint32_t kHoldTimeoutSecondsMax = 30 * 24 * 3600;
// FX quotes live at most one day.
inline constexpr uint64_t kQuoteTtlMsMax = 24ull * 3600 * 1000;
// Decimal FX rate text: 1..20 integer digits, 0..18 fraction digits (kept as rate x 10^18).
inline constexpr size_t kRateIntegerDigitsMax = 20;
inline constexpr size_t kRateFractionDigitsMax = 18;
// Points per minor unit of money: 1..this.
inline constexpr uint64_t kPointsPerMinorUnitMax = 1'000'000;

// Bytes of one encoded event (a payment with 100 refunds and full metadata stays well below).
inline constexpr size_t kEventBytesMax = size_t{1} << 20;

}  // namespace tpw::payments
