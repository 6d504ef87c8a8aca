// The terminal's journal records and state files: exact layouts, round trips, and hostile input
// (every truncation, flipped bytes, bad counts) decoding to a reason, never a crash.
#include "terminal/records.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace tpw::terminal {
namespace {

TokenAccepted SampleAccepted() {
  TokenAccepted r;
  r.accepted_ms = 1'700'000'000'123;
  for (size_t i = 0; i < r.token.size(); ++i) r.token[i] = static_cast<uint8_t>(i);
  return r;
}

BatchBuilt SampleBatch(size_t count) {
  BatchBuilt r;
  r.created_ms = 99;
  r.batch_id.fill(0x42);
  for (size_t i = 0; i < count; ++i) {
    TokenId id{};
    id.fill(static_cast<uint8_t>(i + 1));
    r.token_ids.push_back(id);
  }
  return r;
}

TerminalConfig SampleConfig() {
  TerminalConfig c;
  c.terminal_id = 5;
  c.merchant_id = 6;
  c.terminal_public_key.bytes.fill(0x77);
  crypto::PublicKey k;
  k.bytes.fill(0x01);
  c.issuer_keys[3] = k;
  k.bytes.fill(0x02);
  c.issuer_keys[9] = k;
  return c;
}

DenyListState SampleDeny() { return DenyListState{7, 12, 1000, 5000, {1, 5, MakeU128(1, 0)}}; }

TEST(TerminalRecordsTest, RecordsHaveTheDocumentedSizesAndRoundTrip) {
  const auto accepted = EncodeRecord(SampleAccepted());
  ASSERT_EQ(accepted.size(), kTokenAcceptedBytes);
  ASSERT_EQ(accepted.size(), 440u);
  auto a = DecodeTokenAccepted(accepted);
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a.value().accepted_ms, SampleAccepted().accepted_ms);
  EXPECT_EQ(a.value().token, SampleAccepted().token);

  TokenVoided voided{55, {}};
  voided.token_id.fill(9);
  const auto v_bytes = EncodeRecord(voided);
  ASSERT_EQ(v_bytes.size(), 48u);
  auto v = DecodeTokenVoided(v_bytes);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value().voided_ms, 55u);
  EXPECT_EQ(v.value().token_id, voided.token_id);

  const auto b_bytes = EncodeRecord(SampleBatch(3));
  ASSERT_EQ(b_bytes.size(), 32u + 3 * 32);
  auto b = DecodeBatchBuilt(b_bytes);
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(b.value().token_ids, SampleBatch(3).token_ids);
  EXPECT_EQ(b.value().batch_id, SampleBatch(3).batch_id);
  EXPECT_EQ(b.value().created_ms, 99u);

  BatchUploaded uploaded{77, {}};
  uploaded.batch_id.fill(3);
  const auto u_bytes = EncodeRecord(uploaded);
  ASSERT_EQ(u_bytes.size(), 32u);
  auto u = DecodeBatchUploaded(u_bytes);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value().uploaded_ms, 77u);
  EXPECT_EQ(u.value().batch_id, uploaded.batch_id);
}

TEST(TerminalRecordsTest, EveryTruncationAndExtensionIsRefused) {
  const std::vector<std::vector<uint8_t>> records = {
      EncodeRecord(SampleAccepted()), EncodeRecord(TokenVoided{}), EncodeRecord(SampleBatch(2)),
      EncodeRecord(BatchUploaded{})};
  for (size_t kind = 0; kind < records.size(); ++kind) {
    const auto& full = records[kind];
    auto decode = [kind](std::span<const uint8_t> b) -> bool {
      switch (kind) {
        case 0:
          return DecodeTokenAccepted(b).ok();
        case 1:
          return DecodeTokenVoided(b).ok();
        case 2:
          return DecodeBatchBuilt(b).ok();
        default:
          return DecodeBatchUploaded(b).ok();
      }
    };
    ASSERT_TRUE(decode(full)) << kind;
    for (size_t n = 0; n < full.size(); ++n) {
      EXPECT_FALSE(decode(std::span(full).first(n))) << "kind " << kind << " length " << n;
    }
    std::vector<uint8_t> longer = full;
    longer.push_back(0);
    EXPECT_FALSE(decode(longer)) << kind;
  }
}

TEST(TerminalRecordsTest, VersionAndReservedBytesAreChecked) {
  std::vector<uint8_t> bytes = EncodeRecord(SampleAccepted());
  bytes[0] = 2;
  auto wrong_version = DecodeTokenAccepted(bytes);
  ASSERT_FALSE(wrong_version.ok());
  EXPECT_NE(wrong_version.error().find("record version 2"), std::string::npos);
  for (size_t i = 1; i < 8; ++i) {
    bytes = EncodeRecord(SampleAccepted());
    bytes[i] = 1;
    EXPECT_FALSE(DecodeTokenAccepted(bytes).ok()) << i;
  }
  bytes = EncodeRecord(SampleBatch(1));
  bytes[2] = 1;
  EXPECT_FALSE(DecodeBatchBuilt(bytes).ok());
}

TEST(TerminalRecordsTest, BatchTokenCountIsBoundedBeforeAnyAllocation) {
  std::vector<uint8_t> bytes = EncodeRecord(SampleBatch(1));
  for (const uint32_t count : {0u, offline::kBatchTokensMax + 1, UINT32_MAX, 2u}) {
    bytes[4] = static_cast<uint8_t>(count);
    bytes[5] = static_cast<uint8_t>(count >> 8);
    bytes[6] = static_cast<uint8_t>(count >> 16);
    bytes[7] = static_cast<uint8_t>(count >> 24);
    auto decoded = DecodeBatchBuilt(bytes);
    EXPECT_FALSE(decoded.ok()) << count;
  }
  const auto biggest = EncodeRecord(SampleBatch(offline::kBatchTokensMax));
  EXPECT_TRUE(DecodeBatchBuilt(biggest).ok());
}

TEST(TerminalRecordsTest, StateFilesRoundTrip) {
  auto config = DecodeConfig(EncodeConfig(SampleConfig()));
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config.value().terminal_id, 5u);
  EXPECT_EQ(config.value().merchant_id, 6u);
  EXPECT_EQ(config.value().issuer_keys, SampleConfig().issuer_keys);
  EXPECT_EQ(config.value().terminal_public_key, SampleConfig().terminal_public_key);

  auto deny = DecodeDenyState(EncodeDenyState(SampleDeny()));
  ASSERT_TRUE(deny.ok()) << deny.error();
  EXPECT_EQ(deny.value().device_ids, SampleDeny().device_ids);
  EXPECT_EQ(deny.value().list_version, 12u);
  EXPECT_EQ(deny.value().issued_ms, 1000u);
  EXPECT_EQ(deny.value().max_age_ms, 5000u);
  EXPECT_EQ(deny.value().issuer_key_id, 7u);
  EXPECT_TRUE(DecodeDenyState(EncodeDenyState(DenyListState{})).ok());
}

TEST(TerminalRecordsTest, AnyChangedByteOrTruncationOfAStateFileIsRefused) {
  const std::vector<uint8_t> config = EncodeConfig(SampleConfig());
  const std::vector<uint8_t> deny = EncodeDenyState(SampleDeny());
  for (size_t i = 0; i < config.size(); ++i) {
    std::vector<uint8_t> bad = config;
    bad[i] ^= 0x20;
    EXPECT_FALSE(DecodeConfig(bad).ok()) << i;
    EXPECT_FALSE(DecodeConfig(std::span(config).first(i)).ok()) << i;
  }
  for (size_t i = 0; i < deny.size(); ++i) {
    std::vector<uint8_t> bad = deny;
    bad[i] ^= 0x20;
    EXPECT_FALSE(DecodeDenyState(bad).ok()) << i;
    EXPECT_FALSE(DecodeDenyState(std::span(deny).first(i)).ok()) << i;
  }
  std::vector<uint8_t> longer = deny;
  longer.push_back(0);
  EXPECT_FALSE(DecodeDenyState(longer).ok());
}

TEST(TerminalRecordsTest, RandomGarbageNeverDecodes) {
  SeededRandom random(2024);
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint8_t> bytes(random.Uniform(600));
    random.Fill(bytes);
    if (!bytes.empty()) bytes[0] = kRecordVersion;  // get past the first check sometimes
    (void)DecodeTokenAccepted(bytes);
    (void)DecodeTokenVoided(bytes);
    (void)DecodeBatchUploaded(bytes);
    (void)DecodeBatchBuilt(bytes);
    EXPECT_FALSE(DecodeConfig(bytes).ok());
    EXPECT_FALSE(DecodeDenyState(bytes).ok());
  }
}

}  // namespace
}  // namespace tpw::terminal
