#include "crypto/secure.h"

#include <sodium.h>

#include <utility>

#include "common/assert.h"
#include "crypto/hash.h"

namespace tpw::crypto {

void RandomBytes(std::span<uint8_t> out) {
  if (out.empty()) return;
  EnsureSodiumInitialized();
  randombytes_buf(out.data(), out.size());
}

void SecureWipe(std::span<uint8_t> bytes) {
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
}

void SecureWipe(std::span<char> bytes) {
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
}

SecureBuffer::SecureBuffer(size_t size_bytes) : size_(size_bytes) {
  TPW_ASSERT_MSG(size_bytes > 0, "SecureBuffer of zero bytes");
  EnsureSodiumInitialized();
  data_ = static_cast<uint8_t*>(sodium_malloc(size_bytes));
  TPW_ASSERT_MSG(data_ != nullptr, "sodium_malloc failed (out of memory or memory mappings)");
  // sodium_malloc fills with 0xdb so use of uninitialized bytes shows; start from zeros instead.
  sodium_memzero(data_, size_bytes);
}

SecureBuffer::~SecureBuffer() { Release(); }

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      read_only_(std::exchange(other.read_only_, false)) {}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    read_only_ = std::exchange(other.read_only_, false);
  }
  return *this;
}

void SecureBuffer::Release() {
  // sodium_free makes the pages writable again, checks the canary, wipes, unlocks and unmaps.
  if (data_ != nullptr) sodium_free(data_);
  data_ = nullptr;
  size_ = 0;
  read_only_ = false;
}

std::span<uint8_t> SecureBuffer::mutable_bytes() {
  TPW_ASSERT_MSG(data_ != nullptr, "SecureBuffer is empty (moved from?)");
  TPW_ASSERT_MSG(!read_only_, "SecureBuffer is read-only");
  return {data_, size_};
}

std::span<const uint8_t> SecureBuffer::bytes() const {
  TPW_ASSERT_MSG(data_ != nullptr, "SecureBuffer is empty (moved from?)");
  return {data_, size_};
}

void SecureBuffer::MakeReadOnly() {
  TPW_ASSERT_MSG(data_ != nullptr, "SecureBuffer is empty (moved from?)");
  if (read_only_) return;
  TPW_ASSERT(sodium_mprotect_readonly(data_) == 0);
  read_only_ = true;
}

}  // namespace tpw::crypto
