// `tpwallet apikey create | list | revoke` end to end: each test runs the real binary
// (TPW_BINARY) as a child process on a fresh data directory, so every command after the first
// reads the keys back from the journal of a new process. Checks the key text's shape, that the
// secret is printed once and stored nowhere, the JSON, and every error with its exit code.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "access/access.h"
#include "tpwallet_fixture.h"
#include "crypto/hash.h"
#include "storage/test_temp_dir.h"

namespace tpw {
namespace {

namespace bj = boost::json;
using test_support::DirectoryListing;
using test_support::ProcessResult;
using test_support::ReadAll;

// Exit codes of docs/cli.md.
constexpr int kOk = 0;
constexpr int kRejected = 1;
constexpr int kUsage = 2;
constexpr int kNotFound = 3;
constexpr int kDataDir = 4;

// How long `tpwallet serve` may take to start listening before the test gives up.
constexpr auto kServeStartMax = std::chrono::seconds(20);

const std::regex kKeyTextForm("tpw_[0-9a-f]{16}_[A-Za-z0-9_-]{43}");

// Every file of a directory, concatenated: to look for a secret anywhere on disk.
std::string AllFileBytes(const std::string& dir) {
  std::string out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) out += ReadAll(entry.path().string());
  }
  return out;
}

class ApiKeyCliTest : public test_support::TpwalletFixture {
 protected:
  void Init() { Expect(On({"init"}), kOk); }

  // Creates a key with --json and returns the output object.
  bj::value Create(const std::string& scope, const std::string& name,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"apikey", "create", "--scope", scope, "--name", name};
    args.insert(args.end(), extra.begin(), extra.end());
    return Json(args);
  }

  bj::array List() { return Json({"apikey", "list"}).at("keys").as_array(); }

  // Runs `args`, expects `exit_code` and `message` on stderr, and checks the data directory did
  // not change.
  void ExpectRefusedChangingNothing(const std::vector<std::string>& args, int exit_code,
                                    const std::string& message) {
    const std::string before = DirectoryListing(data_);
    const ProcessResult run = On(args);
    EXPECT_EQ(run.exit_code, exit_code) << run.out << run.err;
    EXPECT_NE(run.err.find(message), std::string::npos) << "stderr: " << run.err;
    EXPECT_EQ(DirectoryListing(data_), before);
  }

};

// ---- create / list / revoke -----------------------------------------------------------------

TEST_F(ApiKeyCliTest, CreateListRevokeRoundTripInText) {
  Init();
  const ProcessResult created =
      On({"apikey", "create", "--scope", "merchant", "--name", "shop 12", "--rate", "500"});
  Expect(created, kOk);
  EXPECT_NE(created.out.find("cannot be shown again"), std::string::npos) << created.out;
  EXPECT_NE(created.out.find("merchant"), std::string::npos);
  EXPECT_NE(created.out.find("shop 12"), std::string::npos);
  EXPECT_NE(created.out.find("500 requests/s"), std::string::npos);
  std::smatch key;
  ASSERT_TRUE(std::regex_search(created.out, key, kKeyTextForm)) << created.out;
  const std::string id = key.str().substr(4, 16);
  EXPECT_NE(created.out.find("id:       " + id), std::string::npos) << created.out;
  // The key text is the last line, alone, so a script can take it with `tail -n 1`.
  EXPECT_TRUE(created.out.ends_with("\n" + key.str() + "\n")) << created.out;

  const ProcessResult listed = On({"apikey", "list"});
  Expect(listed, kOk);
  EXPECT_NE(listed.out.find(id), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("shop 12"), std::string::npos);
  EXPECT_NE(listed.out.find("500/s"), std::string::npos);
  EXPECT_NE(listed.out.find("active"), std::string::npos);
  EXPECT_NE(listed.out.find("1 API key\n"), std::string::npos);
  EXPECT_EQ(listed.out.find(key.str().substr(21)), std::string::npos) << "secret printed";

  const ProcessResult revoked = On({"apikey", "revoke", id});
  Expect(revoked, kOk);
  EXPECT_NE(revoked.out.find("revoked at 20"), std::string::npos) << revoked.out;
  const ProcessResult after = On({"apikey", "list"});
  Expect(after, kOk);
  EXPECT_NE(after.out.find("revoked 20"), std::string::npos) << after.out;
  EXPECT_EQ(after.out.find("active"), std::string::npos) << after.out;
}

TEST_F(ApiKeyCliTest, AnEmptyListSaysHowToMakeAKey) {
  Init();
  const ProcessResult listed = On({"apikey", "list"});
  Expect(listed, kOk);
  EXPECT_NE(listed.out.find("no API keys"), std::string::npos) << listed.out;
  EXPECT_TRUE(List().empty());
}

TEST_F(ApiKeyCliTest, CreateJsonHasTheKeyTextWhoseIdIsTheKeyId) {
  Init();
  const bj::value created = Create("merchant", "shop 12", {"--rate", "500"});
  const std::string text = Str(created, "key");
  EXPECT_EQ(text.size(), access::kKeyTextBytes);
  EXPECT_TRUE(std::regex_match(text, kKeyTextForm)) << text;
  EXPECT_EQ(Str(created, "id"), text.substr(4, 16));
  EXPECT_EQ(Str(created, "scope"), "merchant");
  EXPECT_EQ(Str(created, "name"), "shop 12");
  EXPECT_EQ(created.at("rate_per_second").as_int64(), 500);
  EXPECT_TRUE(std::regex_match(Str(created, "created"), std::regex("[1-9][0-9]{12}")));
  EXPECT_TRUE(std::regex_match(Str(created, "created_time"),
                               std::regex("20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z")));
  EXPECT_TRUE(access::ParseKeyText(text).has_value());
}

TEST_F(ApiKeyCliTest, ListJsonDescribesEveryKeyWithoutSecrets) {
  Init();
  const bj::value shop = Create("merchant", "shop 12", {"--rate", "500"});
  const bj::value audit = Create("auditor", "quarterly audit");
  Expect(On({"apikey", "revoke", Str(audit, "id")}), kOk);

  const bj::array keys = List();
  ASSERT_EQ(keys.size(), 2u);
  for (const bj::value& key : keys) {
    const bool is_shop = Str(key, "id") == Str(shop, "id");
    EXPECT_EQ(Str(key, "scope"), is_shop ? "merchant" : "auditor");
    EXPECT_EQ(Str(key, "name"), is_shop ? "shop 12" : "quarterly audit");
    EXPECT_EQ(key.at("rate_per_second").as_int64(), is_shop ? 500 : 0);
    EXPECT_EQ(key.at("revoked").as_bool(), !is_shop);
    EXPECT_EQ(key.at("revoked_at").is_null(), is_shop);
    EXPECT_EQ(key.at("revoked_at_time").is_null(), is_shop);
    EXPECT_FALSE(key.as_object().contains("key"));
    EXPECT_FALSE(key.as_object().contains("secret_hash"));
  }
}

TEST_F(ApiKeyCliTest, TheSecretIsPrintedOnceAndStoredNowhereNorItsHashPrinted) {
  Init();
  const std::string text = Str(Create("admin", "ops"), "key");
  const std::optional<access::KeyText> key = access::ParseKeyText(text);
  ASSERT_TRUE(key.has_value());
  const std::string secret_part = text.substr(21);
  const std::string raw_secret(key->secret.begin(), key->secret.end());
  const std::string hash_hex = crypto::HashToHex(access::SecretHash(key->secret));

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"apikey", "list"},
        std::vector<std::string>{"apikey", "list", "--json"}}) {
    const ProcessResult listed = On(args);
    Expect(listed, kOk);
    EXPECT_EQ(listed.out.find(secret_part), std::string::npos);
    EXPECT_EQ(listed.out.find(hash_hex), std::string::npos);
  }
  const std::string on_disk = AllFileBytes(data_);
  EXPECT_EQ(on_disk.find(secret_part), std::string::npos);
  EXPECT_EQ(on_disk.find(raw_secret), std::string::npos);
}

TEST_F(ApiKeyCliTest, EveryScopeCanBeCreatedAndKeysAreDistinct) {
  Init();
  std::vector<std::string> ids;
  for (const char* scope : {"admin", "merchant", "terminal", "device", "auditor"}) {
    const bj::value created = Create(scope, std::string("key for ") + scope);
    EXPECT_EQ(Str(created, "scope"), scope);
    ids.push_back(Str(created, "id"));
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
  const bj::array keys = List();
  ASSERT_EQ(keys.size(), 5u);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(Str(keys[i], "id"), ids[i]);  // by id
}

TEST_F(ApiKeyCliTest, RevokeTakesTheWholeKeyText) {
  Init();
  const bj::value created = Create("terminal", "lane 3");
  const bj::value revoked = Json({"apikey", "revoke", Str(created, "key")});
  EXPECT_EQ(Str(revoked, "id"), Str(created, "id"));
  EXPECT_TRUE(revoked.at("revoked").as_bool());
  EXPECT_TRUE(std::regex_match(Str(revoked, "revoked_at"), std::regex("[1-9][0-9]{12}")));
  EXPECT_FALSE(revoked.as_object().contains("key"));
}

TEST_F(ApiKeyCliTest, KeysAndRevocationsSurviveARestartAndASnapshot) {
  Init();
  const bj::value kept = Create("merchant", "kept");
  const bj::value gone = Create("device", "gone");
  Expect(On({"apikey", "revoke", Str(gone, "id")}), kOk);
  const bj::array before = List();  // a new process: read back from the journal
  Expect(On({"snapshot"}), kOk);
  const bj::array after = List();  // another new process: from the snapshot
  EXPECT_EQ(before, after);
  ASSERT_EQ(after.size(), 2u);
  for (const bj::value& key : after) {
    EXPECT_EQ(key.at("revoked").as_bool(), Str(key, "id") == Str(gone, "id"));
    if (Str(key, "id") == Str(kept, "id")) {
      EXPECT_EQ(Str(key, "created"), Str(kept, "created"));
    }
  }
  Expect(On({"journal", "verify"}), kOk);
}

// ---- errors ---------------------------------------------------------------------------------

TEST_F(ApiKeyCliTest, BadCreateValuesAreUsageErrorsAndChangeNothing) {
  Init();
  const std::string name_max(100, 'n');
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--scope", "root", "--name", "x"}, "is not a scope; use one of admin, merchant"},
      {{"--scope", "Merchant", "--name", "x"}, "is not a scope"},
      {{"--scope", "", "--name", "x"}, "is not a scope"},
      {{"--scope", "merchant", "--name", ""}, "--name is empty"},
      {{"--scope", "merchant", "--name", name_max + "n"}, "--name is 101 bytes; at most 100"},
      {{"--scope", "merchant", "--name", "shop\n12"}, "control character"},
      {{"--scope", "merchant", "--name", "shop\x1b[31m"}, "control character"},
      {{"--scope", "merchant", "--name", "caf\xc3"}, "not valid UTF-8"},
      {{"--scope", "merchant", "--name", "\xc0\xaf"}, "not valid UTF-8"},      // overlong
      {{"--scope", "merchant", "--name", "\xed\xa0\x80"}, "not valid UTF-8"},  // surrogate
      {{"--scope", "merchant", "--name", "x", "--rate", "abc"}, "--rate"},
      {{"--scope", "merchant", "--name", "x", "--rate", "-1"}, "--rate"},
      {{"--scope", "merchant", "--name", "x", "--rate", "1e3"}, "--rate"},
      {{"--scope", "merchant", "--name", "x", "--rate", "1000001"}, "--rate"},
      {{"--name", "x"}, "--scope is required"},
      {{"--scope", "merchant"}, "--name is required"},
  };
  for (const auto& [options, message] : cases) {
    std::vector<std::string> args = {"apikey", "create"};
    args.insert(args.end(), options.begin(), options.end());
    SCOPED_TRACE(options.back());
    ExpectRefusedChangingNothing(args, kUsage, message);
  }
  EXPECT_TRUE(List().empty());
  const bj::value error = Json({"apikey", "create", "--scope", "root", "--name", "x"}, kUsage);
  EXPECT_EQ(Str(error.at("error"), "code"), "invalid_input");
  EXPECT_EQ(error.at("error").at("exit_code").as_int64(), kUsage);
}

// ---- merchant bindings ------------------------------------------------------------------------

TEST_F(ApiKeyCliTest, MerchantBindingsShowInCreateAndListAndUnboundKeysAreWarnedAbout) {
  Init();
  for (const char* id : {"200", "201"}) {
    Expect(On({"account", "create", "--id", id, "--ledger", "USD", "--code", "20"}), kOk);
  }
  const bj::value bound = Create("merchant", "shop", {"--merchant", "201", "--merchant", "200"});
  const bj::array ids = bound.at("merchant_account_ids").as_array();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].as_string(), "200");  // stored ascending
  EXPECT_EQ(ids[1].as_string(), "201");

  const ProcessResult text = On({"apikey", "create", "--scope", "merchant", "--name", "one",
                                 "--merchant", "200,201"});
  Expect(text, kOk);
  EXPECT_NE(text.out.find("merchants: 200,201"), std::string::npos) << text.out;
  EXPECT_EQ(text.err.find("warning"), std::string::npos) << text.err;

  const ProcessResult unbound = On({"apikey", "create", "--scope", "merchant", "--name", "all"});
  Expect(unbound, kOk);
  EXPECT_NE(unbound.err.find("warning: this merchant key is not bound"), std::string::npos)
      << unbound.err;
  EXPECT_NE(unbound.out.find("merchants: all"), std::string::npos) << unbound.out;
  std::smatch key;
  ASSERT_TRUE(std::regex_search(unbound.out, key, kKeyTextForm));
  EXPECT_TRUE(unbound.out.ends_with("\n" + key.str() + "\n")) << "the key is still the last line";
  EXPECT_EQ(On({"apikey", "create", "--scope", "auditor", "--name", "a"}).err.find("warning"),
            std::string::npos);

  const ProcessResult listed = On({"apikey", "list"});
  Expect(listed, kOk);
  EXPECT_NE(listed.out.find("merchants"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("200,201"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(" all "), std::string::npos) << listed.out;
  std::vector<std::string> bindings;
  for (const bj::value& k : List()) bindings.push_back(bj::serialize(k.at("merchant_account_ids")));
  std::sort(bindings.begin(), bindings.end());
  EXPECT_EQ(bindings, (std::vector<std::string>{"\"all\"", "[\"200\",\"201\"]",
                                                "[\"200\",\"201\"]", "null"}));
}

TEST_F(ApiKeyCliTest, BadMerchantBindingsAreUsageErrorsAndChangeNothing) {
  Init();
  Expect(On({"account", "create", "--id", "200", "--ledger", "USD", "--code", "20"}), kOk);
  std::string many;
  for (int i = 1; i <= 65; ++i) many += (i == 1 ? "" : ",") + std::to_string(i);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--merchant", "999"}, "--merchant 999 is not an account in this data directory"},
      {{"--merchant", "200", "--merchant", "999"}, "999"},
      {{"--merchant", "abc"}, "--merchant[0]"},
      {{"--merchant", "200,"}, "--merchant[1]"},
      {{"--merchant", ""}, "--merchant[0]"},
      {{"--merchant", "0"}, "account ids are never 0"},
      {{"--merchant", "200,0xc8"}, "twice"},
      {{"--merchant", many}, "at most 64"},
  };
  for (const auto& [extra, message] : cases) {
    std::vector<std::string> args = {"apikey", "create", "--scope", "merchant", "--name", "x"};
    args.insert(args.end(), extra.begin(), extra.end());
    ExpectRefusedChangingNothing(args, kUsage, message);
  }
  ExpectRefusedChangingNothing(
      {"apikey", "create", "--scope", "admin", "--name", "x", "--merchant", "200"}, kUsage,
      "only merchant keys are bound to merchant accounts");
  EXPECT_TRUE(List().empty());
}

TEST_F(ApiKeyCliTest, NamesUpToTheLimitAndInUtf8AreAccepted) {
  Init();
  const std::string name_max(100, 'n');
  EXPECT_EQ(Str(Create("merchant", name_max), "name"), name_max);
  EXPECT_EQ(Str(Create("merchant", "café Zürich 🛒"), "name"), "café Zürich 🛒");
  EXPECT_EQ(Str(Create("merchant", "x", {"--rate", "1000000"}), "name"), "x");
}

TEST_F(ApiKeyCliTest, BadRevokeArgumentsAreUsageErrors) {
  Init();
  const std::string id = Str(Create("merchant", "shop"), "id");
  std::string upper = id;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) {
    return c >= 'a' && c <= 'f' ? static_cast<char>(c - 'a' + 'A') : c;
  });
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"abc", "is not an API key id"},
      {id + "0", "is not an API key id"},
      {"0x" + id.substr(2), "is not an API key id"},
      {"zzzzzzzzzzzzzzzz", "is not an API key id"},
      {"0000000000000000", "ids are never 0"},
      {"tpw_" + id, "the key text is malformed"},
      {"tpw_" + id + "_" + std::string(42, 'A'), "the key text is malformed"},
  };
  for (const auto& [argument, message] : cases) {
    SCOPED_TRACE(argument);
    ExpectRefusedChangingNothing({"apikey", "revoke", argument}, kUsage, message);
  }
  if (upper != id) ExpectRefusedChangingNothing({"apikey", "revoke", upper}, kUsage, "lowercase");
  ExpectRefusedChangingNothing({"apikey", "revoke"}, kUsage, "ID is required");
  EXPECT_FALSE(List().at(0).at("revoked").as_bool());
}

TEST_F(ApiKeyCliTest, RevokingAnUnknownKeyIsNotFound) {
  Init();
  Create("merchant", "shop");
  ExpectRefusedChangingNothing({"apikey", "revoke", "0123456789abcdef"}, kNotFound,
                               "no API key 0123456789abcdef");
  const bj::value error = Json({"apikey", "revoke", "0123456789abcdef"}, kNotFound);
  EXPECT_EQ(Str(error.at("error"), "code"), "unknown_key");
  EXPECT_EQ(error.at("error").at("exit_code").as_int64(), kNotFound);
  // A well-formed key text for an id that was never stored: not found as well.
  const std::string text = "tpw_0123456789abcdef_" + std::string(42, 'A') + "A";
  ExpectRefusedChangingNothing({"apikey", "revoke", text}, kNotFound, "no API key");
}

TEST_F(ApiKeyCliTest, RevokingTwiceIsRefusedWithTheFirstRevocationTime) {
  Init();
  const std::string id = Str(Create("merchant", "shop"), "id");
  const bj::value first = Json({"apikey", "revoke", id});
  ExpectRefusedChangingNothing({"apikey", "revoke", id}, kRejected,
                               "was already revoked at " + Str(first, "revoked_at_time"));
  const bj::value error = Json({"apikey", "revoke", id}, kRejected);
  EXPECT_EQ(Str(error.at("error"), "code"), "already_revoked");
  EXPECT_EQ(Str(List().at(0), "revoked_at"), Str(first, "revoked_at"));
}

TEST_F(ApiKeyCliTest, AMissingOrUninitializedDirectoryIsRefused) {
  const ProcessResult missing = On({"apikey", "list"});
  Expect(missing, kDataDir);
  EXPECT_NE(missing.err.find("tpwallet init"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(data_));
  std::filesystem::create_directory(data_);
  ExpectRefusedChangingNothing({"apikey", "create", "--scope", "admin", "--name", "x"}, kDataDir,
                               "not_initialized");
  ExpectRefusedChangingNothing({"apikey", "revoke", "0123456789abcdef"}, kDataDir,
                               "not_initialized");
}

TEST_F(ApiKeyCliTest, WhileServeRunsTheCommandsAreLockedAndSayToStopTheServer) {
  Init();
  const std::string id = Str(Create("merchant", "shop"), "id");
  const std::string serve_out = Path("serve.out");
  const pid_t serve = test_support::SpawnToFiles(
      {TPW_BINARY, "serve", "--data-dir", data_, "--listen", "127.0.0.1:0", "--threads", "1",
       "--json"},
      serve_out, Path("serve.err"));
  ASSERT_GT(serve, 0);
  const auto deadline = std::chrono::steady_clock::now() + kServeStartMax;
  while (ReadAll(serve_out).find("listening") == std::string::npos) {
    int status = 0;
    ASSERT_NE(waitpid(serve, &status, WNOHANG), serve)
        << "serve exited: " << ReadAll(Path("serve.err"));
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "serve did not start";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"apikey", "list"},
        std::vector<std::string>{"apikey", "create", "--scope", "admin", "--name", "x"},
        std::vector<std::string>{"apikey", "revoke", id}}) {
    SCOPED_TRACE(args[1]);
    const ProcessResult run = On(args);
    Expect(run, kDataDir);
    EXPECT_NE(run.err.find("locked"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("stop it"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("HTTP API"), std::string::npos) << run.err;
  }
  const bj::value error = Json({"apikey", "list"}, kDataDir);
  EXPECT_EQ(Str(error.at("error"), "code"), "locked");
  ASSERT_EQ(kill(serve, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(serve, &status, 0), serve);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Nothing was changed while the server held the directory.
  const bj::array keys = List();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_FALSE(keys.at(0).at("revoked").as_bool());
}

TEST_F(ApiKeyCliTest, EveryCommandHasHelpWithAnExample) {
  for (const char* command : {"create", "list", "revoke"}) {
    const ProcessResult help = Tpwallet({"apikey", command, "--help"});
    Expect(help, kOk);
    EXPECT_NE(help.out.find("Example: tpwallet apikey " + std::string(command)), std::string::npos)
        << help.out;
  }
  const ProcessResult group = Tpwallet({"apikey"});
  Expect(group, kUsage);
}

}  // namespace
}  // namespace tpw
