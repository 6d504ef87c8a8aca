// Snapshot files: the engine's whole derived state at one journal sequence, so start-up can
// skip replaying everything before it.
//
// File "snapshot-<sequence, 20 digits>.tps" in the data directory:
//   96-byte header (little-endian): 0 magic "TPWN", 4 u16 version, 6 u16 zero, 8 u64 layout
//     fingerprint, 16 u64 sequence, 24 32-byte journal head hash after that sequence, 56 u64
//     body bytes, 64 u32 crc32c of the body, 68 zeros, 92 u32 crc32c of header bytes 0..91
//   body:           the state sections (Ledger::SaveState, JournalStore::SaveState)
// Written atomically: "<name>.tmp", fdatasync, rename, directory fsync. A snapshot is derived
// data: a bad one is skipped (with a message) and recovery falls back to an older one or to a
// full replay of the journal, which is the book of record.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "crypto/hash.h"
#include "ledger/state_io.h"
#include "storage/storage.h"

namespace tpw::engine {

inline constexpr uint16_t kSnapshotVersion = 1;
inline constexpr size_t kSnapshotHeaderBytes = 96;

struct SnapshotHeader {
  uint64_t fingerprint = 0;  // Ledger::StateLayoutFingerprint() of the writer
  uint64_t sequence = 0;     // last journal sequence whose facts the state includes
  crypto::Hash256 head_hash{};  // journal chain state after that sequence
  uint64_t body_bytes = 0;
  uint32_t body_crc = 0;
};

std::string SnapshotFileName(uint64_t sequence);
std::optional<uint64_t> ParseSnapshotFileName(std::string_view name);
// Snapshot file names in the directory, newest (highest sequence) first.
storage::StorageResult<std::vector<std::string>> ListSnapshots(storage::Storage& storage);

// Writes a snapshot atomically; `write_body` streams the state into the sink.
storage::StorageResult<uint64_t> WriteSnapshot(
    storage::Storage& storage, SnapshotHeader header,
    const std::function<void(ledger::StateSink&)>& write_body);

// Checks a snapshot file's header and body checksum (one pass over the file) and returns the
// header, or a sentence saying what is wrong.
Result<SnapshotHeader, std::string> CheckSnapshot(storage::Storage& storage,
                                                  const std::string& name);

// Reads and checks only the header (and that the file size matches it): cheap, for choosing a
// snapshot before loading it.
Result<SnapshotHeader, std::string> ReadSnapshotHeader(storage::Storage& storage,
                                                       const std::string& name);

// Streams the body through `read_body` in one pass, checksumming as it goes. False (with `why`)
// if the body is short, `read_body` rejects it, bytes are left over, or the checksum does not
// match `header` — in which case whatever `read_body` filled must be thrown away.
bool LoadSnapshot(storage::Storage& storage, const std::string& name,
                  const SnapshotHeader& header,
                  const std::function<bool(ledger::StateSource&)>& read_body, std::string& why);

// Deletes all but the newest `keep` snapshots (and stale .tmp files). Best effort.
void PruneSnapshots(storage::Storage& storage, uint32_t keep);

}  // namespace tpw::engine
