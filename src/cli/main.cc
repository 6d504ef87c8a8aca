// tpwallet: the command-line program. Exceptions (CLI11's parse errors, and anything unexpected)
// are caught here, at the boundary: none escapes main.
#include <cstdio>
#include <exception>
#include <string_view>

#include "cli/commands.h"
#include "cli/session.h"

namespace {

// A command without the --server option (wallet, terminal, demo, bench, ...) given one: say
// which commands take it, rather than CLI11's bare "not expected".
bool ExplainServerOptionRefused(const CLI::ParseError& e, int argc, char** argv) {
  if (dynamic_cast<const CLI::ExtrasError*>(&e) == nullptr) return false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--server" || arg.rfind("--server=", 0) == 0) {
      std::fprintf(stderr,
                   "error: this command has no server endpoint and does not take --server; "
                   "--server works with: %s\n",
                   std::string(tpw::cli::kServerCommands).c_str());
      return true;
    }
  }
  return false;
}

int Run(int argc, char** argv) {
  CLI::App app{
      "tpwallet — a payment wallet platform: double-entry ledger, offline payments, API.\n"
      "Example: tpwallet init --data-dir ./tpwallet-data"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tpwallet 0.1.0");
  int exit_code = tpw::cli::kExitOk;

  tpw::cli::RegisterDataCommands(app, exit_code);
  tpw::cli::RegisterAccountCommands(app, exit_code);
  tpw::cli::RegisterTransferCommands(app, exit_code);
  tpw::cli::RegisterOfflineCommands(app, exit_code);
  tpw::cli::RegisterWalletCommands(app, exit_code);
  tpw::cli::RegisterTerminalDeviceCommands(app, exit_code);
  tpw::cli::RegisterServe(app, exit_code);
  tpw::cli::RegisterApiKeyCommands(app, exit_code);
  tpw::cli::RegisterRiskCommands(app, exit_code);
  tpw::cli::RegisterPaymentsCommands(app, exit_code);
  tpw::cli::RegisterWebhookCommands(app, exit_code);
  tpw::cli::RegisterDemo(app, exit_code);
  tpw::cli::RegisterSimulate(app, exit_code);
  CLI::App* bench = app.add_subcommand(
      "bench", "Run a benchmark and print throughput and latency percentiles.\n"
               "Example: tpwallet bench ledger --in-memory");
  bench->require_subcommand(1);
  tpw::cli::RegisterBenchLedger(*bench, exit_code);
  tpw::cli::RegisterBenchOffline(*bench, exit_code);
  tpw::cli::RegisterBenchHttp(*bench, exit_code);
  tpw::cli::RegisterBenchRisk(*bench, exit_code);
  tpw::cli::RegisterBenchPayments(*bench, exit_code);
  tpw::cli::RegisterBenchWebhooks(*bench, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (ExplainServerOptionRefused(e, argc, argv)) return tpw::cli::kExitUsage;
    const int code = app.exit(e);
    return code == 0 ? tpw::cli::kExitOk : tpw::cli::kExitUsage;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s (please report this)\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "internal error: unknown exception (please report this)\n");
  }
  return tpw::cli::kExitInternal;
}
