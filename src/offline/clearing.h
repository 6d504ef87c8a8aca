// Clearing: the issuer side of offline payments as a pure, deterministic state machine, hosted
// by the engine's sequencer (so every change is a journaled fact).
//
// What it owns: enrolled devices and their certificates, registered terminals, which
// (device, counter) pairs and token ids have cleared, uploaded batch ids (idempotent uploads),
// the deny list, and the exceptions queue. What it does not do: signature verification (done in
// parallel before the sequencer; results arrive as flags) and money movement (it says which
// ledger transfers to make; the engine makes them and reports back).
//
// Classification of one uploaded batch is two-phase, because a cleared token is a ledger
// transfer that can still fail (an empty reserve):
//   1. Plan(batch)  — classify every token against current state plus the batch's own earlier
//                     tokens; `cleared` candidates carry the ledger transfer to attempt.
//   2. Commit(plan, transfer_ok) — the engine reports which transfers the ledger accepted;
//                     candidates whose transfer failed become `over_allowance`; state changes.
// docs/offline-protocol.md defines every classification and reason.
#pragma once

#include <cstdint>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/amount.h"
#include "common/ids.h"
#include "crypto/hash.h"
#include "ledger/state_io.h"
#include "offline/messages.h"

namespace tpw::offline {

enum class Classification : uint8_t {
  cleared = 1,
  duplicate = 2,
  double_spend = 3,
  over_allowance = 4,
  invalid = 5,
  // Exceptions only, never a token's outcome: the token cleared (the money was given out
  // offline) but the risk rules decided review / step_up / decline at clearing (issue 6).
  risk_flag = 6,
};

#define TPW_INVALID_REASONS(X)                                                          \
  X(none, 0, "")                                                                        \
  X(bad_certificate_signature, 1, "the certificate is not signed by an issuer key")     \
  X(unknown_certificate, 2, "the certificate was never issued by this clearing")        \
  X(certificate_expired, 3, "the payment's terminal time is outside the certificate's validity") \
  X(bad_token_signature, 4, "the token is not signed by the certificate's device key")  \
  X(wrong_terminal, 5, "the token names another terminal than the one that uploaded it") \
  X(merchant_mismatch, 6, "the token's merchant is not the terminal's registered merchant") \
  X(counter_out_of_range, 7, "the counter is outside the certificate's range")          \
  X(counter_after_sync, 8, "the counter is above the last counter the device declared at sync") \
  X(over_per_payment_max, 9, "the amount is above the certificate's per-payment maximum") \
  X(asset_mismatch, 10, "the token's asset is not the certificate's")                   \
  X(cvm_missing, 11, "the amount needed cardholder verification and the token has none") \
  X(claim_window_closed, 12, "the batch was uploaded after the certificate's claim deadline (valid_until + 14 days)")

enum class InvalidReason : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_INVALID_REASONS(TPW_X)
#undef TPW_X
};

std::string_view ClassificationName(Classification c);
std::string_view InvalidReasonName(InvalidReason r);
std::string_view InvalidReasonMessage(InvalidReason r);

// A token as clearing receives it: decoded, with its id and the signature checks already done.
struct CheckedToken {
  PaymentToken token;
  crypto::Hash256 token_id{};
  // BLAKE2b-256 of the embedded certificate's 232 bytes: must equal the issued certificate's.
  crypto::Hash256 certificate_hash{};
  bool certificate_signature_ok = false;
  bool token_signature_ok = false;
};

// The money movement of a token to be cleared: reserve -> merchant settlement account.
struct SettlementTransfer {
  TransferId id;  // derived from the token id: retrying a token can never pay twice
  AccountId debit_account;   // the device's reserve
  AccountId credit_account;  // the merchant's settlement account
  Amount amount;
  uint32_t asset = 0;
};

struct TokenOutcome {
  crypto::Hash256 token_id{};
  Classification classification = Classification::invalid;
  InvalidReason reason = InvalidReason::none;
  // For double_spend: the token id that cleared first with the same (device, counter).
  crypto::Hash256 conflicting_token_id{};
};

struct BatchPlan {
  Nonce batch_id{};
  u128 terminal_id = 0;
  std::vector<TokenOutcome> outcomes;  // one per token, in batch order
  // Tentatively cleared tokens: index into outcomes, and the transfer to attempt.
  std::vector<std::pair<size_t, SettlementTransfer>> settlements;
  // Set when the upload repeats an earlier batch id: outcomes are the stored ones; no state
  // change and no transfers.
  bool repeated = false;
};

enum class BatchRejection : uint8_t {
  unknown_terminal = 1,
  terminal_inactive = 2,
  bad_batch_signature = 3,
  batch_id_reused = 4,  // same batch id, different contents
};
std::string_view BatchRejectionName(BatchRejection r);

struct ExceptionRecord {
  uint64_t id = 0;
  Classification classification = Classification::invalid;
  InvalidReason reason = InvalidReason::none;
  crypto::Hash256 token_id{};
  crypto::Hash256 conflicting_token_id{};  // double_spend proof: the first token
  u128 device_id = 0;
  u128 terminal_id = 0;
  u128 merchant_id = 0;
  Amount amount;
  uint32_t asset = 0;
  enum class Status : uint8_t { open = 0, paid_from_guarantee = 1, rejected = 2 } status =
      Status::open;
  // risk_flag only: the risk decision (risk::Decision: 1 step_up, 2 review, 3 decline) and the
  // names of the rules that fired, comma-separated, NUL-padded (cut at a name boundary when
  // they do not fit).
  uint8_t risk_decision = 0;
  std::array<char, 128> risk_rules{};
};

// Which exceptions a list asks for, a page at a time (GET /v1/offline/exceptions).
struct ExceptionFilter {
  std::optional<ExceptionRecord::Status> status;  // nullopt: every status
  std::optional<Classification> classification;
  std::optional<u128> device_id;
  std::optional<u128> terminal_id;
  uint64_t after = 0;     // ids above this one (the cursor)
  uint32_t limit = 0;     // at most this many; 0: no limit
  uint64_t scan_max = 0;  // look at most at this many records; 0: no limit
};

// A page of exceptions in id order. `next_after` is the cursor of the next page, 0 at the end: a
// page stops when it holds `limit` records (the next page may be empty: looking ahead would cost
// a scan) or has looked at `scan_max` (then it may hold fewer, even none, and still go on).
struct ExceptionsPage {
  std::vector<ExceptionRecord> records;
  uint64_t next_after = 0;
};

bool MatchesFilter(const ExceptionFilter& filter, const ExceptionRecord& record);

struct DeviceRecord {
  u128 device_id = 0;
  AccountId user_account;
  AccountId reserve_account;
  Bytes32 public_key{};
  uint64_t current_serial = 0;
  bool revoked = false;
};

struct CertificateRecord {
  DeviceCertificate certificate;
  crypto::Hash256 hash{};            // BLAKE2b-256 of the encoded certificate
  Amount cleared_total;              // cleared under this certificate
  uint64_t cleared_count = 0;
  uint64_t void_above_counter = UINT64_MAX;  // set at sync: counters above are void
};

struct TerminalRecord {
  u128 terminal_id = 0;
  u128 merchant_id = 0;
  AccountId settlement_account;
  Bytes32 public_key{};
  bool active = true;
};

// A (device, counter) pair: what each terminal and clearing accept at most once.
struct CounterKey {
  u128 device_id = 0;
  uint64_t counter = 0;
  friend auto operator<=>(const CounterKey&, const CounterKey&) = default;
};

// One deny-list change: `device_id` was added at `version`.
struct DenyLogEntry {
  uint64_t version = 0;
  u128 device_id = 0;
};

// Any 8 bytes of a cryptographic hash are a good hash-table key.
struct Hash256Hasher {
  size_t operator()(const crypto::Hash256& h) const;
};

class Clearing {
 public:
  // ---- Registry (each call is one journaled fact in the engine)
  void AddIssuerKey(uint32_t key_id, const Bytes32& public_key);
  std::optional<Bytes32> IssuerKey(uint32_t key_id) const;
  std::vector<std::pair<uint32_t, Bytes32>> IssuerKeys() const {
    return {issuer_keys_.begin(), issuer_keys_.end()};
  }
  // Records a certificate the issuer has signed (enrollment or sync) for a device.
  void RecordCertificate(const DeviceCertificate& certificate, AccountId user_account);
  void RegisterTerminal(const TerminalRecord& terminal);
  void DeactivateTerminal(u128 terminal_id);
  // Revokes a device and bumps the deny list version. False if unknown or already revoked.
  bool RevokeDevice(u128 device_id);
  // Sync: counters of the device's current certificate above `last_counter_used` become void.
  void VoidCountersAbove(uint64_t serial, uint64_t last_counter_used);

  // ---- Batches
  // The batch's signature is checked by the caller against TerminalKey(terminal_id).
  std::optional<BatchRejection> CheckBatch(const TerminalBatch& batch, bool signature_ok,
                                           const crypto::Hash256& batch_hash) const;
  // `upload_time_ms` is when clearing received the batch (the engine journals it with the batch,
  // so a replay judges the claim window exactly as the first run did).
  BatchPlan Plan(const TerminalBatch& batch, const crypto::Hash256& batch_hash,
                 const std::vector<CheckedToken>& tokens, uint64_t upload_time_ms) const;
  // `transfer_ok[i]` is the ledger's verdict on plan.settlements[i]. Returns the final outcomes.
  std::vector<TokenOutcome> Commit(const BatchPlan& plan, const crypto::Hash256& batch_hash,
                                   const std::vector<CheckedToken>& tokens,
                                   const std::vector<bool>& transfer_ok);

  // ---- Exceptions
  // Reads only the records of the page (ids are dense from 1, so the cursor is an index).
  ExceptionsPage Exceptions(const ExceptionFilter& filter) const;
  std::vector<ExceptionRecord> Exceptions(bool open_only) const;  // every one, in id order
  // Marks an open exception resolved. False if unknown or not open.
  bool ResolveException(uint64_t id, ExceptionRecord::Status status);
  // Opens a risk_flag exception for a cleared token (`rules`: comma-separated rule names).
  void OpenRiskFlag(const CheckedToken& token, uint8_t decision, std::string_view rules);
  std::optional<ExceptionRecord> Exception(uint64_t id) const;

  // ---- Queries
  const DeviceRecord* Device(u128 device_id) const;
  const CertificateRecord* Certificate(uint64_t serial) const;
  const TerminalRecord* Terminal(u128 terminal_id) const;
  uint64_t deny_list_version() const { return deny_list_version_; }
  std::vector<u128> DeniedDevices() const { return {denied_.begin(), denied_.end()}; }
  // Device ids denied after `version` (for deltas).
  std::vector<u128> DeniedSince(uint64_t version) const;
  uint64_t next_serial() const { return next_serial_; }
  std::optional<TokenOutcome> TokenResult(const crypto::Hash256& token_id) const;
  uint64_t issuer_key_count() const { return issuer_keys_.size(); }
  uint64_t terminal_count() const { return terminals_.size(); }
  std::vector<TerminalRecord> Terminals() const;
  uint64_t device_count() const { return devices_.size(); }
  // Certificates of one device, oldest first.
  std::vector<const CertificateRecord*> CertificatesOf(u128 device_id) const;

  // ---- Snapshots: the whole state as raw arrays (a snapshot is tied to this build's layout;
  // kStateLayoutVersion goes into the engine's layout fingerprint). Load replaces the state
  // and returns false on short or inconsistent data.
  static constexpr uint64_t kStateLayoutVersion = 3;  // 2: counters_ holds every authentic token; 3: risk flags
  void SaveState(ledger::StateSink& sink) const;
  bool LoadState(ledger::StateSource& source);

 private:
  struct CounterKeyHasher {
    size_t operator()(const CounterKey& k) const;
  };
  // (device, counter) -> first authentic token, for the whole state or one batch's tokens.
  using BatchCounters = std::unordered_map<CounterKey, crypto::Hash256, CounterKeyHasher>;

  // Signed by a known certificate's device key under a certificate this clearing issued.
  bool IsAuthentic(const CheckedToken& checked) const;
  TokenOutcome Classify(const CheckedToken& checked, u128 uploading_terminal,
                        uint64_t upload_time_ms,
                        const BatchCounters& batch_counters,
                        const std::unordered_map<uint64_t, Amount>& batch_totals) const;
  void OpenException(const TokenOutcome& outcome, const PaymentToken& token);

  std::map<uint32_t, Bytes32> issuer_keys_;
  std::map<u128, DeviceRecord> devices_;
  std::map<uint64_t, CertificateRecord> certificates_;
  std::map<u128, TerminalRecord> terminals_;
  // (device, counter) -> the first authentic token seen with it (cleared or not).
  std::unordered_map<CounterKey, crypto::Hash256, CounterKeyHasher> counters_;
  std::unordered_map<crypto::Hash256, TokenOutcome, Hash256Hasher> token_results_;
  std::unordered_map<crypto::Hash256, std::vector<TokenOutcome>, Hash256Hasher> batches_;
  std::map<Nonce, crypto::Hash256> batch_ids_;  // batch id -> hash of the batch's bytes
  std::set<u128> denied_;
  std::vector<DenyLogEntry> deny_log_;  // in order
  uint64_t deny_list_version_ = 0;
  std::vector<ExceptionRecord> exceptions_;
  uint64_t next_serial_ = 1;
};

// The ledger transfer id of a token's settlement: the first 16 bytes of the token id (never 0
// or 2^128-1: those are replaced). Deterministic, so a token can never be paid twice, even if
// the engine retried it.
TransferId SettlementTransferId(const crypto::Hash256& token_id);

}  // namespace tpw::offline
