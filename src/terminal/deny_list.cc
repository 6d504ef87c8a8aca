// The deny list: install (signature, version rules, merge of deltas), persistence, staleness.
#include <algorithm>
#include <iterator>

#include "common/assert.h"
#include "terminal/internal.h"
#include "terminal/terminal.h"

namespace tpw::terminal {

using internal::FromStorage;
using internal::TerminalFail;

namespace {

// issued + max_age, saturating: a list with a huge max_age simply never goes stale.
uint64_t StaleAt(const DenyListState& list) {
  uint64_t at = 0;
  if (__builtin_add_overflow(list.issued_ms, list.max_age_ms, &at)) return UINT64_MAX;
  return at;
}

std::string VersionText(const std::optional<DenyListState>& installed) {
  return installed.has_value() ? std::to_string(installed->list_version) : "none";
}

// The rules a signed, decoded list must meet to replace `installed`.
TerminalStatus CheckVersion(const offline::DenyList& list,
                            const std::optional<DenyListState>& installed) {
  if (list.delta) {
    if (!installed.has_value() || installed->list_version != list.base_version) {
      return TerminalFail(TerminalError::deny_list_needs_full_list,
                          "delta " + std::to_string(list.list_version) + " applies to version " +
                              std::to_string(list.base_version) +
                              ", installed: " + VersionText(installed));
    }
    return TerminalStatus::Ok();
  }
  if (installed.has_value() &&
      (list.list_version < installed->list_version ||
       (list.list_version == installed->list_version && list.issued <= installed->issued_ms))) {
    return TerminalFail(TerminalError::deny_list_outdated,
                        "list version " + std::to_string(list.list_version) + " issued at " +
                            std::to_string(list.issued) + ", installed: version " +
                            std::to_string(installed->list_version) + " issued at " +
                            std::to_string(installed->issued_ms));
  }
  return TerminalStatus::Ok();
}

// The list in force after installing `list`: a full list replaces; a delta adds its devices
// (revocation is permanent, so deltas never remove). Issued time and max age are the newest
// signed statement's.
TerminalResult<DenyListState> Merge(const offline::DenyList& list,
                                    const std::optional<DenyListState>& installed) {
  DenyListState next{list.issuer_key_id, list.list_version, list.issued, list.max_age, {}};
  if (!list.delta) {
    next.device_ids = list.device_ids;
    return next;
  }
  next.device_ids.reserve(installed->device_ids.size() + list.device_ids.size());
  std::set_union(installed->device_ids.begin(), installed->device_ids.end(),
                 list.device_ids.begin(), list.device_ids.end(),
                 std::back_inserter(next.device_ids));
  if (next.device_ids.size() > offline::kDenyListEntriesMax) {
    return TerminalFail(TerminalError::deny_list_needs_full_list,
                        "the merged list would hold " + std::to_string(next.device_ids.size()) +
                            " devices, more than " + std::to_string(offline::kDenyListEntriesMax));
  }
  return next;
}

}  // namespace

TerminalResult<DenyListInfo> Terminal::InstallDenyList(std::span<const uint8_t> bytes,
                                                       uint64_t now_ms) {
  auto list = offline::DecodeDenyList(bytes);
  if (!list.ok()) return TerminalFail(TerminalError::deny_list_malformed, list.error().Message());
  const auto key = config_.issuer_keys.find(list->issuer_key_id);
  if (key == config_.issuer_keys.end()) {
    return TerminalFail(TerminalError::deny_list_unknown_issuer_key,
                        "issuer_key_id " + std::to_string(list->issuer_key_id));
  }
  const std::string_view domain =
      list->delta ? offline::kDenyListDeltaDomain : offline::kDenyListDomain;
  const auto signed_part = offline::SignedPart(bytes, offline::MessageType::deny_list);
  if (!crypto::Verify(key->second, domain, signed_part, crypto::Signature{list->signature})) {
    return TerminalFail(TerminalError::deny_list_bad_signature,
                        "issuer_key_id " + std::to_string(list->issuer_key_id));
  }
  if (TerminalStatus s = CheckVersion(list.value(), deny_); !s.ok()) return Err{s.error()};
  auto next = Merge(list.value(), deny_);
  if (!next.ok()) return Err{next.error()};
  const std::vector<uint8_t> state = EncodeDenyState(next.value());
  if (auto s = storage_.WriteFileAtomically(internal::kDenyListFile, state); !s.ok()) {
    return Err{FromStorage(s.error())};
  }
  deny_ = std::move(next.value());
  return DenyList(now_ms);
}

TerminalStatus Terminal::LoadDenyList() {
  auto bytes = storage_.ReadFile(internal::kDenyListFile, kDenyStateBytesMax);
  if (!bytes.ok()) {
    if (bytes.error().code == storage::StorageError::not_found) return TerminalStatus::Ok();
    if (bytes.error().code == storage::StorageError::too_large) {
      return TerminalFail(TerminalError::config_corrupt, bytes.error().Message());
    }
    return Err{FromStorage(bytes.error())};
  }
  auto state = DecodeDenyState(bytes.value());
  if (!state.ok()) return TerminalFail(TerminalError::config_corrupt, state.error());
  deny_ = std::move(state.value());
  return TerminalStatus::Ok();
}

DenyListInfo Terminal::DenyList(uint64_t now_ms) const {
  DenyListInfo info;
  if (!deny_.has_value()) return info;  // stale: a terminal that never got a list knows nothing
  info.installed = true;
  info.version = deny_->list_version;
  info.issued_ms = deny_->issued_ms;
  info.max_age_ms = deny_->max_age_ms;
  info.entries = deny_->device_ids.size();
  info.age_ms = now_ms > deny_->issued_ms ? now_ms - deny_->issued_ms : 0;
  info.stale = DenyListStale(now_ms);
  return info;
}

bool Terminal::DenyListStale(uint64_t now_ms) const {
  return !deny_.has_value() || now_ms >= StaleAt(*deny_);
}

}  // namespace tpw::terminal
