// ed25519_bench: Ed25519 verifications per second on one core (one thread), the baseline the
// clearing benchmark compares itself to: clearing cannot verify tokens faster than this times
// the number of cores it verifies on.
//
// Verifies `verifications` domain-separated signatures (crypto::Verify) per round, cycling over
// 64 key pairs and 200-byte messages (about a payment token), for `rounds` rounds, and prints the
// median, best and worst round in this thread's CPU time (other processes sharing the core do
// not lower it) plus the wall-clock median for comparison. Also prints the raw libsodium verify
// rate (no domain-separation copy) and the signing rate, so the cost of each layer is visible.
// Keys come from fixed seeds: every run does the same work.
//
//   ed25519_bench [verifications] [rounds]
//   defaults:      20000           5
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "crypto/sign.h"
#include "crypto/sign_internal.h"

namespace {

using tpw::crypto::PublicKey;
using tpw::crypto::SecretKey;
using tpw::crypto::Signature;

constexpr size_t kKeys = 64;
constexpr size_t kMessageBytes = 200;
constexpr char kDomain[] = "tpwallet/v1/payment-token";

struct Sample {
  PublicKey public_key;
  std::vector<uint8_t> message;
  std::vector<uint8_t> domain_separated;  // what Verify builds internally, for the raw rate
  Signature signature;
};

uint64_t ParseCount(const char* text, uint64_t fallback) {
  if (text == nullptr) return fallback;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || value == 0) {
    std::fprintf(stderr, "ed25519_bench: expected a positive integer, got '%s'\n", text);
    std::exit(2);
  }
  return value;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// CPU time this thread has used: unlike wall time, it does not count time the core spent on
// other processes, so the rate stays meaningful on a shared machine.
double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

struct Rate {
  double per_cpu_second = 0;
  double per_wall_second = 0;
};

// Runs `count` calls of `op(sample)` and returns the rates; exits if any call returned false.
template <typename Op>
Rate RunRound(const std::vector<Sample>& samples, uint64_t count, Op op) {
  uint64_t passed = 0;
  const auto wall_start = std::chrono::steady_clock::now();
  const double cpu_start = ThreadCpuSeconds();
  for (uint64_t i = 0; i < count; ++i) {
    if (op(samples[i % samples.size()])) ++passed;
  }
  const double cpu_seconds = ThreadCpuSeconds() - cpu_start;
  const double wall_seconds = SecondsSince(wall_start);
  if (passed != count) {
    std::fprintf(stderr, "ed25519_bench: %llu of %llu verifications failed\n",
                 static_cast<unsigned long long>(count - passed),
                 static_cast<unsigned long long>(count));
    std::exit(1);
  }
  return {static_cast<double>(count) / cpu_seconds, static_cast<double>(count) / wall_seconds};
}

void PrintRates(const char* name, const std::vector<Rate>& rates) {
  std::vector<double> cpu;
  std::vector<double> wall;
  for (const Rate& rate : rates) {
    cpu.push_back(rate.per_cpu_second);
    wall.push_back(rate.per_wall_second);
  }
  std::sort(cpu.begin(), cpu.end());
  std::sort(wall.begin(), wall.end());
  const double median = cpu[cpu.size() / 2];
  std::printf("  %-21s %8.0f/s  (%.1f us)  best %8.0f/s  worst %8.0f/s  | wall median %8.0f/s\n",
              name, median, 1e6 / median, cpu.back(), cpu.front(), wall[wall.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t verifications = ParseCount(argc > 1 ? argv[1] : nullptr, 20000);
  const uint64_t rounds = ParseCount(argc > 2 ? argv[2] : nullptr, 5);

  std::vector<SecretKey> keys;
  std::vector<Sample> samples;
  for (size_t k = 0; k < kKeys; ++k) {
    std::array<uint8_t, tpw::crypto::kSigningSeedBytes> seed{};
    seed[0] = static_cast<uint8_t>(k);
    seed[1] = 0xed;
    keys.push_back(tpw::crypto::SigningKeyFromSeed(seed));
    Sample sample;
    sample.public_key = keys.back().public_key();
    sample.message.resize(kMessageBytes);
    for (size_t i = 0; i < kMessageBytes; ++i) sample.message[i] = static_cast<uint8_t>(i * 7 + k);
    sample.domain_separated = tpw::crypto::internal::DomainSeparatedBytes(kDomain, sample.message);
    sample.signature = tpw::crypto::Sign(keys.back(), kDomain, sample.message);
    samples.push_back(std::move(sample));
  }

  std::printf(
      "ed25519_bench: %llu verifications x %llu rounds, one thread, %zu keys, %zu-byte messages, "
      "domain \"%s\", libsodium crypto_sign_verify_detached\n",
      static_cast<unsigned long long>(verifications), static_cast<unsigned long long>(rounds),
      kKeys, kMessageBytes, kDomain);

  std::printf(
      "  rates per second of this thread's CPU time (median of rounds); wall-clock median last\n");
  std::vector<Rate> verify_rates, raw_rates, sign_rates;
  for (uint64_t round = 0; round < rounds; ++round) {
    verify_rates.push_back(RunRound(samples, verifications, [](const Sample& s) {
      return tpw::crypto::Verify(s.public_key, kDomain, s.message, s.signature);
    }));
    raw_rates.push_back(RunRound(samples, verifications, [](const Sample& s) {
      return tpw::crypto::internal::Ed25519VerifyRaw(s.public_key, s.domain_separated, s.signature);
    }));
    size_t next_key = 0;
    sign_rates.push_back(RunRound(samples, verifications, [&](const Sample& s) {
      const Signature signature = tpw::crypto::Sign(keys[next_key++ % kKeys], kDomain, s.message);
      return signature.bytes[63] < 0x20;  // S < L < 2^253 always holds: keeps the call observable
    }));
  }
  PrintRates("Verify (domain-sep.)", verify_rates);
  PrintRates("raw verify_detached", raw_rates);
  PrintRates("Sign", sign_rates);
  return 0;
}
