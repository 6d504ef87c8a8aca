#include "cli/session.h"

#include <boost/json/object.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/render.h"

namespace tpw::cli {

void AddCommonOptions(CLI::App& command, CommonOptions& options) {
  // The environment supplies the default here rather than through CLI11's envname(): CLI11
  // counts an env-filled option as given, and `transfer show` must know what was typed.
  const char* from_env = std::getenv(std::string(kDataDirEnv).c_str());
  if (from_env != nullptr && *from_env != '\0') options.data_dir = from_env;
  command.add_option("--data-dir", options.data_dir,
                     "Data directory (default $TPWALLET_DATA_DIR, else ./tpwallet-data)");
  command.add_flag("--json", options.json,
                   "Print one JSON object instead of tables (stable field names; docs/cli.md)");
}

std::string FirstGiven(const std::vector<CLI::Option*>& options) {
  for (const CLI::Option* option : options) {
    if (option->count() > 0) return option->get_name();
  }
  return "";
}

CommandError UsageError(std::string message) {
  return CommandError{kExitUsage, "usage", "usage", std::move(message)};
}

CommandError InputErrorOf(const InputError& error) {
  return CommandError{kExitUsage, "input", "invalid_input", error.message};
}

int ExitCodeFor(engine::EngineError error) {
  using engine::EngineError;
  switch (error) {
    case EngineError::not_initialized:
    case EngineError::already_initialized:
    case EngineError::locked:
    case EngineError::format_unsupported:
    case EngineError::io_error:
      return kExitDataDir;
    case EngineError::journal_corrupt:
    case EngineError::replay_diverged:
      return kExitDamaged;
    case EngineError::storage_failed:
    case EngineError::snapshot_failed:
    case EngineError::shutting_down:
      return kExitStorage;
    case EngineError::too_many_events:
    case EngineError::issuer_key_mismatch:
      return kExitUsage;
    case EngineError::invalid_request:
      return kExitInternal;  // the CLI checks requests first: this is a bug
  }
  return kExitInternal;
}

CommandError EngineErrorOf(const engine::EngineFailure& failure) {
  return CommandError{ExitCodeFor(failure.code), "engine",
                      std::string(engine::EngineErrorName(failure.code)), failure.Message()};
}

int Report(const CommonOptions& options, const CommandError& error) {
  std::fprintf(stderr, "error: %s\n", error.message.c_str());
  if (options.json) {
    boost::json::object detail;
    detail["kind"] = error.kind;
    detail["code"] = error.code;
    detail["message"] = error.message;
    detail["exit_code"] = error.exit_code;
    boost::json::object out;
    out["error"] = std::move(detail);
    PrintJson(out);
  }
  return error.exit_code;
}

CommandResult<std::unique_ptr<storage::PosixStorage>> OpenStorage(const std::string& directory,
                                                                  bool create_if_missing) {
  auto opened = storage::PosixStorage::Open(directory, create_if_missing);
  if (opened.ok()) return std::move(opened).value();
  const storage::StorageFailure& failure = opened.error();
  std::string message = "cannot open data directory " + directory + ": " + failure.Message();
  if (failure.code == storage::StorageError::not_found) {
    message += create_if_missing ? "; create its parent directory first"
                                 : "; create one with `tpwallet init --data-dir " + directory + "`";
  }
  return Fail(CommandError{kExitDataDir, "storage",
                           std::string(storage::StorageErrorName(failure.code)), message});
}

CommandResult<std::unique_ptr<Session>> OpenSession(const CommonOptions& options) {
  auto storage = OpenStorage(options.data_dir, false);
  if (!storage.ok()) return Fail(storage.error());
  return OpenSessionOn(std::move(storage).value(), engine::EngineOptions{});
}

CommandResult<std::unique_ptr<Session>> OpenSessionOn(
    std::unique_ptr<storage::PosixStorage> storage, const engine::EngineOptions& options) {
  auto session = std::make_unique<Session>();
  session->storage = std::move(storage);
  auto engine = engine::Engine::Open(*session->storage, options);
  if (!engine.ok()) return Fail(EngineErrorOf(engine.error()));
  session->engine = std::move(engine).value();
  return session;
}

std::optional<CommandError> ReplyFailure(const Session& session, const engine::Reply& reply) {
  if (!reply.error.has_value()) return std::nullopt;
  const std::optional<engine::EngineFailure> stopped = session.engine->failure();
  return EngineErrorOf(stopped.has_value() ? *stopped : engine::EngineFailure{*reply.error, {}});
}

}  // namespace tpw::cli
