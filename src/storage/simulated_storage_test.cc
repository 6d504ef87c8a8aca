#include "storage/simulated_storage.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tpw::storage {
namespace {

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string Contents(Storage& storage, std::string_view name) {
  auto bytes = storage.ReadFile(name, 1 << 20);
  TPW_ASSERT(bytes.ok());
  return std::string(bytes.value().begin(), bytes.value().end());
}

std::unique_ptr<File> MustOpen(Storage& storage, std::string_view name, OpenMode mode) {
  auto file = storage.Open(name, mode);
  TPW_ASSERT(file.ok());
  return std::move(file).value();
}

TEST(SimulatedStorageTest, BehavesLikeAFileSystemWithoutCrashes) {
  SeededRandom random(1);
  SimulatedStorage storage(random);
  auto file = MustOpen(storage, "f", OpenMode::create_new);
  ASSERT_TRUE(file->Append(Bytes("hello")).ok());
  ASSERT_TRUE(file->Write(7, Bytes("!")).ok());  // the gap reads as zeros
  EXPECT_EQ(Contents(storage, "f"), std::string("hello\0\0!", 8));
  ASSERT_TRUE(file->Truncate(2).ok());
  EXPECT_EQ(Contents(storage, "f"), "he");
  EXPECT_EQ(storage.Open("f", OpenMode::create_new).error().code, StorageError::exists);
  EXPECT_EQ(storage.Open("g", OpenMode::read_write).error().code, StorageError::not_found);
  EXPECT_EQ(storage.Open("a/b", OpenMode::create_or_open).error().code, StorageError::invalid_name);
  auto read_only = MustOpen(storage, "f", OpenMode::read_only);
  EXPECT_EQ(read_only->Append(Bytes("x")).error().code, StorageError::permission_denied);
}

TEST(SimulatedStorageTest, CrashDropsUnsyncedBytesAndKeepsSyncedOnes) {
  SeededRandom random(2);
  SimulatedStorage storage(random);
  auto file = MustOpen(storage, "f", OpenMode::create_new);
  ASSERT_TRUE(storage.SyncDirectory().ok());
  ASSERT_TRUE(file->Append(Bytes("durable")).ok());
  ASSERT_TRUE(file->DataSync().ok());
  ASSERT_TRUE(file->Append(Bytes(" lost")).ok());
  EXPECT_EQ(storage.UnsyncedBytes(), 5u);
  storage.CrashDroppingUnsynced();
  EXPECT_EQ(Contents(storage, "f"), "durable");
  EXPECT_EQ(storage.UnsyncedBytes(), 0u);
}

TEST(SimulatedStorageTest, HandlesOpenedBeforeACrashAreStale) {
  SeededRandom random(3);
  SimulatedStorage storage(random);
  auto file = MustOpen(storage, "f", OpenMode::create_new);
  ASSERT_TRUE(storage.SyncDirectory().ok());
  storage.CrashDroppingUnsynced();
  EXPECT_EQ(file->Append(Bytes("x")).error().code, StorageError::stale_handle);
  EXPECT_EQ(file->Size().error().code, StorageError::stale_handle);
  EXPECT_EQ(file->DataSync().error().code, StorageError::stale_handle);
}

TEST(SimulatedStorageTest, DirectoryEntriesNeedDirectorySyncToSurviveACrash) {
  SeededRandom random(4);
  SimulatedStorage storage(random);
  auto kept = MustOpen(storage, "kept", OpenMode::create_new);
  ASSERT_TRUE(kept->Append(Bytes("k")).ok());
  ASSERT_TRUE(kept->DataSync().ok());
  ASSERT_TRUE(storage.SyncDirectory().ok());
  auto lost = MustOpen(storage, "lost", OpenMode::create_new);
  ASSERT_TRUE(lost->Append(Bytes("l")).ok());
  ASSERT_TRUE(lost->DataSync().ok());  // data synced, but its directory entry is not
  ASSERT_TRUE(storage.Rename("kept", "renamed").ok());
  storage.CrashDroppingUnsynced();
  auto names = storage.List();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names.value(), std::vector<std::string>{"kept"});  // the rename was not synced
  EXPECT_EQ(Contents(storage, "kept"), "k");
}

TEST(SimulatedStorageTest, RemoveIsUndoneByACrashBeforeDirectorySync) {
  SeededRandom random(5);
  SimulatedStorage storage(random);
  ASSERT_TRUE(storage.WriteFileAtomically("f", Bytes("data")).ok());
  ASSERT_TRUE(storage.Remove("f").ok());
  storage.CrashDroppingUnsynced();
  EXPECT_EQ(Contents(storage, "f"), "data");
  ASSERT_TRUE(storage.Remove("f").ok());
  ASSERT_TRUE(storage.SyncDirectory().ok());
  storage.CrashDroppingUnsynced();
  EXPECT_EQ(storage.Open("f", OpenMode::read_only).error().code, StorageError::not_found);
}

TEST(SimulatedStorageTest, WriteFileAtomicallyShowsOldOrNewContentsAfterAnyCrash) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SeededRandom random(seed);
    SimulatedStorage storage(random);
    ASSERT_TRUE(storage.WriteFileAtomically("snap", Bytes("old contents")).ok());
    // Stop the sequence at every step: the failure injection picks where.
    storage.set_faults({.sync_io_error_ppm = 300'000});
    (void)storage.WriteFileAtomically("snap", Bytes("brand new contents"));
    storage.set_faults({});
    storage.Crash(random);
    const std::string after = Contents(storage, "snap");
    EXPECT_TRUE(after == "old contents" || after == "brand new contents")
        << "seed " << seed << ": " << after;
  }
}

TEST(SimulatedStorageTest, CrashKeepsOnlyAPrefixOfUnsyncedBytesOrGarblesTheTornSector) {
  bool saw_prefix = false, saw_nothing = false, saw_garbled = false;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    SeededRandom random(seed);
    SimulatedStorage storage(random);
    const std::string synced(1000, 's');
    const std::string unsynced(2000, 'u');
    auto file = MustOpen(storage, "f", OpenMode::create_new);
    ASSERT_TRUE(storage.SyncDirectory().ok());
    ASSERT_TRUE(file->Append(Bytes(synced)).ok());
    ASSERT_TRUE(file->DataSync().ok());
    ASSERT_TRUE(file->Append(Bytes(unsynced)).ok());
    storage.Crash(random);
    const std::string after = Contents(storage, "f");
    ASSERT_GE(after.size(), synced.size()) << "seed " << seed;
    ASSERT_LE(after.size(), synced.size() + unsynced.size()) << "seed " << seed;
    EXPECT_EQ(after.substr(0, synced.size()), synced) << "seed " << seed;  // never touched
    const std::string tail = after.substr(synced.size());
    if (tail.empty()) saw_nothing = true;
    const size_t good = tail.find_first_not_of('u');
    if (good == std::string::npos) {
      if (!tail.empty()) saw_prefix = true;
    } else {
      saw_garbled = true;  // garbage only inside the last (partial) sector of the kept prefix
      const size_t sector_start =
          (synced.size() + tail.size() - 1) / kSimulatedSectorBytes * kSimulatedSectorBytes;
      EXPECT_GE(synced.size() + good, sector_start) << "seed " << seed;
    }
  }
  EXPECT_TRUE(saw_prefix);
  EXPECT_TRUE(saw_nothing);
  EXPECT_TRUE(saw_garbled);
}

TEST(SimulatedStorageTest, CapacityLimitFailsWritesWithNoSpaceAfterFillingWhatFits) {
  SeededRandom random(6);
  SimulatedStorage storage(random);
  storage.set_faults({.capacity_bytes = 10});
  auto file = MustOpen(storage, "f", OpenMode::create_new);
  ASSERT_TRUE(file->Append(Bytes("12345678")).ok());
  StorageStatus full = file->Append(Bytes("abcdef"));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, StorageError::no_space);
  EXPECT_EQ(Contents(storage, "f"), "12345678ab");
  ASSERT_TRUE(file->Truncate(4).ok());  // shrinking frees room
  EXPECT_TRUE(file->Append(Bytes("xyz")).ok());
}

TEST(SimulatedStorageTest, InjectedFaultsFailWithTheirCodes) {
  SeededRandom random(7);
  SimulatedStorage storage(random);
  auto file = MustOpen(storage, "f", OpenMode::create_new);
  std::vector<uint8_t> out(4);
  storage.set_faults({.write_no_space_ppm = kPartsPerMillion});
  EXPECT_EQ(file->Append(Bytes("x")).error().code, StorageError::no_space);
  storage.set_faults({.write_io_error_ppm = kPartsPerMillion});
  EXPECT_EQ(file->Append(Bytes("x")).error().code, StorageError::io_error);
  storage.set_faults({.sync_io_error_ppm = kPartsPerMillion});
  EXPECT_EQ(file->DataSync().error().code, StorageError::io_error);
  EXPECT_EQ(storage.SyncDirectory().error().code, StorageError::io_error);
  storage.set_faults({.read_io_error_ppm = kPartsPerMillion});
  EXPECT_EQ(file->Read(0, out).error().code, StorageError::io_error);
}

TEST(SimulatedStorageTest, FailedSyncMakesNothingDurable) {
  SeededRandom random(8);
  SimulatedStorage storage(random);
  auto file = MustOpen(storage, "f", OpenMode::create_new);
  ASSERT_TRUE(storage.SyncDirectory().ok());
  ASSERT_TRUE(file->Append(Bytes("data")).ok());
  storage.set_faults({.sync_io_error_ppm = kPartsPerMillion});
  ASSERT_FALSE(file->DataSync().ok());
  storage.set_faults({});
  storage.CrashDroppingUnsynced();
  EXPECT_EQ(Contents(storage, "f"), "");
}

TEST(SimulatedStorageTest, LockIsExclusiveAndReleasedByDestructionOrCrash) {
  SeededRandom random(9);
  SimulatedStorage storage(random);
  auto lock = storage.LockDirectory();
  ASSERT_TRUE(lock.ok());
  auto second = storage.LockDirectory();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, StorageError::locked);
  EXPECT_NE(second.error().Message().find("sim:/LOCK"), std::string::npos);
  lock.value().reset();
  auto third = storage.LockDirectory();
  ASSERT_TRUE(third.ok());
  storage.CrashDroppingUnsynced();  // the holder died
  auto fourth = storage.LockDirectory();
  ASSERT_TRUE(fourth.ok());
  third.value().reset();  // the dead holder's lock object must not release the new lock
  EXPECT_EQ(storage.LockDirectory().error().code, StorageError::locked);
}

TEST(SimulatedStorageTest, SameSeedGivesTheSameCrashResult) {
  auto run = [](uint64_t seed) {
    SeededRandom random(seed);
    SimulatedStorage storage(random);
    auto file = MustOpen(storage, "f", OpenMode::create_new);
    TPW_ASSERT(storage.SyncDirectory().ok());
    TPW_ASSERT(file->Append(Bytes(std::string(3000, 'u'))).ok());
    storage.Crash(random);
    return Contents(storage, "f");
  };
  for (uint64_t seed = 0; seed < 20; ++seed) EXPECT_EQ(run(seed), run(seed)) << "seed " << seed;
}

}  // namespace
}  // namespace tpw::storage
