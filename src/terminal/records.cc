#include "terminal/records.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "common/assert.h"
#include "common/codec.h"

namespace tpw::terminal {

namespace {

constexpr std::string_view kConfigMagic = "tpwterm1";
constexpr std::string_view kDenyMagic = "tpwdeny1";
constexpr uint16_t kFileFormat = 1;

Err<std::string> Fail(std::string_view what, std::string detail) {
  return Err<std::string>{std::string(what) + ": " + std::move(detail)};
}

template <size_t N>
std::array<uint8_t, N> GetArray(BinaryReader& r) {
  std::array<uint8_t, N> out{};
  const std::span<const uint8_t> bytes = r.Bytes(N);
  if (bytes.size() == N) std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

// Version byte + `reserved` zero bytes, the common start of every record.
void PutRecordPrefix(BinaryWriter& w, size_t reserved) {
  w.U8(kRecordVersion);
  for (size_t i = 0; i < reserved; ++i) w.U8(0);
}

// Checks the exact length, the version byte and `reserved` zero bytes after it.
std::optional<std::string> CheckRecordPrefix(std::span<const uint8_t> bytes, size_t expected,
                                             size_t reserved) {
  if (bytes.size() != expected) {
    return std::to_string(bytes.size()) + " bytes, expected " + std::to_string(expected);
  }
  if (bytes[0] != kRecordVersion) {
    return "record version " + std::to_string(bytes[0]) + ", this build reads " +
           std::to_string(kRecordVersion);
  }
  for (size_t i = 1; i <= reserved; ++i) {
    if (bytes[i] != 0) return "reserved byte " + std::to_string(i) + " is not zero";
  }
  return std::nullopt;
}

// magic | format u16 | reserved u16, then checks the trailing BLAKE2b-256 over everything.
std::optional<std::string> CheckFileFrame(std::span<const uint8_t> bytes, std::string_view magic,
                                          size_t minimum) {
  if (bytes.size() < minimum) {
    return std::to_string(bytes.size()) + " bytes, at least " + std::to_string(minimum) +
           " expected";
  }
  if (!std::equal(magic.begin(), magic.end(), bytes.begin())) return "wrong magic bytes";
  const crypto::Hash256 sum = crypto::Blake2b256(bytes.first(bytes.size() - 32));
  if (!crypto::ConstantTimeEqual(sum, bytes.last(32))) return "checksum mismatch";
  const uint16_t format = static_cast<uint16_t>(bytes[8] | (bytes[9] << 8));
  if (format != kFileFormat) {
    return "format " + std::to_string(format) + ", this build reads " + std::to_string(kFileFormat);
  }
  if (bytes[10] != 0 || bytes[11] != 0) return "reserved bytes 10..11 are not zero";
  return std::nullopt;
}

std::vector<uint8_t> SealFile(BinaryWriter& w) {
  const crypto::Hash256 sum = crypto::Blake2b256(w.buffer());
  w.Bytes(sum);
  return w.Take();
}

void PutMagic(BinaryWriter& w, std::string_view magic) {
  w.Bytes({reinterpret_cast<const uint8_t*>(magic.data()), magic.size()});
  w.U16(kFileFormat);
  w.U16(0);
}

}  // namespace

std::vector<uint8_t> EncodeRecord(const TokenAccepted& r) {
  BinaryWriter w;
  PutRecordPrefix(w, 7);
  w.U64(r.accepted_ms);
  w.Bytes(r.token);
  TPW_ASSERT(w.size() == kTokenAcceptedBytes);
  return w.Take();
}

std::vector<uint8_t> EncodeRecord(const TokenVoided& r) {
  BinaryWriter w;
  PutRecordPrefix(w, 7);
  w.U64(r.voided_ms);
  w.Bytes(r.token_id);
  TPW_ASSERT(w.size() == kTokenVoidedBytes);
  return w.Take();
}

std::vector<uint8_t> EncodeRecord(const BatchBuilt& r) {
  TPW_ASSERT(!r.token_ids.empty() && r.token_ids.size() <= offline::kBatchTokensMax);
  BinaryWriter w;
  PutRecordPrefix(w, 3);
  w.U32(static_cast<uint32_t>(r.token_ids.size()));
  w.U64(r.created_ms);
  w.Bytes(r.batch_id);
  for (const TokenId& id : r.token_ids) w.Bytes(id);
  TPW_ASSERT(w.size() == kBatchBuiltHeaderBytes + 32 * r.token_ids.size());
  return w.Take();
}

std::vector<uint8_t> EncodeRecord(const BatchUploaded& r) {
  BinaryWriter w;
  PutRecordPrefix(w, 7);
  w.U64(r.uploaded_ms);
  w.Bytes(r.batch_id);
  TPW_ASSERT(w.size() == kBatchUploadedBytes);
  return w.Take();
}

RecordResult<TokenAccepted> DecodeTokenAccepted(std::span<const uint8_t> bytes) {
  if (auto bad = CheckRecordPrefix(bytes, kTokenAcceptedBytes, 7)) {
    return Fail("token_accepted", *bad);
  }
  BinaryReader r(bytes.subspan(8));
  TokenAccepted out;
  out.accepted_ms = r.U64();
  out.token = GetArray<offline::kTokenBytes>(r);
  TPW_ASSERT(r.AtEndOk());
  return out;
}

RecordResult<TokenVoided> DecodeTokenVoided(std::span<const uint8_t> bytes) {
  if (auto bad = CheckRecordPrefix(bytes, kTokenVoidedBytes, 7)) return Fail("token_voided", *bad);
  BinaryReader r(bytes.subspan(8));
  TokenVoided out;
  out.voided_ms = r.U64();
  out.token_id = GetArray<32>(r);
  TPW_ASSERT(r.AtEndOk());
  return out;
}

RecordResult<BatchBuilt> DecodeBatchBuilt(std::span<const uint8_t> bytes) {
  if (bytes.size() < kBatchBuiltHeaderBytes) {
    return Fail("batch_built", std::to_string(bytes.size()) + " bytes, shorter than its header");
  }
  BinaryReader header(bytes.subspan(4, 4));
  const uint32_t count = header.U32();
  if (count == 0 || count > offline::kBatchTokensMax) {
    return Fail("batch_built", "token_count " + std::to_string(count) + " (1.." +
                                   std::to_string(offline::kBatchTokensMax) + ")");
  }
  const size_t expected = kBatchBuiltHeaderBytes + size_t{32} * count;
  if (auto bad = CheckRecordPrefix(bytes, expected, 3)) return Fail("batch_built", *bad);
  BinaryReader r(bytes.subspan(8));
  BatchBuilt out;
  out.created_ms = r.U64();
  out.batch_id = GetArray<16>(r);
  out.token_ids.reserve(count);
  for (uint32_t i = 0; i < count; ++i) out.token_ids.push_back(GetArray<32>(r));
  TPW_ASSERT(r.AtEndOk());
  return out;
}

RecordResult<BatchUploaded> DecodeBatchUploaded(std::span<const uint8_t> bytes) {
  if (auto bad = CheckRecordPrefix(bytes, kBatchUploadedBytes, 7)) {
    return Fail("batch_uploaded", *bad);
  }
  BinaryReader r(bytes.subspan(8));
  BatchUploaded out;
  out.uploaded_ms = r.U64();
  out.batch_id = GetArray<16>(r);
  TPW_ASSERT(r.AtEndOk());
  return out;
}

std::vector<uint8_t> EncodeConfig(const TerminalConfig& c) {
  TPW_ASSERT(!c.issuer_keys.empty() && c.issuer_keys.size() <= kPinnedIssuerKeysMax);
  BinaryWriter w;
  PutMagic(w, kConfigMagic);
  w.U32(static_cast<uint32_t>(c.issuer_keys.size()));
  w.U128(c.terminal_id);
  w.U128(c.merchant_id);
  w.Bytes(c.terminal_public_key.bytes);
  for (const auto& [key_id, key] : c.issuer_keys) {  // std::map: ascending by key id
    w.U32(key_id);
    w.Bytes(key.bytes);
  }
  return SealFile(w);
}

RecordResult<TerminalConfig> DecodeConfig(std::span<const uint8_t> bytes) {
  if (auto bad = CheckFileFrame(bytes, kConfigMagic, kConfigHeaderBytes + 32)) {
    return Fail("terminal.conf", *bad);
  }
  BinaryReader r(bytes.subspan(12, bytes.size() - 12 - 32));
  const uint32_t count = r.U32();
  if (count == 0 || count > kPinnedIssuerKeysMax) {
    return Fail("terminal.conf", "issuer key count " + std::to_string(count));
  }
  if (bytes.size() != kConfigHeaderBytes + size_t{36} * count + 32) {
    return Fail("terminal.conf", std::to_string(bytes.size()) + " bytes for " +
                                     std::to_string(count) + " issuer keys");
  }
  TerminalConfig c;
  c.terminal_id = r.U128();
  c.merchant_id = r.U128();
  c.terminal_public_key.bytes = GetArray<32>(r);
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t key_id = r.U32();
    const crypto::PublicKey key{GetArray<32>(r)};
    if (!c.issuer_keys.empty() && key_id <= c.issuer_keys.rbegin()->first) {
      return Fail("terminal.conf", "issuer key ids are not strictly ascending");
    }
    c.issuer_keys.emplace(key_id, key);
  }
  TPW_ASSERT(r.AtEndOk());
  if (c.terminal_id == 0 || c.merchant_id == 0) {
    return Fail("terminal.conf", "terminal_id or merchant_id is 0");
  }
  return c;
}

std::vector<uint8_t> EncodeDenyState(const DenyListState& s) {
  TPW_ASSERT(s.device_ids.size() <= offline::kDenyListEntriesMax);
  BinaryWriter w;
  PutMagic(w, kDenyMagic);
  w.U32(s.issuer_key_id);
  w.U64(s.list_version);
  w.U64(s.issued_ms);
  w.U64(s.max_age_ms);
  w.U32(static_cast<uint32_t>(s.device_ids.size()));
  w.U32(0);
  for (const u128 id : s.device_ids) w.U128(id);
  return SealFile(w);
}

RecordResult<DenyListState> DecodeDenyState(std::span<const uint8_t> bytes) {
  if (auto bad = CheckFileFrame(bytes, kDenyMagic, kDenyStateHeaderBytes + 32)) {
    return Fail("deny-list.state", *bad);
  }
  BinaryReader r(bytes.subspan(12, bytes.size() - 12 - 32));
  DenyListState s;
  s.issuer_key_id = r.U32();
  s.list_version = r.U64();
  s.issued_ms = r.U64();
  s.max_age_ms = r.U64();
  const uint32_t count = r.U32();
  if (r.U32() != 0) return Fail("deny-list.state", "reserved bytes 44..47 are not zero");
  if (count > offline::kDenyListEntriesMax ||
      bytes.size() != kDenyStateHeaderBytes + uint64_t{16} * count + 32) {
    return Fail("deny-list.state",
                std::to_string(bytes.size()) + " bytes for " + std::to_string(count) + " entries");
  }
  s.device_ids.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const u128 id = r.U128();
    if (!s.device_ids.empty() && id <= s.device_ids.back()) {
      return Fail("deny-list.state", "entries are not strictly ascending at " + std::to_string(i));
    }
    s.device_ids.push_back(id);
  }
  TPW_ASSERT(r.AtEndOk());
  return s;
}

}  // namespace tpw::terminal
