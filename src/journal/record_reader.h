// RecordReader: reads slices of record payloads by location, from any thread.
//
// The engine keeps only a location per journaled batch of transfers and reads single transfer
// bodies back on demand (lookups, queries). It must not share the JournalWriter, which belongs
// to the journal thread, so this class opens its own read-only handles and serializes callers
// with a mutex. No checksum is checked here: locations come from the writer or from a recovery
// scan that already verified the group.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>

#include "journal/errors.h"
#include "journal/types.h"
#include "storage/storage.h"

namespace tpw::journal {

class RecordReader {
 public:
  explicit RecordReader(storage::Storage& storage) : storage_(&storage) {}

  // Reads exactly out.size() bytes starting `offset` bytes into the payload of the record whose
  // header is at `location`. invalid_location if the segment is unknown or the bytes run past
  // its end.
  JournalStatus ReadPayload(RecordLocation location, uint64_t offset, std::span<uint8_t> out);

 private:
  JournalResult<storage::File*> FileFor(uint64_t segment_index);

  storage::Storage* storage_;
  std::mutex mutex_;
  std::map<uint64_t, std::unique_ptr<storage::File>> files_;  // by segment index
};

}  // namespace tpw::journal
