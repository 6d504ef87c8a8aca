// The engine's API access state: API keys and idempotency records (docs/api.md). Both are
// sequencer state like the ledger's: changed only on the sequencer thread, journaled as facts,
// replayed at start and saved in snapshots.
#include "engine/engine_impl.h"

namespace tpw::engine {

std::string_view AccessErrorName(AccessError error) {
  switch (error) {
    case AccessError::ok:
      return "ok";
    case AccessError::key_exists:
      return "key_exists";
    case AccessError::unknown_key:
      return "unknown_key";
    case AccessError::already_revoked:
      return "already_revoked";
    case AccessError::invalid:
      return "invalid";
    case AccessError::unknown_merchant_account:
      return "unknown_merchant_account";
  }
  return "unknown";
}

namespace {

bool Storable(const access::IdempotencyRecord& record) {
  return !record.key.empty() && record.key.size() <= access::kIdempotencyKeyBytesMax &&
         record.body.size() <= access::kStoredBodyBytesMax && record.status >= 100 &&
         record.status <= 599;
}

// Why `key` cannot be stored as it is ("" when it can).
std::string NewKeyError(const access::ApiKey& key) {
  const auto scope = static_cast<uint8_t>(key.scope);
  if (key.id == 0 || scope < 1 || scope > access::kScopeMax) return "the key id or scope is invalid";
  if (key.name.size() > access::kKeyNameBytesMax) return "the key name is too long";
  return access::MerchantBindingError(key.scope, key.merchant_accounts);
}

// A binding names merchants by their ledger accounts: one that does not exist is a typo (or an
// account not made yet), refused so a key is never bound to nothing.
std::optional<AccountId> UnknownMerchantAccount(const ledger::Ledger& ledger,
                                                const access::ApiKey& key) {
  for (const AccountId merchant : key.merchant_accounts) {
    if (!ledger.LookupAccount(merchant).has_value()) return merchant;
  }
  return std::nullopt;
}

}  // namespace

void Engine::Impl::ExecuteAccess(Request& request, Reply& reply, Group& group) {
  const AccessCommand& c = *request.access;
  AccessReply out;
  switch (c.kind) {
    case AccessCommandKind::create_api_key: {
      access::ApiKey key = c.key;
      key.created_ms = NowMs();
      key.revoked = false;
      key.revoked_ms = 0;
      if (std::string why = NewKeyError(key); !why.empty()) {
        out.error = AccessError::invalid;
        out.detail = std::move(why);
      } else if (const std::optional<AccountId> unknown = UnknownMerchantAccount(*ledger_, key)) {
        out.error = AccessError::unknown_merchant_account;
        out.detail = FormatId(*unknown);
      } else if (api_keys_.Find(key.id) != nullptr) {
        out.error = AccessError::key_exists;
      } else {
        group.Add(FactType::api_key, access::EncodeApiKey(key));
        api_keys_.Add(key);
        out.keys.push_back(key);
        PublishApiKeys();
      }
      break;
    }
    case AccessCommandKind::revoke_api_key: {
      const access::ApiKey* found = api_keys_.Find(c.key_id);
      if (found == nullptr) {
        out.error = AccessError::unknown_key;
      } else if (found->revoked) {
        out.error = AccessError::already_revoked;
      } else {
        access::ApiKey revoked = *found;
        revoked.revoked = true;
        revoked.revoked_ms = NowMs();
        group.Add(FactType::api_key, access::EncodeApiKey(revoked));
        api_keys_.Revoke(revoked.id, revoked.revoked_ms);
        out.keys.push_back(revoked);
        PublishApiKeys();
      }
      break;
    }
    case AccessCommandKind::list_api_keys:
      out.keys = api_keys_.List();
      break;
    case AccessCommandKind::lookup_response: {
      const access::IdempotencyRecord* stored = nullptr;
      out.lookup = idempotency_.Lookup(c.record.scope, c.record.key, c.record.fingerprint, NowMs(),
                                       &stored);
      if (stored != nullptr) out.stored = *stored;
      break;
    }
    case AccessCommandKind::store_response: {
      access::IdempotencyRecord record = c.record;
      record.created_ms = NowMs();
      if (!Storable(record)) {
        out.error = AccessError::invalid;
        break;
      }
      group.Add(FactType::idempotency, access::EncodeIdempotencyRecord(record));
      idempotency_.Put(std::move(record));
      break;
    }
  }
  reply.access = std::move(out);
}

void Engine::Impl::PublishApiKeys() {
  auto copy = std::make_shared<const access::ApiKeyTable>(api_keys_);
  std::lock_guard lock(api_keys_mutex_);
  published_api_keys_ = std::move(copy);
}

std::shared_ptr<const access::ApiKeyTable> Engine::Impl::ApiKeys() const {
  std::lock_guard lock(api_keys_mutex_);
  return published_api_keys_;
}

EngineStatus Engine::Impl::ApplyAccessFact(const journal::RecordView& record) {
  const auto diverged = [&](const std::string& why) {
    return EngineFail(EngineError::replay_diverged,
                      "journal record " + std::to_string(record.sequence.value) + ": " + why);
  };
  if (record.type == static_cast<uint16_t>(FactType::idempotency)) {
    std::optional<access::IdempotencyRecord> stored = access::DecodeIdempotencyRecord(record.bytes);
    if (!stored) return diverged("an idempotency record that does not decode");
    idempotency_.Put(std::move(*stored));
    return EngineStatus::Ok();
  }
  std::optional<access::ApiKey> key = access::DecodeApiKey(record.bytes);
  if (!key) return diverged("an API key fact that does not decode");
  const bool applied = key->revoked ? api_keys_.Revoke(key->id, key->revoked_ms) : api_keys_.Add(*key);
  if (!applied) return diverged("an API key fact that does not fit the keys (id " + std::to_string(key->id) + ")");
  return EngineStatus::Ok();
}

// ---- Engine (public)

std::shared_ptr<const access::ApiKeyTable> Engine::ApiKeys() const { return impl_->ApiKeys(); }

Reply Engine::ExecuteAccess(AccessCommand command) {
  Request request;
  request.kind = RequestKind::access;
  request.access = std::make_shared<AccessCommand>(std::move(command));
  return Execute(std::move(request));
}

}  // namespace tpw::engine
