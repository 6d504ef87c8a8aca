// Memory for large, randomly accessed tables (hash indexes, velocity state): allocations of at
// least one huge page are 2 MiB aligned, rounded up to whole huge pages and advised
// MADV_HUGEPAGE, so random lookups miss the TLB far less (with 4 KiB pages a 100 MiB table
// costs a page walk on nearly every access). Smaller ones use operator new. The advice is a
// hint: where transparent huge pages are off it changes nothing.
#pragma once

#include <cstddef>
#include <new>

namespace tpw {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// `bytes` rounded up to whole huge pages.
inline size_t HugePageRounded(size_t bytes) {
  return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
}

// HugePageRounded(bytes) bytes, 2 MiB aligned and advised huge pages; asserts on out of memory.
// Release with FreeHugePageBacked (it is std::free).
void* AllocateHugePageBacked(size_t bytes);
void FreeHugePageBacked(void* p) noexcept;

// std::allocator for std::vector tables: huge pages from one huge page up.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) {
      return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
    }
    return static_cast<T*>(AllocateHugePageBacked(bytes));
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < kHugePageBytes) {
      ::operator delete(p, std::align_val_t{alignof(T)});
    } else {
      FreeHugePageBacked(p);
    }
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

}  // namespace tpw
