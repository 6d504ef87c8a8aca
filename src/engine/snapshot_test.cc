// Snapshot files (engine/snapshot.h): write/check/load round trips on a real directory and on
// SimulatedStorage; any flipped byte, a truncated or extended file is rejected by
// CheckSnapshot; leftover .tmp files are ignored and cleaned up; a crash at any step of
// writing a new snapshot leaves the previous one usable; pruning keeps the newest N.
#include "engine/snapshot.h"

#include <gtest/gtest.h>

#include <functional>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "engine/engine_test_util.h"
#include "journal/crc32c.h"
#include "storage/posix_storage.h"
#include "storage/simulated_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw::engine {
namespace {

using testing::FailAfterStorage;

std::vector<uint8_t> Body(uint64_t seed, size_t bytes) {
  std::vector<uint8_t> body(bytes);
  SeededRandom random(seed);
  random.Fill(body);
  return body;
}

SnapshotHeader MakeHeader(uint64_t sequence) {
  SnapshotHeader header;
  header.fingerprint = 0x1234567890abcdef;
  header.sequence = sequence;
  for (size_t i = 0; i < header.head_hash.size(); ++i) {
    header.head_hash[i] = static_cast<uint8_t>(sequence + i);
  }
  return header;
}

// Writes `body` as the state, in pieces of uneven sizes (as the ledger's sections are).
storage::StorageResult<uint64_t> Write(storage::Storage& storage, uint64_t sequence,
                                       const std::vector<uint8_t>& body) {
  return WriteSnapshot(storage, MakeHeader(sequence), [&](ledger::StateSink& sink) {
    size_t offset = 0;
    size_t piece = 1;
    while (offset < body.size()) {
      const size_t n = std::min(piece, body.size() - offset);
      sink.Write(std::span(body).subspan(offset, n));
      offset += n;
      piece = piece * 3 + 1;
    }
  });
}

// LoadSnapshot after reading the header, as the engine does.
bool LoadBody(storage::Storage& storage, const std::string& name,
              const std::function<bool(ledger::StateSource&)>& read_body, std::string& why) {
  auto header = ReadSnapshotHeader(storage, name);
  if (!header.ok()) {
    why = header.error();
    return false;
  }
  return LoadSnapshot(storage, name, header.value(), read_body, why);
}

// Reads the whole body back through LoadSnapshot.
std::vector<uint8_t> Load(storage::Storage& storage, const std::string& name, size_t bytes,
                          std::string& why) {
  std::vector<uint8_t> out(bytes);
  const bool ok = LoadBody(
      storage, name,
      [&](ledger::StateSource& source) {
        // Small reads first, then one large read (the source's direct path for big arrays).
        const size_t small = std::min<size_t>(out.size(), 1000);
        for (size_t i = 0; i < small; i += 10) {
          if (!source.Read(std::span(out).subspan(i, std::min<size_t>(10, small - i)))) {
            return false;
          }
        }
        return source.Read(std::span(out).subspan(small));
      },
      why);
  if (!ok) out.clear();
  return out;
}

void ExpectRoundTrip(storage::Storage& storage, size_t body_bytes) {
  const std::vector<uint8_t> body = Body(body_bytes, body_bytes);
  auto written = Write(storage, 42, body);
  ASSERT_TRUE(written.ok()) << written.error().Message();
  EXPECT_EQ(written.value(), kSnapshotHeaderBytes + body.size());
  const std::string name = SnapshotFileName(42);
  auto header = CheckSnapshot(storage, name);
  ASSERT_TRUE(header.ok()) << header.error();
  EXPECT_EQ(header.value().fingerprint, MakeHeader(42).fingerprint);
  EXPECT_EQ(header.value().sequence, 42u);
  EXPECT_EQ(header.value().head_hash, MakeHeader(42).head_hash);
  EXPECT_EQ(header.value().body_bytes, body.size());
  std::string why;
  EXPECT_EQ(Load(storage, name, body.size(), why), body) << why;
  auto names = storage.List();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(std::count(names.value().begin(), names.value().end(), name + ".tmp"), 0);
}

class SnapshotFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto storage = storage::PosixStorage::Open(dir_.path(), false);
    ASSERT_TRUE(storage.ok());
    storage_ = std::move(storage.value());
  }

  // Overwrites one byte of `name`.
  void Poke(const std::string& name, uint64_t offset, uint8_t value) {
    auto file = storage_->Open(name, storage::OpenMode::read_write);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file.value()->Write(offset, std::span<const uint8_t>(&value, 1)).ok());
  }
  std::vector<uint8_t> ReadAll(const std::string& name) {
    auto bytes = storage_->ReadFile(name, uint64_t{1} << 30);
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? bytes.value() : std::vector<uint8_t>{};
  }
  // Makes `name` hold exactly `bytes` (no fsync: these tests never crash).
  void Replace(const std::string& name, const std::vector<uint8_t>& bytes) {
    auto file = storage_->Open(name, storage::OpenMode::create_or_open);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file.value()->Truncate(0).ok());
    ASSERT_TRUE(file.value()->Write(0, bytes).ok());
  }

  storage::TempDir dir_;
  std::unique_ptr<storage::PosixStorage> storage_;
};

TEST_F(SnapshotFileTest, RoundTripOnARealDirectory) {
  ExpectRoundTrip(*storage_, 0);
  ExpectRoundTrip(*storage_, 3000);
  // Larger than the 4 MiB write/read buffers: several flushes and the direct read path.
  ExpectRoundTrip(*storage_, (size_t{9} << 20) + 17);
}

TEST(SnapshotSimulatedTest, RoundTripOnSimulatedStorage) {
  SeededRandom random(1);
  storage::SimulatedStorage storage(random);
  ExpectRoundTrip(storage, 0);
  ExpectRoundTrip(storage, 5000);
  ExpectRoundTrip(storage, (size_t{5} << 20) + 3);
  // And it is durable: a power cut right after keeps it whole.
  storage.Crash(random);
  auto header = CheckSnapshot(storage, SnapshotFileName(42));
  ASSERT_TRUE(header.ok()) << header.error();
  EXPECT_EQ(header.value().body_bytes, (size_t{5} << 20) + 3);
}

TEST_F(SnapshotFileTest, AFlippedByteAnywhereInTheHeaderOrBodyIsRejected) {
  const std::vector<uint8_t> body = Body(7, 300);
  ASSERT_TRUE(Write(*storage_, 9, body).ok());
  const std::string name = SnapshotFileName(9);
  const std::vector<uint8_t> good = ReadAll(name);
  ASSERT_EQ(good.size(), kSnapshotHeaderBytes + body.size());
  for (size_t offset = 0; offset < good.size(); ++offset) {
    for (const uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
      Poke(name, offset, static_cast<uint8_t>(good[offset] ^ mask));
      auto header = CheckSnapshot(*storage_, name);
      EXPECT_FALSE(header.ok()) << "byte " << offset << " mask " << int{mask};
      Poke(name, offset, good[offset]);
    }
  }
  EXPECT_TRUE(CheckSnapshot(*storage_, name).ok());
}

TEST_F(SnapshotFileTest, ATruncatedOrExtendedFileIsRejected) {
  const std::vector<uint8_t> body = Body(8, 200);
  ASSERT_TRUE(Write(*storage_, 9, body).ok());
  const std::string name = SnapshotFileName(9);
  const std::vector<uint8_t> good = ReadAll(name);
  for (size_t length = 0; length < good.size(); ++length) {
    Replace(name,
            std::vector<uint8_t>(good.begin(), good.begin() + static_cast<ptrdiff_t>(length)));
    auto header = CheckSnapshot(*storage_, name);
    ASSERT_FALSE(header.ok()) << "cut to " << length;
    std::string why;
    EXPECT_TRUE(Load(*storage_, name, body.size(), why).empty()) << "cut to " << length;
  }
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  Replace(name, longer);
  auto header = CheckSnapshot(*storage_, name);
  ASSERT_FALSE(header.ok());
  EXPECT_NE(header.error().find("header says"), std::string::npos) << header.error();
}

TEST_F(SnapshotFileTest, AnotherVersionOrMagicIsRejectedWithItsReason) {
  ASSERT_TRUE(Write(*storage_, 9, Body(9, 10)).ok());
  const std::string name = SnapshotFileName(9);
  const std::vector<uint8_t> good = ReadAll(name);
  std::vector<uint8_t> bytes = good;
  bytes[4] = 2;  // version 2
  Replace(name, bytes);
  auto header = CheckSnapshot(*storage_, name);
  ASSERT_FALSE(header.ok());
  EXPECT_NE(header.error().find("version 2"), std::string::npos) << header.error();
  bytes = good;
  bytes[0] = 'X';
  Replace(name, bytes);
  header = CheckSnapshot(*storage_, name);
  ASSERT_FALSE(header.ok());
  EXPECT_NE(header.error().find("magic"), std::string::npos) << header.error();
}

// Found by fuzz/snapshot_fuzz.cc: the reserved bytes were ignored, so a header with non-zero
// reserved bytes and a matching checksum was accepted (and did not round-trip).
TEST_F(SnapshotFileTest, NonZeroReservedHeaderBytesAreRejectedEvenWithAGoodChecksum) {
  ASSERT_TRUE(Write(*storage_, 9, Body(11, 10)).ok());
  const std::string name = SnapshotFileName(9);
  const std::vector<uint8_t> good = ReadAll(name);
  for (const size_t offset : {size_t{6}, size_t{7}, size_t{68}, size_t{80}, size_t{91}}) {
    std::vector<uint8_t> bytes = good;
    bytes[offset] = 1;
    const uint32_t crc = journal::Crc32c(std::span(bytes).first(92));
    for (size_t i = 0; i < 4; ++i) bytes[92 + i] = static_cast<uint8_t>(crc >> (8 * i));
    Replace(name, bytes);
    auto header = CheckSnapshot(*storage_, name);
    ASSERT_FALSE(header.ok()) << offset;
    EXPECT_NE(header.error().find("reserved"), std::string::npos) << header.error();
  }
  Replace(name, good);
  EXPECT_TRUE(CheckSnapshot(*storage_, name).ok());
}

TEST_F(SnapshotFileTest, LoadRejectsABodyTheReaderDoesNotConsumeOrFindsShort) {
  ASSERT_TRUE(Write(*storage_, 9, Body(10, 64)).ok());
  const std::string name = SnapshotFileName(9);
  std::string why;
  EXPECT_FALSE(LoadBody(
      *storage_, name,
      [](ledger::StateSource& source) {
        uint64_t v = 0;
        return source.U64(v);  // reads 8 of 64 bytes
      },
      why));
  EXPECT_NE(why.find("56 unexpected bytes"), std::string::npos) << why;
  why.clear();
  EXPECT_FALSE(LoadBody(
      *storage_, name,
      [](ledger::StateSource& source) {
        std::vector<uint8_t> more(65);
        return source.Read(more);  // one byte more than the body holds
      },
      why));
  EXPECT_NE(why.find("short"), std::string::npos) << why;
}

TEST_F(SnapshotFileTest, FileNamesParseOnlyInTheirCanonicalForm) {
  EXPECT_EQ(SnapshotFileName(7), "snapshot-00000000000000000007.tps");
  EXPECT_EQ(ParseSnapshotFileName(SnapshotFileName(7)), 7u);
  EXPECT_EQ(ParseSnapshotFileName(SnapshotFileName(UINT64_MAX)), UINT64_MAX);
  for (const char* bad :
       {"snapshot-7.tps", "snapshot-00000000000000000007.tps.tmp",
        "snapshot-0000000000000000000x.tps", "snapshot-99999999999999999999.tps" /* > 2^64 */,
        "segment-00000000000000000007.tpj", "snapshot-00000000000000000007.tpx", ""}) {
    EXPECT_FALSE(ParseSnapshotFileName(bad).has_value()) << bad;
  }
}

TEST_F(SnapshotFileTest, ListingIsNewestFirstAndIgnoresOtherFiles) {
  for (const uint64_t sequence : {5u, 100u, 20u})
    ASSERT_TRUE(Write(*storage_, sequence, Body(1, 10)).ok());
  Replace("snapshot-00000000000000000999.tps.tmp", Body(2, 10));
  Replace("notes.txt", Body(3, 10));
  auto names = ListSnapshots(*storage_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names.value(), (std::vector<std::string>{SnapshotFileName(100), SnapshotFileName(20),
                                                     SnapshotFileName(5)}));
}

TEST_F(SnapshotFileTest, ALeftoverTempFileIsReplacedByTheNextWriteOfThatSequence) {
  const std::string temp = SnapshotFileName(9) + ".tmp";
  Replace(temp, Body(4, 5000));  // a crash mid-snapshot left this
  const std::vector<uint8_t> body = Body(5, 100);
  ASSERT_TRUE(Write(*storage_, 9, body).ok());
  auto header = CheckSnapshot(*storage_, SnapshotFileName(9));
  ASSERT_TRUE(header.ok()) << header.error();
  EXPECT_EQ(header.value().body_bytes, body.size());
  auto names = storage_->List();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(std::count(names.value().begin(), names.value().end(), temp), 0);
}

TEST_F(SnapshotFileTest, PruningKeepsTheNewestAndDeletesStaleTempFiles) {
  for (uint64_t sequence = 1; sequence <= 5; ++sequence) {
    ASSERT_TRUE(Write(*storage_, sequence * 10, Body(sequence, 50)).ok());
  }
  // A crash in the middle of an older snapshot left its temp file: nothing else removes it,
  // and a partial state file can be as large as the whole state.
  const std::string stale = SnapshotFileName(35) + ".tmp";
  Replace(stale, Body(6, 1000));
  Replace("notes.txt", Body(7, 10));
  PruneSnapshots(*storage_, 2);
  auto names = storage_->List();
  ASSERT_TRUE(names.ok());
  std::vector<std::string> expected = {"notes.txt", SnapshotFileName(40), SnapshotFileName(50)};
  std::vector<std::string> actual;
  for (const std::string& name : names.value()) {
    if (name != storage::kLockFileName) actual.push_back(name);
  }
  EXPECT_EQ(actual, expected);
  PruneSnapshots(*storage_, 1);
  auto left = ListSnapshots(*storage_);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left.value(), std::vector<std::string>{SnapshotFileName(50)});
}

// A crash at every step of writing snapshot 20 (each mutating storage call in turn fails, then
// the power goes): snapshot 10 stays valid, and 20 is either absent, rejected by CheckSnapshot,
// or whole. Recovery's choice (the newest snapshot that passes CheckSnapshot) is never a torn
// one.
TEST(SnapshotSimulatedTest, ACrashAtAnyStepOfWritingLeavesThePreviousSnapshotUsable) {
  const std::vector<uint8_t> old_body = Body(11, 700);
  const std::vector<uint8_t> new_body = Body(12, 1500);
  uint64_t steps = 0;
  {  // Count the mutating calls one write takes.
    SeededRandom random(0);
    storage::SimulatedStorage storage(random);
    FailAfterStorage counting(storage, UINT64_MAX);
    ASSERT_TRUE(Write(counting, 20, new_body).ok());
    steps = counting.used();
  }
  ASSERT_GT(steps, 4u);
  for (uint64_t budget = 0; budget <= steps; ++budget) {
    for (uint64_t seed = 0; seed < 8; ++seed) {
      SCOPED_TRACE("budget " + std::to_string(budget) + " seed " + std::to_string(seed));
      SeededRandom random(seed);
      storage::SimulatedStorage storage(random);
      ASSERT_TRUE(Write(storage, 10, old_body).ok());
      FailAfterStorage failing(storage, budget);
      auto written = Write(failing, 20, new_body);
      EXPECT_EQ(written.ok(), budget >= steps);
      storage.Crash(random);

      auto names = ListSnapshots(storage);
      ASSERT_TRUE(names.ok());
      std::string chosen;
      for (const std::string& name : names.value()) {
        if (CheckSnapshot(storage, name).ok()) {
          chosen = name;
          break;
        }
      }
      ASSERT_FALSE(chosen.empty());
      std::string why;
      if (chosen == SnapshotFileName(20)) {
        EXPECT_EQ(Load(storage, chosen, new_body.size(), why), new_body) << why;
      } else {
        ASSERT_EQ(chosen, SnapshotFileName(10));
        EXPECT_EQ(Load(storage, chosen, old_body.size(), why), old_body) << why;
      }
      if (written.ok()) {
        EXPECT_EQ(chosen, SnapshotFileName(20));  // acknowledged: durable
      }
      ASSERT_TRUE(CheckSnapshot(storage, SnapshotFileName(10)).ok());
    }
  }
}

}  // namespace
}  // namespace tpw::engine
