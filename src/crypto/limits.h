// Named limits of the crypto module. Over a limit is an error at the input (a keystore file, a
// base64 string, a passphrase typed by a user) and an assertion inside (a signing domain, which
// is a constant in code).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tpw::crypto {

// Signing domains ("tpwallet/v1/device-certificate"): 1..64 printable ASCII bytes, never NUL.
inline constexpr size_t kSigningDomainBytesMax = 64;
// Bytes one AEAD message may carry (plaintext); larger inputs to AeadOpen are rejected.
inline constexpr size_t kAeadPlaintextBytesMax = size_t{16} << 20;
// Passphrases: 1..1024 bytes (any bytes; the CLI reads UTF-8).
inline constexpr size_t kPassphraseBytesMax = 1024;
// Keystore labels ("device 42", "issuer 2025"): 0..64 printable ASCII bytes.
inline constexpr size_t kKeystoreLabelBytesMax = 64;
// Argon2id cost caps for keystores. A keystore file names its own KDF cost, so a hostile file
// could otherwise ask for terabytes of memory or hours of work before the tag check fails.
// Work grows with passes x memory, so that product is capped too, at libsodium's SENSITIVE
// setting (4 passes over 1 GiB: about 4 s of CPU on the development machine). Within it, fewer
// bytes may take more passes (16 passes over 256 MiB), never more memory than 1 GiB.
inline constexpr uint32_t kKeystoreOpslimitMax = 16;
inline constexpr uint32_t kKeystoreMemlimitKibMax = uint32_t{1} << 20;  // 1 GiB
inline constexpr uint64_t kKeystoreKdfWorkKibMax = uint64_t{4} << 20;   // opslimit x memlimit_kib

}  // namespace tpw::crypto
