#include "cli/passphrase.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/assert.h"
#include "crypto/limits.h"

namespace tpw::cli {

CommandResult<size_t> ReadPassphraseFileLine(const std::string& path, std::span<char> buffer) {
  TPW_ASSERT(buffer.size() >= crypto::kPassphraseBytesMax + 2);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Fail(UsageError("cannot read --passphrase-file " + path + ": " + std::strerror(errno)));
  }
  size_t size = 0;
  while (size < buffer.size()) {
    const ssize_t n = ::read(fd, buffer.data() + size, buffer.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size += static_cast<size_t>(n);
  }
  ::close(fd);
  const auto line_end =
      std::find(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(size), '\n');
  size_t length = static_cast<size_t>(line_end - buffer.begin());
  if (length > 0 && buffer[length - 1] == '\r') --length;
  return length;
}

EchoOff::EchoOff(int fd) : fd_(fd) {
  if (::tcgetattr(fd_, &saved_) != 0) return;
  termios quiet = saved_;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
}

EchoOff::~EchoOff() {
  if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
}

}  // namespace tpw::cli
