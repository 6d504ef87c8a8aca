// tpwallet serve: the HTTP API over a data directory (src/api, docs/api.md).
#include <boost/json/object.hpp>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "access/access.h"
#include "api/access_control.h"
#include "api/server.h"
#include "cli/api_keys.h"
#include "cli/commands.h"
#include "cli/issuer_key.h"
#include "cli/offline_values.h"
#include "cli/render.h"
#include "cli/risk_values.h"
#include "cli/session.h"
#include "risk/velocity.h"

namespace tpw::cli {
namespace {

struct ServeOptions {
  CommonOptions common;
  std::string listen = "127.0.0.1:8080";
  std::string threads;
  std::string header_bytes_max;
  std::string body_bytes_max;
  std::string read_timeout_ms;
  std::string idle_timeout_ms;
  std::string write_timeout_ms;
  std::string shutdown_grace_ms;
  std::string access_log;
  bool no_auth = false;
  std::string rate_limit;
  // The issuer's signing key, for the endpoints that sign (enroll, sync, deny list): unlocked
  // at start when --issuer-key-id is given.
  IssuerKeyOptions issuer_key;
  bool with_issuer_key = false;
  std::string deny_list_max_age;
  // Risk rules file: loaded at start unless it is the active set already; SIGHUP re-reads it.
  std::string risk_rules;
  std::string risk_reserve_keys;  // keys per velocity feature, memory taken at start
  // Webhooks (docs/webhooks.md): whether this server delivers, and its attempts per endpoint.
  bool no_webhooks = false;
  std::string webhook_connections;
};

// The data directory, with the issuer key unlocked when asked for (the engine signs with it).
CommandResult<std::unique_ptr<Session>> OpenServeSession(const ServeOptions& o) {
  engine::EngineOptions base;
  if (!o.risk_reserve_keys.empty()) {
    InputResult<uint64_t> keys =
        ParseUnsignedText("--risk-reserve-keys", o.risk_reserve_keys,
                          risk::VelocityOptions{}.keys_max);
    if (!keys.ok()) return Fail(InputErrorOf(keys.error()));
    base.risk_reserve_keys = static_cast<uint32_t>(keys.value());
  }
  if (!o.with_issuer_key) {
    if (!o.deny_list_max_age.empty()) {
      return Fail(UsageError("--deny-list-max-age needs --issuer-key-id (only a server with "
                             "the issuer key signs deny lists)"));
    }
    auto storage = OpenStorage(o.common, false);
    if (!storage.ok()) return Fail(storage.error());
    return OpenSessionOn(std::move(storage).value(), base);
  }
  uint64_t max_age_ms = 0;
  if (!o.deny_list_max_age.empty()) {
    InputResult<uint64_t> parsed = ParseDurationText("--deny-list-max-age", o.deny_list_max_age);
    if (!parsed.ok()) return Fail(InputErrorOf(parsed.error()));
    max_age_ms = parsed.value();
  }
  return OpenIssuerSession(o.common, o.issuer_key, max_age_ms, base);
}

// "127.0.0.1:8080", "[::1]:8080" → address and port.
InputResult<bool> ParseListen(const std::string& text, api::ServerOptions& out) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InputFail("--listen \"" + text + "\" is not HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  InputResult<uint64_t> port = ParseUnsignedText("--listen port", text.substr(colon + 1), 65535);
  if (!port.ok()) return Err{port.error()};
  out.address = host;
  out.port = static_cast<uint16_t>(port.value());
  return true;
}

// Sets `field` from `text` when the option was given (1..max).
template <typename T>
void SetLimit(FirstError& errors, const char* name, const std::string& text, uint64_t max,
              T& field) {
  if (text.empty()) return;
  InputResult<uint64_t> value = ParseUnsignedText(name, text, max);
  if (value.ok() && value.value() == 0) {
    errors.Fail(std::string(name) + " must be at least 1");
    return;
  }
  field = static_cast<T>(errors.Take(std::move(value), uint64_t{field}));
}

InputResult<api::ServerOptions> ServerOptionsOf(const ServeOptions& o) {
  api::ServerOptions out;
  InputResult<bool> listen = ParseListen(o.listen, out);
  if (!listen.ok()) return Err{listen.error()};
  FirstError errors;
  SetLimit(errors, "--threads", o.threads, 256, out.threads);
  SetLimit(errors, "--header-bytes-max", o.header_bytes_max, 1u << 20, out.header_bytes_max);
  SetLimit(errors, "--body-bytes-max", o.body_bytes_max, uint64_t{1} << 30, out.body_bytes_max);
  SetLimit(errors, "--read-timeout-ms", o.read_timeout_ms, 3'600'000, out.read_timeout_ms);
  SetLimit(errors, "--idle-timeout-ms", o.idle_timeout_ms, 86'400'000, out.idle_timeout_ms);
  SetLimit(errors, "--write-timeout-ms", o.write_timeout_ms, 3'600'000, out.write_timeout_ms);
  SetLimit(errors, "--shutdown-grace-ms", o.shutdown_grace_ms, 3'600'000, out.shutdown_grace_ms);
  SetLimit(errors, "--webhook-connections", o.webhook_connections, 1024,
           out.webhooks.connections_per_endpoint);
  if (errors.failed()) return Err{errors.error()};
  out.webhooks.enabled = !o.no_webhooks;
  out.access_log = o.access_log;
  return out;
}

// The first start of an authenticated server on a directory with no API keys makes one admin
// key and shows it once: otherwise nobody could call anything (the CLI cannot open the
// directory while the server holds it). Returns the key text, or "" if none was made.
CommandResult<std::string> BootstrapAdminKey(const ServeOptions& o, engine::Engine& engine) {
  if (o.no_auth || engine.ApiKeys()->size() != 0) return std::string();
  return CreateApiKeyIn(engine, access::Scope::admin, "admin (made by the first tpwallet serve)", 0);
}

void PrintListening(const ServeOptions& o, const api::ServerOptions& options,
                    const api::Server& server, const std::string& admin_key) {
  const bool v6 = options.address.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + options.address + "]" : options.address;
  const std::string url = "http://" + host + ":" + std::to_string(server.port());
  if (o.common.json) {
    boost::json::object out;
    out["listening"] = url;
    out["port"] = server.port();
    out["threads"] = server.threads();
    out["data_dir"] = o.common.data_dir;
    out["auth"] = !o.no_auth;
    out["issuer_key_id"] = o.with_issuer_key ? boost::json::value(o.issuer_key.key_id)
                                             : boost::json::value(nullptr);
    if (!admin_key.empty()) out["admin_key"] = admin_key;
    PrintJson(out);
  } else {
    std::printf("tpwallet serving %s on %s (%u I/O threads); SIGTERM or Ctrl-C stops it\n",
                o.common.data_dir.c_str(), url.c_str(), server.threads());
    if (!admin_key.empty()) {
      std::printf("first start: made an admin API key; keep it, it is not shown again:\n  %s\n",
                  admin_key.c_str());
    }
    const std::string auth =
        o.no_auth ? "" : " -H \"Authorization: Bearer " + (admin_key.empty() ? "$TPWALLET_KEY" : admin_key) + "\"";
    std::printf("try: curl -s%s %s/v1/journal/head\n", auth.c_str(), url.c_str());
    std::printf("     curl -sN%s -H \"Accept: text/event-stream\" %s/v1/events   (live events)\n",
                auth.c_str(), url.c_str());
    std::printf("then: accounts, transfers, payments, webhooks: docs/api.md; the CLI: tpwallet "
                "--help (commands take --server %s)\n",
                url.c_str());
    if (o.no_auth) std::printf("warning: --no-auth: anyone who can connect is an admin\n");
    if (o.with_issuer_key) {
      std::printf("issuer key %s unlocked: enrollment, sync and deny lists are signed\n",
                  o.issuer_key.key_id.c_str());
    } else {
      std::printf("no issuer key: enrollment, sync and deny lists answer 503 (start with "
                  "--issuer-key-id to sign)\n");
    }
  }
  std::fflush(stdout);
}

// Makes the rules in `path` the engine's active set unless they already are. Bad rules (or an
// unreadable file) change nothing: every error is logged as FILE:LINE:COL and false returned.
bool LoadRiskRulesFile(engine::Engine& engine, const std::string& path, const char* why) {
  std::string text;
  std::string error;
  engine::RiskCommand show;
  show.kind = engine::RiskCommandKind::show_rules;
  const engine::Reply shown = engine.ExecuteRisk(show);
  const std::string active = shown.risk ? shown.risk->status.version : "unknown";
  if (!ReadRulesFile(path, text, error)) {
    std::fprintf(stderr, "tpwallet serve: %s: %s; the active risk rules (version %s) stay\n", why,
                 error.c_str(), active.c_str());
    return false;
  }
  if (shown.risk && shown.risk->status.rules_set && shown.risk->rules_text == text) {
    std::fprintf(stderr, "tpwallet serve: %s: %s is the active risk rules already (version %s)\n",
                 why, path.c_str(), active.c_str());
    return true;
  }
  engine::RiskCommand set;
  set.kind = engine::RiskCommandKind::set_rules;
  set.rules_text = std::move(text);
  const engine::Reply reply = engine.ExecuteRisk(std::move(set));
  if (reply.error || !reply.risk) {
    std::fprintf(stderr, "tpwallet serve: %s: the engine could not store the rules (%s)\n", why,
                 reply.error ? std::string(engine::EngineErrorName(*reply.error)).c_str() : "?");
    return false;
  }
  if (reply.risk->error == engine::RiskError::invalid_rules) {
    for (const risk::RuleError& e : reply.risk->rule_errors) {
      std::fprintf(stderr, "%s\n", risk::FormatRuleError(path, e).c_str());
    }
    std::fprintf(stderr,
                 "tpwallet serve: %s: %zu error(s) in %s; the active risk rules (version %s) stay; "
                 "fix the file (`tpwallet risk check %s`) and send SIGHUP again\n",
                 why, reply.risk->rule_errors.size(), path.c_str(), active.c_str(), path.c_str());
    return false;
  }
  std::fprintf(stderr, "tpwallet serve: %s: risk rules %s loaded, version %s active (was %s)\n",
               why, path.c_str(), reply.risk->status.version.c_str(), active.c_str());
  return true;
}

// Reloads the rules file on its own thread each time Request() is called (from the SIGHUP
// handler on an I/O thread, which must not block on the engine).
class RiskRulesReloader {
 public:
  RiskRulesReloader(engine::Engine& engine, std::string path)
      : engine_(engine), path_(std::move(path)), thread_([this] { Loop(); }) {}
  ~RiskRulesReloader() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  void Request() {
    {
      std::lock_guard lock(mutex_);
      pending_ = true;
    }
    wake_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stop_ || pending_; });
      if (stop_) return;
      pending_ = false;
      lock.unlock();
      (void)LoadRiskRulesFile(engine_, path_, "SIGHUP");
      std::fflush(stderr);
      lock.lock();
    }
  }

  engine::Engine& engine_;
  const std::string path_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool pending_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

int RunServe(const ServeOptions& o) {
  InputResult<api::ServerOptions> options = ServerOptionsOf(o);
  if (!options.ok()) return Report(o.common, InputErrorOf(options.error()));
  CommandResult<std::unique_ptr<Session>> opened = OpenServeSession(o);
  if (!opened.ok()) return Report(o.common, opened.error());
  Session& session = *opened.value();
  CommandResult<std::string> admin_key = BootstrapAdminKey(o, *session.engine);
  if (!admin_key.ok()) return Report(o.common, admin_key.error());
  api::AccessOptions access_options;
  access_options.require_api_key = !o.no_auth;
  if (!o.rate_limit.empty()) {
    InputResult<uint64_t> rate = ParseUnsignedText("--rate-limit", o.rate_limit, 10'000'000);
    if (!rate.ok() || rate.value() == 0) {
      return Report(o.common, UsageError("--rate-limit must be 1..10000000 requests per second"));
    }
    access_options.default_rate_per_second = static_cast<uint32_t>(rate.value());
  }
  std::unique_ptr<RiskRulesReloader> reloader;
  if (!o.risk_rules.empty()) {
    if (!LoadRiskRulesFile(*session.engine, o.risk_rules, "start")) {
      return Report(o.common, UsageError("--risk-rules " + o.risk_rules +
                                         " was not loaded (see the errors above); fix it or "
                                         "start without --risk-rules"));
    }
    reloader = std::make_unique<RiskRulesReloader>(*session.engine, o.risk_rules);
  }
  api::AccessControl access_control(*session.engine, access_options);
  options.value().hooks = access_control.Hooks();
  auto started = api::Server::Start(*session.engine, session.assets, options.value());
  if (!started.ok()) return Report(o.common, UsageError(started.error()));
  api::Server& server = *started.value();
  server.StopOnSignals();
  if (reloader) server.OnSignal(SIGHUP, [&reloader] { reloader->Request(); });
  server.Run();
  PrintListening(o, options.value(), server, admin_key.value());
  server.Wait();
  reloader.reset();
  // Every request that was read has been answered; make the rest of the queue durable.
  session.engine->Shutdown();
  std::fprintf(stderr, "tpwallet serve: stopped\n");
  if (const std::optional<engine::EngineFailure> failure = session.engine->failure()) {
    return Report(o.common, EngineErrorOf(*failure));
  }
  return kExitOk;
}

}  // namespace

CommandResult<std::string> CreateApiKeyIn(engine::Engine& engine, access::Scope scope,
                                          std::string name, uint32_t rate_per_second) {
  const access::KeyText text = access::GenerateKeyText();
  engine::AccessCommand create;
  create.kind = engine::AccessCommandKind::create_api_key;
  create.key.id = text.id;
  create.key.scope = scope;
  create.key.name = std::move(name);
  create.key.secret_hash = access::SecretHash(text.secret);
  create.key.rate_per_second = rate_per_second;
  const engine::Reply reply = engine.ExecuteAccess(create);
  if (reply.error) {
    return Err{EngineErrorOf(engine::EngineFailure{*reply.error, "creating an API key"})};
  }
  if (!reply.access || reply.access->error != engine::AccessError::ok) {
    return Err{UsageError("could not create an API key: the engine refused it (" +
                          std::string(engine::AccessErrorName(reply.access ? reply.access->error
                                                                           : engine::AccessError::invalid)) +
                          ")")};
  }
  return access::FormatKeyText(text);
}

void RegisterServe(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Serve the HTTP API (docs/api.md) on a data directory until SIGTERM or SIGINT; then stop\n"
      "accepting, answer every request already read, make everything durable and exit 0.\n"
      "Example: tpwallet serve --data-dir ./tpwallet-data --listen 127.0.0.1:8080\n"
      "With the issuer key (to enroll and sync devices and sign deny lists over HTTP): "
      "tpwallet serve --issuer-key-id 1 --issuer-passphrase-file issuer-pass");
  AddCommonOptions(*cmd, o->common);
  cmd->add_option("--listen", o->listen,
                  "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 = any free port; "
                  "IPv6 as [::1]:8080). Example: --listen 0.0.0.0:8080");
  cmd->add_option("--threads", o->threads,
                  "I/O threads (default: one per hardware thread). Example: --threads 2");
  cmd->add_option("--header-bytes-max", o->header_bytes_max,
                  "Request line + headers limit, else 431 (default 16384). "
                  "Example: --header-bytes-max 8192");
  cmd->add_option("--body-bytes-max", o->body_bytes_max,
                  "Request body limit, else 413 (default 8388608: 8189 transfers fit). "
                  "Example: --body-bytes-max 1048576");
  cmd->add_option("--read-timeout-ms", o->read_timeout_ms,
                  "A request must arrive whole within this many ms of its first byte, else 408 "
                  "(default 10000). Example: --read-timeout-ms 5000");
  cmd->add_option("--idle-timeout-ms", o->idle_timeout_ms,
                  "Close a keep-alive connection idle this long (default 60000). "
                  "Example: --idle-timeout-ms 30000");
  cmd->add_option("--write-timeout-ms", o->write_timeout_ms,
                  "Close a connection that does not read its response within this many ms "
                  "(default 10000). Example: --write-timeout-ms 5000");
  cmd->add_option("--shutdown-grace-ms", o->shutdown_grace_ms,
                  "On SIGTERM, force-close connections still open after this long "
                  "(default 15000). Example: --shutdown-grace-ms 5000");
  cmd->add_option("--access-log", o->access_log,
                  "Write one JSON line per request to this file (\"-\" = standard output; "
                  "default: off). Example: --access-log /var/log/tpwallet-access.jsonl");
  cmd->add_flag("--no-auth", o->no_auth,
                "Serve without API keys: every caller is an admin. Only for local experiments. "
                "Example: --no-auth");
  cmd->add_option("--rate-limit", o->rate_limit,
                  "Requests per second per API key when the key sets none, else 429 "
                  "(default 10000). Example: --rate-limit 500");
  cmd->add_option_function<std::string>(
         "--issuer-key-id",
         [o](const std::string& id) {
           o->issuer_key.key_id = id;
           o->issuer_key.key_id_option = "--issuer-key-id";
           o->with_issuer_key = true;
         },
         "Unlock the issuer keystore issuer-<id>.keystore of the data directory at start, so "
         "device enrollment, device sync and deny lists can be signed (else those answer 503). "
         "Example: --issuer-key-id 1")
      ->type_name("ID");
  cmd->add_option("--issuer-passphrase-file", o->issuer_key.passphrase_file,
                  "With --issuer-key-id: read the keystore passphrase from the first line of FILE "
                  "(else $TPWALLET_ISSUER_PASSPHRASE, else a prompt on a terminal). "
                  "Example: --issuer-passphrase-file /run/secrets/issuer-pass");
  cmd->add_option("--risk-rules", o->risk_rules,
                  "A risk rules file (docs/risk-rules.md): made the active set at start unless it "
                  "is already (a bad file stops the start); SIGHUP re-reads it, and a bad file "
                  "then keeps the active rules (errors go to stderr). "
                  "Example: --risk-rules /etc/tpwallet/rules.toml");
  cmd->add_option("--risk-reserve-keys", o->risk_reserve_keys,
                  "Keys per risk velocity feature whose memory is taken and faulted in when "
                  "rules become active (at start, and for new features on a reload), so that a "
                  "payment never waits for the kernel to zero a fresh page; 0..1048576, default "
                  "0 (memory grows with the keys). Costs up to 304 bytes per key per feature "
                  "(docs/risk-rules.md, \"Memory\"). Example: --risk-reserve-keys 1048576")
      ->type_name("N");
  cmd->add_flag("--no-webhooks", o->no_webhooks,
                "Deliver no webhooks from this server (endpoints are still managed and events "
                "still published and streamed; another server delivers). Example: --no-webhooks");
  cmd->add_option("--webhook-connections", o->webhook_connections,
                  "Webhook attempts at once per endpoint, each on its own keep-alive connection "
                  "(default 16; docs/webhooks.md). Example: --webhook-connections 32");
  cmd->add_option("--deny-list-max-age", o->deny_list_max_age,
                  "With --issuer-key-id: deny lists tell terminals to stop accepting offline "
                  "after this long (default 24h). Example: --deny-list-max-age 6h");
  cmd->callback([o, &exit_code] {
    if (!o->issuer_key.passphrase_file.empty() && !o->with_issuer_key) {
      exit_code = Report(o->common, UsageError("--issuer-passphrase-file needs --issuer-key-id"));
      return;
    }
    exit_code = RunServe(*o);
  });
}

}  // namespace tpw::cli
