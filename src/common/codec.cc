#include "common/codec.h"

#include "common/assert.h"
#include "common/limits.h"

namespace tpw {

void BinaryWriter::Blob(std::span<const uint8_t> bytes) {
  TPW_ASSERT(bytes.size() <= kCodecBlobBytesMax);
  U32(static_cast<uint32_t>(bytes.size()));
  Bytes(bytes);
}

void BinaryWriter::String(std::string_view text) {
  Blob(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

uint64_t BinaryReader::GetLittleEndian(size_t bytes) {
  if (!ok_ || data_.size() - offset_ < bytes) {
    ok_ = false;
    return 0;
  }
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) {
    value |= static_cast<uint64_t>(data_[offset_ + i]) << (8 * i);
  }
  offset_ += bytes;
  return value;
}

std::span<const uint8_t> BinaryReader::Bytes(size_t count) {
  if (!ok_ || data_.size() - offset_ < count) {
    ok_ = false;
    return {};
  }
  std::span<const uint8_t> out = data_.subspan(offset_, count);
  offset_ += count;
  return out;
}

std::span<const uint8_t> BinaryReader::Blob(uint32_t max_bytes) {
  const uint32_t length = U32();
  if (!ok_) return {};
  if (length > max_bytes || length > kCodecBlobBytesMax) {
    ok_ = false;
    return {};
  }
  return Bytes(length);
}

std::string BinaryReader::String(uint32_t max_bytes) {
  const std::span<const uint8_t> bytes = Blob(max_bytes);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace tpw
