// The ledger backend on a running `tpwallet serve`: requests in the API's JSON (record_json.h)
// over HttpClient, answers read back into ledger records, HTTP errors into CommandErrors.
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <random>

#include "cli/backend.h"
#include "cli/commands.h"
#include "cli/http_client.h"
#include "cli/record_json.h"
#include "common/assert.h"
#include "ledger/results.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

constexpr size_t kErrorBodyQuoteMax = 200;  // bytes of a non-API error page quoted in a message

std::optional<ledger::QueryError> QueryErrorNamed(std::string_view code) {
  for (unsigned value = 1; value <= UINT8_MAX; ++value) {
    const auto error = static_cast<ledger::QueryError>(value);
    if (ledger::ResultName(error) == code) return error;
  }
  return std::nullopt;
}

CommandError ServerError(std::string code, std::string message) {
  return CommandError{kExitServer, "server", std::move(code), std::move(message)};
}

// An error status with the API's error body, as the local command would report it.
CommandError FromApiError(unsigned status, const ApiErrorBody& e, const std::string& retry_after) {
  const std::string said = " (" + e.code + "): " + e.message;
  if (status == 401) {
    const std::string what = e.code == "missing_api_key"
                                 ? "no API key was sent and the server requires one"
                                 : "the server refused the API key" + said;
    return CommandError{kExitAccess, "auth", e.code,
                        what + ". Set $" + std::string(kApiKeyEnv) +
                            " (or --api-key) to a key made by `tpwallet apikey create`, or to "
                            "the admin key `tpwallet serve` printed on its first start"};
  }
  if (status == 403) {
    return CommandError{kExitAccess, "auth", e.code,
                        "the API key's scope may not do this" + said +
                            ". Use a key of the merchant or admin scope (reads: also auditor), "
                            "e.g. from `tpwallet apikey create --scope merchant`"};
  }
  if (status == 429) {
    return ServerError(e.code,
                       "the server's rate limit for this API key was reached; retry in " +
                           (retry_after.empty() ? std::string("a moment") : retry_after + " s") +
                           ", or use a key made with a higher --rate");
  }
  if (status == 402) {
    return CommandError{kExitDeclined, "payment", e.code, e.message};
  }
  if (status == 503 && e.code == "storage_failed") {
    return CommandError{kExitStorage, "engine", e.code, e.message};
  }
  if (status >= 500) return ServerError(e.code, "the server failed" + said);
  if (e.type == "idempotency_error") {
    return CommandError{kExitUsage, "idempotency", e.code,
                        e.message +
                            " (Idempotency-Key; leave out --idempotency-key for a fresh "
                            "one)"};
  }
  if (status == 404 && e.code == "route_not_found") {
    return ServerError(e.code, "the server has no such endpoint" + said +
                                   "; is it a tpwallet server of the same version?");
  }
  if (status == 404) return CommandError{kExitNotFound, "not_found", e.code, e.message};
  if (const std::optional<ledger::QueryError> query = QueryErrorNamed(e.code)) {
    return QueryErrorOf(*query);
  }
  if (status >= 400 && status < 500) {
    return CommandError{kExitUsage, "input", e.code, e.message};
  }
  return ServerError(e.code, "unexpected HTTP " + std::to_string(status) + said);
}

CommandError AnswerError(const HttpAnswer& answer, const ServerUrl& url) {
  return ServerAnswerError(answer.status, answer.body, answer.retry_after, url.text);
}

CommandError UnreadableAnswer(const ServerUrl& url, const std::string& why) {
  return ServerError("unexpected_answer", url.text +
                                              " answered something this tpwallet cannot "
                                              "read (" +
                                              why +
                                              "); is it a tpwallet server of the same version?");
}

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
    if (!result.ok()) return Fail(UnreadableAnswer(client_.url(), result.error().message));
    return std::move(result).value();
  }

  CommandError TransportFailure(const TransportError& error, bool post) const {
    std::string message = error.message;
    if (!error.maybe_received) {
      message +=
          "; is `tpwallet serve` running there? Check --server / $" + std::string(kServerEnv);
    } else if (post) {
      message +=
          "; the request may have been applied: rerun the same command with "
          "--idempotency-key " +
          idempotency_key_ + " to get its answer (it will not be applied twice)";
    } else {
      message += "; retry";
    }
    return ServerError("connection_failed", std::move(message));
  }

  // The JSON of a 2xx answer, or the error the answer (or its absence) means.
  CommandResult<bj::value> JsonOf(const Result<HttpAnswer, TransportError>& answer, bool post) {
    if (!answer.ok()) return Fail(TransportFailure(answer.error(), post));
    const HttpAnswer& a = answer.value();
    if (a.status < 200 || a.status > 299) return Fail(AnswerError(a, client_.url()));
    bj::error_code ec;
    bj::value value = bj::parse(a.body, ec);
    if (ec) return Fail(UnreadableAnswer(client_.url(), "not JSON: " + ec.message()));
    return value;
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
      return Fail(UnreadableAnswer(client_.url(), "no \"" + std::string(field) + "\" array"));
    }
    return items->get_array();
  }

  HttpClient client_;
  const std::string idempotency_key_;
  const AssetTable assets_ = AssetTable::Default();
  bool posted_ = false;
};

}  // namespace

std::string NewIdempotencyKey() {
  std::random_device random;
  std::string key = "tpwallet-cli-";
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) key += kHex[random() % 16];
  return key;
}

CommandError ServerAnswerError(unsigned status, std::string_view body,
                               const std::string& retry_after, const std::string& server) {
  if (const std::optional<ApiErrorBody> error = ParseApiErrorBody(body)) {
    return FromApiError(status, *error, retry_after);
  }
  return ServerError("unexpected_answer",
                     server + " answered HTTP " + std::to_string(status) +
                         " without an API error body: \"" +
                         std::string(body.substr(0, kErrorBodyQuoteMax)) +
                         "\"; is --server the address of `tpwallet serve`?");
}

CommandResult<std::unique_ptr<LedgerBackend>> OpenRemoteBackend(const ServerOptions& options) {
  InputResult<ServerUrl> url = ParseServerUrl(options.url, "--server");
  if (!url.ok()) return Fail(UsageError(url.error().message));
  return std::unique_ptr<LedgerBackend>(
      std::make_unique<RemoteBackend>(std::move(url).value(), options));
}

}  // namespace tpw::cli
