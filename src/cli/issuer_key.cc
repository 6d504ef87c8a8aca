#include "cli/issuer_key.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/passphrase.h"
#include "crypto/limits.h"
#include "crypto/secure.h"

namespace tpw::cli {
namespace {

constexpr std::string_view kKeystorePrefix = "issuer-";
constexpr std::string_view kKeystoreSuffix = ".keystore";
// A passphrase buffer: the longest passphrase, a line end ("\r\n") and one byte to detect more.
constexpr size_t kPassphraseBufferBytes = crypto::kPassphraseBytesMax + 3;
using PassphraseBuffer = std::array<char, kPassphraseBufferBytes>;

CommandError KeyError(std::string code, std::string message) {
  return CommandError{kExitKey, "keystore", std::move(code), std::move(message)};
}

CommandError KeystoreErrorOf(crypto::KeystoreError error, const std::string& what) {
  std::string message = what + ": " + std::string(crypto::KeystoreErrorName(error)) + " - " +
                        std::string(crypto::KeystoreErrorMessage(error));
  if (error == crypto::KeystoreError::wrong_passphrase_or_tampered) {
    message +=
        "; check the passphrase (--passphrase-file, $TPWALLET_ISSUER_PASSPHRASE or the "
        "prompt); nothing was changed";
  } else if (error == crypto::KeystoreError::invalid_passphrase) {
    message += " (1..1024 bytes; an empty first line reads as empty)";
  }
  return KeyError(std::string(crypto::KeystoreErrorName(error)), message);
}

CommandResult<crypto::Passphrase> TakePassphrase(PassphraseBuffer& buffer, size_t length,
                                                 const std::string& source) {
  auto taken = crypto::Passphrase::TakeFrom(std::span<char>(buffer.data(), length));
  crypto::SecureWipe(std::span<char>(buffer));
  if (!taken.ok()) return Fail(KeystoreErrorOf(taken.error(), "passphrase from " + source));
  return std::move(taken).value();
}

CommandResult<crypto::Passphrase> PassphraseFromFile(const std::string& path) {
  PassphraseBuffer buffer{};
  CommandResult<size_t> length = ReadPassphraseFileLine(path, buffer);
  if (!length.ok()) return Fail(length.error());
  if (length.value() > crypto::kPassphraseBytesMax) {
    crypto::SecureWipe(std::span<char>(buffer));
    return Fail(
        KeystoreErrorOf(crypto::KeystoreError::invalid_passphrase, "passphrase from " + path));
  }
  return TakePassphrase(buffer, length.value(), path);
}

// One line typed on the terminal, without echo. SIZE_MAX when it was too long or input ended.
size_t PromptLine(const char* prompt, PassphraseBuffer& buffer) {
  std::fputs(prompt, stderr);
  std::fflush(stderr);
  size_t size = 0;
  bool ended = false;
  {
    EchoOff quiet(STDIN_FILENO);
    while (true) {
      char c = 0;
      const ssize_t n = ::read(STDIN_FILENO, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ended = size == 0;
        break;
      }
      if (c == '\n') break;
      if (size < buffer.size()) buffer[size] = c;
      ++size;  // keeps counting past the buffer, so an overlong line is refused, not cut
    }
  }
  std::fputs("\n", stderr);
  if (ended || size > crypto::kPassphraseBytesMax) return SIZE_MAX;
  if (size > 0 && buffer[size - 1] == '\r') --size;
  return size;
}

CommandResult<crypto::Passphrase> PassphraseFromPrompt(bool confirm) {
  PassphraseBuffer first{};
  const size_t length = PromptLine("issuer keystore passphrase: ", first);
  if (length == SIZE_MAX) {
    crypto::SecureWipe(std::span<char>(first));
    return Fail(KeystoreErrorOf(crypto::KeystoreError::invalid_passphrase, "passphrase typed"));
  }
  if (confirm) {
    PassphraseBuffer again{};
    const size_t again_length = PromptLine("again, to confirm: ", again);
    const bool same =
        again_length == length &&
        std::equal(first.begin(), first.begin() + static_cast<ptrdiff_t>(length), again.begin());
    crypto::SecureWipe(std::span<char>(again));
    if (!same) {
      crypto::SecureWipe(std::span<char>(first));
      return Fail(UsageError("the two passphrases differ; nothing was changed"));
    }
  }
  return TakePassphrase(first, length, "the prompt");
}

}  // namespace

std::string IssuerKeystoreName(uint32_t key_id) {
  return std::string(kKeystorePrefix) + std::to_string(key_id) + std::string(kKeystoreSuffix);
}

uint32_t IssuerKeyIdOfName(std::string_view name) {
  if (!name.starts_with(kKeystorePrefix) || !name.ends_with(kKeystoreSuffix)) return 0;
  const std::string_view digits = name.substr(
      kKeystorePrefix.size(), name.size() - kKeystorePrefix.size() - kKeystoreSuffix.size());
  if (digits.empty() || digits.size() > 10 || digits[0] == '0') return 0;
  uint64_t value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value > UINT32_MAX ? 0 : static_cast<uint32_t>(value);
}

CommandResult<crypto::KdfParams> IssuerKdfParams(std::string_view kdf_name, bool& fast) {
  const char* env = std::getenv(std::string(kFastKdfEnv).c_str());
  fast = env != nullptr && std::string_view(env) == "1";
  crypto::KdfParams chosen;
  if (kdf_name == "interactive") {
    chosen = crypto::kKdfInteractive;
  } else if (kdf_name == "moderate") {
    chosen = crypto::kKdfModerate;
  } else if (kdf_name == "sensitive") {
    chosen = crypto::kKdfSensitive;
  } else {
    return Fail(UsageError("--kdf \"" + std::string(kdf_name) +
                           "\" is not one of interactive, moderate, sensitive"));
  }
  return fast ? crypto::kKdfFastInsecureForTests : chosen;
}

CommandResult<crypto::Passphrase> ObtainPassphrase(const std::string& passphrase_file,
                                                   bool confirm) {
  if (!passphrase_file.empty()) return PassphraseFromFile(passphrase_file);
  if (const char* env = std::getenv(std::string(kIssuerPassphraseEnv).c_str()); env != nullptr) {
    auto copied = crypto::Passphrase::Copy(env);
    if (!copied.ok()) {
      return Fail(
          KeystoreErrorOf(copied.error(), "passphrase from $" + std::string(kIssuerPassphraseEnv)));
    }
    return std::move(copied).value();
  }
  if (::isatty(STDIN_FILENO) == 1) return PassphraseFromPrompt(confirm);
  return Fail(
      UsageError("the issuer keystore needs a passphrase: pass --passphrase-file FILE, set $" +
                 std::string(kIssuerPassphraseEnv) + ", or run on a terminal to be prompted"));
}

void AddIssuerKeyOptions(CLI::App& command, IssuerKeyOptions& options) {
  command.add_option("--key-id", options.key_id,
                     "Issuer key id: the keystore issuer-<id>.keystore in the data directory "
                     "(default 1)");
  command.add_option("--passphrase-file", options.passphrase_file,
                     "Read the keystore passphrase from the first line of FILE (else "
                     "$TPWALLET_ISSUER_PASSPHRASE, else a prompt)");
}

CommandResult<uint32_t> ParseKeyId(const std::string& text) {
  InputResult<uint64_t> id = ParseUnsignedText("--key-id", text, UINT32_MAX);
  if (!id.ok()) return Fail(InputErrorOf(id.error()));
  if (id.value() == 0) return Fail(UsageError("--key-id 0 is not a key id; use 1..4294967295"));
  return static_cast<uint32_t>(id.value());
}

CommandResult<std::shared_ptr<const crypto::SecretKey>> UnlockIssuerKey(
    storage::Storage& storage, uint32_t key_id, const std::string& passphrase_file,
    std::string_view key_id_option) {
  const std::string name = IssuerKeystoreName(key_id);
  auto bytes = storage.ReadFile(name, crypto::kKeystoreBytesMax);
  if (!bytes.ok()) {
    if (bytes.error().code == storage::StorageError::not_found) {
      return Fail(
          KeyError("keystore_missing", "no issuer keystore " + storage.PathOf(name) +
                                           "; create the key with `tpwallet issuer init --key-id " +
                                           std::to_string(key_id) +
                                           "`, or pass the " + std::string(key_id_option) +
                                           " of one that exists"));
    }
    if (bytes.error().code == storage::StorageError::too_large) {
      return Fail(KeystoreErrorOf(crypto::KeystoreError::too_large, storage.PathOf(name)));
    }
    return Fail(KeyError(std::string(storage::StorageErrorName(bytes.error().code)),
                         "cannot read the issuer keystore: " + bytes.error().Message()));
  }
  // Decode first: a damaged file is reported as such before anyone types a passphrase.
  if (auto info = crypto::DecodeKeystore(bytes.value()); !info.ok()) {
    return Fail(KeystoreErrorOf(info.error(), storage.PathOf(name)));
  }
  CommandResult<crypto::Passphrase> passphrase = ObtainPassphrase(passphrase_file, false);
  if (!passphrase.ok()) return Fail(passphrase.error());
  auto key = crypto::UnlockKeystore(bytes.value(), passphrase.value());
  if (!key.ok()) return Fail(KeystoreErrorOf(key.error(), "cannot unlock " + storage.PathOf(name)));
  return std::make_shared<const crypto::SecretKey>(std::move(key).value());
}

CommandResult<std::unique_ptr<Session>> OpenIssuerSession(const CommonOptions& common,
                                                          const IssuerKeyOptions& key,
                                                          uint64_t deny_list_max_age_ms,
                                                          engine::EngineOptions base) {
  CommandResult<uint32_t> key_id = ParseKeyId(key.key_id);
  if (!key_id.ok()) return Fail(key_id.error());
  CommandResult<std::unique_ptr<storage::PosixStorage>> storage =
      OpenStorage(common, false);
  if (!storage.ok()) return Fail(storage.error());
  auto secret =
      UnlockIssuerKey(*storage.value(), key_id.value(), key.passphrase_file, key.key_id_option);
  if (!secret.ok()) return Fail(secret.error());
  engine::EngineOptions options = std::move(base);
  options.issuer_key = std::move(secret).value();
  options.issuer_key_id = key_id.value();
  if (deny_list_max_age_ms != 0) options.deny_list_max_age_ms = deny_list_max_age_ms;
  CommandResult<std::unique_ptr<Session>> session =
      OpenSessionOn(std::move(storage).value(), options);
  if (!session.ok()) {
    CommandError error = session.error();
    if (error.code == engine::EngineErrorName(engine::EngineError::issuer_key_mismatch)) {
      error.exit_code = kExitKey;
      error.message += "; the keystore issuer-" + std::to_string(key_id.value()) +
                       ".keystore does not hold the key registered under this id";
    }
    return Fail(error);
  }
  return session;
}

}  // namespace tpw::cli
