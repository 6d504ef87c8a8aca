// The offline-payments simulator (`tpwallet simulate offline`): a whole population of wallet
// devices and merchant terminals runs a day of payments through the real code — `wallet::Wallet`
// and `terminal::Terminal` on in-memory disks (SimulatedStorage), the real `engine::Engine` as
// issuer and clearing — with cloned devices (double spends), replayed tokens, terminals that
// upload late and out of order or stay offline, deny lists spreading, and devices syncing.
// It ends with a report (payments, declines by reason, clearing by classification, double
// spends injected vs detected, money conservation, loss bound vs loss) and the invariants that
// failed, if any. docs/offline-protocol.md ("Simulation") describes the model.
//
// Determinism: every decision (who pays whom, when, how much, who is cloned, which batch is
// held back, ...) comes from the seed, and time is a simulated clock passed to every component.
// Key pairs, device ids, request nonces and batch ids are drawn by the real components from the
// OS CSPRNG, so the bytes differ from run to run, but nothing the report counts depends on them:
// the same seed and options give the same report (FormatReport), line for line.
//
// Thread-safety: RunOfflineSimulation is self-contained; runs on different threads are
// independent. Errors: a set-up failure or a broken invariant is reported in `failures`;
// nothing throws.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/int128.h"

namespace tpw::sim {

// Named limits of the simulated population (the CLI checks them at the input).
inline constexpr uint64_t kOfflineSimDevicesMax = 1'000'000;
inline constexpr uint64_t kOfflineSimTerminalsMax = 100'000;
inline constexpr uint64_t kOfflineSimPaymentsMax = 100'000'000;
inline constexpr uint32_t kOfflineSimClonesPerDeviceMax = 64;
inline constexpr uint32_t kPpm = 1'000'000;

struct OfflineSimOptions {
  uint64_t seed = 1;
  uint64_t devices = 2'000;
  uint64_t terminals = 50;
  uint64_t payments = 20'000;           // payment attempts, spread evenly over the day
  uint64_t day_ms = 24ull * 3'600'000;  // simulated time the payments span
  // Compromised devices: this share of devices (parts per million) has its wallet copied,
  // key and state, `clones_per_device` times at a random moment of the first half of the day;
  // from then on the copies pay too, reusing the original's counters (double spends), while
  // the owner keeps paying with the original. clone_activity_ppm of the payment attempts are
  // made by a random clone (once clones exist), at random terminals, until its certificate is
  // spent (clones cannot sync).
  uint32_t clone_ppm = 10'000;
  uint32_t clones_per_device = 2;
  uint32_t clone_activity_ppm = 50'000;
  // Per accepted payment: the same token bytes are presented again, to the same terminal and
  // to another one (both must decline).
  uint32_t replay_ppm = 5'000;
  // Terminals connect every connect_interval_ms / 2 .. 3 / 2 × connect_interval_ms: they fetch
  // the deny list (a delta), build batches and upload them in random order. Per connection the
  // terminal stays offline with offline_ppm; per batch, the upload is held back to a later
  // connection with late_upload_ppm; per upload, it is sent twice (a lost acknowledgement) with
  // reupload_ppm.
  uint64_t connect_interval_ms = 2ull * 3'600'000;
  uint32_t offline_ppm = 100'000;
  uint32_t late_upload_ppm = 200'000;
  uint32_t reupload_ppm = 20'000;
  // Per payment: the (honest) device goes online and syncs first. A device whose wallet
  // declines for exhausted counters or allowance, or an expired certificate, syncs at once.
  uint32_t sync_ppm = 20'000;
  // Issuer policy.
  uint64_t deny_list_max_age_ms = 6ull * 3'600'000;
  uint64_t certificate_validity_ms = 48ull * 3'600'000;
  uint32_t payment_count_max = 10;
  uint64_t per_payment_max = 5'000;  // minor units
  uint64_t allowance = 20'000;       // minor units, ≥ per_payment_max
  uint64_t cvm_threshold = 2'500;    // minor units; above it the user enters a PIN (99%)
  // At the end, pay every open exception from the guarantee account (the issuer honours what
  // its terminals accepted); then every merchant must be paid exactly what it accepted.
  bool resolve_exceptions = true;
  // Wallets kept open at once (each holds a key in guarded memory: mappings are limited); the
  // others are reopened from their simulated disk when they pay.
  uint64_t open_wallets_max = 1'024;
  FILE* progress = nullptr;  // progress lines (stderr in the CLI); nullptr = silent
};

// One compromised device: what its copies did and what it cost.
struct CompromisedDeviceReport {
  uint64_t device_index = 0;
  uint64_t tokens_accepted = 0;        // by terminals, from the original and its copies
  uint64_t double_spent_counters = 0;  // (device, counter) pairs accepted at ≥ 2 terminals
  uint64_t certificates = 0;           // certificates with accepted tokens
  uint64_t terminals_reached = 0;      // distinct terminals that accepted any of its tokens
  bool revoked = false;
  uint64_t accepted_after_revocation = 0;  // at terminals whose deny list was not yet updated
  u128 accepted = 0;                       // amount merchants accepted
  u128 cleared = 0;                        // amount its reserve paid
  u128 loss = 0;                           // accepted - cleared
  u128 bound = 0;      // Σ per certificate: per_payment_max × payment_count_max × T reached
  u128 bound_all = 0;  // the same with T = every terminal (the a-priori bound)
};

struct OfflineSimReport {
  // Payments (attempts by original wallets and by clones).
  uint64_t payments_attempted = 0;
  uint64_t clone_payments_attempted = 0;
  uint64_t wallet_declined = 0;
  uint64_t terminal_declined = 0;
  uint64_t accepted = 0;
  uint64_t clone_payments_accepted = 0;
  u128 amount_accepted = 0;
  std::map<std::string, uint64_t> wallet_declines;    // by WalletError name
  std::map<std::string, uint64_t> terminal_declines;  // by AcceptCode name
  uint64_t replays_presented = 0;
  uint64_t replays_accepted = 0;  // must be 0
  std::map<std::string, uint64_t> replay_declines;
  // Online traffic.
  uint64_t syncs = 0;
  std::map<std::string, uint64_t> sync_failures;  // by step and error name
  uint64_t terminal_connections = 0;
  uint64_t terminal_connections_skipped = 0;  // stayed offline
  uint64_t deny_list_installs = 0;
  uint64_t deny_list_full_installs = 0;
  uint64_t deny_list_version = 0;  // at the end
  uint64_t batches_uploaded = 0;
  uint64_t batches_held_back = 0;  // held at least once (uploaded late)
  uint64_t batches_reuploaded = 0;
  // Clearing.
  uint64_t cleared = 0;
  uint64_t duplicate = 0;
  uint64_t double_spend = 0;
  uint64_t over_allowance = 0;
  uint64_t invalid = 0;
  std::map<std::string, uint64_t> invalid_reasons;
  u128 amount_cleared = 0;
  uint64_t exceptions_opened = 0;
  uint64_t exceptions_paid = 0;
  u128 amount_paid_from_guarantee = 0;
  // Double spends: (device, counter) pairs accepted by terminals with different tokens.
  uint64_t double_spends_injected = 0;
  uint64_t double_spends_detected = 0;  // a token of the pair classified double_spend
  // At most one token cleared and the others were refused for a check that comes before the
  // double-spend check: no money paid twice, but this pair did not revoke the device.
  uint64_t double_spends_refused_otherwise = 0;
  uint64_t double_spends_missed = 0;  // must be 0
  // Of the missed: one copy's token was over_allowance, the other's cleared later (a gap
  // clearing had; ClearingTest.ACounterFirstSeenOverAllowanceIsStillADoubleSpendLater).
  uint64_t double_spends_missed_behind_over_allowance = 0;
  uint64_t devices_double_spending = 0;
  uint64_t devices_revoked = 0;
  // Honest devices.
  uint64_t honest_tokens_accepted = 0;
  uint64_t honest_tokens_cleared = 0;  // must equal accepted
  // Money (minor units of the one asset).
  u128 funded_users = 0;         // funder -> users at the start
  u128 reserves_total = 0;       // Σ reserve balances at the end
  u128 users_total = 0;          // Σ user balances at the end
  u128 merchants_total = 0;      // Σ merchant balances at the end
  bool ledger_balanced = false;  // Σ debits == Σ credits over every account
  bool money_conserved = false;  // every per-account check below passed
  // Loss.
  std::vector<CompromisedDeviceReport> compromised;
  u128 loss_total = 0;
  u128 bound_total = 0;
  u128 bound_all_total = 0;
  u128 loss_max = 0;  // worst single device

  // Broken invariants and set-up failures, each a sentence; empty = the run passed.
  std::vector<std::string> failures;
  bool ok() const { return failures.empty(); }
};

OfflineSimReport RunOfflineSimulation(const OfflineSimOptions& options);

// The settings as one line ("seed=1 devices=2000 ..."), for the report and reproduce lines.
std::string FormatSettings(const OfflineSimOptions& options);
// The report as text, the same for the same seed and options (no timings in it).
std::string FormatReport(const OfflineSimReport& report);

}  // namespace tpw::sim
