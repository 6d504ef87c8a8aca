// HashIndex: open-addressing hash table from a 128-bit id to a 64-bit value.
//
// Linear probing, power-of-two capacity, backward-shift deletion (no tombstones), grows at
// 3/4 load. Key 0 marks an empty slot, so id 0 can never be stored (the ledger rejects it
// before it gets here). 24 bytes a slot. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "common/assert.h"
#include "common/int128.h"
#include "ledger/state_io.h"

namespace tpw::ledger {

class HashIndex {
 public:
  explicit HashIndex(uint64_t expected_entries = 16);

  // Pointer to the value for `key`, or nullptr. Valid until the next insert or erase.
  // Inline: it is the ledger's hottest call.
  const uint64_t* Find(u128 key) const {
    TPW_ASSERT(key != 0);
    for (uint64_t i = HomeSlot(key);; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.matches(key)) return &slot.value;
      if (slot.empty()) return nullptr;
    }
  }
  uint64_t* Find(u128 key) {
    return const_cast<uint64_t*>(static_cast<const HashIndex*>(this)->Find(key));
  }
  // Inserts a key that is not present (asserted).
  void Insert(u128 key, uint64_t value);
  // Starts loading `key`'s home slot into cache: call a few keys ahead of Find/Insert to
  // overlap the cache misses of a large table.
  // Loads the home slot's line and the next one: at 3/4 load a probe run often crosses into
  // it. Always inlined: see BucketIndex::Prefetch (g++ 12 deletes calls to an out-of-line
  // function that only prefetches).
  [[gnu::always_inline]] void Prefetch(u128 key) const {
    const char* home = reinterpret_cast<const char*>(&slots_[HomeSlot(key)]);
    __builtin_prefetch(home);
    __builtin_prefetch(home + 64);
  }
  // Removes a key that is present (asserted).
  void Erase(u128 key);

  uint64_t size() const { return size_; }
  uint64_t capacity() const { return mask_ + 1; }
  uint64_t memory_bytes() const { return capacity() * sizeof(Slot); }

  // Snapshot support: the raw table (capacity, size, slots). Load replaces the contents and
  // returns false (leaving an empty index) if the data is short or not a valid table shape.
  void Save(StateSink& sink) const;
  bool Load(StateSource& source);

 private:
  struct Slot {
    uint64_t key_low;
    uint64_t key_high;
    uint64_t value;
    bool empty() const { return (key_low | key_high) == 0; }
    bool matches(u128 key) const { return key_low == Low64(key) && key_high == High64(key); }
  };
  static_assert(sizeof(Slot) == 24);

  uint64_t HomeSlot(u128 key) const {
    // A strong 64-bit mix (murmur3 finalizer) so sequential ids spread evenly.
    uint64_t h = Low64(key) ^ (High64(key) * 0x9e3779b97f4a7c15ULL);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h & mask_;
  }
  struct Free {
    void operator()(Slot* p) const { std::free(p); }
  };
  using Slots = std::unique_ptr<Slot[], Free>;
  // Zeroed slots in 2 MiB-aligned memory advised for transparent huge pages: a large index
  // then costs far fewer TLB misses per lookup.
  static Slots AllocateSlots(uint64_t capacity);
  void Grow();

  Slots slots_;
  uint64_t mask_ = 0;
  uint64_t size_ = 0;
  uint64_t grow_at_ = 0;
};

}  // namespace tpw::ledger
