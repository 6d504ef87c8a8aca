#include "journal/scan.h"

#include <algorithm>
#include <cstring>

#include "common/assert.h"
#include "journal/crc32c.h"
#include "journal/limits.h"

namespace tpw::journal::internal {

using format::kGroupHeaderBytes;
using format::kRecordHeaderBytes;
using format::kSegmentHeaderBytes;

namespace {

std::string Hex32(uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x00000000";
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(9 - i)] = kDigits[(v >> (4 * i)) & 0xf];
  return out;
}

std::string ShortHash(const crypto::Hash256& hash) {
  return crypto::ToHex(std::span<const uint8_t>(hash.data(), 8)) + "...";
}

// What is wrong with a segment header, in words; empty when nothing is.
std::string SegmentHeaderProblem(const format::Decoded<format::SegmentHeader>& decoded) {
  switch (decoded.problem) {
    case format::HeaderProblem::none:
      return "";
    case format::HeaderProblem::bad_magic:
      return "not a journal segment (bad magic number)";
    case format::HeaderProblem::version_zero:
      return "format version 0 is not a valid version";
    case format::HeaderProblem::version_unsupported:
      return "unsupported";
    case format::HeaderProblem::bad_checksum:
      return "segment header crc32c mismatch: stored " + Hex32(decoded.stored_crc) + ", computed " +
             Hex32(decoded.computed_crc);
    case format::HeaderProblem::bad_field:
      return "segment header has a wrong size, flag or reserved field";
  }
  return "unknown header problem";
}

}  // namespace

JournalResult<std::vector<SegmentFile>> ListSegments(storage::Storage& storage) {
  storage::StorageResult<std::vector<std::string>> names = storage.List();
  if (!names.ok()) return JournalFailStorage(names.error());
  std::vector<SegmentFile> segments;
  for (const std::string& name : names.value()) {
    const std::optional<uint64_t> first = format::ParseSegmentFileName(name);
    if (!first.has_value()) continue;
    if (segments.size() == kSegmentsMax) {
      return JournalFail(
          JournalError::limit_reached,
          "more than " + std::to_string(kSegmentsMax) + " segment files in " + storage.PathOf(""));
    }
    segments.push_back(SegmentFile{name, *first});
  }
  std::sort(segments.begin(), segments.end(), [](const SegmentFile& a, const SegmentFile& b) {
    return a.first_sequence < b.first_sequence;
  });
  return segments;
}

// A read-ahead window over one file, so scanning small groups does not cost two preads each.
class JournalScan::Window {
 public:
  Window(std::unique_ptr<storage::File> file, uint64_t size)
      : file_(std::move(file)), size_(size) {}

  // Exactly `length` bytes at `offset`; the caller has checked they lie within the file.
  JournalResult<std::span<const uint8_t>> Fetch(uint64_t offset, size_t length) {
    TPW_ASSERT(offset + length <= size_);
    if (offset >= start_ && offset + length <= start_ + filled_) {
      return std::span<const uint8_t>(buffer_.data() + (offset - start_), length);
    }
    const size_t want = static_cast<size_t>(
        std::min<uint64_t>(std::max(length, kScanReadAheadBytes), size_ - offset));
    // Bounded: `length` is at most a group's header plus kGroupPayloadBytesMax (checked by the
    // caller), never whatever a damaged length field claims.
    if (buffer_.size() < want) buffer_.resize(want);
    storage::StorageStatus read =
        file_->ReadExact(offset, std::span<uint8_t>(buffer_.data(), want));
    if (!read.ok()) return JournalFailStorage(read.error());
    start_ = offset;
    filled_ = want;
    return std::span<const uint8_t>(buffer_.data(), length);
  }

 private:
  std::unique_ptr<storage::File> file_;
  uint64_t size_;
  std::vector<uint8_t> buffer_;
  uint64_t start_ = 0;
  size_t filled_ = 0;
};

JournalScan::JournalScan(storage::Storage& storage, std::vector<SegmentFile> segments, size_t start,
                         std::optional<TrustedPrefix> trusted)
    : storage_(&storage), segments_(std::move(segments)), next_(start), trusted_(trusted) {
  TPW_ASSERT(start <= segments_.size());
  chain_known_ = !trusted_.has_value();
}

JournalStatus JournalScan::CheckTrustedPrefixReached() const {
  if (chain_known_) return JournalStatus::Ok();
  return JournalFail(JournalError::trusted_prefix_mismatch,
                     "the journal ends before sequence " + std::to_string(trusted_->last.value) +
                         " (next sequence " + std::to_string(chain_.next_sequence) + ")");
}
JournalScan::~JournalScan() = default;
JournalScan::JournalScan(JournalScan&&) noexcept = default;

Err<JournalFailure> JournalScan::Corrupt(JournalError code, uint64_t offset,
                                         std::string detail) const {
  return JournalFail(code, std::move(detail), path_, offset, chain_.next_sequence);
}

JournalResult<bool> JournalScan::Next() {
  for (;;) {
    if (!open_) {
      if (next_ == segments_.size()) return false;
      if (JournalStatus s = OpenSegment(); !s.ok()) return Err{s.error()};
    }
    JournalResult<Step> step = NextGroupInSegment();
    if (!step.ok()) return Err{step.error()};
    switch (step.value()) {
      case Step::group:
        return true;
      case Step::end:
        FinishSegment();
        break;
      case Step::torn_tail:
        FinishSegment();
        return false;
    }
  }
}

void JournalScan::FinishSegment() {
  done_.push_back(ScannedSegment{name_, segment_index_, position_});
  window_.reset();
  open_ = false;
  linked_ = true;
}

JournalStatus JournalScan::OpenSegment() {
  const SegmentFile& file = segments_[next_];
  last_ = next_ + 1 == segments_.size();
  name_ = file.name;
  path_ = storage_->PathOf(file.name);
  storage::StorageResult<std::unique_ptr<storage::File>> opened =
      storage_->Open(file.name, storage::OpenMode::read_only);
  if (!opened.ok()) return JournalFailStorage(opened.error());
  storage::StorageResult<uint64_t> size = opened.value()->Size();
  if (!size.ok()) return JournalFailStorage(size.error());
  size_ = size.value();
  // Segments are created under a temporary name and renamed only once their header is durable,
  // so even the last segment has a whole header: a short one is damage, never a torn write.
  const uint64_t expected = file.first_sequence;
  if (size_ < kSegmentHeaderBytes) {
    return JournalFail(JournalError::corrupt_segment_header,
                       "segment file is " + std::to_string(size_) + " bytes, shorter than its " +
                           std::to_string(kSegmentHeaderBytes) + "-byte header",
                       path_, 0, expected);
  }
  window_ = std::make_unique<Window>(std::move(opened).value(), size_);
  JournalResult<std::span<const uint8_t>> bytes = window_->Fetch(0, kSegmentHeaderBytes);
  if (!bytes.ok()) return Err{bytes.error()};
  const format::Decoded<format::SegmentHeader> decoded =
      format::DecodeSegmentHeader(bytes.value().first<kSegmentHeaderBytes>());
  const std::string why = SegmentHeaderProblem(decoded);
  if (decoded.problem == format::HeaderProblem::version_unsupported) {
    return JournalFail(JournalError::format_version_unsupported,
                       "segment format version " + std::to_string(decoded.header.format_version) +
                           " is newer than version " + std::to_string(format::kFormatVersion) +
                           ", the newest this build reads; upgrade tpwallet",
                       path_, 0, expected);
  }
  if (!why.empty())
    return JournalFail(JournalError::corrupt_segment_header, why, path_, 0, expected);
  if (decoded.header.first_sequence != expected || expected == 0) {
    return JournalFail(JournalError::corrupt_segment_header,
                       "file name says first sequence " + std::to_string(expected) +
                           ", the header says " + std::to_string(decoded.header.first_sequence),
                       path_, 0, expected);
  }
  if (JournalStatus s = CheckSegmentLink(decoded.header, file); !s.ok()) return s;
  segment_index_ = decoded.header.segment_index;
  chain_ = ChainState{decoded.header.first_sequence, decoded.header.previous_hash};
  if (!chain_known_ && decoded.header.first_sequence == trusted_->last.value + 1) {
    // The trusted prefix ends exactly where this segment starts: its header must carry the
    // prefix's hash.
    if (decoded.header.previous_hash != trusted_->hash) {
      return JournalFail(JournalError::trusted_prefix_mismatch,
                         "segment header's previous hash " + ShortHash(decoded.header.previous_hash) +
                             " is not the trusted prefix's hash " + ShortHash(trusted_->hash),
                         path_, 0, expected);
    }
    chain_known_ = true;
  }
  position_ = kSegmentHeaderBytes;
  open_ = true;
  ++next_;
  return JournalStatus::Ok();
}

JournalStatus JournalScan::CheckSegmentLink(const format::SegmentHeader& header,
                                            const SegmentFile& file) {
  const uint64_t seq = file.first_sequence;
  if (!linked_) {
    // The journal's very first segment starts the chain from the all-zero hash.
    if (next_ == 0 && header.segment_index == 0 && header.previous_hash != crypto::Hash256{}) {
      return JournalFail(JournalError::chain_broken,
                         "segment 0 must start the hash chain from zero, it holds " +
                             ShortHash(header.previous_hash),
                         path_, 0, seq);
    }
    return JournalStatus::Ok();
  }
  if (header.segment_index != segment_index_ + 1) {
    return JournalFail(JournalError::segment_gap,
                       "segment index " + std::to_string(header.segment_index) +
                           " follows segment index " + std::to_string(segment_index_) +
                           "; a segment file is missing or foreign",
                       path_, 0, seq);
  }
  if (header.first_sequence != chain_.next_sequence) {
    return JournalFail(JournalError::sequence_mismatch,
                       "segment starts at sequence " + std::to_string(header.first_sequence) +
                           " but the previous segment ends before sequence " +
                           std::to_string(chain_.next_sequence),
                       path_, 0, seq);
  }
  if (chain_known_ && header.previous_hash != chain_.hash) {
    return JournalFail(JournalError::chain_broken,
                       "segment header's previous hash " + ShortHash(header.previous_hash) +
                           " is not the previous segment's last group hash " +
                           ShortHash(chain_.hash),
                       path_, 0, seq);
  }
  return JournalStatus::Ok();
}

JournalResult<JournalScan::Step> JournalScan::NextGroupInSegment() {
  const uint64_t offset = position_;
  const uint64_t remaining = size_ - offset;
  if (remaining == 0) return Step::end;
  JournalResult<bool> zero_tail = IsZeroTail(offset);
  if (!zero_tail.ok()) return Err{zero_tail.error()};
  if (zero_tail.value()) {
    zero_bytes_ = remaining;
    return Step::end;
  }
  if (remaining < kGroupHeaderBytes) {
    return Suspect(
        offset, "only " + std::to_string(remaining) + " bytes remain, fewer than a group header");
  }
  JournalResult<std::span<const uint8_t>> bytes = window_->Fetch(offset, kGroupHeaderBytes);
  if (!bytes.ok()) return Err{bytes.error()};
  const format::Decoded<format::GroupHeader> decoded =
      format::DecodeGroupHeader(bytes.value().first<kGroupHeaderBytes>());
  const format::GroupHeader& header = decoded.header;
  switch (decoded.problem) {
    case format::HeaderProblem::none:
      break;
    case format::HeaderProblem::bad_magic:
      return Suspect(offset, "no group header (bad magic number)");
    case format::HeaderProblem::bad_checksum:
      return Suspect(offset, "group header crc32c mismatch: stored " + Hex32(decoded.stored_crc) +
                                 ", computed " + Hex32(decoded.computed_crc));
    case format::HeaderProblem::version_zero:
    case format::HeaderProblem::version_unsupported:
      return Corrupt(JournalError::corrupt_group, offset,
                     "group format version " + std::to_string(header.format_version) +
                         " inside a version " + std::to_string(format::kFormatVersion) +
                         " segment");
    case format::HeaderProblem::bad_field:
      return Corrupt(JournalError::corrupt_group, offset, "group header flags are not zero");
  }
  // The header checksum is good from here on, so its length fields are what the writer wrote:
  // out-of-range values are damage or a hostile file, never a torn write.
  if (header.record_count == 0 || header.record_count > kGroupRecordsMax ||
      header.payload_bytes > kGroupPayloadBytesMax ||
      header.payload_bytes < uint64_t{header.record_count} * kRecordHeaderBytes) {
    return Corrupt(JournalError::corrupt_group, offset,
                   "group header claims " + std::to_string(header.record_count) + " records in " +
                       std::to_string(header.payload_bytes) + " payload bytes, out of bounds");
  }
  if (header.payload_bytes > remaining - kGroupHeaderBytes) {
    return Suspect(offset, "group claims " + std::to_string(header.payload_bytes) +
                               " payload bytes but only " +
                               std::to_string(remaining - kGroupHeaderBytes) + " remain");
  }
  JournalResult<std::span<const uint8_t>> group =
      window_->Fetch(offset, kGroupHeaderBytes + header.payload_bytes);
  if (!group.ok()) return Err{group.error()};
  return CheckGroup(offset, header, group.value());
}

JournalResult<JournalScan::Step> JournalScan::CheckGroup(uint64_t offset,
                                                         const format::GroupHeader& header,
                                                         std::span<const uint8_t> group_bytes) {
  const std::span<const uint8_t> payload = group_bytes.subspan(kGroupHeaderBytes);
  const uint32_t crc = Crc32c(payload);
  if (crc != header.payload_crc) {
    return Suspect(offset, "group payload crc32c mismatch: stored " + Hex32(header.payload_crc) +
                               ", computed " + Hex32(crc));
  }
  if (header.first_sequence != chain_.next_sequence) {
    return Corrupt(JournalError::sequence_mismatch, offset,
                   "group starts at sequence " + std::to_string(header.first_sequence) +
                       ", expected " + std::to_string(chain_.next_sequence));
  }
  if (chain_known_ && header.previous_hash != chain_.hash) {
    return Corrupt(JournalError::chain_broken, offset,
                   "group's previous hash " + ShortHash(header.previous_hash) +
                       " is not the hash of the group before it, " + ShortHash(chain_.hash));
  }
  uint64_t next_sequence = 0;
  if (__builtin_add_overflow(header.first_sequence, uint64_t{header.record_count},
                             &next_sequence)) {
    return Corrupt(JournalError::corrupt_group, offset, "group sequences overflow 64 bits");
  }
  if (std::string problem = CheckRecords(header, payload); !problem.empty()) {
    return Corrupt(JournalError::corrupt_group, offset, problem);
  }
  group_.segment_index = segment_index_;
  group_.offset = offset;
  group_.header = header;
  group_.payload = payload;
  if (chain_known_) {
    crypto::Blake2b256Hasher hasher;
    hasher.Update(chain_.hash);
    hasher.Update(group_bytes);
    group_.hash = hasher.Finish();
  } else {
    // Inside the trusted prefix: the hash is not computed; the prefix's own hash takes over at
    // its last group, and the next group must link to it.
    const uint64_t trusted_next = trusted_->last.value + 1;
    if (next_sequence > trusted_next) {
      return Corrupt(JournalError::trusted_prefix_mismatch, offset,
                     "no group ends at the trusted sequence " +
                         std::to_string(trusted_->last.value));
    }
    group_.hash = next_sequence == trusted_next ? trusted_->hash : crypto::Hash256{};
    chain_known_ = next_sequence == trusted_next;
  }
  chain_ = ChainState{next_sequence, group_.hash};
  position_ = offset + group_bytes.size();
  return Step::group;
}

// The group at `offset` is unreadable in a way a crash mid-write can cause. It is a torn tail
// only if it is the last thing in the journal: in the last segment with no valid group header
// after it. Anything else is damage to acknowledged data and must stop the caller.
JournalResult<JournalScan::Step> JournalScan::Suspect(uint64_t offset, std::string reason) {
  if (!last_) {
    return Corrupt(JournalError::corrupt_group, offset,
                   reason + "; this is not the last segment, so it cannot be a torn write");
  }
  JournalResult<std::optional<uint64_t>> later = FindGroupHeaderAfter(offset);
  if (!later.ok()) return Err{later.error()};
  if (later.value().has_value()) {
    return Corrupt(JournalError::corrupt_group, offset,
                   reason + "; a valid group header follows at byte offset " +
                       std::to_string(*later.value()) + ", so this is not a torn tail");
  }
  torn_offset_ = offset;
  torn_bytes_ = size_ - offset;
  return Step::torn_tail;
}

// Whether everything from the group boundary `offset` to the end of the last segment is zero:
// space the writer prepared ahead (JournalOptions::preallocate_bytes), not yet used. A group
// header never starts with a zero byte (its magic number), so only a zero there costs a look at
// the rest. Zeros with anything else after them are left to the torn-tail rules (Suspect).
JournalResult<bool> JournalScan::IsZeroTail(uint64_t offset) {
  if (!last_) return false;
  for (uint64_t start = offset; start < size_;) {
    const size_t length =
        static_cast<size_t>(std::min<uint64_t>(size_ - start, kScanReadAheadBytes));
    JournalResult<std::span<const uint8_t>> bytes =
        window_->Fetch(start, start == offset ? 1 : length);
    if (!bytes.ok()) return Err{bytes.error()};
    const std::span<const uint8_t> window = bytes.value();
    if (std::any_of(window.begin(), window.end(), [](uint8_t b) { return b != 0; })) return false;
    start += window.size();
  }
  return true;
}

JournalResult<std::optional<uint64_t>> JournalScan::FindGroupHeaderAfter(uint64_t offset) {
  uint64_t start = offset + 1;
  while (start + kGroupHeaderBytes <= size_) {
    const size_t length =
        static_cast<size_t>(std::min<uint64_t>(size_ - start, kScanReadAheadBytes));
    JournalResult<std::span<const uint8_t>> bytes = window_->Fetch(start, length);
    if (!bytes.ok()) return Err{bytes.error()};
    const std::span<const uint8_t> window = bytes.value();
    for (size_t i = 0; i + kGroupHeaderBytes <= length; ++i) {
      if (window[i] == 'T' && format::LooksLikeGroupHeader(window.subspan(i))) {
        return std::optional<uint64_t>{start + i};
      }
    }
    if (length < kScanReadAheadBytes) break;
    start += length - (kGroupHeaderBytes - 1);  // overlap so no header straddles unseen
  }
  return std::optional<uint64_t>{};
}

std::string CheckRecords(const format::GroupHeader& header, std::span<const uint8_t> payload) {
  size_t position = 0;
  for (uint32_t i = 0; i < header.record_count; ++i) {
    if (payload.size() - position < kRecordHeaderBytes) {
      return "record " + std::to_string(i) + " header runs past the payload";
    }
    const format::RecordHeader record =
        format::DecodeRecordHeader(payload.subspan(position).first<kRecordHeaderBytes>());
    if (record.sequence != header.first_sequence + i) {
      return "record " + std::to_string(i) + " has sequence " + std::to_string(record.sequence) +
             ", expected " + std::to_string(header.first_sequence + i);
    }
    if (record.reserved != 0) return "record " + std::to_string(i) + " reserved field is not zero";
    position += kRecordHeaderBytes;
    if (record.length > kRecordBytesMax || record.length > payload.size() - position) {
      return "record " + std::to_string(i) + " length " + std::to_string(record.length) +
             " runs past the payload";
    }
    position += record.length;
  }
  if (position != payload.size()) {
    return "records end at payload byte " + std::to_string(position) + " of " +
           std::to_string(payload.size());
  }
  return "";
}

JournalStatus ScanToEnd(JournalScan& scan, uint64_t first_sequence, JournalStats& stats) {
  for (;;) {
    JournalResult<bool> more = scan.Next();
    if (!more.ok()) return Err{more.error()};
    if (!more.value()) {
      if (JournalStatus s = scan.CheckTrustedPrefixReached(); !s.ok()) return s;
      break;
    }
    const ScannedGroup& group = scan.group();
    stats.groups += 1;
    stats.records += group.header.record_count;
    stats.record_bytes +=
        group.header.payload_bytes - uint64_t{group.header.record_count} * kRecordHeaderBytes;
  }
  stats.segments = scan.segments_done().size();
  stats.bytes = 0;
  for (const ScannedSegment& segment : scan.segments_done()) stats.bytes += segment.end;
  stats.first_sequence = SequenceNo{first_sequence};
  stats.last_sequence = SequenceNo{scan.chain().next_sequence - 1};
  stats.head_hash = scan.chain().hash;
  stats.torn_tail_bytes = scan.torn_tail_bytes();
  stats.zero_tail_bytes = scan.zero_tail_bytes();
  return JournalStatus::Ok();
}

}  // namespace tpw::journal::internal
