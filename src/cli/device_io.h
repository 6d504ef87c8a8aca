// What the device-side offline commands (`wallet ...`, `terminal init/request/accept/...`)
// share: the wallet and terminal directories, passphrases, message arguments given as a file or
// as base64url text, issuer keys on the command line, QR codes in the terminal, and the clock.
// docs/cli.md, "Offline payments: wallet and terminal", is the contract.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/offline_util.h"
#include "cli/render.h"
#include "cli/session.h"
#include "common/amount.h"
#include "common/asset.h"
#include "crypto/keystore.h"
#include "crypto/sign.h"
#include "storage/posix_storage.h"

namespace tpw::cli {

inline constexpr std::string_view kWalletDirDefault = "./tpwallet-wallet";
inline constexpr std::string_view kWalletDirEnv = "TPWALLET_WALLET_DIR";
inline constexpr std::string_view kWalletPassphraseEnv = "TPWALLET_WALLET_PASSPHRASE";
inline constexpr std::string_view kTerminalDirDefault = "./tpwallet-terminal";
inline constexpr std::string_view kTerminalDirEnv = "TPWALLET_TERMINAL_DIR";
inline constexpr std::string_view kTerminalPassphraseEnv = "TPWALLET_TERMINAL_PASSPHRASE";

// The largest message argument: a full deny list of 2^20 entries (16 MiB) in its text form.
inline constexpr size_t kMessageBytesMax = 48 + (size_t{1} << 20) * 16 + 64;
inline constexpr size_t kMessageTextBytesMax = (kMessageBytesMax + 2) / 3 * 4 + 2;

// One wallet or terminal directory, its --json flag and where the passphrase comes from.
struct DeviceOptions {
  std::string dir;
  std::string passphrase_file;
  CommonOptions common;  // only `json` is used; errors go through Report(common, ...)
};

// Which directory kind a command works on: names its option, env variables and default.
struct DeviceKind {
  std::string_view noun;            // "wallet" / "terminal"
  std::string_view dir_option;      // "--wallet-dir"
  std::string_view dir_env;         // TPWALLET_WALLET_DIR
  std::string_view dir_default;     // ./tpwallet-wallet
  std::string_view passphrase_env;  // TPWALLET_WALLET_PASSPHRASE
};
inline constexpr DeviceKind kWalletKind{"wallet", "--wallet-dir", kWalletDirEnv, kWalletDirDefault,
                                        kWalletPassphraseEnv};
inline constexpr DeviceKind kTerminalKind{"terminal", "--terminal-dir", kTerminalDirEnv,
                                          kTerminalDirDefault, kTerminalPassphraseEnv};

// Adds the directory option (default from the environment), --json and, when `passphrase`,
// --passphrase-file.
void AddDeviceOptions(CLI::App& command, DeviceOptions& options, const DeviceKind& kind,
                      bool passphrase);

// Opens the directory; `create` makes its last level when missing. Errors: exit 4 with a
// sentence naming the directory and what to do.
CommandResult<std::unique_ptr<storage::PosixStorage>> OpenDeviceDir(const DeviceOptions& options,
                                                                    const DeviceKind& kind,
                                                                    bool create);

// The passphrase: the first line of --passphrase-file, else the kind's environment variable,
// else a prompt without echo when standard input is a terminal (asked twice when `confirm`),
// else a usage error saying how to give one.
CommandResult<crypto::Passphrase> ReadPassphrase(const DeviceOptions& options,
                                                 const DeviceKind& kind, bool confirm);

// Argon2id cost for new keystores: interactive, or the minimum when TPWALLET_TEST_FAST_KDF=1.
crypto::KdfParams KdfForNewKeystore();

// A message argument: "-" (standard input), the path of an existing file, or the base64url text
// itself. A file holds the binary message or its text form (one line end allowed); binary
// messages start with their type byte (1..7), which is never a base64url character.
// `field` names the argument in errors ("REQUEST").
CommandResult<std::vector<uint8_t>> ReadMessageArg(std::string_view field, const std::string& arg);

struct IssuerKeyArg {
  uint32_t key_id = 0;
  crypto::PublicKey public_key;
};
// "KEYID:KEY" with KEYID 1..4294967295 and KEY 64 hex digits or 43 base64url characters.
InputResult<IssuerKeyArg> ParseIssuerKeyArg(std::string_view field, std::string_view text);

// Hex without leading zeros is not used: ids print as decimal (docs/ids.md), keys as hex.

// `text` as a QR code drawn with UTF-8 half blocks (two module rows per line), light modules
// drawn, for a dark-background terminal, with a 2-module quiet zone. nullopt when the text does
// not fit a QR code or libqrencode fails.
std::optional<std::string> QrCodeText(std::string_view text);

// The device clock: milliseconds since the Unix epoch.
uint64_t NowMs();

// Writes `bytes` to `path` (created or replaced) and fsyncs it. Errors: exit 2 naming the path.
std::optional<CommandError> WriteOutputFile(const std::string& path,
                                            std::span<const uint8_t> bytes);

// The asset table of wallet and terminal directories (they have no data directory to hold
// another) and an amount in it, e.g. "12.34 EUR".
const AssetTable& Assets();
std::string Money(uint32_t ledger, Amount amount);
// The asset code of a ledger, or "ledger N".
std::string AssetText(const AssetTable& assets, uint32_t ledger);

}  // namespace tpw::cli
