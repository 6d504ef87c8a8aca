// The issuer's signing key on the command line: where its keystore lives in the data directory,
// how a passphrase is obtained, and unlocking it for the commands that sign (device enroll,
// device sync, denylist export). One place, so every signing command behaves the same.
//
// Passphrase sources, first match wins:
//   1. --passphrase-file FILE: its first line (up to "\n"; a trailing "\r" is dropped);
//   2. the environment variable TPWALLET_ISSUER_PASSPHRASE;
//   3. an interactive prompt on the terminal, without echo, if standard input is a terminal;
//   4. otherwise a usage error (exit 2): a script must say where the passphrase comes from.
//
// KDF cost: keystores are sealed with libsodium's Argon2id presets (--kdf, default
// interactive). Only when TPWALLET_TEST_FAST_KDF=1 is set does `issuer init` use Argon2id's
// minimum cost instead (for tests; never for a key that protects money). Unlocking always uses
// the cost written in the file.
//
// Errors are CommandErrors with exit code kExitKey (7): keystore missing, already present,
// unreadable, wrong passphrase (or a tampered file). Nothing is changed when one is returned.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cli/session.h"
#include "crypto/keystore.h"
#include "crypto/sign.h"
#include "storage/storage.h"

namespace tpw::cli {

inline constexpr std::string_view kIssuerPassphraseEnv = "TPWALLET_ISSUER_PASSPHRASE";

// "issuer-<key id>.keystore", in the data directory.
std::string IssuerKeystoreName(uint32_t key_id);
// The key id of an issuer keystore file name, or 0 if `name` is not one.
uint32_t IssuerKeyIdOfName(std::string_view name);

// The Argon2id cost for a new issuer keystore: `kdf_name` (interactive, moderate, sensitive),
// unless TPWALLET_TEST_FAST_KDF=1 (then the minimum cost, and `fast` is set).
CommandResult<crypto::KdfParams> IssuerKdfParams(std::string_view kdf_name, bool& fast);

// Reads the passphrase from the sources above. `confirm`: when prompting, ask twice (new keys).
CommandResult<crypto::Passphrase> ObtainPassphrase(const std::string& passphrase_file,
                                                   bool confirm);

// How a signing command names its key.
struct IssuerKeyOptions {
  std::string key_id = "1";
  std::string passphrase_file;
  // The option that gave key_id, named in error messages (serve calls it --issuer-key-id).
  std::string key_id_option = "--key-id";
};
// Adds --key-id and --passphrase-file to a command.
void AddIssuerKeyOptions(CLI::App& command, IssuerKeyOptions& options);
CommandResult<uint32_t> ParseKeyId(const std::string& text);

// Reads issuer-<key id>.keystore from `storage` and unlocks it. `key_id_option` is the option
// the user gave the id with (named in the missing-keystore message).
CommandResult<std::shared_ptr<const crypto::SecretKey>> UnlockIssuerKey(
    storage::Storage& storage, uint32_t key_id, const std::string& passphrase_file,
    std::string_view key_id_option = "--key-id");

// Opens the data directory with the unlocked issuer key, so the engine can sign.
// `deny_list_max_age_ms`: 0 = the engine's default. `base`: the other engine options.
CommandResult<std::unique_ptr<Session>> OpenIssuerSession(const CommonOptions& common,
                                                          const IssuerKeyOptions& key,
                                                          uint64_t deny_list_max_age_ms = 0,
                                                          engine::EngineOptions base = {});

}  // namespace tpw::cli
