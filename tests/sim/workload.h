// Workload: the seeded random requests the simulator sends. It looks at the oracle's model (what
// exists, what is still pending) so most requests are meaningful, and mixes in every kind of
// transfer and mistake: plain, pending with and without timeouts, closing, post full / partial /
// too much, void, balancing, linked chains that commit and chains that fail, chains left open,
// retries of earlier ids (identical or changed), invalid events, empty and oversized batches,
// and queries of every kind including invalid filters.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "common/clock.h"
#include "engine/engine.h"
#include "ledger/ledger_reference_model.h"

namespace tpw::sim {

// Seeded helpers over one SeededRandom.
class Dice {
 public:
  explicit Dice(uint64_t seed) : random_(seed) {}
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : random_.Uniform(n); }
  uint64_t Between(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }
  bool Percent(uint64_t percent) { return Below(100) < percent; }
  bool Ppm(uint64_t ppm) { return Below(1'000'000) < ppm; }
  u128 Next128() { return MakeU128(random_.NextU64(), random_.NextU64()); }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(Below(items.size()))];
  }
  Random& random() { return random_; }

 private:
  SeededRandom random_;
};

// Per-seed shape of the workload.
struct Scenario {
  std::vector<u128> account_ids;  // the pool accounts are created from
  std::vector<uint32_t> ledgers;
  u128 transfer_id_base = 1;
  bool transfer_ids_descend = false;  // ids counting down from near 2^128
  uint64_t batch_max = 4;
  uint64_t chain_percent = 20;  // chance an event starts a linked chain
  uint64_t invalid_percent = 5;
};

Scenario MakeScenario(Dice& dice);

class Workload {
 public:
  Workload(Dice& dice, Scenario scenario) : dice_(dice), s_(std::move(scenario)) {}

  std::vector<ledger::Account> Accounts(const ledger::reference::ReferenceModel& model);
  std::vector<ledger::Transfer> Transfers(const ledger::reference::ReferenceModel& model);
  engine::Request Query(const ledger::reference::ReferenceModel& model, uint64_t now_ns);
  // Tells the workload which transfers the oracle now holds (after a create request).
  void Observe(const ledger::reference::ReferenceModel& model,
               const std::vector<ledger::Transfer>& sent);

  const Scenario& scenario() const { return s_; }
  // Every transfer id ever sent (full comparisons look all of them up).
  const std::vector<u128>& transfer_ids() const { return all_ids_; }
  // A fresh transfer id no request has used.
  u128 FreshTransferId();

 private:
  std::vector<u128> ExistingAccounts(const ledger::reference::ReferenceModel& model) const;
  u128 AccountForTransfer(const std::vector<u128>& existing);
  ledger::Account FreshAccount(u128 id);
  ledger::Account Resend(const ledger::Account& stored);
  Amount RandomAmount();
  uint32_t Timeout();
  ledger::Transfer Regular(const ledger::reference::ReferenceModel& model,
                           const std::vector<u128>& existing, bool pending);
  ledger::Transfer Balancing(const ledger::reference::ReferenceModel& model,
                             const std::vector<u128>& existing);
  ledger::Transfer PhaseTwo(const ledger::reference::ReferenceModel& model, bool post);
  ledger::Transfer Retry(const ledger::reference::ReferenceModel& model);
  ledger::Transfer Invalid(const ledger::reference::ReferenceModel& model,
                           const std::vector<u128>& existing);
  ledger::Transfer OneTransfer(const ledger::reference::ReferenceModel& model,
                               const std::vector<u128>& existing);
  u128 PendingTarget(const ledger::reference::ReferenceModel& model);
  template <typename Event>
  void Link(std::vector<Event>& events, uint16_t linked_flag);
  void Remember(const ledger::Transfer& t);

  Dice& dice_;
  Scenario s_;
  uint64_t next_transfer_ = 0;
  uint64_t next_account_ = 1;
  std::vector<u128> all_ids_;
  std::set<u128> all_ids_set_;
  std::vector<ledger::Transfer> sent_;  // recent requests, for retries
  std::vector<u128> pendings_;          // ids created as pending transfers
  std::vector<u128> batch_pendings_;    // pending ids in the batch being built
};

}  // namespace tpw::sim
