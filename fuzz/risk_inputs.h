// Shared by the risk fuzz targets and seed_corpus.cc: the rules the state decoder is fuzzed
// against (the tests' velocity rules: one feature of each kind, a list), and events built from
// fuzz bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "risk/risk.h"
#include "risk/test_rules.h"

namespace tpw::fuzz {

inline std::shared_ptr<const risk::RuleSet> RiskStateRules() {
  static const std::shared_ptr<const risk::RuleSet> rules =
      risk::RuleSet::Compile(risk::test::kVelocityRules).rules;
  return rules;
}

// An event whose keys come from a few small pools picked by `bytes` (so features repeat keys).
inline risk::Event FuzzEvent(uint8_t a, uint8_t b) {
  risk::Event e;
  e.amount = Amount::FromMinor(u128{a} * 997);
  e.asset = 1 + (b & 1);
  e.account = 1 + (a & 7);
  e.device = 1 + (b & 7);
  e.merchant = 1 + ((a >> 3) & 7);
  e.terminal = (b >> 3) & 3;
  e.country = (b & 0x80) != 0 ? 0x5255 : 0x4652;  // RU or FR
  e.channel = (a & 0x40) != 0 ? risk::Channel::offline : risk::Channel::online;
  e.cvm_performed = static_cast<risk::Cvm>(b % 3);
  return e;
}

}  // namespace tpw::fuzz
