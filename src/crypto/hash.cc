#include "crypto/hash.h"

#include <sodium.h>

#include <mutex>

#include "common/assert.h"

namespace tpw::crypto {

static_assert(sizeof(crypto_generichash_blake2b_state) <= 384);
static_assert(alignof(crypto_generichash_blake2b_state) <= 64);

void EnsureSodiumInitialized() {
  // sodium_init() is itself idempotent, but call_once makes the "initialized before any use"
  // ordering explicit and keeps the hot path to one atomic load.
  static std::once_flag once;
  std::call_once(once, [] { TPW_ASSERT_MSG(sodium_init() >= 0, "sodium_init failed"); });
}

static crypto_generichash_blake2b_state* StateOf(unsigned char* storage) {
  return reinterpret_cast<crypto_generichash_blake2b_state*>(storage);
}

Hash256 Blake2b256(std::span<const uint8_t> bytes) {
  EnsureSodiumInitialized();
  Hash256 out{};
  const int rc =
      crypto_generichash_blake2b(out.data(), out.size(), bytes.data(), bytes.size(), nullptr, 0);
  TPW_ASSERT(rc == 0);
  return out;
}

Blake2b256Hasher::Blake2b256Hasher() {
  EnsureSodiumInitialized();
  const int rc = crypto_generichash_blake2b_init(StateOf(state_), nullptr, 0, kHash256Bytes);
  TPW_ASSERT(rc == 0);
}

Blake2b256Hasher::~Blake2b256Hasher() { sodium_memzero(state_, sizeof(state_)); }

void Blake2b256Hasher::Update(std::span<const uint8_t> bytes) {
  TPW_ASSERT_MSG(!finished_, "Blake2b256Hasher::Update after Finish");
  const int rc = crypto_generichash_blake2b_update(StateOf(state_), bytes.data(), bytes.size());
  TPW_ASSERT(rc == 0);
}

Hash256 Blake2b256Hasher::Finish() {
  TPW_ASSERT_MSG(!finished_, "Blake2b256Hasher::Finish called twice");
  finished_ = true;
  Hash256 out{};
  const int rc = crypto_generichash_blake2b_final(StateOf(state_), out.data(), out.size());
  TPW_ASSERT(rc == 0);
  return out;
}

bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  // Lengths are public (they are part of the format), so an early return on them leaks nothing.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  EnsureSodiumInitialized();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string ToHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

static int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<Hash256> HashFromHex(std::string_view hex) {
  if (hex.size() != kHash256Bytes * 2) return std::nullopt;
  Hash256 out{};
  for (size_t i = 0; i < kHash256Bytes; ++i) {
    const int high = HexDigitValue(hex[2 * i]);
    const int low = HexDigitValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>((high << 4) | low);
  }
  return out;
}

}  // namespace tpw::crypto
