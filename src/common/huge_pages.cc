#include "common/huge_pages.h"

#include <sys/mman.h>

#include <cstdlib>

#include "common/assert.h"

namespace tpw {

void* AllocateHugePageBacked(size_t bytes) {
  const size_t rounded = HugePageRounded(bytes);
  void* memory = std::aligned_alloc(kHugePageBytes, rounded);
  TPW_ASSERT_MSG(memory != nullptr, "out of memory for a large table");
  madvise(memory, rounded, MADV_HUGEPAGE);  // a hint; failure is harmless
  return memory;
}

void FreeHugePageBacked(void* p) noexcept { std::free(p); }

}  // namespace tpw
