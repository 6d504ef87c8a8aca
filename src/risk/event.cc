#include "risk/event.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace tpw::risk {

std::string_view ChannelName(Channel channel) {
  return channel == Channel::offline ? "offline" : "online";
}

std::string_view CvmName(Cvm cvm) {
  static constexpr std::array<std::string_view, 3> kNames = {"none", "pin", "strong"};
  return kNames[static_cast<size_t>(cvm)];
}

std::string_view DecisionName(Decision decision) {
  static constexpr std::array<std::string_view, 4> kNames = {"approve", "step_up", "review",
                                                             "decline"};
  return kNames[static_cast<size_t>(decision)];
}

std::optional<Channel> ParseChannel(std::string_view text) {
  if (text == "online") return Channel::online;
  if (text == "offline") return Channel::offline;
  return std::nullopt;
}

std::optional<Cvm> ParseCvm(std::string_view text) {
  for (Cvm cvm : {Cvm::none, Cvm::pin, Cvm::strong}) {
    if (CvmName(cvm) == text) return cvm;
  }
  return std::nullopt;
}

std::optional<uint16_t> ParseCountry(std::string_view text) {
  if (text.size() != 2) return std::nullopt;
  for (char c : text) {
    if (c < 'A' || c > 'Z') return std::nullopt;
  }
  return static_cast<uint16_t>((static_cast<unsigned>(text[0]) << 8) |
                               static_cast<unsigned>(text[1]));
}

std::string CountryText(uint16_t country) {
  if (country == 0) return "";
  return std::string{static_cast<char>(country >> 8), static_cast<char>(country & 0xff)};
}

std::optional<u128> ParseIp(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  const std::string copy(text);                               // inet_pton needs a C string
  std::array<uint8_t, 16> bytes{};
  if (inet_pton(AF_INET, copy.c_str(), bytes.data() + 12) == 1) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
  } else if (inet_pton(AF_INET6, copy.c_str(), bytes.data()) != 1) {
    return std::nullopt;
  }
  u128 ip = 0;
  for (uint8_t b : bytes) ip = (ip << 8) | b;
  return ip;
}

std::string IpText(u128 ip) {
  std::array<uint8_t, 16> bytes{};
  for (size_t i = 0; i < 16; ++i) bytes[15 - i] = static_cast<uint8_t>(ip >> (8 * i));
  std::array<char, 64> text{};
  const bool v4 = (ip >> 32) == 0xffff;
  if (v4) {
    inet_ntop(AF_INET, bytes.data() + 12, text.data(), text.size());
  } else {
    inet_ntop(AF_INET6, bytes.data(), text.data(), text.size());
  }
  return std::string(text.data());
}

}  // namespace tpw::risk
