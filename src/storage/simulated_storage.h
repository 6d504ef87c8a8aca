// SimulatedStorage: an in-memory directory for the deterministic simulator and fault tests.
//
// Each file keeps two images: what the running process sees (`data`) and what is durable (as of
// its last DataSync). The directory likewise keeps the live entries and the durable ones (as of
// the last SyncDirectory). Crash() throws away everything not durable, the way a power cut does,
// and may keep a torn prefix of each file's unsynced tail, possibly with its last sector garbled.
// Faults (no_space / io_error on writes, failing syncs and reads) are drawn from the Random given
// at construction, so one seed replays one run exactly.
//
// Not thread-safe. Files must not outlive the storage. After Crash(), handles opened before it
// fail with stale_handle (the process that held them is gone) and the directory lock is free.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "storage/storage.h"

namespace tpw::storage {

// Torn writes are modelled at this granularity when a torn sector is garbled.
inline constexpr size_t kSimulatedSectorBytes = 512;
inline constexpr uint32_t kPartsPerMillion = 1'000'000;

struct SimulatedFaults {
  // Chance per Append/Write call, in parts per million. A failing write first writes a random
  // prefix of its bytes, as a real short write followed by an error does.
  uint32_t write_no_space_ppm = 0;
  uint32_t write_io_error_ppm = 0;
  // Chance per DataSync/SyncDirectory call; a failed sync makes nothing durable.
  uint32_t sync_io_error_ppm = 0;
  // Chance per Read call.
  uint32_t read_io_error_ppm = 0;
  // Total bytes all files may hold; a write past it fills what fits, then fails with no_space.
  uint64_t capacity_bytes = UINT64_MAX;
};

struct CrashOptions {
  // Per dirty file, with probability 1/2: keep a random-length prefix of the unsynced bytes.
  bool keep_torn_prefix = true;
  // With probability 1/4 when a torn prefix is kept: overwrite the part of its last sector that
  // was kept with random bytes (a sector caught mid-write).
  bool corrupt_torn_sector = true;
};

class SimulatedStorage final : public Storage {
 public:
  // `random` drives fault injection and must outlive this object.
  explicit SimulatedStorage(Random& random);
  ~SimulatedStorage() override;
  SimulatedStorage(const SimulatedStorage&) = delete;
  SimulatedStorage& operator=(const SimulatedStorage&) = delete;

  StorageResult<std::unique_ptr<File>> Open(std::string_view name, OpenMode mode) override;
  StorageResult<std::vector<std::string>> List() override;
  StorageStatus Rename(std::string_view from, std::string_view to) override;
  StorageStatus Remove(std::string_view name) override;
  StorageStatus SyncDirectory() override;
  StorageResult<std::unique_ptr<DirectoryLock>> LockDirectory() override;
  std::string PathOf(std::string_view name) const override;

  void set_faults(const SimulatedFaults& faults) { faults_ = faults; }
  const SimulatedFaults& faults() const { return faults_; }

  // A power cut: drops unsynced file bytes and unsynced directory entries (see CrashOptions),
  // invalidates every open handle and releases the directory lock. Deterministic given `random`.
  void Crash(Random& random, CrashOptions options = {});
  // A crash that keeps nothing unsynced (no torn prefixes); needs no randomness.
  void CrashDroppingUnsynced();

  // Bytes written but not yet durable, over all live files (for assertions in tests).
  uint64_t UnsyncedBytes() const;
  uint64_t crash_count() const { return generation_; }

  // Internal: one file's contents. Public only so the file handle class can name it.
  struct Inode;

 private:
  friend class SimulatedFile;
  friend class SimulatedLock;
  uint64_t LiveBytes() const;
  void TearInode(Inode& inode, Random* random, const CrashOptions& options);
  void CrashWith(Random* random, const CrashOptions& options);

  Random& random_;
  SimulatedFaults faults_;
  std::map<std::string, std::shared_ptr<Inode>, std::less<>> entries_;          // live view
  std::map<std::string, std::shared_ptr<Inode>, std::less<>> durable_entries_;  // after crash
  uint64_t generation_ = 0;  // bumped by every crash; handles from older generations are stale
  bool locked_ = false;
};

}  // namespace tpw::storage
