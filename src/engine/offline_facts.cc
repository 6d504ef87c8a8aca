#include "engine/offline_facts.h"

#include "common/codec.h"

namespace tpw::engine {

namespace {

using offline::ExceptionRecord;

void PutKey(BinaryWriter& w, const offline::Bytes32& key) { w.Bytes(key); }

bool GetKey(BinaryReader& r, offline::Bytes32& key) {
  const std::span<const uint8_t> bytes = r.Bytes(key.size());
  if (bytes.size() != key.size()) return false;
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return true;
}

bool GetCertificate(BinaryReader& r, std::vector<uint8_t>& out) {
  const std::span<const uint8_t> bytes = r.Bytes(offline::kCertificateBytes);
  out.assign(bytes.begin(), bytes.end());
  return out.size() == offline::kCertificateBytes;
}

void EncodeBody(const OfflineFact& f, BinaryWriter& w) {
  switch (f.kind) {
    case OfflineFactKind::issuer_key:
      w.U32(f.issuer_key_id);
      w.U32(0);
      PutKey(w, f.public_key);
      break;
    case OfflineFactKind::certificate:
      TPW_ASSERT(f.certificate.size() == offline::kCertificateBytes);
      w.U128(f.user_account.value);
      w.Bytes(f.certificate);
      break;
    case OfflineFactKind::sync:
      TPW_ASSERT(f.certificate.size() == offline::kCertificateBytes);
      w.U128(f.user_account.value);
      w.U64(f.previous_serial);
      w.U64(f.last_counter_used);
      w.Bytes(f.certificate);
      break;
    case OfflineFactKind::terminal:
      w.U128(f.terminal_id);
      w.U128(f.merchant_id);
      w.U128(f.settlement_account.value);
      PutKey(w, f.public_key);
      w.U8(f.active ? 1 : 0);
      for (int i = 0; i < 7; ++i) w.U8(0);
      break;
    case OfflineFactKind::revocation:
      w.U128(f.device_id);
      break;
    case OfflineFactKind::batch:
      w.U32(static_cast<uint32_t>(f.token_checks.size()));
      w.U32(static_cast<uint32_t>(f.settlements_ok.size()));
      w.Bytes(f.token_checks);
      w.Bytes(f.settlements_ok);
      w.Bytes(f.batch);
      break;
    case OfflineFactKind::exception_resolved:
      w.U64(f.exception_id);
      w.U8(static_cast<uint8_t>(f.resolution));
      for (int i = 0; i < 7; ++i) w.U8(0);
      break;
  }
}

// Each returns an empty string on success, else what is wrong.
std::string DecodeTerminal(BinaryReader& r, OfflineFact& f) {
  f.terminal_id = r.U128();
  f.merchant_id = r.U128();
  f.settlement_account = AccountId{r.U128()};
  if (!GetKey(r, f.public_key)) return "terminal fact is truncated";
  const uint8_t active = r.U8();
  if (active > 1) return "terminal fact: active flag is " + std::to_string(active);
  f.active = active == 1;
  for (int i = 0; i < 7; ++i) {
    if (r.U8() != 0) return "terminal fact: reserved bytes are not zero";
  }
  return {};
}

std::string DecodeBatch(BinaryReader& r, OfflineFact& f) {
  const uint32_t tokens = r.U32();
  const uint32_t settlements = r.U32();
  if (!r.ok()) return "batch fact is truncated";
  if (tokens == 0 || tokens > offline::kBatchTokensMax) {
    return "batch fact: token count " + std::to_string(tokens) + " is out of range";
  }
  if (settlements > tokens) return "batch fact: more settlements than tokens";
  const std::span<const uint8_t> checks = r.Bytes(tokens);
  const std::span<const uint8_t> oks = r.Bytes(settlements);
  if (!r.ok()) return "batch fact is truncated";
  for (const uint8_t c : checks) {
    if (c > (kCertificateCheckOk | kTokenCheckOk)) return "batch fact: bad signature-check flags";
  }
  for (const uint8_t ok : oks) {
    if (ok > 1) return "batch fact: bad settlement flag";
  }
  f.token_checks.assign(checks.begin(), checks.end());
  f.settlements_ok.assign(oks.begin(), oks.end());
  const std::span<const uint8_t> batch = r.Bytes(r.remaining());
  const size_t expected = offline::kBatchHeaderBytes + size_t{tokens} * offline::kTokenBytes +
                          offline::kSignatureBytes;
  if (batch.size() != expected) return "batch fact: the batch has the wrong size for its tokens";
  f.batch.assign(batch.begin(), batch.end());
  return {};
}

std::string DecodeBody(BinaryReader& r, OfflineFact& f) {
  switch (f.kind) {
    case OfflineFactKind::issuer_key:
      f.issuer_key_id = r.U32();
      if (r.U32() != 0) return "issuer key fact: reserved bytes are not zero";
      if (!GetKey(r, f.public_key)) return "issuer key fact is truncated";
      return {};
    case OfflineFactKind::certificate:
      f.user_account = AccountId{r.U128()};
      if (!GetCertificate(r, f.certificate)) return "certificate fact is truncated";
      return {};
    case OfflineFactKind::sync:
      f.user_account = AccountId{r.U128()};
      f.previous_serial = r.U64();
      f.last_counter_used = r.U64();
      if (!GetCertificate(r, f.certificate)) return "sync fact is truncated";
      return {};
    case OfflineFactKind::terminal:
      return DecodeTerminal(r, f);
    case OfflineFactKind::revocation:
      f.device_id = r.U128();
      return {};
    case OfflineFactKind::batch:
      return DecodeBatch(r, f);
    case OfflineFactKind::exception_resolved: {
      f.exception_id = r.U64();
      const uint8_t status = r.U8();
      if (status != static_cast<uint8_t>(ExceptionRecord::Status::paid_from_guarantee) &&
          status != static_cast<uint8_t>(ExceptionRecord::Status::rejected)) {
        return "exception fact: resolution " + std::to_string(status) + " is not a resolution";
      }
      f.resolution = static_cast<ExceptionRecord::Status>(status);
      for (int i = 0; i < 7; ++i) {
        if (r.U8() != 0) return "exception fact: reserved bytes are not zero";
      }
      return {};
    }
  }
  return "unknown offline fact kind";
}

}  // namespace

std::vector<uint8_t> EncodeOfflineFact(const OfflineFact& fact) {
  BinaryWriter w;
  w.U8(static_cast<uint8_t>(fact.kind));
  w.U8(kOfflineFactVersion);
  w.U16(0);
  w.U32(0);
  w.U64(fact.time_ms);
  EncodeBody(fact, w);
  return w.Take();
}

Result<OfflineFact, std::string> DecodeOfflineFact(std::span<const uint8_t> bytes) {
  if (bytes.size() < kOfflineFactHeaderBytes) {
    return Err{std::string("offline fact is shorter than its 16-byte header")};
  }
  BinaryReader r(bytes);
  OfflineFact fact;
  const uint8_t kind = r.U8();
  if (kind < 1 || kind > static_cast<uint8_t>(OfflineFactKind::exception_resolved)) {
    return Err{"offline fact kind " + std::to_string(kind) + " is unknown"};
  }
  fact.kind = static_cast<OfflineFactKind>(kind);
  const uint8_t version = r.U8();
  if (version != kOfflineFactVersion) {
    return Err{"offline fact version " + std::to_string(version) + " is not supported"};
  }
  if (r.U16() != 0 || r.U32() != 0) return Err{std::string("offline fact header: reserved bytes are not zero")};
  fact.time_ms = r.U64();
  std::string why = DecodeBody(r, fact);
  if (!why.empty()) return Err{std::move(why)};
  if (!r.AtEndOk()) {
    return Err{std::string(r.ok() ? "offline fact has trailing bytes" : "offline fact is truncated")};
  }
  return fact;
}

}  // namespace tpw::engine
