// The offline-payment, API-key and metrics endpoints end to end: a real engine with an issuer
// key on a temp data directory, the real server with API keys and scopes on a random loopback
// port, a real HTTP client. The wallet and the terminal are the real libraries (tpw_wallet,
// tpw_terminal) on their own directories; clones and replays are played with real keys and the
// real codecs (terminal/test_util.h).
#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <string>

#include "api/access_control.h"
#include "api/api_test_client.h"
#include "api/offline_body.h"
#include "api/server_fixture.h"
#include "cli/offline_values.h"
#include "common/clock.h"
#include "crypto/base64.h"
#include "crypto/secure.h"
#include "terminal/terminal.h"
#include "terminal/test_util.h"
#include "wallet/wallet.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
using access::Scope;
using testing::ErrorCode;
using testing::JsonOf;
using testing::TestClient;

constexpr uint32_t kUsd = 1;
constexpr u128 kTerminal = 50;
constexpr u128 kMerchant = 60;
constexpr std::string_view kOctet = "application/octet-stream";

uint64_t NowMs() { return SystemClock().Now().ns / 1'000'000; }

std::string Text(const bj::value& v, std::string_view key) {
  return std::string(v.at(key).as_string());
}

std::vector<uint8_t> FromBase64(std::string_view text) {
  auto bytes = crypto::Base64UrlDecode(text, 1u << 24);
  EXPECT_TRUE(bytes.ok()) << text;
  return bytes.ok() ? bytes.value() : std::vector<uint8_t>{};
}

std::string_view AsText(const std::vector<uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A batch from a terminal whose key the test holds (a raw terminal, to replay tokens).
std::vector<uint8_t> SignedBatch(const crypto::SecretKey& key, u128 terminal,
                                 const std::vector<std::vector<uint8_t>>& tokens) {
  offline::TerminalBatch batch;
  batch.terminal_id = terminal;
  crypto::RandomBytes(batch.batch_id);
  batch.created = NowMs();
  for (const auto& bytes : tokens) batch.tokens.push_back(offline::DecodeToken(bytes).value());
  std::vector<uint8_t> encoded = offline::Encode(batch);
  batch.signature = crypto::Sign(key, offline::kBatchDomain,
                                 offline::SignedPart(encoded, offline::MessageType::terminal_batch))
                        .bytes;
  return offline::Encode(batch);
}

// A payment request as terminal `terminal` of `merchant` would issue it now.
offline::PaymentRequest RequestAt(u128 terminal, u128 merchant, u128 amount) {
  offline::PaymentRequest r;
  r.asset = kUsd;
  r.merchant_id = merchant;
  r.terminal_id = terminal;
  r.amount = Amount::FromMinor(amount);
  crypto::RandomBytes(r.nonce);
  r.terminal_time = NowMs();
  return r;
}

class OfflineApiTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    issuer_ = std::make_shared<crypto::SecretKey>(crypto::GenerateSigningKey());
    engine_options_.issuer_key = issuer_;
    engine_options_.issuer_key_id = 1;
    Start();
    // What `tpwallet issuer init` does: register the public key the engine signs with.
    engine::OfflineCommand add;
    add.kind = engine::OfflineCommandKind::add_issuer_key;
    add.issuer_key_id = 1;
    add.public_key = issuer_->public_key().bytes;
    ASSERT_EQ(engine_->ExecuteOffline(add).error, engine::OfflineError::ok);
    admin_ = std::make_unique<TestClient>(port());
    admin_->UseKey(MakeKey(Scope::admin));
    CreateAccounts();
  }

  void Start() {
    StartServer(ServerOptions{}, [&](engine::Engine& engine, ServerOptions& options) {
      access_ = std::make_unique<AccessControl>(engine, AccessOptions{});
      options.hooks = access_->Hooks();
    });
  }

  std::string MakeKey(Scope scope) { return testing::MakeApiKey(*engine_, scope); }

  std::unique_ptr<TestClient> ClientWith(Scope scope) {
    auto client = std::make_unique<TestClient>(port());
    client->UseKey(MakeKey(scope));
    return client;
  }

  // 100 user (funded with 1000.00), 200 merchant settlement, 300 guarantee fund, 400 funder.
  void CreateAccounts() {
    const HttpResponse r = admin_->Post(
        "/v1/accounts",
        R"({"accounts":[{"id":"100","ledger":"USD","code":1,"flags":["debits_must_not_exceed_credits"]},)"
        R"({"id":"200","ledger":"USD","code":1},{"id":"300","ledger":"USD","code":1},)"
        R"({"id":"400","ledger":"USD","code":1}]})");
    ASSERT_EQ(r.result_int(), 200u) << r.body();
    const HttpResponse fund = admin_->Post(
        "/v1/transfers/batch",
        R"({"transfers":[{"id":"1","debit_account_id":"400","credit_account_id":"100","amount":"1000.00","ledger":"USD","code":1},)"
        R"({"id":"2","debit_account_id":"400","credit_account_id":"300","amount":"1000.00","ledger":"USD","code":1}]})");
    ASSERT_EQ(fund.result_int(), 200u) << fund.body();
  }

  static std::string EnrollBody(u128 device, const offline::Bytes32& key, u128 reserve) {
    return R"({"device_id":")" + FormatId(device) + R"(","public_key":")" + crypto::ToHex(key) +
           R"(","user_account_id":"100","reserve_account_id":")" + FormatId(reserve) +
           R"(","ledger":"USD","allowance":"100.00","per_payment_max":"20.00","payments_max":10})";
  }

  // Enrolls over HTTP; returns the certificate's bytes.
  std::vector<uint8_t> Enroll(u128 device, const offline::Bytes32& key, u128 reserve) {
    const HttpResponse r = admin_->Post("/v1/offline/devices", EnrollBody(device, key, reserve));
    EXPECT_EQ(r.result_int(), 201u) << r.body();
    if (r.result_int() != 201u) return {};
    const bj::value out = JsonOf(r);
    EXPECT_EQ(Text(out, "reserve_balance"), "100.00");
    EXPECT_EQ(Text(out, "funded"), "100.00");
    return FromBase64(Text(out, "certificate"));
  }

  // A device whose key the test holds (to play a clone), enrolled over HTTP.
  terminal::testing::TestDevice EnrolledDevice(u128 id, u128 reserve) {
    terminal::testing::TestDevice d{id, crypto::GenerateSigningKey(), {}, 0, {}};
    auto cert = offline::DecodeCertificate(Enroll(id, d.key.public_key().bytes, reserve));
    EXPECT_TRUE(cert.ok());
    if (cert.ok()) d.certificate = cert.value();
    d.next_counter = d.certificate.counter_first;
    return d;
  }

  // A terminal whose key the test holds, a device enrolled for it, and a signed batch holding
  // one token of `amount` minor units.
  struct OneTokenBatch {
    crypto::SecretKey terminal_key = crypto::GenerateSigningKey();
    std::vector<uint8_t> token;
    std::vector<uint8_t> batch;
  };
  OneTokenBatch MakeOneTokenBatch(u128 terminal, u128 merchant, u128 device_id, u128 reserve,
                                  u128 amount) {
    OneTokenBatch out;
    RegisterTerminal(terminal, merchant, out.terminal_key.public_key().bytes);
    terminal::testing::TestDevice device = EnrolledDevice(device_id, reserve);
    out.token = device.Sign(device.Draft(RequestAt(terminal, merchant, amount)));
    out.batch = SignedBatch(out.terminal_key, terminal, {out.token});
    return out;
  }

  void RegisterTerminal(u128 terminal, u128 merchant, const offline::Bytes32& key) {
    const HttpResponse r = admin_->Post(
        "/v1/offline/terminals",
        R"({"terminal_id":")" + FormatId(terminal) + R"(","merchant_id":")" + FormatId(merchant) +
            R"(","settlement_account_id":"200","public_key":")" + cli::Base64Url(key) + R"("})");
    ASSERT_EQ(r.result_int(), 201u) << r.body();
    EXPECT_TRUE(JsonOf(r).at("active").as_bool());
  }

  HttpResponse UploadBinary(TestClient& client, const std::vector<uint8_t>& batch) {
    return client.Send(http::verb::post, "/v1/offline/batches", AsText(batch), kOctet);
  }
  HttpResponse UploadJson(TestClient& client, const std::vector<uint8_t>& batch) {
    return client.Post("/v1/offline/batches", R"({"batch":")" + cli::Base64Url(batch) + R"("})");
  }

  std::vector<uint8_t> DenyListBytes(TestClient& client, std::string_view target) {
    client.SetHeader("Accept", std::string(kOctet));
    const HttpResponse r = client.Get(target);
    client.SetHeader("Accept", "");
    EXPECT_EQ(r.result_int(), 200u) << r.body();
    EXPECT_EQ(r[http::field::content_type], kOctet);
    return {r.body().begin(), r.body().end()};
  }

  static std::string Classification(const HttpResponse& r, size_t token) {
    return Text(JsonOf(r).at("tokens").as_array().at(token), "classification");
  }

  std::shared_ptr<crypto::SecretKey> issuer_;
  std::unique_ptr<AccessControl> access_;
  std::unique_ptr<TestClient> admin_;
};

// A library (wallet or terminal) on a directory of its own, as real deployments have them.
template <typename Library>
struct LibraryDir {
  storage::TempDir dir;
  std::unique_ptr<storage::PosixStorage> storage =
      std::move(storage::PosixStorage::Open(dir.path(), false)).value();
  std::unique_ptr<Library> lib;
};

struct WalletDir : LibraryDir<wallet::Wallet> {
  explicit WalletDir(const crypto::SecretKey& issuer) {
    wallet::CreateOptions options;
    options.kdf = crypto::kKdfFastInsecureForTests;
    options.issuer = wallet::IssuerKey{1, issuer.public_key()};
    auto created = wallet::Wallet::Create(*storage, terminal::testing::TestPassphrase(), options);
    TPW_ASSERT(created.ok());
    lib = std::move(created).value();
  }
};

struct TerminalDir : LibraryDir<terminal::Terminal> {
  explicit TerminalDir(const crypto::SecretKey& issuer) {
    terminal::TerminalIdentity identity{terminal::TerminalId(kTerminal),
                                        terminal::MerchantId(kMerchant),
                                        {{1, issuer.public_key()}}};
    auto created = terminal::Terminal::Create(
        *storage, identity, terminal::testing::TestPassphrase(), terminal::testing::FastOptions());
    TPW_ASSERT(created.ok());
    lib = std::move(created).value();
  }

  // One payment of `amount` minor units from `w`, accepted, in a batch of its own.
  std::vector<uint8_t> PayAndBatch(wallet::Wallet& w, u128 amount) {
    const uint64_t now = NowMs();
    auto request = lib->NewRequest(Amount::FromMinor(amount), kUsd, now);
    EXPECT_TRUE(request.ok());
    auto payment = w.Pay(request.value().bytes, wallet::PayOptions{}, now);
    EXPECT_TRUE(payment.ok()) << payment.error().Message();
    const terminal::AcceptResult accepted = lib->Accept(payment.value().token, now);
    EXPECT_TRUE(accepted.accepted()) << accepted.Message();
    auto batches = lib->BuildBatches(now);
    EXPECT_TRUE(batches.ok() && batches.value().size() == 1);
    return batches.value().at(0).bytes;
  }
};

// ---- The whole flow ---------------------------------------------------------------------------

TEST_F(OfflineApiTest, WalletPaysTerminalAndUploadsClearOverHttp) {
  WalletDir w(*issuer_);
  TerminalDir t(*issuer_);
  auto terminal_client = ClientWith(Scope::terminal);
  auto device_client = ClientWith(Scope::device);

  // Issuer key, as a terminal pins it.
  const HttpResponse keys = terminal_client->Get("/v1/offline/issuer-keys");
  ASSERT_EQ(keys.result_int(), 200u) << keys.body();
  EXPECT_EQ(Text(JsonOf(keys).at("issuer_keys").as_array().at(0), "public_key"),
            crypto::ToHex(issuer_->public_key().bytes));

  const std::vector<uint8_t> cert =
      Enroll(w.lib->device_id(), w.lib->device_public_key().bytes, 900);
  ASSERT_TRUE(w.lib->InstallCertificate(cert).ok());
  RegisterTerminal(kTerminal, kMerchant, t.lib->public_key().bytes);
  auto installed =
      t.lib->InstallDenyList(DenyListBytes(*terminal_client, "/v1/offline/deny-list"), NowMs());
  ASSERT_TRUE(installed.ok()) << installed.error().Message();

  const std::vector<uint8_t> first = t.PayAndBatch(*w.lib, 1250);
  const std::vector<uint8_t> second = t.PayAndBatch(*w.lib, 750);
  const HttpResponse binary = UploadBinary(*terminal_client, first);
  ASSERT_EQ(binary.result_int(), 200u) << binary.body();
  EXPECT_EQ(Classification(binary, 0), "cleared");
  EXPECT_FALSE(JsonOf(binary).at("repeated").as_bool());
  const HttpResponse json = UploadJson(*terminal_client, second);
  ASSERT_EQ(json.result_int(), 200u) << json.body();
  EXPECT_EQ(Classification(json, 0), "cleared");
  EXPECT_EQ(Text(JsonOf(json).at("totals"), "cleared_amount"), "7.50");

  // The terminal lost the acknowledgement and uploads again: same outcome, nothing paid twice.
  const HttpResponse again = UploadBinary(*terminal_client, first);
  ASSERT_EQ(again.result_int(), 200u) << again.body();
  EXPECT_TRUE(JsonOf(again).at("repeated").as_bool());
  EXPECT_EQ(Classification(again, 0), "cleared");
  EXPECT_EQ(Text(JsonOf(admin_->Get("/v1/accounts/200")), "credits_posted"), "20.00");

  const HttpResponse device = admin_->Get("/v1/offline/devices/" + FormatId(w.lib->device_id()));
  ASSERT_EQ(device.result_int(), 200u) << device.body();
  EXPECT_EQ(Text(JsonOf(device), "reserve_balance"), "80.00");
  EXPECT_EQ(Text(JsonOf(device).at("current_certificate"), "cleared_count"), "2");

  // Online sync: the device's signed declaration in, a new certificate out.
  auto sync = w.lib->MakeSyncRequest(std::nullopt);
  ASSERT_TRUE(sync.ok());
  const HttpResponse synced = device_client->Post(
      "/v1/offline/devices/" + FormatId(w.lib->device_id()) + "/sync",
      R"({"request":")" + cli::Base64Url(sync.value().Encode()) +
          R"(","allowance":"50.00","cvm_threshold":"12.00"})");
  ASSERT_EQ(synced.result_int(), 200u) << synced.body();
  EXPECT_EQ(Text(JsonOf(synced), "reserve_balance"), "50.00");
  EXPECT_EQ(Text(JsonOf(synced).at("certificate_fields"), "cvm_threshold"), "12.00");
  auto statement = w.lib->InstallSyncStatement(FromBase64(Text(JsonOf(synced), "sync_statement")));
  ASSERT_TRUE(statement.ok()) << statement.error().Message();

  // "none" removes the PIN threshold: the next certificate asks for no PIN at any amount.
  sync = w.lib->MakeSyncRequest(std::nullopt);
  ASSERT_TRUE(sync.ok());
  const HttpResponse no_pin = device_client->Post(
      "/v1/offline/devices/" + FormatId(w.lib->device_id()) + "/sync",
      R"({"request":")" + cli::Base64Url(sync.value().Encode()) + R"(","cvm_threshold":"none"})");
  ASSERT_EQ(no_pin.result_int(), 200u) << no_pin.body();
  EXPECT_TRUE(JsonOf(no_pin).at("certificate_fields").at("cvm_threshold").is_null()) << no_pin.body();
}

TEST_F(OfflineApiTest, ReplayIsDuplicateAndACloneIsCaughtListedAndResolved) {
  terminal::testing::TestDevice clone = EnrolledDevice(7, 901);
  const crypto::SecretKey shop_a = crypto::GenerateSigningKey();
  const crypto::SecretKey shop_b = crypto::GenerateSigningKey();
  RegisterTerminal(51, 61, shop_a.public_key().bytes);
  RegisterTerminal(52, 62, shop_b.public_key().bytes);
  auto terminal_client = ClientWith(Scope::terminal);

  const std::vector<uint8_t> token = clone.Sign(clone.Draft(RequestAt(51, 61, 500)));
  ASSERT_EQ(Classification(UploadBinary(*terminal_client, SignedBatch(shop_a, 51, {token})), 0),
            "cleared");
  // The same token in a new batch: a replay.
  EXPECT_EQ(Classification(UploadJson(*terminal_client, SignedBatch(shop_a, 51, {token})), 0),
            "duplicate");
  // The clone pays another merchant with the same counter.
  clone.next_counter = clone.certificate.counter_first;
  const std::vector<uint8_t> twin = clone.Sign(clone.Draft(RequestAt(52, 62, 900)));
  const HttpResponse caught = UploadBinary(*terminal_client, SignedBatch(shop_b, 52, {twin}));
  ASSERT_EQ(caught.result_int(), 200u) << caught.body();
  EXPECT_EQ(Classification(caught, 0), "double_spend");

  // The device is revoked and on the next deny list (full and delta).
  const HttpResponse list = terminal_client->Get("/v1/offline/deny-list");
  ASSERT_EQ(list.result_int(), 200u) << list.body();
  EXPECT_EQ(JsonOf(list).at("device_ids").as_array().at(0).as_string(), "7");
  const HttpResponse delta = terminal_client->Get("/v1/offline/deny-list?since=0");
  EXPECT_EQ(Text(JsonOf(delta), "kind"), "full");
  const uint64_t version = std::stoull(Text(JsonOf(list), "list_version"));
  const HttpResponse empty_delta =
      terminal_client->Get("/v1/offline/deny-list?since=" + std::to_string(version));
  ASSERT_EQ(empty_delta.result_int(), 200u) << empty_delta.body();
  EXPECT_EQ(Text(JsonOf(empty_delta), "kind"), "delta");
  EXPECT_TRUE(JsonOf(empty_delta).at("device_ids").as_array().empty());
  EXPECT_TRUE(JsonOf(admin_->Get("/v1/offline/devices/7")).at("revoked").as_bool());

  // The exceptions queue: filtered, paged, resolved.
  auto auditor = ClientWith(Scope::auditor);
  const HttpResponse open = auditor->Get("/v1/offline/exceptions?classification=double_spend");
  ASSERT_EQ(open.result_int(), 200u) << open.body();
  const bj::value open_json = JsonOf(open);
  const bj::array& items = open_json.at("exceptions").as_array();
  ASSERT_EQ(items.size(), 1u) << open.body();
  const std::string id = Text(items.at(0), "id");
  EXPECT_EQ(Text(items.at(0), "conflicting_token_id"), crypto::ToHex(crypto::Blake2b256(token)));
  EXPECT_EQ(
      JsonOf(auditor->Get("/v1/offline/exceptions?device_id=8")).at("exceptions").as_array().size(),
      0u);
  const HttpResponse page = auditor->Get("/v1/offline/exceptions?status=all&limit=1");
  EXPECT_EQ(Text(JsonOf(page), "next_cursor"),
            Text(JsonOf(page).at("exceptions").as_array().at(0), "id"));
  EXPECT_EQ(
      auditor->Post("/v1/offline/exceptions/" + id + "/resolve", R"({"resolution":"rejected"})")
          .result_int(),
      403u);
  const HttpResponse resolved =
      admin_->Post("/v1/offline/exceptions/" + id + "/resolve",
                   R"({"resolution":"paid_from_guarantee","guarantee_account_id":"300"})");
  ASSERT_EQ(resolved.result_int(), 200u) << resolved.body();
  EXPECT_EQ(Text(JsonOf(resolved).at("exception"), "status"), "paid_from_guarantee");
  EXPECT_TRUE(JsonOf(auditor->Get("/v1/offline/exceptions")).at("exceptions").as_array().empty());
  EXPECT_EQ(ErrorCode(admin_->Post("/v1/offline/exceptions/" + id + "/resolve",
                                   R"({"resolution":"rejected"})")),
            "unknown_exception");
}

// ---- Registry actions and their errors -----------------------------------------------------

TEST_F(OfflineApiTest, RegistryActionsAnswerTheirConflictsAndUnknownIds) {
  const crypto::SecretKey device = crypto::GenerateSigningKey();
  Enroll(9, device.public_key().bytes, 902);
  EXPECT_EQ(
      ErrorCode(admin_->Post("/v1/offline/devices", EnrollBody(9, device.public_key().bytes, 903))),
      "device_exists");
  // An enrollment retried under its Idempotency-Key gets the first 201 back, not device_exists.
  admin_->SetHeader("Idempotency-Key", "enroll-16");
  const std::string enroll16 = EnrollBody(16, device.public_key().bytes, 910);
  const HttpResponse first = admin_->Post("/v1/offline/devices", enroll16);
  const HttpResponse retried = admin_->Post("/v1/offline/devices", enroll16);
  admin_->SetHeader("Idempotency-Key", "");
  ASSERT_EQ(first.result_int(), 201u) << first.body();
  EXPECT_EQ(retried.result_int(), 201u);
  EXPECT_EQ(retried.body(), first.body());
  EXPECT_EQ(retried["Idempotent-Replayed"], "true");
  EXPECT_EQ(admin_->Get("/v1/offline/devices/404").result_int(), 404u);
  EXPECT_EQ(ErrorCode(admin_->Get("/v1/offline/devices/404")), "unknown_device");
  EXPECT_EQ(admin_->Send(http::verb::post, "/v1/offline/devices/9/revoke", "", "").result_int(),
            200u);
  EXPECT_EQ(admin_->Post("/v1/offline/devices/9/revoke", "{}").result_int(), 409u);
  EXPECT_EQ(admin_->Post("/v1/offline/devices/404/revoke", "{}").result_int(), 404u);
  const HttpResponse with_body = admin_->Post("/v1/offline/devices/9/revoke", R"({"why":"lost"})");
  EXPECT_EQ(ErrorCode(with_body), "invalid_body");
  EXPECT_NE(with_body.body().find("takes no parameters"), std::string::npos) << with_body.body();

  RegisterTerminal(53, 63, crypto::GenerateSigningKey().public_key().bytes);
  EXPECT_EQ(admin_->Post("/v1/offline/terminals/53/deactivate", "{}").result_int(), 200u);
  EXPECT_EQ(admin_->Post("/v1/offline/terminals/404/deactivate", "{}").result_int(), 404u);
  EXPECT_EQ(
      ErrorCode(admin_->Post(
          "/v1/offline/terminals",
          R"({"terminal_id":"0","merchant_id":"1","settlement_account_id":"200","public_key":"00"})")),
      "invalid_body");
  // Enrollment the ledger cannot fund.
  const HttpResponse broke = admin_->Post(
      "/v1/offline/devices",
      R"({"device_id":"10","public_key":")" + crypto::ToHex(device.public_key().bytes) +
          R"(","user_account_id":"100","reserve_account_id":"904","ledger":"USD","allowance":"5000.00","per_payment_max":"20.00","payments_max":10})");
  EXPECT_EQ(broke.result_int(), 422u) << broke.body();
  EXPECT_EQ(ErrorCode(broke), "funding_failed");
}

// Enrollment may leave per_payment_max and payments_max to the risk rules' [offline] section;
// without one the refusal says what to do.
TEST_F(OfflineApiTest, EnrollmentTakesOmittedLimitsFromTheRiskRules) {
  const offline::Bytes32 key = crypto::GenerateSigningKey().public_key().bytes;
  std::string body = EnrollBody(21, key, 921);
  for (const std::string field : {R"(,"per_payment_max":"20.00")", R"(,"payments_max":10)"}) {
    body.erase(body.find(field), field.size());
  }
  const HttpResponse refused = admin_->Post("/v1/offline/devices", body);
  EXPECT_EQ(refused.result_int(), 422u) << refused.body();
  EXPECT_EQ(ErrorCode(refused), "invalid_limits");
  EXPECT_NE(refused.body().find("[offline]"), std::string::npos) << refused.body();

  const std::string rules =
      "version = \"limits\"\n[thresholds]\nstep_up = 1\nreview = 1\ndecline = 1\n"
      "[offline]\nasset = \"USD\"\nper_payment_max = \"7.50\"\npayment_count_max = 4\n";
  const HttpResponse put =
      admin_->Send(http::verb::put, "/v1/risk/rules", rules, "application/toml");
  ASSERT_EQ(put.result_int(), 200u) << put.body();
  const HttpResponse enrolled = admin_->Post("/v1/offline/devices", body);
  ASSERT_EQ(enrolled.result_int(), 201u) << enrolled.body();
  auto cert = offline::DecodeCertificate(FromBase64(Text(JsonOf(enrolled), "certificate")));
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(cert.value().per_payment_max, Amount::FromMinor(750));
  EXPECT_EQ(cert.value().payment_count_max, 4u);
}

TEST_F(OfflineApiTest, MalformedOfflineBodiesAre400NamingTheField) {
  const auto code_and_param = [&](std::string_view target, std::string_view body) {
    const HttpResponse r = admin_->Post(target, body);
    EXPECT_EQ(r.result_int(), 400u) << target << " " << body << " " << r.body();
    const bj::value json = JsonOf(r);
    const bj::value& error = json.at("error");
    return ErrorCode(r) + "/" + (error.at("param").is_null() ? "" : Text(error, "param"));
  };
  const offline::Bytes32 key{};
  std::string enroll = EnrollBody(11, key, 905);
  const std::string count = "\"payments_max\":10";
  EXPECT_EQ(code_and_param("/v1/offline/devices",
                           enroll.replace(enroll.find(count), count.size(), count + ".5")),
            "invalid_body/payments_max");
  EXPECT_EQ(code_and_param("/v1/offline/devices", R"({"device_id":"11"})"),
            "invalid_body/public_key");
  EXPECT_EQ(code_and_param("/v1/offline/devices", R"({"device_id":"11","extra":1})"),
            "invalid_body/extra");
  EXPECT_EQ(code_and_param("/v1/offline/devices", R"([1,2])"), "invalid_body/");
  EXPECT_EQ(code_and_param("/v1/offline/devices", R"({"device_id":)"), "malformed_json/");
  EXPECT_EQ(code_and_param("/v1/offline/devices/7/sync", R"({"request":"AA=="})"),
            "invalid_body/request");
  EXPECT_EQ(code_and_param("/v1/offline/devices/7/sync", R"({"request":"AAAA"})"),
            "invalid_body/request");
  EXPECT_EQ(code_and_param("/v1/offline/exceptions/1/resolve", R"({"resolution":"maybe"})"),
            "invalid_body/resolution");
  EXPECT_EQ(code_and_param("/v1/offline/exceptions/x/resolve", R"({"resolution":"rejected"})"),
            "invalid_parameter/id");
  EXPECT_EQ(ErrorCode(admin_->Get("/v1/offline/exceptions?limit=0")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(admin_->Get("/v1/offline/exceptions?status=closed")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(admin_->Get("/v1/offline/deny-list?since=-1")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(admin_->Get("/v1/offline/deny-list?version=1")), "invalid_parameter");
}

// ---- Batch uploads: hostile input ----------------------------------------------------------

TEST_F(OfflineApiTest, BadBatchUploadsAreRefusedWithTheirReason) {
  const OneTokenBatch made = MakeOneTokenBatch(54, 64, 12, 906, 100);
  const crypto::SecretKey& shop = made.terminal_key;
  const std::vector<uint8_t>& token = made.token;
  const std::vector<uint8_t>& batch = made.batch;
  auto terminal_client = ClientWith(Scope::terminal);

  const std::vector<uint8_t> truncated(batch.begin(), batch.end() - 1);
  HttpResponse r = UploadBinary(*terminal_client, truncated);
  EXPECT_EQ(r.result_int(), 400u) << r.body();
  EXPECT_EQ(ErrorCode(r), "malformed");
  r = UploadBinary(*terminal_client, std::vector<uint8_t>(600, 0x42));
  EXPECT_EQ(r.result_int(), 400u) << r.body();
  r = UploadBinary(*terminal_client, {});
  EXPECT_EQ(r.result_int(), 400u) << r.body();
  std::vector<uint8_t> forged = batch;
  forged.back() ^= 1;  // the terminal's signature
  EXPECT_EQ(ErrorCode(UploadBinary(*terminal_client, forged)), "bad_batch_signature");
  r = UploadJson(*terminal_client, SignedBatch(shop, 55, {token}));
  EXPECT_EQ(r.result_int(), 422u);
  EXPECT_EQ(ErrorCode(r), "unknown_terminal");
  // Not base64url, and base64url of garbage.
  r = terminal_client->Post("/v1/offline/batches", R"({"batch":"AAAA+/=="})");
  EXPECT_EQ(ErrorCode(r), "invalid_body");
  EXPECT_EQ(JsonOf(r).at("error").at("param").as_string(), "batch");
  EXPECT_EQ(UploadJson(*terminal_client, {1, 2, 3}).result_int(), 400u);
  EXPECT_EQ(ErrorCode(terminal_client->Post("/v1/offline/batches", R"({"batch":7})")),
            "invalid_body");
  // Larger than any batch, yet under the body limit; then over the body limit.
  r = UploadBinary(*terminal_client, std::vector<uint8_t>(kBatchMessageBytesMax + 1, 4));
  EXPECT_EQ(r.result_int(), 413u) << r.body();
  EXPECT_EQ(ErrorCode(r), "message_too_large");
  r = UploadJson(*terminal_client, std::vector<uint8_t>(kBatchMessageBytesMax + 3, 4));
  EXPECT_EQ(r.result_int(), 413u);
  // Over --body-bytes-max (8 MiB): refused from the header, before any body byte is read.
  TestClient big(port());
  big.Write(
      "POST /v1/offline/batches HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/octet-stream\r\nContent-Length: 9437184\r\n\r\n");
  r = big.Read();
  EXPECT_EQ(r.result_int(), 413u);
  EXPECT_EQ(ErrorCode(r), "body_too_large");
  // Wrong content type.
  r = terminal_client->Send(http::verb::post, "/v1/offline/batches", AsText(batch), "text/plain");
  EXPECT_EQ(r.result_int(), 415u);
  EXPECT_NE(JsonOf(r).at("error").at("message").as_string().find("octet-stream"),
            std::string::npos);
  EXPECT_EQ(admin_->Send(http::verb::post, "/v1/offline/devices", "{}", kOctet).result_int(), 415u);
  // The honest batch still clears after all that.
  EXPECT_EQ(Classification(UploadBinary(*terminal_client, batch), 0), "cleared");
}

TEST_F(OfflineApiTest, AnUploadWithAnIdempotencyKeyIsReplayedNotReclassified) {
  const OneTokenBatch made = MakeOneTokenBatch(56, 66, 13, 907, 300);
  const std::vector<uint8_t>& batch = made.batch;
  auto client = ClientWith(Scope::terminal);
  client->SetHeader("Idempotency-Key", "upload-1");
  const HttpResponse first = UploadBinary(*client, batch);
  ASSERT_EQ(first.result_int(), 200u) << first.body();
  const HttpResponse second = UploadBinary(*client, batch);
  EXPECT_EQ(second.body(), first.body());
  EXPECT_EQ(second["Idempotent-Replayed"], "true");
  const HttpResponse other =
      UploadBinary(*client, SignedBatch(made.terminal_key, 56, {made.token}));
  EXPECT_EQ(other.result_int(), 422u);
  EXPECT_EQ(ErrorCode(other), "idempotency_key_reused");
  // Without the key, the batch id still makes the upload idempotent.
  client->SetHeader("Idempotency-Key", "");
  EXPECT_TRUE(JsonOf(UploadBinary(*client, batch)).at("repeated").as_bool());
}

// ---- Scopes ---------------------------------------------------------------------------------

TEST_F(OfflineApiTest, EachScopeReachesOnlyItsOfflineEndpoints) {
  TestClient anonymous(port());
  EXPECT_EQ(anonymous.Get("/v1/offline/issuer-keys").result_int(), 401u);
  EXPECT_EQ(anonymous.Send(http::verb::post, "/v1/offline/batches", "x", kOctet).result_int(),
            401u);

  const std::string enroll = EnrollBody(14, crypto::GenerateSigningKey().public_key().bytes, 908);
  for (const Scope scope : {Scope::merchant, Scope::terminal, Scope::device, Scope::auditor}) {
    auto client = ClientWith(scope);
    const std::string name(access::ScopeName(scope));
    EXPECT_EQ(client->Get("/v1/offline/issuer-keys").result_int(), 200u) << name;
    EXPECT_EQ(client->Get("/v1/offline/deny-list").result_int(), 200u) << name;
    EXPECT_EQ(client->Post("/v1/offline/devices", enroll).result_int(), 403u) << name;
    EXPECT_EQ(client->Post("/v1/offline/devices/14/revoke", "{}").result_int(), 403u) << name;
    EXPECT_EQ(client->Post("/v1/offline/terminals", "{}").result_int(), 403u) << name;
    EXPECT_EQ(client->Post("/v1/offline/terminals/1/deactivate", "{}").result_int(), 403u) << name;
    EXPECT_EQ(client->Post("/v1/offline/exceptions/1/resolve", "{}").result_int(), 403u) << name;
    EXPECT_EQ(client->Get("/v1/api-keys").result_int(), 403u) << name;
    const unsigned upload =
        client->Send(http::verb::post, "/v1/offline/batches", "x", kOctet).result_int();
    EXPECT_EQ(upload, scope == Scope::terminal ? 400u : 403u) << name;
    const unsigned sync = client->Post("/v1/offline/devices/14/sync", "{}").result_int();
    EXPECT_EQ(sync, scope == Scope::device ? 400u : 403u) << name;
    const unsigned read = client->Get("/v1/offline/exceptions").result_int();
    EXPECT_EQ(read, scope == Scope::auditor ? 200u : 403u) << name;
    EXPECT_EQ(client->Get("/v1/offline/devices/14").result_int(),
              scope == Scope::auditor ? 404u : 403u)
        << name;
  }
}

// ---- Without the issuer key -----------------------------------------------------------------

TEST_F(OfflineApiTest, WithoutTheIssuerKeySigningEndpointsAre503AndTheRestWork) {
  StopServer();
  engine_options_.issuer_key = nullptr;
  Start();
  admin_ = std::make_unique<TestClient>(port());
  admin_->UseKey(MakeKey(Scope::admin));
  const HttpResponse enroll = admin_->Post(
      "/v1/offline/devices", EnrollBody(15, crypto::GenerateSigningKey().public_key().bytes, 909));
  EXPECT_EQ(enroll.result_int(), 503u) << enroll.body();
  EXPECT_EQ(ErrorCode(enroll), "issuer_key_unavailable");
  EXPECT_NE(JsonOf(enroll).at("error").at("message").as_string().find("--issuer-key-id"),
            std::string::npos);
  EXPECT_EQ(admin_->Get("/v1/offline/deny-list").result_int(), 503u);
  EXPECT_EQ(admin_->Get("/v1/offline/issuer-keys").result_int(), 200u);
  EXPECT_EQ(admin_->Get("/v1/offline/exceptions").result_int(), 200u);
  RegisterTerminal(57, 67, crypto::GenerateSigningKey().public_key().bytes);
}

// ---- API keys -------------------------------------------------------------------------------

TEST_F(OfflineApiTest, ApiKeysAreCreatedListedAndRevokedOverHttp) {
  const HttpResponse created =
      admin_->Post("/v1/api-keys", R"({"scope":"terminal","name":"shop 12","rate_per_second":50})");
  ASSERT_EQ(created.result_int(), 201u) << created.body();
  const bj::value key = JsonOf(created);
  TestClient terminal_client(port());
  terminal_client.UseKey(Text(key, "key"));
  EXPECT_EQ(terminal_client.Get("/v1/offline/issuer-keys").result_int(), 200u);

  const HttpResponse listed = admin_->Get("/v1/api-keys");
  ASSERT_EQ(listed.result_int(), 200u);
  const std::string id = Text(key, "id");
  bool found = false;
  const bj::value listed_json = JsonOf(listed);
  for (const bj::value& k : listed_json.at("api_keys").as_array()) {
    EXPECT_FALSE(k.as_object().contains("key")) << "the secret is shown only at creation";
    if (Text(k, "id") == id) found = Text(k, "name") == "shop 12";
  }
  EXPECT_TRUE(found) << listed.body();

  const HttpResponse revoked = admin_->Post("/v1/api-keys/" + id + "/revoke", "{}");
  ASSERT_EQ(revoked.result_int(), 200u) << revoked.body();
  EXPECT_TRUE(JsonOf(revoked).at("revoked").as_bool());
  EXPECT_EQ(ErrorCode(terminal_client.Get("/v1/offline/issuer-keys")), "api_key_revoked");
  EXPECT_EQ(admin_->Post("/v1/api-keys/" + id + "/revoke", "{}").result_int(), 409u);
  EXPECT_EQ(admin_->Post("/v1/api-keys/00000000000000ff/revoke", "{}").result_int(), 404u);
  EXPECT_EQ(ErrorCode(admin_->Post("/v1/api-keys/xyz/revoke", "{}")), "invalid_parameter");
  EXPECT_EQ(ErrorCode(admin_->Post("/v1/api-keys", R"({"scope":"root","name":"x"})")),
            "invalid_body");
  EXPECT_EQ(ErrorCode(admin_->Post("/v1/api-keys", R"({"scope":"admin","name":""})")),
            "invalid_body");
  EXPECT_EQ(ErrorCode(admin_->Post("/v1/api-keys", R"({"scope":"admin"})")), "invalid_body");
  EXPECT_EQ(admin_->Send(http::verb::delete_, "/v1/api-keys", "").result_int(), 405u);
}

// ---- Metrics --------------------------------------------------------------------------------

// The value of the sample `series` (its whole name and labels) in a /metrics text; -1 if none.
double Sample(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST_F(OfflineApiTest, EngineHistogramsMoveAfterWrites) {
  const auto scrape = [&] {
    const HttpResponse r = admin_->Get("/metrics");
    EXPECT_EQ(r.result_int(), 200u);
    return r.body();
  };
  const std::string before = scrape();
  const double syncs = Sample(before, "tpw_engine_journal_sync_seconds_count");
  const double batches = Sample(before, "tpw_engine_sequencer_batch_requests_count");
  const double groups = Sample(before, "tpw_engine_group_commit_records_count");
  ASSERT_GT(syncs, 0) << before;  // SetUp wrote accounts and transfers
  ASSERT_GT(batches, 0);
  EXPECT_GE(Sample(before, "tpw_engine_journal_bytes"), 1);
  EXPECT_GE(Sample(before, "tpw_engine_queue_depth"), 0);
  EXPECT_EQ(Sample(before, "tpw_engine_journal_sync_seconds_bucket{le=\"+Inf\"}"), syncs);
  ASSERT_EQ(
      admin_
          ->Post(
              "/v1/transfers",
              R"({"id":"77","debit_account_id":"400","credit_account_id":"200","amount":"1.00","ledger":"USD","code":1})")
          .result_int(),
      201u);
  const std::string after = scrape();
  EXPECT_GT(Sample(after, "tpw_engine_journal_sync_seconds_count"), syncs);
  EXPECT_GT(Sample(after, "tpw_engine_sequencer_batch_requests_count"), batches);
  EXPECT_GT(Sample(after, "tpw_engine_group_commit_records_count"), groups);
  EXPECT_GT(Sample(after, "tpw_engine_journal_sync_seconds_sum"), 0);
}

}  // namespace
}  // namespace tpw::api
