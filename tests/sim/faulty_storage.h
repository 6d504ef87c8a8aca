// FaultyStorage: the simulator's Storage. It wraps a SimulatedStorage and adds what the
// SimulatedStorage cannot do by itself: crash the machine *in the middle* of whatever the engine
// is doing, at the N-th storage write, and keep the dead process's handles dead afterwards.
//
//   engine ──► FaultyStorage (counts operations; at the armed one: crash; then fails everything)
//                  └─► SimulatedStorage (in-memory files; write/sync/read faults; Crash())
//
// Crash kinds:
//   power_cut_torn   SimulatedStorage::Crash: unsynced bytes lost, maybe a torn prefix of them
//                    kept, maybe its last sector garbled; unsynced directory entries lost.
//   power_cut_clean  SimulatedStorage::CrashDroppingUnsynced: exactly the synced image survives.
//   process_kill     the process dies, the machine does not: everything written (synced or not)
//                    stays, as a kill -9 leaves the page cache.
// At the armed operation the operation is either carried out first (it reached the disk, but
// the process died before hearing so) or not at all, as the seed decides.
//
// After a crash every call fails with io_error ("the process is dead") until Reboot(); handles
// opened before a Reboot() fail forever (the process that held them is gone).
//
// Thread-safety: every call takes one mutex, so the engine's sequencer and journal threads and
// the simulator thread may all call in. Determinism is the simulator's job (one request in
// flight at a time); the mutex only makes an accidental overlap safe instead of undefined.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "storage/simulated_storage.h"
#include "storage/storage.h"

namespace tpw::sim {

enum class CrashKind : uint8_t {
  power_cut_torn = 0,
  power_cut_clean = 1,
  process_kill = 2,
};
std::string_view CrashKindName(CrashKind kind);

struct ArmedCrash {
  uint64_t at_mutation = 0;  // crash at this mutation count (1-based, see mutations())
  CrashKind kind = CrashKind::power_cut_torn;
  bool apply_first = false;  // carry out the operation before crashing
  bool garble_torn_sector = true;
};

class FaultyFile;

class FaultyStorage final : public storage::Storage {
 public:
  // `inner` and `crash_random` (drives torn prefixes) must outlive this object.
  FaultyStorage(storage::SimulatedStorage& inner, Random& crash_random);
  ~FaultyStorage() override;
  FaultyStorage(const FaultyStorage&) = delete;
  FaultyStorage& operator=(const FaultyStorage&) = delete;

  storage::StorageResult<std::unique_ptr<storage::File>> Open(std::string_view name,
                                                              storage::OpenMode mode) override;
  storage::StorageResult<std::vector<std::string>> List() override;
  storage::StorageStatus Rename(std::string_view from, std::string_view to) override;
  storage::StorageStatus Remove(std::string_view name) override;
  storage::StorageStatus SyncDirectory() override;
  storage::StorageResult<std::unique_ptr<storage::DirectoryLock>> LockDirectory() override;
  std::string PathOf(std::string_view name) const override;

  // Crash at a later mutation (see mutations()); replaces any armed crash.
  void Arm(const ArmedCrash& crash);
  void Disarm();
  std::optional<ArmedCrash> armed() const;
  // Crash now, between requests (the engine must be idle).
  void CrashNow(CrashKind kind, bool garble_torn_sector);
  // True from a crash until Reboot().
  bool crashed() const;
  // The machine is back: calls work again; handles opened before stay dead.
  void Reboot();
  // Injected faults of the inner storage (write/sync/read error rates, capacity).
  void SetFaults(const storage::SimulatedFaults& faults);

  // Every call so far (reads included), and the calls that change files or the directory:
  // Append, Write, Truncate, DataSync, Open with a create mode, Rename, Remove, SyncDirectory.
  uint64_t operations() const;
  uint64_t mutations() const;
  uint64_t crashes() const;
  // Description of the last crash ("power_cut_torn at mutation 123 (fdatasync sim:/x), ...").
  std::string last_crash() const;

 private:
  friend class FaultyFile;
  enum class OpKind : uint8_t { read, mutation };
  // Called under mutex_ at the start of every operation. Returns an error if the process is
  // dead, or if the armed crash fires now (after running `apply` when the crash says so).
  std::optional<storage::StorageFailure> Enter(OpKind kind, uint64_t boot, std::string_view what,
                                               const std::function<void()>& apply);
  void CrashLocked(CrashKind kind, bool garble_torn_sector, const std::string& where);

  storage::SimulatedStorage& inner_;
  Random& crash_random_;
  mutable std::mutex mutex_;
  uint64_t boot_ = 0;  // bumped by Reboot(); handles remember the boot they were opened in
  bool dead_ = false;
  std::optional<ArmedCrash> armed_;
  uint64_t operations_ = 0;
  uint64_t mutations_ = 0;
  uint64_t crashes_ = 0;
  std::string last_crash_;
};

}  // namespace tpw::sim
