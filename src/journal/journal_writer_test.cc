// JournalWriter, JournalReader and VerifyJournal on real files (PosixStorage in a temp dir).
#include <sys/wait.h>
#include <unistd.h>

#include "journal/format.h"
#include "journal/test_util.h"

namespace tpw::journal {
namespace {

using testing::AppendGroup;
using testing::Contains;
using testing::Fact;
using testing::MakePayloads;
using testing::MustOpenWriter;
using testing::OpenPosix;
using testing::ReadAllFacts;
using testing::SegmentNames;

class JournalWriterTest : public ::testing::Test {
 protected:
  storage::TempDir dir_;
  std::unique_ptr<storage::PosixStorage> storage_ = OpenPosix(dir_.path());
};

TEST_F(JournalWriterTest, NewJournalIsEmptyWithOneSegment) {
  auto writer = MustOpenWriter(*storage_);
  EXPECT_EQ(writer->stats().segments, 1u);
  EXPECT_EQ(writer->stats().records, 0u);
  EXPECT_EQ(writer->stats().first_sequence, SequenceNo{1});
  EXPECT_EQ(writer->stats().last_sequence, SequenceNo{0});
  EXPECT_EQ(writer->stats().head_hash, crypto::Hash256{});
  EXPECT_EQ(SegmentNames(*storage_), std::vector<std::string>{"segment-00000000000000000001.tpj"});
  auto facts = ReadAllFacts(*storage_);
  ASSERT_TRUE(facts.ok());
  EXPECT_TRUE(facts.value().empty());
}

TEST_F(JournalWriterTest, RoundTripReturnsEveryRecordWithItsSequenceAndType) {
  std::vector<Fact> written;
  {
    auto writer = MustOpenWriter(*storage_);
    for (uint64_t g = 0; g < 5; ++g) {
      auto facts = AppendGroup(*writer, MakePayloads(g, 10 + g, 128));
      written.insert(written.end(), facts.begin(), facts.end());
      ASSERT_TRUE(writer->Sync().ok());
    }
    EXPECT_EQ(writer->durable_sequence(), SequenceNo{written.size()});
  }
  auto facts = ReadAllFacts(*storage_);
  ASSERT_TRUE(facts.ok()) << facts.error().Message();
  EXPECT_EQ(facts.value(), written);
  EXPECT_EQ(written.front().sequence, 1u);
  EXPECT_EQ(written.back().sequence, written.size());
}

TEST_F(JournalWriterTest, ReopenRecoversHeadAndContinuesSequenceAndChain) {
  crypto::Hash256 head{};
  {
    auto writer = MustOpenWriter(*storage_);
    AppendGroup(*writer, MakePayloads(1, 3, 40));
    AppendGroup(*writer, MakePayloads(2, 4, 0));  // empty records are allowed
    ASSERT_TRUE(writer->Sync().ok());
    head = writer->stats().head_hash;
  }
  auto writer = MustOpenWriter(*storage_);
  EXPECT_EQ(writer->stats().last_sequence, SequenceNo{7});
  EXPECT_EQ(writer->stats().head_hash, head);
  EXPECT_EQ(writer->stats().groups, 2u);
  EXPECT_EQ(writer->stats().records, 7u);
  EXPECT_EQ(writer->stats().record_bytes, 120u);
  EXPECT_EQ(writer->stats().torn_tail_bytes, 0u);
  auto facts = AppendGroup(*writer, MakePayloads(3, 2, 8));
  ASSERT_EQ(facts.size(), 2u);
  EXPECT_EQ(facts[0].sequence, 8u);
  ASSERT_TRUE(writer->Sync().ok());
  auto report = VerifyJournal(*storage_);
  ASSERT_TRUE(report.ok()) << report.error().Message();
  EXPECT_EQ(report.value().stats.records, 9u);
  EXPECT_EQ(report.value().stats.head_hash, writer->stats().head_hash);
}

TEST_F(JournalWriterTest, ManyGroupsRollOverSegmentsNamedByFirstSequence) {
  JournalOptions options;
  options.segment_bytes_max = 8192;
  std::vector<Fact> written;
  crypto::Hash256 head{};
  {
    auto writer = MustOpenWriter(*storage_, options);
    for (uint64_t g = 0; g < 120; ++g) {
      auto facts = AppendGroup(*writer, MakePayloads(g, 1 + g % 7, 100 + g));
      written.insert(written.end(), facts.begin(), facts.end());
      if (g % 3 == 0) {
        ASSERT_TRUE(writer->Sync().ok());
      }
    }
    ASSERT_TRUE(writer->Sync().ok());
    head = writer->stats().head_hash;
  }
  const std::vector<std::string> names = SegmentNames(*storage_);
  EXPECT_GT(names.size(), 10u);
  EXPECT_EQ(names.front(), "segment-00000000000000000001.tpj");
  auto writer = MustOpenWriter(*storage_, options);
  EXPECT_EQ(writer->stats().segments, names.size());
  EXPECT_EQ(writer->stats().head_hash, head);
  for (const std::string& name : names) {  // every segment within its size but for one group
    auto size = storage_->ReadFile(name, 1 << 20);
    ASSERT_TRUE(size.ok());
    EXPECT_LE(size.value().size(), options.segment_bytes_max);
  }
  auto facts = ReadAllFacts(*storage_);
  ASSERT_TRUE(facts.ok()) << facts.error().Message();
  EXPECT_EQ(facts.value(), written);
  auto report = VerifyJournal(*storage_);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.value().stats.segments, names.size());
  EXPECT_EQ(report.value().stats.groups, 120u);
  EXPECT_EQ(report.value().head_hash_hex, crypto::HashToHex(head));
}

TEST_F(JournalWriterTest, AGroupLargerThanTheSegmentSizeGetsASegmentOfItsOwn) {
  JournalOptions options;
  options.segment_bytes_max = kSegmentBytesMin;
  auto writer = MustOpenWriter(*storage_, options);
  AppendGroup(*writer, MakePayloads(1, 2, 100));
  AppendGroup(*writer, MakePayloads(2, 3, 3000));  // 9 KB: more than a whole segment
  AppendGroup(*writer, MakePayloads(3, 1, 10));
  ASSERT_TRUE(writer->Sync().ok());
  EXPECT_EQ(SegmentNames(*storage_),
            (std::vector<std::string>{"segment-00000000000000000001.tpj",
                                      "segment-00000000000000000003.tpj",
                                      "segment-00000000000000000006.tpj"}));
  auto facts = ReadAllFacts(*storage_);
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(facts.value().size(), 6u);
}

TEST_F(JournalWriterTest, ReadByLocationReturnsEachRecordAcrossSegmentsAndReopens) {
  JournalOptions options;
  options.segment_bytes_max = 4096;
  std::vector<Fact> written;
  std::vector<RecordLocation> locations;
  {
    auto writer = MustOpenWriter(*storage_, options);
    for (uint64_t g = 0; g < 40; ++g) {
      std::vector<RecordLocation> group_locations;
      auto facts = AppendGroup(*writer, MakePayloads(g, 5, 50 + g), &group_locations);
      written.insert(written.end(), facts.begin(), facts.end());
      locations.insert(locations.end(), group_locations.begin(), group_locations.end());
    }
    std::vector<uint8_t> scratch;  // unsynced records read back too
    for (size_t i = 0; i < written.size(); ++i) {
      auto view = writer->Read(locations[i], scratch);
      ASSERT_TRUE(view.ok()) << view.error().Message();
      EXPECT_EQ(view.value().sequence.value, written[i].sequence);
      EXPECT_EQ(view.value().type, written[i].type);
      EXPECT_TRUE(std::ranges::equal(view.value().bytes, written[i].bytes));
    }
    ASSERT_TRUE(writer->Sync().ok());
  }
  auto writer = MustOpenWriter(*storage_, options);
  EXPECT_GT(writer->stats().segments, 5u);
  std::vector<uint8_t> scratch;
  for (size_t i = 0; i < written.size(); ++i) {
    auto view = writer->Read(locations[i], scratch);
    ASSERT_TRUE(view.ok()) << view.error().Message();
    EXPECT_EQ(view.value().sequence.value, written[i].sequence);
    EXPECT_TRUE(std::ranges::equal(view.value().bytes, written[i].bytes));
  }
  // The reader reports the same locations the writer handed out.
  auto reader = JournalReader::Open(*storage_, SequenceNo{1});
  ASSERT_TRUE(reader.ok());
  for (size_t i = 0; i < written.size(); ++i) {
    auto next = reader.value()->Next();
    ASSERT_TRUE(next.ok() && next.value().has_value());
    EXPECT_EQ(next.value()->location, locations[i]);
  }
}

TEST_F(JournalWriterTest, ReadOfABadLocationIsInvalidLocation) {
  auto writer = MustOpenWriter(*storage_);
  std::vector<RecordLocation> locations;
  AppendGroup(*writer, MakePayloads(1, 3, 20), &locations);
  std::vector<uint8_t> scratch;
  const RecordLocation bad[] = {
      RecordLocation::Make(5, locations[0].offset()),         // no such segment
      RecordLocation::Make(0, 10),                            // inside the segment header
      RecordLocation::Make(0, locations[0].offset() + 1),     // not at a record header
      RecordLocation::Make(0, locations[2].offset() + 1000),  // past the end
  };
  for (const RecordLocation& location : bad) {
    auto view = writer->Read(location, scratch);
    ASSERT_FALSE(view.ok()) << location.packed;
    EXPECT_EQ(view.error().code, JournalError::invalid_location) << view.error().Message();
  }
  EXPECT_FALSE(writer->poisoned());
}

TEST_F(JournalWriterTest, ReaderStartsAtTheRequestedSequence) {
  JournalOptions options;
  options.segment_bytes_max = 4096;
  std::vector<Fact> written;
  {
    auto writer = MustOpenWriter(*storage_, options);
    for (uint64_t g = 0; g < 30; ++g) {
      auto facts = AppendGroup(*writer, MakePayloads(g, 4, 100));
      written.insert(written.end(), facts.begin(), facts.end());
    }
    ASSERT_TRUE(writer->Sync().ok());
  }
  for (uint64_t from : {1u, 2u, 57u, 100u, 119u, 120u}) {
    auto facts = ReadAllFacts(*storage_, SequenceNo{from});
    ASSERT_TRUE(facts.ok()) << facts.error().Message();
    EXPECT_EQ(facts.value(),
              std::vector<Fact>(written.begin() + static_cast<ptrdiff_t>(from - 1), written.end()))
        << "from " << from;
  }
  auto past = ReadAllFacts(*storage_, SequenceNo{500});
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past.value().empty());
}

TEST_F(JournalWriterTest, FirstSequenceOptionStartsANewJournalThere) {
  JournalOptions options;
  options.first_sequence = SequenceNo{1000};
  {
    auto writer = MustOpenWriter(*storage_, options);
    auto facts = AppendGroup(*writer, MakePayloads(1, 2, 10));
    ASSERT_EQ(facts.size(), 2u);
    EXPECT_EQ(facts[0].sequence, 1000u);
    ASSERT_TRUE(writer->Sync().ok());
  }
  EXPECT_EQ(SegmentNames(*storage_), std::vector<std::string>{"segment-00000000000000001000.tpj"});
  auto older = JournalReader::Open(*storage_, SequenceNo{999});
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.error().code, JournalError::sequence_not_in_journal);
  auto facts = ReadAllFacts(*storage_, SequenceNo{1000});
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(facts.value().size(), 2u);
}

TEST_F(JournalWriterTest, InvalidGroupsAreRejectedAndTheWriterStaysUsable) {
  auto writer = MustOpenWriter(*storage_);
  std::vector<RecordLocation> none;
  auto empty = writer->AppendGroup({}, none);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, JournalError::group_invalid);
  std::vector<uint8_t> huge(kRecordBytesMax + 1);
  RecordInput big{1, huge};
  std::vector<RecordLocation> one(1);
  auto too_big = writer->AppendGroup(std::span<const RecordInput>(&big, 1), one);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, JournalError::group_invalid);
  std::vector<RecordInput> many(kGroupRecordsMax + 1, RecordInput{1, {}});
  std::vector<RecordLocation> many_locations(many.size());
  auto too_many = writer->AppendGroup(many, many_locations);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, JournalError::group_invalid);
  std::vector<uint8_t> record(kRecordBytesMax);
  std::vector<RecordInput> heavy(kGroupPayloadBytesMax / kRecordBytesMax, RecordInput{1, record});
  std::vector<RecordLocation> heavy_locations(heavy.size());
  auto too_heavy = writer->AppendGroup(heavy, heavy_locations);
  ASSERT_FALSE(too_heavy.ok());
  EXPECT_EQ(too_heavy.error().code, JournalError::group_invalid);
  EXPECT_FALSE(writer->poisoned());
  EXPECT_EQ(AppendGroup(*writer, MakePayloads(1, 1, 1)).size(), 1u);
  EXPECT_TRUE(writer->Sync().ok());
}

TEST_F(JournalWriterTest, InvalidOptionsAreRejected) {
  JournalOptions small;
  small.segment_bytes_max = kSegmentBytesMin - 1;
  EXPECT_EQ(JournalWriter::Open(*storage_, small).error().code, JournalError::invalid_options);
  JournalOptions large;
  large.segment_bytes_max = kSegmentBytesLimit + 1;
  EXPECT_EQ(JournalWriter::Open(*storage_, large).error().code, JournalError::invalid_options);
  JournalOptions zero;
  zero.first_sequence = SequenceNo{0};
  EXPECT_EQ(JournalWriter::Open(*storage_, zero).error().code, JournalError::invalid_options);
}

TEST_F(JournalWriterTest, VerifyAndReaderOnAnEmptyDirectoryReportNoJournal) {
  auto report = VerifyJournal(*storage_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, JournalError::no_journal);
  EXPECT_TRUE(Contains(report.error().Message(), dir_.path())) << report.error().Message();
  auto reader = JournalReader::Open(*storage_, SequenceNo{1});
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code, JournalError::no_journal);
}

TEST_F(JournalWriterTest, VerifyReportsTheWritersHeadHashAndCounts) {
  auto writer = MustOpenWriter(*storage_);
  for (uint64_t g = 0; g < 4; ++g) AppendGroup(*writer, MakePayloads(g, 8, 128));
  ASSERT_TRUE(writer->Sync().ok());
  auto report = VerifyJournal(*storage_);  // beside a live writer: no lock needed
  ASSERT_TRUE(report.ok()) << report.error().Message();
  const JournalStats& stats = report.value().stats;
  EXPECT_EQ(stats.segments, 1u);
  EXPECT_EQ(stats.groups, 4u);
  EXPECT_EQ(stats.records, 32u);
  EXPECT_EQ(stats.record_bytes, 32u * 128);
  EXPECT_EQ(stats.bytes, format::kSegmentHeaderBytes + 4 * format::kGroupHeaderBytes +
                             32 * (format::kRecordHeaderBytes + 128));
  EXPECT_EQ(stats.last_sequence, SequenceNo{32});
  EXPECT_EQ(stats.head_hash, writer->stats().head_hash);
  EXPECT_EQ(report.value().head_hash_hex, crypto::HashToHex(writer->stats().head_hash));
  EXPECT_EQ(stats.torn_tail_bytes, 0u);
}

TEST_F(JournalWriterTest, SecondWriterInTheSameProcessIsLockedOut) {
  auto writer = MustOpenWriter(*storage_);
  auto other_storage = OpenPosix(dir_.path());
  auto second = JournalWriter::Open(*other_storage, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, JournalError::locked);
  EXPECT_TRUE(Contains(second.error().Message(), dir_.path() + "/LOCK"))
      << second.error().Message();
  writer.reset();
  EXPECT_TRUE(JournalWriter::Open(*other_storage, {}).ok());
}

TEST_F(JournalWriterTest, WriterInAForkedChildIsLockedOut) {
  auto writer = MustOpenWriter(*storage_);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto storage = storage::PosixStorage::Open(dir_.path(), false);
    if (!storage.ok()) ::_exit(2);
    auto second = JournalWriter::Open(*storage.value(), {});
    if (second.ok()) ::_exit(3);
    if (second.error().code != JournalError::locked) ::_exit(4);
    if (!Contains(second.error().Message(), dir_.path() + "/LOCK")) ::_exit(5);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: storage, 3: opened, 4: wrong code, 5: message";
}

TEST_F(JournalWriterTest, UnlockedWriterLeavesTheLockToItsCaller) {
  auto lock = storage_->LockDirectory();
  ASSERT_TRUE(lock.ok());
  JournalOptions options;
  options.lock_directory = false;
  auto writer = JournalWriter::Open(*storage_, options);
  ASSERT_TRUE(writer.ok()) << writer.error().Message();
}

}  // namespace
}  // namespace tpw::journal
