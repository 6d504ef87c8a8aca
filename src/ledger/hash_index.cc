#include "ledger/hash_index.h"

#include <bit>
#include <cstring>

#include "common/huge_pages.h"

namespace tpw::ledger {

static uint64_t CapacityFor(uint64_t entries) {
  // Capacity such that `entries` stays under 3/4 load.
  const uint64_t wanted = entries + entries / 3 + 1;
  return std::bit_ceil(wanted < 16 ? uint64_t{16} : wanted);
}

HashIndex::Slots HashIndex::AllocateSlots(uint64_t capacity) {
  const size_t bytes = capacity * sizeof(Slot);
  void* memory = AllocateHugePageBacked(bytes);
  std::memset(memory, 0, bytes);            // key 0 = empty
  return Slots(static_cast<Slot*>(memory));
}

HashIndex::HashIndex(uint64_t expected_entries) {
  const uint64_t capacity = CapacityFor(expected_entries);
  slots_ = AllocateSlots(capacity);
  mask_ = capacity - 1;
  grow_at_ = capacity / 4 * 3;
}

void HashIndex::Insert(u128 key, uint64_t value) {
  TPW_ASSERT(key != 0);
  if (size_ >= grow_at_) Grow();
  for (uint64_t i = HomeSlot(key);; i = (i + 1) & mask_) {
    Slot& slot = slots_[i];
    TPW_ASSERT_MSG(!slot.matches(key), "HashIndex::Insert of a present key");
    if (slot.empty()) {
      slot = Slot{Low64(key), High64(key), value};
      ++size_;
      return;
    }
  }
}

void HashIndex::Erase(u128 key) {
  uint64_t hole = HomeSlot(key);
  while (!slots_[hole].matches(key)) {
    TPW_ASSERT_MSG(!slots_[hole].empty(), "HashIndex::Erase of a missing key");
    hole = (hole + 1) & mask_;
  }
  // Backward-shift: move later members of the probe run into the hole when their home slot
  // does not lie (cyclically) between the hole and their current slot.
  for (uint64_t next = (hole + 1) & mask_; !slots_[next].empty(); next = (next + 1) & mask_) {
    const uint64_t home = HomeSlot(MakeU128(slots_[next].key_high, slots_[next].key_low));
    const uint64_t distance_to_next = (next - home) & mask_;
    const uint64_t distance_to_hole = (hole - home) & mask_;
    if (distance_to_hole < distance_to_next) {
      slots_[hole] = slots_[next];
      hole = next;
    }
  }
  slots_[hole] = Slot{0, 0, 0};
  --size_;
}

void HashIndex::Grow() {
  const uint64_t old_capacity = mask_ + 1;
  Slots old = std::move(slots_);
  const uint64_t capacity = old_capacity * 2;
  slots_ = AllocateSlots(capacity);
  mask_ = capacity - 1;
  grow_at_ = capacity / 4 * 3;
  for (uint64_t j = 0; j < old_capacity; ++j) {
    const Slot& slot = old[j];
    if (slot.empty()) continue;
    for (uint64_t i = HomeSlot(MakeU128(slot.key_high, slot.key_low));; i = (i + 1) & mask_) {
      if (slots_[i].empty()) {
        slots_[i] = slot;
        break;
      }
    }
  }
}

void HashIndex::Save(StateSink& sink) const {
  sink.U64(capacity());
  sink.U64(size_);
  sink.Write({reinterpret_cast<const uint8_t*>(slots_.get()), capacity() * sizeof(Slot)});
}

bool HashIndex::Load(StateSource& source) {
  uint64_t capacity = 0;
  uint64_t size = 0;
  if (!source.U64(capacity) || !source.U64(size)) return false;
  const bool power_of_two = capacity >= 16 && (capacity & (capacity - 1)) == 0;
  if (!power_of_two || capacity > source.remaining() / sizeof(Slot) || size > capacity / 4 * 3) {
    return false;
  }
  Slots slots = AllocateSlots(capacity);
  if (!source.Read({reinterpret_cast<uint8_t*>(slots.get()), capacity * sizeof(Slot)})) {
    return false;
  }
  uint64_t occupied = 0;
  for (uint64_t i = 0; i < capacity; ++i) occupied += slots[i].empty() ? 0u : 1u;
  if (occupied != size) return false;
  slots_ = std::move(slots);
  mask_ = capacity - 1;
  size_ = size;
  grow_at_ = capacity / 4 * 3;
  return true;
}

}  // namespace tpw::ledger
