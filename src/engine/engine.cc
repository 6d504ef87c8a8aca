#include "engine/engine.h"
#include "engine/engine_impl.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "common/limits.h"
#include "engine/facts.h"
#include "engine/journal_store.h"
#include "engine/snapshot.h"
#include "journal/journal.h"
#include "journal/limits.h"
#include "journal/record_reader.h"

namespace tpw::engine {

using ledger::Account;
using ledger::Ledger;
using tpw::Timestamp;
using ledger::Transfer;

namespace {

// The file that marks a directory as a tpwallet data directory, and its format version.
constexpr std::string_view kMarkerFile = "tpwallet-data";
constexpr uint32_t kDataFormat = 1;
constexpr uint64_t kMarkerBytesMax = 4096;

std::string MarkerContents() {
  return "tpwallet data directory\nformat " + std::to_string(kDataFormat) + "\n";
}

EngineFailure FromJournal(const journal::JournalFailure& failure) {
  switch (failure.code) {
    case journal::JournalError::locked:
      return EngineFailure{EngineError::locked, failure.Message()};
    case journal::JournalError::storage:
      return EngineFailure{EngineError::io_error, failure.Message()};
    case journal::JournalError::format_version_unsupported:
      return EngineFailure{EngineError::format_unsupported, failure.Message()};
    case journal::JournalError::no_journal:
      return EngineFailure{EngineError::not_initialized, failure.Message()};
    default:
      return EngineFailure{EngineError::journal_corrupt, failure.Message()};
  }
}

EngineFailure FromStorage(const storage::StorageFailure& failure) {
  const EngineError code =
      failure.code == storage::StorageError::locked ? EngineError::locked : EngineError::io_error;
  return EngineFailure{code, failure.Message()};
}

// A group is closed, and the step goes on in a new one, once it holds this much (checked between
// two requests). One request adds at most a few MiB (a 4 MiB rules text or idempotency body, an
// offline batch, a payments command with its events), so a group stays well within the
// journal's limits (64 MiB of payload, 65,536 records): without this, a step of requests that
// each journal a lot (payments with full metadata) would make AppendGroup refuse the group and
// stop the engine.
constexpr size_t kGroupPayloadBytesSoftMax = journal::kGroupPayloadBytesMax / 2;
constexpr size_t kGroupRecordsSoftMax = journal::kGroupRecordsMax / 2;

bool GroupIsFull(const Group& group) {
  return group.payload_bytes >= kGroupPayloadBytesSoftMax ||
         group.buffers.size() >= kGroupRecordsSoftMax;
}

// Pending transfers expired per step while payments hold funds: each expired hold cancels its
// payment with an event of up to ~32 KiB (a payment with full metadata), journaled in the same
// group as the expiry, so 1,024 keep that group within kGroupPayloadBytesSoftMax.
constexpr uint32_t kExpiryWithPaymentHoldsMax = 1024;

// Record buffers at least this large are kept for reuse.
constexpr size_t kSpareBufferBytesMin = size_t{64} << 10;

uint64_t EventsOf(const Request& request) {
  // An offline batch becomes one settlement transfer per token.
  const uint64_t offline = request.offline ? request.offline->tokens.size() : 0;
  return std::max<uint64_t>(1, request.accounts.size() + request.transfers.size() + offline);
}

// What a snapshot's layout depends on: the ledger's, clearing's and the access state's saved
// structures.
// Risk: the engine's risk section (engine_risk.cc, version 1) around risk::kStateVersion.
// Payments: the engine's payments section (engine_payments.cc, version 1) around the module's
// own layout fingerprint.
constexpr uint64_t kRiskSectionLayoutVersion = 1;
constexpr uint64_t kPaymentsSectionLayoutVersion = 1;
// Outbox and webhooks: the outbox section (engine_outbox.cc, outbox.cc), version 1.
constexpr uint64_t kOutboxSectionLayoutVersion = 1;

uint64_t StateFingerprint() {
  const uint64_t without_risk =
      (Ledger::StateLayoutFingerprint() * 1000003 + offline::Clearing::kStateLayoutVersion) *
          1000003 +
      access::kStateLayoutVersion;
  const uint64_t with_risk =
      (without_risk * 1000003 + kRiskSectionLayoutVersion) * 1000003 + risk::kStateVersion;
  const uint64_t with_payments = (with_risk * 1000003 + kPaymentsSectionLayoutVersion) * 1000003 +
                                 payments::Payments::StateLayoutFingerprint();
  return with_payments * 1000003 + kOutboxSectionLayoutVersion;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Recovery

void Engine::Impl::ResetState() {
  ledger_.reset();
  store_ = std::make_unique<JournalStore>(reader_);
  store_->Reserve(options_.expected_transfers, options_.expected_accounts);
  ledger_ = std::make_unique<Ledger>(
      *store_, ledger::LedgerOptions{options_.expected_accounts, options_.expected_transfers});
  clearing_ = offline::Clearing{};
  api_keys_ = access::ApiKeyTable{};
  idempotency_ = access::IdempotencyTable{options_.idempotency_ttl_ms};
  ResetRisk();
  ResetPayments();
  outbox_.Reset();
  webhooks_ = WebhookState{};
}

EngineStatus Engine::Impl::Open() {
  const uint64_t start = clock_->MonotonicNs();
  auto lock = storage_->LockDirectory();
  if (!lock.ok()) return Err{FromStorage(lock.error())};
  lock_ = std::move(lock.value());

  auto marker = storage_->ReadFile(kMarkerFile, kMarkerBytesMax);
  if (!marker.ok()) {
    if (marker.error().code == storage::StorageError::not_found) {
      return EngineFail(EngineError::not_initialized, storage_->PathOf(kMarkerFile) + " is missing");
    }
    return Err{FromStorage(marker.error())};
  }
  const std::string text(marker.value().begin(), marker.value().end());
  if (text != MarkerContents()) {
    return EngineFail(EngineError::format_unsupported,
                      storage_->PathOf(kMarkerFile) + " says: " + text);
  }

  ResetState();
  uint64_t covered = 0;
  if (!options_.ignore_snapshots) {
    if (EngineStatus s = LoadNewestSnapshot(covered); !s.ok()) return s;
  }
  if (journal_ == nullptr) {  // no usable snapshot: open the journal verifying all of it
    if (EngineStatus s = OpenJournal(std::nullopt); !s.ok()) return s;
  }
  recovery_.torn_tail_bytes = journal_->stats().torn_tail_bytes;
  if (EngineStatus s = RemoveSnapshotsPastJournalEnd(journal_->stats().last_sequence.value);
      !s.ok()) {
    return s;
  }
  if (journal_->stats().last_sequence.value > covered) {
    std::optional<journal::TrustedPrefix> trusted;
    if (covered > 0) trusted = journal::TrustedPrefix{journal::SequenceNo{covered}, covered_hash_};
    if (EngineStatus s = Replay(covered + 1, trusted); !s.ok()) return s;
  }
  ledger_->CheckInvariants();
  if (EngineStatus s = CheckIssuerKey(); !s.ok()) return s;
  PublishVerificationKeys();
  journaled_timestamp_ = ledger_->last_timestamp();
  outbox_.MarkDurable(outbox_.last_id());  // everything replayed came from the journal
  recovery_.elapsed_ns = clock_->MonotonicNs() - start;
  PublishStats();
  PublishApiKeys();
  {
    const journal::JournalStats& js = journal_->stats();
    std::lock_guard stats_lock(state_mutex_);
    stats_.journal_records = js.records;
    stats_.journal_bytes = js.bytes;
    stats_.journal_last_sequence = js.last_sequence.value;
    stats_.durable_sequence = journal_->durable_sequence().value;
    stats_.journal_head_hash_hex = crypto::HashToHex(js.head_hash);
  }
  return EngineStatus::Ok();
}

EngineStatus Engine::Impl::OpenJournal(std::optional<journal::TrustedPrefix> trusted) {
  journal_.reset();
  journal::JournalOptions journal_options;
  journal_options.lock_directory = false;  // we hold the lock
  journal_options.trusted_prefix = trusted;
  if (options_.segment_bytes_max != 0) journal_options.segment_bytes_max = options_.segment_bytes_max;
  if (options_.journal_preallocate_bytes.has_value()) {
    journal_options.preallocate_bytes = *options_.journal_preallocate_bytes;
  }
  auto journal = journal::JournalWriter::Open(*storage_, journal_options);
  if (!journal.ok()) return Err{FromJournal(journal.error())};
  journal_ = std::move(journal.value());
  return EngineStatus::Ok();
}

// A snapshot that covers sequences past the journal's end describes facts the journal no longer
// has (fsync=never and a crash, or a journal restored from an older copy). Recovery never loads
// it (its sequence and hash cannot fit the journal), but it is garbage that would confuse an
// operator and is deleted, durably, before anything is appended - also when this Open ignores
// snapshots.
EngineStatus Engine::Impl::RemoveSnapshotsPastJournalEnd(uint64_t journal_last) {
  auto names = ListSnapshots(*storage_);
  if (!names.ok()) return Err{FromStorage(names.error())};
  bool removed = false;
  for (const std::string& name : names.value()) {
    const uint64_t sequence = *ParseSnapshotFileName(name);  // listed names parse
    if (sequence <= journal_last) continue;
    if (auto s = storage_->Remove(name); !s.ok()) return Err{FromStorage(s.error())};
    const std::string why = name + ": covers sequence " + std::to_string(sequence) +
                            " but the journal ends at " + std::to_string(journal_last) +
                            " (deleted)";
    auto earlier = std::find_if(recovery_.skipped_snapshots.begin(),
                                recovery_.skipped_snapshots.end(),
                                [&](const std::string& s) { return s.starts_with(name + ":"); });
    if (earlier != recovery_.skipped_snapshots.end()) {
      *earlier = why;
    } else {
      recovery_.skipped_snapshots.push_back(why);
    }
    removed = true;
  }
  if (removed) {
    if (auto s = storage_->SyncDirectory(); !s.ok()) return Err{FromStorage(s.error())};
  }
  return EngineStatus::Ok();
}

// Tries snapshots newest first. For each, the journal is opened trusting the snapshot's prefix
// (only group checksums there, full hashing after it), which also proves that the snapshot's
// sequence ends a group of this journal and that the chain continues from its hash. On success
// `sequence` is the snapshot's and journal_ is open; otherwise journal_ stays closed.
EngineStatus Engine::Impl::LoadNewestSnapshot(uint64_t& sequence) {
  auto names = ListSnapshots(*storage_);
  if (!names.ok()) return Err{FromStorage(names.error())};
  for (const std::string& name : names.value()) {
    auto header = ReadSnapshotHeader(*storage_, name);
    std::string why;
    if (!header.ok()) {
      why = header.error();
    } else if (header.value().fingerprint != StateFingerprint()) {
      why = "written by a build with a different state layout";
    } else if (header.value().sequence > 0) {
      const journal::TrustedPrefix trusted{journal::SequenceNo{header.value().sequence},
                                           header.value().head_hash};
      EngineStatus opened = OpenJournal(trusted);
      if (!opened.ok() && opened.error().code != EngineError::journal_corrupt) return opened;
      if (!opened.ok()) {
        // Damage elsewhere in the journal is reported by the full open that follows; here it
        // only means this snapshot cannot be used.
        why = "does not fit the journal: " + opened.error().detail;
      } else if (LoadSnapshot(
                     *storage_, name, header.value(),
                     [&](ledger::StateSource& source) {
                       return ledger_->LoadState(source) && store_->LoadState(source) &&
                              clearing_.LoadState(source) && api_keys_.LoadState(source) &&
                              idempotency_.LoadState(source) && LoadRiskState(source) &&
                              LoadPaymentsState(source) && LoadOutboxState(source);
                     },
                     why)) {
        recovery_.from_snapshot = true;
        recovery_.snapshot_file = name;
        recovery_.snapshot_sequence = header.value().sequence;
        sequence = header.value().sequence;
        covered_hash_ = header.value().head_hash;
        return EngineStatus::Ok();
      }
    } else {
      why = "covers no facts";
    }
    recovery_.skipped_snapshots.push_back(name + ": " + why);
    journal_.reset();
    ResetState();
  }
  return EngineStatus::Ok();
}

EngineStatus Engine::Impl::Replay(uint64_t from, std::optional<journal::TrustedPrefix> trusted) {
  auto reader = journal::JournalReader::Open(*storage_, journal::SequenceNo{from}, trusted);
  if (!reader.ok()) return Err{FromJournal(reader.error())};
  while (true) {
    auto next = reader.value()->Next();
    if (!next.ok()) return Err{FromJournal(next.error())};
    if (!next.value().has_value()) break;
    if (EngineStatus s = ApplyFact(*next.value()); !s.ok()) return s;
    ++recovery_.replayed_records;
    ++records_since_snapshot_;
  }
  return EngineStatus::Ok();
}

EngineStatus Engine::Impl::ApplyFact(const journal::RecordView& record) {
  const auto diverged = [&](const std::string& why) {
    return EngineFail(EngineError::replay_diverged,
                      "journal record " + std::to_string(record.sequence.value) + ": " + why);
  };
  if (record.type == static_cast<uint16_t>(FactType::offline)) return ApplyOfflineFact(record);
  if (record.type == static_cast<uint16_t>(FactType::api_key) ||
      record.type == static_cast<uint16_t>(FactType::idempotency)) {
    return ApplyAccessFact(record);
  }
  if (record.type >= static_cast<uint16_t>(FactType::risk_rules) &&
      record.type <= static_cast<uint16_t>(FactType::risk_decision)) {
    return ApplyRiskFact(record);
  }
  if (record.type == static_cast<uint16_t>(FactType::payment)) return ApplyPaymentFact(record);
  if (record.type >= static_cast<uint16_t>(FactType::webhook_endpoint) &&
      record.type <= static_cast<uint16_t>(FactType::webhook_resend)) {
    return ApplyOutboxFact(record);
  }
  auto decoded = DecodeFact(record.type, record.bytes);
  if (!decoded.ok()) return diverged(decoded.error());
  const Fact& fact = decoded.value();
  const Timestamp last{fact.header.batch_last};
  switch (fact.type) {
    case FactType::accounts_created:
      if (!ledger_->ReplayAccounts(fact.accounts, last)) return diverged("accounts do not apply");
      break;
    case FactType::transfers_created:
      if (!ledger_->ReplayTransfers(fact.transfers, last)) {
        return diverged("transfers do not apply");
      }
      store_->TailIsInJournal(record.location);
      break;
    case FactType::transfers_failed:
      if (!ledger_->ReplayFailures(fact.failed)) return diverged("failed ids do not apply");
      break;
    case FactType::offline:
    case FactType::api_key:
    case FactType::idempotency:
    case FactType::risk_rules:
    case FactType::risk_list:
    case FactType::risk_decision:
    case FactType::payment:
    case FactType::webhook_endpoint:
    case FactType::outbox_test_events:
    case FactType::webhook_deliveries:
    case FactType::webhook_resend:
      return diverged("an offline, access, risk, payment or outbox fact decoded as a ledger fact");
    case FactType::transfers_expired: {
      const Timestamp now{fact.header.batch_first};
      if (now <= ledger_->last_timestamp()) return diverged("expiry time is not after the last");
      std::vector<ledger::ExpiredTransfer> expired;
      (void)ledger_->ExpirePendingTransfers(now, fact.expired.size(), expired);
      bool same = expired.size() == fact.expired.size() && ledger_->last_timestamp() == last;
      for (size_t i = 0; same && i < expired.size(); ++i) same = expired[i].id == fact.expired[i];
      if (!same) return diverged("expiry released different transfers");
      break;
    }
  }
  return EngineStatus::Ok();
}

// ---------------------------------------------------------------------------------------------
// Requests

void Engine::Impl::Start() {
  // Before any thread starts: a submitter may step (TrySubmit → StepOnSubmitter) before the
  // sequencer thread has run at all, and it executes into this group.
  open_group_ = std::make_unique<Group>();
  // Named so `top -H`, perf and gdb show which is which.
  journal_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tpw-journal");
    JournalLoop();
  });
  sequencer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tpw-sequencer");
    SequencerLoop();
  });
}

void Engine::Impl::Submit(Request request) {
  std::unique_lock lock(queue_mutex_);
  queue_space_.wait(lock, [&] {
    return stopping_ || failed_.load() || queue_.size() < options_.queue_requests_max;
  });
  EnqueueLocked(std::move(request), lock);
}

// The size check and the push happen under one lock, so TrySubmit never blocks: another thread
// cannot fill the queue in between. When the sequencer is idle, a small write runs its step
// here instead (StepOnSubmitter): no queue, and no wake-up of the sequencer thread (a futex
// wake and two context switches per request when requests trickle in one at a time).
bool Engine::Impl::TrySubmit(Request& request) {
  std::unique_lock lock(queue_mutex_);
  if (!stopping_ && !failed_.load() && queue_.size() >= options_.queue_requests_max) return false;
  if (CanStepOnSubmitter(request)) {
    // try_lock only: a thread in TrySubmit never waits for a step, nor for the pipeline (a
    // group that is not full is handed off only if there is room, except briefly after a
    // storage failure). Taken under queue_mutex_, so the sequencer cannot take requests or
    // finish its shutdown between the check and the step.
    std::unique_lock step(step_mutex_, std::try_to_lock);
    if (step.owns_lock() && !GroupIsFull(*open_group_)) {
      lock.unlock();
      StepOnSubmitter(request);
      return true;
    }
  }
  EnqueueLocked(std::move(request), lock);
  return true;
}

// Only small ledger writes: a big batch, a lookup that may read bodies back from the journal,
// or a command that compiles rules or verifies signatures would hold the caller's thread (an
// I/O thread) for long. Only when nothing is queued and the sequencer thread holds no requests
// it took (no request is overtaken by one submitted after it), and no snapshot waits. The open
// group may be waiting for room in the pipeline: the request is then executed into it at once,
// so the group is ready when the journal thread takes it (TakeWaitingGroup).
bool Engine::Impl::CanStepOnSubmitter(const Request& request) const {
  constexpr uint64_t kSubmitterStepEventsMax = 16;
  const bool small_write = (request.kind == RequestKind::create_transfers ||
                            request.kind == RequestKind::create_accounts) &&
                           EventsOf(request) <= kSubmitterStepEventsMax;
  return options_.submitter_steps && small_write && !stopping_ && !failed_.load() &&
         queue_.empty() && snapshot_waiters_.empty() && !sequencer_stepping_;
}

// The sequencer's step for one request, on the submitting thread, holding step_mutex_. The
// group is handed off when the pipeline has room, as the sequencer would; otherwise it stays
// open and waiting (the journal thread takes it when it frees a place), and the sequencer is
// marked parked so that a request that has to queue meanwhile does not wake it for nothing. A
// snapshot due (snapshot_every_records) is left to the sequencer thread: it would hold this one.
void Engine::Impl::StepOnSubmitter(Request& request) {
  std::vector<Request>& batch = submitter_batch_;
  batch.clear();
  batch.push_back(std::move(request));
  submitter_steps_.fetch_add(1, std::memory_order_relaxed);
  SequencerStep(batch);
  batch.clear();
  if (!open_group_waiting_.load()) return;
  std::lock_guard lock(queue_mutex_);
  sequencer_parked_ = true;
}

// Queues the request, or answers it at once (after unlocking) when the engine is stopping or
// has failed.
void Engine::Impl::EnqueueLocked(Request request, std::unique_lock<std::mutex>& lock) {
  if (stopping_ || failed_.load()) {
    const EngineError code = failed_.load() ? EngineError::storage_failed : EngineError::shutting_down;
    lock.unlock();
    Reply reply;
    reply.error = code;
    request.done(std::move(reply));
    return;
  }
  queued_events_ += EventsOf(request);
  queue_.push_back(std::move(request));
  const bool wake = !sequencer_parked_ || ParkedShouldWake();
  lock.unlock();
  if (wake) queue_ready_.notify_one();
}

// A parked sequencer still wakes for a queue half full (so it never fills up and refuses
// requests) or a group's worth of events (a big batch is executed at once, overlapping the
// sync in progress, rather than after it). Under queue_mutex_.
bool Engine::Impl::ParkedShouldWake() const {
  return queue_.size() >= std::max<size_t>(1, options_.queue_requests_max / 2) ||
         queued_events_ >= options_.group_events_max;
}

EngineResult<SnapshotInfo> Engine::Impl::Snapshot() {
  std::future<EngineResult<SnapshotInfo>> result;
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) return EngineFail(EngineError::shutting_down);
    snapshot_waiters_.emplace_back();
    result = snapshot_waiters_.back().get_future();
  }
  queue_ready_.notify_one();
  return result.get();
}

void Engine::Impl::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    {
      std::lock_guard lock(queue_mutex_);
      stopping_ = true;
    }
    queue_ready_.notify_all();
    queue_space_.notify_all();
    if (sequencer_.joinable()) sequencer_.join();
    if (journal_thread_.joinable()) journal_thread_.join();
  });
}

// ---------------------------------------------------------------------------------------------
// Sequencer thread

// Takes queued requests worth at most group_events_max events (at least one request). Returns
// false when the engine is stopping and nothing is left. Also returns (with an empty batch)
// when the journal thread freed a place in the pipeline while the sequencer holds an open
// group, so the group is handed off at once.
bool Engine::Impl::TakeRequests(std::vector<Request>& batch) {
  batch.clear();
  std::unique_lock lock(queue_mutex_);
  // Parked: the open group waits for room in the pipeline. Requests then wait in the queue too
  // (submitters do not wake the sequencer for each one) and are executed together when the
  // journal thread makes room, or earlier when ParkedShouldWake.
  sequencer_parked_ = open_group_waiting_.load();
  sequencer_stepping_ = false;
  // Wake at least every 10 ms to run the expiry timer and serve snapshot requests.
  queue_ready_.wait_for(lock, std::chrono::milliseconds(10), [&] {
    const bool requests = sequencer_parked_ ? ParkedShouldWake() : !queue_.empty();
    return requests || stopping_ || !snapshot_waiters_.empty() || pipeline_freed_;
  });
  sequencer_parked_ = false;
  sequencer_stepping_ = true;
  pipeline_freed_ = false;
  uint64_t events = 0;
  while (!queue_.empty()) {
    const uint64_t next = EventsOf(queue_.front());
    if (!batch.empty() && events + next > options_.group_events_max) break;
    events += next;
    queued_events_ -= next;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  const bool done = stopping_ && queue_.empty() && batch.empty() && snapshot_waiters_.empty();
  lock.unlock();
  queue_space_.notify_all();
  return !done;
}

// Group commit: requests are executed into the open group, which is handed to the journal
// thread as soon as the pipeline has room for it (groups_in_flight_max). While the pipeline is
// full the group stays open and takes every request that arrives meanwhile, so one append and
// one fdatasync serve all the requests that came during the previous sync, instead of the
// pipeline filling with small groups (one each time the sequencer woke) when requests trickle
// in one at a time. The journal thread wakes the sequencer when it frees a place
// (open_group_waiting_), so an open group never waits for the next request. Meanwhile the
// sequencer is parked (TakeRequests): requests queue up and are executed together once there
// is room, while the group handed off before is being synced, so execution still overlaps the
// disk and the sequencer wakes about once per group rather than once per request.
void Engine::Impl::SequencerLoop() {
  std::vector<Request> batch;
  while (TakeRequests(batch)) {
    std::lock_guard step(step_mutex_);
    ServeSnapshotRequests();
    SequencerStep(batch);
    MaybeSnapshotEvery();
  }
  std::lock_guard step(step_mutex_);
  if (GroupIsOpen()) CloseGroup(/*wait=*/true);
  auto stop = std::make_unique<Group>();
  stop->stop = true;
  HandOff(std::move(stop));
}

// One step, holding step_mutex_: due expiries, then `batch` executed into the open group, which
// is handed off if the pipeline has room (else it stays open: CloseGroup). On the sequencer
// thread, or on a submitting thread for one small request (StepOnSubmitter).
void Engine::Impl::SequencerStep(std::vector<Request>& batch) {
  DrainCompletions();
  if (failed_.load()) {
    for (Request& request : batch) {
      Reply reply;
      reply.error = EngineError::storage_failed;
      request.done(std::move(reply));
    }
    if (GroupIsOpen()) CloseGroup(/*wait=*/true);  // the journal thread fails its replies
    return;
  }
  if (!batch.empty()) sequencer_batch_requests_.Record(batch.size());
  if (options_.expire_when_idle || !batch.empty()) RunExpiry(*open_group_);
  idempotency_.Expire(NowMs());
  for (Request& request : batch) {
    if (GroupIsFull(*open_group_)) CloseGroup(/*wait=*/true);
    Execute(request, *open_group_);
  }
  if (!GroupIsOpen()) return;
  CloseGroup(/*wait=*/false);
  PublishStats();
}

// Sequencer thread, holding step_mutex_: checked on every wake-up (at least every 10 ms), since
// steps run on submitting threads append records too.
void Engine::Impl::MaybeSnapshotEvery() {
  if (options_.snapshot_every_records == 0 || failed_.load()) return;
  if (records_since_snapshot_ < options_.snapshot_every_records) return;
  (void)WriteSnapshotNow();  // a failure leaves the journal intact; the next one retries
}

bool Engine::Impl::GroupIsOpen() const {
  return !open_group_->buffers.empty() || !open_group_->replies.empty();
}

// Hands the open group to the journal thread: with `wait`, waiting for room in the pipeline;
// without, only if there is room now (else the group stays open, and the journal thread wakes
// the sequencer when there is). True when the group was handed off.
bool Engine::Impl::CloseGroup(bool wait) {
  open_group_waiting_.store(true);  // before the check: a place freed after it wakes us
  if (!wait) {
    std::lock_guard lock(pipe_mutex_);
    if (in_flight_ >= options_.groups_in_flight_max) return false;
  }
  open_group_waiting_.store(false);
  records_since_snapshot_ += open_group_->buffers.size();
  open_group_->events_through = outbox_.last_id();
  HandOff(std::exchange(open_group_, std::make_unique<Group>()));
  return true;
}

void Engine::Impl::Execute(Request& request, Group& group) {
  Reply reply;
  switch (request.kind) {
    case RequestKind::create_accounts:
      ExecuteCreateAccounts(request, reply, group);
      break;
    case RequestKind::create_transfers:
      ExecuteCreateTransfers(request, reply, group);
      break;
    case RequestKind::offline:
      ExecuteOffline(request, reply, group);
      break;
    case RequestKind::access:
      ExecuteAccess(request, reply, group);
      break;
    case RequestKind::risk:
      ExecuteRisk(request, reply, group);
      break;
    case RequestKind::payments:
      ExecutePayments(request, reply, group);
      break;
    case RequestKind::payments_digest:
      reply.payments_digest = payments_.StateDigest();
      break;
    case RequestKind::webhooks:
      ExecuteWebhooks(request, reply, group);
      break;
    default:
      ExecuteQuery(request, reply);
      break;
  }
  group.replies.emplace_back(std::move(request.done), std::move(reply));
}

void Engine::Impl::ExecuteCreateAccounts(Request& request, Reply& reply, Group& group) {
  const std::vector<Account>& events = request.accounts;
  if (events.size() > kBatchEventsMax) {
    reply.error = EngineError::too_many_events;
    return;
  }
  if (events.empty()) return;
  const Timestamp first = ledger_->NextTimestamp(clock_->Now());
  reply.first_timestamp = first;
  (void)ledger_->CreateAccounts(events, first, reply.account_results);
  std::vector<Account> created;
  size_t next_result = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& results = reply.account_results;
    if (next_result < results.size() && results[next_result].index == i) {
      ++next_result;
      continue;
    }
    Account account = events[i];
    account.timestamp = Timestamp{first.ns + i};
    created.push_back(account);
  }
  if (created.empty()) return;
  journaled_timestamp_ = ledger_->last_timestamp();  // replay sets it to the batch's last
  const FactHeader header{first.ns, first.ns + events.size() - 1,
                          static_cast<uint32_t>(created.size())};
  std::vector<uint8_t> bytes;
  EncodeAccountsFact(header, created, bytes);
  group.Add(FactType::accounts_created, std::move(bytes));
}

void Engine::Impl::ExecuteCreateTransfers(Request& request, Reply& reply, Group& group) {
  const std::vector<Transfer>& events = request.transfers;
  if (events.size() > kBatchEventsMax) {
    reply.error = EngineError::too_many_events;
    return;
  }
  if (events.empty()) return;
  const Timestamp first = ledger_->NextTimestamp(clock_->Now());
  reply.first_timestamp = first;
  (void)ledger_->CreateTransfers(events, first, reply.transfer_results);
  const FactHeader batch{first.ns, first.ns + events.size() - 1, 0};
  if (const std::vector<Transfer>* created = store_->TakeTail()) {
    journaled_timestamp_ = ledger_->last_timestamp();  // replay sets it to the batch's last
    FactHeader header = batch;
    header.count = static_cast<uint32_t>(created->size());
    std::vector<uint8_t> bytes = SpareBuffer();
    EncodeTransfersFact(header, *created, bytes);
    group.Add(FactType::transfers_created, std::move(bytes));
  }
  std::vector<ledger::FailedTransfer> failed;
  for (const ledger::CreateTransfersResult& r : reply.transfer_results) {
    if (ledger::IsTransient(r.result)) failed.push_back({events[r.index].id, r.result});
  }
  if (!failed.empty()) {
    FactHeader header = batch;
    header.count = static_cast<uint32_t>(failed.size());
    std::vector<uint8_t> bytes;
    EncodeFailuresFact(header, failed, bytes);
    group.Add(FactType::transfers_failed, std::move(bytes));
  }
}

void Engine::Impl::ExecuteQuery(Request& request, Reply& reply) {
  switch (request.kind) {
    case RequestKind::lookup_accounts:
      for (const u128 id : request.ids) {
        if (auto account = ledger_->LookupAccount(tpw::AccountId{id})) {
          reply.accounts.push_back(*account);
        }
      }
      break;
    case RequestKind::lookup_transfers:
      for (const u128 id : request.ids) {
        if (auto transfer = ledger_->LookupTransfer(tpw::TransferId{id})) {
          reply.transfers.push_back(*transfer);
        }
      }
      break;
    case RequestKind::get_account_transfers: {
      auto result = ledger_->GetAccountTransfers(request.filter);
      if (result.ok()) {
        reply.transfers = std::move(result.value());
      } else {
        reply.query_error = result.error();
      }
      break;
    }
    case RequestKind::get_account_balances: {
      auto result = ledger_->GetAccountBalances(request.filter);
      if (result.ok()) {
        reply.balances = std::move(result.value());
      } else {
        reply.query_error = result.error();
      }
      break;
    }
    case RequestKind::get_pending_status:
      for (const u128 id : request.ids) {
        reply.pending_statuses.push_back(ledger_->GetPendingStatus(tpw::TransferId{id}));
      }
      break;
    case RequestKind::create_accounts:
    case RequestKind::create_transfers:
    case RequestKind::offline:
    case RequestKind::access:
    case RequestKind::risk:
    case RequestKind::payments:
    case RequestKind::payments_digest:
    case RequestKind::webhooks:
      reply.error = EngineError::invalid_request;
      break;
  }
}

std::vector<ledger::CreateAccountsResult> Engine::Impl::CreateAccountsNow(
    std::vector<Account> accounts, Group& group) {
  Request request;
  request.kind = RequestKind::create_accounts;
  request.accounts = std::move(accounts);
  Reply reply;
  ExecuteCreateAccounts(request, reply, group);
  return std::move(reply.account_results);
}

std::vector<ledger::CreateTransfersResult> Engine::Impl::CreateTransfersNow(
    std::vector<Transfer> transfers, Group& group) {
  Request request;
  request.kind = RequestKind::create_transfers;
  request.transfers = std::move(transfers);
  Reply reply;
  ExecuteCreateTransfers(request, reply, group);
  return std::move(reply.transfer_results);
}

// Expiry is a fact like any other: the sequencer releases due pending transfers at a timestamp
// it chooses, and replay releases the same ones at the same timestamp.
void Engine::Impl::RunExpiry(Group& group) {
  const std::optional<Timestamp> due = ledger_->NextExpiry();
  const Timestamp wall = clock_->Now();
  if (!due || due->ns > wall.ns) return;
  const Timestamp now = ledger_->NextTimestamp(wall);
  std::vector<ledger::ExpiredTransfer> expired;
  uint32_t limit = options_.expiry_batch_max;
  if (payments_by_state_[static_cast<size_t>(payments::PaymentState::requires_capture)] > 0) {
    limit = std::min(limit, kExpiryWithPaymentHoldsMax);
  }
  (void)ledger_->ExpirePendingTransfers(now, limit, expired);
  if (expired.empty()) return;
  journaled_timestamp_ = ledger_->last_timestamp();
  std::vector<tpw::TransferId> ids;
  ids.reserve(expired.size());
  for (const ledger::ExpiredTransfer& e : expired) ids.push_back(e.id);
  const FactHeader header{now.ns, ledger_->last_timestamp().ns, static_cast<uint32_t>(ids.size())};
  std::vector<uint8_t> bytes;
  EncodeExpiredFact(header, ids, bytes);
  group.Add(FactType::transfers_expired, std::move(bytes));
  ExpirePaymentHolds(expired, now, group);
}

void Engine::Impl::HandOff(std::unique_ptr<Group> group) {
  {
    std::unique_lock lock(pipe_mutex_);
    pipe_changed_.wait(lock, [&] {
      return in_flight_ < options_.groups_in_flight_max || group->stop;
    });
    to_journal_.push_back(std::move(group));
    ++in_flight_;
  }
  pipe_changed_.notify_all();
}

void Engine::Impl::DrainCompletions() {
  std::deque<std::unique_ptr<Group>> done;
  {
    std::lock_guard lock(pipe_mutex_);
    done.swap(completed_);
  }
  for (const std::unique_ptr<Group>& group : done) {
    // A group that failed has no locations (the journal thread refuses every group after the
    // first failure without encoding it, so `locations` may be empty). The engine has stopped
    // and serves no more reads, and no later group can commit, so its bodies simply stay in
    // the store's RAM.
    if (!group->committed) continue;
    for (const size_t record : group->transfer_records) {
      store_->MarkWritten(group->locations[record]);
    }
    // Recycle the big record buffers: fresh megabyte allocations would be fresh pages for the
    // kernel to fault in and zero on every batch.
    for (std::vector<uint8_t>& buffer : group->buffers) {
      if (buffer.capacity() >= kSpareBufferBytesMin && spare_buffers_.size() < 8) {
        spare_buffers_.push_back(std::move(buffer));
      }
    }
  }
}

std::vector<uint8_t> Engine::Impl::SpareBuffer() {
  if (spare_buffers_.empty()) return {};
  std::vector<uint8_t> buffer = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  return buffer;
}

void Engine::Impl::WaitForPipelineEmpty() {
  std::unique_lock lock(pipe_mutex_);
  pipe_changed_.wait(lock, [&] { return in_flight_ == 0; });
  lock.unlock();
  DrainCompletions();
}

void Engine::Impl::ServeSnapshotRequests() {
  std::deque<std::promise<EngineResult<SnapshotInfo>>> waiters;
  {
    std::lock_guard lock(queue_mutex_);
    waiters.swap(snapshot_waiters_);
  }
  if (waiters.empty()) return;
  EngineResult<SnapshotInfo> result = failed_.load()
                                          ? EngineResult<SnapshotInfo>(EngineFail(EngineError::storage_failed))
                                          : WriteSnapshotNow();
  for (auto& waiter : waiters) waiter.set_value(result);
}

// Pauses the sequencer: the state must not move while it is written, and it may only cover
// facts that are already durable (a snapshot ahead of the journal would resurrect facts a
// crash lost).
EngineResult<SnapshotInfo> Engine::Impl::WriteSnapshotNow() {
  if (GroupIsOpen()) CloseGroup(/*wait=*/true);
  WaitForPipelineEmpty();
  if (failed_.load()) return EngineFail(EngineError::storage_failed);
  const uint64_t start = clock_->MonotonicNs();
  SnapshotHeader header;
  header.fingerprint = StateFingerprint();
  header.sequence = journal_->durable_sequence().value;
  header.head_hash = journal_->stats().head_hash;
  if (options_.fsync == FsyncMode::never) header.sequence = journal_->stats().last_sequence.value;
  auto bytes = WriteSnapshot(*storage_, header, [&](ledger::StateSink& sink) {
    ledger_->SaveState(sink, journaled_timestamp_);
    store_->SaveState(sink);
    clearing_.SaveState(sink);
    api_keys_.SaveState(sink);
    idempotency_.SaveState(sink);
    SaveRiskState(sink);
    SavePaymentsState(sink);
    SaveOutboxState(sink);
  });
  if (!bytes.ok()) return EngineFail(EngineError::snapshot_failed, bytes.error().Message());
  PruneSnapshots(*storage_, std::max<uint32_t>(1, options_.snapshots_kept));
  records_since_snapshot_ = 0;
  return SnapshotInfo{SnapshotFileName(header.sequence), header.sequence, bytes.value(),
                      clock_->MonotonicNs() - start};
}

void Engine::Impl::PublishStats() {
  RefreshPaymentsRegistryStats();  // before the lock: it may walk every payment
  std::lock_guard lock(state_mutex_);
  stats_.accounts = ledger_->account_count();
  stats_.transfers = ledger_->transfer_count();
  stats_.pending = ledger_->pending_count();
  stats_.last_timestamp = ledger_->last_timestamp();
  stats_.api_keys = api_keys_.size();
  stats_.idempotency_records = idempotency_.size();
  stats_.idempotency_body_bytes = idempotency_.body_bytes();
  const RiskStatus risk = CurrentRiskStatus();
  stats_.risk_version = risk.version;
  stats_.risk_rules = risk.rules;
  stats_.risk_features = risk.features;
  stats_.risk_velocity_keys = risk.velocity_keys;
  stats_.risk_velocity_bytes = risk.velocity_bytes;
  stats_.risk_decisions = risk.decisions;
  stats_.payments = payment_state_of_.size();
  stats_.payments_by_state = payments_by_state_;
  stats_.payment_facts = payment_facts_;
  stats_.payment_customers = payments_registry_stats_.customers;
  stats_.payment_coupons = payments_registry_stats_.coupons;
  stats_.payment_fx_pairs = payments_registry_stats_.fx_pairs;
  stats_.payment_fx_quotes = payments_registry_stats_.fx_quotes;
  stats_.outbox_events = outbox_.size();
  stats_.outbox_bytes = outbox_.bytes();
  stats_.outbox_first_id = outbox_.next_id() - outbox_.size();
  stats_.outbox_last_id = outbox_.last_id();
  stats_.outbox_counters = outbox_.counters();
  stats_.webhook_endpoints = webhooks_.endpoints().size();
  stats_.webhook_unfinished = webhooks_.UnfinishedTotal();
  stats_.webhook_counters = webhooks_.Totals();
}

// ---------------------------------------------------------------------------------------------
// Journal thread

void Engine::Impl::JournalLoop() {
  while (true) {
    std::unique_ptr<Group> group;
    {
      std::unique_lock lock(pipe_mutex_);
      pipe_changed_.wait(lock, [&] { return !to_journal_.empty(); });
      group = std::move(to_journal_.front());
      to_journal_.pop_front();
    }
    const bool stop = group->stop;
    const bool committed = !stop && CommitGroup(*group);
    // Hand the group back to the sequencer *before* answering. A caller that sends its next
    // request on hearing a reply then always finds this group's transfers marked written
    // (DrainCompletions runs before that request executes), so whether the request reads a
    // transfer body from RAM or from the journal never depends on thread timing. The seeded
    // simulator (tests/sim) relies on this: its storage operations must follow from the seed.
    ReplyList replies = std::move(group->replies);
    group->replies.clear();
    {
      std::lock_guard lock(pipe_mutex_);
      --in_flight_;
      completed_.push_back(std::move(group));
    }
    pipe_changed_.notify_all();
    // The open group, if it waits for this place, is committed next by this thread itself.
    if (!stop && committed && TakeWaitingGroup()) {
      WakeSequencerIfQueued();
    } else {
      WakeSequencerIfHoldingGroup();
    }
    if (!committed) FailReplies(replies, EngineError::storage_failed);
    for (auto& [done, reply] : replies) done(std::move(reply));
    if (stop) return;
  }
}

// The sequencer keeps a group open while the pipeline is full (CloseGroup): tell it there is
// room now. Only then: waking it after every group would cost a context switch each.
void Engine::Impl::WakeSequencerIfHoldingGroup() {
  if (!open_group_waiting_.load()) return;
  {
    std::lock_guard lock(queue_mutex_);
    pipeline_freed_ = true;
  }
  queue_ready_.notify_one();
}

// Journal thread, with a place in the pipeline just freed: hands the open group off itself when
// it waits for room (CloseGroup), so the journal commits it next without waking the sequencer
// (a futex wake and two context switches per group, during which the disk would idle). Only
// when no one is stepping (try_lock): else the one stepping finds the room, or the sequencer is
// woken as before. True when the group was handed off.
bool Engine::Impl::TakeWaitingGroup() {
  if (!open_group_waiting_.load()) return false;
  std::unique_lock step(step_mutex_, std::try_to_lock);
  if (!step.owns_lock() || !open_group_waiting_.load() || !GroupIsOpen()) return false;
  return CloseGroup(/*wait=*/false);
}

// After TakeWaitingGroup: requests that queued while the group waited (the sequencer was parked)
// are executed by the sequencer into the new open group.
void Engine::Impl::WakeSequencerIfQueued() {
  {
    std::lock_guard lock(queue_mutex_);
    if (queue_.empty()) {
      sequencer_parked_ = false;  // no open group waits now: a request queued next wakes it
      return;
    }
    pipeline_freed_ = true;
  }
  queue_ready_.notify_one();
}

// Appends and syncs one group and stamps its replies (JournalLoop sends them). False after a
// failure (now or earlier): nothing in the group may be acknowledged.
bool Engine::Impl::CommitGroup(Group& group) {
  if (failed_.load()) return false;
  if (!group.buffers.empty()) {
    std::vector<journal::RecordInput> records;
    records.reserve(group.buffers.size());
    for (size_t i = 0; i < group.buffers.size(); ++i) {
      records.push_back(journal::RecordInput{group.types[i], group.buffers[i]});
    }
    group.locations.resize(records.size());
    auto appended = journal_->AppendGroup(records, group.locations);
    if (!appended.ok()) {
      Fail(EngineFailure{EngineError::storage_failed, appended.error().Message()});
      return false;
    }
    group_records_.Record(records.size());
    if (options_.fsync == FsyncMode::always) {
      // Wall-clock latency for the metric only (not the injectable Clock: this is no state).
      const auto sync_start = std::chrono::steady_clock::now();
      if (journal::JournalStatus s = journal_->Sync(); !s.ok()) {
        Fail(EngineFailure{EngineError::storage_failed, s.error().Message()});
        return false;
      }
      journal_sync_ns_.Record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                               sync_start)
              .count()));
    }
  }
  group.committed = true;
  const journal::JournalStats& journal_stats = journal_->stats();
  {
    std::lock_guard lock(state_mutex_);
    stats_.journal_records = journal_stats.records;
    stats_.journal_bytes = journal_stats.bytes;
    stats_.journal_last_sequence = journal_stats.last_sequence.value;
    stats_.durable_sequence = journal_->durable_sequence().value;
    stats_.journal_head_hash_hex = crypto::HashToHex(journal_stats.head_hash);
    ++stats_.groups_committed;
  }
  for (auto& entry : group.replies) {
    entry.second.durable_sequence = journal_stats.last_sequence.value;
  }
  PublishDurableEvents(group);
  return true;
}

void Engine::Impl::Fail(EngineFailure failure) {
  {
    std::lock_guard lock(state_mutex_);
    if (!failure_) failure_ = std::move(failure);
  }
  failed_.store(true);
  queue_space_.notify_all();
}

void Engine::Impl::FailReplies(ReplyList& replies, EngineError code) {
  for (auto& [done, reply] : replies) {
    Reply failed;
    failed.error = code;
    done(std::move(failed));
  }
  replies.clear();
}

EngineStats Engine::Impl::Stats() const {
  EngineStats out;
  {
    std::lock_guard lock(state_mutex_);
    out = stats_;
  }
  out.sequencer_batch_requests = sequencer_batch_requests_.Snapshot();
  out.group_records = group_records_.Snapshot();
  out.journal_sync_ns = journal_sync_ns_.Snapshot();
  out.outbox_durable_id = outbox_.durable_id();
  out.submitter_steps = submitter_steps_.load(std::memory_order_relaxed);
  std::lock_guard lock(queue_mutex_);
  out.queue_depth = queue_.size();
  return out;
}

std::optional<EngineFailure> Engine::Impl::failure() const {
  std::lock_guard lock(state_mutex_);
  return failure_;
}

// ---------------------------------------------------------------------------------------------
// Engine

EngineStatus Engine::Initialize(storage::Storage& storage) {
  auto lock = storage.LockDirectory();
  if (!lock.ok()) return Err{FromStorage(lock.error())};
  auto names = storage.List();
  if (!names.ok()) return Err{FromStorage(names.error())};
  for (const std::string& name : names.value()) {
    if (name == kMarkerFile || name.starts_with("segment-") || ParseSnapshotFileName(name)) {
      return EngineFail(EngineError::already_initialized, storage.PathOf(name) + " exists");
    }
  }
  const std::string contents = MarkerContents();
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(contents.data()),
                                       contents.size());
  // The marker goes first. A crash after it but before the journal exists leaves a directory
  // that Open accepts (JournalWriter::Open creates the missing empty journal). The other order
  // left a journal without a marker: Open said not_initialized and Initialize said
  // already_initialized, so the directory could be used again only by hand.
  if (auto s = storage.WriteFileAtomically(kMarkerFile, bytes); !s.ok()) {
    return Err{FromStorage(s.error())};
  }
  journal::JournalOptions options;
  options.lock_directory = false;
  auto journal = journal::JournalWriter::Open(storage, options);  // an empty, durable journal
  if (!journal.ok()) return Err{FromJournal(journal.error())};
  return EngineStatus::Ok();
}

EngineResult<std::unique_ptr<Engine>> Engine::Open(storage::Storage& storage,
                                                   const EngineOptions& options, Clock* clock) {
  auto impl = std::make_unique<Impl>(storage, options, clock);
  if (EngineStatus s = impl->Open(); !s.ok()) return Err{s.error()};
  impl->Start();
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() { impl_->Shutdown(); }

void Engine::Submit(Request request) { impl_->Submit(std::move(request)); }
bool Engine::TrySubmit(Request& request) { return impl_->TrySubmit(request); }

Reply Engine::Execute(Request request) {
  std::promise<Reply> promise;
  std::future<Reply> future = promise.get_future();
  request.done = [&promise](Reply&& reply) { promise.set_value(std::move(reply)); };
  impl_->Submit(std::move(request));
  return future.get();
}

Reply Engine::CreateAccounts(std::vector<Account> accounts) {
  Request request;
  request.kind = RequestKind::create_accounts;
  request.accounts = std::move(accounts);
  return Execute(std::move(request));
}

Reply Engine::CreateTransfers(std::vector<Transfer> transfers) {
  Request request;
  request.kind = RequestKind::create_transfers;
  request.transfers = std::move(transfers);
  return Execute(std::move(request));
}

Reply Engine::LookupAccounts(std::vector<tpw::AccountId> ids) {
  Request request;
  request.kind = RequestKind::lookup_accounts;
  for (const tpw::AccountId id : ids) request.ids.push_back(id.value);
  return Execute(std::move(request));
}

Reply Engine::LookupTransfers(std::vector<tpw::TransferId> ids) {
  Request request;
  request.kind = RequestKind::lookup_transfers;
  for (const tpw::TransferId id : ids) request.ids.push_back(id.value);
  return Execute(std::move(request));
}

Reply Engine::GetAccountTransfers(const ledger::AccountFilter& filter) {
  Request request;
  request.kind = RequestKind::get_account_transfers;
  request.filter = filter;
  return Execute(std::move(request));
}

Reply Engine::GetAccountBalances(const ledger::AccountFilter& filter) {
  Request request;
  request.kind = RequestKind::get_account_balances;
  request.filter = filter;
  return Execute(std::move(request));
}

void Engine::SubmitOffline(OfflineCommand command, std::function<void(OfflineReply&&)> done) {
  impl_->SubmitOffline(std::move(command), std::move(done));
}

OfflineReply Engine::ExecuteOffline(OfflineCommand command) {
  std::promise<OfflineReply> promise;
  std::future<OfflineReply> future = promise.get_future();
  impl_->SubmitOffline(std::move(command),
                       [&promise](OfflineReply&& reply) { promise.set_value(std::move(reply)); });
  return future.get();
}

EngineResult<SnapshotInfo> Engine::Snapshot() { return impl_->Snapshot(); }
void Engine::Shutdown() { impl_->Shutdown(); }
EngineStats Engine::Stats() const { return impl_->Stats(); }
const RecoveryReport& Engine::recovery() const { return impl_->recovery(); }
std::optional<EngineFailure> Engine::failure() const { return impl_->failure(); }

}  // namespace tpw::engine
