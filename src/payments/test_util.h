// Shared by the payments tests: a world of real parts — a ledger::Ledger on an InMemoryStore
// behind a LedgerPort, a risk::RiskEngine compiled from a rules text behind a RiskPort — with
// the accounts a payment touches, funded, and helpers that run commands and check after each
// one that the ledger's invariants hold and that refusals left no trace.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/asset.h"
#include "ledger/ledger.h"
#include "ledger/store.h"
#include "payments/payments.h"
#include "risk/risk.h"
#include "risk/rules.h"

namespace tpw::payments::test {

inline constexpr uint32_t kUsd = 1;
inline constexpr uint32_t kEur = 2;
inline constexpr uint32_t kJpy = 4;
inline constexpr uint32_t kEth = 8;
inline constexpr uint32_t kPts = 9;
inline constexpr uint64_t kT0Ms = 1'700'000'000'000;  // a fixed "now" (2023-11-14)

// Account ids of the world.
inline constexpr u128 kBankUsd = 10, kBankEur = 11, kBankPts = 12, kBankJpy = 13, kBankEth = 14;
inline constexpr u128 kWalletUsd = 100, kWalletEur = 101, kTransitUsd = 102, kPointsAcct = 103;
inline constexpr u128 kWalletJpy = 104, kWalletEth = 105, kWalletUsd2 = 106;
inline constexpr u128 kMerchant = 200, kSplitA = 201, kSplitB = 202, kFeeAcct = 203;
inline constexpr u128 kOtherMerchant = 204;
inline constexpr u128 kFxUsd = 300, kFxEur = 301, kFxJpy = 302, kFxEth = 303;
inline constexpr u128 kPointsSink = 400, kPointsFunding = 401;
inline constexpr u128 kCustomer = 7000, kCustomer2 = 7001;

// Risk rules of the tests: device 666 is blocked (decline), 5000.00 USD and more is reviewed,
// 1000.00 USD and more needs strong verification, device 777 always needs a PIN.
inline constexpr const char* kRiskRules = R"(
version = "payments-test-1"
[thresholds]
step_up = 1000
review = 2000
decline = 3000
[lists.blocked_devices]
kind = "device"
role = "deny"
items = ["666"]
[[rule]]
name = "blocked_device"
condition = "device in blocked_devices"
action = "block"
[[rule]]
name = "review_large"
condition = "amount >= 5000.00 USD"
action = "review"
[[rule]]
name = "strong_for_large"
condition = "amount >= 1000.00 USD and cvm_performed < 'strong'"
action = "step_up"
cvm = "strong"
[[rule]]
name = "pin_device"
condition = "device == 777 and cvm_performed < 'pin'"
action = "step_up"
cvm = "pin"
)";

// The engine's LedgerPort, minus the journal: each call is one batch at the next timestamp.
class DirectLedgerPort final : public LedgerPort {
 public:
  explicit DirectLedgerPort(ledger::Ledger& ledger) : ledger_(ledger) {}
  std::optional<ledger::Account> LookupAccount(AccountId id) const override {
    return ledger_.LookupAccount(id);
  }
  ledger::PendingStatus GetPendingStatus(TransferId id) const override {
    return ledger_.GetPendingStatus(id);
  }
  std::vector<ledger::CreateTransfersResult> CreateTransfers(
      std::span<const ledger::Transfer> transfers) override {
    std::vector<ledger::CreateTransfersResult> results;
    const Status<ledger::BatchError> status =
        ledger_.CreateTransfers(transfers, NextTimestamp(transfers.size()), results);
    EXPECT_TRUE(status.ok());
    ++batches;
    return results;
  }
  // Ledger time follows the test's clock (ms -> ns) and never goes back.
  Timestamp NextTimestamp(size_t events) {
    const uint64_t wall = now_ms * 1'000'000;
    const uint64_t next = std::max(wall, ledger_.last_timestamp().ns + 1);
    (void)events;
    return Timestamp{next};
  }
  uint64_t now_ms = kT0Ms;
  int batches = 0;

 private:
  ledger::Ledger& ledger_;
};

class EngineRiskPort final : public RiskPort {
 public:
  explicit EngineRiskPort(std::shared_ptr<const risk::RuleSet> rules) : engine_(std::move(rules)) {}
  RiskSummary Decide(const risk::Event& event, uint64_t now_ms) override {
    const risk::RiskDecision d = engine_.Decide(event, Timestamp{now_ms * 1'000'000});
    RiskSummary summary;
    summary.decision = d.decision;
    summary.required_cvm = d.required_cvm;
    summary.score = d.score;
    for (const std::string_view rule : d.matched_rules) summary.matched_rules.emplace_back(rule);
    summary.decided_by = std::string(d.decided_by);
    summary.rules_version = std::string(d.rules_version);
    ++decisions;
    last_event = event;
    return summary;
  }
  int decisions = 0;
  risk::Event last_event;

 private:
  risk::RiskEngine engine_;
};

inline Amount Amt(u128 minor) { return Amount::FromMinor(minor); }
inline AccountId Acct(u128 id) { return AccountId(id); }

// A world: ledger, risk, the payments module, accounts, and an event log.
class World {
 public:
  World();

  // Runs a command at `now_ms` (default: the world's clock), appends its events to `log`,
  // applies the ledger's invariant check, and checks that a refusal emitted nothing (except
  // the recorded outcomes, payments.h).
  Reply Run(const Command& command);
  Reply Run(const Command& command, uint64_t at_ms) {
    now_ms = at_ms;
    return Run(command);
  }

  // Commands, filled with the world's defaults (customer kCustomer, merchant, USD).
  Command Create(u128 amount_minor, CaptureMethod method = CaptureMethod::manual) const;
  Command Confirm(PaymentId id) const;
  Command Capture(PaymentId id, std::optional<u128> amount = std::nullopt) const;
  Command Cancel(PaymentId id, CancelReason reason = CancelReason::requested_by_customer) const;
  Command RefundOf(PaymentId id, std::optional<u128> amount = std::nullopt) const;

  // Create (+ confirm) and expect success; the payment afterwards.
  Payment CreatePaid(u128 amount_minor, CaptureMethod method);

  void Fund(u128 account, u128 amount_minor, uint32_t asset);
  void RegisterCustomer(u128 customer, std::vector<FundingSource> sources);
  void SetupFx(const std::string& usd_to_eur = "0.9", const std::string& usd_to_jpy = "150.5");
  void SetupPoints(uint64_t points_per_minor_unit = 10);

  ledger::Account AccountOf(u128 id) const { return *ledger.LookupAccount(AccountId(id)); }
  // credits_posted - debits_posted as a signed difference (i.e. what the account holds).
  __int128 Net(u128 id) const;
  __int128 Pending(u128 id) const;  // debits_pending of the account

  // Expires pending transfers at `at_ms` in the ledger and reports them to the module.
  Reply ExpireAt(uint64_t at_ms);

  // A fresh module rebuilt from the log (each event encoded, decoded and applied).
  std::unique_ptr<Payments> Replayed() const;
  // A fresh module loaded from `payments`' snapshot.
  std::unique_ptr<Payments> Reloaded() const;

  ledger::InMemoryStore store;
  ledger::Ledger ledger{store};
  DirectLedgerPort ledger_port{ledger};
  std::unique_ptr<EngineRiskPort> risk;
  Payments payments;
  std::vector<Event> log;
  uint64_t now_ms = kT0Ms;

 private:
  void CreateAccount(u128 id, uint32_t asset, bool limited);
  uint64_t transfer_seq_ = 1;
};

// A sink/source over a byte vector, for Save/Load.
class VectorSink final : public ledger::StateSink {
 public:
  void Write(std::span<const uint8_t> bytes) override {
    data.insert(data.end(), bytes.begin(), bytes.end());
  }
  std::vector<uint8_t> data;
};
class VectorSource final : public ledger::StateSource {
 public:
  explicit VectorSource(std::span<const uint8_t> bytes) : data_(bytes) {}
  bool Read(std::span<uint8_t> out) override {
    if (failed_ || data_.size() - offset_ < out.size()) {
      failed_ = true;
      return false;
    }
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(offset_), out.size(), out.begin());
    offset_ += out.size();
    return true;
  }
  uint64_t remaining() const override { return failed_ ? 0 : data_.size() - offset_; }

 private:
  std::span<const uint8_t> data_;
  size_t offset_ = 0;
  bool failed_ = false;
};

}  // namespace tpw::payments::test
