// ChunkedVector<T>: an append-only array in fixed 2 MiB chunks. Growth never copies or moves
// existing elements (no latency spikes from reallocation), and each chunk is a transparent
// huge page candidate (fewer TLB misses on large in-memory tables: the ledger's store and
// indexes, risk velocity slots). Snapshot encoding of a ChunkedVector: ledger/chunked.h.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <memory>
#include <type_traits>
#include <vector>

#include "common/assert.h"
#include "common/huge_pages.h"

namespace tpw {

template <typename T>
class ChunkedVector {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  static constexpr size_t kChunkBytes = size_t{2} << 20;
  static constexpr size_t kPerChunk = kChunkBytes / sizeof(T);

  void push_back(const T& value) {
    if (size_ == chunks_.size() * kPerChunk) AddChunk();
    chunks_[size_ / kPerChunk].get()[size_ % kPerChunk] = value;
    ++size_;
  }
  // push_back with non-temporal stores where available: the element goes to memory without
  // first reading its cache lines in and without displacing cached data. For append-only logs
  // that are rarely read back soon (the in-memory store's transfer bodies). The calling thread
  // sees the element at once; another thread needs a fence, as for any hand-off.
  void push_back_streaming(const T& value) {
#if defined(__SSE2__)
    if constexpr (sizeof(T) % 16 == 0 && alignof(T) >= 16) {
      if (size_ == chunks_.size() * kPerChunk) AddChunk();
      auto* to = reinterpret_cast<__m128i*>(&chunks_[size_ / kPerChunk].get()[size_ % kPerChunk]);
      const auto* from = reinterpret_cast<const char*>(&value);
      for (size_t i = 0; i < sizeof(T) / 16; ++i) {
        __m128i part;
        std::memcpy(&part, from + 16 * i, 16);
        _mm_stream_si128(to + i, part);
      }
      ++size_;
      return;
    }
#endif
    push_back(value);
  }
  void pop_back() {
    TPW_ASSERT(size_ > 0);
    --size_;
  }
  void resize_down(size_t count) {
    TPW_ASSERT(count <= size_);
    size_ = count;
  }
  const T& operator[](size_t i) const {
    TPW_ASSERT(i < size_);
    return chunks_[i / kPerChunk].get()[i % kPerChunk];
  }
  T& operator[](size_t i) {
    TPW_ASSERT(i < size_);
    return chunks_[i / kPerChunk].get()[i % kPerChunk];
  }
  size_t size() const { return size_; }
  // Allocates and faults in chunks up front for `count` elements: setup, not steady state.
  // Every 4 KiB page of a new chunk is written once, so the chunk is resident even where
  // transparent huge pages are off (AddChunk's one touch then faults in a single page).
  void Reserve(size_t count) {
    while (chunks_.size() * kPerChunk < count) {
      AddChunk();
      FaultInPages(chunks_.back().get(), kChunkBytes);
    }
  }

  // Appends a value-initialized element.
  T& emplace_back() {
    if (size_ == chunks_.size() * kPerChunk) AddChunk();
    T* slot = &chunks_[size_ / kPerChunk].get()[size_ % kPerChunk];
    *slot = T{};
    ++size_;
    return *slot;
  }
  // Elements the allocated chunks hold.
  size_t capacity() const { return chunks_.size() * kPerChunk; }

  // Raw access for serialization: chunk `c`'s memory (kPerChunk elements), and a size change
  // to `count` elements whose contents the caller then writes through chunk_data.
  T* chunk_data(size_t c) { return chunks_[c].get(); }
  const T* chunk_data(size_t c) const { return chunks_[c].get(); }
  void ResizeForOverwrite(size_t count) {
    Reserve(count);
    size_ = count;
  }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  void AddChunk() {
    static_assert(kChunkBytes == kHugePageBytes);
    void* memory = AllocateHugePageBacked(kChunkBytes);
    static_cast<char*>(memory)[0] = 0;            // fault the (huge) page in now
    chunks_.emplace_back(static_cast<T*>(memory));
  }
  std::vector<std::unique_ptr<T, Free>> chunks_;
  size_t size_ = 0;
};

}  // namespace tpw
