// Engine errors: a stable code to branch on, plus a message a person can act on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tpw::engine {

// Stable numeric values (they reach the CLI's messages and the API). Append only.
#define TPW_ENGINE_ERRORS(X)                                                                       \
  X(storage_failed, 1,                                                                             \
    "a journal write or sync failed; the outcome of in-flight requests is unknown; restart to "    \
    "recover what is durable")                                                                     \
  X(shutting_down, 2, "the engine is shutting down and accepts no more requests")                 \
  X(too_many_events, 3, "a batch holds more than 8189 events; split it")                           \
  X(not_initialized, 4, "the directory is not a tpwallet data directory; run `tpwallet init`")    \
  X(already_initialized, 5, "the directory already holds a tpwallet data directory")              \
  X(locked, 6, "another process has this data directory open; stop it first")                     \
  X(journal_corrupt, 7,                                                                            \
    "the journal is damaged (see the file, offset and sequence); restore it from a backup")       \
  X(format_unsupported, 8, "the data directory was written by a newer tpwallet; upgrade")         \
  X(snapshot_failed, 9, "writing the snapshot failed; the journal is intact, nothing is lost")     \
  X(replay_diverged, 10,                                                                           \
    "replaying the journal did not reproduce a recorded fact; report this as a bug")              \
  X(io_error, 11, "the data directory cannot be read or written (see the path and reason)")      \
  X(invalid_request, 12, "the request is malformed")                                              \
  X(issuer_key_mismatch, 13,                                                                       \
    "the issuer key given does not match the public key registered under its id; use the right "  \
    "keystore or another key id")

enum class EngineError : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_ENGINE_ERRORS(TPW_X)
#undef TPW_X
};

std::string_view EngineErrorName(EngineError error);
std::string_view EngineErrorMessage(EngineError error);

struct EngineFailure {
  EngineError code = EngineError::io_error;
  std::string detail;  // the underlying cause (journal or storage message), if any
  // "journal_corrupt: the journal is damaged ... (corrupt_group: ... [file ..., offset ...])"
  std::string Message() const;
};

template <typename T>
using EngineResult = Result<T, EngineFailure>;
using EngineStatus = Status<EngineFailure>;

inline Err<EngineFailure> EngineFail(EngineError code, std::string detail = {}) {
  return Err<EngineFailure>{EngineFailure{code, std::move(detail)}};
}

}  // namespace tpw::engine
