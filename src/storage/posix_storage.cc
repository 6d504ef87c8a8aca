#include "storage/posix_storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "common/assert.h"

namespace tpw::storage {
namespace {

// The pid text written into LOCK: "1234\n"; bounded so a hostile LOCK file is never read whole.
constexpr size_t kLockHolderTextBytesMax = 32;
// A single pread/pwrite moves at most this much (Linux caps a call at 0x7ffff000 anyway).
constexpr size_t kIoChunkBytesMax = size_t{1} << 30;

Err<StorageFailure> FailErrno(std::string_view what, const std::string& path) {
  const int e = errno;
  return StorageFail(StorageErrorFromErrno(e), e, std::string(what) + " " + path);
}

template <typename Fn>
auto RetryEintr(Fn fn) {
  for (;;) {
    auto rc = fn();
    if (rc >= 0 || errno != EINTR) return rc;
  }
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), end_(size) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  StorageStatus Append(std::span<const uint8_t> bytes) override { return Write(end_, bytes); }

  StorageStatus Write(uint64_t offset, std::span<const uint8_t> bytes) override {
    size_t done = 0;
    while (done < bytes.size()) {
      const size_t chunk = std::min(bytes.size() - done, kIoChunkBytesMax);
      const ssize_t n = RetryEintr([&] {
        return ::pwrite(fd_, bytes.data() + done, chunk, static_cast<off_t>(offset + done));
      });
      if (n < 0) {
        end_ = std::max(end_, offset + done);
        return FailErrno("pwrite", path_);
      }
      // pwrite returns 0 only for a zero-length request; anything else would loop forever.
      if (n == 0) return StorageFail(StorageError::io_error, 0, "pwrite returned 0 on " + path_);
      done += static_cast<size_t>(n);
    }
    end_ = std::max(end_, offset + done);
    return StorageStatus::Ok();
  }

  StorageResult<size_t> Read(uint64_t offset, std::span<uint8_t> out) override {
    size_t done = 0;
    while (done < out.size()) {
      const size_t chunk = std::min(out.size() - done, kIoChunkBytesMax);
      const ssize_t n = RetryEintr([&] {
        return ::pread(fd_, out.data() + done, chunk, static_cast<off_t>(offset + done));
      });
      if (n < 0) return FailErrno("pread", path_);
      if (n == 0) break;  // end of file
      done += static_cast<size_t>(n);
    }
    return done;
  }

  StorageResult<uint64_t> Size() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return FailErrno("fstat", path_);
    return static_cast<uint64_t>(st.st_size);
  }

  StorageStatus Truncate(uint64_t size) override {
    if (RetryEintr([&] { return ::ftruncate(fd_, static_cast<off_t>(size)); }) != 0) {
      return FailErrno("ftruncate", path_);
    }
    end_ = size;
    return StorageStatus::Ok();
  }

  void StartWriteback(uint64_t offset, uint64_t length) override {
    // Linux-specific and only a hint (Debian is the target); a failure shows up at fdatasync.
    (void)::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(length),
                            SYNC_FILE_RANGE_WRITE);
  }

  StorageStatus DataSync() override {
    if (RetryEintr([&] { return ::fdatasync(fd_); }) != 0) return FailErrno("fdatasync", path_);
    return StorageStatus::Ok();
  }

  const std::string& path() const override { return path_; }

 private:
  int fd_;
  std::string path_;
  uint64_t end_;  // where Append writes; we are the only writer (the directory is locked)
};

class PosixDirectoryLock final : public DirectoryLock {
 public:
  explicit PosixDirectoryLock(int fd) : fd_(fd) {}
  // Closing the descriptor releases the flock.
  ~PosixDirectoryLock() override { ::close(fd_); }
  PosixDirectoryLock(const PosixDirectoryLock&) = delete;
  PosixDirectoryLock& operator=(const PosixDirectoryLock&) = delete;

 private:
  int fd_;
};

int OpenFlags(OpenMode mode) {
  switch (mode) {
    case OpenMode::read_only:
      return O_RDONLY;
    case OpenMode::read_write:
      return O_RDWR;
    case OpenMode::create_new:
      return O_RDWR | O_CREAT | O_EXCL;
    case OpenMode::create_or_open:
      return O_RDWR | O_CREAT;
  }
  TPW_UNREACHABLE();
}

// Reads the holder's pid text from a LOCK file we failed to lock, for the error message.
std::string LockHolderText(int fd) {
  char text[kLockHolderTextBytesMax] = {};
  const ssize_t n = RetryEintr([&] { return ::pread(fd, text, sizeof(text) - 1, 0); });
  if (n <= 0) return "";
  std::string holder(text, static_cast<size_t>(n));
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
  const bool digits = !holder.empty() && std::all_of(holder.begin(), holder.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
  return digits ? holder : "";
}

}  // namespace

StorageError StorageErrorFromErrno(int errno_value) {
  switch (errno_value) {
    case ENOSPC:
    case EDQUOT:
      return StorageError::no_space;
    case EACCES:
    case EPERM:
    case EROFS:
      return StorageError::permission_denied;
    case ENOENT:
      return StorageError::not_found;
    case EEXIST:
      return StorageError::exists;
    case EWOULDBLOCK:
      return StorageError::locked;
    case ENAMETOOLONG:
      return StorageError::invalid_name;
    case EMFILE:
    case ENFILE:
      return StorageError::too_many_open_files;
    case ENOTDIR:
      return StorageError::not_a_directory;
    case EFBIG:
      return StorageError::too_large;
    default:
      return StorageError::io_error;
  }
}

PosixStorage::PosixStorage(std::string directory, int directory_fd)
    : directory_(std::move(directory)), directory_fd_(directory_fd) {}

PosixStorage::~PosixStorage() { ::close(directory_fd_); }

static StorageStatus SyncParentDirectory(const std::string& directory) {
  const size_t slash = directory.find_last_of('/');
  const std::string parent = slash == std::string::npos ? "."
                             : slash == 0               ? "/"
                                                        : directory.substr(0, slash);
  const int fd =
      RetryEintr([&] { return ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return FailErrno("open", parent);
  const int rc = RetryEintr([&] { return ::fsync(fd); });
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) return FailErrno("fsync", parent);
  return StorageStatus::Ok();
}

StorageResult<std::unique_ptr<PosixStorage>> PosixStorage::Open(const std::string& directory,
                                                                bool create_if_missing) {
  std::string path = directory;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty()) return StorageFail(StorageError::invalid_name, 0, "open storage \"\"");
  if (create_if_missing) {
    if (::mkdir(path.c_str(), 0755) == 0) {
      if (StorageStatus s = SyncParentDirectory(path); !s.ok()) return Err{s.error()};
    } else if (errno != EEXIST) {
      return FailErrno("mkdir", path);
    }
  }
  const int fd =
      RetryEintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return FailErrno("open directory", path);
  // The constructor is private (Open is the only way in), so make_unique cannot reach it.
  return std::unique_ptr<PosixStorage>(new PosixStorage(std::move(path), fd));
}

std::string PosixStorage::PathOf(std::string_view name) const {
  return directory_ + "/" + std::string(name);
}

StorageResult<std::unique_ptr<File>> PosixStorage::Open(std::string_view name, OpenMode mode) {
  if (!IsValidFileName(name))
    return StorageFail(StorageError::invalid_name, 0, "open " + PathOf(name));
  const std::string path = PathOf(name);
  const std::string name_z(name);
  const int fd = RetryEintr(
      [&] { return ::openat(directory_fd_, name_z.c_str(), OpenFlags(mode) | O_CLOEXEC, 0644); });
  if (fd < 0) return FailErrno("open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return FailErrno("fstat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return StorageFail(StorageError::io_error, 0, "open " + path + ": not a regular file");
  }
  return std::unique_ptr<File>(
      std::make_unique<PosixFile>(fd, path, static_cast<uint64_t>(st.st_size)));
}

StorageResult<std::vector<std::string>> PosixStorage::List() {
  // fdopendir takes ownership of its descriptor, so give it a duplicate.
  const int fd =
      RetryEintr([&] { return ::openat(directory_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return FailErrno("open directory", directory_);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return FailErrno("fdopendir", directory_);
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    bool regular = entry->d_type == DT_REG;
    if (entry->d_type == DT_UNKNOWN) {  // some file systems do not fill d_type
      struct stat st {};
      regular = ::fstatat(directory_fd_, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISREG(st.st_mode);
    }
    if (regular) names.emplace_back(name);
    errno = 0;
  }
  const int read_errno = errno;
  ::closedir(dir);
  if (read_errno != 0) {
    errno = read_errno;
    return FailErrno("readdir", directory_);
  }
  std::sort(names.begin(), names.end());
  return names;
}

StorageStatus PosixStorage::Rename(std::string_view from, std::string_view to) {
  if (!IsValidFileName(from) || !IsValidFileName(to)) {
    return StorageFail(StorageError::invalid_name, 0,
                       "rename " + PathOf(from) + " to " + PathOf(to));
  }
  const std::string from_z(from), to_z(to);
  if (::renameat(directory_fd_, from_z.c_str(), directory_fd_, to_z.c_str()) != 0) {
    return FailErrno("rename", PathOf(from) + " to " + PathOf(to));
  }
  return StorageStatus::Ok();
}

StorageStatus PosixStorage::Remove(std::string_view name) {
  if (!IsValidFileName(name))
    return StorageFail(StorageError::invalid_name, 0, "remove " + PathOf(name));
  const std::string name_z(name);
  if (::unlinkat(directory_fd_, name_z.c_str(), 0) != 0) return FailErrno("unlink", PathOf(name));
  return StorageStatus::Ok();
}

StorageStatus PosixStorage::SyncDirectory() {
  if (RetryEintr([&] { return ::fsync(directory_fd_); }) != 0)
    return FailErrno("fsync", directory_);
  return StorageStatus::Ok();
}

StorageResult<std::unique_ptr<DirectoryLock>> PosixStorage::LockDirectory() {
  const std::string path = PathOf(kLockFileName);
  const std::string name_z(kLockFileName);
  const int fd = RetryEintr(
      [&] { return ::openat(directory_fd_, name_z.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644); });
  if (fd < 0) return FailErrno("open", path);
  // flock locks belong to the open file description, so a second open of LOCK in this same
  // process conflicts too: two openers in one process are as wrong as in two processes.
  if (RetryEintr([&] { return ::flock(fd, LOCK_EX | LOCK_NB); }) != 0) {
    const int saved = errno;
    const std::string holder = LockHolderText(fd);
    ::close(fd);
    if (saved != EWOULDBLOCK) {
      errno = saved;
      return FailErrno("flock", path);
    }
    return StorageFail(StorageError::locked, 0,
                       "lock data directory " + directory_ + ": it is in use; the lock file " +
                           path + " is held" + (holder.empty() ? "" : " by pid " + holder));
  }
  // Record our pid for the next opener's message. Best effort: the flock is what protects.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    (void)RetryEintr([&] { return ::pwrite(fd, pid.data(), pid.size(), 0); });
  }
  return std::unique_ptr<DirectoryLock>(std::make_unique<PosixDirectoryLock>(fd));
}

}  // namespace tpw::storage
