// tpwallet wallet create | show | install | pay | candidates | sync: the device side of offline
// payments on a wallet directory (src/wallet). docs/cli.md, "Offline payments: wallet and
// terminal", is the contract for options, output and exit codes.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/device_io.h"
#include "cli/format.h"
#include "cli/render.h"
#include "cli/values.h"
#include "crypto/base64.h"
#include "offline/messages.h"
#include "wallet/wallet.h"

namespace tpw::cli {

namespace {

namespace bj = boost::json;
using wallet::Wallet;
using wallet::WalletError;
using wallet::WalletFailure;


// Exit code for a wallet error (docs/cli.md, "Exit codes").
int WalletExitCode(WalletError error) {
  switch (error) {
    case WalletError::wallet_exists:
    case WalletError::no_wallet:
    case WalletError::wallet_locked:
      return kExitDataDir;
    case WalletError::wrong_passphrase:
      return kExitPassphrase;
    case WalletError::corrupt_keystore:
    case WalletError::corrupt_state:
    case WalletError::keystore_state_mismatch:
      return kExitDamaged;
    case WalletError::storage_failed:
      return kExitStorage;
    case WalletError::invalid_passphrase:
    case WalletError::malformed_certificate:
    case WalletError::malformed_sync_statement:
    case WalletError::malformed_request:
    case WalletError::ambiguous_certificate:
      return kExitUsage;
    case WalletError::unknown_serial:
      return kExitNotFound;
    case WalletError::no_certificate_for_asset:
    case WalletError::asset_mismatch:
    case WalletError::certificate_not_yet_valid:
    case WalletError::certificate_expired:
    case WalletError::counters_exhausted:
    case WalletError::over_per_payment_max:
    case WalletError::allowance_exhausted:
    case WalletError::pin_required:
    case WalletError::sync_pending:
      return kExitDeclined;
    case WalletError::out_of_memory:
    case WalletError::issuer_not_pinned:
    case WalletError::issuer_already_pinned:
    case WalletError::unknown_issuer_key:
    case WalletError::bad_certificate_signature:
    case WalletError::wrong_device:
    case WalletError::serial_conflict:
    case WalletError::counter_range_reused:
    case WalletError::too_many_certificates:
    case WalletError::bad_sync_statement_signature:
    case WalletError::unknown_previous_certificate:
    case WalletError::sync_mismatch:
    case WalletError::no_certificate:
      return kExitRejected;
    case WalletError::ok:
    case WalletError::buffer_too_small:
    case WalletError::invalid_argument:
    case WalletError::internal_error:
      return kExitInternal;
  }
  return kExitInternal;
}

// What a person can do about an error, or "" when the message says it all.
std::string WalletAdvice(WalletError error, const std::string& dir) {
  switch (error) {
    case WalletError::no_wallet:
      return "create one with `tpwallet wallet create --wallet-dir " + dir + "`";
    case WalletError::wallet_exists:
      return "use another --wallet-dir, or use this wallet";
    case WalletError::wrong_passphrase:
      return "check the passphrase (--passphrase-file, $TPWALLET_WALLET_PASSPHRASE)";
    case WalletError::wallet_locked:
      return "another tpwallet command is using this wallet; wait for it to finish";
    case WalletError::issuer_not_pinned:
      return "pin the issuer key: add --issuer-key KEYID:KEY (from `tpwallet issuer show`)";
    case WalletError::no_certificate_for_asset:
      return "the issuer must enroll this device for the asset (`tpwallet device enroll`), then "
             "`tpwallet wallet install` the certificate";
    case WalletError::certificate_expired:
    case WalletError::counters_exhausted:
    case WalletError::allowance_exhausted:
      return "sync the wallet online (`tpwallet wallet sync`) to get a new certificate";
    case WalletError::over_per_payment_max:
      return "ask for a smaller amount, or pay the rest online";
    case WalletError::pin_required:
      return "verify the PIN on the device and pay again with --pin";
    case WalletError::sync_pending:
      return "install the sync statement the issuer returned (`tpwallet wallet install FILE`)";
    case WalletError::ambiguous_certificate:
      return "name the certificate with --serial N (see `tpwallet wallet show`)";
    case WalletError::counter_range_reused:
      return "install certificates in the order the issuer issued them";
    default:
      return "";
  }
}

CommandError WalletErrorOf(const WalletFailure& failure, const std::string& dir) {
  std::string message = failure.Message();
  const std::string advice = WalletAdvice(failure.code, dir);
  if (!advice.empty()) message += "; " + advice;
  return CommandError{WalletExitCode(failure.code), "wallet",
                      std::string(wallet::WalletErrorName(failure.code)), message};
}

// The wallet directory, open and unlocked. Members go in reverse: the wallet before its storage.
struct OpenWallet {
  std::unique_ptr<storage::PosixStorage> storage;
  std::unique_ptr<Wallet> wallet;
};

CommandResult<OpenWallet> Unlock(const DeviceOptions& o) {
  OpenWallet open;
  auto storage = OpenDeviceDir(o, kWalletKind, false);
  if (!storage.ok()) return Fail(storage.error());
  open.storage = std::move(storage).value();
  // Say "no wallet here" before asking for a passphrase that could not help.
  auto info = Wallet::Inspect(*open.storage);
  if (!info.ok() && info.error().code == WalletError::no_wallet) {
    return Fail(WalletErrorOf(info.error(), o.dir));
  }
  auto passphrase = ReadPassphrase(o, kWalletKind, false);
  if (!passphrase.ok()) return Fail(passphrase.error());
  auto opened = Wallet::Open(*open.storage, passphrase.value());
  if (!opened.ok()) return Fail(WalletErrorOf(opened.error(), o.dir));
  open.wallet = std::move(opened).value();
  return open;
}

std::string DeviceIdText(u128 id) { return U128ToDecimal(id); }


// ---- wallet create --------------------------------------------------------------------------

struct WalletCreateOptions {
  DeviceOptions device;
  std::string issuer_key;
};

int RunWalletCreate(const WalletCreateOptions& o) {
  wallet::CreateOptions create;
  create.kdf = KdfForNewKeystore();
  if (!o.issuer_key.empty()) {
    InputResult<IssuerKeyArg> key = ParseIssuerKeyArg("--issuer-key", o.issuer_key);
    if (!key.ok()) return Report(o.device.common, InputErrorOf(key.error()));
    create.issuer = wallet::IssuerKey{key.value().key_id, key.value().public_key};
  }
  auto storage = OpenDeviceDir(o.device, kWalletKind, true);
  if (!storage.ok()) return Report(o.device.common, storage.error());
  // Refuse an existing wallet before asking for a passphrase.
  auto existing = Wallet::Inspect(*storage.value());
  if (existing.ok()) {
    return Report(
        o.device.common,
        WalletErrorOf(WalletFailure{WalletError::wallet_exists, o.device.dir}, o.device.dir));
  }
  auto passphrase = ReadPassphrase(o.device, kWalletKind, true);
  if (!passphrase.ok()) return Report(o.device.common, passphrase.error());
  auto created = Wallet::Create(*storage.value(), passphrase.value(), create);
  if (!created.ok()) return Report(o.device.common, WalletErrorOf(created.error(), o.device.dir));
  const Wallet& w = *created.value();
  const std::string id = DeviceIdText(w.device_id());
  const std::string key_hex = HexOf(w.device_public_key().bytes);
  if (o.device.common.json) {
    bj::object out;
    out["wallet_dir"] = o.device.dir;
    out["device_id"] = id;
    out["device_public_key"] = key_hex;
    out["device_public_key_base64url"] = Base64Url(w.device_public_key().bytes);
    out["issuer_key_id"] = create.issuer ? bj::value(create.issuer->key_id) : bj::value(nullptr);
    PrintJson(out);
    return kExitOk;
  }
  std::printf("wallet created in %s\n", o.device.dir.c_str());
  std::printf("  device id:          %s\n", id.c_str());
  std::printf("  device public key:  %s\n", key_hex.c_str());
  if (create.issuer) {
    std::printf("  issuer key:         %u (pinned)\n", create.issuer->key_id);
  } else {
    std::printf("  issuer key:         not pinned (give --issuer-key to `wallet install`)\n");
  }
  std::printf(
      "next: on the issuer, enroll this device, then install the certificate it prints:\n"
      "  tpwallet device enroll --device %s --public-key %s --user-account ACCOUNT "
      "--ledger USD --allowance 100.00 --per-payment-max 20.00 --payments-max 10 --out cert.bin\n"
      "  tpwallet wallet install cert.bin --wallet-dir %s\n",
      id.c_str(), key_hex.c_str(), o.device.dir.c_str());
  return kExitOk;
}

// ---- wallet show ----------------------------------------------------------------------------

std::string CertificateStatus(const wallet::CertificateState& c, uint64_t now_ms) {
  if (c.sync_pending) return "sync_pending";
  if (now_ms < c.certificate.valid_from) return "not_yet_valid";
  if (now_ms >= c.certificate.valid_until) return "expired";
  if (c.remaining_payments() == 0) return "counters_exhausted";
  if (c.remaining_allowance().is_zero()) return "allowance_exhausted";
  return "ok";
}

bj::object CertificateJson(const wallet::CertificateState& c, uint64_t now_ms) {
  const offline::DeviceCertificate& cert = c.certificate;
  const AssetTable& assets = Assets();
  bj::object out;
  out["serial"] = std::to_string(cert.serial);
  out["previous_serial"] = std::to_string(cert.previous_serial);
  out["issuer_key_id"] = cert.issuer_key_id;
  out["ledger"] = cert.asset;
  const Asset* asset = assets.FindByLedger(cert.asset);
  out["asset"] = asset != nullptr ? bj::value(asset->code) : bj::value(nullptr);
  out["reserve_account_id"] = U128ToDecimal(cert.reserve_account_id);
  PutAmount(out, "per_payment_max", assets, cert.asset, cert.per_payment_max);
  PutAmount(out, "allowance", assets, cert.asset, cert.allowance);
  PutAmount(out, "cvm_threshold", assets, cert.asset, cert.cvm_threshold);
  PutAmount(out, "spent", assets, cert.asset, c.spent);
  PutAmount(out, "remaining_allowance", assets, cert.asset, c.remaining_allowance());
  out["payment_count_max"] = cert.payment_count_max;
  out["counters_used"] = c.counters_used;
  out["remaining_payments"] = c.remaining_payments();
  out["counter_first"] = std::to_string(cert.counter_first);
  out["counter_last"] = std::to_string(cert.counter_last());
  out["last_counter_used"] = std::to_string(c.last_counter_used());
  out["valid_from"] = std::to_string(cert.valid_from);
  out["valid_until"] = std::to_string(cert.valid_until);
  out["sync_pending"] = c.sync_pending;
  out["status"] = CertificateStatus(c, now_ms);
  return out;
}

int RunShow(const DeviceOptions& o) {
  auto storage = OpenDeviceDir(o, kWalletKind, false);
  if (!storage.ok()) return Report(o.common, storage.error());
  auto info = Wallet::Inspect(*storage.value());
  if (!info.ok()) return Report(o.common, WalletErrorOf(info.error(), o.dir));
  const wallet::WalletInfo& w = info.value();
  const uint64_t now = NowMs();
  const bool any_token = w.tokens_signed > 0;
  if (o.common.json) {
    bj::object out;
    out["wallet_dir"] = o.dir;
    out["device_id"] = DeviceIdText(w.device_id);
    out["device_public_key"] = HexOf(w.device_public_key.bytes);
    out["issuer_key_id"] = w.issuer ? bj::value(w.issuer->key_id) : bj::value(nullptr);
    out["issuer_public_key"] =
        w.issuer ? bj::value(HexOf(w.issuer->public_key.bytes)) : bj::value(nullptr);
    out["tokens_signed"] = std::to_string(w.tokens_signed);
    out["last_token_id"] =
        any_token ? bj::value(HexOf(w.previous_token_hash)) : bj::value(nullptr);
    out["counter_high_water"] = std::to_string(w.counter_high_water);
    bj::array certs;
    for (const auto& c : w.certificates) certs.push_back(CertificateJson(c, now));
    out["certificates"] = std::move(certs);
    PrintJson(out);
    return kExitOk;
  }
  std::printf("wallet %s\n", o.dir.c_str());
  std::printf("  device id:          %s\n", DeviceIdText(w.device_id).c_str());
  std::printf("  device public key:  %s\n", HexOf(w.device_public_key.bytes).c_str());
  if (w.issuer) {
    std::printf("  issuer key:         %u %s\n", w.issuer->key_id,
                HexOf(w.issuer->public_key.bytes).c_str());
  } else {
    std::printf("  issuer key:         not pinned\n");
  }
  std::printf("  tokens signed:      %llu\n", static_cast<unsigned long long>(w.tokens_signed));
  std::printf("  last token id:      %s\n",
              any_token ? HexOf(w.previous_token_hash).c_str() : "none");
  if (w.certificates.empty()) {
    std::printf(
        "no certificate installed: enroll the device on the issuer and "
        "`tpwallet wallet install` the certificate\n");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : w.certificates) {
    const offline::DeviceCertificate& cert = c.certificate;
    rows.push_back(
        {std::to_string(cert.serial), AssetText(Assets(), cert.asset),
         Money(cert.asset, cert.per_payment_max), Money(cert.asset, cert.allowance),
         Money(cert.asset, c.spent), Money(cert.asset, c.remaining_allowance()),
         std::to_string(c.remaining_payments()) + " of " + std::to_string(cert.payment_count_max),
         std::to_string(cert.counter_first) + ".." + std::to_string(cert.counter_last()),
         cert.cvm_threshold == Amount::Max() ? std::string("never") : Money(cert.asset, cert.cvm_threshold),
         FormatMsUtc(cert.valid_until),
         CertificateStatus(c, now)});
  }
  std::printf("%s",
              RenderTable({"serial", "asset", "per payment max", "allowance", "spent", "remaining",
                           "payments left", "counters", "PIN above", "valid until", "status"},
                          rows)
                  .c_str());
  return kExitOk;
}

// ---- wallet install -------------------------------------------------------------------------

struct InstallOptions {
  DeviceOptions device;
  std::string message;
  std::string issuer_key;
};

int RunInstall(const InstallOptions& o) {
  std::optional<wallet::IssuerKey> pin;
  if (!o.issuer_key.empty()) {
    InputResult<IssuerKeyArg> key = ParseIssuerKeyArg("--issuer-key", o.issuer_key);
    if (!key.ok()) return Report(o.device.common, InputErrorOf(key.error()));
    pin = wallet::IssuerKey{key.value().key_id, key.value().public_key};
  }
  auto bytes = ReadMessageArg("FILE|TEXT", o.message);
  if (!bytes.ok()) return Report(o.device.common, bytes.error());
  const std::vector<uint8_t>& m = bytes.value();
  const auto type = static_cast<offline::MessageType>(m.empty() ? 0 : m[0]);
  const bool is_statement = type == offline::MessageType::sync_statement;
  if (type != offline::MessageType::device_certificate && !is_statement) {
    return Report(
        o.device.common,
        CommandError{kExitUsage, "input", "wrong_type",
                     "FILE|TEXT is a message of type " + std::to_string(m.empty() ? 0 : m[0]) +
                         ", not a device certificate (type 1) or a sync statement "
                         "(type 7): give what `tpwallet device enroll` or "
                         "`tpwallet device sync` wrote"});
  }
  auto open = Unlock(o.device);
  if (!open.ok()) return Report(o.device.common, open.error());
  Wallet& w = *open.value().wallet;
  if (pin) {
    const wallet::WalletStatus pinned = w.PinIssuer(*pin);
    if (!pinned.ok()) return Report(o.device.common, WalletErrorOf(pinned.error(), o.device.dir));
  }
  auto installed = is_statement ? w.InstallSyncStatement(m) : w.InstallCertificate(m);
  if (!installed.ok()) {
    return Report(o.device.common, WalletErrorOf(installed.error(), o.device.dir));
  }
  const wallet::InstallOutcome& outcome = installed.value();
  const wallet::WalletInfo info = w.Info();
  const wallet::CertificateState* state = nullptr;
  for (const auto& c : info.certificates) {
    if (c.certificate.serial == outcome.serial) state = &c;
  }
  TPW_ASSERT(state != nullptr);
  std::optional<offline::SyncStatement> statement;
  if (is_statement) {
    auto decoded = offline::DecodeSyncStatement(m);
    TPW_ASSERT(decoded.ok());  // the wallet installed it
    statement = decoded.value();
  }
  const uint32_t ledger = state->certificate.asset;
  if (o.device.common.json) {
    bj::object out;
    out["kind"] = is_statement ? "sync_statement" : "certificate";
    out["serial"] = std::to_string(outcome.serial);
    out["already_installed"] = outcome.already_installed;
    out["replaced_serial"] = outcome.replaced_serial
                                 ? bj::value(std::to_string(*outcome.replaced_serial))
                                 : bj::value(nullptr);
    out["certificate"] = CertificateJson(*state, NowMs());
    if (statement) {
      PutAmount(out, "cleared", Assets(), ledger, statement->cleared_amount);
      PutAmount(out, "held", Assets(), ledger, statement->held_amount);
      PutAmount(out, "reserve_balance", Assets(), ledger, statement->reserve_balance);
    }
    PrintJson(out);
    return kExitOk;
  }
  std::printf("%s serial %llu %s", is_statement ? "sync statement: certificate" : "certificate",
              static_cast<unsigned long long>(outcome.serial),
              outcome.already_installed ? "was already installed (nothing changed)" : "installed");
  if (outcome.replaced_serial) {
    std::printf(", replacing serial %llu",
                static_cast<unsigned long long>(*outcome.replaced_serial));
  }
  std::printf("\n");
  const offline::DeviceCertificate& cert = state->certificate;
  const std::string pin_rule = cert.cvm_threshold == Amount::Max()
                              ? std::string("never required")
                              : "above " + Money(ledger, cert.cvm_threshold);
  std::printf("  allowance:        %s (per payment at most %s; PIN %s)\n",
              Money(ledger, cert.allowance).c_str(), Money(ledger, cert.per_payment_max).c_str(),
              pin_rule.c_str());
  std::printf("  payments:         %u (counters %llu..%llu)\n", cert.payment_count_max,
              static_cast<unsigned long long>(cert.counter_first),
              static_cast<unsigned long long>(cert.counter_last()));
  std::printf("  valid:            %s .. %s\n", FormatMsUtc(cert.valid_from).c_str(),
              FormatMsUtc(cert.valid_until).c_str());
  if (statement) {
    std::printf("  cleared so far:   %s under serial %llu; held for uncleared tokens: %s\n",
                Money(ledger, statement->cleared_amount).c_str(),
                static_cast<unsigned long long>(statement->previous_serial),
                Money(ledger, statement->held_amount).c_str());
    std::printf("  reserve balance:  %s\n", Money(ledger, statement->reserve_balance).c_str());
  }
  return kExitOk;
}

// ---- wallet pay / candidates ----------------------------------------------------------------

struct PayCliOptions {
  DeviceOptions device;
  std::string request;
  bool pin = false;
  std::string serial;
  std::string out;
  bool no_qr = false;
};

CommandResult<wallet::PayOptions> PayOptionsOf(const PayCliOptions& o) {
  wallet::PayOptions options;
  options.pin_verified = o.pin;
  if (!o.serial.empty()) {
    InputResult<uint64_t> serial = ParseUnsignedText("--serial", o.serial, UINT64_MAX);
    if (!serial.ok()) return Fail(InputErrorOf(serial.error()));
    options.serial = serial.value();
  }
  return options;
}

// The request, decoded for the summary (the wallet decodes it again and says why it refuses).
CommandResult<std::pair<std::vector<uint8_t>, offline::PaymentRequest>> ReadRequest(
    const std::string& arg) {
  auto bytes = ReadMessageArg("REQUEST", arg);
  if (!bytes.ok()) return Fail(bytes.error());
  auto request = offline::DecodeRequest(bytes.value());
  if (!request.ok()) {
    return Fail(CommandError{kExitUsage, "input", "malformed_request",
                             "REQUEST is not a payment request: " + request.error().Message() +
                                 "; give the text `tpwallet terminal request` printed"});
  }
  return std::make_pair(std::move(bytes).value(), request.value());
}

int RunPay(const PayCliOptions& o) {
  auto options = PayOptionsOf(o);
  if (!options.ok()) return Report(o.device.common, options.error());
  auto request = ReadRequest(o.request);
  if (!request.ok()) return Report(o.device.common, request.error());
  const offline::PaymentRequest& r = request.value().second;
  auto open = Unlock(o.device);
  if (!open.ok()) return Report(o.device.common, open.error());
  auto paid = open.value().wallet->Pay(request.value().first, options.value(), NowMs());
  if (!paid.ok()) {
    CommandError error = WalletErrorOf(paid.error(), o.device.dir);
    if (error.exit_code == kExitDeclined) {
      error.message = "payment of " + Money(r.asset, r.amount) + " declined: " + error.message;
    }
    return Report(o.device.common, error);
  }
  const wallet::Payment& p = paid.value();
  const std::string text = Base64Url(p.token);
  if (!o.out.empty()) {
    const std::string line = text + "\n";
    if (auto failed = WriteOutputFile(
            o.out, std::span(reinterpret_cast<const uint8_t*>(line.data()), line.size()))) {
      // The counter is already used and the token exists: print it anyway, then report.
      std::fprintf(stderr, "token (not written to %s): %s\n", o.out.c_str(), text.c_str());
      return Report(o.device.common, *failed);
    }
  }
  if (o.device.common.json) {
    bj::object out;
    out["token"] = text;
    out["token_id"] = HexOf(p.token_id);
    out["serial"] = std::to_string(p.serial);
    out["counter"] = std::to_string(p.counter);
    out["ledger"] = r.asset;
    PutAmount(out, "amount", Assets(), r.asset, p.amount);
    out["cvm"] = p.cvm == offline::Cvm::pin ? "pin" : "none";
    out["merchant_id"] = U128ToDecimal(r.merchant_id);
    out["terminal_id"] = U128ToDecimal(r.terminal_id);
    PutAmount(out, "remaining_allowance", Assets(), r.asset, p.remaining_allowance);
    out["remaining_payments"] = p.remaining_payments;
    out["out"] = o.out.empty() ? bj::value(nullptr) : bj::value(o.out);
    PrintJson(out);
    return kExitOk;
  }
  std::printf("paid %s to merchant %s at terminal %s\n", Money(r.asset, p.amount).c_str(),
              U128ToDecimal(r.merchant_id).c_str(), U128ToDecimal(r.terminal_id).c_str());
  std::printf("  certificate serial %llu, counter %llu, %s\n",
              static_cast<unsigned long long>(p.serial), static_cast<unsigned long long>(p.counter),
              p.cvm == offline::Cvm::pin ? "PIN verified" : "no PIN");
  std::printf("  remaining: %s, %u payments\n", Money(r.asset, p.remaining_allowance).c_str(),
              p.remaining_payments);
  std::printf("  token id:  %s\n", HexOf(p.token_id).c_str());
  if (!o.out.empty()) std::printf("  written to %s\n", o.out.c_str());
  std::printf("token (show it to the terminal: `tpwallet terminal accept TOKEN`):\n%s\n",
              text.c_str());
  if (!o.no_qr) {
    const std::optional<std::string> qr = QrCodeText(text);
    std::printf("%s", qr ? qr->c_str() : "(no QR code: the text does not fit one)\n");
  }
  return kExitOk;
}

int RunCandidates(const PayCliOptions& o) {
  auto options = PayOptionsOf(o);
  if (!options.ok()) return Report(o.device.common, options.error());
  auto request = ReadRequest(o.request);
  if (!request.ok()) return Report(o.device.common, request.error());
  const offline::PaymentRequest& r = request.value().second;
  auto open = Unlock(o.device);
  if (!open.ok()) return Report(o.device.common, open.error());
  auto candidates =
      open.value().wallet->Candidates(request.value().first, options.value(), NowMs());
  if (!candidates.ok()) {
    return Report(o.device.common, WalletErrorOf(candidates.error(), o.device.dir));
  }
  const std::vector<wallet::Candidate>& list = candidates.value();
  const wallet::Candidate* chosen = nullptr;
  for (const auto& c : list) {
    if (c.verdict == WalletError::ok && chosen == nullptr) chosen = &c;
  }
  if (o.device.common.json) {
    bj::object out;
    out["ledger"] = r.asset;
    PutAmount(out, "amount", Assets(), r.asset, r.amount);
    bj::array items;
    for (const auto& c : list) {
      bj::object item;
      item["serial"] = std::to_string(c.serial);
      item["verdict"] = wallet::WalletErrorName(c.verdict);
      item["detail"] = c.detail;
      PutAmount(item, "remaining_allowance", Assets(), r.asset, c.remaining_allowance);
      item["remaining_payments"] = c.remaining_payments;
      item["valid_until"] = std::to_string(c.valid_until);
      items.push_back(std::move(item));
    }
    out["candidates"] = std::move(items);
    out["chosen_serial"] =
        chosen != nullptr ? bj::value(std::to_string(chosen->serial)) : bj::value(nullptr);
    PrintJson(out);
    return chosen != nullptr ? kExitOk : kExitDeclined;
  }
  std::printf("request: %s to merchant %s at terminal %s\n", Money(r.asset, r.amount).c_str(),
              U128ToDecimal(r.merchant_id).c_str(), U128ToDecimal(r.terminal_id).c_str());
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : list) {
    std::string verdict(c.verdict == WalletError::ok ? "can pay"
                                                     : wallet::WalletErrorName(c.verdict));
    if (!c.detail.empty()) verdict += " (" + c.detail + ")";
    rows.push_back({std::to_string(c.serial), Money(r.asset, c.remaining_allowance),
                    std::to_string(c.remaining_payments), FormatMsUtc(c.valid_until), verdict});
  }
  std::printf("%s",
              RenderTable({"serial", "remaining", "payments left", "valid until", "verdict"}, rows)
                  .c_str());
  if (chosen != nullptr) {
    std::printf("would pay from serial %llu\n", static_cast<unsigned long long>(chosen->serial));
    return kExitOk;
  }
  const wallet::Candidate& first = list.front();
  std::printf("no certificate can pay: the payment would be declined with %s\n",
              std::string(wallet::WalletErrorName(first.verdict)).c_str());
  return kExitDeclined;
}

// ---- wallet sync ----------------------------------------------------------------------------

struct SyncCliOptions {
  DeviceOptions device;
  std::string serial;
};

int RunSync(const SyncCliOptions& o) {
  std::optional<uint64_t> serial;
  if (!o.serial.empty()) {
    InputResult<uint64_t> parsed = ParseUnsignedText("--serial", o.serial, UINT64_MAX);
    if (!parsed.ok()) return Report(o.device.common, InputErrorOf(parsed.error()));
    serial = parsed.value();
  }
  auto open = Unlock(o.device);
  if (!open.ok()) return Report(o.device.common, open.error());
  auto request = open.value().wallet->MakeSyncRequest(serial);
  if (!request.ok()) return Report(o.device.common, WalletErrorOf(request.error(), o.device.dir));
  const wallet::SyncRequest& s = request.value();
  uint32_t ledger = 0;  // the synced certificate's asset, for the spent figure
  for (const auto& c : open.value().wallet->Info().certificates) {
    if (c.certificate.serial == s.serial) ledger = c.certificate.asset;
  }
  const std::string id = DeviceIdText(s.device_id);
  const std::string signature = Base64Url(s.signature.bytes);
  const std::string command = "tpwallet device sync --device " + id + " --last-counter " +
                              std::to_string(s.last_counter_used) + " --signature " + signature +
                              " --out sync-" + id + ".bin";
  if (o.device.common.json) {
    bj::object out;
    out["device_id"] = id;
    out["serial"] = std::to_string(s.serial);
    out["last_counter_used"] = std::to_string(s.last_counter_used);
    out["ledger"] = ledger;
    PutAmount(out, "spent", Assets(), ledger, s.spent);
    out["signature"] = signature;
    out["request"] = Base64Url(s.Encode());
    out["issuer_command"] = command;
    PrintJson(out);
    return kExitOk;
  }
  std::printf(
      "sync request signed; certificate serial %llu pays no more until you install the "
      "sync statement\n",
      static_cast<unsigned long long>(s.serial));
  std::printf("  device id:          %s\n", id.c_str());
  std::printf("  serial:             %llu\n", static_cast<unsigned long long>(s.serial));
  std::printf("  last counter used:  %llu\n", static_cast<unsigned long long>(s.last_counter_used));
  std::printf("  spent:              %s (the device's own figure; not signed, not trusted)\n",
              Money(ledger, s.spent).c_str());
  std::printf("  signature:          %s\n", signature.c_str());
  std::printf(
      "next: on the issuer, run\n  %s\nthen install the statement here:\n"
      "  tpwallet wallet install sync-%s.bin --wallet-dir %s\n",
      command.c_str(), id.c_str(), o.device.dir.c_str());
  return kExitOk;
}

// ---- registration ---------------------------------------------------------------------------

void AddPayOptions(CLI::App& cmd, PayCliOptions& o) {
  AddDeviceOptions(cmd, o.device, kWalletKind, true);
  cmd.add_option("REQUEST", o.request,
                 "The payment request: its base64url text, a file holding it, or - for stdin")
      ->required();
  cmd.add_flag("--pin", o.pin, "The PIN was verified on the device (needed above the threshold)");
  cmd.add_option("--serial", o.serial, "Pay from this certificate (default: the funding rule)");
}

}  // namespace

void RegisterWalletCommands(CLI::App& app, int& exit_code) {
  CLI::App* wallet = app.add_subcommand(
      "wallet",
      "The device side of offline payments: a wallet directory with the device key, "
      "certificates and counters.\nExample: tpwallet wallet show");
  wallet->require_subcommand(1);

  auto create = std::make_shared<WalletCreateOptions>();
  CLI::App* create_cmd = wallet->add_subcommand(
      "create",
      "Create a wallet: a new device key (sealed under the passphrase) and a random device id. "
      "Prints the device id and public key, which `tpwallet device enroll` needs.\n"
      "Example: tpwallet wallet create --wallet-dir ./alice --issuer-key 1:<64 hex>");
  AddDeviceOptions(*create_cmd, create->device, kWalletKind, true);
  create_cmd->add_option("--issuer-key", create->issuer_key,
                         "Pin the issuer key now: KEYID:KEY (KEY 64 hex or 43 base64url)");
  create_cmd->callback([create, &exit_code] { exit_code = RunWalletCreate(*create); });

  auto show = std::make_shared<DeviceOptions>();
  CLI::App* show_cmd = wallet->add_subcommand(
      "show",
      "Show the wallet without unlocking it: device, issuer key, certificates with counters, "
      "spent and remaining allowance, sync state.\nExample: tpwallet wallet show --json");
  AddDeviceOptions(*show_cmd, *show, kWalletKind, false);
  show_cmd->callback([show, &exit_code] { exit_code = RunShow(*show); });

  auto install = std::make_shared<InstallOptions>();
  CLI::App* install_cmd = wallet->add_subcommand(
      "install",
      "Install a device certificate (from `device enroll`) or a sync statement (from `device "
      "sync`); the type is read from the message.\nExample: tpwallet wallet install cert.bin");
  AddDeviceOptions(*install_cmd, install->device, kWalletKind, true);
  install_cmd
      ->add_option("FILE|TEXT", install->message,
                   "The message: a file (binary or text), its base64url text, or - for stdin")
      ->required();
  install_cmd->add_option("--issuer-key", install->issuer_key,
                          "Pin this issuer key first (KEYID:KEY), if none is pinned yet");
  install_cmd->callback([install, &exit_code] { exit_code = RunInstall(*install); });

  auto pay = std::make_shared<PayCliOptions>();
  CLI::App* pay_cmd = wallet->add_subcommand(
      "pay",
      "Pay a terminal's request offline: check the limits, use a counter (durably), sign the "
      "token and print it as base64url text and a QR code.\n"
      "Example: tpwallet wallet pay AgEAAAEAAAA... --pin");
  AddPayOptions(*pay_cmd, *pay);
  pay_cmd->add_option("--out", pay->out, "Also write the token's text to FILE");
  pay_cmd->add_flag("--no-qr", pay->no_qr, "Do not draw the QR code");
  pay_cmd->callback([pay, &exit_code] { exit_code = RunPay(*pay); });

  auto candidates = std::make_shared<PayCliOptions>();
  CLI::App* candidates_cmd = wallet->add_subcommand(
      "candidates",
      "Show which certificates could pay a request, in funding order, and why the others "
      "cannot. Signs nothing.\nExample: tpwallet wallet candidates request.txt");
  AddPayOptions(*candidates_cmd, *candidates);
  candidates_cmd->callback([candidates, &exit_code] { exit_code = RunCandidates(*candidates); });

  auto sync = std::make_shared<SyncCliOptions>();
  CLI::App* sync_cmd = wallet->add_subcommand(
      "sync",
      "Sign a sync request for a certificate (it pays no more until the statement is "
      "installed) and print the `tpwallet device sync` command to run on the issuer.\n"
      "Example: tpwallet wallet sync --serial 1");
  AddDeviceOptions(*sync_cmd, sync->device, kWalletKind, true);
  sync_cmd->add_option("--serial", sync->serial,
                       "The certificate to sync (default: the only one held)");
  sync_cmd->callback([sync, &exit_code] { exit_code = RunSync(*sync); });
}

}  // namespace tpw::cli
