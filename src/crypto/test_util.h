// Test-only helpers for the crypto tests (not part of tpw_crypto's API).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/assert.h"

namespace tpw::crypto::test_support {

inline std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

inline std::vector<uint8_t> ByteVector(std::string_view text) {
  const std::span<const uint8_t> bytes = Bytes(text);
  return {bytes.begin(), bytes.end()};
}

// Lowercase or uppercase hex, even length; asserts on anything else (test constants only).
inline std::vector<uint8_t> Hex(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    TPW_UNREACHABLE();
  };
  TPW_ASSERT(hex.size() % 2 == 0);
  std::vector<uint8_t> out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(digit(hex[i]) << 4 | digit(hex[i + 1])));
  }
  return out;
}

template <size_t N>
std::array<uint8_t, N> HexArray(std::string_view hex) {
  const std::vector<uint8_t> bytes = Hex(hex);
  TPW_ASSERT(bytes.size() == N);
  std::array<uint8_t, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

}  // namespace tpw::crypto::test_support
