// Test-only helpers for the wallet tests: an issuer that signs certificates and sync statements,
// payment requests, and checks on released tokens. Not part of tpw_wallet.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/hash.h"
#include "crypto/keystore.h"
#include "crypto/sign.h"
#include "offline/messages.h"
#include "wallet/wallet.h"

namespace tpw::wallet::test_support {

inline constexpr uint64_t kNow = 1'700'000'000'000;  // device clock in the tests (ms)
inline constexpr uint64_t kDayMs = 86'400'000;
inline constexpr uint32_t kAsset = 1;
inline constexpr crypto::KdfParams kFastKdf = crypto::kKdfFastInsecureForTests;

inline crypto::Passphrase Pass(std::string_view text = "correct horse") {
  auto passphrase = crypto::Passphrase::Copy(text);
  TPW_ASSERT(passphrase.ok());
  return std::move(passphrase).value();
}

inline CreateOptions FastOptions() {
  CreateOptions options;
  options.kdf = kFastKdf;
  return options;
}

class Issuer {
 public:
  explicit Issuer(uint8_t seed_byte = 7, uint32_t key_id = 3)
      : key_(MakeKey(seed_byte)), key_id_(key_id) {}

  IssuerKey pin() const { return IssuerKey{key_id_, key_.public_key()}; }
  uint32_t key_id() const { return key_id_; }

  // A certificate for `wallet` with sane limits; tests adjust fields before signing.
  offline::DeviceCertificate CertificateFor(const Wallet& wallet, uint64_t serial,
                                            uint64_t counter_first) const {
    return CertificateFor(wallet.device_id(), wallet.device_public_key().bytes, serial,
                          counter_first);
  }
  offline::DeviceCertificate CertificateFor(u128 device_id, const offline::Bytes32& device_key,
                                            uint64_t serial, uint64_t counter_first) const {
    offline::DeviceCertificate c;
    c.issuer_key_id = key_id_;
    c.serial = serial;
    c.device_id = device_id;
    c.device_public_key = device_key;
    c.reserve_account_id = 900;
    c.asset = kAsset;
    c.payment_count_max = 5;
    c.per_payment_max = Amount::FromMinor(1000);
    c.allowance = Amount::FromMinor(3000);
    c.counter_first = counter_first;
    c.cvm_threshold = Amount::FromMinor(500);
    c.valid_from = kNow - kDayMs;
    c.valid_until = kNow + kDayMs;
    return c;
  }

  std::vector<uint8_t> Sign(offline::DeviceCertificate c) const {
    c.signature.fill(0);
    std::vector<uint8_t> bytes = offline::Encode(c);
    const crypto::Signature s =
        crypto::Sign(key_, offline::kCertificateDomain,
                     offline::SignedPart(bytes, offline::MessageType::device_certificate));
    std::copy(s.bytes.begin(), s.bytes.end(), bytes.begin() + offline::kCertificateSignedBytes);
    return bytes;
  }

  // A signed statement replacing `old` with `next` (which is signed here too).
  std::vector<uint8_t> Statement(const offline::DeviceCertificate& old,
                                 offline::DeviceCertificate next,
                                 uint64_t last_counter_used) const {
    next.previous_serial = old.serial;
    auto certificate = offline::DecodeCertificate(Sign(next));
    TPW_ASSERT(certificate.ok());
    offline::SyncStatement m;
    m.issuer_key_id = key_id_;
    m.device_id = old.device_id;
    m.previous_serial = old.serial;
    m.last_counter_used = last_counter_used;
    m.issued = kNow;
    m.certificate = certificate.value();
    std::vector<uint8_t> bytes = offline::Encode(m);
    const crypto::Signature s =
        crypto::Sign(key_, offline::kSyncStatementDomain,
                     offline::SignedPart(bytes, offline::MessageType::sync_statement));
    std::copy(s.bytes.begin(), s.bytes.end(), bytes.begin() + offline::kSyncStatementSignedBytes);
    return bytes;
  }

 private:
  static crypto::SecretKey MakeKey(uint8_t seed_byte) {
    std::array<uint8_t, crypto::kSigningSeedBytes> seed{};
    seed.fill(seed_byte);
    return crypto::SigningKeyFromSeed(seed);
  }
  crypto::SecretKey key_;
  uint32_t key_id_;
};

inline std::vector<uint8_t> Request(u128 amount, uint32_t asset = kAsset, uint8_t nonce = 1) {
  offline::PaymentRequest r;
  r.asset = asset;
  r.merchant_id = 4242;
  r.terminal_id = 77;
  r.amount = Amount::FromMinor(amount);
  r.nonce.fill(nonce);
  r.terminal_time = kNow - 5;
  r.request_number = nonce;
  return offline::Encode(r);
}

// Checks that `token` is a well-formed token signed by its embedded certificate's device key.
inline offline::PaymentToken VerifiedToken(std::span<const uint8_t> token) {
  auto decoded = offline::DecodeToken(token);
  EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().Message());
  if (!decoded.ok()) return {};
  const offline::PaymentToken& t = decoded.value();
  EXPECT_TRUE(crypto::Verify(crypto::PublicKey{t.certificate.device_public_key},
                             offline::kTokenDomain,
                             offline::SignedPart(token, offline::MessageType::payment_token),
                             crypto::Signature{t.signature}));
  return t;
}

// Every token a wallet released in a test, to prove that no (device, counter) pair repeats.
class ReleasedTokens {
 public:
  void Add(std::span<const uint8_t> token) {
    const offline::PaymentToken t = VerifiedToken(token);
    const auto key = std::make_pair(t.certificate.device_id, t.counter);
    EXPECT_TRUE(counters_.insert(key).second) << "counter " << t.counter << " released twice";
    tokens_.emplace_back(token.begin(), token.end());
  }
  const std::vector<std::vector<uint8_t>>& tokens() const { return tokens_; }
  size_t size() const { return tokens_.size(); }

 private:
  std::set<std::pair<u128, uint64_t>> counters_;
  std::vector<std::vector<uint8_t>> tokens_;
};

}  // namespace tpw::wallet::test_support
