// Internal to the terminal module: file names and error conversions shared by its .cc files.
#pragma once

#include <string>
#include <string_view>

#include "journal/errors.h"
#include "storage/storage.h"
#include "terminal/terminal.h"

namespace tpw::terminal::internal {

inline constexpr std::string_view kConfigFile = "terminal.conf";
inline constexpr std::string_view kKeyFile = "terminal.key";
inline constexpr std::string_view kDenyListFile = "deny-list.state";

inline Err<TerminalFailure> TerminalFail(TerminalError code, std::string detail) {
  return Err<TerminalFailure>{TerminalFailure{code, std::move(detail)}};
}

inline TerminalFailure FromStorage(const storage::StorageFailure& failure) {
  const TerminalError code = failure.code == storage::StorageError::locked
                                 ? TerminalError::locked
                                 : TerminalError::storage_failed;
  return TerminalFailure{code, failure.Message()};
}

// I/O failures (and a writer poisoned by one) are storage_failed; everything else the journal
// reports is damage it refused to skip.
inline TerminalFailure FromJournal(const journal::JournalFailure& failure) {
  TerminalError code = TerminalError::journal_corrupt;
  if (failure.code == journal::JournalError::storage ||
      failure.code == journal::JournalError::writer_poisoned ||
      failure.code == journal::JournalError::limit_reached) {
    code = TerminalError::storage_failed;
  } else if (failure.code == journal::JournalError::locked) {
    code = TerminalError::locked;
  } else if (failure.code == journal::JournalError::invalid_options) {
    code = TerminalError::invalid_argument;  // TerminalOptions::segment_bytes_max
  }
  return TerminalFailure{code, failure.Message()};
}

}  // namespace tpw::terminal::internal
