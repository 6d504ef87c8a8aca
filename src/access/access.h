// Access state of the API: API keys (who may call, with which scope) and idempotency records
// (the first response to each Idempotency-Key), as pure, deterministic state machines hosted by
// the engine's sequencer. Every change is a journaled fact (engine/access_facts.h), replayed on
// start and saved in snapshots, so keys and stored responses survive a restart.
//
// What it does not do: HTTP, secrets generation, hashing of secrets (callers pass the hash),
// rate limiting (per process, in the server), or deciding what to store (the server renders the
// response; the engine asks it to on the sequencer thread).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/ids.h"
#include "crypto/hash.h"
#include "ledger/state_io.h"

namespace tpw::access {

// Goes into the engine's snapshot layout fingerprint: bump when SaveState's layout changes.
inline constexpr uint64_t kStateLayoutVersion = 1;

// ---- API keys ---------------------------------------------------------------------------------

// What a key may do (docs/api.md, "Authentication"). Each scope is a fixed set of routes;
// admin may do everything.
enum class Scope : uint8_t {
  admin = 1,
  merchant = 2,
  terminal = 3,
  device = 4,
  auditor = 5,
};
inline constexpr uint8_t kScopeMax = 5;
std::string_view ScopeName(Scope scope);
std::optional<Scope> ParseScope(std::string_view name);

inline constexpr size_t kKeyNameBytesMax = 100;
// The most merchant accounts one merchant key may be bound to. A key for more is a key for the
// platform: make an admin key, or several merchant keys.
inline constexpr size_t kMerchantAccountsPerKeyMax = 64;

struct ApiKey {
  uint64_t id = 0;         // public part of the key text; never 0
  Scope scope = Scope::auditor;
  std::string name;        // operator's label, at most kKeyNameBytesMax bytes
  crypto::Hash256 secret_hash{};  // BLAKE2b-256 of the secret part; the secret is never stored
  uint32_t rate_per_second = 0;   // 0 = the server's default limit
  uint64_t created_ms = 0;
  bool revoked = false;
  uint64_t revoked_ms = 0;
  // A merchant key's binding (docs/api.md, "Merchant keys"): the merchant accounts whose
  // payments it may run and read, ascending, no duplicates, none zero, at most
  // kMerchantAccountsPerKeyMax. Empty = unbound: every merchant's (single-merchant
  // deployments). Always empty for other scopes.
  std::vector<AccountId> merchant_accounts;

  bool bound() const { return !merchant_accounts.empty(); }
  // Whether this key may act for `merchant`: unbound keys for every merchant.
  bool MayActFor(AccountId merchant) const;
};

// Why a merchant-account list cannot bind a key of `scope` ("" when it can): ascending order,
// no zero, no duplicate, at most kMerchantAccountsPerKeyMax, merchant scope only. Callers sort
// and deduplicate user input first (SortMerchantAccounts), so an error here is about the rest.
std::string MerchantBindingError(Scope scope, std::span<const AccountId> merchant_accounts);
// Sorts ascending and drops duplicates: the order a binding is stored in.
void SortMerchantAccounts(std::vector<AccountId>& merchant_accounts);

// The text of an API key, as shown once when it is made and sent as `Authorization: Bearer …`:
// "tpw_" + the id in 16 lowercase hex digits + "_" + the 32-byte secret in base64url (43
// characters, no padding) — 64 characters. The id is public (lists, logs); only the secret's
// BLAKE2b-256 is stored.
inline constexpr size_t kSecretBytes = 32;
inline constexpr size_t kKeyTextBytes = 64;
struct KeyText {
  uint64_t id = 0;
  std::array<uint8_t, kSecretBytes> secret{};
};
std::string FormatKeyText(const KeyText& key);
// The id part alone: exactly 16 lowercase hex digits (what lists and logs show).
inline constexpr size_t kKeyIdHexDigits = 16;
std::string KeyIdText(uint64_t id);
// Exactly 16 lowercase hex digits; nullopt for anything else (0 included: no key has id 0).
std::optional<uint64_t> ParseKeyId(std::string_view text);
// Parses the exact form above; nullopt for anything else (the caller answers 401).
std::optional<KeyText> ParseKeyText(std::string_view text);
crypto::Hash256 SecretHash(std::span<const uint8_t, kSecretBytes> secret);
// A new random key (id never 0).
KeyText GenerateKeyText();
// Whether `key` (from ParseKeyText) is the stored `record`'s secret, in constant time.
bool SecretMatches(const ApiKey& record, const KeyText& key);

class ApiKeyTable {
 public:
  // Adds a key; false if the id is 0 or taken.
  bool Add(const ApiKey& key);
  // Marks a key revoked; false if unknown or already revoked.
  bool Revoke(uint64_t id, uint64_t time_ms);
  const ApiKey* Find(uint64_t id) const;
  // Every key, by id.
  std::vector<ApiKey> List() const;
  size_t size() const { return keys_.size(); }

  void SaveState(ledger::StateSink& sink) const;
  bool LoadState(ledger::StateSource& source);

 private:
  std::unordered_map<uint64_t, ApiKey> keys_;
};

// ---- Idempotency records ------------------------------------------------------------------------

inline constexpr size_t kIdempotencyKeyBytesMax = 255;  // Stripe's limit
inline constexpr size_t kStoredBodyBytesMax = 4u << 20;

// The first response to (scope, key): replayed for the same request, refused for another.
struct IdempotencyRecord {
  uint64_t scope = 0;  // the API key id that sent it (keys are per API key, as Stripe's per account)
  std::string key;
  crypto::Hash256 fingerprint{};  // of method, path and body: "the same request"
  uint16_t status = 0;
  std::string body;
  uint64_t created_ms = 0;
};

enum class IdempotencyLookup : uint8_t {
  absent,    // new (or expired): execute and store
  replay,    // the same request again: answer with the stored response
  mismatch,  // the key was used for another request: idempotency_error
};

class IdempotencyTable {
 public:
  // Records live `ttl_ms` after they were created; 0 = the default (24 h).
  explicit IdempotencyTable(uint64_t ttl_ms = 0);

  // What to do with a request carrying (scope, key) whose fingerprint is `fingerprint`, at
  // `now_ms`. For `replay`, `*stored` points at the record (valid until the next change).
  IdempotencyLookup Lookup(uint64_t scope, std::string_view key, const crypto::Hash256& fingerprint,
                           uint64_t now_ms, const IdempotencyRecord** stored) const;
  // Stores (or replaces an expired) record.
  void Put(IdempotencyRecord record);
  // Forgets records older than the ttl at `now_ms`; returns how many. Cheap when none are:
  // records are forgotten in creation order.
  size_t Expire(uint64_t now_ms);
  size_t size() const { return records_.size(); }
  uint64_t body_bytes() const { return body_bytes_; }
  uint64_t ttl_ms() const { return ttl_ms_; }

  void SaveState(ledger::StateSink& sink) const;
  bool LoadState(ledger::StateSource& source);

 private:
  struct Entry {
    IdempotencyRecord record;
    uint64_t generation = 0;  // matches the expiry queue entry that may erase it
  };
  static std::string TableKey(uint64_t scope, std::string_view key);
  bool Expired(const IdempotencyRecord& record, uint64_t now_ms) const;

  uint64_t ttl_ms_;
  std::unordered_map<std::string, Entry> records_;
  // (created_ms, table key, generation) in creation order: what to forget next.
  struct Queued {
    uint64_t created_ms;
    std::string table_key;
    uint64_t generation;
  };
  std::deque<Queued> expiry_queue_;
  uint64_t next_generation_ = 1;
  uint64_t body_bytes_ = 0;
};

// Encodings shared by the journal facts and snapshots (little-endian, length-prefixed).
// An API key is encoding version 1 when unbound (the bytes every earlier release wrote) and
// version 2 when bound: version 1's fields, then u16 count (1..kMerchantAccountsPerKeyMax) and
// the merchant account ids (u128 each, ascending). Decoding accepts both and refuses a version
// 2 without merchant accounts, so every key has exactly one encoding.
std::vector<uint8_t> EncodeApiKey(const ApiKey& key);
std::optional<ApiKey> DecodeApiKey(std::span<const uint8_t> bytes);
std::vector<uint8_t> EncodeIdempotencyRecord(const IdempotencyRecord& record);
std::optional<IdempotencyRecord> DecodeIdempotencyRecord(std::span<const uint8_t> bytes);

}  // namespace tpw::access
