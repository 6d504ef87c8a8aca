// Small helpers for human-readable output: money with its asset's decimals, and tables.
#pragma once

#include <string>
#include <vector>

#include "common/amount.h"
#include "common/asset.h"

namespace tpw::cli {

// "12.34 USD"; for an unknown ledger number, the minor units and "ledger N".
std::string FormatMoney(const AssetTable& assets, uint32_t ledger, Amount amount);

// Left-aligned columns separated by two spaces, with a header row and a rule under it.
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

}  // namespace tpw::cli
