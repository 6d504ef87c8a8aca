#include "payments/test_util.h"

namespace tpw::payments::test {
namespace {

namespace af = ledger::account_flags;

std::shared_ptr<const risk::RuleSet> CompileRules() {
  risk::CompileResult result = risk::RuleSet::Compile(kRiskRules);
  for (const risk::RuleError& e : result.errors) {
    ADD_FAILURE() << "risk rules line " << e.line << ":" << e.column << ": " << e.message;
  }
  return result.rules;
}

// Refusals that still record something (payments.h): everything else must emit nothing.
bool RecordsOutcome(PaymentError error) {
  return error == PaymentError::declined_by_risk || error == PaymentError::ledger_refused;
}

}  // namespace

World::World() : risk(std::make_unique<EngineRiskPort>(CompileRules())) {
  // Banks (no limit) fund everyone; wallets, merchants, FX desks and program accounts may not
  // go below zero, so the ledger itself refuses any flow that would overdraw them.
  CreateAccount(kBankUsd, kUsd, false);
  CreateAccount(kBankEur, kEur, false);
  CreateAccount(kBankPts, kPts, false);
  CreateAccount(kBankJpy, kJpy, false);
  CreateAccount(kBankEth, kEth, false);
  for (const u128 id : {kWalletUsd, kTransitUsd, kWalletUsd2, kMerchant, kSplitA, kSplitB, kFeeAcct,
                        kOtherMerchant, kFxUsd, kPointsFunding}) {
    CreateAccount(id, kUsd, true);
  }
  CreateAccount(kWalletEur, kEur, true);
  CreateAccount(kFxEur, kEur, true);
  CreateAccount(kWalletJpy, kJpy, true);
  CreateAccount(kFxJpy, kJpy, true);
  CreateAccount(kWalletEth, kEth, true);
  CreateAccount(kFxEth, kEth, true);
  CreateAccount(kPointsAcct, kPts, true);
  CreateAccount(kPointsSink, kPts, true);
  Fund(kWalletUsd, 1'000'000, kUsd);  // 10,000.00 USD
  Fund(kWalletEur, 500'000, kEur);    // 5,000.00 EUR
  Fund(kTransitUsd, 5'000, kUsd);     // 50.00 USD
  Fund(kFxUsd, 10'000'000, kUsd);
  Fund(kFxEur, 10'000'000, kEur);
  Fund(kFxJpy, 1'000'000'000, kJpy);
  Fund(kPointsFunding, 10'000'000, kUsd);
  RegisterCustomer(kCustomer, {{Acct(kWalletUsd), kUsd, SourceKind::balance, {}, 1},
                               {Acct(kTransitUsd), kUsd, SourceKind::transit, {"transit"}, 0},
                               {Acct(kWalletEur), kEur, SourceKind::balance, {}, 2},
                               {Acct(kPointsAcct), kPts, SourceKind::points, {}, 0}});
}

void World::CreateAccount(u128 id, uint32_t asset, bool limited) {
  ledger::Account account;
  account.id = AccountId(id);
  account.ledger = asset;
  account.code = 10;
  account.flags = limited ? af::kDebitsMustNotExceedCredits : 0;
  std::vector<ledger::CreateAccountsResult> results;
  ASSERT_TRUE(ledger.CreateAccounts({&account, 1}, ledger_port.NextTimestamp(1), results).ok());
  ASSERT_TRUE(results.empty()) << "account " << U128ToDecimal(id);
}

void World::Fund(u128 account, u128 amount_minor, uint32_t asset) {
  const u128 bank = asset == kUsd   ? kBankUsd
                    : asset == kEur ? kBankEur
                    : asset == kPts ? kBankPts
                    : asset == kJpy ? kBankJpy
                                    : kBankEth;
  ledger::Transfer t;
  t.id = TransferId(transfer_seq_++);
  t.debit_account_id = AccountId(bank);
  t.credit_account_id = AccountId(account);
  t.amount = Amt(amount_minor);
  t.ledger = asset;
  t.code = 1;
  std::vector<ledger::CreateTransfersResult> results;
  ASSERT_TRUE(ledger.CreateTransfers({&t, 1}, ledger_port.NextTimestamp(1), results).ok());
  ASSERT_TRUE(results.empty());
}

void World::RegisterCustomer(u128 customer, std::vector<FundingSource> sources) {
  Command c;
  c.kind = CommandKind::upsert_customer;
  c.customer_record.id = CustomerId(customer);
  c.customer_record.sources = std::move(sources);
  const Reply reply = Run(c);
  ASSERT_TRUE(reply.ok()) << PaymentErrorName(reply.error) << " " << reply.param << " "
                          << reply.detail;
}

void World::SetupFx(const std::string& usd_to_eur, const std::string& usd_to_jpy) {
  Command rates;
  rates.kind = CommandKind::put_fx_rates;
  rates.rates = {{kUsd, kEur, usd_to_eur, "ecb", now_ms}, {kUsd, kJpy, usd_to_jpy, "ecb", now_ms}};
  ASSERT_TRUE(Run(rates).ok());
  for (const auto& [asset, account] :
       std::vector<std::pair<uint32_t, u128>>{{kUsd, kFxUsd}, {kEur, kFxEur}, {kJpy, kFxJpy}}) {
    Command set;
    set.kind = CommandKind::set_fx_account;
    set.fx_account = {asset, Acct(account)};
    ASSERT_TRUE(Run(set).ok());
  }
}

void World::SetupPoints(uint64_t points_per_minor_unit) {
  Command c;
  c.kind = CommandKind::set_points_program;
  c.program.points_asset = kPts;
  c.program.money_asset = kUsd;
  c.program.points_per_minor_unit = points_per_minor_unit;
  c.program.sink_account = Acct(kPointsSink);
  c.program.funding_account = Acct(kPointsFunding);
  const Reply reply = Run(c);
  ASSERT_TRUE(reply.ok()) << reply.param << " " << reply.detail;
}

Reply World::Run(const Command& command) {
  ledger_port.now_ms = now_ms;
  const size_t before = log.size();
  const uint64_t digest_before = payments.StateDigest();
  Reply reply = payments.Execute(command, now_ms, ledger_port, *risk, log);
  ledger.CheckInvariants();
  const bool may_record =
      RecordsOutcome(reply.error) || command.kind == CommandKind::create_payment;
  if (!reply.ok() && !may_record) {
    EXPECT_EQ(log.size(), before) << "a refusal emitted events: " << PaymentErrorName(reply.error);
    EXPECT_EQ(payments.StateDigest(), digest_before) << "a refusal changed the state";
  }
  if (log.size() == before) {
    EXPECT_EQ(payments.StateDigest(), digest_before) << "state changed without an event";
  }
  return reply;
}

Command World::Create(u128 amount_minor, CaptureMethod method) const {
  Command c;
  c.kind = CommandKind::create_payment;
  c.amount = Amt(amount_minor);
  c.asset = kUsd;
  c.merchant_account = Acct(kMerchant);
  c.customer = CustomerId(kCustomer);
  c.capture_method = method;
  c.description = "order 1";
  return c;
}

Command World::Confirm(PaymentId id) const {
  Command c;
  c.kind = CommandKind::confirm_payment;
  c.payment = id;
  return c;
}

Command World::Capture(PaymentId id, std::optional<u128> amount) const {
  Command c;
  c.kind = CommandKind::capture_payment;
  c.payment = id;
  if (amount) c.amount_to_capture = Amt(*amount);
  return c;
}

Command World::Cancel(PaymentId id, CancelReason reason) const {
  Command c;
  c.kind = CommandKind::cancel_payment;
  c.payment = id;
  c.cancel_reason = reason;
  return c;
}

Command World::RefundOf(PaymentId id, std::optional<u128> amount) const {
  Command c;
  c.kind = CommandKind::refund_payment;
  c.payment = id;
  if (amount) c.refund_amount = Amt(*amount);
  return c;
}

Payment World::CreatePaid(u128 amount_minor, CaptureMethod method) {
  Command c = Create(amount_minor, method);
  c.confirm = true;
  const Reply reply = Run(c);
  EXPECT_TRUE(reply.ok()) << PaymentErrorName(reply.error) << " " << reply.param << " "
                          << reply.detail;
  return reply.payment.value_or(Payment{});
}

__int128 World::Net(u128 id) const {
  const ledger::Account a = AccountOf(id);
  return static_cast<__int128>(a.credits_posted.minor()) -
         static_cast<__int128>(a.debits_posted.minor());
}

__int128 World::Pending(u128 id) const {
  return static_cast<__int128>(AccountOf(id).debits_pending.minor());
}

Reply World::ExpireAt(uint64_t at_ms) {
  now_ms = at_ms;
  std::vector<ledger::ExpiredTransfer> expired;
  const Timestamp at{std::max(at_ms * 1'000'000, ledger.last_timestamp().ns + 1)};
  const bool more = ledger.ExpirePendingTransfers(at, 100'000, expired);
  EXPECT_FALSE(more);
  Command c;
  c.kind = CommandKind::expire_holds;
  for (const ledger::ExpiredTransfer& e : expired) c.expired_transfers.push_back(e.id);
  return Run(c);
}

std::unique_ptr<Payments> World::Replayed() const {
  auto fresh = std::make_unique<Payments>();
  for (const Event& event : log) {
    const std::vector<uint8_t> bytes = EncodeEvent(event);
    Result<Event, EventDecodeError> decoded = DecodeEvent(bytes);
    EXPECT_TRUE(decoded.ok());
    if (!decoded.ok()) return fresh;
    EXPECT_EQ(decoded.value(), event) << EventKindName(event.kind);
    EXPECT_TRUE(fresh->Apply(decoded.value())) << EventKindName(event.kind);
  }
  return fresh;
}

std::unique_ptr<Payments> World::Reloaded() const {
  VectorSink sink;
  payments.Save(sink);
  auto fresh = std::make_unique<Payments>();
  VectorSource source(sink.data);
  EXPECT_TRUE(fresh->Load(source));
  return fresh;
}

}  // namespace tpw::payments::test
