#include "payments/checks.h"

#include <algorithm>

#include "payments/limits.h"

namespace tpw::payments {
namespace {

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// The shares of a payment, the platform fee included when it has an account.
template <typename Visit>
void ForEachShare(const std::vector<Split>& splits, const Split& fee, Visit visit) {
  for (const Split& split : splits) visit(split);
  if (!fee.account.is_zero()) visit(fee);
}

}  // namespace

bool IsToken(std::string_view text, size_t max_length) {
  return !text.empty() && text.size() <= max_length &&
         std::all_of(text.begin(), text.end(), IsTokenChar);
}

Refusal CheckToken(std::string_view text, size_t max_length, std::string param) {
  if (IsToken(text, max_length)) return std::nullopt;
  return Refuse(PaymentError::invalid_request, std::move(param),
                "must be 1.." + std::to_string(max_length) +
                    " characters of letters, digits, '_', '-' or '.'");
}

Refusal CheckAsset(const State& state, uint32_t asset, std::string param) {
  if (asset != 0 && state.assets.FindByLedger(asset) != nullptr) return std::nullopt;
  return Refuse(PaymentError::invalid_request, std::move(param),
                "asset " + std::to_string(asset) + " is not in the asset table");
}

Refusal CheckAccount(const LedgerPort& ledger, AccountId account, uint32_t asset,
                     std::string param) {
  if (account.is_zero()) {
    return Refuse(PaymentError::invalid_request, std::move(param), "an account id is required");
  }
  const std::optional<ledger::Account> found = ledger.LookupAccount(account);
  if (!found) {
    return Refuse(PaymentError::account_not_found, std::move(param),
                  "no ledger account " + FormatId(account));
  }
  if ((found->flags & ledger::account_flags::kClosed) != 0) {
    return Refuse(PaymentError::account_not_found, std::move(param),
                  "ledger account " + FormatId(account) + " is closed");
  }
  if (found->ledger != asset) {
    return Refuse(PaymentError::account_asset_mismatch, std::move(param),
                  "account " + FormatId(account) + " holds asset " + std::to_string(found->ledger) +
                      ", not " + std::to_string(asset));
  }
  return std::nullopt;
}

Refusal CheckMetadata(const Metadata& metadata, Metadata& sorted) {
  if (metadata.size() > kMetadataKeysMax) {
    return Refuse(PaymentError::invalid_request, "metadata",
                  "at most " + std::to_string(kMetadataKeysMax) + " keys");
  }
  for (const auto& [key, value] : metadata) {
    if (key.empty() || key.size() > kMetadataKeyLengthMax) {
      return Refuse(PaymentError::invalid_request, "metadata",
                    "keys are 1.." + std::to_string(kMetadataKeyLengthMax) + " characters");
    }
    if (value.size() > kMetadataValueLengthMax) {
      return Refuse(
          PaymentError::invalid_request, "metadata." + key,
          "values are at most " + std::to_string(kMetadataValueLengthMax) + " characters");
    }
  }
  sorted = metadata;
  std::sort(sorted.begin(), sorted.end());
  const auto repeated =
      std::adjacent_find(sorted.begin(), sorted.end(),
                         [](const auto& a, const auto& b) { return a.first == b.first; });
  if (repeated != sorted.end()) {
    return Refuse(PaymentError::invalid_request, "metadata." + repeated->first,
                  "the key appears more than once");
  }
  return std::nullopt;
}

Refusal CheckShare(const LedgerPort& ledger, const Split& share, uint32_t asset, AccountId merchant,
                   std::string param) {
  if (share.amount.is_zero() == (share.basis_points == 0)) {
    return Refuse(PaymentError::invalid_request, std::move(param),
                  "give exactly one of amount and basis_points");
  }
  if (share.basis_points > kBasisPointsWhole) {
    return Refuse(PaymentError::invalid_request, param + ".basis_points",
                  "basis points are 1..10000 (10000 = 100%)");
  }
  if (share.account == merchant) {
    return Refuse(PaymentError::invalid_request, param + ".account",
                  "the merchant keeps the remainder; a share must go to another account");
  }
  return CheckAccount(ledger, share.account, asset, param + ".account");
}

Refusal CheckSharesFit(const std::vector<Split>& splits, const Split& fee, Amount amount) {
  Amount fixed;
  uint32_t basis_points = 0;
  bool overflow = false;
  ForEachShare(splits, fee, [&](const Split& share) {
    const auto sum = fixed.CheckedAdd(share.amount);
    overflow = overflow || !sum;
    fixed = sum.value_or(Amount::Max());
    basis_points += share.basis_points;  // <= 17 x 10000: no overflow
  });
  if (overflow || fixed > amount || basis_points > kBasisPointsWhole) {
    return Refuse(PaymentError::splits_exceed_amount, "splits",
                  "fixed shares total more than the amount, or basis points more than 10000");
  }
  return std::nullopt;
}

Reply Refuse(PaymentError error, std::string param, std::string detail) {
  Reply reply;
  reply.error = error;
  reply.param = std::move(param);
  reply.detail = std::move(detail);
  return reply;
}

}  // namespace tpw::payments
