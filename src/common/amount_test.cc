#include "common/amount.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/asset.h"
#include "common/clock.h"
#include "common/int128.h"
#include "common/limits.h"
#include "common/test_seed.h"

namespace tpw {
namespace {

constexpr std::string_view kU128MaxDecimal = "340282366920938463463374607431768211455";
constexpr std::string_view kU128MaxPlusOneDecimal = "340282366920938463463374607431768211456";

// gtest cannot print u128, so a parse outcome is compared as text: the minor units in decimal,
// or "error:<name>".
std::string Parsed(std::string_view text, uint8_t scale) {
  const Result<Amount, AmountError> parsed = ParseDecimalAmount(text, scale);
  if (!parsed.ok()) return "error:" + std::string(AmountErrorName(parsed.error()));
  return U128ToDecimal(parsed.value().minor());
}

std::string Error(AmountError error) { return "error:" + std::string(AmountErrorName(error)); }

u128 Pow10(int exponent) {
  u128 value = 1;
  for (int i = 0; i < exponent; ++i) value *= 10;
  return value;
}

// ---------------------------------------------------------------------------------------------
// Parsing: valid input.

TEST(ParseDecimalAmount, TwoDecimalsAtScaleTwoAreMinorUnits) {
  EXPECT_EQ(Parsed("12.34", 2), "1234");
}

TEST(ParseDecimalAmount, OneDecimalAtScaleTwoIsPaddedWithZero) {
  EXPECT_EQ(Parsed("12.3", 2), "1230");
}

TEST(ParseDecimalAmount, WholeNumberAtScaleTwoIsScaledUp) {
  EXPECT_EQ(Parsed("12", 2), "1200");
  EXPECT_EQ(Parsed("1", 2), "100");
}

TEST(ParseDecimalAmount, ZeroWithAndWithoutFractionIsZero) {
  EXPECT_EQ(Parsed("0", 2), "0");
  EXPECT_EQ(Parsed("0.0", 2), "0");
  EXPECT_EQ(Parsed("0.00", 2), "0");
  EXPECT_EQ(Parsed("0", 0), "0");
}

TEST(ParseDecimalAmount, SubUnitAmountsStartWithSingleZero) {
  EXPECT_EQ(Parsed("0.05", 2), "5");
  EXPECT_EQ(Parsed("0.5", 2), "50");
  EXPECT_EQ(Parsed("0.00000001", 8), "1");
}

TEST(ParseDecimalAmount, TrailingFractionZerosWithinScaleAreAccepted) {
  EXPECT_EQ(Parsed("1.50", 2), "150");
  EXPECT_EQ(Parsed("10.00", 2), "1000");
}

TEST(ParseDecimalAmount, ScaleZeroTakesIntegersAsIs) {
  EXPECT_EQ(Parsed("1000", 0), "1000");
  EXPECT_EQ(Parsed("7", 0), "7");
}

TEST(ParseDecimalAmount, AcceptsExactU128MaxAtScaleZero) {
  EXPECT_EQ(Parsed(kU128MaxDecimal, 0), kU128MaxDecimal);
}

TEST(ParseDecimalAmount, AcceptsU128MaxMinusOneAtScaleZero) {
  EXPECT_EQ(Parsed("340282366920938463463374607431768211454", 0),
            "340282366920938463463374607431768211454");
}

TEST(ParseDecimalAmount, AcceptsExactU128MaxAtScaleTwo) {
  EXPECT_EQ(Parsed("3402823669209384634633746074317682114.55", 2), kU128MaxDecimal);
}

TEST(ParseDecimalAmount, AcceptsExactU128MaxAtScaleEighteen) {
  EXPECT_EQ(Parsed("340282366920938463463.374607431768211455", 18), kU128MaxDecimal);
}

TEST(ParseDecimalAmount, AcceptsExactU128MaxAtMaxScale) {
  EXPECT_EQ(Parsed("3.40282366920938463463374607431768211455", kAssetScaleMax), kU128MaxDecimal);
}

TEST(ParseDecimalAmount, OneWholeUnitAtMaxScaleIsTenToThe38) {
  EXPECT_EQ(Parsed("1", kAssetScaleMax), U128ToDecimal(Pow10(38)));
}

TEST(ParseDecimalAmount, AcceptsThirtyNineDigitsInAll) {
  const std::string text = "0." + std::string(37, '0') + "1";  // 1 + 38 = 39 digits
  EXPECT_EQ(Parsed(text, kAssetScaleMax), "1");
}

TEST(ParseDecimalAmount, OneEthIsTenToTheEighteenWei) {
  EXPECT_EQ(Parsed("1", 18), "1000000000000000000");
  EXPECT_EQ(Parsed("0.000000000000000001", 18), "1");
}

struct DefaultAssetCase {
  std::string_view code;
  std::string_view text;
  std::string_view minor_units;
};

TEST(ParseDecimalAmount, ParsesCanonicalTextForEveryDefaultAsset) {
  const DefaultAssetCase cases[] = {
      {"USD", "0.01", "1"},
      {"USD", "12.34", "1234"},
      {"USD", "3402823669209384634633746074317682114.55", kU128MaxDecimal},
      {"EUR", "99.99", "9999"},
      {"GBP", "0.10", "10"},
      {"JPY", "0", "0"},
      {"JPY", "1000", "1000"},
      {"JPY", kU128MaxDecimal, kU128MaxDecimal},
      {"CHF", "1.00", "100"},
      {"CNY", "8.88", "888"},
      {"BTC", "0.00000001", "1"},
      {"BTC", "21000000.00000000", "2100000000000000"},
      {"BTC", "3402823669209384634633746074317.68211455", kU128MaxDecimal},
      {"ETH", "0.000000000000000001", "1"},
      {"ETH", "1.000000000000000000", "1000000000000000000"},
      {"ETH", "340282366920938463463.374607431768211455", kU128MaxDecimal},
      {"PTS", "500", "500"},
      {"PTS", kU128MaxDecimal, kU128MaxDecimal},
  };
  const AssetTable table = AssetTable::Default();
  for (const DefaultAssetCase& c : cases) {
    SCOPED_TRACE(std::string(c.code) + " " + std::string(c.text));
    const Asset* asset = table.FindByCode(c.code);
    ASSERT_NE(asset, nullptr);
    EXPECT_EQ(Parsed(c.text, asset->scale), c.minor_units);
    // Canonical text survives a round trip unchanged.
    const Result<Amount, AmountError> parsed = ParseDecimalAmount(c.text, asset->scale);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(FormatDecimalAmount(parsed.value(), asset->scale), c.text);
  }
}

TEST(ParseDecimalAmount, RoundTripsBoundaryValuesForEveryDefaultAsset) {
  const AssetTable table = AssetTable::Default();
  ASSERT_EQ(table.assets().size(), 9u);
  for (const Asset& asset : table.assets()) {
    const u128 values[] = {0,
                           1,
                           9,
                           10,
                           Pow10(asset.scale),
                           Pow10(asset.scale) - 1,
                           Pow10(asset.scale) + 1,
                           MakeU128(1, 0),
                           kU128Max - 1,
                           kU128Max};
    for (u128 value : values) {
      SCOPED_TRACE(asset.code + " " + U128ToDecimal(value));
      const std::string text = FormatDecimalAmount(Amount::FromMinor(value), asset.scale);
      EXPECT_EQ(Parsed(text, asset.scale), U128ToDecimal(value)) << text;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing: invalid and hostile input. Every AmountError is triggered here (unknown_asset in
// asset_test.cc and below through AssetTable::Parse).

TEST(ParseDecimalAmount, RejectsEmptyText) {
  EXPECT_EQ(Parsed("", 2), Error(AmountError::empty));
  EXPECT_EQ(Parsed("", 0), Error(AmountError::empty));
}

TEST(ParseDecimalAmount, RejectsThreeDecimalsForUsd) {
  EXPECT_EQ(Parsed("1.234", 2), Error(AmountError::too_many_fraction_digits));
}

TEST(ParseDecimalAmount, RejectsTrailingZerosBeyondScale) {
  // The value would be exact, but the text claims a precision the asset does not have.
  EXPECT_EQ(Parsed("1.500", 2), Error(AmountError::too_many_fraction_digits));
  EXPECT_EQ(Parsed("0.000", 2), Error(AmountError::too_many_fraction_digits));
}

TEST(ParseDecimalAmount, RejectsAnyFractionAtScaleZero) {
  EXPECT_EQ(Parsed("1.0", 0), Error(AmountError::too_many_fraction_digits));
  EXPECT_EQ(Parsed("0.5", 0), Error(AmountError::too_many_fraction_digits));
}

TEST(ParseDecimalAmount, RejectsNineteenDecimalsForEth) {
  EXPECT_EQ(Parsed("0.0000000000000000001", 18), Error(AmountError::too_many_fraction_digits));
}

TEST(ParseDecimalAmount, RejectsExponentNotation) {
  EXPECT_EQ(Parsed("1e5", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("1E5", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("1.5e2", 2), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsPlusSign) {
  EXPECT_EQ(Parsed("+1", 2), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsMinusSign) {
  EXPECT_EQ(Parsed("-1", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("-0", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("1-", 2), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsLeadingBlank) {
  EXPECT_EQ(Parsed(" 1", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("\t1", 2), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsTrailingBlank) {
  EXPECT_EQ(Parsed("1 ", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("1\n", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("1\r\n", 2), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsBlankInsideNumber) {
  EXPECT_EQ(Parsed("1 000", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("1. 5", 2), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsThousandsSeparators) {
  EXPECT_EQ(Parsed("1,000", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("1_000", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("1'000", 2), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsCommaAsDecimalSeparator) {
  EXPECT_EQ(Parsed("1,50", 2), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsMissingWholeDigits) {
  EXPECT_EQ(Parsed(".5", 2), Error(AmountError::missing_digits));
}

TEST(ParseDecimalAmount, RejectsMissingFractionDigits) {
  EXPECT_EQ(Parsed("5.", 2), Error(AmountError::missing_digits));
  EXPECT_EQ(Parsed("5.", 0), Error(AmountError::missing_digits));
}

TEST(ParseDecimalAmount, RejectsLonePoint) {
  EXPECT_EQ(Parsed(".", 2), Error(AmountError::missing_digits));
}

TEST(ParseDecimalAmount, RejectsSecondPoint) {
  EXPECT_EQ(Parsed("1.2.3", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("1..2", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("..", 2), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsLeadingZeros) {
  EXPECT_EQ(Parsed("007", 2), Error(AmountError::leading_zero));
  EXPECT_EQ(Parsed("00", 2), Error(AmountError::leading_zero));
  EXPECT_EQ(Parsed("00.50", 2), Error(AmountError::leading_zero));
  EXPECT_EQ(Parsed("01", 0), Error(AmountError::leading_zero));
}

TEST(ParseDecimalAmount, RejectsHexPrefix) {
  EXPECT_EQ(Parsed("0x10", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("0X10", 0), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsFortyDigits) {
  EXPECT_EQ(Parsed("1" + std::string(39, '0'), 0), Error(AmountError::too_many_digits));
}

TEST(ParseDecimalAmount, CountsFractionDigitsTowardTheFortyDigitLimit) {
  const std::string text = std::string(20, '1').append(".").append(20, '1');
  EXPECT_EQ(Parsed(text, kAssetScaleMax), Error(AmountError::too_many_digits));
  const std::string zero_fraction = "0." + std::string(39, '0');
  EXPECT_EQ(Parsed(zero_fraction, kAssetScaleMax), Error(AmountError::too_many_digits));
}

TEST(ParseDecimalAmount, RejectsVeryLongDigitStringWithoutWrapping) {
  EXPECT_EQ(Parsed(std::string(10000, '9'), 0), Error(AmountError::too_many_digits));
}

TEST(ParseDecimalAmount, RejectsOneAboveU128MaxAtScaleZero) {
  EXPECT_EQ(Parsed(kU128MaxPlusOneDecimal, 0), Error(AmountError::overflow));
}

TEST(ParseDecimalAmount, RejectsLargestThirtyNineDigitNumberAsOverflow) {
  EXPECT_EQ(Parsed(std::string(39, '9'), 0), Error(AmountError::overflow));
}

TEST(ParseDecimalAmount, RejectsOneMinorUnitAboveMaxAtScaleEighteen) {
  EXPECT_EQ(Parsed("340282366920938463463.374607431768211456", 18), Error(AmountError::overflow));
}

TEST(ParseDecimalAmount, RejectsWholeUnitsThatOverflowOnlyOnceScaled) {
  // 340282366920938463464 ETH is 21 digits, but 3.4e38 wei: above 2^128-1.
  EXPECT_EQ(Parsed("340282366920938463464", 18), Error(AmountError::overflow));
  // 37 digits at scale 2: the two zeros of padding push it over.
  EXPECT_EQ(Parsed("3402823669209384634633746074317682115", 2), Error(AmountError::overflow));
  EXPECT_EQ(Parsed("4", kAssetScaleMax), Error(AmountError::overflow));
}

TEST(ParseDecimalAmount, RejectsShortFractionThatOverflowsOncePadded) {
  EXPECT_EQ(Parsed("3402823669209384634633746074317682114.6", 2), Error(AmountError::overflow));
}

TEST(ParseDecimalAmount, RejectsUnicodeDigits) {
  EXPECT_EQ(Parsed("\u0661\u0662", 2), Error(AmountError::invalid_character));  // Arabic-Indic
  EXPECT_EQ(Parsed("\uFF11\uFF12", 2), Error(AmountError::invalid_character));  // full width
  EXPECT_EQ(Parsed("1\u00B2", 2), Error(AmountError::invalid_character));       // superscript 2
  EXPECT_EQ(Parsed("1\u00B72", 2), Error(AmountError::invalid_character));      // middle dot
}

TEST(ParseDecimalAmount, RejectsEmbeddedNul) {
  EXPECT_EQ(Parsed(std::string_view("1\0"
                                    "2",
                                    3),
                   2),
            Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed(std::string_view("12\0", 3), 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed(std::string_view("\0", 1), 2), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsHighBitBytes) {
  EXPECT_EQ(Parsed("\xff", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed("1\x80", 2), Error(AmountError::invalid_character));
}

TEST(ParseDecimalAmount, RejectsCharactersAdjacentToDigitsInAscii) {
  EXPECT_EQ(Parsed("1/2", 2), Error(AmountError::invalid_character));  // '/' is '0' - 1
  EXPECT_EQ(Parsed("1:2", 2), Error(AmountError::invalid_character));  // ':' is '9' + 1
}

TEST(ParseDecimalAmount, RejectsWordsAndFloatSpellings) {
  for (std::string_view text : {"abc", "12a", "NaN", "nan", "inf", "Infinity", "1f", "12.34d"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(Parsed(text, 2), Error(AmountError::invalid_character));
  }
}

TEST(ParseDecimalAmount, InvalidCharacterWinsOverOtherErrors) {
  EXPECT_EQ(Parsed("-007", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed(".-5", 2), Error(AmountError::invalid_character));
  EXPECT_EQ(Parsed(std::string(50, '9').append("x"), 0), Error(AmountError::invalid_character));
}

TEST(AmountError, NumericValuesAreStable) {
  EXPECT_EQ(static_cast<int>(AmountError::empty), 1);
  EXPECT_EQ(static_cast<int>(AmountError::invalid_character), 2);
  EXPECT_EQ(static_cast<int>(AmountError::leading_zero), 3);
  EXPECT_EQ(static_cast<int>(AmountError::missing_digits), 4);
  EXPECT_EQ(static_cast<int>(AmountError::too_many_fraction_digits), 5);
  EXPECT_EQ(static_cast<int>(AmountError::too_many_digits), 6);
  EXPECT_EQ(static_cast<int>(AmountError::overflow), 7);
  EXPECT_EQ(static_cast<int>(AmountError::unknown_asset), 8);
}

TEST(AmountError, EveryCodeHasItsOwnNameAndAMessage) {
  const std::vector<std::pair<AmountError, std::string_view>> names = {
      {AmountError::empty, "empty"},
      {AmountError::invalid_character, "invalid_character"},
      {AmountError::leading_zero, "leading_zero"},
      {AmountError::missing_digits, "missing_digits"},
      {AmountError::too_many_fraction_digits, "too_many_fraction_digits"},
      {AmountError::too_many_digits, "too_many_digits"},
      {AmountError::overflow, "overflow"},
      {AmountError::unknown_asset, "unknown_asset"},
  };
  std::vector<std::string_view> messages;
  for (const auto& [code, name] : names) {
    EXPECT_EQ(AmountErrorName(code), name);
    EXPECT_FALSE(AmountErrorMessage(code).empty());
    messages.push_back(AmountErrorMessage(code));
  }
  std::sort(messages.begin(), messages.end());
  EXPECT_EQ(std::adjacent_find(messages.begin(), messages.end()), messages.end());
}

TEST(AmountError, OutOfRangeCodeIsNamedUnknown) {
  EXPECT_EQ(AmountErrorName(static_cast<AmountError>(0)), "unknown");
  EXPECT_EQ(AmountErrorName(static_cast<AmountError>(200)), "unknown");
  EXPECT_EQ(AmountErrorMessage(static_cast<AmountError>(200)), "unknown amount error");
}

// ---------------------------------------------------------------------------------------------
// Checked arithmetic never wraps.

std::string MinorOrNone(const std::optional<Amount>& amount) {
  return amount ? U128ToDecimal(amount->minor()) : "none";
}

TEST(AmountArithmetic, AddsWithinRange) {
  EXPECT_EQ(MinorOrNone(Amount::FromMinor(1234).CheckedAdd(Amount::FromMinor(66))), "1300");
}

TEST(AmountArithmetic, AddsCarryAcrossTheSixtyFourBitBoundary) {
  const Amount low_max = Amount::FromMinor(UINT64_MAX);
  EXPECT_EQ(MinorOrNone(low_max.CheckedAdd(Amount::FromMinor(1))), U128ToDecimal(MakeU128(1, 0)));
}

TEST(AmountArithmetic, AddReachesMaxExactly) {
  EXPECT_EQ(MinorOrNone(Amount::FromMinor(kU128Max - 1).CheckedAdd(Amount::FromMinor(1))),
            kU128MaxDecimal);
  EXPECT_EQ(MinorOrNone(Amount::Max().CheckedAdd(Amount::Zero())), kU128MaxDecimal);
}

TEST(AmountArithmetic, AddOnePastMaxIsRejected) {
  EXPECT_EQ(MinorOrNone(Amount::Max().CheckedAdd(Amount::FromMinor(1))), "none");
}

TEST(AmountArithmetic, AddOfTwoHalvesReachingTwoToThe128IsRejected) {
  const Amount half = Amount::FromMinor(u128{1} << 127);
  EXPECT_EQ(MinorOrNone(half.CheckedAdd(half)), "none");
  EXPECT_EQ(MinorOrNone(half.CheckedAdd(Amount::FromMinor((u128{1} << 127) - 1))), kU128MaxDecimal);
}

TEST(AmountArithmetic, AddMaxToMaxIsRejected) {
  EXPECT_EQ(MinorOrNone(Amount::Max().CheckedAdd(Amount::Max())), "none");
}

TEST(AmountArithmetic, SubtractsWithinRange) {
  EXPECT_EQ(MinorOrNone(Amount::FromMinor(1300).CheckedSub(Amount::FromMinor(66))), "1234");
}

TEST(AmountArithmetic, SubBorrowsAcrossTheSixtyFourBitBoundary) {
  EXPECT_EQ(MinorOrNone(Amount::FromMinor(MakeU128(1, 0)).CheckedSub(Amount::FromMinor(1))),
            U128ToDecimal(UINT64_MAX));
}

TEST(AmountArithmetic, SubReachesZeroExactly) {
  EXPECT_EQ(MinorOrNone(Amount::Max().CheckedSub(Amount::Max())), "0");
  EXPECT_EQ(MinorOrNone(Amount::FromMinor(5).CheckedSub(Amount::FromMinor(5))), "0");
}

TEST(AmountArithmetic, SubBelowZeroIsRejected) {
  EXPECT_EQ(MinorOrNone(Amount::Zero().CheckedSub(Amount::FromMinor(1))), "none");
  EXPECT_EQ(MinorOrNone(Amount::FromMinor(5).CheckedSub(Amount::FromMinor(6))), "none");
  EXPECT_EQ(MinorOrNone(Amount::Zero().CheckedSub(Amount::Max())), "none");
  EXPECT_EQ(MinorOrNone(Amount::FromMinor(kU128Max - 1).CheckedSub(Amount::Max())), "none");
}

// Checked arithmetic is constexpr: these are checked when this file compiles.
static_assert(Amount::FromMinor(2).CheckedAdd(Amount::FromMinor(3))->minor() == 5);
static_assert(!Amount::Max().CheckedAdd(Amount::FromMinor(1)).has_value());
static_assert(!Amount::Zero().CheckedSub(Amount::FromMinor(1)).has_value());

TEST(Amount, DefaultIsZero) {
  EXPECT_TRUE(Amount().is_zero());
  EXPECT_TRUE(Amount() == Amount::Zero());
  EXPECT_FALSE(Amount::FromMinor(1).is_zero());
  EXPECT_FALSE(Amount::Max().is_zero());
}

TEST(Amount, OrdersByFullWidthValue) {
  EXPECT_TRUE(Amount::FromMinor(1) < Amount::FromMinor(2));
  EXPECT_TRUE(Amount::FromMinor(MakeU128(1, 0)) > Amount::FromMinor(MakeU128(0, UINT64_MAX)));
  EXPECT_TRUE(Amount::Max() > Amount::FromMinor(kU128Max - 1));
  EXPECT_TRUE(Amount::FromMinor(7) == Amount::FromMinor(7));
  EXPECT_TRUE(Amount::FromMinor(7) != Amount::FromMinor(MakeU128(1, 7)));
}

// ---------------------------------------------------------------------------------------------
// Formatting.

std::string Format(u128 minor_units, uint8_t scale) {
  return FormatDecimalAmount(Amount::FromMinor(minor_units), scale);
}

TEST(FormatDecimalAmount, PadsSubUnitAmountWithZeros) {
  EXPECT_EQ(Format(5, 2), "0.05");
  EXPECT_EQ(Format(50, 2), "0.50");
  EXPECT_EQ(Format(12, 2), "0.12");
}

TEST(FormatDecimalAmount, PlacesPointBeforeScaleDigits) {
  EXPECT_EQ(Format(1234, 2), "12.34");
  EXPECT_EQ(Format(100, 2), "1.00");
  EXPECT_EQ(Format(123, 3), "0.123");
}

TEST(FormatDecimalAmount, ZeroKeepsAllScaleDigits) {
  EXPECT_EQ(Format(0, 2), "0.00");
  EXPECT_EQ(Format(0, 8), "0.00000000");
}

TEST(FormatDecimalAmount, ScaleZeroHasNoPoint) {
  EXPECT_EQ(Format(0, 0), "0");
  EXPECT_EQ(Format(42, 0), "42");
  EXPECT_EQ(Format(kU128Max, 0), kU128MaxDecimal);
}

TEST(FormatDecimalAmount, ScaleEighteenShowsEveryWei) {
  EXPECT_EQ(Format(1, 18), "0.000000000000000001");
  EXPECT_EQ(Format(Pow10(18), 18), "1.000000000000000000");
  EXPECT_EQ(Format(kU128Max, 18), "340282366920938463463.374607431768211455");
}

TEST(FormatDecimalAmount, MaxScaleKeepsOneWholeDigit) {
  EXPECT_EQ(Format(kU128Max, kAssetScaleMax), "3.40282366920938463463374607431768211455");
  EXPECT_EQ(Format(1, kAssetScaleMax), "0." + std::string(37, '0') + "1");
}

// ---------------------------------------------------------------------------------------------
// Programmer errors: a scale beyond kAssetScaleMax is a bug in the caller, not user input.

TEST(AmountDeathTest, ParseWithScaleAboveMaxAsserts) {
  EXPECT_DEATH((void)ParseDecimalAmount("1", kAssetScaleMax + 1), "assertion failed");
}

TEST(AmountDeathTest, FormatWithScaleAboveMaxAsserts) {
  EXPECT_DEATH((void)FormatDecimalAmount(Amount::FromMinor(1), kAssetScaleMax + 1),
               "assertion failed");
}

// ---------------------------------------------------------------------------------------------
// Randomized properties, checked against a reference model written independently of amount.cc.

// The grammar of docs/amounts.md, spelled out directly: the canonical text (fraction padded to
// `scale` digits) that parsing must produce, or nullopt when parsing must fail.
std::optional<std::string> ReferenceCanonical(std::string_view text, uint8_t scale) {
  const size_t point = text.find('.');
  const std::string whole(text.substr(0, point));
  std::string fraction = point == std::string_view::npos ? "" : std::string(text.substr(point + 1));
  auto all_digits = [](const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!all_digits(whole)) return std::nullopt;
  if (point != std::string_view::npos && !all_digits(fraction)) return std::nullopt;
  if (whole.size() > 1 && whole[0] == '0') return std::nullopt;
  if (fraction.size() > scale) return std::nullopt;
  if (whole.size() + fraction.size() > 39) return std::nullopt;
  fraction.append(scale - fraction.size(), '0');
  std::string digits = whole + fraction;
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
  if (digits.size() > kU128MaxDecimal.size()) return std::nullopt;
  if (digits.size() == kU128MaxDecimal.size() && digits > kU128MaxDecimal) return std::nullopt;
  return scale == 0 ? whole : whole + "." + fraction;
}

TEST(AmountProperty, FormatThenParseIsIdentityAtEveryScale) {
  const uint64_t seed =
      test_support::TestSeed("AmountProperty.FormatThenParseIsIdentityAtEveryScale");
  SCOPED_TRACE(test_support::SeedTrace(seed));
  SeededRandom random(seed);
  for (int i = 0; i < 20000; ++i) {
    const uint8_t scale = static_cast<uint8_t>(random.Uniform(kAssetScaleMax + 1));
    // Random bit length so small, medium and near-max values all occur.
    const u128 bits = MakeU128(random.NextU64(), random.NextU64());
    const u128 value = bits >> random.Uniform(128);
    const std::string text = FormatDecimalAmount(Amount::FromMinor(value), scale);
    ASSERT_EQ(Parsed(text, scale), U128ToDecimal(value)) << text << " scale " << int{scale};
    const size_t point = text.find('.');
    if (scale == 0) {
      ASSERT_EQ(point, std::string::npos) << text;
    } else {
      ASSERT_EQ(text.size() - point - 1, scale) << text;
    }
  }
}

TEST(AmountProperty, ParserAgreesWithReferenceGrammarOnRandomText) {
  const uint64_t seed =
      test_support::TestSeed("AmountProperty.ParserAgreesWithReferenceGrammarOnRandomText");
  SCOPED_TRACE(test_support::SeedTrace(seed));
  SeededRandom random(seed);
  // Mostly digits and points, so that many strings are valid; some hostile bytes.
  static constexpr std::string_view kAlphabet = "0123456789012345678900000..+-e x,\xff";
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    const uint8_t scale = static_cast<uint8_t>(random.Uniform(kAssetScaleMax + 1));
    const size_t length = random.Uniform(45);
    std::string text;
    for (size_t j = 0; j < length; ++j) text += kAlphabet[random.Uniform(kAlphabet.size())];
    if (random.Chance(1, 2) && !text.empty() && text[0] == '0') text[0] = '1';
    const std::optional<std::string> expected = ReferenceCanonical(text, scale);
    const Result<Amount, AmountError> parsed = ParseDecimalAmount(text, scale);
    ASSERT_EQ(parsed.ok(), expected.has_value()) << '"' << text << "\" scale " << int{scale};
    if (parsed.ok()) {
      ++accepted;
      ASSERT_EQ(FormatDecimalAmount(parsed.value(), scale), *expected) << text;
    }
  }
  EXPECT_GT(accepted, 1000);  // the generator really does reach the valid side
}

TEST(AmountProperty, CheckedAddAndSubAgreeWithEachOther) {
  const uint64_t seed = test_support::TestSeed("AmountProperty.CheckedAddAndSubAgreeWithEachOther");
  SCOPED_TRACE(test_support::SeedTrace(seed));
  SeededRandom random(seed);
  for (int i = 0; i < 20000; ++i) {
    const Amount a =
        Amount::FromMinor(MakeU128(random.NextU64(), random.NextU64()) >> random.Uniform(128));
    const Amount b =
        Amount::FromMinor(MakeU128(random.NextU64(), random.NextU64()) >> random.Uniform(128));
    const std::optional<Amount> sum = a.CheckedAdd(b);
    // The sum fits exactly when b <= Max - a.
    ASSERT_EQ(sum.has_value(), b.minor() <= kU128Max - a.minor());
    if (sum) {
      ASSERT_TRUE(sum->CheckedSub(b) == a);
      ASSERT_TRUE(sum->CheckedSub(a) == b);
      ASSERT_TRUE(*sum >= a && *sum >= b);
    }
    ASSERT_EQ(a.CheckedSub(b).has_value(), b <= a);
  }
}

// ---------------------------------------------------------------------------------------------
// unknown_asset comes only from AssetTable::Parse; asset_test.cc covers the table itself.

TEST(ParseAmountInAsset, RejectsUnknownAssetCode) {
  const Result<Amount, AmountError> parsed = AssetTable::Default().Parse("XYZ", "1.00");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(AmountErrorName(parsed.error()), "unknown_asset");
}

// The reference: one u128 division per digit.
std::string SlowDecimal(u128 value) {
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  } while (value != 0);
  return digits;
}

TEST(U128ToDecimal, MatchesDigitByDigitDivisionAtEveryChunkBoundary) {
  const u128 two64 = u128{1} << 64;
  const u128 ten19 = 10'000'000'000'000'000'000ull;
  const std::vector<u128> values = {0,         9,          10,           two64 - 1,
                                    two64,     two64 + 1,  ten19 - 1,    ten19,
                                    ten19 + 1, ten19 * ten19 - 1, ten19 * ten19, ten19 * ten19 * 10,
                                    Pow10(38), ~u128{0},   ~u128{0} - 1, ten19 * 7 + 5};
  for (const u128 v : values) {
    EXPECT_EQ(U128ToDecimal(v), SlowDecimal(v));
    EXPECT_EQ(ParseU128Decimal(U128ToDecimal(v)), v);
  }
  EXPECT_EQ(U128ToDecimal(~u128{0}), "340282366920938463463374607431768211455");
  uint64_t state = 0x9e3779b97f4a7c15ull;  // xorshift: values of every length
  for (int i = 0; i < 2000; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const u128 v = (static_cast<u128>(state) << 64 | state * 0x2545f4914f6cdd1dull) >> (i % 128);
    ASSERT_EQ(U128ToDecimal(v), SlowDecimal(v));
  }
}

}  // namespace
}  // namespace tpw
