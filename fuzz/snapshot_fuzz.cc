// Snapshot files (engine/snapshot.h) on a simulated directory, read the way engine start-up reads
// them: ListSnapshots, ReadSnapshotHeader, CheckSnapshot, LoadSnapshot into a fresh ledger and
// store. Byte 0 holds flags, the rest is the file. Header and body carry crc32c checksums that
// random bytes almost never match, so to reach the code behind them the target repairs them on
// request: flag 1 sets the header's body size and body checksum to fit the file, flag 2 sets the
// header checksum. Properties:
//   - nothing crashes; a rejected file comes with a reason;
//   - a file LoadSnapshot accepts also passes CheckSnapshot, and its state saves to as many
//     bytes as its body;
//   - a file CheckSnapshot accepts is canonical: WriteSnapshot with its header and body writes
//     exactly the same file.
#include <algorithm>
#include <string>

#include "engine/snapshot.h"
#include "fuzz_check.h"
#include "journal/crc32c.h"
#include "state_io.h"
#include "storage_files.h"

namespace {

using tpw::engine::kSnapshotHeaderBytes;

void PutU64(std::vector<uint8_t>& bytes, size_t offset, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) bytes[offset + i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutU32(std::vector<uint8_t>& bytes, size_t offset, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) bytes[offset + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Offsets from the layout in engine/snapshot.h.
void RepairChecksums(uint8_t flags, std::vector<uint8_t>& file) {
  if (file.size() < kSnapshotHeaderBytes) return;
  if (flags & 1) {
    const std::span<const uint8_t> body = std::span(file).subspan(kSnapshotHeaderBytes);
    PutU64(file, 56, body.size());
    PutU32(file, 64, tpw::journal::Crc32c(body));
  }
  if (flags & 2) PutU32(file, 92, tpw::journal::Crc32c(std::span(file).first(92)));
}

void CheckRewriteIsIdentical(const tpw::engine::SnapshotHeader& header,
                             const std::vector<uint8_t>& file) {
  tpw::SeededRandom random(2);
  tpw::storage::SimulatedStorage storage(random);
  const std::span<const uint8_t> body = std::span(file).subspan(kSnapshotHeaderBytes);
  auto written = tpw::engine::WriteSnapshot(
      storage, header, [&](tpw::ledger::StateSink& sink) { sink.Write(body); });
  FUZZ_CHECK(written.ok() && written.value() == file.size());
  FUZZ_CHECK(tpw::fuzz::GetFile(storage, tpw::engine::SnapshotFileName(header.sequence)) == file);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::vector<uint8_t> file(data + 1, data + size);
  RepairChecksums(data[0], file);

  tpw::SeededRandom random(1);
  tpw::storage::SimulatedStorage storage(random);
  const std::string name = tpw::engine::SnapshotFileName(1);
  tpw::fuzz::PutFile(storage, name, file);
  auto names = tpw::engine::ListSnapshots(storage);
  FUZZ_CHECK(names.ok() && names.value().size() == 1 && names.value()[0] == name);

  auto header = tpw::engine::ReadSnapshotHeader(storage, name);
  auto checked = tpw::engine::CheckSnapshot(storage, name);
  if (!header.ok()) {
    FUZZ_CHECK(!header.error().empty() && !checked.ok());
    return 0;
  }
  FUZZ_CHECK(header.value().body_bytes == file.size() - kSnapshotHeaderBytes);
  if (checked.ok()) CheckRewriteIsIdentical(checked.value(), file);

  auto state = std::make_unique<tpw::fuzz::EngineState>();
  std::string why;
  const bool loaded = tpw::engine::LoadSnapshot(
      storage, name, header.value(),
      [&](tpw::ledger::StateSource& source) { return state->Load(source); }, why);
  if (!loaded) {
    FUZZ_CHECK(!why.empty());
    return 0;
  }
  FUZZ_CHECK(checked.ok());
  tpw::fuzz::VectorSink saved;
  state->Save(saved);
  FUZZ_CHECK(saved.bytes().size() == header.value().body_bytes);
  return 0;
}
