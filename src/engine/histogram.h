// Power-of-two histograms for the engine's metrics (sequencer batch sizes, journal sync
// latency): cheap enough for the hot path and fixed in shape, so a scrape can sum and render
// them without knowing what was recorded.
//
// Thread-safety: one writer thread per histogram (Record uses relaxed load + store, no locked
// instruction); any thread may take a Snapshot, which sees each bucket at some recent value.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace tpw::engine {

// Bucket i < kHistogramBuckets - 1 counts values v with 2^(i-1) < v <= 2^i (bucket 0: v <= 1);
// the last bucket counts everything larger (+Inf).
inline constexpr size_t kHistogramBuckets = 32;

struct HistogramSnapshot {
  std::array<uint64_t, kHistogramBuckets> buckets{};  // not cumulative
  uint64_t count = 0;
  uint64_t sum = 0;  // wraps after 2^64 (rendered as a counter, so a reset is visible)
};

// The bucket of `value`: the smallest i with value <= 2^i, capped at the +Inf bucket.
constexpr size_t HistogramBucketOf(uint64_t value) {
  if (value <= 1) return 0;
  const auto bits = static_cast<size_t>(64 - std::countl_zero(value - 1));
  return bits < kHistogramBuckets - 1 ? bits : kHistogramBuckets - 1;
}

class Pow2Histogram {
 public:
  // Only ever from the one writer thread.
  void Record(uint64_t value) {
    Bump(buckets_[HistogramBucketOf(value)], 1);
    Bump(count_, 1);
    Bump(sum_, value);
  }

  HistogramSnapshot Snapshot() const {
    HistogramSnapshot out;
    for (size_t i = 0; i < kHistogramBuckets; ++i) {
      out.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    }
    out.count = count_.load(std::memory_order_relaxed);
    out.sum = sum_.load(std::memory_order_relaxed);
    return out;
  }

 private:
  static void Bump(std::atomic<uint64_t>& counter, uint64_t by) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::array<std::atomic<uint64_t>, kHistogramBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_{0};
};

}  // namespace tpw::engine
