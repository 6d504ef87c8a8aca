// Input checks shared by the command handlers (internal header). Each returns nullopt when the
// input is fine, else the refusal to send back (error, the offending param, a specific detail).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "payments/payments.h"
#include "payments/state.h"

namespace tpw::payments {

using Refusal = std::optional<Reply>;

// A tag, scenario or coupon code: 1..max_length of [A-Za-z0-9_.-].
bool IsToken(std::string_view text, size_t max_length);
Refusal CheckToken(std::string_view text, size_t max_length, std::string param);

// The account exists in the ledger, is not closed, and holds `asset`.
Refusal CheckAccount(const LedgerPort& ledger, AccountId account, uint32_t asset,
                     std::string param);
Refusal CheckAsset(const State& state, uint32_t asset, std::string param);

// Metadata within its limits with unique keys; `sorted` gets it sorted by key.
Refusal CheckMetadata(const Metadata& metadata, Metadata& sorted);

// A share (split or platform fee) of a payment in `asset`: exactly one of amount and basis
// points, basis points <= 10000, an existing account of the asset that is not the merchant's.
Refusal CheckShare(const LedgerPort& ledger, const Split& share, uint32_t asset, AccountId merchant,
                   std::string param);

// Fixed shares add up to at most `amount`, basis points to at most 10000.
Refusal CheckSharesFit(const std::vector<Split>& splits, const Split& fee, Amount amount);

}  // namespace tpw::payments
