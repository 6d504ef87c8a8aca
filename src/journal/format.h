// On-disk layout of journal segments (docs/journal-format.md is the specification; keep the two
// in step). Internal to the journal module: encoders, decoders and file names.
//
// All integers are little-endian. A segment file is a 64-byte segment header followed by groups;
// a group is a 64-byte group header followed by a payload of records; a record is a 16-byte
// record header followed by its bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "crypto/hash.h"

namespace tpw::journal::format {

// The newest format this build writes and the newest it reads (it reads all older ones).
inline constexpr uint16_t kFormatVersion = 1;

inline constexpr size_t kSegmentHeaderBytes = 64;
inline constexpr size_t kGroupHeaderBytes = 64;
inline constexpr size_t kRecordHeaderBytes = 16;

// The magic numbers read as ASCII in a hex dump: "TPWS" and "TPWG".
inline constexpr uint32_t kSegmentMagic = 0x53575054;
inline constexpr uint32_t kGroupMagic = 0x47575054;

// Field offsets shared by every format version (so any version can be told apart).
inline constexpr size_t kMagicOffset = 0;
inline constexpr size_t kVersionOffset = 4;
// Both headers end with a crc32c of the header bytes before it.
inline constexpr size_t kHeaderCrcOffset = 60;

// "segment-" + first sequence as 20 zero-padded decimal digits + ".tpj": sorts numerically.
inline constexpr std::string_view kSegmentNamePrefix = "segment-";
inline constexpr std::string_view kSegmentNameSuffix = ".tpj";
inline constexpr size_t kSegmentNameDigits = 20;

struct SegmentHeader {
  uint16_t format_version = kFormatVersion;
  uint32_t segment_index = 0;       // 0 for the journal's first segment, +1 per segment
  uint64_t first_sequence = 0;      // sequence of the first record this segment holds
  crypto::Hash256 previous_hash{};  // chain state at the segment's start
};

struct GroupHeader {
  uint16_t format_version = kFormatVersion;
  uint64_t first_sequence = 0;
  uint32_t record_count = 0;
  uint32_t payload_bytes = 0;
  crypto::Hash256 previous_hash{};  // hash of the previous group (chain state before this one)
  uint32_t payload_crc = 0;         // crc32c of the payload
};

struct RecordHeader {
  uint64_t sequence = 0;
  uint32_t length = 0;
  uint16_t type = 0;
  uint16_t reserved = 0;  // zero in version 1
};

enum class HeaderProblem : uint8_t {
  none = 0,
  bad_magic = 1,
  version_zero = 2,
  version_unsupported = 3,  // newer than kFormatVersion
  bad_checksum = 4,
  bad_field = 5,  // checksum fine but a fixed field (header size, flags, reserved) is wrong
};

template <typename Header>
struct Decoded {
  HeaderProblem problem = HeaderProblem::none;
  Header header;
  uint32_t stored_crc = 0;
  uint32_t computed_crc = 0;
};

void EncodeSegmentHeader(const SegmentHeader& header, std::span<uint8_t, kSegmentHeaderBytes> out);
// Checks in order: magic, version (zero, newer), checksum, fixed fields.
Decoded<SegmentHeader> DecodeSegmentHeader(std::span<const uint8_t, kSegmentHeaderBytes> bytes);

void EncodeGroupHeader(const GroupHeader& header, std::span<uint8_t, kGroupHeaderBytes> out);
// Checks in order: magic, checksum, then version and fixed fields. The checksum comes before the
// version here because a group's version must equal its segment's: a differing version behind a
// good checksum is corruption, and a bad checksum is the usual sign of a torn write.
Decoded<GroupHeader> DecodeGroupHeader(std::span<const uint8_t, kGroupHeaderBytes> bytes);

void EncodeRecordHeader(const RecordHeader& header, std::span<uint8_t, kRecordHeaderBytes> out);
RecordHeader DecodeRecordHeader(std::span<const uint8_t, kRecordHeaderBytes> bytes);

// True when `bytes` (at least a group header) starts with a group header whose magic and
// checksum are right: used to tell a torn tail from damage in the middle.
bool LooksLikeGroupHeader(std::span<const uint8_t> bytes);

std::string SegmentFileName(uint64_t first_sequence);
// The first sequence a segment file name encodes; nullopt for any other name.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);
// A segment being created ("segment-...tpj.tmp"): left only by a crash mid-creation.
bool IsSegmentTempFileName(std::string_view name);

}  // namespace tpw::journal::format
