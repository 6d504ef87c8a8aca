// The engine on a real directory, restarted on purpose: two-phase transfers and expiry with a
// manual clock, linked chains, balancing and closing transfers, history accounts, batch limits,
// concurrent submitters, fsync=never, automatic snapshots and pruning, damaged and truncated
// journals, and foreign data directories. After every restart the state must be identical
// (every account, transfer, pending status, account transfer list and balance history).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#include "common/limits.h"
#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "engine/snapshot.h"
#include "journal/journal.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::engine {
namespace {

using ledger::CreateTransferResult;
using ledger::PendingStatus;
using ledger::Transfer;
using testing::DumpState;
using testing::MakeAccount;
using testing::MakeTransfer;
using testing::StateDump;
namespace af = ledger::account_flags;
namespace tf = ledger::transfer_flags;

constexpr uint64_t kStartNs = uint64_t{1'700'000'000} * kNanosPerSecond;

class EngineRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto storage = storage::PosixStorage::Open(dir_.path(), false);
    ASSERT_TRUE(storage.ok());
    storage_ = std::move(storage.value());
    ASSERT_TRUE(Engine::Initialize(*storage_).ok());
  }

  std::unique_ptr<Engine> Open(EngineOptions options = {}, Clock* clock = nullptr) {
    auto engine = Engine::Open(*storage_, options, clock);
    EXPECT_TRUE(engine.ok()) << (engine.ok() ? "" : engine.error().Message());
    return engine.ok() ? std::move(engine.value()) : nullptr;
  }

  // Options for tests that drive a ManualClock: expiry runs only when a request arrives, so the
  // sequencer never reads the clock while the test thread moves it.
  static EngineOptions ManualClockOptions() {
    EngineOptions options;
    options.expire_when_idle = false;
    return options;
  }

  std::vector<std::string> Segments() {
    std::vector<std::string> out;
    auto names = storage_->List();
    EXPECT_TRUE(names.ok());
    for (const std::string& name : names.value()) {
      if (name.starts_with("segment-") && name.ends_with(".tpj")) out.push_back(name);
    }
    return out;
  }
  std::string PathOf(const std::string& name) const { return dir_.path() + "/" + name; }
  uint64_t FileSize(const std::string& name) const {
    return std::filesystem::file_size(PathOf(name));
  }
  std::vector<uint8_t> ReadAll(const std::string& name) {
    auto bytes = storage_->ReadFile(name, uint64_t{1} << 32);
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? bytes.value() : std::vector<uint8_t>{};
  }
  // Makes `name` hold exactly `bytes` (unsynced: these tests never lose power).
  void Overwrite(const std::string& name, std::span<const uint8_t> bytes) {
    auto file = storage_->Open(name, storage::OpenMode::create_or_open);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file.value()->Truncate(0).ok());
    ASSERT_TRUE(file.value()->Write(0, bytes).ok());
  }

  storage::TempDir dir_;
  std::unique_ptr<storage::PosixStorage> storage_;
};

Transfer Pending(u128 id, u128 debit, u128 credit, u128 amount, uint32_t timeout_s,
                 uint16_t extra_flags = 0) {
  Transfer t =
      MakeTransfer(id, debit, credit, amount, static_cast<uint16_t>(tf::kPending | extra_flags));
  t.timeout = timeout_s;
  return t;
}

Transfer Resolve(u128 id, const Transfer& pending, u128 amount, uint16_t flag) {
  Transfer t = MakeTransfer(id, pending.debit_account_id.value, pending.credit_account_id.value,
                            amount, flag);
  t.pending_id = pending.id;
  return t;
}

std::vector<PendingStatus> Statuses(Engine& engine, std::vector<u128> ids) {
  Request request;
  request.kind = RequestKind::get_pending_status;
  request.ids = std::move(ids);
  return engine.Execute(std::move(request)).pending_statuses;
}

CreateTransferResult OnlyResult(const Reply& reply) {
  EXPECT_FALSE(reply.error);
  if (reply.transfer_results.empty()) return CreateTransferResult::created;
  EXPECT_EQ(reply.transfer_results.size(), 1u);
  return reply.transfer_results[0].result;
}

ledger::Account AccountOf(Engine& engine, u128 id) {
  Reply reply = engine.LookupAccounts({AccountId{id}});
  EXPECT_EQ(reply.accounts.size(), 1u);
  return reply.accounts.empty() ? ledger::Account{} : reply.accounts[0];
}

// Stats() counts are published by the sequencer after it hands a group to the journal thread,
// so they may trail a reply. A query's reply comes from a later sequencer step: after it, the
// counts cover every earlier request.
void Settle(Engine& engine) { ASSERT_FALSE(engine.LookupAccounts({}).error); }

TEST_F(EngineRecoveryTest, PostAndVoidOfPendingTransfersSurviveARestart) {
  const std::vector<u128> accounts = {1, 2};
  const std::vector<u128> transfers = {10, 11, 12, 13};
  StateDump before;
  {
    auto engine = Open();
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    const Transfer a = Pending(10, 1, 2, 100, 0);
    const Transfer b = Pending(11, 1, 2, 40, 3600);
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({a, b})), CreateTransferResult::created);
    EXPECT_EQ(AccountOf(*engine, 1).debits_pending, Amount::FromMinor(140));
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({Resolve(12, a, 60, tf::kPostPendingTransfer)})),
              CreateTransferResult::created);  // partial post
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({Resolve(13, b, 0, tf::kVoidPendingTransfer)})),
              CreateTransferResult::created);
    const ledger::Account one = AccountOf(*engine, 1);
    EXPECT_EQ(one.debits_pending, Amount::Zero());
    EXPECT_EQ(one.debits_posted, Amount::FromMinor(60));
    EXPECT_EQ(Statuses(*engine, {10, 11, 12}),
              (std::vector<PendingStatus>{PendingStatus::posted, PendingStatus::voided,
                                          PendingStatus::none}));
    before = DumpState(*engine, accounts, transfers);
  }
  auto engine = Open();
  EXPECT_EQ(DumpState(*engine, accounts, transfers), before);
  // Resolving again is refused the same way after the restart.
  EXPECT_EQ(OnlyResult(engine->CreateTransfers(
                {Resolve(14, Pending(10, 1, 2, 100, 0), 1, tf::kPostPendingTransfer)})),
            CreateTransferResult::pending_transfer_already_posted);
}

TEST_F(EngineRecoveryTest, ExpiryIsJournaledAndSurvivesARestart) {
  ManualClock clock(Timestamp{kStartNs});
  const std::vector<u128> accounts = {1, 2};
  const std::vector<u128> transfers = {10, 11, 12};
  StateDump before;
  {
    auto engine = Open(ManualClockOptions(), &clock);
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2, af::kHistory)}).error);
    ASSERT_EQ(
        OnlyResult(engine->CreateTransfers({Pending(10, 1, 2, 100, 1), Pending(11, 1, 2, 7, 60)})),
        CreateTransferResult::created);
    const uint64_t records = engine->Stats().journal_records;
    clock.Advance(2 * kNanosPerSecond);  // 10 is due, 11 is not
    // Any request lets the sequencer run the expiry timer first (expire_when_idle is off).
    EXPECT_EQ(AccountOf(*engine, 1).debits_pending, Amount::FromMinor(7));
    EXPECT_EQ(engine->Stats().journal_records, records + 1);  // one transfers_expired fact
    EXPECT_EQ(Statuses(*engine, {10, 11}),
              (std::vector<PendingStatus>{PendingStatus::expired, PendingStatus::pending}));
    EXPECT_EQ(OnlyResult(engine->CreateTransfers(
                  {Resolve(12, Pending(10, 1, 2, 100, 1), 100, tf::kPostPendingTransfer)})),
              CreateTransferResult::pending_transfer_expired);
    before = DumpState(*engine, accounts, transfers);
  }
  {
    ManualClock later(clock.Now());
    auto engine = Open(ManualClockOptions(), &later);
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(DumpState(*engine, accounts, transfers), before);
    // The expired transfer's failed post is remembered, like any transient failure.
    EXPECT_EQ(OnlyResult(engine->CreateTransfers(
                  {Resolve(12, Pending(10, 1, 2, 100, 1), 100, tf::kPostPendingTransfer)})),
              CreateTransferResult::id_already_failed);
    ASSERT_TRUE(engine->Snapshot().ok());
    later.Advance(120 * kNanosPerSecond);  // now 11 expires too, after the snapshot
    EXPECT_EQ(Statuses(*engine, {11}), std::vector<PendingStatus>{PendingStatus::expired});
    before = DumpState(*engine, accounts, transfers);
  }
  ManualClock again(Timestamp{kStartNs});  // a clock behind the journal: timestamps still rise
  auto engine = Open(ManualClockOptions(), &again);
  EXPECT_TRUE(engine->recovery().from_snapshot);
  EXPECT_EQ(engine->recovery().replayed_records, 1u);  // the second expiry fact
  EXPECT_EQ(DumpState(*engine, accounts, transfers), before);
  EXPECT_EQ(AccountOf(*engine, 1).debits_pending, Amount::Zero());
}

// A clock the test thread may move while the sequencer reads it.
class SharedManualClock final : public Clock {
 public:
  explicit SharedManualClock(Timestamp start) : now_ns_(start.ns) {}
  Timestamp Now() override { return Timestamp{now_ns_.load()}; }
  uint64_t MonotonicNs() override { return now_ns_.load(); }
  void Advance(uint64_t ns) { now_ns_.fetch_add(ns); }

 private:
  std::atomic<uint64_t> now_ns_;
};

TEST_F(EngineRecoveryTest, TheIdleTimerExpiresPendingTransfersWithoutAnyRequest) {
  SharedManualClock clock(Timestamp{kStartNs});
  {
    auto engine = Open({}, &clock);  // expire_when_idle is on by default
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({Pending(10, 1, 2, 100, 5)})),
              CreateTransferResult::created);
    const uint64_t records = engine->Stats().journal_records;
    clock.Advance(6 * kNanosPerSecond);
    // Stats() does not go through the sequencer, so watching it sends no request: only the
    // 10 ms idle timer can journal the expiry. (The journal's record count is the signal.)
    while (engine->Stats().journal_records == records) std::this_thread::yield();
    EXPECT_EQ(engine->Stats().journal_records, records + 1);
    EXPECT_EQ(Statuses(*engine, {10}), std::vector<PendingStatus>{PendingStatus::expired});
  }
  auto engine = Open(ManualClockOptions(), &clock);
  EXPECT_EQ(Statuses(*engine, {10}), std::vector<PendingStatus>{PendingStatus::expired});
  EXPECT_EQ(AccountOf(*engine, 1).debits_pending, Amount::Zero());
}

TEST_F(EngineRecoveryTest, AFailedLinkedChainJournalsOnlyItsTransientFailure) {
  StateDump before;
  const std::vector<u128> accounts = {1, 2, 3};
  const std::vector<u128> transfers = {10, 11, 12, 13};
  {
    auto engine = Open();
    ASSERT_FALSE(
        engine
            ->CreateAccounts(
                {MakeAccount(1), MakeAccount(2, af::kDebitsMustNotExceedCredits), MakeAccount(3)})
            .error);
    const uint64_t records = engine->Stats().journal_records;
    // 10 is fine alone; 11 overdraws account 2 (a transient failure); 12 closes the chain.
    Reply reply = engine->CreateTransfers({MakeTransfer(10, 1, 2, 5, tf::kLinked),
                                           MakeTransfer(11, 2, 3, 50, tf::kLinked),
                                           MakeTransfer(12, 1, 3, 5)});
    ASSERT_FALSE(reply.error);
    ASSERT_EQ(reply.transfer_results.size(), 3u);
    EXPECT_EQ(reply.transfer_results[0].result, CreateTransferResult::linked_event_failed);
    EXPECT_EQ(reply.transfer_results[1].result, CreateTransferResult::exceeds_credits);
    EXPECT_EQ(reply.transfer_results[2].result, CreateTransferResult::linked_event_failed);
    // Nothing of the chain is journaled but the failed id (one transfers_failed fact).
    EXPECT_EQ(engine->Stats().journal_records, records + 1);
    Settle(*engine);
    EXPECT_EQ(engine->Stats().transfers, 0u);
    // A chain that fails on a validation error journals nothing at all.
    Reply invalid = engine->CreateTransfers(
        {MakeTransfer(13, 1, 2, 5, tf::kLinked), MakeTransfer(13, 1, 1, 5)});
    ASSERT_EQ(invalid.transfer_results.size(), 2u);
    EXPECT_EQ(engine->Stats().journal_records, records + 1);
    before = DumpState(*engine, accounts, transfers);
  }
  auto engine = Open();
  EXPECT_EQ(DumpState(*engine, accounts, transfers), before);
  // The transiently failing id is remembered across the restart; the others are free.
  EXPECT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(11, 1, 3, 1)})),
            CreateTransferResult::id_already_failed);
  EXPECT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(10, 1, 2, 5)})),
            CreateTransferResult::created);
  EXPECT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(12, 1, 3, 5)})),
            CreateTransferResult::created);
}

TEST_F(EngineRecoveryTest, BalancingClosingAndHistoryMatchAfterSnapshotPlusReplayAndFullReplay) {
  const std::vector<u128> accounts = {1, 2, 3, 4};
  const std::vector<u128> transfers = {10, 11, 12, 13, 14, 15, 16, 17, 18};
  StateDump before;
  {
    auto engine = Open();
    ASSERT_FALSE(
        engine
            ->CreateAccounts({MakeAccount(1, af::kHistory),
                              MakeAccount(2, af::kDebitsMustNotExceedCredits | af::kHistory),
                              MakeAccount(3, af::kCreditsMustNotExceedDebits),
                              MakeAccount(4, af::kHistory)})
            .error);
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(10, 1, 2, 100)})),
              CreateTransferResult::created);
    // Balancing debit: asks for 1000, account 2 can give only its 100.
    ASSERT_EQ(
        OnlyResult(engine->CreateTransfers({MakeTransfer(11, 2, 4, 1000, tf::kBalancingDebit)})),
        CreateTransferResult::created);
    Reply t11 = engine->LookupTransfers({TransferId{11}});
    ASSERT_EQ(t11.transfers.size(), 1u);
    EXPECT_EQ(t11.transfers[0].amount, Amount::FromMinor(100));
    // A closing (pending) transfer closes account 4; a transfer from it then fails.
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({Pending(12, 4, 1, 0, 0, tf::kClosingDebit)})),
              CreateTransferResult::created);
    EXPECT_NE(AccountOf(*engine, 4).flags & af::kClosed, 0);
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(13, 4, 1, 5)})),
              CreateTransferResult::debit_account_already_closed);
    ASSERT_TRUE(engine->Snapshot().ok());
    // After the snapshot: voiding the closing transfer reopens the account.
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({Resolve(
                  14, Pending(12, 4, 1, 0, 0, tf::kClosingDebit), 0, tf::kVoidPendingTransfer)})),
              CreateTransferResult::created);
    EXPECT_EQ(AccountOf(*engine, 4).flags & af::kClosed, 0);
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(15, 4, 1, 5)})),
              CreateTransferResult::created);
    // Balancing credit: account 3 may not be credited beyond its debits.
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(16, 3, 1, 50)})),
              CreateTransferResult::created);
    ASSERT_EQ(
        OnlyResult(engine->CreateTransfers({MakeTransfer(17, 1, 3, 999, tf::kBalancingCredit)})),
        CreateTransferResult::created);
    Reply t17 = engine->LookupTransfers({TransferId{17}});
    ASSERT_EQ(t17.transfers.size(), 1u);
    EXPECT_EQ(t17.transfers[0].amount, Amount::FromMinor(50));
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(18, 1, 3, 1)})),
              CreateTransferResult::exceeds_debits);
    before = DumpState(*engine, accounts, transfers);
  }
  {
    auto engine = Open();
    EXPECT_TRUE(engine->recovery().from_snapshot);
    EXPECT_GT(engine->recovery().replayed_records, 0u);
    EXPECT_EQ(DumpState(*engine, accounts, transfers), before);
  }
  EngineOptions options;
  options.ignore_snapshots = true;
  auto engine = Open(options);
  EXPECT_FALSE(engine->recovery().from_snapshot);
  EXPECT_TRUE(engine->recovery().skipped_snapshots.empty());
  EXPECT_EQ(engine->recovery().replayed_records, engine->Stats().journal_records);
  EXPECT_EQ(DumpState(*engine, accounts, transfers), before);
  EXPECT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(13, 1, 4, 1)})),
            CreateTransferResult::id_already_failed);
}

TEST_F(EngineRecoveryTest, ABatchOf8189IsAppliedAndOneOf8190IsRefusedWhole) {
  auto engine = Open();
  ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
  std::vector<Transfer> batch;
  for (u128 i = 0; i < kBatchEventsMax; ++i) batch.push_back(MakeTransfer(1000 + i, 1, 2, 1));
  Reply full = engine->CreateTransfers(batch);
  ASSERT_FALSE(full.error);
  EXPECT_TRUE(full.transfer_results.empty());
  EXPECT_EQ(AccountOf(*engine, 2).credits_posted, Amount::FromMinor(kBatchEventsMax));

  const EngineStats stats = engine->Stats();
  std::vector<Transfer> over;
  for (u128 i = 0; i <= kBatchEventsMax; ++i) over.push_back(MakeTransfer(100000 + i, 1, 2, 1));
  Reply refused = engine->CreateTransfers(over);
  ASSERT_TRUE(refused.error);
  EXPECT_EQ(*refused.error, EngineError::too_many_events);
  EXPECT_TRUE(engine->LookupTransfers({TransferId{100000}, TransferId{100000 + kBatchEventsMax}})
                  .transfers.empty());
  EXPECT_EQ(engine->Stats().journal_records, stats.journal_records);
  EXPECT_EQ(engine->Stats().transfers, stats.transfers);

  std::vector<ledger::Account> accounts;
  for (u128 i = 0; i <= kBatchEventsMax; ++i) accounts.push_back(MakeAccount(5000 + i));
  Reply refused_accounts = engine->CreateAccounts(accounts);
  ASSERT_TRUE(refused_accounts.error);
  EXPECT_EQ(*refused_accounts.error, EngineError::too_many_events);
  EXPECT_EQ(engine->Stats().accounts, 2u);
  accounts.pop_back();
  EXPECT_FALSE(engine->CreateAccounts(accounts).error);
  Settle(*engine);
  EXPECT_EQ(engine->Stats().accounts, 2u + kBatchEventsMax);

  engine.reset();
  engine = Open();
  EXPECT_EQ(AccountOf(*engine, 2).credits_posted, Amount::FromMinor(kBatchEventsMax));
  EXPECT_EQ(engine->Stats().transfers, kBatchEventsMax);
  EXPECT_EQ(engine->Stats().accounts, 2u + kBatchEventsMax);
}

TEST_F(EngineRecoveryTest, ConcurrentSubmittersAllGetRepliesAndTheStateSurvivesARestart) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  constexpr u128 kAccounts = 16;
  std::vector<u128> account_ids;
  for (u128 a = 1; a <= kAccounts; ++a) account_ids.push_back(a);
  std::vector<u128> transfer_ids;
  std::vector<u128> debits(kAccounts + 1, 0);
  std::vector<u128> credits(kAccounts + 1, 0);
  auto transfer_of = [&](int thread, int i) {
    const u128 debit = 1 + static_cast<u128>(thread + i) % kAccounts;
    const u128 credit = 1 + (debit + static_cast<u128>(i % 7)) % kAccounts;
    const u128 id = static_cast<u128>(thread) * 1'000'000 + static_cast<u128>(i) + 1;
    return MakeTransfer(id, debit, credit, 1 + static_cast<u128>(i % 97));
  };
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const Transfer transfer = transfer_of(t, i);
      transfer_ids.push_back(transfer.id.value);
      debits[static_cast<size_t>(transfer.debit_account_id.value)] += transfer.amount.minor();
      credits[static_cast<size_t>(transfer.credit_account_id.value)] += transfer.amount.minor();
    }
  }
  StateDump before;
  {
    EngineOptions options;
    options.queue_requests_max = 64;        // callers block on a full queue, too
    options.snapshot_every_records = 5000;  // and the sequencer pauses for snapshots under load
    auto engine = Open(options);
    std::vector<ledger::Account> accounts;
    for (const u128 a : account_ids) accounts.push_back(MakeAccount(a));
    ASSERT_FALSE(engine->CreateAccounts(accounts).error);

    std::latch replies(kThreads * kPerThread);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          Request request;
          request.kind = RequestKind::create_transfers;
          request.transfers.push_back(transfer_of(t, i));
          request.done = [&](Reply&& reply) {
            if (reply.error || !reply.transfer_results.empty() || reply.durable_sequence == 0) {
              failures.fetch_add(1);
            }
            replies.count_down();
          };
          engine->Submit(std::move(request));
        }
      });
    }
    // An on-demand snapshot in the middle of it all.
    auto snapshot = engine->Snapshot();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().Message();
    for (std::thread& thread : threads) thread.join();
    replies.wait();  // every request is answered exactly once (or count_down would underflow)
    EXPECT_EQ(failures.load(), 0);
    Settle(*engine);
    EXPECT_EQ(engine->Stats().transfers, static_cast<uint64_t>(kThreads * kPerThread));
    EXPECT_LT(engine->Stats().groups_committed, static_cast<uint64_t>(kThreads * kPerThread));
    for (const u128 a : account_ids) {
      const ledger::Account account = AccountOf(*engine, a);
      EXPECT_EQ(account.debits_posted, Amount::FromMinor(debits[static_cast<size_t>(a)]));
      EXPECT_EQ(account.credits_posted, Amount::FromMinor(credits[static_cast<size_t>(a)]));
    }
    before = DumpState(*engine, account_ids, transfer_ids);
  }
  {
    auto engine = Open();
    EXPECT_TRUE(engine->recovery().from_snapshot);
    EXPECT_EQ(DumpState(*engine, account_ids, transfer_ids), before);
  }
  EngineOptions full_replay;
  full_replay.ignore_snapshots = true;
  auto engine = Open(full_replay);
  EXPECT_EQ(DumpState(*engine, account_ids, transfer_ids), before);
}

TEST_F(EngineRecoveryTest, FsyncNeverStillRecoversAfterACleanShutdown) {
  EngineOptions options;
  options.fsync = FsyncMode::never;
  StateDump before;
  {
    auto engine = Open(options);
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    for (u128 i = 0; i < 50; ++i) {
      ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(10 + i, 1, 2, 1)})),
                CreateTransferResult::created);
    }
    auto snapshot = engine->Snapshot();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().Message();
    EXPECT_EQ(snapshot.value().sequence, engine->Stats().journal_last_sequence);
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(100, 2, 1, 3)})),
              CreateTransferResult::created);
    before = DumpState(*engine, {1, 2}, {10, 59, 100});
  }
  auto engine = Open(options);
  EXPECT_TRUE(engine->recovery().from_snapshot);
  EXPECT_EQ(DumpState(*engine, {1, 2}, {10, 59, 100}), before);
}

TEST_F(EngineRecoveryTest, AutomaticSnapshotsArePrunedToTheNumberKept) {
  EngineOptions options;
  options.snapshot_every_records = 10;
  options.snapshots_kept = 2;
  std::vector<u128> transfer_ids;
  StateDump before;
  {
    auto engine = Open(options);
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    for (u128 i = 0; i < 55; ++i) {  // one record per request
      ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(10 + i, 1, 2, 1 + i)})),
                CreateTransferResult::created);
      transfer_ids.push_back(10 + i);
    }
    before = DumpState(*engine, {1, 2}, transfer_ids);
  }  // the engine is shut down: any snapshot it was writing is finished
  auto names = ListSnapshots(*storage_);
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names.value().size(), 2u);
  const uint64_t newest = *ParseSnapshotFileName(names.value()[0]);
  EXPECT_GE(newest, 50u);  // 56 records: snapshots at 10, 20, ..., 50
  EXPECT_EQ(*ParseSnapshotFileName(names.value()[1]), newest - 10);
  auto engine = Open(options);
  EXPECT_TRUE(engine->recovery().from_snapshot);
  EXPECT_EQ(engine->recovery().snapshot_sequence, newest);
  EXPECT_LT(engine->recovery().replayed_records, 10u);
  EXPECT_EQ(DumpState(*engine, {1, 2}, transfer_ids), before);
}

TEST_F(EngineRecoveryTest, ASnapshotPastTheJournalsEndIsSkippedAndNeverUsedLater) {
  // The journal is restored from an older copy (or, with fsync=never, lost its tail): the
  // newest snapshot describes facts the journal no longer has.
  std::vector<std::pair<std::string, std::vector<uint8_t>>> backup;
  {
    auto engine = Open();
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(10, 1, 2, 5)})),
              CreateTransferResult::created);
  }
  for (const std::string& name : Segments()) backup.emplace_back(name, ReadAll(name));
  uint64_t snapshot_sequence = 0;
  {
    auto engine = Open();
    for (u128 i = 0; i < 5; ++i) {
      ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(20 + i, 1, 2, 100)})),
                CreateTransferResult::created);
    }
    auto snapshot = engine->Snapshot();
    ASSERT_TRUE(snapshot.ok());
    snapshot_sequence = snapshot.value().sequence;
  }
  for (const auto& [name, bytes] : backup) Overwrite(name, bytes);

  const std::vector<u128> transfers = {10, 20, 21, 22, 23, 24, 30, 31, 32, 33, 34, 35, 36};
  StateDump before;
  {
    EngineOptions options;
    options.ignore_snapshots = true;  // the stale snapshot must go even when not looked at
    auto engine = Open(options);
    ASSERT_NE(engine, nullptr);
    EXPECT_FALSE(engine->recovery().from_snapshot);
    ASSERT_EQ(engine->recovery().skipped_snapshots.size(), 1u);
    EXPECT_NE(engine->recovery().skipped_snapshots[0].find("but the journal ends at"),
              std::string::npos)
        << engine->recovery().skipped_snapshots[0];
    EXPECT_TRUE(engine->LookupTransfers({TransferId{20}}).transfers.empty());
    auto left = ListSnapshots(*storage_);
    ASSERT_TRUE(left.ok());
    EXPECT_TRUE(left.value().empty());  // deleted before anything was appended
    // New, different facts take the sequences the snapshot covered, and more.
    for (u128 i = 0; i < 7; ++i) {
      ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(30 + i, 2, 1, 1)})),
                CreateTransferResult::created);
    }
    ASSERT_GT(engine->Stats().journal_last_sequence, snapshot_sequence);
    before = DumpState(*engine, {1, 2}, transfers);
  }
  // The stale snapshot now covers a sequence inside the journal; loading it would resurrect
  // transfers 20..24 and lose 30..36.
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  EXPECT_FALSE(engine->recovery().from_snapshot);
  EXPECT_EQ(DumpState(*engine, {1, 2}, transfers), before);
}

TEST_F(EngineRecoveryTest,
       AFlippedByteInTheMiddleOfTheJournalStopsOpenNamingFileOffsetAndSequence) {
  {
    EngineOptions options;
    options.journal_preallocate_bytes = 0;  // so the file's middle is among the groups
    auto engine = Open(options);
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
    for (u128 i = 0; i < 20; ++i) {
      ASSERT_EQ(OnlyResult(engine->CreateTransfers({MakeTransfer(10 + i, 1, 2, 1)})),
                CreateTransferResult::created);
    }
  }
  const std::vector<std::string> segments = Segments();
  ASSERT_EQ(segments.size(), 1u);
  std::vector<uint8_t> bytes = ReadAll(segments[0]);
  bytes[bytes.size() / 2] ^= 0x10;  // inside some group in the middle: not a torn tail
  Overwrite(segments[0], bytes);
  auto engine = Engine::Open(*storage_, {});
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.error().code, EngineError::journal_corrupt);
  const std::string message = engine.error().Message();
  EXPECT_NE(message.find(PathOf(segments[0])), std::string::npos) << message;
  EXPECT_NE(message.find("offset"), std::string::npos) << message;
  EXPECT_NE(message.find("sequence"), std::string::npos) << message;
  // Nothing was truncated or repaired: the damage is still there for an operator to see.
  EXPECT_EQ(ReadAll(segments[0]), bytes);
}

TEST_F(EngineRecoveryTest, CuttingTheLastGroupAtEveryByteRecoversTheStateBeforeIt) {
  const std::vector<u128> accounts = {1, 2, 3};
  const std::vector<u128> transfers = {10, 11, 12, 13, 20, 21};
  StateDump before;
  StateDump after;
  uint64_t size_before = 0;
  {
    // Without preallocation the segment ends at its last group, so file sizes are group ends
    // (cuts into a zero tail are the journal tests' business).
    EngineOptions options;
    options.journal_preallocate_bytes = 0;
    auto engine = Open(options);
    ASSERT_FALSE(
        engine->CreateAccounts({MakeAccount(1), MakeAccount(2, af::kHistory), MakeAccount(3)})
            .error);
    ASSERT_EQ(
        OnlyResult(engine->CreateTransfers({MakeTransfer(10, 1, 2, 5), MakeTransfer(11, 2, 3, 1)})),
        CreateTransferResult::created);
    ASSERT_EQ(OnlyResult(engine->CreateTransfers({Pending(12, 1, 2, 9, 0)})),
              CreateTransferResult::created);
    before = DumpState(*engine, accounts, transfers);
    size_before = FileSize(Segments().at(0));
    // The last group: two transfers, a post, and a transient failure (two fact records).
    Reply last = engine->CreateTransfers(
        {MakeTransfer(20, 3, 1, 1), MakeTransfer(21, 1, 9, 1),
         Resolve(13, Pending(12, 1, 2, 9, 0), 4, tf::kPostPendingTransfer)});
    ASSERT_EQ(last.transfer_results.size(), 1u);
    after = DumpState(*engine, accounts, transfers);
  }
  ASSERT_NE(before, after);
  const std::string segment = Segments().at(0);
  const std::vector<uint8_t> full = ReadAll(segment);
  ASSERT_GT(full.size(), size_before);
  for (uint64_t cut = size_before; cut < full.size(); ++cut) {
    SCOPED_TRACE("journal cut at byte " + std::to_string(cut) + " of " +
                 std::to_string(full.size()));
    Overwrite(segment, std::span(full).first(static_cast<size_t>(cut)));
    auto engine = Open();
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(engine->recovery().torn_tail_bytes, cut - size_before);
    EXPECT_EQ(DumpState(*engine, accounts, transfers), before);
  }
  Overwrite(segment, full);
  auto engine = Open();
  EXPECT_EQ(DumpState(*engine, accounts, transfers), after);
}

TEST_F(EngineRecoveryTest, TransfersAreReadBackFromOlderSegmentsAfterRollOverAndRestart) {
  EngineOptions options;
  options.segment_bytes_max = 4096;  // the minimum: a new segment every ~15 small groups
  options.snapshot_every_records = 40;
  std::vector<u128> transfer_ids;
  StateDump before;
  {
    auto engine = Open(options);
    ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1, af::kHistory), MakeAccount(2)}).error);
    for (u128 i = 0; i < 120; ++i) {
      std::vector<Transfer> batch = {MakeTransfer(10 + 2 * i, 1, 2, 1 + i)};
      if (i % 3 == 0) batch.push_back(MakeTransfer(11 + 2 * i, 2, 1, 1));
      ASSERT_FALSE(engine->CreateTransfers(batch).error);
      for (const Transfer& t : batch) transfer_ids.push_back(t.id.value);
    }
    EXPECT_GT(Segments().size(), 3u);
    // The first transfers now live in the oldest segment and are read back from it.
    Reply first = engine->LookupTransfers({TransferId{10}, TransferId{11}});
    ASSERT_EQ(first.transfers.size(), 2u);
    EXPECT_EQ(first.transfers[0].amount, Amount::FromMinor(1));
    before = DumpState(*engine, {1, 2}, transfer_ids);
  }
  {
    auto engine = Open(options);
    EXPECT_TRUE(engine->recovery().from_snapshot)
        << ::testing::PrintToString(engine->recovery().skipped_snapshots);
    EXPECT_EQ(DumpState(*engine, {1, 2}, transfer_ids), before);
  }
  options.ignore_snapshots = true;
  auto engine = Open(options);
  EXPECT_EQ(DumpState(*engine, {1, 2}, transfer_ids), before);
}

TEST_F(EngineRecoveryTest, TrySubmitRefusesWithoutAnsweringWhenTheQueueIsFull) {
  EngineOptions options;
  options.queue_requests_max = 1;
  // Every request through the queue: a submitter step (the sequencer idle) never queues.
  options.submitter_steps = false;
  auto engine = Open(options);
  ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1), MakeAccount(2)}).error);
  // Submit until TrySubmit says no; every accepted request is answered exactly once, and the
  // refused one never is.
  std::atomic<int> answered{0};
  int accepted = 0;
  bool refused = false;
  for (int i = 0; i < 100000 && !refused; ++i) {
    Request request;
    request.kind = RequestKind::create_transfers;
    request.transfers.push_back(MakeTransfer(static_cast<u128>(100 + i), 1, 2, 1));
    request.done = [&](Reply&& reply) {
      EXPECT_FALSE(reply.error);
      answered.fetch_add(1);
    };
    if (engine->TrySubmit(request)) {
      ++accepted;
    } else {
      refused = true;
      EXPECT_TRUE(request.done != nullptr);  // handed back untouched
    }
  }
  EXPECT_TRUE(refused) << "the queue of one request never filled";
  engine->Shutdown();  // finishes everything queued
  EXPECT_EQ(answered.load(), accepted);
}

TEST_F(EngineRecoveryTest, ADataDirectoryFromANewerFormatIsRefused) {
  const std::string newer = "tpwallet data directory\nformat 2\n";
  ASSERT_TRUE(storage_
                  ->WriteFileAtomically(
                      "tpwallet-data",
                      std::span(reinterpret_cast<const uint8_t*>(newer.data()), newer.size()))
                  .ok());
  auto engine = Engine::Open(*storage_, {});
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.error().code, EngineError::format_unsupported);
  EXPECT_NE(engine.error().Message().find("format 2"), std::string::npos)
      << engine.error().Message();
}

TEST_F(EngineRecoveryTest, RequestsAfterShutdownAreRefused) {
  auto engine = Open();
  ASSERT_FALSE(engine->CreateAccounts({MakeAccount(1)}).error);
  engine->Shutdown();
  Reply reply = engine->CreateAccounts({MakeAccount(2)});
  ASSERT_TRUE(reply.error);
  EXPECT_EQ(*reply.error, EngineError::shutting_down);
  auto snapshot = engine->Snapshot();
  ASSERT_FALSE(snapshot.ok());
  EXPECT_EQ(snapshot.error().code, EngineError::shutting_down);
}

}  // namespace
}  // namespace tpw::engine
