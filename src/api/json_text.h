// JSON written straight to text, field by field, without building a boost::json tree first: the
// payment endpoints answer every request with a whole payment (~1.5 KiB), and a tree costs
// several allocations per field. Output is compact and escaped as boost::json::serialize
// escapes (cli::AppendJsonString), so a client cannot tell the two apart.
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

  explicit JsonText(size_t reserve = 1024) { out_.reserve(reserve); }

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
  // Pre-rendered JSON (a nested record) as the value of `key`.
  JsonText& Raw(std::string_view key, std::string_view json);

  // Elements of the current array.
  JsonText& StringElement(std::string_view value);
  JsonText& RawElement(std::string_view json);

  // The text; every container must be closed.
  std::string Finish() &&;

 private:
  void Key(std::string_view key);
  void Element();
  void Open(char bracket, bool is_object);
  void Close(char bracket, bool is_object);

  std::string out_;
  // Per open container: is it an object, and has it a member yet.
  std::array<bool, kDepthMax> is_object_{};
  std::array<bool, kDepthMax> has_member_{};
  size_t depth_ = 0;
  bool top_written_ = false;
};

}  // namespace tpw::api
