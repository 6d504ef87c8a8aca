// The issuer commands' input as text → engine commands, shared by the CLI (`device enroll`,
// `device sync`, `terminal register`) and the HTTP API (POST /v1/offline/...): one set of checks
// whichever way the values arrive. Errors name the input as the caller knows it: the CLI's
// option ("--per-payment-max") or the API's JSON field ("per_payment_max").
#pragma once

#include <string>
#include <string_view>

#include "cli/values.h"
#include "common/asset.h"
#include "engine/offline.h"

namespace tpw::cli {

// How errors name an input given by its CLI option name.
enum class InputNaming : uint8_t { cli_option, json_field };
// "--device" → "--device" or "device_id"; "--per-payment-max" → "per_payment_max".
std::string InputName(InputNaming naming, std::string_view option);

inline constexpr std::string_view kValidForDefault = "24h";

struct EnrollText {
  std::string device;
  std::string public_key;
  std::string user_account;
  std::string reserve_account;
  std::string ledger;
  std::string allowance;
  std::string per_payment_max;
  std::string payments_max;
  std::string cvm_threshold;  // "" = no PIN threshold
  std::string valid_for{kValidForDefault};
};
// An enroll_device command; the limits checked as the engine would (and more precisely).
InputResult<engine::OfflineCommand> EnrollCommandOf(const EnrollText& text,
                                                    const AssetTable& assets, InputNaming naming);

// A sync's cvm_threshold text that removes the threshold (no PIN at any amount).
inline constexpr std::string_view kNoCvmThreshold = "none";

// New limits at a sync; "" = unchanged.
struct SyncLimitsText {
  std::string allowance;
  std::string per_payment_max;
  std::string payments_max;
  std::string cvm_threshold;
  std::string valid_for;
};
// `c` (a sync_device command whose asset is the device's) with the limits given.
InputResult<engine::OfflineCommand> ApplySyncLimits(const SyncLimitsText& text,
                                                    engine::OfflineCommand c,
                                                    const AssetTable& assets, InputNaming naming);

struct TerminalText {
  std::string terminal;
  std::string merchant;
  std::string settlement_account;
  std::string public_key;
};
InputResult<engine::OfflineCommand> TerminalCommandOf(const TerminalText& text, InputNaming naming);

}  // namespace tpw::cli
