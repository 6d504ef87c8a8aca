// Internal: reading segments front to back with every check the format defines. Shared by
// recovery (JournalWriter::Open), VerifyJournal and JournalReader so all three agree on what a
// valid journal, a torn tail and corruption are.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "journal/errors.h"
#include "journal/format.h"
#include "journal/types.h"
#include "storage/storage.h"

namespace tpw::journal::internal {

struct SegmentFile {
  std::string name;
  uint64_t first_sequence = 0;  // parsed from the name
};

// The journal's segment files in sequence order. Every other file (LOCK, snapshots, temp files,
// garbage with other names) is ignored.
JournalResult<std::vector<SegmentFile>> ListSegments(storage::Storage& storage);

// Where the hash chain stands: the next sequence expected and the hash of the previous group.
struct ChainState {
  uint64_t next_sequence = 0;
  crypto::Hash256 hash{};
};

struct ScannedGroup {
  uint64_t segment_index = 0;
  uint64_t offset = 0;  // of the group header within its segment file
  format::GroupHeader header;
  std::span<const uint8_t> payload;  // valid until the next JournalScan::Next()
  crypto::Hash256 hash{};            // this group's chain hash
};

struct ScannedSegment {
  std::string name;
  uint64_t segment_index = 0;
  uint64_t end = 0;  // bytes of valid data: header plus the good groups
};

class JournalScan {
 public:
  // Scans `segments[start..]`. The first scanned segment's header seeds the chain; each later one
  // must continue it.
  JournalScan(storage::Storage& storage, std::vector<SegmentFile> segments, size_t start,
              std::optional<TrustedPrefix> trusted = std::nullopt);
  ~JournalScan();
  JournalScan(JournalScan&&) noexcept;
  JournalScan& operator=(JournalScan&&) = delete;

  // Advances to the next valid group: true with group() set, false at the end of the journal
  // (after the last group, or at a torn tail of the last segment: see torn_tail_bytes()).
  // Zeros from a group boundary to the end of the last segment are the writer's preallocated
  // space (zero_tail_bytes()), an end like the end of the file.
  JournalResult<bool> Next();
  // Fails with trusted_prefix_mismatch if a trusted prefix was given and never reached; call
  // after Next() returned false.
  JournalStatus CheckTrustedPrefixReached() const;
  const ScannedGroup& group() const { return group_; }

  // Valid after Next() returned false:
  const ChainState& chain() const { return chain_; }
  const std::vector<ScannedSegment>& segments_done() const { return done_; }
  uint64_t torn_tail_offset() const { return torn_offset_; }
  uint64_t torn_tail_bytes() const { return torn_bytes_; }
  uint64_t zero_tail_bytes() const { return zero_bytes_; }

 private:
  enum class Step { group, end, torn_tail };
  class Window;

  JournalStatus OpenSegment();
  JournalStatus CheckSegmentLink(const format::SegmentHeader& header, const SegmentFile& file);
  JournalResult<Step> NextGroupInSegment();
  JournalResult<Step> CheckGroup(uint64_t offset, const format::GroupHeader& header,
                                 std::span<const uint8_t> group_bytes);
  JournalResult<Step> Suspect(uint64_t offset, std::string reason);
  JournalResult<bool> IsZeroTail(uint64_t offset);
  JournalResult<std::optional<uint64_t>> FindGroupHeaderAfter(uint64_t offset);
  Err<JournalFailure> Corrupt(JournalError code, uint64_t offset, std::string detail) const;
  void FinishSegment();

  storage::Storage* storage_;
  std::vector<SegmentFile> segments_;
  size_t next_;  // index in segments_ of the next segment to open
  std::unique_ptr<Window> window_;
  bool open_ = false;    // a segment is being scanned
  bool last_ = false;    // ... and it is the journal's last segment
  bool linked_ = false;  // an earlier segment was scanned, so chain_ must continue
  std::string name_;
  std::string path_;
  uint64_t size_ = 0;      // of the open segment file
  uint64_t position_ = 0;  // end of the last good group in the open segment
  uint64_t segment_index_ = 0;
  ChainState chain_;
  // While set, groups are not hashed until the one ending at trusted_->last; the chain hash is
  // unknown until then (chain_known_ false).
  std::optional<TrustedPrefix> trusted_;
  bool chain_known_ = true;
  ScannedGroup group_;
  std::vector<ScannedSegment> done_;
  uint64_t torn_offset_ = 0;
  uint64_t torn_bytes_ = 0;
  uint64_t zero_bytes_ = 0;
};

// Runs `scan` to its end, adding every group to `stats` and filling in the head, the segment
// count, the valid bytes and the torn tail.
JournalStatus ScanToEnd(JournalScan& scan, uint64_t first_sequence, JournalStats& stats);

// Checks the records of a group payload: consecutive sequences from the header's first, lengths
// in bounds and adding up to the payload exactly, reserved fields zero. Returns what is wrong,
// or an empty string.
std::string CheckRecords(const format::GroupHeader& header, std::span<const uint8_t> payload);

}  // namespace tpw::journal::internal
