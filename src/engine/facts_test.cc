// Fact records (docs/journal-format.md, "Engine facts"): every type round-trips, and hostile
// bytes — truncated, padded, miscounted, with non-zero reserved bytes, a foreign version, an
// unknown type, or random garbage — are rejected with an error, never a crash or a huge
// allocation. Whatever DecodeFact accepts re-encodes to exactly the same bytes (the encoding is
// canonical), which is how the fuzz loop notices a field that decoding ignores.
#include "engine/facts.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

#include "common/clock.h"
#include "common/test_seed.h"
#include "engine/engine_test_util.h"
#include "ledger/results.h"

namespace tpw::engine {
namespace {

using ledger::Account;
using ledger::CreateTransferResult;
using ledger::FailedTransfer;
using ledger::Transfer;
using testing::Describe;

constexpr uint16_t kAccounts = static_cast<uint16_t>(FactType::accounts_created);
constexpr uint16_t kTransfers = static_cast<uint16_t>(FactType::transfers_created);
constexpr uint16_t kFailures = static_cast<uint16_t>(FactType::transfers_failed);
constexpr uint16_t kExpired = static_cast<uint16_t>(FactType::transfers_expired);

u128 RandomU128(Random& random) { return MakeU128(random.NextU64(), random.NextU64()); }

Account RandomAccount(Random& random) {
  Account a;
  a.id = AccountId{RandomU128(random)};
  a.debits_pending = Amount::FromMinor(RandomU128(random));
  a.debits_posted = Amount::FromMinor(RandomU128(random));
  a.credits_pending = Amount::FromMinor(RandomU128(random));
  a.credits_posted = Amount::FromMinor(RandomU128(random));
  a.overdraft_limit = Amount::FromMinor(RandomU128(random));
  a.user_data_128 = RandomU128(random);
  a.user_data_64 = random.NextU64();
  a.user_data_32 = static_cast<uint32_t>(random.NextU64());
  a.ledger = static_cast<uint32_t>(random.NextU64());
  a.code = static_cast<uint16_t>(random.NextU64());
  a.flags = static_cast<uint16_t>(random.NextU64());
  a.timestamp = Timestamp{random.NextU64()};
  return a;
}

Transfer RandomTransfer(Random& random) {
  Transfer t;
  t.id = TransferId{RandomU128(random)};
  t.debit_account_id = AccountId{RandomU128(random)};
  t.credit_account_id = AccountId{RandomU128(random)};
  t.amount = Amount::FromMinor(RandomU128(random));
  t.pending_id = TransferId{RandomU128(random)};
  t.user_data_128 = RandomU128(random);
  t.user_data_64 = random.NextU64();
  t.user_data_32 = static_cast<uint32_t>(random.NextU64());
  t.timeout = static_cast<uint32_t>(random.NextU64());
  t.ledger = static_cast<uint32_t>(random.NextU64());
  t.code = static_cast<uint16_t>(random.NextU64());
  t.flags = static_cast<uint16_t>(random.NextU64());
  t.timestamp = Timestamp{random.NextU64()};
  return t;
}

bool SameAccount(const Account& a, const Account& b) { return Describe(a) == Describe(b); }
bool SameTransfer(const Transfer& a, const Transfer& b) { return Describe(a) == Describe(b); }

FactHeader HeaderFor(size_t count) {
  return FactHeader{1'700'000'000'000'000'000, 1'700'000'000'000'000'000 + 9000,
                    static_cast<uint32_t>(count)};
}

// One valid record of each type, with `count` items, for the hostile tests.
struct Sample {
  uint16_t type;
  size_t item_bytes;
  std::vector<uint8_t> bytes;
};

std::vector<Sample> ValidSamples(uint64_t seed, size_t count) {
  SeededRandom random(seed);
  std::vector<Sample> samples;
  std::vector<Account> accounts;
  std::vector<Transfer> transfers;
  std::vector<FailedTransfer> failed;
  std::vector<TransferId> expired;
  for (size_t i = 0; i < count; ++i) {
    accounts.push_back(RandomAccount(random));
    transfers.push_back(RandomTransfer(random));
    failed.push_back({TransferId{RandomU128(random)}, CreateTransferResult::exceeds_credits});
    expired.push_back(TransferId{RandomU128(random)});
  }
  Sample s{kAccounts, kAccountFactBytes, {}};
  EncodeAccountsFact(HeaderFor(count), accounts, s.bytes);
  samples.push_back(s);
  s = Sample{kTransfers, kTransferFactBytes, {}};
  EncodeTransfersFact(HeaderFor(count), transfers, s.bytes);
  samples.push_back(s);
  s = Sample{kFailures, kFailedFactBytes, {}};
  EncodeFailuresFact(HeaderFor(count), failed, s.bytes);
  samples.push_back(s);
  s = Sample{kExpired, kExpiredFactBytes, {}};
  EncodeExpiredFact(HeaderFor(count), expired, s.bytes);
  samples.push_back(s);
  return samples;
}

// Re-encodes a decoded fact with the encoder of its type.
std::vector<uint8_t> Reencode(const Fact& fact) {
  std::vector<uint8_t> out;
  switch (fact.type) {
    case FactType::accounts_created:
      EncodeAccountsFact(fact.header, fact.accounts, out);
      break;
    case FactType::transfers_created:
      EncodeTransfersFact(fact.header, fact.transfers, out);
      break;
    case FactType::transfers_failed:
      EncodeFailuresFact(fact.header, fact.failed, out);
      break;
    case FactType::transfers_expired:
      EncodeExpiredFact(fact.header, fact.expired, out);
      break;
    case FactType::offline:  // DecodeFact never returns these (own encodings and tests)
    case FactType::api_key:
    case FactType::idempotency:
    case FactType::risk_rules:
    case FactType::risk_list:
    case FactType::risk_decision:
    case FactType::payment:
    case FactType::webhook_endpoint:
    case FactType::outbox_test_events:
    case FactType::webhook_deliveries:
    case FactType::webhook_resend:
      break;
  }
  return out;
}

void PutU32(std::vector<uint8_t>& bytes, size_t offset, uint32_t value) {
  for (size_t i = 0; i < 4; ++i) bytes[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

TEST(FactsTest, AccountsRoundTripWithEveryField) {
  SeededRandom random(11);
  std::vector<Account> accounts;
  for (int i = 0; i < 50; ++i) accounts.push_back(RandomAccount(random));
  std::vector<uint8_t> bytes;
  EncodeAccountsFact(HeaderFor(accounts.size()), accounts, bytes);
  ASSERT_EQ(bytes.size(), kFactHeaderBytes + accounts.size() * kAccountFactBytes);
  auto fact = DecodeFact(kAccounts, bytes);
  ASSERT_TRUE(fact.ok()) << fact.error();
  EXPECT_EQ(fact.value().type, FactType::accounts_created);
  EXPECT_EQ(fact.value().header.batch_first, HeaderFor(0).batch_first);
  EXPECT_EQ(fact.value().header.batch_last, HeaderFor(0).batch_last);
  EXPECT_EQ(fact.value().header.count, accounts.size());
  ASSERT_EQ(fact.value().accounts.size(), accounts.size());
  for (size_t i = 0; i < accounts.size(); ++i) {
    EXPECT_TRUE(SameAccount(fact.value().accounts[i], accounts[i]))
        << Describe(fact.value().accounts[i]) << "\n"
        << Describe(accounts[i]);
  }
  EXPECT_TRUE(fact.value().transfers.empty() && fact.value().failed.empty() &&
              fact.value().expired.empty());
}

TEST(FactsTest, TransfersRoundTripWithEveryField) {
  SeededRandom random(12);
  std::vector<Transfer> transfers;
  for (int i = 0; i < 50; ++i) transfers.push_back(RandomTransfer(random));
  std::vector<uint8_t> bytes;
  EncodeTransfersFact(HeaderFor(transfers.size()), transfers, bytes);
  ASSERT_EQ(bytes.size(), kFactHeaderBytes + transfers.size() * kTransferFactBytes);
  auto fact = DecodeFact(kTransfers, bytes);
  ASSERT_TRUE(fact.ok()) << fact.error();
  ASSERT_EQ(fact.value().transfers.size(), transfers.size());
  for (size_t i = 0; i < transfers.size(); ++i) {
    EXPECT_TRUE(SameTransfer(fact.value().transfers[i], transfers[i]));
    // Single bodies read back from their offset decode the same way.
    const std::span<const uint8_t> all(bytes);
    const auto item =
        all.subspan(kFactHeaderBytes + i * kTransferFactBytes).first<kTransferFactBytes>();
    EXPECT_TRUE(SameTransfer(DecodeTransferItem(item), transfers[i]));
  }
}

TEST(FactsTest, TransferItemsUseTheDocumentedLittleEndianLayout) {
  Transfer t;
  t.id = TransferId{MakeU128(0x0102030405060708, 0x090a0b0c0d0e0f10)};
  t.amount = Amount::FromMinor(0x1234);
  t.timeout = 0x01020304;
  t.flags = 0x0506;
  t.timestamp = Timestamp{0x1112131415161718};
  std::vector<uint8_t> bytes;
  EncodeTransfersFact(HeaderFor(1), std::span<const Transfer>(&t, 1), bytes);
  const uint8_t* item = bytes.data() + kFactHeaderBytes;
  EXPECT_EQ(item[0], 0x10);   // id, low byte first
  EXPECT_EQ(item[15], 0x01);  // id, high byte last
  EXPECT_EQ(item[48], 0x34);  // amount
  EXPECT_EQ(item[49], 0x12);
  EXPECT_EQ(item[108], 0x04);  // timeout
  EXPECT_EQ(item[118], 0x06);  // flags
  EXPECT_EQ(item[120], 0x18);  // timestamp
  EXPECT_EQ(item[127], 0x11);
  // Header: count at 16, version at 20, reserved at 24.
  EXPECT_EQ(bytes[16], 1);
  EXPECT_EQ(bytes[20], kFactVersion);
  for (size_t i = 24; i < 32; ++i) EXPECT_EQ(bytes[i], 0) << i;
}

TEST(FactsTest, FailuresAndExpiriesRoundTrip) {
  const std::vector<FailedTransfer> failed = {
      {TransferId{5}, CreateTransferResult::exceeds_credits},
      {TransferId{MakeU128(7, 9)}, CreateTransferResult::debit_account_not_found},
      {TransferId{kU128Max - 1}, CreateTransferResult::pending_transfer_expired}};
  std::vector<uint8_t> bytes;
  EncodeFailuresFact(HeaderFor(failed.size()), failed, bytes);
  ASSERT_EQ(bytes.size(), kFactHeaderBytes + failed.size() * kFailedFactBytes);
  auto fact = DecodeFact(kFailures, bytes);
  ASSERT_TRUE(fact.ok()) << fact.error();
  ASSERT_EQ(fact.value().failed.size(), failed.size());
  for (size_t i = 0; i < failed.size(); ++i) {
    EXPECT_EQ(fact.value().failed[i].id, failed[i].id);
    EXPECT_EQ(fact.value().failed[i].result, failed[i].result);
  }

  const std::vector<TransferId> expired = {TransferId{1}, TransferId{MakeU128(3, 4)}};
  EncodeExpiredFact(HeaderFor(expired.size()), expired, bytes);
  ASSERT_EQ(bytes.size(), kFactHeaderBytes + expired.size() * kExpiredFactBytes);
  fact = DecodeFact(kExpired, bytes);
  ASSERT_TRUE(fact.ok()) << fact.error();
  EXPECT_EQ(fact.value().expired, expired);
}

TEST(FactsTest, EveryTruncationOfAValidRecordIsRejected) {
  for (const Sample& sample : ValidSamples(21, 3)) {
    ASSERT_TRUE(DecodeFact(sample.type, sample.bytes).ok());
    for (size_t length = 0; length < sample.bytes.size(); ++length) {
      auto fact = DecodeFact(sample.type, std::span(sample.bytes).first(length));
      EXPECT_FALSE(fact.ok()) << "type " << sample.type << " cut to " << length << " bytes";
    }
  }
}

TEST(FactsTest, TrailingBytesAreRejected) {
  for (Sample sample : ValidSamples(22, 2)) {
    for (size_t extra = 1; extra <= sample.item_bytes + 1; ++extra) {
      std::vector<uint8_t> longer = sample.bytes;
      longer.resize(longer.size() + extra, 0);
      EXPECT_FALSE(DecodeFact(sample.type, longer).ok())
          << "type " << sample.type << " with " << extra << " extra bytes";
    }
  }
}

TEST(FactsTest, ACountThatDisagreesWithTheSizeIsRejected) {
  for (Sample sample : ValidSamples(23, 4)) {
    for (const uint32_t count : {0u, 1u, 3u, 5u, 8u, 0x10000u}) {
      std::vector<uint8_t> bytes = sample.bytes;
      PutU32(bytes, 16, count);
      auto fact = DecodeFact(sample.type, bytes);
      ASSERT_FALSE(fact.ok()) << "type " << sample.type << " count " << count;
      EXPECT_NE(fact.error().find("count"), std::string::npos) << fact.error();
    }
  }
}

TEST(FactsTest, HugeCountsAreRejectedBeforeAnythingIsAllocated) {
  // A count near 2^32 times 144-byte items would ask for ~600 GiB if it were trusted (the
  // sanitizer build would abort on such an allocation).
  for (Sample sample : ValidSamples(24, 1)) {
    for (const uint32_t count : {UINT32_MAX, UINT32_MAX - 1, 0x80000000u, 0x01000000u}) {
      std::vector<uint8_t> bytes = sample.bytes;
      PutU32(bytes, 16, count);
      EXPECT_FALSE(DecodeFact(sample.type, bytes).ok()) << count;
    }
  }
}

TEST(FactsTest, NonZeroReservedHeaderBytesAreRejected) {
  for (const Sample& sample : ValidSamples(25, 2)) {
    for (size_t offset = 24; offset < kFactHeaderBytes; ++offset) {
      std::vector<uint8_t> bytes = sample.bytes;
      bytes[offset] = 0x80;
      auto fact = DecodeFact(sample.type, bytes);
      ASSERT_FALSE(fact.ok()) << "type " << sample.type << " reserved byte " << offset;
      EXPECT_NE(fact.error().find("reserved"), std::string::npos) << fact.error();
    }
  }
}

TEST(FactsTest, NonZeroReservedBytesInAnAccountItemAreRejected) {
  // Item layout: ... code at 128, flags at 130, 4 reserved bytes at 132, timestamp at 136.
  const Sample sample = ValidSamples(26, 2)[0];
  ASSERT_EQ(sample.type, kAccounts);
  for (size_t item = 0; item < 2; ++item) {
    for (size_t offset = 132; offset < 136; ++offset) {
      std::vector<uint8_t> bytes = sample.bytes;
      bytes[kFactHeaderBytes + item * kAccountFactBytes + offset] = 1;
      EXPECT_FALSE(DecodeFact(kAccounts, bytes).ok()) << "item " << item << " byte " << offset;
    }
  }
}

TEST(FactsTest, NonZeroPaddingInAFailureItemIsRejected) {
  const Sample sample = ValidSamples(27, 2)[2];
  ASSERT_EQ(sample.type, kFailures);
  for (size_t item = 0; item < 2; ++item) {
    for (size_t offset = 18; offset < kFailedFactBytes; ++offset) {
      std::vector<uint8_t> bytes = sample.bytes;
      bytes[kFactHeaderBytes + item * kFailedFactBytes + offset] = 0x40;
      auto fact = DecodeFact(kFailures, bytes);
      ASSERT_FALSE(fact.ok()) << "item " << item << " byte " << offset;
      EXPECT_NE(fact.error().find("padding"), std::string::npos) << fact.error();
    }
  }
}

TEST(FactsTest, AFailureCodeThatIsNotATransientResultIsRejected) {
  const Sample sample = ValidSamples(28, 1)[2];
  // The code is a u16 on disk and the result enum is 8 bits wide: 0x0100 | exceeds_credits
  // must not be read as exceeds_credits. `created` and a validation error are never journaled
  // as failures (only transient ones are).
  const uint16_t exceeds = static_cast<uint16_t>(CreateTransferResult::exceeds_credits);
  for (const uint16_t code : {static_cast<uint16_t>(0x0100 | exceeds), uint16_t{0xffff},
                              static_cast<uint16_t>(CreateTransferResult::created),
                              static_cast<uint16_t>(CreateTransferResult::exists),
                              static_cast<uint16_t>(CreateTransferResult::reserved_flag)}) {
    std::vector<uint8_t> bytes = sample.bytes;
    bytes[kFactHeaderBytes + 16] = static_cast<uint8_t>(code);
    bytes[kFactHeaderBytes + 17] = static_cast<uint8_t>(code >> 8);
    EXPECT_FALSE(DecodeFact(kFailures, bytes).ok()) << "code " << code;
  }
}

TEST(FactsTest, AnotherVersionIsRejected) {
  for (const Sample& sample : ValidSamples(29, 1)) {
    for (const uint32_t version : {0u, kFactVersion + 1, 0xffffffffu}) {
      std::vector<uint8_t> bytes = sample.bytes;
      PutU32(bytes, 20, version);
      auto fact = DecodeFact(sample.type, bytes);
      ASSERT_FALSE(fact.ok()) << version;
      EXPECT_NE(fact.error().find("version"), std::string::npos) << fact.error();
    }
  }
}

TEST(FactsTest, AnUnknownTypeIsRejected) {
  const Sample sample = ValidSamples(30, 1)[1];
  for (const uint16_t type : {uint16_t{0}, uint16_t{5}, uint16_t{0x100}, uint16_t{0xffff}}) {
    auto fact = DecodeFact(type, sample.bytes);
    ASSERT_FALSE(fact.ok()) << type;
    EXPECT_NE(fact.error().find("unknown fact type"), std::string::npos) << fact.error();
  }
}

TEST(FactsTest, ARecordDecodedAsAnotherTypeIsRejected) {
  // Accounts and transfers of 9 items are 1296 and 1152 bytes: no item size divides another's
  // total except by accident, and the decoder must catch that through the count.
  for (const Sample& sample : ValidSamples(31, 9)) {
    for (const uint16_t type : {kAccounts, kTransfers, kFailures, kExpired}) {
      if (type == sample.type) continue;
      EXPECT_FALSE(DecodeFact(type, sample.bytes).ok()) << sample.type << " as " << type;
    }
  }
}

// Random garbage, valid headers over random bodies, and valid records with random bytes
// overwritten: nothing crashes, and anything accepted is canonical (re-encodes identically).
TEST(FactsTest, RandomBytesNeverCrashAndAcceptedRecordsAreCanonical) {
  const uint64_t seed = test_support::TestSeed("FactsTest.RandomBytes");
  SeededRandom random(seed);
  const std::vector<Sample> samples = ValidSamples(seed, 3);
  constexpr int kInputs = 6000;
  int accepted = 0;
  for (int i = 0; i < kInputs; ++i) {
    std::vector<uint8_t> bytes;
    uint16_t type = static_cast<uint16_t>(random.Uniform(6));
    switch (random.Uniform(3)) {
      case 0:  // pure garbage
        bytes.resize(static_cast<size_t>(random.Uniform(700)));
        random.Fill(bytes);
        break;
      case 1: {  // a plausible header over a random body
        const size_t item_bytes = std::array<size_t, 4>{144, 128, 24, 16}[random.Uniform(4)];
        const uint32_t count = static_cast<uint32_t>(random.Uniform(5));
        bytes.resize(kFactHeaderBytes + count * item_bytes + random.Uniform(3));
        random.Fill(bytes);
        PutU32(bytes, 16, count);
        PutU32(bytes, 20, kFactVersion);
        std::memset(bytes.data() + 24, 0, 8);
        break;
      }
      default: {  // a valid record with 1..4 bytes overwritten
        const Sample& sample = samples[random.Uniform(samples.size())];
        type = sample.type;
        bytes = sample.bytes;
        const uint64_t flips = 1 + random.Uniform(4);
        for (uint64_t f = 0; f < flips; ++f) {
          bytes[random.Uniform(bytes.size())] = static_cast<uint8_t>(random.NextU64());
        }
        break;
      }
    }
    auto fact = DecodeFact(type, bytes);
    if (!fact.ok()) {
      EXPECT_FALSE(fact.error().empty());
      continue;
    }
    ++accepted;
    ASSERT_EQ(Reencode(fact.value()), bytes)
        << "type " << type << " input " << i << ": " << test_support::SeedTrace(seed);
  }
  // The mutated valid records mostly hit item fields that any value is valid for.
  EXPECT_GT(accepted, kInputs / 10) << test_support::SeedTrace(seed);
}

}  // namespace
}  // namespace tpw::engine
