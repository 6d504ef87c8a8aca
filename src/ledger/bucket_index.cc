#include "ledger/bucket_index.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <bit>
#include <cstring>

#include "common/huge_pages.h"

namespace tpw::ledger {

static uint64_t BucketCountFor(uint64_t entries) {
  // Buckets such that `entries` stays under 3/4 load.
  const uint64_t slots = entries + entries / 3 + 1;
  const uint64_t buckets = (slots + 7) / 8;
  return std::bit_ceil(buckets < 2 ? uint64_t{2} : buckets);
}

uint32_t BucketIndex::SlotsWithTag(const Bucket& bucket, uint16_t tag) {
#if defined(__SSE2__)
  // Baseline x86-64: compare all eight tags at once.
  const __m128i tags = _mm_load_si128(reinterpret_cast<const __m128i*>(bucket.tags));
  const __m128i equal = _mm_cmpeq_epi16(tags, _mm_set1_epi16(static_cast<short>(tag)));
  // One byte per slot (0xFF or 0), then one bit per slot.
  return static_cast<uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(equal, _mm_setzero_si128())));
#else
  uint32_t slots = 0;
  for (int i = 0; i < kBucketSlots; ++i) {
    slots |= static_cast<uint32_t>(bucket.tags[i] == tag) << i;
  }
  return slots;
#endif
}

BucketIndex::Buckets BucketIndex::AllocateBuckets(uint64_t count) {
  const size_t bytes = count * sizeof(Bucket);
  void* memory = AllocateHugePageBacked(bytes);
  std::memset(memory, 0, bytes);            // all tags free
  return Buckets(static_cast<Bucket*>(memory));
}

BucketIndex::BucketIndex(uint64_t expected_entries) {
  const uint64_t count = BucketCountFor(expected_entries);
  buckets_ = AllocateBuckets(count);
  mask_ = count - 1;
  grow_at_ = count * kBucketSlots / 4 * 3;
  entries_.Reserve(expected_entries);
}

void BucketIndex::Place(uint64_t hash, uint64_t entry) {
  for (uint64_t b = hash & mask_;; b = (b + 1) & mask_) {
    Bucket& bucket = buckets_[b];
    const uint32_t free_slots = SlotsWithTag(bucket, kFreeTag);
    if (free_slots != 0) {
      SetSlot(bucket, __builtin_ctz(free_slots), TagOf(hash), entry);
      return;
    }
  }
}

void BucketIndex::Insert(u128 key, uint64_t value) {
  TPW_ASSERT(key != 0);
  TPW_ASSERT(entries_.size() < kEntriesMax);
  if (entries_.size() >= grow_at_) Grow();
  const uint64_t hash = Hash(key);
  const uint16_t tag = TagOf(hash);
  const uint64_t entry = entries_.size();
  // One probe both checks absence (a present key sits at or before the first bucket with a
  // free slot) and finds the slot.
  for (uint64_t b = hash & mask_;; b = (b + 1) & mask_) {
    Bucket& bucket = buckets_[b];
    for (uint32_t m = SlotsWithTag(bucket, tag); m != 0; m &= m - 1) {
      TPW_ASSERT_MSG(!entries_[EntryNumber(bucket, __builtin_ctz(m))].matches(key),
                     "BucketIndex::Insert of a present key");
    }
    const uint32_t free_slots = SlotsWithTag(bucket, kFreeTag);
    if (free_slots != 0) {
      SetSlot(bucket, __builtin_ctz(free_slots), tag, entry);
      break;
    }
  }
  entries_.push_back(Entry{Low64(key), High64(key), value});
}

void BucketIndex::Erase(u128 key) {
  TPW_ASSERT(key != 0);
  const uint64_t hash = Hash(key);
  const uint16_t tag = TagOf(hash);
  uint64_t hole_bucket = hash & mask_;
  int hole_slot = -1;
  for (;; hole_bucket = (hole_bucket + 1) & mask_) {
    const Bucket& bucket = buckets_[hole_bucket];
    for (uint32_t m = SlotsWithTag(bucket, tag); m != 0 && hole_slot < 0; m &= m - 1) {
      if (entries_[EntryNumber(bucket, __builtin_ctz(m))].matches(key)) {
        hole_slot = __builtin_ctz(m);
      }
    }
    if (hole_slot >= 0) break;
    TPW_ASSERT_MSG(SlotsWithTag(bucket, kFreeTag) == 0, "BucketIndex::Erase of a missing key");
  }
  const uint64_t erased = EntryNumber(buckets_[hole_bucket], hole_slot);
  // Keys beyond a bucket that had a free slot never probed past it.
  const bool shift = SlotsWithTag(buckets_[hole_bucket], kFreeTag) == 0;
  buckets_[hole_bucket].tags[hole_slot] = kFreeTag;

  // Backward shift: a key in a later bucket whose probe passed the hole's bucket would no
  // longer be found (lookups stop at a bucket with a free slot), so move it into the hole;
  // its old slot becomes the hole.
  for (uint64_t b = (hole_bucket + 1) & mask_; shift; b = (b + 1) & mask_) {
    Bucket& bucket = buckets_[b];
    const bool had_free_slot = SlotsWithTag(bucket, kFreeTag) != 0;
    int movable = -1;
    for (int slot = 0; slot < kBucketSlots && movable < 0; ++slot) {
      if (bucket.tags[slot] == kFreeTag) continue;
      const uint64_t home = Hash(entries_[EntryNumber(bucket, slot)].key()) & mask_;
      if (((hole_bucket - home) & mask_) < ((b - home) & mask_)) movable = slot;
    }
    if (movable >= 0) {
      SetSlot(buckets_[hole_bucket], hole_slot, bucket.tags[movable], EntryNumber(bucket, movable));
      bucket.tags[movable] = kFreeTag;
      hole_bucket = b;
      hole_slot = movable;
    }
    if (had_free_slot) break;
  }

  // Keep the entry array dense: the last entry moves into the erased one's place, and the
  // slot that names it is repointed.
  const uint64_t last = entries_.size() - 1;
  if (erased != last) {
    const Entry moved = entries_[last];
    entries_[erased] = moved;
    const uint64_t moved_hash = Hash(moved.key());
    for (uint64_t b = moved_hash & mask_;; b = (b + 1) & mask_) {
      Bucket& bucket = buckets_[b];
      int slot = -1;
      for (uint32_t m = SlotsWithTag(bucket, TagOf(moved_hash)); m != 0 && slot < 0; m &= m - 1) {
        if (EntryNumber(bucket, __builtin_ctz(m)) == last) slot = __builtin_ctz(m);
      }
      if (slot >= 0) {
        SetSlot(bucket, slot, bucket.tags[slot], erased);
        break;
      }
      TPW_ASSERT_MSG(SlotsWithTag(bucket, kFreeTag) == 0, "BucketIndex: entry not in its run");
    }
  }
  entries_.pop_back();
}

void BucketIndex::Grow() {
  const uint64_t count = (mask_ + 1) * 2;
  buckets_ = AllocateBuckets(count);
  mask_ = count - 1;
  grow_at_ = count * kBucketSlots / 4 * 3;
  for (uint64_t entry = 0; entry < entries_.size(); ++entry) {
    Place(Hash(entries_[entry].key()), entry);
  }
}

void BucketIndex::Save(StateSink& sink) const {
  sink.U64(bucket_count());
  SaveChunked(sink, entries_);
  sink.Write({reinterpret_cast<const uint8_t*>(buckets_.get()), bucket_count() * sizeof(Bucket)});
}

bool BucketIndex::Load(StateSource& source) {
  uint64_t count = 0;
  if (!source.U64(count)) return false;
  const bool power_of_two = count >= 1 && (count & (count - 1)) == 0;
  if (!power_of_two || !LoadChunked(source, entries_) ||
      count > source.remaining() / sizeof(Bucket) ||
      entries_.size() > count * kBucketSlots / 4 * 3) {
    return false;
  }
  Buckets buckets = AllocateBuckets(count);
  if (!source.Read({reinterpret_cast<uint8_t*>(buckets.get()), count * sizeof(Bucket)})) {
    return false;
  }
  // Every used slot must name an entry, and every entry must be named once.
  uint64_t used = 0;
  for (uint64_t b = 0; b < count; ++b) {
    for (int slot = 0; slot < kBucketSlots; ++slot) {
      if (buckets[b].tags[slot] == kFreeTag) continue;
      if (EntryNumber(buckets[b], slot) >= entries_.size()) return false;
      ++used;
    }
  }
  if (used != entries_.size()) return false;
  buckets_ = std::move(buckets);
  mask_ = count - 1;
  grow_at_ = count * kBucketSlots / 4 * 3;
  return true;
}

}  // namespace tpw::ledger
