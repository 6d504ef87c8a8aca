// Internal to the crypto module and its tests: Ed25519 without domain separation, for the
// RFC 8032 known-answer tests and for Sign/Verify themselves. Never call these from other
// modules: a signature made here has no message-type binding.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/sign.h"

namespace tpw::crypto::internal {

// domain || 0x00 || message (asserts the domain is valid).
std::vector<uint8_t> DomainSeparatedBytes(std::string_view domain,
                                          std::span<const uint8_t> message);
Signature Ed25519SignRaw(const SecretKey& key, std::span<const uint8_t> bytes);
bool Ed25519VerifyRaw(const PublicKey& public_key, std::span<const uint8_t> bytes,
                      const Signature& signature);

}  // namespace tpw::crypto::internal
