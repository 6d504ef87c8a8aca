// tpwallet issuer init | show, denylist export: the issuer key and what it signs for terminals.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/issuer_key.h"
#include "cli/offline_commands.h"
#include "cli/offline_util.h"
#include "cli/render.h"
#include "cli/session.h"
#include "crypto/keystore.h"
#include "crypto/sign.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

// Keystore files an issuer could plausibly have: more is not an issuer directory.
constexpr size_t kIssuerKeystoresMax = 64;

std::string KdfText(const crypto::KdfParams& kdf) {
  return "Argon2id, " + std::to_string(kdf.opslimit) + (kdf.opslimit == 1 ? " pass" : " passes") +
         " over " + std::to_string(kdf.memlimit_kib) + " KiB";
}

bj::object KeyJson(uint32_t key_id, const std::string& keystore, const crypto::KeystoreInfo& info) {
  bj::object out;
  out["key_id"] = key_id;
  out["public_key_hex"] = HexOf(info.public_key.bytes);
  out["public_key_base64url"] = Base64Url(info.public_key.bytes);
  out["keystore"] = keystore;
  out["label"] = info.label;
  out["kdf_opslimit"] = info.kdf.opslimit;
  out["kdf_memlimit_kib"] = info.kdf.memlimit_kib;
  return out;
}

void PrintKeyText(uint32_t key_id, const std::string& keystore, const crypto::KeystoreInfo& info) {
  std::printf("issuer key %u\n", key_id);
  std::printf("  public key (hex):        %s\n", HexOf(info.public_key.bytes).c_str());
  std::printf("  public key (base64url):  %s\n", Base64Url(info.public_key.bytes).c_str());
  std::printf("  keystore:                %s (%s)\n", keystore.c_str(), KdfText(info.kdf).c_str());
}

// ---- issuer init ----------------------------------------------------------------------------

struct IssuerInitOptions {
  CommonOptions common;
  IssuerKeyOptions key;
  std::string kdf = "interactive";
};

// Removes a keystore whose key could not be registered, so `issuer init` can run again.
void RemoveKeystore(storage::Storage& storage, const std::string& name) {
  if (!storage.Remove(name).ok() || !storage.SyncDirectory().ok()) {
    std::fprintf(stderr, "warning: could not remove %s; remove it by hand before retrying\n",
                 storage.PathOf(name).c_str());
  }
}

int RunIssuerInit(const IssuerInitOptions& o) {
  CommandResult<uint32_t> key_id = ParseKeyId(o.key.key_id);
  if (!key_id.ok()) return Report(o.common, key_id.error());
  bool fast = false;
  CommandResult<crypto::KdfParams> kdf = IssuerKdfParams(o.kdf, fast);
  if (!kdf.ok()) return Report(o.common, kdf.error());
  // The session holds the directory lock: no other tpwallet writes a keystore meanwhile.
  CommandResult<std::unique_ptr<Session>> opened = OpenSession(o.common);
  if (!opened.ok()) return Report(o.common, opened.error());
  Session& session = *opened.value();
  const std::string name = IssuerKeystoreName(key_id.value());
  const std::string path = session.storage->PathOf(name);
  auto existing = session.storage->Open(name, storage::OpenMode::read_only);
  if (existing.ok()) {
    return Report(o.common, CommandError{kExitKey, "keystore", "keystore_exists",
                                         path + " already exists; nothing was changed (a key is "
                                                "never overwritten: use another --key-id)"});
  }
  if (existing.error().code != storage::StorageError::not_found) {
    return Report(o.common,
                  CommandError{kExitDataDir, "storage",
                               std::string(storage::StorageErrorName(existing.error().code)),
                               "cannot check for " + path + ": " + existing.error().Message() +
                                   "; nothing was changed"});
  }
  CommandResult<crypto::Passphrase> passphrase = ObtainPassphrase(o.key.passphrase_file, true);
  if (!passphrase.ok()) return Report(o.common, passphrase.error());
  if (fast) {
    std::fprintf(stderr, "warning: %s=1: the keystore uses Argon2id's minimum cost (tests only)\n",
                 std::string(kFastKdfEnv).c_str());
  }
  const crypto::SecretKey key = crypto::GenerateSigningKey();
  auto sealed =
      crypto::EncodeKeystore(key, passphrase.value(),
                             "tpwallet issuer key " + std::to_string(key_id.value()), kdf.value());
  if (!sealed.ok()) {
    return Report(
        o.common,
        CommandError{
            kExitKey, "keystore", std::string(crypto::KeystoreErrorName(sealed.error())),
            "cannot seal the key: " + std::string(crypto::KeystoreErrorMessage(sealed.error()))});
  }
  if (auto written = session.storage->WriteFileAtomically(name, sealed.value()); !written.ok()) {
    return Report(o.common,
                  CommandError{kExitStorage, "storage",
                               std::string(storage::StorageErrorName(written.error().code)),
                               "cannot write " + path + ": " + written.error().Message() +
                                   "; the key was not registered"});
  }
  engine::OfflineCommand command;
  command.kind = engine::OfflineCommandKind::add_issuer_key;
  command.issuer_key_id = key_id.value();
  command.public_key = key.public_key().bytes;
  CommandResult<engine::OfflineReply> registered = RunOffline(session, std::move(command));
  if (!registered.ok()) {
    if (registered.error().code != "storage_failed") RemoveKeystore(*session.storage, name);
    return Report(o.common, registered.error());
  }
  auto info = crypto::DecodeKeystore(sealed.value());
  TPW_ASSERT(info.ok());
  if (o.common.json) {
    bj::object out = KeyJson(key_id.value(), path, info.value());
    out["registered"] = true;
    PrintJson(out);
  } else {
    PrintKeyText(key_id.value(), path, info.value());
    std::printf(
        "created and registered. Terminals pin this public key under key id %u. Keep the "
        "passphrase: without it nothing can be enrolled, synced or published.\n",
        key_id.value());
  }
  return kExitOk;
}

// ---- issuer show ----------------------------------------------------------------------------

struct IssuerShowOptions {
  CommonOptions common;
  IssuerKeyOptions key;
  CLI::Option* key_id_option = nullptr;
  bool check = false;
};

struct KeystoreEntry {
  uint32_t key_id = 0;
  std::string path;
  crypto::KeystoreInfo info;
};

CommandResult<std::vector<KeystoreEntry>> ListKeystores(storage::Storage& storage,
                                                        uint32_t only_key_id) {
  auto names = storage.List();
  if (!names.ok()) {
    return Fail(CommandError{kExitDataDir, "storage",
                             std::string(storage::StorageErrorName(names.error().code)),
                             names.error().Message()});
  }
  std::vector<KeystoreEntry> entries;
  for (const std::string& name : names.value()) {
    const uint32_t key_id = IssuerKeyIdOfName(name);
    if (key_id == 0 || (only_key_id != 0 && key_id != only_key_id)) continue;
    if (entries.size() == kIssuerKeystoresMax) break;
    auto bytes = storage.ReadFile(name, crypto::kKeystoreBytesMax);
    std::optional<crypto::KeystoreError> error;
    if (!bytes.ok()) {
      error = crypto::KeystoreError::too_large;
    } else if (auto info = crypto::DecodeKeystore(bytes.value()); !info.ok()) {
      error = info.error();
    } else {
      entries.push_back(KeystoreEntry{key_id, storage.PathOf(name), info.value()});
    }
    if (error) {
      return Fail(CommandError{kExitKey, "keystore", std::string(crypto::KeystoreErrorName(*error)),
                               storage.PathOf(name) + ": " +
                                   std::string(crypto::KeystoreErrorName(*error)) + " - " +
                                   std::string(crypto::KeystoreErrorMessage(*error))});
    }
  }
  if (entries.empty()) {
    const std::string which = only_key_id != 0 ? " " + IssuerKeystoreName(only_key_id)
                                               : std::string(" (issuer-N.keystore)");
    return Fail(CommandError{kExitKey, "keystore", "keystore_missing",
                             "no issuer keystore" + which + " in " + storage.PathOf("") +
                                 "; create one with `tpwallet issuer init`"});
  }
  return entries;
}

// --check: the keystore unlocks, and the engine has its public key registered under its id.
std::optional<CommandError> CheckRegistered(const IssuerShowOptions& o) {
  CommandResult<std::unique_ptr<Session>> session = OpenIssuerSession(o.common, o.key);
  if (!session.ok()) return session.error();
  // Signing a deny list needs a registered key and changes nothing: a harmless probe.
  engine::OfflineCommand probe;
  probe.kind = engine::OfflineCommandKind::deny_list;
  CommandResult<engine::OfflineReply> reply = RunOffline(*session.value(), std::move(probe));
  if (!reply.ok()) return reply.error();
  return std::nullopt;
}

int RunIssuerShow(const IssuerShowOptions& o) {
  uint32_t only_key_id = 0;
  if (o.key_id_option->count() > 0 || o.check) {
    CommandResult<uint32_t> key_id = ParseKeyId(o.key.key_id);
    if (!key_id.ok()) return Report(o.common, key_id.error());
    only_key_id = key_id.value();
  }
  CommandResult<std::unique_ptr<storage::PosixStorage>> storage =
      OpenStorage(o.common, false);
  if (!storage.ok()) return Report(o.common, storage.error());
  CommandResult<std::vector<KeystoreEntry>> entries = ListKeystores(*storage.value(), only_key_id);
  if (!entries.ok()) return Report(o.common, entries.error());
  if (o.check) {
    if (std::optional<CommandError> failed = CheckRegistered(o)) return Report(o.common, *failed);
  }
  if (o.common.json) {
    bj::array keys;
    for (const KeystoreEntry& e : entries.value()) {
      bj::object key = KeyJson(e.key_id, e.path, e.info);
      if (o.check) {
        key["registered"] = true;
      } else {
        key["registered"] = nullptr;
      }
      keys.push_back(std::move(key));
    }
    bj::object out;
    out["keys"] = std::move(keys);
    PrintJson(out);
    return kExitOk;
  }
  for (const KeystoreEntry& e : entries.value()) {
    PrintKeyText(e.key_id, e.path, e.info);
    if (o.check)
      std::printf("  registered:              yes (unlocked; the engine signs with it)\n");
  }
  return kExitOk;
}

// ---- denylist export ------------------------------------------------------------------------

struct DenyListExportOptions {
  CommonOptions common;
  IssuerKeyOptions key;
  std::string since;
  std::string max_age;
  std::string out;
};

int RunDenyListExport(const DenyListExportOptions& o) {
  InputResult<uint64_t> since = ParseOptionalUnsignedText("--since", o.since, UINT64_MAX);
  if (!since.ok()) return Report(o.common, InputErrorOf(since.error()));
  uint64_t max_age_ms = 0;
  if (!o.max_age.empty()) {
    InputResult<uint64_t> parsed = ParseDurationText("--max-age", o.max_age);
    if (!parsed.ok()) return Report(o.common, InputErrorOf(parsed.error()));
    max_age_ms = parsed.value();
  }
  auto created = CreateOutFileIfGiven(o.out);
  if (!created.ok()) return Report(o.common, created.error());
  const std::unique_ptr<OutputFile> out_file = std::move(created).value();
  CommandResult<std::unique_ptr<Session>> session = OpenIssuerSession(o.common, o.key, max_age_ms);
  if (!session.ok()) return Report(o.common, session.error());
  engine::OfflineCommand command;
  command.kind = engine::OfflineCommandKind::deny_list;
  command.since_version = since.value();
  CommandResult<engine::OfflineReply> reply = RunOffline(*session.value(), std::move(command));
  if (!reply.ok()) return Report(o.common, reply.error());
  const std::vector<uint8_t>& bytes = reply.value().deny_list;
  auto list = offline::DecodeDenyList(bytes);
  TPW_ASSERT(list.ok());  // the engine just encoded it
  const offline::DenyList& l = list.value();
  const std::string text = Base64Url(bytes);
  if (o.common.json) {
    bj::object out = DenyListToJson(l, bytes);
    if (out_file) {
      out["file"] = out_file->path();
    } else {
      out["file"] = nullptr;
    }
    PrintJson(out);
  } else {
    std::printf("deny list (%s), version %lu%s, signed by issuer key %u\n",
                l.delta ? "delta" : "full", l.list_version,
                l.delta ? (" from version " + std::to_string(l.base_version)).c_str() : "",
                l.issuer_key_id);
    std::printf("  issued:   %s\n", FormatMsUtc(l.issued).c_str());
    std::printf(
        "  max age:  %s (terminals stop accepting offline after %s unless a newer list "
        "arrives)\n",
        FormatDurationMs(l.max_age).c_str(), FormatMsUtc(l.issued + l.max_age).c_str());
    std::printf("  devices:  %zu\n", l.device_ids.size());
    for (const u128 id : l.device_ids) std::printf("    %s\n", FormatId(id).c_str());
    if (out_file)
      std::printf("  written:  %s (%zu bytes)\n", out_file->path().c_str(), bytes.size());
    std::printf("text form (base64url):\n%s\n", text.c_str());
  }
  if (std::optional<CommandError> failed = WriteOutFileIfGiven(out_file.get(), bytes)) {
    return Report(o.common, *failed);
  }
  return kExitOk;
}

// ---- registration ---------------------------------------------------------------------------

void RegisterIssuerInit(CLI::App& issuer, int& exit_code) {
  auto o = std::make_shared<IssuerInitOptions>();
  CLI::App* cmd = issuer.add_subcommand(
      "init",
      "Generate the issuer's Ed25519 key, seal it in issuer-<key id>.keystore in the data "
      "directory, and register its public key (which terminals pin).\n"
      "Example: tpwallet issuer init --key-id 1 --passphrase-file /run/secrets/issuer");
  AddCommonOptions(*cmd, o->common);
  AddIssuerKeyOptions(*cmd, o->key);
  cmd->add_option("--kdf", o->kdf,
                  "Argon2id cost: interactive (64 MiB, default), moderate (256 MiB), sensitive "
                  "(1 GiB)");
  cmd->callback([o, &exit_code] { exit_code = RunIssuerInit(*o); });
}

void RegisterIssuerShow(CLI::App& issuer, int& exit_code) {
  auto o = std::make_shared<IssuerShowOptions>();
  CLI::App* cmd = issuer.add_subcommand(
      "show",
      "Print the issuer key(s) of the data directory: key id and public key (hex, base64url). "
      "With --check, unlock the keystore and confirm the engine signs with it.\n"
      "Example: tpwallet issuer show --key-id 1 --check");
  AddCommonOptions(*cmd, o->common);
  o->key_id_option = cmd->add_option("--key-id", o->key.key_id, "Only this key id");
  cmd->add_option("--passphrase-file", o->key.passphrase_file,
                  "With --check: the passphrase's file (else $TPWALLET_ISSUER_PASSPHRASE, else a "
                  "prompt)");
  cmd->add_flag("--check", o->check,
                "Unlock the keystore (--key-id, default 1) and check that its key is the one "
                "registered under its id");
  cmd->callback([o, &exit_code] { exit_code = RunIssuerShow(*o); });
}

}  // namespace

void RegisterIssuerCommands(CLI::App& app, int& exit_code) {
  CLI::App* issuer = app.add_subcommand(
      "issuer",
      "The issuer key of offline payments: it signs device certificates, sync statements and "
      "deny lists.\nExample: tpwallet issuer init --key-id 1");
  issuer->require_subcommand(1);
  RegisterIssuerInit(*issuer, exit_code);
  RegisterIssuerShow(*issuer, exit_code);
}

void RegisterDenyListCommands(CLI::App& app, int& exit_code) {
  CLI::App* denylist =
      app.add_subcommand("denylist",
                         "The signed list of revoked devices that terminals load.\n"
                         "Example: tpwallet denylist export --out denylist.bin");
  denylist->require_subcommand(1);
  auto o = std::make_shared<DenyListExportOptions>();
  CLI::App* cmd = denylist->add_subcommand(
      "export",
      "Sign and print the deny list: the full list, or with --since VERSION the devices added "
      "after that version (a delta). --out writes the binary message.\n"
      "Example: tpwallet denylist export --since 3 --max-age 12h --out delta.bin");
  AddCommonOptions(*cmd, o->common);
  AddIssuerKeyOptions(*cmd, o->key);
  cmd->add_option("--since", o->since, "Export a delta from this list version (default: full)");
  cmd->add_option("--max-age", o->max_age,
                  "Terminals refuse offline payments this long after issue unless a newer list "
                  "arrives (default 24h; units ms, s, m, h, d)");
  cmd->add_option("--out", o->out, "Also write the binary message to FILE");
  cmd->callback([o, &exit_code] { exit_code = RunDenyListExport(*o); });
}

}  // namespace tpw::cli
