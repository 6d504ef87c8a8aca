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

[[maybe_unused]] bool SameAccount(const Account& a, const Account& b) { return Describe(a) == Describe(b); }
[[maybe_unused]] bool SameTransfer(const Transfer& a, const Transfer& b) { return Describe(a) == Describe(b); }

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
[[maybe_unused]] std::vector<uint8_t> Reencode(const Fact& fact) {
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
  }
  return out;
}

[[maybe_unused]] void PutU32(std::vector<uint8_t>& bytes, size_t offset, uint32_t value) {
  for (size_t i = 0; i < 4; ++i) bytes[offset + i] = static_cast<uint8_t>(value >> (8 * i));
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

}  // namespace
}  // namespace tpw::engine
