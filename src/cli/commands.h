// The tpwallet command-line program: each command registers itself on the CLI11 app.
// Commands are thin: they parse, call a module, and print.
#pragma once

#include <CLI/CLI.hpp>

namespace tpw::cli {

// Exit codes shared by all commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;     // the operation ran and failed (e.g. a rejection)
inline constexpr int kExitUsage = 2;       // bad command line
inline constexpr int kExitInternal = 70;   // a bug: please report it

void RegisterDemo(CLI::App& app, int& exit_code);
void RegisterBenchLedger(CLI::App& bench, int& exit_code);
void RegisterSimulate(CLI::App& app, int& exit_code);

}  // namespace tpw::cli
