// Velocity state: for each feature of the active rules (count/sum/distinct over a key and a
// window) a table of keys, each with a ring of kWindowBuckets sub-buckets.
//
// Windows. A feature with window W splits time into buckets of W / kWindowBuckets (exact in
// nanoseconds). An event recorded at time t counts at time `now` when
//   floor(now / bucket) - floor(t / bucket) < kWindowBuckets,
// i.e. for between W - bucket and W after it (exactly [t, t + W) when t starts a bucket).
// Features read what was recorded before; the event being decided is not in its own count.
//
// Memory. Each table holds at most `keys_max` keys. Recording a new key into a full table
// evicts the key recorded least recently (an expired key, if any is expired, since time only
// moves forward). Reading never changes the state. Bytes per key: velocity.cc, BytesPerKey.
//
// Determinism. Hashing uses a fixed function of the key and `hash_seed`; Save writes keys in
// least-recently-recorded order, so two stores fed the same records save the same bytes, and a
// loaded store behaves exactly like the one saved.
//
// Not thread-safe: one store belongs to one RiskEngine.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common/codec.h"
#include "common/huge_pages.h"
#include "common/ids.h"
#include "risk/event.h"
#include "risk/program.h"

namespace tpw::risk {

struct VelocityOptions {
  uint32_t keys_max = 1u << 20;  // per feature; at most kFeatureKeysMax
  uint64_t hash_seed = 0;        // mixes into every key hash (hash flooding); saved with state
};

// The key a feature is about, taken from the event (0 when the event has none).
u128 KeyOf(const Event& event, KeyKind kind);

class FeatureTable {
 public:
  FeatureTable(const FeatureSpec& spec, const VelocityOptions& options);

  const FeatureSpec& spec() const { return spec_; }
  size_t keys() const { return headers_.size(); }
  // The feature's value for `event` at `now`: a count, a sum of minor units in the event's
  // asset, or a number of distinct values.
  u128 Read(const Event& event, Timestamp now) const;
  void Record(const Event& event, Timestamp now);
  // Hints for the cache, no effect on results: PrefetchIndex asks for the index line the
  // event's key hashes to; PrefetchSlot (after it) for the slot that index entry names.
  void PrefetchIndex(const Event& event) const;
  void PrefetchSlot(const Event& event) const;
  // Before Record: the recency-list neighbours of the event's key (Record unlinks it from them)
  // and, when the table is full, the key Record would evict.
  void PrefetchForRecord(const Event& event) const;
  // Bytes this table holds (capacity of its arrays).
  size_t BytesUsed() const;
  static size_t BytesPerKey(FeatureKind kind);

  void Save(BinaryWriter& writer) const;
  // Reads one table saved by Save (after its spec, which the caller read). False on anything
  // malformed.
  [[nodiscard]] bool LoadKeys(BinaryReader& reader);

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Header {
    uint64_t key_low = 0;
    uint64_t key_high = 0;
    uint64_t head_bucket = 0;  // the newest bucket the ring holds
    uint32_t asset = 0;        // sum: amounts are summed per asset
    uint32_t newer = kNone;    // recency list, towards the most recently recorded
    uint32_t older = kNone;
  };
  struct DistinctValue {
    uint64_t fingerprint = 0;      // 64-bit hash of the value
    uint64_t bucket_plus_one = 0;  // 0: empty
  };
  using Counts = std::array<uint32_t, kWindowBuckets>;
  using Sums = std::array<u128, kWindowBuckets>;
  using Distincts = std::array<DistinctValue, kDistinctValuesMax>;

  uint64_t Hash(u128 key, uint32_t asset) const;
  uint32_t Find(u128 key, uint32_t asset) const;
  uint32_t Insert(u128 key, uint32_t asset, uint64_t bucket);
  void EraseFromIndex(uint32_t slot);
  void Unlink(uint32_t slot);
  void PushNewest(uint32_t slot);
  void Advance(uint32_t slot, uint64_t bucket);
  void Add(uint32_t slot, uint64_t bucket, const Event& event);
  bool InWindow(uint64_t bucket, uint64_t now_bucket) const {
    return bucket <= now_bucket && now_bucket - bucket < kWindowBuckets;
  }
  u128 Sum(uint32_t slot, uint64_t now_bucket) const;
  void SaveSlot(BinaryWriter& writer, uint32_t slot) const;
  bool LoadSlot(BinaryReader& reader);

  FeatureSpec spec_;
  uint64_t bucket_ns_ = 0;
  uint32_t keys_max_ = 0;
  uint64_t hash_seed_ = 0;
  // Huge-page backed (common/huge_pages.h): with a million keys the tables are far larger than
  // the TLB's reach in 4 KiB pages, and every lookup is a random access.
  template <typename T>
  using Table = std::vector<T, HugePageAllocator<T>>;
  Table<Header> headers_;
  Table<Counts> counts_;
  Table<Sums> sums_;
  Table<Distincts> distincts_;
  Table<uint32_t> index_;  // open addressing, linear probing: slot + 1, 0 = empty
  uint32_t newest_ = kNone;
  uint32_t oldest_ = kNone;
};

}  // namespace tpw::risk
