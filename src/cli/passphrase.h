// Reading a passphrase's bytes, for the issuer keystore (issuer_key.cc) and the wallet and
// terminal keystores (device_io.cc): the first line of --passphrase-file, and terminal echo
// turned off while one is typed. Only the mechanics live here. Which source wins, and what each
// failure says and exits with, stay with each caller: a bad issuer passphrase is a keystore
// error (exit 7), a bad wallet or terminal passphrase a usage error (exit 2).
#pragma once

#include <termios.h>

#include <cstddef>
#include <span>
#include <string>

#include "cli/session.h"

namespace tpw::cli {

// Reads the start of --passphrase-file `path` into `buffer` (at most buffer.size() bytes) and
// returns the length of its first line: up to the first "\n", less one trailing "\r". Give a
// buffer of at least crypto::kPassphraseBytesMax + 2 bytes: then a result above
// kPassphraseBytesMax means the line is too long, however long the file. `buffer` holds secret
// bytes afterwards, also past the line: the caller wipes it. Error: the file cannot be opened
// (usage error, exit 2).
CommandResult<size_t> ReadPassphraseFileLine(const std::string& path, std::span<char> buffer);

// Turns off echo on the terminal `fd` for its lifetime, so a typed passphrase is not shown.
// Does nothing when `fd` is not a terminal.
class EchoOff {
 public:
  explicit EchoOff(int fd);
  ~EchoOff();
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;  // echo was turned off, so it is turned back on
};

}  // namespace tpw::cli
