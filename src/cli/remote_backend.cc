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
#include "common/limits.h"
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
    std::vector<u128> numbers;
    for (AccountId id : ids) numbers.push_back(id.value);
    CommandResult<bj::array> items = LookupRecords("/v1/accounts", "accounts", numbers);
    if (!items.ok()) return Fail(items.error());
    std::vector<ledger::Account> found;
    for (const bj::value& item : items.value()) {
      CommandResult<ledger::Account> account = Decoded(AccountFromRecordJson(item));
      if (!account.ok()) return Fail(account.error());
      found.push_back(account.value());
    }
    return found;
  }

  CommandResult<TransferRows> LookupTransfers(const std::vector<TransferId>& ids) override {
    std::vector<u128> numbers;
    for (TransferId id : ids) numbers.push_back(id.value);
    CommandResult<bj::array> items = LookupRecords("/v1/transfers", "transfers", numbers);
    if (!items.ok()) return Fail(items.error());
    return TransferRowsOf(items.value());
  }

  CommandResult<TransferRows> AccountTransfers(const ledger::AccountFilter& filter) override {
    CommandResult<bj::array> items = GetPage(filter, "/transfers", "transfers", true);
    if (!items.ok()) return Fail(items.error());
    return TransferRowsOf(items.value());
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

  CommandResult<TransferRows> TransferRowsOf(const bj::array& items) const {
    TransferRows rows;
    for (const bj::value& item : items) {
      CommandResult<TransferRecord> transfer = Decoded(TransferFromRecordJson(item));
      if (!transfer.ok()) return Fail(transfer.error());
      rows.transfers.push_back(transfer.value().transfer);
      rows.statuses.push_back(transfer.value().status);
    }
    return rows;
  }

  // The `field` array of an answer's object.
  CommandResult<bj::array> FieldArray(const bj::value& answer, std::string_view field) const {
    const bj::object* object = answer.if_object();
    const bj::value* items = object == nullptr ? nullptr : object->if_contains(field);
    if (items == nullptr || !items->is_array()) {
      return Fail(UnreadableServerAnswer(client_.url(), "no \"" + std::string(field) + "\" array"));
    }
    return items->get_array();
  }

  // GET `path`?ids=… a server-sized chunk of ids at a time (the records found, in the order
  // asked; ids not found are left out): one request per 256 ids instead of one per id.
  CommandResult<bj::array> LookupRecords(std::string_view path, std::string_view field,
                                         const std::vector<u128>& ids) {
    bj::array found;
    for (size_t start = 0; start < ids.size(); start += kLookupIdsPerRequestMax) {
      const size_t end = std::min(ids.size(), start + kLookupIdsPerRequestMax);
      std::string target = std::string(path) + "?ids=";
      for (size_t i = start; i < end; ++i) {
        if (i != start) target += ',';
        target += FormatId(ids[i]);
      }
      CommandResult<bj::value> value = JsonOf(client_.Get(target), false);
      if (!value.ok()) return Fail(value.error());
      CommandResult<bj::array> items = FieldArray(value.value(), field);
      if (!items.ok()) return Fail(items.error());
      for (bj::value& item : items.value()) found.push_back(std::move(item));
    }
    return found;
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
    return FieldArray(value.value(), field);
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
