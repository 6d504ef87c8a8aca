// The risk engine's public surface: RiskEngine (decisions over explicit state) and ActiveRules
// (the hot-reload holder). Rules format and semantics: docs/risk-rules.md.
//
// Determinism: a RiskEngine has no clock and no randomness. Time comes in as `now`, state
// (velocity windows, list contents) lives in the engine and is saved and loaded as bytes, so the
// same rules, state and events give the same decisions and the same saved state on any machine.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/result.h"
#include "risk/event.h"
#include "risk/lists.h"
#include "risk/rules.h"
#include "risk/velocity.h"

namespace tpw::risk {

enum class StateError : uint8_t {
  not_risk_state = 1,       // the bytes do not start with the risk state magic
  unsupported_version = 2,  // written by a newer format
  malformed = 3,            // truncated, trailing bytes, bad counts, bad values, duplicates
  too_many_keys = 4,        // a feature holds more keys than this engine's keys_max
};
std::string_view StateErrorMessage(StateError error);

inline constexpr uint32_t kStateMagic = 0x4b534952;  // "RISK" little-endian
// 2: velocity tables saved in slot order with their eviction cursor (sampled LRU).
inline constexpr uint32_t kStateVersion = 2;

// Decides payments with one rule set over its own velocity state and lists.
//
// Which events count in velocity features: Decide records an event only when the decision is
// `approve` (the payment goes ahead). step_up, review and decline record nothing: after a
// successful step-up the caller decides the payment again with cvm_performed set, and that
// approval is what counts; a payment approved after review is recorded with Record.
//
// Not thread-safe: one engine belongs to one thread (the sequencer). Other threads share the
// immutable RuleSet, not the engine.
class RiskEngine {
 public:
  explicit RiskEngine(std::shared_ptr<const RuleSet> rules, VelocityOptions options = {});

  // Switches to another rule set. Velocity state of features both sets use (same kind, key and
  // window) is kept, the rest dropped; lists are rebased (ListSet::Rebase).
  void UseRules(std::shared_ptr<const RuleSet> rules);
  const RuleSet& rules() const { return *rules_; }
  const std::shared_ptr<const RuleSet>& shared_rules() const { return rules_; }

  // A dry run: the decision for `event` at `now`; changes nothing. The second form reuses
  // `out`'s storage (no allocation once its vector has grown).
  RiskDecision Evaluate(const Event& event, Timestamp now) const;
  void Evaluate(const Event& event, Timestamp now, RiskDecision& out) const;
  // Evaluate, then Record the event if the decision is approve.
  RiskDecision Decide(const Event& event, Timestamp now);
  void Decide(const Event& event, Timestamp now, RiskDecision& out);
  // Adds the event to every velocity feature of the active rules.
  void Record(const Event& event, Timestamp now);

  // Decides `count` events in order, exactly as that many Decide calls would, while the memory
  // loads of the events a few places ahead overlap the work on the current one (with a million
  // keys every velocity lookup is a cache miss; alone, one decision waits for each). `event_at(i)`
  // returns the i-th event and its time as std::pair<Event, Timestamp> (called up to twice
  // per event); `decided(i, out)` sees each decision before the next event is decided.
  template <typename EventAt, typename Decided>
  void DecideEach(size_t count, EventAt event_at, Decided decided, RiskDecision& out);
  // The hashes of an event's keys, one per velocity feature (FeatureTable::HashOf): computed
  // once per event, ahead of its decision, and used by its cache hints, its reads and its record.
  struct KeyHashes {
    std::array<uint64_t, kFeaturesMax> of;  // of[i]: feature i's; the first features().size()
  };
  void HashKeys(const Event& event, KeyHashes& hashes) const;
  // The cache hints DecideEach uses, for callers that pipeline their own way: the index lines of
  // every velocity feature for the event `hashes` were made from, then (once those have arrived)
  // the key slots they name.
  void PrefetchIndexes(const KeyHashes& hashes) const;
  void PrefetchSlots(const KeyHashes& hashes) const;
  static constexpr size_t kPrefetchAhead = 4;  // events between the two hints and the decision

  ListSet& lists() { return lists_; }
  const ListSet& lists() const { return lists_; }
  size_t VelocityKeys() const;
  // Keys whose memory the features' tables reserved up front (VelocityOptions::reserve_keys),
  // summed over the features.
  size_t ReservedKeys() const;
  size_t VelocityBytes() const;

  // The velocity state and list contents (format: docs/risk-rules.md, "State format").
  std::vector<uint8_t> SaveState() const;
  // Replaces the state with a saved one, then binds it to the active rules as UseRules does.
  // On error nothing changes.
  [[nodiscard]] Status<StateError> LoadState(std::span<const uint8_t> bytes);

 public:
  struct LocatedSlots;  // internal (risk.cc)

 private:
  void Bind(std::vector<FeatureTable> tables);
  // `hinted`: PrefetchIndexes and PrefetchSlots were called for the event (by DecideEach).
  void Evaluate(const Event& event, Timestamp now, RiskDecision& out, LocatedSlots& located,
                bool hinted) const;
  void Decide(const Event& event, Timestamp now, RiskDecision& out, const KeyHashes& hashes,
              bool hinted);
  void Record(const Event& event, Timestamp now, LocatedSlots& located);

  std::shared_ptr<const RuleSet> rules_;
  VelocityOptions options_;
  std::vector<FeatureTable> tables_;  // in the order of rules_->features()
  ListSet lists_;
};

template <typename EventAt, typename Decided>
void RiskEngine::DecideEach(size_t count, EventAt event_at, Decided decided, RiskDecision& out) {
  // The key hashes of events i .. i + 2 * kPrefetchAhead, each computed once.
  constexpr size_t kRing = 16;
  static_assert(kRing > 2 * kPrefetchAhead && (kRing & (kRing - 1)) == 0);
  std::array<KeyHashes, kRing> ring;
  for (size_t i = 0; i < count && i < 2 * kPrefetchAhead; ++i) {
    HashKeys(event_at(i).first, ring[i]);
    PrefetchIndexes(ring[i]);
  }
  for (size_t i = 0; i < count; ++i) {
    const size_t ahead = i + 2 * kPrefetchAhead;
    if (ahead < count) {
      HashKeys(event_at(ahead).first, ring[ahead % kRing]);
      PrefetchIndexes(ring[ahead % kRing]);
    }
    if (i + kPrefetchAhead < count) PrefetchSlots(ring[(i + kPrefetchAhead) % kRing]);
    const auto [event, now] = event_at(i);
    // The first kPrefetchAhead events had no slot hint ahead: their decisions hint themselves.
    Decide(event, now, out, ring[i % kRing], /*hinted=*/i >= kPrefetchAhead);
    decided(i, out);
  }
}

// The active rule set of a running service, replaced while others read it. Readers get a
// shared_ptr and keep using the set they got for as long as they hold it; a replacement that
// does not compile changes nothing. Thread-safe.
class ActiveRules {
 public:
  explicit ActiveRules(std::shared_ptr<const RuleSet> initial);

  std::shared_ptr<const RuleSet> Current() const;
  std::string Version() const;
  // Compiles `text`; if it has no error it becomes the active set. Returns the errors (empty on
  // success).
  std::vector<RuleError> Replace(std::string_view text);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const RuleSet> current_;
};

}  // namespace tpw::risk
