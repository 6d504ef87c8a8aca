#include "journal/record_reader.h"

#include <string>

#include "journal/format.h"
#include "journal/scan.h"

namespace tpw::journal {

using format::kRecordHeaderBytes;
using format::kSegmentHeaderBytes;

JournalStatus RecordReader::ReadPayload(RecordLocation location, uint64_t offset,
                                        std::span<uint8_t> out) {
  std::lock_guard lock(mutex_);
  JournalResult<storage::File*> file = FileFor(location.segment_index());
  if (!file.ok()) return Err{file.error()};
  const uint64_t start = location.offset() + kRecordHeaderBytes + offset;
  storage::StorageStatus read = file.value()->ReadExact(start, out);
  if (!read.ok()) {
    return JournalFail(JournalError::invalid_location,
                       "reading " + std::to_string(out.size()) + " bytes of a record: " +
                           read.error().Message(),
                       file.value()->path(), start);
  }
  return JournalStatus::Ok();
}

// Segment files are named by first sequence; their index is in the header. On a miss, read the
// header of every segment not yet open (new segments appear as the writer rolls over).
JournalResult<storage::File*> RecordReader::FileFor(uint64_t segment_index) {
  if (auto it = files_.find(segment_index); it != files_.end()) return it->second.get();
  JournalResult<std::vector<internal::SegmentFile>> segments = internal::ListSegments(*storage_);
  if (!segments.ok()) return Err{segments.error()};
  for (const internal::SegmentFile& segment : segments.value()) {
    storage::StorageResult<std::unique_ptr<storage::File>> file =
        storage_->Open(segment.name, storage::OpenMode::read_only);
    if (!file.ok()) return JournalFailStorage(file.error());
    uint8_t bytes[kSegmentHeaderBytes];
    if (!file.value()->ReadExact(0, bytes).ok()) continue;  // being created: not ours yet
    const auto decoded = format::DecodeSegmentHeader(
        std::span<const uint8_t, kSegmentHeaderBytes>(bytes));
    if (decoded.problem != format::HeaderProblem::none) continue;
    const uint64_t index = decoded.header.segment_index;
    if (files_.find(index) == files_.end()) files_[index] = std::move(file.value());
  }
  if (auto it = files_.find(segment_index); it != files_.end()) return it->second.get();
  return JournalFail(JournalError::invalid_location,
                     "no segment with index " + std::to_string(segment_index));
}

}  // namespace tpw::journal
