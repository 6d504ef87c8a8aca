// Clock and Random: time and randomness are interfaces so tests and the simulator can run the
// whole engine deterministically from one seed (DESIGN.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include "common/ids.h"

namespace tpw {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in nanoseconds since the Unix epoch. Not necessarily monotonic: the
  // sequencer makes timestamps strictly increasing on top of it.
  virtual Timestamp Now() = 0;
  // Monotonic nanoseconds for measuring durations.
  virtual uint64_t MonotonicNs() = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() override;
  uint64_t MonotonicNs() override;
};

// A clock that moves only when told: for tests and the simulator. A test moves it while the
// engine's threads read it, so the time is atomic (ThreadSanitizer saw the race).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : ns_(start.ns) {}
  Timestamp Now() override { return Timestamp{ns_.load()}; }
  uint64_t MonotonicNs() override { return ns_.load(); }
  void Advance(uint64_t ns) { ns_.fetch_add(ns); }
  void Set(Timestamp t) { ns_.store(t.ns); }

 private:
  std::atomic<uint64_t> ns_;
};

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t NextU64() = 0;
  virtual void Fill(std::span<uint8_t> out) = 0;
  // Uniform in [0, bound); bound > 0. Uses rejection so there is no modulo bias.
  uint64_t Uniform(uint64_t bound);
  // True with probability numerator/denominator.
  bool Chance(uint64_t numerator, uint64_t denominator) {
    return Uniform(denominator) < numerator;
  }
};

// xoshiro256** seeded through splitmix64: same seed, same sequence, on every machine.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed);
  uint64_t NextU64() override;
  void Fill(std::span<uint8_t> out) override;

 private:
  uint64_t state_[4];
};

// The operating system's CSPRNG (getrandom). For keys and nonces.
class SystemRandom final : public Random {
 public:
  uint64_t NextU64() override;
  void Fill(std::span<uint8_t> out) override;
};

}  // namespace tpw
