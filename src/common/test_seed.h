// Seeds for randomized tests: fresh each run, printed so any failure can be reproduced.
//
// Test-only header (not part of tpw_common's API). Set TPW_TEST_SEED=N to replay a run.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace tpw::test_support {

// TPW_TEST_SEED when set to a decimal u64; otherwise a fresh seed from the OS. Always printed.
inline uint64_t TestSeed(std::string_view test_name) {
  uint64_t seed = 0;
  const char* from_env = std::getenv("TPW_TEST_SEED");
  const std::string_view text = from_env != nullptr ? from_env : "";
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
    seed = SystemRandom().NextU64();
  }
  std::printf("[ seed     ] %.*s: reproduce with TPW_TEST_SEED=%llu\n",
              static_cast<int>(test_name.size()), test_name.data(),
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  return seed;
}

inline std::string SeedTrace(uint64_t seed) {
  return "reproduce with TPW_TEST_SEED=" + std::to_string(seed);
}

}  // namespace tpw::test_support
