// Wallet behaviour: create/open, certificates, the token it signs, every decline reason, the
// funding rule, sync, and hostile input to Pay and the installers.
#include "wallet/wallet.h"

#include <gtest/gtest.h>

#include <set>

#include "common/clock.h"
#include "common/codec.h"
#include "storage/simulated_storage.h"
#include "wallet/test_util.h"

namespace tpw::wallet {
namespace {

using namespace test_support;

class WalletTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CreateOptions options = FastOptions();
    options.issuer = issuer_.pin();
    auto created = Wallet::Create(storage_, Pass(), options);
    ASSERT_TRUE(created.ok()) << created.error().Message();
    wallet_ = std::move(created).value();
  }

  // Installs a standard certificate (serial, counters from counter_first) and returns it.
  offline::DeviceCertificate Install(uint64_t serial, uint64_t counter_first,
                                     void (*adjust)(offline::DeviceCertificate&) = nullptr) {
    offline::DeviceCertificate c = issuer_.CertificateFor(*wallet_, serial, counter_first);
    if (adjust != nullptr) adjust(c);
    auto installed = wallet_->InstallCertificate(issuer_.Sign(c));
    EXPECT_TRUE(installed.ok()) << installed.error().Message();
    return offline::DecodeCertificate(issuer_.Sign(c)).value();
  }

  WalletError PayError(std::span<const uint8_t> request, PayOptions options = {},
                       uint64_t now = kNow) {
    auto paid = wallet_->Pay(request, options, now);
    return paid.ok() ? WalletError::ok : paid.error().code;
  }

  WalletError InstallError(std::span<const uint8_t> bytes) {
    auto installed = wallet_->InstallCertificate(bytes);
    return installed.ok() ? WalletError::ok : installed.error().code;
  }

  SeededRandom random_{11};
  storage::SimulatedStorage storage_{random_};
  Issuer issuer_;
  std::unique_ptr<Wallet> wallet_;
};

// ---- Create and open

TEST_F(WalletTest, ReopensWithThePassphraseAndKeepsIdentityAndState) {
  Install(1, 10);
  ASSERT_TRUE(wallet_->Pay(Request(100), {}, kNow).ok());
  const u128 id = wallet_->device_id();
  const crypto::PublicKey key = wallet_->device_public_key();
  wallet_.reset();
  auto reopened = Wallet::Open(storage_, Pass());
  ASSERT_TRUE(reopened.ok()) << reopened.error().Message();
  EXPECT_EQ(reopened.value()->device_id(), id);
  EXPECT_EQ(reopened.value()->device_public_key(), key);
  const WalletInfo info = reopened.value()->Info();
  ASSERT_EQ(info.certificates.size(), 1u);
  EXPECT_EQ(info.certificates[0].counters_used, 1u);
  EXPECT_EQ(info.tokens_signed, 1u);
}

TEST_F(WalletTest, DeviceIdsAreRandomAndNeverZero) {
  SeededRandom random(1);
  storage::SimulatedStorage other(random);
  auto second = Wallet::Create(other, Pass(), FastOptions());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second.value()->device_id(), wallet_->device_id());
  EXPECT_NE(second.value()->device_id(), 0u);
  EXPECT_NE(second.value()->device_public_key(), wallet_->device_public_key());
}

TEST_F(WalletTest, WrongPassphraseIsRefused) {
  wallet_.reset();
  auto opened = Wallet::Open(storage_, Pass("wrong horse"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, WalletError::wrong_passphrase);
}

TEST_F(WalletTest, CreatingOverAnExistingWalletIsRefused) {
  wallet_.reset();
  auto created = Wallet::Create(storage_, Pass(), FastOptions());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, WalletError::wallet_exists);
}

TEST_F(WalletTest, OpeningAnEmptyDirectoryIsNoWallet) {
  SeededRandom random(2);
  storage::SimulatedStorage empty(random);
  auto opened = Wallet::Open(empty, Pass());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, WalletError::no_wallet);
  auto inspected = Wallet::Inspect(empty);
  ASSERT_FALSE(inspected.ok());
  EXPECT_EQ(inspected.error().code, WalletError::no_wallet);
}

TEST_F(WalletTest, ASecondOpenerIsLockedOut) {
  auto second = Wallet::Open(storage_, Pass());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, WalletError::wallet_locked);
}

TEST_F(WalletTest, InvalidKdfCostIsAnInvalidArgument) {
  SeededRandom random(3);
  storage::SimulatedStorage other(random);
  CreateOptions options;
  options.kdf = crypto::KdfParams{0, 0};
  auto created = Wallet::Create(other, Pass(), options);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, WalletError::invalid_argument);
}

TEST_F(WalletTest, InspectReadsTheStateWithoutThePassphrase) {
  Install(1, 10);
  auto info = Wallet::Inspect(storage_);
  ASSERT_TRUE(info.ok()) << info.error().Message();
  EXPECT_EQ(info->device_id, wallet_->device_id());
  ASSERT_EQ(info->certificates.size(), 1u);
  EXPECT_EQ(info->certificates[0].certificate.serial, 1u);
  ASSERT_TRUE(info->issuer.has_value());
  EXPECT_EQ(info->issuer->public_key, issuer_.pin().public_key);
}

// ---- The token

TEST_F(WalletTest, TokenCarriesTheRequestCertificateAndCounterAndVerifies) {
  const offline::DeviceCertificate c = Install(1, 10);
  const std::vector<uint8_t> request_bytes = Request(250, kAsset, 9);
  const offline::PaymentRequest request = offline::DecodeRequest(request_bytes).value();
  auto paid = wallet_->Pay(request_bytes, {}, kNow + 3);
  ASSERT_TRUE(paid.ok()) << paid.error().Message();
  ASSERT_EQ(paid->token.size(), offline::kTokenBytes);
  const offline::PaymentToken t = VerifiedToken(paid->token);
  EXPECT_EQ(offline::Encode(t.certificate), offline::Encode(c));
  EXPECT_EQ(t.cvm, offline::Cvm::none);
  EXPECT_EQ(t.asset, request.asset);
  EXPECT_EQ(t.counter, 10u);
  EXPECT_EQ(t.amount, request.amount);
  EXPECT_EQ(t.merchant_id, request.merchant_id);
  EXPECT_EQ(t.terminal_id, request.terminal_id);
  EXPECT_EQ(t.nonce, request.nonce);
  EXPECT_EQ(t.terminal_time, request.terminal_time);
  EXPECT_EQ(t.device_time, kNow + 3);
  EXPECT_EQ(t.previous_token_hash, crypto::Hash256{});
  EXPECT_EQ(paid->token_id, crypto::Blake2b256(paid->token));
  EXPECT_EQ(paid->serial, 1u);
  EXPECT_EQ(paid->counter, 10u);
  EXPECT_EQ(paid->remaining_allowance, Amount::FromMinor(2750));
  EXPECT_EQ(paid->remaining_payments, 4u);
}

TEST_F(WalletTest, TokensFormAHashChainWithConsecutiveCounters) {
  Install(1, 10);
  crypto::Hash256 previous{};
  for (uint8_t i = 0; i < 5; ++i) {
    auto paid = wallet_->Pay(Request(100, kAsset, i), {}, kNow);
    ASSERT_TRUE(paid.ok()) << paid.error().Message();
    const offline::PaymentToken t = VerifiedToken(paid->token);
    EXPECT_EQ(t.counter, 10u + i);
    EXPECT_EQ(t.previous_token_hash, previous);
    previous = paid->token_id;
  }
  EXPECT_EQ(wallet_->Info().previous_token_hash, previous);
  EXPECT_EQ(wallet_->Info().certificates[0].spent, Amount::FromMinor(500));
}

TEST_F(WalletTest, AVerifiedPinIsMarkedInTheTokenAndAllowsLargeAmounts) {
  Install(1, 10);
  EXPECT_EQ(PayError(Request(501)), WalletError::pin_required);
  auto paid = wallet_->Pay(Request(501), PayOptions{true, std::nullopt}, kNow);
  ASSERT_TRUE(paid.ok()) << paid.error().Message();
  EXPECT_EQ(VerifiedToken(paid->token).cvm, offline::Cvm::pin);
  EXPECT_EQ(PayError(Request(500)), WalletError::ok);  // at the threshold: no PIN needed
}

// ---- Every decline reason

TEST_F(WalletTest, MalformedRequestsAreDeclined) {
  Install(1, 10);
  const std::vector<uint8_t> good = Request(100);
  for (size_t length = 0; length < good.size(); ++length) {
    EXPECT_EQ(PayError(std::span(good).first(length)), WalletError::malformed_request) << length;
  }
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_EQ(PayError(longer), WalletError::malformed_request);
  std::vector<uint8_t> zero_amount = good;
  std::fill(zero_amount.begin() + 40, zero_amount.begin() + 56, 0);
  EXPECT_EQ(PayError(zero_amount), WalletError::malformed_request);
  std::vector<uint8_t> reserved = good;
  reserved[2] = 1;
  EXPECT_EQ(PayError(reserved), WalletError::malformed_request);
  // Another message type: a certificate handed over as a request.
  EXPECT_EQ(PayError(issuer_.Sign(issuer_.CertificateFor(*wallet_, 9, 900))),
            WalletError::malformed_request);
  SeededRandom random(5);
  for (int i = 0; i < 200; ++i) {
    std::vector<uint8_t> garbage(random.Uniform(200));
    random.Fill(garbage);
    EXPECT_EQ(PayError(garbage), WalletError::malformed_request);
  }
  EXPECT_EQ(wallet_->Info().tokens_signed, 0u);
}

TEST_F(WalletTest, NoCertificateForTheAssetIsDeclined) {
  EXPECT_EQ(PayError(Request(100)), WalletError::no_certificate_for_asset);
  Install(1, 10);
  EXPECT_EQ(PayError(Request(100, kAsset + 1)), WalletError::no_certificate_for_asset);
}

TEST_F(WalletTest, AnUnknownOrMismatchedSerialIsDeclined) {
  Install(1, 10);
  EXPECT_EQ(PayError(Request(100), PayOptions{false, 2}), WalletError::unknown_serial);
  Install(2, 100, [](offline::DeviceCertificate& c) { c.asset = 2; });
  EXPECT_EQ(PayError(Request(100), PayOptions{false, 2}), WalletError::asset_mismatch);
  EXPECT_EQ(PayError(Request(100, 2), PayOptions{false, 2}), WalletError::ok);
}

TEST_F(WalletTest, CertificateValidityFollowsTheDeviceClock) {
  const offline::DeviceCertificate c = Install(1, 10);
  EXPECT_EQ(PayError(Request(100), {}, c.valid_from - 1), WalletError::certificate_not_yet_valid);
  EXPECT_EQ(PayError(Request(100), {}, c.valid_until), WalletError::certificate_expired);
  EXPECT_EQ(PayError(Request(100), {}, c.valid_from), WalletError::ok);
  EXPECT_EQ(PayError(Request(100), {}, c.valid_until - 1), WalletError::ok);
}

TEST_F(WalletTest, ExhaustedCountersAreDeclined) {
  Install(1, 10, [](offline::DeviceCertificate& c) { c.payment_count_max = 2; });
  EXPECT_EQ(PayError(Request(1)), WalletError::ok);
  EXPECT_EQ(PayError(Request(1)), WalletError::ok);
  EXPECT_EQ(PayError(Request(1)), WalletError::counters_exhausted);
}

TEST_F(WalletTest, AmountsAbovePerPaymentMaxAreDeclined) {
  Install(1, 10);
  EXPECT_EQ(PayError(Request(1001), PayOptions{true, std::nullopt}),
            WalletError::over_per_payment_max);
  EXPECT_EQ(PayError(Request(1000), PayOptions{true, std::nullopt}), WalletError::ok);
}

TEST_F(WalletTest, TheRemainingAllowanceIsEnforced) {
  Install(1, 10);
  const PayOptions pin{true, std::nullopt};
  EXPECT_EQ(PayError(Request(1000), pin), WalletError::ok);
  EXPECT_EQ(PayError(Request(1000), pin), WalletError::ok);
  EXPECT_EQ(PayError(Request(1001), pin), WalletError::over_per_payment_max);
  EXPECT_EQ(PayError(Request(999), pin), WalletError::ok);
  EXPECT_EQ(PayError(Request(2), pin), WalletError::allowance_exhausted);
  EXPECT_EQ(PayError(Request(1), pin), WalletError::ok);
  EXPECT_EQ(wallet_->Info().certificates[0].remaining_allowance(), Amount::Zero());
}

TEST_F(WalletTest, ACertificateAwaitingSyncPaysNoMore) {
  Install(1, 10);
  ASSERT_TRUE(wallet_->MakeSyncRequest(std::nullopt).ok());
  EXPECT_EQ(PayError(Request(100)), WalletError::sync_pending);
}

TEST_F(WalletTest, AFailedStateWriteBurnsTheCounterAndReleasesNothing) {
  Install(1, 10);
  storage_.set_faults(storage::SimulatedFaults{0, 1'000'000, 0, 0, UINT64_MAX});
  auto paid = wallet_->Pay(Request(100), {}, kNow);
  ASSERT_FALSE(paid.ok());
  EXPECT_EQ(paid.error().code, WalletError::storage_failed);
  EXPECT_NE(paid.error().detail.find("counter 10 is burned"), std::string::npos)
      << paid.error().detail;
  storage_.set_faults({});
  auto next = wallet_->Pay(Request(100), {}, kNow);
  ASSERT_TRUE(next.ok()) << next.error().Message();
  EXPECT_EQ(next->counter, 11u);  // 10 was burned in memory and is never used again
}

TEST_F(WalletTest, DeclinesChangeNothing) {
  Install(1, 10);
  const std::vector<uint8_t> before = storage_.ReadFile(kStateFileName, 1 << 20).value();
  EXPECT_EQ(PayError(Request(600)), WalletError::pin_required);
  EXPECT_EQ(PayError(Request(100), {}, kNow + 2 * kDayMs), WalletError::certificate_expired);
  EXPECT_EQ(storage_.ReadFile(kStateFileName, 1 << 20).value(), before);
  EXPECT_EQ(wallet_->Info().certificates[0].counters_used, 0u);
}

// ---- Funding choice

TEST_F(WalletTest, FundingPrefersTheCertificateExpiringSoonest) {
  Install(1, 10, [](offline::DeviceCertificate& c) { c.valid_until = kNow + 2 * kDayMs; });
  Install(2, 100);  // expires a day earlier
  Install(3, 200, [](offline::DeviceCertificate& c) { c.asset = 2; });
  auto paid = wallet_->Pay(Request(100), {}, kNow);
  ASSERT_TRUE(paid.ok());
  EXPECT_EQ(paid->serial, 2u);
  auto candidates = wallet_->Candidates(Request(100), {}, kNow);
  ASSERT_TRUE(candidates.ok());
  ASSERT_EQ(candidates->size(), 2u);  // the asset-2 certificate is not a candidate
  EXPECT_EQ((*candidates)[0].serial, 2u);
  EXPECT_EQ((*candidates)[1].serial, 1u);
}

TEST_F(WalletTest, FundingSkipsCertificatesThatCannotPayAndSaysWhy) {
  Install(1, 10, [](offline::DeviceCertificate& c) { c.valid_until = kNow + 2 * kDayMs; });
  Install(2, 100, [](offline::DeviceCertificate& c) { c.payment_count_max = 1; });
  ASSERT_EQ(wallet_->Pay(Request(100), {}, kNow)->serial, 2u);
  auto candidates = wallet_->Candidates(Request(100), {}, kNow);
  ASSERT_TRUE(candidates.ok());
  EXPECT_EQ((*candidates)[0].verdict, WalletError::counters_exhausted);
  EXPECT_FALSE((*candidates)[0].detail.empty());
  EXPECT_EQ((*candidates)[1].verdict, WalletError::ok);
  ASSERT_EQ(wallet_->Pay(Request(100), {}, kNow)->serial, 1u);
}

TEST_F(WalletTest, WhenNoneCanPayThePreferredCertificatesReasonIsReported) {
  Install(1, 10, [](offline::DeviceCertificate& c) { c.valid_until = kNow + 2 * kDayMs; });
  Install(2, 100);
  EXPECT_EQ(PayError(Request(2000), PayOptions{true, std::nullopt}),
            WalletError::over_per_payment_max);
  EXPECT_EQ(PayError(Request(100), {}, kNow + kDayMs), WalletError::ok);  // 2 expired, 1 pays
  EXPECT_EQ(PayError(Request(100), {}, kNow + 3 * kDayMs), WalletError::certificate_expired);
}

TEST_F(WalletTest, AnExplicitSerialOverridesTheFundingRule) {
  Install(1, 10, [](offline::DeviceCertificate& c) { c.valid_until = kNow + 2 * kDayMs; });
  Install(2, 100);
  auto paid = wallet_->Pay(Request(100), PayOptions{false, 1}, kNow);
  ASSERT_TRUE(paid.ok());
  EXPECT_EQ(paid->serial, 1u);
  EXPECT_EQ(paid->counter, 10u);
}

TEST_F(WalletTest, CountersStayUniqueAcrossCertificates) {
  Install(1, 10, [](offline::DeviceCertificate& c) { c.valid_until = kNow + 2 * kDayMs; });
  Install(2, 100);
  ReleasedTokens released;
  for (int i = 0; i < 10; ++i) {
    auto paid = wallet_->Pay(Request(100), {}, kNow);
    ASSERT_TRUE(paid.ok()) << i << ": " << paid.error().Message();
    released.Add(paid->token);
  }
  EXPECT_EQ(PayError(Request(100)), WalletError::counters_exhausted);
}

// ---- Installing certificates

TEST_F(WalletTest, CertificatesNeedAPinnedIssuer) {
  SeededRandom random(4);
  storage::SimulatedStorage other(random);
  auto unpinned = Wallet::Create(other, Pass(), FastOptions()).value();
  const auto bytes = issuer_.Sign(issuer_.CertificateFor(*unpinned, 1, 10));
  EXPECT_EQ(unpinned->InstallCertificate(bytes).error().code, WalletError::issuer_not_pinned);
  ASSERT_TRUE(unpinned->PinIssuer(issuer_.pin()).ok());
  ASSERT_TRUE(unpinned->PinIssuer(issuer_.pin()).ok());  // the same key again is fine
  EXPECT_EQ(unpinned->PinIssuer(Issuer(9).pin()).error().code, WalletError::issuer_already_pinned);
  EXPECT_TRUE(unpinned->InstallCertificate(bytes).ok());
}

TEST_F(WalletTest, CertificatesFromAnotherIssuerAreRefused) {
  const Issuer other_key_id(7, 4);  // same key, another id
  offline::DeviceCertificate c = other_key_id.CertificateFor(*wallet_, 1, 10);
  EXPECT_EQ(InstallError(other_key_id.Sign(c)), WalletError::unknown_issuer_key);
  const Issuer impostor(9, 3);  // the pinned id, another key
  EXPECT_EQ(InstallError(impostor.Sign(issuer_.CertificateFor(*wallet_, 1, 10))),
            WalletError::bad_certificate_signature);
  std::vector<uint8_t> tampered = issuer_.Sign(issuer_.CertificateFor(*wallet_, 1, 10));
  tampered[104] ^= 1;  // allowance
  EXPECT_EQ(InstallError(tampered), WalletError::bad_certificate_signature);
  EXPECT_TRUE(wallet_->Info().certificates.empty());
}

TEST_F(WalletTest, AnotherDevicesCertificateIsRefused) {
  offline::DeviceCertificate c = issuer_.CertificateFor(*wallet_, 1, 10);
  c.device_id += 1;
  EXPECT_EQ(InstallError(issuer_.Sign(c)), WalletError::wrong_device);
  c = issuer_.CertificateFor(*wallet_, 1, 10);
  c.device_public_key[0] ^= 1;
  EXPECT_EQ(InstallError(issuer_.Sign(c)), WalletError::wrong_device);
}

TEST_F(WalletTest, ReinstallingIsANoOpAndAConflictingSerialIsRefused) {
  Install(1, 10);
  offline::DeviceCertificate c = issuer_.CertificateFor(*wallet_, 1, 10);
  auto again = wallet_->InstallCertificate(issuer_.Sign(c));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_installed);
  c.allowance = Amount::FromMinor(4000);
  EXPECT_EQ(InstallError(issuer_.Sign(c)), WalletError::serial_conflict);
}

TEST_F(WalletTest, CounterRangesMustLieAboveEveryRangeHeldBefore) {
  Install(1, 10);  // counters 10..14
  EXPECT_EQ(InstallError(issuer_.Sign(issuer_.CertificateFor(*wallet_, 2, 14))),
            WalletError::counter_range_reused);
  EXPECT_EQ(InstallError(issuer_.Sign(issuer_.CertificateFor(*wallet_, 2, 1))),
            WalletError::counter_range_reused);
  EXPECT_EQ(InstallError(issuer_.Sign(issuer_.CertificateFor(*wallet_, 2, 15))), WalletError::ok);
  EXPECT_EQ(wallet_->Info().counter_high_water, 19u);
}

TEST_F(WalletTest, CounterFirstZeroIsRefused) {
  // last_counter_used would have no value for "none used" (counter_first - 1).
  EXPECT_EQ(InstallError(issuer_.Sign(issuer_.CertificateFor(*wallet_, 1, 0))),
            WalletError::counter_range_reused);
}

TEST_F(WalletTest, TheNumberOfCertificatesIsBounded) {
  for (uint64_t i = 0; i < kCertificatesMax; ++i) Install(i + 1, 10 + 10 * i);
  EXPECT_EQ(InstallError(issuer_.Sign(issuer_.CertificateFor(*wallet_, 99, 1000))),
            WalletError::too_many_certificates);
}

TEST_F(WalletTest, ACertificateNamingAHeldPredecessorReplacesIt) {
  Install(1, 10);
  offline::DeviceCertificate next = issuer_.CertificateFor(*wallet_, 2, 15);
  next.previous_serial = 1;
  auto installed = wallet_->InstallCertificate(issuer_.Sign(next));
  ASSERT_TRUE(installed.ok());
  EXPECT_EQ(installed->replaced_serial, std::optional<uint64_t>(1));
  ASSERT_EQ(wallet_->Info().certificates.size(), 1u);
  EXPECT_EQ(wallet_->Info().certificates[0].certificate.serial, 2u);
}

TEST_F(WalletTest, HostileCertificateBytesAreRefusedPrecisely) {
  const std::vector<uint8_t> good = issuer_.Sign(issuer_.CertificateFor(*wallet_, 1, 10));
  for (size_t length = 0; length < good.size(); ++length) {
    EXPECT_EQ(InstallError(std::span(good).first(length)), WalletError::malformed_certificate);
  }
  std::vector<uint8_t> longer = good;
  longer.resize(10'000, 0xff);
  EXPECT_EQ(InstallError(longer), WalletError::malformed_certificate);
  EXPECT_EQ(InstallError(Request(100)), WalletError::malformed_certificate);  // wrong type
  for (size_t i = 0; i < good.size(); ++i) {  // every single-byte change
    std::vector<uint8_t> flipped = good;
    flipped[i] ^= 0x40;
    EXPECT_NE(InstallError(flipped), WalletError::ok) << "byte " << i;
  }
  SeededRandom random(6);
  for (int i = 0; i < 200; ++i) {
    std::vector<uint8_t> garbage(random.Uniform(2) == 0 ? good.size() : random.Uniform(600));
    random.Fill(garbage);
    EXPECT_NE(InstallError(garbage), WalletError::ok);
  }
  EXPECT_TRUE(wallet_->Info().certificates.empty());
}

// ---- Sync

TEST(SyncRequestBytesTest, LayoutIsDeviceIdSerialAndLastCounterLittleEndian) {
  const u128 device = MakeU128(0x0102030405060708, 0x090a0b0c0d0e0f10);
  const std::vector<uint8_t> bytes =
      SyncRequestBytes(device, 0x1112131415161718, 0x2122232425262728);
  const std::vector<uint8_t> expected = {
      0x10, 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09,  // device_id, low 64 bits first
      0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // device_id, high 64 bits
      0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,  // serial
      0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21,  // last_counter_used
  };
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(bytes.size(), kSyncRequestBytes);
  EXPECT_EQ(kSyncRequestDomain, "tpwallet/v1/sync-request");
}

TEST_F(WalletTest, SyncRequestIsSignedByTheDeviceAndDeclaresTheLastCounter) {
  Install(1, 10);
  ASSERT_TRUE(wallet_->Pay(Request(100), {}, kNow).ok());
  ASSERT_TRUE(wallet_->Pay(Request(200), {}, kNow).ok());
  auto request = wallet_->MakeSyncRequest(std::nullopt);
  ASSERT_TRUE(request.ok()) << request.error().Message();
  EXPECT_EQ(request->serial, 1u);
  EXPECT_EQ(request->last_counter_used, 11u);
  EXPECT_EQ(request->spent, Amount::FromMinor(300));
  EXPECT_EQ(request->signed_bytes, SyncRequestBytes(wallet_->device_id(), 1, 11));
  EXPECT_TRUE(crypto::Verify(wallet_->device_public_key(), kSyncRequestDomain,
                             request->signed_bytes, request->signature));
  EXPECT_EQ(request->Encode().size(), 96u);
  EXPECT_TRUE(wallet_->Info().certificates[0].sync_pending);
  auto again = wallet_->MakeSyncRequest(1);  // repeatable: the same declaration
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Encode(), request->Encode());
}

TEST_F(WalletTest, SyncRequestWithNoneUsedDeclaresCounterFirstMinusOne) {
  Install(1, 10);
  EXPECT_EQ(wallet_->MakeSyncRequest(1)->last_counter_used, 9u);
}

TEST_F(WalletTest, SyncRequestNeedsAnUnambiguousCertificate) {
  EXPECT_EQ(wallet_->MakeSyncRequest(std::nullopt).error().code, WalletError::no_certificate);
  Install(1, 10);
  Install(2, 100);
  EXPECT_EQ(wallet_->MakeSyncRequest(std::nullopt).error().code,
            WalletError::ambiguous_certificate);
  EXPECT_EQ(wallet_->MakeSyncRequest(3).error().code, WalletError::unknown_serial);
}

TEST_F(WalletTest, ASyncStatementReplacesTheCertificateAndResetsCounters) {
  const offline::DeviceCertificate old = Install(1, 10);
  ASSERT_TRUE(wallet_->Pay(Request(100), {}, kNow).ok());
  auto request = wallet_->MakeSyncRequest(1);
  ASSERT_TRUE(request.ok());
  const auto statement =
      issuer_.Statement(old, issuer_.CertificateFor(*wallet_, 2, 15), request->last_counter_used);
  auto installed = wallet_->InstallSyncStatement(statement);
  ASSERT_TRUE(installed.ok()) << installed.error().Message();
  EXPECT_EQ(installed->serial, 2u);
  EXPECT_EQ(installed->replaced_serial, std::optional<uint64_t>(1));
  const WalletInfo info = wallet_->Info();
  ASSERT_EQ(info.certificates.size(), 1u);
  EXPECT_EQ(info.certificates[0].counters_used, 0u);
  EXPECT_EQ(info.certificates[0].spent, Amount::Zero());
  EXPECT_FALSE(info.certificates[0].sync_pending);
  auto paid = wallet_->Pay(Request(100), {}, kNow);
  ASSERT_TRUE(paid.ok()) << paid.error().Message();
  EXPECT_EQ(paid->counter, 15u);
  EXPECT_EQ(paid->serial, 2u);
  auto again = wallet_->InstallSyncStatement(statement);  // a repeated delivery
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_installed);
}

TEST_F(WalletTest, SyncStatementsAreCheckedBeforeAnythingChanges) {
  const offline::DeviceCertificate old = Install(1, 10);
  ASSERT_TRUE(wallet_->Pay(Request(100), {}, kNow).ok());  // last counter used: 10
  auto install = [&](std::span<const uint8_t> bytes) {
    auto installed = wallet_->InstallSyncStatement(bytes);
    return installed.ok() ? WalletError::ok : installed.error().code;
  };
  const offline::DeviceCertificate next = issuer_.CertificateFor(*wallet_, 2, 15);
  EXPECT_EQ(install(issuer_.Statement(old, next, 9)), WalletError::sync_mismatch);
  offline::DeviceCertificate unknown_old = old;
  unknown_old.serial = 5;
  EXPECT_EQ(install(issuer_.Statement(unknown_old, next, 10)),
            WalletError::unknown_previous_certificate);
  EXPECT_EQ(install(Issuer(9, 3).Statement(old, next, 10)),
            WalletError::bad_sync_statement_signature);
  std::vector<uint8_t> good = issuer_.Statement(old, next, 10);
  for (size_t length = 0; length < good.size(); length += 7) {
    EXPECT_EQ(install(std::span(good).first(length)), WalletError::malformed_sync_statement);
  }
  EXPECT_EQ(install(Request(1)), WalletError::malformed_sync_statement);
  offline::DeviceCertificate reused = issuer_.CertificateFor(*wallet_, 2, 12);
  EXPECT_EQ(install(issuer_.Statement(old, reused, 10)), WalletError::counter_range_reused);
  EXPECT_EQ(wallet_->Info().certificates[0].certificate.serial, 1u);
  EXPECT_EQ(install(good), WalletError::ok);
}

// ---- Error codes

TEST(WalletErrorTest, EveryCodeHasADistinctNameAndAMessage) {
  std::set<std::string_view> names;
#define TPW_X(name, value, message)                            \
  EXPECT_EQ(WalletErrorName(WalletError::name), #name);        \
  EXPECT_FALSE(WalletErrorMessage(WalletError::name).empty()); \
  EXPECT_TRUE(names.insert(WalletErrorName(WalletError::name)).second);
  TPW_WALLET_ERRORS(TPW_X)
#undef TPW_X
  const WalletFailure failure{WalletError::pin_required, "amount 600"};
  EXPECT_EQ(failure.Message(),
            "pin_required: the amount is above the PIN threshold and the PIN was not verified "
            "(amount 600)");
}

}  // namespace
}  // namespace tpw::wallet
