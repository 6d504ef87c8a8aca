// Engine: the durable ledger. One sequencer thread owns the state machine; any number of caller
// threads submit requests through a bounded queue; every batch of accepted events is appended to
// the journal as one group and made durable with one fdatasync before anyone hears about it.
//
//   callers ──Submit──► bounded MPSC queue ──► sequencer thread: execute on the Ledger, collect
//   facts ──► journal thread: append group + fdatasync ──► replies (callbacks) + location index
//
// Contracts:
//   - Nothing is acknowledged before it is durable (fsync=always). Reads are answered only after
//     every write executed before them is durable, so a reader never sees state a crash undoes.
//   - After a journal write or sync failure the engine stops: in-flight requests and every later
//     one get EngineError::storage_failed ("outcome unknown": the facts may or may not have
//     reached the disk). Restarting recovers exactly what was synced.
//   - One Engine per data directory: Open() takes the directory lock.
//   - Open() recovers: newest valid snapshot, then replay of later journal facts; a damaged
//     journal stops Open with the journal's error (file, offset, sequence).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "access/access.h"
#include "common/asset.h"
#include "common/boxed.h"
#include "common/clock.h"
#include "common/result.h"
#include "crypto/hash.h"
#include "crypto/sign.h"
#include "engine/errors.h"
#include "engine/histogram.h"
#include "engine/offline.h"
#include "engine/outbox.h"
#include "engine/risk_command.h"
#include "engine/webhook_command.h"
#include "ledger/ledger.h"
#include "payments/payments.h"
#include "storage/storage.h"

namespace tpw::engine {

enum class FsyncMode : uint8_t {
  always = 0,  // one fdatasync per group commit (default; the only safe choice)
  never = 1,   // explicitly unsafe: for tests and for measuring the cost of durability
};

struct EngineOptions {
  FsyncMode fsync = FsyncMode::always;
  // Take a snapshot automatically once this many journal records (facts) have been appended
  // since the last one; 0 = only on demand. The sequencer pauses while it writes one.
  uint64_t snapshot_every_records = 0;
  // Snapshot files kept (newest first); older ones are deleted after a new one is durable.
  uint32_t snapshots_kept = 2;
  // Bound of the request queue in requests; Submit blocks (or TrySubmit fails) when full.
  uint32_t queue_requests_max = 4096;
  // Events the sequencer packs into one group commit (several requests share a group).
  uint32_t group_events_max = 8189;
  // Groups handed to the journal thread but not yet durable. Execution overlaps the sync anyway
  // (requests are executed into the open group while the group before it syncs), so 1 is the
  // default: every group then holds what arrived during one sync, and a request waits for at
  // most the sync in progress and its own (with 2, also for a closed group queued between).
  uint32_t groups_in_flight_max = 1;
  // TrySubmit of a small ledger write (create_accounts / create_transfers of at most 16
  // events) executes it on the calling thread when the sequencer thread is idle (nothing
  // queued, no step of its own): the step the sequencer would run, under the same lock, without
  // waking it (docs/engine.md, "Steps on the submitting thread"). Off: every request queues.
  bool submitter_steps = true;
  // Pending transfers expired per expiry fact.
  uint32_t expiry_batch_max = 8189;
  // Pre-size indexes for a known workload (benchmarks).
  uint64_t expected_accounts = 1024;
  uint64_t expected_transfers = 1024;
  // Ignore snapshots and replay the whole journal (a recovery benchmark, or a suspicious one).
  bool ignore_snapshots = false;
  // Run the expiry timer when no request arrives (every 10 ms). The deterministic simulator
  // turns this off so expiry runs only just before a batch of requests, at a point the seed
  // decides.
  bool expire_when_idle = true;
  // Journal segment size (journal::JournalOptions::segment_bytes_max); 0 = the default.
  uint64_t segment_bytes_max = 0;
  // Zeros written ahead of the journal's end (journal::JournalOptions::preallocate_bytes);
  // unset = the journal's default. Tests of a journal that cannot grow turn it off.
  std::optional<uint64_t> journal_preallocate_bytes;
  // Keys per risk velocity feature whose table memory is taken and faulted in when the rules are
  // made active (risk::VelocityOptions::reserve_keys; `tpwallet serve --risk-reserve-keys`).
  // 0: the tables grow with their keys. Changes no decision, only when memory is taken.
  uint32_t risk_reserve_keys = 0;

  // ---- Offline payments (docs/offline-protocol.md)
  // The issuer's signing key, unlocked by the caller from its keystore. Without it the engine
  // still clears batches and answers queries, but cannot enroll, sync or sign deny lists
  // (issuer_key_unavailable). Its public key must be registered under issuer_key_id (the
  // add_issuer_key command) before it signs anything; Open fails with issuer_key_mismatch if
  // another key is registered under that id.
  std::shared_ptr<const crypto::SecretKey> issuer_key;
  uint32_t issuer_key_id = 1;
  // Deny lists the engine signs tell terminals to stop accepting offline after this long.
  uint64_t deny_list_max_age_ms = 24ull * 3600 * 1000;
  // Threads that verify an uploaded batch's signatures (the caller's thread is one of them);
  // 0 = one per hardware thread.
  uint32_t verify_threads = 0;

  // ---- API access state (docs/api.md)
  // Idempotency records are forgotten this long after they were stored; 0 = 24 hours.
  uint64_t idempotency_ttl_ms = 0;

  // ---- Payments (docs/payments.md)
  // The assets the payments module knows, with the scales its FX conversions use.
  AssetTable assets = AssetTable::Default();

  // ---- Outbox (docs/webhooks.md, "Retention"): events are kept at least retention_ms and
  // until every enabled webhook endpoint has finished with them, within the hard caps.
  OutboxLimits outbox;
};

// What recovery did, for the operator and the recovery benchmark.
struct RecoveryReport {
  bool from_snapshot = false;
  std::string snapshot_file;       // the snapshot used, if any
  std::vector<std::string> skipped_snapshots;  // "file: reason" for each rejected snapshot
  uint64_t snapshot_sequence = 0;  // journal sequence the snapshot covers (0 if none)
  uint64_t replayed_records = 0;   // facts replayed after the snapshot
  uint64_t torn_tail_bytes = 0;    // dropped from the journal's end
  uint64_t elapsed_ns = 0;         // Open() start to ready
};

// Payment states (payments::PaymentState: requires_confirmation .. canceled).
inline constexpr size_t kPaymentStates = 5;

struct EngineStats {
  uint64_t accounts = 0;
  uint64_t transfers = 0;
  uint64_t pending = 0;
  uint64_t journal_records = 0;
  uint64_t journal_bytes = 0;
  uint64_t journal_last_sequence = 0;
  std::string journal_head_hash_hex;
  uint64_t durable_sequence = 0;
  uint64_t groups_committed = 0;
  uint64_t submitter_steps = 0;  // requests TrySubmit executed on the calling thread
  uint64_t queue_depth = 0;
  tpw::Timestamp last_timestamp;
  uint64_t api_keys = 0;
  uint64_t idempotency_records = 0;
  uint64_t idempotency_body_bytes = 0;
  // Risk engine (issue 6): the active rules' version ("none" until set), what they hold, the
  // velocity state's size, and decisions journaled (decide and offline clearing).
  std::string risk_version = "none";
  uint64_t risk_rules = 0;
  uint64_t risk_features = 0;
  uint64_t risk_velocity_keys = 0;
  uint64_t risk_velocity_bytes = 0;
  uint64_t risk_decisions = 0;
  // Payments (issue 7): payment intents by state (indexed by payments::PaymentState), payment
  // facts journaled (or replayed) since start-up, and the registries' sizes. The by-state counts
  // are exact after every step; customers, coupons, FX pairs and live quotes are refreshed at
  // most once per second of the engine's clock (counting them walks the payments state).
  uint64_t payments = 0;
  std::array<uint64_t, kPaymentStates> payments_by_state{};
  uint64_t payment_facts = 0;
  uint64_t payment_customers = 0;
  uint64_t payment_coupons = 0;
  uint64_t payment_fx_pairs = 0;
  uint64_t payment_fx_quotes = 0;
  // Outbox and webhooks (docs/webhooks.md): events retained (ids first..last, durable up to
  // durable), their bytes, what left and why, endpoints and the deliveries they still owe.
  uint64_t outbox_events = 0;
  uint64_t outbox_bytes = 0;
  uint64_t outbox_first_id = 0;
  uint64_t outbox_last_id = 0;
  uint64_t outbox_durable_id = 0;
  OutboxCounters outbox_counters;
  uint64_t webhook_endpoints = 0;
  uint64_t webhook_unfinished = 0;
  EndpointCounters webhook_counters;
  // Requests the sequencer took off the queue at once (one sample per batch it executed).
  HistogramSnapshot sequencer_batch_requests;
  // Facts per group commit (one sample per group appended to the journal).
  HistogramSnapshot group_records;
  // Journal fdatasync latency in nanoseconds (one sample per sync; none with fsync=never).
  HistogramSnapshot journal_sync_ns;
};

struct SnapshotInfo {
  std::string file;
  uint64_t sequence = 0;  // last journal sequence the snapshot covers
  uint64_t bytes = 0;
  uint64_t elapsed_ns = 0;
};

// ---- Requests -----------------------------------------------------------------------------

enum class RequestKind : uint8_t {
  create_accounts,
  create_transfers,
  lookup_accounts,
  lookup_transfers,
  get_account_transfers,
  get_account_balances,
  get_pending_status,
  offline,  // an offline-payment command (SubmitOffline)
  access,   // an API-key command (AccessCommand)
  risk,     // a risk command (RiskCommand): rules, lists, evaluate, decide
  payments,  // a payments command (payments::Command): SubmitPayments / ExecutePayments
  payments_digest,  // the payments state's digest (PaymentsStateDigest)
  webhooks,  // a webhook or outbox command (WebhookCommand)
};

// ---- API access: API keys and idempotency ----------------------------------------------------

enum class AccessCommandKind : uint8_t {
  create_api_key,
  revoke_api_key,
  list_api_keys,
  // Idempotency-Key (docs/api.md): what became of (scope, key) before, and storing the response
  // a request got. The server sends a response only once its record is durable, so a client
  // never sees a response that a crash could take back.
  lookup_response,
  store_response,
};

struct AccessCommand {
  AccessCommandKind kind = AccessCommandKind::list_api_keys;
  // create_api_key: the key as the caller made it (id, scope, name, secret hash, rate, merchant
  // accounts: sorted, each an existing ledger account); the engine stamps created_ms.
  access::ApiKey key;
  uint64_t key_id = 0;  // revoke_api_key
  // lookup_response: scope, key and fingerprint; store_response: the whole record (the engine
  // stamps created_ms).
  access::IdempotencyRecord record;
};

enum class AccessError : uint8_t {
  ok = 0,
  key_exists = 1,
  unknown_key = 2,
  already_revoked = 3,
  invalid = 4,
  // create_api_key: a merchant account the key is bound to is not a ledger account.
  unknown_merchant_account = 5,
};
std::string_view AccessErrorName(AccessError error);

struct AccessReply {
  AccessError error = AccessError::ok;
  std::string detail;  // invalid, unknown_merchant_account: what is wrong, for the message
  std::vector<access::ApiKey> keys;  // create: the new key; revoke: the revoked key; list: all
  // lookup_response: absent, replay (with `stored`), or mismatch.
  access::IdempotencyLookup lookup = access::IdempotencyLookup::absent;
  std::optional<access::IdempotencyRecord> stored;
};

struct Request;
struct Reply {
  // Engine-level failure (storage_failed, shutting_down, too_many_events, ...). When set, no
  // other field is meaningful.
  std::optional<EngineError> error;
  std::vector<ledger::CreateAccountsResult> account_results;    // sparse, as the Ledger's
  std::vector<ledger::CreateTransfersResult> transfer_results;  // sparse, as the Ledger's
  std::vector<ledger::Account> accounts;     // lookup_accounts (found ones, in request order)
  std::vector<ledger::Transfer> transfers;   // lookup_transfers, get_account_transfers
  std::vector<ledger::AccountBalance> balances;  // get_account_balances
  std::vector<ledger::PendingStatus> pending_statuses;  // get_pending_status, per id
  std::optional<ledger::QueryError> query_error;        // filter queries
  // The command kinds' own replies are boxed (on the heap when set): a Reply stays a few
  // hundred bytes instead of several KiB, and it is moved across threads for every request.
  Boxed<OfflineReply> offline;                          // offline commands
  Boxed<AccessReply> access;                            // access commands
  Boxed<RiskReply> risk;                                // risk commands
  Boxed<payments::Reply> payments;                      // payments commands
  uint64_t payments_digest = 0;                         // payments_digest
  Boxed<WebhookReply> webhooks;                         // webhook commands
  uint64_t durable_sequence = 0;  // the journal sequence this reply is durable up to
  // create_accounts / create_transfers: the batch's first timestamp. Event i was stamped
  // first_timestamp + i (a failed event consumes its stamp too), so a caller can show what it
  // created without looking it up again.
  tpw::Timestamp first_timestamp;
};

struct OfflineWork;  // engine_impl.h: an offline command and what was prepared for it

struct Request {
  RequestKind kind = RequestKind::lookup_accounts;
  std::shared_ptr<OfflineWork> offline;
  std::shared_ptr<AccessCommand> access;
  std::shared_ptr<RiskCommand> risk;
  std::shared_ptr<payments::Command> payments;
  std::shared_ptr<WebhookCommand> webhooks;
  std::vector<ledger::Account> accounts;
  std::vector<ledger::Transfer> transfers;
  std::vector<u128> ids;
  ledger::AccountFilter filter;
  // Called exactly once, on an engine thread, when the reply is durable (or failed). Must not
  // block for long: it runs on the journal thread.
  std::function<void(Reply&&)> done;
};

class Engine {
 public:
  // Opens an initialized data directory (see Initialize) and recovers. The Storage must outlive
  // the Engine. `clock` (not owned, must outlive) stamps facts; nullptr = the system clock.
  static EngineResult<std::unique_ptr<Engine>> Open(storage::Storage& storage,
                                                    const EngineOptions& options,
                                                    Clock* clock = nullptr);
  // Makes `storage` a new, empty data directory: fails with already_initialized if it holds a
  // journal or a data-directory marker.
  static EngineStatus Initialize(storage::Storage& storage);

  ~Engine();  // Shutdown(), then joins threads
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request; blocks while the queue is full. After Shutdown() or a storage failure the
  // request's `done` is called at once with the error.
  void Submit(Request request);
  // As Submit, but returns false (without calling `done`) when the queue is full.
  bool TrySubmit(Request& request);

  // Blocking conveniences over Submit.
  Reply Execute(Request request);
  Reply CreateAccounts(std::vector<ledger::Account> accounts);
  Reply CreateTransfers(std::vector<ledger::Transfer> transfers);
  Reply LookupAccounts(std::vector<tpw::AccountId> ids);
  Reply LookupTransfers(std::vector<tpw::TransferId> ids);
  Reply GetAccountTransfers(const ledger::AccountFilter& filter);
  Reply GetAccountBalances(const ledger::AccountFilter& filter);

  // Offline payments: runs an offline command (docs/offline-protocol.md). An uploaded batch is
  // decoded and its signatures verified on the calling thread plus verify_threads - 1 helpers
  // before it enters the sequencer; everything else runs in the sequencer. `done` is called
  // exactly once, when the outcome is durable (or failed).
  void SubmitOffline(OfflineCommand command, std::function<void(OfflineReply&&)> done);
  OfflineReply ExecuteOffline(OfflineCommand command);

  // Writes a snapshot now (waits for the pipeline to drain first).
  EngineResult<SnapshotInfo> Snapshot();
  // Stops accepting, finishes everything queued, makes it durable, stops threads. Idempotent.
  void Shutdown();

  // API keys as the sequencer last changed them, for authenticating requests on any thread
  // without a trip through the queue. Never null.
  std::shared_ptr<const access::ApiKeyTable> ApiKeys() const;
  Reply ExecuteAccess(AccessCommand command);
  // Risk rules, lists, evaluations and decisions (risk_command.h); the answer is reply.risk
  // unless reply.error is set.
  Reply ExecuteRisk(RiskCommand command);
  // Payments (payments/payments.h, docs/payments.md): runs one command in the sequencer at the
  // engine's step time. Its money movements are ledger transfers in the same group commit as its
  // payment facts, and its risk decision (at confirm) is a journaled risk decision. `done` is
  // called exactly once, on an engine thread, when the outcome is durable (reply.payments) or
  // the engine failed (reply.error: storage_failed, shutting_down). A refused command
  // (reply.payments->error) changes nothing unless payments.h says otherwise (a risk decline, a
  // ledger refusal), and is durable like any other reply. `expire_holds` is the engine's own
  // (its expiry timer runs it) and is refused with invalid_request.
  void SubmitPayments(payments::Command command, std::function<void(Reply&&)> done);
  // Blocking SubmitPayments.
  Reply ExecutePayments(payments::Command command);
  // Payments::StateDigest() of the payments state after every request queued before this one:
  // equal states give equal digests, so two engines (or one before and after a restart) can be
  // compared without shipping the state. It hashes the whole state (a full save): not for hot
  // paths. nullopt when the engine has failed or is shutting down.
  std::optional<uint64_t> PaymentsStateDigest();
  // Webhook endpoints, deliveries, test events (webhook_command.h); the answer is
  // reply.webhooks unless reply.error is set.
  Reply ExecuteWebhooks(WebhookCommand command);

  // ---- The outbox's events (docs/webhooks.md), for any thread, without a trip through the
  // queue. Only events whose group is durable are returned.
  // Events with id > `after_id`, oldest first, at most `limit`; when `after_id` is below the
  // oldest retained event the page starts at the oldest retained one.
  std::vector<OutboxEventPtr> ReadEvents(uint64_t after_id, size_t limit) const;
  OutboxEventPtr ReadEvent(uint64_t id) const;  // null unless retained and durable
  // The oldest retained event id (the next id when none is retained) and the durable id.
  std::pair<uint64_t, uint64_t> EventsWindow() const;
  // Calls `listener(durable_id)` after each group commit that made new events durable, on the
  // journal thread: it must only hand the news on (post to an io_context), never block.
  // Returns a token for UnsubscribeEvents; after that returns, the listener is never called.
  uint64_t SubscribeEvents(std::function<void(uint64_t durable_id)> listener);
  void UnsubscribeEvents(uint64_t token);

  EngineStats Stats() const;
  const RecoveryReport& recovery() const;
  // Set once a storage failure stopped the engine.
  std::optional<EngineFailure> failure() const;

  class Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpw::engine
