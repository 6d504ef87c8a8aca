// tpwallet account create | show | transfers | history: accounts on a data directory.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/backend.h"
#include "cli/batch_input.h"
#include "cli/commands.h"
#include "cli/render.h"
#include "cli/session.h"
#include "cli/query.h"
#include "cli/write_report.h"
#include "common/limits.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

struct AccountCreateOptions {
  CommonOptions common;
  std::string id;
  std::string ledger;
  std::string code;
  std::string flags;
  std::string overdraft_limit;
  std::string user_data_128;
  std::string user_data_64;
  std::string user_data_32;
  bool minor = false;
  std::string file;
  std::vector<CLI::Option*> single_event_options;  // all but --file and the common ones
};

// ---- account create -------------------------------------------------------------------------

// The one account described by the command-line options.
InputResult<ledger::Account> AccountFromOptions(const AccountCreateOptions& o,
                                                const AssetTable& assets) {
  if (o.id.empty() || o.ledger.empty() || o.code.empty()) {
    return InputFail("account create needs --id, --ledger and --code (or --file)");
  }
  FirstError errors;
  ledger::Account a;
  a.id = AccountId(errors.Take(ParseIdText("--id", o.id)));
  a.ledger = errors.Take(ParseLedgerText(o.ledger, assets));
  a.code = static_cast<uint16_t>(errors.Take(ParseUnsignedText("--code", o.code, UINT16_MAX)));
  if (!o.flags.empty()) {
    const std::vector<std::string> names = errors.Take(SplitFlagList(o.flags));
    a.flags = errors.Take(ParseAccountFlagNames(names));
  }
  if (!o.overdraft_limit.empty()) {
    a.overdraft_limit = errors.Take(
        ParseAmountText("--overdraft-limit", o.overdraft_limit, a.ledger, o.minor, assets));
  }
  a.user_data_128 = errors.Take(ParseOptionalIdText("--user-data-128", o.user_data_128));
  a.user_data_64 =
      errors.Take(ParseOptionalUnsignedText("--user-data-64", o.user_data_64, UINT64_MAX));
  a.user_data_32 = static_cast<uint32_t>(
      errors.Take(ParseOptionalUnsignedText("--user-data-32", o.user_data_32, UINT32_MAX)));
  if (errors.failed()) return Err{errors.error()};
  return a;
}

struct AccountBatch {
  std::vector<ledger::Account> accounts;
  std::vector<uint32_t> lines;  // parallel; 0 for the command line
};

InputResult<AccountBatch> AccountsFromFile(const std::string& path, const AssetTable& assets) {
  InputResult<std::vector<BatchLine>> lines = ReadBatchFile(path);
  if (!lines.ok()) return Err{lines.error()};
  AccountBatch batch;
  for (const BatchLine& line : lines.value()) {
    InputResult<ledger::Account> account = ParseAccountLine(line.text, assets);
    if (!account.ok()) {
      return InputFail(path + ":" + std::to_string(line.number) + ": " + account.error().message);
    }
    batch.accounts.push_back(account.value());
    batch.lines.push_back(line.number);
  }
  return batch;
}

int RunAccountCreate(const AccountCreateOptions& o) {
  const AssetTable assets = AssetTable::Default();
  AccountBatch batch;
  if (!o.file.empty()) {
    if (const std::string conflict = FirstGiven(o.single_event_options); !conflict.empty()) {
      return Report(o.common, UsageError("--file cannot be combined with " + conflict +
                                         "; the file holds every field"));
    }
    InputResult<AccountBatch> from_file = AccountsFromFile(o.file, assets);
    if (!from_file.ok()) return Report(o.common, InputErrorOf(from_file.error()));
    batch = std::move(from_file).value();
  } else {
    InputResult<ledger::Account> account = AccountFromOptions(o, assets);
    if (!account.ok()) return Report(o.common, InputErrorOf(account.error()));
    batch.accounts.push_back(account.value());
    batch.lines.push_back(0);
  }
  CommandResult<std::unique_ptr<LedgerBackend>> backend = OpenLedgerBackend(o.common);
  if (!backend.ok()) return Report(o.common, backend.error());
  CommandResult<std::vector<ledger::CreateAccountsResult>> results =
      backend.value()->CreateAccounts(batch.accounts);
  if (!results.ok()) return Report(o.common, results.error());
  return PrintOutcomes(o.common, "account",
                       AccountOutcomes(batch.accounts, batch.lines, results.value()));
}

// ---- account show ---------------------------------------------------------------------------

struct AccountShowOptions {
  CommonOptions common;
  std::vector<std::string> ids;
};

template <typename IdType>
InputResult<std::vector<IdType>> ParseIdList(const std::vector<std::string>& texts) {
  if (texts.size() > kLookupIdsMax) {
    return InputFail("at most " + std::to_string(kLookupIdsMax) + " ids per lookup");
  }
  std::vector<IdType> ids;
  for (const std::string& text : texts) {
    InputResult<u128> id = ParseIdText("id", text);
    if (!id.ok()) return Err{id.error()};
    // Each id once, in the order given.
    if (std::find(ids.begin(), ids.end(), IdType(id.value())) == ids.end()) {
      ids.emplace_back(id.value());
    }
  }
  return ids;
}

void PrintNotFound(const char* noun, const std::vector<std::string>& missing) {
  for (const std::string& id : missing)
    std::fprintf(stderr, "error: %s %s not found\n", noun, id.c_str());
}

int RunAccountShow(const AccountShowOptions& o) {
  InputResult<std::vector<AccountId>> ids = ParseIdList<AccountId>(o.ids);
  if (!ids.ok()) return Report(o.common, InputErrorOf(ids.error()));
  CommandResult<std::unique_ptr<LedgerBackend>> backend = OpenLedgerBackend(o.common);
  if (!backend.ok()) return Report(o.common, backend.error());
  CommandResult<std::vector<ledger::Account>> found = backend.value()->LookupAccounts(ids.value());
  if (!found.ok()) return Report(o.common, found.error());
  const std::vector<ledger::Account>& accounts = found.value();
  std::vector<std::string> missing;
  for (AccountId id : ids.value()) {
    const bool present = std::any_of(accounts.begin(), accounts.end(),
                                     [id](const ledger::Account& a) { return a.id == id; });
    if (!present) missing.push_back(FormatId(id));
  }
  const AssetTable& assets = backend.value()->assets();
  if (o.common.json) {
    bj::array items;
    for (const ledger::Account& a : accounts) items.push_back(AccountToJson(a, assets));
    bj::array not_found;
    for (const std::string& id : missing) not_found.emplace_back(id);
    bj::object out;
    out["accounts"] = std::move(items);
    out["not_found"] = std::move(not_found);
    PrintJson(out);
  } else if (!accounts.empty()) {
    std::fputs(AccountsTable(accounts, assets).c_str(), stdout);
  }
  PrintNotFound("account", missing);
  return missing.empty() ? kExitOk : kExitNotFound;
}

// ---- account transfers / history ------------------------------------------------------------

struct AccountQueryOptions {
  CommonOptions common;
  AccountQueryText text;
};

InputResult<AccountQuery> QueryFromOptions(const AccountQueryOptions& o) {
  return ParseAccountQuery(o.text, "--");
}

void PrintPageFooter(size_t rows, const char* noun, std::optional<Timestamp> next) {
  std::printf("%zu %s\n", rows, noun);
  if (next.has_value()) std::printf("more may follow: --after %lu\n", next->ns);
}

void PutCursor(bj::object& out, std::optional<Timestamp> next) {
  if (next.has_value()) {
    out["next_cursor"] = std::to_string(next->ns);
  } else {
    out["next_cursor"] = nullptr;
  }
}

int RunAccountTransfers(const AccountQueryOptions& o) {
  const InputResult<AccountQuery> query = QueryFromOptions(o);
  if (!query.ok()) return Report(o.common, InputErrorOf(query.error()));
  const ledger::AccountFilter& filter = query.value().filter;
  CommandResult<std::unique_ptr<LedgerBackend>> opened = OpenLedgerBackend(o.common);
  if (!opened.ok()) return Report(o.common, opened.error());
  LedgerBackend& backend = *opened.value();
  TransferRows rows;
  if (!query.value().past_the_end) {
    CommandResult<TransferRows> page = backend.AccountTransfers(filter);
    if (!page.ok()) return Report(o.common, page.error());
    rows = std::move(page).value();
  }
  const std::vector<ledger::Transfer>& transfers = rows.transfers;
  const std::optional<Timestamp> next = NextCursor(
      transfers.size(), filter.limit, transfers.empty() ? Timestamp{} : transfers.back().timestamp);
  if (o.common.json) {
    bj::array items;
    for (size_t i = 0; i < transfers.size(); ++i) {
      items.push_back(TransferToJson(transfers[i], rows.statuses[i], backend.assets()));
    }
    bj::object out;
    out["account_id"] = FormatId(filter.account_id);
    out["transfers"] = std::move(items);
    PutCursor(out, next);
    PrintJson(out);
  } else {
    if (!transfers.empty()) {
      std::fputs(TransfersTable(transfers, rows.statuses, backend.assets()).c_str(), stdout);
    }
    PrintPageFooter(transfers.size(), "transfers", next);
  }
  return kExitOk;
}

int RunAccountHistory(const AccountQueryOptions& o) {
  const InputResult<AccountQuery> query = QueryFromOptions(o);
  if (!query.ok()) return Report(o.common, InputErrorOf(query.error()));
  const ledger::AccountFilter& filter = query.value().filter;
  CommandResult<std::unique_ptr<LedgerBackend>> opened = OpenLedgerBackend(o.common);
  if (!opened.ok()) return Report(o.common, opened.error());
  LedgerBackend& backend = *opened.value();
  // The account's ledger says how to write its amounts.
  CommandResult<std::vector<ledger::Account>> account = backend.LookupAccounts({filter.account_id});
  if (!account.ok()) return Report(o.common, account.error());
  if (account.value().empty()) {
    return Report(o.common, QueryErrorOf(ledger::QueryError::account_not_found));
  }
  const uint32_t ledger_number = account.value()[0].ledger;
  std::vector<ledger::AccountBalance> balances;
  if (!query.value().past_the_end) {
    CommandResult<std::vector<ledger::AccountBalance>> page = backend.AccountBalances(filter);
    if (!page.ok()) return Report(o.common, page.error());
    balances = std::move(page).value();
  }
  const std::optional<Timestamp> next = NextCursor(
      balances.size(), filter.limit, balances.empty() ? Timestamp{} : balances.back().timestamp);
  if (o.common.json) {
    bj::array items;
    for (const ledger::AccountBalance& b : balances) {
      items.push_back(BalanceToJson(b, ledger_number, backend.assets()));
    }
    bj::object out;
    out["account_id"] = FormatId(filter.account_id);
    out["balances"] = std::move(items);
    PutCursor(out, next);
    PrintJson(out);
  } else {
    if (!balances.empty()) {
      std::fputs(BalancesTable(balances, ledger_number, backend.assets()).c_str(), stdout);
    }
    PrintPageFooter(balances.size(), "balance entries", next);
  }
  return kExitOk;
}

// ---- registration ---------------------------------------------------------------------------

void RegisterCreate(CLI::App& account, int& exit_code) {
  auto o = std::make_shared<AccountCreateOptions>();
  CLI::App* cmd = account.add_subcommand(
      "create",
      "Create an account, or a batch of accounts from a JSON-lines file (docs/cli.md).\n"
      "Example: tpwallet account create --id 1 --ledger USD --code 10 "
      "--flags debits_must_not_exceed_credits,history");
  AddCommonOptions(*cmd, o->common, ServerUse::writes);
  cmd->add_option("--file", o->file,
                  "Create the accounts of this JSON-lines file as one batch "
                  "(\"-\" = standard input)");
  o->single_event_options = {
      cmd->add_option("--id", o->id, "Account id: decimal, or 0x + hex"),
      cmd->add_option("--ledger", o->ledger, "Ledger number or asset code (USD, EUR, BTC, ...)"),
      cmd->add_option("--code", o->code, "Account type, 1..65535"),
      cmd->add_option("--flags", o->flags,
                      "Comma-separated: debits_must_not_exceed_credits, "
                      "credits_must_not_exceed_debits, history, closed, linked"),
      cmd->add_option("--overdraft-limit", o->overdraft_limit,
                      "How far past the balance flag the account may go, e.g. 5.00"),
      cmd->add_option("--user-data-128", o->user_data_128, "Your reference (id text form)"),
      cmd->add_option("--user-data-64", o->user_data_64, "Your reference, 0..2^64-1"),
      cmd->add_option("--user-data-32", o->user_data_32, "Your reference, 0..2^32-1"),
      cmd->add_flag("--minor", o->minor, "--overdraft-limit is in minor units (1234, not 12.34)"),
  };
  cmd->callback([o, &exit_code] { exit_code = RunAccountCreate(*o); });
}

void RegisterShow(CLI::App& account, int& exit_code) {
  auto o = std::make_shared<AccountShowOptions>();
  CLI::App* cmd = account.add_subcommand(
      "show", "Show accounts: balances, flags, limits.\nExample: tpwallet account show 1 2");
  AddCommonOptions(*cmd, o->common, ServerUse::reads);
  cmd->add_option("ids", o->ids, "Account ids")->required();
  cmd->callback([o, &exit_code] { exit_code = RunAccountShow(*o); });
}

void AddQueryOptions(CLI::App& cmd, AccountQueryOptions& o, bool transfer_filters) {
  AddCommonOptions(cmd, o.common, ServerUse::reads);
  cmd.add_option("account", o.text.account, "Account id")->required();
  cmd.add_option("--from", o.text.from, "Earliest time: ns since 1970, or 2024-01-31T12:00:00Z");
  cmd.add_option("--to", o.text.to, "Latest time (inclusive), same forms as --from");
  cmd.add_option("--limit", o.text.limit, "Rows per page, 1..8189 (default 100)");
  cmd.add_flag("--reverse", o.text.reverse, "Newest first");
  cmd.add_option("--after", o.text.after,
                 "Next page: the cursor printed under the previous page (its last timestamp)");
  if (!transfer_filters) return;
  cmd.add_option("--code", o.text.code, "Only transfers with this code");
  cmd.add_flag("--debits", o.text.debits, "Only transfers that debit the account");
  cmd.add_flag("--credits", o.text.credits, "Only transfers that credit the account");
}

void RegisterTransfers(CLI::App& account, int& exit_code) {
  auto o = std::make_shared<AccountQueryOptions>();
  CLI::App* cmd =
      account.add_subcommand("transfers",
                             "List an account's transfers, oldest first, a page at a time.\n"
                             "Example: tpwallet account transfers 1 --debits --limit 20 --reverse");
  AddQueryOptions(*cmd, *o, true);
  cmd->callback([o, &exit_code] { exit_code = RunAccountTransfers(*o); });
}

void RegisterHistory(CLI::App& account, int& exit_code) {
  auto o = std::make_shared<AccountQueryOptions>();
  CLI::App* cmd = account.add_subcommand(
      "history",
      "List an account's balances after each change (accounts created with the history flag).\n"
      "Example: tpwallet account history 1 --from 2024-01-01T00:00:00Z --limit 50");
  AddQueryOptions(*cmd, *o, false);
  cmd->callback([o, &exit_code] { exit_code = RunAccountHistory(*o); });
}

}  // namespace

void RegisterAccountCommands(CLI::App& app, int& exit_code) {
  CLI::App* account = app.add_subcommand(
      "account",
      "Create and inspect accounts on a data directory, or on a running server (--server).\n"
      "Example: tpwallet account show 1\n"
      "Example: TPWALLET_API_KEY=tpw_... tpwallet account show 1 --server http://127.0.0.1:8080");
  account->require_subcommand(1);
  RegisterCreate(*account, exit_code);
  RegisterShow(*account, exit_code);
  RegisterTransfers(*account, exit_code);
  RegisterHistory(*account, exit_code);
}

}  // namespace tpw::cli
