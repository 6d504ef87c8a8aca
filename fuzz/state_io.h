// Shared by the ledger_state and snapshot targets and the seed generator: the engine's derived
// state (Ledger + JournalStore, as engine.cc saves and loads it) streamed from and to memory.
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "common/clock.h"
#include "engine/journal_store.h"
#include "journal/record_reader.h"
#include "ledger/ledger.h"
#include "ledger/state_io.h"
#include "storage/simulated_storage.h"

namespace tpw::fuzz {

class SpanSource final : public ledger::StateSource {
 public:
  explicit SpanSource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool Read(std::span<uint8_t> out) override {
    if (failed_ || out.size() > bytes_.size() - offset_) {
      failed_ = true;
      return false;
    }
    if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset_, out.size());
    offset_ += out.size();
    return true;
  }
  uint64_t remaining() const override { return failed_ ? 0 : bytes_.size() - offset_; }
  size_t offset() const { return offset_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t offset_ = 0;
  bool failed_ = false;
};

class VectorSink final : public ledger::StateSink {
 public:
  void Write(std::span<const uint8_t> bytes) override {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// A ledger with the durable engine's store, small enough to build once per fuzz input. The
// store's RecordReader points at an empty simulated directory: loading state never reads
// transfer bodies.
struct EngineState {
  EngineState() : storage(random), reader(storage), store(reader), ledger(store, SmallOptions()) {}

  static ledger::LedgerOptions SmallOptions() {
    ledger::LedgerOptions options;
    options.expected_accounts = 16;
    options.expected_transfers = 16;
    return options;
  }
  // As engine.cc: the ledger's sections, then the store's.
  bool Load(ledger::StateSource& source) {
    return ledger.LoadState(source) && store.LoadState(source);
  }
  void Save(ledger::StateSink& sink) const {
    ledger.SaveState(sink, ledger.last_timestamp());
    store.SaveState(sink);
  }

  SeededRandom random{1};
  storage::SimulatedStorage storage;
  journal::RecordReader reader;
  engine::JournalStore store;
  ledger::Ledger ledger;
};

}  // namespace tpw::fuzz
