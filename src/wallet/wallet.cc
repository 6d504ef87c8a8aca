#include "wallet/wallet.h"

#include <algorithm>
#include <utility>

#include "common/codec.h"
#include "crypto/secure.h"
#include "wallet/wallet_state.h"

namespace tpw::wallet {
namespace {

Err<WalletFailure> Fail(WalletError code, std::string detail) {
  return Err<WalletFailure>{WalletFailure{code, std::move(detail)}};
}

Err<WalletFailure> StorageFailed(const storage::StorageFailure& failure) {
  const WalletError code = failure.code == storage::StorageError::locked
                               ? WalletError::wallet_locked
                               : WalletError::storage_failed;
  return Fail(code, failure.Message());
}

// Keystore errors met while opening an existing wallet.
Err<WalletFailure> KeystoreFailed(crypto::KeystoreError error) {
  using crypto::KeystoreError;
  std::string detail(crypto::KeystoreErrorMessage(error));
  switch (error) {
    case KeystoreError::wrong_passphrase_or_tampered:
      return Fail(WalletError::wrong_passphrase, std::move(detail));
    case KeystoreError::invalid_passphrase:
      return Fail(WalletError::invalid_passphrase, std::move(detail));
    case KeystoreError::out_of_memory:
      return Fail(WalletError::out_of_memory, std::move(detail));
    default:
      return Fail(WalletError::corrupt_keystore, std::string(kKeystoreFileName) + ": " +
                                                     std::string(crypto::KeystoreErrorName(error)) +
                                                     ": " + detail);
  }
}

std::string SerialName(uint64_t serial) { return "certificate serial " + std::to_string(serial); }

std::string AmountText(Amount amount) { return U128ToDecimal(amount.minor()); }

crypto::Signature ToSignature(const offline::Signature64& bytes) {
  return crypto::Signature{bytes};
}

// A random device id, never 0 or 2^128-1 (reserved). Bounded retries: each draw is one of those
// two with probability 2^-127, so a second failure means a broken random source.
u128 RandomDeviceId() {
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::array<uint8_t, 16> bytes{};
    crypto::RandomBytes(bytes);
    BinaryReader r(bytes);
    const u128 id = r.U128();
    if (id != 0 && id != kU128Max) return id;
  }
  TPW_UNREACHABLE();
}

// The verdict of one certificate on one request, in the order the checks run.
std::pair<WalletError, std::string> Verdict(const CertificateState& e,
                                            const offline::PaymentRequest& request,
                                            const PayOptions& options, uint64_t now_ms) {
  const offline::DeviceCertificate& c = e.certificate;
  const std::string name = SerialName(c.serial);
  if (e.sync_pending) return {WalletError::sync_pending, name + " awaits its sync statement"};
  if (now_ms < c.valid_from) {
    return {WalletError::certificate_not_yet_valid, name + " is valid from " +
                                                        std::to_string(c.valid_from) + " (now " +
                                                        std::to_string(now_ms) + ")"};
  }
  if (now_ms >= c.valid_until) {
    return {WalletError::certificate_expired, name + " expired at " +
                                                  std::to_string(c.valid_until) + " (now " +
                                                  std::to_string(now_ms) + ")"};
  }
  if (e.remaining_payments() == 0) {
    return {WalletError::counters_exhausted,
            name + " used all " + std::to_string(c.payment_count_max) + " counters"};
  }
  if (request.amount > c.per_payment_max) {
    return {WalletError::over_per_payment_max, "amount " + AmountText(request.amount) +
                                                   " is above " + AmountText(c.per_payment_max) +
                                                   " (" + name + ")"};
  }
  if (request.amount > e.remaining_allowance()) {
    return {WalletError::allowance_exhausted,
            "amount " + AmountText(request.amount) + " is above the remaining " +
                AmountText(e.remaining_allowance()) + " (" + name + ")"};
  }
  if (request.amount > c.cvm_threshold && !options.pin_verified) {
    return {WalletError::pin_required, "amount " + AmountText(request.amount) +
                                           " is above the PIN threshold " +
                                           AmountText(c.cvm_threshold) + " (" + name + ")"};
  }
  return {WalletError::ok, ""};
}

// Funding rule: certificates for the request's asset, the one expiring soonest first (spend
// money that would otherwise be stranded at expiry), then the lowest serial (deterministic).
std::vector<size_t> FundingOrder(const Wallet::State& state, uint32_t asset) {
  std::vector<size_t> order;
  for (size_t i = 0; i < state.certificates.size(); ++i) {
    if (state.certificates[i].certificate.asset == asset) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const offline::DeviceCertificate& x = state.certificates[a].certificate;
    const offline::DeviceCertificate& y = state.certificates[b].certificate;
    if (x.valid_until != y.valid_until) return x.valid_until < y.valid_until;
    return x.serial < y.serial;
  });
  return order;
}

std::optional<size_t> FindSerial(const Wallet::State& state, uint64_t serial) {
  for (size_t i = 0; i < state.certificates.size(); ++i) {
    if (state.certificates[i].certificate.serial == serial) return i;
  }
  return std::nullopt;
}

// The certificates a request may be paid from: the chosen serial, or the funding order.
WalletResult<std::vector<size_t>> Eligible(const Wallet::State& state,
                                           const offline::PaymentRequest& request,
                                           const PayOptions& options) {
  if (options.serial) {
    const std::optional<size_t> index = FindSerial(state, *options.serial);
    if (!index) return Fail(WalletError::unknown_serial, SerialName(*options.serial));
    const uint32_t asset = state.certificates[*index].certificate.asset;
    if (asset != request.asset) {
      return Fail(WalletError::asset_mismatch, SerialName(*options.serial) + " is for asset " +
                                                   std::to_string(asset) + ", the request for " +
                                                   std::to_string(request.asset));
    }
    return std::vector<size_t>{*index};
  }
  std::vector<size_t> order = FundingOrder(state, request.asset);
  if (order.empty()) {
    return Fail(WalletError::no_certificate_for_asset,
                "asset " + std::to_string(request.asset) + " (" +
                    std::to_string(state.certificates.size()) + " certificates installed)");
  }
  return order;
}

WalletResult<offline::PaymentRequest> DecodeRequestOrFail(std::span<const uint8_t> bytes) {
  auto request = offline::DecodeRequest(bytes);
  if (!request.ok()) return Fail(WalletError::malformed_request, request.error().Message());
  return request.value();
}

}  // namespace

// ---- Small value types

std::string_view WalletErrorName(WalletError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case WalletError::name:           \
    return #name;
    TPW_WALLET_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown_wallet_error";
}

std::string_view WalletErrorMessage(WalletError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case WalletError::name:           \
    return message;
    TPW_WALLET_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown wallet error";
}

std::string WalletFailure::Message() const {
  std::string out(WalletErrorName(code));
  out += ": ";
  out += WalletErrorMessage(code);
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

std::vector<uint8_t> SyncRequest::Encode() const {
  std::vector<uint8_t> out = signed_bytes;
  out.insert(out.end(), signature.bytes.begin(), signature.bytes.end());
  return out;
}

Amount CertificateState::remaining_allowance() const {
  const std::optional<Amount> left = certificate.allowance.CheckedSub(spent);
  TPW_ASSERT(left.has_value());  // spent <= allowance: checked before every payment and on load
  return *left;
}

uint32_t CertificateState::remaining_payments() const {
  TPW_ASSERT(counters_used <= certificate.payment_count_max);
  return certificate.payment_count_max - counters_used;
}

uint64_t CertificateState::last_counter_used() const {
  TPW_ASSERT(certificate.counter_first >= 1);
  return certificate.counter_first + counters_used - 1;
}

// ---- Create, Open, Inspect

Wallet::Wallet(storage::Storage& storage, std::unique_ptr<storage::DirectoryLock> lock,
               crypto::SecretKey key, std::unique_ptr<State> state)
    : storage_(&storage), lock_(std::move(lock)), key_(std::move(key)), state_(std::move(state)) {
  TPW_ASSERT(!key_.empty());
  TPW_ASSERT(state_->device_public_key == key_.public_key());
}

Wallet::~Wallet() = default;

WalletResult<std::unique_ptr<Wallet>> Wallet::Create(storage::Storage& storage,
                                                     const crypto::Passphrase& passphrase,
                                                     const CreateOptions& options) {
  if (!crypto::IsValidKdfParams(options.kdf)) {
    return Fail(WalletError::invalid_argument, "KDF cost outside Argon2id's range");
  }
  auto lock = storage.LockDirectory();
  if (!lock.ok()) return StorageFailed(lock.error());
  // The keystore is written last: its presence is what makes a wallet exist, so a crash in the
  // middle of Create leaves a directory that Create may simply run in again.
  auto existing = storage.Open(kKeystoreFileName, storage::OpenMode::read_only);
  if (existing.ok()) return Fail(WalletError::wallet_exists, storage.PathOf(kKeystoreFileName));
  if (existing.error().code != storage::StorageError::not_found) {
    return StorageFailed(existing.error());
  }
  auto state = std::make_unique<State>();
  state->device_id = RandomDeviceId();
  state->issuer = options.issuer;
  crypto::SecretKey key = crypto::GenerateSigningKey();
  state->device_public_key = key.public_key();
  const std::string label = "tpwallet device " + U128ToHex(state->device_id);
  auto sealed = crypto::EncodeKeystore(key, passphrase, label, options.kdf);
  if (!sealed.ok()) return KeystoreFailed(sealed.error());
  std::unique_ptr<Wallet> wallet(
      new Wallet(storage, std::move(lock).value(), std::move(key), std::move(state)));
  if (WalletStatus s = wallet->Persist(); !s.ok()) return Err{s.error()};
  if (auto s = storage.WriteFileAtomically(kKeystoreFileName, sealed.value()); !s.ok()) {
    return StorageFailed(s.error());
  }
  return wallet;
}

namespace {

// Reads a file of the wallet directory; not_found is reported as `missing`.
WalletResult<std::vector<uint8_t>> ReadWalletFile(storage::Storage& storage, std::string_view name,
                                                  size_t bytes_max, WalletError missing,
                                                  WalletError too_large) {
  auto bytes = storage.ReadFile(name, bytes_max);
  if (bytes.ok()) return std::move(bytes).value();
  if (bytes.error().code == storage::StorageError::not_found) {
    return Fail(missing, storage.PathOf(name) + " does not exist");
  }
  if (bytes.error().code == storage::StorageError::too_large) {
    return Fail(too_large, bytes.error().Message());
  }
  return StorageFailed(bytes.error());
}

WalletResult<Wallet::State> ReadState(storage::Storage& storage) {
  auto bytes = ReadWalletFile(storage, kStateFileName, kStateBytesMax, WalletError::corrupt_state,
                              WalletError::corrupt_state);
  if (!bytes.ok()) return Err{bytes.error()};
  auto state = DecodeState(bytes.value());
  if (!state.ok()) {
    WalletFailure failure = state.error();
    failure.detail = storage.PathOf(kStateFileName) + ": " + failure.detail;
    return Err{failure};
  }
  return std::move(state).value();
}

}  // namespace

WalletResult<std::unique_ptr<Wallet>> Wallet::Open(storage::Storage& storage,
                                                   const crypto::Passphrase& passphrase) {
  auto lock = storage.LockDirectory();
  if (!lock.ok()) return StorageFailed(lock.error());
  auto sealed = ReadWalletFile(storage, kKeystoreFileName, crypto::kKeystoreBytesMax,
                               WalletError::no_wallet, WalletError::corrupt_keystore);
  if (!sealed.ok()) return Err{sealed.error()};
  auto key = crypto::UnlockKeystore(sealed.value(), passphrase);
  if (!key.ok()) return KeystoreFailed(key.error());
  auto state = ReadState(storage);
  if (!state.ok()) return Err{state.error()};
  if (state->device_public_key != key->public_key()) {
    return Fail(WalletError::keystore_state_mismatch, storage.PathOf(kStateFileName));
  }
  return std::unique_ptr<Wallet>(new Wallet(storage, std::move(lock).value(),
                                            std::move(key).value(),
                                            std::make_unique<State>(std::move(state).value())));
}

WalletResult<WalletInfo> Wallet::Inspect(storage::Storage& storage) {
  auto keystore = storage.Open(kKeystoreFileName, storage::OpenMode::read_only);
  if (!keystore.ok()) {
    if (keystore.error().code == storage::StorageError::not_found) {
      return Fail(WalletError::no_wallet, storage.PathOf(kKeystoreFileName) + " does not exist");
    }
    return StorageFailed(keystore.error());
  }
  auto state = ReadState(storage);
  if (!state.ok()) return Err{state.error()};
  const State& s = state.value();
  return WalletInfo{s.device_id,         s.device_public_key,   s.issuer,
                    s.certificates,      s.previous_token_hash, s.tokens_signed,
                    s.counter_high_water};
}

WalletInfo Wallet::Info() const {
  const State& s = *state_;
  return WalletInfo{s.device_id,         s.device_public_key,   s.issuer,
                    s.certificates,      s.previous_token_hash, s.tokens_signed,
                    s.counter_high_water};
}

u128 Wallet::device_id() const { return state_->device_id; }

WalletStatus Wallet::Persist() {
  ++state_->generation;
  const std::vector<uint8_t> bytes = EncodeState(*state_);
  if (auto s = storage_->WriteFileAtomically(kStateFileName, bytes); !s.ok()) {
    return StorageFailed(s.error());
  }
  return WalletStatus::Ok();
}

// ---- Issuer and certificates

WalletStatus Wallet::PinIssuer(const IssuerKey& issuer) {
  if (state_->issuer) {
    if (state_->issuer->key_id == issuer.key_id &&
        state_->issuer->public_key == issuer.public_key) {
      return WalletStatus::Ok();
    }
    return Fail(WalletError::issuer_already_pinned,
                "issuer key id " + std::to_string(state_->issuer->key_id) + " is pinned");
  }
  state_->issuer = issuer;
  WalletStatus s = Persist();
  if (!s.ok()) state_->issuer.reset();  // nothing depends on it yet: undo is safe
  return s;
}

namespace {

// Issuer signature over `signed_part` by the pinned key `key_id` names.
WalletStatus CheckIssuerSignature(const std::optional<IssuerKey>& issuer, uint32_t key_id,
                                  std::string_view domain, std::span<const uint8_t> signed_part,
                                  const offline::Signature64& signature, WalletError bad_signature,
                                  const std::string& what) {
  if (!issuer) return Fail(WalletError::issuer_not_pinned, what);
  if (key_id != issuer->key_id) {
    return Fail(WalletError::unknown_issuer_key, what + " names issuer key id " +
                                                     std::to_string(key_id) + ", pinned is " +
                                                     std::to_string(issuer->key_id));
  }
  if (!crypto::Verify(issuer->public_key, domain, signed_part, ToSignature(signature))) {
    return Fail(bad_signature, what);
  }
  return WalletStatus::Ok();
}

// Decodes and authenticates a certificate for this device.
WalletResult<offline::DeviceCertificate> CheckCertificate(const Wallet::State& state,
                                                          std::span<const uint8_t> bytes) {
  auto decoded = offline::DecodeCertificate(bytes);
  if (!decoded.ok()) return Fail(WalletError::malformed_certificate, decoded.error().Message());
  const offline::DeviceCertificate& c = decoded.value();
  const std::string name = SerialName(c.serial);
  WalletStatus signed_ok =
      CheckIssuerSignature(state.issuer, c.issuer_key_id, offline::kCertificateDomain,
                           offline::SignedPart(bytes, offline::MessageType::device_certificate),
                           c.signature, WalletError::bad_certificate_signature, name);
  if (!signed_ok.ok()) return Err{signed_ok.error()};
  if (c.device_id != state.device_id) {
    return Fail(WalletError::wrong_device, name + " is for device " + U128ToHex(c.device_id) +
                                               ", this is " + U128ToHex(state.device_id));
  }
  if (c.device_public_key != state.device_public_key.bytes) {
    return Fail(WalletError::wrong_device, name + " names another device public key");
  }
  return decoded.value();
}

}  // namespace

WalletResult<InstallOutcome> Wallet::AddCertificate(const offline::DeviceCertificate& certificate,
                                                    std::span<const uint8_t> bytes) {
  const std::string name = SerialName(certificate.serial);
  if (std::optional<size_t> held = FindSerial(*state_, certificate.serial)) {
    if (offline::Encode(state_->certificates[*held].certificate) ==
        std::vector<uint8_t>(bytes.begin(), bytes.end())) {
      return InstallOutcome{certificate.serial, true, std::nullopt};
    }
    return Fail(WalletError::serial_conflict, name);
  }
  if (certificate.counter_first <= state_->counter_high_water) {
    return Fail(WalletError::counter_range_reused,
                name + " starts at counter " + std::to_string(certificate.counter_first) +
                    "; counters up to " + std::to_string(state_->counter_high_water) +
                    " were already held");
  }
  std::optional<size_t> replaced;
  if (certificate.previous_serial != 0) replaced = FindSerial(*state_, certificate.previous_serial);
  if (!replaced && state_->certificates.size() >= kCertificatesMax) {
    return Fail(WalletError::too_many_certificates, std::to_string(kCertificatesMax) + " held");
  }
  State before = *state_;
  if (replaced) {
    state_->certificates.erase(state_->certificates.begin() +
                               static_cast<std::ptrdiff_t>(*replaced));
  }
  CertificateState entry;
  entry.certificate = certificate;
  const auto at = std::upper_bound(
      state_->certificates.begin(), state_->certificates.end(), certificate.serial,
      [](uint64_t serial, const CertificateState& e) { return serial < e.certificate.serial; });
  state_->certificates.insert(at, entry);
  state_->counter_high_water = certificate.counter_last();
  if (WalletStatus s = Persist(); !s.ok()) {
    // Undoing an install is safe: no counter of the new certificate was used.
    *state_ = std::move(before);
    return Err{s.error()};
  }
  InstallOutcome outcome{certificate.serial, false, std::nullopt};
  if (replaced) outcome.replaced_serial = certificate.previous_serial;
  return outcome;
}

WalletResult<InstallOutcome> Wallet::InstallCertificate(std::span<const uint8_t> bytes) {
  auto certificate = CheckCertificate(*state_, bytes);
  if (!certificate.ok()) return Err{certificate.error()};
  return AddCertificate(certificate.value(), bytes);
}

WalletResult<InstallOutcome> Wallet::InstallSyncStatement(std::span<const uint8_t> bytes) {
  auto decoded = offline::DecodeSyncStatement(bytes);
  if (!decoded.ok()) return Fail(WalletError::malformed_sync_statement, decoded.error().Message());
  const offline::SyncStatement& statement = decoded.value();
  WalletStatus signed_ok = CheckIssuerSignature(
      state_->issuer, statement.issuer_key_id, offline::kSyncStatementDomain,
      offline::SignedPart(bytes, offline::MessageType::sync_statement), statement.signature,
      WalletError::bad_sync_statement_signature, "sync statement");
  if (!signed_ok.ok()) return Err{signed_ok.error()};
  // The embedded certificate is bytes 96..327 (docs/offline-protocol.md, type 7).
  const std::span<const uint8_t> certificate_bytes = bytes.subspan(96, offline::kCertificateBytes);
  auto certificate = CheckCertificate(*state_, certificate_bytes);
  if (!certificate.ok()) return Err{certificate.error()};
  const uint64_t new_serial = certificate->serial;
  if (FindSerial(*state_, new_serial)) {  // a repeated delivery: no-op, or serial_conflict
    return AddCertificate(certificate.value(), certificate_bytes);
  }
  if (certificate->previous_serial != statement.previous_serial) {
    return Fail(WalletError::malformed_sync_statement,
                "the new certificate's previous_serial differs from the statement's");
  }
  const std::optional<size_t> old = FindSerial(*state_, statement.previous_serial);
  if (!old) {
    return Fail(WalletError::unknown_previous_certificate, SerialName(statement.previous_serial));
  }
  const uint64_t last_used = state_->certificates[*old].last_counter_used();
  if (statement.last_counter_used != last_used) {
    return Fail(WalletError::sync_mismatch,
                "statement says " + std::to_string(statement.last_counter_used) + ", wallet " +
                    std::to_string(last_used) + " (" + SerialName(statement.previous_serial) + ")");
  }
  return AddCertificate(certificate.value(), certificate_bytes);
}

// ---- Paying

WalletResult<std::vector<Candidate>> Wallet::Candidates(std::span<const uint8_t> request_bytes,
                                                        const PayOptions& options,
                                                        uint64_t now_ms) const {
  auto request = DecodeRequestOrFail(request_bytes);
  if (!request.ok()) return Err{request.error()};
  return CandidatesFor(request.value(), options, now_ms);
}

WalletResult<std::vector<Candidate>> Wallet::CandidatesFor(const offline::PaymentRequest& request,
                                                           const PayOptions& options,
                                                           uint64_t now_ms) const {
  auto order = Eligible(*state_, request, options);
  if (!order.ok()) return Err{order.error()};
  std::vector<Candidate> out;
  for (size_t index : order.value()) {
    const CertificateState& e = state_->certificates[index];
    auto [verdict, detail] = Verdict(e, request, options, now_ms);
    out.push_back(Candidate{e.certificate.serial, verdict, std::move(detail),
                            e.remaining_allowance(), e.remaining_payments(),
                            e.certificate.valid_until});
  }
  return out;
}

WalletResult<Payment> Wallet::Pay(std::span<const uint8_t> request_bytes, const PayOptions& options,
                                  uint64_t now_ms) {
  auto request = DecodeRequestOrFail(request_bytes);
  if (!request.ok()) return Err{request.error()};
  auto candidates = CandidatesFor(request.value(), options, now_ms);
  if (!candidates.ok()) return Err{candidates.error()};
  TPW_ASSERT(!candidates->empty());
  for (const Candidate& candidate : candidates.value()) {
    if (candidate.verdict != WalletError::ok) continue;
    const std::optional<size_t> index = FindSerial(*state_, candidate.serial);
    TPW_ASSERT(index.has_value());
    return SignAndPersist(*index, request.value(), options, now_ms);
  }
  // No certificate can pay: report why the preferred one (first in funding order) cannot.
  const Candidate& first = candidates->front();
  return Fail(first.verdict, first.detail);
}

WalletResult<Payment> Wallet::SignAndPersist(size_t index, const offline::PaymentRequest& request,
                                             const PayOptions& options, uint64_t now_ms) {
  CertificateState& entry = state_->certificates[index];
  TPW_ASSERT(entry.remaining_payments() > 0);
  TPW_ASSERT(request.amount <= entry.remaining_allowance());
  offline::PaymentToken token;
  token.cvm = options.pin_verified ? offline::Cvm::pin : offline::Cvm::none;
  token.asset = request.asset;
  token.certificate = entry.certificate;
  token.counter = entry.certificate.counter_first + entry.counters_used;
  token.amount = request.amount;
  token.merchant_id = request.merchant_id;
  token.terminal_id = request.terminal_id;
  token.nonce = request.nonce;
  token.terminal_time = request.terminal_time;
  token.device_time = now_ms;
  token.previous_token_hash = state_->previous_token_hash;
  std::vector<uint8_t> bytes = offline::Encode(token);
  // Ed25519 is deterministic, so signing before the write changes nothing an attacker could
  // use: the signature stays in this function's memory until the counter is durable.
  const crypto::Signature signature = crypto::Sign(
      key_, offline::kTokenDomain, offline::SignedPart(bytes, offline::MessageType::payment_token));
  std::copy(signature.bytes.begin(), signature.bytes.end(),
            bytes.begin() + static_cast<std::ptrdiff_t>(offline::kTokenSignedBytes));
  const crypto::Hash256 token_id = crypto::Blake2b256(bytes);
  // The counter is used from here on, in memory first: even if the write fails, this process
  // never signs it again, and after a crash the disk holds either this state or the one before,
  // whose counter no released token carries.
  entry.counters_used += 1;
  entry.spent = *entry.spent.CheckedAdd(request.amount);  // <= allowance, checked above
  state_->tokens_signed += 1;
  state_->previous_token_hash = token_id;
  if (WalletStatus s = Persist(); !s.ok()) {
    crypto::SecureWipe(std::span<uint8_t>(bytes));
    WalletFailure failure = s.error();
    failure.detail +=
        "; counter " + std::to_string(token.counter) + " is burned, no token released";
    return Err{failure};
  }
  return Payment{
      std::move(bytes), token_id,  entry.certificate.serial,    token.counter,
      request.amount,   token.cvm, entry.remaining_allowance(), entry.remaining_payments()};
}

// ---- Sync

WalletResult<SyncRequest> Wallet::MakeSyncRequest(std::optional<uint64_t> serial) {
  if (state_->certificates.empty()) return Fail(WalletError::no_certificate, "");
  std::optional<size_t> index;
  if (serial) {
    index = FindSerial(*state_, *serial);
    if (!index) return Fail(WalletError::unknown_serial, SerialName(*serial));
  } else if (state_->certificates.size() > 1) {
    return Fail(WalletError::ambiguous_certificate,
                std::to_string(state_->certificates.size()) + " certificates held");
  } else {
    index = 0;
  }
  CertificateState& entry = state_->certificates[*index];
  if (!entry.sync_pending) {
    // Frozen in memory first and durably before the declaration leaves: a token signed after it
    // would carry a counter above last_counter_used, which clearing voids.
    entry.sync_pending = true;
    if (WalletStatus s = Persist(); !s.ok()) return Err{s.error()};
  }
  SyncRequest request;
  request.device_id = state_->device_id;
  request.serial = entry.certificate.serial;
  request.last_counter_used = entry.last_counter_used();
  request.spent = entry.spent;
  request.signed_bytes =
      SyncRequestBytes(request.device_id, request.serial, request.last_counter_used);
  request.signature = crypto::Sign(key_, kSyncRequestDomain, request.signed_bytes);
  return request;
}

}  // namespace tpw::wallet
