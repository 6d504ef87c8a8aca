// Terminal lifecycle: names and messages, Create, Open and recovery (journal replay), status.
// Acceptance is in accept.cc, deny lists in deny_list.cc, voids and batches in batches.cc.
#include "terminal/terminal.h"

#include <cstring>

#include "common/assert.h"
#include "terminal/internal.h"

namespace tpw::terminal {

using internal::FromJournal;
using internal::FromStorage;
using internal::TerminalFail;

std::string_view AcceptCodeName(AcceptCode code) {
  switch (code) {
#define TPW_X(name, value, message) \
  case AcceptCode::name:            \
    return #name;
    TPW_ACCEPT_CODES(TPW_X)
#undef TPW_X
  }
  return "unknown_accept_code";
}

std::string_view AcceptCodeMessage(AcceptCode code) {
  switch (code) {
#define TPW_X(name, value, message) \
  case AcceptCode::name:            \
    return message;
    TPW_ACCEPT_CODES(TPW_X)
#undef TPW_X
  }
  return "unknown accept code";
}

std::string AcceptResult::Message() const {
  std::string out = accepted() ? "accepted" : "declined: ";
  if (!accepted()) {
    out += AcceptCodeName(code);
    out += ": ";
    out += AcceptCodeMessage(code);
  }
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

std::string_view TerminalErrorName(TerminalError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case TerminalError::name:         \
    return #name;
    TPW_TERMINAL_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown_terminal_error";
}

std::string_view TerminalErrorMessage(TerminalError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case TerminalError::name:         \
    return message;
    TPW_TERMINAL_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown terminal error";
}

std::string TerminalFailure::Message() const {
  std::string out(TerminalErrorName(code));
  out += ": ";
  out += TerminalErrorMessage(code);
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

std::string_view TokenStateName(TokenState state) {
  switch (state) {
    case TokenState::accepted:
      return "accepted";
    case TokenState::voided:
      return "voided";
    case TokenState::batched:
      return "batched";
    case TokenState::uploaded:
      return "uploaded";
  }
  return "unknown";
}

size_t Terminal::HashKey::operator()(const TokenId& id) const {
  size_t v = 0;
  std::memcpy(&v, id.data(), sizeof(v));  // a BLAKE2b output: any 8 bytes are uniform
  return v;
}

size_t Terminal::HashKey::operator()(const std::pair<u128, uint64_t>& key) const {
  uint64_t h = Low64(key.first) ^ (High64(key.first) * 0x9e3779b97f4a7c15ULL);
  h ^= key.second + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return static_cast<size_t>(h);
}

Terminal::Terminal(storage::Storage& storage, std::unique_ptr<storage::DirectoryLock> lock,
                   TerminalConfig config, crypto::SecretKey key)
    : storage_(storage), lock_(std::move(lock)), config_(std::move(config)), key_(std::move(key)) {
  TPW_ASSERT(!key_.empty());
  TPW_ASSERT(key_.public_key() == config_.terminal_public_key);
}

Terminal::~Terminal() = default;

const crypto::PublicKey& Terminal::public_key() const { return key_.public_key(); }

namespace {

TerminalStatus CheckIdentity(const TerminalIdentity& identity) {
  if (identity.terminal_id.is_zero() || identity.merchant_id.is_zero()) {
    return TerminalFail(TerminalError::invalid_argument,
                        "terminal_id and merchant_id must not be 0");
  }
  if (identity.issuer_keys.empty() || identity.issuer_keys.size() > kPinnedIssuerKeysMax) {
    return TerminalFail(TerminalError::invalid_argument,
                        std::to_string(identity.issuer_keys.size()) + " issuer keys (1.." +
                            std::to_string(kPinnedIssuerKeysMax) + ")");
  }
  return TerminalStatus::Ok();
}

// ok when `name` does not exist; already_exists when it does.
TerminalStatus ExpectMissing(storage::Storage& storage, std::string_view name) {
  auto file = storage.Open(name, storage::OpenMode::read_only);
  if (file.ok())
    return TerminalFail(TerminalError::already_exists, storage.PathOf(name) + " exists");
  if (file.error().code == storage::StorageError::not_found) return TerminalStatus::Ok();
  return Err{FromStorage(file.error())};
}

TerminalResult<std::unique_ptr<storage::DirectoryLock>> Lock(storage::Storage& storage) {
  auto lock = storage.LockDirectory();
  if (!lock.ok()) return Err{FromStorage(lock.error())};
  return std::move(lock.value());
}

}  // namespace

TerminalResult<std::unique_ptr<Terminal>> Terminal::Create(storage::Storage& storage,
                                                           const TerminalIdentity& identity,
                                                           const crypto::Passphrase& passphrase,
                                                           const TerminalOptions& options) {
  if (TerminalStatus s = CheckIdentity(identity); !s.ok()) return Err{s.error()};
  auto lock = Lock(storage);
  if (!lock.ok()) return Err{lock.error()};
  if (TerminalStatus s = ExpectMissing(storage, internal::kConfigFile); !s.ok()) {
    return Err{s.error()};
  }
  crypto::SecretKey key = crypto::GenerateSigningKey();
  auto keystore = crypto::EncodeKeystore(key, passphrase,
                                         "terminal " + FormatId(identity.terminal_id), options.kdf);
  if (!keystore.ok()) {
    return TerminalFail(TerminalError::keystore_failed,
                        std::string(crypto::KeystoreErrorMessage(keystore.error())));
  }
  if (auto s = storage.WriteFileAtomically(internal::kKeyFile, keystore.value()); !s.ok()) {
    return Err{FromStorage(s.error())};
  }
  TerminalConfig config{identity.terminal_id.value, identity.merchant_id.value, key.public_key(),
                        identity.issuer_keys};
  std::unique_ptr<Terminal> terminal(
      new Terminal(storage, std::move(lock.value()), config, std::move(key)));
  if (TerminalStatus s = terminal->OpenJournal(options); !s.ok()) return Err{s.error()};
  // A journal with records but no terminal.conf belongs to a terminal whose conf was lost:
  // never adopt its tokens under a new key. (An empty one is left by a Create that crashed.)
  if (terminal->journal_->stats().records != 0) {
    return TerminalFail(TerminalError::already_exists,
                        "the directory holds a terminal journal with records but no terminal.conf");
  }
  // terminal.conf is written last: its presence means the terminal exists, whole.
  if (auto s = storage.WriteFileAtomically(internal::kConfigFile, EncodeConfig(config)); !s.ok()) {
    return Err{FromStorage(s.error())};
  }
  return terminal;
}

TerminalResult<std::unique_ptr<Terminal>> Terminal::Open(storage::Storage& storage,
                                                         const crypto::Passphrase& passphrase,
                                                         const TerminalOptions& options) {
  auto lock = Lock(storage);
  if (!lock.ok()) return Err{lock.error()};
  return Load(storage, std::move(lock.value()), passphrase, options);
}

namespace {

TerminalResult<TerminalConfig> ReadConfig(storage::Storage& storage) {
  auto bytes = storage.ReadFile(internal::kConfigFile, kConfigBytesMax);
  if (!bytes.ok()) {
    if (bytes.error().code == storage::StorageError::not_found) {
      return TerminalFail(TerminalError::not_a_terminal, storage.PathOf(internal::kConfigFile));
    }
    if (bytes.error().code == storage::StorageError::too_large) {
      return TerminalFail(TerminalError::config_corrupt, bytes.error().Message());
    }
    return Err{FromStorage(bytes.error())};
  }
  auto config = DecodeConfig(bytes.value());
  if (!config.ok()) return TerminalFail(TerminalError::config_corrupt, config.error());
  return std::move(config.value());
}

TerminalResult<crypto::SecretKey> UnlockKey(storage::Storage& storage,
                                            const crypto::Passphrase& passphrase,
                                            const TerminalConfig& config) {
  auto bytes = storage.ReadFile(internal::kKeyFile, crypto::kKeystoreBytesMax);
  if (!bytes.ok()) {
    return TerminalFail(TerminalError::keystore_failed, bytes.error().Message());
  }
  auto key = crypto::UnlockKeystore(bytes.value(), passphrase);
  if (!key.ok()) {
    return TerminalFail(TerminalError::keystore_failed,
                        storage.PathOf(internal::kKeyFile) + ": " +
                            std::string(crypto::KeystoreErrorName(key.error())) + ": " +
                            std::string(crypto::KeystoreErrorMessage(key.error())));
  }
  if (!(key.value().public_key() == config.terminal_public_key)) {
    return TerminalFail(TerminalError::keystore_failed,
                        storage.PathOf(internal::kKeyFile) + " holds another terminal's key");
  }
  return std::move(key.value());
}

// The journal module creates an empty journal where none exists; a terminal that has a
// terminal.conf but no segment files lost its journal, and must not start over silently.
TerminalStatus ExpectJournal(storage::Storage& storage) {
  auto names = storage.List();
  if (!names.ok()) return Err{FromStorage(names.error())};
  for (const std::string& name : names.value()) {
    if (name.starts_with("segment-") && name.ends_with(".tpj")) return TerminalStatus::Ok();
  }
  return TerminalFail(TerminalError::journal_corrupt,
                      "no journal segment (segment-*.tpj) in " + storage.PathOf(""));
}

}  // namespace

TerminalResult<std::unique_ptr<Terminal>> Terminal::Load(
    storage::Storage& storage, std::unique_ptr<storage::DirectoryLock> lock,
    const crypto::Passphrase& passphrase, const TerminalOptions& options) {
  auto config = ReadConfig(storage);
  if (!config.ok()) return Err{config.error()};
  auto key = UnlockKey(storage, passphrase, config.value());
  if (!key.ok()) return Err{key.error()};
  if (TerminalStatus s = ExpectJournal(storage); !s.ok()) return Err{s.error()};
  std::unique_ptr<Terminal> terminal(
      new Terminal(storage, std::move(lock), std::move(config.value()), std::move(key.value())));
  if (TerminalStatus s = terminal->LoadDenyList(); !s.ok()) return Err{s.error()};
  if (TerminalStatus s = terminal->OpenJournal(options); !s.ok()) return Err{s.error()};
  if (TerminalStatus s = terminal->Replay(); !s.ok()) return Err{s.error()};
  // Pending batches are re-signed now so PendingBatches() is cheap; Ed25519 is deterministic,
  // so these are the very bytes BuildBatches returned before the restart.
  for (BatchEntry& batch : terminal->batches_) {
    if (!batch.uploaded) batch.bytes = terminal->SignBatch(batch.record);
  }
  return terminal;
}

TerminalStatus Terminal::OpenJournal(const TerminalOptions& options) {
  if (options.tokens_not_uploaded_max == 0 ||
      options.tokens_not_uploaded_max > kTokensNotUploadedMax) {
    return TerminalFail(
        TerminalError::invalid_argument,
        "tokens_not_uploaded_max " + std::to_string(options.tokens_not_uploaded_max));
  }
  tokens_not_uploaded_max_ = options.tokens_not_uploaded_max;
  journal::JournalOptions journal_options;
  journal_options.lock_directory = false;  // this Terminal holds the directory lock
  journal_options.segment_bytes_max = options.segment_bytes_max;
  auto journal = journal::JournalWriter::Open(storage_, journal_options);
  if (!journal.ok()) return Err{FromJournal(journal.error())};
  journal_ = std::move(journal.value());
  torn_tail_bytes_ = journal_->stats().torn_tail_bytes;
  return TerminalStatus::Ok();
}

TerminalStatus Terminal::Replay() {
  const journal::SequenceNo first = journal_->stats().first_sequence;
  if (journal_->stats().last_sequence < first) return TerminalStatus::Ok();  // empty
  auto reader = journal::JournalReader::Open(storage_, first);
  if (!reader.ok()) return Err{FromJournal(reader.error())};
  for (;;) {
    auto next = reader.value()->Next();
    if (!next.ok()) return Err{FromJournal(next.error())};
    if (!next.value().has_value()) break;
    if (TerminalStatus s = ApplyRecord(*next.value()); !s.ok()) return s;
  }
  return TerminalStatus::Ok();
}

namespace {

// Decodes one record and hands it to `apply`; a decode failure or an impossible fact is
// journal_corrupt naming the record, because the journal's checksums passed: the record was
// written this way (a bug or a foreign writer), and skipping it could lose a payment.
template <typename Decode, typename Apply>
std::optional<std::string> DecodeAndApply(std::span<const uint8_t> bytes, Decode decode,
                                          Apply apply) {
  auto decoded = decode(bytes);
  if (!decoded.ok()) return decoded.error();
  return apply(decoded.value());
}

}  // namespace

TerminalStatus Terminal::ApplyRecord(const journal::RecordView& record) {
  std::optional<std::string> bad;
  switch (static_cast<RecordType>(record.type)) {
    case RecordType::token_accepted:
      bad = DecodeAndApply(record.bytes, DecodeTokenAccepted,
                           [this](const TokenAccepted& r) { return ApplyAccepted(r); });
      break;
    case RecordType::token_voided:
      bad = DecodeAndApply(record.bytes, DecodeTokenVoided,
                           [this](const TokenVoided& r) { return ApplyVoided(r); });
      break;
    case RecordType::batch_built:
      bad = DecodeAndApply(record.bytes, DecodeBatchBuilt,
                           [this](const BatchBuilt& r) { return ApplyBatchBuilt(r); });
      break;
    case RecordType::batch_uploaded:
      bad = DecodeAndApply(record.bytes, DecodeBatchUploaded,
                           [this](const BatchUploaded& r) { return ApplyBatchUploaded(r); });
      break;
    default:
      bad = "unknown record type " + std::to_string(record.type);
  }
  if (!bad.has_value()) return TerminalStatus::Ok();
  return TerminalFail(TerminalError::journal_corrupt,
                      "record " + std::to_string(record.sequence.value) + ": " + *bad);
}

TerminalStatus Terminal::AppendDurably(RecordType type, std::span<const uint8_t> bytes) {
  const journal::RecordInput input{static_cast<uint16_t>(type), bytes};
  journal::RecordLocation location;
  auto appended = journal_->AppendGroup(std::span(&input, 1), std::span(&location, 1));
  if (!appended.ok()) return Err{FromJournal(appended.error())};
  if (auto synced = journal_->Sync(); !synced.ok()) return Err{FromJournal(synced.error())};
  return TerminalStatus::Ok();
}

std::optional<TokenState> Terminal::FindToken(const TokenId& token_id) const {
  const auto it = token_index_.find(token_id);
  if (it == token_index_.end()) return std::nullopt;
  return tokens_[it->second].state;
}

TerminalStatusReport Terminal::Status(uint64_t now_ms) const {
  TerminalStatusReport report;
  report.accepted = tokens_.size();
  report.voided = voided_count_;
  report.in_pending_batches = batched_count_;
  report.uploaded = uploaded_count_;
  report.ready = ReadyCount();
  report.pending_batches = pending_batch_count_;
  report.outstanding_requests = requests_.size();
  report.deny_list = DenyList(now_ms);
  report.torn_tail_bytes = torn_tail_bytes_;
  for (const TokenEntry& token : tokens_) {
    if (token.state != TokenState::accepted && token.state != TokenState::batched) continue;
    const uint64_t deadline = token.claim_deadline_ms;
    if (report.earliest_claim_deadline_ms == 0 || deadline < report.earliest_claim_deadline_ms) {
      report.earliest_claim_deadline_ms = deadline;
    }
    if (deadline <= now_ms) {
      ++report.claims_past_deadline;
    } else if (deadline - now_ms <= kClaimWarningMs) {
      ++report.claims_due_soon;
    }
  }
  return report;
}

}  // namespace tpw::terminal
