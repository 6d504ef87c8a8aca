// tpwallet issuer | device | terminal | clearing | denylist: the issuer and clearing side of
// offline payments (docs/offline-protocol.md). The wallet and terminal sides are other programs.
#include "cli/offline_commands.h"

#include "cli/commands.h"

namespace tpw::cli {

void RegisterOfflineCommands(CLI::App& app, int& exit_code) {
  RegisterIssuerCommands(app, exit_code);
  RegisterDeviceCommands(app, exit_code);
  RegisterTerminalCommands(app, exit_code);
  RegisterClearingCommands(app, exit_code);
  RegisterDenyListCommands(app, exit_code);
}

}  // namespace tpw::cli
