#include "cli/query.h"

#include <algorithm>

#include "common/limits.h"

namespace tpw::cli {
namespace {

AccountQuery PastTheEnd(const ledger::AccountFilter& f) { return AccountQuery{f, true}; }

// The cursor is the timestamp of the last row seen; timestamps are unique, so the next page
// starts just past it (before it when reversed).
InputResult<AccountQuery> ApplyCursor(ledger::AccountFilter f, const AccountQueryText& o,
                                      const std::string& after_name) {
  InputResult<Timestamp> after = ParseTimeText(after_name, o.after);
  if (!after.ok()) return Err{after.error()};
  if (!o.reverse) {
    if (after.value().ns == UINT64_MAX) return PastTheEnd(f);
    f.timestamp_min = std::max(f.timestamp_min, Timestamp{after.value().ns + 1});
  } else {
    if (after.value().ns <= 1) return PastTheEnd(f);
    const Timestamp before{after.value().ns - 1};
    f.timestamp_max = f.timestamp_max.ns == 0 ? before : std::min(f.timestamp_max, before);
  }
  if (f.timestamp_max.ns != 0 && f.timestamp_min > f.timestamp_max) return PastTheEnd(f);
  return AccountQuery{f};
}

}  // namespace

InputResult<AccountQuery> ParseAccountQuery(const AccountQueryText& o, std::string_view prefix) {
  const std::string p(prefix);
  ledger::AccountFilter f;
  FirstError errors;
  f.account_id = errors.Take(ParseIdTextAs<AccountIdTag>("account id", o.account));
  if (!o.from.empty()) f.timestamp_min = errors.Take(ParseTimeText(p + "from", o.from));
  if (!o.to.empty()) f.timestamp_max = errors.Take(ParseTimeText(p + "to", o.to));
  if (!o.code.empty()) {
    f.code = static_cast<uint16_t>(errors.Take(ParseUnsignedText(p + "code", o.code, UINT16_MAX)));
  }
  f.limit = kQueryLimitDefault;
  if (!o.limit.empty()) {
    InputResult<uint64_t> limit = ParseUnsignedText(p + "limit", o.limit, kQueryLimitMax);
    if (!limit.ok() || limit.value() == 0) {
      errors.Fail(p + "limit must be 1 to " + std::to_string(kQueryLimitMax));
    } else {
      f.limit = static_cast<uint32_t>(limit.value());
    }
  }
  if (errors.failed()) return Err{errors.error()};
  if (f.timestamp_min.ns != 0 && f.timestamp_max.ns != 0 && f.timestamp_min > f.timestamp_max) {
    return InputFail(p + "from is later than " + p + "to");
  }
  const bool both = o.debits == o.credits;
  f.flags = (both || o.debits ? ledger::filter_flags::kDebits : 0u) |
            (both || o.credits ? ledger::filter_flags::kCredits : 0u) |
            (o.reverse ? ledger::filter_flags::kReversed : 0u);
  if (o.after.empty()) return AccountQuery{f};
  return ApplyCursor(f, o, p + "after");
}

std::optional<Timestamp> NextCursor(size_t rows, uint32_t limit, Timestamp last) {
  if (rows == 0 || rows < limit) return std::nullopt;
  return last;
}

}  // namespace tpw::cli
