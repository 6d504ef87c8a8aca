// tpwallet terminal init | request | accept | void | batch | uploaded | denylist update | status:
// the merchant terminal of offline payments on a terminal directory (src/terminal). The issuer's
// side of terminals (register, deactivate) lives elsewhere under the same `terminal` command.
//
// Outstanding requests. The terminal library keeps payment requests in memory only (a point of
// sale runs one long process). The CLI ends between `terminal request` and `terminal accept`,
// so it saves them in kRequestsFileName in the terminal directory (layout below, replaced
// atomically, only while the terminal's directory lock is held) and hands them back to the
// library after Open (Terminal::RestoreRequest). Requests are not journaled: the file is a
// convenience, not the book of record. Before Accept the answered request is removed from the
// file and put back only if the token is declined, so a crash in between forgets the request
// (the customer is asked again) and never keeps a request alive that a token already answered.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/device_io.h"
#include "cli/format.h"
#include "cli/render.h"
#include "cli/values.h"
#include "common/assert.h"
#include "crypto/hash.h"
#include "offline/messages.h"
#include "terminal/terminal.h"

namespace tpw::cli {

namespace {

namespace bj = boost::json;
using terminal::AcceptCode;
using terminal::Terminal;
using terminal::TerminalError;
using terminal::TerminalFailure;


// ---- The outstanding-requests file ----------------------------------------------------------
//
//   magic "TPWREQS1" (8) | count u32 LE (0..64) | reserved u32 = 0
//   count x { issued_ms u64 LE | payment request (88 bytes, docs/offline-protocol.md) }
//   BLAKE2b-256 of every byte before it (32)
inline constexpr std::string_view kRequestsFileName = "cli-requests.state";
inline constexpr std::string_view kRequestsMagic = "TPWREQS1";
inline constexpr size_t kRequestsHeaderBytes = 16;
inline constexpr size_t kRequestEntryBytes = 8 + offline::kRequestBytes;
inline constexpr size_t kRequestsFileBytesMax =
    kRequestsHeaderBytes + terminal::kOutstandingRequestsMax * kRequestEntryBytes + 32;

void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::vector<uint8_t> EncodeRequests(const std::vector<terminal::OutstandingRequest>& requests) {
  TPW_ASSERT(requests.size() <= terminal::kOutstandingRequestsMax);
  std::vector<uint8_t> out(kRequestsMagic.begin(), kRequestsMagic.end());
  const auto count = static_cast<uint32_t>(requests.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(count >> (8 * i)));
  out.insert(out.end(), 4, 0);
  for (const auto& r : requests) {
    PutU64(out, r.issued_ms);
    const std::vector<uint8_t> bytes = offline::Encode(r.request);
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  const crypto::Hash256 sum = crypto::Blake2b256(out);
  out.insert(out.end(), sum.begin(), sum.end());
  return out;
}

// nullopt with `why` set when the file is damaged.
std::optional<std::vector<terminal::OutstandingRequest>> DecodeRequests(
    std::span<const uint8_t> bytes, std::string& why) {
  if (bytes.size() < kRequestsHeaderBytes + 32) {
    why = "shorter than its header";
    return std::nullopt;
  }
  const std::span<const uint8_t> body = bytes.first(bytes.size() - 32);
  const crypto::Hash256 sum = crypto::Blake2b256(body);
  if (std::memcmp(sum.data(), bytes.data() + body.size(), sum.size()) != 0) {
    why = "its checksum does not match";
    return std::nullopt;
  }
  if (std::memcmp(bytes.data(), kRequestsMagic.data(), kRequestsMagic.size()) != 0) {
    why = "wrong magic bytes";
    return std::nullopt;
  }
  uint32_t count = 0;
  for (int i = 3; i >= 0; --i) count = (count << 8) | bytes[8 + static_cast<size_t>(i)];
  if (count > terminal::kOutstandingRequestsMax ||
      body.size() != kRequestsHeaderBytes + count * kRequestEntryBytes) {
    why = "its request count does not match its size";
    return std::nullopt;
  }
  std::vector<terminal::OutstandingRequest> out;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* entry = bytes.data() + kRequestsHeaderBytes + i * kRequestEntryBytes;
    auto request = offline::DecodeRequest(std::span(entry + 8, offline::kRequestBytes));
    if (!request.ok()) {
      why = "request " + std::to_string(i) + ": " + request.error().Message();
      return std::nullopt;
    }
    out.push_back(terminal::OutstandingRequest{request.value(), GetU64(entry)});
  }
  return out;
}

// ---- Errors ---------------------------------------------------------------------------------

int TerminalExitCode(TerminalError error) {
  switch (error) {
    case TerminalError::invalid_argument:
    case TerminalError::deny_list_malformed:
      return kExitUsage;
    case TerminalError::already_exists:
    case TerminalError::not_a_terminal:
    case TerminalError::locked:
      return kExitDataDir;
    case TerminalError::config_corrupt:
    case TerminalError::journal_corrupt:
      return kExitDamaged;
    case TerminalError::keystore_failed:
      return kExitPassphrase;
    case TerminalError::storage_failed:
      return kExitStorage;
    case TerminalError::unknown_token:
    case TerminalError::unknown_batch:
      return kExitNotFound;
    case TerminalError::deny_list_unknown_issuer_key:
    case TerminalError::deny_list_bad_signature:
    case TerminalError::deny_list_needs_full_list:
    case TerminalError::deny_list_outdated:
    case TerminalError::token_already_voided:
    case TerminalError::token_already_batched:
    case TerminalError::token_already_uploaded:
    case TerminalError::batch_already_uploaded:
      return kExitRejected;
  }
  return kExitInternal;
}

std::string TerminalAdvice(TerminalError error, const std::string& dir) {
  switch (error) {
    case TerminalError::not_a_terminal:
      return "create one with `tpwallet terminal init --terminal-dir " + dir + " ...`";
    case TerminalError::already_exists:
      return "use another --terminal-dir, or use this terminal";
    case TerminalError::keystore_failed:
      return "check the passphrase (--passphrase-file, $TPWALLET_TERMINAL_PASSPHRASE)";
    case TerminalError::locked:
      return "another tpwallet command is using this terminal; wait for it to finish";
    case TerminalError::deny_list_needs_full_list:
      return "export a full list on the issuer (`tpwallet denylist export`) and install it";
    case TerminalError::token_already_batched:
    case TerminalError::token_already_uploaded:
      return "refund the payment online instead";
    case TerminalError::unknown_token:
      return "token ids are the 64 hex digits `terminal accept` printed";
    case TerminalError::unknown_batch:
      return "batch ids are the 32 hex digits `terminal batch` printed";
    default:
      return "";
  }
}

CommandError TerminalErrorOf(const TerminalFailure& failure, const std::string& dir) {
  std::string message = failure.Message();
  const std::string advice = TerminalAdvice(failure.code, dir);
  if (!advice.empty()) message += "; " + advice;
  return CommandError{TerminalExitCode(failure.code), "terminal",
                      std::string(terminal::TerminalErrorName(failure.code)), message};
}

// ---- Opening --------------------------------------------------------------------------------

// The terminal directory, open, with its saved requests restored. The terminal closes before
// its storage goes away.
struct OpenTerminal {
  std::unique_ptr<storage::PosixStorage> storage;
  std::unique_ptr<Terminal> terminal;
  std::string dir;

  std::optional<CommandError> SaveRequests(uint64_t now_ms,
                                           const std::optional<offline::Nonce>& except = {}) {
    std::vector<terminal::OutstandingRequest> requests = terminal->OutstandingRequests(now_ms);
    if (except) {
      std::erase_if(requests, [&](const auto& r) { return r.request.nonce == *except; });
    }
    const storage::StorageStatus written =
        storage->WriteFileAtomically(kRequestsFileName, EncodeRequests(requests));
    if (written.ok()) return std::nullopt;
    return CommandError{kExitStorage, "storage",
                        std::string(storage::StorageErrorName(written.error().code)),
                        "saving the outstanding requests failed: " + written.error().Message()};
  }
};

CommandResult<OpenTerminal> Open(const DeviceOptions& o, uint64_t now_ms) {
  OpenTerminal open;
  open.dir = o.dir;
  auto storage = OpenDeviceDir(o, kTerminalKind, false);
  if (!storage.ok()) return Fail(storage.error());
  open.storage = std::move(storage).value();
  // "No terminal here" before asking for a passphrase that could not help.
  auto conf = open.storage->ReadFile("terminal.conf", 1);
  if (!conf.ok() && conf.error().code == storage::StorageError::not_found) {
    return Fail(TerminalErrorOf(TerminalFailure{TerminalError::not_a_terminal, o.dir}, o.dir));
  }
  auto passphrase = ReadPassphrase(o, kTerminalKind, false);
  if (!passphrase.ok()) return Fail(passphrase.error());
  auto opened = Terminal::Open(*open.storage, passphrase.value());
  if (!opened.ok()) return Fail(TerminalErrorOf(opened.error(), o.dir));
  open.terminal = std::move(opened).value();

  auto saved = open.storage->ReadFile(kRequestsFileName, kRequestsFileBytesMax);
  if (!saved.ok()) {
    if (saved.error().code == storage::StorageError::not_found) return open;
    return Fail(CommandError{
        kExitDamaged, "storage", std::string(storage::StorageErrorName(saved.error().code)),
        "cannot read " + open.storage->PathOf(kRequestsFileName) + ": " + saved.error().Message() +
            "; remove it to forget the outstanding requests"});
  }
  std::string why;
  auto requests = DecodeRequests(saved.value(), why);
  if (!requests) {
    return Fail(CommandError{kExitDamaged, "terminal", "requests_corrupt",
                             open.storage->PathOf(kRequestsFileName) + " is damaged (" + why +
                                 "); remove it to forget the outstanding requests (their "
                                 "customers are asked again)"});
  }
  for (const auto& r : *requests) {
    const terminal::TerminalStatus restored = open.terminal->RestoreRequest(r, now_ms);
    if (!restored.ok()) {  // the clock went back, or a file of another terminal: skip it
      std::fprintf(stderr, "warning: outstanding request %llu forgotten: %s\n",
                   static_cast<unsigned long long>(r.request.request_number),
                   restored.error().Message().c_str());
    }
  }
  return open;
}

bj::object DenyListJson(const terminal::DenyListInfo& d) {
  bj::object out;
  out["installed"] = d.installed;
  out["version"] = std::to_string(d.version);
  out["issued"] = std::to_string(d.issued_ms);
  out["max_age_ms"] = std::to_string(d.max_age_ms);
  out["entries"] = std::to_string(d.entries);
  out["age_ms"] = std::to_string(d.age_ms);
  out["stale"] = d.stale;
  return out;
}

std::string DurationText(uint64_t ms) {
  if (ms % 3'600'000 == 0 && ms > 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms > 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

void PrintDenyList(const terminal::DenyListInfo& d) {
  if (!d.installed) {
    std::printf(
        "  deny list:  none installed: every payment is declined (deny_list_stale); run "
        "`tpwallet terminal denylist update FILE`\n");
    return;
  }
  std::printf("  deny list:  version %llu, %llu devices, issued %s, age %s of max %s%s\n",
              static_cast<unsigned long long>(d.version),
              static_cast<unsigned long long>(d.entries), FormatMsUtc(d.issued_ms).c_str(),
              DurationText(d.age_ms).c_str(), DurationText(d.max_age_ms).c_str(),
              d.stale ? " - STALE: every payment is declined until a newer list is installed" : "");
}

template <size_t N>
InputResult<std::array<uint8_t, N>> ParseHexId(std::string_view field, std::string_view text) {
  std::array<uint8_t, N> out{};
  if (text.size() != 2 * N) {
    return InputFail(std::string(field) + " \"" + std::string(text) + "\" is not " +
                     std::to_string(2 * N) + " hex digits");
  }
  for (size_t i = 0; i < 2 * N; ++i) {
    const char c = text[i];
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) {
      return InputFail(std::string(field) + " \"" + std::string(text) + "\" is not " +
                       std::to_string(2 * N) + " hex digits");
    }
    out[i / 2] = static_cast<uint8_t>(out[i / 2] * 16 + digit);
  }
  return out;
}

// ---- terminal init --------------------------------------------------------------------------

struct InitOptions {
  DeviceOptions device;
  std::string terminal_id;
  std::string merchant_id;
  std::vector<std::string> issuer_keys;
};

int RunInit(const InitOptions& o) {
  FirstError errors;
  terminal::TerminalIdentity identity;
  identity.terminal_id =
      terminal::TerminalId(errors.Take(ParseIdText("--terminal", o.terminal_id)));
  identity.merchant_id =
      terminal::MerchantId(errors.Take(ParseIdText("--merchant", o.merchant_id)));
  for (const std::string& text : o.issuer_keys) {
    const IssuerKeyArg key = errors.Take(ParseIssuerKeyArg("--issuer-key", text));
    if (!errors.failed() && !identity.issuer_keys.emplace(key.key_id, key.public_key).second) {
      errors.Fail("--issuer-key: key id " + std::to_string(key.key_id) + " is given twice");
    }
  }
  if (!errors.failed() && identity.terminal_id.value == 0) errors.Fail("--terminal must not be 0");
  if (!errors.failed() && identity.merchant_id.value == 0) errors.Fail("--merchant must not be 0");
  if (errors.failed()) return Report(o.device.common, InputErrorOf(errors.error()));
  auto storage = OpenDeviceDir(o.device, kTerminalKind, true);
  if (!storage.ok()) return Report(o.device.common, storage.error());
  auto conf = storage.value()->ReadFile("terminal.conf", 1);
  if (conf.ok() || conf.error().code != storage::StorageError::not_found) {
    return Report(o.device.common,
                  TerminalErrorOf(TerminalFailure{TerminalError::already_exists, o.device.dir},
                                  o.device.dir));
  }
  auto passphrase = ReadPassphrase(o.device, kTerminalKind, true);
  if (!passphrase.ok()) return Report(o.device.common, passphrase.error());
  terminal::TerminalOptions options;
  options.kdf = KdfForNewKeystore();
  auto created = Terminal::Create(*storage.value(), identity, passphrase.value(), options);
  if (!created.ok()) {
    return Report(o.device.common, TerminalErrorOf(created.error(), o.device.dir));
  }
  const std::string key = HexOf(created.value()->public_key().bytes);
  const std::string tid = U128ToDecimal(identity.terminal_id.value);
  const std::string mid = U128ToDecimal(identity.merchant_id.value);
  if (o.device.common.json) {
    bj::object out;
    out["terminal_dir"] = o.device.dir;
    out["terminal_id"] = tid;
    out["merchant_id"] = mid;
    out["public_key"] = key;
    out["public_key_base64url"] = Base64Url(created.value()->public_key().bytes);
    bj::array keys;
    for (const auto& [id, pk] : identity.issuer_keys) keys.push_back(id);
    out["issuer_key_ids"] = std::move(keys);
    PrintJson(out);
    return kExitOk;
  }
  std::printf("terminal %s of merchant %s created in %s\n", tid.c_str(), mid.c_str(),
              o.device.dir.c_str());
  std::printf("  public key:  %s\n", key.c_str());
  std::printf(
      "next: register it on the issuer, and install a deny list (until then it "
      "declines every payment):\n"
      "  tpwallet terminal register --terminal %s --merchant %s --settlement-account "
      "ACCOUNT --public-key %s\n"
      "  tpwallet denylist export --out denylist.bin\n"
      "  tpwallet terminal denylist update denylist.bin --terminal-dir %s\n",
      tid.c_str(), mid.c_str(), key.c_str(), o.device.dir.c_str());
  return kExitOk;
}

// ---- terminal request -----------------------------------------------------------------------

struct RequestOptions {
  DeviceOptions device;
  std::string amount;
  std::string ledger;
  bool minor = false;
  bool no_qr = false;
  std::string out;
};

int RunRequest(const RequestOptions& o) {
  InputResult<uint32_t> ledger = ParseLedgerText(o.ledger, Assets());
  if (!ledger.ok()) return Report(o.device.common, InputErrorOf(ledger.error()));
  InputResult<Amount> amount =
      ParseAmountText("--amount", o.amount, ledger.value(), o.minor, Assets());
  if (!amount.ok()) return Report(o.device.common, InputErrorOf(amount.error()));
  if (amount.value().is_zero()) {
    return Report(o.device.common, UsageError("--amount must be more than 0"));
  }
  const uint64_t now = NowMs();
  auto open = Open(o.device, now);
  if (!open.ok()) return Report(o.device.common, open.error());
  OpenTerminal& t = open.value();
  auto issued = t.terminal->NewRequest(amount.value(), ledger.value(), now);
  if (!issued.ok()) return Report(o.device.common, TerminalErrorOf(issued.error(), t.dir));
  if (auto failed = t.SaveRequests(now)) return Report(o.device.common, *failed);
  const offline::PaymentRequest& r = issued.value().request;
  const std::string text = Base64Url(issued.value().bytes);
  if (!o.out.empty()) {
    const std::string line = text + "\n";
    if (auto failed = WriteOutputFile(
            o.out, std::span(reinterpret_cast<const uint8_t*>(line.data()), line.size()))) {
      return Report(o.device.common, *failed);
    }
  }
  const terminal::DenyListInfo deny = t.terminal->DenyList(now);
  const uint64_t expires = now + terminal::kRequestLifetimeMs;
  if (o.device.common.json) {
    bj::object out;
    out["request"] = text;
    out["request_number"] = std::to_string(r.request_number);
    out["ledger"] = r.asset;
    PutAmount(out, "amount", Assets(), r.asset, r.amount);
    out["nonce"] = HexOf(r.nonce);
    out["terminal_time"] = std::to_string(r.terminal_time);
    out["expires"] = std::to_string(expires);
    out["deny_list_stale"] = deny.stale;
    PrintJson(out);
    return kExitOk;
  }
  std::printf("request %llu: %s, valid until %s (5 minutes)\n",
              static_cast<unsigned long long>(r.request_number), Money(r.asset, r.amount).c_str(),
              FormatMsUtc(expires).c_str());
  if (deny.stale) {
    std::printf(
        "warning: the deny list is %s: `terminal accept` will decline every payment "
        "(deny_list_stale) until `tpwallet terminal denylist update` installs a fresh "
        "one\n",
        deny.installed ? "stale" : "missing");
  }
  std::printf("request (show it to the wallet: `tpwallet wallet pay REQUEST`):\n%s\n",
              text.c_str());
  if (!o.no_qr) {
    const std::optional<std::string> qr = QrCodeText(text);
    std::printf("%s", qr ? qr->c_str() : "(no QR code: the text does not fit one)\n");
  }
  return kExitOk;
}

// ---- terminal accept ------------------------------------------------------------------------

struct AcceptOptions {
  DeviceOptions device;
  std::string token;
};

std::string AcceptAdvice(AcceptCode code) {
  switch (code) {
    case AcceptCode::unknown_request:
      return "issue a new request (`tpwallet terminal request`) and have the wallet pay that one";
    case AcceptCode::deny_list_stale:
      return "install a fresh deny list (`tpwallet terminal denylist update FILE`)";
    case AcceptCode::cvm_required:
      return "the customer verifies the PIN and pays again with `tpwallet wallet pay --pin`";
    case AcceptCode::over_per_payment_max:
      return "ask for a smaller amount, or take the rest online";
    case AcceptCode::store_full:
      return "build and upload batches (`tpwallet terminal batch`), then mark them uploaded";
    case AcceptCode::certificate_expired:
      return "the wallet must sync online for a new certificate";
    default:
      return "";
  }
}

int RunAccept(const AcceptOptions& o) {
  auto token = ReadMessageArg("TOKEN", o.token);
  if (!token.ok()) return Report(o.device.common, token.error());
  const uint64_t now = NowMs();
  auto open = Open(o.device, now);
  if (!open.ok()) return Report(o.device.common, open.error());
  OpenTerminal& t = open.value();
  // The request this token answers leaves the file first (see the top of this file).
  auto decoded = offline::DecodeToken(token.value());
  std::optional<offline::Nonce> nonce;
  if (decoded.ok()) nonce = decoded.value().nonce;
  if (nonce) {
    if (auto failed = t.SaveRequests(now, nonce)) return Report(o.device.common, *failed);
  }
  const terminal::AcceptResult result = t.terminal->Accept(token.value(), now);
  if (!result.accepted() && nonce) {
    if (auto failed = t.SaveRequests(now)) {  // put the request back for another try
      std::fprintf(stderr, "warning: %s (the request is forgotten)\n", failed->message.c_str());
    }
  }
  const uint32_t ledger = decoded.ok() ? decoded.value().asset : 0;
  if (result.accepted()) {
    if (o.device.common.json) {
      bj::object out;
      out["accepted"] = true;
      out["code"] = "accepted";
      out["token_id"] = HexOf(result.token_id);
      out["ledger"] = ledger;
      PutAmount(out, "amount", Assets(), ledger, result.amount);
      out["device_id"] = U128ToDecimal(decoded.value().certificate.device_id);
      out["counter"] = std::to_string(decoded.value().counter);
      PrintJson(out);
    } else {
      std::printf("accepted: %s from device %s (counter %llu), stored durably\n",
                  Money(ledger, result.amount).c_str(),
                  U128ToDecimal(decoded.value().certificate.device_id).c_str(),
                  static_cast<unsigned long long>(decoded.value().counter));
      std::printf("  token id:  %s\n", HexOf(result.token_id).c_str());
    }
    return kExitOk;
  }
  const std::string name(terminal::AcceptCodeName(result.code));
  const int exit_code = result.code == AcceptCode::storage_failed ? kExitStorage : kExitDeclined;
  std::string message =
      "payment declined: " + result.Message().substr(result.Message().rfind("declined: ", 0) == 0
                                                         ? std::strlen("declined: ")
                                                         : 0);
  const std::string advice = AcceptAdvice(result.code);
  if (!advice.empty()) message += "; " + advice;
  std::fprintf(stderr, "%s\n", message.c_str());
  if (o.device.common.json) {
    bj::object out;
    out["accepted"] = false;
    out["code"] = name;
    out["code_number"] = static_cast<int>(result.code);
    out["message"] = terminal::AcceptCodeMessage(result.code);
    out["detail"] = result.detail;
    out["exit_code"] = exit_code;
    PrintJson(out);
  } else {
    std::printf("declined: %s\n", name.c_str());
  }
  return exit_code;
}

// ---- terminal void / uploaded ---------------------------------------------------------------

struct IdOptions {
  DeviceOptions device;
  std::string id;
};

int RunVoid(const IdOptions& o) {
  auto id = ParseHexId<32>("TOKEN_ID", o.id);
  if (!id.ok()) return Report(o.device.common, InputErrorOf(id.error()));
  const uint64_t now = NowMs();
  auto open = Open(o.device, now);
  if (!open.ok()) return Report(o.device.common, open.error());
  const terminal::TerminalStatus voided = open.value().terminal->Void(id.value(), now);
  if (!voided.ok()) return Report(o.device.common, TerminalErrorOf(voided.error(), o.device.dir));
  if (o.device.common.json) {
    bj::object out;
    out["token_id"] = HexOf(id.value());
    out["voided"] = true;
    PrintJson(out);
  } else {
    std::printf("token %s voided: it will not be put in a batch (its counter stays used)\n",
                HexOf(id.value()).c_str());
  }
  return kExitOk;
}

int RunUploaded(const IdOptions& o) {
  auto id = ParseHexId<16>("BATCH_ID", o.id);
  if (!id.ok()) return Report(o.device.common, InputErrorOf(id.error()));
  const uint64_t now = NowMs();
  auto open = Open(o.device, now);
  if (!open.ok()) return Report(o.device.common, open.error());
  const terminal::TerminalStatus marked = open.value().terminal->MarkUploaded(id.value(), now);
  if (!marked.ok()) return Report(o.device.common, TerminalErrorOf(marked.error(), o.device.dir));
  if (o.device.common.json) {
    bj::object out;
    out["batch_id"] = HexOf(id.value());
    out["uploaded"] = true;
    PrintJson(out);
  } else {
    std::printf("batch %s marked uploaded; the terminal no longer offers it\n",
                HexOf(id.value()).c_str());
  }
  return kExitOk;
}

// ---- terminal batch -------------------------------------------------------------------------

struct BatchOptions {
  DeviceOptions device;
  std::string out_dir = ".";
};

int RunBatch(const BatchOptions& o) {
  const uint64_t now = NowMs();
  auto open = Open(o.device, now);
  if (!open.ok()) return Report(o.device.common, open.error());
  Terminal& t = *open.value().terminal;
  auto built = t.BuildBatches(now);
  std::optional<CommandError> build_failed;
  if (!built.ok()) build_failed = TerminalErrorOf(built.error(), o.device.dir);
  const size_t new_count = built.ok() ? built.value().size() : 0;
  // Every batch not yet acknowledged is written: new ones and any left from an earlier run.
  const std::vector<terminal::PendingBatch> pending = t.PendingBatches();
  if (!pending.empty()) {
    std::error_code ignored;  // a failure shows up as the write error below, naming the file
    std::filesystem::create_directories(o.out_dir, ignored);
  }
  bj::array items;
  std::vector<std::string> files;
  for (const terminal::PendingBatch& b : pending) {
    const std::string file = o.out_dir + "/batch-" + HexOf(b.batch_id) + ".bin";
    if (auto failed = WriteOutputFile(file, b.bytes)) return Report(o.device.common, *failed);
    files.push_back(file);
    bj::object item;
    item["batch_id"] = HexOf(b.batch_id);
    item["tokens"] = b.token_count;
    item["created"] = std::to_string(b.created_ms);
    item["file"] = file;
    items.push_back(std::move(item));
  }
  if (build_failed) return Report(o.device.common, *build_failed);
  if (o.device.common.json) {
    bj::object out;
    out["built"] = new_count;
    out["batches"] = std::move(items);
    PrintJson(out);
    return kExitOk;
  }
  if (pending.empty()) {
    std::printf("nothing to upload: no accepted token is waiting and no batch is pending\n");
    return kExitOk;
  }
  std::printf("%zu new batch%s; %zu waiting for upload:\n", new_count, new_count == 1 ? "" : "es",
              pending.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    std::printf("  batch %s: %u token%s -> %s\n", HexOf(pending[i].batch_id).c_str(),
                pending[i].token_count, pending[i].token_count == 1 ? "" : "s", files[i].c_str());
  }
  std::printf("next: upload each file, and after clearing accepts it mark it uploaded:\n");
  for (size_t i = 0; i < pending.size(); ++i) {
    std::printf("  tpwallet clearing submit %s && tpwallet terminal uploaded %s\n",
                files[i].c_str(), HexOf(pending[i].batch_id).c_str());
  }
  return kExitOk;
}

// ---- terminal denylist update ---------------------------------------------------------------

struct DenyListOptions {
  DeviceOptions device;
  std::string list;
};

int RunDenyListUpdate(const DenyListOptions& o) {
  auto bytes = ReadMessageArg("FILE|TEXT", o.list);
  if (!bytes.ok()) return Report(o.device.common, bytes.error());
  const uint64_t now = NowMs();
  auto open = Open(o.device, now);
  if (!open.ok()) return Report(o.device.common, open.error());
  const uint64_t before = open.value().terminal->deny_list_version();
  auto installed = open.value().terminal->InstallDenyList(bytes.value(), now);
  if (!installed.ok()) {
    return Report(o.device.common, TerminalErrorOf(installed.error(), o.device.dir));
  }
  const terminal::DenyListInfo& d = installed.value();
  const bool delta = !bytes.value().empty() && bytes.value()[0] == 6;
  if (o.device.common.json) {
    bj::object out = DenyListJson(d);
    out["kind"] = delta ? "delta" : "full";
    out["previous_version"] = std::to_string(before);
    PrintJson(out);
    return kExitOk;
  }
  std::printf("%s installed: version %llu (was %llu)\n",
              delta ? "deny-list delta" : "full deny list",
              static_cast<unsigned long long>(d.version), static_cast<unsigned long long>(before));
  PrintDenyList(d);
  return kExitOk;
}

// ---- terminal status ------------------------------------------------------------------------

// The upload deadline of the tokens still held, with a warning when some are due within
// terminal::kClaimWarningMs or already past it (clearing refuses those: the merchant is unpaid).
void PrintClaimDeadlines(const terminal::TerminalStatusReport& s) {
  if (s.earliest_claim_deadline_ms == 0) return;
  std::printf("  upload by:  %s (the earliest claim deadline of the tokens held here)\n",
              FormatMsUtc(s.earliest_claim_deadline_ms).c_str());
  if (s.claims_past_deadline > 0) {
    std::printf("  WARNING: %llu token%s passed %s claim deadline; clearing will not pay them. Upload "
                "the rest now (terminal batch, then clearing submit)\n",
                static_cast<unsigned long long>(s.claims_past_deadline),
                s.claims_past_deadline == 1 ? "" : "s", s.claims_past_deadline == 1 ? "its" : "their");
  }
  if (s.claims_due_soon > 0) {
    std::printf("  WARNING: %llu token%s reach%s the claim deadline within %llu days: upload soon "
                "(terminal batch, then clearing submit)\n",
                static_cast<unsigned long long>(s.claims_due_soon), s.claims_due_soon == 1 ? "" : "s",
                s.claims_due_soon == 1 ? "es" : "",
                static_cast<unsigned long long>(terminal::kClaimWarningMs / 86'400'000));
  }
}

int RunStatus(const DeviceOptions& o) {
  const uint64_t now = NowMs();
  auto open = Open(o, now);
  if (!open.ok()) return Report(o.common, open.error());
  const Terminal& t = *open.value().terminal;
  const terminal::TerminalStatusReport s = t.Status(now);
  const std::vector<terminal::PendingBatch> pending = t.PendingBatches();
  if (o.common.json) {
    bj::object out;
    out["terminal_id"] = U128ToDecimal(t.terminal_id().value);
    out["merchant_id"] = U128ToDecimal(t.merchant_id().value);
    out["public_key"] = HexOf(t.public_key().bytes);
    out["accepted"] = std::to_string(s.accepted);
    out["voided"] = std::to_string(s.voided);
    out["ready"] = std::to_string(s.ready);
    out["in_pending_batches"] = std::to_string(s.in_pending_batches);
    out["uploaded"] = std::to_string(s.uploaded);
    out["pending_batches"] = std::to_string(s.pending_batches);
    out["outstanding_requests"] = std::to_string(s.outstanding_requests);
    out["torn_tail_bytes"] = std::to_string(s.torn_tail_bytes);
    out["deny_list"] = DenyListJson(s.deny_list);
    if (s.earliest_claim_deadline_ms != 0) {
      out["earliest_claim_deadline"] = FormatMsUtc(s.earliest_claim_deadline_ms);
    } else {
      out["earliest_claim_deadline"] = nullptr;
    }
    out["claims_due_soon"] = std::to_string(s.claims_due_soon);
    out["claims_past_deadline"] = std::to_string(s.claims_past_deadline);
    bj::array batches;
    for (const auto& b : pending) batches.push_back(bj::value(HexOf(b.batch_id)));
    out["pending_batch_ids"] = std::move(batches);
    PrintJson(out);
    return kExitOk;
  }
  std::printf("terminal %s of merchant %s (%s)\n", U128ToDecimal(t.terminal_id().value).c_str(),
              U128ToDecimal(t.merchant_id().value).c_str(), o.dir.c_str());
  std::printf("  public key: %s\n", HexOf(t.public_key().bytes).c_str());
  std::printf(
      "  tokens:     %llu accepted: %llu ready to batch, %llu in pending batches, %llu "
      "uploaded, %llu voided\n",
      static_cast<unsigned long long>(s.accepted), static_cast<unsigned long long>(s.ready),
      static_cast<unsigned long long>(s.in_pending_batches),
      static_cast<unsigned long long>(s.uploaded), static_cast<unsigned long long>(s.voided));
  std::printf("  batches:    %llu waiting for upload\n",
              static_cast<unsigned long long>(s.pending_batches));
  for (const auto& b : pending) {
    std::printf("    %s: %u token%s, built %s\n", HexOf(b.batch_id).c_str(), b.token_count,
                b.token_count == 1 ? "" : "s", FormatMsUtc(b.created_ms).c_str());
  }
  std::printf("  requests:   %llu outstanding\n",
              static_cast<unsigned long long>(s.outstanding_requests));
  PrintClaimDeadlines(s);
  PrintDenyList(s.deny_list);
  if (s.torn_tail_bytes > 0) {
    std::printf("  journal:    %llu bytes of an unfinished write were dropped at open\n",
                static_cast<unsigned long long>(s.torn_tail_bytes));
  }
  return kExitOk;
}

CLI::App* FindOrAddTerminal(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == "terminal") return sub;
  }
  CLI::App* terminal =
      app.add_subcommand("terminal",
                         "A merchant terminal: payment requests, offline acceptance, batches for "
                         "clearing.\nExample: tpwallet terminal status");
  terminal->require_subcommand(1);
  return terminal;
}

}  // namespace

void RegisterTerminalDeviceCommands(CLI::App& app, int& exit_code) {
  CLI::App* terminal = FindOrAddTerminal(app);

  auto init = std::make_shared<InitOptions>();
  CLI::App* init_cmd = terminal->add_subcommand(
      "init",
      "Create a terminal directory: its key (sealed under the passphrase), ids and the pinned "
      "issuer key(s). Prints the public key `tpwallet terminal register` needs.\n"
      "Example: tpwallet terminal init --terminal 50 --merchant 60 --issuer-key 1:<64 hex>");
  AddDeviceOptions(*init_cmd, init->device, kTerminalKind, true);
  init_cmd->add_option("--terminal", init->terminal_id, "Terminal id (as registered)")->required();
  init_cmd->add_option("--merchant", init->merchant_id, "Merchant id (as registered)")->required();
  init_cmd
      ->add_option("--issuer-key", init->issuer_keys,
                   "Issuer key to pin: KEYID:KEY (KEY 64 hex or 43 base64url); repeatable")
      ->required();
  init_cmd->callback([init, &exit_code] { exit_code = RunInit(*init); });

  auto request = std::make_shared<RequestOptions>();
  CLI::App* request_cmd = terminal->add_subcommand(
      "request",
      "Issue a payment request (remembered for 5 minutes) and print it as base64url text and a "
      "QR code for the wallet.\nExample: tpwallet terminal request --amount 12.34 --ledger USD");
  AddDeviceOptions(*request_cmd, request->device, kTerminalKind, true);
  request_cmd->add_option("--amount", request->amount, "Amount, e.g. 12.34")->required();
  request_cmd->add_option("--ledger", request->ledger, "Ledger number or asset code (USD, ...)")
      ->required();
  request_cmd->add_flag("--minor", request->minor, "--amount is in minor units (1234 = 12.34)");
  request_cmd->add_option("--out", request->out, "Also write the request's text to FILE");
  request_cmd->add_flag("--no-qr", request->no_qr, "Do not draw the QR code");
  request_cmd->callback([request, &exit_code] { exit_code = RunRequest(*request); });

  auto accept = std::make_shared<AcceptOptions>();
  CLI::App* accept_cmd = terminal->add_subcommand(
      "accept",
      "Check a payment token offline against an outstanding request and store it durably; "
      "prints accepted and the token id, or why it was declined (exit 10).\n"
      "Example: tpwallet terminal accept token.txt");
  AddDeviceOptions(*accept_cmd, accept->device, kTerminalKind, true);
  accept_cmd
      ->add_option("TOKEN", accept->token,
                   "The token: its base64url text, a file holding it, or - for stdin")
      ->required();
  accept_cmd->callback([accept, &exit_code] { exit_code = RunAccept(*accept); });

  auto void_options = std::make_shared<IdOptions>();
  CLI::App* void_cmd =
      terminal->add_subcommand("void",
                               "Reverse an accepted token before it is batched.\n"
                               "Example: tpwallet terminal void 3f5c...(64 hex digits)");
  AddDeviceOptions(*void_cmd, void_options->device, kTerminalKind, true);
  void_cmd->add_option("TOKEN_ID", void_options->id, "The token id `terminal accept` printed")
      ->required();
  void_cmd->callback([void_options, &exit_code] { exit_code = RunVoid(*void_options); });

  auto batch = std::make_shared<BatchOptions>();
  CLI::App* batch_cmd = terminal->add_subcommand(
      "batch",
      "Put every accepted token into signed batches and write each batch waiting for upload to "
      "a file for `tpwallet clearing submit`.\nExample: tpwallet terminal batch --out-dir ./out");
  AddDeviceOptions(*batch_cmd, batch->device, kTerminalKind, true);
  batch_cmd->add_option("--out-dir", batch->out_dir,
                        "Directory the batch files go to, created if missing (default: the current one)");
  batch_cmd->callback([batch, &exit_code] { exit_code = RunBatch(*batch); });

  auto uploaded = std::make_shared<IdOptions>();
  CLI::App* uploaded_cmd = terminal->add_subcommand(
      "uploaded",
      "Record that clearing accepted a batch: the terminal stops offering it.\n"
      "Example: tpwallet terminal uploaded 9a0b...(32 hex digits)");
  AddDeviceOptions(*uploaded_cmd, uploaded->device, kTerminalKind, true);
  uploaded_cmd->add_option("BATCH_ID", uploaded->id, "The batch id `terminal batch` printed")
      ->required();
  uploaded_cmd->callback([uploaded, &exit_code] { exit_code = RunUploaded(*uploaded); });

  CLI::App* denylist = terminal->add_subcommand(
      "denylist", "The terminal's deny list.\nExample: tpwallet terminal denylist update d.bin");
  denylist->require_subcommand(1);
  auto update = std::make_shared<DenyListOptions>();
  CLI::App* update_cmd = denylist->add_subcommand(
      "update",
      "Install a signed deny list or delta from `tpwallet denylist export`; prints its version, "
      "entries and age.\nExample: tpwallet terminal denylist update denylist.bin");
  AddDeviceOptions(*update_cmd, update->device, kTerminalKind, true);
  update_cmd
      ->add_option("FILE|TEXT", update->list,
                   "The list: a file (binary or text), its base64url text, or - for stdin")
      ->required();
  update_cmd->callback([update, &exit_code] { exit_code = RunDenyListUpdate(*update); });

  auto status = std::make_shared<DeviceOptions>();
  CLI::App* status_cmd = terminal->add_subcommand(
      "status",
      "Show the terminal: ids, token counts by state, batches waiting for upload, outstanding "
      "requests and the deny list's age.\nExample: tpwallet terminal status --json");
  AddDeviceOptions(*status_cmd, *status, kTerminalKind, true);
  status_cmd->callback([status, &exit_code] { exit_code = RunStatus(*status); });
}

}  // namespace tpw::cli
