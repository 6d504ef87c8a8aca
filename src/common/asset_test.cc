#include "common/asset.h"

#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <string_view>

#include "common/int128.h"
#include "common/limits.h"

namespace tpw {
namespace {

std::string StatusName(const Status<AssetError>& status) {
  return status.ok() ? "ok" : std::string(AssetErrorName(status.error()));
}

std::string ParsedIn(const AssetTable& table, std::string_view code, std::string_view text) {
  const Result<Amount, AmountError> parsed = table.Parse(code, text);
  if (!parsed.ok()) return "error:" + std::string(AmountErrorName(parsed.error()));
  return U128ToDecimal(parsed.value().minor());
}

// A table with one asset in it, to test Add against.
AssetTable OneAssetTable() {
  AssetTable table;
  const Status<AssetError> added = table.Add({1, "USD", 2});
  EXPECT_TRUE(added.ok());
  return table;
}

// ---------------------------------------------------------------------------------------------
// The default table.

TEST(AssetTable, DefaultHoldsTheNineBuiltInAssetsInLedgerOrder) {
  struct Expected {
    uint32_t ledger;
    std::string_view code;
    int scale;
  };
  const Expected expected[] = {
      {1, "USD", 2}, {2, "EUR", 2}, {3, "GBP", 2},  {4, "JPY", 0}, {5, "CHF", 2},
      {6, "CNY", 2}, {7, "BTC", 8}, {8, "ETH", 18}, {9, "PTS", 0},
  };
  const AssetTable table = AssetTable::Default();
  ASSERT_EQ(table.assets().size(), std::size(expected));
  for (size_t i = 0; i < std::size(expected); ++i) {
    SCOPED_TRACE(expected[i].code);
    EXPECT_EQ(table.assets()[i].ledger, expected[i].ledger);
    EXPECT_EQ(table.assets()[i].code, expected[i].code);
    EXPECT_EQ(int{table.assets()[i].scale}, expected[i].scale);
  }
}

TEST(AssetTable, FindsDefaultAssetByCode) {
  const AssetTable table = AssetTable::Default();
  const Asset* eth = table.FindByCode("ETH");
  ASSERT_NE(eth, nullptr);
  EXPECT_EQ(eth->ledger, 8u);
  EXPECT_EQ(int{eth->scale}, 18);
}

TEST(AssetTable, FindsDefaultAssetByLedger) {
  const AssetTable table = AssetTable::Default();
  const Asset* jpy = table.FindByLedger(4);
  ASSERT_NE(jpy, nullptr);
  EXPECT_EQ(jpy->code, "JPY");
  EXPECT_EQ(int{jpy->scale}, 0);
}

TEST(AssetTable, FindByCodeIsCaseSensitive) {
  const AssetTable table = AssetTable::Default();
  EXPECT_EQ(table.FindByCode("usd"), nullptr);
  EXPECT_EQ(table.FindByCode("Usd"), nullptr);
}

TEST(AssetTable, FindByCodeReturnsNullForUnknownOrMalformedCodes) {
  const AssetTable table = AssetTable::Default();
  EXPECT_EQ(table.FindByCode("XYZ"), nullptr);
  EXPECT_EQ(table.FindByCode(""), nullptr);
  EXPECT_EQ(table.FindByCode("USD "), nullptr);
  EXPECT_EQ(table.FindByCode("US"), nullptr);
  EXPECT_EQ(table.FindByCode(std::string_view("USD\0", 4)), nullptr);
}

TEST(AssetTable, FindByLedgerReturnsNullForUnknownLedger) {
  const AssetTable table = AssetTable::Default();
  EXPECT_EQ(table.FindByLedger(0), nullptr);
  EXPECT_EQ(table.FindByLedger(10), nullptr);
  EXPECT_EQ(table.FindByLedger(UINT32_MAX), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Parsing amounts in an asset.

TEST(AssetTable, ParsesUsdAtTwoDecimals) {
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "USD", "12.34"), "1234");
}

TEST(AssetTable, ParsesJpyAsWholeYen) {
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "JPY", "1000"), "1000");
}

TEST(AssetTable, ParsesOneEthAsTenToTheEighteenWei) {
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "ETH", "1"), "1000000000000000000");
}

TEST(AssetTable, ParsesOneSatoshi) {
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "BTC", "0.00000001"), "1");
}

TEST(AssetTable, RejectsFractionalYen) {
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "JPY", "1.5"), "error:too_many_fraction_digits");
}

TEST(AssetTable, RejectsThreeDecimalsForUsd) {
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "USD", "1.234"), "error:too_many_fraction_digits");
}

TEST(AssetTable, RejectsNineDecimalsForBtc) {
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "BTC", "0.000000001"),
            "error:too_many_fraction_digits");
}

TEST(AssetTable, PassesTextErrorsThrough) {
  const AssetTable table = AssetTable::Default();
  EXPECT_EQ(ParsedIn(table, "USD", ""), "error:empty");
  EXPECT_EQ(ParsedIn(table, "USD", "-1"), "error:invalid_character");
  EXPECT_EQ(ParsedIn(table, "EUR", "007"), "error:leading_zero");
}

TEST(AssetTable, RejectsAmountInUnknownAsset) {
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "XYZ", "1"), "error:unknown_asset");
}

TEST(AssetTable, RejectsAmountInLowercaseAssetCode) {
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "usd", "1"), "error:unknown_asset");
}

TEST(AssetTable, RejectsAmountWithEmptyAssetCode) {
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "", "1"), "error:unknown_asset");
}

TEST(AssetTable, ReportsUnknownAssetBeforeLookingAtTheText) {
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "XYZ", ""), "error:unknown_asset");
  EXPECT_EQ(ParsedIn(AssetTable::Default(), "XYZ", "1.2.3"), "error:unknown_asset");
}

TEST(AssetTable, EmptyTableKnowsNoAsset) {
  const AssetTable table;
  EXPECT_TRUE(table.assets().empty());
  EXPECT_EQ(table.FindByLedger(1), nullptr);
  EXPECT_EQ(ParsedIn(table, "USD", "1.00"), "error:unknown_asset");
}

// ---------------------------------------------------------------------------------------------
// Adding assets: one valid case per rule edge, and every AssetError.

TEST(AssetTable, AddsNewAssetAndParsesAmountsInIt) {
  AssetTable table = AssetTable::Default();
  EXPECT_EQ(StatusName(table.Add({100, "SGD", 2})), "ok");
  ASSERT_NE(table.FindByCode("SGD"), nullptr);
  EXPECT_EQ(table.FindByLedger(100)->code, "SGD");
  EXPECT_EQ(table.assets().size(), 10u);
  EXPECT_EQ(ParsedIn(table, "SGD", "2.50"), "250");
}

TEST(AssetTable, AcceptsCodeOfTwelveCharacters) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({2, "ABCDEFGHIJKL", 2})), "ok");
}

TEST(AssetTable, AcceptsCodeWithDigitsAndUnderscore) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({2, "USD_2", 2})), "ok");
  EXPECT_EQ(StatusName(table.Add({3, "0", 0})), "ok");
  EXPECT_EQ(StatusName(table.Add({4, "_", 0})), "ok");
}

TEST(AssetTable, AcceptsScaleAtTheMaximum) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({2, "FINE", kAssetScaleMax})), "ok");
  EXPECT_EQ(ParsedIn(table, "FINE", "3.40282366920938463463374607431768211455"),
            U128ToDecimal(kU128Max));
}

TEST(AssetTable, AcceptsHighestLedgerNumber) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({UINT32_MAX, "TOP", 0})), "ok");
  EXPECT_NE(table.FindByLedger(UINT32_MAX), nullptr);
}

TEST(AssetTable, RejectsLedgerZero) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({0, "NEW", 2})), "ledger_must_not_be_zero");
}

TEST(AssetTable, RejectsEmptyCode) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({2, "", 2})), "code_invalid");
}

TEST(AssetTable, RejectsCodeOfThirteenCharacters) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({2, "ABCDEFGHIJKLM", 2})), "code_invalid");
}

TEST(AssetTable, RejectsLowercaseCode) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({2, "eur", 2})), "code_invalid");
  EXPECT_EQ(StatusName(table.Add({2, "Eur", 2})), "code_invalid");
}

TEST(AssetTable, RejectsCodeWithPunctuationOrBlanks) {
  AssetTable table = OneAssetTable();
  for (std::string_view code : {"US-D", "US D", " EUR", "EUR ", "E.U", "E/U", "E@U", "E[U"}) {
    SCOPED_TRACE(code);
    EXPECT_EQ(StatusName(table.Add({2, std::string(code), 2})), "code_invalid");
  }
}

TEST(AssetTable, RejectsCodeWithNonAsciiOrNulBytes) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({2, "\u00C9UR", 2})), "code_invalid");  // ÉUR
  EXPECT_EQ(StatusName(table.Add({2, std::string("EU\0R", 4), 2})), "code_invalid");
  EXPECT_EQ(StatusName(table.Add({2, "\xff", 2})), "code_invalid");
}

TEST(AssetTable, RejectsScaleAboveMaximum) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({2, "TOOFINE", kAssetScaleMax + 1})), "scale_too_large");
  EXPECT_EQ(StatusName(table.Add({2, "TOOFINE", 255})), "scale_too_large");
}

TEST(AssetTable, RejectsDuplicateLedger) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({1, "EUR", 2})), "ledger_exists");
}

TEST(AssetTable, RejectsDuplicateCode) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({2, "USD", 0})), "code_exists");
}

TEST(AssetTable, RejectsAssetBeyondTheTableLimit) {
  AssetTable table;
  for (size_t i = 0; i < kAssetsMax; ++i) {
    const Status<AssetError> added =
        table.Add({static_cast<uint32_t>(i + 1), "A" + std::to_string(i), 0});
    ASSERT_TRUE(added.ok()) << i;
  }
  EXPECT_EQ(table.assets().size(), kAssetsMax);
  EXPECT_EQ(StatusName(table.Add({100000, "ONEMORE", 0})), "too_many_assets");
  EXPECT_EQ(table.assets().size(), kAssetsMax);
}

TEST(AssetTable, RejectedAddLeavesTableUnchanged) {
  AssetTable table = AssetTable::Default();
  EXPECT_FALSE(table.Add({0, "NEW", 2}).ok());
  EXPECT_FALSE(table.Add({100, "bad", 2}).ok());
  EXPECT_FALSE(table.Add({100, "NEW", 39}).ok());
  EXPECT_FALSE(table.Add({1, "NEW", 2}).ok());
  EXPECT_FALSE(table.Add({100, "USD", 2}).ok());
  EXPECT_EQ(table.assets().size(), 9u);
  EXPECT_EQ(table.FindByCode("NEW"), nullptr);
  EXPECT_EQ(table.FindByLedger(100), nullptr);
  EXPECT_EQ(table.FindByLedger(1)->code, "USD");
  EXPECT_EQ(int{table.FindByCode("USD")->scale}, 2);
}

TEST(AssetTable, ChecksLedgerBeforeCodeBeforeScale) {
  AssetTable table = OneAssetTable();
  EXPECT_EQ(StatusName(table.Add({0, "bad", 99})), "ledger_must_not_be_zero");
  EXPECT_EQ(StatusName(table.Add({2, "bad", 99})), "code_invalid");
  EXPECT_EQ(StatusName(table.Add({1, "USD", 99})), "scale_too_large");
  EXPECT_EQ(StatusName(table.Add({1, "USD", 2})), "ledger_exists");
}

TEST(AssetError, NumericValuesAreStable) {
  EXPECT_EQ(static_cast<int>(AssetError::ledger_must_not_be_zero), 1);
  EXPECT_EQ(static_cast<int>(AssetError::code_invalid), 2);
  EXPECT_EQ(static_cast<int>(AssetError::scale_too_large), 3);
  EXPECT_EQ(static_cast<int>(AssetError::ledger_exists), 4);
  EXPECT_EQ(static_cast<int>(AssetError::code_exists), 5);
  EXPECT_EQ(static_cast<int>(AssetError::too_many_assets), 6);
}

TEST(AssetError, EveryCodeHasItsOwnName) {
  EXPECT_EQ(AssetErrorName(AssetError::ledger_must_not_be_zero), "ledger_must_not_be_zero");
  EXPECT_EQ(AssetErrorName(AssetError::code_invalid), "code_invalid");
  EXPECT_EQ(AssetErrorName(AssetError::scale_too_large), "scale_too_large");
  EXPECT_EQ(AssetErrorName(AssetError::ledger_exists), "ledger_exists");
  EXPECT_EQ(AssetErrorName(AssetError::code_exists), "code_exists");
  EXPECT_EQ(AssetErrorName(AssetError::too_many_assets), "too_many_assets");
  EXPECT_EQ(AssetErrorName(static_cast<AssetError>(0)), "unknown");
}

}  // namespace
}  // namespace tpw
