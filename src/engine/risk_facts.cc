#include "engine/risk_facts.h"

#include "engine/facts.h"
#include "risk/limits.h"

namespace tpw::engine {
namespace {

void PutHeader(BinaryWriter& w) { PutVersionedHeader(w, kRiskFactVersion); }

bool HeaderOk(BinaryReader& r) { return VersionedHeaderOk(r, kRiskFactVersion); }

}  // namespace

std::vector<uint8_t> EncodeRiskRulesFact(std::string_view text) {
  BinaryWriter w;
  PutHeader(w);
  w.String(text);
  return w.Take();
}

std::optional<std::string> DecodeRiskRulesFact(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  if (!HeaderOk(r)) return std::nullopt;
  std::string text = r.String(static_cast<uint32_t>(risk::kRulesFileBytesMax));
  if (!r.AtEndOk()) return std::nullopt;
  return text;
}

std::vector<uint8_t> EncodeRiskListFact(const RiskListFact& fact) {
  BinaryWriter w;
  PutHeader(w);
  w.U8(fact.add ? 1 : 0);
  w.String(fact.list);
  w.String(fact.value);
  return w.Take();
}

std::optional<RiskListFact> DecodeRiskListFact(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  if (!HeaderOk(r)) return std::nullopt;
  RiskListFact fact;
  const uint8_t add = r.U8();
  fact.list = r.String(kRiskListTextBytesMax);
  fact.value = r.String(kRiskListTextBytesMax);
  if (!r.AtEndOk() || add > 1) return std::nullopt;
  fact.add = add == 1;
  return fact;
}

void EncodeRiskEvent(const risk::Event& e, BinaryWriter& w) {
  w.U128(e.amount.minor());
  w.U128(e.account);
  w.U128(e.device);
  w.U128(e.merchant);
  w.U128(e.terminal);
  w.U128(e.ip);
  w.U64(e.device_age_seconds);
  w.U32(e.asset);
  w.U16(e.merchant_category);
  w.U16(e.country);
  w.U8(static_cast<uint8_t>(e.channel));
  w.U8(static_cast<uint8_t>(e.cvm_performed));
  w.U16(0);
  w.U32(0);
}

std::optional<risk::Event> DecodeRiskEvent(BinaryReader& r) {
  risk::Event e;
  e.amount = Amount::FromMinor(r.U128());
  e.account = r.U128();
  e.device = r.U128();
  e.merchant = r.U128();
  e.terminal = r.U128();
  e.ip = r.U128();
  e.device_age_seconds = r.U64();
  e.asset = r.U32();
  e.merchant_category = r.U16();
  e.country = r.U16();
  const uint8_t channel = r.U8();
  const uint8_t cvm = r.U8();
  const uint16_t reserved16 = r.U16();
  const uint32_t reserved32 = r.U32();
  if (!r.ok() || channel > 1 || cvm > 2 || reserved16 != 0 || reserved32 != 0) return std::nullopt;
  e.channel = static_cast<risk::Channel>(channel);
  e.cvm_performed = static_cast<risk::Cvm>(cvm);
  return e;
}

std::vector<uint8_t> EncodeRiskDecisionFact(const RiskDecisionFact& fact) {
  BinaryWriter w;
  PutHeader(w);
  w.U8(static_cast<uint8_t>(fact.decision));
  w.U8(0);
  w.U16(0);
  w.U64(fact.time_ns);
  w.U64(static_cast<uint64_t>(fact.score));
  EncodeRiskEvent(fact.event, w);
  return w.Take();
}

std::optional<RiskDecisionFact> DecodeRiskDecisionFact(std::span<const uint8_t> bytes) {
  BinaryReader r(bytes);
  if (!HeaderOk(r)) return std::nullopt;
  RiskDecisionFact fact;
  const uint8_t decision = r.U8();
  const uint8_t reserved8 = r.U8();
  const uint16_t reserved16 = r.U16();
  fact.time_ns = r.U64();
  fact.score = static_cast<int64_t>(r.U64());
  std::optional<risk::Event> event = DecodeRiskEvent(r);
  if (!event || !r.AtEndOk() || decision > 3 || reserved8 != 0 || reserved16 != 0) {
    return std::nullopt;
  }
  fact.decision = static_cast<risk::Decision>(decision);
  fact.event = *event;
  return fact;
}

}  // namespace tpw::engine
