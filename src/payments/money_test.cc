// Exact money arithmetic: 256-bit products, rounding modes, FX across scales, slippage, rates.
#include "payments/money.h"

#include <gtest/gtest.h>

#include <random>

#include "common/test_seed.h"

namespace tpw::payments::money {
namespace {

Rate R(const char* text) { return *ParseRate(text); }
std::optional<u128> Minor(std::optional<Amount> a) {
  return a ? std::optional(a->minor()) : std::nullopt;
}

TEST(MulDiv, RoundsAsAskedAndUsesTheFull256BitProduct) {
  EXPECT_EQ(MulDiv(7, 3, 2, Rounding::down), u128{10});
  EXPECT_EQ(MulDiv(7, 3, 2, Rounding::up), u128{11});
  EXPECT_EQ(MulDiv(6, 3, 2, Rounding::up), u128{9});
  // (2^128 - 1) * (2^128 - 1) / (2^128 - 1): the product needs 256 bits.
  EXPECT_EQ(MulDiv(kU128Max, kU128Max, kU128Max, Rounding::down), kU128Max);
  EXPECT_EQ(MulDiv(kU128Max, 3, 4, Rounding::down), kU128Max / 4 * 3 + 2);
  EXPECT_FALSE(MulDiv(kU128Max, 2, 1, Rounding::down));
  EXPECT_EQ(MulDiv(kU128Max, 1, 1, Rounding::up), kU128Max);
  EXPECT_FALSE(MulDiv(kU128Max, 3, 2, Rounding::up));
}

TEST(MulDiv, AgreesWithNativeArithmeticWhereThatFits) {
  const uint64_t seed = test_support::TestSeed("MulDiv.AgreesWithNativeArithmetic");
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 20'000; ++i) {
    const u128 a = rng(), b = rng() >> (rng() % 64), c = (rng() >> (rng() % 64)) | 1;
    const u128 product = a * b;  // < 2^128: both factors < 2^64
    EXPECT_EQ(MulDiv(a, b, c, Rounding::down), product / c) << test_support::SeedTrace(seed);
    EXPECT_EQ(MulDiv(a, b, c, Rounding::up), product / c + (product % c != 0 ? 1 : 0))
        << test_support::SeedTrace(seed);
  }
}

TEST(Shares, BasisPointsAndProportionsRoundDownAndNeverOverflow) {
  EXPECT_EQ(BasisPointsOf(Amount::FromMinor(1'001), 3'333).minor(), u128{333});
  EXPECT_EQ(BasisPointsOf(Amount::FromMinor(1'001), 10'000).minor(), u128{1'001});
  EXPECT_EQ(BasisPointsOf(Amount::Max(), 10'000), Amount::Max());
  EXPECT_EQ(BasisPointsOf(Amount::Max(), 1).minor(), kU128Max / 10'000);
  EXPECT_EQ(
      ProportionalShare(Amount::FromMinor(333), Amount::FromMinor(500), Amount::FromMinor(1'001))
          .minor(),
      u128{166});
  EXPECT_EQ(ProportionalShare(Amount::Max(), Amount::Max(), Amount::Max()), Amount::Max());
}

TEST(Convert, AcrossScalesWithBothRoundings) {
  // 19.99 USD at 150.5 JPY per USD = 3008.495 JPY.
  EXPECT_EQ(Minor(Convert(Amount::FromMinor(1'999), R("150.5"), 2, 0, Rounding::up)), u128{3'009});
  EXPECT_EQ(Minor(Convert(Amount::FromMinor(1'999), R("150.5"), 2, 0, Rounding::down)),
            u128{3'008});
  // 3009 JPY at 0.0066445 USD per JPY = 19.9933... USD.
  EXPECT_EQ(Minor(Convert(Amount::FromMinor(3'009), R("0.0066445"), 0, 2, Rounding::up)),
            u128{2'000});
  // 1.00 USD at 0.00025 ETH per USD = 2.5e14 wei (scale 18): exact, no rounding either way.
  EXPECT_EQ(Minor(Convert(Amount::FromMinor(100), R("0.00025"), 2, 18, Rounding::up)),
            u128{250'000'000'000'000});
  // 1 wei of ETH at 3000 USD per ETH = 3e-16 cents: down is 0, up is 1.
  EXPECT_EQ(Minor(Convert(Amount::FromMinor(1), R("3000"), 18, 2, Rounding::down)), u128{0});
  EXPECT_EQ(Minor(Convert(Amount::FromMinor(1), R("3000"), 18, 2, Rounding::up)), u128{1});
  // Identity rate, same scale.
  EXPECT_EQ(Minor(Convert(Amount::FromMinor(12'345), R("1"), 2, 2, Rounding::up)), u128{12'345});
}

TEST(Convert, OverflowIsReportedNotWrapped) {
  EXPECT_FALSE(Convert(Amount::Max(), R("2"), 2, 2, Rounding::down));
  EXPECT_FALSE(Convert(Amount::Max(), R("1"), 0, 38, Rounding::down));
  EXPECT_TRUE(Convert(Amount::Max(), R("0.5"), 2, 2, Rounding::down));
  EXPECT_EQ(Minor(Convert(Amount::Max(), R("1"), 38, 0, Rounding::down)),
            kU128Max / (u128{10'000'000'000'000'000'000ull} * u128{10'000'000'000'000'000'000ull}));
}

TEST(Convert, UpNeverBelowDownAndAtMostOneApart) {
  const uint64_t seed = test_support::TestSeed("Convert.UpNeverBelowDown");
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 5'000; ++i) {
    const Amount amount = Amount::FromMinor(rng() >> (rng() % 64));
    const Rate rate{(u128{rng()} >> (rng() % 64)) | 1};
    const auto from = static_cast<uint8_t>(rng() % 19), to = static_cast<uint8_t>(rng() % 19);
    const auto down = Convert(amount, rate, from, to, Rounding::down);
    const auto up = Convert(amount, rate, from, to, Rounding::up);
    ASSERT_TRUE(down && up) << test_support::SeedTrace(seed);
    EXPECT_LE(*down, *up) << test_support::SeedTrace(seed);
    EXPECT_LE(up->minor() - down->minor(), u128{1}) << test_support::SeedTrace(seed);
  }
}

TEST(Slippage, ComparesExactly) {
  EXPECT_TRUE(WithinSlippage(R("1.01"), R("1"), 100));  // exactly 1%
  EXPECT_FALSE(WithinSlippage(R("1.0101"), R("1"), 100));
  EXPECT_TRUE(WithinSlippage(R("0.99"), R("1"), 100));
  EXPECT_TRUE(WithinSlippage(R("5"), R("5"), 0));
  EXPECT_FALSE(WithinSlippage(R("5.000000000000000001"), R("5"), 0));
}

TEST(Rates, ParseAndFormatExactDecimals) {
  EXPECT_EQ(ParseRate("1.0843")->e18, u128{1'084'300'000'000'000'000ull});
  EXPECT_EQ(FormatRate(*ParseRate("1.0843")), "1.0843");
  EXPECT_EQ(FormatRate(*ParseRate("150")), "150");
  EXPECT_EQ(FormatRate(*ParseRate("0.000000000000000001")), "0.000000000000000001");
  EXPECT_EQ(FormatRate(*ParseRate("99999999999999999999.999999999999999999")),
            "99999999999999999999.999999999999999999");
  for (const char* bad : {"", "0", "0.0", "-1", "+1", "1.", ".1", "01", "1,5", "1e2", " 1",
                          "1.0000000000000000001", "100000000000000000000", "1..2", "abc"}) {
    EXPECT_FALSE(ParseRate(bad)) << bad;
  }
}

TEST(Available, FollowsTheAccountsLimitFlag) {
  ledger::Account a;
  a.credits_posted = Amount::FromMinor(100);
  a.debits_posted = Amount::FromMinor(30);
  a.debits_pending = Amount::FromMinor(20);
  EXPECT_EQ(AvailableForDebit(a), Amount::Max());
  a.flags = ledger::account_flags::kDebitsMustNotExceedCredits;
  EXPECT_EQ(AvailableForDebit(a).minor(), u128{50});
  a.overdraft_limit = Amount::FromMinor(25);
  EXPECT_EQ(AvailableForDebit(a).minor(), u128{75});
  a.debits_posted = Amount::FromMinor(200);
  EXPECT_EQ(AvailableForDebit(a), Amount::Zero());
}

}  // namespace
}  // namespace tpw::payments::money
