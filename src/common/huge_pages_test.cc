#include "common/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace tpw {
namespace {

TEST(HugePagesTest, LargeTablesAreHugePageAlignedAndSmallOnesAreOrdinary) {
  std::vector<uint64_t, HugePageAllocator<uint64_t>> large(kHugePageBytes / sizeof(uint64_t) + 1, 7);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(large.data()) % kHugePageBytes, 0u);
  EXPECT_EQ(large.back(), 7u);
  std::vector<uint64_t, HugePageAllocator<uint64_t>> small(10, 3);
  EXPECT_EQ(small[9], 3u);
  small = large;  // copy between sizes: allocate/deallocate on both paths
  EXPECT_EQ(small.size(), large.size());
}

TEST(HugePagesTest, RoundsUpToWholeHugePages) {
  EXPECT_EQ(HugePageRounded(1), kHugePageBytes);
  EXPECT_EQ(HugePageRounded(kHugePageBytes), kHugePageBytes);
  EXPECT_EQ(HugePageRounded(kHugePageBytes + 1), 2 * kHugePageBytes);
}

}  // namespace
}  // namespace tpw
