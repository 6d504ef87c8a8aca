// Assets: each ledger number names one asset (a currency or token) with a fixed decimal scale.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/amount.h"
#include "common/result.h"

namespace tpw {

struct Asset {
  uint32_t ledger = 0;  // the ledger number accounts and transfers of this asset carry
  std::string code;     // "USD"
  uint8_t scale = 0;    // decimal places of one minor unit: USD 2, JPY 0, BTC 8, ETH 18
};

enum class AssetError : uint8_t {
  ledger_must_not_be_zero = 1,
  code_invalid = 2,  // empty, too long, or not A-Z 0-9 _
  scale_too_large = 3,
  ledger_exists = 4,
  code_exists = 5,
  too_many_assets = 6,
};
std::string_view AssetErrorName(AssetError error);

class AssetTable {
 public:
  // The built-in table: USD 2, EUR 2, GBP 2, JPY 0, CHF 2, CNY 2, BTC 8, ETH 18, PTS 0 (points).
  static AssetTable Default();

  Status<AssetError> Add(Asset asset);
  const Asset* FindByCode(std::string_view code) const;
  const Asset* FindByLedger(uint32_t ledger) const;
  const std::vector<Asset>& assets() const { return assets_; }

  // "12.34" in asset `code` → minor units; unknown_asset when the code is not in the table.
  Result<Amount, AmountError> Parse(std::string_view code, std::string_view text) const;

 private:
  std::vector<Asset> assets_;
};

}  // namespace tpw
