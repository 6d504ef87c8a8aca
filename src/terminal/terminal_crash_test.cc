// Power cuts at every write and sync the terminal makes. A wrapper storage lets the first N
// mutating calls through and fails every later one (the process is "dead" from there on), then
// the SimulatedStorage crashes, keeping only synced bytes plus, at random, a torn prefix of the
// rest. For every N the reopened terminal must hold everything it confirmed:
//   - a token answered `accepted` is there; a confirmed void is there;
//   - a batch that BuildBatches returned is re-offered with the same id and bytes (or is
//     uploaded, if MarkUploaded was confirmed);
//   - no token is ever in two batches, and no voided token is in any;
//   - the deny list is at least the version last confirmed.
// A failure prints the seed; rerun it with TPW_TEST_SEED=<seed>.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>

#include "common/clock.h"
#include "common/test_seed.h"
#include "storage/simulated_storage.h"
#include "terminal/terminal.h"
#include "terminal/test_util.h"

namespace tpw::terminal {
namespace {

using namespace testing;  // NOLINT: test helpers
using storage::File;
using storage::OpenMode;
using storage::StorageError;
using storage::StorageFail;
using storage::StorageResult;
using storage::StorageStatus;

// Counts mutating calls; from call number `budget` + 1 on, every one fails with io_error.
class Fuse {
 public:
  explicit Fuse(uint64_t budget) : budget_(budget) {}
  bool Burn() {
    if (calls_ >= budget_) {
      blown_ = true;
      return true;
    }
    ++calls_;
    return false;
  }
  bool blown() const { return blown_; }

 private:
  uint64_t budget_;
  uint64_t calls_ = 0;
  bool blown_ = false;
};

class FusedFile final : public File {
 public:
  FusedFile(std::unique_ptr<File> inner, Fuse& fuse) : inner_(std::move(inner)), fuse_(fuse) {}
  StorageStatus Append(std::span<const uint8_t> bytes) override {
    if (fuse_.Burn()) return StorageFail(StorageError::io_error, 0, "fused append " + path());
    return inner_->Append(bytes);
  }
  StorageStatus Write(uint64_t offset, std::span<const uint8_t> bytes) override {
    if (fuse_.Burn()) return StorageFail(StorageError::io_error, 0, "fused write " + path());
    return inner_->Write(offset, bytes);
  }
  StorageResult<size_t> Read(uint64_t offset, std::span<uint8_t> out) override {
    return inner_->Read(offset, out);
  }
  StorageResult<uint64_t> Size() override { return inner_->Size(); }
  StorageStatus Truncate(uint64_t size) override {
    if (fuse_.Burn()) return StorageFail(StorageError::io_error, 0, "fused truncate " + path());
    return inner_->Truncate(size);
  }
  StorageStatus DataSync() override {
    if (fuse_.Burn()) return StorageFail(StorageError::io_error, 0, "fused sync " + path());
    return inner_->DataSync();
  }
  const std::string& path() const override { return inner_->path(); }

 private:
  std::unique_ptr<File> inner_;
  Fuse& fuse_;
};

class FusedStorage final : public storage::Storage {
 public:
  FusedStorage(storage::Storage& inner, Fuse& fuse) : inner_(inner), fuse_(fuse) {}
  StorageResult<std::unique_ptr<File>> Open(std::string_view name, OpenMode mode) override {
    const bool creates = mode == OpenMode::create_new || mode == OpenMode::create_or_open;
    if (creates && fuse_.Burn()) {
      return StorageFail(StorageError::io_error, 0, "fused open " + PathOf(name));
    }
    auto file = inner_.Open(name, mode);
    if (!file.ok()) return Err{file.error()};
    return std::unique_ptr<File>(std::make_unique<FusedFile>(std::move(file.value()), fuse_));
  }
  StorageResult<std::vector<std::string>> List() override { return inner_.List(); }
  StorageStatus Rename(std::string_view from, std::string_view to) override {
    if (fuse_.Burn()) return StorageFail(StorageError::io_error, 0, "fused rename");
    return inner_.Rename(from, to);
  }
  StorageStatus Remove(std::string_view name) override {
    if (fuse_.Burn()) return StorageFail(StorageError::io_error, 0, "fused remove");
    return inner_.Remove(name);
  }
  StorageStatus SyncDirectory() override {
    if (fuse_.Burn()) return StorageFail(StorageError::io_error, 0, "fused directory sync");
    return inner_.SyncDirectory();
  }
  StorageResult<std::unique_ptr<storage::DirectoryLock>> LockDirectory() override {
    return inner_.LockDirectory();
  }
  std::string PathOf(std::string_view name) const override { return inner_.PathOf(name); }

 private:
  storage::Storage& inner_;
  Fuse& fuse_;
};

// What the terminal confirmed before it died.
struct Confirmed {
  std::vector<TokenId> accepted;
  std::set<TokenId> voided;
  std::vector<PendingBatch> batches;
  std::set<BatchId> uploaded;
  uint64_t deny_list_version = 1;
};

struct Scenario {
  TestIssuer issuer;
  std::unique_ptr<TestDevice> device = issuer.NewDevice(42);

  void Pay(Terminal& terminal, Confirmed& confirmed, uint64_t now) {
    auto request = terminal.NewRequest(Amount::FromMinor(300), kAsset, now);
    ASSERT_TRUE(request.ok());
    const AcceptResult r = terminal.Accept(device->Pay(request.value().bytes), now);
    if (r.accepted()) confirmed.accepted.push_back(r.token_id);
  }
  void Void(Terminal& terminal, Confirmed& confirmed, size_t index, uint64_t now) {
    if (index >= confirmed.accepted.size()) return;
    if (terminal.Void(confirmed.accepted[index], now).ok()) {
      confirmed.voided.insert(confirmed.accepted[index]);
    }
  }
  void Build(Terminal& terminal, Confirmed& confirmed, uint64_t now) {
    auto built = terminal.BuildBatches(now);
    if (!built.ok()) return;
    for (PendingBatch& b : built.value()) confirmed.batches.push_back(std::move(b));
  }
  void Upload(Terminal& terminal, Confirmed& confirmed, uint64_t now) {
    if (confirmed.batches.empty()) return;
    const BatchId id = confirmed.batches.front().batch_id;
    if (terminal.MarkUploaded(id, now).ok()) confirmed.uploaded.insert(id);
  }
  void Deny(Terminal& terminal, Confirmed& confirmed, uint64_t now) {
    if (terminal.InstallDenyList(issuer.Delta(2, 1, now, kDayMs, {99}), now).ok()) {
      confirmed.deny_list_version = 2;
    }
  }

  // Runs the whole workload; every call after the fuse blows fails, and that is fine.
  void Run(Terminal& terminal, Confirmed& confirmed) {
    for (int i = 0; i < 3; ++i) Pay(terminal, confirmed, kNow + 1);
    Void(terminal, confirmed, 1, kNow + 2);
    Build(terminal, confirmed, kNow + 3);
    Pay(terminal, confirmed, kNow + 4);
    Pay(terminal, confirmed, kNow + 4);
    Upload(terminal, confirmed, kNow + 5);
    Deny(terminal, confirmed, kNow + 6);
    Build(terminal, confirmed, kNow + 7);
    Pay(terminal, confirmed, kNow + 8);
    Void(terminal, confirmed, 5, kNow + 9);
  }
};

// Every batch the terminal has offered (before and after the crash), by token.
void ExpectNoTokenInTwoBatches(const std::vector<PendingBatch>& offered,
                               const std::set<TokenId>& voided) {
  std::map<TokenId, BatchId> batch_of;
  for (const PendingBatch& batch : offered) {
    for (const TokenId& id : BatchTokenIds(batch.bytes)) {
      EXPECT_FALSE(voided.contains(id)) << "a voided token is in a batch";
      const auto [it, inserted] = batch_of.emplace(id, batch.batch_id);
      EXPECT_TRUE(inserted || it->second == batch.batch_id) << "a token is in two batches";
    }
  }
}

void CheckRecovered(Terminal& terminal, const Confirmed& confirmed) {
  for (const TokenId& id : confirmed.accepted) {
    EXPECT_TRUE(terminal.FindToken(id).has_value()) << "an accepted token was lost";
  }
  for (const TokenId& id : confirmed.voided) EXPECT_EQ(terminal.FindToken(id), TokenState::voided);
  std::map<BatchId, std::vector<uint8_t>> pending;
  for (const PendingBatch& b : terminal.PendingBatches()) pending.emplace(b.batch_id, b.bytes);
  for (const PendingBatch& b : confirmed.batches) {
    const auto it = pending.find(b.batch_id);
    if (it != pending.end()) {
      EXPECT_EQ(it->second, b.bytes) << "a re-offered batch has other bytes";
    } else {
      // Only an upload (confirmed or not, but journaled) may retire a returned batch.
      for (const TokenId& id : BatchTokenIds(b.bytes)) {
        EXPECT_EQ(terminal.FindToken(id), TokenState::uploaded);
      }
    }
    if (confirmed.uploaded.contains(b.batch_id)) {
      EXPECT_FALSE(pending.contains(b.batch_id)) << "an uploaded batch is offered again";
    }
  }
  EXPECT_GE(terminal.deny_list_version(), confirmed.deny_list_version);
}

// After recovery, everything not voided ends up in exactly one batch.
void FinishAndCheckBatches(Terminal& terminal, const Confirmed& confirmed) {
  std::vector<PendingBatch> offered = confirmed.batches;
  for (const PendingBatch& b : terminal.PendingBatches()) offered.push_back(b);
  auto built = terminal.BuildBatches(kNow + 100);
  ASSERT_TRUE(built.ok()) << built.error().Message();
  for (const PendingBatch& b : built.value()) offered.push_back(b);
  ExpectNoTokenInTwoBatches(offered, confirmed.voided);
  for (const TokenId& id : confirmed.accepted) {
    const std::optional<TokenState> state = terminal.FindToken(id);
    ASSERT_TRUE(state.has_value());
    EXPECT_NE(state, TokenState::accepted) << "a token was left out of every batch";
  }
  EXPECT_EQ(terminal.Status(kNow + 100).ready, 0u);
}

// One run: returns false when the fuse never blew (the workload ran to the end).
bool CrashAt(uint64_t budget, uint64_t seed) {
  SCOPED_TRACE("budget " + std::to_string(budget) + ", " + test_support::SeedTrace(seed));
  SeededRandom random(seed);
  storage::SimulatedStorage disk(random);
  Scenario scenario;
  {
    auto created =
        Terminal::Create(disk, TestIdentity(scenario.issuer), TestPassphrase(), FastOptions());
    EXPECT_TRUE(created.ok());
    if (!created.ok()) return false;
    EXPECT_TRUE(
        created.value()->InstallDenyList(scenario.issuer.DenyList(1, kNow, kDayMs, {}), kNow).ok());
  }
  Fuse fuse(budget);
  FusedStorage fused(disk, fuse);
  Confirmed confirmed;
  {
    auto opened = Terminal::Open(fused, TestPassphrase());
    if (opened.ok()) scenario.Run(*opened.value(), confirmed);
  }
  disk.Crash(random);
  auto reopened = Terminal::Open(disk, TestPassphrase());
  EXPECT_TRUE(reopened.ok()) << reopened.error().Message();
  if (!reopened.ok()) return false;
  CheckRecovered(*reopened.value(), confirmed);
  FinishAndCheckBatches(*reopened.value(), confirmed);
  return fuse.blown();
}

TEST(TerminalCrashTest, EveryConfirmationSurvivesAPowerCutAtEveryWriteAndSync) {
  const uint64_t fresh = test_support::TestSeed("TerminalCrashTest");
  uint64_t budget = 0;
  for (; budget < 1000; ++budget) {
    bool blown = false;
    for (const uint64_t seed : {budget * 7 + 1, budget * 7 + 2, fresh + budget}) {
      blown = CrashAt(budget, seed) || blown;
      if (::testing::Test::HasFailure()) return;
    }
    if (!blown) break;  // the workload completed: every write and sync point was covered
  }
  std::printf("[ covered  ] %llu write/sync points\n", static_cast<unsigned long long>(budget));
  EXPECT_GT(budget, 20u);  // the workload really writes and syncs many times
}

TEST(TerminalCrashTest, ACrashDuringCreateLeavesNoTerminalOrAWholeOne) {
  for (uint64_t budget = 0; budget < 100; ++budget) {
    SCOPED_TRACE("budget " + std::to_string(budget));
    SeededRandom random(budget);
    storage::SimulatedStorage disk(random);
    TestIssuer issuer;
    Fuse fuse(budget);
    FusedStorage fused(disk, fuse);
    const bool created =
        Terminal::Create(fused, TestIdentity(issuer), TestPassphrase(), FastOptions()).ok();
    disk.Crash(random);
    auto opened = Terminal::Open(disk, TestPassphrase());
    if (created) {
      EXPECT_TRUE(opened.ok()) << opened.error().Message();
    } else if (!opened.ok()) {
      EXPECT_EQ(opened.error().code, TerminalError::not_a_terminal) << opened.error().Message();
      EXPECT_TRUE(
          Terminal::Create(disk, TestIdentity(issuer), TestPassphrase(), FastOptions()).ok());
    }
    if (!fuse.blown()) return;
  }
  ADD_FAILURE() << "Create never completed";
}

}  // namespace
}  // namespace tpw::terminal
