#include "common/ids.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/clock.h"
#include "common/int128.h"
#include "common/test_seed.h"

namespace tpw {
namespace {

constexpr std::string_view kU128MaxDecimal = "340282366920938463463374607431768211455";

// gtest cannot print u128: a parse outcome is compared as decimal text or "error:<name>".
std::string Parsed(std::string_view text) {
  const Result<u128, IdError> parsed = ParseId(text);
  if (!parsed.ok()) return "error:" + std::string(IdErrorName(parsed.error()));
  return U128ToDecimal(parsed.value());
}

// Strong ids: no implicit conversion between id kinds or from bare integers. Checked at compile
// time.
static_assert(!std::is_convertible_v<AccountId, TransferId>);
static_assert(!std::is_convertible_v<TransferId, AccountId>);
static_assert(!std::is_convertible_v<u128, AccountId>);
static_assert(std::is_constructible_v<AccountId, u128>);

// ---------------------------------------------------------------------------------------------
// Valid ids.

TEST(ParseId, ParsesDecimal) {
  EXPECT_EQ(Parsed("42"), "42");
  EXPECT_EQ(Parsed("1"), "1");
  EXPECT_EQ(Parsed("18446744073709551616"), "18446744073709551616");  // 2^64
}

TEST(ParseId, ParsesReservedZero) {
  EXPECT_EQ(Parsed("0"), "0");
  EXPECT_EQ(Parsed("0x0"), "0");
}

TEST(ParseId, ParsesReservedMaxInDecimal) { EXPECT_EQ(Parsed(kU128MaxDecimal), kU128MaxDecimal); }

TEST(ParseId, ParsesReservedMaxInHex) {
  EXPECT_EQ(Parsed("0x" + std::string(32, 'f')), kU128MaxDecimal);
  EXPECT_EQ(Parsed("0x" + std::string(32, 'F')), kU128MaxDecimal);
}

TEST(ParseId, ParsesLowercaseHex) {
  EXPECT_EQ(Parsed("0x2a"), "42");
  EXPECT_EQ(Parsed("0xabcdef"), "11259375");
}

TEST(ParseId, ParsesUppercaseHexDigits) {
  EXPECT_EQ(Parsed("0x2A"), "42");
  EXPECT_EQ(Parsed("0xABCDEF"), "11259375");
  EXPECT_EQ(Parsed("0xAbCdEf"), "11259375");
}

TEST(ParseId, ParsesUppercaseHexPrefix) {
  EXPECT_EQ(Parsed("0X2a"), "42");
  EXPECT_EQ(Parsed("0X2A"), "42");
}

TEST(ParseId, ParsesThirtyTwoHexDigitsWithLeadingZeros) {
  EXPECT_EQ(Parsed("0x" + std::string(31, '0') + "1"), "1");
  EXPECT_EQ(Parsed("0x" + std::string(32, '0')), "0");
}

TEST(ParseId, ParsesHexAcrossTheSixtyFourBitBoundary) {
  EXPECT_EQ(Parsed("0x10000000000000000"), "18446744073709551616");
  EXPECT_EQ(Parsed("0x1" + std::string(31, '0')), U128ToDecimal(u128{1} << 124));
}

// ParseU128Hex reads two 64-bit halves: a bad digit in either is refused.
TEST(ParseId, RefusesANonHexDigitInEitherSixtyFourBitHalf) {
  EXPECT_EQ(Parsed("0xg" + std::string(31, '0')), "error:invalid_character");
  EXPECT_EQ(Parsed("0x1" + std::string(30, '0') + "g"), "error:invalid_character");
}

// ParseU128Decimal reads the first 19 digits in 64 bits, the rest with checked 128-bit steps.
TEST(ParseId, ParsesDecimalAcrossTheNineteenDigitBoundary) {
  for (const std::string text : {"9999999999999999999", "18446744073709551615",
                                 "18446744073709551616", "99999999999999999999"}) {
    EXPECT_EQ(Parsed(text), text);
  }
}

TEST(ParseId, AcceptsDecimalLeadingZerosWithinThirtyNineDigits) {
  // Accepted, though never produced: FormatId writes "7".
  EXPECT_EQ(Parsed("007"), "7");
  EXPECT_EQ(Parsed(std::string(39, '0')), "0");
  EXPECT_EQ(Parsed(std::string(38, '0') + "1"), "1");
}

// ---------------------------------------------------------------------------------------------
// Invalid and hostile ids. Every IdError is triggered here.

TEST(ParseId, RejectsEmpty) { EXPECT_EQ(Parsed(""), "error:empty"); }

TEST(ParseId, RejectsHexPrefixAlone) {
  EXPECT_EQ(Parsed("0x"), "error:invalid_character");
  EXPECT_EQ(Parsed("0X"), "error:invalid_character");
}

TEST(ParseId, RejectsFortyDecimalDigits) {
  EXPECT_EQ(Parsed("1" + std::string(39, '0')), "error:too_long");
}

TEST(ParseId, RejectsFortyDecimalDigitsEvenWhenAllZeros) {
  EXPECT_EQ(Parsed(std::string(40, '0')), "error:too_long");
}

TEST(ParseId, RejectsVeryLongDecimalWithoutWrapping) {
  EXPECT_EQ(Parsed(std::string(10000, '9')), "error:too_long");
}

TEST(ParseId, RejectsThirtyThreeHexDigits) {
  EXPECT_EQ(Parsed("0x1" + std::string(32, '0')), "error:too_long");
}

TEST(ParseId, RejectsThirtyThreeHexDigitsEvenWhenAllZeros) {
  EXPECT_EQ(Parsed("0x" + std::string(33, '0')), "error:too_long");
}

TEST(ParseId, RejectsOneAboveU128Max) {
  EXPECT_EQ(Parsed("340282366920938463463374607431768211456"), "error:overflow");
}

TEST(ParseId, RejectsLargestThirtyNineDigitNumberAsOverflow) {
  EXPECT_EQ(Parsed(std::string(39, '9')), "error:overflow");
}

TEST(ParseId, RejectsSigns) {
  EXPECT_EQ(Parsed("-1"), "error:invalid_character");
  EXPECT_EQ(Parsed("+1"), "error:invalid_character");
  EXPECT_EQ(Parsed("0x-1"), "error:invalid_character");
  EXPECT_EQ(Parsed("-0x1"), "error:invalid_character");
}

TEST(ParseId, RejectsBlanks) {
  EXPECT_EQ(Parsed(" 1"), "error:invalid_character");
  EXPECT_EQ(Parsed("1 "), "error:invalid_character");
  EXPECT_EQ(Parsed("0x 1"), "error:invalid_character");
  EXPECT_EQ(Parsed("0x1 "), "error:invalid_character");
  EXPECT_EQ(Parsed("1\n"), "error:invalid_character");
}

TEST(ParseId, RejectsDecimalPointAndExponent) {
  EXPECT_EQ(Parsed("1.0"), "error:invalid_character");
  EXPECT_EQ(Parsed("1e3"), "error:invalid_character");
}

TEST(ParseId, RejectsHexDigitsWithoutPrefix) {
  EXPECT_EQ(Parsed("2a"), "error:invalid_character");
  EXPECT_EQ(Parsed("ff"), "error:invalid_character");
  EXPECT_EQ(Parsed("x10"), "error:invalid_character");
}

TEST(ParseId, RejectsNonHexLettersAfterPrefix) {
  EXPECT_EQ(Parsed("0xg"), "error:invalid_character");
  EXPECT_EQ(Parsed("0x2G"), "error:invalid_character");
  EXPECT_EQ(Parsed("0x0x1"), "error:invalid_character");
}

TEST(ParseId, RejectsOtherBasePrefixes) {
  EXPECT_EQ(Parsed("0b101"), "error:invalid_character");
  EXPECT_EQ(Parsed("0o7"), "error:invalid_character");
  EXPECT_EQ(Parsed("10x"), "error:invalid_character");
}

TEST(ParseId, RejectsCharactersAdjacentToHexRangesInAscii) {
  for (std::string_view text : {"0x/", "0x:", "0x@", "0xG", "0x`", "0xg"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(Parsed(text), "error:invalid_character");
  }
}

TEST(ParseId, RejectsUnicodeDigits) {
  EXPECT_EQ(Parsed("\u0661"), "error:invalid_character");        // Arabic-Indic one
  EXPECT_EQ(Parsed("\uFF11\uFF12"), "error:invalid_character");  // full-width 12
  EXPECT_EQ(Parsed("0x\uFF21"), "error:invalid_character");      // full-width A
}

TEST(ParseId, RejectsEmbeddedNul) {
  EXPECT_EQ(Parsed(std::string_view("1\0"
                                    "2",
                                    3)),
            "error:invalid_character");
  EXPECT_EQ(Parsed(std::string_view("0x1\0", 4)), "error:invalid_character");
  EXPECT_EQ(Parsed(std::string_view("\0", 1)), "error:invalid_character");
}

TEST(ParseId, InvalidCharacterWinsOverLengthForDecimal) {
  EXPECT_EQ(Parsed(std::string(50, '1').append("z")), "error:invalid_character");
}

TEST(ParseId, LengthWinsOverInvalidCharacterForHex) {
  EXPECT_EQ(Parsed("0x" + std::string(33, 'z')), "error:too_long");
}

// ---------------------------------------------------------------------------------------------
// Formatting and typed ids.

TEST(FormatId, WritesDecimalWithoutLeadingZeros) {
  EXPECT_EQ(FormatId(u128{42}), "42");
  EXPECT_EQ(FormatId(u128{0}), "0");
  EXPECT_EQ(FormatId(kU128Max), kU128MaxDecimal);
}

TEST(FormatId, HexInputComesBackAsDecimal) {
  const Result<u128, IdError> parsed = ParseId("0x2A");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(FormatId(parsed.value()), "42");
}

TEST(FormatId, FormatsTypedIdLikeItsValue) {
  EXPECT_EQ(FormatId(AccountId(MakeU128(1, 0))), "18446744073709551616");
  EXPECT_EQ(FormatId(TransferId(7)), "7");
}

TEST(ParseIdAs, ReturnsTypedId) {
  const Result<AccountId, IdError> parsed = ParseIdAs<AccountIdTag>("0x2a");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed.value() == AccountId(42));
}

TEST(ParseIdAs, PassesErrorsThrough) {
  const Result<TransferId, IdError> parsed = ParseIdAs<TransferIdTag>("0x");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(IdErrorName(parsed.error()), "invalid_character");
  const Result<TransferId, IdError> overflowed =
      ParseIdAs<TransferIdTag>("340282366920938463463374607431768211456");
  ASSERT_FALSE(overflowed.ok());
  EXPECT_EQ(IdErrorName(overflowed.error()), "overflow");
}

TEST(Id128, DefaultIsZero) {
  EXPECT_TRUE(AccountId().is_zero());
  EXPECT_FALSE(AccountId().is_max());
}

TEST(Id128, RecognisesReservedValues) {
  EXPECT_TRUE(AccountId(0).is_zero());
  EXPECT_TRUE(AccountId(kU128Max).is_max());
  EXPECT_FALSE(AccountId(kU128Max).is_zero());
  EXPECT_FALSE(AccountId(1).is_zero());
  EXPECT_FALSE(AccountId(kU128Max - 1).is_max());
  EXPECT_FALSE(AccountId(UINT64_MAX).is_max());
}

TEST(Id128, OrdersByFullWidthValue) {
  EXPECT_TRUE(AccountId(MakeU128(1, 0)) > AccountId(MakeU128(0, UINT64_MAX)));
  EXPECT_TRUE(AccountId(1) < AccountId(2));
  EXPECT_TRUE(AccountId(5) == AccountId(5));
  EXPECT_TRUE(AccountId(5) != AccountId(MakeU128(1, 5)));
}

TEST(Timestamp, OrdersByNanoseconds) {
  EXPECT_TRUE(Timestamp{1} < Timestamp{2});
  EXPECT_TRUE(Timestamp{UINT64_MAX} > Timestamp{0});
  EXPECT_TRUE(Timestamp{} == Timestamp{0});
}

TEST(IdError, NumericValuesAreStable) {
  EXPECT_EQ(static_cast<int>(IdError::empty), 1);
  EXPECT_EQ(static_cast<int>(IdError::invalid_character), 2);
  EXPECT_EQ(static_cast<int>(IdError::too_long), 3);
  EXPECT_EQ(static_cast<int>(IdError::overflow), 4);
}

TEST(IdError, EveryCodeHasItsOwnNameAndMessage) {
  EXPECT_EQ(IdErrorName(IdError::empty), "empty");
  EXPECT_EQ(IdErrorName(IdError::invalid_character), "invalid_character");
  EXPECT_EQ(IdErrorName(IdError::too_long), "too_long");
  EXPECT_EQ(IdErrorName(IdError::overflow), "overflow");
  EXPECT_EQ(IdErrorName(static_cast<IdError>(0)), "unknown");
  const std::string_view messages[] = {
      IdErrorMessage(IdError::empty), IdErrorMessage(IdError::invalid_character),
      IdErrorMessage(IdError::too_long), IdErrorMessage(IdError::overflow)};
  for (size_t i = 0; i < std::size(messages); ++i) {
    EXPECT_FALSE(messages[i].empty());
    for (size_t j = i + 1; j < std::size(messages); ++j) EXPECT_NE(messages[i], messages[j]);
  }
  EXPECT_EQ(IdErrorMessage(static_cast<IdError>(0)), "unknown id error");
}

// ---------------------------------------------------------------------------------------------
// The u128 text helpers under ParseId and FormatId.

TEST(U128Text, DecimalOfZeroAndMax) {
  EXPECT_EQ(U128ToDecimal(0), "0");
  EXPECT_EQ(U128ToDecimal(kU128Max), kU128MaxDecimal);
  EXPECT_EQ(U128ToDecimal(MakeU128(1, 0)), "18446744073709551616");
}

TEST(U128Text, ParseDecimalAcceptsLeadingZerosAndMax) {
  EXPECT_EQ(U128ToDecimal(ParseU128Decimal("0042").value_or(7)), "42");
  EXPECT_TRUE(ParseU128Decimal(kU128MaxDecimal) == kU128Max);
}

TEST(U128Text, ParseDecimalRejectsEmptyLongOverflowAndNonDigits) {
  EXPECT_FALSE(ParseU128Decimal("").has_value());
  EXPECT_FALSE(ParseU128Decimal(std::string(40, '0')).has_value());
  EXPECT_FALSE(ParseU128Decimal("340282366920938463463374607431768211456").has_value());
  EXPECT_FALSE(ParseU128Decimal("12a").has_value());
  EXPECT_FALSE(ParseU128Decimal("-1").has_value());
}

TEST(U128Text, HexIsThirtyTwoLowercaseZeroPaddedDigits) {
  EXPECT_EQ(U128ToHex(0), std::string(32, '0'));
  EXPECT_EQ(U128ToHex(42), std::string(30, '0') + "2a");
  EXPECT_EQ(U128ToHex(kU128Max), std::string(32, 'f'));
  EXPECT_EQ(U128ToHex(MakeU128(0x0123456789abcdefULL, 0xfedcba9876543210ULL)),
            "0123456789abcdeffedcba9876543210");
}

TEST(U128Text, ParseHexTakesNoPrefix) {
  EXPECT_TRUE(ParseU128Hex("2A") == u128{42});
  EXPECT_FALSE(ParseU128Hex("0x2a").has_value());
}

TEST(U128Text, ParseHexRejectsEmptyLongAndNonHex) {
  EXPECT_FALSE(ParseU128Hex("").has_value());
  EXPECT_FALSE(ParseU128Hex(std::string(33, '0')).has_value());
  EXPECT_FALSE(ParseU128Hex("g").has_value());
  EXPECT_FALSE(ParseU128Hex(" 1").has_value());
}

TEST(U128Text, HalvesSplitAndJoin) {
  const u128 value = MakeU128(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  EXPECT_EQ(High64(value), 0x0123456789abcdefULL);
  EXPECT_EQ(Low64(value), 0xfedcba9876543210ULL);
  EXPECT_TRUE(MakeU128(High64(kU128Max), Low64(kU128Max)) == kU128Max);
}

// ---------------------------------------------------------------------------------------------
// Randomized round trips.

TEST(IdProperty, DecimalAndHexTextRoundTrip) {
  const uint64_t seed = test_support::TestSeed("IdProperty.DecimalAndHexTextRoundTrip");
  SCOPED_TRACE(test_support::SeedTrace(seed));
  SeededRandom random(seed);
  for (int i = 0; i < 20000; ++i) {
    const u128 id = MakeU128(random.NextU64(), random.NextU64()) >> random.Uniform(128);
    const std::string decimal = FormatId(id);
    ASSERT_EQ(Parsed(decimal), decimal);
    ASSERT_TRUE(decimal.size() == 1 || decimal[0] != '0') << decimal;

    std::string hex = U128ToHex(id);
    ASSERT_EQ(Parsed("0x" + hex), decimal) << hex;
    // Strip a random number of leading zeros (keep at least one digit) and mix the case.
    const size_t first_nonzero = std::min(hex.find_first_not_of('0'), hex.size() - 1);
    hex.erase(0, random.Uniform(first_nonzero + 1));
    for (char& c : hex) {
      if (random.Chance(1, 2)) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    ASSERT_EQ(Parsed((random.Chance(1, 2) ? "0x" : "0X") + hex), decimal) << hex;
  }
}

}  // namespace
}  // namespace tpw
