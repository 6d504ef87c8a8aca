// Offline payments in the engine, on a real directory: issuer key, enrollment with a funded
// reserve, terminal registration, clearing of signed batches (every classification), sync,
// revocation, deny lists, exceptions — and the same state after a restart by replay and from a
// snapshot. Devices and terminals are played here with real keys and the real codecs.
#include <gtest/gtest.h>

#include <memory>

#include "common/clock.h"
#include "crypto/hash.h"
#include "crypto/secure.h"
#include "crypto/sign.h"
#include "engine/engine.h"
#include "engine/offline_facts.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::engine {
namespace {

using offline::Classification;
using offline::InvalidReason;

constexpr uint32_t kAsset = 1;
constexpr u128 kUser = 100;
constexpr u128 kReserve = 101;
constexpr u128 kMerchantAccount = 200;
constexpr u128 kGuarantee = 300;
constexpr u128 kFunder = 400;
constexpr u128 kDevice = 7;
constexpr u128 kTerminal = 50;
constexpr u128 kMerchant = 60;

offline::Bytes32 KeyBytes(const crypto::SecretKey& key) { return key.public_key().bytes; }

// A device as the wallet would be: its key, its certificate, its counter and hash chain.
struct Device {
  crypto::SecretKey key = crypto::GenerateSigningKey();
  offline::DeviceCertificate certificate;
  uint64_t next_counter = 1;
  crypto::Hash256 previous{};

  std::vector<uint8_t> Pay(u128 amount, u128 terminal, u128 merchant, uint64_t counter,
                           uint64_t terminal_time, offline::Cvm cvm = offline::Cvm::none) {
    offline::PaymentToken t;
    t.cvm = cvm;
    t.asset = certificate.asset;
    t.certificate = certificate;
    t.counter = counter;
    t.amount = Amount::FromMinor(amount);
    t.merchant_id = merchant;
    t.terminal_id = terminal;
    crypto::RandomBytes(t.nonce);
    t.terminal_time = terminal_time;
    t.device_time = terminal_time;
    t.previous_token_hash = previous;
    std::vector<uint8_t> bytes = offline::Encode(t);
    const crypto::Signature s = crypto::Sign(
        key, offline::kTokenDomain, offline::SignedPart(bytes, offline::MessageType::payment_token));
    std::copy(s.bytes.begin(), s.bytes.end(), bytes.end() - 64);
    previous = crypto::Blake2b256(bytes);
    return bytes;
  }
  std::vector<uint8_t> Pay(u128 amount, uint64_t terminal_time) {
    return Pay(amount, kTerminal, kMerchant, next_counter++, terminal_time);
  }
};

std::vector<uint8_t> MakeBatch(const crypto::SecretKey& terminal_key, u128 terminal,
                               const std::vector<std::vector<uint8_t>>& tokens) {
  offline::TerminalBatch batch;
  batch.terminal_id = terminal;
  crypto::RandomBytes(batch.batch_id);
  batch.created = 1;
  for (const auto& bytes : tokens) batch.tokens.push_back(offline::DecodeToken(bytes).value());
  std::vector<uint8_t> encoded = offline::Encode(batch);
  const crypto::Signature s =
      crypto::Sign(terminal_key, offline::kBatchDomain,
                   offline::SignedPart(encoded, offline::MessageType::terminal_batch));
  std::copy(s.bytes.begin(), s.bytes.end(), encoded.end() - 64);
  return encoded;
}

crypto::Hash256 TokenId(const std::vector<uint8_t>& token) { return crypto::Blake2b256(token); }

class EngineOfflineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto storage = storage::PosixStorage::Open(dir_.path(), false);
    ASSERT_TRUE(storage.ok());
    storage_ = std::move(storage.value());
    ASSERT_TRUE(Engine::Initialize(*storage_).ok());
    issuer_ = std::make_shared<crypto::SecretKey>(crypto::GenerateSigningKey());
    Reopen();
    ASSERT_TRUE(Run(AddKeyCommand()).error == OfflineError::ok);
    ledger::Account user = Account(kUser);
    ledger::Account funder = Account(kFunder);
    funder.flags = 0;
    ASSERT_TRUE(engine_->CreateAccounts({user, Account(kMerchantAccount), Account(kGuarantee), funder})
                    .account_results.empty());
    // Give the user 1,000,000 and the guarantee fund 1,000,000.
    ledger::Transfer fund_user = Transfer(1, kFunder, kUser, 1'000'000);
    ledger::Transfer fund_guarantee = Transfer(2, kFunder, kGuarantee, 1'000'000);
    ASSERT_TRUE(engine_->CreateTransfers({fund_user, fund_guarantee}).transfer_results.empty());
  }

  static ledger::Account Account(u128 id) {
    ledger::Account a;
    a.id = AccountId{id};
    a.ledger = kAsset;
    a.code = 10;
    a.flags = ledger::account_flags::kDebitsMustNotExceedCredits;
    return a;
  }
  static ledger::Transfer Transfer(u128 id, u128 debit, u128 credit, u128 amount) {
    ledger::Transfer t;
    t.id = TransferId{id};
    t.debit_account_id = AccountId{debit};
    t.credit_account_id = AccountId{credit};
    t.amount = Amount::FromMinor(amount);
    t.ledger = kAsset;
    t.code = 1;
    return t;
  }

  void Reopen(bool with_key = true, bool ignore_snapshots = false) {
    engine_.reset();
    EngineOptions options;
    if (with_key) options.issuer_key = issuer_;
    options.ignore_snapshots = ignore_snapshots;
    options.deny_list_max_age_ms = 3'600'000;
    auto engine = Engine::Open(*storage_, options, clock_);
    ASSERT_TRUE(engine.ok()) << engine.error().Message();
    engine_ = std::move(engine.value());
  }

  OfflineReply Run(OfflineCommand command) { return engine_->ExecuteOffline(std::move(command)); }

  // Makes `text` the engine's risk rules (it must compile).
  void SetRiskRules(std::string text) {
    RiskCommand rules;
    rules.kind = RiskCommandKind::set_rules;
    rules.rules_text = std::move(text);
    ASSERT_EQ(engine_->ExecuteRisk(std::move(rules)).risk->error, RiskError::ok);
  }

  OfflineCommand AddKeyCommand() {
    OfflineCommand c;
    c.kind = OfflineCommandKind::add_issuer_key;
    c.issuer_key_id = 1;
    c.public_key = KeyBytes(*issuer_);
    return c;
  }

  OfflineCommand EnrollCommand(const Device& device, u128 device_id = kDevice,
                               u128 reserve = kReserve, u128 allowance = 10'000) {
    OfflineCommand c;
    c.kind = OfflineCommandKind::enroll_device;
    c.device_id = device_id;
    c.public_key = KeyBytes(device.key);
    c.user_account = AccountId{kUser};
    c.reserve_account = AccountId{reserve};
    c.asset = kAsset;
    c.allowance = Amount::FromMinor(allowance);
    c.per_payment_max = Amount::FromMinor(2'000);
    c.cvm_threshold = Amount::FromMinor(1'500);
    c.payment_count_max = 20;
    c.valid_for_ms = 86'400'000;
    return c;
  }

  // Enrolls `device` and registers the terminal.
  void EnrollAndRegister(Device& device) {
    OfflineReply enrolled = Run(EnrollCommand(device));
    ASSERT_EQ(enrolled.error, OfflineError::ok) << enrolled.detail;
    device.certificate = offline::DecodeCertificate(enrolled.certificate).value();
    OfflineCommand c;
    c.kind = OfflineCommandKind::register_terminal;
    c.terminal_id = kTerminal;
    c.merchant_id = kMerchant;
    c.settlement_account = AccountId{kMerchantAccount};
    c.public_key = KeyBytes(terminal_key_);
    ASSERT_EQ(Run(c).error, OfflineError::ok);
  }

  OfflineReply Upload(const std::vector<uint8_t>& batch) {
    OfflineCommand c;
    c.kind = OfflineCommandKind::submit_batch;
    c.batch_bytes = batch;
    return Run(std::move(c));
  }

  ledger::Account Balance(u128 id) { return engine_->LookupAccounts({AccountId{id}}).accounts.at(0); }
  u128 Credit(u128 id) {
    const ledger::Account a = Balance(id);
    return a.credits_posted.minor() - a.debits_posted.minor();
  }
  uint64_t Now() { return (clock_ != nullptr ? clock_->Now() : SystemClock().Now()).ns / 1'000'000; }

  // A sync request for `device`'s current certificate declaring `last_counter_used`.
  static OfflineCommand SyncCommand(const Device& device, uint64_t last_counter_used) {
    OfflineCommand sync;
    sync.kind = OfflineCommandKind::sync_device;
    sync.device_id = kDevice;
    sync.last_counter_used = last_counter_used;
    const auto request = SyncRequestBytes(kDevice, device.certificate.serial, last_counter_used);
    sync.device_signature = crypto::Sign(device.key, kSyncRequestDomain, request).bytes;
    return sync;
  }

  // Switches the engine to a manual clock starting at the system time (nullptr = system clock).
  void UseManualClock() {
    manual_clock_.Set(SystemClock().Now());
    clock_ = &manual_clock_;
    Reopen();
  }

  storage::TempDir dir_;
  std::unique_ptr<storage::PosixStorage> storage_;
  std::shared_ptr<crypto::SecretKey> issuer_;
  crypto::SecretKey terminal_key_ = crypto::GenerateSigningKey();
  ManualClock manual_clock_{Timestamp{0}};
  Clock* clock_ = nullptr;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineOfflineTest, EnrollmentFundsTheReserveAndIssuesASignedCertificate) {
  Device device;
  OfflineReply reply = Run(EnrollCommand(device));
  ASSERT_EQ(reply.error, OfflineError::ok) << reply.detail;
  auto cert = offline::DecodeCertificate(reply.certificate);
  ASSERT_TRUE(cert.ok());
  EXPECT_TRUE(crypto::Verify(issuer_->public_key(), offline::kCertificateDomain,
                             offline::SignedPart(reply.certificate, offline::MessageType::device_certificate),
                             crypto::Signature{cert.value().signature}));
  EXPECT_EQ(cert.value().device_id, kDevice);
  EXPECT_EQ(cert.value().reserve_account_id, kReserve);
  EXPECT_EQ(cert.value().allowance, Amount::FromMinor(10'000));
  EXPECT_EQ(cert.value().counter_first, 1u);
  EXPECT_EQ(cert.value().device_public_key, KeyBytes(device.key));
  EXPECT_EQ(Credit(kReserve), 10'000u);
  EXPECT_EQ(Credit(kUser), 990'000u);
  EXPECT_EQ(Balance(kReserve).code, kReserveAccountCode);

  EXPECT_EQ(Run(EnrollCommand(device)).error, OfflineError::device_exists);
}

TEST_F(EngineOfflineTest, EnrollmentRefusals) {
  Device device;
  OfflineCommand c = EnrollCommand(device);
  c.allowance = Amount::FromMinor(10);  // below the per-payment max
  EXPECT_EQ(Run(c).error, OfflineError::invalid_limits);
  c = EnrollCommand(device, kDevice, kReserve, 5'000'000);  // more than the user has
  OfflineReply reply = Run(c);
  EXPECT_EQ(reply.error, OfflineError::funding_failed);
  ASSERT_TRUE(reply.ledger_result.has_value());
  EXPECT_EQ(*reply.ledger_result, ledger::CreateTransferResult::exceeds_credits);
  // Nothing enrolled, and a retry with a smaller allowance reuses the (empty) reserve account.
  OfflineCommand info;
  info.kind = OfflineCommandKind::device_info;
  info.device_id = kDevice;
  EXPECT_EQ(Run(info).error, OfflineError::unknown_device);
  EXPECT_EQ(Run(EnrollCommand(device)).error, OfflineError::ok);
  c = EnrollCommand(device, 8, 102);
  c.user_account = AccountId{999};
  EXPECT_EQ(Run(c).error, OfflineError::unknown_account);
}

TEST_F(EngineOfflineTest, WithoutTheIssuerKeyNothingIsSignedButClearingWorks) {
  Device device;
  EnrollAndRegister(device);
  Reopen(/*with_key=*/false);
  Device other;
  EXPECT_EQ(Run(EnrollCommand(other, 8, 102)).error, OfflineError::issuer_key_unavailable);
  OfflineCommand deny;
  deny.kind = OfflineCommandKind::deny_list;
  EXPECT_EQ(Run(deny).error, OfflineError::issuer_key_unavailable);
  // The registered public key is still known (terminals pin it, auditors check it).
  OfflineCommand keys;
  keys.kind = OfflineCommandKind::issuer_keys;
  const OfflineReply registered = Run(keys);
  ASSERT_EQ(registered.issuer_keys.size(), 1u);
  EXPECT_EQ(registered.issuer_keys[0].first, 1u);
  EXPECT_EQ(registered.issuer_keys[0].second, KeyBytes(*issuer_));
  OfflineReply cleared = Upload(MakeBatch(terminal_key_, kTerminal, {device.Pay(100, Now())}));
  ASSERT_EQ(cleared.error, OfflineError::ok) << cleared.detail;
  EXPECT_EQ(cleared.outcomes.at(0).classification, Classification::cleared);
}

TEST_F(EngineOfflineTest, AnotherKeyUnderTheRegisteredIdIsRefusedAtOpen) {
  engine_.reset();
  EngineOptions options;
  options.issuer_key = std::make_shared<crypto::SecretKey>(crypto::GenerateSigningKey());
  auto engine = Engine::Open(*storage_, options);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.error().code, EngineError::issuer_key_mismatch);
  Reopen();
  EXPECT_EQ(Run(AddKeyCommand()).error, OfflineError::issuer_key_exists);
}

TEST_F(EngineOfflineTest, HonestTokensClearOnceAndPayTheMerchantFromTheReserve) {
  Device device;
  EnrollAndRegister(device);
  const uint64_t now = Now();
  std::vector<std::vector<uint8_t>> tokens = {device.Pay(100, now), device.Pay(250, now),
                                              device.Pay(1'000, now)};
  const std::vector<uint8_t> batch = MakeBatch(terminal_key_, kTerminal, tokens);
  OfflineReply reply = Upload(batch);
  ASSERT_EQ(reply.error, OfflineError::ok) << reply.detail;
  EXPECT_FALSE(reply.batch_repeated);
  ASSERT_EQ(reply.outcomes.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(reply.outcomes[i].classification, Classification::cleared) << i;
    EXPECT_EQ(reply.outcomes[i].token_id, TokenId(tokens[i]));
  }
  EXPECT_EQ(Credit(kMerchantAccount), 1'350u);
  EXPECT_EQ(Credit(kReserve), 10'000u - 1'350u);
  auto settlement = engine_->LookupTransfers({offline::SettlementTransferId(TokenId(tokens[0]))});
  ASSERT_EQ(settlement.transfers.size(), 1u);
  EXPECT_EQ(settlement.transfers[0].code, kOfflineSettlementCode);

  // The same upload again: same answers, nothing moves.
  OfflineReply again = Upload(batch);
  ASSERT_EQ(again.error, OfflineError::ok);
  EXPECT_TRUE(again.batch_repeated);
  EXPECT_EQ(again.outcomes.size(), 3u);
  EXPECT_EQ(again.outcomes[0].classification, Classification::cleared);
  EXPECT_EQ(Credit(kMerchantAccount), 1'350u);
  // The same token in another batch: a duplicate.
  OfflineReply replay = Upload(MakeBatch(terminal_key_, kTerminal, {tokens[1]}));
  ASSERT_EQ(replay.error, OfflineError::ok);
  EXPECT_EQ(replay.outcomes.at(0).classification, Classification::duplicate);
  EXPECT_EQ(Credit(kMerchantAccount), 1'350u);
}

TEST_F(EngineOfflineTest, ADoubleSpendIsCaughtRevokesTheDeviceAndKeepsBothTokens) {
  Device device;
  EnrollAndRegister(device);
  const uint64_t now = Now();
  const auto first = device.Pay(300, kTerminal, kMerchant, 5, now);
  const auto clone = device.Pay(400, kTerminal, kMerchant, 5, now);  // same counter
  ASSERT_EQ(Upload(MakeBatch(terminal_key_, kTerminal, {first})).outcomes.at(0).classification,
            Classification::cleared);
  OfflineReply reply = Upload(MakeBatch(terminal_key_, kTerminal, {clone}));
  ASSERT_EQ(reply.outcomes.at(0).classification, Classification::double_spend);
  EXPECT_EQ(reply.outcomes[0].conflicting_token_id, TokenId(first));
  EXPECT_EQ(Credit(kMerchantAccount), 300u);

  OfflineCommand list;
  list.kind = OfflineCommandKind::list_exceptions;
  OfflineReply exceptions = Run(list);
  ASSERT_EQ(exceptions.exceptions.size(), 1u);
  EXPECT_EQ(exceptions.exceptions[0].classification, Classification::double_spend);
  EXPECT_EQ(exceptions.exceptions[0].token_id, TokenId(clone));
  EXPECT_EQ(exceptions.exceptions[0].conflicting_token_id, TokenId(first));

  OfflineCommand deny;
  deny.kind = OfflineCommandKind::deny_list;
  OfflineReply list_reply = Run(deny);
  ASSERT_EQ(list_reply.error, OfflineError::ok);
  auto decoded = offline::DecodeDenyList(list_reply.deny_list);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value().list_version, 1u);
  EXPECT_EQ(decoded.value().device_ids, std::vector<u128>{kDevice});
  EXPECT_EQ(decoded.value().max_age, 3'600'000u);
  EXPECT_TRUE(crypto::Verify(issuer_->public_key(), offline::kDenyListDomain,
                             offline::SignedPart(list_reply.deny_list, offline::MessageType::deny_list),
                             crypto::Signature{decoded.value().signature}));
  deny.since_version = 1;
  auto delta = offline::DecodeDenyList(Run(deny).deny_list);
  ASSERT_TRUE(delta.ok());
  EXPECT_TRUE(delta.value().delta);
  EXPECT_TRUE(delta.value().device_ids.empty());
  deny.since_version = 2;
  EXPECT_EQ(Run(deny).error, OfflineError::malformed);

  OfflineCommand sync;
  sync.kind = OfflineCommandKind::sync_device;
  sync.device_id = kDevice;
  EXPECT_EQ(Run(sync).error, OfflineError::device_revoked);
}

TEST_F(EngineOfflineTest, InvalidTokensGetTheirReasonAndAnException) {
  Device device;
  EnrollAndRegister(device);
  const uint64_t now = Now();
  auto tampered = device.Pay(100, now);
  tampered[248] ^= 1;  // the amount: the device signature no longer covers it
  auto wrong_merchant = device.Pay(100, kTerminal, kMerchant + 1, device.next_counter++, now);
  auto out_of_range = device.Pay(100, kTerminal, kMerchant, 999, now);
  auto expired = device.Pay(100, kTerminal, kMerchant, device.next_counter++,
                            device.certificate.valid_until + 1);
  auto over_max = device.Pay(2'001, kTerminal, kMerchant, device.next_counter++, now,
                             offline::Cvm::pin);
  auto no_cvm = device.Pay(1'600, kTerminal, kMerchant, device.next_counter++, now);
  auto other_terminal = device.Pay(100, kTerminal + 1, kMerchant, device.next_counter++, now);
  Device stranger;  // never enrolled: signs its own certificate
  stranger.certificate = device.certificate;
  stranger.certificate.device_public_key = KeyBytes(stranger.key);
  auto forged = stranger.Pay(100, now);

  OfflineReply reply = Upload(MakeBatch(
      terminal_key_, kTerminal,
      {tampered, wrong_merchant, out_of_range, expired, over_max, no_cvm, other_terminal, forged}));
  ASSERT_EQ(reply.error, OfflineError::ok) << reply.detail;
  const std::vector<InvalidReason> expected = {
      InvalidReason::bad_token_signature,  InvalidReason::merchant_mismatch,
      InvalidReason::counter_out_of_range, InvalidReason::certificate_expired,
      InvalidReason::over_per_payment_max, InvalidReason::cvm_missing,
      InvalidReason::wrong_terminal,       InvalidReason::bad_certificate_signature};
  ASSERT_EQ(reply.outcomes.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(reply.outcomes[i].classification, Classification::invalid) << i;
    EXPECT_EQ(reply.outcomes[i].reason, expected[i]) << i;
  }
  EXPECT_EQ(Credit(kMerchantAccount), 0u);
  OfflineCommand list;
  list.kind = OfflineCommandKind::list_exceptions;
  EXPECT_EQ(Run(list).exceptions.size(), expected.size());
}

TEST_F(EngineOfflineTest, BatchesThatCannotBeTrustedAreRefusedWhole) {
  Device device;
  EnrollAndRegister(device);
  const auto token = device.Pay(100, Now());
  crypto::SecretKey impostor = crypto::GenerateSigningKey();
  OfflineReply forged = Upload(MakeBatch(impostor, kTerminal, {token}));
  EXPECT_EQ(forged.error, OfflineError::batch_rejected);
  EXPECT_EQ(forged.batch_rejection, offline::BatchRejection::bad_batch_signature);
  OfflineReply unknown = Upload(MakeBatch(terminal_key_, kTerminal + 9, {token}));
  EXPECT_EQ(unknown.batch_rejection, offline::BatchRejection::unknown_terminal);
  EXPECT_EQ(Credit(kMerchantAccount), 0u);

  std::vector<uint8_t> batch = MakeBatch(terminal_key_, kTerminal, {token});
  for (const size_t size : {size_t{0}, size_t{47}, batch.size() - 1}) {
    OfflineReply truncated = Upload(std::vector<uint8_t>(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(size)));
    EXPECT_EQ(truncated.error, OfflineError::malformed) << size;
    EXPECT_FALSE(truncated.detail.empty());
  }
  batch.push_back(0);
  EXPECT_EQ(Upload(batch).error, OfflineError::malformed);

  OfflineCommand deactivate;
  deactivate.kind = OfflineCommandKind::deactivate_terminal;
  deactivate.terminal_id = kTerminal;
  ASSERT_EQ(Run(deactivate).error, OfflineError::ok);
  EXPECT_EQ(Upload(MakeBatch(terminal_key_, kTerminal, {token})).batch_rejection,
            offline::BatchRejection::terminal_inactive);
}

TEST_F(EngineOfflineTest, TheAllowanceCapsWhatClears) {
  Device device;
  EnrollAndRegister(device);
  const uint64_t now = Now();
  std::vector<std::vector<uint8_t>> tokens;
  for (int i = 0; i < 6; ++i) tokens.push_back(device.Pay(1'800, kTerminal, kMerchant, device.next_counter++, now, offline::Cvm::pin));
  OfflineReply reply = Upload(MakeBatch(terminal_key_, kTerminal, tokens));
  ASSERT_EQ(reply.error, OfflineError::ok);
  int cleared = 0;
  int over = 0;
  for (const auto& o : reply.outcomes) {
    cleared += o.classification == Classification::cleared;
    over += o.classification == Classification::over_allowance;
  }
  EXPECT_EQ(cleared, 5);  // 5 x 1,800 = 9,000 <= 10,000 < 10,800
  EXPECT_EQ(over, 1);
  EXPECT_EQ(Credit(kMerchantAccount), 9'000u);
  EXPECT_EQ(Credit(kReserve), 1'000u);
}

TEST_F(EngineOfflineTest, SyncVoidsLaterCountersAndKeepsWhatCanStillBeClaimed) {
  Device device;
  EnrollAndRegister(device);
  const uint64_t now = Now();
  const auto t1 = device.Pay(500, now);  // counter 1, uploaded before the sync
  const auto t2 = device.Pay(700, now);  // counter 2, uploaded after the sync
  ASSERT_EQ(Upload(MakeBatch(terminal_key_, kTerminal, {t1})).outcomes.at(0).classification,
            Classification::cleared);
  // A clone signs counter 3 after the device declared 2 as its last.
  const auto t3 = device.Pay(100, now);

  OfflineCommand sync;
  sync.kind = OfflineCommandKind::sync_device;
  sync.device_id = kDevice;
  sync.last_counter_used = 2;
  const auto request = SyncRequestBytes(kDevice, device.certificate.serial, 2);
  sync.device_signature = crypto::Sign(device.key, kSyncRequestDomain, request).bytes;
  OfflineCommand forged = sync;
  forged.last_counter_used = 1;  // the signature covers 2
  EXPECT_EQ(Run(forged).error, OfflineError::bad_sync_request);

  OfflineReply reply = Run(sync);
  ASSERT_EQ(reply.error, OfflineError::ok) << reply.detail;
  auto statement = offline::DecodeSyncStatement(reply.sync_statement);
  ASSERT_TRUE(statement.ok());
  EXPECT_TRUE(crypto::Verify(issuer_->public_key(), offline::kSyncStatementDomain,
                             offline::SignedPart(reply.sync_statement, offline::MessageType::sync_statement),
                             crypto::Signature{statement.value().signature}));
  // Counter 2 may still arrive: held = min(10,000 - 500, 1 x 2,000) = 2,000.
  EXPECT_EQ(statement.value().cleared_amount, Amount::FromMinor(500));
  EXPECT_EQ(statement.value().held_amount, Amount::FromMinor(2'000));
  EXPECT_EQ(statement.value().reserve_balance, Amount::FromMinor(12'000));
  EXPECT_EQ(Credit(kReserve), 12'000u);
  const offline::DeviceCertificate next = statement.value().certificate;
  EXPECT_EQ(next.counter_first, device.certificate.counter_last() + 1);
  EXPECT_EQ(next.previous_serial, device.certificate.serial);

  OfflineReply late = Upload(MakeBatch(terminal_key_, kTerminal, {t2, t3}));
  ASSERT_EQ(late.error, OfflineError::ok);
  EXPECT_EQ(late.outcomes.at(0).classification, Classification::cleared);
  EXPECT_EQ(late.outcomes.at(1).classification, Classification::invalid);
  EXPECT_EQ(late.outcomes.at(1).reason, InvalidReason::counter_after_sync);
  // The declaration was signed before the clone's token: the device is revoked.
  EXPECT_EQ(Run(SyncCommand(device, 2)).error, OfflineError::device_revoked);

  device.certificate = next;
  device.next_counter = next.counter_first;
  const auto t4 = device.Pay(900, Now());  // inside the new certificate's validity
  EXPECT_EQ(Upload(MakeBatch(terminal_key_, kTerminal, {t4})).outcomes.at(0).classification,
            Classification::cleared);
  EXPECT_EQ(Credit(kMerchantAccount), 500u + 700u + 900u);
}

TEST_F(EngineOfflineTest, AfterTheClaimWindowTheReserveIsReleasedAndLateTokensAreNotPaid) {
  UseManualClock();
  Device device;
  EnrollAndRegister(device);  // valid for one day, allowance 10,000
  const auto t1 = device.Pay(500, Now());
  const auto t2 = device.Pay(700, Now());  // made, but its terminal uploads it too late
  ASSERT_EQ(Upload(MakeBatch(terminal_key_, kTerminal, {t1})).outcomes.at(0).classification,
            Classification::cleared);
  const uint64_t deadline = offline::ClaimDeadlineMs(device.certificate.valid_until);

  // The claim window has closed: the old certificate holds nothing back, so the reserve is
  // exactly the new allowance (9,500 left + 500 topped up) and held is 0.
  manual_clock_.Set(Timestamp{deadline * 1'000'000});
  OfflineReply reply = Run(SyncCommand(device, 2));
  ASSERT_EQ(reply.error, OfflineError::ok) << reply.detail;
  const auto statement = offline::DecodeSyncStatement(reply.sync_statement).value();
  EXPECT_EQ(statement.held_amount, Amount::Zero());
  EXPECT_EQ(statement.reserve_balance, Amount::FromMinor(10'000));
  EXPECT_EQ(Credit(kReserve), 10'000u);

  const auto batch = MakeBatch(terminal_key_, kTerminal, {t2});
  OfflineReply late = Upload(batch);
  ASSERT_EQ(late.error, OfflineError::ok);
  EXPECT_EQ(late.outcomes.at(0).classification, Classification::invalid);
  EXPECT_EQ(late.outcomes.at(0).reason, InvalidReason::claim_window_closed);
  EXPECT_EQ(Credit(kMerchantAccount), 500u);

  // After a full replay the same batch repeated answers the same, and nothing moved.
  Reopen(true, /*ignore_snapshots=*/true);
  OfflineReply repeated = Upload(batch);
  ASSERT_EQ(repeated.error, OfflineError::ok);
  EXPECT_EQ(repeated.outcomes.at(0).reason, InvalidReason::claim_window_closed);
  EXPECT_EQ(Credit(kMerchantAccount), 500u);
  EXPECT_EQ(Credit(kReserve), 10'000u);
}

// A sync keeps the PIN threshold unless told: a new one, or none at all (remove_cvm_threshold).
TEST_F(EngineOfflineTest, ASyncKeepsChangesOrRemovesThePinThreshold) {
  Device device;
  EnrollAndRegister(device);  // threshold 15.00
  const auto sync_to = [&](const std::function<void(OfflineCommand&)>& change) {
    OfflineCommand sync = SyncCommand(device, 0);
    change(sync);
    const OfflineReply reply = Run(sync);
    EXPECT_EQ(reply.error, OfflineError::ok) << reply.detail;
    device.certificate = offline::DecodeCertificate(reply.certificate).value();
    return device.certificate.cvm_threshold;
  };
  EXPECT_EQ(sync_to([](OfflineCommand&) {}), Amount::FromMinor(1'500));
  EXPECT_EQ(sync_to([](OfflineCommand& c) { c.cvm_threshold = Amount::FromMinor(900); }),
            Amount::FromMinor(900));
  EXPECT_EQ(sync_to([](OfflineCommand& c) { c.remove_cvm_threshold = true; }), Amount::Max());
  EXPECT_EQ(sync_to([](OfflineCommand&) {}), Amount::Max());  // stays removed
  // A threshold given wins over the removal flag (the CLI never sends both).
  EXPECT_EQ(sync_to([](OfflineCommand& c) {
              c.remove_cvm_threshold = true;
              c.cvm_threshold = Amount::FromMinor(700);
            }),
            Amount::FromMinor(700));
  // Survives a restart: the certificate is journaled.
  Reopen();
  EXPECT_EQ(sync_to([](OfflineCommand&) {}), Amount::FromMinor(700));
}

TEST_F(EngineOfflineTest, BeforeTheClaimWindowClosesASyncKeepsTheReserveForLateTokens) {
  UseManualClock();
  Device device;
  EnrollAndRegister(device);
  const auto t1 = device.Pay(700, Now());
  const uint64_t deadline = offline::ClaimDeadlineMs(device.certificate.valid_until);
  manual_clock_.Set(Timestamp{(deadline - 1) * 1'000'000});
  OfflineReply reply = Run(SyncCommand(device, 1));
  ASSERT_EQ(reply.error, OfflineError::ok) << reply.detail;
  // Counter 1 may still arrive: held = min(10,000, 1 x 2,000) = 2,000.
  EXPECT_EQ(offline::DecodeSyncStatement(reply.sync_statement).value().held_amount,
            Amount::FromMinor(2'000));
  EXPECT_EQ(Upload(MakeBatch(terminal_key_, kTerminal, {t1})).outcomes.at(0).classification,
            Classification::cleared);
  EXPECT_EQ(Credit(kMerchantAccount), 700u);

  // Replay judges the window with the upload time in the journal, not the clock at restart:
  // restarted after the deadline, the batch replays as cleared (else Open would fail with
  // replay_diverged).
  manual_clock_.Set(Timestamp{(deadline + 1000) * 1'000'000});
  Reopen(true, /*ignore_snapshots=*/true);
  EXPECT_EQ(Credit(kMerchantAccount), 700u);
}

TEST_F(EngineOfflineTest, ExceptionsAreResolvedOnceFromTheGuaranteeFund) {
  Device device;
  EnrollAndRegister(device);
  auto tampered = device.Pay(100, Now());
  tampered[248] ^= 1;
  ASSERT_EQ(Upload(MakeBatch(terminal_key_, kTerminal, {tampered})).outcomes.at(0).classification,
            Classification::invalid);
  OfflineCommand resolve;
  resolve.kind = OfflineCommandKind::resolve_exception;
  resolve.exception_id = 1;
  resolve.resolution = offline::ExceptionRecord::Status::paid_from_guarantee;
  resolve.guarantee_account = AccountId{kGuarantee};
  OfflineReply reply = Run(resolve);
  ASSERT_EQ(reply.error, OfflineError::ok) << reply.detail;
  EXPECT_EQ(Credit(kMerchantAccount), 101u);  // the amount the altered token names
  EXPECT_EQ(Run(resolve).error, OfflineError::unknown_exception);
  resolve.exception_id = 2;
  EXPECT_EQ(Run(resolve).error, OfflineError::unknown_exception);
}

// Everything an operator can see, as text, to compare before and after a restart.
std::vector<std::string> OfflineState(Engine& engine, std::initializer_list<u128> accounts) {
  std::vector<std::string> lines;
  OfflineCommand list;
  list.kind = OfflineCommandKind::list_exceptions;
  list.exceptions_filter.status = std::nullopt;
  for (const auto& e : engine.ExecuteOffline(list).exceptions) {
    lines.push_back("exception " + std::to_string(e.id) + " " +
                    std::string(offline::ClassificationName(e.classification)) + " " +
                    std::string(offline::InvalidReasonName(e.reason)) + " " +
                    std::to_string(static_cast<int>(e.status)) + " " + crypto::HashToHex(e.token_id) +
                    " risk " + std::to_string(e.risk_decision) + " " + e.risk_rules.data());
  }
  OfflineCommand info;
  info.kind = OfflineCommandKind::device_info;
  info.device_id = kDevice;
  OfflineReply device = engine.ExecuteOffline(info);
  if (device.device) {
    lines.push_back("device revoked=" + std::to_string(device.device->revoked) + " serial " +
                    std::to_string(device.device->current_serial) + " cleared " +
                    U128ToHex(device.current_certificate->cleared_total.minor()));
  }
  for (const u128 id : accounts) {
    for (const auto& a : engine.LookupAccounts({AccountId{id}}).accounts) {
      lines.push_back("account " + U128ToHex(id) + " " + U128ToHex(a.credits_posted.minor()) + " " +
                      U128ToHex(a.debits_posted.minor()));
    }
  }
  return lines;
}

TEST_F(EngineOfflineTest, ClearingStateSurvivesReplayAndSnapshots) {
  Device device;
  EnrollAndRegister(device);
  const uint64_t now = Now();
  const auto a = device.Pay(300, kTerminal, kMerchant, 1, now);
  const auto b = device.Pay(400, kTerminal, kMerchant, 1, now);  // double spend of counter 1
  const auto c = device.Pay(200, kTerminal, kMerchant, 2, now);
  const std::vector<uint8_t> batch = MakeBatch(terminal_key_, kTerminal, {a, c});
  ASSERT_EQ(Upload(batch).error, OfflineError::ok);
  ASSERT_EQ(Upload(MakeBatch(terminal_key_, kTerminal, {b})).outcomes.at(0).classification,
            Classification::double_spend);
  const auto before = OfflineState(*engine_, {kReserve, kMerchantAccount, kUser});
  ASSERT_GE(before.size(), 3u);

  Reopen(true, /*ignore_snapshots=*/true);  // full replay
  EXPECT_EQ(OfflineState(*engine_, {kReserve, kMerchantAccount, kUser}), before);
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen();  // from the snapshot
  EXPECT_TRUE(engine_->recovery().from_snapshot);
  EXPECT_EQ(OfflineState(*engine_, {kReserve, kMerchantAccount, kUser}), before);

  // Idempotency and duplicate detection survive too.
  OfflineReply again = Upload(batch);
  ASSERT_EQ(again.error, OfflineError::ok);
  EXPECT_EQ(again.outcomes.at(0).classification, Classification::cleared);
  EXPECT_EQ(Upload(MakeBatch(terminal_key_, kTerminal, {c})).outcomes.at(0).classification,
            Classification::duplicate);
  EXPECT_EQ(OfflineState(*engine_, {kReserve, kMerchantAccount, kUser}), before);
}

// Risk rules at clearing (issue 6): every cleared token is decided with channel offline at its
// terminal time. A burst at one terminal is flagged into the exceptions queue, the tokens stay
// cleared (the goods were handed over offline), and replay reaches the same flags.
TEST_F(EngineOfflineTest, RiskRulesFlagABurstAtOneTerminalWithoutUnclearingAndReplayKeepsIt) {
  SetRiskRules(R"(version = "offline-1"
[thresholds]
step_up = 50
review = 80
decline = 100
[[rule]]
name = "terminal_burst"
condition = "channel == 'offline' and count(terminal, 10m) >= 3"
action = "review"
[[rule]]
name = "big_offline"
condition = "channel == 'offline' and amount > 15.00 USD"
weight = 100
)");
  Device device;
  EnrollAndRegister(device);
  const uint64_t now = Now();
  std::vector<std::vector<uint8_t>> tokens;
  for (int i = 0; i < 5; ++i) tokens.push_back(device.Pay(100, now + static_cast<uint64_t>(i) * 1000));
  tokens.push_back(device.Pay(1'600, kTerminal, kMerchant, device.next_counter++, now + 3'600'000,
                              offline::Cvm::pin));  // an hour later, big
  OfflineReply reply = Upload(MakeBatch(terminal_key_, kTerminal, tokens));
  ASSERT_EQ(reply.error, OfflineError::ok) << reply.detail;
  for (const auto& outcome : reply.outcomes) EXPECT_EQ(outcome.classification, Classification::cleared);
  EXPECT_EQ(Credit(kMerchantAccount), 5u * 100 + 1'600);

  OfflineCommand list;
  list.kind = OfflineCommandKind::list_exceptions;
  const std::vector<offline::ExceptionRecord> flags = Run(list).exceptions;
  ASSERT_EQ(flags.size(), 3u);  // the 4th and 5th token of the burst, and the big one
  EXPECT_EQ(flags[0].classification, Classification::risk_flag);
  EXPECT_EQ(flags[0].token_id, TokenId(tokens[3]));
  EXPECT_EQ(std::string(flags[0].risk_rules.data()), "terminal_burst");
  EXPECT_EQ(flags[0].risk_decision, static_cast<uint8_t>(risk::Decision::review));
  EXPECT_EQ(flags[1].token_id, TokenId(tokens[4]));
  EXPECT_EQ(std::string(flags[2].risk_rules.data()), "big_offline");
  EXPECT_EQ(flags[2].risk_decision, static_cast<uint8_t>(risk::Decision::decline));
  EXPECT_EQ(flags[2].terminal_id, kTerminal);

  // The money went out already: a flag is reviewed and closed, never paid again.
  OfflineCommand resolve;
  resolve.kind = OfflineCommandKind::resolve_exception;
  resolve.exception_id = flags[0].id;
  resolve.resolution = offline::ExceptionRecord::Status::paid_from_guarantee;
  resolve.guarantee_account = AccountId{kGuarantee};
  EXPECT_EQ(Run(resolve).error, OfflineError::malformed);
  resolve.resolution = offline::ExceptionRecord::Status::rejected;
  EXPECT_EQ(Run(resolve).error, OfflineError::ok);

  const auto before = OfflineState(*engine_, {kReserve, kMerchantAccount, kUser});
  RiskCommand status;
  const std::string digest = engine_->ExecuteRisk(status).risk->status.state_digest;
  Reopen(true, /*ignore_snapshots=*/true);
  EXPECT_EQ(OfflineState(*engine_, {kReserve, kMerchantAccount, kUser}), before);
  EXPECT_EQ(engine_->ExecuteRisk(status).risk->status.state_digest, digest);
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen();
  EXPECT_TRUE(engine_->recovery().from_snapshot);
  EXPECT_EQ(OfflineState(*engine_, {kReserve, kMerchantAccount, kUser}), before);
  EXPECT_EQ(engine_->ExecuteRisk(status).risk->status.state_digest, digest);
}

// The rules' [offline] section: limits the request leaves out come from it, and an allowance
// above allowance_max is refused.
TEST_F(EngineOfflineTest, RiskRulesOfflineSectionSetsCertificateLimits) {
  SetRiskRules(R"(version = "limits-1"
[thresholds]
step_up = 1
review = 2
decline = 3
[offline]
asset = "USD"
cvm_threshold = "5.00"
per_payment_max = "15.00"
payment_count_max = 7
allowance_max = "80.00"
)");
  Device device;
  OfflineCommand enroll = EnrollCommand(device, kDevice, kReserve, 9'000);
  EXPECT_EQ(Run(enroll).error, OfflineError::invalid_limits) << "9000 is above 80.00";
  enroll = EnrollCommand(device, kDevice, kReserve, 8'000);
  enroll.per_payment_max = Amount::Zero();
  enroll.payment_count_max = 0;
  enroll.cvm_threshold = Amount::Max();
  const OfflineReply enrolled = Run(enroll);
  ASSERT_EQ(enrolled.error, OfflineError::ok) << enrolled.detail;
  const offline::DeviceCertificate cert = offline::DecodeCertificate(enrolled.certificate).value();
  EXPECT_EQ(cert.per_payment_max, Amount::FromMinor(1'500));
  EXPECT_EQ(cert.payment_count_max, 7u);
  EXPECT_EQ(cert.cvm_threshold, Amount::FromMinor(500));
  EXPECT_EQ(cert.allowance, Amount::FromMinor(8'000));
  // A limit the request sets wins over the rules.
  Device other;
  OfflineCommand own = EnrollCommand(other, kDevice + 1, kReserve + 1, 5'000);
  const OfflineReply second = Run(own);
  ASSERT_EQ(second.error, OfflineError::ok) << second.detail;
  EXPECT_EQ(offline::DecodeCertificate(second.certificate).value().per_payment_max, Amount::FromMinor(2'000));
}

// Verification runs outside the sequencer with the issuer and terminal keys it publishes; after a
// restart from a snapshot (no facts replayed) they must be published again, or every new token
// would be refused.
TEST_F(EngineOfflineTest, NewPaymentsClearAfterARestartFromASnapshot) {
  Device device;
  EnrollAndRegister(device);
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen();
  ASSERT_TRUE(engine_->recovery().from_snapshot);
  const auto token = device.Pay(100, kTerminal, kMerchant, 1, Now());
  OfflineReply reply = Upload(MakeBatch(terminal_key_, kTerminal, {token}));
  ASSERT_EQ(reply.error, OfflineError::ok) << reply.detail;
  EXPECT_EQ(reply.outcomes.at(0).classification, Classification::cleared);
  EXPECT_EQ(Credit(kMerchantAccount), 100u);
}

TEST_F(EngineOfflineTest, ManyTokensVerifyInParallelWithTheSameVerdicts) {
  Device device;
  EnrollAndRegister(device);
  const uint64_t now = Now();
  std::vector<std::vector<uint8_t>> tokens;
  for (int i = 0; i < 20; ++i) tokens.push_back(device.Pay(10, now));
  tokens[7][300] ^= 0x40;  // the nonce of token 7
  OfflineReply reply = Upload(MakeBatch(terminal_key_, kTerminal, tokens));
  ASSERT_EQ(reply.error, OfflineError::ok);
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(reply.outcomes[i].classification,
              i == 7 ? Classification::invalid : Classification::cleared)
        << i;
  }
  EXPECT_EQ(Credit(kMerchantAccount), 190u);
}

// ---- Offline facts: strict decoding

TEST(OfflineFactsTest, EveryKindRoundTripsAndDamageIsRefused) {
  std::vector<OfflineFact> facts(7);
  facts[0].kind = OfflineFactKind::issuer_key;
  facts[0].issuer_key_id = 3;
  facts[0].public_key[0] = 9;
  facts[1].kind = OfflineFactKind::certificate;
  facts[1].user_account = AccountId{5};
  facts[1].certificate.assign(offline::kCertificateBytes, 1);
  facts[2].kind = OfflineFactKind::sync;
  facts[2].previous_serial = 4;
  facts[2].last_counter_used = 6;
  facts[2].certificate.assign(offline::kCertificateBytes, 2);
  facts[3].kind = OfflineFactKind::terminal;
  facts[3].terminal_id = 8;
  facts[3].active = false;
  facts[4].kind = OfflineFactKind::revocation;
  facts[4].device_id = 11;
  facts[5].kind = OfflineFactKind::batch;
  facts[5].token_checks = {3, 1};
  facts[5].settlements_ok = {1};
  facts[5].batch.assign(offline::kBatchHeaderBytes + 2 * offline::kTokenBytes + 64, 0);
  facts[6].kind = OfflineFactKind::exception_resolved;
  facts[6].exception_id = 12;
  facts[6].resolution = offline::ExceptionRecord::Status::paid_from_guarantee;
  for (OfflineFact& fact : facts) {
    fact.time_ms = 77;
    const std::vector<uint8_t> bytes = EncodeOfflineFact(fact);
    auto decoded = DecodeOfflineFact(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(EncodeOfflineFact(decoded.value()), bytes);
    // Every truncation and one trailing byte are refused with a sentence.
    for (size_t size = 0; size < bytes.size(); ++size) {
      auto cut = DecodeOfflineFact(std::span<const uint8_t>(bytes).first(size));
      EXPECT_FALSE(cut.ok()) << static_cast<int>(fact.kind) << " at " << size;
    }
    std::vector<uint8_t> longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(DecodeOfflineFact(longer).ok());
    std::vector<uint8_t> bad_version = bytes;
    bad_version[1] = 2;
    EXPECT_FALSE(DecodeOfflineFact(bad_version).ok());
    std::vector<uint8_t> reserved = bytes;
    reserved[5] = 1;
    EXPECT_FALSE(DecodeOfflineFact(reserved).ok());
  }
  std::vector<uint8_t> unknown = EncodeOfflineFact(facts[4]);
  unknown[0] = 99;
  EXPECT_FALSE(DecodeOfflineFact(unknown).ok());
  std::vector<uint8_t> bad_flags = EncodeOfflineFact(facts[5]);
  bad_flags[16 + 8] = 4;
  EXPECT_FALSE(DecodeOfflineFact(bad_flags).ok());
}

}  // namespace
}  // namespace tpw::engine
