// `tpwallet serve` as a real child process on a real data directory, loaded by real HTTP
// clients:
//   - kill -9 in the middle of the load, restart, and every transfer that got a 2xx is there;
//   - SIGTERM in the middle of the load: the process exits 0, and again every 2xx is durable;
//   - kill -9 in the middle of terminal batch uploads (issuer key unlocked at start): every
//     batch that got a 2xx is cleared after the restart (uploading it again says `repeated`).
// Kill points are random (TPW_TEST_SEED=N reproduces a run's choices); nothing depends on how
// fast the machine is: the test waits for the server's own signals (its start line, exit).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/api_test_client.h"
#include "common/test_seed.h"
#include "crypto/base64.h"
#include "crypto/hash.h"
#include "storage/test_temp_dir.h"
#include "terminal/test_util.h"

extern char** environ;

namespace tpw::serve_test {
namespace {

using api::HttpResponse;
using api::testing::ErrorCode;
using api::testing::JsonOf;
using api::testing::TestClient;

constexpr int kClients = 4;

pid_t Spawn(const std::vector<std::string>& args, const std::string& stdout_path,
            const std::string& stderr_path = "") {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  if (!stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << args[0];
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return status;
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const pid_t init = Spawn({TPW_BINARY, "init", "--data-dir", dir_.path()}, Out("init"));
    const int status = WaitExit(init);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  std::string Out(const std::string& name) const { return dir_.path() + "/" + name + ".out"; }

  // Starts the server (with `extra` options) and waits for its start line; returns its port.
  uint16_t Start(const std::vector<std::string>& extra = {}, const std::string& stderr_path = "") {
    ++starts_;
    const std::string out = Out("serve" + std::to_string(starts_));
    std::vector<std::string> args = {TPW_BINARY,  "serve",    "--data-dir",
                                     dir_.path(), "--listen", "127.0.0.1:0",
                                     "--threads", "2",        "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = Spawn(args, out, stderr_path);
    while (true) {  // the child prints one JSON line once it listens
      std::ifstream in(out);
      std::string line;
      if (std::getline(in, line) && !in.eof()) {
        const boost::json::object start = boost::json::parse(line).as_object();
        // The first start makes the directory's first admin API key and shows it once.
        if (const auto* key = start.if_contains("admin_key")) admin_key_ = key->as_string().c_str();
        return static_cast<uint16_t>(start.at("port").as_int64());
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        ADD_FAILURE() << "serve exited before listening";
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  void CreateAccounts(uint16_t port) {
    TestClient client(port);
    client.UseKey(admin_key_);
    const HttpResponse r = client.Post(
        "/v1/accounts",
        R"({"accounts":[{"id":"1","ledger":"USD","code":1},{"id":"2","ledger":"USD","code":1}]})");
    ASSERT_EQ(r.result_int(), 200u);
  }

  // kClients clients call `step` (send one request, record it if acknowledged; returns whether
  // the connection stays open) until the server goes away or JoinLoad.
  void RunClients(uint16_t port, std::function<bool(TestClient&, int client)> step) {
    stop_load_ = false;
    for (int c = 0; c < kClients; ++c) {
      load_.emplace_back([this, port, c, step] {
        try {
          TestClient client(port);
          client.UseKey(admin_key_);
          while (!stop_load_ && step(client, c)) {
          }
        } catch (const std::exception&) {
          // the server was killed or stopped under us
        }
      });
    }
  }

  // A 2xx; anything but that or a 503 of a stopping server is a test failure.
  static bool Acknowledged(const HttpResponse& r, int client) {
    if (r.result_int() / 100 == 2) return true;
    if (r.result_int() != 503u)
      ADD_FAILURE() << client << ": " << r.result_int() << " " << r.body();
    return false;
  }

  // Clients post transfers until the server goes away; each 2xx id is recorded.
  void StartLoad(uint16_t port) {
    RunClients(port, [this](TestClient& client, int c) {
      const uint64_t id = next_id_.fetch_add(1);
      const std::string body =
          R"({"id":")" + std::to_string(id) +
          R"(","debit_account_id":"1","credit_account_id":"2","amount_minor":"1","ledger":"USD","code":1})";
      const HttpResponse r = client.Post("/v1/transfers", body);
      if (Acknowledged(r, c)) {
        std::lock_guard lock(mutex_);
        acknowledged_.push_back(id);
      }
      return r.keep_alive();
    });
  }

  void JoinLoad() {
    stop_load_ = true;
    for (std::thread& t : load_) t.join();
    load_.clear();
  }

  void ExpectEveryAcknowledgedTransfer(uint16_t port) {
    TestClient client(port);
    client.UseKey(admin_key_);
    std::lock_guard lock(mutex_);
    for (uint64_t id : acknowledged_) {
      const HttpResponse r = client.Get("/v1/transfers/" + std::to_string(id));
      ASSERT_EQ(r.result_int(), 200u) << "acknowledged transfer " << id << " is lost";
    }
    const auto account = JsonOf(client.Get("/v1/accounts/2"));
    EXPECT_GE(std::stoull(std::string(account.at("credits_posted_minor").as_string())),
              acknowledged_.size());
  }

  storage::TempDir dir_;
  pid_t pid_ = 0;
  int starts_ = 0;
  std::string admin_key_;  // from the first start line
  std::vector<std::thread> load_;
  std::atomic<bool> stop_load_{false};
  std::atomic<uint64_t> next_id_{1000};
  std::mutex mutex_;
  std::vector<uint64_t> acknowledged_;
};

TEST_F(ServeTest, KillNineMidLoadLosesNothingAcknowledged) {
  const uint64_t seed = test_support::TestSeed("ServeTest.KillNineMidLoadLosesNothingAcknowledged");
  std::mt19937_64 random(seed);
  SCOPED_TRACE("reproduce with TPW_TEST_SEED=" + std::to_string(seed));
  uint16_t port = Start();
  CreateAccounts(port);
  for (int round = 0; round < 3; ++round) {
    StartLoad(port);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 300));
    ASSERT_EQ(kill(pid_, SIGKILL), 0);
    const int status = WaitExit(pid_);
    EXPECT_TRUE(WIFSIGNALED(status));
    JoinLoad();
    port = Start();
    ExpectEveryAcknowledgedTransfer(port);
  }
  EXPECT_GT(acknowledged_.size(), 0u);
  kill(pid_, SIGTERM);
  WaitExit(pid_);
}

TEST_F(ServeTest, SigtermMidLoadExitsZeroWithEverythingAcknowledgedDurable) {
  uint16_t port = Start();
  CreateAccounts(port);
  StartLoad(port);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  const int status = WaitExit(pid_);
  JoinLoad();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  port = Start();
  ExpectEveryAcknowledgedTransfer(port);
  kill(pid_, SIGTERM);
  EXPECT_EQ(WEXITSTATUS(WaitExit(pid_)), 0);
}

TEST_F(ServeTest, TheFirstStartMakesOneAdminKeyAndEveryCallNeedsAKey) {
  uint16_t port = Start();
  ASSERT_EQ(admin_key_.size(), 64u);
  {
    TestClient anonymous(port);
    const HttpResponse refused = anonymous.Get("/v1/journal/head");
    EXPECT_EQ(refused.result_int(), 401u);
    EXPECT_EQ(ErrorCode(refused), "missing_api_key");
    EXPECT_EQ(anonymous.Get("/healthz").result_int(), 200u);  // probes need no key
    TestClient admin(port);
    admin.UseKey(admin_key_);
    EXPECT_EQ(admin.Get("/v1/journal/head").result_int(), 200u);
  }
  kill(pid_, SIGTERM);
  ASSERT_EQ(WEXITSTATUS(WaitExit(pid_)), 0);
  // Keys exist now: the second start makes none, and the first key still works.
  const std::string first_key = admin_key_;
  admin_key_.clear();
  port = Start();
  EXPECT_TRUE(admin_key_.empty());
  TestClient admin(port);
  admin.UseKey(first_key);
  EXPECT_EQ(admin.Get("/v1/journal/head").result_int(), 200u);
  kill(pid_, SIGTERM);
  EXPECT_EQ(WEXITSTATUS(WaitExit(pid_)), 0);
}

// ---- Risk rules: --risk-rules and SIGHUP --------------------------------------------------------

std::string RulesText(const std::string& version) {
  return "version = \"" + version +
         "\"\n[thresholds]\nstep_up = 10\nreview = 20\ndecline = 30\n[[rule]]\nname = \"big\"\n"
         "condition = \"amount > 100.00 EUR\"\nweight = 30\n";
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// Waits (bounded) until `path` holds `needle` `times` times: the server logged a reload.
bool WaitForLog(const std::string& path, const std::string& needle, int times) {
  for (int i = 0; i < 2000; ++i) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    int found = 0;
    for (size_t at = text.str().find(needle); at != std::string::npos;
         at = text.str().find(needle, at + 1)) {
      ++found;
    }
    if (found >= times) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST_F(ServeTest, RiskRulesLoadAtStartAndSighupReloadsGoodFilesOnly) {
  const std::string rules = dir_.path() + "/rules.toml";
  const std::string log = Out("serve-risk.err");
  WriteText(rules, RulesText("one"));
  const uint16_t port = Start({"--risk-rules", rules}, log);
  TestClient admin(port);
  admin.UseKey(admin_key_);
  const auto version = [&] {
    return std::string(JsonOf(admin.Get("/v1/risk/rules")).at("version").as_string());
  };
  EXPECT_EQ(version(), "one");

  WriteText(rules, RulesText("two"));
  ASSERT_EQ(kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(WaitForLog(log, "SIGHUP: risk rules", 1));
  EXPECT_EQ(version(), "two");

  WriteText(rules, "version = \"three\"\n[thresholds]\nstep_up = 1\n");  // no review/decline
  ASSERT_EQ(kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(WaitForLog(log, "the active risk rules (version two) stay", 1));
  EXPECT_EQ(version(), "two");
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find(rules + ":"), std::string::npos) << "errors are FILE:LINE:COL";
  const HttpResponse decided =
      admin.Post("/v1/risk/evaluate", R"({"amount":"500.00","asset":"EUR"})");
  EXPECT_EQ(JsonOf(decided).at("decision").as_string(), "decline");
  kill(pid_, SIGTERM);
  ASSERT_EQ(WEXITSTATUS(WaitExit(pid_)), 0);

  // A bad file at start stops the start: the server never runs without the rules it was given.
  const int starts = starts_ + 1;
  const pid_t bad = Spawn({TPW_BINARY, "serve", "--data-dir", dir_.path(), "--listen",
                           "127.0.0.1:0", "--risk-rules", rules},
                          Out("serve-bad" + std::to_string(starts)));
  const int status = WaitExit(bad);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

// ---- Offline uploads under kill -9 -------------------------------------------------------------

class ServeOfflineTest : public ServeTest {
 protected:
  void SetUp() override {
    ServeTest::SetUp();
    setenv("TPWALLET_TEST_FAST_KDF", "1", 1);  // Argon2id's minimum cost: a test keystore
    passphrase_file_ = dir_.path() + "/issuer-passphrase.txt";
    std::ofstream(passphrase_file_) << "issuer secret\n";
    const pid_t init = Spawn({TPW_BINARY, "issuer", "init", "--data-dir", dir_.path(), "--key-id",
                              "1", "--passphrase-file", passphrase_file_},
                             Out("issuer-init"));
    const int status = WaitExit(init);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  uint16_t StartWithIssuerKey() {
    return Start({"--issuer-key-id", "1", "--issuer-passphrase-file", passphrase_file_});
  }

  // Accounts, a terminal whose key the test holds, a device whose key the test holds.
  void Provision(uint16_t port) {
    TestClient admin(port);
    admin.UseKey(admin_key_);
    ASSERT_EQ(
        admin
            .Post("/v1/accounts",
                  R"({"accounts":[{"id":"1","ledger":"USD","code":1},)"
                  R"({"id":"2","ledger":"USD","code":1},{"id":"3","ledger":"USD","code":1}]})")
            .result_int(),
        200u);
    ASSERT_EQ(admin
                  .Post("/v1/transfers", R"({"id":"1","debit_account_id":"1","credit_account_id":)"
                                         R"("2","amount":"10000.00","ledger":"USD","code":1})")
                  .result_int(),
              201u);
    const HttpResponse terminal = admin.Post(
        "/v1/offline/terminals",
        R"({"terminal_id":"50","merchant_id":"60","settlement_account_id":"3","public_key":")" +
            crypto::ToHex(terminal_key_.public_key().bytes) + R"("})");
    ASSERT_EQ(terminal.result_int(), 201u) << terminal.body();
    const HttpResponse enrolled = admin.Post(
        "/v1/offline/devices",
        R"({"device_id":"7","public_key":")" + crypto::ToHex(device_.key.public_key().bytes) +
            R"(","user_account_id":"2","reserve_account_id":"10","ledger":"USD",)"
            R"("allowance":"10000.00","per_payment_max":"1.00","payments_max":1000000})");
    ASSERT_EQ(enrolled.result_int(), 201u) << enrolled.body();
    auto cert = crypto::Base64UrlDecode(JsonOf(enrolled).at("certificate").as_string().c_str(),
                                        offline::kCertificateBytes);
    ASSERT_TRUE(cert.ok());
    device_.certificate = offline::DecodeCertificate(cert.value()).value();
    next_counter_ = device_.certificate.counter_first;
  }

  // A batch of one fresh 1-cent token of the device at terminal 50.
  std::vector<uint8_t> NextBatch() {
    std::lock_guard lock(mutex_);
    offline::PaymentRequest request;
    request.asset = 1;
    request.merchant_id = 60;
    request.terminal_id = 50;
    request.amount = Amount::FromMinor(1);
    crypto::RandomBytes(request.nonce);
    request.terminal_time = device_.certificate.valid_from + 1;
    device_.next_counter = next_counter_++;
    offline::TerminalBatch batch;
    batch.terminal_id = 50;
    crypto::RandomBytes(batch.batch_id);
    batch.created = request.terminal_time;
    batch.tokens.push_back(offline::DecodeToken(device_.Sign(device_.Draft(request))).value());
    std::vector<uint8_t> bytes = offline::Encode(batch);
    batch.signature = crypto::Sign(terminal_key_, offline::kBatchDomain,
                                   offline::SignedPart(bytes, offline::MessageType::terminal_batch))
                          .bytes;
    return offline::Encode(batch);
  }

  static HttpResponse Upload(TestClient& client, const std::vector<uint8_t>& batch) {
    return client.Send(api::http::verb::post, "/v1/offline/batches",
                       std::string_view(reinterpret_cast<const char*>(batch.data()), batch.size()),
                       "application/octet-stream");
  }

  // Terminals upload batches until the server goes away; each 2xx batch is recorded.
  void StartUploads(uint16_t port) {
    RunClients(port, [this](TestClient& client, int c) {
      const std::vector<uint8_t> batch = NextBatch();
      const HttpResponse r = Upload(client, batch);
      if (Acknowledged(r, c)) {
        std::lock_guard lock(mutex_);
        uploaded_.push_back(batch);
      }
      return r.keep_alive();
    });
  }

  std::string passphrase_file_;
  crypto::SecretKey terminal_key_ = crypto::GenerateSigningKey();
  terminal::testing::TestDevice device_{7, crypto::GenerateSigningKey(), {}, 0, {}};
  uint64_t next_counter_ = 0;  // guarded by mutex_
  std::vector<std::vector<uint8_t>> uploaded_;
};

TEST_F(ServeOfflineTest, KillNineMidUploadsLosesNoAcknowledgedBatch) {
  const uint64_t seed =
      test_support::TestSeed("ServeOfflineTest.KillNineMidUploadsLosesNoAcknowledgedBatch");
  std::mt19937_64 random(seed);
  SCOPED_TRACE("reproduce with TPW_TEST_SEED=" + std::to_string(seed));
  uint16_t port = StartWithIssuerKey();
  Provision(port);
  StartUploads(port);
  std::this_thread::sleep_for(std::chrono::milliseconds(100 + random() % 300));
  ASSERT_EQ(kill(pid_, SIGKILL), 0);
  EXPECT_TRUE(WIFSIGNALED(WaitExit(pid_)));
  JoinLoad();
  port = StartWithIssuerKey();
  TestClient client(port);
  client.UseKey(admin_key_);
  std::lock_guard lock(mutex_);
  ASSERT_GT(uploaded_.size(), 0u);
  for (const std::vector<uint8_t>& batch : uploaded_) {
    const HttpResponse again = Upload(client, batch);
    ASSERT_EQ(again.result_int(), 200u) << again.body();
    const boost::json::value out = JsonOf(again);
    EXPECT_TRUE(out.at("repeated").as_bool()) << "an acknowledged upload was lost";
    EXPECT_EQ(out.at("tokens").at(0).at("classification").as_string(), "cleared");
  }
  const auto device = JsonOf(client.Get("/v1/offline/devices/7"));
  EXPECT_GE(
      std::stoull(std::string(device.at("current_certificate").at("cleared_count").as_string())),
      uploaded_.size());
  kill(pid_, SIGTERM);
  WaitExit(pid_);
}

}  // namespace
}  // namespace tpw::serve_test
