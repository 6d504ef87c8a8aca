// Helpers shared by the engine tests (test-only, header-only): event builders, field-by-field
// comparison of accounts and transfers, a dump of everything an engine answers about a set of
// ids (to compare the state before and after a restart), and a Storage decorator that fails
// every mutating call after a chosen number of them (to interrupt multi-step writes at every
// step).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/limits.h"
#include "engine/engine.h"
#include "ledger/types.h"
#include "storage/storage.h"

namespace tpw::engine::testing {

inline ledger::Account MakeAccount(u128 id, uint16_t flags = 0, uint32_t ledger_number = 1) {
  ledger::Account a;
  a.id = AccountId{id};
  a.ledger = ledger_number;
  a.code = 10;
  a.flags = flags;
  return a;
}

inline ledger::Transfer MakeTransfer(u128 id, u128 debit, u128 credit, u128 amount,
                                     uint16_t flags = 0, uint32_t ledger_number = 1) {
  ledger::Transfer t;
  t.id = TransferId{id};
  t.debit_account_id = AccountId{debit};
  t.credit_account_id = AccountId{credit};
  t.amount = Amount::FromMinor(amount);
  t.ledger = ledger_number;
  t.code = 1;
  t.flags = flags;
  return t;
}

inline std::string Hex(u128 v) { return U128ToHex(v); }

inline std::string Describe(const ledger::Account& a) {
  std::ostringstream out;
  out << "account " << Hex(a.id.value) << " ledger " << a.ledger << " code " << a.code << " flags "
      << a.flags << " dp " << Hex(a.debits_pending.minor()) << " dP "
      << Hex(a.debits_posted.minor()) << " cp " << Hex(a.credits_pending.minor()) << " cP "
      << Hex(a.credits_posted.minor()) << " limit " << Hex(a.overdraft_limit.minor()) << " ud "
      << Hex(a.user_data_128) << "/" << a.user_data_64 << "/" << a.user_data_32 << " ts "
      << a.timestamp.ns;
  return out.str();
}

inline std::string Describe(const ledger::Transfer& t) {
  std::ostringstream out;
  out << "transfer " << Hex(t.id.value) << " " << Hex(t.debit_account_id.value) << "->"
      << Hex(t.credit_account_id.value) << " amount " << Hex(t.amount.minor()) << " pending "
      << Hex(t.pending_id.value) << " ud " << Hex(t.user_data_128) << "/" << t.user_data_64 << "/"
      << t.user_data_32 << " timeout " << t.timeout << " ledger " << t.ledger << " code " << t.code
      << " flags " << t.flags << " ts " << t.timestamp.ns;
  return out.str();
}

inline std::string Describe(const ledger::AccountBalance& b) {
  std::ostringstream out;
  out << "balance ts " << b.timestamp.ns << " dp " << Hex(b.debits_pending.minor()) << " dP "
      << Hex(b.debits_posted.minor()) << " cp " << Hex(b.credits_pending.minor()) << " cP "
      << Hex(b.credits_posted.minor());
  return out.str();
}

// Everything the engine answers about a set of ids, rendered as text lines so two dumps compare
// with one EXPECT_EQ and a failure shows the differing line.
struct StateDump {
  std::vector<std::string> lines;
  friend bool operator==(const StateDump&, const StateDump&) = default;
};

inline std::ostream& operator<<(std::ostream& out, const StateDump& dump) {
  for (const std::string& line : dump.lines) out << "\n  " << line;
  return out;
}

// Looks up every account and transfer, the pending status of every transfer, and the transfer
// list and balance history of every account (first kQueryLimitMax entries).
inline StateDump DumpState(Engine& engine, const std::vector<u128>& account_ids,
                           const std::vector<u128>& transfer_ids) {
  StateDump dump;
  constexpr size_t kChunk = 4096;
  for (size_t i = 0; i < account_ids.size(); i += kChunk) {
    std::vector<AccountId> ids;
    for (size_t j = i; j < std::min(account_ids.size(), i + kChunk); ++j) {
      ids.push_back(AccountId{account_ids[j]});
    }
    Reply reply = engine.LookupAccounts(ids);
    EXPECT_FALSE(reply.error);
    for (const ledger::Account& a : reply.accounts) dump.lines.push_back(Describe(a));
  }
  for (size_t i = 0; i < transfer_ids.size(); i += kChunk) {
    Request request;
    request.kind = RequestKind::lookup_transfers;
    Request status;
    status.kind = RequestKind::get_pending_status;
    for (size_t j = i; j < std::min(transfer_ids.size(), i + kChunk); ++j) {
      request.ids.push_back(transfer_ids[j]);
      status.ids.push_back(transfer_ids[j]);
    }
    Reply found = engine.Execute(std::move(request));
    EXPECT_FALSE(found.error);
    for (const ledger::Transfer& t : found.transfers) dump.lines.push_back(Describe(t));
    Reply statuses = engine.Execute(status);
    EXPECT_FALSE(statuses.error);
    std::string line = "pending statuses:";
    for (const ledger::PendingStatus s : statuses.pending_statuses) {
      line += " " + std::to_string(static_cast<int>(s));
    }
    dump.lines.push_back(line);
  }
  for (const u128 id : account_ids) {
    ledger::AccountFilter filter;
    filter.account_id = AccountId{id};
    filter.limit = kQueryLimitMax;
    filter.flags = ledger::filter_flags::kDebits | ledger::filter_flags::kCredits;
    Reply transfers = engine.GetAccountTransfers(filter);
    std::string line = "account " + Hex(id) + " transfers:";
    for (const ledger::Transfer& t : transfers.transfers) line += " " + Hex(t.id.value);
    dump.lines.push_back(line);
    Reply balances = engine.GetAccountBalances(filter);
    for (const ledger::AccountBalance& b : balances.balances) {
      dump.lines.push_back("account " + Hex(id) + " " + Describe(b));
    }
  }
  const EngineStats stats = engine.Stats();
  dump.lines.push_back("counts: accounts " + std::to_string(stats.accounts) + " transfers " +
                       std::to_string(stats.transfers) + " pending " +
                       std::to_string(stats.pending));
  return dump;
}

// Wraps a Storage; once `budget` mutating calls (append, write, truncate, sync, rename, remove,
// directory sync, creating opens) have succeeded, every further one fails with io_error. Reads
// pass through. Thread-safe if the wrapped storage is.
class FailAfterStorage final : public storage::Storage {
 public:
  FailAfterStorage(storage::Storage& inner, uint64_t budget) : inner_(&inner), budget_(budget) {}

  // Mutating calls attempted so far (the failed ones included).
  uint64_t used() const { return used_.load(); }
  // True once a call was refused.
  bool tripped() const { return used_.load() > budget_; }

  storage::StorageResult<std::unique_ptr<storage::File>> Open(std::string_view name,
                                                              storage::OpenMode mode) override {
    if (mode == storage::OpenMode::create_new || mode == storage::OpenMode::create_or_open) {
      if (!Take()) return Fail("open");
    }
    auto file = inner_->Open(name, mode);
    if (!file.ok()) return file;
    return std::unique_ptr<storage::File>(
        std::make_unique<FailAfterFile>(*this, std::move(file.value())));
  }
  storage::StorageResult<std::vector<std::string>> List() override { return inner_->List(); }
  storage::StorageStatus Rename(std::string_view from, std::string_view to) override {
    if (!Take()) return Fail("rename");
    return inner_->Rename(from, to);
  }
  storage::StorageStatus Remove(std::string_view name) override {
    if (!Take()) return Fail("remove");
    return inner_->Remove(name);
  }
  storage::StorageStatus SyncDirectory() override {
    if (!Take()) return Fail("fsync directory");
    return inner_->SyncDirectory();
  }
  storage::StorageResult<std::unique_ptr<storage::DirectoryLock>> LockDirectory() override {
    return inner_->LockDirectory();
  }
  std::string PathOf(std::string_view name) const override { return inner_->PathOf(name); }

 private:
  class FailAfterFile final : public storage::File {
   public:
    FailAfterFile(FailAfterStorage& owner, std::unique_ptr<storage::File> inner)
        : owner_(&owner), inner_(std::move(inner)) {}
    storage::StorageStatus Append(std::span<const uint8_t> bytes) override {
      if (!owner_->Take()) return owner_->Fail("append");
      return inner_->Append(bytes);
    }
    storage::StorageStatus Write(uint64_t offset, std::span<const uint8_t> bytes) override {
      if (!owner_->Take()) return owner_->Fail("write");
      return inner_->Write(offset, bytes);
    }
    storage::StorageResult<size_t> Read(uint64_t offset, std::span<uint8_t> out) override {
      return inner_->Read(offset, out);
    }
    storage::StorageResult<uint64_t> Size() override { return inner_->Size(); }
    storage::StorageStatus Truncate(uint64_t size) override {
      if (!owner_->Take()) return owner_->Fail("truncate");
      return inner_->Truncate(size);
    }
    storage::StorageStatus DataSync() override {
      if (!owner_->Take()) return owner_->Fail("fdatasync");
      return inner_->DataSync();
    }
    const std::string& path() const override { return inner_->path(); }

   private:
    FailAfterStorage* owner_;
    std::unique_ptr<storage::File> inner_;
  };

  bool Take() { return used_.fetch_add(1) < budget_; }
  static Err<storage::StorageFailure> Fail(const std::string& what) {
    return storage::StorageFail(storage::StorageError::io_error, 0, what + " (injected fault)");
  }

  storage::Storage* inner_;
  uint64_t budget_;
  std::atomic<uint64_t> used_{0};
};

}  // namespace tpw::engine::testing
