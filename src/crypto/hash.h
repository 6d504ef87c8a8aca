// BLAKE2b-256 hashing, constant-time comparison and hex formatting on top of libsodium.
//
// Thread-safety: every function is safe to call from any thread; a Blake2b256Hasher object is
// used by one thread at a time. libsodium is initialized on first use (EnsureSodiumInitialized).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tpw::crypto {

inline constexpr size_t kHash256Bytes = 32;
using Hash256 = std::array<uint8_t, kHash256Bytes>;

// Calls sodium_init() exactly once per process. Safe from any thread; cheap after the first
// call. A libsodium that cannot initialize is a broken installation, not an input error, so
// this asserts rather than returning a status.
void EnsureSodiumInitialized();

// One-shot unkeyed BLAKE2b with a 32-byte digest.
Hash256 Blake2b256(std::span<const uint8_t> bytes);

// Incremental BLAKE2b-256: Update() any number of times, then Finish() once. The state is
// wiped on destruction (it may have absorbed secrets in later uses).
class Blake2b256Hasher {
 public:
  Blake2b256Hasher();
  ~Blake2b256Hasher();
  Blake2b256Hasher(const Blake2b256Hasher&) = delete;
  Blake2b256Hasher& operator=(const Blake2b256Hasher&) = delete;

  void Update(std::span<const uint8_t> bytes);
  // Returns the digest; the hasher may not be updated or finished again.
  Hash256 Finish();

 private:
  // Opaque storage for crypto_generichash_blake2b_state (384 bytes, 64-aligned in libsodium
  // 1.0.18) so this header does not pull in sodium.h; hash.cc static_asserts the fit.
  static constexpr size_t kStateBytes = 384;
  alignas(64) unsigned char state_[kStateBytes];
  bool finished_ = false;
};

// True when both spans have the same length and contents. The time taken depends only on the
// length, never on where the contents differ (for MACs, tokens and keys).
bool ConstantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b);

// Lowercase hex, two digits per byte.
std::string ToHex(std::span<const uint8_t> bytes);
inline std::string HashToHex(const Hash256& hash) { return ToHex(hash); }
// Exactly 64 hex digits (either case); nullopt on anything else.
std::optional<Hash256> HashFromHex(std::string_view hex);

}  // namespace tpw::crypto
