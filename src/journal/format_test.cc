#include "journal/format.h"

#include <gtest/gtest.h>

#include <vector>

#include "journal/limits.h"
#include "journal/scan.h"
#include "journal/types.h"

namespace tpw::journal::format {
namespace {

crypto::Hash256 SomeHash() {
  crypto::Hash256 hash{};
  for (size_t i = 0; i < hash.size(); ++i) hash[i] = static_cast<uint8_t>(i * 7 + 1);
  return hash;
}

TEST(FormatTest, SegmentHeaderRoundTrips) {
  SegmentHeader header;
  header.segment_index = 7;
  header.first_sequence = 123456789;
  header.previous_hash = SomeHash();
  uint8_t bytes[kSegmentHeaderBytes];
  EncodeSegmentHeader(header, bytes);
  const Decoded<SegmentHeader> decoded = DecodeSegmentHeader(bytes);
  EXPECT_EQ(decoded.problem, HeaderProblem::none);
  EXPECT_EQ(decoded.header.format_version, kFormatVersion);
  EXPECT_EQ(decoded.header.segment_index, 7u);
  EXPECT_EQ(decoded.header.first_sequence, 123456789u);
  EXPECT_EQ(decoded.header.previous_hash, SomeHash());
  // The documented layout: magic "TPWS", version 1, header size 64, little-endian fields.
  EXPECT_EQ(std::string(bytes, bytes + 4), "TPWS");
  EXPECT_EQ(bytes[4], 1);
  EXPECT_EQ(bytes[6], 64);
  EXPECT_EQ(bytes[8], 7);
  EXPECT_EQ(bytes[16], 123456789 & 0xff);
}

TEST(FormatTest, SegmentHeaderChecksMagicThenVersionThenChecksum) {
  SegmentHeader header;
  header.first_sequence = 1;
  uint8_t bytes[kSegmentHeaderBytes];
  EncodeSegmentHeader(header, bytes);
  bytes[0] ^= 1;
  EXPECT_EQ(DecodeSegmentHeader(bytes).problem, HeaderProblem::bad_magic);
  bytes[0] ^= 1;
  bytes[4] = 2;  // a newer version: its checksum is not even looked at
  EXPECT_EQ(DecodeSegmentHeader(bytes).problem, HeaderProblem::version_unsupported);
  bytes[4] = 0;
  EXPECT_EQ(DecodeSegmentHeader(bytes).problem, HeaderProblem::version_zero);
  bytes[4] = 1;
  bytes[20] ^= 0x40;
  EXPECT_EQ(DecodeSegmentHeader(bytes).problem, HeaderProblem::bad_checksum);
}

TEST(FormatTest, GroupHeaderRoundTripsAndIsRecognised) {
  GroupHeader header;
  header.first_sequence = 42;
  header.record_count = 3;
  header.payload_bytes = 100;
  header.previous_hash = SomeHash();
  header.payload_crc = 0xdeadbeef;
  uint8_t bytes[kGroupHeaderBytes];
  EncodeGroupHeader(header, bytes);
  const Decoded<GroupHeader> decoded = DecodeGroupHeader(bytes);
  EXPECT_EQ(decoded.problem, HeaderProblem::none);
  EXPECT_EQ(decoded.header.first_sequence, 42u);
  EXPECT_EQ(decoded.header.record_count, 3u);
  EXPECT_EQ(decoded.header.payload_bytes, 100u);
  EXPECT_EQ(decoded.header.previous_hash, SomeHash());
  EXPECT_EQ(decoded.header.payload_crc, 0xdeadbeefu);
  EXPECT_EQ(std::string(bytes, bytes + 4), "TPWG");
  EXPECT_TRUE(LooksLikeGroupHeader(bytes));
  for (size_t i = 0; i < kGroupHeaderBytes; ++i) {
    bytes[i] ^= 0x10;
    EXPECT_NE(DecodeGroupHeader(bytes).problem, HeaderProblem::none) << "byte " << i;
    EXPECT_FALSE(LooksLikeGroupHeader(bytes)) << "byte " << i;
    bytes[i] ^= 0x10;
  }
}

TEST(FormatTest, RecordHeaderRoundTrips) {
  RecordHeader header{0x0102030405060708ull, 128, 0xabcd, 0};
  uint8_t bytes[kRecordHeaderBytes];
  EncodeRecordHeader(header, bytes);
  EXPECT_EQ(bytes[0], 0x08);
  EXPECT_EQ(bytes[7], 0x01);
  const RecordHeader decoded = DecodeRecordHeader(bytes);
  EXPECT_EQ(decoded.sequence, header.sequence);
  EXPECT_EQ(decoded.length, 128u);
  EXPECT_EQ(decoded.type, 0xabcd);
  EXPECT_EQ(decoded.reserved, 0);
}

TEST(FormatTest, SegmentNamesSortNumericallyAndParseBack) {
  EXPECT_EQ(SegmentFileName(1), "segment-00000000000000000001.tpj");
  EXPECT_EQ(SegmentFileName(UINT64_MAX), "segment-18446744073709551615.tpj");
  EXPECT_LT(SegmentFileName(9), SegmentFileName(10));
  EXPECT_EQ(ParseSegmentFileName(SegmentFileName(8190)), 8190u);
  EXPECT_EQ(ParseSegmentFileName(SegmentFileName(UINT64_MAX)), UINT64_MAX);
}

TEST(FormatTest, OtherNamesAreNotSegments) {
  for (const char* name :
       {"LOCK", "segment-1.tpj", "segment-0000000000000000000x.tpj",
        "segment-00000000000000000001.tpj.tmp", "segment-99999999999999999999.tpj",
        "xsegment-00000000000000000001.tpj", "segment-00000000000000000001.tpk", ""}) {
    EXPECT_FALSE(ParseSegmentFileName(name).has_value()) << name;
  }
  EXPECT_TRUE(IsSegmentTempFileName("segment-00000000000000000001.tpj.tmp"));
  EXPECT_FALSE(IsSegmentTempFileName("snapshot.tmp"));
}

TEST(FormatTest, RecordLocationPacksSegmentIndexAndOffset) {
  const RecordLocation location = RecordLocation::Make(kSegmentIndexMax, kSegmentBytesLimit);
  EXPECT_EQ(location.segment_index(), kSegmentIndexMax);
  EXPECT_EQ(location.offset(), kSegmentBytesLimit);
  EXPECT_EQ(RecordLocation::Make(3, 200).packed, (uint64_t{3} << kLocationOffsetBits) | 200);
}

std::vector<uint8_t> Payload(std::initializer_list<std::pair<uint64_t, uint32_t>> records) {
  std::vector<uint8_t> payload;
  for (const auto& [sequence, length] : records) {
    uint8_t header[kRecordHeaderBytes];
    EncodeRecordHeader(RecordHeader{sequence, length, 1, 0}, header);
    payload.insert(payload.end(), header, header + kRecordHeaderBytes);
    payload.insert(payload.end(), length, 0xab);
  }
  return payload;
}

TEST(FormatTest, CheckRecordsAcceptsAWellFormedPayload) {
  GroupHeader header;
  header.first_sequence = 10;
  header.record_count = 3;
  EXPECT_EQ(internal::CheckRecords(header, Payload({{10, 5}, {11, 0}, {12, 128}})), "");
}

TEST(FormatTest, CheckRecordsRejectsBadSequencesLengthsAndTrailingBytes) {
  GroupHeader header;
  header.first_sequence = 10;
  header.record_count = 2;
  EXPECT_NE(internal::CheckRecords(header, Payload({{10, 5}, {12, 5}})), "");
  std::vector<uint8_t> overlong = Payload({{10, 5}, {11, 5}});
  overlong[kRecordHeaderBytes + 5 + 8] = 200;  // second record claims 200 bytes
  EXPECT_NE(internal::CheckRecords(header, overlong), "");
  std::vector<uint8_t> trailing = Payload({{10, 5}, {11, 5}});
  trailing.push_back(0);
  EXPECT_NE(internal::CheckRecords(header, trailing), "");
  std::vector<uint8_t> reserved = Payload({{10, 5}, {11, 5}});
  reserved[14] = 1;
  EXPECT_NE(internal::CheckRecords(header, reserved), "");
  header.record_count = 3;  // more records claimed than the payload holds
  EXPECT_NE(internal::CheckRecords(header, Payload({{10, 5}, {11, 5}})), "");
}

}  // namespace
}  // namespace tpw::journal::format
