// Journal layouts (journal/format.h, docs/journal-format.md) decoded on their own: segment
// headers, group headers with the records of their payload, record headers and segment file
// names. Byte 0 picks the kind (low two bits) and whether to repair the header checksum (bit 2,
// so the decoder gets past it), the rest is the input. Every layout is canonical: a header that
// decodes without a problem must encode back to the same 64 bytes, a payload CheckRecords
// accepts must re-encode record by record, a file name that parses must print the same.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "journal/crc32c.h"
#include "journal/format.h"
#include "journal/scan.h"

namespace {

namespace format = tpw::journal::format;

void RepairHeaderCrc(std::span<uint8_t> header) {
  const uint32_t crc = tpw::journal::Crc32c(header.first(format::kHeaderCrcOffset));
  for (size_t i = 0; i < 4; ++i) {
    header[format::kHeaderCrcOffset + i] = static_cast<uint8_t>(crc >> (8 * i));
  }
}

void SegmentHeader(std::span<const uint8_t, format::kSegmentHeaderBytes> bytes) {
  const auto decoded = format::DecodeSegmentHeader(bytes);
  if (decoded.problem != format::HeaderProblem::none) return;
  FUZZ_CHECK(decoded.stored_crc == decoded.computed_crc);
  std::array<uint8_t, format::kSegmentHeaderBytes> encoded{};
  format::EncodeSegmentHeader(decoded.header, encoded);
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), bytes.begin(), bytes.end()));
}

void GroupAndRecords(std::span<const uint8_t> bytes) {
  const auto header_bytes = bytes.first<format::kGroupHeaderBytes>();
  const auto decoded = format::DecodeGroupHeader(header_bytes);
  FUZZ_CHECK(format::LooksLikeGroupHeader(bytes) ==
             (decoded.problem != format::HeaderProblem::bad_magic &&
              decoded.stored_crc == decoded.computed_crc));
  if (decoded.problem != format::HeaderProblem::none) return;
  std::array<uint8_t, format::kGroupHeaderBytes> encoded{};
  format::EncodeGroupHeader(decoded.header, encoded);
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), header_bytes.begin(), header_bytes.end()));

  // The scanner hands CheckRecords the header's payload_bytes bytes after the header.
  const std::span<const uint8_t> after = bytes.subspan(format::kGroupHeaderBytes);
  if (after.size() < decoded.header.payload_bytes) return;
  const std::span<const uint8_t> payload = after.first(decoded.header.payload_bytes);
  if (!tpw::journal::internal::CheckRecords(decoded.header, payload).empty()) return;
  // Accepted: record_count records, consecutive sequences, lengths adding up to the payload.
  size_t offset = 0;
  for (uint32_t i = 0; i < decoded.header.record_count; ++i) {
    FUZZ_CHECK(payload.size() - offset >= format::kRecordHeaderBytes);
    const auto record = payload.subspan(offset).first<format::kRecordHeaderBytes>();
    const format::RecordHeader header = format::DecodeRecordHeader(record);
    FUZZ_CHECK(header.sequence == decoded.header.first_sequence + i && header.reserved == 0);
    std::array<uint8_t, format::kRecordHeaderBytes> again{};
    format::EncodeRecordHeader(header, again);
    FUZZ_CHECK(std::equal(again.begin(), again.end(), record.begin(), record.end()));
    offset += format::kRecordHeaderBytes;
    FUZZ_CHECK(payload.size() - offset >= header.length);
    offset += header.length;
  }
  FUZZ_CHECK(offset == payload.size());
}

void FileName(std::string_view name) {
  const auto sequence = format::ParseSegmentFileName(name);
  if (sequence) FUZZ_CHECK(format::SegmentFileName(*sequence) == name);
  (void)format::IsSegmentTempFileName(name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  std::vector<uint8_t> rest(data + 1, data + size);
  const bool repair = (selector & 4) != 0;
  switch (selector & 3) {
    case 0:
      if (rest.size() != format::kSegmentHeaderBytes) return 0;
      if (repair) RepairHeaderCrc(rest);
      SegmentHeader(
          std::span<const uint8_t, format::kSegmentHeaderBytes>(rest.data(), rest.size()));
      break;
    case 1:
      if (rest.size() < format::kGroupHeaderBytes) return 0;
      if (repair) RepairHeaderCrc(std::span(rest).first(format::kGroupHeaderBytes));
      GroupAndRecords(rest);
      break;
    case 2: {
      if (rest.size() != format::kRecordHeaderBytes) return 0;
      const auto header = format::DecodeRecordHeader(
          std::span<const uint8_t, format::kRecordHeaderBytes>(rest.data(), rest.size()));
      std::array<uint8_t, format::kRecordHeaderBytes> encoded{};
      format::EncodeRecordHeader(header, encoded);
      FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), rest.begin(), rest.end()));
      break;
    }
    default:
      FileName(tpw::fuzz::AsText(rest));
      break;
  }
  return 0;
}
