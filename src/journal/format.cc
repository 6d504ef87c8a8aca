#include "journal/format.h"

#include <cstring>

#include "common/assert.h"
#include "journal/crc32c.h"
#include "storage/storage.h"

namespace tpw::journal::format {
namespace {

// Segment header field offsets (version 1).
constexpr size_t kSegHeaderSizeOffset = 6;
constexpr size_t kSegIndexOffset = 8;
constexpr size_t kSegFlagsOffset = 12;
constexpr size_t kSegFirstSequenceOffset = 16;
constexpr size_t kSegPreviousHashOffset = 24;
constexpr size_t kSegReservedOffset = 56;
// Group header field offsets (version 1).
constexpr size_t kGroupFlagsOffset = 6;
constexpr size_t kGroupFirstSequenceOffset = 8;
constexpr size_t kGroupRecordCountOffset = 16;
constexpr size_t kGroupPayloadBytesOffset = 20;
constexpr size_t kGroupPreviousHashOffset = 24;
constexpr size_t kGroupPayloadCrcOffset = 56;
// Record header field offsets (version 1).
constexpr size_t kRecordLengthOffset = 8;
constexpr size_t kRecordTypeOffset = 12;
constexpr size_t kRecordReservedOffset = 14;

static_assert(kSegPreviousHashOffset + crypto::kHash256Bytes == kSegReservedOffset);
static_assert(kGroupPreviousHashOffset + crypto::kHash256Bytes == kGroupPayloadCrcOffset);
static_assert(kHeaderCrcOffset + 4 == kSegmentHeaderBytes);
static_assert(kHeaderCrcOffset + 4 == kGroupHeaderBytes);

void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void Put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t Get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
uint64_t Get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

uint32_t HeaderCrc(const uint8_t* header) {
  return Crc32c(std::span<const uint8_t>(header, kHeaderCrcOffset));
}

}  // namespace

void EncodeSegmentHeader(const SegmentHeader& header, std::span<uint8_t, kSegmentHeaderBytes> out) {
  uint8_t* p = out.data();
  std::memset(p, 0, out.size());
  Put32(p + kMagicOffset, kSegmentMagic);
  Put16(p + kVersionOffset, header.format_version);
  Put16(p + kSegHeaderSizeOffset, static_cast<uint16_t>(kSegmentHeaderBytes));
  Put32(p + kSegIndexOffset, header.segment_index);
  Put64(p + kSegFirstSequenceOffset, header.first_sequence);
  std::memcpy(p + kSegPreviousHashOffset, header.previous_hash.data(), crypto::kHash256Bytes);
  Put32(p + kHeaderCrcOffset, HeaderCrc(p));
}

Decoded<SegmentHeader> DecodeSegmentHeader(std::span<const uint8_t, kSegmentHeaderBytes> bytes) {
  const uint8_t* p = bytes.data();
  Decoded<SegmentHeader> out;
  out.header.format_version = Get16(p + kVersionOffset);
  out.stored_crc = Get32(p + kHeaderCrcOffset);
  out.computed_crc = HeaderCrc(p);
  if (Get32(p + kMagicOffset) != kSegmentMagic) {
    out.problem = HeaderProblem::bad_magic;
  } else if (out.header.format_version == 0) {
    out.problem = HeaderProblem::version_zero;
  } else if (out.header.format_version > kFormatVersion) {
    out.problem = HeaderProblem::version_unsupported;  // its layout may differ: read no further
  } else if (out.stored_crc != out.computed_crc) {
    out.problem = HeaderProblem::bad_checksum;
  } else if (Get16(p + kSegHeaderSizeOffset) != kSegmentHeaderBytes ||
             Get32(p + kSegFlagsOffset) != 0 || Get32(p + kSegReservedOffset) != 0) {
    out.problem = HeaderProblem::bad_field;
  }
  out.header.segment_index = Get32(p + kSegIndexOffset);
  out.header.first_sequence = Get64(p + kSegFirstSequenceOffset);
  std::memcpy(out.header.previous_hash.data(), p + kSegPreviousHashOffset, crypto::kHash256Bytes);
  return out;
}

void EncodeGroupHeader(const GroupHeader& header, std::span<uint8_t, kGroupHeaderBytes> out) {
  uint8_t* p = out.data();
  Put32(p + kMagicOffset, kGroupMagic);
  Put16(p + kVersionOffset, header.format_version);
  Put16(p + kGroupFlagsOffset, 0);
  Put64(p + kGroupFirstSequenceOffset, header.first_sequence);
  Put32(p + kGroupRecordCountOffset, header.record_count);
  Put32(p + kGroupPayloadBytesOffset, header.payload_bytes);
  std::memcpy(p + kGroupPreviousHashOffset, header.previous_hash.data(), crypto::kHash256Bytes);
  Put32(p + kGroupPayloadCrcOffset, header.payload_crc);
  Put32(p + kHeaderCrcOffset, HeaderCrc(p));
}

Decoded<GroupHeader> DecodeGroupHeader(std::span<const uint8_t, kGroupHeaderBytes> bytes) {
  const uint8_t* p = bytes.data();
  Decoded<GroupHeader> out;
  out.stored_crc = Get32(p + kHeaderCrcOffset);
  out.computed_crc = HeaderCrc(p);
  out.header.format_version = Get16(p + kVersionOffset);
  if (Get32(p + kMagicOffset) != kGroupMagic) {
    out.problem = HeaderProblem::bad_magic;
  } else if (out.stored_crc != out.computed_crc) {
    out.problem = HeaderProblem::bad_checksum;
  } else if (out.header.format_version == 0) {
    out.problem = HeaderProblem::version_zero;
  } else if (out.header.format_version > kFormatVersion) {
    out.problem = HeaderProblem::version_unsupported;
  } else if (Get16(p + kGroupFlagsOffset) != 0) {
    out.problem = HeaderProblem::bad_field;
  }
  out.header.first_sequence = Get64(p + kGroupFirstSequenceOffset);
  out.header.record_count = Get32(p + kGroupRecordCountOffset);
  out.header.payload_bytes = Get32(p + kGroupPayloadBytesOffset);
  std::memcpy(out.header.previous_hash.data(), p + kGroupPreviousHashOffset, crypto::kHash256Bytes);
  out.header.payload_crc = Get32(p + kGroupPayloadCrcOffset);
  return out;
}

void EncodeRecordHeader(const RecordHeader& header, std::span<uint8_t, kRecordHeaderBytes> out) {
  uint8_t* p = out.data();
  Put64(p, header.sequence);
  Put32(p + kRecordLengthOffset, header.length);
  Put16(p + kRecordTypeOffset, header.type);
  Put16(p + kRecordReservedOffset, header.reserved);
}

RecordHeader DecodeRecordHeader(std::span<const uint8_t, kRecordHeaderBytes> bytes) {
  const uint8_t* p = bytes.data();
  RecordHeader out;
  out.sequence = Get64(p);
  out.length = Get32(p + kRecordLengthOffset);
  out.type = Get16(p + kRecordTypeOffset);
  out.reserved = Get16(p + kRecordReservedOffset);
  return out;
}

bool LooksLikeGroupHeader(std::span<const uint8_t> bytes) {
  TPW_ASSERT(bytes.size() >= kGroupHeaderBytes);
  const uint8_t* p = bytes.data();
  return Get32(p + kMagicOffset) == kGroupMagic && Get32(p + kHeaderCrcOffset) == HeaderCrc(p);
}

std::string SegmentFileName(uint64_t first_sequence) {
  std::string digits = std::to_string(first_sequence);
  TPW_ASSERT(digits.size() <= kSegmentNameDigits);
  return std::string(kSegmentNamePrefix) + std::string(kSegmentNameDigits - digits.size(), '0') +
         digits + std::string(kSegmentNameSuffix);
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != kSegmentNamePrefix.size() + kSegmentNameDigits + kSegmentNameSuffix.size() ||
      !name.starts_with(kSegmentNamePrefix) || !name.ends_with(kSegmentNameSuffix)) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(kSegmentNamePrefix.size(), kSegmentNameDigits);
  uint64_t value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (__builtin_mul_overflow(value, uint64_t{10}, &value) ||
        __builtin_add_overflow(value, digit, &value)) {
      return std::nullopt;
    }
  }
  return value;
}

bool IsSegmentTempFileName(std::string_view name) {
  if (!name.ends_with(storage::kTempSuffix)) return false;
  return ParseSegmentFileName(name.substr(0, name.size() - storage::kTempSuffix.size()))
      .has_value();
}

}  // namespace tpw::journal::format
