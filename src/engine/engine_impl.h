// Engine::Impl: the engine's internals, shared by engine.cc (ledger requests, recovery, the
// journal pipeline) and engine_offline.cc (offline-payment commands). Not a public header.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "engine/engine.h"
#include "engine/facts.h"
#include "engine/journal_store.h"
#include "engine/offline.h"
#include "engine/offline_facts.h"
#include "journal/format.h"
#include "journal/journal.h"
#include "journal/record_reader.h"
#include "offline/clearing.h"
#include "payments/payments.h"
#include "risk/risk.h"

namespace tpw::engine {

// An offline command on its way to the sequencer. For submit_batch, the batch is decoded and
// its token and certificate signatures checked before the sequencer sees it.
struct OfflineWork {
  OfflineCommand command;
  offline::TerminalBatch batch;
  crypto::Hash256 batch_hash{};
  std::vector<offline::CheckedToken> tokens;
  // The batch signature as checked while preparing, with the terminal key published then; the
  // sequencer uses the verdict only if that is still the terminal's key (else it checks again).
  std::optional<offline::Bytes32> batch_key_checked;
  bool batch_signature_ok = false;
};

// One group commit: the facts of several requests, their replies, and where the records land.
using ReplyList = std::vector<std::pair<std::function<void(Reply&&)>, Reply>>;

struct Group {
  std::vector<std::vector<uint8_t>> buffers;  // encoded fact records
  std::vector<uint16_t> types;
  std::vector<size_t> transfer_records;  // indexes (in buffers) of transfers_created records
  ReplyList replies;
  std::vector<journal::RecordLocation> locations;  // filled only when `committed`
  size_t payload_bytes = 0;  // journal payload the records take (headers included)
  // The last outbox event published when the group was handed off: once the group is durable,
  // events up to it are (earlier groups commit first).
  uint64_t events_through = 0;
  bool committed = false;  // appended (and synced): `locations` are real
  bool stop = false;       // tells the journal thread to exit

  void Add(FactType type, std::vector<uint8_t> bytes) {
    if (type == FactType::transfers_created) transfer_records.push_back(buffers.size());
    types.push_back(static_cast<uint16_t>(type));
    payload_bytes += journal::format::kRecordHeaderBytes + bytes.size();
    buffers.push_back(std::move(bytes));
  }
};

class Engine::Impl {
 public:
  Impl(storage::Storage& storage, const EngineOptions& options, Clock* clock)
      : storage_(&storage),
        options_(options),
        clock_(clock != nullptr ? clock : &system_clock_),
        reader_(storage) {}

  ~Impl() { Shutdown(); }

  EngineStatus Open();
  void Start();
  void Submit(Request request);
  bool TrySubmit(Request& request);
  // Under queue_mutex_: whether TrySubmit may run `request`'s step on the calling thread.
  bool CanStepOnSubmitter(const Request& request) const;
  // Holding step_mutex_ (not queue_mutex_): the sequencer's step for one request.
  void StepOnSubmitter(Request& request);
  void EnqueueLocked(Request request, std::unique_lock<std::mutex>& lock);
  bool ParkedShouldWake() const;
  EngineResult<SnapshotInfo> Snapshot();
  void Shutdown();
  EngineStats Stats() const;
  std::shared_ptr<const access::ApiKeyTable> ApiKeys() const;
  void SubmitOffline(OfflineCommand command, std::function<void(OfflineReply&&)> done);
  std::optional<EngineFailure> failure() const;
  const RecoveryReport& recovery() const { return recovery_; }
  // The outbox, for its thread-safe reads (Read, ReadOne, Window).
  const Outbox& outbox() const { return outbox_; }
  uint64_t SubscribeEvents(std::function<void(uint64_t)> listener);
  void UnsubscribeEvents(uint64_t token);

 private:
  // ---- recovery
  void ResetState();
  EngineStatus OpenJournal(std::optional<journal::TrustedPrefix> trusted);
  EngineStatus RemoveSnapshotsPastJournalEnd(uint64_t journal_last);
  EngineStatus LoadNewestSnapshot(uint64_t& sequence);
  EngineStatus Replay(uint64_t from, std::optional<journal::TrustedPrefix> trusted);
  EngineStatus ApplyFact(const journal::RecordView& record);
  EngineStatus ApplyOfflineFact(const journal::RecordView& record);
  EngineStatus ApplyAccessFact(const journal::RecordView& record);
  EngineStatus ApplyRiskFact(const journal::RecordView& record);
  EngineStatus ApplyPaymentFact(const journal::RecordView& record);
  EngineStatus ApplyOutboxFact(const journal::RecordView& record);
  EngineStatus CheckIssuerKey();

  // ---- sequencer thread
  void SequencerLoop();
  void SequencerStep(std::vector<Request>& batch);
  void MaybeSnapshotEvery();
  bool TakeRequests(std::vector<Request>& batch);
  bool GroupIsOpen() const;
  bool CloseGroup(bool wait);
  void Execute(Request& request, Group& group);
  // ---- access (engine_access.cc), sequencer thread
  void ExecuteAccess(Request& request, Reply& reply, Group& group);
  void PublishApiKeys();
  // ---- risk (engine_risk.cc), sequencer thread (and recovery)
  void ExecuteRisk(Request& request, Reply& reply, Group& group);
  void ResetRisk();
  risk::VelocityOptions RiskVelocityOptions() const;
  RiskStatus CurrentRiskStatus() const;
  RiskReply SetRiskRules(const std::string& text, Group& group);
  RiskReply ChangeRiskList(const RiskCommand& c, Group& group);
  std::vector<RiskListContents> RiskLists(const std::string& only) const;
  RiskOutcome DecideAndJournal(const risk::Event& event, Timestamp now, Group& group);
  // Offline clearing: decides every cleared token; a non-approval opens a risk_flag exception.
  void DecideClearedTokens(const std::vector<offline::CheckedToken>& tokens,
                           const std::vector<offline::TokenOutcome>& outcomes);
  // Enrollment and sync: fills the limits `c` leaves unset (per_payment_max 0, payment_count_max
  // 0, cvm_threshold Max) from the rules' [offline] section when it is for `asset`; refuses an
  // allowance above its allowance_max (invalid_limits). nullopt: go on with `c`.
  std::optional<OfflineReply> ApplyRiskOfflineLimits(OfflineCommand& c, uint32_t asset) const;
  void SaveRiskState(ledger::StateSink& sink) const;
  bool LoadRiskState(ledger::StateSource& source);
  // ---- payments (engine_payments.cc), sequencer thread (and recovery)
  // The ports the payments module reaches the ledger and risk through, bound to one group.
  class PaymentsLedgerPort;
  class PaymentsRiskPort;
  void ExecutePayments(Request& request, Reply& reply, Group& group);
  void ResetPayments();
  // Runs `command` at `now_ms`: its transfers and risk decision go into `group` as they happen,
  // then one payment fact per event it emits (so the ledger facts come first).
  payments::Reply RunPaymentsCommand(const payments::Command& command, uint64_t now_ms,
                                     Group& group);
  // The ledger expired these pending transfers in this step (RunExpiry): cancels the payments
  // whose holds they were (expire_holds), in the same group after the expiry fact.
  void ExpirePaymentHolds(const std::vector<ledger::ExpiredTransfer>& expired, Timestamp now,
                          Group& group);
  // The payments clock: `t` in milliseconds, never before a payment event already recorded.
  uint64_t PaymentsTimeMs(Timestamp t) const;
  // Counts and indexes derived from each payment event, live and on replay.
  void NotePaymentEvent(const payments::Event& event);
  // Outbox hook (hooks branch): hands the events of one journaled command, or of one replayed
  // fact, to the outbox. A no-op until the outbox is merged.
  void PublishPaymentEvent(uint64_t time_ms, payments::EventKind kind,
                           std::vector<uint8_t> encoded);
  // Refreshes payments_registry_stats_ when it is stale (see EngineStats): at most once per
  // second of payments time while payments change, since counting walks every payment.
  void RefreshPaymentsRegistryStats();
  void SavePaymentsState(ledger::StateSink& sink) const;
  bool LoadPaymentsState(ledger::StateSource& source);

  // ---- outbox (engine_outbox.cc), sequencer thread (and recovery)
  // Publishes an event into the outbox: called by the code that executes a fact (live, while
  // the fact's group is being built) and again when that fact is replayed, so ids and contents
  // are deterministic and the outbox is rebuilt from the journal (events are never journaled a
  // second time). Readers see the event once its group is durable. `format`: kEventFormat*;
  // `type` must be ValidEventType and `payload` at most kEventPayloadBytesMax (asserted: the
  // producer's own invariant).
  void PublishEvent(uint64_t time_ms, std::string_view type, uint8_t format,
                    std::vector<uint8_t> payload);
  void ExecuteWebhooks(Request& request, Reply& reply, Group& group);
  WebhookReply CreateEndpoint(const WebhookCommand& c, Group& group);
  WebhookReply UpdateEndpoint(const WebhookCommand& c, Group& group);
  WebhookReply DeleteEndpoint(const WebhookCommand& c, Group& group);
  WebhookReply PublishTestEvents(const WebhookCommand& c, Group& group);
  WebhookReply RecordOutcomes(const WebhookCommand& c, Group& group);
  WebhookReply Resend(const WebhookCommand& c, Group& group);
  WebhookReply DeliveryLog(const WebhookCommand& c) const;
  WebhookReply DeliveryState() const;
  EndpointView ViewOf(const WebhookEndpointState& state) const;
  // Drops what retention lets go (old and finished by every endpoint), then what the caps
  // force out. Deterministic: called at the same facts with the same times live and on replay.
  void PruneOutbox(uint64_t now_ms);
  void SaveOutboxState(ledger::StateSink& sink) const;
  bool LoadOutboxState(ledger::StateSource& source);
  // Journal thread: events up to group.events_through are durable; tells the listeners.
  void PublishDurableEvents(const Group& group);
  void ExecuteCreateAccounts(Request& request, Reply& reply, Group& group);
  void ExecuteCreateTransfers(Request& request, Reply& reply, Group& group);
  void ExecuteQuery(Request& request, Reply& reply);
  // Runs ledger work for an offline command inside the current group (facts journaled as for
  // any request); results are the Ledger's sparse failure lists.
  std::vector<ledger::CreateAccountsResult> CreateAccountsNow(std::vector<ledger::Account> accounts,
                                                              Group& group);
  std::vector<ledger::CreateTransfersResult> CreateTransfersNow(
      std::vector<ledger::Transfer> transfers, Group& group);

  // ---- offline commands (engine_offline.cc), sequencer thread
  void ExecuteOffline(Request& request, Reply& reply, Group& group);
  OfflineReply AddIssuerKey(const OfflineCommand& c, Group& group);
  OfflineReply EnrollDevice(const OfflineCommand& c, Group& group);
  OfflineReply SyncDevice(const OfflineCommand& c, Group& group);
  OfflineReply RegisterTerminal(const OfflineCommand& c, Group& group);
  OfflineReply DeactivateTerminal(const OfflineCommand& c, Group& group);
  OfflineReply RevokeDevice(const OfflineCommand& c, Group& group);
  OfflineReply ClearBatch(OfflineWork& work, Group& group);
  OfflineReply ResolveException(const OfflineCommand& c, Group& group);
  OfflineReply DenyListReply(const OfflineCommand& c) const;
  OfflineReply ListExceptions(const OfflineCommand& c) const;
  OfflineReply DeviceInfo(const OfflineCommand& c) const;
  bool CanSign() const;
  void AddOfflineFact(OfflineFact fact, Group& group);  // stamped with NowMs()
  void AddOfflineFactAt(OfflineFact fact, uint64_t time_ms, Group& group);
  // One money movement of an offline command: nullopt when the ledger took it, else the
  // refusal `error` carrying the ledger's result.
  std::optional<OfflineReply> MoveMoney(const ledger::Transfer& transfer, OfflineError error,
                                        Group& group);
  // Signs `cert` with the issuer key (filling its signature) and returns its encoding.
  std::vector<uint8_t> SignCertificate(offline::DeviceCertificate& cert) const;
  uint64_t NowMs() const;
  uint64_t StepStamp() const;
  // Caller threads: decode a batch and verify its signatures in parallel.
  std::optional<OfflineReply> PrepareBatch(OfflineWork& work);
  std::optional<offline::Bytes32> PublishedIssuerKey(uint32_t key_id) const;
  void PublishIssuerKey(uint32_t key_id, const offline::Bytes32& key);
  void PublishTerminalKey(u128 terminal_id, const offline::Bytes32& key);
  // Publishes every issuer and terminal key of clearing_ (after recovery).
  void PublishVerificationKeys();
  void RunExpiry(Group& group);
  void HandOff(std::unique_ptr<Group> group);
  void DrainCompletions();
  std::vector<uint8_t> SpareBuffer();
  void WaitForPipelineEmpty();
  EngineResult<SnapshotInfo> WriteSnapshotNow();
  void ServeSnapshotRequests();
  void PublishStats();

  // ---- journal thread
  void JournalLoop();
  bool CommitGroup(Group& group);
  void WakeSequencerIfHoldingGroup();
  bool TakeWaitingGroup();
  void WakeSequencerIfQueued();
  void Fail(EngineFailure failure);
  static void FailReplies(ReplyList& replies, EngineError code);

  storage::Storage* storage_;
  EngineOptions options_;
  SystemClock system_clock_;
  Clock* clock_;
  std::unique_ptr<storage::DirectoryLock> lock_;
  std::unique_ptr<journal::JournalWriter> journal_;
  journal::RecordReader reader_;
  std::unique_ptr<JournalStore> store_;
  std::unique_ptr<ledger::Ledger> ledger_;
  RecoveryReport recovery_;
  uint64_t records_since_snapshot_ = 0;
  crypto::Hash256 covered_hash_{};  // journal chain hash at the loaded snapshot's sequence
  std::vector<std::vector<uint8_t>> spare_buffers_;  // sequencer-owned, recycled record buffers
  // The ledger's last_timestamp() as replaying the journal restores it: advanced only by facts
  // whose replay advances it (accounts, transfers, expiry). Batches that create nothing still
  // consume timestamps in the live ledger but are not journaled (or only as failed ids), so the
  // live value can run ahead of this one. Snapshots save this value: a snapshot that saved the
  // live one would be ahead of the facts a later run appends after recovering *without* that
  // snapshot (say a read error made recovery skip it, then it is read fine next time), and
  // replaying those facts on top of it would fail with replay_diverged. Sequencer thread only.
  tpw::Timestamp journaled_timestamp_;
  offline::Clearing clearing_;  // sequencer thread (and recovery)
  access::ApiKeyTable api_keys_;  // sequencer thread (and recovery)
  access::IdempotencyTable idempotency_;  // sequencer thread (and recovery)
  // Risk state (engine_risk.cc), sequencer thread (and recovery): the engine with the active
  // rules, the journaled rules text ("" until rules are set), decisions made, and a decision
  // reused so deciding allocates nothing once it has grown.
  std::unique_ptr<risk::RiskEngine> risk_;
  std::string risk_rules_text_;
  uint64_t risk_decisions_ = 0;
  risk::RiskDecision risk_scratch_;
  // Payments state (engine_payments.cc), sequencer thread (and recovery): the state machine;
  // the latest event time (the payments clock never goes back, even when the wall clock does);
  // payment facts seen; each payment's state by number (index n - 1) and the count per state,
  // for Stats; the events of the command running (reused); and when the registry counts were
  // last refreshed.
  payments::Payments payments_;
  uint64_t payments_last_ms_ = 0;
  uint64_t payment_facts_ = 0;
  std::vector<uint8_t> payment_state_of_;
  std::array<uint64_t, kPaymentStates> payments_by_state_{};
  std::vector<payments::Event> payment_events_;
  payments::PaymentsStats payments_registry_stats_;
  bool payments_registry_dirty_ = false;
  uint64_t payments_registry_refreshed_ms_ = 0;
  // Outbox and webhook endpoints (engine_outbox.cc), sequencer thread (and recovery); the
  // outbox's reads are thread-safe (outbox.h).
  Outbox outbox_;
  WebhookState webhooks_;
  // Event listeners (SubscribeEvents): called on the journal thread under this mutex.
  mutable std::mutex event_listeners_mutex_;
  std::map<uint64_t, std::function<void(uint64_t)>> event_listeners_;
  uint64_t next_listener_token_ = 1;
  // api_keys_ as last published for other threads (copy-on-write; keys change rarely).
  mutable std::mutex api_keys_mutex_;
  std::shared_ptr<const access::ApiKeyTable> published_api_keys_ =
      std::make_shared<access::ApiKeyTable>();

  // Issuer and terminal public keys as the sequencer registered them, for the verifying caller
  // threads (rebuilt after recovery: a snapshot restores clearing_ without replaying facts); and
  // certificates whose issuer signature verified (a certificate never changes, and a key id is
  // never rebound, so a good verdict stays good). Positive verdicts only.
  mutable std::mutex verify_mutex_;
  std::map<uint32_t, offline::Bytes32> published_issuer_keys_;
  std::map<u128, offline::Bytes32> published_terminal_keys_;
  std::unordered_set<crypto::Hash256, offline::Hash256Hasher> verified_certificates_;

  // Held by whoever executes requests into the open group and touches the sequencer's state
  // (the ledger, clearing, risk, payments, outbox, open_group_, spare_buffers_, ...): the
  // sequencer thread for each of its steps, or a thread in TrySubmit running a small request's
  // step itself (StepOnSubmitter), which only try_locks it while holding queue_mutex_. Lock
  // order: step_mutex_ before queue_mutex_ and pipe_mutex_ (never waited for under them).
  std::mutex step_mutex_;
  std::atomic<uint64_t> submitter_steps_{0};  // StepOnSubmitter runs, for Stats()
  std::vector<Request> submitter_batch_;  // StepOnSubmitter's batch of one, reused

  // Requests: any thread -> sequencer.
  mutable std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::condition_variable queue_space_;
  std::deque<Request> queue_;
  std::deque<std::promise<EngineResult<SnapshotInfo>>> snapshot_waiters_;
  bool stopping_ = false;
  bool pipeline_freed_ = false;  // the journal thread made room for the open group
  // The sequencer waits holding an open group the pipeline has no room for: submitting does not
  // wake it (until ParkedWakeRequests are queued).
  bool sequencer_parked_ = false;
  // The sequencer thread took requests (or woke) and has not come back to wait: a submitter
  // must not run a step of its own meanwhile, or a later request of one caller could execute
  // before an earlier one the sequencer holds.
  bool sequencer_stepping_ = false;
  uint64_t queued_events_ = 0;  // EventsOf every request in queue_

  // Groups: sequencer -> journal thread, and completions back.
  std::mutex pipe_mutex_;
  std::condition_variable pipe_changed_;
  std::deque<std::unique_ptr<Group>> to_journal_;
  std::deque<std::unique_ptr<Group>> completed_;
  uint32_t in_flight_ = 0;
  // The group the sequencer is executing requests into (sequencer thread only), and whether it
  // waits for room in the pipeline to hand it off (then the journal thread wakes it).
  std::unique_ptr<Group> open_group_;
  std::atomic<bool> open_group_waiting_{false};

  std::atomic<bool> failed_{false};
  mutable std::mutex state_mutex_;  // guards failure_ and stats_
  std::optional<EngineFailure> failure_;
  EngineStats stats_;
  // Metrics histograms (histogram.h): written by the sequencer (batch sizes) and the journal
  // thread (group sizes, sync latency) only, read by Stats().
  Pow2Histogram sequencer_batch_requests_;
  Pow2Histogram group_records_;
  Pow2Histogram journal_sync_ns_;

  std::thread sequencer_;
  std::thread journal_thread_;
  std::once_flag shutdown_once_;
};

}  // namespace tpw::engine
