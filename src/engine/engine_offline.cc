// The issuer / clearing side of offline payments inside the engine (docs/offline-protocol.md).
//
// Every command that changes something runs in the sequencer and ends in one offline fact
// (offline_facts.h), preceded in the same group by the ledger facts of its money movements.
// Uploaded batches are decoded and their signatures verified before the sequencer, on the
// caller's thread and verify_threads - 1 helpers, so that the sequencer's share of clearing is
// bookkeeping and the cores spend their time on Ed25519.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "common/codec.h"
#include "crypto/hash.h"
#include "crypto/sign.h"
#include "engine/engine_impl.h"

namespace tpw::engine {

using ledger::Account;
using ledger::Transfer;
using offline::Bytes32;
using offline::CertificateRecord;
using offline::DeviceCertificate;

// ---------------------------------------------------------------------------------------------
// Names and the sync request layout

std::string_view OfflineErrorName(OfflineError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case OfflineError::name:          \
    return #name;
    TPW_OFFLINE_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown";
}

std::string_view OfflineErrorMessage(OfflineError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case OfflineError::name:          \
    return message;
    TPW_OFFLINE_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown error";
}


namespace {

OfflineReply Refuse(OfflineError error, std::string detail = {}) {
  OfflineReply reply;
  reply.error = error;
  reply.detail = std::move(detail);
  return reply;
}

// Ledger ids of the engine's own money movements: BLAKE2b of a domain and values that make the
// movement unique. The sequencer's timestamp is one of them: a transfer that failed for lack of
// funds marks its id as failed for ever, so a retry of the same command needs a new id; the
// command's own checks (device_exists, the exception's status) are what prevent paying twice.
TransferId DerivedTransferId(std::string_view domain, u128 a, uint64_t b) {
  BinaryWriter w;
  w.Bytes({reinterpret_cast<const uint8_t*>(domain.data()), domain.size()});
  w.U128(a);
  w.U64(b);
  const crypto::Hash256 hash = crypto::Blake2b256(w.buffer());
  uint64_t low = 0;
  uint64_t high = 0;
  std::memcpy(&low, hash.data(), 8);
  std::memcpy(&high, hash.data() + 8, 8);
  u128 id = MakeU128(high, low);
  if (id == 0 || id == kU128Max) id = 1;
  return TransferId{id};
}

crypto::PublicKey AsPublicKey(const Bytes32& bytes) { return crypto::PublicKey{bytes}; }
crypto::Signature AsSignature(const offline::Signature64& bytes) { return crypto::Signature{bytes}; }

// Signs an encoded message in place: its last 64 bytes are the signature over SignedPart.
void SignInPlace(const crypto::SecretKey& key, std::string_view domain, offline::MessageType type,
                 std::vector<uint8_t>& encoded) {
  const crypto::Signature signature = crypto::Sign(key, domain, offline::SignedPart(encoded, type));
  std::copy(signature.bytes.begin(), signature.bytes.end(),
            encoded.end() - static_cast<std::ptrdiff_t>(offline::kSignatureBytes));
}

std::string AccountResultText(ledger::CreateAccountResult result) {
  return std::string(ledger::ResultName(result));
}

// What the issuer must keep in the reserve for one certificate: the most its remaining tokens
// can still claim. Counters above `mark` are void; every counter up to it that has not cleared
// may still arrive, each for at most per_payment_max, and all of them together for at most
// what is left of the allowance — until the claim window closes at `now_ms`: then nothing.
Amount ClaimableUnder(const CertificateRecord& record, uint64_t mark, uint64_t now_ms) {
  const DeviceCertificate& cert = record.certificate;
  if (now_ms >= offline::ClaimDeadlineMs(cert.valid_until)) return Amount::Zero();
  const uint64_t last = std::min(mark, cert.counter_last());
  const uint64_t counters = last >= cert.counter_first ? last - cert.counter_first + 1 : 0;
  const uint64_t uncleared = counters > record.cleared_count ? counters - record.cleared_count : 0;
  const Amount left = cert.allowance.CheckedSub(record.cleared_total).value_or(Amount::Zero());
  const u128 by_count = u128{uncleared} * cert.per_payment_max.minor();
  const bool overflow = uncleared != 0 && by_count / uncleared != cert.per_payment_max.minor();
  if (overflow || by_count >= left.minor()) return left;
  return Amount::FromMinor(by_count);
}

bool ValidLimits(const OfflineCommand& c) {
  return !c.per_payment_max.is_zero() && c.allowance >= c.per_payment_max &&
         c.payment_count_max >= 1 && c.valid_for_ms >= 1;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Submission (caller threads)

void Engine::Impl::SubmitOffline(OfflineCommand command,
                                 std::function<void(OfflineReply&&)> done) {
  auto work = std::make_shared<OfflineWork>();
  work->command = std::move(command);
  if (work->command.kind == OfflineCommandKind::submit_batch) {
    if (std::optional<OfflineReply> refused = PrepareBatch(*work)) {
      done(std::move(*refused));
      return;
    }
  }
  Request request;
  request.kind = RequestKind::offline;
  request.offline = std::move(work);
  request.done = [done = std::move(done)](Reply&& reply) {
    if (reply.error) {
      OfflineReply failed = Refuse(OfflineError::engine_failed,
                                 std::string(EngineErrorName(*reply.error)) + ": " +
                                     std::string(EngineErrorMessage(*reply.error)));
      done(std::move(failed));
      return;
    }
    done(reply.offline ? std::move(*reply.offline) : Refuse(OfflineError::engine_failed, "no reply"));
  };
  Submit(std::move(request));
}

std::optional<Bytes32> Engine::Impl::PublishedIssuerKey(uint32_t key_id) const {
  std::lock_guard lock(verify_mutex_);
  auto it = published_issuer_keys_.find(key_id);
  if (it == published_issuer_keys_.end()) return std::nullopt;
  return it->second;
}

void Engine::Impl::PublishIssuerKey(uint32_t key_id, const Bytes32& key) {
  std::lock_guard lock(verify_mutex_);
  published_issuer_keys_[key_id] = key;
}

void Engine::Impl::PublishTerminalKey(u128 terminal_id, const Bytes32& key) {
  std::lock_guard lock(verify_mutex_);
  published_terminal_keys_[terminal_id] = key;
}

void Engine::Impl::PublishVerificationKeys() {
  std::lock_guard lock(verify_mutex_);
  published_issuer_keys_.clear();
  for (const auto& [key_id, key] : clearing_.IssuerKeys()) published_issuer_keys_[key_id] = key;
  published_terminal_keys_.clear();
  for (const offline::TerminalRecord& t : clearing_.Terminals()) {
    published_terminal_keys_[t.terminal_id] = t.public_key;
  }
}

// Decodes the upload and checks every signature it carries, in parallel: the batch's own (with
// the terminal key published now; the sequencer confirms the key is still the terminal's), each
// distinct certificate once (not at all if an earlier batch already proved it), every token.
std::optional<OfflineReply> Engine::Impl::PrepareBatch(OfflineWork& work) {
  const std::vector<uint8_t>& bytes = work.command.batch_bytes;
  auto decoded = offline::DecodeBatch(bytes);
  if (!decoded.ok()) {
    return Refuse(OfflineError::malformed, "terminal batch: " + decoded.error().Message());
  }
  work.batch = std::move(decoded.value());
  work.batch_hash = crypto::Blake2b256(bytes);
  const size_t count = work.batch.tokens.size();
  work.tokens.resize(count);
  const auto token_bytes = [&](size_t i) {
    return std::span<const uint8_t>(bytes).subspan(offline::kBatchHeaderBytes + i * offline::kTokenBytes,
                                                   offline::kTokenBytes);
  };

  // Distinct certificates, by the hash of their bytes (embedded at offset 8 of each token).
  std::unordered_map<crypto::Hash256, size_t, offline::Hash256Hasher> certificate_index;
  std::vector<crypto::Hash256> certificate_hashes;
  std::vector<size_t> certificate_of(count);
  std::vector<size_t> certificate_first_token;
  for (size_t i = 0; i < count; ++i) {
    const crypto::Hash256 hash =
        crypto::Blake2b256(token_bytes(i).subspan(8, offline::kCertificateBytes));
    auto [it, added] = certificate_index.try_emplace(hash, certificate_hashes.size());
    if (added) {
      certificate_hashes.push_back(hash);
      certificate_first_token.push_back(i);
    }
    certificate_of[i] = it->second;
  }
  std::vector<uint8_t> certificate_ok(certificate_hashes.size(), 0);
  {
    std::lock_guard lock(verify_mutex_);
    for (size_t c = 0; c < certificate_hashes.size(); ++c) {
      certificate_ok[c] = verified_certificates_.count(certificate_hashes[c]) != 0 ? 1 : 0;
    }
  }
  std::map<uint32_t, Bytes32> issuer_keys;
  {
    std::lock_guard lock(verify_mutex_);
    issuer_keys = published_issuer_keys_;
    if (auto t = published_terminal_keys_.find(work.batch.terminal_id);
        t != published_terminal_keys_.end()) {
      work.batch_key_checked = t->second;
    }
  }

  // Work items: the batch signature (if its terminal is known), certificates still to verify,
  // then every token. Threads take chunks of them (below).
  const size_t batch_items = work.batch_key_checked ? 1 : 0;
  std::vector<size_t> certificates_to_verify;
  for (size_t c = 0; c < certificate_ok.size(); ++c) {
    if (certificate_ok[c] == 0) certificates_to_verify.push_back(c);
  }
  const size_t items = batch_items + certificates_to_verify.size() + count;
  const auto verify_item = [&](size_t item) {
    if (item < batch_items) {
      work.batch_signature_ok =
          crypto::Verify(AsPublicKey(*work.batch_key_checked), offline::kBatchDomain,
                         offline::SignedPart(bytes, offline::MessageType::terminal_batch),
                         AsSignature(work.batch.signature));
      return;
    }
    item -= batch_items;
    if (item < certificates_to_verify.size()) {
      const size_t c = certificates_to_verify[item];
      const offline::PaymentToken& token = work.batch.tokens[certificate_first_token[c]];
      auto key = issuer_keys.find(token.certificate.issuer_key_id);
      const auto cert_bytes = token_bytes(certificate_first_token[c]).subspan(8, offline::kCertificateBytes);
      const bool ok = key != issuer_keys.end() &&
                      crypto::Verify(AsPublicKey(key->second), offline::kCertificateDomain,
                                     cert_bytes.first(offline::kCertificateSignedBytes),
                                     AsSignature(token.certificate.signature));
      certificate_ok[c] = ok ? 1 : 0;
      return;
    }
    const size_t i = item - certificates_to_verify.size();
    const offline::PaymentToken& token = work.batch.tokens[i];
    offline::CheckedToken& checked = work.tokens[i];
    checked.token_id = crypto::Blake2b256(token_bytes(i));
    checked.token_signature_ok =
        crypto::Verify(AsPublicKey(token.certificate.device_public_key), offline::kTokenDomain,
                       token_bytes(i).first(offline::kTokenSignedBytes), AsSignature(token.signature));
  };
  uint32_t threads = options_.verify_threads != 0 ? options_.verify_threads
                                                  : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<uint32_t>(std::min<size_t>(threads, std::max<size_t>(1, items / 64)));
  // Threads take small chunks from a shared cursor rather than fixed shares: a core that is
  // also running the sequencer or another upload's verification does less, and nobody waits
  // at the join for the slowest share.
  std::atomic<size_t> cursor{0};
  const auto verify_chunks = [&] {
    constexpr size_t kChunk = 32;
    for (size_t first = cursor.fetch_add(kChunk); first < items; first = cursor.fetch_add(kChunk)) {
      for (size_t item = first; item < std::min(items, first + kChunk); ++item) verify_item(item);
    }
  };
  std::vector<std::thread> helpers;
  for (uint32_t t = 1; t < threads; ++t) helpers.emplace_back(verify_chunks);
  verify_chunks();
  for (std::thread& helper : helpers) helper.join();

  {
    std::lock_guard lock(verify_mutex_);
    if (verified_certificates_.size() > (size_t{1} << 20)) verified_certificates_.clear();
    for (const size_t c : certificates_to_verify) {
      if (certificate_ok[c] != 0) verified_certificates_.insert(certificate_hashes[c]);
    }
  }
  for (size_t i = 0; i < count; ++i) {
    work.tokens[i].token = work.batch.tokens[i];
    work.tokens[i].certificate_signature_ok = certificate_ok[certificate_of[i]] != 0;
    work.tokens[i].certificate_hash = certificate_hashes[certificate_of[i]];
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Sequencer thread

uint64_t Engine::Impl::NowMs() const { return clock_->Now().ns / 1'000'000; }

// Unique per sequencer step: the ledger's last timestamp only grows.
uint64_t Engine::Impl::StepStamp() const { return ledger_->last_timestamp().ns; }

bool Engine::Impl::CanSign() const {
  if (options_.issuer_key == nullptr) return false;
  const std::optional<Bytes32> registered = clearing_.IssuerKey(options_.issuer_key_id);
  return registered && *registered == options_.issuer_key->public_key().bytes;
}

std::optional<OfflineReply> Engine::Impl::MoveMoney(const Transfer& transfer, OfflineError error,
                                                    Group& group) {
  const auto results = CreateTransfersNow({transfer}, group);
  if (results.empty()) return std::nullopt;
  OfflineReply reply = Refuse(error, std::string(ledger::ResultName(results[0].result)));
  reply.ledger_result = results[0].result;
  return reply;
}

std::vector<uint8_t> Engine::Impl::SignCertificate(DeviceCertificate& cert) const {
  std::vector<uint8_t> encoded = offline::Encode(cert);
  SignInPlace(*options_.issuer_key, offline::kCertificateDomain,
              offline::MessageType::device_certificate, encoded);
  std::copy(encoded.end() - 64, encoded.end(), cert.signature.begin());
  return encoded;
}

void Engine::Impl::AddOfflineFact(OfflineFact fact, Group& group) {
  AddOfflineFactAt(std::move(fact), NowMs(), group);
}

void Engine::Impl::AddOfflineFactAt(OfflineFact fact, uint64_t time_ms, Group& group) {
  fact.time_ms = time_ms;
  group.Add(FactType::offline, EncodeOfflineFact(fact));
}

void Engine::Impl::ExecuteOffline(Request& request, Reply& reply, Group& group) {
  OfflineWork& work = *request.offline;
  const OfflineCommand& c = work.command;
  switch (c.kind) {
    case OfflineCommandKind::add_issuer_key:
      reply.offline = AddIssuerKey(c, group);
      break;
    case OfflineCommandKind::enroll_device: {
      OfflineCommand limited = c;
      std::optional<OfflineReply> refused = ApplyRiskOfflineLimits(limited, c.asset);
      reply.offline = refused ? std::move(*refused) : EnrollDevice(limited, group);
      break;
    }
    case OfflineCommandKind::register_terminal:
      reply.offline = RegisterTerminal(c, group);
      break;
    case OfflineCommandKind::deactivate_terminal:
      reply.offline = DeactivateTerminal(c, group);
      break;
    case OfflineCommandKind::revoke_device:
      reply.offline = RevokeDevice(c, group);
      break;
    case OfflineCommandKind::sync_device: {
      OfflineCommand limited = c;
      const offline::DeviceRecord* device = clearing_.Device(c.device_id);
      const CertificateRecord* current = device != nullptr ? clearing_.Certificate(device->current_serial) : nullptr;
      std::optional<OfflineReply> refused =
          current != nullptr ? ApplyRiskOfflineLimits(limited, current->certificate.asset) : std::nullopt;
      reply.offline = refused ? std::move(*refused) : SyncDevice(limited, group);
      break;
    }
    case OfflineCommandKind::submit_batch:
      reply.offline = ClearBatch(work, group);
      break;
    case OfflineCommandKind::resolve_exception:
      reply.offline = ResolveException(c, group);
      break;
    case OfflineCommandKind::list_exceptions:
      reply.offline = ListExceptions(c);
      break;
    case OfflineCommandKind::deny_list:
      reply.offline = DenyListReply(c);
      break;
    case OfflineCommandKind::device_info:
      reply.offline = DeviceInfo(c);
      break;
    case OfflineCommandKind::issuer_keys:
      reply.offline = OfflineReply{};
      reply.offline->issuer_keys = clearing_.IssuerKeys();
      break;
  }
}

OfflineReply Engine::Impl::AddIssuerKey(const OfflineCommand& c, Group& group) {
  if (clearing_.IssuerKey(c.issuer_key_id)) {
    return Refuse(OfflineError::issuer_key_exists,
                "issuer key id " + std::to_string(c.issuer_key_id) + " is taken");
  }
  OfflineFact fact;
  fact.kind = OfflineFactKind::issuer_key;
  fact.issuer_key_id = c.issuer_key_id;
  fact.public_key = c.public_key;
  AddOfflineFact(std::move(fact), group);
  clearing_.AddIssuerKey(c.issuer_key_id, c.public_key);
  PublishIssuerKey(c.issuer_key_id, c.public_key);
  return OfflineReply{};
}

OfflineReply Engine::Impl::EnrollDevice(const OfflineCommand& c, Group& group) {
  if (!CanSign()) return Refuse(OfflineError::issuer_key_unavailable);
  if (c.device_id == 0) return Refuse(OfflineError::malformed, "device id 0 is reserved");
  if (clearing_.Device(c.device_id) != nullptr) return Refuse(OfflineError::device_exists);
  if (c.per_payment_max.is_zero() || c.payment_count_max == 0) {
    return Refuse(OfflineError::invalid_limits,
                  "per_payment_max and payments_max are required: give them, or set an [offline] "
                  "section for this asset in the risk rules (docs/risk-rules.md)");
  }
  if (!ValidLimits(c)) return Refuse(OfflineError::invalid_limits);
  if (c.reserve_account.value == 0 || c.reserve_account == c.user_account) {
    return Refuse(OfflineError::malformed, "the reserve account must be a new account of its own");
  }
  const std::optional<Account> user = ledger_->LookupAccount(c.user_account);
  if (!user) return Refuse(OfflineError::unknown_account, "user account does not exist");
  if (user->ledger != c.asset) {
    return Refuse(OfflineError::malformed, "the user account holds another asset than the allowance");
  }

  // The reserve: an account that can never go below zero. A retry after a failed funding finds
  // it `exists` (identical), which is fine.
  Account reserve;
  reserve.id = c.reserve_account;
  reserve.ledger = c.asset;
  reserve.code = kReserveAccountCode;
  reserve.flags = ledger::account_flags::kDebitsMustNotExceedCredits;
  reserve.user_data_128 = c.device_id;
  const auto account_results = CreateAccountsNow({reserve}, group);
  if (!account_results.empty() && account_results[0].result != ledger::CreateAccountResult::exists) {
    return Refuse(OfflineError::reserve_account_failed, AccountResultText(account_results[0].result));
  }

  DeviceCertificate cert;
  cert.issuer_key_id = options_.issuer_key_id;
  cert.serial = clearing_.next_serial();
  cert.device_id = c.device_id;
  cert.device_public_key = c.public_key;
  cert.reserve_account_id = c.reserve_account.value;
  cert.asset = c.asset;
  cert.payment_count_max = c.payment_count_max;
  cert.per_payment_max = c.per_payment_max;
  cert.allowance = c.allowance;
  cert.counter_first = 1;
  cert.cvm_threshold = c.cvm_threshold;
  cert.valid_from = NowMs();
  cert.valid_until = cert.valid_from + c.valid_for_ms;
  cert.previous_serial = 0;

  Transfer funding;
  funding.id = DerivedTransferId("tpwallet/v1/reserve-funding", c.device_id, StepStamp());
  funding.debit_account_id = c.user_account;
  funding.credit_account_id = c.reserve_account;
  funding.amount = c.allowance;
  funding.ledger = c.asset;
  funding.code = kReserveFundingCode;
  if (auto refused = MoveMoney(funding, OfflineError::funding_failed, group)) return *refused;

  std::vector<uint8_t> encoded = SignCertificate(cert);
  OfflineFact fact;
  fact.kind = OfflineFactKind::certificate;
  fact.user_account = c.user_account;
  fact.certificate = encoded;
  AddOfflineFact(std::move(fact), group);
  clearing_.RecordCertificate(cert, c.user_account);

  OfflineReply reply;
  reply.certificate = std::move(encoded);
  return reply;
}

OfflineReply Engine::Impl::SyncDevice(const OfflineCommand& c, Group& group) {
  if (!CanSign()) return Refuse(OfflineError::issuer_key_unavailable);
  const offline::DeviceRecord* device = clearing_.Device(c.device_id);
  if (device == nullptr) return Refuse(OfflineError::unknown_device);
  if (device->revoked) return Refuse(OfflineError::device_revoked);
  const CertificateRecord& current = *clearing_.Certificate(device->current_serial);
  const DeviceCertificate& old = current.certificate;
  const uint64_t mark = c.last_counter_used;
  if (!crypto::Verify(AsPublicKey(device->public_key), kSyncRequestDomain,
                      SyncRequestBytes(c.device_id, old.serial, mark),
                      AsSignature(c.device_signature))) {
    return Refuse(OfflineError::bad_sync_request,
                "the device signature does not cover (device, serial " + std::to_string(old.serial) +
                    ", last counter " + std::to_string(mark) + ")");
  }
  if (mark != 0 && (mark < old.counter_first - 1 || mark > old.counter_last())) {
    return Refuse(OfflineError::bad_sync_request, "last counter used is outside the certificate's range");
  }

  // New limits: the command's where given, else the old certificate's.
  DeviceCertificate cert = old;
  cert.serial = clearing_.next_serial();
  cert.previous_serial = old.serial;
  cert.counter_first = old.counter_last() + 1;
  if (!c.allowance.is_zero()) cert.allowance = c.allowance;
  if (!c.per_payment_max.is_zero()) cert.per_payment_max = c.per_payment_max;
  if (c.payment_count_max != 0) cert.payment_count_max = c.payment_count_max;
  if (c.cvm_threshold != Amount::Max()) {
    cert.cvm_threshold = c.cvm_threshold;
  } else if (c.remove_cvm_threshold) {
    cert.cvm_threshold = Amount::Max();
  }
  const uint64_t valid_for = c.valid_for_ms != 0 ? c.valid_for_ms : old.valid_until - old.valid_from;
  cert.valid_from = NowMs();
  cert.valid_until = cert.valid_from + valid_for;
  if (cert.per_payment_max.is_zero() || cert.allowance < cert.per_payment_max) {
    return Refuse(OfflineError::invalid_limits);
  }

  // Held: what every certificate of the device can still claim, the current one up to `mark`;
  // certificates whose claim window has closed hold nothing any more.
  const uint64_t now_ms = NowMs();
  Amount held = Amount::Zero();
  for (const CertificateRecord* record : clearing_.CertificatesOf(c.device_id)) {
    const uint64_t record_mark =
        record->certificate.serial == old.serial ? mark : record->void_above_counter;
    held = held.CheckedAdd(ClaimableUnder(*record, record_mark, now_ms)).value_or(Amount::Max());
  }
  const Account reserve = *ledger_->LookupAccount(device->reserve_account);
  const u128 balance = reserve.credits_posted.minor() - reserve.debits_posted.minor() -
                       reserve.debits_pending.minor();
  const std::optional<Amount> target = held.CheckedAdd(cert.allowance);
  if (!target) return Refuse(OfflineError::invalid_limits, "held + allowance overflows");
  if (target->minor() != balance) {
    const bool top_up = target->minor() > balance;
    Transfer move;
    move.id = DerivedTransferId(top_up ? "tpwallet/v1/reserve-funding" : "tpwallet/v1/reserve-return",
                                c.device_id, StepStamp());
    move.debit_account_id = top_up ? device->user_account : device->reserve_account;
    move.credit_account_id = top_up ? device->reserve_account : device->user_account;
    move.amount = Amount::FromMinor(top_up ? target->minor() - balance : balance - target->minor());
    move.ledger = cert.asset;
    move.code = top_up ? kReserveFundingCode : kReserveReturnCode;
    if (auto refused = MoveMoney(move, OfflineError::funding_failed, group)) return *refused;
  }

  std::vector<uint8_t> encoded = SignCertificate(cert);
  OfflineFact fact;
  fact.kind = OfflineFactKind::sync;
  fact.user_account = device->user_account;
  fact.previous_serial = old.serial;
  fact.last_counter_used = mark;
  fact.certificate = encoded;
  const AccountId user_account = device->user_account;
  const Amount cleared = current.cleared_total;
  AddOfflineFact(std::move(fact), group);
  clearing_.VoidCountersAbove(old.serial, mark);
  clearing_.RecordCertificate(cert, user_account);

  offline::SyncStatement statement;
  statement.issuer_key_id = options_.issuer_key_id;
  statement.device_id = c.device_id;
  statement.previous_serial = old.serial;
  statement.last_counter_used = mark;
  statement.cleared_amount = cleared;
  statement.held_amount = held;
  statement.reserve_balance = *target;
  statement.issued = cert.valid_from;
  statement.certificate = cert;
  std::vector<uint8_t> statement_bytes = offline::Encode(statement);
  SignInPlace(*options_.issuer_key, offline::kSyncStatementDomain,
              offline::MessageType::sync_statement, statement_bytes);
  OfflineReply reply;
  reply.certificate = std::move(encoded);
  reply.sync_statement = std::move(statement_bytes);
  return reply;
}

OfflineReply Engine::Impl::RegisterTerminal(const OfflineCommand& c, Group& group) {
  if (c.terminal_id == 0) return Refuse(OfflineError::malformed, "terminal id 0 is reserved");
  if (clearing_.Terminal(c.terminal_id) != nullptr) return Refuse(OfflineError::terminal_exists);
  if (!ledger_->LookupAccount(c.settlement_account)) {
    return Refuse(OfflineError::unknown_account, "the merchant's settlement account does not exist");
  }
  OfflineFact fact;
  fact.kind = OfflineFactKind::terminal;
  fact.terminal_id = c.terminal_id;
  fact.merchant_id = c.merchant_id;
  fact.settlement_account = c.settlement_account;
  fact.public_key = c.public_key;
  fact.active = true;
  AddOfflineFact(std::move(fact), group);
  clearing_.RegisterTerminal(
      offline::TerminalRecord{c.terminal_id, c.merchant_id, c.settlement_account, c.public_key, true});
  PublishTerminalKey(c.terminal_id, c.public_key);
  return OfflineReply{};
}

OfflineReply Engine::Impl::DeactivateTerminal(const OfflineCommand& c, Group& group) {
  const offline::TerminalRecord* terminal = clearing_.Terminal(c.terminal_id);
  if (terminal == nullptr) return Refuse(OfflineError::unknown_terminal);
  OfflineFact fact;
  fact.kind = OfflineFactKind::terminal;
  fact.terminal_id = terminal->terminal_id;
  fact.merchant_id = terminal->merchant_id;
  fact.settlement_account = terminal->settlement_account;
  fact.public_key = terminal->public_key;
  fact.active = false;
  AddOfflineFact(std::move(fact), group);
  clearing_.DeactivateTerminal(c.terminal_id);
  return OfflineReply{};
}

OfflineReply Engine::Impl::RevokeDevice(const OfflineCommand& c, Group& group) {
  const offline::DeviceRecord* device = clearing_.Device(c.device_id);
  if (device == nullptr) return Refuse(OfflineError::unknown_device);
  if (device->revoked) return Refuse(OfflineError::device_revoked, "already revoked");
  OfflineFact fact;
  fact.kind = OfflineFactKind::revocation;
  fact.device_id = c.device_id;
  AddOfflineFact(std::move(fact), group);
  clearing_.RevokeDevice(c.device_id);
  return OfflineReply{};
}

OfflineReply Engine::Impl::ClearBatch(OfflineWork& work, Group& group) {
  const std::vector<uint8_t>& bytes = work.command.batch_bytes;
  const offline::TerminalRecord* terminal = clearing_.Terminal(work.batch.terminal_id);
  bool signature_ok = false;
  if (terminal != nullptr && work.batch_key_checked == terminal->public_key) {
    signature_ok = work.batch_signature_ok;  // checked in parallel before the sequencer
  } else if (terminal != nullptr) {
    signature_ok = crypto::Verify(AsPublicKey(terminal->public_key), offline::kBatchDomain,
                                  offline::SignedPart(bytes, offline::MessageType::terminal_batch),
                                  AsSignature(work.batch.signature));
  }
  if (auto rejection = clearing_.CheckBatch(work.batch, signature_ok, work.batch_hash)) {
    OfflineReply reply = Refuse(OfflineError::batch_rejected,
                              std::string(offline::BatchRejectionName(*rejection)));
    reply.batch_rejection = rejection;
    return reply;
  }
  // Read once: the claim window is judged at this instant, and the batch fact records it so a
  // replay judges the same.
  const uint64_t upload_time_ms = NowMs();
  const offline::BatchPlan plan =
      clearing_.Plan(work.batch, work.batch_hash, work.tokens, upload_time_ms);
  OfflineReply reply;
  if (plan.repeated) {
    reply.outcomes = plan.outcomes;
    reply.batch_repeated = true;
    return reply;
  }
  std::vector<Transfer> transfers;
  transfers.reserve(plan.settlements.size());
  for (const auto& [index, settlement] : plan.settlements) {
    Transfer t;
    t.id = settlement.id;
    t.debit_account_id = settlement.debit_account;
    t.credit_account_id = settlement.credit_account;
    t.amount = settlement.amount;
    t.ledger = settlement.asset;
    t.code = kOfflineSettlementCode;
    transfers.push_back(t);
  }
  std::vector<bool> transfer_ok(transfers.size(), true);
  if (!transfers.empty()) {
    for (const ledger::CreateTransfersResult& r : CreateTransfersNow(std::move(transfers), group)) {
      transfer_ok[r.index] = false;
    }
  }
  OfflineFact fact;
  fact.kind = OfflineFactKind::batch;
  fact.token_checks.reserve(work.tokens.size());
  for (const offline::CheckedToken& t : work.tokens) {
    fact.token_checks.push_back(static_cast<uint8_t>((t.certificate_signature_ok ? kCertificateCheckOk : 0) |
                                                     (t.token_signature_ok ? kTokenCheckOk : 0)));
  }
  for (const bool ok : transfer_ok) fact.settlements_ok.push_back(ok ? 1 : 0);
  fact.batch = bytes;
  AddOfflineFactAt(std::move(fact), upload_time_ms, group);
  reply.outcomes = clearing_.Commit(plan, work.batch_hash, work.tokens, transfer_ok);
  DecideClearedTokens(work.tokens, reply.outcomes);
  return reply;
}

OfflineReply Engine::Impl::ResolveException(const OfflineCommand& c, Group& group) {
  const std::optional<offline::ExceptionRecord> record = clearing_.Exception(c.exception_id);
  if (!record || record->status != offline::ExceptionRecord::Status::open) {
    return Refuse(OfflineError::unknown_exception,
                "exception " + std::to_string(c.exception_id) + " is unknown or already resolved");
  }
  using Status = offline::ExceptionRecord::Status;
  if (c.resolution != Status::paid_from_guarantee && c.resolution != Status::rejected) {
    return Refuse(OfflineError::malformed, "a resolution is pay_from_guarantee or reject");
  }
  if (c.resolution == Status::paid_from_guarantee &&
      record->classification == offline::Classification::risk_flag) {
    return Refuse(OfflineError::malformed,
                  "a risk_flag exception's token was already paid; resolve it with reject once reviewed");
  }
  if (c.resolution == Status::paid_from_guarantee) {
    const offline::TerminalRecord* terminal = clearing_.Terminal(record->terminal_id);
    if (terminal == nullptr) return Refuse(OfflineError::unknown_terminal);
    Transfer payment;
    payment.id = DerivedTransferId("tpwallet/v1/guarantee-payment", c.exception_id, StepStamp());
    payment.debit_account_id = c.guarantee_account;
    payment.credit_account_id = terminal->settlement_account;
    payment.amount = record->amount;
    payment.ledger = record->asset;
    payment.code = kGuaranteePaymentCode;
    if (auto refused = MoveMoney(payment, OfflineError::guarantee_payment_failed, group)) {
      return *refused;
    }
  }
  OfflineFact fact;
  fact.kind = OfflineFactKind::exception_resolved;
  fact.exception_id = c.exception_id;
  fact.resolution = c.resolution;
  AddOfflineFact(std::move(fact), group);
  clearing_.ResolveException(c.exception_id, c.resolution);
  OfflineReply reply;
  reply.exceptions.push_back(*clearing_.Exception(c.exception_id));
  return reply;
}

OfflineReply Engine::Impl::ListExceptions(const OfflineCommand& c) const {
  offline::ExceptionsPage page = clearing_.Exceptions(c.exceptions_filter);
  OfflineReply reply;
  reply.exceptions = std::move(page.records);
  reply.exceptions_next_after = page.next_after;
  return reply;
}

OfflineReply Engine::Impl::DenyListReply(const OfflineCommand& c) const {
  if (!CanSign()) return Refuse(OfflineError::issuer_key_unavailable);
  const uint64_t version = clearing_.deny_list_version();
  if (c.since_version > version) {
    return Refuse(OfflineError::malformed, "since_version " + std::to_string(c.since_version) +
                                             " is ahead of the list's version " + std::to_string(version));
  }
  offline::DenyList list;
  list.delta = c.since_version != 0;
  list.issuer_key_id = options_.issuer_key_id;
  list.list_version = version;
  list.base_version = c.since_version;
  list.issued = NowMs();
  list.max_age = options_.deny_list_max_age_ms;
  list.device_ids = list.delta ? clearing_.DeniedSince(c.since_version) : clearing_.DeniedDevices();
  std::sort(list.device_ids.begin(), list.device_ids.end());
  std::vector<uint8_t> encoded = offline::Encode(list);
  SignInPlace(*options_.issuer_key, list.delta ? offline::kDenyListDeltaDomain : offline::kDenyListDomain,
              list.delta ? offline::MessageType::deny_list_delta : offline::MessageType::deny_list,
              encoded);
  OfflineReply reply;
  reply.deny_list = std::move(encoded);
  return reply;
}

OfflineReply Engine::Impl::DeviceInfo(const OfflineCommand& c) const {
  const offline::DeviceRecord* device = clearing_.Device(c.device_id);
  if (device == nullptr) return Refuse(OfflineError::unknown_device);
  OfflineReply reply;
  reply.device = *device;
  reply.current_certificate = *clearing_.Certificate(device->current_serial);
  return reply;
}

// ---------------------------------------------------------------------------------------------
// Recovery

EngineStatus Engine::Impl::CheckIssuerKey() {
  if (options_.issuer_key == nullptr) return EngineStatus::Ok();
  const std::optional<Bytes32> registered = clearing_.IssuerKey(options_.issuer_key_id);
  if (registered && *registered != options_.issuer_key->public_key().bytes) {
    return EngineFail(EngineError::issuer_key_mismatch,
                      "issuer key id " + std::to_string(options_.issuer_key_id) +
                          " is registered with another public key");
  }
  return EngineStatus::Ok();
}

EngineStatus Engine::Impl::ApplyOfflineFact(const journal::RecordView& record) {
  const auto diverged = [&](const std::string& why) {
    return EngineFail(EngineError::replay_diverged,
                      "journal record " + std::to_string(record.sequence.value) + ": " + why);
  };
  auto decoded = DecodeOfflineFact(record.bytes);
  if (!decoded.ok()) return diverged(decoded.error());
  const OfflineFact& fact = decoded.value();
  const auto certificate = [&]() -> std::optional<DeviceCertificate> {
    auto cert = offline::DecodeCertificate(fact.certificate);
    if (!cert.ok() || clearing_.Certificate(cert.value().serial) != nullptr) return std::nullopt;
    return cert.value();
  };
  switch (fact.kind) {
    case OfflineFactKind::issuer_key:
      if (clearing_.IssuerKey(fact.issuer_key_id)) return diverged("issuer key id registered twice");
      clearing_.AddIssuerKey(fact.issuer_key_id, fact.public_key);
      break;
    case OfflineFactKind::certificate: {
      const auto cert = certificate();
      if (!cert) return diverged("a certificate that does not decode or repeats a serial");
      clearing_.RecordCertificate(*cert, fact.user_account);
      break;
    }
    case OfflineFactKind::sync: {
      const auto cert = certificate();
      if (!cert || clearing_.Certificate(fact.previous_serial) == nullptr) {
        return diverged("a sync that does not fit the device's certificates");
      }
      clearing_.VoidCountersAbove(fact.previous_serial, fact.last_counter_used);
      clearing_.RecordCertificate(*cert, fact.user_account);
      break;
    }
    case OfflineFactKind::terminal:
      clearing_.RegisterTerminal(offline::TerminalRecord{fact.terminal_id, fact.merchant_id,
                                                         fact.settlement_account, fact.public_key,
                                                         fact.active});
      break;
    case OfflineFactKind::revocation:
      if (!clearing_.RevokeDevice(fact.device_id)) return diverged("revocation of an unknown device");
      break;
    case OfflineFactKind::batch: {
      auto batch = offline::DecodeBatch(fact.batch);
      if (!batch.ok() || batch.value().tokens.size() != fact.token_checks.size()) {
        return diverged("a batch fact whose batch does not decode");
      }
      std::vector<offline::CheckedToken> tokens(fact.token_checks.size());
      for (size_t i = 0; i < tokens.size(); ++i) {
        tokens[i].token = batch.value().tokens[i];
        tokens[i].token_id = crypto::Blake2b256(std::span<const uint8_t>(fact.batch).subspan(
            offline::kBatchHeaderBytes + i * offline::kTokenBytes, offline::kTokenBytes));
        tokens[i].certificate_hash = crypto::Blake2b256(std::span<const uint8_t>(fact.batch).subspan(
            offline::kBatchHeaderBytes + i * offline::kTokenBytes + 8, offline::kCertificateBytes));
        tokens[i].certificate_signature_ok = (fact.token_checks[i] & kCertificateCheckOk) != 0;
        tokens[i].token_signature_ok = (fact.token_checks[i] & kTokenCheckOk) != 0;
      }
      const crypto::Hash256 hash = crypto::Blake2b256(fact.batch);
      const offline::BatchPlan plan = clearing_.Plan(batch.value(), hash, tokens, fact.time_ms);
      if (plan.repeated || plan.settlements.size() != fact.settlements_ok.size()) {
        return diverged("a batch that classifies differently on replay");
      }
      std::vector<bool> ok(fact.settlements_ok.begin(), fact.settlements_ok.end());
      DecideClearedTokens(tokens, clearing_.Commit(plan, hash, tokens, ok));
      break;
    }
    case OfflineFactKind::exception_resolved:
      if (!clearing_.ResolveException(fact.exception_id, fact.resolution)) {
        return diverged("resolution of an exception that is not open");
      }
      break;
  }
  return EngineStatus::Ok();
}

}  // namespace tpw::engine
