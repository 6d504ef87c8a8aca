// One line of a JSON-lines batch file (cli/batch_input.h): byte 0 picks account (even) or
// transfer (odd), the rest is the line. A line that parses is written again in the plainest
// form the format allows — ids and 64-bit values as decimal strings, ledger as a number, flags
// as their names, amounts as minor units — and that line must parse to the same event.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstring>
#include <string>

#include "cli/batch_input.h"
#include "common/ids.h"
#include "fuzz_check.h"

namespace {

using namespace tpw;
using namespace tpw::cli;
namespace bj = boost::json;

const AssetTable& Assets() {
  static const AssetTable assets = AssetTable::Default();
  return assets;
}

bj::array Names(const std::vector<std::string>& names) {
  bj::array out;
  for (const std::string& name : names) out.emplace_back(name);
  return out;
}

void Account(std::string_view line) {
  const auto parsed = ParseAccountLine(line, Assets());
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return;
  }
  const ledger::Account& a = parsed.value();
  bj::object o;
  o["id"] = FormatId(a.id);
  o["ledger"] = a.ledger;
  o["code"] = a.code;
  o["flags"] = Names(AccountFlagNames(a.flags));
  o["overdraft_limit_minor"] = FormatId(a.overdraft_limit.minor());
  o["user_data_128"] = FormatId(a.user_data_128);
  o["user_data_64"] = std::to_string(a.user_data_64);
  o["user_data_32"] = a.user_data_32;
  const auto again = ParseAccountLine(bj::serialize(o), Assets());
  FUZZ_CHECK(again.ok());
  const ledger::Account& b = again.value();
  FUZZ_CHECK(b.id == a.id && b.ledger == a.ledger && b.code == a.code && b.flags == a.flags &&
             b.overdraft_limit == a.overdraft_limit && b.user_data_128 == a.user_data_128 &&
             b.user_data_64 == a.user_data_64 && b.user_data_32 == a.user_data_32);
  FUZZ_CHECK(b.timestamp.ns == 0 && b.debits_pending.is_zero() && b.credits_posted.is_zero());
}

void Transfer(std::string_view line) {
  const auto parsed = ParseTransferLine(line, Assets());
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return;
  }
  const TransferDraft& draft = parsed.value();
  const auto resolved = ResolveTransferAmount(draft, draft.transfer.ledger, Assets());
  if (!resolved.ok()) return;
  const ledger::Transfer& t = resolved.value();
  bj::object o;
  o["id"] = FormatId(t.id);
  o["debit_account_id"] = FormatId(t.debit_account_id);
  o["credit_account_id"] = FormatId(t.credit_account_id);
  if (draft.amount.has_value()) o["amount_minor"] = FormatId(t.amount.minor());
  o["pending_id"] = FormatId(t.pending_id);
  o["timeout"] = t.timeout;
  o["ledger"] = t.ledger;
  o["code"] = t.code;
  o["flags"] = Names(TransferFlagNames(t.flags));
  o["user_data_128"] = FormatId(t.user_data_128);
  o["user_data_64"] = std::to_string(t.user_data_64);
  o["user_data_32"] = t.user_data_32;
  const auto again = ParseTransferLine(bj::serialize(o), Assets());
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value().amount.has_value() == draft.amount.has_value());
  const auto u = ResolveTransferAmount(again.value(), t.ledger, Assets());
  FUZZ_CHECK(u.ok());
  FUZZ_CHECK(std::memcmp(&u.value(), &t, sizeof t) == 0);  // no padding (facts.cc asserts it)
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size - 1 > kBatchLineBytesMax) return 0;
  const std::string_view line = tpw::fuzz::AsText(std::span(data + 1, size - 1));
  if (data[0] % 2 == 0) {
    Account(line);
  } else {
    Transfer(line);
  }
  return 0;
}
