// The offline-payments simulator: see offline_sim.h and docs/offline-protocol.md ("Simulation").
#include "sim/offline_sim.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/assert.h"
#include "common/clock.h"
#include "common/limits.h"
#include "crypto/keystore.h"
#include "crypto/sign.h"
#include "engine/engine.h"
#include "offline/clearing.h"
#include "offline/messages.h"
#include "storage/simulated_storage.h"
#include "terminal/terminal.h"
#include "wallet/wallet.h"

namespace tpw::sim {
namespace {

using engine::OfflineCommand;
using engine::OfflineCommandKind;
using engine::OfflineError;
using engine::OfflineReply;
using offline::Classification;

constexpr uint32_t kAsset = 1;
constexpr uint32_t kIssuerKeyId = 1;
constexpr uint64_t kStartMs = 1'750'000'000'000;  // 2025-06-15, a fixed simulated epoch
constexpr uint64_t kSetUpMs = 60'000;             // enrollment and registration take a minute
constexpr uint64_t kNsPerMs = 1'000'000;
constexpr u128 kFunderAccount = 1;
constexpr u128 kGuaranteeAccount = 2;
constexpr u128 kGuaranteeFunding = u128{1'000'000'000'000'000};
constexpr uint64_t kUserFundingAllowances = 32;   // a user holds this many allowances at the start
constexpr uint32_t kOverLimitAmountPpm = 20'000;  // payments asked above per_payment_max
constexpr uint32_t kPinForgottenPpm = 10'000;     // a PIN-needing payment without the PIN
constexpr size_t kFailuresMax = 50;               // failures listed; more are only counted

u128 UserAccount(uint64_t d) { return 10'000'000 + u128{d}; }
u128 ReserveAccount(uint64_t d) { return 20'000'000 + u128{d}; }
u128 MerchantAccount(uint64_t t) { return 30'000'000 + u128{t}; }
u128 TerminalIdOf(uint64_t t) { return 40'000'000 + u128{t}; }
u128 MerchantIdOf(uint64_t t) { return 50'000'000 + u128{t}; }

void AddTo(u128& total, u128 amount) { TPW_ASSERT(!__builtin_add_overflow(total, amount, &total)); }
void SubFrom(u128& total, u128 amount) {
  TPW_ASSERT(!__builtin_sub_overflow(total, amount, &total));
}
std::string Dec(u128 v) { return U128ToDecimal(v); }

crypto::SecretKey IssuerKeyFor(uint64_t seed) {
  std::array<uint8_t, crypto::kSigningSeedBytes> bytes{};
  for (size_t i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(seed >> (8 * i));
  bytes[8] = 0x0f;  // "offline simulator issuer"
  return crypto::SigningKeyFromSeed(bytes);
}

crypto::Passphrase SimPassphrase() {
  auto passphrase = crypto::Passphrase::Copy("offline simulation passphrase");
  TPW_ASSERT(passphrase.ok());
  return std::move(passphrase).value();
}

// A wallet's files: an original device's, or a copy of them (a clone).
struct Payer {
  size_t device = 0;
  bool clone = false;
  std::unique_ptr<storage::SimulatedStorage> storage;
  std::unique_ptr<wallet::Wallet> wallet;  // open, or null (reopened on demand)
};

struct Device {
  u128 id = 0;
  bool compromised = false;
  uint64_t clone_at_ms = 0;
  std::vector<size_t> copies;  // payer indices of its clones (empty until cloned)
  // The oracle: what the ledger must hold for it, kept from the messages it got.
  u128 reserve_expected = 0;
  u128 user_expected = 0;
  uint64_t serial = 0;                         // its current certificate
  std::map<uint64_t, u128> cleared_by_serial;  // cleared amount per certificate
  // First clone evidence seen at clearing: a double_spend, or a token above the counter the
  // owner declared at sync (counter_after_sync); either revokes the device.
  std::optional<uint64_t> revoked_at_ms;
};

struct TerminalSim {
  std::unique_ptr<storage::SimulatedStorage> storage;
  std::unique_ptr<terminal::Terminal> terminal;
  u128 accepted = 0;           // amount accepted here
  u128 merchant_expected = 0;  // what its merchant account must hold
};

// One token a terminal accepted, and what clearing made of it.
struct TokenRecord {
  size_t payer = 0;
  size_t device = 0;
  size_t terminal = 0;
  uint64_t serial = 0;
  uint64_t counter = 0;
  u128 amount = 0;
  uint64_t accepted_ms = 0;
  bool classified = false;
  uint64_t classified_order = 0;  // 1, 2, ... in the order clearing classified tokens
  Classification classification = Classification::invalid;
  offline::InvalidReason reason = offline::InvalidReason::none;
};

class OfflineSimulation {
 public:
  explicit OfflineSimulation(const OfflineSimOptions& options)
      : o_(options),
        random_(options.seed),
        storage_random_(options.seed ^ 0x5707a6e5eedull),
        clock_(Timestamp{kStartMs * kNsPerMs}),
        engine_storage_(storage_random_),
        passphrase_(SimPassphrase()),
        issuer_(IssuerKeyFor(options.seed)) {}

  OfflineSimReport Run();

 private:
  bool Fail(const std::string& what);
  OfflineReply Exec(OfflineCommand command, uint64_t now_ms);
  bool SetUpEngine();
  bool CreateAccounts();
  bool EnrollDevices();
  bool RegisterTerminals();
  wallet::Wallet* OpenWallet(size_t payer);
  void CloseOldestWallet();
  void MakeClones(size_t device);
  void Pay(uint64_t now_ms);
  void Replay(const std::vector<uint8_t>& token, size_t terminal, uint64_t now_ms);
  void Sync(size_t device, uint64_t now_ms);
  void Connect(size_t terminal, uint64_t now_ms, bool final_flush);
  void RefreshDenyList(size_t terminal, uint64_t now_ms);
  void Upload(size_t terminal, const terminal::PendingBatch& batch, uint64_t now_ms);
  void Classify(const offline::TokenOutcome& outcome, uint64_t now_ms);
  void RunDay();
  void FlushAll(uint64_t now_ms);
  void ResolveExceptions(uint64_t now_ms);
  void CheckClearing();
  void CheckDoubleSpends();
  void CheckLoss(uint64_t now_ms);
  void CheckMoney();
  template <typename T>
  void Shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[static_cast<size_t>(random_.Uniform(i))]);
    }
  }

  const OfflineSimOptions o_;
  SeededRandom random_;          // every decision of the run
  SeededRandom storage_random_;  // the simulated disks (no faults are injected)
  ManualClock clock_;
  storage::SimulatedStorage engine_storage_;
  crypto::Passphrase passphrase_;
  crypto::SecretKey issuer_;
  std::unique_ptr<engine::Engine> engine_;
  std::vector<Device> devices_;
  std::vector<Payer> payers_;
  std::vector<size_t> clones_;       // payer indices of every clone made so far
  std::deque<size_t> open_wallets_;  // payers with an open wallet, oldest first
  std::vector<TerminalSim> terminals_;
  std::vector<TokenRecord> tokens_;
  std::unordered_map<crypto::Hash256, size_t, offline::Hash256Hasher> token_index_;
  std::set<terminal::BatchId> held_batches_;
  u128 guarantee_expected_ = kGuaranteeFunding;
  uint64_t failures_total_ = 0;
  uint64_t classified_count_ = 0;
  OfflineSimReport r_;
};

bool OfflineSimulation::Fail(const std::string& what) {
  ++failures_total_;
  if (r_.failures.size() < kFailuresMax) r_.failures.push_back(what);
  return false;
}

OfflineReply OfflineSimulation::Exec(OfflineCommand command, uint64_t now_ms) {
  // Only one engine call is in flight, and the engine reads the clock only while serving it
  // (expire_when_idle is off), so moving the manual clock here is race-free.
  clock_.Set(Timestamp{now_ms * kNsPerMs});
  return engine_->ExecuteOffline(std::move(command));
}

bool OfflineSimulation::SetUpEngine() {
  if (auto s = engine::Engine::Initialize(engine_storage_); !s.ok()) {
    return Fail("engine initialize: " + s.error().Message());
  }
  engine::EngineOptions options;
  options.expire_when_idle = false;
  options.issuer_key = std::make_shared<crypto::SecretKey>(IssuerKeyFor(o_.seed));
  options.issuer_key_id = kIssuerKeyId;
  options.deny_list_max_age_ms = o_.deny_list_max_age_ms;
  options.verify_threads = 1;
  options.expected_accounts = 2 * o_.devices + o_.terminals + 16;
  options.expected_transfers = o_.payments + 4 * o_.devices + 16;
  auto engine = engine::Engine::Open(engine_storage_, options, &clock_);
  if (!engine.ok()) return Fail("engine open: " + engine.error().Message());
  engine_ = std::move(engine).value();
  OfflineCommand key;
  key.kind = OfflineCommandKind::add_issuer_key;
  key.issuer_key_id = kIssuerKeyId;
  key.public_key = issuer_.public_key().bytes;
  const OfflineReply reply = Exec(key, kStartMs);
  if (reply.error != OfflineError::ok) return Fail("add_issuer_key: " + reply.detail);
  return CreateAccounts();
}

bool OfflineSimulation::CreateAccounts() {
  std::vector<ledger::Account> accounts;
  auto add = [&](u128 id) {
    ledger::Account a;
    a.id = AccountId{id};
    a.ledger = kAsset;
    a.code = 1;
    accounts.push_back(a);
  };
  add(kFunderAccount);
  add(kGuaranteeAccount);
  for (uint64_t d = 0; d < o_.devices; ++d) add(UserAccount(d));
  for (uint64_t t = 0; t < o_.terminals; ++t) add(MerchantAccount(t));
  const u128 user_funding = u128{o_.allowance} * kUserFundingAllowances;
  std::vector<ledger::Transfer> transfers;
  auto fund = [&](u128 id, u128 credit, u128 amount) {
    ledger::Transfer t;
    t.id = TransferId{id};
    t.debit_account_id = AccountId{kFunderAccount};
    t.credit_account_id = AccountId{credit};
    t.amount = Amount::FromMinor(amount);
    t.ledger = kAsset;
    t.code = 1;
    transfers.push_back(t);
  };
  fund(1, kGuaranteeAccount, kGuaranteeFunding);
  for (uint64_t d = 0; d < o_.devices; ++d) fund(2 + u128{d}, UserAccount(d), user_funding);
  r_.funded_users = user_funding * o_.devices;
  for (size_t i = 0; i < accounts.size(); i += kBatchEventsMax) {
    const size_t n = std::min(kBatchEventsMax, accounts.size() - i);
    const auto first = accounts.begin() + static_cast<std::ptrdiff_t>(i);
    if (!engine_->CreateAccounts({first, first + static_cast<std::ptrdiff_t>(n)})
             .account_results.empty()) {
      return Fail("creating accounts failed");
    }
  }
  for (size_t i = 0; i < transfers.size(); i += kBatchEventsMax) {
    const size_t n = std::min(kBatchEventsMax, transfers.size() - i);
    const auto first = transfers.begin() + static_cast<std::ptrdiff_t>(i);
    if (!engine_->CreateTransfers({first, first + static_cast<std::ptrdiff_t>(n)})
             .transfer_results.empty()) {
      return Fail("funding accounts failed");
    }
  }
  return true;
}

wallet::Wallet* OfflineSimulation::OpenWallet(size_t payer) {
  Payer& p = payers_[payer];
  if (p.wallet != nullptr) return p.wallet.get();
  while (open_wallets_.size() >= o_.open_wallets_max) CloseOldestWallet();
  auto opened = wallet::Wallet::Open(*p.storage, passphrase_);
  if (!opened.ok()) {
    Fail("wallet of device " + std::to_string(p.device) +
         " does not reopen: " + opened.error().Message());
    return nullptr;
  }
  p.wallet = std::move(opened).value();
  open_wallets_.push_back(payer);
  return p.wallet.get();
}

void OfflineSimulation::CloseOldestWallet() {
  TPW_ASSERT(!open_wallets_.empty());
  payers_[open_wallets_.front()].wallet.reset();
  open_wallets_.pop_front();
}

bool OfflineSimulation::EnrollDevices() {
  wallet::CreateOptions create;
  create.kdf = crypto::kKdfFastInsecureForTests;
  create.issuer = wallet::IssuerKey{kIssuerKeyId, issuer_.public_key()};
  devices_.resize(o_.devices);
  for (uint64_t d = 0; d < o_.devices; ++d) {
    Payer payer;
    payer.device = d;
    payer.storage = std::make_unique<storage::SimulatedStorage>(storage_random_);
    auto created = wallet::Wallet::Create(*payer.storage, passphrase_, create);
    if (!created.ok()) return Fail("wallet create: " + created.error().Message());
    std::unique_ptr<wallet::Wallet> w = std::move(created).value();
    Device& device = devices_[d];
    device.id = w->device_id();
    OfflineCommand enroll;
    enroll.kind = OfflineCommandKind::enroll_device;
    enroll.device_id = device.id;
    enroll.public_key = w->device_public_key().bytes;
    enroll.user_account = AccountId{UserAccount(d)};
    enroll.reserve_account = AccountId{ReserveAccount(d)};
    enroll.asset = kAsset;
    enroll.allowance = Amount::FromMinor(o_.allowance);
    enroll.per_payment_max = Amount::FromMinor(o_.per_payment_max);
    enroll.cvm_threshold = Amount::FromMinor(o_.cvm_threshold);
    enroll.payment_count_max = o_.payment_count_max;
    enroll.valid_for_ms = o_.certificate_validity_ms;
    const OfflineReply reply = Exec(enroll, kStartMs);
    if (reply.error != OfflineError::ok) {
      return Fail("enroll_device: " + std::string(OfflineErrorName(reply.error)) + " " +
                  reply.detail);
    }
    auto installed = w->InstallCertificate(reply.certificate);
    if (!installed.ok()) return Fail("install certificate: " + installed.error().Message());
    device.serial = installed.value().serial;
    device.reserve_expected = o_.allowance;
    device.user_expected = u128{o_.allowance} * (kUserFundingAllowances - 1);
    device.compromised = random_.Chance(o_.clone_ppm, kPpm);
    device.clone_at_ms =
        kStartMs + kSetUpMs + random_.Uniform(std::max<uint64_t>(1, o_.day_ms / 2));
    payers_.push_back(std::move(payer));
    while (open_wallets_.size() >= o_.open_wallets_max) CloseOldestWallet();
    payers_.back().wallet = std::move(w);
    open_wallets_.push_back(payers_.size() - 1);
    if (o_.progress != nullptr && (d + 1) % 5'000 == 0) {
      std::fprintf(o_.progress, "  set-up: %lu/%lu devices enrolled\n", d + 1, o_.devices);
    }
  }
  return true;
}

bool OfflineSimulation::RegisterTerminals() {
  terminal::TerminalOptions options;
  options.kdf = crypto::kKdfFastInsecureForTests;
  terminals_.resize(o_.terminals);
  for (uint64_t t = 0; t < o_.terminals; ++t) {
    TerminalSim& sim = terminals_[t];
    sim.storage = std::make_unique<storage::SimulatedStorage>(storage_random_);
    const terminal::TerminalIdentity identity{terminal::TerminalId(TerminalIdOf(t)),
                                              terminal::MerchantId(MerchantIdOf(t)),
                                              {{kIssuerKeyId, issuer_.public_key()}}};
    auto created = terminal::Terminal::Create(*sim.storage, identity, passphrase_, options);
    if (!created.ok()) return Fail("terminal create: " + created.error().Message());
    sim.terminal = std::move(created).value();
    OfflineCommand reg;
    reg.kind = OfflineCommandKind::register_terminal;
    reg.terminal_id = TerminalIdOf(t);
    reg.merchant_id = MerchantIdOf(t);
    reg.settlement_account = AccountId{MerchantAccount(t)};
    reg.public_key = sim.terminal->public_key().bytes;
    const OfflineReply reply = Exec(reg, kStartMs + kSetUpMs / 2);
    if (reply.error != OfflineError::ok) return Fail("register_terminal: " + reply.detail);
    RefreshDenyList(t, kStartMs + kSetUpMs / 2);
  }
  return r_.failures.empty();
}

// A copy of the device's wallet directory, key and state: the clone reuses its counters.
void OfflineSimulation::MakeClones(size_t device) {
  Device& dev = devices_[device];
  storage::Storage& from = *payers_[device].storage;
  auto names = from.List();
  TPW_ASSERT(names.ok());
  for (uint32_t c = 0; c < o_.clones_per_device; ++c) {
    Payer clone;
    clone.device = device;
    clone.clone = true;
    clone.storage = std::make_unique<storage::SimulatedStorage>(storage_random_);
    for (const std::string& name : names.value()) {
      auto in = from.Open(name, storage::OpenMode::read_only);
      TPW_ASSERT(in.ok());
      auto size = in.value()->Size();
      TPW_ASSERT(size.ok());
      std::vector<uint8_t> bytes(static_cast<size_t>(size.value()));
      TPW_ASSERT(in.value()->ReadExact(0, bytes).ok());
      auto out = clone.storage->Open(name, storage::OpenMode::create_new);
      TPW_ASSERT(out.ok());
      TPW_ASSERT(out.value()->Append(bytes).ok());
      TPW_ASSERT(out.value()->DataSync().ok());
    }
    TPW_ASSERT(clone.storage->SyncDirectory().ok());
    dev.copies.push_back(payers_.size());
    clones_.push_back(payers_.size());
    payers_.push_back(std::move(clone));
  }
}

void OfflineSimulation::Pay(uint64_t now_ms) {
  size_t d = static_cast<size_t>(random_.Uniform(devices_.size()));
  size_t payer = d;
  if (!clones_.empty() && random_.Chance(o_.clone_activity_ppm, kPpm)) {
    payer = clones_[static_cast<size_t>(random_.Uniform(clones_.size()))];
    d = payers_[payer].device;
  }
  const bool clone = payer != d;
  if (!clone && random_.Chance(o_.sync_ppm, kPpm)) Sync(d, now_ms);
  const size_t t = static_cast<size_t>(random_.Uniform(terminals_.size()));
  uint64_t amount = 1 + random_.Uniform(o_.per_payment_max);
  if (random_.Chance(kOverLimitAmountPpm, kPpm)) {
    amount = o_.per_payment_max + 1 + random_.Uniform(o_.per_payment_max / 2 + 1);
  }
  wallet::PayOptions pay;
  pay.pin_verified = amount > o_.cvm_threshold && !random_.Chance(kPinForgottenPpm, kPpm);
  const bool replay = random_.Chance(o_.replay_ppm, kPpm);

  ++r_.payments_attempted;
  if (clone) ++r_.clone_payments_attempted;
  terminal::Terminal& term = *terminals_[t].terminal;
  auto request = term.NewRequest(Amount::FromMinor(amount), kAsset, now_ms);
  if (!request.ok()) {
    Fail("terminal NewRequest: " + request.error().Message());
    return;
  }
  wallet::Wallet* w = OpenWallet(payer);
  if (w == nullptr) return;
  auto payment = w->Pay(request.value().bytes, pay, now_ms);
  if (!payment.ok()) {
    const wallet::WalletError code = payment.error().code;
    ++r_.wallet_declined;
    ++r_.wallet_declines[std::string(wallet::WalletErrorName(code))];
    if (!clone && (code == wallet::WalletError::allowance_exhausted ||
                   code == wallet::WalletError::counters_exhausted ||
                   code == wallet::WalletError::certificate_expired)) {
      Sync(d, now_ms);  // the user goes online to get a new certificate
    }
    return;
  }
  const terminal::AcceptResult result = term.Accept(payment.value().token, now_ms);
  if (!result.accepted()) {
    ++r_.terminal_declined;
    ++r_.terminal_declines[std::string(terminal::AcceptCodeName(result.code))];
    return;
  }
  ++r_.accepted;
  if (clone) ++r_.clone_payments_accepted;
  AddTo(r_.amount_accepted, amount);
  AddTo(terminals_[t].accepted, amount);
  TokenRecord record{payer, d, t, payment.value().serial, payment.value().counter, amount, now_ms};
  if (!token_index_.emplace(payment.value().token_id, tokens_.size()).second) {
    Fail("two accepted tokens with the same id");
  }
  tokens_.push_back(record);
  if (replay) Replay(payment.value().token, t, now_ms);
}

// The same token bytes again: to the terminal that took them, and to another one.
void OfflineSimulation::Replay(const std::vector<uint8_t>& token, size_t terminal,
                               uint64_t now_ms) {
  std::vector<size_t> targets{terminal};
  if (terminals_.size() > 1) {
    targets.push_back((terminal + 1 + static_cast<size_t>(random_.Uniform(terminals_.size() - 1))) %
                      terminals_.size());
  }
  for (const size_t target : targets) {
    ++r_.replays_presented;
    const terminal::AcceptResult result = terminals_[target].terminal->Accept(token, now_ms);
    if (result.accepted()) {
      ++r_.replays_accepted;
      Fail("a replayed token was accepted again by terminal " + std::to_string(target));
    } else {
      ++r_.replay_declines[std::string(terminal::AcceptCodeName(result.code))];
    }
  }
}

void OfflineSimulation::Sync(size_t d, uint64_t now_ms) {
  Device& dev = devices_[d];
  wallet::Wallet* w = OpenWallet(d);
  if (w == nullptr) return;
  auto request = w->MakeSyncRequest(std::nullopt);
  if (!request.ok()) {
    ++r_.sync_failures["wallet: " + std::string(wallet::WalletErrorName(request.error().code))];
    return;
  }
  OfflineCommand sync;
  sync.kind = OfflineCommandKind::sync_device;
  sync.device_id = dev.id;
  sync.last_counter_used = request.value().last_counter_used;
  sync.device_signature = request.value().signature.bytes;
  const OfflineReply reply = Exec(sync, now_ms);
  if (reply.error != OfflineError::ok) {
    // A revoked device cannot sync (its wallet stays sync_pending); anything else is a bug.
    ++r_.sync_failures["engine: " + std::string(engine::OfflineErrorName(reply.error))];
    if (reply.error != OfflineError::device_revoked) {
      Fail("sync_device of device " + std::to_string(d) + ": " + reply.detail);
    }
    return;
  }
  auto statement = offline::DecodeSyncStatement(reply.sync_statement);
  TPW_ASSERT(statement.ok());
  const offline::SyncStatement& s = statement.value();
  if (s.cleared_amount.minor() != dev.cleared_by_serial[dev.serial]) {
    Fail("sync statement of device " + std::to_string(d) + " says " +
         Dec(s.cleared_amount.minor()) + " cleared, clearing answered " +
         Dec(dev.cleared_by_serial[dev.serial]));
  }
  const std::optional<Amount> want = s.held_amount.CheckedAdd(s.certificate.allowance);
  if (!want || *want != s.reserve_balance) {
    Fail("sync of device " + std::to_string(d) + ": reserve is not held + allowance");
  }
  const u128 reserve = s.reserve_balance.minor();
  if (reserve >= dev.reserve_expected) {
    SubFrom(dev.user_expected, reserve - dev.reserve_expected);
  } else {
    AddTo(dev.user_expected, dev.reserve_expected - reserve);
  }
  dev.reserve_expected = reserve;
  auto installed = w->InstallSyncStatement(reply.sync_statement);
  if (!installed.ok()) {
    Fail("wallet refused the sync statement the issuer made: " + installed.error().Message());
    return;
  }
  dev.serial = installed.value().serial;
  ++r_.syncs;
}

void OfflineSimulation::RefreshDenyList(size_t t, uint64_t now_ms) {
  terminal::Terminal& term = *terminals_[t].terminal;
  OfflineCommand query;
  query.kind = OfflineCommandKind::deny_list;
  query.since_version = term.DenyList(now_ms).installed ? term.deny_list_version() : 0;
  OfflineReply reply = Exec(query, now_ms);
  if (reply.error != OfflineError::ok) {
    Fail("deny_list: " + reply.detail);
    return;
  }
  auto installed = term.InstallDenyList(reply.deny_list, now_ms);
  if (!installed.ok() &&
      installed.error().code == terminal::TerminalError::deny_list_needs_full_list) {
    query.since_version = 0;
    reply = Exec(query, now_ms);
    installed = term.InstallDenyList(reply.deny_list, now_ms);
    ++r_.deny_list_full_installs;
  } else if (query.since_version == 0) {
    ++r_.deny_list_full_installs;
  }
  if (!installed.ok()) {
    Fail("terminal " + std::to_string(t) +
         " refused the deny list: " + installed.error().Message());
    return;
  }
  ++r_.deny_list_installs;
}

void OfflineSimulation::Connect(size_t t, uint64_t now_ms, bool final_flush) {
  ++r_.terminal_connections;
  if (!final_flush && random_.Chance(o_.offline_ppm, kPpm)) {
    ++r_.terminal_connections_skipped;
    return;
  }
  RefreshDenyList(t, now_ms);
  terminal::Terminal& term = *terminals_[t].terminal;
  auto built = term.BuildBatches(now_ms);
  if (!built.ok()) {
    Fail("BuildBatches: " + built.error().Message());
    return;
  }
  if (final_flush) return;  // FlushAll uploads every terminal's batches, interleaved
  std::vector<terminal::PendingBatch> uploads;
  for (terminal::PendingBatch& batch : term.PendingBatches()) {
    if (random_.Chance(o_.late_upload_ppm, kPpm)) {
      if (held_batches_.insert(batch.batch_id).second) ++r_.batches_held_back;
      continue;
    }
    uploads.push_back(std::move(batch));
  }
  Shuffle(uploads);
  for (const terminal::PendingBatch& batch : uploads) Upload(t, batch, now_ms);
}

void OfflineSimulation::Upload(size_t t, const terminal::PendingBatch& batch, uint64_t now_ms) {
  OfflineCommand upload;
  upload.kind = OfflineCommandKind::submit_batch;
  upload.batch_bytes = batch.bytes;
  const OfflineReply reply = Exec(upload, now_ms);
  if (reply.error != OfflineError::ok) {
    Fail("submit_batch from terminal " + std::to_string(t) + ": " +
         std::string(engine::OfflineErrorName(reply.error)) + " " + reply.detail);
    return;
  }
  ++r_.batches_uploaded;
  for (const offline::TokenOutcome& outcome : reply.outcomes) Classify(outcome, now_ms);
  if (random_.Chance(o_.reupload_ppm, kPpm)) {  // the acknowledgement was lost: send it again
    ++r_.batches_reuploaded;
    const OfflineReply again = Exec(upload, now_ms);
    bool same = again.error == OfflineError::ok && again.outcomes.size() == reply.outcomes.size();
    for (size_t i = 0; same && i < reply.outcomes.size(); ++i) {
      same = again.outcomes[i].token_id == reply.outcomes[i].token_id &&
             again.outcomes[i].classification == reply.outcomes[i].classification &&
             again.outcomes[i].reason == reply.outcomes[i].reason;
    }
    if (!same) Fail("a repeated upload of a batch did not give the same results");
  }
  if (auto s = terminals_[t].terminal->MarkUploaded(batch.batch_id, now_ms); !s.ok()) {
    Fail("MarkUploaded: " + s.error().Message());
  }
}

void OfflineSimulation::Classify(const offline::TokenOutcome& outcome, uint64_t now_ms) {
  auto it = token_index_.find(outcome.token_id);
  if (it == token_index_.end()) {
    Fail("clearing classified a token no terminal accepted");
    return;
  }
  TokenRecord& token = tokens_[it->second];
  if (token.classified) {
    Fail("a token was classified twice (in two batches)");
    return;
  }
  token.classified = true;
  token.classified_order = ++classified_count_;
  token.classification = outcome.classification;
  token.reason = outcome.reason;
  Device& dev = devices_[token.device];
  switch (outcome.classification) {
    case Classification::cleared:
      ++r_.cleared;
      AddTo(r_.amount_cleared, token.amount);
      SubFrom(dev.reserve_expected, token.amount);
      AddTo(dev.cleared_by_serial[token.serial], token.amount);
      AddTo(terminals_[token.terminal].merchant_expected, token.amount);
      break;
    case Classification::duplicate:
      ++r_.duplicate;
      break;
    case Classification::double_spend:
      ++r_.double_spend;
      if (!dev.revoked_at_ms) dev.revoked_at_ms = now_ms;
      break;
    case Classification::over_allowance:
      ++r_.over_allowance;
      break;
    case Classification::invalid:
      ++r_.invalid;
      ++r_.invalid_reasons[std::string(offline::InvalidReasonName(outcome.reason))];
      if (outcome.reason == offline::InvalidReason::counter_after_sync && !dev.revoked_at_ms) {
        dev.revoked_at_ms = now_ms;
      }
      break;
    case Classification::risk_flag:  // an exception kind, never a token's outcome
      TPW_UNREACHABLE();
  }
}

void OfflineSimulation::RunDay() {
  const uint64_t day_start = kStartMs + kSetUpMs;
  using Slot = std::pair<uint64_t, size_t>;  // next connection time, terminal
  std::priority_queue<Slot, std::vector<Slot>, std::greater<Slot>> connections;
  const uint64_t interval = std::max<uint64_t>(2, o_.connect_interval_ms);
  for (size_t t = 0; t < terminals_.size(); ++t) {
    connections.emplace(day_start + random_.Uniform(interval), t);
  }
  std::vector<std::pair<uint64_t, size_t>> clone_schedule;  // when, device
  for (size_t d = 0; d < devices_.size(); ++d) {
    if (devices_[d].compromised) clone_schedule.emplace_back(devices_[d].clone_at_ms, d);
  }
  std::sort(clone_schedule.begin(), clone_schedule.end());
  size_t next_clone = 0;
  const uint64_t progress_every = std::max<uint64_t>(1, o_.payments / 10);
  for (uint64_t i = 0; i < o_.payments; ++i) {
    const uint64_t now = day_start + static_cast<uint64_t>((u128{i} * o_.day_ms) /
                                                           std::max<uint64_t>(1, o_.payments));
    while (!connections.empty() && connections.top().first <= now) {
      const auto [at, t] = connections.top();
      connections.pop();
      Connect(t, at, false);
      connections.emplace(at + interval / 2 + random_.Uniform(interval), t);
    }
    for (; next_clone < clone_schedule.size() && clone_schedule[next_clone].first <= now;
         ++next_clone) {
      MakeClones(clone_schedule[next_clone].second);
    }
    Pay(now);
    if (o_.progress != nullptr && (i + 1) % progress_every == 0) {
      std::fprintf(o_.progress, "  day: %lu/%lu payments, %lu accepted, %lu cleared so far\n",
                   i + 1, o_.payments, r_.accepted, r_.cleared);
    }
  }
}

// The end of the day: every terminal comes online, builds its last batches, and all pending
// batches of all terminals are uploaded in one random order.
void OfflineSimulation::FlushAll(uint64_t now_ms) {
  std::vector<std::pair<size_t, terminal::PendingBatch>> all;
  for (size_t t = 0; t < terminals_.size(); ++t) {
    Connect(t, now_ms, true);
    for (terminal::PendingBatch& b : terminals_[t].terminal->PendingBatches()) {
      all.emplace_back(t, std::move(b));
    }
  }
  Shuffle(all);
  for (const auto& [t, batch] : all) Upload(t, batch, now_ms);
  for (size_t t = 0; t < terminals_.size(); ++t) {
    const terminal::TerminalStatusReport status = terminals_[t].terminal->Status(now_ms);
    if (status.ready != 0 || status.pending_batches != 0) {
      Fail("terminal " + std::to_string(t) + " still holds tokens after the final upload");
    }
  }
}

void OfflineSimulation::ResolveExceptions(uint64_t now_ms) {
  OfflineCommand list;
  list.kind = OfflineCommandKind::list_exceptions;
  list.exceptions_filter.status = std::nullopt;  // every status
  const OfflineReply listed = Exec(list, now_ms);
  r_.exceptions_opened = listed.exceptions.size();
  if (!o_.resolve_exceptions) return;
  for (const offline::ExceptionRecord& e : listed.exceptions) {
    OfflineCommand resolve;
    resolve.kind = OfflineCommandKind::resolve_exception;
    resolve.exception_id = e.id;
    resolve.resolution = offline::ExceptionRecord::Status::paid_from_guarantee;
    resolve.guarantee_account = AccountId{kGuaranteeAccount};
    const OfflineReply reply = Exec(resolve, now_ms);
    if (reply.error != OfflineError::ok) {
      Fail("resolve_exception " + std::to_string(e.id) + ": " + reply.detail);
      continue;
    }
    const u128 t = e.merchant_id - MerchantIdOf(0);
    TPW_ASSERT(t < terminals_.size());
    AddTo(terminals_[static_cast<size_t>(t)].merchant_expected, e.amount.minor());
    SubFrom(guarantee_expected_, e.amount.minor());
    AddTo(r_.amount_paid_from_guarantee, e.amount.minor());
    ++r_.exceptions_paid;
  }
}

// Every accepted token got exactly one classification; every honest device's token cleared.
void OfflineSimulation::CheckClearing() {
  uint64_t unclassified = 0;
  for (const TokenRecord& token : tokens_) {
    if (!token.classified) {
      ++unclassified;
      continue;
    }
    if (!devices_[token.device].copies.empty()) continue;
    ++r_.honest_tokens_accepted;
    if (token.classification == Classification::cleared) {
      ++r_.honest_tokens_cleared;
    } else {
      Fail("an honest token of device " + std::to_string(token.device) + " (counter " +
           std::to_string(token.counter) +
           ") was not cleared: " + std::string(offline::ClassificationName(token.classification)) +
           " " + std::string(offline::InvalidReasonName(token.reason)));
    }
  }
  if (unclassified != 0) {
    Fail(std::to_string(unclassified) + " accepted tokens never reached clearing");
  }
}

// Groups the accepted tokens by (device, counter): a group of two or more is a double spend
// injected by a clone. At most one token of it may clear, and when one did, every other one
// must be classified double_spend (or be invalid for a reason clearing checks first).
void OfflineSimulation::CheckDoubleSpends() {
  std::map<std::pair<size_t, uint64_t>, std::vector<size_t>> groups;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    groups[{tokens_[i].device, tokens_[i].counter}].push_back(i);
  }
  std::set<size_t> spenders;
  for (const auto& [key, members] : groups) {
    if (members.size() < 2) continue;
    ++r_.double_spends_injected;
    spenders.insert(key.first);
    uint64_t cleared = 0;
    uint64_t cleared_order = 0;
    bool detected = false;
    bool unexplained = false;
    uint64_t first_over_allowance = UINT64_MAX;
    for (const size_t i : members) {
      const TokenRecord& token = tokens_[i];
      switch (token.classification) {
        case Classification::cleared:
          ++cleared;
          cleared_order = token.classified_order;
          break;
        case Classification::double_spend:
          detected = true;
          break;
        case Classification::invalid:
          break;
        case Classification::over_allowance:
          first_over_allowance = std::min(first_over_allowance, token.classified_order);
          unexplained = true;
          break;
        case Classification::duplicate:
          unexplained = true;
          break;
        case Classification::risk_flag:  // never a token's outcome
          break;
      }
    }
    if (cleared > 1 || (cleared == 1 && !detected && unexplained)) {
      ++r_.double_spends_missed;
      // The gap clearing had until counters were claimed by every authentic token (see
      // ClearingTest.ACounterFirstSeenOverAllowanceIsStillADoubleSpendLater): an over_allowance
      // token did not claim its counter, so the other copy's token cleared afterwards.
      const bool behind = cleared == 1 && !detected && first_over_allowance < cleared_order;
      if (behind) ++r_.double_spends_missed_behind_over_allowance;
      Fail("double spend missed: device " + std::to_string(key.first) + " counter " +
           std::to_string(key.second) + " accepted at " + std::to_string(members.size()) +
           " terminals, " + std::to_string(cleared) + " cleared" +
           (behind ? " after the other token was classified over_allowance" : ""));
    } else if (detected) {
      ++r_.double_spends_detected;
    } else {
      // No token paid twice, but no double_spend either: every token of the pair was refused
      // for a check that comes before the double-spend check (wrong terminal or merchant,
      // expiry, counter range) or was not authentic.
      ++r_.double_spends_refused_otherwise;
    }
  }
  r_.devices_double_spending = spenders.size();
}

// Per compromised device: the loss (accepted by merchants, not paid by its reserve) against
// the bound per_payment_max × payment_count_max × terminals reached, per certificate; and the
// device is revoked once clearing saw one of its double spends.
void OfflineSimulation::CheckLoss(uint64_t now_ms) {
  struct PerDevice {
    CompromisedDeviceReport report;
    std::map<uint64_t, std::set<size_t>> terminals_by_serial;
    std::set<size_t> terminals;
    std::set<uint64_t> counters;
    std::set<uint64_t> double_counters;
  };
  std::map<size_t, PerDevice> per;
  for (const TokenRecord& token : tokens_) {
    const Device& dev = devices_[token.device];
    if (dev.copies.empty()) continue;
    PerDevice& p = per[token.device];
    ++p.report.tokens_accepted;
    AddTo(p.report.accepted, token.amount);
    if (token.classification == Classification::cleared) AddTo(p.report.cleared, token.amount);
    p.terminals_by_serial[token.serial].insert(token.terminal);
    p.terminals.insert(token.terminal);
    if (!p.counters.insert(token.counter).second) p.double_counters.insert(token.counter);
    if (dev.revoked_at_ms && token.accepted_ms > *dev.revoked_at_ms) {
      ++p.report.accepted_after_revocation;
    }
  }
  const u128 per_certificate = u128{o_.per_payment_max} * o_.payment_count_max;
  for (auto& [d, p] : per) {
    CompromisedDeviceReport& c = p.report;
    c.device_index = d;
    c.double_spent_counters = p.double_counters.size();
    c.certificates = p.terminals_by_serial.size();
    c.terminals_reached = p.terminals.size();
    for (const auto& [serial, reached] : p.terminals_by_serial) {
      AddTo(c.bound, per_certificate * reached.size());
      AddTo(c.bound_all, per_certificate * terminals_.size());
    }
    c.loss = c.accepted - c.cleared;
    OfflineCommand info;
    info.kind = OfflineCommandKind::device_info;
    info.device_id = devices_[d].id;
    const OfflineReply reply = Exec(info, now_ms);
    c.revoked = reply.device.has_value() && reply.device->revoked;
    if (c.revoked) ++r_.devices_revoked;
    if (devices_[d].revoked_at_ms && !c.revoked) {
      Fail("device " + std::to_string(d) + " gave clone evidence at clearing but is not revoked");
    }
    if (c.loss > c.bound) {
      Fail("device " + std::to_string(d) + " lost " + Dec(c.loss) + ", above its bound " +
           Dec(c.bound));
    }
    AddTo(r_.loss_total, c.loss);
    AddTo(r_.bound_total, c.bound);
    AddTo(r_.bound_all_total, c.bound_all);
    r_.loss_max = std::max(r_.loss_max, c.loss);
    r_.compromised.push_back(c);
  }
  if (o_.resolve_exceptions && r_.amount_paid_from_guarantee != r_.loss_total) {
    Fail("the guarantee paid " + Dec(r_.amount_paid_from_guarantee) + ", the loss is " +
         Dec(r_.loss_total));
  }
}

// The ledger against the oracle: every account's balance, and the sums.
void OfflineSimulation::CheckMoney() {
  std::vector<AccountId> ids{AccountId{kFunderAccount}, AccountId{kGuaranteeAccount}};
  for (uint64_t d = 0; d < o_.devices; ++d) {
    ids.push_back(AccountId{UserAccount(d)});
    ids.push_back(AccountId{ReserveAccount(d)});
  }
  for (uint64_t t = 0; t < o_.terminals; ++t) ids.push_back(AccountId{MerchantAccount(t)});
  std::map<u128, ledger::Account> accounts;
  for (size_t i = 0; i < ids.size(); i += kBatchEventsMax) {
    const size_t n = std::min(kBatchEventsMax, ids.size() - i);
    const auto first = ids.begin() + static_cast<std::ptrdiff_t>(i);
    for (ledger::Account& a :
         engine_->LookupAccounts({first, first + static_cast<std::ptrdiff_t>(n)}).accounts) {
      accounts.emplace(a.id.value, a);
    }
  }
  if (accounts.size() != ids.size()) {
    Fail("accounts missing from the ledger");
    return;
  }
  u128 debits = 0;
  u128 credits = 0;
  for (const auto& [id, a] : accounts) {
    AddTo(debits, a.debits_posted.minor());
    AddTo(credits, a.credits_posted.minor());
    if (!a.debits_pending.is_zero() || !a.credits_pending.is_zero()) Fail("pending money left");
  }
  r_.ledger_balanced = debits == credits;
  if (!r_.ledger_balanced) Fail("the ledger does not balance: debits != credits");
  // Credit balance of an account that only ever receives more than it sends.
  auto balance = [&](u128 id) {
    const ledger::Account& a = accounts.at(id);
    TPW_ASSERT(a.credits_posted >= a.debits_posted);
    return a.credits_posted.minor() - a.debits_posted.minor();
  };
  bool ok = true;
  auto expect = [&](const std::string& what, u128 got, u128 want) {
    if (got == want) return;
    ok = false;
    Fail(what + " holds " + Dec(got) + ", expected " + Dec(want));
  };
  for (uint64_t d = 0; d < o_.devices; ++d) {
    const Device& dev = devices_[d];
    expect("reserve of device " + std::to_string(d), balance(ReserveAccount(d)),
           dev.reserve_expected);
    expect("user account of device " + std::to_string(d), balance(UserAccount(d)),
           dev.user_expected);
    AddTo(r_.reserves_total, balance(ReserveAccount(d)));
    AddTo(r_.users_total, balance(UserAccount(d)));
  }
  for (uint64_t t = 0; t < o_.terminals; ++t) {
    const TerminalSim& term = terminals_[t];
    expect("merchant of terminal " + std::to_string(t), balance(MerchantAccount(t)),
           term.merchant_expected);
    if (o_.resolve_exceptions) {
      expect("merchant of terminal " + std::to_string(t) + " (vs accepted)",
             balance(MerchantAccount(t)), term.accepted);
    }
    AddTo(r_.merchants_total, balance(MerchantAccount(t)));
  }
  expect("guarantee account", balance(kGuaranteeAccount), guarantee_expected_);
  u128 held_or_paid = r_.reserves_total;
  AddTo(held_or_paid, r_.users_total);
  AddTo(held_or_paid, r_.amount_cleared);
  expect("users + reserves + cleared", held_or_paid, r_.funded_users);
  u128 merchants = r_.amount_cleared;
  AddTo(merchants, r_.amount_paid_from_guarantee);
  expect("merchants in all", r_.merchants_total, merchants);
  r_.money_conserved = ok && r_.ledger_balanced;
}

OfflineSimReport OfflineSimulation::Run() {
  if (!SetUpEngine() || !EnrollDevices() || !RegisterTerminals()) return std::move(r_);
  if (o_.progress != nullptr) {
    std::fprintf(o_.progress, "  set-up done: %lu devices, %lu terminals\n", o_.devices,
                 o_.terminals);
  }
  RunDay();
  const uint64_t end_ms = kStartMs + kSetUpMs + o_.day_ms + 3'600'000;
  FlushAll(end_ms);
  ResolveExceptions(end_ms);
  OfflineCommand list;
  list.kind = OfflineCommandKind::deny_list;
  const OfflineReply deny = Exec(list, end_ms);
  if (auto decoded = offline::DecodeDenyList(deny.deny_list); decoded.ok()) {
    r_.deny_list_version = decoded.value().list_version;
  }
  CheckClearing();
  CheckDoubleSpends();
  CheckLoss(end_ms);
  CheckMoney();
  if (failures_total_ > r_.failures.size()) {
    r_.failures.push_back("... and " + std::to_string(failures_total_ - r_.failures.size()) +
                          " more failures");
  }
  engine_->Shutdown();
  return std::move(r_);
}

void PrintCounts(std::ostringstream& out, const char* title,
                 const std::map<std::string, uint64_t>& counts) {
  if (counts.empty()) return;
  out << "    " << title << ":";
  for (const auto& [name, n] : counts) out << " " << name << "=" << n;
  out << "\n";
}

}  // namespace

OfflineSimReport RunOfflineSimulation(const OfflineSimOptions& options) {
  TPW_ASSERT(options.devices >= 1 && options.devices <= kOfflineSimDevicesMax);
  TPW_ASSERT(options.terminals >= 1 && options.terminals <= kOfflineSimTerminalsMax);
  TPW_ASSERT(options.payments <= kOfflineSimPaymentsMax);
  TPW_ASSERT(options.clones_per_device >= 1 &&
             options.clones_per_device <= kOfflineSimClonesPerDeviceMax);
  TPW_ASSERT(options.per_payment_max >= 1 && options.allowance >= options.per_payment_max);
  TPW_ASSERT(options.payment_count_max >= 1 && options.open_wallets_max >= 1);
  OfflineSimulation simulation(options);
  return simulation.Run();
}

std::string FormatSettings(const OfflineSimOptions& o) {
  std::ostringstream out;
  out << "seed=" << o.seed << " devices=" << o.devices << " terminals=" << o.terminals
      << " payments=" << o.payments << " day_ms=" << o.day_ms << " clone_ppm=" << o.clone_ppm
      << " clones_per_device=" << o.clones_per_device
      << " clone_activity_ppm=" << o.clone_activity_ppm << " replay_ppm=" << o.replay_ppm
      << " connect_interval_ms=" << o.connect_interval_ms << " offline_ppm=" << o.offline_ppm
      << " late_upload_ppm=" << o.late_upload_ppm << " reupload_ppm=" << o.reupload_ppm
      << " sync_ppm=" << o.sync_ppm << " deny_list_max_age_ms=" << o.deny_list_max_age_ms
      << " certificate_validity_ms=" << o.certificate_validity_ms
      << " payment_count_max=" << o.payment_count_max << " per_payment_max=" << o.per_payment_max
      << " allowance=" << o.allowance << " cvm_threshold=" << o.cvm_threshold
      << " resolve_exceptions=" << (o.resolve_exceptions ? 1 : 0);
  return out.str();
}

std::string FormatReport(const OfflineSimReport& r) {
  std::ostringstream out;
  out << "  payments\n"
      << "    attempted " << r.payments_attempted << " (by clones " << r.clone_payments_attempted
      << "), accepted " << r.accepted << " (by clones " << r.clone_payments_accepted
      << "), declined by wallets " << r.wallet_declined << ", by terminals " << r.terminal_declined
      << "\n"
      << "    amount accepted " << Dec(r.amount_accepted) << "\n";
  PrintCounts(out, "wallet declines", r.wallet_declines);
  PrintCounts(out, "terminal declines", r.terminal_declines);
  out << "    replays presented " << r.replays_presented << ", accepted " << r.replays_accepted
      << "\n";
  PrintCounts(out, "replay declines", r.replay_declines);
  out << "  online\n"
      << "    syncs " << r.syncs << "; terminal connections " << r.terminal_connections
      << " (stayed offline " << r.terminal_connections_skipped << "); deny lists installed "
      << r.deny_list_installs << " (full " << r.deny_list_full_installs << "), final version "
      << r.deny_list_version << "\n"
      << "    batches uploaded " << r.batches_uploaded << " (held back " << r.batches_held_back
      << ", sent twice " << r.batches_reuploaded << ")\n";
  PrintCounts(out, "sync failures", r.sync_failures);
  out << "  clearing\n"
      << "    cleared " << r.cleared << ", duplicate " << r.duplicate << ", double_spend "
      << r.double_spend << ", over_allowance " << r.over_allowance << ", invalid " << r.invalid
      << "\n";
  PrintCounts(out, "invalid", r.invalid_reasons);
  out << "    amount cleared " << Dec(r.amount_cleared) << "; exceptions " << r.exceptions_opened
      << ", paid from the guarantee " << r.exceptions_paid << " ("
      << Dec(r.amount_paid_from_guarantee) << ")\n"
      << "  double spends\n"
      << "    injected " << r.double_spends_injected << " (device, counter) pairs by "
      << r.devices_double_spending << " devices; detected " << r.double_spends_detected
      << ", refused otherwise " << r.double_spends_refused_otherwise << ", missed "
      << r.double_spends_missed << " (of them after an over_allowance token "
      << r.double_spends_missed_behind_over_allowance << "); compromised devices revoked "
      << r.devices_revoked << "/" << r.compromised.size() << "\n"
      << "  honest tokens: accepted " << r.honest_tokens_accepted << ", cleared "
      << r.honest_tokens_cleared << "\n"
      << "  money\n"
      << "    ledger balanced " << (r.ledger_balanced ? "yes" : "NO") << "; conserved "
      << (r.money_conserved ? "yes" : "NO") << "; users funded " << Dec(r.funded_users)
      << " = users " << Dec(r.users_total) << " + reserves " << Dec(r.reserves_total)
      << " + cleared " << Dec(r.amount_cleared) << "; merchants " << Dec(r.merchants_total) << "\n"
      << "  loss (compromised devices: " << r.compromised.size() << ")\n"
      << "    total " << Dec(r.loss_total) << ", worst device " << Dec(r.loss_max)
      << "; bound (T = terminals reached) " << Dec(r.bound_total) << "; a-priori bound (T = all) "
      << Dec(r.bound_all_total) << "\n";
  std::vector<CompromisedDeviceReport> worst = r.compromised;
  std::stable_sort(worst.begin(), worst.end(),
                   [](const auto& a, const auto& b) { return a.loss > b.loss; });
  for (size_t i = 0; i < worst.size() && i < 5; ++i) {
    const CompromisedDeviceReport& c = worst[i];
    out << "    device " << c.device_index << ": accepted " << Dec(c.accepted) << " in "
        << c.tokens_accepted << " tokens at " << c.terminals_reached << " terminals ("
        << c.double_spent_counters << " counters double-spent, " << c.accepted_after_revocation
        << " after revocation), cleared " << Dec(c.cleared) << ", loss " << Dec(c.loss)
        << " <= bound " << Dec(c.bound) << (c.revoked ? ", revoked" : ", not revoked") << "\n";
  }
  out << "  result: " << (r.ok() ? "PASS" : "FAIL") << "\n";
  for (const std::string& f : r.failures) out << "    failure: " << f << "\n";
  return out.str();
}

}  // namespace tpw::sim
