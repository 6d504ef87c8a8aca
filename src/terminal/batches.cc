// Voids, batch building, re-offering and upload acknowledgement.
#include <algorithm>

#include "common/assert.h"
#include "crypto/secure.h"
#include "terminal/internal.h"
#include "terminal/terminal.h"

namespace tpw::terminal {

using internal::TerminalFail;

namespace {

// Why a token in `state` cannot be voided, as a failure; ok for an accepted token.
TerminalStatus CheckVoidable(TokenState state) {
  switch (state) {
    case TokenState::accepted:
      return TerminalStatus::Ok();
    case TokenState::voided:
      return TerminalFail(TerminalError::token_already_voided, {});
    case TokenState::batched:
      return TerminalFail(TerminalError::token_already_batched, {});
    case TokenState::uploaded:
      return TerminalFail(TerminalError::token_already_uploaded, {});
  }
  TPW_UNREACHABLE();
}

std::string BatchIdText(const BatchId& id) { return crypto::ToHex(id); }

}  // namespace

TerminalStatus Terminal::Void(const TokenId& token_id, uint64_t now_ms) {
  const auto it = token_index_.find(token_id);
  if (it == token_index_.end()) {
    return TerminalFail(TerminalError::unknown_token, crypto::HashToHex(token_id));
  }
  if (TerminalStatus s = CheckVoidable(tokens_[it->second].state); !s.ok()) {
    return TerminalFail(s.error().code, crypto::HashToHex(token_id));
  }
  const TokenVoided record{now_ms, token_id};
  if (TerminalStatus s = AppendDurably(RecordType::token_voided, EncodeRecord(record)); !s.ok()) {
    return s;
  }
  const std::optional<std::string> bad = ApplyVoided(record);
  TPW_ASSERT(!bad.has_value());
  return TerminalStatus::Ok();
}

std::optional<std::string> Terminal::ApplyVoided(const TokenVoided& record) {
  const auto it = token_index_.find(record.token_id);
  if (it == token_index_.end())
    return "void of unknown token " + crypto::HashToHex(record.token_id);
  TokenEntry& entry = tokens_[it->second];
  if (entry.state != TokenState::accepted) {
    return "void of a token in state " + std::string(TokenStateName(entry.state));
  }
  entry.state = TokenState::voided;
  entry.bytes = {};  // never batched: the bytes are not needed again
  ++voided_count_;
  return std::nullopt;
}

TerminalResult<std::vector<PendingBatch>> Terminal::BuildBatches(uint64_t now_ms) {
  std::vector<PendingBatch> built;
  // Each round takes up to kBatchTokensMax ready tokens, so this ends after
  // ceil(ready / kBatchTokensMax) rounds.
  while (ReadyCount() > 0) {
    auto batch = BuildOneBatch(now_ms);
    if (!batch.ok()) return Err{batch.error()};
    built.push_back(std::move(batch.value()));
  }
  return built;
}

TerminalResult<PendingBatch> Terminal::BuildOneBatch(uint64_t now_ms) {
  BatchBuilt record;
  record.created_ms = now_ms;
  do {
    crypto::RandomBytes(record.batch_id);
  } while (batch_index_.contains(record.batch_id));  // 2^-128 per batch; keep ids unique anyway
  for (size_t i = first_ready_;
       i < tokens_.size() && record.token_ids.size() < offline::kBatchTokensMax; ++i) {
    if (tokens_[i].state == TokenState::accepted) {
      record.token_ids.push_back(crypto::Blake2b256(tokens_[i].bytes));
    }
  }
  TPW_ASSERT(!record.token_ids.empty());
  if (TerminalStatus s = AppendDurably(RecordType::batch_built, EncodeRecord(record)); !s.ok()) {
    return Err{s.error()};
  }
  const std::optional<std::string> bad = ApplyBatchBuilt(record);
  TPW_ASSERT(!bad.has_value());
  BatchEntry& entry = batches_.back();
  entry.bytes = SignBatch(entry.record);
  return ToPending(entry);
}

std::optional<std::string> Terminal::ApplyBatchBuilt(const BatchBuilt& record) {
  if (batch_index_.contains(record.batch_id)) {
    return "batch " + BatchIdText(record.batch_id) + " built twice";
  }
  // Check every token before changing any, so a bad record leaves the state as it was.
  std::vector<size_t> indexes;
  indexes.reserve(record.token_ids.size());
  for (const TokenId& id : record.token_ids) {
    const auto it = token_index_.find(id);
    if (it == token_index_.end()) return "batch holds unknown token " + crypto::HashToHex(id);
    if (tokens_[it->second].state != TokenState::accepted) {
      return "batch holds token " + crypto::HashToHex(id) + " in state " +
             std::string(TokenStateName(tokens_[it->second].state));
    }
    indexes.push_back(it->second);
  }
  std::sort(indexes.begin(), indexes.end());
  if (std::adjacent_find(indexes.begin(), indexes.end()) != indexes.end()) {
    return "batch holds a token twice";
  }
  for (const size_t i : indexes) tokens_[i].state = TokenState::batched;
  batched_count_ += indexes.size();
  while (first_ready_ < tokens_.size() && tokens_[first_ready_].state != TokenState::accepted) {
    ++first_ready_;
  }
  batch_index_.emplace(record.batch_id, batches_.size());
  batches_.push_back(BatchEntry{record, {}, false});
  ++pending_batch_count_;
  return std::nullopt;
}

// The TerminalBatch message for `record`, signed. Deterministic: same record, same bytes.
std::vector<uint8_t> Terminal::SignBatch(const BatchBuilt& record) const {
  offline::TerminalBatch batch;
  batch.terminal_id = config_.terminal_id;
  batch.batch_id = record.batch_id;
  batch.created = record.created_ms;
  batch.tokens.reserve(record.token_ids.size());
  for (const TokenId& id : record.token_ids) {
    const TokenEntry& entry = tokens_[token_index_.at(id)];
    auto token = offline::DecodeToken(entry.bytes);
    TPW_ASSERT_MSG(token.ok(), "a journaled token no longer decodes");
    batch.tokens.push_back(token.value());
  }
  std::vector<uint8_t> bytes = offline::Encode(batch);
  const crypto::Signature signature =
      crypto::Sign(key_, offline::kBatchDomain,
                   offline::SignedPart(bytes, offline::MessageType::terminal_batch));
  std::copy(signature.bytes.begin(), signature.bytes.end(),
            bytes.end() - static_cast<std::ptrdiff_t>(offline::kSignatureBytes));
  return bytes;
}

PendingBatch Terminal::ToPending(const BatchEntry& entry) {
  TPW_ASSERT(!entry.uploaded && !entry.bytes.empty());
  return PendingBatch{entry.record.batch_id, entry.record.created_ms,
                      static_cast<uint32_t>(entry.record.token_ids.size()), entry.bytes};
}

std::vector<PendingBatch> Terminal::PendingBatches() const {
  std::vector<PendingBatch> pending;
  for (const BatchEntry& entry : batches_) {
    if (!entry.uploaded) pending.push_back(ToPending(entry));
  }
  return pending;
}

TerminalStatus Terminal::MarkUploaded(const BatchId& batch_id, uint64_t now_ms) {
  const auto it = batch_index_.find(batch_id);
  if (it == batch_index_.end()) {
    return TerminalFail(TerminalError::unknown_batch, BatchIdText(batch_id));
  }
  if (batches_[it->second].uploaded) {
    return TerminalFail(TerminalError::batch_already_uploaded, BatchIdText(batch_id));
  }
  const BatchUploaded record{now_ms, batch_id};
  if (TerminalStatus s = AppendDurably(RecordType::batch_uploaded, EncodeRecord(record)); !s.ok()) {
    return s;
  }
  const std::optional<std::string> bad = ApplyBatchUploaded(record);
  TPW_ASSERT(!bad.has_value());
  return TerminalStatus::Ok();
}

std::optional<std::string> Terminal::ApplyBatchUploaded(const BatchUploaded& record) {
  const auto it = batch_index_.find(record.batch_id);
  if (it == batch_index_.end()) {
    return "upload of unknown batch " + BatchIdText(record.batch_id);
  }
  BatchEntry& batch = batches_[it->second];
  if (batch.uploaded) return "batch " + BatchIdText(record.batch_id) + " uploaded twice";
  batch.uploaded = true;
  batch.bytes = {};
  --pending_batch_count_;
  for (const TokenId& id : batch.record.token_ids) {
    TokenEntry& entry = tokens_[token_index_.at(id)];
    TPW_ASSERT(entry.state == TokenState::batched);
    entry.state = TokenState::uploaded;
    entry.bytes = {};  // clearing has it now; (device, counter) stays for replay checks
  }
  batched_count_ -= batch.record.token_ids.size();
  uploaded_count_ += batch.record.token_ids.size();
  return std::nullopt;
}

}  // namespace tpw::terminal
