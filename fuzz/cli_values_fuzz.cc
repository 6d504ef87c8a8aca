// The CLI's strict value parsers (cli/values.h). Byte 0 picks the parser, the rest is the text.
// What parses must survive a round trip through its printed form: times through FormatTimeUtc,
// ids through their decimal form, flag lists through the flag names, amounts through minor units.
#include <string>

#include "cli/values.h"
#include "common/ids.h"
#include "fuzz_check.h"

namespace {

using namespace tpw;
using namespace tpw::cli;

const AssetTable& Assets() {
  static const AssetTable assets = AssetTable::Default();
  return assets;
}

void Time(std::string_view text) {
  const auto parsed = ParseTimeText("time", text);
  if (!parsed.ok()) return;
  const std::string formatted = FormatTimeUtc(parsed.value());
  const auto again = ParseTimeText("time", formatted);
  FUZZ_CHECK(again.ok() && again.value() == parsed.value());
  FUZZ_CHECK(FormatTimeUtc(again.value()) == formatted);
}

void Ids(std::string_view text) {
  const auto parsed = ParseIdText("id", text);
  if (parsed.ok()) {
    const auto again = ParseIdText("id", FormatId(parsed.value()));
    FUZZ_CHECK(again.ok() && again.value() == parsed.value());
  }
  const auto number = ParseUnsignedText("n", text, UINT32_MAX);
  if (number.ok()) {
    FUZZ_CHECK(number.value() <= UINT32_MAX);
    FUZZ_CHECK(parsed.ok() && parsed.value() == number.value());
  }
}

void Flags(std::string_view text, bool account) {
  const auto list = SplitFlagList(text);
  if (!list.ok()) return;
  const auto bits =
      account ? ParseAccountFlagNames(list.value()) : ParseTransferFlagNames(list.value());
  if (!bits.ok()) return;
  const std::vector<std::string> names =
      account ? AccountFlagNames(bits.value()) : TransferFlagNames(bits.value());
  const auto again = account ? ParseAccountFlagNames(names) : ParseTransferFlagNames(names);
  FUZZ_CHECK(again.ok() && again.value() == bits.value());
}

void Amounts(std::string_view text, uint32_t ledger) {
  const auto ledger_parsed = ParseLedgerText(text, Assets());
  if (ledger_parsed.ok()) FUZZ_CHECK(ledger_parsed.value() != 0);
  const auto amount = ParseAmountText("amount", text, ledger, false, Assets());
  if (!amount.ok()) return;
  const auto minor =
      ParseAmountText("amount", FormatId(amount.value().minor()), ledger, true, Assets());
  FUZZ_CHECK(minor.ok() && minor.value() == amount.value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view text = tpw::fuzz::AsText(std::span(data + 1, size - 1));
  switch (data[0] % 5) {
    case 0:
      Time(text);
      break;
    case 1:
      Ids(text);
      break;
    case 2:
      Flags(text, true);
      break;
    case 3:
      Flags(text, false);
      break;
    default:
      Amounts(text, uint32_t{data[0]} / 5 % 10);
      break;  // ledgers 0..9: USD 1 ... PTS 9
  }
  return 0;
}
