// Journal errors: a stable code to branch on plus where it happened, for a human to act on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "storage/storage.h"

namespace tpw::journal {

// Stable numeric values (they reach logs and CLI exit codes). Append only.
#define TPW_JOURNAL_ERRORS(X)                                                                      \
  X(storage, 1, "the storage layer failed")                                                        \
  X(locked, 2, "another opener holds the journal directory")                                       \
  X(no_journal, 3, "the directory holds no journal segments")                                      \
  X(corrupt_segment_header, 4, "a segment header is damaged or is not a journal segment header")   \
  X(corrupt_group, 5, "a group fails its checks and is not a torn tail, so it cannot be dropped")  \
  X(sequence_mismatch, 6, "a group or segment does not continue the previous sequence")            \
  X(chain_broken, 7, "a group or segment does not continue the previous group's hash")             \
  X(segment_gap, 8, "segment indexes are not consecutive")                                         \
  X(format_version_unsupported, 9, "a segment uses a newer format than this build reads")          \
  X(writer_poisoned, 10, "an earlier write or sync failed; reopen the journal to recover")         \
  X(group_invalid, 11, "the group is empty, has too many records or bytes, or a record too large") \
  X(invalid_location, 12, "the location does not point at a record of this journal")               \
  X(sequence_not_in_journal, 13, "the sequence is older than the oldest segment")                  \
  X(invalid_options, 14, "a JournalOptions value is out of range")                                 \
  X(limit_reached, 15, "the journal ran out of segment indexes or sequence numbers")           \
  X(trusted_prefix_mismatch, 16,                                                                   \
    "the trusted prefix (a snapshot's sequence and hash) does not match the journal")

enum class JournalError : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_JOURNAL_ERRORS(TPW_X)
#undef TPW_X
};

std::string_view JournalErrorName(JournalError error);
std::string_view JournalErrorMessage(JournalError error);

struct JournalFailure {
  JournalError code = JournalError::storage;
  std::string detail;     // what was wrong, in words
  std::string file;       // path of the segment concerned; empty when none
  uint64_t offset = 0;    // byte offset in `file` (meaningful when `file` is set)
  uint64_t sequence = 0;  // sequence expected there (first record of the group); 0 when none
  storage::StorageFailure storage_failure;  // set when code is storage or locked

  // One line for logs and the CLI, e.g. "corrupt_group: payload crc32c mismatch ... in
  // /data/journal/segment-00000000000000000001.tpj at byte offset 4160, sequence 8190".
  std::string Message() const;
};

template <typename T>
using JournalResult = Result<T, JournalFailure>;
using JournalStatus = Status<JournalFailure>;

Err<JournalFailure> JournalFail(JournalError code, std::string detail, std::string file = {},
                                uint64_t offset = 0, uint64_t sequence = 0);
// Wraps a storage failure: code `locked` for a held lock, `storage` for everything else.
JournalFailure FailureFromStorage(const storage::StorageFailure& failure);
inline Err<JournalFailure> JournalFailStorage(const storage::StorageFailure& failure) {
  return Err<JournalFailure>{FailureFromStorage(failure)};
}

}  // namespace tpw::journal
