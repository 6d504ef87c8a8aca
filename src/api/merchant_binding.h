// What a merchant API key bound to merchant accounts may do (docs/api.md, "Merchant keys"):
// act only for its merchant accounts. The payments routes apply it in payments_service.cc; the
// ledger routes (/v1/accounts, /v1/transfers) with the checks below. Answers never tell a bound
// key whether another merchant's account or transfer exists: what it may not see is 404 byte
// for byte as if it did not exist; what it names itself and may not touch is 403.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "access/access.h"
#include "api/http.h"
#include "cli/batch_input.h"
#include "ledger/types.h"

namespace tpw::api {

// 403 merchant_not_allowed: the key named `merchant`, which it is not bound to.
HttpResponse NotYourMerchant(const access::ApiKey& key, AccountId merchant, std::string param);

// 403 merchant_not_allowed: ledger accounts are the platform's to create (admin keys).
HttpResponse BoundKeyCannotCreateAccounts(const access::ApiKey& key);

// Why a bound key may not submit these transfers (403), or nullopt when it may: each must name
// its debit account, one of the key's merchant accounts — a merchant moves its own money
// (payouts, refunds, holds on its balance), never a customer's (that is what payments are for).
// A post or void must name it too; the ledger then checks it is the pending transfer's
// (pending_transfer_has_different_debit_account_id), atomically and without a second read.
std::optional<HttpResponse> RefuseTransferDrafts(const access::ApiKey& key,
                                                 const std::vector<cli::TransferDraft>& drafts);

// Whether the key may see a stored transfer: one of its accounts is a side of it.
bool MaySeeTransfer(const access::ApiKey& key, const ledger::Transfer& transfer);

}  // namespace tpw::api
