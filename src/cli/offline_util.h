// What the offline-payment commands share (values and JSON forms: offline_values.h): reading and
// writing message files; running an engine offline command and turning its OfflineError into a
// CommandError with an exit code and a sentence saying what to do; JSON and text forms of
// certificates.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/offline_values.h"
#include "cli/session.h"
#include "common/asset.h"
#include "engine/offline.h"
#include "offline/messages.h"

namespace tpw::cli {

// Bytes a message file may hold: the largest terminal batch in its text form, plus a line end.
inline constexpr size_t kBatchBytesMax = offline::kBatchHeaderBytes +
                                         size_t{offline::kBatchTokensMax} * offline::kTokenBytes +
                                         offline::kSignatureBytes;
inline constexpr size_t kMessageFileBytesMax = (kBatchBytesMax + 2) / 3 * 4 + 2;


// An output file opened before the engine is asked anything, so a path that cannot be written
// is a usage error while nothing has happened yet. Write() fills it and makes it durable.
class OutputFile {
 public:
  static CommandResult<std::unique_ptr<OutputFile>> Create(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  std::optional<CommandError> Write(std::span<const uint8_t> bytes);
  const std::string& path() const { return path_; }

 private:
  OutputFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// The --out FILE of a command that writes a message: created now (see OutputFile), or nullptr
// when `path` is empty (the option was not given).
CommandResult<std::unique_ptr<OutputFile>> CreateOutFileIfGiven(const std::string& path);
// Writes `bytes` to `file` and makes them durable; nothing when `file` is nullptr.
std::optional<CommandError> WriteOutFileIfGiven(OutputFile* file, std::span<const uint8_t> bytes);

// A whole input file of at most `bytes_max` bytes (usage error otherwise, naming the file).
CommandResult<std::vector<uint8_t>> ReadInputFile(const std::string& path, size_t bytes_max);

// Exit code for an offline error; `submitting` says the command was clearing submit (whose
// malformed and batch_rejected have their own exit code).
int ExitCodeFor(engine::OfflineError error, bool submitting);
// The error of a refused command: its name, the engine's sentence, the detail and what to do.
CommandError OfflineErrorOf(const engine::OfflineReply& reply, bool submitting = false);

// Runs `command`; a refusal becomes its CommandError.
CommandResult<engine::OfflineReply> RunOffline(Session& session, engine::OfflineCommand command,
                                               bool submitting = false);

// Indented "  name: value" lines describing a certificate.
std::string CertificateText(const offline::DeviceCertificate& cert, const AssetTable& assets);
// The reserve account's available balance (credits posted - debits posted - debits pending), or
// nullopt if the account is not found.
std::optional<Amount> AvailableBalance(Session& session, AccountId account);

}  // namespace tpw::cli
