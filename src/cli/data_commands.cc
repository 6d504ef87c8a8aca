// tpwallet init | snapshot | journal verify: the data directory itself.
#include <boost/json/object.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/render.h"
#include "cli/session.h"
#include "crypto/hash.h"
#include "journal/journal.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

// ---- init -----------------------------------------------------------------------------------

int RunInit(const CommonOptions& o) {
  CommandResult<std::unique_ptr<storage::PosixStorage>> storage = OpenStorage(o, true);
  if (!storage.ok()) return Report(o, storage.error());
  const engine::EngineStatus initialized = engine::Engine::Initialize(*storage.value());
  if (!initialized.ok()) {
    CommandError error = EngineErrorOf(initialized.error());
    if (initialized.error().code == engine::EngineError::already_initialized) {
      error.message = o.data_dir +
                      " is already an initialized data directory; nothing was "
                      "changed (" +
                      error.message + ")";
    }
    return Report(o, error);
  }
  if (o.json) {
    bj::object out;
    out["data_dir"] = o.data_dir;
    out["initialized"] = true;
    PrintJson(out);
  } else {
    std::printf("initialized data directory %s\n", o.data_dir.c_str());
  }
  return kExitOk;
}

// ---- snapshot -------------------------------------------------------------------------------

int RunSnapshot(const CommonOptions& o) {
  CommandResult<std::unique_ptr<Session>> session = OpenSession(o);
  if (!session.ok()) return Report(o, session.error());
  const engine::EngineResult<engine::SnapshotInfo> snapshot = session.value()->engine->Snapshot();
  if (!snapshot.ok()) return Report(o, EngineErrorOf(snapshot.error()));
  const engine::SnapshotInfo& info = snapshot.value();
  const std::string path = session.value()->storage->PathOf(info.file);
  if (o.json) {
    bj::object out;
    out["file"] = path;
    out["sequence"] = std::to_string(info.sequence);
    out["bytes"] = std::to_string(info.bytes);
    out["elapsed_ns"] = std::to_string(info.elapsed_ns);
    PrintJson(out);
  } else {
    std::printf("snapshot written\n");
    std::printf("  file:      %s\n", path.c_str());
    std::printf("  sequence:  %lu (the last journal record it covers)\n", info.sequence);
    std::printf("  size:      %lu bytes\n", info.bytes);
    std::printf("  time:      %.3f ms\n", static_cast<double>(info.elapsed_ns) / 1e6);
  }
  return kExitOk;
}

// ---- journal verify -------------------------------------------------------------------------

CommandError JournalErrorOf(const journal::JournalFailure& failure) {
  int exit_code = kExitDamaged;
  if (failure.code == journal::JournalError::storage ||
      failure.code == journal::JournalError::locked ||
      failure.code == journal::JournalError::no_journal) {
    exit_code = kExitDataDir;
  }
  return CommandError{exit_code, "journal", std::string(journal::JournalErrorName(failure.code)),
                      failure.Message()};
}

void PrintVerifyText(const std::string& directory, const journal::VerifyReport& r) {
  std::printf("journal in %s: ok\n", directory.c_str());
  std::printf("  segments:       %lu\n", r.stats.segments);
  std::printf("  groups:         %lu\n", r.stats.groups);
  std::printf("  records:        %lu\n", r.stats.records);
  std::printf("  bytes:          %lu\n", r.stats.bytes);
  std::printf("  last sequence:  %lu\n", r.stats.last_sequence.value);
  std::printf("  head hash:      %s\n", r.head_hash_hex.c_str());
  if (r.stats.torn_tail_bytes == 0) {
    std::printf("  torn tail:      none\n");
  } else {
    std::printf(
        "  torn tail:      %lu bytes at offset %lu of %s (an unfinished last write; the "
        "next open drops it)\n",
        r.stats.torn_tail_bytes, r.torn_tail_offset, r.torn_tail_file.c_str());
  }
}

void PrintVerifyJson(const journal::VerifyReport& r) {
  bj::object out;
  out["ok"] = true;
  out["segments"] = std::to_string(r.stats.segments);
  out["groups"] = std::to_string(r.stats.groups);
  out["records"] = std::to_string(r.stats.records);
  out["bytes"] = std::to_string(r.stats.bytes);
  out["first_sequence"] = std::to_string(r.stats.first_sequence.value);
  out["last_sequence"] = std::to_string(r.stats.last_sequence.value);
  out["head_hash"] = r.head_hash_hex;
  out["torn_tail_bytes"] = std::to_string(r.stats.torn_tail_bytes);
  if (r.stats.torn_tail_bytes == 0) {
    out["torn_tail_file"] = nullptr;
  } else {
    out["torn_tail_file"] = r.torn_tail_file;
  }
  out["torn_tail_offset"] = std::to_string(r.torn_tail_offset);
  PrintJson(out);
}

int RunJournalVerify(const CommonOptions& o) {
  CommandResult<std::unique_ptr<storage::PosixStorage>> storage = OpenStorage(o, false);
  if (!storage.ok()) return Report(o, storage.error());
  const journal::JournalResult<journal::VerifyReport> report =
      journal::VerifyJournal(*storage.value());
  if (!report.ok()) return Report(o, JournalErrorOf(report.error()));
  if (o.json) {
    PrintVerifyJson(report.value());
  } else {
    PrintVerifyText(o.data_dir, report.value());
  }
  return kExitOk;
}

}  // namespace

void RegisterDataCommands(CLI::App& app, int& exit_code) {
  auto init = std::make_shared<CommonOptions>();
  CLI::App* init_cmd = app.add_subcommand(
      "init",
      "Create a new, empty data directory (refuses one that is already initialized).\n"
      "Example: tpwallet init --data-dir /var/lib/tpwallet");
  AddCommonOptions(*init_cmd, *init);
  init_cmd->callback([init, &exit_code] { exit_code = RunInit(*init); });

  auto snapshot = std::make_shared<CommonOptions>();
  CLI::App* snapshot_cmd = app.add_subcommand(
      "snapshot",
      "Write a snapshot of the ledger now, so the next open replays less journal.\n"
      "Example: tpwallet snapshot --data-dir /var/lib/tpwallet");
  AddCommonOptions(*snapshot_cmd, *snapshot);
  snapshot_cmd->callback([snapshot, &exit_code] { exit_code = RunSnapshot(*snapshot); });

  CLI::App* journal_cmd = app.add_subcommand(
      "journal", "Inspect the journal, the book of record.\nExample: tpwallet journal verify");
  journal_cmd->require_subcommand(1);
  auto verify = std::make_shared<CommonOptions>();
  CLI::App* verify_cmd = journal_cmd->add_subcommand(
      "verify",
      "Check every checksum, sequence and hash link of the journal without changing it; exits "
      "5 on damage.\nExample: tpwallet journal verify --data-dir /var/lib/tpwallet");
  AddCommonOptions(*verify_cmd, *verify);
  verify_cmd->callback([verify, &exit_code] { exit_code = RunJournalVerify(*verify); });
}

}  // namespace tpw::cli
