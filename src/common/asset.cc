#include "common/asset.h"

#include "common/limits.h"

namespace tpw {

std::string_view AssetErrorName(AssetError error) {
  switch (error) {
    case AssetError::ledger_must_not_be_zero: return "ledger_must_not_be_zero";
    case AssetError::code_invalid: return "code_invalid";
    case AssetError::scale_too_large: return "scale_too_large";
    case AssetError::ledger_exists: return "ledger_exists";
    case AssetError::code_exists: return "code_exists";
    case AssetError::too_many_assets: return "too_many_assets";
  }
  return "unknown";
}

static bool IsValidAssetCode(std::string_view code) {
  if (code.empty() || code.size() > kAssetCodeLengthMax) return false;
  for (char c : code) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

AssetTable AssetTable::Default() {
  AssetTable table;
  const Asset defaults[] = {
      {1, "USD", 2}, {2, "EUR", 2}, {3, "GBP", 2}, {4, "JPY", 0}, {5, "CHF", 2},
      {6, "CNY", 2}, {7, "BTC", 8}, {8, "ETH", 18}, {9, "PTS", 0},
  };
  for (const Asset& asset : defaults) {
    const Status<AssetError> added = table.Add(asset);
    TPW_ASSERT(added.ok());
  }
  return table;
}

Status<AssetError> AssetTable::Add(Asset asset) {
  if (asset.ledger == 0) return Err{AssetError::ledger_must_not_be_zero};
  if (!IsValidAssetCode(asset.code)) return Err{AssetError::code_invalid};
  if (asset.scale > kAssetScaleMax) return Err{AssetError::scale_too_large};
  if (assets_.size() >= kAssetsMax) return Err{AssetError::too_many_assets};
  if (FindByLedger(asset.ledger) != nullptr) return Err{AssetError::ledger_exists};
  if (FindByCode(asset.code) != nullptr) return Err{AssetError::code_exists};
  assets_.push_back(std::move(asset));
  return Status<AssetError>::Ok();
}

const Asset* AssetTable::FindByCode(std::string_view code) const {
  for (const Asset& asset : assets_) {
    if (asset.code == code) return &asset;
  }
  return nullptr;
}

const Asset* AssetTable::FindByLedger(uint32_t ledger) const {
  for (const Asset& asset : assets_) {
    if (asset.ledger == ledger) return &asset;
  }
  return nullptr;
}

Result<Amount, AmountError> AssetTable::Parse(std::string_view code,
                                              std::string_view text) const {
  const Asset* asset = FindByCode(code);
  if (asset == nullptr) return Err{AmountError::unknown_asset};
  return ParseDecimalAmount(text, asset->scale);
}

}  // namespace tpw
