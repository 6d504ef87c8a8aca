// The journal: an append-only log of opaque facts in segment files, with group commit.
//
// The engine appends a batch of facts as one group (one write), calls Sync() (one fdatasync),
// and only then acknowledges anything in it. Groups are checksummed (crc32c) and linked by a
// BLAKE2b-256 hash chain. docs/journal-format.md is the byte-level specification.
//
// Contracts:
//   - One JournalWriter per directory: Open() takes the directory lock (unless told not to)
//     and recovers: a torn final group is truncated away, any other damage stops Open with an
//     error naming the file, byte offset and sequence. Nothing is ever skipped silently.
//   - Once an append or sync fails, the writer is poisoned: every later call fails with
//     writer_poisoned. The caller must not acknowledge anything after an I/O error; reopening
//     recovers everything that was synced.
//   - Not thread-safe: one thread (the sequencer) drives a writer. JournalReader and
//     VerifyJournal open their own file handles and never write.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "journal/errors.h"
#include "journal/limits.h"
#include "journal/types.h"
#include "storage/storage.h"

namespace tpw::journal {

namespace internal {
class JournalScan;
}  // namespace internal

struct JournalOptions {
  // Start a new segment when the next group would take the current one past this size
  // (kSegmentBytesMin..kSegmentBytesLimit). A segment holds at least one group, so one larger
  // group makes a larger segment.
  uint64_t segment_bytes_max = kSegmentBytesDefault;
  // Sequence of the first record of a new, empty journal (>= 1). Ignored for existing ones.
  SequenceNo first_sequence{1};
  // Take the Storage's directory lock for the writer's lifetime. Turn off only when the caller
  // already holds the lock on this same directory.
  bool lock_directory = true;
  // Skip hashing the groups up to trusted_prefix->last (see TrustedPrefix). Open fails with
  // trusted_prefix_mismatch if no group ends exactly there or the chain does not continue from
  // its hash.
  std::optional<TrustedPrefix> trusted_prefix;
  // Zero bytes written ahead of the last segment's end, this many at a time (0: none). Groups
  // then overwrite bytes the file already has, so Sync() does not also have to write the
  // inode's new size: on ext4 that halves the device flushes of a small group's fdatasync.
  // Groups of more than a quarter of this are written past the zeros as plain appends (their
  // size change is amortised anyway, and zeros for them would double the bytes written).
  uint64_t preallocate_bytes = kPreallocateBytesDefault;
};

struct GroupAppended {
  SequenceNo first_sequence;
  SequenceNo last_sequence;
  crypto::Hash256 hash{};  // the new head hash
};

class JournalWriter {
 public:
  // Opens (creating an empty journal in an empty directory) and recovers. stats() then holds
  // the head and counts; stats().torn_tail_bytes says how many bytes recovery dropped.
  static JournalResult<std::unique_ptr<JournalWriter>> Open(storage::Storage& storage,
                                                            const JournalOptions& options);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Appends `records` as one group with one write, assigning the next sequences in order.
  // `locations` (same size as `records`) receives where each record landed. Not durable until
  // Sync(). group_invalid and limit_reached leave the writer usable; I/O failures poison it.
  JournalResult<GroupAppended> AppendGroup(std::span<const RecordInput> records,
                                           std::span<RecordLocation> locations);
  // fdatasync of the current segment: everything appended so far is durable when this is ok.
  JournalStatus Sync();
  // Reads back the record at `location` (from AppendGroup or a JournalReader). The view's bytes
  // live in `scratch`, which is resized as needed and reused across calls.
  JournalResult<RecordView> Read(RecordLocation location, std::vector<uint8_t>& scratch);

  // Head and counts, updated by every append.
  const JournalStats& stats() const { return stats_; }
  // The last sequence covered by a successful Sync() (or by recovery).
  SequenceNo durable_sequence() const { return durable_sequence_; }
  bool poisoned() const { return poisoned_; }

 private:
  struct Segment {
    std::string name;
    uint64_t index = 0;
    uint64_t end = 0;  // bytes of valid data
  };

  JournalWriter(storage::Storage& storage, const JournalOptions& options);
  JournalStatus Recover();
  JournalStatus RemoveStaleTempFiles();
  JournalStatus CreateSegment(uint64_t index, uint64_t first_sequence,
                              const crypto::Hash256& previous_hash);
  JournalStatus RollSegment();
  JournalStatus Preallocate(uint64_t group_bytes);
  JournalStatus CheckGroup(std::span<const RecordInput> records, uint64_t& payload_bytes) const;
  uint32_t EncodeGroup(std::span<const RecordInput> records, std::span<RecordLocation> locations);
  JournalResult<storage::File*> ReadHandle(const Segment& segment);
  Err<JournalFailure> Poison(const JournalFailure& failure);
  Err<JournalFailure> PoisonedError() const;

  storage::Storage* storage_;
  JournalOptions options_;
  std::unique_ptr<storage::DirectoryLock> lock_;
  std::vector<Segment> segments_;        // consecutive indexes; back() is the one being appended to
  std::unique_ptr<storage::File> file_;  // segments_.back(), open for writing
  // Size of file_: segments_.back().end plus the zeros written ahead (see preallocate_bytes).
  uint64_t file_bytes_ = 0;
  std::vector<std::pair<uint64_t, std::unique_ptr<storage::File>>> read_handles_;
  std::vector<uint8_t> buffer_;  // one group: header + payload, reused by every append
  JournalStats stats_;
  SequenceNo durable_sequence_;
  bool poisoned_ = false;
  JournalFailure poison_;
};

// Replays records in sequence order from `from`, checking checksums and the hash chain as it
// goes. A torn tail ends the replay (as recovery would drop it); damage is an error.
class JournalReader {
 public:
  // sequence_not_in_journal if `from` is older than the oldest segment; no_journal if the
  // directory holds no segments. A `from` past the head simply reads nothing.
  // With `trusted`, groups up to trusted->last (which must be from - 1) are not hashed.
  static JournalResult<std::unique_ptr<JournalReader>> Open(
      storage::Storage& storage, SequenceNo from,
      std::optional<TrustedPrefix> trusted = std::nullopt);
  ~JournalReader();
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  // The next record, or nullopt at the end. The view is valid until the next call.
  JournalResult<std::optional<RecordView>> Next();

 private:
  JournalReader(std::unique_ptr<internal::JournalScan> scan, SequenceNo from);
  std::unique_ptr<internal::JournalScan> scan_;
  SequenceNo from_;
  size_t position_ = 0;        // in the current group's payload
  uint32_t records_left_ = 0;  // in the current group
};

struct VerifyReport {
  JournalStats stats;
  std::string head_hash_hex;
  std::string torn_tail_file;  // set when stats.torn_tail_bytes > 0
  uint64_t torn_tail_offset = 0;
};

// Read-only check of the whole journal: every segment header, group checksum, record, sequence
// and hash link. Never writes (a torn tail is reported, not truncated) and takes no lock, so
// it may run beside a live writer (whose unsynced tail may then show as torn).
JournalResult<VerifyReport> VerifyJournal(storage::Storage& storage);

}  // namespace tpw::journal
