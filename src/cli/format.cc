#include "cli/format.h"

#include <algorithm>

namespace tpw::cli {

std::string FormatMoney(const AssetTable& assets, uint32_t ledger, Amount amount) {
  const Asset* asset = assets.FindByLedger(ledger);
  if (asset == nullptr) return U128ToDecimal(amount.minor()) + " (ledger " + std::to_string(ledger) + ")";
  return FormatDecimalAmount(amount, asset->scale) + " " + asset->code;
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  for (size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  auto render_row = [&widths](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    return line + "\n";
  };
  std::string out = render_row(header);
  size_t total = 0;
  for (size_t w : widths) total += w + 2;
  out += std::string(total > 2 ? total - 2 : 0, '-') + "\n";
  for (const auto& row : rows) out += render_row(row);
  return out;
}

}  // namespace tpw::cli
