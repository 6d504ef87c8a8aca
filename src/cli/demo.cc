// tpwallet demo: a short, self-explaining walk through the ledger, step by step.
// It runs in memory, prints what it does and why, and checks its own claims as it goes.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/format.h"
#include "common/asset.h"
#include "ledger/ledger.h"

namespace tpw::cli {
namespace {

using ledger::Account;
using ledger::Transfer;
namespace af = ledger::account_flags;
namespace tf = ledger::transfer_flags;

constexpr uint32_t kUsd = 1;
constexpr uint16_t kCodeUser = 10;
constexpr uint16_t kCodeMerchant = 20;
constexpr uint16_t kCodeIssuer = 30;
constexpr uint16_t kCodePayment = 1;

struct Demo {
  AssetTable assets = AssetTable::Default();
  ledger::InMemoryStore store;
  ledger::Ledger ledger{store};
  uint64_t clock_ns = 1'700'000'000'000'000'000;  // a fixed start: the demo is deterministic
  bool all_claims_held = true;

  Timestamp Tick(uint64_t advance_ns = 1'000'000) {
    clock_ns += advance_ns;
    return ledger.NextTimestamp(Timestamp{clock_ns});
  }

  Amount Usd(const char* text) const {
    const Result<Amount, AmountError> parsed = assets.Parse("USD", text);
    TPW_ASSERT(parsed.ok());
    return parsed.value();
  }

  void CreateAccount(uint64_t id, uint16_t code, uint16_t flags, Amount overdraft = {}) {
    Account a;
    a.id = AccountId(id);
    a.ledger = kUsd;
    a.code = code;
    a.flags = flags;
    a.overdraft_limit = overdraft;
    std::vector<ledger::CreateAccountsResult> results;
    const Account batch[] = {a};
    TPW_ASSERT(ledger.CreateAccounts(batch, Tick(), results).ok());
    Expect(results.empty(), "account created");
  }

  // Submits a batch and prints each event's result; returns the result of the last event.
  ledger::CreateTransferResult Submit(const std::vector<Transfer>& batch) {
    std::vector<ledger::CreateTransfersResult> results;
    TPW_ASSERT(ledger.CreateTransfers(batch, Tick(), results).ok());
    ledger::CreateTransferResult last = ledger::CreateTransferResult::created;
    for (size_t i = 0; i < batch.size(); ++i) {
      ledger::CreateTransferResult r = ledger::CreateTransferResult::created;
      for (const auto& result : results) {
        if (result.index == i) r = result.result;
      }
      std::printf("    transfer %s: %s — %s\n", FormatId(batch[i].id).c_str(),
                  std::string(ledger::ResultName(r)).c_str(),
                  std::string(ledger::ResultMessage(r)).c_str());
      last = r;
    }
    return last;
  }

  Transfer Make(uint64_t id, uint64_t debit, uint64_t credit, Amount amount,
                uint16_t flags = 0) const {
    Transfer t;
    t.id = TransferId(id);
    t.debit_account_id = AccountId(debit);
    t.credit_account_id = AccountId(credit);
    t.amount = amount;
    t.ledger = kUsd;
    t.code = kCodePayment;
    t.flags = flags;
    return t;
  }

  void Expect(bool claim, const char* what) {
    if (!claim) {
      std::printf("    !! expected: %s\n", what);
      all_claims_held = false;
    }
  }

  void PrintBalances(const char* title) const {
    std::vector<std::vector<std::string>> rows;
    const char* names[] = {"", "issuer (funding)", "alice (wallet)", "coffee shop", "bob (wallet)"};
    for (uint64_t id = 1; id <= 4; ++id) {
      const std::optional<Account> a = ledger.LookupAccount(AccountId(id));
      if (!a) continue;
      rows.push_back({FormatId(a->id), names[id], FormatMoney(assets, kUsd, a->debits_posted),
                      FormatMoney(assets, kUsd, a->credits_posted),
                      FormatMoney(assets, kUsd, a->debits_pending),
                      FormatMoney(assets, kUsd, a->credits_pending)});
    }
    std::printf("\n  %s\n", title);
    const std::string table = RenderTable(
        {"id", "account", "debits posted", "credits posted", "debits pending", "credits pending"},
        rows);
    std::printf("%s\n", table.c_str());
  }
};

int RunDemo() {
  Demo d;
  std::printf(
      "tpwallet demo: a double-entry ledger in memory (amounts are exact 128-bit minor units).\n"
      "Wallet accounts carry debits_must_not_exceed_credits: a wallet can never spend money it\n"
      "does not hold. Every step below prints each transfer's result code and its meaning.\n\n");

  std::printf("1. Open accounts: the issuer's funding account, alice's and bob's wallets (bob may\n"
              "   go 5.00 USD overdrawn), and a merchant.\n");
  d.CreateAccount(1, kCodeIssuer, 0);
  d.CreateAccount(2, kCodeUser, af::kDebitsMustNotExceedCredits | af::kHistory);
  d.CreateAccount(3, kCodeMerchant, 0);
  d.CreateAccount(4, kCodeUser, af::kDebitsMustNotExceedCredits, d.Usd("5.00"));

  std::printf("\n2. Alice tops up 100.00 USD (issuer -> alice), then pays the coffee shop 12.34.\n");
  d.Expect(d.Submit({d.Make(101, 1, 2, d.Usd("100.00"))}) == ledger::CreateTransferResult::created,
           "top-up created");
  d.Expect(d.Submit({d.Make(102, 2, 3, d.Usd("12.34"))}) == ledger::CreateTransferResult::created,
           "payment created");

  std::printf("\n3. The same payment is retried with the same id (a client timeout): no double\n"
              "   charge, the ledger answers `exists`.\n");
  d.Expect(d.Submit({d.Make(102, 2, 3, d.Usd("12.34"))}) == ledger::CreateTransferResult::exists,
           "retry is exists");

  std::printf("\n4. Alice tries to pay 500.00: refused, nothing moves. The id is remembered, so a\n"
              "   retry of it can never succeed later by surprise.\n");
  d.Expect(d.Submit({d.Make(103, 2, 3, d.Usd("500.00"))}) ==
               ledger::CreateTransferResult::exceeds_credits,
           "overspend refused");
  d.Expect(d.Submit({d.Make(103, 2, 3, d.Usd("500.00"))}) ==
               ledger::CreateTransferResult::id_already_failed,
           "retry of failed id refused");

  std::printf("\n5. Two-phase: a hold of 50.00 for a hotel (pending, expires in 1 hour), then a\n"
              "   capture of 30.00; the other 20.00 goes back to alice.\n");
  Transfer hold = d.Make(104, 2, 3, d.Usd("50.00"), tf::kPending);
  hold.timeout = 3600;
  d.Submit({hold});
  d.PrintBalances("Balances with the hold in place:");
  Transfer capture = d.Make(105, 0, 0, d.Usd("30.00"), tf::kPostPendingTransfer);
  capture.pending_id = TransferId(104);
  d.Expect(d.Submit({capture}) == ledger::CreateTransferResult::created, "capture created");

  std::printf("\n6. A linked batch (all or nothing): bob borrows 5.00 of overdraft to pay 5.00,\n"
              "   then a second payment of 1.00 would exceed his limit — so neither happens.\n");
  d.Submit({d.Make(106, 4, 3, d.Usd("5.00"), tf::kLinked), d.Make(107, 4, 3, d.Usd("1.00"))});
  d.Expect(!d.ledger.LookupTransfer(TransferId(106)).has_value(), "chain rolled back");

  d.PrintBalances("Final balances:");
  const auto history = d.ledger.GetAccountBalances(ledger::AccountFilter{
      AccountId(2), {}, {}, 0, 100, ledger::filter_flags::kDebits | ledger::filter_flags::kCredits});
  std::printf("  alice's account keeps balance history: %zu entries.\n",
              history.ok() ? history.value().size() : 0);
  d.ledger.CheckInvariants();
  for (const ledger::LedgerTotals& t : d.ledger.Totals()) {
    std::printf("  invariant checked: ledger %u posted debits %s == posted credits %s\n", t.ledger,
                FormatMoney(d.assets, t.ledger, t.debits_posted).c_str(),
                FormatMoney(d.assets, t.ledger, t.credits_posted).c_str());
  }
  std::printf("\n%s\n", d.all_claims_held ? "Demo complete: every step behaved as described."
                                          : "Demo FAILED: a step did not behave as described.");
  return d.all_claims_held ? kExitOk : kExitInternal;
}

}  // namespace

void RegisterDemo(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Walk through the ledger in memory: accounts, payments, idempotent retries, refusals,\n"
      "holds and captures, linked batches, and the invariants.\nExample: tpwallet demo");
  cmd->callback([&exit_code] { exit_code = RunDemo(); });
}

}  // namespace tpw::cli
