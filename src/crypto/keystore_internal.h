// Internal to the crypto module and its tests: the keystore's building blocks, exposed so tests
// can build files that EncodeKeystore never would (hostile KDF costs, inconsistent keys).
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "crypto/aead.h"
#include "crypto/keystore.h"

namespace tpw::crypto::internal {

// The header bytes (everything before the sealed seed; the AEAD's associated data) for `info`.
// Writes whatever `info` holds, valid or not; asserts only that the label fits its length byte.
std::vector<uint8_t> EncodeKeystoreHeader(const KeystoreInfo& info);

// Argon2id13 of `passphrase` with `salt` and `kdf`, into a fresh AeadKey. Error: out_of_memory.
// Asserts IsValidKdfParams(kdf).
Result<AeadKey, KeystoreError> DeriveKeystoreKey(const Passphrase& passphrase,
                                                 std::span<const uint8_t, kKeystoreSaltBytes> salt,
                                                 const KdfParams& kdf);

}  // namespace tpw::crypto::internal
