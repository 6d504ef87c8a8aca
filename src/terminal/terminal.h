// The merchant terminal: accepts offline payment tokens with no network, keeps every accepted
// token in a crash-safe journal, and hands them to clearing in signed batches.
//
// One Terminal owns one terminal directory (a storage::Storage) for its whole life and holds the
// directory's lock. The directory holds:
//   terminal.conf      identity and pinned issuer keys (written once, at Create)
//   terminal.key       the terminal's Ed25519 key in an encrypted keystore (crypto/keystore.h)
//   deny-list.state    the deny list in force (replaced atomically by InstallDenyList)
//   segment-*.tpj      the terminal journal (journal/journal.h): accepted tokens, voids, batches
// README.md beside this file gives the record layouts, the invariants and the crash argument;
// docs/offline-protocol.md ("Terminal") the store format, batch lifecycle and the rules.
//
// Durability: every state change is one journal record, appended and fdatasync'd before the
// call reports success; memory changes only after that. A crash therefore loses at most calls
// that had not returned success. After a storage failure the journal is poisoned: every later
// call that writes fails (`storage_failed`) until the terminal is reopened.
//
// Time: callers pass the terminal's clock as Unix milliseconds (`now_ms`); the terminal reads no
// clock itself, so tests and the simulator control time.
//
// Thread-safety: none. One thread drives a Terminal (a point-of-sale loop).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/amount.h"
#include "common/ids.h"
#include "common/result.h"
#include "crypto/keystore.h"
#include "crypto/sign.h"
#include "journal/journal.h"
#include "offline/messages.h"
#include "storage/storage.h"
#include "terminal/records.h"

namespace tpw::terminal {

using TerminalId = Id128<struct TerminalIdTag>;
using MerchantId = Id128<struct MerchantIdTag>;

// Requests the terminal remembers at once; issuing one more forgets the oldest. In memory
// only: a restart forgets them all (a payment in progress is simply asked for again).
inline constexpr size_t kOutstandingRequestsMax = 64;
// A request older than this (terminal clock) is forgotten: its nonce gets `unknown_request`.
inline constexpr uint64_t kRequestLifetimeMs = 5 * 60 * 1000;
// Accepted tokens not yet acknowledged by clearing that the terminal will hold (about 450 MB
// of token bytes in memory and on disk). At the limit Accept declines with `store_full`.
inline constexpr size_t kTokensNotUploadedMax = size_t{1} << 20;

// Accept's answer. Codes 1..14 are docs/offline-protocol.md's checks 1..12, in that order;
// storage_failed and store_full belong to check 13. Stable numeric values: append only.
#define TPW_ACCEPT_CODES(X)                                                                    \
  X(accepted, 0, "the payment is accepted and stored durably")                                 \
  X(malformed, 1, "the token is not a well-formed payment token")                              \
  X(unknown_request, 2, "the token answers no outstanding request of this terminal")           \
  X(bad_certificate_signature, 3, "the certificate is not signed by a pinned issuer key")      \
  X(certificate_not_yet_valid, 4, "the certificate is not valid yet at the request's time")    \
  X(certificate_expired, 5, "the certificate has expired at the request's time")               \
  X(deny_list_stale, 6,                                                                        \
    "the terminal's deny list is missing or older than its max age, so it accepts nothing "    \
    "offline")                                                                                 \
  X(device_denied, 7, "the device is on the deny list")                                        \
  X(bad_token_signature, 8, "the token is not signed by the certificate's device key")         \
  X(request_mismatch, 9,                                                                       \
    "the token does not repeat the request's merchant, terminal, nonce, "                      \
    "time, amount and asset")                                                                  \
  X(over_per_payment_max, 10, "the amount is above the certificate's per-payment maximum")     \
  X(asset_mismatch, 11, "the token's asset is not the certificate's asset")                    \
  X(counter_out_of_range, 12, "the counter is outside the certificate's counter range")        \
  X(replayed_counter, 13, "this terminal already accepted this device's counter")              \
  X(cvm_required, 14, "the amount needs cardholder verification (PIN) and the token has none") \
  X(storage_failed, 15, "the token could not be stored durably; the payment is not accepted")  \
  X(store_full, 16, "the terminal holds too many tokens not yet uploaded; upload batches first")

enum class AcceptCode : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_ACCEPT_CODES(TPW_X)
#undef TPW_X
};
std::string_view AcceptCodeName(AcceptCode code);
std::string_view AcceptCodeMessage(AcceptCode code);

struct AcceptResult {
  AcceptCode code = AcceptCode::malformed;
  TokenId token_id{};  // set when accepted
  Amount amount;       // set when accepted
  std::string detail;  // what exactly failed, for logs ("counter 12 not in 100..109")

  bool accepted() const { return code == AcceptCode::accepted; }
  // "accepted" or "declined: device_denied: the device is on the deny list (device 0x2a)".
  std::string Message() const;
};

// Errors of every call but Accept. Stable numeric values: append only.
#define TPW_TERMINAL_ERRORS(X)                                                                \
  X(invalid_argument, 1, "an argument is out of range")                                       \
  X(already_exists, 2, "the directory already holds a terminal")                              \
  X(not_a_terminal, 3, "the directory holds no terminal (terminal.conf is missing)")          \
  X(config_corrupt, 4, "terminal.conf or deny-list.state is damaged or of another format")    \
  X(keystore_failed, 5, "the terminal key could not be created or unlocked")                  \
  X(storage_failed, 6, "the storage layer or the journal failed; reopen the terminal")        \
  X(journal_corrupt, 7, "the terminal journal is damaged or holds an impossible record")      \
  X(locked, 8, "another process holds the terminal directory")                                \
  X(deny_list_malformed, 9, "the deny list does not decode")                                  \
  X(deny_list_unknown_issuer_key, 10,                                                         \
    "the deny list names an issuer key this terminal does not pin")                           \
  X(deny_list_bad_signature, 11, "the deny list is not signed by the pinned issuer key")      \
  X(deny_list_needs_full_list, 12,                                                            \
    "the delta does not apply to the installed version; install a full list")                 \
  X(deny_list_outdated, 13, "the deny list is not newer than the one installed")              \
  X(unknown_token, 14, "no token with this id was accepted here")                             \
  X(token_already_voided, 15, "the token is already voided")                                  \
  X(token_already_batched, 16, "the token is already in a batch; it can no longer be voided") \
  X(token_already_uploaded, 17, "the token was already uploaded; it can no longer be voided") \
  X(unknown_batch, 18, "no batch with this id was built here")                                \
  X(batch_already_uploaded, 19, "the batch is already marked uploaded")

enum class TerminalError : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_TERMINAL_ERRORS(TPW_X)
#undef TPW_X
};
std::string_view TerminalErrorName(TerminalError error);
std::string_view TerminalErrorMessage(TerminalError error);

struct TerminalFailure {
  TerminalError code = TerminalError::invalid_argument;
  std::string detail;
  // "deny_list_needs_full_list: the delta does not apply ... (delta base 4, installed 2)".
  std::string Message() const;
};
template <typename T>
using TerminalResult = Result<T, TerminalFailure>;
using TerminalStatus = Status<TerminalFailure>;

struct TerminalIdentity {
  TerminalId terminal_id;
  MerchantId merchant_id;
  std::map<uint32_t, crypto::PublicKey> issuer_keys;  // key_id -> pinned issuer public key
};

struct TerminalOptions {
  crypto::KdfParams kdf = crypto::kKdfInteractive;  // keystore cost, used by Create only
  uint64_t segment_bytes_max = journal::kSegmentBytesDefault;
  // 1..kTokensNotUploadedMax; lower only to test the limit.
  uint64_t tokens_not_uploaded_max = kTokensNotUploadedMax;
};

// The deny list in force, seen at a given time.
struct DenyListInfo {
  bool installed = false;
  uint64_t version = 0;
  uint64_t issued_ms = 0;
  uint64_t max_age_ms = 0;
  uint64_t entries = 0;
  uint64_t age_ms = 0;  // now - issued; 0 when not installed or issued after now
  bool stale = true;    // not installed, or now >= issued + max_age: offline acceptance refused
};

struct IssuedRequest {
  offline::PaymentRequest request;
  std::vector<uint8_t> bytes;  // the 88-byte encoding to show the wallet (QR / NFC)
};

// A request waiting for its token, as the terminal remembers it. For a front end whose process
// ends between calls (the CLI runs one command per process): it saves these after each call and
// hands them back with RestoreRequest after Open. They are never journaled.
struct OutstandingRequest {
  offline::PaymentRequest request;
  uint64_t issued_ms = 0;  // terminal clock when NewRequest issued it
};

// A signed batch waiting for clearing's acknowledgement.
struct PendingBatch {
  BatchId batch_id{};
  uint64_t created_ms = 0;
  uint32_t token_count = 0;
  std::vector<uint8_t> bytes;  // the TerminalBatch message, signed
};

enum class TokenState : uint8_t { accepted = 1, voided = 2, batched = 3, uploaded = 4 };
std::string_view TokenStateName(TokenState state);

struct TerminalStatusReport {
  uint64_t accepted = 0;  // ever accepted here (all states below)
  uint64_t voided = 0;
  uint64_t ready = 0;  // accepted, not voided, not yet in a batch
  uint64_t in_pending_batches = 0;
  uint64_t uploaded = 0;
  uint64_t pending_batches = 0;
  uint64_t outstanding_requests = 0;
  DenyListInfo deny_list;
  uint64_t torn_tail_bytes = 0;  // dropped by the journal's recovery at Open
  // Tokens not yet uploaded (ready or in pending batches), by their claim deadline (the
  // certificate's valid_until + offline::kClaimGraceMs; clearing refuses them after it):
  uint64_t earliest_claim_deadline_ms = 0;  // of those tokens; 0 if there are none
  uint64_t claims_due_soon = 0;             // deadline within kClaimWarningMs of now
  uint64_t claims_past_deadline = 0;        // deadline passed: clearing will not pay them
};

// How long before a held token's claim deadline the terminal reports it as due soon.
inline constexpr uint64_t kClaimWarningMs = 3ull * 24 * 3600 * 1000;

class Terminal {
 public:
  // Makes a new terminal in an empty-of-terminal directory: generates the Ed25519 key into an
  // encrypted keystore under `passphrase`, writes terminal.conf, creates the journal. Errors:
  // invalid_argument (zero ids, no or too many issuer keys), already_exists, keystore_failed,
  // storage_failed, locked.
  static TerminalResult<std::unique_ptr<Terminal>> Create(storage::Storage& storage,
                                                          const TerminalIdentity& identity,
                                                          const crypto::Passphrase& passphrase,
                                                          const TerminalOptions& options = {});
  // Opens and recovers: unlocks the key, loads the deny list, replays the journal (a torn tail
  // is truncated by the journal; any other damage refuses with the journal's message).
  static TerminalResult<std::unique_ptr<Terminal>> Open(storage::Storage& storage,
                                                        const crypto::Passphrase& passphrase,
                                                        const TerminalOptions& options = {});
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // The key the issuer registers for this terminal (it verifies batches with it).
  const crypto::PublicKey& public_key() const;
  TerminalId terminal_id() const { return TerminalId(config_.terminal_id); }
  MerchantId merchant_id() const { return MerchantId(config_.merchant_id); }

  // Installs a signed full deny list (type 5) or delta (type 6), checked against the pinned
  // issuer key it names. A full list must be newer than the installed one (or the same version
  // issued later: a refresh); a delta must have base_version equal to the installed version
  // (otherwise deny_list_needs_full_list). Persisted atomically before returning. A list that
  // is already past its max age is still installed (it can only add devices), but acceptance
  // stays refused; the returned info says so. Errors: deny_list_*, storage_failed.
  TerminalResult<DenyListInfo> InstallDenyList(std::span<const uint8_t> bytes, uint64_t now_ms);
  DenyListInfo DenyList(uint64_t now_ms) const;
  uint64_t deny_list_version() const { return deny_.has_value() ? deny_->list_version : 0; }
  // True when no list is installed, or now_ms >= issued + max_age.
  bool DenyListStale(uint64_t now_ms) const;

  // A payment request with a fresh random nonce, remembered until answered, expired or pushed
  // out (kOutstandingRequestsMax). Errors: invalid_argument (amount or asset 0).
  TerminalResult<IssuedRequest> NewRequest(Amount amount, uint32_t asset, uint64_t now_ms);

  // The requests still outstanding at `now_ms` (not answered, not expired), oldest first.
  std::vector<OutstandingRequest> OutstandingRequests(uint64_t now_ms) const;
  // Remembers again a request this terminal issued in an earlier process. Errors:
  // invalid_argument (another terminal's or merchant's request, amount or asset 0, issued after
  // `now_ms`). An expired request or a nonce already remembered is ignored (ok). At
  // kOutstandingRequestsMax the oldest is forgotten, as for NewRequest.
  TerminalStatus RestoreRequest(const OutstandingRequest& outstanding, uint64_t now_ms);

  // Runs the checks of docs/offline-protocol.md in order; `accepted` only after the token is in
  // the journal and fdatasync'd. An accepted token consumes its request.
  AcceptResult Accept(std::span<const uint8_t> token_bytes, uint64_t now_ms);

  // Reverses an accepted token before it is batched (journaled, synced). Errors: unknown_token,
  // token_already_voided, token_already_batched, token_already_uploaded, storage_failed.
  TerminalStatus Void(const TokenId& token_id, uint64_t now_ms);

  // Puts every ready token (accepted, not voided, not batched) into signed batches of up to
  // kBatchTokensMax, in acceptance order; each batch is journaled and synced before it is
  // returned. Empty when nothing is ready. Errors: storage_failed (batches built before the
  // failure are journaled and appear in PendingBatches).
  TerminalResult<std::vector<PendingBatch>> BuildBatches(uint64_t now_ms);
  // Batches built but not yet acknowledged, oldest first: after a crash, upload these again
  // (same batch ids, same bytes).
  std::vector<PendingBatch> PendingBatches() const;
  // Clearing acknowledged the batch. Errors: unknown_batch, batch_already_uploaded,
  // storage_failed.
  TerminalStatus MarkUploaded(const BatchId& batch_id, uint64_t now_ms);

  std::optional<TokenState> FindToken(const TokenId& token_id) const;
  TerminalStatusReport Status(uint64_t now_ms) const;

 private:
  struct TokenEntry {
    std::vector<uint8_t> bytes;  // the token; released once uploaded
    u128 device_id = 0;
    uint64_t counter = 0;
    uint64_t claim_deadline_ms = 0;  // clearing pays it only if uploaded before this
    TokenState state = TokenState::accepted;
  };
  struct BatchEntry {
    BatchBuilt record;
    std::vector<uint8_t> bytes;  // signed batch; released once uploaded
    bool uploaded = false;
  };
  struct Outstanding {
    offline::PaymentRequest request;
    uint64_t issued_ms = 0;
  };
  struct HashKey {
    size_t operator()(const TokenId& id) const;
    size_t operator()(const std::pair<u128, uint64_t>& key) const;
  };

  Terminal(storage::Storage& storage, std::unique_ptr<storage::DirectoryLock> lock,
           TerminalConfig config, crypto::SecretKey key);
  static TerminalResult<std::unique_ptr<Terminal>> Load(
      storage::Storage& storage, std::unique_ptr<storage::DirectoryLock> lock,
      const crypto::Passphrase& passphrase, const TerminalOptions& options);
  TerminalStatus LoadDenyList();
  TerminalStatus OpenJournal(const TerminalOptions& options);
  TerminalStatus Replay();
  TerminalStatus ApplyRecord(const journal::RecordView& record);
  // Apply*: one journaled fact into memory, shared by replay and the live path; a reason when
  // the fact is impossible in the current state (replay then refuses the journal).
  std::optional<std::string> ApplyAccepted(const TokenAccepted& record);
  std::optional<std::string> AddToken(const TokenId& id, u128 device_id, uint64_t counter,
                                      uint64_t claim_deadline_ms,
                                      std::span<const uint8_t> token_bytes);
  std::optional<std::string> ApplyVoided(const TokenVoided& record);
  std::optional<std::string> ApplyBatchBuilt(const BatchBuilt& record);
  std::optional<std::string> ApplyBatchUploaded(const BatchUploaded& record);
  TerminalStatus AppendDurably(RecordType type, std::span<const uint8_t> bytes);

  // Checks 3..6 and 7..12: a decline, or nullopt when every check passed.
  std::optional<AcceptResult> CheckCertificate(const offline::PaymentToken& token,
                                               std::span<const uint8_t> token_bytes,
                                               const offline::PaymentRequest& request,
                                               uint64_t now_ms) const;
  std::optional<AcceptResult> CheckPayment(const offline::PaymentToken& token,
                                           std::span<const uint8_t> token_bytes,
                                           const offline::PaymentRequest& request) const;
  AcceptResult Store(std::span<const uint8_t> token_bytes, const offline::PaymentToken& token,
                     uint64_t now_ms);
  void ForgetExpiredRequests(uint64_t now_ms);

  TerminalResult<PendingBatch> BuildOneBatch(uint64_t now_ms);
  // Accepted tokens neither voided nor in a batch.
  uint64_t ReadyCount() const {
    return tokens_.size() - voided_count_ - batched_count_ - uploaded_count_;
  }
  std::vector<uint8_t> SignBatch(const BatchBuilt& record) const;
  static PendingBatch ToPending(const BatchEntry& entry);

  storage::Storage& storage_;
  std::unique_ptr<storage::DirectoryLock> lock_;
  TerminalConfig config_;
  crypto::SecretKey key_;
  std::unique_ptr<journal::JournalWriter> journal_;
  uint64_t torn_tail_bytes_ = 0;
  uint64_t tokens_not_uploaded_max_ = kTokensNotUploadedMax;
  std::optional<DenyListState> deny_;

  std::deque<Outstanding> requests_;  // oldest first, at most kOutstandingRequestsMax
  uint64_t next_request_number_ = 1;  // per process: for logs only

  std::vector<TokenEntry> tokens_;  // in acceptance order
  std::unordered_map<TokenId, size_t, HashKey> token_index_;
  std::unordered_set<std::pair<u128, uint64_t>, HashKey> seen_counters_;  // (device, counter)
  size_t first_ready_ = 0;           // tokens_ before this index are all voided or batched
  std::vector<BatchEntry> batches_;  // in build order
  std::map<BatchId, size_t> batch_index_;
  uint64_t voided_count_ = 0;
  uint64_t batched_count_ = 0;  // tokens in batches not yet uploaded
  uint64_t uploaded_count_ = 0;
  uint64_t pending_batch_count_ = 0;
};

}  // namespace tpw::terminal
