// The device side of offline payments end to end through the real tpwallet binary (TPW_BINARY):
// `wallet ...` on a wallet directory and `terminal ...` on a terminal directory, with no server.
// The test plays the issuer itself with the crypto and offline codecs: it signs the device
// certificate, deny lists and a sync statement, and checks the batch the terminal signs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/int128.h"
#include "crypto/base64.h"
#include "crypto/hash.h"
#include "crypto/sign.h"
#include "offline/messages.h"
#include "storage/test_temp_dir.h"

namespace tpw {
namespace {

namespace bj = boost::json;

// Exit codes of docs/cli.md.
constexpr int kOk = 0;
constexpr int kRejected = 1;
constexpr int kUsage = 2;
constexpr int kNotFound = 3;
constexpr int kDir = 4;
constexpr int kDeclined = 10;
constexpr int kPassphrase = 11;

constexpr uint32_t kKeyId = 1;
constexpr uint32_t kUsd = 1;
constexpr uint64_t kDayMs = 86'400'000;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
  bj::value json;  // stdout parsed, when it is JSON
  std::string Str(const char* key) const {
    const bj::string& s = json.at(key).as_string();
    return std::string(s.data(), s.size());
  }
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::vector<uint8_t> FromHex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string Hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

class OfflineCliTest : public ::testing::Test {
 protected:
  OfflineCliTest() : issuer_(MakeKey(0x11)) {}

  static crypto::SecretKey MakeKey(uint8_t byte) {
    std::array<uint8_t, crypto::kSigningSeedBytes> seed{};
    seed.fill(byte);
    return crypto::SigningKeyFromSeed(seed);
  }

  std::string Path(const std::string& name) const { return temp_.path() + "/" + name; }
  std::string IssuerKeyArg() const {
    return std::to_string(kKeyId) + ":" + Hex(issuer_.public_key().bytes);
  }

  // Runs tpwallet with `args`; stdin is /dev/null (never a TTY). The passphrases come from the
  // environment unless `env` overrides them ("" unsets one).
  Outcome Tpwallet(std::vector<std::string> args, bool json = false,
                   std::vector<std::pair<std::string, std::string>> env = {}) {
    if (json) args.push_back("--json");
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
      setenv("TPWALLET_TEST_FAST_KDF", "1", 1);
      setenv("TPWALLET_WALLET_PASSPHRASE", "wallet secret", 1);
      setenv("TPWALLET_TERMINAL_PASSPHRASE", "terminal secret", 1);
      setenv("TPWALLET_WALLET_DIR", wallet_.c_str(), 1);
      setenv("TPWALLET_TERMINAL_DIR", terminal_.c_str(), 1);
      for (const auto& [name, value] : env) {
        if (value.empty()) {
          unsetenv(name.c_str());
        } else {
          setenv(name.c_str(), value.c_str(), 1);
        }
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    Outcome run;
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = ReadAll(out_path);
    run.err = ReadAll(err_path);
    if (json) {
      bj::error_code ec;
      run.json = bj::parse(run.out, ec);
      EXPECT_FALSE(ec) << "not JSON: " << run.out << run.err;
    }
    return run;
  }

  Outcome Expect(std::vector<std::string> args, int exit_code, bool json = true) {
    Outcome run = Tpwallet(std::move(args), json);
    EXPECT_EQ(run.exit_code, exit_code) << run.out << run.err;
    return run;
  }

  // An error's code in --json output.
  static std::string ErrorCode(const Outcome& run) {
    if (!run.json.is_object() || !run.json.as_object().contains("error")) return "(no error)";
    const bj::string& s = run.json.at("error").at("code").as_string();
    return std::string(s.data(), s.size());
  }

  offline::DeviceCertificate Certificate(uint64_t serial, uint64_t counter_first) const {
    offline::DeviceCertificate c;
    c.issuer_key_id = kKeyId;
    c.serial = serial;
    c.device_id = device_id_;
    std::copy(device_key_.begin(), device_key_.end(), c.device_public_key.begin());
    c.reserve_account_id = 900;
    c.asset = kUsd;
    c.payment_count_max = 5;
    c.per_payment_max = Amount::FromMinor(2000);  // 20.00
    c.allowance = Amount::FromMinor(5000);        // 50.00
    c.counter_first = counter_first;
    c.cvm_threshold = Amount::FromMinor(1000);  // PIN above 10.00
    c.valid_from = NowMs() - kDayMs;
    c.valid_until = NowMs() + kDayMs;
    return c;
  }
  std::vector<uint8_t> Signed(offline::DeviceCertificate c) const {
    const std::vector<uint8_t> bytes = offline::Encode(c);
    c.signature = crypto::Sign(issuer_, offline::kCertificateDomain,
                               offline::SignedPart(bytes, offline::MessageType::device_certificate))
                      .bytes;
    return offline::Encode(c);
  }
  std::vector<uint8_t> DenyList(uint64_t version, uint64_t issued, std::vector<u128> ids,
                                bool delta = false, uint64_t base = 0) const {
    offline::DenyList list;
    list.delta = delta;
    list.issuer_key_id = kKeyId;
    list.list_version = version;
    list.base_version = base;
    list.issued = issued;
    list.max_age = kDayMs;
    list.device_ids = std::move(ids);
    const std::vector<uint8_t> bytes = offline::Encode(list);
    list.signature =
        crypto::Sign(issuer_, delta ? offline::kDenyListDeltaDomain : offline::kDenyListDomain,
                     offline::SignedPart(bytes, offline::MessageType::deny_list))
            .bytes;
    return offline::Encode(list);
  }

  void CreateWallet() {
    const Outcome created = Expect({"wallet", "create", "--issuer-key", IssuerKeyArg()}, kOk);
    device_id_ = ParseU128Decimal(created.Str("device_id")).value();
    device_key_ = FromHex(created.Str("device_public_key"));
    ASSERT_EQ(device_key_.size(), 32u);
  }
  void InitTerminal() {
    const Outcome init = Expect({"terminal", "init", "--terminal", "50", "--merchant", "60",
                                 "--issuer-key", IssuerKeyArg()},
                                kOk);
    terminal_key_ = FromHex(init.Str("public_key"));
    ASSERT_EQ(terminal_key_.size(), 32u);
  }
  // A wallet with a certificate and a terminal with a fresh deny list.
  void SetUpBoth() {
    CreateWallet();
    InitTerminal();
    WriteBytes(Path("cert.bin"), Signed(Certificate(1, 1)));
    Expect({"wallet", "install", Path("cert.bin")}, kOk);
    WriteBytes(Path("deny.bin"), DenyList(1, NowMs(), {}));
    Expect({"terminal", "denylist", "update", Path("deny.bin")}, kOk);
  }

  std::string Request(const std::string& amount) {
    return Expect({"terminal", "request", "--amount", amount, "--ledger", "USD"}, kOk)
        .Str("request");
  }
  std::string Pay(const std::string& request, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"wallet", "pay", request};
    args.insert(args.end(), extra.begin(), extra.end());
    return Expect(args, kOk).Str("token");
  }
  Outcome Accept(const std::string& token, int exit_code) {
    return Expect({"terminal", "accept", token}, exit_code);
  }

  storage::TempDir temp_;
  std::string wallet_ = temp_.path() + "/wallet";
  std::string terminal_ = temp_.path() + "/terminal";
  crypto::SecretKey issuer_;
  u128 device_id_ = 0;
  std::vector<uint8_t> device_key_;
  std::vector<uint8_t> terminal_key_;
};

// ---- wallet create / show, terminal init

TEST_F(OfflineCliTest, WalletCreatePrintsWhatEnrollmentNeedsAndShowReadsItWithoutPassphrase) {
  const Outcome text = Expect({"wallet", "create", "--issuer-key", IssuerKeyArg()}, kOk, false);
  EXPECT_NE(text.out.find("device id:"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("tpwallet device enroll --device "), std::string::npos) << text.out;

  const Outcome show = Tpwallet({"wallet", "show"}, true, {{"TPWALLET_WALLET_PASSPHRASE", ""}});
  ASSERT_EQ(show.exit_code, kOk) << show.err;
  EXPECT_EQ(show.json.at("issuer_key_id").as_int64(), kKeyId);
  EXPECT_EQ(show.Str("issuer_public_key"), Hex(issuer_.public_key().bytes));
  EXPECT_EQ(show.json.at("certificates").as_array().size(), 0u);
  EXPECT_TRUE(show.json.at("last_token_id").is_null());

  const Outcome again = Expect({"wallet", "create"}, kDir);
  EXPECT_EQ(ErrorCode(again), "wallet_exists");
}

TEST_F(OfflineCliTest, MissingDirectoriesAreExit4WithWhatToDo) {
  const Outcome show = Expect({"wallet", "show", "--wallet-dir", Path("nowhere")}, kDir);
  EXPECT_NE(show.err.find("tpwallet wallet create"), std::string::npos) << show.err;
  Expect({"wallet", "pay", "AAAA", "--wallet-dir", Path("nowhere")}, kUsage);  // bad request first
  const Outcome status = Expect({"terminal", "status", "--terminal-dir", Path("nowhere")}, kDir);
  EXPECT_NE(status.err.find("tpwallet terminal init"), std::string::npos) << status.err;
  std::filesystem::create_directory(Path("empty"));
  EXPECT_EQ(ErrorCode(Expect({"wallet", "sync", "--wallet-dir", Path("empty")}, kDir)),
            "no_wallet");
  EXPECT_EQ(ErrorCode(Expect({"terminal", "status", "--terminal-dir", Path("empty")}, kDir)),
            "not_a_terminal");
}

TEST_F(OfflineCliTest, TerminalInitPrintsItsKeyAndRefusesASecondInit) {
  InitTerminal();
  const Outcome status = Expect({"terminal", "status"}, kOk);
  EXPECT_EQ(status.Str("terminal_id"), "50");
  EXPECT_EQ(status.Str("merchant_id"), "60");
  EXPECT_EQ(status.Str("public_key"), Hex(terminal_key_));
  EXPECT_TRUE(status.json.at("deny_list").at("stale").as_bool());
  EXPECT_EQ(ErrorCode(Expect({"terminal", "init", "--terminal", "50", "--merchant", "60",
                              "--issuer-key", IssuerKeyArg()},
                             kDir)),
            "already_exists");
  Expect({"terminal", "init", "--terminal", "51", "--merchant", "60", "--issuer-key", "1:abc",
          "--terminal-dir", Path("t2")},
         kUsage);
}

TEST_F(OfflineCliTest, PassphraseProblems) {
  SetUpBoth();
  const Outcome wrong =
      Tpwallet({"wallet", "sync"}, true, {{"TPWALLET_WALLET_PASSPHRASE", "not it"}});
  EXPECT_EQ(wrong.exit_code, kPassphrase) << wrong.err;
  EXPECT_EQ(ErrorCode(wrong), "wrong_passphrase");
  const Outcome wrong_terminal =
      Tpwallet({"terminal", "status"}, true, {{"TPWALLET_TERMINAL_PASSPHRASE", "not it"}});
  EXPECT_EQ(wrong_terminal.exit_code, kPassphrase) << wrong_terminal.err;

  const Outcome none = Tpwallet({"wallet", "sync"}, true, {{"TPWALLET_WALLET_PASSPHRASE", ""}});
  EXPECT_EQ(none.exit_code, kUsage);
  EXPECT_NE(none.err.find("--passphrase-file"), std::string::npos) << none.err;

  std::ofstream(Path("pass.txt")) << "wallet secret\nignored second line\n";
  const Outcome from_file =
      Tpwallet({"wallet", "candidates", Request("1.00"), "--passphrase-file", Path("pass.txt")},
               true, {{"TPWALLET_WALLET_PASSPHRASE", ""}});
  EXPECT_EQ(from_file.exit_code, kOk) << from_file.err;
}

// ---- the round trip

TEST_F(OfflineCliTest, RequestPayAcceptRoundTripWithoutAServer) {
  SetUpBoth();
  const Outcome request = Expect(
      {"terminal", "request", "--amount", "12.34", "--ledger", "USD", "--out", Path("request.txt")},
      kOk);
  EXPECT_EQ(request.Str("amount_minor"), "1234");
  EXPECT_FALSE(request.json.at("deny_list_stale").as_bool());

  // Text output: the token's text and a QR code in half blocks; the request read from a file.
  const Outcome paid = Expect(
      {"wallet", "pay", Path("request.txt"), "--pin", "--out", Path("token.txt")}, kOk, false);
  EXPECT_NE(paid.out.find("paid 12.34 USD to merchant 60 at terminal 50"), std::string::npos)
      << paid.out;
  EXPECT_NE(paid.out.find("\u2588"), std::string::npos);
  EXPECT_NE(paid.out.find("remaining: 37.66 USD, 4 payments"), std::string::npos) << paid.out;
  std::string token = ReadAll(Path("token.txt"));
  ASSERT_FALSE(token.empty());
  token.pop_back();  // the line end
  EXPECT_NE(paid.out.find(token), std::string::npos);

  const Outcome accepted = Accept(token, kOk);
  EXPECT_TRUE(accepted.json.at("accepted").as_bool());
  EXPECT_EQ(accepted.Str("amount"), "12.34");
  const auto bytes = crypto::Base64UrlDecode(token, 1000);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(accepted.Str("token_id"), Hex(crypto::Blake2b256(bytes.value())));

  const Outcome status = Expect({"terminal", "status"}, kOk);
  EXPECT_EQ(status.Str("accepted"), "1");
  EXPECT_EQ(status.Str("outstanding_requests"), "0");
  const Outcome show = Expect({"wallet", "show"}, kOk);
  const bj::value& cert = show.json.at("certificates").at(0);
  EXPECT_EQ(cert.at("counters_used").as_int64(), 1);
  EXPECT_EQ(cert.at("remaining_allowance").as_string(), "37.66");
  EXPECT_EQ(show.Str("last_token_id"), accepted.Str("token_id"));
  EXPECT_EQ(show.Str("tokens_signed"), "1");
}

TEST_F(OfflineCliTest, CandidatesShowTheFundingChoice) {
  SetUpBoth();
  const Outcome ok = Expect({"wallet", "candidates", Request("5.00")}, kOk);
  EXPECT_EQ(ok.Str("chosen_serial"), "1");
  const Outcome over = Expect({"wallet", "candidates", Request("25.00")}, kDeclined);
  EXPECT_TRUE(over.json.at("chosen_serial").is_null());
  EXPECT_EQ(over.json.at("candidates").at(0).at("verdict").as_string(), "over_per_payment_max");
}

// ---- declines

TEST_F(OfflineCliTest, WalletDeclinesOverThePerPaymentMaxAndWithoutTheNeededPin) {
  SetUpBoth();
  const Outcome over = Expect({"wallet", "pay", Request("20.01")}, kDeclined);
  EXPECT_EQ(ErrorCode(over), "over_per_payment_max");
  const std::string pin_request = Request("15.00");
  const Outcome no_pin = Expect({"wallet", "pay", pin_request}, kDeclined, false);
  EXPECT_NE(no_pin.err.find("pin_required"), std::string::npos) << no_pin.err;
  EXPECT_NE(no_pin.err.find("--pin"), std::string::npos) << no_pin.err;
  // Nothing was signed: the same request is paid with the PIN, using the first counter.
  const Outcome with_pin = Expect({"wallet", "pay", pin_request, "--pin"}, kOk);
  EXPECT_EQ(with_pin.Str("counter"), "1");
  Accept(with_pin.Str("token"), kOk);
}

TEST_F(OfflineCliTest, TerminalDeclinesReplaysUnknownRequestsAndAClonedCounter) {
  SetUpBoth();
  std::filesystem::copy(wallet_, Path("clone"));  // a clone of the device, counters and all
  const std::string first = Pay(Request("3.00"));
  Accept(first, kOk);
  const Outcome again = Accept(first, kDeclined);  // the request is answered: unknown_request
  EXPECT_EQ(again.Str("code"), "unknown_request");
  EXPECT_FALSE(again.json.at("accepted").as_bool());

  const Outcome cloned =
      Expect({"wallet", "pay", Request("4.00"), "--wallet-dir", Path("clone")}, kOk);
  EXPECT_EQ(cloned.Str("counter"), "1");
  const Outcome replayed = Accept(cloned.Str("token"), kDeclined);
  EXPECT_EQ(replayed.Str("code"), "replayed_counter");
  const Outcome text = Expect({"terminal", "accept", cloned.Str("token")}, kDeclined, false);
  EXPECT_NE(text.err.find("payment declined"), std::string::npos) << text.err;
}

TEST_F(OfflineCliTest, TerminalDeclinesEverythingWhileTheDenyListIsStale) {
  CreateWallet();
  InitTerminal();
  WriteBytes(Path("cert.bin"), Signed(Certificate(1, 1)));
  Expect({"wallet", "install", Path("cert.bin")}, kOk);
  EXPECT_EQ(Accept(Pay(Request("1.00")), kDeclined).Str("code"), "deny_list_stale");  // none

  WriteBytes(Path("old.bin"), DenyList(1, NowMs() - 2 * kDayMs, {}));
  const Outcome installed = Expect({"terminal", "denylist", "update", Path("old.bin")}, kOk);
  EXPECT_TRUE(installed.json.at("stale").as_bool());
  const Outcome request =
      Expect({"terminal", "request", "--amount", "1.00", "--ledger", "USD"}, kOk);
  EXPECT_TRUE(request.json.at("deny_list_stale").as_bool());
  EXPECT_EQ(Accept(Pay(request.Str("request")), kDeclined).Str("code"), "deny_list_stale");
}

TEST_F(OfflineCliTest, GarbageAndTruncatedTokensAreRefusedClearly) {
  SetUpBoth();
  const std::string token = Pay(Request("2.00"));
  EXPECT_EQ(ErrorCode(Accept("not a token!", kUsage)), "not_canonical_text");
  EXPECT_EQ(ErrorCode(Accept(token.substr(0, token.size() - 1), kUsage)), "not_canonical_text");
  std::vector<uint8_t> bytes = crypto::Base64UrlDecode(token, 1000).value();
  bytes.resize(bytes.size() - 3);
  const Outcome truncated = Accept(crypto::Base64UrlEncode(bytes), kDeclined);
  EXPECT_EQ(truncated.Str("code"), "malformed");
  EXPECT_NE(truncated.Str("detail").find("truncated"), std::string::npos) << truncated.out;
  WriteBytes(Path("empty.txt"), {});
  Accept(Path("empty.txt"), kUsage);
  Accept(Path("no-such-file.txt"), kUsage);
  // A request is not a token, a token is not a request or a certificate.
  Expect({"wallet", "pay", token}, kUsage);
  Expect({"wallet", "install", token}, kUsage);
  // The honest token still works: the declines above consumed nothing.
  Accept(token, kOk);
}

TEST_F(OfflineCliTest, AmountsAreParsedStrictly) {
  SetUpBoth();
  for (const char* bad : {"1.234", "-1", "1e3", "0"}) {
    Expect({"terminal", "request", "--amount", bad, "--ledger", "USD"}, kUsage);
  }
  Expect({"terminal", "request", "--amount", "100", "--ledger", "USD", "--minor"}, kOk);
}

// ---- void, batch, uploaded

TEST_F(OfflineCliTest, VoidReversesAnAcceptedTokenBeforeItIsBatched) {
  SetUpBoth();
  const std::string id = Accept(Pay(Request("1.50")), kOk).Str("token_id");
  Expect({"terminal", "void", id}, kOk);
  EXPECT_EQ(ErrorCode(Expect({"terminal", "void", id}, kRejected)), "token_already_voided");
  EXPECT_EQ(ErrorCode(Expect({"terminal", "void", std::string(64, 'a')}, kNotFound)),
            "unknown_token");
  Expect({"terminal", "void", "xyz"}, kUsage);
  const Outcome batch = Expect({"terminal", "batch", "--out-dir", temp_.path()}, kOk);
  EXPECT_EQ(batch.json.at("batches").as_array().size(), 0u);  // the voided token is not batched
}

TEST_F(OfflineCliTest, BatchWritesASignedTerminalBatchToUploadAndUploadedRetiresIt) {
  SetUpBoth();
  const std::string a = Accept(Pay(Request("1.00")), kOk).Str("token_id");
  const std::string b = Accept(Pay(Request("2.00")), kOk).Str("token_id");
  const std::string c = Accept(Pay(Request("3.00")), kOk).Str("token_id");
  Expect({"terminal", "void", b}, kOk);

  const Outcome text = Expect({"terminal", "batch", "--out-dir", temp_.path()}, kOk, false);
  EXPECT_NE(text.out.find("tpwallet clearing submit "), std::string::npos) << text.out;
  const Outcome again = Expect({"terminal", "batch", "--out-dir", temp_.path()}, kOk);
  ASSERT_EQ(again.json.at("batches").as_array().size(), 1u);  // still pending: offered again
  EXPECT_EQ(again.json.at("built").as_int64(), 0);
  const bj::value& item = again.json.at("batches").at(0);
  const std::string file(item.at("file").as_string());
  const std::string batch_id(item.at("batch_id").as_string());

  const std::string contents = ReadAll(file);
  const std::vector<uint8_t> bytes(contents.begin(), contents.end());
  auto batch = offline::DecodeBatch(bytes);
  ASSERT_TRUE(batch.ok()) << batch.error().Message();
  EXPECT_EQ(batch.value().terminal_id, 50u);
  EXPECT_EQ(Hex(batch.value().batch_id), batch_id);
  ASSERT_EQ(batch.value().tokens.size(), 2u);
  EXPECT_EQ(Hex(crypto::Blake2b256(offline::Encode(batch.value().tokens[0]))), a);
  EXPECT_EQ(Hex(crypto::Blake2b256(offline::Encode(batch.value().tokens[1]))), c);
  crypto::PublicKey terminal_key;
  std::copy(terminal_key_.begin(), terminal_key_.end(), terminal_key.bytes.begin());
  EXPECT_TRUE(crypto::Verify(terminal_key, offline::kBatchDomain,
                             offline::SignedPart(bytes, offline::MessageType::terminal_batch),
                             crypto::Signature{batch.value().signature}));

  EXPECT_EQ(ErrorCode(Expect({"terminal", "void", a}, kRejected)), "token_already_batched");
  Expect({"terminal", "uploaded", batch_id}, kOk);
  EXPECT_EQ(ErrorCode(Expect({"terminal", "uploaded", batch_id}, kRejected)),
            "batch_already_uploaded");
  EXPECT_EQ(ErrorCode(Expect({"terminal", "uploaded", std::string(32, '0')}, kNotFound)),
            "unknown_batch");
  const Outcome status = Expect({"terminal", "status"}, kOk);
  EXPECT_EQ(status.Str("pending_batches"), "0");
  EXPECT_EQ(status.Str("uploaded"), "2");
}

// ---- deny list

TEST_F(OfflineCliTest, DenyListDeltaAddsTheDeviceAndItsPaymentsAreDeclined) {
  SetUpBoth();
  WriteBytes(Path("wrong-base.bin"), DenyList(3, NowMs(), {device_id_}, true, 2));
  EXPECT_EQ(
      ErrorCode(Expect({"terminal", "denylist", "update", Path("wrong-base.bin")}, kRejected)),
      "deny_list_needs_full_list");
  const std::string delta = crypto::Base64UrlEncode(DenyList(2, NowMs(), {device_id_}, true, 1));
  const Outcome updated = Expect({"terminal", "denylist", "update", delta}, kOk);  // as text
  EXPECT_EQ(updated.Str("kind"), "delta");
  EXPECT_EQ(updated.Str("version"), "2");
  EXPECT_EQ(updated.Str("previous_version"), "1");
  EXPECT_EQ(updated.Str("entries"), "1");
  EXPECT_FALSE(updated.json.at("stale").as_bool());
  EXPECT_EQ(ErrorCode(Expect({"terminal", "denylist", "update", delta}, kRejected)),
            "deny_list_needs_full_list");
  EXPECT_EQ(Accept(Pay(Request("1.00")), kDeclined).Str("code"), "device_denied");

  offline::DenyList forged = offline::DecodeDenyList(DenyList(3, NowMs(), {})).value();
  forged.signature[0] ^= 1;
  WriteBytes(Path("forged.bin"), offline::Encode(forged));
  EXPECT_EQ(ErrorCode(Expect({"terminal", "denylist", "update", Path("forged.bin")}, kRejected)),
            "deny_list_bad_signature");
}

// ---- sync

TEST_F(OfflineCliTest, SyncPrintsTheIssuerCommandAndAStatementRestoresPaying) {
  SetUpBoth();
  Accept(Pay(Request("5.00")), kOk);
  const Outcome sync = Expect({"wallet", "sync"}, kOk);
  EXPECT_EQ(sync.Str("serial"), "1");
  EXPECT_EQ(sync.Str("last_counter_used"), "1");
  const std::string expected_command = "tpwallet device sync --device " +
                                       U128ToDecimal(device_id_) +
                                       " --last-counter 1 --signature " + sync.Str("signature");
  EXPECT_EQ(sync.Str("issuer_command").rfind(expected_command, 0), 0u)
      << sync.Str("issuer_command");
  const auto signature = crypto::Base64UrlDecode(sync.Str("signature"), 64);
  ASSERT_TRUE(signature.ok());
  crypto::Signature sig;
  std::copy(signature.value().begin(), signature.value().end(), sig.bytes.begin());
  crypto::PublicKey device_key;
  std::copy(device_key_.begin(), device_key_.end(), device_key.bytes.begin());
  EXPECT_TRUE(crypto::Verify(device_key, offline::kSyncRequestDomain,
                             offline::SyncRequestBytes(device_id_, 1, 1), sig));

  EXPECT_EQ(ErrorCode(Expect({"wallet", "pay", Request("1.00")}, kDeclined)), "sync_pending");

  // The issuer's answer: a statement with the next certificate (counters from 6).
  offline::DeviceCertificate next = Certificate(2, 6);
  next.previous_serial = 1;
  offline::SyncStatement statement;
  statement.issuer_key_id = kKeyId;
  statement.device_id = device_id_;
  statement.previous_serial = 1;
  statement.last_counter_used = 1;
  statement.cleared_amount = Amount::FromMinor(500);
  statement.held_amount = Amount::Zero();
  statement.reserve_balance = Amount::FromMinor(5000);
  statement.issued = NowMs();
  statement.certificate = offline::DecodeCertificate(Signed(next)).value();
  const std::vector<uint8_t> unsigned_bytes = offline::Encode(statement);
  statement.signature =
      crypto::Sign(issuer_, offline::kSyncStatementDomain,
                   offline::SignedPart(unsigned_bytes, offline::MessageType::sync_statement))
          .bytes;
  WriteBytes(Path("sync.bin"), offline::Encode(statement));
  const Outcome installed = Expect({"wallet", "install", Path("sync.bin")}, kOk);
  EXPECT_EQ(installed.Str("kind"), "sync_statement");
  EXPECT_EQ(installed.Str("replaced_serial"), "1");
  EXPECT_EQ(installed.Str("cleared"), "5.00");
  const Outcome paid = Expect({"wallet", "pay", Request("1.00")}, kOk);
  EXPECT_EQ(paid.Str("serial"), "2");
  EXPECT_EQ(paid.Str("counter"), "6");
  Accept(paid.Str("token"), kOk);
}

TEST_F(OfflineCliTest, InstallRefusesCertificatesOfAnotherIssuerOrDevice) {
  CreateWallet();
  offline::DeviceCertificate other = Certificate(1, 1);
  other.device_id += 1;
  WriteBytes(Path("other.bin"), Signed(other));
  EXPECT_EQ(ErrorCode(Expect({"wallet", "install", Path("other.bin")}, kRejected)), "wrong_device");
  const crypto::SecretKey stranger = MakeKey(0x22);
  offline::DeviceCertificate forged = Certificate(1, 1);
  const std::vector<uint8_t> bytes = offline::Encode(forged);
  forged.signature =
      crypto::Sign(stranger, offline::kCertificateDomain,
                   offline::SignedPart(bytes, offline::MessageType::device_certificate))
          .bytes;
  const std::string text = crypto::Base64UrlEncode(offline::Encode(forged));
  EXPECT_EQ(ErrorCode(Expect({"wallet", "install", text}, kRejected)), "bad_certificate_signature");
  const Outcome ok =
      Expect({"wallet", "install", crypto::Base64UrlEncode(Signed(Certificate(1, 1)))}, kOk);
  EXPECT_FALSE(ok.json.at("already_installed").as_bool());
  EXPECT_TRUE(Expect({"wallet", "install", Path("cert-again")}, kUsage).json.is_object());
}

// ---- the outstanding-requests file (cli-requests.state)

TEST_F(OfflineCliTest, RequestsSurviveBetweenCommandsAndADamagedFileStopsLoudly) {
  SetUpBoth();
  std::filesystem::copy(wallet_, Path("clone"));
  const std::string first = Request("1.00");
  const std::string second = Request("2.00");
  EXPECT_EQ(Expect({"terminal", "status"}, kOk).Str("outstanding_requests"), "2");
  Accept(Pay(second), kOk);  // counter 1
  EXPECT_EQ(Expect({"terminal", "status"}, kOk).Str("outstanding_requests"), "1");
  // A declined token leaves its request in place: the same request can still be paid.
  const std::string third = Request("3.00");
  const Outcome cloned = Expect({"wallet", "pay", third, "--wallet-dir", Path("clone")}, kOk);
  EXPECT_EQ(Accept(cloned.Str("token"), kDeclined).Str("code"), "replayed_counter");
  EXPECT_EQ(Expect({"terminal", "status"}, kOk).Str("outstanding_requests"), "2");
  Accept(Pay(third), kOk);  // counter 2
  EXPECT_EQ(Expect({"terminal", "status"}, kOk).Str("outstanding_requests"), "1");

  const std::string file = terminal_ + "/cli-requests.state";
  std::string bytes = ReadAll(file);
  ASSERT_FALSE(bytes.empty());
  for (const size_t at : {size_t{0}, size_t{9}, size_t{20}, bytes.size() - 1}) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x40);
    WriteBytes(file, std::vector<uint8_t>(flipped.begin(), flipped.end()));
    const Outcome damaged = Expect({"terminal", "status"}, 5);
    EXPECT_EQ(ErrorCode(damaged), "requests_corrupt");
    EXPECT_NE(damaged.err.find("remove it"), std::string::npos) << damaged.err;
  }
  WriteBytes(file, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 20));  // truncated
  EXPECT_EQ(ErrorCode(Expect({"terminal", "status"}, 5)), "requests_corrupt");
  std::filesystem::remove(file);  // forgetting the requests is the documented remedy
  EXPECT_EQ(Expect({"terminal", "status"}, kOk).Str("outstanding_requests"), "0");
  EXPECT_EQ(Accept(Pay(first), kDeclined).Str("code"), "unknown_request");
}

}  // namespace
}  // namespace tpw
