#include <algorithm>
#include <array>
#include <cstring>

#include "common/assert.h"
#include "journal/crc32c.h"
#include "journal/format.h"
#include "journal/journal.h"
#include "journal/scan.h"

namespace tpw::journal {

using format::kGroupHeaderBytes;
using format::kRecordHeaderBytes;
using format::kSegmentHeaderBytes;

JournalWriter::JournalWriter(storage::Storage& storage, const JournalOptions& options)
    : storage_(&storage), options_(options) {}

JournalWriter::~JournalWriter() = default;

static JournalStatus CheckOptions(const JournalOptions& options) {
  if (options.segment_bytes_max < kSegmentBytesMin ||
      options.segment_bytes_max > kSegmentBytesLimit) {
    return JournalFail(JournalError::invalid_options,
                       "segment_bytes_max " + std::to_string(options.segment_bytes_max) +
                           " is outside " + std::to_string(kSegmentBytesMin) + ".." +
                           std::to_string(kSegmentBytesLimit));
  }
  if (options.first_sequence.value == 0) {
    return JournalFail(JournalError::invalid_options, "first_sequence must be at least 1");
  }
  return JournalStatus::Ok();
}

JournalResult<std::unique_ptr<JournalWriter>> JournalWriter::Open(storage::Storage& storage,
                                                                  const JournalOptions& options) {
  if (JournalStatus s = CheckOptions(options); !s.ok()) return Err{s.error()};
  // Private constructor: Open is the only way to get a writer, and it always recovers first.
  std::unique_ptr<JournalWriter> writer(new JournalWriter(storage, options));
  if (options.lock_directory) {
    storage::StorageResult<std::unique_ptr<storage::DirectoryLock>> lock = storage.LockDirectory();
    if (!lock.ok()) return JournalFailStorage(lock.error());
    writer->lock_ = std::move(lock).value();
  }
  if (JournalStatus s = writer->Recover(); !s.ok()) return Err{s.error()};
  return writer;
}

// A crash while creating a segment leaves "segment-...tpj.tmp"; it never held acknowledged data.
JournalStatus JournalWriter::RemoveStaleTempFiles() {
  storage::StorageResult<std::vector<std::string>> names = storage_->List();
  if (!names.ok()) return JournalFailStorage(names.error());
  bool removed = false;
  for (const std::string& name : names.value()) {
    if (!format::IsSegmentTempFileName(name)) continue;
    if (storage::StorageStatus s = storage_->Remove(name); !s.ok())
      return JournalFailStorage(s.error());
    removed = true;
  }
  if (removed) {
    if (storage::StorageStatus s = storage_->SyncDirectory(); !s.ok())
      return JournalFailStorage(s.error());
  }
  return JournalStatus::Ok();
}

JournalStatus JournalWriter::Recover() {
  if (JournalStatus s = RemoveStaleTempFiles(); !s.ok()) return s;
  JournalResult<std::vector<internal::SegmentFile>> listed = internal::ListSegments(*storage_);
  if (!listed.ok()) return Err{listed.error()};
  if (listed.value().empty()) {
    const uint64_t first = options_.first_sequence.value;
    stats_.first_sequence = SequenceNo{first};
    stats_.last_sequence = SequenceNo{first - 1};
    durable_sequence_ = stats_.last_sequence;
    return CreateSegment(0, first, crypto::Hash256{});
  }
  const uint64_t first = listed.value().front().first_sequence;
  internal::JournalScan scan(*storage_, std::move(listed).value(), 0, options_.trusted_prefix);
  if (JournalStatus s = internal::ScanToEnd(scan, first, stats_); !s.ok()) return s;
  for (const internal::ScannedSegment& done : scan.segments_done()) {
    segments_.push_back(Segment{done.name, done.segment_index, done.end});
  }
  const Segment& last = segments_.back();
  storage::StorageResult<std::unique_ptr<storage::File>> file =
      storage_->Open(last.name, storage::OpenMode::read_write);
  if (!file.ok()) return JournalFailStorage(file.error());
  file_ = std::move(file).value();
  file_bytes_ = last.end + stats_.zero_tail_bytes;
  if (stats_.torn_tail_bytes > 0) {
    // Drop the torn tail for good (with any zeros after it), so new groups follow the last
    // valid one directly.
    if (storage::StorageStatus s = file_->Truncate(last.end); !s.ok())
      return JournalFailStorage(s.error());
    file_bytes_ = last.end;
  }
  // What we just read may still sit only in the page cache (the previous process died before
  // its fdatasync, or before the directory fsync of a new segment). The engine will act on it,
  // so make it durable before reporting it as the head.
  if (storage::StorageStatus s = file_->DataSync(); !s.ok()) return JournalFailStorage(s.error());
  if (storage::StorageStatus s = storage_->SyncDirectory(); !s.ok())
    return JournalFailStorage(s.error());
  durable_sequence_ = stats_.last_sequence;
  return JournalStatus::Ok();
}

// Creates a segment so that it appears under its real name only with a durable header: write
// "name.tmp", fdatasync, rename, fsync the directory. So recovery may treat any short or
// damaged segment header as corruption, never as a torn write.
JournalStatus JournalWriter::CreateSegment(uint64_t index, uint64_t first_sequence,
                                           const crypto::Hash256& previous_hash) {
  TPW_ASSERT(index <= kSegmentIndexMax);
  const std::string name = format::SegmentFileName(first_sequence);
  const std::string temp = name + std::string(storage::kTempSuffix);
  format::SegmentHeader header;
  header.segment_index = static_cast<uint32_t>(index);
  header.first_sequence = first_sequence;
  header.previous_hash = previous_hash;
  uint8_t bytes[kSegmentHeaderBytes];
  format::EncodeSegmentHeader(header, std::span<uint8_t, kSegmentHeaderBytes>(bytes));
  {
    storage::StorageResult<std::unique_ptr<storage::File>> file =
        storage_->Open(temp, storage::OpenMode::create_or_open);
    if (!file.ok()) return JournalFailStorage(file.error());
    storage::File& f = *file.value();
    if (storage::StorageStatus s = f.Truncate(0); !s.ok()) return JournalFailStorage(s.error());
    if (storage::StorageStatus s = f.Append(bytes); !s.ok()) return JournalFailStorage(s.error());
    if (storage::StorageStatus s = f.DataSync(); !s.ok()) return JournalFailStorage(s.error());
  }
  if (storage::StorageStatus s = storage_->Rename(temp, name); !s.ok())
    return JournalFailStorage(s.error());
  if (storage::StorageStatus s = storage_->SyncDirectory(); !s.ok())
    return JournalFailStorage(s.error());
  storage::StorageResult<std::unique_ptr<storage::File>> file =
      storage_->Open(name, storage::OpenMode::read_write);
  if (!file.ok()) return JournalFailStorage(file.error());
  file_ = std::move(file).value();
  segments_.push_back(Segment{name, index, kSegmentHeaderBytes});
  file_bytes_ = kSegmentHeaderBytes;
  stats_.zero_tail_bytes = 0;
  stats_.segments += 1;
  stats_.bytes += kSegmentHeaderBytes;
  return JournalStatus::Ok();
}

// Every segment but the last is durable in full before the next one exists, so recovery can
// treat damage anywhere but the last segment's tail as corruption.
JournalStatus JournalWriter::RollSegment() {
  const uint64_t index = segments_.back().index + 1;
  if (index > kSegmentIndexMax) {
    return JournalFail(
        JournalError::limit_reached,
        "segment index " + std::to_string(index) + " exceeds " + std::to_string(kSegmentIndexMax));
  }
  // Only the last segment may end in zeros (recovery treats zeros anywhere else as damage).
  if (file_bytes_ > segments_.back().end) {
    if (storage::StorageStatus s = file_->Truncate(segments_.back().end); !s.ok())
      return Poison(FailureFromStorage(s.error()));
    file_bytes_ = segments_.back().end;
  }
  if (storage::StorageStatus s = file_->DataSync(); !s.ok())
    return Poison(FailureFromStorage(s.error()));
  durable_sequence_ = stats_.last_sequence;
  if (JournalStatus s = CreateSegment(index, stats_.last_sequence.value + 1, stats_.head_hash);
      !s.ok()) {
    return Poison(s.error());
  }
  return JournalStatus::Ok();
}

// Writes zeros ahead of the segment's end when the next group would not fit in those already
// there, so small groups overwrite bytes the file has and their fdatasync need not write the
// inode (see JournalOptions::preallocate_bytes). The zeros are made durable by the next Sync()
// with that group; until then a crash may keep any part of them, which recovery reads as the
// end of the journal (zeros) or drops as a torn tail (zeros after a partial group).
JournalStatus JournalWriter::Preallocate(uint64_t group_bytes) {
  const uint64_t end = segments_.back().end;
  const uint64_t chunk = options_.preallocate_bytes;
  if (end + group_bytes <= file_bytes_ || group_bytes > chunk / 4) return JournalStatus::Ok();
  const uint64_t target =
      std::max(end + group_bytes, std::min(end + group_bytes + chunk, options_.segment_bytes_max));
  static constexpr std::array<uint8_t, 64 * 1024> kZeros{};
  for (uint64_t at = file_bytes_; at < target;) {
    const auto length = static_cast<size_t>(std::min<uint64_t>(target - at, kZeros.size()));
    if (storage::StorageStatus s = file_->Write(at, std::span(kZeros.data(), length)); !s.ok())
      return Poison(FailureFromStorage(s.error()));
    at += length;
  }
  // Start the zeros on their way to the device now: the Sync() that makes them durable then
  // has less to wait for.
  file_->StartWriteback(file_bytes_, target - file_bytes_);
  file_bytes_ = target;
  return JournalStatus::Ok();
}

JournalStatus JournalWriter::CheckGroup(std::span<const RecordInput> records,
                                        uint64_t& payload_bytes) const {
  if (records.empty() || records.size() > kGroupRecordsMax) {
    return JournalFail(JournalError::group_invalid,
                       "a group holds 1.." + std::to_string(kGroupRecordsMax) + " records, not " +
                           std::to_string(records.size()));
  }
  payload_bytes = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].bytes.size() > kRecordBytesMax) {
      return JournalFail(JournalError::group_invalid, "record " + std::to_string(i) + " is " +
                                                          std::to_string(records[i].bytes.size()) +
                                                          " bytes; the limit is " +
                                                          std::to_string(kRecordBytesMax));
    }
    payload_bytes += kRecordHeaderBytes + records[i].bytes.size();
  }
  if (payload_bytes > kGroupPayloadBytesMax) {
    return JournalFail(JournalError::group_invalid,
                       "the group's payload is " + std::to_string(payload_bytes) +
                           " bytes; the limit is " + std::to_string(kGroupPayloadBytesMax));
  }
  uint64_t last = 0;
  if (__builtin_add_overflow(stats_.last_sequence.value, uint64_t{records.size()}, &last)) {
    return JournalFail(JournalError::limit_reached, "sequence numbers would overflow 64 bits");
  }
  return JournalStatus::Ok();
}

// Lays the group out in buffer_ (header, then each record header and bytes) and fills in
// `locations`. Returns the group's size in bytes.
uint32_t JournalWriter::EncodeGroup(std::span<const RecordInput> records,
                                    std::span<RecordLocation> locations) {
  const Segment& segment = segments_.back();
  const uint64_t first = stats_.last_sequence.value + 1;
  uint8_t* payload = buffer_.data() + kGroupHeaderBytes;
  size_t position = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const RecordInput& record = records[i];
    format::RecordHeader header;
    header.sequence = first + i;
    header.length = static_cast<uint32_t>(record.bytes.size());
    header.type = record.type;
    format::EncodeRecordHeader(
        header, std::span<uint8_t, kRecordHeaderBytes>(payload + position, kRecordHeaderBytes));
    if (!record.bytes.empty()) {
      std::memcpy(payload + position + kRecordHeaderBytes, record.bytes.data(),
                  record.bytes.size());
    }
    locations[i] = RecordLocation::Make(segment.index, segment.end + kGroupHeaderBytes + position);
    position += kRecordHeaderBytes + record.bytes.size();
  }
  format::GroupHeader header;
  header.first_sequence = first;
  header.record_count = static_cast<uint32_t>(records.size());
  header.payload_bytes = static_cast<uint32_t>(position);
  header.previous_hash = stats_.head_hash;
  header.payload_crc = Crc32c(std::span<const uint8_t>(payload, position));
  format::EncodeGroupHeader(
      header, std::span<uint8_t, kGroupHeaderBytes>(buffer_.data(), kGroupHeaderBytes));
  return static_cast<uint32_t>(kGroupHeaderBytes + position);
}

JournalResult<GroupAppended> JournalWriter::AppendGroup(std::span<const RecordInput> records,
                                                        std::span<RecordLocation> locations) {
  if (poisoned_) return PoisonedError();
  TPW_ASSERT(locations.size() == records.size());
  uint64_t payload_bytes = 0;
  if (JournalStatus s = CheckGroup(records, payload_bytes); !s.ok()) return Err{s.error()};
  const uint64_t group_bytes = kGroupHeaderBytes + payload_bytes;
  if (segments_.back().end > kSegmentHeaderBytes &&
      segments_.back().end + group_bytes > options_.segment_bytes_max) {
    if (JournalStatus s = RollSegment(); !s.ok()) return Err{s.error()};
  }
  if (JournalStatus s = Preallocate(group_bytes); !s.ok()) return Err{s.error()};
  if (buffer_.size() < group_bytes) buffer_.resize(static_cast<size_t>(group_bytes));
  const uint32_t size = EncodeGroup(records, locations);
  TPW_ASSERT(size == group_bytes);
  const std::span<const uint8_t> group(buffer_.data(), size);
  if (storage::StorageStatus s = file_->Write(segments_.back().end, group); !s.ok()) {
    return Poison(FailureFromStorage(s.error()));
  }
  // This group's own hash is needed only by the next group's header, so compute it after the
  // write, while the device is already busy with the bytes: hashing (~1.5 ms per MB) overlaps
  // the I/O that the following Sync() would otherwise wait for alone.
  file_->StartWriteback(segments_.back().end, size);
  crypto::Blake2b256Hasher hasher;
  hasher.Update(stats_.head_hash);
  hasher.Update(group);
  const crypto::Hash256 hash = hasher.Finish();
  GroupAppended appended;
  appended.first_sequence = SequenceNo{stats_.last_sequence.value + 1};
  appended.last_sequence = SequenceNo{stats_.last_sequence.value + records.size()};
  appended.hash = hash;
  segments_.back().end += size;
  file_bytes_ = std::max(file_bytes_, segments_.back().end);
  stats_.zero_tail_bytes = file_bytes_ - segments_.back().end;
  stats_.groups += 1;
  stats_.records += records.size();
  stats_.record_bytes += payload_bytes - records.size() * kRecordHeaderBytes;
  stats_.bytes += size;
  stats_.last_sequence = appended.last_sequence;
  stats_.head_hash = hash;
  return appended;
}

JournalStatus JournalWriter::Sync() {
  if (poisoned_) return PoisonedError();
  if (storage::StorageStatus s = file_->DataSync(); !s.ok()) {
    return Poison(FailureFromStorage(s.error()));
  }
  durable_sequence_ = stats_.last_sequence;
  return JournalStatus::Ok();
}

Err<JournalFailure> JournalWriter::Poison(const JournalFailure& failure) {
  // After a failed write or fdatasync the file's contents (and, on Linux, even the fate of
  // earlier unsynced pages) are unknown: only a reopen, which re-reads the disk, is safe.
  poisoned_ = true;
  poison_ = failure;
  return Err<JournalFailure>{failure};
}

Err<JournalFailure> JournalWriter::PoisonedError() const {
  JournalFailure failure;
  failure.code = JournalError::writer_poisoned;
  failure.detail = "an earlier write or sync failed (" + poison_.Message() +
                   "); nothing after it may be acknowledged; reopen the journal to recover";
  failure.storage_failure = poison_.storage_failure;
  return Err<JournalFailure>{std::move(failure)};
}

JournalResult<storage::File*> JournalWriter::ReadHandle(const Segment& segment) {
  if (segment.index == segments_.back().index) return file_.get();
  for (auto& [index, file] : read_handles_) {
    if (index == segment.index) return file.get();
  }
  storage::StorageResult<std::unique_ptr<storage::File>> opened =
      storage_->Open(segment.name, storage::OpenMode::read_only);
  if (!opened.ok()) return JournalFailStorage(opened.error());
  if (read_handles_.size() == kReadHandlesMax) read_handles_.erase(read_handles_.begin());
  read_handles_.emplace_back(segment.index, std::move(opened).value());
  return read_handles_.back().second.get();
}

JournalResult<RecordView> JournalWriter::Read(RecordLocation location,
                                              std::vector<uint8_t>& scratch) {
  if (poisoned_) return PoisonedError();
  const uint64_t index = location.segment_index();
  const uint64_t offset = location.offset();
  const auto invalid = [&](const std::string& why) {
    return JournalFail(JournalError::invalid_location,
                       "location (segment index " + std::to_string(index) + ", byte offset " +
                           std::to_string(offset) + "): " + why);
  };
  if (index < segments_.front().index || index > segments_.back().index) {
    return invalid("no such segment in this journal");
  }
  const Segment& segment = segments_[static_cast<size_t>(index - segments_.front().index)];
  if (offset < kSegmentHeaderBytes + kGroupHeaderBytes ||
      offset + kRecordHeaderBytes > segment.end) {
    return invalid("outside the segment's records");
  }
  JournalResult<storage::File*> file = ReadHandle(segment);
  if (!file.ok()) return Err{file.error()};
  uint8_t bytes[kRecordHeaderBytes];
  if (storage::StorageStatus s = file.value()->ReadExact(offset, bytes); !s.ok()) {
    return JournalFailStorage(s.error());
  }
  const format::RecordHeader header =
      format::DecodeRecordHeader(std::span<const uint8_t, kRecordHeaderBytes>(bytes));
  if (header.sequence == 0 || header.sequence > stats_.last_sequence.value ||
      header.reserved != 0 || header.length > kRecordBytesMax ||
      offset + kRecordHeaderBytes + header.length > segment.end) {
    return invalid("no record header there");
  }
  scratch.resize(header.length);
  if (storage::StorageStatus s = file.value()->ReadExact(offset + kRecordHeaderBytes, scratch);
      !s.ok()) {
    return JournalFailStorage(s.error());
  }
  return RecordView{SequenceNo{header.sequence}, header.type, scratch, location};
}

}  // namespace tpw::journal
