// Per-event result codes. Exhaustive and stable: the numeric values are part of the journal,
// the API and the CLI's exit codes, so never renumber; only append.
#pragma once

#include <cstdint>
#include <string_view>

namespace tpw::ledger {

enum class CreateAccountResult : uint8_t {
  created = 0,
  linked_event_failed = 1,
  linked_event_chain_open = 2,
  timestamp_must_be_zero = 3,
  reserved_flag = 4,
  id_must_not_be_zero = 5,
  id_must_not_be_int_max = 6,
  flags_are_mutually_exclusive = 7,
  debits_pending_must_be_zero = 8,
  debits_posted_must_be_zero = 9,
  credits_pending_must_be_zero = 10,
  credits_posted_must_be_zero = 11,
  ledger_must_not_be_zero = 12,
  code_must_not_be_zero = 13,
  overdraft_limit_requires_balance_flag = 14,
  exists_with_different_flags = 15,
  exists_with_different_user_data_128 = 16,
  exists_with_different_user_data_64 = 17,
  exists_with_different_user_data_32 = 18,
  exists_with_different_ledger = 19,
  exists_with_different_code = 20,
  exists_with_different_overdraft_limit = 21,
  exists = 22,
  too_many_accounts = 23,
};
inline constexpr uint8_t kCreateAccountResultCount = 24;

enum class CreateTransferResult : uint8_t {
  created = 0,
  linked_event_failed = 1,
  linked_event_chain_open = 2,
  timestamp_must_be_zero = 3,
  reserved_flag = 4,
  id_must_not_be_zero = 5,
  id_must_not_be_int_max = 6,
  flags_are_mutually_exclusive = 7,
  debit_account_id_must_not_be_zero = 8,
  debit_account_id_must_not_be_int_max = 9,
  credit_account_id_must_not_be_zero = 10,
  credit_account_id_must_not_be_int_max = 11,
  accounts_must_be_different = 12,
  pending_id_must_be_zero = 13,
  pending_id_must_not_be_zero = 14,
  pending_id_must_not_be_int_max = 15,
  pending_id_must_be_different = 16,
  timeout_reserved_for_pending_transfer = 17,
  closing_transfer_must_be_pending = 18,
  ledger_must_not_be_zero = 19,
  code_must_not_be_zero = 20,
  exists_with_different_flags = 21,
  exists_with_different_pending_id = 22,
  exists_with_different_timeout = 23,
  exists_with_different_debit_account_id = 24,
  exists_with_different_credit_account_id = 25,
  exists_with_different_amount = 26,
  exists_with_different_user_data_128 = 27,
  exists_with_different_user_data_64 = 28,
  exists_with_different_user_data_32 = 29,
  exists_with_different_ledger = 30,
  exists_with_different_code = 31,
  exists = 32,
  id_already_failed = 33,
  debit_account_not_found = 34,
  credit_account_not_found = 35,
  accounts_must_have_the_same_ledger = 36,
  transfer_must_have_the_same_ledger_as_accounts = 37,
  pending_transfer_not_found = 38,
  pending_transfer_not_pending = 39,
  pending_transfer_has_different_debit_account_id = 40,
  pending_transfer_has_different_credit_account_id = 41,
  pending_transfer_has_different_ledger = 42,
  pending_transfer_has_different_code = 43,
  exceeds_pending_transfer_amount = 44,
  pending_transfer_has_different_amount = 45,
  pending_transfer_already_posted = 46,
  pending_transfer_already_voided = 47,
  pending_transfer_expired = 48,
  debit_account_already_closed = 49,
  credit_account_already_closed = 50,
  overflows_debits_pending = 51,
  overflows_credits_pending = 52,
  overflows_debits_posted = 53,
  overflows_credits_posted = 54,
  overflows_debits = 55,
  overflows_credits = 56,
  overflows_timeout = 57,
  exceeds_credits = 58,
  exceeds_debits = 59,
  too_many_pending_transfers = 60,
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
