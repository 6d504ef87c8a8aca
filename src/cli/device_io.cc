#include "cli/device_io.h"

#include <fcntl.h>
#include <qrencode.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/passphrase.h"
#include "cli/values.h"
#include "common/assert.h"
#include "crypto/base64.h"
#include "crypto/secure.h"

namespace tpw::cli {

namespace {

bool IsBase64UrlByte(uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::string EnvOr(std::string_view name, std::string_view fallback) {
  const char* value = std::getenv(std::string(name).c_str());
  return value != nullptr && *value != '\0' ? std::string(value) : std::string(fallback);
}

CommandError PassphraseUsage(std::string message) {
  return CommandError{kExitUsage, "usage", "no_passphrase", std::move(message)};
}

using PromptBuffer = std::array<char, crypto::kPassphraseBytesMax + 2>;

// Reads a line from standard input with echo off into `buffer`; its length without the line end.
size_t PromptLine(const char* prompt, PromptBuffer& buffer) {
  std::fprintf(stderr, "%s", prompt);
  std::fflush(stderr);
  bool got = false;
  {
    EchoOff quiet(STDIN_FILENO);
    got = std::fgets(buffer.data(), static_cast<int>(buffer.size()), stdin) != nullptr;
  }
  std::fprintf(stderr, "\n");
  size_t length = got ? std::strlen(buffer.data()) : 0;
  if (length > 0 && buffer[length - 1] == '\n') --length;
  if (length > 0 && buffer[length - 1] == '\r') --length;
  return length;
}

void Wipe(std::span<char> buffer) { crypto::SecureWipe(buffer); }

// Asks for the passphrase (twice when `confirm`); the typed bytes are wiped on every path.
CommandResult<crypto::Passphrase> Prompt(std::string_view noun, bool confirm) {
  PromptBuffer first{};
  PromptBuffer second{};
  const std::string prompt = std::string(noun) + " passphrase: ";
  const size_t length = PromptLine(prompt.c_str(), first);
  bool same = true;
  if (confirm && length > 0) {
    const size_t again = PromptLine(("repeat the " + prompt).c_str(), second);
    same = again == length && std::memcmp(first.data(), second.data(), length) == 0;
  }
  Wipe(second);
  if (length == 0 || !same) {
    Wipe(first);
    return Fail(PassphraseUsage(length == 0 ? "no passphrase was typed"
                                            : "the two passphrases differ; nothing was created"));
  }
  auto taken = crypto::Passphrase::TakeFrom(std::span(first.data(), length));
  Wipe(first);
  if (!taken.ok()) {
    return Fail(PassphraseUsage("the passphrase is not usable: " +
                                std::string(crypto::KeystoreErrorMessage(taken.error()))));
  }
  return std::move(taken).value();
}

CommandResult<crypto::Passphrase> FromFile(const std::string& path) {
  std::vector<char> buffer(crypto::kPassphraseBytesMax + 2);
  CommandResult<size_t> line = ReadPassphraseFileLine(path, buffer);
  if (!line.ok()) return Fail(line.error());
  const size_t length = line.value();
  const bool too_long = length > crypto::kPassphraseBytesMax;
  if (length == 0 || too_long) {
    crypto::SecureWipe(std::span<char>(buffer));
    return Fail(UsageError("--passphrase-file " + path + ": its first line " +
                           (too_long ? "is longer than 1024 bytes" : "is empty") +
                           "; put the passphrase on the first line"));
  }
  auto taken = crypto::Passphrase::TakeFrom(std::span(buffer.data(), length));
  crypto::SecureWipe(std::span<char>(buffer));
  if (!taken.ok()) {
    return Fail(UsageError("--passphrase-file " + path + ": " +
                           std::string(crypto::KeystoreErrorMessage(taken.error()))));
  }
  return std::move(taken).value();
}

}  // namespace

void AddDeviceOptions(CLI::App& command, DeviceOptions& options, const DeviceKind& kind,
                      bool passphrase) {
  // As for --data-dir: the environment supplies the default, so CLI11 does not count it as given.
  options.dir = EnvOr(kind.dir_env, kind.dir_default);
  command.add_option(std::string(kind.dir_option), options.dir,
                     "The " + std::string(kind.noun) + " directory (default $" +
                         std::string(kind.dir_env) + ", else " + std::string(kind.dir_default) +
                         ")");
  if (passphrase) {
    command.add_option("--passphrase-file", options.passphrase_file,
                       "Read the passphrase from the first line of FILE (else $" +
                           std::string(kind.passphrase_env) + ", else a prompt)");
  }
  command.add_flag("--json", options.common.json,
                   "Print one JSON object instead of text (stable field names; docs/cli.md)");
}

CommandResult<std::unique_ptr<storage::PosixStorage>> OpenDeviceDir(const DeviceOptions& options,
                                                                    const DeviceKind& kind,
                                                                    bool create) {
  auto opened = storage::PosixStorage::Open(options.dir, create);
  if (opened.ok()) return std::move(opened).value();
  const storage::StorageFailure& failure = opened.error();
  std::string message = "cannot open " + std::string(kind.noun) + " directory " + options.dir +
                        ": " + failure.Message();
  if (failure.code == storage::StorageError::not_found) {
    message += create ? "; create its parent directory first"
                      : "; create one with `tpwallet " + std::string(kind.noun) +
                            (kind.noun == "wallet" ? " create" : " init") + " " +
                            std::string(kind.dir_option) + " " + options.dir +
                            "` or name it with " + std::string(kind.dir_option);
  }
  return Fail(CommandError{kExitDataDir, "storage",
                           std::string(storage::StorageErrorName(failure.code)), message});
}

CommandResult<crypto::Passphrase> ReadPassphrase(const DeviceOptions& options,
                                                 const DeviceKind& kind, bool confirm) {
  if (!options.passphrase_file.empty()) return FromFile(options.passphrase_file);
  const char* env = std::getenv(std::string(kind.passphrase_env).c_str());
  if (env != nullptr && *env != '\0') {
    std::vector<char> copy(env, env + std::strlen(env));
    auto taken = crypto::Passphrase::TakeFrom(copy);
    if (!taken.ok()) {
      return Fail(UsageError("$" + std::string(kind.passphrase_env) + ": " +
                             std::string(crypto::KeystoreErrorMessage(taken.error()))));
    }
    return std::move(taken).value();
  }
  if (::isatty(STDIN_FILENO) == 0) {
    return Fail(PassphraseUsage("the " + std::string(kind.noun) +
                                " passphrase is needed: give --passphrase-file FILE, "
                                "set $" +
                                std::string(kind.passphrase_env) +
                                ", or run the command in a terminal to be "
                                "asked for it"));
  }
  return Prompt(kind.noun, confirm);
}

crypto::KdfParams KdfForNewKeystore() {
  return EnvOr(kFastKdfEnv, "") == "1" ? crypto::kKdfFastInsecureForTests : crypto::kKdfInteractive;
}

CommandResult<std::vector<uint8_t>> ReadMessageArg(std::string_view field, const std::string& arg) {
  std::vector<uint8_t> bytes;
  std::string source;
  const bool from_stdin = arg == "-";
  std::ifstream file;
  if (!from_stdin) file.open(arg, std::ios::binary);
  if (from_stdin || file.is_open()) {
    source = from_stdin ? std::string("standard input") : arg;
    std::istream& in = from_stdin ? std::cin : file;
    std::array<char, 65536> chunk{};
    while (in) {
      in.read(chunk.data(), chunk.size());
      const size_t got = static_cast<size_t>(in.gcount());
      if (bytes.size() + got > kMessageTextBytesMax) {
        return Fail(
            UsageError(std::string(field) + ": " + source + " is larger than any offline message"));
      }
      bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got));
    }
    if (!bytes.empty() && !IsBase64UrlByte(bytes[0])) return bytes;  // the binary message
  } else {
    if (arg.size() > kMessageTextBytesMax) {
      return Fail(UsageError(std::string(field) + " is longer than any offline message"));
    }
    bytes.assign(arg.begin(), arg.end());
    source = "the text given";
  }
  const bool given_as_text = source == "the text given";
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!given_as_text) {  // a file or standard input may end with one line end
    if (text.ends_with("\n")) text.remove_suffix(1);
    if (text.ends_with("\r")) text.remove_suffix(1);
  }
  if (text.empty()) {
    return Fail(UsageError(std::string(field) + ": " + source + " is empty"));
  }
  auto decoded = crypto::Base64UrlDecode(text, kMessageBytesMax);
  if (!decoded.ok()) {
    std::string message = std::string(field) + ": " + source +
                          " is not the base64url text of a message (" +
                          std::string(crypto::Base64ErrorName(decoded.error())) + ": " +
                          std::string(crypto::Base64ErrorMessage(decoded.error())) + ")";
    if (given_as_text) {
      message = std::string(field) + " \"" + (arg.size() > 40 ? arg.substr(0, 40) + "..." : arg) +
                "\" is neither an existing file nor the base64url text of a message (" +
                std::string(crypto::Base64ErrorName(decoded.error())) + ": " +
                std::string(crypto::Base64ErrorMessage(decoded.error())) +
                "); give the text exactly as printed, or the path of a file holding it";
    }
    return Fail(CommandError{kExitUsage, "input", "not_canonical_text", message});
  }
  return std::move(decoded).value();
}

InputResult<IssuerKeyArg> ParseIssuerKeyArg(std::string_view field, std::string_view text) {
  const size_t colon = text.find(':');
  const std::string prefix = std::string(field) + " \"" + std::string(text) + "\"";
  if (colon == std::string_view::npos) {
    return InputFail(prefix + " is not KEYID:KEY (e.g. 1:<64 hex digits of the public key>)");
  }
  InputResult<uint64_t> key_id = ParseUnsignedText(field, text.substr(0, colon), UINT32_MAX);
  if (!key_id.ok()) return Err{key_id.error()};
  if (key_id.value() == 0) return InputFail(prefix + ": the key id must be 1 or more");
  const std::string_view key = text.substr(colon + 1);
  IssuerKeyArg out;
  out.key_id = static_cast<uint32_t>(key_id.value());
  if (key.size() == 2 * crypto::kPublicKeyBytes) {
    for (size_t i = 0; i < crypto::kPublicKeyBytes; ++i) {
      unsigned value = 0;
      for (size_t j = 0; j < 2; ++j) {
        const char c = key[2 * i + j];
        unsigned digit = 0;
        if (c >= '0' && c <= '9') {
          digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
          digit = static_cast<unsigned>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
          digit = static_cast<unsigned>(c - 'A' + 10);
        } else {
          return InputFail(prefix + ": the key is not 64 hex digits");
        }
        value = value * 16 + digit;
      }
      out.public_key.bytes[i] = static_cast<uint8_t>(value);
    }
    return out;
  }
  auto decoded = crypto::Base64UrlDecode(key, crypto::kPublicKeyBytes);
  if (!decoded.ok() || decoded.value().size() != crypto::kPublicKeyBytes) {
    return InputFail(prefix +
                     ": the key is neither 64 hex digits nor 43 base64url characters of a "
                     "32-byte Ed25519 public key");
  }
  std::copy(decoded.value().begin(), decoded.value().end(), out.public_key.bytes.begin());
  return out;
}

std::optional<std::string> QrCodeText(std::string_view text) {
  const std::string owned(text);  // NUL-terminated for libqrencode; base64url has no NUL
  QRcode* code = QRcode_encodeString8bit(owned.c_str(), 0, QR_ECLEVEL_L);
  if (code == nullptr) return std::nullopt;
  constexpr int kQuiet = 2;
  const int width = code->width;
  TPW_ASSERT(width > 0);
  // Light when outside the symbol (quiet zone) or the module's low bit (dark) is clear.
  auto light = [&](int row, int col) {
    if (row < 0 || col < 0 || row >= width || col >= width) return true;
    return (code->data[static_cast<size_t>(row) * static_cast<size_t>(width) +
                       static_cast<size_t>(col)] &
            1) == 0;
  };
  std::string out;
  for (int row = -kQuiet; row < width + kQuiet; row += 2) {
    for (int col = -kQuiet; col < width + kQuiet; ++col) {
      const bool top = light(row, col);
      const bool bottom = light(row + 1, col);
      out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
    }
    out += "\n";
  }
  QRcode_free(code);
  return out;
}

uint64_t NowMs() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

std::optional<CommandError> WriteOutputFile(const std::string& path,
                                            std::span<const uint8_t> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return UsageError("cannot write " + path + ": " + std::strerror(errno));
  }
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const bool synced = written == bytes.size() && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!synced) {
    return CommandError{kExitStorage, "storage", "io_error",
                        "writing " + path + " failed: " + std::strerror(saved_errno)};
  }
  return std::nullopt;
}

const AssetTable& Assets() {
  static const AssetTable assets = AssetTable::Default();
  return assets;
}

std::string Money(uint32_t ledger, Amount amount) { return FormatMoney(Assets(), ledger, amount); }

std::string AssetText(const AssetTable& assets, uint32_t ledger) {
  const Asset* asset = assets.FindByLedger(ledger);
  return asset != nullptr ? asset->code : "ledger " + std::to_string(ledger);
}

}  // namespace tpw::cli
