// Drives the C scenarios of wallet_c_test_scenario.c (compiled as C) on a real directory and
// checks what they produce with the C++ crypto and codecs.
#include "wallet/wallet_c.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/codec.h"
#include "storage/test_temp_dir.h"
#include "wallet/test_util.h"

extern "C" {
int tpw_c_test_create(const char* directory, uint32_t issuer_key_id,
                      const uint8_t* issuer_public_key, uint8_t* device_id, uint8_t* device_key);
int tpw_c_test_pay(const char* directory, const uint8_t* certificate, size_t certificate_len,
                   const uint8_t* request, size_t request_len, uint64_t now_ms, uint8_t* token,
                   size_t* token_len);
int tpw_c_test_declines(const char* directory, const uint8_t* request, size_t request_len,
                        uint64_t now_ms);
int tpw_c_test_sync_request(const char* directory, uint8_t* out, size_t* out_len);
int tpw_c_test_errors(const char* directory, const char* empty_directory);
}

namespace tpw::wallet {
namespace {

using namespace test_support;

TEST(WalletCApiTest, AppFlowFromC) {
  storage::TempDir temp;
  const std::string directory = temp.path() + "/wallet";
  const Issuer issuer;
  const IssuerKey pin = issuer.pin();
  uint8_t device_id_bytes[16];
  offline::Bytes32 device_key{};
  ASSERT_EQ(tpw_c_test_create(directory.c_str(), pin.key_id, pin.public_key.bytes.data(),
                              device_id_bytes, device_key.data()),
            0);
  BinaryReader reader(device_id_bytes);
  const u128 device_id = reader.U128();
  const offline::DeviceCertificate certificate =
      issuer.CertificateFor(device_id, device_key, 1, 10);
  const std::vector<uint8_t> certificate_bytes = issuer.Sign(certificate);
  const std::vector<uint8_t> request = Request(250);

  std::vector<uint8_t> token(1000);
  size_t token_len = token.size();
  ASSERT_EQ(tpw_c_test_pay(directory.c_str(), certificate_bytes.data(), certificate_bytes.size(),
                           request.data(), request.size(), kNow, token.data(), &token_len),
            0);
  token.resize(token_len);
  const offline::PaymentToken t = VerifiedToken(token);
  EXPECT_EQ(t.counter, 10u);  // the too-small buffer used no counter
  EXPECT_EQ(t.certificate.device_id, device_id);
  EXPECT_EQ(t.amount, Amount::FromMinor(250));

  ASSERT_EQ(tpw_c_test_declines(directory.c_str(), request.data(), request.size(), kNow), 0);

  std::vector<uint8_t> sync(TPW_WALLET_SYNC_REQUEST_BYTES);
  size_t sync_len = sync.size();
  ASSERT_EQ(tpw_c_test_sync_request(directory.c_str(), sync.data(), &sync_len), 0);
  const std::span<const uint8_t> signed_part = std::span(sync).first(kSyncRequestBytes);
  EXPECT_TRUE(std::equal(signed_part.begin(), signed_part.end(),
                         SyncRequestBytes(device_id, 1, 10).begin()));
  crypto::Signature signature;
  std::copy(sync.begin() + kSyncRequestBytes, sync.end(), signature.bytes.begin());
  EXPECT_TRUE(
      crypto::Verify(crypto::PublicKey{device_key}, kSyncRequestDomain, signed_part, signature));

  const std::string empty = temp.path() + "/missing";
  ASSERT_EQ(tpw_c_test_errors(directory.c_str(), empty.c_str()), 0);
  EXPECT_FALSE(std::filesystem::exists(empty));  // opening never creates a directory
}

TEST(WalletCApiTest, ResultCodesMatchTheCppEnum) {
  EXPECT_EQ(TPW_WALLET_ok, static_cast<int>(WalletError::ok));
  EXPECT_EQ(TPW_WALLET_pin_required, static_cast<int>(WalletError::pin_required));
  EXPECT_EQ(TPW_WALLET_ambiguous_certificate, static_cast<int>(WalletError::ambiguous_certificate));
  EXPECT_STREQ(tpw_wallet_error_message(TPW_WALLET_sync_pending),
               std::string(WalletErrorMessage(WalletError::sync_pending)).c_str());
}

}  // namespace
}  // namespace tpw::wallet
