#include "api/json_text.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "cli/offline_values.h"
#include "cli/render.h"
#include "common/assert.h"
#include "common/limits.h"

namespace tpw::api {
namespace {

// Whether a JSON string must escape some byte: control characters, '"' and '\\'
// (cli::AppendJsonString escapes exactly these).
// Without an early exit, so the compiler may check many bytes at once: texts are short.
bool NeedsEscape(std::string_view text) {
  bool escape = false;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    escape |= (byte < 0x20) | (byte == '"') | (byte == '\\');
  }
  return escape;
}

// The decimal digits of `value`, written backwards ending at `end`; returns the first digit.
// As U128ToDecimal: 64-bit arithmetic below 2^64, 19 digits per u128 division above.
char* DecimalDigits(u128 value, char* end) {
  char* p = end;
  constexpr uint64_t kTen19 = 10'000'000'000'000'000'000ull;
  while (value > UINT64_MAX) {
    uint64_t chunk = static_cast<uint64_t>(value % kTen19);
    value /= kTen19;
    for (int i = 0; i < 19; ++i, chunk /= 10) *--p = static_cast<char>('0' + chunk % 10);
  }
  auto low = static_cast<uint64_t>(value);
  do {
    *--p = static_cast<char>('0' + low % 10);
    low /= 10;
  } while (low != 0);
  return p;
}

constexpr uint64_t kMsPerDay = 86'400'000;
constexpr uint64_t kTimeMsMax = UINT64_MAX / 1'000'000;  // FormatMsUtc's range of dates

// "YYYY-MM-DD" of day `day` since 1970. A response's dates fall on a few days (created,
// updated, the hold's expiry a week later), so a few are kept per thread, one slot per day
// modulo 4, and FormatMsUtc is asked only for a day not kept.
const char* DateText(uint64_t day) {
  struct Slot {
    uint64_t day = UINT64_MAX;
    std::array<char, 10> date{};
  };
  thread_local std::array<Slot, 4> slots;
  Slot& slot = slots[day % slots.size()];
  if (slot.day != day) {
    const std::string text = cli::FormatMsUtc(day * kMsPerDay);
    TPW_ASSERT(text.size() == 24);
    std::memcpy(slot.date.data(), text.data(), slot.date.size());
    slot.day = day;
  }
  return slot.date.data();
}

// Two decimal digits of `value` (< 100) at `p`.
char* TwoDigits(char* p, uint64_t value) {
  p[0] = static_cast<char>('0' + value / 10);
  p[1] = static_cast<char>('0' + value % 10);
  return p + 2;
}

}  // namespace

void JsonText::Grow(size_t bytes) { out_.resize(std::max(out_.size() * 2, size_ + bytes)); }

void JsonText::Put(std::string_view text) {
  std::memcpy(Room(text.size()), text.data(), text.size());
  size_ += text.size();
}

void JsonText::PutQuoted(std::string_view text) {
  if (NeedsEscape(text)) {  // rare (ids, names and amounts never need it): the reference path
    std::string escaped;
    cli::AppendJsonString(escaped, text);
    Put(escaped);
    return;
  }
  char* p = Room(text.size() + 2);
  *p++ = '"';
  std::memcpy(p, text.data(), text.size());
  p += text.size();
  *p++ = '"';
  Advance(p);
}

void JsonText::PutDecimal(u128 value) {
  char digits[kU128DecimalDigitsMax];
  char* const end = digits + sizeof digits;
  const char* const first = DecimalDigits(value, end);
  Put({first, static_cast<size_t>(end - first)});
}

void JsonText::Key(std::string_view key, std::string_view suffix) {
  TPW_ASSERT(depth_ > 0 && is_object_[depth_ - 1] && "a key belongs in an object");
  if (has_member_[depth_ - 1]) PutChar(',');
  has_member_[depth_ - 1] = true;
  if (NeedsEscape(key) || NeedsEscape(suffix)) {
    std::string joined(key);
    joined += suffix;
    PutQuoted(joined);
    PutChar(':');
    return;
  }
  char* p = Room(key.size() + suffix.size() + 3);
  *p++ = '"';
  p = std::copy(key.begin(), key.end(), p);
  p = std::copy(suffix.begin(), suffix.end(), p);
  *p++ = '"';
  *p++ = ':';
  Advance(p);
}

void JsonText::Element() {
  if (depth_ == 0) {
    TPW_ASSERT(!top_written_ && "one value at the top");
    top_written_ = true;
    return;
  }
  TPW_ASSERT(!is_object_[depth_ - 1] && "an object's members need keys");
  if (has_member_[depth_ - 1]) PutChar(',');
  has_member_[depth_ - 1] = true;
}

void JsonText::Open(char bracket, bool is_object) {
  TPW_ASSERT(depth_ < kDepthMax);
  PutChar(bracket);
  is_object_[depth_] = is_object;
  has_member_[depth_] = false;
  ++depth_;
}

void JsonText::Close(char bracket, bool is_object) {
  TPW_ASSERT(depth_ > 0 && is_object_[depth_ - 1] == is_object && "unbalanced end");
  --depth_;
  PutChar(bracket);
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
  PutQuoted(value);
  return *this;
}

JsonText& JsonText::Unsigned(std::string_view key, uint64_t value) {
  Key(key);
  char* const p = Room(20);
  Advance(std::to_chars(p, p + 20, value).ptr);
  return *this;
}

JsonText& JsonText::Signed(std::string_view key, int64_t value) {
  Key(key);
  char* const p = Room(20);
  Advance(std::to_chars(p, p + 20, value).ptr);
  return *this;
}

JsonText& JsonText::Bool(std::string_view key, bool value) {
  Key(key);
  Put(value ? "true" : "false");
  return *this;
}

JsonText& JsonText::Null(std::string_view key) {
  Key(key);
  Put("null");
  return *this;
}

JsonText& JsonText::DecimalString(std::string_view key, u128 value) {
  Key(key);
  PutChar('"');
  PutDecimal(value);
  PutChar('"');
  return *this;
}

JsonText& JsonText::AmountPair(std::string_view key, u128 minor, uint8_t scale) {
  TPW_ASSERT(scale <= kAssetScaleMax);
  char digits[kU128DecimalDigitsMax];
  const char* const end = digits + sizeof digits;
  const char* const first = DecimalDigits(minor, digits + sizeof digits);
  const auto count = static_cast<size_t>(end - first);
  Key(key);
  // FormatDecimalAmount: the digits with a point `scale` digits from the right, "0." and
  // zeros in front when there are no more digits than that.
  char* p = Room(count + scale + 4);
  *p++ = '"';
  if (scale == 0) {
    p = std::copy(first, end, p);
  } else if (count <= scale) {
    *p++ = '0';
    *p++ = '.';
    p = std::fill_n(p, scale - count, '0');
    p = std::copy(first, end, p);
  } else {
    p = std::copy(first, end - scale, p);
    *p++ = '.';
    p = std::copy(end - scale, end, p);
  }
  *p++ = '"';
  Advance(p);
  Key(key, "_minor");
  p = Room(count + 2);
  *p++ = '"';
  p = std::copy(first, end, p);
  *p++ = '"';
  Advance(p);
  return *this;
}

JsonText& JsonText::TimePair(std::string_view key, uint64_t ms) {
  if (ms == 0) {
    Null(key);
    Key(key, "_time");
    Put("null");
    return *this;
  }
  Key(key);
  PutChar('"');
  PutDecimal(ms);
  PutChar('"');
  Key(key, "_time");
  if (ms > kTimeMsMax) {  // past FormatMsUtc's dates: its own text ("<ms> ms")
    PutQuoted(cli::FormatMsUtc(ms));
    return *this;
  }
  // "YYYY-MM-DDTHH:MM:SS.mmmZ" as FormatMsUtc writes it.
  const uint64_t ms_of_day = ms % kMsPerDay;
  const uint64_t second_of_day = ms_of_day / 1000;
  char* p = Room(26);
  *p++ = '"';
  p = std::copy_n(DateText(ms / kMsPerDay), 10, p);
  *p++ = 'T';
  p = TwoDigits(p, second_of_day / 3600);
  *p++ = ':';
  p = TwoDigits(p, second_of_day / 60 % 60);
  *p++ = ':';
  p = TwoDigits(p, second_of_day % 60);
  *p++ = '.';
  const uint64_t millis = ms_of_day % 1000;
  *p++ = static_cast<char>('0' + millis / 100);
  p = TwoDigits(p, millis % 100);
  *p++ = 'Z';
  *p++ = '"';
  Advance(p);
  return *this;
}

JsonText& JsonText::StringOrNull(std::string_view key, std::string_view value) {
  return value.empty() ? Null(key) : String(key, value);
}

JsonText& JsonText::Raw(std::string_view key, std::string_view json) {
  Key(key);
  Put(json);
  return *this;
}

JsonText& JsonText::StringElement(std::string_view value) {
  Element();
  PutQuoted(value);
  return *this;
}

JsonText& JsonText::RawElement(std::string_view json) {
  Element();
  Put(json);
  return *this;
}

std::string JsonText::Finish() && {
  TPW_ASSERT(depth_ == 0 && top_written_ && "every container closed");
  out_.resize(size_);
  return std::move(out_);
}

}  // namespace tpw::api
