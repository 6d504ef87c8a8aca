#include "common/clock.h"

#include <sys/random.h>

#include <chrono>
#include <cstring>

#include "common/assert.h"

namespace tpw {

Timestamp SystemClock::Now() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
  TPW_ASSERT(ns > 0);
  return Timestamp{static_cast<uint64_t>(ns)};
}

uint64_t SystemClock::MonotonicNs() {
  const auto since = std::chrono::steady_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(since).count());
}

uint64_t Random::Uniform(uint64_t bound) {
  TPW_ASSERT(bound > 0);
  const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
  for (;;) {
    const uint64_t r = NextU64();
    if (r >= threshold) return r % bound;
  }
}

static uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

SeededRandom::SeededRandom(uint64_t seed) {
  for (uint64_t& s : state_) s = SplitMix64(seed);
}

static inline uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t SeededRandom::NextU64() {
  const uint64_t result = RotateLeft(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = RotateLeft(state_[3], 45);
  return result;
}

void SeededRandom::Fill(std::span<uint8_t> out) {
  size_t i = 0;
  while (i < out.size()) {
    const uint64_t r = NextU64();
    const size_t n = std::min<size_t>(8, out.size() - i);
    std::memcpy(out.data() + i, &r, n);
    i += n;
  }
}

uint64_t SystemRandom::NextU64() {
  uint64_t value = 0;
  Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&value), sizeof(value)));
  return value;
}

void SystemRandom::Fill(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    TPW_ASSERT_MSG(n > 0, "getrandom failed");
    done += static_cast<size_t>(n);
  }
}

}  // namespace tpw
