// PosixStorage: Storage on a real directory (Linux). Uses *at() calls relative to a directory
// descriptor held open for the object's life, O_CLOEXEC everywhere, retries EINTR and short
// reads/writes, and flock(2) on the LOCK file for LockDirectory().
#pragma once

#include <memory>
#include <string>

#include "storage/storage.h"

namespace tpw::storage {

class PosixStorage final : public Storage {
 public:
  // Opens `directory`; when it is missing and `create_if_missing`, creates it (one level, 0755)
  // and fsyncs its parent so the new directory itself survives a crash.
  static StorageResult<std::unique_ptr<PosixStorage>> Open(const std::string& directory,
                                                           bool create_if_missing);
  ~PosixStorage() override;
  PosixStorage(const PosixStorage&) = delete;
  PosixStorage& operator=(const PosixStorage&) = delete;

  StorageResult<std::unique_ptr<File>> Open(std::string_view name, OpenMode mode) override;
  StorageResult<std::vector<std::string>> List() override;
  StorageStatus Rename(std::string_view from, std::string_view to) override;
  StorageStatus Remove(std::string_view name) override;
  StorageStatus SyncDirectory() override;
  StorageResult<std::unique_ptr<DirectoryLock>> LockDirectory() override;
  std::string PathOf(std::string_view name) const override;

  const std::string& directory() const { return directory_; }

 private:
  PosixStorage(std::string directory, int directory_fd);
  std::string directory_;
  int directory_fd_;
};

// Maps an errno value to the StorageError a caller branches on.
StorageError StorageErrorFromErrno(int errno_value);

}  // namespace tpw::storage
