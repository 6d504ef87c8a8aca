#include "cli/offline_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/render.h"
#include "cli/values.h"
#include "common/int128.h"
#include "crypto/base64.h"
#include "crypto/hash.h"
#include "ledger/results.h"

namespace tpw::cli {
// ---- files ----------------------------------------------------------------------------------

CommandResult<std::unique_ptr<OutputFile>> OutputFile::Create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Fail(UsageError("cannot write --out " + path + ": " + std::strerror(errno) +
                           "; nothing was done"));
  }
  return std::unique_ptr<OutputFile>(new OutputFile(fd, path));
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<CommandError> OutputFile::Write(std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (done != bytes.size() || ::fsync(fd_) != 0) {
    return CommandError{kExitStorage, "storage", "io_error",
                        "writing " + path_ + " failed: " + std::strerror(errno) +
                            "; the command itself was done: the text form printed above is the "
                            "same message"};
  }
  return std::nullopt;
}

CommandResult<std::unique_ptr<OutputFile>> CreateOutFileIfGiven(const std::string& path) {
  if (path.empty()) return std::unique_ptr<OutputFile>();
  return OutputFile::Create(path);
}

std::optional<CommandError> WriteOutFileIfGiven(OutputFile* file, std::span<const uint8_t> bytes) {
  if (file == nullptr) return std::nullopt;
  return file->Write(bytes);
}

CommandResult<std::vector<uint8_t>> ReadInputFile(const std::string& path, size_t bytes_max) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Fail(
        UsageError("cannot read " + path + ": " + std::strerror(errno) + "; nothing was done"));
  }
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> chunk(64 << 10);
  bool failed = false;
  while (bytes.size() <= bytes_max) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failed = true;
    if (n <= 0) break;
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  }
  const int read_errno = errno;
  ::close(fd);
  if (failed) {
    return Fail(UsageError("cannot read " + path + ": " + std::strerror(read_errno)));
  }
  if (bytes.size() > bytes_max) {
    return Fail(CommandError{kExitUsage, "input", "too_long",
                             path + " is larger than any message (" + std::to_string(bytes_max) +
                                 " bytes); nothing was done"});
  }
  return bytes;
}

// ---- engine errors --------------------------------------------------------------------------

int ExitCodeFor(engine::OfflineError error, bool submitting) {
  using engine::OfflineError;
  switch (error) {
    case OfflineError::ok:
      return kExitOk;
    case OfflineError::issuer_key_unavailable:
      return kExitKey;
    case OfflineError::unknown_device:
    case OfflineError::unknown_terminal:
    case OfflineError::unknown_exception:
    case OfflineError::unknown_account:
      return kExitNotFound;
    case OfflineError::batch_rejected:
      return kExitBatchRefused;
    case OfflineError::malformed:
      return submitting ? kExitBatchRefused : kExitRejected;
    case OfflineError::engine_failed:
      return kExitStorage;
    case OfflineError::device_exists:
    case OfflineError::device_revoked:
    case OfflineError::invalid_limits:
    case OfflineError::funding_failed:
    case OfflineError::reserve_account_failed:
    case OfflineError::terminal_exists:
    case OfflineError::bad_sync_request:
    case OfflineError::guarantee_payment_failed:
    case OfflineError::issuer_key_exists:
      return kExitRejected;
  }
  return kExitInternal;
}

namespace {

// What the operator can do about an offline error.
std::string_view Advice(engine::OfflineError error) {
  using engine::OfflineError;
  switch (error) {
    case OfflineError::ok:
      return "";
    case OfflineError::issuer_key_unavailable:
      return "the keystore's key is not registered in this data directory (was `tpwallet issuer "
             "init` interrupted? then remove the keystore file and run it again)";
    case OfflineError::unknown_device:
      return "check the device id (`tpwallet device show ID`), or enroll it with `tpwallet "
             "device enroll`";
    case OfflineError::device_exists:
      return "device ids are never reused: enroll under a new --device id";
    case OfflineError::device_revoked:
      return "revocation is permanent: enroll the device again under a new device id";
    case OfflineError::invalid_limits:
      return "use --per-payment-max >= 0.01, --allowance >= --per-payment-max, --payments-max >= 1";
    case OfflineError::funding_failed:
      return "the user account must hold the allowance (and be of the same ledger); fund it "
             "and run the command again";
    case OfflineError::reserve_account_failed:
      return "the reserve account id is taken by another account: pass a new --reserve-account";
    case OfflineError::unknown_terminal:
      return "check the terminal id, or register it with `tpwallet terminal register`";
    case OfflineError::terminal_exists:
      return "terminal ids are never reused: register under a new --terminal id";
    case OfflineError::batch_rejected:
      return "nothing in the batch was classified; the terminal must upload a batch signed by "
             "its registered key, from an active terminal, with a fresh batch id";
    case OfflineError::malformed:
      return "nothing was done; check the input";
    case OfflineError::bad_sync_request:
      return "the signature must be the device key's over (device id, current certificate "
             "serial, last counter used), domain tpwallet/v1/sync-request";
    case OfflineError::unknown_exception:
      return "list open exceptions with `tpwallet clearing exceptions`";
    case OfflineError::guarantee_payment_failed:
      return "the guarantee account must exist, be of the token's ledger and hold the amount";
    case OfflineError::issuer_key_exists:
      return "choose another --key-id";
    case OfflineError::engine_failed:
      return "the outcome is unknown; run a read command (e.g. `tpwallet device show`) to see "
             "what is durable";
    case OfflineError::unknown_account:
      return "create the account first with `tpwallet account create`";
  }
  return "";
}

}  // namespace

CommandError OfflineErrorOf(const engine::OfflineReply& reply, bool submitting) {
  std::string message = std::string(engine::OfflineErrorName(reply.error)) + ": " +
                        std::string(engine::OfflineErrorMessage(reply.error));
  if (reply.ledger_result.has_value()) {
    message += " (ledger: " + std::string(ledger::ResultName(*reply.ledger_result)) + " - " +
               std::string(ledger::ResultMessage(*reply.ledger_result)) + ")";
  } else if (!reply.detail.empty()) {
    message += " (" + reply.detail + ")";
  }
  const std::string_view advice =
      submitting && reply.error == engine::OfflineError::malformed
          ? "nothing in it was classified; upload the batch file exactly as the terminal signed "
            "it (binary, or its base64url text)"
          : Advice(reply.error);
  if (!advice.empty()) message += "; " + std::string(advice);
  return CommandError{ExitCodeFor(reply.error, submitting), "offline",
                      std::string(engine::OfflineErrorName(reply.error)), message};
}

CommandResult<engine::OfflineReply> RunOffline(Session& session, engine::OfflineCommand command,
                                               bool submitting) {
  engine::OfflineReply reply = session.engine->ExecuteOffline(std::move(command));
  if (reply.error == engine::OfflineError::engine_failed) {
    if (const std::optional<engine::EngineFailure> stopped = session.engine->failure()) {
      return Fail(EngineErrorOf(*stopped));
    }
  }
  if (reply.error != engine::OfflineError::ok) return Fail(OfflineErrorOf(reply, submitting));
  return reply;
}

// ---- certificates ---------------------------------------------------------------------------

std::string CertificateText(const offline::DeviceCertificate& cert, const AssetTable& assets) {
  const auto money = [&](Amount a) { return FormatMoney(assets, cert.asset, a); };
  std::string out;
  out += "  serial:            " + std::to_string(cert.serial) +
         (cert.previous_serial != 0 ? " (replaces " + std::to_string(cert.previous_serial) + ")"
                                    : std::string()) +
         "\n";
  out += "  issuer key id:     " + std::to_string(cert.issuer_key_id) + "\n";
  out += "  device:            " + FormatId(cert.device_id) + "\n";
  out += "  device key:        " + HexOf(cert.device_public_key) + "\n";
  out += "  reserve account:   " + FormatId(cert.reserve_account_id) + "\n";
  out += "  counters:          " + std::to_string(cert.counter_first) + ".." +
         std::to_string(cert.counter_last()) + " (" + std::to_string(cert.payment_count_max) +
         " payments)\n";
  out += "  per payment max:   " + money(cert.per_payment_max) + "\n";
  out += "  allowance:         " + money(cert.allowance) + "\n";
  out += "  PIN above:         " +
         (cert.cvm_threshold == Amount::Max() ? std::string("never required")
                                              : money(cert.cvm_threshold)) +
         "\n";
  out += "  valid:             " + FormatMsUtc(cert.valid_from) + " .. " +
         FormatMsUtc(cert.valid_until) + "\n";
  return out;
}

std::optional<Amount> AvailableBalance(Session& session, AccountId account) {
  engine::Reply reply = session.engine->LookupAccounts({account});
  if (reply.error.has_value() || reply.accounts.empty()) return std::nullopt;
  return AvailableBalanceOf(reply.accounts[0]);
}

}  // namespace tpw::cli
