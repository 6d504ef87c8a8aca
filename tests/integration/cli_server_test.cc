// `--server URL`: the ledger commands of the real tpwallet binary against a real `tpwallet serve`
// child on a random loopback port. The served data directory is a copy of a local one, so every
// command can be run both ways and its output and exit code compared byte for byte. Also: the
// errors a remote run adds (bad key, scope, no server, no answer, a page that is not the API's),
// the POST retry under one Idempotency-Key, and the refusal of --server by every other command.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "cli/commands.h"
#include "tpwallet_fixture.h"

namespace tpw {
namespace {

namespace bj = boost::json;
using test_support::ProcessResult;
using test_support::ReadAll;

// Exit codes (docs/cli.md, "Exit codes").
constexpr int kOk = cli::kExitOk;
constexpr int kRejected = cli::kExitRejected;
constexpr int kUsage = cli::kExitUsage;
constexpr int kNotFound = cli::kExitNotFound;
constexpr int kServer = cli::kExitServer;
constexpr int kAccess = cli::kExitAccess;

constexpr auto kServeStartMax = std::chrono::seconds(30);

std::vector<std::string> Plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A loopback TCP listener the test plays a server with: `handle(fd)` runs for each accepted
// connection, one at a time, on the listener's thread.
class FakeServer {
 public:
  explicit FakeServer(std::function<void(int)> handle) : handle_(std::move(handle)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(fd_, 16);
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    if (handle_) thread_ = std::thread([this] { Loop(); });
  }
  ~FakeServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void Loop() {
    while (!stop_) {
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      handle_(client);
      close(client);
    }
  }

  std::function<void(int)> handle_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Reads one HTTP request (headers and a Content-Length body) from `fd`; "" if the peer closed.
std::string ReadRequest(int fd) {
  std::string data;
  char buffer[4096];
  for (;;) {
    const size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t length = 0;
      const size_t at = data.find("Content-Length: ");
      if (at != std::string::npos && at < end) length = std::stoul(data.substr(at + 16));
      if (data.size() >= end + 4 + length) return data;
    }
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) return "";
    data.append(buffer, static_cast<size_t>(n));
  }
}

void WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Sends `request` to 127.0.0.1:`port` and returns the whole answer (Connection: close).
std::string Forward(uint16_t port, std::string request) {
  const size_t line_end = request.find("\r\n");
  request.insert(line_end + 2, "Connection: close\r\n");
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return "";
  }
  WriteAll(fd, request);
  std::string answer;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) answer.append(buffer, static_cast<size_t>(n));
  close(fd);
  return answer;
}

std::string HeaderValue(const std::string& request, const std::string& name) {
  const size_t at = request.find(name + ": ");
  if (at == std::string::npos) return "";
  const size_t start = at + name.size() + 2;
  return request.substr(start, request.find("\r\n", start) - start);
}

class CliServerTest : public test_support::TpwalletFixture {
 protected:
  void SetUp() override {
    // The children inherit the environment: a server named there would turn the local runs
    // into refusals.
    unsetenv("TPWALLET_SERVER");
    unsetenv("TPWALLET_API_KEY");
    Expect(On({"init"}), kOk);
    Local({"account", "create", "--id", "1", "--ledger", "USD", "--code", "10"});
    Local({"account", "create", "--id", "2", "--ledger", "USD", "--code", "10", "--flags",
           "history"});
    Local({"account", "create", "--id", "3", "--ledger", "EUR", "--code", "20", "--flags",
           "debits_must_not_exceed_credits", "--overdraft-limit", "7.50"});
    for (int i = 0; i < 5; ++i) {
      Local({"transfer", "--id", std::to_string(100 + i), "--debit", "1", "--credit", "2",
             "--amount", std::to_string(i + 1) + ".25", "--ledger", "USD", "--code",
             std::to_string(1 + i % 2)});
    }
    Local({"transfer", "--id", "110", "--debit", "2", "--credit", "1", "--amount", "4.00",
           "--ledger", "USD", "--code", "3", "--pending", "--timeout", "3600"});
    Local({"transfer", "--id", "111", "--debit", "2", "--credit", "1", "--amount", "3.00",
           "--ledger", "USD", "--code", "3", "--pending"});
    Local({"transfer", "--id", "112", "--post", "111", "--amount", "1.00"});
    Local({"transfer", "--id", "113", "--debit", "1", "--credit", "2", "--amount", "1.00",
           "--ledger", "USD", "--code", "3", "--pending"});
    MoreLocalData();
    admin_key_ = MakeKey("admin");
    auditor_key_ = MakeKey("auditor");
    served_ = Path("served");
    std::filesystem::copy(data_, served_, std::filesystem::copy_options::recursive);
    StartServer();
  }

  void TearDown() override {
    if (serve_ <= 0) return;
    kill(serve_, SIGTERM);
    int status = 0;
    waitpid(serve_, &status, 0);
  }

  void Local(const std::vector<std::string>& args) { Expect(On(args), kOk); }
  // What a derived fixture adds to the data directory before it is copied and served.
  virtual void MoreLocalData() {}

  std::string MakeKey(const std::string& scope) {
    const bj::value made = Json({"apikey", "create", "--scope", scope, "--name", scope});
    return Str(made, "key");
  }

  void StartServer() {
    const std::string out = Path("serve.out");
    serve_ = test_support::SpawnToFiles({TPW_BINARY, "serve", "--data-dir", served_, "--listen",
                                         "127.0.0.1:0", "--threads", "1", "--json"},
                                        out, Path("serve.err"));
    ASSERT_GT(serve_, 0);
    const auto deadline = std::chrono::steady_clock::now() + kServeStartMax;
    while (!Contains(ReadAll(out), "listening")) {
      int status = 0;
      ASSERT_NE(waitpid(serve_, &status, WNOHANG), serve_) << ReadAll(Path("serve.err"));
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "serve did not start";
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const bj::value started = bj::parse(ReadAll(out));
    url_ = Str(started, "listening");
    port_ = static_cast<uint16_t>(started.at("port").to_number<uint64_t>());
  }

  ProcessResult Remote(const std::vector<std::string>& args, const std::string& key) {
    return Tpwallet(Plus(args, {"--server", url_, "--api-key", key}));
  }
  ProcessResult Remote(const std::vector<std::string>& args) { return Remote(args, admin_key_); }

  // Runs `args` on the local copy and against the server: same exit code, output and errors.
  void ExpectSameBothWays(const std::vector<std::string>& args, int expected_exit) {
    SCOPED_TRACE(testing::PrintToString(args));
    const ProcessResult local = On(args);
    const ProcessResult remote = Remote(args);
    EXPECT_EQ(local.exit_code, expected_exit) << local.out << local.err;
    EXPECT_EQ(remote.exit_code, local.exit_code) << remote.out << remote.err;
    EXPECT_EQ(remote.out, local.out);
    EXPECT_EQ(remote.err, local.err);
  }
  void ExpectSameBothWaysTextAndJson(const std::vector<std::string>& args, int expected_exit) {
    ExpectSameBothWays(args, expected_exit);
    ExpectSameBothWays(Plus(args, {"--json"}), expected_exit);
  }

  // The error object a --json run printed.
  static bj::object ErrorOf(const ProcessResult& run) {
    bj::error_code ec;
    bj::value value = bj::parse(run.out, ec);
    EXPECT_FALSE(ec) << "not JSON: " << run.out << run.err;
    if (ec || !value.is_object() || !value.as_object().contains("error")) return {};
    return value.as_object().at("error").as_object();
  }

  std::string served_;
  std::string url_;
  uint16_t port_ = 0;
  std::string admin_key_;
  std::string auditor_key_;
  pid_t serve_ = -1;
};

TEST_F(CliServerTest, ReadsPrintTheSameAsOnTheDataDirectory) {
  ExpectSameBothWaysTextAndJson({"account", "show", "1", "2", "3"}, kOk);
  ExpectSameBothWaysTextAndJson({"transfer", "show", "100", "110", "111", "112", "113"}, kOk);
  ExpectSameBothWaysTextAndJson({"account", "transfers", "1"}, kOk);
  ExpectSameBothWaysTextAndJson({"account", "transfers", "2", "--debits", "--reverse"}, kOk);
  ExpectSameBothWaysTextAndJson({"account", "transfers", "1", "--code", "2"}, kOk);
  ExpectSameBothWaysTextAndJson({"account", "history", "2"}, kOk);
  ExpectSameBothWaysTextAndJson({"account", "history", "2", "--reverse", "--limit", "3"}, kOk);
}

TEST_F(CliServerTest, PagesFollowTheSameCursorBothWays) {
  const bj::value first = Json({"account", "transfers", "1", "--limit", "3"});
  ASSERT_TRUE(first.at("next_cursor").is_string());
  const std::string cursor = Str(first, "next_cursor");
  ExpectSameBothWaysTextAndJson({"account", "transfers", "1", "--limit", "3"}, kOk);
  ExpectSameBothWaysTextAndJson({"account", "transfers", "1", "--limit", "3", "--after", cursor},
                                kOk);
  ExpectSameBothWaysTextAndJson({"account", "transfers", "1", "--after", "18446744073709551615"},
                                kOk);
}

TEST_F(CliServerTest, UnknownRecordsAreNotFoundBothWays) {
  ExpectSameBothWaysTextAndJson({"account", "show", "1", "99"}, kNotFound);
  ExpectSameBothWaysTextAndJson({"transfer", "show", "999"}, kNotFound);
  // More ids than one lookup request takes (256): the CLI splits them, the answer is the same.
  std::vector<std::string> many = {"account", "show"};
  for (int id = 600; id > 0; --id) many.push_back(std::to_string(id));
  ExpectSameBothWaysTextAndJson(many, kNotFound);
  many[0] = "transfer";
  ExpectSameBothWaysTextAndJson(many, kNotFound);
  ExpectSameBothWaysTextAndJson({"account", "transfers", "99"}, kNotFound);
  ExpectSameBothWaysTextAndJson({"account", "history", "99"}, kNotFound);
  // A post whose amount is read in the asset of a pending transfer that does not exist.
  ExpectSameBothWaysTextAndJson({"transfer", "--id", "300", "--post", "999", "--amount", "1.00"},
                                kNotFound);
  const bj::object error = ErrorOf(Remote({"account", "transfers", "99", "--json"}));
  EXPECT_EQ(error.at("code").as_string(), "account_not_found");
  EXPECT_EQ(error.at("exit_code").as_int64(), kNotFound);
}

TEST_F(CliServerTest, LedgerRefusalsAreTheSameBothWays) {
  // Balance history of an account without the history flag.
  ExpectSameBothWaysTextAndJson({"account", "history", "1"}, kRejected);
}

TEST_F(CliServerTest, WritesPrintTheSameOutcomesAsOnTheDataDirectory) {
  ExpectSameBothWays({"account", "create", "--id", "4", "--ledger", "EUR", "--code", "10",
                      "--flags", "credits_must_not_exceed_debits", "--overdraft-limit", "1.00"},
                     kOk);
  ExpectSameBothWays(
      {"account", "create", "--id", "4", "--ledger", "EUR", "--code", "11", "--json"}, kRejected);
  ExpectSameBothWays({"transfer", "--id", "200", "--debit", "1", "--credit", "2", "--amount",
                      "0.01", "--ledger", "USD", "--code", "1"},
                     kOk);
  // Post part of pending 110 (the amount read in its asset, looked up), void 113, then
  // overdraw account 3 past its overdraft limit.
  ExpectSameBothWays({"transfer", "--id", "201", "--post", "110", "--amount", "2.00", "--json"},
                     kOk);
  ExpectSameBothWays({"transfer", "--id", "202", "--void", "113"}, kOk);
  ExpectSameBothWays({"transfer", "--id", "203", "--debit", "3", "--credit", "4", "--amount",
                      "9.00", "--ledger", "EUR", "--code", "1", "--json"},
                     kRejected);
  // Reading the records back: the same balances (times differ: each side stamped its own).
  const ProcessResult local = On({"account", "show", "1", "2", "3", "4", "--json"});
  const ProcessResult remote = Remote({"account", "show", "1", "2", "3", "4", "--json"});
  Expect(remote, kOk);
  bj::array local_accounts = bj::parse(local.out).at("accounts").as_array();
  bj::array remote_accounts = bj::parse(remote.out).at("accounts").as_array();
  ASSERT_EQ(remote_accounts.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    local_accounts[i].as_object().erase("timestamp");
    local_accounts[i].as_object().erase("time");
    remote_accounts[i].as_object().erase("timestamp");
    remote_accounts[i].as_object().erase("time");
  }
  EXPECT_EQ(bj::serialize(remote_accounts), bj::serialize(local_accounts));
}

TEST_F(CliServerTest, BatchFilesGiveTheSameOutcomesAndLinesBothWays) {
  const std::string file = Path("batch.jsonl");
  std::ofstream(file)
      << R"({"id":"400","debit_account_id":"1","credit_account_id":"2","amount":"1.00","ledger":"USD","code":1,"flags":["linked"]})"
      << "\n\n"
      << R"({"id":"401","debit_account_id":"2","credit_account_id":"9","amount":"1.00","ledger":"USD","code":1})"
      << "\n"
      << R"({"id":"402","pending_id":"110","amount":"4.00","flags":["post_pending_transfer"]})"
      << "\n";
  ExpectSameBothWays({"transfer", "--file", file, "--json"}, kRejected);
  const std::string accounts = Path("accounts.jsonl");
  std::ofstream(accounts) << R"({"id":"50","ledger":"EUR","code":1})"
                          << "\n"
                          << R"({"id":"51","ledger":1,"code":0})"
                          << "\n";
  ExpectSameBothWays({"account", "create", "--file", accounts}, kRejected);
}

TEST_F(CliServerTest, TheEnvironmentNamesTheServerAndTheKey) {
  setenv("TPWALLET_SERVER", url_.c_str(), 1);
  setenv("TPWALLET_API_KEY", admin_key_.c_str(), 1);
  // No --data-dir: the default ./tpwallet-data does not exist, so only the server can answer.
  const ProcessResult run = Tpwallet({"account", "show", "3"});
  // --server and --api-key on the command line win over the environment.
  const ProcessResult refused = Tpwallet({"account", "show", "3", "--api-key", "tpw_nope"});
  unsetenv("TPWALLET_SERVER");
  unsetenv("TPWALLET_API_KEY");
  Expect(run, kOk);
  EXPECT_TRUE(Contains(run.out, "EUR")) << run.out;
  Expect(refused, kAccess);
}

TEST_F(CliServerTest, AnUnknownKeyIsRefusedWithWhatToDo) {
  const std::string wrong = admin_key_.substr(0, admin_key_.size() - 4) + "AAAA";
  const ProcessResult run = Remote({"account", "show", "1"}, wrong);
  Expect(run, kAccess);
  EXPECT_TRUE(Contains(run.err, "invalid_api_key")) << run.err;
  EXPECT_TRUE(Contains(run.err, "TPWALLET_API_KEY")) << run.err;
  const ProcessResult missing = Tpwallet({"account", "show", "1", "--server", url_});
  Expect(missing, kAccess);
  EXPECT_TRUE(Contains(missing.err, "no API key was sent")) << missing.err;
  const bj::object error = ErrorOf(Remote({"transfer", "show", "100", "--json"}, wrong));
  EXPECT_EQ(error.at("kind").as_string(), "auth");
  EXPECT_EQ(error.at("code").as_string(), "invalid_api_key");
  EXPECT_EQ(error.at("exit_code").as_int64(), kAccess);
}

TEST_F(CliServerTest, AnAuditorKeyReadsButMayNotWrite) {
  Expect(Remote({"account", "show", "1"}, auditor_key_), kOk);
  const ProcessResult run = Remote({"transfer", "--id", "500", "--debit", "1", "--credit", "2",
                                    "--amount", "1", "--ledger", "USD", "--code", "1"},
                                   auditor_key_);
  Expect(run, kAccess);
  EXPECT_TRUE(Contains(run.err, "insufficient_scope")) << run.err;
  EXPECT_TRUE(Contains(run.err, "--scope merchant")) << run.err;
  Expect(Remote({"transfer", "show", "500"}), kNotFound);  // nothing was applied
}

TEST_F(CliServerTest, NoServerListeningIsAConnectionErrorThatChangesNothing) {
  std::string closed_url;
  {
    FakeServer closed(nullptr);
    closed_url = closed.url();
  }  // closed: nothing listens on that port now
  const ProcessResult run =
      Tpwallet({"transfer", "--id", "500", "--debit", "1", "--credit", "2", "--amount", "1",
                "--ledger", "USD", "--code", "1", "--server", closed_url, "--json"});
  Expect(run, kServer);
  EXPECT_TRUE(Contains(run.err, "cannot connect to " + closed_url)) << run.err;
  EXPECT_TRUE(Contains(run.err, "is `tpwallet serve` running there?")) << run.err;
  EXPECT_EQ(ErrorOf(run).at("code").as_string(), "connection_failed");
}

TEST_F(CliServerTest, AServerThatNeverAnswersTimesOutAndSaysHowToRetryTheWrite) {
  std::atomic<int> requests{0};
  FakeServer silent([&requests](int fd) {
    if (ReadRequest(fd).empty()) return;
    ++requests;
    char byte = 0;
    while (read(fd, &byte, 1) > 0) {
    }  // never answers; waits until the client gives up and closes
  });
  const ProcessResult run =
      Tpwallet({"transfer", "--id", "500", "--debit", "1", "--credit", "2", "--amount", "1",
                "--ledger", "USD", "--code", "1", "--server", silent.url(), "--server-timeout-ms",
                "150", "--idempotency-key", "retry-me"});
  Expect(run, kServer);
  EXPECT_TRUE(Contains(run.err, "no answer within 150 ms")) << run.err;
  EXPECT_TRUE(Contains(run.err, "--idempotency-key retry-me")) << run.err;
  EXPECT_EQ(requests.load(), 2);  // the first try and one retry
}

TEST_F(CliServerTest, ALostAnswerIsRetriedUnderTheSameKeyAndAppliedOnce) {
  // A proxy that forwards the first request but drops its answer, then forwards the rest.
  std::vector<std::string> keys;
  const uint16_t server_port = port_;
  FakeServer proxy([&keys, server_port](int fd) {
    for (;;) {
      const std::string request = ReadRequest(fd);
      if (request.empty()) return;
      keys.push_back(HeaderValue(request, "Idempotency-Key"));
      const std::string answer = Forward(server_port, request);
      if (keys.size() == 1) return;  // the answer is lost: the connection closes
      WriteAll(fd, answer);
      return;
    }
  });
  const ProcessResult run = Tpwallet({"transfer", "--id", "500", "--debit", "1", "--credit", "2",
                                      "--amount", "2.50", "--ledger", "USD", "--code", "1",
                                      "--server", proxy.url(), "--api-key", admin_key_, "--json"});
  Expect(run, kOk);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_FALSE(keys[0].empty());
  EXPECT_EQ(keys[1], keys[0]);
  // The replayed first answer: created, not the `exists` a second run of the transfer gives.
  const bj::value outcome = bj::parse(run.out);
  EXPECT_EQ(outcome.at("created").as_int64(), 1) << run.out;
  EXPECT_EQ(outcome.at("exists").as_int64(), 0) << run.out;
  // Applied once: account 1's debits grew by 2.50 only.
  const bj::value before = Json({"account", "show", "1"});
  const ProcessResult after = Remote({"account", "show", "1", "--json"});
  const auto debits = [](const bj::value& v) {
    return std::stoull(Str(v.at("accounts").as_array()[0], "debits_posted_minor"));
  };
  EXPECT_EQ(debits(bj::parse(after.out)), debits(before) + 250);
}

TEST_F(CliServerTest, AnswersThatAreNotTheApisAreErrorsNotData) {
  const std::vector<std::string> answers = {
      "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!",
      "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n{\"id\":\"1\"}",  // truncated
      "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"id\":\"1\"}x",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]",
      "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 20\r\n\r\n<html>proxy!</html>\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n{}",  // over the answer limit
      "garbage\r\n\r\n",
  };
  for (const std::string& answer : answers) {
    SCOPED_TRACE(answer);
    FakeServer fake([&answer](int fd) {
      if (!ReadRequest(fd).empty()) WriteAll(fd, answer);
    });
    const ProcessResult run =
        Tpwallet({"account", "show", "1", "--server", fake.url(), "--server-timeout-ms", "2000"});
    Expect(run, kServer);
    EXPECT_TRUE(run.out.empty()) << run.out;
    EXPECT_TRUE(Contains(run.err, "error: ")) << run.err;
  }
}

TEST_F(CliServerTest, ServerUrlsThatCannotBeUsedAreUsageErrors) {
  for (const char* url : {"https://127.0.0.1:8443", "127.0.0.1:8080", "http://", "http://host:0",
                          "http://host:99999", "http://h/v1"}) {
    SCOPED_TRACE(url);
    const ProcessResult run = Tpwallet({"account", "show", "1", "--server", url});
    Expect(run, kUsage);
  }
  const ProcessResult https = Tpwallet({"account", "show", "1", "--server", "https://a:1"});
  EXPECT_TRUE(Contains(https.err, "https is not supported")) << https.err;
  EXPECT_TRUE(Contains(https.err, "TLS-terminating proxy")) << https.err;
}

TEST_F(CliServerTest, CommandsWithoutAServerEndpointRefuseServer) {
  const std::string listing = test_support::DirectoryListing(data_);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"init"},
                                               {"snapshot"},
                                               {"journal", "verify"},
                                               {"apikey", "list"},
                                               {"issuer", "show"},
                                               {"device", "show", "1"},
                                               {"clearing", "exceptions"}}) {
    SCOPED_TRACE(args[0]);
    const ProcessResult run = On(Plus(args, {"--server", url_}));
    Expect(run, kUsage);
    EXPECT_TRUE(Contains(run.err, "works with: account create, account show")) << run.err;
  }
  // Commands with no --server option at all say the same instead of "not expected".
  const ProcessResult wallet = Tpwallet({"wallet", "show", "--server", url_});
  Expect(wallet, kUsage);
  EXPECT_TRUE(Contains(wallet.err, "works with: account create")) << wallet.err;
  // Set in the environment, it is refused too, rather than the directory used silently.
  setenv("TPWALLET_SERVER", url_.c_str(), 1);
  const ProcessResult init = Tpwallet({"init", "--data-dir", Path("fresh")});
  unsetenv("TPWALLET_SERVER");
  Expect(init, kUsage);
  EXPECT_TRUE(Contains(init.err, "unset $TPWALLET_SERVER")) << init.err;
  EXPECT_FALSE(std::filesystem::exists(Path("fresh")));
  EXPECT_EQ(test_support::DirectoryListing(data_), listing);
}


// ---- Online payments: the same commands both ways ----------------------------------------------

constexpr int kDeclined = cli::kExitDeclined;

// CliServerTest's data plus: a customer wallet (100, 50.00 USD), a merchant (200), customer 7, a
// coupon, an FX rate and account, the points program, and payments in three states (pay_1
// succeeded and refunded once, pay_2 held, pay_3 created).
class PaymentsCliTest : public CliServerTest {
 protected:
  void MoreLocalData() override {
    for (const char* id : {"100", "200", "400", "401"}) {
      Local({"account", "create", "--id", id, "--ledger", std::string(id) == "400" ? "PTS" : "USD",
             "--code", "10", "--flags", "debits_must_not_exceed_credits"});
    }
    Local({"transfer", "--id", "120", "--debit", "1", "--credit", "100", "--amount", "50.00",
           "--ledger", "USD", "--code", "1"});
    Local({"customers", "set", "7", "--source", "100:USD:balance:1"});
    Local({"coupons", "create", "TENOFF", "--percent-off-bps", "1000"});
    Local({"fx", "rates", "set", "--rate", "USD:EUR:0.92", "--source", "ecb", "--as-of",
           "2024-05-29T16:00:00Z"});
    Local({"fx", "account", "set", "EUR", "3"});
    Local({"points", "program", "set", "--points-asset", "PTS", "--money-asset", "USD",
           "--points-per-minor-unit", "10", "--sink", "400", "--funding", "401"});
    Local(Pay("10.00", {"--confirm", "--device", "5", "--metadata", "order=5"}));
    Local({"payments", "refund", "pay_1", "--amount", "2.50"});
    Local(Pay("4.00", {"--capture-method", "manual", "--confirm"}));
    Local(Pay("1.00"));
  }

  static std::vector<std::string> Pay(const std::string& amount, std::vector<std::string> more = {}) {
    return Plus({"payments", "create", "--amount", amount, "--asset", "USD", "--merchant", "200",
                 "--customer", "7"},
                more);
  }

  // The --json answer without the times a run stamps (created/updated/expiry differ by run).
  static bj::value WithoutTimes(bj::value v) {
    if (v.is_object()) {
      bj::object& o = v.as_object();
      for (const char* key : {"created", "created_time", "updated", "updated_time", "expires_at",
                              "expires_at_time", "transfer_ids"}) {
        o.erase(key);
      }
      for (auto& member : o) member.value() = WithoutTimes(member.value());
    } else if (v.is_array()) {
      for (bj::value& item : v.as_array()) item = WithoutTimes(item);
    }
    return v;
  }

  // Runs a write on the local copy and on the server: the same exit code and the same answer
  // but for the times.
  void ExpectSameWriteBothWays(const std::vector<std::string>& args, int expected_exit) {
    SCOPED_TRACE(testing::PrintToString(args));
    const ProcessResult local = On(Plus(args, {"--json"}));
    const ProcessResult remote = Remote(Plus(args, {"--json"}));
    EXPECT_EQ(local.exit_code, expected_exit) << local.out << local.err;
    EXPECT_EQ(remote.exit_code, local.exit_code) << remote.out << remote.err;
    bj::error_code ec;
    const bj::value l = bj::parse(local.out, ec);
    ASSERT_FALSE(ec) << local.out;
    const bj::value r = bj::parse(remote.out, ec);
    ASSERT_FALSE(ec) << remote.out;
    EXPECT_EQ(WithoutTimes(r), WithoutTimes(l));
  }
};

TEST_F(PaymentsCliTest, ReadsPrintTheSameBothWays) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"payments", "show", "pay_1"},
        {"payments", "show", "pay_1", "--refunds"},
        {"payments", "show", "pay_2"},
        {"payments", "list"},
        {"payments", "list", "--status", "requires_capture"},
        {"payments", "list", "--customer", "7", "--limit", "1", "--starting-after", "pay_1"},
        {"customers", "show", "7"},
        {"coupons", "show", "TENOFF"},
        {"coupons", "show", "TENOFF", "--merchant", "200"},  // its own code, else the platform's
        {"fx", "rates", "show"},
        {"points", "program", "show"}}) {
    ExpectSameBothWaysTextAndJson(args, kOk);
  }
}

TEST_F(PaymentsCliTest, WritesRunTheSameBothWays) {
  ExpectSameWriteBothWays({"payments", "capture", "pay_2", "--amount", "3.00"}, kOk);
  ExpectSameWriteBothWays({"payments", "refund", "pay_2", "--amount-minor", "100", "--reverse-splits"}, kOk);
  ExpectSameWriteBothWays({"payments", "cancel", "pay_3", "--reason", "duplicate"}, kOk);
  ExpectSameWriteBothWays(Pay("5.00", {"--coupon", "TENOFF", "--confirm", "--country", "FR"}), kOk);
  ExpectSameWriteBothWays({"fx", "quote", "USD", "EUR", "--ttl-seconds", "60"}, kOk);
  ExpectSameWriteBothWays({"customers", "set", "8", "--source", "100:USD", "--source", "2:USD:transit:0:transit+bus"}, kOk);
  ExpectSameWriteBothWays({"coupons", "create", "FIVE", "--amount-off", "5.00", "--asset", "USD", "--single-use"}, kOk);
  const bj::value shown = bj::parse(Remote({"payments", "show", "pay_2", "--json"}).out);
  EXPECT_EQ(Str(shown, "status"), "succeeded");
  EXPECT_EQ(Str(shown, "amount_refunded"), "1.00");
}

TEST_F(PaymentsCliTest, RefusalsExitTheSameBothWays) {
  ExpectSameBothWaysTextAndJson({"payments", "show", "pay_99"}, kNotFound);
  ExpectSameBothWaysTextAndJson({"payments", "capture", "pay_1"}, kRejected);  // already succeeded
  ExpectSameBothWaysTextAndJson({"payments", "cancel", "pay_1"}, kRejected);
  ExpectSameBothWaysTextAndJson(Pay("1.234"), kUsage);                         // 3 decimals
  ExpectSameBothWaysTextAndJson(Pay("-1"), kUsage);
  ExpectSameBothWaysTextAndJson({"payments", "show", "12"}, kUsage);           // not pay_N
  ExpectSameBothWaysTextAndJson({"payments", "list", "--limit", "0"}, kUsage);
  ExpectSameBothWaysTextAndJson({"coupons", "create", "TENOFF", "--percent-off-bps", "5"}, kRejected);
  ExpectSameBothWaysTextAndJson({"customers", "show", "99"}, kNotFound);
  // Not enough funds: a declined payment (the wallet holds 50.00 less what was paid).
  ExpectSameBothWaysTextAndJson(Pay("1000.00", {"--confirm"}), kDeclined);
  const ProcessResult bad_split = On(Pay("1.00", {"--split", "201"}));
  Expect(bad_split, kUsage);
  EXPECT_TRUE(Contains(bad_split.err, "ACCOUNT=AMOUNT")) << bad_split.err;
}

TEST_F(PaymentsCliTest, ServerOnlyRefusalsAreExplained) {
  // A path id cannot smuggle a path or a query into the request.
  const ProcessResult sneaky = Remote({"payments", "show", "pay_1/refunds?x=1"});
  Expect(sneaky, kUsage);
  const ProcessResult auditor = Remote(Pay("1.00"), auditor_key_);
  Expect(auditor, kAccess);
  EXPECT_TRUE(Contains(auditor.err, "scope")) << auditor.err;
  Expect(Remote({"payments", "show", "pay_1"}, auditor_key_), kOk);
  // The served directory is locked by the server: the local path says to use --server.
  const ProcessResult locked = Tpwallet({"payments", "list", "--data-dir", served_});
  EXPECT_EQ(locked.exit_code, cli::kExitDataDir) << locked.err;
  EXPECT_TRUE(Contains(locked.err, "--server")) << locked.err;
}

TEST_F(PaymentsCliTest, ARemoteCreateIsIdempotentUnderItsKey) {
  const std::vector<std::string> create = Plus(Pay("2.00", {"--confirm"}), {"--json", "--idempotency-key", "order-77"});
  const ProcessResult first = Remote(create);
  Expect(first, kOk);
  const ProcessResult again = Remote(create);
  Expect(again, kOk);
  EXPECT_EQ(again.out, first.out);  // the stored answer: one payment, not two
  const bj::value list = bj::parse(Remote({"payments", "list", "--limit", "100", "--json"}).out);
  EXPECT_EQ(list.at("data").as_array().size(), 4u);
}

TEST_F(PaymentsCliTest, EveryCommandHasHelpWithAnExample) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"payments", "create"}, {"payments", "confirm"},
        {"payments", "capture"}, {"payments", "cancel"}, {"payments", "refund"},
        {"payments", "show"}, {"payments", "list"}, {"customers", "set"}, {"customers", "show"},
        {"coupons", "create"}, {"coupons", "show"}, {"fx", "rates", "set"}, {"fx", "rates", "show"},
        {"fx", "quote"}, {"fx", "account", "set"}, {"points", "program", "set"},
        {"points", "program", "show"}}) {
    const ProcessResult help = Tpwallet(Plus(args, {"--help"}));
    EXPECT_EQ(help.exit_code, kOk) << testing::PrintToString(args);
    EXPECT_TRUE(Contains(help.out, "Example")) << testing::PrintToString(args) << help.out;
    EXPECT_TRUE(Contains(help.out, "--server")) << testing::PrintToString(args);
  }
}

}  // namespace
}  // namespace tpw
