// The issuer / clearing side of offline payments on the command line (docs/cli.md, "Offline
// payments: issuer and clearing"). Each file registers one group of subcommands.
#pragma once

#include <CLI/CLI.hpp>

namespace tpw::cli {

void RegisterIssuerCommands(CLI::App& app, int& exit_code);    // issuer init|show
void RegisterDenyListCommands(CLI::App& app, int& exit_code);  // denylist export
void RegisterDeviceCommands(CLI::App& app, int& exit_code);    // device enroll|show|revoke|sync
void RegisterTerminalCommands(CLI::App& app, int& exit_code);  // terminal register|deactivate
void RegisterClearingCommands(CLI::App& app, int& exit_code);  // clearing submit|exceptions|resolve

}  // namespace tpw::cli
