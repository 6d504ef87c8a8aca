// tpwallet apikey create | list | revoke: the API keys `tpwallet serve` authenticates
// (`Authorization: Bearer <key text>`), kept by the engine as journaled state (src/access).
// docs/cli.md, "API keys", is the contract.
//
// The key text is made here (GenerateKeyText), printed once, and only the BLAKE2b-256 of its
// secret goes to the engine: nothing this program can print later contains the secret.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "access/access.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/key_values.h"
#include "cli/offline_util.h"
#include "cli/render.h"
#include "cli/session.h"
#include "cli/values.h"
#include "common/assert.h"
#include "crypto/secure.h"
#include "engine/engine.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

// Attempts at a fresh random id when the engine says it is taken (a 1-in-2^64 event per key;
// more than one in a row means the generator is broken, and we stop).
inline constexpr int kCreateAttemptsMax = 3;

struct KeyCreateOptions {
  CommonOptions common;
  std::string scope;
  std::string name;
  std::string rate;  // raw text; "" = the server's default limit
  std::vector<std::string> merchants;  // --merchant, each an id or a comma list
};

struct RevokeOptions {
  CommonOptions common;
  std::string key;  // 16 hex digits, or the whole key text
};

// A validated `apikey create` request.
struct NewKey {
  access::Scope scope = access::Scope::auditor;
  std::string name;
  uint32_t rate_per_second = 0;
  std::vector<AccountId> merchant_accounts;  // ascending; empty = unbound
};

// ---- Values ---------------------------------------------------------------------------------

InputResult<NewKey> ParseCreateOptions(const KeyCreateOptions& o) {
  FirstError errors;
  NewKey key;
  key.scope = errors.Take(ParseScopeText("--scope", o.scope), access::Scope::auditor);
  key.name = errors.Take(ParseKeyName("--name", o.name));
  key.rate_per_second = static_cast<uint32_t>(
      errors.Take(ParseOptionalUnsignedText("--rate", o.rate, kRatePerSecondMax)));
  if (!o.merchants.empty()) {
    key.merchant_accounts =
        errors.Take(ParseMerchantAccounts("--merchant", SplitCommaLists(o.merchants)));
  }
  if (errors.failed()) return Err{errors.error()};
  if (std::string why = access::MerchantBindingError(key.scope, key.merchant_accounts);
      !why.empty()) {
    return InputFail("--merchant: " + why);
  }
  return key;
}

InputResult<uint64_t> ParseKeyIdArgument(std::string_view text) {
  if (text == std::string(access::kKeyIdHexDigits, '0')) {
    return InputFail("API key id 0000000000000000 does not exist: ids are never 0");
  }
  if (const std::optional<uint64_t> id = access::ParseKeyId(text)) return *id;
  return InputFail("\"" + std::string(text) +
                   "\" is not an API key id: give the 16 lowercase hex digits `tpwallet apikey "
                   "list` shows, or the whole key text (tpw_...)");
}

// The id of the key named on the command line: its id, or the id inside its whole key text.
// Only the id part of a key text is used; the secret is not checked (the operator owns the
// directory) and is wiped from our copy.
InputResult<uint64_t> ParseKeyReference(std::string_view text) {
  if (!text.starts_with("tpw_")) return ParseKeyIdArgument(text);
  std::optional<access::KeyText> key = access::ParseKeyText(text);
  if (!key) {
    return InputFail(
        "the key text is malformed: an API key is tpw_, 16 hex digits, _ and 43 base64url "
        "characters (64 in all); or give just the 16-digit id from `tpwallet apikey list`");
  }
  const uint64_t id = key->id;
  crypto::SecureWipe(std::span<uint8_t>(key->secret));
  return id;
}

// ---- Engine calls ---------------------------------------------------------------------------

// Opens the data directory as every data-directory command does. A running `tpwallet serve`
// holds its lock, so the common case of `locked` gets a sentence on what to do.
CommandResult<std::unique_ptr<Session>> OpenKeySession(const CommonOptions& o) {
  CommandResult<std::unique_ptr<Session>> session = OpenSession(o);
  if (session.ok() || session.error().code != "locked") return session;
  CommandError error = session.error();
  error.message +=
      "; if `tpwallet serve` is running on this directory, manage keys through its HTTP "
      "API (POST /v1/api-keys, GET /v1/api-keys, POST /v1/api-keys/{id}/revoke with an admin key), "
      "or stop it (SIGTERM) and run the command again";
  return Fail(std::move(error));
}

CommandResult<engine::AccessReply> Access(Session& session, engine::AccessCommand command) {
  engine::Reply reply = session.engine->ExecuteAccess(std::move(command));
  if (std::optional<CommandError> failure = ReplyFailure(session, reply)) return Fail(*failure);
  TPW_ASSERT(reply.access.has_value());
  return std::move(*reply.access);
}

CommandError AccessErrorOf(engine::AccessError error, std::string message, int exit_code) {
  return CommandError{exit_code, "access", std::string(engine::AccessErrorName(error)),
                      std::move(message)};
}

// Stores a new key under a fresh random id. `text` receives the key text (the only copy of the
// secret; the caller prints and wipes it).
CommandResult<access::ApiKey> StoreNewKey(Session& session, const NewKey& wanted,
                                          access::KeyText& text) {
  for (int attempt = 0; attempt < kCreateAttemptsMax; ++attempt) {
    text = access::GenerateKeyText();
    engine::AccessCommand command;
    command.kind = engine::AccessCommandKind::create_api_key;
    command.key.id = text.id;
    command.key.scope = wanted.scope;
    command.key.name = wanted.name;
    command.key.secret_hash = access::SecretHash(text.secret);
    command.key.rate_per_second = wanted.rate_per_second;
    command.key.merchant_accounts = wanted.merchant_accounts;
    CommandResult<engine::AccessReply> reply = Access(session, std::move(command));
    if (!reply.ok()) return Fail(reply.error());
    if (reply.value().error == engine::AccessError::key_exists) continue;
    if (reply.value().error == engine::AccessError::unknown_merchant_account) {
      crypto::SecureWipe(std::span<uint8_t>(text.secret));
      return Fail(AccessErrorOf(reply.value().error,
                                "--merchant " + reply.value().detail +
                                    " is not an account in this data directory; create the "
                                    "merchant's account first (tpwallet account create) or "
                                    "correct the id; nothing was stored",
                                kExitUsage));
    }
    if (reply.value().error != engine::AccessError::ok) {
      return Fail(AccessErrorOf(reply.value().error,
                                "the engine refused the new key as invalid (a bug in tpwallet; "
                                "please report it)",
                                kExitInternal));
    }
    TPW_ASSERT(reply.value().keys.size() == 1);
    return reply.value().keys.front();
  }
  crypto::SecureWipe(std::span<uint8_t>(text.secret));
  return Fail(AccessErrorOf(engine::AccessError::key_exists,
                            "every random key id tried was taken (" +
                                std::to_string(kCreateAttemptsMax) +
                                " attempts): the random generator looks broken; nothing was "
                                "stored",
                            kExitInternal));
}

// ---- Output ---------------------------------------------------------------------------------

std::string RateText(uint32_t rate_per_second) {
  return rate_per_second == 0 ? "default" : std::to_string(rate_per_second) + "/s";
}

// What a key may act for: its merchant accounts, "all" for an unbound merchant key, "-" else.
std::string MerchantsText(const access::ApiKey& key) {
  if (key.scope != access::Scope::merchant) return "-";
  if (!key.bound()) return "all";
  std::string text;
  for (const AccountId merchant : key.merchant_accounts) {
    text += (text.empty() ? "" : ",") + FormatId(merchant);
  }
  return text;
}

std::string StatusText(const access::ApiKey& key) {
  return key.revoked ? "revoked " + FormatMsUtc(key.revoked_ms) : "active";
}

void PrintKeyFields(const access::ApiKey& key) {
  std::printf("  id:       %s\n", access::KeyIdText(key.id).c_str());
  std::printf("  scope:    %s\n", std::string(access::ScopeName(key.scope)).c_str());
  std::printf("  name:     %s\n", key.name.c_str());
  const std::string rate = key.rate_per_second == 0
                               ? "the server's default limit"
                               : std::to_string(key.rate_per_second) + " requests/s";
  std::printf("  rate:     %s\n", rate.c_str());
  if (key.scope == access::Scope::merchant) {
    const std::string merchants =
        key.bound() ? MerchantsText(key) : "all (unbound: acts for every merchant)";
    std::printf("  merchants: %s\n", merchants.c_str());
  }
  std::printf("  created:  %s\n", FormatMsUtc(key.created_ms).c_str());
}

// On stderr, so that stdout stays the key (text: its last line) or the JSON.
void WarnIfUnbound(const access::ApiKey& key) {
  if (key.scope != access::Scope::merchant || key.bound()) return;
  std::fprintf(stderr,
               "warning: this merchant key is not bound to merchant accounts: it can run and read "
               "every merchant's payments. That suits a single-merchant deployment; otherwise "
               "revoke it and make one with --merchant ACCOUNT_ID (docs/api.md, \"Merchant "
               "keys\")\n");
}

void PrintCreated(const CommonOptions& o, const access::ApiKey& key, std::string& key_text) {
  WarnIfUnbound(key);
  if (o.json) {
    bj::object out = KeyToJson(key);
    out["key"] = key_text;
    PrintJson(out);
    bj::string& copy = out["key"].as_string();
    crypto::SecureWipe(std::span<char>(copy.data(), copy.size()));
    return;
  }
  std::printf("API key created\n");
  PrintKeyFields(key);
  std::printf(
      "key (shown only this once: it cannot be shown again; store it in a secret store now):\n");
  std::printf("%s\n", key_text.c_str());
}

// ---- Commands -------------------------------------------------------------------------------

int RunKeyCreate(const KeyCreateOptions& o) {
  InputResult<NewKey> wanted = ParseCreateOptions(o);
  if (!wanted.ok()) return Report(o.common, InputErrorOf(wanted.error()));
  CommandResult<std::unique_ptr<Session>> session = OpenKeySession(o.common);
  if (!session.ok()) return Report(o.common, session.error());
  access::KeyText text;
  CommandResult<access::ApiKey> stored = StoreNewKey(*session.value(), wanted.value(), text);
  if (!stored.ok()) return Report(o.common, stored.error());
  std::string key_text = access::FormatKeyText(text);
  crypto::SecureWipe(std::span<uint8_t>(text.secret));
  PrintCreated(o.common, stored.value(), key_text);
  std::fflush(stdout);
  crypto::SecureWipe(std::span<char>(key_text.data(), key_text.size()));
  return kExitOk;
}

int RunList(const CommonOptions& o) {
  CommandResult<std::unique_ptr<Session>> session = OpenKeySession(o);
  if (!session.ok()) return Report(o, session.error());
  engine::AccessCommand command;
  command.kind = engine::AccessCommandKind::list_api_keys;
  CommandResult<engine::AccessReply> reply = Access(*session.value(), std::move(command));
  if (!reply.ok()) return Report(o, reply.error());
  const std::vector<access::ApiKey>& keys = reply.value().keys;
  if (o.json) {
    bj::array array;
    for (const access::ApiKey& key : keys) array.push_back(KeyToJson(key));
    bj::object out;
    out["keys"] = std::move(array);
    PrintJson(out);
    return kExitOk;
  }
  if (keys.empty()) {
    std::printf("no API keys; make one with `tpwallet apikey create --scope admin --name NAME`\n");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const access::ApiKey& key : keys) {
    rows.push_back({access::KeyIdText(key.id), std::string(access::ScopeName(key.scope)), key.name,
                    RateText(key.rate_per_second), MerchantsText(key), FormatMsUtc(key.created_ms),
                    StatusText(key)});
  }
  std::printf("%s", RenderTable({"id", "scope", "name", "rate", "merchants", "created", "status"},
                                rows)
                        .c_str());
  std::printf("%zu API key%s\n", keys.size(), keys.size() == 1 ? "" : "s");
  return kExitOk;
}

CommandError RevokeRefusal(const Session& session, engine::AccessError error, uint64_t id) {
  const std::string id_hex = access::KeyIdText(id);
  if (error == engine::AccessError::unknown_key) {
    return AccessErrorOf(
        error,
        "no API key " + id_hex + " in this data directory; `tpwallet apikey list` shows the keys",
        kExitNotFound);
  }
  if (error == engine::AccessError::already_revoked) {
    const access::ApiKey* key = session.engine->ApiKeys()->Find(id);
    const std::string when = key != nullptr ? " at " + FormatMsUtc(key->revoked_ms) : "";
    return AccessErrorOf(
        error, "API key " + id_hex + " was already revoked" + when + "; nothing was changed",
        kExitRejected);
  }
  return AccessErrorOf(error, "the engine refused to revoke API key " + id_hex, kExitInternal);
}

int RunRevoke(const RevokeOptions& o) {
  InputResult<uint64_t> id = ParseKeyReference(o.key);
  if (!id.ok()) return Report(o.common, InputErrorOf(id.error()));
  CommandResult<std::unique_ptr<Session>> session = OpenKeySession(o.common);
  if (!session.ok()) return Report(o.common, session.error());
  engine::AccessCommand command;
  command.kind = engine::AccessCommandKind::revoke_api_key;
  command.key_id = id.value();
  CommandResult<engine::AccessReply> reply = Access(*session.value(), std::move(command));
  if (!reply.ok()) return Report(o.common, reply.error());
  if (reply.value().error != engine::AccessError::ok) {
    return Report(o.common, RevokeRefusal(*session.value(), reply.value().error, id.value()));
  }
  TPW_ASSERT(reply.value().keys.size() == 1);
  const access::ApiKey& key = reply.value().keys.front();
  if (o.common.json) {
    PrintJson(KeyToJson(key));
  } else {
    std::printf(
        "API key %s (%s, \"%s\"): revoked at %s; `tpwallet serve` refuses it from its next start\n",
        access::KeyIdText(key.id).c_str(), std::string(access::ScopeName(key.scope)).c_str(),
        key.name.c_str(), FormatMsUtc(key.revoked_ms).c_str());
  }
  return kExitOk;
}

// ---- Registration ---------------------------------------------------------------------------

void RegisterKeyCreate(CLI::App& apikey, int& exit_code) {
  auto o = std::make_shared<KeyCreateOptions>();
  CLI::App* cmd = apikey.add_subcommand(
      "create",
      "Make a new API key, store its scope, name, rate limit and merchant accounts (and a hash "
      "of its secret), and print the key text once: it cannot be shown again.\n"
      "A merchant key with --merchant acts only for those merchant accounts: their payments, "
      "refunds and coupons; another merchant's are 404 to it. Without --merchant it acts for "
      "every merchant (for single-merchant deployments; a warning says so).\n"
      "Example: tpwallet apikey create --scope merchant --name \"shop 12\" --merchant 100 "
      "--rate 500");
  AddCommonOptions(*cmd, o->common);
  cmd->add_option("--scope", o->scope,
                  "What the key may do: admin, merchant, terminal, device, auditor (docs/api.md)")
      ->required();
  cmd->add_option("--name", o->name,
                  "A label for people: 1..100 bytes of UTF-8, no control "
                  "characters")
      ->required();
  cmd->add_option("--merchant", o->merchants,
                  "Bind a merchant key to this merchant account id (docs/ids.md); repeat it or "
                  "give a comma list, at most 64 in all. Merchant scope only");
  cmd->add_option("--rate", o->rate,
                  "Requests per second this key may make, 1..1000000 (default or 0: the "
                  "server's default limit)");
  cmd->callback([o, &exit_code] { exit_code = RunKeyCreate(*o); });
}

void RegisterList(CLI::App& apikey, int& exit_code) {
  auto o = std::make_shared<CommonOptions>();
  CLI::App* cmd = apikey.add_subcommand(
      "list",
      "List the API keys: id, scope, name, rate limit, merchant accounts (\"all\" for an unbound "
      "merchant key), creation time (UTC) and status. Never prints secrets or their hashes.\n"
      "Example: tpwallet apikey list --json");
  AddCommonOptions(*cmd, *o);
  cmd->callback([o, &exit_code] { exit_code = RunList(*o); });
}

void RegisterRevoke(CLI::App& apikey, int& exit_code) {
  auto o = std::make_shared<RevokeOptions>();
  CLI::App* cmd = apikey.add_subcommand(
      "revoke",
      "Revoke an API key for good, named by its 16-hex-digit id or its whole key text.\n"
      "Example: tpwallet apikey revoke 3f9c2a7b1d0e4c85");
  AddCommonOptions(*cmd, o->common);
  cmd->add_option("ID", o->key, "The key's id (16 hex digits, from `apikey list`) or key text")
      ->required();
  cmd->callback([o, &exit_code] { exit_code = RunRevoke(*o); });
}

}  // namespace

void RegisterApiKeyCommands(CLI::App& app, int& exit_code) {
  CLI::App* apikey = app.add_subcommand(
      "apikey",
      "The API keys `tpwallet serve` accepts (Authorization: Bearer <key>). Run while the "
      "server is stopped: it holds the data directory.\n"
      "Example: tpwallet apikey create --scope merchant --name \"shop 12\"");
  apikey->require_subcommand(1);
  RegisterKeyCreate(*apikey, exit_code);
  RegisterList(*apikey, exit_code);
  RegisterRevoke(*apikey, exit_code);
}

}  // namespace tpw::cli
