#include "sim/faulty_storage.h"

#include <functional>

#include "common/assert.h"

namespace tpw::sim {

using storage::File;
using storage::OpenMode;
using storage::StorageError;
using storage::StorageFailure;
using storage::StorageResult;
using storage::StorageStatus;

std::string_view CrashKindName(CrashKind kind) {
  switch (kind) {
    case CrashKind::power_cut_torn:
      return "power_cut_torn";
    case CrashKind::power_cut_clean:
      return "power_cut_clean";
    case CrashKind::process_kill:
      return "process_kill";
  }
  return "?";
}

// A handle of the inner storage, dead once its boot is over.
class FaultyFile final : public File {
 public:
  FaultyFile(FaultyStorage& storage, std::unique_ptr<File> inner, uint64_t boot)
      : storage_(storage), inner_(std::move(inner)), boot_(boot) {}

  StorageStatus Append(std::span<const uint8_t> bytes) override {
    std::lock_guard lock(storage_.mutex_);
    if (auto dead = Enter(FaultyStorage::OpKind::mutation, "append",
                          [&] { (void)inner_->Append(bytes); })) {
      return Err{*dead};
    }
    return inner_->Append(bytes);
  }
  StorageStatus Write(uint64_t offset, std::span<const uint8_t> bytes) override {
    std::lock_guard lock(storage_.mutex_);
    if (auto dead = Enter(FaultyStorage::OpKind::mutation, "pwrite",
                          [&] { (void)inner_->Write(offset, bytes); })) {
      return Err{*dead};
    }
    return inner_->Write(offset, bytes);
  }
  StorageResult<size_t> Read(uint64_t offset, std::span<uint8_t> out) override {
    std::lock_guard lock(storage_.mutex_);
    if (auto dead = Enter(FaultyStorage::OpKind::read, "pread", {})) return Err{*dead};
    return inner_->Read(offset, out);
  }
  StorageResult<uint64_t> Size() override {
    std::lock_guard lock(storage_.mutex_);
    if (auto dead = Enter(FaultyStorage::OpKind::read, "stat", {})) return Err{*dead};
    return inner_->Size();
  }
  StorageStatus Truncate(uint64_t size) override {
    std::lock_guard lock(storage_.mutex_);
    if (auto dead = Enter(FaultyStorage::OpKind::mutation, "ftruncate",
                          [&] { (void)inner_->Truncate(size); })) {
      return Err{*dead};
    }
    return inner_->Truncate(size);
  }
  StorageStatus DataSync() override {
    std::lock_guard lock(storage_.mutex_);
    if (auto dead = Enter(FaultyStorage::OpKind::mutation, "fdatasync",
                          [&] { (void)inner_->DataSync(); })) {
      return Err{*dead};
    }
    return inner_->DataSync();
  }
  const std::string& path() const override { return inner_->path(); }

 private:
  std::optional<StorageFailure> Enter(FaultyStorage::OpKind kind, std::string_view what,
                                      const std::function<void()>& apply) {
    return storage_.Enter(kind, boot_, std::string(what) + " " + inner_->path(), apply);
  }

  FaultyStorage& storage_;
  std::unique_ptr<File> inner_;
  uint64_t boot_;
};

FaultyStorage::FaultyStorage(storage::SimulatedStorage& inner, Random& crash_random)
    : inner_(inner), crash_random_(crash_random) {}
FaultyStorage::~FaultyStorage() = default;

std::optional<StorageFailure> FaultyStorage::Enter(OpKind kind, uint64_t boot,
                                                   std::string_view what,
                                                   const std::function<void()>& apply) {
  ++operations_;
  if (dead_ || boot != boot_) {
    return StorageFailure{StorageError::io_error, 0,
                          std::string(what) + " (simulated: the process that opened it died)"};
  }
  if (kind != OpKind::mutation) return std::nullopt;
  ++mutations_;
  if (!armed_ || mutations_ < armed_->at_mutation) return std::nullopt;
  const ArmedCrash crash = *armed_;
  armed_.reset();
  if (crash.apply_first && apply) apply();
  CrashLocked(crash.kind, crash.garble_torn_sector,
              std::string(what) + (crash.apply_first && apply ? " (carried out)" : " (not done)"));
  return StorageFailure{StorageError::io_error, 0,
                        std::string(what) + " (simulated crash at this operation)"};
}

void FaultyStorage::CrashLocked(CrashKind kind, bool garble_torn_sector, const std::string& where) {
  TPW_ASSERT(!dead_);
  switch (kind) {
    case CrashKind::power_cut_torn: {
      storage::CrashOptions options;
      options.keep_torn_prefix = true;
      options.corrupt_torn_sector = garble_torn_sector;
      inner_.Crash(crash_random_, options);
      break;
    }
    case CrashKind::power_cut_clean:
      inner_.CrashDroppingUnsynced();
      break;
    case CrashKind::process_kill:
      break;  // the page cache survives: nothing is lost
  }
  dead_ = true;
  ++crashes_;
  last_crash_ = std::string(CrashKindName(kind)) + " at mutation " + std::to_string(mutations_) +
                " (" + where + ")";
}

StorageResult<std::unique_ptr<File>> FaultyStorage::Open(std::string_view name, OpenMode mode) {
  std::lock_guard lock(mutex_);
  const bool creates = mode == OpenMode::create_new || mode == OpenMode::create_or_open;
  // A create that is "carried out" before the crash leaves the (unsynced) directory entry.
  auto apply = [&] { (void)inner_.Open(name, mode); };
  if (auto dead = Enter(creates ? OpKind::mutation : OpKind::read, boot_,
                        "open " + inner_.PathOf(name), apply)) {
    return Err{*dead};
  }
  StorageResult<std::unique_ptr<File>> file = inner_.Open(name, mode);
  if (!file.ok()) return Err{file.error()};
  return std::unique_ptr<File>(std::make_unique<FaultyFile>(*this, std::move(file).value(), boot_));
}

StorageResult<std::vector<std::string>> FaultyStorage::List() {
  std::lock_guard lock(mutex_);
  if (auto dead = Enter(OpKind::read, boot_, "list sim:/", {})) return Err{*dead};
  return inner_.List();
}

StorageStatus FaultyStorage::Rename(std::string_view from, std::string_view to) {
  std::lock_guard lock(mutex_);
  if (auto dead = Enter(OpKind::mutation, boot_, "rename " + inner_.PathOf(from),
                        [&] { (void)inner_.Rename(from, to); })) {
    return Err{*dead};
  }
  return inner_.Rename(from, to);
}

StorageStatus FaultyStorage::Remove(std::string_view name) {
  std::lock_guard lock(mutex_);
  if (auto dead = Enter(OpKind::mutation, boot_, "unlink " + inner_.PathOf(name),
                        [&] { (void)inner_.Remove(name); })) {
    return Err{*dead};
  }
  return inner_.Remove(name);
}

StorageStatus FaultyStorage::SyncDirectory() {
  std::lock_guard lock(mutex_);
  if (auto dead =
          Enter(OpKind::mutation, boot_, "fsync sim:/", [&] { (void)inner_.SyncDirectory(); })) {
    return Err{*dead};
  }
  return inner_.SyncDirectory();
}

StorageResult<std::unique_ptr<storage::DirectoryLock>> FaultyStorage::LockDirectory() {
  std::lock_guard lock(mutex_);
  if (auto dead = Enter(OpKind::read, boot_, "lock sim:/", {})) return Err{*dead};
  return inner_.LockDirectory();
}

std::string FaultyStorage::PathOf(std::string_view name) const { return inner_.PathOf(name); }

void FaultyStorage::Arm(const ArmedCrash& crash) {
  std::lock_guard lock(mutex_);
  TPW_ASSERT(crash.at_mutation > mutations_);
  armed_ = crash;
}

void FaultyStorage::Disarm() {
  std::lock_guard lock(mutex_);
  armed_.reset();
}

std::optional<ArmedCrash> FaultyStorage::armed() const {
  std::lock_guard lock(mutex_);
  return armed_;
}

void FaultyStorage::CrashNow(CrashKind kind, bool garble_torn_sector) {
  std::lock_guard lock(mutex_);
  armed_.reset();
  CrashLocked(kind, garble_torn_sector, "between requests");
}

bool FaultyStorage::crashed() const {
  std::lock_guard lock(mutex_);
  return dead_;
}

void FaultyStorage::Reboot() {
  std::lock_guard lock(mutex_);
  dead_ = false;
  ++boot_;
}

void FaultyStorage::SetFaults(const storage::SimulatedFaults& faults) {
  std::lock_guard lock(mutex_);
  inner_.set_faults(faults);
}

uint64_t FaultyStorage::operations() const {
  std::lock_guard lock(mutex_);
  return operations_;
}

uint64_t FaultyStorage::mutations() const {
  std::lock_guard lock(mutex_);
  return mutations_;
}

uint64_t FaultyStorage::crashes() const {
  std::lock_guard lock(mutex_);
  return crashes_;
}

std::string FaultyStorage::last_crash() const {
  std::lock_guard lock(mutex_);
  return last_crash_;
}

}  // namespace tpw::sim
