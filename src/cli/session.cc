#include "cli/session.h"

#include <boost/json/object.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/render.h"

namespace tpw::cli {

namespace {

// The environment supplies defaults here rather than through CLI11's envname(): CLI11 counts an
// env-filled option as given, and `transfer show` must know what was typed.
void DefaultFromEnv(std::string_view name, std::string& value) {
  const char* from_env = std::getenv(std::string(name).c_str());
  if (from_env != nullptr && *from_env != '\0') value = from_env;
}

void AddServerOptions(CLI::App& command, ServerOptions& server, ServerUse use) {
  DefaultFromEnv(kServerEnv, server.url);
  DefaultFromEnv(kApiKeyEnv, server.api_key);
  CLI::Option* url = command.add_option(
      "--server", server.url,
      "Send the command to this running `tpwallet serve` instead of opening --data-dir, e.g. "
      "http://127.0.0.1:8080 (default $TPWALLET_SERVER)");
  CLI::Option* key = command.add_option(
      "--api-key", server.api_key,
      "API key for --server (default $TPWALLET_API_KEY; prefer the variable: a key on the "
      "command line shows in `ps`)");
  if (use == ServerUse::none) {
    // Read so it can be refused by name (RefuseServer), but not offered in --help.
    url->group("");
    key->group("");
    return;
  }
  command.add_option("--server-timeout-ms", server.timeout_ms,
                     "With --server: give up on a connect, send or answer after this long "
                     "(default 30000)")
      ->check(CLI::Range(1u, kServerTimeoutMsMax));
  if (use == ServerUse::writes) {
    command.add_option("--idempotency-key", server.idempotency_key,
                       "With --server: the Idempotency-Key of the POST (1..255 printable ASCII; "
                       "default: a fresh one). Rerun with the same key to get the first answer "
                       "back instead of running it again");
  }
}

}  // namespace

void AddCommonOptions(CLI::App& command, CommonOptions& options, ServerUse use) {
  DefaultFromEnv(kDataDirEnv, options.data_dir);
  command.add_option("--data-dir", options.data_dir,
                     "Data directory (default $TPWALLET_DATA_DIR, else ./tpwallet-data)");
  command.add_flag("--json", options.json,
                   "Print one JSON object instead of tables (stable field names; docs/cli.md)");
  AddServerOptions(command, options.server, use);
}

std::optional<CommandError> RefuseServer(const CommonOptions& options) {
  if (options.server.url.empty()) return std::nullopt;
  return UsageError("this command works on a data directory only and has no server endpoint; "
                    "--server (or $" + std::string(kServerEnv) + ") works with: " +
                    std::string(kServerCommands) + ". Leave out --server (unset $" +
                    std::string(kServerEnv) + ") and give --data-dir");
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

CommandResult<std::unique_ptr<storage::PosixStorage>> OpenStorage(const CommonOptions& options,
                                                                  bool create_if_missing) {
  if (std::optional<CommandError> refused = RefuseServer(options)) return Fail(*refused);
  return OpenStorage(options.data_dir, create_if_missing);
}

CommandResult<std::unique_ptr<Session>> OpenSession(const CommonOptions& options) {
  auto storage = OpenStorage(options, false);
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
