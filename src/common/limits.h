// Named limits: every batch, buffer, queue and string in tpwallet has one, and they live here.
// Over a limit is an error at the input and an assertion inside.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tpw {

// Events per create_accounts / create_transfers batch (TigerBeetle's figure, for comparison).
inline constexpr size_t kBatchEventsMax = 8189;
// Results returned by one query (account transfers, balance history).
inline constexpr uint32_t kQueryLimitMax = 8189;
// Ids per lookup request.
inline constexpr size_t kLookupIdsMax = 8189;
// Ids one GET /v1/accounts?ids=… or /v1/transfers?ids=… names (the URL stays under the server's
// 16 KiB header limit even with 39-digit ids); the CLI splits a longer lookup.
inline constexpr size_t kLookupIdsPerRequestMax = 256;
// Decimal places an asset may have (ETH has 18; 38 keeps 1 whole unit representable).
inline constexpr uint8_t kAssetScaleMax = 38;
// Asset code: 1..12 characters of A-Z, 0-9, '_'.
inline constexpr size_t kAssetCodeLengthMax = 12;
// Assets in one table.
inline constexpr size_t kAssetsMax = 4096;
// Accounts one ledger instance holds (memory bound: ~200 bytes each).
inline constexpr size_t kAccountsMax = size_t{1} << 28;
// Pending transfers open at once.
inline constexpr size_t kPendingTransfersMax = size_t{1} << 28;
// Longest pending-transfer timeout in seconds (about 136 years; fits u32).
inline constexpr uint32_t kTimeoutSecondsMax = UINT32_MAX;
// Bytes in one binary-codec field that carries a length prefix.
inline constexpr uint32_t kCodecBlobBytesMax = 16u << 20;

}  // namespace tpw
