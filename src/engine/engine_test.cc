// Engine on a real directory: group commit, replies after durability, recovery by replay and
// from snapshots, expiry as facts, and refusal of damaged or foreign data directories.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "engine/snapshot.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::engine {
namespace {

using ledger::Account;
using ledger::CreateTransferResult;
using ledger::Transfer;

Account MakeAccount(u128 id, uint16_t flags = 0) {
  Account a;
  a.id = AccountId{id};
  a.ledger = 1;
  a.code = 10;
  a.flags = flags;
  return a;
}

Transfer MakeTransfer(u128 id, u128 debit, u128 credit, u128 amount, uint16_t flags = 0) {
  Transfer t;
  t.id = TransferId{id};
  t.debit_account_id = AccountId{debit};
  t.credit_account_id = AccountId{credit};
  t.amount = Amount::FromMinor(amount);
  t.ledger = 1;
  t.code = 1;
  t.flags = flags;
  return t;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto storage = storage::PosixStorage::Open(dir_.path(), false);
    ASSERT_TRUE(storage.ok());
    storage_ = std::move(storage.value());
    ASSERT_TRUE(Engine::Initialize(*storage_).ok());
  }

  std::unique_ptr<Engine> OpenEngine(EngineOptions options = {}) {
    auto engine = Engine::Open(*storage_, options);
    EXPECT_TRUE(engine.ok()) << (engine.ok() ? "" : engine.error().Message());
    return engine.ok() ? std::move(engine.value()) : nullptr;
  }

  storage::TempDir dir_;
  std::unique_ptr<storage::PosixStorage> storage_;
};

TEST_F(EngineTest, TransfersSurviveARestartByReplay) {
  {
    auto engine = OpenEngine();
    ASSERT_NE(engine, nullptr);
    Reply accounts = engine->CreateAccounts({MakeAccount(1), MakeAccount(2)});
    ASSERT_FALSE(accounts.error);
    EXPECT_TRUE(accounts.account_results.empty());
    Reply transfers = engine->CreateTransfers(
        {MakeTransfer(100, 1, 2, 50), MakeTransfer(101, 2, 1, 20), MakeTransfer(102, 1, 9, 5)});
    ASSERT_FALSE(transfers.error);
    ASSERT_EQ(transfers.transfer_results.size(), 1u);
    EXPECT_EQ(transfers.transfer_results[0].result, CreateTransferResult::credit_account_not_found);
    EXPECT_GT(transfers.durable_sequence, 0u);
  }
  auto engine = OpenEngine();
  ASSERT_NE(engine, nullptr);
  EXPECT_FALSE(engine->recovery().from_snapshot);
  Reply found = engine->LookupTransfers({TransferId{100}, TransferId{101}, TransferId{102}});
  ASSERT_EQ(found.transfers.size(), 2u);
  EXPECT_EQ(found.transfers[0].amount, Amount::FromMinor(50));
  Reply account = engine->LookupAccounts({AccountId{1}});
  ASSERT_EQ(account.accounts.size(), 1u);
  EXPECT_EQ(account.accounts[0].debits_posted, Amount::FromMinor(50));
  EXPECT_EQ(account.accounts[0].credits_posted, Amount::FromMinor(20));
  // The transient failure is remembered across the restart.
  Reply retry = engine->CreateTransfers({MakeTransfer(102, 1, 2, 5)});
  ASSERT_EQ(retry.transfer_results.size(), 1u);
  EXPECT_EQ(retry.transfer_results[0].result, CreateTransferResult::id_already_failed);
}

TEST_F(EngineTest, SnapshotThenMoreFactsRecoversFromSnapshotPlusReplay) {
  {
    auto engine = OpenEngine();
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2, ledger::account_flags::kHistory)}).error);
    ASSERT_FALSE(engine->CreateTransfers({MakeTransfer(100, 1, 2, 50)}).error);
    auto snapshot = engine->Snapshot();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().Message();
    EXPECT_GT(snapshot.value().bytes, 0u);
    ASSERT_FALSE(engine->CreateTransfers({MakeTransfer(101, 1, 2, 7)}).error);
  }
  auto engine = OpenEngine();
  EXPECT_TRUE(engine->recovery().from_snapshot);
  EXPECT_EQ(engine->recovery().replayed_records, 1u);
  ledger::AccountFilter filter;
  filter.account_id = AccountId{2};
  filter.limit = 10;
  filter.flags = ledger::filter_flags::kDebits | ledger::filter_flags::kCredits;
  Reply transfers = engine->GetAccountTransfers(filter);
  ASSERT_EQ(transfers.transfers.size(), 2u);
  EXPECT_EQ(transfers.transfers[0].id, TransferId{100});  // read back from the journal
  EXPECT_EQ(transfers.transfers[1].id, TransferId{101});
  Reply history = engine->GetAccountBalances(filter);
  ASSERT_EQ(history.balances.size(), 2u);
  EXPECT_EQ(history.balances[1].credits_posted, Amount::FromMinor(57));
}

TEST_F(EngineTest, ACorruptSnapshotFallsBackToFullReplay) {
  {
    auto engine = OpenEngine();
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    ASSERT_FALSE(engine->CreateTransfers({MakeTransfer(100, 1, 2, 50)}).error);
    ASSERT_TRUE(engine->Snapshot().ok());
  }
  auto names = ListSnapshots(*storage_);
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names.value().size(), 1u);
  {
    auto file = storage_->Open(names.value()[0], storage::OpenMode::read_write);
    ASSERT_TRUE(file.ok());
    const uint8_t garbage[4] = {1, 2, 3, 4};
    ASSERT_TRUE(file.value()->Write(200, garbage).ok());
  }
  auto engine = OpenEngine();
  EXPECT_FALSE(engine->recovery().from_snapshot);
  ASSERT_EQ(engine->recovery().skipped_snapshots.size(), 1u);
  EXPECT_NE(engine->recovery().skipped_snapshots[0].find("checksum"), std::string::npos);
  EXPECT_EQ(engine->LookupTransfers({TransferId{100}}).transfers.size(), 1u);
}

// A recovery that does not use the newest snapshot (here ignore_snapshots; in the simulator a
// read error while checking it) goes on from the journal's last timestamp. The snapshot must
// hold that same timestamp, not a later one consumed by rejected events, or the facts appended
// now would be refused when a later recovery does use the snapshot (replay_diverged).
// Found by tests/sim (seed 64 at the time).
TEST_F(EngineTest, ASnapshotSkippedOnceStillRecoversLaterFacts) {
  ManualClock clock(Timestamp{1'000'000'000});
  {
    auto engine = Engine::Open(*storage_, {}, &clock);
    ASSERT_TRUE(engine.ok());
    ASSERT_FALSE(engine.value()->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    std::vector<Transfer> rejected(100, MakeTransfer(7, 1, 1, 5));  // accounts_must_be_different
    ASSERT_EQ(engine.value()->CreateTransfers(rejected).transfer_results.size(), 100u);
    ASSERT_TRUE(engine.value()->Snapshot().ok());
  }
  {
    EngineOptions skip;
    skip.ignore_snapshots = true;
    auto engine = Engine::Open(*storage_, skip, &clock);  // the clock has not moved
    ASSERT_TRUE(engine.ok());
    ASSERT_FALSE(engine.value()->CreateTransfers({MakeTransfer(100, 1, 2, 50)}).error);
  }
  auto engine = Engine::Open(*storage_, {}, &clock);
  ASSERT_TRUE(engine.ok()) << engine.error().Message();
  EXPECT_TRUE(engine.value()->recovery().from_snapshot);
  EXPECT_EQ(engine.value()->LookupTransfers({TransferId{100}}).transfers.size(), 1u);
}

TEST_F(EngineTest, ASecondOpenerIsLockedOut) {
  auto engine = OpenEngine();
  auto second = Engine::Open(*storage_, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, EngineError::locked);
}

TEST_F(EngineTest, AnUninitializedDirectoryIsRefused) {
  storage::TempDir other;
  auto storage = storage::PosixStorage::Open(other.path(), false);
  ASSERT_TRUE(storage.ok());
  auto engine = Engine::Open(*storage.value(), {});
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.error().code, EngineError::not_initialized);
  EXPECT_FALSE(Engine::Initialize(*storage_).ok());  // already initialized
}

// TrySubmit runs a small write's step on the calling thread when the sequencer is idle
// (EngineOptions::submitter_steps), and queues it otherwise; the journal thread takes the open
// group itself when it frees a place. Either way one caller's requests
// execute in the order it submitted them (timestamps rise with the submission index), every one
// is answered once, after it is durable, and all of them survive a restart (here with automatic
// snapshots, which the sequencer thread takes for the steps run elsewhere too).
TEST_F(EngineTest, TrySubmitKeepsEachCallersOrderWithOrWithoutSubmitterSteps) {
  constexpr int kThreads = 3;
  constexpr int kPerThread = 1500;
  u128 next_id = 1000;
  struct Setting {
    bool submitter_steps;
    uint32_t groups_in_flight_max;
  };
  for (const Setting setting : {Setting{true, 1}, Setting{false, 1}, Setting{true, 2}}) {
    const bool submitter_steps = setting.submitter_steps;
    EngineOptions options;
    options.submitter_steps = submitter_steps;
    options.groups_in_flight_max = setting.groups_in_flight_max;
    options.snapshot_every_records = 500;
    auto engine = OpenEngine(options);
    ASSERT_NE(engine, nullptr);
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    std::vector<std::vector<uint64_t>> stamps(kThreads, std::vector<uint64_t>(kPerThread, 0));
    std::atomic<int> answered{0};
    std::atomic<int> failed{0};
    const u128 first_id = next_id;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          Request request;
          request.kind = RequestKind::create_transfers;
          const u128 id = first_id + static_cast<u128>(t * kPerThread + i);
          request.transfers.push_back(MakeTransfer(id, 1, 2, 1));
          request.done = [&, t, i](Reply&& reply) {
            if (reply.error || !reply.transfer_results.empty() || reply.durable_sequence == 0) {
              failed.fetch_add(1);
            }
            stamps[static_cast<size_t>(t)][static_cast<size_t>(i)] = reply.first_timestamp.ns;
            answered.fetch_add(1);
          };
          while (!engine->TrySubmit(request)) std::this_thread::yield();
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    const uint64_t steps_here = engine->Stats().submitter_steps;
    // Still group commit: the open group takes requests while the one before it syncs.
    EXPECT_LT(engine->Stats().groups_committed, static_cast<uint64_t>(kThreads * kPerThread));
    engine->Shutdown();  // answers everything accepted
    next_id += kThreads * kPerThread;
    if (submitter_steps) {
      EXPECT_GT(steps_here, 0u);
    } else {
      EXPECT_EQ(steps_here, 0u);
    }
    ASSERT_EQ(answered.load(), kThreads * kPerThread);
    EXPECT_EQ(failed.load(), 0);
    for (const std::vector<uint64_t>& mine : stamps) {
      for (size_t i = 1; i < mine.size(); ++i) ASSERT_LT(mine[i - 1], mine[i]) << i;
    }
    engine.reset();
    auto reopened = OpenEngine(options);
    ASSERT_NE(reopened, nullptr);
    const Reply accounts = reopened->LookupAccounts({AccountId{1}});
    ASSERT_EQ(accounts.accounts.size(), 1u);
    EXPECT_EQ(accounts.accounts[0].debits_posted,
              Amount::FromMinor(static_cast<u128>(next_id - 1000)));
  }
}

}  // namespace
}  // namespace tpw::engine
