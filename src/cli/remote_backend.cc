// The ledger backend on a running `tpwallet serve`: requests in the API's JSON (record_json.h)
// over HttpClient, answers read back into ledger records, HTTP errors into CommandErrors.
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <random>

#include "cli/api_caller.h"
#include "cli/backend.h"
#include "cli/commands.h"
#include "cli/http_client.h"
#include "cli/record_json.h"
#include "common/assert.h"
#include "ledger/results.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

// "&name=value" for the query string.
void PutParam(std::string& query, std::string_view name, const std::string& value) {
  query += (query.empty() ? "?" : "&") + std::string(name) + "=" + value;
}

std::string QueryOf(const ledger::AccountFilter& f, bool transfer_filters) {
  namespace ff = ledger::filter_flags;
  std::string query;
  PutParam(query, "limit", std::to_string(f.limit));
  if (f.timestamp_min.ns != 0) PutParam(query, "from", std::to_string(f.timestamp_min.ns));
  if (f.timestamp_max.ns != 0) PutParam(query, "to", std::to_string(f.timestamp_max.ns));
  if ((f.flags & ff::kReversed) != 0) PutParam(query, "reverse", "true");
  if (!transfer_filters) return query;
  if (f.code != 0) PutParam(query, "code", std::to_string(f.code));
  const bool debits = (f.flags & ff::kDebits) != 0;
  const bool credits = (f.flags & ff::kCredits) != 0;
  if (debits && !credits) PutParam(query, "debits", "true");
  if (credits && !debits) PutParam(query, "credits", "true");
  return query;
}

class RemoteBackend final : public LedgerBackend {
 public:
  RemoteBackend(ServerUrl url, const ServerOptions& options)
      : client_(std::move(url), options.api_key, std::chrono::milliseconds(options.timeout_ms)),
        idempotency_key_(options.idempotency_key.empty() ? NewIdempotencyKey()
                                                         : options.idempotency_key) {}

  const AssetTable& assets() const override { return assets_; }

  CommandResult<std::vector<ledger::CreateAccountsResult>> CreateAccounts(
      const std::vector<ledger::Account>& accounts) override {
    bj::array items;
    for (const ledger::Account& a : accounts) items.push_back(AccountToRequestJson(a));
    CommandResult<bj::value> answer = PostBatch("/v1/accounts", "accounts", std::move(items));
    if (!answer.ok()) return Fail(answer.error());
    return Decoded(AccountResultsFromJson(answer.value(), accounts.size()));
  }

  CommandResult<std::vector<ledger::CreateTransfersResult>> CreateTransfers(
      const std::vector<ledger::Transfer>& transfers) override {
    bj::array items;
    for (const ledger::Transfer& t : transfers) items.push_back(TransferToRequestJson(t));
    CommandResult<bj::value> answer =
        PostBatch("/v1/transfers/batch", "transfers", std::move(items));
    if (!answer.ok()) return Fail(answer.error());
    return Decoded(TransferResultsFromJson(answer.value(), transfers.size()));
  }

  CommandResult<std::vector<ledger::Account>> LookupAccounts(
      const std::vector<AccountId>& ids) override {
    std::vector<ledger::Account> found;
    for (AccountId id : ids) {
      CommandResult<std::optional<bj::value>> record =
          GetRecord("/v1/accounts/" + FormatId(id), "account_not_found");
      if (!record.ok()) return Fail(record.error());
      if (!record.value().has_value()) continue;
      CommandResult<ledger::Account> account = Decoded(AccountFromRecordJson(*record.value()));
      if (!account.ok()) return Fail(account.error());
      found.push_back(account.value());
    }
    return found;
  }

  CommandResult<TransferRows> LookupTransfers(const std::vector<TransferId>& ids) override {
    TransferRows rows;
    for (TransferId id : ids) {
      CommandResult<std::optional<bj::value>> record =
          GetRecord("/v1/transfers/" + FormatId(id), "transfer_not_found");
      if (!record.ok()) return Fail(record.error());
      if (!record.value().has_value()) continue;
      CommandResult<TransferRecord> transfer = Decoded(TransferFromRecordJson(*record.value()));
      if (!transfer.ok()) return Fail(transfer.error());
      rows.transfers.push_back(transfer.value().transfer);
      rows.statuses.push_back(transfer.value().status);
    }
    return rows;
  }

  CommandResult<TransferRows> AccountTransfers(const ledger::AccountFilter& filter) override {
    CommandResult<bj::array> items = GetPage(filter, "/transfers", "transfers", true);
    if (!items.ok()) return Fail(items.error());
    TransferRows rows;
    for (const bj::value& item : items.value()) {
      CommandResult<TransferRecord> transfer = Decoded(TransferFromRecordJson(item));
      if (!transfer.ok()) return Fail(transfer.error());
      rows.transfers.push_back(transfer.value().transfer);
      rows.statuses.push_back(transfer.value().status);
    }
    return rows;
  }

  CommandResult<std::vector<ledger::AccountBalance>> AccountBalances(
      const ledger::AccountFilter& filter) override {
    CommandResult<bj::array> items = GetPage(filter, "/balances", "balances", false);
    if (!items.ok()) return Fail(items.error());
    std::vector<ledger::AccountBalance> balances;
    for (const bj::value& item : items.value()) {
      CommandResult<ledger::AccountBalance> balance = Decoded(BalanceFromRecordJson(item));
      if (!balance.ok()) return Fail(balance.error());
      balances.push_back(balance.value());
    }
    return balances;
  }

 private:
  template <typename T>
  CommandResult<T> Decoded(InputResult<T> result) const {
    if (!result.ok()) return Fail(UnreadableServerAnswer(client_.url(), result.error().message));
    return std::move(result).value();
  }

  CommandResult<bj::value> JsonOf(const Result<HttpAnswer, TransportError>& answer, bool post) {
    return JsonAnswer(answer, post, client_.url(), idempotency_key_);
  }

  // POST {"<key>": items}; one POST per invocation (its Idempotency-Key is the invocation's).
  CommandResult<bj::value> PostBatch(const std::string& target, std::string_view key,
                                     bj::array items) {
    TPW_ASSERT(!posted_ && "one POST per invocation: its Idempotency-Key is the invocation's");
    posted_ = true;
    bj::object body;
    body[key] = std::move(items);
    return JsonOf(client_.Post(target, bj::serialize(body), idempotency_key_), true);
  }

  // A record, or nullopt when the server answers 404 with `not_found_code`.
  CommandResult<std::optional<bj::value>> GetRecord(const std::string& target,
                                                    std::string_view not_found_code) {
    Result<HttpAnswer, TransportError> answer = client_.Get(target);
    if (answer.ok() && answer.value().status == 404) {
      const std::optional<ApiErrorBody> error = ParseApiErrorBody(answer.value().body);
      if (error.has_value() && error->code == not_found_code) return std::optional<bj::value>{};
    }
    CommandResult<bj::value> value = JsonOf(answer, false);
    if (!value.ok()) return Fail(value.error());
    return std::optional<bj::value>(std::move(value).value());
  }

  // The `field` array of one page of GET /v1/accounts/{id}`suffix`.
  CommandResult<bj::array> GetPage(const ledger::AccountFilter& filter, std::string_view suffix,
                                   std::string_view field, bool transfer_filters) {
    const std::string target = "/v1/accounts/" + FormatId(filter.account_id) + std::string(suffix) +
                               QueryOf(filter, transfer_filters);
    Result<HttpAnswer, TransportError> answer = client_.Get(target);
    if (answer.ok() && answer.value().status == 404) {
      const std::optional<ApiErrorBody> error = ParseApiErrorBody(answer.value().body);
      if (error.has_value() && error->code == "account_not_found") {
        return Fail(QueryErrorOf(ledger::QueryError::account_not_found));
      }
    }
    CommandResult<bj::value> value = JsonOf(answer, false);
    if (!value.ok()) return Fail(value.error());
    const bj::object* page = value.value().if_object();
    const bj::value* items = page == nullptr ? nullptr : page->if_contains(field);
    if (items == nullptr || !items->is_array()) {
      return Fail(UnreadableServerAnswer(client_.url(), "no \"" + std::string(field) + "\" array"));
    }
    return items->get_array();
  }

  HttpClient client_;
  const std::string idempotency_key_;
  const AssetTable assets_ = AssetTable::Default();
  bool posted_ = false;
};

}  // namespace

CommandResult<std::unique_ptr<LedgerBackend>> OpenRemoteBackend(const ServerOptions& options) {
  InputResult<ServerUrl> url = ParseServerUrl(options.url, "--server");
  if (!url.ok()) return Fail(UsageError(url.error().message));
  return std::unique_ptr<LedgerBackend>(
      std::make_unique<RemoteBackend>(std::move(url).value(), options));
}

}  // namespace tpw::cli
