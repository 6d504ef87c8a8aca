#include "api/json_text.h"

#include "cli/render.h"
#include "common/assert.h"

namespace tpw::api {

void JsonText::Key(std::string_view key) {
  TPW_ASSERT(depth_ > 0 && is_object_[depth_ - 1] && "a key belongs in an object");
  if (has_member_[depth_ - 1]) out_ += ',';
  has_member_[depth_ - 1] = true;
  cli::AppendJsonString(out_, key);
  out_ += ':';
}

void JsonText::Element() {
  if (depth_ == 0) {
    TPW_ASSERT(!top_written_ && "one value at the top");
    top_written_ = true;
    return;
  }
  TPW_ASSERT(!is_object_[depth_ - 1] && "an object's members need keys");
  if (has_member_[depth_ - 1]) out_ += ',';
  has_member_[depth_ - 1] = true;
}

void JsonText::Open(char bracket, bool is_object) {
  TPW_ASSERT(depth_ < kDepthMax);
  out_ += bracket;
  is_object_[depth_] = is_object;
  has_member_[depth_] = false;
  ++depth_;
}

void JsonText::Close(char bracket, bool is_object) {
  TPW_ASSERT(depth_ > 0 && is_object_[depth_ - 1] == is_object && "unbalanced end");
  --depth_;
  out_ += bracket;
}

JsonText& JsonText::BeginObject() {
  Element();
  Open('{', true);
  return *this;
}

JsonText& JsonText::BeginObject(std::string_view key) {
  Key(key);
  Open('{', true);
  return *this;
}

JsonText& JsonText::EndObject() {
  Close('}', true);
  return *this;
}

JsonText& JsonText::BeginArray() {
  Element();
  Open('[', false);
  return *this;
}

JsonText& JsonText::BeginArray(std::string_view key) {
  Key(key);
  Open('[', false);
  return *this;
}

JsonText& JsonText::EndArray() {
  Close(']', false);
  return *this;
}

JsonText& JsonText::String(std::string_view key, std::string_view value) {
  Key(key);
  cli::AppendJsonString(out_, value);
  return *this;
}

JsonText& JsonText::Unsigned(std::string_view key, uint64_t value) {
  Key(key);
  out_ += std::to_string(value);
  return *this;
}

JsonText& JsonText::Signed(std::string_view key, int64_t value) {
  Key(key);
  out_ += std::to_string(value);
  return *this;
}

JsonText& JsonText::Bool(std::string_view key, bool value) {
  Key(key);
  out_ += value ? "true" : "false";
  return *this;
}

JsonText& JsonText::Null(std::string_view key) {
  Key(key);
  out_ += "null";
  return *this;
}

JsonText& JsonText::DecimalString(std::string_view key, u128 value) {
  Key(key);
  out_ += '"';
  out_ += U128ToDecimal(value);
  out_ += '"';
  return *this;
}

JsonText& JsonText::StringOrNull(std::string_view key, std::string_view value) {
  return value.empty() ? Null(key) : String(key, value);
}

JsonText& JsonText::Raw(std::string_view key, std::string_view json) {
  Key(key);
  out_ += json;
  return *this;
}

JsonText& JsonText::StringElement(std::string_view value) {
  Element();
  cli::AppendJsonString(out_, value);
  return *this;
}

JsonText& JsonText::RawElement(std::string_view json) {
  Element();
  out_ += json;
  return *this;
}

std::string JsonText::Finish() && {
  TPW_ASSERT(depth_ == 0 && top_written_ && "every container closed");
  return std::move(out_);
}

}  // namespace tpw::api
