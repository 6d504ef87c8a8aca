// tpwallet transfer [--file FILE] | transfer show: transfers on a data directory.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/backend.h"
#include "cli/batch_input.h"
#include "cli/commands.h"
#include "cli/render.h"
#include "cli/session.h"
#include "cli/write_report.h"
#include "common/limits.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;
namespace tf = ledger::transfer_flags;

struct TransferOptions {
  CommonOptions common;
  std::string id;
  std::string debit;
  std::string credit;
  std::string amount;
  std::string ledger;
  std::string code;
  std::string timeout;
  std::string post;
  std::string void_id;
  std::string user_data_128;
  std::string user_data_64;
  std::string user_data_32;
  bool pending = false;
  bool balancing_debit = false;
  bool balancing_credit = false;
  bool closing_debit = false;
  bool closing_credit = false;
  bool minor = false;
  std::string file;
  std::vector<CLI::Option*> single_event_options;  // all but --file and the common ones
};

// ---- Building the transfer from options -------------------------------------------------

// The option combinations the ledger would also refuse, caught here with the option names.
InputResult<bool> CheckOptionCombination(const TransferOptions& o) {
  if (o.id.empty()) return InputFail("transfer needs --id (or --file)");
  const int phases = (o.pending ? 1 : 0) + (o.post.empty() ? 0 : 1) + (o.void_id.empty() ? 0 : 1);
  if (phases > 1) return InputFail("--pending, --post and --void exclude each other");
  if (!o.timeout.empty() && !o.pending) return InputFail("--timeout applies only with --pending");
  const bool second_phase = !o.post.empty() || !o.void_id.empty();
  if (second_phase &&
      (o.balancing_debit || o.balancing_credit || o.closing_debit || o.closing_credit)) {
    return InputFail("--post/--void cannot be combined with --balancing-* or --closing-*");
  }
  if (!second_phase && (o.debit.empty() || o.credit.empty() || o.amount.empty() ||
                        o.ledger.empty() || o.code.empty())) {
    return InputFail(
        "a transfer needs --debit, --credit, --amount, --ledger and --code "
        "(to post or void a pending transfer: --post ID or --void ID)");
  }
  return true;
}

uint16_t FlagsFromOptions(const TransferOptions& o) {
  uint16_t flags = 0;
  auto set = [&flags](bool on, uint16_t bit) {
    if (on) flags = static_cast<uint16_t>(flags | bit);
  };
  set(o.pending, tf::kPending);
  set(!o.post.empty(), tf::kPostPendingTransfer);
  set(!o.void_id.empty(), tf::kVoidPendingTransfer);
  set(o.balancing_debit, tf::kBalancingDebit);
  set(o.balancing_credit, tf::kBalancingCredit);
  set(o.closing_debit, tf::kClosingDebit);
  set(o.closing_credit, tf::kClosingCredit);
  return flags;
}

InputResult<TransferDraft> DraftFromOptions(const TransferOptions& o, const AssetTable& assets) {
  InputResult<bool> combination = CheckOptionCombination(o);
  if (!combination.ok()) return Err{combination.error()};
  const bool post = !o.post.empty();
  FirstError errors;
  TransferDraft draft;
  ledger::Transfer& t = draft.transfer;
  t.flags = FlagsFromOptions(o);
  t.id = TransferId(errors.Take(ParseIdText("--id", o.id)));
  t.debit_account_id = AccountId(errors.Take(ParseOptionalIdText("--debit", o.debit)));
  t.credit_account_id = AccountId(errors.Take(ParseOptionalIdText("--credit", o.credit)));
  t.pending_id = TransferId(
      errors.Take(ParseOptionalIdText(post ? "--post" : "--void", post ? o.post : o.void_id)));
  t.code =
      static_cast<uint16_t>(errors.Take(ParseOptionalUnsignedText("--code", o.code, UINT16_MAX)));
  t.timeout = static_cast<uint32_t>(
      errors.Take(ParseOptionalUnsignedText("--timeout", o.timeout, kTimeoutSecondsMax)));
  t.user_data_128 = errors.Take(ParseOptionalIdText("--user-data-128", o.user_data_128));
  t.user_data_64 =
      errors.Take(ParseOptionalUnsignedText("--user-data-64", o.user_data_64, UINT64_MAX));
  t.user_data_32 = static_cast<uint32_t>(
      errors.Take(ParseOptionalUnsignedText("--user-data-32", o.user_data_32, UINT32_MAX)));
  if (!o.ledger.empty()) t.ledger = errors.Take(ParseLedgerText(o.ledger, assets));
  if (errors.failed()) return Err{errors.error()};
  if (!o.amount.empty()) draft.amount = AmountText{o.amount, o.minor};
  return draft;
}

InputResult<std::vector<TransferDraft>> DraftsFromFile(const std::string& path,
                                                       const AssetTable& assets) {
  InputResult<std::vector<BatchLine>> lines = ReadBatchFile(path);
  if (!lines.ok()) return Err{lines.error()};
  std::vector<TransferDraft> drafts;
  for (const BatchLine& line : lines.value()) {
    InputResult<TransferDraft> draft = ParseTransferLine(line.text, assets);
    if (!draft.ok()) {
      return InputFail(path + ":" + std::to_string(line.number) + ": " + draft.error().message);
    }
    draft.value().line = line.number;
    drafts.push_back(std::move(draft).value());
  }
  return drafts;
}

// ---- Reading amounts in the right asset ------------------------------------------------------

// `source`: the batch file, or "" for the command line.
CommandError WhereError(std::string_view source, const TransferDraft& draft, int exit_code,
                        const std::string& message) {
  const std::string where =
      draft.line == 0 ? "" : std::string(source) + ":" + std::to_string(draft.line) + ": ";
  return CommandError{exit_code, "input",
                      exit_code == kExitNotFound ? "not_found" : "invalid_input", where + message};
}

CommandResult<std::vector<ledger::Transfer>> ResolveAmounts(
    LedgerBackend& backend, const std::vector<TransferDraft>& drafts, std::string_view source) {
  const std::vector<TransferId> to_look_up = PendingLedgersToLookUp(drafts);
  std::map<u128, uint32_t> stored_ledgers;
  if (!to_look_up.empty()) {
    CommandResult<TransferRows> found = backend.LookupTransfers(to_look_up);
    if (!found.ok()) return Fail(found.error());
    for (const ledger::Transfer& t : found.value().transfers) {
      stored_ledgers.emplace(t.id.value, t.ledger);
    }
  }
  auto resolved = ResolveTransferDrafts(drafts, stored_ledgers, backend.assets());
  if (!resolved.ok()) {
    const DraftError& e = resolved.error();
    return Fail(WhereError(source, drafts[e.index],
                           e.pending_not_found ? kExitNotFound : kExitUsage, e.message));
  }
  return std::move(resolved).value();
}

// ---- transfer -------------------------------------------------------------------------------

int RunTransfer(const TransferOptions& o) {
  const AssetTable assets = AssetTable::Default();
  std::vector<TransferDraft> drafts;
  if (!o.file.empty()) {
    if (const std::string conflict = FirstGiven(o.single_event_options); !conflict.empty()) {
      return Report(o.common, UsageError("--file cannot be combined with " + conflict +
                                         "; the file holds every field"));
    }
    InputResult<std::vector<TransferDraft>> from_file = DraftsFromFile(o.file, assets);
    if (!from_file.ok()) return Report(o.common, InputErrorOf(from_file.error()));
    drafts = std::move(from_file).value();
  } else {
    InputResult<TransferDraft> draft = DraftFromOptions(o, assets);
    if (!draft.ok()) return Report(o.common, InputErrorOf(draft.error()));
    drafts.push_back(std::move(draft).value());
  }
  CommandResult<std::unique_ptr<LedgerBackend>> opened = OpenLedgerBackend(o.common);
  if (!opened.ok()) return Report(o.common, opened.error());
  LedgerBackend& backend = *opened.value();
  CommandResult<std::vector<ledger::Transfer>> transfers = ResolveAmounts(backend, drafts, o.file);
  if (!transfers.ok()) return Report(o.common, transfers.error());
  CommandResult<std::vector<ledger::CreateTransfersResult>> results =
      backend.CreateTransfers(transfers.value());
  if (!results.ok()) return Report(o.common, results.error());
  std::vector<uint32_t> lines;
  for (const TransferDraft& d : drafts) lines.push_back(d.line);
  return PrintOutcomes(o.common, "transfer",
                       TransferOutcomes(transfers.value(), lines, results.value()));
}

// ---- transfer show --------------------------------------------------------------------------

struct TransferShowOptions {
  CommonOptions common;
  std::vector<std::string> ids;
};

int RunTransferShow(const TransferShowOptions& o) {
  if (o.ids.size() > kLookupIdsMax) {
    return Report(o.common,
                  UsageError("at most " + std::to_string(kLookupIdsMax) + " ids per lookup"));
  }
  std::vector<TransferId> ids;
  for (const std::string& text : o.ids) {
    InputResult<TransferId> id = ParseIdTextAs<TransferIdTag>("id", text);
    if (!id.ok()) return Report(o.common, InputErrorOf(id.error()));
    if (std::find(ids.begin(), ids.end(), id.value()) == ids.end()) ids.push_back(id.value());
  }
  CommandResult<std::unique_ptr<LedgerBackend>> opened = OpenLedgerBackend(o.common);
  if (!opened.ok()) return Report(o.common, opened.error());
  LedgerBackend& backend = *opened.value();
  CommandResult<TransferRows> found = backend.LookupTransfers(ids);
  if (!found.ok()) return Report(o.common, found.error());
  const std::vector<ledger::Transfer>& transfers = found.value().transfers;
  const std::vector<std::optional<ledger::PendingStatus>>& statuses = found.value().statuses;
  std::vector<std::string> missing;
  for (TransferId id : ids) {
    const bool present = std::any_of(transfers.begin(), transfers.end(),
                                     [id](const ledger::Transfer& t) { return t.id == id; });
    if (!present) missing.push_back(FormatId(id));
  }
  if (o.common.json) {
    bj::array items;
    for (size_t i = 0; i < transfers.size(); ++i) {
      items.push_back(TransferToJson(transfers[i], statuses[i], backend.assets()));
    }
    bj::array not_found;
    for (const std::string& id : missing) not_found.emplace_back(id);
    bj::object out;
    out["transfers"] = std::move(items);
    out["not_found"] = std::move(not_found);
    PrintJson(out);
  } else if (!transfers.empty()) {
    std::fputs(TransfersTable(transfers, statuses, backend.assets()).c_str(), stdout);
  }
  for (const std::string& id : missing)
    std::fprintf(stderr, "error: transfer %s not found\n", id.c_str());
  return missing.empty() ? kExitOk : kExitNotFound;
}

// ---- registration ---------------------------------------------------------------------------

void AddTransferOptions(CLI::App& cmd, TransferOptions& o) {
  AddCommonOptions(cmd, o.common, ServerUse::writes);
  cmd.add_option(
      "--file", o.file,
      "Submit the transfers of this JSON-lines file as one batch; lines flagged linked commit "
      "or fail together (\"-\" = standard input)");
  o.single_event_options = {
      cmd.add_option("--id", o.id, "Transfer id (the idempotency key): decimal, or 0x + hex"),
      cmd.add_option("--debit", o.debit, "Account to debit"),
      cmd.add_option("--credit", o.credit, "Account to credit"),
      cmd.add_option("--amount", o.amount,
                     "Exact decimal in the ledger's asset (12.34 USD), or minor units with "
                     "--minor; with --post: the part to post (default: all)"),
      cmd.add_option("--ledger", o.ledger, "Ledger number or asset code (USD, EUR, ...)"),
      cmd.add_option("--code", o.code, "Transfer type, 1..65535"),
      cmd.add_flag("--pending", o.pending, "Phase one: hold the amount until posted or voided"),
      cmd.add_option("--timeout", o.timeout, "With --pending: seconds until the hold expires"),
      cmd.add_option("--post", o.post, "Phase two: post this pending transfer (all, or --amount)"),
      cmd.add_option("--void", o.void_id, "Phase two: release this pending transfer"),
      cmd.add_flag("--balancing-debit", o.balancing_debit,
                   "Lower the amount to what the debit account can still pay"),
      cmd.add_flag("--balancing-credit", o.balancing_credit,
                   "Lower the amount to what the credit account can still take"),
      cmd.add_flag("--closing-debit", o.closing_debit,
                   "With --pending: close the debit account (voiding reopens it)"),
      cmd.add_flag("--closing-credit", o.closing_credit,
                   "With --pending: close the credit account (voiding reopens it)"),
      cmd.add_option("--user-data-128", o.user_data_128, "Your reference (id text form)"),
      cmd.add_option("--user-data-64", o.user_data_64, "Your reference, 0..2^64-1"),
      cmd.add_option("--user-data-32", o.user_data_32, "Your reference, 0..2^32-1"),
      cmd.add_flag("--minor", o.minor, "--amount is in minor units (1234, not 12.34)"),
  };
}

// True when an option of `transfer` itself was given; `transfer --json show 1` would otherwise
// quietly ignore the --json meant for `show`.
bool AnyOwnOptionGiven(const CLI::App& cmd) {
  for (const CLI::Option* option : cmd.get_options()) {
    if (option->count() > 0 && option->get_name() != "--help") return true;
  }
  return false;
}

}  // namespace

void RegisterTransferCommands(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TransferOptions>();
  CLI::App* transfer = app.add_subcommand(
      "transfer",
      "Move money between two accounts: at once, or held (--pending) then posted or voided;\n"
      "or a batch from a JSON-lines file (docs/cli.md); on a data directory, or on a running\n"
      "server with --server URL (every POST carries an Idempotency-Key).\n"
      "Example: tpwallet transfer --id 100 --debit 1 --credit 2 --amount 12.34 --ledger USD "
      "--code 1");
  transfer->require_subcommand(0, 1);
  AddTransferOptions(*transfer, *o);

  auto show_options = std::make_shared<TransferShowOptions>();
  CLI::App* show = transfer->add_subcommand("show",
                                            "Show transfers, with what became of pending ones.\n"
                                            "Example: tpwallet transfer show 100 101");
  AddCommonOptions(*show, show_options->common, ServerUse::reads);
  show->add_option("ids", show_options->ids, "Transfer ids")->required();
  // CLI11 runs a subcommand's callback before its parent's, so `show` checks for misplaced
  // options itself, before doing anything.
  show->callback([show_options, transfer, &exit_code] {
    if (AnyOwnOptionGiven(*transfer)) {
      exit_code =
          Report(show_options->common, UsageError("options of `transfer show` go after `show`"));
      return;
    }
    exit_code = RunTransferShow(*show_options);
  });
  transfer->callback([o, show, &exit_code] {
    if (!show->parsed()) exit_code = RunTransfer(*o);
  });
}

}  // namespace tpw::cli
