// Storage and File: the engine's only door to durable bytes.
//
// A Storage is one directory of plain files; a File is one open file in it. PosixStorage runs on a
// real disk; SimulatedStorage runs in memory for the deterministic simulator and injects crashes,
// torn writes and I/O errors. Code above this layer (journal, snapshots) is written once against
// these interfaces and tested on both.
//
// Durability contract (POSIX semantics, which SimulatedStorage models):
//   - File bytes written by Append/Write/Truncate are durable only after File::DataSync().
//   - Directory entries (create, rename, remove) are durable only after Storage::SyncDirectory().
// Errors: every fallible call returns StorageResult/StorageStatus. The StorageError code says what
// kind of failure it was; StorageFailure::Message() adds the path and the errno text. None of the
// errors are worth retrying blindly: after a failed write or sync the file's contents are unknown.
// Thread-safety: a File is used by one thread at a time. PosixStorage's methods may be called from
// any thread; SimulatedStorage is single-threaded like the simulator that drives it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tpw::storage {

// Longest file name a Storage accepts (POSIX NAME_MAX on Linux file systems).
inline constexpr size_t kFileNameBytesMax = 255;
// The file LockDirectory() flocks; it is never removed (removing it would race with openers).
inline constexpr std::string_view kLockFileName = "LOCK";
// WriteFileAtomically() writes `name + kTempSuffix` first, then renames it over `name`.
inline constexpr std::string_view kTempSuffix = ".tmp";

// Stable numeric values: they appear in logs and the CLI's messages. Append only.
#define TPW_STORAGE_ERRORS(X)                                                             \
  X(no_space, 1, "the disk or the quota is full")                                         \
  X(permission_denied, 2, "the process may not do this (permissions or read-only mount)") \
  X(not_found, 3, "the file or directory does not exist")                                 \
  X(exists, 4, "the file already exists")                                                 \
  X(io_error, 5, "the device or file system reported an I/O error")                       \
  X(locked, 6, "another opener holds the directory lock")                                 \
  X(invalid_name, 7, "the file name is empty, too long, or contains '/' or NUL")          \
  X(too_large, 8, "the file is larger than the caller allows")                            \
  X(too_many_open_files, 9, "the process or system ran out of file descriptors")          \
  X(not_a_directory, 10, "the storage path is not a directory")                           \
  X(stale_handle, 11, "the file handle was opened before a simulated crash")

enum class StorageError : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_STORAGE_ERRORS(TPW_X)
#undef TPW_X
};

std::string_view StorageErrorName(StorageError error);
std::string_view StorageErrorMessage(StorageError error);

// A failed storage call: the code to branch on, plus what a human needs to act on it.
struct StorageFailure {
  StorageError code = StorageError::io_error;
  int errno_value = 0;  // errno of the failing system call; 0 for simulated faults and limits
  std::string context;  // the attempted operation and path: "pwrite /data/journal/segment-1.tpj"
  // "pwrite /data/x: No space left on device [no_space]"
  std::string Message() const;
};

template <typename T>
using StorageResult = Result<T, StorageFailure>;
using StorageStatus = Status<StorageFailure>;

// Builds the error value for a failure; `errno_value` 0 means "not from a system call".
Err<StorageFailure> StorageFail(StorageError code, int errno_value, std::string context);

// True for a plain file name this layer accepts: 1..kFileNameBytesMax bytes, no '/', no NUL,
// not "." or "..".
bool IsValidFileName(std::string_view name);

class File {
 public:
  virtual ~File() = default;

  // Writes all of `bytes` at the end of the file. Not durable until DataSync(). On failure a
  // prefix of `bytes` may have been written.
  virtual StorageStatus Append(std::span<const uint8_t> bytes) = 0;
  // Writes all of `bytes` at `offset`, extending the file if needed (a gap reads as zeros).
  virtual StorageStatus Write(uint64_t offset, std::span<const uint8_t> bytes) = 0;
  // Reads up to out.size() bytes at `offset`; returns how many, fewer only at the end of file.
  virtual StorageResult<size_t> Read(uint64_t offset, std::span<uint8_t> out) = 0;
  virtual StorageResult<uint64_t> Size() = 0;
  virtual StorageStatus Truncate(uint64_t size) = 0;
  // fdatasync: the file's bytes and size are durable when this returns ok.
  virtual StorageStatus DataSync() = 0;
  // A hint: start writing [offset, offset + length) to the device now, without waiting, so a
  // later DataSync() has less left to do. Guarantees nothing; errors surface at DataSync().
  virtual void StartWriteback(uint64_t /*offset*/, uint64_t /*length*/) {}
  // The file's path for messages ("/data/journal/segment-1.tpj", "sim:/segment-1.tpj").
  virtual const std::string& path() const = 0;

  // Reads exactly out.size() bytes; io_error naming the path if the file ends first.
  StorageStatus ReadExact(uint64_t offset, std::span<uint8_t> out);
};

enum class OpenMode : uint8_t {
  read_only = 1,       // must exist; writes fail
  read_write = 2,      // must exist
  create_new = 3,      // must not exist (`exists` otherwise)
  create_or_open = 4,  // created empty when missing
};

// Held for as long as the directory must stay exclusively ours; released on destruction.
class DirectoryLock {
 public:
  virtual ~DirectoryLock() = default;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Opens `name` in this directory. Files must not outlive their Storage.
  virtual StorageResult<std::unique_ptr<File>> Open(std::string_view name, OpenMode mode) = 0;
  // Names of the plain files in the directory (no subdirectories), sorted bytewise.
  virtual StorageResult<std::vector<std::string>> List() = 0;
  // Atomically replaces `to` with `from` (either the old or the new `to` is seen, never neither).
  virtual StorageStatus Rename(std::string_view from, std::string_view to) = 0;
  virtual StorageStatus Remove(std::string_view name) = 0;
  // Makes the directory's entries (creates, renames, removes so far) durable.
  virtual StorageStatus SyncDirectory() = 0;
  // Exclusive lock on the directory for the life of the returned object. A second opener (this
  // process or another) gets `locked`, with a message naming the lock file.
  virtual StorageResult<std::unique_ptr<DirectoryLock>> LockDirectory() = 0;
  // Where `name` lives, for messages.
  virtual std::string PathOf(std::string_view name) const = 0;

  // Replaces `name` with `bytes` so that after a crash either the old or the new contents are
  // seen, whole: write `name.tmp`, fdatasync, rename over `name`, fsync the directory.
  StorageStatus WriteFileAtomically(std::string_view name, std::span<const uint8_t> bytes);
  // Reads a whole file; too_large (without reading) when it holds more than `bytes_max` bytes.
  StorageResult<std::vector<uint8_t>> ReadFile(std::string_view name, uint64_t bytes_max);
};

}  // namespace tpw::storage
