// Shared by the fuzz targets: FUZZ_CHECK, an always-on check of a property the target promises
// (a round trip, a bound). A failure prints the condition and aborts, which libFuzzer reports as
// a crash and saves the input that caused it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

namespace tpw::fuzz {

inline std::span<const uint8_t> AsSpan(const uint8_t* data, size_t size) { return {data, size}; }

inline std::string_view AsText(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace tpw::fuzz
