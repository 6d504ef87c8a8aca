// The terminal: identity and keys, every decline code in the documented order, replay (also
// across a restart), tampered tokens, deny lists, voids, batches, hostile input to every entry
// point, damaged files, and one run on a real disk.
#include "terminal/terminal.h"

#include <gtest/gtest.h>

#include <set>

#include "common/clock.h"
#include "journal/journal.h"
#include "storage/posix_storage.h"
#include "storage/simulated_storage.h"
#include "storage/test_temp_dir.h"
#include "terminal/test_util.h"

namespace tpw::terminal {
namespace {

using namespace testing;  // NOLINT: test helpers
using offline::Cvm;
using storage::SimulatedStorage;

class TerminalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = issuer_.NewDevice(42);
    terminal_ = MustCreate();
    Install(issuer_.DenyList(1, kNow, kDayMs, {}));
  }

  std::unique_ptr<Terminal> MustCreate(const TerminalOptions& options = FastOptions()) {
    auto created = Terminal::Create(disk_, TestIdentity(issuer_), TestPassphrase(), options);
    EXPECT_TRUE(created.ok()) << created.error().Message();
    return created.ok() ? std::move(created).value() : nullptr;
  }
  void Reopen(const TerminalOptions& options = FastOptions()) {
    terminal_.reset();
    auto opened = Terminal::Open(disk_, TestPassphrase(), options);
    ASSERT_TRUE(opened.ok()) << opened.error().Message();
    terminal_ = std::move(opened).value();
  }
  void Install(const std::vector<uint8_t>& list) {
    auto installed = terminal_->InstallDenyList(list, kNow);
    ASSERT_TRUE(installed.ok()) << installed.error().Message();
  }
  std::vector<uint8_t> Request(uint64_t amount = 1'000, uint32_t asset = kAsset,
                               uint64_t now = kNow) {
    auto request = terminal_->NewRequest(Amount::FromMinor(amount), asset, now);
    EXPECT_TRUE(request.ok());
    return request.ok() ? request.value().bytes : std::vector<uint8_t>{};
  }
  offline::PaymentRequest Decoded(const std::vector<uint8_t>& bytes) {
    return offline::DecodeRequest(bytes).value();
  }
  AcceptResult Accept(const std::vector<uint8_t>& token, uint64_t now = kNow) {
    return terminal_->Accept(token, now);
  }
  AcceptResult PayOnce(TestDevice& device, uint64_t amount = 1'000) {
    return Accept(device.Pay(Request(amount)));
  }
  void ExpectDecline(const AcceptResult& result, AcceptCode code) {
    EXPECT_EQ(result.code, code) << result.Message();
    EXPECT_FALSE(result.accepted());
  }

  SeededRandom random_{1};
  SimulatedStorage disk_{random_};
  TestIssuer issuer_;
  std::unique_ptr<TestDevice> device_;
  std::unique_ptr<Terminal> terminal_;
};

// ---- Identity, keys, lifecycle

TEST_F(TerminalTest, CreateThenOpenKeepsIdentityKeyAndDenyList) {
  const crypto::PublicKey key = terminal_->public_key();
  Reopen();
  EXPECT_EQ(terminal_->public_key(), key);
  EXPECT_EQ(terminal_->terminal_id(), TerminalId(kTerminalId));
  EXPECT_EQ(terminal_->merchant_id(), MerchantId(kMerchantId));
  EXPECT_EQ(terminal_->deny_list_version(), 1u);
}

TEST_F(TerminalTest, CreateRefusesADirectoryThatHoldsATerminal) {
  terminal_.reset();
  auto again = Terminal::Create(disk_, TestIdentity(issuer_), TestPassphrase(), FastOptions());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, TerminalError::already_exists);
  EXPECT_NE(again.error().Message().find("terminal.conf"), std::string::npos);
}

TEST_F(TerminalTest, CreateRefusesInvalidIdentities) {
  SeededRandom random(2);
  SimulatedStorage disk(random);
  TerminalIdentity identity = TestIdentity(issuer_);
  identity.terminal_id = TerminalId(0);
  auto zero = Terminal::Create(disk, identity, TestPassphrase(), FastOptions());
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, TerminalError::invalid_argument);
  identity = TestIdentity(issuer_);
  identity.issuer_keys.clear();
  auto no_keys = Terminal::Create(disk, identity, TestPassphrase(), FastOptions());
  ASSERT_FALSE(no_keys.ok());
  EXPECT_EQ(no_keys.error().code, TerminalError::invalid_argument);
  for (uint32_t i = 0; i <= kPinnedIssuerKeysMax; ++i)
    identity.issuer_keys[i] = crypto::PublicKey{};
  auto too_many = Terminal::Create(disk, identity, TestPassphrase(), FastOptions());
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, TerminalError::invalid_argument);
}

TEST_F(TerminalTest, OpenNeedsATerminalAndTheRightPassphrase) {
  SeededRandom random(3);
  SimulatedStorage empty(random);
  auto none = Terminal::Open(empty, TestPassphrase());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, TerminalError::not_a_terminal);
  terminal_.reset();
  auto wrong = Terminal::Open(disk_, TestPassphrase("not the passphrase"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, TerminalError::keystore_failed);
  EXPECT_NE(wrong.error().Message().find("wrong_passphrase_or_tampered"), std::string::npos);
}

TEST_F(TerminalTest, ASecondOpenerIsLockedOut) {
  auto second = Terminal::Open(disk_, TestPassphrase());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, TerminalError::locked);
}

// ---- Acceptance

TEST_F(TerminalTest, AcceptsAnHonestPaymentAndStoresItBeforeSayingSo) {
  const std::vector<uint8_t> token = device_->Pay(Request(1'000));
  const AcceptResult result = Accept(token);
  ASSERT_TRUE(result.accepted()) << result.Message();
  EXPECT_EQ(result.token_id, crypto::Blake2b256(token));
  EXPECT_EQ(result.amount, Amount::FromMinor(1'000));
  EXPECT_EQ(result.Message(), "accepted");
  EXPECT_EQ(terminal_->FindToken(result.token_id), TokenState::accepted);
  const TerminalStatusReport status = terminal_->Status(kNow);
  EXPECT_EQ(status.accepted, 1u);
  EXPECT_EQ(status.ready, 1u);
  EXPECT_EQ(status.outstanding_requests, 0u);  // the request is consumed
  // The journal holds it: a fresh open (simulating power loss of everything unsynced) has it.
  terminal_.reset();
  disk_.CrashDroppingUnsynced();
  Reopen();
  EXPECT_EQ(terminal_->FindToken(result.token_id), TokenState::accepted);
}

// A token is paid only if clearing receives it before its certificate's valid_until + the claim
// grace period: the status reports the earliest deadline of the tokens still held, and how many
// are due soon or already past it; uploaded tokens no longer count, and a reopen keeps the figures.
TEST_F(TerminalTest, StatusReportsTheClaimDeadlinesOfTheTokensStillHeld) {
  ASSERT_TRUE(Accept(device_->Pay(Request(1'000))).accepted());
  const uint64_t deadline = offline::ClaimDeadlineMs(kNow + 30 * kDayMs);  // the test certificate
  EXPECT_EQ(terminal_->Status(kNow).earliest_claim_deadline_ms, deadline);
  EXPECT_EQ(terminal_->Status(kNow).claims_due_soon, 0u);
  EXPECT_EQ(terminal_->Status(deadline - kClaimWarningMs).claims_due_soon, 1u);
  EXPECT_EQ(terminal_->Status(deadline - kClaimWarningMs - 1).claims_due_soon, 0u);
  EXPECT_EQ(terminal_->Status(deadline).claims_past_deadline, 1u);
  EXPECT_EQ(terminal_->Status(deadline).claims_due_soon, 0u);
  Reopen();
  EXPECT_EQ(terminal_->Status(kNow).earliest_claim_deadline_ms, deadline);

  auto batches = terminal_->BuildBatches(kNow);
  ASSERT_TRUE(batches.ok());
  EXPECT_EQ(terminal_->Status(deadline).claims_past_deadline, 1u);  // batched, not yet uploaded
  ASSERT_TRUE(terminal_->MarkUploaded(batches.value()[0].batch_id, kNow).ok());
  const TerminalStatusReport after = terminal_->Status(deadline);
  EXPECT_EQ(after.earliest_claim_deadline_ms, 0u);
  EXPECT_EQ(after.claims_past_deadline, 0u);
  EXPECT_EQ(after.claims_due_soon, 0u);
}

TEST_F(TerminalTest, Check1MalformedTokensAreDeclined) {
  const std::vector<uint8_t> token = device_->Pay(Request());
  ExpectDecline(Accept({}), AcceptCode::malformed);
  ExpectDecline(Accept(std::vector<uint8_t>(token.begin(), token.end() - 1)),
                AcceptCode::malformed);
  std::vector<uint8_t> longer = token;
  longer.push_back(0);
  ExpectDecline(Accept(longer), AcceptCode::malformed);
  ExpectDecline(Accept(std::vector<uint8_t>(1 << 20, 3)), AcceptCode::malformed);
  ExpectDecline(Accept(Request()), AcceptCode::malformed);  // a request is not a token
  std::vector<uint8_t> reserved = token;
  reserved[3] = 1;
  const AcceptResult r = Accept(reserved);
  ExpectDecline(r, AcceptCode::malformed);
  EXPECT_NE(r.Message().find("reserved_not_zero"), std::string::npos) << r.Message();
}

TEST_F(TerminalTest, Check2UnknownExpiredPushedOutAndUsedRequestsAreDeclined) {
  offline::PaymentRequest invented = Decoded(Request());
  invented.nonce.fill(0xee);
  ExpectDecline(Accept(device_->Sign(device_->Draft(invented))), AcceptCode::unknown_request);

  const std::vector<uint8_t> old_request = Request(1'000, kAsset, kNow);
  const std::vector<uint8_t> expiring = device_->Pay(old_request);
  ExpectDecline(Accept(expiring, kNow + kRequestLifetimeMs), AcceptCode::unknown_request);

  const std::vector<uint8_t> pushed = device_->Pay(Request());
  for (size_t i = 0; i < kOutstandingRequestsMax; ++i) Request();
  ExpectDecline(Accept(pushed), AcceptCode::unknown_request);

  const std::vector<uint8_t> token = device_->Pay(Request());
  ASSERT_TRUE(Accept(token).accepted());
  ExpectDecline(Accept(token), AcceptCode::unknown_request);  // the same token again
}

TEST_F(TerminalTest, RequestsLiveUntilJustBeforeTheirLifetime) {
  const std::vector<uint8_t> token = device_->Pay(Request(1'000, kAsset, kNow));
  EXPECT_TRUE(Accept(token, kNow + kRequestLifetimeMs - 1).accepted());
}

TEST_F(TerminalTest, RestoredRequestsSurviveAReopenAndAreAnsweredOnce) {
  const std::vector<uint8_t> request = Request(1'000, kAsset, kNow);
  const std::vector<OutstandingRequest> saved = terminal_->OutstandingRequests(kNow + 1);
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].issued_ms, kNow);
  EXPECT_EQ(offline::Encode(saved[0].request), request);

  Reopen();  // a restart forgets requests; the front end hands them back
  const std::vector<uint8_t> token = device_->Pay(request);
  ExpectDecline(Accept(token, kNow + 2), AcceptCode::unknown_request);
  ASSERT_TRUE(terminal_->RestoreRequest(saved[0], kNow + 2).ok());
  ASSERT_TRUE(terminal_->RestoreRequest(saved[0], kNow + 2).ok());  // a known nonce: no-op
  EXPECT_EQ(terminal_->OutstandingRequests(kNow + 2).size(), 1u);
  EXPECT_TRUE(Accept(token, kNow + 3).accepted());
  EXPECT_TRUE(terminal_->OutstandingRequests(kNow + 3).empty());
  // Later requests of the new process continue the old numbering.
  EXPECT_GT(Decoded(Request()).request_number, saved[0].request.request_number);
}

TEST_F(TerminalTest, RestoreRefusesForeignOrFutureRequestsAndIgnoresExpiredOnes) {
  const OutstandingRequest saved{Decoded(Request()), kNow};
  Reopen();
  OutstandingRequest foreign = saved;
  foreign.request.terminal_id += 1;
  EXPECT_EQ(terminal_->RestoreRequest(foreign, kNow).error().code, TerminalError::invalid_argument);
  foreign = saved;
  foreign.request.merchant_id += 1;
  EXPECT_EQ(terminal_->RestoreRequest(foreign, kNow).error().code, TerminalError::invalid_argument);
  EXPECT_EQ(terminal_->RestoreRequest(saved, kNow - 1).error().code,
            TerminalError::invalid_argument);
  EXPECT_TRUE(terminal_->RestoreRequest(saved, kNow + kRequestLifetimeMs).ok());
  EXPECT_TRUE(terminal_->OutstandingRequests(kNow + kRequestLifetimeMs).empty());
}

TEST_F(TerminalTest, Check3CertificatesNotSignedByAPinnedKeyAreDeclined) {
  TestIssuer stranger;
  stranger.key_id = 99;
  stranger.key = KeyFromByte(0x66);
  auto unpinned = stranger.NewDevice(43);
  ExpectDecline(PayOnce(*unpinned), AcceptCode::bad_certificate_signature);

  TestIssuer impostor;  // claims the pinned key id, signs with another key
  impostor.key = KeyFromByte(0x67);
  auto forged = impostor.NewDevice(44);
  ExpectDecline(PayOnce(*forged), AcceptCode::bad_certificate_signature);

  // A certificate changed after the issuer signed it (the device re-signs its token).
  auto greedy = issuer_.NewDevice(45);
  greedy->certificate.cvm_threshold = Amount::FromMinor(1'000'000'000);
  ExpectDecline(PayOnce(*greedy), AcceptCode::bad_certificate_signature);
}

TEST_F(TerminalTest, Check4CertificateValidityIsJudgedAtTheRequestTime) {
  CertificateShape future;
  future.valid_from = kNow + 1;
  auto early = issuer_.NewDevice(46, future);
  ExpectDecline(PayOnce(*early), AcceptCode::certificate_not_yet_valid);

  CertificateShape past;
  past.valid_from = kNow - 2 * kDayMs;
  past.valid_until = kNow;  // valid_until itself is outside
  auto late = issuer_.NewDevice(47, past);
  ExpectDecline(PayOnce(*late), AcceptCode::certificate_expired);

  CertificateShape edge;
  edge.valid_from = kNow;  // valid_from itself is inside
  auto exact = issuer_.NewDevice(48, edge);
  EXPECT_TRUE(PayOnce(*exact).accepted());
}

TEST_F(TerminalTest, Check5NoDenyListMeansNoOfflineAcceptance) {
  SeededRandom random(4);
  SimulatedStorage disk(random);
  auto fresh = Terminal::Create(disk, TestIdentity(issuer_), TestPassphrase(), FastOptions());
  ASSERT_TRUE(fresh.ok());
  auto request = fresh.value()->NewRequest(Amount::FromMinor(100), kAsset, kNow);
  ASSERT_TRUE(request.ok());
  const AcceptResult r = fresh.value()->Accept(device_->Pay(request.value().bytes), kNow);
  ExpectDecline(r, AcceptCode::deny_list_stale);
  EXPECT_NE(r.Message().find("no deny list installed"), std::string::npos);
  EXPECT_TRUE(fresh.value()->Status(kNow).deny_list.stale);
}

TEST_F(TerminalTest, Check5AListPastItsMaxAgeStopsAcceptanceUntilRefreshed) {
  const uint64_t stale_at = kNow + kDayMs;  // issued kNow, max_age one day
  EXPECT_TRUE(Accept(device_->Pay(Request(100, kAsset, stale_at - 1)), stale_at - 1).accepted());
  ExpectDecline(Accept(device_->Pay(Request(100, kAsset, stale_at)), stale_at),
                AcceptCode::deny_list_stale);
  const DenyListInfo info = terminal_->DenyList(stale_at);
  EXPECT_TRUE(info.stale);
  EXPECT_EQ(info.age_ms, kDayMs);
  // The same version re-issued later refreshes it.
  auto refreshed = terminal_->InstallDenyList(issuer_.DenyList(1, stale_at, kDayMs, {}), stale_at);
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().Message();
  EXPECT_FALSE(refreshed.value().stale);
  EXPECT_TRUE(Accept(device_->Pay(Request(100, kAsset, stale_at)), stale_at).accepted());
}

TEST_F(TerminalTest, Check6DeniedDevicesAreDeclined) {
  Install(issuer_.DenyList(2, kNow, kDayMs, {7, 42, 1000}));
  const AcceptResult r = PayOnce(*device_);
  ExpectDecline(r, AcceptCode::device_denied);
  EXPECT_NE(r.Message().find("device 42"), std::string::npos);
  auto other = issuer_.NewDevice(43);
  EXPECT_TRUE(PayOnce(*other).accepted());
}

TEST_F(TerminalTest, Check7TokensNotSignedByTheDeviceKeyAreDeclined) {
  offline::PaymentToken token = device_->Draft(Decoded(Request()));
  ExpectDecline(Accept(SignToken(token, KeyFromByte(0x70))), AcceptCode::bad_token_signature);
}

TEST_F(TerminalTest, Check8EveryBoundFieldMustRepeatTheRequest) {
  const offline::PaymentRequest request = Decoded(Request(1'000));
  std::vector<offline::PaymentToken> variants(5, device_->Draft(request));
  variants[0].merchant_id += 1;
  variants[1].terminal_id += 1;
  variants[2].terminal_time += 1;
  variants[3].amount = Amount::FromMinor(999);
  variants[4].asset = 2;
  for (offline::PaymentToken& token : variants) {
    token.counter = device_->next_counter++;
    ExpectDecline(Accept(device_->Sign(token)), AcceptCode::request_mismatch);
  }
  EXPECT_TRUE(Accept(device_->Pay(Request(1'000))).accepted());
}

TEST_F(TerminalTest, Check9AmountAboveThePerPaymentMaxIsDeclined) {
  ExpectDecline(PayOnce(*device_, 10'001), AcceptCode::over_per_payment_max);
  EXPECT_TRUE(PayOnce(*device_, 10'000).accepted());
}

TEST_F(TerminalTest, Check9TokenInAnotherAssetThanTheCertificateIsDeclined) {
  ExpectDecline(Accept(device_->Pay(Request(100, 2))), AcceptCode::asset_mismatch);
}

TEST_F(TerminalTest, Check10CountersOutsideTheCertificateRangeAreDeclined) {
  const offline::DeviceCertificate& cert = device_->certificate;
  for (const uint64_t counter : {cert.counter_first - 1, cert.counter_last() + 1}) {
    offline::PaymentToken token = device_->Draft(Decoded(Request()));
    token.counter = counter;
    ExpectDecline(Accept(device_->Sign(token)), AcceptCode::counter_out_of_range);
  }
  for (const uint64_t counter : {cert.counter_first, cert.counter_last()}) {
    offline::PaymentToken token = device_->Draft(Decoded(Request()));
    token.counter = counter;
    EXPECT_TRUE(Accept(device_->Sign(token)).accepted()) << counter;
  }
}

TEST_F(TerminalTest, Check11AReplayedCounterIsDeclinedAlsoAfterARestart) {
  ASSERT_TRUE(PayOnce(*device_).accepted());
  // A clone of the device answers a new request with the counter already used here.
  offline::PaymentToken clone = device_->Draft(Decoded(Request()));
  clone.counter = device_->certificate.counter_first;
  ExpectDecline(Accept(device_->Sign(clone)), AcceptCode::replayed_counter);

  Reopen();
  offline::PaymentToken after = device_->Draft(Decoded(Request()));
  after.counter = device_->certificate.counter_first;
  ExpectDecline(Accept(device_->Sign(after)), AcceptCode::replayed_counter);
  EXPECT_TRUE(PayOnce(*device_).accepted());  // the next counter is fine
}

TEST_F(TerminalTest, Check11AVoidedTokensCounterStaysUsed) {
  const AcceptResult first = PayOnce(*device_);
  ASSERT_TRUE(first.accepted());
  ASSERT_TRUE(terminal_->Void(first.token_id, kNow).ok());
  offline::PaymentToken again = device_->Draft(Decoded(Request()));
  again.counter = device_->certificate.counter_first;
  ExpectDecline(Accept(device_->Sign(again)), AcceptCode::replayed_counter);
}

TEST_F(TerminalTest, Check12AmountsAboveTheCvmThresholdNeedAPin) {
  ExpectDecline(Accept(device_->Pay(Request(5'001), Cvm::none)), AcceptCode::cvm_required);
  EXPECT_TRUE(Accept(device_->Pay(Request(5'000), Cvm::none)).accepted());
  EXPECT_TRUE(Accept(device_->Pay(Request(5'001), Cvm::pin)).accepted());
}

TEST_F(TerminalTest, Check13AFailedSyncIsStorageFailedAndNothingIsAccepted) {
  const std::vector<uint8_t> token = device_->Pay(Request());
  disk_.set_faults(storage::SimulatedFaults{.sync_io_error_ppm = storage::kPartsPerMillion});
  const AcceptResult r = Accept(token);
  ExpectDecline(r, AcceptCode::storage_failed);
  EXPECT_FALSE(terminal_->FindToken(crypto::Blake2b256(token)).has_value());
  EXPECT_EQ(terminal_->Status(kNow).outstanding_requests, 1u);  // not consumed
  disk_.set_faults({});
  // The journal is poisoned: nothing more is stored until the terminal is reopened.
  ExpectDecline(PayOnce(*device_), AcceptCode::storage_failed);
  terminal_.reset();
  disk_.CrashDroppingUnsynced();
  Reopen();
  EXPECT_FALSE(terminal_->FindToken(crypto::Blake2b256(token)).has_value());
  EXPECT_TRUE(PayOnce(*device_).accepted());
}

TEST_F(TerminalTest, Check13AFullStoreDeclinesUntilTokensAreUploaded) {
  TerminalOptions options = FastOptions();
  options.tokens_not_uploaded_max = 2;
  Reopen(options);
  ASSERT_TRUE(PayOnce(*device_).accepted());
  ASSERT_TRUE(PayOnce(*device_).accepted());
  ExpectDecline(PayOnce(*device_), AcceptCode::store_full);
  auto batches = terminal_->BuildBatches(kNow);
  ASSERT_TRUE(batches.ok());
  ASSERT_EQ(batches.value().size(), 1u);
  ExpectDecline(PayOnce(*device_), AcceptCode::store_full);  // batched is not yet uploaded
  ASSERT_TRUE(terminal_->MarkUploaded(batches.value()[0].batch_id, kNow).ok());
  EXPECT_TRUE(PayOnce(*device_).accepted());
}

// The checks run in the documented order: a token failing several checks gets the first.
TEST_F(TerminalTest, ChecksRunInTheDocumentedOrder) {
  Install(issuer_.DenyList(2, kNow, kDayMs, {42}));
  CertificateShape expired;
  expired.valid_from = kNow - 2 * kDayMs;
  expired.valid_until = kNow - kDayMs;
  // Expired (4) beats denied (6): device 42 again, with an expired certificate.
  auto old = issuer_.NewDevice(42, expired);
  ExpectDecline(PayOnce(*old), AcceptCode::certificate_expired);
  // Stale (5) beats denied (6).
  ExpectDecline(Accept(device_->Pay(Request(100, kAsset, kNow + kDayMs)), kNow + kDayMs),
                AcceptCode::deny_list_stale);
  // Denied (6) beats a bad token signature (7).
  offline::PaymentToken token = device_->Draft(Decoded(Request()));
  ExpectDecline(Accept(SignToken(token, KeyFromByte(0x70))), AcceptCode::device_denied);
  // Bad signature (7) beats request mismatch (8).
  auto other = issuer_.NewDevice(43);
  offline::PaymentToken wrong = other->Draft(Decoded(Request()));
  wrong.amount = Amount::FromMinor(1);
  ExpectDecline(Accept(SignToken(wrong, KeyFromByte(0x70))), AcceptCode::bad_token_signature);
  // Mismatch (8) beats over the maximum (9).
  offline::PaymentToken big = other->Draft(Decoded(Request(1'000)));
  big.amount = Amount::FromMinor(20'000);
  ExpectDecline(Accept(other->Sign(big)), AcceptCode::request_mismatch);
  // Over the maximum beats asset mismatch (both in check 9, the table's order).
  ExpectDecline(Accept(other->Pay(Request(20'000, 2))), AcceptCode::over_per_payment_max);
  // Asset mismatch (9) beats counter out of range (10).
  offline::PaymentToken asset = other->Draft(Decoded(Request(100, 2)));
  asset.counter = 1;
  ExpectDecline(Accept(other->Sign(asset)), AcceptCode::asset_mismatch);
  // Counter out of range (10) beats cvm (12).
  offline::PaymentToken range = other->Draft(Decoded(Request(6'000)), Cvm::none);
  range.counter = 1;
  ExpectDecline(Accept(other->Sign(range)), AcceptCode::counter_out_of_range);
  // Replayed (11) beats cvm (12).
  ASSERT_TRUE(PayOnce(*other).accepted());
  const uint64_t used = other->next_counter - 1;
  offline::PaymentToken replay = other->Draft(Decoded(Request(6'000)), Cvm::none);
  replay.counter = used;
  ExpectDecline(Accept(other->Sign(replay)), AcceptCode::replayed_counter);
}

// Every single-bit change anywhere in a valid token is declined, with the code for its region.
TEST_F(TerminalTest, ATokenChangedInAnyByteIsDeclined) {
  const std::vector<uint8_t> token = device_->Pay(Request());
  const std::set<AcceptCode> header = {AcceptCode::malformed, AcceptCode::bad_token_signature};
  const std::set<AcceptCode> certificate = {AcceptCode::malformed,
                                            AcceptCode::bad_certificate_signature};
  const std::set<AcceptCode> body = {AcceptCode::malformed, AcceptCode::bad_token_signature};
  for (size_t i = 0; i < token.size(); ++i) {
    for (const int bit : {0x01, 0x80}) {
      std::vector<uint8_t> changed = token;
      changed[i] ^= static_cast<uint8_t>(bit);
      const AcceptResult r = Accept(changed);
      ASSERT_FALSE(r.accepted()) << "byte " << i;
      if (i >= 296 && i < 312) {
        EXPECT_EQ(r.code, AcceptCode::unknown_request) << i;  // the nonce
      } else if (i >= 8 && i < 240) {
        EXPECT_TRUE(certificate.contains(r.code)) << i << ": " << r.Message();
      } else {
        EXPECT_TRUE((i < 8 ? header : body).contains(r.code)) << i << ": " << r.Message();
      }
    }
  }
  EXPECT_EQ(terminal_->Status(kNow).accepted, 0u);
  EXPECT_TRUE(Accept(token).accepted());  // the request was never consumed
}

// ---- Deny lists

TEST_F(TerminalTest, ADeltaOnTheInstalledVersionAddsDevices) {
  auto delta = terminal_->InstallDenyList(issuer_.Delta(2, 1, kNow + 10, kDayMs, {42}), kNow);
  ASSERT_TRUE(delta.ok()) << delta.error().Message();
  EXPECT_EQ(delta.value().version, 2u);
  EXPECT_EQ(delta.value().entries, 1u);
  ASSERT_TRUE(terminal_->InstallDenyList(issuer_.Delta(3, 2, kNow + 20, kDayMs, {7}), kNow).ok());
  EXPECT_EQ(terminal_->DenyList(kNow).entries, 2u);
  ExpectDecline(PayOnce(*device_), AcceptCode::device_denied);
  Reopen();  // persisted
  EXPECT_EQ(terminal_->deny_list_version(), 3u);
  EXPECT_EQ(terminal_->DenyList(kNow).entries, 2u);
  ExpectDecline(PayOnce(*device_), AcceptCode::device_denied);
}

TEST_F(TerminalTest, ADeltaOnAnotherVersionNeedsAFullList) {
  auto skipped = terminal_->InstallDenyList(issuer_.Delta(4, 3, kNow, kDayMs, {42}), kNow);
  ASSERT_FALSE(skipped.ok());
  EXPECT_EQ(skipped.error().code, TerminalError::deny_list_needs_full_list);
  EXPECT_NE(skipped.error().Message().find("install a full list"), std::string::npos);
  EXPECT_NE(skipped.error().Message().find("installed: 1"), std::string::npos);
  EXPECT_EQ(terminal_->deny_list_version(), 1u);

  SeededRandom random(5);
  SimulatedStorage disk(random);
  auto fresh = Terminal::Create(disk, TestIdentity(issuer_), TestPassphrase(), FastOptions());
  ASSERT_TRUE(fresh.ok());
  auto first = fresh.value()->InstallDenyList(issuer_.Delta(2, 1, kNow, kDayMs, {}), kNow);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, TerminalError::deny_list_needs_full_list);
  EXPECT_NE(first.error().Message().find("installed: none"), std::string::npos);
}

TEST_F(TerminalTest, OlderOrRepeatedFullListsAreRefused) {
  Install(issuer_.DenyList(5, kNow, kDayMs, {42}));
  for (const auto& list :
       {issuer_.DenyList(4, kNow + 5, kDayMs, {}), issuer_.DenyList(5, kNow, kDayMs, {})}) {
    auto installed = terminal_->InstallDenyList(list, kNow);
    ASSERT_FALSE(installed.ok());
    EXPECT_EQ(installed.error().code, TerminalError::deny_list_outdated);
  }
  EXPECT_EQ(terminal_->DenyList(kNow).entries, 1u);
}

TEST_F(TerminalTest, DenyListsMustBeSignedByAPinnedKey) {
  TestIssuer impostor;
  impostor.key = KeyFromByte(0x67);
  auto forged = terminal_->InstallDenyList(impostor.DenyList(9, kNow, kDayMs, {}), kNow);
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code, TerminalError::deny_list_bad_signature);
  impostor.key_id = 99;
  auto unknown = terminal_->InstallDenyList(impostor.DenyList(9, kNow, kDayMs, {}), kNow);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, TerminalError::deny_list_unknown_issuer_key);
  // A full list's signature does not verify as a delta's (domain separation).
  std::vector<uint8_t> relabelled = issuer_.DenyList(2, kNow, kDayMs, {});
  relabelled[0] = static_cast<uint8_t>(offline::MessageType::deny_list_delta);
  relabelled[16] = 1;  // base_version 1, so it decodes as a delta on the installed version
  auto swapped = terminal_->InstallDenyList(relabelled, kNow);
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.error().code, TerminalError::deny_list_bad_signature);
  EXPECT_EQ(terminal_->deny_list_version(), 1u);
}

TEST_F(TerminalTest, MalformedDenyListsAreRefused) {
  const std::vector<uint8_t> good = issuer_.DenyList(2, kNow, kDayMs, {1, 2});
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = terminal_->InstallDenyList(std::span(good).first(n), kNow);
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code, TerminalError::deny_list_malformed) << n;
  }
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_EQ(terminal_->InstallDenyList(longer, kNow).error().code,
            TerminalError::deny_list_malformed);
  EXPECT_EQ(terminal_->InstallDenyList(std::vector<uint8_t>(1 << 22, 5), kNow).error().code,
            TerminalError::deny_list_malformed);
  for (size_t i = 0; i < good.size(); ++i) {  // no changed byte installs
    std::vector<uint8_t> changed = good;
    changed[i] ^= 0x04;
    EXPECT_FALSE(terminal_->InstallDenyList(changed, kNow).ok()) << i;
  }
  EXPECT_EQ(terminal_->deny_list_version(), 1u);
}

TEST_F(TerminalTest, ADamagedDenyListFileRefusesToOpen) {
  terminal_.reset();
  auto file = disk_.Open("deny-list.state", storage::OpenMode::read_write);
  ASSERT_TRUE(file.ok());
  const uint8_t garbage = 0xff;
  ASSERT_TRUE(file.value()->Write(20, std::span(&garbage, 1)).ok());
  file.value().reset();
  auto opened = Terminal::Open(disk_, TestPassphrase());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, TerminalError::config_corrupt);
  EXPECT_NE(opened.error().Message().find("checksum"), std::string::npos);
}

// ---- Voids

TEST_F(TerminalTest, AVoidedTokenIsNeverBatchedAndTheVoidSurvivesARestart) {
  const AcceptResult kept = PayOnce(*device_);
  const AcceptResult voided = PayOnce(*device_);
  ASSERT_TRUE(kept.accepted() && voided.accepted());
  ASSERT_TRUE(terminal_->Void(voided.token_id, kNow).ok());
  Reopen();
  EXPECT_EQ(terminal_->FindToken(voided.token_id), TokenState::voided);
  auto batches = terminal_->BuildBatches(kNow);
  ASSERT_TRUE(batches.ok());
  ASSERT_EQ(batches.value().size(), 1u);
  EXPECT_EQ(BatchTokenIds(batches.value()[0].bytes), std::vector<TokenId>{kept.token_id});
  EXPECT_EQ(terminal_->Status(kNow).voided, 1u);
}

TEST_F(TerminalTest, VoidRefusesUnknownVoidedBatchedAndUploadedTokens) {
  TokenId unknown{};
  unknown.fill(0x31);
  EXPECT_EQ(terminal_->Void(unknown, kNow).error().code, TerminalError::unknown_token);
  const AcceptResult a = PayOnce(*device_);
  ASSERT_TRUE(terminal_->Void(a.token_id, kNow).ok());
  EXPECT_EQ(terminal_->Void(a.token_id, kNow).error().code, TerminalError::token_already_voided);
  const AcceptResult b = PayOnce(*device_);
  auto batches = terminal_->BuildBatches(kNow);
  ASSERT_TRUE(batches.ok());
  const TerminalStatus batched = terminal_->Void(b.token_id, kNow);
  ASSERT_FALSE(batched.ok());
  EXPECT_EQ(batched.error().code, TerminalError::token_already_batched);
  EXPECT_NE(batched.error().Message().find(crypto::HashToHex(b.token_id)), std::string::npos);
  ASSERT_TRUE(terminal_->MarkUploaded(batches.value()[0].batch_id, kNow).ok());
  EXPECT_EQ(terminal_->Void(b.token_id, kNow).error().code, TerminalError::token_already_uploaded);
}

// ---- Batches

TEST_F(TerminalTest, ABatchIsSignedByTheTerminalAndHoldsTokensInAcceptanceOrder) {
  std::vector<TokenId> accepted;
  auto second = issuer_.NewDevice(43);
  for (int i = 0; i < 5; ++i) {
    const AcceptResult r = PayOnce(i % 2 == 0 ? *device_ : *second);
    ASSERT_TRUE(r.accepted());
    accepted.push_back(r.token_id);
  }
  auto built = terminal_->BuildBatches(kNow + 5);
  ASSERT_TRUE(built.ok()) << built.error().Message();
  ASSERT_EQ(built.value().size(), 1u);
  const PendingBatch& batch = built.value()[0];
  EXPECT_EQ(batch.token_count, 5u);
  EXPECT_EQ(batch.created_ms, kNow + 5);
  auto decoded = offline::DecodeBatch(batch.bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().Message();
  EXPECT_EQ(decoded.value().terminal_id, kTerminalId);
  EXPECT_EQ(decoded.value().batch_id, batch.batch_id);
  EXPECT_EQ(decoded.value().created, kNow + 5);
  EXPECT_EQ(BatchTokenIds(batch.bytes), accepted);
  EXPECT_TRUE(crypto::Verify(terminal_->public_key(), offline::kBatchDomain,
                             offline::SignedPart(batch.bytes, offline::MessageType::terminal_batch),
                             crypto::Signature{decoded.value().signature}));
  for (const TokenId& id : accepted) EXPECT_EQ(terminal_->FindToken(id), TokenState::batched);
  EXPECT_EQ(terminal_->Status(kNow).in_pending_batches, 5u);
  // Nothing more to batch.
  auto none = terminal_->BuildBatches(kNow);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none.value().empty());
}

TEST_F(TerminalTest, PendingBatchesAreReofferedWithTheSameBytesAfterARestart) {
  ASSERT_TRUE(PayOnce(*device_).accepted());
  ASSERT_TRUE(PayOnce(*device_).accepted());
  auto built = terminal_->BuildBatches(kNow);
  ASSERT_TRUE(built.ok());
  ASSERT_EQ(built.value().size(), 1u);
  terminal_.reset();
  disk_.CrashDroppingUnsynced();
  Reopen();
  const std::vector<PendingBatch> pending = terminal_->PendingBatches();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].batch_id, built.value()[0].batch_id);
  EXPECT_EQ(pending[0].bytes, built.value()[0].bytes);
  EXPECT_TRUE(terminal_->BuildBatches(kNow).value().empty());  // tokens are not batched twice
}

TEST_F(TerminalTest, MarkUploadedRetiresTheBatchOnce) {
  ASSERT_TRUE(PayOnce(*device_).accepted());
  auto built = terminal_->BuildBatches(kNow);
  ASSERT_TRUE(built.ok());
  const BatchId id = built.value()[0].batch_id;
  BatchId unknown{};
  unknown.fill(0x13);
  EXPECT_EQ(terminal_->MarkUploaded(unknown, kNow).error().code, TerminalError::unknown_batch);
  ASSERT_TRUE(terminal_->MarkUploaded(id, kNow).ok());
  EXPECT_EQ(terminal_->MarkUploaded(id, kNow).error().code, TerminalError::batch_already_uploaded);
  EXPECT_TRUE(terminal_->PendingBatches().empty());
  Reopen();
  EXPECT_TRUE(terminal_->PendingBatches().empty());
  const TerminalStatusReport status = terminal_->Status(kNow);
  EXPECT_EQ(status.uploaded, 1u);
  EXPECT_EQ(status.pending_batches, 0u);
  EXPECT_EQ(terminal_->MarkUploaded(id, kNow).error().code, TerminalError::batch_already_uploaded);
}

TEST_F(TerminalTest, MoreTokensThanOneBatchHoldsSplitIntoSeveralBatches) {
  CertificateShape big;
  big.payment_count_max = offline::kBatchTokensMax + 10;
  auto busy = issuer_.NewDevice(50, big);
  const size_t total = size_t{offline::kBatchTokensMax} + 1;
  std::vector<TokenId> accepted;
  accepted.reserve(total);
  for (size_t i = 0; i < total; ++i) {
    const AcceptResult r = PayOnce(*busy, 10);
    ASSERT_TRUE(r.accepted()) << i << ": " << r.Message();
    accepted.push_back(r.token_id);
  }
  auto built = terminal_->BuildBatches(kNow);
  ASSERT_TRUE(built.ok()) << built.error().Message();
  ASSERT_EQ(built.value().size(), 2u);
  EXPECT_EQ(built.value()[0].token_count, offline::kBatchTokensMax);
  EXPECT_EQ(built.value()[1].token_count, 1u);
  std::vector<TokenId> in_batches = BatchTokenIds(built.value()[0].bytes);
  const std::vector<TokenId> last = BatchTokenIds(built.value()[1].bytes);
  in_batches.insert(in_batches.end(), last.begin(), last.end());
  EXPECT_EQ(in_batches, accepted);
  EXPECT_NE(built.value()[0].batch_id, built.value()[1].batch_id);
  Reopen();
  const std::vector<PendingBatch> pending = terminal_->PendingBatches();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].bytes, built.value()[0].bytes);
  EXPECT_EQ(pending[1].bytes, built.value()[1].bytes);
}

// ---- Hostile input to the other entry points

TEST_F(TerminalTest, NewRequestRefusesZeroAmountAndAsset) {
  EXPECT_EQ(terminal_->NewRequest(Amount::Zero(), kAsset, kNow).error().code,
            TerminalError::invalid_argument);
  EXPECT_EQ(terminal_->NewRequest(Amount::FromMinor(1), 0, kNow).error().code,
            TerminalError::invalid_argument);
  auto request = terminal_->NewRequest(Amount::Max(), UINT32_MAX, UINT64_MAX);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request.value().bytes.size(), offline::kRequestBytes);
}

TEST_F(TerminalTest, RequestsCarryFreshNoncesAndTheTerminalsIds) {
  std::set<offline::Nonce> nonces;
  for (int i = 0; i < 100; ++i) {
    const offline::PaymentRequest r = Decoded(Request(1 + static_cast<uint64_t>(i)));
    EXPECT_TRUE(nonces.insert(r.nonce).second);
    EXPECT_EQ(r.merchant_id, kMerchantId);
    EXPECT_EQ(r.terminal_id, kTerminalId);
    EXPECT_EQ(r.terminal_time, kNow);
  }
  EXPECT_EQ(terminal_->Status(kNow).outstanding_requests, kOutstandingRequestsMax);
}

TEST_F(TerminalTest, RandomGarbageIsDeclinedOrRefusedEverywhere) {
  SeededRandom random(77);
  for (int round = 0; round < 500; ++round) {
    std::vector<uint8_t> bytes(random.Uniform(1'000));
    random.Fill(bytes);
    if (!bytes.empty() && random.Chance(1, 2)) bytes[0] = static_cast<uint8_t>(random.Uniform(8));
    if (bytes.size() > 1 && random.Chance(1, 2)) bytes[1] = 1;
    EXPECT_FALSE(Accept(bytes).accepted());
    EXPECT_FALSE(terminal_->InstallDenyList(bytes, kNow).ok());
    TokenId id{};
    random.Fill(id);
    EXPECT_EQ(terminal_->Void(id, kNow).error().code, TerminalError::unknown_token);
    BatchId batch{};
    random.Fill(batch);
    EXPECT_EQ(terminal_->MarkUploaded(batch, kNow).error().code, TerminalError::unknown_batch);
  }
  EXPECT_EQ(terminal_->Status(kNow).accepted, 0u);
}

// ---- Damaged terminal files

void OverwriteFile(storage::Storage& disk, std::string_view name, std::vector<uint8_t> bytes) {
  ASSERT_TRUE(disk.WriteFileAtomically(name, bytes).ok());
}

TEST_F(TerminalTest, DamagedConfigOrKeystoreRefusesToOpen) {
  terminal_.reset();
  auto config = disk_.ReadFile("terminal.conf", 4096).value();
  auto key = disk_.ReadFile("terminal.key", 4096).value();
  std::vector<uint8_t> bad = config;
  bad[30] ^= 1;
  OverwriteFile(disk_, "terminal.conf", bad);
  auto opened = Terminal::Open(disk_, TestPassphrase());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, TerminalError::config_corrupt);
  OverwriteFile(disk_, "terminal.conf", std::vector<uint8_t>(100'000, 1));
  EXPECT_EQ(Terminal::Open(disk_, TestPassphrase()).error().code, TerminalError::config_corrupt);
  OverwriteFile(disk_, "terminal.conf", config);
  bad = key;
  bad[bad.size() - 3] ^= 1;
  OverwriteFile(disk_, "terminal.key", bad);
  EXPECT_EQ(Terminal::Open(disk_, TestPassphrase()).error().code, TerminalError::keystore_failed);
  OverwriteFile(disk_, "terminal.key", {1, 2, 3});
  EXPECT_EQ(Terminal::Open(disk_, TestPassphrase()).error().code, TerminalError::keystore_failed);
  OverwriteFile(disk_, "terminal.key", key);
  EXPECT_TRUE(Terminal::Open(disk_, TestPassphrase()).ok());
}

TEST_F(TerminalTest, AKeystoreOfAnotherTerminalIsRefused) {
  SeededRandom random(6);
  SimulatedStorage other(random);
  ASSERT_TRUE(Terminal::Create(other, TestIdentity(issuer_), TestPassphrase(), FastOptions()).ok());
  terminal_.reset();
  OverwriteFile(disk_, "terminal.key", other.ReadFile("terminal.key", 4096).value());
  auto opened = Terminal::Open(disk_, TestPassphrase());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, TerminalError::keystore_failed);
  EXPECT_NE(opened.error().Message().find("another terminal's key"), std::string::npos);
}

std::string OnlySegment(storage::Storage& disk) {
  const auto names = disk.List();
  if (!names.ok()) return {};
  for (const std::string& name : names.value()) {
    if (name.starts_with("segment-")) return name;
  }
  return {};
}

TEST_F(TerminalTest, ATornJournalTailIsDroppedAndDamageElsewhereRefusesToOpen) {
  ASSERT_TRUE(PayOnce(*device_).accepted());
  const AcceptResult second = PayOnce(*device_);
  ASSERT_TRUE(second.accepted());
  terminal_.reset();
  const std::string segment = OnlySegment(disk_);
  ASSERT_FALSE(segment.empty());
  std::vector<uint8_t> original = disk_.ReadFile(segment, 4 << 20).value();
  // Without the zeros the journal prepared ahead of its end (journal tests cover those).
  auto verified = journal::VerifyJournal(disk_);
  ASSERT_TRUE(verified.ok()) << verified.error().Message();
  original.resize(verified.value().stats.bytes);
  // A torn tail: half a group of garbage after the last one.
  std::vector<uint8_t> torn = original;
  torn.insert(torn.end(), 100, 0xab);
  OverwriteFile(disk_, segment, torn);
  Reopen();
  EXPECT_EQ(terminal_->Status(kNow).torn_tail_bytes, 100u);
  EXPECT_EQ(terminal_->Status(kNow).accepted, 2u);
  terminal_.reset();
  // A flipped byte inside the first token's record is not a tail: refuse, naming the damage.
  std::vector<uint8_t> damaged = original;
  damaged[damaged.size() / 3] ^= 0x10;
  OverwriteFile(disk_, segment, damaged);
  auto opened = Terminal::Open(disk_, TestPassphrase());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, TerminalError::journal_corrupt) << opened.error().Message();
  EXPECT_NE(opened.error().Message().find(segment), std::string::npos);
}

// Records that pass the journal's checksums but state impossible facts (a foreign writer, a bug)
// refuse to open, naming the record: skipping one could lose or double a payment.
TEST_F(TerminalTest, ImpossibleOrUnknownJournalRecordsRefuseToOpen) {
  ASSERT_TRUE(PayOnce(*device_).accepted());
  terminal_.reset();
  const auto append = [&](uint16_t type, const std::vector<uint8_t>& bytes) {
    journal::JournalOptions options;
    auto writer = journal::JournalWriter::Open(disk_, options);
    ASSERT_TRUE(writer.ok()) << writer.error().Message();
    const journal::RecordInput input{type, bytes};
    journal::RecordLocation location;
    ASSERT_TRUE(writer.value()->AppendGroup(std::span(&input, 1), std::span(&location, 1)).ok());
    ASSERT_TRUE(writer.value()->Sync().ok());
  };
  TokenVoided stray{kNow, {}};
  stray.token_id.fill(0x44);
  append(static_cast<uint16_t>(RecordType::token_voided), EncodeRecord(stray));
  auto opened = Terminal::Open(disk_, TestPassphrase());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, TerminalError::journal_corrupt);
  EXPECT_NE(opened.error().Message().find("record 2: void of unknown token"), std::string::npos)
      << opened.error().Message();

  SeededRandom random(9);
  SimulatedStorage other(random);
  ASSERT_TRUE(Terminal::Create(other, TestIdentity(issuer_), TestPassphrase(), FastOptions()).ok());
  journal::JournalOptions options;
  auto writer = journal::JournalWriter::Open(other, options);
  ASSERT_TRUE(writer.ok());
  const std::vector<uint8_t> bytes(8, 0);
  const journal::RecordInput input{77, bytes};
  journal::RecordLocation location;
  ASSERT_TRUE(writer.value()->AppendGroup(std::span(&input, 1), std::span(&location, 1)).ok());
  ASSERT_TRUE(writer.value()->Sync().ok());
  writer.value().reset();
  auto unknown = Terminal::Open(other, TestPassphrase());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().Message().find("unknown record type 77"), std::string::npos)
      << unknown.error().Message();
}

TEST_F(TerminalTest, AMissingJournalRefusesToOpen) {
  terminal_.reset();
  ASSERT_TRUE(disk_.Remove(OnlySegment(disk_)).ok());
  auto opened = Terminal::Open(disk_, TestPassphrase());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, TerminalError::journal_corrupt);
}

TEST(TerminalNamesTest, EveryCodeHasANameAndAMessage) {
  for (int v = 0; v <= 16; ++v) {
    const auto code = static_cast<AcceptCode>(v);
    EXPECT_NE(AcceptCodeName(code), "unknown_accept_code") << v;
    EXPECT_FALSE(AcceptCodeMessage(code).empty());
  }
  for (int v = 1; v <= 19; ++v) {
    const auto code = static_cast<TerminalError>(v);
    EXPECT_NE(TerminalErrorName(code), "unknown_terminal_error") << v;
  }
  AcceptResult declined;
  declined.code = AcceptCode::device_denied;
  declined.detail = "device 42";
  EXPECT_EQ(declined.Message(),
            "declined: device_denied: the device is on the deny list (device 42)");
}

// ---- Real disk

TEST(TerminalPosixTest, AcceptBatchAndReopenOnARealDisk) {
  storage::TempDir dir;
  TestIssuer issuer;
  auto device = issuer.NewDevice(42);
  BatchId batch_id{};
  std::vector<uint8_t> batch_bytes;
  TokenId token_id{};
  {
    auto disk = storage::PosixStorage::Open(dir.path(), false);
    ASSERT_TRUE(disk.ok());
    auto terminal =
        Terminal::Create(*disk.value(), TestIdentity(issuer), TestPassphrase(), FastOptions());
    ASSERT_TRUE(terminal.ok()) << terminal.error().Message();
    Terminal& t = *terminal.value();
    ASSERT_TRUE(t.InstallDenyList(issuer.DenyList(1, kNow, kDayMs, {}), kNow).ok());
    auto request = t.NewRequest(Amount::FromMinor(250), kAsset, kNow);
    ASSERT_TRUE(request.ok());
    const AcceptResult r = t.Accept(device->Pay(request.value().bytes), kNow);
    ASSERT_TRUE(r.accepted()) << r.Message();
    token_id = r.token_id;
    auto built = t.BuildBatches(kNow);
    ASSERT_TRUE(built.ok());
    ASSERT_EQ(built.value().size(), 1u);
    batch_id = built.value()[0].batch_id;
    batch_bytes = built.value()[0].bytes;
  }
  auto disk = storage::PosixStorage::Open(dir.path(), false);
  ASSERT_TRUE(disk.ok());
  auto terminal = Terminal::Open(*disk.value(), TestPassphrase());
  ASSERT_TRUE(terminal.ok()) << terminal.error().Message();
  EXPECT_EQ(terminal.value()->FindToken(token_id), TokenState::batched);
  const std::vector<PendingBatch> pending = terminal.value()->PendingBatches();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].batch_id, batch_id);
  EXPECT_EQ(pending[0].bytes, batch_bytes);
  EXPECT_EQ(terminal.value()->deny_list_version(), 1u);
}

}  // namespace
}  // namespace tpw::terminal
