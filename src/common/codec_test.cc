#include "common/codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/int128.h"
#include "common/limits.h"
#include "common/test_seed.h"

namespace tpw {
namespace {

using Bytes = std::vector<uint8_t>;

// ---------------------------------------------------------------------------------------------
// Byte layout: little-endian, u128 as low half then high half, u32 length prefixes.

TEST(BinaryWriter, WritesIntegersLittleEndian) {
  BinaryWriter writer;
  writer.U8(0x01);
  writer.U16(0x0203);
  writer.U32(0x04050607);
  writer.U64(0x08090a0b0c0d0e0fULL);
  const Bytes expected = {0x01, 0x03, 0x02, 0x07, 0x06, 0x05, 0x04, 0x0f,
                          0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08};
  EXPECT_EQ(writer.buffer(), expected);
  EXPECT_EQ(writer.size(), expected.size());
}

TEST(BinaryWriter, WritesU128LowHalfFirst) {
  BinaryWriter writer;
  writer.U128(MakeU128(0x1112131415161718ULL, 0x0102030405060708ULL));
  const Bytes expected = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
                          0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11};
  EXPECT_EQ(writer.buffer(), expected);
}

TEST(BinaryWriter, WritesBlobAsLengthPrefixThenBytes) {
  BinaryWriter writer;
  const Bytes payload = {0xaa, 0xbb, 0xcc};
  writer.Blob(payload);
  writer.String("hi");
  const Bytes expected = {3, 0, 0, 0, 0xaa, 0xbb, 0xcc, 2, 0, 0, 0, 'h', 'i'};
  EXPECT_EQ(writer.buffer(), expected);
}

TEST(BinaryWriter, WritesRawBytesWithoutPrefix) {
  BinaryWriter writer;
  const Bytes payload = {9, 8, 7};
  writer.Bytes(payload);
  EXPECT_EQ(writer.buffer(), payload);
}

TEST(BinaryWriter, TakeMovesTheBufferOut) {
  BinaryWriter writer;
  writer.U32(1);
  const Bytes taken = writer.Take();
  EXPECT_EQ(taken.size(), 4u);
  EXPECT_EQ(taken[0], 1);
}

TEST(BinaryReader, ReadsIntegersLittleEndian) {
  const Bytes data = {0x03, 0x02, 0x07, 0x06, 0x05, 0x04};
  BinaryReader reader(data);
  EXPECT_EQ(reader.U16(), 0x0203);
  EXPECT_EQ(reader.U32(), 0x04050607u);
  EXPECT_TRUE(reader.AtEndOk());
}

// ---------------------------------------------------------------------------------------------
// Round trips of every width at its boundaries.

TEST(Codec, RoundTripsEveryWidthAtItsBoundaries) {
  const u128 wide_values[] = {
      0, 1, MakeU128(0, UINT64_MAX), MakeU128(1, 0), MakeU128(UINT64_MAX, 0), kU128Max};
  BinaryWriter writer;
  for (uint8_t v : {uint8_t{0}, uint8_t{1}, uint8_t{0x7f}, uint8_t{0x80}, uint8_t{0xff}}) {
    writer.U8(v);
  }
  for (uint16_t v : {uint16_t{0}, uint16_t{0x00ff}, uint16_t{0x8000}, uint16_t{0xffff}}) {
    writer.U16(v);
  }
  for (uint32_t v : {0u, 0xffu, 0x80000000u, 0xffffffffu}) writer.U32(v);
  for (uint64_t v : {uint64_t{0}, uint64_t{0xff}, uint64_t{1} << 63, UINT64_MAX}) writer.U64(v);
  for (u128 v : wide_values) writer.U128(v);
  const Bytes data = writer.Take();

  BinaryReader reader(data);
  for (int v : {0, 1, 0x7f, 0x80, 0xff}) EXPECT_EQ(reader.U8(), v);
  for (int v : {0, 0x00ff, 0x8000, 0xffff}) EXPECT_EQ(reader.U16(), v);
  for (uint32_t v : {0u, 0xffu, 0x80000000u, 0xffffffffu}) EXPECT_EQ(reader.U32(), v);
  for (uint64_t v : {uint64_t{0}, uint64_t{0xff}, uint64_t{1} << 63, UINT64_MAX}) {
    EXPECT_EQ(reader.U64(), v);
  }
  for (u128 v : wide_values) EXPECT_EQ(U128ToDecimal(reader.U128()), U128ToDecimal(v));
  EXPECT_TRUE(reader.ok());
  EXPECT_TRUE(reader.AtEndOk());
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(Codec, RoundTripsEmptyAndBinaryStrings) {
  const std::string binary("a\0b\xff\x80z", 6);
  BinaryWriter writer;
  writer.String("");
  writer.String(binary);
  writer.Blob({});
  const Bytes data = writer.Take();
  BinaryReader reader(data);
  EXPECT_EQ(reader.String(100), "");
  EXPECT_EQ(reader.String(100), binary);
  EXPECT_TRUE(reader.Blob(100).empty());
  EXPECT_TRUE(reader.AtEndOk());
}

TEST(Codec, BlobExactlyAtItsLimitIsAccepted) {
  const Bytes payload(10, 0x5a);
  BinaryWriter writer;
  writer.Blob(payload);
  const Bytes data = writer.Take();
  BinaryReader reader(data);
  const std::span<const uint8_t> read = reader.Blob(10);
  EXPECT_EQ(Bytes(read.begin(), read.end()), payload);
  EXPECT_TRUE(reader.AtEndOk());
}

TEST(Codec, BlobAtTheGlobalLimitIsAccepted) {
  const Bytes payload(kCodecBlobBytesMax, 0x01);
  BinaryWriter writer;
  writer.Blob(payload);
  const Bytes data = writer.Take();
  BinaryReader reader(data);
  EXPECT_EQ(reader.Blob(UINT32_MAX).size(), kCodecBlobBytesMax);
  EXPECT_TRUE(reader.AtEndOk());
}

// ---------------------------------------------------------------------------------------------
// Hostile input: truncation, oversized length prefixes, trailing bytes, flipped bytes.

// A record with one field of every kind; a decoder reads all fields, then checks ok() once.
struct Record {
  uint8_t a = 0;
  uint16_t b = 0;
  uint32_t c = 0;
  uint64_t d = 0;
  u128 e = 0;
  std::string name;
  Bytes blob;
  uint32_t trailer = 0;
};
constexpr uint32_t kRecordStringMax = 64;

Record SampleRecord() {
  return Record{0xa1,
                0xb2c3,
                0xd4e5f607u,
                0x1122334455667788ULL,
                MakeU128(0x99aabbccddeeff00ULL, 0x0102030405060708ULL),
                "hello",
                Bytes{0xde, 0xad, 0xbe, 0xef},
                0xcafebabeu};
}

Bytes Encode(const Record& r) {
  BinaryWriter writer;
  writer.U8(r.a);
  writer.U16(r.b);
  writer.U32(r.c);
  writer.U64(r.d);
  writer.U128(r.e);
  writer.String(r.name);
  writer.Blob(r.blob);
  writer.U32(r.trailer);
  return writer.Take();
}

Record Decode(BinaryReader& reader) {
  Record r;
  r.a = reader.U8();
  r.b = reader.U16();
  r.c = reader.U32();
  r.d = reader.U64();
  r.e = reader.U128();
  r.name = reader.String(kRecordStringMax);
  const std::span<const uint8_t> blob = reader.Blob(kRecordStringMax);
  r.blob.assign(blob.begin(), blob.end());
  r.trailer = reader.U32();
  return r;
}

// Each field of `got` must equal `want` when `intact[i]`, else be zero or empty.
void ExpectFields(const Record& got, const Record& want, const bool intact[8]) {
  EXPECT_EQ(got.a, intact[0] ? want.a : 0);
  EXPECT_EQ(got.b, intact[1] ? want.b : 0);
  EXPECT_EQ(got.c, intact[2] ? want.c : 0u);
  EXPECT_EQ(got.d, intact[3] ? want.d : 0u);
  EXPECT_EQ(U128ToDecimal(got.e), U128ToDecimal(intact[4] ? want.e : 0));
  EXPECT_EQ(got.name, intact[5] ? want.name : "");
  EXPECT_EQ(got.blob, intact[6] ? want.blob : Bytes{});
  EXPECT_EQ(got.trailer, intact[7] ? want.trailer : 0u);
}

TEST(Codec, RecordRoundTrips) {
  const Record want = SampleRecord();
  const Bytes data = Encode(want);
  ASSERT_EQ(data.size(), 52u);
  BinaryReader reader(data);
  const Record got = Decode(reader);
  EXPECT_TRUE(reader.AtEndOk());
  const bool all[8] = {true, true, true, true, true, true, true, true};
  ExpectFields(got, want, all);
}

TEST(Codec, TruncationAtEveryLengthFailsAndZeroesTheUnreadFields) {
  const Record want = SampleRecord();
  const Bytes data = Encode(want);
  // Offsets at which each field ends: u8, u16, u32, u64, u128, "hello", 4-byte blob, u32.
  const size_t field_end[8] = {1, 3, 7, 15, 31, 40, 48, 52};
  ASSERT_EQ(data.size(), field_end[7]);
  for (size_t cut = 0; cut < data.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    BinaryReader reader(std::span<const uint8_t>(data.data(), cut));
    const Record got = Decode(reader);
    EXPECT_FALSE(reader.ok());
    EXPECT_FALSE(reader.AtEndOk());
    EXPECT_EQ(reader.remaining(), 0u);
    bool intact[8];
    for (size_t i = 0; i < 8; ++i) intact[i] = field_end[i] <= cut;
    ExpectFields(got, want, intact);
  }
}

TEST(Codec, FailedU128ReadReturnsZeroNotItsLowHalf) {
  const Bytes data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};  // 11 of 16 bytes
  BinaryReader reader(data);
  EXPECT_EQ(U128ToDecimal(reader.U128()), "0");
  EXPECT_FALSE(reader.ok());
}

TEST(Codec, FailureIsStickyEvenForReadsThatWouldFit) {
  const Bytes data = {0x01, 0x02, 0x03};
  BinaryReader reader(data);
  EXPECT_EQ(reader.U32(), 0u);  // needs 4 bytes, 3 are there
  EXPECT_FALSE(reader.ok());
  EXPECT_EQ(reader.U8(), 0);  // would fit, but the reader has failed
  EXPECT_EQ(reader.U16(), 0);
  EXPECT_TRUE(reader.Bytes(1).empty());
  EXPECT_EQ(reader.String(10), "");
  EXPECT_FALSE(reader.ok());
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(Codec, EveryReadOnEmptyInputFails) {
  const Bytes empty;
  {
    BinaryReader reader(empty);
    EXPECT_EQ(reader.U8(), 0);
    EXPECT_FALSE(reader.ok());
  }
  {
    BinaryReader reader(empty);
    EXPECT_EQ(reader.U64(), 0u);
    EXPECT_FALSE(reader.ok());
  }
  {
    BinaryReader reader(empty);
    EXPECT_TRUE(reader.Blob(10).empty());
    EXPECT_FALSE(reader.ok());
  }
}

TEST(Codec, EmptyInputWithNothingToReadIsAtEnd) {
  const Bytes empty;
  BinaryReader reader(empty);
  EXPECT_TRUE(reader.AtEndOk());
  EXPECT_TRUE(reader.Bytes(0).empty());
  EXPECT_TRUE(reader.AtEndOk());
}

TEST(Codec, BytesPastTheEndFails) {
  const Bytes data = {1, 2, 3};
  BinaryReader reader(data);
  EXPECT_TRUE(reader.Bytes(4).empty());
  EXPECT_FALSE(reader.ok());
}

TEST(Codec, HugeByteCountFailsWithoutWrapping) {
  const Bytes data = {1, 2, 3};
  BinaryReader reader(data);
  EXPECT_EQ(reader.U8(), 1);
  EXPECT_TRUE(reader.Bytes(SIZE_MAX).empty());
  EXPECT_FALSE(reader.ok());
}

TEST(Codec, BlobLongerThanItsLimitFails) {
  const Bytes payload(11, 0x5a);
  BinaryWriter writer;
  writer.Blob(payload);
  writer.U8(7);
  const Bytes data = writer.Take();
  BinaryReader reader(data);
  EXPECT_TRUE(reader.Blob(10).empty());
  EXPECT_FALSE(reader.ok());
  EXPECT_EQ(reader.U8(), 0);
}

TEST(Codec, StringLongerThanItsLimitFails) {
  BinaryWriter writer;
  writer.String("hello");
  const Bytes data = writer.Take();
  BinaryReader reader(data);
  EXPECT_EQ(reader.String(4), "");
  EXPECT_FALSE(reader.ok());
}

TEST(Codec, BlobOverTheGlobalLimitFailsWhateverTheCallerAllows) {
  // The bytes are really there: only the limit rejects it.
  BinaryWriter writer;
  writer.U32(kCodecBlobBytesMax + 1);
  writer.Bytes(Bytes(kCodecBlobBytesMax + 1, 0));
  const Bytes data = writer.Take();
  BinaryReader reader(data);
  EXPECT_TRUE(reader.Blob(UINT32_MAX).empty());
  EXPECT_FALSE(reader.ok());
}

TEST(Codec, MaximalLengthPrefixFailsWithoutReading) {
  const Bytes data = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
  BinaryReader reader(data);
  EXPECT_TRUE(reader.Blob(UINT32_MAX).empty());
  EXPECT_FALSE(reader.ok());
}

TEST(Codec, LengthPrefixPastTheEndFails) {
  const Bytes data = {100, 0, 0, 0, 1, 2, 3};
  BinaryReader reader(data);
  EXPECT_TRUE(reader.Blob(1000).empty());
  EXPECT_FALSE(reader.ok());
}

TEST(Codec, AtEndOkIsFalseWithTrailingBytes) {
  Bytes data = Encode(SampleRecord());
  data.push_back(0x00);
  BinaryReader reader(data);
  (void)Decode(reader);
  EXPECT_TRUE(reader.ok());
  EXPECT_FALSE(reader.AtEndOk());
  EXPECT_EQ(reader.remaining(), 1u);
  EXPECT_EQ(reader.offset(), data.size() - 1);
}

TEST(Codec, AtEndOkIsFalseAfterAFailedReadEvenWhenAllBytesWereConsumed) {
  const Bytes data = {1, 2};
  BinaryReader reader(data);
  EXPECT_EQ(reader.U16(), 0x0201);
  EXPECT_EQ(reader.offset(), data.size());
  EXPECT_EQ(reader.U8(), 0);
  EXPECT_FALSE(reader.AtEndOk());
}

TEST(Codec, FlippedFixedWidthByteChangesOnlyThatField) {
  const Record want = SampleRecord();
  const Bytes original = Encode(want);
  const size_t field_begin[] = {0, 1, 3, 7, 15};  // a, b, c, d, e
  const size_t field_end[] = {1, 3, 7, 15, 31};
  for (size_t field = 0; field < 5; ++field) {
    for (size_t at = field_begin[field]; at < field_end[field]; ++at) {
      SCOPED_TRACE("byte " + std::to_string(at));
      Bytes data = original;
      data[at] ^= 0x40;
      BinaryReader reader(data);
      const Record got = Decode(reader);
      EXPECT_TRUE(reader.AtEndOk());
      const bool same[] = {got.a == want.a, got.b == want.b, got.c == want.c, got.d == want.d,
                           got.e == want.e};
      for (size_t i = 0; i < 5; ++i) EXPECT_EQ(same[i], i != field) << "field " << i;
      EXPECT_EQ(got.name, want.name);
      EXPECT_EQ(got.blob, want.blob);
      EXPECT_EQ(got.trailer, want.trailer);
    }
  }
}

TEST(Codec, FlippedHighByteOfALengthPrefixFails) {
  const Bytes original = Encode(SampleRecord());
  // Length prefixes: the string's at 31..34, the blob's at 40..43. A flipped high byte makes
  // the length at least 256, beyond kRecordStringMax.
  for (size_t at : {size_t{32}, size_t{33}, size_t{34}, size_t{41}, size_t{42}, size_t{43}}) {
    SCOPED_TRACE("byte " + std::to_string(at));
    Bytes data = original;
    data[at] ^= 0x01;
    BinaryReader reader(data);
    const Record got = Decode(reader);
    EXPECT_FALSE(reader.ok());
    EXPECT_EQ(got.trailer, 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// Programmer errors: writing a blob over the global limit is a bug in the caller.

TEST(CodecDeathTest, WritingBlobOverTheGlobalLimitAsserts) {
  const Bytes payload(kCodecBlobBytesMax + 1, 0);
  BinaryWriter writer;
  EXPECT_DEATH(writer.Blob(payload), "assertion failed");
}

// ---------------------------------------------------------------------------------------------
// Randomized properties.

enum class Kind { u8, u16, u32, u64, u128, blob, string, bytes };
struct Field {
  Kind kind;
  u128 number = 0;
  Bytes bytes;
};

std::vector<Field> RandomFields(Random& random) {
  std::vector<Field> fields(random.Uniform(20));
  for (Field& f : fields) {
    f.kind = static_cast<Kind>(random.Uniform(8));
    f.number = MakeU128(random.NextU64(), random.NextU64()) >> random.Uniform(128);
    f.bytes.resize(random.Uniform(40));
    random.Fill(f.bytes);
  }
  return fields;
}

void Write(BinaryWriter& writer, const Field& f) {
  switch (f.kind) {
    case Kind::u8:
      writer.U8(static_cast<uint8_t>(f.number));
      break;
    case Kind::u16:
      writer.U16(static_cast<uint16_t>(f.number));
      break;
    case Kind::u32:
      writer.U32(static_cast<uint32_t>(f.number));
      break;
    case Kind::u64:
      writer.U64(static_cast<uint64_t>(f.number));
      break;
    case Kind::u128:
      writer.U128(f.number);
      break;
    case Kind::blob:
      writer.Blob(f.bytes);
      break;
    case Kind::string:
      writer.String(std::string(f.bytes.begin(), f.bytes.end()));
      break;
    case Kind::bytes:
      writer.Bytes(f.bytes);
      break;
  }
}

// Reads a field of the same kind and says whether it matches what was written.
bool ReadsBack(BinaryReader& reader, const Field& f) {
  switch (f.kind) {
    case Kind::u8:
      return reader.U8() == static_cast<uint8_t>(f.number);
    case Kind::u16:
      return reader.U16() == static_cast<uint16_t>(f.number);
    case Kind::u32:
      return reader.U32() == static_cast<uint32_t>(f.number);
    case Kind::u64:
      return reader.U64() == static_cast<uint64_t>(f.number);
    case Kind::u128:
      return reader.U128() == f.number;
    case Kind::blob: {
      const std::span<const uint8_t> read = reader.Blob(40);
      return Bytes(read.begin(), read.end()) == f.bytes;
    }
    case Kind::string:
      return reader.String(40) == std::string(f.bytes.begin(), f.bytes.end());
    case Kind::bytes: {
      const std::span<const uint8_t> read = reader.Bytes(f.bytes.size());
      return Bytes(read.begin(), read.end()) == f.bytes;
    }
  }
  return false;
}

TEST(CodecProperty, RandomRecordsRoundTripAndEveryTruncationFails) {
  const uint64_t seed =
      test_support::TestSeed("CodecProperty.RandomRecordsRoundTripAndEveryTruncationFails");
  SCOPED_TRACE(test_support::SeedTrace(seed));
  SeededRandom random(seed);
  for (int round = 0; round < 2000; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::vector<Field> fields = RandomFields(random);
    BinaryWriter writer;
    for (const Field& f : fields) Write(writer, f);
    const Bytes data = writer.Take();

    BinaryReader reader(data);
    for (size_t i = 0; i < fields.size(); ++i) ASSERT_TRUE(ReadsBack(reader, fields[i])) << i;
    ASSERT_TRUE(reader.AtEndOk());

    if (data.empty()) continue;
    const size_t cut = random.Uniform(data.size());
    BinaryReader truncated(std::span<const uint8_t>(data.data(), cut));
    for (const Field& f : fields) (void)ReadsBack(truncated, f);
    ASSERT_FALSE(truncated.ok()) << "cut " << cut << " of " << data.size();
    ASSERT_FALSE(truncated.AtEndOk());
  }
}

TEST(CodecProperty, GarbageNeverDecodesUnlessItReencodesExactly) {
  const uint64_t seed =
      test_support::TestSeed("CodecProperty.GarbageNeverDecodesUnlessItReencodesExactly");
  SCOPED_TRACE(test_support::SeedTrace(seed));
  SeededRandom random(seed);
  const Bytes valid = Encode(SampleRecord());
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    // Half pure garbage, half a valid record with a few random bytes overwritten.
    Bytes data;
    if (random.Chance(1, 2)) {
      data.resize(random.Uniform(80));
      random.Fill(data);
    } else {
      data = valid;
      const uint64_t flips = 1 + random.Uniform(3);
      for (uint64_t i = 0; i < flips; ++i) {
        data[random.Uniform(data.size())] = static_cast<uint8_t>(random.NextU64());
      }
    }
    BinaryReader reader(data);
    const Record got = Decode(reader);
    ASSERT_LE(reader.offset(), data.size());
    if (reader.AtEndOk()) {
      ++accepted;
      ASSERT_EQ(Encode(got), data) << "round " << round;
    } else if (!reader.ok()) {
      ASSERT_EQ(got.trailer, 0u);  // the last field was never read from real bytes
    }
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace tpw
