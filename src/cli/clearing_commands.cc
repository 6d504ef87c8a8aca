// tpwallet clearing submit | exceptions | resolve: uploaded terminal batches and the exceptions
// queue (docs/offline-protocol.md, "Clearing").
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/offline_commands.h"
#include "cli/offline_util.h"
#include "cli/render.h"
#include "cli/session.h"
#include "crypto/base64.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;
using offline::Classification;

// Files one `clearing submit` takes: each is read whole before anything is submitted.
constexpr size_t kSubmitFilesMax = 64;

bool IsBase64UrlChar(uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::string ReasonText(offline::InvalidReason reason) {
  return reason == offline::InvalidReason::none ? "-"
                                                : std::string(offline::InvalidReasonName(reason));
}

// ---- clearing submit ------------------------------------------------------------------------

struct SubmitOptions {
  CommonOptions common;
  std::vector<std::string> files;
};

// One file: the batch as uploaded, or why it never reached the engine.
struct Upload {
  std::string file;
  std::vector<uint8_t> batch;
  bool text_form = false;
  std::optional<CommandError> refused;
};

// A batch file is binary (it starts with its type byte, 4) or its base64url text form (which
// starts with a base64url character; one line end after it is allowed).
Upload DecodeUpload(const std::string& file, std::vector<uint8_t> bytes) {
  Upload upload;
  upload.file = file;
  if (bytes.empty() || !IsBase64UrlChar(bytes[0])) {
    upload.batch = std::move(bytes);
    return upload;
  }
  upload.text_form = true;
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.ends_with("\n")) text.remove_suffix(1);
  if (text.ends_with("\r")) text.remove_suffix(1);
  auto decoded = crypto::Base64UrlDecode(text, kBatchBytesMax);
  if (!decoded.ok()) {
    upload.refused = CommandError{
        kExitBatchRefused, "offline", "malformed",
        file + ": malformed: the text form is not canonical base64url (" +
            std::string(crypto::Base64ErrorName(decoded.error())) + ": " +
            std::string(crypto::Base64ErrorMessage(decoded.error())) +
            "); nothing in it was classified; submit the binary batch or its exact text form"};
    return upload;
  }
  upload.batch = std::move(decoded).value();
  return upload;
}

// Prints one classified batch (or, with `json`, adds its outcomes and totals to it).
void PrintBatch(const Upload& upload, const engine::OfflineReply& reply, const AssetTable& assets,
                bj::object* json) {
  auto decoded = offline::DecodeBatch(upload.batch);  // the engine decoded the same bytes
  const offline::TerminalBatch* batch = decoded.ok() ? &decoded.value() : nullptr;
  if (json != nullptr) {
    for (auto& [key, value] : BatchOutcomesToJson(batch, reply.outcomes, assets)) {
      (*json)[key] = std::move(value);
    }
    return;
  }
  const BatchTotals totals = TotalBatch(batch, reply.outcomes);
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < reply.outcomes.size(); ++i) {
    const offline::TokenOutcome& outcome = reply.outcomes[i];
    const offline::PaymentToken* token = TokenAt(batch, i);
    std::string reason = ReasonText(outcome.reason);
    if (!IsZeroHash(outcome.conflicting_token_id)) {
      reason = "first cleared: " + ShortHex(outcome.conflicting_token_id);
    }
    rows.push_back({std::to_string(i), ShortHex(outcome.token_id),
                    token ? FormatId(token->certificate.device_id) : "?",
                    token ? std::to_string(token->counter) : "?",
                    token ? FormatMoney(assets, token->asset, token->amount) : "?",
                    std::string(offline::ClassificationName(outcome.classification)), reason});
  }
  const uint64_t declined = totals.Count(Classification::double_spend) +
                            totals.Count(Classification::over_allowance) +
                            totals.Count(Classification::invalid);
  std::printf("%s: batch %s from terminal %s, %zu token%s: classified\n", upload.file.c_str(),
              batch ? ShortHex(batch->batch_id).c_str() : "?",
              batch ? FormatId(batch->terminal_id).c_str() : "?", reply.outcomes.size(),
              reply.outcomes.size() == 1 ? "" : "s");
  std::fputs(
      RenderTable({"#", "token", "device", "counter", "amount", "classification", "reason"}, rows)
          .c_str(),
      stdout);
  const uint64_t cleared_count = totals.Count(Classification::cleared);
  std::string cleared = std::to_string(cleared_count);
  if (cleared_count > 0) {
    cleared += totals.mixed_assets ? " (several assets)"
                                   : " (" + FormatMoney(assets, totals.asset, totals.cleared) + ")";
  }
  std::printf("cleared %s, duplicate %lu, double_spend %lu, over_allowance %lu, invalid %lu\n",
              cleared.c_str(), totals.Count(Classification::duplicate),
              totals.Count(Classification::double_spend),
              totals.Count(Classification::over_allowance), totals.Count(Classification::invalid));
  if (declined > 0) {
    std::printf(
        "%lu token%s declined: see `tpwallet clearing exceptions` (the batch itself was "
        "accepted)\n",
        declined, declined == 1 ? "" : "s");
  }
}

int RunSubmit(const SubmitOptions& o) {
  if (o.files.size() > kSubmitFilesMax) {
    return Report(o.common,
                  UsageError("at most " + std::to_string(kSubmitFilesMax) + " files per submit"));
  }
  std::vector<Upload> uploads;
  for (const std::string& file : o.files) {
    CommandResult<std::vector<uint8_t>> bytes = ReadInputFile(file, kMessageFileBytesMax);
    if (!bytes.ok()) return Report(o.common, bytes.error());
    uploads.push_back(DecodeUpload(file, std::move(bytes).value()));
  }
  CommandResult<std::unique_ptr<Session>> session = OpenSession(o.common);
  if (!session.ok()) return Report(o.common, session.error());
  int exit_code = kExitOk;
  bj::array batches;
  for (Upload& upload : uploads) {
    bj::object batch_json;
    batch_json["file"] = upload.file;
    batch_json["text_form"] = upload.text_form;
    if (!upload.refused) {
      engine::OfflineCommand command;
      command.kind = engine::OfflineCommandKind::submit_batch;
      command.batch_bytes = upload.batch;
      CommandResult<engine::OfflineReply> reply =
          RunOffline(*session.value(), std::move(command), true);
      if (!reply.ok() && reply.error().exit_code != kExitBatchRefused) {
        return Report(o.common, reply.error());  // the engine stopped: later files not submitted
      }
      if (!reply.ok()) {
        upload.refused = reply.error();
        upload.refused->message = upload.file + ": " + upload.refused->message;
      } else {
        batch_json["status"] = "classified";
        batch_json["error"] = nullptr;
        PrintBatch(upload, reply.value(), session.value()->assets,
                   o.common.json ? &batch_json : nullptr);
      }
    }
    if (upload.refused) {
      exit_code = kExitBatchRefused;
      std::fprintf(stderr, "error: %s\n", upload.refused->message.c_str());
      batch_json["status"] = upload.refused->code == "batch_rejected" ? "rejected" : "malformed";
      bj::object error;
      error["kind"] = upload.refused->kind;
      error["code"] = upload.refused->code;
      error["message"] = upload.refused->message;
      error["exit_code"] = upload.refused->exit_code;
      batch_json["error"] = std::move(error);
    }
    batches.push_back(std::move(batch_json));
  }
  if (o.common.json) {
    bj::object out;
    out["batches"] = std::move(batches);
    out["exit_code"] = exit_code;
    PrintJson(out);
  }
  return exit_code;
}

// ---- clearing exceptions --------------------------------------------------------------------

struct ExceptionsOptions {
  CommonOptions common;
  bool all = false;
};

int RunExceptions(const ExceptionsOptions& o) {
  CommandResult<std::unique_ptr<Session>> session = OpenSession(o.common);
  if (!session.ok()) return Report(o.common, session.error());
  engine::OfflineCommand command;
  command.kind = engine::OfflineCommandKind::list_exceptions;
  if (!o.all) command.exceptions_filter.status = offline::ExceptionRecord::Status::open;
  CommandResult<engine::OfflineReply> reply = RunOffline(*session.value(), std::move(command));
  if (!reply.ok()) return Report(o.common, reply.error());
  const AssetTable& assets = session.value()->assets;
  const std::vector<offline::ExceptionRecord>& list = reply.value().exceptions;
  if (o.common.json) {
    bj::array items;
    for (const offline::ExceptionRecord& e : list) items.push_back(ExceptionToJson(e, assets));
    bj::object out;
    out["exceptions"] = std::move(items);
    PrintJson(out);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const offline::ExceptionRecord& e : list) {
    rows.push_back({std::to_string(e.id), std::string(ExceptionStatusName(e.status)),
                    std::string(offline::ClassificationName(e.classification)),
                    ReasonText(e.reason), ShortHex(e.token_id),
                    IsZeroHash(e.conflicting_token_id) ? "-" : ShortHex(e.conflicting_token_id),
                    FormatId(e.device_id), FormatId(e.terminal_id), FormatId(e.merchant_id),
                    FormatMoney(assets, e.asset, e.amount)});
  }
  if (!rows.empty()) {
    std::fputs(RenderTable({"id", "status", "classification", "reason", "token", "first cleared",
                            "device", "terminal", "merchant", "amount"},
                           rows)
                   .c_str(),
               stdout);
  }
  std::printf("%zu %sexception%s\n", list.size(), o.all ? "" : "open ",
              list.size() == 1 ? "" : "s");
  return kExitOk;
}

// ---- clearing resolve -----------------------------------------------------------------------

struct ResolveOptions {
  CommonOptions common;
  std::string exception;
  std::string guarantee_account;
  bool reject = false;
};

int RunResolve(const ResolveOptions& o) {
  FirstError errors;
  engine::OfflineCommand c;
  c.kind = engine::OfflineCommandKind::resolve_exception;
  c.exception_id = errors.Take(ParseUnsignedText("exception id", o.exception, UINT64_MAX));
  if (errors.failed()) return Report(o.common, InputErrorOf(errors.error()));
  const bool pay = !o.guarantee_account.empty();
  if (pay == o.reject) {
    return Report(o.common, UsageError("clearing resolve needs exactly one of "
                                       "--pay-from-guarantee ACCOUNT and --reject"));
  }
  using Status = offline::ExceptionRecord::Status;
  c.resolution = pay ? Status::paid_from_guarantee : Status::rejected;
  if (pay) {
    c.guarantee_account =
        AccountId(errors.Take(ParseIdText("--pay-from-guarantee", o.guarantee_account)));
    if (errors.failed()) return Report(o.common, InputErrorOf(errors.error()));
  }
  CommandResult<std::unique_ptr<Session>> session = OpenSession(o.common);
  if (!session.ok()) return Report(o.common, session.error());
  CommandResult<engine::OfflineReply> reply = RunOffline(*session.value(), c);
  if (!reply.ok()) return Report(o.common, reply.error());
  TPW_ASSERT(reply.value().exceptions.size() == 1);
  const offline::ExceptionRecord& e = reply.value().exceptions[0];
  const AssetTable& assets = session.value()->assets;
  if (o.common.json) {
    bj::object out;
    out["exception"] = ExceptionToJson(e, assets);
    PrintJson(out);
  } else if (pay) {
    std::printf(
        "exception %lu: paid_from_guarantee: %s from account %s to terminal %s's "
        "settlement account (transfer code 904)\n",
        e.id, FormatMoney(assets, e.asset, e.amount).c_str(), FormatId(c.guarantee_account).c_str(),
        FormatId(e.terminal_id).c_str());
  } else {
    std::printf("exception %lu: rejected: the merchant is not paid; the token stays as evidence\n",
                e.id);
  }
  return kExitOk;
}

// ---- registration ---------------------------------------------------------------------------

void RegisterSubmit(CLI::App& clearing, int& exit_code) {
  auto o = std::make_shared<SubmitOptions>();
  CLI::App* cmd = clearing.add_subcommand(
      "submit",
      "Upload terminal batch files (binary, or their base64url text form) and print how each "
      "token was classified. Exit 0 when every batch was classified, declined tokens "
      "included; exit 8 when a batch was refused as a whole or does not decode.\n"
      "Example: tpwallet clearing submit terminal-50-batch-1.bin");
  AddCommonOptions(*cmd, o->common);
  cmd->add_option("files", o->files, "Batch files, each submitted as one upload")->required();
  cmd->callback([o, &exit_code] { exit_code = RunSubmit(*o); });
}

void RegisterExceptionsResolve(CLI::App& clearing, int& exit_code) {
  auto list = std::make_shared<ExceptionsOptions>();
  CLI::App* list_cmd = clearing.add_subcommand(
      "exceptions",
      "List the exceptions queue: double spends, over-allowance and invalid tokens (open ones; "
      "--all for resolved ones too).\nExample: tpwallet clearing exceptions --all");
  AddCommonOptions(*list_cmd, list->common);
  list_cmd->add_flag("--all", list->all, "Also list resolved exceptions");
  list_cmd->callback([list, &exit_code] { exit_code = RunExceptions(*list); });

  auto resolve = std::make_shared<ResolveOptions>();
  CLI::App* resolve_cmd = clearing.add_subcommand(
      "resolve",
      "Resolve an open exception: pay the merchant from a guarantee account (the issuer honours "
      "a payment its terminal accepted in good faith), or reject it.\n"
      "Example: tpwallet clearing resolve 1 --pay-from-guarantee 5");
  AddCommonOptions(*resolve_cmd, resolve->common);
  resolve_cmd->add_option("exception", resolve->exception, "Exception id")->required();
  resolve_cmd->add_option("--pay-from-guarantee", resolve->guarantee_account,
                          "Pay the token's amount from this account to the merchant");
  resolve_cmd->add_flag("--reject", resolve->reject, "Do not pay the merchant");
  resolve_cmd->callback([resolve, &exit_code] { exit_code = RunResolve(*resolve); });
}

}  // namespace

void RegisterClearingCommands(CLI::App& app, int& exit_code) {
  CLI::App* clearing =
      app.add_subcommand("clearing",
                         "Clear uploaded offline payments and work the exceptions queue.\n"
                         "Example: tpwallet clearing submit batch.bin");
  clearing->require_subcommand(1);
  RegisterSubmit(*clearing, exit_code);
  RegisterExceptionsResolve(*clearing, exit_code);
}

}  // namespace tpw::cli
