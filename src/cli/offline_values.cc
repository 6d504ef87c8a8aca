#include "cli/offline_values.h"

#include <cstring>

#include <algorithm>
#include <boost/json/array.hpp>

#include "cli/format.h"
#include "cli/render.h"
#include "common/int128.h"
#include "crypto/base64.h"
#include "risk/event.h"
#include "crypto/hash.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

constexpr uint64_t kNanosPerMs = 1'000'000;

bool IsHexText(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// `N` bytes from 2N hex digits or their base64url text.
template <size_t N>
InputResult<std::array<uint8_t, N>> ParseFixedBytes(std::string_view field, std::string_view text,
                                                    std::string_view what) {
  std::array<uint8_t, N> out{};
  if (text.size() == 2 * N && IsHexText(text)) {
    for (size_t i = 0; i < N; ++i) {
      out[i] = static_cast<uint8_t>(HexDigit(text[2 * i]) << 4 | HexDigit(text[2 * i + 1]));
    }
    return out;
  }
  const std::string expected =
      std::string(what) + " is " + std::to_string(2 * N) + " hex digits or " +
      std::to_string(crypto::Base64UrlEncodedLength(N)) + " base64url characters";
  if (text.size() != crypto::Base64UrlEncodedLength(N)) {
    return InputFail(std::string(field) + " has " + std::to_string(text.size()) +
                     " characters: " + expected);
  }
  auto decoded = crypto::Base64UrlDecode(text, N);
  if (!decoded.ok()) {
    return InputFail(std::string(field) + " is not base64url (" +
                     std::string(crypto::Base64ErrorName(decoded.error())) + ": " +
                     std::string(crypto::Base64ErrorMessage(decoded.error())) + "); " + expected);
  }
  std::copy(decoded.value().begin(), decoded.value().end(), out.begin());
  return out;
}

}  // namespace

InputResult<offline::Bytes32> ParsePublicKeyText(std::string_view field, std::string_view text) {
  return ParseFixedBytes<offline::kPublicKeyBytes>(field, text, "an Ed25519 public key");
}

InputResult<offline::Signature64> ParseSignatureText(std::string_view field,
                                                     std::string_view text) {
  return ParseFixedBytes<offline::kSignatureBytes>(field, text, "an Ed25519 signature");
}

InputResult<uint64_t> ParseDurationText(std::string_view field, std::string_view text) {
  const std::string help = std::string(field) + " \"" + std::string(text) +
                           "\" is not a duration: digits and a unit ms, s, m, h or d, e.g. 24h";
  const size_t digits = static_cast<size_t>(
      std::find_if(text.begin(), text.end(), [](char c) { return c < '0' || c > '9'; }) -
      text.begin());
  if (digits == 0 || digits > 19 || (digits > 1 && text[0] == '0')) return InputFail(help);
  const std::string_view unit = text.substr(digits);
  uint64_t per_unit = 0;
  if (unit == "ms") per_unit = 1;
  if (unit == "s") per_unit = 1000;
  if (unit == "m") per_unit = 60'000;
  if (unit == "h") per_unit = 3'600'000;
  if (unit == "d") per_unit = 86'400'000;
  if (per_unit == 0) return InputFail(help);
  uint64_t count = 0;
  for (size_t i = 0; i < digits; ++i) count = count * 10 + static_cast<uint64_t>(text[i] - '0');
  uint64_t ms = 0;
  if (__builtin_mul_overflow(count, per_unit, &ms) || ms > kDurationMsMax || ms == 0) {
    return InputFail(std::string(field) + " \"" + std::string(text) +
                     "\" is out of range: 1ms .. 3660d");
  }
  return ms;
}

std::string FormatDurationMs(uint64_t ms) {
  if (ms != 0 && ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string FormatMsUtc(uint64_t ms) {
  if (ms > UINT64_MAX / kNanosPerMs) return std::to_string(ms) + " ms";
  const std::string nine = FormatTimeUtc(Timestamp{ms * kNanosPerMs});  // ...SS.nnnnnnnnnZ
  return nine.substr(0, nine.size() - 7) + "Z";
}

std::string Base64Url(std::span<const uint8_t> bytes) { return crypto::Base64UrlEncode(bytes); }
std::string HexOf(std::span<const uint8_t> bytes) { return crypto::ToHex(bytes); }
std::string ShortHex(std::span<const uint8_t> bytes) {
  return crypto::ToHex(bytes.first(std::min<size_t>(bytes.size(), 8)));
}

bool IsZeroHash(const crypto::Hash256& hash) {
  return std::all_of(hash.begin(), hash.end(), [](uint8_t b) { return b == 0; });
}

// ---- JSON -----------------------------------------------------------------------------------

bj::object CertificateToJson(const offline::DeviceCertificate& cert, const AssetTable& assets) {
  bj::object out;
  out["serial"] = std::to_string(cert.serial);
  out["issuer_key_id"] = cert.issuer_key_id;
  out["device_id"] = FormatId(cert.device_id);
  out["device_public_key"] = HexOf(cert.device_public_key);
  out["reserve_account_id"] = FormatId(cert.reserve_account_id);
  out["ledger"] = cert.asset;
  const Asset* asset = assets.FindByLedger(cert.asset);
  if (asset != nullptr) {
    out["asset"] = asset->code;
  } else {
    out["asset"] = nullptr;
  }
  out["payment_count_max"] = cert.payment_count_max;
  PutAmount(out, "per_payment_max", assets, cert.asset, cert.per_payment_max);
  PutAmount(out, "allowance", assets, cert.asset, cert.allowance);
  out["counter_first"] = std::to_string(cert.counter_first);
  out["counter_last"] = std::to_string(cert.counter_last());
  if (cert.cvm_threshold == Amount::Max()) {
    out["cvm_threshold"] = nullptr;
    out["cvm_threshold_minor"] = nullptr;
  } else {
    PutAmount(out, "cvm_threshold", assets, cert.asset, cert.cvm_threshold);
  }
  out["valid_from"] = std::to_string(cert.valid_from);
  out["valid_from_time"] = FormatMsUtc(cert.valid_from);
  out["valid_until"] = std::to_string(cert.valid_until);
  out["valid_until_time"] = FormatMsUtc(cert.valid_until);
  out["previous_serial"] = std::to_string(cert.previous_serial);
  return out;
}

Amount AvailableBalanceOf(const ledger::Account& a) {
  const std::optional<Amount> after_debits = a.credits_posted.CheckedSub(a.debits_posted);
  if (!after_debits) return Amount::Zero();
  return after_debits->CheckedSub(a.debits_pending).value_or(Amount::Zero());
}

bj::object EnrollmentToJson(const offline::DeviceCertificate& cert,
                            std::span<const uint8_t> certificate_bytes, AccountId user_account,
                            Amount reserve_balance, const AssetTable& assets) {
  bj::object out;
  out["device_id"] = FormatId(cert.device_id);
  out["user_account_id"] = FormatId(user_account);
  out["certificate"] = Base64Url(certificate_bytes);
  out["certificate_fields"] = CertificateToJson(cert, assets);
  PutAmount(out, "reserve_balance", assets, cert.asset, reserve_balance);
  return out;
}

bj::object DeviceToJson(const offline::DeviceRecord& d, const offline::CertificateRecord& record,
                        Amount reserve_balance, const AssetTable& assets) {
  const offline::DeviceCertificate& c = record.certificate;
  bj::object out;
  out["device_id"] = FormatId(d.device_id);
  out["revoked"] = d.revoked;
  out["user_account_id"] = FormatId(d.user_account);
  out["reserve_account_id"] = FormatId(d.reserve_account);
  out["public_key"] = HexOf(d.public_key);
  PutAmount(out, "reserve_balance", assets, c.asset, reserve_balance);
  bj::object current = CertificateToJson(c, assets);
  PutAmount(current, "cleared_total", assets, c.asset, record.cleared_total);
  current["cleared_count"] = std::to_string(record.cleared_count);
  current["void_above_counter"] = record.void_above_counter != UINT64_MAX
                                      ? bj::value(std::to_string(record.void_above_counter))
                                      : bj::value(nullptr);
  out["current_certificate"] = std::move(current);
  return out;
}

bj::object SyncStatementToJson(const offline::SyncStatement& st,
                               std::span<const uint8_t> statement_bytes,
                               std::span<const uint8_t> certificate_bytes,
                               const AssetTable& assets) {
  const uint32_t asset = st.certificate.asset;
  bj::object out;
  out["device_id"] = FormatId(st.device_id);
  out["previous_serial"] = std::to_string(st.previous_serial);
  out["last_counter_used"] = std::to_string(st.last_counter_used);
  PutAmount(out, "cleared", assets, asset, st.cleared_amount);
  PutAmount(out, "held", assets, asset, st.held_amount);
  PutAmount(out, "reserve_balance", assets, asset, st.reserve_balance);
  out["certificate_fields"] = CertificateToJson(st.certificate, assets);
  out["certificate"] = Base64Url(certificate_bytes);
  out["sync_statement"] = Base64Url(statement_bytes);
  return out;
}

bj::object DenyListToJson(const offline::DenyList& l, std::span<const uint8_t> bytes) {
  bj::object out;
  out["kind"] = l.delta ? "delta" : "full";
  out["issuer_key_id"] = l.issuer_key_id;
  out["list_version"] = std::to_string(l.list_version);
  out["base_version"] = std::to_string(l.base_version);
  out["issued"] = std::to_string(l.issued);
  out["issued_time"] = FormatMsUtc(l.issued);
  out["max_age_ms"] = std::to_string(l.max_age);
  bj::array ids;
  for (const u128 id : l.device_ids) ids.emplace_back(FormatId(id));
  out["device_ids"] = std::move(ids);
  out["deny_list"] = Base64Url(bytes);
  return out;
}

std::string_view ExceptionStatusName(offline::ExceptionRecord::Status status) {
  using Status = offline::ExceptionRecord::Status;
  switch (status) {
    case Status::open:
      return "open";
    case Status::paid_from_guarantee:
      return "paid_from_guarantee";
    case Status::rejected:
      return "rejected";
  }
  return "unknown";
}

namespace {

bj::value ReasonJson(offline::InvalidReason reason) {
  if (reason == offline::InvalidReason::none) return nullptr;
  return bj::value(offline::InvalidReasonName(reason));
}

bj::value HashOrNull(const crypto::Hash256& hash) {
  if (IsZeroHash(hash)) return nullptr;
  return bj::value(HexOf(hash));
}

}  // namespace

bj::object ExceptionToJson(const offline::ExceptionRecord& e, const AssetTable& assets) {
  bj::object out;
  out["id"] = std::to_string(e.id);
  out["status"] = ExceptionStatusName(e.status);
  out["classification"] = offline::ClassificationName(e.classification);
  out["reason"] = ReasonJson(e.reason);
  out["token_id"] = HexOf(e.token_id);
  out["conflicting_token_id"] = HashOrNull(e.conflicting_token_id);
  out["device_id"] = FormatId(e.device_id);
  out["terminal_id"] = FormatId(e.terminal_id);
  out["merchant_id"] = FormatId(e.merchant_id);
  out["ledger"] = e.asset;
  PutAmount(out, "amount", assets, e.asset, e.amount);
  if (e.classification == offline::Classification::risk_flag) {
    // The risk decision at clearing and the rules that fired (the token itself cleared).
    out["risk_decision"] = risk::DecisionName(static_cast<risk::Decision>(std::min<uint8_t>(e.risk_decision, 3)));
    out["risk_rules"] = std::string(e.risk_rules.data(), strnlen(e.risk_rules.data(), e.risk_rules.size()));
  }
  return out;
}

bj::object TokenOutcomeToJson(size_t index, const offline::TokenOutcome& outcome,
                              const offline::PaymentToken* token, const AssetTable& assets) {
  bj::object t;
  t["index"] = index;
  t["token_id"] = HexOf(outcome.token_id);
  t["classification"] = offline::ClassificationName(outcome.classification);
  t["reason"] = ReasonJson(outcome.reason);
  t["conflicting_token_id"] = HashOrNull(outcome.conflicting_token_id);
  if (token != nullptr) {
    t["device_id"] = FormatId(token->certificate.device_id);
    t["counter"] = std::to_string(token->counter);
    t["ledger"] = token->asset;
    PutAmount(t, "amount", assets, token->asset, token->amount);
  }
  return t;
}

const offline::PaymentToken* TokenAt(const offline::TerminalBatch* batch, size_t index) {
  return batch != nullptr && index < batch->tokens.size() ? &batch->tokens[index] : nullptr;
}

BatchTotals TotalBatch(const offline::TerminalBatch* batch,
                       const std::vector<offline::TokenOutcome>& outcomes) {
  BatchTotals totals;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const size_t kind = static_cast<size_t>(outcomes[i].classification);
    if (kind < totals.counts.size()) ++totals.counts[kind];
    const offline::PaymentToken* token = TokenAt(batch, i);
    if (token == nullptr || outcomes[i].classification != offline::Classification::cleared) {
      continue;
    }
    if (totals.counts[kind] == 1) totals.asset = token->asset;
    totals.mixed_assets |= token->asset != totals.asset;
    totals.cleared = totals.cleared.CheckedAdd(token->amount).value_or(Amount::Max());
  }
  return totals;
}

bj::object BatchOutcomesToJson(const offline::TerminalBatch* batch,
                               const std::vector<offline::TokenOutcome>& outcomes,
                               const AssetTable& assets) {
  using offline::Classification;
  bj::array tokens;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    tokens.push_back(TokenOutcomeToJson(i, outcomes[i], TokenAt(batch, i), assets));
  }
  const BatchTotals totals = TotalBatch(batch, outcomes);
  bj::object t;
  for (const Classification c :
       {Classification::cleared, Classification::duplicate, Classification::double_spend,
        Classification::over_allowance, Classification::invalid}) {
    t[offline::ClassificationName(c)] = totals.Count(c);
  }
  if (!totals.mixed_assets) {
    t["ledger"] = totals.asset;
    PutAmount(t, "cleared_amount", assets, totals.asset, totals.cleared);
  }
  bj::object out;
  out["batch_id"] = batch ? bj::value(HexOf(batch->batch_id)) : bj::value(nullptr);
  out["terminal_id"] = batch ? bj::value(FormatId(batch->terminal_id)) : bj::value(nullptr);
  out["tokens"] = std::move(tokens);
  out["totals"] = std::move(t);
  return out;
}

bj::object TerminalToJson(u128 terminal_id, u128 merchant_id, AccountId settlement_account,
                          const offline::Bytes32& key, bool active) {
  bj::object out;
  out["terminal_id"] = FormatId(terminal_id);
  out["merchant_id"] = FormatId(merchant_id);
  out["settlement_account_id"] = FormatId(settlement_account);
  out["public_key"] = HexOf(key);
  out["active"] = active;
  return out;
}

}  // namespace tpw::cli
