// tpwallet bench offline: clearing throughput against the raw Ed25519 verification rate of the
// same machine in the same run.
//
// Set-up (not timed): a fresh data directory, an issuer key, --devices enrolled devices with
// funded reserves, --terminals registered terminals, and --tokens payment tokens signed by the
// devices and packed into terminal batches of --batch tokens signed by their terminals.
// Then, timed:
//   1. raw: libsodium verifies tokens' signatures on --threads threads (nothing else);
//   2. clearing: --uploaders threads upload the batches through Engine::SubmitOffline — decode,
//      parallel signature checks, classification in the sequencer, one settlement transfer per
//      token, one journal append + fdatasync per group — and wait for the durable replies.
//   3. terminal acceptance: one terminal on the real disk accepts --terminal-payments tokens one
//      by one (Accept: certificate + token verification, the checks, journal append +
//      fdatasync), each timed.
// The figure of merit is clearing tokens/s ÷ raw verifications/s: signature checking should be
// the only real cost of clearing. This machine's speed drifts by several percent within seconds
// (other load, frequency), so the two are interleaved: the batches are cleared in --rounds
// rounds, with a raw measurement of the round's tokens before each round and after the last,
// and each round is compared with the mean of the raw rates on either side of it.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "cli/bench.h"
#include "cli/commands.h"
#include "crypto/hash.h"
#include "crypto/sign.h"
#include "engine/engine.h"
#include "offline/messages.h"
#include "storage/posix_storage.h"
#include "terminal/terminal.h"

namespace tpw::cli {
namespace {

using engine::Engine;
using engine::OfflineCommand;
using engine::OfflineCommandKind;
using engine::OfflineError;

struct OfflineBenchOptions {
  uint64_t devices = 1'000;
  uint64_t terminals = 10;
  uint64_t tokens = 200'000;
  uint64_t batch = 8'189;
  uint32_t threads = 0;    // raw verification threads; 0 = hardware threads
  // Clearing: concurrent uploads. Four keep both cores verifying while an upload waits for the
  // sequencer and its fdatasync (with two, a core idles during each batch's commit).
  uint32_t uploaders = 4;
  uint32_t verify_threads = 1;  // clearing: threads per upload (EngineOptions::verify_threads)
  std::string fsync = "always";
  std::string data_dir;
  uint64_t seed = 42;
  uint64_t terminal_payments = 2'000;  // terminal acceptance part; 0 = skip it
  uint64_t rounds = 3;                 // clearing rounds interleaved with raw measurements
};

constexpr uint32_t kAsset = 1;
constexpr u128 kFunder = 1;
u128 UserAccount(uint64_t d) { return 1'000'000 + d; }
u128 ReserveAccount(uint64_t d) { return 2'000'000 + d; }
u128 MerchantAccount(uint64_t t) { return 3'000'000 + t; }
u128 DeviceId(uint64_t d) { return 10'000 + d; }
u128 TerminalId(uint64_t t) { return 500 + t; }
u128 MerchantId(uint64_t t) { return 900 + t; }

crypto::SecretKey KeyFor(uint64_t seed, uint64_t kind, uint64_t index) {
  std::array<uint8_t, crypto::kSigningSeedBytes> bytes{};
  for (size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<uint8_t>(seed >> (8 * i));
    bytes[8 + i] = static_cast<uint8_t>(kind >> (8 * i));
    bytes[16 + i] = static_cast<uint8_t>(index >> (8 * i));
  }
  return crypto::SigningKeyFromSeed(bytes);
}

uint32_t ThreadsOr(uint32_t threads) {
  return threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
}

// Runs fn(i) for i in [0, count) on `threads` threads, interleaved.
template <typename Fn>
void ParallelFor(uint64_t count, uint32_t threads, Fn fn) {
  std::vector<std::thread> workers;
  for (uint32_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = t; i < count; i += threads) fn(i);
    });
  }
  for (std::thread& w : workers) w.join();
}

bool Check(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "internal error: benchmark set-up failed: %s\n", what);
  return ok;
}

struct World {
  std::vector<crypto::SecretKey> device_keys;
  std::vector<offline::DeviceCertificate> certificates;
  std::vector<crypto::SecretKey> terminal_keys;
  std::vector<std::vector<uint8_t>> tokens;   // encoded, signed
  std::vector<std::vector<uint8_t>> batches;  // encoded, signed
};

bool SetUpLedger(Engine& engine, const OfflineBenchOptions& o, const crypto::SecretKey& issuer,
                 World& world) {
  OfflineCommand key;
  key.kind = OfflineCommandKind::add_issuer_key;
  key.issuer_key_id = 1;
  key.public_key = issuer.public_key().bytes;
  if (!Check(engine.ExecuteOffline(key).error == OfflineError::ok, "issuer key")) return false;

  std::vector<ledger::Account> accounts;
  ledger::Account funder;
  funder.id = AccountId{kFunder};
  funder.ledger = kAsset;
  funder.code = 1;
  accounts.push_back(funder);
  for (uint64_t d = 0; d < o.devices; ++d) {
    ledger::Account user = funder;
    user.id = AccountId{UserAccount(d)};
    accounts.push_back(user);
  }
  for (uint64_t t = 0; t < o.terminals; ++t) {
    ledger::Account merchant = funder;
    merchant.id = AccountId{MerchantAccount(t)};
    accounts.push_back(merchant);
  }
  for (size_t i = 0; i < accounts.size(); i += kBatchEventsMax) {
    const size_t n = std::min<size_t>(kBatchEventsMax, accounts.size() - i);
    std::vector<ledger::Account> part(accounts.begin() + static_cast<std::ptrdiff_t>(i),
                                      accounts.begin() + static_cast<std::ptrdiff_t>(i + n));
    if (!Check(engine.CreateAccounts(std::move(part)).account_results.empty(), "accounts")) return false;
  }

  const uint64_t per_device = (o.tokens + o.devices - 1) / o.devices;
  const uint64_t per_payment_max = 10'000;
  const u128 allowance = u128{per_device} * per_payment_max;
  std::vector<ledger::Transfer> funding;
  for (uint64_t d = 0; d < o.devices; ++d) {
    ledger::Transfer t;
    t.id = TransferId{1'000'000 + d};
    t.debit_account_id = AccountId{kFunder};
    t.credit_account_id = AccountId{UserAccount(d)};
    t.amount = Amount::FromMinor(allowance);
    t.ledger = kAsset;
    t.code = 1;
    funding.push_back(t);
    if (funding.size() == kBatchEventsMax || d + 1 == o.devices) {
      if (!Check(engine.CreateTransfers(std::move(funding)).transfer_results.empty(), "funding")) {
        return false;
      }
      funding.clear();
    }
  }
  for (uint64_t d = 0; d < o.devices; ++d) {
    world.device_keys.push_back(KeyFor(o.seed, 1, d));
    OfflineCommand enroll;
    enroll.kind = OfflineCommandKind::enroll_device;
    enroll.device_id = DeviceId(d);
    enroll.public_key = world.device_keys.back().public_key().bytes;
    enroll.user_account = AccountId{UserAccount(d)};
    enroll.reserve_account = AccountId{ReserveAccount(d)};
    enroll.asset = kAsset;
    enroll.allowance = Amount::FromMinor(allowance);
    enroll.per_payment_max = Amount::FromMinor(per_payment_max);
    enroll.payment_count_max = static_cast<uint32_t>(per_device);
    enroll.valid_for_ms = 86'400'000;
    const engine::OfflineReply reply = engine.ExecuteOffline(enroll);
    if (!Check(reply.error == OfflineError::ok, "enrollment")) return false;
    world.certificates.push_back(offline::DecodeCertificate(reply.certificate).value());
  }
  for (uint64_t t = 0; t < o.terminals; ++t) {
    world.terminal_keys.push_back(KeyFor(o.seed, 2, t));
    OfflineCommand reg;
    reg.kind = OfflineCommandKind::register_terminal;
    reg.terminal_id = TerminalId(t);
    reg.merchant_id = MerchantId(t);
    reg.settlement_account = AccountId{MerchantAccount(t)};
    reg.public_key = world.terminal_keys.back().public_key().bytes;
    if (!Check(engine.ExecuteOffline(reg).error == OfflineError::ok, "terminal")) return false;
  }
  return true;
}

// Tokens round-robin over devices, batches round-robin over terminals; token i of batch b goes
// to b's terminal. Signed on all hardware threads.
void MakeTokensAndBatches(const OfflineBenchOptions& o, World& world) {
  const uint64_t batches = (o.tokens + o.batch - 1) / o.batch;
  const uint64_t now_ms = SystemClock().Now().ns / 1'000'000;
  world.tokens.resize(o.tokens);
  ParallelFor(o.tokens, ThreadsOr(0), [&](uint64_t i) {
    const uint64_t d = i % o.devices;
    const uint64_t t = (i / o.batch) % o.terminals;
    offline::PaymentToken token;
    token.cvm = offline::Cvm::pin;
    token.asset = kAsset;
    token.certificate = world.certificates[d];
    token.counter = token.certificate.counter_first + i / o.devices;
    token.amount = Amount::FromMinor(1 + (i * 7919) % 10'000);
    token.merchant_id = MerchantId(t);
    token.terminal_id = TerminalId(t);
    for (size_t k = 0; k < 8; ++k) token.nonce[k] = static_cast<uint8_t>(i >> (8 * k));
    token.terminal_time = now_ms;
    token.device_time = now_ms;
    std::vector<uint8_t> bytes = offline::Encode(token);
    const crypto::Signature s =
        crypto::Sign(world.device_keys[d], offline::kTokenDomain,
                     offline::SignedPart(bytes, offline::MessageType::payment_token));
    std::copy(s.bytes.begin(), s.bytes.end(), bytes.end() - 64);
    world.tokens[i] = std::move(bytes);
  });
  world.batches.resize(batches);
  ParallelFor(batches, ThreadsOr(0), [&](uint64_t b) {
    offline::TerminalBatch batch;
    const uint64_t t = b % o.terminals;
    batch.terminal_id = TerminalId(t);
    for (size_t k = 0; k < 8; ++k) batch.batch_id[k] = static_cast<uint8_t>(b >> (8 * k));
    batch.created = now_ms;
    const uint64_t first = b * o.batch;
    const uint64_t last = std::min(o.tokens, first + o.batch);
    for (uint64_t i = first; i < last; ++i) {
      batch.tokens.push_back(offline::DecodeToken(world.tokens[i]).value());
    }
    std::vector<uint8_t> bytes = offline::Encode(batch);
    const crypto::Signature s =
        crypto::Sign(world.terminal_keys[t], offline::kBatchDomain,
                     offline::SignedPart(bytes, offline::MessageType::terminal_batch));
    std::copy(s.bytes.begin(), s.bytes.end(), bytes.end() - 64);
    world.batches[b] = std::move(bytes);
  });
}

// A contiguous run of batches [first, last) and their tokens [first_token, last_token).
struct Round {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t first_token = 0;
  uint64_t last_token = 0;
};

std::vector<Round> SplitIntoRounds(const OfflineBenchOptions& o, uint64_t batches) {
  const uint64_t count = std::max<uint64_t>(1, std::min(o.rounds, batches));
  std::vector<Round> rounds;
  for (uint64_t r = 0; r < count; ++r) {
    Round round;
    round.first = batches * r / count;
    round.last = batches * (r + 1) / count;
    round.first_token = round.first * o.batch;
    round.last_token = std::min(o.tokens, round.last * o.batch);
    rounds.push_back(round);
  }
  return rounds;
}

// Verifications per second of the round's tokens' device signatures, nothing else.
double RawVerifyRate(const World& world, const Round& round, uint32_t threads) {
  SystemClock clock;
  std::atomic<uint64_t> failures{0};
  const uint64_t count = round.last_token - round.first_token;
  const uint64_t start = clock.MonotonicNs();
  ParallelFor(count, threads, [&](uint64_t i) {
    const std::vector<uint8_t>& bytes = world.tokens[round.first_token + i];
    crypto::Signature signature;
    std::copy(bytes.end() - 64, bytes.end(), signature.bytes.begin());
    crypto::PublicKey key;
    std::copy(bytes.begin() + 8 + 32, bytes.begin() + 8 + 64, key.bytes.begin());
    if (!crypto::Verify(key, offline::kTokenDomain,
                        std::span<const uint8_t>(bytes).first(offline::kTokenSignedBytes),
                        signature)) {
      failures.fetch_add(1);
    }
  });
  const double seconds = static_cast<double>(clock.MonotonicNs() - start) / 1e9;
  if (failures.load() != 0) return 0;
  return static_cast<double>(count) / seconds;
}

struct ClearingResult {
  double seconds = 0;
  std::vector<uint64_t> latency_ns;
  uint64_t cleared = 0;
  uint64_t other = 0;
  std::string error;
};

// Uploads the round's batches with --uploaders threads and waits for every durable reply.
ClearingResult RunClearing(Engine& engine, const OfflineBenchOptions& o, const World& world,
                           const Round& round) {
  SystemClock clock;
  ClearingResult result;
  result.latency_ns.resize(round.last - round.first);
  std::atomic<uint64_t> next{round.first};
  std::mutex mutex;
  const uint64_t start = clock.MonotonicNs();
  std::vector<std::thread> uploaders;
  for (uint32_t u = 0; u < o.uploaders; ++u) {
    uploaders.emplace_back([&] {
      for (uint64_t b = next.fetch_add(1); b < round.last; b = next.fetch_add(1)) {
        OfflineCommand upload;
        upload.kind = OfflineCommandKind::submit_batch;
        upload.batch_bytes = world.batches[b];
        const uint64_t sent = clock.MonotonicNs();
        const engine::OfflineReply reply = engine.ExecuteOffline(std::move(upload));
        const uint64_t latency = clock.MonotonicNs() - sent;
        std::lock_guard lock(mutex);
        result.latency_ns[b - round.first] = latency;
        if (reply.error != OfflineError::ok) {
          result.error = std::string(engine::OfflineErrorName(reply.error)) + ": " + reply.detail;
          continue;
        }
        for (const offline::TokenOutcome& outcome : reply.outcomes) {
          if (outcome.classification == offline::Classification::cleared) {
            ++result.cleared;
          } else {
            ++result.other;
          }
        }
      }
    });
  }
  for (std::thread& t : uploaders) t.join();
  result.seconds = static_cast<double>(clock.MonotonicNs() - start) / 1e9;
  std::sort(result.latency_ns.begin(), result.latency_ns.end());
  return result;
}

struct AcceptanceResult {
  std::vector<uint64_t> latency_ns;  // Accept() alone, sorted
  double seconds = 0;                // sum of Accept() times
  std::string error;
};

// One merchant terminal on the real disk accepts --terminal-payments tokens, one at a time as a
// point of sale would: request, the device signs (not timed), then Accept — certificate and
// token verification, the checks, and the durable store (journal append + fdatasync) — timed.
AcceptanceResult RunAcceptance(Engine& engine, const OfflineBenchOptions& o, const World& world,
                               const std::string& dir) {
  AcceptanceResult result;
  SystemClock clock;
  const std::string path = dir + "/terminal";
  ::mkdir(path.c_str(), 0700);
  auto storage = storage::PosixStorage::Open(path, true);
  if (!storage.ok()) {
    result.error = storage.error().Message();
    return result;
  }
  terminal::TerminalIdentity identity;
  identity.terminal_id = terminal::TerminalId{TerminalId(o.terminals)};
  identity.merchant_id = terminal::MerchantId{MerchantId(o.terminals)};
  identity.issuer_keys[1] = KeyFor(o.seed, 0, 0).public_key();
  terminal::TerminalOptions terminal_options;
  terminal_options.kdf = crypto::kKdfFastInsecureForTests;  // key set-up cost is not measured
  auto passphrase = crypto::Passphrase::Copy("bench");
  auto created = terminal::Terminal::Create(*storage.value(), identity, passphrase.value(),
                                            terminal_options);
  if (!created.ok()) {
    result.error = created.error().Message();
    return result;
  }
  terminal::Terminal& pos = *created.value();
  OfflineCommand deny;
  deny.kind = OfflineCommandKind::deny_list;
  const engine::OfflineReply list = engine.ExecuteOffline(deny);
  const uint64_t start_ms = clock.Now().ns / 1'000'000;
  if (list.error != OfflineError::ok || !pos.InstallDenyList(list.deny_list, start_ms).ok()) {
    result.error = "installing the deny list failed";
    return result;
  }
  for (uint64_t i = 0; i < o.terminal_payments; ++i) {
    const uint64_t now_ms = clock.Now().ns / 1'000'000;
    const uint64_t d = i % o.devices;
    auto request = pos.NewRequest(Amount::FromMinor(1 + i % 5'000), kAsset, now_ms);
    if (!request.ok()) {
      result.error = request.error().Message();
      return result;
    }
    offline::PaymentToken token;
    token.cvm = offline::Cvm::pin;
    token.asset = kAsset;
    token.certificate = world.certificates[d];
    token.counter = token.certificate.counter_first + i / o.devices;
    token.amount = request.value().request.amount;
    token.merchant_id = request.value().request.merchant_id;
    token.terminal_id = request.value().request.terminal_id;
    token.nonce = request.value().request.nonce;
    token.terminal_time = request.value().request.terminal_time;
    token.device_time = now_ms;
    std::vector<uint8_t> bytes = offline::Encode(token);
    const crypto::Signature s =
        crypto::Sign(world.device_keys[d], offline::kTokenDomain,
                     offline::SignedPart(bytes, offline::MessageType::payment_token));
    std::copy(s.bytes.begin(), s.bytes.end(), bytes.end() - 64);
    const uint64_t before = clock.MonotonicNs();
    const terminal::AcceptResult accepted = pos.Accept(bytes, now_ms);
    const uint64_t took = clock.MonotonicNs() - before;
    if (!accepted.accepted()) {
      result.error = accepted.Message();
      return result;
    }
    result.latency_ns.push_back(took);
    result.seconds += static_cast<double>(took) / 1e9;
  }
  std::sort(result.latency_ns.begin(), result.latency_ns.end());
  return result;
}

// The disk's floor for the terminal: append one token-sized record and fdatasync it, as often as
// the terminal part accepts, on the same directory. Sorted latencies.
std::vector<uint64_t> RawSyncLatencies(const std::string& dir, uint64_t count) {
  std::vector<uint64_t> latency;
  auto storage = storage::PosixStorage::Open(dir, false);
  if (!storage.ok()) return latency;
  auto file = storage.value()->Open("raw-sync.bench", storage::OpenMode::create_new);
  if (!file.ok()) return latency;
  SystemClock clock;
  const std::vector<uint8_t> record(16 + offline::kTokenBytes + 16, 0x5a);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t before = clock.MonotonicNs();
    if (!file.value()->Append(record).ok() || !file.value()->DataSync().ok()) break;
    latency.push_back(clock.MonotonicNs() - before);
  }
  (void)storage.value()->Remove("raw-sync.bench");
  std::sort(latency.begin(), latency.end());
  return latency;
}

int RunOfflineBench(const OfflineBenchOptions& o) {
  std::string dir = o.data_dir;
  const bool remove_after = dir.empty();
  if (dir.empty()) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                          "/tpwallet-bench-offline-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::fprintf(stderr, "error: cannot create a temporary directory for the benchmark\n");
      return kExitFailure;
    }
    dir = pattern;
  }
  struct Cleanup {
    std::string path;
    bool active;
    ~Cleanup() {
      std::error_code ignored;
      if (active) std::filesystem::remove_all(path, ignored);
    }
  } cleanup{dir, remove_after};
  auto storage = storage::PosixStorage::Open(dir, true);
  if (!storage.ok()) {
    std::fprintf(stderr, "error: %s\n", storage.error().Message().c_str());
    return kExitFailure;
  }
  if (auto s = Engine::Initialize(*storage.value()); !s.ok()) {
    std::fprintf(stderr, "error: %s\n  (the benchmark needs a new, empty --data-dir)\n",
                 s.error().Message().c_str());
    return kExitFailure;
  }
  const uint32_t raw_threads = ThreadsOr(o.threads);
  std::printf("tpwallet bench offline\n");
  std::printf(
      "  settings: devices=%lu terminals=%lu tokens=%lu batch=%lu threads=%u uploaders=%u "
      "verify_threads=%u rounds=%lu fsync=%s seed=%lu dir=%s\n",
      o.devices, o.terminals, o.tokens, o.batch, raw_threads, o.uploaders, o.verify_threads,
      o.rounds, o.fsync.c_str(), o.seed, dir.c_str());

  engine::EngineOptions options;
  options.fsync = o.fsync == "never" ? engine::FsyncMode::never : engine::FsyncMode::always;
  options.issuer_key = std::make_shared<crypto::SecretKey>(KeyFor(o.seed, 0, 0));
  options.verify_threads = o.verify_threads;
  options.expected_accounts = 2 * o.devices + o.terminals + 16;
  options.expected_transfers = o.tokens + 2 * o.devices + 16;
  auto engine = Engine::Open(*storage.value(), options);
  if (!engine.ok()) {
    std::fprintf(stderr, "error: %s\n", engine.error().Message().c_str());
    return kExitFailure;
  }
  World world;
  std::fprintf(stderr, "  set-up: enrolling %lu devices, registering %lu terminals...\n", o.devices,
               o.terminals);
  if (!SetUpLedger(*engine.value(), o, *options.issuer_key, world)) return kExitInternal;
  std::fprintf(stderr, "  set-up: signing %lu tokens into %lu batches...\n", o.tokens,
               (o.tokens + o.batch - 1) / o.batch);
  MakeTokensAndBatches(o, world);

  const std::vector<Round> rounds = SplitIntoRounds(o, world.batches.size());
  // raw[r] is measured just before round r; raw[rounds.size()] after the last (on its tokens).
  std::vector<double> raw(rounds.size() + 1);
  std::vector<double> round_seconds(rounds.size());
  ClearingResult clearing;
  double raw_seconds = 0;  // the raw run's time for all tokens, at each round's reference rate
  for (size_t r = 0; r < rounds.size(); ++r) {
    std::fprintf(stderr, "  round %zu/%zu: raw Ed25519 verification, then clearing %lu batches...\n",
                 r + 1, rounds.size(), rounds[r].last - rounds[r].first);
    raw[r] = RawVerifyRate(world, rounds[r], raw_threads);
    if (raw[r] == 0) {
      std::fprintf(stderr, "internal error: a token signature did not verify\n");
      return kExitInternal;
    }
    ClearingResult part = RunClearing(*engine.value(), o, world, rounds[r]);
    if (!part.error.empty()) {
      std::fprintf(stderr, "error: clearing failed: %s\n", part.error.c_str());
      return kExitFailure;
    }
    round_seconds[r] = part.seconds;
    clearing.seconds += part.seconds;
    clearing.cleared += part.cleared;
    clearing.other += part.other;
    clearing.latency_ns.insert(clearing.latency_ns.end(), part.latency_ns.begin(),
                               part.latency_ns.end());
    if (r + 1 == rounds.size()) raw[r + 1] = RawVerifyRate(world, rounds[r], raw_threads);
  }
  std::string ratio_text;  // each round against the mean raw rate on either side of it
  for (size_t r = 0; r < rounds.size(); ++r) {
    const double tokens = static_cast<double>(rounds[r].last_token - rounds[r].first_token);
    const double reference = (raw[r] + raw[r + 1]) / 2;
    raw_seconds += tokens / reference;
    char text[32];
    std::snprintf(text, sizeof text, "%s%.1f%%", r == 0 ? "" : ", ",
                  100.0 * tokens / round_seconds[r] / reference);
    ratio_text += text;
  }
  std::sort(clearing.latency_ns.begin(), clearing.latency_ns.end());
  const double total_tokens = static_cast<double>(clearing.cleared + clearing.other);
  const double rate = total_tokens / clearing.seconds;
  const double raw_rate = total_tokens / raw_seconds;
  std::string raw_text;
  for (size_t r = 0; r < raw.size(); ++r) {
    raw_text += (r == 0 ? "" : ", ") + std::to_string(static_cast<uint64_t>(raw[r]));
  }
  std::printf("  raw Ed25519 verify:  %.0f verifications/s on %u threads (per round boundary: %s)\n",
              raw_rate, raw_threads, raw_text.c_str());
  std::printf("  clearing:            %.0f tokens/s (%lu cleared, %lu other; %.3f s in %zu rounds)\n",
              rate, clearing.cleared, clearing.other, clearing.seconds, rounds.size());
  std::printf("  ratio:               %.1f%% of the raw verification rate (rounds: %s)\n",
              100.0 * rate / raw_rate, ratio_text.c_str());
  std::printf("  batch latency:       p50 %.1f ms  p99 %.1f ms  max %.1f ms  (%zu batches)\n",
              Millis(Percentile(clearing.latency_ns, 0.50)),
              Millis(Percentile(clearing.latency_ns, 0.99)), Millis(clearing.latency_ns.back()),
              clearing.latency_ns.size());
  if (o.terminal_payments > 0) {
    std::fprintf(stderr, "  terminal acceptance...\n");
    const AcceptanceResult acceptance = RunAcceptance(*engine.value(), o, world, dir);
    if (!acceptance.error.empty()) {
      std::fprintf(stderr, "error: terminal acceptance failed: %s\n", acceptance.error.c_str());
      return kExitFailure;
    }
    const std::vector<uint64_t> raw_sync = RawSyncLatencies(dir, o.terminal_payments);
    if (!raw_sync.empty()) {
      std::printf("  raw append+fdatasync: p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%zu x 456 bytes, "
                  "same disk: the floor of the next line)\n",
                  Millis(Percentile(raw_sync, 0.50)), Millis(Percentile(raw_sync, 0.99)),
                  Millis(raw_sync.back()), raw_sync.size());
    }
    const std::vector<uint64_t>& l = acceptance.latency_ns;
    std::printf(
        "  terminal accept:     p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%zu payments, one terminal,"
        " fdatasync each; %.0f accepts/s)\n",
        Millis(Percentile(l, 0.50)), Millis(Percentile(l, 0.99)), Millis(l.back()), l.size(),
        static_cast<double>(l.size()) / acceptance.seconds);
  }
  std::printf("  peak RSS:            %.1f MiB\n", static_cast<double>(PeakRssBytes()) / 1048576.0);
  return clearing.other == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void RegisterBenchOffline(CLI::App& bench, int& exit_code) {
  auto options = std::make_shared<OfflineBenchOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "offline",
      "Clearing throughput of offline payments against the raw Ed25519 verification rate "
      "measured in the same run (signature checking should be the only real cost).\n"
      "Examples:\n"
      "  tpwallet bench offline\n"
      "  tpwallet bench offline --tokens 50000 --devices 100 --uploaders 1 --verify-threads 2");
  cmd->add_option("--devices", options->devices, "Enrolled devices paying")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
  cmd->add_option("--terminals", options->terminals, "Registered terminals uploading")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000}));
  cmd->add_option("--tokens", options->tokens, "Payment tokens to clear")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  cmd->add_option("--batch", options->batch, "Tokens per terminal batch (1..8189)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{offline::kBatchTokensMax}));
  cmd->add_option("--threads", options->threads,
                  "Threads for the raw verification measurement; 0 = one per hardware thread")
      ->capture_default_str();
  cmd->add_option("--uploaders", options->uploaders, "Concurrent batch uploads while clearing")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  cmd->add_option("--verify-threads", options->verify_threads,
                  "Threads verifying one upload (the engine's verify_threads); 0 = hardware threads")
      ->capture_default_str();
  cmd->add_option("--fsync", options->fsync, "'always' (fdatasync per group commit) or 'never'")
      ->capture_default_str()
      ->check(CLI::IsMember({"always", "never"}));
  cmd->add_option("--data-dir", options->data_dir,
                  "A new, empty data directory to use (kept afterwards); default: a temporary one");
  cmd->add_option("--seed", options->seed, "Seed for keys, amounts and nonces")->capture_default_str();
  cmd->add_option("--rounds", options->rounds,
                  "Clearing rounds, each between two raw verification measurements (the "
                  "machine's speed drifts; each round is compared with the raw rate around it)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100}))
      ->capture_default_str();
  cmd->add_option("--terminal-payments", options->terminal_payments,
                  "Payments one terminal accepts on the real disk (timed: Accept with its "
                  "fdatasync); 0 = skip; at most --tokens")
      ->capture_default_str();
  cmd->callback([options, &exit_code] { exit_code = RunOfflineBench(*options); });
}

}  // namespace tpw::cli
