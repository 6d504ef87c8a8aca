// tpwallet device enroll | show | revoke | sync, terminal register | deactivate: the registry of
// offline payments, on the issuer / clearing side.
#include <boost/json/object.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/issuer_key.h"
#include "cli/offline_commands.h"
#include "cli/offline_input.h"
#include "cli/offline_util.h"
#include "cli/render.h"
#include "cli/session.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

// per_payment_max x payment_count_max: what clones of a device key can take at one terminal
// before the deny list reaches it (docs/offline-protocol.md, "Loss bound").
std::string LossBoundText(const offline::DeviceCertificate& cert, const AssetTable& assets) {
  u128 bound = 0;
  if (__builtin_mul_overflow(cert.per_payment_max.minor(), u128{cert.payment_count_max}, &bound)) {
    return "more than 2^128 minor units";
  }
  return FormatMoney(assets, cert.asset, cert.per_payment_max) + " x " +
         std::to_string(cert.payment_count_max) + " = " +
         FormatMoney(assets, cert.asset, Amount::FromMinor(bound)) +
         " per terminal reached before revocation";
}

// ---- device enroll --------------------------------------------------------------------------

struct EnrollOptions {
  CommonOptions common;
  IssuerKeyOptions key;
  EnrollText text;
  std::string out;
};

int RunEnroll(const EnrollOptions& o) {
  const AssetTable assets = AssetTable::Default();
  InputResult<engine::OfflineCommand> command =
      EnrollCommandOf(o.text, assets, InputNaming::cli_option);
  if (!command.ok()) return Report(o.common, InputErrorOf(command.error()));
  auto created = CreateOutFileIfGiven(o.out);
  if (!created.ok()) return Report(o.common, created.error());
  const std::unique_ptr<OutputFile> out_file = std::move(created).value();
  CommandResult<std::unique_ptr<Session>> session = OpenIssuerSession(o.common, o.key);
  if (!session.ok()) return Report(o.common, session.error());
  const AccountId user = command.value().user_account;
  const AccountId reserve = command.value().reserve_account;
  CommandResult<engine::OfflineReply> reply = RunOffline(*session.value(), command.value());
  if (!reply.ok()) return Report(o.common, reply.error());
  const std::vector<uint8_t>& bytes = reply.value().certificate;
  auto cert = offline::DecodeCertificate(bytes);
  TPW_ASSERT(cert.ok());  // the engine just encoded it
  const offline::DeviceCertificate& c = cert.value();
  const Amount balance = AvailableBalance(*session.value(), reserve).value_or(Amount::Zero());
  const std::string text = Base64Url(bytes);
  if (o.common.json) {
    bj::object out = EnrollmentToJson(c, bytes, user, balance, assets);
    out["file"] = out_file ? bj::value(out_file->path()) : bj::value(nullptr);
    PrintJson(out);
  } else {
    std::printf("device %s: enrolled\n", FormatId(c.device_id).c_str());
    std::fputs(CertificateText(c, assets).c_str(), stdout);
    std::printf(
        "  reserve funded:    %s moved from account %s to reserve account %s (balance %s)\n",
        FormatMoney(assets, c.asset, c.allowance).c_str(), FormatId(user).c_str(),
        FormatId(reserve).c_str(), FormatMoney(assets, c.asset, balance).c_str());
    std::printf("  loss bound:        %s\n", LossBoundText(c, assets).c_str());
    if (out_file)
      std::printf("  written:           %s (%zu bytes)\n", out_file->path().c_str(), bytes.size());
    std::printf("certificate (base64url, for the device):\n%s\n", text.c_str());
  }
  if (std::optional<CommandError> failed = WriteOutFileIfGiven(out_file.get(), bytes)) {
    return Report(o.common, *failed);
  }
  return kExitOk;
}

// ---- device show / revoke, terminal deactivate: one offline command on one id ---------------

// An id argument's command, done: the id, the open data directory and the engine's reply.
struct IdCommandDone {
  u128 id = 0;
  std::unique_ptr<Session> session;
  engine::OfflineReply reply;
};

// Parses `id_text` (named `what` in errors), opens the data directory and runs the offline
// command `kind` with that id in `id_field` (device_id or terminal_id).
CommandResult<IdCommandDone> RunOnId(const CommonOptions& common, std::string_view what,
                                     const std::string& id_text, engine::OfflineCommandKind kind,
                                     u128 engine::OfflineCommand::*id_field) {
  InputResult<u128> id = ParseIdText(what, id_text);
  if (!id.ok()) return Fail(InputErrorOf(id.error()));
  CommandResult<std::unique_ptr<Session>> session = OpenSession(common);
  if (!session.ok()) return Fail(session.error());
  engine::OfflineCommand command;
  command.kind = kind;
  command.*id_field = id.value();
  CommandResult<engine::OfflineReply> reply = RunOffline(*session.value(), std::move(command));
  if (!reply.ok()) return Fail(reply.error());
  return IdCommandDone{id.value(), std::move(session).value(), std::move(reply).value()};
}

struct DeviceIdOptions {
  CommonOptions common;
  std::string device;
};

int RunDeviceShow(const DeviceIdOptions& o) {
  CommandResult<IdCommandDone> done =
      RunOnId(o.common, "device id", o.device, engine::OfflineCommandKind::device_info,
              &engine::OfflineCommand::device_id);
  if (!done.ok()) return Report(o.common, done.error());
  Session& session = *done.value().session;
  const offline::DeviceRecord& d = *done.value().reply.device;
  const offline::CertificateRecord& record = *done.value().reply.current_certificate;
  const offline::DeviceCertificate& c = record.certificate;
  const AssetTable& assets = session.assets;
  const Amount balance = AvailableBalance(session, d.reserve_account).value_or(Amount::Zero());
  const bool synced_mark = record.void_above_counter != UINT64_MAX;
  if (o.common.json) {
    PrintJson(DeviceToJson(d, record, balance, assets));
    return kExitOk;
  }
  std::printf("device %s: %s\n", FormatId(d.device_id).c_str(),
              d.revoked ? "REVOKED (on the deny list; its payments no longer clear)" : "active");
  std::printf("  user account:      %s\n", FormatId(d.user_account).c_str());
  std::printf("  reserve balance:   %s\n", FormatMoney(assets, c.asset, balance).c_str());
  std::printf("current certificate:\n");
  std::fputs(CertificateText(c, assets).c_str(), stdout);
  std::printf("  cleared:           %s in %lu payment%s\n",
              FormatMoney(assets, c.asset, record.cleared_total).c_str(), record.cleared_count,
              record.cleared_count == 1 ? "" : "s");
  if (synced_mark) {
    std::printf("  void above:        counter %lu (declared at a sync)\n",
                record.void_above_counter);
  }
  return kExitOk;
}

int RunDeviceRevoke(const DeviceIdOptions& o) {
  CommandResult<IdCommandDone> done =
      RunOnId(o.common, "device id", o.device, engine::OfflineCommandKind::revoke_device,
              &engine::OfflineCommand::device_id);
  if (!done.ok()) return Report(o.common, done.error());
  const std::string device_id = FormatId(done.value().id);
  if (o.common.json) {
    bj::object out;
    out["device_id"] = device_id;
    out["revoked"] = true;
    PrintJson(out);
  } else {
    std::printf(
        "device %s: revoked. Publish the new deny list to terminals: tpwallet denylist export\n",
        device_id.c_str());
  }
  return kExitOk;
}

// ---- device sync ----------------------------------------------------------------------------

struct SyncOptions {
  CommonOptions common;
  IssuerKeyOptions key;
  std::string device;
  std::string last_counter;
  std::string signature;
  SyncLimitsText limits;
  std::string out;
};

int RunSync(const SyncOptions& o) {
  FirstError errors;
  engine::OfflineCommand c;
  c.kind = engine::OfflineCommandKind::sync_device;
  c.device_id = errors.Take(ParseIdText("--device", o.device));
  c.last_counter_used =
      errors.Take(ParseUnsignedText("--last-counter", o.last_counter, UINT64_MAX));
  c.device_signature = errors.Take(ParseSignatureText("--signature", o.signature));
  if (errors.failed()) return Report(o.common, InputErrorOf(errors.error()));
  auto created = CreateOutFileIfGiven(o.out);
  if (!created.ok()) return Report(o.common, created.error());
  const std::unique_ptr<OutputFile> out_file = std::move(created).value();
  CommandResult<std::unique_ptr<Session>> session = OpenIssuerSession(o.common, o.key);
  if (!session.ok()) return Report(o.common, session.error());
  Session& s = *session.value();
  engine::OfflineCommand info;
  info.kind = engine::OfflineCommandKind::device_info;
  info.device_id = c.device_id;
  CommandResult<engine::OfflineReply> device = RunOffline(s, std::move(info));
  if (!device.ok()) return Report(o.common, device.error());
  c.asset = device.value().current_certificate->certificate.asset;
  InputResult<engine::OfflineCommand> command =
      ApplySyncLimits(o.limits, c, s.assets, InputNaming::cli_option);
  if (!command.ok()) return Report(o.common, InputErrorOf(command.error()));
  CommandResult<engine::OfflineReply> reply = RunOffline(s, command.value());
  if (!reply.ok()) return Report(o.common, reply.error());
  const std::vector<uint8_t>& bytes = reply.value().sync_statement;
  auto statement = offline::DecodeSyncStatement(bytes);
  TPW_ASSERT(statement.ok());  // the engine just encoded it
  const offline::SyncStatement& st = statement.value();
  const uint32_t asset = st.certificate.asset;
  const std::string text = Base64Url(bytes);
  if (o.common.json) {
    bj::object out = SyncStatementToJson(st, bytes, reply.value().certificate, s.assets);
    out["file"] = out_file ? bj::value(out_file->path()) : bj::value(nullptr);
    PrintJson(out);
  } else {
    const auto money = [&](Amount a) { return FormatMoney(s.assets, asset, a); };
    std::printf("device %s: synced; certificate %lu replaces %lu\n", FormatId(st.device_id).c_str(),
                st.certificate.serial, st.previous_serial);
    std::printf("  last counter used: %lu (higher counters of certificate %lu are now void)\n",
                st.last_counter_used, st.previous_serial);
    std::printf("  cleared so far:    %s under certificate %lu\n", money(st.cleared_amount).c_str(),
                st.previous_serial);
    std::printf("  held:              %s (kept for tokens that may still be uploaded)\n",
                money(st.held_amount).c_str());
    std::printf("  reserve balance:   %s (held + new allowance)\n",
                money(st.reserve_balance).c_str());
    std::printf("new certificate:\n");
    std::fputs(CertificateText(st.certificate, s.assets).c_str(), stdout);
    if (out_file)
      std::printf("  written:           %s (%zu bytes)\n", out_file->path().c_str(), bytes.size());
    std::printf("sync statement (base64url, for the device):\n%s\n", text.c_str());
  }
  if (std::optional<CommandError> failed = WriteOutFileIfGiven(out_file.get(), bytes)) {
    return Report(o.common, *failed);
  }
  return kExitOk;
}

// ---- terminal register / deactivate ---------------------------------------------------------

struct TerminalRegisterOptions {
  CommonOptions common;
  TerminalText text;
};

int RunTerminalRegister(const TerminalRegisterOptions& o) {
  InputResult<engine::OfflineCommand> command = TerminalCommandOf(o.text, InputNaming::cli_option);
  if (!command.ok()) return Report(o.common, InputErrorOf(command.error()));
  const engine::OfflineCommand& c = command.value();
  CommandResult<std::unique_ptr<Session>> session = OpenSession(o.common);
  if (!session.ok()) return Report(o.common, session.error());
  CommandResult<engine::OfflineReply> reply = RunOffline(*session.value(), c);
  if (!reply.ok()) return Report(o.common, reply.error());
  if (o.common.json) {
    PrintJson(
        TerminalToJson(c.terminal_id, c.merchant_id, c.settlement_account, c.public_key, true));
  } else {
    std::printf("terminal %s: registered for merchant %s; its cleared payments go to account %s\n",
                FormatId(c.terminal_id).c_str(), FormatId(c.merchant_id).c_str(),
                FormatId(c.settlement_account).c_str());
  }
  return kExitOk;
}

struct TerminalIdOptions {
  CommonOptions common;
  std::string terminal;
};

int RunTerminalDeactivate(const TerminalIdOptions& o) {
  CommandResult<IdCommandDone> done =
      RunOnId(o.common, "terminal id", o.terminal, engine::OfflineCommandKind::deactivate_terminal,
              &engine::OfflineCommand::terminal_id);
  if (!done.ok()) return Report(o.common, done.error());
  const std::string terminal_id = FormatId(done.value().id);
  if (o.common.json) {
    bj::object out;
    out["terminal_id"] = terminal_id;
    out["active"] = false;
    PrintJson(out);
  } else {
    std::printf(
        "terminal %s: deactivated; its batches are refused from now on "
        "(batch_rejected: terminal_inactive)\n",
        terminal_id.c_str());
  }
  return kExitOk;
}

// ---- registration ---------------------------------------------------------------------------

void RegisterEnroll(CLI::App& device, int& exit_code) {
  auto o = std::make_shared<EnrollOptions>();
  CLI::App* cmd = device.add_subcommand(
      "enroll",
      "Enroll a wallet device: create its offline reserve account, fund it with the allowance "
      "from the user's account, and issue a certificate signed by the issuer key.\n"
      "Example: tpwallet device enroll --device 7 --public-key <64 hex or 43 base64url> "
      "--user-account 2 --reserve-account 10 --ledger USD --allowance 100.00 "
      "--per-payment-max 20.00 --payments-max 10 --cvm-threshold 10.00 --valid-for 24h "
      "--out device-7.cert");
  AddCommonOptions(*cmd, o->common);
  AddIssuerKeyOptions(*cmd, o->key);
  cmd->add_option("--device", o->text.device, "Device id (new; never reused)")->required();
  cmd->add_option("--public-key", o->text.public_key,
                  "The device's Ed25519 public key: hex or base64url")
      ->required();
  cmd->add_option("--user-account", o->text.user_account, "Account the allowance comes from")
      ->required();
  cmd->add_option("--reserve-account", o->text.reserve_account,
                  "Id for the device's new reserve account (code 900)")
      ->required();
  cmd->add_option("--ledger", o->text.ledger, "Ledger number or asset code (USD, ...)")->required();
  cmd->add_option("--allowance", o->text.allowance,
                  "Total the device may spend offline, e.g. 100.00")
      ->required();
  cmd->add_option("--per-payment-max", o->text.per_payment_max,
                  "Largest single payment, e.g. 20.00 (default: the risk rules' [offline] "
                  "per_payment_max)");
  cmd->add_option("--payments-max", o->text.payments_max,
                  "Offline payments allowed (counter range; default: the risk rules' "
                  "[offline] payment_count_max)");
  cmd->add_option("--cvm-threshold", o->text.cvm_threshold,
                  "Payments above this need the PIN on the device (default: never)");
  cmd->add_option("--valid-for", o->text.valid_for,
                  "Certificate validity (default 24h; ms, s, m, h, d)");
  cmd->add_option("--out", o->out, "Also write the binary certificate to FILE");
  cmd->callback([o, &exit_code] { exit_code = RunEnroll(*o); });
}

void RegisterDeviceShowRevoke(CLI::App& device, int& exit_code) {
  auto show = std::make_shared<DeviceIdOptions>();
  CLI::App* show_cmd = device.add_subcommand(
      "show",
      "Show a device: revoked or not, its current certificate, what cleared under it, its "
      "reserve balance.\nExample: tpwallet device show 7");
  AddCommonOptions(*show_cmd, show->common);
  show_cmd->add_option("device", show->device, "Device id")->required();
  show_cmd->callback([show, &exit_code] { exit_code = RunDeviceShow(*show); });

  auto revoke = std::make_shared<DeviceIdOptions>();
  CLI::App* revoke_cmd = device.add_subcommand(
      "revoke",
      "Revoke a device for good: it goes on the deny list (publish it with `tpwallet denylist "
      "export`) and its later tokens do not clear.\nExample: tpwallet device revoke 7");
  AddCommonOptions(*revoke_cmd, revoke->common);
  revoke_cmd->add_option("device", revoke->device, "Device id")->required();
  revoke_cmd->callback([revoke, &exit_code] { exit_code = RunDeviceRevoke(*revoke); });
}

void RegisterSync(CLI::App& device, int& exit_code) {
  auto o = std::make_shared<SyncOptions>();
  CLI::App* cmd = device.add_subcommand(
      "sync",
      "The server side of a device's online sync: check the device's signed declaration of its "
      "last counter, keep what old tokens can still claim, rebalance the reserve, and issue a "
      "new certificate in a signed sync statement. Limits not given stay as they were.\n"
      "Example: tpwallet device sync --device 7 --last-counter 4 --signature <86 base64url> "
      "--allowance 150.00 --out sync-7.bin");
  AddCommonOptions(*cmd, o->common);
  AddIssuerKeyOptions(*cmd, o->key);
  cmd->add_option("--device", o->device, "Device id")->required();
  cmd->add_option("--last-counter", o->last_counter,
                  "The last counter the device used, as it signed it (0: none)")
      ->required();
  cmd->add_option("--signature", o->signature,
                  "The device's signature of its sync request (128 hex or 86 base64url)")
      ->required();
  cmd->add_option("--allowance", o->limits.allowance, "New allowance (default: unchanged)");
  cmd->add_option("--per-payment-max", o->limits.per_payment_max, "New largest payment");
  cmd->add_option("--payments-max", o->limits.payments_max, "New number of offline payments");
  cmd->add_option("--cvm-threshold", o->limits.cvm_threshold,
                  "New PIN threshold, or none: no PIN at any amount (a threshold in the risk "
                  "rules' [offline] section still applies)");
  cmd->add_option("--valid-for", o->limits.valid_for,
                  "New validity (default: as the old certificate)");
  cmd->add_option("--out", o->out, "Also write the binary sync statement to FILE");
  cmd->callback([o, &exit_code] { exit_code = RunSync(*o); });
}

}  // namespace

void RegisterDeviceCommands(CLI::App& app, int& exit_code) {
  CLI::App* device =
      app.add_subcommand("device",
                         "Wallet devices of offline payments: enroll, show, revoke, sync.\n"
                         "Example: tpwallet device show 7");
  device->require_subcommand(1);
  RegisterEnroll(*device, exit_code);
  RegisterDeviceShowRevoke(*device, exit_code);
  RegisterSync(*device, exit_code);
}

void RegisterTerminalCommands(CLI::App& app, int& exit_code) {
  CLI::App* terminal =
      app.add_subcommand("terminal",
                         "Merchant terminals that accept offline payments and upload them.\n"
                         "Example: tpwallet terminal deactivate 50");
  terminal->require_subcommand(1);

  auto reg = std::make_shared<TerminalRegisterOptions>();
  CLI::App* reg_cmd = terminal->add_subcommand(
      "register",
      "Register a terminal: its Ed25519 key (which signs its batches), its merchant and the "
      "account its cleared payments are credited to.\n"
      "Example: tpwallet terminal register --terminal 50 --merchant 60 --settlement-account 3 "
      "--public-key <64 hex or 43 base64url>");
  AddCommonOptions(*reg_cmd, reg->common);
  reg_cmd->add_option("--terminal", reg->text.terminal, "Terminal id (new)")->required();
  reg_cmd->add_option("--merchant", reg->text.merchant, "Merchant id the terminal's tokens name")
      ->required();
  reg_cmd
      ->add_option("--settlement-account", reg->text.settlement_account,
                   "Account credited with the merchant's cleared payments")
      ->required();
  reg_cmd->add_option("--public-key", reg->text.public_key, "The terminal's Ed25519 public key")
      ->required();
  reg_cmd->callback([reg, &exit_code] { exit_code = RunTerminalRegister(*reg); });

  auto deactivate = std::make_shared<TerminalIdOptions>();
  CLI::App* deactivate_cmd =
      terminal->add_subcommand("deactivate",
                               "Deactivate a terminal: its batches are refused from now on.\n"
                               "Example: tpwallet terminal deactivate 50");
  AddCommonOptions(*deactivate_cmd, deactivate->common);
  deactivate_cmd->add_option("terminal", deactivate->terminal, "Terminal id")->required();
  deactivate_cmd->callback(
      [deactivate, &exit_code] { exit_code = RunTerminalDeactivate(*deactivate); });
}

}  // namespace tpw::cli
