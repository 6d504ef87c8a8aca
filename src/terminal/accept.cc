// Payment requests and offline acceptance: docs/offline-protocol.md checks 1..13, in order.
#include <algorithm>

#include "common/assert.h"
#include "crypto/secure.h"
#include "terminal/internal.h"
#include "terminal/terminal.h"

namespace tpw::terminal {

using internal::TerminalFail;

namespace {

AcceptResult Decline(AcceptCode code, std::string detail) {
  TPW_ASSERT(code != AcceptCode::accepted);
  AcceptResult result;
  result.code = code;
  result.detail = std::move(detail);
  return result;
}

std::string AmountText(Amount amount) { return U128ToDecimal(amount.minor()); }

// Which bound field of the token differs from the request (check 8), or empty when none.
std::string RequestMismatch(const offline::PaymentToken& token,
                            const offline::PaymentRequest& request) {
  if (token.merchant_id != request.merchant_id) return "merchant_id differs";
  if (token.terminal_id != request.terminal_id) return "terminal_id differs";
  if (token.nonce != request.nonce) return "nonce differs";
  if (token.terminal_time != request.terminal_time) return "terminal_time differs";
  if (token.amount != request.amount) {
    return "amount " + AmountText(token.amount) + ", requested " + AmountText(request.amount);
  }
  if (token.asset != request.asset) return "asset differs";
  return {};
}

}  // namespace

TerminalResult<IssuedRequest> Terminal::NewRequest(Amount amount, uint32_t asset, uint64_t now_ms) {
  if (amount.is_zero()) return TerminalFail(TerminalError::invalid_argument, "amount is 0");
  if (asset == 0) return TerminalFail(TerminalError::invalid_argument, "asset is 0");
  ForgetExpiredRequests(now_ms);
  IssuedRequest issued;
  offline::PaymentRequest& r = issued.request;
  r.asset = asset;
  r.merchant_id = config_.merchant_id;
  r.terminal_id = config_.terminal_id;
  r.amount = amount;
  crypto::RandomBytes(r.nonce);
  r.terminal_time = now_ms;
  r.request_number = next_request_number_++;
  issued.bytes = offline::Encode(r);
  if (requests_.size() == kOutstandingRequestsMax) requests_.pop_front();
  requests_.push_back(Outstanding{r, now_ms});
  TPW_ASSERT(requests_.size() <= kOutstandingRequestsMax);
  return issued;
}

std::vector<OutstandingRequest> Terminal::OutstandingRequests(uint64_t now_ms) const {
  std::vector<OutstandingRequest> out;
  out.reserve(requests_.size());
  for (const Outstanding& o : requests_) {
    const bool expired = now_ms >= o.issued_ms && now_ms - o.issued_ms >= kRequestLifetimeMs;
    if (!expired) out.push_back(OutstandingRequest{o.request, o.issued_ms});
  }
  TPW_ASSERT(out.size() <= kOutstandingRequestsMax);
  return out;
}

TerminalStatus Terminal::RestoreRequest(const OutstandingRequest& outstanding, uint64_t now_ms) {
  const offline::PaymentRequest& r = outstanding.request;
  if (r.terminal_id != config_.terminal_id || r.merchant_id != config_.merchant_id) {
    return TerminalFail(TerminalError::invalid_argument,
                        "the request names another terminal or merchant");
  }
  if (r.amount.is_zero() || r.asset == 0) {
    return TerminalFail(TerminalError::invalid_argument, "the request's amount or asset is 0");
  }
  if (outstanding.issued_ms > now_ms) {
    return TerminalFail(TerminalError::invalid_argument,
                        "the request was issued at " + std::to_string(outstanding.issued_ms) +
                            ", after now (" + std::to_string(now_ms) + ")");
  }
  ForgetExpiredRequests(now_ms);
  if (now_ms - outstanding.issued_ms >= kRequestLifetimeMs) return {};
  const bool known = std::any_of(requests_.begin(), requests_.end(),
                                 [&](const Outstanding& o) { return o.request.nonce == r.nonce; });
  if (known) return {};
  if (requests_.size() == kOutstandingRequestsMax) requests_.pop_front();
  requests_.push_back(Outstanding{r, outstanding.issued_ms});
  // Later requests of this process continue the numbering, for the logs.
  if (r.request_number >= next_request_number_ && r.request_number != UINT64_MAX) {
    next_request_number_ = r.request_number + 1;
  }
  TPW_ASSERT(requests_.size() <= kOutstandingRequestsMax);
  return {};
}

void Terminal::ForgetExpiredRequests(uint64_t now_ms) {
  std::erase_if(requests_, [now_ms](const Outstanding& o) {
    return now_ms >= o.issued_ms && now_ms - o.issued_ms >= kRequestLifetimeMs;
  });
}

AcceptResult Terminal::Accept(std::span<const uint8_t> token_bytes, uint64_t now_ms) {
  ForgetExpiredRequests(now_ms);
  auto token = offline::DecodeToken(token_bytes);  // check 1
  if (!token.ok()) return Decline(AcceptCode::malformed, token.error().Message());
  const auto request = std::find_if(requests_.begin(), requests_.end(), [&](const Outstanding& o) {
    return o.request.nonce == token->nonce;
  });
  if (request == requests_.end()) {  // check 2
    return Decline(AcceptCode::unknown_request, "no outstanding request has the token's nonce");
  }
  if (auto declined = CheckCertificate(*token, token_bytes, request->request, now_ms)) {
    return *declined;
  }
  if (auto declined = CheckPayment(*token, token_bytes, request->request)) return *declined;
  AcceptResult result = Store(token_bytes, *token, now_ms);
  if (result.accepted()) requests_.erase(request);  // one payment per request
  return result;
}

// Checks 3..6: who vouches for the device, when, and whether it is revoked.
std::optional<AcceptResult> Terminal::CheckCertificate(const offline::PaymentToken& token,
                                                       std::span<const uint8_t> token_bytes,
                                                       const offline::PaymentRequest& request,
                                                       uint64_t now_ms) const {
  const offline::DeviceCertificate& cert = token.certificate;
  const auto key = config_.issuer_keys.find(cert.issuer_key_id);
  if (key == config_.issuer_keys.end()) {
    return Decline(AcceptCode::bad_certificate_signature,
                   "issuer_key_id " + std::to_string(cert.issuer_key_id) + " is not pinned");
  }
  const auto cert_bytes = token_bytes.subspan(8, offline::kCertificateBytes);
  if (!crypto::Verify(key->second, offline::kCertificateDomain,
                      offline::SignedPart(cert_bytes, offline::MessageType::device_certificate),
                      crypto::Signature{cert.signature})) {
    return Decline(AcceptCode::bad_certificate_signature,
                   "certificate serial " + std::to_string(cert.serial));
  }
  // The request's time, which the token repeats (check 8): clearing judges validity by it too.
  const uint64_t at = request.terminal_time;
  if (at < cert.valid_from) {
    return Decline(
        AcceptCode::certificate_not_yet_valid,
        "valid from " + std::to_string(cert.valid_from) + ", request at " + std::to_string(at));
  }
  if (at >= cert.valid_until) {
    return Decline(
        AcceptCode::certificate_expired,
        "valid until " + std::to_string(cert.valid_until) + ", request at " + std::to_string(at));
  }
  if (DenyListStale(now_ms)) {
    return Decline(AcceptCode::deny_list_stale,
                   deny_.has_value() ? "deny list version " + std::to_string(deny_->list_version) +
                                           " is past issued + max_age"
                                     : "no deny list installed");
  }
  if (std::binary_search(deny_->device_ids.begin(), deny_->device_ids.end(), cert.device_id)) {
    return Decline(AcceptCode::device_denied, "device " + FormatId(cert.device_id));
  }
  return std::nullopt;
}

// Checks 7..12: the device's own signature, and what it signed.
std::optional<AcceptResult> Terminal::CheckPayment(const offline::PaymentToken& token,
                                                   std::span<const uint8_t> token_bytes,
                                                   const offline::PaymentRequest& request) const {
  const offline::DeviceCertificate& cert = token.certificate;
  if (!crypto::Verify(crypto::PublicKey{cert.device_public_key}, offline::kTokenDomain,
                      offline::SignedPart(token_bytes, offline::MessageType::payment_token),
                      crypto::Signature{token.signature})) {
    return Decline(AcceptCode::bad_token_signature, "device " + FormatId(cert.device_id));
  }
  if (std::string why = RequestMismatch(token, request); !why.empty()) {
    return Decline(AcceptCode::request_mismatch, why);
  }
  // Check 9 in the table's order: the amount bound, then the asset.
  if (token.amount > cert.per_payment_max) {
    return Decline(AcceptCode::over_per_payment_max,
                   AmountText(token.amount) + " > " + AmountText(cert.per_payment_max));
  }
  if (token.asset != cert.asset) {
    return Decline(AcceptCode::asset_mismatch, "token asset " + std::to_string(token.asset) +
                                                   ", certificate asset " +
                                                   std::to_string(cert.asset));
  }
  if (token.counter < cert.counter_first || token.counter > cert.counter_last()) {
    return Decline(AcceptCode::counter_out_of_range, "counter " + std::to_string(token.counter) +
                                                         " not in " +
                                                         std::to_string(cert.counter_first) + ".." +
                                                         std::to_string(cert.counter_last()));
  }
  if (seen_counters_.contains({cert.device_id, token.counter})) {
    return Decline(AcceptCode::replayed_counter, "device " + FormatId(cert.device_id) +
                                                     " counter " + std::to_string(token.counter));
  }
  if (token.amount > cert.cvm_threshold && token.cvm != offline::Cvm::pin) {
    return Decline(AcceptCode::cvm_required,
                   AmountText(token.amount) + " > cvm_threshold " + AmountText(cert.cvm_threshold));
  }
  return std::nullopt;
}

// Check 13: the token is in the journal and fdatasync'd before anyone hears `accepted`.
AcceptResult Terminal::Store(std::span<const uint8_t> token_bytes,
                             const offline::PaymentToken& token, uint64_t now_ms) {
  if (tokens_.size() - voided_count_ - uploaded_count_ >= tokens_not_uploaded_max_) {
    return Decline(AcceptCode::store_full,
                   std::to_string(tokens_not_uploaded_max_) + " tokens are waiting for upload");
  }
  TokenAccepted record;
  record.accepted_ms = now_ms;
  std::copy(token_bytes.begin(), token_bytes.end(), record.token.begin());
  if (TerminalStatus s = AppendDurably(RecordType::token_accepted, EncodeRecord(record)); !s.ok()) {
    return Decline(AcceptCode::storage_failed, s.error().Message());
  }
  AcceptResult result;
  result.code = AcceptCode::accepted;
  result.token_id = crypto::Blake2b256(token_bytes);
  result.amount = token.amount;
  const std::optional<std::string> bad =
      AddToken(result.token_id, token.certificate.device_id, token.counter,
               offline::ClaimDeadlineMs(token.certificate.valid_until), token_bytes);
  TPW_ASSERT_MSG(!bad.has_value(), "a token that passed every check could not be added");
  return result;
}

std::optional<std::string> Terminal::ApplyAccepted(const TokenAccepted& record) {
  auto token = offline::DecodeToken(record.token);
  if (!token.ok()) return "token_accepted holds a bad token: " + token.error().Message();
  return AddToken(crypto::Blake2b256(record.token), token->certificate.device_id, token->counter,
                  offline::ClaimDeadlineMs(token->certificate.valid_until), record.token);
}

std::optional<std::string> Terminal::AddToken(const TokenId& id, u128 device_id, uint64_t counter,
                                              uint64_t claim_deadline_ms,
                                              std::span<const uint8_t> token_bytes) {
  if (token_index_.contains(id)) return "token " + crypto::HashToHex(id) + " accepted twice";
  if (!seen_counters_.emplace(device_id, counter).second) {
    return "device " + FormatId(device_id) + " counter " + std::to_string(counter) +
           " accepted twice";
  }
  token_index_.emplace(id, tokens_.size());
  tokens_.push_back(TokenEntry{{token_bytes.begin(), token_bytes.end()},
                              device_id,
                              counter,
                              claim_deadline_ms,
                              TokenState::accepted});
  return std::nullopt;
}

}  // namespace tpw::terminal
