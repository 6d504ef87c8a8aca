// The payments module inside the engine, over a real journal on disk: full flows (create →
// confirm → capture, partial manual capture, cancel, refund, splits, FX, coupon, points, a
// step-up demanded by risk rules), where the facts land (ledger facts, then the payment facts, in
// one group), restarts (replay only and from a snapshot reach the same payments state and
// balances), hold expiry by the ledger's timer (also across a restart), two captures racing,
// refusals that journal nothing, and damaged payment facts that stop recovery.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "engine/engine.h"
#include "engine/engine_test_util.h"
#include "engine/facts.h"
#include "journal/journal.h"
#include "payments/events.h"
#include "payments/payments.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::engine {
namespace {

namespace pay = tpw::payments;
namespace af = ledger::account_flags;
using pay::CaptureMethod;
using pay::CommandKind;
using pay::PaymentError;
using pay::PaymentId;
using pay::PaymentState;

constexpr uint64_t kStartNs = uint64_t{1'700'000'000} * kNanosPerSecond;
constexpr uint32_t kUsd = 1;
constexpr uint32_t kEur = 2;
constexpr uint32_t kPts = 9;

// Accounts: banks fund everyone (no limit); the rest may not go below zero, so the ledger
// itself refuses any flow that would overdraw them.
constexpr u128 kBankUsd = 10, kBankEur = 11, kBankPts = 12;
constexpr u128 kWalletUsd = 100, kWalletEur = 101, kPointsAccount = 102, kEuroOnlyWallet = 103;
constexpr u128 kMerchant = 200, kSplitA = 201, kSplitB = 202, kFee = 203;
constexpr u128 kFxUsd = 300, kFxEur = 301, kPointsSink = 400, kPointsFunding = 401;
constexpr u128 kCustomer = 7000, kEuroCustomer = 7001;
const std::vector<u128> kAllAccounts = {kBankUsd,  kBankEur,   kBankPts,        kWalletUsd,
                                        kWalletEur, kPointsAccount, kEuroOnlyWallet, kMerchant,
                                        kSplitA,   kSplitB,    kFee,            kFxUsd,
                                        kFxEur,    kPointsSink, kPointsFunding};

// Payments of 1,000.00 USD or more need strong verification (docs/risk-rules.md).
constexpr std::string_view kStepUpRules = R"(
version = "engine-payments-1"
[thresholds]
step_up = 1000
review = 2000
decline = 3000
[[rule]]
name = "strong_for_large"
condition = "amount >= 1000.00 USD and cvm_performed < 'strong'"
action = "step_up"
cvm = "strong"
)";

Amount Amt(u128 minor) { return Amount::FromMinor(minor); }
AccountId Acct(u128 id) { return AccountId{id}; }

std::string Describe(const pay::Reply& reply) {
  return std::string(pay::PaymentErrorName(reply.error)) + " param=" + reply.param + " " +
         reply.detail;
}

class EnginePaymentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto storage = storage::PosixStorage::Open(dir_.path(), false);
    ASSERT_TRUE(storage.ok());
    storage_ = std::move(storage.value());
    ASSERT_TRUE(Engine::Initialize(*storage_).ok());
    Reopen();
    CreateWorld();
  }

  // Expiry runs only when a request arrives (never while the test thread moves the clock).
  void Reopen(bool ignore_snapshots = false) {
    engine_.reset();
    EngineOptions options;
    options.expire_when_idle = false;
    options.ignore_snapshots = ignore_snapshots;
    auto engine = Engine::Open(*storage_, options, &clock_);
    ASSERT_TRUE(engine.ok()) << engine.error().Message();
    engine_ = std::move(engine.value());
  }

  void CreateWorld() {
    std::vector<ledger::Account> accounts;
    const auto add = [&](u128 id, uint32_t asset, bool limited) {
      accounts.push_back(testing::MakeAccount(id, limited ? af::kDebitsMustNotExceedCredits : 0,
                                              asset));
    };
    add(kBankUsd, kUsd, false);
    add(kBankEur, kEur, false);
    add(kBankPts, kPts, false);
    for (const u128 id : {kWalletUsd, kMerchant, kSplitA, kSplitB, kFee, kFxUsd, kPointsFunding}) {
      add(id, kUsd, true);
    }
    for (const u128 id : {kWalletEur, kEuroOnlyWallet, kFxEur}) add(id, kEur, true);
    add(kPointsAccount, kPts, true);
    add(kPointsSink, kPts, true);
    const Reply created = engine_->CreateAccounts(accounts);
    ASSERT_FALSE(created.error);
    ASSERT_TRUE(created.account_results.empty());
    Fund(kWalletUsd, 1'000'000, kUsd);  // 10,000.00 USD
    Fund(kWalletEur, 500'000, kEur);
    Fund(kEuroOnlyWallet, 500'000, kEur);
    Fund(kFxUsd, 10'000'000, kUsd);
    Fund(kFxEur, 10'000'000, kEur);
    Fund(kPointsFunding, 10'000'000, kUsd);
    Fund(kPointsAccount, 5'000, kPts);
    UpsertCustomer(kCustomer, {{Acct(kWalletUsd), kUsd, pay::SourceKind::balance, {}, 1},
                               {Acct(kWalletEur), kEur, pay::SourceKind::balance, {}, 2},
                               {Acct(kPointsAccount), kPts, pay::SourceKind::points, {}, 0}});
    UpsertCustomer(kEuroCustomer,
                   {{Acct(kEuroOnlyWallet), kEur, pay::SourceKind::balance, {}, 0}});
  }

  void Fund(u128 account, u128 amount, uint32_t asset) {
    const u128 bank = asset == kUsd ? kBankUsd : asset == kEur ? kBankEur : kBankPts;
    const Reply reply = engine_->CreateTransfers(
        {testing::MakeTransfer(next_transfer_++, bank, account, amount, 0, asset)});
    ASSERT_FALSE(reply.error);
    ASSERT_TRUE(reply.transfer_results.empty());
  }

  // Runs a payments command; an engine-level failure fails the test.
  pay::Reply Run(const pay::Command& command) {
    Reply reply = engine_->ExecutePayments(command);
    EXPECT_FALSE(reply.error) << EngineErrorName(*reply.error);
    EXPECT_TRUE(reply.payments.has_value());
    EXPECT_GT(reply.durable_sequence, 0u);
    return reply.payments.value_or(pay::Reply{});
  }
  // Runs it and expects success; the payment it answers with.
  pay::Payment Ok(const pay::Command& command) {
    const pay::Reply reply = Run(command);
    EXPECT_TRUE(reply.ok()) << pay::CommandKindName(command.kind) << ": " << Describe(reply);
    return reply.payment.value_or(pay::Payment{});
  }

  void UpsertCustomer(u128 id, std::vector<pay::FundingSource> sources) {
    pay::Command c;
    c.kind = CommandKind::upsert_customer;
    c.customer_record.id = pay::CustomerId{id};
    c.customer_record.sources = std::move(sources);
    const pay::Reply reply = Run(c);
    ASSERT_TRUE(reply.ok()) << Describe(reply);
  }

  static pay::Command Create(u128 amount, CaptureMethod method, bool confirm = true) {
    pay::Command c;
    c.kind = CommandKind::create_payment;
    c.amount = Amt(amount);
    c.asset = kUsd;
    c.merchant_account = Acct(kMerchant);
    c.customer = pay::CustomerId{kCustomer};
    c.capture_method = method;
    c.description = "order";
    c.confirm = confirm;
    return c;
  }
  static pay::Command OnPayment(CommandKind kind, PaymentId id) {
    pay::Command c;
    c.kind = kind;
    c.payment = id;
    return c;
  }
  static pay::Command Capture(PaymentId id, std::optional<u128> amount = std::nullopt) {
    pay::Command c = OnPayment(CommandKind::capture_payment, id);
    if (amount) c.amount_to_capture = Amt(*amount);
    return c;
  }
  static pay::Command Refund(PaymentId id, std::optional<u128> amount = std::nullopt) {
    pay::Command c = OnPayment(CommandKind::refund_payment, id);
    if (amount) c.refund_amount = Amt(*amount);
    return c;
  }
  pay::Payment Get(PaymentId id) { return Ok(OnPayment(CommandKind::get_payment, id)); }

  void SetupFx() {
    pay::Command rates;
    rates.kind = CommandKind::put_fx_rates;
    rates.rates = {{kUsd, kEur, "0.9", "ecb", kStartNs / 1'000'000}};
    ASSERT_TRUE(Run(rates).ok());
    for (const auto& [asset, account] : {std::pair{kUsd, kFxUsd}, std::pair{kEur, kFxEur}}) {
      pay::Command set;
      set.kind = CommandKind::set_fx_account;
      set.fx_account = {asset, Acct(account)};
      ASSERT_TRUE(Run(set).ok());
    }
  }

  void SetupPoints() {
    pay::Command c;
    c.kind = CommandKind::set_points_program;
    c.program.points_asset = kPts;
    c.program.money_asset = kUsd;
    c.program.points_per_minor_unit = 10;
    c.program.sink_account = Acct(kPointsSink);
    c.program.funding_account = Acct(kPointsFunding);
    const pay::Reply reply = Run(c);
    ASSERT_TRUE(reply.ok()) << Describe(reply);
  }

  void SetRiskRules(std::string_view text) {
    RiskCommand c;
    c.kind = RiskCommandKind::set_rules;
    c.rules_text = std::string(text);
    const Reply reply = engine_->ExecuteRisk(std::move(c));
    ASSERT_FALSE(reply.error);
    ASSERT_EQ(reply.risk->error, RiskError::ok) << reply.risk->detail;
  }

  ledger::Account AccountOf(u128 id) {
    const Reply reply = engine_->LookupAccounts({Acct(id)});
    EXPECT_EQ(reply.accounts.size(), 1u);
    return reply.accounts.empty() ? ledger::Account{} : reply.accounts[0];
  }
  // What the account holds (credits - debits posted), and what it has on hold.
  __int128 Net(u128 id) {
    const ledger::Account a = AccountOf(id);
    return static_cast<__int128>(a.credits_posted.minor()) -
           static_cast<__int128>(a.debits_posted.minor());
  }
  __int128 OnHold(u128 id) { return static_cast<__int128>(AccountOf(id).debits_pending.minor()); }

  uint64_t Records() { return engine_->Stats().journal_records; }
  // Stats once the sequencer has published every step before this call. (Journal counts are
  // current when a reply arrives; the state counts are published by the sequencer just after it
  // hands a group to the journal, so they may trail a reply: one more round trip settles them.)
  EngineStats SettledStats() {
    (void)engine_->PaymentsStateDigest();
    return engine_->Stats();
  }
  uint64_t Digest() {
    const std::optional<uint64_t> digest = engine_->PaymentsStateDigest();
    EXPECT_TRUE(digest.has_value());
    return digest.value_or(0);
  }

  // Record types of the journal's last `count` records (the engine must be closed).
  std::vector<uint16_t> LastRecordTypes(size_t count) {
    std::vector<uint16_t> types;
    auto reader = journal::JournalReader::Open(*storage_, journal::SequenceNo{1});
    EXPECT_TRUE(reader.ok());
    if (!reader.ok()) return types;
    while (true) {
      auto next = reader.value()->Next();
      EXPECT_TRUE(next.ok());
      if (!next.ok() || !next.value().has_value()) break;
      types.push_back(next.value()->type);
    }
    if (types.size() > count) types.erase(types.begin(), types.end() - static_cast<ptrdiff_t>(count));
    return types;
  }

  // Everything a restart must bring back: the payments digest, every account with its transfer
  // list and balances, and the payments counts.
  struct Observed {
    uint64_t digest = 0;
    testing::StateDump ledger;
    std::array<uint64_t, kPaymentStates> by_state{};
    uint64_t payment_facts = 0;
    uint64_t risk_decisions = 0;
    friend bool operator==(const Observed&, const Observed&) = default;
  };
  Observed Observe() {
    Observed o;
    o.digest = Digest();
    o.ledger = testing::DumpState(*engine_, kAllAccounts, {});
    const EngineStats stats = SettledStats();
    o.by_state = stats.payments_by_state;
    o.payment_facts = stats.payment_facts;
    o.risk_decisions = stats.risk_decisions;
    return o;
  }

  storage::TempDir dir_;
  std::unique_ptr<storage::PosixStorage> storage_;
  ManualClock clock_{Timestamp{kStartNs}};
  std::unique_ptr<Engine> engine_;
  u128 next_transfer_ = 1;
};

constexpr uint16_t kPaymentFact = static_cast<uint16_t>(FactType::payment);
constexpr uint16_t kTransfersFact = static_cast<uint16_t>(FactType::transfers_created);
constexpr uint16_t kRiskDecisionFact = static_cast<uint16_t>(FactType::risk_decision);
constexpr uint16_t kExpiredFact = static_cast<uint16_t>(FactType::transfers_expired);

// ---- Flows ----------------------------------------------------------------------------------

TEST_F(EnginePaymentsTest, CreateConfirmCaptureJournalsLedgerFactsBeforePaymentFactsInOneGroup) {
  const pay::Payment created = Ok(Create(10'000, CaptureMethod::manual, /*confirm=*/false));
  EXPECT_EQ(created.state, PaymentState::requires_confirmation);
  EXPECT_EQ(pay::FormatPaymentId(created.id), "pay_1");

  // One group each (Stats() itself sends no request): the confirm journals the risk decision,
  // the hold and the payment event; the capture the posting and the payment event.
  const EngineStats before_confirm = engine_->Stats();
  const pay::Payment held = Ok(OnPayment(CommandKind::confirm_payment, created.id));
  const EngineStats after_confirm = engine_->Stats();
  EXPECT_EQ(held.state, PaymentState::requires_capture);
  EXPECT_TRUE(held.risk.evaluated);
  EXPECT_EQ(OnHold(kWalletUsd), 10'000);
  EXPECT_EQ(Net(kMerchant), 0);
  EXPECT_EQ(after_confirm.groups_committed, before_confirm.groups_committed + 1);
  EXPECT_EQ(after_confirm.journal_records, before_confirm.journal_records + 3);
  EXPECT_EQ(SettledStats().risk_decisions, 1u);

  const EngineStats before_capture = engine_->Stats();
  const pay::Payment captured = Ok(Capture(held.id));
  const EngineStats after_capture = engine_->Stats();
  EXPECT_EQ(captured.state, PaymentState::succeeded);
  EXPECT_EQ(captured.amount_captured, Amt(10'000));
  EXPECT_EQ(OnHold(kWalletUsd), 0);
  EXPECT_EQ(Net(kWalletUsd), 1'000'000 - 10'000);
  EXPECT_EQ(Net(kMerchant), 10'000);
  EXPECT_EQ(after_capture.groups_committed, before_capture.groups_committed + 1);
  EXPECT_EQ(after_capture.journal_records, after_confirm.journal_records + 2);
  const EngineStats settled = SettledStats();
  EXPECT_EQ(settled.payments, 1u);
  EXPECT_EQ(settled.payments_by_state[static_cast<size_t>(PaymentState::succeeded)], 1u);
  EXPECT_EQ(settled.payment_facts, 2u + 3u);  // the two customers (SetUp), then this payment

  engine_.reset();
  EXPECT_EQ(LastRecordTypes(5), (std::vector<uint16_t>{kRiskDecisionFact, kTransfersFact,
                                                       kPaymentFact, kTransfersFact, kPaymentFact}));
}

TEST_F(EnginePaymentsTest, AutomaticCaptureMovesTheMoneyInTheConfirmingCommand) {
  const pay::Payment paid = Ok(Create(12'345, CaptureMethod::automatic));
  EXPECT_EQ(paid.state, PaymentState::succeeded);
  EXPECT_EQ(Net(kWalletUsd), 1'000'000 - 12'345);
  EXPECT_EQ(Net(kMerchant), 12'345);
  EXPECT_EQ(OnHold(kWalletUsd), 0);
}

TEST_F(EnginePaymentsTest, ManualPartialCaptureReleasesTheRest) {
  const pay::Payment held = Ok(Create(10'000, CaptureMethod::manual));
  const pay::Payment captured = Ok(Capture(held.id, 6'000));
  EXPECT_EQ(captured.amount_captured, Amt(6'000));
  EXPECT_EQ(captured.amount_capturable, Amt(0));
  EXPECT_EQ(OnHold(kWalletUsd), 0);
  EXPECT_EQ(Net(kWalletUsd), 1'000'000 - 6'000);
  EXPECT_EQ(Net(kMerchant), 6'000);
  EXPECT_EQ(Run(Capture(held.id, 1'000)).error, PaymentError::payment_state_invalid);
}

TEST_F(EnginePaymentsTest, CancelVoidsTheHold) {
  const pay::Payment held = Ok(Create(10'000, CaptureMethod::manual));
  pay::Command cancel = OnPayment(CommandKind::cancel_payment, held.id);
  cancel.cancel_reason = pay::CancelReason::abandoned;
  const pay::Payment canceled = Ok(cancel);
  EXPECT_EQ(canceled.state, PaymentState::canceled);
  EXPECT_EQ(canceled.cancel_reason, pay::CancelReason::abandoned);
  EXPECT_EQ(OnHold(kWalletUsd), 0);
  EXPECT_EQ(Net(kWalletUsd), 1'000'000);
  EXPECT_EQ(Run(Capture(held.id)).error, PaymentError::payment_state_invalid);
}

TEST_F(EnginePaymentsTest, RefundsArePartialRepeatedAndNeverMoreThanCaptured) {
  const pay::Payment paid = Ok(Create(10'000, CaptureMethod::automatic));
  const pay::Reply first = Run(Refund(paid.id, 3'000));
  ASSERT_TRUE(first.ok()) << Describe(first);
  EXPECT_EQ(pay::FormatRefundId(*first.refund), "re_1");
  EXPECT_EQ(Run(Refund(paid.id, 7'001)).error, PaymentError::refund_exceeds_captured);
  const pay::Payment rest = Ok(Refund(paid.id));
  EXPECT_EQ(rest.amount_refunded, Amt(10'000));
  EXPECT_EQ(rest.refunds.size(), 2u);
  EXPECT_EQ(Net(kWalletUsd), 1'000'000);
  EXPECT_EQ(Net(kMerchant), 0);
}

TEST_F(EnginePaymentsTest, SplitsPayRecipientsAndThePlatformFeeAtCaptureAndReverseOnRefund) {
  pay::Command c = Create(1'001, CaptureMethod::automatic);
  c.splits = {{Acct(kSplitA), Amt(0), 3'333}, {Acct(kSplitB), Amt(100), 0}};
  c.platform_fee = {Acct(kFee), Amt(0), 250};
  const pay::Payment paid = Ok(c);
  // 33.33% of 1001 -> 333; fixed 100; 2.5% of 1001 -> 25; the merchant keeps 543.
  EXPECT_EQ(Net(kSplitA), 333);
  EXPECT_EQ(Net(kSplitB), 100);
  EXPECT_EQ(Net(kFee), 25);
  EXPECT_EQ(Net(kMerchant), 543);
  pay::Command refund = Refund(paid.id);
  refund.reverse_splits = true;
  refund.refund_fee = true;
  Ok(refund);
  EXPECT_EQ(Net(kSplitA), 0);
  EXPECT_EQ(Net(kSplitB), 0);
  EXPECT_EQ(Net(kFee), 0);
  EXPECT_EQ(Net(kMerchant), 0);
  EXPECT_EQ(Net(kWalletUsd), 1'000'000);
}

TEST_F(EnginePaymentsTest, CrossAssetPaymentMovesThroughTheFxLiquidityAccounts) {
  SetupFx();
  pay::Command c = Create(10'000, CaptureMethod::automatic);  // 100.00 USD
  c.customer = pay::CustomerId{kEuroCustomer};
  const pay::Payment paid = Ok(c);
  EXPECT_TRUE(paid.funding.fx);
  EXPECT_EQ(paid.funding.source_account, Acct(kEuroOnlyWallet));
  EXPECT_EQ(paid.funding.amount_charged_source, Amt(9'000));  // 90.00 EUR at 0.9
  EXPECT_EQ(Net(kEuroOnlyWallet), 500'000 - 9'000);
  EXPECT_EQ(Net(kFxEur), 10'000'000 + 9'000);
  EXPECT_EQ(Net(kFxUsd), 10'000'000 - 10'000);
  EXPECT_EQ(Net(kMerchant), 10'000);
}

TEST_F(EnginePaymentsTest, CouponLowersTheChargeAndCountsItsRedemption) {
  pay::Command coupon;
  coupon.kind = CommandKind::create_coupon;
  coupon.coupon.code = "SAVE5";
  coupon.coupon.kind = pay::CouponKind::fixed;
  coupon.coupon.amount_off = Amt(500);
  coupon.coupon.asset = kUsd;
  coupon.coupon.single_use = true;
  ASSERT_TRUE(Run(coupon).ok());
  EXPECT_EQ(Run(coupon).error, PaymentError::coupon_exists);
  pay::Command c = Create(10'000, CaptureMethod::automatic);
  c.coupon_code = "SAVE5";
  const pay::Payment paid = Ok(c);
  EXPECT_EQ(paid.funding.coupon_discount, Amt(500));
  EXPECT_EQ(Net(kWalletUsd), 1'000'000 - 9'500);
  EXPECT_EQ(Net(kMerchant), 9'500);
  pay::Command get;
  get.kind = CommandKind::get_coupon;
  get.coupon_code = "SAVE5";
  EXPECT_EQ(Run(get).coupon->redemptions, 1u);
  EXPECT_EQ(Run(c).error, PaymentError::coupon_redeemed);
}

TEST_F(EnginePaymentsTest, PointsPayPartAndTheProgramFundsTheirValue) {
  SetupPoints();
  pay::Command c = Create(2'000, CaptureMethod::automatic);
  c.use_points = true;
  const pay::Payment paid = Ok(c);
  // 5,000 points at 10 per cent: 5.00 USD of value; the wallet pays the other 15.00.
  EXPECT_EQ(paid.funding.points_value, Amt(500));
  EXPECT_EQ(paid.funding.points_used, Amt(5'000));
  EXPECT_EQ(Net(kPointsAccount), 0);
  EXPECT_EQ(Net(kPointsSink), 5'000);
  EXPECT_EQ(Net(kWalletUsd), 1'000'000 - 1'500);
  EXPECT_EQ(Net(kPointsFunding), 10'000'000 - 500);
  EXPECT_EQ(Net(kMerchant), 2'000);
}

TEST_F(EnginePaymentsTest, RiskRulesDemandAStepUpAndAStrongConfirmPays) {
  SetRiskRules(kStepUpRules);
  const pay::Payment asked = Ok(Create(150'000, CaptureMethod::automatic));  // 1,500.00 USD
  EXPECT_EQ(asked.state, PaymentState::requires_action);
  EXPECT_EQ(asked.risk.required_cvm, risk::Cvm::strong);
  EXPECT_EQ(asked.risk.rules_version, "engine-payments-1");
  EXPECT_EQ(Net(kMerchant), 0);
  pay::Command weak = OnPayment(CommandKind::confirm_payment, asked.id);
  weak.confirm_options.cvm_performed = risk::Cvm::pin;
  EXPECT_EQ(Run(weak).error, PaymentError::cvm_insufficient);
  pay::Command strong = weak;
  strong.confirm_options.cvm_performed = risk::Cvm::strong;
  const pay::Payment paid = Ok(strong);
  EXPECT_EQ(paid.state, PaymentState::succeeded);
  EXPECT_EQ(paid.risk.cvm_performed, risk::Cvm::strong);
  EXPECT_EQ(Net(kMerchant), 150'000);
  EXPECT_EQ(SettledStats().risk_decisions, 2u);  // the cvm_insufficient refusal asked nobody
}

// ---- Restarts -------------------------------------------------------------------------------

TEST_F(EnginePaymentsTest, ReplayOnlyAndSnapshotRestartsReachTheSameStateAndBalances) {
  SetupFx();
  SetupPoints();
  SetRiskRules(kStepUpRules);
  const pay::Payment held = Ok(Create(10'000, CaptureMethod::manual));
  const pay::Payment partly = Ok(Create(20'000, CaptureMethod::manual));
  Ok(Capture(partly.id, 5'000));
  const pay::Payment paid = Ok(Create(3'000, CaptureMethod::automatic));
  Ok(Refund(paid.id, 1'000));
  pay::Command fx = Create(4'000, CaptureMethod::automatic);
  fx.customer = pay::CustomerId{kEuroCustomer};
  Ok(fx);
  const pay::Payment stepped = Ok(Create(200'000, CaptureMethod::manual));
  ASSERT_EQ(stepped.state, PaymentState::requires_action);
  const Observed before = Observe();
  EXPECT_NE(before.digest, 0u);

  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(Observe(), before);
  ASSERT_TRUE(engine_->Snapshot().ok());

  // After the snapshot: more changes, replayed on top of it.
  Ok(Capture(held.id));
  pay::Command points = Create(1'000, CaptureMethod::automatic);
  points.use_points = true;
  Ok(points);
  pay::Command strong = OnPayment(CommandKind::confirm_payment, stepped.id);
  strong.confirm_options.cvm_performed = risk::Cvm::strong;
  Ok(strong);
  const Observed after = Observe();
  EXPECT_NE(after.digest, before.digest);

  Reopen();
  EXPECT_TRUE(engine_->recovery().from_snapshot);
  EXPECT_GT(engine_->recovery().replayed_records, 0u);
  EXPECT_EQ(Observe(), after);
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_FALSE(engine_->recovery().from_snapshot);
  EXPECT_EQ(Observe(), after);
  // The restarted engine goes on numbering where the first one stopped.
  EXPECT_EQ(pay::FormatPaymentId(Ok(Create(100, CaptureMethod::automatic)).id), "pay_7");
}

TEST_F(EnginePaymentsTest, StatsCountPaymentsByStateAndTheRegistries) {
  SetupFx();
  Ok(Create(100, CaptureMethod::manual));
  Ok(Create(100, CaptureMethod::automatic));
  Ok(Create(100, CaptureMethod::automatic, /*confirm=*/false));
  clock_.Advance(2 * kNanosPerSecond);  // the registry counts refresh at most once per second
  Ok(Create(100, CaptureMethod::automatic));
  const EngineStats stats = SettledStats();
  EXPECT_EQ(stats.payments, 4u);
  const auto count = [&](PaymentState s) { return stats.payments_by_state[static_cast<size_t>(s)]; };
  EXPECT_EQ(count(PaymentState::requires_capture), 1u);
  EXPECT_EQ(count(PaymentState::succeeded), 2u);
  EXPECT_EQ(count(PaymentState::requires_confirmation), 1u);
  EXPECT_EQ(stats.payment_customers, 2u);
  EXPECT_EQ(stats.payment_fx_pairs, 1u);
  // After a snapshot restart the counts are rebuilt from the payments.
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen();
  ASSERT_TRUE(engine_->recovery().from_snapshot);
  const EngineStats reloaded = SettledStats();
  EXPECT_EQ(reloaded.payments_by_state, stats.payments_by_state);
  EXPECT_EQ(reloaded.payment_customers, 2u);
  EXPECT_EQ(reloaded.payment_facts, stats.payment_facts);
}

// ---- Hold expiry ----------------------------------------------------------------------------

TEST_F(EnginePaymentsTest, AnExpiredHoldCancelsItsPaymentInTheExpiryStep) {
  pay::Command c = Create(10'000, CaptureMethod::manual);
  c.hold_timeout_seconds = 60;
  const pay::Payment held = Ok(c);
  ASSERT_EQ(OnHold(kWalletUsd), 10'000);
  const uint64_t records = Records();
  clock_.Advance(61 * kNanosPerSecond);
  // Any request lets the sequencer run the expiry timer first.
  const pay::Payment expired = Get(held.id);
  EXPECT_EQ(expired.state, PaymentState::canceled);
  EXPECT_EQ(expired.cancel_reason, pay::CancelReason::expired);
  EXPECT_EQ(OnHold(kWalletUsd), 0);
  EXPECT_EQ(Net(kWalletUsd), 1'000'000);
  EXPECT_EQ(Records(), records + 2);  // the expiry fact, then the payment's canceled event
  EXPECT_EQ(Run(Capture(held.id)).error, PaymentError::payment_state_invalid);
  const Observed before = Observe();
  engine_.reset();
  EXPECT_EQ(LastRecordTypes(2), (std::vector<uint16_t>{kExpiredFact, kPaymentFact}));
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(Observe(), before);
  EXPECT_EQ(Get(held.id).cancel_reason, pay::CancelReason::expired);
}

TEST_F(EnginePaymentsTest, AnExpiredPaymentWithPointsReleasesBothHoldsAndIsCanceledOnce) {
  SetupPoints();
  pay::Command c = Create(2'000, CaptureMethod::manual);
  c.use_points = true;
  c.hold_timeout_seconds = 60;
  const pay::Payment held = Ok(c);
  ASSERT_FALSE(held.points_hold.is_zero());
  ASSERT_EQ(OnHold(kPointsAccount), 5'000);
  ASSERT_EQ(OnHold(kWalletUsd), 1'500);
  clock_.Advance(61 * kNanosPerSecond);
  const uint64_t records = Records();
  const pay::Payment expired = Get(held.id);
  EXPECT_EQ(expired.cancel_reason, pay::CancelReason::expired);
  EXPECT_EQ(Records(), records + 2);  // one expiry fact for both holds, one cancellation
  EXPECT_EQ(OnHold(kPointsAccount), 0);
  EXPECT_EQ(OnHold(kWalletUsd), 0);
  EXPECT_EQ(Net(kPointsAccount), 5'000);
  EXPECT_EQ(Net(kWalletUsd), 1'000'000);
  const Observed before = Observe();
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(Observe(), before);
}

TEST_F(EnginePaymentsTest, HoldsPlacedBeforeARestartExpireAfterIt) {
  pay::Command c = Create(10'000, CaptureMethod::manual);
  c.hold_timeout_seconds = 60;
  const pay::Payment from_replay = Ok(c);
  const pay::Payment from_snapshot = Ok(c);
  const pay::Payment captured_in_time = Ok(c);
  Reopen(/*ignore_snapshots=*/true);
  ASSERT_TRUE(engine_->Snapshot().ok());
  Reopen();
  ASSERT_TRUE(engine_->recovery().from_snapshot);
  Ok(Capture(captured_in_time.id));
  clock_.Advance(61 * kNanosPerSecond);
  EXPECT_EQ(Get(from_replay.id).cancel_reason, pay::CancelReason::expired);
  EXPECT_EQ(Get(from_snapshot.id).cancel_reason, pay::CancelReason::expired);
  EXPECT_EQ(Get(captured_in_time.id).state, PaymentState::succeeded);
  EXPECT_EQ(OnHold(kWalletUsd), 0);
  EXPECT_EQ(Net(kWalletUsd), 1'000'000 - 10'000);
  const Observed before = Observe();
  Reopen();
  EXPECT_EQ(Observe(), before);
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(Observe(), before);
}

TEST_F(EnginePaymentsTest, WhilePaymentsHoldFundsAStepExpiresAtMost1024Holds) {
  // Each expired hold journals its payment's cancellation in the expiry's group; the cap keeps
  // that group bounded (payments with full metadata are ~32 KiB each).
  constexpr uint64_t kHolds = 1'030;
  pay::Command c = Create(1, CaptureMethod::manual);
  c.hold_timeout_seconds = 60;
  for (uint64_t i = 0; i < kHolds; ++i) ASSERT_EQ(Ok(c).state, PaymentState::requires_capture);
  clock_.Advance(61 * kNanosPerSecond);
  const uint64_t records = Records();
  (void)Get(PaymentId{1});  // this step expires 1,024 holds: one expiry fact, 1,024 cancellations
  EXPECT_EQ(Records(), records + 1 + 1'024);
  (void)Get(PaymentId{1});  // and this one the other 6
  EXPECT_EQ(Records(), records + 1 + 1'024 + 1 + 6);
  const EngineStats all = SettledStats();
  EXPECT_EQ(all.payments_by_state[static_cast<size_t>(PaymentState::canceled)], kHolds);
  EXPECT_EQ(all.payments_by_state[static_cast<size_t>(PaymentState::requires_capture)], 0u);
  EXPECT_EQ(OnHold(kWalletUsd), 0);
}

// ---- Concurrency and refusals ---------------------------------------------------------------

TEST_F(EnginePaymentsTest, OfTwoConcurrentCapturesExactlyOneSucceeds) {
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const pay::Payment held = Ok(Create(1'000, CaptureMethod::manual));
    std::latch start(2);
    std::vector<pay::Reply> replies(2);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        replies[static_cast<size_t>(i)] = Run(Capture(held.id));
      });
    }
    for (std::thread& t : threads) t.join();
    const int ok = (replies[0].ok() ? 1 : 0) + (replies[1].ok() ? 1 : 0);
    EXPECT_EQ(ok, 1) << "round " << round;
    for (const pay::Reply& r : replies) {
      if (!r.ok()) {
        EXPECT_EQ(r.error, PaymentError::payment_state_invalid) << Describe(r);
      }
    }
  }
  EXPECT_EQ(Net(kMerchant), 1'000 * kRounds);
  EXPECT_EQ(OnHold(kWalletUsd), 0);
}

TEST_F(EnginePaymentsTest, RefusedCommandsLeaveTheJournalAndTheStateUnchanged) {
  const pay::Payment paid = Ok(Create(1'000, CaptureMethod::automatic));
  const pay::Payment unaffordable = Ok(Create(100'000'000, CaptureMethod::manual, false));
  const uint64_t records = Records();
  const uint64_t digest = Digest();
  EXPECT_EQ(Run(Create(0, CaptureMethod::automatic)).error, PaymentError::invalid_request);
  pay::Command stranger = Create(100, CaptureMethod::automatic);
  stranger.customer = pay::CustomerId{424242};
  EXPECT_EQ(Run(stranger).error, PaymentError::customer_not_found);
  EXPECT_EQ(Run(Capture(PaymentId{99})).error, PaymentError::payment_not_found);
  EXPECT_EQ(Run(Capture(paid.id)).error, PaymentError::payment_state_invalid);
  EXPECT_EQ(Run(Refund(paid.id, 1'001)).error, PaymentError::refund_exceeds_captured);
  // 1,000,000.00 USD: no source holds it (funding is chosen before risk is asked).
  const pay::Reply broke = Run(OnPayment(CommandKind::confirm_payment, unaffordable.id));
  EXPECT_FALSE(broke.ok());
  EXPECT_EQ(broke.payment->state, PaymentState::requires_confirmation) << Describe(broke);
  pay::Command expire;
  expire.kind = CommandKind::expire_holds;
  expire.expired_transfers = {paid.money_hold};
  const pay::Reply refused = Run(expire);
  EXPECT_EQ(refused.error, PaymentError::invalid_request);
  EXPECT_EQ(refused.param, "kind");
  EXPECT_EQ(Records(), records);
  EXPECT_EQ(Digest(), digest);
  EXPECT_EQ(SettledStats().risk_decisions, 1u);  // only the first payment's
  EXPECT_EQ(Get(paid.id).state, PaymentState::succeeded);
}

TEST_F(EnginePaymentsTest, AfterShutdownACommandIsAnsweredWithTheEngineError) {
  engine_->Shutdown();
  const Reply reply = engine_->ExecutePayments(Create(100, CaptureMethod::automatic));
  ASSERT_TRUE(reply.error.has_value());
  EXPECT_EQ(*reply.error, EngineError::shutting_down);
  EXPECT_FALSE(reply.payments.has_value());
  EXPECT_FALSE(engine_->PaymentsStateDigest().has_value());
}

// A step of requests that together journal more than one journal group may hold (64 MiB) is
// committed as several groups, split between requests: every request is answered and the engine
// keeps running (one group would be refused by the journal and stop the engine).
TEST_F(EnginePaymentsTest, AStepThatJournalsMoreThanAGroupHoldsIsSplitBetweenRequests) {
  // Stop the journal thread in a reply callback, then give the sequencer a group to fill the
  // pipeline (groups_in_flight_max 1) and two requests for the open group it cannot hand off:
  // everything queued meanwhile is one step.
  std::promise<void> blocked;
  std::latch release(1);
  engine_->SubmitPayments(OnPayment(CommandKind::get_payment, PaymentId{1}), [&](Reply&&) {
    blocked.set_value();
    release.wait();
  });
  blocked.get_future().wait();
  std::atomic<int> fillers{0};
  for (int i = 0; i < 3; ++i) {
    engine_->SubmitPayments(OnPayment(CommandKind::get_payment, PaymentId{1}),
                            [&](Reply&&) { ++fillers; });
    while (engine_->Stats().queue_depth != 0) std::this_thread::yield();
  }
  // Payments with full metadata journal ~56 KiB each (two events carrying the payment).
  pay::Command big = Create(1, CaptureMethod::automatic);
  for (size_t k = 0; k < pay::kMetadataKeysMax; ++k) {
    std::string key = "key" + std::to_string(100 + k);
    key.resize(pay::kMetadataKeyLengthMax, 'k');
    big.metadata.emplace_back(key, std::string(pay::kMetadataValueLengthMax, 'v'));
  }
  constexpr int kPayments = 1'400;  // ~78 MB in one step
  std::atomic<int> ok{0};
  std::latch answered(kPayments);
  for (int i = 0; i < kPayments; ++i) {
    engine_->SubmitPayments(big, [&](Reply&& reply) {
      if (!reply.error && reply.payments && reply.payments->ok()) ++ok;
      answered.count_down();
    });
  }
  const uint64_t groups = engine_->Stats().groups_committed;
  release.count_down();
  answered.wait();
  EXPECT_EQ(ok.load(), kPayments);
  EXPECT_FALSE(engine_->failure().has_value()) << engine_->failure()->Message();
  EXPECT_EQ(fillers.load(), 3);
  const EngineStats stats = SettledStats();
  EXPECT_EQ(stats.payments_by_state[static_cast<size_t>(PaymentState::succeeded)],
            static_cast<uint64_t>(kPayments));
  // The first filler's group, then the big step in 3 or more (~78 MB in groups of at most
  // ~32 MiB; the first of them also holds the other two fillers).
  EXPECT_GE(stats.groups_committed, groups + 1 + 3);
  EXPECT_EQ(Net(kMerchant), kPayments);
  const Observed before = Observe();
  Reopen(/*ignore_snapshots=*/true);
  EXPECT_EQ(Observe(), before);
}

// ---- Damaged payment facts ------------------------------------------------------------------

// Appends one record to the (closed) engine's journal, with valid checksums and chain.
void AppendRecord(storage::Storage& storage, uint16_t type, std::vector<uint8_t> bytes) {
  auto writer = journal::JournalWriter::Open(storage, {});
  ASSERT_TRUE(writer.ok()) << writer.error().Message();
  const journal::RecordInput input{type, bytes};
  journal::RecordLocation location;
  ASSERT_TRUE(writer.value()
                  ->AppendGroup(std::span<const journal::RecordInput>(&input, 1), {&location, 1})
                  .ok());
  ASSERT_TRUE(writer.value()->Sync().ok());
}

TEST_F(EnginePaymentsTest, PaymentFactsThatDoNotDecodeOrApplyStopRecoveryWithTheirRecord) {
  const pay::Payment paid = Ok(Create(1'000, CaptureMethod::automatic));
  pay::Event unknown_payment;  // well formed, but about a payment that was never created
  unknown_payment.kind = pay::EventKind::payment_succeeded;
  unknown_payment.at_ms = kStartNs / 1'000'000;
  unknown_payment.payment = paid;
  unknown_payment.payment->id = PaymentId{77};
  std::vector<uint8_t> truncated = pay::EncodeEvent(unknown_payment);
  truncated.resize(truncated.size() / 2);
  struct Case {
    std::string name;
    std::vector<uint8_t> bytes;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"another version", std::vector<uint8_t>(64, 0xff),
       "a payment fact that does not decode (bad_version"},
      {"empty", {}, "a payment fact that does not decode (truncated"},
      {"truncated", truncated, "a payment fact that does not decode (truncated"},
      {"does not apply", pay::EncodeEvent(unknown_payment),
       "payment event payment.succeeded of pay_77 does not apply"},
  };
  engine_.reset();
  const std::vector<uint8_t> journal_file = [&] {
    auto bytes = storage_->ReadFile("segment-00000000000000000001.tpj", uint64_t{1} << 30);
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? bytes.value() : std::vector<uint8_t>{};
  }();
  for (const Case& c : cases) {
    // Back to the good journal, then one bad payment fact after it.
    ASSERT_TRUE(storage_->WriteFileAtomically("segment-00000000000000000001.tpj", journal_file).ok());
    AppendRecord(*storage_, kPaymentFact, c.bytes);
    const uint64_t bad_sequence = [&] {
      auto writer = journal::JournalWriter::Open(*storage_, {});
      return writer.ok() ? writer.value()->stats().last_sequence.value : 0;
    }();
    for (const bool ignore_snapshots : {true, false}) {
      EngineOptions options;
      options.ignore_snapshots = ignore_snapshots;
      auto engine = Engine::Open(*storage_, options, &clock_);
      ASSERT_FALSE(engine.ok()) << c.name;
      EXPECT_EQ(engine.error().code, EngineError::replay_diverged) << c.name;
      EXPECT_NE(engine.error().detail.find("journal record " + std::to_string(bad_sequence) + ": "),
                std::string::npos)
          << c.name << ": " << engine.error().detail;
      EXPECT_NE(engine.error().detail.find(c.message), std::string::npos)
          << c.name << ": " << engine.error().detail << " / " << engine.error().Message();
    }
  }
}

}  // namespace
}  // namespace tpw::engine
