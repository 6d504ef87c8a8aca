// Test-only helpers for the terminal tests: an issuer and wallet devices with real Ed25519 keys
// (deterministic seeds), built on the offline codecs and crypto directly, so these tests do not
// depend on a wallet library.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "crypto/keystore.h"
#include "crypto/sign.h"
#include "offline/messages.h"
#include "terminal/terminal.h"

namespace tpw::terminal::testing {

inline constexpr uint64_t kNow = 1'700'000'000'000;  // ms
inline constexpr uint64_t kDayMs = 86'400'000;
inline constexpr uint32_t kAsset = 1;
inline constexpr uint32_t kIssuerKeyId = 7;
inline constexpr u128 kTerminalId = 5001;
inline constexpr u128 kMerchantId = 9001;

inline crypto::SecretKey KeyFromByte(uint8_t byte) {
  std::array<uint8_t, crypto::kSigningSeedBytes> seed{};
  seed.fill(byte);
  seed[0] = 0x5e;  // never an all-equal seed by accident
  return crypto::SigningKeyFromSeed(seed);
}

inline crypto::Passphrase TestPassphrase(std::string_view text = "terminal passphrase") {
  auto passphrase = crypto::Passphrase::Copy(text);
  TPW_ASSERT(passphrase.ok());
  return std::move(passphrase).value();
}

inline TerminalOptions FastOptions() {
  TerminalOptions options;
  options.kdf = crypto::kKdfFastInsecureForTests;
  return options;
}

// Signs the certificate in place with `key` (the issuer's or, for tests, someone else's).
inline void SignCertificate(offline::DeviceCertificate& cert, const crypto::SecretKey& key) {
  const std::vector<uint8_t> bytes = offline::Encode(cert);
  cert.signature =
      crypto::Sign(key, offline::kCertificateDomain,
                   offline::SignedPart(bytes, offline::MessageType::device_certificate))
          .bytes;
}

// Encodes the token with a fresh signature by `key`.
inline std::vector<uint8_t> SignToken(offline::PaymentToken token, const crypto::SecretKey& key) {
  std::vector<uint8_t> bytes = offline::Encode(token);
  token.signature = crypto::Sign(key, offline::kTokenDomain,
                                 offline::SignedPart(bytes, offline::MessageType::payment_token))
                        .bytes;
  return offline::Encode(token);
}

// A wallet device: its key, its certificate and its counter.
struct TestDevice {
  u128 device_id = 0;
  crypto::SecretKey key;
  offline::DeviceCertificate certificate;
  uint64_t next_counter = 0;
  offline::Bytes32 previous_hash{};

  // The token answering `request` (unsigned), with the next counter.
  offline::PaymentToken Draft(const offline::PaymentRequest& request,
                              offline::Cvm cvm = offline::Cvm::pin) {
    offline::PaymentToken t;
    t.cvm = cvm;
    t.asset = request.asset;
    t.certificate = certificate;
    t.counter = next_counter++;
    t.amount = request.amount;
    t.merchant_id = request.merchant_id;
    t.terminal_id = request.terminal_id;
    t.nonce = request.nonce;
    t.terminal_time = request.terminal_time;
    t.device_time = request.terminal_time + 17;
    t.previous_token_hash = previous_hash;
    return t;
  }
  std::vector<uint8_t> Sign(const offline::PaymentToken& token) {
    std::vector<uint8_t> bytes = SignToken(token, key);
    previous_hash = crypto::Blake2b256(bytes);
    return bytes;
  }
  // Pays `request_bytes` (the terminal's encoded request) the honest way.
  std::vector<uint8_t> Pay(std::span<const uint8_t> request_bytes,
                           offline::Cvm cvm = offline::Cvm::pin) {
    auto request = offline::DecodeRequest(request_bytes);
    TPW_ASSERT(request.ok());
    return Sign(Draft(request.value(), cvm));
  }
};

struct CertificateShape {
  uint32_t payment_count_max = 100;
  uint64_t counter_first = 1000;
  Amount per_payment_max = Amount::FromMinor(10'000);
  Amount cvm_threshold = Amount::FromMinor(5'000);
  uint64_t valid_from = kNow - kDayMs;
  uint64_t valid_until = kNow + 30 * kDayMs;
  uint32_t asset = kAsset;
};

// The issuer: certifies devices and signs deny lists with its pinned key.
struct TestIssuer {
  uint32_t key_id = kIssuerKeyId;
  crypto::SecretKey key = KeyFromByte(0x11);
  uint64_t next_serial = 1;

  std::map<uint32_t, crypto::PublicKey> PinnedKeys() const { return {{key_id, key.public_key()}}; }

  std::unique_ptr<TestDevice> NewDevice(u128 device_id, const CertificateShape& shape = {}) {
    auto device = std::make_unique<TestDevice>(TestDevice{
        device_id, KeyFromByte(static_cast<uint8_t>(device_id)), {}, shape.counter_first, {}});
    offline::DeviceCertificate& c = device->certificate;
    c.issuer_key_id = key_id;
    c.serial = next_serial++;
    c.device_id = device_id;
    c.device_public_key = device->key.public_key().bytes;
    c.reserve_account_id = device_id + 100'000;
    c.asset = shape.asset;
    c.payment_count_max = shape.payment_count_max;
    c.per_payment_max = shape.per_payment_max;
    c.allowance = Amount::FromMinor(shape.per_payment_max.minor() * shape.payment_count_max);
    c.counter_first = shape.counter_first;
    c.cvm_threshold = shape.cvm_threshold;
    c.valid_from = shape.valid_from;
    c.valid_until = shape.valid_until;
    SignCertificate(c, key);
    return device;
  }

  std::vector<uint8_t> DenyList(uint64_t version, uint64_t issued_ms, uint64_t max_age_ms,
                                std::vector<u128> ids, bool delta = false,
                                uint64_t base_version = 0) const {
    offline::DenyList list;
    list.delta = delta;
    list.issuer_key_id = key_id;
    list.list_version = version;
    list.base_version = base_version;
    list.issued = issued_ms;
    list.max_age = max_age_ms;
    list.device_ids = std::move(ids);
    std::vector<uint8_t> bytes = offline::Encode(list);
    const std::string_view domain =
        delta ? offline::kDenyListDeltaDomain : offline::kDenyListDomain;
    list.signature =
        crypto::Sign(key, domain, offline::SignedPart(bytes, offline::MessageType::deny_list))
            .bytes;
    return offline::Encode(list);
  }
  std::vector<uint8_t> Delta(uint64_t version, uint64_t base_version, uint64_t issued_ms,
                             uint64_t max_age_ms, std::vector<u128> ids) const {
    return DenyList(version, issued_ms, max_age_ms, std::move(ids), true, base_version);
  }
};

inline TerminalIdentity TestIdentity(const TestIssuer& issuer) {
  return TerminalIdentity{TerminalId(kTerminalId), MerchantId(kMerchantId), issuer.PinnedKeys()};
}

// Every token id in an encoded batch, in order (asserts it decodes).
inline std::vector<TokenId> BatchTokenIds(std::span<const uint8_t> batch_bytes) {
  std::vector<TokenId> ids;
  auto batch = offline::DecodeBatch(batch_bytes);
  EXPECT_TRUE(batch.ok()) << batch.error().Message();
  if (!batch.ok()) return ids;
  for (const offline::PaymentToken& token : batch.value().tokens) {
    ids.push_back(crypto::Blake2b256(offline::Encode(token)));
  }
  return ids;
}

}  // namespace tpw::terminal::testing
