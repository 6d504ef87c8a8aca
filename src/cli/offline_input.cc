#include "cli/offline_input.h"

#include <array>
#include <utility>

#include "cli/offline_values.h"

namespace tpw::cli {
namespace {

// Options whose JSON field is not the option's own name.
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kJsonFieldOfOption = {{
    {"--device", "device_id"},
    {"--user-account", "user_account_id"},
    {"--reserve-account", "reserve_account_id"},
    {"--terminal", "terminal_id"},
    {"--merchant", "merchant_id"},
    {"--settlement-account", "settlement_account_id"},
}};

// A money amount of `ledger` that must be at least one minor unit.
Amount PositiveAmount(FirstError& errors, const std::string& field, const std::string& text,
                      uint32_t ledger, const AssetTable& assets) {
  const Amount amount = errors.Take(ParseAmountText(field, text, ledger, false, assets));
  if (!errors.failed() && amount.is_zero()) errors.Fail(field + " must be more than zero");
  return amount;
}

}  // namespace

std::string InputName(InputNaming naming, std::string_view option) {
  if (naming == InputNaming::cli_option) return std::string(option);
  for (const auto& [cli, json] : kJsonFieldOfOption) {
    if (cli == option) return std::string(json);
  }
  std::string name(option.starts_with("--") ? option.substr(2) : option);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

InputResult<engine::OfflineCommand> EnrollCommandOf(const EnrollText& o, const AssetTable& assets,
                                                    InputNaming naming) {
  const auto name = [naming](std::string_view option) { return InputName(naming, option); };
  FirstError errors;
  engine::OfflineCommand c;
  c.kind = engine::OfflineCommandKind::enroll_device;
  c.device_id = errors.Take(ParseIdText(name("--device"), o.device));
  c.public_key = errors.Take(ParsePublicKeyText(name("--public-key"), o.public_key));
  c.user_account = AccountId(errors.Take(ParseIdText(name("--user-account"), o.user_account)));
  c.reserve_account =
      AccountId(errors.Take(ParseIdText(name("--reserve-account"), o.reserve_account)));
  c.asset = errors.Take(ParseLedgerText(o.ledger, assets));
  if (errors.failed()) return Err{errors.error()};
  c.allowance = PositiveAmount(errors, name("--allowance"), o.allowance, c.asset, assets);
  // Omitted limits stay 0: the engine fills them from the risk rules' [offline] section, or
  // refuses the enrollment (invalid_limits) when the rules have none for this asset.
  if (!o.per_payment_max.empty()) {
    c.per_payment_max =
        PositiveAmount(errors, name("--per-payment-max"), o.per_payment_max, c.asset, assets);
  }
  if (!o.payments_max.empty()) {
    c.payment_count_max = static_cast<uint32_t>(
        errors.Take(ParseUnsignedText(name("--payments-max"), o.payments_max, UINT32_MAX)));
    if (!errors.failed() && c.payment_count_max == 0) {
      errors.Fail(name("--payments-max") + " must be at least 1");
    }
  }
  if (!o.cvm_threshold.empty()) {
    c.cvm_threshold = errors.Take(
        ParseAmountText(name("--cvm-threshold"), o.cvm_threshold, c.asset, false, assets));
  }
  c.valid_for_ms = errors.Take(ParseDurationText(name("--valid-for"), o.valid_for));
  if (errors.failed()) return Err{errors.error()};
  if (c.device_id == 0)
    return InputFail(name("--device") + " 0 is reserved; device ids start at 1");
  if (!c.per_payment_max.is_zero() && c.allowance < c.per_payment_max) {
    return InputFail(name("--allowance") + " must be at least " + name("--per-payment-max") +
                     " (one payment must fit)");
  }
  if (c.reserve_account == c.user_account) {
    return InputFail(name("--reserve-account") + " must be a new account of its own, not " +
                     name("--user-account"));
  }
  return c;
}

InputResult<engine::OfflineCommand> ApplySyncLimits(const SyncLimitsText& o,
                                                    engine::OfflineCommand c,
                                                    const AssetTable& assets, InputNaming naming) {
  const auto name = [naming](std::string_view option) { return InputName(naming, option); };
  FirstError errors;
  if (!o.allowance.empty()) {
    c.allowance = PositiveAmount(errors, name("--allowance"), o.allowance, c.asset, assets);
  }
  if (!o.per_payment_max.empty()) {
    c.per_payment_max =
        PositiveAmount(errors, name("--per-payment-max"), o.per_payment_max, c.asset, assets);
  }
  if (!o.payments_max.empty()) {
    c.payment_count_max = static_cast<uint32_t>(
        errors.Take(ParseUnsignedText(name("--payments-max"), o.payments_max, UINT32_MAX)));
    if (!errors.failed() && c.payment_count_max == 0) {
      errors.Fail(name("--payments-max") + " must be at least 1");
    }
  }
  if (o.cvm_threshold == kNoCvmThreshold) {
    c.remove_cvm_threshold = true;
  } else if (!o.cvm_threshold.empty()) {
    c.cvm_threshold = errors.Take(
        ParseAmountText(name("--cvm-threshold"), o.cvm_threshold, c.asset, false, assets));
  }
  if (!o.valid_for.empty()) {
    c.valid_for_ms = errors.Take(ParseDurationText(name("--valid-for"), o.valid_for));
  }
  if (errors.failed()) return Err{errors.error()};
  return c;
}

InputResult<engine::OfflineCommand> TerminalCommandOf(const TerminalText& o, InputNaming naming) {
  const auto name = [naming](std::string_view option) { return InputName(naming, option); };
  FirstError errors;
  engine::OfflineCommand c;
  c.kind = engine::OfflineCommandKind::register_terminal;
  c.terminal_id = errors.Take(ParseIdText(name("--terminal"), o.terminal));
  c.merchant_id = errors.Take(ParseIdText(name("--merchant"), o.merchant));
  c.settlement_account =
      AccountId(errors.Take(ParseIdText(name("--settlement-account"), o.settlement_account)));
  c.public_key = errors.Take(ParsePublicKeyText(name("--public-key"), o.public_key));
  if (!errors.failed() && c.terminal_id == 0) {
    errors.Fail(name("--terminal") + " 0 is reserved; ids start at 1");
  }
  if (errors.failed()) return Err{errors.error()};
  return c;
}

}  // namespace tpw::cli
