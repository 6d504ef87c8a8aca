// The engine's access state over a real journal on disk: API keys created, listed, revoked and
// published to other threads; idempotent writes executed once, replayed, refused for another
// request, expired after their ttl — all surviving a full replay and a snapshot restart.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::engine {
namespace {

using access::IdempotencyLookup;
using testing::MakeAccount;
using testing::MakeTransfer;

class EngineAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto storage = storage::PosixStorage::Open(dir_.path(), false);
    ASSERT_TRUE(storage.ok());
    storage_ = std::move(storage.value());
    ASSERT_TRUE(Engine::Initialize(*storage_).ok());
    clock_.Set(Timestamp{1'700'000'000'000ull * 1'000'000});
    Reopen();
    ASSERT_TRUE(engine_->CreateAccounts({MakeAccount(1), MakeAccount(2)}).account_results.empty());
  }

  void Reopen(bool ignore_snapshots = false) {
    engine_.reset();
    EngineOptions options;
    options.ignore_snapshots = ignore_snapshots;
    options.idempotency_ttl_ms = kTtlMs;
    auto engine = Engine::Open(*storage_, options, &clock_);
    ASSERT_TRUE(engine.ok()) << engine.error().Message();
    engine_ = std::move(engine.value());
  }

  static access::ApiKey NewKey(uint64_t id, access::Scope scope) {
    access::ApiKey key;
    key.id = id;
    key.scope = scope;
    key.name = "ops " + std::to_string(id);
    key.secret_hash = crypto::Blake2b256(std::vector<uint8_t>{1, 2, static_cast<uint8_t>(id)});
    return key;
  }

  AccessReply Create(uint64_t id, access::Scope scope = access::Scope::merchant) {
    AccessCommand c;
    c.kind = AccessCommandKind::create_api_key;
    c.key = NewKey(id, scope);
    return *engine_->ExecuteAccess(c).access;
  }
  AccessReply Revoke(uint64_t id) {
    AccessCommand c;
    c.kind = AccessCommandKind::revoke_api_key;
    c.key_id = id;
    return *engine_->ExecuteAccess(c).access;
  }

  // A transfer request made idempotent under `key`; the render counts its calls.
  Request IdempotentTransfer(const std::string& key, u128 transfer_id, u128 amount) {
    Request request;
    request.kind = RequestKind::create_transfers;
    request.transfers = {MakeTransfer(transfer_id, 1, 2, amount)};
    auto idempotency = std::make_shared<IdempotencyRequest>();
    idempotency->scope = 7;
    idempotency->key = key;
    idempotency->fingerprint = crypto::Blake2b256(std::vector<uint8_t>{
        static_cast<uint8_t>(transfer_id), static_cast<uint8_t>(amount)});
    idempotency->render = [this, transfer_id](const Reply& reply) {
      ++renders_;
      const bool ok = reply.transfer_results.empty();
      return std::pair<uint16_t, std::string>(
          ok ? 201 : 422, "{\"transfer\":" + std::to_string(static_cast<uint64_t>(transfer_id)) + "}");
    };
    request.idempotency = std::move(idempotency);
    return request;
  }

  u128 Credit(u128 id) { return engine_->LookupAccounts({AccountId{id}}).accounts.at(0).credits_posted.minor(); }

  static constexpr uint64_t kTtlMs = 3'600'000;
  storage::TempDir dir_;
  std::unique_ptr<storage::PosixStorage> storage_;
  ManualClock clock_{Timestamp{0}};
  std::unique_ptr<Engine> engine_;
  std::atomic<int> renders_{0};
};

TEST_F(EngineAccessTest, KeysAreCreatedListedRevokedAndPublished) {
  AccessReply created = Create(11, access::Scope::admin);
  ASSERT_EQ(created.error, AccessError::ok);
  ASSERT_EQ(created.keys.size(), 1u);
  EXPECT_EQ(created.keys[0].created_ms, 1'700'000'000'000ull);
  EXPECT_EQ(Create(11).error, AccessError::key_exists);
  EXPECT_EQ(Create(0).error, AccessError::invalid);
  ASSERT_EQ(Create(12).error, AccessError::ok);

  std::shared_ptr<const access::ApiKeyTable> published = engine_->ApiKeys();
  ASSERT_NE(published->Find(11), nullptr);
  EXPECT_EQ(published->Find(11)->scope, access::Scope::admin);
  EXPECT_EQ(published->Find(11)->secret_hash, NewKey(11, access::Scope::admin).secret_hash);

  EXPECT_EQ(Revoke(12).error, AccessError::ok);
  EXPECT_EQ(Revoke(12).error, AccessError::already_revoked);
  EXPECT_EQ(Revoke(99).error, AccessError::unknown_key);
  EXPECT_TRUE(engine_->ApiKeys()->Find(12)->revoked);
  EXPECT_FALSE(published->Find(12)->revoked);  // a published table never changes under a reader

  AccessCommand list;
  list.kind = AccessCommandKind::list_api_keys;
  EXPECT_EQ(engine_->ExecuteAccess(list).access->keys.size(), 2u);
}

TEST_F(EngineAccessTest, KeysSurviveReplayAndSnapshots) {
  ASSERT_EQ(Create(21, access::Scope::auditor).error, AccessError::ok);
  ASSERT_EQ(Create(22).error, AccessError::ok);
  ASSERT_EQ(Revoke(22).error, AccessError::ok);
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(engine_->ApiKeys()->size(), 2u);
  EXPECT_TRUE(engine_->ApiKeys()->Find(22)->revoked);
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen();
  EXPECT_TRUE(engine_->recovery().from_snapshot);
  EXPECT_EQ(engine_->ApiKeys()->Find(21)->scope, access::Scope::auditor);
  EXPECT_TRUE(engine_->ApiKeys()->Find(22)->revoked);
  EXPECT_EQ(engine_->Stats().api_keys, 2u);
}

TEST_F(EngineAccessTest, AnIdempotentWriteExecutesOnceAndReplaysItsFirstResponse) {
  Reply first = engine_->Execute(IdempotentTransfer("pay-1", 100, 50));
  ASSERT_TRUE(first.idempotent.has_value());
  EXPECT_EQ(first.idempotent->outcome, IdempotencyLookup::absent);
  EXPECT_EQ(first.idempotent->status, 201);
  EXPECT_EQ(renders_.load(), 1);

  Reply again = engine_->Execute(IdempotentTransfer("pay-1", 100, 50));
  ASSERT_TRUE(again.idempotent.has_value());
  EXPECT_EQ(again.idempotent->outcome, IdempotencyLookup::replay);
  EXPECT_EQ(again.idempotent->status, 201);
  EXPECT_EQ(again.idempotent->body, first.idempotent->body);
  EXPECT_TRUE(again.transfer_results.empty());  // nothing executed
  EXPECT_EQ(renders_.load(), 1);

  Reply other = engine_->Execute(IdempotentTransfer("pay-1", 101, 60));
  ASSERT_TRUE(other.idempotent.has_value());
  EXPECT_EQ(other.idempotent->outcome, IdempotencyLookup::mismatch);
  EXPECT_EQ(Credit(2), 50u);
  EXPECT_TRUE(engine_->LookupTransfers({TransferId{101}}).transfers.empty());
  EXPECT_EQ(engine_->Stats().idempotency_records, 1u);
}

TEST_F(EngineAccessTest, StoredResponsesSurviveReplayAndSnapshots) {
  ASSERT_EQ(engine_->Execute(IdempotentTransfer("pay-2", 200, 70)).idempotent->status, 201);
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(engine_->Execute(IdempotentTransfer("pay-2", 200, 70)).idempotent->outcome,
            IdempotencyLookup::replay);
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen();
  ASSERT_TRUE(engine_->recovery().from_snapshot);
  Reply after = engine_->Execute(IdempotentTransfer("pay-2", 200, 70));
  EXPECT_EQ(after.idempotent->outcome, IdempotencyLookup::replay);
  EXPECT_EQ(after.idempotent->body, "{\"transfer\":200}");
  EXPECT_EQ(renders_.load(), 1);
  EXPECT_EQ(Credit(2), 70u);
}

TEST_F(EngineAccessTest, ARefusedWriteIsStoredAndReplayedToo) {
  // Stripe stores the response of every request that executed, errors included.
  Reply refused = engine_->Execute(IdempotentTransfer("pay-3", 0, 5));  // id 0: refused
  ASSERT_TRUE(refused.idempotent.has_value());
  EXPECT_FALSE(refused.transfer_results.empty());
  EXPECT_EQ(refused.idempotent->status, 422);
  Reply again = engine_->Execute(IdempotentTransfer("pay-3", 0, 5));
  EXPECT_EQ(again.idempotent->outcome, IdempotencyLookup::replay);
  EXPECT_EQ(again.idempotent->status, 422);
}

TEST_F(EngineAccessTest, AfterTheTtlAKeyIsForgottenAndExecutesAnew) {
  ASSERT_EQ(engine_->Execute(IdempotentTransfer("pay-4", 400, 10)).idempotent->outcome,
            IdempotencyLookup::absent);
  clock_.Advance((kTtlMs - 1) * 1'000'000);
  EXPECT_EQ(engine_->Execute(IdempotentTransfer("pay-4", 400, 10)).idempotent->outcome,
            IdempotencyLookup::replay);
  clock_.Advance(1'000'000);
  // Forgotten: another request may use the key (the ledger's own id keeps transfer 400 once).
  Reply reused = engine_->Execute(IdempotentTransfer("pay-4", 401, 11));
  EXPECT_EQ(reused.idempotent->outcome, IdempotencyLookup::absent);
  EXPECT_EQ(Credit(2), 21u);
  EXPECT_EQ(engine_->Stats().idempotency_records, 1u);
}

TEST_F(EngineAccessTest, ConcurrentRequestsWithOneKeyExecuteOnce) {
  constexpr int kRequests = 64;
  std::vector<std::promise<Reply>> promises(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    Request request = IdempotentTransfer("race", 500, 5);
    request.done = [&promises, i](Reply&& reply) { promises[static_cast<size_t>(i)].set_value(std::move(reply)); };
    engine_->Submit(std::move(request));
  }
  int executed = 0;
  int replayed = 0;
  for (auto& promise : promises) {
    const Reply reply = promise.get_future().get();
    ASSERT_TRUE(reply.idempotent.has_value());
    executed += reply.idempotent->outcome == IdempotencyLookup::absent ? 1 : 0;
    replayed += reply.idempotent->outcome == IdempotencyLookup::replay ? 1 : 0;
    EXPECT_EQ(reply.idempotent->body, "{\"transfer\":500}");
  }
  EXPECT_EQ(executed, 1);
  EXPECT_EQ(replayed, kRequests - 1);
  EXPECT_EQ(Credit(2), 5u);
}

}  // namespace
}  // namespace tpw::engine
