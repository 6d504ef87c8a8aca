// The risk state decoder (RiskEngine::LoadState: velocity tables and list contents) against
// fixed rules with one feature of each kind. Beyond "no crash": a failed load changes nothing
// (the engine still saves its previous state); a loaded state saves to bytes that load again
// and save identically; deciding events on a loaded state works.
#include <vector>

#include "fuzz_check.h"
#include "risk/risk.h"
#include "risk_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tpw;
  const std::shared_ptr<const risk::RuleSet> rules = fuzz::RiskStateRules();
  FUZZ_CHECK(rules != nullptr);
  risk::RiskEngine engine(rules, risk::VelocityOptions{.keys_max = 64, .hash_seed = 1});
  const std::vector<uint8_t> before = engine.SaveState();
  if (!engine.LoadState(fuzz::AsSpan(data, size)).ok()) {
    FUZZ_CHECK(engine.SaveState() == before);
    return 0;
  }
  const std::vector<uint8_t> saved = engine.SaveState();
  risk::RiskEngine again(rules, risk::VelocityOptions{.keys_max = 64, .hash_seed = 2});
  FUZZ_CHECK(again.LoadState(saved).ok());
  FUZZ_CHECK(again.SaveState() == saved);
  for (uint8_t i = 0; i < 8; ++i) {
    const risk::Event event = fuzz::FuzzEvent(static_cast<uint8_t>(i * 29), i);
    const Timestamp now{uint64_t{i} * 60'000'000'000};
    FUZZ_CHECK(engine.Decide(event, now).decision == again.Decide(event, now).decision);
  }
  FUZZ_CHECK(engine.SaveState() == again.SaveState());
  return 0;
}
