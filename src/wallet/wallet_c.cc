// The C API: argument checks, conversions and a catch-all, over wallet.h. No logic of its own.
#include "wallet/wallet_c.h"

#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common/codec.h"
#include "storage/posix_storage.h"
#include "wallet/wallet.h"

struct tpw_wallet {
  // Declared first so it is destroyed last: the Wallet holds a reference to it.
  std::unique_ptr<tpw::storage::PosixStorage> storage;
  std::unique_ptr<tpw::wallet::Wallet> wallet;
};

namespace {

using tpw::wallet::WalletError;
using tpw::wallet::WalletFailure;

thread_local std::string last_detail;

int Code(WalletError error) { return static_cast<int>(error); }

int Failed(WalletError error, std::string detail) {
  last_detail = std::move(detail);
  return Code(error);
}

int Failed(const WalletFailure& failure) { return Failed(failure.code, failure.detail); }

int Succeeded() {
  last_detail.clear();
  return Code(WalletError::ok);
}

// Runs `body` (returning an int code) so that no exception escapes to C.
template <typename Body>
int Guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    return Failed(WalletError::internal_error, e.what());
  } catch (...) {
    return Failed(WalletError::internal_error, "unknown exception");
  }
}

void PutU128(tpw::u128 value, uint8_t out[16]) {
  tpw::BinaryWriter w;
  w.U128(value);
  std::memcpy(out, w.buffer().data(), 16);
}

std::span<const uint8_t> Span(const uint8_t* bytes, size_t len) {
  return bytes == nullptr ? std::span<const uint8_t>() : std::span<const uint8_t>(bytes, len);
}

// Opens (or creates) the directory and makes the Passphrase: the steps create and open share.
int Prepare(const char* directory, const char* passphrase, size_t passphrase_len, bool create,
            std::unique_ptr<tpw::storage::PosixStorage>& storage,
            std::optional<tpw::crypto::Passphrase>& secret) {
  if (directory == nullptr || passphrase == nullptr) {
    return Failed(WalletError::invalid_argument, "directory and passphrase are required");
  }
  auto opened = tpw::storage::PosixStorage::Open(directory, create);
  if (!opened.ok()) {
    const bool missing = opened.error().code == tpw::storage::StorageError::not_found;
    return Failed(missing ? WalletError::no_wallet : WalletError::storage_failed,
                  opened.error().Message());
  }
  storage = std::move(opened).value();
  auto copied = tpw::crypto::Passphrase::Copy(std::string_view(passphrase, passphrase_len));
  if (!copied.ok()) {
    return Failed(WalletError::invalid_passphrase, "1..1024 bytes");
  }
  secret.emplace(std::move(copied).value());
  return Succeeded();
}

int Finish(tpw::wallet::WalletResult<std::unique_ptr<tpw::wallet::Wallet>> wallet,
           std::unique_ptr<tpw::storage::PosixStorage> storage, tpw_wallet** out) {
  if (!wallet.ok()) return Failed(wallet.error());
  auto handle = std::make_unique<tpw_wallet>();
  handle->storage = std::move(storage);
  handle->wallet = std::move(wallet).value();
  *out = handle.release();
  return Succeeded();
}

tpw::wallet::CreateOptions ToCreateOptions(const tpw_wallet_create_options* options) {
  tpw::wallet::CreateOptions out;
  if (options == nullptr) return out;
  if (options->kdf_opslimit != 0 || options->kdf_memlimit_kib != 0) {
    out.kdf = tpw::crypto::KdfParams{options->kdf_opslimit, options->kdf_memlimit_kib};
  }
  if (options->pin_issuer != 0) {
    tpw::wallet::IssuerKey issuer;
    issuer.key_id = options->issuer_key_id;
    std::memcpy(issuer.public_key.bytes.data(), options->issuer_public_key, 32);
    out.issuer = issuer;
  }
  return out;
}

// Writes `bytes` to the caller's buffer, or reports the size needed.
int WriteOut(const std::vector<uint8_t>& bytes, uint8_t* out, size_t* out_len) {
  TPW_ASSERT(*out_len >= bytes.size());
  std::memcpy(out, bytes.data(), bytes.size());
  *out_len = bytes.size();
  return Succeeded();
}

// Checks an output buffer before anything irreversible happens.
bool BufferFits(uint8_t* out, size_t* out_len, size_t needed, int& code) {
  if (out_len == nullptr) {
    code = Failed(WalletError::invalid_argument, "the length pointer is null");
    return false;
  }
  if (out == nullptr || *out_len < needed) {
    *out_len = needed;
    code = Failed(WalletError::buffer_too_small, std::to_string(needed) + " bytes needed");
    return false;
  }
  return true;
}

int InvalidHandle() { return Failed(WalletError::invalid_argument, "the wallet handle is null"); }

}  // namespace

extern "C" {

int tpw_wallet_create(const char* directory, const char* passphrase, size_t passphrase_len,
                      const tpw_wallet_create_options* options, tpw_wallet** out) {
  return Guarded([&] {
    if (out == nullptr) return Failed(WalletError::invalid_argument, "out is null");
    *out = nullptr;
    std::unique_ptr<tpw::storage::PosixStorage> storage;
    std::optional<tpw::crypto::Passphrase> secret;
    if (int code = Prepare(directory, passphrase, passphrase_len, true, storage, secret)) {
      return code;
    }
    auto wallet = tpw::wallet::Wallet::Create(*storage, *secret, ToCreateOptions(options));
    return Finish(std::move(wallet), std::move(storage), out);
  });
}

int tpw_wallet_open(const char* directory, const char* passphrase, size_t passphrase_len,
                    tpw_wallet** out) {
  return Guarded([&] {
    if (out == nullptr) return Failed(WalletError::invalid_argument, "out is null");
    *out = nullptr;
    std::unique_ptr<tpw::storage::PosixStorage> storage;
    std::optional<tpw::crypto::Passphrase> secret;
    if (int code = Prepare(directory, passphrase, passphrase_len, false, storage, secret)) {
      return code;
    }
    auto wallet = tpw::wallet::Wallet::Open(*storage, *secret);
    return Finish(std::move(wallet), std::move(storage), out);
  });
}

void tpw_wallet_close(tpw_wallet* wallet) { delete wallet; }

int tpw_wallet_pin_issuer(tpw_wallet* wallet, uint32_t key_id,
                          const uint8_t public_key[TPW_WALLET_PUBLIC_KEY_BYTES]) {
  return Guarded([&] {
    if (wallet == nullptr) return InvalidHandle();
    if (public_key == nullptr) return Failed(WalletError::invalid_argument, "public key is null");
    tpw::wallet::IssuerKey issuer;
    issuer.key_id = key_id;
    std::memcpy(issuer.public_key.bytes.data(), public_key, 32);
    tpw::wallet::WalletStatus s = wallet->wallet->PinIssuer(issuer);
    return s.ok() ? Succeeded() : Failed(s.error());
  });
}

int tpw_wallet_install_certificate(tpw_wallet* wallet, const uint8_t* bytes, size_t len) {
  return Guarded([&] {
    if (wallet == nullptr) return InvalidHandle();
    auto outcome = wallet->wallet->InstallCertificate(Span(bytes, len));
    return outcome.ok() ? Succeeded() : Failed(outcome.error());
  });
}

int tpw_wallet_install_sync_statement(tpw_wallet* wallet, const uint8_t* bytes, size_t len) {
  return Guarded([&] {
    if (wallet == nullptr) return InvalidHandle();
    auto outcome = wallet->wallet->InstallSyncStatement(Span(bytes, len));
    return outcome.ok() ? Succeeded() : Failed(outcome.error());
  });
}

int tpw_wallet_pay(tpw_wallet* wallet, const uint8_t* request, size_t request_len,
                   const tpw_wallet_pay_options* options, uint64_t now_ms, uint8_t* token,
                   size_t* token_len) {
  return Guarded([&] {
    if (wallet == nullptr) return InvalidHandle();
    int code = 0;
    if (!BufferFits(token, token_len, TPW_WALLET_TOKEN_BYTES, code)) return code;
    tpw::wallet::PayOptions pay;
    if (options != nullptr) {
      pay.pin_verified = options->pin_verified != 0;
      if (options->use_serial != 0) pay.serial = options->serial;
    }
    auto payment = wallet->wallet->Pay(Span(request, request_len), pay, now_ms);
    if (!payment.ok()) return Failed(payment.error());
    return WriteOut(payment->token, token, token_len);
  });
}

int tpw_wallet_sync_request(tpw_wallet* wallet, int use_serial, uint64_t serial, uint8_t* out,
                            size_t* out_len) {
  return Guarded([&] {
    if (wallet == nullptr) return InvalidHandle();
    int code = 0;
    if (!BufferFits(out, out_len, TPW_WALLET_SYNC_REQUEST_BYTES, code)) return code;
    std::optional<uint64_t> chosen;
    if (use_serial != 0) chosen = serial;
    auto request = wallet->wallet->MakeSyncRequest(chosen);
    if (!request.ok()) return Failed(request.error());
    return WriteOut(request->Encode(), out, out_len);
  });
}

int tpw_wallet_get_status(const tpw_wallet* wallet, tpw_wallet_status* out) {
  return Guarded([&] {
    if (wallet == nullptr || out == nullptr) return InvalidHandle();
    const tpw::wallet::WalletInfo info = wallet->wallet->Info();
    *out = tpw_wallet_status{};
    PutU128(info.device_id, out->device_id);
    std::memcpy(out->device_public_key, info.device_public_key.bytes.data(), 32);
    out->issuer_pinned = info.issuer ? 1 : 0;
    if (info.issuer) {
      out->issuer_key_id = info.issuer->key_id;
      std::memcpy(out->issuer_public_key, info.issuer->public_key.bytes.data(), 32);
    }
    out->certificate_count = static_cast<uint32_t>(info.certificates.size());
    out->tokens_signed = info.tokens_signed;
    std::memcpy(out->previous_token_hash, info.previous_token_hash.data(), 32);
    return Succeeded();
  });
}

int tpw_wallet_get_certificate(const tpw_wallet* wallet, uint32_t index,
                               tpw_wallet_certificate_status* out) {
  return Guarded([&] {
    if (wallet == nullptr || out == nullptr) return InvalidHandle();
    const tpw::wallet::WalletInfo info = wallet->wallet->Info();
    if (index >= info.certificates.size()) {
      return Failed(WalletError::invalid_argument, "index " + std::to_string(index) + " of " +
                                                       std::to_string(info.certificates.size()) +
                                                       " certificates");
    }
    const tpw::wallet::CertificateState& e = info.certificates[index];
    const tpw::offline::DeviceCertificate& c = e.certificate;
    *out = tpw_wallet_certificate_status{};
    out->serial = c.serial;
    out->asset = c.asset;
    out->payment_count_max = c.payment_count_max;
    out->remaining_payments = e.remaining_payments();
    out->counter_first = c.counter_first;
    out->last_counter_used = e.last_counter_used();
    PutU128(c.per_payment_max.minor(), out->per_payment_max);
    PutU128(c.allowance.minor(), out->allowance);
    PutU128(e.spent.minor(), out->spent);
    PutU128(e.remaining_allowance().minor(), out->remaining_allowance);
    PutU128(c.cvm_threshold.minor(), out->cvm_threshold);
    out->valid_from = c.valid_from;
    out->valid_until = c.valid_until;
    out->sync_pending = e.sync_pending ? 1 : 0;
    return Succeeded();
  });
}

const char* tpw_wallet_error_name(int code) {
  switch (code) {
#define TPW_X(name, value, message) \
  case value:                       \
    return #name;
    TPW_WALLET_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown";
}

const char* tpw_wallet_error_message(int code) {
  switch (code) {
#define TPW_X(name, value, message) \
  case value:                       \
    return message;
    TPW_WALLET_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown";
}

const char* tpw_wallet_last_detail(void) { return last_detail.c_str(); }

}  // extern "C"
