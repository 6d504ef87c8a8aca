// tpwallet simulate offline: a population of wallet devices and merchant terminals runs a
// simulated day of offline payments through the real wallet, terminal and engine code
// (tests/sim/offline_sim.h), with cloned devices, replays and late uploads, and prints the
// settings and the report. Exit code 1 when an invariant failed (a missed double spend, money
// not conserved, a loss above its bound, an honest token not cleared).
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "sim/offline_sim.h"

namespace tpw::cli {
namespace {

constexpr uint64_t kMsPerMinute = 60'000;
constexpr uint64_t kMsPerHour = 3'600'000;

struct SimulateOfflineArgs {
  sim::OfflineSimOptions options;
  uint64_t hours = 24;
  uint64_t connect_interval_min = 120;
  uint64_t deny_list_max_age_min = 360;
  uint64_t certificate_validity_hours = 48;
  bool no_guarantee = false;
  bool quiet = false;
};

std::string ReproduceCommand(const SimulateOfflineArgs& a) {
  const sim::OfflineSimOptions& o = a.options;
  std::string line =
      "tpwallet simulate offline --seed " + std::to_string(o.seed) + " --devices " +
      std::to_string(o.devices) + " --terminals " + std::to_string(o.terminals) + " --payments " +
      std::to_string(o.payments) + " --hours " + std::to_string(a.hours) + " --clone-ppm " +
      std::to_string(o.clone_ppm) + " --clones-per-device " + std::to_string(o.clones_per_device) +
      " --clone-activity-ppm " + std::to_string(o.clone_activity_ppm) + " --replay-ppm " +
      std::to_string(o.replay_ppm) + " --connect-interval-min " +
      std::to_string(a.connect_interval_min) + " --offline-ppm " + std::to_string(o.offline_ppm) +
      " --late-upload-ppm " + std::to_string(o.late_upload_ppm) + " --reupload-ppm " +
      std::to_string(o.reupload_ppm) + " --sync-ppm " + std::to_string(o.sync_ppm) +
      " --deny-list-max-age-min " + std::to_string(a.deny_list_max_age_min) +
      " --certificate-validity-hours " + std::to_string(a.certificate_validity_hours) +
      " --payment-count-max " + std::to_string(o.payment_count_max) + " --per-payment-max " +
      std::to_string(o.per_payment_max) + " --allowance " + std::to_string(o.allowance) +
      " --cvm-threshold " + std::to_string(o.cvm_threshold);
  if (a.no_guarantee) line += " --no-guarantee";
  return line;
}

int RunSimulateOffline(SimulateOfflineArgs args) {
  sim::OfflineSimOptions& o = args.options;
  if (o.allowance < o.per_payment_max) {
    std::fprintf(stderr,
                 "tpwallet simulate offline: --allowance must be at least --per-payment-max\n");
    return kExitUsage;
  }
  o.day_ms = args.hours * kMsPerHour;
  o.connect_interval_ms = args.connect_interval_min * kMsPerMinute;
  o.deny_list_max_age_ms = args.deny_list_max_age_min * kMsPerMinute;
  o.certificate_validity_ms = args.certificate_validity_hours * kMsPerHour;
  o.resolve_exceptions = !args.no_guarantee;
  o.progress = args.quiet ? nullptr : stderr;
  std::printf("tpwallet simulate offline\n  settings: %s\n", sim::FormatSettings(o).c_str());
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  const sim::OfflineSimReport report = sim::RunOfflineSimulation(o);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s", sim::FormatReport(report).c_str());
  std::printf("  time: %.1f s\n", seconds);
  if (!report.ok()) {
    std::fprintf(stderr, "simulation failed; reproduce with:\n  %s\n",
                 ReproduceCommand(args).c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void RegisterSimulateOffline(CLI::App& simulate, int& exit_code) {
  auto args = std::make_shared<SimulateOfflineArgs>();
  sim::OfflineSimOptions& o = args->options;
  CLI::App* cmd = simulate.add_subcommand(
      "offline",
      "Simulate a day of offline payments: enrolled wallet devices pay merchant terminals "
      "through the real wallet, terminal and clearing code, with cloned devices (double "
      "spends), replayed tokens, terminals offline or uploading late and out of order, deny "
      "lists spreading and devices syncing. Prints payments, declines by reason, clearing by "
      "classification, double spends injected vs detected, money conservation and the loss "
      "bound vs the loss. Exit code 1 if an invariant failed. Everything follows from the seed.\n"
      "Examples:\n"
      "  tpwallet simulate offline\n"
      "  tpwallet simulate offline --seed 7 --clone-ppm 50000 --clones-per-device 4\n"
      "  tpwallet simulate offline --devices 10000 --terminals 200 --payments 200000\n"
      "  tpwallet simulate offline --deny-list-max-age-min 60 --offline-ppm 300000");
  cmd->add_option("--seed", o.seed, "Seed of every decision")->capture_default_str();
  cmd->add_option("--devices", o.devices, "Enrolled wallet devices")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, sim::kOfflineSimDevicesMax));
  cmd->add_option("--terminals", o.terminals, "Registered merchant terminals")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, sim::kOfflineSimTerminalsMax));
  cmd->add_option("--payments", o.payments, "Payment attempts, spread evenly over the day")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{0}, sim::kOfflineSimPaymentsMax));
  cmd->add_option("--hours", args->hours, "Simulated hours the payments span")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{24 * 365}));
  const char* attacks = "Attacks and faults (ppm = parts per million)";
  cmd->add_option("--clone-ppm", o.clone_ppm, "Share of devices whose wallet is cloned")
      ->capture_default_str()
      ->check(CLI::Range(0u, sim::kPpm))
      ->group(attacks);
  cmd->add_option("--clones-per-device", o.clones_per_device, "Copies of a cloned wallet")
      ->capture_default_str()
      ->check(CLI::Range(1u, sim::kOfflineSimClonesPerDeviceMax))
      ->group(attacks);
  cmd->add_option("--clone-activity-ppm", o.clone_activity_ppm,
                  "Share of payment attempts made by a clone (once clones exist)")
      ->capture_default_str()
      ->check(CLI::Range(0u, sim::kPpm))
      ->group(attacks);
  cmd->add_option("--replay-ppm", o.replay_ppm,
                  "Per accepted payment: present the token again to the same and another terminal")
      ->capture_default_str()
      ->check(CLI::Range(0u, sim::kPpm))
      ->group(attacks);
  cmd->add_option("--connect-interval-min", args->connect_interval_min,
                  "Mean minutes between a terminal's connections (upload, deny list)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{24 * 60 * 30}))
      ->group(attacks);
  cmd->add_option("--offline-ppm", o.offline_ppm, "Per connection: the terminal stays offline")
      ->capture_default_str()
      ->check(CLI::Range(0u, sim::kPpm))
      ->group(attacks);
  cmd->add_option("--late-upload-ppm", o.late_upload_ppm,
                  "Per batch and connection: hold the batch back to a later connection")
      ->capture_default_str()
      ->check(CLI::Range(0u, sim::kPpm))
      ->group(attacks);
  cmd->add_option("--reupload-ppm", o.reupload_ppm, "Per upload: send it twice (ack lost)")
      ->capture_default_str()
      ->check(CLI::Range(0u, sim::kPpm))
      ->group(attacks);
  cmd->add_option("--sync-ppm", o.sync_ppm, "Per payment: the device syncs first")
      ->capture_default_str()
      ->check(CLI::Range(0u, sim::kPpm))
      ->group(attacks);
  const char* policy = "Issuer policy (amounts in minor units)";
  cmd->add_option("--deny-list-max-age-min", args->deny_list_max_age_min,
                  "Terminals refuse offline payments when their deny list is older")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{24 * 60 * 365}))
      ->group(policy);
  cmd->add_option("--certificate-validity-hours", args->certificate_validity_hours,
                  "Validity of each device certificate")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{24 * 365 * 10}))
      ->group(policy);
  cmd->add_option("--payment-count-max", o.payment_count_max, "Offline payments per certificate")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1'000'000u))
      ->group(policy);
  cmd->add_option("--per-payment-max", o.per_payment_max, "Largest single offline payment")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000'000}))
      ->group(policy);
  cmd->add_option("--allowance", o.allowance, "Total offline spending per certificate")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000'000}))
      ->group(policy);
  cmd->add_option("--cvm-threshold", o.cvm_threshold, "Payments above this need the PIN")
      ->capture_default_str()
      ->group(policy);
  cmd->add_flag("--no-guarantee", args->no_guarantee,
                "Leave exceptions open instead of paying them from the guarantee account")
      ->group(policy);
  cmd->add_flag("--quiet", args->quiet, "No progress lines on stderr");
  cmd->callback([args, &exit_code] { exit_code = RunSimulateOffline(*args); });
}

}  // namespace tpw::cli
