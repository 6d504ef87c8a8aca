// Bounds-checked little-endian binary codec for wire and disk formats.
//
// BinaryWriter appends to a growable buffer. BinaryReader reads from a borrowed span with a
// sticky failure flag: once a read runs past the end (or a length prefix exceeds its limit),
// every later read returns zero and ok() is false. Decoders read all fields, then check ok()
// once — flat code, no partial garbage escapes.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/int128.h"

namespace tpw {

class BinaryWriter {
 public:
  void U8(uint8_t v) { buffer_.push_back(v); }
  void U16(uint16_t v) { PutLittleEndian(v, 2); }
  void U32(uint32_t v) { PutLittleEndian(v, 4); }
  void U64(uint64_t v) { PutLittleEndian(v, 8); }
  void U128(u128 v) {
    U64(Low64(v));
    U64(High64(v));
  }
  void Bytes(std::span<const uint8_t> bytes) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  }
  // u32 length prefix, then the bytes. Asserts the length is within kCodecBlobBytesMax.
  void Blob(std::span<const uint8_t> bytes);
  void String(std::string_view text);

  const std::vector<uint8_t>& buffer() const { return buffer_; }
  std::vector<uint8_t> Take() { return std::move(buffer_); }
  size_t size() const { return buffer_.size(); }

 private:
  void PutLittleEndian(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) buffer_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> buffer_;
};

class BinaryReader {
 public:
  explicit BinaryReader(std::span<const uint8_t> data) : data_(data) {}

  uint8_t U8() { return static_cast<uint8_t>(GetLittleEndian(1)); }
  uint16_t U16() { return static_cast<uint16_t>(GetLittleEndian(2)); }
  uint32_t U32() { return static_cast<uint32_t>(GetLittleEndian(4)); }
  uint64_t U64() { return GetLittleEndian(8); }
  u128 U128() {
    const uint64_t low = U64();
    const uint64_t high = U64();
    // With only 8..15 bytes left the low half reads fine: a failed read still returns zero.
    return ok_ ? MakeU128(high, low) : 0;
  }
  // Exactly `count` bytes, or an empty span and failure.
  std::span<const uint8_t> Bytes(size_t count);
  // u32 length prefix (at most `max_bytes`), then the bytes.
  std::span<const uint8_t> Blob(uint32_t max_bytes);
  std::string String(uint32_t max_bytes);

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - offset_ : 0; }
  size_t offset() const { return offset_; }
  // True when every byte was consumed and no read failed: decoders reject trailing bytes.
  bool AtEndOk() const { return ok_ && offset_ == data_.size(); }

 private:
  uint64_t GetLittleEndian(size_t bytes);
  std::span<const uint8_t> data_;
  size_t offset_ = 0;
  bool ok_ = true;
};

}  // namespace tpw
