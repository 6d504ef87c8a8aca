// What every data-directory command shares: the --data-dir and --json options (and, for the
// ledger commands, --server and its companions), one way to report an error (text on stderr;
// with --json also a JSON object on stdout) with its exit code, and opening the directory's
// storage and engine.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/values.h"
#include "common/asset.h"
#include "common/result.h"
#include "engine/engine.h"
#include "storage/posix_storage.h"

namespace tpw::cli {

inline constexpr std::string_view kDataDirDefault = "./tpwallet-data";
inline constexpr std::string_view kDataDirEnv = "TPWALLET_DATA_DIR";

inline constexpr std::string_view kServerEnv = "TPWALLET_SERVER";
inline constexpr std::string_view kApiKeyEnv = "TPWALLET_API_KEY";
// "1": new keystores (issuer, wallet, terminal) use Argon2id's minimum cost (tests only; never
// for real money).
inline constexpr std::string_view kFastKdfEnv = "TPWALLET_TEST_FAST_KDF";
inline constexpr uint32_t kServerTimeoutMsDefault = 30'000;
inline constexpr uint32_t kServerTimeoutMsMax = 3'600'000;
// The commands that run against a server with --server (backend.h); named in the refusal of
// every other command.
inline constexpr std::string_view kServerCommands =
    "account create, account show, account transfers, account history, transfer, transfer show, "
    "payments, customers, coupons, fx, points";

// A running `tpwallet serve` to send the command to instead of opening the data directory.
struct ServerOptions {
  std::string url;              // "" = none: use the data directory
  std::string api_key;          // "" = send no Authorization header
  std::string idempotency_key;  // "" = a fresh one for this invocation
  uint32_t timeout_ms = kServerTimeoutMsDefault;
};

struct CommonOptions {
  std::string data_dir{kDataDirDefault};
  bool json = false;
  ServerOptions server;
};

// Which of the server options a command shows: `none` for the commands that only work on a
// data directory (--server is still read, hidden, so that it is refused with a clear message
// rather than ignored); `reads` adds --server, --api-key and --server-timeout-ms; `writes` also
// --idempotency-key.
enum class ServerUse { none, reads, writes };

// Adds --data-dir (env TPWALLET_DATA_DIR), --json and the server options of `use` (--server env
// TPWALLET_SERVER, --api-key env TPWALLET_API_KEY) to a command.
void AddCommonOptions(CLI::App& command, CommonOptions& options, ServerUse use = ServerUse::none);

// The name of the first of `options` given on the command line, or "" if none was. For "--file
// excludes the single-event options" checks (CLI11's excludes() would list every option in the
// help of every other).
std::string FirstGiven(const std::vector<CLI::Option*>& options);

// A failure a command reports and exits with. `kind` says which layer refused (usage, input,
// not_found, ledger, engine, storage, journal); `code` is that layer's stable error name.
struct CommandError {
  int exit_code = 0;
  std::string kind;
  std::string code;
  std::string message;
};

CommandError UsageError(std::string message);
CommandError InputErrorOf(const InputError& error);
CommandError EngineErrorOf(const engine::EngineFailure& failure);
// Exit code for an engine error (docs/cli.md, "Exit codes").
int ExitCodeFor(engine::EngineError error);

// The usage error of a data-directory-only command run with --server (or TPWALLET_SERVER set),
// nullopt when no server was asked for. OpenSession checks it; commands that open the storage
// themselves call it first.
std::optional<CommandError> RefuseServer(const CommonOptions& options);

// Prints `error` and returns its exit code.
int Report(const CommonOptions& options, const CommandError& error);

template <typename T>
using CommandResult = Result<T, CommandError>;
inline Err<CommandError> Fail(CommandError error) { return Err<CommandError>{std::move(error)}; }

// The directory's storage; with `create_if_missing`, creates the (last level of the) directory.
CommandResult<std::unique_ptr<storage::PosixStorage>> OpenStorage(const std::string& directory,
                                                                  bool create_if_missing);
// The same on --data-dir, refusing --server first (RefuseServer).
CommandResult<std::unique_ptr<storage::PosixStorage>> OpenStorage(const CommonOptions& options,
                                                                  bool create_if_missing);

// An open engine on a data directory. Members are destroyed in reverse order: the engine shuts
// down (draining and syncing) before its storage goes away.
struct Session {
  std::unique_ptr<storage::PosixStorage> storage;
  std::unique_ptr<engine::Engine> engine;
  AssetTable assets = AssetTable::Default();
};

// Opens the data directory and recovers its state (snapshot + journal replay).
CommandResult<std::unique_ptr<Session>> OpenSession(const CommonOptions& options);
// The same on an already opened storage, with engine options (the offline commands pass the
// issuer key).
CommandResult<std::unique_ptr<Session>> OpenSessionOn(
    std::unique_ptr<storage::PosixStorage> storage, const engine::EngineOptions& options);

// The engine-level failure of a reply, if it has one (with the engine's detail when it stopped).
std::optional<CommandError> ReplyFailure(const Session& session, const engine::Reply& reply);

}  // namespace tpw::cli
