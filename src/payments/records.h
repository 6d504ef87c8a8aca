// Binary layouts of the payments records (internal header), shared by events (events.cc) and
// snapshots (Payments::Save/Load). Little-endian via common/codec.h; layouts in
// docs/payments.md ("Record layouts").
//
// Every Get reads with a sticky-failure BinaryReader and returns false on any bad value: counts
// are checked against their limit before anything is allocated, strings against their length
// limit, enums against their range, bools are 0 or 1. No assertion fires on input.
#pragma once

#include <cstring>
#include <string_view>
#include <vector>

#include "common/assert.h"
#include "common/codec.h"
#include "common/limits.h"
#include "payments/types.h"

namespace tpw::payments::records {

// Writes exactly BinaryWriter's bytes (little-endian integers, u32-length-prefixed strings),
// with one capacity check and one copy per field instead of a push_back per byte: a payment
// record is ~650 bytes and every payment event writes one (it was ~2 us per event).
class Writer {
 public:
  explicit Writer(size_t reserve = 1024) { buffer_.reserve(reserve); }

  void U8(uint8_t v) { buffer_.push_back(v); }
  void U16(uint16_t v) { PutLittleEndian(v, 2); }
  void U32(uint32_t v) { PutLittleEndian(v, 4); }
  void U64(uint64_t v) { PutLittleEndian(v, 8); }
  void U128(u128 v) {
    U64(Low64(v));
    U64(High64(v));
  }
  // u32 length prefix, then the bytes (BinaryWriter::String; within kCodecBlobBytesMax).
  void String(std::string_view text) {
    TPW_ASSERT(text.size() <= kCodecBlobBytesMax);
    U32(static_cast<uint32_t>(text.size()));
    buffer_.insert(buffer_.end(), text.begin(), text.end());
  }

  size_t size() const { return buffer_.size(); }
  std::vector<uint8_t> Take() { return std::move(buffer_); }

 private:
  void PutLittleEndian(uint64_t v, size_t bytes) {
    uint8_t le[8];
    for (size_t i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(v >> (8 * i));
    buffer_.insert(buffer_.end(), le, le + bytes);
  }
  std::vector<uint8_t> buffer_;
};

void Put(Writer& w, const Payment& payment);
void Put(Writer& w, const Customer& customer);
void Put(Writer& w, const Coupon& coupon);
void Put(Writer& w, const PointsProgram& program);
void Put(Writer& w, const FxRate& rate);
void Put(Writer& w, const FxQuote& quote);
void Put(Writer& w, const FxAccount& account);

[[nodiscard]] bool Get(BinaryReader& r, Payment& payment);
[[nodiscard]] bool Get(BinaryReader& r, Customer& customer);
[[nodiscard]] bool Get(BinaryReader& r, Coupon& coupon);
[[nodiscard]] bool Get(BinaryReader& r, PointsProgram& program);
[[nodiscard]] bool Get(BinaryReader& r, FxRate& rate);
[[nodiscard]] bool Get(BinaryReader& r, FxQuote& quote);
[[nodiscard]] bool Get(BinaryReader& r, FxAccount& account);

}  // namespace tpw::payments::records
