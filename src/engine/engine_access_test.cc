// The engine's access state over a real journal on disk: API keys created, listed, revoked and
// published to other threads; stored responses replayed for the same request, refused for
// another, forgotten after their ttl — all surviving a full replay and a snapshot restart.
#include <gtest/gtest.h>

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

  static access::IdempotencyRecord Record(const std::string& key, uint8_t request, uint16_t status = 201) {
    access::IdempotencyRecord r;
    r.scope = 7;
    r.key = key;
    r.fingerprint = crypto::Blake2b256(std::vector<uint8_t>{request});
    r.status = status;
    r.body = "{\"request\":" + std::to_string(request) + "}";
    return r;
  }
  AccessReply Lookup(const std::string& key, uint8_t request) {
    AccessCommand c;
    c.kind = AccessCommandKind::lookup_response;
    c.record = Record(key, request);
    return *engine_->ExecuteAccess(c).access;
  }
  AccessReply Store(const access::IdempotencyRecord& record) {
    AccessCommand c;
    c.kind = AccessCommandKind::store_response;
    c.record = record;
    return *engine_->ExecuteAccess(c).access;
  }

  u128 Credit(u128 id) { return engine_->LookupAccounts({AccountId{id}}).accounts.at(0).credits_posted.minor(); }

  static constexpr uint64_t kTtlMs = 3'600'000;
  storage::TempDir dir_;
  std::unique_ptr<storage::PosixStorage> storage_;
  ManualClock clock_{Timestamp{0}};
  std::unique_ptr<Engine> engine_;
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

TEST_F(EngineAccessTest, MerchantKeysAreBoundToExistingAccountsOnly) {
  AccessCommand c;
  c.kind = AccessCommandKind::create_api_key;
  c.key = NewKey(31, access::Scope::merchant);
  c.key.merchant_accounts = {AccountId(1), AccountId(77)};
  AccessReply unknown = *engine_->ExecuteAccess(c).access;
  EXPECT_EQ(unknown.error, AccessError::unknown_merchant_account);
  EXPECT_EQ(unknown.detail, "77");
  EXPECT_EQ(engine_->ApiKeys()->Find(31), nullptr);

  c.key.merchant_accounts = {AccountId(2), AccountId(1)};  // not sorted: the caller's bug
  EXPECT_EQ(engine_->ExecuteAccess(c).access->error, AccessError::invalid);
  c.key.scope = access::Scope::admin;
  c.key.merchant_accounts = {AccountId(1)};
  AccessReply admin = *engine_->ExecuteAccess(c).access;
  EXPECT_EQ(admin.error, AccessError::invalid);
  EXPECT_NE(admin.detail.find("only merchant keys"), std::string::npos);

  c.key.scope = access::Scope::merchant;
  c.key.merchant_accounts = {AccountId(1), AccountId(2)};
  ASSERT_EQ(engine_->ExecuteAccess(c).access->error, AccessError::ok);
  EXPECT_EQ(engine_->ApiKeys()->Find(31)->merchant_accounts, c.key.merchant_accounts);
}

TEST_F(EngineAccessTest, BindingsSurviveReplayRevocationAndSnapshots) {
  AccessCommand c;
  c.kind = AccessCommandKind::create_api_key;
  c.key = NewKey(41, access::Scope::merchant);
  c.key.merchant_accounts = {AccountId(2)};
  ASSERT_EQ(engine_->ExecuteAccess(c).access->error, AccessError::ok);
  c.key = NewKey(42, access::Scope::merchant);
  c.key.merchant_accounts = {AccountId(1), AccountId(2)};
  ASSERT_EQ(engine_->ExecuteAccess(c).access->error, AccessError::ok);
  ASSERT_EQ(Create(43).error, AccessError::ok);  // unbound: journaled as version 1
  ASSERT_EQ(Revoke(42).error, AccessError::ok);
  const std::vector<AccountId> one = {AccountId(2)};
  const std::vector<AccountId> two = {AccountId(1), AccountId(2)};
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(engine_->ApiKeys()->Find(41)->merchant_accounts, one);
  EXPECT_EQ(engine_->ApiKeys()->Find(42)->merchant_accounts, two);
  EXPECT_TRUE(engine_->ApiKeys()->Find(42)->revoked);
  EXPECT_FALSE(engine_->ApiKeys()->Find(43)->bound());
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen();
  EXPECT_TRUE(engine_->recovery().from_snapshot);
  EXPECT_EQ(engine_->ApiKeys()->Find(41)->merchant_accounts, one);
  EXPECT_EQ(engine_->ApiKeys()->Find(42)->merchant_accounts, two);
  EXPECT_FALSE(engine_->ApiKeys()->Find(43)->bound());
}

TEST_F(EngineAccessTest, AStoredResponseIsReplayedForTheSameRequestOnly) {
  EXPECT_EQ(Lookup("pay-1", 1).lookup, IdempotencyLookup::absent);
  ASSERT_EQ(Store(Record("pay-1", 1)).error, AccessError::ok);
  AccessReply again = Lookup("pay-1", 1);
  EXPECT_EQ(again.lookup, IdempotencyLookup::replay);
  ASSERT_TRUE(again.stored.has_value());
  EXPECT_EQ(again.stored->status, 201);
  EXPECT_EQ(again.stored->body, "{\"request\":1}");
  EXPECT_EQ(again.stored->created_ms, 1'700'000'000'000ull);  // stamped by the engine
  EXPECT_EQ(Lookup("pay-1", 2).lookup, IdempotencyLookup::mismatch);
  EXPECT_EQ(Lookup("pay-2", 1).lookup, IdempotencyLookup::absent);
  EXPECT_EQ(engine_->Stats().idempotency_records, 1u);
}

TEST_F(EngineAccessTest, RecordsThatCannotBeKeptAreRefused) {
  EXPECT_EQ(Store(Record("", 1)).error, AccessError::invalid);
  EXPECT_EQ(Store(Record(std::string(256, 'k'), 1)).error, AccessError::invalid);
  EXPECT_EQ(Store(Record("k", 1, 99)).error, AccessError::invalid);
  access::IdempotencyRecord huge = Record("k", 1);
  huge.body.assign(access::kStoredBodyBytesMax + 1, 'x');
  EXPECT_EQ(Store(huge).error, AccessError::invalid);
  EXPECT_EQ(engine_->Stats().idempotency_records, 0u);
}

TEST_F(EngineAccessTest, StoredResponsesSurviveReplayAndSnapshots) {
  ASSERT_EQ(Store(Record("pay-3", 3, 422)).error, AccessError::ok);
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(Lookup("pay-3", 3).lookup, IdempotencyLookup::replay);
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen();
  ASSERT_TRUE(engine_->recovery().from_snapshot);
  AccessReply after = Lookup("pay-3", 3);
  EXPECT_EQ(after.lookup, IdempotencyLookup::replay);
  EXPECT_EQ(after.stored->status, 422);
  EXPECT_EQ(Lookup("pay-3", 4).lookup, IdempotencyLookup::mismatch);
}

TEST_F(EngineAccessTest, AfterTheTtlAKeyIsForgottenAndMayBeReused) {
  ASSERT_EQ(Store(Record("pay-4", 4)).error, AccessError::ok);
  clock_.Advance((kTtlMs - 1) * 1'000'000);
  EXPECT_EQ(Lookup("pay-4", 5).lookup, IdempotencyLookup::mismatch);
  clock_.Advance(1'000'000);
  EXPECT_EQ(Lookup("pay-4", 5).lookup, IdempotencyLookup::absent);
  ASSERT_EQ(Store(Record("pay-4", 5)).error, AccessError::ok);
  EXPECT_EQ(Lookup("pay-4", 5).lookup, IdempotencyLookup::replay);
  // The sequencer forgets expired records as time passes (any request makes it look).
  clock_.Advance(kTtlMs * 1'000'000);
  (void)Lookup("other", 1);
  (void)Lookup("other", 2);  // stats are published after each step: wait one more
  EXPECT_EQ(engine_->Stats().idempotency_records, 0u);
}

}  // namespace
}  // namespace tpw::engine
