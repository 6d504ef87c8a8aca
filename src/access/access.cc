#include "access/access.h"

#include <algorithm>

#include "common/assert.h"
#include "common/codec.h"
#include "crypto/base64.h"
#include "crypto/secure.h"

namespace tpw::access {

namespace {

constexpr uint64_t kDefaultTtlMs = 24ull * 3600 * 1000;
constexpr uint8_t kApiKeyEncodingVersion = 1;       // unbound keys
constexpr uint8_t kBoundApiKeyEncodingVersion = 2;  // merchant keys with merchant accounts
constexpr uint8_t kRecordEncodingVersion = 1;

constexpr std::string_view kScopeNames[] = {"", "admin", "merchant", "terminal", "device", "auditor"};

// Snapshots hold variable-length items as one length-prefixed byte array each.
void SaveItems(ledger::StateSink& sink, const std::vector<std::vector<uint8_t>>& items) {
  sink.U64(items.size());
  for (const std::vector<uint8_t>& item : items) sink.Vector(item);
}

template <typename Decode>
bool LoadItems(ledger::StateSource& source, Decode decode) {
  uint64_t count = 0;
  if (!source.U64(count) || count > source.remaining() / sizeof(uint64_t)) return false;
  for (uint64_t i = 0; i < count; ++i) {
    std::vector<uint8_t> item;
    if (!source.Vector(item) || !decode(item)) return false;
  }
  return true;
}

}  // namespace

std::string_view ScopeName(Scope scope) {
  const auto index = static_cast<uint8_t>(scope);
  return index >= 1 && index <= kScopeMax ? kScopeNames[index] : "unknown";
}

std::optional<Scope> ParseScope(std::string_view name) {
  for (uint8_t i = 1; i <= kScopeMax; ++i) {
    if (kScopeNames[i] == name) return static_cast<Scope>(i);
  }
  return std::nullopt;
}

// ---- API keys

std::string KeyIdText(uint64_t id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (int shift = 60; shift >= 0; shift -= 4) text.push_back(kHex[(id >> shift) & 0xf]);
  return text;
}

std::optional<uint64_t> ParseKeyId(std::string_view text) {
  if (text.size() != kKeyIdHexDigits) return std::nullopt;
  uint64_t id = 0;
  for (const char c : text) {
    uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    id = (id << 4) | digit;
  }
  if (id == 0) return std::nullopt;
  return id;
}

std::string FormatKeyText(const KeyText& key) {
  return "tpw_" + KeyIdText(key.id) + "_" + crypto::Base64UrlEncode(key.secret);
}

std::optional<KeyText> ParseKeyText(std::string_view text) {
  if (text.size() != kKeyTextBytes || text.substr(0, 4) != "tpw_" || text[20] != '_') return std::nullopt;
  const std::optional<uint64_t> id = ParseKeyId(text.substr(4, kKeyIdHexDigits));
  if (!id) return std::nullopt;
  KeyText key;
  key.id = *id;
  auto secret = crypto::Base64UrlDecode(text.substr(21), kSecretBytes);
  if (!secret.ok() || secret.value().size() != kSecretBytes) return std::nullopt;
  std::copy(secret.value().begin(), secret.value().end(), key.secret.begin());
  crypto::SecureWipe(secret.value());
  return key;
}

crypto::Hash256 SecretHash(std::span<const uint8_t, kSecretBytes> secret) {
  return crypto::Blake2b256(secret);
}

KeyText GenerateKeyText() {
  KeyText key;
  while (key.id == 0) {
    std::array<uint8_t, 8> id{};
    crypto::RandomBytes(id);
    for (const uint8_t b : id) key.id = (key.id << 8) | b;
  }
  crypto::RandomBytes(key.secret);
  return key;
}

bool SecretMatches(const ApiKey& record, const KeyText& key) {
  const crypto::Hash256 hash = SecretHash(key.secret);
  return crypto::ConstantTimeEqual(hash, record.secret_hash);
}

bool ApiKey::MayActFor(AccountId merchant) const {
  return merchant_accounts.empty() ||
         std::binary_search(merchant_accounts.begin(), merchant_accounts.end(), merchant);
}

std::string MerchantBindingError(Scope scope, std::span<const AccountId> merchant_accounts) {
  if (merchant_accounts.empty()) return "";
  if (scope != Scope::merchant) {
    return "only merchant keys are bound to merchant accounts; this key's scope is " +
           std::string(ScopeName(scope));
  }
  if (merchant_accounts.size() > kMerchantAccountsPerKeyMax) {
    return std::to_string(merchant_accounts.size()) + " merchant accounts; a key is bound to at most " +
           std::to_string(kMerchantAccountsPerKeyMax) + " (use an admin key, or several keys)";
  }
  for (size_t i = 0; i < merchant_accounts.size(); ++i) {
    if (merchant_accounts[i].is_zero()) return "merchant account 0 does not exist: ids are never 0";
    if (i > 0 && !(merchant_accounts[i - 1] < merchant_accounts[i])) {
      return "merchant accounts are not in ascending order without duplicates";
    }
  }
  return "";
}

void SortMerchantAccounts(std::vector<AccountId>& merchant_accounts) {
  std::sort(merchant_accounts.begin(), merchant_accounts.end());
  merchant_accounts.erase(std::unique(merchant_accounts.begin(), merchant_accounts.end()),
                          merchant_accounts.end());
}

bool ApiKeyTable::Add(const ApiKey& key) {
  if (key.id == 0) return false;
  return keys_.emplace(key.id, key).second;
}

bool ApiKeyTable::Revoke(uint64_t id, uint64_t time_ms) {
  auto it = keys_.find(id);
  if (it == keys_.end() || it->second.revoked) return false;
  it->second.revoked = true;
  it->second.revoked_ms = time_ms;
  return true;
}

const ApiKey* ApiKeyTable::Find(uint64_t id) const {
  auto it = keys_.find(id);
  return it == keys_.end() ? nullptr : &it->second;
}

std::vector<ApiKey> ApiKeyTable::List() const {
  std::vector<ApiKey> keys;
  keys.reserve(keys_.size());
  for (const auto& [id, key] : keys_) keys.push_back(key);
  std::sort(keys.begin(), keys.end(), [](const ApiKey& a, const ApiKey& b) { return a.id < b.id; });
  return keys;
}

void ApiKeyTable::SaveState(ledger::StateSink& sink) const {
  std::vector<std::vector<uint8_t>> items;
  for (const ApiKey& key : List()) items.push_back(EncodeApiKey(key));
  SaveItems(sink, items);
}

bool ApiKeyTable::LoadState(ledger::StateSource& source) {
  keys_.clear();
  return LoadItems(source, [&](const std::vector<uint8_t>& item) {
    std::optional<ApiKey> key = DecodeApiKey(item);
    return key.has_value() && keys_.emplace(key->id, *key).second;
  });
}

std::vector<uint8_t> EncodeApiKey(const ApiKey& key) {
  BinaryWriter w;
  w.U8(key.bound() ? kBoundApiKeyEncodingVersion : kApiKeyEncodingVersion);
  w.U8(static_cast<uint8_t>(key.scope));
  w.U8(key.revoked ? 1 : 0);
  w.U8(0);
  w.U32(key.rate_per_second);
  w.U64(key.id);
  w.U64(key.created_ms);
  w.U64(key.revoked_ms);
  w.Bytes(key.secret_hash);
  w.String(key.name);
  if (key.bound()) {
    TPW_ASSERT(key.merchant_accounts.size() <= kMerchantAccountsPerKeyMax);
    w.U16(static_cast<uint16_t>(key.merchant_accounts.size()));
    for (const AccountId merchant : key.merchant_accounts) w.U128(merchant.value);
  }
  return w.Take();
}

namespace {

// Version 2's tail: the count, then the ids; never trusts the count past the limit.
bool ReadMerchantAccounts(BinaryReader& r, std::vector<AccountId>& out) {
  const uint16_t count = r.U16();
  if (!r.ok() || count == 0 || count > kMerchantAccountsPerKeyMax) return false;
  out.reserve(count);
  for (uint16_t i = 0; i < count && r.ok(); ++i) out.emplace_back(r.U128());
  return r.ok();
}

}  // namespace

std::optional<ApiKey> DecodeApiKey(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  ApiKey key;
  const uint8_t version = r.U8();
  const uint8_t scope = r.U8();
  const uint8_t revoked = r.U8();
  const uint8_t reserved = r.U8();
  key.rate_per_second = r.U32();
  key.id = r.U64();
  key.created_ms = r.U64();
  key.revoked_ms = r.U64();
  const auto hash = r.Bytes(key.secret_hash.size());
  if (r.ok()) std::copy(hash.begin(), hash.end(), key.secret_hash.begin());
  key.name = r.String(kKeyNameBytesMax);
  if (version == kBoundApiKeyEncodingVersion && !ReadMerchantAccounts(r, key.merchant_accounts)) {
    return std::nullopt;
  }
  if (!r.AtEndOk() || (version != kApiKeyEncodingVersion && version != kBoundApiKeyEncodingVersion) ||
      scope < 1 || scope > kScopeMax || revoked > 1 || reserved != 0 || key.id == 0) {
    return std::nullopt;
  }
  key.scope = static_cast<Scope>(scope);
  key.revoked = revoked == 1;
  if (!MerchantBindingError(key.scope, key.merchant_accounts).empty()) return std::nullopt;
  return key;
}

// ---- Idempotency records

IdempotencyTable::IdempotencyTable(uint64_t ttl_ms) : ttl_ms_(ttl_ms != 0 ? ttl_ms : kDefaultTtlMs) {}

std::string IdempotencyTable::TableKey(uint64_t scope, std::string_view key) {
  std::string table_key(sizeof scope, '\0');
  for (size_t i = 0; i < sizeof scope; ++i) table_key[i] = static_cast<char>(scope >> (8 * i));
  table_key.append(key);
  return table_key;
}

bool IdempotencyTable::Expired(const IdempotencyRecord& record, uint64_t now_ms) const {
  return now_ms >= record.created_ms && now_ms - record.created_ms >= ttl_ms_;
}

IdempotencyLookup IdempotencyTable::Lookup(uint64_t scope, std::string_view key,
                                           const crypto::Hash256& fingerprint, uint64_t now_ms,
                                           const IdempotencyRecord** stored) const {
  auto it = records_.find(TableKey(scope, key));
  if (it == records_.end() || Expired(it->second.record, now_ms)) return IdempotencyLookup::absent;
  if (it->second.record.fingerprint != fingerprint) return IdempotencyLookup::mismatch;
  if (stored != nullptr) *stored = &it->second.record;
  return IdempotencyLookup::replay;
}

void IdempotencyTable::Put(IdempotencyRecord record) {
  std::string table_key = TableKey(record.scope, record.key);
  const uint64_t generation = next_generation_++;
  expiry_queue_.push_back(Queued{record.created_ms, table_key, generation});
  body_bytes_ += record.body.size();
  Entry& entry = records_[std::move(table_key)];
  body_bytes_ -= entry.record.body.size();
  entry.record = std::move(record);
  entry.generation = generation;
}

size_t IdempotencyTable::Expire(uint64_t now_ms) {
  size_t forgotten = 0;
  while (!expiry_queue_.empty()) {
    const Queued& front = expiry_queue_.front();
    if (now_ms < front.created_ms || now_ms - front.created_ms < ttl_ms_) break;
    auto it = records_.find(front.table_key);
    // A record replaced since it was queued is the newer one's to expire.
    if (it != records_.end() && it->second.generation == front.generation) {
      body_bytes_ -= it->second.record.body.size();
      records_.erase(it);
      ++forgotten;
    }
    expiry_queue_.pop_front();
  }
  return forgotten;
}

void IdempotencyTable::SaveState(ledger::StateSink& sink) const {
  // In creation order, so a load rebuilds the same expiry order.
  std::vector<std::vector<uint8_t>> items;
  for (const Queued& queued : expiry_queue_) {
    auto it = records_.find(queued.table_key);
    if (it != records_.end() && it->second.generation == queued.generation) {
      items.push_back(EncodeIdempotencyRecord(it->second.record));
    }
  }
  SaveItems(sink, items);
}

bool IdempotencyTable::LoadState(ledger::StateSource& source) {
  records_.clear();
  expiry_queue_.clear();
  body_bytes_ = 0;
  return LoadItems(source, [&](const std::vector<uint8_t>& item) {
    std::optional<IdempotencyRecord> record = DecodeIdempotencyRecord(item);
    if (!record) return false;
    Put(std::move(*record));
    return true;
  });
}

std::vector<uint8_t> EncodeIdempotencyRecord(const IdempotencyRecord& record) {
  BinaryWriter w;
  w.U8(kRecordEncodingVersion);
  w.U8(0);
  w.U16(record.status);
  w.U32(0);
  w.U64(record.scope);
  w.U64(record.created_ms);
  w.Bytes(record.fingerprint);
  w.String(record.key);
  w.String(record.body);
  return w.Take();
}

std::optional<IdempotencyRecord> DecodeIdempotencyRecord(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  IdempotencyRecord record;
  const uint8_t version = r.U8();
  const uint8_t reserved8 = r.U8();
  record.status = r.U16();
  const uint32_t reserved32 = r.U32();
  record.scope = r.U64();
  record.created_ms = r.U64();
  const auto fingerprint = r.Bytes(record.fingerprint.size());
  if (r.ok()) std::copy(fingerprint.begin(), fingerprint.end(), record.fingerprint.begin());
  record.key = r.String(kIdempotencyKeyBytesMax);
  record.body = r.String(kStoredBodyBytesMax);
  if (!r.AtEndOk() || version != kRecordEncodingVersion || reserved8 != 0 || reserved32 != 0 ||
      record.key.empty() || record.status < 100 || record.status > 599) {
    return std::nullopt;
  }
  return record;
}

}  // namespace tpw::access
