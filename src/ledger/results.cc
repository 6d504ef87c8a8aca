#include "ledger/results.h"

namespace tpw::ledger {

std::string_view ResultName(CreateAccountResult result) {
  switch (result) {
#define TPW_X(name, value, message) \
  case CreateAccountResult::name: return #name;
    TPW_CREATE_ACCOUNT_RESULTS(TPW_X)
#undef TPW_X
  }
  return "unknown";
}

std::string_view ResultName(CreateTransferResult result) {
  switch (result) {
#define TPW_X(name, value, message) \
  case CreateTransferResult::name: return #name;
    TPW_CREATE_TRANSFER_RESULTS(TPW_X)
#undef TPW_X
  }
  return "unknown";
}

std::string_view ResultMessage(CreateAccountResult result) {
  switch (result) {
#define TPW_X(name, value, message) \
  case CreateAccountResult::name: return message;
    TPW_CREATE_ACCOUNT_RESULTS(TPW_X)
#undef TPW_X
  }
  return "unknown result";
}

std::string_view ResultMessage(CreateTransferResult result) {
  switch (result) {
#define TPW_X(name, value, message) \
  case CreateTransferResult::name: return message;
    TPW_CREATE_TRANSFER_RESULTS(TPW_X)
#undef TPW_X
  }
  return "unknown result";
}

std::string_view ResultName(BatchError error) {
  switch (error) {
    case BatchError::too_many_events: return "too_many_events";
  }
  return "unknown";
}

std::string_view ResultName(QueryError error) {
  switch (error) {
    case QueryError::account_id_invalid: return "account_id_invalid";
    case QueryError::account_not_found: return "account_not_found";
    case QueryError::limit_must_not_be_zero: return "limit_must_not_be_zero";
    case QueryError::limit_too_large: return "limit_too_large";
    case QueryError::flags_invalid: return "flags_invalid";
    case QueryError::timestamp_range_invalid: return "timestamp_range_invalid";
    case QueryError::history_not_enabled: return "history_not_enabled";
  }
  return "unknown";
}

std::string_view ResultMessage(QueryError error) {
  switch (error) {
    case QueryError::account_id_invalid: return "account id 0 and 2^128-1 are reserved";
    case QueryError::account_not_found: return "no account has this id";
    case QueryError::limit_must_not_be_zero: return "the limit must be at least 1";
    case QueryError::limit_too_large: return "the limit may be at most 8189";
    case QueryError::flags_invalid:
      return "select debits, credits or both (and no unknown filter flags)";
    case QueryError::timestamp_range_invalid:
      return "timestamp_min is after timestamp_max";
    case QueryError::history_not_enabled:
      return "the account was not created with the history flag, so it has no balance history";
  }
  return "unknown query error";
}

bool IsTransient(CreateTransferResult result) {
  switch (result) {
    case CreateTransferResult::debit_account_not_found:
    case CreateTransferResult::credit_account_not_found:
    case CreateTransferResult::pending_transfer_not_found:
    case CreateTransferResult::pending_transfer_expired:
    case CreateTransferResult::debit_account_already_closed:
    case CreateTransferResult::credit_account_already_closed:
    case CreateTransferResult::overflows_debits_pending:
    case CreateTransferResult::overflows_credits_pending:
    case CreateTransferResult::overflows_debits_posted:
    case CreateTransferResult::overflows_credits_posted:
    case CreateTransferResult::overflows_debits:
    case CreateTransferResult::overflows_credits:
    case CreateTransferResult::overflows_timeout:
    case CreateTransferResult::exceeds_credits:
    case CreateTransferResult::exceeds_debits:
    case CreateTransferResult::too_many_pending_transfers:
      return true;
    default:
      return false;
  }
}

}  // namespace tpw::ledger
