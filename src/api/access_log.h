// Structured access log: one JSON object per line per answered request (docs/api.md,
// "Access log"). Off unless `--access-log` names a file or "-" (standard output).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "api/router.h"

namespace tpw::api {

struct AccessRecord {
  std::string_view remote;  // "127.0.0.1:53422"
  std::string_view method;
  std::string_view target;
  Route route = Route::unmatched;
  unsigned status = 0;
  uint64_t bytes_in = 0;   // request body
  uint64_t bytes_out = 0;  // response body
  uint64_t duration_us = 0;
};

class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // "" = off, "-" = standard output, else the file (created or appended). False + errno if the
  // file cannot be opened.
  bool Open(const std::string& where);
  bool enabled() const { return file_ != nullptr; }
  // Any thread: each line is written with one stdio call (stdio locks the stream), line-buffered.
  void Write(const AccessRecord& record);

 private:
  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

}  // namespace tpw::api
