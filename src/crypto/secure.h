// Randomness and secret memory: RandomBytes, SecureWipe, SecureBuffer.
//
// Thread-safety: RandomBytes and SecureWipe are safe from any thread. A SecureBuffer is used by
// one thread at a time, or read concurrently once it is read-only (MakeReadOnly).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tpw::crypto {

// Fills `out` from libsodium's CSPRNG (getrandom(2) on Linux). Never fails. Not deterministic:
// tests and the simulator derive keys from seeds (SigningKeyFromSeed) instead.
void RandomBytes(std::span<uint8_t> out);

// Overwrites `bytes` with zeros in a way the compiler may not remove (sodium_memzero). Use it on
// every buffer that held a secret (passphrases, seeds, derived keys) before it is freed or reused.
void SecureWipe(std::span<uint8_t> bytes);
void SecureWipe(std::span<char> bytes);

// A fixed-size byte buffer for secrets in memory from sodium_malloc: guard pages on both sides
// and a canary (an overrun faults instead of leaking), locked in RAM (mlock: not swapped;
// excluded from core dumps via MADV_DONTDUMP). Locking is best effort: past RLIMIT_MEMLOCK the
// memory is still guarded and wiped, just swappable. Zero-filled on creation; wiped and freed
// (sodium_free) on destruction. Move-only; a moved-from buffer is empty.
//
// Cost: each buffer takes about four pages of address space, three memory mappings and an
// mlock, and creation and destruction are system calls. Fine for the handful of keys a process
// holds; do not keep tens of thousands alive at once (vm.max_map_count is ~65530 mappings).
// Allocation failure (out of memory or mappings) is fatal, like std::bad_alloc would be.
class SecureBuffer {
 public:
  SecureBuffer() = default;  // empty
  explicit SecureBuffer(size_t size_bytes);
  ~SecureBuffer();
  SecureBuffer(SecureBuffer&& other) noexcept;
  SecureBuffer& operator=(SecureBuffer&& other) noexcept;
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;

  // Writable view; asserts the buffer is not empty and not read-only.
  std::span<uint8_t> mutable_bytes();
  // Read-only view; asserts the buffer is not empty.
  std::span<const uint8_t> bytes() const;
  size_t size() const { return size_; }
  bool empty() const { return data_ == nullptr; }
  // Makes the pages read-only (sodium_mprotect_readonly): a stray write to a key faults.
  void MakeReadOnly();

 private:
  void Release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool read_only_ = false;
};

}  // namespace tpw::crypto
