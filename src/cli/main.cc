// tpwallet: the command-line program. Exceptions from CLI11 are caught here, at the boundary.
#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "tpwallet — a payment wallet platform: double-entry ledger, offline payments, API.\n"
      "Example: tpwallet demo"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tpwallet 0.1.0");
  int exit_code = tpw::cli::kExitOk;

  tpw::cli::RegisterDemo(app, exit_code);
  tpw::cli::RegisterSimulate(app, exit_code);
  CLI::App* bench = app.add_subcommand(
      "bench", "Run a benchmark and print throughput and latency percentiles.\n"
               "Example: tpwallet bench ledger --in-memory");
  bench->require_subcommand(1);
  tpw::cli::RegisterBenchLedger(*bench, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? tpw::cli::kExitOk : tpw::cli::kExitUsage;
  }
  return exit_code;
}
