// BucketIndex: a hash table from a 128-bit id to a 64-bit value, for tables much larger than
// the CPU caches — the ledger's transfer-id index, one entry per transfer ever made.
//
// Layout: 64-byte buckets of eight 16-bit tags (hash fingerprints) plus, per tag, the number of
// its entry in an append-only entry array that holds the keys and values (24 bytes an entry,
// in insertion order). A lookup that misses — the common case, a new transfer id — reads one
// bucket, one cache line, and the entry array only when a tag matches (a real hit, or on a
// miss about once in 10^4 lookups). An insert writes that bucket and appends to the array,
// which is sequential memory. (HashIndex's 24-byte linear-probing slots straddle cache lines,
// so its misses at 3/4 load often read two random lines.)
//
// Buckets are probed linearly: a key sits in its home bucket or, if that was full when it was
// inserted, in a later one, and a lookup stops at the first bucket with a free tag. Erase
// shifts later keys back so that stays true (no tombstones) and moves the last array entry
// into the freed place (the array stays dense). Grows at 3/4 load by rebuilding the buckets
// only: values never move on growth. Key 0 cannot be stored (the ledger rejects id 0 first).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "common/assert.h"
#include "common/int128.h"
#include "ledger/chunked.h"
#include "ledger/state_io.h"

namespace tpw::ledger {

class BucketIndex {
 public:
  explicit BucketIndex(uint64_t expected_entries = 16);

  // Pointer to the value for `key`, or nullptr. Valid until the next Erase.
  const uint64_t* Find(u128 key) const {
    TPW_ASSERT(key != 0);
    const uint64_t hash = Hash(key);
    const uint16_t tag = TagOf(hash);
    for (uint64_t b = hash & mask_;; b = (b + 1) & mask_) {
      const Bucket& bucket = buckets_[b];
      for (uint32_t m = SlotsWithTag(bucket, tag); m != 0; m &= m - 1) {
        const Entry& entry = entries_[EntryNumber(bucket, __builtin_ctz(m))];
        if (entry.matches(key)) return &entry.value;
      }
      if (SlotsWithTag(bucket, kFreeTag) != 0) return nullptr;
    }
  }
  uint64_t* Find(u128 key) {
    return const_cast<uint64_t*>(static_cast<const BucketIndex*>(this)->Find(key));
  }
  // Inserts a key that is not present (asserted).
  void Insert(u128 key, uint64_t value);
  // Starts loading `key`'s home bucket into cache: call some keys ahead of Find/Insert to
  // overlap the cache misses of a large table. Always inlined: g++ 12 treats a function whose
  // only effect is __builtin_prefetch as free of side effects and deletes calls to it, so an
  // out-of-line copy would silently prefetch nothing.
  [[gnu::always_inline]] void Prefetch(u128 key) const {
    __builtin_prefetch(&buckets_[Hash(key) & mask_]);
  }
  // Removes a key that is present (asserted).
  void Erase(u128 key);

  uint64_t size() const { return entries_.size(); }
  uint64_t capacity() const { return (mask_ + 1) * kBucketSlots; }  // slots
  uint64_t bucket_count() const { return mask_ + 1; }

  // Snapshot support: bucket count, the entry array, then the raw buckets. Load replaces the
  // contents and returns false if the data is short or not a consistent table.
  void Save(StateSink& sink) const;
  bool Load(StateSource& source);

  // Same mix as HashIndex: a strong 64-bit finalizer (murmur3) so sequential ids spread.
  // The low bits pick the home bucket and the top 16 bits the tag. Public for tests.
  static uint64_t Hash(u128 key) {
    uint64_t h = Low64(key) ^ (High64(key) * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
  }

 private:
  static constexpr int kBucketSlots = 8;
  static constexpr uint16_t kFreeTag = 0;
  // Entry numbers have 48 bits (2^48 entries: far above any ledger's transfer count).
  static constexpr uint64_t kEntriesMax = uint64_t{1} << 48;

  struct alignas(64) Bucket {
    uint16_t tags[kBucketSlots];        // kFreeTag: the slot is free
    uint32_t entry_low[kBucketSlots];   // entry number, bits 0..31
    uint16_t entry_high[kBucketSlots];  // entry number, bits 32..47
  };
  static_assert(sizeof(Bucket) == 64, "one bucket is one cache line");

  struct Entry {
    uint64_t key_low;
    uint64_t key_high;
    uint64_t value;
    bool matches(u128 key) const { return key_low == Low64(key) && key_high == High64(key); }
    u128 key() const { return MakeU128(key_high, key_low); }
  };
  static_assert(sizeof(Entry) == 24);

  static uint16_t TagOf(uint64_t hash) {
    const auto tag = static_cast<uint16_t>(hash >> 48);
    return tag == kFreeTag ? uint16_t{1} : tag;
  }
  // Bit i set when slot i's tag is `tag`.
  static uint32_t SlotsWithTag(const Bucket& bucket, uint16_t tag);
  static uint64_t EntryNumber(const Bucket& bucket, int slot) {
    return uint64_t{bucket.entry_low[slot]} | (uint64_t{bucket.entry_high[slot]} << 32);
  }
  static void SetSlot(Bucket& bucket, int slot, uint16_t tag, uint64_t entry) {
    bucket.tags[slot] = tag;
    bucket.entry_low[slot] = static_cast<uint32_t>(entry);
    bucket.entry_high[slot] = static_cast<uint16_t>(entry >> 32);
  }

  struct Free {
    void operator()(Bucket* p) const { std::free(p); }
  };
  using Buckets = std::unique_ptr<Bucket[], Free>;
  // Zeroed (all tags free) buckets in 2 MiB-aligned memory advised for transparent huge pages.
  static Buckets AllocateBuckets(uint64_t count);
  // Puts entry number `entry` (whose key hashes to `hash`) in the first free slot from its
  // home bucket on.
  void Place(uint64_t hash, uint64_t entry);
  void Grow();

  Buckets buckets_;
  uint64_t mask_ = 0;     // bucket count - 1
  uint64_t grow_at_ = 0;  // entries
  ChunkedVector<Entry> entries_;
};

}  // namespace tpw::ledger
