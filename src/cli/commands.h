// The tpwallet command-line program: each command registers itself on the CLI11 app.
// Commands are thin: they parse, call a module, and print.
#pragma once

#include <CLI/CLI.hpp>

namespace tpw::cli {

// Exit codes shared by all commands (docs/cli.md, "Exit codes"). Stable: scripts branch on them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;  // the operation ran and the ledger refused (part of) it
inline constexpr int kExitFailure = kExitRejected;  // (older name, used by bench)
inline constexpr int kExitUsage = 2;     // bad command line or input file; nothing was done
inline constexpr int kExitNotFound = 3;  // an account or transfer that was named does not exist
inline constexpr int kExitDataDir = 4;   // the data directory cannot be used: missing, not (or
                                         // already) initialized, locked, unreadable
inline constexpr int kExitDamaged = 5;   // the journal is damaged; nothing was changed
inline constexpr int kExitStorage = 6;   // a write or sync failed while running: the outcome of
                                         // the request is unknown; rerun to see what is durable
inline constexpr int kExitKey = 7;       // the issuer keystore is missing, already there (issuer
                                         // init), unreadable or locked by another passphrase;
                                         // or the key does not match the registered one
inline constexpr int kExitBatchRefused = 8;  // clearing submit: a batch was refused as a whole
                                             // (batch_rejected) or does not decode (malformed);
                                             // nothing in it was classified
inline constexpr int kExitServer = 9;  // --server: the server cannot be reached or did not answer
                                       // (timeout), or answered 5xx/429: retry later (a write
                                       // whose answer was lost: rerun it, the ids make it safe)
// Offline payments on a wallet or terminal directory (docs/cli.md, "Offline payments: wallet
// and terminal"). 7 and 8 are left to the issuer and clearing commands.
inline constexpr int kExitDeclined = 10;    // a payment was declined (wallet pay, terminal accept)
inline constexpr int kExitPassphrase = 11;  // the passphrase does not unlock the keystore
inline constexpr int kExitAccess = 12;  // --server: the API key is missing, unknown or revoked
                                        // (401), or its scope may not do this (403)
inline constexpr int kExitInternal = 70;  // a bug: please report it

void RegisterDemo(CLI::App& app, int& exit_code);
void RegisterServe(CLI::App& app, int& exit_code);  // serve.cc: the HTTP API
void RegisterBenchLedger(CLI::App& bench, int& exit_code);
void RegisterBenchOffline(CLI::App& bench, int& exit_code);
void RegisterBenchHttp(CLI::App& bench, int& exit_code);  // bench_http.cc: the HTTP API
void RegisterBenchRisk(CLI::App& bench, int& exit_code);  // bench_risk.cc: risk decisions
// bench_payments.cc: online payment flows over HTTP (create, confirm, capture).
void RegisterBenchPayments(CLI::App& bench, int& exit_code);
void RegisterSimulate(CLI::App& app, int& exit_code);
void RegisterSimulateOffline(CLI::App& simulate, int& exit_code);  // simulate_offline.cc

// Data-directory commands (data_commands.cc, account_commands.cc, transfer_commands.cc).
void RegisterDataCommands(CLI::App& app, int& exit_code);     // init, snapshot, journal verify
void RegisterAccountCommands(CLI::App& app, int& exit_code);  // account create/show/...
void RegisterTransferCommands(CLI::App& app, int& exit_code);  // transfer, transfer show
// API keys of the HTTP API (apikey_commands.cc): apikey create/list/revoke.
void RegisterApiKeyCommands(CLI::App& app, int& exit_code);
// Risk rules (risk_commands.cc): risk check, risk evaluate.
void RegisterRiskCommands(CLI::App& app, int& exit_code);
// webhook_commands.cc: tpwallet webhooks ... and tpwallet events ... (on a running server)
void RegisterWebhookCommands(CLI::App& app, int& exit_code);
void RegisterBenchWebhooks(CLI::App& bench, int& exit_code);  // bench_webhooks.cc
// risk rules set|show, risk list add|remove|show (risk_data_commands.cc), under `risk`.
void RegisterRiskDataCommands(CLI::App& risk_cmd, int& exit_code);

// Online payments (payments_commands.cc): payments, customers, coupons, fx, points.
void RegisterPaymentsCommands(CLI::App& app, int& exit_code);

// Offline payments, the issuer and clearing side (offline_commands.cc): issuer, device,
// terminal, clearing, denylist.
void RegisterOfflineCommands(CLI::App& app, int& exit_code);
// Offline payments, the device side (wallet_commands.cc, terminal_commands.cc). The terminal
// one adds to an existing `terminal` subcommand (or creates it), so the order does not matter.
void RegisterWalletCommands(CLI::App& app, int& exit_code);
void RegisterTerminalDeviceCommands(CLI::App& app, int& exit_code);

}  // namespace tpw::cli
