// Shared by the risk fuzz targets and seed_corpus.cc: the rules the state decoder is fuzzed
// against, and events built from fuzz bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "risk/risk.h"

namespace tpw::fuzz {

// One feature of each kind, and a list, so a state can hold every table and list layout.
inline constexpr const char* kRiskStateRules = R"(
version = "fuzz-1"
[thresholds]
step_up = 30
review = 60
decline = 90
[lists.blocked_devices]
kind = "device"
role = "deny"
items = ["1"]
[lists.watched_countries]
kind = "country"
role = "watch"
items = ["RU"]
[[rule]]
name = "blocked"
condition = "device in blocked_devices or country in watched_countries"
action = "block"
[[rule]]
name = "burst"
condition = "count(account, 1h) >= 3"
weight = 30
[[rule]]
name = "spend"
condition = "sum(account, 24h) + amount > 500.00 EUR"
weight = 40
[[rule]]
name = "hops"
condition = "distinct(merchant, device, 10m) >= 3"
weight = 40
)";

inline std::shared_ptr<const risk::RuleSet> RiskStateRules() {
  static const std::shared_ptr<const risk::RuleSet> rules =
      risk::RuleSet::Compile(kRiskStateRules).rules;
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
