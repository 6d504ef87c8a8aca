// Recovery and verification against damaged journals on real files: truncations, byte flips,
// spliced groups and segments, newer versions and hostile files.
#include <algorithm>

#include "journal/crc32c.h"
#include "journal/format.h"
#include "journal/test_util.h"

namespace tpw::journal {
namespace {

using format::kGroupHeaderBytes;
using format::kRecordHeaderBytes;
using format::kSegmentHeaderBytes;
using testing::AppendGroup;
using testing::Contains;
using testing::Fact;
using testing::MakePayloads;
using testing::MustOpenWriter;
using testing::OpenPosix;
using testing::ReadAllFacts;
using testing::ReadFileBytes;
using testing::SegmentNames;
using testing::WriteFileBytes;

constexpr size_t kRecordsPerGroup = 3;
constexpr size_t kRecordBytes = 20;
constexpr size_t kGroupBytes =
    kGroupHeaderBytes + kRecordsPerGroup * (kRecordHeaderBytes + kRecordBytes);
const std::string kFirstSegment = "segment-00000000000000000001.tpj";

// Most tests damage a journal whose last file ends at its last group, as a writer without
// preallocation leaves it; the zero tail a preallocating writer leaves has its own tests.
JournalOptions NoPreallocation() {
  JournalOptions options;
  options.preallocate_bytes = 0;
  return options;
}

// Byte offset of group `g` (0-based) in a segment of equal-sized groups.
constexpr uint64_t GroupOffset(size_t g) { return kSegmentHeaderBytes + g * kGroupBytes; }

class JournalRecoveryTest : public ::testing::Test {
 protected:
  // Writes `groups` synced groups of kRecordsPerGroup records; returns the facts.
  std::vector<Fact> WriteJournal(storage::Storage& storage, size_t groups, uint64_t seed = 0,
                                 JournalOptions options = NoPreallocation()) {
    auto writer = MustOpenWriter(storage, options);
    std::vector<Fact> written;
    for (size_t g = 0; g < groups; ++g) {
      auto facts =
          AppendGroup(*writer, MakePayloads(seed * 1000 + g, kRecordsPerGroup, kRecordBytes));
      written.insert(written.end(), facts.begin(), facts.end());
      EXPECT_TRUE(writer->Sync().ok());
    }
    return written;
  }

  // Opens a writer that must fail; returns its error (and checks Verify fails the same way).
  JournalFailure OpenFailure(storage::Storage& storage) {
    auto writer = JournalWriter::Open(storage, {});
    TPW_ASSERT(!writer.ok());
    auto report = VerifyJournal(storage);
    EXPECT_FALSE(report.ok());
    if (!report.ok()) {
      EXPECT_EQ(report.error().code, writer.error().code);
    }
    return writer.error();
  }

  std::string PathOf(const std::string& name) const { return dir_.path() + "/" + name; }

  storage::TempDir dir_;
  std::unique_ptr<storage::PosixStorage> storage_ = OpenPosix(dir_.path());
};

TEST_F(JournalRecoveryTest, TruncatingTheLastGroupAtEveryByteDropsOnlyThatGroup) {
  const std::vector<Fact> written = WriteJournal(*storage_, 3);
  const std::vector<uint8_t> full = ReadFileBytes(*storage_, kFirstSegment);
  ASSERT_EQ(full.size(), GroupOffset(3));
  const std::vector<Fact> kept(written.begin(), written.begin() + 2 * kRecordsPerGroup);
  for (uint64_t cut = GroupOffset(2); cut < GroupOffset(3); ++cut) {
    WriteFileBytes(*storage_, kFirstSegment, std::span<const uint8_t>(full.data(), cut));
    auto report = VerifyJournal(*storage_);  // read-only: reports the tail, leaves it
    ASSERT_TRUE(report.ok()) << "cut " << cut << ": " << report.error().Message();
    EXPECT_EQ(report.value().stats.torn_tail_bytes, cut - GroupOffset(2));
    if (cut > GroupOffset(2)) {
      EXPECT_EQ(report.value().torn_tail_offset, GroupOffset(2));
    }
    auto writer = MustOpenWriter(*storage_);
    EXPECT_EQ(writer->stats().torn_tail_bytes, cut - GroupOffset(2)) << "cut " << cut;
    EXPECT_EQ(writer->stats().last_sequence, SequenceNo{6}) << "cut " << cut;
    EXPECT_EQ(ReadFileBytes(*storage_, kFirstSegment).size(), GroupOffset(2));
    auto facts = ReadAllFacts(*storage_);
    ASSERT_TRUE(facts.ok()) << facts.error().Message();
    EXPECT_EQ(facts.value(), kept) << "cut " << cut;
    // The journal goes on cleanly after the cut.
    EXPECT_EQ(AppendGroup(*writer, MakePayloads(99, 1, 5)).at(0).sequence, 7u);
    ASSERT_TRUE(writer->Sync().ok());
    writer.reset();
    auto after = VerifyJournal(*storage_);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after.value().stats.records, 7u);
    EXPECT_EQ(after.value().stats.torn_tail_bytes, 0u);
  }
}

TEST_F(JournalRecoveryTest, DamageInTheLastGroupIsDroppedAsATornTail) {
  WriteJournal(*storage_, 3);
  const std::vector<uint8_t> full = ReadFileBytes(*storage_, kFirstSegment);
  for (uint64_t at = GroupOffset(2); at < GroupOffset(3); ++at) {
    std::vector<uint8_t> damaged = full;
    damaged[at] ^= 0x20;
    WriteFileBytes(*storage_, kFirstSegment, damaged);
    auto writer = MustOpenWriter(*storage_);
    EXPECT_EQ(writer->stats().torn_tail_bytes, kGroupBytes) << "byte " << at;
    EXPECT_EQ(writer->stats().last_sequence, SequenceNo{6}) << "byte " << at;
  }
}

TEST_F(JournalRecoveryTest, GarbageAfterTheLastGroupIsDroppedAsATornTail) {
  const std::vector<Fact> written = WriteJournal(*storage_, 2);
  std::vector<uint8_t> bytes = ReadFileBytes(*storage_, kFirstSegment);
  std::vector<uint8_t> garbage(1000);
  SeededRandom(7).Fill(garbage);
  bytes.insert(bytes.end(), garbage.begin(), garbage.end());
  WriteFileBytes(*storage_, kFirstSegment, bytes);
  auto writer = MustOpenWriter(*storage_);
  EXPECT_EQ(writer->stats().torn_tail_bytes, 1000u);
  auto facts = ReadAllFacts(*storage_);
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(facts.value(), written);
}

TEST_F(JournalRecoveryTest, FlippingAnyByteOfAMiddleGroupRefusesToOpenNamingFileOffsetSequence) {
  WriteJournal(*storage_, 3);
  const std::vector<uint8_t> full = ReadFileBytes(*storage_, kFirstSegment);
  for (uint64_t at = GroupOffset(1); at < GroupOffset(2); ++at) {
    std::vector<uint8_t> damaged = full;
    damaged[at] ^= 0x01;
    WriteFileBytes(*storage_, kFirstSegment, damaged);
    const JournalFailure failure = OpenFailure(*storage_);
    EXPECT_EQ(failure.code, JournalError::corrupt_group)
        << "byte " << at << ": " << failure.Message();
    EXPECT_EQ(failure.file, PathOf(kFirstSegment));
    EXPECT_EQ(failure.offset, GroupOffset(1)) << "byte " << at;
    EXPECT_EQ(failure.sequence, 4u) << "byte " << at;
    const std::string message = failure.Message();
    EXPECT_TRUE(Contains(message, PathOf(kFirstSegment))) << message;
    EXPECT_TRUE(Contains(message, "byte offset " + std::to_string(GroupOffset(1)))) << message;
    EXPECT_TRUE(Contains(message, "sequence 4")) << message;
    // Refusing means refusing: nothing was truncated or rewritten.
    EXPECT_EQ(ReadFileBytes(*storage_, kFirstSegment), damaged) << "byte " << at;
    auto facts = ReadAllFacts(*storage_);
    ASSERT_FALSE(facts.ok());
    EXPECT_EQ(facts.error().code, JournalError::corrupt_group);
  }
}

TEST_F(JournalRecoveryTest, DamageAtTheEndOfAnEarlierSegmentIsNeverATornTail) {
  JournalOptions options;
  options.segment_bytes_max = kSegmentBytesMin;
  WriteJournal(*storage_, 60, 0, options);
  const std::vector<std::string> names = SegmentNames(*storage_);
  ASSERT_GE(names.size(), 3u);
  std::vector<uint8_t> first = ReadFileBytes(*storage_, names[0]);
  first[first.size() - 1] ^= 0x01;  // the last byte of the first segment's last group
  WriteFileBytes(*storage_, names[0], first);
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::corrupt_group) << failure.Message();
  EXPECT_EQ(failure.file, PathOf(names[0]));
  EXPECT_TRUE(Contains(failure.Message(), "not the last segment")) << failure.Message();
}

TEST_F(JournalRecoveryTest, FlippingAnyByteOfASegmentHeaderRefusesToOpen) {
  JournalOptions options;
  options.segment_bytes_max = kSegmentBytesMin;
  WriteJournal(*storage_, 60, 0, options);
  const std::vector<std::string> names = SegmentNames(*storage_);
  ASSERT_GE(names.size(), 2u);
  for (const std::string& name : {names.front(), names.back()}) {
    const std::vector<uint8_t> original = ReadFileBytes(*storage_, name);
    for (size_t at = 0; at < kSegmentHeaderBytes; ++at) {
      std::vector<uint8_t> damaged = original;
      damaged[at] ^= 0x02;
      WriteFileBytes(*storage_, name, damaged);
      const JournalFailure failure = OpenFailure(*storage_);
      EXPECT_TRUE(failure.code == JournalError::corrupt_segment_header ||
                  failure.code == JournalError::format_version_unsupported)
          << name << " byte " << at << ": " << failure.Message();
      EXPECT_EQ(failure.file, PathOf(name)) << failure.Message();
      EXPECT_EQ(failure.offset, 0u);
    }
    WriteFileBytes(*storage_, name, original);
  }
  EXPECT_TRUE(JournalWriter::Open(*storage_, options).ok());
}

TEST_F(JournalRecoveryTest, GroupSplicedFromAnotherJournalBreaksTheChain) {
  storage::TempDir other_dir;
  auto other = OpenPosix(other_dir.path());
  WriteJournal(*storage_, 3, /*seed=*/1);
  WriteJournal(*other, 3, /*seed=*/2);  // same shape, different facts: valid checksums
  const std::vector<uint8_t> ours = ReadFileBytes(*storage_, kFirstSegment);
  const std::vector<uint8_t> theirs = ReadFileBytes(*other, kFirstSegment);
  for (size_t g : {1u, 2u}) {  // a middle group, then the last one: neither is a torn tail
    std::vector<uint8_t> spliced = ours;
    std::copy(theirs.begin() + static_cast<ptrdiff_t>(GroupOffset(g)),
              theirs.begin() + static_cast<ptrdiff_t>(GroupOffset(g + 1)),
              spliced.begin() + static_cast<ptrdiff_t>(GroupOffset(g)));
    WriteFileBytes(*storage_, kFirstSegment, spliced);
    const JournalFailure failure = OpenFailure(*storage_);
    EXPECT_EQ(failure.code, JournalError::chain_broken) << failure.Message();
    EXPECT_EQ(failure.offset, GroupOffset(g));
    EXPECT_EQ(failure.sequence, 1 + g * kRecordsPerGroup);
    EXPECT_EQ(ReadFileBytes(*storage_, kFirstSegment), spliced);
  }
}

TEST_F(JournalRecoveryTest, SegmentFromAnotherJournalBreaksTheChain) {
  storage::TempDir other_dir;
  auto other = OpenPosix(other_dir.path());
  JournalOptions options;
  options.segment_bytes_max = kSegmentBytesMin;
  WriteJournal(*storage_, 60, 1, options);
  WriteJournal(*other, 60, 2, options);
  const std::vector<std::string> names = SegmentNames(*storage_);
  ASSERT_EQ(names, SegmentNames(*other));
  WriteFileBytes(*storage_, names[1], ReadFileBytes(*other, names[1]));
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::chain_broken) << failure.Message();
  EXPECT_EQ(failure.file, PathOf(names[1]));
  EXPECT_EQ(failure.offset, 0u);
}

TEST_F(JournalRecoveryTest, MissingMiddleSegmentIsASegmentGap) {
  JournalOptions options;
  options.segment_bytes_max = kSegmentBytesMin;
  WriteJournal(*storage_, 60, 0, options);
  const std::vector<std::string> names = SegmentNames(*storage_);
  ASSERT_GE(names.size(), 3u);
  ASSERT_TRUE(storage_->Remove(names[1]).ok());
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::segment_gap) << failure.Message();
  EXPECT_EQ(failure.file, PathOf(names[2]));
}

TEST_F(JournalRecoveryTest, SegmentThatDoesNotContinueTheSequenceIsASequenceMismatch) {
  JournalOptions options;
  options.segment_bytes_max = kSegmentBytesMin;
  WriteJournal(*storage_, 60, 0, options);
  const std::vector<std::string> names = SegmentNames(*storage_);
  ASSERT_GE(names.size(), 3u);
  // Re-head segment 1 one sequence later (valid checksum, name to match): a gap of one record.
  std::vector<uint8_t> bytes = ReadFileBytes(*storage_, names[1]);
  const auto decoded = format::DecodeSegmentHeader(
      std::span<const uint8_t, kSegmentHeaderBytes>(bytes.data(), kSegmentHeaderBytes));
  format::SegmentHeader header = decoded.header;
  header.first_sequence += 1;
  format::EncodeSegmentHeader(
      header, std::span<uint8_t, kSegmentHeaderBytes>(bytes.data(), kSegmentHeaderBytes));
  ASSERT_TRUE(storage_->Remove(names[1]).ok());
  const std::string renamed = format::SegmentFileName(header.first_sequence);
  WriteFileBytes(*storage_, renamed, bytes);
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::sequence_mismatch) << failure.Message();
  EXPECT_EQ(failure.file, PathOf(renamed));
}

TEST_F(JournalRecoveryTest, RenamedSegmentDisagreesWithItsHeader) {
  WriteJournal(*storage_, 2);
  ASSERT_TRUE(storage_->Rename(kFirstSegment, format::SegmentFileName(5)).ok());
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::corrupt_segment_header) << failure.Message();
  EXPECT_TRUE(Contains(failure.Message(), "file name says first sequence 5")) << failure.Message();
}

// Builds segment bytes by hand, for layouts the writer never produces.
std::vector<uint8_t> SegmentHeaderBytes(uint16_t version, uint32_t index, uint64_t first,
                                        const crypto::Hash256& previous = {}) {
  format::SegmentHeader header;
  header.format_version = version;
  header.segment_index = index;
  header.first_sequence = first;
  header.previous_hash = previous;
  std::vector<uint8_t> bytes(kSegmentHeaderBytes);
  format::EncodeSegmentHeader(
      header, std::span<uint8_t, kSegmentHeaderBytes>(bytes.data(), kSegmentHeaderBytes));
  return bytes;
}

// A group with valid checksums whose header fields are whatever the test says.
std::vector<uint8_t> GroupBytes(format::GroupHeader header, const std::vector<uint8_t>& payload) {
  header.payload_crc = Crc32c(payload);
  std::vector<uint8_t> bytes(kGroupHeaderBytes);
  format::EncodeGroupHeader(header,
                            std::span<uint8_t, kGroupHeaderBytes>(bytes.data(), kGroupHeaderBytes));
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

std::vector<uint8_t> RecordsPayload(uint64_t first, size_t count, uint32_t length) {
  std::vector<uint8_t> payload;
  for (size_t i = 0; i < count; ++i) {
    uint8_t header[kRecordHeaderBytes];
    format::EncodeRecordHeader(format::RecordHeader{first + i, length, 1, 0}, header);
    payload.insert(payload.end(), header, header + kRecordHeaderBytes);
    payload.insert(payload.end(), length, 0x42);
  }
  return payload;
}

TEST_F(JournalRecoveryTest, NewerFormatVersionIsRefusedNamingTheVersion) {
  WriteFileBytes(*storage_, kFirstSegment, SegmentHeaderBytes(2, 0, 1));
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::format_version_unsupported);
  EXPECT_TRUE(Contains(failure.Message(), "format version 2")) << failure.Message();
  EXPECT_TRUE(Contains(failure.Message(), PathOf(kFirstSegment))) << failure.Message();
  auto reader = JournalReader::Open(*storage_, SequenceNo{1});
  ASSERT_TRUE(reader.ok());
  auto next = reader.value()->Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, JournalError::format_version_unsupported);
}

TEST_F(JournalRecoveryTest, GroupWithValidChecksumsButWrongSequenceIsASequenceMismatch) {
  std::vector<uint8_t> segment = SegmentHeaderBytes(1, 0, 1);
  format::GroupHeader header;
  header.first_sequence = 5;  // should be 1
  header.record_count = 2;
  const std::vector<uint8_t> payload = RecordsPayload(5, 2, 10);
  header.payload_bytes = static_cast<uint32_t>(payload.size());
  const std::vector<uint8_t> group = GroupBytes(header, payload);
  segment.insert(segment.end(), group.begin(), group.end());
  WriteFileBytes(*storage_, kFirstSegment, segment);
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::sequence_mismatch) << failure.Message();
  EXPECT_EQ(failure.offset, kSegmentHeaderBytes);
  EXPECT_EQ(failure.sequence, 1u);
}

TEST_F(JournalRecoveryTest, GroupWhoseRecordsDisagreeWithItsHeaderIsCorrupt) {
  std::vector<uint8_t> segment = SegmentHeaderBytes(1, 0, 1);
  format::GroupHeader header;
  header.first_sequence = 1;
  header.record_count = 2;
  std::vector<uint8_t> payload = RecordsPayload(1, 2, 10);
  payload[kRecordHeaderBytes + 10 + 8] = 0xff;  // second record claims 255 bytes
  header.payload_bytes = static_cast<uint32_t>(payload.size());
  const std::vector<uint8_t> group = GroupBytes(header, payload);
  segment.insert(segment.end(), group.begin(), group.end());
  WriteFileBytes(*storage_, kFirstSegment, segment);
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::corrupt_group) << failure.Message();
}

TEST_F(JournalRecoveryTest, HeaderClaimingGigabytesIsRefusedWithoutReadingThem) {
  std::vector<uint8_t> segment = SegmentHeaderBytes(1, 0, 1);
  format::GroupHeader header;
  header.first_sequence = 1;
  header.record_count = 1000;
  header.payload_bytes = 0xfffffff0u;  // ~4 GiB, with a valid header checksum
  const std::vector<uint8_t> group = GroupBytes(header, RecordsPayload(1, 1, 10));
  segment.insert(segment.end(), group.begin(), group.end());
  WriteFileBytes(*storage_, kFirstSegment, segment);
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::corrupt_group) << failure.Message();
  EXPECT_TRUE(Contains(failure.Message(), "out of bounds")) << failure.Message();
}

TEST_F(JournalRecoveryTest, InBoundsLengthPastTheEndOfAnEarlierSegmentIsCorrupt) {
  JournalOptions options;
  options.segment_bytes_max = kSegmentBytesMin;
  WriteJournal(*storage_, 60, 0, options);
  const std::vector<std::string> names = SegmentNames(*storage_);
  std::vector<uint8_t> segment = SegmentHeaderBytes(1, 0, 1);
  format::GroupHeader header;
  header.first_sequence = 1;
  header.record_count = 1;
  header.payload_bytes = 60u << 20;  // within kGroupPayloadBytesMax, but the file is tiny
  const std::vector<uint8_t> group = GroupBytes(header, RecordsPayload(1, 1, 10));
  segment.insert(segment.end(), group.begin(), group.end());
  WriteFileBytes(*storage_, names[0], segment);
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::corrupt_group) << failure.Message();
}

TEST_F(JournalRecoveryTest, GarbageFilesWithOtherNamesAreIgnored) {
  const std::vector<Fact> written = WriteJournal(*storage_, 2);
  std::vector<uint8_t> garbage(5000);
  SeededRandom(3).Fill(garbage);
  for (const char* name : {"garbage.bin", "segment-1.tpj", "segment-00000000000000000001.tpj.bak",
                           "SEGMENT-00000000000000000009.TPJ", "snapshot-7"}) {
    WriteFileBytes(*storage_, name, garbage);
  }
  auto writer = MustOpenWriter(*storage_);
  EXPECT_EQ(writer->stats().records, written.size());
  auto facts = ReadAllFacts(*storage_);
  ASSERT_TRUE(facts.ok());
  EXPECT_EQ(facts.value(), written);
}

TEST_F(JournalRecoveryTest, GarbageUnderASegmentNameIsRefused) {
  WriteJournal(*storage_, 2);
  std::vector<uint8_t> garbage(5000);
  SeededRandom(4).Fill(garbage);
  const std::string name = format::SegmentFileName(7);
  WriteFileBytes(*storage_, name, garbage);
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::corrupt_segment_header) << failure.Message();
  EXPECT_EQ(failure.file, PathOf(name));
}

TEST_F(JournalRecoveryTest, ZeroLengthSegmentIsRefusedWherever) {
  WriteJournal(*storage_, 2);
  const std::string last = format::SegmentFileName(7);
  WriteFileBytes(*storage_, last, {});
  JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::corrupt_segment_header) << failure.Message();
  EXPECT_TRUE(Contains(failure.Message(), "0 bytes")) << failure.Message();
  ASSERT_TRUE(storage_->Remove(last).ok());
  WriteFileBytes(*storage_, kFirstSegment, {});  // the only segment
  failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::corrupt_segment_header) << failure.Message();
}

TEST_F(JournalRecoveryTest, LeftoverTempSegmentIsRemovedOnOpen) {
  const std::vector<Fact> written = WriteJournal(*storage_, 2);
  const std::string temp = format::SegmentFileName(7) + ".tmp";
  WriteFileBytes(*storage_, temp, SegmentHeaderBytes(1, 1, 7));
  auto writer = MustOpenWriter(*storage_);
  EXPECT_EQ(writer->stats().records, written.size());
  EXPECT_EQ(SegmentNames(*storage_), std::vector<std::string>{kFirstSegment});
  auto names = storage_->List();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(std::count(names.value().begin(), names.value().end(), temp), 0);
}


// ---- Trusted prefix (a snapshot's sequence and hash): skips hashing, still checks the rest.

TEST_F(JournalRecoveryTest, ATrustedPrefixThatEndsAGroupAndMatchesItsHashOpensAndReplays) {
  storage::PosixStorage* storage = storage_.get();
  auto written = WriteJournal(*storage, 2);
  const crypto::Hash256 after_two = VerifyJournal(*storage).value().stats.head_hash;
  {
    auto writer = MustOpenWriter(*storage, {});
    auto more = AppendGroup(*writer, MakePayloads(77, kRecordsPerGroup, kRecordBytes));
    written.insert(written.end(), more.begin(), more.end());
    ASSERT_TRUE(writer->Sync().ok());
  }
  const auto head = VerifyJournal(*storage).value().stats;
  JournalOptions options;
  options.trusted_prefix = TrustedPrefix{SequenceNo{2 * kRecordsPerGroup}, after_two};
  auto writer = JournalWriter::Open(*storage, options);
  ASSERT_TRUE(writer.ok()) << writer.error().Message();
  EXPECT_EQ(writer.value()->stats().head_hash, head.head_hash);  // hashing resumed after it
  EXPECT_EQ(writer.value()->stats().last_sequence, head.last_sequence);
  writer.value().reset();
  auto reader = JournalReader::Open(*storage, SequenceNo{2 * kRecordsPerGroup + 1},
                                    TrustedPrefix{SequenceNo{2 * kRecordsPerGroup}, after_two});
  ASSERT_TRUE(reader.ok());
  size_t read = 0;
  while (true) {
    auto next = reader.value()->Next();
    ASSERT_TRUE(next.ok()) << next.error().Message();
    if (!next.value()) break;
    EXPECT_EQ(next.value()->sequence.value, 2 * kRecordsPerGroup + 1 + read);
    ++read;
  }
  EXPECT_EQ(read, kRecordsPerGroup);
}

TEST_F(JournalRecoveryTest, ATrustedPrefixWithAnotherHashIsRefused) {
  storage::PosixStorage* storage = storage_.get();
  WriteJournal(*storage, 3);
  JournalOptions options;
  crypto::Hash256 wrong{};
  wrong[0] = 1;
  options.trusted_prefix = TrustedPrefix{SequenceNo{kRecordsPerGroup}, wrong};
  auto writer = JournalWriter::Open(*storage, options);
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.error().code, JournalError::chain_broken);
}

TEST_F(JournalRecoveryTest, ATrustedPrefixInsideAGroupOrPastTheEndIsRefused) {
  storage::PosixStorage* storage = storage_.get();
  WriteJournal(*storage, 2);
  const crypto::Hash256 head = VerifyJournal(*storage).value().stats.head_hash;
  for (const uint64_t last : {uint64_t{1}, uint64_t{2 * kRecordsPerGroup + 1}}) {
    JournalOptions options;
    options.trusted_prefix = TrustedPrefix{SequenceNo{last}, head};
    auto writer = JournalWriter::Open(*storage, options);
    ASSERT_FALSE(writer.ok()) << last;
    EXPECT_EQ(writer.error().code, JournalError::trusted_prefix_mismatch) << last;
  }
}

TEST_F(JournalRecoveryTest, ATrustedPrefixStillRefusesAByteFlipInsideIt) {
  storage::PosixStorage* storage = storage_.get();
  WriteJournal(*storage, 3);
  const crypto::Hash256 head = VerifyJournal(*storage).value().stats.head_hash;
  auto bytes = ReadFileBytes(*storage, kFirstSegment);
  bytes[GroupOffset(0) + kGroupHeaderBytes + 20] ^= 0x40;  // inside the first group's payload
  WriteFileBytes(*storage, kFirstSegment, bytes);
  JournalOptions options;
  options.trusted_prefix = TrustedPrefix{SequenceNo{3 * kRecordsPerGroup}, head};
  auto writer = JournalWriter::Open(*storage, options);
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.error().code, JournalError::corrupt_group);
}


TEST_F(JournalRecoveryTest, ATrustedPrefixSpanningSeveralSegmentsOpens) {
  JournalOptions small;
  small.segment_bytes_max = kSegmentBytesMin;  // a segment every few groups
  WriteJournal(*storage_, 60, 0, small);
  ASSERT_GE(SegmentNames(*storage_).size(), 3u);
  const crypto::Hash256 head = VerifyJournal(*storage_).value().stats.head_hash;
  // Trust everything but nothing after it, then trust a prefix that ends inside the journal.
  JournalOptions options = small;
  options.trusted_prefix = TrustedPrefix{SequenceNo{60 * kRecordsPerGroup}, head};
  auto writer = JournalWriter::Open(*storage_, options);
  ASSERT_TRUE(writer.ok()) << writer.error().Message();
  EXPECT_EQ(writer.value()->stats().head_hash, head);
  auto more = AppendGroup(*writer.value(), MakePayloads(99, kRecordsPerGroup, kRecordBytes));
  ASSERT_TRUE(writer.value()->Sync().ok());
  writer.value().reset();
  options.trusted_prefix = TrustedPrefix{SequenceNo{60 * kRecordsPerGroup}, head};
  auto again = JournalWriter::Open(*storage_, options);
  ASSERT_TRUE(again.ok()) << again.error().Message();
  EXPECT_EQ(again.value()->stats().head_hash, VerifyJournal(*storage_).value().stats.head_hash);
}

// ---- The zero tail a preallocating writer leaves -------------------------------------------

JournalOptions Preallocating() {
  JournalOptions options;
  options.preallocate_bytes = 8192;
  return options;
}

TEST_F(JournalRecoveryTest, ZerosAfterTheLastGroupAreTheEndNotATornTailAndAreKept) {
  const std::vector<Fact> written = WriteJournal(*storage_, 3, 0, Preallocating());
  const uint64_t size = ReadFileBytes(*storage_, kFirstSegment).size();
  ASSERT_GT(size, GroupOffset(3));
  auto report = VerifyJournal(*storage_);
  ASSERT_TRUE(report.ok()) << report.error().Message();
  EXPECT_EQ(report.value().stats.torn_tail_bytes, 0u);
  EXPECT_EQ(report.value().stats.zero_tail_bytes, size - GroupOffset(3));
  auto writer = MustOpenWriter(*storage_, Preallocating());
  EXPECT_EQ(writer->stats().torn_tail_bytes, 0u);
  EXPECT_EQ(writer->stats().zero_tail_bytes, size - GroupOffset(3));
  EXPECT_EQ(writer->stats().bytes, GroupOffset(3));
  EXPECT_EQ(ReadFileBytes(*storage_, kFirstSegment).size(), size);  // recovery keeps the zeros
  // The next group goes where the zeros start.
  EXPECT_EQ(AppendGroup(*writer, MakePayloads(99, 1, 5)).at(0).sequence, 10u);
  ASSERT_TRUE(writer->Sync().ok());
  writer.reset();
  auto facts = ReadAllFacts(*storage_);
  ASSERT_TRUE(facts.ok()) << facts.error().Message();
  EXPECT_EQ(facts.value().size(), written.size() + 1);
  EXPECT_TRUE(std::equal(written.begin(), written.end(), facts.value().begin()));
}

// A crash while the last group was being written into prepared zeros: any prefix of it, then
// zeros. Recovery drops the partial group as a torn tail (with the zeros after it), the writer
// goes on after the last whole group and a second reopen finds everything.
TEST_F(JournalRecoveryTest, APartialGroupFollowedByZerosIsATornTailAndTheJournalGoesOn) {
  const std::vector<Fact> written = WriteJournal(*storage_, 3, 0, Preallocating());
  const std::vector<uint8_t> full = ReadFileBytes(*storage_, kFirstSegment);
  const std::vector<Fact> kept(written.begin(), written.begin() + 2 * kRecordsPerGroup);
  for (uint64_t cut = GroupOffset(2); cut < GroupOffset(3); ++cut) {
    std::vector<uint8_t> torn = full;
    std::fill(torn.begin() + static_cast<ptrdiff_t>(cut),
              torn.begin() + static_cast<ptrdiff_t>(GroupOffset(3)), uint8_t{0});
    WriteFileBytes(*storage_, kFirstSegment, torn);
    const bool only_zeros = cut == GroupOffset(2);
    auto writer = MustOpenWriter(*storage_, Preallocating());
    EXPECT_EQ(writer->stats().torn_tail_bytes, only_zeros ? 0 : full.size() - GroupOffset(2))
        << "cut " << cut;
    EXPECT_EQ(writer->stats().last_sequence, SequenceNo{6}) << "cut " << cut;
    EXPECT_EQ(AppendGroup(*writer, MakePayloads(99, 1, 5)).at(0).sequence, 7u);
    ASSERT_TRUE(writer->Sync().ok());
    writer.reset();
    auto reopened = MustOpenWriter(*storage_, Preallocating());
    EXPECT_EQ(reopened->stats().torn_tail_bytes, 0u) << "cut " << cut;
    EXPECT_EQ(reopened->stats().last_sequence, SequenceNo{7}) << "cut " << cut;
    reopened.reset();
    auto facts = ReadAllFacts(*storage_);
    ASSERT_TRUE(facts.ok()) << facts.error().Message();
    ASSERT_EQ(facts.value().size(), kept.size() + 1) << "cut " << cut;
    EXPECT_TRUE(std::equal(kept.begin(), kept.end(), facts.value().begin())) << "cut " << cut;
  }
}

TEST_F(JournalRecoveryTest, ZerosBeforeAValidGroupHeaderAreCorruptionNotAnEnd) {
  WriteJournal(*storage_, 3, 0, Preallocating());
  std::vector<uint8_t> bytes = ReadFileBytes(*storage_, kFirstSegment);
  std::fill(bytes.begin() + static_cast<ptrdiff_t>(GroupOffset(1)),
            bytes.begin() + static_cast<ptrdiff_t>(GroupOffset(2)), uint8_t{0});
  WriteFileBytes(*storage_, kFirstSegment, bytes);
  const JournalFailure failure = OpenFailure(*storage_);
  EXPECT_EQ(failure.code, JournalError::corrupt_group) << failure.Message();
  EXPECT_EQ(failure.offset, GroupOffset(1)) << failure.Message();
}

TEST_F(JournalRecoveryTest, OnlyTheLastSegmentKeepsZerosAfterItsGroups) {
  JournalOptions options = Preallocating();
  options.segment_bytes_max = 4096;
  const std::vector<Fact> written = WriteJournal(*storage_, 60, 0, options);
  const std::vector<std::string> names = SegmentNames(*storage_);
  ASSERT_GT(names.size(), 2u);
  auto report = VerifyJournal(*storage_);
  ASSERT_TRUE(report.ok()) << report.error().Message();
  uint64_t sizes = 0;
  for (const std::string& name : names) sizes += ReadFileBytes(*storage_, name).size();
  EXPECT_EQ(sizes, report.value().stats.bytes + report.value().stats.zero_tail_bytes);
  auto facts = ReadAllFacts(*storage_);
  ASSERT_TRUE(facts.ok()) << facts.error().Message();
  EXPECT_EQ(facts.value(), written);
}

}  // namespace
}  // namespace tpw::journal
