#include "cli/engine_calls.h"

namespace tpw::cli {

CommandResult<std::vector<ledger::Account>> LookupAccounts(Session& session,
                                                           const std::vector<AccountId>& ids) {
  engine::Reply reply = session.engine->LookupAccounts(ids);
  if (std::optional<CommandError> failure = ReplyFailure(session, reply)) return Fail(*failure);
  return std::move(reply.accounts);
}

CommandResult<std::vector<ledger::Transfer>> LookupTransfers(Session& session,
                                                             const std::vector<TransferId>& ids) {
  engine::Reply reply = session.engine->LookupTransfers(ids);
  if (std::optional<CommandError> failure = ReplyFailure(session, reply)) return Fail(*failure);
  return std::move(reply.transfers);
}

CommandResult<std::vector<std::optional<ledger::PendingStatus>>> PendingStatusesOf(
    Session& session, const std::vector<ledger::Transfer>& transfers) {
  std::vector<std::optional<ledger::PendingStatus>> statuses(transfers.size());
  engine::Request request;
  request.kind = engine::RequestKind::get_pending_status;
  std::vector<size_t> positions;
  for (size_t i = 0; i < transfers.size(); ++i) {
    if ((transfers[i].flags & ledger::transfer_flags::kPending) == 0) continue;
    request.ids.push_back(transfers[i].id.value);
    positions.push_back(i);
  }
  if (positions.empty()) return statuses;
  engine::Reply reply = session.engine->Execute(std::move(request));
  if (std::optional<CommandError> failure = ReplyFailure(session, reply)) return Fail(*failure);
  TPW_ASSERT(reply.pending_statuses.size() == positions.size());
  for (size_t i = 0; i < positions.size(); ++i) statuses[positions[i]] = reply.pending_statuses[i];
  return statuses;
}

}  // namespace tpw::cli
