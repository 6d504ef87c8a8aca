// Offline message layouts: exact sizes and round trips, and hostile input — every truncation,
// every single-byte change of a fixed field, oversized and random input — must decode to a
// precise error or to a message, never crash or over-allocate.
#include "offline/messages.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace tpw::offline {
namespace {

DeviceCertificate SampleCertificate() {
  DeviceCertificate c;
  c.issuer_key_id = 7;
  c.serial = 42;
  c.device_id = MakeU128(1, 2);
  c.device_public_key.fill(0xab);
  c.reserve_account_id = MakeU128(3, 4);
  c.asset = 1;
  c.payment_count_max = 10;
  c.per_payment_max = Amount::FromMinor(5000);
  c.allowance = Amount::FromMinor(20000);
  c.counter_first = 100;
  c.cvm_threshold = Amount::FromMinor(2500);
  c.valid_from = 1'700'000'000'000;
  c.valid_until = 1'700'086'400'000;
  c.previous_serial = 41;
  c.signature.fill(0x5a);
  return c;
}

PaymentToken SampleToken() {
  PaymentToken t;
  t.cvm = Cvm::pin;
  t.asset = 1;
  t.certificate = SampleCertificate();
  t.counter = 101;
  t.amount = Amount::FromMinor(1234);
  t.merchant_id = 77;
  t.terminal_id = 88;
  t.nonce.fill(0x11);
  t.terminal_time = 1'700'000'100'000;
  t.device_time = 1'700'000'100'123;
  t.previous_token_hash.fill(0x22);
  t.signature.fill(0x33);
  return t;
}

TEST(OfflineMessagesTest, LayoutsHaveTheDocumentedSizes) {
  EXPECT_EQ(Encode(SampleCertificate()).size(), kCertificateBytes);
  EXPECT_EQ(Encode(PaymentRequest{1, 2, 3, Amount::FromMinor(4), {}, 5, 6}).size(), kRequestBytes);
  EXPECT_EQ(Encode(SampleToken()).size(), kTokenBytes);
  TerminalBatch batch;
  batch.terminal_id = 88;
  batch.tokens = {SampleToken(), SampleToken()};
  EXPECT_EQ(Encode(batch).size(), kBatchHeaderBytes + 2 * kTokenBytes + kSignatureBytes);
}

TEST(OfflineMessagesTest, EveryMessageRoundTrips) {
  const auto certificate_bytes = Encode(SampleCertificate());
  auto certificate = DecodeCertificate(certificate_bytes);
  ASSERT_TRUE(certificate.ok()) << certificate.error().Message();
  EXPECT_EQ(Encode(certificate.value()), certificate_bytes);

  const auto token_bytes = Encode(SampleToken());
  auto token = DecodeToken(token_bytes);
  ASSERT_TRUE(token.ok()) << token.error().Message();
  EXPECT_EQ(Encode(token.value()), token_bytes);

  PaymentRequest request{1, 2, 3, Amount::FromMinor(4), {}, 5, 6};
  request.nonce.fill(9);
  auto decoded_request = DecodeRequest(Encode(request));
  ASSERT_TRUE(decoded_request.ok());
  EXPECT_EQ(Encode(decoded_request.value()), Encode(request));

  TerminalBatch batch;
  batch.terminal_id = 88;
  batch.batch_id.fill(4);
  batch.created = 99;
  batch.tokens = {SampleToken(), SampleToken()};
  batch.tokens[1].counter = 102;
  const auto batch_bytes = Encode(batch);
  auto decoded_batch = DecodeBatch(batch_bytes);
  ASSERT_TRUE(decoded_batch.ok()) << decoded_batch.error().Message();
  EXPECT_EQ(Encode(decoded_batch.value()), batch_bytes);

  DenyList list;
  list.issuer_key_id = 7;
  list.list_version = 3;
  list.issued = 1000;
  list.max_age = 86'400'000;
  list.device_ids = {1, 5, MakeU128(9, 0)};
  auto decoded_list = DecodeDenyList(Encode(list));
  ASSERT_TRUE(decoded_list.ok()) << decoded_list.error().Message();
  EXPECT_EQ(decoded_list.value().device_ids, list.device_ids);
  list.delta = true;
  list.base_version = 2;
  auto decoded_delta = DecodeDenyList(Encode(list));
  ASSERT_TRUE(decoded_delta.ok()) << decoded_delta.error().Message();
  EXPECT_TRUE(decoded_delta.value().delta);

  SyncStatement statement;
  statement.device_id = SampleCertificate().device_id;
  statement.certificate = SampleCertificate();
  statement.last_counter_used = 105;
  auto decoded_statement = DecodeSyncStatement(Encode(statement));
  ASSERT_TRUE(decoded_statement.ok()) << decoded_statement.error().Message();
  EXPECT_EQ(Encode(decoded_statement.value()), Encode(statement));
}

TEST(OfflineMessagesTest, EveryTruncationAndExtensionIsRejected) {
  const auto token = Encode(SampleToken());
  for (size_t length = 0; length < token.size(); ++length) {
    auto decoded = DecodeToken(std::span<const uint8_t>(token.data(), length));
    ASSERT_FALSE(decoded.ok()) << length;
    if (length >= 2) {
      EXPECT_EQ(decoded.error().code, DecodeErrorCode::truncated) << length;
    }
  }
  auto longer = token;
  longer.push_back(0);
  auto decoded = DecodeToken(longer);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, DecodeErrorCode::too_long);
}

TEST(OfflineMessagesTest, FieldsOutOfRangeAndReservedBytesAreRejectedWithTheirName) {
  DeviceCertificate bad = SampleCertificate();
  bad.payment_count_max = 0;
  auto decoded = DecodeCertificate(Encode(bad));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, DecodeErrorCode::field_out_of_range);
  EXPECT_NE(decoded.error().Message().find("payment_count_max"), std::string::npos);

  bad = SampleCertificate();
  bad.allowance = Amount::FromMinor(1);
  EXPECT_EQ(DecodeCertificate(Encode(bad)).error().code, DecodeErrorCode::field_out_of_range);

  bad = SampleCertificate();
  bad.counter_first = UINT64_MAX - 3;  // 10 counters do not fit
  EXPECT_EQ(DecodeCertificate(Encode(bad)).error().code, DecodeErrorCode::field_out_of_range);

  auto bytes = Encode(SampleToken());
  bytes[3] = 1;
  EXPECT_EQ(DecodeToken(bytes).error().code, DecodeErrorCode::reserved_not_zero);
  bytes = Encode(SampleToken());
  bytes[1] = 2;
  EXPECT_EQ(DecodeToken(bytes).error().code, DecodeErrorCode::unsupported_version);
  bytes = Encode(SampleToken());
  bytes[0] = 1;
  EXPECT_EQ(DecodeToken(bytes).error().code, DecodeErrorCode::wrong_type);
  bytes = Encode(SampleToken());
  bytes[8 + 2] = 1;  // the embedded certificate's reserved bytes
  auto nested = DecodeToken(bytes);
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().detail.find("embedded certificate"), std::string::npos);
}

TEST(OfflineMessagesTest, BatchCountsThatDisagreeWithTheSizeAreRejected) {
  TerminalBatch batch;
  batch.terminal_id = 88;
  batch.tokens = {SampleToken()};
  auto bytes = Encode(batch);
  for (const uint32_t count : {0u, 2u, kBatchTokensMax + 1, UINT32_MAX}) {
    auto copy = bytes;
    for (int i = 0; i < 4; ++i) copy[static_cast<size_t>(4 + i)] = static_cast<uint8_t>(count >> (8 * i));
    auto decoded = DecodeBatch(copy);
    ASSERT_FALSE(decoded.ok()) << count;
  }
}

TEST(OfflineMessagesTest, DenyListEntriesMustBeStrictlyAscending) {
  DenyList list;
  list.list_version = 1;
  list.max_age = 1000;
  list.device_ids = {5, 5};
  EXPECT_EQ(DecodeDenyList(Encode(list)).error().code, DecodeErrorCode::entries_not_sorted);
  list.device_ids = {6, 5};
  EXPECT_EQ(DecodeDenyList(Encode(list)).error().code, DecodeErrorCode::entries_not_sorted);
}

// Seeded fuzzing of every decoder: random bytes, and valid messages with random byte changes.
TEST(OfflineMessagesTest, RandomAndMutatedInputNeverCrashes) {
  SeededRandom random(20261123);
  const std::vector<std::vector<uint8_t>> seeds = {
      Encode(SampleCertificate()), Encode(SampleToken()),
      Encode(PaymentRequest{1, 2, 3, Amount::FromMinor(4), {}, 5, 6})};
  size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> input;
    if (i % 2 == 0) {
      input.resize(random.Uniform(600));
      for (uint8_t& b : input) b = static_cast<uint8_t>(random.NextU64());
      if (!input.empty()) input[0] = static_cast<uint8_t>(1 + random.Uniform(7));
      if (input.size() > 1) input[1] = 1;
    } else {
      input = seeds[random.Uniform(seeds.size())];
      const uint64_t flips = 1 + random.Uniform(4);
      for (uint64_t f = 0; f < flips; ++f) {
        input[random.Uniform(input.size())] = static_cast<uint8_t>(random.NextU64());
      }
    }
    accepted += DecodeCertificate(input).ok() ? 1u : 0u;
    accepted += DecodeToken(input).ok() ? 1u : 0u;
    accepted += DecodeRequest(input).ok() ? 1u : 0u;
    accepted += DecodeBatch(input).ok() ? 1u : 0u;
    accepted += DecodeDenyList(input).ok() ? 1u : 0u;
    accepted += DecodeSyncStatement(input).ok() ? 1u : 0u;
  }
  // Mutations of signatures and free-form fields still decode: decoding is not verification.
  EXPECT_GT(accepted, 0u);
}

}  // namespace
}  // namespace tpw::offline
