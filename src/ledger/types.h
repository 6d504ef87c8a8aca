// Ledger records: accounts, transfers, balances and query filters.
//
// Field meanings follow TigerBeetle's data model (docs/ledger.md), extended with a per-account
// overdraft limit. Amounts are exact unsigned 128-bit minor units.
#pragma once

#include <cstdint>

#include "common/amount.h"
#include "common/ids.h"
#include "common/int128.h"

namespace tpw::ledger {

// Account flags (bit values are stable: they are stored in the journal).
namespace account_flags {
inline constexpr uint16_t kLinked = 1u << 0;  // chain with the next event in the batch
inline constexpr uint16_t kDebitsMustNotExceedCredits = 1u << 1;
inline constexpr uint16_t kCreditsMustNotExceedDebits = 1u << 2;
inline constexpr uint16_t kHistory = 1u << 3;  // keep a balance snapshot after every change
inline constexpr uint16_t kClosed = 1u << 4;   // rejects new transfers (see closing transfers)
inline constexpr uint16_t kAll = (1u << 5) - 1;
}  // namespace account_flags

// Transfer flags (bit values are stable).
namespace transfer_flags {
inline constexpr uint16_t kLinked = 1u << 0;
inline constexpr uint16_t kPending = 1u << 1;               // phase one: reserve the amount
inline constexpr uint16_t kPostPendingTransfer = 1u << 2;   // phase two: post (full/partial)
inline constexpr uint16_t kVoidPendingTransfer = 1u << 3;   // phase two: release
inline constexpr uint16_t kBalancingDebit = 1u << 4;        // clamp amount to what debit allows
inline constexpr uint16_t kBalancingCredit = 1u << 5;       // clamp amount to what credit allows
inline constexpr uint16_t kClosingDebit = 1u << 6;          // pending; closes the debit account
inline constexpr uint16_t kClosingCredit = 1u << 7;         // pending; closes the credit account
inline constexpr uint16_t kAll = (1u << 8) - 1;
}  // namespace transfer_flags

// Posting with this amount posts the full pending amount (TigerBeetle's AMOUNT_MAX).
inline constexpr Amount kPostFullAmount = Amount::Max();

struct Account {
  AccountId id;
  Amount debits_pending;
  Amount debits_posted;
  Amount credits_pending;
  Amount credits_posted;
  // With debits_must_not_exceed_credits: debits may exceed credits by at most this much.
  // With credits_must_not_exceed_debits: credits may exceed debits by at most this much.
  // Must be zero when neither flag is set.
  Amount overdraft_limit;
  u128 user_data_128 = 0;
  uint64_t user_data_64 = 0;
  uint32_t user_data_32 = 0;
  uint32_t ledger = 0;  // asset number (common/asset.h)
  uint16_t code = 0;    // account type, user-defined, non-zero
  uint16_t flags = 0;
  Timestamp timestamp;  // set by the ledger; must be zero on input
};

struct Transfer {
  TransferId id;
  AccountId debit_account_id;
  AccountId credit_account_id;
  Amount amount;
  TransferId pending_id;  // for post/void: the pending transfer; else zero
  u128 user_data_128 = 0;
  uint64_t user_data_64 = 0;
  uint32_t user_data_32 = 0;
  uint32_t timeout = 0;  // seconds; pending only; 0 = never expires
  uint32_t ledger = 0;
  uint16_t code = 0;
  uint16_t flags = 0;
  Timestamp timestamp;  // set by the ledger; must be zero on input
};
static_assert(sizeof(Transfer) == 128, "Transfer layout is part of the journal format");

// Balances of an account flagged `history`, as they were right after `timestamp`.
struct AccountBalance {
  Timestamp timestamp;
  Amount debits_pending;
  Amount debits_posted;
  Amount credits_pending;
  Amount credits_posted;
};

// What became of a pending transfer.
enum class PendingStatus : uint8_t {
  none = 0,  // not a pending transfer (or unknown id)
  pending = 1,
  posted = 2,
  voided = 3,
  expired = 4,
};

// Filter flags for account queries.
namespace filter_flags {
inline constexpr uint32_t kDebits = 1u << 0;    // transfers where the account is debited
inline constexpr uint32_t kCredits = 1u << 1;   // transfers where the account is credited
inline constexpr uint32_t kReversed = 1u << 2;  // newest first
inline constexpr uint32_t kAll = (1u << 3) - 1;
}  // namespace filter_flags

// Query over one account's transfers (or balance history), in timestamp order.
// Pagination: pass the last seen timestamp + 1 as timestamp_min (or - 1 as timestamp_max when
// reversed) — the timestamp is the cursor, and it is unique per transfer.
struct AccountFilter {
  AccountId account_id;
  Timestamp timestamp_min;  // inclusive; 0 = no lower bound
  Timestamp timestamp_max;  // inclusive; 0 = no upper bound
  uint16_t code = 0;        // 0 = any code
  uint32_t limit = 0;       // 1..kQueryLimitMax
  uint32_t flags = 0;       // at least one of kDebits / kCredits
};

}  // namespace tpw::ledger
