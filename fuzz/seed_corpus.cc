// fuzz_seed_corpus <dir>: writes small valid inputs for every fuzz target into <dir>/<name>/,
// made by the project's own encoders (so they follow the formats as the code writes them today)
// and each checked to decode before it is written. scripts/fuzz.sh runs it before every run.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "access/access.h"
#include "common/codec.h"
#include "crypto/base64.h"
#include "crypto/keystore.h"
#include "engine/facts.h"
#include "engine/offline_facts.h"
#include "engine/risk_facts.h"
#include "engine/outbox_facts.h"
#include "terminal/records.h"
#include "wallet/wallet_state.h"
#include "engine/snapshot.h"
#include "fuzz_check.h"
#include "journal/format.h"
#include "journal/journal.h"
#include "offline/messages.h"
#include "payments/events.h"
#include "payments/payments.h"
#include "risk_inputs.h"
#include "state_io.h"
#include "storage_files.h"

namespace {

using namespace tpw;
using Bytes = std::vector<uint8_t>;

std::filesystem::path g_root;

void Write(const std::string& target, const std::string& name, const Bytes& bytes) {
  const std::filesystem::path dir = g_root / target;
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  FUZZ_CHECK(out.good());
}

Bytes Prefixed(std::initializer_list<uint8_t> prefix, std::span<const uint8_t> rest) {
  Bytes out(prefix);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

Bytes Text(uint8_t selector, std::string_view text) {
  Bytes out{selector};
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

// ---- common ----

void CommonSeeds() {
  Write("amount", "usd", Text(2, "12.34"));
  Write("amount", "jpy", Text(0, "5"));
  Write("amount", "eth", Text(18, "0.000000000000000001"));
  Write("amount", "max", Text(0, "340282366920938463463374607431768211455"));
  Write("id", "decimal", Text('4', "2"));
  Write("id", "hex", Bytes{'0', 'x', '2', 'a'});
  Write("id", "max", Text('3', "40282366920938463463374607431768211455"));

  BinaryWriter w;
  w.U8(7);
  w.U16(0x1234);
  w.U32(0xdeadbeef);
  w.U64(42);
  w.U128(MakeU128(1, 2));
  const uint8_t blob[] = {1, 2, 3};
  w.Blob(blob);
  w.String("hello");
  const uint8_t limit64 = 16 << 3;  // limit 64 bytes
  Write("codec", "all",
        Prefixed({7, 0, 1, 2, 3, 4, uint8_t(limit64 | 5), uint8_t(limit64 | 6)}, w.buffer()));
}

// ---- offline ----

offline::DeviceCertificate Certificate() {
  offline::DeviceCertificate c;
  c.issuer_key_id = 7;
  c.serial = 42;
  c.device_id = MakeU128(1, 2);
  c.device_public_key.fill(0xab);
  c.reserve_account_id = MakeU128(3, 4);
  c.asset = 1;
  c.payment_count_max = 10;
  c.per_payment_max = Amount::FromMinor(5000);
  c.allowance = Amount::FromMinor(20000);
  c.counter_first = 100;
  c.cvm_threshold = Amount::FromMinor(2500);
  c.valid_from = 1'700'000'000'000;
  c.valid_until = 1'700'086'400'000;
  c.previous_serial = 41;
  c.signature.fill(0x5a);
  return c;
}

offline::PaymentToken Token(uint64_t counter) {
  offline::PaymentToken t;
  t.cvm = offline::Cvm::pin;
  t.asset = 1;
  t.certificate = Certificate();
  t.counter = counter;
  t.amount = Amount::FromMinor(1234);
  t.merchant_id = 77;
  t.terminal_id = 88;
  t.nonce.fill(0x11);
  t.terminal_time = 1'700'000'100'000;
  t.device_time = 1'700'000'100'123;
  t.previous_token_hash.fill(0x22);
  t.signature.fill(0x33);
  return t;
}

template <typename Message>
void WriteOffline(const std::string& target, const std::string& name, const Message& message,
                  offline::DecodeResult<Message> (*decode)(std::span<const uint8_t>)) {
  const Bytes bytes = offline::Encode(message);
  FUZZ_CHECK(decode(bytes).ok());
  Write(target, name, bytes);
}

void OfflineSeeds() {
  WriteOffline("certificate", "sample", Certificate(), &offline::DecodeCertificate);
  offline::PaymentRequest request{1, 77, 88, Amount::FromMinor(1234), {}, 1'700'000'100'000, 6};
  request.nonce.fill(9);
  WriteOffline("request", "sample", request, &offline::DecodeRequest);
  WriteOffline("token", "sample", Token(101), &offline::DecodeToken);
  offline::TerminalBatch batch;
  batch.terminal_id = 88;
  batch.batch_id.fill(4);
  batch.created = 99;
  batch.tokens = {Token(101)};
  WriteOffline("batch", "one", batch, &offline::DecodeBatch);
  batch.tokens.push_back(Token(102));
  WriteOffline("batch", "two", batch, &offline::DecodeBatch);
  offline::DenyList list;
  list.issuer_key_id = 7;
  list.list_version = 3;
  list.issued = 1000;
  list.max_age = 86'400'000;
  list.device_ids = {1, 5, MakeU128(9, 0)};
  WriteOffline("deny_list", "full", list, &offline::DecodeDenyList);
  list.delta = true;
  list.base_version = 2;
  WriteOffline("deny_list", "delta", list, &offline::DecodeDenyList);
  offline::SyncStatement statement;
  statement.issuer_key_id = 7;
  statement.device_id = Certificate().device_id;
  statement.certificate = Certificate();
  statement.last_counter_used = 105;
  statement.cleared_amount = Amount::FromMinor(4000);
  statement.reserve_balance = Amount::FromMinor(16000);
  WriteOffline("sync_statement", "sample", statement, &offline::DecodeSyncStatement);
}

// ---- crypto ----

void CryptoSeeds() {
  const Bytes certificate = offline::Encode(Certificate());
  const std::string text = crypto::Base64UrlEncode(certificate);
  Write("base64", "certificate", Text(255, text));
  Write("base64", "short", Text(1, "AQI"));
  Write("base64", "empty", Bytes{0});

  std::array<uint8_t, crypto::kSigningSeedBytes> seed{};
  seed.fill(0x42);
  const crypto::SecretKey key = crypto::SigningKeyFromSeed(seed);
  auto passphrase = crypto::Passphrase::Copy("fuzz seed passphrase");  // keystore_fuzz.cc
  FUZZ_CHECK(passphrase.ok());
  for (const std::string_view label : {std::string_view("terminal 7"), std::string_view("")}) {
    auto sealed =
        crypto::EncodeKeystore(key, passphrase.value(), label, crypto::kKdfFastInsecureForTests);
    FUZZ_CHECK(sealed.ok());
    FUZZ_CHECK(crypto::UnlockKeystore(sealed.value(), passphrase.value()).ok());
    Write("keystore", label.empty() ? "no-label" : "labelled", sealed.value());
  }
}

// ---- engine state, facts, snapshots, journal ----

ledger::Account MakeAccount(uint64_t id, uint16_t flags) {
  ledger::Account a;
  a.id = AccountId(id);
  a.ledger = 1;
  a.code = 10;
  a.flags = flags;
  return a;
}

ledger::Transfer MakeTransfer(uint64_t id, uint64_t debit, uint64_t credit, uint64_t amount,
                              uint16_t flags) {
  ledger::Transfer t;
  t.id = TransferId(id);
  t.debit_account_id = AccountId(debit);
  t.credit_account_id = AccountId(credit);
  t.amount = Amount::FromMinor(amount);
  t.ledger = 1;
  t.code = 20;
  t.flags = flags;
  if ((flags & ledger::transfer_flags::kPending) != 0) t.timeout = 3600;
  return t;
}

// A small ledger with every state section non-empty: accounts (one with history), posted and
// pending transfers (so the expiry queue holds one), per-account lists.
void FillState(fuzz::EngineState& state, std::vector<ledger::Account>& accounts,
               std::vector<ledger::Transfer>& transfers) {
  accounts = {MakeAccount(1, 0), MakeAccount(2, ledger::account_flags::kHistory),
              MakeAccount(3, 0)};
  std::vector<ledger::CreateAccountsResult> account_results;
  FUZZ_CHECK(state.ledger.CreateAccounts(accounts, Timestamp{1000}, account_results).ok());
  FUZZ_CHECK(account_results.empty());
  transfers = {MakeTransfer(1, 1, 2, 500, 0), MakeTransfer(2, 2, 3, 100, 0),
               MakeTransfer(3, 1, 3, 50, ledger::transfer_flags::kPending)};
  std::vector<ledger::CreateTransfersResult> transfer_results;
  FUZZ_CHECK(state.ledger.CreateTransfers(transfers, Timestamp{2000}, transfer_results).ok());
  FUZZ_CHECK(transfer_results.empty());
  state.store.TailIsInJournal(journal::RecordLocation::Make(0, 64));
}

// Facts, as the engine journals them (stamped as the ledger stamped the events). Returns the
// encoded records (accounts, transfers, failures, expiries) for the journal seeds.
std::vector<Bytes> FactSeeds(std::vector<ledger::Account> accounts,
                             std::vector<ledger::Transfer> transfers) {
  for (size_t i = 0; i < accounts.size(); ++i) accounts[i].timestamp = Timestamp{1000 + i};
  for (size_t i = 0; i < transfers.size(); ++i) transfers[i].timestamp = Timestamp{2000 + i};
  std::vector<Bytes> facts(4);
  engine::EncodeAccountsFact({1000, 1002, 3}, accounts, facts[0]);
  engine::EncodeTransfersFact({2000, 2002, 3}, transfers, facts[1]);
  const ledger::FailedTransfer failed[] = {
      {TransferId(9), ledger::CreateTransferResult::exceeds_credits}};
  engine::EncodeFailuresFact({2003, 2003, 1}, failed, facts[2]);
  const TransferId expired[] = {TransferId(3)};
  engine::EncodeExpiredFact({3000, 3000, 1}, expired, facts[3]);
  const char* names[] = {"accounts", "transfers", "failures", "expired"};
  for (uint8_t type = 1; type <= 4; ++type) {
    FUZZ_CHECK(engine::DecodeFact(type, facts[type - 1]).ok());
    Write("facts", names[type - 1], Prefixed({type}, facts[type - 1]));
  }
  return facts;
}

// The state sections alone, and as a snapshot file the engine writes.
void StateSeeds(const fuzz::EngineState& state) {
  fuzz::VectorSink body;
  state.Save(body);
  {
    fuzz::EngineState check;
    fuzz::SpanSource source(body.bytes());
    FUZZ_CHECK(check.Load(source) && source.remaining() == 0);
  }
  Write("ledger_state", "small", body.bytes());

  SeededRandom random(3);
  storage::SimulatedStorage storage(random);
  engine::SnapshotHeader header;
  header.fingerprint = ledger::Ledger::StateLayoutFingerprint();
  header.sequence = 1;
  header.head_hash.fill(0x77);
  auto written =
      engine::WriteSnapshot(storage, header, [&](ledger::StateSink& sink) { state.Save(sink); });
  FUZZ_CHECK(written.ok());
  const std::string name = engine::SnapshotFileName(1);
  FUZZ_CHECK(engine::CheckSnapshot(storage, name).ok());
  const Bytes file = fuzz::GetFile(storage, name);
  Write("snapshot", "small", Prefixed({0}, file));
  Write("snapshot", "small-repair", Prefixed({3}, file));
}

// The segment files of a journal of `facts`; with `two_segments`, 4 KiB segments and enough
// groups to fill the first.
std::vector<Bytes> MakeJournal(const std::vector<Bytes>& facts, bool two_segments) {
  SeededRandom random(4);
  storage::SimulatedStorage storage(random);
  journal::JournalOptions options;
  if (two_segments) options.segment_bytes_max = journal::kSegmentBytesMin;
  auto writer = journal::JournalWriter::Open(storage, options);
  FUZZ_CHECK(writer.ok());
  const std::vector<std::vector<journal::RecordInput>> groups = {
      {{1, facts[0]}},
      {{2, facts[1]}, {3, facts[2]}, {4, facts[3]}},
      {{2, facts[1]}, {2, facts[1]}, {2, facts[1]}, {2, facts[1]}},
  };
  for (size_t round = 0; round < (two_segments ? 4 : 1); ++round) {
    for (const auto& group : groups) {
      std::vector<journal::RecordLocation> locations(group.size());
      FUZZ_CHECK(writer.value()->AppendGroup(group, locations).ok());
      FUZZ_CHECK(writer.value()->Sync().ok());
    }
  }
  writer.value().reset();
  FUZZ_CHECK(journal::VerifyJournal(storage).ok());
  auto names = storage.List();
  FUZZ_CHECK(names.ok());
  std::vector<std::string> segments;
  for (const std::string& name : names.value()) {
    if (journal::format::ParseSegmentFileName(name)) segments.push_back(name);
  }
  std::sort(segments.begin(), segments.end());
  FUZZ_CHECK(two_segments ? segments.size() >= 2 : segments.size() == 1);
  std::vector<Bytes> files;
  for (size_t i = 0; i < std::min<size_t>(segments.size(), 2); ++i) {
    files.push_back(fuzz::GetFile(storage, segments[i]));  // the first two are enough
  }
  return files;
}

void JournalSeeds(const std::vector<Bytes>& facts) {
  namespace format = journal::format;
  const Bytes one = MakeJournal(facts, false)[0];
  Write("journal_segment", "one-segment", Prefixed({0, 0, 0}, one));
  const std::vector<Bytes> two = MakeJournal(facts, true);
  FUZZ_CHECK(two[0].size() <= 0xffff);
  Bytes input{1, static_cast<uint8_t>(two[0].size()), static_cast<uint8_t>(two[0].size() >> 8)};
  input.insert(input.end(), two[0].begin(), two[0].end());
  input.insert(input.end(), two[1].begin(), two[1].end());
  Write("journal_segment", "two-segments", input);

  // Header-level seeds from the one-segment file.
  const auto bytes = std::span<const uint8_t>(one);
  Write("journal_headers", "segment-header",
        Prefixed({0}, bytes.first<format::kSegmentHeaderBytes>()));
  const auto group = format::DecodeGroupHeader(
      bytes.subspan<format::kSegmentHeaderBytes, format::kGroupHeaderBytes>());
  FUZZ_CHECK(group.problem == format::HeaderProblem::none);
  const auto group_bytes = bytes.subspan(format::kSegmentHeaderBytes,
                                         format::kGroupHeaderBytes + group.header.payload_bytes);
  Write("journal_headers", "group", Prefixed({1}, group_bytes));
  Write("journal_headers", "record-header",
        Prefixed({2}, group_bytes.subspan(format::kGroupHeaderBytes, format::kRecordHeaderBytes)));
  Write("journal_headers", "file-name", Text(3, format::SegmentFileName(1)));
}

// Outbox and webhook facts (outbox_facts_fuzz.cc): byte 0 picks the decoder.
void OutboxFactSeeds() {
  engine::WebhookEndpoint e;
  e.id = 2;
  e.url = "http://127.0.0.1:8000/hooks";
  e.secret.fill(0x5a);
  e.filter = {"payment.*", "test.event"};
  e.description = "orders";
  engine::DeliveryRecord failed;
  failed.endpoint_id = 2;
  failed.event_id = 7;
  failed.outcome = engine::DeliveryOutcome::failed;
  failed.http_status = 503;
  failed.attempt = 2;
  failed.next_retry_ms = 5000;
  failed.error = "HTTP 503";
  engine::DeliveryRecord delivered = failed;
  delivered.outcome = engine::DeliveryOutcome::delivered;
  delivered.next_retry_ms = 0;
  delivered.error.clear();
  Write("outbox_facts", "endpoint",
        Prefixed({0}, engine::EncodeEndpointFact({engine::EndpointChange::created, 10, e})));
  Write("outbox_facts", "test-events",
        Prefixed({1}, engine::EncodeTestEventsFact({11, 1, 3, "test.event", R"({"n":1})"})));
  Write("outbox_facts", "deliveries",
        Prefixed({2}, engine::EncodeDeliveriesFact({12, {failed, delivered}})));
  Write("outbox_facts", "resend", Prefixed({3}, engine::EncodeResendFact({13, 2, 7})));
}

void EngineSeeds() {
  auto state = std::make_unique<fuzz::EngineState>();
  std::vector<ledger::Account> accounts;
  std::vector<ledger::Transfer> transfers;
  FillState(*state, accounts, transfers);
  StateSeeds(*state);
  JournalSeeds(FactSeeds(accounts, transfers));
  OutboxFactSeeds();
}

// ---- cli ----

void CliSeeds() {
  Write("batch_line", "account",
        Text(0, R"({"id":"1","ledger":"USD","code":10,"flags":["history"],)"
                R"("user_data_64":"7","user_data_32":3})"));
  Write("batch_line", "account-overdraft",
        Text(0, R"({"id":"0x2a","ledger":1,"code":1,"flags":["debits_must_not_exceed_credits"],)"
                R"("overdraft_limit":"10.50"})"));
  Write("batch_line", "transfer",
        Text(1, R"({"id":"100","debit_account_id":"1","credit_account_id":"2",)"
                R"("amount":"12.34","ledger":"USD","code":1})"));
  Write("batch_line", "transfer-pending",
        Text(1, R"({"id":"101","debit_account_id":"1","credit_account_id":"2","amount_minor":)"
                R"("5","ledger":1,"code":1,"flags":["pending","linked"],"timeout":60})"));
  Write("batch_line", "transfer-post",
        Text(1, R"({"id":"102","pending_id":"101","flags":["post_pending_transfer"]})"));
  Write("cli_values", "time-rfc3339", Text(0, "2023-11-14T22:13:20.5Z"));
  Write("cli_values", "time-ns", Text(0, "1700000000000000000"));
  Write("cli_values", "id-hex", Text(1, "0x2a"));
  Write("cli_values", "account-flags", Text(2, "linked,history"));
  Write("cli_values", "transfer-flags", Text(3, "pending,closing_debit"));
  Write("cli_values", "amount-usd", Text(9, "12.34"));  // 9: amounts (9 % 5), ledger 1 (9 / 5)
  Write("cli_values", "ledger-code", Text(4, "USD"));
  // api_body: byte 0 picks the decoder (api_body_fuzz.cc).
  Write("api_body", "accounts", Text(0, R"({"accounts":[{"id":"1","ledger":"USD","code":1}]})"));
  Write("api_body", "transfer",
        Text(1, R"({"id":"100","debit_account_id":"1","credit_account_id":"2",)"
                R"("amount":"12.34","ledger":"USD","code":1})"));
  Write("api_body", "batch",
        Text(2, R"({"transfers":[{"id":"1","pending_id":"9","flags":["void_pending_transfer"]}]})"));
  Write("api_body", "query", Text(3, "from=2024-01-31T12%3A00%3A00Z&limit=5&debits=true"));
  Write("api_body", "route", Text(5, "/v1/accounts/0x2a/transfers?limit=2"));
  Write("api_body", "enroll",
        Text(6, R"({"device_id":"7","public_key":")" + std::string(64, 'a') +
                    R"(","user_account_id":"2","reserve_account_id":"10","ledger":"USD",)"
                    R"("allowance":"100.00","per_payment_max":"20.00","payments_max":10})"));
  Write("api_body", "sync",
        // device 7, serial 1, last counter 4, a zero signature: base64url of 96 bytes
        Text(7, R"({"request":")"
                "BwAAAAAAAAAAAAAAAAAAAAEAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                R"(","allowance":"50.00"})"));
  Write("api_body", "terminal",
        Text(8, R"({"terminal_id":"50","merchant_id":"60","settlement_account_id":"3",)"
                R"("public_key":")" + std::string(43, 'A') + R"("})"));
  Write("api_body", "resolve",
        Text(9, R"({"resolution":"paid_from_guarantee","guarantee_account_id":"300"})"));
  Write("api_body", "upload-binary", Text(10, "\x04\x01"));
  Write("api_body", "upload-json", Text(11, R"({"batch":"BAE"})"));
  Write("api_body", "exceptions", Text(12, "status=all&classification=double_spend&limit=5&after=3"));
  Write("api_body", "deny-list", Text(13, "since=4"));
  Write("api_body", "api-key", Text(14, R"({"scope":"terminal","name":"till 3","rate_per_second":50})"));
  Write("api_body", "key-id", Text(15, "3f9c0a6b2d41e785"));
  // Webhooks and events (cases 20..25).
  Write("api_body", "webhook-create",
        Text(20, R"({"url":"http://127.0.0.1:8000/hooks?a=1","enabled_events":["payment.*","test.event"],"description":"d"})"));
  Write("api_body", "webhook-update", Text(21, R"({"enabled":false,"url":"http://[::1]:9/h"})"));
  Write("api_body", "webhook-test-events", Text(22, R"({"count":3,"type":"test.x","data":{"k":"v"}})"));
  Write("api_body", "events-query", Text(23, "after=evt_10&limit=5&type=payment.*,test.event"));
  Write("api_body", "webhook-url", Text(24, "http://example.com:8080/path?q=1"));
  Write("api_body", "sse", Text(25, "\x0c" "1d\r\nid: evt_1\nevent: t\ndata: {}\n\n\r\n0\r\n\r\n"));
}

}  // namespace

// Writes `bytes` as a seed only if `decodes` (a seed that does not decode still fuzzes, but a
// valid one gets the fuzzer past the checksums and ranges at once).
void WriteIfValid(const std::string& target, const std::string& name, const Bytes& bytes,
                  bool decodes) {
  if (!decodes) {
    std::fprintf(stderr, "fuzz_seed_corpus: seed %s/%s does not decode; skipped\n", target.c_str(),
                 name.c_str());
    return;
  }
  Write(target, name, bytes);
}

void DeviceSeeds() {
  // Offline facts (engine journal).
  engine::OfflineFact key;
  key.kind = engine::OfflineFactKind::issuer_key;
  key.issuer_key_id = 1;
  key.public_key.fill(7);
  engine::OfflineFact revoke;
  revoke.kind = engine::OfflineFactKind::revocation;
  revoke.device_id = 42;
  engine::OfflineFact certificate;
  certificate.kind = engine::OfflineFactKind::certificate;
  certificate.user_account = AccountId{5};
  certificate.certificate = offline::Encode(Certificate());
  engine::OfflineFact batch;
  batch.kind = engine::OfflineFactKind::batch;
  batch.token_checks = {3};
  batch.settlements_ok = {1};
  offline::TerminalBatch tb;
  tb.terminal_id = 9;
  tb.tokens.push_back(Token(100));
  batch.batch = offline::Encode(tb);
  int n = 0;
  for (const engine::OfflineFact* fact : {&key, &revoke, &certificate, &batch}) {
    const Bytes bytes = engine::EncodeOfflineFact(*fact);
    WriteIfValid("offline_fact", "kind-" + std::to_string(n++), bytes,
                 engine::DecodeOfflineFact(bytes).ok());
  }
  // Terminal records and files: byte 0 picks the decoder (terminal_records_fuzz.cc).
  terminal::TokenAccepted accepted;
  accepted.accepted_ms = 1000;
  const Bytes token = offline::Encode(Token(100));
  std::copy(token.begin(), token.end(), accepted.token.begin());
  terminal::TokenVoided voided;
  voided.voided_ms = 2000;
  voided.token_id.fill(3);
  terminal::BatchBuilt built;
  built.created_ms = 3000;
  built.batch_id.fill(4);
  built.token_ids.resize(2);
  built.token_ids[1].fill(5);
  terminal::BatchUploaded uploaded;
  uploaded.uploaded_ms = 4000;
  uploaded.batch_id.fill(4);
  terminal::TerminalConfig config;
  config.terminal_id = 9;
  config.merchant_id = 10;
  config.terminal_public_key.bytes.fill(6);
  config.issuer_keys[1].bytes.fill(7);
  terminal::DenyListState deny;
  deny.issuer_key_id = 1;
  deny.list_version = 2;
  deny.issued_ms = 5000;
  deny.max_age_ms = 60000;
  deny.device_ids = {11, 12};
  WriteIfValid("terminal_records", "accepted", Prefixed({0}, terminal::EncodeRecord(accepted)),
               terminal::DecodeTokenAccepted(terminal::EncodeRecord(accepted)).ok());
  WriteIfValid("terminal_records", "voided", Prefixed({1}, terminal::EncodeRecord(voided)),
               terminal::DecodeTokenVoided(terminal::EncodeRecord(voided)).ok());
  WriteIfValid("terminal_records", "built", Prefixed({2}, terminal::EncodeRecord(built)),
               terminal::DecodeBatchBuilt(terminal::EncodeRecord(built)).ok());
  WriteIfValid("terminal_records", "uploaded", Prefixed({3}, terminal::EncodeRecord(uploaded)),
               terminal::DecodeBatchUploaded(terminal::EncodeRecord(uploaded)).ok());
  WriteIfValid("terminal_records", "config", Prefixed({4}, terminal::EncodeConfig(config)),
               terminal::DecodeConfig(terminal::EncodeConfig(config)).ok());
  WriteIfValid("terminal_records", "deny-state", Prefixed({5}, terminal::EncodeDenyState(deny)),
               terminal::DecodeDenyState(terminal::EncodeDenyState(deny)).ok());
  // The wallet state file.
  wallet::Wallet::State state;
  state.generation = 1;
  state.device_id = 77;
  state.device_public_key.bytes.fill(8);
  state.issuer = wallet::IssuerKey{7, crypto::PublicKey{}};
  state.issuer->public_key.bytes.fill(0xab);
  const Bytes wallet_bytes = wallet::EncodeState(state);
  WriteIfValid("wallet_state", "no-certificates", wallet_bytes,
               wallet::DecodeState(wallet_bytes).ok());
}

// API keys and idempotency records: byte 0 picks the decoder (access_fuzz.cc).
void AccessSeeds() {
  access::ApiKey key;
  key.id = 42;
  key.scope = access::Scope::merchant;
  key.name = "shop";
  key.rate_per_second = 100;
  key.created_ms = 1000;
  const Bytes key_bytes = access::EncodeApiKey(key);
  WriteIfValid("access", "api-key", Prefixed({0}, key_bytes), access::DecodeApiKey(key_bytes).has_value());
  key.merchant_accounts = {AccountId(200), AccountId(201)};  // version 2: a bound merchant key
  const Bytes bound_bytes = access::EncodeApiKey(key);
  WriteIfValid("access", "api-key-bound", Prefixed({0}, bound_bytes),
               access::DecodeApiKey(bound_bytes).has_value());
  access::IdempotencyRecord record;
  record.scope = 42;
  record.key = "order-1";
  record.status = 201;
  record.body = "{\"id\":\"1\"}";
  record.created_ms = 1000;
  const Bytes record_bytes = access::EncodeIdempotencyRecord(record);
  WriteIfValid("access", "idempotency-record", Prefixed({1}, record_bytes),
               access::DecodeIdempotencyRecord(record_bytes).has_value());
}

// ---- risk ----

void RiskSeeds() {
  const std::string_view rules = risk::test::kVelocityRules;
  FUZZ_CHECK(risk::RuleSet::Compile(rules).errors.empty());
  Write("risk_rules", "file", Text(0, rules));
  Write("risk_rules", "condition",
        Text(1, "amount > 500.00 EUR and (count(account, 1h) >= 3 or device in l) and "
                "country not in [\"FR\", \"DE\"]"));
  Write("risk_rules", "velocity", Text(1, "distinct(merchant, device, 10m) + sum(ip, 1d) > 3"));
  risk::RiskEngine engine(fuzz::RiskStateRules(), risk::VelocityOptions{.keys_max = 64});
  Write("risk_state", "empty", engine.SaveState());
  for (uint8_t i = 0; i < 40; ++i) {
    (void)engine.Decide(fuzz::FuzzEvent(static_cast<uint8_t>(i * 13), i),
                        Timestamp{uint64_t{i} * 20'000'000'000});
  }
  FUZZ_CHECK(engine.lists().Add("blocked_devices", "9").ok());
  const Bytes state = engine.SaveState();
  risk::RiskEngine check(fuzz::RiskStateRules(), risk::VelocityOptions{.keys_max = 64});
  FUZZ_CHECK(check.LoadState(state).ok());
  Write("risk_state", "forty-events", state);

  Write("risk_fact", "rules", Prefixed({0}, engine::EncodeRiskRulesFact(rules)));
  Write("risk_fact", "list-add",
        Prefixed({1}, engine::EncodeRiskListFact({true, "blocked_devices", "9"})));
  engine::RiskDecisionFact decision;
  decision.time_ns = 20'000'000'000;
  decision.decision = risk::Decision::review;
  decision.score = 42;
  decision.event = fuzz::FuzzEvent(7, 3);
  Write("risk_fact", "decision", Prefixed({2}, engine::EncodeRiskDecisionFact(decision)));
}

// Events that update a payment the fuzz target already holds (pay_1, payments_fuzz.cc) or add
// to the registries: the paths replay takes for most payment facts (journal record type 11).
void PaymentsUpdateSeeds(const payments::Payment& created) {
  std::vector<payments::Event> events;
  const auto add = [&](payments::EventKind kind) -> payments::Event& {
    payments::Event& e = events.emplace_back();
    e.kind = kind;
    e.at_ms = 1'700'000'000'000;
    return e;
  };
  payments::Payment captured = created;
  captured.state = payments::PaymentState::succeeded;
  captured.funded = true;
  captured.funding.source_account = AccountId(100);
  captured.funding.source_asset = 1;
  captured.funding.amount_charged = captured.funding.amount_charged_source = created.amount;
  captured.money_hold = payments::MakeTransferId(created.id, 0, 0);
  captured.amount_captured = captured.captured_money = captured.captured_money_source =
      created.amount;
  captured.ledger_attempts = 1;
  add(payments::EventKind::payment_succeeded).payment = captured;
  payments::Payment refunded = captured;
  payments::Refund& refund = refunded.refunds.emplace_back();
  refund.id = payments::RefundId(1);
  refund.amount = refund.money = refund.money_source = Amount::FromMinor(400);
  refund.attempt = 1;
  refund.transfer_count = 1;
  refunded.amount_refunded = refunded.refunded_money = refunded.refunded_money_source =
      refund.amount;
  refunded.ledger_attempts = 2;
  payments::Event& refund_event = add(payments::EventKind::refund_created);
  refund_event.payment = refunded;
  refund_event.refund = refund.id;
  payments::Customer& customer = add(payments::EventKind::customer_updated).customer.emplace();
  customer.id = created.customer;
  customer.sources.push_back({AccountId(100), 1, payments::SourceKind::balance, {"web"}, 0});
  payments::FxQuote& quote = add(payments::EventKind::fx_quote_created).quote.emplace();
  quote.id = payments::QuoteId(1);
  quote.from_asset = 1;
  quote.to_asset = 2;
  quote.rate = *payments::ParseRate("0.9");
  quote.expires_at_ms = 1'700'000'060'000;
  add(payments::EventKind::fx_account_updated).fx_account = payments::FxAccount{2, AccountId(301)};
  for (const payments::Event& e : events) {
    const Bytes bytes = payments::EncodeEvent(e);
    WriteIfValid("payments", "event-" + std::string(payments::EventKindName(e.kind)),
                 Prefixed({0}, bytes), payments::DecodeEvent(bytes).ok());
  }
}

// Payments events and a state holding them (byte 0: 0 = event, 1 = state).
void PaymentsSeeds() {
  payments::Payments state;
  payments::Event created;
  created.kind = payments::EventKind::payment_created;
  created.at_ms = 1'700'000'000'000;
  payments::Payment& p = created.payment.emplace();
  p.id = payments::PaymentId(1);
  p.amount = Amount::FromMinor(1'250);
  p.asset = 1;
  p.merchant_account = AccountId(200);
  p.customer = payments::CustomerId(7);
  p.description = "order 1";
  p.metadata = {{"order", "1"}};
  p.splits = {{AccountId(201), Amount::Zero(), 1'000}};
  p.hold_timeout_seconds = 604'800;
  payments::Event rates;
  rates.kind = payments::EventKind::fx_rates_updated;
  rates.rates = {{1, 2, *payments::ParseRate("0.9"), "ecb", 5, 6}};
  payments::Event coupon;
  coupon.kind = payments::EventKind::coupon_created;
  coupon.coupon.emplace().code = "TEN";
  coupon.coupon->kind = payments::CouponKind::percent;
  coupon.coupon->percent_off_bps = 1'000;
  for (const auto& [name, event] : {std::pair{"created", &created}, std::pair{"rates", &rates},
                                    std::pair{"coupon", &coupon}}) {
    WriteIfValid("payments", std::string("event-") + name,
                 Prefixed({0}, payments::EncodeEvent(*event)), state.Apply(*event));
  }
  fuzz::VectorSink sink;
  state.Save(sink);
  Write("payments", "state", Prefixed({1}, sink.bytes()));
  PaymentsUpdateSeeds(p);
}

// ---- payments (payments_body_fuzz.cc): byte 0 < 128 picks the route (index in
// api::kPaymentsRoutes), the rest is "id\nquery\nbody"; byte 0 >= 128 is an encoded event.

void PaymentsApiSeeds() {
  Write("payments_body", "create",
        Text(0, "\n\n" R"({"amount":"12.34","asset":"USD","merchant_account_id":"200","customer":"7",)"
                R"("capture_method":"manual","metadata":{"order":"5"},"splits":[{"account_id":"201",)"
                R"("basis_points":250}],"confirm":true,"risk":{"device":"5","country":"FR"}})"));
  Write("payments_body", "list", Text(1, "\ncustomer=7&status=succeeded&limit=5&starting_after=pay_3\n"));
  Write("payments_body", "confirm", Text(3, "pay_1\n\n" R"({"cvm_performed":"pin","coupon":""})"));
  Write("payments_body", "capture", Text(4, "pay_1\n\n" R"({"amount_to_capture":"5.00"})"));
  Write("payments_body", "refund", Text(6, "pay_1\n\n" R"({"amount_minor":"100","reverse_splits":true})"));
  Write("payments_body", "customer",
        Text(8, "7\n\n" R"({"sources":[{"account_id":"100","asset":"USD","kind":"transit","tags":["transit"]}]})"));
  Write("payments_body", "coupon",
        Text(10, "\n\n" R"({"code":"WELCOME5","amount_off":"5.00","asset":"USD","expires_at":"2030-01-01T00:00:00Z"})"));
  Write("payments_body", "rates",
        Text(14, "\n\n" R"({"rates":[{"from_asset":"EUR","to_asset":"USD","rate":"1.0843","source":"ecb","as_of":"1"}]})"));
  Write("payments_body", "quote", Text(16, "\n\n" R"({"from_asset":"USD","to_asset":"EUR","ttl_seconds":60})"));
  payments::Event event;
  event.kind = payments::EventKind::payment_created;
  event.at_ms = 1'700'000'000'000;
  payments::Payment payment;
  payment.id = payments::PaymentId(1);
  payment.amount = Amount::FromMinor(1234);
  payment.asset = 1;
  payment.merchant_account = AccountId(200);
  payment.customer = payments::CustomerId(7);
  payment.hold_timeout_seconds = 604800;
  payment.created_at_ms = payment.updated_at_ms = event.at_ms;
  event.payment = payment;
  const Bytes encoded = payments::EncodeEvent(event);
  WriteIfValid("payments_body", "event", Prefixed({128}, encoded), payments::DecodeEvent(encoded).ok());
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_corpus <directory>\n");
    return 2;
  }
  g_root = argv[1];
  CommonSeeds();
  OfflineSeeds();
  CryptoSeeds();
  EngineSeeds();
  CliSeeds();
  DeviceSeeds();
  AccessSeeds();
  RiskSeeds();
  PaymentsSeeds();
  PaymentsApiSeeds();
  return 0;
}
