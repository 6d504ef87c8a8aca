// The wallet state file (wallet.state): its in-memory form and its codec. Internal to the wallet
// module and its tests. The byte layout is specified in docs/offline-protocol.md ("Wallet").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "wallet/wallet.h"

namespace tpw::wallet {

inline constexpr std::array<uint8_t, 8> kStateMagic = {'T', 'P', 'W', 'A', 'L', 'L', 'E', 'T'};
inline constexpr uint16_t kStateVersion = 1;
inline constexpr size_t kStateHeaderBytes = 160;
inline constexpr size_t kStateEntryBytes = 256;  // certificate 232, used 4, flags 4, spent 16
inline constexpr size_t kStateChecksumBytes = 32;
inline constexpr size_t kStateBytesMax =
    kStateHeaderBytes + kCertificatesMax * kStateEntryBytes + kStateChecksumBytes;
inline constexpr uint8_t kEntryFlagSyncPending = 1;

struct Wallet::State {
  uint64_t generation = 0;  // +1 with every write: tells two copies of the file apart
  u128 device_id = 0;
  crypto::PublicKey device_public_key;
  std::optional<IssuerKey> issuer;
  // Highest counter of any certificate ever installed: a new certificate's range must start
  // above it, so counters are unique across every certificate the device ever held.
  uint64_t counter_high_water = 0;
  crypto::Hash256 previous_token_hash{};
  uint64_t tokens_signed = 0;
  std::vector<CertificateState> certificates;  // ascending serial, at most kCertificatesMax
};

// Exactly kStateHeaderBytes + n * kStateEntryBytes + kStateChecksumBytes bytes.
std::vector<uint8_t> EncodeState(const Wallet::State& state);
// Checks length, magic, version, checksum, reserved bytes and every invariant of the state
// (counters inside ranges, spent within allowance, serials ascending, certificates for this
// device, high water above every range). Any failure is corrupt_state with a detail.
WalletResult<Wallet::State> DecodeState(std::span<const uint8_t> bytes);

}  // namespace tpw::wallet
