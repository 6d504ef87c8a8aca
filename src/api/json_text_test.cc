// JsonText writes numbers, amounts, times and strings in place for speed (json_text.h): each
// primitive must be byte for byte what the reference formatters write (AppendJsonString, the
// escaping boost::json::serialize does; U128ToDecimal; FormatDecimalAmount; FormatMsUtc), so a
// client cannot tell them apart from the tree rendering they replaced.
#include "api/json_text.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cli/offline_values.h"
#include "cli/render.h"
#include "common/amount.h"
#include "common/limits.h"

namespace tpw::api {
namespace {

// {"<key>":<value>} as the reference formatters write it.
std::string Member(std::string_view key, std::string_view value_json) {
  std::string out = "{";
  cli::AppendJsonString(out, key);
  out += ':';
  out += value_json;
  out += '}';
  return out;
}

std::string Quoted(std::string_view text) {
  std::string out;
  cli::AppendJsonString(out, text);
  return out;
}

std::vector<u128> SampleValues() {
  std::vector<u128> values = {0, 1, 9, 10, 99, 100, 4999, UINT64_MAX, u128{UINT64_MAX} + 1,
                              ~u128{0}, ~u128{0} - 1};
  u128 power = 1;
  for (int i = 0; i < 38; ++i) {
    power *= 10;
    values.push_back(power - 1);
    values.push_back(power);
    values.push_back(power + 1);
  }
  std::mt19937_64 rng(20261124);
  for (int i = 0; i < 200; ++i) {
    values.push_back(MakeU128(rng() >> (rng() % 64), rng()));
    values.push_back(rng() >> (rng() % 64));
  }
  return values;
}

TEST(JsonText, StringsAndKeysAreEscapedAsAppendJsonString) {
  std::vector<std::string> texts = {"", "plain", "with \"quotes\" and \\", "tab\tnew\nline"};
  for (int byte = 0; byte < 256; ++byte) texts.push_back(std::string(1, static_cast<char>(byte)));
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    std::string text(rng() % 40, ' ');
    for (char& c : text) c = static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 'a' + rng() % 26);
    texts.push_back(text);
  }
  for (const std::string& text : texts) {
    JsonText out(1);
    out.BeginObject().String(text, text).EndObject();
    ASSERT_EQ(std::move(out).Finish(), Member(text, Quoted(text))) << Quoted(text);
    JsonText array(1);
    array.BeginArray().StringElement(text).EndArray();
    ASSERT_EQ(std::move(array).Finish(), "[" + Quoted(text) + "]");
  }
}

TEST(JsonText, NumbersAreTheReferenceDecimals) {
  for (const u128 value : SampleValues()) {
    JsonText out(1);
    out.BeginObject().DecimalString("v", value).EndObject();
    ASSERT_EQ(std::move(out).Finish(), Member("v", "\"" + U128ToDecimal(value) + "\""));
  }
  for (const uint64_t value : {uint64_t{0}, uint64_t{7}, uint64_t{1} << 40, UINT64_MAX}) {
    JsonText out(1);
    out.BeginObject().Unsigned("v", value).EndObject();
    EXPECT_EQ(std::move(out).Finish(), Member("v", std::to_string(value)));
  }
  for (const int64_t value : {int64_t{0}, int64_t{-1}, INT64_MIN, INT64_MAX, int64_t{-12345}}) {
    JsonText out(1);
    out.BeginObject().Signed("v", value).EndObject();
    EXPECT_EQ(std::move(out).Finish(), Member("v", std::to_string(value)));
  }
}

TEST(JsonText, AmountPairIsFormatDecimalAmountThenMinorUnits) {
  for (const u128 minor : SampleValues()) {
    for (uint8_t scale = 0; scale <= kAssetScaleMax; ++scale) {
      JsonText out(1);
      out.BeginObject().AmountPair("amount", minor, scale).EndObject();
      const std::string expected =
          "{\"amount\":" + Quoted(FormatDecimalAmount(Amount::FromMinor(minor), scale)) +
          ",\"amount_minor\":\"" + U128ToDecimal(minor) + "\"}";
      ASSERT_EQ(std::move(out).Finish(), expected) << U128ToDecimal(minor) << " scale " << +scale;
    }
  }
}

TEST(JsonText, TimePairIsMillisecondsThenFormatMsUtc) {
  constexpr uint64_t kMsMax = UINT64_MAX / 1'000'000;  // FormatMsUtc's last date
  std::vector<uint64_t> times = {1,         999,           1000,          86'399'999,
                                 86'400'000, 951'782'400'000 /* 2000-02-29 */,
                                 1'700'000'000'123, 1'700'604'800'000, kMsMax - 1, kMsMax,
                                 kMsMax + 1, UINT64_MAX};
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) times.push_back(rng() % kMsMax + 1);
  for (const uint64_t ms : times) {
    JsonText out(1);
    out.BeginObject().TimePair("created", ms).EndObject();
    const std::string expected = "{\"created\":\"" + std::to_string(ms) +
                                 "\",\"created_time\":" + Quoted(cli::FormatMsUtc(ms)) + "}";
    ASSERT_EQ(std::move(out).Finish(), expected) << ms;
  }
  JsonText zero;
  zero.BeginObject().TimePair("created", 0).EndObject();
  EXPECT_EQ(std::move(zero).Finish(), "{\"created\":null,\"created_time\":null}");
}

TEST(JsonText, TextIsTheSameWhateverTheInitialReserve) {
  const auto render = [](size_t reserve) {
    JsonText out(reserve);
    out.BeginObject().String("object", "payment").BeginArray("list");
    for (int i = 0; i < 100; ++i) out.StringElement(std::string(static_cast<size_t>(i), 'x'));
    out.EndArray().AmountPair("amount", 123456789, 2).TimePair("at", 1'700'000'000'123);
    out.Raw("raw", "{\"a\":1}").Bool("yes", true).Null("none").EndObject();
    return std::move(out).Finish();
  };
  const std::string big = render(1 << 16);
  EXPECT_EQ(render(1), big);
  EXPECT_EQ(render(0), big);
  EXPECT_EQ(render(37), big);
}

}  // namespace
}  // namespace tpw::api
