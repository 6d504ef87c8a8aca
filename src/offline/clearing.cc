#include "offline/clearing.h"

#include <algorithm>

#include <cstring>
#include <unordered_set>

namespace tpw::offline {

namespace {

TokenOutcome Invalid(const crypto::Hash256& id, InvalidReason reason) {
  return TokenOutcome{id, Classification::invalid, reason, {}};
}

}  // namespace

std::string_view ClassificationName(Classification c) {
  switch (c) {
    case Classification::cleared:
      return "cleared";
    case Classification::duplicate:
      return "duplicate";
    case Classification::double_spend:
      return "double_spend";
    case Classification::over_allowance:
      return "over_allowance";
    case Classification::invalid:
      return "invalid";
    case Classification::risk_flag:
      return "risk_flag";
  }
  return "unknown";
}

std::string_view InvalidReasonName(InvalidReason r) {
  switch (r) {
#define TPW_X(name, value, message) \
  case InvalidReason::name:         \
    return #name;
    TPW_INVALID_REASONS(TPW_X)
#undef TPW_X
  }
  return "unknown";
}

std::string_view InvalidReasonMessage(InvalidReason r) {
  switch (r) {
#define TPW_X(name, value, message) \
  case InvalidReason::name:         \
    return message;
    TPW_INVALID_REASONS(TPW_X)
#undef TPW_X
  }
  return "unknown reason";
}

std::string_view BatchRejectionName(BatchRejection r) {
  switch (r) {
    case BatchRejection::unknown_terminal:
      return "unknown_terminal";
    case BatchRejection::terminal_inactive:
      return "terminal_inactive";
    case BatchRejection::bad_batch_signature:
      return "bad_batch_signature";
    case BatchRejection::batch_id_reused:
      return "batch_id_reused";
  }
  return "unknown";
}

TransferId SettlementTransferId(const crypto::Hash256& token_id) {
  uint64_t low = 0;
  uint64_t high = 0;
  std::memcpy(&low, token_id.data(), 8);
  std::memcpy(&high, token_id.data() + 8, 8);
  u128 id = MakeU128(high, low);
  if (id == 0 || id == kU128Max) id = 1;
  return TransferId{id};
}

size_t Hash256Hasher::operator()(const crypto::Hash256& h) const {
  size_t v = 0;
  std::memcpy(&v, h.data(), sizeof v);  // already a cryptographic hash: any 8 bytes will do
  return v;
}

size_t Clearing::CounterKeyHasher::operator()(const CounterKey& k) const {
  uint64_t h = Low64(k.device_id) ^ (High64(k.device_id) * 0x9e3779b97f4a7c15ULL) ^
               (k.counter * 0xc2b2ae3d27d4eb4fULL);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return static_cast<size_t>(h);
}

// ---- Registry

void Clearing::AddIssuerKey(uint32_t key_id, const Bytes32& public_key) {
  issuer_keys_[key_id] = public_key;
}

std::optional<Bytes32> Clearing::IssuerKey(uint32_t key_id) const {
  auto it = issuer_keys_.find(key_id);
  if (it == issuer_keys_.end()) return std::nullopt;
  return it->second;
}

void Clearing::RecordCertificate(const DeviceCertificate& certificate, AccountId user_account) {
  TPW_ASSERT(certificates_.find(certificate.serial) == certificates_.end());
  CertificateRecord record;
  record.certificate = certificate;
  record.hash = crypto::Blake2b256(Encode(certificate));
  certificates_[certificate.serial] = record;
  DeviceRecord& device = devices_[certificate.device_id];
  device.device_id = certificate.device_id;
  device.user_account = user_account;
  device.reserve_account = AccountId{certificate.reserve_account_id};
  device.public_key = certificate.device_public_key;
  device.current_serial = certificate.serial;
  next_serial_ = std::max(next_serial_, certificate.serial + 1);
}

void Clearing::RegisterTerminal(const TerminalRecord& terminal) {
  terminals_[terminal.terminal_id] = terminal;
}

void Clearing::DeactivateTerminal(u128 terminal_id) {
  auto it = terminals_.find(terminal_id);
  if (it != terminals_.end()) it->second.active = false;
}

bool Clearing::RevokeDevice(u128 device_id) {
  auto it = devices_.find(device_id);
  if (it == devices_.end() || it->second.revoked) return false;
  it->second.revoked = true;
  denied_.insert(device_id);
  ++deny_list_version_;
  deny_log_.push_back(DenyLogEntry{deny_list_version_, device_id});
  return true;
}

void Clearing::VoidCountersAbove(uint64_t serial, uint64_t last_counter_used) {
  auto it = certificates_.find(serial);
  TPW_ASSERT(it != certificates_.end());
  it->second.void_above_counter = std::min(it->second.void_above_counter, last_counter_used);
}

// ---- Batches

std::optional<BatchRejection> Clearing::CheckBatch(const TerminalBatch& batch, bool signature_ok,
                                                   const crypto::Hash256& batch_hash) const {
  auto terminal = terminals_.find(batch.terminal_id);
  if (terminal == terminals_.end()) return BatchRejection::unknown_terminal;
  if (auto seen = batch_ids_.find(batch.batch_id); seen != batch_ids_.end()) {
    // A repeat of the same bytes is answered from the record, even if the terminal has since
    // been deactivated; the same id with other contents is refused.
    if (seen->second != batch_hash) return BatchRejection::batch_id_reused;
    return std::nullopt;
  }
  if (!terminal->second.active) return BatchRejection::terminal_inactive;
  if (!signature_ok) return BatchRejection::bad_batch_signature;
  return std::nullopt;
}

bool Clearing::IsAuthentic(const CheckedToken& checked) const {
  if (!checked.certificate_signature_ok || !checked.token_signature_ok) return false;
  auto record = certificates_.find(checked.token.certificate.serial);
  return record != certificates_.end() && record->second.hash == checked.certificate_hash;
}

TokenOutcome Clearing::Classify(const CheckedToken& checked, u128 uploading_terminal,
                                uint64_t upload_time_ms,
                                const BatchCounters& batch_counters,
                                const std::unordered_map<uint64_t, Amount>& batch_totals) const {
  const PaymentToken& t = checked.token;
  const crypto::Hash256& id = checked.token_id;
  if (!checked.certificate_signature_ok) return Invalid(id, InvalidReason::bad_certificate_signature);
  auto record = certificates_.find(t.certificate.serial);
  if (record == certificates_.end() || record->second.hash != checked.certificate_hash) {
    return Invalid(id, InvalidReason::unknown_certificate);
  }
  const CertificateRecord& cert_record = record->second;
  const DeviceCertificate& cert = cert_record.certificate;
  if (!checked.token_signature_ok) return Invalid(id, InvalidReason::bad_token_signature);
  if (t.terminal_id != uploading_terminal) return Invalid(id, InvalidReason::wrong_terminal);
  const TerminalRecord& terminal = terminals_.at(uploading_terminal);
  if (t.merchant_id != terminal.merchant_id) return Invalid(id, InvalidReason::merchant_mismatch);
  if (t.asset != cert.asset) return Invalid(id, InvalidReason::asset_mismatch);
  if (t.terminal_time < cert.valid_from || t.terminal_time >= cert.valid_until) {
    return Invalid(id, InvalidReason::certificate_expired);
  }
  if (t.counter < cert.counter_first || t.counter > cert.counter_last()) {
    return Invalid(id, InvalidReason::counter_out_of_range);
  }
  // Two different authentic tokens for one (device, counter) prove a cloned or extracted key,
  // whatever became of the first one (cleared, over the allowance, refused for a later check):
  // the wallet never signs a counter twice.
  const CounterKey key{cert.device_id, t.counter};
  const crypto::Hash256* first = nullptr;
  if (auto it = counters_.find(key); it != counters_.end()) first = &it->second;
  if (auto it = batch_counters.find(key); first == nullptr && it != batch_counters.end()) {
    first = &it->second;
  }
  if (first != nullptr && *first != id) {
    return TokenOutcome{id, Classification::double_spend, InvalidReason::none, *first};
  }
  // After the deadline the reserve behind this certificate may already be back with the user,
  // so nothing more is paid from it (a double spend above is still caught: it is evidence).
  if (upload_time_ms >= ClaimDeadlineMs(cert.valid_until)) {
    return Invalid(id, InvalidReason::claim_window_closed);
  }
  if (t.counter > cert_record.void_above_counter) {
    return Invalid(id, InvalidReason::counter_after_sync);
  }
  if (t.amount > cert.per_payment_max) return Invalid(id, InvalidReason::over_per_payment_max);
  if (t.amount > cert.cvm_threshold && t.cvm == Cvm::none) {
    return Invalid(id, InvalidReason::cvm_missing);
  }
  Amount total = cert_record.cleared_total;
  if (auto it = batch_totals.find(cert.serial); it != batch_totals.end()) total = it->second;
  const std::optional<Amount> after = total.CheckedAdd(t.amount);
  if (!after || *after > cert.allowance) {
    return TokenOutcome{id, Classification::over_allowance, InvalidReason::none, {}};
  }
  return TokenOutcome{id, Classification::cleared, InvalidReason::none, {}};
}

BatchPlan Clearing::Plan(const TerminalBatch& batch, const crypto::Hash256& batch_hash,
                         const std::vector<CheckedToken>& tokens, uint64_t upload_time_ms) const {
  TPW_ASSERT(tokens.size() == batch.tokens.size());
  BatchPlan plan;
  plan.batch_id = batch.batch_id;
  plan.terminal_id = batch.terminal_id;
  if (auto seen = batches_.find(batch_hash); seen != batches_.end()) {
    plan.repeated = true;
    plan.outcomes = seen->second;
    return plan;
  }
  // What this batch's own earlier tokens would change, so two tokens of one batch are judged
  // exactly as if they had come in two batches.
  // Hash tables sized for the batch: this runs in the sequencer, once per token.
  BatchCounters batch_counters(tokens.size());
  std::unordered_map<uint64_t, Amount> batch_totals(tokens.size());
  std::unordered_set<crypto::Hash256, Hash256Hasher> batch_cleared_ids(tokens.size());
  for (const CheckedToken& checked : tokens) {
    TokenOutcome outcome;
    if (auto earlier = token_results_.find(checked.token_id); earlier != token_results_.end()) {
      // Seen before: a cleared token is a duplicate; any other verdict is repeated as it was.
      outcome = earlier->second;
      if (outcome.classification == Classification::cleared) {
        outcome.classification = Classification::duplicate;
      }
    } else if (batch_cleared_ids.count(checked.token_id) != 0) {
      outcome = TokenOutcome{checked.token_id, Classification::duplicate, InvalidReason::none, {}};
    } else {
      outcome = Classify(checked, batch.terminal_id, upload_time_ms, batch_counters, batch_totals);
    }
    if (IsAuthentic(checked)) {
      batch_counters.try_emplace(CounterKey{checked.token.certificate.device_id, checked.token.counter},
                                 checked.token_id);
    }
    if (outcome.classification == Classification::cleared) {
      const PaymentToken& t = checked.token;
      const DeviceCertificate& cert = t.certificate;
      Amount& total = batch_totals.try_emplace(cert.serial, certificates_.at(cert.serial).cleared_total)
                          .first->second;
      total = *total.CheckedAdd(t.amount);
      batch_cleared_ids.insert(checked.token_id);
      SettlementTransfer transfer;
      transfer.id = SettlementTransferId(checked.token_id);
      transfer.debit_account = AccountId{cert.reserve_account_id};
      transfer.credit_account = terminals_.at(batch.terminal_id).settlement_account;
      transfer.amount = t.amount;
      transfer.asset = t.asset;
      plan.settlements.emplace_back(plan.outcomes.size(), transfer);
    }
    plan.outcomes.push_back(outcome);
  }
  return plan;
}

std::vector<TokenOutcome> Clearing::Commit(const BatchPlan& plan,
                                           const crypto::Hash256& batch_hash,
                                           const std::vector<CheckedToken>& tokens,
                                           const std::vector<bool>& transfer_ok) {
  TPW_ASSERT(transfer_ok.size() == plan.settlements.size());
  if (plan.repeated) return plan.outcomes;
  std::vector<TokenOutcome> outcomes = plan.outcomes;
  for (size_t i = 0; i < plan.settlements.size(); ++i) {
    // The reserve could not pay: the certificate's allowance is not backed any more.
    if (!transfer_ok[i]) outcomes[plan.settlements[i].first].classification = Classification::over_allowance;
  }
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const TokenOutcome& outcome = outcomes[i];
    const PaymentToken& t = tokens[i].token;
    const bool seen = token_results_.count(outcome.token_id) != 0;
    if (IsAuthentic(tokens[i])) {
      counters_.try_emplace(CounterKey{t.certificate.device_id, t.counter}, outcome.token_id);
    }
    switch (outcome.classification) {
      case Classification::cleared: {
        CertificateRecord& record = certificates_.at(t.certificate.serial);
        record.cleared_total = *record.cleared_total.CheckedAdd(t.amount);
        ++record.cleared_count;
        break;
      }
      case Classification::duplicate:
        break;
      case Classification::double_spend:
        if (!seen) {
          RevokeDevice(t.certificate.device_id);
          OpenException(outcome, t);
        }
        break;
      case Classification::over_allowance:
        if (!seen) OpenException(outcome, t);
        break;
      case Classification::invalid:
        if (!seen) {
          // Only an authentic token gets this far, and the wallet stops paying durably before
          // it signs its sync declaration: a token above the declared counter was signed by a
          // copy of the key, so it revokes the device like a double spend.
          if (outcome.reason == InvalidReason::counter_after_sync) RevokeDevice(t.certificate.device_id);
          OpenException(outcome, t);
        }
        break;
      case Classification::risk_flag:  // never a token's outcome (OpenRiskFlag)
        break;
    }
    // A verdict that depends on who uploaded (wrong_terminal) is not the token's: the right
    // terminal may still upload it and be paid. Every other verdict is final.
    const bool uploader_verdict = outcome.classification == Classification::invalid &&
                                  outcome.reason == InvalidReason::wrong_terminal;
    if (!seen && !uploader_verdict && outcome.classification != Classification::duplicate) {
      token_results_[outcome.token_id] = outcome;
    }
  }
  batches_[batch_hash] = outcomes;
  batch_ids_[plan.batch_id] = batch_hash;
  return outcomes;
}

void Clearing::OpenException(const TokenOutcome& outcome, const PaymentToken& token) {
  ExceptionRecord record;
  record.id = exceptions_.size() + 1;
  record.classification = outcome.classification;
  record.reason = outcome.reason;
  record.token_id = outcome.token_id;
  record.conflicting_token_id = outcome.conflicting_token_id;
  record.device_id = token.certificate.device_id;
  record.terminal_id = token.terminal_id;
  record.merchant_id = token.merchant_id;
  record.amount = token.amount;
  record.asset = token.asset;
  exceptions_.push_back(record);
}

void Clearing::OpenRiskFlag(const CheckedToken& checked, uint8_t decision, std::string_view rules) {
  TokenOutcome outcome;
  outcome.token_id = checked.token_id;
  outcome.classification = Classification::risk_flag;
  OpenException(outcome, checked.token);
  ExceptionRecord& record = exceptions_.back();
  record.risk_decision = decision;
  std::copy_n(rules.begin(), std::min(rules.size(), record.risk_rules.size()), record.risk_rules.begin());
}

// ---- Exceptions and queries

bool MatchesFilter(const ExceptionFilter& filter, const ExceptionRecord& record) {
  return (!filter.status || record.status == *filter.status) &&
         (!filter.classification || record.classification == *filter.classification) &&
         (!filter.device_id || record.device_id == *filter.device_id) &&
         (!filter.terminal_id || record.terminal_id == *filter.terminal_id);
}

ExceptionsPage Clearing::Exceptions(const ExceptionFilter& filter) const {
  ExceptionsPage page;
  uint64_t scanned = 0;
  // Record id n is exceptions_[n - 1]: the page starts right after the cursor.
  for (uint64_t index = filter.after; index < exceptions_.size(); ++index) {
    if (filter.scan_max != 0 && scanned == filter.scan_max) {
      page.next_after = index;  // the id of the last record looked at
      return page;
    }
    ++scanned;
    const ExceptionRecord& record = exceptions_[index];
    if (!MatchesFilter(filter, record)) continue;
    page.records.push_back(record);
    if (filter.limit != 0 && page.records.size() == filter.limit) {
      page.next_after = record.id;  // a full page always has a next one, maybe empty
      return page;
    }
  }
  return page;
}

std::vector<ExceptionRecord> Clearing::Exceptions(bool open_only) const {
  ExceptionFilter filter;
  if (open_only) filter.status = ExceptionRecord::Status::open;
  return Exceptions(filter).records;
}

bool Clearing::ResolveException(uint64_t id, ExceptionRecord::Status status) {
  if (id == 0 || id > exceptions_.size() || status == ExceptionRecord::Status::open) return false;
  ExceptionRecord& record = exceptions_[id - 1];
  if (record.status != ExceptionRecord::Status::open) return false;
  record.status = status;
  return true;
}

std::optional<ExceptionRecord> Clearing::Exception(uint64_t id) const {
  if (id == 0 || id > exceptions_.size()) return std::nullopt;
  return exceptions_[id - 1];
}

const DeviceRecord* Clearing::Device(u128 device_id) const {
  auto it = devices_.find(device_id);
  return it == devices_.end() ? nullptr : &it->second;
}

const CertificateRecord* Clearing::Certificate(uint64_t serial) const {
  auto it = certificates_.find(serial);
  return it == certificates_.end() ? nullptr : &it->second;
}

std::vector<TerminalRecord> Clearing::Terminals() const {
  std::vector<TerminalRecord> all;
  all.reserve(terminals_.size());
  for (const auto& [id, terminal] : terminals_) all.push_back(terminal);
  return all;
}

const TerminalRecord* Clearing::Terminal(u128 terminal_id) const {
  auto it = terminals_.find(terminal_id);
  return it == terminals_.end() ? nullptr : &it->second;
}

std::vector<u128> Clearing::DeniedSince(uint64_t version) const {
  std::vector<u128> out;
  for (const DenyLogEntry& entry : deny_log_) {
    if (entry.version > version) out.push_back(entry.device_id);
  }
  return out;
}

std::optional<TokenOutcome> Clearing::TokenResult(const crypto::Hash256& token_id) const {
  auto it = token_results_.find(token_id);
  if (it == token_results_.end()) return std::nullopt;
  return it->second;
}

std::vector<const CertificateRecord*> Clearing::CertificatesOf(u128 device_id) const {
  std::vector<const CertificateRecord*> out;
  for (const auto& [serial, record] : certificates_) {
    if (record.certificate.device_id == device_id) out.push_back(&record);
  }
  return out;
}

// ---- Snapshots

namespace {

static_assert(std::is_trivially_copyable_v<DeviceRecord>);
static_assert(std::is_trivially_copyable_v<CertificateRecord>);
static_assert(std::is_trivially_copyable_v<TerminalRecord>);
static_assert(std::is_trivially_copyable_v<TokenOutcome>);
static_assert(std::is_trivially_copyable_v<ExceptionRecord>);

template <typename K, typename V>
struct Pair {
  K key;
  V value;
};

template <typename Map>
void SaveMap(ledger::StateSink& sink, const Map& map) {
  using Item = Pair<typename Map::key_type, typename Map::mapped_type>;
  std::vector<Item> items;
  items.reserve(map.size());
  for (const auto& [key, value] : map) items.push_back(Item{key, value});
  sink.Vector(items);
}

template <typename Map>
bool LoadMap(ledger::StateSource& source, Map& map) {
  using Item = Pair<typename Map::key_type, typename Map::mapped_type>;
  std::vector<Item> items;
  if (!source.Vector(items)) return false;
  map.clear();
  for (const Item& item : items) {
    if (!map.emplace(item.key, item.value).second) return false;  // duplicate key
  }
  return true;
}

template <typename Set>
void SaveSet(ledger::StateSink& sink, const Set& set) {
  std::vector<typename Set::key_type> items(set.begin(), set.end());
  sink.Vector(items);
}

template <typename Set>
bool LoadSet(ledger::StateSource& source, Set& set) {
  std::vector<typename Set::key_type> items;
  if (!source.Vector(items)) return false;
  set.clear();
  set.insert(items.begin(), items.end());
  return set.size() == items.size();
}

}  // namespace

void Clearing::SaveState(ledger::StateSink& sink) const {
  SaveMap(sink, issuer_keys_);
  SaveMap(sink, devices_);
  SaveMap(sink, certificates_);
  SaveMap(sink, terminals_);
  SaveMap(sink, counters_);
  SaveMap(sink, token_results_);
  // batches_: (hash, outcome count) pairs, then every outcome in the same order.
  std::vector<Pair<crypto::Hash256, uint64_t>> batch_index;
  std::vector<TokenOutcome> batch_outcomes;
  for (const auto& [hash, outcomes] : batches_) {
    batch_index.push_back({hash, outcomes.size()});
    batch_outcomes.insert(batch_outcomes.end(), outcomes.begin(), outcomes.end());
  }
  sink.Vector(batch_index);
  sink.Vector(batch_outcomes);
  SaveMap(sink, batch_ids_);
  SaveSet(sink, denied_);
  sink.Vector(deny_log_);
  sink.U64(deny_list_version_);
  sink.Vector(exceptions_);
  sink.U64(next_serial_);
}

bool Clearing::LoadState(ledger::StateSource& source) {
  *this = Clearing{};
  if (!LoadMap(source, issuer_keys_) || !LoadMap(source, devices_) ||
      !LoadMap(source, certificates_) || !LoadMap(source, terminals_) ||
      !LoadMap(source, counters_) || !LoadMap(source, token_results_)) {
    return false;
  }
  std::vector<Pair<crypto::Hash256, uint64_t>> batch_index;
  std::vector<TokenOutcome> batch_outcomes;
  if (!source.Vector(batch_index) || !source.Vector(batch_outcomes)) return false;
  size_t next = 0;
  for (const auto& [hash, count] : batch_index) {
    if (count > batch_outcomes.size() - next) return false;
    const auto first = batch_outcomes.begin() + static_cast<std::ptrdiff_t>(next);
    if (!batches_.emplace(hash, std::vector<TokenOutcome>(first, first + static_cast<std::ptrdiff_t>(count))).second) {
      return false;
    }
    next += count;
  }
  if (next != batch_outcomes.size()) return false;
  return LoadMap(source, batch_ids_) && LoadSet(source, denied_) && source.Vector(deny_log_) &&
         source.U64(deny_list_version_) && source.Vector(exceptions_) && source.U64(next_serial_);
}

}  // namespace tpw::offline
