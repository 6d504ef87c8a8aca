// Per-event result codes. Exhaustive and stable: the numeric values are part of the journal,
// the API and the CLI's exit codes, so never renumber; only append. Each code sits beside its
// one-sentence message in an X-macro list, so names and messages cannot drift apart.
#pragma once

#include <cstdint>
#include <string_view>

namespace tpw::ledger {

#define TPW_CREATE_ACCOUNT_RESULTS(X) \
  X(created, 0, "the account was created") \
  X(linked_event_failed, 1, "another event of this linked chain failed, so this one was not applied; fix that event and resend the chain") \
  X(linked_event_chain_open, 2, "the batch ended inside a linked chain; clear the linked flag on the chain's last event") \
  X(timestamp_must_be_zero, 3, "the timestamp is assigned by the ledger; send 0") \
  X(reserved_flag, 4, "an unknown flag bit is set; see docs/ledger.md for the flags") \
  X(id_must_not_be_zero, 5, "id 0 is reserved; choose another id") \
  X(id_must_not_be_int_max, 6, "id 2^128-1 is reserved; choose another id") \
  X(flags_are_mutually_exclusive, 7, "debits_must_not_exceed_credits and credits_must_not_exceed_debits cannot both be set") \
  X(debits_pending_must_be_zero, 8, "balances start at zero; send debits_pending 0") \
  X(debits_posted_must_be_zero, 9, "balances start at zero; send debits_posted 0") \
  X(credits_pending_must_be_zero, 10, "balances start at zero; send credits_pending 0") \
  X(credits_posted_must_be_zero, 11, "balances start at zero; send credits_posted 0") \
  X(ledger_must_not_be_zero, 12, "every account needs a ledger (asset) number") \
  X(code_must_not_be_zero, 13, "every account needs a non-zero code (account type)") \
  X(overdraft_limit_requires_balance_flag, 14, "an overdraft limit only applies with debits_must_not_exceed_credits or credits_must_not_exceed_debits; set one or send limit 0") \
  X(exists_with_different_flags, 15, "an account with this id exists with different flags; use a new id or the same fields") \
  X(exists_with_different_user_data_128, 16, "an account with this id exists with different user_data_128") \
  X(exists_with_different_user_data_64, 17, "an account with this id exists with different user_data_64") \
  X(exists_with_different_user_data_32, 18, "an account with this id exists with different user_data_32") \
  X(exists_with_different_ledger, 19, "an account with this id exists on a different ledger") \
  X(exists_with_different_code, 20, "an account with this id exists with a different code") \
  X(exists_with_different_overdraft_limit, 21, "an account with this id exists with a different overdraft limit") \
  X(exists, 22, "an identical account with this id already exists (treated as success)") \
  X(too_many_accounts, 23, "the ledger holds the maximum number of accounts")

enum class CreateAccountResult : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_CREATE_ACCOUNT_RESULTS(TPW_X)
#undef TPW_X
};
inline constexpr uint8_t kCreateAccountResultCount = 24;

#define TPW_CREATE_TRANSFER_RESULTS(X) \
  X(created, 0, "the transfer was created") \
  X(linked_event_failed, 1, "another event of this linked chain failed, so this one was not applied; fix that event and resend the chain") \
  X(linked_event_chain_open, 2, "the batch ended inside a linked chain; clear the linked flag on the chain's last event") \
  X(timestamp_must_be_zero, 3, "the timestamp is assigned by the ledger; send 0") \
  X(reserved_flag, 4, "an unknown flag bit is set; see docs/ledger.md for the flags") \
  X(id_must_not_be_zero, 5, "id 0 is reserved; choose another id") \
  X(id_must_not_be_int_max, 6, "id 2^128-1 is reserved; choose another id") \
  X(flags_are_mutually_exclusive, 7, "pending, post and void exclude each other, and post/void exclude balancing and closing flags") \
  X(debit_account_id_must_not_be_zero, 8, "the debit account id is missing") \
  X(debit_account_id_must_not_be_int_max, 9, "debit account id 2^128-1 is reserved") \
  X(credit_account_id_must_not_be_zero, 10, "the credit account id is missing") \
  X(credit_account_id_must_not_be_int_max, 11, "credit account id 2^128-1 is reserved") \
  X(accounts_must_be_different, 12, "a transfer must debit one account and credit another") \
  X(pending_id_must_be_zero, 13, "pending_id is only for posting or voiding a pending transfer; send 0") \
  X(pending_id_must_not_be_zero, 14, "posting or voiding needs pending_id: the id of the pending transfer") \
  X(pending_id_must_not_be_int_max, 15, "pending_id 2^128-1 is reserved") \
  X(pending_id_must_be_different, 16, "pending_id must name another transfer, not this one") \
  X(timeout_reserved_for_pending_transfer, 17, "a timeout only applies to pending transfers; send 0 or set the pending flag") \
  X(closing_transfer_must_be_pending, 18, "closing_debit/closing_credit need the pending flag (void it to reopen the account)") \
  X(ledger_must_not_be_zero, 19, "every transfer needs a ledger (asset) number") \
  X(code_must_not_be_zero, 20, "every transfer needs a non-zero code (transfer type)") \
  X(exists_with_different_flags, 21, "a transfer with this id exists with different flags; use a new id or resend it unchanged") \
  X(exists_with_different_pending_id, 22, "a transfer with this id exists with a different pending_id") \
  X(exists_with_different_timeout, 23, "a transfer with this id exists with a different timeout") \
  X(exists_with_different_debit_account_id, 24, "a transfer with this id exists with a different debit account") \
  X(exists_with_different_credit_account_id, 25, "a transfer with this id exists with a different credit account") \
  X(exists_with_different_amount, 26, "a transfer with this id exists with a different amount") \
  X(exists_with_different_user_data_128, 27, "a transfer with this id exists with different user_data_128") \
  X(exists_with_different_user_data_64, 28, "a transfer with this id exists with different user_data_64") \
  X(exists_with_different_user_data_32, 29, "a transfer with this id exists with different user_data_32") \
  X(exists_with_different_ledger, 30, "a transfer with this id exists on a different ledger") \
  X(exists_with_different_code, 31, "a transfer with this id exists with a different code") \
  X(exists, 32, "an identical transfer with this id already exists (treated as success)") \
  X(id_already_failed, 33, "a transfer with this id failed before for a reason that could change (funds, existence); a retry never succeeds later: use a new id") \
  X(debit_account_not_found, 34, "no account has the debit account id; create it first") \
  X(credit_account_not_found, 35, "no account has the credit account id; create it first") \
  X(accounts_must_have_the_same_ledger, 36, "the two accounts hold different assets; use an FX path to move between assets") \
  X(transfer_must_have_the_same_ledger_as_accounts, 37, "the transfer's ledger differs from its accounts' ledger") \
  X(pending_transfer_not_found, 38, "no pending transfer has this pending_id") \
  X(pending_transfer_not_pending, 39, "the transfer named by pending_id is not a pending transfer") \
  X(pending_transfer_has_different_debit_account_id, 40, "the debit account differs from the pending transfer's; send 0 or the same id") \
  X(pending_transfer_has_different_credit_account_id, 41, "the credit account differs from the pending transfer's; send 0 or the same id") \
  X(pending_transfer_has_different_ledger, 42, "the ledger differs from the pending transfer's; send 0 or the same ledger") \
  X(pending_transfer_has_different_code, 43, "the code differs from the pending transfer's; send 0 or the same code") \
  X(exceeds_pending_transfer_amount, 44, "the post amount is more than the pending amount") \
  X(pending_transfer_has_different_amount, 45, "a void must send amount 0 or exactly the pending amount") \
  X(pending_transfer_already_posted, 46, "the pending transfer was already posted") \
  X(pending_transfer_already_voided, 47, "the pending transfer was already voided") \
  X(pending_transfer_expired, 48, "the pending transfer expired and its funds were released") \
  X(debit_account_already_closed, 49, "the debit account is closed") \
  X(credit_account_already_closed, 50, "the credit account is closed") \
  X(overflows_debits_pending, 51, "the debit account's debits_pending would exceed 2^128-1") \
  X(overflows_credits_pending, 52, "the credit account's credits_pending would exceed 2^128-1") \
  X(overflows_debits_posted, 53, "the debit account's debits_posted would exceed 2^128-1") \
  X(overflows_credits_posted, 54, "the credit account's credits_posted would exceed 2^128-1") \
  X(overflows_debits, 55, "the debit account's total debits would exceed 2^128-1") \
  X(overflows_credits, 56, "the credit account's total credits would exceed 2^128-1") \
  X(overflows_timeout, 57, "timestamp + timeout would not fit in 64 bits of nanoseconds; use a shorter timeout") \
  X(exceeds_credits, 58, "insufficient funds: the debit account's debits would exceed its credits plus overdraft limit") \
  X(exceeds_debits, 59, "the credit account's credits would exceed its debits plus limit") \
  X(too_many_pending_transfers, 60, "the ledger holds the maximum number of open pending transfers")

enum class CreateTransferResult : uint8_t {
#define TPW_X(name, value, message) name = value,
  TPW_CREATE_TRANSFER_RESULTS(TPW_X)
#undef TPW_X
};
inline constexpr uint8_t kCreateTransferResultCount = 61;

// Errors of a whole request (not of one event): nothing was applied.
enum class BatchError : uint8_t {
  too_many_events = 1,  // more than kBatchEventsMax
};

enum class QueryError : uint8_t {
  account_id_invalid = 1,  // zero or 2^128-1
  account_not_found = 2,
  limit_must_not_be_zero = 3,
  limit_too_large = 4,  // over kQueryLimitMax
  flags_invalid = 5,    // unknown bits, or neither debits nor credits
  timestamp_range_invalid = 6,  // min > max (both non-zero)
  history_not_enabled = 7,      // balance query on an account without the history flag
};

std::string_view ResultName(CreateAccountResult result);
std::string_view ResultName(CreateTransferResult result);
std::string_view ResultName(BatchError error);
std::string_view ResultName(QueryError error);
// One sentence for people: what went wrong and what to do.
std::string_view ResultMessage(CreateAccountResult result);
std::string_view ResultMessage(CreateTransferResult result);
std::string_view ResultMessage(QueryError error);

// A success for the caller: the event's effect is in the ledger (created now or before).
inline bool IsSuccess(CreateAccountResult r) {
  return r == CreateAccountResult::created || r == CreateAccountResult::exists;
}
inline bool IsSuccess(CreateTransferResult r) {
  return r == CreateTransferResult::created || r == CreateTransferResult::exists;
}

// Transient failures depend on state that may change (funds, existence). The id of an event
// that failed transiently is remembered, and a retry with that id gets id_already_failed, so
// a retried request can never succeed later by surprise (TigerBeetle's rule).
bool IsTransient(CreateTransferResult result);

}  // namespace tpw::ledger
