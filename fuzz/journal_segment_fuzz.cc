// Journal segment files (journal/journal.h) on a simulated directory: VerifyJournal, a
// JournalReader from sequence 1 to the end, then recovery (JournalWriter::Open). Input: byte 0
// flags, bytes 1..2 a little-endian split point, then the file bytes. With flag 1 the bytes are
// split into two segments there (the second named after the first sequence its header claims),
// so the link between segments is fuzzed too. The journal is a ledger's book of record, so
// whatever the bytes, the result must be a clean error or a consistent journal:
//   - nothing crashes, hangs or allocates beyond the limits;
//   - a journal VerifyJournal accepts opens for writing, and the head it reports survives;
//   - after recovery (which truncates a torn tail), VerifyJournal finds no torn tail and the
//     same head, and every record a reader returns lies within that head.
#include <string>

#include "fuzz_check.h"
#include "journal/format.h"
#include "journal/journal.h"
#include "storage_files.h"

namespace {

namespace journal = tpw::journal;

// A reader returns at most one record per 16-byte record header.
constexpr uint64_t kReadsMax = (uint64_t{1} << 16) / journal::format::kRecordHeaderBytes + 2;

uint64_t SecondSegmentSequence(std::span<const uint8_t> bytes) {
  if (bytes.size() < journal::format::kSegmentHeaderBytes) return 2;
  uint64_t sequence = 0;
  for (size_t i = 0; i < 8; ++i) sequence |= uint64_t{bytes[16 + i]} << (8 * i);
  // File names hold 20 digits; sequence 1 is taken by the first segment.
  return sequence <= 1 ? 2 : sequence;
}

void ReadAll(tpw::storage::Storage& storage, const journal::JournalStats* head) {
  auto reader = journal::JournalReader::Open(storage, journal::SequenceNo{1});
  if (!reader.ok()) return;
  uint64_t previous = 0;
  for (uint64_t reads = 0;; ++reads) {
    FUZZ_CHECK(reads < kReadsMax);
    auto next = reader.value()->Next();
    if (!next.ok() || !next.value().has_value()) return;
    const journal::RecordView& record = *next.value();
    FUZZ_CHECK(record.sequence.value > previous);
    previous = record.sequence.value;
    if (head != nullptr) FUZZ_CHECK(record.sequence <= head->last_sequence);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3 || size - 3 > (uint64_t{1} << 16)) return 0;
  const std::span<const uint8_t> bytes(data + 3, size - 3);
  const size_t split = size_t{data[1]} | size_t{data[2]} << 8;

  tpw::SeededRandom random(1);
  tpw::storage::SimulatedStorage storage(random);
  if ((data[0] & 1) != 0 && split < bytes.size()) {
    tpw::fuzz::PutFile(storage, journal::format::SegmentFileName(1), bytes.first(split));
    const std::span<const uint8_t> second = bytes.subspan(split);
    tpw::fuzz::PutFile(storage, journal::format::SegmentFileName(SecondSegmentSequence(second)),
                       second);
  } else {
    tpw::fuzz::PutFile(storage, journal::format::SegmentFileName(1), bytes);
  }

  const auto verified = journal::VerifyJournal(storage);
  ReadAll(storage, verified.ok() ? &verified.value().stats : nullptr);

  auto writer = journal::JournalWriter::Open(storage, journal::JournalOptions{});
  if (verified.ok()) FUZZ_CHECK(writer.ok());
  if (!writer.ok()) return 0;
  const journal::JournalStats recovered = writer.value()->stats();
  writer.value().reset();
  if (verified.ok()) {
    FUZZ_CHECK(recovered.last_sequence == verified.value().stats.last_sequence);
    FUZZ_CHECK(recovered.head_hash == verified.value().stats.head_hash);
    FUZZ_CHECK(recovered.records == verified.value().stats.records);
  }
  const auto after = journal::VerifyJournal(storage);
  FUZZ_CHECK(after.ok());
  FUZZ_CHECK(after.value().stats.torn_tail_bytes == 0);
  FUZZ_CHECK(after.value().stats.last_sequence == recovered.last_sequence);
  FUZZ_CHECK(after.value().stats.head_hash == recovered.head_hash);
  ReadAll(storage, &after.value().stats);
  return 0;
}
