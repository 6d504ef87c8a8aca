#include "storage/posix_storage.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "storage/test_temp_dir.h"

namespace tpw::storage {
namespace {

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::unique_ptr<PosixStorage> OpenStorage(const std::string& path) {
  StorageResult<std::unique_ptr<PosixStorage>> storage = PosixStorage::Open(path, true);
  TPW_ASSERT(storage.ok());
  return std::move(storage).value();
}

std::string ReadAll(File& file) {
  StorageResult<uint64_t> size = file.Size();
  TPW_ASSERT(size.ok());
  std::string text(static_cast<size_t>(size.value()), '\0');
  TPW_ASSERT(
      file.ReadExact(0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), text.size()))
          .ok());
  return text;
}

TEST(PosixStorageTest, AppendWriteReadTruncateAndSyncRoundTrip) {
  TempDir dir;
  auto storage = OpenStorage(dir.path());
  auto file = storage->Open("data", OpenMode::create_new);
  ASSERT_TRUE(file.ok()) << file.error().Message();
  File& f = *file.value();
  ASSERT_TRUE(f.Append(Bytes("hello ")).ok());
  ASSERT_TRUE(f.Append(Bytes("world")).ok());
  ASSERT_TRUE(f.Write(0, Bytes("J")).ok());
  ASSERT_TRUE(f.DataSync().ok());
  EXPECT_EQ(ReadAll(f), "Jello world");
  ASSERT_TRUE(f.Truncate(5).ok());
  ASSERT_TRUE(f.Append(Bytes("!")).ok());  // appends land at the new end
  EXPECT_EQ(ReadAll(f), "Jello!");
  EXPECT_EQ(f.path(), dir.path() + "/data");
}

TEST(PosixStorageTest, ReadPastEndReturnsShortCountAndReadExactFails) {
  TempDir dir;
  auto storage = OpenStorage(dir.path());
  auto file = storage->Open("data", OpenMode::create_new);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(file.value()->Append(Bytes("abc")).ok());
  std::vector<uint8_t> out(10);
  StorageResult<size_t> read = file.value()->Read(1, out);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read.value(), 2u);
  StorageStatus exact = file.value()->ReadExact(1, out);
  ASSERT_FALSE(exact.ok());
  EXPECT_EQ(exact.error().code, StorageError::io_error);
}

TEST(PosixStorageTest, OpenModesReportNotFoundAndExists) {
  TempDir dir;
  auto storage = OpenStorage(dir.path());
  auto missing = storage->Open("nope", OpenMode::read_only);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, StorageError::not_found);
  EXPECT_NE(missing.error().Message().find(dir.path() + "/nope"), std::string::npos);
  ASSERT_TRUE(storage->Open("x", OpenMode::create_new).ok());
  auto again = storage->Open("x", OpenMode::create_new);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, StorageError::exists);
  EXPECT_TRUE(storage->Open("x", OpenMode::create_or_open).ok());
  EXPECT_TRUE(storage->Open("x", OpenMode::read_write).ok());
}

TEST(PosixStorageTest, ReadOnlyFileRefusesWrites) {
  TempDir dir;
  auto storage = OpenStorage(dir.path());
  ASSERT_TRUE(storage->Open("x", OpenMode::create_new).ok());
  auto file = storage->Open("x", OpenMode::read_only);
  ASSERT_TRUE(file.ok());
  StorageStatus write = file.value()->Append(Bytes("no"));
  ASSERT_FALSE(write.ok());
  EXPECT_NE(write.error().errno_value, 0);
}

TEST(PosixStorageTest, InvalidNamesAreRejected) {
  TempDir dir;
  auto storage = OpenStorage(dir.path());
  for (const std::string& name : {std::string(""), std::string("."), std::string(".."),
                                  std::string("a/b"), std::string(300, 'x')}) {
    auto file = storage->Open(name, OpenMode::create_or_open);
    ASSERT_FALSE(file.ok()) << name;
    EXPECT_EQ(file.error().code, StorageError::invalid_name) << name;
  }
  EXPECT_EQ(storage->Remove("../x").error().code, StorageError::invalid_name);
  EXPECT_EQ(storage->Rename("a", "b/c").error().code, StorageError::invalid_name);
}

TEST(PosixStorageTest, ListShowsPlainFilesSortedAndSkipsDirectories) {
  TempDir dir;
  auto storage = OpenStorage(dir.path());
  for (const char* name : {"b", "a", "c"})
    ASSERT_TRUE(storage->Open(name, OpenMode::create_new).ok());
  ASSERT_EQ(::mkdir((dir.path() + "/subdir").c_str(), 0755), 0);
  auto names = storage->List();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names.value(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(PosixStorageTest, RenameReplacesAtomicallyAndRemoveDeletes) {
  TempDir dir;
  auto storage = OpenStorage(dir.path());
  ASSERT_TRUE(storage->WriteFileAtomically("target", Bytes("old")).ok());
  auto temp = storage->Open("new", OpenMode::create_new);
  ASSERT_TRUE(temp.ok());
  ASSERT_TRUE(temp.value()->Append(Bytes("new")).ok());
  ASSERT_TRUE(storage->Rename("new", "target").ok());
  ASSERT_TRUE(storage->SyncDirectory().ok());
  auto bytes = storage->ReadFile("target", 100);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(std::string(bytes.value().begin(), bytes.value().end()), "new");
  ASSERT_TRUE(storage->Remove("target").ok());
  EXPECT_EQ(storage->Remove("target").error().code, StorageError::not_found);
  EXPECT_EQ(storage->Rename("missing", "x").error().code, StorageError::not_found);
}

TEST(PosixStorageTest, WriteFileAtomicallyReplacesContentsAndLeavesNoTempFile) {
  TempDir dir;
  auto storage = OpenStorage(dir.path());
  // A stale, longer temp file from an earlier crash must not leak into the result.
  auto stale = storage->Open("snap.tmp", OpenMode::create_new);
  ASSERT_TRUE(stale.ok());
  ASSERT_TRUE(stale.value()->Append(Bytes("stale stale stale")).ok());
  ASSERT_TRUE(storage->WriteFileAtomically("snap", Bytes("v1")).ok());
  ASSERT_TRUE(storage->WriteFileAtomically("snap", Bytes("version 2")).ok());
  auto bytes = storage->ReadFile("snap", 100);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(std::string(bytes.value().begin(), bytes.value().end()), "version 2");
  auto names = storage->List();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names.value(), std::vector<std::string>{"snap"});
}

TEST(PosixStorageTest, ReadFileOverLimitIsTooLarge) {
  TempDir dir;
  auto storage = OpenStorage(dir.path());
  ASSERT_TRUE(storage->WriteFileAtomically("f", Bytes("0123456789")).ok());
  auto bytes = storage->ReadFile("f", 9);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.error().code, StorageError::too_large);
}

TEST(PosixStorageTest, OpenCreatesMissingDirectoryOrReportsNotFound) {
  TempDir dir;
  auto missing = PosixStorage::Open(dir.path() + "/absent", false);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, StorageError::not_found);
  auto created = PosixStorage::Open(dir.path() + "/fresh/", true);
  ASSERT_TRUE(created.ok()) << created.error().Message();
  EXPECT_EQ(created.value()->directory(), dir.path() + "/fresh");
}

TEST(PosixStorageTest, OpeningAFileAsStorageIsNotADirectory) {
  TempDir dir;
  std::ofstream(dir.path() + "/plain") << "x";
  auto storage = PosixStorage::Open(dir.path() + "/plain", false);
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.error().code, StorageError::not_a_directory);
}

TEST(PosixStorageTest, PermissionDeniedIsReportedWithErrnoText) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions";
  TempDir dir;
  auto storage = OpenStorage(dir.path());
  ASSERT_EQ(::chmod(dir.path().c_str(), 0500), 0);
  auto file = storage->Open("x", OpenMode::create_new);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, StorageError::permission_denied);
  EXPECT_NE(file.error().Message().find("Permission denied"), std::string::npos);
}

TEST(PosixStorageTest, ErrnoValuesMapToStorageErrors) {
  EXPECT_EQ(StorageErrorFromErrno(ENOSPC), StorageError::no_space);
  EXPECT_EQ(StorageErrorFromErrno(EDQUOT), StorageError::no_space);
  EXPECT_EQ(StorageErrorFromErrno(EROFS), StorageError::permission_denied);
  EXPECT_EQ(StorageErrorFromErrno(EMFILE), StorageError::too_many_open_files);
  EXPECT_EQ(StorageErrorFromErrno(EIO), StorageError::io_error);
  StorageFailure failure{StorageError::no_space, ENOSPC, "pwrite /d/f"};
  EXPECT_EQ(failure.Message(), "pwrite /d/f: No space left on device [no_space]");
}

TEST(PosixStorageLockTest, SecondOpenerInSameProcessGetsLockedNamingTheLockFile) {
  TempDir dir;
  auto first = OpenStorage(dir.path());
  auto second = OpenStorage(dir.path());
  auto lock = first->LockDirectory();
  ASSERT_TRUE(lock.ok()) << lock.error().Message();
  auto again = second->LockDirectory();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, StorageError::locked);
  const std::string message = again.error().Message();
  EXPECT_NE(message.find(dir.path() + "/LOCK"), std::string::npos) << message;
  EXPECT_NE(message.find("pid " + std::to_string(::getpid())), std::string::npos) << message;
  lock.value().reset();  // released: the next opener succeeds
  EXPECT_TRUE(second->LockDirectory().ok());
}

TEST(PosixStorageLockTest, LockHeldByAChildProcessBlocksUsUntilItExits) {
  TempDir dir;
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto storage = PosixStorage::Open(dir.path(), false);
    if (!storage.ok()) ::_exit(2);
    auto lock = storage.value()->LockDirectory();
    if (!lock.ok()) ::_exit(3);
    char byte = 'r';
    if (::write(ready[1], &byte, 1) != 1) ::_exit(4);
    if (::read(release[0], &byte, 1) != 1) ::_exit(5);
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  auto storage = OpenStorage(dir.path());
  auto lock = storage->LockDirectory();
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error().code, StorageError::locked);
  EXPECT_NE(lock.error().Message().find("pid " + std::to_string(child)), std::string::npos)
      << lock.error().Message();
  ASSERT_EQ(::write(release[1], &byte, 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(storage->LockDirectory().ok());
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
}

}  // namespace
}  // namespace tpw::storage
