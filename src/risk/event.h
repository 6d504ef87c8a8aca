// The input and output of one risk decision: a payment event and the decision with its reasons.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/amount.h"
#include "common/ids.h"
#include "common/int128.h"

namespace tpw::risk {

enum class Channel : uint8_t { online = 0, offline = 1 };
// Customer verification methods, ordered: none < pin < strong (so `cvm_performed < strong`).
enum class Cvm : uint8_t { none = 0, pin = 1, strong = 2 };
enum class Decision : uint8_t { approve = 0, step_up = 1, review = 2, decline = 3 };

std::string_view ChannelName(Channel channel);
std::string_view CvmName(Cvm cvm);
std::string_view DecisionName(Decision decision);
std::optional<Channel> ParseChannel(std::string_view text);
std::optional<Cvm> ParseCvm(std::string_view text);

// A country as its two upper-case ISO 3166 letters packed into 16 bits ("FR" = 'F' << 8 | 'R').
std::optional<uint16_t> ParseCountry(std::string_view text);
std::string CountryText(uint16_t country);
// An IP address as 128 bits: IPv6 as is, IPv4 as the IPv4-mapped IPv6 address (::ffff:a.b.c.d).
std::optional<u128> ParseIp(std::string_view text);
std::string IpText(u128 ip);

// One payment as the risk engine sees it. Ids are the ledger's 128-bit ids; 0 means "none" (a
// payment without a terminal). The caller fills every field it knows; nothing here is trusted
// beyond its type.
struct Event {
  Amount amount;
  uint32_t asset = 0;  // ledger number of the asset (AssetTable::Default: USD 1, EUR 2, ...)
  u128 account = 0;
  u128 device = 0;
  u128 merchant = 0;
  u128 terminal = 0;
  uint16_t merchant_category = 0;  // ISO 18245 MCC
  Channel channel = Channel::online;
  uint16_t country = 0;             // ParseCountry
  u128 ip = 0;                      // ParseIp
  uint64_t device_age_seconds = 0;  // since the device was enrolled
  Cvm cvm_performed = Cvm::none;
};

// What Evaluate/Decide return. `matched_rules` holds the names of every weight rule that matched,
// in file order, then the action rule that decided (if one did).
struct RiskDecision {
  Decision decision = Decision::approve;
  Cvm required_cvm = Cvm::none;  // none unless decision == step_up
  int64_t score = 0;
  std::vector<std::string_view> matched_rules;  // views into the RuleSet: valid while it lives
  std::string_view decided_by;                  // the action rule, or "" when thresholds decided
  std::string_view rules_version;
};

}  // namespace tpw::risk
