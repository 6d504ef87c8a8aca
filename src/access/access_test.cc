// API keys and idempotency records: table semantics, expiry, snapshots and the encodings
// (including truncated and hostile bytes).
#include "access/access.h"

#include <gtest/gtest.h>

namespace tpw::access {
namespace {

class VectorSink final : public ledger::StateSink {
 public:
  void Write(std::span<const uint8_t> bytes) override { data.insert(data.end(), bytes.begin(), bytes.end()); }
  std::vector<uint8_t> data;
};

class VectorSource final : public ledger::StateSource {
 public:
  explicit VectorSource(std::vector<uint8_t> bytes) : data_(std::move(bytes)) {}
  bool Read(std::span<uint8_t> out) override {
    if (out.size() > remaining()) return false;
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(offset_), out.size(), out.begin());
    offset_ += out.size();
    return true;
  }
  uint64_t remaining() const override { return data_.size() - offset_; }

 private:
  std::vector<uint8_t> data_;
  size_t offset_ = 0;
};

ApiKey Key(uint64_t id, Scope scope = Scope::merchant) {
  ApiKey key;
  key.id = id;
  key.scope = scope;
  key.name = "key " + std::to_string(id);
  key.secret_hash = crypto::Blake2b256(std::vector<uint8_t>{static_cast<uint8_t>(id)});
  key.rate_per_second = 100;
  key.created_ms = 1000 + id;
  return key;
}

crypto::Hash256 Fingerprint(uint8_t seed) { return crypto::Blake2b256(std::vector<uint8_t>{seed}); }

IdempotencyRecord Record(uint64_t scope, std::string key, uint8_t seed, uint64_t created_ms) {
  IdempotencyRecord r;
  r.scope = scope;
  r.key = std::move(key);
  r.fingerprint = Fingerprint(seed);
  r.status = 201;
  r.body = "{\"id\":\"" + std::to_string(seed) + "\"}";
  r.created_ms = created_ms;
  return r;
}

TEST(KeyTextTest, GeneratedKeysFormatAndParseBack) {
  const KeyText key = GenerateKeyText();
  EXPECT_NE(key.id, 0u);
  const std::string text = FormatKeyText(key);
  EXPECT_EQ(text.size(), kKeyTextBytes);
  EXPECT_EQ(text.substr(0, 4), "tpw_");
  const std::optional<KeyText> parsed = ParseKeyText(text);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->id, key.id);
  EXPECT_EQ(parsed->secret, key.secret);
  ApiKey record;
  record.secret_hash = SecretHash(key.secret);
  EXPECT_TRUE(SecretMatches(record, *parsed));
  KeyText other = *parsed;
  other.secret[0] ^= 1;
  EXPECT_FALSE(SecretMatches(record, other));
}

TEST(KeyTextTest, KeyIdsAreSixteenLowercaseHexDigits) {
  EXPECT_EQ(KeyIdText(0x2a), "000000000000002a");
  EXPECT_EQ(ParseKeyId("000000000000002a"), 0x2au);
  EXPECT_EQ(ParseKeyId(KeyIdText(UINT64_MAX)), UINT64_MAX);
  EXPECT_FALSE(ParseKeyId("0000000000000000").has_value());
  EXPECT_FALSE(ParseKeyId("00000000000002a").has_value());
  EXPECT_FALSE(ParseKeyId("000000000000002A").has_value());
  EXPECT_FALSE(ParseKeyId("000000000000002g").has_value());
}

TEST(KeyTextTest, AnythingButTheExactFormIsRefused) {
  const std::string good = FormatKeyText(GenerateKeyText());
  EXPECT_FALSE(ParseKeyText("").has_value());
  EXPECT_FALSE(ParseKeyText(good.substr(0, 63)).has_value());
  EXPECT_FALSE(ParseKeyText(good + "A").has_value());
  std::string upper_hex = good;
  upper_hex[4] = 'A';
  EXPECT_FALSE(ParseKeyText(upper_hex).has_value());
  std::string bad_prefix = good;
  bad_prefix[0] = 'x';
  EXPECT_FALSE(ParseKeyText(bad_prefix).has_value());
  std::string bad_separator = good;
  bad_separator[20] = '-';
  EXPECT_FALSE(ParseKeyText(bad_separator).has_value());
  std::string bad_secret = good;
  bad_secret[40] = '*';
  EXPECT_FALSE(ParseKeyText(bad_secret).has_value());
  EXPECT_FALSE(ParseKeyText("tpw_0000000000000000_" + good.substr(21)).has_value());  // id 0
}

TEST(ScopeTest, NamesRoundTripAndUnknownNamesAreRefused) {
  for (uint8_t i = 1; i <= kScopeMax; ++i) {
    const auto scope = static_cast<Scope>(i);
    EXPECT_EQ(ParseScope(ScopeName(scope)), scope);
  }
  EXPECT_FALSE(ParseScope("root").has_value());
  EXPECT_FALSE(ParseScope("").has_value());
  EXPECT_FALSE(ParseScope("Admin").has_value());
}

TEST(ApiKeyTableTest, KeysAreAddedOnceRevokedOnceAndListedById) {
  ApiKeyTable table;
  EXPECT_TRUE(table.Add(Key(7)));
  EXPECT_TRUE(table.Add(Key(3, Scope::admin)));
  EXPECT_FALSE(table.Add(Key(7)));  // id taken
  EXPECT_FALSE(table.Add(Key(0)));  // id 0 is reserved
  ASSERT_NE(table.Find(3), nullptr);
  EXPECT_EQ(table.Find(3)->scope, Scope::admin);
  EXPECT_EQ(table.Find(99), nullptr);
  EXPECT_TRUE(table.Revoke(7, 5000));
  EXPECT_FALSE(table.Revoke(7, 6000));
  EXPECT_FALSE(table.Revoke(99, 6000));
  EXPECT_TRUE(table.Find(7)->revoked);
  EXPECT_EQ(table.Find(7)->revoked_ms, 5000u);
  const std::vector<ApiKey> list = table.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, 3u);
  EXPECT_EQ(list[1].id, 7u);
}

TEST(ApiKeyTableTest, SnapshotRoundTrips) {
  ApiKeyTable table;
  table.Add(Key(1));
  table.Add(Key(2, Scope::auditor));
  table.Revoke(1, 42);
  VectorSink sink;
  table.SaveState(sink);
  ApiKeyTable loaded;
  VectorSource source(sink.data);
  ASSERT_TRUE(loaded.LoadState(source));
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_TRUE(loaded.Find(1)->revoked);
  EXPECT_EQ(loaded.Find(2)->scope, Scope::auditor);
  EXPECT_EQ(loaded.Find(2)->secret_hash, Key(2).secret_hash);
  EXPECT_EQ(loaded.Find(2)->name, "key 2");
  // Every truncation fails cleanly.
  for (size_t cut = 0; cut < sink.data.size(); ++cut) {
    VectorSource truncated(std::vector<uint8_t>(sink.data.begin(), sink.data.begin() + static_cast<std::ptrdiff_t>(cut)));
    ApiKeyTable partial;
    EXPECT_FALSE(partial.LoadState(truncated)) << cut;
  }
}

TEST(ApiKeyEncodingTest, DecodeRefusesEveryDamage) {
  const std::vector<uint8_t> good = EncodeApiKey(Key(9));
  ASSERT_TRUE(DecodeApiKey(good).has_value());
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeApiKey(std::span(good).first(cut)).has_value()) << cut;
  }
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_FALSE(DecodeApiKey(longer).has_value());
  std::vector<uint8_t> bad_scope = good;
  bad_scope[1] = 9;
  EXPECT_FALSE(DecodeApiKey(bad_scope).has_value());
  std::vector<uint8_t> bad_version = good;
  bad_version[0] = 2;
  EXPECT_FALSE(DecodeApiKey(bad_version).has_value());
  ApiKey long_name = Key(9);
  long_name.name.assign(kKeyNameBytesMax + 1, 'x');
  EXPECT_FALSE(DecodeApiKey(EncodeApiKey(long_name)).has_value());
}

ApiKey BoundKey(uint64_t id, std::vector<AccountId> merchants) {
  ApiKey key = Key(id);
  key.merchant_accounts = std::move(merchants);
  return key;
}

TEST(MerchantBindingTest, UnboundKeysActForEveryMerchantBoundKeysForTheirsOnly) {
  EXPECT_TRUE(Key(1).MayActFor(AccountId(5)));
  const ApiKey bound = BoundKey(2, {AccountId(100), AccountId(300)});
  EXPECT_TRUE(bound.MayActFor(AccountId(100)));
  EXPECT_TRUE(bound.MayActFor(AccountId(300)));
  EXPECT_FALSE(bound.MayActFor(AccountId(200)));
  EXPECT_FALSE(bound.MayActFor(AccountId(0)));
}

TEST(MerchantBindingTest, BindingErrorsNameWhatIsWrong) {
  const std::vector<AccountId> two = {AccountId(1), AccountId(2)};
  EXPECT_EQ(MerchantBindingError(Scope::merchant, two), "");
  EXPECT_EQ(MerchantBindingError(Scope::admin, {}), "");
  EXPECT_NE(MerchantBindingError(Scope::admin, two).find("only merchant keys"), std::string::npos);
  EXPECT_NE(MerchantBindingError(Scope::merchant, std::vector<AccountId>{AccountId(2), AccountId(1)})
                .find("ascending"),
            std::string::npos);
  EXPECT_NE(MerchantBindingError(Scope::merchant, std::vector<AccountId>{AccountId(1), AccountId(1)})
                .find("duplicates"),
            std::string::npos);
  EXPECT_NE(MerchantBindingError(Scope::merchant, std::vector<AccountId>{AccountId(0)}).find("never 0"),
            std::string::npos);
  std::vector<AccountId> many;
  for (uint64_t i = 1; i <= kMerchantAccountsPerKeyMax + 1; ++i) many.emplace_back(i);
  EXPECT_NE(MerchantBindingError(Scope::merchant, many).find("at most 64"), std::string::npos);
  many.pop_back();
  EXPECT_EQ(MerchantBindingError(Scope::merchant, many), "");
}

TEST(MerchantBindingTest, SortMerchantAccountsSortsAndDropsDuplicates) {
  std::vector<AccountId> ids = {AccountId(3), AccountId(1), AccountId(3), AccountId(2)};
  SortMerchantAccounts(ids);
  EXPECT_EQ(ids, (std::vector<AccountId>{AccountId(1), AccountId(2), AccountId(3)}));
}

TEST(ApiKeyEncodingTest, UnboundKeysKeepTheVersionOneBytes) {
  // The layout every earlier release journaled: keys written then still decode, and an unbound
  // key written now is byte for byte what they wrote.
  const std::vector<uint8_t> bytes = EncodeApiKey(Key(9));
  ASSERT_EQ(bytes.size(), 4u + 4 + 8 + 8 + 8 + 32 + 4 + Key(9).name.size());
  EXPECT_EQ(bytes[0], 1);
  const std::optional<ApiKey> decoded = DecodeApiKey(bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_FALSE(decoded->bound());
}

TEST(ApiKeyEncodingTest, BoundKeysRoundTripAsVersionTwo) {
  const ApiKey key = BoundKey(9, {AccountId(7), AccountId(kU128Max - 1)});
  const std::vector<uint8_t> bytes = EncodeApiKey(key);
  EXPECT_EQ(bytes[0], 2);
  EXPECT_EQ(bytes.size(), EncodeApiKey(Key(9)).size() + 2 + 2 * 16);
  const std::optional<ApiKey> decoded = DecodeApiKey(bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->merchant_accounts, key.merchant_accounts);
  EXPECT_EQ(EncodeApiKey(*decoded), bytes);
}

TEST(ApiKeyEncodingTest, DecodeRefusesEveryDamageToABinding) {
  const std::vector<uint8_t> good = EncodeApiKey(BoundKey(9, {AccountId(7), AccountId(8)}));
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeApiKey(std::span(good).first(cut)).has_value()) << cut;
  }
  const size_t count_at = good.size() - 2 - 2 * 16;
  const auto with = [&](size_t offset, uint8_t value) {
    std::vector<uint8_t> bytes = good;
    bytes[offset] = value;
    return DecodeApiKey(bytes).has_value();
  };
  EXPECT_FALSE(with(count_at, 0));      // count 0: an unbound key is version 1
  EXPECT_FALSE(with(count_at, 3));      // count past the ids
  EXPECT_FALSE(with(count_at + 1, 1));  // count 257: over the limit
  EXPECT_FALSE(with(count_at + 2, 9));  // 9 then 8: not ascending
  EXPECT_FALSE(with(count_at + 18, 7));  // 7 twice
  EXPECT_FALSE(with(0, 1));             // version 1 with a tail
  EXPECT_FALSE(with(1, static_cast<uint8_t>(Scope::admin)));  // only merchant keys are bound
  std::vector<uint8_t> zero = good;
  std::fill(zero.begin() + static_cast<std::ptrdiff_t>(count_at + 2),
            zero.begin() + static_cast<std::ptrdiff_t>(count_at + 18), 0);
  EXPECT_FALSE(DecodeApiKey(zero).has_value());
}

TEST(ApiKeyTableTest, BindingsSurviveASnapshot) {
  ApiKeyTable table;
  table.Add(BoundKey(1, {AccountId(100)}));
  table.Add(Key(2));
  VectorSink sink;
  table.SaveState(sink);
  ApiKeyTable loaded;
  VectorSource source(sink.data);
  ASSERT_TRUE(loaded.LoadState(source));
  EXPECT_EQ(loaded.Find(1)->merchant_accounts, std::vector<AccountId>{AccountId(100)});
  EXPECT_FALSE(loaded.Find(2)->bound());
}

TEST(IdempotencyTableTest, TheSameRequestReplaysAnotherIsAMismatch) {
  IdempotencyTable table(1000);
  const IdempotencyRecord* stored = nullptr;
  EXPECT_EQ(table.Lookup(1, "k", Fingerprint(1), 0, &stored), IdempotencyLookup::absent);
  table.Put(Record(1, "k", 1, 100));
  EXPECT_EQ(table.Lookup(1, "k", Fingerprint(1), 200, &stored), IdempotencyLookup::replay);
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(stored->status, 201);
  EXPECT_EQ(stored->body, "{\"id\":\"1\"}");
  EXPECT_EQ(table.Lookup(1, "k", Fingerprint(2), 200, &stored), IdempotencyLookup::mismatch);
  // Keys belong to one API key: another caller's "k" is another record.
  EXPECT_EQ(table.Lookup(2, "k", Fingerprint(2), 200, &stored), IdempotencyLookup::absent);
}

TEST(IdempotencyTableTest, RecordsExpireAfterTheTtlAndCanThenBeReused) {
  IdempotencyTable table(1000);
  table.Put(Record(1, "a", 1, 100));
  table.Put(Record(1, "b", 2, 600));
  EXPECT_EQ(table.Lookup(1, "a", Fingerprint(1), 1099, nullptr), IdempotencyLookup::replay);
  EXPECT_EQ(table.Lookup(1, "a", Fingerprint(9), 1100, nullptr), IdempotencyLookup::absent);
  EXPECT_EQ(table.Expire(1099), 0u);
  EXPECT_EQ(table.Expire(1100), 1u);
  EXPECT_EQ(table.size(), 1u);
  // Reused after expiry: the new record stands, and the old queue entry does not erase it.
  table.Put(Record(1, "b", 3, 1700));  // replaces b (expired at 1600) before Expire saw it
  EXPECT_EQ(table.Expire(1650), 0u);
  EXPECT_EQ(table.Lookup(1, "b", Fingerprint(3), 1650, nullptr), IdempotencyLookup::replay);
  EXPECT_EQ(table.Expire(2700), 1u);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.body_bytes(), 0u);
}

TEST(IdempotencyTableTest, DefaultTtlIsOneDay) {
  EXPECT_EQ(IdempotencyTable().ttl_ms(), 24ull * 3600 * 1000);
}

TEST(IdempotencyTableTest, SnapshotRoundTripsInCreationOrder) {
  IdempotencyTable table(1000);
  table.Put(Record(1, "a", 1, 100));
  table.Put(Record(2, "b", 2, 200));
  table.Put(Record(1, "a", 3, 300));  // replaced
  VectorSink sink;
  table.SaveState(sink);
  IdempotencyTable loaded(1000);
  VectorSource source(sink.data);
  ASSERT_TRUE(loaded.LoadState(source));
  EXPECT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded.body_bytes(), table.body_bytes());
  EXPECT_EQ(loaded.Lookup(1, "a", Fingerprint(3), 400, nullptr), IdempotencyLookup::replay);
  EXPECT_EQ(loaded.Expire(1200), 1u);  // b (200) goes first, a (300) stays
  EXPECT_EQ(loaded.Lookup(1, "a", Fingerprint(3), 1200, nullptr), IdempotencyLookup::replay);
  for (size_t cut = 0; cut < sink.data.size(); ++cut) {
    VectorSource truncated(std::vector<uint8_t>(sink.data.begin(), sink.data.begin() + static_cast<std::ptrdiff_t>(cut)));
    IdempotencyTable partial;
    EXPECT_FALSE(partial.LoadState(truncated)) << cut;
  }
}

TEST(IdempotencyEncodingTest, DecodeRefusesEveryDamage) {
  const std::vector<uint8_t> good = EncodeIdempotencyRecord(Record(5, "key-1", 1, 10));
  const auto decoded = DecodeIdempotencyRecord(good);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->key, "key-1");
  EXPECT_EQ(decoded->scope, 5u);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeIdempotencyRecord(std::span(good).first(cut)).has_value()) << cut;
  }
  IdempotencyRecord empty_key = Record(5, "", 1, 10);
  EXPECT_FALSE(DecodeIdempotencyRecord(EncodeIdempotencyRecord(empty_key)).has_value());
  IdempotencyRecord long_key = Record(5, std::string(kIdempotencyKeyBytesMax + 1, 'k'), 1, 10);
  EXPECT_FALSE(DecodeIdempotencyRecord(EncodeIdempotencyRecord(long_key)).has_value());
  IdempotencyRecord bad_status = Record(5, "k", 1, 10);
  bad_status.status = 99;
  EXPECT_FALSE(DecodeIdempotencyRecord(EncodeIdempotencyRecord(bad_status)).has_value());
}

}  // namespace
}  // namespace tpw::access
