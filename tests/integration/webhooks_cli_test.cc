// tpwallet webhooks … and tpwallet events … through the real binary against a real `tpwallet
// serve` child, delivering to a real receiver in the test: what each command prints, its exit
// codes, and the errors it reports (no server, a bad url, an unknown endpoint, a scope).
#include <signal.h>
#include <sys/wait.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "api/webhook_receiver.h"
#include "cli/commands.h"
#include "tpwallet_fixture.h"

namespace tpw {
namespace {

namespace bj = boost::json;
using test_support::ProcessResult;
using test_support::ReadAll;
using namespace std::chrono_literals;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class WebhooksCliTest : public test_support::TpwalletFixture {
 protected:
  void SetUp() override {
    unsetenv("TPWALLET_SERVER");
    unsetenv("TPWALLET_API_KEY");
    Expect(On({"init"}), cli::kExitOk);
    admin_key_ = Str(Json({"apikey", "create", "--scope", "admin", "--name", "admin"}), "key");
    auditor_key_ = Str(Json({"apikey", "create", "--scope", "auditor", "--name", "audit"}), "key");
    auto receiver = api::WebhookReceiver::Start(api::ReceiverOptions{});
    ASSERT_TRUE(receiver.ok()) << receiver.error();
    receiver_ = std::move(receiver).value();
    const std::string out = Path("serve.out");
    serve_ = test_support::SpawnToFiles({TPW_BINARY, "serve", "--data-dir", data_, "--listen",
                                         "127.0.0.1:0", "--threads", "1", "--json"},
                                        out, Path("serve.err"));
    ASSERT_GT(serve_, 0);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!Contains(ReadAll(out), "listening")) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << ReadAll(Path("serve.err"));
      std::this_thread::sleep_for(10ms);
    }
    url_ = Str(bj::parse(ReadAll(out)), "listening");
  }

  void TearDown() override {
    if (serve_ <= 0) return;
    kill(serve_, SIGTERM);
    int status = 0;
    waitpid(serve_, &status, 0);
  }

  ProcessResult Remote(std::vector<std::string> args, const std::string& key) {
    args.insert(args.end(), {"--server", url_, "--api-key", key});
    return Tpwallet(args);
  }
  ProcessResult Remote(const std::vector<std::string>& args) { return Remote(args, admin_key_); }
  bj::value RemoteJson(std::vector<std::string> args) {
    args.push_back("--json");
    const ProcessResult run = Remote(args);
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    return bj::parse(run.out);
  }

  std::string url_;
  std::string admin_key_;
  std::string auditor_key_;
  std::unique_ptr<api::WebhookReceiver> receiver_;
  pid_t serve_ = -1;
};

TEST_F(WebhooksCliTest, EndpointsAreManagedAndEventsFlowThroughTheCommands) {
  const ProcessResult created = Remote({"webhooks", "create", "--url", receiver_->url(), "--events",
                                        "test.*", "--description", "cli test"});
  Expect(created, cli::kExitOk);
  EXPECT_TRUE(Contains(created.out, "we_1")) << created.out;
  const size_t at = created.out.find("whsec_");
  ASSERT_NE(at, std::string::npos) << created.out;
  receiver_->SetSecret(created.out.substr(at, created.out.find('\n', at) - at));

  const ProcessResult listed = Remote({"webhooks", "list"});
  Expect(listed, cli::kExitOk);
  EXPECT_TRUE(Contains(listed.out, receiver_->url())) << listed.out;
  EXPECT_FALSE(Contains(listed.out, "whsec_"));
  EXPECT_EQ(Str(RemoteJson({"webhooks", "show", "we_1"}), "description"), "cli test");

  const ProcessResult test = Remote({"webhooks", "test", "--count", "3", "--type", "test.cli", "--data", R"({"x":1})"});
  Expect(test, cli::kExitOk);
  EXPECT_TRUE(Contains(test.out, "evt_1 .. evt_3")) << test.out;
  ASSERT_TRUE(receiver_->WaitFor([&] { return receiver_->delivered_distinct() == 3; }, 10s));
  for (const api::ReceivedWebhook& r : receiver_->Received()) EXPECT_TRUE(r.signature_ok);

  const ProcessResult events = Remote({"events", "list"}, auditor_key_);
  Expect(events, cli::kExitOk);
  EXPECT_TRUE(Contains(events.out, "evt_3  test.cli")) << events.out;
  EXPECT_TRUE(Contains(events.out, R"({"x":1})")) << events.out;
  const ProcessResult streamed = Remote({"events", "stream", "--after", "evt_0", "--max-events", "3", "--json"});
  Expect(streamed, cli::kExitOk);
  std::istringstream lines(streamed.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) EXPECT_EQ(Str(bj::parse(line), "id"), "evt_" + std::to_string(++n));
  EXPECT_EQ(n, 3);

  ASSERT_TRUE(receiver_->WaitFor([&] {
    return Contains(Remote({"webhooks", "deliveries", "we_1"}).out, "evt_3");
  }, 10s));
  Expect(Remote({"webhooks", "resend", "we_1", "--event", "evt_2"}), cli::kExitOk);
  ASSERT_TRUE(receiver_->WaitFor([&] { return receiver_->count() == 4; }, 10s));

  // A roll prints the new secret once; the receiver switched to it still verifies the next
  // delivery (signed with both secrets during the overlap).
  const ProcessResult rolled = Remote({"webhooks", "roll-secret", "we_1", "--previous-expires-in", "1h"});
  Expect(rolled, cli::kExitOk);
  EXPECT_TRUE(Contains(rolled.out, "the previous secret signs too until")) << rolled.out;
  const size_t new_at = rolled.out.find("whsec_");
  ASSERT_NE(new_at, std::string::npos) << rolled.out;
  receiver_->SetSecret(rolled.out.substr(new_at, rolled.out.find('\n', new_at) - new_at));
  Expect(Remote({"webhooks", "test", "--type", "test.cli"}), cli::kExitOk);
  ASSERT_TRUE(receiver_->WaitFor([&] { return receiver_->delivered_distinct() == 4; }, 10s));
  EXPECT_TRUE(receiver_->Received().back().signature_ok);
  const ProcessResult stopped = Remote({"webhooks", "roll-secret", "we_1", "--previous-expires-in", "0"});
  Expect(stopped, cli::kExitOk);
  EXPECT_TRUE(Contains(stopped.out, "the previous secret no longer signs")) << stopped.out;

  const ProcessResult updated = Remote({"webhooks", "update", "we_1", "--disable"});
  Expect(updated, cli::kExitOk);
  EXPECT_TRUE(Contains(updated.out, "disabled")) << updated.out;
  Expect(Remote({"webhooks", "delete", "we_1"}), cli::kExitOk);
  Expect(Remote({"webhooks", "show", "we_1"}), cli::kExitNotFound);
}

TEST_F(WebhooksCliTest, ErrorsSayWhatWentWrongWithTheirExitCodes) {
  const ProcessResult no_server = Tpwallet({"webhooks", "list"});
  Expect(no_server, cli::kExitUsage);
  EXPECT_TRUE(Contains(no_server.err, "--server")) << no_server.err;
  const ProcessResult https = Remote({"webhooks", "create", "--url", "https://example.com/"});
  Expect(https, cli::kExitUsage);
  EXPECT_TRUE(Contains(https.err, "plain HTTP")) << https.err;
  Expect(Remote({"webhooks", "show", "we_9"}), cli::kExitNotFound);
  Expect(Remote({"webhooks", "update", "we_9", "--enable"}), cli::kExitNotFound);
  Expect(Remote({"webhooks", "update", "we_1"}), cli::kExitUsage);  // nothing to update
  Expect(Remote({"webhooks", "roll-secret", "we_9"}), cli::kExitNotFound);
  Expect(Remote({"webhooks", "roll-secret", "we_1", "--previous-expires-in", "500ms"}), cli::kExitUsage);
  Expect(Remote({"webhooks", "roll-secret", "we_1", "--previous-expires-in", "8d"}), cli::kExitUsage);
  Expect(Remote({"webhooks", "test", "--data", "[1]"}), cli::kExitUsage);
  Expect(Remote({"webhooks", "list"}, auditor_key_), cli::kExitAccess);
  Expect(Remote({"events", "list", "--limit", "0"}), cli::kExitUsage);
  Expect(Remote({"events", "stream", "--type", "BAD", "--no-reconnect"}), cli::kExitUsage);
}

}  // namespace
}  // namespace tpw
