// Helpers shared by the journal tests (test-only, header-only).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "journal/journal.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::journal::testing {

// A record as the tests remember it.
struct Fact {
  uint64_t sequence = 0;
  uint16_t type = 0;
  std::vector<uint8_t> bytes;
  friend bool operator==(const Fact&, const Fact&) = default;
};

// Deterministic record contents: `count` records of `size` bytes (size 0 allowed).
inline std::vector<std::vector<uint8_t>> MakePayloads(uint64_t seed, size_t count, size_t size) {
  SeededRandom random(seed);
  std::vector<std::vector<uint8_t>> payloads(count, std::vector<uint8_t>(size));
  for (auto& payload : payloads) random.Fill(payload);
  return payloads;
}

// Appends `payloads` as one group (types 1, 2, 3, ...) and returns the facts as written.
inline std::vector<Fact> AppendGroup(JournalWriter& writer,
                                     const std::vector<std::vector<uint8_t>>& payloads,
                                     std::vector<RecordLocation>* locations_out = nullptr) {
  std::vector<RecordInput> inputs;
  for (size_t i = 0; i < payloads.size(); ++i) {
    inputs.push_back(RecordInput{static_cast<uint16_t>(i + 1), payloads[i]});
  }
  std::vector<RecordLocation> locations(payloads.size());
  JournalResult<GroupAppended> appended = writer.AppendGroup(inputs, locations);
  EXPECT_TRUE(appended.ok()) << appended.error().Message();
  std::vector<Fact> facts;
  if (!appended.ok()) return facts;
  for (size_t i = 0; i < payloads.size(); ++i) {
    facts.push_back(Fact{appended.value().first_sequence.value + i, inputs[i].type, payloads[i]});
  }
  if (locations_out != nullptr) *locations_out = locations;
  return facts;
}

// Every record the journal in `storage` holds, from its first sequence, or the error.
inline JournalResult<std::vector<Fact>> ReadAllFacts(storage::Storage& storage,
                                                     SequenceNo from = SequenceNo{1}) {
  JournalResult<std::unique_ptr<JournalReader>> reader = JournalReader::Open(storage, from);
  if (!reader.ok()) return Err{reader.error()};
  std::vector<Fact> facts;
  for (;;) {
    JournalResult<std::optional<RecordView>> next = reader.value()->Next();
    if (!next.ok()) return Err{next.error()};
    if (!next.value().has_value()) return facts;
    const RecordView& view = *next.value();
    facts.push_back(Fact{view.sequence.value, view.type, {view.bytes.begin(), view.bytes.end()}});
  }
}

inline std::unique_ptr<storage::PosixStorage> OpenPosix(const std::string& path) {
  auto storage = storage::PosixStorage::Open(path, true);
  TPW_ASSERT(storage.ok());
  return std::move(storage).value();
}

inline std::unique_ptr<JournalWriter> MustOpenWriter(storage::Storage& storage,
                                                     JournalOptions options = {}) {
  JournalResult<std::unique_ptr<JournalWriter>> writer = JournalWriter::Open(storage, options);
  if (!writer.ok()) ADD_FAILURE() << writer.error().Message();
  TPW_ASSERT(writer.ok());
  return std::move(writer).value();
}

// Whole-file access for tests that damage files on purpose.
inline std::vector<uint8_t> ReadFileBytes(storage::Storage& storage, const std::string& name) {
  auto bytes = storage.ReadFile(name, uint64_t{1} << 32);
  TPW_ASSERT(bytes.ok());
  return std::move(bytes).value();
}

inline void WriteFileBytes(storage::Storage& storage, const std::string& name,
                           std::span<const uint8_t> bytes) {
  auto file = storage.Open(name, storage::OpenMode::create_or_open);
  TPW_ASSERT(file.ok());
  TPW_ASSERT(file.value()->Truncate(0).ok());
  TPW_ASSERT(file.value()->Append(bytes).ok());
  TPW_ASSERT(file.value()->DataSync().ok());
}

inline std::vector<std::string> SegmentNames(storage::Storage& storage) {
  auto names = storage.List();
  TPW_ASSERT(names.ok());
  std::vector<std::string> segments;
  for (const std::string& name : names.value()) {
    if (name.starts_with("segment-") && name.ends_with(".tpj")) segments.push_back(name);
  }
  return segments;
}

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace tpw::journal::testing
