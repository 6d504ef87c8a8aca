// The issuer / clearing commands of tpwallet end to end (docs/cli.md, "Offline payments: issuer
// and clearing"): each test runs the real binary (TPW_BINARY) on a fresh data directory. The
// wallet device and the merchant terminal are played here with real keys and the offline codecs:
// the test signs tokens and batches itself, writes them to files and hands them to
// `tpwallet clearing submit`. Hostile input must give the documented error and exit code and
// change nothing. Keystores use Argon2id's minimum cost (TPWALLET_TEST_FAST_KDF=1).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/base64.h"
#include "crypto/hash.h"
#include "crypto/secure.h"
#include "crypto/sign.h"
#include "engine/offline.h"
#include "offline/messages.h"
#include "storage/test_temp_dir.h"

namespace tpw {
namespace {

namespace bj = boost::json;
using Bytes = std::vector<uint8_t>;

// Exit codes of docs/cli.md.
constexpr int kOk = 0;
constexpr int kRejected = 1;
constexpr int kUsage = 2;
constexpr int kNotFound = 3;
constexpr int kKey = 7;
constexpr int kBatchRefused = 8;

constexpr const char* kPassphrase = "correct horse battery staple";
constexpr u128 kDeviceId = 7;
constexpr u128 kTerminalId = 50;
constexpr u128 kMerchantId = 60;

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}
Bytes ReadBytes(const std::string& path) {
  const std::string s = ReadAll(path);
  return Bytes(s.begin(), s.end());
}
void WriteAll(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}
void WriteBytes(const std::string& path, const Bytes& bytes) {
  WriteAll(path, std::string(bytes.begin(), bytes.end()));
}

// File names and sizes of a directory (not LOCK), to show a command changed nothing.
std::string DirectoryListing(const std::string& dir) {
  std::vector<std::string> entries;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "LOCK") continue;
    entries.push_back(name + ":" + std::to_string(entry.is_regular_file() ? entry.file_size() : 0));
  }
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const std::string& e : entries) out += e + "\n";
  return out;
}

// A wallet device as the wallet library would be: its key, certificate, counter and hash chain.
struct Device {
  crypto::SecretKey key = crypto::GenerateSigningKey();
  offline::DeviceCertificate certificate;
  crypto::Hash256 previous{};

  Bytes Pay(u128 minor, uint64_t counter, u128 terminal = kTerminalId,
            u128 merchant = kMerchantId) {
    offline::PaymentToken t;
    t.asset = certificate.asset;
    t.certificate = certificate;
    t.counter = counter;
    t.amount = Amount::FromMinor(minor);
    t.merchant_id = merchant;
    t.terminal_id = terminal;
    crypto::RandomBytes(t.nonce);
    t.terminal_time = certificate.valid_from + 1000;
    t.device_time = t.terminal_time;
    t.previous_token_hash = previous;
    Bytes bytes = offline::Encode(t);
    const crypto::Signature s =
        crypto::Sign(key, offline::kTokenDomain,
                     offline::SignedPart(bytes, offline::MessageType::payment_token));
    std::copy(s.bytes.begin(), s.bytes.end(), bytes.end() - 64);
    previous = crypto::Blake2b256(bytes);
    return bytes;
  }
};

Bytes MakeBatch(const crypto::SecretKey& terminal_key, u128 terminal,
                const std::vector<Bytes>& tokens) {
  offline::TerminalBatch batch;
  batch.terminal_id = terminal;
  crypto::RandomBytes(batch.batch_id);
  batch.created = 1;
  for (const Bytes& bytes : tokens) batch.tokens.push_back(offline::DecodeToken(bytes).value());
  Bytes encoded = offline::Encode(batch);
  const crypto::Signature s =
      crypto::Sign(terminal_key, offline::kBatchDomain,
                   offline::SignedPart(encoded, offline::MessageType::terminal_batch));
  std::copy(s.bytes.begin(), s.bytes.end(), encoded.end() - 64);
  return encoded;
}

std::string Hex(std::span<const uint8_t> bytes) { return crypto::ToHex(bytes); }

bool VerifiedBy(const std::string& issuer_hex, std::string_view domain, offline::MessageType type,
                const Bytes& encoded) {
  crypto::PublicKey key;
  const std::optional<crypto::Hash256> parsed = crypto::HashFromHex(issuer_hex);  // 32 bytes
  if (!parsed) return false;
  std::copy(parsed->begin(), parsed->end(), key.bytes.begin());
  crypto::Signature signature;
  std::copy(encoded.end() - 64, encoded.end(), signature.bytes.begin());
  return crypto::Verify(key, domain, offline::SignedPart(encoded, type), signature);
}

class CliOfflineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteAll(Path("pass.txt"), std::string(kPassphrase).append("\n"));
    WriteAll(Path("wrong.txt"), "not the passphrase\n");
  }

  std::string Path(const std::string& name) const { return temp_.path() + "/" + name; }

  // Runs tpwallet with `args` on the data directory; stdin is /dev/null, stdout/stderr go to
  // files. `env`: variables to set in the child (TPWALLET_TEST_FAST_KDF=1 always is).
  ProcessResult On(std::vector<std::string> args,
                   const std::map<std::string, std::string>& env = {}) {
    args.push_back("--data-dir");
    args.push_back(data_);
    const std::string out_path = Path("stdout.txt");
    const std::string err_path = Path("stderr.txt");
    std::vector<std::string> argv_strings = {TPW_BINARY};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      const int in = open("/dev/null", O_RDONLY);
      const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
        _exit(127);
      }
      unsetenv("TPWALLET_DATA_DIR");
      unsetenv("TPWALLET_ISSUER_PASSPHRASE");
      setenv("TPWALLET_TEST_FAST_KDF", "1", 1);
      for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
      execv(argv[0], argv.data());
      _exit(127);
    }
    ProcessResult run;
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = ReadAll(out_path);
    run.err = ReadAll(err_path);
    return run;
  }

  static void Expect(const ProcessResult& run, int expected) {
    EXPECT_EQ(run.exit_code, expected) << "stdout:\n" << run.out << "stderr:\n" << run.err;
  }

  bj::value Json(std::vector<std::string> args, int expected_exit = kOk,
                 const std::map<std::string, std::string>& env = {}) {
    args.push_back("--json");
    const ProcessResult run = On(args, env);
    EXPECT_EQ(run.exit_code, expected_exit) << run.out << run.err;
    bj::error_code ec;
    bj::value value = bj::parse(run.out, ec);
    EXPECT_FALSE(ec) << "not JSON: " << run.out << run.err;
    return value;
  }

  static std::string Str(const bj::value& v, const char* key) {
    const bj::string& s = v.at(key).as_string();
    return std::string(s.data(), s.size());
  }

  // The error code of a --json refusal.
  std::string ErrorCode(std::vector<std::string> args, int expected_exit) {
    const bj::value v = Json(std::move(args), expected_exit);
    if (!v.is_object() || !v.as_object().contains("error")) return "(no error object)";
    return Str(v.at("error"), "code");
  }

  // Runs `args`, expects `exit_code` and `message` on stderr, and that the directory did not
  // change.
  void ExpectRefusedChangingNothing(const std::vector<std::string>& args, int exit_code,
                                    const std::string& message) {
    const std::string before = DirectoryListing(data_);
    const ProcessResult run = On(args);
    EXPECT_EQ(run.exit_code, exit_code) << run.out << run.err;
    EXPECT_NE(run.err.find(message), std::string::npos) << "stderr: " << run.err;
    EXPECT_EQ(DirectoryListing(data_), before);
  }

  // Data directory with accounts: 1 funder (no limits), 2 user (funded 500.00), 3 merchant's
  // settlement account, 5 guarantee fund (100.00), 6 an empty user.
  void InitWithAccounts() {
    Expect(On({"init"}), kOk);
    Expect(On({"account", "create", "--id", "1", "--ledger", "USD", "--code", "30"}), kOk);
    for (const char* id : {"2", "5", "6"}) {
      Expect(On({"account", "create", "--id", id, "--ledger", "USD", "--code", "10", "--flags",
                 "debits_must_not_exceed_credits"}),
             kOk);
    }
    Expect(On({"account", "create", "--id", "3", "--ledger", "USD", "--code", "20"}), kOk);
    Expect(On({"transfer", "--id", "1", "--debit", "1", "--credit", "2", "--amount", "500.00",
               "--ledger", "USD", "--code", "1"}),
           kOk);
    Expect(On({"transfer", "--id", "2", "--debit", "1", "--credit", "5", "--amount", "100.00",
               "--ledger", "USD", "--code", "1"}),
           kOk);
  }

  // issuer init with the passphrase file; remembers the public key.
  void IssuerInit() {
    const bj::value v = Json({"issuer", "init", "--passphrase-file", Path("pass.txt")});
    issuer_hex_ = Str(v, "public_key_hex");
    ASSERT_EQ(issuer_hex_.size(), 64u);
  }

  std::vector<std::string> EnrollArgs(const Device& device, u128 device_id = kDeviceId,
                                      const std::string& reserve = "10") {
    return {"device",
            "enroll",
            "--device",
            FormatId(device_id),
            "--public-key",
            crypto::Base64UrlEncode(device.key.public_key().bytes),
            "--user-account",
            "2",
            "--reserve-account",
            reserve,
            "--ledger",
            "USD",
            "--allowance",
            "100.00",
            "--per-payment-max",
            "20.00",
            "--payments-max",
            "10",
            "--cvm-threshold",
            "15.00",
            "--valid-for",
            "24h",
            "--passphrase-file",
            Path("pass.txt")};
  }

  // Enrolls `device` (its certificate from --out) and registers the terminal.
  void EnrollAndRegister(Device& device, u128 device_id = kDeviceId) {
    std::vector<std::string> args = EnrollArgs(device, device_id);
    const std::string cert_file = Path("cert-" + FormatId(device_id) + ".bin");
    args.insert(args.end(), {"--out", cert_file});
    Expect(On(args), kOk);
    auto cert = offline::DecodeCertificate(ReadBytes(cert_file));
    ASSERT_TRUE(cert.ok()) << cert.error().Message();
    device.certificate = cert.value();
    if (terminal_registered_) return;
    Expect(On({"terminal", "register", "--terminal", FormatId(kTerminalId), "--merchant",
               FormatId(kMerchantId), "--settlement-account", "3", "--public-key",
               Hex(terminal_key_.public_key().bytes)}),
           kOk);
    terminal_registered_ = true;
  }

  // Writes a batch to a file and submits it with --json.
  bj::value Submit(const Bytes& batch, const std::string& name, int expected = kOk) {
    WriteBytes(Path(name), batch);
    return Json({"clearing", "submit", Path(name)}, expected);
  }

  static std::vector<std::string> Classifications(const bj::value& submitted, size_t batch = 0) {
    std::vector<std::string> out;
    for (const bj::value& t :
         submitted.at("batches").as_array().at(batch).at("tokens").as_array()) {
      out.push_back(Str(t, "classification"));
    }
    return out;
  }

  std::string CreditsMinor(const std::string& account) {
    const bj::value v = Json({"account", "show", account});
    return Str(v.at("accounts").as_array().at(0), "credits_posted_minor");
  }
  std::string DebitsMinor(const std::string& account) {
    const bj::value v = Json({"account", "show", account});
    return Str(v.at("accounts").as_array().at(0), "debits_posted_minor");
  }

  storage::TempDir temp_;
  std::string data_ = temp_.path() + "/data";
  std::string issuer_hex_;
  crypto::SecretKey terminal_key_ = crypto::GenerateSigningKey();
  bool terminal_registered_ = false;
};

// ---- the issuer key -------------------------------------------------------------------------

TEST_F(CliOfflineTest, IssuerInitSealsAKeystoreRegistersTheKeyAndShowPrintsIt) {
  InitWithAccounts();
  const ProcessResult run = On({"issuer", "init", "--passphrase-file", Path("pass.txt")});
  Expect(run, kOk);
  EXPECT_NE(run.out.find("public key (base64url)"), std::string::npos) << run.out;
  EXPECT_NE(run.err.find("TPWALLET_TEST_FAST_KDF"), std::string::npos) << run.err;
  EXPECT_TRUE(std::filesystem::exists(data_ + "/issuer-1.keystore"));

  const bj::value shown = Json({"issuer", "show"});
  ASSERT_EQ(shown.at("keys").as_array().size(), 1u);
  const bj::value& key = shown.at("keys").as_array().at(0);
  EXPECT_EQ(key.at("key_id").as_int64(), 1);
  const std::string hex = Str(key, "public_key_hex");
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(Str(key, "public_key_base64url").size(), 43u);
  EXPECT_TRUE(key.at("registered").is_null());
  const bj::value checked =
      Json({"issuer", "show", "--check", "--passphrase-file", Path("pass.txt")});
  EXPECT_TRUE(checked.at("keys").as_array().at(0).at("registered").as_bool());
  // The passphrase may come from the environment too.
  Expect(On({"issuer", "show", "--check"}, {{"TPWALLET_ISSUER_PASSPHRASE", kPassphrase}}), kOk);
}

TEST_F(CliOfflineTest, IssuerInitRefusesAnExistingKeystoreAndLeavesItAlone) {
  InitWithAccounts();
  IssuerInit();
  const std::string before = ReadAll(data_ + "/issuer-1.keystore");
  ExpectRefusedChangingNothing({"issuer", "init", "--passphrase-file", Path("pass.txt")}, kKey,
                               "already exists");
  EXPECT_EQ(ReadAll(data_ + "/issuer-1.keystore"), before);
  // A second key id is a second keystore.
  const bj::value second =
      Json({"issuer", "init", "--key-id", "2", "--passphrase-file", Path("pass.txt")});
  EXPECT_NE(Str(second, "public_key_hex"), issuer_hex_);
  EXPECT_EQ(Json({"issuer", "show"}).at("keys").as_array().size(), 2u);
}

TEST_F(CliOfflineTest, IssuerInitWithoutAPassphraseSourceIsAUsageError) {
  InitWithAccounts();
  ExpectRefusedChangingNothing({"issuer", "init"}, kUsage, "needs a passphrase");
  ExpectRefusedChangingNothing({"issuer", "init", "--passphrase-file", Path("missing.txt")}, kUsage,
                               "cannot read --passphrase-file");
  WriteAll(Path("empty.txt"), "\n");
  ExpectRefusedChangingNothing({"issuer", "init", "--passphrase-file", Path("empty.txt")}, kKey,
                               "invalid_passphrase");
  ExpectRefusedChangingNothing(
      {"issuer", "init", "--key-id", "0", "--passphrase-file", Path("pass.txt")}, kUsage,
      "--key-id 0");
  ExpectRefusedChangingNothing(
      {"issuer", "init", "--kdf", "cheap", "--passphrase-file", Path("pass.txt")}, kUsage, "--kdf");
}

TEST_F(CliOfflineTest, SigningWithAWrongPassphraseOrNoKeystoreChangesNothing) {
  InitWithAccounts();
  IssuerInit();
  Device device;
  std::vector<std::string> args = EnrollArgs(device);
  args.back() = Path("wrong.txt");
  ExpectRefusedChangingNothing(args, kKey, "wrong passphrase");
  EXPECT_EQ(ErrorCode(args, kKey), "wrong_passphrase_or_tampered");
  EXPECT_EQ(ErrorCode({"device", "show", FormatId(kDeviceId)}, kNotFound), "unknown_device");
  EXPECT_EQ(DebitsMinor("2"), "0");

  std::vector<std::string> other_key = EnrollArgs(device);
  other_key.insert(other_key.end(), {"--key-id", "2"});
  ExpectRefusedChangingNothing(other_key, kKey, "issuer init --key-id 2");
  EXPECT_EQ(ErrorCode(other_key, kKey), "keystore_missing");
  ExpectRefusedChangingNothing(
      {"denylist", "export", "--key-id", "9", "--passphrase-file", Path("pass.txt")}, kKey,
      "no issuer keystore");

  // A tampered keystore does not unlock either (and says so the same way).
  std::string sealed = ReadAll(data_ + "/issuer-1.keystore");
  sealed[sealed.size() - 1] = static_cast<char>(sealed[sealed.size() - 1] ^ 1);
  WriteAll(data_ + "/issuer-1.keystore", sealed);
  ExpectRefusedChangingNothing(EnrollArgs(device), kKey, "wrong_passphrase_or_tampered");
  WriteAll(data_ + "/issuer-1.keystore", "garbage");
  ExpectRefusedChangingNothing(EnrollArgs(device), kKey, "bad_magic");
}

TEST_F(CliOfflineTest, AKeystoreWhoseKeyIsNotTheRegisteredOneCannotSign) {
  InitWithAccounts();
  IssuerInit();
  Json({"issuer", "init", "--key-id", "2", "--passphrase-file", Path("pass.txt")});
  Device device;
  // Key 1's keystore copied under id 3: a key never registered under 3 (an interrupted init).
  std::filesystem::copy_file(data_ + "/issuer-1.keystore", data_ + "/issuer-3.keystore");
  std::vector<std::string> unregistered = EnrollArgs(device);
  unregistered.insert(unregistered.end(), {"--key-id", "3"});
  EXPECT_EQ(ErrorCode(unregistered, kKey), "issuer_key_unavailable");
  EXPECT_EQ(ErrorCode({"issuer", "show", "--check", "--key-id", "3", "--passphrase-file",
                       Path("pass.txt")},
                      kKey),
            "issuer_key_unavailable");
  // Key 2's keystore put where key 1's was: the engine refuses to open with it.
  std::filesystem::copy_file(data_ + "/issuer-2.keystore", data_ + "/issuer-1.keystore",
                             std::filesystem::copy_options::overwrite_existing);
  ExpectRefusedChangingNothing(EnrollArgs(device), kKey, "issuer_key_mismatch");
  EXPECT_EQ(DebitsMinor("2"), "0");
}

// ---- enrollment, clearing, idempotent uploads -----------------------------------------------

TEST_F(CliOfflineTest, EnrolledDevicesPaymentsClearToTheMerchantOnceHoweverOftenUploaded) {
  InitWithAccounts();
  IssuerInit();
  Device device;
  std::vector<std::string> args = EnrollArgs(device);
  args.insert(args.end(), {"--out", Path("cert.bin")});
  const bj::value enrolled = Json(args);
  const Bytes cert_bytes = ReadBytes(Path("cert.bin"));
  ASSERT_EQ(cert_bytes.size(), offline::kCertificateBytes);
  EXPECT_EQ(Str(enrolled, "certificate"), crypto::Base64UrlEncode(cert_bytes));
  EXPECT_TRUE(VerifiedBy(issuer_hex_, offline::kCertificateDomain,
                         offline::MessageType::device_certificate, cert_bytes));
  const bj::value& fields = enrolled.at("certificate_fields");
  EXPECT_EQ(Str(fields, "serial"), "1");
  EXPECT_EQ(Str(fields, "counter_first"), "1");
  EXPECT_EQ(Str(fields, "counter_last"), "10");
  EXPECT_EQ(Str(fields, "allowance"), "100.00");
  EXPECT_EQ(Str(fields, "cvm_threshold"), "15.00");
  EXPECT_EQ(Str(enrolled, "reserve_balance"), "100.00");
  EXPECT_EQ(DebitsMinor("2"), "10000");  // the allowance moved to the reserve
  device.certificate = offline::DecodeCertificate(cert_bytes).value();
  // Enrolling the same device id again is refused.
  EXPECT_EQ(ErrorCode(EnrollArgs(device), kRejected), "device_exists");

  Expect(On({"terminal", "register", "--terminal", "50", "--merchant", "60", "--settlement-account",
             "3", "--public-key", Hex(terminal_key_.public_key().bytes)}),
         kOk);

  const Bytes token_1 = device.Pay(500, 1);
  const Bytes batch = MakeBatch(terminal_key_, kTerminalId, {token_1, device.Pay(750, 2)});
  const bj::value first = Submit(batch, "batch-1.bin");
  EXPECT_EQ(Classifications(first), (std::vector<std::string>{"cleared", "cleared"}));
  EXPECT_EQ(Str(first.at("batches").as_array().at(0).at("totals"), "cleared_amount"), "12.50");
  EXPECT_EQ(CreditsMinor("3"), "1250");

  // The same file again: the same result, and nothing moves.
  const bj::value again = Submit(batch, "batch-1-again.bin");
  EXPECT_EQ(Classifications(again), Classifications(first));
  EXPECT_EQ(CreditsMinor("3"), "1250");

  // The text form (base64url with a line end) is recognised; a token seen before is a duplicate.
  const Bytes text_batch = MakeBatch(terminal_key_, kTerminalId, {device.Pay(300, 3), token_1});
  WriteAll(Path("batch-2.txt"), crypto::Base64UrlEncode(text_batch) + "\n");
  const bj::value text = Json({"clearing", "submit", Path("batch-2.txt")});
  EXPECT_TRUE(text.at("batches").as_array().at(0).at("text_form").as_bool());
  EXPECT_EQ(Classifications(text), (std::vector<std::string>{"cleared", "duplicate"}));
  EXPECT_EQ(CreditsMinor("3"), "1550");

  // The human-readable table says what happened.
  WriteBytes(Path("batch-3.bin"), MakeBatch(terminal_key_, kTerminalId, {device.Pay(100, 4)}));
  const ProcessResult table = On({"clearing", "submit", Path("batch-3.bin")});
  Expect(table, kOk);
  EXPECT_NE(table.out.find("classified"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("1.00 USD"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("cleared 1"), std::string::npos) << table.out;

  const bj::value shown = Json({"device", "show", "7"});
  EXPECT_FALSE(shown.at("revoked").as_bool());
  EXPECT_EQ(Str(shown.at("current_certificate"), "cleared_count"), "4");
  EXPECT_EQ(Str(shown.at("current_certificate"), "cleared_total"), "16.50");
  EXPECT_EQ(Str(shown, "reserve_balance"), "83.50");
  EXPECT_EQ(Json({"clearing", "exceptions"}).at("exceptions").as_array().size(), 0u);
}

// ---- double spend, revocation, deny list, exceptions ----------------------------------------

TEST_F(CliOfflineTest, DoubleSpendOpensAnExceptionRevokesTheDeviceAndReachesTheDenyList) {
  InitWithAccounts();
  IssuerInit();
  Device device;
  EnrollAndRegister(device);
  Expect(On({"denylist", "export", "--passphrase-file", Path("pass.txt")}), kOk);
  const Bytes honest = device.Pay(500, 1);
  EXPECT_EQ(Classifications(Submit(MakeBatch(terminal_key_, kTerminalId, {honest}), "a.bin")),
            (std::vector<std::string>{"cleared"}));
  // A clone spends counter 1 again, on another amount.
  device.previous = {};
  const bj::value cloned =
      Submit(MakeBatch(terminal_key_, kTerminalId, {device.Pay(900, 1)}), "b.bin");
  EXPECT_EQ(Classifications(cloned), (std::vector<std::string>{"double_spend"}));
  const bj::value& token = cloned.at("batches").as_array().at(0).at("tokens").as_array().at(0);
  EXPECT_EQ(Str(token, "conflicting_token_id"), Hex(crypto::Blake2b256(honest)));
  EXPECT_EQ(CreditsMinor("3"), "500");

  const bj::value open = Json({"clearing", "exceptions"});
  ASSERT_EQ(open.at("exceptions").as_array().size(), 1u);
  const bj::value& exception = open.at("exceptions").as_array().at(0);
  EXPECT_EQ(Str(exception, "classification"), "double_spend");
  EXPECT_EQ(Str(exception, "status"), "open");
  EXPECT_EQ(Str(exception, "amount"), "9.00");
  const std::string exception_id = Str(exception, "id");
  EXPECT_TRUE(Json({"device", "show", "7"}).at("revoked").as_bool());
  EXPECT_EQ(ErrorCode({"device", "revoke", "7"}, kRejected), "device_revoked");

  // The deny list: signed by the issuer key, names the device; the delta since version 1 is empty.
  const bj::value full = Json({"denylist", "export", "--out", Path("deny.bin"), "--max-age", "12h",
                               "--passphrase-file", Path("pass.txt")});
  const Bytes deny = ReadBytes(Path("deny.bin"));
  EXPECT_EQ(Str(full, "deny_list"), crypto::Base64UrlEncode(deny));
  EXPECT_TRUE(
      VerifiedBy(issuer_hex_, offline::kDenyListDomain, offline::MessageType::deny_list, deny));
  auto list = offline::DecodeDenyList(deny);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list.value().device_ids, (std::vector<u128>{kDeviceId}));
  EXPECT_EQ(list.value().list_version, 1u);
  EXPECT_EQ(list.value().max_age, 12u * 3600 * 1000);
  const bj::value delta =
      Json({"denylist", "export", "--since", "1", "--passphrase-file", Path("pass.txt")});
  EXPECT_EQ(Str(delta, "kind"), "delta");
  const auto delta_bytes = crypto::Base64UrlDecode(Str(delta, "deny_list"), 1 << 20);
  ASSERT_TRUE(delta_bytes.ok());
  EXPECT_TRUE(VerifiedBy(issuer_hex_, offline::kDenyListDeltaDomain,
                         offline::MessageType::deny_list_delta, delta_bytes.value()));
  EXPECT_EQ(ErrorCode({"denylist", "export", "--since", "5", "--passphrase-file", Path("pass.txt")},
                      kRejected),
            "malformed");

  // Resolve: the guarantee fund pays the merchant; the exception is closed for good.
  const bj::value resolved =
      Json({"clearing", "resolve", exception_id, "--pay-from-guarantee", "5"});
  EXPECT_EQ(Str(resolved.at("exception"), "status"), "paid_from_guarantee");
  EXPECT_EQ(CreditsMinor("3"), "1400");
  EXPECT_EQ(DebitsMinor("5"), "900");
  EXPECT_EQ(Json({"clearing", "exceptions"}).at("exceptions").as_array().size(), 0u);
  EXPECT_EQ(Json({"clearing", "exceptions", "--all"}).at("exceptions").as_array().size(), 1u);
  EXPECT_EQ(ErrorCode({"clearing", "resolve", exception_id, "--reject"}, kNotFound),
            "unknown_exception");
}

TEST_F(CliOfflineTest, ExceptionsCanBeRejectedAndResolveNeedsExactlyOneChoice) {
  InitWithAccounts();
  IssuerInit();
  Device device;
  EnrollAndRegister(device);
  // Over the per-payment maximum (20.00): invalid, exception opened.
  const bj::value over =
      Submit(MakeBatch(terminal_key_, kTerminalId, {device.Pay(2500, 1)}), "o.bin");
  EXPECT_EQ(Classifications(over), (std::vector<std::string>{"invalid"}));
  const bj::value& token = over.at("batches").as_array().at(0).at("tokens").as_array().at(0);
  EXPECT_EQ(Str(token, "reason"), "over_per_payment_max");
  ExpectRefusedChangingNothing({"clearing", "resolve", "1"}, kUsage, "exactly one");
  ExpectRefusedChangingNothing(
      {"clearing", "resolve", "1", "--reject", "--pay-from-guarantee", "5"}, kUsage, "exactly one");
  ExpectRefusedChangingNothing({"clearing", "resolve", "x1", "--reject"}, kUsage, "exception id");
  EXPECT_EQ(ErrorCode({"clearing", "resolve", "1", "--pay-from-guarantee", "99"}, kRejected),
            "guarantee_payment_failed");
  const bj::value rejected = Json({"clearing", "resolve", "1", "--reject"});
  EXPECT_EQ(Str(rejected.at("exception"), "status"), "rejected");
  EXPECT_EQ(CreditsMinor("3"), "0");
}

// ---- sync -----------------------------------------------------------------------------------

TEST_F(CliOfflineTest, SyncChecksTheDeviceSignatureAndIssuesTheNextCertificate) {
  InitWithAccounts();
  IssuerInit();
  Device device;
  EnrollAndRegister(device);
  Submit(MakeBatch(terminal_key_, kTerminalId, {device.Pay(500, 1), device.Pay(500, 2)}), "a.bin");
  const auto sign = [&](uint64_t serial, uint64_t last) {
    const crypto::Signature s = crypto::Sign(device.key, engine::kSyncRequestDomain,
                                             engine::SyncRequestBytes(kDeviceId, serial, last));
    return crypto::Base64UrlEncode(s.bytes);
  };
  // A signature over another counter than the one declared is refused.
  const std::vector<std::string> forged = {"device",
                                           "sync",
                                           "--device",
                                           "7",
                                           "--last-counter",
                                           "3",
                                           "--signature",
                                           sign(1, 2),
                                           "--passphrase-file",
                                           Path("pass.txt")};
  EXPECT_EQ(ErrorCode(forged, kRejected), "bad_sync_request");
  ExpectRefusedChangingNothing({"device", "sync", "--device", "7", "--last-counter", "2",
                                "--signature", "AAAA", "--passphrase-file", Path("pass.txt")},
                               kUsage, "--signature");

  const bj::value synced = Json({"device", "sync", "--device", "7", "--last-counter", "2",
                                 "--signature", sign(1, 2), "--allowance", "150.00", "--out",
                                 Path("sync.bin"), "--passphrase-file", Path("pass.txt")});
  const Bytes statement = ReadBytes(Path("sync.bin"));
  EXPECT_TRUE(VerifiedBy(issuer_hex_, offline::kSyncStatementDomain,
                         offline::MessageType::sync_statement, statement));
  EXPECT_EQ(Str(synced, "sync_statement"), crypto::Base64UrlEncode(statement));
  EXPECT_EQ(Str(synced, "cleared"), "10.00");
  EXPECT_EQ(Str(synced, "held"), "0.00");
  EXPECT_EQ(Str(synced, "reserve_balance"), "150.00");
  const bj::value& cert = synced.at("certificate_fields");
  EXPECT_EQ(Str(cert, "serial"), "2");
  EXPECT_EQ(Str(cert, "previous_serial"), "1");
  EXPECT_EQ(Str(cert, "counter_first"), "11");
  EXPECT_EQ(Str(cert, "allowance"), "150.00");
  EXPECT_EQ(Str(cert, "cvm_threshold"), "15.00");  // not given: as the old certificate
  EXPECT_EQ(Str(Json({"device", "show", "7"}), "reserve_balance"), "150.00");
  // --cvm-threshold none: the next certificate asks for no PIN at any amount.
  const bj::value no_pin = Json({"device", "sync", "--device", "7", "--last-counter", "10",
                                 "--signature", sign(2, 10), "--cvm-threshold", "none",
                                 "--passphrase-file", Path("pass.txt")});
  EXPECT_TRUE(no_pin.at("certificate_fields").at("cvm_threshold").is_null()) << no_pin;
  ExpectRefusedChangingNothing({"device", "sync", "--device", "7", "--last-counter", "20",
                                "--signature", sign(3, 20), "--cvm-threshold", "never",
                                "--passphrase-file", Path("pass.txt")},
                               kUsage, "--cvm-threshold");
  // An old certificate's signature no longer matches the current serial.
  EXPECT_EQ(ErrorCode({"device", "sync", "--device", "7", "--last-counter", "2", "--signature",
                       sign(1, 2), "--passphrase-file", Path("pass.txt")},
                      kRejected),
            "bad_sync_request");
  EXPECT_EQ(ErrorCode({"device", "sync", "--device", "8", "--last-counter", "0", "--signature",
                       sign(1, 0), "--passphrase-file", Path("pass.txt")},
                      kNotFound),
            "unknown_device");
}

// ---- hostile input --------------------------------------------------------------------------

TEST_F(CliOfflineTest, GarbageTruncatedAndBadTextBatchesAreRefusedAndChangeNothing) {
  InitWithAccounts();
  IssuerInit();
  Device device;
  EnrollAndRegister(device);
  const Bytes batch = MakeBatch(terminal_key_, kTerminalId, {device.Pay(500, 1)});
  const std::string text = crypto::Base64UrlEncode(batch);

  WriteBytes(Path("truncated.bin"), Bytes(batch.begin(), batch.end() - 10));
  WriteAll(Path("garbage.bin"), std::string("\x04\x01\x00\x00garbage garbage garbage", 27));
  WriteAll(Path("empty.bin"), "");
  WriteAll(Path("padded.txt"), text + "==\n");
  WriteAll(Path("spaced.txt"), text.substr(0, 20) + " " + text.substr(20) + "\n");
  WriteAll(Path("standard.txt"), text.substr(0, 20) + "+" + text.substr(21) + "\n");
  Bytes flipped = batch;
  flipped[200] ^= 0x40;  // inside the token: the terminal's batch signature breaks
  WriteBytes(Path("flipped.bin"), flipped);
  Bytes version = batch;
  version[1] = 9;
  WriteBytes(Path("version.bin"), version);
  for (const char* name : {"truncated.bin", "garbage.bin", "empty.bin", "padded.txt", "spaced.txt",
                           "standard.txt", "flipped.bin", "version.bin"}) {
    SCOPED_TRACE(name);
    ExpectRefusedChangingNothing({"clearing", "submit", Path(name)}, kBatchRefused, name);
    const bj::value v = Json({"clearing", "submit", Path(name)}, kBatchRefused);
    const bj::value& b = v.at("batches").as_array().at(0);
    EXPECT_NE(Str(b, "status"), "classified");
    EXPECT_TRUE(b.at("error").is_object());
  }
  EXPECT_EQ(Str(Json({"clearing", "submit", Path("flipped.bin")}, kBatchRefused)
                    .at("batches")
                    .as_array()
                    .at(0)
                    .at("error"),
                "code"),
            "batch_rejected");
  ExpectRefusedChangingNothing({"clearing", "submit", Path("missing.bin")}, kUsage, "cannot read");
  EXPECT_EQ(CreditsMinor("3"), "0");

  // A good batch next to a bad one: the good one clears, the exit code reports the bad one.
  WriteBytes(Path("good.bin"), batch);
  const bj::value mixed =
      Json({"clearing", "submit", Path("garbage.bin"), Path("good.bin")}, kBatchRefused);
  EXPECT_EQ(Str(mixed.at("batches").as_array().at(0), "status"), "malformed");
  EXPECT_EQ(Classifications(mixed, 1), (std::vector<std::string>{"cleared"}));
  EXPECT_EQ(CreditsMinor("3"), "500");
}

TEST_F(CliOfflineTest, BatchesFromUnknownWrongKeyedOrDeactivatedTerminalsAreRejected) {
  InitWithAccounts();
  IssuerInit();
  Device device;
  EnrollAndRegister(device);
  const crypto::SecretKey stranger = crypto::GenerateSigningKey();
  const bj::value wrong_key =
      Submit(MakeBatch(stranger, kTerminalId, {device.Pay(500, 1)}), "w.bin", kBatchRefused);
  EXPECT_EQ(Str(wrong_key.at("batches").as_array().at(0), "status"), "rejected");
  EXPECT_NE(Str(wrong_key.at("batches").as_array().at(0).at("error"), "message")
                .find("bad_batch_signature"),
            std::string::npos);
  Submit(MakeBatch(terminal_key_, 51, {device.Pay(500, 2, 51)}), "u.bin", kBatchRefused);

  EXPECT_EQ(ErrorCode({"terminal", "deactivate", "99"}, kNotFound), "unknown_terminal");
  Expect(On({"terminal", "deactivate", "50"}), kOk);
  const bj::value inactive =
      Submit(MakeBatch(terminal_key_, kTerminalId, {device.Pay(500, 3)}), "i.bin", kBatchRefused);
  EXPECT_NE(
      Str(inactive.at("batches").as_array().at(0).at("error"), "message").find("terminal_inactive"),
      std::string::npos);
  EXPECT_EQ(CreditsMinor("3"), "0");
}

TEST_F(CliOfflineTest, BadValuesUnknownIdsAndUnfundedUsersAreRefusedWithTheirCodes) {
  InitWithAccounts();
  IssuerInit();
  Device device;
  const auto with = [&](const std::string& option, const std::string& value) {
    std::vector<std::string> args = EnrollArgs(device);
    const auto it = std::find(args.begin(), args.end(), option);
    *(it + 1) = value;
    return args;
  };
  ExpectRefusedChangingNothing(with("--public-key", "not-a-key"), kUsage, "--public-key");
  ExpectRefusedChangingNothing(with("--public-key", std::string(64, 'g')), kUsage, "--public-key");
  ExpectRefusedChangingNothing(with("--device", "0"), kUsage, "--device 0");
  ExpectRefusedChangingNothing(with("--allowance", "10.00"), kUsage, "--allowance");
  ExpectRefusedChangingNothing(with("--per-payment-max", "0"), kUsage, "more than zero");
  ExpectRefusedChangingNothing(with("--per-payment-max", "1.234"), kUsage, "--per-payment-max");
  ExpectRefusedChangingNothing(with("--payments-max", "0"), kUsage, "--payments-max");
  ExpectRefusedChangingNothing(with("--valid-for", "24"), kUsage, "--valid-for");
  ExpectRefusedChangingNothing(with("--valid-for", "0h"), kUsage, "--valid-for");
  ExpectRefusedChangingNothing(with("--reserve-account", "2"), kUsage, "--reserve-account");
  ExpectRefusedChangingNothing(with("--ledger", "XYZ"), kUsage, "XYZ");
  std::vector<std::string> to_dir = EnrollArgs(device);
  to_dir.insert(to_dir.end(), {"--out", Path("no/such/dir/cert.bin")});
  ExpectRefusedChangingNothing(to_dir, kUsage, "cannot write --out");

  EXPECT_EQ(ErrorCode(with("--user-account", "6"), kRejected), "funding_failed");
  EXPECT_EQ(ErrorCode(with("--user-account", "77"), kNotFound), "unknown_account");
  EXPECT_EQ(ErrorCode({"device", "show", "8"}, kNotFound), "unknown_device");
  EXPECT_EQ(ErrorCode({"device", "revoke", "8"}, kNotFound), "unknown_device");
  ExpectRefusedChangingNothing({"device", "show", "-1"}, kUsage, "device id");
  EXPECT_EQ(ErrorCode({"terminal", "register", "--terminal", "50", "--merchant", "60",
                       "--settlement-account", "77", "--public-key",
                       Hex(terminal_key_.public_key().bytes)},
                      kNotFound),
            "unknown_account");
  Expect(On({"terminal", "register", "--terminal", "50", "--merchant", "60", "--settlement-account",
             "3", "--public-key", Hex(terminal_key_.public_key().bytes)}),
         kOk);
  EXPECT_EQ(ErrorCode({"terminal", "register", "--terminal", "50", "--merchant", "60",
                       "--settlement-account", "3", "--public-key",
                       Hex(terminal_key_.public_key().bytes)},
                      kRejected),
            "terminal_exists");
}

}  // namespace
}  // namespace tpw
