#include "cli/risk_values.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <string_view>

#include "cli/values.h"
#include "common/asset.h"
#include "risk/limits.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

bool MemberText(const bj::object& o, const char* key, std::string& text, std::string& error) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr) return true;
  if (v->is_string()) {
    text = std::string(v->get_string());
  } else if (v->is_uint64() || (v->is_int64() && v->get_int64() >= 0)) {
    text = v->is_uint64() ? std::to_string(v->get_uint64()) : std::to_string(v->get_int64());
  } else {
    error = std::string("'") + key + "' must be a string or a non-negative integer";
    return false;
  }
  return true;
}

bool ParseIdMember(const bj::object& o, const char* key, u128& id, std::string& error) {
  std::string text;
  if (!MemberText(o, key, text, error)) return false;
  if (text.empty()) return true;
  InputResult<u128> parsed = ParseIdText(key, text);
  if (!parsed.ok()) {
    error = parsed.error().message;
    return false;
  }
  id = parsed.value();
  return true;
}

bool ParseEnumMember(const bj::object& o, const char* key, std::string& text, std::string& error) {
  if (!MemberText(o, key, text, error)) return false;
  return true;
}

constexpr std::array<std::string_view, 13> kEventKeys = {
    "amount",       "asset",   "account", "device", "merchant",          "terminal",
    "time",         "channel", "country", "ip",     "merchant_category", "device_age_seconds",
    "cvm_performed"};

bool CheckEventKeys(const bj::object& o, std::string& error) {
  for (const auto& member : o) {
    if (std::find(kEventKeys.begin(), kEventKeys.end(), member.key()) == kEventKeys.end()) {
      error = "unknown field '" + std::string(member.key()) +
              "' (fields: amount, asset, account, device, merchant, terminal, time, channel, "
              "country, ip, merchant_category, device_age_seconds, cvm_performed)";
      return false;
    }
  }
  return true;
}

bool ParseAmountMembers(const bj::object& o, risk::Event& e, std::string& error) {
  std::string amount;
  std::string asset;
  if (!MemberText(o, "amount", amount, error) || !MemberText(o, "asset", asset, error))
    return false;
  if (amount.empty() || asset.empty()) {
    error = "an event needs \"amount\" (decimal text, e.g. \"12.50\") and \"asset\" (e.g. \"EUR\")";
    return false;
  }
  const AssetTable assets = AssetTable::Default();
  const Asset* found = assets.FindByCode(asset);
  if (found == nullptr) {
    error = "unknown asset '" + asset + "' (e.g. USD, EUR, GBP, JPY, BTC, ETH)";
    return false;
  }
  const Result<Amount, AmountError> parsed = assets.Parse(asset, amount);
  if (!parsed.ok()) {
    error = "amount '" + amount + "': " + std::string(AmountErrorMessage(parsed.error()));
    return false;
  }
  e.amount = parsed.value();
  e.asset = found->ledger;
  return true;
}

bool ParseEnumMembers(const bj::object& o, risk::Event& e, std::string& error) {
  std::string channel, country, ip, cvm;
  if (!ParseEnumMember(o, "channel", channel, error) ||
      !ParseEnumMember(o, "country", country, error) || !ParseEnumMember(o, "ip", ip, error) ||
      !ParseEnumMember(o, "cvm_performed", cvm, error)) {
    return false;
  }
  if (!channel.empty() && !risk::ParseChannel(channel)) {
    error = "channel must be \"online\" or \"offline\", not \"" + channel + "\"";
  } else if (!country.empty() && !risk::ParseCountry(country)) {
    error = "country must be two upper-case letters such as \"FR\", not \"" + country + "\"";
  } else if (!ip.empty() && !risk::ParseIp(ip)) {
    error = "ip must be an IPv4 or IPv6 address such as \"203.0.113.7\", not \"" + ip + "\"";
  } else if (!cvm.empty() && !risk::ParseCvm(cvm)) {
    error = "cvm_performed must be \"none\", \"pin\" or \"strong\", not \"" + cvm + "\"";
  }
  if (!error.empty()) return false;
  if (!channel.empty()) e.channel = *risk::ParseChannel(channel);
  if (!country.empty()) e.country = *risk::ParseCountry(country);
  if (!ip.empty()) e.ip = *risk::ParseIp(ip);
  if (!cvm.empty()) e.cvm_performed = *risk::ParseCvm(cvm);
  return true;
}

bool ParseNumberMembers(const bj::object& o, risk::Event& e, Timestamp& time, std::string& error) {
  std::string mcc, age, when;
  if (!MemberText(o, "merchant_category", mcc, error) ||
      !MemberText(o, "device_age_seconds", age, error) || !MemberText(o, "time", when, error)) {
    return false;
  }
  FirstError errors;
  if (!mcc.empty()) {
    e.merchant_category =
        static_cast<uint16_t>(errors.Take(ParseUnsignedText("merchant_category", mcc, 9999)));
  }
  if (!age.empty())
    e.device_age_seconds = errors.Take(ParseUnsignedText("device_age_seconds", age, UINT64_MAX));
  if (!when.empty()) time = errors.Take(ParseTimeText("time", when));
  if (errors.failed()) error = errors.error().message;
  return !errors.failed();
}

}  // namespace

bool RiskEventFromJson(const bj::object& o, risk::Event& event, std::optional<Timestamp>& time,
                       std::string& error) {
  event = risk::Event{};
  Timestamp when{0};
  const bool ok = CheckEventKeys(o, error) && ParseAmountMembers(o, event, error) &&
                  ParseIdMember(o, "account", event.account, error) &&
                  ParseIdMember(o, "device", event.device, error) &&
                  ParseIdMember(o, "merchant", event.merchant, error) &&
                  ParseIdMember(o, "terminal", event.terminal, error) &&
                  ParseEnumMembers(o, event, error) && ParseNumberMembers(o, event, when, error);
  time = ok && o.contains("time") ? std::optional<Timestamp>(when) : std::nullopt;
  return ok;
}

bool ReadTextFile(const std::string& path, size_t bytes_max, std::string& text,
                  std::string& error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = "cannot read " + path + ": check the path and its permissions";
    return false;
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  text = buffer.str();
  if (text.size() > bytes_max) {
    error = path + " is larger than " + std::to_string(bytes_max) + " bytes: make it smaller";
    return false;
  }
  return true;
}

bool ReadRulesFile(const std::string& path, std::string& text, std::string& error) {
  return ReadTextFile(path, risk::kRulesFileBytesMax, text, error);
}

}  // namespace tpw::cli
