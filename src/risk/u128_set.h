// U128Set: a set of u128 values in one flat array (open addressing, linear probing, at most half
// full), for the named lists conditions read on every decision (`device in blocked_devices`).
// A lookup is one hash and, nearly always, one cache line: no bucket array to chase into nodes
// as std::unordered_set does. Insert and Erase keep working at run time (operators change lists
// while the service decides); Erase uses backward-shift deletion, so no tombstones accumulate.
//
// Zero is a value like any other (an id of 0 can be listed): the array marks free entries with
// 0 and the set keeps whether it holds 0 in a flag of its own.
//
// Not thread-safe: it belongs to one ListSet.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/assert.h"
#include "common/int128.h"

namespace tpw::risk {

class U128Set {
 public:
  bool Contains(u128 value) const {
    if (value == kEmpty) return has_zero_;
    if (values_.empty()) return false;
    for (size_t i = Home(value);; i = Next(i)) {
      if (values_[i] == value) return true;
      if (values_[i] == kEmpty) return false;
    }
  }
  // True when the value was added (false: it was already there).
  bool Insert(u128 value) {
    if (value == kEmpty) return !std::exchange(has_zero_, true);
    if ((nonzero_ + 1) * 2 > values_.size()) {
      Rehash(std::max<size_t>(kSlotsMin, values_.size() * 2));
    }
    size_t i = Home(value);
    for (; values_[i] != kEmpty; i = Next(i)) {
      if (values_[i] == value) return false;
    }
    values_[i] = value;
    ++nonzero_;
    return true;
  }
  // True when the value was there.
  bool Erase(u128 value) {
    if (value == kEmpty) return std::exchange(has_zero_, false);
    if (values_.empty()) return false;
    size_t i = Home(value);
    for (; values_[i] != value; i = Next(i)) {
      if (values_[i] == kEmpty) return false;
    }
    // Backward shift: move later entries of the probe run into the hole when their home allows.
    for (size_t j = Next(i); values_[j] != kEmpty; j = Next(j)) {
      const size_t home = Home(values_[j]);
      const bool home_in_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!home_in_between) {
        values_[i] = values_[j];
        i = j;
      }
    }
    values_[i] = kEmpty;
    --nonzero_;
    return true;
  }
  size_t size() const { return nonzero_ + (has_zero_ ? 1 : 0); }
  // The values in ascending order (for saving and showing).
  std::vector<u128> Sorted() const {
    std::vector<u128> sorted;
    sorted.reserve(size());
    if (has_zero_) sorted.push_back(0);
    for (u128 value : values_) {
      if (value != kEmpty) sorted.push_back(value);
    }
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }

 private:
  static constexpr u128 kEmpty = 0;  // marks a free entry; the value 0 itself is has_zero_
  static constexpr size_t kSlotsMin = 8;
  size_t Home(u128 value) const { return Mix(value) & (values_.size() - 1); }
  size_t Next(size_t i) const { return (i + 1) & (values_.size() - 1); }
  static uint64_t Mix(u128 v) {
    uint64_t x = Low64(v) ^ (High64(v) * 0x9e3779b97f4a7c15ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
  }
  void Rehash(size_t slots) {
    TPW_ASSERT(std::has_single_bit(slots) && slots >= 2 * (nonzero_ + 1));
    std::vector<u128> old = std::move(values_);
    values_.assign(slots, kEmpty);
    nonzero_ = 0;
    for (u128 value : old) {
      if (value != kEmpty) Insert(value);
    }
  }

  std::vector<u128> values_;  // a power of two entries (or none), at most half of them used
  size_t nonzero_ = 0;
  bool has_zero_ = false;
};

}  // namespace tpw::risk
