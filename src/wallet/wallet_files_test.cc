// The wallet's files as hostile input: every truncation and byte flip of the state file and the
// keystore, files swapped between wallets, and states that checksum fine but break an invariant.
// Each must give a clear error on Open, never a crash and never a wallet that guesses.
#include <gtest/gtest.h>

#include "common/clock.h"
#include "storage/simulated_storage.h"
#include "wallet/test_util.h"
#include "wallet/wallet.h"
#include "wallet/wallet_state.h"

namespace tpw::wallet {
namespace {

using namespace test_support;

class WalletFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CreateOptions options = FastOptions();
    options.issuer = issuer_.pin();
    auto wallet = Wallet::Create(storage_, Pass(), options).value();
    auto certificate = issuer_.Sign(issuer_.CertificateFor(*wallet, 1, 10));
    ASSERT_TRUE(wallet->InstallCertificate(certificate).ok());
    ASSERT_TRUE(wallet->Pay(Request(100), {}, kNow).ok());
    state_ = Read(kStateFileName);
    keystore_ = Read(kKeystoreFileName);
  }

  std::vector<uint8_t> Read(std::string_view name) {
    return storage_.ReadFile(name, 1 << 20).value();
  }
  void Write(std::string_view name, std::span<const uint8_t> bytes) {
    ASSERT_TRUE(storage_.WriteFileAtomically(name, bytes).ok());
  }
  WalletError OpenError() {
    auto opened = Wallet::Open(storage_, Pass());
    return opened.ok() ? WalletError::ok : opened.error().code;
  }
  // A state that checksums fine: what a buggy writer, not a bad disk, would leave.
  void WriteState(void (*change)(Wallet::State&)) {
    Wallet::State state = DecodeState(state_).value();
    change(state);
    Write(kStateFileName, EncodeState(state));
  }

  SeededRandom random_{21};
  storage::SimulatedStorage storage_{random_};
  Issuer issuer_;
  std::vector<uint8_t> state_;
  std::vector<uint8_t> keystore_;
};

TEST_F(WalletFilesTest, TheStateFileRoundTrips) {
  auto decoded = DecodeState(state_);
  ASSERT_TRUE(decoded.ok()) << decoded.error().Message();
  EXPECT_EQ(EncodeState(decoded.value()), state_);
  EXPECT_EQ(state_.size(), kStateHeaderBytes + kStateEntryBytes + kStateChecksumBytes);
  EXPECT_EQ(OpenError(), WalletError::ok);
}

TEST_F(WalletFilesTest, EveryTruncationOfTheStateIsCorrupt) {
  for (size_t length = 0; length < state_.size(); ++length) {
    auto decoded = DecodeState(std::span(state_).first(length));
    ASSERT_FALSE(decoded.ok()) << length;
    EXPECT_EQ(decoded.error().code, WalletError::corrupt_state);
  }
  Write(kStateFileName, std::span(state_).first(100));
  EXPECT_EQ(OpenError(), WalletError::corrupt_state);
}

TEST_F(WalletFilesTest, EveryByteFlipOfTheStateIsCorrupt) {
  for (size_t i = 0; i < state_.size(); ++i) {
    std::vector<uint8_t> flipped = state_;
    flipped[i] ^= 0x01;
    auto decoded = DecodeState(flipped);
    ASSERT_FALSE(decoded.ok()) << "byte " << i;
    EXPECT_EQ(decoded.error().code, WalletError::corrupt_state);
  }
  std::vector<uint8_t> flipped = state_;
  flipped[200] ^= 0x80;
  Write(kStateFileName, flipped);
  auto opened = Wallet::Open(storage_, Pass());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, WalletError::corrupt_state);
  EXPECT_NE(opened.error().Message().find("checksum"), std::string::npos)
      << opened.error().Message();
  EXPECT_NE(opened.error().Message().find("wallet.state"), std::string::npos);
}

TEST_F(WalletFilesTest, GarbageAndOversizedStatesAreCorrupt) {
  SeededRandom random(22);
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> garbage(random.Uniform(kStateBytesMax + 100));
    random.Fill(garbage);
    if (random.Chance(1, 2) && garbage.size() >= kStateMagic.size()) {
      std::copy(kStateMagic.begin(), kStateMagic.end(), garbage.begin());
    }
    auto decoded = DecodeState(garbage);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().code, WalletError::corrupt_state);
  }
  std::vector<uint8_t> huge(1 << 16, 0);
  Write(kStateFileName, huge);
  EXPECT_EQ(OpenError(), WalletError::corrupt_state);
}

TEST_F(WalletFilesTest, AMissingStateFileIsCorruptNotANewWallet) {
  ASSERT_TRUE(storage_.Remove(kStateFileName).ok());
  EXPECT_EQ(OpenError(), WalletError::corrupt_state);
}

TEST_F(WalletFilesTest, AMissingKeystoreIsNoWallet) {
  ASSERT_TRUE(storage_.Remove(kKeystoreFileName).ok());
  EXPECT_EQ(OpenError(), WalletError::no_wallet);
}

TEST_F(WalletFilesTest, EveryKeystoreDamageIsRefused) {
  for (size_t length = 0; length < keystore_.size(); length += 5) {
    Write(kKeystoreFileName, std::span(keystore_).first(length));
    EXPECT_EQ(OpenError(), WalletError::corrupt_keystore) << length;
  }
  for (size_t i = 0; i < keystore_.size(); ++i) {
    std::vector<uint8_t> flipped = keystore_;
    flipped[i] ^= 0x01;
    Write(kKeystoreFileName, flipped);
    const WalletError error = OpenError();
    EXPECT_TRUE(error == WalletError::corrupt_keystore || error == WalletError::wrong_passphrase)
        << "byte " << i << ": " << WalletErrorName(error);
  }
  std::vector<uint8_t> huge(crypto::kKeystoreBytesMax + 1, 0);
  Write(kKeystoreFileName, huge);
  EXPECT_EQ(OpenError(), WalletError::corrupt_keystore);
}

TEST_F(WalletFilesTest, AnotherWalletsStateIsRefused) {
  SeededRandom random(23);
  storage::SimulatedStorage other(random);
  ASSERT_TRUE(Wallet::Create(other, Pass(), FastOptions()).ok());
  Write(kStateFileName, other.ReadFile(kStateFileName, 1 << 20).value());
  EXPECT_EQ(OpenError(), WalletError::keystore_state_mismatch);
}

TEST_F(WalletFilesTest, StatesThatBreakAnInvariantAreRefused) {
  WriteState([](Wallet::State& s) { s.certificates[0].counters_used = 6; });
  EXPECT_EQ(OpenError(), WalletError::corrupt_state);
  WriteState([](Wallet::State& s) { s.certificates[0].spent = Amount::FromMinor(3001); });
  EXPECT_EQ(OpenError(), WalletError::corrupt_state);
  WriteState([](Wallet::State& s) { s.counter_high_water = 13; });
  EXPECT_EQ(OpenError(), WalletError::corrupt_state);
  WriteState([](Wallet::State& s) { s.certificates[0].certificate.device_id += 1; });
  EXPECT_EQ(OpenError(), WalletError::corrupt_state);
  WriteState([](Wallet::State& s) { s.certificates.push_back(s.certificates[0]); });
  EXPECT_EQ(OpenError(), WalletError::corrupt_state);  // serials not ascending
  WriteState([](Wallet::State& s) {
    s.certificates[0].counters_used = 0;
    s.certificates[0].spent = Amount::FromMinor(1);
  });
  EXPECT_EQ(OpenError(), WalletError::corrupt_state);
  WriteState([](Wallet::State&) {});
  EXPECT_EQ(OpenError(), WalletError::ok);
}

}  // namespace
}  // namespace tpw::wallet
