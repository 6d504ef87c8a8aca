// Value types of the journal's public API.
#pragma once

#include <compare>
#include <cstdint>
#include <span>
#include <string>

#include "crypto/hash.h"
#include "journal/limits.h"

namespace tpw::journal {

// Position of a record in the journal: 1, 2, 3, ... with no gaps. 0 means "none".
struct SequenceNo {
  uint64_t value = 0;
  friend constexpr auto operator<=>(SequenceNo, SequenceNo) = default;
  friend constexpr bool operator==(SequenceNo, SequenceNo) = default;
};

// Where a record's header sits on disk: segment index (high bits) and byte offset within the
// segment file (low kLocationOffsetBits bits). Stable for the life of the segment, so the engine
// can keep it in an index and read the record back with JournalWriter::Read.
struct RecordLocation {
  uint64_t packed = 0;

  static constexpr RecordLocation Make(uint64_t segment_index, uint64_t offset) {
    return RecordLocation{(segment_index << kLocationOffsetBits) | offset};
  }
  constexpr uint64_t segment_index() const { return packed >> kLocationOffsetBits; }
  constexpr uint64_t offset() const { return packed & ((uint64_t{1} << kLocationOffsetBits) - 1); }
  friend constexpr bool operator==(RecordLocation, RecordLocation) = default;
};

// One record to append: an opaque fact with a caller-defined type. The bytes are borrowed for
// the duration of the AppendGroup call only.
struct RecordInput {
  uint16_t type = 0;
  std::span<const uint8_t> bytes;
};

// One record read back. `bytes` points into a buffer owned by the reader (or the caller's
// scratch vector) and is valid until the next read call on it.
struct RecordView {
  SequenceNo sequence;
  uint16_t type = 0;
  std::span<const uint8_t> bytes;
  RecordLocation location;
};

// The shape of a journal: what JournalWriter::Open recovered and VerifyJournal checked.
// "State derived from the journal up to `last` is already held" (a snapshot): recovery and
// replay may skip hashing the groups up to `last`, and instead require that the chain continues
// from `hash` after it. Group checksums, sequences and record structure are still checked
// everywhere, so accidental damage still stops start-up; only tamper evidence for the trusted
// prefix is left to VerifyJournal.
struct TrustedPrefix {
  SequenceNo last;
  crypto::Hash256 hash{};
};

struct JournalStats {
  uint64_t segments = 0;
  uint64_t groups = 0;
  uint64_t records = 0;
  uint64_t record_bytes = 0;  // sum of record payload lengths
  uint64_t bytes = 0;         // segment file bytes holding valid data, headers included
  SequenceNo first_sequence;  // first sequence the oldest segment holds (or will hold)
  SequenceNo last_sequence;   // the head; first_sequence - 1 while there are no records
  // The chain state after the newest group: BLAKE2b-256 of that group (see
  // docs/journal-format.md), or the oldest segment's starting chain state while empty.
  crypto::Hash256 head_hash{};
  // Bytes of an incomplete or damaged final group at the end of the last segment: truncated
  // away by JournalWriter::Open, only reported by VerifyJournal (which never writes).
  uint64_t torn_tail_bytes = 0;
  // Zero bytes after the last group of the last segment: space the writer prepared ahead
  // (JournalOptions::preallocate_bytes), the normal end of a journal, kept by recovery.
  uint64_t zero_tail_bytes = 0;
};

}  // namespace tpw::journal
