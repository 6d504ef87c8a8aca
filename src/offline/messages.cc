#include "offline/messages.h"

#include <algorithm>

#include "common/codec.h"

namespace tpw::offline {

namespace {

template <size_t N>
void PutArray(BinaryWriter& w, const std::array<uint8_t, N>& a) {
  w.Bytes(a);
}

template <size_t N>
std::array<uint8_t, N> GetArray(BinaryReader& r) {
  std::array<uint8_t, N> out{};
  const std::span<const uint8_t> bytes = r.Bytes(N);
  if (bytes.size() == N) std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

void PutAmount(BinaryWriter& w, Amount a) { w.U128(a.minor()); }
Amount GetAmount(BinaryReader& r) { return Amount::FromMinor(r.U128()); }

void PutPrefix(BinaryWriter& w, MessageType type) {
  w.U8(static_cast<uint8_t>(type));
  w.U8(kProtocolVersion);
}

Err<DecodeError> Fail(DecodeErrorCode code, std::string detail) {
  return Err<DecodeError>{DecodeError{code, std::move(detail)}};
}

// Checks the exact length (or a minimum for variable layouts), the type and the version.
std::optional<DecodeError> CheckFrame(std::span<const uint8_t> bytes, MessageType type,
                                      size_t exact_or_min, bool exact) {
  if (bytes.size() < 2) return DecodeError{DecodeErrorCode::truncated, "no type and version"};
  if (bytes[0] != static_cast<uint8_t>(type)) {
    return DecodeError{DecodeErrorCode::wrong_type,
                       "type " + std::to_string(bytes[0]) + ", expected " +
                           std::to_string(static_cast<int>(type))};
  }
  if (bytes[1] != kProtocolVersion) {
    return DecodeError{DecodeErrorCode::unsupported_version,
                       "version " + std::to_string(bytes[1]) + ", this build reads " +
                           std::to_string(kProtocolVersion)};
  }
  if (bytes.size() < exact_or_min) {
    return DecodeError{DecodeErrorCode::truncated, std::to_string(bytes.size()) + " bytes of " +
                                                       std::to_string(exact_or_min)};
  }
  if (exact && bytes.size() > exact_or_min) {
    return DecodeError{DecodeErrorCode::too_long, std::to_string(bytes.size()) + " bytes of " +
                                                      std::to_string(exact_or_min)};
  }
  return std::nullopt;
}

void PutCertificate(BinaryWriter& w, const DeviceCertificate& m) {
  PutPrefix(w, MessageType::device_certificate);
  w.U16(0);
  w.U32(m.issuer_key_id);
  w.U64(m.serial);
  w.U128(m.device_id);
  PutArray(w, m.device_public_key);
  w.U128(m.reserve_account_id);
  w.U32(m.asset);
  w.U32(m.payment_count_max);
  PutAmount(w, m.per_payment_max);
  PutAmount(w, m.allowance);
  w.U64(m.counter_first);
  PutAmount(w, m.cvm_threshold);
  w.U64(m.valid_from);
  w.U64(m.valid_until);
  w.U64(m.previous_serial);
  PutArray(w, m.signature);
}

DecodeResult<DeviceCertificate> GetCertificate(std::span<const uint8_t> bytes) {
  if (auto bad = CheckFrame(bytes, MessageType::device_certificate, kCertificateBytes, true)) {
    return Err{*bad};
  }
  BinaryReader r(bytes);
  r.U8();
  r.U8();
  if (r.U16() != 0) return Fail(DecodeErrorCode::reserved_not_zero, "certificate bytes 2..3");
  DeviceCertificate m;
  m.issuer_key_id = r.U32();
  m.serial = r.U64();
  m.device_id = r.U128();
  m.device_public_key = GetArray<32>(r);
  m.reserve_account_id = r.U128();
  m.asset = r.U32();
  m.payment_count_max = r.U32();
  m.per_payment_max = GetAmount(r);
  m.allowance = GetAmount(r);
  m.counter_first = r.U64();
  m.cvm_threshold = GetAmount(r);
  m.valid_from = r.U64();
  m.valid_until = r.U64();
  m.previous_serial = r.U64();
  m.signature = GetArray<64>(r);
  TPW_ASSERT(r.AtEndOk());
  if (m.serial == 0) return Fail(DecodeErrorCode::field_out_of_range, "serial is 0");
  if (m.device_id == 0) return Fail(DecodeErrorCode::field_out_of_range, "device_id is 0");
  if (m.asset == 0) return Fail(DecodeErrorCode::field_out_of_range, "asset is 0");
  if (m.payment_count_max == 0) {
    return Fail(DecodeErrorCode::field_out_of_range, "payment_count_max is 0");
  }
  if (m.per_payment_max.is_zero()) {
    return Fail(DecodeErrorCode::field_out_of_range, "per_payment_max is 0");
  }
  if (m.allowance < m.per_payment_max) {
    return Fail(DecodeErrorCode::field_out_of_range, "allowance is below per_payment_max");
  }
  if (m.counter_first > UINT64_MAX - (m.payment_count_max - 1)) {
    return Fail(DecodeErrorCode::field_out_of_range, "counter range overflows 64 bits");
  }
  if (m.valid_until <= m.valid_from) {
    return Fail(DecodeErrorCode::field_out_of_range, "valid_until is not after valid_from");
  }
  return m;
}

void PutToken(BinaryWriter& w, const PaymentToken& m) {
  PutPrefix(w, MessageType::payment_token);
  w.U8(static_cast<uint8_t>(m.cvm));
  w.U8(0);
  w.U32(m.asset);
  PutCertificate(w, m.certificate);
  w.U64(m.counter);
  PutAmount(w, m.amount);
  w.U128(m.merchant_id);
  w.U128(m.terminal_id);
  PutArray(w, m.nonce);
  w.U64(m.terminal_time);
  w.U64(m.device_time);
  PutArray(w, m.previous_token_hash);
  PutArray(w, m.signature);
}

DecodeResult<PaymentToken> GetToken(std::span<const uint8_t> bytes) {
  if (auto bad = CheckFrame(bytes, MessageType::payment_token, kTokenBytes, true)) {
    return Err{*bad};
  }
  BinaryReader r(bytes);
  r.U8();
  r.U8();
  PaymentToken m;
  const uint8_t cvm = r.U8();
  if (cvm > 1) return Fail(DecodeErrorCode::field_out_of_range, "cvm " + std::to_string(cvm));
  m.cvm = static_cast<Cvm>(cvm);
  if (r.U8() != 0) return Fail(DecodeErrorCode::reserved_not_zero, "token byte 3");
  m.asset = r.U32();
  auto certificate = GetCertificate(r.Bytes(kCertificateBytes));
  if (!certificate.ok()) {
    DecodeError error = certificate.error();
    error.detail = "embedded certificate: " + error.detail;
    return Err{error};
  }
  m.certificate = certificate.value();
  m.counter = r.U64();
  m.amount = GetAmount(r);
  m.merchant_id = r.U128();
  m.terminal_id = r.U128();
  m.nonce = GetArray<kNonceBytes>(r);
  m.terminal_time = r.U64();
  m.device_time = r.U64();
  m.previous_token_hash = GetArray<32>(r);
  m.signature = GetArray<64>(r);
  TPW_ASSERT(r.AtEndOk());
  if (m.amount.is_zero()) return Fail(DecodeErrorCode::field_out_of_range, "amount is 0");
  if (m.asset == 0) return Fail(DecodeErrorCode::field_out_of_range, "asset is 0");
  return m;
}

}  // namespace

std::string_view DecodeErrorName(DecodeErrorCode code) {
  switch (code) {
#define TPW_X(name, value, message) \
  case DecodeErrorCode::name:       \
    return #name;
    TPW_DECODE_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown_decode_error";
}

std::string DecodeError::Message() const {
  std::string_view message = "unknown decode error";
  switch (code) {
#define TPW_X(name, value, text) \
  case DecodeErrorCode::name:    \
    message = text;              \
    break;
    TPW_DECODE_ERRORS(TPW_X)
#undef TPW_X
  }
  std::string out(DecodeErrorName(code));
  out += ": ";
  out += message;
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

std::vector<uint8_t> Encode(const DeviceCertificate& m) {
  BinaryWriter w;
  PutCertificate(w, m);
  TPW_ASSERT(w.size() == kCertificateBytes);
  return w.Take();
}

std::vector<uint8_t> Encode(const PaymentRequest& m) {
  BinaryWriter w;
  PutPrefix(w, MessageType::payment_request);
  w.U16(0);
  w.U32(m.asset);
  w.U128(m.merchant_id);
  w.U128(m.terminal_id);
  PutAmount(w, m.amount);
  PutArray(w, m.nonce);
  w.U64(m.terminal_time);
  w.U64(m.request_number);
  TPW_ASSERT(w.size() == kRequestBytes);
  return w.Take();
}

std::vector<uint8_t> Encode(const PaymentToken& m) {
  BinaryWriter w;
  PutToken(w, m);
  TPW_ASSERT(w.size() == kTokenBytes);
  return w.Take();
}

std::vector<uint8_t> Encode(const TerminalBatch& m) {
  TPW_ASSERT(!m.tokens.empty() && m.tokens.size() <= kBatchTokensMax);
  BinaryWriter w;
  PutPrefix(w, MessageType::terminal_batch);
  w.U16(0);
  w.U32(static_cast<uint32_t>(m.tokens.size()));
  w.U128(m.terminal_id);
  PutArray(w, m.batch_id);
  w.U64(m.created);
  for (const PaymentToken& token : m.tokens) PutToken(w, token);
  PutArray(w, m.signature);
  return w.Take();
}

std::vector<uint8_t> Encode(const DenyList& m) {
  TPW_ASSERT(m.device_ids.size() <= kDenyListEntriesMax);
  BinaryWriter w;
  PutPrefix(w, m.delta ? MessageType::deny_list_delta : MessageType::deny_list);
  w.U16(0);
  w.U32(m.issuer_key_id);
  w.U64(m.list_version);
  w.U64(m.delta ? m.base_version : 0);
  w.U64(m.issued);
  w.U64(m.max_age);
  w.U32(static_cast<uint32_t>(m.device_ids.size()));
  w.U32(0);
  for (const u128 id : m.device_ids) w.U128(id);
  PutArray(w, m.signature);
  return w.Take();
}

std::vector<uint8_t> Encode(const SyncStatement& m) {
  BinaryWriter w;
  PutPrefix(w, MessageType::sync_statement);
  w.U16(0);
  w.U32(m.issuer_key_id);
  w.U128(m.device_id);
  w.U64(m.previous_serial);
  w.U64(m.last_counter_used);
  PutAmount(w, m.cleared_amount);
  PutAmount(w, m.held_amount);
  PutAmount(w, m.reserve_balance);
  w.U64(m.issued);
  PutCertificate(w, m.certificate);
  PutArray(w, m.signature);
  TPW_ASSERT(w.size() == kSyncStatementBytes);
  return w.Take();
}

DecodeResult<DeviceCertificate> DecodeCertificate(std::span<const uint8_t> bytes) {
  return GetCertificate(bytes);
}

DecodeResult<PaymentRequest> DecodeRequest(std::span<const uint8_t> bytes) {
  if (auto bad = CheckFrame(bytes, MessageType::payment_request, kRequestBytes, true)) {
    return Err{*bad};
  }
  BinaryReader r(bytes);
  r.U8();
  r.U8();
  if (r.U16() != 0) return Fail(DecodeErrorCode::reserved_not_zero, "request bytes 2..3");
  PaymentRequest m;
  m.asset = r.U32();
  m.merchant_id = r.U128();
  m.terminal_id = r.U128();
  m.amount = GetAmount(r);
  m.nonce = GetArray<kNonceBytes>(r);
  m.terminal_time = r.U64();
  m.request_number = r.U64();
  TPW_ASSERT(r.AtEndOk());
  if (m.amount.is_zero()) return Fail(DecodeErrorCode::field_out_of_range, "amount is 0");
  if (m.asset == 0) return Fail(DecodeErrorCode::field_out_of_range, "asset is 0");
  return m;
}

DecodeResult<PaymentToken> DecodeToken(std::span<const uint8_t> bytes) { return GetToken(bytes); }

DecodeResult<TerminalBatch> DecodeBatch(std::span<const uint8_t> bytes) {
  const size_t minimum = kBatchHeaderBytes + kTokenBytes + kSignatureBytes;
  if (auto bad = CheckFrame(bytes, MessageType::terminal_batch, minimum, false)) {
    return Err{*bad};
  }
  BinaryReader r(bytes);
  r.U8();
  r.U8();
  if (r.U16() != 0) return Fail(DecodeErrorCode::reserved_not_zero, "batch bytes 2..3");
  const uint32_t count = r.U32();
  if (count == 0 || count > kBatchTokensMax) {
    return Fail(DecodeErrorCode::field_out_of_range,
                "token_count " + std::to_string(count) + " (1.." +
                    std::to_string(kBatchTokensMax) + ")");
  }
  const uint64_t expected = kBatchHeaderBytes + uint64_t{count} * kTokenBytes + kSignatureBytes;
  if (bytes.size() < expected) {
    return Fail(DecodeErrorCode::truncated, std::to_string(bytes.size()) + " bytes for " +
                                                std::to_string(count) + " tokens");
  }
  if (bytes.size() > expected) {
    return Fail(DecodeErrorCode::too_long, std::to_string(bytes.size()) + " bytes for " +
                                               std::to_string(count) + " tokens");
  }
  TerminalBatch m;
  m.terminal_id = r.U128();
  m.batch_id = GetArray<kNonceBytes>(r);
  m.created = r.U64();
  m.tokens.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    auto token = GetToken(r.Bytes(kTokenBytes));
    if (!token.ok()) {
      DecodeError error = token.error();
      error.detail = "token " + std::to_string(i) + ": " + error.detail;
      return Err{error};
    }
    m.tokens.push_back(token.value());
  }
  m.signature = GetArray<64>(r);
  TPW_ASSERT(r.AtEndOk());
  return m;
}

DecodeResult<DenyList> DecodeDenyList(std::span<const uint8_t> bytes) {
  if (bytes.size() < 1) return Fail(DecodeErrorCode::truncated, "empty");
  const bool delta = bytes[0] == static_cast<uint8_t>(MessageType::deny_list_delta);
  const MessageType type = delta ? MessageType::deny_list_delta : MessageType::deny_list;
  if (auto bad = CheckFrame(bytes, type, kDenyListHeaderBytes + kSignatureBytes, false)) {
    return Err{*bad};
  }
  BinaryReader r(bytes);
  r.U8();
  r.U8();
  if (r.U16() != 0) return Fail(DecodeErrorCode::reserved_not_zero, "deny list bytes 2..3");
  DenyList m;
  m.delta = delta;
  m.issuer_key_id = r.U32();
  m.list_version = r.U64();
  m.base_version = r.U64();
  m.issued = r.U64();
  m.max_age = r.U64();
  const uint32_t count = r.U32();
  if (r.U32() != 0) return Fail(DecodeErrorCode::reserved_not_zero, "deny list bytes 44..47");
  if (count > kDenyListEntriesMax) {
    return Fail(DecodeErrorCode::field_out_of_range, "entry_count " + std::to_string(count));
  }
  const uint64_t expected = kDenyListHeaderBytes + uint64_t{count} * 16 + kSignatureBytes;
  if (bytes.size() != expected) {
    return Fail(bytes.size() < expected ? DecodeErrorCode::truncated : DecodeErrorCode::too_long,
                std::to_string(bytes.size()) + " bytes for " + std::to_string(count) +
                    " entries");
  }
  if (!delta && m.base_version != 0) {
    return Fail(DecodeErrorCode::reserved_not_zero, "base_version of a full list");
  }
  // A delta from the current version is empty: it tells a terminal that is up to date so, and
  // its `issued` restarts the list's age.
  if (delta && (m.base_version > m.list_version || (m.base_version == m.list_version && count != 0))) {
    return Fail(DecodeErrorCode::field_out_of_range,
                "delta base_version is above list_version, or equal with entries");
  }
  if (m.max_age == 0) return Fail(DecodeErrorCode::field_out_of_range, "max_age is 0");
  m.device_ids.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const u128 id = r.U128();
    if (!m.device_ids.empty() && id <= m.device_ids.back()) {
      return Fail(DecodeErrorCode::entries_not_sorted, "entry " + std::to_string(i));
    }
    m.device_ids.push_back(id);
  }
  m.signature = GetArray<64>(r);
  TPW_ASSERT(r.AtEndOk());
  return m;
}

DecodeResult<SyncStatement> DecodeSyncStatement(std::span<const uint8_t> bytes) {
  if (auto bad = CheckFrame(bytes, MessageType::sync_statement, kSyncStatementBytes, true)) {
    return Err{*bad};
  }
  BinaryReader r(bytes);
  r.U8();
  r.U8();
  if (r.U16() != 0) return Fail(DecodeErrorCode::reserved_not_zero, "sync statement bytes 2..3");
  SyncStatement m;
  m.issuer_key_id = r.U32();
  m.device_id = r.U128();
  m.previous_serial = r.U64();
  m.last_counter_used = r.U64();
  m.cleared_amount = GetAmount(r);
  m.held_amount = GetAmount(r);
  m.reserve_balance = GetAmount(r);
  m.issued = r.U64();
  auto certificate = GetCertificate(r.Bytes(kCertificateBytes));
  if (!certificate.ok()) {
    DecodeError error = certificate.error();
    error.detail = "new certificate: " + error.detail;
    return Err{error};
  }
  m.certificate = certificate.value();
  m.signature = GetArray<64>(r);
  TPW_ASSERT(r.AtEndOk());
  if (m.certificate.device_id != m.device_id) {
    return Fail(DecodeErrorCode::field_out_of_range, "new certificate is for another device");
  }
  return m;
}

std::span<const uint8_t> SignedPart(std::span<const uint8_t> encoded, MessageType type) {
  TPW_ASSERT(encoded.size() >= kSignatureBytes);
  switch (type) {
    case MessageType::device_certificate:
      return encoded.first(kCertificateSignedBytes);
    case MessageType::payment_token:
      return encoded.first(kTokenSignedBytes);
    case MessageType::sync_statement:
      return encoded.first(kSyncStatementSignedBytes);
    default:
      // Variable layouts end with their signature.
      return encoded.first(encoded.size() - kSignatureBytes);
  }
}

std::vector<uint8_t> SyncRequestBytes(u128 device_id, uint64_t serial, uint64_t last_counter_used) {
  BinaryWriter w;
  w.U128(device_id);
  w.U64(serial);
  w.U64(last_counter_used);
  TPW_ASSERT(w.size() == kSyncRequestBytes);
  return w.Take();
}

}  // namespace tpw::offline
