// What every data-directory command shares: the --data-dir and --json options, one way to
// report an error (text on stderr; with --json also a JSON object on stdout) with its exit code,
// and opening the directory's storage and engine.
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

struct CommonOptions {
  std::string data_dir{kDataDirDefault};
  bool json = false;
};

// Adds --data-dir (env TPWALLET_DATA_DIR) and --json to a command.
void AddCommonOptions(CLI::App& command, CommonOptions& options);

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

// Prints `error` and returns its exit code.
int Report(const CommonOptions& options, const CommandError& error);

template <typename T>
using CommandResult = Result<T, CommandError>;
inline Err<CommandError> Fail(CommandError error) { return Err<CommandError>{std::move(error)}; }

// The directory's storage; with `create_if_missing`, creates the (last level of the) directory.
CommandResult<std::unique_ptr<storage::PosixStorage>> OpenStorage(const std::string& directory,
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
