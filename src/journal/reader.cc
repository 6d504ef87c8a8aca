#include "common/assert.h"
#include "journal/format.h"
#include "journal/journal.h"
#include "journal/scan.h"

namespace tpw::journal {

using format::kGroupHeaderBytes;
using format::kRecordHeaderBytes;

JournalReader::JournalReader(std::unique_ptr<internal::JournalScan> scan, SequenceNo from)
    : scan_(std::move(scan)), from_(from) {}

JournalReader::~JournalReader() = default;

JournalResult<std::unique_ptr<JournalReader>> JournalReader::Open(
    storage::Storage& storage, SequenceNo from, std::optional<TrustedPrefix> trusted) {
  TPW_ASSERT(!trusted || trusted->last.value + 1 == from.value);
  JournalResult<std::vector<internal::SegmentFile>> listed = internal::ListSegments(storage);
  if (!listed.ok()) return Err{listed.error()};
  const std::vector<internal::SegmentFile>& segments = listed.value();
  if (segments.empty()) {
    return JournalFail(JournalError::no_journal,
                       "no segment files (segment-*.tpj) in " + storage.PathOf(""));
  }
  if (from.value < segments.front().first_sequence) {
    return JournalFail(JournalError::sequence_not_in_journal,
                       "sequence " + std::to_string(from.value) +
                           " is older than the oldest segment, which starts at " +
                           std::to_string(segments.front().first_sequence),
                       storage.PathOf(segments.front().name), 0, from.value);
  }
  // Start at the newest segment that begins at or before `from`: earlier ones cannot hold it.
  size_t start = 0;
  while (start + 1 < segments.size() && segments[start + 1].first_sequence <= from.value) ++start;
  auto scan =
      std::make_unique<internal::JournalScan>(storage, std::move(listed).value(), start, trusted);
  return std::unique_ptr<JournalReader>(new JournalReader(std::move(scan), from));
}

JournalResult<std::optional<RecordView>> JournalReader::Next() {
  for (;;) {
    if (records_left_ == 0) {
      JournalResult<bool> more = scan_->Next();
      if (!more.ok()) return Err{more.error()};
      if (!more.value()) return std::optional<RecordView>{};
      position_ = 0;
      records_left_ = scan_->group().header.record_count;
    }
    // The scan checked this payload's structure (CheckRecords), so the headers are sound.
    const internal::ScannedGroup& group = scan_->group();
    const format::RecordHeader header =
        format::DecodeRecordHeader(group.payload.subspan(position_).first<kRecordHeaderBytes>());
    TPW_ASSERT(position_ + kRecordHeaderBytes + header.length <= group.payload.size());
    RecordView view;
    view.sequence = SequenceNo{header.sequence};
    view.type = header.type;
    view.bytes = group.payload.subspan(position_ + kRecordHeaderBytes, header.length);
    view.location =
        RecordLocation::Make(group.segment_index, group.offset + kGroupHeaderBytes + position_);
    position_ += kRecordHeaderBytes + header.length;
    records_left_ -= 1;
    if (view.sequence < from_) continue;
    return std::optional<RecordView>{view};
  }
}

JournalResult<VerifyReport> VerifyJournal(storage::Storage& storage) {
  JournalResult<std::vector<internal::SegmentFile>> listed = internal::ListSegments(storage);
  if (!listed.ok()) return Err{listed.error()};
  if (listed.value().empty()) {
    return JournalFail(JournalError::no_journal,
                       "no segment files (segment-*.tpj) in " + storage.PathOf(""));
  }
  const uint64_t first = listed.value().front().first_sequence;
  internal::JournalScan scan(storage, std::move(listed).value(), 0);
  VerifyReport report;
  if (JournalStatus s = internal::ScanToEnd(scan, first, report.stats); !s.ok())
    return Err{s.error()};
  report.head_hash_hex = crypto::HashToHex(report.stats.head_hash);
  if (report.stats.torn_tail_bytes > 0) {
    report.torn_tail_file = storage.PathOf(scan.segments_done().back().name);
    report.torn_tail_offset = scan.torn_tail_offset();
  }
  return report;
}

}  // namespace tpw::journal
