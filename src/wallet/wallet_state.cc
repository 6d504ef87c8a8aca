#include "wallet/wallet_state.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/codec.h"

namespace tpw::wallet {
namespace {

Err<WalletFailure> Corrupt(std::string detail) {
  return Err<WalletFailure>{WalletFailure{WalletError::corrupt_state, std::move(detail)}};
}

template <size_t N>
void PutArray(BinaryWriter& w, const std::array<uint8_t, N>& bytes) {
  w.Bytes(bytes);
}

template <size_t N>
std::array<uint8_t, N> GetArray(BinaryReader& r) {
  std::array<uint8_t, N> out{};
  const std::span<const uint8_t> bytes = r.Bytes(N);
  if (bytes.size() == N) std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

void PutEntry(BinaryWriter& w, const CertificateState& entry) {
  const size_t start = w.size();
  w.Bytes(offline::Encode(entry.certificate));
  w.U32(entry.counters_used);
  w.U8(entry.sync_pending ? kEntryFlagSyncPending : 0);
  w.U8(0);
  w.U16(0);
  w.U128(entry.spent.minor());
  TPW_ASSERT(w.size() - start == kStateEntryBytes);
}

// Checks one entry against the header: the invariants Pay relies on.
std::optional<std::string> CheckEntry(const CertificateState& e, const Wallet::State& state) {
  const offline::DeviceCertificate& c = e.certificate;
  const std::string name = "certificate serial " + std::to_string(c.serial);
  if (c.device_id != state.device_id) return name + " is for another device id";
  if (c.device_public_key != state.device_public_key.bytes) return name + " is for another key";
  if (c.counter_first == 0) return name + " has counter_first 0";
  if (c.counter_last() > state.counter_high_water) return name + " is above the high water mark";
  if (e.counters_used > c.payment_count_max) return name + " used more counters than it has";
  if (e.spent > c.allowance) return name + " spent more than its allowance";
  if (e.counters_used == 0 && !e.spent.is_zero()) return name + " spent without a counter";
  return std::nullopt;
}

WalletResult<CertificateState> GetEntry(BinaryReader& r) {
  CertificateState e;
  auto certificate = offline::DecodeCertificate(r.Bytes(offline::kCertificateBytes));
  if (!certificate.ok()) return Corrupt("certificate: " + certificate.error().Message());
  e.certificate = certificate.value();
  e.counters_used = r.U32();
  const uint8_t flags = r.U8();
  const uint8_t reserved8 = r.U8();
  const uint16_t reserved16 = r.U16();
  e.spent = Amount::FromMinor(r.U128());
  if ((flags & ~kEntryFlagSyncPending) != 0 || reserved8 != 0 || reserved16 != 0) {
    return Corrupt("unknown flags or reserved bytes set in certificate entry");
  }
  e.sync_pending = (flags & kEntryFlagSyncPending) != 0;
  return e;
}

// Reads the header fields after magic, version and count.
std::optional<std::string> GetHeader(BinaryReader& r, Wallet::State& state) {
  state.generation = r.U64();
  state.device_id = r.U128();
  state.device_public_key.bytes = GetArray<32>(r);
  const uint32_t issuer_key_id = r.U32();
  const uint8_t pinned = r.U8();
  const uint8_t reserved8 = r.U8();
  const uint16_t reserved16 = r.U16();
  crypto::PublicKey issuer_key{GetArray<32>(r)};
  state.counter_high_water = r.U64();
  state.previous_token_hash = GetArray<32>(r);
  state.tokens_signed = r.U64();
  if (reserved8 != 0 || reserved16 != 0) return "reserved header bytes 77..79 are not zero";
  if (state.device_id == 0) return "device_id is 0";
  if (pinned > 1) return "issuer_pinned is " + std::to_string(pinned);
  if (pinned == 1) {
    state.issuer = IssuerKey{issuer_key_id, issuer_key};
  } else if (issuer_key_id != 0 || issuer_key != crypto::PublicKey{}) {
    return "an issuer key is set but not pinned";
  }
  return std::nullopt;
}

}  // namespace

std::vector<uint8_t> EncodeState(const Wallet::State& state) {
  TPW_ASSERT(state.certificates.size() <= kCertificatesMax);
  BinaryWriter w;
  w.Bytes(kStateMagic);
  w.U16(kStateVersion);
  w.U16(0);
  w.U32(static_cast<uint32_t>(state.certificates.size()));
  w.U64(state.generation);
  w.U128(state.device_id);
  PutArray(w, state.device_public_key.bytes);
  w.U32(state.issuer ? state.issuer->key_id : 0);
  w.U8(state.issuer ? 1 : 0);
  w.U8(0);
  w.U16(0);
  PutArray(w, state.issuer ? state.issuer->public_key.bytes : crypto::PublicKey{}.bytes);
  w.U64(state.counter_high_water);
  PutArray(w, state.previous_token_hash);
  w.U64(state.tokens_signed);
  TPW_ASSERT(w.size() == kStateHeaderBytes);
  for (const CertificateState& entry : state.certificates) PutEntry(w, entry);
  const crypto::Hash256 checksum = crypto::Blake2b256(w.buffer());
  w.Bytes(checksum);
  return w.Take();
}

WalletResult<Wallet::State> DecodeState(std::span<const uint8_t> bytes) {
  const size_t size = bytes.size();
  if (size < kStateHeaderBytes + kStateChecksumBytes) {
    return Corrupt(std::to_string(size) + " bytes is shorter than any state file");
  }
  if (size > kStateBytesMax) return Corrupt(std::to_string(size) + " bytes is too long");
  if (!std::equal(kStateMagic.begin(), kStateMagic.end(), bytes.begin())) {
    return Corrupt("not a wallet state file (wrong magic bytes)");
  }
  const std::span<const uint8_t> body = bytes.first(size - kStateChecksumBytes);
  if (!crypto::ConstantTimeEqual(crypto::Blake2b256(body), bytes.last(kStateChecksumBytes))) {
    return Corrupt("checksum mismatch (the file was damaged or partly overwritten)");
  }
  BinaryReader r(body);
  r.Bytes(kStateMagic.size());
  const uint16_t version = r.U16();
  if (version != kStateVersion) return Corrupt("unsupported version " + std::to_string(version));
  if (r.U16() != 0) return Corrupt("reserved header bytes 10..11 are not zero");
  const uint32_t count = r.U32();
  if (count > kCertificatesMax ||
      body.size() != kStateHeaderBytes + size_t{count} * kStateEntryBytes) {
    return Corrupt("certificate_count " + std::to_string(count) + " does not fit the file size");
  }
  Wallet::State state;
  if (auto bad = GetHeader(r, state)) return Corrupt(*bad);
  for (uint32_t i = 0; i < count; ++i) {
    auto entry = GetEntry(r);
    if (!entry.ok()) return Err{entry.error()};
    if (auto bad = CheckEntry(entry.value(), state)) return Corrupt(*bad);
    if (i > 0 && entry->certificate.serial <= state.certificates.back().certificate.serial) {
      return Corrupt("certificate serials are not strictly ascending");
    }
    state.certificates.push_back(std::move(entry).value());
  }
  TPW_ASSERT(r.AtEndOk());
  return state;
}

}  // namespace tpw::wallet
