// Memory for large, randomly accessed tables (hash indexes, velocity state): allocations of at
// least one huge page are 2 MiB aligned, rounded up to whole huge pages and advised
// MADV_HUGEPAGE, so random lookups miss the TLB far less (with 4 KiB pages a 100 MiB table
// costs a page walk on nearly every access). Smaller ones use operator new. The advice is a
// hint: where transparent huge pages are off it changes nothing.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "common/assert.h"

namespace tpw {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

inline constexpr size_t kSmallPageBytes = 4096;

// Writes a zero byte on every 4 KiB page of [p, p + bytes) whose contents are unused: the kernel
// allocates and zeroes them now (setup) instead of on the first real write (a page fault in the
// middle of the work). Where huge pages back the range, the first write per 2 MiB does it all.
inline void FaultInPages(void* p, size_t bytes) {
  auto* memory = static_cast<volatile char*>(p);
  for (size_t offset = 0; offset < bytes; offset += kSmallPageBytes) memory[offset] = 0;
}

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
      return static_cast<T*>(::operator new (bytes, std::align_val_t{alignof(T)}));
    }
    return static_cast<T*>(AllocateHugePageBacked(bytes));
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < kHugePageBytes) {
      ::operator delete (p, std::align_val_t{alignof(T)});
    } else {
      FreeHugePageBacked(p);
    }
  }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

// A fixed-size array of T that starts all zero and costs nothing until written: fresh anonymous
// pages (mmap) that the kernel zeroes on first touch, 2 MiB aligned. For presized tables that a
// small user mostly never writes (the risk velocity index): an array that is zero-filled up
// front pays for every page at once, even when only a few entries are ever used. Huge pages are
// the owner's call (AdviseHugePages, once the table is dense enough that every page would be
// touched anyway): a huge page faults in, and is zeroed, 2 MiB at a time.
template <typename T>
class ZeroedHugePageArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  ZeroedHugePageArray() = default;
  explicit ZeroedHugePageArray(size_t count)
      : size_(count), bytes_(HugePageRounded(count * sizeof(T))) {
    if (count == 0) return;
    // Map one huge page more than needed, then unmap the parts before and after the 2 MiB
    // aligned range, so every huge page of the array can be backed by one.
    const size_t mapped = bytes_ + kHugePageBytes;
    void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TPW_ASSERT_MSG(raw != MAP_FAILED, "out of memory for a large table");
    const auto start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (start + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    if (aligned > start) munmap(raw, aligned - start);
    const size_t tail = start + mapped - (aligned + bytes_);
    if (tail > 0) munmap(reinterpret_cast<void*>(aligned + bytes_), tail);
    data_ = reinterpret_cast<T*>(aligned);
  }
  void AdviseHugePages() {
    if (data_ != nullptr) madvise(data_, bytes_, MADV_HUGEPAGE);  // a hint; failure is harmless
  }
  ZeroedHugePageArray(ZeroedHugePageArray&& other) noexcept { Swap(other); }
  ZeroedHugePageArray& operator=(ZeroedHugePageArray&& other) noexcept {
    ZeroedHugePageArray old(std::move(*this));
    Swap(other);
    return *this;
  }
  ~ZeroedHugePageArray() {
    if (data_ != nullptr) munmap(data_, bytes_);
  }

  size_t size() const { return size_; }
  size_t bytes() const { return bytes_; }  // mapped (whole huge pages), not necessarily touched
  // Faults every page in now (setup): for an array that will be dense, so the first writes
  // while working do not each wait for the kernel to zero a page. Contents stay all zero.
  void FaultIn() {
    if (data_ != nullptr) FaultInPages(data_, bytes_);
  }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  void Swap(ZeroedHugePageArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(bytes_, other.bytes_);
  }
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

}  // namespace tpw
