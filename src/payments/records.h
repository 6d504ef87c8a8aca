// Binary layouts of the payments records (internal header), shared by events (events.cc) and
// snapshots (Payments::Save/Load). Little-endian via common/codec.h; layouts in
// docs/payments.md ("Record layouts").
//
// Every Get reads with a sticky-failure BinaryReader and returns false on any bad value: counts
// are checked against their limit before anything is allocated, strings against their length
// limit, enums against their range, bools are 0 or 1. No assertion fires on input.
#pragma once

#include <algorithm>
#include <bit>
#include <cstring>
#include <string_view>
#include <vector>

#include "common/assert.h"
#include "common/codec.h"
#include "common/limits.h"
#include "payments/types.h"

namespace tpw::payments::records {

// Writes exactly BinaryWriter's bytes (little-endian integers, u32-length-prefixed strings)
// through a pointer into a buffer grown geometrically: one capacity check and one fixed-size
// copy per field instead of a push_back per byte. A payment record is ~650 bytes and every
// payment event writes one (it cost ~12,000 instructions per event, now ~1,500).
class Writer {
 public:
  explicit Writer(size_t reserve = 1024) : buffer_(reserve) {}

  void U8(uint8_t v) { Put(&v, 1); }
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
    Put(text.data(), text.size());
  }

  size_t size() const { return size_; }
  std::vector<uint8_t> Take() {
    buffer_.resize(size_);
    size_ = 0;
    return std::move(buffer_);
  }

 private:
  void PutLittleEndian(uint64_t v, size_t bytes) {
    // The value's own bytes on a little-endian machine: assembling them one by one and
    // copying them back as a word stalls on store forwarding.
    if constexpr (std::endian::native != std::endian::little) {
      uint64_t le = 0;
      for (size_t i = 0; i < 8; ++i) le |= ((v >> (8 * i)) & 0xff) << (8 * (7 - i));
      v = le;
    }
    Put(&v, bytes);
  }
  void Put(const void* bytes, size_t count) {
    if (buffer_.size() - size_ < count) buffer_.resize(std::max(buffer_.size() * 2, size_ + count));
    std::memcpy(buffer_.data() + size_, bytes, count);
    size_ += count;
  }
  std::vector<uint8_t> buffer_;  // buffer_[0, size_) is written; the rest is room
  size_t size_ = 0;
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
