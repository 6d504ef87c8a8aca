// Snapshot state sections (ledger/state_io.h): Ledger::LoadState then JournalStore::LoadState on
// any bytes, as the engine loads a snapshot body. A snapshot body is checksummed, but it is
// parsed before the checksum is compared (one pass), so hostile bytes do reach these functions:
// they must reject short or inconsistent data without crashing or allocating beyond the input.
// State that loads must save to as many bytes as it was loaded from (the sections are raw arrays;
// loading resets a few per-batch fields, so the bytes themselves may differ), and loading that
// saved copy must succeed, consume all of it and save exactly the same bytes again.
#include <algorithm>

#include "fuzz_check.h"
#include "state_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tpw::fuzz::EngineState;
  const std::span<const uint8_t> input(data, size);
  tpw::fuzz::SpanSource source(input);
  auto state = std::make_unique<EngineState>();
  if (!state->Load(source)) return 0;

  tpw::fuzz::VectorSink saved;
  state->Save(saved);
  FUZZ_CHECK(saved.bytes().size() == source.offset());
  state.reset();
  auto reloaded = std::make_unique<EngineState>();
  tpw::fuzz::SpanSource again(saved.bytes());
  FUZZ_CHECK(reloaded->Load(again));
  FUZZ_CHECK(again.remaining() == 0);
  tpw::fuzz::VectorSink saved_again;
  reloaded->Save(saved_again);
  FUZZ_CHECK(saved_again.bytes() == saved.bytes());
  return 0;
}
