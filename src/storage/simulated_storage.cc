#include "storage/simulated_storage.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "common/assert.h"

namespace tpw::storage {

namespace {
constexpr uint64_t kClean = std::numeric_limits<uint64_t>::max();
}  // namespace

struct SimulatedStorage::Inode {
  std::vector<uint8_t> data;     // what the running process sees
  std::vector<uint8_t> durable;  // what survives a crash
  // Lowest offset changed since the last sync, or kClean. Bytes below it are equal in `data`
  // and `durable`, so a sync only copies from here on (journal writes are appends).
  uint64_t dirty_from = kClean;
};

class SimulatedFile final : public File {
 public:
  SimulatedFile(SimulatedStorage& storage, std::shared_ptr<SimulatedStorage::Inode> inode,
                std::string path, bool writable)
      : storage_(storage),
        inode_(std::move(inode)),
        path_(std::move(path)),
        generation_(storage.generation_),
        writable_(writable) {}

  StorageStatus Append(std::span<const uint8_t> bytes) override {
    return Write(inode_->data.size(), bytes);
  }

  StorageStatus Write(uint64_t offset, std::span<const uint8_t> bytes) override {
    if (StorageStatus s = CheckUsable("write", true); !s.ok()) return s;
    const SimulatedFaults& faults = storage_.faults_;
    size_t count = bytes.size();
    StorageError failure = StorageError::io_error;
    bool fail = false;
    if (storage_.random_.Chance(faults.write_no_space_ppm, kPartsPerMillion)) {
      fail = true;
      failure = StorageError::no_space;
    } else if (storage_.random_.Chance(faults.write_io_error_ppm, kPartsPerMillion)) {
      fail = true;
    }
    if (fail) count = static_cast<size_t>(storage_.random_.Uniform(bytes.size() + 1));
    const uint64_t end = offset + count;
    const uint64_t growth = end > inode_->data.size() ? end - inode_->data.size() : 0;
    const uint64_t live = storage_.LiveBytes();
    if (live + growth > faults.capacity_bytes) {  // fill what fits, then report a full disk
      const uint64_t room = faults.capacity_bytes > live ? faults.capacity_bytes - live : 0;
      const uint64_t fits_end = inode_->data.size() + room;
      count = offset >= fits_end
                  ? 0
                  : static_cast<size_t>(std::min<uint64_t>(count, fits_end - offset));
      fail = true;
      failure = StorageError::no_space;
    }
    Put(offset, bytes.first(count));
    if (fail) return StorageFail(failure, 0, "write " + path_ + " (simulated fault)");
    return StorageStatus::Ok();
  }

  StorageResult<size_t> Read(uint64_t offset, std::span<uint8_t> out) override {
    if (StorageStatus s = CheckUsable("read", false); !s.ok()) return Err{s.error()};
    if (storage_.random_.Chance(storage_.faults_.read_io_error_ppm, kPartsPerMillion)) {
      return StorageFail(StorageError::io_error, 0, "read " + path_ + " (simulated fault)");
    }
    const std::vector<uint8_t>& data = inode_->data;
    if (offset >= data.size()) return size_t{0};
    const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), data.size() - offset));
    std::memcpy(out.data(), data.data() + offset, n);
    return n;
  }

  StorageResult<uint64_t> Size() override {
    if (StorageStatus s = CheckUsable("stat", false); !s.ok()) return Err{s.error()};
    return static_cast<uint64_t>(inode_->data.size());
  }

  StorageStatus Truncate(uint64_t size) override {
    if (StorageStatus s = CheckUsable("truncate", true); !s.ok()) return s;
    const uint64_t old_size = inode_->data.size();
    if (size > old_size &&
        storage_.LiveBytes() + (size - old_size) > storage_.faults_.capacity_bytes) {
      return StorageFail(StorageError::no_space, 0, "truncate " + path_ + " (simulated fault)");
    }
    inode_->data.resize(static_cast<size_t>(size));
    inode_->dirty_from = std::min({inode_->dirty_from, old_size, size});
    return StorageStatus::Ok();
  }

  StorageStatus DataSync() override {
    if (StorageStatus s = CheckUsable("fdatasync", false); !s.ok()) return s;
    if (storage_.random_.Chance(storage_.faults_.sync_io_error_ppm, kPartsPerMillion)) {
      return StorageFail(StorageError::io_error, 0, "fdatasync " + path_ + " (simulated fault)");
    }
    SimulatedStorage::Inode& inode = *inode_;
    if (inode.dirty_from == kClean) return StorageStatus::Ok();
    const size_t from =
        static_cast<size_t>(std::min<uint64_t>(inode.dirty_from, inode.data.size()));
    inode.durable.resize(inode.data.size());
    std::copy(inode.data.begin() + static_cast<ptrdiff_t>(from), inode.data.end(),
              inode.durable.begin() + static_cast<ptrdiff_t>(from));
    inode.dirty_from = kClean;
    return StorageStatus::Ok();
  }

  const std::string& path() const override { return path_; }

 private:
  StorageStatus CheckUsable(std::string_view what, bool write) const {
    if (generation_ != storage_.generation_) {
      return StorageFail(StorageError::stale_handle, 0, std::string(what) + " " + path_);
    }
    if (write && !writable_) {
      return StorageFail(StorageError::permission_denied, 0,
                         std::string(what) + " " + path_ + " (opened read-only)");
    }
    return StorageStatus::Ok();
  }

  void Put(uint64_t offset, std::span<const uint8_t> bytes) {
    if (bytes.empty()) return;
    std::vector<uint8_t>& data = inode_->data;
    const uint64_t old_size = data.size();
    const uint64_t end = offset + bytes.size();
    if (end > data.size()) data.resize(static_cast<size_t>(end));
    std::memcpy(data.data() + offset, bytes.data(), bytes.size());
    inode_->dirty_from = std::min({inode_->dirty_from, offset, old_size});
  }

  SimulatedStorage& storage_;
  std::shared_ptr<SimulatedStorage::Inode> inode_;
  std::string path_;
  uint64_t generation_;
  bool writable_;
};

class SimulatedLock final : public DirectoryLock {
 public:
  explicit SimulatedLock(SimulatedStorage& storage)
      : storage_(storage), generation_(storage.generation_) {}
  // A crash already released the lock (its holder died); never release a newer holder's lock.
  ~SimulatedLock() override {
    if (generation_ == storage_.generation_) storage_.locked_ = false;
  }

 private:
  SimulatedStorage& storage_;
  uint64_t generation_;
};

SimulatedStorage::SimulatedStorage(Random& random) : random_(random) {}
SimulatedStorage::~SimulatedStorage() = default;

std::string SimulatedStorage::PathOf(std::string_view name) const {
  return "sim:/" + std::string(name);
}

StorageResult<std::unique_ptr<File>> SimulatedStorage::Open(std::string_view name, OpenMode mode) {
  if (!IsValidFileName(name))
    return StorageFail(StorageError::invalid_name, 0, "open " + PathOf(name));
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    if (mode != OpenMode::create_new && mode != OpenMode::create_or_open) {
      return StorageFail(StorageError::not_found, 0, "open " + PathOf(name));
    }
    it = entries_.emplace(std::string(name), std::make_shared<Inode>()).first;
  } else if (mode == OpenMode::create_new) {
    return StorageFail(StorageError::exists, 0, "open " + PathOf(name));
  }
  return std::unique_ptr<File>(std::make_unique<SimulatedFile>(*this, it->second, PathOf(name),
                                                               mode != OpenMode::read_only));
}

StorageResult<std::vector<std::string>> SimulatedStorage::List() {
  std::vector<std::string> names;
  names.reserve(entries_.size());
  for (const auto& [name, inode] : entries_) names.push_back(name);
  return names;  // std::map iterates in bytewise order already
}

StorageStatus SimulatedStorage::Rename(std::string_view from, std::string_view to) {
  if (!IsValidFileName(from) || !IsValidFileName(to)) {
    return StorageFail(StorageError::invalid_name, 0,
                       "rename " + PathOf(from) + " to " + PathOf(to));
  }
  auto it = entries_.find(from);
  if (it == entries_.end())
    return StorageFail(StorageError::not_found, 0, "rename " + PathOf(from));
  std::shared_ptr<Inode> inode = it->second;
  entries_.erase(it);
  entries_.insert_or_assign(std::string(to), std::move(inode));
  return StorageStatus::Ok();
}

StorageStatus SimulatedStorage::Remove(std::string_view name) {
  if (!IsValidFileName(name))
    return StorageFail(StorageError::invalid_name, 0, "remove " + PathOf(name));
  auto it = entries_.find(name);
  if (it == entries_.end())
    return StorageFail(StorageError::not_found, 0, "remove " + PathOf(name));
  entries_.erase(it);
  return StorageStatus::Ok();
}

StorageStatus SimulatedStorage::SyncDirectory() {
  if (random_.Chance(faults_.sync_io_error_ppm, kPartsPerMillion)) {
    return StorageFail(StorageError::io_error, 0, "fsync sim:/ (simulated fault)");
  }
  durable_entries_ = entries_;
  return StorageStatus::Ok();
}

StorageResult<std::unique_ptr<DirectoryLock>> SimulatedStorage::LockDirectory() {
  if (locked_) {
    return StorageFail(StorageError::locked, 0,
                       "lock data directory sim:/: it is in use; the lock file " +
                           PathOf(kLockFileName) + " is held by another opener");
  }
  locked_ = true;
  return std::unique_ptr<DirectoryLock>(std::make_unique<SimulatedLock>(*this));
}

uint64_t SimulatedStorage::LiveBytes() const {
  uint64_t total = 0;
  for (const auto& [name, inode] : entries_) total += inode->data.size();
  return total;
}

uint64_t SimulatedStorage::UnsyncedBytes() const {
  uint64_t total = 0;
  for (const auto& [name, inode] : entries_) {
    if (inode->dirty_from != kClean && inode->dirty_from < inode->data.size()) {
      total += inode->data.size() - inode->dirty_from;
    }
  }
  return total;
}

// What one file looks like after the power cut: its durable image, plus (maybe) a prefix of the
// bytes written since, possibly with the kept part of the last sector garbled.
void SimulatedStorage::TearInode(Inode& inode, Random* random, const CrashOptions& options) {
  std::vector<uint8_t> after = inode.durable;
  const uint64_t from = inode.dirty_from;
  if (from != kClean && from < inode.data.size() && random != nullptr && options.keep_torn_prefix &&
      random->Chance(1, 2)) {
    const uint64_t unsynced = inode.data.size() - from;
    const uint64_t kept = random->Uniform(unsynced + 1);
    const uint64_t end = from + kept;
    if (after.size() < end) after.resize(static_cast<size_t>(end));
    std::copy(inode.data.begin() + static_cast<ptrdiff_t>(from),
              inode.data.begin() + static_cast<ptrdiff_t>(end),
              after.begin() + static_cast<ptrdiff_t>(from));
    if (kept > 0 && options.corrupt_torn_sector && random->Chance(1, 4)) {
      const uint64_t sector_start =
          std::max(from, (end - 1) / kSimulatedSectorBytes * kSimulatedSectorBytes);
      random->Fill(
          std::span<uint8_t>(after.data() + sector_start, static_cast<size_t>(end - sector_start)));
    }
  }
  inode.data = after;
  inode.durable = std::move(after);
  inode.dirty_from = kClean;
}

void SimulatedStorage::CrashWith(Random* random, const CrashOptions& options) {
  // Tear each surviving inode once, even if two durable names point at it.
  std::set<Inode*> torn;
  for (auto& [name, inode] : durable_entries_) {
    if (torn.insert(inode.get()).second) TearInode(*inode, random, options);
  }
  entries_ = durable_entries_;
  ++generation_;
  locked_ = false;
}

void SimulatedStorage::Crash(Random& random, CrashOptions options) { CrashWith(&random, options); }

void SimulatedStorage::CrashDroppingUnsynced() { CrashWith(nullptr, CrashOptions{}); }

}  // namespace tpw::storage
