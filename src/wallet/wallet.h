// Wallet: the device side of offline payments (docs/offline-protocol.md, section "Wallet").
//
// A Wallet lives in one directory (a storage::Storage) holding two files:
//   device.keystore — the device's Ed25519 key sealed under the user's passphrase (keystore.h);
//   wallet.state    — device id, pinned issuer key, certificates with their counters and spent
//                     totals, and the token hash chain (layout: docs/offline-protocol.md).
// It installs issuer-signed certificates and sync statements, applies the local policy to a
// terminal's payment request (limits, remaining allowance, counters, PIN threshold), chooses the
// certificate that funds it, and signs the payment token.
//
// Crash safety (the one rule everything else serves): a counter is written durably as used
// BEFORE any token carrying it leaves Pay(). A crash after that write and before the token is
// returned burns the counter (it is never used again), which costs nothing but one counter.
// So no two tokens the wallet ever releases share a counter, across crashes and restarts.
//
// Errors: every fallible call returns a WalletFailure (a stable WalletError code plus a detail
// naming the field, file or value). Nothing throws on bad input.
// Ownership: the Storage is the caller's and must outlive the Wallet. The Wallet holds the
// directory lock and the unlocked device key (guarded memory, wiped on destruction) for its life.
// Thread-safety: not thread-safe; one thread drives a Wallet at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/amount.h"
#include "common/int128.h"
#include "common/result.h"
#include "crypto/hash.h"
#include "crypto/keystore.h"
#include "crypto/sign.h"
#include "offline/messages.h"
#include "storage/storage.h"
#include "wallet/wallet_errors.h"

namespace tpw::wallet {

enum class WalletError : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_WALLET_ERRORS(TPW_X)
#undef TPW_X
};
std::string_view WalletErrorName(WalletError error);
std::string_view WalletErrorMessage(WalletError error);

// A failed wallet call: the code to branch on and what a person needs to act on it.
struct WalletFailure {
  WalletError code = WalletError::internal_error;
  std::string detail;  // "certificate serial 7 expired at 1700000000000 (now 1700000000500)"
  // "certificate_expired: the certificate has expired (device clock) (certificate serial 7 ...)"
  std::string Message() const;
};
template <typename T>
using WalletResult = Result<T, WalletFailure>;
using WalletStatus = Status<WalletFailure>;

// ---- Named limits
// Certificates one wallet holds at once (different assets, or overlapping validity).
inline constexpr size_t kCertificatesMax = 16;
// File names inside the wallet directory.
inline constexpr std::string_view kKeystoreFileName = "device.keystore";
inline constexpr std::string_view kStateFileName = "wallet.state";

// ---- Sync request: what the device signs to ask for a sync. The engine verifies these exact
// bytes (engine/offline.h declares the same layout; the wallet does not depend on the engine):
//   device_id u128 LE (16) || serial u64 LE (8) || last_counter_used u64 LE (8) = 32 bytes.
// (Defined once, in offline/messages.h, for the engine and the wallet alike.)
using offline::kSyncRequestBytes;
using offline::kSyncRequestDomain;
using offline::SyncRequestBytes;

struct IssuerKey {
  uint32_t key_id = 0;
  crypto::PublicKey public_key;
};

struct CreateOptions {
  // Argon2id cost of the device keystore. kKdfFastInsecureForTests only in tests.
  crypto::KdfParams kdf = crypto::kKdfInteractive;
  // Pin the issuer now (else with PinIssuer() before the first certificate).
  std::optional<IssuerKey> issuer;
};

struct PayOptions {
  // The app verified the user's PIN for this payment: the token says cvm = 1 (PIN), and
  // amounts above a certificate's cvm_threshold are allowed.
  bool pin_verified = false;
  // Pay from this certificate instead of the funding rule's choice (see Candidates()).
  std::optional<uint64_t> serial;
};

// One installed certificate and where the wallet stands under it.
struct CertificateState {
  offline::DeviceCertificate certificate;
  // Counters used so far (0 .. payment_count_max): the next one is counter_first + this.
  // Kept as a count, not a counter, so a range ending at UINT64_MAX cannot overflow.
  uint32_t counters_used = 0;
  Amount spent;               // total of tokens signed under it (burned ones included)
  bool sync_pending = false;  // a sync request was issued: it pays no more
  Amount remaining_allowance() const;
  uint32_t remaining_payments() const;
  // The last counter used; counter_first - 1 when none was (what a sync request declares).
  // counter_first >= 1 always holds (ranges start above the high water mark, initially 0).
  uint64_t last_counter_used() const;
};

struct WalletInfo {
  u128 device_id = 0;
  crypto::PublicKey device_public_key;
  std::optional<IssuerKey> issuer;
  std::vector<CertificateState> certificates;  // ascending serial
  crypto::Hash256 previous_token_hash{};       // id of the last token signed (zeros: none yet)
  uint64_t tokens_signed = 0;                  // counters used in all, burned ones included
  uint64_t counter_high_water = 0;             // highest counter of any certificate ever held
};

// A certificate that could fund a request, in funding order, with its verdict.
struct Candidate {
  uint64_t serial = 0;
  WalletError verdict = WalletError::ok;  // ok: it can pay; else why not
  std::string detail;
  Amount remaining_allowance;
  uint32_t remaining_payments = 0;
  uint64_t valid_until = 0;
};

struct Payment {
  std::vector<uint8_t> token;  // the encoded PaymentToken (424 bytes) to hand to the terminal
  crypto::Hash256 token_id{};  // BLAKE2b-256 of `token`
  uint64_t serial = 0;
  uint64_t counter = 0;
  Amount amount;
  offline::Cvm cvm = offline::Cvm::none;
  Amount remaining_allowance;  // under `serial`, after this payment
  uint32_t remaining_payments = 0;
};

struct InstallOutcome {
  uint64_t serial = 0;
  bool already_installed = false;           // the identical certificate was already held: no change
  std::optional<uint64_t> replaced_serial;  // the certificate it superseded, if any
};

struct SyncRequest {
  u128 device_id = 0;
  uint64_t serial = 0;
  uint64_t last_counter_used = 0;
  Amount spent;                       // informational (not signed): spent under `serial`
  std::vector<uint8_t> signed_bytes;  // SyncRequestBytes(...)
  crypto::Signature signature;        // device key, domain kSyncRequestDomain
  // signed_bytes || signature (96 bytes): what the C API and a CLI hand to the server.
  std::vector<uint8_t> Encode() const;
};

class Wallet {
 public:
  // Makes a new wallet in `storage`: a fresh device key pair and a random device id. Errors:
  // wallet_exists, storage_failed, wallet_locked, invalid_argument (KDF cost), out_of_memory.
  static WalletResult<std::unique_ptr<Wallet>> Create(storage::Storage& storage,
                                                      const crypto::Passphrase& passphrase,
                                                      const CreateOptions& options = {});
  // Unlocks an existing wallet. Errors: no_wallet, wrong_passphrase, corrupt_keystore,
  // corrupt_state, keystore_state_mismatch, wallet_locked, storage_failed, out_of_memory.
  static WalletResult<std::unique_ptr<Wallet>> Open(storage::Storage& storage,
                                                    const crypto::Passphrase& passphrase);
  // Reads the state without the passphrase or the lock (for `wallet status`). Errors: no_wallet,
  // corrupt_state, storage_failed.
  static WalletResult<WalletInfo> Inspect(storage::Storage& storage);

  ~Wallet();
  Wallet(const Wallet&) = delete;
  Wallet& operator=(const Wallet&) = delete;

  // Pins the issuer key certificates must be signed with. Pinning the same key again is ok;
  // another one is issuer_already_pinned. Errors: that, storage_failed.
  WalletStatus PinIssuer(const IssuerKey& issuer);
  // Verifies and installs a certificate (see the checks in docs/offline-protocol.md). A
  // certificate whose previous_serial names an installed one replaces it. Installing the same
  // bytes again is a no-op (already_installed).
  WalletResult<InstallOutcome> InstallCertificate(std::span<const uint8_t> bytes);
  // Verifies a sync statement and installs its certificate in place of the previous one,
  // starting at the new range's counter_first.
  WalletResult<InstallOutcome> InstallSyncStatement(std::span<const uint8_t> bytes);

  // The certificates that could fund `request`, in funding order (the first with verdict ok is
  // what Pay picks). Errors: malformed_request, no_certificate_for_asset, unknown_serial,
  // asset_mismatch.
  WalletResult<std::vector<Candidate>> Candidates(std::span<const uint8_t> request,
                                                  const PayOptions& options, uint64_t now_ms) const;
  // Applies the policy, persists the used counter, then signs and returns the token. On any
  // error nothing is released. `now_ms` is the device clock (ms since the Unix epoch).
  WalletResult<Payment> Pay(std::span<const uint8_t> request, const PayOptions& options,
                            uint64_t now_ms);
  // Signs a sync request for certificate `serial` (or the only one held) and, first, marks it
  // sync_pending durably: tokens signed after the declaration would be void at clearing.
  // Errors: no_certificate, ambiguous_certificate, unknown_serial, storage_failed.
  WalletResult<SyncRequest> MakeSyncRequest(std::optional<uint64_t> serial);

  WalletInfo Info() const;
  u128 device_id() const;
  const crypto::PublicKey& device_public_key() const { return key_.public_key(); }

  struct State;  // the decoded state file (wallet_state.h); public only for the codec

 private:
  Wallet(storage::Storage& storage, std::unique_ptr<storage::DirectoryLock> lock,
         crypto::SecretKey key, std::unique_ptr<State> state);
  WalletStatus Persist();
  WalletResult<InstallOutcome> AddCertificate(const offline::DeviceCertificate& certificate,
                                              std::span<const uint8_t> bytes);
  WalletResult<std::vector<Candidate>> CandidatesFor(const offline::PaymentRequest& request,
                                                     const PayOptions& options,
                                                     uint64_t now_ms) const;
  WalletResult<Payment> SignAndPersist(size_t index, const offline::PaymentRequest& request,
                                       const PayOptions& options, uint64_t now_ms);

  storage::Storage* storage_;
  std::unique_ptr<storage::DirectoryLock> lock_;
  crypto::SecretKey key_;
  std::unique_ptr<State> state_;
};

}  // namespace tpw::wallet
