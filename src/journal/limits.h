// Named limits of the journal. Over a limit is an error at the input (AppendGroup, or a file
// being read) and an assertion inside.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tpw::journal {

// Bytes of one record's payload (a fact). Facts are small; this bounds a hostile length field.
inline constexpr uint32_t kRecordBytesMax = 4u << 20;
// Records in one group (one write + one fdatasync). The engine commits batches of up to 8189
// events; several batches may share a group, so leave room.
inline constexpr uint32_t kGroupRecordsMax = 1u << 16;
// Payload bytes of one group (record headers + record bytes). Bounds the read buffer: recovery
// never allocates more than this for one group, whatever a header claims.
inline constexpr uint32_t kGroupPayloadBytesMax = 64u << 20;
// Default size at which the writer starts a new segment.
inline constexpr uint64_t kSegmentBytesDefault = uint64_t{256} << 20;
// Smallest and largest allowed JournalOptions::segment_bytes_max. A segment may exceed its
// option by at most one group, and offsets must fit RecordLocation's kLocationOffsetBits.
inline constexpr uint64_t kSegmentBytesMin = 4096;
inline constexpr uint64_t kSegmentBytesLimit = uint64_t{64} << 30;
// A record location packs the byte offset into the low bits and the segment index above them.
inline constexpr int kLocationOffsetBits = 40;
inline constexpr uint64_t kSegmentIndexMax = (uint64_t{1} << (64 - kLocationOffsetBits)) - 1;
// Default JournalOptions::preallocate_bytes: zeros written ahead of the last segment's end.
inline constexpr uint64_t kPreallocateBytesDefault = uint64_t{1} << 20;
// Read-ahead window when scanning a segment (recovery, verify, replay).
inline constexpr size_t kScanReadAheadBytes = size_t{1} << 20;
// Segments whose read handles JournalWriter::Read keeps open at once.
inline constexpr size_t kReadHandlesMax = 16;
// Segment files a journal directory may hold (bounds the listing we sort and keep).
inline constexpr size_t kSegmentsMax = size_t{1} << 20;

static_assert(kSegmentBytesLimit + kGroupPayloadBytesMax + 4096 <
              (uint64_t{1} << kLocationOffsetBits));

}  // namespace tpw::journal
