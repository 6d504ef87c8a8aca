// Storage faults under the engine: a failed journal write or sync fails the in-flight request
// and every later one with storage_failed, and a restart (after a simulated power cut where one
// is injected) recovers everything that was acknowledged. Also: a write failure while a second
// group is in flight, a file-size limit on a real file system (the closest thing to a full
// disk without root), and a crash at every step of Initialize.
//
// SimulatedStorage is not thread-safe and the engine uses it from two threads (the journal
// thread writes, the sequencer reads transfer bodies back), so the tests that use it keep one
// request outstanding at a time (blocking calls) and set expire_when_idle = false: storage calls
// then never overlap.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <condition_variable>
#include <csignal>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/test_seed.h"
#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "engine/snapshot.h"
#include "storage/posix_storage.h"
#include "storage/simulated_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::engine {
namespace {

using ledger::CreateTransferResult;
using ledger::Transfer;
using testing::FailAfterStorage;
using testing::MakeAccount;
using testing::MakeTransfer;

EngineOptions SingleThreadedStorageOptions() {
  EngineOptions options;
  options.expire_when_idle = false;
  return options;
}

std::unique_ptr<Engine> MustOpen(storage::Storage& storage, EngineOptions options) {
  auto engine = Engine::Open(storage, options);
  EXPECT_TRUE(engine.ok()) << (engine.ok() ? "" : engine.error().Message());
  return engine.ok() ? std::move(engine.value()) : nullptr;
}

uint64_t LiveBytes(storage::Storage& storage) {
  uint64_t total = 0;
  auto names = storage.List();
  TPW_ASSERT(names.ok());
  for (const std::string& name : names.value()) {
    auto file = storage.Open(name, storage::OpenMode::read_only);
    TPW_ASSERT(file.ok());
    auto size = file.value()->Size();
    TPW_ASSERT(size.ok());
    total += size.value();
  }
  return total;
}

enum class Fault { write_io_error, no_space, sync_failure };

std::string FaultName(Fault fault) {
  switch (fault) {
    case Fault::write_io_error:
      return "write_io_error";
    case Fault::no_space:
      return "no_space";
    case Fault::sync_failure:
      return "sync_failure";
  }
  return "?";
}

// Acknowledged transfers, then a fault on every later write or sync: the request in flight and
// all later ones fail, and a restart after a power cut has every acknowledged transfer.
void RunFaultThenRecover(Fault fault, uint64_t seed) {
  SCOPED_TRACE(FaultName(fault) + " seed " + std::to_string(seed));
  SeededRandom random(seed);
  storage::SimulatedStorage storage(random);
  ASSERT_TRUE(Engine::Initialize(storage).ok());
  std::vector<u128> acknowledged;
  {
    EngineOptions options = SingleThreadedStorageOptions();
    // A full disk must hit the journal's own write, not zeros it prepared earlier.
    if (fault == Fault::no_space) options.journal_preallocate_bytes = 0;
    auto engine = MustOpen(storage, options);
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    const uint64_t before_fault = 3 + random.Uniform(20);
    for (u128 i = 0; i < before_fault; ++i) {
      Reply reply = engine->CreateTransfers({MakeTransfer(100 + i, 1, 2, 1 + i)});
      ASSERT_FALSE(reply.error);
      acknowledged.push_back(100 + i);
      if (i == 2 && random.Chance(1, 2)) {
        ASSERT_TRUE(engine->Snapshot().ok());
      }
    }
    storage::SimulatedFaults faults;
    switch (fault) {
      case Fault::write_io_error:
        faults.write_io_error_ppm = storage::kPartsPerMillion;
        break;
      case Fault::no_space:
        faults.capacity_bytes = LiveBytes(storage) + random.Uniform(200);
        break;
      case Fault::sync_failure:
        faults.sync_io_error_ppm = storage::kPartsPerMillion;
        break;
    }
    storage.set_faults(faults);
    Reply failed =
        engine->CreateTransfers({MakeTransfer(999, 1, 2, 1), MakeTransfer(998, 2, 1, 1)});
    ASSERT_TRUE(failed.error);
    EXPECT_EQ(*failed.error, EngineError::storage_failed);
    ASSERT_TRUE(engine->failure().has_value());
    EXPECT_EQ(engine->failure()->code, EngineError::storage_failed);
    EXPECT_FALSE(engine->failure()->detail.empty());
    storage.set_faults({});  // the engine must not recover by itself even when the disk does
    for (int i = 0; i < 3; ++i) {
      Reply later = engine->CreateTransfers({MakeTransfer(2000 + static_cast<u128>(i), 1, 2, 1)});
      ASSERT_TRUE(later.error);
      EXPECT_EQ(*later.error, EngineError::storage_failed);
      Reply lookup = engine->LookupAccounts({AccountId{1}});
      ASSERT_TRUE(lookup.error);
      EXPECT_EQ(*lookup.error, EngineError::storage_failed);
    }
    auto snapshot = engine->Snapshot();
    ASSERT_FALSE(snapshot.ok());
    EXPECT_EQ(snapshot.error().code, EngineError::storage_failed);
  }
  storage.Crash(random);
  auto engine = MustOpen(storage, SingleThreadedStorageOptions());
  ASSERT_NE(engine, nullptr);
  std::vector<TransferId> ids;
  u128 expected_credits = 0;
  for (const u128 id : acknowledged) {
    ids.push_back(TransferId{id});
    expected_credits += id - 99;
  }
  EXPECT_EQ(engine->LookupTransfers(ids).transfers.size(), acknowledged.size());
  EXPECT_TRUE(engine->LookupTransfers({TransferId{2000}}).transfers.empty());
  // The failed request's outcome was unknown: it is there whole or not at all.
  const size_t unknown =
      engine->LookupTransfers({TransferId{999}, TransferId{998}}).transfers.size();
  EXPECT_TRUE(unknown == 0 || unknown == 2) << unknown;
  Reply account = engine->LookupAccounts({AccountId{2}});
  ASSERT_EQ(account.accounts.size(), 1u);
  EXPECT_EQ(account.accounts[0].credits_posted,
            Amount::FromMinor(expected_credits + (unknown == 2 ? 1 : 0)));
  // And the engine works again.
  EXPECT_FALSE(engine->CreateTransfers({MakeTransfer(3000, 1, 2, 1)}).error);
}

TEST(EngineFaultTest, AWriteErrorFailsTheRequestAndAllLaterOnesAndRestartKeepsTheAcknowledged) {
  for (uint64_t seed = 1; seed <= 12; ++seed) RunFaultThenRecover(Fault::write_io_error, seed);
}

TEST(EngineFaultTest, AFullDiskFailsTheRequestAndAllLaterOnesAndRestartKeepsTheAcknowledged) {
  for (uint64_t seed = 1; seed <= 12; ++seed) RunFaultThenRecover(Fault::no_space, seed);
}

TEST(EngineFaultTest, ASyncFailureFailsTheRequestAndAllLaterOnesAndRestartKeepsTheAcknowledged) {
  for (uint64_t seed = 1; seed <= 12; ++seed) RunFaultThenRecover(Fault::sync_failure, seed);
}

// Random faults at low rates, a power cut after the first failure, over many seeds: every
// acknowledged transfer survives, and nothing that was refused before the failure appears.
TEST(EngineFaultTest, RandomFaultsAndPowerCutsNeverLoseAnAcknowledgedTransfer) {
  const uint64_t base = test_support::TestSeed("EngineFaultTest.RandomFaults");
  for (uint64_t run = 0; run < 30; ++run) {
    const uint64_t seed = base + run;
    SCOPED_TRACE(test_support::SeedTrace(seed));
    SeededRandom random(seed);
    storage::SimulatedStorage storage(random);
    ASSERT_TRUE(Engine::Initialize(storage).ok());
    std::set<u128> acknowledged;
    u128 next_id = 1000;
    for (int life = 0; life < 3; ++life) {
      storage.set_faults({});
      auto opened = Engine::Open(storage, SingleThreadedStorageOptions());
      ASSERT_TRUE(opened.ok()) << opened.error().Message();
      std::unique_ptr<Engine> engine = std::move(opened.value());
      ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
      if (!acknowledged.empty()) {
        std::vector<TransferId> ids;
        for (const u128 id : acknowledged) ids.push_back(TransferId{id});
        ASSERT_EQ(engine->LookupTransfers(ids).transfers.size(), acknowledged.size());
      }
      storage::SimulatedFaults faults;
      faults.write_io_error_ppm = 20'000;
      faults.write_no_space_ppm = 20'000;
      faults.sync_io_error_ppm = 20'000;
      storage.set_faults(faults);
      for (int i = 0; i < 200; ++i) {
        std::vector<Transfer> batch;
        const uint64_t size = 1 + random.Uniform(5);
        for (uint64_t k = 0; k < size; ++k) batch.push_back(MakeTransfer(next_id++, 1, 2, 1));
        Reply reply = engine->CreateTransfers(batch);
        if (reply.error) {
          ASSERT_EQ(*reply.error, EngineError::storage_failed);
          break;
        }
        for (const Transfer& t : batch) acknowledged.insert(t.id.value);
      }
      engine.reset();
      storage.Crash(random);
    }
  }
}

// A Storage over a real directory whose next journal append, once armed, waits until the test
// releases it and then fails. Lets a test hold the journal thread inside a write while more
// groups queue up behind it.
class GatedStorage final : public storage::Storage {
 public:
  explicit GatedStorage(storage::Storage& inner) : inner_(&inner) {}

  void Arm() {
    std::lock_guard lock(mutex_);
    armed_ = true;
  }
  void WaitUntilHeld() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return held_; });
  }
  void ReleaseWithFailure() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    changed_.notify_all();
  }

  storage::StorageResult<std::unique_ptr<storage::File>> Open(std::string_view name,
                                                              storage::OpenMode mode) override {
    auto file = inner_->Open(name, mode);
    if (!file.ok()) return file;
    return std::unique_ptr<storage::File>(
        std::make_unique<GatedFile>(*this, std::move(file.value())));
  }
  storage::StorageResult<std::vector<std::string>> List() override { return inner_->List(); }
  storage::StorageStatus Rename(std::string_view from, std::string_view to) override {
    return inner_->Rename(from, to);
  }
  storage::StorageStatus Remove(std::string_view name) override { return inner_->Remove(name); }
  storage::StorageStatus SyncDirectory() override { return inner_->SyncDirectory(); }
  storage::StorageResult<std::unique_ptr<storage::DirectoryLock>> LockDirectory() override {
    return inner_->LockDirectory();
  }
  std::string PathOf(std::string_view name) const override { return inner_->PathOf(name); }

 private:
  class GatedFile final : public storage::File {
   public:
    GatedFile(GatedStorage& owner, std::unique_ptr<storage::File> inner)
        : owner_(&owner), inner_(std::move(inner)) {}
    storage::StorageStatus Append(std::span<const uint8_t> bytes) override {
      if (owner_->Hold()) {
        return storage::StorageFail(storage::StorageError::io_error, 0, "append (injected)");
      }
      return inner_->Append(bytes);
    }
    storage::StorageStatus Write(uint64_t offset, std::span<const uint8_t> bytes) override {
      if (owner_->Hold()) {
        return storage::StorageFail(storage::StorageError::io_error, 0, "write (injected)");
      }
      return inner_->Write(offset, bytes);
    }
    storage::StorageResult<size_t> Read(uint64_t offset, std::span<uint8_t> out) override {
      return inner_->Read(offset, out);
    }
    storage::StorageResult<uint64_t> Size() override { return inner_->Size(); }
    storage::StorageStatus Truncate(uint64_t size) override { return inner_->Truncate(size); }
    storage::StorageStatus DataSync() override { return inner_->DataSync(); }
    const std::string& path() const override { return inner_->path(); }

   private:
    GatedStorage* owner_;
    std::unique_ptr<storage::File> inner_;
  };

  // True (after waiting for the release) for the one write that finds the gate armed.
  bool Hold() {
    std::unique_lock lock(mutex_);
    if (!armed_) return false;
    armed_ = false;
    held_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_; });
    return true;
  }

  storage::Storage* inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool armed_ = false;
  bool held_ = false;
  bool released_ = false;
};

// Waits until the sequencer has taken every queued request. There is no event for this; the
// queue depth is the engine's own account of it.
void WaitForEmptyQueue(Engine& engine) {
  while (engine.Stats().queue_depth != 0) std::this_thread::yield();
}

TEST(EngineFaultTest,
     AWriteFailureWithASecondGroupInFlightFailsBothAndTheEngineStaysUsableForErrors) {
  storage::TempDir dir;
  auto posix = storage::PosixStorage::Open(dir.path(), false);
  ASSERT_TRUE(posix.ok());
  GatedStorage storage(*posix.value());
  ASSERT_TRUE(Engine::Initialize(storage).ok());
  {
    auto engine = MustOpen(storage, {});
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    ASSERT_FALSE(engine->CreateTransfers({MakeTransfer(10, 1, 2, 1)}).error);

    std::mutex mutex;
    std::condition_variable answered;
    std::vector<std::optional<EngineError>> errors;
    auto submit = [&](u128 id) {
      Request request;
      request.kind = RequestKind::create_transfers;
      request.transfers.push_back(MakeTransfer(id, 1, 2, 1));
      request.done = [&](Reply&& reply) {
        std::lock_guard lock(mutex);
        errors.push_back(reply.error);
        answered.notify_all();
      };
      engine->Submit(std::move(request));
    };
    storage.Arm();
    submit(20);  // group 1: its append blocks in the gate
    storage.WaitUntilHeld();
    submit(21);  // group 2: handed to the journal thread behind group 1
    WaitForEmptyQueue(*engine);
    submit(22);  // taken only after group 2 was handed off; waits for pipeline room
    WaitForEmptyQueue(*engine);
    storage.ReleaseWithFailure();
    {
      std::unique_lock lock(mutex);
      answered.wait(lock, [&] { return errors.size() == 3; });
    }
    for (const std::optional<EngineError>& error : errors) {
      ASSERT_TRUE(error.has_value());
      EXPECT_EQ(*error, EngineError::storage_failed);
    }
    // A snapshot request goes through the sequencer, which collects the failed groups'
    // completions before it answers (requests are refused at Submit without reaching it).
    auto snapshot = engine->Snapshot();
    ASSERT_FALSE(snapshot.ok());
    EXPECT_EQ(snapshot.error().code, EngineError::storage_failed);
    Reply later = engine->CreateTransfers({MakeTransfer(30, 1, 2, 1)});
    ASSERT_TRUE(later.error);
    EXPECT_EQ(*later.error, EngineError::storage_failed);
  }
  auto engine = MustOpen(*posix.value(), {});
  EXPECT_EQ(engine->LookupTransfers({TransferId{10}}).transfers.size(), 1u);
  EXPECT_TRUE(
      engine->LookupTransfers({TransferId{20}, TransferId{21}, TransferId{22}, TransferId{30}})
          .transfers.empty());
}

// Restores the file-size limit (and SIGXFSZ's disposition) when the test ends.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(uint64_t bytes) {
    TPW_ASSERT(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
    rlimit limit = saved_;
    limit.rlim_cur = static_cast<rlim_t>(bytes);
    TPW_ASSERT(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
  }
  ~FileSizeLimit() {
    TPW_ASSERT(::setrlimit(RLIMIT_FSIZE, &saved_) == 0);
    std::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = nullptr;
};

// A real file system that refuses to grow the journal (RLIMIT_FSIZE: writes past the limit
// write what fits, then fail with EFBIG, as a full disk does with ENOSPC). Mounting a small
// tmpfs would need root, so this is the full-disk test on real files.
TEST(EngineFaultTest, AJournalThatCannotGrowOnARealFileSystemFailsCleanlyAndRecovers) {
  storage::TempDir dir;
  auto posix = storage::PosixStorage::Open(dir.path(), false);
  ASSERT_TRUE(posix.ok());
  storage::PosixStorage& storage = *posix.value();
  ASSERT_TRUE(Engine::Initialize(storage).ok());
  std::vector<TransferId> acknowledged;
  {
    EngineOptions options;
    options.journal_preallocate_bytes = 0;  // the journal must grow with each group
    auto engine = MustOpen(storage, options);
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    std::string segment;
    auto names = storage.List();
    ASSERT_TRUE(names.ok());
    for (const std::string& name : names.value()) {
      if (name.starts_with("segment-")) segment = name;
    }
    auto size = storage.Open(segment, storage::OpenMode::read_only).value()->Size();
    ASSERT_TRUE(size.ok());
    std::optional<EngineError> error;
    {
      FileSizeLimit limit(size.value() + 2000);  // room for a few groups of ~240 bytes
      for (u128 id = 100; id < 200 && !error; ++id) {
        Reply reply = engine->CreateTransfers({MakeTransfer(id, 1, 2, 1)});
        error = reply.error;
        if (!error) acknowledged.push_back(TransferId{id});
      }
    }
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(*error, EngineError::storage_failed);
    EXPECT_GE(acknowledged.size(), 3u);
    ASSERT_TRUE(engine->failure().has_value());
    EXPECT_NE(engine->failure()->detail.find(segment), std::string::npos)
        << engine->failure()->detail;
    // The limit is gone, but the engine stays stopped: the outcome of the failed write is
    // unknown until a restart reads the disk again.
    Reply later = engine->CreateTransfers({MakeTransfer(500, 1, 2, 1)});
    ASSERT_TRUE(later.error);
  }
  auto engine = MustOpen(storage, {});
  EXPECT_GT(engine->recovery().torn_tail_bytes, 0u);  // the failed group's partial write
  EXPECT_EQ(engine->LookupTransfers(acknowledged).transfers.size(), acknowledged.size());
  Reply account = engine->LookupAccounts({AccountId{2}});
  ASSERT_EQ(account.accounts.size(), 1u);
  EXPECT_EQ(account.accounts[0].credits_posted, Amount::FromMinor(acknowledged.size()));
  EXPECT_FALSE(engine->CreateTransfers({MakeTransfer(600, 1, 2, 1)}).error);
}

// Initialize is several storage steps (journal segment, marker file). A crash after any of them
// must leave a directory that can either be initialized again or opened, never one that
// refuses both.
TEST(EngineFaultTest, ACrashAtAnyStepOfInitializeLeavesADirectoryThatCanBeUsed) {
  uint64_t steps = 0;
  {
    SeededRandom random(0);
    storage::SimulatedStorage storage(random);
    FailAfterStorage counting(storage, UINT64_MAX);
    ASSERT_TRUE(Engine::Initialize(counting).ok());
    steps = counting.used();
  }
  for (uint64_t budget = 0; budget <= steps; ++budget) {
    for (uint64_t seed = 0; seed < 4; ++seed) {
      SCOPED_TRACE("crash after " + std::to_string(budget) + " of " + std::to_string(steps) +
                   " steps, seed " + std::to_string(seed));
      SeededRandom random(seed);
      storage::SimulatedStorage storage(random);
      {
        FailAfterStorage failing(storage, budget);
        (void)Engine::Initialize(failing);
      }
      storage.Crash(random);
      EngineStatus again = Engine::Initialize(storage);
      if (!again.ok()) {
        EXPECT_EQ(again.error().code, EngineError::already_initialized) << again.error().Message();
      }
      auto engine = Engine::Open(storage, SingleThreadedStorageOptions());
      ASSERT_TRUE(engine.ok()) << engine.error().Message();
      EXPECT_FALSE(engine.value()->CreateAccounts({MakeAccount(1)}).error);
    }
  }
}

}  // namespace
}  // namespace tpw::engine
