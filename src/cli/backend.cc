#include "cli/backend.h"

#include "cli/commands.h"
#include "cli/engine_calls.h"
#include "ledger/results.h"

namespace tpw::cli {
namespace {

// The backend on the data directory's engine.
class LocalBackend final : public LedgerBackend {
 public:
  explicit LocalBackend(std::unique_ptr<Session> session) : session_(std::move(session)) {}

  const AssetTable& assets() const override { return session_->assets; }

  CommandResult<std::vector<ledger::CreateAccountsResult>> CreateAccounts(
      const std::vector<ledger::Account>& accounts) override {
    engine::Reply reply = session_->engine->CreateAccounts(accounts);
    if (std::optional<CommandError> failure = ReplyFailure(*session_, reply)) return Fail(*failure);
    return std::move(reply.account_results);
  }

  CommandResult<std::vector<ledger::CreateTransfersResult>> CreateTransfers(
      const std::vector<ledger::Transfer>& transfers) override {
    engine::Reply reply = session_->engine->CreateTransfers(transfers);
    if (std::optional<CommandError> failure = ReplyFailure(*session_, reply)) return Fail(*failure);
    return std::move(reply.transfer_results);
  }

  CommandResult<std::vector<ledger::Account>> LookupAccounts(
      const std::vector<AccountId>& ids) override {
    return cli::LookupAccounts(*session_, ids);
  }

  CommandResult<TransferRows> LookupTransfers(const std::vector<TransferId>& ids) override {
    CommandResult<std::vector<ledger::Transfer>> found = cli::LookupTransfers(*session_, ids);
    if (!found.ok()) return Fail(found.error());
    return WithStatuses(std::move(found).value());
  }

  CommandResult<TransferRows> AccountTransfers(const ledger::AccountFilter& filter) override {
    engine::Reply reply = session_->engine->GetAccountTransfers(filter);
    if (std::optional<CommandError> failure = ReplyFailure(*session_, reply)) return Fail(*failure);
    if (reply.query_error.has_value()) return Fail(QueryErrorOf(*reply.query_error));
    return WithStatuses(std::move(reply.transfers));
  }

  CommandResult<std::vector<ledger::AccountBalance>> AccountBalances(
      const ledger::AccountFilter& filter) override {
    engine::Reply reply = session_->engine->GetAccountBalances(filter);
    if (std::optional<CommandError> failure = ReplyFailure(*session_, reply)) return Fail(*failure);
    if (reply.query_error.has_value()) return Fail(QueryErrorOf(*reply.query_error));
    return std::move(reply.balances);
  }

 private:
  CommandResult<TransferRows> WithStatuses(std::vector<ledger::Transfer> transfers) {
    CommandResult<std::vector<std::optional<ledger::PendingStatus>>> statuses =
        PendingStatusesOf(*session_, transfers);
    if (!statuses.ok()) return Fail(statuses.error());
    return TransferRows{std::move(transfers), std::move(statuses).value()};
  }

  std::unique_ptr<Session> session_;
};

}  // namespace

CommandError QueryErrorOf(ledger::QueryError error) {
  const bool not_found = error == ledger::QueryError::account_not_found;
  return CommandError{
      not_found ? kExitNotFound : kExitRejected, "ledger", std::string(ledger::ResultName(error)),
      std::string(ledger::ResultName(error)) + ": " + std::string(ledger::ResultMessage(error))};
}

CommandResult<std::unique_ptr<LedgerBackend>> OpenLedgerBackend(const CommonOptions& options) {
  if (!options.server.url.empty()) return OpenRemoteBackend(options.server);
  CommandResult<std::unique_ptr<Session>> session = OpenSession(options);
  if (!session.ok()) return Fail(session.error());
  return std::unique_ptr<LedgerBackend>(std::make_unique<LocalBackend>(std::move(session).value()));
}

}  // namespace tpw::cli
