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
// evicts, among the kEvictionCandidates keys at a rotating cursor, the one whose newest bucket is
// oldest (an expired key, if one of them is expired): sampled LRU, as Redis does, so recording
// touches only the key's own slot (no recency list to relink). Size keys_max above the active
// keys and eviction never happens. Reading never changes the state. Bytes per key: BytesPerKey.
//
// Layout. A key's slot holds its header and its buckets together (64 bytes, one cache line, for
// a count; 160 for a sum, 192 for a distinct), so a lookup costs the index line and the slot's
// lines, nothing else. Buckets are narrow and widen exactly when they must ("wide", rare): a
// count keeps u16 buckets, and a key whose bucket would pass 65535 moves its ring to u32 on the
// side (saturating at 2^32 - 1 as before); a sum keeps u64 buckets, and a key whose bucket would
// pass 2^64 - 1 minor units moves its ring to u128 on the side. A distinct keeps, beside each
// value's 64-bit fingerprint, its bucket as a u16 age behind the key's newest bucket (in the
// slot's first line with the header, so a read touches one line); a key with a value that
// would fall more than 65534 buckets behind (a key silent for ~4096 windows whose old values
// are still remembered: they count for reads that far back) moves its values' buckets, absolute
// and exact, to u64 on the side. A wide key stays wide until it is evicted. Saved state holds
// the wide values (u32 counts, u128 sums, u64 absolute distinct buckets) either way.
//
// Determinism. Hashing uses a fixed function of the key and `hash_seed`; Save writes the slots
// in slot order with the eviction cursor, so two stores fed the same records save the same
// bytes, and a loaded store (same slots, same cursor) behaves exactly like the one saved.
//
// Not thread-safe: one store belongs to one RiskEngine.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/assert.h"
#include "common/chunked_vector.h"
#include "common/codec.h"
#include "common/huge_pages.h"
#include "common/ids.h"
#include "risk/event.h"
#include "risk/program.h"

namespace tpw::risk {

struct VelocityOptions {
  uint32_t keys_max = 1u << 20;  // per feature; at most kFeatureKeysMax
  uint64_t hash_seed = 0;        // mixes into every key hash (hash flooding); saved with state
  // Keys per feature whose memory (slots and index) each table allocates and faults in when it
  // is made (capped at keys_max), as a service sized for its keys would at start-up: a new key
  // then never waits for the kernel to zero a fresh page while a payment is decided. 0: memory
  // grows with the keys. Changes no result, only when memory is taken; not saved with state.
  uint32_t reserve_keys = 0;
  // The most keys a feature on each kind of key reserves (indexed by KeyKind): the population a
  // service knows it has (20,000 terminals, say), so a feature keyed by a small population does
  // not reserve reserve_keys. Only caps reserve_keys; changes no result.
  std::array<uint32_t, kKeyKinds> reserve_keys_max_by_key = {UINT32_MAX, UINT32_MAX, UINT32_MAX,
                                                             UINT32_MAX, UINT32_MAX, UINT32_MAX};
};

// The key a feature is about, taken from the event (0 when the event has none).
inline u128 KeyOf(const Event& event, KeyKind kind) {
  switch (kind) {
    case KeyKind::account:
      return event.account;
    case KeyKind::device:
      return event.device;
    case KeyKind::merchant:
      return event.merchant;
    case KeyKind::terminal:
      return event.terminal;
    case KeyKind::ip:
      return event.ip;
    case KeyKind::country:
      return event.country;
  }
  TPW_UNREACHABLE();
}

class FeatureTable {
 public:
  FeatureTable(const FeatureSpec& spec, const VelocityOptions& options);

  const FeatureSpec& spec() const { return spec_; }
  size_t keys() const { return keys_; }
  // The feature's value for `event` at `now`: a count, a sum of minor units in the event's
  // asset, or a number of distinct values.
  u128 Read(const Event& event, Timestamp now) const;
  void Record(const Event& event, Timestamp now);
  // The same in steps, so a decision hashes and finds each key once for its hints, its read and
  // its record: HashOf gives the hash of the event's key (a pure function of the key, the asset
  // of a sum and hash_seed: it stays valid while the table changes, so it can be computed ahead
  // of the decision); Locate gives the key's slot (kNone when the key is absent or the event has
  // none); ReadAt and RecordAt take it. A located slot stays valid until this table records again.
  static constexpr uint32_t kNone = UINT32_MAX;
  uint64_t HashOf(const Event& event) const {
    return Hash(KeyOf(event, spec_.key), AssetOf(event));
  }
  uint32_t Locate(const Event& event) const { return Locate(event, HashOf(event)); }
  uint32_t Locate(const Event& event, uint64_t hash) const;
  u128 ReadAt(uint32_t slot, Timestamp now) const;
  void RecordAt(uint32_t slot, const Event& event, Timestamp now) {
    RecordAt(slot, HashOf(event), event, now);
  }
  void RecordAt(uint32_t slot, uint64_t hash, const Event& event, Timestamp now);
  // Hints for the cache, no effect on results (`hash` from HashOf): PrefetchIndex asks for the
  // index line the key hashes to; PrefetchSlot (after it) for the slot that index entry names.
  void PrefetchIndex(uint64_t hash) const {
    __builtin_prefetch(&index_[hash & (index_.size() - 1)]);
  }
  void PrefetchSlot(uint64_t hash) const;
  // Before RecordAt of a key the table lacks (`located` is kNone) while it is full: the
  // eviction candidates.
  void PrefetchForRecord(const Event& event, uint32_t located) const;
  static constexpr uint32_t kEvictionCandidates = 4;
  static constexpr uint32_t kIndexPresizedKeys = 1u << 20;
  // Keys whose memory the table allocated and faulted in up front (VelocityOptions::reserve_keys).
  uint32_t reserved_keys() const { return reserved_keys_; }
  // Bytes this table holds (capacity of its arrays).
  size_t BytesUsed() const;
  static size_t BytesPerKey(FeatureKind kind);

  void Save(BinaryWriter& writer) const;
  // Reads one table saved by Save (after its spec, which the caller read). False on anything
  // malformed.
  [[nodiscard]] bool LoadKeys(BinaryReader& reader);
  // Steps over one table saved by Save without building it: false when the bytes end early.
  // Lets a load refuse a truncated state before it allocates any table.
  [[nodiscard]] static bool SkipKeys(BinaryReader& reader, FeatureKind kind);

 private:
  struct Header {
    uint64_t key_low = 0;
    uint64_t key_high = 0;
    uint64_t head_bucket = 0;    // the newest bucket the ring holds
    uint32_t asset = 0;          // sum: amounts are summed per asset
    uint32_t wide_plus_one = 0;  // 0, or 1 + the key's ring in wide_sums_ / wide_counts_
  };
  using Counts = std::array<uint16_t, kWindowBuckets>;
  using WideCounts = std::array<uint32_t, kWindowBuckets>;
  using Sums = std::array<uint64_t, kWindowBuckets>;
  using WideSums = std::array<u128, kWindowBuckets>;
  // A distinct key's values: each one's 64-bit fingerprint (odd; 0: empty) and the bucket it
  // was last seen in, as 1 + its age behind the key's head bucket (0: empty; at most
  // kDistinctAgeMax + 1). Ages move with the head (Advance adds to them); a key with a value
  // that would pass kDistinctAgeMax behind the head moves its buckets, as absolute
  // bucket_plus_one values (0: empty, as saved), to the side (WideDistincts) for good.
  using Fingerprints = std::array<uint64_t, kDistinctValuesMax>;
  using AgesPlusOne = std::array<uint16_t, kDistinctValuesMax>;
  using WideDistincts = std::array<uint64_t, kDistinctValuesMax>;
  static constexpr uint64_t kDistinctAgeMax = UINT16_MAX - 1;
  // One slot per key, header and buckets side by side; a table uses the vector of its kind.
  struct CountSlot {
    Header header;
    Counts counts{};
  };
  struct SumSlot {
    Header header;
    Sums sums{};
  };
  // The ages beside the header: reading a distinct key touches the slot's first line only.
  struct DistinctSlot {
    Header header;
    AgesPlusOne ages_plus_one{};
    Fingerprints fingerprints{};
  };
  static_assert(sizeof(CountSlot) == 64, "a count slot is one cache line");
  static_assert(sizeof(DistinctSlot) == 192, "a distinct slot is three cache lines");
  static_assert(offsetof(DistinctSlot, fingerprints) == 64, "header and ages: the first line");

  // An index entry: the slot (plus one; 0 = empty) and 32 bits of its key's hash, so probing
  // skips other keys' entries without reading their slots (each would be a cache miss).
  struct IndexEntry {
    uint32_t slot_plus_one = 0;
    uint32_t tag = 0;
  };
  static uint32_t TagOf(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

  Header& HeaderOf(uint32_t slot) {
    return const_cast<Header&>(static_cast<const FeatureTable&>(*this).HeaderOf(slot));
  }
  const Header& HeaderOf(uint32_t slot) const {
    switch (spec_.kind) {
      case FeatureKind::count:
        return count_slots_[slot].header;
      case FeatureKind::sum:
        return sum_slots_[slot].header;
      case FeatureKind::distinct:
        return distinct_slots_[slot].header;
    }
    TPW_UNREACHABLE();
  }
  const void* SlotAddress(uint32_t slot) const { return &HeaderOf(slot); }  // header first
  size_t SlotBytes() const;
  uint32_t AssetOf(const Event& event) const {
    return spec_.kind == FeatureKind::sum ? event.asset : 0;
  }
  uint64_t Hash(u128 key, uint32_t asset) const;
  uint32_t Find(u128 key, uint32_t asset) const { return Find(key, asset, Hash(key, asset)); }
  uint32_t Find(u128 key, uint32_t asset, uint64_t hash) const;
  uint32_t Insert(u128 key, uint32_t asset, uint64_t hash, uint64_t bucket);
  void Reserve(uint32_t keys);
  uint32_t AppendSlot();
  uint32_t EvictionVictim() const;
  void IndexSlot(uint32_t slot, uint64_t hash);
  void RebuildIndex(size_t index_slots);
  void EraseFromIndex(uint32_t slot);
  void ClearSlot(uint32_t slot);
  void Advance(uint32_t slot, uint64_t bucket);
  void ClearRing(uint32_t slot);
  void Add(uint32_t slot, uint64_t bucket, const Event& event);
  void AddToSum(uint32_t slot, size_t position, u128 amount);
  void AddToCount(uint32_t slot, size_t position);
  void AddDistinct(uint32_t slot, uint64_t bucket, uint64_t fingerprint);
  void AgeDistincts(uint32_t slot, uint64_t old_head, uint64_t buckets);
  uint32_t TakeWideEntry();
  WideSums& Widen(uint32_t slot);
  WideCounts& WidenCounts(uint32_t slot);
  WideDistincts& WidenDistincts(uint32_t slot);
  void ReleaseWide(uint32_t slot);
  uint32_t CountBucket(uint32_t slot, size_t position) const;
  u128 SumBucket(uint32_t slot, size_t position) const;
  uint64_t DistinctBucketPlusOne(uint32_t slot, size_t value) const;
  u128 CountDistinct(uint32_t slot, uint64_t now_bucket) const;
  bool InWindow(uint64_t bucket, uint64_t now_bucket) const {
    return bucket <= now_bucket && now_bucket - bucket < kWindowBuckets;
  }
  u128 Sum(uint32_t slot, uint64_t now_bucket) const;
  void SaveSlot(BinaryWriter& writer, uint32_t slot) const;
  bool LoadSlot(BinaryReader& reader);
  bool LoadDistincts(BinaryReader& reader, uint32_t slot, uint64_t head);

  FeatureSpec spec_;
  uint64_t bucket_ns_ = 0;
  uint32_t keys_max_ = 0;
  uint32_t reserved_keys_ = 0;
  uint64_t hash_seed_ = 0;
  uint32_t keys_ = 0;
  uint32_t cursor_ = 0;  // where the next eviction looks first (used once the table is full)
  // Huge-page backed (common/huge_pages.h): with a million keys the tables are far larger than
  // the TLB's reach in 4 KiB pages, and every lookup is a random access. Slots grow in 2 MiB
  // chunks (never copied: no stall while a table grows); the index is sized for the reserved
  // keys, or without a reserve for min(keys_max, kIndexPresizedKeys) keys, at once and rehashed
  // only beyond that (its pages cost nothing until an entry on them is written, so a small table
  // does not pay for the presizing).
  ChunkedVector<CountSlot> count_slots_;
  ChunkedVector<SumSlot> sum_slots_;
  ChunkedVector<DistinctSlot> distinct_slots_;
  std::vector<WideSums> wide_sums_;      // rings of the sum keys past u64 buckets
  std::vector<WideCounts> wide_counts_;  // rings of the count keys past u16 buckets
  std::vector<WideDistincts> wide_distincts_;  // buckets of distinct keys past u16 ages
  std::vector<uint32_t> wide_free_;  // entries of the table's wide vector that no key uses
  ZeroedHugePageArray<IndexEntry> index_;  // open addressing, linear probing; all zero = empty
};

}  // namespace tpw::risk
