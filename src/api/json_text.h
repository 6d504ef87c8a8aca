// JSON written straight to text, field by field, without building a boost::json tree first: the
// payment endpoints answer every request with a whole payment (~1.7 KiB), and a tree costs
// several allocations per field. Output is compact and escaped as boost::json::serialize
// escapes (cli::AppendJsonString), so a client cannot tell the two apart.
//
// Written into a buffer grown geometrically and filled through a pointer, numbers, amounts and
// times formatted in place: no allocation per field (a payment's ~90 fields cost ~1 us instead
// of ~7 us with std::string appends and temporary strings). json_text_test checks every
// primitive byte for byte against the reference formatters (AppendJsonString, U128ToDecimal,
// FormatDecimalAmount, FormatMsUtc).
//
// Usage is checked by assertions (a key inside an array, a value without a key in an object,
// unbalanced ends, nesting deeper than kDepthMax): those are programmer errors.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/int128.h"

namespace tpw::api {

class JsonText {
 public:
  // Nesting a rendered record may have (payment → refunds → split reversals is 3).
  static constexpr size_t kDepthMax = 8;

  explicit JsonText(size_t reserve = 1024) { out_.resize(reserve); }

  // Containers: as a value (in an array or at the top) or as the value of `key`.
  JsonText& BeginObject();
  JsonText& BeginObject(std::string_view key);
  JsonText& EndObject();
  JsonText& BeginArray();
  JsonText& BeginArray(std::string_view key);
  JsonText& EndArray();

  // Members of the current object.
  JsonText& String(std::string_view key, std::string_view value);
  JsonText& Unsigned(std::string_view key, uint64_t value);
  JsonText& Signed(std::string_view key, int64_t value);
  JsonText& Bool(std::string_view key, bool value);
  JsonText& Null(std::string_view key);
  // `value` as a decimal string ("123"): 64/128-bit numbers travel as strings.
  JsonText& DecimalString(std::string_view key, u128 value);
  // A string, or null when `value` is empty.
  JsonText& StringOrNull(std::string_view key, std::string_view value);
  // `key`: the exact decimal of `minor` at `scale` ("12.34", FormatDecimalAmount), then
  // `key`_minor: the minor units as a decimal string ("1234").
  JsonText& AmountPair(std::string_view key, u128 minor, uint8_t scale);
  // `key`: ms since 1970 as a string, `key`_time: RFC 3339 UTC with milliseconds (FormatMsUtc);
  // both null when `ms` is 0.
  JsonText& TimePair(std::string_view key, uint64_t ms);
  // Pre-rendered JSON (a nested record) as the value of `key`.
  JsonText& Raw(std::string_view key, std::string_view json);

  // Elements of the current array.
  JsonText& StringElement(std::string_view value);
  JsonText& RawElement(std::string_view json);

  // The text; every container must be closed.
  std::string Finish() &&;

 private:
  // Room for `bytes` more characters; returns where they go (advance with Advance).
  char* Room(size_t bytes) {
    if (out_.size() - size_ < bytes) Grow(bytes);
    return out_.data() + size_;
  }
  void Grow(size_t bytes);
  void Advance(char* end) { size_ = static_cast<size_t>(end - out_.data()); }
  void Put(std::string_view text);
  void PutChar(char c) { *Room(1) = c; ++size_; }
  void PutQuoted(std::string_view text);  // a JSON string, escaped
  void PutDecimal(u128 value);            // digits only
  void Key(std::string_view key, std::string_view suffix = {});
  void Element();
  void Open(char bracket, bool is_object);
  void Close(char bracket, bool is_object);

  std::string out_;  // out_[0, size_) is the text; the rest is room
  size_t size_ = 0;
  // Per open container: is it an object, and has it a member yet.
  std::array<bool, kDepthMax> is_object_{};
  std::array<bool, kDepthMax> has_member_{};
  size_t depth_ = 0;
  bool top_written_ = false;
};

}  // namespace tpw::api
