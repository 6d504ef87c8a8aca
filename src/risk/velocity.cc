#include "risk/velocity.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace tpw::risk {
namespace {

uint64_t Mix(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

uint64_t Fingerprint(u128 value) { return Mix(Low64(value) ^ Mix(High64(value) + 1)) | 1; }

constexpr size_t kIndexSlotsMin = 16;
// One key per this many index entries: 8 keys per 4 KiB page of entries on average.
constexpr size_t kIndexEntriesPerHugePageAdvice = 64;

}  // namespace

FeatureTable::FeatureTable(const FeatureSpec& spec, const VelocityOptions& options)
    : spec_(spec),
      bucket_ns_(spec.window_seconds * kNanosPerSecond / kWindowBuckets),
      keys_max_(options.keys_max),
      hash_seed_(options.hash_seed) {
  TPW_ASSERT(spec.window_seconds >= 1 && spec.window_seconds <= kWindowSecondsMax);
  TPW_ASSERT(options.keys_max >= 1 && options.keys_max <= kFeatureKeysMax);
  // 10^9 is divisible by 16, so every whole-second window splits into equal buckets.
  TPW_ASSERT(bucket_ns_ * kWindowBuckets == spec.window_seconds * kNanosPerSecond);
  const uint32_t population = options.reserve_keys_max_by_key[static_cast<size_t>(spec.key)];
  reserved_keys_ = std::min({options.reserve_keys, keys_max_, population});
  // A reserve is the keys the table expects: its index is sized for them (a feature of 20,000
  // terminals gets a 512 KiB index, dense enough for huge pages, not the 16 MiB presized one
  // whose 4 KiB pages would each cost a TLB miss); without one, for min(keys_max, 2^20) keys.
  const size_t presized =
      reserved_keys_ > 0 ? reserved_keys_ : std::min(keys_max_, kIndexPresizedKeys);
  index_ = ZeroedHugePageArray<IndexEntry>(
      std::max<size_t>(kIndexSlotsMin, std::bit_ceil(size_t{presized} * 2)));
  Reserve(reserved_keys_);
}

// The slots of `keys` keys, and the index if that many keys make it dense (the test of Insert),
// allocated and faulted in now. A sparse index stays lazily zeroed: few keys touch few pages.
void FeatureTable::Reserve(uint32_t keys) {
  if (keys == 0) return;
  if (spec_.kind == FeatureKind::count) count_slots_.Reserve(keys);
  if (spec_.kind == FeatureKind::sum) sum_slots_.Reserve(keys);
  if (spec_.kind == FeatureKind::distinct) distinct_slots_.Reserve(keys);
  if (keys >= index_.size() / kIndexEntriesPerHugePageAdvice) {
    index_.AdviseHugePages();
    index_.FaultIn();
  }
}

size_t FeatureTable::BytesPerKey(FeatureKind kind) {
  // The slot (header and buckets) and two index entries (the index is kept at most half full).
  size_t slot = sizeof(CountSlot);
  if (kind == FeatureKind::sum) slot = sizeof(SumSlot);
  if (kind == FeatureKind::distinct) slot = sizeof(DistinctSlot);
  return slot + 2 * sizeof(IndexEntry);
}

size_t FeatureTable::BytesUsed() const {
  return count_slots_.capacity() * sizeof(CountSlot) + sum_slots_.capacity() * sizeof(SumSlot) +
         distinct_slots_.capacity() * sizeof(DistinctSlot) + index_.bytes() +
         wide_sums_.capacity() * sizeof(WideSums) + wide_counts_.capacity() * sizeof(WideCounts) +
         wide_distincts_.capacity() * sizeof(WideDistincts) +
         wide_free_.capacity() * sizeof(uint32_t);
}

size_t FeatureTable::SlotBytes() const {
  if (spec_.kind == FeatureKind::count) return sizeof(CountSlot);
  return spec_.kind == FeatureKind::sum ? sizeof(SumSlot) : sizeof(DistinctSlot);
}

uint64_t FeatureTable::Hash(u128 key, uint32_t asset) const {
  return Mix(Low64(key) ^ hash_seed_) ^ Mix(High64(key) + (uint64_t{asset} << 1) + 0x51);
}

void FeatureTable::PrefetchSlot(uint64_t hash) const {
  const uint32_t tag = TagOf(hash);
  const size_t mask = index_.size() - 1;
  uint32_t slot_plus_one = 0;
  for (size_t i = hash & mask; index_[i].slot_plus_one != 0; i = (i + 1) & mask) {
    if (index_[i].tag == tag) {
      slot_plus_one = index_[i].slot_plus_one;
      break;
    }
  }
  if (slot_plus_one == 0) return;
  const char* p = static_cast<const char*>(SlotAddress(slot_plus_one - 1));
  const size_t bytes = SlotBytes();
  for (size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(p + offset);
  __builtin_prefetch(p + bytes - 1);  // the slot need not start on a cache line
}

void FeatureTable::PrefetchForRecord(const Event& event, uint32_t located) const {
  if (keys_ < keys_max_) return;  // no eviction: Record touches only the key's own slot
  if (located != kNone || KeyOf(event, spec_.key) == 0) return;
  for (uint32_t i = 0; i < kEvictionCandidates; ++i) {
    __builtin_prefetch(SlotAddress((cursor_ + i) % keys_));
  }
}

uint32_t FeatureTable::Find(u128 key, uint32_t asset, uint64_t hash) const {
  const uint32_t tag = TagOf(hash);
  const size_t mask = index_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const IndexEntry entry = index_[i];
    if (entry.slot_plus_one == 0) return kNone;
    if (entry.tag != tag) continue;
    const Header& h = HeaderOf(entry.slot_plus_one - 1);
    if (h.key_low == Low64(key) && h.key_high == High64(key) && h.asset == asset) {
      return entry.slot_plus_one - 1;
    }
  }
}

uint32_t FeatureTable::Locate(const Event& event, uint64_t hash) const {
  const u128 key = KeyOf(event, spec_.key);
  return key == 0 ? kNone : Find(key, AssetOf(event), hash);
}

void FeatureTable::IndexSlot(uint32_t slot, uint64_t hash) {
  const size_t mask = index_.size() - 1;
  size_t i = hash & mask;
  while (index_[i].slot_plus_one != 0) i = (i + 1) & mask;
  index_[i] = IndexEntry{slot + 1, TagOf(hash)};
}

void FeatureTable::RebuildIndex(size_t index_slots) {
  index_ = ZeroedHugePageArray<IndexEntry>(index_slots);
  if (keys_ >= index_slots / kIndexEntriesPerHugePageAdvice) index_.AdviseHugePages();
  for (uint32_t slot = 0; slot < keys_; ++slot) {
    const Header& h = HeaderOf(slot);
    IndexSlot(slot, Hash(MakeU128(h.key_high, h.key_low), h.asset));
  }
}

void FeatureTable::EraseFromIndex(uint32_t slot) {
  const Header& h = HeaderOf(slot);
  const size_t mask = index_.size() - 1;
  size_t i = Hash(MakeU128(h.key_high, h.key_low), h.asset) & mask;
  while (index_[i].slot_plus_one != slot + 1) i = (i + 1) & mask;
  // Backward-shift deletion: move later entries of the probe run into the hole.
  for (size_t j = (i + 1) & mask; index_[j].slot_plus_one != 0; j = (j + 1) & mask) {
    const Header& other = HeaderOf(index_[j].slot_plus_one - 1);
    const size_t home = Hash(MakeU128(other.key_high, other.key_low), other.asset) & mask;
    // The entry at j may fill the hole at i if its home is not cyclically in (i, j].
    const bool home_in_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!home_in_between) {
      index_[i] = index_[j];
      i = j;
    }
  }
  index_[i] = IndexEntry{};
}

uint32_t FeatureTable::AppendSlot() {
  if (spec_.kind == FeatureKind::count) count_slots_.emplace_back();
  if (spec_.kind == FeatureKind::sum) sum_slots_.emplace_back();
  if (spec_.kind == FeatureKind::distinct) distinct_slots_.emplace_back();
  return keys_++;
}

// Sampled LRU: of the candidates at the cursor, the one whose newest bucket is oldest (the first
// of equals); the cursor moves past it.
uint32_t FeatureTable::EvictionVictim() const {
  uint32_t victim = cursor_;
  for (uint32_t i = 1; i < kEvictionCandidates && i < keys_; ++i) {
    const uint32_t slot = (cursor_ + i) % keys_;
    if (HeaderOf(slot).head_bucket < HeaderOf(victim).head_bucket) victim = slot;
  }
  return victim;
}

void FeatureTable::ClearSlot(uint32_t slot) {
  ReleaseWide(slot);
  if (spec_.kind == FeatureKind::count) count_slots_[slot] = CountSlot{};
  if (spec_.kind == FeatureKind::sum) sum_slots_[slot] = SumSlot{};
  if (spec_.kind == FeatureKind::distinct) distinct_slots_[slot] = DistinctSlot{};
}

// A new key: a fresh slot while under keys_max, else an evicted key's slot.
uint32_t FeatureTable::Insert(u128 key, uint32_t asset, uint64_t hash, uint64_t bucket) {
  uint32_t slot = 0;
  if (keys_ < keys_max_) {
    if ((size_t{keys_} + 1) * 2 > index_.size()) RebuildIndex(index_.size() * 2);
    slot = AppendSlot();
    // Dense enough that nearly every 4 KiB page of the index holds an entry: huge pages from
    // now on (fewer TLB misses; a sparse index would pay 2 MiB per entry touched).
    if (keys_ == index_.size() / kIndexEntriesPerHugePageAdvice) index_.AdviseHugePages();
  } else {
    slot = EvictionVictim();
    cursor_ = (slot + 1) % keys_;
    EraseFromIndex(slot);
  }
  ClearSlot(slot);
  Header& h = HeaderOf(slot);
  h.key_low = Low64(key);
  h.key_high = High64(key);
  h.asset = asset;
  h.head_bucket = bucket;
  IndexSlot(slot, hash);
  return slot;
}

// Moves the ring's head forward to `bucket`, clearing the buckets it passes over. A distinct
// slot has no ring (each value keeps its own bucket: its age grows instead); a head that moves a
// whole window or more clears the ring at once (the common case for a key seen rarely).
void FeatureTable::Advance(uint32_t slot, uint64_t bucket) {
  Header& h = HeaderOf(slot);
  if (bucket <= h.head_bucket) return;
  const uint64_t head = h.head_bucket;
  h.head_bucket = bucket;
  if (spec_.kind == FeatureKind::distinct) return AgeDistincts(slot, head, bucket - head);
  if (bucket - head >= kWindowBuckets) return ClearRing(slot);
  for (uint64_t b = head + 1; b <= bucket; ++b) {
    const size_t position = static_cast<size_t>(b % kWindowBuckets);
    if (spec_.kind == FeatureKind::count) count_slots_[slot].counts[position] = 0;
    if (spec_.kind == FeatureKind::sum) sum_slots_[slot].sums[position] = 0;
    if (h.wide_plus_one == 0) continue;
    if (spec_.kind == FeatureKind::count) wide_counts_[h.wide_plus_one - 1][position] = 0;
    if (spec_.kind == FeatureKind::sum) wide_sums_[h.wide_plus_one - 1][position] = 0;
  }
}

// Zeroes every bucket of a count or sum key's ring (narrow and, if the key is wide, wide).
void FeatureTable::ClearRing(uint32_t slot) {
  const uint32_t wide = HeaderOf(slot).wide_plus_one;
  if (spec_.kind == FeatureKind::count) {
    count_slots_[slot].counts = {};
    if (wide != 0) wide_counts_[wide - 1] = {};
  } else {
    TPW_ASSERT(spec_.kind == FeatureKind::sum);
    sum_slots_[slot].sums = {};
    if (wide != 0) wide_sums_[wide - 1] = {};
  }
}

void FeatureTable::Add(uint32_t slot, uint64_t bucket, const Event& event) {
  const size_t position = static_cast<size_t>(bucket % kWindowBuckets);
  if (spec_.kind == FeatureKind::count) {
    AddToCount(slot, position);
  } else if (spec_.kind == FeatureKind::sum) {
    AddToSum(slot, position, event.amount.minor());
  } else {
    AddDistinct(slot, bucket, Fingerprint(KeyOf(event, spec_.value)));
  }
}

// Remembers the value with its newest bucket (`bucket` is at most kWindowBuckets - 1 behind the
// head); when all entries are taken, replaces the one seen longest ago: the first of the
// oldest, empty ones before any. The count saturates at kDistinctValuesMax.
void FeatureTable::AddDistinct(uint32_t slot, uint64_t bucket, uint64_t fingerprint) {
  DistinctSlot& d = distinct_slots_[slot];
  size_t target = 0;
  while (target < kDistinctValuesMax && d.fingerprints[target] != fingerprint) ++target;
  const bool seen = target < kDistinctValuesMax;
  if (d.header.wide_plus_one != 0) {
    WideDistincts& buckets_plus_one = wide_distincts_[d.header.wide_plus_one - 1];
    if (!seen) {
      target = 0;
      for (size_t i = 1; i < kDistinctValuesMax; ++i) {
        if (buckets_plus_one[i] < buckets_plus_one[target]) target = i;
      }
    }
    const uint64_t kept = seen ? buckets_plus_one[target] : 0;
    buckets_plus_one[target] = std::max(kept, bucket + 1);
  } else {
    TPW_ASSERT(d.header.head_bucket - bucket < kWindowBuckets);
    const auto age_plus_one = static_cast<uint16_t>(d.header.head_bucket - bucket + 1);
    AgesPlusOne& ages = d.ages_plus_one;
    if (!seen) {
      // Oldest first: an empty entry's 0 wraps to the largest age of all.
      target = 0;
      for (size_t i = 1; i < kDistinctValuesMax; ++i) {
        if (static_cast<uint16_t>(ages[i] - 1) > static_cast<uint16_t>(ages[target] - 1)) {
          target = i;
        }
      }
    }
    ages[target] = seen ? std::min(ages[target], age_plus_one) : age_plus_one;
  }
  d.fingerprints[target] = fingerprint;
}

// The head moved `buckets` on from `old_head`: every value is that much older. A key with a
// value that would then be more than kDistinctAgeMax behind moves its buckets to the side
// (absolute, exact) and keeps them there until it is evicted.
void FeatureTable::AgeDistincts(uint32_t slot, uint64_t old_head, uint64_t buckets) {
  DistinctSlot& d = distinct_slots_[slot];
  if (d.header.wide_plus_one != 0) return;  // absolute buckets: nothing moves
  uint16_t oldest_plus_one = 0;
  for (const uint16_t age_plus_one : d.ages_plus_one) {
    oldest_plus_one = std::max(oldest_plus_one, age_plus_one);
  }
  if (oldest_plus_one == 0) return;  // no value yet
  if (buckets > kDistinctAgeMax + 1 - oldest_plus_one) {
    WideDistincts buckets_plus_one{};
    for (size_t i = 0; i < kDistinctValuesMax; ++i) {
      const uint16_t age_plus_one = d.ages_plus_one[i];
      // bucket = old_head - age; stored plus one (0 stays empty).
      buckets_plus_one[i] = age_plus_one == 0 ? 0 : old_head - age_plus_one + 2;
    }
    WidenDistincts(slot) = buckets_plus_one;
    return;
  }
  const auto step = static_cast<uint16_t>(buckets);
  for (uint16_t& age_plus_one : d.ages_plus_one) {
    if (age_plus_one != 0) age_plus_one = static_cast<uint16_t>(age_plus_one + step);
  }
}

// u64 buckets while every bucket fits; the first sum that would not moves the key's ring to
// u128 (wide_sums_), where it saturates at 2^128 - 1 as before. Exact either way.
void FeatureTable::AddToSum(uint32_t slot, size_t position, u128 amount) {
  const uint32_t wide = sum_slots_[slot].header.wide_plus_one;
  if (wide == 0) {
    uint64_t& sum = sum_slots_[slot].sums[position];
    uint64_t added = 0;
    if (High64(amount) == 0 && !__builtin_add_overflow(sum, Low64(amount), &added)) {
      sum = added;
      return;
    }
    const u128 total = SaturatingAdd(sum, amount);
    Widen(slot)[position] = total;
    return;
  }
  u128& sum = wide_sums_[wide - 1][position];
  sum = SaturatingAdd(sum, amount);
}

// u16 buckets while every bucket fits; the first count that would not moves the key's ring to
// u32 (wide_counts_), where it saturates at 2^32 - 1 as before. Exact either way.
void FeatureTable::AddToCount(uint32_t slot, size_t position) {
  const uint32_t wide = count_slots_[slot].header.wide_plus_one;
  if (wide == 0) {
    uint16_t& count = count_slots_[slot].counts[position];
    if (count != UINT16_MAX) {
      ++count;
      return;
    }
    WidenCounts(slot)[position] = uint32_t{UINT16_MAX} + 1;
    return;
  }
  uint32_t& count = wide_counts_[wide - 1][position];
  if (count != UINT32_MAX) ++count;
}

// An entry of the table's wide vector (wide_sums_ or wide_counts_, by kind) for a key to use.
uint32_t FeatureTable::TakeWideEntry() {
  if (!wide_free_.empty()) {
    const uint32_t entry = wide_free_.back();
    wide_free_.pop_back();
    return entry;
  }
  if (spec_.kind == FeatureKind::count) {
    wide_counts_.emplace_back();
    return static_cast<uint32_t>(wide_counts_.size() - 1);
  }
  if (spec_.kind == FeatureKind::distinct) {
    wide_distincts_.emplace_back();
    return static_cast<uint32_t>(wide_distincts_.size() - 1);
  }
  wide_sums_.emplace_back();
  return static_cast<uint32_t>(wide_sums_.size() - 1);
}

FeatureTable::WideCounts& FeatureTable::WidenCounts(uint32_t slot) {
  TPW_ASSERT(spec_.kind == FeatureKind::count);
  TPW_ASSERT(count_slots_[slot].header.wide_plus_one == 0);
  const uint32_t entry = TakeWideEntry();
  CountSlot& c = count_slots_[slot];
  WideCounts& wide = wide_counts_[entry];
  for (size_t i = 0; i < kWindowBuckets; ++i) wide[i] = c.counts[i];
  c.counts = {};
  c.header.wide_plus_one = entry + 1;
  return wide;
}

uint32_t FeatureTable::CountBucket(uint32_t slot, size_t position) const {
  const uint32_t wide = count_slots_[slot].header.wide_plus_one;
  return wide == 0 ? uint32_t{count_slots_[slot].counts[position]}
                   : wide_counts_[wide - 1][position];
}

FeatureTable::WideSums& FeatureTable::Widen(uint32_t slot) {
  TPW_ASSERT(spec_.kind == FeatureKind::sum);
  TPW_ASSERT(sum_slots_[slot].header.wide_plus_one == 0);
  const uint32_t entry = TakeWideEntry();
  SumSlot& s = sum_slots_[slot];
  WideSums& wide = wide_sums_[entry];
  for (size_t i = 0; i < kWindowBuckets; ++i) wide[i] = s.sums[i];
  s.sums = {};
  s.header.wide_plus_one = entry + 1;
  return wide;
}

// The side entry a distinct key's buckets move to (the caller fills it); its ages are cleared.
FeatureTable::WideDistincts& FeatureTable::WidenDistincts(uint32_t slot) {
  TPW_ASSERT(spec_.kind == FeatureKind::distinct);
  TPW_ASSERT(distinct_slots_[slot].header.wide_plus_one == 0);
  const uint32_t entry = TakeWideEntry();
  DistinctSlot& d = distinct_slots_[slot];
  d.ages_plus_one = {};
  d.header.wide_plus_one = entry + 1;
  return wide_distincts_[entry];
}

uint64_t FeatureTable::DistinctBucketPlusOne(uint32_t slot, size_t value) const {
  const DistinctSlot& d = distinct_slots_[slot];
  if (d.header.wide_plus_one != 0) return wide_distincts_[d.header.wide_plus_one - 1][value];
  const uint16_t age_plus_one = d.ages_plus_one[value];
  return age_plus_one == 0 ? 0 : d.header.head_bucket - age_plus_one + 2;
}

void FeatureTable::ReleaseWide(uint32_t slot) {
  Header& h = HeaderOf(slot);
  if (h.wide_plus_one == 0) return;
  wide_free_.push_back(h.wide_plus_one - 1);
  h.wide_plus_one = 0;
}

u128 FeatureTable::SumBucket(uint32_t slot, size_t position) const {
  const uint32_t wide = sum_slots_[slot].header.wide_plus_one;
  return wide == 0 ? u128{sum_slots_[slot].sums[position]} : wide_sums_[wide - 1][position];
}

void FeatureTable::Record(const Event& event, Timestamp now) {
  const uint64_t hash = HashOf(event);
  RecordAt(Locate(event, hash), hash, event, now);
}

void FeatureTable::RecordAt(uint32_t slot, uint64_t hash, const Event& event, Timestamp now) {
  const u128 key = KeyOf(event, spec_.key);
  if (key == 0) return;  // the event has no such key (e.g. no terminal)
  if (spec_.kind == FeatureKind::distinct && KeyOf(event, spec_.value) == 0) return;
  const uint64_t bucket = now.ns / bucket_ns_;
  if (slot == kNone) {
    slot = Insert(key, AssetOf(event), hash, bucket);
  } else {
    if (HeaderOf(slot).head_bucket >= bucket + kWindowBuckets) return;  // already expired
    Advance(slot, bucket);
  }
  Add(slot, bucket, event);
}

// The ring holds buckets (head - 15 .. head]; the window at now_bucket is (now - 15 .. now].
// Their overlap is one run of buckets, summed without a check per bucket.
u128 FeatureTable::Sum(uint32_t slot, uint64_t now_bucket) const {
  constexpr uint64_t kSpan = kWindowBuckets - 1;
  const uint64_t head = HeaderOf(slot).head_bucket;
  const uint64_t first =
      std::max(head >= kSpan ? head - kSpan : 0, now_bucket >= kSpan ? now_bucket - kSpan : 0);
  const uint64_t last = std::min(head, now_bucket);
  if (first > last) return 0;
  if (spec_.kind == FeatureKind::count) {
    const uint32_t wide = count_slots_[slot].header.wide_plus_one;
    uint64_t total = 0;  // at most 16 x (2^32 - 1): no overflow
    if (wide == 0) {
      const Counts& counts = count_slots_[slot].counts;
      for (uint64_t b = first; b <= last; ++b) total += counts[b % kWindowBuckets];
      return total;
    }
    const WideCounts& counts = wide_counts_[wide - 1];
    for (uint64_t b = first; b <= last; ++b) total += counts[b % kWindowBuckets];
    return total;
  }
  const uint32_t wide = sum_slots_[slot].header.wide_plus_one;
  u128 total = 0;
  if (wide == 0) {  // at most 16 x (2^64 - 1): no overflow
    const Sums& sums = sum_slots_[slot].sums;
    for (uint64_t b = first; b <= last; ++b) total += sums[b % kWindowBuckets];
    return total;
  }
  const WideSums& sums = wide_sums_[wide - 1];
  for (uint64_t b = first; b <= last; ++b) total = SaturatingAdd(total, sums[b % kWindowBuckets]);
  return total;
}

u128 FeatureTable::Read(const Event& event, Timestamp now) const {
  return ReadAt(Locate(event), now);
}

u128 FeatureTable::ReadAt(uint32_t slot, Timestamp now) const {
  if (slot == kNone) return 0;
  const uint64_t now_bucket = now.ns / bucket_ns_;
  if (spec_.kind != FeatureKind::distinct) return Sum(slot, now_bucket);
  return CountDistinct(slot, now_bucket);
}

// The values whose bucket is in the window at now_bucket (now_bucket - 15 .. now_bucket): those
// whose age behind the head is in one run, counted without a branch per value.
u128 FeatureTable::CountDistinct(uint32_t slot, uint64_t now_bucket) const {
  const DistinctSlot& d = distinct_slots_[slot];
  if (d.header.wide_plus_one != 0) {
    uint32_t count = 0;
    for (const uint64_t bucket_plus_one : wide_distincts_[d.header.wide_plus_one - 1]) {
      if (bucket_plus_one != 0 && InWindow(bucket_plus_one - 1, now_bucket)) ++count;
    }
    return count;
  }
  const uint64_t head = d.header.head_bucket;
  uint32_t first = 1;                   // ages plus one counted: first .. first + span
  uint32_t span = kWindowBuckets - 1;
  if (now_bucket >= head) {
    const uint64_t ahead = now_bucket - head;
    if (ahead >= kWindowBuckets) return 0;
    span -= static_cast<uint32_t>(ahead);  // ages 0 .. 15 - ahead
  } else {
    const uint64_t behind = head - now_bucket;
    if (behind > kDistinctAgeMax) return 0;
    first += static_cast<uint32_t>(behind);  // ages behind .. behind + 15
  }
  uint32_t count = 0;  // an empty entry's 0 wraps below `first`: never counted
  for (const uint16_t age_plus_one : d.ages_plus_one) {
    count += uint32_t{age_plus_one} - first <= span ? 1 : 0;
  }
  return count;
}

// Layout of one table: u32 key count, u32 eviction cursor, then the keys in slot order; each
// key: u128 key, u32 asset, u64 head bucket, then kWindowBuckets u32 counts, kWindowBuckets
// u128 sums, or kDistinctValuesMax (u64 fingerprint, u64 bucket + 1) pairs.
void FeatureTable::Save(BinaryWriter& writer) const {
  writer.U32(keys_);
  writer.U32(cursor_);
  for (uint32_t slot = 0; slot < keys_; ++slot) SaveSlot(writer, slot);
}

void FeatureTable::SaveSlot(BinaryWriter& writer, uint32_t slot) const {
  const Header& h = HeaderOf(slot);
  writer.U128(MakeU128(h.key_high, h.key_low));
  writer.U32(h.asset);
  writer.U64(h.head_bucket);
  if (spec_.kind == FeatureKind::count) {
    for (size_t i = 0; i < kWindowBuckets; ++i) writer.U32(CountBucket(slot, i));
  } else if (spec_.kind == FeatureKind::sum) {
    for (size_t i = 0; i < kWindowBuckets; ++i) writer.U128(SumBucket(slot, i));
  } else {
    for (size_t i = 0; i < kDistinctValuesMax; ++i) {
      writer.U64(distinct_slots_[slot].fingerprints[i]);
      writer.U64(DistinctBucketPlusOne(slot, i));
    }
  }
}

bool FeatureTable::LoadKeys(BinaryReader& reader) {
  const uint32_t count = reader.U32();
  const uint32_t cursor = reader.U32();
  if (!reader.ok() || count > keys_max_) return false;
  // The cursor matters only once the table is full; a partly full table starts at 0.
  if (count == 0 ? cursor != 0 : cursor >= count) return false;
  // Past the presized capacity: sized for the keys loaded at once (no rehash per doubling).
  if (size_t{count} * 2 > index_.size()) RebuildIndex(std::bit_ceil(size_t{count} * 2));
  for (uint32_t i = 0; i < count; ++i) {
    if (!LoadSlot(reader)) return false;
  }
  cursor_ = cursor;
  return true;
}

bool FeatureTable::SkipKeys(BinaryReader& reader, FeatureKind kind) {
  const uint32_t count = reader.U32();
  reader.U32();  // the cursor
  size_t per_key = 16 + 4 + 8;  // key, asset, head bucket: as SaveSlot writes them
  if (kind == FeatureKind::count) per_key += kWindowBuckets * 4;
  if (kind == FeatureKind::sum) per_key += kWindowBuckets * 16;
  if (kind == FeatureKind::distinct) per_key += kDistinctValuesMax * 16;
  if (!reader.ok() || size_t{count} * per_key > reader.remaining()) return false;
  reader.Bytes(size_t{count} * per_key);
  return reader.ok();
}

bool FeatureTable::LoadSlot(BinaryReader& reader) {
  const u128 key = reader.U128();
  const uint32_t asset = reader.U32();
  const uint64_t head = reader.U64();
  if (!reader.ok() || key == 0 || (spec_.kind != FeatureKind::sum && asset != 0)) return false;
  const uint64_t hash = Hash(key, asset);
  if (Find(key, asset, hash) != kNone) return false;     // each key once
  const uint32_t slot = Insert(key, asset, hash, head);  // the next slot: loading never evicts
  if (spec_.kind == FeatureKind::count) {
    WideCounts counts{};
    bool wide = false;
    for (uint32_t& c : counts) {
      c = reader.U32();
      wide = wide || c > UINT16_MAX;
    }
    if (wide) {
      WidenCounts(slot) = counts;
    } else {
      for (size_t i = 0; i < kWindowBuckets; ++i) {
        count_slots_[slot].counts[i] = static_cast<uint16_t>(counts[i]);
      }
    }
  } else if (spec_.kind == FeatureKind::sum) {
    for (size_t i = 0; i < kWindowBuckets; ++i) AddToSum(slot, i, reader.U128());  // from 0
  } else if (!LoadDistincts(reader, slot, head)) {
    return false;
  }
  return reader.ok();
}

// A distinct key's values as SaveSlot wrote them; ages behind `head` unless one is too old.
bool FeatureTable::LoadDistincts(BinaryReader& reader, uint32_t slot, uint64_t head) {
  DistinctSlot& d = distinct_slots_[slot];
  WideDistincts buckets_plus_one{};
  bool wide = false;
  for (size_t i = 0; i < kDistinctValuesMax; ++i) {
    const uint64_t fingerprint = reader.U64();
    const uint64_t bucket_plus_one = reader.U64();
    // An entry is empty (both zero) or a fingerprint (odd) seen in a bucket the ring holds.
    const bool empty = fingerprint == 0 && bucket_plus_one == 0;
    const bool held = (fingerprint & 1) == 1 && bucket_plus_one != 0 && bucket_plus_one - 1 <= head;
    if (!empty && !held) return false;
    d.fingerprints[i] = fingerprint;
    buckets_plus_one[i] = bucket_plus_one;
    wide = wide || (held && head - (bucket_plus_one - 1) > kDistinctAgeMax);
  }
  if (wide) {
    WidenDistincts(slot) = buckets_plus_one;
    return true;
  }
  for (size_t i = 0; i < kDistinctValuesMax; ++i) {
    const uint64_t b = buckets_plus_one[i];
    d.ages_plus_one[i] = b == 0 ? 0 : static_cast<uint16_t>(head - (b - 1) + 1);
  }
  return true;
}

}  // namespace tpw::risk
