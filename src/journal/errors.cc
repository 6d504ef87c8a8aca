#include "journal/errors.h"

namespace tpw::journal {

std::string_view JournalErrorName(JournalError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case JournalError::name:          \
    return #name;
    TPW_JOURNAL_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown_journal_error";
}

std::string_view JournalErrorMessage(JournalError error) {
  switch (error) {
#define TPW_X(name, value, message) \
  case JournalError::name:          \
    return message;
    TPW_JOURNAL_ERRORS(TPW_X)
#undef TPW_X
  }
  return "unknown journal error";
}

std::string JournalFailure::Message() const {
  std::string out(JournalErrorName(code));
  out += ": ";
  if (code == JournalError::storage || code == JournalError::locked) {
    out += storage_failure.Message();
    if (!detail.empty()) out += " (" + detail + ")";
    return out;
  }
  out += detail.empty() ? std::string(JournalErrorMessage(code)) : detail;
  if (!file.empty()) {
    out += " [file " + file + ", byte offset " + std::to_string(offset);
    if (sequence != 0) out += ", sequence " + std::to_string(sequence);
    out += "]";
  }
  return out;
}

Err<JournalFailure> JournalFail(JournalError code, std::string detail, std::string file,
                                uint64_t offset, uint64_t sequence) {
  JournalFailure failure;
  failure.code = code;
  failure.detail = std::move(detail);
  failure.file = std::move(file);
  failure.offset = offset;
  failure.sequence = sequence;
  return Err<JournalFailure>{std::move(failure)};
}

JournalFailure FailureFromStorage(const storage::StorageFailure& failure) {
  JournalFailure out;
  out.code =
      failure.code == storage::StorageError::locked ? JournalError::locked : JournalError::storage;
  out.storage_failure = failure;
  return out;
}

}  // namespace tpw::journal
