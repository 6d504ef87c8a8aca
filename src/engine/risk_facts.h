// Risk facts (record types 8, 9, 10): what the engine journals when the risk state changes.
// Byte layouts: docs/journal-format.md, "Risk facts". Decoding is strict (version, reserved
// bytes, enum ranges, exact length) and never trusts a length.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/codec.h"
#include "risk/event.h"

namespace tpw::engine {

inline constexpr uint8_t kRiskFactVersion = 1;
// Bytes of a list name or item in a list fact (names are at most 64, values far less).
inline constexpr uint32_t kRiskListTextBytesMax = 256;

struct RiskListFact {
  bool add = true;  // false: remove
  std::string list;
  std::string value;
};

struct RiskDecisionFact {
  uint64_t time_ns = 0;  // the engine's clock at the step that decided
  risk::Decision decision = risk::Decision::approve;
  int64_t score = 0;
  risk::Event event;
};

std::vector<uint8_t> EncodeRiskRulesFact(std::string_view text);
std::optional<std::string> DecodeRiskRulesFact(std::span<const uint8_t> bytes);
std::vector<uint8_t> EncodeRiskListFact(const RiskListFact& fact);
std::optional<RiskListFact> DecodeRiskListFact(std::span<const uint8_t> bytes);
std::vector<uint8_t> EncodeRiskDecisionFact(const RiskDecisionFact& fact);
std::optional<RiskDecisionFact> DecodeRiskDecisionFact(std::span<const uint8_t> bytes);

// The event's 120 bytes (shared by the decision fact and the snapshot).
void EncodeRiskEvent(const risk::Event& event, BinaryWriter& w);
std::optional<risk::Event> DecodeRiskEvent(BinaryReader& r);

}  // namespace tpw::engine
